//! `parkrace litmus`: answer C litmus tests (the format of the kernel's tools/memory-model)
//! with `Sometimes` or `Never` under a memory model, one line per file (or one JSON object).

use super::{EXIT_OK, EXIT_USAGE};
use crate::scenario::Memory;
use crate::tools::litmus::{self, Answer};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

pub(crate) const LITMUS_EXIT_HELP: &str = "Exit status:
  0  every file was answered (Sometimes or Never)
  2  bad arguments, or a file unreadable or not accepted (an unsupported construct, one line
     on stderr naming it and its line; with --json, an object with an error): the other
     files are still answered";

/// `parkrace litmus`'s arguments.
#[derive(clap::Args, Debug)]
pub struct LitmusArgs {
    /// The memory model to answer under: sc, tso or lkmm.
    #[arg(long, value_enum, default_value_t = Memory::Lkmm)]
    pub memory: Memory,
    /// Print one JSON object per file (file, name, verdict, memory, executions, skipped,
    /// witness with bytes, registers and finals; error and a null verdict for a file not
    /// answered).
    #[arg(long)]
    pub json: bool,
    /// The litmus files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Read and answer one file.
fn answer(file: &Path, memory: Memory) -> Result<(String, Answer), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read it: {e}"))?;
    let t = litmus::parse(&text)?;
    let a = litmus::check(&t, memory)?;
    Ok((t.name, a))
}

fn pairs(v: &[(String, i64)]) -> Value {
    Value::Object(
        v.iter()
            .map(|(k, x)| (k.clone(), json!(x)))
            .collect::<Map<_, _>>(),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn listed(v: &[(String, i64)]) -> String {
    v.iter()
        .map(|(k, x)| format!("{k}={x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Run `parkrace litmus`.
pub(crate) fn cmd_litmus(a: LitmusArgs) -> i32 {
    let mut status = EXIT_OK;
    let memory = a.memory.name();
    for file in &a.files {
        let shown = file.display().to_string();
        match answer(file, a.memory) {
            Err(e) => {
                status = EXIT_USAGE;
                if a.json {
                    let v = json!({
                        "file": shown, "name": null, "verdict": null, "error": e,
                        "memory": memory, "executions": null, "skipped": null, "witness": null,
                    });
                    println!("{v}");
                } else {
                    eprintln!("parkrace: {shown}: {e}");
                }
            }
            Ok((name, ans)) if a.json => {
                let witness = ans.witness.as_ref().map(|w| {
                    json!({
                        "bytes": hex(&w.bytes),
                        "registers": pairs(&w.registers),
                        "finals": pairs(&w.finals),
                    })
                });
                let v = json!({
                    "file": shown, "name": name, "verdict": ans.verdict.name(),
                    "memory": memory, "executions": ans.executions, "skipped": ans.skipped,
                    "witness": witness,
                });
                println!("{v}");
            }
            Ok((name, ans)) => {
                let skipped = if ans.skipped > 0 {
                    format!(", {} skipped", ans.skipped)
                } else {
                    String::new()
                };
                println!(
                    "{name}: {} under {memory} ({} executions{skipped})",
                    ans.verdict, ans.executions
                );
                if let Some(w) = &ans.witness {
                    println!(
                        "  witness: {} | {}",
                        listed(&w.registers),
                        listed(&w.finals)
                    );
                    println!("  schedule bytes: {}", hex(&w.bytes));
                    for line in w.diagram.lines() {
                        println!("  {line}");
                    }
                }
            }
        }
    }
    status
}
