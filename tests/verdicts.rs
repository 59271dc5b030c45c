//! The verdict matrix of model.md (e): buggy presets are caught on their scenarios by fixed-seed
//! runs within stated budgets; fixed presets stay clean on the oracles history says they
//! satisfy; I8 separates V3/V3b from V4; I3s separates V2-V4 from V5.

mod common;
use common::run;
use parkrace::history::must_catch;
use parkrace::oracle::{Oracle, OracleSet};
use parkrace::scenario::Scenario;
use parkrace::strategy::Strategy;
use parkrace::variant::Preset;

/// Budget within which a buggy preset must be caught with the random scheduler, seed 1.
const CATCH_BUDGET: usize = 2_000;

#[test]
fn buggy_presets_are_caught_on_their_scenarios_with_oracles_history_allows() {
    for p in Preset::ALL {
        for s in Scenario::named() {
            if !must_catch(p, &s.name) {
                continue;
            }
            let r = run(
                p.variant(),
                &s.name,
                Strategy::Random,
                OracleSet::all(),
                CATCH_BUDGET,
                1,
            );
            let f = r
                .found
                .unwrap_or_else(|| panic!("{p} not caught on {} within {CATCH_BUDGET}", s.name));
            let o = f.outcome.violation.as_ref().unwrap().oracle;
            assert!(
                parkrace::history::may_fail(p, o),
                "{p} on {}: {o} is not an oracle history says it fails",
                s.name
            );
        }
    }
}

#[test]
fn the_seed_race_is_caught_by_every_shuttle_strategy() {
    // d.1/d.2 on the seed's scenario: V0, V1 and V2 break I5 (the stale ttwu store) and I1.
    for p in [Preset::V0, Preset::V1, Preset::V2] {
        for st in [Strategy::Random, Strategy::Pct(4), Strategy::Urw] {
            let r = run(p.variant(), "park-unpark", st, OracleSet::all(), 20_000, 1);
            let o = r
                .found
                .unwrap_or_else(|| panic!("{p} {st}: not caught"))
                .outcome
                .violation
                .unwrap()
                .oracle;
            assert!(matches!(o, Oracle::I1 | Oracle::I5), "{p} {st}: {o}");
        }
    }
}

#[test]
fn each_oracle_alone_catches_v2_where_the_spec_says() {
    // (scenario, oracle) pairs of model.md (f) for V2, each checked with only that oracle enabled.
    let rows = [
        ("park-unpark", Oracle::I1),
        ("park-unpark", Oracle::I5),
        ("park-unpark", Oracle::I3),
        ("third-party-waker", Oracle::I1c),
        ("third-party-waker", Oracle::I5),
        ("preempt-parked", Oracle::I1),
        ("stale-completion", Oracle::I6),
        ("stale-completion", Oracle::I2),
        ("stop-unparked", Oracle::I3s),
    ];
    for (scenario, oracle) in rows {
        let r = run(
            Preset::V2.variant(),
            scenario,
            Strategy::Random,
            OracleSet::of(&[oracle]),
            50_000,
            1,
        );
        let f = r
            .found
            .unwrap_or_else(|| panic!("V2 {scenario}: {oracle} not found"));
        assert_eq!(f.outcome.violation.unwrap().oracle, oracle);
    }
}

#[test]
fn v0_double_complete_makes_the_next_park_return_at_once() {
    // d.8: park; unpark; park on two CPUs without preemption: I6 at the second park.
    let r = run(
        Preset::V0.variant(),
        "park-unpark-park",
        Strategy::Random,
        OracleSet::of(&[Oracle::I6]),
        50_000,
        1,
    );
    assert_eq!(
        r.found
            .expect("d.8 found")
            .outcome
            .violation
            .unwrap()
            .oracle,
        Oracle::I6
    );
}

#[test]
fn i8_separates_v3_and_v3b_from_v4() {
    let i8 = OracleSet::of(&[Oracle::I8]);
    for p in [Preset::V3, Preset::V3b] {
        let r = run(p.variant(), "wti-latency", Strategy::Random, i8, 2_000, 1);
        assert_eq!(
            r.found.expect("I8 found").outcome.violation.unwrap().oracle,
            Oracle::I8,
            "{p}"
        );
    }
    let r = run(
        Preset::V4.variant(),
        "wti-latency",
        Strategy::Random,
        i8,
        10_000,
        1,
    );
    assert!(r.found.is_none(), "V4 slept a tick");
    assert_eq!(r.executions, 10_000);
}

#[test]
fn irq_gap_preemption_makes_v4_sleep_a_tick_again() {
    // Spec h.5: with IRQ-return preemption inside schedule_preempt_disabled's gap, V4 can be
    // preempted with state PARKED after complete(): I8 is only "practically never" for V4.
    let mut s = Scenario::by_name("wti-latency").unwrap();
    s.irq_gap = true;
    s.budget = 3;
    let r = parkrace::tools::explore::hunt(&parkrace::tools::explore::Hunt {
        variant: Preset::V4.variant(),
        scenario: s,
        strategy: Strategy::Random,
        oracles: OracleSet::of(&[Oracle::I8]),
        executions: 50_000,
        time: None,
        seed: 1,
    });
    assert_eq!(
        r.found
            .expect("I8 with the gap knob")
            .outcome
            .violation
            .unwrap()
            .oracle,
        Oracle::I8
    );
}

#[test]
fn i3s_separates_v2_to_v4_from_v5() {
    let i3s = OracleSet::of(&[Oracle::I3s]);
    for p in [Preset::V2, Preset::V3, Preset::V3b, Preset::V4] {
        let r = run(
            p.variant(),
            "stop-unparked",
            Strategy::Random,
            i3s,
            1_000,
            1,
        );
        assert_eq!(
            r.found.expect("I3s").outcome.violation.unwrap().oracle,
            Oracle::I3s,
            "{p}"
        );
    }
    for p in [Preset::V0, Preset::V5] {
        let r = run(
            p.variant(),
            "stop-unparked",
            Strategy::Random,
            i3s,
            5_000,
            1,
        );
        assert!(r.found.is_none(), "{p} WARNs on stop of an unparked thread");
    }
}

/// Each fixed preset is clean over 10^4 executions per named scenario per strategy, on every
/// oracle kernel history says it satisfies (all but its ✗ cells of model.md e).
fn fixed_preset_is_clean(p: Preset) {
    let satisfied: Vec<Oracle> = Oracle::ALL
        .into_iter()
        .filter(|o| !p.history_fails().contains(o))
        .collect();
    let oracles = OracleSet::of(&satisfied);
    for s in Scenario::named() {
        for st in [
            Strategy::Random,
            Strategy::Pct(3),
            Strategy::Urw,
            Strategy::Dfs,
        ] {
            let r = run(p.variant(), &s.name, st, oracles, 10_000, 7);
            if let Some(f) = &r.found {
                panic!(
                    "{p} on {} with {st}: {} at execution {}",
                    s.name,
                    f.outcome.violation.as_ref().unwrap(),
                    f.execution
                );
            }
            assert!(r.executions >= 1, "{p} {} {st}: no executions", s.name);
            if st != Strategy::Dfs {
                assert_eq!(r.executions, 10_000, "{p} {} {st}", s.name);
            }
        }
    }
}

#[test]
fn v3_is_clean_on_what_it_fixed() {
    fixed_preset_is_clean(Preset::V3);
}

#[test]
fn v3b_is_clean_on_what_it_fixed() {
    fixed_preset_is_clean(Preset::V3b);
}

#[test]
fn v4_is_clean_on_what_it_fixed() {
    fixed_preset_is_clean(Preset::V4);
}

#[test]
fn v5_is_clean_on_every_oracle() {
    fixed_preset_is_clean(Preset::V5);
}

/// `hunt --quick` (300 executions per cell, the README's fast first run) gives every verdict
/// of kernel history, as the default 10,000 do.
#[test]
fn a_quick_hunt_agrees_with_history_on_every_cell() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parkrace"))
        .args(["hunt", "--quick", "--json", "--no-minimize", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        rows.len(),
        10 * 10 * 2,
        "every preset x scenario x default strategy"
    );
    for r in &rows {
        assert_ne!(r["agrees_with_history"], false, "{r}");
    }
    let caught = rows.iter().filter(|r| !r["violation"].is_null()).count();
    assert_eq!(
        caught,
        // V0, V1, V2, V3, V3b, V4, then V5@6.12 (create-park, d.9); V5, V5@6.16, mainline: 0.
        18 + 18 + 20 + 10 + 10 + 2 + 2,
        "the default run's violations"
    );
}
