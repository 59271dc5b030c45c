//! One execution of a scenario on some engine: build the world (the cast: who runs where),
//! start every model thread, wait for the scenario's end, stop everything, and report the
//! outcome. Data flows one way: scenario -> engine -> model -> oracle -> outcome.
//!
//! What watches an execution (observers, the state cache's probe) is handed to it here, at
//! launch ([`Hooks`]): the runtime and the model know nothing of the tools that use them.

use crate::kernel::ENTRIES;
use crate::kernel::kthread::{
    UnparkFrom, do_exit, kthread, kthread_create_on_cpu, kthread_park, kthread_stop, kthread_unpark,
};
use crate::kernel::sched::{
    do_task_dead, finish_task_switch, hrtimer_agent, idle_loop, ipi_agent, schedule_tail,
    wake_up_process,
};
use crate::kernel::smpboot::{
    cpu_online, smpboot_thread_fn, stop_machine_take_cpu_down, stopper_thread,
};
use crate::oracle::{Oracle, OracleSet, Violation};
use crate::runtime::footprint::{Footprint, FootprintCell};
use crate::runtime::observe::{Observer, Observers};
use crate::runtime::platform::{Join, Platform};
use crate::runtime::trace::{Event, Trace};
use crate::runtime::world::*;
use crate::runtime::{Current, Halt, Kernel, M};
use crate::scenario::{EXTRA_WORK, KStart, Memory, Op, Scenario};
use crate::variant::Variant;
use std::sync::{Arc, Mutex};

/// A test-only hook: when the environment variable `PARKRACE_TEST_CRASH` names `place`
/// (`worker`: a job of the worker pool; `stress`: a stress instance; `soak`: a soak unit;
/// `model`: a model thread of the native engine), panic there, so that tests can check that
/// a crashed worker fails the run loudly (exit 4) instead of reporting it clean.
pub fn crash_hook(place: &str) {
    if std::env::var("PARKRACE_TEST_CRASH").is_ok_and(|v| v == place) {
        panic!("test hook: a {place} crashes");
    }
}

/// The text of a panic's payload.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_string()
    }
}

/// What the state cache's probe is asked (see [`crate::engine::statecache`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ask {
    /// Whether the execution is halting.
    Status,
    /// The same, with the fingerprint of the current state.
    Fingerprint,
    /// Halt the current execution.
    Halt,
    /// Record a livelock (I7) found as a fair cycle of states, with this detail, and halt.
    Livelock(String),
}

/// What the probe saw (`None` from [`Probe::ask`] while the world is locked or when no
/// execution is running).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probed {
    /// The execution is over: every thread only unwinds now, and the verdict is fixed.
    pub halting: bool,
    /// The state's fingerprint, when asked for.
    pub fingerprint: Option<u128>,
    /// Model steps taken so far.
    pub steps: u64,
}

/// A window into the execution currently running, for a scheduler that must look at its state
/// (the bounded search's state cache). Launch installs the execution into it.
#[derive(Clone, Default)]
pub struct Probe(
    Arc<Mutex<Option<std::sync::Weak<Kernel>>>>,
    /// What the current execution's kernel mirrors: its model steps (so a scheduler can tell
    /// at every scheduling point whether the last thread took a step) and the threads its
    /// fair picks passed over.
    Arc<crate::runtime::Mirror>,
    /// Where the execution's accessors add up their footprints, when the search asked for
    /// them ([`Probe::with_footprints`]).
    Option<Arc<FootprintCell>>,
);

impl Probe {
    /// Ask the current execution; `None` when none runs or its world is busy.
    pub fn ask(&self, ask: Ask) -> Option<Probed> {
        let k = self.0.lock().unwrap().as_ref()?.upgrade()?;
        k.try_supervise(|w| {
            let seen = |fingerprint| {
                Some(Probed {
                    halting: w.harness.halting,
                    fingerprint,
                    steps: w.harness.steps,
                })
            };
            match ask {
                Ask::Livelock(detail) => {
                    // Charged to the kthread under test, whose operation never completes.
                    let k = w.harness.cast.kthreads.first().map_or(0, |k| k.task);
                    w.violate(Oracle::I7, k, detail);
                    w.harness.halting = true;
                    None
                }
                Ask::Status => seen(None),
                Ask::Fingerprint => seen(Some(w.fingerprint())),
                Ask::Halt => {
                    // No wakeups (the scheduler is asking, inside the engine): the thread it
                    // runs next sees `halting` and unwinds, and wakes the others.
                    w.harness.halting = true;
                    None
                }
            }
        })
        .flatten()
    }

    fn install(&self, k: &Arc<Kernel>) {
        *self.0.lock().unwrap() = Some(Arc::downgrade(k));
        self.1.steps.store(0, std::sync::atomic::Ordering::Relaxed);
        self.1
            .passed_over
            .store(0, std::sync::atomic::Ordering::Relaxed);
        k.mirror(Arc::clone(&self.1));
        if let Some(c) = &self.2 {
            k.supervise(|w| w.harness.footprint = Some(Arc::clone(c)));
            c.take();
        }
    }

    /// The same probe, which also hands out what the execution reads and writes
    /// ([`Probe::footprint`]).
    pub fn with_footprints(mut self) -> Probe {
        self.2 = Some(Arc::default());
        self
    }

    /// What the execution read and wrote since the last call ([`crate::runtime::footprint`];
    /// everything where footprints were not asked for).
    pub fn footprint(&self) -> Footprint {
        self.2.as_ref().map_or(Footprint::ALL, |c| c.take())
    }

    /// Tell the execution whether it is replaying steps an earlier execution ran and judged
    /// ([`crate::runtime::Mirror::replaying`]; no lock).
    pub fn set_replaying(&self, replaying: bool) {
        self.1
            .replaying
            .store(replaying, std::sync::atomic::Ordering::Relaxed);
    }

    /// The model steps the current execution has taken so far (no lock).
    pub fn steps(&self) -> u64 {
        self.1.steps.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The threads (a bit per engine task) that the current execution's fair picks passed
    /// over since the last call (no lock).
    pub fn take_passed_over(&self) -> u64 {
        self.1
            .passed_over
            .swap(0, std::sync::atomic::Ordering::Relaxed)
    }
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Probe")
    }
}

/// Makes the observers of one execution (called once per execution).
pub type ObserverFactory = Arc<dyn Fn() -> Box<dyn Observer> + Send + Sync>;

/// What a tool hands an execution when it starts.
#[derive(Clone, Default)]
pub struct Hooks {
    /// Observers of every event (libFuzzer feedback, focus hints), one set per execution.
    pub observers: Vec<ObserverFactory>,
    /// The state cache's window into the execution.
    pub probe: Option<Probe>,
    /// Keep per-thread fingerprints of what each thread learns (only the state cache needs
    /// them).
    pub fingerprints: bool,
    /// Keep only the trace's last event ([`Trace::Last`]): the caller never reads the
    /// execution's trace (it runs a finding again to report it).
    pub last_event_only: bool,
    /// Catch a model thread's panic and end the execution with it as [`Outcome::crash`]
    /// (engines whose threads are OS threads: an uncaught panic there would leave the others
    /// waiting for good). Under shuttle a panic already fails the whole run.
    pub catch_panics: bool,
}

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
    /// Weak-memory reorderings taken: stale reads and out-of-order placements, each step
    /// back one (model.md m.3; 0 under `sc`).
    pub reorderings: u32,
    pub wti_sleeps: u32,
    /// A model thread panicked (a bug in parkrace, only with [`Hooks::catch_panics`]): the
    /// execution's verdict means nothing.
    pub crash: Option<String>,
    /// The step bound was hit in a search that caches states, where it is only a guard
    /// ([`crate::engine::bounded`]): the execution was halted there without a verdict.
    pub guard_hit: bool,
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
            reorderings: 0,
            wti_sleeps: 0,
            crash: None,
            guard_hit: false,
        }
    }
}

/// Build the initial world of `scenario` under `variant`: the cast (C, K, one idle task per
/// CPU, then X, the stopper, W, the hrtimer and the harness, as the scenario has them), who
/// runs where, and the completions (K's `parked`, `exited` and `done`, then `stop_done`).
pub fn build_world(scenario: &Scenario, variant: Variant, oracles: OracleSet) -> World {
    let n = scenario.cpus;
    let hotplug = scenario
        .ops
        .iter()
        .any(|o| matches!(o, Op::Takedown | Op::Online));
    let fresh = scenario.kthread_start == KStart::Fresh;
    let (c, k) = (0, 1);
    let mut tasks = vec![
        Task::new("C", Kind::Controller, scenario.controller_cpu),
        Task::new(
            "K",
            Kind::Kthread(0),
            if fresh {
                scenario.controller_cpu
            } else {
                scenario.kthread_cpu
            },
        ),
    ];
    let idle: Vec<Tid> = (0..n)
        .map(|cpu| {
            tasks.push(Task::new(&format!("idle{cpu}"), Kind::Idle, cpu));
            tasks.len() - 1
        })
        .collect();
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
    let waker = scenario.waker.then(|| {
        tasks.push(Task::new("W", Kind::Agent, 0));
        tasks.len() - 1
    });
    let ipi = variant.wakelist.then(|| {
        tasks.push(Task::new("ipi", Kind::Agent, 0));
        tasks.len() - 1
    });
    tasks.push(Task::new("hrtimer", Kind::Agent, 0));
    let hrtimer = tasks.len() - 1;
    tasks.push(Task::new("harness", Kind::Harness, 0));
    let harness = tasks.len() - 1;
    let mut threads = vec![Thread::default(); tasks.len()];

    // K: bound to its CPU unless it starts fresh (bound later by kthread_bind).
    if scenario.kthread_start == KStart::Loop {
        tasks[k].allowed = 1 << scenario.kthread_cpu;
    }

    // Who is runnable at the start, per CPU, in priority order: C, K, X.
    let mut rqs = Vec::new();
    for (cpu, &idle_task) in idle.iter().enumerate() {
        let runnable: Vec<Tid> = [Some(c), Some(k), extra]
            .into_iter()
            .flatten()
            .filter(|&t| tasks[t].cpu == cpu)
            .collect();
        let curr = runnable.first().copied().unwrap_or(idle_task);
        for &t in &runnable {
            tasks[t].on_rq = ON_RQ_QUEUED;
        }
        rqs.push(Rq {
            curr,
            idle: idle_task,
            stopper: stopper.filter(|&s| tasks[s].cpu == cpu),
            queue: runnable.iter().copied().collect(),
            lock_owner: None,
            online: true,
            active: true,
            prev: None,
            nr_switches: 0,
            wake_list: std::collections::VecDeque::new(),
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
            threads[t].started = true;
        } else {
            // A task that has never run starts in schedule_tail: fork's preempt count of 2,
            // interrupts off, the rq lock handed over by the switch to it.
            tasks[t].preempt_count = 2;
            tasks[t].irqs_off = true;
        }
    }

    let completions = ["parked", "exited", "done", "stop_done"]
        .into_iter()
        .map(Completion::new)
        .collect();
    let kthreads = vec![Kthread {
        flags: if fresh { 0 } else { KTHREAD_IS_PER_CPU },
        td_cpu: scenario.kthread_cpu,
        status: if fresh {
            HpStatus::None
        } else {
            HpStatus::Active
        },
        work: 0,
        started: !fresh,
    }];
    let cast = Cast {
        controller: c,
        kthreads: vec![KthreadIds {
            task: k,
            cpu: scenario.kthread_cpu,
            parked: 0,
            exited: 1,
            created: 2,
        }],
        idle,
        extra,
        stopper,
        waker,
        ipi,
        hrtimer,
        harness,
        stop_done: 3,
    };

    let mut world = World {
        kernel: KernelState {
            tasks,
            rqs,
            kthreads,
            completions,
            vars: Vec::new(),
            var_locks: Vec::new(),
        },
        harness: Harness {
            // A fresh K is published (and so wakeable by W) only once created
            // (kthread_create_on_cpu).
            waker_go: !fresh,
            ..fresh_harness(variant, scenario.clone(), oracles, cast, threads, 1)
        },
        memory: None,
    };
    world.init_memory(scenario.memory);
    world
}

/// The harness's bookkeeping at the start of an execution: nothing run, nothing found, every
/// counter at 0, the scenario's preemption budget, `controllers` threads to wait for.
fn fresh_harness(
    variant: Variant,
    scenario: Scenario,
    oracles: OracleSet,
    cast: Cast,
    threads: Vec<Thread>,
    controllers: usize,
) -> Harness {
    Harness {
        variant,
        budget: scenario.budget,
        scenario,
        oracles,
        cast,
        threads,
        trace: Trace::full(),
        steps: 0,
        preemptions: 0,
        window: None,
        wti_sleeps: 0,
        tick_owed: 0,
        violation: None,
        halting: false,
        controllers_done: 0,
        controllers,
        waker_go: false,
        started: false,
        in_op: false,
        also: Vec::new(),
        cycles: None,
        cycle_start: 0,
        hist: Vec::new(),
        observers: Observers::default(),
        crash: None,
        guard_hit: false,
        footprint: None,
        passed_over: 0,
    }
}

/// A program's thread body (a litmus test's process): it runs as an agent thread (no CPU, no
/// scheduler), touches only [`crate::runtime::S::var`] variables, `LockId::Var` locks and
/// barriers, and ends by returning.
pub type Body = Arc<dyn Fn(Current<'_>) -> M<()> + Send + Sync>;

/// The world of a program that is not the protocol (a litmus test, model.md m.7): one agent
/// thread per name, then the harness; `vars` shared variables with their initial values and
/// `locks` spinlocks; under `memory`. Run it with [`launch_program`].
pub fn program_world(names: &[String], vars: &[i64], locks: usize, memory: Memory) -> World {
    let n = names.len();
    let mut tasks: Vec<Task> = names.iter().map(|s| Task::new(s, Kind::Agent, 0)).collect();
    tasks.push(Task::new("harness", Kind::Harness, 0));
    let mut scenario = Scenario::named()[0].clone();
    scenario.name = "program".into();
    scenario.about = "a program run by the harness (litmus test)".into();
    scenario.preempt = false;
    scenario.budget = 0;
    scenario.memory = memory;
    scenario.max_steps = crate::scenario::MAX_STEP_BOUND;
    let cast = Cast {
        controller: 0,
        kthreads: Vec::new(),
        idle: Vec::new(),
        extra: None,
        stopper: None,
        waker: None,
        ipi: None,
        hrtimer: n,
        harness: n,
        stop_done: 0,
    };
    let mut world = World {
        kernel: KernelState {
            tasks,
            rqs: Vec::new(),
            kthreads: Vec::new(),
            completions: Vec::new(),
            vars: vars.to_vec(),
            var_locks: vec![None; locks],
        },
        harness: fresh_harness(
            crate::variant::Preset::V5.variant(),
            scenario,
            OracleSet::all(),
            cast,
            vec![Thread::default(); n + 1],
            n,
        ),
        memory: None,
    };
    world.init_memory(memory);
    world
}

/// Start a program's world ([`program_world`]) on `plat`: every thread but the harness runs
/// `body` (which tells them apart by [`Current::me`]), then counts itself done; the calling
/// thread is the harness, and [`Launched::finish`] returns once every thread is done.
pub fn launch_program(plat: impl Platform, world: World, hooks: &Hooks, body: Body) -> Launched {
    launch_bodies(plat, world, hooks, Some(body))
}

/// The controller C: run the scenario's operations, then exit.
fn controller(k: &Kernel, cur: Current<'_>) -> M<()> {
    let ops = cur.scenario().ops.clone();
    let cpu = cur.kthread_ids(0).cpu;
    loop {
        run_ops(k, cur, &ops, cpu)?;
        // One cycle done; under a stress driver, maybe start the next one in this world.
        let again = k.cycles().is_some_and(|c| {
            c.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            c.again()
                && k.supervise(|w| {
                    w.harness.cycle_start = w.harness.steps;
                    w.harness.budget = w.harness.scenario.budget;
                    true
                })
        });
        if !again {
            break;
        }
    }
    cur.step("controller", |s| {
        s.controller_done();
        s.note("controller done");
    })?;
    do_task_dead(cur)
}

/// The controller's operations, in order (one cycle).
fn run_ops(k: &Kernel, cur: Current<'_>, ops: &[Op], cpu: CpuId) -> M<()> {
    for &op in ops {
        cur.in_op(true);
        match op {
            Op::Park => {
                kthread_park(cur, 0)?;
            }
            Op::Unpark => kthread_unpark(cur, 0, UnparkFrom::Caller)?,
            Op::Stop => kthread_stop(cur, 0)?,
            Op::Create => {
                kthread_create_on_cpu(cur, 0)?;
                // Only now does the caller publish the task (smpboot: `*per_cpu_ptr(ht->store,
                // cpu) = tsk`), so only now can a third-party waker find it and wake it.
                k.supervise_wake(|w| w.harness.waker_go = true);
            }
            Op::Takedown => stop_machine_take_cpu_down(cur, cpu)?,
            Op::Online => cpu_online(cur, cpu, 0)?,
        }
        // The end of a violation's epilogue (see `World::violate`).
        let violated = cur.in_op(false);
        if violated {
            k.supervise_wake(|w| w.harness.halting = true);
            return Err(Halt);
        }
    }
    Ok(())
}

/// The extra task X: some preemptible work, then exit.
fn extra_task(cur: Current<'_>) -> M<()> {
    for _ in 0..EXTRA_WORK {
        cur.step("extra_work", |s| s.note("work"))?;
    }
    do_task_dead(cur)
}

/// The third-party waker W (e.g. a softirq raise): queue work for K, `wake_up_process(K)`.
fn waker(cur: Current<'_>) -> M<()> {
    cur.wait_until(WaitFor::WakerGo)?;
    cur.step("raise_softirq", |s| {
        s.kthread_fields_mut(0).work += 1;
        s.note("raise work for K");
    })?;
    wake_up_process(cur, cur.kthread_ids(0).task)?;
    Ok(())
}

/// Body of model thread `me`, by its part in the cast.
fn thread_body(k: &Kernel, me: Tid) -> M<()> {
    let cur = k.current(me);
    let (kind, started) = cur.read_self(|t, th| (t.kind, th.started));
    let fresh = cur.scenario().kthread_start == KStart::Fresh;
    if matches!(kind, Kind::Agent) {
        return if cur.cast().waker == Some(me) {
            waker(cur)
        } else if cur.cast().ipi == Some(me) {
            ipi_agent(cur)
        } else {
            hrtimer_agent(cur)
        };
    }
    // A task runs only while it is its CPU's current task.
    cur.wait_until(WaitFor::Running)?;
    if !started {
        cur.mark(|t| t.started = true);
        if kind == Kind::Idle {
            finish_task_switch(cur)?;
        } else {
            schedule_tail(cur)?;
        }
    }
    match kind {
        Kind::Idle => idle_loop(cur),
        Kind::Controller => controller(k, cur),
        Kind::Kthread(_) if fresh => kthread(cur, smpboot_thread_fn),
        Kind::Kthread(_) => {
            smpboot_thread_fn(cur)?;
            do_exit(cur)
        }
        Kind::Extra => extra_task(cur),
        Kind::Stopper => stopper_thread(cur),
        Kind::Agent | Kind::Harness => unreachable!(),
    }
}

/// Run one execution of `scenario` under `variant` on `plat`, from the calling thread (which
/// becomes the harness). Under shuttle, call it inside the test closure.
pub fn execute(
    plat: impl Platform,
    scenario: &Scenario,
    variant: Variant,
    oracles: OracleSet,
) -> Outcome {
    execute_with(plat, scenario, variant, oracles, &Hooks::default())
}

/// [`execute`], with `hooks` handed to the execution.
pub fn execute_with(
    plat: impl Platform,
    scenario: &Scenario,
    variant: Variant,
    oracles: OracleSet,
    hooks: &Hooks,
) -> Outcome {
    launch_with(plat, build_world(scenario, variant, oracles), hooks).finish()
}

/// A started execution: every model thread runs; [`Launched::finish`] waits for the
/// scenario's end. `kernel` lets a supervisor look at (or halt) the world meanwhile.
pub struct Launched {
    pub kernel: Arc<Kernel>,
    joins: Vec<Join>,
    names: Vec<String>,
    completions: Vec<String>,
    harness: Tid,
}

/// Start an execution of `world` on `plat`: spawn its model threads and open the start gate.
/// The calling thread becomes the harness and must be the one that calls
/// [`Launched::finish`].
pub fn launch(plat: impl Platform, world: World) -> Launched {
    launch_with(plat, world, &Hooks::default())
}

/// [`launch`], with `hooks` handed to the execution.
pub fn launch_with(plat: impl Platform, world: World, hooks: &Hooks) -> Launched {
    launch_bodies(plat, world, hooks, None)
}

fn launch_bodies(plat: impl Platform, world: World, hooks: &Hooks, body: Option<Body>) -> Launched {
    let names: Vec<String> = world.kernel.tasks.iter().map(|t| t.name.clone()).collect();
    let completions: Vec<String> = world
        .kernel
        .completions
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    let harness = world.harness.cast.harness;
    let mut world = world;
    if hooks.fingerprints {
        world.harness.hist = vec![0; world.kernel.tasks.len()];
    }
    if hooks.last_event_only {
        world.harness.trace = Trace::Last(None);
    }
    for make in &hooks.observers {
        world.harness.observers.push(make());
    }
    let k = Arc::new(Kernel::new(Box::new(plat), world, ENTRIES));
    if let Some(p) = &hooks.probe {
        p.install(&k);
    }
    k.platform().register(harness);
    let mut joins = Vec::new();
    let catch = hooks.catch_panics;
    for (t, name) in names.iter().enumerate().take(harness) {
        let k2 = Arc::clone(&k);
        let name2 = name.clone();
        let body = body.clone();
        joins.push(k.platform().spawn(
            name.clone(),
            Box::new(move || {
                k2.platform().register(t);
                let body = || {
                    if k2.wait_until(t, WaitFor::Start).is_ok() {
                        if catch {
                            crash_hook("model");
                        }
                        match &body {
                            None => {
                                let _ = thread_body(&k2, t);
                            }
                            Some(b) => {
                                let cur = k2.current(t);
                                if b(cur).is_ok() {
                                    let _ = cur.step("exit", |s| s.controller_done());
                                }
                            }
                        }
                    }
                };
                if catch {
                    if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
                        let msg = panic_message(&*p);
                        k2.supervise_wake(|w| {
                            w.harness
                                .crash
                                .get_or_insert(format!("model thread {name2} panicked: {msg}"));
                            w.harness.halting = true;
                        });
                    }
                } else {
                    body();
                }
                k2.finished(t);
            }),
        ));
    }
    k.supervise_wake(|w| w.harness.started = true);
    Launched {
        kernel: k,
        joins,
        names,
        completions,
        harness,
    }
}

impl Launched {
    /// Wait for the scenario's end, stop every model thread, and collect the outcome.
    pub fn finish(self) -> Outcome {
        let k = self.kernel;
        let _ = k.wait_until(self.harness, WaitFor::ScenarioEnd);
        k.supervise_wake(|w| w.harness.halting = true);
        for j in self.joins {
            j();
        }
        k.supervise(|w| Outcome {
            violation: w.harness.violation.clone(),
            trace: w.harness.trace.take(),
            names: self.names,
            completions: self.completions,
            steps: w.harness.steps,
            preemptions: w.harness.preemptions,
            reorderings: w.memory.as_ref().map_or(0, |m| m.reorderings),
            wti_sleeps: w.harness.wti_sleeps,
            crash: w.harness.crash.clone(),
            guard_hit: w.harness.guard_hit,
        })
    }
}
