//! State caching for the bounded search ([`super::bounded`], `parkrace verify`): a schedule
//! prefix that reaches a state already explored with at least as much of the bound left is
//! cut there, because every continuation from that state within the bound was explored then
//! (or is being explored: the state is on the current path, and coming back to it is a cycle,
//! which the search judges as a possible livelock).
//!
//! This folds equivalent interleavings: two orders of independent steps reach the same state,
//! and only the first is continued. It is the reduction that context bounding needs here
//! (`verify`'s default count, where every choice at which the running task blocked is free and
//! most of those choices only reorder independent steps). Partial-order reduction and context
//! bounding interact in subtle ways (Musuvathi and Qadeer, "Partial-order reduction for
//! context-bounded state exploration", MSR-TR-2007-12): a plain sleep set can prune the only
//! in-bound member of a class (Coons, Musuvathi and McKinley, OOPSLA 2013). The cache keeps
//! the bound sound the way state caching in a depth-bounded search keeps the depth: a state
//! is cut only against a visit that had as many preemptions (and delays, where they count)
//! left. Without a bound, `verify --reduce` adds sleep sets ([`super::bounded`]); a visit then
//! also records the threads asleep at it ([`Seen::Again`]).
//!
//! What a state is. The model's threads are Rust code, not data, but each one is
//! deterministic: what it does next is a function of what it has learnt from the world. So the
//! state is the world's [`World::fingerprint`]: every field a step, a wait condition or an
//! oracle reads, plus a per-thread fingerprint of everything each thread learnt (what its
//! steps returned, the only thing a step's `Fn` body can hand its thread, and its reads
//! outside steps, [`World::hist`]). Four rules keep that fingerprint as coarse as the
//! thread's real local state, so that more paths meet: a function that hands its caller only
//! its result folds to "called, returned r" when it returns ([`Current::summarize`]); an
//! outermost loop restarts it at its head, where nothing earlier is live
//! ([`Current::forget`]); a loop whose turns hand nothing on restarts it from the loop's
//! entry ([`Current::restart`]), so a spin that can go on for ever closes a cycle; and a
//! thread inside [`Kernel::wait_until`] is marked only until it returns. The scheduler adds
//! the task that ran last, where it could go on (switching away from it is what costs a
//! preemption). Fingerprints are 128 bits; a
//! collision, which would wrongly cut a prefix, has odds below 10^-20 over a billion states.
//!
//! Soundness of the cut in the stateless depth-first search: a state first reached at
//! decision `i` of some execution has its whole subtree (every schedule sharing the first `i`
//! decisions) explored before the search backtracks above `i`, so a later prefix that reaches
//! it again finds it explored. Only decisions past the replayed prefix are looked up (the
//! prefix's own states are recorded already, with the path that explored them). A state met
//! again from an earlier point of the execution's own path is a cycle ([`Seen::OnPath`]),
//! judged by the search (docs/model.md s.4); with no step in between it is only a stutter.
//!
//! How the model and the scheduler meet: the search hands each execution it runs a
//! [`Probe`](crate::harness::Probe) ([`crate::harness::Hooks`]), through which the scheduler
//! asks whether the execution is halting, fingerprints the world, or halts the execution
//! (every thread then unwinds with `Halt`, and no oracle is judged). Only executions handed a
//! probe and fingerprints pay for any of this.
//!
//! [`World::fingerprint`]: crate::runtime::world::World::fingerprint
//! [`World::hist`]: crate::runtime::world::Harness::hist
//! [`Current::summarize`]: crate::runtime::Current::summarize
//! [`Current::forget`]: crate::runtime::Current::forget
//! [`Current::restart`]: crate::runtime::Current::restart
//! [`Kernel::wait_until`]: crate::runtime::Kernel::wait_until

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The hasher of the cache's table: a fingerprint is already a uniform 128-bit hash, so its
/// two halves folded together are as good a table index as SipHash's, for no pass over it.
#[derive(Debug, Default)]
struct Spread(u64);

impl Hasher for Spread {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only fingerprints are keys; any other input is still hashed, byte by byte.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b))
                .wrapping_mul(0x0100_0000_01b3)
                .rotate_left(5);
        }
    }

    fn write_u128(&mut self, x: u128) {
        self.0 ^= x as u64 ^ (x >> 64) as u64;
    }
}

/// What a visit had left of the bound, as a pair: preemptions and delays left (or the one
/// number a bound counts, and `u32::MAX`; `u32::MAX` for what is not bounded at all).
pub type Left = (u32, u32);

/// Where a state was explored from: the first decisions of the execution that explored it,
/// named by their count and a hash of their options, and where it sat in that execution
/// (its scheduling point and the model steps before it). The model is deterministic, so an
/// execution whose first `depth` options hash the same is at this very state after them:
/// the state is on its path, and coming back to it closes a cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Visit {
    pub left: Left,
    pub depth: u32,
    pub path: u64,
    pub at: u32,
    pub steps: u64,
    /// The threads asleep at the visit (a bit per shuttle task; the reduction's sleep set,
    /// 0 without it): their moves from this state were explored elsewhere, not from here.
    pub sleep: u64,
}

/// What the cache says of a visit to a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// New, or explored before with less of the bound left: explore it (now recorded).
    Explore,
    /// Explored before with at least as much of the bound left: cut.
    Covered,
    /// Explored from an earlier point of the current execution's own path: a cycle.
    OnPath(Visit),
    /// Explored before with as much of the bound left, but with threads asleep there that
    /// are awake now (this mask, a bit per shuttle task, is who was asleep then): explore
    /// only the moves of the threads asleep then and awake now (Godefroid's state caching
    /// with sleep sets). Recorded as asleep now: those asleep at both visits.
    Again(u64),
}

/// The states explored so far, each with the visit that explored it.
///
/// A visit covers a later one when it had at least as much of the bound left: at least as
/// many preemptions, and at least as many delays. Where the later visit has more of one left,
/// it is explored again and recorded instead: any recorded visit's subtree was (or is being)
/// explored, so the cut stays sound whichever is kept, and the one kept last is the one on the
/// current path.
#[derive(Debug, Default)]
pub struct Visited {
    seen: HashMap<u128, Visit, BuildHasherDefault<Spread>>,
    /// States cut, over the search.
    pub cuts: u64,
}

impl Visited {
    /// States recorded.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Look `state` up for a visit `v` after `v.depth` decisions (at scheduling point `v.at`)
    /// of an execution whose first decisions hash, depth by depth, as `path` (`path[d]`: the
    /// first `d` options); record the visit unless it is cut or closes a cycle. Given its
    /// first decisions an execution is deterministic up to its next one, so (depth, path
    /// hash, point) names one point of the search tree.
    pub fn visit(&mut self, state: u128, v: Visit, path: &[u64]) -> Seen {
        match self.seen.get_mut(&state) {
            // Earlier on this very path: the same first decisions, and an earlier point
            // (past them, or between the same two decisions).
            Some(old)
                if (old.depth, old.at) < (v.depth, v.at)
                    && path.get(old.depth as usize) == Some(&old.path) =>
            {
                Seen::OnPath(*old)
            }
            Some(old)
                if old.left.0 >= v.left.0
                    && old.left.1 >= v.left.1
                    && old.sleep & !v.sleep == 0 =>
            {
                self.cuts += 1;
                Seen::Covered
            }
            Some(old) if old.left.0 >= v.left.0 && old.left.1 >= v.left.1 => {
                let then = old.sleep;
                *old = Visit {
                    sleep: then & v.sleep,
                    ..v
                };
                Seen::Again(then)
            }
            Some(old) => {
                *old = v;
                Seen::Explore
            }
            None => {
                self.seen.insert(state, v);
                Seen::Explore
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::world::World;

    fn at(left: Left, depth: u32, path: u64) -> Visit {
        Visit {
            left,
            depth,
            path,
            at: 0,
            steps: 0,
            sleep: 0,
        }
    }

    #[test]
    fn a_visit_with_fewer_threads_asleep_explores_only_those_awake_now() {
        let mut v = Visited::default();
        let p = [0; 8];
        let asleep = |sleep| Visit {
            sleep,
            ..at((9, 9), 1, 5)
        };
        assert_eq!(v.visit(1, asleep(0b0110), &p), Seen::Explore);
        // Asleep then: 1 and 2; now: 1, 2 and 3. Nothing awake now was not explored then.
        assert_eq!(v.visit(1, asleep(0b1110), &p), Seen::Covered);
        // Now only 1 is asleep: 2 is awake and was not explored then.
        assert_eq!(v.visit(1, asleep(0b0010), &p), Seen::Again(0b0110));
        // Recorded: asleep at both visits, so a visit with 1 asleep is covered.
        assert_eq!(v.visit(1, asleep(0b0010), &p), Seen::Covered);
        assert_eq!(v.visit(1, asleep(0), &p), Seen::Again(0b0010));
        assert_eq!(v.visit(1, asleep(0), &p), Seen::Covered);
    }

    #[test]
    fn a_state_is_covered_only_by_a_visit_that_had_as_much_bound_left() {
        let mut v = Visited::default();
        let elsewhere = [1, 2, 3, 4, 5];
        assert_eq!(v.visit(7, at((1, 0), 2, 9), &elsewhere), Seen::Explore);
        assert_eq!(v.visit(7, at((1, 0), 3, 0), &elsewhere), Seen::Covered);
        assert_eq!(v.visit(7, at((0, 0), 3, 0), &elsewhere), Seen::Covered);
        assert_eq!(
            v.visit(7, at((2, 0), 3, 0), &elsewhere),
            Seen::Explore,
            "more bound left: explore again"
        );
        assert_eq!(v.visit(7, at((2, 0), 4, 0), &elsewhere), Seen::Covered);
        assert_eq!(v.visit(8, at((0, 0), 1, 0), &elsewhere), Seen::Explore);
        assert_eq!(v.cuts, 3);
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn pairs_cover_component_by_component() {
        let mut v = Visited::default();
        let p = [0; 8];
        assert_eq!(v.visit(1, at((2, 1), 1, 5), &p), Seen::Explore);
        assert_eq!(
            v.visit(1, at((1, 2), 1, 5), &p),
            Seen::Explore,
            "fewer preemptions left, more delays: not covered"
        );
        assert_eq!(v.visit(1, at((1, 1), 1, 5), &p), Seen::Covered);
    }

    #[test]
    fn a_state_first_met_on_the_current_path_closes_a_cycle() {
        let mut v = Visited::default();
        // Recorded at depth 2 of a path whose first two options hash to 42.
        assert_eq!(v.visit(3, at((0, 0), 2, 42), &[0, 7, 42, 1]), Seen::Explore);
        // Met again deeper on a path that shares those two options: on the path.
        assert!(matches!(
            v.visit(3, at((0, 0), 5, 0), &[0, 7, 42, 1, 1, 1]),
            Seen::OnPath(o) if o.depth == 2
        ));
        // Met on a path that took another way: an explored state, cut.
        assert_eq!(
            v.visit(3, at((0, 0), 5, 0), &[0, 7, 41, 1, 1, 1]),
            Seen::Covered
        );
    }

    /// The fingerprint tells apart what the model reads, and only that.
    #[test]
    fn the_fingerprint_covers_what_the_model_reads_and_only_that() {
        use crate::oracle::{Oracle, OracleSet};
        use crate::runtime::trace::Event;
        use crate::runtime::world::TASK_PARKED;
        use crate::scenario::Scenario;
        use crate::variant::Preset;
        let fresh = || {
            let sc = Scenario::by_name("park-unpark").unwrap();
            let mut w = crate::harness::build_world(&sc, Preset::V3.variant(), OracleSet::all());
            w.harness.hist = vec![0; w.kernel.tasks.len()];
            w
        };
        let base = fresh().fingerprint();
        assert_eq!(fresh().fingerprint(), base, "deterministic");
        let differs = |f: &dyn Fn(&mut World)| {
            let mut w = fresh();
            f(&mut w);
            w.fingerprint() != base
        };
        // Read by steps, wait conditions or oracles.
        assert!(differs(&|w| w.kernel.tasks[1].state = TASK_PARKED));
        assert!(differs(&|w| w.kernel.rqs[0].queue.clear()));
        assert!(differs(&|w| w.kernel.completions[0].done = 1));
        assert!(differs(&|w| w.kernel.kthreads[0].flags ^= 1));
        assert!(differs(&|w| w.harness.budget += 1));
        assert!(differs(&|w| w.harness.halting = true));
        assert!(differs(&|w| w.learn(1, 7u8)));
        assert!(differs(&|w| w.forget(1, "loop head")));
        assert!(differs(&|w| w.harness.threads[1].fresh_checks |= 1 << 2));
        // Only reported, never read.
        assert!(!differs(&|w| w.harness.trace.push(Event::violation(
            1,
            0,
            Oracle::I1
        ))));
        assert!(!differs(&|w| w.kernel.tasks[1].nivcsw += 1));
        // Read only as whether wait_task_inactive failed (`Ncsw`), never as a count.
        assert!(!differs(&|w| w.kernel.tasks[1].nvcsw.bump()));
        assert!(!differs(&|w| w.kernel.rqs[0].nr_switches += 1));
        assert!(!differs(&|w| w.harness.preemptions += 1));
        // The path length: only I7's step bound reads it, a guard of this search.
        assert!(!differs(&|w| w.harness.steps += 1));
        assert!(!differs(&|w| w.harness.wti_sleeps += 1));
        // What the search's fairness of cycles takes from a step (zero again after it).
        assert!(!differs(&|w| w.harness.passed_over |= 1 << 2));
        // A thread's history restarts at a named loop head, whatever came before.
        let mut a = fresh();
        a.learn(2, "one way");
        a.forget(2, "idle_loop");
        let mut b = fresh();
        b.learn(2, "another");
        b.learn(2, 3u32);
        b.forget(2, "idle_loop");
        assert_eq!(a.fingerprint(), b.fingerprint());
    }
}
