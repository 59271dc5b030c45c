//! `parkrace stress`: argument checking, Ctrl-C, live progress and the run's report.

use super::{
    EXIT_CRASH, EXIT_FINDING, EXIT_OK, INTERRUPTED, StressArgs, catch_ctrl_c, jobs_or_cores,
    parse_duration, targets_for, usage,
};
use crate::engine::native::Delay;
use crate::strategy::{Command, Strategy};
use crate::tools::stress::{Config, Progress, Report, try_run};
use crate::variant::Preset;
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn parse(a: &StressArgs) -> Result<(Config, usize), String> {
    let targets = targets_for(
        &a.variants,
        &a.scenarios,
        || Preset::ALL.iter().map(|p| p.variant()).collect(),
        &a.oracles,
    )?;
    if let Some(t) = targets.iter().find(|t| t.scenario.memory.is_weak()) {
        return Err(format!(
            "scenario {}: stress runs under the world's lock, sequentially consistent; search \
             weak memory with hunt, verify or barriers --memory {}",
            t.scenario.label(),
            t.scenario.memory
        ));
    }
    for st in &a.strategies {
        Strategy::parse_for(st, Command::Stress)?;
    }
    let time = parse_duration(&a.time)?;
    if a.instances == Some(0) {
        return Err("--instances must be at least 1".into());
    }
    let instances = jobs_or_cores(a.instances);
    if a.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    if a.events == 0 {
        return Err("--events must be at least 1".into());
    }
    let seed = a.seed.unwrap_or_else(super::clock_seed);
    let cfg = Config {
        targets,
        time,
        instances,
        delay: (!a.no_delay).then(Delay::default),
        seed,
        first: a.first || a.runs > 1,
        events: a.events,
    };
    Ok((cfg, a.runs))
}

/// A live progress line on a terminal; elsewhere a line every ten seconds.
struct Live {
    tty: bool,
    total: Duration,
    last_line: Instant,
}

impl Live {
    fn show(&mut self, p: &Progress) {
        let line = format!(
            "[{:.1}/{:.0} s] {} cycles ({:.1}k/s), {} violation{}{}",
            p.elapsed.as_secs_f64(),
            self.total.as_secs_f64(),
            p.cycles,
            p.cycles as f64 / p.elapsed.as_secs_f64().max(1e-9) / 1000.0,
            p.violations,
            if p.violations == 1 { "" } else { "s" },
            rss_mb()
                .map(|m| format!(", RSS {m:.1} MB"))
                .unwrap_or_default()
        );
        if self.tty {
            eprint!("\r{line:<70}");
        } else if self.last_line.elapsed() >= Duration::from_secs(10) {
            self.last_line = Instant::now();
            eprintln!("{line}");
        }
    }

    fn clear(&self) {
        if self.tty {
            eprint!("\r{:70}\r", "");
        }
    }
}

/// The resident set size of this process, where /proc tells it (so that a long run shows
/// its memory staying flat).
fn rss_mb() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096.0 / (1024.0 * 1024.0))
}

fn describe_delay(d: Option<Delay>) -> String {
    match d {
        Some(d) => format!(
            "delay injection on (1 step in {}, a yield or a spin up to {} µs)",
            d.odds,
            d.max.as_micros()
        ),
        None => "delay injection off".into(),
    }
}

pub(super) fn cmd_stress(a: StressArgs) -> i32 {
    let (cfg, runs) = match parse(&a) {
        Ok(x) => x,
        Err(e) => return usage(e),
    };
    catch_ctrl_c();
    let mut out = std::io::stdout().lock();
    if !a.json {
        let _ = writeln!(
            out,
            "parkrace stress: {} target{} on {} instance{}, {}, {} per run; seed {} (--seed {} repeats the injection streams)",
            cfg.targets.len(),
            if cfg.targets.len() == 1 { "" } else { "s" },
            cfg.instances,
            if cfg.instances == 1 { "" } else { "s" },
            describe_delay(cfg.delay),
            a.time,
            cfg.seed,
            cfg.seed
        );
        let _ = out.flush();
    }
    let mut reports: Vec<Report> = Vec::new();
    for r in 0..runs {
        if INTERRUPTED.load(Ordering::Relaxed) {
            break;
        }
        let cfg = Config {
            seed: cfg.seed.wrapping_add(r as u64),
            ..cfg.clone()
        };
        let mut live = Live {
            tty: std::io::stderr().is_terminal(),
            total: cfg.time,
            last_line: Instant::now(),
        };
        let rep = try_run(&cfg, &INTERRUPTED, |p| live.show(p));
        live.clear();
        let rep = match rep {
            Ok(r) => r,
            Err(e) => {
                eprintln!("parkrace: {e}");
                return EXIT_CRASH;
            }
        };
        if let Some(first) = rep.crashes.first() {
            eprintln!(
                "parkrace: stress crashed, its results are incomplete: {first}{}",
                match rep.crashes.len() {
                    1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                }
            );
            return EXIT_CRASH;
        }
        if a.json {
            let mut j = rep.json();
            if runs > 1 {
                j["run"] = json!(r + 1);
            }
            let _ = writeln!(out, "{j}");
        } else if runs > 1 {
            let _ = writeln!(
                out,
                "run {:>3}/{runs} (seed {}): {}",
                r + 1,
                rep.seed,
                brief(&rep)
            );
        } else {
            let _ = write!(out, "{}", rep.text());
            let _ = writeln!(out, "\n{}", brief(&rep));
        }
        let _ = out.flush();
        reports.push(rep);
    }
    if runs > 1 {
        let found: Vec<Duration> = reports.iter().filter_map(Report::first_after).collect();
        let mut sorted = found.clone();
        sorted.sort();
        let cycles: u64 = reports.iter().map(Report::cycles).sum();
        let secs: f64 = reports.iter().map(|r| r.elapsed.as_secs_f64()).sum();
        if a.json {
            let _ = writeln!(
                out,
                "{}",
                json!({
                    "runs": reports.len(),
                    "found": found.len(),
                    "median_first_ms": sorted.get(sorted.len() / 2).map(|d| d.as_millis() as u64),
                    "max_first_ms": sorted.last().map(|d| d.as_millis() as u64),
                    "cycles_per_sec": (cycles as f64 / secs.max(1e-9)).round(),
                })
            );
        } else {
            let _ = writeln!(
                out,
                "found a violation in {} of {} runs{}; {:.0} cycles/s",
                found.len(),
                reports.len(),
                match (sorted.get(sorted.len() / 2), sorted.last()) {
                    (Some(m), Some(x)) => format!(
                        "; time to the first: median {:.3} s, max {:.3} s",
                        m.as_secs_f64(),
                        x.as_secs_f64()
                    ),
                    _ => String::new(),
                },
                cycles as f64 / secs.max(1e-9)
            );
        }
    }
    if reports.iter().any(|r| r.violations() > 0) {
        EXIT_FINDING
    } else {
        EXIT_OK
    }
}

/// One line: cycles, rate, violations by oracle, time to the first.
fn brief(rep: &Report) -> String {
    let by = rep.by_oracle();
    let v = if by.is_empty() {
        "no violation".to_string()
    } else {
        format!(
            "violations: {}; the first after {:.3} s{}",
            by.iter()
                .map(|(o, n)| format!("{o} x{n}"))
                .collect::<Vec<_>>()
                .join(", "),
            rep.first_after().unwrap_or_default().as_secs_f64(),
            if rep.contradicts_history() {
                " (some CONTRADICT kernel history)"
            } else {
                ""
            }
        )
    };
    format!(
        "{} cycles in {:.1} s ({:.0}/s){}; {}",
        rep.cycles(),
        rep.elapsed.as_secs_f64(),
        rep.cycles_per_sec(),
        if rep.interrupted { ", interrupted" } else { "" },
        v
    )
}
