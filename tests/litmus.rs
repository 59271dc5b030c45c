//! The litmus suite: every `tests/litmus/*.litmus` file answered under `lkmm`, `sc` and `tso`,
//! each against the verdict its comment states (`Result:` is LKMM's, `sc:` and `tso:` what a
//! sequentially consistent machine and x86-TSO allow), except the rows of [`LIMITS`]; and
//! `parkrace litmus` on the command line.

mod common;

use parkrace::scenario::Memory;
use parkrace::tools::litmus::{self, Verdict};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The known limitations of the model against the verdict a file states: (file name without
/// `.litmus`, memory model, the model's verdict, why). Each row is asserted to give its
/// verdict, so that a change of the model that fixes one shows up here as a failure.
const LIMITS: &[(&str, Memory, Verdict, &str)] = &[(
    "LB",
    Memory::Lkmm,
    Verdict::Never,
    "the memory model keeps no promises: a store is never read before its thread has \
         issued it, so load buffering is out of reach",
)];

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/litmus")
}

/// Every suite file: (name without `.litmus`, its text).
fn suite() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(suite_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "litmus"))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the suite has {} files", files.len());
    files
}

/// The verdict a file's comment states for `memory` (`Result:` for lkmm, `sc:`, `tso:`).
fn stated(text: &str, memory: Memory) -> Verdict {
    let key = match memory {
        Memory::Lkmm => "Result:",
        Memory::Sc => "sc:",
        Memory::Tso => "tso:",
    };
    text.lines()
        .map(|l| l.trim_start_matches([' ', '*']).trim())
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no '{key}' line in\n{text}"))
        .parse()
        .unwrap()
}

fn limit(
    name: &str,
    memory: Memory,
) -> Option<&'static (&'static str, Memory, Verdict, &'static str)> {
    LIMITS
        .iter()
        .find(|(n, m, _, _)| *n == name && *m == memory)
}

/// Answer every suite file under `memory`; fail listing every file whose verdict is not
/// the one expected.
fn run_suite(memory: Memory) {
    let mut wrong = Vec::new();
    for (name, text) in suite() {
        let t = litmus::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.name, name, "the C line names the file");
        let a = litmus::check(&t, memory).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = match limit(&name, memory) {
            Some((_, _, v, _)) => *v,
            None => stated(&text, memory),
        };
        eprintln!(
            "{name:<22} {memory:<5} {:<9} ({} executions)",
            a.verdict, a.executions
        );
        if a.verdict != expected {
            wrong.push(format!(
                "{name}: {} under {memory}, expected {expected}",
                a.verdict
            ));
        }
        assert_eq!(
            a.witness.is_some(),
            a.verdict == Verdict::Sometimes,
            "{name}"
        );
        if let Some(w) = &a.witness {
            assert!(
                t.exists.holds(&w.state),
                "{name}: the witness satisfies exists"
            );
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_suite_under_lkmm_gives_lkmms_verdicts_but_for_the_known_limitations() {
    run_suite(Memory::Lkmm);
}

#[test]
fn the_suite_under_sc_finds_only_sequentially_consistent_outcomes() {
    run_suite(Memory::Sc);
}

#[test]
fn the_suite_under_tso_opens_only_store_to_load_reordering() {
    run_suite(Memory::Tso);
}

/// The expectations themselves: a limitation row names a file and contradicts its stated
/// verdict; what `sc` allows, `tso` and LKMM allow; and under `tso` exactly the tests whose
/// outcome needs only a store followed by a load of another location to be reordered open
/// up beyond `sc`.
#[test]
fn the_suites_expectations_are_consistent() {
    let files = suite();
    for (name, memory, verdict, why) in LIMITS {
        let (_, text) = files
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("limitation row {name} names no file"));
        assert_ne!(stated(text, *memory), *verdict, "{name}: {why}");
        assert!(!why.is_empty());
    }
    let mut opened = Vec::new();
    for (name, text) in &files {
        let sc = stated(text, Memory::Sc);
        if sc == Verdict::Sometimes {
            assert_eq!(stated(text, Memory::Tso), Verdict::Sometimes, "{name}");
            assert_eq!(stated(text, Memory::Lkmm), Verdict::Sometimes, "{name}");
        } else if stated(text, Memory::Tso) == Verdict::Sometimes {
            opened.push(name.as_str());
        }
    }
    assert_eq!(opened, ["R", "SB", "SB+rel+acq"]);
}

// ---- the command line ----

fn parkrace(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_parkrace"))
        .arg("litmus")
        .args(args)
        .output()
        .unwrap()
}

fn suite_file(name: &str) -> String {
    suite_dir()
        .join(format!("{name}.litmus"))
        .display()
        .to_string()
}

#[test]
fn a_sometimes_prints_its_witness_and_a_never_one_line() {
    let out = parkrace(&[&suite_file("MP"), &suite_file("MP+wmb+rmb")]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("MP: Sometimes under lkmm ("), "{text}");
    assert!(
        lines[1].starts_with("  witness: 1:r0=1 1:r1=0 | x=1 y=1"),
        "{text}"
    );
    assert!(text.contains("  v0 = x, v1 = y"), "{text}");
    assert!(text.contains("READ_ONCE: reads v0 == 0"), "{text}");
    let never: Vec<&&str> = lines.iter().filter(|l| !l.starts_with("  ")).collect();
    assert_eq!(never.len(), 2, "{text}");
    assert!(
        never[1].starts_with("MP+wmb+rmb: Never under lkmm ("),
        "{text}"
    );
    let sc = parkrace(&["--memory", "sc", &suite_file("MP")]);
    let text = String::from_utf8_lossy(&sc.stdout);
    assert!(text.starts_with("MP: Never under sc ("), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
}

#[test]
fn json_has_one_object_per_file_with_its_fields() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.litmus");
    std::fs::write(
        &bad,
        "C bad\n{}\nP0(int *x) { smp_store_mb(x, 1); }\nexists (x=1)\n",
    )
    .unwrap();
    let bad = bad.display().to_string();
    let out = parkrace(&[
        "--json",
        "--memory",
        "tso",
        &suite_file("SB"),
        &bad,
        &suite_file("CoWW"),
    ]);
    assert_eq!(out.status.code(), Some(2), "a file not accepted: exit 2");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = common::json_lines(&out.stdout);
    assert_eq!(v.len(), 3);
    let fields = ["file", "verdict", "memory", "executions", "witness"];
    for o in &v {
        common::assert_fields(o, &fields);
        assert_eq!(o["memory"], "tso");
    }
    assert_eq!(v[0]["verdict"], "Sometimes");
    assert_eq!(v[0]["name"], "SB");
    let w = &v[0]["witness"];
    assert!(
        w["bytes"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_hexdigit())
    );
    assert_eq!(w["registers"]["0:r0"], 0);
    assert_eq!(w["registers"]["1:r0"], 0);
    assert_eq!(w["finals"]["x"], 1);
    assert!(v[0]["executions"].as_u64().unwrap() >= 1);
    assert_eq!(v[1]["file"], bad.as_str());
    assert!(v[1]["verdict"].is_null() && v[1]["witness"].is_null());
    assert!(v[1]["error"].as_str().unwrap().contains("smp_store_mb"));
    assert_eq!(v[2]["verdict"], "Never");
    assert!(v[2]["witness"].is_null());
}

#[test]
fn an_unsupported_construct_is_one_line_naming_it_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "P0(int *x) { int r0; r0 = READ_ONCE(*x); while (r0) { } }",
            "while",
            3,
        ),
        ("P0(atomic_t *v) { atomic_inc(v); }", "atomic_t", 3),
        ("P0(int *x) {\n  rcu_read_lock();\n}", "rcu_read_lock", 4),
        ("P0(int *x) { int r0;\n r0 = *x; }", "plain C accesses", 4),
    ];
    for (i, (body, word, line)) in cases.into_iter().enumerate() {
        let f = dir.path().join(format!("t{i}.litmus"));
        std::fs::write(&f, format!("C t{i}\n{{}}\n{body}\nexists (x=1)\n")).unwrap();
        let shown = f.display().to_string();
        // A good file after it is still answered.
        let out = parkrace(&[&shown, &suite_file("CoRR")]);
        assert_eq!(out.status.code(), Some(2), "{body}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(word), "{err}");
        assert!(err.contains(&format!("{shown}: line {line}: ")), "{err}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("CoRR: Never under lkmm"), "{text}");
    }
    let tilde = dir.path().join("tilde.litmus");
    std::fs::write(
        &tilde,
        "C t\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\n~exists (x=1)\n",
    )
    .unwrap();
    let out = parkrace(&[&tilde.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("~exists"));
    let missing = parkrace(&["/no/such/file.litmus"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read it"));
    let usage = parkrace(&["--memory", "arm", &suite_file("SB")]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn help_has_the_exit_table() {
    let out = parkrace(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Exit status:") && text.contains("not accepted"),
        "{text}"
    );
}
