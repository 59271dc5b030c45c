//! What a search checks: a variant on a scenario, with its oracles. Shared by native stress,
//! strategy comparison and bounded verification.

use crate::oracle::OracleSet;
use crate::scenario::Scenario;
use crate::variant::{Preset, Variant};

/// A variant on a scenario, with the oracles to check.
#[derive(Clone, Debug)]
pub struct Target {
    pub variant: Variant,
    pub scenario: Scenario,
    pub oracles: OracleSet,
}

impl Target {
    pub fn new(variant: Variant, scenario: Scenario, oracles: OracleSet) -> Self {
        Target {
            variant,
            scenario,
            oracles,
        }
    }

    /// Every variant on every scenario, with each variant's oracles.
    pub fn cross(
        variants: &[Variant],
        scenarios: &[Scenario],
        oracles: impl Fn(&Variant) -> OracleSet,
    ) -> Vec<Target> {
        variants
            .iter()
            .flat_map(|v| {
                let o = oracles(v);
                scenarios.iter().map(move |s| Target::new(*v, s.clone(), o))
            })
            .collect()
    }

    /// `PRESET SCENARIO`, the variant named as [`variant_label`] names it.
    pub fn label(&self) -> String {
        format!("{} {}", variant_label(&self.variant), self.scenario.name)
    }
}

/// A variant's name in reports: its preset; a switch set that is no preset is named by the
/// switches that differ from V5 (an ablation of the fixes): `V5:switch=value,...`.
pub fn variant_label(variant: &Variant) -> String {
    match variant.preset() {
        Some(p) => p.name().to_string(),
        None => {
            let v5 = Preset::V5.variant().switches();
            let diff: Vec<String> = variant
                .switches()
                .into_iter()
                .zip(v5)
                .filter(|(a, b)| a.1 != b.1)
                .map(|(a, _)| format!("{}={}", a.0, a.1))
                .collect();
            format!("V5:{}", diff.join(","))
        }
    }
}
