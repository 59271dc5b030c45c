//! The runtime beneath the kernel model: atomic steps, blocking waits, preemption boundaries,
//! spinlocks and preempt-count primitives (model.md b, notation; b.3), the trace, the state
//! fingerprints and the oracle hooks.
//!
//! Model code sees the world only through a [`Current`] handle (the kernel's `current`): a
//! step ([`Current::step`]) runs its body with the world locked and hands it an [`S`], whose
//! accessors carry kernel names and record what they read and write; a read outside a step
//! goes through [`Current::read`], so the state cache learns it. The lock itself is private
//! to this module: model code that tried to take it would not compile.
//!
//! A step is: the preemption boundary of the calling task (IRQ-return preemption, model.md
//! b.3 `[P+]`), the engine's scheduling point, then the step body with the world locked, then
//! the continuous oracles, the self-checks and the wakeups of threads whose wait condition now
//! holds.
//!
//! The rules a search depends on are types, not comments. The world's lock is the runtime's
//! alone:
//!
//! ```compile_fail,E0616
//! fn peek(k: &parkrace::runtime::Kernel) {
//!     let _ = k.world.lock(); // field `world` of `Kernel` is private
//! }
//! ```
//!
//! a model function holds a `Current`, which hands out no `Kernel`:
//!
//! ```compile_fail,E0616
//! fn escape(cur: parkrace::runtime::Current<'_>) {
//!     let _ = cur.k; // field `k` of `Current` is private
//! }
//! ```
//!
//! and a step's body reaches the world only through its accessors, which record what they
//! read and write:
//!
//! ```compile_fail,E0616
//! fn raw(s: &mut parkrace::runtime::S<'_>) {
//!     s.w.harness.halting = true; // field `w` of `S` is private
//! }
//! ```
//!
//! A step's body is a `Fn`: what it tells its thread is what it returns, which the thread's
//! fingerprint folds in ([`Current::step`]); it cannot hand anything on through a captured
//! variable, which the fingerprint would not see:
//!
//! ```compile_fail,E0594
//! fn leak(cur: parkrace::runtime::Current<'_>) -> parkrace::runtime::M<usize> {
//!     let mut me = 0;
//!     cur.step("f", |s| me = s.me())?; // cannot assign to `me` in a `Fn` closure
//!     Ok(me)
//! }
//! ```
//!
//! ```no_run
//! fn learn(cur: parkrace::runtime::Current<'_>) -> parkrace::runtime::M<usize> {
//!     cur.step("f", |s| s.me())
//! }
//! ```
//!
//! The plain fields (runqueue lists, affinity, a task's preempt count and flags, smpboot
//! status) come through per-object accessors (`S::task_fields`, `S::rq`, ...), which record
//! the object for the reduction's footprints ([`footprint`]); `S::kernel`, the raw view that
//! is left, records everything.

pub mod footprint;
pub mod memory;
pub mod observe;
pub mod platform;
pub mod trace;
pub mod types;
pub mod world;

use crate::oracle::Oracle;
use crate::variant::Variant;
use footprint::{Footprint, Obj};
use memory::Seen;
use platform::Platform;
use std::borrow::Cow;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};
use trace::{Event, What};
use world::*;

/// A controlled reordering: each step back to an older store (or, for a store, before a
/// newer one) is a draw with probability 1/STALE_ODDS; a zero draw is "the SC choice".
pub const STALE_ODDS: u64 = 2;
const _: () = assert!(DRAW_PERIOD.is_multiple_of(STALE_ODDS));

fn stale(draw: &dyn Fn() -> u64) -> bool {
    draw() % STALE_ODDS == STALE_ODDS - 1
}

/// The execution is stopping (a violation was found, or the scenario ended): unwind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Halt;

/// Result of a model function: `Err(Halt)` unwinds the model thread.
pub type M<T> = Result<T, Halt>;

/// How a spinlock treats interrupts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Irq {
    /// `raw_spin_lock`: preemption only (interrupts already off, or not needed).
    Keep,
    /// `spin_lock_irq` / `spin_unlock_irq`.
    Disable,
    /// `spin_lock_irqsave` / `spin_unlock_irqrestore`.
    Save,
}

/// Ticks are injected at a preemptible boundary with probability 1/TICK_ODDS per draw (a zero
/// draw never preempts, so a zeroed decision stream means "no preemption").
pub const TICK_ODDS: u64 = 6;

/// Wakeup preemption is chosen with probability 1/WAKEUP_PREEMPT_ODDS (zero draw: no).
pub const WAKEUP_PREEMPT_ODDS: u64 = 2;

/// A CFS pick passes over a queued candidate with probability 1/PICK_ODDS per draw (zero draw:
/// the FIFO order).
pub const PICK_ODDS: u64 = 3;

/// Every controlled draw is read modulo a divisor of this, so `v % DRAW_PERIOD` decides the
/// same as `v` (how a recorded random value becomes one schedule byte).
pub const DRAW_PERIOD: u64 = 6;
const _: () = assert!(
    DRAW_PERIOD.is_multiple_of(TICK_ODDS)
        && DRAW_PERIOD.is_multiple_of(WAKEUP_PREEMPT_ODDS)
        && DRAW_PERIOD.is_multiple_of(PICK_ODDS)
);

/// Kernel functions the layers beneath them call back into, bound when an execution is built
/// (so the runtime and the scheduler model import nothing above them): the preemption the
/// runtime's boundary takes, and V2's `kthread_park_complete` hook in `finish_task_switch`.
#[derive(Clone, Copy)]
pub struct Entries {
    /// `preempt_schedule_irq()` (model.md b.3); `tick` marks an injected tick.
    pub preempt_schedule_irq: fn(Current<'_>, bool) -> M<()>,
    /// `kthread_park_complete(k)` (V2, model.md b.5 step 7.5).
    pub kthread_park_complete: fn(Current<'_>, usize) -> M<()>,
}

/// What never changes during an execution: read without the lock, never part of a state.
struct Fixed {
    variant: Variant,
    oracles: crate::oracle::OracleSet,
    cast: Cast,
    scenario: crate::scenario::Scenario,
}

/// What an execution tells the state cache's scheduler without the world's lock, at every
/// scheduling point ([`Kernel::mirror`]).
#[derive(Debug, Default)]
pub struct Mirror {
    /// The model steps taken so far (whether the last thread took a step).
    pub steps: std::sync::atomic::AtomicU64,
    /// The threads (a bit per engine task, [`Platform::engine_id`]) that a CFS pick passed
    /// over since the scheduler last took this: each was queued for its CPU, which ran
    /// another fair task instead (the fairness of cycles, docs/model.md s.4).
    pub passed_over: std::sync::atomic::AtomicU64,
    /// The execution is replaying a prefix of decisions that an earlier execution took: the
    /// steps it runs now ran then, to the same states, and passed every check then (a search
    /// stops at its first violation), so the checks that judge a state after every step are
    /// skipped (`Kernel::after_step`). Set by the bounded search only.
    pub replaying: std::sync::atomic::AtomicBool,
}

/// A thread's fingerprint at a point its code may come back to ([`Current::entry`]).
#[derive(Clone, Copy, Debug)]
pub struct Entry(u64);

/// The model of one kernel: the world plus the engine that runs its threads.
pub struct Kernel {
    plat: Box<dyn Platform>,
    world: Mutex<World>,
    fixed: Fixed,
    entries: Entries,
    /// The world keeps per-thread fingerprints ([`Harness::hist`]; only for the state cache).
    fingerprints: bool,
    /// Where the step count and the fair picks' passed-over threads are mirrored for the
    /// state cache's probe, if they are.
    mirror: std::sync::OnceLock<std::sync::Arc<Mirror>>,
}

/// The running model thread: the kernel's `current`. Every model function takes one.
#[derive(Clone, Copy)]
pub struct Current<'k> {
    k: &'k Kernel,
    me: Tid,
}

/// The body of one step: the world, the stepping thread and the kernel function, with
/// accessors that record what the step reads and writes.
pub struct S<'a> {
    w: &'a mut World,
    me: Tid,
    func: &'static str,
    /// The engine's controlled randomness.
    draw: &'a dyn Fn() -> u64,
}

/// A task's shared fields, read and written from inside a step with a record of each access
/// (`p->state`, `p->on_rq`, `p->on_cpu`), each marked as the kernel source marks it.
pub struct TaskRef<'s, 'a> {
    s: &'s mut S<'a>,
    p: Tid,
}

impl TaskRef<'_, '_> {
    /// A load of `p->state` (plain, `READ_ONCE` or acquire, as `ord` says).
    pub fn state(&mut self, ord: Ld) -> u32 {
        let p = self.p;
        self.s.w.touch(Footprint::read(Obj::State(p)));
        let plain = self.s.w.kernel.tasks[p].state;
        let (v, seen) = self.s.load(MemLoc::State(p), ord, i64::from(plain));
        let v = v as u32;
        self.s.rec(What::StateRead { task: p, value: v });
        self.s.report(seen);
        v
    }

    /// A store `p->state = new`. A store by the task itself makes every waker's state check of
    /// it stale (oracle I5, [`S::check_is_fresh`]).
    pub fn set_state(&mut self, new: u32, ord: St) {
        let p = self.p;
        self.s.w.touch(Footprint::write(Obj::State(p)));
        let old = self.s.w.kernel.tasks[p].state;
        let (newest, seen) = self.s.store(MemLoc::State(p), i64::from(new), ord);
        if newest {
            self.s.w.kernel.tasks[p].state = new;
        }
        if p == self.s.me {
            self.s.w.harness.threads[p].fresh_checks = 0;
        }
        self.s.rec(What::StateWrite { task: p, old, new });
        self.s.report(seen);
    }

    /// A load of `p->on_rq`.
    pub fn on_rq(&mut self, ord: Ld) -> u8 {
        let p = self.p;
        self.s.w.touch(Footprint::read(Obj::OnRq(p)));
        let plain = self.s.w.kernel.tasks[p].on_rq;
        let (v, seen) = self.s.load(MemLoc::OnRq(p), ord, i64::from(plain));
        let v = v as u8;
        self.s.rec(What::OnRqRead { task: p, value: v });
        self.s.report(seen);
        v
    }

    /// A store `p->on_rq = new`.
    pub fn set_on_rq(&mut self, new: u8, ord: St) {
        let p = self.p;
        self.s.w.touch(Footprint::write(Obj::OnRq(p)));
        let old = self.s.w.kernel.tasks[p].on_rq;
        let (newest, seen) = self.s.store(MemLoc::OnRq(p), i64::from(new), ord);
        if newest {
            self.s.w.kernel.tasks[p].on_rq = new;
        }
        self.s.rec(What::OnRq { task: p, old, new });
        self.s.report(seen);
    }

    /// A load of `p->on_cpu`.
    pub fn on_cpu(&mut self, ord: Ld) -> bool {
        let p = self.p;
        self.s.w.touch(Footprint::read(Obj::OnCpu(p)));
        let plain = self.s.w.kernel.tasks[p].on_cpu;
        let (v, seen) = self.s.load(MemLoc::OnCpu(p), ord, i64::from(plain));
        let v = v != 0;
        self.s.rec(What::OnCpuRead { task: p, value: v });
        self.s.report(seen);
        v
    }

    /// A store `p->on_cpu = new`.
    pub fn set_on_cpu(&mut self, new: bool, ord: St) {
        let p = self.p;
        self.s.w.touch(Footprint::write(Obj::OnCpu(p)));
        let (newest, seen) = self.s.store(MemLoc::OnCpu(p), i64::from(new), ord);
        if newest {
            self.s.w.kernel.tasks[p].on_cpu = new;
        }
        self.s.rec(What::OnCpu { task: p, new });
        self.s.report(seen);
    }
}

/// A `struct kthread`'s flags, from inside a step, with a record of each access.
pub struct KthreadRef<'s, 'a> {
    s: &'s mut S<'a>,
    kt: usize,
}

impl KthreadRef<'_, '_> {
    /// `test_bit(bit, &kthread->flags)` (a `READ_ONCE` of the word).
    pub fn test_bit(&mut self, bit: u32) -> bool {
        self.s.w.touch(Footprint::read(Obj::Kthread(self.kt)));
        let plain = self.s.w.kernel.kthreads[self.kt].flags;
        let (w, seen) = self
            .s
            .load(MemLoc::Flags(self.kt), Ld::Once, i64::from(plain));
        let v = w as u32 & bit != 0;
        self.s.rec(What::FlagTest { bit, value: v });
        self.s.report(seen);
        v
    }

    /// An atomic RMW of the flags word, recorded as `what(old word)` followed by its
    /// weak-memory events; returns the old word.
    fn rmw(&mut self, ord: Rmw, f: impl Fn(u32) -> u32, what: impl FnOnce(u32) -> What) -> u32 {
        let kt = self.kt;
        self.s.w.touch(Footprint::write(Obj::Kthread(kt)));
        let (old, seen) = self
            .s
            .rmw(MemLoc::Flags(kt), ord, |w| i64::from(f(w as u32)));
        let old = old as u32;
        // An RMW is always the newest store.
        self.s.w.kernel.kthreads[kt].flags = f(old);
        self.s.rec(what(old));
        self.s.report(seen);
        old
    }

    /// `set_bit(bit, &kthread->flags)`: an unordered atomic RMW.
    pub fn set_bit(&mut self, bit: u32) {
        self.rmw(Rmw::Relaxed, |w| w | bit, |_| What::FlagSet { bit });
    }

    /// `clear_bit(bit, &kthread->flags)`: an unordered atomic RMW.
    pub fn clear_bit(&mut self, bit: u32) {
        self.rmw(Rmw::Relaxed, |w| w & !bit, |_| What::FlagClear { bit });
    }

    /// `test_and_set_bit(bit, &kthread->flags)`: returns the old bit. Fully ordered in the
    /// kernel; `ord` lets a barrier switch remove that ordering.
    pub fn test_and_set_bit(&mut self, bit: u32, ord: Rmw) -> bool {
        let was = |w: u32| w & bit != 0;
        was(self.rmw(
            ord,
            |w| w | bit,
            |w| What::FlagTestAndSet { bit, old: was(w) },
        ))
    }

    /// `test_and_clear_bit(bit, &kthread->flags)`: returns the old bit (fully ordered in the
    /// kernel, as `test_and_set_bit`).
    pub fn test_and_clear_bit(&mut self, bit: u32, ord: Rmw) -> bool {
        let was = |w: u32| w & bit != 0;
        was(self.rmw(
            ord,
            |w| w & !bit,
            |w| What::FlagTestAndClear { bit, old: was(w) },
        ))
    }
}

/// A completion's count, from inside a step, with a record of each access.
pub struct CompletionRef<'s, 'a> {
    s: &'s mut S<'a>,
    x: CompId,
}

impl CompletionRef<'_, '_> {
    /// A load of `x->done`.
    pub fn done(&mut self, ord: Ld) -> u32 {
        self.s.w.touch(Footprint::read(Obj::Completion(self.x)));
        let plain = self.s.w.kernel.completions[self.x].done;
        let (v, seen) = self.s.load(MemLoc::Done(self.x), ord, i64::from(plain));
        let v = v as u32;
        self.s.rec(What::DoneRead {
            comp: self.x,
            value: v,
        });
        self.s.report(seen);
        v
    }

    /// A store `x->done = new`.
    pub fn set_done(&mut self, new: u32, ord: St) {
        let x = self.x;
        self.s.w.touch(Footprint::write(Obj::Completion(x)));
        let old = self.s.w.kernel.completions[x].done;
        let (newest, seen) = self.s.store(MemLoc::Done(x), i64::from(new), ord);
        if newest {
            self.s.w.kernel.completions[x].done = new;
        }
        self.s.rec(What::Done { comp: x, old, new });
        self.s.report(seen);
    }
}

/// A litmus test's shared variable, from inside a step.
pub struct VarRef<'s, 'a> {
    s: &'s mut S<'a>,
    v: usize,
}

impl VarRef<'_, '_> {
    /// `READ_ONCE(x)` or `smp_load_acquire(&x)`.
    pub fn load(&mut self, ord: Ld) -> i64 {
        self.s.w.touch(Footprint::read(Obj::Var(self.v)));
        let plain = self.s.w.kernel.vars[self.v];
        let (v, seen) = self.s.load(MemLoc::Var(self.v), ord, plain);
        self.s.rec(What::VarRead {
            var: self.v,
            value: v,
        });
        self.s.report(seen);
        v
    }

    /// `WRITE_ONCE(x, value)` or `smp_store_release(&x, value)`.
    pub fn store(&mut self, value: i64, ord: St) {
        self.s.w.touch(Footprint::write(Obj::Var(self.v)));
        let (newest, seen) = self.s.store(MemLoc::Var(self.v), value, ord);
        if newest {
            self.s.w.kernel.vars[self.v] = value;
        }
        self.s.rec(What::VarWrite { var: self.v, value });
        self.s.report(seen);
    }

    /// An atomic RMW (`xchg`, `cmpxchg`, their forms): stores `f(old)` where it returns
    /// `Some`, else only reads; returns the old value.
    pub fn rmw(&mut self, ord: Rmw, f: impl Fn(i64) -> Option<i64>) -> i64 {
        let v = self.v;
        self.s.w.touch(Footprint::write(Obj::Var(v)));
        let plain = self.s.w.kernel.vars[v];
        if f(plain).is_none() && self.s.w.memory.is_none() {
            self.s.rec(What::VarRead {
                var: v,
                value: plain,
            });
            return plain;
        }
        // A failed cmpxchg is a load (still of the newest store: it is an atomic access).
        let (old, seen) = self.s.rmw(MemLoc::Var(v), ord, |o| f(o).unwrap_or(o));
        self.s.w.kernel.vars[v] = f(old).unwrap_or(old);
        self.s.rec(What::VarRead { var: v, value: old });
        if let Some(new) = f(old) {
            self.s.rec(What::VarWrite { var: v, value: new });
        }
        self.s.report(seen);
        old
    }
}

impl<'a> S<'a> {
    /// A load of a weak location: the memory model's choice, or `plain` under `sc`.
    fn load(&mut self, l: MemLoc, ord: Ld, plain: i64) -> (i64, Vec<Seen>) {
        let (me, draw) = (self.me, self.draw);
        let mut seen = Vec::new();
        let v = match self.w.memory.as_mut() {
            None => plain,
            Some(m) => m.load(me, l, ord, &mut || stale(draw), &mut seen),
        };
        (v, seen)
    }

    /// A store to a weak location: whether it is now the newest (always under `sc`).
    fn store(&mut self, l: MemLoc, v: i64, ord: St) -> (bool, Vec<Seen>) {
        let (me, draw, step) = (self.me, self.draw, self.w.harness.steps);
        let mut seen = Vec::new();
        let newest = match self.w.memory.as_mut() {
            None => true,
            Some(m) => m.store(me, l, v, ord, step, &mut || stale(draw), &mut seen),
        };
        (newest, seen)
    }

    /// An atomic RMW of a weak location (`f` of the world's value under `sc`).
    fn rmw(&mut self, l: MemLoc, ord: Rmw, f: impl Fn(i64) -> i64) -> (i64, Vec<Seen>) {
        let (me, step) = (self.me, self.w.harness.steps);
        let mut seen = Vec::new();
        let old = match self.w.memory.as_mut() {
            None => match l {
                MemLoc::Flags(k) => i64::from(self.w.kernel.kthreads[k].flags),
                MemLoc::Var(v) => self.w.kernel.vars[v],
                other => unreachable!("no RMW of {other:?} in the model"),
            },
            Some(m) => m.rmw(me, l, ord, step, &f, &mut seen),
        };
        (old, seen)
    }

    /// Record weak-memory events.
    fn report(&mut self, seen: Vec<Seen>) {
        for x in seen {
            let what = match x {
                Seen::Missed {
                    loc,
                    latest,
                    writer,
                    at,
                    back,
                    published,
                } => What::Stale {
                    loc,
                    latest,
                    by: writer,
                    at,
                    back,
                    published,
                },
                Seen::Visible {
                    loc,
                    value,
                    writer,
                    at,
                } => What::Visible {
                    loc,
                    value,
                    by: writer,
                    at,
                },
                Seen::Reordered {
                    loc,
                    value,
                    writer,
                    at,
                    back,
                } => What::Reordered {
                    loc,
                    value,
                    by: writer,
                    at,
                    back,
                },
            };
            self.rec(what);
        }
    }

    /// A memory barrier of the stepping thread (`smp_mb()`, `smp_rmb()`, `smp_wmb()`), named
    /// as the kernel source names it for the trace. Nothing under `sc`.
    pub fn fence(&mut self, f: Fence, name: &'static str) {
        let me = self.me;
        let Some(m) = self.w.memory.as_mut() else {
            return;
        };
        let mut seen = Vec::new();
        m.fence(me, f, &mut seen);
        self.rec(What::Barrier {
            fence: Cow::Borrowed(name),
        });
        self.report(seen);
    }

    /// The CPU that ran the stepping thread now runs `next` (context switch): `next` sees
    /// what the CPU has seen (model.md m.3).
    pub fn cpu_handoff(&mut self, next: Tid) {
        let me = self.me;
        if let Some(m) = self.w.memory.as_mut() {
            m.handoff(me, next);
        }
    }

    /// A litmus test's variable `v`, with a record of each access.
    pub fn var(&mut self, v: usize) -> VarRef<'_, 'a> {
        VarRef { s: self, v }
    }

    /// The stepping thread.
    pub fn me(&self) -> Tid {
        self.me
    }

    /// The kernel state, for fields whose accesses need no record (the stepping thread's own
    /// bookkeeping, runqueue lists, affinity, smpboot status).
    pub fn kernel(&mut self) -> &mut KernelState {
        self.w.touch(Footprint::ALL);
        &mut self.w.kernel
    }

    /// Task `p`'s plain fields (its CPU, affinity, flags, preempt count, `need_resched`,
    /// `sched_delayed`, counters), read.
    pub fn task_fields(&self, p: Tid) -> &Task {
        self.w.touch(Footprint::read_all(Obj::whole_task(p)));
        &self.w.kernel.tasks[p]
    }

    /// Task `p`'s plain fields, written (and read).
    pub fn task_fields_mut(&mut self, p: Tid) -> &mut Task {
        self.w.touch(Footprint::write_all(Obj::whole_task(p)));
        &mut self.w.kernel.tasks[p]
    }

    /// Runqueue `c` (its queue, wake list, curr, prev, flags and lock), read.
    pub fn rq(&self, c: CpuId) -> &Rq {
        self.w.touch(Footprint::read_all(Obj::whole_rq(c)));
        &self.w.kernel.rqs[c]
    }

    /// Runqueue `c`, written (and read).
    pub fn rq_mut(&mut self, c: CpuId) -> &mut Rq {
        self.w.touch(Footprint::write_all(Obj::whole_rq(c)));
        &mut self.w.kernel.rqs[c]
    }

    /// Kthread `kt`'s plain fields (smpboot status, work, started, CPU), read.
    pub fn kthread_fields(&self, kt: usize) -> &Kthread {
        self.w.touch(Footprint::read(Obj::Kthread(kt)));
        &self.w.kernel.kthreads[kt]
    }

    /// Kthread `kt`'s plain fields, written (and read).
    pub fn kthread_fields_mut(&mut self, kt: usize) -> &mut Kthread {
        self.w.touch(Footprint::write(Obj::Kthread(kt)));
        &mut self.w.kernel.kthreads[kt]
    }

    /// Completion `x`'s plain fields (its waiters, and its count where read under its lock),
    /// read.
    pub fn completion_fields(&self, x: CompId) -> &Completion {
        self.w.touch(Footprint::read(Obj::Completion(x)));
        &self.w.kernel.completions[x]
    }

    /// Completion `x`'s plain fields, written (and read).
    pub fn completion_fields_mut(&mut self, x: CompId) -> &mut Completion {
        self.w.touch(Footprint::write(Obj::Completion(x)));
        &mut self.w.kernel.completions[x]
    }

    /// The first CPU with queued wakeups that can take the IPI ([`KernelState::ipi_cpu`]):
    /// reads what the IPI agent's wait condition reads.
    pub fn ipi_cpu(&self) -> Option<CpuId> {
        self.w.touch_wait(self.me, WaitFor::TtwuPending);
        self.w.kernel.ipi_cpu()
    }

    /// How many CPUs and tasks the model has (fixed for the execution).
    pub fn sizes(&self) -> (usize, usize) {
        (self.w.kernel.rqs.len(), self.w.kernel.tasks.len())
    }

    /// The kernel state, read only (for messages and oracle conditions).
    pub fn kernel_ref(&self) -> &KernelState {
        self.w.touch(Footprint {
            reads: u128::MAX,
            writes: 0,
        });
        &self.w.kernel
    }

    /// Task `p`'s shared fields, with a record of each access.
    pub fn task(&mut self, p: Tid) -> TaskRef<'_, 'a> {
        TaskRef { s: self, p }
    }

    /// Kthread `kt`'s flags, with a record of each access.
    pub fn kthread(&mut self, kt: usize) -> KthreadRef<'_, 'a> {
        KthreadRef { s: self, kt }
    }

    /// Completion `x`'s count, with a record of each access.
    pub fn completion(&mut self, x: CompId) -> CompletionRef<'_, 'a> {
        CompletionRef { s: self, x }
    }

    /// Arm the stepping thread's one-tick hrtimer: it may fire once every other thread that
    /// can run now has taken a step, blocked or finished ([`Harness::tick_owed`]).
    pub fn arm_tick_timer(&mut self) {
        let me = self.me;
        // Looks at every thread and sets every bit of the timer's debt.
        self.w.touch(Footprint::ALL);
        self.w.kernel.tasks[me].timer_armed = true;
        let mut owed = 0u64;
        for (i, t) in self.w.harness.threads.iter().enumerate() {
            if i != me && !t.finished && t.wait.is_none() {
                owed |= 1 << i;
            }
        }
        self.w.harness.tick_owed = owed;
    }

    /// A controlled yes/no with probability 1/odds; a zero draw is "no".
    pub fn choose(&mut self, odds: u64) -> bool {
        (self.draw)() % odds == odds - 1
    }

    /// A preemption the scenario allows (CONFIG_PREEMPT, budget left), chosen with
    /// probability 1/odds; a chosen one is spent from the budget.
    pub fn preempt_choice(&mut self, odds: u64) -> bool {
        self.w.touch(Footprint::read(Obj::Budget));
        let h = &self.w.harness;
        if h.scenario.preempt && h.budget > 0 && self.choose(odds) {
            self.w.touch(Footprint::write(Obj::Budget));
            let h = &mut self.w.harness;
            h.budget -= 1;
            h.preemptions += 1;
            true
        } else {
            false
        }
    }

    /// Record an event of this step (every observer sees it, and the stepping thread learns
    /// it).
    pub fn rec(&mut self, what: What) {
        let t = &self.w.kernel.tasks[self.me];
        let cpu = if t.is_task() { Some(t.cpu) } else { None };
        let e = Event {
            step: self.w.harness.steps,
            task: self.me,
            cpu,
            func: Cow::Borrowed(self.func),
            what,
        };
        if !self.w.harness.observers.is_empty() {
            let tasks = &self.w.kernel.tasks;
            self.w.harness.observers.event(&e, &|t| tasks[t].kind);
        }
        self.w.harness.trace.push(e);
    }

    pub fn note(&mut self, text: &'static str) {
        self.rec(What::Note {
            text: Cow::Borrowed(text),
        });
    }

    /// Set need_resched on `t` (`resched_curr`).
    pub fn resched(&mut self, t: Tid) {
        self.w.touch(Footprint::write(Obj::NeedResched(t)));
        self.w.kernel.tasks[t].need_resched = true;
        self.rec(What::NeedResched { task: t });
    }

    /// Oracle I5: this thread, inside `try_to_wake_up(p)`, has just read `p->state` (its
    /// state check); [`S::check_is_fresh`] tells until [`S::end_check`] whether p has
    /// stored its own state since.
    pub fn begin_check(&mut self, p: Tid) {
        // Ordered against p's own stores as the load of p->state it goes with is.
        self.w.touch(Footprint::read(Obj::State(p)));
        self.w.harness.threads[p].fresh_checks |= 1 << self.me;
    }

    /// Oracle I5: p has not stored its own state since this thread's state check of it.
    pub fn check_is_fresh(&self, p: Tid) -> bool {
        // p's own state stores clear it (recorded as writes of p->state); only this thread
        // sets and drops its own bit.
        self.w.touch(Footprint::read(Obj::State(p)));
        self.w.harness.threads[p].check_fresh_for(self.me)
    }

    /// Oracle I5: this thread's `try_to_wake_up(p)` is over (it drops `pi_lock`); its check
    /// no longer tells states apart. Recorded as nothing: clearing this thread's bit commutes
    /// with every other access of the set (p's stores clear every bit, other wakers touch
    /// only their own).
    pub fn end_check(&mut self, p: Tid) {
        self.w.harness.threads[p].fresh_checks &= !(1 << self.me);
    }

    /// A CFS pick on this CPU chose another task over `t`, which was queued for it: for the
    /// fairness of cycles only (docs/model.md s.4); not state, and recorded as nothing.
    pub fn passed_over(&mut self, t: Tid) {
        self.w.harness.passed_over |= 1 << t;
    }

    /// Whether task `p` is inside `__kthread_parkme` (oracle I1).
    pub fn in_parkme(&self, p: Tid) -> bool {
        self.w.touch(Footprint::read(Obj::Thread(p)));
        self.w.harness.threads[p].in_parkme
    }

    /// The stepping thread leaves or enters the gap of `schedule_preempt_disabled` (h.5).
    pub fn set_spd_gap(&mut self, on: bool) {
        let me = self.me;
        self.w.harness.threads[me].in_spd_gap = on;
    }

    /// Whether the scenario runs under CONFIG_PREEMPT.
    pub fn preempt_config(&self) -> bool {
        self.w.harness.scenario.preempt
    }

    /// Oracle hook: `oracle` is violated by the stepping thread.
    pub fn violate(&mut self, oracle: Oracle, detail: String) {
        self.w.violate(oracle, self.me, detail);
    }

    /// A scheduler self-check failed: a bug in the model (model.md S*).
    pub fn model_bug(&mut self, detail: String) {
        self.w.model_bug(self.me, detail);
    }

    /// Oracle hook: `kthread_park` returned 0, the park window of kthread `kt` opens.
    pub fn open_park_window(&mut self, kt: usize) {
        self.w.touch(Footprint::write(Obj::Window));
        self.w.harness.window = Some(ParkWindow { kthread: kt });
    }

    /// Oracle hook: SHOULD_PARK is cleared, the park window closes.
    pub fn close_park_window(&mut self) {
        self.w.touch(Footprint::write(Obj::Window));
        self.w.harness.window = None;
    }

    /// Harness hook: a controller has finished its operations.
    pub fn controller_done(&mut self) {
        self.w.touch(Footprint::write(Obj::ControllersDone));
        self.w.harness.controllers_done += 1;
    }
}

impl Kernel {
    pub fn new(plat: Box<dyn Platform>, world: World, entries: Entries) -> Self {
        Kernel {
            plat,
            fingerprints: !world.harness.hist.is_empty(),
            mirror: std::sync::OnceLock::new(),
            fixed: Fixed {
                variant: world.harness.variant,
                oracles: world.harness.oracles,
                cast: world.harness.cast.clone(),
                scenario: world.harness.scenario.clone(),
            },
            entries,
            world: Mutex::new(world),
        }
    }

    /// Lock the world (a panic elsewhere must not hide the trace: ignore poisoning).
    fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The handle model thread `me` runs its kernel functions with.
    pub fn current(&self, me: Tid) -> Current<'_> {
        Current { k: self, me }
    }

    /// Mirror the step count and the fair picks' passed-over threads into `m` from now on
    /// (the state cache's probe reads them at every scheduling point, without the world's
    /// lock).
    pub fn mirror(&self, m: std::sync::Arc<Mirror>) {
        let _ = self.mirror.set(m);
    }

    /// The engine.
    pub fn platform(&self) -> &dyn Platform {
        &*self.plat
    }

    /// For the harness and supervisors (never the kernel model, which holds no `Kernel`):
    /// look at or change the world outside any step. Wakes nobody: a change that can satisfy
    /// a blocked thread's condition goes through [`Kernel::supervise_wake`].
    pub fn supervise<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut w = self.lock();
        w.touch(Footprint::ALL);
        f(&mut w)
    }

    /// [`Kernel::supervise`], then wake every blocked thread whose condition now holds (all of
    /// them when halting).
    pub fn supervise_wake<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut w = self.lock();
        w.touch(Footprint::ALL);
        let r = f(&mut w);
        self.wake_waiters(&mut w);
        r
    }

    /// The stress driver's cycles, where it runs the operations back to back in this world
    /// ([`Harness::cycles`]): fixed for the execution, so its read records nothing (a
    /// `supervise` would record the whole world, and wake every sleeping thread of a reduced
    /// search).
    pub fn cycles(&self) -> Option<Cycles> {
        self.lock().harness.cycles.clone()
    }

    /// For the state cache's probe: the world, if no thread holds it now.
    pub fn try_supervise<R>(&self, f: impl FnOnce(&mut World) -> R) -> Option<R> {
        let mut w = self.world.try_lock().ok()?;
        Some(f(&mut w))
    }

    /// Continuous oracles (I1c, I2) and scheduler self-checks (S*), except in a replayed
    /// prefix; the step bound (I7); then the wakeups of blocked threads whose condition now
    /// holds.
    fn after_step(&self, w: &mut World, me: Tid) {
        // I2 judges the kthread's step by the window (recorded in a replay too: the
        // reduction's footprints must be those of the step's first run).
        if w.harness.cast.kthread_of(me).is_some() {
            w.touch(Footprint::read(Obj::Window));
        }
        let replaying = self
            .mirror
            .get()
            .is_some_and(|m| m.replaying.load(std::sync::atomic::Ordering::Relaxed));
        // A replayed step was judged when it first ran (see `Mirror::replaying`).
        if !replaying {
            self.judge_step(w, me);
        }
        self.step_bound(w, me);
        self.wake_waiters(w);
    }

    /// The continuous oracles (I1c, I2) and the scheduler's self-checks, after a step.
    fn judge_step(&self, w: &mut World, me: Tid) {
        if let Some(win) = w.harness.window {
            let kt = w.harness.cast.kthreads[win.kthread].task;
            let k = &w.kernel.tasks[kt];
            if me == kt && !w.harness.threads[kt].in_parkme {
                let msg = format!(
                    "{} executes {} outside __kthread_parkme during the park window",
                    k.name,
                    last_func(w)
                );
                w.violate(Oracle::I2, me, msg);
            } else if k.state != TASK_PARKED || k.on_rq != 0 || k.on_cpu {
                let msg = format!(
                    "during the park window {} is {}/on_rq={}/on_cpu={}",
                    k.name,
                    state_name(k.state),
                    k.on_rq,
                    k.on_cpu as u8
                );
                w.violate(Oracle::I1c, me, msg);
            }
        }
        self_check(w, me);
    }

    /// The step bound: I7 (a livelock) where no state cache runs, a guard where one does.
    fn step_bound(&self, w: &mut World, me: Tid) {
        let h = &w.harness;
        if h.steps - h.cycle_start > h.scenario.max_steps && self.fingerprints {
            // The state-graph search: no state repeated on this path (a repeat is a cycle,
            // judged there), so the path is only long. Halt it and let the search say so.
            w.harness.guard_hit = true;
            w.harness.halting = true;
        } else if h.steps - h.cycle_start > h.scenario.max_steps {
            let msg = format!("step bound {} exceeded: livelock", h.scenario.max_steps);
            w.violate(Oracle::I7, me, msg);
            w.harness.halting = true;
        }
    }

    /// Wake every blocked thread whose condition holds (all of them when halting).
    fn wake_waiters(&self, w: &mut World) {
        for t in 0..w.harness.threads.len() {
            if let Some(c) = w.harness.threads[t].wait
                && (w.harness.halting || w.satisfied(t, c))
            {
                w.harness.threads[t].wait = None;
                self.plat.wake(t);
            }
        }
    }

    /// Block thread `me` until `cond` holds. Not a step: a thread that waits is spinning or
    /// switched out, and each re-check after a wakeup is done by the caller as a new step.
    /// Detects deadlock (every thread blocked) as I7.
    ///
    /// For the state cache, a thread that blocked here is marked in its fingerprint until it
    /// returns: once woken, it re-checks `cond` before going on, unlike a thread that found
    /// `cond` true and is already at its next step ([`Harness::hist`]).
    pub fn wait_until(&self, me: Tid, cond: WaitFor) -> M<()> {
        let mut w = self.lock();
        let at = w.harness.hist.get(me).copied();
        loop {
            if w.harness.halting {
                return Err(Halt);
            }
            w.touch_wait(me, cond);
            if w.satisfied(me, cond) {
                if let Some(h) = at {
                    w.harness.hist[me] = h;
                }
                w.sync_spin(me, cond);
                return Ok(());
            }
            w.learn(me, ("blocked", cond));
            // What a blocked thread waits for is read by the runtime only (wakeups, the
            // deadlock check, which finds a hang whichever thread blocks last) and by
            // `arm_tick_timer`, which records everything; its debt to the timer, as in a step.
            if w.harness.tick_owed & 1u64 << me != 0 {
                w.touch(Footprint::write(Obj::Thread(me)));
            }
            w.harness.threads[me].wait = Some(cond);
            w.harness.tick_owed &= !(1u64 << me);
            // Blocking may be what a quiescence-triggered waiter (the hrtimer) waits for.
            self.wake_waiters(&mut w);
            if w.harness.threads[me].wait.is_none() {
                continue;
            }
            if w.runnable_threads() == 0 {
                w.harness.threads[me].wait = None;
                let msg = format!("deadlock: {}", w.waiting(Some(cond)));
                w.violate(Oracle::I7, me, msg);
                w.harness.halting = true;
                self.wake_waiters(&mut w);
                return Err(Halt);
            }
            w = self.plat.block(me, w, &self.world);
        }
    }

    /// Model thread `t` has returned from its body: it takes no more steps.
    pub fn finished(&self, t: Tid) {
        let mut w = self.lock();
        if let Some(m) = w.memory.as_mut() {
            m.retire(t);
        }
        w.touch(Footprint::write(Obj::Thread(t)));
        w.harness.threads[t].finished = true;
        w.harness.threads[t].wait = None;
        w.harness.tick_owed &= !(1u64 << t);
        self.wake_waiters(&mut w);
        // The last thread that could run has ended while every other one waits for something
        // nobody will do (e.g. a wakeup lost to a stale read): a hang, as in `wait_until`.
        if !w.harness.halting && w.runnable_threads() == 0 {
            let msg = format!("deadlock: {}", w.waiting(None));
            w.violate(Oracle::I7, t, msg);
            w.harness.halting = true;
            self.wake_waiters(&mut w);
        }
    }
}

impl<'k> Current<'k> {
    /// The running model thread's id.
    pub fn me(self) -> Tid {
        self.me
    }

    /// The variant under test (fixed for the execution).
    pub fn variant(self) -> Variant {
        self.k.fixed.variant
    }

    /// The scenario (fixed for the execution).
    pub fn scenario(self) -> &'k crate::scenario::Scenario {
        &self.k.fixed.scenario
    }

    /// The cast (fixed for the execution).
    pub fn cast(self) -> &'k Cast {
        &self.k.fixed.cast
    }

    /// The kthread index of the running thread (it must be a kthread under test).
    pub fn kthread(self) -> usize {
        self.cast()
            .kthread_of(self.me)
            .expect("a kthread under test")
    }

    /// What kthread `kt` is tied to (fixed for the execution).
    pub fn kthread_ids(self, kt: usize) -> KthreadIds {
        self.cast().kthreads[kt]
    }

    /// Kernel entry points bound at build time ([`Entries`]).
    pub fn entries(self) -> Entries {
        self.k.entries
    }

    /// Read the running thread's own task and bookkeeping outside a step (as
    /// [`Current::read`], recording only those).
    pub fn read_self<R: Hash>(self, f: impl FnOnce(&Task, &Thread) -> R) -> R {
        let mut w = self.k.lock();
        w.touch(
            Footprint::read_all(Obj::whole_task(self.me))
                .union(Footprint::read(Obj::Thread(self.me))),
        );
        let r = f(&w.kernel.tasks[self.me], &w.harness.threads[self.me]);
        w.learn(self.me, &r);
        r
    }

    /// Harness hook: the controller enters (`true`) or leaves (`false`) one of its
    /// operations; returns whether a violation has been recorded.
    pub fn in_op(self, on: bool) -> bool {
        let mut w = self.k.lock();
        w.touch(Footprint::write(Obj::InOp));
        w.harness.in_op = on;
        w.harness.violation.is_some()
    }

    /// `task_cpu(p)` read outside a step (as [`Current::read`], recording only task `p`).
    pub fn task_cpu(self, p: Tid) -> CpuId {
        let mut w = self.k.lock();
        w.touch(Footprint::read(Obj::Task(p)));
        let c = w.kernel.tasks[p].cpu;
        w.learn(self.me, c);
        c
    }

    /// Read the world outside a step: what the thread learns this way is part of its local
    /// state, so it is folded into its fingerprint ([`Harness::hist`]). Every read outside a
    /// step of state that can change during an execution, whose value the thread goes on
    /// with, goes through here.
    pub fn read<R: Hash>(self, f: impl FnOnce(&World) -> R) -> R {
        let mut w = self.k.lock();
        w.touch(Footprint {
            reads: u128::MAX,
            writes: 0,
        });
        let r = f(&w);
        w.learn(self.me, &r);
        r
    }

    /// The thread is at a loop head of its outermost function, where `at` names its whole
    /// local state (nothing from earlier iterations or from its callers is live): the state
    /// cache may treat it as the same thread however it got here ([`World::forget`]). Not a
    /// step.
    pub fn forget(self, at: &'static str) {
        if self.k.fingerprints {
            self.k.lock().forget(self.me, at);
        }
    }

    /// This thread's fingerprint now, for [`Current::restart`] (a loop's start, a function's
    /// entry).
    pub fn entry(self) -> Entry {
        Entry(if self.k.fingerprints {
            self.k.lock().harness.hist[self.me]
        } else {
            0
        })
    }

    /// A point `at` where nothing this thread learnt since `entry` is live any more (the head
    /// of a loop whose turns hand nothing on to the next): the thread's fingerprint restarts
    /// from `entry` plus `at`. Turns of a loop that leave the world as they found it then
    /// meet as one state, and a spin that can go on for ever is a cycle rather than an ever
    /// longer path (docs/model.md s.1). Not a step.
    pub fn restart(self, entry: Entry, at: &'static str) {
        if self.k.fingerprints {
            self.k.lock().harness.hist[self.me] = crate::statehash::hash64((entry.0, at));
        }
    }

    /// Whether this thread holds an I5 check of `p` ([`S::begin_check`]), which it may only
    /// inside its `try_to_wake_up(p)`: a check left behind would keep states apart for
    /// nothing (docs/model.md s.1). For debug assertions; reads without recording.
    pub fn holds_check(self, p: Tid) -> bool {
        self.k.lock().harness.threads[p].check_fresh_for(self.me)
    }

    /// Whether oracle `o` is judged in this execution (fixed for it; reading it records
    /// nothing).
    pub fn judges(self, o: Oracle) -> bool {
        self.k.fixed.oracles.contains(o)
    }

    /// Run `f`, a model function of this thread that hands its caller nothing but what it
    /// returns (its effects on the world aside). Afterwards the thread's fingerprint is the
    /// one it had at the call plus `label` and the result: how `f` got there (lock retries,
    /// spins, which task switched it back in) no longer tells states apart
    /// ([`Harness::hist`]).
    pub fn summarize<R: Hash>(self, label: &'static str, f: impl FnOnce() -> M<R>) -> M<R> {
        if !self.k.fingerprints {
            return f();
        }
        let at = self.k.lock().harness.hist[self.me];
        let r = f()?;
        let mut w = self.k.lock();
        w.harness.hist[self.me] = at;
        w.learn(self.me, (label, &r));
        Ok(r)
    }

    /// [`Current::summarize`] for a call whose result the caller drops (a kernel call made as a
    /// statement, `wake_up_process(p);`): afterwards the thread's fingerprint is the one it
    /// had at the call plus `label`, and it has no result to go on with (the type says so),
    /// so two calls that returned differently leave the same state behind.
    pub fn discard<R>(self, label: &'static str, f: impl FnOnce() -> M<R>) -> M<()> {
        self.summarize(label, || f().map(drop))
    }

    /// A choice this thread made that it carries past its next scheduling point with no
    /// trace in the world (the tick drawn at a preemption boundary, taken at the next step):
    /// fold it into its fingerprint, or two states that differ in what the thread does next
    /// would look the same to the state cache. Inside [`Current::summarize`], it lasts until
    /// the summarized function returns.
    pub fn carry<H: Hash>(self, x: H) {
        if self.k.fingerprints {
            self.k.lock().learn(self.me, ("carry", x));
        }
    }

    /// One atomic model step of this thread in kernel function `func`. What it returns is
    /// all the thread learns from it (see [`Harness::hist`]): the body is a `Fn`, so it
    /// cannot hand on anything else through a captured variable (the module documentation
    /// shows the error); what it records in the trace is its effect on the world, not
    /// something the thread knows.
    pub fn step<R: Hash>(self, func: &'static str, f: impl Fn(&mut S<'_>) -> R) -> M<R> {
        self.boundary()?;
        self.raw_step(func, f)
    }

    /// A step without the preemption boundary before it (the entry of a preemption itself).
    pub fn raw_step<R: Hash>(self, func: &'static str, f: impl Fn(&mut S<'_>) -> R) -> M<R> {
        let (k, me) = (self.k, self.me);
        k.plat.point();
        let mut w = k.lock();
        if w.harness.halting {
            return Err(Halt);
        }
        w.harness.steps += 1;
        if let Some(m) = k.mirror.get() {
            m.steps
                .store(w.harness.steps, std::sync::atomic::Ordering::Relaxed);
        }
        // Its debt to the tick timer is paid (a change only where it owed one: the one
        // setter, `arm_tick_timer`, records everything).
        if w.harness.tick_owed & 1u64 << me != 0 {
            w.touch(Footprint::write(Obj::Thread(me)));
        }
        w.harness.tick_owed &= !(1u64 << me);
        {
            let t = &w.kernel.tasks[me];
            if t.is_task() && w.kernel.rqs[t.cpu].curr != me {
                let msg = format!(
                    "{} stepped in {func} while not current on CPU{}",
                    t.name, t.cpu
                );
                w.model_bug(me, msg);
                k.wake_waiters(&mut w);
                return Err(Halt);
            }
        }
        let r = {
            let draw = || k.plat.next_u64();
            let mut s = S {
                w: &mut w,
                me,
                func,
                draw: &draw,
            };
            f(&mut s)
        };
        w.learn(me, (func, &r));
        let passed = std::mem::take(&mut w.harness.passed_over);
        if passed != 0
            && let Some(m) = k.mirror.get()
        {
            let bits = (0..64)
                .filter(|t| passed & 1 << t != 0)
                .filter_map(|t| k.plat.engine_id(t))
                .fold(0u64, |b, id| b | 1 << id.min(63));
            m.passed_over
                .fetch_or(bits, std::sync::atomic::Ordering::Relaxed);
        }
        k.after_step(&mut w, me);
        if w.harness.halting {
            return Err(Halt);
        }
        Ok(r)
    }

    /// Block until `cond` holds ([`Kernel::wait_until`]).
    pub fn wait_until(self, cond: WaitFor) -> M<()> {
        self.k.wait_until(self.me, cond)
    }

    /// The preemption boundary before a step (model.md b.3): under CONFIG_PREEMPT a
    /// preemptible task with need_resched set is preempted (IPI / preempt_enable check), and a
    /// tick may be injected as a controlled choice within the scenario's budget. Inside the gap
    /// of `schedule_preempt_disabled` only when the h.5 knob is on.
    fn boundary(self) -> M<()> {
        let (k, me) = (self.k, self.me);
        let tick = {
            let mut w = k.lock();
            if w.harness.halting {
                return Err(Halt);
            }
            // The scenario and the task's kind never change: nothing to record for them.
            let t = &w.kernel.tasks[me];
            let sc = &w.harness.scenario;
            if !sc.preempt || !t.is_task() || t.kind == Kind::Idle {
                return Ok(());
            }
            // Its preemptibility is its own; the gap flag is private.
            w.touch(Footprint::read(Obj::Own(me)));
            if !t.preemptible() || (w.harness.threads[me].in_spd_gap && !sc.irq_gap) {
                return Ok(());
            }
            w.touch(Footprint::read(Obj::NeedResched(me)));
            if t.need_resched {
                false
            } else {
                let cpu = t.cpu;
                w.touch(Footprint::read_all([
                    Obj::Task(me),
                    Obj::Rq(cpu),
                    Obj::Budget,
                ]));
                let rq = &w.kernel.rqs[cpu];
                let other = rq.queue.iter().any(|&q| q != me);
                if w.harness.budget == 0 || !other {
                    return Ok(());
                }
                if k.plat.next_u64() % TICK_ODDS != TICK_ODDS - 1 {
                    return Ok(());
                }
                w.touch(Footprint::write(Obj::Budget));
                w.harness.budget -= 1;
                w.harness.preemptions += 1;
                true
            }
        };
        let at = self.entry();
        (k.entries.preempt_schedule_irq)(self, tick)?;
        // The preemption is over and the interrupted code goes on with this step's body,
        // exactly as it would have without it: nothing it did is the thread's to know, and
        // no scheduling point lies between here and the step's own. So its fingerprint is
        // again the one it had before the boundary (docs/model.md s.1); the positions of its
        // past preemptions no longer tell states apart.
        if k.fingerprints {
            k.lock().harness.hist[me] = at.0;
        }
        Ok(())
    }

    /// Bookkeeping of the thread's own position in the code (e.g. entering
    /// `__kthread_parkme`), for the oracles and the scenario's end: not a step, no scheduling
    /// point, no kernel state. The harness waits on it (the scenario ends once the kthread has
    /// left `__kthread_parkme`), so a waiter whose condition it makes true is woken here, by
    /// this thread: who is woken must follow from the state, not from which thread happens to
    /// look next, or two orders of independent moves would end in different states.
    pub fn mark(self, f: impl FnOnce(&mut Thread)) {
        let mut w = self.k.lock();
        w.touch(Footprint::write(Obj::Thread(self.me)));
        f(&mut w.harness.threads[self.me]);
        self.k.wake_waiters(&mut w);
    }

    /// Oracle hook outside a step: record a violation by this thread (a WARN whose condition
    /// the thread computed from what its steps returned), then wake whoever it concerns.
    pub fn warn(self, oracle: Oracle, detail: String) {
        if !self.judges(oracle) {
            return;
        }
        self.k
            .supervise_wake(|w| w.violate(oracle, self.me, detail));
    }

    /// Count a one-tick sleep of `wait_task_inactive` (reported with the outcome).
    pub fn count_wti_sleep(self) {
        self.k.lock().harness.wti_sleeps += 1;
    }

    /// A task state name, for messages.
    pub fn task_name(self, p: Tid) -> String {
        self.k.lock().kernel.tasks[p].name.clone()
    }

    // ---- spinlocks (model.md b notation: [pi(p)], [rq(c)], [wq(x)]) ----

    /// Acquire a spinlock: disable interrupts/preemption as `irq` says, then spin until free.
    /// The first attempt and every retry are steps; between retries the thread blocks.
    pub fn spin_lock(self, func: &'static str, l: LockId, irq: Irq) -> M<()> {
        self.spin_lock_then(func, l, irq, false)
    }

    /// [`Current::spin_lock`] followed by `smp_mb__after_spinlock()` where `mb` (its barrier
    /// switch) is on: a full fence in the step that acquires, as the kernel's lock acquisition
    /// and the fence are one instruction sequence with nothing shared in between.
    pub fn spin_lock_mb(self, func: &'static str, l: LockId, irq: Irq, mb: bool) -> M<()> {
        self.spin_lock_then(func, l, irq, mb)
    }

    fn spin_lock_then(self, func: &'static str, l: LockId, irq: Irq, mb: bool) -> M<()> {
        self.summarize("spin_lock", || {
            let entry = self.entry();
            let mut first = true;
            loop {
                // Past the first try, a turn hands nothing on to the next.
                if !first {
                    self.restart(entry, "spin_lock: spin again");
                }
                let got = self.step(func, |s| {
                    let me = s.me;
                    if first {
                        s.w.touch(Footprint::write(Obj::Own(me)));
                        let t = &mut s.w.kernel.tasks[me];
                        match irq {
                            Irq::Keep => {}
                            Irq::Disable => t.irqs_off = true,
                            Irq::Save => {
                                let was = t.irqs_off;
                                t.irq_stack.push(was);
                                t.irqs_off = true;
                            }
                        }
                        if t.is_task() {
                            t.preempt_count += 1;
                        }
                        if let LockId::Pi(_) = l
                            && s.w.kernel.rqs.iter().any(|r| r.lock_owner == Some(me))
                        {
                            let msg = format!(
                                "lock order: {} takes a pi_lock while holding an rq lock",
                                s.w.kernel.tasks[me].name
                            );
                            s.model_bug(msg);
                        }
                    }
                    s.w.touch(Footprint::read(Obj::of_lock(l)));
                    match s.w.kernel.lock_owner(l) {
                        None => {
                            s.w.touch(Footprint::write(Obj::of_lock(l)));
                            s.w.kernel.set_lock_owner(l, Some(me));
                            s.rec(What::Lock { lock: l.into() });
                            if let Some(m) = s.w.memory.as_mut() {
                                let mut seen = Vec::new();
                                m.lock_acquire(me, l, &mut seen);
                                s.report(seen);
                            }
                            if mb {
                                s.fence(Fence::Mb, "smp_mb__after_spinlock()");
                            }
                            true
                        }
                        Some(o) if o == me => {
                            let msg =
                                format!("{} takes {l:?} recursively", s.w.kernel.tasks[me].name);
                            s.model_bug(msg);
                            false
                        }
                        Some(_) => {
                            s.rec(What::LockBusy { lock: l.into() });
                            false
                        }
                    }
                })?;
                first = false;
                if got {
                    return Ok(());
                }
                self.wait_until(WaitFor::LockFree(l))?;
            }
        })
    }

    /// Release a spinlock, restoring interrupts as `irq` says and dropping the preempt count.
    /// Dropping the count to 0 is a preemption check (taken at the next boundary).
    pub fn spin_unlock(self, func: &'static str, l: LockId, irq: Irq) -> M<()> {
        self.step(func, |s| s.unlock(l, irq))
    }

    /// `preempt_disable()` as its own step.
    pub fn preempt_disable(self, func: &'static str) -> M<()> {
        self.step(func, |s| {
            s.preempt_count_add();
            s.note("preempt_disable");
        })
    }

    /// `preempt_enable()`: count -= 1; at 0 under CONFIG_PREEMPT, need_resched preempts (at the
    /// boundary that follows).
    pub fn preempt_enable(self, func: &'static str) -> M<()> {
        self.step(func, |s| {
            s.preempt_count_sub();
            s.note("preempt_enable");
        })
    }

    /// `preempt_enable_no_resched()`: count -= 1 without a preemption check.
    pub fn preempt_enable_no_resched(self, func: &'static str) -> M<()> {
        self.step(func, |s| {
            s.preempt_count_sub();
            s.note("preempt_enable_no_resched");
        })
    }
}

impl S<'_> {
    /// Release `l` inside a step (also used by steps that end with an unlock).
    pub fn unlock(&mut self, l: LockId, irq: Irq) {
        let me = self.me;
        if self.w.kernel.lock_owner(l) != Some(me) {
            let msg = format!(
                "{} releases {l:?} it does not hold",
                self.w.kernel.tasks[me].name
            );
            self.model_bug(msg);
            return;
        }
        self.w
            .touch(Footprint::write(Obj::of_lock(l)).union(Footprint::write(Obj::Own(me))));
        self.w.kernel.set_lock_owner(l, None);
        if let Some(m) = self.w.memory.as_mut() {
            let mut seen = Vec::new();
            m.lock_release(me, l, &mut seen);
            self.report(seen);
        }
        self.rec(What::Unlock { lock: l.into() });
        let t = &mut self.w.kernel.tasks[me];
        match irq {
            Irq::Keep => {}
            Irq::Disable => t.irqs_off = false,
            Irq::Save => t.irqs_off = t.irq_stack.pop().unwrap_or(false),
        }
        if t.is_task() {
            self.preempt_count_sub();
        }
    }

    /// `preempt_count_inc()` of the stepping task.
    pub fn preempt_count_add(&mut self) {
        let me = self.me;
        self.w.touch(Footprint::write(Obj::Own(me)));
        self.w.kernel.tasks[me].preempt_count += 1;
    }

    /// `preempt_count_dec()` of the stepping task (an underflow is a model bug).
    pub fn preempt_count_sub(&mut self) {
        let me = self.me;
        self.w.touch(Footprint::write(Obj::Own(me)));
        let t = &mut self.w.kernel.tasks[me];
        if t.preempt_count == 0 {
            let msg = format!("{} preempt count underflow", t.name);
            self.model_bug(msg);
        } else {
            t.preempt_count -= 1;
        }
    }
}

fn last_func(w: &World) -> String {
    w.harness
        .trace
        .last()
        .map(|e| e.func.to_string())
        .unwrap_or_default()
}

/// Scheduler self-checks (model.md S*). A failure is a model bug.
fn self_check(w: &mut World, me: Tid) {
    let k = &w.kernel;
    // Runs after every step: one pass over the tasks, no allocation unless a check fails.
    // A CPU (at most 64: affinity masks are 64 bits) runs one task, or two while a switch
    // is pending (next, and prev until it clears its on_cpu).
    let mut on_cpu = [0u8; 64];
    let mut off_rq = None;
    for (t, task) in k.tasks.iter().enumerate() {
        if !task.is_task() {
            continue;
        }
        if task.on_cpu {
            on_cpu[task.cpu] += 1;
        }
        if off_rq.is_none()
            && task.kind != Kind::Idle
            && !w.harness.threads[t].finished
            && task.on_rq == 0
            && task.state == TASK_RUNNING
        {
            off_rq = Some(t);
        }
    }
    for (c, rq) in k.rqs.iter().enumerate() {
        let on = |t: Tid| k.tasks[t].is_task() && k.tasks[t].on_cpu && k.tasks[t].cpu == c;
        let ok = match on_cpu[c] {
            1 => true,
            2 => rq.prev.is_some_and(on),
            _ => false,
        };
        if !ok {
            let names: Vec<&str> = (0..k.tasks.len())
                .filter(|&t| on(t))
                .map(|t| k.tasks[t].name.as_str())
                .collect();
            let msg = format!(
                "CPU{c} has on_cpu tasks {names:?} (curr {})",
                k.tasks[rq.curr].name
            );
            w.model_bug(me, msg);
            return;
        }
    }
    if let Some(t) = off_rq {
        let msg = format!("{} is RUNNING but not on a runqueue", k.tasks[t].name);
        w.model_bug(me, msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A violation of an oracle left out is not recorded and records no footprint; one that
    /// is judged reads whether a controller is inside an operation. The bounded search does
    /// not judge a replayed step again, so what judging records must not depend on whether
    /// an oracle left out fired (docs/model.md s.2).
    #[test]
    fn an_oracle_left_out_records_nothing() {
        use crate::oracle::{Oracle, OracleSet};
        use crate::runtime::footprint::{Footprint, FootprintCell, Obj};
        let sc = crate::scenario::Scenario::by_name("park-unpark").unwrap();
        let v = crate::variant::Preset::V2.variant();
        let mut w = crate::harness::build_world(&sc, v, OracleSet::of(&[Oracle::I2]));
        let cell = std::sync::Arc::new(FootprintCell::default());
        w.harness.footprint = Some(std::sync::Arc::clone(&cell));
        w.violate(Oracle::I1c, 0, "left out".into());
        assert_eq!(cell.take(), Footprint::EMPTY);
        assert!(w.harness.violation.is_none());
        w.violate(Oracle::I2, 0, "judged".into());
        assert_eq!(cell.take(), Footprint::read(Obj::InOp));
        assert_eq!(w.harness.violation.map(|v| v.oracle), Some(Oracle::I2));
    }

    /// The self-checks report a CPU with two running tasks and no switch pending, and a
    /// RUNNING task on no runqueue, CPUs first; a world as the harness builds it passes.
    #[test]
    fn the_self_checks_catch_a_broken_scheduler() {
        let fresh = || {
            let sc = crate::scenario::Scenario::by_name("park-unpark").unwrap();
            let v = crate::variant::Preset::V5.variant();
            crate::harness::build_world(&sc, v, crate::oracle::OracleSet::all())
        };
        let check = |w: &mut World| {
            self_check(w, 0);
            w.harness.violation.take().map(|v| (v.oracle, v.detail))
        };
        assert_eq!(check(&mut fresh()), None);
        let w = fresh();
        let tasks = &w.kernel.tasks;
        // A task off every CPU (another CPU's idle task), a task that is not an idle one,
        // and the one CPU 0 runs.
        let off = (0..tasks.len())
            .find(|&t| tasks[t].is_task() && !tasks[t].on_cpu)
            .unwrap();
        let busy = (0..tasks.len())
            .find(|&t| tasks[t].is_task() && tasks[t].kind != Kind::Idle)
            .unwrap();
        let runs = (0..tasks.len())
            .find(|&t| tasks[t].is_task() && tasks[t].on_cpu && tasks[t].cpu == 0)
            .unwrap();
        let two = |w: &mut World| {
            w.kernel.tasks[off].cpu = 0;
            w.kernel.tasks[off].on_cpu = true;
        };
        let mut w = fresh();
        two(&mut w);
        let (o, detail) = check(&mut w).expect("two tasks on one CPU");
        assert_eq!(o, Oracle::Model);
        assert!(detail.starts_with("CPU0 has on_cpu tasks"), "{detail}");
        // A pending switch from it is no bug.
        let mut w = fresh();
        two(&mut w);
        w.kernel.rqs[0].prev = Some(off);
        assert_eq!(check(&mut w), None);
        // A RUNNING task off every runqueue; with a CPU running nothing as well, the CPU is
        // reported.
        let mut w = fresh();
        w.kernel.tasks[busy].state = TASK_RUNNING;
        w.kernel.tasks[busy].on_rq = 0;
        let (_, detail) = check(&mut w).expect("RUNNING off the runqueue");
        assert!(
            detail.ends_with("is RUNNING but not on a runqueue"),
            "{detail}"
        );
        w.kernel.tasks[runs].on_cpu = false;
        let (_, detail) = check(&mut w).expect("both");
        assert!(detail.starts_with("CPU0 has on_cpu tasks []"), "{detail}");
    }
}
