#![allow(dead_code)]
use parkrace::oracle::OracleSet;
use parkrace::scenario::Scenario;
use parkrace::strategy::Strategy;
use parkrace::tools::explore::{Hunt, HuntResult, hunt};
use parkrace::variant::Variant;

pub fn run(
    variant: Variant,
    scenario: &str,
    strategy: Strategy,
    oracles: OracleSet,
    executions: usize,
    seed: u64,
) -> HuntResult {
    hunt(&Hunt {
        variant,
        scenario: Scenario::by_name(scenario).unwrap(),
        strategy,
        oracles,
        executions,
        time: None,
        seed,
    })
}

/// Assert that a JSON object has every one of `fields`.
pub fn assert_fields(v: &serde_json::Value, fields: &[&str]) {
    for f in fields {
        assert!(v.get(f).is_some(), "missing {f} in {v}");
    }
}

/// The JSON Lines a command printed, one value per line.
pub fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
