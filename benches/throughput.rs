//! Executions per second of each engine: shuttle per strategy, byte-driven single executions
//! (on the kept continuation pool and on a fresh runner each), a fuzz target's work per input
//! (both ways too), the bounded-exhaustive search of
//! `verify`, and native OS threads (fresh worlds), on the seed's scenario (park-unpark, model.md
//! d.2) for V2 and V3. Oracles other than the self-checks are off so that every execution runs to
//! its end (a hunt would stop at V2's first violation).
//!
//! Run: `cargo bench --bench throughput`. Criterion reports time per batch of `BATCH`
//! executions and the throughput in executions/s.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use parkrace::oracle::OracleSet;
use parkrace::scenario::Scenario;
use parkrace::strategy::Strategy;
use parkrace::tools::explore::{Hunt, hunt};
use parkrace::variant::Preset;
use std::time::{Duration, Instant};

const BATCH: u64 = 2_000;

/// The time of `iters` hunts of `BATCH` executions each (seeds 1, 2, ...), no oracle on.
fn hunt_batches(preset: Preset, scenario: &Scenario, strategy: Strategy, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for i in 0..iters {
        let h = Hunt {
            variant: preset.variant(),
            scenario: scenario.clone(),
            strategy,
            oracles: OracleSet::of(&[]),
            executions: BATCH as usize,
            time: None,
            seed: i + 1,
        };
        let t = Instant::now();
        let r = hunt(&h);
        total += t.elapsed();
        assert_eq!(r.executions, BATCH as usize);
    }
    total
}

fn throughput(c: &mut Criterion) {
    let scenario = Scenario::by_name("park-unpark").unwrap();
    let mut g = c.benchmark_group("executions");
    g.throughput(Throughput::Elements(BATCH));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(4));
    for preset in [Preset::V2, Preset::V3] {
        for strategy in [
            Strategy::Random,
            Strategy::Pct(3),
            Strategy::Urw,
            Strategy::Dfs,
            Strategy::Focus(None),
        ] {
            let id = BenchmarkId::new(preset.name(), strategy.to_string());
            g.bench_function(id, |b| {
                b.iter_custom(|iters| hunt_batches(preset, &scenario, strategy, iters))
            });
        }
    }
    g.finish();
}

/// One execution per input, as fuzz targets, proptest and `minimize` run them, schedule bytes
/// from a fixed pseudo-random stream: on the thread's kept continuation pool
/// (`parkrace::engine::runner`, `kept-pool`), and with a fresh shuttle runner per execution as
/// before it (`fresh-runner`), in the same run.
fn byte_driven(c: &mut Criterion) {
    let scenario = Scenario::by_name("park-unpark").unwrap();
    let mut g = c.benchmark_group("byte-driven");
    g.throughput(Throughput::Elements(BATCH));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(4));
    for preset in [Preset::V2, Preset::V3] {
        for fresh in [false, true] {
            let id = BenchmarkId::new(
                preset.name(),
                if fresh { "fresh-runner" } else { "kept-pool" },
            );
            g.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    let batch = || byte_batches(preset, &scenario, iters);
                    if fresh {
                        parkrace::engine::runner::with_fresh_runners(batch)
                    } else {
                        batch()
                    }
                })
            });
        }
    }
    g.finish();
}

/// The time of `iters` batches of `BATCH` byte-driven executions, no oracle on.
fn byte_batches(preset: Preset, scenario: &Scenario, iters: u64) -> Duration {
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let t = Instant::now();
    for _ in 0..iters * BATCH {
        let bytes: Vec<u8> = (0..64)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let r = parkrace::tools::explore::run_bytes(
            scenario,
            preset.variant(),
            OracleSet::of(&[]),
            &bytes,
        );
        assert!(r.outcome.steps > 0);
    }
    t.elapsed()
}

/// What a fuzz target does per input (`parkrace::tools::fuzz::fuzz_one`, here `park_fixed`:
/// decode a scenario shape and a schedule, run it once), without libFuzzer around it: on the
/// kept pool, as a fuzz target's thread runs from one input to the next, and with a fresh
/// runner per input.
fn fuzz_input(c: &mut Criterion) {
    let mut g = c.benchmark_group("fuzz-input");
    g.throughput(Throughput::Elements(BATCH));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(4));
    for fresh in [false, true] {
        let id = BenchmarkId::new(
            "park_fixed",
            if fresh { "fresh-runner" } else { "kept-pool" },
        );
        g.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let batch = || {
                    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
                    let mut next = move || {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x
                    };
                    let t = Instant::now();
                    for _ in 0..iters * BATCH {
                        let len = 16 + (next() % 112) as usize;
                        let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                        parkrace::tools::fuzz::fuzz_one("park_fixed", &data);
                    }
                    t.elapsed()
                };
                if fresh {
                    parkrace::engine::runner::with_fresh_runners(batch)
                } else {
                    batch()
                }
            })
        });
    }
    g.finish();
}

/// Bounded-exhaustive search (`parkrace verify`): every schedule within one preemption of the
/// seed's scenario (context bounding, the state cache on), one shuttle runner for the whole
/// search.
fn bounded(c: &mut Criterion) {
    let mut g = c.benchmark_group("bounded-dfs");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(4));
    for preset in [Preset::V2, Preset::V3] {
        let job = parkrace::tools::verify::Verify {
            target: parkrace::tools::target::Target::new(
                preset.variant(),
                Scenario::by_name("park-unpark").unwrap(),
                OracleSet::of(&[]),
            ),
            bound: Some(1),
            kind: parkrace::engine::bounded::BoundKind::Preemptions,
            delays: None,
            time: None,
            cache: true,
            reduce: false,
        };
        let schedules = parkrace::tools::verify::verify(&job).schedules();
        g.throughput(Throughput::Elements(schedules));
        g.bench_function(preset.name(), |b| {
            b.iter(|| assert_eq!(parkrace::tools::verify::verify(&job).schedules(), schedules))
        });
    }
    g.finish();
}

/// The native engine (`parkrace stress`): fresh worlds of the seed's scenario one after
/// another on pooled OS threads, with and without delay injection.
fn native(c: &mut Criterion) {
    use parkrace::engine::native::{Delay, NativePlatform, Pool};
    use parkrace::harness::{build_world, launch};
    use std::sync::Arc;
    const WORLDS: u64 = 200;
    let scenario = Scenario::by_name("park-unpark").unwrap();
    let mut g = c.benchmark_group("native");
    g.throughput(Throughput::Elements(WORLDS));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(4));
    let pool = Pool::new();
    for preset in [Preset::V2, Preset::V3] {
        for (name, delay) in [("delay", Some(Delay::default())), ("no-delay", None)] {
            let id = BenchmarkId::new(preset.name(), name);
            g.bench_function(id, |b| {
                b.iter(|| {
                    for seed in 0..WORLDS {
                        let world = build_world(&scenario, preset.variant(), OracleSet::of(&[]));
                        let plat = NativePlatform::new(world.kernel.tasks.len(), seed, delay)
                            .with_pool(Arc::clone(&pool));
                        let out = launch(plat, world).finish();
                        assert!(out.steps > 0);
                    }
                })
            });
        }
    }
    g.finish();
}

/// Under the weak memory model `lkmm` (docs/model.md m): hunt executions (random), byte-driven
/// executions, and the bounded search within one preemption or reordering, on the same
/// scenario, to set against the SC groups above.
fn lkmm(c: &mut Criterion) {
    let scenario = Scenario::by_name("park-unpark@lkmm").unwrap();
    let mut g = c.benchmark_group("lkmm");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(4));
    g.throughput(Throughput::Elements(BATCH));
    for preset in [Preset::V2, Preset::V3] {
        let id = BenchmarkId::new(preset.name(), "random");
        g.bench_function(id, |b| {
            b.iter_custom(|iters| hunt_batches(preset, &scenario, Strategy::Random, iters))
        });
    }
    let job = parkrace::tools::verify::Verify {
        target: parkrace::tools::target::Target::new(
            Preset::V3.variant(),
            scenario.clone(),
            OracleSet::of(&[]),
        ),
        bound: Some(1),
        kind: parkrace::engine::bounded::BoundKind::Preemptions,
        delays: None,
        time: None,
        cache: true,
        reduce: false,
    };
    let schedules = parkrace::tools::verify::verify(&job).schedules();
    g.throughput(Throughput::Elements(schedules));
    g.bench_function("V3/bounded-k1", |b| {
        b.iter(|| assert_eq!(parkrace::tools::verify::verify(&job).schedules(), schedules))
    });
    g.finish();
}

criterion_group!(
    benches,
    throughput,
    byte_driven,
    fuzz_input,
    bounded,
    native,
    lkmm
);
criterion_main!(benches);
