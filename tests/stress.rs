//! Native-thread stress: the fixed presets run clean, delay injection finds the seed's V2 race,
//! a violation comes with every task's last events, and the command line reports, exits and
//! stops as documented.

mod common;

use parkrace::engine::native::Delay;
use parkrace::history::may_fail;
use parkrace::oracle::{Oracle, OracleSet};
use parkrace::runtime::trace::What;
use parkrace::scenario::Scenario;
use parkrace::tools::stress::{Config, Report, Target, run};
use parkrace::variant::Preset;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

fn stress(targets: Vec<Target>, time: Duration, delay: bool, first: bool, seed: u64) -> Report {
    let cfg = Config {
        targets,
        time,
        instances: 2,
        delay: delay.then(Delay::default),
        seed,
        first,
        events: 24,
    };
    run(&cfg, &AtomicBool::new(false), |_| {})
}

fn target(p: Preset, scenario: &str, oracles: OracleSet) -> Target {
    Target::new(p.variant(), Scenario::by_name(scenario).unwrap(), oracles)
}

#[test]
fn fixed_presets_run_clean_on_every_named_scenario() {
    for p in [Preset::V3, Preset::V3b, Preset::V4, Preset::V5] {
        let oracles = parkrace::history::kept(&p.variant());
        let targets = Scenario::named()
            .iter()
            .map(|s| target(p, &s.name, oracles))
            .collect();
        let r = stress(targets, Duration::from_secs(2), true, false, 11);
        for t in &r.targets {
            assert!(
                t.found.is_empty(),
                "{p} on {}: {:?}",
                t.target.scenario.name,
                t.found.values().map(|f| &f.violation).collect::<Vec<_>>()
            );
            assert!(
                t.cycles > 0,
                "{p} on {} ran no cycle",
                t.target.scenario.name
            );
        }
        assert!(r.cycles() >= 100, "{p}: only {} cycles", r.cycles());
    }
}

#[test]
fn delay_injection_finds_the_seed_race_on_v2_with_every_task_s_last_events() {
    // Found in milliseconds on an idle machine; the bound is for a loaded CI machine.
    let r = stress(
        vec![target(Preset::V2, "park-unpark", OracleSet::all())],
        Duration::from_secs(120),
        true,
        true,
        5,
    );
    let t = &r.targets[0];
    let (oracle, f) = t.found.iter().next().expect("V2's race is found");
    assert!(may_fail(Preset::V2, *oracle), "{oracle} is not one of V2's");
    assert_eq!(f.expected, Some(true));
    assert!(r.elapsed < Duration::from_secs(120));
    // The violation itself is among the events, and both C and K have events to show.
    assert!(
        f.events
            .iter()
            .any(|e| e.what == What::Violation { oracle: *oracle })
    );
    for who in ["C", "K"] {
        let id = f.names.iter().position(|n| n == who).unwrap();
        assert!(f.events.iter().any(|e| e.task == id), "no events of {who}");
    }
    // The ring is bounded: per task at most the cap before the violation froze it.
    let before: Vec<_> = f
        .events
        .iter()
        .filter(|e| e.step < f.violation.step)
        .collect();
    for id in 0..f.names.len() {
        assert!(before.iter().filter(|e| e.task == id).count() <= 24);
    }
    assert!(r.text().contains("VIOLATION"));
}

#[test]
fn park_unpark_cycles_run_back_to_back_in_one_world() {
    let r = stress(
        vec![target(Preset::V5, "park-unpark", OracleSet::all())],
        Duration::from_secs(1),
        false,
        false,
        3,
    );
    let t = &r.targets[0];
    assert!(t.found.is_empty());
    // One world per instance per 200 ms slice, many cycles in each.
    assert!(t.worlds <= 2 * 6, "{} worlds", t.worlds);
    assert!(
        t.cycles >= 10 * t.worlds,
        "{} cycles in {} worlds",
        t.cycles,
        t.worlds
    );
}

#[test]
fn stop_of_a_never_parked_thread_warns_natively_on_v4_only() {
    let r = stress(
        vec![
            target(Preset::V4, "stop-unparked", OracleSet::all()),
            target(Preset::V5, "stop-unparked", OracleSet::all()),
        ],
        Duration::from_secs(2),
        false,
        false,
        9,
    );
    assert!(r.targets[0].found.contains_key(&Oracle::I3s));
    assert!(r.targets[1].found.is_empty());
    assert!(!r.contradicts_history());
}

fn parkrace() -> Command {
    Command::new(env!("CARGO_BIN_EXE_parkrace"))
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    for args in [
        &["--time", "0"][..],
        &["--time", "soon"],
        &["--instances", "0"],
        &["--runs", "0"],
        &["--events", "0"],
        &["--variant", "V9"],
        &["--scenario", "nope"],
        &["--oracles", "I99"],
        &["--seed", "-1"],
    ] {
        let out = parkrace().arg("stress").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("parkrace: "), "{args:?}: {err}");
    }
}

#[test]
fn json_reports_the_documented_fields_and_the_exit_status_tells_a_violation() {
    let out = parkrace()
        .args(["stress", "-v", "V5", "-s", "park-unpark", "--time", "1s"])
        .args(["--json", "--seed", "4", "--instances", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    common::assert_fields(
        &j,
        &[
            "seed",
            "instances",
            "delay",
            "elapsed_ms",
            "cycles",
            "cycles_per_sec",
            "violations",
            "first_violation_ms",
            "targets",
        ],
    );
    assert_eq!(j["seed"], 4);
    assert!(j["cycles"].as_u64().unwrap() > 0);
    assert!(j["first_violation_ms"].is_null());

    let out = parkrace()
        .args(["stress", "-v", "V4", "-s", "stop-unparked", "--time", "20s"])
        .args(["--json", "--first", "--no-delay", "--oracles", "I3s"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let v = &j["targets"][0]["violations"][0];
    assert_eq!(v["oracle"], "I3s");
    assert_eq!(v["expected_by_history"], true);
    assert!(!v["events"].as_array().unwrap().is_empty());
    // Every instance may finish the world it has in flight.
    assert!((1..=2).contains(&j["violations"]["I3s"].as_u64().unwrap()));
}

#[test]
fn runs_report_the_share_that_found_a_violation() {
    let out = parkrace()
        .args([
            "stress",
            "-v",
            "V2",
            "-s",
            "stale-completion",
            "--time",
            "20s",
        ])
        .args(["--runs", "3", "--seed", "100"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with("run ")).count(), 3);
    assert!(text.contains("(seed 102)"), "{text}");
    assert!(text.contains("found a violation in 3 of 3 runs"), "{text}");
}

#[test]
#[cfg(unix)]
fn ctrl_c_stops_the_run_and_still_prints_its_report() {
    let child = parkrace()
        .args(["stress", "-v", "V5", "-s", "park-unpark", "--time", "10m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("interrupted"), "{text}");
    assert!(text.contains("no violation"), "{text}");
}
