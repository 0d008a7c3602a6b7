//! A coarse clock for call deadlines: milliseconds since the system started, advanced by a
//! ticking task, so that reading it is one atomic load.
//!
//! Every session call reads the time twice (the caller to set its deadline, the worker to check
//! it); on this kind of virtual machine a clock read costs more than the rest of the call's
//! bookkeeping. Deadlines of seconds need no better than a few milliseconds' precision.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

/// How often the clock advances; also how late a deadline may be noticed.
pub(crate) const TICK: Duration = Duration::from_millis(5);

pub(crate) struct CoarseClock {
    epoch: Instant,
    millis: AtomicU64,
}

impl CoarseClock {
    pub(crate) fn new() -> Self {
        CoarseClock { epoch: Instant::now(), millis: AtomicU64::new(0) }
    }

    /// Milliseconds since the epoch, as of the last tick.
    pub(crate) fn now_ms(&self) -> u64 {
        self.millis.load(Ordering::Relaxed)
    }

    fn tick(&self) {
        let elapsed = Instant::now().saturating_duration_since(self.epoch).as_millis();
        self.millis.store(u64::try_from(elapsed).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Advances the clock every [`TICK`] until cancelled.
    pub(crate) async fn run(&self, cancel: &CancellationToken) {
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return,
                _ = ticks.tick() => self.tick(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_clock_follows_time_in_ticks() {
        let clock = std::sync::Arc::new(CoarseClock::new());
        let cancel = CancellationToken::new();
        let running = tokio::spawn({
            let (clock, cancel) = (clock.clone(), cancel.clone());
            async move { clock.run(&cancel).await }
        });
        tokio::time::sleep(Duration::from_millis(52)).await;
        let now = clock.now_ms();
        assert!((45..=52).contains(&now), "{now}");
        cancel.cancel();
        running.await.unwrap();
    }
}
