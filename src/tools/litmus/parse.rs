//! The reader of the C litmus format: a lexer (with `(* *)`, `/* */` and `//` comments)
//! and a recursive-descent parser that builds a [`Litmus`] or refuses the test with one line
//! (`line N: ...`) naming what it does not accept.

use super::{BinOp, Cond, Expr, Litmus, MAX_PROCS, Process, Stmt, UnOp};
use crate::runtime::types::{Fence, Ld, Rmw, St};

/// A token and the line it starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Token {
    tok: Tok,
    line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Num(i64),
    Str,
    Punct(&'static str),
    Eof,
}

/// Punctuation, longest first.
const PUNCT: &[&str] = &[
    "/\\", "\\/", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "->", "++", "--", "+=", "-=",
    "*=", "|=", "&=", "^=", "{", "}", "(", ")", "[", "]", ";", ",", ":", "=", "*", "&", "|", "^",
    "+", "-", "!", "~", "<", ">", "/", "%", ".", "?",
];

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Whether `rest`, what follows a `(*`, starts C code (`READ_ONCE(*x)`, `(*(p))`) rather
/// than a comment: herd's `(*` comments open with a space, a newline or a star.
fn deref_in_parens(rest: &[u8]) -> bool {
    rest.first().is_some_and(|&c| is_ident(c) || c == b'(')
}

/// Split `src` (whose first line is line `first`) into tokens.
fn lex(src: &str, first: usize) -> Result<Vec<Token>, String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, first);
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if b[i..].starts_with(b"(*") && !deref_in_parens(&b[i + 2..]) {
            // An OCaml-style comment (nested); `(*x` is C code, not a comment.
            let start = line;
            let mut depth = 0;
            loop {
                if i >= b.len() {
                    return Err(format!("line {start}: comment '(*' is never closed"));
                }
                if b[i..].starts_with(b"(*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*)") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(b[i] == b'\n');
                    i += 1;
                }
            }
        } else if b[i..].starts_with(b"/*") {
            let start = line;
            i += 2;
            loop {
                if i >= b.len() {
                    return Err(format!("line {start}: comment '/*' is never closed"));
                }
                if b[i..].starts_with(b"*/") {
                    i += 2;
                    break;
                }
                line += usize::from(b[i] == b'\n');
                i += 1;
            }
        } else if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'"' {
            let start = line;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                line += usize::from(b[i] == b'\n');
                i += 1;
            }
            if i >= b.len() {
                return Err(format!("line {start}: string is never closed"));
            }
            i += 1;
            out.push(Token {
                tok: Tok::Str,
                line: start,
            });
        } else if c.is_ascii_digit() {
            let s = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            let text = &src[s..i];
            let n = if let Some(hex) = text.strip_prefix("0x").or(text.strip_prefix("0X")) {
                i64::from_str_radix(hex, 16)
            } else {
                text.parse::<i64>()
            };
            let n = n.map_err(|_| format!("line {line}: '{text}' is not a number that fits"))?;
            out.push(Token {
                tok: Tok::Num(n),
                line,
            });
        } else if is_ident(c) {
            let s = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(src[s..i].to_string()),
                line,
            });
        } else if let Some(p) = PUNCT.iter().find(|p| b[i..].starts_with(p.as_bytes())) {
            i += p.len();
            out.push(Token {
                tok: Tok::Punct(p),
                line,
            });
        } else {
            let ch = src[i..].chars().next().unwrap_or('?');
            return Err(format!("line {line}: unexpected character '{ch}'"));
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        line,
    });
    Ok(out)
}

/// Read a litmus test in the C format of `tools/memory-model`. Errors are one line,
/// `line N: what`, naming the construct that is not accepted.
pub fn parse(text: &str) -> Result<Litmus, String> {
    // The header: the first non-blank line is `C NAME`.
    let mut lines = text.lines().enumerate();
    let (hline, header) = loop {
        match lines.next() {
            None => return Err("line 1: empty file: a C litmus test starts with 'C NAME'".into()),
            Some((_, l)) if l.trim().is_empty() => continue,
            Some((n, l)) => break (n + 1, l.trim()),
        }
    };
    let mut words = header.split_whitespace();
    let arch = words.next().unwrap_or_default();
    if arch != "C" {
        return Err(format!(
            "line {hline}: not a C litmus test (it starts with '{arch}'): only the C format of \
             tools/memory-model is read"
        ));
    }
    let name = words
        .next()
        .ok_or_else(|| format!("line {hline}: the 'C' line names no test"))?
        .to_string();
    // The rest of the text, after the header line.
    let rest: String = text
        .split_inclusive('\n')
        .skip(hline)
        .collect::<Vec<_>>()
        .concat();
    let toks = lex(&rest, hline + 1)?;
    let mut p = Parser {
        toks,
        pos: 0,
        vars: Vec::new(),
        init: Vec::new(),
        locks: Vec::new(),
    };
    p.litmus(name)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    vars: Vec<String>,
    init: Vec<i64>,
    locks: Vec<String>,
}

/// What a process's names stand for.
struct Scope {
    proc: String,
    /// Parameters that are shared variables: (name, variable index).
    vars: Vec<(String, usize)>,
    /// Parameters that are spinlocks: (name, lock index).
    locks: Vec<(String, usize)>,
    regs: Vec<String>,
}

impl Scope {
    fn var(&self, name: &str) -> Option<usize> {
        self.vars.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
    fn lock(&self, name: &str) -> Option<usize> {
        self.locks.iter().find(|(n, _)| n == name).map(|(_, l)| *l)
    }
    fn reg(&self, name: &str) -> Option<usize> {
        self.regs.iter().position(|r| r == name)
    }
    fn is_param(&self, name: &str) -> bool {
        self.var(name).is_some() || self.lock(name).is_some()
    }
    /// The register `name`, declared here if it is new.
    fn reg_or_new(&mut self, name: &str) -> usize {
        match self.reg(name) {
            Some(r) => r,
            None => {
                self.regs.push(name.to_string());
                self.regs.len() - 1
            }
        }
    }
}

/// C keywords and type names a process body may not use, with what they are.
fn refused_word(w: &str) -> Option<&'static str> {
    Some(match w {
        "while" | "for" | "do" | "goto" => "loops",
        "switch" | "case" | "break" | "continue" | "return" => "control flow other than if/else",
        "atomic_t" | "atomic_long_t" | "atomic64_t" => "atomic_t variables",
        "unsigned" | "long" | "short" | "char" | "bool" | "u8" | "u16" | "u32" | "u64" | "s32"
        | "s64" | "intptr_t" | "uintptr_t" | "size_t" | "struct" | "union" | "enum"
        | "volatile" | "const" | "static" | "void" | "float" | "double" | "typedef" => {
            "types other than int and spinlock_t"
        }
        _ => return None,
    })
}

/// What a call the parser does not know is, for the refusal.
fn refused_call(name: &str) -> String {
    let what = if name.starts_with("atomic") {
        "atomic_t operations are"
    } else if name.contains("rcu") {
        "RCU is"
    } else if name == "smp_store_mb" {
        "smp_store_mb() is"
    } else if name.starts_with("smp_mb__") {
        "this barrier is"
    } else if name.starts_with("spin_") || name.contains("lock") {
        "only spin_lock() and spin_unlock() are supported; this lock operation is"
    } else if name.ends_with("_bit") {
        "bit operations are"
    } else {
        "this call is"
    };
    format!("{name}(): {what} not supported")
}

fn rmw_form(name: &str) -> Option<(bool, Rmw, &'static str)> {
    Some(match name {
        "xchg" => (false, Rmw::Ordered, "xchg"),
        "xchg_relaxed" => (false, Rmw::Relaxed, "xchg_relaxed"),
        "xchg_acquire" => (false, Rmw::Acquire, "xchg_acquire"),
        "xchg_release" => (false, Rmw::Release, "xchg_release"),
        "cmpxchg" => (true, Rmw::Ordered, "cmpxchg"),
        "cmpxchg_relaxed" => (true, Rmw::Relaxed, "cmpxchg_relaxed"),
        "cmpxchg_acquire" => (true, Rmw::Acquire, "cmpxchg_acquire"),
        "cmpxchg_release" => (true, Rmw::Release, "cmpxchg_release"),
        _ => return None,
    })
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn peek_at(&self, k: usize) -> &Tok {
        let i = (self.pos + k).min(self.toks.len() - 1);
        &self.toks[i].tok
    }

    fn line(&self) -> usize {
        self.toks[self.pos].line
    }

    fn next(&mut self) -> Tok {
        let t = self.toks[self.pos].tok.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn err<T>(&self, msg: impl std::fmt::Display) -> Result<T, String> {
        Err(format!("line {}: {msg}", self.line()))
    }

    fn describe(t: &Tok) -> String {
        match t {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Num(n) => format!("'{n}'"),
            Tok::Str => "a string".into(),
            Tok::Punct(p) => format!("'{p}'"),
            Tok::Eof => "the end of the file".into(),
        }
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }

    fn eat(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.next();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &str, what: &str) -> Result<(), String> {
        if self.eat(p) {
            Ok(())
        } else {
            let found = Self::describe(self.peek());
            self.err(format!("expected '{p}' {what}, found {found}"))
        }
    }

    fn ident(&mut self, what: &str) -> Result<String, String> {
        match self.peek().clone() {
            Tok::Ident(s) => {
                self.next();
                Ok(s)
            }
            t => self.err(format!("expected {what}, found {}", Self::describe(&t))),
        }
    }

    fn var_index(&mut self, name: &str) -> usize {
        match self.vars.iter().position(|v| v == name) {
            Some(i) => i,
            None => {
                self.vars.push(name.to_string());
                self.init.push(0);
                self.vars.len() - 1
            }
        }
    }

    fn lock_index(&mut self, name: &str) -> usize {
        match self.locks.iter().position(|v| v == name) {
            Some(i) => i,
            None => {
                self.locks.push(name.to_string());
                self.locks.len() - 1
            }
        }
    }

    /// A shared name used as a variable: refused if it is a lock.
    fn shared_var(&mut self, name: &str) -> Result<usize, String> {
        if self.locks.iter().any(|l| l == name) {
            return self.err(format!("'{name}' is a spinlock_t, used here as an int"));
        }
        Ok(self.var_index(name))
    }

    /// A shared name used as a lock: refused if it is a variable.
    fn shared_lock(&mut self, name: &str) -> Result<usize, String> {
        if self.vars.iter().any(|v| v == name) {
            return self.err(format!("'{name}' is an int, used here as a spinlock_t"));
        }
        Ok(self.lock_index(name))
    }

    fn litmus(&mut self, name: String) -> Result<Litmus, String> {
        // An optional doc string after the name line.
        if *self.peek() == Tok::Str {
            self.next();
        }
        self.init_state()?;
        let mut procs: Vec<Process> = Vec::new();
        loop {
            let at = match self.peek() {
                Tok::Ident(w) if w == "void" => 1,
                _ => 0,
            };
            match self.peek_at(at).clone() {
                Tok::Ident(w) if w.starts_with('P') && w[1..].parse::<usize>().is_ok() => {
                    for _ in 0..at {
                        self.next();
                    }
                    let n: usize = w[1..].parse().unwrap_or(usize::MAX);
                    if n != procs.len() {
                        return self.err(format!(
                            "process {w} out of order: expected P{}",
                            procs.len()
                        ));
                    }
                    if n >= MAX_PROCS {
                        return self.err(format!(
                            "{w}: at most {MAX_PROCS} processes (P0 to P{}) are supported",
                            MAX_PROCS - 1
                        ));
                    }
                    self.next();
                    procs.push(self.process(w)?);
                }
                _ => break,
            }
        }
        if procs.is_empty() {
            let found = Self::describe(self.peek());
            return self.err(format!(
                "expected a process P0(...) {{ ... }}, found {found}"
            ));
        }
        let exists = self.condition(&procs)?;
        if *self.peek() != Tok::Eof {
            let found = Self::describe(self.peek());
            return self.err(format!("unexpected {found} after the exists clause"));
        }
        Ok(Litmus {
            name,
            vars: std::mem::take(&mut self.vars),
            init: std::mem::take(&mut self.init),
            locks: std::mem::take(&mut self.locks),
            procs,
            exists,
        })
    }

    /// `{ x=1; int y = 2; spinlock_t s; }`
    fn init_state(&mut self) -> Result<(), String> {
        self.expect("{", "opening the initial state")?;
        loop {
            if self.eat("}") {
                return Ok(());
            }
            if self.eat(";") {
                continue;
            }
            match self.peek().clone() {
                Tok::Num(_) => {
                    return self.err("initial register values (P:reg=...) are not supported");
                }
                Tok::Ident(w) if w == "int" => {
                    self.next();
                    if self.is_punct("*") {
                        return self.err("pointer variables are not supported");
                    }
                    let v = self.ident("a variable name")?;
                    self.init_entry(&v)?;
                }
                Tok::Ident(w) if w == "spinlock_t" => {
                    self.next();
                    let l = self.ident("a lock name")?;
                    self.shared_lock(&l)?;
                }
                Tok::Ident(w) => {
                    if let Some(what) = refused_word(&w) {
                        return self.err(format!(
                            "'{w}' in the initial state: {what} are not supported"
                        ));
                    }
                    self.next();
                    self.init_entry(&w)?;
                }
                t => {
                    let found = Self::describe(&t);
                    return self.err(format!("unexpected {found} in the initial state"));
                }
            }
        }
    }

    /// After a variable's name in the initial state: `[= N]` then `;` or `}`.
    fn init_entry(&mut self, v: &str) -> Result<(), String> {
        if self.is_punct("[") {
            return self.err(format!("'{v}[...]': arrays are not supported"));
        }
        let i = self.shared_var(v)?;
        if self.eat("=") {
            let neg = self.eat("-");
            match self.next() {
                Tok::Num(n) => self.init[i] = if neg { n.wrapping_neg() } else { n },
                Tok::Ident(w) => {
                    return self.err(format!(
                        "'{v}={w}': pointer initial values are not supported"
                    ));
                }
                Tok::Punct("&") => {
                    return self.err(format!(
                        "'{v}=&...': pointer initial values are not supported"
                    ));
                }
                t => {
                    let found = Self::describe(&t);
                    return self.err(format!("expected a number for {v}, found {found}"));
                }
            }
        }
        if !self.is_punct(";") && !self.is_punct("}") {
            let found = Self::describe(self.peek());
            return self.err(format!(
                "expected ';' after {v}'s initial value, found {found}"
            ));
        }
        Ok(())
    }

    /// `P0(int *x, spinlock_t *s) { ... }` after its name.
    fn process(&mut self, name: String) -> Result<Process, String> {
        let line = self.line();
        let mut scope = Scope {
            proc: name.clone(),
            vars: Vec::new(),
            locks: Vec::new(),
            regs: Vec::new(),
        };
        self.expect("(", &format!("after {name}"))?;
        if !self.eat(")") {
            loop {
                let ty = self.ident("a parameter type (int * or spinlock_t *)")?;
                if ty == "void" && self.is_punct(")") {
                    self.next();
                    break;
                }
                if ty != "int" && ty != "spinlock_t" {
                    let what = refused_word(&ty)
                        .unwrap_or("parameter types other than int * and spinlock_t *");
                    return self.err(format!(
                        "{name}'s parameter type '{ty}': {what} are not supported"
                    ));
                }
                self.expect(
                    "*",
                    &format!("in {name}'s parameter (int *x or spinlock_t *s)"),
                )?;
                if self.is_punct("*") {
                    return self.err(format!("{name}: pointers to pointers are not supported"));
                }
                let p = self.ident("a parameter name")?;
                if scope.is_param(&p) {
                    return self.err(format!("{name} names parameter '{p}' twice"));
                }
                if ty == "int" {
                    let v = self.shared_var(&p)?;
                    scope.vars.push((p, v));
                } else {
                    let l = self.shared_lock(&p)?;
                    scope.locks.push((p, l));
                }
                if self.eat(")") {
                    break;
                }
                self.expect(",", &format!("between {name}'s parameters"))?;
            }
        }
        self.expect("{", &format!("opening {name}'s body"))?;
        let body = self.block(&mut scope)?;
        check_locks(&name, &body, &self.locks).map_err(|e| format!("line {line}: {e}"))?;
        Ok(Process {
            name,
            regs: scope.regs,
            body,
        })
    }

    /// Statements up to the closing `}` (consumed).
    fn block(&mut self, sc: &mut Scope) -> Result<Vec<Stmt>, String> {
        let mut out = Vec::new();
        loop {
            if self.eat("}") {
                return Ok(out);
            }
            if *self.peek() == Tok::Eof {
                return self.err(format!("{}'s body is never closed", sc.proc));
            }
            self.statement(sc, &mut out)?;
        }
    }

    /// One statement (or a block, or a declaration), appended to `out`.
    fn statement(&mut self, sc: &mut Scope, out: &mut Vec<Stmt>) -> Result<(), String> {
        match self.next() {
            Tok::Punct(";") => Ok(()),
            Tok::Punct("{") => {
                out.extend(self.block(sc)?);
                Ok(())
            }
            Tok::Punct("*") => self
                .err("plain C accesses (*x) are not supported: use READ_ONCE() and WRITE_ONCE()"),
            Tok::Ident(w) if w == "int" => self.declaration(sc, out),
            Tok::Ident(w) if w == "if" => {
                self.expect("(", "after if")?;
                let cond = self.expr(sc)?;
                self.expect(")", "closing the if condition")?;
                let mut then = Vec::new();
                self.statement(sc, &mut then)?;
                let mut otherwise = Vec::new();
                if matches!(self.peek(), Tok::Ident(w) if w == "else") {
                    self.next();
                    self.statement(sc, &mut otherwise)?;
                }
                out.push(Stmt::If {
                    cond,
                    then,
                    otherwise,
                });
                Ok(())
            }
            Tok::Ident(w) => {
                if let Some(what) = refused_word(&w) {
                    self.pos -= 1;
                    return self.err(format!("'{w}': {what} are not supported"));
                }
                if self.is_punct("(") {
                    self.pos -= 1;
                    self.call_statement(sc, out)
                } else if self.is_punct("=") {
                    self.next();
                    self.assignment(sc, &w, out)
                } else {
                    let found = Self::describe(self.peek());
                    if sc.is_param(&w) {
                        return self.err(format!(
                            "'{w}' is a pointer parameter: access it through \
                             READ_ONCE(*{w}) or WRITE_ONCE(*{w}, ...)"
                        ));
                    }
                    self.err(format!(
                        "'{w} {}': only 'r = ...' assignments are supported",
                        found.trim_matches('\'')
                    ))
                }
            }
            t => {
                self.pos -= 1;
                self.err(format!(
                    "unexpected {} in {}'s body",
                    Self::describe(&t),
                    sc.proc
                ))
            }
        }
    }

    /// `int r0, r1 = e;` after `int`.
    fn declaration(&mut self, sc: &mut Scope, out: &mut Vec<Stmt>) -> Result<(), String> {
        loop {
            if self.is_punct("*") {
                return self.err("local pointers are not supported");
            }
            let r = self.ident("a register name")?;
            if sc.is_param(&r) {
                return self.err(format!("register '{r}' has the name of a parameter"));
            }
            if self.is_punct("[") {
                return self.err(format!("'{r}[...]': arrays are not supported"));
            }
            let reg = sc.reg_or_new(&r);
            if self.eat("=") {
                if let (Tok::Ident(f), Tok::Punct("(")) =
                    (self.peek().clone(), self.peek_at(1).clone())
                {
                    self.access(sc, &f, Some(reg), out)?;
                    self.access_alone(&f)?;
                } else {
                    let value = self.expr(sc)?;
                    out.push(Stmt::Assign { reg, value });
                }
            }
            if self.eat(";") {
                return Ok(());
            }
            self.expect(",", "or ';' in a declaration")?;
        }
    }

    /// `r = rhs;` after `r =`.
    fn assignment(&mut self, sc: &mut Scope, r: &str, out: &mut Vec<Stmt>) -> Result<(), String> {
        if sc.is_param(r) {
            self.pos -= 1;
            return self.err(format!(
                "'{r} = ...' assigns a pointer parameter: not supported"
            ));
        }
        if let (Tok::Ident(f), Tok::Punct("(")) = (self.peek().clone(), self.peek_at(1).clone()) {
            let reg = sc.reg_or_new(r);
            self.access(sc, &f, Some(reg), out)?;
            self.access_alone(&f)?;
        } else {
            let value = self.expr(sc)?;
            let reg = sc.reg_or_new(r);
            out.push(Stmt::Assign { reg, value });
        }
        self.expect(";", "after an assignment")
    }

    /// A call as a statement: `WRITE_ONCE(*x, 1);`, `smp_mb();`, `spin_lock(s);`, ...
    fn call_statement(&mut self, sc: &mut Scope, out: &mut Vec<Stmt>) -> Result<(), String> {
        let f = self.ident("a call")?;
        let line = self.line();
        self.expect("(", &format!("after {f}"))?;
        match f.as_str() {
            "WRITE_ONCE" | "smp_store_release" => {
                let once = f == "WRITE_ONCE";
                let var = self.location(sc, &f, once)?;
                self.expect(",", &format!("in {f}()"))?;
                let value = self.expr(sc)?;
                self.expect(")", &format!("closing {f}()"))?;
                let ord = if once { St::Once } else { St::Release };
                out.push(Stmt::Store { var, value, ord });
            }
            "smp_mb" | "smp_rmb" | "smp_wmb" => {
                self.expect(")", &format!("closing {f}()"))?;
                let (fence, op) = match f.as_str() {
                    "smp_mb" => (Fence::Mb, "smp_mb()"),
                    "smp_rmb" => (Fence::Rmb, "smp_rmb()"),
                    _ => (Fence::Wmb, "smp_wmb()"),
                };
                out.push(Stmt::Fence { fence, op });
            }
            "smp_mb__after_spinlock" => {
                self.expect(")", &format!("closing {f}()"))?;
                // LKMM orders only accesses up to the lock with those after the barrier: a
                // full barrier is that only right after spin_lock().
                match out.last_mut() {
                    Some(Stmt::Lock { mb, .. }) if !*mb => *mb = true,
                    _ => {
                        return Err(format!(
                            "line {line}: smp_mb__after_spinlock() is supported only right after spin_lock()"
                        ));
                    }
                }
            }
            "spin_lock" | "spin_unlock" => {
                let name = self.ident("a spinlock_t parameter")?;
                let Some(lock) = sc.lock(&name) else {
                    return self.err(format!(
                        "'{name}' is not a spinlock_t parameter of {}",
                        sc.proc
                    ));
                };
                self.expect(")", &format!("closing {f}()"))?;
                out.push(if f == "spin_lock" {
                    Stmt::Lock { lock, mb: false }
                } else {
                    Stmt::Unlock { lock }
                });
            }
            _ => {
                self.pos -= 2;
                return self
                    .access(sc, &f, None, out)
                    .and_then(|()| self.expect(";", "after a call"));
            }
        }
        self.expect(";", &format!("after {f}()"))
    }

    /// A value-returning access `f(...)` (the cursor at `f`), its result into `reg`.
    fn access(
        &mut self,
        sc: &mut Scope,
        f: &str,
        reg: Option<usize>,
        out: &mut Vec<Stmt>,
    ) -> Result<(), String> {
        self.next();
        self.expect("(", &format!("after {f}"))?;
        match f {
            "READ_ONCE" | "smp_load_acquire" => {
                let once = f == "READ_ONCE";
                let var = self.location(sc, f, once)?;
                self.expect(")", &format!("closing {f}()"))?;
                let ord = if once { Ld::Once } else { Ld::Acquire };
                out.push(Stmt::Load { reg, var, ord });
            }
            _ => {
                let Some((cmp, ord, op)) = rmw_form(f) else {
                    self.pos -= 2;
                    return self.err(refused_call(f));
                };
                let var = self.location(sc, f, false)?;
                self.expect(",", &format!("in {f}()"))?;
                let first = self.expr(sc)?;
                if cmp {
                    self.expect(",", &format!("in {f}()"))?;
                    let new = self.expr(sc)?;
                    self.expect(")", &format!("closing {f}()"))?;
                    out.push(Stmt::Cmpxchg {
                        reg,
                        var,
                        old: first,
                        new,
                        ord,
                        op,
                    });
                } else {
                    self.expect(")", &format!("closing {f}()"))?;
                    out.push(Stmt::Xchg {
                        reg,
                        var,
                        value: first,
                        ord,
                        op,
                    });
                }
            }
        }
        Ok(())
    }

    /// After `r = f(...)`: refuse an operator that would make the access part of a larger
    /// expression.
    fn access_alone(&self, f: &str) -> Result<(), String> {
        match self.peek() {
            Tok::Punct(p) if *p != ";" && *p != "," => self.err(format!(
                "{f}() inside an expression is not supported: assign it to a register first"
            )),
            _ => Ok(()),
        }
    }

    /// The location argument of `f`: `*x` for the `_ONCE` forms, `x` for the others.
    fn location(&mut self, sc: &Scope, f: &str, deref: bool) -> Result<usize, String> {
        if self.is_punct("&") {
            return self.err(format!(
                "{f}(&...): address-of is not supported; pass the parameter"
            ));
        }
        let star = self.eat("*");
        let name = self.ident("a variable parameter")?;
        if star != deref {
            let want = if deref {
                format!("*{name}")
            } else {
                name.clone()
            };
            return self.err(format!("{f}() takes '{want}' here"));
        }
        if self.is_punct("[") || self.is_punct("->") || self.is_punct(".") || self.is_punct("+") {
            return self.err(format!(
                "{f}(): only a plain int * parameter is supported as its location"
            ));
        }
        match sc.var(&name) {
            Some(v) => Ok(v),
            None if sc.lock(&name).is_some() => {
                self.err(format!("'{name}' is a spinlock_t, used by {f}() as an int"))
            }
            None if sc.reg(&name).is_some() => self.err(format!(
                "{f}() through register '{name}': address dependencies through pointers are not supported"
            )),
            None => self.err(format!("'{name}' is not a parameter of {}", sc.proc)),
        }
    }

    // ---- expressions, C precedence ----

    fn expr(&mut self, sc: &Scope) -> Result<Expr, String> {
        self.binary(sc, 0)
    }

    fn binary(&mut self, sc: &Scope, level: usize) -> Result<Expr, String> {
        const LEVELS: &[&[(&str, BinOp)]] = &[
            &[("||", BinOp::Or)],
            &[("&&", BinOp::And)],
            &[("|", BinOp::BitOr)],
            &[("^", BinOp::BitXor)],
            &[("&", BinOp::BitAnd)],
            &[("==", BinOp::Eq), ("!=", BinOp::Ne)],
            &[
                ("<", BinOp::Lt),
                ("<=", BinOp::Le),
                (">", BinOp::Gt),
                (">=", BinOp::Ge),
            ],
            &[("+", BinOp::Add), ("-", BinOp::Sub)],
            &[("*", BinOp::Mul)],
        ];
        if level == LEVELS.len() {
            return self.unary(sc);
        }
        let mut left = self.binary(sc, level + 1)?;
        loop {
            let op = match self.peek() {
                Tok::Punct(p) => LEVELS[level].iter().find(|(s, _)| s == p).map(|(_, o)| *o),
                _ => None,
            };
            let Some(op) = op else { return Ok(left) };
            self.next();
            let right = self.binary(sc, level + 1)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self, sc: &Scope) -> Result<Expr, String> {
        let op = match self.peek() {
            Tok::Punct("!") => Some(UnOp::Not),
            Tok::Punct("-") => Some(UnOp::Neg),
            Tok::Punct("~") => Some(UnOp::BitNot),
            Tok::Punct("+") => {
                self.next();
                return self.unary(sc);
            }
            _ => None,
        };
        if let Some(op) = op {
            self.next();
            return Ok(Expr::Unary(op, Box::new(self.unary(sc)?)));
        }
        match self.peek().clone() {
            Tok::Num(n) => {
                self.next();
                Ok(Expr::Num(n))
            }
            Tok::Punct("(") => {
                self.next();
                let e = self.expr(sc)?;
                self.expect(")", "closing a parenthesis")?;
                Ok(e)
            }
            Tok::Punct("*") => self.err("plain C accesses (*x) are not supported: use READ_ONCE()"),
            Tok::Punct("&") => self.err("address-of (&x) is not supported"),
            Tok::Ident(w) => {
                if matches!(self.peek_at(1), Tok::Punct("(")) {
                    if w == "READ_ONCE" || w == "smp_load_acquire" || rmw_form(&w).is_some() {
                        return self.err(format!(
                            "{w}() inside an expression is not supported: assign it to a register first"
                        ));
                    }
                    return self.err(refused_call(&w));
                }
                if sc.is_param(&w) {
                    return self.err(format!(
                        "'{w}' is a pointer parameter, used here as a value (pointers are not supported)"
                    ));
                }
                if w == "true" || w == "false" {
                    self.next();
                    return Ok(Expr::Num(i64::from(w == "true")));
                }
                match sc.reg(&w) {
                    Some(r) => {
                        self.next();
                        Ok(Expr::Reg(r))
                    }
                    None => self.err(format!("unknown register '{w}' in {}", sc.proc)),
                }
            }
            t => {
                let found = Self::describe(&t);
                self.err(format!("expected an expression, found {found}"))
            }
        }
    }

    // ---- the final condition ----

    fn condition(&mut self, procs: &[Process]) -> Result<Cond, String> {
        match self.peek().clone() {
            Tok::Ident(w) if w == "exists" => {
                self.next();
                self.disjunction(procs)
            }
            Tok::Punct("~") if matches!(self.peek_at(1), Tok::Ident(w) if w == "exists") => {
                self.err("'~exists' conditions are not supported (only 'exists')")
            }
            Tok::Ident(w) if ["forall", "filter", "locations"].contains(&w.as_str()) => {
                self.err(format!("'{w}' clauses are not supported (only 'exists')"))
            }
            Tok::Ident(w) if w.starts_with('P') && w[1..].parse::<usize>().is_ok() => {
                self.err(format!(
                    "{w}: at most {MAX_PROCS} processes (P0 to P{}) are supported, in order",
                    MAX_PROCS - 1
                ))
            }
            t => {
                let found = Self::describe(&t);
                self.err(format!("expected the 'exists' clause, found {found}"))
            }
        }
    }

    fn disjunction(&mut self, procs: &[Process]) -> Result<Cond, String> {
        let mut c = self.conjunction(procs)?;
        while self.eat("\\/") {
            let r = self.conjunction(procs)?;
            c = Cond::Or(Box::new(c), Box::new(r));
        }
        Ok(c)
    }

    fn conjunction(&mut self, procs: &[Process]) -> Result<Cond, String> {
        let mut c = self.negation(procs)?;
        while self.eat("/\\") {
            let r = self.negation(procs)?;
            c = Cond::And(Box::new(c), Box::new(r));
        }
        Ok(c)
    }

    fn negation(&mut self, procs: &[Process]) -> Result<Cond, String> {
        if self.eat("~") {
            return Ok(Cond::Not(Box::new(self.negation(procs)?)));
        }
        if self.eat("(") {
            let c = self.disjunction(procs)?;
            self.expect(")", "closing a parenthesis in the condition")?;
            return Ok(c);
        }
        match self.next() {
            Tok::Num(p) => {
                self.expect(":", "in P:reg=N")?;
                let r = self.ident("a register")?;
                let proc = usize::try_from(p)
                    .ok()
                    .filter(|&p| p < procs.len())
                    .ok_or_else(|| {
                        let line = self.line();
                        format!("line {line}: the condition names process {p}, which the test does not have")
                    })?;
                let Some(reg) = procs[proc].regs.iter().position(|x| *x == r) else {
                    return self.err(format!(
                        "the condition names {p}:{r}, but P{p} has no register '{r}'"
                    ));
                };
                let value = self.cond_value(&format!("{p}:{r}"))?;
                Ok(Cond::Reg { proc, reg, value })
            }
            Tok::Ident(w) if w == "true" || w == "false" => Ok(Cond::Const(w == "true")),
            Tok::Ident(w) => {
                if self.is_punct("[") || self.is_punct(".") || self.is_punct("->") {
                    return self.err(format!(
                        "'{w}' in the condition: only 'x=N' and 'P:reg=N' are supported"
                    ));
                }
                let Some(var) = self.vars.iter().position(|v| *v == w) else {
                    if self.locks.contains(&w) {
                        return self.err(format!(
                            "'{w}' is a spinlock_t: lock states in the condition are not supported"
                        ));
                    }
                    return self.err(format!(
                        "the condition names '{w}', which is no shared variable of the test"
                    ));
                };
                let value = self.cond_value(&w)?;
                Ok(Cond::Var { var, value })
            }
            t => {
                self.pos -= 1;
                let found = Self::describe(&t);
                self.err(format!(
                    "expected 'P:reg=N' or 'x=N' in the condition, found {found}"
                ))
            }
        }
    }

    /// `=N` (or `=-N`) after an atom of the condition.
    fn cond_value(&mut self, atom: &str) -> Result<i64, String> {
        if self.is_punct("==") || self.is_punct("!=") {
            return self.err(format!("{atom}: the condition compares with '=' only"));
        }
        self.expect("=", &format!("after {atom} in the condition"))?;
        let neg = self.eat("-");
        match self.next() {
            Tok::Num(n) => Ok(if neg { n.wrapping_neg() } else { n }),
            Tok::Ident(w) => {
                self.pos -= 1;
                self.err(format!(
                    "{atom}={w}: comparing with a variable or pointer is not supported"
                ))
            }
            t => {
                self.pos -= 1;
                let found = Self::describe(&t);
                self.err(format!("expected a number after {atom}=, found {found}"))
            }
        }
    }
}

/// Refuse lock use the runtime cannot run to an end: taking a lock twice, releasing one not
/// held, ending holding one (a process that waited on it could never finish), and branches
/// of an `if` that leave different locks held.
fn check_locks(proc: &str, body: &[Stmt], names: &[String]) -> Result<(), String> {
    fn walk(
        proc: &str,
        body: &[Stmt],
        held: &mut Vec<usize>,
        names: &[String],
    ) -> Result<(), String> {
        let name = |l: usize| names.get(l).cloned().unwrap_or_default();
        for s in body {
            match s {
                Stmt::Lock { lock, .. } => {
                    if held.contains(lock) {
                        return Err(format!(
                            "{proc} takes spinlock {} while holding it",
                            name(*lock)
                        ));
                    }
                    held.push(*lock);
                }
                Stmt::Unlock { lock } => {
                    let Some(i) = held.iter().position(|l| l == lock) else {
                        return Err(format!(
                            "{proc} releases spinlock {} it does not hold",
                            name(*lock)
                        ));
                    };
                    held.remove(i);
                }
                Stmt::If {
                    then, otherwise, ..
                } => {
                    let mut a = held.clone();
                    let mut b = held.clone();
                    walk(proc, then, &mut a, names)?;
                    walk(proc, otherwise, &mut b, names)?;
                    a.sort_unstable();
                    b.sort_unstable();
                    if a != b {
                        return Err(format!(
                            "{proc}: the branches of an if leave different spinlocks held (not supported)"
                        ));
                    }
                    *held = a;
                }
                _ => {}
            }
        }
        Ok(())
    }
    let mut held = Vec::new();
    walk(proc, body, &mut held, names)?;
    if let Some(&l) = held.first() {
        return Err(format!(
            "{proc} ends holding spinlock {} (not supported: a process waiting for it could never finish)",
            names.get(l).cloned().unwrap_or_default()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SB: &str = "C SB
(* a comment (* nested *) *)
{ x=0; y=0; }
P0(int *x, int *y) { int r0; WRITE_ONCE(*x, 1); r0 = READ_ONCE(*y); }
P1(int *x, int *y) { int r0; WRITE_ONCE(*y, 1); r0 = READ_ONCE(*x); }
exists (0:r0=0 /\\ 1:r0=0)
";

    #[test]
    fn store_buffering_parses() {
        let t = parse(SB).unwrap();
        assert_eq!(t.name, "SB");
        assert_eq!(t.vars, ["x", "y"]);
        assert_eq!(t.procs.len(), 2);
        assert_eq!(t.procs[0].regs, ["r0"]);
        assert_eq!(
            t.procs[0].body[1],
            Stmt::Load {
                reg: Some(0),
                var: 1,
                ord: Ld::Once
            }
        );
        assert!(matches!(t.exists, Cond::And(..)));
    }

    #[test]
    fn every_supported_statement_parses() {
        let text = "C all
\"a doc string\"
{ int x = 1; y=-2; spinlock_t s; }
void P0(int *x, int *y, spinlock_t *s)
{
    int r0, r1 = 3;
    int r2;
    spin_lock(s);
    smp_mb__after_spinlock();
    r0 = smp_load_acquire(x);
    smp_store_release(y, r0 + 1);
    spin_unlock(s);
    r1 = xchg_relaxed(x, 2);
    r2 = cmpxchg_acquire(y, 0, r1 * 2);
    xchg(x, 5);
    smp_rmb(); smp_wmb(); smp_mb();
    if (r0 == 1 && !(r1 != 2) || r2) { WRITE_ONCE(*x, -1); } else if (r0) r1 = r1 | 4; else { }
    READ_ONCE(*y); // discarded
    /* a C comment */
}
exists (~(0:r0=1 \\/ x=2) /\\ y=-2 /\\ true)
";
        let t = parse(text).unwrap();
        assert_eq!(t.init, [1, -2]);
        assert_eq!(t.locks, ["s"]);
        let body = &t.procs[0].body;
        assert_eq!(body[1], Stmt::Lock { lock: 0, mb: true });
        assert!(body.iter().any(|s| matches!(
            s,
            Stmt::Cmpxchg {
                ord: Rmw::Acquire,
                ..
            }
        )));
        assert!(body.iter().any(|s| matches!(
            s,
            Stmt::Xchg {
                reg: None,
                ord: Rmw::Ordered,
                ..
            }
        )));
        assert!(body.iter().any(|s| matches!(s, Stmt::If { .. })));
    }

    /// Each refused construct gives one line naming it (and the line it is on).
    #[test]
    fn refusals_name_the_construct_and_the_line() {
        let wrap = |body: &str| {
            format!(
                "C t\n{{}}\nP0(int *x, spinlock_t *s)\n{{\nint r0;\n{body}\n}}\nexists (0:r0=0)\n"
            )
        };
        let cases = [
            ("smp_store_mb(x, 1);", "smp_store_mb"),
            ("atomic_inc(x);", "atomic"),
            ("rcu_read_lock();", "RCU"),
            ("while (r0) { }", "loops"),
            ("for (;;) { }", "loops"),
            ("*x = 1;", "plain C accesses"),
            ("r0 = *x;", "plain C accesses"),
            ("r0 = READ_ONCE(*x) + 1;", "inside an expression"),
            ("smp_mb__after_spinlock();", "smp_mb__after_spinlock"),
            ("spin_lock(s);", "ends holding"),
            ("spin_unlock(s);", "does not hold"),
            ("spin_trylock(s);", "spin_trylock"),
            ("r0 = READ_ONCE(x);", "takes '*x'"),
            ("smp_mb__before_atomic();", "smp_mb__before_atomic"),
            ("r0++;", "r0 ++"),
            ("if (r0) spin_lock(s);", "different spinlocks"),
        ];
        for (body, word) in cases {
            let e = parse(&wrap(body)).unwrap_err();
            assert!(e.contains(word), "{body}: {e}");
            // Lock balance is checked per process: its errors give the line of its body.
            let line = if body.contains("spin_") && !body.contains("trylock") {
                3
            } else {
                6
            };
            assert!(e.starts_with(&format!("line {line}: ")), "{body}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn refused_test_level_constructs() {
        let cases = [
            ("X86 SB\n{}\nP0:\n", "not a C litmus test"),
            ("C t\n{ atomic_t v; }\n", "atomic_t"),
            ("C t\n{ x=y; }\n", "pointer initial"),
            ("C t\n{ 0:r0=1; }\n", "initial register"),
            ("C t\n{}\nP0(atomic_t *v) {}\n", "atomic_t"),
            ("C t\n{}\nP0(int **p) {}\n", "pointers to pointers"),
            ("C t\n{}\nP1(int *x) {}\n", "out of order"),
            ("C t\n{}\nP0(int *x) {}\n~exists (x=1)\n", "~exists"),
            ("C t\n{}\nP0(int *x) {}\nforall (x=1)\n", "forall"),
            (
                "C t\n{}\nP0(int *x) {}\nlocations [x]\nexists (x=1)\n",
                "locations",
            ),
            (
                "C t\n{}\nP0(int *x) {}\nfilter (x=1)\nexists (x=1)\n",
                "filter",
            ),
            ("C t\n{}\nP0(int *x) {}\nexists (0:r9=1)\n", "no register"),
            (
                "C t\n{}\nP0(int *x) {}\nexists (z=1)\n",
                "no shared variable",
            ),
            (
                "C t\n{}\nP0(int *x) {}\nexists (x=1) extra\n",
                "after the exists",
            ),
            ("C t\n{}\nP0(int *x) { (* never closed\n", "never closed"),
            ("", "empty file"),
        ];
        for (text, word) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.contains(word), "{text:?}: {e}");
            assert!(e.starts_with("line "), "{e}");
        }
        let nine: String = (0..9).map(|i| format!("P{i}(int *x) {{}}\n")).collect();
        let e = parse(&format!("C t\n{{}}\n{nine}exists (x=1)\n")).unwrap_err();
        assert!(e.contains("at most 8 processes"), "{e}");
    }

    #[test]
    fn expressions_follow_c() {
        let t = parse(
            "C e\n{}\nP0(int *x) { int a = 2; int b = 3; int c = a + b * 2 == 8 || 0; int d = -a & 7; int e = !b; }\nexists (0:c=1)\n",
        )
        .unwrap();
        let mut regs = vec![0; 5];
        for s in &t.procs[0].body {
            if let Stmt::Assign { reg, value } = s {
                regs[*reg] = value.eval(&regs);
            }
        }
        assert_eq!(regs, [2, 3, 1, 6, 0]);
    }
}
