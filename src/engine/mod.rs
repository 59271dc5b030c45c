//! Engines: what runs the model's threads. The model is written once against the runtime's
//! [`crate::runtime::platform::Platform`] trait; [`shuttle`] runs it under controlled
//! schedules, [`native`] on OS threads across the machine's cores (stress), and [`bounded`]
//! (with [`statecache`]) enumerates schedules within a bound; [`runner`] runs shuttle executions
//! on a continuation pool that outlives each run.

pub mod bounded;
pub mod bytes;
pub mod native;
pub mod replay;
pub mod runner;
pub mod schedule;
pub mod shuttle;
pub mod statecache;
