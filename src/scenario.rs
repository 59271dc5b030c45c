//! Scenarios: who runs where and what the controller does (model.md section f), as data.
//!
//! The kthread K is an smpboot per-cpu thread (model.md b.10) bound to `kthread_cpu`; the controller C
//! runs `ops` in order on `controller_cpu` (park/unpark/stop calls on one kthread are serialised
//! by their caller, model.md c). Optional parties: a third-party waker W (softirq-raise style
//! `wake_up_process`, in interrupt context), an extra task X sharing K's CPU, the CPU stopper for
//! hotplug.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One controller operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `kthread_park(K)`.
    Park,
    /// `kthread_unpark(K)`.
    Unpark,
    /// `kthread_stop(K)`.
    Stop,
    /// `kthread_create_on_cpu` completion wait + `kthread_bind` (K starts fresh, model.md b.9).
    Create,
    /// `takedown_cpu(K's CPU)` step 3: stop_machine(take_cpu_down) with task migration (b.12).
    Takedown,
    /// Bring K's CPU back online, then `kthread_unpark(K)` (smpboot_unpark_threads).
    Online,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Park => "park",
            Op::Unpark => "unpark",
            Op::Stop => "stop",
            Op::Create => "create",
            Op::Takedown => "takedown",
            Op::Online => "online",
        })
    }
}

/// Where K starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KStart {
    /// Created, bound, set up (status ACTIVE): at the top of `smpboot_thread_fn`'s loop.
    Loop,
    /// Never run: starts at `kthread()` entry, queued on the controller's CPU (model.md b.9, h.10).
    Fresh,
}

/// The memory model an execution runs under (model.md m): which stores a load may read.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Memory {
    /// Sequential consistency: every load reads the latest store (the model's semantics
    /// before weak memory, exactly).
    #[default]
    Sc,
    /// x86-TSO: a store may stay in its CPU's store buffer while later loads go ahead;
    /// locked operations and fences drain it.
    Tso,
    /// An operational approximation of the Linux-kernel memory model (LKMM): stores reach
    /// other CPUs late and in any order, loads may read older stores, unless a barrier,
    /// release/acquire, a fully ordered RMW or a lock orders them.
    Lkmm,
}

impl Memory {
    pub const ALL: [Memory; 3] = [Memory::Sc, Memory::Tso, Memory::Lkmm];

    pub fn name(self) -> &'static str {
        match self {
            Memory::Sc => "sc",
            Memory::Tso => "tso",
            Memory::Lkmm => "lkmm",
        }
    }

    /// Whether loads may read other than the latest store.
    pub fn is_weak(self) -> bool {
        self != Memory::Sc
    }
}

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Memory {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Memory::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown memory model '{s}' (expected sc, tso or lkmm)"))
    }
}

/// A complete scenario description.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    /// The model.md row or section the scenario reproduces.
    pub about: String,
    pub cpus: usize,
    pub controller_cpu: usize,
    pub kthread_cpu: usize,
    pub kthread_start: KStart,
    pub ops: Vec<Op>,
    /// A third-party waker W: raises work for K and calls `wake_up_process(K)` once.
    pub waker: bool,
    /// An extra task X runnable on K's CPU (it does `extra_work` steps, then exits).
    pub extra: bool,
    /// CONFIG_PREEMPT: involuntary preemption at preemptible points.
    pub preempt: bool,
    /// How many preemptions (ticks, wakeup preemptions) may be injected.
    pub budget: u32,
    /// IRQ-return preemption inside schedule_preempt_disabled's gap (model.md h.5). Off by default.
    pub irq_gap: bool,
    /// Step bound: more model steps than this in one execution is a livelock (I7).
    pub max_steps: u64,
    /// The memory model (model.md m). Absent in files written before weak memory: `sc`.
    #[serde(default)]
    pub memory: Memory,
}

/// Step work of the extra task X.
pub const EXTRA_WORK: u32 = 3;

/// Default step bound.
pub const DEFAULT_MAX_STEPS: u64 = 4000;

/// The largest step bound a scenario may set (250 times the default): past it a livelock
/// would run for hours before I7 reports it.
pub const MAX_STEP_BOUND: u64 = 1_000_000;

/// The most injected preemptions a scenario may allow (the generators use 1 to 3; the
/// bounded searches go to 8).
pub const MAX_BUDGET: u32 = 16;

impl Scenario {
    fn base(name: &str, about: &str, cpus: usize, ops: &[Op]) -> Scenario {
        Scenario {
            name: name.to_string(),
            about: about.to_string(),
            cpus,
            controller_cpu: 0,
            kthread_cpu: cpus - 1,
            kthread_start: KStart::Loop,
            ops: ops.to_vec(),
            waker: false,
            extra: false,
            preempt: false,
            budget: 0,
            irq_gap: false,
            max_steps: DEFAULT_MAX_STEPS,
            memory: Memory::Sc,
        }
    }

    fn preempting(mut self, budget: u32) -> Scenario {
        self.preempt = true;
        self.budget = budget;
        self
    }

    /// The named scenarios, one per row of model.md (f) plus d.8 and the fresh-thread path (h.10).
    pub fn named() -> Vec<Scenario> {
        use Op::*;
        let mut v = vec![
            Scenario::base(
                "park",
                "f row 1: V0/V1 early return (benign), 2 CPUs",
                2,
                &[Park],
            ),
            Scenario::base(
                "park-unpark",
                "f rows 2-3, d.1/d.2: the seed's race (park; unpark), 2 CPUs",
                2,
                &[Park, Unpark],
            ),
            Scenario {
                waker: true,
                ..Scenario::base(
                    "third-party-waker",
                    "f row 4: park + a third-party wake_up_process (d.2 variant)",
                    2,
                    &[Park],
                )
            },
            Scenario {
                extra: true,
                ..Scenario::base(
                    "preempt-parked",
                    "f row 5, d.3: Oleg's preemption early completion; K and X share CPU1",
                    2,
                    &[Park],
                )
                .preempting(2)
            },
            Scenario::base(
                "stale-completion",
                "f row 6, d.4: park; unpark; park on one CPU",
                1,
                &[Park, Unpark, Park],
            )
            .preempting(3),
            Scenario::base(
                "wti-latency",
                "f row 7, d.5: wakeup preemption -> one-tick sleep in park",
                1,
                &[Park],
            )
            .preempting(2),
            Scenario::base(
                "stop-unparked",
                "f row 8, d.6: kthread_stop of a never-parked per-cpu thread",
                1,
                &[Stop],
            ),
            Scenario::base(
                "hotplug",
                "f row 9, b.12: park; takedown_cpu; online (unpark)",
                2,
                &[Park, Takedown, Online],
            ),
            Scenario::base(
                "park-unpark-park",
                "d.8: double complete / stale completion, 2 CPUs, no preemption",
                2,
                &[Park, Unpark, Park],
            ),
            Scenario {
                kthread_start: KStart::Fresh,
                ..Scenario::base(
                    "create-park",
                    "b.9/b.11, h.10: create, kthread_bind, park a never-started thread, unpark",
                    1,
                    &[Create, Park, Unpark],
                )
                .preempting(2)
            },
        ];
        for s in &mut v {
            s.kthread_cpu = s.cpus - 1;
        }
        v
    }

    /// A rough guess at how large its state graph is, to start the largest searches of a
    /// batch first (`verify`'s workers then end together): injected preemptions multiply it
    /// most, then an extra task or a third-party waker, then operations and CPUs. Only an
    /// order, never a verdict.
    pub fn search_weight(&self) -> u64 {
        let mut w = (1 + self.ops.len() as u64) * self.cpus as u64;
        w <<= self.budget.min(16);
        if self.extra {
            w *= 4;
        }
        if self.waker {
            w *= 4;
        }
        if self.memory != Memory::Sc {
            w *= 16;
        }
        w
    }

    /// Its name in tables: `park-unpark`, or `park-unpark@lkmm` under a weak memory model.
    pub fn label(&self) -> String {
        if self.memory.is_weak() {
            format!("{}@{}", self.name, self.memory)
        } else {
            self.name.clone()
        }
    }

    /// A named scenario, or `random-SEED` for a generated one; `NAME@MEMORY` (e.g.
    /// `park-unpark@lkmm`) runs it under that memory model.
    pub fn by_name(name: &str) -> Result<Scenario, String> {
        if let Some((base, mem)) = name.rsplit_once('@') {
            let mut s = Scenario::by_name(base)?;
            s.memory = mem.parse()?;
            return Ok(s);
        }
        if let Some(seed) = name.strip_prefix("random-") {
            let seed: u64 = seed
                .parse()
                .map_err(|_| format!("bad random scenario seed in '{name}'"))?;
            return Ok(Scenario::random(seed));
        }
        Scenario::named()
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| {
                let names: Vec<String> = Scenario::named().into_iter().map(|s| s.name).collect();
                format!(
                    "unknown scenario '{name}' (expected one of {} or random-SEED)",
                    names.join(", ")
                )
            })
    }

    /// A random scenario from a seed: a legal operation sequence for one controller (the caller
    /// contract of model.md c: park and unpark alternate, stop last), an optional third-party waker,
    /// an optional extra task on K's CPU, preemption on or off with a budget.
    pub fn random(seed: u64) -> Scenario {
        let mut r = SplitMix(seed ^ 0x5eed_5eed_5eed_5eed);
        let cpus = 1 + r.below(2) as usize;
        let fresh = r.below(4) == 0;
        let mut ops = Vec::new();
        if fresh {
            ops.push(Op::Create);
        }
        let n = 1 + r.below(4);
        let mut parked = false;
        for _ in 0..n {
            ops.push(if parked { Op::Unpark } else { Op::Park });
            parked = !parked;
        }
        if r.below(4) == 0 {
            ops.push(Op::Stop);
        }
        let preempt = r.below(2) == 0;
        let mut s = Scenario {
            name: format!("random-{seed}"),
            about: "generated".into(),
            cpus,
            controller_cpu: 0,
            kthread_cpu: cpus - 1,
            kthread_start: if fresh { KStart::Fresh } else { KStart::Loop },
            ops,
            waker: r.below(3) == 0,
            extra: r.below(3) == 0,
            preempt,
            budget: if preempt { 1 + r.below(3) as u32 } else { 0 },
            irq_gap: false,
            max_steps: DEFAULT_MAX_STEPS,
            memory: Memory::Sc,
        };
        if s.extra && s.cpus == 1 && !s.preempt {
            s.extra = r.below(2) == 0;
        }
        s
    }

    /// Whether the operations can run back to back in one world (native stress): K starts in
    /// its smpboot loop, the controller only parks and unparks and ends with K unparked (where
    /// it began), and no party acts only once (the waker W, the extra task X).
    pub fn repeatable(&self) -> bool {
        !self.waker
            && !self.extra
            && self.kthread_start == KStart::Loop
            && self.ops.iter().all(|o| matches!(o, Op::Park | Op::Unpark))
            && self.ops.last() == Some(&Op::Unpark)
    }

    /// A one-line description: CPUs, parties, operations, preemption.
    pub fn describe(&self) -> String {
        let ops: Vec<String> = self.ops.iter().map(|o| o.to_string()).collect();
        let mut parts = vec![format!(
            "{} CPU{}",
            self.cpus,
            if self.cpus > 1 { "s" } else { "" }
        )];
        parts.push(format!("C@{} K@{}", self.controller_cpu, self.kthread_cpu));
        if self.kthread_start == KStart::Fresh {
            parts.push("K fresh".into());
        }
        if self.waker {
            parts.push("W".into());
        }
        if self.extra {
            parts.push(format!("X@{}", self.kthread_cpu));
        }
        parts.push(format!("C: {}", ops.join("; ")));
        parts.push(if self.preempt {
            format!(
                "PREEMPT budget {}{}",
                self.budget,
                if self.irq_gap { " +irq-gap" } else { "" }
            )
        } else {
            "no preemption".into()
        });
        if self.memory.is_weak() {
            parts.push(format!("memory {}", self.memory));
        }
        parts.join(", ")
    }

    /// Check that the scenario is one the model can run (used on repro files and CLI input).
    pub fn validate(&self) -> Result<(), String> {
        if self.cpus == 0 || self.cpus > 4 {
            return Err(format!("scenario {}: cpus must be 1 to 4", self.name));
        }
        if self.controller_cpu >= self.cpus || self.kthread_cpu >= self.cpus {
            return Err(format!("scenario {}: CPU out of range", self.name));
        }
        if self.ops.is_empty() || self.ops.len() > 16 {
            return Err(format!("scenario {}: 1 to 16 operations", self.name));
        }
        if (self.kthread_start == KStart::Fresh) != (self.ops[0] == Op::Create)
            || self.ops[1..].contains(&Op::Create)
        {
            return Err(format!(
                "scenario {}: create comes first, exactly when K starts fresh",
                self.name
            ));
        }
        if let Some(i) = self.ops.iter().position(|o| *o == Op::Stop)
            && i + 1 != self.ops.len()
        {
            return Err(format!(
                "scenario {}: stop must be the last operation",
                self.name
            ));
        }
        if (self.ops.contains(&Op::Takedown) || self.ops.contains(&Op::Online))
            && (self.cpus < 2 || self.kthread_cpu == self.controller_cpu)
        {
            return Err(format!(
                "scenario {}: hotplug needs K on a CPU of its own",
                self.name
            ));
        }
        // takedown_cpu parks the CPU's smpboot threads first (smpboot_park_threads), and only
        // bringing the CPU back (or nothing) follows a takedown (model.md b.12): park; takedown;
        // online.
        for (i, op) in self.ops.iter().enumerate() {
            let prev = i.checked_sub(1).map(|j| self.ops[j]);
            let ok = match op {
                Op::Takedown => prev == Some(Op::Park),
                Op::Online => prev == Some(Op::Takedown),
                _ => prev != Some(Op::Takedown),
            };
            if !ok {
                return Err(format!(
                    "scenario {}: hotplug runs as park; takedown; online",
                    self.name
                ));
            }
        }
        if self.max_steps == 0 || self.max_steps > MAX_STEP_BOUND {
            return Err(format!(
                "scenario {}: max_steps must be 1 to {MAX_STEP_BOUND}, got {}",
                self.name, self.max_steps
            ));
        }
        if self.budget > MAX_BUDGET {
            return Err(format!(
                "scenario {}: budget must be 0 to {MAX_BUDGET}, got {}",
                self.name, self.budget
            ));
        }
        Ok(())
    }
}

/// A tiny deterministic generator for scenario generation and for sampling schedules that are
/// then replayed as bytes (never for the randomness of a running model).
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(pub u64);

impl SplitMix {
    /// The increment of the state per output.
    pub const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

    /// The output function of a state.
    pub fn finalize(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(Self::GAMMA);
        Self::finalize(self.0)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_and_random_scenarios_are_valid() {
        for s in Scenario::named() {
            s.validate().unwrap();
        }
        for seed in 0..500 {
            let s = Scenario::random(seed);
            s.validate().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert_eq!(Scenario::by_name(&s.name).unwrap(), s);
        }
    }

    #[test]
    fn the_searches_with_injected_preemptions_start_first() {
        let w = |n: &str| Scenario::by_name(n).unwrap().search_weight();
        // The two scenarios whose searches took longest in the README's runs lead.
        assert!(w("preempt-parked") > w("stale-completion"));
        assert!(w("stale-completion") > w("third-party-waker"));
        assert!(w("third-party-waker") > w("park-unpark-park"));
        assert!(w("park-unpark-park") > w("park"));
    }

    #[test]
    fn hotplug_must_run_as_park_takedown_online() {
        let h = Scenario::by_name("hotplug").unwrap();
        assert_eq!(h.ops, vec![Op::Park, Op::Takedown, Op::Online]);
        for bad in [
            vec![Op::Takedown],
            vec![Op::Takedown, Op::Online],
            vec![Op::Park, Op::Takedown, Op::Unpark],
            vec![Op::Park, Op::Online],
        ] {
            let s = Scenario {
                ops: bad.clone(),
                ..h.clone()
            };
            assert!(s.validate().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn only_scenarios_that_end_where_they_began_repeat() {
        let repeat: Vec<String> = Scenario::named()
            .into_iter()
            .filter(Scenario::repeatable)
            .map(|s| s.name)
            .collect();
        assert_eq!(repeat, vec!["park-unpark"]);
    }

    #[test]
    fn unknown_names_are_errors() {
        assert!(Scenario::by_name("nope").is_err());
        assert!(Scenario::by_name("random-x").is_err());
    }
}
