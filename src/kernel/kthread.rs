//! The park protocol, `kernel/kthread.c` (spec c, b.8, b.9): `kthread_park`,
//! `__kthread_parkme`, `kthread_unpark`, `kthread_stop`, `__kthread_bind` and the `kthread()`
//! entry path. One code path for every variant: each historical difference is a switch of
//! [`crate::variant::Variant`].

use super::completion::{complete, reinit_completion, wait_for_completion};
use super::sched::*;
use crate::oracle::Oracle;
use crate::runtime::platform::Platform;
use crate::runtime::trace::What;
use crate::runtime::world::*;
use crate::runtime::{Irq, Kernel, M};
use crate::variant::{Completer, ParkmeStore, Variant};

fn variant<P: Platform>(k: &Kernel<P>) -> Variant {
    k.lock().variant
}

/// `test_bit(bit, &kthread->flags)`: one step.
pub fn test_bit<P: Platform>(
    k: &Kernel<P>,
    me: Tid,
    func: &'static str,
    kt: usize,
    bit: u32,
) -> M<bool> {
    k.step(me, func, |s| {
        let v = s.w.kthreads[kt].flags & bit != 0;
        s.rec(What::FlagTest { bit, value: v });
        v
    })
}

/// `set_bit(bit, &kthread->flags)`: one step.
fn set_bit<P: Platform>(k: &Kernel<P>, me: Tid, func: &'static str, kt: usize, bit: u32) -> M<()> {
    k.step(me, func, |s| {
        s.w.kthreads[kt].flags |= bit;
        s.rec(What::FlagSet { bit });
    })
}

/// `test_and_set_bit` / `test_and_clear_bit`: one fully ordered RMW step. Returns the old bit.
fn test_and_modify<P: Platform>(
    k: &Kernel<P>,
    me: Tid,
    func: &'static str,
    kt: usize,
    bit: u32,
    set: bool,
) -> M<bool> {
    k.step(me, func, |s| {
        let f = &mut s.w.kthreads[kt].flags;
        let old = *f & bit != 0;
        if set {
            *f |= bit;
            s.rec(What::FlagTestAndSet { bit, old });
        } else {
            *f &= !bit;
            s.rec(What::FlagTestAndClear { bit, old });
        }
        old
    })
}

/// `__kthread_parkme(self)` (kernel/kthread.c): spec c, every variant.
pub fn kthread_parkme<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    k.summarize(me, "kthread_parkme", || {
        const F: &str = "__kthread_parkme";
        let v = variant(k);
        let kt = k.lock().kthread_of(me).expect("parkme runs in a kthread");
        let parked = k.lock().kthreads[kt].parked;
        k.mark(me, |t| t.in_parkme = true);
        // V0: __set_current_state(TASK_PARKED) before the loop.
        if v.parkme_store == ParkmeStore::Plain {
            __set_current_state(k, me, F, TASK_PARKED)?;
        }
        loop {
            match v.parkme_store {
                ParkmeStore::Plain => {}
                // V1/V2: set_current_state(TASK_PARKED).
                ParkmeStore::Mb => set_current_state(k, me, F, TASK_PARKED)?,
                // V3+: set_special_state(TASK_PARKED).
                ParkmeStore::Special => set_special_state(k, me, F, TASK_PARKED)?,
            }
            // if (!test_bit(KTHREAD_SHOULD_PARK, &self->flags)) break;
            if !test_bit(k, me, F, kt, KTHREAD_SHOULD_PARK)? {
                break;
            }
            // V4: preempt_disable() before complete().
            if v.preempt_disabled_complete {
                k.preempt_disable(me, F)?;
            }
            // V0/V1: if (!test_and_set_bit(KTHREAD_IS_PARKED)) complete(&self->parked);
            // V3+: complete(_all)(&self->parked) on every iteration. V2: the hook completes.
            let first = if v.is_parked_bit {
                !test_and_modify(k, me, F, kt, KTHREAD_IS_PARKED, true)?
            } else {
                true
            };
            if v.completer == Completer::Thread && first {
                complete(k, me, parked, v.complete_all)?;
            }
            if v.preempt_disabled_complete {
                // V4: schedule_preempt_disabled(); preempt_enable();
                schedule_preempt_disabled(k, me)?;
                k.preempt_enable(me, F)?;
            } else {
                schedule(k, me)?;
            }
            // V0: __set_current_state(TASK_PARKED) after schedule().
            if v.parkme_store == ParkmeStore::Plain {
                __set_current_state(k, me, F, TASK_PARKED)?;
            }
        }
        // V0/V1: clear_bit(KTHREAD_IS_PARKED).
        if v.is_parked_bit {
            test_and_modify(k, me, F, kt, KTHREAD_IS_PARKED, false)?;
        }
        // __set_current_state(TASK_RUNNING).
        __set_current_state(k, me, F, TASK_RUNNING)?;
        k.mark(me, |t| t.in_parkme = false);
        Ok(())
    })
}

/// `kthread_park_complete(k)` (kernel/kthread.c, V2 only): `complete_all(&kthread->parked)`,
/// called from `finish_task_switch` by the incoming task.
pub fn kthread_park_complete<P: Platform>(k: &Kernel<P>, me: Tid, kt: usize) -> M<()> {
    let (parked, all) = {
        let w = k.lock();
        (w.kthreads[kt].parked, w.variant.complete_all)
    };
    complete(k, me, parked, all)
}

/// `kthread_park(k)` (kernel/kthread.c): spec c, every variant. Returns 0, -EBUSY or -ENOSYS.
/// On return 0 the park window starts and oracle I1 is checked.
pub fn kthread_park<P: Platform>(k: &Kernel<P>, me: Tid, kt: usize) -> M<i32> {
    const F: &str = "kthread_park";
    let v = variant(k);
    let (ktask, parked) = {
        let w = k.lock();
        (w.kthreads[kt].task, w.kthreads[kt].parked)
    };
    // if (WARN_ON(k->flags & PF_EXITING)) return -ENOSYS;  (I6 observed at entry.)
    let exiting = k.step(me, F, |s| {
        let done = s.w.completions[parked].done;
        if done != 0 {
            let msg = format!(
                "kthread_park entered with parked.done == {}",
                if done == COMPLETION_ALL {
                    "UINT_MAX".to_string()
                } else {
                    done.to_string()
                }
            );
            s.w.violate(Oracle::I6, s.me, msg);
        }
        s.w.tasks[ktask].flags & PF_EXITING != 0
    })?;
    if exiting {
        return Ok(-38);
    }
    // V3b+: if (WARN_ON_ONCE(test_bit(KTHREAD_SHOULD_PARK))) return -EBUSY;
    if v.park_ebusy && test_bit(k, me, F, kt, KTHREAD_SHOULD_PARK)? {
        return Ok(-16);
    }
    // V0/V1: if (!test_bit(KTHREAD_IS_PARKED)) { ... } return 0;
    let already = v.is_parked_bit && test_bit(k, me, F, kt, KTHREAD_IS_PARKED)?;
    if !already {
        set_bit(k, me, F, kt, KTHREAD_SHOULD_PARK)?;
        if ktask != me {
            wake_up_process(k, me, ktask)?;
            wait_for_completion(k, me, parked)?;
            // V3+: WARN_ON_ONCE(!wait_task_inactive(k, TASK_PARKED));
            if v.park_wti && wait_task_inactive(k, me, ktask, TASK_PARKED, WtiCaller::Park)? == 0 {
                k.step(me, F, |s| {
                    let msg =
                        "wait_task_inactive(k, TASK_PARKED) failed in kthread_park".to_string();
                    s.w.violate(Oracle::I3, s.me, msg);
                })?;
            }
        }
    }
    // return 0: I1, and the park window opens.
    k.step(me, F, |s| {
        s.rec(What::Return { value: 0 });
        let t = &s.w.tasks[ktask];
        if !(t.state == TASK_PARKED && t.on_rq == 0 && !t.on_cpu && t.in_parkme) {
            let msg = format!(
                "kthread_park returned while {} is {}/on_rq={}/on_cpu={}{}",
                t.name,
                state_name(t.state),
                t.on_rq,
                t.on_cpu as u8,
                if t.in_parkme { "" } else { ", outside parkme" }
            );
            s.w.violate(Oracle::I1, s.me, msg);
        }
        s.w.window = Some(ParkWindow { kthread: kt });
    })?;
    Ok(0)
}

/// How unpark was reached, for the oracle of its `__kthread_bind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnparkFrom {
    /// A plain `kthread_unpark` (or hotplug online).
    Caller,
    /// `kthread_stop`, with SHOULD_PARK clear at its entry (spec d.6).
    StopUnparked,
    /// `kthread_stop` of a parked thread.
    StopParked,
}

/// `kthread_unpark(k)` (kernel/kthread.c): spec c, every variant.
pub fn kthread_unpark<P: Platform>(k: &Kernel<P>, me: Tid, kt: usize, from: UnparkFrom) -> M<()> {
    const F: &str = "kthread_unpark";
    let v = variant(k);
    let (ktask, parked) = {
        let w = k.lock();
        (w.kthreads[kt].task, w.kthreads[kt].parked)
    };
    // V5: if (!test_bit(KTHREAD_SHOULD_PARK, &kthread->flags)) return;
    if v.unpark_only_parked && !test_bit(k, me, F, kt, KTHREAD_SHOULD_PARK)? {
        return Ok(());
    }
    let caller = if from == UnparkFrom::StopUnparked {
        WtiCaller::StopUnparked
    } else {
        WtiCaller::Unpark
    };
    if v.is_parked_bit {
        // V0/V1: clear SHOULD_PARK; if (test_and_clear_bit(IS_PARKED)) { bind; wake }.
        clear_should_park(k, me, F, kt)?;
        if !test_and_modify(k, me, F, kt, KTHREAD_IS_PARKED, false)? {
            return Ok(());
        }
        if test_bit(k, me, F, kt, KTHREAD_IS_PER_CPU)? {
            let cpu = k.lock().kthreads[kt].cpu;
            __kthread_bind(k, me, ktask, cpu, TASK_PARKED, caller)?;
        }
        wake_up_state(k, me, ktask, TASK_PARKED)?;
    } else {
        // V2+: if (IS_PER_CPU) __kthread_bind(k, cpu, TASK_PARKED); [reinit]; clear; wake.
        if test_bit(k, me, F, kt, KTHREAD_IS_PER_CPU)? {
            let cpu = k.lock().kthreads[kt].cpu;
            __kthread_bind(k, me, ktask, cpu, TASK_PARKED, caller)?;
        }
        if v.unpark_reinit {
            reinit_completion(k, me, parked)?;
        }
        clear_should_park(k, me, F, kt)?;
        wake_up_state(k, me, ktask, TASK_PARKED)?;
    }
    Ok(())
}

/// `clear_bit(KTHREAD_SHOULD_PARK)`: one step; the park window closes.
fn clear_should_park<P: Platform>(k: &Kernel<P>, me: Tid, func: &'static str, kt: usize) -> M<()> {
    k.step(me, func, |s| {
        s.w.kthreads[kt].flags &= !KTHREAD_SHOULD_PARK;
        s.rec(What::FlagClear {
            bit: KTHREAD_SHOULD_PARK,
        });
        s.w.window = None;
    })
}

/// `__kthread_bind(p, cpu, state)` (kernel/kthread.c): spec b.8. A failed
/// `wait_task_inactive` WARNs (I3, or I3s for `kthread_stop` of a never-parked thread) and
/// leaves the affinity unchanged.
pub fn __kthread_bind<P: Platform>(
    k: &Kernel<P>,
    me: Tid,
    p: Tid,
    cpu: CpuId,
    st: u32,
    caller: WtiCaller,
) -> M<()> {
    const F: &str = "__kthread_bind";
    // 1. if (!wait_task_inactive(p, state)) { WARN_ON(1); return; }
    if wait_task_inactive(k, me, p, st, caller)? == 0 {
        return k.step(me, F, |s| {
            let (oracle, why) = match caller {
                WtiCaller::StopUnparked => (
                    Oracle::I3s,
                    "kthread_stop -> kthread_unpark of a never-parked per-cpu kthread",
                ),
                WtiCaller::Create => (Oracle::I3, "kthread_bind after kthread_create_on_cpu"),
                _ => (Oracle::I3, "kthread_unpark"),
            };
            let msg = format!(
                "WARN in __kthread_bind ({why}): wait_task_inactive({}, {}) failed, {} is {}",
                s.w.tasks[p].name,
                state_name(st),
                s.w.tasks[p].name,
                state_name(s.w.tasks[p].state)
            );
            s.w.violate(oracle, s.me, msg);
        });
    }
    // 2. raw_spin_lock_irqsave(&p->pi_lock); do_set_cpus_allowed(p, cpumask_of(cpu)); unlock.
    k.spin_lock(me, F, LockId::Pi(p), Irq::Save)?;
    k.step(me, F, |s| {
        s.w.tasks[p].allowed = 1 << cpu;
        s.rec(What::Affinity {
            task: p,
            mask: 1 << cpu,
        });
    })?;
    k.spin_unlock(me, F, LockId::Pi(p), Irq::Save)
}

/// `kthread_stop(k)` (kernel/kthread.c, identical 4.15 to today): set SHOULD_STOP,
/// `kthread_unpark`, `wake_up_process`, wait for `exited` (spec b.9).
pub fn kthread_stop<P: Platform>(k: &Kernel<P>, me: Tid, kt: usize) -> M<()> {
    const F: &str = "kthread_stop";
    let (ktask, exited) = {
        let w = k.lock();
        (w.kthreads[kt].task, w.kthreads[kt].exited)
    };
    let was_parked = k.step(me, F, |s| {
        let was_parked = s.w.kthreads[kt].flags & KTHREAD_SHOULD_PARK != 0;
        s.w.kthreads[kt].flags |= KTHREAD_SHOULD_STOP;
        s.rec(What::FlagSet {
            bit: KTHREAD_SHOULD_STOP,
        });
        was_parked
    })?;
    let from = if was_parked {
        UnparkFrom::StopParked
    } else {
        UnparkFrom::StopUnparked
    };
    kthread_unpark(k, me, kt, from)?;
    wake_up_process(k, me, ktask)?;
    wait_for_completion(k, me, exited)
}

/// The creator's side of `kthread_create_on_cpu(fn, cpu)` (kernel/kthread.c, 4.15-4.19): wait
/// for the new thread's `complete(done)`, `kthread_bind(p, cpu)`, set IS_PER_CPU (spec b.9).
pub fn kthread_create_on_cpu<P: Platform>(k: &Kernel<P>, me: Tid, kt: usize) -> M<()> {
    const F: &str = "kthread_create_on_cpu";
    let (ktask, created, cpu) = {
        let w = k.lock();
        (
            w.kthreads[kt].task,
            w.kthreads[kt].created,
            w.kthreads[kt].cpu,
        )
    };
    wait_for_completion(k, me, created)?;
    // kthread_bind(p, cpu) = __kthread_bind(p, cpu, TASK_UNINTERRUPTIBLE).
    __kthread_bind(k, me, ktask, cpu, TASK_UNINTERRUPTIBLE, WtiCaller::Create)?;
    set_bit(k, me, F, kt, KTHREAD_IS_PER_CPU)
}

/// `kthread()` (kernel/kthread.c): the entry of a new kthread after `schedule_tail` (spec b.9
/// steps 2-7), with V4's preempt-disabled `complete` + `schedule_preempt_disabled`.
pub fn kthread_entry<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    const F: &str = "kthread";
    let v = variant(k);
    let kt = k.lock().kthread_of(me).expect("kthread");
    let created = k.lock().kthreads[kt].created;
    // 2. __set_current_state(TASK_UNINTERRUPTIBLE).
    __set_current_state(k, me, F, TASK_UNINTERRUPTIBLE)?;
    if v.preempt_disabled_complete {
        // V4: preempt_disable(); complete(done); schedule_preempt_disabled(); preempt_enable();
        k.preempt_disable(me, F)?;
        complete(k, me, created, false)?;
        schedule_preempt_disabled(k, me)?;
        k.preempt_enable(me, F)?;
    } else {
        // 4. complete(done); 5. schedule().
        complete(k, me, created, false)?;
        schedule(k, me)?;
    }
    // 6. if (!test_bit(KTHREAD_SHOULD_STOP)) { __kthread_parkme(self); ret = threadfn(data); }
    if !test_bit(k, me, F, kt, KTHREAD_SHOULD_STOP)? {
        kthread_parkme(k, me)?;
        super::smpboot::smpboot_thread_fn(k, me)?;
    }
    // 7. do_exit(ret).
    do_exit(k, me)
}

/// `do_exit()` of a kthread (kernel/exit.c): PF_EXITING, `complete(&kthread->exited)` (via
/// `vfork_done`), then `do_task_dead()`.
pub fn do_exit<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    const F: &str = "do_exit";
    let exited = {
        let w = k.lock();
        w.kthread_of(me).map(|kt| w.kthreads[kt].exited)
    };
    k.step(me, F, |s| {
        s.w.tasks[s.me].flags |= PF_EXITING;
        s.note("exit_signals: PF_EXITING");
    })?;
    if let Some(x) = exited {
        complete(k, me, x, false)?;
    }
    do_task_dead(k, me)
}
