//! Tools built on the engines: hunting ([`explore`]), fuzz input ([`fuzz`], [`feedback`]),
//! minimization, repro files and race diagrams, strategy comparison, verification, native
//! stress and long soak campaigns.

pub mod compare;
pub mod explore;
pub mod feedback;
pub mod fuzz;
pub mod minimize;
pub mod pool;
pub mod render;
pub mod repro;
pub mod search;
pub mod soak;
pub mod stress;
pub mod target;
pub mod verify;
