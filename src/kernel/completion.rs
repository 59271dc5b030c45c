//! Completions, `kernel/sched/completion.c` and `include/linux/completion.h` (v4.17,
//! model.md b.7).

use super::sched::{schedule, try_to_wake_up};
use crate::runtime::world::*;
use crate::runtime::{Current, Irq, M};

/// `complete(x)` / `complete_all(x)` (kernel/sched/completion.c): model.md b.7. `complete`
/// bumps `done` (saturating) and wakes the first exclusive waiter whose wakeup succeeds;
/// `complete_all` sets `done = UINT_MAX` and wakes every waiter. Releasing the lock is a
/// preemption point.
pub fn complete(cur: Current<'_>, x: CompId, all: bool) -> M<()> {
    cur.summarize("complete", || {
        let f: &'static str = if all { "complete_all" } else { "complete" };
        // 1. spin_lock_irqsave(&x->wait.lock).
        cur.spin_lock(f, LockId::Wq(x), Irq::Save)?;
        // 2. x->done++ (if != UINT_MAX), or x->done = UINT_MAX.
        let waiters = cur.step(f, |s| {
            let d = s.completion_fields(x).done;
            let new = if all {
                COMPLETION_ALL
            } else if d != COMPLETION_ALL {
                d + 1
            } else {
                d
            };
            s.completion(x).set_done(new, St::Plain);
            s.completion_fields(x)
                .waiters
                .iter()
                .copied()
                .collect::<Vec<Tid>>()
        })?;
        // 3. __wake_up_locked(&x->wait, TASK_NORMAL, all ? 0 : 1): nested try_to_wake_up.
        for w in waiters {
            let woke = try_to_wake_up(cur, w, TASK_NORMAL)?;
            if woke && !all {
                break;
            }
        }
        // 4. spin_unlock_irqrestore(&x->wait.lock).
        cur.spin_unlock(f, LockId::Wq(x), Irq::Save)
    })
}

/// `wait_for_completion(x)` (kernel/sched/completion.c, `do_wait_for_common` with
/// TASK_UNINTERRUPTIBLE and no timeout): model.md b.7.
pub fn wait_for_completion(cur: Current<'_>, x: CompId) -> M<()> {
    cur.summarize("wait_for_completion", || {
        const F: &str = "wait_for_completion";
        let me = cur.me();
        // 1. spin_lock_irq(&x->wait.lock).
        cur.spin_lock(F, LockId::Wq(x), Irq::Disable)?;
        // 2. if (!x->done): add self as an exclusive waiter at the tail, then loop.
        let done = cur.step(F, |s| {
            let d = s.completion(x).done(Ld::Plain);
            if d == 0 {
                s.completion_fields_mut(x).waiters.push_back(me);
                s.note("__add_wait_queue_entry_tail_exclusive");
            }
            d
        })?;
        if done == 0 {
            let entry = cur.entry();
            loop {
                cur.restart(entry, "do_wait_for_common: do while (!x->done)");
                // __set_current_state(TASK_UNINTERRUPTIBLE) (under the lock).
                cur.step(F, |s| s.task(me).set_state(TASK_UNINTERRUPTIBLE, St::Plain))?;
                // spin_unlock_irq(); schedule(); spin_lock_irq().
                cur.spin_unlock(F, LockId::Wq(x), Irq::Disable)?;
                schedule(cur)?;
                cur.spin_lock(F, LockId::Wq(x), Irq::Disable)?;
                // } while (!x->done);
                let d = cur.step(F, |s| s.completion(x).done(Ld::Plain))?;
                if d != 0 {
                    break;
                }
            }
            // __remove_wait_queue().
            cur.step(F, |s| {
                s.completion_fields_mut(x).waiters.retain(|&t| t != me);
                s.note("__remove_wait_queue");
            })?;
        }
        // 3. if (x->done != UINT_MAX) x->done--.
        cur.step(F, |s| {
            let d = s.completion_fields(x).done;
            if d != COMPLETION_ALL {
                s.completion(x).set_done(d - 1, St::Plain);
            } else {
                s.completion(x).done(Ld::Plain);
            }
        })?;
        // 4. spin_unlock_irq(&x->wait.lock).
        cur.spin_unlock(F, LockId::Wq(x), Irq::Disable)
    })
}

/// `reinit_completion(x)` (include/linux/completion.h): `x->done = 0`, a plain store without
/// the lock (model.md b.7).
pub fn reinit_completion(cur: Current<'_>, x: CompId) -> M<()> {
    cur.step("reinit_completion", |s| {
        s.completion(x).set_done(0, St::Plain)
    })
}
