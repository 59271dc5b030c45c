//! The kernel model: the park protocol and the scheduler pieces it leans on, at the step
//! granularity of `docs/model.md` section (b), one function per kernel function and named
//! after it. Read it beside `kernel/kthread.c` and `kernel/sched/core.c`:
//!
//! | module | kernel source | model.md |
//! |---|---|---|
//! | [`sched`] | `kernel/sched/core.c`, `include/linux/sched.h` | b.1-b.6 |
//! | [`completion`] | `kernel/sched/completion.c` | b.7 |
//! | [`kthread`] | `kernel/kthread.c` | b.8, b.9, c |
//! | [`smpboot`] | `kernel/smpboot.c`, `kernel/cpu.c` | b.10-b.12 |
//!
//! Every model function takes the running thread's [`crate::runtime::Current`] (the kernel's
//! `current`) and touches shared state only through its steps and recorded reads; the
//! runtime beneath ([`crate::runtime`]) owns the world, its lock, the steps, spinlocks and
//! preemption boundaries.

pub mod completion;
pub mod kthread;
pub mod sched;
pub mod smpboot;

/// The kernel entry points the runtime and the scheduler model call back into, bound when an
/// execution is built ([`crate::runtime::Entries`]).
pub const ENTRIES: crate::runtime::Entries = crate::runtime::Entries {
    preempt_schedule_irq: sched::preempt_schedule_irq,
    kthread_park_complete: kthread::kthread_park_complete,
};
