//! Rendering a trace as a per-task column table, in the spirit of the race diagram of commit
//! 1cef1150 ("controller Thread | CPUHP Thread"): one column per model thread, one row per
//! model step, each cell naming the kernel function and what the step read or wrote.

use crate::runtime::trace::{Access, Class, Event, Op, Var, What, describe};
use std::fmt::Write;

/// Column width (text wraps inside a column).
const WIDTH: usize = 40;

/// Whether an event is bookkeeping that `brief` output leaves out: lock bookkeeping, notes,
/// and the plain reads of `on_cpu` and `on_rq`.
fn is_detail(w: &What) -> bool {
    match w.class() {
        Class::Lock | Class::Note => true,
        Class::Access(Access {
            var: Var::OnCpu(_) | Var::OnRq(_),
            op: Op::Read(_),
        }) => true,
        Class::Access(_)
        | Class::Contended
        | Class::Sched
        | Class::Return
        | Class::Verdict
        | Class::Memory => false,
    }
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

/// The column of each event: the controller and the kthread have one each, as in the seed's
/// diagram; another task's step on a CPU that is home to exactly one of them (the idle task
/// finishing the kthread's switch, say) goes into that one's column; every other task gets
/// its own column.
fn columns(trace: &[Event], names: &[String]) -> (Vec<String>, Vec<usize>) {
    let find = |n: &str| names.iter().position(|x| x == n);
    let parties: Vec<usize> = ["C", "K"].iter().filter_map(|n| find(n)).collect();
    // A party's home CPU: where its first step ran.
    let home = |t: usize| trace.iter().find(|e| e.task == t).and_then(|e| e.cpu);
    let homes: Vec<(usize, Option<usize>)> = parties.iter().map(|&p| (p, home(p))).collect();
    let owner = |e: &Event| -> usize {
        if parties.contains(&e.task) {
            return e.task;
        }
        let Some(cpu) = e.cpu else { return e.task };
        let on: Vec<usize> = homes
            .iter()
            .filter(|(_, h)| *h == Some(cpu))
            .map(|(p, _)| *p)
            .collect();
        if on.len() == 1 { on[0] } else { e.task }
    };
    let owners: Vec<usize> = trace.iter().map(owner).collect();
    let mut cols: Vec<usize> = owners.clone();
    cols.sort_unstable();
    cols.dedup();
    let title = |t: usize| {
        let n = names.get(t).cloned().unwrap_or_else(|| format!("t{t}"));
        match homes.iter().find(|(p, _)| *p == t) {
            Some((_, Some(c))) => format!("{n} (cpu{c})"),
            _ => n,
        }
    };
    let titles = cols.iter().map(|&t| title(t)).collect();
    let idx = owners
        .iter()
        .map(|o| cols.iter().position(|c| c == o).unwrap_or(0))
        .collect();
    (titles, idx)
}

/// Render `trace` as a table: one column for the controller, one for the kthread (with the
/// steps other tasks take on its CPU), one for each other party; one row per step. `brief`
/// leaves out lock bookkeeping, notes and plain reads of on_cpu/on_rq.
pub fn table(trace: &[Event], names: &[String], comps: &[String], brief: bool) -> String {
    let (titles, col) = columns(trace, names);
    let name = |t: usize| names.get(t).cloned().unwrap_or_else(|| format!("t{t}"));

    let mut out = String::new();
    let header: Vec<String> = titles.iter().map(|t| format!("{t:<WIDTH$}")).collect();
    let _ = writeln!(out, "{:>5} | {}", "step", header.join(" | ").trim_end());
    let _ = writeln!(out, "{}", "-".repeat(8 + titles.len() * (WIDTH + 3)));

    let mut i = 0;
    while i < trace.len() {
        let step = trace[i].step;
        let task = trace[i].task;
        let mut j = i;
        let mut parts: Vec<String> = Vec::new();
        let mut verdicts: Vec<String> = Vec::new();
        let mut func = String::new();
        let mut cpu = None;
        while j < trace.len() && trace[j].step == step && trace[j].task == task {
            let e = &trace[j];
            if matches!(e.what, What::Violation { .. }) {
                verdicts.push(describe(&e.what, names, comps));
            } else if !(brief && is_detail(&e.what)) {
                parts.push(describe(&e.what, names, comps));
            }
            if !matches!(e.what, What::Violation { .. }) {
                func = e.func.to_string();
                cpu = e.cpu;
            }
            j += 1;
        }
        if func.is_empty() {
            func = trace[i].func.to_string();
        }
        i = j;
        // A violation is named after what the step did.
        parts.extend(verdicts);
        if parts.is_empty() {
            continue;
        }
        let cpu = cpu.map(|c| format!("[cpu{c}] ")).unwrap_or_default();
        let c = col[i - 1];
        // A step of another task in a party's column names the task.
        let who = if titles[c].split(' ').next() == Some(name(task).as_str()) {
            String::new()
        } else {
            format!("{}: ", name(task))
        };
        let text = format!("{cpu}{who}{func}: {}", parts.join("; "));
        let lines = wrap(&text, WIDTH);
        for (n, line) in lines.iter().enumerate() {
            let mut cells: Vec<String> = vec![" ".repeat(WIDTH); titles.len()];
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
