//! The state of one execution, in two halves: [`KernelState`], what the kernel itself keeps
//! (`task_struct` fields, runqueues, `struct kthread`s, completions: model.md section a), and
//! [`Harness`], what the harness keeps around it (the cast, per-thread bookkeeping, triggers,
//! oracle windows and verdicts, the trace, fingerprint histories, stress cycles). Plain data;
//! the runtime ([`super`]) owns the lock around it, and every change of kernel state happens
//! inside one model step.

pub use super::types::*;

use super::footprint::{Footprint, Obj};
use super::memory::{Memory, Shape};
use super::observe::Observers;
use super::trace::{Event, Trace};
use crate::oracle::{Oracle, OracleSet, Violation};
use crate::scenario::Scenario;
use crate::variant::Variant;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// Per-task kernel state (`task_struct`, model.md a.1).
#[derive(Clone, Debug)]
pub struct Task {
    /// `comm`.
    pub name: String,
    /// Which part of the cast it is (fixed for the execution).
    pub kind: Kind,
    pub state: u32,
    pub on_rq: u8,
    pub on_cpu: bool,
    pub cpu: CpuId,
    /// `cpus_allowed` as a bit mask.
    pub allowed: u64,
    pub flags: u32,
    pub preempt_count: u32,
    pub irqs_off: bool,
    /// Interrupt flags saved by `*_irqsave` lock acquisitions (properly nested).
    pub irq_stack: Vec<bool>,
    pub need_resched: bool,
    /// `p->nvcsw`, readable only as [`Ncsw`] (left out of the fingerprint).
    pub nvcsw: SwitchCount,
    pub nivcsw: u64,
    /// Owner of `pi_lock`.
    pub pi_owner: Option<Tid>,
    /// An armed hrtimer that will wake this task (one-tick sleep of `wait_task_inactive`).
    pub timer_armed: bool,
    /// `p->se.sched_delayed`: blocked but left queued by EEVDF's delayed dequeue (model.md
    /// b.5, 0.3); only with the `delayed_dequeue` scheduler switch.
    pub sched_delayed: bool,
}

impl Task {
    pub fn new(name: &str, kind: Kind, cpu: CpuId) -> Self {
        Task {
            name: name.to_string(),
            kind,
            state: TASK_RUNNING,
            on_rq: 0,
            on_cpu: false,
            cpu,
            allowed: u64::MAX,
            flags: 0,
            preempt_count: 0,
            irqs_off: false,
            irq_stack: Vec::new(),
            need_resched: false,
            nvcsw: SwitchCount::default(),
            nivcsw: 0,
            pi_owner: None,
            timer_armed: false,
            sched_delayed: false,
        }
    }

    /// A task of the fair class (CFS/EEVDF): not idle, not the stopper, not an agent.
    pub fn is_fair(&self) -> bool {
        matches!(self.kind, Kind::Kthread(_) | Kind::Controller | Kind::Extra)
    }

    /// Preemptible: preempt count 0 and interrupts on (model.md b.3 `[P+]`).
    pub fn preemptible(&self) -> bool {
        self.preempt_count == 0 && !self.irqs_off
    }

    /// A scheduled kernel task (as opposed to an agent or the harness).
    pub fn is_task(&self) -> bool {
        !matches!(self.kind, Kind::Agent | Kind::Harness)
    }
}

/// What the harness keeps per model thread: where it is in the code, for the oracles and the
/// preemption rules, and the engine's bookkeeping. No kernel function reads it as data.
#[derive(Clone, Debug, Default)]
pub struct Thread {
    /// Oracle I5: the threads (a bit per [`Tid`]) inside a `try_to_wake_up` of this task whose
    /// state check it has not overwritten since: set by the check, cleared for all by each
    /// store the task makes to its own `state`, and for one waker when it drops `pi_lock`.
    /// A set rather than a count of the task's stores keeps the state finite: a counter
    /// grows on every loop turn and no state would ever repeat (docs/model.md s.1).
    pub fresh_checks: u64,
    /// Inside `__kthread_parkme` (oracles I1, I2).
    pub in_parkme: bool,
    /// Between the count-to-0 and the `preempt_disable` of `schedule_preempt_disabled`
    /// (model.md h.5).
    pub in_spd_gap: bool,
    /// Ever switched in (a task that never ran starts with `schedule_tail`).
    pub started: bool,
    /// What this thread is blocked on, if it is.
    pub wait: Option<WaitFor>,
    /// The thread returned from its body.
    pub finished: bool,
}

impl Thread {
    /// Oracle I5: whether waker `w`'s state check of this task is still fresh.
    pub fn check_fresh_for(&self, w: Tid) -> bool {
        self.fresh_checks & 1 << w != 0
    }
}

/// Per-CPU runqueue (model.md a.2).
#[derive(Clone, Debug)]
pub struct Rq {
    pub curr: Tid,
    pub idle: Tid,
    pub stopper: Option<Tid>,
    /// QUEUED tasks other than idle, in FIFO order (the current task included while queued).
    pub queue: VecDeque<Tid>,
    pub lock_owner: Option<Tid>,
    pub online: bool,
    pub active: bool,
    /// The task switched out by the last switch on this CPU, whose `finish_task_switch` the
    /// incoming task still has to run.
    pub prev: Option<Tid>,
    pub nr_switches: u64,
    /// Wakeups queued for this CPU by `ttwu_queue_wakelist` (`wakelist`, model.md 0.3), which
    /// its IPI activates in `sched_ttwu_pending`.
    pub wake_list: VecDeque<Tid>,
}

/// smpboot per-thread status (model.md a.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HpStatus {
    None,
    Active,
    Parked,
}

/// `struct kthread` plus the smpboot `struct smp_hotplug_thread` data (model.md a.3).
#[derive(Clone, Debug)]
pub struct Kthread {
    pub flags: u32,
    /// smpboot `td->cpu`.
    pub td_cpu: CpuId,
    pub status: HpStatus,
    /// Pending work for `thread_should_run` (raised by the third-party waker).
    pub work: u32,
    /// `kthread->started` (v6.14, `kthread_started`): set after the first wakeup in `kthread()`.
    pub started: bool,
}

/// What a `struct kthread` is tied to, fixed at creation: its task, `kthread->cpu`, and its
/// completions (`parked`, `exited`, and the creator's `done`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KthreadIds {
    pub task: Tid,
    pub cpu: CpuId,
    pub parked: CompId,
    pub exited: CompId,
    pub created: CompId,
}

/// `struct completion` (model.md b.7).
#[derive(Clone, Debug)]
pub struct Completion {
    pub name: &'static str,
    pub done: u32,
    pub waiters: VecDeque<Tid>,
    pub lock_owner: Option<Tid>,
}

impl Completion {
    pub fn new(name: &'static str) -> Self {
        Completion {
            name,
            done: 0,
            waiters: VecDeque::new(),
            lock_owner: None,
        }
    }
}

/// The kernel's own state: what a kernel function may read and write.
#[derive(Clone, Debug)]
pub struct KernelState {
    pub tasks: Vec<Task>,
    pub rqs: Vec<Rq>,
    pub kthreads: Vec<Kthread>,
    pub completions: Vec<Completion>,
    /// A litmus test's shared variables (empty for the protocol).
    pub vars: Vec<i64>,
    /// A litmus test's spinlocks: their owners.
    pub var_locks: Vec<Option<Tid>>,
}

impl KernelState {
    /// A CPU whose queued wakeups its IPI can activate now: the list is not empty, its rq lock
    /// is free and its current task has interrupts on (model.md 0.3).
    pub fn ipi_cpu(&self) -> Option<CpuId> {
        (0..self.rqs.len()).find(|&c| {
            let rq = &self.rqs[c];
            !rq.wake_list.is_empty() && rq.lock_owner.is_none() && !self.tasks[rq.curr].irqs_off
        })
    }

    pub fn lock_owner(&self, l: LockId) -> Option<Tid> {
        match l {
            LockId::Pi(t) => self.tasks[t].pi_owner,
            LockId::Rq(c) => self.rqs[c].lock_owner,
            LockId::Wq(c) => self.completions[c].lock_owner,
            LockId::Var(v) => self.var_locks[v],
        }
    }

    pub fn set_lock_owner(&mut self, l: LockId, o: Option<Tid>) {
        match l {
            LockId::Pi(t) => self.tasks[t].pi_owner = o,
            LockId::Rq(c) => self.rqs[c].lock_owner = o,
            LockId::Wq(c) => self.completions[c].lock_owner = o,
            LockId::Var(v) => self.var_locks[v] = o,
        }
    }
}

/// Who is who in an execution: the model threads by role, and the completions that belong to
/// no kthread. Fixed when the world is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cast {
    /// C: runs the scenario's operations.
    pub controller: Tid,
    /// The kthreads under test, with what each is tied to (K is `kthreads[0]`).
    pub kthreads: Vec<KthreadIds>,
    /// `swapper/N`, per CPU.
    pub idle: Vec<Tid>,
    /// X: an extra task on the kthread's CPU.
    pub extra: Option<Tid>,
    /// `migration/N` of the kthread's CPU (hotplug scenarios).
    pub stopper: Option<Tid>,
    /// W: the third-party waker.
    pub waker: Option<Tid>,
    /// The IPI that runs `sched_ttwu_pending` (`wakelist` only).
    pub ipi: Option<Tid>,
    /// The hrtimer interrupt.
    pub hrtimer: Tid,
    /// The harness thread (last).
    pub harness: Tid,
    /// The completion `stop_machine`'s caller waits on (`cpu_stop_done`).
    pub stop_done: CompId,
}

impl Cast {
    /// The kthread index of task `t`, if it is a kthread under test.
    pub fn kthread_of(&self, t: Tid) -> Option<usize> {
        self.kthreads.iter().position(|k| k.task == t)
    }
}

/// The park window of oracle I1c / I2 (model.md e): from park's return until unpark clears
/// SHOULD_PARK.
#[derive(Clone, Copy, Debug)]
pub struct ParkWindow {
    pub kthread: usize,
}

/// What the harness keeps around the kernel state.
#[derive(Debug)]
pub struct Harness {
    pub variant: Variant,
    pub scenario: Scenario,
    pub oracles: OracleSet,
    pub cast: Cast,
    /// Per model thread bookkeeping, indexed like [`KernelState::tasks`].
    pub threads: Vec<Thread>,
    pub trace: Trace,
    /// Model steps taken so far (all threads).
    pub steps: u64,
    /// Preemptions (ticks and wakeup preemptions) the scenario may still inject.
    pub budget: u32,
    /// Preemptions injected so far.
    pub preemptions: u32,
    pub window: Option<ParkWindow>,
    /// One-tick sleeps of `wait_task_inactive` (model.md b.6 step 8).
    pub wti_sleeps: u32,
    /// The threads that still owe a step before an armed one-tick timer may fire (a bit per
    /// thread): those that could run when it was armed. A tick is long, so every CPU gets on
    /// with its work before the timer fires; the retry after the sleep still races them.
    pub tick_owed: u64,
    pub violation: Option<Violation>,
    /// The execution is being stopped: every model thread returns `Halt` at its next step.
    pub halting: bool,
    /// The controllers have finished their operations.
    pub controllers_done: usize,
    pub controllers: usize,
    /// The third-party waker may fire (set by the scenario trigger).
    pub waker_go: bool,
    /// Every model thread has been started (see [`WaitFor::Start`]).
    pub started: bool,
    /// The controller is inside one of its operations (park, unpark, ...).
    pub in_op: bool,
    /// Oracles violated after the first violation, during its epilogue (each once).
    pub also: Vec<Oracle>,
    /// Back-to-back cycles (native stress): the controller counts each run of its operations
    /// here and, while [`Cycles::again`], starts them over in the same world. `None`: the
    /// operations run once.
    pub cycles: Option<Cycles>,
    /// The step count when the current cycle began (the I7 step bound is per cycle).
    pub cycle_start: u64,
    /// Per model thread, a fingerprint of everything it has learnt from the world: what each
    /// of its steps returned (a step's body is a `Fn`: it has no other way to tell its
    /// thread anything), and what it read outside steps
    /// ([`super::Current::read`]), since the last loop head where its local state is fully
    /// named ([`super::Current::forget`]). Its code is deterministic, so equal fingerprints
    /// mean equal local state. Kept only for the bounded search's state caching
    /// ([`crate::engine::statecache`]); empty otherwise.
    pub hist: Vec<u64>,
    /// What watches the events of this execution besides the trace (libFuzzer feedback,
    /// the focus strategy's hints), handed over at launch.
    pub observers: Observers,
    /// A model thread panicked (caught only where the harness was asked to): what it said.
    pub crash: Option<String>,
    /// The step bound was hit while the search caches states: there it is a guard, not I7
    /// (the search finds livelocks as cycles of states), and the execution halts without a
    /// verdict.
    pub guard_hit: bool,
    /// Where the accessors add up what each stretch of execution reads and writes, for the
    /// search's reduction ([`super::footprint`]); `None` where no search asks.
    pub footprint: Option<std::sync::Arc<super::footprint::FootprintCell>>,
    /// The threads a CFS pick passed over in the step running now (a bit per [`Tid`];
    /// [`super::S::passed_over`]), handed to the search's mirror when the step ends.
    pub passed_over: u64,
}

/// How a stress driver runs a scenario's operations back to back in one world: control of the
/// scenario's controller between its cycles, not kernel state (no kernel function reads it).
#[derive(Clone, Debug, Default)]
pub struct Cycles {
    /// Start the operations over after they end (only for scenarios that end where they
    /// began, see [`crate::scenario::Scenario::repeatable`]).
    pub repeat: bool,
    /// Completed cycles, shared with the driver's progress display.
    pub done: Arc<AtomicU64>,
    /// Stop after the current cycle.
    pub stop: Arc<AtomicBool>,
    /// Stop after the cycle that ends at or past this time.
    pub until: Option<Instant>,
}

impl Cycles {
    /// Whether the controller starts another cycle in this world.
    pub fn again(&self) -> bool {
        self.repeat
            && !self.stop.load(Ordering::Relaxed)
            && self.until.is_none_or(|t| Instant::now() < t)
    }
}

/// All state of one execution.
#[derive(Debug)]
pub struct World {
    pub kernel: KernelState,
    pub harness: Harness,
    /// The visibility of stores under a weak memory model (model.md m); `None` under `sc`.
    /// Reached only through the runtime's accessors.
    pub memory: Option<Memory>,
}

impl World {
    /// Record that the running stretch of execution read or wrote `f` ([`Harness::footprint`]).
    pub fn touch(&self, f: Footprint) {
        if let Some(c) = &self.harness.footprint {
            c.add(f);
        }
    }

    /// Record the reads of wait condition `cond` of thread `me` ([`World::satisfied`]).
    pub fn touch_wait(&self, me: Tid, cond: WaitFor) {
        if self.harness.footprint.is_none() {
            return;
        }
        let k = &self.kernel;
        let f = match cond {
            WaitFor::Start | WaitFor::WakerGo => Footprint::read(Obj::Go),
            WaitFor::Running => {
                Footprint::read(Obj::Task(me)).union(Footprint::read(Obj::Rq(k.tasks[me].cpu)))
            }
            WaitFor::LockFree(l) => Footprint::read(Obj::of_lock(l)),
            WaitFor::OnCpuClear(p) => Footprint::read(Obj::OnCpu(p)),
            WaitFor::InactiveOrState(p, _) => {
                Footprint::read(Obj::OnCpu(p)).union(Footprint::read(Obj::State(p)))
            }
            WaitFor::NeedResched => Footprint::read(Obj::NeedResched(me)),
            WaitFor::Finished(t) => Footprint::read(Obj::Thread(t)),
            // Every task's timer, every thread's debt to it.
            WaitFor::TimerArmed => (0..k.tasks.len()).fold(Footprint::EMPTY, |f, t| {
                f.union(Footprint::read(Obj::Task(t)))
                    .union(Footprint::read(Obj::Thread(t)))
            }),
            // Every runqueue (its wake list, curr and lock) and its current task's interrupt
            // state.
            WaitFor::TtwuPending => (0..k.rqs.len()).fold(Footprint::EMPTY, |f, c| {
                f.union(Footprint::read_all(Obj::whole_rq(c)))
                    .union(Footprint::read(Obj::Own(k.rqs[c].curr)))
            }),
            // The controllers' count, each kthread's flags and its thread's bookkeeping.
            WaitFor::ScenarioEnd => {
                let h = &self.harness;
                (h.cast.kthreads.iter().enumerate()).fold(
                    Footprint::read(Obj::ControllersDone),
                    |f, (i, ids)| {
                        f.union(Footprint::read(Obj::Kthread(i)))
                            .union(Footprint::read(Obj::Thread(ids.task)))
                    },
                )
            }
        };
        self.touch(f);
    }

    /// Start tracking store visibility under `model` from the kernel state as it is now
    /// (nothing under `sc`).
    pub fn init_memory(&mut self, model: crate::scenario::Memory) {
        if !model.is_weak() {
            self.memory = None;
            return;
        }
        let k = &self.kernel;
        let shape = Shape {
            tasks: k.tasks.len(),
            kthreads: k.kthreads.len(),
            completions: k.completions.len(),
            vars: k.vars.len(),
        };
        let mut initial: Vec<i64> = Vec::new();
        initial.extend(k.tasks.iter().map(|t| i64::from(t.state)));
        initial.extend(k.tasks.iter().map(|t| i64::from(t.on_rq)));
        initial.extend(k.tasks.iter().map(|t| i64::from(t.on_cpu)));
        initial.extend(k.kthreads.iter().map(|t| i64::from(t.flags)));
        initial.extend(k.completions.iter().map(|c| i64::from(c.done)));
        initial.extend(k.vars.iter().copied());
        self.memory = Some(Memory::new(model, shape, &initial, k.tasks.len()));
    }

    /// Model thread `me` leaves a wait whose condition now holds: where it spun on a weak
    /// location, it has now seen the store that ended the spin (model.md m.3). A trace event
    /// is not needed: the re-check that follows records what it reads.
    pub fn sync_spin(&mut self, me: Tid, cond: WaitFor) {
        let Some(m) = self.memory.as_mut() else {
            return;
        };
        let mut seen = Vec::new();
        match cond {
            WaitFor::OnCpuClear(p) => m.sync(me, MemLoc::OnCpu(p), &mut seen),
            WaitFor::InactiveOrState(p, _) => {
                m.sync(me, MemLoc::OnCpu(p), &mut seen);
                m.sync(me, MemLoc::State(p), &mut seen);
            }
            _ => {}
        }
    }

    /// Fold `x` into model thread `me`'s fingerprint (see [`Harness::hist`]).
    pub fn learn(&mut self, me: Tid, x: impl Hash) {
        if let Some(h) = self.harness.hist.get_mut(me) {
            *h = crate::statehash::hash64((*h, x));
        }
    }

    /// Model thread `me` is at a point where its whole local state (its call stack and
    /// locals) is named by `at`: its fingerprint restarts there.
    pub fn forget(&mut self, me: Tid, at: &'static str) {
        if let Some(h) = self.harness.hist.get_mut(me) {
            *h = crate::statehash::hash64(at);
        }
    }

    /// A 128-bit fingerprint of the execution's state: every field a later step, wait
    /// condition or oracle reads (tasks, runqueues, kthreads, completions, the per-thread
    /// bookkeeping, the tick budget, the park window, the verdict so far) and every thread's
    /// [`Harness::hist`]. Left out: what never changes during an execution (scenario, variant,
    /// oracles, cast, names, kinds); what only the outcome reports and no step or oracle reads
    /// (the trace, `nivcsw`, `nr_switches`, the preemption and one-tick-sleep counts, the
    /// observers); and the step count, which only I7's step bound reads: the state does not
    /// depend on the length of the path that reached it, and the search that caches states
    /// runs the step bound as a guard (model.md, "Verification ledger").
    pub fn fingerprint(&self) -> u128 {
        let mut h = crate::statehash::StateHasher::new();
        self.fingerprint_into(&mut h);
        h.finish128()
    }

    // Every struct is destructured in full, so that a field added later must be placed here
    // (hashed, or named as constant or not read by the model) before the crate compiles.
    fn fingerprint_into(&self, h: &mut impl Hasher) {
        let World {
            kernel,
            harness,
            memory,
        } = self;
        let KernelState {
            tasks,
            rqs,
            kthreads,
            completions,
            vars,
            var_locks,
        } = kernel;
        if let Some(m) = memory {
            m.hash_state(h);
        }
        (vars, var_locks).hash(h);
        let Harness {
            variant: _,
            scenario: _,
            oracles: _,
            cast: _,
            threads,
            trace: _,
            // Path length: the same state reached by paths of different lengths is one state
            // (the I7 step bound is only a guard of the state-graph search, which finds
            // livelocks as cycles instead; engine/bounded.rs).
            steps: _,
            budget,
            preemptions: _,
            window,
            wti_sleeps: _,
            tick_owed,
            violation,
            halting,
            controllers_done,
            controllers: _,
            waker_go,
            started,
            in_op,
            also,
            cycles: _,
            // Native stress only, where no fingerprint is taken (a step count besides).
            cycle_start: _,
            hist,
            observers: _,
            crash,
            guard_hit,
            // What the search takes of the execution, not a state (0 outside a step).
            footprint: _,
            passed_over: _,
        } = harness;
        for (t, th) in tasks.iter().zip(threads) {
            let Task {
                name: _,
                kind: _,
                state,
                on_rq,
                on_cpu,
                cpu,
                allowed,
                flags,
                preempt_count,
                irqs_off,
                irq_stack,
                need_resched,
                // Read only as what wait_task_inactive returns, whose hash is whether it
                // failed (types.rs, `Ncsw`): a count that only grows would keep states apart.
                nvcsw: _,
                nivcsw: _,
                pi_owner,
                timer_armed,
                sched_delayed,
            } = t;
            let Thread {
                fresh_checks,
                in_parkme,
                in_spd_gap,
                started,
                wait,
                finished,
            } = th;
            (state, fresh_checks, on_rq, on_cpu, cpu, allowed, flags).hash(h);
            (preempt_count, irqs_off, irq_stack, need_resched).hash(h);
            (pi_owner, in_parkme, in_spd_gap).hash(h);
            (started, timer_armed, wait, finished, sched_delayed).hash(h);
        }
        for r in rqs {
            let Rq {
                curr,
                idle: _,
                stopper: _,
                queue,
                lock_owner,
                online,
                active,
                prev,
                nr_switches: _,
                wake_list,
            } = r;
            (curr, queue, lock_owner, online, active, prev, wake_list).hash(h);
        }
        for k in kthreads {
            let Kthread {
                flags,
                td_cpu,
                status,
                work,
                started,
            } = k;
            (flags, td_cpu, status, work, started).hash(h);
        }
        for c in completions {
            let Completion {
                name: _,
                done,
                waiters,
                lock_owner,
            } = c;
            (done, waiters, lock_owner).hash(h);
        }
        (budget, window.map(|w| w.kthread), tick_owed).hash(h);
        (
            halting,
            violation.as_ref().map(|v| v.oracle),
            also,
            crash,
            guard_hit,
        )
            .hash(h);
        (controllers_done, waker_go, started, in_op, hist).hash(h);
    }

    /// Record a violation if the oracle is enabled. The first one is the verdict. Like the
    /// kernel after a WARN, the execution goes on until the controller's operation in progress
    /// returns (the epilogue: a race diagram then shows e.g. park returning), recording each
    /// further oracle once in the trace; a liveness failure, or a violation outside an
    /// operation, stops it at once.
    pub fn violate(&mut self, oracle: Oracle, task: Tid, detail: String) {
        // An oracle left out records nothing: a step replayed by the bounded search is not
        // judged again (`Mirror::replaying`), and its footprint must be its first run's.
        if !self.harness.oracles.contains(oracle) {
            return;
        }
        // Whether a controller is inside an operation decides below when the execution stops.
        self.touch(Footprint::read(Obj::InOp));
        let h = &mut self.harness;
        if h.violation.is_some() {
            if h.violation.as_ref().is_some_and(|v| v.oracle != oracle) && !h.also.contains(&oracle)
            {
                h.also.push(oracle);
                h.trace.push(Event::violation(h.steps, task, oracle));
            }
            if oracle == Oracle::I7 {
                h.halting = true;
            }
            return;
        }
        h.trace.freeze();
        h.trace.push(Event::violation(h.steps, task, oracle));
        h.violation = Some(Violation {
            oracle,
            task: self.kernel.tasks[task].name.clone(),
            detail,
            step: h.steps,
        });
        if oracle == Oracle::I7 || !h.in_op {
            h.halting = true;
        }
    }

    /// A scheduler self-check (model.md S*) failed: a bug in the model, not in the protocol.
    pub fn model_bug(&mut self, task: Tid, detail: String) {
        let h = &mut self.harness;
        if h.violation.is_some() {
            // In a violation's epilogue: the verdict stands, the epilogue ends here.
            h.halting = true;
            return;
        }
        h.trace.freeze();
        h.trace.push(Event::violation(h.steps, task, Oracle::Model));
        h.violation = Some(Violation {
            oracle: Oracle::Model,
            task: self.kernel.tasks[task].name.clone(),
            detail,
            step: h.steps,
        });
        h.halting = true;
    }

    /// Whether a blocked thread's wait condition now holds.
    pub fn satisfied(&self, me: Tid, w: WaitFor) -> bool {
        let (k, h) = (&self.kernel, &self.harness);
        match w {
            WaitFor::Start => h.started,
            WaitFor::Running => {
                let t = &k.tasks[me];
                k.rqs[t.cpu].curr == me
            }
            WaitFor::LockFree(l) => k.lock_owner(l).is_none(),
            WaitFor::OnCpuClear(p) => !k.tasks[p].on_cpu,
            WaitFor::InactiveOrState(p, st) => !k.tasks[p].on_cpu || k.tasks[p].state != st,
            WaitFor::NeedResched => k.tasks[me].need_resched,
            // An armed timer fires at a point the engine chooses once every thread that could
            // run when it was armed has taken a step, blocked or finished (model.md b.6 step 8):
            // a tick is long, so no CPU starves behind a one-tick poll loop, but nothing
            // orders the retry after the sleep against the other threads' next steps.
            WaitFor::TimerArmed => h.tick_owed == 0 && k.tasks.iter().any(|t| t.timer_armed),
            WaitFor::WakerGo => h.waker_go,
            WaitFor::TtwuPending => k.ipi_cpu().is_some(),
            WaitFor::ScenarioEnd => self.scenario_end(),
            WaitFor::Finished(t) => h.threads[t].finished,
        }
    }

    /// The scenario has ended: every controller is done and, where the last operation on the
    /// kthread left it unparked, the kthread has left `__kthread_parkme` (oracle I7).
    pub fn scenario_end(&self) -> bool {
        let h = &self.harness;
        if h.controllers_done < h.controllers {
            return false;
        }
        h.cast
            .kthreads
            .iter()
            .zip(&self.kernel.kthreads)
            .all(|(ids, k)| {
                let th = &h.threads[ids.task];
                k.flags & KTHREAD_SHOULD_PARK != 0 || th.finished || !th.in_parkme
            })
    }

    /// Threads that could still take a step (not blocked, not finished).
    pub fn runnable_threads(&self) -> usize {
        self.harness
            .threads
            .iter()
            .filter(|t| !t.finished && t.wait.is_none())
            .count()
    }

    /// Who each unfinished thread waits for (a deadlock's message, with what the thread that
    /// found it waits for as `default`; a hang's, with `None`).
    pub fn waiting(&self, default: Option<WaitFor>) -> String {
        let who: Vec<String> = self
            .kernel
            .tasks
            .iter()
            .zip(&self.harness.threads)
            .filter(|(_, th)| !th.finished)
            .map(|(t, th)| match default {
                Some(d) => format!("{} waits for {:?}", t.name, th.wait.unwrap_or(d)),
                None => format!("{} waits for {:?}", t.name, th.wait),
            })
            .collect();
        who.join("; ")
    }
}
