//! The native engine: every model thread is an OS thread, so the model's steps interleave as
//! the machine's cores and the OS scheduler let them (stress, in the spirit of locktorture).
//!
//! The same model source runs here as under shuttle. Each model step stays atomic: it runs with
//! the world locked, which gives the sequentially consistent semantics the model.md asks for (h.1),
//! while the threads run truly in parallel between steps. A thread that waits (for a lock, for
//! its CPU, for a spin condition) sleeps on its own condition variable, paired with the world
//! lock, until the step that makes its condition true wakes it: no busy-waiting, no lost or
//! spurious wakeups.
//!
//! Race amplification, both optional and both from seeded generators, so that the same seed
//! gives the same injection streams (not the same interleaving: the OS decides that):
//!
//! - **delay injection** ([`Delay`]) at the scheduling point before a step: now and then a
//!   short spin or a yield, in the spirit of KCSAN's delays, to widen the windows between
//!   steps (one generator per model thread);
//! - **preemption injection**: the model's controlled draws (ticks, wakeup preemption) come
//!   from one generator per world, drawn with the world locked.

use crate::runtime::platform::{Join, Platform};
use crate::runtime::world::{Tid, World};
use crate::scenario::SplitMix;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

/// Stack size of a model thread (the model's call depth is small).
const STACK_SIZE: usize = 256 * 1024;

/// Delay injection at scheduling points: before a step, with probability 1/`odds`, the thread
/// either yields its core (one time in four) or spins for a random time below `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delay {
    pub odds: u32,
    pub max: Duration,
}

impl Default for Delay {
    /// One step in 8 is delayed, by up to 20 µs: long against a model step (about 1 µs),
    /// short against a cycle.
    fn default() -> Self {
        Delay {
            odds: 8,
            max: Duration::from_micros(20),
        }
    }
}

thread_local! {
    /// The delay generator of the model thread running on this OS thread.
    static DELAY_RNG: Cell<u64> = const { Cell::new(0) };
}

/// Mix a seed with a stream number (world, thread) into an independent seed.
pub fn mix(seed: u64, stream: u64) -> u64 {
    SplitMix(seed ^ stream.wrapping_mul(0xd134_2543_de82_ef95)).next()
}

/// A job for a pooled OS thread, and where to say that it is done.
type Job = (Box<dyn FnOnce() + Send>, mpsc::Sender<()>);

/// OS threads kept for model threads, so that a stress instance running world after world
/// does not start and stop an OS thread for every model thread of every world.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<Vec<mpsc::Sender<Job>>>,
}

impl Pool {
    pub fn new() -> Arc<Pool> {
        Arc::new(Pool::default())
    }

    /// Run `f` on an idle pooled thread (starting one if none is idle); the returned closure
    /// waits for `f` to return and gives the thread back to the pool.
    fn run(self: &Arc<Self>, name: String, f: Box<dyn FnOnce() + Send>) -> Join {
        let worker = self.idle.lock().unwrap().pop().unwrap_or_else(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name(name)
                .stack_size(STACK_SIZE)
                .spawn(move || {
                    for (job, done) in rx {
                        job();
                        let _ = done.send(());
                    }
                })
                .expect("the OS can start a model thread");
            tx
        });
        let (done_tx, done_rx) = mpsc::channel();
        worker
            .send((f, done_tx))
            .expect("a pooled thread waits for work");
        let pool = Arc::clone(self);
        Box::new(move || {
            // A thread whose job panicked is gone: only a thread that finished goes back.
            if done_rx.recv().is_ok() {
                pool.idle.lock().unwrap().push(worker);
            }
        })
    }
}

/// Runs model threads as OS threads.
pub struct NativePlatform {
    /// One condition variable per model thread, used with the world lock.
    cvs: Vec<Condvar>,
    /// The state of the controlled-draw generator (SplitMix, advanced atomically).
    draws: AtomicU64,
    seed: u64,
    delay: Option<Delay>,
    /// Where model threads run (`None`: a new OS thread each).
    pool: Option<Arc<Pool>>,
}

impl NativePlatform {
    /// A platform for `threads` model threads, drawing from `seed`, with optional delays.
    pub fn new(threads: usize, seed: u64, delay: Option<Delay>) -> Self {
        NativePlatform {
            cvs: (0..threads).map(|_| Condvar::new()).collect(),
            draws: AtomicU64::new(mix(seed, u64::MAX)),
            seed,
            delay,
            pool: None,
        }
    }

    /// Run the model threads on `pool`'s OS threads.
    pub fn with_pool(mut self, pool: Arc<Pool>) -> Self {
        self.pool = Some(pool);
        self
    }

    fn delay_rng() -> u64 {
        DELAY_RNG.with(|c| {
            let mut r = SplitMix(c.get());
            let v = r.next();
            c.set(r.0);
            v
        })
    }
}

impl Platform for NativePlatform {
    fn point(&self) {
        let Some(d) = self.delay else { return };
        let x = Self::delay_rng();
        if !x.is_multiple_of(u64::from(d.odds.max(1))) {
            return;
        }
        if (x >> 32) & 3 == 0 {
            std::thread::yield_now();
            return;
        }
        let max = d.max.as_nanos().max(1) as u64;
        let until = Instant::now() + Duration::from_nanos((x >> 34) % max);
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    }

    fn block<'a>(
        &self,
        me: Tid,
        guard: MutexGuard<'a, World>,
        _lock: &'a Mutex<World>,
    ) -> MutexGuard<'a, World> {
        self.cvs[me]
            .wait_while(guard, |w| w.harness.threads[me].wait.is_some())
            .unwrap_or_else(|e| e.into_inner())
    }

    fn wake(&self, t: Tid) {
        self.cvs[t].notify_one();
    }

    fn next_u64(&self) -> u64 {
        // SplitMix: the state advances by a constant, so an atomic add is the whole update.
        let s = self.draws.fetch_add(SplitMix::GAMMA, Ordering::Relaxed);
        SplitMix::finalize(s.wrapping_add(SplitMix::GAMMA))
    }

    fn register(&self, me: Tid) {
        DELAY_RNG.with(|c| c.set(mix(self.seed, me as u64)));
    }

    fn spawn(&self, name: String, f: Box<dyn FnOnce() + Send>) -> Join {
        if let Some(pool) = &self.pool {
            return pool.run(name, f);
        }
        let h = std::thread::Builder::new()
            .name(name)
            .stack_size(STACK_SIZE)
            .spawn(f)
            .expect("the OS can start a model thread");
        Box::new(move || {
            let _ = h.join();
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_draw_stream_repeats_from_its_seed() {
        let draws = |seed| {
            let p = NativePlatform::new(1, seed, None);
            (0..8).map(|_| p.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
    }

    #[test]
    fn pooled_threads_are_reused_world_after_world() {
        let pool = Pool::new();
        let ids = Arc::new(Mutex::new(Vec::new()));
        for _ in 0..3 {
            let ids2 = Arc::clone(&ids);
            let join = pool.run(
                "t".into(),
                Box::new(move || ids2.lock().unwrap().push(std::thread::current().id())),
            );
            join();
        }
        let ids = ids.lock().unwrap();
        assert_eq!(ids.len(), 3);
        assert!(ids.iter().all(|i| *i == ids[0]));
        assert_ne!(ids[0], std::thread::current().id());
    }
}
