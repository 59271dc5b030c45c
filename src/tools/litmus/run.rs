//! Running a litmus test on the runtime: one model thread per process interpreting its
//! statements, every shared access, barrier and lock operation one step; every schedule and
//! every weak-memory choice visited by a bounded DFS without a bound; the first execution that
//! satisfies `exists` replayed from its schedule bytes for its diagram.

use super::{Answer, Litmus, State, Stmt, Verdict, Witness};
use crate::engine::bounded::{BoundKind, BoundedDfs};
use crate::engine::bytes::ByteScheduler;
use crate::engine::shuttle::ShuttlePlatform;
use crate::harness::{Body, Hooks, Outcome, launch_program, program_world};
use crate::oracle::Oracle;
use crate::runtime::types::{Ld, LockId};
use crate::runtime::{Current, Irq, M};
use crate::scenario::Memory;
use crate::tools::render;
use shuttle::scheduler::Scheduler;
use shuttle::{Config, FailurePersistence, MaxSteps};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};

/// A backstop on shuttle's steps per execution (a litmus test has no loops: its executions
/// are short).
const MAX_SHUTTLE_STEPS: usize = 1_000_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the processes of one execution report: their registers, and whether a failing
/// `cmpxchg` read its expected value (then the execution is no outcome of the program).
#[derive(Default)]
struct Sink {
    regs: Vec<Vec<i64>>,
    /// Which processes ran to their end (the state cache halts an execution midway).
    done: Vec<bool>,
    infeasible: bool,
}

/// One execution's result.
struct Run {
    outcome: Outcome,
    state: State,
    /// Every process ran to its end.
    complete: bool,
    infeasible: bool,
}

impl Run {
    /// Why the execution gives no outcome, if it does not: `Ok(reason)` for a legitimate
    /// skip, `Err` for an execution that went wrong (a bug: never a verdict).
    fn skip(&self) -> Result<Option<&'static str>, String> {
        if let Some(c) = &self.outcome.crash {
            return Err(format!("internal error: {c}"));
        }
        match &self.outcome.violation {
            Some(v) if v.oracle == Oracle::I7 && v.detail.starts_with("deadlock") => {
                Ok(Some("deadlock"))
            }
            Some(v) => Err(format!("internal error in {}: {}", v.task, v.detail)),
            // The state cache cut it at a state whose every continuation was explored.
            None if !self.complete => Ok(Some("cut")),
            None if self.infeasible => Ok(Some("infeasible")),
            None => Ok(None),
        }
    }
}

fn config() -> Config {
    let mut c = Config::new();
    c.failure_persistence = FailurePersistence::None;
    c.silence_warnings = true;
    c.max_steps = MaxSteps::FailAfter(MAX_SHUTTLE_STEPS);
    c
}

/// Interpret `body` for the running process.
fn exec(
    cur: Current<'_>,
    body: &[Stmt],
    regs: &mut [i64],
    memory: Memory,
    infeasible: &mut bool,
) -> M<()> {
    for s in body {
        match s {
            Stmt::Load { reg, var, ord } => {
                let op = if *ord == Ld::Acquire {
                    "smp_load_acquire"
                } else {
                    "READ_ONCE"
                };
                let v = cur.step(op, |s| s.var(*var).load(*ord))?;
                if let Some(r) = reg {
                    regs[*r] = v;
                }
            }
            Stmt::Store { var, value, ord } => {
                let v = value.eval(regs);
                let op = if *ord == crate::runtime::types::St::Release {
                    "smp_store_release"
                } else {
                    "WRITE_ONCE"
                };
                cur.step(op, |s| s.var(*var).store(v, *ord))?;
            }
            Stmt::Xchg {
                reg,
                var,
                value,
                ord,
                op,
            } => {
                let v = value.eval(regs);
                let old = cur.step(op, |s| s.var(*var).rmw(*ord, |_| Some(v)))?;
                if let Some(r) = reg {
                    regs[*r] = old;
                }
            }
            Stmt::Cmpxchg {
                reg,
                var,
                old,
                new,
                ord,
                op,
            } => {
                let (o, n) = (old.eval(regs), new.eval(regs));
                let lkmm = memory == Memory::Lkmm;
                let (got, bad) = cur.step(op, |s| {
                    // An RMW reads the newest store, which is the world's value.
                    let newest = s.kernel_ref().vars[*var];
                    // Under lkmm a cmpxchg may also fail by reading an older store (a
                    // controlled choice where the newest matches).
                    let fail = newest != o || (lkmm && s.choose(2));
                    if lkmm && fail {
                        // A failing cmpxchg is an unordered read in LKMM.
                        let r = s.var(*var).load(Ld::Once);
                        (r, r == o)
                    } else {
                        (s.var(*var).rmw(*ord, |x| (x == o).then_some(n)), false)
                    }
                })?;
                *infeasible |= bad;
                if let Some(r) = reg {
                    regs[*r] = got;
                }
            }
            Stmt::Fence { fence, op } => cur.step("barrier", |s| s.fence(*fence, op))?,
            Stmt::Lock { lock, mb } => {
                let l = LockId::Var(*lock);
                if *mb {
                    cur.spin_lock_mb("spin_lock + smp_mb__after_spinlock", l, Irq::Keep, true)?;
                } else {
                    cur.spin_lock("spin_lock", l, Irq::Keep)?;
                }
            }
            Stmt::Unlock { lock } => {
                cur.spin_unlock("spin_unlock", LockId::Var(*lock), Irq::Keep)?;
            }
            Stmt::Assign { reg, value } => regs[*reg] = value.eval(regs),
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                let branch = if cond.eval(regs) != 0 {
                    then
                } else {
                    otherwise
                };
                exec(cur, branch, regs, memory, infeasible)?;
            }
        }
    }
    Ok(())
}

/// Run one execution of `t` under `memory` (inside a shuttle test closure).
fn execute(t: &Arc<Litmus>, memory: Memory, hooks: &Hooks) -> Run {
    let n = t.procs.len();
    let names: Vec<String> = t.procs.iter().map(|p| p.name.clone()).collect();
    let world = program_world(&names, &t.init, t.locks.len(), memory);
    let sink = Arc::new(Mutex::new(Sink {
        regs: vec![Vec::new(); n],
        done: vec![false; n],
        infeasible: false,
    }));
    let body: Body = {
        let (t, sink) = (Arc::clone(t), Arc::clone(&sink));
        Arc::new(move |cur: Current<'_>| {
            let p = cur.me();
            let proc = &t.procs[p];
            let mut regs = vec![0; proc.regs.len()];
            let mut infeasible = false;
            exec(cur, &proc.body, &mut regs, memory, &mut infeasible)?;
            let mut s = lock(&sink);
            s.regs[p] = regs;
            s.done[p] = true;
            s.infeasible |= infeasible;
            Ok(())
        })
    };
    let launched = launch_program(ShuttlePlatform::new(n + 1), world, hooks, body);
    let kernel = Arc::clone(&launched.kernel);
    let outcome = launched.finish();
    let vars = kernel.supervise(|w| w.kernel.vars.clone());
    let s = std::mem::take(&mut *lock(&sink));
    Run {
        outcome,
        state: State {
            registers: s.regs,
            vars,
        },
        complete: s.done.iter().all(|&d| d),
        infeasible: s.infeasible,
    }
}

/// Run `f` under shuttle with `sched`; a panic inside (a bug in parkrace) becomes an error.
fn run_shuttle<S: Scheduler + 'static>(
    sched: S,
    f: impl Fn() + Send + Sync + 'static,
) -> Result<(), String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::engine::runner::run(sched, config(), f);
    }))
    .map_err(|p| {
        format!(
            "internal error: the exploration panicked: {}",
            crate::harness::panic_message(&*p)
        )
    })
}

/// What an exploration gathered.
#[derive(Default)]
struct Gathered {
    outcomes: BTreeSet<State>,
    skipped: u64,
    cut: u64,
    witness: bool,
    error: Option<String>,
}

/// Explore every execution of `t` (stopping at the first that satisfies `exists` when
/// `stop_at_witness`). Returns the gathered outcomes, the executions explored and the
/// witness's schedule bytes.
fn explore(
    t: &Litmus,
    memory: Memory,
    stop_at_witness: bool,
) -> Result<(Gathered, u64, Option<Vec<u8>>), String> {
    // No bound: every schedule. The state cache folds the orders of independent steps (and
    // the scheduling points that touch nothing shared: a thread's start, its exit step, its
    // end), without which a test of four processes has billions of schedules; it is sound
    // here because a process is a function of what its steps returned, which the fingerprint
    // holds ([`crate::engine::statecache`]).
    let dfs = BoundedDfs::new(None, BoundKind::Preemptions, None).with_state_cache();
    let hooks = Hooks {
        probe: Some(dfs.probe()),
        fingerprints: true,
        ..Hooks::default()
    };
    let (stop, stats, last) = (
        Arc::clone(&dfs.stop),
        Arc::clone(&dfs.stats),
        Arc::clone(&dfs.last),
    );
    let gathered = Arc::new(Mutex::new(Gathered::default()));
    let t = Arc::new(t.clone());
    {
        let (gathered, stop) = (Arc::clone(&gathered), Arc::clone(&stop));
        run_shuttle(dfs, move || {
            let r = execute(&t, memory, &hooks);
            let mut g = lock(&gathered);
            match r.skip() {
                Err(e) => {
                    g.error.get_or_insert(e);
                    stop.store(true, Ordering::Relaxed);
                }
                Ok(Some("cut")) => g.cut += 1,
                Ok(Some(_)) => g.skipped += 1,
                Ok(None) => {
                    if t.exists.holds(&r.state) && !g.witness {
                        g.witness = true;
                        if stop_at_witness {
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                    g.outcomes.insert(r.state);
                }
            }
        })?;
    }
    let g = std::mem::take(&mut *lock(&gathered));
    if let Some(e) = g.error {
        return Err(e);
    }
    let executions = lock(&stats).executions;
    let bytes = (stop_at_witness && g.witness).then(|| std::mem::take(&mut lock(&last).bytes));
    Ok((g, executions, bytes))
}

/// Run the execution that `bytes` schedule once more, for its trace.
fn replay(t: &Litmus, memory: Memory, bytes: &[u8]) -> Result<Run, String> {
    let out: Arc<Mutex<Option<Run>>> = Arc::new(Mutex::new(None));
    let t = Arc::new(t.clone());
    {
        let out = Arc::clone(&out);
        run_shuttle(ByteScheduler::new(bytes.to_vec()), move || {
            *lock(&out) = Some(execute(&t, memory, &Hooks::default()));
        })?;
    }
    lock(&out)
        .take()
        .ok_or_else(|| "internal error: the witness's schedule did not run".to_string())
}

/// The witness diagram: a legend of the runtime's names, then the race diagram.
fn diagram(t: &Litmus, o: &Outcome) -> String {
    let mut out = String::new();
    let vars: Vec<String> = t
        .vars
        .iter()
        .enumerate()
        .map(|(i, v)| format!("v{i} = {v}"))
        .collect();
    let locks: Vec<String> = t
        .locks
        .iter()
        .enumerate()
        .map(|(i, l)| format!("lock{i} = {l}"))
        .collect();
    let _ = write!(out, "{}", vars.join(", "));
    if !locks.is_empty() {
        let _ = write!(out, "; {}", locks.join(", "));
    }
    out.push('\n');
    out.push_str(&render::table(&o.trace, &o.names, &o.completions, false));
    out
}

/// Answer `t` under `memory`: explore every execution until one satisfies its `exists`
/// clause (`Sometimes`, with that execution as the witness) or none is left (`Never`).
/// An error is a bug in parkrace or an execution the runtime could not run (one line).
pub fn check(t: &Litmus, memory: Memory) -> Result<Answer, String> {
    let (g, executions, bytes) = explore(t, memory, true)?;
    let Some(bytes) = bytes else {
        return Ok(Answer {
            verdict: Verdict::Never,
            executions,
            skipped: g.skipped,
            witness: None,
        });
    };
    let r = replay(t, memory, &bytes)?;
    r.skip()?;
    if r.infeasible || !t.exists.holds(&r.state) {
        return Err(format!(
            "internal error: the witness's schedule replays to another outcome ({:?})",
            r.state
        ));
    }
    let witness = Witness {
        registers: r.state.named_registers(t),
        finals: r.state.named_vars(t),
        diagram: diagram(t, &r.outcome),
        state: r.state,
        bytes,
    };
    Ok(Answer {
        verdict: Verdict::Sometimes,
        executions,
        skipped: g.skipped,
        witness: Some(witness),
    })
}

/// Every final state `t` can end in under `memory` (exploring all executions), with the
/// number of executions explored.
pub fn outcomes(t: &Litmus, memory: Memory) -> Result<(BTreeSet<State>, u64), String> {
    let (g, executions, _) = explore(t, memory, false)?;
    Ok((g.outcomes, executions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::litmus::parse;

    fn sb(fences: bool) -> Litmus {
        let mb = if fences { "smp_mb();" } else { "" };
        parse(&format!(
            "C SB\n{{}}\nP0(int *x, int *y) {{ int r0; WRITE_ONCE(*x, 1); {mb} r0 = READ_ONCE(*y); }}\n\
             P1(int *x, int *y) {{ int r0; WRITE_ONCE(*y, 1); {mb} r0 = READ_ONCE(*x); }}\n\
             exists (0:r0=0 /\\ 1:r0=0)\n"
        ))
        .unwrap()
    }

    fn regs(set: &BTreeSet<State>) -> BTreeSet<(i64, i64)> {
        set.iter()
            .map(|s| (s.registers[0][0], s.registers[1][0]))
            .collect()
    }

    #[test]
    fn store_buffering_outcomes_per_model() {
        let sc: BTreeSet<_> = [(0, 1), (1, 0), (1, 1)].into();
        let all: BTreeSet<_> = [(0, 0), (0, 1), (1, 0), (1, 1)].into();
        assert_eq!(regs(&outcomes(&sb(false), Memory::Sc).unwrap().0), sc);
        assert_eq!(regs(&outcomes(&sb(false), Memory::Tso).unwrap().0), all);
        assert_eq!(regs(&outcomes(&sb(false), Memory::Lkmm).unwrap().0), all);
        assert_eq!(regs(&outcomes(&sb(true), Memory::Lkmm).unwrap().0), sc);
    }

    #[test]
    fn a_witness_replays_and_is_drawn() {
        let a = check(&sb(false), Memory::Lkmm).unwrap();
        assert_eq!(a.verdict, Verdict::Sometimes);
        let w = a.witness.unwrap();
        assert_eq!(w.state.registers, [[0], [0]]);
        assert_eq!(
            w.registers,
            [("0:r0".to_string(), 0), ("1:r0".to_string(), 0)]
        );
        assert!(w.diagram.starts_with("v0 = x, v1 = y\n"), "{}", w.diagram);
        assert!(
            w.diagram.contains("P0") && w.diagram.contains("stale"),
            "{}",
            w.diagram
        );
        let n = check(&sb(true), Memory::Lkmm).unwrap();
        assert_eq!(n.verdict, Verdict::Never);
        assert!(n.witness.is_none());
        assert!(n.executions > a.executions);
    }

    #[test]
    fn a_failing_cmpxchg_is_unordered_under_lkmm() {
        // Both processes' cmpxchg fail (z stays 0): LKMM gives them no ordering, so this
        // is store buffering.
        let t = parse(
            "C cas\n{}\nP0(int *x, int *y, int *z) { int r0; int r1; WRITE_ONCE(*x, 1); \
             r1 = cmpxchg(z, 1, 2); r0 = READ_ONCE(*y); }\n\
             P1(int *x, int *y, int *z) { int r0; int r1; WRITE_ONCE(*y, 1); \
             r1 = cmpxchg(z, 1, 2); r0 = READ_ONCE(*x); }\nexists (0:r0=0 /\\ 1:r0=0)\n",
        )
        .unwrap();
        assert_eq!(check(&t, Memory::Lkmm).unwrap().verdict, Verdict::Sometimes);
        // Under tso a failing cmpxchg is still a locked instruction: a full barrier.
        assert_eq!(check(&t, Memory::Tso).unwrap().verdict, Verdict::Never);
    }

    #[test]
    fn lock_order_deadlocks_are_skipped() {
        let t = parse(
            "C abba\n{}\nP0(int *x, spinlock_t *a, spinlock_t *b) { spin_lock(a); spin_lock(b); \
             WRITE_ONCE(*x, 1); spin_unlock(b); spin_unlock(a); }\n\
             P1(int *x, spinlock_t *a, spinlock_t *b) { spin_lock(b); spin_lock(a); \
             WRITE_ONCE(*x, 2); spin_unlock(a); spin_unlock(b); }\nexists (x=1 \\/ x=2)\n",
        )
        .unwrap();
        let (set, _) = outcomes(&t, Memory::Sc).unwrap();
        let finals: BTreeSet<i64> = set.iter().map(|s| s.vars[0]).collect();
        assert_eq!(finals, [1, 2].into());
        let a = check(&t, Memory::Lkmm).unwrap();
        assert_eq!(a.verdict, Verdict::Sometimes);
    }
}
