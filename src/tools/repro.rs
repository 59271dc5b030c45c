//! Repro files: a failing execution as a small JSON file that replays deterministically.
//!
//! The file holds everything needed to regenerate the failure (format version, variant switches
//! and preset name, the full scenario, oracles, strategy and seed) plus the recorded schedule
//! decisions that `parkrace replay` feeds back, shuttle's own schedule string, the violation
//! and the event trace. Files are written atomically: temporary name, fsync, rename.

use crate::engine::schedule::{Decision, decode_decisions, encode_decisions};
use crate::history;
use crate::oracle::{OracleSet, Violation};
use crate::runtime::trace::Event;
use crate::scenario::Scenario;
use crate::strategy::{Command, Strategy};
use crate::tools::explore::{ByteRun, Found};
use crate::variant::Preset;
use crate::variant::Variant;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
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

    /// Read and validate a repro file (see [`Repro::parse`]).
    pub fn load(path: &Path) -> Result<Repro, ReproError> {
        let bytes = fs::read(path).map_err(|e| ReproError(format!("{}: {e}", path.display())))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            ReproError(format!(
                "{}: not a parkrace repro file: not UTF-8 text (byte {})",
                path.display(),
                e.utf8_error().valid_up_to()
            ))
        })?;
        Repro::parse(&text).map_err(|e| ReproError(format!("{}: {e}", path.display())))
    }

    /// Parse and validate a repro file's text. Every field present must be valid, or the file
    /// is: the error is one line that names the field.
    pub fn parse(text: &str) -> Result<Repro, String> {
        let doc: Value =
            serde_json::from_str(text).map_err(|e| format!("not a parkrace repro file: {e}"))?;
        let Value::Object(map) = doc else {
            return Err("not a parkrace repro file: not a JSON object".into());
        };
        // A foreign or future file says so before any of its fields is judged.
        let format: String = field(&map, "format")?;
        if format != FORMAT {
            return Err(format!("format is '{format}', expected '{FORMAT}'"));
        }
        let version: u32 = field(&map, "version")?;
        if version != VERSION {
            return Err(format!(
                "format version {version} is not supported (expected {VERSION})"
            ));
        }
        if let Some(k) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(format!(
                "unknown field '{k}' (a repro file has {})",
                FIELDS.join(", ")
            ));
        }
        // Files written before the barrier switches, the scheduler switches and the memory
        // model lack them: the kernel's barriers were all there, the scheduler was v4.15-v4.19
        // (every scheduler switch off) and the model was SC.
        let implicit: Vec<&str> = crate::variant::BARRIERS
            .iter()
            .map(|b| b.switch)
            .chain(crate::variant::SCHED_SWITCHES.iter().copied())
            .collect();
        let variant: Variant =
            flat_field(&map, "variant", &Preset::V0.variant(), "switch", &implicit)?;
        let scenario: Scenario = flat_field(
            &map,
            "scenario",
            &Scenario::named()[0],
            "field",
            &["memory"],
        )?;
        let r = Repro {
            format,
            version,
            parkrace: field(&map, "parkrace")?,
            preset: field(&map, "preset")?,
            variant,
            scenario,
            oracles: field(&map, "oracles")?,
            strategy: field(&map, "strategy")?,
            seed: field(&map, "seed")?,
            execution: field(&map, "execution")?,
            decisions: field(&map, "decisions")?,
            shuttle_schedule: field(&map, "shuttle_schedule")?,
            violation: field(&map, "violation")?,
            steps: field(&map, "steps")?,
            preemptions: field(&map, "preemptions")?,
            names: field(&map, "names")?,
            completions: field(&map, "completions")?,
            trace: field(&map, "trace")?,
            schedule_bytes: optional(&map, "schedule_bytes")?,
            switches: optional(&map, "switches")?,
            minimized_from: optional(&map, "minimized_from")?,
        };
        r.validate()?;
        Ok(r)
    }

    /// Check what the types alone do not: each field's value is one parkrace could have
    /// written. The error names the field.
    pub fn validate(&self) -> Result<(), String> {
        let bad = |name: &str, why: String| Err(format!("field '{name}': {why}"));
        if let Some(p) = &self.preset {
            let Some(preset) = Preset::ALL.iter().find(|q| q.name() == p) else {
                let names: Vec<&str> = Preset::ALL.iter().map(|q| q.name()).collect();
                return bad(
                    "preset",
                    format!(
                        "unknown preset '{p}' (expected {} or null)",
                        names.join(", ")
                    ),
                );
            };
            if self.variant.preset() != Some(*preset) {
                return bad(
                    "preset",
                    format!(
                        "'{p}' does not match the file's variant ({}); a switch set that is no \
                         preset has preset null",
                        self.variant.switch_string()
                    ),
                );
            }
        } else if let Some(p) = self.variant.preset() {
            return bad(
                "preset",
                format!("null, but the file's variant is preset {}", p.name()),
            );
        }
        if let Err(e) = self.scenario.validate() {
            return bad("scenario", e);
        }
        if let Err(e) = check_strategy(&self.strategy) {
            return bad("strategy", e);
        }
        if self.execution == 0 {
            return bad("execution", "must be at least 1 (it is 1-based)".into());
        }
        match self.decisions() {
            Err(e) => return bad("decisions", e.0),
            Ok(d) if d.is_empty() => {
                return bad(
                    "decisions",
                    "empty: the file records no schedule to replay".into(),
                );
            }
            Ok(_) => {}
        }
        if let Err(e) = check_shuttle_schedule(&self.shuttle_schedule) {
            return bad("shuttle_schedule", e);
        }
        if self.names.is_empty() || self.names.iter().any(|n| n.trim().is_empty()) {
            return bad(
                "names",
                "must name every model thread (C, K, ...), none empty".into(),
            );
        }
        if self.completions.is_empty() || self.completions.iter().any(|n| n.trim().is_empty()) {
            return bad(
                "completions",
                "must name every completion (parked, exited, ...), none empty".into(),
            );
        }
        if let Some(e) = self.trace.iter().find(|e| e.task >= self.names.len()) {
            return bad(
                "trace",
                format!(
                    "step {} names thread {}, but the file names {} threads",
                    e.step,
                    e.task,
                    self.names.len()
                ),
            );
        }
        if let Some(b) = &self.schedule_bytes
            && let Err(e) = from_hex(b)
        {
            return bad("schedule_bytes", e);
        }
        Ok(())
    }

    /// A file name for this repro: `VARIANT-SCENARIO-STRATEGY-sSEED-ORACLE.json`.
    pub fn file_name(&self) -> String {
        // A switch set that is no preset is named by its label (`V5:mb_ttwu=off`), so that
        // the variants of one search (e.g. `parkrace barriers`) do not share a file.
        let v = self.preset.clone().unwrap_or_else(|| self.variant.label());
        let raw = format!(
            "{v}-{}-{}-s{}-{}",
            self.scenario.label(),
            self.strategy,
            self.seed,
            self.violation.oracle
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

/// Every field of a repro file.
pub const FIELDS: [&str; 21] = [
    "format",
    "version",
    "parkrace",
    "preset",
    "variant",
    "scenario",
    "oracles",
    "strategy",
    "seed",
    "execution",
    "decisions",
    "shuttle_schedule",
    "violation",
    "steps",
    "preemptions",
    "names",
    "completions",
    "trace",
    "schedule_bytes",
    "switches",
    "minimized_from",
];

/// A required field, or an error naming it.
fn field<T: DeserializeOwned>(map: &Map<String, Value>, name: &str) -> Result<T, String> {
    let v = map
        .get(name)
        .ok_or_else(|| format!("field '{name}' is missing"))?;
    T::deserialize(v).map_err(|e| format!("field '{name}': {e}"))
}

/// An optional field (absent or null: `None`), or an error naming it.
fn optional<T: DeserializeOwned>(
    map: &Map<String, Value>,
    name: &str,
) -> Result<Option<T>, String> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => T::deserialize(v)
            .map(Some)
            .map_err(|e| format!("field '{name}': {e}")),
    }
}

/// A required field that is a flat object (the variant's switches, the scenario): an unknown
/// key or a bad value is named, found by trying each of the file's keys in a valid `template`.
fn flat_field<T: DeserializeOwned + Serialize>(
    map: &Map<String, Value>,
    name: &str,
    template: &T,
    what: &str,
    optional: &[&str],
) -> Result<T, String> {
    let v = map
        .get(name)
        .ok_or_else(|| format!("field '{name}' is missing"))?;
    let Value::Object(given) = v else {
        return Err(format!("field '{name}': not a JSON object"));
    };
    let Ok(Value::Object(known)) = serde_json::to_value(template) else {
        unreachable!("a flat field serializes to an object");
    };
    if let Some(k) = given.keys().find(|k| !known.contains_key(*k)) {
        let names: Vec<&str> = known.keys().map(String::as_str).collect();
        return Err(format!(
            "field '{name}': unknown {what} '{k}' (expected {})",
            names.join(", ")
        ));
    }
    if let Some(k) = known
        .keys()
        .find(|k| !given.contains_key(*k) && !optional.contains(&k.as_str()))
    {
        return Err(format!("field '{name}': {what} '{k}' is missing"));
    }
    T::deserialize(v).map_err(|e| {
        // Which key: the first whose value alone spoils the template.
        let culprit = given.iter().find(|(k, val)| {
            let mut t = known.clone();
            t.insert((*k).clone(), (*val).clone());
            T::deserialize(&Value::Object(t)).is_err()
        });
        match culprit {
            Some((k, _)) => format!("field '{name}': {what} '{k}': {e}"),
            None => format!("field '{name}': {e}"),
        }
    })
}

/// The strategy labels parkrace writes into repro files: a strategy of the registry that
/// `hunt` or `soak` runs (`random`, `pct:3`, `bytes`, `native`, ...), `verify:K` (the bound
/// of `parkrace verify`) and `fuzz:TARGET` (`parkrace import` of a fuzz target's input).
pub fn check_strategy(s: &str) -> Result<(), String> {
    if let Some(k) = s.strip_prefix("verify:") {
        return match k.parse::<u32>() {
            Ok(_) => Ok(()),
            Err(_) => Err(format!("'{s}': verify:K takes a bound K (a whole number)")),
        };
    }
    if let Some(t) = s.strip_prefix("fuzz:") {
        let buggy = history::HISTORY
            .iter()
            .filter_map(|r| r.fuzz.map(|f| f.name));
        let mut names: Vec<&str> = buggy.collect();
        names.dedup();
        names.push(FIXED_FUZZ_TARGET);
        names.extend(
            history::HISTORY
                .iter()
                .filter_map(|r| r.weak_fuzz.map(|f| f.name)),
        );
        return if names.contains(&t) {
            Ok(())
        } else {
            Err(format!(
                "'{s}': unknown fuzz target '{t}' (expected one of {})",
                names.join(", ")
            ))
        };
    }
    let st: Strategy = s.parse().map_err(|e| format!("'{s}': {e}"))?;
    if st.to_string() != s {
        return Err(format!("'{s}': parkrace writes it as '{st}'"));
    }
    if st.check(Command::Hunt).is_err() && st.check(Command::Soak).is_err() {
        return Err(format!(
            "'{s}': no command that writes repro files runs it (hunt, soak, verify:K, fuzz:TARGET)"
        ));
    }
    Ok(())
}

/// The fixed presets' fuzz target (`crate::tools::fuzz::FIXED_TARGET`; that module imports
/// this one, so the name is repeated here and a unit test keeps the two equal).
const FIXED_FUZZ_TARGET: &str = "park_fixed";

/// Check shuttle's serialized schedule (hex: magic byte 0x91, varints task-id width, length
/// and seed, then the packed steps) without shuttle's decoder, which panics on bad input.
pub fn check_shuttle_schedule(s: &str) -> Result<(), String> {
    let hex: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = from_hex(&hex)?;
    let Some((&magic, mut rest)) = bytes.split_first() else {
        return Err("empty".into());
    };
    if magic != 0x91 {
        return Err(format!(
            "not a shuttle schedule (first byte {magic:#04x}, expected 0x91)"
        ));
    }
    let mut varint = || -> Result<u64, String> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let (&b, r) = rest
                .split_first()
                .ok_or_else(|| "cut short in its header".to_string())?;
            rest = r;
            v |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a header number is longer than 64 bits".into())
    };
    let width = varint()?;
    let len = varint()?;
    let _seed = varint()?;
    if !(1..=64).contains(&width) {
        return Err(format!("task id width {width} is not 1 to 64"));
    }
    let bits = rest.len() as u64 * 8;
    let (mut offset, mut steps) = (0u64, 0u64);
    while steps < len {
        if offset >= bits {
            return Err(format!("holds {steps} of its {len} steps"));
        }
        let random = rest[(offset / 8) as usize] >> (offset % 8) & 1 == 1;
        offset += if random { 1 } else { 1 + width };
        if offset > bits {
            return Err(format!("holds {steps} of its {len} steps"));
        }
        steps += 1;
    }
    Ok(())
}

/// Hex (as [`to_hex`] writes it) back to bytes.
pub fn from_hex(s: &str) -> Result<Vec<u8>, String> {
    if let Some((i, c)) = s.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!("not hex: '{c}' at character {i}"));
    }
    if !s.len().is_multiple_of(2) {
        return Err(format!("not hex: an odd number of digits ({})", s.len()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("not hex: {e}")))
        .collect()
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
    let tmp = dir.join(format!(".{name}{TMP_MARK}{}-{n}", std::process::id()));
    let written = File::create(&tmp).and_then(|mut f| {
        // From here on the temporary file exists: a failure (a full disk) removes it.
        let r = f
            .write_all(bytes)
            .and_then(|_| f.sync_all())
            .and_then(|_| fs::rename(&tmp, path));
        if r.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        r
    });
    written?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// What [`write_atomic`] puts between a file's name and the process id and counter of its
/// temporary file (`.NAME.tmpPID-N`).
const TMP_MARK: &str = ".tmp";

/// Whether `name` is a temporary file of [`write_atomic`]: `.NAME.tmpPID-N`.
pub fn is_temp_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.') else {
        return false;
    };
    let Some((stem, tail)) = rest.rsplit_once(TMP_MARK) else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    !stem.is_empty()
        && tail
            .split_once('-')
            .is_some_and(|(p, n)| digits(p) && digits(n))
}

/// Remove the temporary files [`write_atomic`] left in `dir` (a write cut short by a crash or
/// a full disk); only its own naming pattern, never anything else. Returns how many. Call it
/// only while no other process writes into `dir` (a soak holds its folder's lock).
pub fn remove_stale_temps(dir: &Path) -> std::io::Result<usize> {
    let mut n = 0;
    for e in fs::read_dir(dir)? {
        let e = e?;
        let stale = e.file_name().to_str().is_some_and(is_temp_name)
            && e.file_type().is_ok_and(|t| t.is_file());
        if stale && fs::remove_file(e.path()).is_ok() {
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        // The rename fails after the temporary file was written: the target is a folder
        // that holds a file (root cannot replace it either).
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("x.json");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inside"), "x").unwrap();
        assert!(write_atomic(&target, b"data").is_err());
        let names: Vec<String> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["x.json"]);
        // A folder under a file: File::create fails, nothing to remove.
        let file = d.path().join("plain");
        fs::write(&file, "x").unwrap();
        assert!(write_atomic(&file.join("y.json"), b"data").is_err());
    }

    #[test]
    fn stale_temporary_files_of_our_pattern_only_are_removed() {
        let d = tempfile::tempdir().unwrap();
        for n in [
            ".summary.json.tmp123-0",
            ".x.json.tmp9-17",
            "keep.json",
            ".hidden",
            ".a.tmp1-x",
            "a.json.tmp1-2",
        ] {
            fs::write(d.path().join(n), "").unwrap();
        }
        assert_eq!(remove_stale_temps(d.path()).unwrap(), 2);
        let mut left: Vec<String> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".a.tmp1-x", ".hidden", "a.json.tmp1-2", "keep.json"]);
    }

    #[test]
    fn every_strategy_label_parkrace_writes_is_accepted() {
        for st in Strategy::KINDS {
            let ok = st.check(Command::Hunt).is_ok() || st.check(Command::Soak).is_ok();
            assert_eq!(check_strategy(&st.to_string()).is_ok(), ok, "{st}");
        }
        for t in crate::tools::fuzz::TARGETS.iter() {
            assert_eq!(check_strategy(&format!("fuzz:{}", t.name)), Ok(()));
        }
        assert_eq!(FIXED_FUZZ_TARGET, crate::tools::fuzz::FIXED_TARGET);
        assert_eq!(check_strategy("verify:2"), Ok(()));
        for bad in [
            "warp-drive",
            "fuzz:park_v9",
            "verify:x",
            "libfuzzer",
            "pct",
            "",
        ] {
            assert!(check_strategy(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shuttle_schedules_are_checked_without_panicking() {
        use shuttle_engine::scheduler::serialization::serialize_schedule;
        use shuttle_engine::scheduler::{Schedule, TaskId};
        let mut sch = Schedule::new(42);
        for t in [0usize, 1, 3, 1, 2] {
            sch.push_task(TaskId::from(t));
            sch.push_random();
        }
        assert_eq!(check_shuttle_schedule(&serialize_schedule(&sch)), Ok(()));
        for bad in [
            "",
            "xyz!",
            "00",
            "91",
            "9101",
            "910105",
            "91ff",
            "9101ff0100",
        ] {
            assert!(check_shuttle_schedule(bad).is_err(), "{bad}");
        }
    }

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
