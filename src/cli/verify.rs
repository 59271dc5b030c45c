//! `parkrace verify`: exhaustive verification of (variant x scenario), one row each.

use super::{
    EXIT_CRASH, EXIT_FINDING, EXIT_IO, EXIT_OK, VerifyArgs, jobs_or_cores, parse_duration,
    targets_for, usage,
};
use crate::engine::bounded::BoundKind;
use crate::engine::bounded::Watch;
use crate::tools::pool;
use crate::tools::repro::Repro;
use crate::tools::verify::{Verdict, Verify, verify_watched};
use serde_json::json;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

fn parse(a: &VerifyArgs) -> Result<Vec<Verify>, String> {
    let targets = targets_for(
        &a.variants,
        &a.scenarios,
        || {
            crate::history::fixed()
                .iter()
                .map(|p| p.variant())
                .collect()
        },
        &a.oracles,
    )?;
    let mut targets = targets;
    if let Some(m) = a.memory {
        for t in &mut targets {
            t.scenario.memory = m;
        }
    }
    let time = a.time.as_deref().map(parse_duration).transpose()?;
    if a.preemptions.is_none() {
        if a.no_state_cache {
            return Err(
                "--no-state-cache needs a bound (-k K): without one, only the state \
                        cache ends the search"
                    .into(),
            );
        }
        if a.delays.is_some() || a.count != BoundKind::Preemptions {
            return Err("--delays and --count delays bound a search: give -k K as well".into());
        }
    } else if a.reduce {
        return Err(
            "--reduce searches without a bound: under one, a sleep set can prune the only \
             schedule of a class that fits it"
                .into(),
        );
    }
    if a.reduce
        && targets
            .iter()
            .any(|t| t.scenario.memory != crate::scenario::Memory::Sc)
    {
        return Err(
            "--reduce needs --memory sc: the weak models' moves have no footprints yet".into(),
        );
    }
    if a.delays.is_some() && a.count != BoundKind::Preemptions {
        return Err(
            "--delays caps delays beside --count preemptions; with --count delays, K \
                    already counts them"
                .into(),
        );
    }
    Ok(targets
        .into_iter()
        .map(|target| Verify {
            target,
            bound: a.preemptions,
            kind: a.count,
            delays: a.delays,
            time,
            cache: !a.no_state_cache,
            reduce: a.reduce,
        })
        .collect())
}

/// How often a line on stderr says where the searches still running are.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// One line on stderr per search still running: its bound, executions and states so far.
fn progress(jobs: &[Verify], watches: &[(Arc<Watch>, OnceLock<Instant>)], done: &[bool]) {
    for (i, (w, started)) in watches.iter().enumerate() {
        let Some(t0) = started.get() else { continue };
        if done[i] {
            continue;
        }
        let j = &jobs[i].target;
        let states = w.states.load(Ordering::Relaxed);
        let bound = match jobs[i].bound {
            Some(k) => format!("bound {} of {k}", w.bound.load(Ordering::Relaxed)),
            None => "no bound".to_string(),
        };
        eprintln!(
            "verify: {} {}: {bound}, {} schedules{}, {:.0} s",
            j.variant.label(),
            j.scenario.label(),
            w.executions.load(Ordering::Relaxed),
            if jobs[i].cache {
                format!(" ({states} states)")
            } else {
                String::new()
            },
            t0.elapsed().as_secs_f64()
        );
    }
}

pub(super) fn cmd_verify(a: VerifyArgs) -> i32 {
    let jobs = match parse(&a) {
        Ok(j) => j,
        Err(e) => return usage(e),
    };
    let workers = jobs_or_cores(a.jobs);
    // What each job is doing, for the progress lines: its search's watch and start time.
    let watches: Vec<(Arc<Watch>, OnceLock<Instant>)> = (0..jobs.len())
        .map(|_| (Arc::new(Watch::default()), OnceLock::new()))
        .collect();
    let work = |i: usize, job: &Verify| {
        let _ = watches[i].1.set(Instant::now());
        verify_watched(job, Some(&watches[i].0))
    };

    let mut out = std::io::stdout().lock();
    let mut status = EXIT_OK;
    let mut io_error = false;
    let print = |i: usize, d: Verdict| {
        if io_error {
            return;
        }
        {
            let j = &jobs[i].target;
            let bound = jobs[i].bound;
            let mut repro_path = None;
            if let Some((stopped, run)) = &d.found {
                status = EXIT_FINDING;
                let rep = Repro::of_bytes(
                    j.variant,
                    &j.scenario,
                    j.oracles,
                    &match bound {
                        Some(k) => format!("verify:{k}"),
                        None => "verify".to_string(),
                    },
                    d.schedules() as usize,
                    &stopped.bytes,
                    run,
                )
                .expect("a schedule found violating replays as a violation");
                match rep.save(&a.out) {
                    Ok(p) => repro_path = Some(p.display().to_string()),
                    Err(e) => {
                        eprintln!("parkrace: cannot write into {}: {e}", a.out.display());
                        io_error = true;
                        return;
                    }
                }
            } else if !d.verified() {
                status = EXIT_FINDING;
            }
            let label = j.variant.label();
            // The oracles this run did not check, and why (a preset history calls buggy, under
            // `--oracles history`, checks only the oracles it keeps).
            let left_out: Vec<&str> = crate::oracle::Oracle::ALL
                .iter()
                .filter(|o| !j.oracles.contains(**o))
                .map(|o| o.name())
                .collect();
            let why_left_out = match j.variant.preset() {
                Some(p) if !left_out.is_empty() && !p.history_fails().is_empty() => format!(
                    "; left out: {} (history says {p} violates {}; --oracles all checks them)",
                    left_out.join(" "),
                    p.history_fails()
                        .iter()
                        .map(|o| o.name())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                _ if !left_out.is_empty() => format!("; left out: {}", left_out.join(" ")),
                _ => String::new(),
            };
            let what = match (a.count, a.delays) {
                (BoundKind::Delays, _) => "preemptions+delays".to_string(),
                (BoundKind::Preemptions, None) => "preemptions".to_string(),
                (BoundKind::Preemptions, Some(d)) => format!("preemptions and {d} delays"),
            };
            let st = d.stats.clone();
            if a.json {
                let v = json!({
                    "variant": label,
                    "switches": j.variant.switch_string(),
                    "scenario": j.scenario.name,
                    "memory": j.scenario.memory.name(),
                    "oracles": j.oracles.to_string(),
                    "left_out": left_out,
                    "preemptions": bound,
                    "count": what,
                    "delays": a.delays,
                    "verified": d.verified(),
                    "complete": d.found.is_some() || d.verified() || d.livelock.is_some_and(|n| n > 0),
                    "fewest": d.fewest(),
                    "schedules": st.executions,
                    "schedules_per_bound": st.per_bound,
                    "state_cache": jobs[i].cache,
                    "states": st.states,
                    "transitions": st.transitions,
                    "replayed": st.replayed,
                    "cuts": st.cuts,
                    "cycles": st.cycles,
                    "guard_hits": st.guard_hits,
                    "reduced": d.reduced,
                    "slept": st.slept,
                    "sleep_cuts": st.sleep_cuts,
                    "livelocks_proven_absent": d.verified() && !d.reduced,
                    "livelock_states": d.livelock,
                    "max_decisions": st.max_decisions,
                    "elapsed_ms": d.elapsed.as_millis() as u64,
                    "violation": d.found.as_ref().map(|(stopped, run)| {
                        let v = run.outcome.violation.as_ref().expect("a violation");
                        json!({"oracle": v.oracle.name(), "detail": v.detail, "preemptions": run.preemptions(), "reorderings": run.reorderings(), "delays": stopped.delays, "steps": run.outcome.steps, "livelock": stopped.cycle.is_some()})
                    }),
                    "repro": repro_path,
                });
                let _ = writeln!(out, "{v}");
            } else {
                // "(the fewest)" only where bound by bound found it.
                let fewest = |s: &str| {
                    if d.fewest() {
                        s.to_string()
                    } else {
                        String::new()
                    }
                };
                let verdict = match &d.found {
                    Some((stopped, run)) => {
                        let v = run.outcome.violation.as_ref().expect("a violation");
                        let cost = match a.count {
                            BoundKind::Delays => format!(
                                "{} preemption(s) + {} delay(s){}",
                                run.preemptions(),
                                stopped.delays,
                                fewest(" (the fewest together)")
                            ),
                            BoundKind::Preemptions => format!(
                                "{} preemption(s){} + {} delay(s)",
                                run.preemptions(),
                                fewest(&format!(
                                    " (the fewest{})",
                                    a.delays
                                        .map(|d| format!(" with at most {d} delays"))
                                        .unwrap_or_default()
                                )),
                                stopped.delays
                            ),
                        };
                        // Under a weak memory model K counts reorderings as well.
                        let cost = if j.scenario.memory.is_weak() {
                            format!("{cost} + {} reordering(s)", run.reorderings())
                        } else {
                            cost
                        };
                        let cost = if stopped.cycle.is_some() {
                            format!("{cost}, a fair cycle repeated to the step bound")
                        } else {
                            cost
                        };
                        format!(
                            "VIOLATION {} with {cost}, {}",
                            v.oracle,
                            repro_path.as_deref().unwrap_or("")
                        )
                    }
                    None if d.livelock.is_some_and(|n| n > 0) => format!(
                        "VIOLATION I7: livelock: {} states form a strongly connected set with a \
                         fair cycle through them, along which no operation completes (no repro \
                         file: the cycle passes a state more than once)",
                        d.livelock.unwrap_or(0)
                    ),
                    None if d.stats.exhausted
                        && d.stats.guard_hits == 0
                        && d.livelock.is_none() =>
                    {
                        format!(
                            "INCOMPLETE: {} cycle(s) of states met, whose fairness was not judged \
                             (only a search without a bound, run to its end, judges it): I7 is \
                             not proven",
                            st.cycles
                        )
                    }
                    None if d.verified() => format!(
                        "verified: no violation of {} {} in {} schedules{}{why_left_out}",
                        j.oracles,
                        match bound {
                            Some(k) => format!("with at most {k} {what}"),
                            None => "in the whole state graph".to_string(),
                        },
                        d.schedules(),
                        if jobs[i].cache {
                            format!(
                                " ({} states, {} transitions; {} cut at a state explored \
                                 before, {} at an unfair cycle{})",
                                st.states,
                                st.transitions,
                                st.cuts,
                                st.cycles,
                                if d.reduced {
                                    format!(
                                        "; reduced: {} options asleep, {} schedules ended \
                                         asleep; I7's livelocks not covered",
                                        st.slept, st.sleep_cuts
                                    )
                                } else {
                                    String::new()
                                }
                            )
                        } else {
                            String::new()
                        }
                    ),
                    None if st.guard_hits > 0 => format!(
                        "INCOMPLETE: {} path(s) ran past the step guard ({} steps) without \
                         repeating a state, after {} schedules",
                        st.guard_hits, j.scenario.max_steps, st.executions
                    ),
                    None => format!(
                        "INCOMPLETE: out of time after {} schedules ({} states)",
                        st.executions, st.states
                    ),
                };
                let _ = writeln!(
                    out,
                    "{:<8} {:<18} {:<5} {:>7.1} s  [{}]  {}",
                    label,
                    j.scenario.label(),
                    match bound {
                        Some(k) => format!("K<={k}"),
                        None => "K=any".to_string(),
                    },
                    d.elapsed.as_secs_f64(),
                    st.per_bound
                        .iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(" / "),
                    verdict
                );
            }
            let _ = out.flush();
        }
    };
    // The searches likely to be longest start first, so that the workers end together
    // (the output keeps the order of the arguments).
    let mut start: Vec<usize> = (0..jobs.len()).collect();
    start.sort_by_key(|&i| std::cmp::Reverse(jobs[i].target.scenario.search_weight()));
    let died = pool::run_ordered_starting(
        workers,
        &jobs,
        &start,
        work,
        print,
        PROGRESS_EVERY,
        |done| progress(&jobs, &watches, done),
    );
    if let Err(d) = died {
        eprintln!("parkrace: {d}");
        return EXIT_CRASH;
    }
    if io_error {
        return EXIT_IO;
    }
    status
}
