//! A campaign's folder: `campaign.json` (what it searches, written once), `journal.jsonl` (one
//! fsync'd line per finished unit: the checkpoint), `repros/` (a repro file and a race diagram
//! per distinct violation), `summary.json` and `report.html` (derived from the other two, made
//! anew at the end, every minute, and by `parkrace report`).
//!
//! A running soak holds an exclusive `flock` on the journal, so a second soak cannot write to
//! the same folder at once; the kernel drops the lock when the process dies, even by
//! `kill -9`.

use super::{Campaign, FORMAT, UnitRecord, VERSION};
use crate::tools::repro::{remove_stale_temps, write_atomic};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub const CAMPAIGN: &str = "campaign.json";
pub const JOURNAL: &str = "journal.jsonl";
pub const SUMMARY: &str = "summary.json";
pub const REPORT: &str = "report.html";

/// Why a campaign folder cannot be used.
#[derive(Debug)]
pub enum SoakError {
    /// Bad arguments or a folder that is not (or already is) a campaign: exit 2.
    Usage(String),
    /// Reading or writing failed: exit 3.
    Io(String),
}

impl std::fmt::Display for SoakError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SoakError::Usage(s) | SoakError::Io(s) => f.write_str(s),
        }
    }
}

fn io(path: &Path, e: std::io::Error) -> SoakError {
    SoakError::Io(format!("{}: {e}", path.display()))
}

/// An open campaign folder, locked for writing.
pub struct Store {
    dir: PathBuf,
    journal: Mutex<File>,
}

/// Take the exclusive lock on the journal, or say who holds it.
fn lock(f: &File, dir: &Path) -> Result<(), SoakError> {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a descriptor this process owns.
        let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r != 0 {
            return Err(SoakError::Usage(format!(
                "{} is in use by another running parkrace soak",
                dir.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = (f, dir);
    Ok(())
}

impl Store {
    /// Start a new campaign in `dir`: refuses a folder that holds a campaign already, or
    /// anything else.
    pub fn create(dir: &Path, campaign: &Campaign) -> Result<Store, SoakError> {
        if dir.join(CAMPAIGN).exists() {
            return Err(SoakError::Usage(format!(
                "{} holds a soak campaign already: continue it with `parkrace soak --resume {}`, or choose a new folder",
                dir.display(),
                dir.display()
            )));
        }
        not_a_folder(dir)?;
        if dir.exists() {
            let empty = fs::read_dir(dir).map_err(|e| io(dir, e))?.next().is_none();
            if !empty {
                return Err(SoakError::Usage(format!(
                    "{} exists and is not an empty folder; choose a new folder for the campaign",
                    dir.display()
                )));
            }
        }
        fs::create_dir_all(dir.join("repros")).map_err(|e| io(dir, e))?;
        let jpath = dir.join(JOURNAL);
        let journal = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&jpath)
            .map_err(|e| io(&jpath, e))?;
        lock(&journal, dir)?;
        let text = serde_json::to_string_pretty(campaign).expect("a campaign serializes");
        let cpath = dir.join(CAMPAIGN);
        write_atomic(&cpath, text.as_bytes()).map_err(|e| io(&cpath, e))?;
        Ok(Store {
            dir: dir.to_path_buf(),
            journal: Mutex::new(journal),
        })
    }

    /// Open a campaign to continue it: its campaign, and the units its journal lists. A last
    /// line cut short by a crash is dropped from the file.
    pub fn resume(dir: &Path) -> Result<(Store, Campaign, Vec<UnitRecord>), SoakError> {
        let campaign = read_campaign(dir)?;
        if campaign.parkrace != env!("CARGO_PKG_VERSION") {
            return Err(SoakError::Usage(format!(
                "{} was started by parkrace {}, this is {}: its schedules fit only the model that made them",
                dir.display(),
                campaign.parkrace,
                env!("CARGO_PKG_VERSION")
            )));
        }
        let jpath = dir.join(JOURNAL);
        let mut journal = OpenOptions::new()
            .append(true)
            .read(true)
            .open(&jpath)
            .map_err(|e| io(&jpath, e))?;
        lock(&journal, dir)?;
        let mut raw = Vec::new();
        journal.read_to_end(&mut raw).map_err(|e| io(&jpath, e))?;
        let text = utf8(raw, &jpath)?;
        let (records, good) = parse_journal(&text, &jpath)?;
        if good < text.len() {
            journal.set_len(good as u64).map_err(|e| io(&jpath, e))?;
            journal.sync_all().map_err(|e| io(&jpath, e))?;
        }
        fs::create_dir_all(dir.join("repros")).map_err(|e| io(dir, e))?;
        // Holding the lock, no other soak writes here: temporary files are leftovers of a
        // write cut short (a kill, a full disk).
        for d in [dir.to_path_buf(), dir.join("repros")] {
            remove_stale_temps(&d).map_err(|e| io(&d, e))?;
        }
        Ok((
            Store {
                dir: dir.to_path_buf(),
                journal: Mutex::new(journal),
            },
            campaign,
            records,
        ))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Append one finished unit and fsync it.
    pub fn append(&self, rec: &UnitRecord) -> std::io::Result<()> {
        let mut line = serde_json::to_string(rec).expect("a unit record serializes");
        line.push('\n');
        let mut f = self.journal.lock().unwrap();
        f.write_all(line.as_bytes())?;
        f.sync_data()
    }
}

/// Read a campaign folder without locking it (for `parkrace report` and `soak merge`).
pub fn load(dir: &Path) -> Result<(Campaign, Vec<UnitRecord>), SoakError> {
    let campaign = read_campaign(dir)?;
    let jpath = dir.join(JOURNAL);
    let text = utf8(fs::read(&jpath).map_err(|e| io(&jpath, e))?, &jpath)?;
    let (records, _) = parse_journal(&text, &jpath)?;
    Ok((campaign, records))
}

/// A file's bytes as text; bytes that are no UTF-8 make it no parkrace file (bad input).
fn utf8(bytes: Vec<u8>, path: &Path) -> Result<String, SoakError> {
    String::from_utf8(bytes).map_err(|e| {
        SoakError::Usage(format!(
            "{}: not a parkrace file: not UTF-8 text (byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Refuse a campaign folder that is a file, or lies under one (bad input, not an I/O error).
fn not_a_folder(dir: &Path) -> Result<(), SoakError> {
    for a in dir.ancestors().filter(|a| !a.as_os_str().is_empty()) {
        if a.exists() && !a.is_dir() {
            return Err(SoakError::Usage(if a == dir {
                format!(
                    "{} is a file, not a folder; choose a new folder for the campaign",
                    dir.display()
                )
            } else {
                format!("{}: {} is a file, not a folder", dir.display(), a.display())
            }));
        }
    }
    Ok(())
}

fn read_campaign(dir: &Path) -> Result<Campaign, SoakError> {
    not_a_folder(dir)?;
    let cpath = dir.join(CAMPAIGN);
    if !cpath.exists() {
        return Err(SoakError::Usage(format!(
            "{} is not a soak campaign folder (no {CAMPAIGN})",
            dir.display()
        )));
    }
    let text = utf8(fs::read(&cpath).map_err(|e| io(&cpath, e))?, &cpath)?;
    let c: Campaign = serde_json::from_str(&text).map_err(|e| {
        SoakError::Usage(format!(
            "{}: not a parkrace campaign file: {e}",
            cpath.display()
        ))
    })?;
    if c.format != FORMAT || c.version != VERSION {
        return Err(SoakError::Usage(format!(
            "{}: format '{}' version {} is not '{FORMAT}' version {VERSION}",
            cpath.display(),
            c.format,
            c.version
        )));
    }
    Ok(c)
}

/// The records of a journal, each unit once, and the length of its well-formed part: every
/// complete line must parse; an incomplete last line (a write cut short) is left out.
fn parse_journal(text: &str, path: &Path) -> Result<(Vec<UnitRecord>, usize), SoakError> {
    let mut records: Vec<UnitRecord> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut good = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if !line.ends_with('\n') {
            break;
        }
        let rec: UnitRecord = serde_json::from_str(line).map_err(|e| {
            SoakError::Usage(format!(
                "{} line {}: not a unit record: {e}",
                path.display(),
                i + 1
            ))
        })?;
        good += line.len();
        if seen.insert(rec.u) {
            records.push(rec);
        }
    }
    records.sort_by_key(|r| r.u);
    Ok((records, good))
}

/// Write a folder's derived files (`summary.json`, `report.html`) atomically.
pub fn write_derived(dir: &Path, summary: &str, html: &str) -> std::io::Result<()> {
    write_atomic(&dir.join(SUMMARY), summary.as_bytes())?;
    write_atomic(&dir.join(REPORT), html.as_bytes())
}
