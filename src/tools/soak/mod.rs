//! Overnight randomized testing (`parkrace soak`): a long campaign over variants x scenarios x
//! strategies, resumable after any interruption, split across machines by shards, with a
//! report.
//!
//! **Work is a numbered sequence of units.** Unit `u` belongs to cell `u % C` (a variant on a
//! scenario under a strategy, [`Cell`]) and round `u / C`, and searches from its own seed
//! `mix(seed, u)` until its first violation or its budget of model steps (or, for native
//! stress, its wall time). Units run in ascending order, so every cell gets one unit per round
//! and none starves; a step budget rather than a time budget keeps a unit's work exactly
//! repeatable, so a resumed or sharded campaign does the same work as one uninterrupted run.
//! Shard `I/N` runs the rounds `r` with `r % N == I - 1`: every shard covers every cell.
//!
//! **Nothing is lost.** A violation is minimized and written as a repro file (temporary name,
//! fsync, rename) before its unit is appended to the journal ([`store`]), one fsync'd line
//! per finished unit. The journal is the checkpoint: a resumed campaign skips the units it
//! lists and counts only what it lists, so a unit cut short by a kill is run again from its
//! seed and counted once. Violations are de-duplicated by (switch set, oracle, minimized
//! schedule signature) and counted by the units that hit them.

pub mod report;
pub mod store;

use crate::engine::native::{Delay, mix};
use crate::oracle::{Oracle, OracleSet};
use crate::runtime::trace::{Access, Event, Op, Var, What};
use crate::scenario::Scenario;
use crate::strategy::Command;
pub use crate::strategy::Strategy;
use crate::tools::explore::{Hunt, Limits, bytes_of_decisions, hunt_with};
use crate::tools::minimize::{Measure, Minimized, minimize_bytes, minimize_with_scenario};
use crate::tools::render;
use crate::tools::repro::{MinimizedFrom, Repro, write_atomic};
use crate::tools::search::{Caps, Hit, search};
use crate::tools::stress;
use crate::tools::target::Target;
use crate::variant::{Preset, Variant};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
pub use store::{SoakError, Store};

/// The `format` field of `campaign.json`.
pub const FORMAT: &str = "parkrace-soak";
/// Its version.
pub const VERSION: u32 = 1;

/// Model steps a unit of a schedule search may take by default: about a second on one core.
pub const DEFAULT_UNIT_STEPS: u64 = 1_000_000;
/// Wall time of a native-stress unit by default.
pub const DEFAULT_NATIVE_MS: u64 = 1000;
/// Minimization tries for the repro file of a new distinct violation, by default.
pub const DEFAULT_MINIMIZE_TRIES: usize = 10_000;
/// Minimization tries every violation gets for its de-duplication key, by default.
pub const DEFAULT_KEY_TRIES: usize = 1500;
/// Executions a native violation may take to reproduce under shuttle.
const REPRODUCE_EXECUTIONS: usize = 20_000;
/// The most units of a campaign (`soak --units`, and `units` in `campaign.json`).
pub const MAX_UNITS: u64 = 1_000_000_000_000;
/// The most model steps per unit (`soak --unit-steps`, and `unit_steps`).
pub const MAX_UNIT_STEPS: u64 = 1_000_000_000;

/// `--shard I/N`: the `I`-th of `N` disjoint parts of a campaign (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };
    /// The most shards a campaign splits into (`--shard I/N`, N at most this).
    pub const MAX_COUNT: u64 = 1_000_000;

    /// Whether round `r` is this shard's.
    pub fn owns(self, round: u64) -> bool {
        round % self.count == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "bad shard '{s}' (expected I/N with 1 <= I <= N <= {}, e.g. 2/8)",
                Shard::MAX_COUNT
            )
        };
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index == 0 || index > count || count > Shard::MAX_COUNT {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// A scenario of a campaign: a fixed one, or a freshly generated one for every unit.
#[derive(Clone, Debug)]
pub enum ScenarioSpec {
    Fixed(Scenario),
    /// `random`: unit `u` runs `Scenario::random(its seed)`.
    Random,
}

impl ScenarioSpec {
    pub fn parse(s: &str) -> Result<ScenarioSpec, String> {
        if s.trim() == "random" {
            Ok(ScenarioSpec::Random)
        } else {
            Scenario::by_name(s.trim()).map(ScenarioSpec::Fixed)
        }
    }

    /// Its name: `park-unpark`, `park-unpark@lkmm` under a weak memory model, or `random`.
    pub fn name(&self) -> String {
        match self {
            ScenarioSpec::Fixed(s) => s.label(),
            ScenarioSpec::Random => "random".into(),
        }
    }

    /// Its memory model (`random` scenarios are SC).
    pub fn memory(&self) -> crate::scenario::Memory {
        match self {
            ScenarioSpec::Fixed(s) => s.memory,
            ScenarioSpec::Random => crate::scenario::Memory::Sc,
        }
    }
}

/// What a campaign searches and how: fixed when it starts, kept in `campaign.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub format: String,
    pub version: u32,
    /// The parkrace version that started it (a resumed campaign must run the same model).
    pub parkrace: String,
    pub seed: u64,
    pub variants: Vec<Variant>,
    /// Named scenarios, `random-SEED`, or `random` (a generated scenario per unit).
    pub scenarios: Vec<String>,
    pub strategies: Vec<String>,
    /// `all`, `history` or a list.
    pub oracles: String,
    /// Model steps per unit of a schedule search.
    pub unit_steps: u64,
    /// Wall time of a native-stress unit, in milliseconds.
    pub native_ms: u64,
    /// Minimization tries for the repro file of a new distinct violation (starting from the
    /// schedule its key came from).
    pub minimize_tries: usize,
    /// Minimization tries every violation gets before its signature is taken.
    #[serde(default = "default_key_tries")]
    pub key_tries: usize,
    pub shard: Shard,
    /// Units of the whole campaign (over every shard), if bounded.
    pub units: Option<u64>,
    /// Wall time the campaign was given, in seconds, if bounded (a resumed campaign runs
    /// for what is left of it).
    pub time_s: Option<f64>,
    /// The shards a merged campaign was merged from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
}

impl Campaign {
    /// The shards its journal covers.
    pub fn shards(&self) -> Vec<String> {
        if self.merged_from.is_empty() {
            vec![self.shard.to_string()]
        } else {
            self.merged_from.clone()
        }
    }
}

fn default_key_tries() -> usize {
    DEFAULT_KEY_TRIES
}

/// One cell: a variant on a scenario under a strategy.
#[derive(Clone, Debug)]
pub struct Cell {
    pub variant: Variant,
    pub scenario: ScenarioSpec,
    pub strategy: Strategy,
    pub oracles: OracleSet,
}

impl Cell {
    /// `VARIANT SCENARIO STRATEGY`, VARIANT as [`Target::label`] names it.
    pub fn label(&self) -> String {
        format!("{} {}", self.target_label(), self.strategy)
    }

    /// `VARIANT SCENARIO`, as [`Target::label`] names a target.
    pub fn target_label(&self) -> String {
        format!("{} {}", self.variant.label(), self.scenario.name())
    }

    /// The target unit `seed` searches.
    pub fn target(&self, seed: u64) -> Target {
        let s = match &self.scenario {
            ScenarioSpec::Fixed(s) => s.clone(),
            ScenarioSpec::Random => Scenario::random(seed),
        };
        Target::new(self.variant, s, self.oracles)
    }
}

/// A campaign with its cells parsed.
#[derive(Clone, Debug)]
pub struct Plan {
    pub campaign: Campaign,
    pub cells: Vec<Cell>,
}

impl Plan {
    /// Check a campaign and lay out its cells (variant-major, then scenario, then strategy).
    pub fn new(campaign: Campaign) -> Result<Plan, String> {
        if campaign.variants.is_empty() || campaign.scenarios.is_empty() {
            return Err("a campaign needs at least one variant and one scenario".into());
        }
        if campaign.strategies.is_empty() {
            return Err("a campaign needs at least one strategy".into());
        }
        // Every number a campaign file holds, in the range its option has.
        let max_ms = crate::tools::MAX_DURATION.as_millis() as u64;
        let field = |name: &str, v: u64, lo: u64, hi: u64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!("field '{name}': {v} is not from {lo} to {hi}"))
            }
        };
        field("unit_steps", campaign.unit_steps, 1, MAX_UNIT_STEPS)?;
        field("native_ms", campaign.native_ms, 1, max_ms)?;
        let tries = crate::tools::minimize::MAX_TRIES as u64;
        field("minimize_tries", campaign.minimize_tries as u64, 1, tries)?;
        field("key_tries", campaign.key_tries as u64, 1, tries)?;
        if let Some(u) = campaign.units {
            field("units", u, 1, MAX_UNITS)?;
        }
        if let Some(t) = campaign.time_s
            && !(t.is_finite() && t > 0.0 && t * 1000.0 <= max_ms as f64)
        {
            return Err(format!(
                "field 'time_s': {t} is not a time from 0 to {max_ms} ms"
            ));
        }
        let sh = campaign.shard;
        if sh.count == 0 || sh.index == 0 || sh.index > sh.count || sh.count > Shard::MAX_COUNT {
            return Err(format!(
                "field 'shard': {}/{} is not I/N with 1 <= I <= N <= {}",
                sh.index,
                sh.count,
                Shard::MAX_COUNT
            ));
        }
        let scenarios: Vec<ScenarioSpec> = campaign
            .scenarios
            .iter()
            .map(|s| ScenarioSpec::parse(s))
            .collect::<Result<_, _>>()?;
        let strategies: Vec<Strategy> = campaign
            .strategies
            .iter()
            .map(|s| Strategy::parse_for(s, Command::Soak))
            .collect::<Result<_, _>>()?;
        let oracles_of = crate::history::oracles_for(&campaign.oracles)?;
        let mut cells = Vec::new();
        for v in &campaign.variants {
            let oracles = oracles_of(v);
            for s in &scenarios {
                for st in &strategies {
                    cells.push(Cell {
                        variant: *v,
                        scenario: s.clone(),
                        strategy: *st,
                        oracles,
                    });
                }
            }
        }
        Ok(Plan { campaign, cells })
    }

    /// The cell of unit `u`.
    pub fn cell_of(&self, u: u64) -> usize {
        (u % self.cells.len() as u64) as usize
    }

    /// Whether unit `u` is this plan's shard's (and within the campaign's units).
    pub fn owns(&self, u: u64) -> bool {
        self.campaign.units.is_none_or(|n| u < n)
            && self.campaign.shard.owns(u / self.cells.len() as u64)
    }

    /// How many of the units `0..n` are this plan's shard's.
    pub fn owned_below(&self, n: u64) -> u64 {
        let cells = self.cells.len() as u64;
        let Shard { index, count } = self.campaign.shard;
        let full = n / cells;
        // Rounds r < full with r % count == index - 1.
        let rounds = if full >= index {
            (full - index) / count + 1
        } else {
            0
        };
        let partial = if self.campaign.shard.owns(full) {
            n - full * cells
        } else {
            0
        };
        rounds * cells + partial
    }

    /// The first unit at or after `from` that is this plan's shard's, if any is left.
    pub fn next_owned(&self, from: u64) -> Option<u64> {
        let cells = self.cells.len() as u64;
        let shard = self.campaign.shard;
        let round = from / cells;
        // Rounds to skip to the next one of this shard.
        let skip = (shard.index - 1 + shard.count - round % shard.count) % shard.count;
        let u = if skip == 0 {
            from
        } else {
            (round + skip) * cells
        };
        self.campaign.units.is_none_or(|n| u < n).then_some(u)
    }

    /// The step budget of a unit of `strategy`: a third of the campaign's for the byte-driven
    /// strategies, whose executions each start a fresh shuttle runner (about three times the
    /// time per step), so that units of every strategy take about the same time.
    pub fn unit_steps(&self, strategy: Strategy) -> u64 {
        match strategy {
            s if s.is_byte_driven() => (self.campaign.unit_steps / 3).max(1),
            _ => self.campaign.unit_steps,
        }
    }

    /// The seed of unit `u`.
    pub fn seed_of(&self, u: u64) -> u64 {
        mix(self.campaign.seed, u)
    }
}

/// A violation a unit hit, after minimization: what the journal keeps of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HitRecord {
    pub oracle: Oracle,
    /// Executions of the unit up to and with the violating one.
    pub execution: u64,
    /// The de-duplication key: switch set, oracle, minimized schedule signature.
    pub key: String,
    /// The signature of the minimized schedule (`native` for a native violation that did
    /// not reproduce under shuttle).
    pub signature: String,
    /// The repro file (or, for an unreproduced native violation, its events), relative to the
    /// campaign folder.
    pub file: String,
    /// The race diagram, relative to the campaign folder.
    pub diagram: String,
    /// The preemptions and steps of the schedule the key was taken from (the repro file's
    /// schedule may be smaller still).
    pub preemptions: u32,
    pub steps: u64,
    /// The scenario the minimized schedule runs (a generated one may have been reduced).
    pub scenario: String,
}

/// One finished unit: a journal line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitRecord {
    /// The unit's number.
    pub u: u64,
    pub cell: usize,
    pub executions: u64,
    pub steps: u64,
    /// Wall time of the unit, in milliseconds (minimization included).
    pub ms: u64,
    /// Campaign time when it finished, in seconds (over every session of the campaign).
    pub t: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hit: Option<HitRecord>,
}

/// FNV-1a, 64 bits: a stable hash for schedule signatures.
fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The signature of a minimized schedule: a hash of its scenario's name (`random` for every
/// generated scenario, whose shape is incidental) and the schedule's race, up to the
/// violation: for every shared location (a task's state word, `on_rq`, `on_cpu`, a kthread
/// flag, a completion's count) the order of the writes to it, each with its writer's name,
/// kernel function and value, and the violating step's task and function. Two minimal
/// schedules that differ only in the order of independent steps (a read that one of them
/// repeats, a test moved past another task's store) have the same race, and so the same
/// signature.
pub fn signature(scenario: &str, names: &[String], trace: &[Event]) -> String {
    let name = |t: usize| names.get(t).cloned().unwrap_or_else(|| format!("t{t}"));
    let mut locations: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut violation = String::new();
    for e in trace {
        if let What::Violation { oracle } = &e.what {
            violation = format!("{oracle}@{}:{}", name(e.task), e.func);
            break;
        }
        // Every store, and every read-modify-write that changed its variable.
        let Some(Access { var, op }) = e.what.access() else {
            continue;
        };
        let value = match op {
            Op::Write { new, .. } => new,
            Op::Rmw { old, new } if old != new => new,
            Op::Rmw { .. } | Op::Read(_) => continue,
        };
        let loc = match var {
            Var::State(t) => format!("{}.state", name(t)),
            Var::OnRq(t) => format!("{}.on_rq", name(t)),
            Var::OnCpu(t) => format!("{}.on_cpu", name(t)),
            Var::Flag(bit) => format!("flag{bit}"),
            Var::Done(c) => format!("done{c}"),
        };
        // `on_cpu` is a boolean, written as one.
        let value = match var {
            Var::OnCpu(_) => (value != 0).to_string(),
            _ => value.to_string(),
        };
        locations
            .entry(loc)
            .or_default()
            .push(format!("{}:{}={value}", name(e.task), e.func));
    }
    let text = format!("{scenario}|{violation}|{locations:?}");
    format!("{:016x}", fnv64(text.as_bytes()))
}

/// A file stem of letters, digits and dashes.
fn file_stem(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Live counters of a running campaign.
#[derive(Debug, Default)]
pub struct Counters {
    pub units: AtomicU64,
    pub executions: AtomicU64,
    pub hits: AtomicU64,
    /// De-duplication keys seen.
    pub keys: Mutex<std::collections::HashSet<String>>,
}

impl Counters {
    /// Counters that start from a campaign's finished units.
    pub fn of(records: &[UnitRecord]) -> Counters {
        let c = Counters::default();
        for r in records {
            c.add(r);
        }
        c
    }

    fn add(&self, r: &UnitRecord) {
        self.units.fetch_add(1, Ordering::Relaxed);
        self.executions.fetch_add(r.executions, Ordering::Relaxed);
        if let Some(h) = &r.hit {
            self.hits.fetch_add(1, Ordering::Relaxed);
            self.keys.lock().unwrap().insert(h.key.clone());
        }
    }

    pub fn distinct(&self) -> usize {
        self.keys.lock().unwrap().len()
    }
}

/// What a session of a campaign is asked to do.
pub struct Session<'a> {
    pub plan: &'a Plan,
    pub store: &'a Store,
    pub jobs: usize,
    /// Stop taking new units after this.
    pub deadline: Option<Instant>,
    /// Set (Ctrl-C, the deadline): units in flight stop at their next execution and are not
    /// counted; a unit that found a violation is still minimized and counted.
    pub cancel: Arc<AtomicBool>,
    /// Campaign time at the start of this session, in seconds.
    pub offset: f64,
    pub counters: &'a Counters,
}

/// The units still to run, in ascending order.
struct Dispenser {
    next: u64,
    done: std::collections::HashSet<u64>,
}

impl Session<'_> {
    /// Run units on `jobs` threads until the deadline, the cancel flag or the campaign's
    /// units run out. Returns how many units this session finished, the first I/O error
    /// writing files, if any, and the first crash (a unit's panic: a bug in parkrace), if
    /// any; the session stops at either.
    pub fn run(&self, done: &[UnitRecord]) -> (u64, Option<std::io::Error>, Option<String>) {
        let start = Instant::now();
        let dispenser = Mutex::new(Dispenser {
            next: 0,
            done: done.iter().map(|r| r.u).collect(),
        });
        let finished = AtomicU64::new(0);
        let error: Mutex<Option<std::io::Error>> = Mutex::new(None);
        let crash: Mutex<Option<String>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..self.jobs {
                scope.spawn(|| {
                    loop {
                        if self.cancel.load(Ordering::Relaxed)
                            || self.deadline.is_some_and(|d| Instant::now() >= d)
                        {
                            break;
                        }
                        let Some(u) = self.take(&dispenser) else {
                            break;
                        };
                        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            crate::tools::pool::crash_hook("soak");
                            self.unit(u, start)
                        }));
                        let ran = match ran {
                            Ok(r) => r,
                            Err(p) => {
                                let msg = crate::tools::pool::panic_message(&*p);
                                crash
                                    .lock()
                                    .unwrap()
                                    .get_or_insert(format!("unit {u} panicked: {msg}"));
                                self.cancel.store(true, Ordering::Relaxed);
                                break;
                            }
                        };
                        match ran {
                            Ok(Some(rec)) => {
                                if let Err(e) = self.store.append(&rec) {
                                    self.fail(&error, e);
                                    break;
                                }
                                self.counters.add(&rec);
                                finished.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(None) => break,
                            Err(e) => {
                                self.fail(&error, e);
                                break;
                            }
                        }
                    }
                });
            }
        });
        (
            finished.into_inner(),
            error.into_inner().unwrap(),
            crash.into_inner().unwrap(),
        )
    }

    fn fail(&self, error: &Mutex<Option<std::io::Error>>, e: std::io::Error) {
        self.cancel.store(true, Ordering::Relaxed);
        error.lock().unwrap().get_or_insert(e);
    }

    /// The next unit of this shard not yet done, if any is left.
    fn take(&self, d: &Mutex<Dispenser>) -> Option<u64> {
        let mut d = d.lock().unwrap();
        loop {
            let u = self.plan.next_owned(d.next)?;
            d.next = u + 1;
            if !d.done.contains(&u) {
                return Some(u);
            }
        }
    }

    /// Run unit `u`; `None` if it was cancelled before it finished.
    fn unit(&self, u: u64, start: Instant) -> std::io::Result<Option<UnitRecord>> {
        let t0 = Instant::now();
        let c = self.plan.cell_of(u);
        let cell = &self.plan.cells[c];
        let seed = self.plan.seed_of(u);
        let target = cell.target(seed);
        let limits = Limits {
            steps: Some(self.plan.unit_steps(cell.strategy)),
            cancel: Some(Arc::clone(&self.cancel)),
        };
        let (executions, steps, hit) = match cell.strategy {
            Strategy::Native => {
                let cfg = stress::Config {
                    targets: vec![target.clone()],
                    time: Duration::from_millis(self.plan.campaign.native_ms),
                    instances: 1,
                    delay: Some(Delay::default()),
                    seed,
                    first: true,
                    events: stress::DEFAULT_EVENTS,
                };
                let rep = stress::run(&cfg, &self.cancel, |_| {});
                if let Some(c) = rep.crashes.first() {
                    // A crash is no result: the session's supervisor reports it.
                    panic!("{c}");
                }
                if rep.interrupted {
                    return Ok(None);
                }
                let t = &rep.targets[0];
                let hit = match t.found.values().min_by_key(|f| f.first_after) {
                    Some(f) => Some(self.settle_native(cell, &target, seed, f)?),
                    None => None,
                };
                let cycles = match &hit {
                    // Count up to the first violation, as for the searches.
                    Some(_) => t.found.values().map(|f| f.first_cycle).min().unwrap_or(0),
                    None => t.cycles,
                };
                (
                    cycles,
                    0,
                    hit.map(|h| HitRecord {
                        execution: cycles,
                        ..h
                    }),
                )
            }
            contender => {
                let caps = Caps {
                    executions: usize::MAX,
                    time: None,
                };
                let r = search(&target, contender, seed, caps, &limits);
                if r.cancelled {
                    return Ok(None);
                }
                let hit = match r.hit {
                    Some(h) => Some(self.settle(cell, &target, seed, &cell.strategy, h)?),
                    None => None,
                };
                (r.executions as u64, r.steps, hit)
            }
        };
        Ok(Some(UnitRecord {
            u,
            cell: c,
            executions,
            steps,
            ms: t0.elapsed().as_millis() as u64,
            t: self.offset + start.elapsed().as_secs_f64(),
            hit,
        }))
    }

    /// Minimize a search's violation, and write its repro file and race diagram unless a
    /// unit wrote them before.
    fn settle(
        &self,
        cell: &Cell,
        target: &Target,
        seed: u64,
        strategy: &Strategy,
        hit: Hit,
    ) -> std::io::Result<HitRecord> {
        let (v, o) = (target.variant, target.oracles);
        let execution = hit.found.execution;
        let bytes = match hit.bytes {
            Some(b) => Some(b),
            None => bytes_of_decisions(&target.scenario, v, o, &hit.found.decisions).ok(),
        };
        // A quick minimization for the key: deterministic, so that the same hit always
        // counts under the same key, however the campaign's work is split.
        let tries = self.plan.campaign.key_tries;
        let minimized: Option<(Scenario, Minimized)> = bytes.and_then(|b| match cell.scenario {
            ScenarioSpec::Random => minimize_with_scenario(&target.scenario, v, o, b, tries).ok(),
            ScenarioSpec::Fixed(_) => minimize_bytes(&target.scenario, v, o, b, tries)
                .ok()
                .map(|m| (target.scenario.clone(), m)),
        });
        let label = strategy.to_string();
        let repro_of = |s: &Scenario, m: &Minimized, before: Measure| {
            let mut r = Repro::of_bytes(v, s, o, &label, execution, &m.bytes, &m.run)
                .expect("a minimized schedule violates its oracle");
            r.seed = seed;
            r.minimized_from = Some(MinimizedFrom {
                preemptions: before.preemptions,
                steps: before.steps,
            });
            r
        };
        let (scenario, repro, sig, polish) = match &minimized {
            Some((s, m)) => {
                let r = repro_of(s, m, m.before);
                let sig = signature(&cell.scenario.name(), &r.names, &r.trace);
                (s.clone(), r, sig, Some((s, m)))
            }
            // The decisions did not convert to bytes: keep the execution as found.
            None => {
                let r = Repro::new(v, &target.scenario, o, &label, seed, &hit.found);
                let sig = signature(&cell.scenario.name(), &r.names, &r.trace);
                (target.scenario.clone(), r, sig, None)
            }
        };
        let oracle = repro.violation.oracle;
        let stem = file_stem(&format!(
            "{}-{}-{oracle}-{}",
            variant_name(&v),
            cell.scenario.name(),
            &sig[..10]
        ));
        let file = format!("repros/{stem}.json");
        let diagram = format!("repros/{stem}.txt");
        // A new distinct violation: minimize on, for the file, from where the key stopped.
        let (key_preemptions, key_steps) =
            (repro.preemptions + repro.switches.unwrap_or(0), repro.steps);
        let repro = match polish {
            Some((s, m)) if !self.store.dir().join(&file).exists() => {
                let tries = self.plan.campaign.minimize_tries;
                match minimize_bytes(s, v, o, m.bytes.clone(), tries) {
                    Ok(p) if p.after < m.after => repro_of(s, &p, m.before),
                    _ => repro,
                }
            }
            _ => repro,
        };
        self.write_new(&file, || {
            serde_json::to_string_pretty(&repro).expect("a repro serializes")
        })?;
        self.write_new(&diagram, || diagram_text(&repro, &file))?;
        Ok(HitRecord {
            oracle,
            execution: execution as u64,
            key: format!("{}|{oracle}|{sig}", v.switch_string()),
            signature: sig,
            file,
            diagram,
            preemptions: key_preemptions,
            steps: key_steps,
            scenario: scenario.name.clone(),
        })
    }

    /// A native violation: reproduce it under shuttle (random schedules, that oracle only),
    /// and settle that; if it does not reproduce, keep the native events.
    fn settle_native(
        &self,
        cell: &Cell,
        target: &Target,
        seed: u64,
        f: &stress::Found,
    ) -> std::io::Result<HitRecord> {
        let oracle = f.violation.oracle;
        let only = Target::new(
            target.variant,
            target.scenario.clone(),
            OracleSet::of(&[oracle]),
        );
        let r = hunt_with(
            &Hunt {
                variant: only.variant,
                scenario: only.scenario.clone(),
                strategy: Strategy::Random,
                oracles: only.oracles,
                executions: REPRODUCE_EXECUTIONS,
                time: None,
                seed,
            },
            &Limits::default(),
        );
        if let Some(found) = r.found {
            let hit = Hit { found, bytes: None };
            return self.settle(cell, &only, seed, &Strategy::Native, hit);
        }
        let stem = file_stem(&format!(
            "{}-{}-{oracle}-native",
            variant_name(&target.variant),
            cell.scenario.name()
        ));
        let file = format!("repros/{stem}.json");
        let diagram = format!("repros/{stem}.txt");
        self.write_new(&file, || {
            serde_json::to_string_pretty(&serde_json::json!({
                "format": "parkrace-native-violation",
                "note": "seen under native stress; random shuttle schedules did not reproduce it",
                "variant": target.variant,
                "scenario": target.scenario,
                "violation": f.violation,
                "world_seed": f.world_seed,
                "names": f.names,
                "completions": f.completions,
                "events": f.events,
            }))
            .expect("JSON serializes")
        })?;
        self.write_new(&diagram, || {
            let mut s = format!(
                "{}\n(native stress; not reproduced under shuttle: the last events of every task)\n\n",
                f.violation
            );
            s += &render::table(&f.events, &f.names, &f.completions, false);
            s
        })?;
        Ok(HitRecord {
            oracle,
            execution: f.first_cycle,
            key: format!("{}|{oracle}|native", target.variant.switch_string()),
            signature: "native".into(),
            file,
            diagram,
            preemptions: 0,
            steps: f.violation.step,
            scenario: target.scenario.name.clone(),
        })
    }

    /// Write `rel` (relative to the campaign folder) atomically, unless it exists.
    fn write_new(&self, rel: &str, text: impl FnOnce() -> String) -> std::io::Result<()> {
        let path: PathBuf = self.store.dir().join(rel);
        if path.exists() {
            return Ok(());
        }
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p)?;
        }
        write_atomic(&path, text().as_bytes())
    }
}

/// The preset's name, or `custom` for a switch set that is no preset.
fn variant_name(v: &Variant) -> String {
    v.preset()
        .map(|p| p.name().to_string())
        .unwrap_or_else(|| "custom".into())
}

/// A repro's race diagram as a text file: the violation, how to replay its `file`, the table.
pub fn diagram_text(r: &Repro, file: &str) -> String {
    let mut s = format!(
        "{}\nvariant   {} ({})\nscenario  {}: {}\n",
        r.violation,
        r.preset.as_deref().unwrap_or("custom"),
        r.variant.switch_string(),
        r.scenario.name,
        r.scenario.describe()
    );
    if let Some(m) = r.minimized_from {
        s += &format!(
            "minimized from {} preemptions, {} steps to {} preemptions, {} steps\n",
            m.preemptions,
            m.steps,
            r.preemptions + r.switches.unwrap_or(0),
            r.steps
        );
    }
    s += &format!("replay    parkrace replay {file}\n\n");
    s += &render::table(&r.trace, &r.names, &r.completions, false);
    s
}

/// Every preset.
pub fn all_presets() -> Vec<Variant> {
    Preset::ALL.iter().map(|p| p.variant()).collect()
}

/// Every named scenario, and a generated one per unit.
pub fn default_scenarios() -> Vec<String> {
    let mut v: Vec<String> = Scenario::named().into_iter().map(|s| s.name).collect();
    v.push("random".into());
    v
}

/// Summarize a campaign folder's journal and write its `summary.json` and `report.html`.
pub fn write_report(dir: &Path) -> Result<report::Summary, SoakError> {
    let (campaign, records) = store::load(dir)?;
    let plan = Plan::new(campaign)
        .map_err(|e| SoakError::Usage(format!("{}: {e}", dir.join(store::CAMPAIGN).display())))?;
    write_report_of(dir, &plan, &records)
}

/// Write `summary.json` and `report.html` of `records` into `dir`.
pub fn write_report_of(
    dir: &Path,
    plan: &Plan,
    records: &[UnitRecord],
) -> Result<report::Summary, SoakError> {
    let mut summary = report::summarize(plan, plan.campaign.shards(), records);
    // The repro files say how small each schedule got.
    for v in &mut summary.violations {
        if let Ok(r) = Repro::load(&dir.join(&v.file)) {
            v.preemptions = r.preemptions + r.switches.unwrap_or(0);
            v.steps = r.steps;
        }
    }
    let (curves, cap) = report::curves(plan, records);
    let html = report::html(&summary, &curves, cap);
    let json = serde_json::to_string_pretty(&summary).expect("a summary serializes");
    store::write_derived(dir, &json, &html)
        .map_err(|e| SoakError::Io(format!("{}: {e}", dir.display())))?;
    Ok(summary)
}

/// What a merge did.
#[derive(Debug)]
pub struct Merged {
    pub summary: report::Summary,
    /// Units found in more than one input (kept once).
    pub duplicates: u64,
}

/// Merge the shards' folders `dirs` of one campaign into a new folder `out`: one journal, the
/// repro files and race diagrams they refer to, and the report.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Merged, SoakError> {
    let mut base: Option<Campaign> = None;
    let mut shards: Vec<String> = Vec::new();
    let mut all: Vec<(PathBuf, UnitRecord)> = Vec::new();
    for d in dirs {
        let (c, recs) = store::load(d)?;
        let norm = Campaign {
            shard: Shard::WHOLE,
            merged_from: vec![],
            time_s: None,
            ..c.clone()
        };
        match &base {
            None => base = Some(norm),
            Some(b) if *b != norm => {
                return Err(SoakError::Usage(format!(
                    "{} is not a shard of the same campaign as {} (seed, variants, scenarios, strategies, oracles, budgets and parkrace version must match)",
                    d.display(),
                    dirs[0].display()
                )));
            }
            Some(_) => {}
        }
        for s in c.shards() {
            if !shards.contains(&s) {
                shards.push(s);
            }
        }
        all.extend(recs.into_iter().map(|r| (d.clone(), r)));
    }
    let mut campaign = base.ok_or_else(|| SoakError::Usage("nothing to merge".into()))?;
    shards.sort();
    campaign.merged_from = shards;
    let plan = Plan::new(campaign.clone()).map_err(SoakError::Usage)?;
    all.sort_by_key(|(_, r)| r.u);
    let before = all.len();
    all.dedup_by_key(|(_, r)| r.u);
    let duplicates = (before - all.len()) as u64;
    let store = Store::create(out, &campaign)?;
    for (d, r) in &all {
        if let Some(h) = &r.hit {
            for rel in [&h.file, &h.diagram] {
                let to = out.join(rel);
                if !to.exists() {
                    let text = std::fs::read(d.join(rel))
                        .map_err(|e| SoakError::Io(format!("{}: {e}", d.join(rel).display())))?;
                    write_atomic(&to, &text)
                        .map_err(|e| SoakError::Io(format!("{}: {e}", to.display())))?;
                }
            }
        }
        store
            .append(r)
            .map_err(|e| SoakError::Io(format!("{}: {e}", out.display())))?;
    }
    let records: Vec<UnitRecord> = all.into_iter().map(|(_, r)| r).collect();
    let summary = write_report_of(out, &plan, &records)?;
    Ok(Merged {
        summary,
        duplicates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(cells_scenarios: &[&str], shard: Shard, units: Option<u64>) -> Plan {
        Plan::new(Campaign {
            format: FORMAT.into(),
            version: VERSION,
            parkrace: env!("CARGO_PKG_VERSION").into(),
            seed: 1,
            variants: vec![Preset::V2.variant(), Preset::V5.variant()],
            scenarios: cells_scenarios.iter().map(|s| s.to_string()).collect(),
            strategies: vec!["random".into(), "bytes".into(), "native".into()],
            oracles: "all".into(),
            unit_steps: 1000,
            native_ms: 10,
            minimize_tries: 10,
            key_tries: 10,
            shard,
            units,
            time_s: None,
            merged_from: vec![],
        })
        .unwrap()
    }

    #[test]
    fn shard_specs_parse_and_reject() {
        assert_eq!("2/8".parse::<Shard>(), Ok(Shard { index: 2, count: 8 }));
        for bad in ["0/2", "3/2", "1/0", "1", "a/b", "1/2/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_partition_the_units_and_each_covers_every_cell() {
        for n in 1..=4 {
            let plans: Vec<Plan> = (1..=n)
                .map(|i| plan(&["park", "random"], Shard { index: i, count: n }, Some(100)))
                .collect();
            let cells = plans[0].cells.len();
            assert_eq!(cells, 12);
            let mut owner = vec![0; 100];
            for p in &plans {
                // next_owned walks exactly the units owns() says are the shard's.
                let mut walked = vec![];
                let mut from = 0;
                while let Some(u) = p.next_owned(from) {
                    walked.push(u);
                    from = u + 1;
                }
                let owned: Vec<u64> = (0..100).filter(|&u| p.owns(u)).collect();
                assert_eq!(walked, owned, "shard {}", p.campaign.shard);
                for k in [0, 1, 11, 12, 13, 50, 99, 100] {
                    let brute = (0..k).filter(|&u| p.owns(u)).count() as u64;
                    assert_eq!(
                        p.owned_below(k),
                        brute,
                        "shard {} below {k}",
                        p.campaign.shard
                    );
                }
                for u in owned {
                    owner[u as usize] += 1;
                }
                if n <= 3 {
                    let seen: std::collections::HashSet<usize> =
                        walked.iter().map(|&u| p.cell_of(u)).collect();
                    assert_eq!(
                        seen.len(),
                        cells,
                        "shard {} covers every cell",
                        p.campaign.shard
                    );
                }
            }
            assert!(owner.iter().all(|&k| k == 1), "{n} shards: {owner:?}");
        }
    }

    #[test]
    fn generated_scenarios_differ_per_unit_and_repeat_per_seed() {
        let p = plan(&["random"], Shard::WHOLE, None);
        let a = p.cells[0].target(p.seed_of(0)).scenario;
        let b = p.cells[0].target(p.seed_of(1)).scenario;
        assert_ne!(a, b);
        assert_eq!(a, p.cells[0].target(p.seed_of(0)).scenario);
        assert_eq!(p.cells[0].label(), "V2 random random");
    }

    #[test]
    fn byte_driven_units_take_a_third_of_the_steps() {
        let p = plan(&["park"], Shard::WHOLE, None);
        let steps: Vec<u64> = p
            .cells
            .iter()
            .take(3)
            .map(|c| p.unit_steps(c.strategy))
            .collect();
        assert_eq!(steps, vec![1000, 333, 1000]);
    }

    #[test]
    fn the_signature_ignores_independent_steps_but_not_the_write_order() {
        use crate::strategy::Strategy as S;
        // Two different V2 schedules of the seed race, and the same with K's writes reordered.
        let s = Scenario::by_name("park-unpark").unwrap();
        let find = |seed| {
            crate::tools::explore::hunt(&Hunt {
                variant: Preset::V2.variant(),
                scenario: s.clone(),
                strategy: S::Random,
                oracles: OracleSet::of(&[Oracle::I5]),
                executions: 10_000,
                time: None,
                seed,
            })
            .found
            .unwrap()
            .outcome
        };
        let o = find(1);
        let (t, names) = (o.trace, o.names);
        let sig = |t: &[Event]| signature("park-unpark", &names, t);
        // Drop every read: the signature must not change.
        let writes: Vec<Event> = t
            .iter()
            .filter(|e| !matches!(e.what, What::StateRead { .. } | What::OnCpuRead { .. }))
            .cloned()
            .collect();
        assert_eq!(sig(&t), sig(&writes));
        // Swap two writes to the same location: it must.
        let mut swapped = t.clone();
        let idx: Vec<usize> = swapped
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e.what, What::StateWrite { .. }))
            .map(|(i, _)| i)
            .collect();
        let (i, j) = (idx[0], idx[1]);
        let (a, b) = (swapped[i].clone(), swapped[j].clone());
        swapped[i] = b;
        swapped[j] = a;
        assert_ne!(sig(&t), sig(&swapped));
        // And another scenario changes it too.
        assert_ne!(sig(&t), signature("hotplug", &names, &t));
    }
}
