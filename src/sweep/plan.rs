//! The plan of a sweep, `DIR/plan.json`: every point's full flags, the data's identity and the
//! program's version, written once (atomically, first writer wins) and compared on resume.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::fingerprint_of;
use crate::error::shown_path;
use crate::sweep::files;
use crate::{Error, Result};

/// The plan file's schema; bumped when a field changes meaning.
pub const PLAN_SCHEMA: u32 = 1;

/// The program that wrote a plan or a result: results of another version are not mixed.
pub fn tool() -> String {
    format!("mlp-train {}", env!("CARGO_PKG_VERSION"))
}

/// One command-line argument: text, or the bytes of one that is not UTF-8 (a file name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Arg {
    Text(String),
    Bytes { bytes: Vec<u8> },
}

impl Arg {
    pub fn new(s: &OsStr) -> Arg {
        match s.to_str() {
            Some(t) => Arg::Text(t.to_string()),
            None => Arg::Bytes {
                bytes: s.as_encoded_bytes().to_vec(),
            },
        }
    }

    pub fn os(&self) -> OsString {
        match self {
            Arg::Text(t) => OsString::from(t),
            Arg::Bytes { bytes } => {
                use std::os::unix::ffi::OsStringExt;
                OsString::from_vec(bytes.clone())
            }
        }
    }
}

/// A data file as the plan knows it: its path and its content's fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileId {
    pub path: Arg,
    pub fingerprint: String,
}

/// One point: its index, its value on each axis, the train flags it runs with (the base
/// flags, then `--AXIS=VALUE` for each axis).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanPoint {
    pub point: usize,
    pub values: Vec<String>,
    pub args: Vec<Arg>,
}

/// How the points were chosen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Search {
    /// Every combination of the axes' values.
    Grid,
    /// `--samples N` drawn with `--sweep-seed S`.
    Random { samples: usize, sweep_seed: u64 },
}

/// `DIR/plan.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepPlan {
    pub schema_version: u32,
    /// `mlp-train X.Y.Z`.
    pub tool: String,
    /// When the plan was first written (seconds since 1970, UTC); not part of its identity.
    pub created_unix_seconds: u64,
    pub data: FileId,
    pub test: Option<FileId>,
    /// The axes, as flag names without dashes.
    pub axes: Vec<String>,
    pub search: Search,
    /// With --save-models, each point's model is `DIR/models/NNNN.json`.
    pub save_models: bool,
    /// The train flags shared by every point.
    pub base: Vec<Arg>,
    pub points: Vec<PlanPoint>,
}

impl SweepPlan {
    /// The plan's identity, stamped on every result: a fingerprint of everything but the
    /// creation time.
    pub fn id(&self) -> String {
        let mut p = self.clone();
        p.created_unix_seconds = 0;
        fingerprint_of(&serde_json::to_vec(&p).unwrap_or_default())
    }

    /// `axis=value axis=value` of point `i`.
    pub fn label(&self, i: usize) -> String {
        let p = &self.points[i];
        self.axes
            .iter()
            .zip(&p.values)
            .map(|(a, v)| format!("{a}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// What differs between the plan in the folder (`self`) and the one asked for now, in
    /// the user's words; None when they are the same sweep.
    pub fn difference(&self, now: &SweepPlan) -> Option<String> {
        let path = |a: &Arg| shown_path(Path::new(&a.os()));
        if self.tool != now.tool {
            return Some(format!(
                "it was planned by {}, this is {} (results of two versions are not mixed)",
                self.tool, now.tool
            ));
        }
        if self.schema_version != now.schema_version {
            return Some(format!(
                "its schema is {}, this program writes {}",
                self.schema_version, now.schema_version
            ));
        }
        if self.data.fingerprint != now.data.fingerprint {
            return Some(format!(
                "the data's content changed: {} was {}, is now {}",
                path(&now.data.path),
                self.data.fingerprint,
                now.data.fingerprint
            ));
        }
        match (&self.test, &now.test) {
            (Some(a), Some(b)) if a.fingerprint != b.fingerprint => {
                return Some(format!(
                    "the test file's content changed: {} was {}, is now {}",
                    path(&b.path),
                    a.fingerprint,
                    b.fingerprint
                ))
            }
            _ => {}
        }
        if self.base != now.base || self.test.is_some() != now.test.is_some() {
            let shown = |args: &[Arg]| {
                args.iter()
                    .map(|a| crate::error::escaped(a.os().as_encoded_bytes(), 200))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            return Some(format!(
                "the flags changed: planned `{}`, now `{}`",
                shown(&self.base),
                shown(&now.base)
            ));
        }
        if self.axes != now.axes || self.search != now.search || self.points != now.points {
            return Some(format!(
                "the grid changed: planned {} point(s) over {}, now {} over {}",
                self.points.len(),
                self.axes.join(", "),
                now.points.len(),
                now.axes.join(", ")
            ));
        }
        if self.save_models != now.save_models {
            return Some(format!(
                "--save-models was {}, is now {}",
                if self.save_models {
                    "given"
                } else {
                    "not given"
                },
                if now.save_models {
                    "given"
                } else {
                    "not given"
                }
            ));
        }
        None
    }
}

/// `DIR/plan.json`.
pub fn plan_path(dir: &Path) -> PathBuf {
    dir.join("plan.json")
}

/// Reads `DIR/plan.json`.
pub fn load(dir: &Path) -> Result<SweepPlan> {
    let path = plan_path(dir);
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let plan: SweepPlan = serde_json::from_slice(&bytes).map_err(|e| Error::Sweep {
        what: shown_path(&path),
        msg: format!("is not a sweep plan: {e}"),
    })?;
    if plan.schema_version != PLAN_SCHEMA
        || plan.points.iter().enumerate().any(|(i, p)| p.point != i)
    {
        return Err(Error::Sweep {
            what: shown_path(&path),
            msg: format!(
                "is a plan of schema {} or has points out of order; this program reads schema {PLAN_SCHEMA}",
                plan.schema_version
            ),
        });
    }
    Ok(plan)
}

/// Writes `plan` as `DIR/plan.json` unless the folder already has one; then that plan must
/// be the same sweep (resume), else nothing is run and the error names what changed. Two
/// sweeps starting at once agree on one file: it is linked into place, never replaced.
pub fn establish(dir: &Path, plan: &SweepPlan, hold: files::Hold) -> Result<SweepPlan> {
    files::make_dirs(dir)?;
    let path = plan_path(dir);
    let mut text = serde_json::to_string_pretty(plan).unwrap_or_default();
    text.push('\n');
    let created = files::create_new(&path, text.as_bytes(), hold)?;
    if created {
        return Ok(plan.clone());
    }
    let old = load(dir)?;
    match old.difference(plan) {
        None => Ok(old),
        Some(why) => Err(Error::Sweep {
            what: format!("--runs {}", shown_path(dir)),
            msg: format!(
                "holds another sweep's plan ({}): {why}; give another folder, or remove it to start over",
                shown_path(&path)
            ),
        }),
    }
}
