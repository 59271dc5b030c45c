//! Litmus tests in the C format of the Linux kernel's `tools/memory-model` (LKMM), answered
//! by exhaustive exploration on the same runtime and engine as the park protocol.
//!
//! [`parse`] reads a test (`C NAME`, the initial state, processes `P0` to `P7`, an `exists`
//! clause) into a [`Litmus`]; a construct outside the supported subset is refused with one
//! line naming it, never approximated. [`check`] runs the test under a memory model
//! ([`crate::scenario::Memory`]: `sc`, `tso` or `lkmm`): every process is one model thread
//! whose shared accesses, barriers and lock operations are one model step each, and a
//! bounded DFS with no bound visits every schedule and every controlled weak-memory choice
//! (its state cache folds the orders of independent steps, see [`crate::engine::statecache`]).
//! The answer is `Sometimes` (some execution satisfies `exists`, with that execution as the
//! [`Witness`]) or `Never`.
//!
//! What the answers mean against LKMM itself: the runtime's weak memory
//! ([`crate::runtime::memory`]) is an operational approximation. It keeps no promises, so
//! load buffering is out of reach (`LB` answers `Never` where LKMM says `Sometimes`), and
//! where it orders more or less than LKMM the suite under `tests/litmus/` lists the rows.
//!
//! `cmpxchg()`: a successful one is an atomic RMW of the newest store with the given ordering.
//! Under `lkmm` a failing one is an unordered `READ_ONCE()` (LKMM: a failed cmpxchg provides
//! no ordering), which may read an older store; an execution whose failing read saw the
//! expected value is not an execution of the program and is skipped (it would have been a
//! success, which the runtime places only after the newest store). Under `sc` and `tso` a
//! failing cmpxchg is what the runtime's RMW makes of it (under `tso` a locked instruction:
//! a full barrier, as on x86).

mod parse;
mod run;

pub use parse::parse;
pub use run::{check, outcomes};

use crate::runtime::types::{Fence, Ld, Rmw, St};
use std::fmt;

/// The most processes a test may have (`P0` to `P7`).
pub const MAX_PROCS: usize = 8;

/// A parsed litmus test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Litmus {
    /// The name on its `C NAME` line.
    pub name: String,
    /// Shared variables, in order of first mention.
    pub vars: Vec<String>,
    /// Their initial values (0 unless the initial state says otherwise).
    pub init: Vec<i64>,
    /// Spinlocks (`spinlock_t *` parameters and declarations).
    pub locks: Vec<String>,
    /// The processes, `P0` first.
    pub procs: Vec<Process>,
    /// The `exists` clause.
    pub exists: Cond,
}

/// One process of a test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    /// `P0`, `P1`, ...
    pub name: String,
    /// Its registers (local `int` variables), each starting at 0.
    pub regs: Vec<String>,
    pub body: Vec<Stmt>,
}

/// A statement of a process. Every variant but [`Stmt::Assign`] and [`Stmt::If`] is one model
/// step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stmt {
    /// `r = READ_ONCE(*x)` or `r = smp_load_acquire(x)` (`reg` is `None` when discarded).
    Load {
        reg: Option<usize>,
        var: usize,
        ord: Ld,
    },
    /// `WRITE_ONCE(*x, e)` or `smp_store_release(x, e)`.
    Store { var: usize, value: Expr, ord: St },
    /// `r = xchg(x, e)` and its `_relaxed`, `_acquire`, `_release` forms.
    Xchg {
        reg: Option<usize>,
        var: usize,
        value: Expr,
        ord: Rmw,
        op: &'static str,
    },
    /// `r = cmpxchg(x, old, new)` and its forms (see the module documentation for a failing
    /// one).
    Cmpxchg {
        reg: Option<usize>,
        var: usize,
        old: Expr,
        new: Expr,
        ord: Rmw,
        op: &'static str,
    },
    /// `smp_mb()`, `smp_rmb()`, `smp_wmb()`.
    Fence { fence: Fence, op: &'static str },
    /// `spin_lock(s)`; `mb` when `smp_mb__after_spinlock()` follows it at once (then the
    /// barrier is part of the acquiring step, as the runtime's `spin_lock_mb` has it).
    Lock { lock: usize, mb: bool },
    /// `spin_unlock(s)`.
    Unlock { lock: usize },
    /// `r = e` (local: no step).
    Assign { reg: usize, value: Expr },
    /// `if (cond) { .. } else { .. }` (local: no step).
    If {
        cond: Expr,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
    },
}

/// An expression over a process's registers and constants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Num(i64),
    Reg(usize),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

/// A unary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `!e`
    Not,
    /// `-e`
    Neg,
    /// `~e`
    BitNot,
}

/// A binary operator (C's meaning; arithmetic wraps, comparisons give 0 or 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    BitAnd,
    BitOr,
    BitXor,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl Expr {
    /// The value of the expression with registers `regs`.
    pub fn eval(&self, regs: &[i64]) -> i64 {
        match self {
            Expr::Num(n) => *n,
            Expr::Reg(r) => regs[*r],
            Expr::Unary(op, e) => {
                let v = e.eval(regs);
                match op {
                    UnOp::Not => i64::from(v == 0),
                    UnOp::Neg => v.wrapping_neg(),
                    UnOp::BitNot => !v,
                }
            }
            Expr::Binary(op, a, b) => {
                let a = a.eval(regs);
                // && and || do not look at the right side when the left decides.
                match op {
                    BinOp::And if a == 0 => return 0,
                    BinOp::Or if a != 0 => return 1,
                    _ => {}
                }
                let b = b.eval(regs);
                match op {
                    BinOp::Add => a.wrapping_add(b),
                    BinOp::Sub => a.wrapping_sub(b),
                    BinOp::Mul => a.wrapping_mul(b),
                    BinOp::BitAnd => a & b,
                    BinOp::BitOr => a | b,
                    BinOp::BitXor => a ^ b,
                    BinOp::Eq => i64::from(a == b),
                    BinOp::Ne => i64::from(a != b),
                    BinOp::Lt => i64::from(a < b),
                    BinOp::Le => i64::from(a <= b),
                    BinOp::Gt => i64::from(a > b),
                    BinOp::Ge => i64::from(a >= b),
                    BinOp::And | BinOp::Or => i64::from(b != 0),
                }
            }
        }
    }
}

/// The `exists` clause: a formula over final register and variable values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// `true` or `false`.
    Const(bool),
    /// `P:reg=N`: register `reg` of process `proc` ends as `value`.
    Reg { proc: usize, reg: usize, value: i64 },
    /// `x=N`: variable `var`'s final value (its newest store) is `value`.
    Var { var: usize, value: i64 },
    /// `~c`
    Not(Box<Cond>),
    /// `a /\ b`
    And(Box<Cond>, Box<Cond>),
    /// `a \/ b`
    Or(Box<Cond>, Box<Cond>),
}

impl Cond {
    /// Whether the formula holds in the final state `s`.
    pub fn holds(&self, s: &State) -> bool {
        match self {
            Cond::Const(b) => *b,
            Cond::Reg { proc, reg, value } => s.registers[*proc][*reg] == *value,
            Cond::Var { var, value } => s.vars[*var] == *value,
            Cond::Not(c) => !c.holds(s),
            Cond::And(a, b) => a.holds(s) && b.holds(s),
            Cond::Or(a, b) => a.holds(s) || b.holds(s),
        }
    }
}

/// The final state of one execution: every process's registers and every variable's final
/// value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct State {
    /// Per process, its registers in [`Process::regs`] order.
    pub registers: Vec<Vec<i64>>,
    /// Per variable, in [`Litmus::vars`] order.
    pub vars: Vec<i64>,
}

impl State {
    /// The registers as (`P:reg`, value), process by process.
    pub fn named_registers(&self, t: &Litmus) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for (p, proc) in t.procs.iter().enumerate() {
            for (r, name) in proc.regs.iter().enumerate() {
                let v = self.registers.get(p).and_then(|rs| rs.get(r)).copied();
                out.push((format!("{p}:{name}"), v.unwrap_or(0)));
            }
        }
        out
    }

    /// The final values as (variable, value).
    pub fn named_vars(&self, t: &Litmus) -> Vec<(String, i64)> {
        t.vars
            .iter()
            .cloned()
            .zip(self.vars.iter().copied())
            .collect()
    }
}

/// Whether some execution satisfies the `exists` clause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    Sometimes,
    Never,
}

impl Verdict {
    /// `Sometimes` or `Never`, as herd and the kernel's litmus comments spell them.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Sometimes => "Sometimes",
            Verdict::Never => "Never",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "Sometimes" => Ok(Verdict::Sometimes),
            "Never" => Ok(Verdict::Never),
            other => Err(format!(
                "unknown verdict '{other}' (expected Sometimes or Never)"
            )),
        }
    }
}

/// An execution that satisfies the `exists` clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    /// Its schedule bytes (the byte-driven scheduler replays it from them).
    pub bytes: Vec<u8>,
    /// Its final state.
    pub state: State,
    /// Registers as (`P:reg`, value).
    pub registers: Vec<(String, i64)>,
    /// Final values as (variable, value).
    pub finals: Vec<(String, i64)>,
    /// The execution as a per-process race diagram ([`crate::tools::render::table`]),
    /// preceded by a legend of the runtime's names for variables and locks.
    pub diagram: String,
}

/// The answer for one test under one memory model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub verdict: Verdict,
    /// Executions explored (with `Sometimes`, up to and including the witness).
    pub executions: u64,
    /// Executions that are no outcome of the program: a lock deadlock, or a failing
    /// `cmpxchg` that read its expected value (see the module documentation).
    pub skipped: u64,
    /// The first execution found that satisfies `exists` (with `Sometimes`).
    pub witness: Option<Witness>,
}
