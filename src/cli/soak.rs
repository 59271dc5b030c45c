//! `parkrace soak`, `parkrace soak merge` and `parkrace report`: argument checking, the
//! session, progress, periodic reports and the final words.

use super::{
    EXIT_CRASH, EXIT_FINDING, EXIT_IO, EXIT_OK, EXIT_USAGE, INTERRUPTED, MAX_JOBS, MAX_TRIES,
    catch_ctrl_c, duration_arg, jobs_or_cores, number, parse_duration, parse_list,
};

use crate::strategy::Command;
use crate::tools::soak::report::Summary;
use crate::tools::soak::{
    self, Campaign, Counters, DEFAULT_KEY_TRIES, DEFAULT_MINIMIZE_TRIES, DEFAULT_NATIVE_MS,
    DEFAULT_UNIT_STEPS, MAX_UNIT_STEPS, MAX_UNITS, Plan, Session, Shard, SoakError, Store,
    Strategy,
};
use crate::variant::Variant;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub(crate) const SOAK_HELP: &str = "Exit status:
  0  no finding: every violation is one kernel history has (a buggy preset's bug)
  1  a finding: a violation history says cannot happen, or any violation of a switch set
     that is no preset
  2  bad arguments, or a folder that is not (or already is) a campaign, or is in use
  3  an I/O error while writing the campaign's files
  4  a worker crashed (a bug in parkrace): the results are incomplete, never clean

A campaign folder holds campaign.json, journal.jsonl (one line per finished unit: the
checkpoint), repros/ (a repro file and a race diagram per distinct violation), summary.json
and report.html. Ctrl-C or kill -9 lose nothing written; `parkrace soak --resume DIR` goes on
where it stopped.";

/// The exit status of `soak merge` and `report`, which run no workers.
pub(crate) const REPORT_EXIT_HELP: &str = "Exit status:
  0  no finding: every violation is one kernel history has (a buggy preset's bug)
  1  a finding: a violation history says cannot happen, or any violation of a switch set
     that is no preset
  2  bad arguments, or a folder that is not a campaign (or, merging, already is one)
  3  an I/O error while writing the campaign's files";

#[derive(clap::Args, Debug, Default)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SoakArgs {
    #[command(subcommand)]
    pub command: Option<SoakCommand>,
    /// Wall time of the campaign, e.g. 90s, 30m, 8h (with --resume: of this session; default
    /// there: what is left of the campaign's time); 1ms to 30 days.
    #[arg(long, allow_hyphen_values = true, value_parser = duration_arg)]
    pub time: Option<String>,
    /// Units of the whole campaign (over all shards): stop when units 0..N are done. 1 to
    /// 1,000,000,000,000.
    #[arg(long, allow_hyphen_values = true, value_parser = number(1, MAX_UNITS))]
    pub units: Option<u64>,
    /// Folder of a new campaign (refused if it holds anything).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Continue the campaign in DIR where it stopped (Ctrl-C, kill -9, its time).
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    pub resume: Option<PathBuf>,
    /// Variant: a preset, a preset with overrides (V5:park_wti=off) or a switch list.
    /// Repeatable; default: every preset.
    #[arg(long = "variant", short = 'v')]
    pub variants: Vec<String>,
    /// Scenario: a name (see `parkrace scenarios`), random-SEED, or `random` (a freshly
    /// generated scenario per unit). Repeatable; default: every named scenario and `random`.
    #[arg(long = "scenario", short = 's')]
    pub scenarios: Vec<String>,
    /// Strategy: random, pct, pct:D, urw, focus, focus:N, bytes, bounded:K or native (not
    /// dfs or libfuzzer). Repeatable; default: random, pct:2, pct:3, urw, bytes, native.
    #[arg(long = "strategy")]
    pub strategies: Vec<String>,
    /// Oracles: a list (I1,I5,...), `all`, or `history` (what kernel history says each preset
    /// keeps).
    #[arg(long, default_value = "all")]
    pub oracles: String,
    /// Seed of the campaign, 0 to 18446744073709551615 (default: from the clock; kept in
    /// campaign.json).
    #[arg(long, allow_hyphen_values = true, value_parser = number(0, u64::MAX))]
    pub seed: Option<u64>,
    /// Run the I-th of N disjoint parts of the campaign (merge them with `soak merge`); N from
    /// 1 to 1,000,000.
    #[arg(long, value_name = "I/N", allow_hyphen_values = true,
          value_parser = |s: &str| s.parse::<Shard>().map(|_| s.to_string()))]
    pub shard: Option<String>,
    /// Worker threads: 1 to 1024 (default: the number of cores).
    #[arg(long, allow_hyphen_values = true, value_parser = number(1, MAX_JOBS))]
    pub jobs: Option<usize>,
    /// Model steps per unit of a schedule search (a unit also ends at its first violation),
    /// 1 to 1,000,000,000 [default: 1000000; byte-driven strategies a third of it].
    #[arg(long, allow_hyphen_values = true, value_parser = number(1, MAX_UNIT_STEPS))]
    pub unit_steps: Option<u64>,
    /// Wall time of a native-stress unit, 1ms to 30 days [default: 1s].
    #[arg(long, allow_hyphen_values = true, value_parser = duration_arg)]
    pub native_time: Option<String>,
    /// Minimization tries for the repro file of each new distinct violation, 1 to 10,000,000
    /// [default: 10000].
    #[arg(long, allow_hyphen_values = true, value_parser = number(1, MAX_TRIES))]
    pub minimize_tries: Option<usize>,
    /// Minimization tries every violation gets before its de-duplication key (its race
    /// signature) is taken, 1 to 10,000,000 [default: 1500].
    #[arg(long, allow_hyphen_values = true, value_parser = number(1, MAX_TRIES))]
    pub key_tries: Option<usize>,
}

#[derive(Subcommand, Debug)]
pub enum SoakCommand {
    /// Merge the folders of a campaign's shards into one folder and report.
    #[command(after_help = REPORT_EXIT_HELP)]
    Merge {
        /// The shards' campaign folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The new folder of the merged campaign.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

fn fail(e: SoakError) -> i32 {
    eprintln!("parkrace: {e}");
    match e {
        SoakError::Usage(_) => EXIT_USAGE,
        SoakError::Io(_) => EXIT_IO,
    }
}

/// A new campaign from the arguments.
fn new_campaign(a: &SoakArgs) -> Result<Campaign, String> {
    let time_s = a
        .time
        .as_deref()
        .map(parse_duration)
        .transpose()?
        .map(|d| d.as_secs_f64());
    if a.units == Some(0) {
        return Err("--units must be at least 1".into());
    }
    if time_s.is_none() && a.units.is_none() {
        return Err("give the campaign --time DURATION (e.g. 8h) or --units N".into());
    }
    let variants = parse_list(&a.variants, soak::all_presets, |s| s.parse::<Variant>())?;
    let scenarios = parse_list(&a.scenarios, soak::default_scenarios, |s| {
        soak::ScenarioSpec::parse(s).map(|_| s.trim().to_string())
    })?;
    let strategies = parse_list(
        &a.strategies,
        || {
            Strategy::defaults(Command::Soak)
                .iter()
                .map(|s| s.to_string())
                .collect()
        },
        |s| Strategy::parse_for(s, Command::Soak).map(|s| s.to_string()),
    )?;
    let shard = a
        .shard
        .as_deref()
        .map(str::parse::<Shard>)
        .transpose()?
        .unwrap_or(Shard::WHOLE);
    let native_ms = match &a.native_time {
        Some(t) => parse_duration(t)?.as_millis() as u64,
        None => DEFAULT_NATIVE_MS,
    };
    if a.unit_steps == Some(0) {
        return Err("--unit-steps must be at least 1".into());
    }
    if a.minimize_tries == Some(0) || a.key_tries == Some(0) {
        return Err("--minimize-tries and --key-tries must be at least 1".into());
    }
    let seed = a.seed.unwrap_or_else(super::clock_seed);
    let c = Campaign {
        format: soak::FORMAT.into(),
        version: soak::VERSION,
        parkrace: env!("CARGO_PKG_VERSION").into(),
        seed,
        variants,
        scenarios,
        strategies,
        oracles: a.oracles.trim().to_string(),
        unit_steps: a.unit_steps.unwrap_or(DEFAULT_UNIT_STEPS),
        native_ms,
        minimize_tries: a.minimize_tries.unwrap_or(DEFAULT_MINIMIZE_TRIES),
        key_tries: a.key_tries.unwrap_or(DEFAULT_KEY_TRIES),
        shard,
        units: a.units,
        time_s,
        merged_from: vec![],
    };
    Plan::new(c.clone())?;
    Ok(c)
}

/// The options that fix what a campaign is, which `--resume` cannot change.
fn campaign_flags(a: &SoakArgs) -> Vec<&'static str> {
    let mut v = Vec::new();
    let given = [
        (!a.variants.is_empty(), "--variant"),
        (!a.scenarios.is_empty(), "--scenario"),
        (!a.strategies.is_empty(), "--strategy"),
        (a.oracles != "all", "--oracles"),
        (a.seed.is_some(), "--seed"),
        (a.shard.is_some(), "--shard"),
        (a.units.is_some(), "--units"),
        (a.unit_steps.is_some(), "--unit-steps"),
        (a.native_time.is_some(), "--native-time"),
        (a.minimize_tries.is_some(), "--minimize-tries"),
        (a.key_tries.is_some(), "--key-tries"),
    ];
    for (g, name) in given {
        if g {
            v.push(name);
        }
    }
    v
}

pub(super) fn cmd_soak(a: SoakArgs) -> i32 {
    if let Some(SoakCommand::Merge { dirs, out }) = &a.command {
        return cmd_merge(dirs, out);
    }
    let jobs = if a.jobs == Some(0) {
        return super::usage("--jobs must be at least 1");
    } else {
        jobs_or_cores(a.jobs)
    };
    let session_time = match a.time.as_deref().map(parse_duration).transpose() {
        Ok(t) => t,
        Err(e) => return super::usage(e),
    };
    let (store, plan, done, dir) = match (&a.out, &a.resume) {
        (Some(dir), None) => {
            let c = match new_campaign(&a) {
                Ok(c) => c,
                Err(e) => return super::usage(e),
            };
            let store = match Store::create(dir, &c) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            let plan = Plan::new(c).expect("checked above");
            (store, plan, Vec::new(), dir.clone())
        }
        (None, Some(dir)) => {
            let flags = campaign_flags(&a);
            if !flags.is_empty() {
                return super::usage(format!(
                    "{} cannot change a campaign; --resume DIR takes only --time and --jobs",
                    flags.join(", ")
                ));
            }
            let (store, c, done) = match Store::resume(dir) {
                Ok(x) => x,
                Err(e) => return fail(e),
            };
            let plan = match Plan::new(c) {
                Ok(p) => p,
                Err(e) => return super::usage(format!("{}: {e}", dir.display())),
            };
            (store, plan, done, dir.clone())
        }
        _ => {
            return super::usage(
                "give --out DIR for a new campaign, or --resume DIR to continue one",
            );
        }
    };
    let offset = done.iter().map(|r| r.t).fold(0.0, f64::max);
    // This session's time: --time, or what is left of the campaign's.
    let time = session_time.or_else(|| {
        plan.campaign
            .time_s
            .map(|t| Duration::from_secs_f64((t - offset).max(0.0)))
    });
    catch_ctrl_c();
    let c = &plan.campaign;
    let resumed = !done.is_empty() || a.resume.is_some();
    println!(
        "parkrace soak {}: {} cells ({} variants x {} scenarios x {} strategies), shard {}, seed {}, {} jobs, {}{}",
        dir.display(),
        plan.cells.len(),
        c.variants.len(),
        c.scenarios.len(),
        c.strategies.len(),
        c.shard,
        c.seed,
        jobs,
        match (time, c.units) {
            (Some(t), Some(n)) => format!("{} or units 0..{n}", show_secs(t.as_secs_f64())),
            (Some(t), None) => show_secs(t.as_secs_f64()),
            (None, Some(n)) => format!("units 0..{n}"),
            (None, None) => "no limit".into(),
        },
        if resumed {
            format!(
                "; resumed after {} units, {}",
                done.len(),
                show_secs(offset)
            )
        } else {
            String::new()
        }
    );
    let _ = std::io::stdout().flush();
    let counters = Counters::of(&done);
    let cancel = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let deadline = time.map(|t| start + t);
    let session = Session {
        plan: &plan,
        store: &store,
        jobs,
        deadline,
        cancel: Arc::clone(&cancel),
        offset,
        counters: &counters,
    };
    let finished = AtomicBool::new(false);
    let mut live = Live::new(time, c.units, plan.campaign.shard, done.len() as u64);
    let (result, interrupted) = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let r = session.run(&done);
            finished.store(true, Ordering::Relaxed);
            r
        });
        let mut last_report = Instant::now();
        let mut interrupted = false;
        while !finished.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            if INTERRUPTED.load(Ordering::Relaxed) && !interrupted {
                interrupted = true;
                cancel.store(true, Ordering::Relaxed);
                live.note("interrupted: finishing the units in flight that found a violation");
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                cancel.store(true, Ordering::Relaxed);
            }
            live.show(start.elapsed(), offset, &counters);
            if last_report.elapsed() >= Duration::from_secs(60) {
                last_report = Instant::now();
                // A report now and then, so that a killed campaign leaves a recent one.
                let _ = soak::write_report(&dir);
            }
        }
        (
            worker.join().expect("the soak session does not panic"),
            interrupted,
        )
    });
    live.finish();
    let (finished, error, crash) = result;
    drop(store);
    let summary = match soak::write_report(&dir) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    print_summary(&dir, &summary, Some(finished));
    // Counted, not enumerated: the campaign's units may be many.
    let left = c
        .units
        .map(|n| plan.owned_below(n).saturating_sub(summary.units.min(n)));
    if let Some(c) = crash {
        eprintln!(
            "parkrace: the soak crashed, its results are incomplete: {c}; the units it finished \
             are kept (continue with: parkrace soak --resume {})",
            dir.display()
        );
        return EXIT_CRASH;
    }
    if let Some(e) = error {
        eprintln!("parkrace: {}: {e}", dir.display());
        return EXIT_IO;
    }
    if interrupted || left.is_some_and(|l| l > 0) {
        println!(
            "{}; continue with: parkrace soak --resume {}{}",
            if interrupted {
                "interrupted"
            } else {
                "stopped at its time"
            },
            dir.display(),
            if left.is_some() {
                ""
            } else {
                " --time DURATION"
            }
        );
    }
    if summary.has_finding() {
        EXIT_FINDING
    } else {
        EXIT_OK
    }
}

fn show_secs(s: f64) -> String {
    if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 120.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{s:.0} s")
    }
}

/// What the campaign found, for the terminal.
fn print_summary(dir: &Path, s: &Summary, session: Option<u64>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\n{} units{}, {} executions, {} of campaign time, {:.0} executions/s",
        s.units,
        session
            .map(|n| format!(" ({n} this session)"))
            .unwrap_or_default(),
        s.executions,
        show_secs(s.elapsed_s),
        s.executions_per_sec
    );
    let _ = writeln!(
        out,
        "{} distinct violation{} from {} violating unit{}:",
        s.distinct_violations,
        if s.distinct_violations == 1 { "" } else { "s" },
        s.hits,
        if s.hits == 1 { "" } else { "s" }
    );
    for v in &s.violations {
        let _ = writeln!(
            out,
            "  {:<4} {:<18} {:<4} hits {:>5}  {} preemptions, {:>3} steps  {}{}",
            v.variant,
            v.scenario,
            v.oracle,
            v.hits,
            v.preemptions,
            v.steps,
            dir.join(&v.diagram).display(),
            if v.history == "contradicts" {
                "  CONTRADICTS kernel history"
            } else {
                ""
            }
        );
    }
    let caught = s.verdicts.iter().filter(|v| v.status == "caught").count();
    let missed: Vec<String> = s
        .missed()
        .iter()
        .map(|v| format!("{} {}", v.variant, v.scenario))
        .collect();
    let _ = writeln!(
        out,
        "kernel history: {caught} buggy target{} caught{}{}",
        if caught == 1 { "" } else { "s" },
        if missed.is_empty() {
            String::new()
        } else {
            format!("; not caught yet: {}", missed.join(", "))
        },
        if s.has_finding() {
            "; FINDINGS that history does not explain (see the report)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "report: {}  summary: {}",
        dir.join(soak::store::REPORT).display(),
        dir.join(soak::store::SUMMARY).display()
    );
}

/// Progress: an indicatif bar on a terminal, a plain line every ten seconds elsewhere.
struct Live {
    bar: Option<ProgressBar>,
    time: Option<Duration>,
    units: Option<u64>,
    last_line: Instant,
    first_units: u64,
}

impl Live {
    fn new(time: Option<Duration>, units: Option<u64>, shard: Shard, done: u64) -> Live {
        let bar = std::io::stderr().is_terminal().then(|| {
            let len = match (time, units) {
                (Some(t), _) => t.as_millis() as u64,
                (None, Some(n)) => n.div_ceil(shard.count),
                _ => 0,
            };
            let b = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("[{elapsed_precise}] {bar:12} {msg}")
                    .expect("a valid template"),
            );
            b
        });
        Live {
            bar,
            time,
            units,
            last_line: Instant::now(),
            first_units: done,
        }
    }

    fn line(&self, elapsed: Duration, offset: f64, c: &Counters) -> String {
        let execs = c.executions.load(Ordering::Relaxed);
        let units = c.units.load(Ordering::Relaxed);
        let rate = execs as f64 / (offset + elapsed.as_secs_f64()).max(1e-9);
        let remaining = match self.time {
            Some(t) => format!(
                ", {} left",
                show_secs(t.saturating_sub(elapsed).as_secs_f64())
            ),
            None => String::new(),
        };
        format!(
            "{units} units, {:.1}k execs {:.1}k/s, {} distinct{remaining}",
            execs as f64 / 1000.0,
            rate / 1000.0,
            c.distinct(),
        )
    }

    fn show(&mut self, elapsed: Duration, offset: f64, c: &Counters) {
        let line = self.line(elapsed, offset, c);
        match &self.bar {
            Some(b) => {
                match (self.time, self.units) {
                    (Some(_), _) => b.set_position(elapsed.as_millis() as u64),
                    (None, Some(_)) => b.set_position(
                        c.units
                            .load(Ordering::Relaxed)
                            .saturating_sub(self.first_units),
                    ),
                    _ => b.tick(),
                }
                b.set_message(line);
            }
            None => {
                if self.last_line.elapsed() >= Duration::from_secs(10) {
                    self.last_line = Instant::now();
                    eprintln!("[{}] {line}", show_secs(elapsed.as_secs_f64()));
                }
            }
        }
    }

    fn note(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.println(msg),
            None => eprintln!("{msg}"),
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn cmd_merge(dirs: &[PathBuf], out: &Path) -> i32 {
    match soak::merge(dirs, out) {
        Ok(m) => {
            if m.duplicates > 0 {
                eprintln!(
                    "parkrace: {} units were in more than one folder (the same shard twice?); counted once",
                    m.duplicates
                );
            }
            println!(
                "merged {} folders ({}) into {}",
                dirs.len(),
                m.summary.shards.join(", "),
                out.display()
            );
            print_summary(out, &m.summary, None);
            if m.summary.has_finding() {
                EXIT_FINDING
            } else {
                EXIT_OK
            }
        }
        Err(e) => fail(e),
    }
}

/// `parkrace report DIR`: make the campaign's `summary.json` and `report.html` anew.
pub(super) fn cmd_report(dir: &Path, json: bool) -> i32 {
    match soak::write_report(dir) {
        Ok(s) if json => {
            let caught = s.verdicts.iter().filter(|v| v.status == "caught").count();
            let missed: Vec<String> = s
                .missed()
                .iter()
                .map(|v| format!("{} {}", v.variant, v.scenario))
                .collect();
            println!(
                "{}",
                serde_json::json!({
                    "dir": dir.display().to_string(),
                    "summary": dir.join(soak::store::SUMMARY).display().to_string(),
                    "report": dir.join(soak::store::REPORT).display().to_string(),
                    "units": s.units,
                    "executions": s.executions,
                    "steps": s.steps,
                    "elapsed_s": s.elapsed_s,
                    "hits": s.hits,
                    "distinct_violations": s.distinct_violations,
                    "caught": caught,
                    "missed": missed,
                    "findings": s.has_finding(),
                })
            );
            if s.has_finding() {
                EXIT_FINDING
            } else {
                EXIT_OK
            }
        }
        Ok(s) => {
            print_summary(dir, &s, None);
            if s.has_finding() {
                EXIT_FINDING
            } else {
                EXIT_OK
            }
        }
        Err(e) => fail(e),
    }
}
