//! The one error type of the library: every message carries the file, line and column,
//! or the flag and its value, so that the user can act on it without a debugger.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in mlp-train. `main` maps each variant to an exit code
/// (see [`Error::exit_code`]); the messages are complete sentences without a trailing period,
/// always one line: every path goes through [`shown_path`] and every other text through
/// [`escaped`] when the message is displayed, whoever built it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line value that parses but is out of range, e.g. `--lambda -1`.
    #[error("{flag} {expected}, got {got}", expected = text(.expected), got = text(.got))]
    Flag {
        flag: &'static str,
        expected: String,
        got: String,
    },

    /// A problem with an input data file at a known place.
    /// `line` is 1-based; `column` is the header name or the 1-based field number.
    #[error("{path}:{line}:{column}: {msg}", path = shown_path(.path), column = text(.column), msg = text(.msg))]
    DataAt {
        path: PathBuf,
        line: u64,
        column: String,
        msg: String,
    },

    /// A problem with an input data file as a whole (empty, no label column, one class...).
    #[error("{path}: {msg}", path = shown_path(.path), msg = text(.msg))]
    Data { path: PathBuf, msg: String },

    /// A model file that cannot be read, parsed or trusted.
    #[error("{path}: {msg}", path = shown_path(.path), msg = text(.msg))]
    Model { path: PathBuf, msg: String },

    /// Reading or writing a file failed at the operating-system level.
    #[error("{path}: {source}", path = shown_path(.path), source = text(&.source.to_string()))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Shapes that do not fit together, e.g. a batch with d columns for a model expecting d'.
    #[error("shape mismatch: {}", text(.0))]
    Shape(String),

    /// backward() was handed a cache that forward() did not fill for this batch and model.
    #[error("stale cache: {}; call forward() on this batch with this model before backward()", text(.0))]
    StaleCache(String),

    /// Training produced a non-finite objective or weight, or an objective that blew up
    /// (see `train::BLOW_UP`). The advice follows the term that grew ([`diverged_advice`]).
    #[error("training diverged at epoch {epoch}, batch {batch}: {what}; {}", diverged_advice(*.lr, *.lambda, *.cause), what = text(.what))]
    Diverged {
        epoch: usize,
        batch: usize,
        what: String,
        lr: f64,
        lambda: f64,
        /// Which term grew, for the advice.
        cause: Blowup,
    },

    /// A quality gate (--min-accuracy, --max-loss, --min-r2) that the run did not pass; the
    /// measured value and the threshold as the summary table shows them (`76.67 %`,
    /// `90.00 %`).
    #[error("quality gate failed: {set} {measure} is {measured}, {relation} {gate} {threshold}", set = text(.set), measured = text(&.shown[0]), threshold = text(&.shown[1]))]
    Gate {
        gate: &'static str,
        set: String,
        measure: &'static str,
        relation: &'static str,
        /// The measured value and the threshold.
        shown: Box<[String; 2]>,
    },

    /// `--baseline`: the gated metric fell below the baseline's by more than `--max-drop`.
    #[error("regression against the baseline: {set} {measure} is {value}, {drop} below the baseline's {baseline} ({path}), more than --max-drop {max_drop}", set = text(.set), value = text(&.shown[0]), baseline = text(&.shown[1]), drop = text(&.shown[2]), max_drop = text(&.shown[3]), path = shown_path(.path))]
    Regressed {
        set: String,
        measure: &'static str,
        path: PathBuf,
        /// The run's value, the baseline's, the drop and --max-drop, as the table shows them.
        shown: Box<[String; 4]>,
    },

    /// An external program (Graphviz's `dot`) is missing or failed.
    #[error("{}", text(.0))]
    External(String),

    /// A gradient check whose error exceeds the tolerance.
    #[error("gradient check failed: max relative error {worst:e} in {matrix} exceeds the tolerance {tol:e}", matrix = text(.matrix))]
    GradCheck {
        matrix: String,
        worst: f64,
        tol: f64,
    },

    /// Sizes (flags, or a model file's shape times the data) whose memory exceeds what the
    /// machine or the process limits can give; checked before allocating anything.
    #[error("{flags}: {msg}; {advice}", flags = text(.flags), msg = text(.msg), advice = text(.advice))]
    Memory {
        flags: String,
        msg: String,
        advice: String,
    },

    /// A sweep that cannot be planned, resumed or run: the axis, point, flag or folder
    /// (`--grid lr=-1`, `--runs DIR`), and why.
    #[error("{what}: {msg}", what = text(.what), msg = text(.msg))]
    Sweep { what: String, msg: String },

    /// Some or all points of a sweep failed (after its table was printed): how many, and the
    /// first one's error.
    #[error("{failed} of {total} sweep point(s) failed; the first: {first}", first = text(.first))]
    SweepFailed {
        failed: usize,
        total: usize,
        first: String,
    },
    /// Several checks failed at once (quality gates and the baseline): each is named.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; and "))]
    Checks(Vec<Error>),

    /// `--baseline` names a run that cannot be compared with this one (other data, features,
    /// classes, task or split, or a file too old to say): refused rather than compared.
    #[error("--baseline {path} {msg}", path = shown_path(.path), msg = text(.msg))]
    Baseline { path: PathBuf, msg: String },

    /// A flag that needs what this run does not have (`predict --report` on a file without
    /// the label column): the flag and, in plain words, what it needs and where.
    #[error("{flag} {msg}", msg = text(.msg))]
    FlagNeeds { flag: &'static str, msg: String },
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
    /// `sweep`: some points failed, the others ran (the table is printed).
    pub const SWEEP_SOME_FAILED: i32 = 9;
    /// `sweep`: every point failed.
    pub const SWEEP_ALL_FAILED: i32 = 10;
    /// `sweep` stopped by SIGHUP (128 + 1).
    pub const HANGUP: i32 = 129;
    /// `sweep` stopped by SIGTERM (128 + 15).
    pub const TERMINATED: i32 = 143;
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
            Error::Sweep { .. } => exit::USAGE,
            Error::SweepFailed { failed, total, .. } if failed >= total => exit::SWEEP_ALL_FAILED,
            Error::SweepFailed { .. } => exit::SWEEP_SOME_FAILED,
            Error::Checks(_) => exit::GATE,
            Error::Baseline { .. } => exit::USAGE,
            Error::FlagNeeds { .. } => exit::USAGE,
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

/// How many characters of a path a message shows. A path is what the user typed to name a
/// file, so it is shown whole (escaped, never cut like a data value): only one longer than
/// PATH_MAX, which then names no file the system can open, is cut with `…`.
pub const PATH_SHOWN: usize = 4096;

/// How many characters of any other text a message field shows (messages built from paths
/// and cut values stay far below it).
const TEXT_SHOWN: usize = 4 * PATH_SHOWN;

/// Untrusted bytes as a message shows them, on one line: the crate's one escaping, used for
/// data values (`data::shown`, cut at 40 characters), paths and every message field.
/// Control characters are escaped (`\n`, `\r`, `\t`, `\0`, `\x1b`, `\u{85}`), as are
/// bidirectional overrides and marks, line and paragraph separators and bytes that are not UTF-8 (`\xff`); after
/// `max_chars` characters the rest is cut with `…`. Reads at most `4 × max_chars + 4`
/// bytes, whatever the value's length. The output escapes to itself, so text that went
/// through it once may go through it again.
pub fn escaped(bytes: &[u8], max_chars: usize) -> String {
    let head = bytes
        .get(..max_chars.saturating_mul(4).saturating_add(4))
        .unwrap_or(bytes);
    let mut out = String::new();
    let mut chars = 0;
    let mut cut = false;
    'chunks: for chunk in head.utf8_chunks() {
        for c in chunk.valid().chars() {
            if chars == max_chars {
                cut = true;
                break 'chunks;
            }
            chars += 1;
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\0' => out.push_str("\\0"),
                c if (c as u32) < 0x80 && c.is_control() => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if c.is_control()
                    || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
                {
                    out.push_str(&format!("\\u{{{:x}}}", c as u32))
                }
                c => out.push(c),
            }
        }
        for &b in chunk.invalid() {
            if chars == max_chars {
                cut = true;
                break 'chunks;
            }
            chars += 1;
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if cut || head.len() < bytes.len() {
        out.push('…');
    }
    out
}

/// A path as every message shows it: its bytes (not a lossy `display()`, so that a name
/// that is not UTF-8 shows `\xff` where the byte is) through [`escaped`], whole up to
/// [`PATH_SHOWN`] characters. A file named `a<newline>b.csv` shows as `a\nb.csv`.
pub fn shown_path(path: &Path) -> String {
    escaped(path.as_os_str().as_encoded_bytes(), PATH_SHOWN)
}

/// A message field (built from paths, values and words) on one line; see [`escaped`].
fn text(s: &str) -> String {
    escaped(s.as_bytes(), TEXT_SHOWN)
}

/// Which term of J made training diverge, for the advice of [`Error::Diverged`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blowup {
    /// L grew: a smaller --lr, a larger --lambda, or standardized features.
    Loss,
    /// The L2 term's own step diverges: with η λ ≥ 2 (1 + μ) the step of s = λ/2 ‖W‖²
    /// alone (W ← W − ηλW, momentum μ) makes W larger in size at every step, whatever L
    /// does, so a larger --lambda can only make it worse. `s_led` when s outweighed L at
    /// the start (λ is what is far off), else --lr is named first.
    L2Step { s_led: bool },
    /// L grew in a run without standardization (`flags`: `--no-standardize`,
    /// `--no-standardize-targets` or both): standardizing is the fix, before --lr.
    Unstandardized { flags: &'static str },
}

/// What to change when training diverged (see [`Blowup`]).
fn diverged_advice(lr: f64, lambda: f64, cause: Blowup) -> String {
    let (lr, lambda) = (number(lr), number(lambda));
    match cause {
        Blowup::Loss => {
            format!("try a smaller --lr (now {lr}) or a larger --lambda (now {lambda})")
        }
        Blowup::Unstandardized { flags } => format!(
            "the run is not standardized ({flags}): drop {flags}, so that every column \
             has mean 0 and sd 1, which is the usual fix; else try a smaller --lr \
             (now {lr})"
        ),
        Blowup::L2Step { s_led } => {
            let (first, second) = if s_led {
                (
                    format!("--lambda (now {lambda})"),
                    format!("--lr (now {lr})"),
                )
            } else {
                (
                    format!("--lr (now {lr})"),
                    format!("--lambda (now {lambda})"),
                )
            };
            format!(
                "the L2 term's own step overshoots (--lr × --lambda is not below \
                 2 × (1 + --momentum)): try a smaller {first} or a smaller {second}"
            )
        }
    }
}

/// A flag's value as one would type it back (--lr, --lambda, a gate's threshold, --max-drop):
/// `0.01`, `10000`, `1e-30` — the shortest text that reads back as the same f64, in exponent
/// form where plain decimals would run long.
fn number(x: f64) -> String {
    if x != 0.0 && !(1e-4..1e16).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn messages_name_flag_values_as_one_would_type_them() {
        let diverged = |lr: f64, lambda: f64| {
            Error::Diverged {
                epoch: 1,
                batch: 2,
                what: "J is not finite".into(),
                lr,
                lambda,
                cause: Blowup::Loss,
            }
            .to_string()
        };
        let msg = diverged(10_000.0, 1e-30);
        assert!(
            msg.contains("--lr (now 10000)") && msg.contains("--lambda (now 1e-30)"),
            "{msg}"
        );
        let msg = diverged(0.1, 0.0);
        assert!(
            msg.contains("--lr (now 0.1)") && msg.contains("--lambda (now 0)"),
            "{msg}"
        );
        let msg = diverged(2.5e20, 1e-4);
        assert!(
            msg.contains("--lr (now 2.5e20)") && msg.contains("--lambda (now 0.0001)"),
            "{msg}"
        );
        // The gates and the baseline show their numbers as the table does, preformatted.
        let gate = Error::Gate {
            gate: "--max-loss",
            set: "training".into(),
            measure: "loss",
            relation: "above",
            shown: Box::new(["0.500000".into(), "1e-30".into()]),
        };
        let regressed = Error::Regressed {
            set: "test".into(),
            measure: "accuracy",
            path: "base.json".into(),
            shown: Box::new([
                "50.00 %".into(),
                "90.00 %".into(),
                "0.4".into(),
                "1e-20".into(),
            ]),
        };
        assert!(
            gate.to_string().ends_with("above --max-loss 1e-30"),
            "{gate}"
        );
        assert!(
            regressed
                .to_string()
                .ends_with("more than --max-drop 1e-20"),
            "{regressed}"
        );
        let both = Error::Checks(vec![gate, regressed]);
        assert_eq!(both.exit_code(), exit::GATE);
        assert_eq!(
            both.to_string(),
            "quality gate failed: training loss is 0.500000, above --max-loss 1e-30; and \
             regression against the baseline: test accuracy is 50.00 %, 0.4 below the \
             baseline's 90.00 % (base.json), more than --max-drop 1e-20"
        );
        // Every text reads back as the value it names.
        for x in [1e-30, 0.1, 3.0e-5, 1e16, 123.456, 7e300] {
            assert_eq!(
                number(x).parse::<f64>().unwrap().to_bits(),
                x.to_bits(),
                "{x}"
            );
        }
    }

    #[test]
    fn paths_are_escaped_whole_and_only_cut_beyond_path_max() {
        let p = Path::new(std::ffi::OsStr::from_bytes(
            b"d/a\nb\x1b[31m\xff\xe2\x80\xae.csv",
        ));
        assert_eq!(shown_path(p), r"d/a\nb\x1b[31m\xff\u{202e}.csv");
        let long = format!("{}/m.json", "x".repeat(300));
        assert_eq!(shown_path(Path::new(&long)), long, "a path is shown whole");
        let too_long = "y".repeat(PATH_SHOWN + 10);
        assert_eq!(
            shown_path(Path::new(&too_long)),
            format!("{}…", "y".repeat(PATH_SHOWN))
        );
    }

    #[test]
    fn every_message_is_one_line_whoever_built_it() {
        let e = Error::data(
            std::ffi::OsStr::from_bytes(b"in\n.csv"),
            "a message\nwith \u{2028}a line break",
        );
        assert_eq!(
            e.to_string(),
            r"in\n.csv: a message\nwith \u{2028}a line break"
        );
        let e = Error::flag("--save", "must not name x\ny", "z\r");
        assert_eq!(e.to_string(), r"--save must not name x\ny, got z\r");
        let e = Error::io("a\tb", std::io::Error::other("why\x1b[0m"));
        assert_eq!(e.to_string(), r"a\tb: why\x1b[0m");
        assert_eq!(
            Error::External("dot:\nline 2".into()).to_string(),
            r"dot:\nline 2"
        );
    }

    #[test]
    fn escaping_twice_changes_nothing() {
        for raw in [&b"a\nb\\n\x1b\xff\xc2\x85"[..], "\u{202e}…é\t".as_bytes()] {
            let once = escaped(raw, 100);
            assert_eq!(escaped(once.as_bytes(), 100), once);
        }
    }
}
