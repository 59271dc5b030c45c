//! smpboot threads and CPU hotplug: `kernel/smpboot.c` `smpboot_thread_fn` (spec b.10) and the
//! parts of `kernel/cpu.c` / `kernel/sched/core.c` that take a CPU down (spec b.12).

use super::completion::{complete, wait_for_completion};
use super::kthread::{UnparkFrom, kthread_parkme, kthread_unpark, test_bit};
use super::sched::*;
use crate::oracle::Oracle;
use crate::runtime::platform::Platform;
use crate::runtime::trace::What;
use crate::runtime::world::*;
use crate::runtime::{Irq, Kernel, M, S};

/// `BUG_ON(td->cpu != smp_processor_id())` (oracle I4), inside a step.
fn bug_on_wrong_cpu(s: &mut S<'_>, kt: usize, where_: &str) {
    let td = s.w.kthreads[kt].td_cpu;
    let cpu = s.w.tasks[s.me].cpu;
    if td != cpu {
        let msg = format!(
            "BUG_ON(td->cpu != smp_processor_id()) in {where_}: td->cpu={td}, running on CPU{cpu}"
        );
        s.w.violate(Oracle::I4, s.me, msg);
    }
}

/// `smpboot_thread_fn(data)` (kernel/smpboot.c, v4.17): spec b.10, steps 1-7. Returns when
/// SHOULD_STOP is seen (the thread then exits).
pub fn smpboot_thread_fn<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    const F: &str = "smpboot_thread_fn";
    let kt = k.lock().kthread_of(me).expect("smpboot thread");
    loop {
        // (Both callers, `thread_body` and `kthread_entry`, only call `do_exit` after this.)
        k.forget(me, "smpboot_thread_fn");
        // 1. set_current_state(TASK_INTERRUPTIBLE).
        set_current_state(k, me, F, TASK_INTERRUPTIBLE)?;
        // 2. preempt_disable().
        k.preempt_disable(me, F)?;
        // 3. if (kthread_should_stop()) { __set_current_state(RUNNING); preempt_enable(); return 0; }
        if test_bit(k, me, F, kt, KTHREAD_SHOULD_STOP)? {
            __set_current_state(k, me, F, TASK_RUNNING)?;
            k.preempt_enable(me, F)?;
            return Ok(());
        }
        // 4. if (kthread_should_park()) { __set(RUNNING); preempt_enable();
        //      if (ht->park && td->status == ACTIVE) { BUG_ON(wrong cpu); ht->park(); status = PARKED; }
        //      kthread_parkme(); continue; }
        if test_bit(k, me, F, kt, KTHREAD_SHOULD_PARK)? {
            __set_current_state(k, me, F, TASK_RUNNING)?;
            k.preempt_enable(me, F)?;
            k.step(me, F, |s| {
                if s.w.kthreads[kt].status == HpStatus::Active {
                    bug_on_wrong_cpu(s, kt, "smpboot_thread_fn park");
                    s.w.kthreads[kt].status = HpStatus::Parked;
                    s.note("ht->park(); td->status = HP_THREAD_PARKED");
                } else {
                    s.note("td->status != HP_THREAD_ACTIVE");
                }
            })?;
            kthread_parkme(k, me)?;
            continue;
        }
        // 5. BUG_ON(td->cpu != smp_processor_id()).
        // 6. switch (td->status): NONE -> setup, PARKED -> unpark; status = ACTIVE; continue.
        let status = k.step(me, F, |s| {
            bug_on_wrong_cpu(s, kt, "smpboot_thread_fn");
            s.w.kthreads[kt].status
        })?;
        if status != HpStatus::Active {
            __set_current_state(k, me, F, TASK_RUNNING)?;
            k.preempt_enable(me, F)?;
            k.step(me, F, |s| {
                s.w.kthreads[kt].status = HpStatus::Active;
                s.note(if status == HpStatus::None {
                    "ht->setup(); status = ACTIVE"
                } else {
                    "ht->unpark(); status = ACTIVE"
                });
            })?;
            continue;
        }
        // 7. if (!ht->thread_should_run()) { preempt_enable_no_resched(); schedule(); }
        //    else { __set(RUNNING); preempt_enable(); ht->thread_fn(); }
        let should_run = k.step(me, F, |s| {
            let w = s.w.kthreads[kt].work;
            s.note(if w > 0 {
                "thread_should_run: yes"
            } else {
                "thread_should_run: no"
            });
            w > 0
        })?;
        if !should_run {
            k.preempt_enable_no_resched(me, F)?;
            schedule(k, me)?;
        } else {
            __set_current_state(k, me, F, TASK_RUNNING)?;
            k.preempt_enable(me, F)?;
            k.step(me, F, |s| {
                s.w.kthreads[kt].work -= 1;
                s.note("ht->thread_fn()");
            })?;
        }
    }
}

/// `stop_machine(take_cpu_down, cpu)` as called by `takedown_cpu` (kernel/cpu.c, spec b.12
/// step 3): wake the dying CPU's stopper and wait until it has run `take_cpu_down`.
pub fn stop_machine_take_cpu_down<P: Platform>(k: &Kernel<P>, me: Tid, cpu: CpuId) -> M<()> {
    let (stopper, done) = {
        let w = k.lock();
        (
            w.rqs[cpu].stopper.expect("hotplug scenario has a stopper"),
            w.completions.len() - 1,
        )
    };
    wake_up_process(k, me, stopper)?;
    wait_for_completion(k, me, done)
}

/// The stopper thread `migration/N` (kernel/stop_machine.c `cpu_stopper_thread`): runs
/// `take_cpu_down` once woken, completes the caller, then sleeps.
pub fn stopper_thread<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    let done = k.lock().completions.len() - 1;
    take_cpu_down(k, me)?;
    complete(k, me, done, false)?;
    loop {
        k.forget(me, "cpu_stopper_thread");
        set_current_state(k, me, "cpu_stopper_thread", TASK_INTERRUPTIBLE)?;
        schedule(k, me)?;
    }
}

/// `take_cpu_down()` -> `sched_cpu_dying()` -> `migrate_tasks()` (kernel/cpu.c,
/// kernel/sched/core.c): with every other CPU stopped (one step, all rq locks held), mark the
/// CPU inactive and offline and move every task still QUEUED on it to a fallback CPU, widening
/// a bound task's affinity when no allowed CPU is active (spec b.12 step 3).
pub fn take_cpu_down<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    const F: &str = "take_cpu_down";
    let n = k.lock().rqs.len();
    for c in 0..n {
        k.spin_lock(me, F, LockId::Rq(c), Irq::Disable)?;
    }
    k.step(me, F, |s| {
        let dying = s.w.tasks[s.me].cpu;
        s.w.rqs[dying].active = false;
        s.w.rqs[dying].online = false;
        s.note("set_cpu_active(false); set_cpu_online(false)");
        let movers: Vec<Tid> = s.w.rqs[dying]
            .queue
            .iter()
            .copied()
            .filter(|&t| t != s.me)
            .collect();
        for t in movers {
            // select_fallback_rq(): an allowed active CPU, else affinity broken.
            let dest = select_fallback_rq(s, t);
            s.w.rqs[dying].queue.retain(|&q| q != t);
            s.w.tasks[t].cpu = dest;
            s.rec(What::SetCpu { task: t, cpu: dest });
            s.w.rqs[dest].queue.push_back(t);
            let curr = s.w.rqs[dest].curr;
            if curr == s.w.rqs[dest].idle {
                s.resched(curr);
            }
        }
    })?;
    for c in (0..n).rev() {
        k.spin_unlock(me, F, LockId::Rq(c), Irq::Disable)?;
    }
    Ok(())
}

/// Bring a CPU back (`bringup_cpu` + `smpboot_unpark_threads`): mark it online and active,
/// then `kthread_unpark` its smpboot thread.
pub fn cpu_online<P: Platform>(k: &Kernel<P>, me: Tid, cpu: CpuId, kt: usize) -> M<()> {
    k.step(me, "bringup_cpu", |s| {
        s.w.rqs[cpu].online = true;
        s.w.rqs[cpu].active = true;
        s.note("set_cpu_online(true); set_cpu_active(true)");
    })?;
    kthread_unpark(k, me, kt, UnparkFrom::Caller)
}
