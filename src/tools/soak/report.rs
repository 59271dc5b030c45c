//! A campaign's results, derived from its journal alone: `summary.json` (per variant x
//! scenario x strategy: units, executions, time, violations by oracle, first-hit execution;
//! the distinct violations with their hit counts; verdicts against kernel history; throughput
//! over time) and `report.html`, a self-contained page with the same verdicts, survival curves
//! of executions to the first violation per strategy, throughput over time, and links to each
//! violation's race diagram and repro file.

use super::{Campaign, Plan, ScenarioSpec, UnitRecord};
use crate::history;
use crate::oracle::Oracle;
use crate::tools::compare::{Curve, survival_svg};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The `format` field of `summary.json`.
pub const FORMAT: &str = "parkrace-soak-summary";

/// One cell's totals.
#[derive(Clone, Debug, Serialize)]
pub struct CellSummary {
    pub cell: String,
    pub variant: String,
    pub preset: Option<String>,
    pub switches: String,
    pub scenario: String,
    pub strategy: String,
    pub units: u64,
    pub executions: u64,
    pub steps: u64,
    pub time_s: f64,
    /// Units that hit each oracle.
    pub violations: BTreeMap<String, u64>,
    /// The cell's executions, over its units in order, up to and with the first violating one.
    pub first_hit_execution: Option<u64>,
    pub first_hit_unit: Option<u64>,
}

/// One distinct violation: (switch set, oracle, minimized schedule signature).
#[derive(Clone, Debug, Serialize)]
pub struct ViolationSummary {
    pub key: String,
    pub variant: String,
    pub switches: String,
    pub scenario: String,
    pub oracle: String,
    pub signature: String,
    /// Units that hit it.
    pub hits: u64,
    pub by_strategy: BTreeMap<String, u64>,
    pub first_unit: u64,
    pub first_strategy: String,
    pub file: String,
    pub diagram: String,
    pub preemptions: u32,
    pub steps: u64,
    /// `expected` (kernel history has this bug), `contradicts` (history says the variant
    /// keeps this oracle) or `-` (a switch set that is no preset).
    pub history: String,
}

/// A variant on a scenario, over every strategy, against kernel history.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub variant: String,
    pub scenario: String,
    /// What history says: `violates`, `clean` or `-`.
    pub history: String,
    pub found: Vec<String>,
    /// `caught`, `missed` (history has a bug here that was not found yet), `clean`,
    /// `expected` (a violation history allows, on no scenario of its own), `contradicts`,
    /// `found` (on a switch set that is no preset).
    pub status: String,
}

/// `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub format: String,
    pub version: u32,
    pub parkrace: String,
    pub campaign: Campaign,
    /// The shards whose journals this summary covers.
    pub shards: Vec<String>,
    /// Campaign time, in seconds (the latest unit's finish over every session).
    pub elapsed_s: f64,
    pub units: u64,
    pub executions: u64,
    pub steps: u64,
    pub executions_per_sec: f64,
    pub distinct_violations: usize,
    pub hits: u64,
    pub cells: Vec<CellSummary>,
    pub violations: Vec<ViolationSummary>,
    pub verdicts: Vec<Verdict>,
    /// (campaign time in seconds, executions per second) over about 60 intervals.
    pub throughput: Vec<(f64, f64)>,
}

impl Summary {
    /// Whether something needs a look: a violation history says cannot happen, or any
    /// violation of a switch set that is no preset.
    pub fn has_finding(&self) -> bool {
        self.verdicts
            .iter()
            .any(|v| v.status == "contradicts" || v.status == "found")
    }

    /// Verdicts with a bug history has that the campaign did not find (yet).
    pub fn missed(&self) -> Vec<&Verdict> {
        self.verdicts
            .iter()
            .filter(|v| v.status == "missed")
            .collect()
    }
}

/// Summarize `records` (sorted by unit, each once) of `plan`'s campaign.
pub fn summarize(plan: &Plan, shards: Vec<String>, records: &[UnitRecord]) -> Summary {
    let c = &plan.campaign;
    let mut cells: Vec<CellSummary> = plan
        .cells
        .iter()
        .map(|cell| CellSummary {
            cell: cell.label(),
            variant: cell.variant.label(),
            preset: cell.variant.preset().map(|p| p.name().to_string()),
            switches: cell.variant.switch_string(),
            scenario: cell.scenario.name().to_string(),
            strategy: cell.strategy.to_string(),
            units: 0,
            executions: 0,
            steps: 0,
            time_s: 0.0,
            violations: BTreeMap::new(),
            first_hit_execution: None,
            first_hit_unit: None,
        })
        .collect();
    let mut violations: BTreeMap<String, ViolationSummary> = BTreeMap::new();
    for r in records {
        let Some(cs) = cells.get_mut(r.cell) else {
            continue;
        };
        let before = cs.executions;
        cs.units += 1;
        cs.executions += r.executions;
        cs.steps += r.steps;
        cs.time_s += r.ms as f64 / 1000.0;
        let Some(h) = &r.hit else { continue };
        *cs.violations.entry(h.oracle.to_string()).or_default() += 1;
        if cs.first_hit_execution.is_none() {
            cs.first_hit_execution = Some(before + h.execution);
            cs.first_hit_unit = Some(r.u);
        }
        let cell = &plan.cells[r.cell];
        let v = violations
            .entry(h.key.clone())
            .or_insert_with(|| ViolationSummary {
                key: h.key.clone(),
                variant: cs.variant.clone(),
                switches: cs.switches.clone(),
                scenario: h.scenario.clone(),
                oracle: h.oracle.to_string(),
                signature: h.signature.clone(),
                hits: 0,
                by_strategy: BTreeMap::new(),
                first_unit: r.u,
                first_strategy: cs.strategy.clone(),
                file: h.file.clone(),
                diagram: h.diagram.clone(),
                preemptions: h.preemptions,
                steps: h.steps,
                history: match cell.variant.preset() {
                    Some(p) if history::may_fail_under(p, h.oracle, cell.scenario.memory()) => {
                        "expected".into()
                    }
                    Some(_) => "contradicts".into(),
                    None => "-".into(),
                },
            });
        v.hits += 1;
        *v.by_strategy.entry(cs.strategy.clone()).or_default() += 1;
    }
    let verdicts = verdicts(plan, &cells);
    let units = records.len() as u64;
    let executions: u64 = records.iter().map(|r| r.executions).sum();
    let elapsed_s = records.iter().map(|r| r.t).fold(0.0, f64::max);
    let mut violations: Vec<ViolationSummary> = violations.into_values().collect();
    violations.sort_by(|a, b| (a.first_unit, &a.key).cmp(&(b.first_unit, &b.key)));
    Summary {
        format: FORMAT.into(),
        version: 1,
        parkrace: env!("CARGO_PKG_VERSION").into(),
        campaign: c.clone(),
        shards,
        elapsed_s,
        units,
        executions,
        steps: records.iter().map(|r| r.steps).sum(),
        executions_per_sec: executions as f64 / elapsed_s.max(1e-9),
        distinct_violations: violations.len(),
        hits: records.iter().filter(|r| r.hit.is_some()).count() as u64,
        cells,
        violations,
        verdicts,
        throughput: throughput(records, elapsed_s),
    }
}

fn verdicts(plan: &Plan, cells: &[CellSummary]) -> Vec<Verdict> {
    // Group the cells of each variant on each scenario (strategies are innermost).
    let mut out: Vec<Verdict> = Vec::new();
    let mut i = 0;
    while i < cells.len() {
        let cell = &plan.cells[i];
        let mut j = i;
        let mut found: Vec<Oracle> = Vec::new();
        while j < cells.len()
            && plan.cells[j].variant == cell.variant
            && plan.cells[j].scenario.name() == cell.scenario.name()
        {
            for o in cells[j].violations.keys() {
                let o: Oracle = o.parse().expect("an oracle's name parses");
                if !found.contains(&o) {
                    found.push(o);
                }
            }
            j += 1;
        }
        found.sort();
        let named = matches!(cell.scenario, ScenarioSpec::Fixed(_));
        let (hist, status) = match cell.variant.preset() {
            None => ("-", if found.is_empty() { "clean" } else { "found" }),
            Some(p) => {
                let must = named
                    && history::must_catch(p, &cell.scenario.name())
                    && p.history_fails().iter().any(|&o| cell.oracles.contains(o));
                let bad = found.iter().any(|&o| {
                    o == Oracle::Model || !history::may_fail_under(p, o, cell.scenario.memory())
                });
                let status = if bad {
                    "contradicts"
                } else if must {
                    if found.is_empty() { "missed" } else { "caught" }
                } else if found.is_empty() {
                    "clean"
                } else {
                    "expected"
                };
                let hist = if !named {
                    "-"
                } else if must {
                    "violates"
                } else {
                    "clean"
                };
                (hist, status)
            }
        };
        out.push(Verdict {
            variant: cells[i].variant.clone(),
            scenario: cells[i].scenario.clone(),
            history: hist.into(),
            found: found.iter().map(|o| o.to_string()).collect(),
            status: status.into(),
        });
        i = j;
    }
    out
}

/// Executions per second over campaign time, in up to 60 intervals (fewer for a short
/// campaign); a unit's executions are spread evenly over its run.
fn throughput(records: &[UnitRecord], elapsed: f64) -> Vec<(f64, f64)> {
    if records.is_empty() || elapsed <= 0.0 {
        return vec![];
    }
    let n = (records.len() / 4).clamp(5, 60);
    let w = elapsed / n as f64;
    let mut b = vec![0f64; n];
    for r in records {
        let end = r.t;
        let start = (end - r.ms as f64 / 1000.0).max(0.0);
        let len = (end - start).max(1e-9);
        for (i, slot) in b.iter_mut().enumerate() {
            let (lo, hi) = (i as f64 * w, (i as f64 + 1.0) * w);
            let overlap = (end.min(hi) - start.max(lo)).max(0.0);
            *slot += r.executions as f64 * overlap / len;
        }
        if end - start < 1e-9 {
            b[((end / w) as usize).min(n - 1)] += r.executions as f64;
        }
    }
    b.iter()
        .enumerate()
        .map(|(i, &e)| ((i as f64 + 1.0) * w, e / w))
        .collect()
}

/// Survival curves per strategy over the units of every (variant, scenario) where some
/// strategy found a violation: a unit's executions to its violation, or none.
pub fn curves(plan: &Plan, records: &[UnitRecord]) -> (Vec<Curve>, usize) {
    let target = |i: usize| {
        let c = &plan.cells[i];
        (c.variant, c.scenario.name().to_string())
    };
    let hit_targets: Vec<_> = records
        .iter()
        .filter(|r| r.hit.is_some())
        .map(|r| target(r.cell))
        .collect();
    let mut by: BTreeMap<String, Vec<Option<usize>>> = BTreeMap::new();
    let mut cap = 10;
    for r in records {
        if !hit_targets.contains(&target(r.cell)) {
            continue;
        }
        cap = cap.max(r.executions as usize);
        by.entry(plan.cells[r.cell].strategy.to_string())
            .or_default()
            .push(r.hit.as_ref().map(|h| h.execution as usize));
    }
    let curves = by
        .into_iter()
        .map(|(label, firsts)| Curve {
            label: format!("{label} ({} units)", firsts.len()),
            firsts,
        })
        .collect();
    (curves, cap)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Throughput over campaign time as a self-contained SVG.
fn throughput_svg(points: &[(f64, f64)]) -> String {
    const W: f64 = 640.0;
    const H: f64 = 240.0;
    const L: f64 = 70.0;
    const B: f64 = 36.0;
    let tmax = points.last().map(|p| p.0).unwrap_or(1.0).max(1e-9);
    let ymax = points.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let px = |t: f64| L + t / tmax * (W - L - 20.0);
    let py = |y: f64| 20.0 + (1.0 - y / ymax) * (H - 20.0 - B);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <title>executions per second over campaign time</title>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <line x1=\"{L}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"black\"/>\n\
         <line x1=\"{L}\" y1=\"20\" x2=\"{L}\" y2=\"{b}\" stroke=\"black\"/>\n\
         <text x=\"{L}\" y=\"14\">executions per second</text>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">campaign time (s)</text>\n\
         <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{:.0}</text>\n\
         <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">0</text>\n\
         <text x=\"{:.1}\" y=\"{}\" text-anchor=\"end\">{:.0}</text>\n",
        (L + W) / 2.0,
        H - 4.0,
        L - 4.0,
        py(ymax / 1.1) + 4.0,
        ymax / 1.1,
        L - 4.0,
        py(0.0) + 4.0,
        px(tmax),
        H - B + 14.0,
        tmax,
        b = H - B,
        r = W - 20.0,
    );
    let mut pts = vec![format!(
        "{:.1},{:.1}",
        px(0.0),
        py(points.first().map_or(0.0, |p| p.1))
    )];
    pts.extend(
        points
            .iter()
            .map(|&(t, y)| format!("{:.1},{:.1}", px(t), py(y))),
    );
    let _ = writeln!(
        s,
        "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"{}\"/>",
        pts.join(" ")
    );
    s += "</svg>\n";
    s
}

/// `report.html`: self-contained (inline CSS and SVG); links to the race diagrams and repro
/// files under `repros/`.
pub fn html(s: &Summary, curves: &[Curve], cap: usize) -> String {
    let mut h = String::new();
    let c = &s.campaign;
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <title>parkrace soak report</title>\n<style>\n\
         body{{font-family:sans-serif;margin:2em;max-width:70em;color:#222}}\n\
         table{{border-collapse:collapse;margin:1em 0}}\n\
         td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left;font-size:90%}}\n\
         th{{background:#f0f0f0}} td.n{{text-align:right}}\n\
         .caught{{background:#dfd}} .clean{{background:#fff}} .expected{{background:#eef}}\n\
         .missed{{background:#ffd}} .contradicts,.found{{background:#fcc;font-weight:bold}}\n\
         code{{font-size:95%}}\n</style></head><body>\n\
         <h1>parkrace soak report</h1>\n"
    );
    let _ = writeln!(
        h,
        "<p id=\"headline\">{} units, {} executions in {:.0} s of campaign time ({:.0} executions/s); \
         <b>{} distinct violation{}</b> from {} violating unit{}.</p>",
        s.units,
        s.executions,
        s.elapsed_s,
        s.executions_per_sec,
        s.distinct_violations,
        if s.distinct_violations == 1 { "" } else { "s" },
        s.hits,
        if s.hits == 1 { "" } else { "s" },
    );
    let _ = writeln!(
        h,
        "<p>Campaign: seed {}, shards {}, {} cells ({} variants &times; {} scenarios &times; {} strategies: {}), \
         oracles {}, {} model steps per unit, native units of {} ms. parkrace {}.</p>",
        c.seed,
        esc(&s.shards.join(", ")),
        s.cells.len(),
        c.variants.len(),
        c.scenarios.len(),
        c.strategies.len(),
        esc(&c.strategies.join(", ")),
        esc(&c.oracles),
        c.unit_steps,
        c.native_ms,
        esc(&s.parkrace)
    );
    let missed = s.missed().len();
    let bad = s
        .verdicts
        .iter()
        .filter(|v| v.status == "contradicts" || v.status == "found")
        .count();
    let caught = s.verdicts.iter().filter(|v| v.status == "caught").count();
    let _ = writeln!(
        h,
        "<p id=\"verdict\">Against kernel history: {caught} buggy target{} caught, {missed} not caught (yet), \
         {bad} finding{} history does not explain.</p>",
        if caught == 1 { "" } else { "s" },
        if bad == 1 { "" } else { "s" }
    );
    h += "<h2>Verdicts</h2>\n<table id=\"verdicts\"><tr><th>variant</th><th>scenario</th><th>history</th><th>found</th><th>status</th></tr>\n";
    for v in &s.verdicts {
        let _ = writeln!(
            h,
            "<tr class=\"{st}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{st}</td></tr>",
            esc(&v.variant),
            esc(&v.scenario),
            esc(&v.history),
            esc(&v.found.join(", ")),
            st = esc(&v.status)
        );
    }
    h += "</table>\n<h2>Distinct violations</h2>\n";
    if s.violations.is_empty() {
        h += "<p>None.</p>\n";
    } else {
        h += "<table id=\"violations\"><tr><th>variant</th><th>scenario</th><th>oracle</th><th>hits</th>\
              <th>by strategy</th><th>first unit</th><th>minimized</th><th>history</th><th>race diagram</th><th>repro</th></tr>\n";
        for v in &s.violations {
            let by: Vec<String> = v
                .by_strategy
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let _ = writeln!(
                h,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td>\
                 <td class=\"n\">{}</td><td>{} preemptions, {} steps</td><td>{}</td>\
                 <td><a href=\"{}\">diagram</a></td><td><a href=\"{}\">{}</a></td></tr>",
                if v.history == "contradicts" {
                    "contradicts"
                } else {
                    ""
                },
                esc(&v.variant),
                esc(&v.scenario),
                esc(&v.oracle),
                v.hits,
                esc(&by.join(", ")),
                v.first_unit,
                v.preemptions,
                v.steps,
                esc(&v.history),
                esc(&v.diagram),
                esc(&v.file),
                esc(v.file.trim_start_matches("repros/")),
            );
        }
        h += "</table>\n<p>Replay one with <code>parkrace replay repros/FILE.json</code>.</p>\n";
    }
    h += "<h2>Executions to the first violation, per strategy</h2>\n";
    if curves.is_empty() {
        h += "<p>No violation yet, so no curve.</p>\n";
    } else {
        h += "<p>Over the units of every variant and scenario where some strategy found a violation: \
              the share of units still without one after so many executions (log scale).</p>\n<div id=\"survival\">\n";
        h += &survival_svg("every violated target", curves, cap);
        h += "</div>\n";
    }
    h += "<h2>Throughput</h2>\n<p>Executions per second of every job together over campaign time; \
          time spent minimizing a violation is time without executions.</p>\n<div id=\"throughput\">\n";
    h += &throughput_svg(&s.throughput);
    h += "</div>\n<h2>Cells</h2>\n<details><summary>Per variant, scenario and strategy</summary>\n\
          <table id=\"cells\"><tr><th>cell</th><th>units</th><th>executions</th><th>time (s)</th><th>violations</th><th>first hit (execution)</th></tr>\n";
    for cs in &s.cells {
        let v: Vec<String> = cs
            .violations
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(&cs.cell),
            cs.units,
            cs.executions,
            cs.time_s,
            esc(&v.join(", ")),
            cs.first_hit_execution
                .map(|e| e.to_string())
                .unwrap_or_else(|| "-".into())
        );
    }
    h += "</table></details>\n</body></html>\n";
    h
}
