//! Bounded-exhaustive search: every schedule of a scenario within a bound of K deviations from
//! a deterministic default schedule (preemptions, as CHESS's context bounding counts them, or
//! preemptions plus delays), depth first, one shuttle execution per schedule.
//!
//! A schedule is the sequence of real decisions of the byte-driven scheduler
//! ([`super::bytes::ByteScheduler`]): a task choice among `n > 1` candidates (candidate 0
//! is the running task when it can go on, else the lowest id) or a controlled draw (tick or
//! wakeup preemption: "no" or "yes"). The default is option 0 everywhere: no preemption, no
//! injected tick, and where the running task blocks, spins or ends, the next candidate by id.
//! Every other option costs one:
//!
//! - switching away from a running task that could go on: a preemption;
//! - a draw of "yes" (the model injects a tick or a wakeup preemption): a preemption;
//! - where the running task cannot go on, choosing another than the default: a delay.
//!
//! [`BoundKind::Preemptions`] counts preemptions only, as CHESS's context bounding does: every
//! choice where the running task cannot go on is free (or capped separately, `--delays D`).
//! That is the stronger proof. In this model a task blocks at every contended lock, every
//! switch and every spin, 10 to 20 times per execution with 2 to 5 candidates each, so the
//! free choices multiply: without a reduction, even K = 0 has hundreds of thousands of
//! schedules on a two-CPU scenario. Most of them only reorder independent steps, and the state
//! cache ([`super::statecache`], on in `verify` unless `--no-state-cache`) folds those: a
//! prefix that reaches a state already explored with as much of the bound left is cut there.
//! Under [`BoundKind::Delays`] (delay bounding, Emmi, Qadeer and Rakamarić, POPL 2011) every
//! non-default choice costs one, and a clean result proves: no schedule within K preemptions
//! plus delays violates the checked oracles.
//!
//! Once an execution halts (a violation was recorded, the scenario ended, or the cache cut
//! it), its threads only unwind and the verdict is fixed: those decisions take the default
//! and are not branched on.
//!
//! Each execution replays a prefix of choices and then takes the
//! default at every later decision; the next prefix is the deepest decision with an untried
//! option that keeps the cost within the bound. The model is deterministic under a given
//! sequence of choices, so the same prefix always leads to the same decisions. A schedule
//! converts one-to-one to schedule bytes, which the byte-driven scheduler replays.

use super::shuttle::{candidates, setup_pick};
use super::statecache::Visited;
use crate::harness::{Ask, Probe};
use crate::runtime::DRAW_PERIOD;
use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One decision of an execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Point {
    /// How many options the decision had (2 for a draw: no, yes).
    options: u8,
    /// A non-zero option is a preemption (the running task could go on, or a draw), not a
    /// delay.
    preemptive: bool,
    /// A controlled draw (its option 1 is the byte `DRAW_PERIOD - 1`, "yes").
    draw: bool,
    /// The option taken.
    chosen: u8,
}

impl Point {
    /// What taking `option` costs, as (preemptions, delays): every option but the default
    /// costs one preemption where the running task could go on or for a draw, one delay
    /// where it could not (see the module documentation).
    fn cost(&self, option: u8) -> (u32, u32) {
        match (option != 0, self.preemptive) {
            (false, _) => (0, 0),
            (true, true) => (1, 0),
            (true, false) => (0, 1),
        }
    }

    /// The schedule byte that makes the byte-driven scheduler take the same option.
    fn byte(&self) -> u8 {
        if self.draw && self.chosen != 0 {
            (DRAW_PERIOD - 1) as u8
        } else {
            self.chosen
        }
    }
}

/// Counters of a bounded search, shared with its caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BoundedStats {
    /// Executions (distinct schedules) started.
    pub executions: u64,
    /// The most decisions one execution took.
    pub max_decisions: usize,
    /// Every schedule within the bound was explored.
    pub exhausted: bool,
    /// Distinct states recorded by the state cache (0 without it).
    pub states: u64,
    /// Executions cut at a state already explored (0 without the state cache).
    pub cuts: u64,
}

/// The schedule at which a search was stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stopped {
    /// Its schedule bytes (for the byte-driven scheduler).
    pub bytes: Vec<u8>,
    /// Its delays (non-default choices where the running task could not go on).
    pub delays: u32,
}

/// What a bound counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BoundKind {
    /// Preemptions only (CHESS's context bounding): where the running task cannot go on,
    /// every choice is free.
    #[default]
    Preemptions,
    /// Preemptions plus delays (delay bounding): every non-default choice costs one.
    Delays,
}

/// The depth-first search over schedules with at most `bound` preemptions (plus delays,
/// under [`BoundKind::Delays`]; under [`BoundKind::Preemptions`], with at most `delays`
/// delays where that is given).
#[derive(Debug)]
pub struct BoundedDfs {
    bound: u32,
    kind: BoundKind,
    delays: Option<u32>,
    /// The options to take at the first decisions of the next execution.
    prefix: Vec<u8>,
    /// The decisions of the current execution.
    trail: Vec<Point>,
    setup: bool,
    started: bool,
    /// Preemptions and delays taken so far in the current execution.
    spent: (u32, u32),
    /// The state cache ([`super::statecache`]), when on.
    cache: Option<Visited>,
    /// States recorded in the current execution (never cut against themselves).
    fresh: HashSet<u128>,
    /// The current execution is halting (its verdict is fixed, or the state cache cut it):
    /// its threads only unwind now, without decisions.
    unwinding: bool,
    /// Set by the caller to end the search after the current execution.
    pub stop: Arc<AtomicBool>,
    pub stats: Arc<Mutex<BoundedStats>>,
    /// The schedule of the execution that was current when the search stopped.
    pub last: Arc<Mutex<Stopped>>,
    /// Where a supervisor watches the search go (progress lines).
    watch: Option<Arc<Watch>>,
    /// The window into the execution being scheduled (hand it to each execution).
    probe: Probe,
}

/// A running search's progress, for a supervisor to show while it runs.
#[derive(Debug, Default)]
pub struct Watch {
    /// The bound being searched.
    pub bound: AtomicU32,
    /// Executions within that bound so far.
    pub executions: AtomicU64,
    /// Distinct states the state cache holds so far (0 without it).
    pub states: AtomicU64,
}

impl BoundedDfs {
    pub fn new(bound: u32, kind: BoundKind, delays: Option<u32>) -> Self {
        BoundedDfs {
            bound,
            kind,
            delays,
            prefix: Vec::new(),
            trail: Vec::new(),
            setup: true,
            started: false,
            spent: (0, 0),
            cache: None,
            fresh: HashSet::new(),
            unwinding: false,
            stop: Arc::new(AtomicBool::new(false)),
            stats: Arc::new(Mutex::new(BoundedStats::default())),
            last: Arc::new(Mutex::new(Stopped::default())),
            watch: None,
            probe: Probe::default(),
        }
    }

    /// The probe each execution this search schedules must be handed
    /// ([`crate::harness::Hooks::probe`]).
    pub fn probe(&self) -> Probe {
        self.probe.clone()
    }

    /// Report progress into `w` (its bound is set here).
    pub fn watched(mut self, w: Arc<Watch>) -> Self {
        w.bound.store(self.bound, Ordering::Relaxed);
        w.executions.store(0, Ordering::Relaxed);
        w.states.store(0, Ordering::Relaxed);
        self.watch = Some(w);
        self
    }

    /// Cut every execution that reaches an already explored state ([`super::statecache`];
    /// the caller hands each execution fingerprints and the probe).
    pub fn with_state_cache(mut self) -> Self {
        self.cache = Some(Visited::default());
        self
    }

    /// Whether to branch at a decision: not once the execution is halting (the verdict is
    /// fixed, every thread only unwinds: no order of that is a schedule of its own), nor at a
    /// state the state cache has seen explored with as much of the bound left (then the
    /// execution is halted here). Only decisions past the replayed prefix are looked at.
    fn branch_here(&mut self, current: Option<TaskId>, cur_runs: bool) -> bool {
        if self.trail.len() < self.prefix.len() {
            return true;
        }
        let ask = if self.cache.is_some() {
            Ask::Fingerprint
        } else {
            Ask::Status
        };
        let Some(seen) = self.probe.ask(ask) else {
            return true;
        };
        if seen.halting {
            return false;
        }
        // Asked for only with the cache on.
        let Some(world) = seen.fingerprint else {
            return true;
        };
        // Who ran last matters only where it could go on (then switching away costs a
        // preemption); where it blocked or ended, the choice ahead is the same without it.
        let cur = current
            .filter(|_| cur_runs)
            .map_or(u128::MAX, |t| usize::from(t) as u128);
        let state = world ^ cur.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
        if self.fresh.contains(&state) {
            return true;
        }
        let cost = self.counted(self.spent.0, self.spent.1);
        let cache = self.cache.as_mut().expect("checked above");
        if cache.covered(state, cost) {
            self.probe.ask(Ask::Halt);
            return false;
        }
        self.fresh.insert(state);
        true
    }

    /// The schedule bytes of the current execution's choices.
    fn bytes(&self) -> Vec<u8> {
        self.trail.iter().map(Point::byte).collect()
    }

    /// Whether `preemptions` and `delays` are within the bound.
    fn fits(&self, preemptions: u32, delays: u32) -> bool {
        let (k, d) = self.counted(preemptions, delays);
        k <= self.bound && self.delays.is_none_or(|cap| d <= cap)
    }

    /// What the bound counts of `preemptions` and `delays`: K's count, and the delays capped
    /// beside it (0 where nothing is capped).
    fn counted(&self, preemptions: u32, delays: u32) -> (u32, u32) {
        match (self.kind, self.delays) {
            (BoundKind::Delays, _) => (preemptions + delays, 0),
            (BoundKind::Preemptions, None) => (preemptions, 0),
            (BoundKind::Preemptions, Some(_)) => (preemptions, delays),
        }
    }

    /// The next prefix: the deepest decision with an untried option within the bound.
    fn advance(&mut self) -> bool {
        let mut cost = Vec::with_capacity(self.trail.len() + 1);
        let (mut p, mut d) = (0, 0);
        for pt in &self.trail {
            cost.push((p, d));
            let (a, b) = pt.cost(pt.chosen);
            (p, d) = (p + a, d + b);
        }
        for j in (0..self.trail.len()).rev() {
            let pt = self.trail[j];
            let (p, d) = cost[j];
            if let Some(o) = (pt.chosen + 1..pt.options).find(|&o| {
                let (a, b) = pt.cost(o);
                self.fits(p + a, d + b)
            }) {
                self.prefix = self.trail[..j].iter().map(|p| p.chosen).collect();
                self.prefix.push(o);
                return true;
            }
        }
        false
    }

    /// Take the prefix's option at the next decision, or the default (0).
    fn take(&mut self, options: u8, preemptive: bool, draw: bool) -> u8 {
        let i = self.trail.len();
        let chosen = self.prefix.get(i).copied().unwrap_or(0).min(options - 1);
        self.trail.push(Point {
            options,
            preemptive,
            draw,
            chosen,
        });
        let (a, b) = self.trail[i].cost(chosen);
        self.spent = (self.spent.0 + a, self.spent.1 + b);
        chosen
    }
}

impl Scheduler for BoundedDfs {
    fn new_execution(&mut self) -> Option<Schedule> {
        if self.started {
            {
                let mut st = self.stats.lock().unwrap();
                st.max_decisions = st.max_decisions.max(self.trail.len());
                if let Some(c) = &self.cache {
                    st.states = c.len() as u64;
                    st.cuts = c.cuts;
                }
            }
            if self.stop.load(Ordering::Relaxed) {
                *self.last.lock().unwrap() = Stopped {
                    bytes: self.bytes(),
                    delays: self
                        .trail
                        .iter()
                        .filter(|p| !p.preemptive && p.chosen != 0)
                        .count() as u32,
                };
                return None;
            }
            if !self.advance() {
                self.stats.lock().unwrap().exhausted = true;
                return None;
            }
        }
        self.started = true;
        self.trail.clear();
        self.setup = true;
        self.spent = (0, 0);
        self.fresh.clear();
        self.unwinding = false;
        let n = {
            let mut st = self.stats.lock().unwrap();
            st.executions += 1;
            st.executions
        };
        if let Some(w) = &self.watch {
            w.executions.store(n, Ordering::Relaxed);
            let states = self.cache.as_ref().map_or(0, |c| c.len() as u64);
            w.states.store(states, Ordering::Relaxed);
        }
        Some(Schedule::new(0))
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        _is_yielding: bool,
    ) -> Option<TaskId> {
        if let Some(t) = setup_pick(&mut self.setup, runnable, current) {
            return Some(t);
        }
        let (cands, cur_runs) = candidates(runnable, current);
        match cands.len() {
            0 => None,
            1 => Some(cands[0]),
            _ if self.unwinding => Some(cands[0]),
            _ if !self.branch_here(current, cur_runs) => {
                self.unwinding = true;
                Some(cands[0])
            }
            n => {
                let o = self.take(n.min(u8::MAX as usize) as u8, cur_runs, false);
                Some(cands[o as usize])
            }
        }
    }

    fn next_u64(&mut self) -> u64 {
        if self.unwinding || self.take(2, true, true) == 0 {
            0
        } else {
            DRAW_PERIOD - 1
        }
    }
}
