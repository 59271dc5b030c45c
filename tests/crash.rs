//! A worker that dies is never a clean run: every command that runs workers (hunt, compare,
//! verify, stress, soak) exits 4 and says so in one line, whatever the dead worker was doing.
//! The crash is made by the test-only hook `PARKRACE_TEST_CRASH` (`tools::pool::crash_hook`).

use std::process::{Command, Output};

fn crashed(place: &str, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_parkrace"))
        .args(args)
        .env("PARKRACE_TEST_CRASH", place)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{args:?} with a {place} crash: exit {:?}, stderr: {stderr}",
        out.status.code()
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "{args:?}: one line on stderr, got {lines:?}"
    );
    assert!(
        lines[0].starts_with("parkrace: ") && lines[0].contains(&format!("a {place} crashes")),
        "{args:?}: the line says what crashed: {}",
        lines[0]
    );
    out
}

#[test]
fn a_hunt_whose_worker_dies_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = crashed(
        "worker",
        &[
            "hunt",
            "-v",
            "V5",
            "-s",
            "park",
            "--executions",
            "50",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    // Nothing claims the cell clean.
    assert!(!String::from_utf8_lossy(&o.stdout).contains("clean after"));
}

#[test]
fn a_compare_whose_worker_dies_exits_4() {
    crashed(
        "worker",
        &[
            "compare",
            "-v",
            "V2",
            "-s",
            "park-unpark",
            "--strategy",
            "random",
            "--seeds",
            "2",
            "--executions",
            "50",
        ],
    );
}

#[test]
fn a_verify_whose_worker_dies_exits_4() {
    let o = crashed("worker", &["verify", "-v", "V5", "-s", "park", "-k", "0"]);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("verified"));
}

#[test]
fn a_stress_whose_instance_or_model_thread_dies_exits_4() {
    for place in ["stress", "model"] {
        let o = crashed(
            place,
            &["stress", "-v", "V5", "-s", "park", "--time", "1s", "--json"],
        );
        assert!(
            !String::from_utf8_lossy(&o.stdout).contains("no violation"),
            "{place}"
        );
    }
}

#[test]
fn a_soak_whose_unit_dies_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("campaign");
    crashed(
        "soak",
        &[
            "soak",
            "-v",
            "V5",
            "-s",
            "park",
            "--strategy",
            "random",
            "--units",
            "2",
            "--seed",
            "1",
            "--out",
            out.to_str().unwrap(),
        ],
    );
}
