//! The layers of `src/` import one way (README, "Architecture"): no module imports a module
//! that imports it back, directly or around a cycle, and no layer imports one above it. Read
//! from the sources: every `crate::...` and `super::...` path outside comments and unit-test
//! modules is an import.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The layers, lowest first; a module may import its own layer and those below it.
const LAYERS: &[&[&str]] = &[
    &["oracle", "statehash"],
    &["scenario", "variant"],
    &["history"],
    &["runtime"],
    &["kernel"],
    &["harness"],
    &["engine"],
    &["strategy"],
    &["tools"],
    &["cli"],
];

fn layer_of(module: &str) -> usize {
    let top = module.split("::").next().unwrap();
    LAYERS
        .iter()
        .position(|l| l.contains(&top))
        .unwrap_or_else(|| panic!("module {module} is in no layer: add its folder to LAYERS"))
}

/// Every module of the crate (`a::b` for `src/a/b.rs` or `src/a/b/mod.rs`) and its source.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix("src").unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if parts.last().is_some_and(|l| l == "mod") {
                    parts.pop();
                }
                if parts == ["lib"] || parts == ["main"] {
                    continue;
                }
                out.insert(parts.join("::"), fs::read_to_string(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(Path::new("src"), &mut out);
    out
}

/// The source without comments and without a trailing `#[cfg(test)] mod tests`.
fn code(src: &str) -> String {
    let src = match src.find("#[cfg(test)]\nmod tests") {
        Some(i) => &src[..i],
        None => src,
    };
    src.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules `module`'s code names, resolved to the longest known module path.
fn imports(module: &str, src: &str, known: &BTreeMap<String, String>) -> BTreeSet<String> {
    let code = code(src);
    let mut out = BTreeSet::new();
    let bytes = code.as_bytes();
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let i = from + i;
            from = i + start.len();
            if i > 0 && (is_ident(bytes[i - 1]) || bytes[i - 1] == b':') {
                continue;
            }
            // The path: identifiers joined by `::`.
            let mut end = i;
            while end < bytes.len() && (is_ident(bytes[end]) || bytes[end] == b':') {
                end += 1;
            }
            let segs: Vec<&str> = code[i..end].split("::").filter(|s| !s.is_empty()).collect();
            let (mut base, rest): (Vec<&str>, &[&str]) = if segs[0] == "crate" {
                (vec![], &segs[1..])
            } else {
                let mut base: Vec<&str> = module.split("::").collect();
                let ups = segs.iter().take_while(|s| **s == "super").count();
                base.truncate(base.len().saturating_sub(ups));
                (base, &segs[ups..])
            };
            let mut found = None;
            for n in (1..=rest.len()).rev() {
                let mut cand = base.clone();
                cand.extend(&rest[..n]);
                let cand = cand.join("::");
                if known.contains_key(&cand) {
                    found = Some(cand);
                    break;
                }
            }
            if found.is_none() && !base.is_empty() {
                base.clear();
            }
            if let Some(m) = found
                && m != module
                && !module.starts_with(&format!("{m}::"))
            {
                out.insert(m);
            }
        }
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let known = modules();
    known
        .iter()
        .map(|(m, src)| (m.clone(), imports(m, src, &known)))
        .collect()
}

/// A cycle through `start`, if there is one.
fn cycle(g: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn dfs(
        g: &BTreeMap<String, BTreeSet<String>>,
        at: &str,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for n in &g[at] {
            if n == start {
                return true;
            }
            if seen.insert(n.clone()) {
                path.push(n.clone());
                if dfs(g, n, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    dfs(g, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let g = graph();
    assert!(g.len() > 30, "read the crate's modules: {:?}", g.keys());
    for m in g.keys() {
        if let Some(c) = cycle(&g, m) {
            panic!("import cycle: {} -> {m}", c.join(" -> "));
        }
    }
}

#[test]
fn no_layer_imports_a_layer_above_it() {
    for (m, deps) in graph() {
        for d in deps {
            assert!(
                layer_of(&d) <= layer_of(&m),
                "{m} (layer {}) imports {d} (layer {}), a layer above it",
                layer_of(&m),
                layer_of(&d)
            );
        }
    }
}

/// The kernel model reaches the world only through `Current` (steps, recorded reads, waits):
/// it never names the runtime's `Kernel` (whose world lock is private to the runtime anyway,
/// see the `compile_fail` examples in `src/runtime/mod.rs`) nor the supervisor's access.
#[test]
fn the_kernel_model_holds_no_kernel_and_no_supervisor_access() {
    for (m, src) in modules() {
        if !m.starts_with("kernel") {
            continue;
        }
        let code = code(&src);
        for word in ["Kernel", "supervise", "World"] {
            let named = code.match_indices(word).any(|(i, _)| {
                let b = code.as_bytes();
                let before = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
                let after = b
                    .get(i + word.len())
                    .is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'));
                before && after
            });
            // `World` may be read (Current::read hands a `&World`), never held mutably.
            if word == "World" {
                assert!(!code.contains("&mut World"), "{m} holds the world mutably");
                continue;
            }
            assert!(
                !named,
                "{m} names `{word}`: model code goes through Current"
            );
        }
    }
}

/// The checker itself has teeth: it sees a cycle and a layer inversion when there is one.
#[test]
fn the_import_reader_sees_cycles_and_inversions() {
    let mut known = BTreeMap::new();
    known.insert(
        "runtime".to_string(),
        "use crate::kernel::sched::x;".to_string(),
    );
    known.insert(
        "kernel::sched".to_string(),
        "fn f() { crate::runtime::step(); super::kthread::g() }".to_string(),
    );
    known.insert(
        "kernel::kthread".to_string(),
        "// crate::tools::x in a comment is no import".to_string(),
    );
    let g: BTreeMap<String, BTreeSet<String>> = known
        .iter()
        .map(|(m, s)| (m.clone(), imports(m, s, &known)))
        .collect();
    assert_eq!(
        g["kernel::sched"],
        BTreeSet::from(["runtime".to_string(), "kernel::kthread".to_string()])
    );
    assert!(g["kernel::kthread"].is_empty());
    assert!(cycle(&g, "runtime").is_some());
    assert!(layer_of("kernel::sched") > layer_of("runtime"));
}
