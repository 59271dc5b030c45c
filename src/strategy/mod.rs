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

/// A search strategy: the ONE registry of every strategy any command takes (`hunt`, `compare`
/// and `soak` parse `--strategy` with [`Strategy::parse_for`]). Most are schedule searches under
/// shuttle or the byte-driven scheduler; `libfuzzer` runs a fuzz target as a subprocess and
/// `native` runs the model on OS threads, so [`Strategy::check`] says where each applies.
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
    /// change points) ([`focus`]).
    Focus(Option<u32>),
    /// The byte-driven scheduler on uniformly random bytes, one fresh execution per input
    /// (how fuzz targets and proptest run the model, without their feedback).
    Bytes,
    /// The byte-driven scheduler on random schedules with at most K preemptions, each
    /// decision preempting with probability 1/16 while the budget lasts (the sampler of
    /// `minimize`).
    Bounded(u32),
    /// The libFuzzer loop: the preset's fuzz target (built by `cargo fuzz build`) with the
    /// target's scenario and preset pinned, from an empty corpus, seeded
    /// (`crate::tools::compare::libfuzzer`).
    LibFuzzer,
    /// Native stress: the model on OS threads with delay injection (`crate::tools::stress`).
    Native,
}

/// The commands that take `--strategy`, for [`Strategy::check`] and [`Strategy::defaults`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    Hunt,
    Compare,
    Soak,
    Stress,
}

impl Command {
    pub const ALL: [Command; 4] = [
        Command::Hunt,
        Command::Compare,
        Command::Soak,
        Command::Stress,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Command::Hunt => "hunt",
            Command::Compare => "compare",
            Command::Soak => "soak",
            Command::Stress => "stress",
        }
    }
}

impl Strategy {
    /// Every strategy by its spellings, for help texts and error messages.
    pub const NAMES: &'static str =
        "random, pct, pct:D, urw, dfs, focus, focus:N, bytes, bounded:K, libfuzzer or native";

    /// One of each kind (with a parameter where it takes one), in [`Self::NAMES`] order.
    pub const KINDS: [Strategy; 11] = [
        Strategy::Random,
        Strategy::Pct(3),
        Strategy::Pct(2),
        Strategy::Urw,
        Strategy::Dfs,
        Strategy::Focus(None),
        Strategy::Focus(Some(4)),
        Strategy::Bytes,
        Strategy::Bounded(2),
        Strategy::LibFuzzer,
        Strategy::Native,
    ];

    /// Whether it is one of shuttle's schedulers ([`Self::scheduler`] builds it).
    pub fn is_shuttle(self) -> bool {
        matches!(
            self,
            Strategy::Random
                | Strategy::Pct(_)
                | Strategy::Urw
                | Strategy::Dfs
                | Strategy::Focus(_)
        )
    }

    /// Whether it drives the model by schedule bytes (each execution a fresh runner).
    pub fn is_byte_driven(self) -> bool {
        matches!(self, Strategy::Bytes | Strategy::Bounded(_))
    }

    /// Build the shuttle scheduler for `executions` executions from `seed`, with the hooks
    /// each execution it schedules must be handed (the focus scheduler's hints). Panics for a
    /// strategy that is no shuttle scheduler ([`Self::is_shuttle`]).
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
            other => panic!("{other} is not one of shuttle's schedulers"),
        }
    }

    /// Whether it applies to `cmd`; if not, the one-line reason, naming the command and the
    /// strategy.
    pub fn check(self, cmd: Command) -> Result<(), String> {
        let why = match (cmd, self) {
            (Command::Hunt | Command::Compare, Strategy::Native) => {
                "runs OS threads, not seeded schedules; use `parkrace stress` or `parkrace soak \
                 --strategy native`"
            }
            (Command::Hunt, Strategy::LibFuzzer) => {
                "reports executions, not a schedule to check and replay; use `parkrace compare \
                 --strategy libfuzzer` or `cargo fuzz`"
            }
            (Command::Soak, Strategy::Dfs) => {
                "is exhaustive from one start and has no seeds to soak over"
            }
            (Command::Soak, Strategy::LibFuzzer) => {
                "runs as `cargo fuzz` or under ClusterFuzzLite (.clusterfuzzlite/build.sh), not \
                 in a soak"
            }
            (Command::Stress, s) if s != Strategy::Native => {
                "is a schedule search; stress runs the model natively only (use `parkrace hunt`)"
            }
            _ => return Ok(()),
        };
        Err(format!("{}: strategy {self} {why}", cmd.name()))
    }

    /// Parse a strategy and check that it applies to `cmd`.
    pub fn parse_for(s: &str, cmd: Command) -> Result<Strategy, String> {
        let st: Strategy = s.parse()?;
        st.check(cmd)?;
        Ok(st)
    }

    /// What `cmd` runs when no `--strategy` is given.
    pub fn defaults(cmd: Command) -> Vec<Strategy> {
        match cmd {
            // shuttle random and URW.
            Command::Hunt => vec![Strategy::Random, Strategy::Urw],
            // shuttle random, PCT at depths 1 to 4, URW, random bytes, and parkrace's
            // conflict-directed PCT.
            Command::Compare => {
                let mut v = vec![Strategy::Random];
                v.extend((1..=4).map(Strategy::Pct));
                v.extend([Strategy::Urw, Strategy::Bytes, Strategy::Focus(None)]);
                v
            }
            // shuttle random, PCT at depths 2 and 3, URW, random schedule bytes, native
            // stress.
            Command::Soak => vec![
                Strategy::Random,
                Strategy::Pct(2),
                Strategy::Pct(3),
                Strategy::Urw,
                Strategy::Bytes,
                Strategy::Native,
            ],
            Command::Stress => vec![Strategy::Native],
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
            Strategy::Bytes => f.write_str("bytes"),
            Strategy::Bounded(k) => write!(f, "bounded:{k}"),
            Strategy::LibFuzzer => f.write_str("libfuzzer"),
            Strategy::Native => f.write_str("native"),
        }
    }
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "random" => return Ok(Strategy::Random),
            "pct" => return Ok(Strategy::Pct(3)),
            "urw" => return Ok(Strategy::Urw),
            "dfs" => return Ok(Strategy::Dfs),
            "focus" => return Ok(Strategy::Focus(None)),
            "bytes" => return Ok(Strategy::Bytes),
            "libfuzzer" => return Ok(Strategy::LibFuzzer),
            "native" => return Ok(Strategy::Native),
            _ => {}
        }
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
        if let Some(k) = s.strip_prefix("bounded:") {
            return match k.parse::<u32>() {
                Ok(k) if (1..=8).contains(&k) => Ok(Strategy::Bounded(k)),
                _ => Err(format!("bounded:K takes K from 1 to 8, got '{k}'")),
            };
        }
        Err(format!(
            "unknown strategy '{s}' (expected {})",
            Strategy::NAMES
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_and_the_names_list_every_kind() {
        for st in Strategy::KINDS {
            assert_eq!(st.to_string().parse::<Strategy>(), Ok(st));
            let head = st.to_string();
            let head = head.split(':').next().unwrap();
            assert!(Strategy::NAMES.contains(head), "{head}");
        }
        let e = "bogus".parse::<Strategy>().unwrap_err();
        assert_eq!(
            e,
            "unknown strategy 'bogus' (expected random, pct, pct:D, urw, dfs, focus, focus:N, \
             bytes, bounded:K, libfuzzer or native)"
        );
    }

    #[test]
    fn defaults_apply_and_refusals_name_command_and_strategy() {
        for cmd in Command::ALL {
            for st in Strategy::defaults(cmd) {
                assert_eq!(st.check(cmd), Ok(()), "{} {st}", cmd.name());
            }
        }
        let e = Strategy::Native.check(Command::Hunt).unwrap_err();
        assert!(e.starts_with("hunt: strategy native "), "{e}");
        assert!(!e.contains('\n'));
        let e = Strategy::Dfs.check(Command::Soak).unwrap_err();
        assert!(e.starts_with("soak: strategy dfs "), "{e}");
        assert!(Strategy::Bytes.check(Command::Hunt).is_ok());
        assert!(Strategy::Bounded(2).check(Command::Hunt).is_ok());
        assert!(Strategy::Focus(None).check(Command::Soak).is_ok());
    }
}
