//! Exhaustive verification (`parkrace verify`): every schedule of a scenario with at most K
//! preemptions ([`crate::engine::bounded`]; CHESS's context bounding, or with
//! [`BoundKind::Delays`] preemptions plus delays), or with no bound at all, the scenario's
//! whole state graph. A bounded search goes bound by bound (0, 1, ..., K) without searching a
//! lower bound twice ([`BoundedDfs`]: each bound runs only the schedules that need it), so the
//! first violation found has the fewest preemptions any violation of the scenario needs. A clean result is a proof within the bound (or for every
//! schedule, without one). The state cache ([`crate::engine::statecache`]) cuts schedules
//! that reach a state explored before, never a verdict.
//!
//! The search itself is [`BoundedDfs`]; a violating schedule is replayed through the
//! byte-driven scheduler, so it becomes a repro file like any other finding.

use crate::engine::bounded::{BoundKind, BoundedDfs, BoundedStats, Stopped, Watch, fair_component};
use crate::engine::runner;
use crate::engine::shuttle::ShuttlePlatform;
use crate::harness::{Hooks, execute_with};
use crate::tools::explore::{ByteRun, config, run_bytes, thread_count};
use crate::tools::target::Target;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What to verify.
#[derive(Clone, Debug)]
pub struct Verify {
    pub target: Target,
    /// The bound K on preemptions (plus delays, under [`BoundKind::Delays`]); `None`: no
    /// bound, the scenario's whole state graph (needs the state cache).
    pub bound: Option<u32>,
    /// What the bound counts.
    pub kind: BoundKind,
    /// Under [`BoundKind::Preemptions`], at most this many delays as well (`None`: any).
    pub delays: Option<u32>,
    /// Wall time at most (the search is then incomplete).
    pub time: Option<Duration>,
    /// Cut schedules at states already explored ([`crate::engine::statecache`]).
    pub cache: bool,
    /// Prune with sleep sets ([`BoundedDfs::with_reduction`]; only without a bound, with the
    /// cache, under `sc`): every oracle but I7's livelocks is still proven.
    pub reduce: bool,
}

/// The verdict of a verification.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// The bound searched (`None`: the whole state graph).
    pub bound: Option<u32>,
    pub stats: BoundedStats,
    /// The violating schedule of the fewest of what the bound counts (the first one, without
    /// a bound), replayed.
    pub found: Option<(Stopped, ByteRun)>,
    /// Where the search met cycles of states and checks I7: the size of a strongly connected
    /// set of states that holds a fair cycle (a livelock), 0 if none does; `None` where that
    /// was not settled (under a bound, or out of time). `Some(0)` without cycles.
    pub livelock: Option<usize>,
    /// The search was reduced ([`Verify::reduce`]): where it met no cycle, that does not
    /// prove there is none (the reduction does not keep every cycle), so a clean verdict
    /// leaves I7's livelocks out.
    pub reduced: bool,
    pub elapsed: Duration,
}

impl Verdict {
    /// Every schedule within the bound was explored and none violated an oracle.
    pub fn verified(&self) -> bool {
        self.found.is_none()
            && self.stats.exhausted
            && self.stats.guard_hits == 0
            && self.livelock == Some(0)
    }

    /// The violation found has the fewest of what the bound counts (every lower bound was
    /// searched to its end first).
    pub fn fewest(&self) -> bool {
        self.found.is_some() && self.bound.is_some()
    }

    /// Executions (distinct schedules) run.
    pub fn schedules(&self) -> u64 {
        self.stats.executions
    }
}

/// What one search returns: its counters, the violating schedule it stopped at, and the
/// state graph's edges where they were asked for.
type Searched = (
    BoundedStats,
    Option<Stopped>,
    Vec<crate::engine::bounded::Edge>,
);

/// What a search is asked to record besides its verdict.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Record {
    #[default]
    Verdict,
    /// The state graph's edges ([`BoundedDfs::with_edges`]).
    Edges,
    /// Every state met at a scheduling point ([`BoundedDfs::with_reached`]; for tests).
    #[cfg_attr(not(test), allow(dead_code))]
    Reached,
}

/// Explore every schedule within `bound` (bound by bound) or the whole state graph,
/// recording what `record` asks for.
fn search(
    v: &Verify,
    bound: Option<u32>,
    time: Option<Duration>,
    watch: Option<&Arc<Watch>>,
    record: Record,
) -> Searched {
    search_reaching(v, bound, time, watch, record).0
}

/// [`search`], with the states met where [`Record::Reached`] asks for them.
fn search_reaching(
    v: &Verify,
    bound: Option<u32>,
    time: Option<Duration>,
    watch: Option<&Arc<Watch>>,
    record: Record,
) -> (
    Searched,
    Option<Arc<std::sync::Mutex<std::collections::HashSet<u128>>>>,
) {
    let mut dfs = BoundedDfs::new(bound, v.kind, v.delays);
    if v.cache {
        dfs = dfs.with_state_cache();
    }
    if record == Record::Edges {
        dfs = dfs.with_edges();
    } else if v.reduce {
        dfs = dfs.with_reduction();
    }
    let mut reached = None;
    if record == Record::Reached {
        let (d, r) = dfs.with_reached();
        (dfs, reached) = (d, Some(r));
    }
    let edges_out = dfs.edges();
    if let Some(w) = watch {
        dfs = dfs.watched(Arc::clone(w));
    }
    let (stop, stats, last) = (
        Arc::clone(&dfs.stop),
        Arc::clone(&dfs.stats),
        Arc::clone(&dfs.last),
    );
    let t = &v.target;
    let threads = thread_count(&t.scenario, t.variant);
    let (sc, variant, oracles) = (t.scenario.clone(), t.variant, t.oracles);
    let (stop2, stats2) = (Arc::clone(&stop), Arc::clone(&stats));
    // The probe also tells the search when an execution halts (see `BoundedDfs`).
    let hooks = Hooks {
        probe: Some(dfs.probe()),
        fingerprints: v.cache || reached.is_some(),
        // A violation found is run again through the byte-driven scheduler to report it.
        last_event_only: true,
        ..Hooks::default()
    };
    runner::run(dfs, config(&t.scenario, time), move || {
        let o = execute_with(ShuttlePlatform::new(threads), &sc, variant, oracles, &hooks);
        if o.violation.is_some() {
            stop2.store(true, Ordering::Relaxed);
        }
        if o.guard_hit {
            stats2.lock().unwrap().guard_hits += 1;
        }
    });
    let st = stats.lock().unwrap().clone();
    let found = stop
        .load(Ordering::Relaxed)
        .then(|| std::mem::take(&mut *last.lock().unwrap()));
    let edges = std::mem::take(&mut *edges_out.lock().unwrap());
    ((st, found, edges), reached)
}

/// Verify within `v.bound` (or the whole state graph), one search.
pub fn verify(v: &Verify) -> Verdict {
    verify_watched(v, None)
}

/// [`verify`], reporting progress into `watch` as it goes.
pub fn verify_watched(v: &Verify, watch: Option<&Arc<Watch>>) -> Verdict {
    let start = Instant::now();
    let (stats, best, _) = search(v, v.bound, v.time, watch, Record::Verdict);
    // Cycles met, none of them fair by itself: a fair cycle may still go through a state
    // more than once (each thread taking its turn in a loop of its own). Without a bound,
    // search again recording the edges, and look for a strongly connected set of states
    // that holds a fair cycle ([`fair_component`]): a livelock. That search is never
    // reduced: it needs every edge.
    let checks_i7 = v.target.oracles.contains(crate::oracle::Oracle::I7);
    let livelock = if best.is_none() && stats.exhausted && stats.cycles > 0 && checks_i7 {
        match v.bound {
            None => {
                let left = v.time.map(|t| t.saturating_sub(start.elapsed()));
                let (again, _, edges) = search(v, None, left, None, Record::Edges);
                again.exhausted.then(|| fair_component(&edges).unwrap_or(0))
            }
            Some(_) => None,
        }
    } else {
        Some(0)
    };
    let found = best.map(|b| {
        let t = &v.target;
        let bytes = b.replay_bytes(t.scenario.max_steps);
        let run = run_bytes(&t.scenario, t.variant, t.oracles, &bytes);
        (Stopped { bytes, ..b }, run)
    });
    Verdict {
        bound: v.bound,
        stats,
        found,
        livelock,
        reduced: v.reduce,
        elapsed: start.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::OracleSet;
    use crate::scenario::Scenario;
    use crate::variant::{Preset, Variant};

    fn job(v: Variant, scenario: &str, reduce: bool) -> Verify {
        job_within(v, scenario, None, true, reduce)
    }

    fn job_within(
        v: Variant,
        scenario: &str,
        bound: Option<u32>,
        cache: bool,
        reduce: bool,
    ) -> Verify {
        Verify {
            target: Target {
                variant: v,
                scenario: Scenario::by_name(scenario).unwrap(),
                oracles: OracleSet::all(),
            },
            bound,
            kind: BoundKind::Preemptions,
            delays: None,
            time: None,
            cache,
            reduce,
        }
    }

    fn reached(v: &Verify) -> (BoundedStats, std::collections::HashSet<u128>) {
        let ((stats, found, _), r) = search_reaching(v, v.bound, None, None, Record::Reached);
        assert!(found.is_none() && stats.exhausted);
        let r = std::mem::take(&mut *r.expect("asked for").lock().unwrap());
        (stats, r)
    }

    /// Sleep sets prune moves, never states: the reduced search meets at its scheduling
    /// points exactly the states the full search meets, in fewer executions. A footprint
    /// that left out an access would let it prune an order that reaches a state of its own.
    #[test]
    fn the_reduced_search_reaches_every_state_the_full_one_does() {
        for (p, s) in [
            (Preset::V5, "park-unpark"),
            (Preset::V3, "park-unpark"),
            (Preset::V5, "create-park"),
            // A preset of the v6.x stack (the wake list and delayed dequeue switched on).
            (Preset::Mainline, "stop-unparked"),
        ] {
            let (full, all) = reached(&job(p.variant(), s, false));
            let (red, some) = reached(&job(p.variant(), s, true));
            assert_eq!(some.len(), all.len(), "{p} {s}: states reached");
            assert!(some == all, "{p} {s}: the same states");
            assert!(
                red.executions < full.executions,
                "{p} {s}: {} against {}",
                red.executions,
                full.executions
            );
            assert!(red.slept > 0, "{p} {s}");
        }
    }

    /// The state cache cuts schedules, never states: within a bound, a search with it meets
    /// every state a search without it meets. Its fingerprint must hold everything a thread
    /// goes on with; a tick drawn at a preemption boundary, which no world field shows until
    /// the next step runs, once escaped it, and the cache cut a tick's schedules at the state
    /// of a schedule without it (256 states of this search were never met).
    #[test]
    fn the_cache_meets_every_state_a_search_without_it_meets() {
        let p = Preset::V5.variant();
        // Each with ticks: a preempted thread's fingerprint is restored when the preemption
        // returns (`Current::boundary`), and a restore that lost where it was would show here.
        for s in ["create-park", "stale-completion", "wti-latency"] {
            let (cached, with) = reached(&job_within(p, s, Some(1), true, false));
            let (full, without) = reached(&job_within(p, s, Some(1), false, false));
            assert!(
                with == without,
                "{s}: {} states against {}",
                with.len(),
                without.len()
            );
            assert!(cached.executions * 5 < full.executions, "{s}");
        }
    }
}
