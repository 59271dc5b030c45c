//! What kernel history says of each preset (model.md e and f), in ONE table ([`HISTORY`]): the
//! oracles it violates, the named scenarios where its bug shows, whether its park protocol is
//! fixed, and the fuzz target that hunts its bug. Everything that depends on history is derived
//! from the table: hunt's verdict check ([`agrees`], [`must_catch`]), verify's default presets
//! ([`fixed`]) and `--oracles history` ([`kept`]), the fuzz targets
//! ([`crate::tools::fuzz::TARGETS`]), compare's buggy targets ([`shows`]) and the libFuzzer
//! target of each preset, soak's report, and hunt's one-line summary ([`summary`]).
//!
//! The table's rows are declared with the presets, in [`crate::variant`] (so that a new preset
//! is one file); this module derives everything else from them.

use crate::oracle::{Oracle, OracleSet};
use crate::scenario::Scenario;
pub use crate::variant::{FuzzTarget, HISTORY, Record};
use crate::variant::{Preset, Variant};
use Oracle::I8;

/// The row of `p`.
pub fn of(p: Preset) -> &'static Record {
    let r = &HISTORY[p as usize];
    debug_assert_eq!(r.preset, p, "HISTORY is in Preset::ALL order");
    r
}

impl Preset {
    /// The oracles kernel history says the preset violates (the ✗ cells of model.md e).
    pub fn history_fails(self) -> &'static [Oracle] {
        of(self).fails
    }
}

/// Whether model.md (f) says the preset's bug shows on this named scenario (so a clean result
/// there disagrees with history).
pub fn must_catch(p: Preset, scenario: &str) -> bool {
    of(p).shows_on.contains(&scenario)
}

/// Every (preset, named scenario) where history says the preset's bug shows, preset by preset
/// and in [`Scenario::named`] order: compare's and soak's buggy targets.
pub fn shows() -> Vec<(Preset, Scenario)> {
    let named = Scenario::named();
    Preset::ALL
        .into_iter()
        .flat_map(|p| {
            named
                .iter()
                .filter(move |s| must_catch(p, &s.name))
                .map(move |s| (p, s.clone()))
        })
        .collect()
}

/// The presets whose park protocol history says is fixed (verify's default).
pub fn fixed() -> Vec<Preset> {
    Preset::ALL.into_iter().filter(|&p| of(p).fixed).collect()
}

/// Oracles that may fail for the preset without contradicting history: its ✗ cells of model.md (e),
/// plus those n/a for it that may still fail ([`Record::also_may_fail`]).
pub fn may_fail(p: Preset, o: Oracle) -> bool {
    let r = of(p);
    r.fails.contains(&o) || r.also_may_fail.contains(&o)
}

/// [`may_fail`] under a memory model: under `tso` or `lkmm` the preset's weak-memory row
/// ([`Record::weak`]) may fail too.
pub fn may_fail_under(p: Preset, o: Oracle, memory: crate::scenario::Memory) -> bool {
    may_fail(p, o) || (memory.is_weak() && of(p).weak.contains(&o))
}

/// The oracles kernel history says `variant` keeps (every oracle for a switch set that is no
/// preset): a violation of one of them contradicts history.
pub fn kept(variant: &Variant) -> OracleSet {
    match variant.preset() {
        Some(p) => OracleSet::of(
            &Oracle::ALL
                .into_iter()
                .filter(|&o| !may_fail(p, o))
                .collect::<Vec<_>>(),
        ),
        None => OracleSet::all(),
    }
}

/// The oracles an `--oracles` option asks of each variant: a list, `all`, or `history` (for
/// each preset the oracles kernel history says it keeps, see [`kept`]).
pub fn oracles_for(spec: &str) -> Result<impl Fn(&Variant) -> OracleSet + Copy, String> {
    let fixed: Option<OracleSet> = if spec.trim().eq_ignore_ascii_case("history") {
        None
    } else {
        Some(spec.parse()?)
    };
    Ok(move |v: &Variant| fixed.unwrap_or_else(|| kept(v)))
}

/// Whether a verdict agrees with kernel history: `None` when history says nothing (a switch
/// set that is no preset, or a generated scenario with no violation).
pub fn agrees(p: Option<Preset>, scenario: &str, violation: Option<Oracle>) -> Option<bool> {
    // Under SC with every oracle checked; a generated scenario by its name only.
    let s = Scenario::named()
        .into_iter()
        .find(|s| s.name == scenario)
        .unwrap_or_else(|| Scenario {
            name: scenario.to_string(),
            ..Scenario::random(0)
        });
    agrees_under(p, &s, violation, OracleSet::all())
}

/// [`agrees`] for a run under `scenario`'s memory model that checked `checked`: under `tso`
/// or `lkmm` the preset's weak-memory row ([`Record::weak`]) may fail too, and a clean result
/// disagrees only where a checked oracle was expected to fail.
pub fn agrees_under(
    p: Option<Preset>,
    scenario: &Scenario,
    violation: Option<Oracle>,
    checked: OracleSet,
) -> Option<bool> {
    let p = p?;
    let r = of(p);
    let weak = scenario.memory.is_weak();
    let name = scenario.name.as_str();
    match violation {
        Some(Oracle::Model) => Some(false),
        Some(o) => Some(may_fail(p, o) || (weak && r.weak.contains(&o))),
        None => {
            let sc_expected = must_catch(p, name) && r.fails.iter().any(|&o| checked.contains(o));
            // Under lkmm the hunt must show it; under tso it may (x86's stronger order makes
            // the same hang far rarer, model.md m.6).
            let weak_expected = scenario.memory == crate::scenario::Memory::Lkmm
                && r.weak_shows_on.contains(&name)
                && r.weak.iter().any(|&o| checked.contains(o));
            if sc_expected || weak_expected {
                Some(false)
            } else if Scenario::named().iter().any(|s| s.name == name) {
                Some(true)
            } else {
                None
            }
        }
    }
}

/// What history says of a preset, in a few words: `caught`, `clean` or `only by I8 (latency)
/// and I3s`.
fn verdict_words(r: &Record) -> String {
    if !r.fixed {
        return "caught".into();
    }
    if r.fails.is_empty() {
        return "clean".into();
    }
    let names: Vec<String> = r
        .fails
        .iter()
        .map(|&o| match o {
            I8 => "I8 (latency)".to_string(),
            o => o.to_string(),
        })
        .collect();
    format!("only by {}", names.join(" and "))
}

/// Hunt's one-line summary of history: `Kernel history (docs/model.md, e): V0-V2 are caught; V3 and V3b
/// only by I8 (latency) and I3s; V4 only by I3s; V5 clean.` (presets in a row with the same
/// verdict are named together).
pub fn summary() -> String {
    let mut groups: Vec<(Vec<Preset>, String)> = Vec::new();
    for r in &HISTORY {
        let w = verdict_words(r);
        match groups.last_mut() {
            Some((ps, last)) if *last == w => ps.push(r.preset),
            _ => groups.push((vec![r.preset], w)),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(ps, w)| {
            let names = match ps.as_slice() {
                [p] => p.name().to_string(),
                [a, b] => format!("{a} and {b}"),
                [a, .., z] => format!("{a}-{z}"),
                [] => unreachable!("a group has a preset"),
            };
            match (ps.len(), w.as_str()) {
                (1, "caught") => format!("{names} is caught"),
                (_, "caught") => format!("{names} are caught"),
                _ => format!("{names} {w}"),
            }
        })
        .collect();
    format!("Kernel history (docs/model.md, e): {}.", parts.join("; "))
}

/// The verdicts that need a weak memory model, in one sentence: `Under --memory lkmm (and
/// tso): V0 also hangs (I7) on park-unpark, park-unpark-park; every other verdict is the SC
/// one.` (model.md m.6).
pub fn weak_summary() -> String {
    let rows: Vec<String> = HISTORY
        .iter()
        .filter(|r| !r.weak.is_empty())
        .map(|r| {
            let o: Vec<String> = r.weak.iter().map(|o| o.to_string()).collect();
            format!(
                "{} also violates {} on {}",
                r.preset,
                o.join(" and "),
                r.weak_shows_on.join(", ")
            )
        })
        .collect();
    format!(
        "Under --memory lkmm (and, rarer, tso): {}; every other verdict is the SC one (docs/model.md, m.6; `parkrace barriers` asks which barriers are load-bearing).",
        rows.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_preset_order_and_names_only_named_scenarios() {
        for (i, p) in Preset::ALL.into_iter().enumerate() {
            assert_eq!(HISTORY[i].preset, p);
        }
        let named: Vec<String> = Scenario::named().into_iter().map(|s| s.name).collect();
        for r in &HISTORY {
            for s in r.shows_on {
                assert!(named.iter().any(|n| n == s), "{}: {s}", r.preset);
            }
            if let Some(f) = r.fuzz {
                for o in f.crash_on {
                    assert!(may_fail(r.preset, *o), "{} crashes on {o}", f.name);
                }
            }
        }
    }

    #[test]
    fn the_summary_is_the_sentence_hunt_always_printed() {
        assert_eq!(
            summary(),
            "Kernel history (docs/model.md, e): V0-V2 are caught; V3 and V3b only by I8 (latency) and \
             I3s; V4 only by I3s; V5 clean; V5@6.12 only by I8 (latency); V5@6.16 and mainline \
             clean."
        );
        assert_eq!(
            fixed(),
            vec![
                Preset::V3,
                Preset::V3b,
                Preset::V4,
                Preset::V5,
                Preset::V5At612,
                Preset::V5At616,
                Preset::Mainline
            ]
        );
    }

    #[test]
    fn the_weak_summary_names_v0s_hang() {
        assert_eq!(
            weak_summary(),
            "Under --memory lkmm (and, rarer, tso): V0 also violates I7 on park-unpark, \
             park-unpark-park; every other verdict is the SC one (docs/model.md, m.6; \
             `parkrace barriers` asks which barriers are load-bearing)."
        );
    }

    #[test]
    fn fixed_presets_are_expected_clean_where_they_were_fixed() {
        assert!(must_catch(Preset::V2, "park-unpark"));
        assert!(!must_catch(Preset::V3, "park-unpark"));
        assert_eq!(
            agrees(Some(Preset::V3), "park-unpark", Some(Oracle::I1)),
            Some(false)
        );
        assert_eq!(
            agrees(Some(Preset::V3), "wti-latency", Some(Oracle::I8)),
            Some(true)
        );
        assert_eq!(
            agrees(Some(Preset::V4), "wti-latency", Some(Oracle::I8)),
            Some(false)
        );
        assert_eq!(agrees(Some(Preset::V5), "stop-unparked", None), Some(true));
        assert_eq!(agrees(Some(Preset::V4), "stop-unparked", None), Some(false));
        assert_eq!(agrees(None, "park", None), None);
    }
}
