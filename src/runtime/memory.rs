//! Weak memory (model.md m): which store each load of a shared location reads, under `tso` or
//! `lkmm`. Under `sc` there is no [`Memory`] at all and every load reads the world's value.
//!
//! The mechanism is the one of operational C11 models (and loom): every location keeps its
//! stores in coherence order, each a message with a timestamp and the *view* it carries; every
//! thread keeps its own view, for each location the oldest store it may still read. A load
//! reads any store at or after its view (the newest is the SC choice; each step back is one
//! controlled reordering) and raises its view to it. Orderings move views:
//!
//! - a release store carries its thread's whole view, an acquire load joins the view of the
//!   store it read;
//! - `smp_wmb()` makes later stores carry the thread's own earlier stores (not what it only
//!   read: LKMM's `wmb` is not A-cumulative); `smp_rmb()` joins the views of the stores read
//!   so far;
//! - `smp_mb()` (and fully ordered RMWs, `smp_mb__after_spinlock()`) joins the thread's view
//!   with a global one and publishes it there: of two fences, the later one sees everything
//!   the earlier one's thread had seen, which forbids store buffering;
//! - a lock release leaves its view in the lock, the next acquire joins it; the stores after
//!   the acquisition also carry what the releaser had stored or released before its unlock
//!   (LKMM's unlock-then-lock is a cumulative fence), and a CPU that takes again the lock it
//!   released orders its reads across the pair;
//! - an RMW reads the newest store and is placed right after it (atomicity).
//!
//! Under `lkmm` a plain store may also be placed before newer stores of other threads in
//! coherence order (a controlled choice, 0 = last); under `tso` every store is a release,
//! every load an acquire, stores are placed last, and a store another CPU reads (or its
//! thread's fence, lock or locked RMW drains) becomes visible to every CPU at once, together
//! with its thread's earlier stores (multi-copy atomicity, FIFO store buffers).
//!
//! The model stores no promises: a store is never read before its thread has issued it, so
//! load buffering (LB) is out of reach (model.md m.4 says why no race of this protocol needs it).

use super::types::{LockId, MemLoc, Tid};
use crate::scenario::Memory as Model;
use std::hash::{Hash, Hasher};

/// A timestamp in a location's coherence order.
type Ts = u64;

/// The gap between consecutive appended stores: room for 32 nested insertions.
const GAP: Ts = 1 << 32;

/// A writer id for the initial value.
const INIT: Tid = usize::MAX;

/// One store of a location.
#[derive(Clone, Debug)]
struct Msg {
    ts: Ts,
    val: i64,
    /// The view a reader acquires from it (its own timestamp included).
    view: Vec<Ts>,
    writer: Tid,
    /// Issue order among all stores (for TSO's FIFO propagation).
    seq: u64,
    /// The model step that issued it.
    step: u64,
    /// Written by an RMW: nothing may be placed between it and the store it read.
    rmw: bool,
    /// TSO: visible to every CPU.
    published: bool,
}

/// What a memory operation tells the trace (model.md m.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// A load read an older store than the newest: it missed `writer`'s store of `latest`
    /// issued at step `at`; `back` is how many stores it stepped back.
    Missed {
        loc: MemLoc,
        latest: i64,
        writer: Tid,
        at: u64,
        back: u32,
        /// The missed store was already published (some full barrier made it visible to
        /// every later barrier): the reader has had no full barrier since.
        published: bool,
    },
    /// `writer`'s store of `value` (issued at step `at`) that some load missed is now
    /// published: a full barrier's view holds it, so every later full barrier sees it (under
    /// TSO: it left its store buffer and every CPU sees it).
    Visible {
        loc: MemLoc,
        value: i64,
        writer: Tid,
        at: u64,
    },
    /// A store was placed before `writer`'s newer store of `value` (step `at`) in coherence
    /// order: that store stays the location's value.
    Reordered {
        loc: MemLoc,
        value: i64,
        writer: Tid,
        at: u64,
        back: u32,
    },
}

/// Where the locations are: the counts of each kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub tasks: usize,
    pub kthreads: usize,
    pub completions: usize,
    pub vars: usize,
}

impl Shape {
    fn index(&self, l: MemLoc) -> usize {
        let n = self.tasks;
        match l {
            MemLoc::State(t) => t,
            MemLoc::OnRq(t) => n + t,
            MemLoc::OnCpu(t) => 2 * n + t,
            MemLoc::Flags(k) => 3 * n + k,
            MemLoc::Done(c) => 3 * n + self.kthreads + c,
            MemLoc::Var(v) => 3 * n + self.kthreads + self.completions + v,
        }
    }

    fn loc(&self, i: usize) -> MemLoc {
        let n = self.tasks;
        let (k, c) = (self.kthreads, self.completions);
        if i < n {
            MemLoc::State(i)
        } else if i < 2 * n {
            MemLoc::OnRq(i - n)
        } else if i < 3 * n {
            MemLoc::OnCpu(i - 2 * n)
        } else if i < 3 * n + k {
            MemLoc::Flags(i - 3 * n)
        } else if i < 3 * n + k + c {
            MemLoc::Done(i - 3 * n - k)
        } else {
            MemLoc::Var(i - 3 * n - k - c)
        }
    }

    fn len(&self) -> usize {
        3 * self.tasks + self.kthreads + self.completions + self.vars
    }
}

/// The weak-memory state of one execution (present only under `tso` and `lkmm`).
#[derive(Clone, Debug)]
pub struct Memory {
    model: Model,
    shape: Shape,
    /// Per location, its stores in coherence order (oldest first; older ones that no thread
    /// can read any more are dropped).
    locs: Vec<Vec<Msg>>,
    /// Per thread: the oldest store of each location it may read.
    view: Vec<Vec<Ts>>,
    /// Per thread: the join of the views of the stores it has read (what `smp_rmb()` acquires).
    acq: Vec<Vec<Ts>>,
    /// Per thread: the view its plain stores carry (its view at its last `smp_wmb()` or
    /// stronger).
    rel: Vec<Vec<Ts>>,
    /// Per thread: its own stores (what a non-cumulative `smp_wmb()` orders).
    own: Vec<Vec<Ts>>,
    /// Threads that have finished (their views no longer hold old stores alive).
    retired: Vec<bool>,
    /// What the fences so far have published.
    global: Vec<Ts>,
    /// What each lock's last release left: its releaser's view, the view the stores after
    /// the next acquisition must carry (po-unlock-rf-lock-po is a cumulative fence), and
    /// the releaser.
    locks: Vec<(LockId, Vec<Ts>, Vec<Ts>, Tid)>,
    seq: u64,
    /// Stores some load missed that no full barrier has published yet: (location, timestamp).
    missed: Vec<(usize, Ts)>,
    /// Controlled reorderings taken so far (stale reads plus placements, each step back one).
    pub reorderings: u32,
}

fn join(a: &mut [Ts], b: &[Ts]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x = (*x).max(*y);
    }
}

impl Memory {
    /// A memory whose locations start with `initial` (in [`Shape`] order), for `threads`
    /// model threads.
    pub fn new(model: Model, shape: Shape, initial: &[i64], threads: usize) -> Memory {
        assert!(model.is_weak(), "sc runs without a Memory");
        assert_eq!(initial.len(), shape.len());
        let n = shape.len();
        let locs = initial
            .iter()
            .map(|&val| {
                vec![Msg {
                    ts: 0,
                    val,
                    view: vec![0; n],
                    writer: INIT,
                    seq: 0,
                    step: 0,
                    rmw: false,
                    published: true,
                }]
            })
            .collect();
        Memory {
            model,
            shape,
            locs,
            view: vec![vec![0; n]; threads],
            acq: vec![vec![0; n]; threads],
            rel: vec![vec![0; n]; threads],
            own: vec![vec![0; n]; threads],
            retired: vec![false; threads],
            global: vec![0; n],
            locks: Vec::new(),
            seq: 0,
            missed: Vec::new(),
            reorderings: 0,
        }
    }

    /// The newest value of `l` (what an SC load would read).
    pub fn latest(&self, l: MemLoc) -> i64 {
        self.locs[self.shape.index(l)]
            .last()
            .expect("a location always has a store")
            .val
    }

    /// Load `l` for thread `t`. `back` is the controlled choice: called once per older store
    /// the load could still read, it says whether to step back one more.
    pub fn load(
        &mut self,
        t: Tid,
        l: MemLoc,
        ord: super::types::Ld,
        back: &mut dyn FnMut() -> bool,
        seen: &mut Vec<Seen>,
    ) -> i64 {
        let i = self.shape.index(l);
        let from = self.first_readable(t, i);
        let msgs = &self.locs[i];
        let last = msgs.len() - 1;
        let mut pick = last;
        while pick > from && back() {
            pick -= 1;
        }
        let steps = (last - pick) as u32;
        self.reorderings += steps;
        if steps > 0 {
            let newest = &msgs[last];
            let published = self.global[i] >= newest.ts;
            seen.push(Seen::Missed {
                loc: l,
                latest: newest.val,
                writer: newest.writer,
                at: newest.step,
                back: steps,
                published,
            });
            if !published && !self.missed.contains(&(i, newest.ts)) {
                self.missed.push((i, newest.ts));
            }
        }
        self.read_msg(t, i, pick, ord == super::types::Ld::Acquire, seen)
    }

    /// Index of the oldest store of location `i` that thread `t` may read.
    fn first_readable(&self, t: Tid, i: usize) -> usize {
        let v = self.view[t][i];
        self.locs[i].partition_point(|m| m.ts < v)
    }

    /// Thread `t` reads store `pick` of location `i`.
    fn read_msg(
        &mut self,
        t: Tid,
        i: usize,
        pick: usize,
        acquire: bool,
        seen: &mut Vec<Seen>,
    ) -> i64 {
        let m = &self.locs[i][pick];
        let (ts, val, writer, seq) = (m.ts, m.val, m.writer, m.seq);
        let mview = m.view.clone();
        self.view[t][i] = self.view[t][i].max(ts);
        join(&mut self.acq[t], &mview);
        if acquire || self.model == Model::Tso {
            join(&mut self.view[t], &mview);
        }
        if self.model == Model::Tso && writer != t && writer != INIT {
            self.propagate(writer, seq, seen);
        }
        val
    }

    /// Store `val` to `l` for thread `t` (issued at `step`). Under `lkmm` a non-release
    /// store may be placed before newer stores (`back`, as for loads). Returns whether it is
    /// now the newest store of `l` (the world's value).
    #[allow(clippy::too_many_arguments)]
    pub fn store(
        &mut self,
        t: Tid,
        l: MemLoc,
        val: i64,
        ord: super::types::St,
        step: u64,
        back: &mut dyn FnMut() -> bool,
        seen: &mut Vec<Seen>,
    ) -> bool {
        let i = self.shape.index(l);
        let release = ord == super::types::St::Release || self.model == Model::Tso;
        let n = self.locs[i].len();
        let mut pos = n;
        if self.model == Model::Lkmm {
            let v = self.view[t][i];
            loop {
                // May the store go before locs[pos - 1]? Only after what t has seen, never
                // between an RMW and the store it read, and where timestamps leave room.
                let msgs = &self.locs[i];
                let ok = pos >= 2
                    && msgs[pos - 2].ts >= v
                    && !msgs[pos - 1].rmw
                    && msgs[pos - 1].ts - msgs[pos - 2].ts >= 2;
                if !ok || !back() {
                    break;
                }
                pos -= 1;
            }
        }
        let ts = if pos == n {
            self.locs[i][n - 1].ts + GAP
        } else {
            let msgs = &self.locs[i];
            (msgs[pos - 1].ts + msgs[pos].ts) / 2
        };
        if pos < n {
            let steps = (n - pos) as u32;
            self.reorderings += steps;
            let newest = &self.locs[i][n - 1];
            seen.push(Seen::Reordered {
                loc: l,
                value: newest.val,
                writer: newest.writer,
                at: newest.step,
                back: steps,
            });
        }
        self.put(t, i, pos, ts, val, release, false, step);
        pos == n
    }

    /// Place a new store of thread `t` at index `pos` of location `i`.
    #[allow(clippy::too_many_arguments)]
    fn put(
        &mut self,
        t: Tid,
        i: usize,
        pos: usize,
        ts: Ts,
        val: i64,
        release: bool,
        rmw: bool,
        step: u64,
    ) {
        self.view[t][i] = self.view[t][i].max(ts);
        self.own[t][i] = self.own[t][i].max(ts);
        let mut view = if release {
            self.view[t].clone()
        } else {
            self.rel[t].clone()
        };
        view[i] = view[i].max(ts);
        self.seq += 1;
        let m = Msg {
            ts,
            val,
            view,
            writer: t,
            seq: self.seq,
            step,
            rmw,
            published: self.model != Model::Tso,
        };
        self.locs[i].insert(pos, m);
        self.collect(i);
    }

    /// An atomic read-modify-write of `l` by thread `t`: reads the newest store, stores
    /// `f(old)` right after it. Returns the old value.
    pub fn rmw(
        &mut self,
        t: Tid,
        l: MemLoc,
        ord: super::types::Rmw,
        step: u64,
        f: impl FnOnce(i64) -> i64,
        seen: &mut Vec<Seen>,
    ) -> i64 {
        use super::types::Rmw;
        // Under TSO every RMW is a locked instruction: a full fence.
        let full = ord == Rmw::Ordered || self.model == Model::Tso;
        if full {
            self.fence(t, super::types::Fence::Mb, seen);
        }
        let i = self.shape.index(l);
        let last = self.locs[i].len() - 1;
        let acquire = matches!(ord, Rmw::Ordered | Rmw::Acquire);
        let old = self.read_msg(t, i, last, acquire, seen);
        let ts = self.locs[i][last].ts + GAP;
        let release = matches!(ord, Rmw::Ordered | Rmw::Release) || self.model == Model::Tso;
        self.put(t, i, last + 1, ts, f(old), release, true, step);
        if full {
            self.fence(t, super::types::Fence::Mb, seen);
        }
        old
    }

    /// A barrier of thread `t`.
    pub fn fence(&mut self, t: Tid, f: super::types::Fence, seen: &mut Vec<Seen>) {
        use super::types::Fence;
        match f {
            Fence::Rmb => {
                let a = self.acq[t].clone();
                join(&mut self.view[t], &a);
            }
            Fence::Wmb => {
                let own = self.own[t].clone();
                join(&mut self.rel[t], &own);
            }
            Fence::Mb => {
                let a = self.acq[t].clone();
                join(&mut self.view[t], &a);
                join(&mut self.view[t], &self.global);
                self.global = self.view[t].clone();
                self.rel[t] = self.view[t].clone();
                if self.model == Model::Tso {
                    self.propagate(t, u64::MAX, seen);
                }
                self.published(seen);
            }
        }
    }

    /// Thread `t` acquires lock `l`: it sees what the lock's last holder saw.
    pub fn lock_acquire(&mut self, t: Tid, l: LockId, seen: &mut Vec<Seen>) {
        if self.model == Model::Tso {
            // A locked RMW.
            self.fence(t, super::types::Fence::Mb, seen);
        }
        if let Some((_, v, cumul, by)) = self.locks.iter().find(|(k, ..)| *k == l) {
            let (v, cumul, by) = (v.clone(), cumul.clone(), *by);
            join(&mut self.view[t], &v);
            join(&mut self.acq[t], &v);
            join(&mut self.rel[t], &cumul);
            if by == t {
                // Unlock then lock on one CPU orders its reads too (as smp_rmb()).
                let a = self.acq[t].clone();
                join(&mut self.view[t], &a);
            }
        }
    }

    /// Thread `t` releases lock `l` (a release store).
    pub fn lock_release(&mut self, t: Tid, l: LockId, seen: &mut Vec<Seen>) {
        if self.model == Model::Tso {
            // Stronger than x86 (whose unlock is a plain store): the buffer drains here.
            self.fence(t, super::types::Fence::Mb, seen);
        }
        let v = self.view[t].clone();
        let mut cumul = self.rel[t].clone();
        join(&mut cumul, &self.own[t]);
        match self.locks.iter_mut().find(|(k, ..)| *k == l) {
            Some(e) => *e = (l, v, cumul, t),
            None => self.locks.push((l, v, cumul, t)),
        }
    }

    /// Thread `t` has spun on `l` until it changed: it now reads the newest store (a CPU
    /// that polls a location sees a new store in finite time).
    pub fn sync(&mut self, t: Tid, l: MemLoc, seen: &mut Vec<Seen>) {
        let i = self.shape.index(l);
        let last = self.locs[i].len() - 1;
        let m = &self.locs[i][last];
        let (ts, writer, seq) = (m.ts, m.writer, m.seq);
        self.view[t][i] = self.view[t][i].max(ts);
        if self.model == Model::Tso && writer != t && writer != INIT {
            self.propagate(writer, seq, seen);
        }
    }

    /// The CPU thread `from` ran on now runs thread `to` (a context switch): `to` sees what
    /// the CPU has seen.
    pub fn handoff(&mut self, from: Tid, to: Tid) {
        let (v, a, r, o) = (
            self.view[from].clone(),
            self.acq[from].clone(),
            self.rel[from].clone(),
            self.own[from].clone(),
        );
        join(&mut self.view[to], &v);
        join(&mut self.acq[to], &a);
        join(&mut self.rel[to], &r);
        join(&mut self.own[to], &o);
    }

    /// Thread `t` has finished: its views no longer keep old stores readable.
    pub fn retire(&mut self, t: Tid) {
        self.retired[t] = true;
        for i in 0..self.locs.len() {
            self.collect(i);
        }
    }

    /// TSO: `writer`'s stores up to issue number `upto` become visible to every CPU.
    fn propagate(&mut self, writer: Tid, upto: u64, seen: &mut Vec<Seen>) {
        for i in 0..self.locs.len() {
            for j in 0..self.locs[i].len() {
                let m = &mut self.locs[i][j];
                if m.writer == writer && !m.published && m.seq <= upto {
                    m.published = true;
                    let ts = m.ts;
                    for v in &mut self.view {
                        v[i] = v[i].max(ts);
                    }
                    self.global[i] = self.global[i].max(ts);
                }
            }
        }
        self.published(seen);
    }

    /// Report the missed stores that every CPU now sees.
    fn published(&mut self, seen: &mut Vec<Seen>) {
        let global = &self.global;
        let locs = &self.locs;
        let shape = self.shape;
        self.missed.retain(|&(i, ts)| {
            if global[i] < ts {
                return true;
            }
            if let Some(m) = locs[i].iter().find(|m| m.ts == ts) {
                seen.push(Seen::Visible {
                    loc: shape.loc(i),
                    value: m.val,
                    writer: m.writer,
                    at: m.step,
                });
            }
            false
        });
    }

    /// Drop the stores of location `i` that no live thread can read any more.
    fn collect(&mut self, i: usize) {
        let min = self
            .view
            .iter()
            .zip(&self.retired)
            .filter(|(_, r)| !**r)
            .map(|(v, _)| v[i])
            .min()
            .unwrap_or(Ts::MAX);
        let msgs = &mut self.locs[i];
        let keep = msgs.partition_point(|m| m.ts < min).min(msgs.len() - 1);
        if keep > 0 {
            msgs.drain(..keep);
        }
    }

    /// The position of timestamp `ts` among location `i`'s stores (older ones count as 0).
    fn rank(&self, i: usize, ts: Ts) -> u32 {
        self.locs[i]
            .partition_point(|m| m.ts <= ts)
            .saturating_sub(1) as u32
    }

    fn hash_view(&self, v: &[Ts], h: &mut impl Hasher) {
        for (i, &ts) in v.iter().enumerate() {
            self.rank(i, ts).hash(h);
        }
    }

    /// Fold the memory state into a fingerprint: values, coherence order and views, with
    /// timestamps as positions (so equal states built by different paths hash the same).
    pub fn hash_state(&self, h: &mut impl Hasher) {
        for msgs in &self.locs {
            msgs.len().hash(h);
            for m in msgs {
                (m.val, m.rmw).hash(h);
                if self.model == Model::Tso {
                    (m.writer, m.published).hash(h);
                }
                self.hash_view(&m.view, h);
            }
        }
        for t in 0..self.view.len() {
            self.retired[t].hash(h);
            if !self.retired[t] {
                self.hash_view(&self.view[t], h);
                self.hash_view(&self.acq[t], h);
                self.hash_view(&self.rel[t], h);
                self.hash_view(&self.own[t], h);
            }
        }
        self.hash_view(&self.global, h);
        for (l, v, cumul, by) in &self.locks {
            (l, by).hash(h);
            self.hash_view(v, h);
            self.hash_view(cumul, h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::types::{Fence, Ld, St};

    fn mem(model: Model) -> Memory {
        let shape = Shape {
            tasks: 0,
            kthreads: 0,
            completions: 0,
            vars: 2,
        };
        Memory::new(model, shape, &[0, 0], 2)
    }

    const X: MemLoc = MemLoc::Var(0);
    const Y: MemLoc = MemLoc::Var(1);

    /// Store buffering: each thread stores, then loads the other location.
    fn sb(model: Model, fence: bool, back: bool) -> (i64, i64) {
        let mut m = mem(model);
        let s = &mut Vec::new();
        m.store(0, X, 1, St::Once, 1, &mut || false, s);
        if fence {
            m.fence(0, Fence::Mb, s);
        }
        m.store(1, Y, 1, St::Once, 2, &mut || false, s);
        if fence {
            m.fence(1, Fence::Mb, s);
        }
        let r0 = m.load(0, Y, Ld::Once, &mut || back, s);
        let r1 = m.load(1, X, Ld::Once, &mut || back, s);
        (r0, r1)
    }

    #[test]
    fn store_buffering_needs_a_full_fence_on_both_sides() {
        assert_eq!(
            sb(Model::Lkmm, false, false),
            (1, 1),
            "the newest store is the default"
        );
        assert_eq!(sb(Model::Lkmm, false, true), (0, 0));
        assert_eq!(sb(Model::Tso, false, true), (0, 0));
        // With smp_mb() on both sides the later fence sees the earlier thread's store.
        let (r0, r1) = sb(Model::Lkmm, true, true);
        assert!(r0 == 1 || r1 == 1, "SB+mbs must not read (0, 0)");
    }

    #[test]
    fn a_read_never_goes_back_in_coherence_order() {
        let mut m = mem(Model::Lkmm);
        let s = &mut Vec::new();
        m.store(0, X, 1, St::Once, 1, &mut || false, s);
        m.store(0, X, 2, St::Once, 2, &mut || false, s);
        assert_eq!(m.load(1, X, Ld::Once, &mut || true, s), 0);
        assert_eq!(m.load(1, X, Ld::Once, &mut || false, s), 2);
        // Having read 2, thread 1 can never read 0 or 1 again.
        assert_eq!(m.load(1, X, Ld::Once, &mut || true, s), 2);
        // The writer always reads its own latest store.
        assert_eq!(m.load(0, X, Ld::Once, &mut || true, s), 2);
        assert_eq!(m.reorderings, 2);
    }

    #[test]
    fn release_acquire_passes_earlier_stores() {
        let mut m = mem(Model::Lkmm);
        let s = &mut Vec::new();
        m.store(0, X, 1, St::Once, 1, &mut || false, s);
        m.store(0, Y, 1, St::Release, 2, &mut || false, s);
        assert_eq!(m.load(1, Y, Ld::Acquire, &mut || false, s), 1);
        assert_eq!(m.load(1, X, Ld::Once, &mut || true, s), 1, "MP+rel+acq");
        let mut m = mem(Model::Lkmm);
        m.store(0, X, 1, St::Once, 1, &mut || false, s);
        m.store(0, Y, 1, St::Once, 2, &mut || false, s);
        assert_eq!(m.load(1, Y, Ld::Once, &mut || false, s), 1);
        assert_eq!(m.load(1, X, Ld::Once, &mut || true, s), 0, "MP unordered");
    }

    #[test]
    fn lkmm_may_place_a_store_before_a_newer_one_tso_never() {
        for model in [Model::Lkmm, Model::Tso] {
            let mut m = mem(model);
            let s = &mut Vec::new();
            m.store(0, X, 1, St::Once, 1, &mut || false, s);
            let newest = m.store(1, X, 2, St::Once, 2, &mut || true, s);
            assert_eq!(newest, model == Model::Tso, "{model}");
            assert_eq!(m.latest(X), if model == Model::Tso { 2 } else { 1 });
        }
    }

    #[test]
    fn tso_is_multi_copy_atomic() {
        // IRIW: once thread 1 reads x = 1 every thread sees it.
        let mut m = Memory::new(
            Model::Tso,
            Shape {
                tasks: 0,
                kthreads: 0,
                completions: 0,
                vars: 2,
            },
            &[0, 0],
            3,
        );
        let s = &mut Vec::new();
        m.store(0, X, 1, St::Once, 1, &mut || false, s);
        assert_eq!(m.load(1, X, Ld::Once, &mut || false, s), 1);
        assert_eq!(m.load(2, X, Ld::Once, &mut || true, s), 1);
    }
}
