//! State caching for the bounded search ([`super::bounded`], `parkrace verify`): a schedule
//! prefix that reaches a state already explored with at least as much of the bound left is
//! cut there, because every continuation from that state within the bound was explored then.
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
//! left.
//!
//! What a state is. The model's threads are Rust code, not data, but each one is
//! deterministic: what it does next is a function of what it has learnt from the world. So the
//! state is the world's [`World::fingerprint`]: every field a step, a wait condition or an
//! oracle reads, plus a per-thread fingerprint of everything each thread learnt (what its
//! steps recorded and returned, and its reads outside steps, [`World::hist`]). Three rules
//! keep that fingerprint as coarse as the thread's real local state, so that more paths meet:
//! a function that hands its caller only its result folds to "called, returned r" when it
//! returns ([`Current::summarize`]); an outermost loop restarts it at its head, where nothing
//! earlier is live ([`Current::forget`]); and a thread inside [`Kernel::wait_until`] is marked
//! only until it returns. The scheduler adds the task that ran last, where it could go on
//! (switching away from it is what costs a preemption). Fingerprints are 128 bits; a
//! collision, which would wrongly cut a prefix, has odds below 10^-20 over a billion states.
//!
//! Soundness of the cut in the stateless depth-first search: a state first reached at
//! decision `i` of some execution has its whole subtree (every schedule sharing the first `i`
//! decisions) explored before the search backtracks above `i`, so a later prefix that reaches
//! it again finds it explored. Only decisions past the replayed prefix are looked up (the
//! prefix's own states are its ancestors), and a state met twice in one execution is never
//! cut.
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
//! [`Kernel::wait_until`]: crate::runtime::Kernel::wait_until

use std::collections::HashMap;

/// What reaching a state has cost: what the bound counts, as a pair (preemptions and
/// delays, or `(n, 0)` for a bound that counts one number).
pub type Cost = (u32, u32);

/// The states explored so far, each with the cost at which it was explored.
///
/// A visit covers a later one when it had at least as much of the bound left: at most as
/// many preemptions, and at most as many delays. One cost is kept per state: a new visit
/// replaces it when its cost is smaller in sum. Any kept cost belongs to a visit whose
/// subtree was explored, so the cut stays sound whichever is kept.
#[derive(Debug, Default)]
pub struct Visited {
    seen: HashMap<u128, Cost>,
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

    /// Whether `state`, reached at `cost`, was already explored by a visit that covers this
    /// one (then the prefix can be cut); if not, record this visit.
    pub fn covered(&mut self, state: u128, cost: Cost) -> bool {
        match self.seen.get_mut(&state) {
            Some(&mut (p, d)) if p <= cost.0 && d <= cost.1 => {
                self.cuts += 1;
                true
            }
            Some(old) => {
                if cost.0 + cost.1 < old.0 + old.1 {
                    *old = cost;
                }
                false
            }
            None => {
                self.seen.insert(state, cost);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::world::World;

    #[test]
    fn a_state_is_covered_only_by_a_visit_that_had_as_much_bound_left() {
        let mut v = Visited::default();
        assert!(!v.covered(7, (1, 0)));
        assert!(v.covered(7, (1, 0)));
        assert!(v.covered(7, (2, 0)));
        assert!(!v.covered(7, (0, 0)), "more bound left: explore again");
        assert!(v.covered(7, (0, 0)));
        assert!(!v.covered(8, (0, 0)), "another state");
        assert_eq!(v.cuts, 3);
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn pairs_cover_component_by_component() {
        let mut v = Visited::default();
        assert!(!v.covered(1, (1, 2)));
        assert!(
            !v.covered(1, (2, 1)),
            "more preemptions, fewer delays: not covered"
        );
        assert!(v.covered(1, (1, 3)));
        assert!(!v.covered(1, (0, 3)));
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
        assert!(differs(&|w| w.kernel.tasks[1].nvcsw += 1));
        assert!(differs(&|w| w.kernel.rqs[0].queue.clear()));
        assert!(differs(&|w| w.kernel.completions[0].done = 1));
        assert!(differs(&|w| w.kernel.kthreads[0].flags ^= 1));
        assert!(differs(&|w| w.harness.steps += 1));
        assert!(differs(&|w| w.harness.budget += 1));
        assert!(differs(&|w| w.harness.halting = true));
        assert!(differs(&|w| w.learn(1, 7u8)));
        assert!(differs(&|w| w.forget(1, "loop head")));
        // Only reported, never read.
        assert!(!differs(&|w| w.harness.trace.push(Event::violation(
            1,
            0,
            Oracle::I1
        ))));
        assert!(!differs(&|w| w.kernel.tasks[1].nivcsw += 1));
        assert!(!differs(&|w| w.kernel.rqs[0].nr_switches += 1));
        assert!(!differs(&|w| w.harness.preemptions += 1));
        assert!(!differs(&|w| w.harness.wti_sleeps += 1));
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
