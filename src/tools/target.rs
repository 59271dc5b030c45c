//! What a search checks: a variant on a scenario, with its oracles. Shared by native stress,
//! strategy comparison and bounded verification.

use crate::oracle::OracleSet;
use crate::scenario::Scenario;
use crate::variant::Variant;

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

    /// `PRESET SCENARIO`, the variant named by [`Variant::label`].
    pub fn label(&self) -> String {
        format!("{} {}", self.variant.label(), self.scenario.label())
    }
}
