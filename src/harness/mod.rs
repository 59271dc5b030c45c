//! One execution of a scenario on some engine: build the world (who runs where), start every
//! model thread, wait for the scenario's end, stop everything, and report the outcome.
//! Data flows one way: scenario -> engine -> model -> oracle -> outcome.

use crate::engine::statecache::{self, Ask, Probed};
use crate::kernel::kthread::{
    UnparkFrom, do_exit, kthread_create_on_cpu, kthread_entry, kthread_park, kthread_stop,
    kthread_unpark,
};
use crate::kernel::sched::{
    do_task_dead, finish_task_switch, hrtimer_agent, idle_loop, schedule_tail, wake_up_process,
};
use crate::kernel::smpboot::{
    cpu_online, smpboot_thread_fn, stop_machine_take_cpu_down, stopper_thread,
};
use crate::oracle::{OracleSet, Violation};
use crate::runtime::platform::{Join, Platform};
use crate::runtime::trace::Event;
use crate::runtime::world::*;
use crate::runtime::{Halt, Kernel, M};
use crate::scenario::{EXTRA_WORK, KStart, Op, Scenario};
use crate::variant::Variant;
use std::sync::Arc;

/// What one execution produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub violation: Option<Violation>,
    pub trace: Vec<Event>,
    /// Model thread names, indexed by thread id (for rendering traces).
    pub names: Vec<String>,
    /// Completion names, indexed by completion id.
    pub completions: Vec<String>,
    pub steps: u64,
    pub preemptions: u32,
    pub wti_sleeps: u32,
}

impl Outcome {
    /// The outcome of an execution that never reported (a replay cut short).
    pub fn empty() -> Outcome {
        Outcome {
            violation: None,
            trace: vec![],
            names: vec![],
            completions: vec![],
            steps: 0,
            preemptions: 0,
            wti_sleeps: 0,
        }
    }
}

/// Thread ids of the standard cast.
pub const C: Tid = 0;
pub const K: Tid = 1;

/// Build the initial world of `scenario` under `variant`.
pub fn build_world(scenario: &Scenario, variant: Variant, oracles: OracleSet) -> World {
    let n = scenario.cpus;
    let hotplug = scenario
        .ops
        .iter()
        .any(|o| matches!(o, Op::Takedown | Op::Online));
    let mut tasks = vec![
        Task::new("C", Kind::Controller, scenario.controller_cpu),
        Task::new(
            "K",
            Kind::Kthread(0),
            if scenario.kthread_start == KStart::Fresh {
                scenario.controller_cpu
            } else {
                scenario.kthread_cpu
            },
        ),
    ];
    let idle0 = tasks.len();
    for c in 0..n {
        tasks.push(Task::new(&format!("idle{c}"), Kind::Idle, c));
    }
    let extra = scenario.extra.then(|| {
        tasks.push(Task::new("X", Kind::Extra, scenario.kthread_cpu));
        tasks.len() - 1
    });
    let stopper = hotplug.then(|| {
        let mut t = Task::new(
            &format!("migration/{}", scenario.kthread_cpu),
            Kind::Stopper,
            scenario.kthread_cpu,
        );
        t.state = TASK_INTERRUPTIBLE;
        t.allowed = 1 << scenario.kthread_cpu;
        tasks.push(t);
        tasks.len() - 1
    });
    if scenario.waker {
        tasks.push(Task::new("W", Kind::Agent, 0));
    }
    tasks.push(Task::new("hrtimer", Kind::Agent, 0));
    tasks.push(Task::new("harness", Kind::Harness, 0));

    // K: bound to its CPU unless it starts fresh (bound later by kthread_bind).
    if scenario.kthread_start == KStart::Loop {
        tasks[K].allowed = 1 << scenario.kthread_cpu;
    }

    // Who is runnable at the start, per CPU, in priority order: C, K, X.
    let mut rqs = Vec::new();
    for c in 0..n {
        let runnable: Vec<Tid> = [Some(C), Some(K), extra]
            .into_iter()
            .flatten()
            .filter(|&t| tasks[t].cpu == c)
            .collect();
        let idle = idle0 + c;
        let curr = runnable.first().copied().unwrap_or(idle);
        for &t in &runnable {
            tasks[t].on_rq = ON_RQ_QUEUED;
        }
        rqs.push(Rq {
            curr,
            idle,
            stopper: stopper.filter(|&s| tasks[s].cpu == c),
            queue: runnable.iter().copied().collect(),
            lock_owner: None,
            online: true,
            active: true,
            prev: None,
            nr_switches: 0,
        });
    }
    // Idle runs with a preempt count of 1 (its __schedule needs count >= 1).
    for rq in &rqs {
        tasks[rq.idle].preempt_count = 1;
    }
    for t in 0..tasks.len() {
        if !tasks[t].is_task() {
            continue;
        }
        if rqs[tasks[t].cpu].curr == t {
            tasks[t].on_cpu = true;
            tasks[t].started = true;
        } else {
            // A task that has never run starts in schedule_tail: fork's preempt count of 2,
            // interrupts off, the rq lock handed over by the switch to it.
            tasks[t].preempt_count = 2;
            tasks[t].irqs_off = true;
        }
    }

    let completions = vec![
        Completion {
            name: "parked",
            done: 0,
            waiters: Default::default(),
            lock_owner: None,
        },
        Completion {
            name: "exited",
            done: 0,
            waiters: Default::default(),
            lock_owner: None,
        },
        Completion {
            name: "done",
            done: 0,
            waiters: Default::default(),
            lock_owner: None,
        },
        // Last: the stop_machine completion (see smpboot::stop_machine_take_cpu_down).
        Completion {
            name: "stop_done",
            done: 0,
            waiters: Default::default(),
            lock_owner: None,
        },
    ];
    let fresh = scenario.kthread_start == KStart::Fresh;
    let kthreads = vec![Kthread {
        task: K,
        flags: if fresh { 0 } else { KTHREAD_IS_PER_CPU },
        cpu: scenario.kthread_cpu,
        parked: 0,
        exited: 1,
        td_cpu: scenario.kthread_cpu,
        status: if fresh {
            HpStatus::None
        } else {
            HpStatus::Active
        },
        work: 0,
        created: 2,
    }];

    World {
        variant,
        scenario: scenario.clone(),
        oracles,
        tasks,
        rqs,
        kthreads,
        completions,
        trace: crate::runtime::trace::Trace::full(),
        steps: 0,
        budget: scenario.budget,
        preemptions: 0,
        window: None,
        wti_sleeps: 0,
        violation: None,
        halting: false,
        controllers_done: 0,
        controllers: 1,
        // A fresh K is published (and so wakeable by W) only once created (kthread_create_on_cpu).
        waker_go: !fresh,
        started: false,
        in_op: false,
        also: Vec::new(),
        cycles: None,
        cycle_start: 0,
        hist: Vec::new(),
    }
}

/// The controller C: run the scenario's operations, then exit.
fn controller<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    let (ops, cpu) = {
        let w = k.lock();
        (w.scenario.ops.clone(), w.scenario.kthread_cpu)
    };
    loop {
        run_ops(k, me, &ops, cpu)?;
        // One cycle done; under a stress driver, maybe start the next one in this world.
        let mut w = k.lock();
        let Some(c) = w.cycles.clone() else { break };
        c.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if !c.again() {
            break;
        }
        w.cycle_start = w.steps;
        w.budget = w.scenario.budget;
    }
    k.step(me, "controller", |s| {
        s.w.controllers_done += 1;
        s.note("controller done");
    })?;
    do_task_dead(k, me)
}

/// The controller's operations, in order (one cycle).
fn run_ops<P: Platform>(k: &Kernel<P>, me: Tid, ops: &[Op], cpu: CpuId) -> M<()> {
    for &op in ops {
        k.lock().in_op = true;
        match op {
            Op::Park => {
                kthread_park(k, me, 0)?;
            }
            Op::Unpark => kthread_unpark(k, me, 0, UnparkFrom::Caller)?,
            Op::Stop => kthread_stop(k, me, 0)?,
            Op::Create => {
                kthread_create_on_cpu(k, me, 0)?;
                // Only now does the caller publish the task (smpboot: `*per_cpu_ptr(ht->store,
                // cpu) = tsk`), so only now can a third-party waker find it and wake it.
                let mut w = k.lock();
                w.waker_go = true;
                k.wake_waiters(&mut w);
            }
            Op::Takedown => stop_machine_take_cpu_down(k, me, cpu)?,
            Op::Online => cpu_online(k, me, cpu, 0)?,
        }
        // The end of a violation's epilogue (see `World::violate`).
        let mut w = k.lock();
        w.in_op = false;
        if w.violation.is_some() {
            w.halting = true;
            k.wake_waiters(&mut w);
            return Err(Halt);
        }
    }
    Ok(())
}

/// The extra task X: some preemptible work, then exit.
fn extra_task<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    for _ in 0..EXTRA_WORK {
        k.step(me, "extra_work", |s| s.note("work"))?;
    }
    do_task_dead(k, me)
}

/// The third-party waker W (e.g. a softirq raise): queue work for K, `wake_up_process(K)`.
fn waker<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    k.wait_until(me, WaitFor::WakerGo)?;
    k.step(me, "raise_softirq", |s| {
        s.w.kthreads[0].work += 1;
        s.note("raise work for K");
    })?;
    wake_up_process(k, me, K)?;
    Ok(())
}

/// Body of model thread `me`, by kind.
fn thread_body<P: Platform>(k: &Kernel<P>, me: Tid) -> M<()> {
    let (kind, started, fresh) = k.read(me, |w| {
        (
            w.tasks[me].kind,
            w.tasks[me].started,
            w.scenario.kthread_start == KStart::Fresh,
        )
    });
    if matches!(kind, Kind::Agent) {
        return if k.lock().tasks[me].name == "W" {
            waker(k, me)
        } else {
            hrtimer_agent(k, me)
        };
    }
    // A task runs only while it is its CPU's current task.
    k.wait_until(me, WaitFor::Running)?;
    if !started {
        k.mark(me, |t| t.started = true);
        if kind == Kind::Idle {
            finish_task_switch(k, me)?;
        } else {
            schedule_tail(k, me)?;
        }
    }
    match kind {
        Kind::Idle => idle_loop(k, me),
        Kind::Controller => controller(k, me),
        Kind::Kthread(_) if fresh => kthread_entry(k, me),
        Kind::Kthread(_) => {
            smpboot_thread_fn(k, me)?;
            do_exit(k, me)
        }
        Kind::Extra => extra_task(k, me),
        Kind::Stopper => stopper_thread(k, me),
        Kind::Agent | Kind::Harness => unreachable!(),
    }
}

/// Run one execution of `scenario` under `variant` on `plat`, from the calling thread (which
/// becomes the harness). Under shuttle, call it inside the test closure.
pub fn execute<P: Platform>(
    plat: P,
    scenario: &Scenario,
    variant: Variant,
    oracles: OracleSet,
) -> Outcome {
    crate::tools::feedback::reset();
    launch(plat, build_world(scenario, variant, oracles)).finish()
}

/// A started execution: every model thread runs; [`Launched::finish`] waits for the
/// scenario's end. `kernel` lets a supervisor look at (or halt) the world meanwhile.
pub struct Launched<P: Platform> {
    pub kernel: Arc<Kernel<P>>,
    joins: Vec<Join>,
    names: Vec<String>,
    completions: Vec<String>,
    harness: Tid,
}

/// Start an execution of `world` on `plat`: spawn its model threads and open the start gate.
/// The calling thread becomes the harness and must be the one that calls
/// [`Launched::finish`].
pub fn launch<P: Platform>(plat: P, world: World) -> Launched<P> {
    let names: Vec<String> = world.tasks.iter().map(|t| t.name.clone()).collect();
    let completions: Vec<String> = world
        .completions
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    let harness = world.tasks.len() - 1;
    let mut world = world;
    if statecache::fingerprints() {
        world.hist = vec![0; world.tasks.len()];
    }
    let k = Arc::new(Kernel::new(plat, world));
    if statecache::enabled() {
        let weak = Arc::downgrade(&k);
        statecache::install(Box::new(move |ask| {
            let k = weak.upgrade()?;
            let mut w = k.world.try_lock().ok()?;
            let seen = |fingerprint| {
                Some(Probed {
                    halting: w.halting,
                    fingerprint,
                })
            };
            match ask {
                Ask::Status => seen(None),
                Ask::Fingerprint => seen(Some(w.fingerprint())),
                Ask::Halt => {
                    // Not `wake_waiters` (the scheduler is asking, inside shuttle): the thread
                    // it runs next sees `halting` and unwinds, and wakes the others.
                    w.halting = true;
                    None
                }
            }
        }));
    }
    k.plat.register(harness);
    let mut joins = Vec::new();
    for (t, name) in names.iter().enumerate().take(harness) {
        let k2 = Arc::clone(&k);
        joins.push(k.plat.spawn(
            name.clone(),
            Box::new(move || {
                k2.plat.register(t);
                if k2.wait_until(t, WaitFor::Start).is_ok() {
                    let _ = thread_body(&k2, t);
                }
                let mut w = k2.lock();
                w.tasks[t].finished = true;
                w.tasks[t].wait = None;
                k2.wake_waiters(&mut w);
            }),
        ));
    }
    {
        let mut w = k.lock();
        w.started = true;
        k.wake_waiters(&mut w);
    }
    Launched {
        kernel: k,
        joins,
        names,
        completions,
        harness,
    }
}

impl<P: Platform> Launched<P> {
    /// Wait for the scenario's end, stop every model thread, and collect the outcome.
    pub fn finish(self) -> Outcome {
        let k = self.kernel;
        let _ = k.wait_until(self.harness, WaitFor::ScenarioEnd);
        {
            let mut w = k.lock();
            w.halting = true;
            k.wake_waiters(&mut w);
        }
        for j in self.joins {
            j();
        }
        let mut w = k.lock();
        Outcome {
            violation: w.violation.clone(),
            trace: w.trace.take(),
            names: self.names,
            completions: self.completions,
            steps: w.steps,
            preemptions: w.preemptions,
            wti_sleeps: w.wti_sleeps,
        }
    }
}
