//! Progress of a long run on stderr, the same way for every command that runs many jobs
//! (hunt's cells, compare's runs): a bar on a terminal, and otherwise a plain line every
//! [`EVERY`], so that a run in a batch job or behind a pipe is never silent for long.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How often a plain progress line is printed when stderr is no terminal.
pub const EVERY: Duration = Duration::from_secs(10);

/// The progress of `total` jobs of one kind (`what`: "cells", "runs").
pub struct Meter {
    what: &'static str,
    total: u64,
    done: u64,
    start: Instant,
    last_line: Instant,
    bar: Option<ProgressBar>,
    /// Print nothing (JSON output on a terminal keeps its bar; `quiet` is for callers that
    /// show their own).
    quiet: bool,
}

impl Meter {
    pub fn new(what: &'static str, total: u64, quiet: bool) -> Meter {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template(&format!(
                    "{{bar:30}} {{pos}}/{{len}} {what} {{elapsed}} (about {{eta}} left)"
                ))
                .expect("a valid template"),
            );
            b
        });
        Meter {
            what,
            total,
            done: 0,
            start: Instant::now(),
            last_line: Instant::now(),
            bar,
            quiet,
        }
    }

    /// `done` of the jobs have finished.
    pub fn set(&mut self, done: u64) {
        self.done = done;
        match &self.bar {
            Some(b) => b.set_position(done),
            None if !self.quiet && self.last_line.elapsed() >= EVERY => {
                self.last_line = Instant::now();
                eprintln!("{}", self.line());
            }
            None => {}
        }
    }

    /// Nothing has finished since the last call, but time has passed: redraw the bar, or
    /// print the plain line if it is due.
    pub fn tick(&mut self) {
        match &self.bar {
            Some(b) => b.tick(),
            None => self.set(self.done),
        }
    }

    /// One more job has finished.
    pub fn inc(&mut self) {
        self.set(self.done + 1);
    }

    /// The plain progress line: `37/140 cells done in 12 s`.
    pub fn line(&self) -> String {
        format!(
            "{}/{} {} done in {:.0} s",
            self.done,
            self.total,
            self.what,
            self.start.elapsed().as_secs_f64()
        )
    }

    /// Run `f` (which prints to the terminal) with the bar out of its way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    /// Take the bar off the terminal.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
