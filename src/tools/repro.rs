//! Repro files: a failing execution as a small JSON file that replays deterministically.
//!
//! The file holds everything needed to regenerate the failure (format version, variant switches
//! and preset name, the full scenario, oracles, strategy and seed) plus the recorded schedule
//! decisions that `parkrace replay` feeds back, shuttle's own schedule string, the violation
//! and the event trace. Files are written atomically: temporary name, fsync, rename.

use crate::engine::schedule::{Decision, decode_decisions, encode_decisions};
use crate::oracle::{OracleSet, Violation};
use crate::runtime::trace::Event;
use crate::scenario::Scenario;
use crate::tools::explore::{ByteRun, Found};
use crate::variant::Variant;
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `format` field of every repro file.
pub const FORMAT: &str = "parkrace-repro";
/// The current format version.
pub const VERSION: u32 = 1;

/// A repro file's contents.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Repro {
    pub format: String,
    pub version: u32,
    /// The parkrace version that wrote it (a schedule fits only the model that produced it).
    pub parkrace: String,
    /// Preset name, or null for a switch set that is no preset.
    pub preset: Option<String>,
    pub variant: Variant,
    pub scenario: Scenario,
    pub oracles: OracleSet,
    pub strategy: String,
    pub seed: u64,
    /// 1-based index of the failing execution in its hunt.
    pub execution: usize,
    /// The decisions `parkrace replay` feeds back (`tN` task choices, `vN` random values).
    pub decisions: String,
    /// shuttle's serialized schedule (for `shuttle::replay` with the seeded schedulers).
    pub shuttle_schedule: String,
    pub violation: Violation,
    pub steps: u64,
    pub preemptions: u32,
    pub names: Vec<String>,
    pub completions: Vec<String>,
    pub trace: Vec<Event>,
    /// The schedule as bytes of the byte-driven scheduler (hex), when known: what fuzz
    /// targets and `parkrace minimize` work on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_bytes: Option<String>,
    /// Preemptive switches between model threads (known for byte-driven schedules); the
    /// schedule's preemptions are these plus `preemptions` (injected by the model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switches: Option<u32>,
    /// The size of the schedule minimization started from, if this one was minimized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimized_from: Option<MinimizedFrom>,
}

/// What a minimized schedule was minimized from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinimizedFrom {
    /// Preemptions (switches plus injected).
    pub preemptions: u32,
    pub steps: u64,
}

/// Why a repro file cannot be used.
#[derive(Debug)]
pub struct ReproError(pub String);

impl std::fmt::Display for ReproError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Repro {
    /// Build a repro from a hunt's finding.
    pub fn new(
        variant: Variant,
        scenario: &Scenario,
        oracles: OracleSet,
        strategy: &str,
        seed: u64,
        f: &Found,
    ) -> Repro {
        Repro {
            format: FORMAT.into(),
            version: VERSION,
            parkrace: env!("CARGO_PKG_VERSION").into(),
            preset: variant.preset().map(|p| p.name().to_string()),
            variant,
            scenario: scenario.clone(),
            oracles,
            strategy: strategy.to_string(),
            seed,
            execution: f.execution,
            decisions: encode_decisions(&f.decisions),
            shuttle_schedule: f.shuttle_schedule.clone(),
            violation: f
                .outcome
                .violation
                .clone()
                .expect("a finding has a violation"),
            steps: f.outcome.steps,
            preemptions: f.outcome.preemptions,
            names: f.outcome.names.clone(),
            completions: f.outcome.completions.clone(),
            trace: f.outcome.trace.clone(),
            schedule_bytes: None,
            switches: None,
            minimized_from: None,
        }
    }

    /// Build a repro from a byte-driven execution (`None` if it violated nothing), numbered
    /// `execution` of a search called `strategy`.
    pub fn of_bytes(
        variant: Variant,
        scenario: &Scenario,
        oracles: OracleSet,
        strategy: &str,
        execution: usize,
        bytes: &[u8],
        run: &ByteRun,
    ) -> Option<Repro> {
        let f = run.found(execution)?;
        Some(Repro {
            schedule_bytes: Some(to_hex(bytes)),
            switches: Some(run.stats.switches),
            ..Repro::new(variant, scenario, oracles, strategy, 0, &f)
        })
    }

    /// The decoded schedule decisions.
    pub fn decisions(&self) -> Result<Vec<Decision>, ReproError> {
        decode_decisions(&self.decisions).map_err(ReproError)
    }

    /// Read and validate a repro file.
    pub fn load(path: &Path) -> Result<Repro, ReproError> {
        let text =
            fs::read_to_string(path).map_err(|e| ReproError(format!("{}: {e}", path.display())))?;
        let r: Repro = serde_json::from_str(&text).map_err(|e| {
            ReproError(format!(
                "{}: not a parkrace repro file: {e}",
                path.display()
            ))
        })?;
        if r.format != FORMAT {
            return Err(ReproError(format!(
                "{}: format is '{}', expected '{FORMAT}'",
                path.display(),
                r.format
            )));
        }
        if r.version != VERSION {
            return Err(ReproError(format!(
                "{}: format version {} is not supported (expected {VERSION})",
                path.display(),
                r.version
            )));
        }
        r.scenario
            .validate()
            .map_err(|e| ReproError(format!("{}: {e}", path.display())))?;
        r.decisions()
            .map_err(|e| ReproError(format!("{}: {e}", path.display())))?;
        Ok(r)
    }

    /// A file name for this repro: `VARIANT-SCENARIO-STRATEGY-sSEED-ORACLE.json`.
    pub fn file_name(&self) -> String {
        let v = self.preset.clone().unwrap_or_else(|| "custom".into());
        let raw = format!(
            "{v}-{}-{}-s{}-{}",
            self.scenario.name, self.strategy, self.seed, self.violation.oracle
        );
        let clean: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{clean}.json")
    }

    /// Write atomically into `dir` (created if missing). Returns the path.
    pub fn save(&self, dir: &Path) -> std::io::Result<PathBuf> {
        fs::create_dir_all(dir)?;
        let path = dir.join(self.file_name());
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        write_atomic(&path, json.as_bytes())?;
        Ok(path)
    }
}

/// Schedule bytes as lowercase hex (the form repro files and fuzz tooling print).
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Write `bytes` to `path` atomically: a temporary file in the same folder, fsync, rename,
/// fsync of the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    // Unique per call: two threads may write the same file at once (the last rename wins).
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp{}-{n}", std::process::id()));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::write_atomic;

    #[test]
    fn threads_writing_the_same_file_at_once_all_succeed() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("same.json");
        std::thread::scope(|s| {
            for i in 0..8 {
                let path = &path;
                s.spawn(move || {
                    for _ in 0..50 {
                        write_atomic(path, format!("{i}").as_bytes()).unwrap();
                    }
                });
            }
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.parse::<u32>().unwrap() < 8);
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
