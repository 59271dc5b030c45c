//! `parkrace barriers`: which barriers of a variant are load-bearing (model.md m.2, m.6).

use super::{
    EXIT_CRASH, EXIT_FINDING, EXIT_IO, EXIT_OK, MAX_EXECUTIONS, MAX_JOBS, jobs_or_cores, number,
    parse_list, progress, usage,
};
use crate::scenario::{Memory, Scenario};
use crate::strategy::{Command as StrategyCommand, Strategy};
use crate::tools::barriers::{Ask, Row, Shown, barriers};
use crate::tools::render;
use crate::variant::Variant;
use serde_json::json;
use std::path::PathBuf;

pub const BARRIERS_EXIT_HELP: &str = "Exit status:
  0  every barrier was searched: each row says load-bearing (with a repro file) or not shown
     (with the budget that showed nothing)
  1  the variant itself, with every barrier, violates an oracle it should keep: the question
     is moot (its row names the violation)
  2  bad arguments (one line on stderr)
  3  an I/O error while writing a repro file
  4  a worker crashed (a bug in parkrace): the results are incomplete, never clean";

#[derive(clap::Args, Debug, Clone)]
pub struct BarriersArgs {
    /// The variant whose barriers are removed one at a time: a preset, a preset with
    /// overrides or a switch list.
    #[arg(long = "variant", short = 'v', default_value = "V5")]
    pub variant: String,
    /// Memory model: tso or lkmm (under sc no barrier does anything).
    #[arg(long, value_enum, default_value = "lkmm")]
    pub memory: Memory,
    /// Scenario name or random-SEED. Repeatable; default: every named scenario.
    #[arg(long = "scenario", short = 's')]
    pub scenarios: Vec<String>,
    /// Strategy (as for hunt). Repeatable; default: random and urw.
    #[arg(long = "strategy")]
    pub strategies: Vec<String>,
    /// Executions per (barrier, scenario, strategy) at most: 1 to 1,000,000,000.
    #[arg(long, default_value_t = 3000, allow_hyphen_values = true,
          value_parser = number(1, MAX_EXECUTIONS))]
    pub executions: usize,
    /// Seed of the schedulers: 0 to 18446744073709551615.
    #[arg(long, default_value_t = 1, allow_hyphen_values = true,
          value_parser = number(0, u64::MAX))]
    pub seed: u64,
    /// Folder for the repro files of load-bearing barriers.
    #[arg(long, default_value = "repros")]
    pub out: PathBuf,
    /// Save violations as found, without minimizing their schedules.
    #[arg(long)]
    pub no_minimize: bool,
    /// Print JSON Lines: one object per row (the variant itself first, then each barrier).
    #[arg(long)]
    pub json: bool,
    /// Worker threads: 1 to 1024 (default: the number of cores).
    #[arg(long, allow_hyphen_values = true, value_parser = number(1, MAX_JOBS))]
    pub jobs: Option<usize>,
}

fn parse(a: &BarriersArgs) -> Result<Ask, String> {
    let base: Variant = a.variant.parse()?;
    if a.memory == Memory::Sc {
        return Err(
            "--memory sc: under sequential consistency no barrier has an effect (use tso or lkmm)"
                .into(),
        );
    }
    let mut scenarios = parse_list(&a.scenarios, Scenario::named, Scenario::by_name)?;
    super::with_memory(&mut scenarios, Some(a.memory));
    let strategies = parse_list(
        &a.strategies,
        || Strategy::defaults(StrategyCommand::Hunt),
        |s| Strategy::parse_for(s, StrategyCommand::Hunt),
    )?;
    Ok(Ask {
        base,
        scenarios,
        strategies,
        executions: a.executions,
        seed: a.seed,
        jobs: jobs_or_cores(a.jobs),
        minimize: !a.no_minimize,
    })
}

pub fn cmd_barriers(a: BarriersArgs) -> i32 {
    let ask = match parse(&a) {
        Ok(x) => x,
        Err(e) => return usage(e),
    };
    let n_rows = 1 + crate::tools::barriers::present(&ask.base).len();
    let cells = (n_rows * ask.scenarios.len() * ask.strategies.len()) as u64;
    let meter = std::cell::RefCell::new(progress::Meter::new("searches", cells, false));
    let rows = match barriers(&ask, || meter.borrow_mut().inc()) {
        Ok(r) => r,
        Err(d) => {
            meter.borrow().finish();
            eprintln!("parkrace: {d}");
            return EXIT_CRASH;
        }
    };
    meter.borrow().finish();
    let mut status = EXIT_OK;
    let mut saved = Vec::new();
    for r in &rows {
        let path = match &r.shown {
            Shown::LoadBearing { repro, .. } => match repro.save(&a.out) {
                Ok(p) => Some(p.display().to_string()),
                Err(e) => {
                    eprintln!("parkrace: cannot write repro into {}: {e}", a.out.display());
                    return EXIT_IO;
                }
            },
            Shown::NotShown { .. } => None,
        };
        if r.barrier.is_none() && path.is_some() {
            status = EXIT_FINDING;
        }
        saved.push(path);
    }
    if a.json {
        for (r, path) in rows.iter().zip(&saved) {
            println!("{}", row_json(r, &ask, path.as_deref()));
        }
        return status;
    }
    print_table(&rows, &ask, &saved);
    status
}

fn row_json(r: &Row, ask: &Ask, path: Option<&str>) -> serde_json::Value {
    let (verdict, violation, executions) = match &r.shown {
        Shown::LoadBearing { scenario, repro } => (
            if r.barrier.is_some() {
                "load-bearing"
            } else {
                "violated"
            },
            Some(json!({
                "scenario": scenario.name,
                "oracle": repro.violation.oracle.name(),
                "detail": repro.violation.detail,
                "preemptions": repro.preemptions + repro.switches.unwrap_or(0),
                "steps": repro.steps,
            })),
            None,
        ),
        Shown::NotShown { executions } => (
            if r.barrier.is_some() {
                "not shown"
            } else {
                "clean"
            },
            None,
            Some(*executions),
        ),
    };
    json!({
        "barrier": r.barrier.map(|b| b.switch),
        "site": r.barrier.map(|b| b.site),
        "variant": r.variant.label(),
        "memory": ask.scenarios.first().map(|s| s.memory.name()),
        "oracles": r.oracles.to_string(),
        "verdict": verdict,
        "violation": violation,
        "executions": executions,
        "scenarios": ask.scenarios.len(),
        "repro": path,
    })
}

fn print_table(rows: &[Row], ask: &Ask, saved: &[Option<String>]) {
    let memory = ask.scenarios.first().map_or("lkmm", |s| s.memory.name());
    let strategies: Vec<String> = ask.strategies.iter().map(|s| s.to_string()).collect();
    println!(
        "Barriers of {} under {memory}: each removed alone, searched on {} scenario(s) with {} \
         ({} executions each), for a violation of {}.",
        ask.base.label(),
        ask.scenarios.len(),
        strategies.join(" and "),
        ask.executions,
        rows.first()
            .map_or(String::new(), |r| r.oracles.to_string())
    );
    println!();
    println!(
        "{:<18} {:<13} {:<20} {:<6} repro / budget",
        "barrier", "verdict", "scenario", "oracle"
    );
    for (r, path) in rows.iter().zip(saved) {
        let name = r.barrier.map_or("(none removed)", |b| b.switch);
        match &r.shown {
            Shown::LoadBearing { scenario, repro } => println!(
                "{:<18} {:<13} {:<20} {:<6} {}",
                name,
                if r.barrier.is_some() {
                    "LOAD-BEARING"
                } else {
                    "VIOLATED"
                },
                scenario.name,
                repro.violation.oracle.to_string(),
                path.as_deref().unwrap_or("-")
            ),
            Shown::NotShown { executions } => println!(
                "{:<18} {:<13} {:<20} {:<6} clean after {executions} executions",
                name,
                if r.barrier.is_some() {
                    "not shown"
                } else {
                    "clean"
                },
                "-",
                "-"
            ),
        }
    }
    for r in rows {
        let (Some(b), Shown::LoadBearing { repro, .. }) = (r.barrier, &r.shown) else {
            continue;
        };
        println!();
        println!("== {} removed: {}", b.switch, b.site);
        println!("   {}", repro.violation);
        print!(
            "{}",
            render::table(&repro.trace, &repro.names, &repro.completions, true)
        );
    }
}
