//! SIGTERM (what a batch system sends) stops a run the way Ctrl-C does: hunt says how many
//! cells have a verdict and exits 130, stress prints its report, soak prints its summary and
//! how to resume. None of them dies with 143 and nothing said.
#![cfg(unix)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Start `args`, send SIGTERM after `after`, and return (exit code, stdout, stderr).
fn terminated(args: &[&str], after: Duration) -> (Option<i32>, String, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_parkrace"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    // SAFETY: kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let start = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{args:?} took {:?} to stop after SIGTERM",
        start.elapsed()
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sigterm_stops_a_hunt_with_its_partial_verdicts_and_exit_130() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    // Every preset and scenario with a large budget: far from done after 2 s.
    let (code, _, stderr) = terminated(
        &[
            "hunt",
            "--executions",
            "1000000",
            "--out",
            out.to_str().unwrap(),
        ],
        Duration::from_secs(2),
    );
    assert_eq!(code, Some(130), "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("interrupted"), "{}", lines[0]);
}

#[test]
fn sigterm_stops_a_stress_run_with_its_report() {
    let (code, stdout, stderr) = terminated(
        &[
            "stress", "-v", "V5", "-s", "park", "--time", "10m", "--json",
        ],
        Duration::from_secs(2),
    );
    assert_eq!(code, Some(0), "stderr: {stderr}");
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["interrupted"], true);
    assert!(report["cycles"].as_u64().unwrap() > 0);
}

#[test]
fn sigterm_stops_a_soak_with_its_summary_and_resume_hint() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("campaign");
    let (code, stdout, stderr) = terminated(
        &[
            "soak",
            "-v",
            "V5",
            "-s",
            "park",
            "--strategy",
            "random",
            "--time",
            "10m",
            "--out",
            out.to_str().unwrap(),
        ],
        Duration::from_secs(3),
    );
    assert_eq!(code, Some(0), "stderr: {stderr}");
    assert!(
        stdout.contains("interrupted; continue with: parkrace soak --resume"),
        "{stdout}"
    );
    assert!(out.join("summary.json").is_file());
}
