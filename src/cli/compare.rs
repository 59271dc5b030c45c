//! `parkrace compare`: strategies side by side on the buggy targets.

use super::progress::Meter;
use super::{
    CompareArgs, EXIT_CRASH, EXIT_IO, EXIT_OK, jobs_or_cores, parse_duration, parse_list,
    targets_for, usage,
};
use crate::scenario::Scenario;
use crate::strategy::{Command, Strategy};
use crate::tools::compare::{
    Caps, Cell, ablations, buggy, history_targets, survival_svg, try_run_one,
};
use crate::tools::pool;
use crate::tools::target::Target;
use crate::variant::Variant;
use std::cell::RefCell;
use std::io::Write;
use std::time::Duration;

/// The targets of `--variant` and `--scenario`: both given, every variant on every scenario;
/// one of them alone, the rows of kernel history with it (a preset on every scenario where its
/// bug shows, or every preset that fails on a scenario); neither, every buggy target (none
/// with `--ablations`).
fn targets(a: &CompareArgs) -> Result<Vec<Target>, String> {
    let mut targets = match (a.variants.is_empty(), a.scenarios.is_empty()) {
        (true, true) if a.ablations => Vec::new(),
        (true, true) => buggy(),
        (false, false) => targets_for(&a.variants, &a.scenarios, Vec::new, "all")?,
        _ => {
            let variants = parse_list(&a.variants, Vec::new, |s| s.parse::<Variant>())?;
            let scenarios = parse_list(&a.scenarios, Vec::new, Scenario::by_name)?;
            history_targets(&variants, &scenarios)?
        }
    };
    if a.ablations {
        targets.extend(ablations(10_000));
    }
    if let Some(m) = a.memory {
        for t in &mut targets {
            t.scenario.memory = m;
        }
    }
    Ok(targets)
}

fn parse(a: &CompareArgs) -> Result<(Vec<Target>, Vec<Strategy>, Caps), String> {
    let targets = targets(a)?;
    let contenders = parse_list(
        &a.strategies,
        || Strategy::defaults(Command::Compare),
        |s| Strategy::parse_for(s, Command::Compare),
    )?;
    if contenders.contains(&Strategy::LibFuzzer) {
        for t in &targets {
            crate::tools::compare::libfuzzer::check(t)?;
        }
    }
    if a.seeds == 0 {
        return Err("--seeds must be at least 1".into());
    }
    if a.executions == 0 {
        return Err("--executions must be at least 1".into());
    }
    let caps = Caps {
        executions: a.executions,
        time: Some(parse_duration(&a.time)?),
    };
    Ok((targets, contenders, caps))
}

/// Why a cell could not be measured.
enum CellError {
    /// A run could not start (the libFuzzer contender's fuzz target).
    Start(String),
    /// A worker died.
    Crash(pool::WorkerDied),
}

/// Run every seed of one (target, contender) on `jobs` threads, counting each run on `meter`.
fn cell(
    t: &Target,
    c: Strategy,
    seeds: u64,
    caps: Caps,
    jobs: usize,
    meter: &RefCell<Meter>,
) -> Result<Cell, CellError> {
    let seeds: Vec<u64> = (1..=seeds).collect();
    let mut runs = Vec::with_capacity(seeds.len());
    pool::run_ordered(
        jobs,
        &seeds,
        |_, &seed| try_run_one(t, c, seed, caps),
        |_, r| {
            runs.push(r);
            meter.borrow_mut().inc();
        },
        Duration::from_secs(1),
        |_| meter.borrow_mut().tick(),
    )
    .map_err(CellError::Crash)?;
    Ok(Cell {
        target: t.label(),
        strategy: c,
        runs: runs
            .into_iter()
            .collect::<Result<_, _>>()
            .map_err(CellError::Start)?,
    })
}

fn row(c: &Cell, executions_cap: usize) -> String {
    let (q1, q3) = c.quartiles();
    let median = match c.median() {
        Some(m) => m.to_string(),
        None => format!(">{executions_cap}"),
    };
    let iqr = match (q1, q3) {
        (Some(a), Some(b)) => format!("{a}-{b}"),
        _ => "-".into(),
    };
    format!(
        "{:<44} {:<8} {:>5}/{:<5} {:>9} {:>13} {:>10.1} ms {:>9.0}",
        c.target,
        c.strategy.to_string(),
        c.found(),
        c.runs.len(),
        median,
        iqr,
        c.median_wall().as_secs_f64() * 1000.0,
        c.execs_per_sec()
    )
}

pub(super) fn cmd_compare(a: CompareArgs) -> i32 {
    let (targets, contenders, caps) = match parse(&a) {
        Ok(x) => x,
        Err(e) => return usage(e),
    };
    let jobs = jobs_or_cores(a.jobs);
    if let Some(dir) = &a.svg
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("parkrace: cannot create {}: {e}", dir.display());
        return EXIT_IO;
    }
    let mut out = std::io::stdout().lock();
    let total = targets.len() as u64 * contenders.len() as u64 * a.seeds;
    let meter = RefCell::new(Meter::new("runs", total, false));
    if !a.json {
        let _ = writeln!(
            out,
            "{:<44} {:<8} {:>11} {:>9} {:>13} {:>13} {:>9}",
            "target", "strategy", "found", "median", "IQR (found)", "median wall", "execs/s"
        );
    }
    for t in &targets {
        let mut cells = Vec::new();
        for &c in &contenders {
            let cl = match cell(t, c, a.seeds, caps, jobs, &meter) {
                Ok(cl) => cl,
                Err(e) => {
                    meter.borrow().finish();
                    return match e {
                        CellError::Start(e) => {
                            eprintln!("parkrace: {e}");
                            EXIT_IO
                        }
                        CellError::Crash(d) => {
                            eprintln!("parkrace: {d}");
                            EXIT_CRASH
                        }
                    };
                }
            };
            let line = if a.json {
                cl.json().to_string()
            } else {
                row(&cl, caps.executions)
            };
            meter.borrow().suspend(|| {
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            });
            cells.push(cl);
        }
        if let Some(dir) = &a.svg {
            let curves: Vec<_> = cells.iter().map(Cell::curve).collect();
            let name: String = t
                .label()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let name = format!("{name}.svg");
            let path = dir.join(name);
            if let Err(e) = crate::tools::repro::write_atomic(
                &path,
                survival_svg(&t.label(), &curves, caps.executions).as_bytes(),
            ) {
                meter.borrow().finish();
                eprintln!("parkrace: cannot write {}: {e}", path.display());
                return EXIT_IO;
            }
        }
    }
    meter.borrow().finish();
    EXIT_OK
}
