//! Variants of the park protocol as data (model.md section c): a set of independent fix switches,
//! with named presets for the kernel commits. The model code reads the switches; no protocol
//! function is copied per variant, and any combination of switches runs.
//!
//! **One place per concept.** The presets are declared once, in the `presets!` invocation
//! (name, commit, title); the switches once, in the `switches!` invocation: one row per switch
//! with its field, its type, each preset's value (a column per preset, in [`Preset::ALL`]
//! order) and its help text. The row generates the [`Variant`] field, its parsing
//! ([`Variant::set`]), its display ([`Variant::switches`]), its line in `parkrace variants`
//! ([`SWITCHES`]) and its value in every preset ([`Preset::variant`]). What kernel history
//! says of each preset is its row of [`HISTORY`], declared here too, so that a new preset is one
//! file; [`crate::history`] derives verdicts, defaults and targets from it.

use crate::oracle::Oracle;
use Oracle::{I1, I1c, I2, I3, I3s, I4, I5, I6, I7, I8};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How `__kthread_parkme` stores TASK_PARKED.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParkmeStore {
    /// V0: `__set_current_state(PARKED)` (plain) before the loop and after each schedule().
    Plain,
    /// V1/V2: `set_current_state(PARKED)` (store + full fence) at the loop top.
    Mb,
    /// V3+: `set_special_state(PARKED)` under `pi_lock` at the loop top.
    Special,
}

/// Who calls complete on `kthread->parked`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Completer {
    /// The kthread itself in `__kthread_parkme`, before schedule() (V0, V1, V3+).
    Thread,
    /// `kthread_park_complete()` from `finish_task_switch` on every switch-out of a task whose
    /// state is PARKED (V2).
    FinishTaskSwitch,
}

/// The type of a switch's values: every accepted spelling (case-insensitive, trimmed) with its
/// value. A value prints as its first spelling.
pub trait SwitchValue: Copy + PartialEq + 'static {
    const SPELLINGS: &'static [(&'static str, Self)];
    /// The values, for error messages: `on or off`.
    const EXPECTED: &'static str;
}

impl SwitchValue for bool {
    const SPELLINGS: &'static [(&'static str, bool)] = &[
        ("on", true),
        ("off", false),
        ("1", true),
        ("0", false),
        ("true", true),
        ("false", false),
        ("yes", true),
        ("no", false),
    ];
    const EXPECTED: &'static str = "on or off";
}

impl SwitchValue for ParkmeStore {
    const SPELLINGS: &'static [(&'static str, ParkmeStore)] = &[
        ("plain", ParkmeStore::Plain),
        ("mb", ParkmeStore::Mb),
        ("special", ParkmeStore::Special),
    ];
    const EXPECTED: &'static str = "plain, mb or special";
}

impl SwitchValue for Completer {
    const SPELLINGS: &'static [(&'static str, Completer)] = &[
        ("thread", Completer::Thread),
        ("finish_task_switch", Completer::FinishTaskSwitch),
        ("fts", Completer::FinishTaskSwitch),
    ];
    const EXPECTED: &'static str = "thread or finish_task_switch";
}

/// How `value` prints: its first spelling.
fn spell<T: SwitchValue>(value: T) -> &'static str {
    T::SPELLINGS
        .iter()
        .find(|(_, v)| *v == value)
        .map(|(s, _)| *s)
        .expect("every value of a switch has a spelling")
}

/// Parse a value of switch `name`.
fn parse_value<T: SwitchValue>(name: &str, value: &str) -> Result<T, String> {
    let v = value.trim().to_ascii_lowercase();
    T::SPELLINGS
        .iter()
        .find(|(s, _)| *s == v)
        .map(|(_, x)| *x)
        .ok_or_else(|| format!("switch {name}: expected {}, got '{v}'", T::EXPECTED))
}

/// The distinct values of a switch type, each by its first spelling.
fn value_names<T: SwitchValue>() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (_, v) in T::SPELLINGS {
        let s = spell(*v);
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// One fix switch: its name, help, and how to read, print and set it on a [`Variant`].
pub struct Switch {
    pub name: &'static str,
    /// What it does, after its values in `parkrace variants`.
    pub about: &'static str,
    values: fn() -> Vec<&'static str>,
    get: fn(&Variant) -> &'static str,
    set: fn(&mut Variant, &str) -> Result<(), String>,
}

impl Switch {
    /// Its values by their printed spellings: `on`, `off`.
    pub fn values(&self) -> Vec<&'static str> {
        (self.values)()
    }

    /// Its line in `parkrace variants`: `on | off: what it does`.
    pub fn help(&self) -> String {
        format!("{}: {}", self.values().join(" | "), self.about)
    }

    /// Its value in `v`, as printed.
    pub fn get(&self, v: &Variant) -> &'static str {
        (self.get)(v)
    }

    /// Set it in `v` from a spelling.
    pub fn set(&self, v: &mut Variant, value: &str) -> Result<(), String> {
        (self.set)(v, value)
    }
}

/// Declares the presets: each with its name, the protocol's kernel commit, the scheduler stack
/// it runs on (model.md 0.3) and its title, in history's order.
macro_rules! presets {
    ($($id:ident $name:literal $commit:literal $sched:literal $title:literal;)*) => {
        /// A named preset: a kernel state of the park protocol.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Preset {
            $(#[serde(rename = $name)] $id,)*
        }

        impl Preset {
            /// Every preset, oldest first (the column order of the switch table).
            pub const ALL: [Preset; [$(Preset::$id),*].len()] = [$(Preset::$id),*];
            /// How many presets there are.
            pub const COUNT: usize = Preset::ALL.len();

            /// Its name on the command line and in reports: `V3`, `V5@6.12`, `mainline`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Preset::$id => $name,)*
                }
            }

            /// The scheduler stack it runs on: the kernel version and the scheduler commits
            /// the park protocol can observe (model.md 0.3).
            pub fn sched(self) -> &'static str {
                match self {
                    $(Preset::$id => $sched,)*
                }
            }

            /// The kernel commit (or state) the preset models.
            pub fn commit(self) -> &'static str {
                match self {
                    $(Preset::$id => $commit,)*
                }
            }

            pub fn title(self) -> &'static str {
                match self {
                    $(Preset::$id => $title,)*
                }
            }
        }
    };
}

/// Declares the switches: one row each, `field: Type = [value per preset] "help";`.
macro_rules! switches {
    ($(
        $(#[doc = $doc:literal])*
        $field:ident : $ty:ty = [$($val:expr),* $(,)?] $about:literal;
    )*) => {
        /// The fix switches. Each field is one historical change; the presets combine them.
        /// A file written before a switch existed reads it as V5 has it (the barrier switches:
        /// on).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(default)]
        pub struct Variant {
            $($(#[doc = $doc])* pub $field: $ty,)*
        }

        /// The switches, for `parkrace variants`, parsing and display, in display order.
        pub static SWITCHES: &[Switch] = &[$(
            Switch {
                name: stringify!($field),
                about: $about,
                values: value_names::<$ty>,
                get: |v| spell(v.$field),
                set: |v, s| {
                    v.$field = parse_value(stringify!($field), s)?;
                    Ok(())
                },
            },
        )*];

        impl Preset {
            /// The switch set of the preset (model.md c): its column of the switch table.
            pub fn variant(self) -> Variant {
                let i = self as usize;
                Variant {
                    $($field: {
                        let column: [$ty; Preset::COUNT] = [$($val),*];
                        column[i]
                    },)*
                }
            }
        }
    };
}

// The 2018 presets keep the v4.15-v4.19 scheduler they were written against (their verdicts are
// kernel history's); the last three run V5's protocol on the scheduler of the kernels users run.
presets! {
    V0 "V0" "f2530dc71cf0 (v3.9..v4.16)" "v4.15-v4.19"
        "IS_PARKED bit, thread completes before schedule()";
    V1 "V1" "741a76b35089" "v4.15-v4.19" "kthread: Fix kthread_parkme() wait-loop";
    V2 "V2" "85f1abe0019f (v4.17)" "v4.15-v4.19"
        "kthread, sched/wait: Fix kthread_parkme() completion issue";
    V3 "V3" "1cef1150ef40 (v4.18)" "v4.15-v4.19"
        "kthread, sched/core: Fix kthread_parkme() (again...)";
    V3b "V3b" "v4.19 (commit not identified)" "v4.15-v4.19"
        "counting complete, no reinit, -EBUSY guard";
    V4 "V4" "26c7295be0c5 (v5.7)" "v4.15-v4.19"
        "kthread: Do not preempt current task if it is going to call schedule()";
    V5 "V5" "214e01ad4ed7 (2024)" "v4.15-v4.19" "kthread: unpark only parked kthread";
    V5At612 "V5@6.12" "214e01ad4ed7 (2024)"
        "v6.12: state mask 9204a97f7ae8 (v6.1), pi_lock spin d5e1586617be (v6.5), delayed dequeue 152e11f6df29 + e1459a50ba31"
        "V5 on the v6.12 scheduler: EEVDF delayed dequeue";
    V5At616 "V5@6.16" "214e01ad4ed7 (2024)"
        "v6.16: v6.12 + kthread->started WARN (v6.14), forced dequeue b7ca5743a260"
        "V5 on the v6.16 scheduler: wait_task_inactive forces the dequeue";
    Mainline "mainline" "214e01ad4ed7 (2024)"
        "mainline (v7.3-rc): v6.16 + __kthread_bind under the rq lock (set_cpus_allowed_force)"
        "V5 on today's scheduler";
}

/// A fuzz target that hunts a preset's bug (`fuzz/fuzz_targets/NAME.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuzzTarget {
    pub name: &'static str,
    /// The oracles that make a crash.
    pub crash_on: &'static [Oracle],
    pub about: &'static str,
}

/// What kernel history says of one preset: a row of [`HISTORY`].
#[derive(Clone, Copy, Debug)]
pub struct Record {
    pub preset: Preset,
    /// The oracles it violates: its ✗ cells of model.md (e), in the order the summary names them.
    pub fails: &'static [Oracle],
    /// Oracles that are n/a for it but may fail without contradicting history (I8 for V0-V2:
    /// park has no wait_task_inactive, but `kthread_bind` after creation has the pre-V4
    /// latency).
    pub also_may_fail: &'static [Oracle],
    /// The named scenarios where its bug shows (model.md f): a clean verdict there disagrees with
    /// history. Also compare's and soak's buggy targets.
    pub shows_on: &'static [&'static str],
    /// Whether its park protocol is fixed (it keeps I1 to I6): verify's default presets and the
    /// presets of the fixed fuzz target.
    pub fixed: bool,
    /// The fuzz target hunting its bug, if it has one.
    pub fuzz: Option<FuzzTarget>,
    /// The oracles it also violates under a weak memory model (`tso`, `lkmm`) beyond its SC
    /// verdicts (model.md m.6), and the named scenarios where a hunt under `lkmm` must show
    /// that.
    pub weak: &'static [Oracle],
    pub weak_shows_on: &'static [&'static str],
    /// The fuzz target hunting its weak-memory bug under `lkmm`, if it has one.
    pub weak_fuzz: Option<FuzzTarget>,
}

/// The races of V0/V1: the stale-wakeup clobber and what follows it. Their early return (I1,
/// I1c) shows in ordinary runs without any race, so it is left out.
const CLOBBER: &[Oracle] = &[I2, I3, I4, I5, I6];

const PARK_V3: FuzzTarget = FuzzTarget {
    name: "park_v3",
    crash_on: &[I8],
    about: "V3/V3b: the one-tick sleep of park's wait_task_inactive (I8, d.5)",
};

/// The row of a preset kernel history finds clean: it keeps every oracle, under every memory
/// model.
const fn clean(preset: Preset) -> Record {
    Record {
        preset,
        weak: &[],
        weak_shows_on: &[],
        weak_fuzz: None,
        fails: &[],
        also_may_fail: &[],
        shows_on: &[],
        fixed: true,
        fuzz: None,
    }
}

/// Kernel history ([`crate::history`] derives from it), one row per preset in
/// [`Preset::ALL`] order: a new preset adds its row here, beside its `presets!` line and its
/// value in each switch row.
pub const HISTORY: [Record; Preset::COUNT] = [
    Record {
        preset: Preset::V0,
        weak: &[I7],
        weak_shows_on: &["park-unpark", "park-unpark-park"],
        weak_fuzz: Some(FuzzTarget {
            name: "park_v0_lkmm",
            crash_on: &[I7],
            about: "V0 under lkmm: the lost wakeup V1's barrier removed (I7, model.md m.6)",
        }),
        fails: &[I1, I1c, I2, I3, I4, I5, I6],
        also_may_fail: &[I8],
        shows_on: &["park", "park-unpark", "hotplug", "park-unpark-park"],
        fixed: false,
        fuzz: Some(FuzzTarget {
            name: "park_v0",
            crash_on: CLOBBER,
            about: "V0 (<= v4.16): the stale-wakeup clobber and its WARN/BUG_ON (d.1, d.8)",
        }),
    },
    Record {
        preset: Preset::V1,
        weak: &[],
        weak_shows_on: &[],
        weak_fuzz: None,
        fails: &[I1, I1c, I2, I3, I4, I5, I6],
        also_may_fail: &[I8],
        shows_on: &["park", "park-unpark", "hotplug", "park-unpark-park"],
        fixed: false,
        fuzz: Some(FuzzTarget {
            name: "park_v1",
            crash_on: CLOBBER,
            about: "V1 (741a76b): as V0 with the restructured wait loop (d.1, d.8)",
        }),
    },
    Record {
        preset: Preset::V2,
        weak: &[],
        weak_shows_on: &[],
        weak_fuzz: None,
        fails: &[I1, I1c, I2, I3, I3s, I4, I5, I6],
        also_may_fail: &[I8],
        shows_on: &[
            "park-unpark",
            "third-party-waker",
            "preempt-parked",
            "stale-completion",
            "stop-unparked",
            "hotplug",
            "park-unpark-park",
        ],
        fixed: false,
        fuzz: Some(FuzzTarget {
            name: "park_v2",
            crash_on: &[I1, I1c, I2, I3, I4, I5, I6],
            about: "V2 (85f1abe0019f): the seed's race (d.2), Oleg's preemption (d.3), d.4",
        }),
    },
    Record {
        preset: Preset::V3,
        weak: &[],
        weak_shows_on: &[],
        weak_fuzz: None,
        fails: &[I8, I3s],
        also_may_fail: &[],
        shows_on: &["wti-latency", "stop-unparked"],
        fixed: true,
        fuzz: Some(PARK_V3),
    },
    Record {
        preset: Preset::V3b,
        weak: &[],
        weak_shows_on: &[],
        weak_fuzz: None,
        fails: &[I8, I3s],
        also_may_fail: &[],
        shows_on: &["wti-latency", "stop-unparked"],
        fixed: true,
        fuzz: Some(PARK_V3),
    },
    Record {
        preset: Preset::V4,
        weak: &[],
        weak_shows_on: &[],
        weak_fuzz: None,
        fails: &[I3s],
        also_may_fail: &[],
        shows_on: &["stop-unparked"],
        fixed: true,
        fuzz: Some(FuzzTarget {
            name: "park_v4",
            crash_on: &[I3s],
            about: "V4 (26c7295be0c5): kthread_stop of a never-parked per-cpu thread (I3s, d.6)",
        }),
    },
    clean(Preset::V5),
    Record {
        preset: Preset::V5At612,
        weak: &[],
        weak_shows_on: &[],
        weak_fuzz: None,
        fails: &[I8],
        also_may_fail: &[],
        shows_on: &["create-park"],
        fixed: true,
        fuzz: Some(FuzzTarget {
            name: "park_v5_612",
            crash_on: &[I8],
            about: "V5@6.12: a delayed-dequeued new thread makes kthread_bind sleep a tick (I8, d.9)",
        }),
    },
    clean(Preset::V5At616),
    clean(Preset::Mainline),
];

const ON: bool = true;
const OFF: bool = false;
use Completer::{FinishTaskSwitch as Fts, Thread};
use ParkmeStore::{Mb, Plain, Special};

// The switch table: one row per switch; the columns are the presets V0 V1 V2 V3 V3b V4 V5
// V5@6.12 V5@6.16 mainline.
switches! {
    /// How parkme stores PARKED (V1: fence; V3: set_special_state).
    parkme_store: ParkmeStore = [Plain, Mb, Mb, Special, Special, Special, Special, Special, Special, Special]
        "how parkme stores PARKED (V1 fence, V3 set_special_state)";
    /// V0/V1 `KTHREAD_IS_PARKED`: parkme completes only on its 0->1 transition; park returns at
    /// once if it is set; unpark binds and wakes only if it test-and-clears it.
    is_parked_bit: bool = [ON, ON, OFF, OFF, OFF, OFF, OFF, OFF, OFF, OFF]
        "V0/V1 KTHREAD_IS_PARKED gating of complete, park and unpark";
    /// Who completes `parked` (V2 moved it into finish_task_switch; V3 moved it back).
    completer: Completer = [Thread, Thread, Fts, Thread, Thread, Thread, Thread, Thread, Thread, Thread]
        "who completes `parked` (V2 hook)";
    /// `complete_all` (V2, V3) instead of the counting `complete` (V0, V1, V3b+).
    complete_all: bool = [OFF, OFF, ON, ON, OFF, OFF, OFF, OFF, OFF, OFF]
        "complete_all instead of counting complete (V2, V3)";
    /// `reinit_completion(&parked)` in unpark (V2, V3).
    unpark_reinit: bool = [OFF, OFF, ON, ON, OFF, OFF, OFF, OFF, OFF, OFF]
        "reinit_completion(&parked) in unpark (V2, V3)";
    /// `WARN_ON(!wait_task_inactive(k, PARKED))` at the end of park (V3+).
    park_wti: bool = [OFF, OFF, OFF, ON, ON, ON, ON, ON, ON, ON]
        "WARN_ON(!wait_task_inactive(k, PARKED)) in park (V3+)";
    /// `-EBUSY` when park is called with SHOULD_PARK already set (V3b+).
    park_ebusy: bool = [OFF, OFF, OFF, OFF, ON, ON, ON, ON, ON, ON]
        "-EBUSY if SHOULD_PARK is already set (V3b+)";
    /// V4: preemption disabled from before `complete` until `schedule_preempt_disabled()`, in
    /// parkme and in `kthread()` entry.
    preempt_disabled_complete: bool = [OFF, OFF, OFF, OFF, OFF, ON, ON, ON, ON, ON]
        "complete + schedule_preempt_disabled (V4)";
    /// V5: unpark returns at once unless SHOULD_PARK is set.
    unpark_only_parked: bool = [OFF, OFF, OFF, OFF, OFF, OFF, ON, ON, ON, ON]
        "unpark returns unless SHOULD_PARK is set (V5)";
    // The barrier switches (model.md m.2): each barrier the protocol relies on, on in every
    // preset (every kernel had it where its code had the site); turning one off asks whether
    // it is load-bearing. They change nothing under `sc`. See [`BARRIERS`].
    /// The `smp_mb()` of `set_current_state(TASK_PARKED)` in parkme's loop (V1, V2).
    mb_parkme: bool = [ON, ON, ON, ON, ON, ON, ON, ON, ON, ON]
        "barrier: smp_mb() of set_current_state(TASK_PARKED) in __kthread_parkme (V1, V2)";
    /// The `smp_mb()` of `set_current_state(TASK_INTERRUPTIBLE)` in `smpboot_thread_fn`.
    mb_smpboot: bool = [ON, ON, ON, ON, ON, ON, ON, ON, ON, ON]
        "barrier: smp_mb() of set_current_state(TASK_INTERRUPTIBLE) in smpboot_thread_fn";
    /// `smp_mb__after_spinlock()` after `pi_lock` in `try_to_wake_up`.
    mb_ttwu: bool = [ON, ON, ON, ON, ON, ON, ON, ON, ON, ON]
        "barrier: smp_mb__after_spinlock() in try_to_wake_up";
    /// `smp_rmb()` between the loads of `p->state` and `p->on_rq` in `try_to_wake_up`.
    rmb_ttwu_on_rq: bool = [ON, ON, ON, ON, ON, ON, ON, ON, ON, ON]
        "barrier: smp_rmb() between p->state and p->on_rq in try_to_wake_up";
    /// `smp_rmb()` between the loads of `p->on_rq` and `p->on_cpu` in `try_to_wake_up`.
    rmb_ttwu_on_cpu: bool = [ON, ON, ON, ON, ON, ON, ON, ON, ON, ON]
        "barrier: smp_rmb() between p->on_rq and p->on_cpu in try_to_wake_up";
    /// The acquire of `smp_cond_load_acquire(&p->on_cpu, !VAL)` in `try_to_wake_up`.
    acq_ttwu_on_cpu: bool = [ON, ON, ON, ON, ON, ON, ON, ON, ON, ON]
        "barrier: acquire of smp_cond_load_acquire(&p->on_cpu, !VAL) in try_to_wake_up";
    /// `smp_mb__after_spinlock()` after the rq lock in `__schedule`.
    mb_schedule: bool = [ON, ON, ON, ON, ON, ON, ON, ON, ON, ON]
        "barrier: smp_mb__after_spinlock() in __schedule";
    /// The release of `smp_store_release(&prev->on_cpu, 0)` in `finish_task_switch`.
    rel_finish_on_cpu: bool = [ON, ON, ON, ON, ON, ON, ON, ON, ON, ON]
        "barrier: release of smp_store_release(&prev->on_cpu, 0) in finish_task_switch";
    /// The full ordering of `test_and_set_bit` / `test_and_clear_bit(KTHREAD_IS_PARKED)`
    /// (V0, V1).
    mb_is_parked: bool = [ON, ON, ON, ON, ON, ON, ON, ON, ON, ON]
        "barrier: full ordering of test_and_{set,clear}_bit(KTHREAD_IS_PARKED) (V0, V1)";
    /// The `smp_mb()` of `set_current_state(TASK_UNINTERRUPTIBLE)` before
    /// `wait_task_inactive`'s one-tick sleep.
    mb_wti_sleep: bool = [ON, ON, ON, ON, ON, ON, ON, ON, ON, ON]
        "barrier: smp_mb() of set_current_state(TASK_UNINTERRUPTIBLE) in wait_task_inactive";
    // The scheduler switches (model.md 0.3): each a change of the scheduler that the park
    // protocol can observe, off in the 2018 presets (they run on the v4.15-v4.19 scheduler).
    /// `ttwu_queue_wakelist()`: a wakeup of a task still `on_cpu`, or onto an idle CPU, is
    /// queued on the target CPU and activated by its IPI (c6e7bd7afaeb, v5.8; the idle rule
    /// since v6.1).
    wakelist: bool = [OFF, OFF, OFF, OFF, OFF, OFF, OFF, ON, ON, ON]
        "scheduler: ttwu queues the wakeup on the target CPU's wake list (c6e7bd7afaeb, v5.8)";
    /// `wait_task_inactive()` matches the state with `&` (v6.1) instead of `==`.
    wti_state_mask: bool = [OFF, OFF, OFF, OFF, OFF, OFF, OFF, ON, ON, ON]
        "scheduler: wait_task_inactive tests state & match_state (9204a97f7ae8, v6.1), not ==";
    /// `wait_task_inactive()`'s lockless state test under `p->pi_lock` (`task_state_match`,
    /// d5e1586617be, v6.5).
    wti_pi_lock: bool = [OFF, OFF, OFF, OFF, OFF, OFF, OFF, ON, ON, ON]
        "scheduler: wait_task_inactive's spin loop tests the state under p->pi_lock (d5e1586617be, v6.5)";
    /// EEVDF delayed dequeue: a blocking task that is not eligible stays queued,
    /// `sched_delayed`, until it is picked or woken (152e11f6df29, v6.12).
    delayed_dequeue: bool = [OFF, OFF, OFF, OFF, OFF, OFF, OFF, ON, ON, ON]
        "scheduler: EEVDF delayed dequeue, a blocked task may stay queued (152e11f6df29, e1459a50ba31, v6.12)";
    /// `wait_task_inactive()` dequeues a `sched_delayed` task under the rq lock (b7ca5743a260,
    /// v6.16).
    wti_force_dequeue: bool = [OFF, OFF, OFF, OFF, OFF, OFF, OFF, OFF, ON, ON]
        "scheduler: wait_task_inactive forces the dequeue of a sched_delayed task (b7ca5743a260, v6.16)";
    /// `kthread->started`, set after a new kthread's first wakeup, and
    /// `WARN_ON_ONCE(kthread->started)` in `kthread_bind()` (v6.14 affinity series).
    kthread_started: bool = [OFF, OFF, OFF, OFF, OFF, OFF, OFF, OFF, ON, ON]
        "kthread: WARN_ON_ONCE(kthread->started) in kthread_bind (v6.14)";
    /// `__kthread_bind_mask()` binds with `set_cpus_allowed_force()`, under `p->pi_lock` and the
    /// task's rq lock (the sched_change rework, after v6.16).
    bind_rq_lock: bool = [OFF, OFF, OFF, OFF, OFF, OFF, OFF, OFF, OFF, ON]
        "kthread: __kthread_bind takes the rq lock too, set_cpus_allowed_force (after v6.16)";

}

/// A barrier switch and where its barrier is: what `parkrace barriers` removes one at a time.
#[derive(Debug)]
pub struct Barrier {
    /// Its switch in [`SWITCHES`].
    pub switch: &'static str,
    /// The kernel function and what the barrier orders.
    pub site: &'static str,
    /// Whether the variant's code has the site at all.
    pub applies: fn(&Variant) -> bool,
}

/// The barriers of the protocol and the scheduler it leans on (model.md m.2), in the order
/// `parkrace barriers` reports them.
pub static BARRIERS: &[Barrier] = &[
    Barrier {
        switch: "mb_parkme",
        site: "__kthread_parkme: set_current_state(TASK_PARKED) orders the store before test_bit(SHOULD_PARK)",
        applies: |v| v.parkme_store == ParkmeStore::Mb,
    },
    Barrier {
        switch: "mb_smpboot",
        site: "smpboot_thread_fn: set_current_state(TASK_INTERRUPTIBLE) orders the store before kthread_should_park()",
        applies: |_| true,
    },
    Barrier {
        switch: "mb_ttwu",
        site: "try_to_wake_up: smp_mb__after_spinlock() orders the waker's stores before its load of p->state",
        applies: |_| true,
    },
    Barrier {
        switch: "rmb_ttwu_on_rq",
        site: "try_to_wake_up: smp_rmb() orders the load of p->state before p->on_rq",
        applies: |_| true,
    },
    Barrier {
        switch: "rmb_ttwu_on_cpu",
        site: "try_to_wake_up: smp_rmb() orders the load of p->on_rq before p->on_cpu",
        applies: |_| true,
    },
    Barrier {
        switch: "acq_ttwu_on_cpu",
        site: "try_to_wake_up: smp_cond_load_acquire(&p->on_cpu) pairs with finish_task_switch's release",
        applies: |_| true,
    },
    Barrier {
        switch: "mb_schedule",
        site: "__schedule: smp_mb__after_spinlock() orders the caller's state store before the switch",
        applies: |_| true,
    },
    Barrier {
        switch: "rel_finish_on_cpu",
        site: "finish_task_switch: smp_store_release(&prev->on_cpu, 0) publishes prev's switch-out",
        applies: |_| true,
    },
    Barrier {
        switch: "mb_is_parked",
        site: "__kthread_parkme/kthread_unpark: test_and_{set,clear}_bit(KTHREAD_IS_PARKED) are fully ordered",
        applies: |v| v.is_parked_bit,
    },
    Barrier {
        switch: "mb_wti_sleep",
        site: "wait_task_inactive: set_current_state(TASK_UNINTERRUPTIBLE) before the one-tick sleep",
        applies: |_| true,
    },
];

/// Whether switch `name` is a barrier switch (on unless a switch list turns it off).
pub fn is_barrier(name: &str) -> bool {
    BARRIERS.iter().any(|b| b.switch == name)
}

/// The scheduler switches (model.md 0.3), with the kernel-side changes of the v6.x stacks
/// (`kthread_started`, `bind_rq_lock`): off unless a switch list or a preset turns them on.
pub const SCHED_SWITCHES: &[&str] = &[
    "wakelist",
    "wti_state_mask",
    "wti_pi_lock",
    "delayed_dequeue",
    "wti_force_dequeue",
    "kthread_started",
    "bind_rq_lock",
];

/// Whether switch `name` is a scheduler switch.
pub fn is_sched(name: &str) -> bool {
    SCHED_SWITCHES.contains(&name)
}

/// Whether `name=value` goes without saying in a switch string: a barrier that is on, a
/// scheduler change that is off (the switch strings, soak keys and repro files written before
/// those switches existed stay what they were, and read back the same).
pub fn is_implicit(name: &str, value: &str) -> bool {
    (is_barrier(name) && value == "on") || (is_sched(name) && value == "off")
}

impl Barrier {
    /// Whether the barrier is in `v`: its site exists and its switch is on.
    pub fn present(&self, v: &Variant) -> bool {
        (self.applies)(v)
            && SWITCHES
                .iter()
                .find(|s| s.name == self.switch)
                .is_some_and(|s| s.get(v) == "on")
    }

    /// `v` with this barrier removed.
    pub fn removed(&self, v: Variant) -> Variant {
        let mut v = v;
        v.set(self.switch, "off").expect("a barrier is a switch");
        v
    }
}

impl Default for Variant {
    fn default() -> Self {
        Preset::V5.variant()
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let names: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
                format!("unknown preset '{s}' (expected {})", names.join(" "))
            })
    }
}

impl Variant {
    /// The preset whose switches are exactly these, if any.
    pub fn preset(&self) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.variant() == *self)
    }

    /// Set one switch by name.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let name = name.trim();
        match SWITCHES.iter().find(|s| s.name == name) {
            Some(s) => s.set(self, value),
            None => Err(format!("unknown switch '{name}' (see `parkrace variants`)")),
        }
    }

    /// The switches as `name=value` pairs, in [`SWITCHES`] order.
    pub fn switches(&self) -> Vec<(&'static str, String)> {
        SWITCHES
            .iter()
            .map(|s| (s.name, s.get(self).to_string()))
            .collect()
    }

    /// The full switch string, e.g. `parkme_store=special,is_parked_bit=off,...`. A barrier
    /// switch is named only when off (every kernel had its barriers: on is the default, and
    /// the strings written before the barrier switches existed stay what they were).
    pub fn switch_string(&self) -> String {
        self.switches()
            .iter()
            .filter(|(k, v)| !is_implicit(k, v))
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Its name in reports: its preset's name, or, for a switch set that is no preset, the
    /// nearest preset (fewest switches differing; the later one on a tie) with the switches
    /// that differ: `V5:park_wti=off`. It parses back to the same switch set.
    pub fn label(&self) -> String {
        if let Some(p) = self.preset() {
            return p.name().to_string();
        }
        let mine = self.switches();
        let diff = |p: Preset| -> Vec<String> {
            mine.iter()
                .zip(p.variant().switches())
                .filter(|(a, b)| a.1 != b.1)
                .map(|(a, _)| format!("{}={}", a.0, a.1))
                .collect()
        };
        let base = Preset::ALL
            .into_iter()
            .rev()
            .min_by_key(|&p| diff(p).len())
            .expect("there are presets");
        format!("{}:{}", base.name(), diff(base).join(","))
    }
}

impl FromStr for Variant {
    type Err = String;
    /// `V2`, `V3:park_wti=off` (a preset with overrides) or a full `name=value,...` list naming
    /// every switch (a partial list has no base to take the rest from: it is refused).
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty variant".into());
        }
        let (mut v, rest) = match s.split_once(':') {
            Some((p, rest)) => (p.parse::<Preset>()?.variant(), rest),
            None if !s.contains('=') => return Ok(s.parse::<Preset>()?.variant()),
            None => (Preset::V0.variant(), s),
        };
        let mut named = Vec::new();
        for pair in rest.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, val) = pair
                .split_once('=')
                .ok_or_else(|| format!("expected name=value in variant, got '{pair}'"))?;
            v.set(k, val)?;
            named.push(k.trim().to_ascii_lowercase());
        }
        if !s.contains(':') {
            let missing: Vec<&str> = SWITCHES
                .iter()
                .map(|sw| sw.name)
                .filter(|n| !is_barrier(n) && !is_sched(n) && !named.iter().any(|m| m == n))
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "variant '{s}' does not set {}: start from a preset (e.g. V5:{s}) or name \
                     every switch",
                    missing.join(", ")
                ));
            }
        }
        Ok(v)
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_round_trip_through_their_switch_strings() {
        for p in Preset::ALL {
            let v = p.variant();
            let parsed: Variant = v.switch_string().parse().unwrap();
            assert_eq!(parsed, v, "{p}");
            assert_eq!(parsed.preset(), Some(p));
            assert_eq!(p.name().parse::<Variant>().unwrap(), v);
        }
    }

    #[test]
    fn presets_are_distinct_and_differ_as_the_commits_did() {
        for (i, a) in Preset::ALL.iter().enumerate() {
            for b in &Preset::ALL[i + 1..] {
                assert_ne!(a.variant(), b.variant(), "{a} vs {b}");
            }
        }
        let v3 = Preset::V3.variant();
        let v3b = Preset::V3b.variant();
        assert!(v3.complete_all && v3.unpark_reinit && !v3.park_ebusy);
        assert!(!v3b.complete_all && !v3b.unpark_reinit && v3b.park_ebusy);
        assert_eq!(Preset::V2.variant().completer, Completer::FinishTaskSwitch);
    }

    #[test]
    fn the_scheduler_switches_are_the_v6_stacks_changes_and_off_in_2018() {
        let v5 = Preset::V5.variant().switches();
        for p in Preset::ALL {
            let sw = p.variant().switches();
            for ((name, value), (_, v5_value)) in sw.iter().zip(&v5) {
                if is_sched(name) && p.sched() == "v4.15-v4.19" {
                    assert_eq!(value, "off", "{p} {name}");
                }
                // A v6.x stack is V5's protocol: it differs from V5 by scheduler switches only.
                if p.sched() != "v4.15-v4.19" && value != v5_value {
                    assert!(is_sched(name), "{p} {name}");
                }
            }
        }
        for name in SCHED_SWITCHES {
            assert!(SWITCHES.iter().any(|s| s.name == *name), "{name}");
            assert_eq!(
                Preset::Mainline
                    .variant()
                    .switches()
                    .iter()
                    .find(|s| s.0 == *name)
                    .unwrap()
                    .1,
                "on"
            );
        }
    }

    #[test]
    fn overrides_and_errors() {
        let v: Variant = "V3:park_wti=off".parse().unwrap();
        assert!(!v.park_wti);
        assert_eq!(v.preset(), None);
        assert!("V9".parse::<Variant>().is_err());
        assert!("V3:bogus=on".parse::<Variant>().is_err());
        assert!("V3:park_wti=maybe".parse::<Variant>().is_err());
    }
}
