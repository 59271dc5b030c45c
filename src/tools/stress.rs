//! Native-thread stress (`parkrace stress`): the model on OS threads across the machine's
//! cores, many independent instances at once, cycles back to back, for as long as asked.
//!
//! Each instance runs one world after another. A world of a [repeatable] scenario (park;
//! unpark) runs its cycles back to back for a time slice; any other scenario runs one cycle per
//! world, fresh worlds back to back for the slice. Instances rotate over the targets
//! (variant x scenario) slice by slice, so that every target gets the same share of time. The oracles are the model's own (model.md e), checked
//! inside the steps as under shuttle; each world keeps only the last events of every model
//! thread ([`Trace::rings`]), so memory stays flat however long a run lasts, and a violation
//! still comes with what every task did last.
//!
//! A supervisor (the caller of [`run`]) ends the run at its deadline or on request, reports
//! progress, and declares a hang (I7) in a world that has taken no model step for
//! [`HANG_AFTER`].
//!
//! [repeatable]: crate::scenario::Scenario::repeatable

use crate::engine::native::{Delay, NativePlatform, Pool, mix};
use crate::harness::{Hooks, build_world, launch_with};
use crate::history;
use crate::oracle::{Oracle, Violation};
use crate::runtime::Kernel;
use crate::runtime::trace::{Event, Trace};
use crate::runtime::world::Cycles;
pub use crate::tools::target::Target;
use crate::variant::Preset;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an instance stays on one target: one world of a repeatable scenario runs its
/// cycles back to back for this long; other scenarios run fresh worlds for this long.
pub const SLICE: Duration = Duration::from_millis(200);

/// A world that takes no model step for this long is hung (oracle I7).
pub const HANG_AFTER: Duration = Duration::from_secs(10);

/// Events kept per model thread by default.
pub const DEFAULT_EVENTS: usize = 24;

/// How often the supervisor wakes up (deadline, interrupt, hang check, progress).
const TICK: Duration = Duration::from_millis(100);

/// A stress run.
#[derive(Clone, Debug)]
pub struct Config {
    pub targets: Vec<Target>,
    /// Wall time of the run.
    pub time: Duration,
    /// Independent instances running at once.
    pub instances: usize,
    /// Delay injection at scheduling points (`None`: off).
    pub delay: Option<Delay>,
    /// Seed of every injection stream (world `r` of instance `i` draws from a mix of the
    /// seed, `i` and `r`).
    pub seed: u64,
    /// End the run at its first violation.
    pub first: bool,
    /// Events kept per model thread.
    pub events: usize,
}

/// The first violation of one oracle on one target, and how often the oracle was violated.
#[derive(Clone, Debug)]
pub struct Found {
    pub violation: Violation,
    /// Worlds that ended with this oracle violated.
    pub count: u64,
    /// Time from the start of the run to the first one.
    pub first_after: Duration,
    /// The target's cycles before the first one (counting the violating cycle).
    pub first_cycle: u64,
    pub instance: usize,
    /// The seed of the world that found it.
    pub world_seed: u64,
    /// The last events of every model thread of that world, in step order.
    pub events: Vec<Event>,
    pub names: Vec<String>,
    pub completions: Vec<String>,
    /// Whether kernel history allows this violation for the preset (`None`: no preset).
    pub expected: Option<bool>,
}

/// What one target did in a run.
#[derive(Clone, Debug)]
pub struct TargetReport {
    pub target: Target,
    pub cycles: u64,
    pub worlds: u64,
    /// By oracle (the first oracle violated in a world is its verdict).
    pub found: BTreeMap<Oracle, Found>,
}

impl TargetReport {
    pub fn violations(&self) -> u64 {
        self.found.values().map(|f| f.count).sum()
    }
}

/// The result of a stress run.
#[derive(Clone, Debug)]
pub struct Report {
    pub seed: u64,
    pub instances: usize,
    pub delay: Option<Delay>,
    pub elapsed: Duration,
    /// Ended early by a request (Ctrl-C), not by its deadline or a first violation.
    pub interrupted: bool,
    pub targets: Vec<TargetReport>,
    /// Instances or model threads that panicked (a bug in parkrace): the run is not clean,
    /// whatever it found.
    pub crashes: Vec<String>,
}

impl Report {
    pub fn cycles(&self) -> u64 {
        self.targets.iter().map(|t| t.cycles).sum()
    }

    pub fn cycles_per_sec(&self) -> f64 {
        self.cycles() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn violations(&self) -> u64 {
        self.targets.iter().map(TargetReport::violations).sum()
    }

    /// Violations by oracle over every target.
    pub fn by_oracle(&self) -> BTreeMap<Oracle, u64> {
        let mut m = BTreeMap::new();
        for t in &self.targets {
            for (o, f) in &t.found {
                *m.entry(*o).or_insert(0) += f.count;
            }
        }
        m
    }

    /// The time to the first violation of the run.
    pub fn first_after(&self) -> Option<Duration> {
        self.targets
            .iter()
            .flat_map(|t| t.found.values())
            .map(|f| f.first_after)
            .min()
    }

    /// Whether some violation contradicts kernel history (or is a model self-check failure).
    pub fn contradicts_history(&self) -> bool {
        self.targets
            .iter()
            .flat_map(|t| t.found.values())
            .any(|f| f.expected == Some(false))
    }

    /// The report as JSON (the `--json` output of one run).
    pub fn json(&self) -> Value {
        json!({
            "seed": self.seed,
            "instances": self.instances,
            "delay": self.delay.map(|d| json!({"odds": d.odds, "max_us": d.max.as_micros() as u64})),
            "elapsed_ms": self.elapsed.as_millis() as u64,
            "interrupted": self.interrupted,
            "crashes": self.crashes,
            "cycles": self.cycles(),
            "cycles_per_sec": (self.cycles_per_sec() * 10.0).round() / 10.0,
            "violations": self.by_oracle().into_iter().map(|(o, n)| (o.name().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "first_violation_ms": self.first_after().map(|d| d.as_millis() as u64),
            "targets": self.targets.iter().map(|t| {
                let preset = t.target.variant.preset();
                json!({
                    "variant": t.target.variant.label(),
                    "switches": t.target.variant.switch_string(),
                    "commit": preset.map(Preset::commit),
                    "scenario": t.target.scenario.name,
                    "oracles": t.target.oracles.to_string(),
                    "cycles": t.cycles,
                    "worlds": t.worlds,
                    "violations": t.found.iter().map(|(o, f)| json!({
                        "oracle": o.name(),
                        "count": f.count,
                        "first_after_ms": f.first_after.as_millis() as u64,
                        "first_cycle": f.first_cycle,
                        "task": f.violation.task,
                        "detail": f.violation.detail,
                        "instance": f.instance,
                        "world_seed": f.world_seed,
                        "expected_by_history": f.expected,
                        "threads": f.names,
                        "events": f.events,
                    })).collect::<Vec<_>>(),
                })
            }).collect::<Vec<_>>(),
        })
    }

    /// The report as text: a line per target, then each oracle's first violation with the
    /// last events of every task as a race table.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        for t in &self.targets {
            let v = &t.target.variant;
            let _ = writeln!(
                s,
                "{:<8} {:<30} {:<18} {:>10} cycles {:>9.0}/s  {}",
                v.label().chars().take(5).collect::<String>(),
                v.preset()
                    .map(Preset::commit)
                    .unwrap_or("(custom switches)"),
                t.target.scenario.name,
                t.cycles,
                t.cycles as f64 / self.elapsed.as_secs_f64().max(1e-9),
                if t.found.is_empty() {
                    "clean".to_string()
                } else {
                    t.found
                        .iter()
                        .map(|(o, f)| format!("{o} x{}", f.count))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            );
        }
        for t in &self.targets {
            for (o, f) in &t.found {
                let _ = writeln!(
                    s,
                    "\n{} on {} ({}): first {} after {:.3} s (cycle {}, instance {}, world seed {})",
                    t.target.variant.label(),
                    t.target.scenario.name,
                    match f.expected {
                        Some(true) => "expected by kernel history",
                        Some(false) => "CONTRADICTS kernel history",
                        None => "no history for these switches",
                    },
                    o,
                    f.first_after.as_secs_f64(),
                    f.first_cycle,
                    f.instance,
                    f.world_seed
                );
                let _ = writeln!(s, "  {}: {}", o, o.summary());
                let _ = writeln!(s, "  {}", f.violation);
                let _ = writeln!(s, "  the last events of each task:");
                s.push_str(&crate::tools::render::table(
                    &f.events,
                    &f.names,
                    &f.completions,
                    true,
                ));
                let _ = writeln!(
                    s,
                    "  replay it under control: parkrace hunt --variant '{}' --scenario {}",
                    t.target.variant.label(),
                    t.target.scenario.name
                );
            }
        }
        s
    }
}

/// Live numbers for a progress display.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub elapsed: Duration,
    pub cycles: u64,
    pub violations: u64,
}

/// Per-target state shared by the instances.
struct TargetState {
    cycles: Arc<AtomicU64>,
    worlds: AtomicU64,
    found: Mutex<BTreeMap<Oracle, Found>>,
}

/// A running world, as the supervisor sees it.
type Slot = Mutex<Option<Arc<Kernel>>>;

struct Shared {
    /// What crashed so far (see [`Report::crashes`]).
    crashes: Mutex<Vec<String>>,
    cfg: Config,
    start: Instant,
    stop: Arc<AtomicBool>,
    targets: Vec<TargetState>,
    violations: AtomicU64,
    slots: Vec<Slot>,
}

/// One instance: worlds back to back until the stop flag, staying on a target for a
/// [`SLICE`] of time (one world of a repeatable scenario, or fresh worlds one after another),
/// then moving on to the next, so that every target gets the same share of time.
fn instance(sh: &Shared, i: usize) {
    let n = sh.cfg.targets.len();
    let mut round: u64 = 0;
    let mut t = i % n;
    let mut slice_end = Instant::now() + SLICE;
    let pool = Pool::new();
    while !sh.stop.load(Ordering::Relaxed) {
        if Instant::now() >= slice_end {
            t = (t + 1) % n;
            slice_end = Instant::now() + SLICE;
        }
        let target = &sh.cfg.targets[t];
        let ts = &sh.targets[t];
        let world_seed = mix(sh.cfg.seed, ((i as u64) << 40) | round);
        round += 1;
        let mut world = build_world(&target.scenario, target.variant, target.oracles);
        world.harness.trace = Trace::rings(world.kernel.tasks.len(), sh.cfg.events);
        world.harness.cycles = Some(Cycles {
            repeat: target.scenario.repeatable(),
            done: Arc::clone(&ts.cycles),
            stop: Arc::clone(&sh.stop),
            until: Some(slice_end),
        });
        let plat = NativePlatform::new(world.kernel.tasks.len(), world_seed, sh.cfg.delay)
            .with_pool(Arc::clone(&pool));
        let hooks = Hooks {
            catch_panics: true,
            ..Hooks::default()
        };
        let launched = launch_with(plat, world, &hooks);
        *sh.slots[i].lock().unwrap() = Some(Arc::clone(&launched.kernel));
        let outcome = launched.finish();
        *sh.slots[i].lock().unwrap() = None;
        if let Some(c) = outcome.crash {
            sh.crash(c);
            break;
        }
        ts.worlds.fetch_add(1, Ordering::Relaxed);
        let Some(v) = outcome.violation else { continue };
        // The violating cycle did not reach the controller's count.
        let cycle = ts.cycles.fetch_add(1, Ordering::Relaxed) + 1;
        sh.violations.fetch_add(1, Ordering::Relaxed);
        let expected = match v.oracle {
            Oracle::Model => Some(false),
            o => target.variant.preset().map(|p| history::may_fail(p, o)),
        };
        let mut found = ts.found.lock().unwrap();
        found
            .entry(v.oracle)
            .and_modify(|f| f.count += 1)
            .or_insert_with(|| Found {
                violation: v,
                count: 1,
                first_after: sh.start.elapsed(),
                first_cycle: cycle,
                instance: i,
                world_seed,
                events: outcome.trace,
                names: outcome.names,
                completions: outcome.completions,
                expected,
            });
        drop(found);
        if sh.cfg.first {
            sh.stop.store(true, Ordering::Relaxed);
        }
    }
}

/// Declare a hang (I7) in a world that has taken no model step for [`HANG_AFTER`].
fn watch(slot: &Slot, last: &mut Option<(usize, u64, Instant)>) {
    let Some(k) = slot.lock().unwrap().clone() else {
        *last = None;
        return;
    };
    let id = Arc::as_ptr(&k) as usize;
    let steps = k.supervise(|w| w.harness.steps);
    match *last {
        Some((lid, s, since)) if lid == id && s == steps => {
            if since.elapsed() >= HANG_AFTER {
                k.supervise_wake(|w| {
                    if w.harness.halting {
                        return;
                    }
                    let msg = format!(
                        "hang: no model step for {} s; {}",
                        HANG_AFTER.as_secs(),
                        w.waiting(None)
                    );
                    w.violate(Oracle::I7, w.harness.cast.harness, msg);
                    w.harness.halting = true;
                });
            }
        }
        _ => *last = Some((id, steps, Instant::now())),
    }
}

/// Run a stress campaign until its time is up, its first violation (with `first`), or
/// `interrupt` is set; `progress` is called about ten times a second. Panics where the OS
/// refuses to start an instance thread (see [`try_run`]).
pub fn run(cfg: &Config, interrupt: &AtomicBool, progress: impl FnMut(&Progress)) -> Report {
    try_run(cfg, interrupt, progress).unwrap_or_else(|e| panic!("{e}"))
}

/// [`run`], or an error (one line) where the OS refuses to start an instance thread; the
/// instances already started are stopped and joined first.
pub fn try_run(
    cfg: &Config,
    interrupt: &AtomicBool,
    mut progress: impl FnMut(&Progress),
) -> Result<Report, String> {
    assert!(!cfg.targets.is_empty() && cfg.instances > 0);
    let sh = Arc::new(Shared {
        cfg: cfg.clone(),
        start: Instant::now(),
        stop: Arc::new(AtomicBool::new(false)),
        targets: cfg
            .targets
            .iter()
            .map(|_| TargetState {
                cycles: Arc::new(AtomicU64::new(0)),
                worlds: AtomicU64::new(0),
                found: Mutex::new(BTreeMap::new()),
            })
            .collect(),
        violations: AtomicU64::new(0),
        slots: (0..cfg.instances).map(|_| Mutex::new(None)).collect(),
        crashes: Mutex::new(Vec::new()),
    });
    let mut handles = Vec::with_capacity(cfg.instances);
    for i in 0..cfg.instances {
        let shared = Arc::clone(&sh);
        match std::thread::Builder::new()
            .name(format!("stress-{i}"))
            .spawn(move || {
                crate::tools::pool::crash_hook("stress");
                instance(&shared, i)
            }) {
            Ok(h) => handles.push(h),
            Err(e) => {
                sh.stop.store(true, Ordering::Relaxed);
                for h in handles {
                    let _ = h.join();
                }
                return Err(format!(
                    "the OS refused to start stress instance {} of {}: {e} (try fewer --instances)",
                    i + 1,
                    cfg.instances
                ));
            }
        }
    }
    let mut interrupted = false;
    let mut last = vec![None; cfg.instances];
    loop {
        std::thread::sleep(TICK);
        if interrupt.load(Ordering::Relaxed) {
            interrupted = true;
            sh.stop.store(true, Ordering::Relaxed);
        }
        if sh.start.elapsed() >= cfg.time {
            sh.stop.store(true, Ordering::Relaxed);
        }
        for (slot, l) in sh.slots.iter().zip(&mut last) {
            watch(slot, l);
        }
        progress(&Progress {
            elapsed: sh.start.elapsed(),
            cycles: sh
                .targets
                .iter()
                .map(|t| t.cycles.load(Ordering::Relaxed))
                .sum(),
            violations: sh.violations.load(Ordering::Relaxed),
        });
        if sh.stop.load(Ordering::Relaxed) {
            break;
        }
    }
    for (i, h) in handles.into_iter().enumerate() {
        if let Err(p) = h.join() {
            let msg = crate::tools::pool::panic_message(&*p);
            sh.crash(format!("stress instance {i} panicked: {msg}"));
        }
    }
    let elapsed = sh.start.elapsed();
    Ok(Report {
        seed: cfg.seed,
        instances: cfg.instances,
        delay: cfg.delay,
        elapsed,
        interrupted,
        targets: cfg
            .targets
            .iter()
            .zip(&sh.targets)
            .map(|(t, s)| TargetReport {
                target: t.clone(),
                cycles: s.cycles.load(Ordering::Relaxed),
                worlds: s.worlds.load(Ordering::Relaxed),
                found: std::mem::take(&mut *s.found.lock().unwrap()),
            })
            .collect(),
        crashes: std::mem::take(&mut *sh.crashes.lock().unwrap()),
    })
}

impl Shared {
    /// Record a crash and stop the run.
    fn crash(&self, what: String) {
        self.crashes.lock().unwrap().push(what);
        self.stop.store(true, Ordering::Relaxed);
    }
}
