//! The continuation pool kept between shuttle runs (`parkrace::engine::runner`) changes no
//! result: every byte-driven path gives the same outcomes, traces, byte counters, schedules and
//! counts as with a fresh shuttle `Runner` per execution (`with_fresh_runners`), and a run that
//! panics leaves the next runs as they were.

use parkrace::engine::bounded::BoundKind;
use parkrace::engine::runner::{run, with_fresh_runners};
use parkrace::oracle::OracleSet;
use parkrace::scenario::Scenario;
use parkrace::strategy::Strategy;
use parkrace::tools::explore::{ByteRun, run_bytes, sample_bounded};
use parkrace::tools::search::Caps;
use parkrace::tools::target::Target;
use parkrace::tools::verify::{Verify, verify};
use parkrace::variant::Preset;

/// Pseudo-random schedule bytes (xorshift), `n` inputs of 8 to 71 bytes.
fn inputs(seed: u64, n: usize) -> Vec<Vec<u8>> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|_| {
            let len = 8 + (next() % 64) as usize;
            (0..len).map(|_| next() as u8).collect()
        })
        .collect()
}

/// Everything a byte-driven execution reports, as text (the outcome has no `PartialEq`).
fn all_of(r: &ByteRun) -> String {
    format!(
        "{:?} {:?} {:?} {}",
        r.outcome,
        r.stats,
        r.decisions,
        r.shuttle_schedule()
    )
}

/// The cases: presets with and without the races, two- and three-CPU scenarios, and a weak
/// memory model, interleaved so that the kept pool serves worlds with different thread counts
/// one after another.
fn cases() -> Vec<(Preset, Scenario, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, (preset, name)) in [
        (Preset::V0, "park-unpark"),
        (Preset::V2, "preempt-parked"),
        (Preset::V3, "third-party-waker"),
        (Preset::V4, "park-unpark-park"),
        (Preset::V5, "hotplug"),
        (Preset::V2, "park-unpark@lkmm"),
    ]
    .into_iter()
    .enumerate()
    {
        let scenario = Scenario::by_name(name).unwrap();
        for b in inputs(i as u64 + 7, 25) {
            out.push((preset, scenario.clone(), b));
        }
    }
    // Round-robin over the cases rather than one case after another.
    let mut mixed = Vec::new();
    for j in 0..25 {
        for k in 0..6 {
            mixed.push(out[k * 25 + j].clone());
        }
    }
    mixed
}

#[test]
fn byte_driven_executions_are_the_same_on_a_kept_pool() {
    let cases = cases();
    let run_all = || {
        cases
            .iter()
            .map(|(p, s, b)| all_of(&run_bytes(s, p.variant(), OracleSet::all(), b)))
            .collect::<Vec<_>>()
    };
    let fresh = with_fresh_runners(run_all);
    let kept = run_all();
    assert_eq!(fresh.len(), kept.len());
    for (i, (f, k)) in fresh.iter().zip(&kept).enumerate() {
        assert_eq!(f, k, "case {i}");
    }
    // Some of them violate an oracle, so both verdicts are compared.
    assert!(kept.iter().any(|r| r.contains("violation: Some")));
    assert!(kept.iter().any(|r| r.contains("violation: None")));
}

#[test]
fn sampling_verify_minimize_and_compare_are_the_same_on_a_kept_pool() {
    let scenario = Scenario::by_name("preempt-parked").unwrap();
    let v2 = Preset::V2.variant();
    let samples = |_: ()| {
        (0..40)
            .map(|seed| {
                let (b, o) = sample_bounded(&scenario, v2, OracleSet::all(), seed, 2, 16);
                format!("{b:?} {o:?}")
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(with_fresh_runners(|| samples(())), samples(()));

    let job = |preset: Preset, bound| Verify {
        target: Target::new(preset.variant(), scenario.clone(), OracleSet::all()),
        bound: Some(bound),
        kind: BoundKind::Preemptions,
        delays: None,
        time: None,
        cache: true,
        reduce: false,
    };
    let verdict = |preset, bound| {
        let v = verify(&job(preset, bound));
        let found = v.found.map(|(s, r)| (s, all_of(&r)));
        (v.stats, found)
    };
    let fresh = with_fresh_runners(|| (verdict(Preset::V2, 1), verdict(Preset::V3, 1)));
    let kept = (verdict(Preset::V2, 1), verdict(Preset::V3, 1));
    assert_eq!(fresh, kept);
    let (_, found) = &kept.0;
    let (stopped, _) = found.as_ref().expect("V2's race within one preemption");

    let minimized = || {
        let m = parkrace::tools::minimize::minimize_bytes(
            &scenario,
            v2,
            OracleSet::all(),
            stopped.bytes.clone(),
            3_000,
        )
        .unwrap();
        (m.bytes, all_of(&m.run), m.before, m.after, m.tries)
    };
    assert_eq!(with_fresh_runners(minimized), minimized());

    let target = Target::new(v2, scenario.clone(), OracleSet::all());
    let caps = Caps {
        executions: 400,
        time: None,
    };
    let compared = || {
        [Strategy::Bytes, Strategy::Bounded(2), Strategy::Random]
            .into_iter()
            .flat_map(|c| (1..4).map(move |seed| (c, seed)))
            .map(|(c, seed)| {
                let r = parkrace::tools::compare::run_one(&target, c, seed, caps);
                (r.first, r.executions)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(with_fresh_runners(compared), compared());
}

#[test]
fn a_run_that_panics_leaves_the_next_runs_as_they_were() {
    let scenario = Scenario::by_name("park-unpark").unwrap();
    let v = Preset::V2.variant();
    let bytes = inputs(3, 20);
    let expected: Vec<String> = with_fresh_runners(|| {
        bytes
            .iter()
            .map(|b| all_of(&run_bytes(&scenario, v, OracleSet::all(), b)))
            .collect()
    });
    for (i, b) in bytes.iter().enumerate() {
        // A model thread that panics inside a shuttle execution fails the run, as it does
        // under `shuttle::Runner`.
        let mut config = shuttle::Config::new();
        config.failure_persistence = shuttle::FailurePersistence::None;
        let failed = std::panic::catch_unwind(|| {
            run(shuttle::scheduler::RandomScheduler::new(1), config, || {
                // One thread still running and one panicking when the execution fails.
                let _spinning = shuttle::thread::spawn(|| {
                    loop {
                        shuttle::thread::yield_now();
                    }
                });
                let h = shuttle::thread::spawn(|| panic!("a model thread panics"));
                let _ = h.join();
            })
        });
        assert!(failed.is_err());
        assert_eq!(
            all_of(&run_bytes(&scenario, v, OracleSet::all(), b)),
            expected[i],
            "input {i}"
        );
    }
}

#[test]
fn each_thread_keeps_its_own_pool_and_threads_end_cleanly() {
    let scenario = Scenario::by_name("park-unpark").unwrap();
    let v = Preset::V3.variant();
    let bytes = inputs(11, 30);
    let expected: Vec<String> = bytes
        .iter()
        .map(|b| all_of(&run_bytes(&scenario, v, OracleSet::all(), b)))
        .collect();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for (b, e) in bytes.iter().zip(&expected) {
                    assert_eq!(&all_of(&run_bytes(&scenario, v, OracleSet::all(), b)), e);
                }
            });
        }
    });
}
