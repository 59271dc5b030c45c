//! Footprints: the objects a stretch of a thread's execution read and wrote, as the runtime's
//! accessors record them, for the search's partial-order reduction (sleep sets,
//! [`crate::engine::bounded`], docs/model.md s.6).
//!
//! An object is a unit of shared state, about a field wide where the protocol's races are: a
//! task's `p->state`, `p->on_rq`, `p->on_cpu` and need_resched are an object each, its other
//! shared fields (CPU, flags, timer, ...) one more; a runqueue's lock is apart from its queue
//! and the rest; and so on ([`Obj`]). Coarser is safe: two stretches whose footprints
//! conflict are only ever explored in both orders. A finer object that some access forgot to
//! record would make the reduction prune an order that differs, so every accessor of shared
//! state records, a view of a whole task or runqueue ([`super::S::task_fields`],
//! [`super::S::rq`]) records every object it holds, and the raw view of the kernel state
//! ([`super::S::kernel`]) records everything ([`Footprint::ALL`]). With one object per task
//! and per runqueue, `verify -v V5 --reduce` ran 69,867 schedules on park-unpark and 976,672
//! on third-party-waker; split so, 61,451 and 852,894 (56,621 and 840,116 once the end of the
//! controller's operations stopped recording the whole world).
//!
//! What is not recorded, and why that is sound:
//! - a thread's private bookkeeping (its fingerprint, its preemption gap flag): no other
//!   thread reads it;
//! - I5's checks: a waker's check of task `p` is set and read with a recorded read of
//!   `p->state`, and cleared for all by p's own state stores (recorded writes of it); the
//!   waker dropping its own check when it leaves `try_to_wake_up` commutes with every other
//!   access, so it records nothing;
//! - what a fair pick passed over: the search's fairness of cycles, not a state;
//! - the step counter and the trace: not part of a state;
//! - oracle checks and scheduler self-checks that read the whole world after a step: they
//!   change nothing, and they judge states, which the reduction still visits every one of
//!   (sleep sets prune transitions, never states); the one check that judges a transition,
//!   I2 (the kthread under test runs outside `__kthread_parkme` while the park window is
//!   open), records its read of the window;
//! - the wakeups of blocked threads after a step: a blocked thread is not a choice, and the
//!   step that blocked it recorded the reads of its wait condition.

use super::types::{CompId, CpuId, LockId, Tid};
use std::sync::atomic::{AtomicU64, Ordering};

/// A unit of shared state (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Obj {
    /// `p->state`.
    State(Tid),
    /// `p->on_rq`.
    OnRq(Tid),
    /// `p->on_cpu`.
    OnCpu(Tid),
    /// Task `p`'s need_resched flag (`TIF_NEED_RESCHED`).
    NeedResched(Tid),
    /// Task `p`'s other shared fields: its CPU, allowed CPUs, flags, delayed dequeue, timer
    /// and switch count (its `pi_lock` owner is [`Obj::PiLock`]).
    Task(Tid),
    /// Task `p`'s preempt count and interrupt state, which only `p` changes (an IPI looks at
    /// whether its CPU's current task has interrupts off).
    Own(Tid),
    /// A runqueue: its queue, wake list, curr, prev and flags.
    Rq(CpuId),
    /// A runqueue's lock.
    RqLock(CpuId),
    /// A `struct kthread` (flags, smpboot status, work).
    Kthread(usize),
    /// A completion: its count, its waiters and its `wait.lock`.
    Completion(CompId),
    /// A litmus test's variable.
    Var(usize),
    /// A litmus test's spinlock.
    VarLock(usize),
    /// Task `p`'s `pi_lock`.
    PiLock(Tid),
    /// The oracles' park window.
    Window,
    /// The preemption budget.
    Budget,
    /// The harness's triggers: every thread started, the third-party waker's go.
    Go,
    /// Whether a controller is inside one of its operations.
    InOp,
    /// How many controllers have finished their operations.
    ControllersDone,
    /// What the runtime keeps of thread `t` that others look at: whether it finished, what it
    /// waits for, whether it is inside `__kthread_parkme`, whether it owes the tick timer a
    /// step.
    Thread(Tid),
}

/// Tasks (and threads) an object of each kind is kept apart for; a task past it shares every
/// bit (conflicts with everything, which is safe).
const TASKS: u32 = 11;

impl Obj {
    /// Every object task `p`'s whole `struct task_struct` holds (its preempt count and its
    /// `pi_lock`'s owner included): what a view of all its fields at once reads or writes.
    pub const fn whole_task(p: Tid) -> [Obj; 7] {
        [
            Obj::State(p),
            Obj::OnRq(p),
            Obj::OnCpu(p),
            Obj::NeedResched(p),
            Obj::Task(p),
            Obj::Own(p),
            Obj::PiLock(p),
        ]
    }

    /// Every object runqueue `c` holds, its lock included: what a view of the whole `struct
    /// rq` reads or writes.
    pub const fn whole_rq(c: CpuId) -> [Obj; 2] {
        [Obj::Rq(c), Obj::RqLock(c)]
    }

    /// The object's bit: every bit where the index passes its range (then it conflicts with
    /// everything, which is safe).
    pub fn bit(self) -> u128 {
        const T: u32 = TASKS;
        // Per CPU, kthread and completion; litmus variables and locks.
        const C: u32 = 6;
        const K: u32 = 3;
        const X: u32 = 6;
        const V: u32 = 8;
        const VL: u32 = 3;
        const REST: u32 = 8 * T + 2 * C + K + X + V + VL;
        let (base, len, i) = match self {
            Obj::State(p) => (0, T, p),
            Obj::OnRq(p) => (T, T, p),
            Obj::OnCpu(p) => (2 * T, T, p),
            Obj::NeedResched(p) => (3 * T, T, p),
            Obj::Task(p) => (4 * T, T, p),
            Obj::Own(p) => (5 * T, T, p),
            Obj::PiLock(p) => (6 * T, T, p),
            Obj::Thread(t) => (7 * T, T, t),
            Obj::Rq(c) => (8 * T, C, c),
            Obj::RqLock(c) => (8 * T + C, C, c),
            Obj::Kthread(k) => (8 * T + 2 * C, K, k),
            Obj::Completion(x) => (8 * T + 2 * C + K, X, x),
            Obj::Var(v) => (8 * T + 2 * C + K + X, V, v),
            Obj::VarLock(v) => (8 * T + 2 * C + K + X + V, VL, v),
            Obj::Window => (REST, 1, 0),
            Obj::Budget => (REST + 1, 1, 0),
            Obj::Go => (REST + 2, 1, 0),
            Obj::InOp => (REST + 3, 1, 0),
            Obj::ControllersDone => (REST + 4, 1, 0),
        };
        const { assert!(REST + 5 <= 128) };
        if (i as u32) < len {
            1 << (base + i as u32)
        } else {
            u128::MAX
        }
    }

    /// The object a lock belongs to.
    pub fn of_lock(l: LockId) -> Obj {
        match l {
            LockId::Pi(p) => Obj::PiLock(p),
            LockId::Rq(c) => Obj::RqLock(c),
            LockId::Wq(x) => Obj::Completion(x),
            LockId::Var(v) => Obj::VarLock(v),
        }
    }
}

/// What a stretch of execution read and wrote, an object a bit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Footprint {
    pub reads: u128,
    pub writes: u128,
}

impl Footprint {
    /// Nothing.
    pub const EMPTY: Footprint = Footprint {
        reads: 0,
        writes: 0,
    };
    /// Everything, read and written: conflicts with every footprint but the empty one.
    pub const ALL: Footprint = Footprint {
        reads: u128::MAX,
        writes: u128::MAX,
    };

    pub fn read(o: Obj) -> Footprint {
        Footprint {
            reads: o.bit(),
            writes: 0,
        }
    }

    pub fn write(o: Obj) -> Footprint {
        Footprint {
            reads: 0,
            writes: o.bit(),
        }
    }

    /// Every object of `objs` read.
    pub fn read_all(objs: impl IntoIterator<Item = Obj>) -> Footprint {
        objs.into_iter()
            .fold(Footprint::EMPTY, |f, o| f.union(Footprint::read(o)))
    }

    /// Every object of `objs` written.
    pub fn write_all(objs: impl IntoIterator<Item = Obj>) -> Footprint {
        objs.into_iter()
            .fold(Footprint::EMPTY, |f, o| f.union(Footprint::write(o)))
    }

    pub fn union(self, o: Footprint) -> Footprint {
        Footprint {
            reads: self.reads | o.reads,
            writes: self.writes | o.writes,
        }
    }

    /// Whether the two stretches may not commute: one writes what the other reads or writes.
    pub fn conflicts(self, o: Footprint) -> bool {
        self.writes & (o.reads | o.writes) != 0 || o.writes & self.reads != 0
    }
}

/// Where an execution's accessors add up their footprint, and the search takes it from at each
/// scheduling point (shared without the world's lock, as the step count is).
#[derive(Debug, Default)]
pub struct FootprintCell([AtomicU64; 4]);

impl FootprintCell {
    pub fn add(&self, f: Footprint) {
        let parts = [
            f.reads as u64,
            (f.reads >> 64) as u64,
            f.writes as u64,
            (f.writes >> 64) as u64,
        ];
        // A load and a store, not a read-modify-write: only the running thread adds, and the
        // engine that asks for footprints (shuttle) runs one thread at a time, on the
        // scheduler's own OS thread.
        for (a, p) in self.0.iter().zip(parts) {
            if p != 0 {
                a.store(a.load(Ordering::Relaxed) | p, Ordering::Relaxed);
            }
        }
    }

    /// What was added since the last take.
    pub fn take(&self) -> Footprint {
        let p = self.0.each_ref().map(|a| {
            let v = a.load(Ordering::Relaxed);
            if v != 0 {
                a.store(0, Ordering::Relaxed);
            }
            v
        });
        Footprint {
            reads: u128::from(p[0]) | u128::from(p[1]) << 64,
            writes: u128::from(p[2]) | u128::from(p[3]) << 64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footprints_conflict_on_a_write_only() {
        let r = |o| Footprint::read(o);
        let w = |o| Footprint::write(o);
        assert!(!r(Obj::Task(1)).conflicts(r(Obj::Task(1))));
        assert!(w(Obj::Task(1)).conflicts(r(Obj::Task(1))));
        assert!(r(Obj::Task(1)).conflicts(w(Obj::Task(1))));
        assert!(w(Obj::Rq(0)).conflicts(w(Obj::Rq(0))));
        assert!(!w(Obj::Rq(0)).conflicts(w(Obj::RqLock(0))));
        assert!(!w(Obj::Rq(0)).conflicts(w(Obj::Rq(1))));
        assert!(!w(Obj::Task(2)).conflicts(r(Obj::PiLock(2))));
        // A task's fields are apart, but a view of the whole task meets each of them.
        assert!(!w(Obj::State(1)).conflicts(r(Obj::OnCpu(1))));
        assert!(!w(Obj::NeedResched(1)).conflicts(r(Obj::State(1))));
        assert!(!w(Obj::InOp).conflicts(r(Obj::ControllersDone)));
        let whole = Footprint::read_all(Obj::whole_task(1));
        for o in Obj::whole_task(1) {
            assert!(whole.conflicts(w(o)), "{o:?}");
        }
        assert!(!whole.conflicts(w(Obj::State(2))));
        // Every object has a bit of its own.
        let objs = [
            Obj::State(0),
            Obj::OnRq(0),
            Obj::OnCpu(0),
            Obj::NeedResched(0),
            Obj::Task(0),
            Obj::Own(0),
            Obj::PiLock(0),
            Obj::Thread(10),
            Obj::Rq(5),
            Obj::RqLock(5),
            Obj::Kthread(2),
            Obj::Completion(5),
            Obj::Var(7),
            Obj::VarLock(2),
            Obj::Window,
            Obj::Budget,
            Obj::Go,
            Obj::InOp,
            Obj::ControllersDone,
        ];
        let all = objs.iter().fold(0u128, |m, o| {
            assert_eq!(o.bit().count_ones(), 1, "{o:?}");
            assert_eq!(m & o.bit(), 0, "{o:?} shares a bit");
            m | o.bit()
        });
        assert_eq!(all.count_ones() as usize, objs.len());
        // An index past its range is everything.
        assert!(w(Obj::Task(40)).conflicts(r(Obj::Window)));
        assert!(w(Obj::State(11)).conflicts(r(Obj::Budget)));
        assert!(Footprint::ALL.conflicts(r(Obj::InOp)));
        assert!(!Footprint::ALL.conflicts(Footprint::EMPTY));
    }

    #[test]
    fn the_cell_hands_out_what_was_added_once() {
        let c = FootprintCell::default();
        c.add(Footprint::write(Obj::Thread(19)));
        c.add(Footprint::read(Obj::Task(0)));
        let f = c.take();
        assert_eq!(f.writes, Obj::Thread(19).bit());
        assert_eq!(f.reads, Obj::Task(0).bit());
        assert_eq!(c.take(), Footprint::EMPTY);
    }
}
