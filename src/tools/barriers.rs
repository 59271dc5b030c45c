//! `parkrace barriers`: is each barrier of a variant load-bearing? For every barrier the
//! variant has ([`crate::variant::BARRIERS`], model.md m.2), the variant with that barrier
//! alone removed is searched on every scenario asked for, under a weak memory model, for a
//! violation of the oracles kernel history says the variant keeps. A violation makes the
//! barrier load-bearing (its schedule is minimized and saved as a repro file); none within
//! the budget leaves it "not shown", with the budget stated.

use crate::history;
use crate::oracle::OracleSet;
use crate::scenario::Scenario;
use crate::strategy::Strategy;
use crate::tools::explore::Limits;
use crate::tools::minimize::{default_tries, minimize};
use crate::tools::pool::{self, WorkerDied};
use crate::tools::repro::Repro;
use crate::tools::search::{Caps, search};
use crate::tools::target::Target;
use crate::variant::{BARRIERS, Barrier, Variant};
use std::time::Duration;

/// What to ask.
#[derive(Clone, Debug)]
pub struct Ask {
    /// The variant whose barriers are removed one at a time.
    pub base: Variant,
    /// The scenarios, each already under its memory model.
    pub scenarios: Vec<Scenario>,
    pub strategies: Vec<Strategy>,
    /// Executions per (barrier, scenario, strategy).
    pub executions: usize,
    pub seed: u64,
    pub jobs: usize,
    /// Minimize each violation found.
    pub minimize: bool,
}

/// What removing one barrier showed.
#[derive(Clone, Debug)]
pub enum Shown {
    /// A violation: the first scenario (in the order asked) where one was found, its repro
    /// (minimized unless asked not to).
    LoadBearing {
        scenario: Scenario,
        repro: Box<Repro>,
    },
    /// No violation in `executions` executions over every scenario.
    NotShown { executions: u64 },
}

/// One barrier's row (the first row, `barrier: None`, is the variant itself).
#[derive(Clone, Debug)]
pub struct Row {
    pub barrier: Option<&'static Barrier>,
    pub variant: Variant,
    pub oracles: OracleSet,
    pub shown: Shown,
}

/// The barriers `base` has: their site exists and their switch is on.
pub fn present(base: &Variant) -> Vec<&'static Barrier> {
    BARRIERS.iter().filter(|b| b.present(base)).collect()
}

/// Search the variant itself, then each barrier removed, on every scenario. `done` is called
/// as cells finish (for progress).
pub fn barriers(a: &Ask, mut done: impl FnMut()) -> Result<Vec<Row>, WorkerDied> {
    let oracles = history::kept(&a.base);
    let mut rows: Vec<(Option<&'static Barrier>, Variant)> = vec![(None, a.base)];
    rows.extend(
        present(&a.base)
            .into_iter()
            .map(|b| (Some(b), b.removed(a.base))),
    );
    struct Cell {
        row: usize,
        target: Target,
        strategy: Strategy,
    }
    let mut cells = Vec::new();
    for (i, (_, v)) in rows.iter().enumerate() {
        for s in &a.scenarios {
            for &st in &a.strategies {
                cells.push(Cell {
                    row: i,
                    target: Target::new(*v, s.clone(), oracles),
                    strategy: st,
                });
            }
        }
    }
    let limits = Limits::default();
    let caps = Caps {
        executions: a.executions,
        time: None,
    };
    let mut results: Vec<Option<(usize, u64, Option<Repro>)>> = Vec::new();
    results.resize_with(cells.len(), || None);
    pool::run_ordered(
        a.jobs,
        &cells,
        |_, c| {
            let r = search(&c.target, c.strategy, a.seed, caps, &limits);
            // Minimized later, one per row (the first scenario's), not per cell.
            let repro = r.hit.as_ref().map(|h| {
                let t = &c.target;
                Repro::new(
                    t.variant,
                    &t.scenario,
                    t.oracles,
                    &c.strategy.to_string(),
                    a.seed,
                    &h.found,
                )
            });
            (c.row, r.executions as u64, repro)
        },
        |i, r| {
            results[i] = Some(r);
            done();
        },
        Duration::from_millis(200),
        |_| {},
    )?;
    let mut out = Vec::new();
    for (i, (barrier, variant)) in rows.into_iter().enumerate() {
        let mine = cells
            .iter()
            .zip(&results)
            .filter(|(c, _)| c.row == i)
            .filter_map(|(c, r)| r.as_ref().map(|r| (c, r)));
        let mut executions = 0;
        let mut first: Option<(Scenario, Repro)> = None;
        for (c, (_, n, repro)) in mine {
            executions += n;
            if first.is_none()
                && let Some(rep) = repro
            {
                first = Some((c.target.scenario.clone(), rep.clone()));
            }
        }
        let shown = match first {
            Some((scenario, repro)) => Shown::LoadBearing {
                scenario,
                repro: Box::new(repro),
            },
            None => Shown::NotShown { executions },
        };
        out.push(Row {
            barrier,
            variant,
            oracles,
            shown,
        });
    }
    if a.minimize {
        // The load-bearing rows' repros, minimized side by side.
        let found: Vec<usize> = (0..out.len())
            .filter(|&i| matches!(out[i].shown, Shown::LoadBearing { .. }))
            .collect();
        let mut minimized: Vec<Option<Repro>> = vec![None; found.len()];
        pool::run_ordered(
            a.jobs,
            &found,
            |_, &i| {
                let Shown::LoadBearing { scenario, repro } = &out[i].shown else {
                    return None;
                };
                let d = repro.decisions().ok()?;
                let m = minimize(
                    scenario,
                    repro.variant,
                    repro.oracles,
                    &d,
                    default_tries(scenario),
                )
                .ok()?;
                let same = m.run.outcome.violation.as_ref().map(|v| v.oracle)
                    == Some(repro.violation.oracle);
                same.then(|| repro.with_minimized(&m))
            },
            |j, r| minimized[j] = r,
            Duration::from_millis(200),
            |_| {},
        )?;
        for (j, &i) in found.iter().enumerate() {
            if let (Some(m), Shown::LoadBearing { repro, .. }) =
                (minimized[j].take(), &mut out[i].shown)
            {
                **repro = m;
            }
        }
    }
    Ok(out)
}
