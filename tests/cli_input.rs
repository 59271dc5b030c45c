//! Bad command-line input is answered at parse time, in one line that names the option, with
//! exit 2: every numeric option below its range, above it, negative, and not a number, and
//! the large values that used to hang, panic or abort. Each subcommand's `--help` shows its
//! own exit-status table. Nothing here runs a long search: bad input fails before any work.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn parkrace() -> Command {
    Command::new(env!("CARGO_BIN_EXE_parkrace"))
}

fn run(args: &[&str]) -> Output {
    parkrace().args(args).output().unwrap()
}

/// Exit 2, and stderr exactly one non-empty line that starts with `parkrace: ` and names
/// `option`.
fn assert_one_line_naming(args: &[&str], option: &str) {
    let o = run(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: not one line: {err:?}");
    let line = lines[0];
    assert!(!line.trim().is_empty(), "{args:?}: an empty line");
    assert!(line.starts_with("parkrace: "), "{args:?}: {line}");
    assert!(
        line.contains(option),
        "{args:?}: does not name {option}: {line}"
    );
    assert!(!line.contains("unexpected argument"), "{args:?}: {line}");
    assert!(o.stdout.is_empty(), "{args:?}: printed {:?}", o.stdout);
}

/// An integer option's four bad values: below its range (if it has one below), above it,
/// negative, and not a number.
fn bad_integers(lo: u128, hi: u128) -> Vec<String> {
    let mut v = vec![
        (hi + 1).to_string(),
        "-1".into(),
        "ten".into(),
        "1.5".into(),
    ];
    if lo > 0 {
        v.push((lo - 1).to_string());
    }
    v
}

/// A duration option's bad values: zero, negative, past 30 days, and not a duration.
const BAD_DURATIONS: [&str; 7] = ["0", "-1", "-5m", "31d", "721h", "99999999h", "soon"];

#[test]
fn every_numeric_option_checks_its_range_at_parse_time() {
    let d = tempfile::tempdir().unwrap();
    let new = d.path().join("new");
    let new = new.to_str().unwrap();
    let max = u64::MAX as u128;
    // (the command's arguments before the option, the option, its range; None: a duration)
    type Case<'a> = (Vec<&'a str>, &'a str, Option<(u128, u128)>);
    let cases: Vec<Case> = vec![
        (vec!["hunt"], "--executions", Some((1, 1_000_000_000))),
        (vec!["hunt"], "--time", None),
        (vec!["hunt"], "--seed", Some((0, max))),
        (vec!["hunt"], "--jobs", Some((1, 1024))),
        (
            vec!["minimize", "no-such.json"],
            "--tries",
            Some((1, 10_000_000)),
        ),
        (vec!["verify"], "--preemptions", Some((0, 8))),
        (vec!["verify"], "--delays", Some((0, 100))),
        (vec!["verify"], "--time", None),
        (vec!["verify"], "--jobs", Some((1, 1024))),
        (vec!["compare"], "--seeds", Some((1, 100_000))),
        (vec!["compare"], "--executions", Some((1, 1_000_000_000))),
        (vec!["compare"], "--time", None),
        (vec!["compare"], "--jobs", Some((1, 1024))),
        (vec!["stress"], "--time", None),
        (vec!["stress"], "--instances", Some((1, 1024))),
        (vec!["stress"], "--seed", Some((0, max))),
        (vec!["stress"], "--runs", Some((1, 100_000))),
        (vec!["stress"], "--events", Some((1, 1000))),
        (vec!["soak", "--out", new], "--time", None),
        (
            vec!["soak", "--out", new, "--time", "1s"],
            "--units",
            Some((1, 1_000_000_000_000)),
        ),
        (
            vec!["soak", "--out", new, "--time", "1s"],
            "--seed",
            Some((0, max)),
        ),
        (
            vec!["soak", "--out", new, "--time", "1s"],
            "--jobs",
            Some((1, 1024)),
        ),
        (
            vec!["soak", "--out", new, "--time", "1s"],
            "--unit-steps",
            Some((1, 1_000_000_000)),
        ),
        (
            vec!["soak", "--out", new, "--time", "1s"],
            "--native-time",
            None,
        ),
        (
            vec!["soak", "--out", new, "--time", "1s"],
            "--minimize-tries",
            Some((1, 10_000_000)),
        ),
        (
            vec!["soak", "--out", new, "--time", "1s"],
            "--key-tries",
            Some((1, 10_000_000)),
        ),
        (vec!["soak", "--resume", new], "--time", None),
        (vec!["soak", "--resume", new], "--jobs", Some((1, 1024))),
    ];
    for (before, option, range) in cases {
        let values: Vec<String> = match range {
            Some((lo, hi)) => bad_integers(lo, hi),
            None => BAD_DURATIONS.iter().map(|s| s.to_string()).collect(),
        };
        for value in &values {
            let mut args = before.clone();
            args.extend([option, value.as_str()]);
            assert_one_line_naming(&args, option);
            // --option=value too.
            let joined = format!("{option}={value}");
            let mut args = before.clone();
            args.push(&joined);
            assert_one_line_naming(&args, option);
        }
    }
    // The short form of --preemptions.
    for value in ["-1", "9", "x"] {
        assert_one_line_naming(&["verify", "-k", value], "--preemptions");
    }
    // --shard I/N: N at most 1,000,000, so that the arithmetic over rounds cannot overflow.
    for value in [
        "0/2",
        "3/2",
        "two",
        "-1/2",
        "5/18446744073709551615",
        "1/1000001",
    ] {
        assert_one_line_naming(
            &["soak", "--out", new, "--time", "1s", "--shard", value],
            "--shard",
        );
    }
    assert!(!Path::new(new).exists(), "a refused soak made its folder");
}

/// The inputs of issue 17 that hung, panicked, aborted or were taken: each is now refused at
/// parse time, in one line naming the option, the value and the range.
#[test]
fn the_large_and_negative_values_of_issue_17_are_refused_in_one_line() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("d");
    let out = out.to_str().unwrap();
    let u64max = "18446744073709551615";
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec![
                "soak", "--units", u64max, "--time", "5s", "-v", "V5", "-s", "park", "--out", out,
            ],
            "--units",
            "1 to 1,000,000,000,000",
        ),
        (
            vec!["stress", "--events", "1000000000", "--time", "1s"],
            "--events",
            "1 to 1000",
        ),
        (
            vec!["stress", "--events", u64max, "--time", "1s"],
            "--events",
            "1 to 1000",
        ),
        (
            vec!["stress", "--instances", "100000"],
            "--instances",
            "1 to 1024",
        ),
        (
            vec!["compare", "--seeds", "100000000"],
            "--seeds",
            "1 to 100,000",
        ),
        (
            vec!["soak", "--unit-steps", u64max, "--time", "5s", "--out", out],
            "--unit-steps",
            "1 to 1,000,000,000",
        ),
        (
            vec!["hunt", "--time", "99999999h"],
            "--time",
            "1ms to 30 days",
        ),
        (
            vec!["stress", "--time", "99999999h"],
            "--time",
            "1ms to 30 days",
        ),
        (vec!["hunt", "--jobs", "0"], "--jobs", "1 to 1024"),
        (vec!["verify", "--jobs", "0"], "--jobs", "1 to 1024"),
        (vec!["compare", "--jobs", "0"], "--jobs", "1 to 1024"),
        (vec!["hunt", "--time", "-1"], "--time", "1ms to 30 days"),
        (
            vec!["hunt", "--seed", "-1"],
            "--seed",
            "0 to 18,446,744,073,709,551,615",
        ),
        (
            vec!["hunt", "--executions", "-5"],
            "--executions",
            "1 to 1,000,000,000",
        ),
        (vec!["verify", "-k", "-1"], "--preemptions", "0 to 8"),
        (
            vec!["minimize", "x.json", "--tries", "-1"],
            "--tries",
            "1 to 10,000,000",
        ),
    ];
    for (args, option, range) in cases {
        assert_one_line_naming(&args, option);
        let err = String::from_utf8_lossy(&run(&args).stderr).to_string();
        assert!(err.contains(range), "{args:?}: no range {range}: {err}");
        let value = args[args
            .iter()
            .position(|a| *a == option || *a == "-k")
            .unwrap()
            + 1];
        assert!(err.contains(&format!("'{value}'")), "{args:?}: {err}");
    }
    assert!(!Path::new(out).exists());
}

#[test]
fn a_missing_argument_is_named() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("m");
    assert_one_line_naming(&["soak", "merge", "--out", out.to_str().unwrap()], "<DIRS>");
    assert_one_line_naming(&["replay"], "<FILE>");
}

/// A repro file that cannot be written (--out is a file) is one line, with no blank line
/// before it, and exit 3.
#[test]
fn hunt_out_on_a_file_is_one_line_and_exit_3() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let o = parkrace()
        .args([
            "hunt",
            "-v",
            "V2",
            "-s",
            "park-unpark",
            "--strategy",
            "random",
        ])
        .args([
            "--executions",
            "2000",
            "--no-minimize",
            "--jobs",
            "1",
            "--out",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.starts_with("parkrace: cannot write"), "{err:?}");
}

/// `soak --units N` with N large counts the units left arithmetically: the campaign ends at
/// its time, promptly, instead of counting 10^12 units one by one.
#[test]
fn a_soak_with_many_units_ends_at_its_time() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("c");
    let mut child = parkrace()
        .args([
            "soak",
            "--units",
            "1000000000000",
            "--time",
            "1s",
            "-v",
            "V5",
            "-s",
            "park",
        ])
        .args([
            "--strategy",
            "random",
            "--unit-steps",
            "2000",
            "--jobs",
            "1",
            "--out",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            let _ = child.wait();
            panic!("soak --units 10^12 --time 1s still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(0));
}

/// The exit codes listed in the "Exit status:" table of a help text.
fn exit_codes(help: &str) -> BTreeSet<u8> {
    let table = help
        .split("Exit status:")
        .nth(1)
        .unwrap_or_else(|| panic!("no exit-status table in:\n{help}"));
    table
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let t = l.strip_prefix("  ")?;
            let (code, _) = t.split_once("  ")?;
            code.parse().ok()
        })
        .collect()
}

#[test]
fn each_command_shows_its_own_exit_status_table() {
    let cases: Vec<(Vec<&str>, &[u8])> = vec![
        (vec!["hunt"], &[0, 1, 2, 3, 4, 130]),
        (vec!["verify"], &[0, 1, 2, 3, 4]),
        (vec!["compare"], &[0, 2, 3, 4]),
        (vec!["stress"], &[0, 1, 2, 4]),
        (vec!["soak"], &[0, 1, 2, 3, 4]),
        (vec!["soak", "merge"], &[0, 1, 2, 3]),
        (vec!["report"], &[0, 1, 2, 3]),
        (vec!["replay"], &[0, 1, 2]),
        (vec!["minimize"], &[0, 1, 2, 3]),
        (vec!["import"], &[0, 1, 2, 3]),
    ];
    for (cmd, codes) in cases {
        let mut args = cmd.clone();
        args.push("--help");
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        let help = String::from_utf8(o.stdout).unwrap();
        let want: BTreeSet<u8> = codes.iter().copied().collect();
        assert_eq!(exit_codes(&help), want, "{args:?}:\n{help}");
        // Its own table: no line of another command's.
        let table = help.split("Exit status:").nth(1).unwrap();
        for other in [
            "hunt:", "replay:", "stress:", "import:", "verify:", "compare:",
        ] {
            assert!(!table.contains(other), "{args:?} shows {other}:\n{table}");
        }
    }
    // The top-level help keeps the whole table, naming every command.
    let help = String::from_utf8(run(&["--help"]).stdout).unwrap();
    assert_eq!(exit_codes(&help), (0..=4).chain([130]).collect());
    for cmd in ["hunt:", "verify:", "compare:", "replay:", "stress:", "soak"] {
        assert!(help.contains(cmd), "--help lacks {cmd}");
    }
}
