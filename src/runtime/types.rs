//! The vocabulary the state is made of: ids, the kernel's constants (task states, `on_rq`
//! values, kthread flag bits, errnos) and the model's lock names. Plain data, imported by
//! both the world and the trace.

/// Index of a model thread (task or agent) in [`super::world::KernelState::tasks`].
pub type Tid = usize;
/// A model CPU number.
pub type CpuId = usize;
/// Index of a completion in [`super::world::KernelState::completions`].
pub type CompId = usize;

// Task states, v4.17 `include/linux/sched.h` (model.md a.4).
pub const TASK_RUNNING: u32 = 0x0000;
pub const TASK_INTERRUPTIBLE: u32 = 0x0001;
pub const TASK_UNINTERRUPTIBLE: u32 = 0x0002;
pub const TASK_DEAD: u32 = 0x0080;
pub const TASK_WAKING: u32 = 0x0200;
pub const TASK_PARKED: u32 = 0x0040;
/// `TASK_NORMAL` = INTERRUPTIBLE | UNINTERRUPTIBLE: the mask of `wake_up_process` and `complete`.
pub const TASK_NORMAL: u32 = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE;

/// `p->on_rq` values (model.md a.1).
pub const ON_RQ_QUEUED: u8 = 1;
pub const ON_RQ_MIGRATING: u8 = 2;

/// `struct kthread` flag bits (model.md a.3).
pub const KTHREAD_IS_PER_CPU: u32 = 1 << 0;
pub const KTHREAD_SHOULD_STOP: u32 = 1 << 1;
pub const KTHREAD_SHOULD_PARK: u32 = 1 << 2;
pub const KTHREAD_IS_PARKED: u32 = 1 << 3;

/// `PF_EXITING` task flag.
pub const PF_EXITING: u32 = 0x4;

/// `UINT_MAX`: `complete_all` saturates `done` here (model.md b.7).
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

/// `p->nvcsw`, a task's count of voluntary switches. It only ever counts up, so a state that
/// held it would never meet itself again after the task slept once more; the model reads it
/// only as what `wait_task_inactive` returns ([`Ncsw`]), whose callers here test it for zero.
/// So the fingerprint leaves it out (docs/model.md s.1), and the count is private: [`Ncsw`] is
/// the one way to read it, and there is no other.
#[derive(Clone, Copy, Debug, Default)]
pub struct SwitchCount(u64);

impl SwitchCount {
    /// `++p->nvcsw` (a voluntary switch out, `__schedule`).
    pub fn bump(&mut self) {
        self.0 += 1;
    }

    /// `p->nvcsw | LONG_MIN`: what a `wait_task_inactive` that succeeds returns.
    pub fn ncsw(self) -> Ncsw {
        Ncsw(self.0 | 1 << 63)
    }
}

/// What `wait_task_inactive` returns: `p->nvcsw | LONG_MIN` on success, 0 on failure. The
/// kernel's ptrace compares it with a second call's; the model's callers (`kthread_park`,
/// `__kthread_bind`) only test it for zero, so that is all it answers ([`Ncsw::failed`]) and
/// all that a thread learns of it (its hash): no two values can be compared, and two states
/// that differ only in a count ([`SwitchCount`]) go on alike.
#[derive(Clone, Copy, Debug)]
pub struct Ncsw(u64);

impl Ncsw {
    /// 0: `p` did not reach `match_state`.
    pub const FAILED: Ncsw = Ncsw(0);

    /// `!wait_task_inactive(...)`.
    pub fn failed(self) -> bool {
        self.0 == 0
    }
}

impl std::hash::Hash for Ncsw {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.failed().hash(h);
    }
}

/// `-EBUSY`: `kthread_park` of a thread that is already being parked (V3b+).
pub const EBUSY: i32 = 16;
/// `-ENOSYS`: `kthread_park` of an exiting thread.
pub const ENOSYS: i32 = 38;

/// A model spinlock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockId {
    /// `p->pi_lock`.
    Pi(Tid),
    /// `rq->lock` of a CPU.
    Rq(CpuId),
    /// A completion's `wait.lock`.
    Wq(CompId),
    /// A litmus test's `spinlock_t`.
    Var(usize),
}

/// What a model thread is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The per-CPU idle task (`swapper/N`).
    Idle,
    /// The kthread under test (index into `KernelState::kthreads`).
    Kthread(usize),
    /// The controller: a kernel task calling park / unpark / stop / hotplug.
    Controller,
    /// An extra ordinary task sharing the kthread's CPU (model.md f, d.3).
    Extra,
    /// The CPU stopper (`migration/N`), highest priority on its CPU (model.md b.12).
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

/// Where a blocked model thread waits (what `unblock` is waiting for).
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
    /// The IPI agent: some CPU has queued wakeups (`wakelist`) and can take the interrupt.
    TtwuPending,
    /// The harness: the scenario's end condition.
    ScenarioEnd,
    /// Another model thread has finished (join).
    Finished(Tid),
}

/// A shared kernel location whose visibility the memory model decides (model.md m): the
/// fields the protocol reads or writes without holding the lock that protects them
/// everywhere, plus the variables of a litmus test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemLoc {
    /// `p->state`.
    State(Tid),
    /// `p->on_rq`.
    OnRq(Tid),
    /// `p->on_cpu`.
    OnCpu(Tid),
    /// `kthread->flags` of a kthread under test.
    Flags(usize),
    /// A completion's `done`.
    Done(CompId),
    /// A litmus test's shared variable.
    Var(usize),
}

/// How a load is marked in the kernel source (model.md m.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ld {
    /// A plain C load (treated as `READ_ONCE`: the model does not tear or fuse loads).
    Plain,
    /// `READ_ONCE()`.
    Once,
    /// `smp_load_acquire()` (or the acquire of `smp_cond_load_acquire()`).
    Acquire,
}

/// How a store is marked in the kernel source (model.md m.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum St {
    /// A plain C store (treated as `WRITE_ONCE`).
    Plain,
    /// `WRITE_ONCE()`.
    Once,
    /// `smp_store_release()`.
    Release,
}

/// How a read-modify-write is ordered (model.md m.2): value-returning atomics
/// (`test_and_set_bit`, `xchg`) are fully ordered, `set_bit` / `clear_bit` and the
/// `_relaxed` forms are not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rmw {
    /// A full barrier before and after (`test_and_set_bit`, `xchg`, `cmpxchg`).
    Ordered,
    /// `_acquire`: the load part is an acquire.
    Acquire,
    /// `_release`: the store part is a release.
    Release,
    /// No ordering (`set_bit`, `clear_bit`, `_relaxed`).
    Relaxed,
}

/// A memory barrier (model.md m.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fence {
    /// `smp_mb()` (also `smp_mb__after_spinlock()` and the fence of `smp_store_mb()`).
    Mb,
    /// `smp_rmb()`: orders earlier loads before later loads.
    Rmb,
    /// `smp_wmb()`: orders earlier stores before later stores.
    Wmb,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_wait_task_inactive_returns_hashes_as_success_or_failure_only() {
        let hash = |n: Ncsw| crate::statehash::hash64(n);
        let mut c = SwitchCount::default();
        let first = c.ncsw();
        c.bump();
        c.bump();
        assert!(!first.failed() && !c.ncsw().failed());
        assert!(Ncsw::FAILED.failed());
        // Two successes after different numbers of switches are the same to a fingerprint.
        assert_eq!(hash(first), hash(c.ncsw()));
        assert_ne!(hash(first), hash(Ncsw::FAILED));
    }
}
