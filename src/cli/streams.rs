//! The two streams: results on stdout, notes, warnings and errors on stderr, one line each;
//! neither write panics on a closed pipe. A command's failure: the library's or a write's.

use std::io::Write;

/// Why a command failed: the library's error, or writing its results.
pub enum Failure {
    Lib(crate::Error),
    Io(std::io::Error),
}

impl From<crate::Error> for Failure {
    fn from(e: crate::Error) -> Self {
        Failure::Lib(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Io(e)
    }
}

/// One line on stderr. Unlike `eprintln!`, never panics when stderr is a closed pipe
/// (`mlp-train … 2>&1 | head -c1`).
pub fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(format!("{line}\n").as_bytes());
    let _ = err.flush();
}

/// `text` on stdout, flushed; a closed pipe is the caller's to forgive.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// `text` on stderr, flushed (a summary displaced by an output on stdout).
pub fn print_err(text: &str) -> std::io::Result<()> {
    let mut err = std::io::stderr().lock();
    err.write_all(text.as_bytes())?;
    err.flush()
}

/// The one error line: `mlp-train: error: …`, then each cause the message does not already
/// quote (`{path}: {source}` quotes its source: once is enough).
pub fn error_line(e: &crate::Error) -> String {
    let mut msg = format!("mlp-train: error: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let cause = s.to_string();
        if !msg.ends_with(&cause) {
            msg.push_str(&format!(": {cause}"));
        }
        source = s.source();
    }
    msg
}
