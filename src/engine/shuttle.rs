//! The shuttle engine: model threads are shuttle threads, every model step is exactly one
//! scheduling point, and blocking uses shuttle's own task blocking (a blocked thread is not
//! runnable, so it costs no scheduling decisions and never wakes spuriously).
//!
//! Schedulers are shuttle's (random, PCT, URW, DFS) or parkrace's replay, each wrapped in a
//! [`Recorder`] that keeps the decisions of the current execution so a failing one can be saved
//! and replayed exactly.

use super::{Join, Platform};
use crate::model::world::{Tid, World};
use serde::{Deserialize, Serialize};
use shuttle::scheduler::{
    DfsScheduler, PctScheduler, RandomScheduler, Schedule, Scheduler, Task, TaskId,
    UrwRandomScheduler,
};
use shuttle_engine::runtime::execution::ExecutionState;
use shuttle_engine::scheduler::ScheduleStep;
use std::fmt;
use std::mem::ManuallyDrop;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};

/// Runs model threads as shuttle threads.
#[derive(Default)]
pub struct ShuttlePlatform {
    ids: Mutex<Vec<Option<TaskId>>>,
}

impl ShuttlePlatform {
    pub fn new(threads: usize) -> Self {
        ShuttlePlatform {
            ids: Mutex::new(vec![None; threads]),
        }
    }
}

impl Platform for ShuttlePlatform {
    fn point(&self) {
        shuttle_engine::runtime::thread::switch();
    }

    fn block<'a>(
        &self,
        _me: Tid,
        guard: MutexGuard<'a, World>,
        lock: &'a Mutex<World>,
    ) -> MutexGuard<'a, World> {
        // Nothing else runs between dropping the guard and switching: shuttle runs one thread
        // at a time and only switches at scheduling points.
        drop(guard);
        ExecutionState::with(|s| s.current_mut().block(false));
        shuttle_engine::runtime::thread::switch();
        lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake(&self, t: Tid) {
        let id = self.ids.lock().unwrap()[t].expect("woken thread is registered");
        ExecutionState::with(|s| s.get_mut(id).unblock());
    }

    fn next_u64(&self) -> u64 {
        ExecutionState::next_u64()
    }

    fn register(&self, me: Tid) {
        self.ids.lock().unwrap()[me] = Some(shuttle_engine::current::me());
    }

    fn spawn(&self, _name: String, f: Box<dyn FnOnce() + Send>) -> Join {
        let h = shuttle::thread::spawn(f);
        Box::new(move || {
            let _ = h.join();
        })
    }
}

/// A search strategy over schedules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Strategy {
    /// shuttle's uniformly random scheduler.
    Random,
    /// shuttle's PCT scheduler with the given depth (number of priority change points + 1).
    Pct(usize),
    /// shuttle's uniform random walk scheduler.
    Urw,
    /// shuttle's depth-first search (exhaustive over task choices; random data fixed).
    Dfs,
}

impl Strategy {
    pub fn all() -> Vec<Strategy> {
        vec![
            Strategy::Random,
            Strategy::Pct(1),
            Strategy::Pct(2),
            Strategy::Pct(3),
            Strategy::Urw,
            Strategy::Dfs,
        ]
    }

    /// Build the shuttle scheduler for `executions` executions from `seed`.
    pub fn scheduler(self, seed: u64, executions: usize) -> Box<dyn Scheduler + Send> {
        match self {
            Strategy::Random => Box::new(RandomScheduler::new_from_seed(seed, executions)),
            Strategy::Pct(d) => Box::new(PctScheduler::new_from_seed(seed, d.max(1), executions)),
            Strategy::Urw => Box::new(UrwRandomScheduler::new_from_seed(seed, executions)),
            Strategy::Dfs => Box::new(DfsScheduler::new(Some(executions), true)),
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Random => f.write_str("random"),
            Strategy::Pct(d) => write!(f, "pct:{d}"),
            Strategy::Urw => f.write_str("urw"),
            Strategy::Dfs => f.write_str("dfs"),
        }
    }
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "random" => Ok(Strategy::Random),
            "pct" => Ok(Strategy::Pct(3)),
            "urw" => Ok(Strategy::Urw),
            "dfs" => Ok(Strategy::Dfs),
            _ => {
                if let Some(d) = s.strip_prefix("pct:") {
                    let d: usize = d.parse().map_err(|_| format!("bad PCT depth in '{s}'"))?;
                    if (1..=16).contains(&d) {
                        return Ok(Strategy::Pct(d));
                    }
                    return Err(format!("PCT depth must be 1 to 16, got {d}"));
                }
                Err(format!(
                    "unknown strategy '{s}' (expected random, pct, pct:D, urw or dfs)"
                ))
            }
        }
    }
}

/// One recorded decision of an execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// `next_task` chose this shuttle task id.
    Task(usize),
    /// `next_u64` returned this value.
    Value(u64),
}

/// Encode decisions compactly: `t3` for a task, `vN` for a value, space separated.
pub fn encode_decisions(d: &[Decision]) -> String {
    let parts: Vec<String> = d
        .iter()
        .map(|x| match x {
            Decision::Task(t) => format!("t{t}"),
            Decision::Value(v) => format!("v{v}"),
        })
        .collect();
    parts.join(" ")
}

/// Parse [`encode_decisions`] output.
pub fn decode_decisions(s: &str) -> Result<Vec<Decision>, String> {
    s.split_whitespace()
        .map(|p| {
            let (k, n) = p.split_at(1);
            match k {
                "t" => n
                    .parse()
                    .map(Decision::Task)
                    .map_err(|_| format!("bad decision '{p}'")),
                "v" => n
                    .parse()
                    .map(Decision::Value)
                    .map_err(|_| format!("bad decision '{p}'")),
                _ => Err(format!("bad decision '{p}'")),
            }
        })
        .collect()
}

/// What the recorder shares with the harness.
#[derive(Default, Debug)]
pub struct RecorderShared {
    /// Stop after the current execution (a violation was found).
    pub stop: bool,
    /// Decisions of the current (or, after a stop, the failing) execution.
    pub decisions: Vec<Decision>,
    /// The shuttle schedule of the current execution (seed + steps), for `shuttle::replay`.
    pub schedule: Schedule,
    /// Executions started.
    pub executions: usize,
}

/// Wraps a scheduler, recording each execution's decisions and stopping on request.
pub struct Recorder {
    // ManuallyDrop: shuttle's schedulers print a "failing seed" banner when dropped after an
    // execution that the runner did not let them finish; parkrace reports failures itself.
    inner: ManuallyDrop<Box<dyn Scheduler + Send>>,
    shared: Arc<Mutex<RecorderShared>>,
}

impl Recorder {
    pub fn new(inner: Box<dyn Scheduler + Send>, shared: Arc<Mutex<RecorderShared>>) -> Self {
        Recorder {
            inner: ManuallyDrop::new(inner),
            shared,
        }
    }
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Recorder")
    }
}

impl Scheduler for Recorder {
    fn new_execution(&mut self) -> Option<Schedule> {
        let mut sh = self.shared.lock().unwrap();
        if sh.stop {
            return None;
        }
        let s = self.inner.new_execution()?;
        sh.decisions.clear();
        sh.schedule = Schedule::new(s.seed);
        sh.executions += 1;
        Some(s)
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> Option<TaskId> {
        let t = self.inner.next_task(runnable, current, is_yielding)?;
        let mut sh = self.shared.lock().unwrap();
        sh.decisions.push(Decision::Task(usize::from(t)));
        sh.schedule.push_task(t);
        Some(t)
    }

    fn next_u64(&mut self) -> u64 {
        let v = self.inner.next_u64();
        let mut sh = self.shared.lock().unwrap();
        sh.decisions.push(Decision::Value(v));
        sh.schedule.steps.push(ScheduleStep::Random);
        v
    }
}

/// Replays recorded decisions; notes a divergence instead of panicking.
#[derive(Debug)]
pub struct ReplayScheduler {
    decisions: Vec<Decision>,
    pos: usize,
    started: bool,
    pub diverged: Arc<Mutex<Option<String>>>,
}

impl ReplayScheduler {
    pub fn new(decisions: Vec<Decision>) -> Self {
        ReplayScheduler {
            decisions,
            pos: 0,
            started: false,
            diverged: Arc::new(Mutex::new(None)),
        }
    }

    fn diverge(&self, why: String) {
        let mut d = self.diverged.lock().unwrap();
        if d.is_none() {
            *d = Some(why);
        }
    }
}

impl Scheduler for ReplayScheduler {
    fn new_execution(&mut self) -> Option<Schedule> {
        if self.started {
            return None;
        }
        self.started = true;
        Some(Schedule::new(0))
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        _current: Option<TaskId>,
        _is_yielding: bool,
    ) -> Option<TaskId> {
        match self.decisions.get(self.pos) {
            Some(Decision::Task(t)) => {
                self.pos += 1;
                let id = TaskId::from(*t);
                if runnable.iter().any(|r| r.id() == id) {
                    Some(id)
                } else {
                    self.diverge(format!(
                        "decision {}: task {t} is not runnable",
                        self.pos - 1
                    ));
                    None
                }
            }
            other => {
                self.diverge(format!(
                    "decision {}: expected a task choice, found {other:?}",
                    self.pos
                ));
                None
            }
        }
    }

    fn next_u64(&mut self) -> u64 {
        match self.decisions.get(self.pos) {
            Some(Decision::Value(v)) => {
                self.pos += 1;
                *v
            }
            other => {
                self.diverge(format!(
                    "decision {}: expected a value, found {other:?}",
                    self.pos
                ));
                0
            }
        }
    }
}
