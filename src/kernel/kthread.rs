//! The park protocol, `kernel/kthread.c` (model.md c, b.8, b.9): `kthread_park`,
//! `__kthread_parkme`, `kthread_unpark`, `kthread_stop`, `__kthread_bind` and the `kthread()`
//! entry path. One code path for every variant: each historical difference is a switch of
//! [`crate::variant::Variant`].

use super::completion::{complete, reinit_completion, wait_for_completion};
use super::sched::*;
use crate::oracle::Oracle;
use crate::runtime::trace::What;
use crate::runtime::world::*;
use crate::runtime::{Current, Irq, M};
use crate::variant::{Completer, ParkmeStore};

/// `test_bit(bit, &kthread->flags)`: one step.
pub fn test_bit(cur: Current<'_>, func: &'static str, kt: usize, bit: u32) -> M<bool> {
    cur.step(func, |s| s.kthread(kt).test_bit(bit))
}

/// `set_bit(bit, &kthread->flags)`: one step.
fn set_bit(cur: Current<'_>, func: &'static str, kt: usize, bit: u32) -> M<()> {
    cur.step(func, |s| s.kthread(kt).set_bit(bit))
}

/// How `test_and_{set,clear}_bit(KTHREAD_IS_PARKED)` are ordered: fully, unless the
/// `mb_is_parked` barrier switch is off (model.md m.2).
fn is_parked_order(cur: Current<'_>) -> Rmw {
    if cur.variant().mb_is_parked {
        Rmw::Ordered
    } else {
        Rmw::Relaxed
    }
}

/// `test_and_set_bit(bit, &kthread->flags)`: one fully ordered RMW step; the old bit.
fn test_and_set_bit(cur: Current<'_>, func: &'static str, kt: usize, bit: u32) -> M<bool> {
    let ord = is_parked_order(cur);
    cur.step(func, |s| s.kthread(kt).test_and_set_bit(bit, ord))
}

/// `test_and_clear_bit(bit, &kthread->flags)`: one fully ordered RMW step; the old bit.
fn test_and_clear_bit(cur: Current<'_>, func: &'static str, kt: usize, bit: u32) -> M<bool> {
    let ord = is_parked_order(cur);
    cur.step(func, |s| s.kthread(kt).test_and_clear_bit(bit, ord))
}

/// `__kthread_parkme(self)` (kernel/kthread.c): model.md c, every variant.
pub fn __kthread_parkme(cur: Current<'_>) -> M<()> {
    cur.summarize("kthread_parkme", || {
        const F: &str = "__kthread_parkme";
        let v = cur.variant();
        let kt = cur.kthread();
        let parked = cur.kthread_ids(kt).parked;
        cur.mark(|t| t.in_parkme = true);
        // V0: __set_current_state(TASK_PARKED) before the loop.
        if v.parkme_store == ParkmeStore::Plain {
            __set_current_state(cur, F, TASK_PARKED)?;
        }
        let entry = cur.entry();
        loop {
            cur.restart(entry, "__kthread_parkme: for (;;)");
            match v.parkme_store {
                ParkmeStore::Plain => {}
                // V1/V2: set_current_state(TASK_PARKED).
                ParkmeStore::Mb => set_current_state(cur, F, TASK_PARKED, v.mb_parkme)?,
                // V3+: set_special_state(TASK_PARKED).
                ParkmeStore::Special => set_special_state(cur, F, TASK_PARKED)?,
            }
            // if (!test_bit(KTHREAD_SHOULD_PARK, &self->flags)) break;
            if !test_bit(cur, F, kt, KTHREAD_SHOULD_PARK)? {
                break;
            }
            // V4: preempt_disable() before complete().
            if v.preempt_disabled_complete {
                cur.preempt_disable(F)?;
            }
            // V0/V1: if (!test_and_set_bit(KTHREAD_IS_PARKED)) complete(&self->parked);
            // V3+: complete(_all)(&self->parked) on every iteration. V2: the hook completes.
            let first = if v.is_parked_bit {
                !test_and_set_bit(cur, F, kt, KTHREAD_IS_PARKED)?
            } else {
                true
            };
            if v.completer == Completer::Thread && first {
                complete(cur, parked, v.complete_all)?;
            }
            if v.preempt_disabled_complete {
                // V4: schedule_preempt_disabled(); preempt_enable();
                schedule_preempt_disabled(cur)?;
                cur.preempt_enable(F)?;
            } else {
                schedule(cur)?;
            }
            // V0: __set_current_state(TASK_PARKED) after schedule().
            if v.parkme_store == ParkmeStore::Plain {
                __set_current_state(cur, F, TASK_PARKED)?;
            }
        }
        // V0/V1: clear_bit(KTHREAD_IS_PARKED).
        if v.is_parked_bit {
            test_and_clear_bit(cur, F, kt, KTHREAD_IS_PARKED)?;
        }
        // __set_current_state(TASK_RUNNING).
        __set_current_state(cur, F, TASK_RUNNING)?;
        cur.mark(|t| t.in_parkme = false);
        Ok(())
    })
}

/// `kthread_park_complete(k)` (kernel/kthread.c, V2 only): `complete_all(&kthread->parked)`,
/// called from `finish_task_switch` by the incoming task.
pub fn kthread_park_complete(cur: Current<'_>, kt: usize) -> M<()> {
    complete(cur, cur.kthread_ids(kt).parked, cur.variant().complete_all)
}

/// Render a completion count for a message (`UINT_MAX` by name).
fn count_name(done: u32) -> String {
    if done == COMPLETION_ALL {
        "UINT_MAX".to_string()
    } else {
        done.to_string()
    }
}

/// `kthread_park(k)` (kernel/kthread.c): model.md c, every variant. Returns 0, `-EBUSY` or
/// `-ENOSYS`. On return 0 the park window starts and oracle I1 is checked.
pub fn kthread_park(cur: Current<'_>, kt: usize) -> M<i32> {
    const F: &str = "kthread_park";
    let v = cur.variant();
    let KthreadIds {
        task: k, parked, ..
    } = cur.kthread_ids(kt);
    // if (WARN_ON(k->flags & PF_EXITING)) return -ENOSYS;  (I6 observed at entry.)
    let exiting = cur.step(F, |s| {
        let done = s.completion_fields(parked).done;
        if done != 0 {
            let msg = format!(
                "kthread_park entered with parked.done == {}",
                count_name(done)
            );
            s.violate(Oracle::I6, msg);
        }
        s.task_fields(k).flags & PF_EXITING != 0
    })?;
    if exiting {
        return Ok(-ENOSYS);
    }
    // V3b+: if (WARN_ON_ONCE(test_bit(KTHREAD_SHOULD_PARK))) return -EBUSY;
    if v.park_ebusy && test_bit(cur, F, kt, KTHREAD_SHOULD_PARK)? {
        return Ok(-EBUSY);
    }
    // V0/V1: if (!test_bit(KTHREAD_IS_PARKED)) { ... } return 0;
    let already = v.is_parked_bit && test_bit(cur, F, kt, KTHREAD_IS_PARKED)?;
    if !already {
        set_bit(cur, F, kt, KTHREAD_SHOULD_PARK)?;
        if k != cur.me() {
            wake_up_process(cur, k)?;
            wait_for_completion(cur, parked)?;
            // V3+: WARN_ON_ONCE(!wait_task_inactive(k, TASK_PARKED));
            if v.park_wti && wait_task_inactive(cur, k, TASK_PARKED, WtiCaller::Park)?.failed() {
                cur.step(F, |s| {
                    let msg =
                        "wait_task_inactive(k, TASK_PARKED) failed in kthread_park".to_string();
                    s.violate(Oracle::I3, msg);
                })?;
            }
        }
    }
    // return 0: I1, and the park window opens.
    cur.step(F, |s| {
        s.rec(What::Return { value: 0 });
        let in_parkme = s.in_parkme(k);
        let t = s.task_fields(k);
        if !(t.state == TASK_PARKED && t.on_rq == 0 && !t.on_cpu && in_parkme) {
            let msg = format!(
                "kthread_park returned while {} is {}/on_rq={}/on_cpu={}{}",
                t.name,
                state_name(t.state),
                t.on_rq,
                t.on_cpu as u8,
                if in_parkme { "" } else { ", outside parkme" }
            );
            s.violate(Oracle::I1, msg);
        }
        s.open_park_window(kt);
    })?;
    Ok(0)
}

/// How unpark was reached, for the oracle of its `__kthread_bind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnparkFrom {
    /// A plain `kthread_unpark` (or hotplug online).
    Caller,
    /// `kthread_stop`, with SHOULD_PARK clear at its entry (model.md d.6).
    StopUnparked,
    /// `kthread_stop` of a parked thread.
    StopParked,
}

/// `kthread_unpark(k)` (kernel/kthread.c): model.md c, every variant.
pub fn kthread_unpark(cur: Current<'_>, kt: usize, from: UnparkFrom) -> M<()> {
    const F: &str = "kthread_unpark";
    let v = cur.variant();
    let KthreadIds {
        task: k,
        cpu,
        parked,
        ..
    } = cur.kthread_ids(kt);
    // V5: if (!test_bit(KTHREAD_SHOULD_PARK, &kthread->flags)) return;
    if v.unpark_only_parked && !test_bit(cur, F, kt, KTHREAD_SHOULD_PARK)? {
        return Ok(());
    }
    let caller = if from == UnparkFrom::StopUnparked {
        WtiCaller::StopUnparked
    } else {
        WtiCaller::Unpark
    };
    if v.is_parked_bit {
        // V0/V1: clear SHOULD_PARK; if (test_and_clear_bit(IS_PARKED)) { bind; wake }.
        clear_should_park(cur, F, kt)?;
        if !test_and_clear_bit(cur, F, kt, KTHREAD_IS_PARKED)? {
            return Ok(());
        }
        if test_bit(cur, F, kt, KTHREAD_IS_PER_CPU)? {
            __kthread_bind(cur, k, cpu, TASK_PARKED, caller)?;
        }
        wake_up_state(cur, k, TASK_PARKED)?;
    } else {
        // V2+: if (IS_PER_CPU) __kthread_bind(k, cpu, TASK_PARKED); [reinit]; clear; wake.
        if test_bit(cur, F, kt, KTHREAD_IS_PER_CPU)? {
            __kthread_bind(cur, k, cpu, TASK_PARKED, caller)?;
        }
        if v.unpark_reinit {
            reinit_completion(cur, parked)?;
        }
        clear_should_park(cur, F, kt)?;
        wake_up_state(cur, k, TASK_PARKED)?;
    }
    Ok(())
}

/// `clear_bit(KTHREAD_SHOULD_PARK)`: one step; the park window closes.
fn clear_should_park(cur: Current<'_>, func: &'static str, kt: usize) -> M<()> {
    cur.step(func, |s| {
        s.kthread(kt).clear_bit(KTHREAD_SHOULD_PARK);
        s.close_park_window();
    })
}

/// `__kthread_bind(p, cpu, state)` (kernel/kthread.c): model.md b.8. A failed
/// `wait_task_inactive` WARNs (I3, or I3s for `kthread_stop` of a never-parked thread) and
/// leaves the affinity unchanged.
pub fn __kthread_bind(
    cur: Current<'_>,
    p: Tid,
    cpu: CpuId,
    state: u32,
    caller: WtiCaller,
) -> M<()> {
    const F: &str = "__kthread_bind";
    // 1. if (!wait_task_inactive(p, state)) { WARN_ON(1); return; }
    if wait_task_inactive(cur, p, state, caller)?.failed() {
        return cur.step(F, |s| {
            let (oracle, why) = match caller {
                WtiCaller::StopUnparked => (
                    Oracle::I3s,
                    "kthread_stop -> kthread_unpark of a never-parked per-cpu kthread",
                ),
                WtiCaller::Create => (Oracle::I3, "kthread_bind after kthread_create_on_cpu"),
                _ => (Oracle::I3, "kthread_unpark"),
            };
            let t = s.task_fields(p);
            let msg = format!(
                "WARN in __kthread_bind ({why}): wait_task_inactive({}, {}) failed, {} is {}",
                t.name,
                state_name(state),
                t.name,
                state_name(t.state)
            );
            s.violate(oracle, msg);
        });
    }
    // 2. raw_spin_lock_irqsave(&p->pi_lock); do_set_cpus_allowed(p, cpumask_of(cpu)); unlock.
    //    After v6.16 (`bind_rq_lock`): set_cpus_allowed_force() takes the task's rq lock
    //    inside pi_lock (the task is inactive: no dequeue or enqueue to do).
    let rq_lock = cur.variant().bind_rq_lock;
    cur.spin_lock(F, LockId::Pi(p), Irq::Save)?;
    let rq = if rq_lock {
        Some(super::sched::__task_rq_lock(cur, F, p)?)
    } else {
        None
    };
    cur.step(F, |s| {
        s.task_fields_mut(p).allowed = 1 << cpu;
        s.rec(What::Affinity {
            task: p,
            mask: 1 << cpu,
        });
    })?;
    if let Some(c) = rq {
        cur.spin_unlock(F, LockId::Rq(c), Irq::Keep)?;
    }
    cur.spin_unlock(F, LockId::Pi(p), Irq::Save)
}

/// `kthread_stop(k)` (kernel/kthread.c, identical 4.15 to today): set SHOULD_STOP,
/// `kthread_unpark`, `wake_up_process`, wait for `exited` (model.md b.9).
pub fn kthread_stop(cur: Current<'_>, kt: usize) -> M<()> {
    const F: &str = "kthread_stop";
    let KthreadIds {
        task: k, exited, ..
    } = cur.kthread_ids(kt);
    let was_parked = cur.step(F, |s| {
        let was_parked = s.kthread_fields(kt).flags & KTHREAD_SHOULD_PARK != 0;
        s.kthread(kt).set_bit(KTHREAD_SHOULD_STOP);
        was_parked
    })?;
    let from = if was_parked {
        UnparkFrom::StopParked
    } else {
        UnparkFrom::StopUnparked
    };
    kthread_unpark(cur, kt, from)?;
    wake_up_process(cur, k)?;
    wait_for_completion(cur, exited)
}

/// The creator's side of `kthread_create_on_cpu(fn, cpu)` (kernel/kthread.c, 4.15-4.19): wait
/// for the new thread's `complete(done)`, `kthread_bind(p, cpu)`, set IS_PER_CPU (model.md
/// b.9).
pub fn kthread_create_on_cpu(cur: Current<'_>, kt: usize) -> M<()> {
    const F: &str = "kthread_create_on_cpu";
    let KthreadIds { cpu, created, .. } = cur.kthread_ids(kt);
    wait_for_completion(cur, created)?;
    kthread_bind(cur, kt, cpu)?;
    set_bit(cur, F, kt, KTHREAD_IS_PER_CPU)
}

/// `kthread_bind(p, cpu)` (kernel/kthread.c): `__kthread_bind(p, cpu, TASK_UNINTERRUPTIBLE)`,
/// then, from v6.14 (`kthread_started`), `WARN_ON_ONCE(kthread->started)`: binding a thread
/// that has already been woken (I3, model.md b.8).
pub fn kthread_bind(cur: Current<'_>, kt: usize, cpu: CpuId) -> M<()> {
    const F: &str = "kthread_bind";
    let k = cur.kthread_ids(kt).task;
    __kthread_bind(cur, k, cpu, TASK_UNINTERRUPTIBLE, WtiCaller::Create)?;
    if cur.variant().kthread_started {
        cur.step(F, |s| {
            if s.kthread_fields(kt).started {
                let msg = format!(
                    "WARN_ON_ONCE(kthread->started) in kthread_bind: {} was woken before it was bound",
                    s.task_fields(k).name
                );
                s.violate(Oracle::I3, msg);
            }
        })?;
    }
    Ok(())
}

/// `kthread()` (kernel/kthread.c): the entry of a new kthread after `schedule_tail`
/// (model.md b.9 steps 2-7), with V4's preempt-disabled `complete` +
/// `schedule_preempt_disabled`; `threadfn` is the thread function it was created with.
pub fn kthread(cur: Current<'_>, threadfn: fn(Current<'_>) -> M<()>) -> M<()> {
    const F: &str = "kthread";
    let v = cur.variant();
    let kt = cur.kthread();
    let created = cur.kthread_ids(kt).created;
    // 2. __set_current_state(TASK_UNINTERRUPTIBLE).
    __set_current_state(cur, F, TASK_UNINTERRUPTIBLE)?;
    if v.preempt_disabled_complete {
        // V4: preempt_disable(); complete(done); schedule_preempt_disabled(); preempt_enable();
        cur.preempt_disable(F)?;
        complete(cur, created, false)?;
        schedule_preempt_disabled(cur)?;
        cur.preempt_enable(F)?;
    } else {
        // 4. complete(done); 5. schedule().
        complete(cur, created, false)?;
        schedule(cur)?;
    }
    // 5a. v6.14 (`kthread_started`): self->started = 1 (kthread_affine_node() follows for an
    //     unbound thread; a per-CPU thread has PF_NO_SETAFFINITY and skips it).
    if v.kthread_started {
        cur.step(F, |s| {
            s.kthread_fields_mut(kt).started = true;
            s.note("self->started = 1");
        })?;
    }
    // 6. if (!test_bit(KTHREAD_SHOULD_STOP)) { __kthread_parkme(self); ret = threadfn(data); }
    if !test_bit(cur, F, kt, KTHREAD_SHOULD_STOP)? {
        __kthread_parkme(cur)?;
        threadfn(cur)?;
    }
    // 7. do_exit(ret).
    do_exit(cur)
}

/// `do_exit()` of a kthread (kernel/exit.c): PF_EXITING, `complete(&kthread->exited)` (via
/// `vfork_done`), then `do_task_dead()`.
pub fn do_exit(cur: Current<'_>) -> M<()> {
    const F: &str = "do_exit";
    let me = cur.me();
    let exited = cur
        .cast()
        .kthread_of(me)
        .map(|kt| cur.kthread_ids(kt).exited);
    cur.step(F, |s| {
        s.task_fields_mut(me).flags |= PF_EXITING;
        s.note("exit_signals: PF_EXITING");
    })?;
    if let Some(x) = exited {
        complete(cur, x, false)?;
    }
    do_task_dead(cur)
}
