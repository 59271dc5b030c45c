//! Observers: what watches an execution's events besides its trace (libFuzzer's feedback
//! counters, the focus strategy's hints). Each is handed to an execution when it is launched
//! ([`crate::harness::Hooks`]) and sees every event a step records, in order, with the world
//! locked; none can change the world.

use super::trace::Event;
use super::types::{Kind, Tid};
use std::fmt;

/// Watches the events of one execution.
pub trait Observer: Send {
    /// A step recorded `e`; `kind_of` names what each model thread is.
    fn event(&mut self, e: &Event, kind_of: &dyn Fn(Tid) -> Kind);
}

/// The observers of one execution.
#[derive(Default)]
pub struct Observers(Vec<Box<dyn Observer>>);

impl Observers {
    pub fn new(list: Vec<Box<dyn Observer>>) -> Self {
        Observers(list)
    }

    pub fn push(&mut self, o: Box<dyn Observer>) {
        self.0.push(o);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn event(&mut self, e: &Event, kind_of: &dyn Fn(Tid) -> Kind) {
        for o in &mut self.0 {
            o.event(e, kind_of);
        }
    }
}

impl fmt::Debug for Observers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Observers({})", self.0.len())
    }
}
