//! Variants of the park protocol as data (spec section c): a set of independent fix switches,
//! with named presets for the kernel commits. The model code reads the switches; no protocol
//! function is copied per variant, and any combination of switches runs.

use crate::oracle::Oracle;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How `__kthread_parkme` stores TASK_PARKED.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParkmeStore {
    /// V0: `__set_current_state(PARKED)` (plain) before the loop and after each schedule().
    Plain,
    /// V1/V2: `set_current_state(PARKED)` (store + full fence) at the loop top.
    Mb,
    /// V3+: `set_special_state(PARKED)` under `pi_lock` at the loop top.
    Special,
}

/// Who calls complete on `kthread->parked`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Completer {
    /// The kthread itself in `__kthread_parkme`, before schedule() (V0, V1, V3+).
    Thread,
    /// `kthread_park_complete()` from `finish_task_switch` on every switch-out of a task whose
    /// state is PARKED (V2).
    FinishTaskSwitch,
}

/// The fix switches. Each field is one historical change; the presets combine them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Variant {
    /// How parkme stores PARKED (V1: fence; V3: set_special_state).
    pub parkme_store: ParkmeStore,
    /// V0/V1 `KTHREAD_IS_PARKED`: parkme completes only on its 0->1 transition; park returns at
    /// once if it is set; unpark binds and wakes only if it test-and-clears it.
    pub is_parked_bit: bool,
    /// Who completes `parked` (V2 moved it into finish_task_switch; V3 moved it back).
    pub completer: Completer,
    /// `complete_all` (V2, V3) instead of the counting `complete` (V0, V1, V3b+).
    pub complete_all: bool,
    /// `reinit_completion(&parked)` in unpark (V2, V3).
    pub unpark_reinit: bool,
    /// `WARN_ON(!wait_task_inactive(k, PARKED))` at the end of park (V3+).
    pub park_wti: bool,
    /// `-EBUSY` when park is called with SHOULD_PARK already set (V3b+).
    pub park_ebusy: bool,
    /// V4: preemption disabled from before `complete` until `schedule_preempt_disabled()`, in
    /// parkme and in `kthread()` entry.
    pub preempt_disabled_complete: bool,
    /// V5: unpark returns at once unless SHOULD_PARK is set.
    pub unpark_only_parked: bool,
}

/// A named preset: a kernel state of the park protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Preset {
    V0,
    V1,
    V2,
    V3,
    V3b,
    V4,
    V5,
}

impl Preset {
    pub const ALL: [Preset; 7] = [
        Preset::V0,
        Preset::V1,
        Preset::V2,
        Preset::V3,
        Preset::V3b,
        Preset::V4,
        Preset::V5,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Preset::V0 => "V0",
            Preset::V1 => "V1",
            Preset::V2 => "V2",
            Preset::V3 => "V3",
            Preset::V3b => "V3b",
            Preset::V4 => "V4",
            Preset::V5 => "V5",
        }
    }

    /// The kernel commit (or state) the preset models.
    pub fn commit(self) -> &'static str {
        match self {
            Preset::V0 => "f2530dc71cf0 (v3.9..v4.16)",
            Preset::V1 => "741a76b35089",
            Preset::V2 => "85f1abe0019f (v4.17)",
            Preset::V3 => "1cef1150ef40 (v4.18)",
            Preset::V3b => "v4.19 (commit not identified)",
            Preset::V4 => "26c7295be0c5 (v5.7)",
            Preset::V5 => "214e01ad4ed7 (2024)",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Preset::V0 => "IS_PARKED bit, thread completes before schedule()",
            Preset::V1 => "kthread: Fix kthread_parkme() wait-loop",
            Preset::V2 => "kthread, sched/wait: Fix kthread_parkme() completion issue",
            Preset::V3 => "kthread, sched/core: Fix kthread_parkme() (again...)",
            Preset::V3b => "counting complete, no reinit, -EBUSY guard",
            Preset::V4 => "kthread: Do not preempt current task if it is going to call schedule()",
            Preset::V5 => "kthread: unpark only parked kthread",
        }
    }

    /// The switch set of the preset (spec c).
    pub fn variant(self) -> Variant {
        let v0 = Variant {
            parkme_store: ParkmeStore::Plain,
            is_parked_bit: true,
            completer: Completer::Thread,
            complete_all: false,
            unpark_reinit: false,
            park_wti: false,
            park_ebusy: false,
            preempt_disabled_complete: false,
            unpark_only_parked: false,
        };
        let v1 = Variant {
            parkme_store: ParkmeStore::Mb,
            ..v0
        };
        let v2 = Variant {
            is_parked_bit: false,
            completer: Completer::FinishTaskSwitch,
            complete_all: true,
            unpark_reinit: true,
            ..v1
        };
        let v3 = Variant {
            parkme_store: ParkmeStore::Special,
            completer: Completer::Thread,
            park_wti: true,
            ..v2
        };
        let v3b = Variant {
            complete_all: false,
            unpark_reinit: false,
            park_ebusy: true,
            ..v3
        };
        let v4 = Variant {
            preempt_disabled_complete: true,
            ..v3b
        };
        let v5 = Variant {
            unpark_only_parked: true,
            ..v4
        };
        match self {
            Preset::V0 => v0,
            Preset::V1 => v1,
            Preset::V2 => v2,
            Preset::V3 => v3,
            Preset::V3b => v3b,
            Preset::V4 => v4,
            Preset::V5 => v5,
        }
    }

    /// The oracles kernel history says the preset violates (the ✗ cells of spec e).
    pub fn history_fails(self) -> &'static [Oracle] {
        use Oracle::*;
        match self {
            Preset::V0 | Preset::V1 => &[I1, I1c, I2, I3, I4, I5, I6],
            Preset::V2 => &[I1, I1c, I2, I3, I3s, I4, I5, I6],
            Preset::V3 | Preset::V3b => &[I3s, I8],
            Preset::V4 => &[I3s],
            Preset::V5 => &[],
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown preset '{s}' (expected V0 V1 V2 V3 V3b V4 V5)"))
    }
}

/// The switch names, for `parkrace variants` and for parsing.
pub const SWITCHES: [(&str, &str); 9] = [
    (
        "parkme_store",
        "plain | mb | special: how parkme stores PARKED (V1 fence, V3 set_special_state)",
    ),
    (
        "is_parked_bit",
        "on | off: V0/V1 KTHREAD_IS_PARKED gating of complete, park and unpark",
    ),
    (
        "completer",
        "thread | finish_task_switch: who completes `parked` (V2 hook)",
    ),
    (
        "complete_all",
        "on | off: complete_all instead of counting complete (V2, V3)",
    ),
    (
        "unpark_reinit",
        "on | off: reinit_completion(&parked) in unpark (V2, V3)",
    ),
    (
        "park_wti",
        "on | off: WARN_ON(!wait_task_inactive(k, PARKED)) in park (V3+)",
    ),
    (
        "park_ebusy",
        "on | off: -EBUSY if SHOULD_PARK is already set (V3b+)",
    ),
    (
        "preempt_disabled_complete",
        "on | off: complete + schedule_preempt_disabled (V4)",
    ),
    (
        "unpark_only_parked",
        "on | off: unpark returns unless SHOULD_PARK is set (V5)",
    ),
];

fn parse_bool(name: &str, v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "on" | "1" | "true" | "yes" => Ok(true),
        "off" | "0" | "false" | "no" => Ok(false),
        other => Err(format!("switch {name}: expected on or off, got '{other}'")),
    }
}

impl Variant {
    /// The preset whose switches are exactly these, if any.
    pub fn preset(&self) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.variant() == *self)
    }

    /// Set one switch by name.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let name = name.trim();
        match name {
            "parkme_store" => {
                self.parkme_store = match value.trim().to_ascii_lowercase().as_str() {
                    "plain" => ParkmeStore::Plain,
                    "mb" => ParkmeStore::Mb,
                    "special" => ParkmeStore::Special,
                    v => {
                        return Err(format!(
                            "switch parkme_store: expected plain, mb or special, got '{v}'"
                        ));
                    }
                }
            }
            "completer" => {
                self.completer = match value.trim().to_ascii_lowercase().as_str() {
                    "thread" => Completer::Thread,
                    "finish_task_switch" | "fts" => Completer::FinishTaskSwitch,
                    v => {
                        return Err(format!(
                            "switch completer: expected thread or finish_task_switch, got '{v}'"
                        ));
                    }
                }
            }
            "is_parked_bit" => self.is_parked_bit = parse_bool(name, value)?,
            "complete_all" => self.complete_all = parse_bool(name, value)?,
            "unpark_reinit" => self.unpark_reinit = parse_bool(name, value)?,
            "park_wti" => self.park_wti = parse_bool(name, value)?,
            "park_ebusy" => self.park_ebusy = parse_bool(name, value)?,
            "preempt_disabled_complete" => {
                self.preempt_disabled_complete = parse_bool(name, value)?
            }
            "unpark_only_parked" => self.unpark_only_parked = parse_bool(name, value)?,
            other => {
                return Err(format!(
                    "unknown switch '{other}' (see `parkrace variants`)"
                ));
            }
        }
        Ok(())
    }

    /// The switches as `name=value` pairs, in [`SWITCHES`] order.
    pub fn switches(&self) -> Vec<(&'static str, String)> {
        let b = |x: bool| {
            if x {
                "on".to_string()
            } else {
                "off".to_string()
            }
        };
        vec![
            (
                "parkme_store",
                match self.parkme_store {
                    ParkmeStore::Plain => "plain",
                    ParkmeStore::Mb => "mb",
                    ParkmeStore::Special => "special",
                }
                .to_string(),
            ),
            ("is_parked_bit", b(self.is_parked_bit)),
            (
                "completer",
                match self.completer {
                    Completer::Thread => "thread",
                    Completer::FinishTaskSwitch => "finish_task_switch",
                }
                .to_string(),
            ),
            ("complete_all", b(self.complete_all)),
            ("unpark_reinit", b(self.unpark_reinit)),
            ("park_wti", b(self.park_wti)),
            ("park_ebusy", b(self.park_ebusy)),
            (
                "preempt_disabled_complete",
                b(self.preempt_disabled_complete),
            ),
            ("unpark_only_parked", b(self.unpark_only_parked)),
        ]
    }

    /// The full switch string, e.g. `parkme_store=special,is_parked_bit=off,...`.
    pub fn switch_string(&self) -> String {
        self.switches()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Preset name if the switches match one, else the switch string.
    pub fn label(&self) -> String {
        match self.preset() {
            Some(p) => p.name().to_string(),
            None => self.switch_string(),
        }
    }
}

impl FromStr for Variant {
    type Err = String;
    /// `V2`, `V3:park_wti=off` (a preset with overrides) or a full `name=value,...` list on top of
    /// V0.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty variant".into());
        }
        let (mut v, rest) = match s.split_once(':') {
            Some((p, rest)) => (p.parse::<Preset>()?.variant(), rest),
            None if !s.contains('=') => return Ok(s.parse::<Preset>()?.variant()),
            None => (Preset::V0.variant(), s),
        };
        for pair in rest.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, val) = pair
                .split_once('=')
                .ok_or_else(|| format!("expected name=value in variant, got '{pair}'"))?;
            v.set(k, val)?;
        }
        Ok(v)
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_round_trip_through_their_switch_strings() {
        for p in Preset::ALL {
            let v = p.variant();
            let parsed: Variant = v.switch_string().parse().unwrap();
            assert_eq!(parsed, v, "{p}");
            assert_eq!(parsed.preset(), Some(p));
            assert_eq!(p.name().parse::<Variant>().unwrap(), v);
        }
    }

    #[test]
    fn presets_are_distinct_and_differ_as_the_commits_did() {
        for (i, a) in Preset::ALL.iter().enumerate() {
            for b in &Preset::ALL[i + 1..] {
                assert_ne!(a.variant(), b.variant(), "{a} vs {b}");
            }
        }
        let v3 = Preset::V3.variant();
        let v3b = Preset::V3b.variant();
        assert!(v3.complete_all && v3.unpark_reinit && !v3.park_ebusy);
        assert!(!v3b.complete_all && !v3b.unpark_reinit && v3b.park_ebusy);
        assert_eq!(Preset::V2.variant().completer, Completer::FinishTaskSwitch);
    }

    #[test]
    fn overrides_and_errors() {
        let v: Variant = "V3:park_wti=off".parse().unwrap();
        assert!(!v.park_wti);
        assert_eq!(v.preset(), None);
        assert!("V9".parse::<Variant>().is_err());
        assert!("V3:bogus=on".parse::<Variant>().is_err());
        assert!("V3:park_wti=maybe".parse::<Variant>().is_err());
    }
}
