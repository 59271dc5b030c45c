//! `parkrace soak`: finds and writes races, survives kill -9 and Ctrl-C without losing or
//! double-counting anything, splits into shards that merge to the unsharded totals, and
//! refuses bad input with one line.

use serde_json::Value;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn parkrace() -> Command {
    Command::new(env!("CARGO_BIN_EXE_parkrace"))
}

fn run(args: &[&str]) -> Output {
    parkrace().args(args).output().unwrap()
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

/// What must not depend on how the work was split or interrupted: per cell its units,
/// executions, steps, violations and first-hit execution; per distinct violation its hits.
fn totals(dir: &Path) -> (Vec<Value>, Vec<(String, u64)>, u64, u64) {
    let s = summary(dir);
    let cells = s["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            serde_json::json!([
                c["cell"],
                c["units"],
                c["executions"],
                c["steps"],
                c["violations"],
                c["first_hit_execution"]
            ])
        })
        .collect();
    let mut v: Vec<(String, u64)> = s["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["key"].as_str().unwrap().to_string(),
                v["hits"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort();
    (
        cells,
        v,
        s["units"].as_u64().unwrap(),
        s["executions"].as_u64().unwrap(),
    )
}

/// The units of the journal's complete lines (none before the campaign starts).
fn journal_units(dir: &Path) -> Vec<u64> {
    let text = fs::read_to_string(dir.join("journal.jsonl")).unwrap_or_default();
    text.split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["u"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

/// Wait until the journal of `dir` lists at least `n` units (or two minutes pass).
fn wait_for_units(dir: &Path, n: usize) {
    let start = Instant::now();
    while journal_units(dir).len() < n && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every repro file and race diagram the journal names exists and is whole.
fn assert_files_exist(dir: &Path) {
    for l in fs::read_to_string(dir.join("journal.jsonl"))
        .unwrap()
        .lines()
    {
        let r: Value = serde_json::from_str(l).unwrap();
        if let Some(h) = r.get("hit") {
            let file = dir.join(h["file"].as_str().unwrap());
            let repro: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert_eq!(repro["violation"]["oracle"], h["oracle"]);
            assert!(dir.join(h["diagram"].as_str().unwrap()).exists());
        }
    }
}

/// A campaign of V2 and V5 on two named scenarios and generated ones, under two strategies,
/// in small units with a short minimization: 60 units, a few seconds.
const CAMPAIGN: &[&str] = &[
    "-v",
    "V2",
    "-v",
    "V5",
    "-s",
    "park-unpark",
    "-s",
    "stale-completion",
    "-s",
    "random",
    "--strategy",
    "random",
    "--strategy",
    "bytes",
    "--seed",
    "11",
    "--units",
    "60",
    "--unit-steps",
    "100000",
    "--minimize-tries",
    "300",
    "--key-tries",
    "300",
    "--jobs",
    "2",
];

#[test]
fn a_short_soak_finds_the_v2_race_and_writes_a_repro_that_replays() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("c");
    let o = run(&[
        "soak",
        "-v",
        "V2",
        "-s",
        "park-unpark",
        "--strategy",
        "random",
        "--strategy",
        "native",
        "--native-time",
        "3s",
        "--units",
        "4",
        "--seed",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    // V2's violations are kernel history's: no finding.
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    let s = summary(&out);
    assert_eq!(s["units"], 4);
    let v = &s["violations"].as_array().unwrap()[0];
    assert_eq!(v["oracle"], "I5", "the seed's race: {v}");
    assert_eq!(v["history"], "expected");
    // Both shuttle units hit it (from fixed seeds). Native stress ran its two units too;
    // whether it hit the race within 3 s depends on the machine's load (tests/stress.rs
    // asserts that it finds it).
    let hits: u64 = s["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["by_strategy"]["random"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(hits, 2, "every shuttle unit hits the race: {stdout}");
    let native = s["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["strategy"] == "native")
        .unwrap();
    assert_eq!(native["units"], 2);
    assert!(native["executions"].as_u64().unwrap() > 0, "{native}");
    let verdict = &s["verdicts"][0];
    assert_eq!(verdict["status"], "caught", "{verdict}");
    assert!(stdout.contains("1 buggy target caught"), "{stdout}");
    // The repro replays, minimized, with its race diagram beside it.
    let v = s["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["by_strategy"]["random"].as_u64().is_some())
        .unwrap();
    let file = out.join(v["file"].as_str().unwrap());
    let r = run(&["replay", file.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&r.stdout).contains("reproduced"));
    let repro: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    assert!(repro["minimized_from"].is_object());
    assert!(v["preemptions"].as_u64().unwrap() <= 3, "{v}");
    let diagram = fs::read_to_string(out.join(v["diagram"].as_str().unwrap())).unwrap();
    assert!(diagram.contains("VIOLATION I5") && diagram.contains("kthread_park"));
    // The report: verdicts, the survival plot, links to the diagram.
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("id=\"survival\"") && html.contains("<polyline"));
    assert!(html.contains(&format!("href=\"{}\"", v["diagram"].as_str().unwrap())));
    assert_files_exist(&out);
}

#[test]
fn killed_with_sigkill_and_interrupted_then_resumed_it_loses_nothing_and_counts_once() {
    let d = tempfile::tempdir().unwrap();
    // The same work, uninterrupted.
    let whole = d.path().join("whole");
    let mut args = CAMPAIGN.to_vec();
    args.extend(["--out", whole.to_str().unwrap()]);
    let mut a = vec!["soak"];
    a.extend(&args);
    assert_eq!(run(&a).status.code(), Some(0));
    assert_eq!(journal_units(&whole).len(), 60);

    // kill -9 once some units are done.
    let dir = d.path().join("killed");
    let mut args = CAMPAIGN.to_vec();
    args.extend(["--out", dir.to_str().unwrap()]);
    let mut child = parkrace()
        .arg("soak")
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_units(&dir, 10);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let after_kill = journal_units(&dir).len();
    assert!(
        (10..60).contains(&after_kill),
        "killed mid-campaign: {after_kill}"
    );
    assert_files_exist(&dir);
    // A journal line cut short by the kill is dropped on resume.
    fs::OpenOptions::new()
        .append(true)
        .open(dir.join("journal.jsonl"))
        .unwrap()
        .write_all(b"{\"u\":89,\"cell\":")
        .unwrap();
    // A new soak on the folder is refused; --resume cannot change the campaign.
    let again = run(&["soak", "--units", "5", "--out", dir.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));
    let changed = run(&["soak", "--resume", dir.to_str().unwrap(), "-v", "V3"]);
    assert_eq!(changed.status.code(), Some(2));

    // Resume, and interrupt that with Ctrl-C (SIGINT).
    let child = parkrace()
        .args(["soak", "--resume", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_units(&dir, after_kill + 5);
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let after_int = journal_units(&dir).len();
    if after_int < 60 {
        assert!(stdout.contains("interrupted; continue with"), "{stdout}");
    }
    assert_files_exist(&dir);

    // Resume to the end: the same totals as the uninterrupted run, each unit once.
    let o = run(&["soak", "--resume", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let mut units = journal_units(&dir);
    units.sort_unstable();
    assert_eq!(units, (0..60).collect::<Vec<u64>>());
    assert_eq!(totals(&dir), totals(&whole));
    assert_files_exist(&dir);
}

#[test]
fn shards_cover_disjoint_units_and_merge_to_the_unsharded_totals() {
    let d = tempfile::tempdir().unwrap();
    let mut outs = vec![];
    for shard in ["none", "1/2", "2/2"] {
        let dir = d.path().join(shard.replace('/', "-"));
        let mut a = vec!["soak"];
        a.extend(CAMPAIGN);
        if shard != "none" {
            a.extend(["--shard", shard]);
        }
        a.extend(["--out", dir.to_str().unwrap()]);
        assert_eq!(run(&a).status.code(), Some(0));
        outs.push(dir);
    }
    let (u1, u2) = (journal_units(&outs[1]), journal_units(&outs[2]));
    assert!(!u1.is_empty() && !u2.is_empty());
    assert!(u1.iter().all(|u| !u2.contains(u)), "disjoint");
    assert_eq!(u1.len() + u2.len(), 60);
    let merged = d.path().join("merged");
    let o = run(&[
        "soak",
        "merge",
        outs[1].to_str().unwrap(),
        outs[2].to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(totals(&merged), totals(&outs[0]));
    assert_eq!(
        summary(&merged)["shards"],
        serde_json::json!(["1/2", "2/2"])
    );
    assert_files_exist(&merged);
    // `parkrace report` makes the same summary anew.
    fs::remove_file(merged.join("summary.json")).unwrap();
    assert_eq!(
        run(&["report", merged.to_str().unwrap()]).status.code(),
        Some(0)
    );
    assert_eq!(totals(&merged), totals(&outs[0]));
    // Shards of different campaigns do not merge.
    let other = d.path().join("other");
    assert_eq!(
        run(&[
            "soak",
            "--units",
            "1",
            "-v",
            "V5",
            "-s",
            "park",
            "--strategy",
            "random",
            "--unit-steps",
            "1000",
            "--out",
            other.to_str().unwrap()
        ])
        .status
        .code(),
        Some(0)
    );
    let o = run(&[
        "soak",
        "merge",
        outs[1].to_str().unwrap(),
        other.to_str().unwrap(),
        "--out",
        d.path().join("m2").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bad_durations_shards_and_folders_give_one_line_and_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let new = d.path().join("new");
    let new = new.to_str().unwrap();
    let junk = d.path().join("junk");
    fs::create_dir(&junk).unwrap();
    fs::write(junk.join("x"), "x").unwrap();
    let junk = junk.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["soak", "--time", "10x", "--out", new],
        vec!["soak", "--time", "-5m", "--out", new],
        vec!["soak", "--time", "1m", "--shard", "3/2", "--out", new],
        vec!["soak", "--time", "1m", "--shard", "0/2", "--out", new],
        vec!["soak", "--time", "1m", "--shard", "two", "--out", new],
        vec!["soak", "--time", "1m", "--strategy", "dfs", "--out", new],
        vec!["soak", "--time", "1m", "-s", "nope", "--out", new],
        vec!["soak", "--time", "1m", "--out", junk],
        vec!["soak", "--out", new],
        vec!["soak", "--time", "1m"],
        vec!["soak", "--resume", new],
        vec!["soak", "--resume", junk],
        vec!["report", junk],
        vec!["soak", "merge", junk, "--out", new],
    ];
    for c in cases {
        let o = run(&c);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{c:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{c:?}: {err}");
        assert!(err.starts_with("parkrace: "), "{c:?}: {err}");
        assert!(!Path::new(new).exists(), "{c:?} made the folder");
    }
}

#[test]
fn a_folder_in_use_by_a_running_soak_is_refused_and_report_reads_it_meanwhile() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("busy");
    let mut child = parkrace()
        .args([
            "soak",
            "-v",
            "V5",
            "-s",
            "park",
            "--strategy",
            "random",
            "--time",
            "60s",
            "--unit-steps",
            "20000",
            "--jobs",
            "1",
            "--out",
            dir.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_units(&dir, 2);
    let o = run(&["soak", "--resume", dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("in use"), "{err}");
    // Reading is fine while it runs.
    assert_eq!(
        run(&["report", dir.to_str().unwrap()]).status.code(),
        Some(0)
    );
    assert!(summary(&dir)["units"].as_u64().unwrap() >= 2);
    child.kill().unwrap();
    child.wait().unwrap();
    // Once it is gone, the lock is too.
    let o = run(&["soak", "--resume", dir.to_str().unwrap(), "--time", "1s"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
