//! The services the runtime needs from an engine: the one trait between the model and
//! whatever runs its threads (shuttle for controlled schedules, OS threads for stress).
//!
//! The contract: every model step starts with [`Platform::point`] (a scheduling point), then
//! runs atomically with the world locked. A thread that must wait (for a lock, for its CPU, for a
//! spin condition) registers what it waits for in the world and calls [`Platform::block`]; the
//! step that makes the condition true calls [`Platform::wake`]. Model code never busy-spins.

use super::world::{Tid, World};
use std::sync::{Mutex, MutexGuard};

/// A joiner for a spawned model thread.
pub type Join = Box<dyn FnOnce() + Send>;

/// The services a model needs from an engine.
pub trait Platform: Send + Sync + 'static {
    /// A scheduling point before a model step: the engine may switch to another thread here.
    fn point(&self);

    /// Block the calling thread (model thread `me`) until another thread clears
    /// `world.tasks[me].wait` and calls [`Platform::wake`]. The world lock is released while
    /// blocked and held again on return.
    fn block<'a>(
        &self,
        me: Tid,
        guard: MutexGuard<'a, World>,
        lock: &'a Mutex<World>,
    ) -> MutexGuard<'a, World>;

    /// Make blocked thread `t` runnable. Called with the world locked.
    fn wake(&self, t: Tid);

    /// Controlled randomness: every model choice (preemption injection, wakeup preemption)
    /// draws from here, so that a schedule replays exactly.
    fn next_u64(&self) -> u64;

    /// Tell the engine that the calling thread is model thread `me` (first thing in a thread).
    fn register(&self, me: Tid);

    /// Spawn a model thread; the returned closure joins it.
    fn spawn(&self, name: String, f: Box<dyn FnOnce() + Send>) -> Join;

    /// The engine's own id of model thread `t`, where a scheduler of the engine needs it
    /// (the bounded search's fairness of cycles, [`super::Mirror`]).
    fn engine_id(&self, _t: Tid) -> Option<usize> {
        None
    }
}
