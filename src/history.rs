//! What kernel history says each preset does on each named scenario (spec e and f), so that a
//! hunt's verdicts can be checked against it.

use crate::oracle::{Oracle, OracleSet};
use crate::variant::{Preset, Variant};

/// Whether spec (f) says the preset's bug shows on this named scenario (so a clean result
/// there disagrees with history).
pub fn must_catch(p: Preset, scenario: &str) -> bool {
    use Preset::*;
    match p {
        V0 | V1 => matches!(
            scenario,
            "park" | "park-unpark" | "hotplug" | "park-unpark-park"
        ),
        V2 => matches!(
            scenario,
            "park-unpark"
                | "third-party-waker"
                | "preempt-parked"
                | "stale-completion"
                | "stop-unparked"
                | "hotplug"
                | "park-unpark-park"
        ),
        V3 | V3b => matches!(scenario, "wti-latency" | "stop-unparked"),
        V4 => scenario == "stop-unparked",
        V5 => false,
    }
}

/// Oracles that may fail for the preset without contradicting history: its ✗ cells of spec (e),
/// plus I8 for V0-V2 (n/a there: park has no wait_task_inactive, but `kthread_bind` after
/// creation has the pre-V4 latency).
pub fn may_fail(p: Preset, o: Oracle) -> bool {
    p.history_fails().contains(&o)
        || (o == Oracle::I8 && matches!(p, Preset::V0 | Preset::V1 | Preset::V2))
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
    let p = p?;
    match violation {
        Some(Oracle::Model) => Some(false),
        Some(o) => Some(may_fail(p, o)),
        None if must_catch(p, scenario) => Some(false),
        None if crate::scenario::Scenario::named()
            .iter()
            .any(|s| s.name == scenario) =>
        {
            Some(true)
        }
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
