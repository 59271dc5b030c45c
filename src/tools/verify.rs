//! Bounded-exhaustive verification (`parkrace verify`): every schedule of a scenario with at
//! most K preemptions ([`crate::engine::bounded`]; CHESS's context bounding, or with
//! [`BoundKind::Delays`] preemptions plus delays), bound by bound (0, 1, ..., K), so that the
//! first violation found has the fewest preemptions any violation of the scenario needs. A
//! clean result is a proof within the bound: no schedule with at most K preemptions violates
//! the checked oracles. The state cache ([`crate::engine::statecache`]) cuts schedules that
//! reach a state explored before, never a verdict.
//!
//! The search itself is [`BoundedDfs`]; a violating schedule is replayed through the
//! byte-driven scheduler, so it becomes a repro file like any other finding.

use crate::engine::bounded::{BoundKind, BoundedDfs, BoundedStats, Stopped, Watch};
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
}

/// One bound's search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level {
    /// `None`: the unbounded search.
    pub bound: Option<u32>,
    pub stats: BoundedStats,
}

/// The verdict of a verification.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// The searches run, bound by bound.
    pub levels: Vec<Level>,
    /// The first violating schedule (with the fewest of what the bound counts), replayed.
    pub found: Option<(Stopped, ByteRun)>,
    pub elapsed: Duration,
}

impl Verdict {
    /// Every schedule within the bound was explored and none violated an oracle.
    pub fn verified(&self) -> bool {
        self.found.is_none()
            && self
                .levels
                .last()
                .is_some_and(|l| l.stats.exhausted && l.stats.guard_hits == 0)
    }

    /// Executions halted at the step guard, over every bound.
    pub fn guard_hits(&self) -> u64 {
        self.levels.iter().map(|l| l.stats.guard_hits).sum()
    }

    /// Executions over every bound.
    pub fn executions(&self) -> u64 {
        self.levels.iter().map(|l| l.stats.executions).sum()
    }

    /// Distinct schedules within the last bound.
    pub fn schedules(&self) -> u64 {
        self.levels.last().map_or(0, |l| l.stats.executions)
    }
}

/// Explore every schedule within `bound`; stop at the first violation.
fn search(
    v: &Verify,
    bound: Option<u32>,
    time: Option<Duration>,
    watch: Option<&Arc<Watch>>,
) -> (BoundedStats, Option<Stopped>) {
    let mut dfs = BoundedDfs::new(bound, v.kind, v.delays);
    if v.cache {
        dfs = dfs.with_state_cache();
    }
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
        fingerprints: v.cache,
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
    let st = *stats.lock().unwrap();
    let found = stop
        .load(Ordering::Relaxed)
        .then(|| std::mem::take(&mut *last.lock().unwrap()));
    (st, found)
}

/// Verify bound by bound, 0 to `v.bound`.
pub fn verify(v: &Verify) -> Verdict {
    verify_watched(v, None)
}

/// [`verify`], reporting progress into `watch` as it goes.
pub fn verify_watched(v: &Verify, watch: Option<&Arc<Watch>>) -> Verdict {
    let start = Instant::now();
    let mut levels = Vec::new();
    let mut found = None;
    let bounds: Vec<Option<u32>> = match v.bound {
        Some(k) => (0..=k).map(Some).collect(),
        None => vec![None],
    };
    for k in bounds {
        let left = v.time.map(|t| t.saturating_sub(start.elapsed()));
        if left == Some(Duration::ZERO) {
            break;
        }
        let (stats, bytes) = search(v, k, left, watch);
        levels.push(Level { bound: k, stats });
        if let Some(b) = bytes {
            let t = &v.target;
            let bytes = b.replay_bytes(t.scenario.max_steps);
            let run = run_bytes(&t.scenario, t.variant, t.oracles, &bytes);
            let b = Stopped { bytes, ..b };
            found = Some((b, run));
            break;
        }
        if !stats.exhausted {
            break;
        }
    }
    Verdict {
        levels,
        found,
        elapsed: start.elapsed(),
    }
}
