//! Step machinery: one atomic model step, blocking waits, preemption boundaries, spinlocks and
//! preempt-count primitives (spec b, notation; b.3).
//!
//! A step is: the preemption boundary of the calling task (IRQ-return preemption, spec b.3
//! `[P+]`), the engine's scheduling point, then the step body with the world locked, then the
//! continuous oracles, the self-checks and the wakeups of threads whose wait condition now holds.

pub mod platform;
pub mod trace;
pub mod world;

use crate::oracle::Oracle;
use platform::Platform;
use std::borrow::Cow;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};
use trace::{Event, What};
use world::*;

/// The execution is stopping (a violation was found, or the scenario ended): unwind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Halt;

/// Result of a model function: `Err(Halt)` unwinds the model thread.
pub type M<T> = Result<T, Halt>;

/// How a spinlock treats interrupts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Irq {
    /// `raw_spin_lock`: preemption only (interrupts already off, or not needed).
    Keep,
    /// `spin_lock_irq` / `spin_unlock_irq`.
    Disable,
    /// `spin_lock_irqsave` / `spin_unlock_irqrestore`.
    Save,
}

/// Ticks are injected at a preemptible boundary with probability 1/TICK_ODDS per draw (a zero
/// draw never preempts, so a zeroed decision stream means "no preemption").
pub const TICK_ODDS: u64 = 6;

/// Wakeup preemption is chosen with probability 1/WAKEUP_PREEMPT_ODDS (zero draw: no).
pub const WAKEUP_PREEMPT_ODDS: u64 = 2;

/// Every controlled draw is read modulo a divisor of this, so `v % DRAW_PERIOD` decides the
/// same as `v` (how a recorded random value becomes one schedule byte).
pub const DRAW_PERIOD: u64 = 6;
const _: () = assert!(
    DRAW_PERIOD.is_multiple_of(TICK_ODDS) && DRAW_PERIOD.is_multiple_of(WAKEUP_PREEMPT_ODDS)
);

/// The model of one kernel: the world plus the engine that runs its threads.
pub struct Kernel<P: Platform> {
    pub plat: P,
    pub world: Mutex<World>,
    /// The world keeps per-thread fingerprints ([`World::hist`]; only for the state cache).
    fingerprints: bool,
}

/// The body of one step: the world, the stepping thread and the kernel function, with helpers
/// that record what the step reads and writes.
pub struct S<'a> {
    pub w: &'a mut World,
    pub me: Tid,
    pub func: &'static str,
    /// The engine's controlled randomness.
    pub draw: &'a dyn Fn() -> u64,
}

impl S<'_> {
    /// A controlled yes/no with probability 1/odds; a zero draw is "no".
    pub fn choose(&mut self, odds: u64) -> bool {
        (self.draw)() % odds == odds - 1
    }

    /// Record an event of this step.
    pub fn rec(&mut self, what: What) {
        let t = &self.w.tasks[self.me];
        let cpu = if t.is_task() { Some(t.cpu) } else { None };
        let e = Event {
            step: self.w.steps,
            task: self.me,
            cpu,
            func: Cow::Borrowed(self.func),
            what,
        };
        let tasks = &self.w.tasks;
        crate::tools::feedback::observe(&e, |t| tasks[t].kind.code());
        crate::strategy::focus::hint(&e.what);
        self.w.learn(self.me, &e.what);
        self.w.trace.push(e);
    }

    pub fn note(&mut self, text: &'static str) {
        self.rec(What::Note {
            text: Cow::Borrowed(text),
        });
    }

    /// Store `p.state`. A store by the task itself bumps its epoch (oracle I5).
    pub fn write_state(&mut self, p: Tid, new: u32) {
        let old = self.w.tasks[p].state;
        self.w.tasks[p].state = new;
        if p == self.me {
            self.w.tasks[p].epoch += 1;
        }
        self.rec(What::StateWrite { task: p, old, new });
    }

    pub fn read_state(&mut self, p: Tid) -> u32 {
        let v = self.w.tasks[p].state;
        self.rec(What::StateRead { task: p, value: v });
        v
    }

    pub fn set_on_rq(&mut self, p: Tid, new: u8) {
        let old = self.w.tasks[p].on_rq;
        self.w.tasks[p].on_rq = new;
        self.rec(What::OnRq { task: p, old, new });
    }

    pub fn set_on_cpu(&mut self, p: Tid, new: bool) {
        self.w.tasks[p].on_cpu = new;
        self.rec(What::OnCpu { task: p, new });
    }

    /// The task `me` is a kthread; its index.
    pub fn kthread(&self, t: Tid) -> usize {
        self.w.kthread_of(t).expect("kthread")
    }

    pub fn set_done(&mut self, c: CompId, new: u32) {
        let old = self.w.completions[c].done;
        self.w.completions[c].done = new;
        self.rec(What::Done { comp: c, old, new });
    }

    /// Set need_resched on `t` (`resched_curr`).
    pub fn resched(&mut self, t: Tid) {
        self.w.tasks[t].need_resched = true;
        self.rec(What::NeedResched { task: t });
    }
}

impl<P: Platform> Kernel<P> {
    pub fn new(plat: P, world: World) -> Self {
        Kernel {
            plat,
            fingerprints: !world.hist.is_empty(),
            world: Mutex::new(world),
        }
    }

    /// Lock the world (a panic elsewhere must not hide the trace: ignore poisoning).
    pub fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Read the world outside a step: what `me` learns this way is part of its local state, so
    /// it is folded into `me`'s fingerprint ([`World::hist`]). Every read outside a step of
    /// state that can change during an execution, whose value the thread goes on with, goes
    /// through here.
    pub fn read<R: Hash>(&self, me: Tid, f: impl FnOnce(&World) -> R) -> R {
        let mut w = self.lock();
        let r = f(&w);
        w.learn(me, &r);
        r
    }

    /// `me` is at a loop head of its outermost function, where `at` names its whole local
    /// state (nothing from earlier iterations or from its callers is live): the state cache
    /// may treat it as the same thread however it got here ([`World::forget`]). Not a step.
    pub fn forget(&self, me: Tid, at: &'static str) {
        if self.fingerprints {
            self.lock().forget(me, at);
        }
    }

    /// Run `f`, a model function of `me` that hands its caller nothing but what it returns
    /// (its effects on the world aside). Afterwards `me`'s fingerprint is the one it had at
    /// the call plus `label` and the result: how `f` got there (lock retries, spins, which
    /// task switched it back in) no longer tells states apart ([`World::hist`]).
    pub fn summarize<R: Hash>(
        &self,
        me: Tid,
        label: &'static str,
        f: impl FnOnce() -> M<R>,
    ) -> M<R> {
        if !self.fingerprints {
            return f();
        }
        let at = self.lock().hist[me];
        let r = f()?;
        let mut w = self.lock();
        w.hist[me] = at;
        w.learn(me, (label, &r));
        Ok(r)
    }

    /// One atomic model step of thread `me` in kernel function `func`. What it returns is
    /// what `me` learns from it (see [`World::hist`]).
    pub fn step<R: Hash>(
        &self,
        me: Tid,
        func: &'static str,
        f: impl FnOnce(&mut S<'_>) -> R,
    ) -> M<R> {
        self.boundary(me)?;
        self.raw_step(me, func, f)
    }

    /// A step without the preemption boundary before it (the entry of a preemption itself).
    pub fn raw_step<R: Hash>(
        &self,
        me: Tid,
        func: &'static str,
        f: impl FnOnce(&mut S<'_>) -> R,
    ) -> M<R> {
        self.plat.point();
        let mut w = self.lock();
        if w.halting {
            return Err(Halt);
        }
        w.steps += 1;
        {
            let t = &w.tasks[me];
            if t.is_task() && w.rqs[t.cpu].curr != me {
                let msg = format!(
                    "{} stepped in {func} while not current on CPU{}",
                    t.name, t.cpu
                );
                w.model_bug(me, msg);
                self.wake_waiters(&mut w);
                return Err(Halt);
            }
        }
        let r = {
            let draw = || self.plat.next_u64();
            let mut s = S {
                w: &mut w,
                me,
                func,
                draw: &draw,
            };
            f(&mut s)
        };
        w.learn(me, (func, &r));
        self.after_step(&mut w, me);
        if w.halting {
            return Err(Halt);
        }
        Ok(r)
    }

    /// Continuous oracles (I1c, I2), scheduler self-checks (S*), the step bound (I7), then the
    /// wakeups of blocked threads whose condition now holds.
    fn after_step(&self, w: &mut World, me: Tid) {
        if let Some(win) = w.window {
            let kt = w.kthreads[win.kthread].task;
            let k = &w.tasks[kt];
            if me == kt && !k.in_parkme {
                let msg = format!(
                    "{} executes {} outside __kthread_parkme during the park window",
                    k.name,
                    last_func(w)
                );
                w.violate(Oracle::I2, me, msg);
            } else if k.state != TASK_PARKED || k.on_rq != 0 || k.on_cpu {
                let msg = format!(
                    "during the park window {} is {}/on_rq={}/on_cpu={}",
                    k.name,
                    state_name(k.state),
                    k.on_rq,
                    k.on_cpu as u8
                );
                w.violate(Oracle::I1c, me, msg);
            }
        }
        self_check(w, me);
        if w.steps - w.cycle_start > w.scenario.max_steps {
            let msg = format!("step bound {} exceeded: livelock", w.scenario.max_steps);
            w.violate(Oracle::I7, me, msg);
            w.halting = true;
        }
        self.wake_waiters(w);
    }

    /// Wake every blocked thread whose condition holds (all of them when halting).
    pub fn wake_waiters(&self, w: &mut World) {
        for t in 0..w.tasks.len() {
            if let Some(c) = w.tasks[t].wait
                && (w.halting || w.satisfied(t, c))
            {
                w.tasks[t].wait = None;
                self.plat.wake(t);
            }
        }
    }

    /// Block thread `me` until `cond` holds. Not a step: a thread that waits is spinning or
    /// switched out, and each re-check after a wakeup is done by the caller as a new step.
    /// Detects deadlock (every thread blocked) as I7.
    ///
    /// For the state cache, a thread that blocked here is marked in its fingerprint until it
    /// returns: once woken, it re-checks `cond` before going on, unlike a thread that found
    /// `cond` true and is already at its next step ([`World::hist`]).
    pub fn wait_until(&self, me: Tid, cond: WaitFor) -> M<()> {
        let mut w = self.lock();
        let at = w.hist.get(me).copied();
        loop {
            if w.halting {
                return Err(Halt);
            }
            if w.satisfied(me, cond) {
                if let Some(h) = at {
                    w.hist[me] = h;
                }
                return Ok(());
            }
            w.learn(me, ("blocked", cond));
            w.tasks[me].wait = Some(cond);
            // Blocking may be what a quiescence-triggered waiter (the hrtimer) waits for.
            self.wake_waiters(&mut w);
            if w.tasks[me].wait.is_none() {
                continue;
            }
            if w.runnable_threads() == 0 {
                w.tasks[me].wait = None;
                let who: Vec<String> = w
                    .tasks
                    .iter()
                    .filter(|t| !t.finished)
                    .map(|t| format!("{} waits for {:?}", t.name, t.wait.unwrap_or(cond)))
                    .collect();
                let msg = format!("deadlock: {}", who.join("; "));
                w.violate(Oracle::I7, me, msg);
                w.halting = true;
                self.wake_waiters(&mut w);
                return Err(Halt);
            }
            w = self.plat.block(me, w, &self.world);
        }
    }

    /// The preemption boundary before a step of `me` (spec b.3): under CONFIG_PREEMPT a
    /// preemptible task with need_resched set is preempted (IPI / preempt_enable check), and a
    /// tick may be injected as a controlled choice within the scenario's budget. Inside the gap
    /// of `schedule_preempt_disabled` only when the h.5 knob is on.
    fn boundary(&self, me: Tid) -> M<()> {
        let tick = {
            let mut w = self.lock();
            if w.halting {
                return Err(Halt);
            }
            let t = &w.tasks[me];
            if !w.scenario.preempt || !t.is_task() || t.kind == Kind::Idle || !t.preemptible() {
                return Ok(());
            }
            if t.in_spd_gap && !w.scenario.irq_gap {
                return Ok(());
            }
            if t.need_resched {
                false
            } else {
                let rq = &w.rqs[t.cpu];
                let other = rq.queue.iter().any(|&q| q != me);
                if w.budget == 0 || !other {
                    return Ok(());
                }
                if self.plat.next_u64() % TICK_ODDS != TICK_ODDS - 1 {
                    return Ok(());
                }
                w.budget -= 1;
                w.preemptions += 1;
                true
            }
        };
        crate::kernel::sched::preempt_schedule_irq(self, me, tick)
    }

    /// Bookkeeping of `me`'s own position in the code (e.g. entering `__kthread_parkme`), for
    /// the oracles: not a step, no scheduling point, nothing another thread could observe.
    pub fn mark(&self, me: Tid, f: impl FnOnce(&mut Task)) {
        f(&mut self.lock().tasks[me]);
    }

    // ---- spinlocks (spec b notation: [pi(p)], [rq(c)], [wq(x)]) ----

    /// Acquire a spinlock: disable interrupts/preemption as `irq` says, then spin until free.
    /// The first attempt and every retry are steps; between retries the thread blocks.
    pub fn spin_lock(&self, me: Tid, func: &'static str, l: LockId, irq: Irq) -> M<()> {
        self.summarize(me, "spin_lock", || {
            let mut first = true;
            loop {
                let got = self.step(me, func, |s| {
                    if first {
                        let t = &mut s.w.tasks[s.me];
                        match irq {
                            Irq::Keep => {}
                            Irq::Disable => t.irqs_off = true,
                            Irq::Save => {
                                let was = t.irqs_off;
                                t.irq_stack.push(was);
                                t.irqs_off = true;
                            }
                        }
                        if t.is_task() {
                            t.preempt_count += 1;
                        }
                        if let LockId::Pi(_) = l
                            && s.w.rqs.iter().any(|r| r.lock_owner == Some(s.me))
                        {
                            let msg = format!(
                                "lock order: {} takes a pi_lock while holding an rq lock",
                                s.w.tasks[s.me].name
                            );
                            s.w.model_bug(s.me, msg);
                        }
                    }
                    match s.w.lock_owner(l) {
                        None => {
                            s.w.set_lock_owner(l, Some(s.me));
                            s.rec(What::Lock { lock: l.into() });
                            true
                        }
                        Some(o) if o == s.me => {
                            let msg = format!("{} takes {l:?} recursively", s.w.tasks[s.me].name);
                            s.w.model_bug(s.me, msg);
                            false
                        }
                        Some(_) => {
                            s.rec(What::LockBusy { lock: l.into() });
                            false
                        }
                    }
                })?;
                first = false;
                if got {
                    return Ok(());
                }
                self.wait_until(me, WaitFor::LockFree(l))?;
            }
        })
    }

    /// Release a spinlock, restoring interrupts as `irq` says and dropping the preempt count.
    /// Dropping the count to 0 is a preemption check (taken at the next boundary).
    pub fn spin_unlock(&self, me: Tid, func: &'static str, l: LockId, irq: Irq) -> M<()> {
        self.step(me, func, |s| unlock_in_step(s, l, irq))
    }

    /// `preempt_disable()` as its own step.
    pub fn preempt_disable(&self, me: Tid, func: &'static str) -> M<()> {
        self.step(me, func, |s| {
            s.w.tasks[s.me].preempt_count += 1;
            s.note("preempt_disable");
        })
    }

    /// `preempt_enable()`: count -= 1; at 0 under CONFIG_PREEMPT, need_resched preempts (at the
    /// boundary that follows).
    pub fn preempt_enable(&self, me: Tid, func: &'static str) -> M<()> {
        self.step(me, func, |s| {
            dec_preempt(s);
            s.note("preempt_enable");
        })
    }

    /// `preempt_enable_no_resched()`: count -= 1 without a preemption check.
    pub fn preempt_enable_no_resched(&self, me: Tid, func: &'static str) -> M<()> {
        self.step(me, func, |s| {
            dec_preempt(s);
            s.note("preempt_enable_no_resched");
        })
    }
}

/// Release `l` inside a step (also used by steps that end with an unlock).
pub fn unlock_in_step(s: &mut S<'_>, l: LockId, irq: Irq) {
    if s.w.lock_owner(l) != Some(s.me) {
        let msg = format!("{} releases {l:?} it does not hold", s.w.tasks[s.me].name);
        s.w.model_bug(s.me, msg);
        return;
    }
    s.w.set_lock_owner(l, None);
    s.rec(What::Unlock { lock: l.into() });
    let t = &mut s.w.tasks[s.me];
    match irq {
        Irq::Keep => {}
        Irq::Disable => t.irqs_off = false,
        Irq::Save => t.irqs_off = t.irq_stack.pop().unwrap_or(false),
    }
    if t.is_task() {
        dec_preempt(s);
    }
}

fn dec_preempt(s: &mut S<'_>) {
    let t = &mut s.w.tasks[s.me];
    if t.preempt_count == 0 {
        let msg = format!("{} preempt count underflow", t.name);
        s.w.model_bug(s.me, msg);
    } else {
        t.preempt_count -= 1;
    }
}

fn last_func(w: &World) -> String {
    w.trace
        .last()
        .map(|e| e.func.to_string())
        .unwrap_or_default()
}

/// Scheduler self-checks (spec S*). A failure is a model bug.
fn self_check(w: &mut World, me: Tid) {
    for c in 0..w.rqs.len() {
        let on: Vec<Tid> = (0..w.tasks.len())
            .filter(|&t| w.tasks[t].is_task() && w.tasks[t].on_cpu && w.tasks[t].cpu == c)
            .collect();
        let rq = &w.rqs[c];
        let ok = match on.len() {
            0 => false,
            1 => true,
            2 => rq.prev.is_some_and(|p| on.contains(&p)),
            _ => false,
        };
        if !ok {
            let names: Vec<&str> = on.iter().map(|&t| w.tasks[t].name.as_str()).collect();
            let msg = format!(
                "CPU{c} has on_cpu tasks {names:?} (curr {})",
                w.tasks[rq.curr].name
            );
            w.model_bug(me, msg);
            return;
        }
    }
    for t in 0..w.tasks.len() {
        let task = &w.tasks[t];
        if task.is_task()
            && task.kind != Kind::Idle
            && !task.finished
            && task.on_rq == 0
            && task.state == TASK_RUNNING
        {
            let msg = format!("{} is RUNNING but not on a runqueue", task.name);
            w.model_bug(me, msg);
            return;
        }
    }
}
