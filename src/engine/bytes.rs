//! The byte-driven scheduler: every real decision of an execution is one byte of input
//! (fuzzer or proptest input, random bytes, a minimized schedule), 0 meaning "no preemption",
//! and [`BoundedRandom`], a source of random schedules with at most K preemptions.

use super::shuttle::{OneExecution, candidates};
use crate::runtime::DRAW_PERIOD;
use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use std::fmt;
use std::sync::{Arc, Mutex};

/// Counters of one byte-driven execution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ByteStats {
    /// Schedule bytes read from the input (decisions taken while input lasted).
    pub consumed: usize,
    /// Real decisions taken (input or, once it ran out, the zero default).
    pub decisions: usize,
    /// Preemptive switches: the running task could go on and another one was chosen.
    pub switches: u32,
}

/// Where a [`ByteScheduler`] gets its bytes.
pub trait ByteSource: fmt::Debug + Send {
    /// The byte of a task choice among `n > 1` candidates (candidate 0 is the running task
    /// when `running_can_go_on`).
    fn task(&mut self, n: usize, running_can_go_on: bool) -> u8;
    /// The byte of a controlled draw (0 is "no").
    fn value(&mut self) -> u8;
    /// How many bytes came from real input (the rest were defaults).
    fn consumed(&self) -> usize;
}

/// Input bytes, then zeros.
#[derive(Debug)]
pub struct InputBytes {
    bytes: Vec<u8>,
    pos: usize,
}

impl InputBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        InputBytes { bytes, pos: 0 }
    }

    fn next(&mut self) -> u8 {
        let b = self.bytes.get(self.pos).copied().unwrap_or(0);
        self.pos = (self.pos + 1).min(self.bytes.len());
        b
    }
}

impl ByteSource for InputBytes {
    fn task(&mut self, _n: usize, _running_can_go_on: bool) -> u8 {
        self.next()
    }
    fn value(&mut self) -> u8 {
        self.next()
    }
    fn consumed(&self) -> usize {
        self.pos
    }
}

/// A scheduler driven by schedule bytes (fuzzer or proptest input), one byte per real
/// decision:
///
/// - a task choice with more than one runnable task takes a byte `b` and runs candidate
///   `b % n` of `candidates`: 0 keeps the running task (no preemption), larger values pick
///   other tasks by ascending id; a choice with one runnable task takes nothing;
/// - a controlled draw (`next_u64`: tick injection, wakeup preemption) returns the byte, and
///   the model reads a zero draw as "no".
///
/// With [`InputBytes`], missing input reads as 0: the execution goes on deterministically
/// without preemption to its end (so a deadlock at the end is still seen). Every byte taken
/// is written down in `taken`, so a schedule from any source replays from those bytes.
#[derive(Debug)]
pub struct ByteScheduler<S: ByteSource = InputBytes> {
    source: S,
    once: OneExecution,
    pub stats: Arc<Mutex<ByteStats>>,
    pub taken: Arc<Mutex<Vec<u8>>>,
}

impl ByteScheduler<InputBytes> {
    pub fn new(bytes: Vec<u8>) -> Self {
        ByteScheduler::with_source(InputBytes::new(bytes))
    }
}

impl<S: ByteSource> ByteScheduler<S> {
    pub fn with_source(source: S) -> Self {
        ByteScheduler {
            source,
            once: OneExecution::new(),
            stats: Arc::new(Mutex::new(ByteStats::default())),
            taken: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn took(&mut self, b: u8) {
        self.taken.lock().unwrap().push(b);
        let mut st = self.stats.lock().unwrap();
        st.decisions += 1;
        st.consumed = self.source.consumed();
    }
}

impl<S: ByteSource> Scheduler for ByteScheduler<S> {
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
        let (cands, cur_runs) = candidates(runnable, current);
        match cands.len() {
            0 => None,
            1 => Some(cands[0]),
            n => {
                let b = self.source.task(n, cur_runs);
                self.took(b);
                let i = b as usize % n;
                if cur_runs && i != 0 {
                    self.stats.lock().unwrap().switches += 1;
                }
                Some(cands[i])
            }
        }
    }

    fn next_u64(&mut self) -> u64 {
        let b = self.source.value();
        self.took(b);
        u64::from(b)
    }
}

/// A [`ByteSource`] of random schedules with at most `budget` preemptions (preemptive
/// switches or injected ticks/wakeup preemptions). Where the running task cannot go on, the
/// next one is a free random choice; where it can, it is preempted with probability 1/`odds`
/// while the budget lasts.
#[derive(Debug)]
pub struct BoundedRandom {
    rng: crate::scenario::SplitMix,
    budget: u32,
    odds: u64,
}

impl BoundedRandom {
    pub fn new(seed: u64, budget: u32, odds: u64) -> Self {
        BoundedRandom {
            rng: crate::scenario::SplitMix(seed),
            budget,
            odds: odds.max(1),
        }
    }

    fn preempt(&mut self) -> bool {
        if self.budget > 0 && self.rng.next().is_multiple_of(self.odds) {
            self.budget -= 1;
            true
        } else {
            false
        }
    }
}

impl ByteSource for BoundedRandom {
    fn task(&mut self, n: usize, running_can_go_on: bool) -> u8 {
        let n = n as u64;
        let i = if !running_can_go_on {
            self.rng.below(n)
        } else if self.preempt() {
            1 + self.rng.below(n - 1)
        } else {
            0
        };
        i as u8
    }

    fn value(&mut self) -> u8 {
        // DRAW_PERIOD - 1 is "yes" for every odds the model draws with.
        if self.preempt() {
            (DRAW_PERIOD - 1) as u8
        } else {
            0
        }
    }

    fn consumed(&self) -> usize {
        0
    }
}
