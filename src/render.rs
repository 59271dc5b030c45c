//! Rendering a trace as a per-task column table, in the spirit of the race diagram of commit
//! 1cef1150 ("controller Thread | CPUHP Thread"): one column per model thread, one row per
//! model step, each cell naming the kernel function and what the step read or wrote.

use crate::model::trace::{Event, What, describe};
use std::fmt::Write;

/// Column width (text wraps inside a column).
const WIDTH: usize = 40;

/// Whether an event is bookkeeping that `brief` output leaves out.
fn is_detail(w: &What) -> bool {
    matches!(
        w,
        What::Lock { .. }
            | What::Unlock { .. }
            | What::Note { .. }
            | What::OnCpuRead { .. }
            | What::OnRqRead { .. }
    )
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        if !cur.is_empty() && cur.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
        while cur.len() > width {
            let rest = cur.split_off(width);
            lines.push(std::mem::replace(&mut cur, rest));
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Render `trace` as a table with one column per thread that took a step. `brief` leaves out
/// lock bookkeeping, notes and plain reads of on_cpu/on_rq.
pub fn table(trace: &[Event], names: &[String], comps: &[String], brief: bool) -> String {
    let mut cols: Vec<usize> = trace.iter().map(|e| e.task).collect();
    cols.sort_unstable();
    cols.dedup();
    let col_of = |t: usize| cols.iter().position(|&c| c == t).unwrap_or(0);
    let name = |t: usize| names.get(t).cloned().unwrap_or_else(|| format!("t{t}"));

    let mut out = String::new();
    let header: Vec<String> = cols
        .iter()
        .map(|&t| format!("{:<WIDTH$}", name(t)))
        .collect();
    let _ = writeln!(out, "{:>5} | {}", "step", header.join(" | ").trim_end());
    let _ = writeln!(out, "{}", "-".repeat(8 + cols.len() * (WIDTH + 3)));

    let mut i = 0;
    while i < trace.len() {
        let step = trace[i].step;
        let task = trace[i].task;
        let mut j = i;
        let mut parts: Vec<String> = Vec::new();
        let mut func = String::new();
        let mut cpu = None;
        while j < trace.len() && trace[j].step == step && trace[j].task == task {
            let e = &trace[j];
            if !(brief && is_detail(&e.what)) {
                parts.push(describe(&e.what, names, comps));
            }
            func = e.func.to_string();
            cpu = e.cpu;
            j += 1;
        }
        i = j;
        if parts.is_empty() {
            continue;
        }
        let cpu = cpu.map(|c| format!("[cpu{c}] ")).unwrap_or_default();
        let text = format!("{cpu}{func}: {}", parts.join("; "));
        let lines = wrap(&text, WIDTH);
        let c = col_of(task);
        for (n, line) in lines.iter().enumerate() {
            let mut cells: Vec<String> = vec![" ".repeat(WIDTH); cols.len()];
            cells[c] = format!("{line:<WIDTH$}");
            let label = if n == 0 {
                step.to_string()
            } else {
                String::new()
            };
            let _ = writeln!(out, "{label:>5} | {}", cells.join(" | ").trim_end());
        }
    }
    out
}
