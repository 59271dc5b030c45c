//! Fuzz targets: structured input (a scenario shape plus schedule bytes), decoded with
//! `arbitrary`, run once under the byte-driven scheduler; a violation is a crash.
//!
//! The `fuzz/` crate's targets are one line each over [`fuzz_one`]; `parkrace import` decodes
//! an artifact with the same [`Case::decode`], so a crash file becomes a repro file.
//!
//! All-zero input is the simplest case: one CPU, a single park, no preemption, no other party,
//! and a schedule without preemptions. Every knob is off at zero, so libFuzzer's input
//! minimization moves toward the simplest race.

use crate::history::{self, may_fail};
use crate::oracle::{Oracle, OracleSet};
use crate::scenario::{DEFAULT_MAX_STEPS, KStart, Memory, Op, Scenario};
use crate::tools::explore::{ByteRun, run_bytes_with};
use crate::tools::repro::Repro;
use crate::variant::{Preset, Variant};
use arbitrary::{Arbitrary, Unstructured};
use std::sync::LazyLock;

/// A fuzz target: which presets it runs and which oracles make a crash.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: &'static str,
    /// The presets; the input picks one.
    pub presets: Vec<Preset>,
    /// The oracles that make a crash; empty for the fixed target, which crashes on every
    /// oracle kernel history says its preset satisfies.
    pub crash_on: &'static [Oracle],
    pub about: &'static str,
    /// The memory model its scenarios run under (model.md m).
    pub memory: Memory,
}

/// The fuzz target of the fixed presets, on every oracle history says each keeps.
pub const FIXED_TARGET: &str = "park_fixed";

/// The fuzz targets of `fuzz/fuzz_targets/` (one file each), derived from kernel history
/// ([`crate::history::HISTORY`]): each buggy preset's target (presets sharing one are run by
/// it together), then [`FIXED_TARGET`] over every fixed preset, then the targets of the
/// weak-memory rows (under `lkmm`).
pub static TARGETS: LazyLock<Vec<Target>> = LazyLock::new(|| {
    let mut targets: Vec<Target> = Vec::new();
    for r in &history::HISTORY {
        let Some(f) = r.fuzz else { continue };
        match targets.iter_mut().find(|t| t.name == f.name) {
            Some(t) => t.presets.push(r.preset),
            None => targets.push(Target {
                name: f.name,
                presets: vec![r.preset],
                crash_on: f.crash_on,
                about: f.about,
                memory: Memory::Sc,
            }),
        }
    }
    let fixed = history::fixed();
    let names: Vec<&str> = fixed.iter().map(|p| p.name()).collect();
    let about = format!(
        "{} on every oracle kernel history says they satisfy: must never crash",
        match names.as_slice() {
            [a, .., z] => format!("{a}-{z}"),
            _ => names.join(""),
        }
    );
    targets.push(Target {
        name: FIXED_TARGET,
        presets: fixed,
        crash_on: &[],
        about: Box::leak(about.into_boxed_str()),
        memory: Memory::Sc,
    });
    // The weak-memory targets, last (after the fixed target).
    for r in &history::HISTORY {
        if let Some(f) = r.weak_fuzz {
            targets.push(Target {
                name: f.name,
                presets: vec![r.preset],
                crash_on: f.crash_on,
                about: f.about,
                memory: Memory::Lkmm,
            });
        }
    }
    targets
});

/// The fuzz target that runs `p`: its own buggy target, or [`FIXED_TARGET`].
pub fn target_of(p: Preset) -> &'static str {
    history::of(p).fuzz.map_or(FIXED_TARGET, |f| f.name)
}

impl Target {
    /// Look a target up by name.
    pub fn by_name(name: &str) -> Result<Target, String> {
        TARGETS
            .iter()
            .find(|t| t.name == name)
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
                format!(
                    "unknown fuzz target '{name}' (expected one of {})",
                    names.join(", ")
                )
            })
    }

    /// Whether this target hunts the presets' known bugs (crashes are expected).
    pub fn buggy(&self) -> bool {
        !self.crash_on.is_empty()
    }

    /// The oracles that make a crash for `p`: the target's list, or for the fixed target
    /// every oracle history says `p` satisfies.
    pub fn oracles(&self, p: Preset) -> OracleSet {
        if self.buggy() {
            return OracleSet::of(self.crash_on);
        }
        let list: Vec<Oracle> = Oracle::ALL
            .into_iter()
            .filter(|&o| !may_fail(p, o))
            .collect();
        OracleSet::of(&list)
    }
}

/// The scenario part of a fuzz input: every knob off at zero.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Which of the target's presets.
    pub preset: u8,
    /// K on a second CPU (else C and K share CPU 0).
    pub two_cpus: bool,
    /// K starts fresh (`kthread_create_on_cpu` + bind first).
    pub fresh: bool,
    /// park/unpark operations after the first park: `cycles % 4` more, alternating.
    pub cycles: u8,
    /// Hotplug: park; takedown; online (needs two CPUs).
    pub hotplug: bool,
    /// `kthread_stop` last; with no park before it (`no_park`) it is the d.6 stop.
    pub stop: bool,
    /// Skip the first park (only meaningful with `stop`).
    pub no_park: bool,
    /// A third-party waker.
    pub waker: bool,
    /// An extra task on K's CPU.
    pub extra: bool,
    /// CONFIG_PREEMPT with `1 + budget % 3` injected preemptions at most.
    pub preempt: bool,
    pub budget: u8,
}

/// A whole fuzz input: the shape, then schedule bytes (the rest of the input, byte for byte).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub shape: Shape,
    pub schedule: Vec<u8>,
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let shape = Shape::arbitrary(u)?;
        let len = u.arbitrary_len::<u8>()?;
        Ok(Input {
            shape,
            schedule: u.bytes(len)?.to_vec(),
        })
    }

    // arbitrary's own take-rest for a Vec reads a continuation flag before each element;
    // here every remaining input byte is one schedule byte.
    fn arbitrary_take_rest(mut u: Unstructured<'a>) -> arbitrary::Result<Self> {
        let shape = Shape::arbitrary(&mut u)?;
        Ok(Input {
            shape,
            schedule: u.take_rest().to_vec(),
        })
    }
}

impl Shape {
    /// The scenario this shape describes (always a valid one).
    pub fn scenario(&self) -> Scenario {
        let cpus = if self.two_cpus || self.hotplug { 2 } else { 1 };
        let mut ops = Vec::new();
        if self.fresh {
            ops.push(Op::Create);
        }
        if self.hotplug {
            ops.extend([Op::Park, Op::Takedown, Op::Online]);
        } else {
            let skip = self.stop && self.no_park;
            let n = if skip { 0 } else { 1 + self.cycles % 4 };
            for i in 0..n {
                ops.push(if i % 2 == 0 { Op::Park } else { Op::Unpark });
            }
        }
        if self.stop || ops.is_empty() || ops == [Op::Create] {
            ops.push(if self.stop { Op::Stop } else { Op::Park });
        }
        Scenario {
            name: "fuzz".into(),
            about: "decoded from a fuzz input".into(),
            cpus,
            controller_cpu: 0,
            kthread_cpu: cpus - 1,
            kthread_start: if self.fresh {
                KStart::Fresh
            } else {
                KStart::Loop
            },
            ops,
            waker: self.waker,
            extra: self.extra,
            preempt: self.preempt,
            budget: if self.preempt {
                1 + u32::from(self.budget % 3)
            } else {
                0
            },
            irq_gap: false,
            max_steps: DEFAULT_MAX_STEPS,
            memory: Memory::Sc,
        }
    }
}

/// A decoded fuzz input, ready to run.
#[derive(Clone, Debug)]
pub struct Case {
    pub preset: Preset,
    pub variant: Variant,
    pub scenario: Scenario,
    pub oracles: OracleSet,
    pub schedule: Vec<u8>,
}

impl Case {
    /// Decode raw fuzzer bytes for `target` (any bytes decode: missing ones read as zero).
    pub fn decode(target: &Target, data: &[u8]) -> Case {
        let input = Input::arbitrary_take_rest(Unstructured::new(data)).unwrap_or(Input {
            shape: Shape::arbitrary(&mut Unstructured::new(&[])).expect("empty shape"),
            schedule: Vec::new(),
        });
        Case::of_input(target, &input)
    }

    /// The case of a structured input.
    pub fn of_input(target: &Target, input: &Input) -> Case {
        let preset = target.presets[input.shape.preset as usize % target.presets.len()];
        let mut scenario = input.shape.scenario();
        scenario.memory = target.memory;
        Case {
            preset,
            variant: preset.variant(),
            scenario,
            oracles: target.oracles(preset),
            schedule: input.schedule.clone(),
        }
    }

    /// Run the case once.
    pub fn run(&self) -> ByteRun {
        run_bytes_with(
            &self.scenario,
            self.variant,
            self.oracles,
            &self.schedule,
            &crate::tools::feedback::hooks(),
        )
    }

    /// What a fuzz target asks of an input: the violation of [`Case::run`], from a run that
    /// keeps no trace and records no schedule (`parkrace import` runs a crash again for
    /// those; README, Performance, for what it gains).
    pub fn verdict(&self) -> Option<crate::oracle::Violation> {
        let hooks = crate::harness::Hooks {
            last_event_only: true,
            ..crate::tools::feedback::hooks()
        };
        crate::tools::explore::run_bytes_unrecorded(
            &self.scenario,
            self.variant,
            self.oracles,
            &self.schedule,
            &hooks,
        )
        .violation
    }

    /// The repro file of a violating run.
    pub fn repro(&self, target: &Target, run: &ByteRun) -> Option<Repro> {
        Repro::of_bytes(
            self.variant,
            &self.scenario,
            self.oracles,
            &format!("fuzz:{}", target.name),
            1,
            &self.schedule,
            run,
        )
    }
}

/// The crash oracles from `PARKRACE_FUZZ_ORACLES`, read once.
fn oracle_override() -> Option<OracleSet> {
    static O: std::sync::OnceLock<Option<OracleSet>> = std::sync::OnceLock::new();
    *O.get_or_init(|| {
        let v = std::env::var("PARKRACE_FUZZ_ORACLES").ok()?;
        Some(v.parse().expect("PARKRACE_FUZZ_ORACLES: a list like I6,I2"))
    })
}

/// `PARKRACE_FUZZ_SCENARIO` and `PARKRACE_FUZZ_PRESET`, read once: pin the scenario and the
/// preset, so that the fuzzer searches schedules of one target only (what `parkrace compare
/// --strategy libfuzzer` measures).
fn pins() -> &'static (Option<Scenario>, Option<Preset>) {
    static P: std::sync::OnceLock<(Option<Scenario>, Option<Preset>)> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        let s = std::env::var("PARKRACE_FUZZ_SCENARIO")
            .ok()
            .map(|n| Scenario::by_name(&n).expect("PARKRACE_FUZZ_SCENARIO: a scenario name"));
        let p = std::env::var("PARKRACE_FUZZ_PRESET").ok().map(|n| {
            Preset::ALL
                .into_iter()
                .find(|p| p.name().eq_ignore_ascii_case(&n))
                .expect("PARKRACE_FUZZ_PRESET: a preset name")
        });
        (s, p)
    })
}

/// Executions of the fuzz target in this process so far.
static EXECUTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The body of every fuzz target: decode, run, and on a violation report it and abort (a
/// libFuzzer crash; aborting rather than panicking keeps shuttle's panic hook quiet).
///
/// `PARKRACE_FUZZ_ORACLES=I6,I2` narrows the crash oracles to those (for a campaign on one
/// race); `parkrace import` must then be given the same list with `--oracles`.
/// `PARKRACE_FUZZ_SCENARIO` and `PARKRACE_FUZZ_PRESET` pin the scenario and preset (the
/// input's shape is then ignored, so `import` does not apply to its crashes).
pub fn fuzz_one(target: &str, data: &[u8]) {
    let t = Target::by_name(target).expect("fuzz target");
    let mut case = Case::decode(&t, data);
    let (scenario, preset) = pins();
    if let Some(s) = scenario {
        case.scenario = s.clone();
    }
    if let Some(p) = preset {
        case.preset = *p;
        case.variant = p.variant();
        case.oracles = t.oracles(*p);
    }
    if let Some(o) = oracle_override() {
        case.oracles = o;
    }
    let n = EXECUTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    if let Some(v) = &case.verdict() {
        eprintln!(
            "parkrace {target}: {} on {} ({}), after {n} executions: {v}\n\
             turn the crash file into a repro: parkrace import {target} <crash file>",
            case.preset,
            case.scenario.describe(),
            case.variant.switch_string(),
        );
        std::process::abort();
    }
}
