//! Search strategies: how the next task is chosen at each scheduling point. One registry
//! ([`Strategy`]) names every strategy the commands accept; each of parkrace's own schedulers
//! lives in its own file ([`focus`]).

pub mod focus;

use crate::harness::Hooks;
use serde::{Deserialize, Serialize};
use shuttle::scheduler::{
    DfsScheduler, PctScheduler, RandomScheduler, Scheduler, UrwRandomScheduler,
};
use std::fmt;
use std::str::FromStr;

/// A search strategy over schedules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Strategy {
    /// shuttle's uniformly random scheduler.
    Random,
    /// shuttle's PCT scheduler with the given depth (number of priority change points + 1).
    Pct(usize),
    /// shuttle's uniform random walk scheduler.
    Urw,
    /// shuttle's depth-first search (exhaustive over task choices; random data fixed).
    Dfs,
    /// parkrace's conflict-directed PCT: priority change points only right after accesses
    /// to shared protocol state, each with probability 1/N (`None`: per execution, 1/2 or no
    /// change points) ([`super::focus`]).
    Focus(Option<u32>),
}

impl Strategy {
    /// Build the shuttle scheduler for `executions` executions from `seed`, with the hooks
    /// each execution it schedules must be handed (the focus scheduler's hints).
    pub fn scheduler(self, seed: u64, executions: usize) -> (Box<dyn Scheduler + Send>, Hooks) {
        let plain = |s: Box<dyn Scheduler + Send>| (s, Hooks::default());
        match self {
            Strategy::Random => plain(Box::new(RandomScheduler::new_from_seed(seed, executions))),
            Strategy::Pct(d) => plain(Box::new(PctScheduler::new_from_seed(
                seed,
                d.max(1),
                executions,
            ))),
            Strategy::Urw => plain(Box::new(UrwRandomScheduler::new_from_seed(
                seed, executions,
            ))),
            Strategy::Dfs => plain(Box::new(DfsScheduler::new(Some(executions), true))),
            Strategy::Focus(n) => {
                let s = focus::FocusScheduler::new(seed, n, executions);
                let hooks = Hooks {
                    observers: vec![s.hint().observers()],
                    ..Hooks::default()
                };
                (Box::new(s), hooks)
            }
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Random => f.write_str("random"),
            Strategy::Pct(d) => write!(f, "pct:{d}"),
            Strategy::Urw => f.write_str("urw"),
            Strategy::Dfs => f.write_str("dfs"),
            Strategy::Focus(None) => f.write_str("focus"),
            Strategy::Focus(Some(n)) => write!(f, "focus:{n}"),
        }
    }
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "random" => Ok(Strategy::Random),
            "pct" => Ok(Strategy::Pct(3)),
            "urw" => Ok(Strategy::Urw),
            "dfs" => Ok(Strategy::Dfs),
            "focus" => Ok(Strategy::Focus(None)),
            _ => {
                if let Some(d) = s.strip_prefix("pct:") {
                    let d: usize = d.parse().map_err(|_| format!("bad PCT depth in '{s}'"))?;
                    if (1..=16).contains(&d) {
                        return Ok(Strategy::Pct(d));
                    }
                    return Err(format!("PCT depth must be 1 to 16, got {d}"));
                }
                if let Some(n) = s.strip_prefix("focus:") {
                    return match n.parse::<u32>() {
                        Ok(n) if (1..=64).contains(&n) => Ok(Strategy::Focus(Some(n))),
                        _ => Err(format!("focus:N takes N from 1 to 64, got '{n}'")),
                    };
                }
                Err(format!(
                    "unknown strategy '{s}' (expected random, pct, pct:D, urw, dfs, focus or \
                     focus:N)"
                ))
            }
        }
    }
}
