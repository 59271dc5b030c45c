//! The scheduler pieces the park protocol leans on, from `kernel/sched/core.c` (v4.15-v4.19,
//! spec 0.2): task state setters (b.1), `try_to_wake_up` (b.2), preemption (b.3), the schedule
//! family (b.4), `__schedule` / `finish_task_switch` (b.5) and `wait_task_inactive` (b.6).
//!
//! Every numbered step of the spec is one call to [`Kernel::step`]; lock acquisitions and
//! releases are steps of their own.

use crate::oracle::Oracle;
use crate::runtime::platform::Platform;
use crate::runtime::trace::What;
use crate::runtime::world::*;
use crate::runtime::{Irq, Kernel, M, S, WAKEUP_PREEMPT_ODDS};
use crate::variant::Completer;

// ---- b.1 state setters ----

/// `set_current_state(S)` (include/linux/sched.h): store + full fence, one step (spec b.1).
pub fn set_current_state<P: Platform>(
    k: &Kernel<P>,
    me: Tid,
    func: &'static str,
    st: u32,
) -> M<()> {
    k.step(me, func, |s| s.write_state(s.me, st))
}

/// `__set_current_state(S)` (include/linux/sched.h): plain store, one step (spec b.1).
pub fn __set_current_state<P: Platform>(
    k: &Kernel<P>,
    me: Tid,
    func: &'static str,
    st: u32,
) -> M<()> {
    k.step(me, func, |s| s.write_state(s.me, st))
}

/// `set_special_state(S)` (include/linux/sched.h): the store under `pi_lock` with interrupts
/// off, serialised against any `try_to_wake_up` of this task (spec b.1).
pub fn set_special_state<P: Platform>(
    k: &Kernel<P>,
    me: Tid,
    func: &'static str,
    st: u32,
) -> M<()> {
    k.spin_lock(me, func, LockId::Pi(me), Irq::Save)?;
    k.step(me, func, |s| s.write_state(s.me, st))?;
    k.spin_unlock(me, func, LockId::Pi(me), Irq::Save)
}

// ---- b.2 wakeups ----

/// `wake_up_process(p)` (kernel/sched/core.c) = `try_to_wake_up(p, TASK_NORMAL)` (spec b.2).
pub fn wake_up_process<P: Platform>(k: &Kernel<P>, me: Tid, p: Tid) -> M<bool> {
    try_to_wake_up(k, me, p, TASK_NORMAL)
}

/// `wake_up_state(p, state)` (kernel/sched/core.c) = `try_to_wake_up(p, state)` (spec b.2).
pub fn wake_up_state<P: Platform>(k: &Kernel<P>, me: Tid, p: Tid, mask: u32) -> M<bool> {
    try_to_wake_up(k, me, p, mask)
}

/// Oracle I5 at a ttwu store: the store would overwrite a PARKED that the target stored after
/// this ttwu's state check.
fn check_stale_store(s: &mut S<'_>, p: Tid, epoch: u64, what: &str) {
    let t = &s.w.tasks[p];
    if t.state == TASK_PARKED && t.epoch != epoch {
        let msg = format!(
            "{} stores {what} over {}'s TASK_PARKED stored after its state check",
            s.w.tasks[s.me].name, t.name
        );
        s.w.violate(Oracle::I5, s.me, msg);
    }
}

/// `try_to_wake_up(p, state, 0)` (kernel/sched/core.c, v4.15-v4.19): spec b.2, steps 1-9.
/// Returns whether the state matched (not whether the task was enqueued).
pub fn try_to_wake_up<P: Platform>(k: &Kernel<P>, me: Tid, p: Tid, mask: u32) -> M<bool> {
    k.summarize(me, "try_to_wake_up", || {
        const F: &str = "try_to_wake_up";
        // 1. raw_spin_lock_irqsave(&p->pi_lock); smp_mb__after_spinlock().
        k.spin_lock(me, F, LockId::Pi(p), Irq::Save)?;
        // 2. if (!(p->state & state)) goto out.
        let (matched, epoch) = k.step(me, F, |s| {
            let st = s.read_state(p);
            (st & mask != 0, s.w.tasks[p].epoch)
        })?;
        if matched {
            // 3. smp_rmb(); if (p->on_rq && ttwu_remote(p, wake_flags)) goto stat.
            let on_rq = k.step(me, F, |s| {
                let v = s.w.tasks[p].on_rq;
                s.rec(What::OnRqRead { task: p, value: v });
                v
            })?;
            let woken = on_rq != 0 && ttwu_remote(k, me, p, epoch)?;
            if !woken {
                // 4. smp_cond_load_acquire(&p->on_cpu, !VAL): one step per iteration.
                loop {
                    let on_cpu = k.step(me, F, |s| {
                        let v = s.w.tasks[p].on_cpu;
                        s.rec(What::OnCpuRead { task: p, value: v });
                        v
                    })?;
                    if !on_cpu {
                        break;
                    }
                    k.wait_until(me, WaitFor::OnCpuClear(p))?;
                }
                // 5. p->state = TASK_WAKING.
                k.step(me, F, |s| {
                    check_stale_store(s, p, epoch, "TASK_WAKING");
                    s.write_state(p, TASK_WAKING)
                })?;
                // 6. cpu = select_task_rq(p, ...); set_task_cpu(p, cpu) if it differs.
                let cpu = k.step(me, "select_task_rq", |s| select_task_rq(s, p))?;
                // 7. ttwu_queue(p, cpu): activate under the target's rq lock.
                ttwu_queue(k, me, p, cpu)?;
            }
            // 8. (ttwu_stat: statistics only, no shared effect.)
        }
        // 9. raw_spin_unlock_irqrestore(&p->pi_lock).
        k.spin_unlock(me, F, LockId::Pi(p), Irq::Save)?;
        Ok(matched)
    })
}

/// `__task_rq_lock(p)` (kernel/sched/sched.h): lock `task_rq(p)`, retrying if p moved
/// (spec b.2 step 3.1). Interrupts are already off (pi_lock held). Returns the CPU.
fn __task_rq_lock<P: Platform>(k: &Kernel<P>, me: Tid, func: &'static str, p: Tid) -> M<CpuId> {
    loop {
        let c = k.step(me, func, |s| {
            let c = s.w.tasks[p].cpu;
            s.note("rq = task_rq(p)");
            c
        })?;
        k.spin_lock(me, func, LockId::Rq(c), Irq::Keep)?;
        let ok = k.step(me, func, |s| {
            let t = &s.w.tasks[p];
            let ok = t.cpu == c && t.on_rq != ON_RQ_MIGRATING;
            if !ok {
                s.note("task moved: retry");
            }
            ok
        })?;
        if ok {
            return Ok(c);
        }
        k.spin_unlock(me, func, LockId::Rq(c), Irq::Keep)?;
    }
}

/// `ttwu_remote(p)` (kernel/sched/core.c): spec b.2 steps 3.1-3.3. True if p was still queued
/// and has been made RUNNING.
fn ttwu_remote<P: Platform>(k: &Kernel<P>, me: Tid, p: Tid, epoch: u64) -> M<bool> {
    const F: &str = "ttwu_remote";
    // 3.1 rq = __task_rq_lock(p).
    let c = __task_rq_lock(k, me, F, p)?;
    // 3.2 if (task_on_rq_queued(p)) ttwu_do_wakeup(): check_preempt_curr(); p->state = RUNNING.
    let queued = k.step(me, F, |s| {
        let q = s.w.tasks[p].on_rq == ON_RQ_QUEUED;
        s.rec(What::OnRqRead {
            task: p,
            value: s.w.tasks[p].on_rq,
        });
        if q {
            check_preempt_curr(s, c, p);
            check_stale_store(s, p, epoch, "TASK_RUNNING");
            s.write_state(p, TASK_RUNNING);
        }
        q
    })?;
    // 3.2/3.3 __task_rq_unlock(rq).
    k.spin_unlock(me, F, LockId::Rq(c), Irq::Keep)?;
    Ok(queued)
}

/// `is_cpu_allowed(p, cpu)` (kernel/sched/core.c, v4.17): per-cpu kthreads may use an
/// online CPU, other tasks need an active one.
fn is_cpu_allowed(w: &World, p: Tid, cpu: CpuId) -> bool {
    let t = &w.tasks[p];
    if t.allowed & (1 << cpu) == 0 {
        return false;
    }
    let per_cpu_kthread =
        matches!(t.kind, Kind::Kthread(_) | Kind::Stopper) && t.allowed.count_ones() == 1;
    if per_cpu_kthread {
        w.rqs[cpu].online
    } else {
        w.rqs[cpu].active
    }
}

/// `select_fallback_rq(cpu, p)` (kernel/sched/core.c): an allowed active CPU, else widen the
/// affinity to every CPU (affinity broken, spec b.12) and take an active one.
pub fn select_fallback_rq(s: &mut S<'_>, p: Tid) -> CpuId {
    let n = s.w.rqs.len();
    if let Some(c) = (0..n).find(|&c| s.w.tasks[p].allowed & (1 << c) != 0 && s.w.rqs[c].active) {
        return c;
    }
    let all = (1u64 << n) - 1;
    s.w.tasks[p].allowed = all;
    s.rec(What::Affinity { task: p, mask: all });
    (0..n).find(|&c| s.w.rqs[c].active).unwrap_or(0)
}

/// `select_task_rq(p)` + `set_task_cpu(p, cpu)` (kernel/sched/core.c): spec b.2 step 6.
/// Keeps `task_cpu(p)` when allowed (the wake-affine choice is not modelled), else the first
/// allowed CPU, else the fallback.
pub fn select_task_rq(s: &mut S<'_>, p: Tid) -> CpuId {
    let n = s.w.rqs.len();
    let prev = s.w.tasks[p].cpu;
    let cpu = if is_cpu_allowed(s.w, p, prev) {
        prev
    } else if let Some(c) = (0..n).find(|&c| is_cpu_allowed(s.w, p, c)) {
        c
    } else {
        select_fallback_rq(s, p)
    };
    if cpu != prev {
        s.w.tasks[p].cpu = cpu;
        s.rec(What::SetCpu { task: p, cpu });
    } else {
        s.note("select_task_rq: task_cpu(p)");
    }
    cpu
}

/// `ttwu_queue(p, cpu)` -> `ttwu_do_activate` (kernel/sched/core.c): spec b.2 step 7, inline
/// (the wake-list variant performs the same activation on the target CPU; see the spec).
fn ttwu_queue<P: Platform>(k: &Kernel<P>, me: Tid, p: Tid, cpu: CpuId) -> M<()> {
    const F: &str = "ttwu_do_activate";
    k.spin_lock(me, F, LockId::Rq(cpu), Irq::Keep)?;
    // activate_task(): enqueue, p->on_rq = TASK_ON_RQ_QUEUED.
    k.step(me, F, |s| {
        if s.w.tasks[p].on_cpu {
            let msg = format!("ttwu enqueues {} while it is on_cpu", s.w.tasks[p].name);
            s.w.model_bug(s.me, msg);
        }
        s.w.rqs[cpu].queue.push_back(p);
        s.set_on_rq(p, ON_RQ_QUEUED);
    })?;
    // ttwu_do_wakeup(): check_preempt_curr(); p->state = TASK_RUNNING.
    k.step(me, "ttwu_do_wakeup", |s| {
        check_preempt_curr(s, cpu, p);
        s.write_state(p, TASK_RUNNING);
    })?;
    k.spin_unlock(me, F, LockId::Rq(cpu), Irq::Keep)
}

/// `check_preempt_curr(rq, p)` (kernel/sched/core.c): decide whether the woken task preempts
/// the CPU's current task. Idle always yields; the stopper always preempts; otherwise (CFS's
/// vruntime is not modelled) a controlled choice under CONFIG_PREEMPT, within the budget.
fn check_preempt_curr(s: &mut S<'_>, cpu: CpuId, p: Tid) {
    let curr = s.w.rqs[cpu].curr;
    if curr == p {
        return;
    }
    if curr == s.w.rqs[cpu].idle || s.w.tasks[p].kind == Kind::Stopper {
        s.resched(curr);
        return;
    }
    if s.w.scenario.preempt && s.w.budget > 0 && s.choose(WAKEUP_PREEMPT_ODDS) {
        s.w.budget -= 1;
        s.w.preemptions += 1;
        s.resched(curr);
    }
}

// ---- b.3 / b.4 preemption and the schedule family ----

/// `preempt_schedule_irq()` / `preempt_schedule()` (kernel/sched/core.c): involuntary
/// `__schedule(true)` at a preemption point (spec b.3). `tick` marks an injected tick.
pub fn preempt_schedule_irq<P: Platform>(k: &Kernel<P>, me: Tid, tick: bool) -> M<()> {
    k.summarize(me, "preempt_schedule_irq", || {
        const F: &str = "preempt_schedule_irq";
        k.raw_step(me, F, |s| {
            s.rec(What::Preempt { tick });
            if tick {
                s.w.tasks[s.me].need_resched = true;
            }
            s.w.tasks[s.me].preempt_count += 1;
            s.w.tasks[s.me].in_spd_gap = false;
        })?;
        loop {
            __schedule(k, me, true)?;
            let again = k.step(me, F, |s| {
                s.w.tasks[s.me].preempt_count -= 1;
                let nr = s.w.tasks[s.me].need_resched;
                if nr {
                    s.w.tasks[s.me].preempt_count += 1;
                }
                nr
            })?;
            if !again {
                return Ok(());
            }
        }
    })
}

/// `schedule()` (kernel/sched/core.c): `do { preempt_disable(); __schedule(false);
/// sched_preempt_enable_no_resched(); } while (need_resched())` (spec b.4).
pub fn schedule<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    k.summarize(me, "schedule", || {
        const F: &str = "schedule";
        loop {
            k.step(me, F, |s| {
                let t = &mut s.w.tasks[s.me];
                t.preempt_count += 1;
                t.in_spd_gap = false;
                s.note("preempt_disable");
            })?;
            __schedule(k, me, false)?;
            let again = k.step(me, F, |s| {
                s.w.tasks[s.me].preempt_count -= 1;
                s.w.tasks[s.me].need_resched
            })?;
            if !again {
                return Ok(());
            }
        }
    })
}

/// `schedule_preempt_disabled()` (kernel/sched/core.c): count to 0 without a check, schedule(),
/// count back to 1. The boundary between the first step and schedule()'s preempt_disable is
/// the h.5 gap (IRQ-return preemption there only with the scenario's `irq_gap` knob).
pub fn schedule_preempt_disabled<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    const F: &str = "schedule_preempt_disabled";
    k.step(me, F, |s| {
        let t = &mut s.w.tasks[s.me];
        t.preempt_count -= 1;
        t.in_spd_gap = true;
        s.note("sched_preempt_enable_no_resched");
    })?;
    schedule(k, me)?;
    k.preempt_disable(me, F)
}

/// `pick_next_task(rq, prev)` (kernel/sched/core.c): the stopper first, then the runqueue in
/// FIFO order (a task other than prev), then prev if still queued, then idle.
fn pick_next_task(w: &World, cpu: CpuId, prev: Tid) -> Tid {
    let rq = &w.rqs[cpu];
    if let Some(st) = rq.stopper
        && rq.queue.contains(&st)
    {
        return st;
    }
    if let Some(&t) = rq.queue.iter().find(|&&t| t != prev) {
        return t;
    }
    if rq.queue.contains(&prev) {
        prev
    } else {
        rq.idle
    }
}

/// `__schedule(preempt)` (kernel/sched/core.c): spec b.5 steps 1-6 by prev; after the switch,
/// prev is off its CPU until a later switch picks it, and then runs step 7
/// ([`finish_task_switch`]) for the task that switched to it. A task switching out as DEAD
/// never comes back: returns at once.
pub fn __schedule<P: Platform>(k: &Kernel<P>, me: Tid, preempt: bool) -> M<()> {
    k.summarize(me, "__schedule", || {
        const F: &str = "__schedule";
        let cpu = k.read(me, |w| w.tasks[me].cpu);
        // 1. local_irq_disable(); rq_lock(rq); smp_mb__after_spinlock().
        k.spin_lock(me, F, LockId::Rq(cpu), Irq::Disable)?;
        // 2. prev = rq->curr.
        k.step(me, F, |s| s.note("prev = rq->curr"))?;
        // 3. if (!preempt && prev->state): deactivate_task (signal_pending_state is never true for
        //    the states modelled: no signals are sent).
        k.step(me, F, |s| {
            let st = s.read_state(s.me);
            if !preempt && st != TASK_RUNNING {
                let me = s.me;
                s.w.rqs[cpu].queue.retain(|&t| t != me);
                s.set_on_rq(me, 0);
            }
        })?;
        // 4. next = pick_next_task(rq, prev); clear_tsk_need_resched(prev).
        let next = k.step(me, "pick_next_task", |s| {
            s.w.tasks[s.me].need_resched = false;
            let n = pick_next_task(s.w, cpu, s.me);
            s.note(if n == s.me {
                "next = prev"
            } else {
                "next = another task"
            });
            n
        })?;
        if next == me {
            // 5. rq_unlock_irq(rq).
            return k.spin_unlock(me, F, LockId::Rq(cpu), Irq::Disable);
        }
        // 6. rq->curr = next; ++rq->nr_switches; context_switch(): next->on_cpu = 1, switch stacks.
        let dead = k.step(me, "context_switch", |s| {
            let me = s.me;
            if preempt {
                s.w.tasks[me].nivcsw += 1;
            } else {
                s.w.tasks[me].nvcsw += 1;
            }
            let rq = &mut s.w.rqs[cpu];
            if rq.queue.contains(&me) {
                rq.queue.retain(|&t| t != me);
                rq.queue.push_back(me);
            }
            rq.curr = next;
            rq.nr_switches += 1;
            rq.prev = Some(me);
            // The rq lock is held across the switch and released by next (step 7.3).
            rq.lock_owner = Some(next);
            s.w.tasks[next].cpu = cpu;
            s.set_on_cpu(next, true);
            s.rec(What::Switch {
                from: me,
                to: next,
                preempt,
            });
            s.w.tasks[me].state == TASK_DEAD && !preempt
        })?;
        if dead {
            return Ok(());
        }
        // prev stops executing here, until some CPU switches to it again.
        k.wait_until(me, WaitFor::Running)?;
        // 7. Back as `next` of a later switch: finish the switch of whoever ran before.
        finish_task_switch(k, me)
    })
}

/// `finish_task_switch(prev)` (kernel/sched/core.c): spec b.5 step 7, run by the incoming
/// task `me` on behalf of the task switched out. Samples `prev->state` before clearing
/// `prev->on_cpu`.
pub fn finish_task_switch<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    k.summarize(me, "finish_task_switch", || {
        const F: &str = "finish_task_switch";
        let cpu = k.read(me, |w| w.tasks[me].cpu);
        // 7.1 prev_state = prev->state.
        let (prev, prev_state) = k.step(me, F, |s| {
            let prev = s.w.rqs[cpu].prev.expect("a switch is pending");
            (prev, s.read_state(prev))
        })?;
        // 7.2 finish_task(prev): smp_store_release(&prev->on_cpu, 0).
        k.step(me, F, |s| {
            s.set_on_cpu(prev, false);
            s.w.rqs[cpu].prev = None;
        })?;
        // 7.3 finish_lock_switch(rq): raw_spin_unlock_irq(&rq->lock).
        k.spin_unlock(me, F, LockId::Rq(cpu), Irq::Disable)?;
        // 7.4 if (prev_state == TASK_DEAD) put_task_struct(prev).
        if prev_state == TASK_DEAD {
            k.step(me, F, |s| s.note("put_task_struct(prev)"))?;
        }
        // 7.5 V2 only: case TASK_PARKED: kthread_park_complete(prev) = complete_all(&parked).
        let hook = {
            let w = k.lock();
            let v2 = w.variant.completer == Completer::FinishTaskSwitch;
            if v2 && prev_state == TASK_PARKED {
                w.kthread_of(prev)
            } else {
                None
            }
        };
        if let Some(kt) = hook {
            super::kthread::kthread_park_complete(k, me, kt)?;
        }
        Ok(())
    })
}

/// `schedule_tail(prev)` (kernel/sched/core.c): the first code a new task runs, finishing the
/// switch to it, then `preempt_enable()` (fork's preempt count is 2).
pub fn schedule_tail<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    finish_task_switch(k, me)?;
    k.preempt_enable(me, "schedule_tail")
}

/// `do_task_dead()` (kernel/sched/core.c): `set_special_state(TASK_DEAD)` with preemption
/// disabled, then a final `__schedule(false)`; the task never runs again.
pub fn do_task_dead<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    k.preempt_disable(me, "do_task_dead")?;
    set_special_state(k, me, "do_task_dead", TASK_DEAD)?;
    __schedule(k, me, false)
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
    /// smpboot's create path after park: I3 on failure.
    SmpbootCreate,
}

/// `wait_task_inactive(p, match_state)` (kernel/sched/core.c, v4.15-v4.19): spec b.6 steps
/// 1-9. Returns `nvcsw | MSB` on success, 0 on failure.
pub fn wait_task_inactive<P: Platform>(
    k: &Kernel<P>,
    me: Tid,
    p: Tid,
    m: u32,
    caller: WtiCaller,
) -> M<u64> {
    k.summarize(me, "wait_task_inactive", || {
        const F: &str = "wait_task_inactive";
        loop {
            // 1. rq = task_rq(p) (lockless).
            k.step(me, F, |s| s.note("rq = task_rq(p)"))?;
            // 2. while (task_running(rq, p)) { if (match && p->state != match) return 0; cpu_relax(); }
            loop {
                let (running, st) = k.step(me, F, |s| {
                    let on = s.w.tasks[p].on_cpu;
                    s.rec(What::OnCpuRead { task: p, value: on });
                    let st = if on { s.read_state(p) } else { 0 };
                    (on, st)
                })?;
                if !running {
                    break;
                }
                if m != 0 && st != m {
                    k.step(me, F, |s| s.rec(What::Return { value: 0 }))?;
                    return Ok(0);
                }
                k.wait_until(me, WaitFor::InactiveOrState(p, m))?;
            }
            // 3. rq = task_rq_lock(p): pi_lock (irqsave), then the rq lock.
            k.spin_lock(me, F, LockId::Pi(p), Irq::Save)?;
            let cpu = __task_rq_lock(k, me, F, p)?;
            // 4. running = task_running(); queued = task_on_rq_queued(); ncsw = ...
            let (running, queued, ncsw) = k.step(me, F, |s| {
                let t = &s.w.tasks[p];
                let (running, queued) = (t.on_cpu, t.on_rq == ON_RQ_QUEUED);
                let nvcsw = t.nvcsw;
                let st = s.read_state(p);
                let ncsw = if m == 0 || st == m {
                    nvcsw | (1 << 63)
                } else {
                    0
                };
                s.rec(What::OnCpuRead {
                    task: p,
                    value: running,
                });
                s.rec(What::OnRqRead {
                    task: p,
                    value: s.w.tasks[p].on_rq,
                });
                (running, queued, ncsw)
            })?;
            // 5. task_rq_unlock(): rq lock, then pi_lock (irqrestore).
            k.spin_unlock(me, F, LockId::Rq(cpu), Irq::Keep)?;
            k.spin_unlock(me, F, LockId::Pi(p), Irq::Save)?;
            // 6. if (!ncsw) break (return 0).
            if ncsw == 0 {
                k.step(me, F, |s| s.rec(What::Return { value: 0 }))?;
                return Ok(0);
            }
            // 7. if (running) { cpu_relax(); continue; } (blocks until p leaves its CPU instead of
            //    spinning; each re-check is a step).
            if running {
                k.wait_until(me, WaitFor::InactiveOrState(p, m))?;
                continue;
            }
            // 8. if (queued) { set_current_state(UNINTERRUPTIBLE); schedule_hrtimeout(1 tick); continue; }
            if queued {
                {
                    let mut w = k.lock();
                    w.wti_sleeps += 1;
                    if matches!(caller, WtiCaller::Park | WtiCaller::Create) {
                        let msg = format!(
                            "{} sleeps a tick in wait_task_inactive: {} is queued, not running, {}",
                            w.tasks[me].name,
                            w.tasks[p].name,
                            state_name(m)
                        );
                        w.violate(Oracle::I8, me, msg);
                        k.wake_waiters(&mut w);
                    }
                }
                set_current_state(k, me, F, TASK_UNINTERRUPTIBLE)?;
                schedule_hrtimeout_tick(k, me)?;
                continue;
            }
            // 9. return ncsw.
            k.step(me, F, |s| s.rec(What::Return { value: 1 }))?;
            return Ok(ncsw);
        }
    })
}

/// `schedule_hrtimeout(NSEC_PER_SEC / HZ)` (kernel/time/hrtimer.c): arm the timer agent,
/// schedule(), cancel, `__set_current_state(TASK_RUNNING)` (spec b.6 step 8).
fn schedule_hrtimeout_tick<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    const F: &str = "schedule_hrtimeout";
    k.step(me, F, |s| {
        s.w.tasks[s.me].timer_armed = true;
        s.note("hrtimer_start: one tick");
    })?;
    schedule(k, me)?;
    k.step(me, F, |s| {
        s.w.tasks[s.me].timer_armed = false;
        s.note("hrtimer_cancel");
    })?;
    __set_current_state(k, me, F, TASK_RUNNING)
}

/// The hrtimer interrupt (kernel/time/hrtimer.c `hrtimer_wakeup`): an agent that fires an armed
/// timer at a time the engine chooses and wakes its task.
pub fn hrtimer_agent<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    loop {
        k.wait_until(me, WaitFor::TimerArmed)?;
        let target = k.step(me, "hrtimer_wakeup", |s| {
            let t = (0..s.w.tasks.len()).find(|&t| s.w.tasks[t].timer_armed);
            if let Some(t) = t {
                s.w.tasks[t].timer_armed = false;
                s.note("timer fires");
            }
            t
        })?;
        if let Some(t) = target {
            wake_up_process(k, me, t)?;
        }
    }
}

/// The idle loop (kernel/sched/idle.c `do_idle` + `schedule_idle`): wait for need_resched,
/// then `__schedule(false)` until nothing more is pending.
pub fn idle_loop<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    loop {
        k.forget(me, "idle_loop");
        k.wait_until(me, WaitFor::NeedResched)?;
        loop {
            __schedule(k, me, false)?;
            let again = k.step(me, "schedule_idle", |s| s.w.tasks[s.me].need_resched)?;
            if !again {
                break;
            }
        }
    }
}
