//! End to end in a real browser (Chromium through chromedriver): a learner takes the demo to the
//! end with the keyboard and a reload mid-quiz keeps the question; a teacher uploads a broken
//! quiz and sees the located problem, then a good one, schedules it, and watches a learner's
//! progress arrive live; in an exam, a teacher gives one learner more time from the teacher page
//! and that learner's clock moves at once. Screenshots go to `target/screenshots/`.
//!
//! Without a chromedriver the test says it was skipped, unless `MASTERY_REQUIRE_BROWSER` is set
//! (CI sets it), when a missing browser is a failure.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::solve;
use fantoccini::{Client, ClientBuilder, Locator};
use mastery_app::App;
use mastery_boundary::MasteryConfig;
use mastery_persistence::SqliteStore;
use mastery_server::{Server, ServerOptions};
use serde_json::json;

const TEACHER: &str = "browser-test-teacher";

fn chromedriver() -> Option<PathBuf> {
    let named = std::env::var_os("MASTERY_CHROMEDRIVER").map(PathBuf::from);
    let found = named.into_iter().chain(["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].map(PathBuf::from));
    found.into_iter().find(|path| path.exists())
}

/// The chromedriver to use; without one the test is skipped, and says so, unless
/// `MASTERY_REQUIRE_BROWSER` is set, when a missing browser is a failure.
fn chromedriver_or_skip() -> Option<PathBuf> {
    let found = chromedriver();
    if found.is_none() {
        assert!(
            std::env::var_os("MASTERY_REQUIRE_BROWSER").is_none(),
            "no chromedriver, and the browser test is required"
        );
        println!("skipped: no chromedriver (install chromium and chromium-driver to run it)");
    }
    found
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts chromedriver on a free port and returns it with its URL.
fn start_driver(path: &PathBuf) -> (Driver, String) {
    let mut child = Command::new(path).arg("--port=0").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let driver = Driver(child);
    while let Some(Ok(line)) = lines.next() {
        // "ChromeDriver was started successfully on port 37195." (an earlier line names port 0).
        if let Some(at) = line.find("successfully on port ") {
            let port: String = line[at + 21..].chars().take_while(char::is_ascii_digit).collect();
            // Its later output is read and dropped, so that it never writes into a closed pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return (driver, format!("http://127.0.0.1:{port}"));
        }
    }
    panic!("chromedriver did not say which port it took");
}

async fn browser(driver_url: &str) -> Client {
    let mut capabilities = serde_json::Map::new();
    let binary =
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().find(|p| std::path::Path::new(p).exists());
    let mut options = json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,900"]});
    if let Some(binary) = binary {
        options["binary"] = json!(binary);
    }
    capabilities.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(capabilities).connect(driver_url).await.expect("a browser session")
}

/// Waits (up to 10 s) until `check` finds what it looks for in the page.
async fn until<T>(client: &Client, what: &str, mut check: impl AsyncFnMut(&Client) -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = check(client).await {
            return found;
        }
        assert!(Instant::now() < deadline, "waited 10 s for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A server on a SQLite store in a folder of its own, offering `quiz`, listening on a free port.
struct Site {
    site: String,
    app: App,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
    _folder: tempfile::TempDir,
}

impl Site {
    async fn serving(quiz: mastery_core::Quiz) -> Site {
        let folder = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(folder.path().join("mastery.db")).unwrap());
        let app = App::with_store(store, MasteryConfig::default());
        let options = ServerOptions { teacher_token: Some(TEACHER.into()), ..ServerOptions::default() };
        let server = Server::start(&app, options).await.unwrap();
        server.add_quiz(quiz).await.unwrap();
        let listener = mastery_server::listen("127.0.0.1:0").await.unwrap();
        let site = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(mastery_server::serve(listener, server, async move {
            let _ = stopped.await;
        }));
        Site { site, app, stop, serving, _folder: folder }
    }

    /// Stops serving, waits for the requests in flight, and shuts the app down.
    async fn stop(self) {
        let _ = self.stop.send(());
        self.serving.await.unwrap().unwrap();
        self.app.shutdown().await.unwrap();
    }
}

async fn text_of(client: &Client, css: &str) -> Option<String> {
    client.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

async fn screenshot(client: &Client, name: &str) {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(name), client.screenshot().await.unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_class_takes_and_runs_a_quiz_in_a_real_browser() {
    let Some(driver_path) = chromedriver_or_skip() else { return };
    let served = Site::serving(mastery_app::demo_quiz()).await;
    let site = served.site.clone();

    let (_driver, driver_url) = start_driver(&driver_path);
    let client = browser(&driver_url).await;

    // The learner: choose the quiz, give an email, answer with the keyboard.
    client.goto(&format!("{site}/")).await.unwrap();
    client.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("ada@example.com\n").await.unwrap();
    let mut answered = 0;
    loop {
        if let Some(done) = text_of(&client, "#done").await {
            assert!(done.contains("Finished"), "{done}");
            break;
        }
        let asked = until(&client, "a question", async |c| text_of(c, "#asked").await.filter(|t| !t.is_empty())).await;
        if answered == 2 {
            // A reload mid-quiz shows the same question, not a new one.
            client.refresh().await.unwrap();
            assert_eq!(
                until(&client, "the question after a reload", async |c| text_of(c, "#asked").await).await,
                asked
            );
        }
        // The verdict arrives without a page load: clear it, answer, and wait for the new one.
        client.execute("document.getElementById('verdict').replaceChildren()", vec![]).await.unwrap();
        let input = client.find(Locator::Css("#answer-input")).await.unwrap();
        input.send_keys(&format!("{}\n", solve(&asked))).await.unwrap();
        answered += 1;
        until(&client, "the verdict", async |c| {
            let verdict = text_of(c, "#verdict").await.unwrap_or_default();
            (verdict.contains("correct") || text_of(c, "#done").await.is_some()).then_some(())
        })
        .await;
        assert!(answered < 40, "the quiz should be finished by now");
    }
    screenshot(&client, "learner.png").await;

    // The teacher: sign in by the printed link, upload a broken quiz, then a good one.
    client.goto(&format!("{site}/teach?token={TEACHER}")).await.unwrap();
    let upload = |source: &'static str| {
        let client = client.clone();
        async move {
            let area = client.find(Locator::Css("#upload textarea")).await.unwrap();
            area.clear().await.unwrap();
            area.send_keys(source).await.unwrap();
            client.find(Locator::Css("#upload button")).await.unwrap().click().await.unwrap();
        }
    };
    upload("title = \"Capitals\"\nmastery = 0\n").await;
    let problems = until(&client, "the located problems", async |c| text_of(c, "#problems").await).await;
    assert!(problems.contains("line 2, column 11: mastery"), "{problems}");
    upload("title = \"Capitals\"\nmastery = 1\n\n[[templates]]\nname = \"france\"\ncategory = \"europe\"\nraw = \"Capital of {{country}}?\"\ngenerators = { country = [\"France\"] }\nchecker = { expect = '\"Paris\"' }\n").await;
    let notice = until(&client, "the upload's notice", async |c| text_of(c, "#notice").await).await;
    assert!(notice.contains("Added \"Capitals\""), "{notice}");

    // Schedule it: open since a minute ago, for an hour.
    let now = mastery_core::Timestamp::from(std::time::SystemTime::now()).as_millis();
    let schedule = client.find(Locator::Css("#schedule")).await.unwrap();
    schedule.find(Locator::Css("select")).await.unwrap().select_by_value("Capitals").await.unwrap();
    schedule
        .find(Locator::Css("input[name=opens_at]"))
        .await
        .unwrap()
        .send_keys(&mastery_app::rfc3339(now - 60_000))
        .await
        .unwrap();
    schedule
        .find(Locator::Css("input[name=closes_at]"))
        .await
        .unwrap()
        .send_keys(&mastery_app::rfc3339(now + 3_600_000))
        .await
        .unwrap();
    schedule.find(Locator::Css("button")).await.unwrap().click().await.unwrap();
    // The upload's notice stays on the page until the schedule's page replaces it.
    let notice = until(&client, "the schedule's notice", async |c| {
        text_of(c, "#notice").await.filter(|notice| !notice.starts_with("Added"))
    })
    .await;
    assert!(notice.contains("opens at"), "{notice}");

    // Watch it live while a learner answers through the API.
    client.find(Locator::Css("#watch")).await.unwrap().select_by_value("Capitals").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let learner = tokio::task::spawn_blocking({
        let site = site.clone();
        move || {
            let post = |path: &str, body: serde_json::Value| -> serde_json::Value {
                use std::io::{Read, Write};
                let address = site.trim_start_matches("http://");
                let mut stream = std::net::TcpStream::connect(address).unwrap();
                let body = body.to_string();
                write!(
                    stream,
                    "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
                let mut response = String::new();
                stream.read_to_string(&mut response).unwrap();
                serde_json::from_str(response.split_once("\r\n\r\n").unwrap().1).unwrap()
            };
            let started = post("/api/sessions", json!({"quiz": "Capitals", "email": "bob@example.com"}));
            let token = started["session"].as_str().unwrap().to_string();
            post(&format!("/api/sessions/{token}/answers"), json!({"answer": "Paris"}))
        }
    });
    let reply = learner.await.unwrap();
    assert_eq!(reply["finished"], true, "{reply}");
    let row = until(&client, "the learner's progress in the live view", async |c| {
        text_of(c, "#live tbody").await.filter(|t| t.contains("bob@example.com") && t.contains("finished"))
    })
    .await;
    assert!(row.contains("france") && row.contains("correct"), "{row}");
    screenshot(&client, "teacher.png").await;

    client.close().await.unwrap();
    served.stop().await;
}

/// The example exam: ten minutes from each learner's start, two more of grace, the answer 3.
const EXAM: &str = include_str!("../../examples/exam.toml");

/// The learner's clock as the page shows it, in whole seconds left.
async fn seconds_left(client: &Client) -> Option<u64> {
    let shown = text_of(client, "#left").await?;
    let (minutes, seconds) = shown.split_once(':')?;
    Some(minutes.trim().parse::<u64>().ok()? * 60 + seconds.trim().parse::<u64>().ok()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_gives_one_learner_extra_time_from_the_page_and_the_learners_clock_moves_at_once() {
    let Some(driver_path) = chromedriver_or_skip() else { return };
    let exam = mastery_boundary::parse_quiz_text("exam.toml", EXAM, &mastery_boundary::Validator::default()).unwrap();
    let served = Site::serving(exam.valid.quiz).await;
    let site = served.site.clone();
    let (_driver, driver_url) = start_driver(&driver_path);
    let client = browser(&driver_url).await;

    // The learner starts the exam: ten minutes on their clock.
    client.goto(&format!("{site}/")).await.unwrap();
    client.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("ada@example.com\n").await.unwrap();
    let left = until(&client, "the learner's clock", async |c| seconds_left(c).await).await;
    assert!((590..=600).contains(&left), "{left} s left");
    let learner_window = client.window().await.unwrap();

    // The teacher, in another window, gives Ada five minutes more.
    let teacher_window = client.new_window(false).await.unwrap();
    client.switch_to_window(teacher_window.handle).await.unwrap();
    client.goto(&format!("{site}/teach?token={TEACHER}")).await.unwrap();
    let form = client.find(Locator::Css("#extra-time")).await.unwrap();
    form.find(Locator::Css("select")).await.unwrap().select_by_value("Exam").await.unwrap();
    form.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("ada@example.com").await.unwrap();
    form.find(Locator::Css("input[name=extra_time]")).await.unwrap().send_keys("5m").await.unwrap();
    form.find(Locator::Css("button")).await.unwrap().click().await.unwrap();
    let notice = until(&client, "the extension's notice", async |c| text_of(c, "#notice").await).await;
    assert!(notice.contains("ada@example.com now has until"), "{notice}");
    client.find(Locator::Css("#watch")).await.unwrap().select_by_value("Exam").await.unwrap();
    let row = until(&client, "Ada's session in the live view", async |c| {
        text_of(c, "#live tbody").await.filter(|t| t.contains("ada@example.com") && t.contains("in progress"))
    })
    .await;
    assert!(row.contains('T') && row.contains('Z'), "her deadline is shown: {row}");
    screenshot(&client, "teacher-exam.png").await;

    // Back on the learner's page, the clock already shows the new time, without a reload.
    client.switch_to_window(learner_window).await.unwrap();
    let left = until(&client, "the clock to move", async |c| seconds_left(c).await.filter(|left| *left > 600)).await;
    assert!((880..=900).contains(&left), "{left} s left after five minutes more");
    screenshot(&client, "learner-exam.png").await;

    client.close().await.unwrap();
    served.stop().await;
}
