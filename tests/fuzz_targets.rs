//! The fuzz targets' logic, without libFuzzer: decoding, crashes on buggy presets, none on
//! the fixed ones, and artifacts turned into repro files.

use parkrace::oracle::Oracle;
use parkrace::tools::fuzz::{Case, Input, Shape, TARGETS, Target};

/// A deterministic stream of pseudo-random inputs (splitmix64).
fn inputs(seed: u64, n: usize, len: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut x = seed;
    (0..n).map(move |_| {
        (0..len)
            .map(|_| {
                x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = x;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                (z ^ (z >> 31)) as u8
            })
            .collect()
    })
}

#[test]
fn zero_input_is_the_simplest_case() {
    let t = Target::by_name("park_v2").unwrap();
    let c = Case::decode(&t, &[]);
    assert_eq!(c.scenario.cpus, 1);
    assert_eq!(c.scenario.ops, vec![parkrace::scenario::Op::Park]);
    assert!(!c.scenario.preempt && !c.scenario.waker && !c.scenario.extra);
    assert!(c.schedule.is_empty());
    assert_eq!(Case::decode(&t, &[0; 64]).scenario, c.scenario);
    // With no preemption on one CPU, V2's park is clean.
    let r = c.run();
    assert!(r.outcome.violation.is_none(), "{:?}", r.outcome.violation);
    assert_eq!(r.preemptions(), 0);
}

#[test]
fn every_buggy_target_crashes_on_random_inputs_and_the_fixed_one_never() {
    for t in TARGETS.iter() {
        let mut crashes = 0;
        let mut oracles = Vec::new();
        // The weak-memory target's hang needs a stale read on top of a schedule: more inputs.
        let n = if t.name.ends_with("_lkmm") {
            12_000
        } else {
            3000
        };
        for (i, data) in inputs(7, n, 256).enumerate() {
            let c = Case::decode(t, &data);
            c.scenario.validate().unwrap();
            let verdict = c.verdict();
            if i < 300 {
                // The fuzz target's lean run judges as the recorded one does.
                assert_eq!(verdict, c.run().outcome.violation, "{}: input {i}", t.name);
            }
            if let Some(v) = verdict {
                crashes += 1;
                assert_ne!(v.oracle, Oracle::Model, "{}: model self-check: {v}", t.name);
                assert!(
                    c.oracles.contains(v.oracle),
                    "{}: {v} is not a crash oracle",
                    t.name
                );
                oracles.push(v.oracle);
            }
        }
        if t.buggy() {
            assert!(crashes > 0, "{}: no crash in {n} random inputs", t.name);
        } else {
            assert_eq!(crashes, 0, "{}: crashed on {oracles:?}", t.name);
        }
        oracles.sort();
        oracles.dedup();
        eprintln!("{}: {crashes} crashes, oracles {oracles:?}", t.name);
    }
}

#[test]
fn a_crash_input_becomes_a_repro_that_replays() {
    // The seed's race, written as a structured input: 2 CPUs, park; unpark, and the
    // minimized schedule (K first, preempted after INTERRUPTIBLE; C preempted after its
    // state check).
    let t = Target::by_name("park_v2").unwrap();
    let shape = Shape {
        preset: 0,
        two_cpus: true,
        fresh: false,
        cycles: 1,
        hotplug: false,
        stop: false,
        no_park: false,
        waker: false,
        extra: false,
        preempt: false,
        budget: 0,
    };
    let mut found = None;
    for data in inputs(11, 5000, 24) {
        let c = Case::of_input(
            &t,
            &Input {
                shape: shape.clone(),
                schedule: data,
            },
        );
        let r = c.run();
        if r.outcome.violation.is_some() {
            found = Some((c, r));
            break;
        }
    }
    let (c, r) = found.expect("the seed's race within 5000 random schedules");
    let rep = c.repro(&t, &r).unwrap();
    let d = rep.decisions().unwrap();
    let again = parkrace::tools::explore::replay(&rep.scenario, rep.variant, rep.oracles, &d);
    assert!(again.diverged.is_none());
    assert_eq!(
        again.outcome.violation.map(|v| v.oracle),
        Some(rep.violation.oracle)
    );
}
