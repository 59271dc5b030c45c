//! The general search loop: run any schedule-searching [`Strategy`] on a [`Target`] from a
//! seed until its first violation, its caps or its limits. Shared by `hunt`, `compare` and
//! `soak`: shuttle's schedulers (and parkrace's own) run through [`hunt_with`], the
//! byte-driven ones ([`Strategy::Bytes`], [`Strategy::Bounded`]) through [`run_bytes`] and
//! [`sample_bounded`].

use crate::scenario::SplitMix;
use crate::strategy::Strategy;
use crate::tools::explore::{Found, Hunt, Limits, hunt_with, run_bytes, sample_bounded};
use crate::tools::target::Target;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Caps of one run (one strategy from one seed).
#[derive(Clone, Copy, Debug)]
pub struct Caps {
    pub executions: usize,
    pub time: Option<Duration>,
}

/// A violation a search found: the execution, and its schedule bytes when the search drove
/// the model by bytes.
#[derive(Clone, Debug)]
pub struct Hit {
    pub found: Found,
    pub bytes: Option<Vec<u8>>,
}

/// One search: its cost, and the first violation it found.
#[derive(Clone, Debug)]
pub struct Searched {
    pub executions: usize,
    /// Model steps of every execution together.
    pub steps: u64,
    pub elapsed: Duration,
    pub hit: Option<Hit>,
    /// Ended by [`Limits::cancel`] before its caps.
    pub cancelled: bool,
}

/// Run `c` on `t` from `seed` until the first violation, the caps or one of `limits`.
/// A strategy that is no schedule search here ([`Strategy::LibFuzzer`], a subprocess, and
/// [`Strategy::Native`], OS threads) runs nothing: its callers run it their own way.
pub fn search(t: &Target, c: Strategy, seed: u64, caps: Caps, limits: &Limits) -> Searched {
    let start = Instant::now();
    if c.is_shuttle() {
        let r = hunt_with(
            &Hunt {
                variant: t.variant,
                scenario: t.scenario.clone(),
                strategy: c,
                oracles: t.oracles,
                executions: caps.executions,
                time: caps.time,
                seed,
            },
            limits,
        );
        return Searched {
            executions: r.executions,
            steps: r.steps,
            elapsed: r.elapsed,
            hit: r.found.map(|found| Hit { found, bytes: None }),
            cancelled: r.cancelled,
        };
    }
    if !c.is_byte_driven() {
        return Searched {
            executions: 0,
            steps: 0,
            elapsed: start.elapsed(),
            hit: None,
            cancelled: false,
        };
    }
    let mut rng = SplitMix(seed ^ 0xb17e_5b17_e5b1_7e5b);
    let mut bytes = vec![0u8; 512];
    let mut steps = 0;
    let end = |executions, steps, hit, cancelled| Searched {
        executions,
        steps,
        elapsed: start.elapsed(),
        hit,
        cancelled,
    };
    for i in 1..=caps.executions {
        let found = match c {
            Strategy::Bounded(k) => {
                let s = rng.next();
                let (b, out) = sample_bounded(&t.scenario, t.variant, t.oracles, s, k, 16);
                steps += out.steps;
                bytes = b;
                // Run the (rare) violating schedule again for its decisions.
                out.violation
                    .and_then(|_| run_bytes(&t.scenario, t.variant, t.oracles, &bytes).found(i))
            }
            _ => {
                bytes.iter_mut().for_each(|b| *b = rng.next() as u8);
                let run = run_bytes(&t.scenario, t.variant, t.oracles, &bytes);
                steps += run.outcome.steps;
                run.found(i)
            }
        };
        if let Some(found) = found {
            let hit = Hit {
                found,
                bytes: Some(bytes),
            };
            return end(i, steps, Some(hit), false);
        }
        if limits
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return end(i, steps, None, true);
        }
        if caps.time.is_some_and(|d| start.elapsed() >= d)
            || limits.steps.is_some_and(|b| steps >= b)
        {
            return end(i, steps, None, false);
        }
    }
    end(caps.executions, steps, None, false)
}
