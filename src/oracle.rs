//! The oracles of model.md section (e): what "parked" must mean.
//!
//! The checks themselves sit in the model next to the step they observe (park's return,
//! `try_to_wake_up`'s stores, `wait_task_inactive`'s verdicts, smpboot's BUG_ONs); the
//! continuous ones (I1c, I2) run after every step. This module names them and holds the
//! verdict types.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An oracle of model.md (e), or a scheduler self-check (model.md S*).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Oracle {
    /// When park returns: K is PARKED, off the runqueue, off CPU, blocked in parkme's schedule().
    I1,
    /// I1 holds continuously through the park window.
    I1c,
    /// During the park window K executes no code outside `__kthread_parkme`.
    I2,
    /// Every `wait_task_inactive` of `__kthread_bind` / park succeeds (no WARN).
    I3,
    /// I3 for `kthread_stop` of a per-cpu kthread that was never parked (d.6).
    I3s,
    /// A per-cpu smpboot thread never hits its wrong-CPU BUG_ON.
    I4,
    /// No ttwu store of WAKING/RUNNING overwrites a PARKED stored after its state check.
    I5,
    /// At entry of kthread_park, `parked.done == 0`.
    I6,
    /// Liveness: no hang, deadlock or step-bound livelock.
    I7,
    /// park's (or kthread_bind's) wait_task_inactive never sleeps a tick.
    I8,
    /// A scheduler self-check failed: a bug in the model, never a protocol violation.
    Model,
}

impl Oracle {
    /// Every protocol oracle, in model.md order (not `Model`, which is always on).
    pub const ALL: [Oracle; 10] = [
        Oracle::I1,
        Oracle::I1c,
        Oracle::I2,
        Oracle::I3,
        Oracle::I3s,
        Oracle::I4,
        Oracle::I5,
        Oracle::I6,
        Oracle::I7,
        Oracle::I8,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Oracle::I1 => "I1",
            Oracle::I1c => "I1c",
            Oracle::I2 => "I2",
            Oracle::I3 => "I3",
            Oracle::I3s => "I3s",
            Oracle::I4 => "I4",
            Oracle::I5 => "I5",
            Oracle::I6 => "I6",
            Oracle::I7 => "I7",
            Oracle::I8 => "I8",
            Oracle::Model => "model",
        }
    }

    /// One line on what the oracle asserts.
    pub fn summary(self) -> &'static str {
        match self {
            Oracle::I1 => "park returned while K is not PARKED, off-rq, off-CPU inside parkme",
            Oracle::I1c => "K left the parked state during the park window",
            Oracle::I2 => "K ran code outside __kthread_parkme during the park window",
            Oracle::I3 => "wait_task_inactive in __kthread_bind or park failed (WARN)",
            Oracle::I3s => "kthread_stop of a never-parked per-cpu kthread WARNs in __kthread_bind",
            Oracle::I4 => "smpboot thread hit BUG_ON(td->cpu != smp_processor_id())",
            Oracle::I5 => "a stale try_to_wake_up overwrote a freshly stored TASK_PARKED",
            Oracle::I6 => "kthread_park entered with parked.done != 0",
            Oracle::I7 => "hang, deadlock or step-bound livelock",
            Oracle::I8 => "wait_task_inactive in park/bind slept a tick",
            Oracle::Model => "scheduler self-check failed (model bug)",
        }
    }
}

impl fmt::Display for Oracle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Oracle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        Oracle::ALL
            .into_iter()
            .chain([Oracle::Model])
            .find(|o| o.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                let names: Vec<&str> = Oracle::ALL.iter().map(|o| o.name()).collect();
                format!("unknown oracle '{t}' (expected one of {})", names.join(" "))
            })
    }
}

/// A set of enabled oracles (the self-checks are always enabled). Serialised as its
/// comma-separated names, or "all".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct OracleSet(u16);

impl From<OracleSet> for String {
    fn from(s: OracleSet) -> String {
        s.to_string()
    }
}

impl TryFrom<String> for OracleSet {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl OracleSet {
    pub fn all() -> Self {
        OracleSet(u16::MAX)
    }

    pub fn of(list: &[Oracle]) -> Self {
        let mut s = OracleSet(1 << Oracle::Model as u16);
        for o in list {
            s.0 |= 1 << *o as u16;
        }
        s
    }

    pub fn contains(self, o: Oracle) -> bool {
        self.0 & (1 << o as u16) != 0
    }

    pub fn list(self) -> Vec<Oracle> {
        Oracle::ALL
            .into_iter()
            .filter(|o| self.contains(*o))
            .collect()
    }

    pub fn is_all(self) -> bool {
        Oracle::ALL.iter().all(|o| self.contains(*o))
    }
}

impl FromStr for OracleSet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().eq_ignore_ascii_case("all") {
            return Ok(OracleSet::all());
        }
        let list = s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Oracle>, _>>()?;
        if list.is_empty() {
            return Err("empty oracle list".into());
        }
        Ok(OracleSet::of(&list))
    }
}

impl fmt::Display for OracleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("all");
        }
        let names: Vec<&str> = self.list().into_iter().map(Oracle::name).collect();
        f.write_str(&names.join(","))
    }
}

/// A failed oracle: which, on which task, why, and at which model step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub oracle: Oracle,
    pub task: String,
    pub detail: String,
    pub step: u64,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {} at step {}: {}",
            self.oracle, self.task, self.step, self.detail
        )
    }
}
