//! Model sanity: self-checks never fire, the step bound is I7, every switch combination runs,
//! and executions replay exactly.

mod common;
use common::run;
use parkrace::oracle::{Oracle, OracleSet};
use parkrace::scenario::Scenario;
use parkrace::strategy::Strategy;
use parkrace::tools::explore::{Hunt, hunt, replay};
use parkrace::variant::{Completer, ParkmeStore, Preset, Variant};

#[test]
fn scheduler_self_checks_hold_on_random_scenarios_for_every_preset() {
    // Only the self-checks (and I7) enabled: any Model violation is a bug in the model.
    let oracles = OracleSet::of(&[Oracle::I7]);
    for p in Preset::ALL {
        for seed in 0..40 {
            let s = Scenario::random(seed);
            let r = hunt(&Hunt {
                variant: p.variant(),
                scenario: s.clone(),
                strategy: Strategy::Random,
                oracles,
                executions: 300,
                time: None,
                seed,
            });
            if let Some(f) = r.found {
                panic!(
                    "{p} {} ({}): {}",
                    s.name,
                    s.describe(),
                    f.outcome.violation.unwrap()
                );
            }
        }
    }
}

#[test]
fn every_switch_combination_runs() {
    let oracles = OracleSet::of(&[Oracle::I7]);
    let mut n = 0;
    for store in [ParkmeStore::Plain, ParkmeStore::Mb, ParkmeStore::Special] {
        for completer in [Completer::Thread, Completer::FinishTaskSwitch] {
            for bits in 0..128u32 {
                let b = |i: u32| bits & (1 << i) != 0;
                let v = Variant {
                    parkme_store: store,
                    completer,
                    is_parked_bit: b(0),
                    complete_all: b(1),
                    unpark_reinit: b(2),
                    park_wti: b(3),
                    park_ebusy: b(4),
                    preempt_disabled_complete: b(5),
                    unpark_only_parked: b(6),
                    // The barrier switches change nothing under SC.
                    ..Variant::default()
                };
                for s in ["park-unpark", "stale-completion"] {
                    let r = run(v, s, Strategy::Random, oracles, 20, n);
                    if let Some(f) = r.found {
                        let viol = f.outcome.violation.unwrap();
                        // Hangs are legitimate for broken combinations; model bugs are not.
                        assert_ne!(
                            viol.oracle,
                            Oracle::Model,
                            "{} on {s}: {viol}",
                            v.switch_string()
                        );
                    }
                    n += 1;
                }
            }
        }
    }
}

#[test]
fn step_bound_is_reported_as_i7() {
    let mut s = Scenario::by_name("park-unpark").unwrap();
    s.max_steps = 10;
    let r = hunt(&Hunt {
        variant: Preset::V5.variant(),
        scenario: s,
        strategy: Strategy::Random,
        oracles: OracleSet::all(),
        executions: 10,
        time: None,
        seed: 1,
    });
    let v = r.found.expect("I7").outcome.violation.unwrap();
    assert_eq!(v.oracle, Oracle::I7);
    assert!(v.detail.contains("step bound"), "{}", v.detail);
}

#[test]
fn recorded_decisions_replay_to_the_same_trace() {
    for (p, s) in [
        (Preset::V2, "park-unpark"),
        (Preset::V2, "stale-completion"),
        (Preset::V3, "wti-latency"),
    ] {
        let sc = Scenario::by_name(s).unwrap();
        let r = run(
            p.variant(),
            s,
            Strategy::Random,
            OracleSet::all(),
            20_000,
            3,
        );
        let f = r.found.unwrap_or_else(|| panic!("{p} {s}"));
        let rep = replay(&sc, p.variant(), OracleSet::all(), &f.decisions);
        assert_eq!(rep.diverged, None);
        assert_eq!(rep.outcome.violation, f.outcome.violation);
        assert_eq!(rep.outcome.trace, f.outcome.trace);
    }
}

#[test]
fn the_same_seed_finds_the_same_execution() {
    let a = run(
        Preset::V2.variant(),
        "park-unpark-park",
        Strategy::Pct(4),
        OracleSet::all(),
        20_000,
        11,
    );
    let b = run(
        Preset::V2.variant(),
        "park-unpark-park",
        Strategy::Pct(4),
        OracleSet::all(),
        20_000,
        11,
    );
    let (fa, fb) = (a.found.unwrap(), b.found.unwrap());
    assert_eq!(fa.execution, fb.execution);
    assert_eq!(fa.decisions, fb.decisions);
}
