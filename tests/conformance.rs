//! Replays the recorded Tile38 1.37 conformance corpus
//! (`tests/data/conformance`, copied from `shared/` by
//! `scripts/refresh-test-data.sh`) against the real server with
//! `tools/conformance/replay.py --any-order`, both output modes, one server
//! per group. `tests/conformance/groups.txt` lists the groups the issues so
//! far cover; `tests/conformance/skip.txt` the cases waiting for a later
//! issue. For development, `TILE38_SHARED=DIR` replays `DIR/conformance`
//! with `DIR/tools/conformance/replay.py` instead (a newer `shared/` before
//! it is refreshed in).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use tile38::{temp_dir, TestServer};

/// `(corpus directory, replay.py)`: the repository's copies, or those of
/// the `shared/` directory `TILE38_SHARED` names.
fn sources() -> (PathBuf, PathBuf) {
    match std::env::var_os("TILE38_SHARED") {
        Some(shared) => {
            let shared = PathBuf::from(shared);
            (
                shared.join("conformance"),
                shared.join("tools/conformance/replay.py"),
            )
        }
        None => {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            (
                root.join("tests/data/conformance"),
                root.join("tools/conformance/replay.py"),
            )
        }
    }
}

fn corpus(group: &str) -> String {
    let path = sources().0.join(format!("{group}.jsonl"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn list(name: &str) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The case names (`<group>/<case>`, first word of each line) of a list.
fn case_list(name: &str) -> BTreeSet<String> {
    list(name)
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

fn skipped() -> BTreeSet<String> {
    case_list("skip.txt")
}

/// Whether `case` (`<group>/<case>`) is in its group's corpus.
fn in_corpus(case: &str) -> bool {
    let group = case.split('/').next().unwrap();
    corpus(group)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .any(|l| case_name(l) == case)
}

fn case_name(line: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(line).expect("corpus line is JSON");
    format!(
        "{}/{}",
        v["group"].as_str().unwrap_or("?"),
        v["name"].as_str().unwrap_or("?")
    )
}

/// Replays `file` with `replay_py` against a fresh server.
fn replay_file(replay_py: &std::path::Path, file: &std::path::Path) -> std::process::Output {
    let server = TestServer::start(&[]);
    Command::new("python3")
        .arg(replay_py)
        .args(["--any-order", "--port", &server.port.to_string()])
        .arg(file)
        .output()
        .expect("run python3 replay.py")
}

fn replay(group: &str) {
    assert!(
        list("groups.txt").iter().any(|g| g == group),
        "{group} is not listed in groups.txt"
    );
    let text = corpus(group);
    let skip = skipped();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !skip.contains(&case_name(l)))
        .collect();
    let dir = temp_dir("conformance");
    let file = dir.join(format!("{group}.jsonl"));
    std::fs::write(&file, kept.join("\n") + "\n").unwrap();
    let out = replay_file(&sources().1, &file);
    let report = String::from_utf8_lossy(&out.stdout);
    let retried = !out.status.success() && retried_timing_cases(&report, &kept, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    if retried {
        return;
    }
    assert!(
        out.status.success(),
        "conformance group {group} failed:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = report.lines().last().unwrap_or_default();
    println!("{group}: {summary}");
    assert_eq!(
        summary,
        format!("{} passed, 0 failed", kept.len()),
        "{report}"
    );
}

/// Whether every case `report` failed is listed in `timing.txt` and then
/// passes replayed alone on a fresh server, within three tries each.
fn retried_timing_cases(report: &str, kept: &[&str], dir: &std::path::Path) -> bool {
    let timing = timing_cases();
    let failed: Vec<&str> = (report.lines())
        .filter_map(|l| l.strip_prefix("FAIL ")?.split_whitespace().next())
        .collect();
    if failed.is_empty() || !failed.iter().all(|c| timing.contains(*c)) {
        return false;
    }
    let summary = |out: &std::process::Output| {
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        text.lines().last().unwrap_or_default().to_string()
    };
    failed.iter().all(|case| {
        let line = kept
            .iter()
            .find(|l| case_name(l) == *case)
            .expect("a kept case");
        let file = dir.join("retry.jsonl");
        std::fs::write(&file, format!("{line}\n")).unwrap();
        (0..3).any(|_| summary(&replay_file(&sources().1, &file)) == "1 passed, 0 failed")
    })
}

fn timing_cases() -> BTreeSet<String> {
    case_list("timing.txt")
}

macro_rules! groups {
    ($($name:ident),* $(,)?) => {
        $(#[test]
        fn $name() {
            replay(stringify!($name).trim_start_matches("r#"));
        })*

        #[test]
        fn every_listed_group_has_a_test() {
            let tested: BTreeSet<&str> = [$(stringify!($name).trim_start_matches("r#")),*].into_iter().collect();
            for g in list("groups.txt") {
                assert!(tested.contains(g.as_str()), "group {g} has no test in tests/conformance.rs");
            }
        }
    };
}

groups!(
    set, get, fields, del, keys, expire, json, server, errors, protocol, scan, search, r#where,
    nearby, within, intersects, testcmd, hooks, scripts
);

/// The project's own cases (`tests/data/regressions`, recorded from the
/// real Tile38 with `tools/record.py`): every file, one server each.
#[test]
fn regressions() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/data/regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/data/regressions")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    for file in files {
        let cases = std::fs::read_to_string(&file).unwrap();
        let count = cases.lines().filter(|l| !l.trim().is_empty()).count();
        let out = replay_file(&root.join("tools/conformance/replay.py"), &file);
        let report = String::from_utf8_lossy(&out.stdout);
        let summary = report.lines().last().unwrap_or_default();
        println!("{}: {summary}", file.display());
        assert_eq!(
            summary,
            format!("{count} passed, 0 failed"),
            "{}:\n{report}",
            file.display()
        );
    }
}

#[test]
fn timing_list_names_existing_cases() {
    for case in timing_cases() {
        assert!(in_corpus(&case), "{case} is not in the corpus");
    }
}

#[test]
fn skip_list_names_existing_cases_and_their_issue() {
    let groups = list("groups.txt");
    for line in list("skip.txt") {
        let (case, reason) = line
            .split_once(char::is_whitespace)
            .expect("case and reason");
        assert!(
            reason.contains("issue") || reason.contains("no issue filed"),
            "{line}: name the issue it waits for"
        );
        let group = case.split('/').next().unwrap();
        assert!(
            groups.iter().any(|g| g == group),
            "{case}: group not replayed"
        );
        assert!(in_corpus(case), "{case} is not in the corpus");
    }
}
