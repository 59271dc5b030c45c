//! Schedule-aware feedback for libFuzzer: protocol-level events of each execution feed
//! libFuzzer's extra counters (section `__libfuzzer_extra_counters`), so the fuzzer keeps
//! inputs that make the model do something new with its shared state, not only inputs that
//! reach new branches of the model's code.
//!
//! Features, each hashed into one of `COUNTERS` counters:
//! - a store of a task's state word: (stored-by kernel function, task kind, old, new);
//! - a read of the state word, `on_rq` or `on_cpu`: the reads-from pair (the kernel function
//!   that wrote the value, the one that read it, the value);
//! - stores of `on_rq`/`on_cpu` and of a completion's `done` count, and injected preemptions.
//!
//! The features come from the one classification of events ([`What::class`]); the observer
//! is handed to each execution the fuzz targets run ([`hooks`]), and starts every execution
//! with no writer known. Compiled only under `cfg(fuzzing)` (every crate of a `cargo fuzz`
//! build); elsewhere [`hooks`] hands over nothing. Set `PARKRACE_FEEDBACK=0` to turn it off
//! (to measure what it gives).
//!
//! [`What::class`]: crate::runtime::trace::What::class

#[cfg(fuzzing)]
mod imp {
    use crate::harness::ObserverFactory;
    use crate::runtime::observe::Observer;
    use crate::runtime::trace::{Access, Class, Event, Op, Var, What};
    use crate::runtime::types::{Kind, MemLoc, Tid};
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU8, Ordering};
    use std::sync::{Arc, OnceLock};

    /// Number of extra counters (a multiple of 8, as libFuzzer requires).
    pub const COUNTERS: usize = 4096;

    #[unsafe(link_section = "__libfuzzer_extra_counters")]
    #[used]
    static EXTRA: [AtomicU8; COUNTERS] = [const { AtomicU8::new(0) }; COUNTERS];

    fn enabled() -> bool {
        static ON: OnceLock<bool> = OnceLock::new();
        *ON.get_or_init(|| std::env::var("PARKRACE_FEEDBACK").map_or(true, |v| v != "0"))
    }

    fn mix(h: u64, x: u64) -> u64 {
        (h ^ x).wrapping_mul(0x100_0000_01b3).rotate_left(23)
    }

    fn fid(s: &str) -> u64 {
        s.bytes()
            .fold(0xcbf2_9ce4_8422_2325, |h, b| mix(h, u64::from(b)))
    }

    fn hit(parts: &[u64]) {
        let h = parts.iter().fold(0x9e37_79b9_7f4a_7c15, |h, &p| mix(h, p));
        let c = &EXTRA[(h % COUNTERS as u64) as usize];
        c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
    }

    /// One execution's feedback: who last wrote each task variable.
    #[derive(Default)]
    struct Feedback {
        writer: HashMap<(usize, u8), u64>,
    }

    impl Observer for Feedback {
        fn event(&mut self, e: &Event, kind_of: &dyn Fn(Tid) -> Kind) {
            let f = fid(&e.func);
            let kind = |t: usize| kind_of(t).code();
            match e.what.class() {
                Class::Access(Access { var, op }) => {
                    let (task, slot, feature) = match var {
                        Var::State(t) => (t, 0, 1),
                        Var::OnRq(t) => (t, 1, 3),
                        Var::OnCpu(t) => (t, 2, 5),
                        Var::Done(comp) => {
                            if let Op::Write { old, new } = op {
                                let old = old.unwrap_or(0).min(2);
                                hit(&[7, f, comp as u64, old, new.min(2)]);
                            }
                            return;
                        }
                        Var::Flag(_) => return,
                    };
                    match op {
                        // A store: (kernel function, task kind, old, new).
                        Op::Write {
                            old: Some(old),
                            new,
                        } => {
                            self.writer.insert((task, slot), f);
                            hit(&[feature, f, kind(task), old, new]);
                        }
                        Op::Write { old: None, new } | Op::Rmw { new, .. } => {
                            self.writer.insert((task, slot), f);
                            hit(&[feature, f, kind(task), new]);
                        }
                        // A load: the reads-from pair (writer, reader, value).
                        Op::Read(value) => {
                            let w = self.writer.get(&(task, slot)).copied().unwrap_or(0);
                            hit(&[feature + 1, w, f, kind(task), value]);
                        }
                    }
                }
                Class::Sched => {
                    if let What::Preempt { tick } = e.what {
                        hit(&[8, f, u64::from(tick)]);
                    }
                }
                // A stale read or a reordered store, by kernel function and location kind: the
                // weak-memory behaviours reached so far.
                Class::Memory => match e.what {
                    What::Stale { loc, back, .. } | What::Reordered { loc, back, .. } => {
                        let k = match loc {
                            MemLoc::State(_) => 1,
                            MemLoc::OnRq(_) => 2,
                            MemLoc::OnCpu(_) => 3,
                            MemLoc::Flags(_) => 4,
                            MemLoc::Done(_) => 5,
                            MemLoc::Var(_) => 6,
                        };
                        hit(&[9, f, k, u64::from(back.min(3))]);
                    }
                    _ => {}
                },
                Class::Lock | Class::Contended | Class::Note | Class::Return | Class::Verdict => {}
            }
        }
    }

    pub fn observers() -> Option<ObserverFactory> {
        enabled().then(|| Arc::new(|| Box::new(Feedback::default()) as Box<dyn Observer>) as _)
    }
}

#[cfg(fuzzing)]
pub use imp::COUNTERS;

/// The hooks a fuzz target hands each execution: libFuzzer's feedback observer (under
/// `cfg(fuzzing)` and unless `PARKRACE_FEEDBACK=0`), else nothing.
pub fn hooks() -> crate::harness::Hooks {
    #[cfg(fuzzing)]
    let observers = imp::observers().into_iter().collect();
    #[cfg(not(fuzzing))]
    let observers = Vec::new();
    crate::harness::Hooks {
        observers,
        ..Default::default()
    }
}
