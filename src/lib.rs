//! # parkrace
//!
//! parkrace hunts concurrency bugs in the Linux kernel's kthread *park protocol*
//! (`kthread_park`, `__kthread_parkme`, `kthread_unpark`) by modelling it together with the
//! scheduler pieces it leans on, and searching its thread schedules.
//!
//! The pieces, in the order data flows through them:
//!
//! 1. [`scenario`]: who runs where and what the controller does (spec section f).
//! 2. [`variant`]: the protocol's historical states as independent fix switches (spec c).
//! 3. [`engine`]: what runs the model's threads — shuttle (controlled schedules) or OS threads
//!    (native stress, [`stress`]).
//! 4. [`model`]: the kernel model, one atomic step per numbered step of spec section b.
//! 5. [`oracle`]: what "parked" must mean (spec e), checked inside the model.
//! 6. [`run`] / [`explore`] / [`verify`] / [`stress`] / [`soak`]: one execution; a search over
//!    many; every schedule within a bound; native stress; long resumable campaigns.
//! 7. [`repro`] / [`render`]: failures saved as replayable files and drawn as per-task tables.
//!
//! ```no_run
//! use parkrace::{explore, oracle::OracleSet, scenario::Scenario, variant::Preset};
//! use parkrace::strategy::Strategy;
//! let h = explore::Hunt {
//!     variant: Preset::V2.variant(),
//!     scenario: Scenario::by_name("park-unpark").unwrap(),
//!     strategy: Strategy::Random,
//!     oracles: OracleSet::all(),
//!     executions: 10_000,
//!     time: None,
//!     seed: 1,
//! };
//! let r = explore::hunt(&h);
//! assert!(r.found.is_some());
//! ```

pub mod cli;
pub mod engine;
pub mod harness;
pub mod history;
pub mod kernel;
pub mod oracle;
pub mod runtime;
pub mod scenario;
pub mod strategy;
pub mod tools;
pub mod variant;
