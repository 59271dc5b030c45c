//! One shuttle continuation pool per OS thread, kept from one run to the next.
//!
//! shuttle's `Runner::run` makes a fresh `ContinuationPool` on every call, so code that runs one
//! execution per call (every byte-driven path: minimize's tries, compare `bytes`, proptest, the
//! fuzz targets, soak's replays, a verdict's replay) mapped, guarded, touched and unmapped the
//! coroutine stacks of every model thread for every execution: about 6 mmap + mprotect + munmap
//! triples per execution, a third of the CPU in system time. [`run`] is `Runner::run`'s own loop
//! (shuttle-engine 0.1.8, `runtime/runner.rs`) over shuttle's public `Execution`, run inside a
//! pool that belongs to the calling thread and outlives the call, so the stacks are made once per
//! thread, not once per call. A fuzz target's thread (libFuzzer calls it once per input) keeps
//! its pool between inputs the same way.
//!
//! What differs from `Runner::run`, and why it changes no result:
//! - the pool: shuttle reuses it across the executions of one run already; reusing it across
//!   runs hands a model thread a stack that an earlier execution used, exactly as the second
//!   execution of a run gets one. No decision depends on which stack a task runs on.
//! - no `MetricsScheduler` wrapper and no `tracing` span per execution: they only feed
//!   shuttle's `tracing` logs (parkrace installs no subscriber); neither sees a decision.
//!
//! A run that panics (a failing execution: a deadlock, a step bound, a bug in parkrace) panics
//! out of [`run`] as out of `Runner::run`, and the thread's pool is replaced by a fresh one, so
//! that nothing the failed execution left behind reaches the next run.
//!
//! [`with_fresh_runners`] makes [`run`] build a shuttle `Runner` per call as before, for the test
//! and the bench that compare the two ways.

use shuttle::Config;
use shuttle::scheduler::Scheduler;
use shuttle_engine::runtime::execution::Execution;
use shuttle_engine::runtime::thread::continuation::{CONTINUATION_POOL, ContinuationPool};
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, Location};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

thread_local! {
    /// The calling thread's pool (freed with the thread).
    static POOL: RefCell<Rc<ContinuationPool>> = RefCell::new(Rc::new(ContinuationPool::new()));
    /// Set by [`with_fresh_runners`].
    static FRESH: Cell<bool> = const { Cell::new(false) };
}

/// Run `f` under `scheduler` as `shuttle::Runner::new(scheduler, config).run(f)` does: once per
/// schedule the scheduler hands out (`new_execution` until `None`, or until `config.max_time`),
/// returning how many executions ran; but on the calling thread's continuation pool (see the
/// module documentation).
#[track_caller]
pub fn run<S, F>(scheduler: S, config: Config, f: F) -> usize
where
    S: Scheduler + 'static,
    F: Fn() + Send + Sync + 'static,
{
    if FRESH.get() {
        return shuttle::Runner::new(scheduler, config).run(f);
    }
    let caller = Location::caller();
    // A clone, so that no borrow of the thread-local is held while the model runs.
    let pool = POOL.with(|p| Rc::clone(&p.borrow()));
    let scheduler: Rc<RefCell<dyn Scheduler>> = Rc::new(RefCell::new(scheduler));
    let f = Arc::new(f);
    let r = std::panic::catch_unwind(AssertUnwindSafe(|| {
        CONTINUATION_POOL.set(&pool, || {
            let start = Instant::now();
            let mut i = 0;
            loop {
                if config.max_time.is_some_and(|t| start.elapsed() > t) {
                    break;
                }
                let Some(schedule) = scheduler.borrow_mut().new_execution() else {
                    break;
                };
                let f = Arc::clone(&f);
                Execution::new(Rc::clone(&scheduler), schedule).run(&config, move || f(), caller);
                i += 1;
            }
            i
        })
    }));
    match r {
        Ok(n) => n,
        Err(payload) => {
            POOL.with(|p| *p.borrow_mut() = Rc::new(ContinuationPool::new()));
            std::panic::resume_unwind(payload)
        }
    }
}

/// Run `body` with [`run`] building a fresh shuttle `Runner` (and so a fresh continuation pool)
/// per call on this thread, as parkrace did before the pool was kept: for comparing the two.
pub fn with_fresh_runners<R>(body: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            FRESH.set(self.0);
        }
    }
    let _restore = Restore(FRESH.replace(true));
    body()
}
