//! The scheduler pieces the park protocol leans on, from `kernel/sched/core.c` (v4.15-v4.19,
//! model.md 0.2): task state setters (b.1), `try_to_wake_up` (b.2), preemption (b.3), the schedule
//! family (b.4), `__schedule` / `finish_task_switch` (b.5) and `wait_task_inactive` (b.6).
//!
//! Every numbered step of model.md is one call to [`Current::step`]; lock acquisitions and
//! releases are steps of their own.

use crate::oracle::Oracle;
use crate::runtime::trace::What;
use crate::runtime::world::*;
use crate::runtime::{Current, Irq, M, PICK_ODDS, S, WAKEUP_PREEMPT_ODDS};
use crate::variant::Completer;

// ---- b.1 state setters ----

/// `set_current_state(S)` (include/linux/sched.h): `smp_store_mb(current->state, S)`, a
/// `WRITE_ONCE` and a full fence, one step (model.md b.1); `mb` is the fence's barrier switch
/// (model.md m.2).
pub fn set_current_state(cur: Current<'_>, func: &'static str, st: u32, mb: bool) -> M<()> {
    cur.step(func, |s| {
        s.task(s.me()).set_state(st, St::Once);
        if mb {
            s.fence(Fence::Mb, "smp_mb() of set_current_state");
        }
    })
}

/// `__set_current_state(S)` (include/linux/sched.h): plain store, one step (model.md b.1).
pub fn __set_current_state(cur: Current<'_>, func: &'static str, st: u32) -> M<()> {
    cur.step(func, |s| s.task(s.me()).set_state(st, St::Plain))
}

/// `set_special_state(S)` (include/linux/sched.h): the store under `pi_lock` with interrupts
/// off, serialised against any `try_to_wake_up` of this task (model.md b.1).
pub fn set_special_state(cur: Current<'_>, func: &'static str, st: u32) -> M<()> {
    let me = cur.me();
    cur.spin_lock(func, LockId::Pi(me), Irq::Save)?;
    cur.step(func, |s| s.task(me).set_state(st, St::Plain))?;
    cur.spin_unlock(func, LockId::Pi(me), Irq::Save)
}

// ---- b.2 wakeups ----

/// `wake_up_process(p)` (kernel/sched/core.c) = `try_to_wake_up(p, TASK_NORMAL)` (model.md b.2).
/// Returns nothing: every caller in the model drops the kernel's return value, and a result
/// the thread kept would keep states apart for nothing (docs/model.md s.1).
pub fn wake_up_process(cur: Current<'_>, p: Tid) -> M<()> {
    cur.discard("wake_up_process", || try_to_wake_up(cur, p, TASK_NORMAL))
}

/// `wake_up_state(p, state)` (kernel/sched/core.c) = `try_to_wake_up(p, state)` (model.md b.2).
/// Returns nothing, as [`wake_up_process`].
pub fn wake_up_state(cur: Current<'_>, p: Tid, state: u32) -> M<()> {
    cur.discard("wake_up_state", || try_to_wake_up(cur, p, state))
}

/// Oracle I5 at a ttwu store: the store would overwrite a PARKED that the target stored after
/// this ttwu's state check.
fn check_stale_store(s: &mut S<'_>, p: Tid, what: &str) {
    if s.task_fields(p).state == TASK_PARKED && !s.check_is_fresh(p) {
        let msg = format!(
            "{} stores {what} over {}'s TASK_PARKED stored after its state check",
            s.task_fields(s.me()).name,
            s.task_fields(p).name
        );
        s.violate(Oracle::I5, msg);
    }
}

/// `try_to_wake_up(p, state, 0)` (kernel/sched/core.c, v4.15-v4.19): model.md b.2, steps 1-9.
/// Returns whether the state matched (not whether the task was enqueued).
pub fn try_to_wake_up(cur: Current<'_>, p: Tid, state: u32) -> M<bool> {
    cur.summarize("try_to_wake_up", || {
        const F: &str = "try_to_wake_up";
        let v = cur.variant();
        // 1. raw_spin_lock_irqsave(&p->pi_lock); smp_mb__after_spinlock().
        cur.spin_lock_mb(F, LockId::Pi(p), Irq::Save, v.mb_ttwu)?;
        // 2. if (!(p->state & state)) goto out.
        let matched = cur.step(F, |s| {
            let st = s.task(p).state(Ld::Plain);
            s.begin_check(p);
            st & state != 0
        })?;
        if matched {
            // 3. smp_rmb(); if (p->on_rq && ttwu_remote(p, wake_flags)) goto stat.
            let on_rq = cur.step(F, |s| {
                if v.rmb_ttwu_on_rq {
                    s.fence(Fence::Rmb, "smp_rmb()");
                }
                s.task(p).on_rq(Ld::Plain)
            })?;
            let woken = on_rq != 0 && ttwu_remote(cur, p)?;
            if !woken && v.wakelist {
                ttwu_wakelist_path(cur, p)?;
            } else if !woken {
                // 4. smp_rmb(); smp_cond_load_acquire(&p->on_cpu, !VAL).
                smp_cond_load_acquire_on_cpu(cur, p, v.rmb_ttwu_on_cpu)?;
                // 5. p->state = TASK_WAKING.
                cur.step(F, |s| {
                    check_stale_store(s, p, "TASK_WAKING");
                    s.task(p).set_state(TASK_WAKING, St::Plain)
                })?;
                // 6. cpu = select_task_rq(p, ...); set_task_cpu(p, cpu) if it differs.
                let cpu = cur.step("select_task_rq", |s| select_task_rq(s, p))?;
                // 7. ttwu_queue(p, cpu): activate under the target's rq lock.
                ttwu_queue(cur, p, cpu)?;
            }
            // 8. (ttwu_stat: statistics only, no shared effect.)
        }
        // 9. raw_spin_unlock_irqrestore(&p->pi_lock).
        cur.step(F, |s| {
            s.end_check(p);
            s.unlock(LockId::Pi(p), Irq::Save)
        })?;
        debug_assert!(
            !cur.holds_check(p),
            "try_to_wake_up left its I5 check behind"
        );
        Ok(matched)
    })
}

/// `__task_rq_lock(p)` (kernel/sched/sched.h): lock `task_rq(p)`, retrying if p moved
/// (model.md b.2 step 3.1). Interrupts are already off (pi_lock held). Returns the CPU.
pub fn __task_rq_lock(cur: Current<'_>, func: &'static str, p: Tid) -> M<CpuId> {
    let entry = cur.entry();
    loop {
        cur.restart(entry, "__task_rq_lock: for (;;)");
        let c = cur.step(func, |s| {
            let c = s.task_fields(p).cpu;
            s.note("rq = task_rq(p)");
            c
        })?;
        cur.spin_lock(func, LockId::Rq(c), Irq::Keep)?;
        let ok = cur.step(func, |s| {
            let t = s.task_fields(p);
            let ok = t.cpu == c && t.on_rq != ON_RQ_MIGRATING;
            if !ok {
                s.note("task moved: retry");
            }
            ok
        })?;
        if ok {
            return Ok(c);
        }
        cur.spin_unlock(func, LockId::Rq(c), Irq::Keep)?;
    }
}

/// `ttwu_remote(p)` (kernel/sched/core.c): model.md b.2 steps 3.1-3.3. True if p was still
/// queued and has been made RUNNING.
fn ttwu_remote(cur: Current<'_>, p: Tid) -> M<bool> {
    const F: &str = "ttwu_remote";
    // 3.1 rq = __task_rq_lock(p).
    let c = __task_rq_lock(cur, F, p)?;
    // 3.2 if (task_on_rq_queued(p)) ttwu_do_wakeup(): check_preempt_curr(); p->state = RUNNING.
    //     ttwu_runnable (v6.12): a `sched_delayed` task is requeued first
    //     (`enqueue_task(ENQUEUE_DELAYED)`, rq-lock-protected state only).
    let queued = cur.step(F, |s| {
        let q = s.task(p).on_rq(Ld::Plain) == ON_RQ_QUEUED;
        if q {
            if s.task_fields(p).sched_delayed {
                s.task_fields_mut(p).sched_delayed = false;
                s.rec(What::Delayed {
                    task: p,
                    delayed: false,
                });
            }
            check_preempt_curr(s, c, p);
            check_stale_store(s, p, "TASK_RUNNING");
            s.task(p).set_state(TASK_RUNNING, St::Plain);
        }
        q
    })?;
    // 3.2/3.3 __task_rq_unlock(rq).
    cur.spin_unlock(F, LockId::Rq(c), Irq::Keep)?;
    Ok(queued)
}

/// `is_cpu_allowed(p, cpu)` (kernel/sched/core.c, v4.17): per-cpu kthreads may use an
/// online CPU, other tasks need an active one.
fn is_cpu_allowed(s: &S<'_>, p: Tid, cpu: CpuId) -> bool {
    let t = s.task_fields(p);
    if t.allowed & (1 << cpu) == 0 {
        return false;
    }
    let per_cpu_kthread =
        matches!(t.kind, Kind::Kthread(_) | Kind::Stopper) && t.allowed.count_ones() == 1;
    if per_cpu_kthread {
        s.rq(cpu).online
    } else {
        s.rq(cpu).active
    }
}

/// `select_fallback_rq(cpu, p)` (kernel/sched/core.c): an allowed active CPU, else widen the
/// affinity to every CPU (affinity broken, model.md b.12) and take an active one.
pub fn select_fallback_rq(s: &mut S<'_>, p: Tid) -> CpuId {
    let n = s.sizes().0;
    let allowed = s.task_fields(p).allowed;
    if let Some(c) = (0..n).find(|&c| allowed & (1 << c) != 0 && s.rq(c).active) {
        return c;
    }
    let all = (1u64 << n) - 1;
    s.task_fields_mut(p).allowed = all;
    s.rec(What::Affinity { task: p, mask: all });
    (0..n).find(|&c| s.rq(c).active).unwrap_or(0)
}

/// `select_task_rq(p)` + `set_task_cpu(p, cpu)` (kernel/sched/core.c): model.md b.2 step 6.
/// Keeps `task_cpu(p)` when allowed (the wake-affine choice is not modelled), else the first
/// allowed CPU, else the fallback.
pub fn select_task_rq(s: &mut S<'_>, p: Tid) -> CpuId {
    let n = s.sizes().0;
    let prev = s.task_fields(p).cpu;
    let cpu = if is_cpu_allowed(s, p, prev) {
        prev
    } else if let Some(c) = (0..n).find(|&c| is_cpu_allowed(s, p, c)) {
        c
    } else {
        select_fallback_rq(s, p)
    };
    if cpu != prev {
        s.task_fields_mut(p).cpu = cpu;
        s.rec(What::SetCpu { task: p, cpu });
    } else {
        s.note("select_task_rq: task_cpu(p)");
    }
    cpu
}

/// `smp_cond_load_acquire(&p->on_cpu, !VAL)` in `try_to_wake_up` (model.md b.2 step 4): one
/// step per iteration, a READ_ONCE each, the first after an `smp_rmb()` when `rmb` (v4.x); the
/// exit's `smp_acquire__after_ctrl_dep()` (`acq_ttwu_on_cpu`) in the step that sees 0.
fn smp_cond_load_acquire_on_cpu(cur: Current<'_>, p: Tid, rmb: bool) -> M<()> {
    const F: &str = "try_to_wake_up";
    let acq = cur.variant().acq_ttwu_on_cpu;
    let mut first = true;
    loop {
        let on_cpu = cur.step(F, |s| {
            if first && rmb {
                s.fence(Fence::Rmb, "smp_rmb()");
            }
            let on = s.task(p).on_cpu(Ld::Once);
            if !on && acq {
                s.fence(Fence::Rmb, "smp_acquire__after_ctrl_dep()");
            }
            on
        })?;
        first = false;
        if !on_cpu {
            return Ok(());
        }
        cur.wait_until(WaitFor::OnCpuClear(p))?;
    }
}

/// Steps 5-7 of `try_to_wake_up` from v5.8 (`wakelist`, c6e7bd7afaeb; model.md 0.3): store
/// WAKING first, then, if p is still `on_cpu` and `ttwu_queue_cond` allows, queue the wakeup on
/// p's CPU and return (its IPI activates p); else wait for `on_cpu == 0`, select a CPU and
/// `ttwu_queue`, which may also use the wake list (an idle target).
fn ttwu_wakelist_path(cur: Current<'_>, p: Tid) -> M<()> {
    const F: &str = "try_to_wake_up";
    let v = cur.variant();
    // smp_acquire__after_ctrl_dep(); WRITE_ONCE(p->__state, TASK_WAKING).
    cur.step(F, |s| {
        if v.rmb_ttwu_on_cpu {
            s.fence(Fence::Rmb, "smp_acquire__after_ctrl_dep()");
        }
        check_stale_store(s, p, "TASK_WAKING");
        s.task(p).set_state(TASK_WAKING, St::Once)
    })?;
    // if (smp_load_acquire(&p->on_cpu) && ttwu_queue_wakelist(p, task_cpu(p))) goto unlock;
    let ld = if v.acq_ttwu_on_cpu {
        Ld::Acquire
    } else {
        Ld::Once
    };
    if cur.step(F, |s| s.task(p).on_cpu(ld))? {
        // ttwu_queue_wakelist(p, task_cpu(p)): task_cpu is loaded after on_cpu, then the
        // condition reads the target runqueue (lockless), a step of its own.
        let target = cur.step("ttwu_queue_wakelist", |s| {
            let cpu = s.task_fields(p).cpu;
            ttwu_queue_cond(s, p, cpu).then_some(cpu)
        })?;
        if let Some(cpu) = target {
            return ttwu_queue_wakelist(cur, p, cpu);
        }
    }
    // smp_cond_load_acquire(&p->on_cpu, !VAL) (no smp_rmb before it in this order).
    smp_cond_load_acquire_on_cpu(cur, p, false)?;
    let cpu = cur.step("select_task_rq", |s| select_task_rq(s, p))?;
    // ttwu_queue(): if (ttwu_queue_wakelist(p, cpu)) return; else activate inline.
    if cur.step("ttwu_queue", |s| ttwu_queue_cond(s, p, cpu))? {
        return ttwu_queue_wakelist(cur, p, cpu);
    }
    ttwu_queue(cur, p, cpu)
}

/// `ttwu_queue_cond(p, cpu)` (kernel/sched/core.c, v6.x): queue the wakeup on `cpu`'s wake
/// list if `cpu` is active and allowed, is not the waker's CPU (every CPU of the model shares
/// its cache; an interrupt-context waker runs on no modelled CPU), and is idle
/// (`nr_running == 0`, a `sched_delayed` task counting as running).
fn ttwu_queue_cond(s: &mut S<'_>, p: Tid, cpu: CpuId) -> bool {
    let me = s.me();
    if !s.rq(cpu).active || s.task_fields(p).allowed & (1 << cpu) == 0 {
        return false;
    }
    let t = s.task_fields(me);
    if t.is_task() && t.cpu == cpu {
        return false;
    }
    s.rq(cpu).queue.is_empty()
}

/// `__ttwu_queue_wakelist(p, cpu)` (kernel/sched/core.c): `llist_add` to the CPU's list and
/// send it the IPI. p stays WAKING, off the runqueue, until `sched_ttwu_pending` runs there.
/// (`rq->ttwu_pending`, set here and cleared by the IPI, is read only by the idle and NOHZ
/// paths, which the model does not have: it is not kept.)
fn ttwu_queue_wakelist(cur: Current<'_>, p: Tid, cpu: CpuId) -> M<()> {
    cur.step("__ttwu_queue_wakelist", |s| {
        s.rq_mut(cpu).wake_list.push_back(p);
        s.note("queue the wakeup on the target's wake list, send the IPI");
    })
}

/// The IPI of `ttwu_queue_wakelist` (kernel/sched/core.c `sched_ttwu_pending`), an
/// interrupt-context agent: once a CPU with queued wakeups can take the interrupt (rq lock
/// free, interrupts on), activate them under its rq lock.
pub fn ipi_agent(cur: Current<'_>) -> M<()> {
    const F: &str = "sched_ttwu_pending";
    loop {
        cur.forget("ipi_agent");
        cur.wait_until(WaitFor::TtwuPending)?;
        let Some(cpu) = cur.step(F, |s| s.ipi_cpu())? else {
            continue;
        };
        cur.spin_lock(F, LockId::Rq(cpu), Irq::Save)?;
        loop {
            // WARN_ON_ONCE(p->on_cpu); WARN_ON_ONCE(task_cpu(p) != cpu_of(rq)).
            let p = cur.step(F, |s| {
                let p = s.rq_mut(cpu).wake_list.pop_front()?;
                let t = s.task_fields(p);
                if t.on_cpu || t.cpu != cpu {
                    let msg = format!(
                        "sched_ttwu_pending on CPU{cpu}: {} is on_cpu={} on CPU{}",
                        t.name, t.on_cpu as u8, t.cpu
                    );
                    s.model_bug(msg);
                }
                Some(p)
            })?;
            let Some(p) = p else { break };
            ttwu_do_activate(cur, p, cpu)?;
        }
        cur.spin_unlock(F, LockId::Rq(cpu), Irq::Save)?;
    }
}

/// `ttwu_queue(p, cpu)` -> `ttwu_do_activate` (kernel/sched/core.c): model.md b.2 step 7,
/// inline under the target's rq lock.
fn ttwu_queue(cur: Current<'_>, p: Tid, cpu: CpuId) -> M<()> {
    const F: &str = "ttwu_do_activate";
    cur.spin_lock(F, LockId::Rq(cpu), Irq::Keep)?;
    ttwu_do_activate(cur, p, cpu)?;
    cur.spin_unlock(F, LockId::Rq(cpu), Irq::Keep)
}

/// `ttwu_do_activate(rq, p)` (kernel/sched/core.c), the caller holding `cpu`'s rq lock:
/// `activate_task` (enqueue, `on_rq = QUEUED`), then `ttwu_do_wakeup` (`check_preempt_curr`,
/// `state = RUNNING`), one step each.
fn ttwu_do_activate(cur: Current<'_>, p: Tid, cpu: CpuId) -> M<()> {
    const F: &str = "ttwu_do_activate";
    // activate_task(): enqueue, p->on_rq = TASK_ON_RQ_QUEUED.
    cur.step(F, |s| {
        if s.task_fields(p).on_cpu {
            let msg = format!("ttwu enqueues {} while it is on_cpu", s.task_fields(p).name);
            s.model_bug(msg);
        }
        s.rq_mut(cpu).queue.push_back(p);
        s.task(p).set_on_rq(ON_RQ_QUEUED, St::Plain);
    })?;
    // ttwu_do_wakeup(): check_preempt_curr(); p->state = TASK_RUNNING.
    cur.step("ttwu_do_wakeup", |s| {
        check_preempt_curr(s, cpu, p);
        s.task(p).set_state(TASK_RUNNING, St::Plain);
    })
}

/// `check_preempt_curr(rq, p)` (kernel/sched/core.c): decide whether the woken task preempts
/// the CPU's current task. Idle always yields; the stopper always preempts; otherwise (CFS's
/// vruntime is not modelled) a controlled choice under CONFIG_PREEMPT, within the budget.
fn check_preempt_curr(s: &mut S<'_>, cpu: CpuId, p: Tid) {
    let (curr, idle) = (s.rq(cpu).curr, s.rq(cpu).idle);
    if curr == p {
        return;
    }
    if curr == idle || s.task_fields(p).kind == Kind::Stopper {
        s.resched(curr);
        return;
    }
    if s.preempt_choice(WAKEUP_PREEMPT_ODDS) {
        s.resched(curr);
    }
}

// ---- b.3 / b.4 preemption and the schedule family ----

/// `preempt_schedule_irq()` / `preempt_schedule()` (kernel/sched/core.c): involuntary
/// `__schedule(true)` at a preemption point (model.md b.3). `tick` marks an injected tick.
pub fn preempt_schedule_irq(cur: Current<'_>, tick: bool) -> M<()> {
    // No summary of its own: when it returns, `Current::boundary` sets the thread's
    // fingerprint back to what it was before the preemption (docs/model.md s.1).
    const F: &str = "preempt_schedule_irq";
    // Whether a tick was drawn is known only to this thread until the step below runs.
    cur.carry(tick);
    cur.raw_step(F, |s| {
        s.rec(What::Preempt { tick });
        let me = s.me();
        if tick {
            s.task_fields_mut(me).need_resched = true;
        }
        s.preempt_count_add();
        s.set_spd_gap(false);
    })?;
    loop {
        __schedule(cur, true)?;
        let again = cur.step(F, |s| {
            let me = s.me();
            s.preempt_count_sub();
            let nr = s.task_fields(me).need_resched;
            if nr {
                s.preempt_count_add();
            }
            nr
        })?;
        if !again {
            return Ok(());
        }
    }
}

/// `schedule()` (kernel/sched/core.c): `do { preempt_disable(); __schedule(false);
/// sched_preempt_enable_no_resched(); } while (need_resched())` (model.md b.4).
pub fn schedule(cur: Current<'_>) -> M<()> {
    cur.summarize("schedule", || {
        const F: &str = "schedule";
        let entry = cur.entry();
        loop {
            cur.restart(entry, "schedule: do while (need_resched())");
            cur.step(F, |s| {
                s.preempt_count_add();
                s.set_spd_gap(false);
                s.note("preempt_disable");
            })?;
            __schedule(cur, false)?;
            let again = cur.step(F, |s| {
                let me = s.me();
                s.preempt_count_sub();
                s.task_fields(me).need_resched
            })?;
            if !again {
                return Ok(());
            }
        }
    })
}

/// `schedule_preempt_disabled()` (kernel/sched/core.c): count to 0 without a check,
/// schedule(), count back to 1. The boundary between the first step and schedule()'s
/// preempt_disable is the h.5 gap (IRQ-return preemption there only with the scenario's
/// `irq_gap` knob).
pub fn schedule_preempt_disabled(cur: Current<'_>) -> M<()> {
    const F: &str = "schedule_preempt_disabled";
    cur.step(F, |s| {
        s.preempt_count_sub();
        s.set_spd_gap(true);
        s.note("sched_preempt_enable_no_resched");
    })?;
    schedule(cur)?;
    cur.preempt_disable(F)
}

/// A CFS pick among `n > 1` runnable fair tasks: CFS (v4.x vruntime order) and EEVDF (v6.6+,
/// eligible earliest deadline) can produce any order, so the order is a controlled choice
/// (model.md b.5 step 4): candidate 0 unless a draw passes it over (probability
/// 1/[`PICK_ODDS`] each), one draw per candidate passed (a zero draw keeps the FIFO order the
/// model had before).
fn pick_fair(s: &mut S<'_>, n: usize) -> usize {
    let mut i = 0;
    while i + 1 < n && s.choose(PICK_ODDS) {
        i += 1;
    }
    i
}

/// `pick_next_task(rq, prev)` (kernel/sched/core.c): the stopper first (stop class), then a
/// fair task (the runqueue in FIFO order with prev last, the order a controlled choice), then
/// idle. A `sched_delayed` task picked is dequeued and the pick goes again (EEVDF's
/// `pick_next_entity`, v6.12): one step per pick. Returns the task picked.
fn pick_next_task(cur: Current<'_>, cpu: CpuId, prev: Tid) -> M<Tid> {
    loop {
        let (next, delayed) = cur.step("pick_next_task", |s| {
            s.task_fields_mut(prev).need_resched = false;
            let rq = s.rq(cpu);
            if let Some(st) = rq.stopper
                && rq.queue.contains(&st)
            {
                s.note("next = the stopper");
                return (st, false);
            }
            let mut cands: Vec<Tid> = rq.queue.iter().copied().filter(|&t| t != prev).collect();
            if rq.queue.contains(&prev) {
                cands.push(prev);
            }
            if cands.is_empty() {
                let idle = rq.idle;
                s.note("next = idle");
                return (idle, false);
            }
            let i = if cands.len() > 1 {
                pick_fair(s, cands.len())
            } else {
                0
            };
            let n = cands[i];
            for &t in cands.iter().filter(|&&t| t != n) {
                s.passed_over(t);
            }
            let delayed = s.task_fields(n).sched_delayed;
            s.note(if delayed {
                "picked a sched_delayed task: dequeue it"
            } else if i > 0 {
                "next = a task after the first queued (CFS order)"
            } else if n == prev {
                "next = prev"
            } else {
                "next = another task"
            });
            (n, delayed)
        })?;
        if !delayed {
            return Ok(next);
        }
        // dequeue_entities(DEQUEUE_SLEEP | DEQUEUE_DELAYED) -> __block_task(): the delayed
        // task leaves the runqueue; the pick goes again.
        cur.step("pick_next_entity", |s| dequeue_delayed(s, cpu, next))?;
    }
}

/// `dequeue_task(rq, p, DEQUEUE_SLEEP | DEQUEUE_DELAYED)` of a `sched_delayed` task and its
/// `__block_task()` (kernel/sched/fair.c, core.c, v6.12): off the runqueue,
/// `smp_store_release(&p->on_rq, 0)`.
pub fn dequeue_delayed(s: &mut S<'_>, cpu: CpuId, p: Tid) {
    s.task_fields_mut(p).sched_delayed = false;
    s.rq_mut(cpu).queue.retain(|&t| t != p);
    s.task(p).set_on_rq(0, St::Release);
    s.rec(What::Delayed {
        task: p,
        delayed: false,
    });
}

/// `is_special_task_state(state)` (include/linux/sched.h): the states that block with
/// `DEQUEUE_SPECIAL` and are never delayed (e1459a50ba31, v6.12; of them the model has PARKED,
/// DEAD and WAKING).
fn is_special_task_state(st: u32) -> bool {
    st & (TASK_PARKED | TASK_DEAD | TASK_WAKING) != 0
}

/// `block_task(rq, prev, DEQUEUE_SLEEP)` in `__schedule` (kernel/sched/core.c; model.md b.5
/// step 3): off the runqueue, unless EEVDF's delayed dequeue (v6.12, `delayed_dequeue`) keeps a
/// task that is not eligible queued as `sched_delayed`. Eligibility is vruntime arithmetic
/// the model does not keep: a controlled choice whenever another fair task that is not itself
/// delayed is queued on the CPU. A task alone on its cfs_rq is its own average, so it is always
/// eligible; and if every other queued entity is delayed, each of them lies above the average,
/// so this one lies at or below it and is eligible too.
fn block_task(s: &mut S<'_>, cpu: CpuId, me: Tid, st: u32, delayed_dequeue: bool) {
    let queued: Vec<Tid> = s.rq(cpu).queue.iter().copied().collect();
    let others = queued.into_iter().any(|t| {
        let q = s.task_fields(t);
        t != me && q.is_fair() && !q.sched_delayed
    });
    if delayed_dequeue
        && s.task_fields(me).is_fair()
        && !is_special_task_state(st)
        && others
        && s.choose(2)
    {
        s.task_fields_mut(me).sched_delayed = true;
        s.rec(What::Delayed {
            task: me,
            delayed: true,
        });
        return;
    }
    s.rq_mut(cpu).queue.retain(|&t| t != me);
    let ord = if delayed_dequeue {
        St::Release
    } else {
        St::Plain
    };
    s.task(me).set_on_rq(0, ord);
}

/// `__schedule(preempt)` (kernel/sched/core.c): model.md b.5 steps 1-6 by prev; after the
/// switch, prev is off its CPU until a later switch picks it, and then runs step 7
/// ([`finish_task_switch`]) for the task that switched to it. A task switching out as DEAD
/// never comes back: returns at once.
pub fn __schedule(cur: Current<'_>, preempt: bool) -> M<()> {
    cur.summarize("__schedule", || {
        const F: &str = "__schedule";
        let me = cur.me();
        let cpu = cur.task_cpu(me);
        // 1. local_irq_disable(); rq_lock(rq); smp_mb__after_spinlock().
        cur.spin_lock_mb(F, LockId::Rq(cpu), Irq::Disable, cur.variant().mb_schedule)?;
        // 2. prev = rq->curr.
        cur.step(F, |s| s.note("prev = rq->curr"))?;
        // 3. if (!preempt && prev->state): deactivate_task / block_task (signal_pending_state
        //    is never true for the states modelled: no signals are sent).
        let delayed_dequeue = cur.variant().delayed_dequeue;
        cur.step(F, |s| {
            let st = s.task(me).state(Ld::Plain);
            if !preempt && st != TASK_RUNNING {
                block_task(s, cpu, me, st, delayed_dequeue);
            }
        })?;
        // 4. next = pick_next_task(rq, prev); clear_tsk_need_resched(prev).
        let next = pick_next_task(cur, cpu, me)?;
        if next == me {
            // 5. rq_unlock_irq(rq).
            return cur.spin_unlock(F, LockId::Rq(cpu), Irq::Disable);
        }
        // 6. rq->curr = next; ++rq->nr_switches; context_switch(): next->on_cpu = 1, switch
        //    stacks.
        let dead = cur.step("context_switch", |s| {
            if preempt {
                s.task_fields_mut(me).nivcsw += 1;
            } else {
                s.task_fields_mut(me).nvcsw.bump();
            }
            let rq = s.rq_mut(cpu);
            if rq.queue.contains(&me) {
                rq.queue.retain(|&t| t != me);
                rq.queue.push_back(me);
            }
            rq.curr = next;
            rq.nr_switches += 1;
            rq.prev = Some(me);
            // The rq lock is held across the switch and released by next (step 7.3).
            rq.lock_owner = Some(next);
            s.task_fields_mut(next).cpu = cpu;
            s.task(next).set_on_cpu(true, St::Plain);
            s.cpu_handoff(next);
            s.rec(What::Switch {
                from: me,
                to: next,
                preempt,
            });
            s.task_fields(me).state == TASK_DEAD && !preempt
        })?;
        if dead {
            return Ok(());
        }
        // prev stops executing here, until some CPU switches to it again.
        cur.wait_until(WaitFor::Running)?;
        // 7. Back as `next` of a later switch: finish the switch of whoever ran before.
        finish_task_switch(cur)
    })
}

/// `finish_task_switch(prev)` (kernel/sched/core.c): model.md b.5 step 7, run by the incoming
/// task on behalf of the task switched out. Samples `prev->state` before clearing
/// `prev->on_cpu`.
pub fn finish_task_switch(cur: Current<'_>) -> M<()> {
    cur.summarize("finish_task_switch", || {
        const F: &str = "finish_task_switch";
        let me = cur.me();
        let cpu = cur.task_cpu(me);
        // 7.1 prev_state = prev->state.
        let (prev, prev_state) = cur.step(F, |s| {
            let prev = s.rq(cpu).prev.expect("a switch is pending");
            (prev, s.task(prev).state(Ld::Plain))
        })?;
        // 7.2 finish_task(prev): smp_store_release(&prev->on_cpu, 0).
        let release = cur.variant().rel_finish_on_cpu;
        cur.step(F, |s| {
            let ord = if release { St::Release } else { St::Once };
            s.task(prev).set_on_cpu(false, ord);
            s.rq_mut(cpu).prev = None;
        })?;
        // 7.3 finish_lock_switch(rq): raw_spin_unlock_irq(&rq->lock).
        cur.spin_unlock(F, LockId::Rq(cpu), Irq::Disable)?;
        // 7.4 if (prev_state == TASK_DEAD) put_task_struct(prev).
        if prev_state == TASK_DEAD {
            cur.step(F, |s| s.note("put_task_struct(prev)"))?;
        }
        // 7.5 V2 only: case TASK_PARKED: kthread_park_complete(prev) = complete_all(&parked).
        if cur.variant().completer == Completer::FinishTaskSwitch
            && prev_state == TASK_PARKED
            && let Some(kt) = cur.cast().kthread_of(prev)
        {
            (cur.entries().kthread_park_complete)(cur, kt)?;
        }
        Ok(())
    })
}

/// `schedule_tail(prev)` (kernel/sched/core.c): the first code a new task runs, finishing the
/// switch to it, then `preempt_enable()` (fork's preempt count is 2).
pub fn schedule_tail(cur: Current<'_>) -> M<()> {
    finish_task_switch(cur)?;
    cur.preempt_enable("schedule_tail")
}

/// `do_task_dead()` (kernel/sched/core.c): `set_special_state(TASK_DEAD)` with preemption
/// disabled, then a final `__schedule(false)`; the task never runs again.
pub fn do_task_dead(cur: Current<'_>) -> M<()> {
    cur.preempt_disable("do_task_dead")?;
    set_special_state(cur, "do_task_dead", TASK_DEAD)?;
    __schedule(cur, false)
}

// ---- b.6 wait_task_inactive ----

/// Who called `wait_task_inactive`, for the oracles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WtiCaller {
    /// `kthread_park` (V3+): I3 on failure, I8 on a one-tick sleep.
    Park,
    /// `__kthread_bind` from unpark: I3 on failure.
    Unpark,
    /// `__kthread_bind` from `kthread_stop`'s unpark of a never-parked thread: I3s.
    StopUnparked,
    /// `kthread_bind` after creation: I3 on failure, I8 on a one-tick sleep.
    Create,
}

/// The state test of `wait_task_inactive`: `p->state != match` before v6.1, `!(p->state &
/// match)` from v6.1 (`wti_state_mask`; `saved_state` is always 0 in the model: no RT locks,
/// no freezer). True if the state does NOT match (the caller fails).
fn wti_mismatch(st: u32, m: u32, mask: bool) -> bool {
    m != 0 && if mask { st & m == 0 } else { st != m }
}

/// `wait_task_inactive(p, match_state)` (kernel/sched/core.c): model.md b.6 steps 1-9, with
/// the scheduler switches of model.md 0.3 (state mask v6.1, `pi_lock` around the lockless state
/// test v6.6, forced dequeue of a `sched_delayed` task v6.16). Returns `nvcsw | MSB` on
/// success, 0 on failure ([`Ncsw`]: its callers here only test it for zero).
pub fn wait_task_inactive(
    cur: Current<'_>,
    p: Tid,
    match_state: u32,
    caller: WtiCaller,
) -> M<Ncsw> {
    cur.summarize("wait_task_inactive", || {
        const F: &str = "wait_task_inactive";
        let m = match_state;
        let v = cur.variant();
        let entry = cur.entry();
        loop {
            cur.restart(entry, "wait_task_inactive: for (;;)");
            // 1. rq = task_rq(p) (lockless).
            cur.step(F, |s| s.note("rq = task_rq(p)"))?;
            // 2. while (task_on_cpu(rq, p)) { if (!task_state_match(p, match)) return 0;
            //    cpu_relax(); }: two loads, p->on_cpu then p->state (the state under
            //    p->pi_lock from v6.6, `wti_pi_lock`).
            loop {
                cur.restart(entry, "wait_task_inactive: while (task_on_cpu(rq, p))");
                let running = cur.step(F, |s| s.task(p).on_cpu(Ld::Plain))?;
                if !running {
                    break;
                }
                if m != 0 {
                    if v.wti_pi_lock {
                        cur.spin_lock(F, LockId::Pi(p), Irq::Disable)?;
                    }
                    let ld = if v.wti_state_mask {
                        Ld::Once
                    } else {
                        Ld::Plain
                    };
                    let st = cur.step(F, |s| s.task(p).state(ld))?;
                    if v.wti_pi_lock {
                        cur.spin_unlock(F, LockId::Pi(p), Irq::Disable)?;
                    }
                    if wti_mismatch(st, m, v.wti_state_mask) {
                        cur.step(F, |s| s.rec(What::Return { value: 0 }))?;
                        return Ok(Ncsw::FAILED);
                    }
                }
                cur.wait_until(WaitFor::InactiveOrState(p, m))?;
            }
            // 3. rq = task_rq_lock(p): pi_lock (irqsave), then the rq lock.
            cur.spin_lock(F, LockId::Pi(p), Irq::Save)?;
            let cpu = __task_rq_lock(cur, F, p)?;
            // 3a. v6.16 (`wti_force_dequeue`): if (p->se.sched_delayed)
            //     dequeue_task(rq, p, DEQUEUE_SLEEP | DEQUEUE_DELAYED).
            if v.wti_force_dequeue {
                cur.step(F, |s| {
                    if s.task_fields(p).sched_delayed {
                        dequeue_delayed(s, cpu, p);
                    }
                })?;
            }
            // 4. running = task_on_cpu(); queued = task_on_rq_queued(); ncsw = ...
            let (running, queued, ncsw) = cur.step(F, |s| {
                let nvcsw = s.task_fields(p).nvcsw;
                let st = s.task(p).state(Ld::Plain);
                let ncsw = if wti_mismatch(st, m, v.wti_state_mask) {
                    Ncsw::FAILED
                } else {
                    nvcsw.ncsw()
                };
                let running = s.task(p).on_cpu(Ld::Plain);
                let queued = s.task(p).on_rq(Ld::Plain) == ON_RQ_QUEUED;
                (running, queued, ncsw)
            })?;
            // 5. task_rq_unlock(): rq lock, then pi_lock (irqrestore).
            cur.spin_unlock(F, LockId::Rq(cpu), Irq::Keep)?;
            cur.spin_unlock(F, LockId::Pi(p), Irq::Save)?;
            // 6. if (!ncsw) break (return 0).
            if ncsw.failed() {
                cur.step(F, |s| s.rec(What::Return { value: 0 }))?;
                return Ok(Ncsw::FAILED);
            }
            // 7. if (running) { cpu_relax(); continue; } (blocks until p leaves its CPU instead
            //    of spinning; each re-check is a step).
            if running {
                cur.wait_until(WaitFor::InactiveOrState(p, m))?;
                continue;
            }
            // 8. if (queued) { set_current_state(UNINTERRUPTIBLE); schedule_hrtimeout(1 tick);
            //    continue; }
            if queued {
                cur.count_wti_sleep();
                if matches!(caller, WtiCaller::Park | WtiCaller::Create) && cur.judges(Oracle::I8) {
                    let delayed = cur.read(|w| w.kernel.tasks[p].sched_delayed);
                    let msg = format!(
                        "{} sleeps a tick in wait_task_inactive: {} is queued{}, not running, {}",
                        cur.task_name(cur.me()),
                        cur.task_name(p),
                        if delayed { " (sched_delayed)" } else { "" },
                        state_name(m)
                    );
                    cur.warn(Oracle::I8, msg);
                }
                set_current_state(cur, F, TASK_UNINTERRUPTIBLE, v.mb_wti_sleep)?;
                schedule_hrtimeout_tick(cur)?;
                continue;
            }
            // 9. return ncsw.
            cur.step(F, |s| s.rec(What::Return { value: 1 }))?;
            return Ok(ncsw);
        }
    })
}

/// `schedule_hrtimeout(NSEC_PER_SEC / HZ)` (kernel/time/hrtimer.c): arm the timer agent,
/// schedule(), cancel, `__set_current_state(TASK_RUNNING)` (model.md b.6 step 8).
fn schedule_hrtimeout_tick(cur: Current<'_>) -> M<()> {
    const F: &str = "schedule_hrtimeout";
    let me = cur.me();
    cur.step(F, |s| {
        s.arm_tick_timer();
        s.note("hrtimer_start: one tick");
    })?;
    schedule(cur)?;
    cur.step(F, |s| {
        s.task_fields_mut(me).timer_armed = false;
        s.note("hrtimer_cancel");
    })?;
    __set_current_state(cur, F, TASK_RUNNING)
}

/// The hrtimer interrupt (kernel/time/hrtimer.c `hrtimer_wakeup`): an agent that fires an
/// armed timer at a time the engine chooses and wakes its task.
pub fn hrtimer_agent(cur: Current<'_>) -> M<()> {
    loop {
        cur.forget("hrtimer_agent");
        cur.wait_until(WaitFor::TimerArmed)?;
        let target = cur.step("hrtimer_wakeup", |s| {
            let n = s.sizes().1;
            let t = (0..n).find(|&t| s.task_fields(t).timer_armed);
            if let Some(t) = t {
                s.task_fields_mut(t).timer_armed = false;
                s.note("timer fires");
            }
            t
        })?;
        if let Some(t) = target {
            wake_up_process(cur, t)?;
        }
    }
}

/// The idle loop (kernel/sched/idle.c `do_idle` + `schedule_idle`): wait for need_resched,
/// then `__schedule(false)` until nothing more is pending.
pub fn idle_loop(cur: Current<'_>) -> M<()> {
    let me = cur.me();
    loop {
        cur.forget("idle_loop");
        cur.wait_until(WaitFor::NeedResched)?;
        // schedule_idle(): do { __schedule(SM_IDLE); } while (need_resched()).
        let entry = cur.entry();
        loop {
            cur.restart(entry, "schedule_idle: do while (need_resched())");
            __schedule(cur, false)?;
            let again = cur.step("schedule_idle", |s| s.task_fields(me).need_resched)?;
            if !again {
                break;
            }
        }
    }
}
