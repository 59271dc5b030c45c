//! The shuttle engine: model threads are shuttle threads, every model step is exactly one
//! scheduling point, and blocking uses shuttle's own task blocking (a blocked thread is not
//! runnable, so it costs no scheduling decisions and never wakes spuriously).
//!
//! Schedulers are shuttle's (random, PCT, URW, DFS) or parkrace's replay, each wrapped in a
//! [`Recorder`] that keeps the decisions of the current execution so a failing one can be saved
//! and replayed exactly.

use crate::runtime::platform::{Join, Platform};
use crate::runtime::world::{Tid, World};
use serde::{Deserialize, Serialize};
use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use shuttle_engine::runtime::execution::ExecutionState;
use shuttle_engine::scheduler::ScheduleStep;
use std::fmt;
use std::mem::ManuallyDrop;
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
struct OneExecution {
    started: bool,
    setup: bool,
}

impl OneExecution {
    fn new() -> Self {
        OneExecution {
            started: false,
            setup: true,
        }
    }

    fn new_execution(&mut self) -> Option<Schedule> {
        if self.started {
            return None;
        }
        self.started = true;
        Some(Schedule::new(0))
    }

    fn setup_pick(&mut self, runnable: &[&Task], current: Option<TaskId>) -> Option<TaskId> {
        setup_pick(&mut self.setup, runnable, current)
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

/// The order in which a schedule byte picks a task: the current task first when it can go
/// on (so byte 0 means "no preemption"), then the other runnable tasks by ascending id (so
/// smaller bytes mean lower ids).
pub(crate) fn candidates(runnable: &[&Task], current: Option<TaskId>) -> (Vec<TaskId>, bool) {
    let mut ids: Vec<TaskId> = runnable.iter().map(|t| t.id()).collect();
    ids.sort_unstable_by_key(|&t| usize::from(t));
    let cur = current.filter(|c| ids.contains(c));
    if let Some(c) = cur {
        ids.retain(|&t| t != c);
        ids.insert(0, c);
    }
    (ids, cur.is_some())
}

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

/// Replays recorded decisions and writes down the schedule bytes that make
/// [`ByteScheduler`] take the same decisions.
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
            (crate::runtime::DRAW_PERIOD - 1) as u8
        } else {
            0
        }
    }

    fn consumed(&self) -> usize {
        0
    }
}
