//! The `parkrace` command line: `hunt` (the default), `variants`, `scenarios`, `replay`,
//! `minimize`, `import`, `stress`, `verify`, `compare`, `barriers`, `litmus` (the last five in
//! `cli/`).

mod barriers;
mod compare;
mod litmus;
mod progress;
mod soak;
mod stress;
mod verify;

pub use soak::{SoakArgs, SoakCommand};

use crate::history;
use crate::oracle::{Oracle, OracleSet};
use crate::scenario::{Memory, Scenario};
use crate::strategy::{Command as StrategyCommand, Strategy};
use crate::tools::explore::{Limits, replay};
use crate::tools::minimize::{minimize, minimize_bytes};
use crate::tools::pool;
use crate::tools::render;
use crate::tools::repro::Repro;
use crate::tools::search::{Caps, Searched, search};
use crate::tools::target::Target;
use crate::variant::{Preset, SWITCHES, Variant};
use clap::{Parser, Subcommand};
use serde_json::json;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Exit status: success (hunt: every verdict agrees with kernel history or history says
/// nothing; replay: the recorded violation reproduced).
pub const EXIT_OK: i32 = 0;
/// Exit status: hunt: a verdict disagrees with kernel history, or a model self-check failed;
/// replay: the recorded violation did not reproduce.
pub const EXIT_FINDING: i32 = 1;
/// Exit status: bad arguments, or an unreadable or invalid repro file.
pub const EXIT_USAGE: i32 = 2;
/// Exit status: an I/O error while writing results.
pub const EXIT_IO: i32 = 3;
/// Exit status: a worker crashed (a bug in parkrace): the run's results are incomplete, and
/// never reported as clean.
pub const EXIT_CRASH: i32 = 4;
/// Exit status: hunt was interrupted (Ctrl-C, SIGTERM) before every cell had its verdict;
/// the rows printed are the cells that did (128 + SIGINT, the shell's convention).
pub const EXIT_INTERRUPTED: i32 = 130;

const EXIT_HELP: &str = "Exit status:
  0  hunt: every verdict agrees with kernel history (or history says nothing about it);
     verify: every (variant, scenario) verified; compare: every run ended;
     replay: the recorded violation reproduced; minimize, import: a repro file was written;
     stress: no violation was seen; soak, soak merge, report: no violation history does not
     explain; barriers: every barrier was searched; litmus: every file was answered
  1  hunt: some verdict disagrees with kernel history, or a model self-check failed;
     verify: a violation was found, or a search ran out of --time;
     replay: the recorded violation did not reproduce; minimize: the file's schedule does
     not violate its oracle; import: the input violates nothing; stress: a violation was seen;
     soak, soak merge, report: a violation history does not explain (or any, on a switch set
     that is no preset); barriers: the variant violates an oracle with every barrier
  2  bad arguments, or an unreadable or invalid input file (one line on stderr)
  3  an I/O error while writing files
  4  hunt, verify, compare, stress, soak: a worker crashed (a bug in parkrace): the results
     are incomplete, never clean
  130  hunt: interrupted (Ctrl-C, SIGTERM) before every cell had its verdict

Each command's --help has its own table.";

const HUNT_EXIT_HELP: &str = "Exit status:
  0  every verdict agrees with kernel history (or history says nothing about it)
  1  some verdict disagrees with kernel history, or a model self-check failed
  2  bad arguments (one line on stderr)
  3  an I/O error while writing a repro file
  4  a worker crashed (a bug in parkrace): the results are incomplete, never clean
  130  interrupted (Ctrl-C, SIGTERM) before every cell had its verdict: the rows printed are
     the cells that had one";

const REPLAY_EXIT_HELP: &str = "Exit status:
  0  the recorded violation reproduced
  1  the recorded violation did not reproduce
  2  bad arguments, an unreadable or invalid repro file, or a schedule that does not fit this
     model (one line on stderr)";

const MINIMIZE_EXIT_HELP: &str = "Exit status:
  0  a minimized repro file was written
  1  the file's schedule does not violate its oracle (any more)
  2  bad arguments, an unreadable or invalid repro file, or a schedule that does not fit this
     model (one line on stderr)
  3  an I/O error while writing the repro file";

const IMPORT_EXIT_HELP: &str = "Exit status:
  0  a repro file was written
  1  the input violates nothing under the target's oracles
  2  bad arguments, an unknown target, or an unreadable input file (one line on stderr)
  3  an I/O error while writing the repro file";

const COMPARE_EXIT_HELP: &str = "Exit status:
  0  every (target, strategy) ran all its seeds and its row was printed (violations found
     are what compare measures, not a failure)
  2  bad arguments, or a libFuzzer contender that cannot run (one line on stderr)
  3  an I/O error while writing an SVG, or a libFuzzer run that failed
  4  a worker crashed (a bug in parkrace): the results are incomplete, never clean";

#[derive(Parser, Debug)]
#[command(
    name = "parkrace",
    version,
    about = "Hunts races in the Linux kthread park protocol by searching the schedules of a kernel model",
    long_about = "Hunts races in the Linux kthread park protocol (kthread_park, __kthread_parkme, \
kthread_unpark) by modelling it with the scheduler pieces it leans on and searching its \
thread schedules under shuttle, or stresses the same model natively on OS threads \
(`stress`). With no subcommand, runs `hunt` over every preset and named \
scenario and checks each verdict against kernel history.",
    after_help = EXIT_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Search schedules of (variant x scenario x strategy) for oracle violations.
    #[command(after_help = HUNT_EXIT_HELP)]
    Hunt(HuntArgs),
    /// List the variant presets, their kernel commits and the fix switches.
    Variants,
    /// List the named scenarios (and how to ask for a generated one).
    Scenarios,
    /// Replay a repro file deterministically and print its race as a per-task table.
    #[command(after_help = REPLAY_EXIT_HELP)]
    Replay {
        /// The repro file.
        file: PathBuf,
        /// Leave out lock bookkeeping and plain reads in the table.
        #[arg(long)]
        brief: bool,
        /// Print one JSON object (file, reproduced, oracle, recorded, detail, task, step,
        /// steps, preemptions, diverged) instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Minimize a repro file's schedule: fewest preemptions that still violate the same
    /// oracle, then fewest steps. Prints the sizes before and after and writes a repro file.
    #[command(after_help = MINIMIZE_EXIT_HELP)]
    Minimize {
        /// The repro file.
        file: PathBuf,
        /// Where to write the minimized repro (default: FILE with `.min.json`).
        #[arg(short = 'o', long = "out")]
        out: Option<PathBuf>,
        /// Executions the search may spend at most: 1 to 10,000,000 (default: 20,000; 200,000
        /// for a schedule under a weak memory model).
        #[arg(long, allow_hyphen_values = true, value_parser = number(1, MAX_TRIES))]
        tries: Option<usize>,
        /// Also simplify the scenario (drop the waker, the extra task, preemption, CPUs,
        /// operations) while the same oracle can still be violated with no more preemptions.
        #[arg(long)]
        scenario: bool,
        /// Print one JSON object (file, from, oracle, before, after, executions, elapsed_ms,
        /// scenario) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Stress the model natively: every model thread an OS thread, many instances at once,
    /// park/unpark cycles back to back, with delay and preemption injection. Its executions
    /// are sequentially consistent whatever the hardware (every step runs under the world's
    /// lock): weak memory is searched by `hunt`, `verify` and `barriers` with `--memory`.
    #[command(after_help = STRESS_EXIT_HELP)]
    Stress(StressArgs),
    /// Overnight randomized testing: a long campaign over variants x scenarios x strategies
    /// (shuttle random, PCT, URW, random bytes, native stress) that writes every new violation
    /// at once as a minimized repro, checkpoints, resumes after Ctrl-C or kill -9, splits into
    /// shards (`soak merge` joins them) and reports (summary.json, report.html).
    #[command(after_help = soak::SOAK_HELP)]
    Soak(SoakArgs),
    /// Make a soak campaign's summary.json and report.html anew from its journal.
    #[command(after_help = soak::REPORT_EXIT_HELP)]
    Report {
        /// The campaign folder.
        dir: PathBuf,
        /// Print one JSON object (the paths of summary.json and report.html, and the counts)
        /// instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Exhaustive verification: the scenario's whole state graph (livelocks as fair cycles),
    /// or with -k K every schedule with at most K preemptions (context bounding), bound by
    /// bound without repeats, so that a violation found needs the fewest. With a state cache.
    #[command(after_help = VERIFY_EXIT_HELP)]
    Verify(VerifyArgs),
    /// Compare search strategies on the buggy targets: from many seeds each, the share that
    /// found a violation, executions to the first one, wall time, throughput, survival curves.
    #[command(after_help = COMPARE_EXIT_HELP)]
    Compare(CompareArgs),
    /// Is each barrier of a variant load-bearing? Removes each barrier alone and searches the
    /// variant under a weak memory model (default lkmm) for a violation of the oracles it
    /// keeps: load-bearing (with a minimized repro and its race diagram) or not shown (with
    /// the budget that showed nothing).
    #[command(after_help = barriers::BARRIERS_EXIT_HELP)]
    Barriers(barriers::BarriersArgs),
    /// Answer C litmus tests (the kernel's tools/memory-model format) with Sometimes or Never
    /// under a memory model, by exploring every execution on the protocol's runtime.
    #[command(after_help = litmus::LITMUS_EXIT_HELP)]
    Litmus(litmus::LitmusArgs),
    /// Turn a fuzz target's input (a crash artifact, or any corpus file) into a repro file.
    #[command(after_help = IMPORT_EXIT_HELP)]
    Import {
        /// The fuzz target that produced it (park_v0, park_v1, park_v2, park_v3, park_v4,
        /// park_fixed).
        target: String,
        /// The input file (e.g. fuzz/artifacts/park_v2/crash-...).
        artifact: PathBuf,
        /// Where to write the repro file (default: `repros/<name>.json`).
        #[arg(short = 'o', long = "out")]
        out: Option<PathBuf>,
        /// The crash oracles, if the campaign narrowed them (PARKRACE_FUZZ_ORACLES).
        #[arg(long)]
        oracles: Option<String>,
        /// Print one JSON object (file, oracle, violation, target, preset, scenario) instead
        /// of text.
        #[arg(long)]
        json: bool,
    },
}

const STRESS_EXIT_HELP: &str = "Exit status:
  0  no violation was seen
  1  a violation was seen (or a model self-check failed)
  2  bad arguments (one line on stderr)
  4  a stress thread crashed (a bug in parkrace), or the OS refused to start one: the
     results are incomplete, never clean";

#[derive(clap::Args, Debug, Clone)]
pub struct StressArgs {
    /// Variant: a preset (V0 ... V5, V5@6.12, V5@6.16, mainline), a preset with overrides (V3:park_wti=off) or
    /// a switch list. Repeatable; default: every preset.
    #[arg(long = "variant", short = 'v')]
    pub variants: Vec<String>,
    /// Scenario name (see `parkrace scenarios`) or random-SEED. Repeatable; default: every
    /// named scenario. Instances rotate over every (variant, scenario).
    #[arg(long = "scenario", short = 's')]
    pub scenarios: Vec<String>,
    /// Wall time of a run, e.g. 500ms, 30s, 10m, 8h: 1ms to 30 days.
    #[arg(long, default_value = "60s", allow_hyphen_values = true, value_parser = duration_arg)]
    pub time: String,
    /// Independent instances running at once: 1 to 1024 (default: the number of cores).
    #[arg(long, allow_hyphen_values = true, value_parser = number(1, MAX_JOBS))]
    pub instances: Option<usize>,
    /// Delay injection at the model's scheduling points (the default): one step in 8 is
    /// preceded by a yield or a spin of up to 20 µs.
    #[arg(long, overrides_with = "no_delay")]
    pub delay: bool,
    /// No delay injection (the OS scheduler alone interleaves the steps).
    #[arg(long, overrides_with = "delay")]
    pub no_delay: bool,
    /// Seed of the injection streams, 0 to 18446744073709551615 (default: from the clock;
    /// printed, so that a run can be repeated with the same streams).
    #[arg(long, allow_hyphen_values = true, value_parser = number(0, u64::MAX))]
    pub seed: Option<u64>,
    /// Oracles to check, comma separated (I1,...,I8), "all", or "history": for each preset
    /// the oracles kernel history says it keeps (so any violation contradicts history).
    #[arg(long, default_value = "all")]
    pub oracles: String,
    /// End the run at its first violation.
    #[arg(long)]
    pub first: bool,
    /// Independent runs of --time each, with seeds SEED, SEED+1, ...; each ends at its first
    /// violation. Prints one line per run and the share of runs that found a violation.
    /// 1 to 100,000.
    #[arg(long, default_value_t = 1, allow_hyphen_values = true,
          value_parser = number(1, MAX_RUNS))]
    pub runs: usize,
    /// Events kept per model thread, shown with a violation: 1 to 1,000.
    #[arg(long, default_value_t = crate::tools::stress::DEFAULT_EVENTS,
          allow_hyphen_values = true, value_parser = number(1, MAX_EVENTS))]
    pub events: usize,
    /// Print JSON Lines: one object per run (and, with --runs, a last summary object).
    #[arg(long)]
    pub json: bool,
    /// Strategy: `native` only (the default); the schedule searches run under `hunt`,
    /// `compare` and `soak`.
    #[arg(long = "strategy")]
    pub strategies: Vec<String>,
}

const VERIFY_EXIT_HELP: &str = "Exit status:
  0  every (variant, scenario) verified: no schedule (within the bound) violates its oracles
  1  a violation was found (its repro file is written), or a search ran out of --time or
     hit the step guard (INCOMPLETE)
  2  bad arguments (one line on stderr)
  3  an I/O error while writing a repro file
  4  a worker crashed (a bug in parkrace): the results are incomplete, never clean";

#[derive(clap::Args, Debug, Clone)]
pub struct VerifyArgs {
    /// Variant: a preset, a preset with overrides or a switch list. Repeatable; default: the
    /// fixed presets V3 V3b V4 V5 V5@6.12 V5@6.16 mainline.
    #[arg(long = "variant", short = 'v')]
    pub variants: Vec<String>,
    /// Scenario name or random-SEED. Repeatable; default: every named scenario.
    #[arg(long = "scenario", short = 's')]
    pub scenarios: Vec<String>,
    /// The bound K on preemptions: preemptive switches (the running task could go on),
    /// injected ticks and wakeup preemptions. With --count delays, on preemptions plus delays
    /// (non-default choices where the running task cannot go on). 0 to 8. Without it, no
    /// bound: the scenario's whole state graph is explored (livelocks are its fair cycles).
    #[arg(long, short = 'k', allow_hyphen_values = true,
          value_parser = number(0, MAX_PREEMPTIONS))]
    pub preemptions: Option<u32>,
    /// What K counts: `preemptions` (CHESS's context bounding: every choice where the running
    /// task cannot go on is free) or `delays` (preemptions plus delays: delay bounding).
    #[arg(long, value_enum, default_value = "preemptions")]
    pub count: crate::engine::bounded::BoundKind,
    /// With --count preemptions: at most D delays as well, 0 to 100 (default: any number).
    #[arg(long, value_name = "D", allow_hyphen_values = true,
          value_parser = number(0, MAX_DELAYS))]
    pub delays: Option<u32>,
    /// Run every schedule to its end, without cutting those that reach a state already
    /// explored with as much of the bound left (state caching, the default).
    #[arg(long)]
    pub no_state_cache: bool,
    /// Without a bound: prune schedules that only reorder independent moves (sleep sets over
    /// what each move reads and writes). Every oracle is still proven except I7's livelocks
    /// (cycles through which nothing completes): a reduced search finds those it meets but
    /// proves none absent. Under --memory sc only.
    #[arg(long)]
    pub reduce: bool,
    /// Memory model: sc (the default), tso or lkmm (model.md m); a reordering (a load reading
    /// an older store, a store placed before a newer one) counts like a preemption in K.
    #[arg(long, value_enum)]
    pub memory: Option<Memory>,
    /// Oracles: comma separated (I1,...,I8), "all", or "history" (for each preset the
    /// oracles kernel history says it keeps; every oracle for other switch sets).
    #[arg(long, default_value = "history")]
    pub oracles: String,
    /// Wall time per (variant, scenario) at most, e.g. 30s, 10m (1ms to 30 days); past it the
    /// search is incomplete.
    #[arg(long, allow_hyphen_values = true, value_parser = duration_arg)]
    pub time: Option<String>,
    /// Folder for the repro files of violations.
    #[arg(long, default_value = "repros")]
    pub out: PathBuf,
    /// Print JSON Lines, one object per (variant, scenario).
    #[arg(long)]
    pub json: bool,
    /// Worker threads: 1 to 1024 (default: the number of cores).
    #[arg(long, allow_hyphen_values = true, value_parser = number(1, MAX_JOBS))]
    pub jobs: Option<usize>,
}

#[derive(clap::Args, Debug, Clone)]
pub struct CompareArgs {
    /// Variant (repeatable). With --scenario, the targets are every variant on every
    /// scenario; alone, each preset on the named scenarios where kernel history says its bug
    /// shows; default: every buggy preset on those scenarios.
    #[arg(long = "variant", short = 'v')]
    pub variants: Vec<String>,
    /// Scenario (repeatable). Alone: every preset kernel history says fails on it; see
    /// --variant.
    #[arg(long = "scenario", short = 's')]
    pub scenarios: Vec<String>,
    /// Strategy: random, pct:D, urw, dfs, focus or focus:N (conflict-directed PCT: change
    /// points only at accesses to shared protocol state, each with probability 1/N; plain
    /// focus draws per execution between 1/2 and none), bytes (the byte-driven scheduler on
    /// random bytes), bounded:K (random schedules with at most K preemptions) or libfuzzer;
    /// not native. Repeatable; default: random, pct:1 to pct:4, urw, bytes, focus.
    #[arg(long = "strategy")]
    pub strategies: Vec<String>,
    /// Compare on the ablations of the fixes instead of the buggy presets (in addition to
    /// --variant/--scenario targets, if given): V5 with one switch set back to an earlier
    /// preset's value, on each named scenario where 10^4 random executions find a violation.
    #[arg(long)]
    pub ablations: bool,
    /// Memory model of every target: sc (the default), tso or lkmm (model.md m).
    #[arg(long, value_enum)]
    pub memory: Option<Memory>,
    /// Seeds per (target, strategy): seeds 1 to N, N from 1 to 100,000.
    #[arg(long, default_value_t = 200, allow_hyphen_values = true,
          value_parser = number(1, MAX_SEEDS))]
    pub seeds: u64,
    /// Executions per run at most: 1 to 1,000,000,000.
    #[arg(long, default_value_t = 100_000, allow_hyphen_values = true,
          value_parser = number(1, MAX_EXECUTIONS))]
    pub executions: usize,
    /// Wall time per run at most (e.g. 10s): 1ms to 30 days.
    #[arg(long, default_value = "10s", allow_hyphen_values = true, value_parser = duration_arg)]
    pub time: String,
    /// Folder for one survival-curve SVG per target.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Print JSON Lines, one object per (target, strategy).
    #[arg(long)]
    pub json: bool,
    /// Worker threads: 1 to 1024 (default: the number of cores).
    #[arg(long, allow_hyphen_values = true, value_parser = number(1, MAX_JOBS))]
    pub jobs: Option<usize>,
}

#[derive(clap::Args, Debug, Default, Clone)]
pub struct HuntArgs {
    /// Variant: a preset (V0 ... V5, V5@6.12, V5@6.16, mainline), a preset with overrides (V3:park_wti=off) or
    /// a switch list (parkme_store=special,...). Repeatable; default: every preset.
    #[arg(long = "variant", short = 'v')]
    pub variants: Vec<String>,
    /// Scenario name (see `parkrace scenarios`) or random-SEED. Repeatable; default: every
    /// named scenario.
    #[arg(long = "scenario", short = 's')]
    pub scenarios: Vec<String>,
    /// Strategy: random, pct, pct:DEPTH, urw, dfs, focus, focus:N (conflict-directed PCT, see
    /// `compare --help`), bytes (the byte-driven scheduler on random bytes) or bounded:K
    /// (random schedules with at most K preemptions); not libfuzzer or native. Repeatable;
    /// default: random and urw.
    #[arg(long = "strategy")]
    pub strategies: Vec<String>,
    /// Oracles to check, comma separated (I1,I1c,I2,I3,I3s,I4,I5,I6,I7,I8), "all", or
    /// "history" (for each preset the oracles kernel history says it keeps under SC, so that a
    /// violation is one SC does not explain). Default: "all" under --memory sc, "history"
    /// under tso and lkmm (what weak memory adds).
    #[arg(long)]
    pub oracles: Option<String>,
    /// Memory model: sc (sequential consistency, the default), tso (x86 store buffers) or
    /// lkmm (the Linux-kernel memory model, operationally: stores reach other CPUs late and
    /// in any order unless a barrier orders them). See `parkrace barriers`.
    #[arg(long, value_enum)]
    pub memory: Option<Memory>,
    /// Executions per (variant, scenario, strategy) at most: 1 to 1,000,000,000.
    #[arg(long, default_value_t = 10_000, allow_hyphen_values = true,
          value_parser = number(1, MAX_EXECUTIONS))]
    pub executions: usize,
    /// A first look in seconds: 300 executions per cell instead of 10,000, and repro files
    /// saved as found (`parkrace minimize FILE` minimizes one). Every verdict of the default
    /// run is the same; the clean cells are searched less.
    #[arg(long, conflicts_with = "executions")]
    pub quick: bool,
    /// Wall time per (variant, scenario, strategy) at most, e.g. 500ms, 30s, 5m: 1ms to 30
    /// days.
    #[arg(long, allow_hyphen_values = true, value_parser = duration_arg)]
    pub time: Option<String>,
    /// Seed of the schedulers (the same for every cell, so runs repeat): 0 to
    /// 18446744073709551615.
    #[arg(long, default_value_t = 1, allow_hyphen_values = true,
          value_parser = number(0, u64::MAX))]
    pub seed: u64,
    /// Folder for repro files of the violations found.
    #[arg(long, default_value = "repros")]
    pub out: PathBuf,
    /// Print JSON Lines (one object per cell) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Worker threads: 1 to 1024 (default: the number of cores).
    #[arg(long, allow_hyphen_values = true, value_parser = number(1, MAX_JOBS))]
    pub jobs: Option<usize>,
    /// Save violations as found, without minimizing their schedules.
    #[arg(long)]
    pub no_minimize: bool,
}

/// Set by Ctrl-C or SIGTERM (what a batch system sends): a run (hunt, stress, soak) stops,
/// and what it has is reported as usual.
pub(crate) static INTERRUPTED: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
extern "C" fn on_interrupt(sig: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
    // A second one ends the process at once.
    // SAFETY: signal() is async-signal-safe.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
    }
}

/// Catch Ctrl-C (SIGINT) and SIGTERM: the first sets [`INTERRUPTED`], a second ends the
/// process.
pub(crate) fn catch_ctrl_c() {
    #[cfg(unix)]
    // SAFETY: installs a handler that only stores to an atomic and calls signal().
    unsafe {
        for sig in [libc::SIGINT, libc::SIGTERM] {
            libc::signal(
                sig,
                on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
}

pub use crate::tools::MAX_DURATION;

/// Parse `500ms`, `30s`, `5m`, `2h` or a plain number of seconds: from 1 ms to 30 days
/// ([`MAX_DURATION`]).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    duration(s).ok_or_else(|| format!("'{}' is {DURATION_RANGE}", s.trim()))
}

/// What a duration must be, for the messages.
const DURATION_RANGE: &str = "not a duration from 1ms to 30 days (e.g. 500ms, 30s, 5m, 2h)";

fn duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, mult_ms) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60_000.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3_600_000.0)
    } else {
        (s, 1000.0)
    };
    let ms = num.trim().parse::<f64>().ok()? * mult_ms;
    if !ms.is_finite() || ms <= 0.0 || ms > MAX_DURATION.as_millis() as f64 {
        return None;
    }
    Some(Duration::from_millis(ms.round().max(1.0) as u64))
}

/// The value parser of a duration option (`--time`, `--native-time`): checks it with
/// [`parse_duration`] at parse time, so that a bad one is answered naming the option (clap
/// names the value too), and keeps the text as given.
pub(crate) fn duration_arg(s: &str) -> Result<String, String> {
    match duration(s) {
        Some(_) => Ok(s.to_string()),
        None => Err(DURATION_RANGE.into()),
    }
}

/// `n` with its thousands grouped: `1,000,000`.
fn grouped(n: impl std::fmt::Display) -> String {
    let digits = n.to_string();
    if digits.len() <= 4 {
        return digits;
    }
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The value parser of a numeric option: a whole number from `lo` to `hi`. Anything else
/// (a negative number, a word, a number out of range) is answered with the option, the value
/// and the range, at parse time.
pub(crate) fn number<T>(lo: T, hi: T) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy + Send + Sync + 'static,
{
    move |s: &str| match s.trim().parse::<T>() {
        Ok(v) if lo <= v && v <= hi => Ok(v),
        _ => Err(format!(
            "not a whole number from {} to {}",
            grouped(lo),
            grouped(hi)
        )),
    }
}

/// Executions per cell of `hunt --quick`: the buggy cells' races show within a few dozen, so
/// every verdict is the one of the default 10,000 (`tests/verdicts.rs` checks it).
pub const QUICK_EXECUTIONS: usize = 300;

/// The most worker threads `--jobs` takes (and stress's `--instances`).
pub const MAX_JOBS: usize = 1024;
/// The most executions per cell or run (`hunt`, `compare --executions`).
pub const MAX_EXECUTIONS: usize = 1_000_000_000;
pub use crate::tools::minimize::MAX_TRIES;
/// The most seeds per (target, strategy) of `compare --seeds`.
pub const MAX_SEEDS: u64 = 100_000;
/// The most runs of `stress --runs`.
pub const MAX_RUNS: usize = 100_000;
/// The most events kept per model thread (`stress --events`): shown to a reader, and kept
/// by every model thread of every instance.
pub const MAX_EVENTS: usize = 1_000;
/// The highest bound of `verify -k` (beyond it no search is feasible).
pub const MAX_PREEMPTIONS: u32 = 8;
/// The most delays of `verify --delays`.
pub const MAX_DELAYS: u32 = 100;

/// One cell of a hunt: what was asked.
#[derive(Clone)]
struct Cell {
    variant: Variant,
    scenario: Scenario,
    strategy: Strategy,
}

/// Put every scenario under `memory`, where `--memory` was given.
pub(crate) fn with_memory(scenarios: &mut [Scenario], memory: Option<Memory>) {
    if let Some(m) = memory {
        for s in scenarios {
            s.memory = m;
        }
    }
}

pub(crate) fn usage(msg: impl std::fmt::Display) -> i32 {
    eprintln!("parkrace: {msg}");
    EXIT_USAGE
}

/// Run `parkrace` with parsed arguments; returns the exit status.
pub fn main_with(cli: Cli) -> i32 {
    match cli.command.unwrap_or(Command::Hunt(HuntArgs {
        executions: 10_000,
        seed: 1,
        out: PathBuf::from("repros"),
        ..Default::default()
    })) {
        Command::Hunt(a) => cmd_hunt(a),
        Command::Variants => cmd_variants(),
        Command::Scenarios => cmd_scenarios(),
        Command::Replay { file, brief, json } => cmd_replay(file, brief, json),
        Command::Minimize {
            file,
            out,
            tries,
            scenario,
            json,
        } => cmd_minimize(file, out, tries, scenario, json),
        Command::Stress(a) => stress::cmd_stress(a),
        Command::Soak(a) => soak::cmd_soak(a),
        Command::Report { dir, json } => soak::cmd_report(&dir, json),
        Command::Verify(a) => verify::cmd_verify(a),
        Command::Compare(a) => compare::cmd_compare(a),
        Command::Barriers(a) => barriers::cmd_barriers(a),
        Command::Litmus(a) => litmus::cmd_litmus(a),
        Command::Import {
            target,
            artifact,
            out,
            oracles,
            json,
        } => cmd_import(&target, &artifact, out, oracles.as_deref(), json),
    }
}

fn cmd_variants() -> i32 {
    println!("Presets (docs/model.md, section c):");
    for p in Preset::ALL {
        println!("  {:<8} {:<30} {}", p.name(), p.commit(), p.title());
        println!("           scheduler: {}", p.sched());
        println!("           {}", p.variant().switch_string());
    }
    println!(
        "\nSwitches (any combination runs; --variant V3:park_wti=off or a full name=value list):"
    );
    for s in SWITCHES {
        println!("  {:<26} {}", s.name, s.help());
    }
    println!(
        "\nThe barrier switches are on in every preset (each kernel had its barriers) and change \
         nothing under --memory sc;\na switch string names one only when it is off. `parkrace \
         barriers -v V5` removes each alone under lkmm.\nThe scheduler switches are off in V0-V5 \
         (the v4.15-v4.19 scheduler) and named only when on (docs/model.md 0.3)."
    );
    EXIT_OK
}

fn cmd_scenarios() -> i32 {
    println!("Named scenarios (docs/model.md, section f):");
    for s in Scenario::named() {
        println!("  {:<18} {}", s.name, s.about);
        println!("  {:<18} {}", "", s.describe());
    }
    println!(
        "\nrandom-SEED: a generated scenario (operation sequence, waker, extra task, preemption)."
    );
    EXIT_OK
}

fn cmd_replay(file: PathBuf, brief: bool, json: bool) -> i32 {
    let r = match Repro::load(&file) {
        Ok(r) => r,
        Err(e) => return usage(e),
    };
    let decisions = match r.decisions() {
        Ok(d) => d,
        Err(e) => return usage(e),
    };
    let rep = replay(&r.scenario, r.variant, r.oracles, &decisions);
    let o = &rep.outcome;
    let reproduced = o
        .violation
        .as_ref()
        .is_some_and(|v| v.oracle == r.violation.oracle);
    // Decisions that do not fit the model are bad input, not a clean run.
    if let Some(d) = &rep.diverged
        && !reproduced
    {
        return usage(format!(
            "{}: field 'decisions': the schedule does not fit this model: {d} (it was recorded by parkrace {}, this is {})",
            file.display(),
            r.parkrace,
            env!("CARGO_PKG_VERSION")
        ));
    }
    if json {
        let v = o.violation.as_ref();
        println!(
            "{}",
            json!({
                "file": file.display().to_string(),
                "reproduced": reproduced,
                "oracle": v.map(|v| v.oracle.name()),
                "recorded": r.violation.oracle.name(),
                "detail": v.map(|v| v.detail.clone()),
                "task": v.map(|v| v.task.clone()),
                "step": v.map(|v| v.step),
                "steps": o.steps,
                "preemptions": o.preemptions,
                "diverged": rep.diverged,
            })
        );
        return if reproduced { EXIT_OK } else { EXIT_FINDING };
    }
    println!(
        "variant   {} ({})",
        r.variant.label(),
        r.variant.switch_string()
    );
    println!("scenario  {}: {}", r.scenario.name, r.scenario.describe());
    println!(
        "recorded  {} (found by {} seed {} at execution {})",
        r.violation, r.strategy, r.seed, r.execution
    );
    println!();
    print!(
        "{}",
        render::table(&o.trace, &o.names, &o.completions, brief)
    );
    println!();
    if let Some(d) = &rep.diverged {
        println!(
            "replay diverged: {d} (the schedule does not fit this model from there on; it was recorded by parkrace {})",
            r.parkrace
        );
    }
    match &o.violation {
        Some(v) if reproduced => {
            println!("reproduced: {v}");
            println!("  {} {}", v.oracle, v.oracle.summary());
            EXIT_OK
        }
        Some(v) => {
            println!(
                "NOT reproduced: replay found {v}, the file records {}",
                r.violation.oracle
            );
            EXIT_FINDING
        }
        None => {
            println!(
                "NOT reproduced: the whole schedule replayed and violated nothing (the file records {})",
                r.violation.oracle
            );
            EXIT_FINDING
        }
    }
}

/// Create the folder `path` is to be written into, if it is missing (import and minimize
/// `-o` alike).
fn create_parent(path: &std::path::Path) -> Result<(), i32> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("parkrace: cannot create {}: {e}", dir.display());
        return Err(EXIT_IO);
    }
    Ok(())
}

fn cmd_import(
    target: &str,
    artifact: &std::path::Path,
    out: Option<PathBuf>,
    oracles: Option<&str>,
    json: bool,
) -> i32 {
    let t = match crate::tools::fuzz::Target::by_name(target) {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    let oracles: Option<OracleSet> = match oracles.map(str::parse).transpose() {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let data = match std::fs::read(artifact) {
        Ok(d) => d,
        Err(e) => return usage(format!("{}: {e}", artifact.display())),
    };
    let mut case = crate::tools::fuzz::Case::decode(&t, &data);
    if let Some(o) = oracles {
        case.oracles = o;
    }
    let run = case.run();
    let object = |file: Option<String>, v: Option<&crate::oracle::Violation>| {
        json!({
            "file": file,
            "oracle": v.map(|v| v.oracle.name()),
            "violation": v.map(|v| json!({
                "oracle": v.oracle.name(), "detail": v.detail, "task": v.task, "step": v.step,
            })),
            "target": target,
            "preset": case.preset.to_string(),
            "scenario": case.scenario.describe(),
            "schedule_bytes": case.schedule.len(),
        })
    };
    if !json {
        println!(
            "{target}: {} on {} with {} schedule bytes",
            case.preset,
            case.scenario.describe(),
            case.schedule.len()
        );
    }
    let Some(rep) = case.repro(&t, &run) else {
        if json {
            println!("{}", object(None, None));
        } else {
            println!("no violation: the input runs clean under {target}'s oracles");
        }
        return EXIT_FINDING;
    };
    let path = out.unwrap_or_else(|| PathBuf::from("repros").join(rep.file_name()));
    if let Err(code) = create_parent(&path) {
        return code;
    }
    let text = serde_json::to_string_pretty(&rep).expect("a repro encodes");
    if let Err(e) = crate::tools::repro::write_atomic(&path, text.as_bytes()) {
        eprintln!("parkrace: cannot write {}: {e}", path.display());
        return EXIT_IO;
    }
    if json {
        println!(
            "{}",
            object(Some(path.display().to_string()), Some(&rep.violation))
        );
        return EXIT_OK;
    }
    println!("{}", rep.violation);
    println!("wrote {}", path.display());
    println!(
        "replay: parkrace replay {0}; minimize: parkrace minimize {0}",
        path.display()
    );
    EXIT_OK
}

fn cmd_minimize(
    file: PathBuf,
    out: Option<PathBuf>,
    tries: Option<usize>,
    reduce: bool,
    json: bool,
) -> i32 {
    let r = match Repro::load(&file) {
        Ok(r) => r,
        Err(e) => return usage(e),
    };
    let tries = tries.unwrap_or_else(|| crate::tools::minimize::default_tries(&r.scenario));
    if tries == 0 {
        return usage("--tries must be at least 1");
    }
    let decisions = match r.decisions() {
        Ok(d) => d,
        Err(e) => return usage(e),
    };
    // Decisions that do not fit the model are bad input (as for replay), not a schedule
    // that violates nothing.
    let bytes = match crate::tools::explore::bytes_of_decisions(
        &r.scenario,
        r.variant,
        r.oracles,
        &decisions,
    ) {
        Ok(b) => b,
        Err(e) => {
            return usage(format!(
                "{}: field 'decisions': {e} (it was recorded by parkrace {}, this is {})",
                file.display(),
                r.parkrace,
                env!("CARGO_PKG_VERSION")
            ));
        }
    };
    let result = if reduce {
        crate::tools::minimize::minimize_with_scenario(
            &r.scenario,
            r.variant,
            r.oracles,
            bytes,
            tries,
        )
    } else {
        minimize_bytes(&r.scenario, r.variant, r.oracles, bytes, tries)
            .map(|m| (r.scenario.clone(), m))
    };
    let (scenario, m) = match result {
        Ok(x) => x,
        Err(e) => {
            eprintln!("parkrace: {}: {e}", file.display());
            return EXIT_FINDING;
        }
    };
    let mut min = r.with_minimized(&m);
    let new_scenario = (scenario != r.scenario).then(|| scenario.describe());
    if scenario != r.scenario && !json {
        println!(
            "scenario: {} -> {}",
            r.scenario.describe(),
            scenario.describe()
        );
        min.scenario = scenario;
    }
    if min.violation.oracle != r.violation.oracle {
        eprintln!(
            "parkrace: {}: the schedule violates {}, the file records {}",
            file.display(),
            min.violation.oracle,
            r.violation.oracle
        );
        return EXIT_FINDING;
    }
    let out = out.unwrap_or_else(|| {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "repro".into());
        file.with_file_name(format!("{stem}.min.json"))
    });
    let text = match serde_json::to_string_pretty(&min) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("parkrace: cannot encode the repro: {e}");
            return EXIT_IO;
        }
    };
    if let Err(code) = create_parent(&out) {
        return code;
    }
    if let Err(e) = crate::tools::repro::write_atomic(&out, text.as_bytes()) {
        eprintln!("parkrace: cannot write {}: {e}", out.display());
        return EXIT_IO;
    }
    if json {
        println!(
            "{}",
            json!({
                "file": out.display().to_string(),
                "from": file.display().to_string(),
                "oracle": min.violation.oracle.name(),
                "before": {"preemptions": m.before.preemptions,
                           "reorderings": m.before.reorderings, "steps": m.before.steps},
                "after": {
                    "preemptions": m.after.preemptions,
                    "reorderings": m.after.reorderings,
                    "steps": m.after.steps,
                    "switches": m.run.stats.switches,
                    "injected": m.run.outcome.preemptions,
                },
                "executions": m.tries,
                "elapsed_ms": m.elapsed.as_millis() as u64,
                "scenario": new_scenario,
            })
        );
        return EXIT_OK;
    }
    println!("minimized {} ({})", file.display(), min.violation);
    // Reorderings exist only under a weak memory model: SC output is as it always was.
    let re = |n: u32| {
        if min.scenario.memory.is_weak() {
            format!(", {n:>3} reorderings")
        } else {
            String::new()
        }
    };
    println!(
        "  before: {:>3} preemptions{}, {:>4} steps",
        m.before.preemptions,
        re(m.before.reorderings),
        m.before.steps
    );
    println!(
        "  after:  {:>3} preemptions{}, {:>4} steps ({} switches between threads, {} injected)",
        m.after.preemptions,
        re(m.after.reorderings),
        m.after.steps,
        m.run.stats.switches,
        m.run.outcome.preemptions
    );
    println!(
        "  {} executions in {:.2} s; wrote {}",
        m.tries,
        m.elapsed.as_secs_f64(),
        out.display()
    );
    EXIT_OK
}

/// The targets of the repeatable `--variant` (default: `default_variants`) and `--scenario`
/// (default: every named scenario) options: every variant on every scenario, with the oracles
/// of `--oracles`: a list, `all`, or `history` (for each preset the oracles kernel history
/// says it keeps).
pub(crate) fn targets_for(
    variants: &[String],
    scenarios: &[String],
    default_variants: impl FnOnce() -> Vec<Variant>,
    oracles: &str,
) -> Result<Vec<Target>, String> {
    let variants = parse_list(variants, default_variants, |s| s.parse::<Variant>())?;
    let scenarios = parse_list(scenarios, Scenario::named, Scenario::by_name)?;
    let oracles = history::oracles_for(oracles)?;
    Ok(Target::cross(&variants, &scenarios, oracles))
}

/// A seed for a run that was given none: from the clock (printed, so that it can be given
/// again).
pub(crate) fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        % 1_000_000_000
}

/// `--jobs` (at least 1), or the number of cores.
pub(crate) fn jobs_or_cores(given: Option<usize>) -> usize {
    given
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1)
}

/// Parse each of a repeatable option's values, or take the default when none was given.
pub(crate) fn parse_list<T>(
    given: &[String],
    default: impl FnOnce() -> Vec<T>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    if given.is_empty() {
        Ok(default())
    } else {
        given.iter().map(|s| parse(s)).collect()
    }
}

fn cmd_hunt(a: HuntArgs) -> i32 {
    let variants = match parse_list(
        &a.variants,
        || Preset::ALL.iter().map(|p| p.variant()).collect(),
        |s| s.parse::<Variant>(),
    ) {
        Ok(v) => v,
        Err(e) => return usage(e),
    };
    let mut scenarios = match parse_list(&a.scenarios, Scenario::named, Scenario::by_name) {
        Ok(v) => v,
        Err(e) => return usage(e),
    };
    with_memory(&mut scenarios, a.memory);
    let weak = scenarios.iter().any(|s| s.memory.is_weak());
    let strategies = match parse_list(
        &a.strategies,
        || Strategy::defaults(StrategyCommand::Hunt),
        |s| Strategy::parse_for(s, StrategyCommand::Hunt),
    ) {
        Ok(v) => v,
        Err(e) => return usage(e),
    };
    let spec = a
        .oracles
        .clone()
        .unwrap_or_else(|| if weak { "history" } else { "all" }.to_string());
    let oracles_of = match history::oracles_for(&spec) {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let time = match a.time.as_deref().map(parse_duration).transpose() {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    if a.executions == 0 {
        return usage("--executions must be at least 1");
    }
    let jobs = jobs_or_cores(a.jobs);

    let mut cells = Vec::new();
    for v in &variants {
        for s in &scenarios {
            for st in &strategies {
                cells.push(Cell {
                    variant: *v,
                    scenario: s.clone(),
                    strategy: *st,
                });
            }
        }
    }
    let total = cells.len();
    let executions = if a.quick {
        QUICK_EXECUTIONS
    } else {
        a.executions
    };
    let (seed, no_minimize) = (a.seed, a.no_minimize || a.quick);
    catch_ctrl_c();
    let cancel = Arc::new(AtomicBool::new(false));
    let limits = Limits {
        cancel: Some(Arc::clone(&cancel)),
        ..Limits::default()
    };
    // One cell: its search, and its repro file (minimized unless --no-minimize); `None` if
    // the run was interrupted before the cell's verdict.
    let work = |_: usize, c: &Cell| {
        if cancel.load(Ordering::Relaxed) {
            return None;
        }
        let oracles = oracles_of(&c.variant);
        let target = Target::new(c.variant, c.scenario.clone(), oracles);
        let caps = Caps { executions, time };
        let r = search(&target, c.strategy, seed, caps, &limits);
        if r.cancelled {
            return None;
        }
        let repro = r.hit.as_ref().map(|h| &h.found).map(|f| {
            let rep = Repro::new(
                c.variant,
                &c.scenario,
                oracles,
                &c.strategy.to_string(),
                seed,
                f,
            );
            if no_minimize {
                return rep;
            }
            let tries = crate::tools::minimize::default_tries(&c.scenario);
            match minimize(&c.scenario, c.variant, oracles, &f.decisions, tries) {
                Ok(m)
                    if m.run.outcome.violation.as_ref().map(|v| v.oracle)
                        == Some(rep.violation.oracle) =>
                {
                    rep.with_minimized(&m)
                }
                _ => rep,
            }
        });
        Some((r, repro))
    };

    let meter = std::cell::RefCell::new(progress::Meter::new("cells", total as u64, false));
    let mut out = std::io::stdout().lock();
    if !a.json {
        let _ = writeln!(
            out,
            "{:<8} {:<30} {:<18} {:<7} {:>22}  {:<6} history",
            "var", "commit", "scenario", "strategy", "executions", "oracle"
        );
    }
    let mut saved = 0;
    let mut status = EXIT_OK;
    let mut io_error = false;
    let mut interrupted = 0;
    let mut summary: Vec<(String, usize, usize, usize)> = Vec::new();
    let print = |i: usize, cell: Option<(Searched, Option<Repro>)>| {
        meter.borrow_mut().inc();
        let Some((r, repro)) = cell else {
            interrupted += 1;
            return;
        };
        // The row, printed with the progress bar out of its way.
        let mut buf = String::new();
        if io_error {
            return;
        }
        let c = &cells[i];
        {
            let preset = c.variant.preset();
            let found = r.hit.as_ref().map(|h| &h.found);
            let oracle = found.and_then(|f| f.outcome.violation.as_ref().map(|v| v.oracle));
            let oracles = oracles_of(&c.variant);
            let agrees = history::agrees_under(preset, &c.scenario, oracle, oracles);
            if agrees == Some(false) || oracle == Some(Oracle::Model) {
                status = EXIT_FINDING;
            }
            let mut repro_path = None;
            if let Some(rep) = &repro {
                match rep.save(&a.out) {
                    Ok(p) => {
                        saved += 1;
                        repro_path = Some(p.display().to_string())
                    }
                    Err(e) => {
                        meter.borrow().finish();
                        eprintln!("parkrace: cannot write repro into {}: {e}", a.out.display());
                        io_error = true;
                        return;
                    }
                }
            }
            let label = c.variant.label();
            if preset.is_some() {
                let e = summary
                    .iter()
                    .position(|s| s.0 == label)
                    .unwrap_or_else(|| {
                        summary.push((label.clone(), 0, 0, 0));
                        summary.len() - 1
                    });
                summary[e].1 += 1;
                if oracle.is_some() {
                    summary[e].2 += 1;
                }
                if agrees == Some(false) {
                    summary[e].3 += 1;
                }
            }
            if a.json {
                let v = json!({
                    "variant": label,
                    "switches": c.variant.switch_string(),
                    "commit": preset.map(|p| p.commit()),
                    "scenario": c.scenario.name,
                    "memory": c.scenario.memory.name(),
                    "strategy": c.strategy.to_string(),
                    "oracles": oracles.to_string(),
                    "seed": a.seed,
                    "executions": r.executions,
                    "elapsed_ms": r.elapsed.as_millis() as u64,
                    "violation": found.map(|f| {
                        let v = f.outcome.violation.as_ref().unwrap();
                        json!({"oracle": v.oracle.name(), "detail": v.detail, "task": v.task, "step": v.step, "execution": f.execution})
                    }),
                    "repro": repro_path,
                    "agrees_with_history": agrees,
                });
                let _ = writeln!(buf, "{v}");
            } else {
                let (execs, oname) = match found {
                    Some(f) => (
                        format!("violation at {}", f.execution),
                        f.outcome.violation.as_ref().unwrap().oracle.to_string(),
                    ),
                    None => (format!("clean after {}", r.executions), "-".to_string()),
                };
                let hist = match agrees {
                    Some(true) => "agrees",
                    Some(false) => "DISAGREES",
                    None => "-",
                };
                let _ = writeln!(
                    buf,
                    "{:<8} {:<30} {:<18} {:<7} {:>22}  {:<6} {}",
                    preset.map_or("-", |p| p.name()),
                    preset.map_or(label.as_str(), |p| p.commit()),
                    c.scenario.label(),
                    c.strategy.to_string(),
                    execs,
                    oname,
                    hist
                );
            }
        }
        meter.borrow().suspend(|| {
            let _ = out.write_all(buf.as_bytes());
            let _ = out.flush();
        });
    };
    let died = pool::run_ordered(
        jobs,
        &cells,
        work,
        print,
        Duration::from_millis(200),
        |_| {
            if INTERRUPTED.load(Ordering::Relaxed) {
                cancel.store(true, Ordering::Relaxed);
            }
            meter.borrow_mut().tick();
        },
    );
    meter.borrow().finish();
    if let Err(d) = died {
        eprintln!("parkrace: {d}");
        return EXIT_CRASH;
    }
    if io_error {
        return EXIT_IO;
    }
    if interrupted > 0 {
        eprintln!(
            "parkrace: interrupted: {} of {total} cells have a verdict; the others were not run \
             to their end and have none",
            total - interrupted
        );
        return EXIT_INTERRUPTED;
    }
    if !a.json {
        let _ = writeln!(out, "\n{}", history::summary());
        let _ = writeln!(out, "{}", history::weak_summary());
        for (label, cells_n, caught, disagree) in &summary {
            let _ = writeln!(
                out,
                "  {label:<8} violations in {caught:>2} of {cells_n:>2} cells; {}",
                if *disagree == 0 {
                    "agrees with history".to_string()
                } else {
                    format!("{disagree} cell(s) DISAGREE with history")
                }
            );
        }
        if saved > 0 {
            let _ = writeln!(out, "Repro files of the violations: {}/", a.out.display());
        }
    }
    status
}
