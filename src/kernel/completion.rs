//! Completions, `kernel/sched/completion.c` and `include/linux/completion.h` (v4.17, spec b.7).

use super::sched::{schedule, try_to_wake_up};
use crate::runtime::platform::Platform;
use crate::runtime::trace::What;
use crate::runtime::world::*;
use crate::runtime::{Irq, Kernel, M};

/// `complete(x)` / `complete_all(x)` (kernel/sched/completion.c): spec b.7. `complete` bumps
/// `done` (saturating) and wakes the first exclusive waiter whose wakeup succeeds;
/// `complete_all` sets `done = UINT_MAX` and wakes every waiter. Releasing the lock is a
/// preemption point.
pub fn complete<P: Platform>(k: &Kernel<P>, me: Tid, x: CompId, all: bool) -> M<()> {
    k.summarize(me, "complete", || {
        let f: &'static str = if all { "complete_all" } else { "complete" };
        // 1. spin_lock_irqsave(&x->wait.lock).
        k.spin_lock(me, f, LockId::Wq(x), Irq::Save)?;
        // 2. x->done++ (if != UINT_MAX), or x->done = UINT_MAX.
        let waiters = k.step(me, f, |s| {
            let d = s.w.completions[x].done;
            let new = if all {
                COMPLETION_ALL
            } else if d != COMPLETION_ALL {
                d + 1
            } else {
                d
            };
            s.set_done(x, new);
            s.w.completions[x]
                .waiters
                .iter()
                .copied()
                .collect::<Vec<Tid>>()
        })?;
        // 3. __wake_up_locked(&x->wait, TASK_NORMAL, all ? 0 : 1): nested try_to_wake_up.
        for w in waiters {
            let woke = try_to_wake_up(k, me, w, TASK_NORMAL)?;
            if woke && !all {
                break;
            }
        }
        // 4. spin_unlock_irqrestore(&x->wait.lock).
        k.spin_unlock(me, f, LockId::Wq(x), Irq::Save)
    })
}

/// `wait_for_completion(x)` (kernel/sched/completion.c, `do_wait_for_common` with
/// TASK_UNINTERRUPTIBLE and no timeout): spec b.7.
pub fn wait_for_completion<P: Platform>(k: &Kernel<P>, me: Tid, x: CompId) -> M<()> {
    k.summarize(me, "wait_for_completion", || {
        const F: &str = "wait_for_completion";
        // 1. spin_lock_irq(&x->wait.lock).
        k.spin_lock(me, F, LockId::Wq(x), Irq::Disable)?;
        // 2. if (!x->done): add self as an exclusive waiter at the tail, then loop.
        let done = k.step(me, F, |s| {
            let d = s.w.completions[x].done;
            s.rec(What::DoneRead { comp: x, value: d });
            if d == 0 {
                s.w.completions[x].waiters.push_back(s.me);
                s.note("__add_wait_queue_entry_tail_exclusive");
            }
            d
        })?;
        if done == 0 {
            loop {
                // __set_current_state(TASK_UNINTERRUPTIBLE) (under the lock).
                k.step(me, F, |s| s.write_state(s.me, TASK_UNINTERRUPTIBLE))?;
                // spin_unlock_irq(); schedule(); spin_lock_irq().
                k.spin_unlock(me, F, LockId::Wq(x), Irq::Disable)?;
                schedule(k, me)?;
                k.spin_lock(me, F, LockId::Wq(x), Irq::Disable)?;
                // } while (!x->done);
                let d = k.step(me, F, |s| {
                    let d = s.w.completions[x].done;
                    s.rec(What::DoneRead { comp: x, value: d });
                    d
                })?;
                if d != 0 {
                    break;
                }
            }
            // __remove_wait_queue().
            k.step(me, F, |s| {
                let me = s.me;
                s.w.completions[x].waiters.retain(|&t| t != me);
                s.note("__remove_wait_queue");
            })?;
        }
        // 3. if (x->done != UINT_MAX) x->done--.
        k.step(me, F, |s| {
            let d = s.w.completions[x].done;
            if d != COMPLETION_ALL {
                s.set_done(x, d - 1);
            } else {
                s.rec(What::DoneRead { comp: x, value: d });
            }
        })?;
        // 4. spin_unlock_irq(&x->wait.lock).
        k.spin_unlock(me, F, LockId::Wq(x), Irq::Disable)
    })
}

/// `reinit_completion(x)` (include/linux/completion.h): `x->done = 0`, a plain store without
/// the lock (spec b.7).
pub fn reinit_completion<P: Platform>(k: &Kernel<P>, me: Tid, x: CompId) -> M<()> {
    k.step(me, "reinit_completion", |s| s.set_done(x, 0))
}
