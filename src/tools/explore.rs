//! Exploration: run one (variant, scenario, strategy) under shuttle until the first violation
//! or the budget, and replay recorded schedules.

use crate::engine::bytes::{BoundedRandom, ByteScheduler, ByteStats};
use crate::engine::replay::{BytesOfDecisions, ReplayScheduler};
use crate::engine::runner;
use crate::engine::schedule::{Decision, Recorder, RecorderShared};
use crate::engine::shuttle::ShuttlePlatform;
use crate::harness::{Hooks, Outcome, execute_with};
use crate::oracle::OracleSet;
use crate::scenario::Scenario;
use crate::strategy::Strategy;
use crate::variant::Variant;
use shuttle::scheduler::Scheduler;
use shuttle::{Config, MaxSteps};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to explore.
#[derive(Clone, Debug)]
pub struct Hunt {
    pub variant: Variant,
    pub scenario: Scenario,
    pub strategy: Strategy,
    pub oracles: OracleSet,
    /// Executions at most.
    pub executions: usize,
    /// Wall time at most (checked between executions).
    pub time: Option<Duration>,
    pub seed: u64,
}

/// A violating execution, with what it takes to replay it.
#[derive(Clone, Debug)]
pub struct Found {
    /// 1-based index of the violating execution.
    pub execution: usize,
    pub outcome: Outcome,
    pub decisions: Vec<Decision>,
    /// shuttle's own schedule string (replayable with `shuttle::replay` for the seeded
    /// schedulers).
    pub shuttle_schedule: String,
}

/// The result of a hunt.
#[derive(Clone, Debug)]
pub struct HuntResult {
    pub executions: usize,
    /// Model steps of every execution together.
    pub steps: u64,
    pub elapsed: Duration,
    pub found: Option<Found>,
    /// Ended by [`Limits::cancel`] before its budget.
    pub cancelled: bool,
}

/// Further limits of a hunt, checked between executions.
#[derive(Clone, Debug, Default)]
pub struct Limits {
    /// Stop once the executions together took this many model steps (a budget that, unlike
    /// wall time, repeats exactly from the same seed).
    pub steps: Option<u64>,
    /// Stop when this is set (Ctrl-C).
    pub cancel: Option<Arc<AtomicBool>>,
}

/// How a recorded run ended.
struct Recorded {
    executions: usize,
    steps: u64,
    found: Option<Found>,
    cancelled: bool,
}

/// Threads a scenario creates (for the platform's id table).
pub(crate) fn thread_count(s: &Scenario, v: Variant) -> usize {
    crate::harness::build_world(s, v, OracleSet::all())
        .kernel
        .tasks
        .len()
}

pub(crate) fn config(scenario: &Scenario, time: Option<Duration>) -> Config {
    let mut c = Config::new();
    c.failure_persistence = shuttle::FailurePersistence::None;
    c.silence_warnings = true;
    c.max_time = time;
    // The model bounds its own steps (I7); this is a backstop against a runaway engine.
    c.max_steps = MaxSteps::FailAfter((scenario.max_steps as usize) * 8 + 10_000);
    c
}

/// Run `f` under `scheduler` with a recorder; stop at the first violation or a limit.
fn run_recorded(
    scheduler: Box<dyn Scheduler + Send>,
    hooks: &Hooks,
    scenario: &Scenario,
    variant: Variant,
    oracles: OracleSet,
    time: Option<Duration>,
    limits: &Limits,
) -> Recorded {
    let shared = Arc::new(Mutex::new(RecorderShared::default()));
    let found: Arc<Mutex<Option<(usize, Outcome)>>> = Arc::new(Mutex::new(None));
    let steps = Arc::new(Mutex::new((0u64, false)));
    let recorder = Recorder::new(scheduler, Arc::clone(&shared));
    let threads = thread_count(scenario, variant);
    let (sc, sh, fd) = (scenario.clone(), Arc::clone(&shared), Arc::clone(&found));
    let (st, limits, hooks) = (Arc::clone(&steps), limits.clone(), hooks.clone());
    runner::run(recorder, config(scenario, time), move || {
        let outcome = execute_with(ShuttlePlatform::new(threads), &sc, variant, oracles, &hooks);
        let mut s = sh.lock().unwrap();
        let mut st = st.lock().unwrap();
        st.0 += outcome.steps;
        if outcome.violation.is_some() {
            if !s.stop {
                s.stop = true;
                *fd.lock().unwrap() = Some((s.executions, outcome));
            }
        } else if limits.steps.is_some_and(|b| st.0 >= b) {
            s.stop = true;
        } else if limits
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            s.stop = true;
            st.1 = true;
        }
    });
    let n = shared.lock().unwrap().executions;
    let found = found.lock().unwrap().take().map(|(execution, outcome)| {
        let s = shared.lock().unwrap();
        Found {
            execution,
            outcome,
            decisions: s.decisions.clone(),
            shuttle_schedule: shuttle_engine::scheduler::serialization::serialize_schedule(
                &s.schedule,
            ),
        }
    });
    let (steps, cancelled) = *steps.lock().unwrap();
    Recorded {
        executions: n,
        steps,
        found,
        cancelled,
    }
}

/// Explore until the first violation or the budget.
pub fn hunt(h: &Hunt) -> HuntResult {
    hunt_with(h, &Limits::default())
}

/// Explore until the first violation, the budget or one of `limits`.
pub fn hunt_with(h: &Hunt, limits: &Limits) -> HuntResult {
    let start = Instant::now();
    let (scheduler, hooks) = h.strategy.scheduler(h.seed, h.executions);
    let r = run_recorded(
        scheduler,
        &hooks,
        &h.scenario,
        h.variant,
        h.oracles,
        h.time,
        limits,
    );
    HuntResult {
        executions: r.executions,
        steps: r.steps,
        elapsed: start.elapsed(),
        found: r.found,
        cancelled: r.cancelled,
    }
}

/// Result of a replay.
#[derive(Clone, Debug)]
pub struct Replayed {
    pub outcome: Outcome,
    /// Why the recorded decisions did not fit this model, if they did not.
    pub diverged: Option<String>,
}

/// Run exactly one execution under `sched`; `None` if the scheduler ended it before the model
/// reported (a replay that diverged).
fn run_once<S: Scheduler + 'static>(
    sched: S,
    hooks: &Hooks,
    scenario: &Scenario,
    variant: Variant,
    oracles: OracleSet,
) -> Option<Outcome> {
    let out: Arc<Mutex<Option<Outcome>>> = Arc::new(Mutex::new(None));
    let threads = thread_count(scenario, variant);
    let (sc, o2, hooks) = (scenario.clone(), Arc::clone(&out), hooks.clone());
    runner::run(sched, config(scenario, None), move || {
        let outcome = execute_with(ShuttlePlatform::new(threads), &sc, variant, oracles, &hooks);
        *o2.lock().unwrap() = Some(outcome);
    });
    out.lock().unwrap().take()
}

/// Replay recorded decisions exactly once.
pub fn replay(
    scenario: &Scenario,
    variant: Variant,
    oracles: OracleSet,
    decisions: &[Decision],
) -> Replayed {
    let sched = ReplayScheduler::new(decisions.to_vec());
    let diverged = Arc::clone(&sched.diverged);
    let outcome = run_once(sched, &Hooks::default(), scenario, variant, oracles)
        .unwrap_or_else(Outcome::empty);
    let diverged = diverged.lock().unwrap().clone();
    Replayed { outcome, diverged }
}

/// One execution driven by schedule bytes (see [`ByteScheduler`]).
#[derive(Clone, Debug)]
pub struct ByteRun {
    pub outcome: Outcome,
    pub stats: ByteStats,
    /// The decisions it took, for a repro file.
    pub decisions: Vec<Decision>,
    /// shuttle's schedule of the execution (serialized only when asked for:
    /// [`ByteRun::shuttle_schedule`]).
    schedule: shuttle_engine::scheduler::Schedule,
}

impl ByteRun {
    /// shuttle's schedule string of the execution.
    pub fn shuttle_schedule(&self) -> String {
        shuttle_engine::scheduler::serialization::serialize_schedule(&self.schedule)
    }

    /// Preemptions of the execution: preemptive switches between model threads plus the
    /// ticks and wakeup preemptions the model injected.
    pub fn preemptions(&self) -> u32 {
        self.stats.switches + self.outcome.preemptions
    }

    /// Weak-memory reorderings of the execution (model.md m.3).
    pub fn reorderings(&self) -> u32 {
        self.outcome.reorderings
    }

    /// The execution as a finding (when it violated an oracle), numbered `execution`.
    pub fn found(&self, execution: usize) -> Option<Found> {
        self.outcome.violation.as_ref()?;
        Some(Found {
            execution,
            outcome: self.outcome.clone(),
            decisions: self.decisions.clone(),
            shuttle_schedule: self.shuttle_schedule(),
        })
    }
}

/// Run one execution whose every decision comes from `bytes`.
pub fn run_bytes(
    scenario: &Scenario,
    variant: Variant,
    oracles: OracleSet,
    bytes: &[u8],
) -> ByteRun {
    run_bytes_with(scenario, variant, oracles, bytes, &Hooks::default())
}

/// The outcome of `bytes` run once, with `hooks`, without recording its decisions or
/// shuttle's schedule (a fuzz target's input: a crash is turned into a repro file by running
/// it again, `parkrace import`).
pub fn run_bytes_unrecorded(
    scenario: &Scenario,
    variant: Variant,
    oracles: OracleSet,
    bytes: &[u8],
    hooks: &Hooks,
) -> Outcome {
    run_once(
        ByteScheduler::new(bytes.to_vec()),
        hooks,
        scenario,
        variant,
        oracles,
    )
    .unwrap_or_else(Outcome::empty)
}

/// [`run_bytes`], with `hooks` handed to the execution (the fuzz targets' feedback).
pub fn run_bytes_with(
    scenario: &Scenario,
    variant: Variant,
    oracles: OracleSet,
    bytes: &[u8],
    hooks: &Hooks,
) -> ByteRun {
    let sched = ByteScheduler::new(bytes.to_vec());
    let stats = Arc::clone(&sched.stats);
    let shared = Arc::new(Mutex::new(RecorderShared::default()));
    let rec = Recorder::owning(Box::new(sched), Arc::clone(&shared));
    let outcome = run_once(rec, hooks, scenario, variant, oracles).unwrap_or_else(Outcome::empty);
    let stats = *stats.lock().unwrap();
    let mut sh = shared.lock().unwrap();
    ByteRun {
        outcome,
        stats,
        decisions: std::mem::take(&mut sh.decisions),
        schedule: std::mem::take(&mut sh.schedule),
    }
}

/// The schedule bytes that make [`run_bytes`] take the recorded `decisions`.
pub fn bytes_of_decisions(
    scenario: &Scenario,
    variant: Variant,
    oracles: OracleSet,
    decisions: &[Decision],
) -> Result<Vec<u8>, String> {
    let sched = BytesOfDecisions::new(decisions.to_vec());
    let bytes = Arc::clone(&sched.bytes);
    let diverged = sched.diverged();
    run_once(sched, &Hooks::default(), scenario, variant, oracles);
    if let Some(d) = diverged.lock().unwrap().clone() {
        return Err(format!(
            "the recorded schedule does not fit this model: {d}"
        ));
    }
    let b = std::mem::take(&mut *bytes.lock().unwrap());
    Ok(b)
}

/// Sample one random schedule with at most `budget` preemptions (see [`BoundedRandom`]);
/// returns its bytes and its execution.
pub fn sample_bounded(
    scenario: &Scenario,
    variant: Variant,
    oracles: OracleSet,
    seed: u64,
    budget: u32,
    odds: u64,
) -> (Vec<u8>, Outcome) {
    let sched = ByteScheduler::with_source(BoundedRandom::new(seed, budget, odds));
    let bytes = Arc::clone(&sched.taken);
    let outcome = run_once(sched, &Hooks::default(), scenario, variant, oracles)
        .unwrap_or_else(Outcome::empty);
    let b = std::mem::take(&mut *bytes.lock().unwrap());
    (b, outcome)
}
