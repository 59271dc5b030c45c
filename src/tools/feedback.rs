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
//! Compiled only under `cfg(fuzzing)` (every crate of a `cargo fuzz` build); elsewhere
//! [`observe`] is empty. Set `PARKRACE_FEEDBACK=0` to turn it off (to measure what it gives).

#[cfg(fuzzing)]
mod imp {
    use crate::runtime::trace::{Event, What};
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU8, Ordering};

    /// Number of extra counters (a multiple of 8, as libFuzzer requires).
    pub const COUNTERS: usize = 4096;

    #[unsafe(link_section = "__libfuzzer_extra_counters")]
    #[used]
    static EXTRA: [AtomicU8; COUNTERS] = [const { AtomicU8::new(0) }; COUNTERS];

    thread_local! {
        // Who last wrote each (task, variable): the model runs every shuttle thread on one OS
        // thread, so per-thread state is per-execution state.
        static WRITER: RefCell<HashMap<(usize, u8), u64>> = RefCell::new(HashMap::new());
    }

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

    pub fn reset() {
        WRITER.with(|w| w.borrow_mut().clear());
    }

    pub fn observe(e: &Event, kind_of: impl Fn(usize) -> u64) {
        if !enabled() {
            return;
        }
        let f = fid(&e.func);
        let write = |task: usize, var: u8| WRITER.with(|w| w.borrow_mut().insert((task, var), f));
        let writer = |task: usize, var: u8| {
            WRITER.with(|w| w.borrow().get(&(task, var)).copied().unwrap_or(0))
        };
        match e.what {
            What::StateWrite { task, old, new } => {
                write(task, 0);
                hit(&[1, f, kind_of(task), u64::from(old), u64::from(new)]);
            }
            What::StateRead { task, value } => {
                hit(&[2, writer(task, 0), f, kind_of(task), u64::from(value)]);
            }
            What::OnRq { task, old, new } => {
                write(task, 1);
                hit(&[3, f, kind_of(task), u64::from(old), u64::from(new)]);
            }
            What::OnRqRead { task, value } => {
                hit(&[4, writer(task, 1), f, kind_of(task), u64::from(value)]);
            }
            What::OnCpu { task, new } => {
                write(task, 2);
                hit(&[5, f, kind_of(task), u64::from(new)]);
            }
            What::OnCpuRead { task, value } => {
                hit(&[6, writer(task, 2), f, kind_of(task), u64::from(value)]);
            }
            What::Done { comp, old, new } => {
                hit(&[
                    7,
                    f,
                    comp as u64,
                    u64::from(old.min(2)),
                    u64::from(new.min(2)),
                ]);
            }
            What::Preempt { tick } => hit(&[8, f, u64::from(tick)]),
            _ => {}
        }
    }
}

#[cfg(fuzzing)]
pub use imp::{COUNTERS, observe, reset};

/// Forget the last execution's writers (start of an execution).
#[cfg(not(fuzzing))]
#[inline(always)]
pub fn reset() {}

/// Feed one model event to the extra counters.
#[cfg(not(fuzzing))]
#[inline(always)]
pub fn observe(_e: &crate::runtime::trace::Event, _kind_of: impl Fn(usize) -> u64) {}
