//! What the command line does to the database: private files, and reading without writing.

mod common;

use common::Home;
use unicode_width::UnicodeWidthStr;

#[test]
fn report_columns_line_up_for_emails_in_any_script() {
    let home = Home::new();
    for email in ["李@例え.jp", "ada@example.com"] {
        let (status, _, stderr) = home.run(&["run", "--seed", "1", "--email", email], "0\n");
        assert_eq!(status, 0, "{stderr}");
    }
    let (status, table, _) = home.run(&["report", "Arithmetic"], "");
    assert_eq!(status, 0);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    // Every row's numbers end in the same terminal column as the header's.
    let end_of_responses = |line: &str| {
        let at = line.find("RESPONSES").map(|at| at + "RESPONSES".len()).unwrap_or_else(|| {
            let email_end = line.find(' ').unwrap();
            email_end + line[email_end..].find(|c: char| c.is_ascii_digit()).unwrap() + 1
        });
        line[..at].width()
    };
    let columns: Vec<usize> = lines.iter().map(|line| end_of_responses(line)).collect();
    assert!(columns.iter().all(|&c| c == columns[0]), "{columns:?}\n{table}");
}

#[test]
fn report_reads_the_database_without_creating_or_changing_anything() {
    let home = Home::new();
    let (status, _, _) = home.run(&["run", "--seed", "1"], "0\n");
    assert_eq!(status, 0);
    let folder = home.db().parent().unwrap().to_path_buf();
    let files = || {
        let mut names: Vec<String> =
            std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        names.sort();
        names
    };
    let before = files();
    assert_eq!(before, ["mastery.db"]);
    let modified = std::fs::metadata(home.db()).unwrap().modified().unwrap();
    for format in ["table", "json", "csv"] {
        let (status, _, stderr) = home.run(&["report", "Arithmetic", "--format", format], "");
        assert_eq!(status, 0, "{stderr}");
    }
    assert_eq!(files(), before);
    assert_eq!(std::fs::metadata(home.db()).unwrap().modified().unwrap(), modified);
}

#[cfg(unix)]
#[test]
fn the_default_database_and_its_folder_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let data = home.folder.path().join("xdg-data");
    let mut command = home.mastery(&["run", "--seed", "1", "--email", "private@example.com"]);
    command.env_remove("MASTERY_DB").env("XDG_DATA_HOME", &data).env("HOME", home.folder.path());
    let (status, _, stderr) = Home::output(command, "0\n");
    assert_eq!(status, 0, "{stderr}");
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let database = data.join("mastery").join("mastery.db");
    assert_eq!(mode(&database), 0o600, "{}", database.display());
    assert_eq!(mode(database.parent().unwrap()), 0o700);
}
