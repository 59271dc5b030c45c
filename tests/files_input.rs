//! Files parkrace reads and writes (issue 17): every field of a repro file that is present must
//! be valid, or the file is bad input (exit 2, one line naming the field); a schedule that does
//! not fit the model is said to, never reported as a clean run; a campaign folder that is a
//! file and a journal that is not UTF-8 are bad input; a failed write leaves no temporary file;
//! `import -o` and `minimize -o` create a missing folder alike; `replay`, `minimize`, `import`
//! and `report` print one JSON object with `--json`.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn parkrace() -> Command {
    Command::new(env!("CARGO_BIN_EXE_parkrace"))
}

fn run(args: &[&str]) -> Output {
    parkrace().args(args).output().unwrap()
}

/// A repro file of the V2 race on park-unpark (seed 1, as found: no minimization, fast).
fn good_repro(dir: &Path) -> (PathBuf, Value) {
    let out = parkrace()
        .args([
            "hunt",
            "--json",
            "--no-minimize",
            "-v",
            "V2",
            "-s",
            "park-unpark",
        ])
        .args(["--strategy", "random", "--seed", "1", "--out"])
        .arg(dir.join("repros"))
        .output()
        .unwrap();
    let row: Value = serde_json::from_slice(&out.stdout).unwrap();
    let path = PathBuf::from(row["repro"].as_str().unwrap());
    let doc = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (path, doc)
}

/// The one line a failed command printed on stderr.
fn one_line(out: &Output, what: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim().lines().count(), 1, "{what}: {err}");
    assert!(err.starts_with("parkrace: "), "{what}: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    err
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn every_invalid_repro_field_exits_2_with_one_line_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let (_, good) = good_repro(d.path());
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, &str, Edit)> = vec![
        ("schedule_bytes", "schedule_bytes", |d| {
            d["schedule_bytes"] = json!("xyz!")
        }),
        ("shuttle_schedule", "shuttle_schedule", |d| {
            d["shuttle_schedule"] = json!("garbage")
        }),
        ("shuttle_schedule cut short", "shuttle_schedule", |d| {
            d["shuttle_schedule"] = json!("9101ff01")
        }),
        ("preset", "preset", |d| d["preset"] = json!("V99")),
        ("preset of another variant", "preset", |d| {
            d["preset"] = json!("V5")
        }),
        ("strategy", "strategy", |d| {
            d["strategy"] = json!("warp-drive")
        }),
        ("fuzz strategy", "strategy", |d| {
            d["strategy"] = json!("fuzz:park_v9")
        }),
        ("unknown switch", "warp_core", |d| {
            d["variant"]["warp_core"] = json!("on")
        }),
        ("bad switch value", "parkme_store", |d| {
            d["variant"]["parkme_store"] = json!("sometimes")
        }),
        ("names", "names", |d| d["names"] = json!([])),
        ("completions", "completions", |d| {
            d["completions"] = json!([])
        }),
        ("budget as float", "budget", |d| {
            d["scenario"]["budget"] = json!(4e9)
        }),
        ("budget", "budget", |d| {
            d["scenario"]["budget"] = json!(4_000_000_000u64)
        }),
        ("max_steps", "max_steps", |d| {
            d["scenario"]["max_steps"] = json!(1_000_000_000_000_000u64)
        }),
        ("unknown scenario field", "speed", |d| {
            d["scenario"]["speed"] = json!(9)
        }),
        ("unknown field", "bogus", |d| d["bogus"] = json!(1)),
        ("execution", "execution", |d| d["execution"] = json!(0)),
        ("empty decisions", "decisions", |d| {
            d["decisions"] = json!("")
        }),
        ("garbled decisions", "decisions", |d| {
            d["decisions"] = json!("hello world")
        }),
        ("trace thread", "trace", |d| {
            d["trace"][0]["thread"] = json!(99)
        }),
    ];
    for (what, field, edit) in cases {
        let mut doc = good.clone();
        edit(&mut doc);
        let p = d.path().join("edited.json");
        std::fs::write(&p, doc.to_string()).unwrap();
        for cmd in ["replay", "minimize"] {
            let out = parkrace().arg(cmd).arg(&p).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{cmd} {what}");
            let err = one_line(&out, what);
            assert!(err.contains(field), "{cmd} {what}: {err}");
        }
    }
    // Not UTF-8.
    let p = d.path().join("binary.json");
    std::fs::write(&p, b"{\"format\": \"\xff\xfe\"}").unwrap();
    let out = parkrace().arg("replay").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    one_line(&out, "binary");
}

#[test]
fn a_schedule_that_does_not_fit_the_model_is_bad_input_never_a_clean_run() {
    let d = tempfile::tempdir().unwrap();
    let (path, good) = good_repro(d.path());
    // Decisions of another model: a task this scenario does not have, or a V0 schedule.
    let park = parkrace()
        .args(["hunt", "--json", "--no-minimize", "-v", "V0", "-s", "park"])
        .args(["--strategy", "random", "--out"])
        .arg(d.path().join("other"))
        .output()
        .unwrap();
    let row: Value = serde_json::from_slice(&park.stdout).unwrap();
    let other: Value =
        serde_json::from_str(&std::fs::read_to_string(row["repro"].as_str().unwrap()).unwrap())
            .unwrap();
    for (what, decisions) in [
        ("foreign task", json!("t0 t9 t9 t9")),
        ("too short", json!("t0")),
        ("another repro's", other["decisions"].clone()),
    ] {
        let mut doc = good.clone();
        doc["decisions"] = decisions;
        let p = d.path().join("foreign.json");
        std::fs::write(&p, doc.to_string()).unwrap();
        for cmd in ["replay", "minimize"] {
            let out = parkrace().arg(cmd).arg(&p).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(2), "{cmd} {what}: {text}");
            let err = one_line(&out, what);
            assert!(err.contains("does not fit"), "{cmd} {what}: {err}");
            assert!(err.contains("decisions"), "{cmd} {what}: {err}");
            assert!(!text.contains("ran clean"), "{cmd} {what}: {text}");
        }
    }
    // The untouched file still replays.
    let out = parkrace().arg("replay").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn soak_folders_that_are_files_and_journals_that_are_not_utf8_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("F");
    std::fs::write(&file, "x").unwrap();
    let f = file.to_str().unwrap();
    let sub = format!("{f}/sub");
    for out_dir in [f, sub.as_str()] {
        let out = run(&[
            "soak", "--units", "1", "-v", "V5", "-s", "park", "--out", out_dir,
        ]);
        assert_eq!(out.status.code(), Some(2), "{out_dir}");
        one_line(&out, out_dir);
    }

    // A tiny campaign, then stale temporary files and a report.
    let c = d.path().join("camp");
    let cs = c.to_str().unwrap();
    let out = run(&[
        "soak",
        "--units",
        "2",
        "-v",
        "V5",
        "-s",
        "park",
        "--strategy",
        "random",
        "--unit-steps",
        "2000",
        "--seed",
        "1",
        "--jobs",
        "1",
        "--out",
        cs,
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    std::fs::write(c.join(".summary.json.tmp4242-0"), "").unwrap();
    std::fs::write(c.join("repros/.x.json.tmp4242-3"), "").unwrap();
    std::fs::write(c.join("notes.tmp1-2"), "mine").unwrap();
    let out = run(&["soak", "--resume", cs]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        !names(&c).iter().any(|n| n.contains(".tmp4242")),
        "{:?}",
        names(&c)
    );
    assert!(names(&c).contains(&"notes.tmp1-2".to_string()));
    assert!(names(&c.join("repros")).is_empty());

    let out = run(&["report", "--json", cs]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in [
        "summary",
        "report",
        "units",
        "executions",
        "hits",
        "distinct_violations",
    ] {
        assert!(v.get(k).is_some(), "report --json lacks {k}: {v}");
    }
    assert_eq!(v["units"], 2);
    assert!(Path::new(v["summary"].as_str().unwrap()).exists());

    // A journal with bytes that are no UTF-8.
    let mut j = std::fs::read(c.join("journal.jsonl")).unwrap();
    j.extend_from_slice(b"\xff\xfe\n");
    std::fs::write(c.join("journal.jsonl"), j).unwrap();
    for args in [vec!["report", cs], vec!["soak", "--resume", cs]] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = one_line(&out, "journal");
        assert!(err.contains("UTF-8"), "{err}");
    }
}

#[test]
fn failed_writes_leave_no_temporary_file_and_missing_folders_are_made_alike() {
    let d = tempfile::tempdir().unwrap();
    let (path, _) = good_repro(d.path());
    let crash = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/crashes/park_v2/crash-race");
    let crash = crash.to_str().unwrap();
    let p = path.to_str().unwrap();

    // A missing folder: import and minimize both create it.
    let imported = d.path().join("new-a/deeper/x.json");
    let out = run(&["import", "park_v2", crash, "-o", imported.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(imported.exists());
    let minimized = d.path().join("new-b/deeper/x.json");
    let out = run(&[
        "minimize",
        p,
        "--tries",
        "30",
        "-o",
        minimized.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(minimized.exists());

    // A path under a regular file fails for root too: exit 3 alike, nothing left behind.
    let file = d.path().join("plain");
    std::fs::write(&file, "x").unwrap();
    let under = file.join("x.json");
    let under = under.to_str().unwrap();
    for args in [
        vec!["import", "park_v2", crash, "-o", under],
        vec!["minimize", p, "--tries", "30", "-o", under],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        one_line(&out, "under a file");
    }
    // The rename fails after the temporary file was written (the target is a folder that
    // holds a file): the temporary file is removed.
    let w = d.path().join("w");
    std::fs::create_dir_all(w.join("x.json")).unwrap();
    std::fs::write(w.join("x.json/inside"), "x").unwrap();
    let target = w.join("x.json");
    let target = target.to_str().unwrap();
    for args in [
        vec!["import", "park_v2", crash, "-o", target],
        vec!["minimize", p, "--tries", "30", "-o", target],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        one_line(&out, "rename");
        assert_eq!(names(&w), ["x.json"], "{args:?}");
    }
}

#[test]
fn replay_minimize_and_import_print_one_json_object_with_json() {
    let d = tempfile::tempdir().unwrap();
    let (path, _) = good_repro(d.path());
    let p = path.to_str().unwrap();

    let out = run(&["replay", "--json", p]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["reproduced"], true);
    assert_eq!(v["file"], p);
    assert!(v["oracle"].is_string() && v["detail"].is_string(), "{v}");
    assert!(v["steps"].as_u64().unwrap() > 0, "{v}");
    assert!(v["preemptions"].is_u64() && v["diverged"].is_null(), "{v}");

    let m = d.path().join("m.json");
    let out = run(&[
        "minimize",
        "--json",
        p,
        "--tries",
        "30",
        "-o",
        m.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["file"], m.to_str().unwrap());
    assert_eq!(
        v["oracle"],
        serde_json::from_slice::<Value>(&run(&["replay", "--json", p]).stdout).unwrap()["oracle"]
    );
    for side in ["before", "after"] {
        assert!(
            v[side]["preemptions"].is_u64() && v[side]["steps"].is_u64(),
            "{v}"
        );
    }
    assert!(v["executions"].as_u64().unwrap() >= 1, "{v}");
    // The minimized file replays too.
    assert_eq!(run(&["replay", m.to_str().unwrap()]).status.code(), Some(0));

    let crash = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/crashes/park_v2/crash-race");
    let i = d.path().join("i.json");
    let out = run(&[
        "import",
        "--json",
        "park_v2",
        crash.to_str().unwrap(),
        "-o",
        i.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["file"], i.to_str().unwrap());
    assert!(v["oracle"].is_string(), "{v}");
    assert_eq!(v["violation"]["oracle"], v["oracle"]);
    assert!(v["violation"]["detail"].is_string(), "{v}");
    // The imported file loads and replays.
    assert_eq!(run(&["replay", i.to_str().unwrap()]).status.code(), Some(0));
}

/// Every number in a soak campaign's `campaign.json` is checked against its option's range
/// when the campaign is read (`report`, `soak --resume`): one line naming the field, exit 2,
/// never a hang, an overflow or a division by zero.
#[test]
fn campaign_file_numbers_out_of_range_exit_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let camp = dir.path().join("camp");
    let camp_s = camp.to_str().unwrap();
    let made = run(&[
        "soak",
        "-v",
        "V5",
        "-s",
        "park",
        "--strategy",
        "random",
        "--units",
        "1",
        "--seed",
        "1",
        "--out",
        camp_s,
    ]);
    assert_eq!(
        made.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let file = camp.join("campaign.json");
    let good: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let cases: [(&str, Value); 8] = [
        ("unit_steps", json!(0)),
        ("unit_steps", json!(u64::MAX)),
        ("native_ms", json!(0)),
        ("minimize_tries", json!(0)),
        ("key_tries", json!(u64::MAX)),
        ("units", json!(0)),
        ("time_s", json!(-1.0)),
        ("shard", json!({"index": 0, "count": 0})),
    ];
    for (field, bad) in cases {
        let mut v = good.clone();
        v[field] = bad.clone();
        std::fs::write(&file, serde_json::to_string(&v).unwrap()).unwrap();
        for args in [vec!["report", camp_s], vec!["soak", "--resume", camp_s]] {
            let out = run(&args);
            let what = format!("{args:?} {field}={bad}");
            assert_eq!(out.status.code(), Some(2), "{what}");
            let line = one_line(&out, &what);
            assert!(line.contains(field), "{what}: {line}");
        }
    }
}
