//! The event trace: one entry per thing a model step read or wrote, in step order
//! (model.md e: "a violation carries the event trace").

use super::types::{CompId, CpuId, LockId, MemLoc, Tid, flag_name, state_name};
use crate::oracle::Oracle;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// What one model step did.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum What {
    /// A step with nothing else to say.
    Note {
        text: Cow<'static, str>,
    },
    StateRead {
        task: Tid,
        value: u32,
    },
    StateWrite {
        task: Tid,
        old: u32,
        new: u32,
    },
    OnRq {
        task: Tid,
        old: u8,
        new: u8,
    },
    OnCpu {
        task: Tid,
        new: bool,
    },
    OnCpuRead {
        task: Tid,
        value: bool,
    },
    OnRqRead {
        task: Tid,
        value: u8,
    },
    Lock {
        lock: LockKey,
    },
    LockBusy {
        lock: LockKey,
    },
    Unlock {
        lock: LockKey,
    },
    FlagSet {
        bit: u32,
    },
    FlagClear {
        bit: u32,
    },
    FlagTest {
        bit: u32,
        value: bool,
    },
    FlagTestAndSet {
        bit: u32,
        old: bool,
    },
    FlagTestAndClear {
        bit: u32,
        old: bool,
    },
    Done {
        comp: CompId,
        old: u32,
        new: u32,
    },
    DoneRead {
        comp: CompId,
        value: u32,
    },
    Switch {
        from: Tid,
        to: Tid,
        preempt: bool,
    },
    Preempt {
        tick: bool,
    },
    NeedResched {
        task: Tid,
    },
    SetCpu {
        task: Tid,
        // Not `cpu`: the event's own `cpu` field sits beside it in the same JSON object.
        #[serde(rename = "to_cpu")]
        cpu: CpuId,
    },
    Affinity {
        task: Tid,
        mask: u64,
    },
    /// EEVDF delayed dequeue (v6.12): `task` blocks but stays queued (`delayed`), or a
    /// delayed task is finally dequeued or requeued by a wakeup.
    Delayed {
        task: Tid,
        delayed: bool,
    },
    Return {
        value: i64,
    },
    Violation {
        oracle: Oracle,
    },
    /// Weak memory (model.md m.5): the load just recorded read an older store of `loc` than
    /// the newest, `by`'s store of `latest` at step `at`, stepping `back` stores back.
    Stale {
        loc: MemLoc,
        latest: i64,
        by: Tid,
        at: u64,
        back: u32,
        /// The missed store was already published by a full barrier; this CPU has had none
        /// since.
        #[serde(default)]
        published: bool,
    },
    /// Weak memory: `by`'s store of `value` to `loc` at step `at`, which a load missed, is now
    /// published: every full barrier from here on sees it.
    Visible {
        loc: MemLoc,
        value: i64,
        by: Tid,
        at: u64,
    },
    /// Weak memory: the store just recorded is placed before `by`'s newer store of `value` at
    /// step `at` in `loc`'s coherence order (that one stays the value).
    Reordered {
        loc: MemLoc,
        value: i64,
        by: Tid,
        at: u64,
        back: u32,
    },
    /// A memory barrier (recorded under a weak memory model only).
    Barrier {
        fence: Cow<'static, str>,
    },
    /// A litmus test's load of variable `var` (`loc` names it).
    VarRead {
        var: usize,
        value: i64,
    },
    /// A litmus test's store (or the store part of an RMW) to variable `var`.
    VarWrite {
        var: usize,
        value: i64,
    },
}

/// A shared protocol variable: what the race oracles, the strategies and the signatures
/// care about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Var {
    /// `p->state`.
    State(Tid),
    /// `p->on_rq`.
    OnRq(Tid),
    /// `p->on_cpu`.
    OnCpu(Tid),
    /// A `struct kthread` flag bit.
    Flag(u32),
    /// A completion's `done`.
    Done(CompId),
}

/// How an access touches its variable (values widened to `u64`, booleans as 0 and 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A load that saw this value.
    Read(u64),
    /// A store of `new` (`old`, where the event reports it, is what it replaced).
    Write { old: Option<u64>, new: u64 },
    /// An atomic read-modify-write (`test_and_set_bit`, `test_and_clear_bit`).
    Rmw { old: u64, new: u64 },
}

/// An access to shared protocol state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Access {
    pub var: Var,
    pub op: Op,
}

/// What an event is: the one classification every consumer of events uses (the focus
/// strategy's hints, libFuzzer's feedback, the soak's race signatures, the race diagram's
/// brief form). [`What::class`] matches every event kind without a wildcard, so a new kind
/// does not compile until it is classified here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// A read or write of shared protocol state.
    Access(Access),
    /// A lock taken or released (lock bookkeeping).
    Lock,
    /// A lock found busy: the thread spins.
    Contended,
    /// Scheduler bookkeeping: a switch, a preemption, need_resched, a task's CPU or affinity.
    Sched,
    /// A step with nothing to record but its name.
    Note,
    /// A function's return value.
    Return,
    /// An oracle's verdict.
    Verdict,
    /// Weak memory (model.md m.5): a stale read, a store becoming visible to every CPU, a
    /// store placed before a newer one, a barrier.
    Memory,
}

impl What {
    /// The classification of this event (see [`Class`]).
    pub fn class(&self) -> Class {
        let read = |var, v: u64| {
            Class::Access(Access {
                var,
                op: Op::Read(v),
            })
        };
        let write = |var, old: Option<u64>, new: u64| {
            Class::Access(Access {
                var,
                op: Op::Write { old, new },
            })
        };
        let rmw = |var, old: bool, new: u64| {
            Class::Access(Access {
                var,
                op: Op::Rmw {
                    old: u64::from(old),
                    new,
                },
            })
        };
        match *self {
            What::StateRead { task, value } => read(Var::State(task), u64::from(value)),
            What::StateWrite { task, old, new } => {
                write(Var::State(task), Some(u64::from(old)), u64::from(new))
            }
            What::OnRq { task, old, new } => {
                write(Var::OnRq(task), Some(u64::from(old)), u64::from(new))
            }
            What::OnRqRead { task, value } => read(Var::OnRq(task), u64::from(value)),
            What::OnCpu { task, new } => write(Var::OnCpu(task), None, u64::from(new)),
            What::OnCpuRead { task, value } => read(Var::OnCpu(task), u64::from(value)),
            What::FlagSet { bit } => write(Var::Flag(bit), None, 1),
            What::FlagClear { bit } => write(Var::Flag(bit), None, 0),
            What::FlagTest { bit, value } => read(Var::Flag(bit), u64::from(value)),
            What::FlagTestAndSet { bit, old } => rmw(Var::Flag(bit), old, 1),
            What::FlagTestAndClear { bit, old } => rmw(Var::Flag(bit), old, 0),
            What::Done { comp, old, new } => {
                write(Var::Done(comp), Some(u64::from(old)), u64::from(new))
            }
            What::DoneRead { comp, value } => read(Var::Done(comp), u64::from(value)),
            What::Lock { .. } | What::Unlock { .. } => Class::Lock,
            What::LockBusy { .. } => Class::Contended,
            What::Switch { .. }
            | What::Preempt { .. }
            | What::NeedResched { .. }
            | What::SetCpu { .. }
            | What::Affinity { .. }
            | What::Delayed { .. } => Class::Sched,
            What::Note { .. } | What::VarRead { .. } | What::VarWrite { .. } => Class::Note,
            What::Stale { .. }
            | What::Visible { .. }
            | What::Reordered { .. }
            | What::Barrier { .. } => Class::Memory,
            What::Return { .. } => Class::Return,
            What::Violation { .. } => Class::Verdict,
        }
    }

    /// The shared access this event makes, if it makes one.
    pub fn access(&self) -> Option<Access> {
        match self.class() {
            Class::Access(a) => Some(a),
            _ => None,
        }
    }
}

/// A serialisable lock name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockKey {
    Pi(Tid),
    Rq(CpuId),
    Wq(CompId),
    Var(usize),
}

impl From<LockId> for LockKey {
    fn from(l: LockId) -> Self {
        match l {
            LockId::Pi(t) => LockKey::Pi(t),
            LockId::Rq(c) => LockKey::Rq(c),
            LockId::Wq(c) => LockKey::Wq(c),
            LockId::Var(v) => LockKey::Var(v),
        }
    }
}

/// One trace entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The model step this event belongs to (steps are numbered from 1).
    pub step: u64,
    /// The model thread that executed the step.
    #[serde(rename = "thread")]
    pub task: Tid,
    /// The CPU it executed on (`None` for agents).
    pub cpu: Option<CpuId>,
    /// The kernel function the step belongs to.
    pub func: Cow<'static, str>,
    #[serde(flatten)]
    pub what: What,
}

impl Event {
    pub fn violation(step: u64, task: Tid, oracle: Oracle) -> Self {
        Event {
            step,
            task,
            cpu: None,
            func: Cow::Borrowed("oracle"),
            what: What::Violation { oracle },
        }
    }
}

/// Human-readable rendering of an event's action, with task names resolved.
pub fn describe(what: &What, names: &[String], comps: &[String]) -> String {
    let n = |t: &Tid| names.get(*t).cloned().unwrap_or_else(|| format!("t{t}"));
    let c = |x: &CompId| comps.get(*x).cloned().unwrap_or_else(|| format!("c{x}"));
    let lk = |l: &LockKey| match l {
        LockKey::Pi(t) => format!("pi_lock({})", n(t)),
        LockKey::Rq(cpu) => format!("rq{cpu}->lock"),
        LockKey::Wq(x) => format!("{}.wait.lock", c(x)),
        LockKey::Var(v) => format!("lock{v}"),
    };
    match what {
        What::Note { text } => text.to_string(),
        What::StateRead { task, value } => {
            format!("reads {}.state == {}", n(task), state_name(*value))
        }
        What::StateWrite { task, old, new } => {
            format!(
                "{}.state := {} (was {})",
                n(task),
                state_name(*new),
                state_name(*old)
            )
        }
        What::OnRq { task, old, new } => format!("{}.on_rq := {new} (was {old})", n(task)),
        What::OnCpu { task, new } => format!("{}.on_cpu := {}", n(task), *new as u8),
        What::OnCpuRead { task, value } => format!("reads {}.on_cpu == {}", n(task), *value as u8),
        What::OnRqRead { task, value } => format!("reads {}.on_rq == {value}", n(task)),
        What::Lock { lock } => format!("lock {}", lk(lock)),
        What::LockBusy { lock } => format!("{} busy, spins", lk(lock)),
        What::Unlock { lock } => format!("unlock {}", lk(lock)),
        What::FlagSet { bit } => format!("set {}", flag_name(*bit)),
        What::FlagClear { bit } => format!("clear {}", flag_name(*bit)),
        What::FlagTest { bit, value } => format!("test {} == {}", flag_name(*bit), *value as u8),
        What::FlagTestAndSet { bit, old } => {
            format!("test_and_set {} (was {})", flag_name(*bit), *old as u8)
        }
        What::FlagTestAndClear { bit, old } => {
            format!("test_and_clear {} (was {})", flag_name(*bit), *old as u8)
        }
        What::Done { comp, old, new } => {
            let s = |v: u32| {
                if v == u32::MAX {
                    "MAX".to_string()
                } else {
                    v.to_string()
                }
            };
            format!("{}.done := {} (was {})", c(comp), s(*new), s(*old))
        }
        What::DoneRead { comp, value } => {
            let v = if *value == u32::MAX {
                "MAX".to_string()
            } else {
                value.to_string()
            };
            format!("reads {}.done == {v}", c(comp))
        }
        What::Switch { from, to, preempt } => format!(
            "switch {} -> {}{}",
            n(from),
            n(to),
            if *preempt { " (preempted)" } else { "" }
        ),
        What::Preempt { tick } => {
            if *tick {
                "tick: need_resched, preempt_schedule_irq".into()
            } else {
                "preempt_schedule (need_resched)".into()
            }
        }
        What::NeedResched { task } => format!("set need_resched on {}", n(task)),
        What::SetCpu { task, cpu } => format!("set_task_cpu({}, {cpu})", n(task)),
        What::Affinity { task, mask } => format!("{}.cpus_allowed := {mask:#x}", n(task)),
        What::Delayed {
            task,
            delayed: true,
        } => format!(
            "{}: not eligible, delayed dequeue (se.sched_delayed := 1, stays queued)",
            n(task)
        ),
        What::Delayed {
            task,
            delayed: false,
        } => format!("{}: se.sched_delayed := 0", n(task)),
        What::Return { value } => format!("returns {value}"),
        What::Violation { oracle } => format!("VIOLATION {oracle}"),
        What::Stale {
            loc,
            latest,
            by,
            at,
            back,
            published,
        } => format!(
            "  ^ stale{}: misses {} := {} (by {} at step {at}), {}",
            if *back > 1 {
                format!(" by {back} stores")
            } else {
                String::new()
            },
            loc_name(*loc, names, comps),
            loc_value(*loc, *latest),
            n(by),
            if *published {
                "published, but this CPU has had no full barrier since"
            } else {
                "not yet visible to this CPU"
            }
        ),
        What::Visible { loc, value, by, at } => format!(
            "publishes {} := {} (by {} at step {at}): every later full barrier sees it",
            loc_name(*loc, names, comps),
            loc_value(*loc, *value),
            n(by)
        ),
        What::Reordered {
            loc,
            value,
            by,
            at,
            back,
        } => format!(
            "  ^ coherence: ordered {back} before {} := {} (by {} at step {at}), which stays",
            loc_name(*loc, names, comps),
            loc_value(*loc, *value),
            n(by)
        ),
        What::Barrier { fence } => fence.to_string(),
        What::VarRead { var, value } => format!("reads v{var} == {value}"),
        What::VarWrite { var, value } => format!("v{var} := {value}"),
    }
}

/// A weak location by name: `K.state`, `parked.done`.
pub fn loc_name(l: MemLoc, names: &[String], comps: &[String]) -> String {
    let n = |t: Tid| {
        if t == usize::MAX {
            "init".to_string()
        } else {
            names.get(t).cloned().unwrap_or_else(|| format!("t{t}"))
        }
    };
    match l {
        MemLoc::State(t) => format!("{}.state", n(t)),
        MemLoc::OnRq(t) => format!("{}.on_rq", n(t)),
        MemLoc::OnCpu(t) => format!("{}.on_cpu", n(t)),
        MemLoc::Flags(k) => format!("kthread{k}.flags"),
        MemLoc::Done(c) => format!(
            "{}.done",
            comps.get(c).cloned().unwrap_or_else(|| format!("c{c}"))
        ),
        MemLoc::Var(v) => format!("v{v}"),
    }
}

/// A weak location's value the way a kernel developer reads it.
pub fn loc_value(l: MemLoc, v: i64) -> String {
    match l {
        MemLoc::State(_) => state_name(v as u32),
        MemLoc::Flags(_) => {
            let bits: Vec<&str> = (0..4)
                .map(|b| 1u32 << b)
                .filter(|b| v as u32 & b != 0)
                .map(flag_name)
                .collect();
            if bits.is_empty() {
                "0".into()
            } else {
                bits.join("|")
            }
        }
        _ => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(step: u64, task: Tid) -> Event {
        Event {
            step,
            task,
            cpu: None,
            func: Cow::Borrowed("f"),
            what: What::Note {
                text: Cow::Borrowed("x"),
            },
        }
    }

    #[test]
    fn rings_keep_the_last_events_of_each_task_until_frozen() {
        let mut t = Trace::rings(2, 3);
        for step in 1..=100 {
            t.push(note(step, (step % 2) as Tid));
        }
        assert_eq!(t.last().unwrap().step, 100);
        t.freeze();
        for step in 101..=105 {
            t.push(note(step, 0));
        }
        let steps: Vec<u64> = t.take().iter().map(|e| e.step).collect();
        // Task 1's last three, task 0's last three before the freeze and all five after,
        // in step order.
        assert_eq!(
            steps,
            vec![95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105]
        );

        let mut full = Trace::full();
        for step in 1..=100 {
            full.push(note(step, 0));
        }
        assert_eq!(full.take().len(), 100);
    }

    #[test]
    fn every_event_round_trips_through_json() {
        let events = [
            What::SetCpu { task: 1, cpu: 0 },
            What::StateWrite {
                task: 1,
                old: 1,
                new: 0,
            },
            What::Note {
                text: Cow::Borrowed("x"),
            },
        ];
        for what in events {
            let e = Event {
                step: 3,
                task: 2,
                cpu: Some(1),
                func: Cow::Borrowed("f"),
                what,
            };
            let json = serde_json::to_string(&e).unwrap();
            let back: Event = serde_json::from_str(&json).unwrap();
            assert_eq!(serde_json::to_string(&back).unwrap(), json);
            assert_eq!(back.cpu, Some(1));
        }
    }
}

/// The trace of one execution: every event (the controlled engines, whose traces become race
/// diagrams and repro files), or only the last events of each model thread (native stress,
/// whose executions run for hours: memory stays flat, and a violation still comes with what
/// every task did last).
#[derive(Clone, Debug)]
pub enum Trace {
    /// Every event, in step order.
    Full(Vec<Event>),
    /// A bounded ring of the last `cap` events per model thread; once `frozen` (at the first
    /// violation), nothing is dropped any more, so the violation and its epilogue are kept.
    Rings {
        cap: usize,
        rings: Vec<std::collections::VecDeque<Event>>,
        frozen: bool,
    },
    /// Only the most recent event (what a message may name): for a caller that runs a
    /// finding again to report it, and never reads the traces of the executions it searches.
    Last(Option<Event>),
}

impl Trace {
    /// A trace that keeps every event.
    pub fn full() -> Self {
        Trace::Full(Vec::with_capacity(1024))
    }

    /// A trace that keeps the last `cap` events of each of `threads` model threads.
    pub fn rings(threads: usize, cap: usize) -> Self {
        Trace::Rings {
            cap: cap.max(1),
            rings: (0..threads)
                // Grown as events come (a ring is often far from full), so that a large
                // cap costs nothing up front.
                .map(|_| std::collections::VecDeque::with_capacity(cap.clamp(1, 64)))
                .collect(),
            frozen: false,
        }
    }

    pub fn push(&mut self, e: Event) {
        match self {
            Trace::Full(v) => v.push(e),
            Trace::Last(l) => *l = Some(e),
            Trace::Rings { cap, rings, frozen } => {
                let Some(r) = rings.get_mut(e.task) else {
                    return;
                };
                if r.len() >= *cap && !*frozen {
                    r.pop_front();
                }
                r.push_back(e);
            }
        }
    }

    /// Keep every event from now on (a violation's epilogue is short: it ends when the
    /// controller's operation returns).
    pub fn freeze(&mut self) {
        if let Trace::Rings { frozen, .. } = self {
            *frozen = true;
        }
    }

    /// The most recent event.
    pub fn last(&self) -> Option<&Event> {
        match self {
            Trace::Full(v) => v.last(),
            Trace::Last(l) => l.as_ref(),
            Trace::Rings { rings, .. } => {
                rings.iter().filter_map(|r| r.back()).max_by_key(|e| e.step)
            }
        }
    }

    /// Take the events kept so far, in step order (a ring's events of one step stay in the
    /// order they happened).
    pub fn take(&mut self) -> Vec<Event> {
        match self {
            Trace::Full(v) => std::mem::take(v),
            Trace::Last(l) => l.take().into_iter().collect(),
            Trace::Rings { rings, .. } => {
                let mut all: Vec<Event> = rings.iter_mut().flat_map(|r| r.drain(..)).collect();
                all.sort_by_key(|e| e.step);
                all
            }
        }
    }
}
