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

    /// `PRESET SCENARIO`; a switch set that is no preset but differs from V5 in a few
    /// switches (an ablation of the fixes) is named `V5:switch=value,... SCENARIO`.
    pub fn label(&self) -> String {
        let v = match self.variant.preset() {
            Some(p) => p.name().to_string(),
            None => {
                // Name the switches that differ from V5.
                let v5 = Preset::V5.variant().switches();
                let diff: Vec<String> = self
                    .variant
                    .switches()
                    .into_iter()
                    .zip(v5)
                    .filter(|(a, b)| a.1 != b.1)
                    .map(|(a, _)| format!("{}={}", a.0, a.1))
                    .collect();
                format!("V5:{}", diff.join(","))
            }
        };
        format!("{v} {}", self.scenario.name)
    }
}
