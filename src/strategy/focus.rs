//! Conflict-directed PCT (`--strategy focus`): parkrace's own search strategy.
//!
//! PCT (Burckhardt et al., ASPLOS 2010) runs the highest-priority runnable task and, at d - 1
//! change points drawn uniformly among the k scheduling points of an execution, drops the
//! running task to the lowest priority. Its chance of hitting a bug of depth d is
//! 1/(n k^(d-1)), and here k is about 200 while the races need the other CPU to run between
//! two particular steps, so PCT at depth 3 or 4 needs hundreds to thousands of executions
//! (README, "Comparing strategies"). But most of the model's steps cannot race: taking or
//! dropping a lock, picking the next task, `preempt_disable`. What races is the protocol's
//! shared state: a task's state word, `on_rq`, `on_cpu`, a completion's count and the kthread
//! flags. So this scheduler places priority change points only at *conflicting accesses*:
//!
//! - each task gets a random priority when it is first seen; the highest-priority runnable
//!   task runs;
//! - after a step that read or wrote shared protocol state, the next decision where the
//!   running task could go on is a change point with probability 1/`odds`: the running task
//!   drops below every other, so another task runs from there, in the window right after the
//!   access;
//! - no other decision changes a priority, so between conflicting accesses a task runs as far
//!   as it can, as under PCT;
//! - controlled draws (an injected tick, a wakeup preemption) are uniformly random, as under
//!   shuttle's random and PCT schedulers;
//! - the first execution of a run has no change points and runs the lowest id first, as
//!   PCT's first execution does: the schedule CHESS tries first, where the races that need
//!   no preemption between threads (V0 and V1's early return, `kthread_stop` of a
//!   never-parked thread) show at once.
//!
//! The number of change points is not bounded: each conflicting access is a coin toss, so an
//! execution preempts about (conflicting accesses)/`odds` times, all of them at places where
//! a preemption can change what another task reads.
//!
//! `focus:N` fixes `odds` at N. Plain `focus` draws it per execution: 2 for half of the
//! executions, and no change points at all for the other half (PCT at depth 1 with random
//! priorities: one task goes as far as it can, and the races that need only an injected tick
//! at the right place show there). On the cross-CPU V2 races the mixture needs about twice the
//! executions of `focus:2`; on the ablation where PCT at depth 1 wins (V5 with V2's completer,
//! preempt-parked) it needs a tenth (README, "Comparing strategies").
//!
//! The scheduler learns of conflicting accesses through its [`Hint`], an observer handed to
//! every execution it schedules ([`crate::harness::Hooks`]): it sees every event a step
//! records and raises a flag on a shared access, which the next scheduling decision takes.
//! Everything else is drawn from a seeded SplitMix, so a run repeats exactly from its seed.

use crate::engine::shuttle::{candidates, setup_pick};
use crate::harness::ObserverFactory;
use crate::runtime::observe::Observer;
use crate::runtime::trace::{Event, What};
use crate::runtime::types::{Kind, Tid};
use crate::scenario::SplitMix;
use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The odds of a change point at a conflicting access in plain `focus`'s executions that
/// have change points (probability 1/2).
pub const MIXED_ODDS: u32 = 2;

/// Whether a trace event is a conflicting access: a read or write of a shared protocol
/// variable (task state, `on_rq`, `on_cpu`, a completion's `done`, a kthread flag).
pub fn conflicting(what: &What) -> bool {
    what.access().is_some()
}

/// A conflicting access happened since the last real decision: raised by the observer of
/// the execution being scheduled, taken by the scheduler.
#[derive(Clone, Debug, Default)]
pub struct Hint(Arc<AtomicBool>);

impl Hint {
    /// Take the pending conflicting access, if any.
    fn take(&self) -> bool {
        self.0.swap(false, Ordering::Relaxed)
    }

    /// The observer factory for the executions this hint's scheduler schedules.
    pub fn observers(&self) -> ObserverFactory {
        let h = self.clone();
        Arc::new(move || Box::new(h.clone()))
    }
}

impl Observer for Hint {
    fn event(&mut self, e: &Event, _kind_of: &dyn Fn(Tid) -> Kind) {
        if conflicting(&e.what) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// The conflict-directed PCT scheduler (see the module documentation).
#[derive(Debug)]
pub struct FocusScheduler {
    rng: SplitMix,
    /// Fixed odds (`focus:N`), or `None` for plain `focus`'s per-execution mixture.
    fixed: Option<u32>,
    /// This execution's odds (0: no change points, as in every run's first execution).
    odds: u64,
    executions_left: usize,
    /// Executions started (the first runs the lowest id first).
    started: usize,
    setup: bool,
    /// Priority of each shuttle task seen so far in this execution; higher runs first.
    prio: Vec<u64>,
    /// The priority the next change point gives (below every priority given so far).
    low: u64,
    /// Raised by the executions' observers at each conflicting access.
    hint: Hint,
}

impl FocusScheduler {
    /// A scheduler for `executions` executions from `seed`, with a change point at a
    /// conflicting access with probability 1/`odds` (`None`: plain `focus`'s mixture).
    pub fn new(seed: u64, odds: Option<u32>, executions: usize) -> Self {
        FocusScheduler {
            rng: SplitMix(seed ^ 0xf0c5_f0c5_f0c5_f0c5),
            fixed: odds,
            hint: Hint::default(),
            odds: 0,
            executions_left: executions,
            started: 0,
            setup: true,
            prio: Vec::new(),
            low: 0,
        }
    }

    /// The priority of shuttle task `t` (drawn when first asked).
    /// The hint its executions' observers raise (hand [`Hint::observers`] to each).
    pub fn hint(&self) -> Hint {
        self.hint.clone()
    }

    fn priority(&mut self, t: TaskId) -> u64 {
        let i = usize::from(t);
        while self.prio.len() <= i {
            // Initial priorities sit above every priority a change point gives. The first
            // execution runs the lowest id first (as PCT's first execution does).
            let p = if self.started == 1 {
                (1 << 62) - self.prio.len() as u64
            } else {
                (1 << 62) + (self.rng.next() >> 2)
            };
            self.prio.push(p);
        }
        self.prio[i]
    }
}

impl Scheduler for FocusScheduler {
    fn new_execution(&mut self) -> Option<Schedule> {
        if self.executions_left == 0 {
            return None;
        }
        self.executions_left -= 1;
        self.started += 1;
        let odds = match self.fixed {
            Some(n) => u64::from(n.max(1)),
            None if self.rng.below(2) == 0 => u64::from(MIXED_ODDS),
            None => 0,
        };
        // The first execution has no change points (drawn all the same, so that the random
        // stream of later executions does not depend on it).
        self.odds = if self.started == 1 { 0 } else { odds };
        self.setup = true;
        self.prio.clear();
        self.low = 1 << 61;
        self.hint.take();
        Some(Schedule::new(0))
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        _is_yielding: bool,
    ) -> Option<TaskId> {
        if let Some(t) = setup_pick(&mut self.setup, runnable, current) {
            self.hint.take();
            return Some(t);
        }
        let (cands, cur_runs) = candidates(runnable, current);
        if cands.len() < 2 {
            return cands.first().copied();
        }
        if self.hint.take() && cur_runs && self.odds != 0 && self.rng.below(self.odds) == 0 {
            // Draw the running task's priority first if it has none yet, so the draws happen
            // in the same order as without the change point.
            self.priority(cands[0]);
            self.low -= 1;
            self.prio[usize::from(cands[0])] = self.low;
        }
        let mut best = cands[0];
        let mut top = self.priority(best);
        for &c in &cands[1..] {
            let p = self.priority(c);
            if p > top {
                (best, top) = (c, p);
            }
        }
        Some(best)
    }

    fn next_u64(&mut self) -> u64 {
        self.rng.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicting_accesses_are_the_shared_protocol_state_only() {
        assert!(conflicting(&What::StateWrite {
            task: 1,
            old: 0,
            new: 1
        }));
        assert!(conflicting(&What::DoneRead { comp: 0, value: 0 }));
        assert!(conflicting(&What::FlagTest {
            bit: 0,
            value: false
        }));
        assert!(!conflicting(&What::Lock {
            lock: crate::runtime::trace::LockKey::Rq(0)
        }));
        assert!(!conflicting(&What::Note { text: "x".into() }));
    }

    #[test]
    fn a_hint_is_pending_until_taken() {
        let hint = Hint::default();
        let mut observer = (hint.observers())();
        let kind = |_| Kind::Controller;
        let event = |what| Event {
            step: 1,
            task: 0,
            cpu: None,
            func: "f".into(),
            what,
        };
        observer.event(&event(What::Note { text: "x".into() }), &kind);
        assert!(!hint.take());
        observer.event(&event(What::OnCpu { task: 0, new: true }), &kind);
        assert!(hint.take());
        assert!(!hint.take());
    }
}
