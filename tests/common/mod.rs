//! Helpers shared by the integration tests: run the real binary, find the shipped data.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A file under data/.
pub fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
        .display()
        .to_string()
}

/// Runs mlp-train with `args`, stdin closed; returns its output.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("mlp-train runs")
}

/// Runs mlp-train with `input` on stdin. A run may refuse (and exit) before it reads its
/// input: a closed pipe while writing the input is then expected, not a test failure (the
/// test judges the run by its exit code and output).
pub fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mlp-train starts");
    if let Err(e) = child.stdin.take().unwrap().write_all(input) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

/// Runs mlp-train with arguments that may not be UTF-8, stdin empty.
pub fn run_os(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("mlp-train runs")
}

/// Standard output as text, asserting success first (with stderr in the message).
pub fn ok_stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Runs a training with --json and returns the parsed object.
pub fn train_json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--json", "--quiet"]);
    let out = run(&all);
    serde_json::from_str(&ok_stdout(&out)).expect("--json prints one JSON object")
}

/// The standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the documented failure form: exit `code` (never 101, a panic), and stderr exactly
/// one line, `mlp-train: error: …`, containing every one of `needles`. Returns that line.
pub fn assert_error(out: &Output, code: i32, needles: &[&str]) -> String {
    let err = stderr(out);
    assert_ne!(out.status.code(), Some(101), "a panic:\n{err}");
    assert_eq!(
        out.status.code(),
        Some(code),
        "wrong exit code; stderr:\n{err}"
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "stderr is not one line:\n{err}");
    let line = lines[0];
    assert!(line.starts_with("mlp-train: error: "), "{line}");
    for n in needles {
        assert!(line.contains(n), "`{n}` not in: {line}");
    }
    line.to_string()
}

/// The names of the entries of a folder, sorted (temporary files included).
pub fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// True when this process may write into a read-only folder (root), so that permission
/// cases cannot be staged.
pub fn privileged(dir: &std::path::Path) -> bool {
    let probe = dir.join(".privilege-probe");
    let ok = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}
