//! Cross-crate properties: what is stored is enough to rebuild a session, and the command line
//! and the API store the same thing for the same answers.

use std::process::{Command, Stdio};

use mastery_boundary::Next;
use mastery_core::{Quiz, Session, Timestamp, examples};
use mastery_persistence::ResponseRecord;
use proptest::prelude::*;
use tests::*;

/// Replays stored answers through the core's session protocol with the session's seed, noting the
/// question each answer was given to.
fn replay(quiz: Quiz, seed: u64, stored: &[ResponseRecord]) -> (Quiz, Vec<String>) {
    let mut session = Session::new(quiz, seed);
    let mut asked = Vec::new();
    for record in stored {
        asked.push(session.question().unwrap().expect("a question").asked().to_string());
        let response =
            session.respond(record.email.as_str(), record.answer.as_str(), Timestamp::from_millis(0)).unwrap();
        session.answer(response).unwrap();
    }
    (session.quiz().clone(), asked)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn a_stored_history_replayed_with_the_same_seed_rebuilds_the_same_quiz(
        seed: u64,
        plan in prop::collection::vec(0u8..4, 1..30),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let store = TempStore::new();
            let mastery = store.mastery();
            mastery.install_quiz(examples::arithmetic_quiz()).await.unwrap();
            mastery.take_quiz_seeded("Arithmetic", EMAIL, seed).await.unwrap();
            let mut question = mastery.select_question("Arithmetic", EMAIL).await.unwrap().unwrap();
            for step in plan {
                let answer = match step { 0 => "nonsense".to_string(), 1 => "-99".to_string(), _ => answer_to(question.asked()) };
                match mastery.answer_question("Arithmetic", EMAIL, &answer).await.unwrap().next {
                    Next::Question(next) => question = next,
                    Next::Finished => break,
                    Next::Failed(error) => panic!("the arithmetic quiz cannot fail to draw: {error}"),
                }
            }
            let stored = store.dyn_store().responses("Arithmetic").await.unwrap();
            let (rebuilt, asked) = replay(examples::arithmetic_quiz(), seed, &stored);
            prop_assert_eq!(asked, stored.iter().map(|r| r.asked.clone()).collect::<Vec<_>>());
            let report = store.dyn_store().report("Arithmetic").await.unwrap();
            let mut mastered: Vec<&str> = rebuilt.mastered().collect();
            mastered.sort_unstable();
            prop_assert_eq!(report[0].mastered.iter().map(String::as_str).collect::<Vec<_>>(), mastered);
            mastery.shutdown().await.unwrap();
            Ok(())
        })?;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_cli_run_and_the_same_answers_through_the_api_store_the_same_responses() {
    let answers = ["1", "oops", "7", "-3", "12", "0"];
    let seed = 99;

    let cli_store = TempStore::new();
    let cli_db = cli_store.path();
    drop(cli_store.store.clone());
    let mut child = Command::new(mastery_binary())
        .args(["run", "--seed", &seed.to_string(), "--email", EMAIL, "--db"])
        .arg(&cli_db)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all((answers.join("\n") + "\n").as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());

    let api_store = TempStore::new();
    let mastery = api_store.mastery();
    mastery.install_quiz(examples::arithmetic_quiz()).await.unwrap();
    mastery.take_quiz_seeded("Arithmetic", EMAIL, seed).await.unwrap();
    mastery.select_question("Arithmetic", EMAIL).await.unwrap();
    for answer in answers {
        mastery.answer_question("Arithmetic", EMAIL, answer).await.unwrap();
    }
    mastery.shutdown().await.unwrap();

    let strip = |records: Vec<ResponseRecord>| -> Vec<ResponseRecord> {
        records.into_iter().map(|r| ResponseRecord { answered_at_ms: 0, ..r }).collect()
    };
    let from_cli = strip(cli_store.dyn_store().responses("Arithmetic").await.unwrap());
    let from_api = strip(api_store.dyn_store().responses("Arithmetic").await.unwrap());
    assert_eq!(from_cli.len(), answers.len());
    assert_eq!(from_cli, from_api);
}
