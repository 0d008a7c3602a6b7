//! Soak: hours of use compressed into minutes, with faults injected at random, then an audit.
//!
//! Many learners answer through `Mastery` into a real SQLite file while the run injects:
//! a checker that panics (which ends that session), a store that refuses or stalls (briefly, past
//! the port's timeout, or past its grace period too), sessions ended mid-answer, and the process
//! killed and restarted (the runtime dropped without a shutdown, the same file opened again).
//!
//! Afterwards it checks that every acknowledged answer is stored exactly once and no answer more
//! than once, that every session finished, is still live or ended with a reason, that no session
//! task is left after shutdown, and it prints resident memory sampled through the run.
//!
//! `cargo bench -p tests --bench soak -- --answers 1000000 --sessions 10000` (the defaults);
//! `--kills N` sets the restarts, `--seed N` the random faults, `--quick` runs a tenth of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use mastery_app::StorePort;
use mastery_boundary::{
    Mastery, MasteryConfig, MasteryError, Next, OpenSession, Place, PortFuture, RecordError, RecordFuture,
    ResponsePort, SessionStart, Withdrawal,
};
use mastery_core::{
    Checker, Generator, Quiz, RandomSource, Response, SessionEnding, SplitMix64, Template, Timestamp, Verdict,
};
use mastery_persistence::{ResponseStore, SqliteStore};

const TITLE: &str = "Soak";
/// Correct answers in a row that finish a session: a learner who answers every question right
/// finishes on the last answer of the quota; one wrong answer keeps a learner live to the end.
const PORT_TIMEOUT: Duration = Duration::from_millis(200);
const PORT_GRACE: Duration = Duration::from_millis(100);
/// Learners answering at once.
const DRIVERS: usize = 512;

/// Fault rates, per answer (one in N).
const CHECKER_PANIC_EVERY: u64 = 40_000;
const END_MID_ANSWER_EVERY: u64 = 20_000;
const STORE_FAIL_EVERY: u64 = 5_000;
const STORE_SLOW_EVERY: u64 = 20_000;
const STORE_STALL_EVERY: u64 = 40_000;
const STORE_STALL_PAST_GRACE_EVERY: u64 = 100_000;

struct Options {
    answers: u64,
    sessions: usize,
    kills: usize,
    seed: u64,
}

fn options() -> Options {
    let mut options = Options { answers: 1_000_000, sessions: 10_000, kills: 4, seed: 17 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> u64 {
            let text = args.next().unwrap_or_else(|| panic!("{name} needs a value"));
            text.parse().unwrap_or_else(|_| panic!("{name}: not a number: {text}"))
        };
        match arg.as_str() {
            "--answers" => options.answers = value("--answers"),
            "--sessions" => options.sessions = value("--sessions") as usize,
            "--kills" => options.kills = value("--kills") as usize,
            "--seed" => options.seed = value("--seed"),
            // What `scripts/bench-report --quick` passes: a tenth of the run.
            "--quick" => (options.answers, options.sessions) = (100_000, 1_000),
            // `cargo bench` passes `--bench`; filters and other harness flags mean nothing here.
            _ => {}
        }
    }
    options.sessions = options.sessions.max(1);
    options
}

/// Every fault injected, by kind.
#[derive(Default)]
struct Faults {
    checker_panics: AtomicU64,
    ended_mid_answer: AtomicU64,
    store_failures: AtomicU64,
    store_slow: AtomicU64,
    store_stalls: AtomicU64,
    store_stalls_past_grace: AtomicU64,
    kills: AtomicU64,
}

/// How a learner's session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    NotStarted,
    Running,
    Finished,
    Live,
    EndedCheckerPanic,
    EndedMidAnswer,
    EndedStoreUnknown,
    EndedKilled,
    /// Anything else: the audit fails on it.
    Unexplained,
}

/// What the driver knows of one learner; answers are numbered `0..acked` once acknowledged.
#[derive(Debug, Clone, Copy)]
struct Learner {
    status: Status,
    /// Answers acknowledged: numbers `0..acked`.
    acked: u32,
    /// The answer sent and not yet answered for.
    in_flight: Option<u32>,
    /// An answer whose fate the driver cannot know (the session or the process ended under it):
    /// stored at most once.
    in_doubt: Option<u32>,
}

struct Shared {
    mastery_quiz: Quiz,
    learners: Vec<Mutex<Learner>>,
    next_learner: AtomicUsize,
    quota: u32,
    faults: Faults,
    sent: AtomicU64,
    acked: AtomicU64,
    seed: u64,
}

fn email(learner: usize) -> String {
    format!("s{learner}@soak.example")
}

/// The answer's text: unique per learner (its number) and saying how the checker judges it.
fn answer_text(number: u32, kind: char) -> String {
    format!("{number} {kind}")
}

fn soak_quiz(quota: u32) -> Quiz {
    let template = Template::builder("soak")
        .category("soak")
        .raw("Soak {{n}}")
        .generator("n", Generator::list([1i64]))
        .checker(Checker::new(|_, answer| match answer.rsplit(' ').next() {
            Some("c") => Ok(Verdict::Correct),
            Some("i") => Ok(Verdict::Incorrect),
            Some("p") => panic!("injected checker panic"),
            _ => Ok(Verdict::Invalid("not a soak answer".into())),
        }))
        .build()
        .expect("a valid template");
    let mut quiz = Quiz::new(TITLE, quota.max(1)).expect("a title");
    quiz.add_template(template).expect("one template");
    quiz
}

/// The random stream of the `index`th learner or port call. Its seed is itself drawn: SplitMix64
/// walks its state by a fixed step, so seeds a multiple of that step apart would give the same
/// stream shifted, and faults meant to be rare would repeat or never come.
fn stream(seed: u64, index: u64) -> SplitMix64 {
    SplitMix64::new(SplitMix64::new(seed.wrapping_add(index)).next_u64())
}

/// A port in front of the store that sometimes refuses or stalls.
struct FaultyPort {
    inner: StorePort,
    shared: Arc<Shared>,
    calls: AtomicU64,
}

impl ResponsePort for FaultyPort {
    fn record(&self, place: Place, response: &Response) -> RecordFuture {
        self.record_withdrawable(place, response, Box::pin(std::future::pending()))
    }

    // Sessions start and end through the store as they are: the faults are in the answers.
    fn open_session(&self, title: &str, email: &str) -> PortFuture<Option<OpenSession>> {
        self.inner.open_session(title, email)
    }

    fn start_session(&self, start: SessionStart<'_>) -> PortFuture<u64> {
        self.inner.start_session(start)
    }

    fn end_session(&self, id: u64, ending: SessionEnding, at: Timestamp, reason: Option<String>) -> PortFuture<()> {
        self.inner.end_session(id, ending, at, reason)
    }

    fn record_withdrawable(&self, place: Place, response: &Response, mut withdrawal: Withdrawal) -> RecordFuture {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        let mut rng = stream(self.shared.seed, call);
        let faults = &self.shared.faults;
        let inner = self.inner.clone();
        let response = response.clone();
        if rng.below(STORE_FAIL_EVERY) == 0 {
            faults.store_failures.fetch_add(1, Ordering::Relaxed);
            return Box::pin(async { Err(RecordError::unavailable("injected: the store is down")) });
        }
        if rng.below(STORE_STALL_PAST_GRACE_EVERY) == 0 {
            // Deaf to the withdrawal: the session cannot know whether this is stored and must end.
            faults.store_stalls_past_grace.fetch_add(1, Ordering::Relaxed);
            return Box::pin(async move {
                tokio::time::sleep(PORT_TIMEOUT + PORT_GRACE * 2).await;
                inner.record(place, &response).await
            });
        }
        let pause = if rng.below(STORE_STALL_EVERY) == 0 {
            faults.store_stalls.fetch_add(1, Ordering::Relaxed);
            Some(PORT_TIMEOUT * 2)
        } else if rng.below(STORE_SLOW_EVERY) == 0 {
            faults.store_slow.fetch_add(1, Ordering::Relaxed);
            Some(PORT_TIMEOUT / 4)
        } else {
            None
        };
        match pause {
            None => inner.record_withdrawable(place, &response, withdrawal),
            Some(pause) => Box::pin(async move {
                tokio::select! {
                    () = &mut withdrawal => Err(RecordError::unavailable("injected: the store stalled")),
                    () = tokio::time::sleep(pause) => inner.record_withdrawable(place, &response, withdrawal).await,
                }
            }),
        }
    }
}

/// One learner's run: start, then answer until the quota is acknowledged or the session ends.
async fn drive(mastery: Mastery, shared: Arc<Shared>, learner: usize) {
    let email = email(learner);
    let slot = &shared.learners[learner];
    let set = |f: &dyn Fn(&mut Learner)| f(&mut slot.lock().expect("learner"));
    set(&|l| l.status = Status::Running);
    if mastery.take_quiz_seeded(TITLE, &email, learner as u64).await.is_err()
        || mastery.select_question(TITLE, &email).await.is_err()
    {
        set(&|l| l.status = Status::Unexplained);
        return;
    }
    let mut rng = stream(shared.seed, learner as u64);
    let perfect = rng.below(4) == 0;
    let mut number = 0u32;
    loop {
        if number >= shared.quota {
            set(&|l| l.status = Status::Live);
            return;
        }
        let kind = if rng.below(CHECKER_PANIC_EVERY) == 0 {
            'p'
        } else if perfect {
            'c'
        } else {
            match rng.below(10) {
                0 => 'i',
                1 => 'x',
                _ => 'c',
            }
        };
        let text = answer_text(number, kind);
        let end_mid_answer = rng.below(END_MID_ANSWER_EVERY) == 0;
        set(&|l| l.in_flight = Some(number));
        shared.sent.fetch_add(1, Ordering::Relaxed);
        let answered = if end_mid_answer {
            shared.faults.ended_mid_answer.fetch_add(1, Ordering::Relaxed);
            let key = [(TITLE.to_string(), email.clone())];
            let (answered, _) = tokio::join!(mastery.answer_question(TITLE, &email, &text), async {
                tokio::task::yield_now().await;
                mastery.end_sessions(&key)
            });
            answered
        } else {
            mastery.answer_question(TITLE, &email, &text).await
        };
        if kind == 'p' {
            shared.faults.checker_panics.fetch_add(1, Ordering::Relaxed);
        }
        let ended = |status: Status, in_doubt: bool| {
            set(&|l| {
                l.status = status;
                l.in_doubt = if in_doubt { l.in_flight } else { None };
                l.in_flight = None;
            })
        };
        match answered {
            Ok(answered) => {
                shared.acked.fetch_add(1, Ordering::Relaxed);
                set(&|l| {
                    l.acked = number + 1;
                    l.in_flight = None;
                });
                number += 1;
                if end_mid_answer {
                    ended(Status::EndedMidAnswer, false);
                    return;
                }
                match answered.next {
                    Next::Question(_) => {}
                    Next::Finished => {
                        set(&|l| l.status = Status::Finished);
                        return;
                    }
                    Next::Failed(_) => {
                        set(&|l| l.status = Status::Unexplained);
                        return;
                    }
                }
            }
            // Refused for certain: the same answer is given again.
            Err(MasteryError::NotRecorded(_) | MasteryError::Timeout { .. }) => {
                set(&|l| l.in_flight = None);
                if end_mid_answer {
                    return ended(Status::EndedMidAnswer, false);
                }
            }
            Err(MasteryError::NoSession { .. }) if end_mid_answer => return ended(Status::EndedMidAnswer, false),
            Err(MasteryError::SessionStopped { .. }) if end_mid_answer => {
                return ended(Status::EndedMidAnswer, true);
            }
            Err(MasteryError::SessionStopped { .. }) if kind == 'p' => return ended(Status::EndedCheckerPanic, false),
            Err(MasteryError::RecordUnknown { .. }) => return ended(Status::EndedStoreUnknown, true),
            Err(other) => {
                eprintln!("learner {learner}: unexplained error: {other}");
                return ended(Status::Unexplained, true);
            }
        }
    }
}

/// Resident memory in KiB, from `/proc/self/status`.
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn config(port: Arc<dyn ResponsePort>) -> MasteryConfig {
    MasteryConfig { port_timeout: PORT_TIMEOUT, port_grace: PORT_GRACE, ..MasteryConfig::with_port(port) }
}

/// One life of the process: runs learners until `stop_at` answers are acknowledged (then the
/// process is killed) or none is left (then it shuts down in order, and is audited).
fn one_life(db: &Path, shared: &Arc<Shared>, stop_at: Option<u64>) {
    let store = Arc::new(SqliteStore::open(db).expect("the soak database"));
    let store_alive: Weak<SqliteStore> = Arc::downgrade(&store);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let killed = runtime.block_on(async {
        let port = FaultyPort {
            inner: StorePort(store as Arc<dyn ResponseStore>),
            shared: Arc::clone(shared),
            calls: AtomicU64::new(0),
        };
        let mastery = Mastery::start(config(Arc::new(port)));
        mastery.install_quiz(shared.mastery_quiz.clone()).await.expect("the soak quiz");
        let mut drivers = tokio::task::JoinSet::new();
        for _ in 0..DRIVERS {
            let (mastery, shared) = (mastery.clone(), Arc::clone(shared));
            drivers.spawn(async move {
                loop {
                    let learner = shared.next_learner.fetch_add(1, Ordering::Relaxed);
                    if learner >= shared.learners.len() {
                        return;
                    }
                    drive(mastery.clone(), Arc::clone(&shared), learner).await;
                }
            });
        }
        let kill = async {
            match stop_at {
                Some(stop_at) => {
                    while shared.acked.load(Ordering::Relaxed) < stop_at {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = kill => {
                shared.faults.kills.fetch_add(1, Ordering::Relaxed);
                true
            }
            () = async { while drivers.join_next().await.is_some() {} } => {
                audit_live(&mastery, shared);
                mastery.shutdown().await.expect("an orderly shutdown");
                let left = mastery.running_session_tasks();
                assert_eq!(left, 0, "session tasks left after shutdown");
                false
            }
        }
    });
    // A kill: every task is dropped where it stands, with no shutdown. (Waiting for the worker
    // threads to let go only keeps a dropped driver from writing its learner's state late.)
    runtime.shutdown_timeout(Duration::from_secs(30));
    if killed {
        for slot in &shared.learners {
            let mut learner = slot.lock().expect("learner");
            if matches!(learner.status, Status::Running | Status::Live) {
                learner.status = Status::EndedKilled;
                learner.in_doubt = learner.in_flight.take();
            }
        }
    }
    // The dead process's store must be closed before the next one opens the file, as the OS
    // would have closed it.
    let waited = Instant::now();
    while store_alive.strong_count() > 0 {
        assert!(waited.elapsed() < Duration::from_secs(30), "the killed process's store never closed");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Before the final shutdown: the learners the driver left live are exactly the live sessions.
fn audit_live(mastery: &Mastery, shared: &Shared) {
    let live_sessions: Vec<String> = mastery.active_sessions_for(TITLE);
    let mut expected: Vec<String> = (0..shared.learners.len())
        .filter(|&l| shared.learners[l].lock().expect("learner").status == Status::Live)
        .map(email)
        .collect();
    expected.sort();
    assert_eq!(live_sessions.len(), expected.len(), "live sessions differ from the driver's");
    assert_eq!(live_sessions, expected, "live sessions differ from the driver's");
}

/// Counts the stored rows of each (learner, answer number).
fn stored_counts(db: &Path, learners: usize) -> (Vec<BTreeMap<u32, u32>>, u64) {
    let connection = rusqlite::Connection::open(db).expect("the soak database");
    let mut statement = connection.prepare("SELECT email, answer FROM responses").expect("a query");
    let mut rows = statement.query([]).expect("rows");
    let mut counts = vec![BTreeMap::new(); learners];
    let mut total = 0;
    while let Some(row) = rows.next().expect("a row") {
        let (email, answer): (String, String) = (row.get(0).expect("email"), row.get(1).expect("answer"));
        let learner: usize = email
            .strip_prefix('s')
            .and_then(|e| e.split('@').next())
            .and_then(|n| n.parse().ok())
            .expect("a soak email");
        let number: u32 = answer.split(' ').next().and_then(|n| n.parse().ok()).expect("a soak answer");
        *counts[learner].entry(number).or_insert(0) += 1;
        total += 1;
    }
    (counts, total)
}

fn main() {
    let options = options();
    let quota = u32::try_from(options.answers / options.sessions as u64).unwrap_or(u32::MAX).max(1);
    // The injected panics are expected; any other panic is reported as usual.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let injected = info.payload().downcast_ref::<&str>().is_some_and(|m| m.contains("injected"));
        if !injected {
            default_hook(info);
        }
    }));
    let folder = tempfile::tempdir().expect("a temporary folder");
    let db: PathBuf = folder.path().join("soak.db");
    let fresh = Learner { status: Status::NotStarted, acked: 0, in_flight: None, in_doubt: None };
    let shared = Arc::new(Shared {
        mastery_quiz: soak_quiz(quota),
        learners: (0..options.sessions).map(|_| Mutex::new(fresh)).collect(),
        next_learner: AtomicUsize::new(0),
        quota,
        faults: Faults::default(),
        sent: AtomicU64::new(0),
        acked: AtomicU64::new(0),
        seed: options.seed,
    });
    println!(
        "soak: {} learners x {quota} answers = {} answers, {} drivers, {} kills, seed {}",
        options.sessions,
        u64::from(quota) * options.sessions as u64,
        DRIVERS,
        options.kills,
        options.seed
    );

    // Resident memory, sampled through the run with the answers acknowledged by then.
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (done, shared) = (Arc::clone(&done), Arc::clone(&shared));
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            let started = Instant::now();
            while !done.load(Ordering::Relaxed) {
                samples.push((started.elapsed(), shared.acked.load(Ordering::Relaxed), resident_kib()));
                std::thread::sleep(Duration::from_millis(100));
            }
            samples
        })
    };

    let started = Instant::now();
    let planned = u64::from(quota) * options.sessions as u64;
    for life in 0..=options.kills {
        let stop_at = (life < options.kills).then(|| planned * (life as u64 + 1) / (options.kills as u64 + 1));
        one_life(&db, &shared, stop_at);
    }
    let elapsed = started.elapsed();
    let after_shutdown_kib = resident_kib();
    done.store(true, Ordering::Relaxed);
    let samples = sampler.join().expect("the sampler");

    // The audit.
    let (counts, stored) = stored_counts(&db, options.sessions);
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    let (mut lost, mut duplicated, mut unexpected, mut in_doubt_stored, mut in_doubt_not) = (0u64, 0u64, 0u64, 0, 0);
    let mut acked_total = 0u64;
    for (learner, slot) in shared.learners.iter().enumerate() {
        let state = *slot.lock().expect("learner");
        *statuses.entry(format!("{:?}", state.status)).or_default() += 1;
        acked_total += u64::from(state.acked);
        let found = &counts[learner];
        for number in 0..state.acked {
            match found.get(&number).copied().unwrap_or(0) {
                0 => lost += 1,
                1 => {}
                _ => duplicated += 1,
            }
        }
        for (&number, &count) in found {
            if number < state.acked {
                continue;
            }
            if Some(number) == state.in_doubt && count == 1 {
                in_doubt_stored += 1;
            } else {
                unexpected += 1;
            }
        }
        if let Some(number) = state.in_doubt
            && !found.contains_key(&number)
        {
            in_doubt_not += 1;
        }
    }

    let faults = &shared.faults;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    println!("\ninputs: {} answers sent, {} acknowledged, in {elapsed:.1?}", load(&shared.sent), acked_total);
    println!("  {:.0} answers/s acknowledged", acked_total as f64 / elapsed.as_secs_f64());
    println!("faults injected:");
    for (kind, count) in [
        ("checker panics", load(&faults.checker_panics)),
        ("sessions ended mid-answer", load(&faults.ended_mid_answer)),
        ("store refused (unavailable)", load(&faults.store_failures)),
        ("store slow (within the timeout)", load(&faults.store_slow)),
        ("store stalled past the timeout", load(&faults.store_stalls)),
        ("store stalled past the grace", load(&faults.store_stalls_past_grace)),
        ("process killed and restarted", load(&faults.kills)),
    ] {
        println!("  {kind:<34} {count:>8}");
    }
    println!("sessions:");
    for (status, count) in &statuses {
        println!("  {status:<34} {count:>8}");
    }
    println!("store:");
    println!("  rows stored                        {stored:>8}");
    println!("  acknowledged answers lost          {lost:>8}");
    println!("  stored more than once              {duplicated:>8}");
    println!("  stored, never sent or refused      {unexpected:>8}");
    println!("  in doubt (session or process died under it): {in_doubt_stored} stored, {in_doubt_not} not");

    println!("resident memory (VmRSS):");
    let step = (samples.len() / 24).max(1);
    for (at, acked, kib) in samples.iter().step_by(step) {
        println!("  {:>6.1} s  {:>9} acked  {:>8.1} MiB", at.as_secs_f64(), acked, *kib as f64 / 1024.0);
    }
    // Where it levelled off: the median of the second half of the run; the end: its last sample.
    let mib = |kib: u64| kib as f64 / 1024.0;
    let mut second_half: Vec<u64> = samples[samples.len() / 2..].iter().map(|s| s.2).collect();
    second_half.sort_unstable();
    let end_kib = samples.last().map_or(after_shutdown_kib, |s| s.2);
    let level = second_half.get(second_half.len() / 2).copied().unwrap_or(end_kib).max(1);
    let change = (end_kib as f64 - level as f64) / level as f64 * 100.0;
    println!("  end of run {:.1} MiB vs levelled {:.1} MiB ({change:+.1}%)", mib(end_kib), mib(level));
    println!("  after the last shutdown {:.1} MiB", mib(after_shutdown_kib));

    let unexplained = statuses.get("Unexplained").copied().unwrap_or(0)
        + statuses.get("Running").copied().unwrap_or(0)
        + statuses.get("NotStarted").copied().unwrap_or(0);
    assert_eq!(lost, 0, "acknowledged answers lost");
    assert_eq!(duplicated, 0, "answers stored more than once");
    assert_eq!(unexpected, 0, "answers stored that were refused or never sent");
    assert_eq!(unexplained, 0, "sessions neither finished, live nor ended with a reason");
    println!("\nsoak passed");
}
