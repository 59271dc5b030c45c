//! One place per concept: the switch table, the kernel-history table and the strategy registry
//! give what the hand-written code they replaced gave (the old definitions are copied here as
//! the reference), and every command that searches takes every strategy that applies to it.

use parkrace::history::{self, HISTORY, may_fail, must_catch};
use parkrace::oracle::Oracle::{self, *};
use parkrace::scenario::Scenario;
use parkrace::strategy::{Command as Cmd, Strategy};
use parkrace::tools::compare::{buggy, history_targets, libfuzzer};
use parkrace::tools::fuzz::TARGETS;
use parkrace::variant::{Completer, ParkmeStore, Preset, SWITCHES, Variant};
use serde_json::Value;
use std::process::{Command, Output};

fn parkrace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parkrace"))
        .args(args)
        .output()
        .unwrap()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("parkrace-registry-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

// ---------------------------------------------------------------------------------------------
// The switch table against the presets as they were written out by hand.

fn old_preset(p: Preset) -> Variant {
    let v0 = Variant {
        parkme_store: ParkmeStore::Plain,
        is_parked_bit: true,
        completer: Completer::Thread,
        complete_all: false,
        unpark_reinit: false,
        park_wti: false,
        park_ebusy: false,
        preempt_disabled_complete: false,
        unpark_only_parked: false,
        // Every kernel had every barrier where its code had the site.
        mb_parkme: true,
        mb_smpboot: true,
        mb_ttwu: true,
        rmb_ttwu_on_rq: true,
        rmb_ttwu_on_cpu: true,
        acq_ttwu_on_cpu: true,
        mb_schedule: true,
        rel_finish_on_cpu: true,
        mb_is_parked: true,
        mb_wti_sleep: true,
        // The 2018 presets run on the v4.15-v4.19 scheduler.
        wakelist: false,
        wti_state_mask: false,
        wti_pi_lock: false,
        delayed_dequeue: false,
        wti_force_dequeue: false,
        kthread_started: false,
        bind_rq_lock: false,
    };
    let v1 = Variant {
        parkme_store: ParkmeStore::Mb,
        ..v0
    };
    let v2 = Variant {
        is_parked_bit: false,
        completer: Completer::FinishTaskSwitch,
        complete_all: true,
        unpark_reinit: true,
        ..v1
    };
    let v3 = Variant {
        parkme_store: ParkmeStore::Special,
        completer: Completer::Thread,
        park_wti: true,
        ..v2
    };
    let v3b = Variant {
        complete_all: false,
        unpark_reinit: false,
        park_ebusy: true,
        ..v3
    };
    let v4 = Variant {
        preempt_disabled_complete: true,
        ..v3b
    };
    let v5 = Variant {
        unpark_only_parked: true,
        ..v4
    };
    let v5_612 = Variant {
        wakelist: true,
        wti_state_mask: true,
        wti_pi_lock: true,
        delayed_dequeue: true,
        ..v5
    };
    let v5_616 = Variant {
        wti_force_dequeue: true,
        kthread_started: true,
        ..v5_612
    };
    let mainline = Variant {
        bind_rq_lock: true,
        ..v5_616
    };
    match p {
        Preset::V0 => v0,
        Preset::V1 => v1,
        Preset::V2 => v2,
        Preset::V3 => v3,
        Preset::V3b => v3b,
        Preset::V4 => v4,
        Preset::V5 => v5,
        Preset::V5At612 => v5_612,
        Preset::V5At616 => v5_616,
        Preset::Mainline => mainline,
    }
}

#[test]
fn the_switch_table_gives_the_old_presets_and_round_trips_their_strings() {
    let names: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
    assert_eq!(
        names,
        [
            "V0", "V1", "V2", "V3", "V3b", "V4", "V5", "V5@6.12", "V5@6.16", "mainline"
        ]
    );
    for p in Preset::ALL {
        let v = p.variant();
        assert_eq!(v, old_preset(p), "{p}");
        let s = v.switch_string();
        let back: Variant = s.parse().unwrap();
        assert_eq!(back, v, "{p}: {s}");
        assert_eq!(back.preset(), Some(p));
        assert_eq!(p.name().parse::<Variant>().unwrap(), v);
        assert_eq!(v.to_string(), p.name());
    }
    // The exact strings repro files and soak keys hold.
    assert_eq!(
        Preset::V0.variant().switch_string(),
        "parkme_store=plain,is_parked_bit=on,completer=thread,complete_all=off,\
         unpark_reinit=off,park_wti=off,park_ebusy=off,preempt_disabled_complete=off,\
         unpark_only_parked=off"
    );
    assert_eq!(
        Preset::V2.variant().switch_string(),
        "parkme_store=mb,is_parked_bit=off,completer=finish_task_switch,complete_all=on,\
         unpark_reinit=on,park_wti=off,park_ebusy=off,preempt_disabled_complete=off,\
         unpark_only_parked=off"
    );
}

#[test]
fn every_spelling_of_every_switch_parses_and_errors_read_as_before() {
    let helps: Vec<(&str, String)> = SWITCHES.iter().map(|s| (s.name, s.help())).collect();
    // The nine fix switches, the ten barrier switches of the weak memory model, then the seven
    // switches of the v6.x stacks.
    assert_eq!(helps.len(), 26);
    assert_eq!(
        helps[0],
        (
            "parkme_store",
            "plain | mb | special: how parkme stores PARKED (V1 fence, V3 set_special_state)"
                .to_string()
        )
    );
    assert_eq!(
        helps[2].1,
        "thread | finish_task_switch: who completes `parked` (V2 hook)"
    );
    assert_eq!(
        helps[8].1,
        "on | off: unpark returns unless SHOULD_PARK is set (V5)"
    );
    for s in SWITCHES {
        for value in s.values() {
            let mut v = Preset::V0.variant();
            v.set(s.name, &format!(" {} ", value.to_uppercase()))
                .unwrap();
            assert_eq!(s.get(&v), value);
        }
    }
    let mut v = Preset::V3.variant();
    for (spelling, on) in [("1", true), ("no", false), ("TRUE", true), ("off", false)] {
        v.set("park_wti", spelling).unwrap();
        assert_eq!(v.park_wti, on);
    }
    v.set("completer", "fts").unwrap();
    assert_eq!(v.completer, Completer::FinishTaskSwitch);
    let err = |s: &str| s.parse::<Variant>().unwrap_err();
    assert_eq!(
        err("V3:park_wti=maybe"),
        "switch park_wti: expected on or off, got 'maybe'"
    );
    assert_eq!(
        err("V3:parkme_store=x"),
        "switch parkme_store: expected plain, mb or special, got 'x'"
    );
    assert_eq!(
        err("V3:completer=x"),
        "switch completer: expected thread or finish_task_switch, got 'x'"
    );
    assert_eq!(
        err("V3:bogus=on"),
        "unknown switch 'bogus' (see `parkrace variants`)"
    );
    assert_eq!(
        err("V9"),
        "unknown preset 'V9' (expected V0 V1 V2 V3 V3b V4 V5 V5@6.12 V5@6.16 mainline)"
    );
}

// ---------------------------------------------------------------------------------------------
// The history table against the hand-written verdict expectations it replaced.

fn old_must_catch(p: Preset, scenario: &str) -> bool {
    use Preset::*;
    match p {
        V0 | V1 => matches!(
            scenario,
            "park" | "park-unpark" | "hotplug" | "park-unpark-park"
        ),
        V2 => matches!(
            scenario,
            "park-unpark"
                | "third-party-waker"
                | "preempt-parked"
                | "stale-completion"
                | "stop-unparked"
                | "hotplug"
                | "park-unpark-park"
        ),
        V3 | V3b => matches!(scenario, "wti-latency" | "stop-unparked"),
        V4 => scenario == "stop-unparked",
        V5 | V5At616 | Mainline => false,
        V5At612 => scenario == "create-park",
    }
}

fn old_history_fails(p: Preset) -> &'static [Oracle] {
    match p {
        Preset::V0 | Preset::V1 => &[I1, I1c, I2, I3, I4, I5, I6],
        Preset::V2 => &[I1, I1c, I2, I3, I3s, I4, I5, I6],
        Preset::V3 | Preset::V3b => &[I3s, I8],
        Preset::V4 => &[I3s],
        Preset::V5At612 => &[I8],
        Preset::V5 | Preset::V5At616 | Preset::Mainline => &[],
    }
}

fn old_may_fail(p: Preset, o: Oracle) -> bool {
    old_history_fails(p).contains(&o)
        || (o == I8 && matches!(p, Preset::V0 | Preset::V1 | Preset::V2))
}

#[test]
fn the_history_table_agrees_with_the_old_hand_written_verdicts() {
    let named = Scenario::named();
    for p in Preset::ALL {
        let mut fails = p.history_fails().to_vec();
        let mut old = old_history_fails(p).to_vec();
        fails.sort_by_key(|o| o.name());
        old.sort_by_key(|o| o.name());
        assert_eq!(fails, old, "{p}");
        for o in Oracle::ALL.into_iter().chain([Oracle::Model]) {
            assert_eq!(may_fail(p, o), old_may_fail(p, o), "{p} {o}");
        }
        for s in named
            .iter()
            .map(|s| s.name.as_str())
            .chain(["random-7", "x"])
        {
            assert_eq!(must_catch(p, s), old_must_catch(p, s), "{p} {s}");
            for o in [None, Some(I1), Some(I3s), Some(I8), Some(Oracle::Model)] {
                let old = match o {
                    Some(Oracle::Model) => Some(false),
                    Some(o) => Some(old_may_fail(p, o)),
                    None if old_must_catch(p, s) => Some(false),
                    None if named.iter().any(|n| n.name == s) => Some(true),
                    None => None,
                };
                assert_eq!(history::agrees(Some(p), s, o), old, "{p} {s} {o:?}");
            }
        }
    }
    // Verify's default presets.
    assert_eq!(history::fixed(), FIXED);
    // Compare's buggy targets: every (preset, named scenario) the old must_catch named, in
    // the same order.
    let labels: Vec<String> = buggy().iter().map(|t| t.label()).collect();
    let old: Vec<String> = Preset::ALL
        .into_iter()
        .flat_map(|p| {
            named
                .iter()
                .filter(move |s| old_must_catch(p, &s.name))
                .map(move |s| format!("{p} {}", s.name))
        })
        .collect();
    assert_eq!(labels, old);
    // The 2018 history's 20 rows, then V5@6.12's create-park (model.md d.9).
    assert_eq!(labels.len(), 21);
    assert_eq!(labels[20], "V5@6.12 create-park");
}

/// The presets whose park protocol is fixed (they keep I1 to I6): verify's defaults and the
/// presets of `park_fixed`.
const FIXED: &[Preset] = &[
    Preset::V3,
    Preset::V3b,
    Preset::V4,
    Preset::V5,
    Preset::V5At612,
    Preset::V5At616,
    Preset::Mainline,
];

#[test]
fn the_fuzz_targets_and_libfuzzer_names_are_the_old_ones() {
    let clobber: &[Oracle] = &[I2, I3, I4, I5, I6];
    let old: [(&str, &[Preset], &[Oracle]); 8] = [
        ("park_v0", &[Preset::V0], clobber),
        ("park_v1", &[Preset::V1], clobber),
        ("park_v2", &[Preset::V2], &[I1, I1c, I2, I3, I4, I5, I6]),
        ("park_v3", &[Preset::V3, Preset::V3b], &[I8]),
        ("park_v4", &[Preset::V4], &[I3s]),
        // The first row of a v6.x stack (model.md 0.3, d.9).
        ("park_v5_612", &[Preset::V5At612], &[I8]),
        ("park_fixed", FIXED, &[]),
        // The weak-memory row (model.md m.6), after the SC targets.
        ("park_v0_lkmm", &[Preset::V0], &[I7]),
    ];
    assert_eq!(TARGETS.len(), old.len());
    for (t, (name, presets, crash_on)) in TARGETS.iter().zip(old) {
        assert_eq!(t.name, name);
        assert_eq!(t.presets, presets, "{name}");
        assert_eq!(t.crash_on, crash_on, "{name}");
    }
    assert_eq!(
        TARGETS[6].about,
        "V3-mainline on every oracle kernel history says they satisfy: must never crash"
    );
    for (p, name) in [
        (Preset::V0, "park_v0"),
        (Preset::V1, "park_v1"),
        (Preset::V2, "park_v2"),
        (Preset::V3, "park_v3"),
        (Preset::V3b, "park_v3"),
        (Preset::V4, "park_v4"),
        (Preset::V5, "park_fixed"),
        (Preset::V5At612, "park_v5_612"),
        (Preset::V5At616, "park_fixed"),
        (Preset::Mainline, "park_fixed"),
    ] {
        assert_eq!(libfuzzer::target_name(p), name);
    }
    assert_eq!(HISTORY.len(), Preset::COUNT);
}

// ---------------------------------------------------------------------------------------------
// compare -v / -s alone: history's rows.

fn compare_targets(args: &[&str]) -> (i32, Vec<String>, String) {
    let mut all = vec![
        "compare",
        "--strategy",
        "random",
        "--seeds",
        "1",
        "--executions",
        "1",
        "--json",
        "--jobs",
        "1",
    ];
    all.extend_from_slice(args);
    let out = parkrace(&all);
    let targets = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["target"].as_str().unwrap().to_string()
        })
        .collect();
    (
        out.status.code().unwrap(),
        targets,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn compare_with_only_a_variant_or_only_a_scenario_takes_historys_rows() {
    let (code, targets, _) = compare_targets(&["-v", "V2"]);
    assert_eq!(code, 0);
    assert_eq!(
        targets,
        [
            "V2 park-unpark",
            "V2 third-party-waker",
            "V2 preempt-parked",
            "V2 stale-completion",
            "V2 stop-unparked",
            "V2 hotplug",
            "V2 park-unpark-park",
        ]
    );
    let (code, targets, _) = compare_targets(&["-s", "stop-unparked"]);
    assert_eq!(code, 0);
    assert_eq!(
        targets,
        [
            "V2 stop-unparked",
            "V3 stop-unparked",
            "V3b stop-unparked",
            "V4 stop-unparked",
        ]
    );
    // The v6.12 stack's row (model.md d.9).
    let (code, targets, _) = compare_targets(&["-s", "create-park"]);
    assert_eq!(code, 0);
    assert_eq!(targets, ["V5@6.12 create-park"]);
    for bad in [
        &["-v", "V5"][..],
        &["-v", "V5:park_wti=off"],
        &["-v", "mainline"],
    ] {
        let (code, targets, err) = compare_targets(bad);
        assert_eq!(code, 2, "{bad:?}");
        assert!(targets.is_empty());
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // The library agrees: every preset alone is exactly its rows.
    for p in Preset::ALL {
        let ts = history_targets(&[p.variant()], &[]);
        let want: Vec<String> = history::shows()
            .into_iter()
            .filter(|(q, _)| *q == p)
            .map(|(q, s)| format!("{q} {}", s.name))
            .collect();
        match ts {
            Ok(ts) => assert_eq!(ts.iter().map(|t| t.label()).collect::<Vec<_>>(), want),
            Err(_) => assert!(want.is_empty(), "{p}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Every strategy in every command that searches.

/// Whether the registry says `st` applies to `cmd`; if it does not, the command must refuse it
/// with exit 2 and one line naming the command and the strategy.
fn check_refusal(cmd: Cmd, st: Strategy, out: &Output) -> bool {
    match st.check(cmd) {
        Ok(()) => true,
        Err(_) => {
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{} {st}: {err}", cmd.name());
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(
                err.starts_with(&format!("parkrace: {}: strategy {st} ", cmd.name())),
                "{err}"
            );
            false
        }
    }
}

#[test]
fn each_command_takes_the_strategies_that_apply_to_it() {
    let takes = |cmd: Cmd| -> Vec<String> {
        Strategy::KINDS
            .into_iter()
            .filter(|s| s.check(cmd).is_ok())
            .map(|s| s.to_string())
            .collect()
    };
    let searches = ["random", "pct:3", "pct:2", "urw", "dfs", "focus", "focus:4"];
    let with = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = searches.iter().map(|s| s.to_string()).collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    assert_eq!(takes(Cmd::Hunt), with(&["bytes", "bounded:2"]));
    assert_eq!(
        takes(Cmd::Compare),
        with(&["bytes", "bounded:2", "libfuzzer"])
    );
    let mut soak = with(&["bytes", "bounded:2", "native"]);
    soak.retain(|s| s != "dfs");
    assert_eq!(takes(Cmd::Soak), soak);
    assert_eq!(takes(Cmd::Stress), ["native"]);
}

#[test]
fn every_registered_strategy_parses_in_hunt_compare_soak_and_stress() {
    let out_dir = tmp("hunt");
    let fuzz_bins = tmp("nofuzz");
    std::fs::create_dir_all(&fuzz_bins).unwrap();
    for st in Strategy::KINDS {
        let name = st.to_string();
        // hunt
        let out = parkrace(&[
            "hunt",
            "-v",
            "V2",
            "-s",
            "park-unpark",
            "--strategy",
            &name,
            "--executions",
            "20",
            "--json",
            "--jobs",
            "1",
            "--no-minimize",
            "--out",
            out_dir.to_str().unwrap(),
        ]);
        if check_refusal(Cmd::Hunt, st, &out) {
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "hunt {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["strategy"], name.as_str());
        }
        // compare (libfuzzer: accepted, then refused for want of a built fuzz target)
        let out = Command::new(env!("CARGO_BIN_EXE_parkrace"))
            .args([
                "compare",
                "-v",
                "V2",
                "-s",
                "park-unpark",
                "--strategy",
                &name,
                "--seeds",
                "1",
                "--executions",
                "20",
                "--json",
                "--jobs",
                "1",
            ])
            .env("PARKRACE_FUZZ_BIN_DIR", &fuzz_bins)
            .output()
            .unwrap();
        if check_refusal(Cmd::Compare, st, &out) {
            let err = String::from_utf8_lossy(&out.stderr);
            if st == Strategy::LibFuzzer {
                assert_eq!(out.status.code(), Some(2), "{err}");
                assert!(err.contains("no fuzz target"), "{err}");
            } else {
                assert_eq!(out.status.code(), Some(0), "compare {name}: {err}");
                let v: Value = serde_json::from_slice(&out.stdout).unwrap();
                assert_eq!(v["strategy"], name.as_str());
            }
        }
        // soak
        let dir = tmp(&format!("soak-{}", name.replace(':', "-")));
        let out = parkrace(&[
            "soak",
            "--units",
            "1",
            "--out",
            dir.to_str().unwrap(),
            "-v",
            "V5",
            "-s",
            "park-unpark",
            "--strategy",
            &name,
            "--unit-steps",
            "2000",
            "--native-time",
            "50ms",
            "--seed",
            "1",
            "--jobs",
            "1",
        ]);
        if check_refusal(Cmd::Soak, st, &out) {
            assert_eq!(
                out.status.code(),
                Some(0),
                "soak {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
        // stress (native only; the run itself is the stress tests' business)
        let out = parkrace(&[
            "stress",
            "-v",
            "V5",
            "-s",
            "park",
            "--strategy",
            &name,
            "--time",
            "50ms",
            "--instances",
            "1",
            "--json",
        ]);
        if check_refusal(Cmd::Stress, st, &out) {
            assert_eq!(out.status.code(), Some(0));
        }
    }
    let out = parkrace(&["soak", "--units", "1", "--out", "x", "--strategy", "bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "parkrace: unknown strategy 'bogus' (expected random, pct, pct:D, urw, dfs, focus, \
         focus:N, bytes, bounded:K, libfuzzer or native)\n"
    );
    let _ = std::fs::remove_dir_all(&out_dir);
    let _ = std::fs::remove_dir_all(&fuzz_bins);
}

#[test]
fn hunt_with_bytes_finds_the_v2_race_and_its_repro_replays() {
    let dir = tmp("bytes");
    let out = parkrace(&[
        "hunt",
        "-v",
        "V2",
        "-s",
        "park-unpark",
        "--strategy",
        "bytes",
        "--executions",
        "20000",
        "--json",
        "--jobs",
        "1",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["agrees_with_history"], true);
    assert!(v["violation"].is_object(), "{v}");
    let repro = v["repro"].as_str().unwrap();
    let out = parkrace(&["replay", repro]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
