//! The command line: hunt writes repro files that replay with exit 0; bad input exits 2 with a
//! one-line error; JSON Lines carry the documented fields.

mod common;

use std::path::Path;
use std::process::Command;

fn parkrace() -> Command {
    Command::new(env!("CARGO_BIN_EXE_parkrace"))
}

fn hunt_json(dir: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let out = parkrace()
        .args(["hunt", "--json", "--out"])
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.code().is_some());
    common::json_lines(&out.stdout)
}

#[test]
fn hunt_json_lines_have_the_documented_fields_and_repros_replay() {
    let dir = tempfile::tempdir().unwrap();
    let rows = hunt_json(
        dir.path(),
        &[
            "-v",
            "V2",
            "-v",
            "V5",
            "-s",
            "park-unpark",
            "--strategy",
            "random",
            "--executions",
            "3000",
        ],
    );
    assert_eq!(rows.len(), 2);
    for r in &rows {
        common::assert_fields(
            r,
            &[
                "variant",
                "scenario",
                "strategy",
                "executions",
                "elapsed_ms",
                "violation",
                "repro",
            ],
        );
    }
    let v2 = &rows[0];
    assert_eq!(v2["variant"], "V2");
    let oracle = v2["violation"]["oracle"].as_str().unwrap();
    assert!(oracle == "I1" || oracle == "I5", "{oracle}");
    let repro = v2["repro"].as_str().unwrap();
    let v5 = &rows[1];
    assert!(v5["violation"].is_null() && v5["repro"].is_null());
    assert_eq!(v5["executions"], 3000);

    // The repro replays deterministically: same oracle, exit 0, a per-task table.
    let out = parkrace().args(["replay", repro]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("reproduced: {oracle}")), "{text}");
    assert!(text.contains("| C") && text.contains("| K"), "{text}");
    assert!(text.contains("try_to_wake_up"), "{text}");
}

#[test]
fn a_repro_whose_recorded_oracle_does_not_reproduce_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let rows = hunt_json(
        dir.path(),
        &["-v", "V2", "-s", "park-unpark", "--strategy", "random"],
    );
    let repro = rows[0]["repro"].as_str().unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repro).unwrap()).unwrap();
    // Claim another oracle than the one the schedule breaks.
    doc["violation"]["oracle"] = serde_json::json!("I4");
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, serde_json::to_string(&doc).unwrap()).unwrap();
    let out = parkrace().arg("replay").arg(&edited).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn invalid_and_truncated_repro_files_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let rows = hunt_json(
        dir.path(),
        &["-v", "V0", "-s", "park", "--strategy", "random"],
    );
    let good = std::fs::read_to_string(rows[0]["repro"].as_str().unwrap()).unwrap();
    let cases = [
        ("truncated.json", good[..good.len() / 2].to_string()),
        ("empty.json", String::new()),
        ("garbage.json", "not json at all".to_string()),
        (
            "wrong-format.json",
            good.replacen("parkrace-repro", "something-else", 1),
        ),
        ("bad-decisions.json", {
            let mut d: serde_json::Value = serde_json::from_str(&good).unwrap();
            d["decisions"] = serde_json::json!("t1 x9");
            d.to_string()
        }),
    ];
    for (name, text) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let out = parkrace().arg("replay").arg(&p).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{name}: {err}");
        assert!(err.starts_with("parkrace: "), "{name}: {err}");
    }
    let out = parkrace()
        .args(["replay", "/nonexistent/file.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    for args in [
        vec!["hunt", "--variant", "V9"],
        vec!["hunt", "--scenario", "nope"],
        vec!["hunt", "--strategy", "bfs"],
        vec!["hunt", "--time", "5x"],
        vec!["hunt", "--oracles", "I99"],
        vec!["hunt", "--executions", "0"],
        vec!["frobnicate"],
        vec!["hunt", "--bogus"],
        vec!["hunt", "--seed", "x"],
    ] {
        let out = parkrace().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("parkrace: "), "{args:?}: {err}");
    }
}

#[test]
fn listings_name_every_preset_commit_and_scenario() {
    let v = String::from_utf8(parkrace().arg("variants").output().unwrap().stdout).unwrap();
    for (p, commit) in [
        ("V2", "85f1abe0019f"),
        ("V3", "1cef1150ef40"),
        ("V4", "26c7295be0c5"),
        ("V5", "214e01ad4ed7"),
    ] {
        assert!(v.contains(p) && v.contains(commit), "{p}");
    }
    assert!(v.contains("preempt_disabled_complete"));
    let s = String::from_utf8(parkrace().arg("scenarios").output().unwrap().stdout).unwrap();
    for sc in parkrace::scenario::Scenario::named() {
        assert!(s.contains(&sc.name), "{}", sc.name);
    }
    let help =
        String::from_utf8(parkrace().args(["hunt", "--help"]).output().unwrap().stdout).unwrap();
    assert!(help.contains("Exit status"));
}
