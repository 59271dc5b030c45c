//! smpboot threads and CPU hotplug: `kernel/smpboot.c` `smpboot_thread_fn` (model.md b.10) and the
//! parts of `kernel/cpu.c` / `kernel/sched/core.c` that take a CPU down (model.md b.12).

use super::completion::{complete, wait_for_completion};
use super::kthread::{__kthread_parkme, UnparkFrom, kthread_unpark, test_bit};
use super::sched::*;
use crate::oracle::Oracle;
use crate::runtime::trace::What;
use crate::runtime::world::*;
use crate::runtime::{Current, Irq, M, S};

/// `BUG_ON(td->cpu != smp_processor_id())` (oracle I4), inside a step.
fn bug_on_wrong_cpu(s: &mut S<'_>, kt: usize, where_: &str) {
    let me = s.me();
    let td = s.kthread_fields(kt).td_cpu;
    let cpu = s.task_fields(me).cpu;
    if td != cpu {
        let msg = format!(
            "BUG_ON(td->cpu != smp_processor_id()) in {where_}: td->cpu={td}, running on CPU{cpu}"
        );
        s.violate(Oracle::I4, msg);
    }
}

/// `smpboot_thread_fn(data)` (kernel/smpboot.c, v4.17): model.md b.10, steps 1-7. Returns when
/// SHOULD_STOP is seen (the thread then exits).
pub fn smpboot_thread_fn(cur: Current<'_>) -> M<()> {
    const F: &str = "smpboot_thread_fn";
    let kt = cur.kthread();
    loop {
        // (Both callers, the harness's `thread_body` and `kthread`, only call `do_exit` after this.)
        cur.forget("smpboot_thread_fn");
        // 1. set_current_state(TASK_INTERRUPTIBLE).
        set_current_state(cur, F, TASK_INTERRUPTIBLE, cur.variant().mb_smpboot)?;
        // 2. preempt_disable().
        cur.preempt_disable(F)?;
        // 3. if (kthread_should_stop()) { __set_current_state(RUNNING); preempt_enable(); return 0; }
        if test_bit(cur, F, kt, KTHREAD_SHOULD_STOP)? {
            __set_current_state(cur, F, TASK_RUNNING)?;
            cur.preempt_enable(F)?;
            return Ok(());
        }
        // 4. if (kthread_should_park()) { __set(RUNNING); preempt_enable();
        //      if (ht->park && td->status == ACTIVE) { BUG_ON(wrong cpu); ht->park(); status = PARKED; }
        //      kthread_parkme(); continue; }
        if test_bit(cur, F, kt, KTHREAD_SHOULD_PARK)? {
            __set_current_state(cur, F, TASK_RUNNING)?;
            cur.preempt_enable(F)?;
            cur.step(F, |s| {
                if s.kthread_fields(kt).status == HpStatus::Active {
                    bug_on_wrong_cpu(s, kt, "smpboot_thread_fn park");
                    s.kthread_fields_mut(kt).status = HpStatus::Parked;
                    s.note("ht->park(); td->status = HP_THREAD_PARKED");
                } else {
                    s.note("td->status != HP_THREAD_ACTIVE");
                }
            })?;
            __kthread_parkme(cur)?;
            continue;
        }
        // 5. BUG_ON(td->cpu != smp_processor_id()).
        // 6. switch (td->status): NONE -> setup, PARKED -> unpark; status = ACTIVE; continue.
        let status = cur.step(F, |s| {
            bug_on_wrong_cpu(s, kt, "smpboot_thread_fn");
            s.kthread_fields(kt).status
        })?;
        if status != HpStatus::Active {
            __set_current_state(cur, F, TASK_RUNNING)?;
            cur.preempt_enable(F)?;
            cur.step(F, |s| {
                s.kthread_fields_mut(kt).status = HpStatus::Active;
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
        let should_run = cur.step(F, |s| {
            let w = s.kthread_fields(kt).work;
            s.note(if w > 0 {
                "thread_should_run: yes"
            } else {
                "thread_should_run: no"
            });
            w > 0
        })?;
        if !should_run {
            cur.preempt_enable_no_resched(F)?;
            schedule(cur)?;
        } else {
            __set_current_state(cur, F, TASK_RUNNING)?;
            cur.preempt_enable(F)?;
            cur.step(F, |s| {
                s.kthread_fields_mut(kt).work -= 1;
                s.note("ht->thread_fn()");
            })?;
        }
    }
}

/// `stop_machine(take_cpu_down, cpu)` as called by `takedown_cpu` (kernel/cpu.c, model.md b.12
/// step 3): wake the dying CPU's stopper and wait until it has run `take_cpu_down`.
pub fn stop_machine_take_cpu_down(cur: Current<'_>, cpu: CpuId) -> M<()> {
    let stopper = cur.cast().stopper.expect("hotplug scenario has a stopper");
    debug_assert_eq!(
        cpu,
        cur.kthread_ids(0).cpu,
        "the stopper of the kthread's CPU"
    );
    let done = cur.cast().stop_done;
    wake_up_process(cur, stopper)?;
    wait_for_completion(cur, done)
}

/// The stopper thread `migration/N` (kernel/stop_machine.c `cpu_stopper_thread`): runs
/// `take_cpu_down` once woken, completes the caller, then sleeps.
pub fn stopper_thread(cur: Current<'_>) -> M<()> {
    let done = cur.cast().stop_done;
    take_cpu_down(cur)?;
    complete(cur, done, false)?;
    loop {
        cur.forget("cpu_stopper_thread");
        set_current_state(cur, "cpu_stopper_thread", TASK_INTERRUPTIBLE, true)?;
        schedule(cur)?;
    }
}

/// `take_cpu_down()` -> `sched_cpu_dying()` -> `migrate_tasks()` (kernel/cpu.c,
/// kernel/sched/core.c): with every other CPU stopped (one step, all rq locks held), mark the
/// CPU inactive and offline and move every task still QUEUED on it to a fallback CPU, widening
/// a bound task's affinity when no allowed CPU is active (model.md b.12 step 3).
pub fn take_cpu_down(cur: Current<'_>) -> M<()> {
    const F: &str = "take_cpu_down";
    let n = cur.cast().idle.len();
    for c in 0..n {
        cur.spin_lock(F, LockId::Rq(c), Irq::Disable)?;
    }
    cur.step(F, |s| {
        let me = s.me();
        let k = s.kernel();
        let dying = k.tasks[me].cpu;
        k.rqs[dying].active = false;
        k.rqs[dying].online = false;
        s.note("set_cpu_active(false); set_cpu_online(false)");
        let movers: Vec<Tid> = s
            .rq(dying)
            .queue
            .iter()
            .copied()
            .filter(|&t| t != me)
            .collect();
        for t in movers {
            // select_fallback_rq(): an allowed active CPU, else affinity broken.
            let dest = select_fallback_rq(s, t);
            let k = s.kernel();
            k.rqs[dying].queue.retain(|&q| q != t);
            k.tasks[t].cpu = dest;
            s.rec(What::SetCpu { task: t, cpu: dest });
            let k = s.kernel();
            k.rqs[dest].queue.push_back(t);
            let curr = k.rqs[dest].curr;
            if curr == k.rqs[dest].idle {
                s.resched(curr);
            }
        }
    })?;
    for c in (0..n).rev() {
        cur.spin_unlock(F, LockId::Rq(c), Irq::Disable)?;
    }
    Ok(())
}

/// Bring a CPU back (kernel/cpu.c): `bringup_cpu` marks it online; the hotplug state
/// `CPUHP_AP_SMPBOOT_THREADS` (`smpboot_unpark_threads`) unparks its smpboot thread while the
/// CPU is online but not yet active, the window where `is_cpu_allowed` lets only per-CPU
/// kthreads on it; `CPUHP_AP_ACTIVE` (`sched_cpu_activate`) then marks it active.
pub fn cpu_online(cur: Current<'_>, cpu: CpuId, kt: usize) -> M<()> {
    cur.step("bringup_cpu", |s| {
        s.rq_mut(cpu).online = true;
        s.note("set_cpu_online(true)");
    })?;
    kthread_unpark(cur, kt, UnparkFrom::Caller)?;
    cur.step("sched_cpu_activate", |s| {
        s.rq_mut(cpu).active = true;
        s.note("set_cpu_active(true)");
    })
}
