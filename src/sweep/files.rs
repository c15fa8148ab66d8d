//! A sweep's folder: results written atomically under a temporary name unique to the writer
//! (host, pid, random), the plan linked into place once, points claimed by exclusive create.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::MutexGuard;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Waits for the writes of a signal that exits at once (the command line passes
/// `cli::output::hold_writes`): taken from a temporary file's creation to its rename.
pub type Hold = fn() -> MutexGuard<'static, Vec<std::path::PathBuf>>;

/// `DIR/points`.
pub fn points_dir(dir: &Path) -> PathBuf {
    dir.join("points")
}

/// `DIR/models`.
pub fn models_dir(dir: &Path) -> PathBuf {
    dir.join("models")
}

/// The file name of point `i`: `0007.json`, as many digits as needed beyond four.
pub fn point_name(i: usize, ext: &str) -> String {
    format!("{i:04}.{ext}")
}

/// `DIR/points/NNNN.json`.
pub fn result_path(dir: &Path, i: usize) -> PathBuf {
    points_dir(dir).join(point_name(i, "json"))
}

/// `DIR/models/NNNN.json`.
pub fn model_path(dir: &Path, i: usize) -> PathBuf {
    models_dir(dir).join(point_name(i, "json"))
}

fn claim_path(dir: &Path, i: usize) -> PathBuf {
    points_dir(dir).join(point_name(i, "claim"))
}

/// Creates DIR and DIR/points.
pub fn make_dirs(dir: &Path) -> Result<()> {
    fs::create_dir_all(points_dir(dir)).map_err(|e| Error::io(dir, e))
}

/// The machine's name, so that a claim by a process on another machine (a shared folder
/// under Slurm) is never judged by this machine's process table.
fn host() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    if ok {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    }
}

/// A temporary name beside `path`, unique to this writer: `.NAME.HOST-PID-RANDOM.tmp`.
fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tag: u64 = rand::random();
    path.with_file_name(format!(
        ".{name}.{}-{}-{tag:016x}.tmp",
        host().replace(['/', '.'], "_"),
        std::process::id()
    ))
}

/// Writes the temporary file of `path`, then `place`s it (rename or link); the temporary is
/// removed whatever happens.
fn via_temp(
    path: &Path,
    bytes: &[u8],
    hold: Hold,
    place: impl FnOnce(&Path, &Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let tmp = temp_beside(path);
    let _writing = hold();
    let r = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_data()))
        .and_then(|()| place(&tmp, path));
    let _ = fs::remove_file(&tmp);
    r
}

/// Writes `path` atomically: readers see the old file or the whole new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8], hold: Hold) -> Result<()> {
    via_temp(path, bytes, hold, |tmp, path| fs::rename(tmp, path)).map_err(|e| Error::io(path, e))
}

/// Creates `path` with `bytes` unless it exists: Ok(true) when this call created it, whole;
/// Ok(false) when it was already there (it is left as it was).
pub fn create_new(path: &Path, bytes: &[u8], hold: Hold) -> Result<bool> {
    match via_temp(path, bytes, hold, |tmp, path| fs::hard_link(tmp, path)) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// A point this process runs: its claim file is removed when dropped (after the result is
/// written).
pub struct Claim(PathBuf);

impl Drop for Claim {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Claims point `i` for this process with an exclusive create of `DIR/points/NNNN.claim`.
/// None when another live process holds it. A claim left by a process of this machine that
/// no longer runs (killed) is taken over.
pub fn claim(dir: &Path, i: usize) -> Result<Option<Claim>> {
    let path = claim_path(dir, i);
    let me = format!("{} {}\n", std::process::id(), host());
    for _ in 0..2 {
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                f.write_all(me.as_bytes())
                    .map_err(|e| Error::io(&path, e))?;
                return Ok(Some(Claim(path)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if !stale(&path) {
                    return Ok(None);
                }
                let _ = fs::remove_file(&path);
            }
            Err(e) => return Err(Error::io(&path, e)),
        }
    }
    Ok(None)
}

/// True when point `i` is claimed by a live process (another sweep running it).
pub fn claimed(dir: &Path, i: usize) -> bool {
    let path = claim_path(dir, i);
    path.exists() && !stale(&path)
}

/// A claim whose process, on this machine, has ended.
fn stale(path: &Path) -> bool {
    let Ok(text) = fs::read_to_string(path) else {
        return false;
    };
    let mut parts = text.split_whitespace();
    let (Some(pid), Some(on)) = (
        parts.next().and_then(|p| p.parse::<i32>().ok()),
        parts.next(),
    ) else {
        return false; // being written, or not ours to judge
    };
    if on != host() || pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// What `DIR/points/NNNN.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    pub schema_version: u32,
    /// The plan's identity ([`crate::sweep::plan::SweepPlan::id`]).
    pub plan: String,
    pub point: usize,
    pub values: Vec<String>,
    /// `ok` or `failed`.
    pub status: String,
    /// The run's `--json` summary, exactly as `mlp-train … --json` prints it alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<serde_json::Value>,
    /// A failed point's one-line error and the exit code the run alone would have had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

/// Point `i`'s result, only when it is a complete result of this plan (any other content,
/// a result of another plan, a truncated file: None, and the point is run again).
pub fn read_result(dir: &Path, plan_id: &str, i: usize, values: &[String]) -> Option<PointResult> {
    let bytes = fs::read(result_path(dir, i)).ok()?;
    let r: PointResult = serde_json::from_slice(&bytes).ok()?;
    let complete = match r.status.as_str() {
        "ok" => r.summary.as_ref().is_some_and(|s| s.is_object()),
        "failed" => r.error.is_some(),
        _ => false,
    };
    (complete && r.plan == plan_id && r.point == i && r.values == values).then_some(r)
}

/// Writes point `i`'s result atomically.
pub fn write_result(dir: &Path, r: &PointResult, hold: Hold) -> Result<()> {
    let mut text = serde_json::to_string(r).unwrap_or_default();
    text.push('\n');
    write_atomic(&result_path(dir, r.point), text.as_bytes(), hold)
}
