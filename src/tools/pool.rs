//! Worker threads for the commands that run many independent jobs (hunt's cells, verify's
//! pairs, compare's seeds): jobs are taken in order by `jobs` threads, and each result is
//! handed back in job order as soon as it and every job before it are done, so output streams
//! in the order a user expects. A worker that panics is not a clean result: the pool stops
//! handing out jobs and reports which job died and why.

pub use crate::harness::{crash_hook, panic_message};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// A worker died on a job: the job's index and the panic's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerDied {
    pub job: usize,
    pub message: String,
}

impl std::fmt::Display for WorkerDied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a worker died on job {}: {}", self.job + 1, self.message)
    }
}

/// Run `work` on every item of `items` with `jobs` threads. `done(i, r)` gets each result in
/// item order; `tick(finished)` is called every `every` while results are awaited (for
/// progress lines), with which jobs have finished so far. Returns the first worker death, if
/// any (jobs after it are not started; results already handed over stay handed over).
pub fn run_ordered<T: Sync, R: Send>(
    jobs: usize,
    items: &[T],
    work: impl Fn(usize, &T) -> R + Sync,
    done: impl FnMut(usize, R),
    every: Duration,
    tick: impl FnMut(&[bool]),
) -> Result<(), WorkerDied> {
    let start: Vec<usize> = (0..items.len()).collect();
    run_ordered_starting(jobs, items, &start, work, done, every, tick)
}

/// [`run_ordered`], with the jobs started in the order `start` gives (a permutation of the
/// item indices: the longest first, say, so that the workers end together); results still
/// come back in item order.
pub fn run_ordered_starting<T: Sync, R: Send>(
    jobs: usize,
    items: &[T],
    start: &[usize],
    work: impl Fn(usize, &T) -> R + Sync,
    mut done: impl FnMut(usize, R),
    every: Duration,
    mut tick: impl FnMut(&[bool]),
) -> Result<(), WorkerDied> {
    assert_eq!(
        start.len(),
        items.len(),
        "start order is a permutation of the items"
    );
    let next = AtomicUsize::new(0);
    let dead = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, Result<R, String>)>();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(items.len()) {
            let tx = tx.clone();
            let (next, dead, work) = (&next, &dead, &work);
            s.spawn(move || {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= items.len() || dead.load(Ordering::SeqCst) {
                        break;
                    }
                    let i = start[n];
                    let r = catch_unwind(AssertUnwindSafe(|| {
                        crash_hook("worker");
                        work(i, &items[i])
                    }))
                    .map_err(|p| panic_message(&*p));
                    if r.is_err() {
                        dead.store(true, Ordering::SeqCst);
                    }
                    if tx.send((i, r)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut results: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
        let mut finished = vec![false; items.len()];
        let mut handed = 0;
        let mut died = None;
        loop {
            let (i, r) = match rx.recv_timeout(every) {
                Ok(x) => x,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    tick(&finished);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            finished[i] = true;
            match r {
                Ok(r) => results[i] = Some(r),
                Err(message) => {
                    died.get_or_insert(WorkerDied { job: i, message });
                }
            }
            while handed < items.len() && died.as_ref().is_none_or(|d| handed < d.job) {
                let Some(r) = results[handed].take() else {
                    break;
                };
                done(handed, r);
                handed += 1;
            }
        }
        died.map_or(Ok(()), Err)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_job_order_whatever_order_they_finish_in() {
        let items: Vec<u64> = (0..20).collect();
        let mut seen = Vec::new();
        let r = run_ordered(
            4,
            &items,
            |_, &x| {
                // Later jobs finish first.
                std::thread::sleep(Duration::from_millis(20 - x));
                x * 10
            },
            |i, r| seen.push((i, r)),
            Duration::from_secs(1),
            |_| {},
        );
        assert_eq!(r, Ok(()));
        assert_eq!(
            seen,
            (0..20).map(|i| (i as usize, i * 10)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn jobs_start_in_the_order_given_and_come_back_in_item_order() {
        let items: Vec<u64> = (0..6).collect();
        let started = std::sync::Mutex::new(Vec::new());
        let mut seen = Vec::new();
        let r = run_ordered_starting(
            1,
            &items,
            &[5, 3, 0, 1, 4, 2],
            |i, &x| {
                started.lock().unwrap().push(i);
                x + 100
            },
            |i, r| seen.push((i, r)),
            Duration::from_secs(1),
            |_| {},
        );
        assert_eq!(r, Ok(()));
        assert_eq!(*started.lock().unwrap(), vec![5, 3, 0, 1, 4, 2]);
        assert_eq!(
            seen,
            (0..6).map(|i| (i as usize, i + 100)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_worker_that_panics_is_reported_not_lost() {
        let items: Vec<u32> = (0..8).collect();
        let mut seen = Vec::new();
        let r = run_ordered(
            2,
            &items,
            |_, &x| {
                if x == 3 {
                    panic!("capacity overflow");
                }
                x
            },
            |i, _| seen.push(i),
            Duration::from_secs(1),
            |_| {},
        );
        let died = r.expect_err("the panic is an error");
        assert_eq!(died.job, 3);
        assert_eq!(died.message, "capacity overflow");
        // Nothing at or after the dead job is handed over as if it had finished.
        assert!(seen.iter().all(|&i| i < 3), "{seen:?}");
    }
}
