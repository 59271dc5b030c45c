//! Strategies side by side (`parkrace compare`): for each target (a buggy preset on a scenario
//! where kernel history says its bug shows), every contender runs from many seeds, each run
//! until its first violation or its cap, and the executions it took are what is compared:
//! the share of seeds that found a violation, the median and quartiles of executions to the
//! first one, wall time and throughput, and survival curves (the share of seeds still without a
//! violation against executions).

use crate::oracle::OracleSet;
use crate::scenario::Scenario;
use crate::strategy::Strategy;
use crate::tools::explore::{Hunt, Limits, hunt};
pub use crate::tools::search::{Caps, Hit, Searched, search};
use crate::tools::target::Target;
use crate::variant::{Preset, Variant};
use serde_json::{Value, json};
use std::time::Duration;

/// Every buggy preset on every named scenario where history says its bug shows
/// ([`crate::history::shows`]).
pub fn buggy() -> Vec<Target> {
    crate::history::shows()
        .into_iter()
        .map(|(p, s)| Target::new(p.variant(), s, OracleSet::all()))
        .collect()
}

/// `compare`'s targets from `--variant` and `--scenario` alone: each given preset on every
/// named scenario where history says its bug shows, or every preset history says fails on
/// each given scenario. Fails where history has no such row (a switch set that is no preset,
/// a preset history says is clean, a scenario no preset fails on).
pub fn history_targets(
    variants: &[Variant],
    scenarios: &[Scenario],
) -> Result<Vec<Target>, String> {
    let rows = crate::history::shows();
    let mut out = Vec::new();
    for v in variants {
        let p = v
            .preset()
            .ok_or_else(|| format!("history says nothing of {}: give --scenario too", v.label()))?;
        let mine: Vec<Target> = rows
            .iter()
            .filter(|(q, _)| *q == p)
            .map(|(_, s)| Target::new(*v, s.clone(), OracleSet::all()))
            .collect();
        if mine.is_empty() {
            return Err(format!(
                "history says {p}'s bug shows on no named scenario: give --scenario too"
            ));
        }
        out.extend(mine);
    }
    for s in scenarios {
        let mine: Vec<Target> = rows
            .iter()
            .filter(|(_, t)| t.name == s.name)
            .map(|(p, _)| Target::new(p.variant(), s.clone(), OracleSet::all()))
            .collect();
        if mine.is_empty() {
            return Err(format!(
                "history says no preset fails on {}: give --variant too",
                s.name
            ));
        }
        out.extend(mine);
    }
    Ok(out)
}

/// The ablations of the fixes: V5 with one switch set back to a value it has in an
/// earlier preset, on every named scenario where a quick random hunt (`probe` executions)
/// finds a violation.
pub fn ablations(probe: usize) -> Vec<Target> {
    let v5 = Preset::V5.variant();
    let mut variants: Vec<Variant> = Vec::new();
    for (name, value) in v5.switches() {
        for p in Preset::ALL {
            let other = p
                .variant()
                .switches()
                .into_iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v)
                .expect("every preset has every switch");
            if other != value {
                let mut v = v5;
                v.set(name, &other).expect("a preset's value is valid");
                if !variants.contains(&v) {
                    variants.push(v);
                }
            }
        }
    }
    let mut out = Vec::new();
    for v in variants {
        for s in Scenario::named() {
            let r = hunt(&Hunt {
                variant: v,
                scenario: s.clone(),
                strategy: Strategy::Random,
                oracles: OracleSet::all(),
                executions: probe,
                time: None,
                seed: 1,
            });
            if r.found.is_some() {
                out.push(Target::new(v, s, OracleSet::all()));
            }
        }
    }
    out
}

/// One run: executions to the first violation (`None`: none within the caps), and its cost.
#[derive(Clone, Copy, Debug)]
pub struct RunResult {
    pub first: Option<usize>,
    pub executions: usize,
    pub elapsed: Duration,
}

/// Run `c` on `t` from `seed` until the first violation or the caps. Panics where
/// [`try_run_one`] fails (only the libFuzzer contender can).
pub fn run_one(t: &Target, c: Strategy, seed: u64, caps: Caps) -> RunResult {
    try_run_one(t, c, seed, caps).unwrap_or_else(|e| panic!("{e}"))
}

/// Run `c` on `t` from `seed` until the first violation or the caps; fails where the
/// libFuzzer contender cannot run its fuzz target.
pub fn try_run_one(t: &Target, c: Strategy, seed: u64, caps: Caps) -> Result<RunResult, String> {
    if c == Strategy::LibFuzzer {
        return libfuzzer::run(t, seed, caps);
    }
    let r = search(t, c, seed, caps, &Limits::default());
    Ok(RunResult {
        first: r.hit.map(|h| h.found.execution),
        executions: r.executions,
        elapsed: r.elapsed,
    })
}

/// One survival curve: a label and, per seed, the executions to its first violation
/// (`None`: none within its cap).
#[derive(Clone, Debug)]
pub struct Curve {
    pub label: String,
    pub firsts: Vec<Option<usize>>,
}

impl Curve {
    /// The share of seeds without a violation after `x` executions.
    pub fn survival(&self, x: usize) -> f64 {
        let alive = self
            .firsts
            .iter()
            .filter(|f| f.is_none_or(|f| f > x))
            .count();
        alive as f64 / self.firsts.len().max(1) as f64
    }
}

/// Every seed's run of one contender on one target.
#[derive(Clone, Debug)]
pub struct Cell {
    pub target: String,
    pub strategy: Strategy,
    pub runs: Vec<RunResult>,
}

/// The `q`-quantile (0 to 1) of sorted values, nearest rank.
fn quantile(sorted: &[usize], q: f64) -> Option<usize> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    Some(sorted[i])
}

impl Cell {
    /// Executions to the first violation of the seeds that found one, sorted.
    fn firsts(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.runs.iter().filter_map(|r| r.first).collect();
        v.sort_unstable();
        v
    }

    pub fn found(&self) -> usize {
        self.runs.iter().filter(|r| r.first.is_some()).count()
    }

    /// Median executions to the first violation over every seed, counting a seed without one
    /// as beyond every finding (so it is `None` when half the seeds or more found nothing).
    pub fn median(&self) -> Option<usize> {
        let f = self.firsts();
        let n = self.runs.len();
        (f.len() * 2 > n).then(|| f[(n - 1) / 2])
    }

    /// Quartiles of executions to the first violation among the seeds that found one.
    pub fn quartiles(&self) -> (Option<usize>, Option<usize>) {
        let f = self.firsts();
        (quantile(&f, 0.25), quantile(&f, 0.75))
    }

    pub fn median_wall(&self) -> Duration {
        let mut w: Vec<Duration> = self.runs.iter().map(|r| r.elapsed).collect();
        w.sort_unstable();
        w.get(w.len() / 2).copied().unwrap_or_default()
    }

    pub fn execs_per_sec(&self) -> f64 {
        let e: usize = self.runs.iter().map(|r| r.executions).sum();
        let t: f64 = self.runs.iter().map(|r| r.elapsed.as_secs_f64()).sum();
        e as f64 / t.max(1e-9)
    }

    /// Survival: the share of seeds without a violation after `x` executions.
    pub fn survival(&self, x: usize) -> f64 {
        self.curve().survival(x)
    }

    /// The cell's survival curve, labelled with its strategy.
    pub fn curve(&self) -> Curve {
        Curve {
            label: self.strategy.to_string(),
            firsts: self.runs.iter().map(|r| r.first).collect(),
        }
    }

    pub fn json(&self) -> Value {
        let (q1, q3) = self.quartiles();
        json!({
            "target": self.target,
            "strategy": self.strategy.to_string(),
            "seeds": self.runs.len(),
            "found": self.found(),
            "share_found": self.found() as f64 / self.runs.len().max(1) as f64,
            "median_executions": self.median(),
            "q1_executions": q1,
            "q3_executions": q3,
            "median_wall_ms": self.median_wall().as_secs_f64() * 1000.0,
            "executions_per_sec": self.execs_per_sec().round(),
            "first_executions": self.runs.iter().map(|r| r.first).collect::<Vec<_>>(),
        })
    }
}

/// Survival curves (of one target's cells, say) as a self-contained SVG: the share of seeds
/// still without a violation against executions, log scale, up to `cap`.
pub fn survival_svg(target: &str, curves: &[Curve], cap: usize) -> String {
    const W: f64 = 640.0;
    const H: f64 = 360.0;
    const L: f64 = 60.0;
    const B: f64 = 40.0;
    const COLORS: [&str; 8] = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    ];
    let xmax = (cap.max(10) as f64).log10();
    let px = |x: usize| L + (x.max(1) as f64).log10() / xmax * (W - L - 20.0);
    let py = |y: f64| 20.0 + (1.0 - y) * (H - 20.0 - B);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <title>{target}: share of seeds without a violation</title>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{L}\" y=\"14\">{target}: share of seeds still without a violation</text>\n\
         <line x1=\"{L}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n\
         <line x1=\"{L}\" y1=\"20\" x2=\"{L}\" y2=\"{}\" stroke=\"black\"/>\n",
        H - B,
        W - 20.0,
        H - B,
        H - B
    );
    let mut decade = 1usize;
    while decade <= cap.max(10) {
        let x = px(decade);
        s += &format!(
            "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#ccc\"/><text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{decade}</text>\n",
            H - B,
            20.0,
            H - B + 14.0
        );
        decade *= 10;
    }
    for (y, label) in [(0.0, "0"), (0.5, "0.5"), (1.0, "1")] {
        s += &format!(
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>\n",
            L - 4.0,
            py(y) + 4.0
        );
    }
    s += &format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">executions (log scale)</text>\n",
        (L + W) / 2.0,
        H - 6.0
    );
    for (i, c) in curves.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let mut pts = vec![(px(1), py(1.0))];
        let mut firsts: Vec<usize> = c.firsts.iter().flatten().copied().collect();
        firsts.sort_unstable();
        firsts.dedup();
        let mut prev = 1.0;
        for f in firsts {
            let y = c.survival(f);
            pts.push((px(f), py(prev)));
            pts.push((px(f), py(y)));
            prev = y;
        }
        pts.push((px(cap.max(10)), py(prev)));
        let path: Vec<String> = pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        s += &format!(
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>\n\
             <text x=\"{}\" y=\"{}\" fill=\"{color}\">{}</text>\n",
            path.join(" "),
            W - 150.0,
            34.0 + 14.0 * i as f64,
            c.label
        );
    }
    s += "</svg>\n";
    s
}

/// The libFuzzer loop as a contender: a subprocess running the preset's fuzz target with the
/// target's scenario, preset and oracles pinned (`PARKRACE_FUZZ_SCENARIO`,
/// `PARKRACE_FUZZ_PRESET`, `PARKRACE_FUZZ_ORACLES`), so that libFuzzer mutates schedule bytes
/// only, from an empty corpus, with `-seed` and `-len_control=0`. The target counts its executions and says how
/// many it took in its crash message.
pub mod libfuzzer {
    use super::{Caps, RunResult, Target};
    use crate::variant::Preset;
    use std::path::PathBuf;
    use std::process::Command;
    use std::time::Instant;

    /// The fuzz target that runs `p` (from kernel history, [`crate::tools::fuzz::target_of`]).
    pub fn target_name(p: Preset) -> &'static str {
        crate::tools::fuzz::target_of(p)
    }

    /// The built fuzz target: `$PARKRACE_FUZZ_BIN_DIR/NAME`, or `fuzz/target/*/release/NAME`.
    pub fn binary(name: &str) -> Result<PathBuf, String> {
        if let Ok(d) = std::env::var("PARKRACE_FUZZ_BIN_DIR") {
            let p = PathBuf::from(d).join(name);
            return if p.is_file() {
                Ok(p)
            } else {
                Err(format!("no fuzz target {}", p.display()))
            };
        }
        let base = PathBuf::from("fuzz/target");
        if let Ok(rd) = std::fs::read_dir(&base) {
            for e in rd.flatten() {
                let p = e.path().join("release").join(name);
                if p.is_file() {
                    return p
                        .canonicalize()
                        .map_err(|e| format!("{}: {e}", p.display()));
                }
            }
        }
        Err(format!(
            "fuzz target {name} is not built: run `cd fuzz && cargo fuzz build -s none` (or set PARKRACE_FUZZ_BIN_DIR)"
        ))
    }

    /// Check that `t` has a fuzz target that is built.
    pub fn check(t: &Target) -> Result<(), String> {
        let p = t
            .variant
            .preset()
            .ok_or_else(|| format!("libfuzzer runs presets only, not {}", t.label()))?;
        binary(target_name(p)).map(|_| ())
    }

    /// One libFuzzer run on `t` from `seed`.
    pub fn run(t: &Target, seed: u64, caps: Caps) -> Result<RunResult, String> {
        let p = t
            .variant
            .preset()
            .ok_or_else(|| format!("libfuzzer runs presets only, not {}", t.label()))?;
        let bin = binary(target_name(p))?;
        let dir =
            std::env::temp_dir().join(format!("parkrace-libfuzzer-{}-{seed}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut cmd = Command::new(&bin);
        cmd.env("PARKRACE_FUZZ_SCENARIO", &t.scenario.name)
            .env("PARKRACE_FUZZ_PRESET", p.name())
            .env("PARKRACE_FUZZ_ORACLES", t.oracles.to_string())
            .arg(format!("-seed={seed}"))
            .arg(format!("-runs={}", caps.executions))
            // Inputs of full length from the start: a schedule needs bytes to preempt, and
            // libFuzzer's default growth of input lengths costs thousands of executions here.
            .arg("-len_control=0")
            .arg(format!("-artifact_prefix={}/", dir.display()))
            .arg("-print_final_stats=1")
            .current_dir(&dir);
        if let Some(d) = caps.time {
            cmd.arg(format!("-max_total_time={}", d.as_secs().max(1)));
        }
        let start = Instant::now();
        let out = cmd
            .output()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let elapsed = start.elapsed();
        let _ = std::fs::remove_dir_all(&dir);
        let err = String::from_utf8_lossy(&out.stderr);
        // "parkrace park_v2: ... after N executions: ..." on a violation.
        let after = err.lines().find_map(|l| {
            let rest = l.split(", after ").nth(1)?;
            rest.split(' ').next()?.parse::<usize>().ok()
        });
        if let Some(n) = after {
            return Ok(RunResult {
                first: Some(n),
                executions: n,
                elapsed,
            });
        }
        if !out.status.success() {
            return Err(format!(
                "{} failed without a violation: {}",
                bin.display(),
                err.lines().last().unwrap_or("")
            ));
        }
        // "stat::number_of_executed_units: N"
        let n = err
            .lines()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(caps.executions);
        Ok(RunResult {
            first: None,
            executions: n,
            elapsed,
        })
    }
}
