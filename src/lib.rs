//! # parkrace
//!
//! parkrace hunts concurrency bugs in the Linux kernel's kthread *park protocol*
//! (`kthread_park`, `__kthread_parkme`, `kthread_unpark`) by modelling it together with the
//! scheduler pieces it leans on, and searching its thread schedules. The model's semantics,
//! step by step, are in `docs/model.md`; section letters cited in the code (b.2, d.6, h.5, ...)
//! are that document's.
//!
//! ## Layers
//!
//! Each layer imports only the ones before it (`tests/layers.rs` checks it):
//!
//! 1. [`oracle`], [`scenario`], [`variant`], [`history`]: the vocabulary. What "parked" must
//!    mean (model.md e), who runs where (f), the protocol's historical states as fix switches
//!    (c), and what kernel history says each preset does.
//! 2. [`runtime`]: steps, waits, spinlocks, preemption boundaries, the trace, fingerprints
//!    and oracle hooks, over the world ([`runtime::world`]: the kernel's state and the
//!    harness's). Model code holds a [`runtime::Current`] and nothing else.
//! 3. [`kernel`]: the kernel model, one function per kernel function, named after it.
//! 4. [`harness`]: one execution: the cast, the scenario's threads, what is handed to the
//!    execution ([`harness::Hooks`]: observers, the state cache's probe), the outcome.
//! 5. [`engine`]: what runs the model's threads: shuttle, OS threads, the bounded search.
//! 6. [`strategy`]: the one registry of search strategies, and parkrace's own.
//! 7. [`tools`]: hunt, fuzz input, minimization, repro files and race diagrams, compare,
//!    verify, stress, soak.
//! 8. [`cli`]: the command line.
//!
//! ## A hunt in a few lines
//!
//! ```no_run
//! use parkrace::oracle::OracleSet;
//! use parkrace::scenario::Scenario;
//! use parkrace::strategy::Strategy;
//! use parkrace::tools::explore::{Hunt, hunt};
//! use parkrace::variant::Preset;
//!
//! // The seed's race: V2 (85f1abe0019f) on park, then unpark.
//! let r = hunt(&Hunt {
//!     variant: Preset::V2.variant(),
//!     scenario: Scenario::by_name("park-unpark").unwrap(),
//!     strategy: Strategy::Random,
//!     oracles: OracleSet::all(),
//!     executions: 10_000,
//!     time: None,
//!     seed: 1,
//! });
//! let found = r.found.expect("V2 loses the race");
//! println!("{}", found.outcome.violation.unwrap());
//! ```
//!
//! ## A kernel function, as the model writes it
//!
//! Every model function takes the running thread's [`runtime::Current`] (the kernel's
//! `current`); each numbered step of model.md is one [`runtime::Current::step`], whose body
//! reads and writes shared fields through recorded accessors, each marked as the kernel
//! source marks the access (plain, `*_ONCE`, acquire/release; model.md m.2):
//!
//! ```
//! use parkrace::runtime::world::{Ld, TASK_RUNNING};
//! use parkrace::runtime::{Current, M};
//!
//! /// `if (READ_ONCE(p->state) == TASK_RUNNING) return;` as one step of `example()`.
//! fn is_running(cur: Current<'_>, p: usize) -> M<bool> {
//!     cur.step("example", |s| s.task(p).state(Ld::Once) == TASK_RUNNING)
//! }
//! ```

pub mod cli;
pub mod engine;
pub mod harness;
pub mod history;
pub mod kernel;
pub mod oracle;
pub mod runtime;
pub mod scenario;
pub mod statehash;
pub mod strategy;
pub mod tools;
pub mod variant;
