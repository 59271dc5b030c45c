//! Minimization and fuzz-artifact import, through the command line: `parkrace minimize`
//! yields the fewest preemptions and a repro that replays; the minimized V2 race renders as
//! the seed's two-column diagram; `parkrace import` turns a fuzz input into a repro file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn parkrace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parkrace"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr)
}

/// Hunt the V2 race on the seed's scenario with `strategy` (and `extra` options); the path of
/// the one repro file it writes.
fn v2_repro(dir: &Path, strategy: &str, extra: &[&str]) -> PathBuf {
    let mut args = vec![
        "hunt",
        "-v",
        "V2",
        "-s",
        "park-unpark",
        "--strategy",
        strategy,
    ];
    args.extend_from_slice(extra);
    args.extend(["--out", dir.to_str().unwrap()]);
    let o = parkrace(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// `parkrace replay` reproduces the file's violation.
fn assert_replays(p: &Path) {
    let o = parkrace(&["replay", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}: {}", p.display(), text(&o));
}

fn number_after(s: &str, label: &str) -> u64 {
    let rest = &s[s
        .find(label)
        .unwrap_or_else(|| panic!("no '{label}' in {s}"))
        + label.len()..];
    rest.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn minimize_finds_the_two_preemption_v2_race_and_it_renders_like_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let f = v2_repro(dir.path(), "random", &["--no-minimize"]);
    assert!(
        read_json(&f).get("minimized_from").is_none(),
        "--no-minimize minimized"
    );
    let out = dir.path().join("min.json");
    let o = parkrace(&["minimize", f.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let before = number_after(&t, "before:");
    let after = number_after(&t, "after:");
    // The seed's race needs two preemptions: K preempted right after it sets INTERRUPTIBLE,
    // C preempted right after its state check. Fewer cannot show it.
    assert_eq!(after, 2, "{t}");
    assert!(before >= after);
    let r: serde_json::Value = read_json(&out);
    assert_eq!(r["minimized_from"]["preemptions"], before);
    assert!(r["schedule_bytes"].is_string());

    let o = parkrace(&["replay", out.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    // Two columns: the controller and the kthread (idle's finish_task_switch on K's CPU goes
    // into K's column).
    let header = t.lines().find(|l| l.contains(" step |")).unwrap();
    assert!(
        header.contains("C (cpu0)") && header.contains("K (cpu1)"),
        "{header}"
    );
    assert_eq!(header.matches('|').count(), 2, "{header}");
    // The seed's order of events.
    let order = [
        "K.state := INTERRUPTIBLE",
        "set SHOULD_PARK",
        "reads K.state == INTERRUPTIBLE",
        "K.state := PARKED",
        "switch K -> idle1",
        "parked.done := MAX",
        "K.state := WAKING",
        "K.state := RUNNING",
        "kthread_park: returns 0",
    ];
    // (Read from the replayed trace the table is drawn from: table cells wrap.)
    let rep = parkrace::tools::repro::Repro::load(&out).unwrap();
    let o = parkrace::tools::explore::replay(
        &rep.scenario,
        rep.variant,
        rep.oracles,
        &rep.decisions().unwrap(),
    )
    .outcome;
    let flat: Vec<String> = o
        .trace
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                e.func,
                parkrace::runtime::trace::describe(&e.what, &o.names, &o.completions)
            )
        })
        .collect();
    let flat = flat.join("\n");
    let mut at = 0;
    for e in order {
        let i = flat[at..]
            .find(e)
            .unwrap_or_else(|| panic!("'{e}' missing or out of order in:\n{flat}"));
        at += i + e.len();
    }
}

#[test]
fn hunt_minimizes_what_it_saves() {
    let dir = tempfile::tempdir().unwrap();
    let f = v2_repro(dir.path(), "urw", &[]);
    let r: serde_json::Value = read_json(&f);
    assert!(r["minimized_from"].is_object(), "{r}");
    assert_eq!(
        r["switches"].as_u64().unwrap() + r["preemptions"].as_u64().unwrap(),
        2
    );
    assert_replays(&f);
}

#[test]
fn a_fuzz_input_imports_as_a_repro_that_replays_and_minimizes() {
    let dir = tempfile::tempdir().unwrap();
    // Shape: preset 0, two CPUs, not fresh, one more op (park; unpark), the rest off. Then
    // schedule bytes: a few switches early on.
    let mut input = vec![0u8, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0];
    let mut found = None;
    for k in 0..400u32 {
        let mut data = input.clone();
        data.extend((0..24).map(|j| ((k.wrapping_mul(2654435761) >> (j % 24)) & 3) as u8));
        let art = dir.path().join(format!("crash-{k}"));
        std::fs::write(&art, &data).unwrap();
        let out = dir.path().join(format!("r{k}.json"));
        let o = parkrace(&[
            "import",
            "park_v2",
            art.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        match o.status.code() {
            Some(0) => {
                found = Some(out);
                input = data;
                break;
            }
            Some(1) => assert!(text(&o).contains("no violation"), "{}", text(&o)),
            c => panic!("import exited {c:?}: {}", text(&o)),
        }
    }
    let out = found.expect("one of 400 schedules shows the V2 race");
    assert!(!input.is_empty());
    assert_replays(&out);
    let o = parkrace(&["minimize", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(number_after(&text(&o), "after:"), 2, "{}", text(&o));
}

#[test]
fn bad_input_gives_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{").unwrap();
    for args in [
        vec!["minimize", junk.to_str().unwrap()],
        vec!["minimize", "/nonexistent/file.json"],
        vec!["import", "park_v9", junk.to_str().unwrap()],
        vec!["import", "park_v2", "/nonexistent/crash"],
    ] {
        let o = parkrace(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("parkrace: "), "{err}");
    }
}

#[test]
fn committed_fuzz_crashes_import_and_minimize_with_their_scenario() {
    // fuzz/crashes/TARGET/crash-race: a known crash of each buggy target (also checked under
    // libFuzzer by .ci/run). Importing gives the target's oracle; `minimize --scenario`
    // reduces the fuzzer's busy scenario to model.md's smallest one for V3's latency (f row
    // "V3/V3b latency": 1 CPU, park, one wakeup preemption).
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (target, oracle) in [
        ("park_v0", "I5"),
        ("park_v1", "I5"),
        ("park_v2", "I5"),
        ("park_v3", "I8"),
        ("park_v4", "I3s"),
    ] {
        let art = root.join("fuzz/crashes").join(target).join("crash-race");
        let out = dir.path().join(format!("{target}.json"));
        let o = parkrace(&[
            "import",
            target,
            art.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{target}: {}", text(&o));
        let r: serde_json::Value = read_json(&out);
        assert_eq!(r["violation"]["oracle"], oracle, "{target}");
    }
    let v3 = dir.path().join("park_v3.json");
    let red = dir.path().join("v3-reduced.json");
    let o = parkrace(&[
        "minimize",
        "--scenario",
        v3.to_str().unwrap(),
        "-o",
        red.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("-> 1 CPU, C@0 K@0, C: park, PREEMPT budget 1"),
        "{t}"
    );
    assert_eq!(number_after(&t, "after:"), 1, "{t}");
    assert_replays(&red);
}

#[test]
fn the_fuzzer_reaches_the_hotplug_bug_on_of_v2() {
    // I4, smpboot's wrong-CPU BUG_ON after takedown migrated a clobbered K (model.md d.1/d.2,
    // hotplug variant): found by `PARKRACE_FUZZ_ORACLES=I4 cargo fuzz run -s none park_v2`
    // in about 20 s; shuttle's random search did not reach it in 200,000 executions.
    let dir = tempfile::tempdir().unwrap();
    let art =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/crashes/park_v2/crash-hotplug-bug-on");
    let out = dir.path().join("i4.json");
    let o = parkrace(&[
        "import",
        "park_v2",
        art.to_str().unwrap(),
        "--oracles",
        "I4",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: serde_json::Value = read_json(&out);
    assert_eq!(r["violation"]["oracle"], "I4");
    assert!(
        r["scenario"]["ops"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o == "takedown"),
        "{}",
        r["scenario"]
    );
    let o = parkrace(&["minimize", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let min = dir.path().join("i4.min.json");
    assert_replays(&min);
}
