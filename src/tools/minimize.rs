//! Minimization of a failing schedule: the fewest preemptions that still violate the same
//! oracle, then the fewest steps.
//!
//! A schedule is worked on as the bytes of the byte-driven scheduler
//! ([`crate::engine::bytes::ByteScheduler`]), where 0 means "no preemption" and every byte
//! string is a valid schedule, so a change can never make a schedule unreplayable; it can only
//! lose the violation. The search is greedy (delta debugging over the bytes): zero chunks,
//! lower single bytes, delete chunks, keep a change when it still violates the same oracle and
//! strictly lowers (preemptions, steps, non-zero bytes, byte sum), repeat until nothing
//! improves or the try budget is spent. The result is 1-minimal: no single remaining
//! preemption can be dropped. Greedy search can stop in a local minimum, so random schedules
//! with fewer preemptions (at most k = 0, 1, ... below the best) are then sampled, and each
//! hit is minimized greedily in turn. This finds the fewest preemptions in practice; `verify`
//! (bounded-exhaustive search) is what proves a bound.

use crate::engine::schedule::Decision;
use crate::oracle::{Oracle, OracleSet};
use crate::scenario::{KStart, Op, Scenario};
use crate::tools::explore::{ByteRun, bytes_of_decisions, run_bytes, sample_bounded};
use crate::tools::repro::{MinimizedFrom, Repro, to_hex};
use crate::variant::Variant;
use std::time::{Duration, Instant};

/// The most minimization tries (`minimize --tries`, `soak --minimize-tries`, `--key-tries`,
/// and the tries in a soak campaign file).
pub const MAX_TRIES: usize = 10_000_000;

/// Tries (executions) a minimization may spend by default.
pub const DEFAULT_TRIES: usize = 20_000;

/// Tries a minimization may spend by default under a weak memory model: its witnesses need
/// switches and stale reads together, which the sampling below finds only with more samples.
pub const DEFAULT_TRIES_WEAK: usize = 200_000;

/// The default tries for a scenario: [`DEFAULT_TRIES`], or [`DEFAULT_TRIES_WEAK`] under `tso`
/// or `lkmm`.
pub fn default_tries(scenario: &Scenario) -> usize {
    if scenario.memory.is_weak() {
        DEFAULT_TRIES_WEAK
    } else {
        DEFAULT_TRIES
    }
}

/// Random schedules sampled per bound before trying the next bound (under a weak memory
/// model more: the bound counts reorderings too, and each sample must place them as well;
/// measured on V0's lkmm hang, 2,000 per bound stop at 6 preemptions + 2 reorderings, 10,000
/// reach 3 + 2).
fn samples_per_bound(scenario: &Scenario) -> usize {
    if scenario.memory.is_weak() {
        10_000
    } else {
        2_000
    }
}

/// The size of a schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Measure {
    /// Preemptive switches between model threads plus injected ticks/wakeup preemptions.
    pub preemptions: u32,
    /// Weak-memory reorderings (stale reads, out-of-order placements; model.md m.3).
    pub reorderings: u32,
    /// Model steps up to the end of the execution.
    pub steps: u64,
}

impl Measure {
    pub fn of(r: &ByteRun) -> Measure {
        Measure {
            preemptions: r.preemptions(),
            reorderings: r.reorderings(),
            steps: r.outcome.steps,
        }
    }
}

/// A minimized schedule.
#[derive(Clone, Debug)]
pub struct Minimized {
    /// The schedule bytes (trailing zeros dropped).
    pub bytes: Vec<u8>,
    /// Its execution.
    pub run: ByteRun,
    pub before: Measure,
    pub after: Measure,
    /// Executions spent.
    pub tries: usize,
    pub elapsed: Duration,
}

/// What minimization lowers, in order: preemptions plus reorderings (a reordering costs what a
/// preemption does, as in `verify`'s bound), reorderings, steps, then the bytes themselves.
fn key(r: &ByteRun, bytes: &[u8]) -> (u32, u32, u64, usize, u64) {
    let used = &bytes[..r.stats.consumed.min(bytes.len())];
    (
        r.preemptions() + r.reorderings(),
        r.reorderings(),
        r.outcome.steps,
        used.iter().filter(|&&b| b != 0).count(),
        used.iter().map(|&b| u64::from(b)).sum(),
    )
}

/// Drop what the execution did not read, and trailing zeros (absent input reads as zero).
fn trim(mut bytes: Vec<u8>, r: &ByteRun) -> Vec<u8> {
    bytes.truncate(r.stats.consumed);
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    bytes
}

struct Search<'a> {
    scenario: &'a Scenario,
    variant: Variant,
    oracles: OracleSet,
    oracle: Oracle,
    best: Vec<u8>,
    best_run: ByteRun,
    tries: usize,
    max_tries: usize,
}

impl Search<'_> {
    /// Try a candidate; keep it if it is strictly better. Returns whether it was kept.
    fn try_bytes(&mut self, cand: Vec<u8>) -> bool {
        if self.tries >= self.max_tries || cand == self.best {
            return false;
        }
        self.tries += 1;
        let r = run_bytes(self.scenario, self.variant, self.oracles, &cand);
        let same = r.outcome.violation.as_ref().map(|v| v.oracle) == Some(self.oracle);
        if same && key(&r, &cand) < key(&self.best_run, &self.best) {
            self.best = trim(cand, &r);
            self.best_run = r;
            true
        } else {
            false
        }
    }

    /// Greedy passes until nothing improves.
    fn greedy(&mut self) {
        loop {
            let mut improved = self.zero_chunks();
            improved |= self.lower_bytes();
            improved |= self.delete_chunks();
            if !improved || self.exhausted() {
                break;
            }
        }
    }

    fn exhausted(&self) -> bool {
        self.tries >= self.max_tries
    }

    /// Chunk sizes from half the length down to 1.
    fn sizes(&self) -> Vec<usize> {
        let mut n = self.best.len().next_power_of_two() / 2;
        let mut v = Vec::new();
        while n >= 1 {
            v.push(n);
            n /= 2;
        }
        v
    }

    fn zero_chunks(&mut self) -> bool {
        let mut improved = false;
        for n in self.sizes() {
            let mut start = 0;
            while start < self.best.len() && !self.exhausted() {
                let end = (start + n).min(self.best.len());
                if self.best[start..end].iter().any(|&b| b != 0) {
                    let mut c = self.best.clone();
                    c[start..end].fill(0);
                    improved |= self.try_bytes(c);
                }
                start += n;
            }
        }
        improved
    }

    fn lower_bytes(&mut self) -> bool {
        let mut improved = false;
        let mut i = 0;
        while i < self.best.len() && !self.exhausted() {
            let b = self.best[i];
            for v in [1u8, 2, 3, 4, 5] {
                if v >= b || i >= self.best.len() {
                    break;
                }
                let mut c = self.best.clone();
                c[i] = v;
                if self.try_bytes(c) {
                    improved = true;
                    break;
                }
            }
            i += 1;
        }
        improved
    }

    fn delete_chunks(&mut self) -> bool {
        let mut improved = false;
        for n in self.sizes() {
            let mut start = 0;
            while start < self.best.len() && !self.exhausted() {
                let end = (start + n).min(self.best.len());
                let mut c = self.best.clone();
                c.drain(start..end);
                if self.try_bytes(c) {
                    improved = true;
                } else {
                    start += n;
                }
            }
        }
        improved
    }
}

/// Minimize a failing schedule given as recorded decisions. Fails if the decisions do not
/// replay, or do not violate an oracle.
pub fn minimize(
    scenario: &Scenario,
    variant: Variant,
    oracles: OracleSet,
    decisions: &[Decision],
    max_tries: usize,
) -> Result<Minimized, String> {
    let bytes = bytes_of_decisions(scenario, variant, oracles, decisions)?;
    minimize_bytes(scenario, variant, oracles, bytes, max_tries)
}

/// Minimize a failing schedule given as schedule bytes.
pub fn minimize_bytes(
    scenario: &Scenario,
    variant: Variant,
    oracles: OracleSet,
    bytes: Vec<u8>,
    max_tries: usize,
) -> Result<Minimized, String> {
    let start = Instant::now();
    let run = run_bytes(scenario, variant, oracles, &bytes);
    let Some(oracle) = run.outcome.violation.as_ref().map(|v| v.oracle) else {
        return Err("the schedule violates no oracle".into());
    };
    let before = Measure::of(&run);
    let mut s = Search {
        scenario,
        variant,
        oracles,
        oracle,
        best: trim(bytes, &run),
        best_run: run,
        tries: 1,
        max_tries,
    };
    s.greedy();
    // Greedy search stops in local minima (a preemption that cannot go alone may go together
    // with another one moved). Sample schedules with fewer preemptions than the best so far,
    // k = 0, 1, ...; a hit is minimized greedily in turn.
    let mut k = 0;
    let mut seed = 0x9a4c_2b1d_u64;
    let cost = |r: &ByteRun| r.preemptions() + r.reorderings();
    while k < cost(&s.best_run) && !s.exhausted() {
        let odds = (s.best_run.stats.decisions as u64 / u64::from(k + 1)).max(2);
        let mut hit = None;
        for _ in 0..samples_per_bound(scenario) {
            if s.exhausted() {
                break;
            }
            s.tries += 1;
            seed = seed.wrapping_add(1);
            let (bytes, out) = sample_bounded(scenario, variant, oracles, seed, k, odds);
            if out.violation.as_ref().map(|v| v.oracle) == Some(oracle) {
                hit = Some(bytes);
                break;
            }
        }
        match hit {
            Some(bytes) => {
                let before = cost(&s.best_run);
                s.try_bytes(bytes);
                s.greedy();
                if cost(&s.best_run) >= before {
                    k += 1;
                }
            }
            None => k += 1,
        }
    }
    Ok(Minimized {
        after: Measure::of(&s.best_run),
        bytes: s.best,
        run: s.best_run,
        before,
        tries: s.tries,
        elapsed: start.elapsed(),
    })
}

impl Repro {
    /// The same finding with its schedule replaced by the minimized one (and a note of the
    /// size it had before).
    pub fn with_minimized(&self, m: &Minimized) -> Repro {
        let f = m
            .run
            .found(self.execution)
            .expect("a minimized schedule violates its oracle");
        Repro {
            schedule_bytes: Some(to_hex(&m.bytes)),
            switches: Some(m.run.stats.switches),
            minimized_from: Some(MinimizedFrom {
                preemptions: m.before.preemptions,
                steps: m.before.steps,
            }),
            ..Repro::new(
                self.variant,
                &self.scenario,
                self.oracles,
                &self.strategy,
                self.seed,
                &f,
            )
        }
    }
}

/// One-step simplifications of a scenario, simplest change first: no waker, no extra task,
/// no preemption (or a smaller budget), one CPU, plain unpark instead of hotplug, no creation,
/// one operation fewer. Only valid scenarios.
pub fn simpler_scenarios(s: &Scenario) -> Vec<Scenario> {
    let mut out: Vec<Scenario> = Vec::new();
    let mut push = |c: Scenario| {
        if c.validate().is_ok() && c != *s && !out.contains(&c) {
            out.push(c);
        }
    };
    if s.waker {
        push(Scenario {
            waker: false,
            ..s.clone()
        });
    }
    if s.extra {
        push(Scenario {
            extra: false,
            ..s.clone()
        });
    }
    if s.preempt {
        push(Scenario {
            preempt: false,
            budget: 0,
            irq_gap: false,
            ..s.clone()
        });
        if s.budget > 1 {
            push(Scenario {
                budget: s.budget - 1,
                ..s.clone()
            });
        }
    }
    let hotplug = s.ops.iter().any(|o| matches!(o, Op::Takedown | Op::Online));
    if hotplug {
        let ops = s
            .ops
            .iter()
            .filter(|&&o| o != Op::Takedown)
            .map(|&o| if o == Op::Online { Op::Unpark } else { o })
            .collect();
        push(Scenario { ops, ..s.clone() });
    }
    if s.cpus > 1 && !hotplug {
        push(Scenario {
            cpus: 1,
            controller_cpu: 0,
            kthread_cpu: 0,
            ..s.clone()
        });
    }
    if s.kthread_start == KStart::Fresh {
        push(Scenario {
            kthread_start: KStart::Loop,
            ops: s.ops[1..].to_vec(),
            ..s.clone()
        });
    }
    for i in (0..s.ops.len()).rev() {
        let mut ops = s.ops.clone();
        ops.remove(i);
        push(Scenario { ops, ..s.clone() });
    }
    out
}

/// Samples per simpler scenario when looking for the same violation there.
const SAMPLES_PER_SCENARIO: usize = 1500;

/// Minimize the schedule, then the scenario: take a simpler scenario (see
/// [`simpler_scenarios`]) whenever random schedules of it with no more preemptions violate the
/// same oracle, and minimize again there. The scenario that results may show the same oracle
/// through a simpler race than the original; it is named `NAME-reduced`.
pub fn minimize_with_scenario(
    scenario: &Scenario,
    variant: Variant,
    oracles: OracleSet,
    bytes: Vec<u8>,
    max_tries: usize,
) -> Result<(Scenario, Minimized), String> {
    let start = Instant::now();
    let mut m = minimize_bytes(scenario, variant, oracles, bytes, max_tries)?;
    let oracle = m.run.outcome.violation.as_ref().map(|v| v.oracle);
    let before = m.before;
    let mut tries = m.tries;
    let mut cur = scenario.clone();
    let mut seed = 0x5ce0_u64;
    'outer: while tries < max_tries.saturating_mul(4) {
        for c in simpler_scenarios(&cur) {
            let mut hit = None;
            'find: for k in 0..=m.after.preemptions {
                for _ in 0..SAMPLES_PER_SCENARIO / (m.after.preemptions as usize + 1) {
                    seed = seed.wrapping_add(1);
                    tries += 1;
                    let (b, out) = sample_bounded(&c, variant, oracles, seed, k, 16);
                    if out.violation.as_ref().map(|v| v.oracle) == oracle {
                        hit = Some(b);
                        break 'find;
                    }
                }
            }
            let Some(b) = hit else { continue };
            let m2 = minimize_bytes(&c, variant, oracles, b, max_tries)?;
            tries += m2.tries;
            if m2.run.outcome.violation.as_ref().map(|v| v.oracle) == oracle
                && m2.after.preemptions <= m.after.preemptions
            {
                cur = c;
                m = m2;
                continue 'outer;
            }
        }
        break;
    }
    if cur != *scenario {
        cur.name = format!("{}-reduced", scenario.name);
        cur.about = format!("reduced by parkrace minimize from: {}", scenario.describe());
    }
    m.before = before;
    m.tries = tries;
    m.elapsed = start.elapsed();
    Ok((cur, m))
}
