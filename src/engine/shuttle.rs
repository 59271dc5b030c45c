//! The shuttle engine: model threads are shuttle threads, every model step is exactly one
//! scheduling point, and blocking uses shuttle's own task blocking (a blocked thread is not
//! runnable, so it costs no scheduling decisions and never wakes spuriously).
//!
//! Schedulers are shuttle's (random, PCT, URW, DFS, see [`crate::strategy`]) or parkrace's
//! own, one per file ([`super::replay`], [`super::bytes`], [`super::bounded`],
//! [`crate::strategy::focus`]), each wrapped in a [`super::schedule::Recorder`] where a
//! failing execution must be saved. This file holds what they share: which task runs during
//! setup, and the order in which a choice lists its candidates.

use crate::runtime::platform::{Join, Platform};
use crate::runtime::world::{Tid, World};
use shuttle::scheduler::{Schedule, Task, TaskId};
use shuttle_engine::runtime::execution::ExecutionState;
use std::sync::{Mutex, MutexGuard};

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

    fn engine_id(&self, t: Tid) -> Option<usize> {
        self.ids
            .lock()
            .unwrap()
            .get(t)
            .copied()
            .flatten()
            .map(usize::from)
    }

    fn spawn(&self, _name: String, f: Box<dyn FnOnce() + Send>) -> Join {
        let h = shuttle::thread::spawn(f);
        Box::new(move || {
            let _ = h.join();
        })
    }
}

/// Setup is not part of the search: while the harness (shuttle's main task, id 0) has not yet
/// blocked, it is spawning model threads, which only register and wait for the start gate.
/// Every scheduler here keeps the harness running through setup without a decision, so that
/// no schedule spends choices (or preemptions) on it. Returns the harness while in setup.
pub(crate) fn setup_pick(
    setup: &mut bool,
    runnable: &[&Task],
    current: Option<TaskId>,
) -> Option<TaskId> {
    if !*setup {
        return None;
    }
    let main = TaskId::from(0);
    if current == Some(main) && runnable.iter().any(|t| t.id() == main) {
        return Some(main);
    }
    if current.is_some() {
        *setup = false;
    }
    None
}

/// The frame of a scheduler that runs exactly one execution, with setup kept out of it.
#[derive(Debug)]
pub(crate) struct OneExecution {
    started: bool,
    setup: bool,
}

impl OneExecution {
    pub(crate) fn new() -> Self {
        OneExecution {
            started: false,
            setup: true,
        }
    }

    pub(crate) fn new_execution(&mut self) -> Option<Schedule> {
        if self.started {
            return None;
        }
        self.started = true;
        Some(Schedule::new(0))
    }

    pub(crate) fn setup_pick(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
    ) -> Option<TaskId> {
        setup_pick(&mut self.setup, runnable, current)
    }
}

/// The order in which a schedule byte picks a task: the current task first when it can go
/// on (so byte 0 means "no preemption"), then the other runnable tasks by ascending id (so
/// smaller bytes mean lower ids).
pub(crate) fn candidates(runnable: &[&Task], current: Option<TaskId>) -> (Vec<TaskId>, bool) {
    let mut ids = Vec::with_capacity(runnable.len());
    let cur = candidates_into(&mut ids, runnable, current);
    (ids, cur)
}

/// [`candidates`] into `ids` (cleared first; a buffer a scheduler keeps): whether the
/// current task is among them (first).
pub(crate) fn candidates_into(
    ids: &mut Vec<TaskId>,
    runnable: &[&Task],
    current: Option<TaskId>,
) -> bool {
    ids.clear();
    ids.extend(runnable.iter().map(|t| t.id()));
    ids.sort_unstable_by_key(|&t| usize::from(t));
    let Some(at) = current.and_then(|c| ids.iter().position(|&t| t == c)) else {
        return false;
    };
    ids[..=at].rotate_right(1);
    true
}
