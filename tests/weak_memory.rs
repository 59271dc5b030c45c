//! Weak memory (docs/model.md m): the option on every command, V0's lost wakeup that V1's
//! barrier removes, minimization and replay of a reordering, `parkrace barriers`, and the
//! rule that under `sc` nothing changes. Fixed seeds and budgets throughout.

mod common;

use common::{bytes, json_lines, parkrace};
use parkrace::oracle::{Oracle, OracleSet};
use parkrace::scenario::{Memory, Scenario};
use parkrace::tools::explore::run_bytes;
use parkrace::variant::{BARRIERS, Preset};
use std::process::Output;

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr)
}

#[test]
fn v0_hangs_under_lkmm_and_v1s_barrier_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let o = parkrace(&[
        "hunt",
        "--memory",
        "lkmm",
        "-v",
        "V0",
        "-v",
        "V1",
        "-s",
        "park-unpark",
        "--no-minimize",
        "--json",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let rows = json_lines(&o.stdout);
    assert_eq!(rows.len(), 4);
    for r in &rows {
        assert_eq!(r["memory"], "lkmm");
        // Under a weak model the default oracles are those history says each preset keeps.
        assert_eq!(r["agrees_with_history"], true, "{r}");
        match r["variant"].as_str().unwrap() {
            "V0" => assert_eq!(r["violation"]["oracle"], "I7", "{r}"),
            "V1" => assert!(r["violation"].is_null(), "{r}"),
            v => panic!("{v}"),
        }
    }
    // The same hunt under sc: V0's SC verdicts only (it keeps I7 there).
    let o = parkrace(&[
        "hunt",
        "--memory",
        "sc",
        "-v",
        "V0",
        "-s",
        "park-unpark",
        "--oracles",
        "I7",
        "--executions",
        "3000",
        "--json",
        "--no-minimize",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    for r in json_lines(&o.stdout) {
        assert!(r["violation"].is_null(), "V0 hangs under sc: {r}");
    }
}

#[test]
fn the_witness_minimizes_and_replays_with_the_store_it_missed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = parkrace(&[
        "hunt",
        "--memory",
        "lkmm",
        "-v",
        "V0",
        "-s",
        "park-unpark",
        "--strategy",
        "urw",
        "--no-minimize",
        "--out",
        out,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let found = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("lkmm"))
        .expect("a repro file whose name carries the memory model");
    let min = dir.path().join("min.json");
    let o = parkrace(&[
        "minimize",
        found.to_str().unwrap(),
        "-o",
        min.to_str().unwrap(),
        "--tries",
        "60000",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let m = &json_lines(&o.stdout)[0];
    assert_eq!(m["oracle"], "I7");
    let cost = |v: &serde_json::Value| {
        v["preemptions"].as_u64().unwrap() + v["reorderings"].as_u64().unwrap()
    };
    assert!(cost(&m["after"]) < cost(&m["before"]), "{m}");
    // A hang under lkmm needs at least one reordering: SC has none.
    assert!(m["after"]["reorderings"].as_u64().unwrap() >= 1, "{m}");
    let o = parkrace(&["replay", min.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("memory lkmm"), "{t}");
    assert!(t.contains("^ stale"), "the load that missed a store: {t}");
    assert!(
        t.contains("not yet visible to this CPU") || t.contains("no full barrier since"),
        "why the load missed it: {t}"
    );
    // The brief table keeps the memory events.
    let o = parkrace(&["replay", "--brief", min.to_str().unwrap()]);
    assert!(text(&o).contains("^ stale"), "{}", text(&o));
}

#[test]
fn under_sc_no_barrier_switch_changes_anything() {
    // Every preset with each of its barriers removed takes exactly the same executions as the
    // preset itself under sc: same verdict, same steps, same trace.
    let scenario = Scenario::by_name("park-unpark").unwrap();
    for p in [Preset::V0, Preset::V1, Preset::V5] {
        let v = p.variant();
        for seed in 0..4 {
            let b = bytes(seed, 200);
            let base = run_bytes(&scenario, v, OracleSet::all(), &b);
            for barrier in BARRIERS {
                let r = run_bytes(&scenario, barrier.removed(v), OracleSet::all(), &b);
                assert_eq!(
                    r.outcome.steps, base.outcome.steps,
                    "{p} {}",
                    barrier.switch
                );
                assert_eq!(
                    r.outcome.trace, base.outcome.trace,
                    "{p} {}",
                    barrier.switch
                );
                assert_eq!(r.reorderings(), 0);
            }
        }
    }
}

#[test]
fn sc_is_the_default_and_the_flag_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "hunt",
            "-v",
            "V2",
            "-s",
            "park-unpark",
            "--quick",
            "--json",
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        let o = parkrace(&args);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        json_lines(&o.stdout)
            .into_iter()
            .map(|mut r| {
                r.as_object_mut().unwrap().remove("elapsed_ms");
                r
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(&[]), run(&["--memory", "sc"]));
}

#[test]
fn a_weak_memory_search_reaches_stale_reads_that_sc_never_takes() {
    let scenario = Scenario::by_name("park-unpark@lkmm").unwrap();
    assert_eq!(scenario.memory, Memory::Lkmm);
    let sc = Scenario::by_name("park-unpark").unwrap();
    let v = Preset::V5.variant();
    let mut stale = 0;
    for seed in 0..20 {
        let b = bytes(seed, 300);
        let r = run_bytes(&scenario, v, OracleSet::all(), &b);
        assert!(
            r.outcome.violation.is_none(),
            "V5 under lkmm: {:?}",
            r.outcome.violation
        );
        stale += r.reorderings();
        // A zero schedule is the SC schedule: the same execution under both models (the
        // barriers, drawn only under a weak model, aside).
        let plain = |t: Vec<parkrace::runtime::trace::Event>| -> Vec<_> {
            t.into_iter()
                .filter(|e| e.what.class() != parkrace::runtime::trace::Class::Memory)
                .collect()
        };
        let z = run_bytes(&scenario, v, OracleSet::all(), &[]);
        assert_eq!(z.reorderings(), 0);
        let same =
            plain(run_bytes(&sc, v, OracleSet::all(), &[]).outcome.trace) == plain(z.outcome.trace);
        assert!(same, "a zero schedule differs between sc and lkmm");
    }
    assert!(stale > 0, "random bytes take some reorderings");
}

#[test]
fn tso_shows_v0s_hang_too_if_rarely() {
    let o = parkrace(&[
        "hunt",
        "--memory",
        "tso",
        "-v",
        "V0",
        "-s",
        "park-unpark",
        "--strategy",
        "urw",
        "--oracles",
        "I7",
        "--executions",
        "40000",
        "--no-minimize",
        "--json",
        "--out",
        tempfile::tempdir().unwrap().path().to_str().unwrap(),
    ]);
    let r = &json_lines(&o.stdout)[0];
    assert_eq!(r["memory"], "tso");
    assert_eq!(r["violation"]["oracle"], "I7", "{r}");
}

#[test]
fn barriers_names_the_load_bearing_ones_with_repros_that_replay() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = parkrace(&[
        "barriers",
        "-v",
        "V1",
        "-s",
        "park-unpark",
        "--executions",
        "1500",
        "--no-minimize",
        "--json",
        "--out",
        out,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let rows = json_lines(&o.stdout);
    // The variant itself first, then each barrier V1 has (mb_parkme, mb_is_parked among them).
    assert!(rows[0]["barrier"].is_null());
    assert_eq!(rows[0]["verdict"], "clean");
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["barrier"] == name)
            .unwrap_or_else(|| panic!("no row {name}"))
    };
    let parkme = row("mb_parkme");
    assert_eq!(parkme["verdict"], "load-bearing", "{parkme}");
    assert_eq!(parkme["violation"]["oracle"], "I7");
    assert_eq!(parkme["variant"], "V1:mb_parkme=off");
    let file = parkme["repro"].as_str().unwrap();
    let o = parkrace(&["replay", file]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // A barrier whose site a variant does not have is no row: V5 parks with
    // set_special_state, so V1's parkme fence is not among its barriers.
    let v5: Vec<&str> = parkrace::tools::barriers::present(&Preset::V5.variant())
        .iter()
        .map(|b| b.switch)
        .collect();
    assert!(
        !v5.contains(&"mb_parkme") && v5.contains(&"mb_ttwu"),
        "{v5:?}"
    );
    // Under sc the question is refused.
    let o = parkrace(&["barriers", "--memory", "sc"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(text(&o).lines().count(), 1, "{}", text(&o));
}

#[test]
fn verify_counts_a_reordering_like_a_preemption() {
    let bound = |memory: &str, k: &str| {
        let o = parkrace(&[
            "verify",
            "-v",
            "V5",
            "-s",
            "park",
            "-k",
            k,
            "--memory",
            memory,
            "--json",
            "--no-state-cache",
            "--out",
            tempfile::tempdir().unwrap().path().to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        json_lines(&o.stdout).remove(0)
    };
    let sc0 = bound("sc", "0");
    let lk0 = bound("lkmm", "0");
    // K = 0 allows no reordering: the same schedules as SC.
    assert_eq!(sc0["schedules"], lk0["schedules"], "{sc0} {lk0}");
    assert_eq!(lk0["memory"], "lkmm");
    let sc1 = bound("sc", "1");
    let lk1 = bound("lkmm", "1");
    assert!(
        lk1["schedules"].as_u64().unwrap() > sc1["schedules"].as_u64().unwrap(),
        "{sc1} {lk1}"
    );
    assert_eq!(lk1["verified"], true, "{lk1}");
}

#[test]
fn a_repro_file_from_before_weak_memory_still_reads_as_sc_with_every_barrier() {
    let dir = tempfile::tempdir().unwrap();
    let old = common::old_repro_file(dir.path(), |v| {
        v["scenario"].as_object_mut().unwrap().remove("memory");
        for b in BARRIERS {
            v["variant"].as_object_mut().unwrap().remove(b.switch);
        }
    });
    let o = parkrace(&["replay", old.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json_lines(&o.stdout)[0]["reproduced"], true);
}

#[test]
fn i7_is_what_v0_adds_and_history_knows_it() {
    use parkrace::history::agrees_under;
    let pu = Scenario::by_name("park-unpark@lkmm").unwrap();
    let kept = parkrace::history::kept(&Preset::V0.variant());
    assert!(kept.contains(Oracle::I7));
    assert_eq!(
        agrees_under(Some(Preset::V0), &pu, Some(Oracle::I7), kept),
        Some(true)
    );
    assert_eq!(agrees_under(Some(Preset::V0), &pu, None, kept), Some(false));
    assert_eq!(agrees_under(Some(Preset::V1), &pu, None, kept), Some(true));
    let sc = Scenario::by_name("park-unpark").unwrap();
    assert_eq!(
        agrees_under(Some(Preset::V0), &sc, Some(Oracle::I7), kept),
        Some(false),
        "under sc V0 keeps I7"
    );
}
