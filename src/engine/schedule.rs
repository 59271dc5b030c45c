//! A schedule as data: the decisions an execution took (task choices and controlled draws),
//! their text form in repro files, and the [`Recorder`] that writes them down while any
//! scheduler runs, so that a failing execution can be saved and replayed exactly.

use super::shuttle::setup_pick;
use serde::{Deserialize, Serialize};
use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use shuttle_engine::scheduler::ScheduleStep;
use std::fmt;
use std::mem::ManuallyDrop;
use std::sync::{Arc, Mutex};

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
    setup: bool,
    /// Drop the inner scheduler with the recorder (parkrace's own schedulers print nothing;
    /// one recorder per execution must not leak them).
    drop_inner: bool,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.drop_inner {
            // SAFETY: dropped exactly once, here, and never used again.
            unsafe { ManuallyDrop::drop(&mut self.inner) }
        }
    }
}

impl Recorder {
    pub fn new(inner: Box<dyn Scheduler + Send>, shared: Arc<Mutex<RecorderShared>>) -> Self {
        Recorder {
            inner: ManuallyDrop::new(inner),
            shared,
            setup: true,
            drop_inner: false,
        }
    }

    /// A recorder that drops its scheduler when dropped (for parkrace's own schedulers, which
    /// print nothing when dropped mid-search).
    pub fn owning(inner: Box<dyn Scheduler + Send>, shared: Arc<Mutex<RecorderShared>>) -> Self {
        let mut r = Recorder::new(inner, shared);
        r.drop_inner = true;
        r
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
        self.setup = true;
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
        if let Some(t) = setup_pick(&mut self.setup, runnable, current) {
            return Some(t);
        }
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
