//! Tools built on the engines: hunting ([`explore`]), fuzz input ([`fuzz`], [`feedback`]),
//! minimization, repro files and race diagrams, strategy comparison, verification, native
//! stress and long soak campaigns.

pub mod barriers;
pub mod compare;
pub mod explore;
pub mod feedback;
pub mod fuzz;
pub mod litmus;
pub mod minimize;
pub mod pool;
pub mod render;
pub mod repro;
pub mod search;
pub mod soak;
pub mod stress;
pub mod target;
pub mod verify;

/// The longest time any run takes (`--time` and every other duration, and the times in a soak
/// campaign file): 30 days.
pub const MAX_DURATION: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);
