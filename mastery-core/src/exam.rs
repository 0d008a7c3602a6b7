//! Exams: when learners may start, how long each of them has, and what happens when time is up.
//!
//! Pure rules over plain values, as everything in the core: the time is always passed in. The
//! boundary stores the [`Deadline`] a learner gets when they start and judges every answer by
//! it; the Proctor ends the session when it passes.
//!
//! The most specific setting wins: a learner's own window replaces the quiz's, and their extra
//! time lengthens the quiz's time limit.
//!
//! ```
//! use std::time::Duration;
//! use mastery_core::{Exam, ExtraTime, LearnerOverride, Timestamp, Timing, WhenTimeIsUp};
//!
//! let exam = Exam {
//!     time_limit: Some(Duration::from_secs(60 * 60)),
//!     when_time_is_up: WhenTimeIsUp::Grace(Duration::from_secs(5 * 60)),
//!     ..Exam::default()
//! };
//! let extra = LearnerOverride { extra_time: Some(ExtraTime::Percent(50)), window: None };
//! let started = Timestamp::from_millis(0);
//! let deadline = exam.deadline(started, Some(&extra)).unwrap();
//! assert_eq!(deadline.due_at, Timestamp::from_millis(90 * 60 * 1000));
//! assert_eq!(deadline.timing(Timestamp::from_millis(92 * 60 * 1000)), Timing::Overdue);
//! assert_eq!(deadline.timing(Timestamp::from_millis(95 * 60 * 1000)), Timing::Closed);
//! ```

use std::time::Duration;

use crate::Timestamp;

/// When a quiz is open: from `opens_at` (inclusive) to `closes_at` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    /// The first instant learners may start.
    pub opens_at: Timestamp,
    /// The instant the quiz closes.
    pub closes_at: Timestamp,
}

impl Window {
    /// Whether `at` falls inside the window.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.opens_at <= at && at < self.closes_at
    }

    fn length(&self) -> Duration {
        Duration::from_millis(self.closes_at.as_millis().saturating_sub(self.opens_at.as_millis()))
    }
}

/// What happens when a learner's time is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WhenTimeIsUp {
    /// The session ends at once; a later answer is refused.
    #[default]
    End,
    /// For this long after the deadline answers are still stored, marked overdue; then the
    /// session ends.
    Grace(Duration),
}

/// A quiz's exam settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Exam {
    /// When learners may start; `None`: whenever the quiz is offered.
    pub window: Option<Window>,
    /// How long each attempt may last, counted from when the learner starts (ending at the
    /// window's close at the latest); `None`: until the window closes.
    pub time_limit: Option<Duration>,
    /// What happens when time is up.
    pub when_time_is_up: WhenTimeIsUp,
    /// A session without an answer for this long is ended as abandoned; `None`: never.
    pub idle_limit: Option<Duration>,
}

/// More time for one learner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtraTime {
    /// This much longer.
    Duration(Duration),
    /// This many percent longer (50: half as long again).
    Percent(u32),
}

/// One learner's own exam settings; each one given replaces or extends the quiz's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LearnerOverride {
    /// Lengthens the time limit (or, without one, the window) and moves the learner's close by
    /// as much.
    pub extra_time: Option<ExtraTime>,
    /// Replaces the quiz's window for this learner.
    pub window: Option<Window>,
}

/// When one learner's time is up and when their session closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Deadline {
    /// Answers after this instant are overdue.
    pub due_at: Timestamp,
    /// Answers from this instant on are refused, and the session ends (`due_at` without a grace
    /// period).
    pub closes_at: Timestamp,
}

/// How an answer given at some instant stands against a [`Deadline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timing {
    /// Before the deadline.
    OnTime,
    /// After the deadline, within the grace period: stored, marked overdue.
    Overdue,
    /// After the session closed: refused.
    Closed,
}

impl Deadline {
    /// How an answer given at `at` stands.
    pub fn timing(&self, at: Timestamp) -> Timing {
        if at >= self.closes_at {
            Timing::Closed
        } else if at > self.due_at {
            Timing::Overdue
        } else {
            Timing::OnTime
        }
    }
}

/// Why a learner may not start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotOpen {
    /// The learner's window has not opened yet.
    NotYet {
        /// When it opens.
        opens_at: Timestamp,
    },
    /// The learner's window has closed.
    Closed {
        /// When it closed.
        closed_at: Timestamp,
    },
}

impl Exam {
    /// The window that applies to a learner with `learner`'s settings: their own, else the
    /// quiz's, moved to close later by their extra time when there is no time limit.
    pub fn window_for(&self, learner: Option<&LearnerOverride>) -> Option<Window> {
        if let Some(own) = learner.and_then(|learner| learner.window) {
            return Some(own);
        }
        let window = self.window?;
        let extra = match self.time_limit {
            Some(limit) => self.extra(limit, learner),
            None => self.extra(window.length(), learner),
        };
        Some(Window { opens_at: window.opens_at, closes_at: later(window.closes_at, extra) })
    }

    /// Whether a learner may start at `now`.
    pub fn may_start(&self, now: Timestamp, learner: Option<&LearnerOverride>) -> Result<(), NotOpen> {
        match self.window_for(learner) {
            Some(window) if now < window.opens_at => Err(NotOpen::NotYet { opens_at: window.opens_at }),
            Some(window) if now >= window.closes_at => Err(NotOpen::Closed { closed_at: window.closes_at }),
            _ => Ok(()),
        }
    }

    /// The deadline of a learner who starts at `started_at`: their time limit (with extra time)
    /// from then, but no later than their window's close. `None` when neither a time limit nor a
    /// window bounds the attempt.
    pub fn deadline(&self, started_at: Timestamp, learner: Option<&LearnerOverride>) -> Option<Deadline> {
        let window_close = self.window_for(learner).map(|window| window.closes_at);
        let limit_end =
            self.time_limit.map(|limit| later(started_at, limit.saturating_add(self.extra(limit, learner))));
        let due_at = match (limit_end, window_close) {
            (Some(end), Some(close)) => end.min(close),
            (Some(end), None) => end,
            (None, Some(close)) => close,
            (None, None) => return None,
        };
        let closes_at = match self.when_time_is_up {
            WhenTimeIsUp::End => due_at,
            WhenTimeIsUp::Grace(grace) => later(due_at, grace),
        };
        Some(Deadline { due_at, closes_at })
    }

    /// The extra time `learner` has on a span of `base`.
    fn extra(&self, base: Duration, learner: Option<&LearnerOverride>) -> Duration {
        match learner.and_then(|learner| learner.extra_time) {
            None => Duration::ZERO,
            Some(ExtraTime::Duration(extra)) => extra,
            Some(ExtraTime::Percent(percent)) => {
                let millis = base.as_millis().saturating_mul(u128::from(percent)) / 100;
                Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
            }
        }
    }
}

/// `at` moved later by `by`, saturating rather than overflowing.
fn later(at: Timestamp, by: Duration) -> Timestamp {
    let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
    Timestamp::from_millis(at.as_millis().saturating_add(by))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: u64 = 60_000;

    fn at(minutes: u64) -> Timestamp {
        Timestamp::from_millis(minutes * MINUTE)
    }

    fn minutes(n: u64) -> Duration {
        Duration::from_millis(n * MINUTE)
    }

    fn window(opens: u64, closes: u64) -> Window {
        Window { opens_at: at(opens), closes_at: at(closes) }
    }

    fn extra(extra_time: ExtraTime) -> LearnerOverride {
        LearnerOverride { extra_time: Some(extra_time), window: None }
    }

    #[test]
    fn extra_time_in_minutes_and_in_percent_lengthens_the_time_limit() {
        let exam = Exam { time_limit: Some(minutes(60)), ..Exam::default() };
        assert_eq!(exam.deadline(at(10), None).unwrap().due_at, at(70));
        let minutes_more = extra(ExtraTime::Duration(minutes(15)));
        assert_eq!(exam.deadline(at(10), Some(&minutes_more)).unwrap().due_at, at(85));
        let half_again = extra(ExtraTime::Percent(50));
        assert_eq!(exam.deadline(at(10), Some(&half_again)).unwrap().due_at, at(100));
    }

    #[test]
    fn a_time_limit_shorter_than_the_window_counts_from_the_start_and_a_longer_one_stops_at_the_close() {
        let exam = Exam { window: Some(window(0, 120)), time_limit: Some(minutes(45)), ..Exam::default() };
        assert_eq!(exam.deadline(at(30), None).unwrap().due_at, at(75));
        // A learner starting late gets what is left of the window, not the whole limit.
        assert_eq!(exam.deadline(at(100), None).unwrap().due_at, at(120));
    }

    #[test]
    fn extra_time_moves_the_learners_close_too_so_that_it_is_never_eaten_by_the_window() {
        let exam = Exam { window: Some(window(0, 60)), time_limit: Some(minutes(60)), ..Exam::default() };
        let half_again = extra(ExtraTime::Percent(50));
        assert_eq!(exam.deadline(at(0), Some(&half_again)).unwrap().due_at, at(90));
        assert_eq!(exam.may_start(at(70), Some(&half_again)), Ok(()));
        assert_eq!(exam.may_start(at(70), None), Err(NotOpen::Closed { closed_at: at(60) }));
    }

    #[test]
    fn without_a_time_limit_extra_time_lengthens_the_window() {
        let exam = Exam { window: Some(window(0, 100)), ..Exam::default() };
        assert_eq!(exam.deadline(at(40), None).unwrap().due_at, at(100));
        let tenth_more = extra(ExtraTime::Percent(10));
        assert_eq!(exam.deadline(at(40), Some(&tenth_more)).unwrap().due_at, at(110));
    }

    #[test]
    fn a_learners_own_window_replaces_the_quizs_and_their_extra_time_still_applies_to_the_limit() {
        let exam = Exam { window: Some(window(0, 60)), time_limit: Some(minutes(30)), ..Exam::default() };
        let own =
            LearnerOverride { extra_time: Some(ExtraTime::Duration(minutes(10))), window: Some(window(200, 260)) };
        assert_eq!(exam.may_start(at(30), Some(&own)), Err(NotOpen::NotYet { opens_at: at(200) }));
        assert_eq!(exam.may_start(at(200), Some(&own)), Ok(()));
        assert_eq!(exam.deadline(at(200), Some(&own)).unwrap().due_at, at(240));
        // Their own window is the cap the teacher set: extra time does not move it.
        assert_eq!(exam.deadline(at(250), Some(&own)).unwrap().due_at, at(260));
    }

    #[test]
    fn a_grace_period_makes_late_answers_overdue_before_the_session_closes() {
        let exam =
            Exam { time_limit: Some(minutes(20)), when_time_is_up: WhenTimeIsUp::Grace(minutes(5)), ..Exam::default() };
        let deadline = exam.deadline(at(0), None).unwrap();
        assert_eq!(deadline, Deadline { due_at: at(20), closes_at: at(25) });
        assert_eq!(deadline.timing(at(20)), Timing::OnTime);
        assert_eq!(deadline.timing(Timestamp::from_millis(20 * MINUTE + 1)), Timing::Overdue);
        assert_eq!(deadline.timing(at(25)), Timing::Closed);
        let at_once = Exam { when_time_is_up: WhenTimeIsUp::End, ..exam }.deadline(at(0), None).unwrap();
        assert_eq!(at_once.timing(at(20)), Timing::Closed);
    }

    #[test]
    fn an_attempt_bounded_by_nothing_has_no_deadline_and_huge_settings_saturate() {
        assert_eq!(Exam::default().deadline(at(5), None), None);
        assert_eq!(Exam::default().may_start(at(5), None), Ok(()));
        let exam = Exam { time_limit: Some(Duration::MAX), ..Exam::default() };
        let deadline = exam.deadline(at(5), Some(&extra(ExtraTime::Percent(u32::MAX)))).unwrap();
        assert_eq!(deadline.due_at, Timestamp::from_millis(u64::MAX));
    }
}
