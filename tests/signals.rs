//! Ctrl-C and SIGTERM during training (issue 4): the first signal finishes the minibatch,
//! saves the model marked `"interrupted": true`, writes the log and exits 130; a second one
//! exits at once, leaving no partial file.
#![cfg(unix)]

mod common;
use common::*;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A long training run on digits (stderr is a pipe, so one plain line per epoch), with
/// `--save m.json --log log.csv` in `dir`. Returns the child once its first epoch line has
/// arrived, and a receiver of all its stderr text once it closes.
fn start_training(dir: &Path, extra: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let save = dir.join("m.json");
    let log = dir.join("log.csv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(["--data", &data("digits.csv"), "--epochs", "1000000"])
        .arg("--save")
        .arg(&save)
        .arg("--log")
        .arg(&log)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mlp-train starts");
    let (started_tx, started_rx) = mpsc::channel();
    let (all_tx, all_rx) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    // Drain stderr all along, so that the child never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut text = String::new();
        let mut told = false;
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            if !told && line.starts_with("epoch") {
                let _ = started_tx.send(());
                told = true;
            }
            text.push_str(&line);
            text.push('\n');
        }
        let _ = all_tx.send(text);
    });
    if started_rx.recv_timeout(Duration::from_secs(120)).is_err() {
        let _ = child.kill();
        panic!("training printed no epoch line");
    }
    (child, all_rx)
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill -{sig} failed");
}

/// The saved model, parsed.
fn model(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("the model was saved");
    serde_json::from_str(&text).expect("the model is complete JSON")
}

/// No temporary file left in `dir`.
fn assert_no_temporaries(dir: &Path) {
    let names = files_in(dir);
    assert!(
        names
            .iter()
            .all(|n| !n.ends_with(".tmp") && !n.starts_with('.')),
        "temporary files left: {names:?}"
    );
}

fn interrupted_run_is_saved(sig: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, stderr) = start_training(dir.path(), &[]);
    signal(&child, sig);
    let status = child.wait().unwrap();
    let err = stderr.recv().unwrap();
    assert_eq!(status.code(), Some(130), "SIG{sig}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("mlp-train: interrupted after") && last.contains("\"interrupted\": true"),
        "{last}"
    );
    let m = model(&dir.path().join("m.json"));
    assert_eq!(m["interrupted"], true, "{m}");
    let epochs = m["epochs_run"].as_u64().unwrap();
    assert!(epochs >= 1, "{m}");
    // The model loads again.
    let out = run(&[
        "predict",
        "--model",
        &dir.path().join("m.json").display().to_string(),
        "--data",
        &data("digits.csv"),
    ]);
    ok_stdout(&out);
    // The log has one row per completed epoch.
    let log = std::fs::read_to_string(dir.path().join("log.csv")).expect("the log was written");
    assert_eq!(log.lines().count() as u64, 1 + epochs, "{log}");
    assert_eq!(files_in(dir.path()), ["log.csv", "m.json"]);
}

#[test]
fn sigint_saves_an_interrupted_model_and_exits_130() {
    interrupted_run_is_saved("INT");
}

#[test]
fn sigterm_saves_an_interrupted_model_and_exits_130() {
    interrupted_run_is_saved("TERM");
}

#[test]
fn a_second_sigint_exits_at_once_without_partial_files() {
    // A big hidden layer makes the model file large (some MB), so that the second signal,
    // sent after various delays, lands before, during or after its write.
    for (k, delay_ms) in [0u64, 0, 2, 5, 10, 20, 40, 80].into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let extra: &[&str] = if k % 2 == 0 {
            &["--hidden", "3000"]
        } else {
            &[]
        };
        let (mut child, stderr) = start_training(dir.path(), extra);
        signal(&child, "INT");
        std::thread::sleep(Duration::from_millis(delay_ms));
        // The process may already be gone when the first signal's save was quick.
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let status = child.wait().unwrap();
        let err = stderr.recv().unwrap();
        assert_eq!(status.code(), Some(130), "delay {delay_ms} ms\n{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_no_temporaries(dir.path());
        // The model is either absent or whole.
        let path = dir.path().join("m.json");
        if path.exists() {
            let m = model(&path);
            assert_eq!(m["interrupted"], true);
        }
        let log = dir.path().join("log.csv");
        if log.exists() {
            let text = std::fs::read_to_string(&log).unwrap();
            assert!(text.ends_with('\n'), "a partial log: {text}");
        }
    }
}
