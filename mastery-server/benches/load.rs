//! Load on `mastery serve`'s stack over loopback, with the durable SQLite store: prints a table.
//!
//! - saturation: learners answering as fast as replies come (closed loop), beside the ceiling of
//!   this machine's HTTP stack (a bare handler returning a constant JSON body, same clients);
//! - a class at human pace: learners each answering about every 5 s (open loop);
//! - a synchronized start: every learner asks for a session at the same instant.
//!
//! Run: `cargo bench -p mastery-server --bench load` (`-- --quick` for a short run, `-- --starts`
//! for the synchronized starts alone, `-- --answers` for saturation alone; with
//! `MASTERY_TEST_POSTGRES` set, 1 and 3 servers on PostgreSQL are measured too). Clients are
//! written here: keep-alive HTTP/1.1 connections, each carrying its learners' requests in turn.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use mastery_app::App;
use mastery_boundary::MasteryConfig;
use mastery_core::{Exam, ExtraTime, LearnerOverride, Quiz, WhenTimeIsUp};
use mastery_persistence::SqliteStore;
use mastery_server::{Server, ServerOptions, router};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The allocator `mastery serve` ships with, so that the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let only = ["--starts", "--answers"].into_iter().find(|only| std::env::args().any(|a| a == *only));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(run(quick, only));
}

async fn run(quick: bool, only: Option<&str>) {
    let folder = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(folder.path().join("load.db")).unwrap());
    let app = App::with_store(store, MasteryConfig::default());
    let server = Server::start(&app, ServerOptions::default()).await.unwrap();
    server.add_quiz(mastery_app::demo_quiz()).await.unwrap();
    let routes = router(server.clone()).route("/bench/ceiling", get(|| async { axum::Json(json!({"ok": true})) }));
    let listener = mastery_server::listen("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, routes).await });

    let (learners, drive) = if quick { (100, Duration::from_millis(500)) } else { (1_000, Duration::from_secs(5)) };
    println!("mastery serve over loopback, SQLite synchronous=FULL, 2 runtime workers");
    println!("{:<44} {:>12} {:>10} {:>10}", "measure", "requests/s", "p50 ms", "p99 ms");

    let here = [address.clone()];
    if only == Some("--answers") {
        let tokens = start_sessions(&here, "Arithmetic", learners, "sat").await.0;
        let answers = closed_loop(&here, learners, drive, |learner| Some(tokens[learner].clone())).await;
        print_row(&format!("saturation: answers, {learners} learners"), &answers);
        app.shutdown().await.unwrap();
        return;
    }
    if only == Some("--starts") {
        let class = if quick { 500 } else { 10_000 };
        synchronized_starts(&app, &server, &here, class).await;
        app.shutdown().await.unwrap();
        return;
    }
    let ceiling = closed_loop(&here, learners, drive, |_| None).await;
    print_row(&format!("ceiling: bare JSON handler, {learners} clients"), &ceiling);
    let tokens = start_sessions(&here, "Arithmetic", learners, "sat").await.0;
    let answers = closed_loop(&here, learners, drive, |learner| Some(tokens[learner].clone())).await;
    print_row(&format!("saturation: answers, {learners} learners"), &answers);
    println!("answers/s are {:.0}% of the ceiling", 100.0 * answers.rate / ceiling.rate);
    figure("serve: answers/s at saturation", answers.rate, "answers/s", true);
    figure("serve: answers/s as % of the bare HTTP ceiling", 100.0 * answers.rate / ceiling.rate, "%", true);

    let class = if quick { 500 } else { 10_000 };
    let rss_before = resident_kib();
    let (tokens, start) = start_sessions(&here, "Arithmetic", class, "class").await;
    let rss_after = resident_kib();
    print_row(&format!("synchronized start: {class} learners at once"), &start);
    figure(&format!("serve: synchronized start of {class} learners, p99"), start.p99, "ms", false);
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        let per = (after.saturating_sub(before) as f64 * 1024.0) / class as f64;
        println!("resident memory per learner with a live session: {per:.0} bytes");
        figure("serve: resident bytes per live learner", per, "bytes", false);
    }
    let pace =
        human_pace(&address, &tokens, if quick { Duration::from_secs(2) } else { Duration::from_secs(15) }).await;
    print_row(&format!("human pace: {class} learners, one answer per ~5 s"), &pace);
    figure(&format!("serve: p99 at human pace, {class} learners"), pace.p99, "ms", false);
    exam_start(&app, &server, &here, class).await;
    app.shutdown().await.unwrap();
    postgres(learners, drive).await;
}

/// 1 and 3 servers on one PostgreSQL database (each with an `App` of its own, as separate
/// processes would have; here they share this process's two runtime workers), 1,000 learners
/// answering as fast as replies come. Skipped without `MASTERY_TEST_POSTGRES`.
async fn postgres(learners: usize, drive: Duration) {
    for servers in [1, 3] {
        let Some(schema) = tests::postgres::Schema::create().await else { return };
        let mut apps = Vec::new();
        let mut addresses = Vec::new();
        for _ in 0..servers {
            let options = mastery_app::AppOptions { db: Some(schema.url().into()), ..Default::default() };
            let app = App::connect(options).await.unwrap();
            let server = Server::start(&app, ServerOptions::default()).await.unwrap();
            server.add_quiz(mastery_app::demo_quiz()).await.unwrap();
            let listener = mastery_server::listen("127.0.0.1:0").await.unwrap();
            addresses.push(listener.local_addr().unwrap().to_string());
            tokio::spawn(async move { axum::serve(listener, router(server)).await });
            apps.push(app);
        }
        let tokens = start_sessions(&addresses, "Arithmetic", learners, "pg").await.0;
        let answers = closed_loop(&addresses, learners, drive, |learner| Some(tokens[learner].clone())).await;
        print_row(&format!("PostgreSQL, {servers} server(s): answers, {learners} learners"), &answers);
        figure(&format!("serve: answers/s on PostgreSQL, {servers} server(s)"), answers.rate, "answers/s", true);
        figure(&format!("serve: p99 on PostgreSQL, {servers} server(s)"), answers.p99, "ms", false);
        for app in apps {
            app.shutdown().await.unwrap();
        }
    }
}

/// A class starting the demo at one instant, then the same class starting an exam.
async fn synchronized_starts(app: &App, server: &Server, here: &[String], class: usize) {
    let (_, start) = start_sessions(here, "Arithmetic", class, "class").await;
    print_row(&format!("synchronized start: {class} learners at once"), &start);
    figure(&format!("serve: synchronized start of {class} learners, p99"), start.p99, "ms", false);
    exam_start(app, server, here, class).await;
}

/// A class starting an exam at one instant.
async fn exam_start(app: &App, server: &Server, here: &[String], class: usize) {
    // The same start for an exam: a time limit, a grace period, and extra time for every tenth
    // learner, so that each start also reads the learner's attempts and stores a deadline.
    let exam = Exam {
        time_limit: Some(Duration::from_secs(3_600)),
        when_time_is_up: WhenTimeIsUp::Grace(Duration::from_secs(300)),
        ..Exam::default()
    };
    server.add_quiz(exam_quiz(exam)).await.unwrap();
    for learner in (0..class).step_by(10) {
        let extra = LearnerOverride { extra_time: Some(ExtraTime::Percent(50)), window: None };
        app.mastery().set_learner_override("Exam", &format!("exam{learner}@example.com"), Some(extra)).await.unwrap();
    }
    let (_, exam_start) = start_sessions(here, "Exam", class, "exam").await;
    print_row(&format!("synchronized start of an exam: {class} learners"), &exam_start);
    figure(&format!("serve: synchronized start of an exam, {class} learners, p99"), exam_start.p99, "ms", false);
}

/// The demo's templates as the exam titled "Exam".
fn exam_quiz(exam: Exam) -> Quiz {
    let demo = mastery_app::demo_quiz();
    let mut quiz = Quiz::new("Exam", demo.mastery()).unwrap();
    for template in demo.templates() {
        quiz.add_template(Arc::clone(template)).unwrap();
    }
    quiz.set_version("exam-1").set_exam(Some(exam));
    quiz
}

struct Figures {
    rate: f64,
    p50: f64,
    p99: f64,
}

/// The figures of every client's latencies, over the time since `started`.
async fn gathered(tasks: Vec<tokio::task::JoinHandle<Vec<f64>>>, started: Instant) -> Figures {
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    figures(latencies, started.elapsed())
}

fn figures(mut latencies: Vec<f64>, elapsed: Duration) -> Figures {
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies.get(((latencies.len() as f64 - 1.0) * q) as usize).copied().unwrap_or(f64::NAN);
    Figures { rate: latencies.len() as f64 / elapsed.as_secs_f64(), p50: at(0.5), p99: at(0.99) }
}

fn print_row(name: &str, figures: &Figures) {
    println!("{name:<44} {:>12.0} {:>10.2} {:>10.2}", figures.rate, figures.p50, figures.p99);
}

/// One line for the workspace's benchmark report (`scripts/bench-report`).
fn figure(name: &str, ours: f64, unit: &str, higher_is_better: bool) {
    println!("REPORT|{name}|{ours}|-|{unit}|{higher_is_better}");
}

/// A keep-alive HTTP/1.1 connection that sends one request at a time.
struct Connection {
    stream: BufReader<TcpStream>,
    address: String,
}

impl Connection {
    async fn open(address: &str) -> Connection {
        let stream = TcpStream::connect(address).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Connection { stream: BufReader::new(stream), address: address.to_string() }
    }

    /// Sends a request and reads the reply: (status, body).
    async fn send(&mut self, method: &str, path: &str, body: Option<&Value>) -> (u16, Vec<u8>) {
        let body = body.map(Value::to_string).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.address,
            body.len()
        );
        self.stream.get_mut().write_all(request.as_bytes()).await.unwrap();
        let mut line = String::new();
        self.stream.read_line(&mut line).await.unwrap();
        let status = line.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await.unwrap();
        (status, body)
    }
}

/// Each learner on a connection of their own, sending the next request as soon as the reply
/// comes: answers when `token` gives a session, else the bare handler.
async fn closed_loop(
    addresses: &[String],
    clients: usize,
    drive: Duration,
    token: impl Fn(usize) -> Option<String>,
) -> Figures {
    let started = Instant::now();
    let deadline = started + drive;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            // A learner keeps to one server, as a load balancer with affinity would send them.
            let address = addresses[client % addresses.len()].clone();
            let token = token(client);
            tokio::spawn(async move {
                let mut connection = Connection::open(&address).await;
                let mut latencies = Vec::new();
                let answer = json!({"answer": "7"});
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let (status, _) = match &token {
                        Some(token) => {
                            connection.send("POST", &format!("/api/sessions/{token}/answers"), Some(&answer)).await
                        }
                        None => connection.send("GET", "/bench/ceiling", None).await,
                    };
                    // A finished session (it can happen, answering "7" for long enough) is 409.
                    assert!(status == 200 || status == 409, "status {status}");
                    latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                }
                latencies
            })
        })
        .collect();
    gathered(tasks, started).await
}

/// Every learner asks for a session at the same instant; returns their tokens.
async fn start_sessions(addresses: &[String], quiz: &str, learners: usize, prefix: &str) -> (Vec<String>, Figures) {
    let connections = learners.min(4_000);
    let gate = Arc::new(tokio::sync::Barrier::new(connections + 1));
    let tasks: Vec<_> = (0..connections)
        .map(|connection| {
            let address = addresses[connection % addresses.len()].clone();
            let (gate, prefix, quiz) = (Arc::clone(&gate), prefix.to_string(), quiz.to_string());
            tokio::spawn(async move {
                let mut client = Connection::open(&address).await;
                gate.wait().await;
                let started = Instant::now();
                let mut results = Vec::new();
                for learner in (connection..learners).step_by(connections) {
                    let body = json!({"quiz": quiz, "email": format!("{prefix}{learner}@example.com")});
                    let (status, body) = client.send("POST", "/api/sessions", Some(&body)).await;
                    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
                    let reply: Value = serde_json::from_slice(&body).unwrap();
                    // From the instant all were let go: waiting behind this connection's earlier
                    // learners counts, as it would for people sharing a proxy.
                    results.push((learner, reply["session"].as_str().unwrap().to_string(), started.elapsed()));
                }
                results
            })
        })
        .collect();
    gate.wait().await;
    let started = Instant::now();
    let mut tokens = vec![String::new(); learners];
    let mut latencies = Vec::new();
    for task in tasks {
        for (learner, token, latency) in task.await.unwrap() {
            tokens[learner] = token;
            latencies.push(latency.as_secs_f64() * 1e3);
        }
    }
    (tokens, figures(latencies, started.elapsed()))
}

/// Each learner answers about every 5 s, whatever the replies do (open loop), over a pool of
/// connections; latency is from the moment an answer was due.
async fn human_pace(address: &str, tokens: &[String], drive: Duration) -> Figures {
    let connections = tokens.len().min(2_000);
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|connection| {
            let address = address.to_string();
            let mine: Vec<String> = tokens.iter().skip(connection).step_by(connections).cloned().collect();
            tokio::spawn(async move {
                let mut client = Connection::open(&address).await;
                let mut latencies = Vec::new();
                let period = Duration::from_secs(5) / mine.len().max(1) as u32;
                // Spread the learners' first answers over the first period.
                let mut due = Instant::now() + period.mul_f64(connection as f64 / 2_000.0);
                let mut turn = 0;
                while due < started + drive {
                    tokio::time::sleep_until(due.into()).await;
                    let token = &mine[turn % mine.len()];
                    let (status, _) = client
                        .send("POST", &format!("/api/sessions/{token}/answers"), Some(&json!({"answer": "7"})))
                        .await;
                    assert!(status == 200 || status == 409, "status {status}");
                    latencies.push(due.elapsed().as_secs_f64() * 1e3);
                    due += period;
                    turn += 1;
                }
                latencies
            })
        })
        .collect();
    gathered(tasks, started).await
}

/// This process's resident memory, in KiB (Linux).
fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
