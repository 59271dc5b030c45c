//! Unit tests per kernel function: each drives one model function on one thread of a small
//! hand-built world and asserts the state it leaves (and, where that is the point, the trace
//! events it records). Section references are to `docs/model.md`.
//!
//! A function runs on a single-threaded [`Solo`] platform: no scheduling points, no injected
//! preemption (zero draws, budget 0). Where a function must wait (`__schedule` switching away,
//! `wait_task_inactive`'s one-tick sleep), every other thread of the world is marked finished,
//! so the runtime's deadlock detection ends the wait with `Err(Halt)` and an I7 violation, and
//! the test looks at the state as it was left at that point.

use parkrace::harness::build_world;
use parkrace::kernel::ENTRIES;
use parkrace::kernel::completion::{complete, wait_for_completion};
use parkrace::kernel::kthread::kthread_park;
use parkrace::kernel::sched::{
    __schedule, WtiCaller, finish_task_switch, try_to_wake_up, wait_task_inactive,
};
use parkrace::oracle::{Oracle, OracleSet, Violation};
use parkrace::runtime::platform::{Join, Platform};
use parkrace::runtime::trace::{Event, LockKey, What};
use parkrace::runtime::types::EBUSY;
use parkrace::runtime::world::*;
use parkrace::runtime::{Current, Halt, Kernel, M};
use parkrace::scenario::Scenario;
use parkrace::variant::Preset;
use std::sync::{Mutex, MutexGuard};

/// A task's `nvcsw`. The model can read it only as whether `wait_task_inactive` failed (a
/// private count, docs/model.md s.1); a test reads the number through its `Debug` form.
fn count(c: SwitchCount) -> u64 {
    debug_number(format!("{c:?}"))
}

/// What `wait_task_inactive` returned, as the kernel's number (`nvcsw | LONG_MIN`, or 0).
fn value(n: Ncsw) -> u64 {
    debug_number(format!("{n:?}"))
}

fn debug_number(s: String) -> u64 {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    digits.parse().expect("a tuple struct of one number")
}

// ---- a platform for one thread ----

/// Runs one model thread on the calling OS thread: nothing to switch to, no preemption.
struct Solo;

impl Platform for Solo {
    fn point(&self) {}

    fn block<'a>(
        &self,
        me: Tid,
        _guard: MutexGuard<'a, World>,
        _lock: &'a Mutex<World>,
    ) -> MutexGuard<'a, World> {
        // Returning the guard would make `wait_until` re-check and block again forever: a test
        // that gets here forgot to mark the other threads finished ([`only_runnable`]).
        panic!("thread {me} blocked on the solo platform with other threads still runnable")
    }

    fn wake(&self, _t: Tid) {}

    fn next_u64(&self) -> u64 {
        0
    }

    fn register(&self, _me: Tid) {}

    fn spawn(&self, name: String, _f: Box<dyn FnOnce() + Send>) -> Join {
        panic!("the solo platform spawns no threads (asked for {name})")
    }
}

// ---- world builders ----

/// C, the controller (on CPU0 in every scenario used here).
const C: Tid = 0;
/// K, the kthread under test (on the last CPU).
const K: Tid = 1;
/// K's `parked` completion (build_world: parked, exited, created, stop_done).
const PARKED: CompId = 0;

/// The initial world of `scenario` under `preset`, every oracle on, started, with no
/// preemption budget.
fn world(preset: Preset, scenario: &str) -> World {
    let s = Scenario::by_name(scenario).unwrap();
    let mut w = build_world(&s, preset.variant(), OracleSet::all());
    w.harness.started = true;
    w.harness.budget = 0;
    w
}

/// Every thread but `me` is finished: a wait of `me` that nothing can end is then a deadlock
/// (I7, `Err(Halt)`) instead of a block.
fn only_runnable(w: &mut World, me: Tid) {
    for (t, th) in w.harness.threads.iter_mut().enumerate() {
        th.finished = t != me;
    }
}

/// `p` sleeps in state `st` off its CPU: dequeued, not `on_cpu`. If it was its CPU's current
/// task, that CPU's idle task (already started, count 1, interrupts on) runs instead.
fn asleep(w: &mut World, p: Tid, st: u32) {
    let cpu = w.kernel.tasks[p].cpu;
    let t = &mut w.kernel.tasks[p];
    t.state = st;
    t.on_rq = 0;
    t.on_cpu = false;
    let rq = &mut w.kernel.rqs[cpu];
    rq.queue.retain(|&q| q != p);
    if rq.curr == p {
        let idle = rq.idle;
        rq.curr = idle;
        run_idle(w, idle);
    }
}

/// Idle task `idle` is on its CPU, started, in its loop (count 1, interrupts on).
fn run_idle(w: &mut World, idle: Tid) {
    let t = &mut w.kernel.tasks[idle];
    t.on_cpu = true;
    t.preempt_count = 1;
    t.irqs_off = false;
    w.harness.threads[idle].started = true;
}

/// The idle task of `cpu`.
fn idle_of(w: &World, cpu: CpuId) -> Tid {
    w.kernel.rqs[cpu].idle
}

/// What a kernel function left behind.
struct Left {
    kernel: KernelState,
    events: Vec<Event>,
    violation: Option<Violation>,
    /// Oracles violated after the first one (the epilogue).
    also: Vec<Oracle>,
    wti_sleeps: u32,
    window_open: bool,
}

/// Run `f` as model thread `me` of `w`; return its result and the world it left.
fn drive<R>(w: World, me: Tid, f: impl FnOnce(Current<'_>) -> M<R>) -> (M<R>, Left) {
    let k = Kernel::new(Box::new(Solo), w, ENTRIES);
    let r = f(k.current(me));
    let left = k.supervise(|w| Left {
        kernel: w.kernel.clone(),
        events: w.harness.trace.take(),
        violation: w.harness.violation.clone(),
        also: w.harness.also.clone(),
        wti_sleeps: w.harness.wti_sleeps,
        window_open: w.harness.window.is_some(),
    });
    (r, left)
}

/// The state stores to task `p` recorded in `events`, as (old, new).
fn state_writes(events: &[Event], p: Tid) -> Vec<(u32, u32)> {
    events
        .iter()
        .filter_map(|e| match e.what {
            What::StateWrite { task, old, new } if task == p => Some((old, new)),
            _ => None,
        })
        .collect()
}

/// The `on_rq` stores to task `p` recorded in `events`, as (old, new).
fn on_rq_writes(events: &[Event], p: Tid) -> Vec<(u8, u8)> {
    events
        .iter()
        .filter_map(|e| match e.what {
            What::OnRq { task, old, new } if task == p => Some((old, new)),
            _ => None,
        })
        .collect()
}

/// The lock acquisitions recorded in `events`, in order.
fn locks_taken(events: &[Event]) -> Vec<LockKey> {
    events
        .iter()
        .filter_map(|e| match e.what {
            What::Lock { lock } => Some(lock),
            _ => None,
        })
        .collect()
}

/// The task `t` is back to where it was before taking and releasing its locks.
fn assert_locks_undone(k: &KernelState, t: Tid, count: u32, irqs_off: bool) {
    let task = &k.tasks[t];
    assert_eq!(task.preempt_count, count, "{}'s preempt count", task.name);
    assert_eq!(task.irqs_off, irqs_off, "{}'s interrupt flag", task.name);
    assert!(task.irq_stack.is_empty(), "{}'s saved irq flags", task.name);
    for (i, p) in k.tasks.iter().enumerate() {
        assert_eq!(p.pi_owner, None, "pi_lock of task {i} still held");
    }
    for (c, rq) in k.rqs.iter().enumerate() {
        assert_eq!(rq.lock_owner, None, "rq{c} lock still held");
    }
    for x in &k.completions {
        assert_eq!(x.lock_owner, None, "{}.wait.lock still held", x.name);
    }
}

// ---- try_to_wake_up (b.2) ----

/// `try_to_wake_up` (model.md b.2, steps 1-9, full path 4-7): C wakes K, which sleeps
/// INTERRUPTIBLE off its CPU. K becomes RUNNING, QUEUED, queued once on CPU1's runqueue; idle1
/// gets need_resched (idle always yields); pi_lock and the rq lock are released and C's count
/// and interrupts are restored.
#[test]
fn ttwu_wakes_a_sleeping_off_cpu_task_onto_its_runqueue() {
    let mut w = world(Preset::V3, "park-unpark");
    asleep(&mut w, K, TASK_INTERRUPTIBLE);
    let idle1 = idle_of(&w, 1);
    only_runnable(&mut w, C);

    let (r, left) = drive(w, C, |cur| try_to_wake_up(cur, K, TASK_NORMAL));

    assert_eq!(r, Ok(true));
    let k = &left.kernel;
    assert_eq!(k.tasks[K].state, TASK_RUNNING);
    assert_eq!(k.tasks[K].on_rq, ON_RQ_QUEUED);
    assert_eq!(k.tasks[K].cpu, 1);
    assert!(!k.tasks[K].on_cpu);
    assert_eq!(Vec::from(k.rqs[1].queue.clone()), vec![K]);
    assert_eq!(k.rqs[1].curr, idle1, "a wakeup does not switch");
    assert!(k.tasks[idle1].need_resched, "idle yields to a woken task");
    assert_locks_undone(k, C, 0, false);
    // The stores of the full path: WAKING, then RUNNING once enqueued.
    assert_eq!(
        state_writes(&left.events, K),
        vec![
            (TASK_INTERRUPTIBLE, TASK_WAKING),
            (TASK_WAKING, TASK_RUNNING)
        ]
    );
    assert_eq!(on_rq_writes(&left.events, K), vec![(0, ON_RQ_QUEUED)]);
    assert_eq!(
        locks_taken(&left.events),
        vec![LockKey::Pi(K), LockKey::Rq(1)]
    );
    assert_eq!(left.violation, None);
}

/// `try_to_wake_up` (model.md b.2 step 2, a.4): a wakeup whose mask does not match the
/// state (TASK_NORMAL against a PARKED K) returns false and changes nothing: the kernel
/// state is exactly as before, and the trace is the pi_lock round trip around one state read.
#[test]
fn ttwu_with_a_non_matching_mask_changes_nothing() {
    let mut w = world(Preset::V3, "park-unpark");
    asleep(&mut w, K, TASK_PARKED);
    only_runnable(&mut w, C);
    let before = format!("{:?}", w.kernel);

    let (r, left) = drive(w, C, |cur| try_to_wake_up(cur, K, TASK_NORMAL));

    assert_eq!(r, Ok(false));
    assert_eq!(format!("{:?}", left.kernel), before);
    let what: Vec<What> = left.events.iter().map(|e| e.what.clone()).collect();
    assert_eq!(
        what,
        vec![
            What::Lock {
                lock: LockKey::Pi(K)
            },
            What::StateRead {
                task: K,
                value: TASK_PARKED
            },
            What::Unlock {
                lock: LockKey::Pi(K)
            },
        ]
    );
    assert_eq!(left.violation, None);
}

/// `try_to_wake_up` via `ttwu_remote` (model.md b.2 step 3, b.10's race window): K is on its
/// CPU, INTERRUPTIBLE but not yet dequeued. ttwu finds it queued under the rq lock and only
/// stores RUNNING: no WAKING, no second enqueue, no `on_rq` store, still queued once.
#[test]
fn ttwu_remote_sets_running_on_a_still_queued_task_without_enqueuing_it_again() {
    let mut w = world(Preset::V3, "park-unpark");
    w.kernel.tasks[K].state = TASK_INTERRUPTIBLE;
    only_runnable(&mut w, C);

    let (r, left) = drive(w, C, |cur| try_to_wake_up(cur, K, TASK_NORMAL));

    assert_eq!(r, Ok(true));
    let k = &left.kernel;
    assert_eq!(k.tasks[K].state, TASK_RUNNING);
    assert_eq!(k.tasks[K].on_rq, ON_RQ_QUEUED);
    assert!(k.tasks[K].on_cpu);
    assert_eq!(Vec::from(k.rqs[1].queue.clone()), vec![K], "queued once");
    assert_eq!(k.rqs[1].curr, K);
    assert!(!k.tasks[K].need_resched, "a task does not preempt itself");
    assert_locks_undone(k, C, 0, false);
    assert_eq!(
        state_writes(&left.events, K),
        vec![(TASK_INTERRUPTIBLE, TASK_RUNNING)]
    );
    let store = left
        .events
        .iter()
        .find(|e| matches!(e.what, What::StateWrite { .. }))
        .unwrap();
    assert_eq!(store.func, "ttwu_remote");
    assert!(on_rq_writes(&left.events, K).is_empty());
    assert_eq!(left.violation, None);
}

// ---- __schedule (b.5 steps 1-6) ----

/// `__schedule(false)` (model.md b.5 steps 1-6): K, INTERRUPTIBLE, blocks. It is dequeued
/// (`on_rq` 0, off the queue), idle1 is switched in (`rq.curr`, `on_cpu`), `rq.prev` is K and
/// the rq lock is handed to idle1. K then waits to be switched back in; with nobody left to do
/// that, the wait ends as a deadlock (I7) and the switch is seen half done: K still `on_cpu`
/// until idle1 runs `finish_task_switch`.
#[test]
fn schedule_dequeues_a_blocking_task_and_switches_to_next() {
    let mut w = world(Preset::V3, "park-unpark");
    w.kernel.tasks[K].state = TASK_INTERRUPTIBLE;
    w.kernel.tasks[K].preempt_count = 1; // schedule()'s preempt_disable
    let idle1 = idle_of(&w, 1);
    only_runnable(&mut w, K);

    let (r, left) = drive(w, K, |cur| __schedule(cur, false));

    assert_eq!(r, Err(Halt));
    let k = &left.kernel;
    assert_eq!(k.tasks[K].on_rq, 0, "dequeued");
    assert!(k.rqs[1].queue.is_empty());
    assert_eq!(k.tasks[K].state, TASK_INTERRUPTIBLE);
    assert_eq!(k.rqs[1].curr, idle1);
    assert!(k.tasks[idle1].on_cpu);
    assert!(k.tasks[K].on_cpu, "cleared only by the incoming task");
    assert_eq!(k.rqs[1].prev, Some(K));
    assert_eq!(k.rqs[1].lock_owner, Some(idle1), "the rq lock goes to next");
    assert_eq!(count(k.tasks[K].nvcsw), 1);
    assert_eq!(k.tasks[K].nivcsw, 0);
    // K switched out holding the lock's count and with interrupts off; idle1 drops its own
    // count when it releases the lock in finish_task_switch.
    assert_eq!(k.tasks[K].preempt_count, 2);
    assert!(k.tasks[K].irqs_off);
    assert_eq!(on_rq_writes(&left.events, K), vec![(ON_RQ_QUEUED, 0)]);
    assert!(left.events.iter().any(|e| e.what
        == What::Switch {
            from: K,
            to: idle1,
            preempt: false
        }));
    let v = left
        .violation
        .expect("the wait to be switched in deadlocks");
    assert_eq!(v.oracle, Oracle::I7);
    assert!(v.detail.contains("deadlock"), "{v}");
}

/// `__schedule(true)` (model.md b.5 step 3, h.2): a preemption never dequeues, whatever the
/// state. K, PARKED and alone on its runqueue, stays QUEUED, is picked again (step 5: next is
/// prev) and returns with the rq lock released; need_resched is cleared.
#[test]
fn preemptive_schedule_does_not_dequeue_a_parked_task() {
    let mut w = world(Preset::V3, "park-unpark");
    w.kernel.tasks[K].state = TASK_PARKED;
    w.kernel.tasks[K].preempt_count = 1; // preempt_schedule_irq's count
    w.kernel.tasks[K].need_resched = true;
    only_runnable(&mut w, K);

    let (r, left) = drive(w, K, |cur| __schedule(cur, true));

    assert_eq!(r, Ok(()));
    let k = &left.kernel;
    assert_eq!(k.tasks[K].on_rq, ON_RQ_QUEUED);
    assert_eq!(Vec::from(k.rqs[1].queue.clone()), vec![K]);
    assert_eq!(k.rqs[1].curr, K);
    assert!(!k.tasks[K].need_resched);
    assert_locks_undone(k, K, 1, false);
    assert!(on_rq_writes(&left.events, K).is_empty());
    assert!(
        !left
            .events
            .iter()
            .any(|e| matches!(e.what, What::Switch { .. }))
    );
    assert_eq!(left.violation, None);
}

// ---- finish_task_switch (b.5 step 7) ----

/// The world right after K switched out PARKED to idle1 (b.5 step 6): idle1 is current and
/// `on_cpu`, holds CPU1's rq lock and still has to finish the switch (build_world already
/// gives a never-run idle1 fork's count of 2 and interrupts off); K is dequeued and still
/// `on_cpu`.
fn switched_out_parked(preset: Preset) -> World {
    let mut w = world(preset, "park-unpark");
    let idle1 = idle_of(&w, 1);
    w.kernel.tasks[K].state = TASK_PARKED;
    w.kernel.tasks[K].on_rq = 0;
    w.kernel.rqs[1].queue.clear();
    w.kernel.rqs[1].curr = idle1;
    w.kernel.rqs[1].prev = Some(K);
    w.kernel.rqs[1].lock_owner = Some(idle1);
    w.kernel.tasks[idle1].on_cpu = true;
    assert_eq!(w.kernel.tasks[idle1].preempt_count, 2);
    assert!(w.kernel.tasks[idle1].irqs_off);
    only_runnable(&mut w, idle1);
    w
}

/// `finish_task_switch` (model.md b.5 step 7.1-7.3), V3 (no hook): the incoming idle1 clears
/// `prev.on_cpu` and `rq.prev`, releases the rq lock and turns interrupts on, its own count
/// dropping to 1. K's PARKED does not complete `parked`: the hook of 7.5 is V2's alone.
#[test]
fn finish_task_switch_clears_prev_on_cpu_and_releases_the_rq_lock() {
    let w = switched_out_parked(Preset::V3);
    let idle1 = idle_of(&w, 1);

    let (r, left) = drive(w, idle1, finish_task_switch);

    assert_eq!(r, Ok(()));
    let k = &left.kernel;
    assert!(!k.tasks[K].on_cpu);
    assert_eq!(k.rqs[1].prev, None);
    assert_eq!(k.rqs[1].curr, idle1);
    assert!(k.tasks[idle1].on_cpu);
    assert_locks_undone(k, idle1, 1, false);
    assert_eq!(k.tasks[K].state, TASK_PARKED);
    assert_eq!(k.completions[PARKED].done, 0, "no hook outside V2");
    // 7.1 samples prev's state before 7.2 clears on_cpu.
    let read = left
        .events
        .iter()
        .position(|e| {
            e.what
                == What::StateRead {
                    task: K,
                    value: TASK_PARKED,
                }
        })
        .expect("prev_state read");
    let clear = left
        .events
        .iter()
        .position(|e| {
            e.what
                == What::OnCpu {
                    task: K,
                    new: false,
                }
        })
        .expect("on_cpu cleared");
    assert!(read < clear);
    assert_eq!(left.violation, None);
}

/// `finish_task_switch` with V2's hook (model.md b.5 step 7.5, c V2): prev K switched out
/// PARKED, so the incoming idle1 runs `kthread_park_complete`, a `complete_all(parked)`:
/// `done` becomes UINT_MAX and the waiter C, asleep in `wait_for_completion`, is woken onto
/// CPU0. Every lock is released and idle1 is back at a count of 1.
#[test]
fn finish_task_switch_completes_parked_in_v2_when_prev_is_parked() {
    let mut w = switched_out_parked(Preset::V2);
    let idle1 = idle_of(&w, 1);
    asleep(&mut w, C, TASK_UNINTERRUPTIBLE);
    w.kernel.completions[PARKED].waiters.push_back(C);
    let idle0 = idle_of(&w, 0);

    let (r, left) = drive(w, idle1, finish_task_switch);

    assert_eq!(r, Ok(()));
    let k = &left.kernel;
    assert!(!k.tasks[K].on_cpu);
    assert_eq!(k.completions[PARKED].done, COMPLETION_ALL);
    assert_eq!(k.tasks[C].state, TASK_RUNNING);
    assert_eq!(k.tasks[C].on_rq, ON_RQ_QUEUED);
    assert_eq!(Vec::from(k.rqs[0].queue.clone()), vec![C]);
    assert!(k.tasks[idle0].need_resched);
    assert_locks_undone(k, idle1, 1, false);
    let done: Vec<&Event> = left
        .events
        .iter()
        .filter(|e| matches!(e.what, What::Done { comp: PARKED, .. }))
        .collect();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].func, "complete_all");
    assert_eq!(done[0].task, idle1);
    assert_eq!(left.violation, None);
}

/// `finish_task_switch` with V2's hook (model.md b.5 step 7.5): the test is exact equality
/// with PARKED, so a prev that switched out INTERRUPTIBLE completes nothing.
#[test]
fn finish_task_switch_in_v2_leaves_parked_alone_when_prev_is_not_parked() {
    let mut w = switched_out_parked(Preset::V2);
    w.kernel.tasks[K].state = TASK_INTERRUPTIBLE;
    let idle1 = idle_of(&w, 1);

    let (r, left) = drive(w, idle1, finish_task_switch);

    assert_eq!(r, Ok(()));
    assert_eq!(left.kernel.completions[PARKED].done, 0);
    assert!(!left.kernel.tasks[K].on_cpu);
    assert_locks_undone(&left.kernel, idle1, 1, false);
    assert_eq!(left.violation, None);
}

// ---- wait_task_inactive (b.6) ----

/// `wait_task_inactive` (model.md b.6 steps 1-5, 9): K is off its CPU, dequeued and PARKED, as
/// asked: it returns `nvcsw` with bit 63 set, through the locked check (pi_lock, then the rq
/// lock), all released again.
#[test]
fn wait_task_inactive_succeeds_on_an_inactive_task_in_the_matching_state() {
    let mut w = world(Preset::V3, "park-unpark");
    asleep(&mut w, K, TASK_PARKED);
    (0..5).for_each(|_| w.kernel.tasks[K].nvcsw.bump());
    only_runnable(&mut w, C);

    let (r, left) = drive(w, C, |cur| {
        wait_task_inactive(cur, K, TASK_PARKED, WtiCaller::Park)
    });

    assert_eq!(r.map(value), Ok(5 | 1 << 63));
    assert_locks_undone(&left.kernel, C, 0, false);
    assert_eq!(
        locks_taken(&left.events),
        vec![LockKey::Pi(K), LockKey::Rq(1)]
    );
    assert_eq!(left.kernel.tasks[C].state, TASK_RUNNING, "no sleep");
    assert_eq!(left.wti_sleeps, 0);
    assert_eq!(left.violation, None);
}

/// `wait_task_inactive` (model.md b.6 steps 4 and 6, h.8): K is off its CPU and dequeued but
/// INTERRUPTIBLE, not PARKED: the locked check finds the state differs and returns 0.
#[test]
fn wait_task_inactive_returns_zero_for_an_inactive_task_in_another_state() {
    let mut w = world(Preset::V3, "park-unpark");
    asleep(&mut w, K, TASK_INTERRUPTIBLE);
    only_runnable(&mut w, C);

    let (r, left) = drive(w, C, |cur| {
        wait_task_inactive(cur, K, TASK_PARKED, WtiCaller::Unpark)
    });

    assert_eq!(r.map(value), Ok(0));
    assert_locks_undone(&left.kernel, C, 0, false);
    assert_eq!(
        locks_taken(&left.events),
        vec![LockKey::Pi(K), LockKey::Rq(1)]
    );
    assert_eq!(left.wti_sleeps, 0);
    // The WARN is the caller's (`__kthread_bind`, `kthread_park`), not wait_task_inactive's.
    assert_eq!(left.violation, None);
}

/// `wait_task_inactive` (model.md b.6 step 2): K runs on its CPU in state RUNNING, not the
/// PARKED asked for: the lockless loop gives up at once and returns 0 without taking a lock.
#[test]
fn wait_task_inactive_returns_zero_from_the_lockless_loop_for_a_running_task() {
    let mut w = world(Preset::V3, "park-unpark");
    only_runnable(&mut w, C);

    let (r, left) = drive(w, C, |cur| {
        wait_task_inactive(cur, K, TASK_PARKED, WtiCaller::Unpark)
    });

    assert_eq!(r.map(value), Ok(0));
    assert!(locks_taken(&left.events).is_empty());
    assert_eq!(left.kernel.tasks[K].state, TASK_RUNNING);
    assert_locks_undone(&left.kernel, C, 0, false);
    assert_eq!(left.violation, None);
}

/// `wait_task_inactive` (model.md b.6 step 8, d.5, oracle I8): K was preempted while PARKED, so
/// it is off its CPU but still queued. Park's call counts a one-tick sleep, records I8 for C,
/// and C goes to sleep UNINTERRUPTIBLE with its timer armed: dequeued from CPU0, idle0
/// switched in. No timer agent is left to fire, so the sleep ends as a deadlock (I7, in the
/// epilogue of I8, as if inside park).
#[test]
fn wait_task_inactive_sleeps_a_tick_on_a_queued_task_and_records_i8_for_park() {
    let mut w = world(Preset::V3, "park-unpark");
    // K: preempted PARKED (queued, off CPU); idle1 runs.
    w.kernel.tasks[K].state = TASK_PARKED;
    w.kernel.tasks[K].on_cpu = false;
    let idle1 = idle_of(&w, 1);
    w.kernel.rqs[1].curr = idle1;
    run_idle(&mut w, idle1);
    let idle0 = idle_of(&w, 0);
    w.harness.in_op = true; // C is inside park: the run goes on after I8
    only_runnable(&mut w, C);

    let (r, left) = drive(w, C, |cur| {
        wait_task_inactive(cur, K, TASK_PARKED, WtiCaller::Park)
    });

    assert_eq!(r.map(value), Err(Halt));
    assert_eq!(left.wti_sleeps, 1);
    let v = left.violation.expect("I8");
    assert_eq!(v.oracle, Oracle::I8);
    assert_eq!(v.task, "C");
    assert_eq!(left.also, vec![Oracle::I7]);
    let k = &left.kernel;
    assert_eq!(k.tasks[C].state, TASK_UNINTERRUPTIBLE);
    assert!(k.tasks[C].timer_armed);
    assert_eq!(k.tasks[C].on_rq, 0);
    assert_eq!(k.rqs[0].curr, idle0);
    assert_eq!(k.rqs[0].prev, Some(C));
    // K is untouched: still PARKED and queued.
    assert_eq!(k.tasks[K].state, TASK_PARKED);
    assert_eq!(k.tasks[K].on_rq, ON_RQ_QUEUED);
}

// ---- completions (b.7) ----

/// `complete` (model.md b.7): `done` goes 0 -> 1 and the waiter K, asleep UNINTERRUPTIBLE in
/// `wait_for_completion`, is woken onto CPU1; the wait-queue lock is released. The waiter stays
/// on the list (it removes itself once it runs).
#[test]
fn complete_counts_up_and_wakes_the_waiter() {
    let mut w = world(Preset::V3b, "park-unpark");
    asleep(&mut w, K, TASK_UNINTERRUPTIBLE);
    w.kernel.completions[PARKED].waiters.push_back(K);
    only_runnable(&mut w, C);

    let (r, left) = drive(w, C, |cur| complete(cur, PARKED, false));

    assert_eq!(r, Ok(()));
    let k = &left.kernel;
    assert_eq!(k.completions[PARKED].done, 1);
    assert_eq!(k.tasks[K].state, TASK_RUNNING);
    assert_eq!(k.tasks[K].on_rq, ON_RQ_QUEUED);
    assert_eq!(Vec::from(k.rqs[1].queue.clone()), vec![K]);
    assert_eq!(Vec::from(k.completions[PARKED].waiters.clone()), vec![K]);
    assert_locks_undone(k, C, 0, false);
    assert_eq!(
        locks_taken(&left.events)[..2],
        [LockKey::Wq(PARKED), LockKey::Pi(K)]
    );
    assert_eq!(left.violation, None);
}

/// `complete` (model.md b.7 step 3, h.7): with two sleeping exclusive waiters, `complete`
/// wakes only the first (K); X stays asleep.
#[test]
fn complete_wakes_only_the_first_exclusive_waiter() {
    let mut w = world(Preset::V3b, "preempt-parked");
    let x = w.harness.cast.extra.unwrap();
    asleep(&mut w, K, TASK_UNINTERRUPTIBLE);
    asleep(&mut w, x, TASK_UNINTERRUPTIBLE);
    w.kernel.completions[PARKED].waiters.extend([K, x]);
    only_runnable(&mut w, C);

    let (r, left) = drive(w, C, |cur| complete(cur, PARKED, false));

    assert_eq!(r, Ok(()));
    let k = &left.kernel;
    assert_eq!(k.completions[PARKED].done, 1);
    assert_eq!(k.tasks[K].state, TASK_RUNNING);
    assert_eq!(k.tasks[x].state, TASK_UNINTERRUPTIBLE);
    assert_eq!(k.tasks[x].on_rq, 0);
    assert_eq!(Vec::from(k.rqs[1].queue.clone()), vec![K]);
    assert!(state_writes(&left.events, x).is_empty());
    assert_locks_undone(k, C, 0, false);
}

/// `complete_all` (model.md b.7, h.7): `done` is set to UINT_MAX and every waiter is woken.
#[test]
fn complete_all_sets_uint_max_and_wakes_every_waiter() {
    let mut w = world(Preset::V3, "preempt-parked");
    let x = w.harness.cast.extra.unwrap();
    asleep(&mut w, K, TASK_UNINTERRUPTIBLE);
    asleep(&mut w, x, TASK_UNINTERRUPTIBLE);
    w.kernel.completions[PARKED].waiters.extend([K, x]);
    only_runnable(&mut w, C);

    let (r, left) = drive(w, C, |cur| complete(cur, PARKED, true));

    assert_eq!(r, Ok(()));
    let k = &left.kernel;
    assert_eq!(k.completions[PARKED].done, COMPLETION_ALL);
    for t in [K, x] {
        assert_eq!(k.tasks[t].state, TASK_RUNNING);
        assert_eq!(k.tasks[t].on_rq, ON_RQ_QUEUED);
    }
    assert_eq!(Vec::from(k.rqs[1].queue.clone()), vec![K, x]);
    assert_locks_undone(k, C, 0, false);
}

/// `wait_for_completion` (model.md b.7 steps 1, 3, 4): already completed once, it consumes
/// the count (1 -> 0) and returns without sleeping: C stays RUNNING and current, never joins
/// the waiter list, and releases the lock.
#[test]
fn wait_for_completion_consumes_a_done_count_without_sleeping() {
    let mut w = world(Preset::V3b, "park-unpark");
    w.kernel.completions[PARKED].done = 1;
    only_runnable(&mut w, C);

    let (r, left) = drive(w, C, |cur| wait_for_completion(cur, PARKED));

    assert_eq!(r, Ok(()));
    let k = &left.kernel;
    assert_eq!(k.completions[PARKED].done, 0);
    assert!(k.completions[PARKED].waiters.is_empty());
    assert_eq!(k.tasks[C].state, TASK_RUNNING);
    assert_eq!(k.rqs[0].curr, C);
    assert!(state_writes(&left.events, C).is_empty(), "no sleep");
    assert!(
        !left
            .events
            .iter()
            .any(|e| matches!(e.what, What::Switch { .. }))
    );
    assert_locks_undone(k, C, 0, false);
    assert_eq!(left.violation, None);
}

/// `wait_for_completion` (model.md b.7 step 3, h.7): after `complete_all`, `done` stays at
/// UINT_MAX for every waiter.
#[test]
fn wait_for_completion_leaves_uint_max_in_place() {
    let mut w = world(Preset::V3, "park-unpark");
    w.kernel.completions[PARKED].done = COMPLETION_ALL;
    only_runnable(&mut w, C);

    let (r, left) = drive(w, C, |cur| wait_for_completion(cur, PARKED));

    assert_eq!(r, Ok(()));
    assert_eq!(left.kernel.completions[PARKED].done, COMPLETION_ALL);
    assert!(
        !left
            .events
            .iter()
            .any(|e| matches!(e.what, What::Done { .. })),
        "no store to done"
    );
    assert_locks_undone(&left.kernel, C, 0, false);
}

// ---- kthread flag operations (c) ----

/// K parked for good: PARKED, dequeued, off CPU, inside `__kthread_parkme`, with `flags` set;
/// idle1 runs on CPU1.
fn parked_k(preset: Preset, flags: u32) -> World {
    let mut w = world(preset, "park-unpark");
    asleep(&mut w, K, TASK_PARKED);
    w.harness.threads[K].in_parkme = true;
    w.kernel.kthreads[0].flags = flags;
    only_runnable(&mut w, C);
    w
}

/// `kthread_park` in V0/V1 (model.md c V0, h.9): IS_PARKED is already set, so park returns 0 at
/// once: no SHOULD_PARK store, no wakeup, no wait (no lock taken); the flags are unchanged and
/// the park window opens (I1 holds: K really is parked).
#[test]
fn kthread_park_of_an_already_parked_thread_returns_0_at_once_in_v0_v1() {
    for preset in [Preset::V0, Preset::V1] {
        let flags = KTHREAD_IS_PER_CPU | KTHREAD_SHOULD_PARK | KTHREAD_IS_PARKED;
        let w = parked_k(preset, flags);

        let (r, left) = drive(w, C, |cur| kthread_park(cur, 0));

        assert_eq!(r, Ok(0), "{preset}");
        assert_eq!(left.kernel.kthreads[0].flags, flags, "{preset}");
        assert!(locks_taken(&left.events).is_empty(), "{preset}: no wakeup");
        assert!(
            !left
                .events
                .iter()
                .any(|e| matches!(e.what, What::FlagSet { .. })),
            "{preset}"
        );
        assert!(left.events.iter().any(|e| e.what
            == What::FlagTest {
                bit: KTHREAD_IS_PARKED,
                value: true
            }));
        assert!(left.window_open, "{preset}");
        assert_eq!(left.violation, None, "{preset}");
    }
}

/// `kthread_park` in V3b and later (model.md c V3b, h.9): SHOULD_PARK is already set, so park
/// returns `-EBUSY` without waking or waiting, and no park window opens.
#[test]
fn kthread_park_with_should_park_set_returns_ebusy_from_v3b_on() {
    for preset in [Preset::V3b, Preset::V4, Preset::V5] {
        let flags = KTHREAD_IS_PER_CPU | KTHREAD_SHOULD_PARK;
        let w = parked_k(preset, flags);

        let (r, left) = drive(w, C, |cur| kthread_park(cur, 0));

        assert_eq!(r, Ok(-EBUSY), "{preset}");
        assert_eq!(left.kernel.kthreads[0].flags, flags, "{preset}");
        assert!(locks_taken(&left.events).is_empty(), "{preset}: no wakeup");
        assert!(!left.window_open, "{preset}");
        assert_eq!(left.kernel.tasks[K].state, TASK_PARKED, "{preset}");
        assert_eq!(left.violation, None, "{preset}");
    }
}
