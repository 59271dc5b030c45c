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

/// A repro file as an older parkrace wrote it: `parkrace hunt -v V2 -s park-unpark --quick`
/// saves one into `dir`, then `strip` removes what that version did not write. Returns the
/// old file's path (in `dir`).
pub fn old_repro_file(
    dir: &std::path::Path,
    strip: impl Fn(&mut serde_json::Value),
) -> std::path::PathBuf {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_parkrace"))
        .args(["hunt", "-v", "V2", "-s", "park-unpark", "--quick", "--out"])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let file = std::fs::read_dir(dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    strip(&mut v);
    let old = dir.join("old.json");
    std::fs::write(&old, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    old
}

/// Run the parkrace binary with `args`.
pub fn parkrace(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_parkrace"))
        .args(args)
        .output()
        .unwrap()
}

/// Deterministic pseudo-random schedule bytes (a linear congruential stream, each byte 0 to 6).
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((x >> 33) % 7) as u8
        })
        .collect()
}
