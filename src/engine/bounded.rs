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

use super::shuttle::{candidates_into, setup_pick};
use super::statecache::{Left, Seen, Visit, Visited};
use crate::harness::{Ask, Probe};
use crate::runtime::DRAW_PERIOD;
use crate::runtime::footprint::Footprint;
use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use std::collections::{HashMap, HashSet};
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BoundedStats {
    /// Executions (distinct schedules) started.
    pub executions: u64,
    /// Executions started within each bound, 0 up (one entry without a bound): each
    /// schedule is run at the lowest bound it fits, once.
    pub per_bound: Vec<u64>,
    /// The most decisions one execution took.
    pub max_decisions: usize,
    /// Every schedule within the bound was explored.
    pub exhausted: bool,
    /// Distinct states recorded by the state cache (0 without it).
    pub states: u64,
    /// Executions cut at a state already explored (0 without the state cache).
    pub cuts: u64,
    /// Executions cut where they came back to a state on their own path through a cycle
    /// that some runnable thread sat out (an unfair cycle: not a livelock).
    pub cycles: u64,
    /// Transitions explored: the option each execution took anew where it left its prefix,
    /// and every decision after that.
    pub transitions: u64,
    /// Decisions replayed to reach a prefix's end.
    pub replayed: u64,
    /// Executions halted at the step bound, which a search that caches states runs only as a
    /// guard (no state repeated on such a path: it is only long). Any makes the search
    /// inconclusive.
    pub guard_hits: u64,
    /// Under the reduction: options never taken because their thread was asleep (its move
    /// commutes with everything since it was explored), counted where the decision is first
    /// met.
    pub slept: u64,
    /// Under the reduction: executions ended where every thread that could run was asleep.
    pub sleep_cuts: u64,
}

/// A decision among threads under the reduction, as it stays known across the executions
/// that pass it.
#[derive(Clone, Debug)]
struct Node {
    /// The threads to choose from, option by option.
    cands: Vec<TaskId>,
    /// The threads asleep here, each with the footprint of its move (explored from an
    /// ancestor, which no move since conflicts with).
    sleep: Vec<(TaskId, Footprint)>,
    /// Options the state cache says an earlier visit to this state explored (a bit per
    /// option).
    skip: u64,
    /// The options explored here before the current one: their threads and what their
    /// stretches read and wrote (every execution below each, put together).
    done: Vec<(TaskId, Footprint)>,
    /// The same for the current option, so far.
    cur: Footprint,
}

impl Node {
    /// Whether option `o` is to be explored here.
    fn open(&self, o: usize) -> bool {
        self.skip & 1 << o == 0 && !self.sleep.iter().any(|&(t, _)| t == self.cands[o])
    }
}

fn bit(t: TaskId) -> u64 {
    1u64 << usize::from(t).min(63)
}

/// The schedule at which a search was stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stopped {
    /// Its schedule bytes (for the byte-driven scheduler).
    pub bytes: Vec<u8>,
    /// Its delays (non-default choices where the running task could not go on).
    pub delays: u32,
    /// A livelock: the schedule ends where a fair cycle of states closed, which began at
    /// this many decisions (its bytes are `bytes[start..]`) and took `steps` model steps per
    /// turn. Repeating it reaches the step bound in a replay without the state cache.
    pub cycle: Option<Cycle>,
}

/// The cycle at the end of a livelock's schedule (see [`Stopped::cycle`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cycle {
    pub start: usize,
    pub steps: u64,
}

impl Stopped {
    /// The schedule bytes a replay without the state cache needs: a livelock's cycle repeated
    /// until the step bound `max_steps` (the replay's I7) is passed.
    pub fn replay_bytes(&self, max_steps: u64) -> Vec<u8> {
        let Some(c) = self.cycle else {
            return self.bytes.clone();
        };
        let turn = &self.bytes[c.start..];
        let mut out = self.bytes.clone();
        for _ in 0..max_steps / c.steps.max(1) + 2 {
            out.extend_from_slice(turn);
        }
        out
    }
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

/// The search over schedules with at most `bound` preemptions (plus delays, under
/// [`BoundKind::Delays`]; under [`BoundKind::Preemptions`], with at most `delays` delays
/// where that is given), bound by bound without repeats (iterative context bounding,
/// Musuvathi and Qadeer, PLDI 2007): bound 0 is searched depth first; an option that would
/// pass the bound being searched is set aside, as the prefix that takes it, for the next
/// bound; each next bound searches, depth first, only below the prefixes set aside for it.
/// So every schedule runs once, at the lowest bound it fits, and the first violation found
/// has the fewest of what the bound counts. Without a bound, one depth-first search.
#[derive(Debug)]
pub struct BoundedDfs {
    /// The highest bound; `None`: no bound, every option is free (the whole state graph,
    /// with the cache).
    max: Option<u32>,
    /// The bound being searched now (0 up to `max`; `u32::MAX` without a bound).
    level: u32,
    kind: BoundKind,
    delays: Option<u32>,
    /// The options of the first decisions of the next execution (taken again).
    prefix: Vec<u8>,
    /// Decisions below this one belong to the prefix the current depth-first search runs
    /// below (set aside by a lower bound): backtracking never goes above it.
    floor: usize,
    /// The prefixes still to search below within the current bound, and those set aside
    /// for the next.
    jobs: Vec<Vec<u8>>,
    next_jobs: Vec<Vec<u8>>,
    /// The decisions of the current execution.
    trail: Vec<Point>,
    /// `path[d]`: a hash of the current execution's first `d` options.
    path: Vec<u64>,
    setup: bool,
    started: bool,
    /// Preemptions and delays taken so far in the current execution.
    spent: (u32, u32),
    /// The state cache ([`super::statecache`]), when on.
    cache: Option<Visited>,
    /// Every scheduling point of the current execution after setup.
    log: Vec<LogPoint>,
    /// The livelock found by the current execution, if any.
    cycle: Option<Cycle>,
    /// The state graph's edges, when asked for ([`Self::with_edges`]): between consecutive
    /// fingerprinted decisions, with the threads that ran and those that could run
    /// throughout (bits per shuttle task). For the fairness of cycles through a repeated
    /// state ([`fair_component`]).
    edges: Option<HashSet<Edge>>,
    /// The current execution's last fingerprinted decision: its state, scheduling point and
    /// the model steps before it.
    last_fp: Option<(u128, u32, u64)>,
    /// The model steps at the last look at the state where only one thread could run.
    last_look: u64,
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
    /// The edges recorded, handed out when the search is exhausted.
    edges_out: Arc<Mutex<Vec<Edge>>>,
    /// Sleep sets ([`Self::with_reduction`]).
    reduce: bool,
    /// Under the reduction, by decision index: the decisions among threads of the current
    /// execution's path (`None` at draws), kept across executions.
    nodes: Vec<Option<Node>>,
    /// The threads asleep now, with the footprints of their moves.
    asleep: Vec<(TaskId, Footprint)>,
    /// The decision among threads whose option's stretch runs now.
    seg: Option<usize>,
    /// What the state cache said of the state at the last decision, where an earlier visit
    /// with other threads asleep explored it ([`Seen::Again`]).
    again: Option<u64>,
    /// Every state met at a scheduling point, where asked for ([`Self::with_reached`]).
    reached: Option<Arc<Mutex<HashSet<u128>>>>,
    /// The per-decision counters of the current execution, added to [`Self::stats`] when
    /// it ends (no lock at every decision).
    counted_now: Counted,
    /// The candidates of the current decision (a buffer kept across decisions).
    cands: Vec<TaskId>,
}

/// Counters kept per decision, handed to the shared statistics once per execution.
#[derive(Debug, Default)]
struct Counted {
    replayed: u64,
    transitions: u64,
    slept: u64,
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
    /// `bound`: at most this many of what `kind` counts; `None`: no bound (the whole state
    /// graph, which needs [`Self::with_state_cache`] to end).
    pub fn new(bound: Option<u32>, kind: BoundKind, delays: Option<u32>) -> Self {
        BoundedDfs {
            max: bound,
            level: if bound.is_some() { 0 } else { u32::MAX },
            kind,
            delays,
            prefix: Vec::new(),
            floor: 0,
            jobs: Vec::new(),
            next_jobs: Vec::new(),
            trail: Vec::new(),
            path: vec![PATH_SEED],
            setup: true,
            started: false,
            spent: (0, 0),
            cache: None,
            log: Vec::new(),
            cycle: None,
            edges: None,
            last_fp: None,
            last_look: 0,
            unwinding: false,
            stop: Arc::new(AtomicBool::new(false)),
            stats: Arc::new(Mutex::new(BoundedStats {
                per_bound: vec![0],
                ..BoundedStats::default()
            })),
            last: Arc::new(Mutex::new(Stopped::default())),
            watch: None,
            probe: Probe::default(),
            edges_out: Arc::default(),
            reduce: false,
            nodes: Vec::new(),
            asleep: Vec::new(),
            seg: None,
            again: None,
            reached: None,
            counted_now: Counted::default(),
            cands: Vec::new(),
        }
    }

    /// Also fingerprint the state at every scheduling point of every execution, and gather
    /// them here (to check that a reduction still reaches every state a search without it
    /// reaches; costly).
    pub fn with_reached(mut self) -> (Self, Arc<Mutex<HashSet<u128>>>) {
        let r = Arc::new(Mutex::new(HashSet::new()));
        self.reached = Some(Arc::clone(&r));
        (self, r)
    }

    /// Prune with sleep sets (Godefroid): a thread whose move from a state was explored is
    /// put to sleep in the states explored after it, until a move that conflicts with what its
    /// move read or wrote ([`crate::runtime::footprint`]); a sleeping thread is not chosen.
    /// Every state is still visited, and with it every oracle that judges a state, a step
    /// (its reads are the same in either order) or a hang; cycles are not all kept, so I7's
    /// livelocks are not proven absent by a reduced search (docs/model.md s.6). Only
    /// without a bound (a preemption bound and a sleep set can prune the only schedule of a
    /// class within the bound: Coons, Musuvathi and McKinley, OOPSLA 2013) and with the state
    /// cache (then sleep sets are compared at each cached state).
    pub fn with_reduction(mut self) -> Self {
        assert!(
            self.max.is_none() && self.cache.is_some() && self.edges.is_none(),
            "sleep sets only without a bound, with the state cache and without edges"
        );
        self.reduce = true;
        self.probe = self.probe.clone().with_footprints();
        self
    }

    fn asleep_has(&self, t: TaskId) -> bool {
        self.asleep.iter().any(|&(u, _)| u == t)
    }

    /// The threads asleep now, a bit each.
    fn sleep_mask(&self) -> u64 {
        self.asleep.iter().fold(0, |m, &(t, _)| m | bit(t))
    }

    /// Under the reduction, at a scheduling point: what ran since the last one conflicts
    /// with the moves of the threads it wakes from their sleep, and is part of the stretch of
    /// the current decision's option.
    fn absorb(&mut self) {
        let f = self.probe.footprint();
        self.asleep.retain(|&(_, g)| !g.conflicts(f));
        if let Some(Some(n)) = self.seg.and_then(|j| self.nodes.get_mut(j)) {
            n.cur = n.cur.union(f);
        }
    }

    /// Under the reduction, end the execution here: every thread that could run is asleep,
    /// or the state cache says its moves were explored from an earlier visit.
    fn sleep_cut(&mut self) {
        self.stats.lock().unwrap().sleep_cuts += 1;
        self.probe.ask(Ask::Halt);
        self.unwinding = true;
    }

    /// A decision among `cands` under the reduction (after the state cache let it go on):
    /// the prefix's option, or the first one open; `None` where none is open (cut).
    fn decide(&mut self, cands: &[TaskId], cur_runs: bool) -> Option<TaskId> {
        let i = self.trail.len();
        let again = self.again.take();
        if i >= self.prefix.len() {
            let sleep: Vec<(TaskId, Footprint)> = self
                .asleep
                .iter()
                .copied()
                .filter(|(t, _)| cands.contains(t))
                .collect();
            let skip = match again {
                Some(then) => (0..cands.len())
                    .filter(|&o| then & bit(cands[o]) == 0)
                    .fold(0, |m, o| m | 1u64 << o),
                None => 0,
            };
            let node = Node {
                cands: cands.to_vec(),
                sleep,
                skip,
                done: Vec::new(),
                cur: Footprint::EMPTY,
            };
            let open = (0..cands.len()).filter(|&o| node.open(o)).count();
            self.counted_now.slept += (cands.len() - open) as u64;
            self.nodes.truncate(i);
            self.nodes.resize(i, None);
            if open == 0 {
                self.sleep_cut();
                return None;
            }
            self.nodes.push(Some(node));
        }
        let node = self.nodes[i].as_ref().expect("a decision among threads");
        let first = (0..cands.len()).find(|&o| node.open(o)).unwrap_or(0);
        let o = self.take(
            cands.len().min(u8::MAX as usize) as u8,
            cur_runs,
            false,
            first as u8,
        );
        let node = self.nodes[i].as_ref().expect("a decision among threads");
        self.asleep.clear();
        self.asleep
            .extend(node.sleep.iter().chain(&node.done).copied());
        self.seg = Some(i);
        Some(cands[o as usize])
    }

    /// The probe each execution this search schedules must be handed
    /// ([`crate::harness::Hooks::probe`]).
    pub fn probe(&self) -> Probe {
        self.probe.clone()
    }

    /// Report progress into `w` (its bound is set here).
    pub fn watched(mut self, w: Arc<Watch>) -> Self {
        w.bound.store(self.level, Ordering::Relaxed);
        w.executions.store(0, Ordering::Relaxed);
        w.states.store(0, Ordering::Relaxed);
        self.watch = Some(w);
        self
    }

    /// Also record the state graph's edges (with the state cache: every decision of every
    /// execution is fingerprinted, the replayed ones too); see [`Self::edges`].
    pub fn with_edges(mut self) -> Self {
        self.edges = Some(HashSet::new());
        self
    }

    /// The edges recorded so far ([`Self::with_edges`]), shared out at the end of a search.
    pub fn edges(&self) -> Arc<Mutex<Vec<Edge>>> {
        Arc::clone(&self.edges_out)
    }

    /// Cut every execution that reaches an already explored state ([`super::statecache`];
    /// the caller hands each execution fingerprints and the probe).
    pub fn with_state_cache(mut self) -> Self {
        self.cache = Some(Visited::default());
        self
    }

    /// Whether to branch at a decision: not once the execution is halting (the verdict is
    /// fixed, every thread only unwinds: no order of that is a schedule of its own), nor at a
    /// state the state cache has seen explored with as much of the bound left, nor where the
    /// execution comes back to a state on its own path (a cycle: judged by
    /// [`Self::close_cycle`]); then the execution is halted here. Decisions of the replayed
    /// prefix are not looked up again (their states are on the path, in the cache); where
    /// edges are recorded they are fingerprinted, for the edge into them, and go on.
    fn branch_here(&mut self, current: Option<TaskId>, cur_runs: bool) -> bool {
        let i = self.trail.len();
        let replayed = i < self.prefix.len();
        if replayed && self.edges.is_none() {
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
        // Who ran last matters only where it could go on and a bound counts preemptions
        // (then switching away from it costs one); where it blocked or ended, or without a
        // bound, the choices ahead are the same without it.
        let cur = current
            .filter(|_| cur_runs && self.max.is_some())
            .map_or(u128::MAX, |t| usize::from(t) as u128);
        let state = world ^ cur.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
        self.edge_to(state, seen.steps);
        if replayed {
            return true;
        }
        let visit = Visit {
            left: self.left(),
            depth: i as u32,
            path: self.path[i],
            at: self.log.len() as u32 - 1,
            steps: seen.steps,
            sleep: self.sleep_mask(),
        };
        let cache = self.cache.as_mut().expect("checked above");
        match cache.visit(state, visit, &self.path) {
            Seen::Explore => true,
            Seen::Again(then) => {
                self.again = Some(then);
                true
            }
            Seen::Covered => {
                self.probe.ask(Ask::Halt);
                false
            }
            // No step since: only scheduling points passed (a thread's start, a wait that
            // was already satisfied), which a fingerprint need not tell apart. Not a cycle:
            // go on, the first visit stays the one recorded.
            Seen::OnPath(first) if seen.steps == first.steps => true,
            Seen::OnPath(first) => {
                self.close_cycle(first.at, seen.steps - first.steps, first.depth as usize);
                false
            }
        }
    }

    /// Record the edge from the last fingerprinted decision to this one (in state `state`,
    /// `steps` model steps in), where edges are asked for. Scheduling points with no step in
    /// between are one state, not an edge.
    fn edge_to(&mut self, state: u128, steps: u64) {
        let Some(edges) = self.edges.as_mut() else {
            return;
        };
        let at = self.log.len() as u32 - 1;
        if let Some((from, at0, steps0)) = self.last_fp {
            if from == state && steps == steps0 {
                return;
            }
            let f = fairness(&self.log[at0 as usize..=at as usize]);
            edges.insert(Edge {
                from,
                to: state,
                fair: f,
            });
        }
        self.last_fp = Some((state, at, steps));
    }

    /// The execution came back to a state on its own path, first met at scheduling point
    /// `at` and decision `start`, `steps` model steps ago. Under weak fairness (every thread
    /// that can run at every point of a cycle runs in it) and CFS's (a task a fair pick
    /// passes over in a cycle runs in it: going round for ever, its vruntime would become
    /// the least) a cycle a thread sat out so is not an execution of the kernel: cut it; its
    /// state's other continuations are explored from its first visit, which is on the path.
    /// A fair cycle (in which steps were taken) is a livelock: the scenario's operations
    /// never complete along it (an operation that completes changes the state for good), so
    /// it is I7.
    fn close_cycle(&mut self, at: u32, steps: u64, start: usize) {
        if steps > 0 && fairness(&self.log[at as usize..]).is_fair() {
            self.cycle = Some(Cycle { start, steps });
            self.probe.ask(Ask::Livelock(format!(
                "livelock: a fair cycle of {steps} steps comes back to the same state, \
                 every thread that can run runs in it and no operation completes"
            )));
        } else {
            self.stats.lock().unwrap().cycles += 1;
            self.probe.ask(Ask::Halt);
        }
    }

    /// What is left of the bound now, as the state cache compares visits: preemptions (or
    /// preemptions plus delays) and delays left; `u32::MAX` for what nothing bounds.
    fn left(&self) -> Left {
        let (k, d) = self.counted(self.spent.0, self.spent.1);
        let k = if self.max.is_none() {
            u32::MAX
        } else {
            self.level.saturating_sub(k)
        };
        let d = match (self.kind, self.delays) {
            (BoundKind::Preemptions, Some(cap)) => cap.saturating_sub(d),
            _ => u32::MAX,
        };
        (k, d)
    }

    /// The current execution's schedule, as a search stopped there reports it.
    fn stopped(&self) -> Stopped {
        Stopped {
            bytes: self.bytes(),
            delays: self
                .trail
                .iter()
                .filter(|p| !p.preemptive && p.chosen != 0)
                .count() as u32,
            cycle: self.cycle,
        }
    }

    /// The schedule bytes of the current execution's choices.
    fn bytes(&self) -> Vec<u8> {
        self.trail.iter().map(Point::byte).collect()
    }

    /// Whether `preemptions` and `delays` fit within bound `level` (and the delay cap).
    fn fits(&self, level: u32, preemptions: u32, delays: u32) -> bool {
        let (k, d) = self.counted(preemptions, delays);
        (self.max.is_none() || k <= level) && self.delays.is_none_or(|cap| d <= cap)
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

    /// The next prefix: the deepest decision at or below the floor with an untried option
    /// within the current bound. An untried option that passes the bound but fits the next
    /// one is set aside for it, once, as the decision is left for good. Then the next
    /// prefix set aside for this bound, then the next bound's.
    fn advance(&mut self) -> bool {
        let mut cost = Vec::with_capacity(self.trail.len() + 1);
        let (mut p, mut d) = (0, 0);
        for pt in &self.trail {
            cost.push((p, d));
            let (a, b) = pt.cost(pt.chosen);
            (p, d) = (p + a, d + b);
        }
        let next = self.level.saturating_add(1);
        let deepen = self.max.is_some_and(|m| next <= m);
        for j in (self.floor..self.trail.len()).rev() {
            let pt = self.trail[j];
            let (p, d) = cost[j];
            let node = self.nodes.get(j).and_then(Option::as_ref);
            for o in pt.chosen + 1..pt.options {
                if node.is_some_and(|n| !n.open(o as usize)) {
                    continue;
                }
                let (a, b) = pt.cost(o);
                if self.fits(self.level, p + a, d + b) {
                    if self.reduce {
                        self.nodes.truncate(j + 1);
                        if let Some(Some(n)) = self.nodes.get_mut(j) {
                            let cur = std::mem::replace(&mut n.cur, Footprint::EMPTY);
                            n.done.push((n.cands[pt.chosen as usize], cur));
                        }
                    }
                    self.prefix.clear();
                    self.prefix.extend(self.trail[..j].iter().map(|p| p.chosen));
                    self.prefix.push(o);
                    return true;
                }
                if deepen && self.fits(next, p + a, d + b) {
                    let mut job: Vec<u8> = self.trail[..j].iter().map(|p| p.chosen).collect();
                    job.push(o);
                    self.next_jobs.push(job);
                }
            }
        }
        loop {
            if let Some(job) = self.jobs.pop() {
                self.floor = job.len();
                self.prefix = job;
                return true;
            }
            if self.next_jobs.is_empty() || !deepen {
                return false;
            }
            // The next bound: its prefixes in the order they were set aside.
            self.level = next;
            self.jobs = std::mem::take(&mut self.next_jobs);
            self.jobs.reverse();
            self.stats.lock().unwrap().per_bound.push(0);
            if let Some(w) = &self.watch {
                w.bound.store(self.level, Ordering::Relaxed);
            }
        }
    }

    /// Take the prefix's option at the next decision, or `first` (the default, 0, where no
    /// option is closed).
    fn take(&mut self, options: u8, preemptive: bool, draw: bool, first: u8) -> u8 {
        let i = self.trail.len();
        let chosen = match self.prefix.get(i) {
            Some(&c) => {
                self.counted_now.replayed += 1;
                c.min(options - 1)
            }
            None => {
                self.counted_now.transitions += 1;
                first
            }
        };
        self.trail.push(Point {
            options,
            preemptive,
            draw,
            chosen,
        });
        let h = self.path[i];
        self.path.push(mix(h, chosen));
        if self.trail.len() == self.prefix.len() {
            // The prefix's last option is new: so is every step from here.
            self.probe.set_replaying(false);
        }
        let (a, b) = self.trail[i].cost(chosen);
        self.spent = (self.spent.0 + a, self.spent.1 + b);
        chosen
    }
}

/// A scheduling point of the current execution (after setup): the threads that could run
/// (a bit per shuttle task), the one chosen, the model steps taken before it, and the threads
/// a fair pick passed over in the steps since the point before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LogPoint {
    runnable: u64,
    chosen: u8,
    steps: u64,
    passed_over: u64,
}

/// Who had to run in a stretch of execution for it to be fair, and who ran (bits per shuttle
/// task).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fairness {
    /// The threads that could run at every point of it (weak fairness).
    pub always: u64,
    /// The threads a fair pick passed over in it (CFS's fairness).
    pub passed_over: u64,
    /// The threads that took a step in it.
    pub ran: u64,
}

impl Fairness {
    /// Every thread it owed a turn had one.
    fn is_fair(self) -> bool {
        (self.always | self.passed_over) & !self.ran == 0
    }

    /// The stretch made of this one and `o` (in any order).
    fn join(self, o: Fairness) -> Fairness {
        Fairness {
            always: self.always & o.always,
            passed_over: self.passed_over | o.passed_over,
            ran: self.ran | o.ran,
        }
    }
}

/// Over a stretch of scheduling points (the last one where it ends): the threads that could
/// run at every point, those a fair pick passed over between its first point and its last,
/// and those that took a step in it. A thread chosen at a point that reached the next one
/// without a step (its start, a wait already satisfied) has not run: a fingerprint need not
/// tell those positions apart.
fn fairness(stretch: &[LogPoint]) -> Fairness {
    Fairness {
        always: stretch.iter().fold(u64::MAX, |m, p| m & p.runnable),
        passed_over: stretch.iter().skip(1).fold(0u64, |m, p| m | p.passed_over),
        ran: stretch
            .windows(2)
            .filter(|w| w[1].steps > w[0].steps)
            .fold(0u64, |m, w| m | 1u64 << w[0].chosen),
    }
}

/// The size of a strongly connected set of states in `edges` (from, to, threads that ran,
/// threads that could run throughout) that holds a fair cycle, if any: one that goes round
/// every edge of the set is fair when each thread that can run everywhere in it runs on
/// some edge of it (weak fairness), and a cycle of the set is fair only if that one is. A
/// livelock: the scheduler can go round forever, fairly, and no operation completes.
pub fn fair_component(edges: &[Edge]) -> Option<usize> {
    let mut index: HashMap<u128, usize> = HashMap::new();
    let mut adj: Vec<Vec<usize>> = Vec::new();
    let mut node = |s: u128, adj: &mut Vec<Vec<usize>>| {
        *index.entry(s).or_insert_with(|| {
            adj.push(Vec::new());
            adj.len() - 1
        })
    };
    let mut es = Vec::with_capacity(edges.len());
    for e in edges {
        let (a, b) = (node(e.from, &mut adj), node(e.to, &mut adj));
        adj[a].push(b);
        es.push((a, b, e.fair));
    }
    let comp = components(&adj);
    let mut round: HashMap<usize, Fairness> = HashMap::new();
    for &(a, b, f) in &es {
        if comp[a] == comp[b] {
            round
                .entry(comp[a])
                .and_modify(|r| *r = r.join(f))
                .or_insert(f);
        }
    }
    round
        .iter()
        .filter(|(_, f)| f.is_fair())
        .map(|(c, _)| comp.iter().filter(|&&x| x == *c).count())
        .max()
}

/// The strongly connected component of each node (Tarjan's algorithm, without recursion).
fn components(adj: &[Vec<usize>]) -> Vec<usize> {
    const NONE: usize = usize::MAX;
    let n = adj.len();
    let (mut idx, mut low, mut comp) = (vec![NONE; n], vec![0; n], vec![NONE; n]);
    let (mut on, mut stack) = (vec![false; n], Vec::new());
    let (mut next, mut ncomp) = (0, 0);
    for root in 0..n {
        if idx[root] != NONE {
            continue;
        }
        let mut call = vec![(root, 0usize)];
        while let Some(&mut (v, ref mut k)) = call.last_mut() {
            if *k == 0 {
                idx[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on[v] = true;
            }
            if let Some(&w) = adj[v].get(*k) {
                *k += 1;
                if idx[w] == NONE {
                    call.push((w, 0));
                } else if on[w] {
                    low[v] = low[v].min(idx[w]);
                }
                continue;
            }
            call.pop();
            if let Some(&(u, _)) = call.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == idx[v] {
                while let Some(w) = stack.pop() {
                    on[w] = false;
                    comp[w] = ncomp;
                    if w == v {
                        break;
                    }
                }
                ncomp += 1;
            }
        }
    }
    comp
}

/// An edge of the state graph, with who had to run on it and who did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Edge {
    pub from: u128,
    pub to: u128,
    pub fair: Fairness,
}

/// How many model steps a thread may run alone (no decision) before the search looks at the
/// state: a loop it runs alone for good then closes a cycle (model.md s.4).
const LOOK_EVERY: u64 = 32;

/// The hash of an empty path, and of a path one option longer (see [`BoundedDfs::path`]).
const PATH_SEED: u64 = 0x243f_6a88_85a3_08d3;

/// A path one option longer: the option folded in, then a full-avalanche 64-bit mixer
/// (MurmurHash3's finalizer, a bijection), taken at every decision of every replay, so a few
/// multiplications rather than a pass of a byte hash.
fn mix(h: u64, option: u8) -> u64 {
    let mut x = h.rotate_left(23)
        ^ u64::from(option)
            .wrapping_add(1)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ x >> 33
}

impl Scheduler for BoundedDfs {
    fn new_execution(&mut self) -> Option<Schedule> {
        if self.started {
            {
                let mut st = self.stats.lock().unwrap();
                let now = std::mem::take(&mut self.counted_now);
                st.replayed += now.replayed;
                st.transitions += now.transitions;
                st.slept += now.slept;
                st.max_decisions = st.max_decisions.max(self.trail.len());
                if let Some(c) = &self.cache {
                    st.states = c.len() as u64;
                    st.cuts = c.cuts;
                }
            }
            if self.stop.load(Ordering::Relaxed) {
                *self.last.lock().unwrap() = self.stopped();
                return None;
            }
            if !self.advance() {
                self.stats.lock().unwrap().exhausted = true;
                if let Some(e) = self.edges.take() {
                    *self.edges_out.lock().unwrap() = e.into_iter().collect();
                }
                return None;
            }
        }
        self.started = true;
        self.probe.set_replaying(!self.prefix.is_empty());
        self.trail.clear();
        self.path.truncate(1);
        self.setup = true;
        self.spent = (0, 0);
        self.log.clear();
        self.cycle = None;
        self.last_fp = None;
        self.last_look = 0;
        self.unwinding = false;
        self.asleep.clear();
        self.seg = None;
        self.again = None;
        let n = {
            let mut st = self.stats.lock().unwrap();
            st.executions += 1;
            if let Some(c) = st.per_bound.last_mut() {
                *c += 1;
            }
            if !self.prefix.is_empty() {
                st.transitions += 1;
            }
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
        // One buffer for every decision's candidates.
        let mut cands = std::mem::take(&mut self.cands);
        let cur_runs = candidates_into(&mut cands, runnable, current);
        let pick = self.pick(&cands, cur_runs, current);
        self.cands = cands;
        pick
    }

    fn next_u64(&mut self) -> u64 {
        if self.unwinding || self.take(2, true, true, 0) == 0 {
            0
        } else {
            DRAW_PERIOD - 1
        }
    }
}

impl BoundedDfs {
    /// [`Scheduler::next_task`] past setup: the choice among `cands` (in
    /// [`candidates_into`]'s order).
    fn pick(
        &mut self,
        cands: &[TaskId],
        cur_runs: bool,
        current: Option<TaskId>,
    ) -> Option<TaskId> {
        if self.reduce && !self.unwinding {
            self.absorb();
        }
        if let Some(r) = self.reached.as_ref().filter(|_| !self.unwinding)
            && let Some(p) = self.probe.ask(Ask::Fingerprint)
            && let Some(f) = p.fingerprint.filter(|_| !p.halting)
        {
            r.lock().unwrap().insert(f);
        }
        if self.cache.is_some() && !self.unwinding {
            // The fairness of a cycle is judged over this log (see `close_cycle`).
            let mask = cands
                .iter()
                .fold(0u64, |m, &t| m | 1u64 << usize::from(t).min(63));
            self.log.push(LogPoint {
                runnable: mask,
                chosen: 0,
                steps: self.probe.steps(),
                passed_over: self.probe.take_passed_over(),
            });
        }
        let pick = match cands.len() {
            0 => return None,
            // The one thread that can run is asleep: everything from here was explored.
            1 if self.reduce && !self.unwinding && self.asleep_has(cands[0]) => {
                self.sleep_cut();
                cands[0]
            }
            // A stretch with one thread able to run has no decision to fingerprint at: look
            // at the state now and then, so that a loop it runs alone closes a cycle.
            1 if self.cache.is_some()
                && !self.unwinding
                && self.trail.len() >= self.prefix.len()
                && self.probe.steps() >= self.last_look + LOOK_EVERY =>
            {
                self.last_look = self.probe.steps();
                if !self.branch_here(current, cur_runs) {
                    self.unwinding = true;
                } else if let Some(then) = self.again.take() {
                    // An earlier visit explored this state; the one thread was awake then.
                    if then & bit(cands[0]) == 0 {
                        self.sleep_cut();
                    }
                }
                cands[0]
            }
            1 => cands[0],
            _ if self.unwinding => cands[0],
            _ if !self.branch_here(current, cur_runs) => {
                self.unwinding = true;
                cands[0]
            }
            _ if self.reduce => self.decide(cands, cur_runs).unwrap_or(cands[0]),
            n => {
                let o = self.take(n.min(u8::MAX as usize) as u8, cur_runs, false, 0);
                cands[o as usize]
            }
        };
        if let Some(last) = self.log.last_mut() {
            last.chosen = usize::from(pick).min(63) as u8;
        }
        Some(pick)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A search whose current execution logged these scheduling points (runnable threads as
    /// bits, the one chosen), with no execution running (the probe answers nothing).
    /// (Every chosen thread takes one step before the next point.)
    fn logged(log: &[(u64, u8)]) -> BoundedDfs {
        let mut d = BoundedDfs::new(None, BoundKind::Preemptions, None).with_state_cache();
        d.log = log
            .iter()
            .enumerate()
            .map(|(i, &(m, c))| point(m, c, i as u64))
            .collect();
        d
    }

    fn point(runnable: u64, chosen: u8, steps: u64) -> LogPoint {
        LogPoint {
            runnable,
            chosen,
            steps,
            passed_over: 0,
        }
    }

    #[test]
    fn a_cycle_every_runnable_thread_runs_in_is_a_livelock() {
        // Threads 1 and 2 can run throughout and both run: fair.
        let mut d = logged(&[(0b110, 1), (0b110, 2), (0b110, 1), (0b110, 0)]);
        d.close_cycle(0, 5, 3);
        assert_eq!(d.cycle, Some(Cycle { start: 3, steps: 5 }));
        assert_eq!(d.stats.lock().unwrap().cycles, 0);
        // Thread 2 is runnable only part of the time: a thread that is not runnable
        // throughout need not run (weak fairness).
        let mut d = logged(&[(0b110, 1), (0b010, 1), (0b110, 1), (0b110, 0)]);
        d.close_cycle(0, 3, 0);
        assert!(d.cycle.is_some());
    }

    #[test]
    fn a_cycle_a_runnable_thread_sits_out_is_cut_not_reported() {
        // Thread 2 can run at every point of the cycle and never does: no kernel runs so.
        let mut d = logged(&[(0b110, 2), (0b110, 1), (0b110, 1), (0b110, 0)]);
        d.close_cycle(1, 4, 2);
        assert_eq!(d.cycle, None);
        assert_eq!(d.stats.lock().unwrap().cycles, 1);
        // Thread 2 was chosen once but reached its next point without a step (a stutter the
        // fingerprint does not see): it has not run.
        let mut d = logged(&[]);
        d.log = vec![
            point(0b110, 2, 0),
            point(0b110, 1, 0),
            point(0b110, 1, 1),
            point(0b110, 0, 2),
        ];
        d.close_cycle(0, 2, 0);
        assert_eq!(d.cycle, None);
        // Nothing stepped: no livelock either.
        let mut d = logged(&[(0b10, 1), (0b10, 1)]);
        d.close_cycle(0, 0, 0);
        assert_eq!(d.cycle, None);
        assert_eq!(d.stats.lock().unwrap().cycles, 1);
    }

    /// Thread 2 waits for its CPU (blocked, so never runnable), and a fair pick inside the
    /// cycle passes it over: CFS would run it before going round for ever (docs/model.md
    /// s.4). The same cycle with the pass-over before it began, or with thread 2 running in
    /// it, is judged on weak fairness alone.
    #[test]
    fn a_cycle_that_a_fair_pick_passes_a_task_over_in_is_unfair() {
        let run = |passed_at: usize, log: &[(u64, u8)]| {
            let mut d = logged(log);
            d.log[passed_at].passed_over = 0b100;
            d.close_cycle(0, 3, 0);
            d.cycle
        };
        let alone = [(0b10, 1), (0b10, 1), (0b10, 1), (0b10, 1)];
        assert_eq!(run(2, &alone), None, "passed over in the cycle, never ran");
        assert!(run(0, &alone).is_some(), "passed over before the cycle");
        let turns = [(0b10, 1), (0b110, 2), (0b10, 1), (0b10, 1)];
        assert!(run(2, &turns).is_some(), "passed over, then ran");
    }

    #[test]
    fn a_livelock_replays_as_its_cycle_repeated_past_the_step_bound() {
        let s = Stopped {
            bytes: vec![1, 0, 2, 3],
            delays: 0,
            cycle: Some(Cycle {
                start: 2,
                steps: 10,
            }),
        };
        let b = s.replay_bytes(35);
        // The stem, then the turn [2, 3] at least 35 / 10 + 1 times.
        assert_eq!(&b[..4], &[1, 0, 2, 3]);
        assert!(b[2..].chunks(2).all(|c| c == [2, 3]));
        assert!((b.len() - 2) / 2 * 10 > 35);
        let plain = Stopped {
            cycle: None,
            ..s.clone()
        };
        assert_eq!(plain.replay_bytes(35), s.bytes);
    }

    /// What each poller does: poll its own variable until it reads 1 (`Forever`: nobody
    /// sets it); `Alone`: P1 ends at once, P0 polls forever; `Released`: P1 sets P0's
    /// variable and ends.
    #[derive(Clone, Copy)]
    enum Pollers {
        Forever,
        Alone,
        Released,
    }

    const POLL_MAX_STEPS: u64 = 200;

    /// Run the pollers under `sched` until it ends (or `stop` is set by a violation); each
    /// execution's verdict.
    fn poll<S: Scheduler + 'static>(
        what: Pollers,
        sched: S,
        hooks: crate::harness::Hooks,
        stop: Option<Arc<AtomicBool>>,
    ) -> Vec<Option<crate::oracle::Oracle>> {
        use crate::engine::shuttle::ShuttlePlatform;
        use crate::harness::{Body, launch_program, program_world};
        use crate::runtime::types::{Ld, St};
        let body: Body = Arc::new(move |cur| {
            let v = cur.me();
            match (what, v) {
                (Pollers::Alone, 1) => return Ok(()),
                (Pollers::Released, 1) => return cur.step("set", |s| s.var(0).store(1, St::Once)),
                _ => {}
            }
            loop {
                cur.forget("poll");
                if cur.step("poll", |s| s.var(v).load(Ld::Once))? == 1 {
                    return Ok(());
                }
            }
        });
        let seen: Arc<Mutex<Vec<_>>> = Arc::default();
        let seen2 = Arc::clone(&seen);
        let mut config = shuttle::Config::new();
        config.failure_persistence = shuttle::FailurePersistence::None;
        config.silence_warnings = true;
        crate::engine::runner::run(sched, config, move || {
            let names = ["P0".to_string(), "P1".to_string()];
            let mut w = program_world(&names, &[0, 0], 0, crate::scenario::Memory::Sc);
            w.harness.scenario.max_steps = POLL_MAX_STEPS;
            let o = launch_program(ShuttlePlatform::new(3), w, &hooks, body.clone()).finish();
            if let (Some(s), true) = (&stop, o.violation.is_some()) {
                s.store(true, Ordering::Relaxed);
            }
            seen2.lock().unwrap().push(o.violation.map(|v| v.oracle));
        });
        seen.lock().unwrap().clone()
    }

    /// The whole-graph search of the pollers, with the state cache (and the edges).
    fn search_pollers(
        what: Pollers,
        edges: bool,
    ) -> (Vec<Option<crate::oracle::Oracle>>, BoundedDfsOut) {
        let mut d = BoundedDfs::new(None, BoundKind::Preemptions, None).with_state_cache();
        if edges {
            d = d.with_edges();
        }
        let hooks = crate::harness::Hooks {
            probe: Some(d.probe()),
            fingerprints: true,
            ..Default::default()
        };
        let out = (Arc::clone(&d.stats), Arc::clone(&d.last), d.edges());
        let stop = Arc::clone(&d.stop);
        let verdicts = poll(what, d, hooks, Some(stop));
        let (stats, last, edges) = out;
        let r = (
            stats.lock().unwrap().clone(),
            last.lock().unwrap().clone(),
            edges.lock().unwrap().clone(),
        );
        (verdicts, r)
    }

    type BoundedDfsOut = (BoundedStats, Stopped, Vec<Edge>);

    /// One thread polls forever while the other has ended: a cycle of one state, fair (the
    /// poller is the only thread that can run). Found as a livelock at once, and its lasso
    /// replays without the cache as the step bound's I7.
    #[test]
    fn a_fair_cycle_is_found_as_a_livelock_and_replays_as_one() {
        use crate::engine::bytes::ByteScheduler;
        use crate::oracle::Oracle;
        let (verdicts, (st, found, _)) = search_pollers(Pollers::Alone, false);
        assert_eq!(verdicts.last(), Some(&Some(Oracle::I7)), "{verdicts:?}");
        assert_eq!(st.guard_hits, 0);
        let cycle = found.cycle.expect("a livelock's cycle");
        let bytes = found.replay_bytes(POLL_MAX_STEPS);
        let replay = poll(
            Pollers::Alone,
            ByteScheduler::new(bytes),
            Default::default(),
            None,
        );
        assert_eq!(replay, vec![Some(Oracle::I7)], "{cycle:?}");
    }

    /// Two threads poll forever, taking turns: every simple cycle is one thread polling while
    /// the other waits its turn (unfair, cut), so no execution reports a livelock; but the
    /// strongly connected set of states they form holds a fair cycle, which the edges show.
    /// Where the other thread ends the polling, the cycles stay unfair: no livelock.
    #[test]
    fn a_fair_cycle_through_a_repeated_state_is_found_in_the_edges() {
        let (verdicts, (st, _, _)) = search_pollers(Pollers::Forever, false);
        assert!(verdicts.iter().all(Option::is_none), "{verdicts:?}");
        assert!(st.exhausted && st.cycles > 0, "{st:?}");
        let (_, (_, _, edges)) = search_pollers(Pollers::Forever, true);
        assert_eq!(fair_component(&edges), Some(1), "{edges:?}");

        let (verdicts, (st, _, _)) = search_pollers(Pollers::Released, true);
        assert!(verdicts.iter().all(Option::is_none), "{verdicts:?}");
        assert!(st.exhausted && st.cycles > 0, "{st:?}");
        let (_, (_, _, edges)) = search_pollers(Pollers::Released, true);
        assert!(!edges.is_empty());
        assert_eq!(
            fair_component(&edges),
            None,
            "only unfair cycles: {edges:?}"
        );
    }

    #[test]
    fn components_are_tarjans() {
        // 0 -> 1 -> 2 -> 0, 2 -> 3, 3 -> 3, 4 alone.
        let adj = vec![vec![1], vec![2], vec![0, 3], vec![3], vec![]];
        let c = components(&adj);
        assert!(c[0] == c[1] && c[1] == c[2]);
        assert!(c[3] != c[0] && c[4] != c[3] && c[4] != c[0]);
        // A fair set: both threads (bits 1 and 2) run on its edges; an unfair one: thread 2
        // can run throughout and never does.
        let e = |a, b, ran, always| Edge {
            from: a as u128,
            to: b as u128,
            fair: Fairness {
                always,
                passed_over: 0,
                ran,
            },
        };
        assert_eq!(
            fair_component(&[e(1, 2, 0b10, 0b110), e(2, 1, 0b100, 0b110)]),
            Some(2)
        );
        assert_eq!(
            fair_component(&[e(1, 2, 0b10, 0b110), e(2, 1, 0b10, 0b110)]),
            None
        );
        assert_eq!(fair_component(&[e(1, 2, 0b10, 0b110)]), None, "no cycle");
        // Thread 2 never runnable, but a fair pick on one edge passes it over: unfair.
        let mut passed = e(2, 1, 0b10, 0b10);
        passed.fair.passed_over = 0b100;
        assert_eq!(fair_component(&[e(1, 2, 0b10, 0b10), passed]), None);
        assert_eq!(
            fair_component(&[e(1, 2, 0b10, 0b10), e(2, 1, 0b10, 0b10)]),
            Some(2)
        );
    }
}
