//! Replaying a recorded schedule: [`ReplayScheduler`] feeds recorded decisions back (and notes
//! where they stop fitting the model instead of panicking); [`BytesOfDecisions`] replays them
//! while writing down the schedule bytes that make the byte-driven scheduler take the same
//! decisions.

use super::schedule::Decision;
use super::shuttle::{OneExecution, candidates, setup_pick};
use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use std::sync::{Arc, Mutex};

/// Replays recorded decisions; notes a divergence instead of panicking.
#[derive(Debug)]
pub struct ReplayScheduler {
    decisions: Vec<Decision>,
    pos: usize,
    once: OneExecution,
    pub diverged: Arc<Mutex<Option<String>>>,
}

impl ReplayScheduler {
    pub fn new(decisions: Vec<Decision>) -> Self {
        ReplayScheduler {
            decisions,
            pos: 0,
            once: OneExecution::new(),
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
        self.once.new_execution()
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        _is_yielding: bool,
    ) -> Option<TaskId> {
        if let Some(t) = self.once.setup_pick(runnable, current) {
            return Some(t);
        }
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

/// Replays recorded decisions and writes down the schedule bytes that make
/// [`super::bytes::ByteScheduler`] take the same decisions.
#[derive(Debug)]
pub struct BytesOfDecisions {
    replay: ReplayScheduler,
    setup: bool,
    pub bytes: Arc<Mutex<Vec<u8>>>,
}

impl BytesOfDecisions {
    pub fn new(decisions: Vec<Decision>) -> Self {
        BytesOfDecisions {
            replay: ReplayScheduler::new(decisions),
            setup: true,
            bytes: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub fn diverged(&self) -> Arc<Mutex<Option<String>>> {
        Arc::clone(&self.replay.diverged)
    }
}

impl Scheduler for BytesOfDecisions {
    fn new_execution(&mut self) -> Option<Schedule> {
        self.replay.new_execution()
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
        let t = self.replay.next_task(runnable, current, is_yielding)?;
        let (cands, _) = candidates(runnable, current);
        if cands.len() > 1 {
            let i = cands.iter().position(|&c| c == t).unwrap_or(0);
            self.bytes.lock().unwrap().push(i as u8);
        }
        Some(t)
    }

    fn next_u64(&mut self) -> u64 {
        let v = self.replay.next_u64();
        self.bytes
            .lock()
            .unwrap()
            .push((v % crate::runtime::DRAW_PERIOD) as u8);
        v
    }
}
