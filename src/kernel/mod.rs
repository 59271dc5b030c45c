//! The kernel model: the park protocol and the scheduler pieces it leans on, at the step
//! granularity of `docs/kernel-model.md` section (b). Read it beside `kernel/kthread.c` and
//! `kernel/sched/core.c`:
//!
//! | module | kernel source | spec |
//! |---|---|---|
//! | [`sched`] | `kernel/sched/core.c`, `include/linux/sched.h` | b.1-b.6 |
//! | [`completion`] | `kernel/sched/completion.c` | b.7 |
//! | [`kthread`] | `kernel/kthread.c` | b.8, b.9, c |
//! | [`smpboot`] | `kernel/smpboot.c`, `kernel/cpu.c` | b.10-b.12 |
//! | [`step`] | (the model's notion of an atomic step, spinlocks, preempt count) | b notation, b.3 |
//! | [`world`] | `task_struct`, `struct rq`, `struct kthread`, `struct completion` | a |

pub mod completion;
pub mod kthread;
pub mod sched;
pub mod smpboot;
