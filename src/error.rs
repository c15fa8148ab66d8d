//! The one error type of the library: every message carries the file, line and column,
//! or the flag and its value, so that the user can act on it without a debugger.

use std::path::PathBuf;

/// Everything that can go wrong in mlp-train. `main` maps each variant to an exit code
/// (see [`Error::exit_code`]); the messages are complete sentences without a trailing period.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line value that parses but is out of range, e.g. `--lambda -1`.
    #[error("{flag} {expected}, got {got}")]
    Flag {
        flag: &'static str,
        expected: String,
        got: String,
    },

    /// A problem with an input data file at a known place.
    /// `line` is 1-based; `column` is the header name or the 1-based field number.
    #[error("{path}:{line}:{column}: {msg}", path = .path.display())]
    DataAt {
        path: PathBuf,
        line: u64,
        column: String,
        msg: String,
    },

    /// A problem with an input data file as a whole (empty, no label column, one class...).
    #[error("{path}: {msg}", path = .path.display())]
    Data { path: PathBuf, msg: String },

    /// A model file that cannot be read, parsed or trusted.
    #[error("{path}: {msg}", path = .path.display())]
    Model { path: PathBuf, msg: String },

    /// Reading or writing a file failed at the operating-system level.
    #[error("{path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Shapes that do not fit together, e.g. a batch with d columns for a model expecting d'.
    #[error("shape mismatch: {0}")]
    Shape(String),

    /// backward() was handed a cache that forward() did not fill for this batch and model.
    #[error("stale cache: {0}; call forward() on this batch with this model before backward()")]
    StaleCache(String),

    /// Training produced a non-finite objective or weight, or an objective that blew up
    /// (see `train::BLOW_UP`).
    #[error("training diverged at epoch {epoch}, batch {batch}: {what}; try a smaller --lr (now {lr}) or a larger --lambda (now {lambda})")]
    Diverged {
        epoch: usize,
        batch: usize,
        what: String,
        lr: f64,
        lambda: f64,
    },

    /// A quality gate (--min-accuracy, --max-loss, --min-r2) that the run did not pass.
    #[error("quality gate failed: {set} {measure} is {measured}, {relation} {gate} {threshold}")]
    Gate {
        gate: &'static str,
        set: String,
        measure: &'static str,
        measured: f64,
        relation: &'static str,
        threshold: f64,
    },

    /// `--baseline`: the gated metric fell below the baseline's by more than `--max-drop`.
    #[error("regression against the baseline: {set} {measure} is {value}, {drop:.6} below the baseline's {baseline} ({path}), more than --max-drop {max_drop}", path = .path.display())]
    Regressed {
        set: String,
        measure: &'static str,
        value: f64,
        baseline: f64,
        drop: f64,
        max_drop: f64,
        path: PathBuf,
    },

    /// An external program (Graphviz's `dot`) is missing or failed.
    #[error("{0}")]
    External(String),

    /// A gradient check whose error exceeds the tolerance.
    #[error("gradient check failed: max relative error {worst:e} in {matrix} exceeds the tolerance {tol:e}")]
    GradCheck {
        matrix: String,
        worst: f64,
        tol: f64,
    },

    /// Sizes (flags, or a model file's shape times the data) whose memory exceeds what the
    /// machine or the process limits can give; checked before allocating anything.
    #[error("{flags}: {msg}; {advice}")]
    Memory {
        flags: String,
        msg: String,
        advice: String,
    },
}

/// Exit codes, documented in the README. 0 is success; clap's own usage errors exit 2.
pub mod exit {
    /// Anything else, e.g. a missing external program.
    pub const OTHER: i32 = 1;
    /// A flag's value is out of range or flags conflict (clap uses the same code).
    pub const USAGE: i32 = 2;
    /// An input data file is missing, unreadable or malformed.
    pub const DATA: i32 = 3;
    /// A model file is missing, malformed or does not fit the data.
    pub const MODEL: i32 = 4;
    /// An output could not be written (or an internal shape error).
    pub const IO: i32 = 5;
    /// Training diverged: J or a weight stopped being finite.
    pub const DIVERGED: i32 = 6;
    /// `gradcheck` found an error above its tolerance.
    pub const GRADCHECK: i32 = 7;
    /// A quality gate (--min-accuracy, --max-loss, --min-r2) or --baseline failed.
    pub const GATE: i32 = 8;
    /// Stopped by Ctrl-C or SIGTERM (128 + SIGINT).
    pub const INTERRUPTED: i32 = 130;
}

impl Error {
    /// The process exit code for this error (see [`exit`]).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Flag { .. } => exit::USAGE,
            Error::DataAt { .. } | Error::Data { .. } => exit::DATA,
            Error::Model { .. } => exit::MODEL,
            Error::Io { .. } | Error::Shape(_) | Error::StaleCache(_) => exit::IO,
            Error::Diverged { .. } => exit::DIVERGED,
            Error::GradCheck { .. } => exit::GRADCHECK,
            Error::Gate { .. } | Error::Regressed { .. } => exit::GATE,
            Error::External(_) => exit::OTHER,
            Error::Memory { .. } => exit::USAGE,
        }
    }

    /// Shorthand for a data error at a known line and column.
    pub fn data_at(
        path: impl Into<PathBuf>,
        line: u64,
        column: impl Into<String>,
        msg: impl Into<String>,
    ) -> Self {
        Error::DataAt {
            path: path.into(),
            line,
            column: column.into(),
            msg: msg.into(),
        }
    }

    /// Shorthand for a whole-file data error.
    pub fn data(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::Data {
            path: path.into(),
            msg: msg.into(),
        }
    }

    /// Shorthand for an out-of-range flag value.
    pub fn flag(flag: &'static str, expected: impl Into<String>, got: impl ToString) -> Self {
        Error::Flag {
            flag,
            expected: expected.into(),
            got: got.to_string(),
        }
    }

    /// Shorthand for an I/O error on a path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
