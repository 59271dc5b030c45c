//! The model's shared state: tasks, per-CPU runqueues, `struct kthread`s and completions
//! (spec section a). Plain data; every change to it happens inside one model step
//! (see [`super::step`]).

use super::trace::{Event, Trace};
use crate::oracle::{Oracle, OracleSet, Violation};
use crate::scenario::Scenario;
use crate::variant::Variant;
use std::collections::VecDeque;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// Index of a model thread (task or agent) in [`World::tasks`].
pub type Tid = usize;
/// A model CPU number.
pub type CpuId = usize;
/// Index of a completion in [`World::completions`].
pub type CompId = usize;

// Task states, v4.17 `include/linux/sched.h` (spec a.4).
pub const TASK_RUNNING: u32 = 0x0000;
pub const TASK_INTERRUPTIBLE: u32 = 0x0001;
pub const TASK_UNINTERRUPTIBLE: u32 = 0x0002;
pub const TASK_DEAD: u32 = 0x0080;
pub const TASK_WAKING: u32 = 0x0200;
pub const TASK_PARKED: u32 = 0x0040;
/// `TASK_NORMAL` = INTERRUPTIBLE | UNINTERRUPTIBLE: the mask of `wake_up_process` and `complete`.
pub const TASK_NORMAL: u32 = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE;

/// `p->on_rq` values (spec a.1).
pub const ON_RQ_QUEUED: u8 = 1;
pub const ON_RQ_MIGRATING: u8 = 2;

/// `struct kthread` flag bits (spec a.3).
pub const KTHREAD_IS_PER_CPU: u32 = 1 << 0;
pub const KTHREAD_SHOULD_STOP: u32 = 1 << 1;
pub const KTHREAD_SHOULD_PARK: u32 = 1 << 2;
pub const KTHREAD_IS_PARKED: u32 = 1 << 3;

/// `PF_EXITING` task flag.
pub const PF_EXITING: u32 = 0x4;

/// `UINT_MAX`: `complete_all` saturates `done` here (spec b.7).
pub const COMPLETION_ALL: u32 = u32::MAX;

/// Render a task state word the way a kernel developer reads it.
pub fn state_name(s: u32) -> String {
    match s {
        TASK_RUNNING => "RUNNING".into(),
        TASK_INTERRUPTIBLE => "INTERRUPTIBLE".into(),
        TASK_UNINTERRUPTIBLE => "UNINTERRUPTIBLE".into(),
        TASK_PARKED => "PARKED".into(),
        TASK_DEAD => "DEAD".into(),
        TASK_WAKING => "WAKING".into(),
        other => format!("{other:#x}"),
    }
}

/// Render a kthread flag bit.
pub fn flag_name(bit: u32) -> &'static str {
    match bit {
        KTHREAD_IS_PER_CPU => "IS_PER_CPU",
        KTHREAD_SHOULD_STOP => "SHOULD_STOP",
        KTHREAD_SHOULD_PARK => "SHOULD_PARK",
        KTHREAD_IS_PARKED => "IS_PARKED",
        _ => "?",
    }
}

/// What a model thread is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The per-CPU idle task (`swapper/N`).
    Idle,
    /// The kthread under test (index into [`World::kthreads`]).
    Kthread(usize),
    /// The controller: a kernel task calling park / unpark / stop / hotplug.
    Controller,
    /// An extra ordinary task sharing the kthread's CPU (spec f, d.3).
    Extra,
    /// The CPU stopper (`migration/N`), highest priority on its CPU (spec b.12).
    Stopper,
    /// Interrupt-context agent (third-party waker, hrtimer): no task_struct, runs on no CPU.
    Agent,
    /// The harness that starts the scenario and waits for its end.
    Harness,
}

impl Kind {
    /// A small number per kind (for feedback hashing).
    pub fn code(self) -> u64 {
        match self {
            Kind::Idle => 1,
            Kind::Kthread(_) => 2,
            Kind::Controller => 3,
            Kind::Extra => 4,
            Kind::Stopper => 5,
            Kind::Agent => 6,
            Kind::Harness => 7,
        }
    }
}

/// Where a parked-for-the-engine thread waits (what `unblock` is waiting for).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitFor {
    /// The harness has started every model thread (so who goes first is a free choice of
    /// the engine, not a preemption of the harness).
    Start,
    /// To be its CPU's current task again (switched in by `__schedule`).
    Running,
    /// A spinlock to be free.
    LockFree(LockId),
    /// `p.on_cpu == 0` (spin in `try_to_wake_up` step 4).
    OnCpuClear(Tid),
    /// `p.on_cpu == 0 || p.state != st` (spin in `wait_task_inactive` step 2 / 7).
    InactiveOrState(Tid, u32),
    /// The idle loop: `need_resched` on this (idle) task.
    NeedResched,
    /// The hrtimer agent: some timer is armed.
    TimerArmed,
    /// The third-party waker: its scenario trigger.
    WakerGo,
    /// The harness: the scenario's end condition.
    ScenarioEnd,
    /// Another model thread has finished (join).
    Finished(Tid),
}

/// A model spinlock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockId {
    /// `p->pi_lock`.
    Pi(Tid),
    /// `rq->lock` of a CPU.
    Rq(CpuId),
    /// A completion's `wait.lock`.
    Wq(CompId),
}

/// Per-task state (`task_struct`, spec a.1), plus model bookkeeping.
#[derive(Clone, Debug)]
pub struct Task {
    pub name: String,
    pub kind: Kind,
    pub state: u32,
    /// Bumped on every store of `state` by the task itself (oracle I5).
    pub epoch: u64,
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
    pub nvcsw: u64,
    pub nivcsw: u64,
    pub pi_owner: Option<Tid>,
    /// Inside `__kthread_parkme` (oracles I1, I2).
    pub in_parkme: bool,
    /// Between the count-to-0 and the `preempt_disable` of `schedule_preempt_disabled` (spec h.5).
    pub in_spd_gap: bool,
    /// Ever switched in (a task that never ran starts with `schedule_tail`).
    pub started: bool,
    /// An armed hrtimer that will wake this task (one-tick sleep of `wait_task_inactive`).
    pub timer_armed: bool,
    /// Engine bookkeeping: what this thread is blocked on, if it is.
    pub wait: Option<WaitFor>,
    /// Engine bookkeeping: the thread returned from its body.
    pub finished: bool,
}

impl Task {
    pub fn new(name: &str, kind: Kind, cpu: CpuId) -> Self {
        Task {
            name: name.to_string(),
            kind,
            state: TASK_RUNNING,
            epoch: 0,
            on_rq: 0,
            on_cpu: false,
            cpu,
            allowed: u64::MAX,
            flags: 0,
            preempt_count: 0,
            irqs_off: false,
            irq_stack: Vec::new(),
            need_resched: false,
            nvcsw: 0,
            nivcsw: 0,
            pi_owner: None,
            in_parkme: false,
            in_spd_gap: false,
            started: false,
            timer_armed: false,
            wait: None,
            finished: false,
        }
    }

    /// Preemptible: preempt count 0 and interrupts on (spec b.3 `[P+]`).
    pub fn preemptible(&self) -> bool {
        self.preempt_count == 0 && !self.irqs_off
    }

    /// A scheduled kernel task (as opposed to an agent or the harness).
    pub fn is_task(&self) -> bool {
        !matches!(self.kind, Kind::Agent | Kind::Harness)
    }
}

/// Per-CPU runqueue (spec a.2).
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
}

/// smpboot per-thread status (spec a.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HpStatus {
    None,
    Active,
    Parked,
}

/// `struct kthread` plus the smpboot `struct smp_hotplug_thread` data (spec a.3).
#[derive(Clone, Debug)]
pub struct Kthread {
    pub task: Tid,
    pub flags: u32,
    /// `kthread->cpu`.
    pub cpu: CpuId,
    pub parked: CompId,
    pub exited: CompId,
    /// smpboot `td->cpu`.
    pub td_cpu: CpuId,
    pub status: HpStatus,
    /// Pending work for `thread_should_run` (raised by the third-party waker).
    pub work: u32,
    /// Creation done (`kthread()` has completed the creator's `done`).
    pub created: CompId,
}

/// `struct completion` (spec b.7).
#[derive(Clone, Debug)]
pub struct Completion {
    pub name: &'static str,
    pub done: u32,
    pub waiters: VecDeque<Tid>,
    pub lock_owner: Option<Tid>,
}

/// The park window of oracle I1c / I2 (spec e): from park's return until unpark clears
/// SHOULD_PARK.
#[derive(Clone, Copy, Debug)]
pub struct ParkWindow {
    pub kthread: usize,
}

/// All model state of one execution.
#[derive(Debug)]
pub struct World {
    pub variant: Variant,
    pub scenario: Scenario,
    pub oracles: OracleSet,
    pub tasks: Vec<Task>,
    pub rqs: Vec<Rq>,
    pub kthreads: Vec<Kthread>,
    pub completions: Vec<Completion>,
    pub trace: Trace,
    /// Model steps taken so far (all threads).
    pub steps: u64,
    /// Preemptions (ticks and wakeup preemptions) the scenario may still inject.
    pub budget: u32,
    /// Preemptions injected so far.
    pub preemptions: u32,
    pub window: Option<ParkWindow>,
    /// One-tick sleeps of `wait_task_inactive` (spec b.6 step 8).
    pub wti_sleeps: u32,
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
    /// of its steps recorded and returned, and what it read outside steps
    /// ([`super::Kernel::read`]), since the last loop head where its local state is fully
    /// named ([`super::Kernel::forget`]). Its code is deterministic, so equal fingerprints
    /// mean equal local state. Kept only for the bounded search's state caching
    /// ([`crate::engine::statecache`]); empty otherwise.
    pub hist: Vec<u64>,
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

impl World {
    /// Fold `x` into model thread `me`'s fingerprint (see [`World::hist`]).
    pub fn learn(&mut self, me: Tid, x: impl Hash) {
        if let Some(h) = self.hist.get_mut(me) {
            let mut s = DefaultHasher::new();
            (*h, x).hash(&mut s);
            *h = s.finish();
        }
    }

    /// Model thread `me` is at a point where its whole local state (its call stack and
    /// locals) is named by `at`: its fingerprint restarts there.
    pub fn forget(&mut self, me: Tid, at: &'static str) {
        if let Some(h) = self.hist.get_mut(me) {
            let mut s = DefaultHasher::new();
            at.hash(&mut s);
            *h = s.finish();
        }
    }

    /// A 128-bit fingerprint of the execution's state: every field a later step, wait
    /// condition or oracle reads (tasks, runqueues, kthreads, completions, the step count,
    /// which the step bound of I7 reads, the tick budget, the park window, the verdict so
    /// far) and every thread's [`World::hist`]. Left out: what never changes during an
    /// execution (scenario, variant, oracles, names, kinds), and what only the outcome
    /// reports and no step or oracle reads (the trace, `nivcsw`, `nr_switches`, the
    /// preemption and one-tick-sleep counts).
    pub fn fingerprint(&self) -> u128 {
        let mut a = DefaultHasher::new();
        0xa5u8.hash(&mut a);
        let mut b = DefaultHasher::new();
        0x5au8.hash(&mut b);
        for h in [&mut a, &mut b] {
            self.fingerprint_into(h);
        }
        (u128::from(a.finish()) << 64) | u128::from(b.finish())
    }

    // Every struct is destructured in full, so that a field added later must be placed here
    // (hashed, or named as constant or not read by the model) before the crate compiles.
    fn fingerprint_into(&self, h: &mut impl Hasher) {
        let World {
            variant: _,
            scenario: _,
            oracles: _,
            tasks,
            rqs,
            kthreads,
            completions,
            trace: _,
            steps,
            budget,
            preemptions: _,
            window,
            wti_sleeps: _,
            violation,
            halting,
            controllers_done,
            controllers: _,
            waker_go,
            started,
            in_op,
            also,
            cycles: _,
            cycle_start,
            hist,
        } = self;
        for t in tasks {
            let Task {
                name: _,
                kind: _,
                state,
                epoch,
                on_rq,
                on_cpu,
                cpu,
                allowed,
                flags,
                preempt_count,
                irqs_off,
                irq_stack,
                need_resched,
                nvcsw,
                nivcsw: _,
                pi_owner,
                in_parkme,
                in_spd_gap,
                started,
                timer_armed,
                wait,
                finished,
            } = t;
            (state, epoch, on_rq, on_cpu, cpu, allowed, flags).hash(h);
            (preempt_count, irqs_off, irq_stack, need_resched).hash(h);
            (nvcsw, pi_owner, in_parkme, in_spd_gap).hash(h);
            (started, timer_armed, wait, finished).hash(h);
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
            } = r;
            (curr, queue, lock_owner, online, active, prev).hash(h);
        }
        for k in kthreads {
            let Kthread {
                task: _,
                flags,
                cpu,
                parked: _,
                exited: _,
                td_cpu,
                status,
                work,
                created: _,
            } = k;
            (flags, cpu, td_cpu, status, work).hash(h);
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
        (steps, budget, window.map(|w| w.kthread)).hash(h);
        (halting, violation.as_ref().map(|v| v.oracle), also).hash(h);
        (
            controllers_done,
            waker_go,
            started,
            in_op,
            cycle_start,
            hist,
        )
            .hash(h);
    }

    /// Record a violation if the oracle is enabled. The first one is the verdict. Like the
    /// kernel after a WARN, the execution goes on until the controller's operation in progress
    /// returns (the epilogue: a race diagram then shows e.g. park returning), recording each
    /// further oracle once in the trace; a liveness failure, or a violation outside an
    /// operation, stops it at once.
    pub fn violate(&mut self, oracle: Oracle, task: Tid, detail: String) {
        if !self.oracles.contains(oracle) {
            return;
        }
        if self.violation.is_some() {
            if self.violation.as_ref().is_some_and(|v| v.oracle != oracle)
                && !self.also.contains(&oracle)
            {
                self.also.push(oracle);
                self.trace.push(Event::violation(self.steps, task, oracle));
            }
            if oracle == Oracle::I7 {
                self.halting = true;
            }
            return;
        }
        self.trace.freeze();
        self.trace.push(Event::violation(self.steps, task, oracle));
        self.violation = Some(Violation {
            oracle,
            task: self.tasks[task].name.clone(),
            detail,
            step: self.steps,
        });
        if oracle == Oracle::I7 || !self.in_op {
            self.halting = true;
        }
    }

    /// A scheduler self-check (spec S*) failed: a bug in the model, not in the protocol.
    pub fn model_bug(&mut self, task: Tid, detail: String) {
        if self.violation.is_some() {
            // In a violation's epilogue: the verdict stands, the epilogue ends here.
            self.halting = true;
            return;
        }
        self.trace.freeze();
        self.trace
            .push(Event::violation(self.steps, task, Oracle::Model));
        self.violation = Some(Violation {
            oracle: Oracle::Model,
            task: self.tasks[task].name.clone(),
            detail,
            step: self.steps,
        });
        self.halting = true;
    }

    pub fn kthread_of(&self, t: Tid) -> Option<usize> {
        match self.tasks[t].kind {
            Kind::Kthread(k) => Some(k),
            _ => None,
        }
    }

    pub fn lock_owner(&self, l: LockId) -> Option<Tid> {
        match l {
            LockId::Pi(t) => self.tasks[t].pi_owner,
            LockId::Rq(c) => self.rqs[c].lock_owner,
            LockId::Wq(c) => self.completions[c].lock_owner,
        }
    }

    pub fn set_lock_owner(&mut self, l: LockId, o: Option<Tid>) {
        match l {
            LockId::Pi(t) => self.tasks[t].pi_owner = o,
            LockId::Rq(c) => self.rqs[c].lock_owner = o,
            LockId::Wq(c) => self.completions[c].lock_owner = o,
        }
    }

    /// Whether a blocked thread's wait condition now holds.
    pub fn satisfied(&self, me: Tid, w: WaitFor) -> bool {
        match w {
            WaitFor::Start => self.started,
            WaitFor::Running => {
                let t = &self.tasks[me];
                self.rqs[t.cpu].curr == me
            }
            WaitFor::LockFree(l) => self.lock_owner(l).is_none(),
            WaitFor::OnCpuClear(p) => !self.tasks[p].on_cpu,
            WaitFor::InactiveOrState(p, st) => !self.tasks[p].on_cpu || self.tasks[p].state != st,
            WaitFor::NeedResched => self.tasks[me].need_resched,
            // A tick is long against every race window of the model: the timer fires once
            // every other thread has quiesced (blocked or finished), so a CPU that still has
            // work never starves behind a one-tick poll loop.
            WaitFor::TimerArmed => {
                self.tasks.iter().any(|t| t.timer_armed)
                    && self
                        .tasks
                        .iter()
                        .enumerate()
                        .all(|(i, t)| i == me || t.finished || t.wait.is_some())
            }
            WaitFor::WakerGo => self.waker_go,
            WaitFor::ScenarioEnd => self.scenario_end(),
            WaitFor::Finished(t) => self.tasks[t].finished,
        }
    }

    /// The scenario has ended: every controller is done and, where the last operation on the
    /// kthread left it unparked, the kthread has left `__kthread_parkme` (oracle I7).
    pub fn scenario_end(&self) -> bool {
        if self.controllers_done < self.controllers {
            return false;
        }
        self.kthreads.iter().all(|k| {
            let t = &self.tasks[k.task];
            k.flags & KTHREAD_SHOULD_PARK != 0 || t.finished || !t.in_parkme
        })
    }

    /// Threads that could still take a step (not blocked, not finished).
    pub fn runnable_threads(&self) -> usize {
        self.tasks
            .iter()
            .filter(|t| !t.finished && t.wait.is_none())
            .count()
    }
}
