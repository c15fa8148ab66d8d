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

// ---- Issue 10: every phase stops within about a second; good files are never replaced. ----

/// Sends `sig` and waits for the exit: its code, and how long it took after the signal.
fn stop(child: &mut Child, sig: &str) -> (Option<i32>, Duration) {
    let start = std::time::Instant::now();
    signal(child, sig);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running 20 s after SIG{sig}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Asserts exit 130 within two seconds of the signal.
fn assert_prompt_130((code, took): (Option<i32>, Duration), what: &str) {
    assert_eq!(code, Some(130), "{what}: exit code");
    assert!(
        took < Duration::from_secs(2),
        "{what}: took {took:?} to stop"
    );
}

/// Spawns mlp-train with stdin a pipe that gets `head` and then stalls (kept open).
fn spawn_stalled(args: &[&str], head: &[u8]) -> (Child, std::process::ChildStdin) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mlp-train starts");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(head).unwrap();
    stdin.flush().unwrap();
    (child, stdin)
}

/// An iris model trained for 20 epochs, saved as `dir/good.json`; returns its path and bytes.
fn good_model(dir: &Path) -> (String, Vec<u8>) {
    let m = dir.join("good.json");
    let out = run(&[
        "--data",
        &data("iris.csv"),
        "--epochs",
        "20",
        "--save",
        m.to_str().unwrap(),
        "-q",
    ]);
    ok_stdout(&out);
    let bytes = std::fs::read(&m).unwrap();
    (m.display().to_string(), bytes)
}

#[test]
fn a_signal_while_loading_from_a_stalled_stdin_stops_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let (m, good) = good_model(dir.path());
    let head: String = std::fs::read_to_string(data("iris.csv"))
        .unwrap()
        .lines()
        .take(20)
        .map(|l| format!("{l}\n"))
        .collect();
    let out = dir.path().join("p.csv").display().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["--data", "-", "--save", &m],
        vec!["--data", "-", "--init-from", &m, "--save", &m],
        vec!["--data", "-", "--cv", "3"],
        vec!["predict", "--model", &m, "--data", "-", "--out", &out],
        vec!["explain", "--data", "-"],
        vec!["gradcheck", "--data", "-"],
    ];
    for (k, args) in cases.iter().enumerate() {
        let sig = if k % 2 == 0 { "INT" } else { "TERM" };
        let (mut child, stdin) = spawn_stalled(args, head.as_bytes());
        std::thread::sleep(Duration::from_millis(300));
        assert_prompt_130(stop(&mut child, sig), &format!("{args:?}"));
        drop(stdin);
        assert_eq!(
            std::fs::read(&m).unwrap(),
            good,
            "{args:?} replaced the model"
        );
        assert_eq!(files_in(dir.path()), ["good.json"], "{args:?}");
    }
}

#[test]
fn an_interrupted_training_never_replaces_an_existing_model() {
    let dir = tempfile::tempdir().unwrap();
    // A finished run's model and log where the interrupted run would write.
    let out = run(&[
        "--data",
        &data("digits.csv"),
        "--epochs",
        "2",
        "--save",
        &dir.path().join("m.json").display().to_string(),
        "--log",
        &dir.path().join("log.csv").display().to_string(),
        "-q",
    ]);
    ok_stdout(&out);
    let model_before = std::fs::read(dir.path().join("m.json")).unwrap();
    let log_before = std::fs::read(dir.path().join("log.csv")).unwrap();
    let (mut child, stderr) = start_training(dir.path(), &[]);
    assert_prompt_130(stop(&mut child, "INT"), "training");
    let err = stderr.recv().unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("m.json")).unwrap(),
        model_before
    );
    assert_eq!(
        std::fs::read(dir.path().join("log.csv")).unwrap(),
        log_before
    );
    // What the interrupted run trained is kept beside, marked.
    let m = model(&dir.path().join("m.interrupted.json"));
    assert_eq!(m["interrupted"], true);
    assert!(m["epochs_run"].as_u64().unwrap() >= 1);
    assert_eq!(
        files_in(dir.path()),
        [
            "log.csv",
            "log.interrupted.csv",
            "m.interrupted.json",
            "m.json"
        ]
    );
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains("m.interrupted.json") && last.contains("kept") && last.contains("m.json"),
        "{last}"
    );
}

#[test]
fn continuing_in_place_and_interrupted_keeps_the_model_it_started_from() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.json");
    ok_stdout(&run(&[
        "--data",
        &data("digits.csv"),
        "--epochs",
        "2",
        "--save",
        m.to_str().unwrap(),
        "-q",
    ]));
    let before = std::fs::read(&m).unwrap();
    let (mut child, _stderr) = start_training(dir.path(), &["--init-from", m.to_str().unwrap()]);
    assert_prompt_130(stop(&mut child, "TERM"), "training in place");
    assert_eq!(std::fs::read(&m).unwrap(), before);
    let partial = model(&dir.path().join("m.interrupted.json"));
    assert!(partial["epochs_run"].as_u64().unwrap() >= 3, "{partial}");
}

/// `rows` rows of 64 small integer features and a two-class label, deterministic.
fn synthetic_csv(path: &Path, rows: usize) {
    use std::fmt::Write;
    let mut text: String = (0..64).map(|j| format!("f{j},")).collect();
    text.push_str("label\n");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..rows {
        let mut sum = 0u64;
        for _ in 0..64 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = state % 16;
            sum += v;
            let _ = write!(text, "{v},");
        }
        text.push_str(if sum > 480 { "a\n" } else { "b\n" });
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_signal_during_the_final_evaluation_exits_130_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = (dir.path().join("train.csv"), dir.path().join("test.csv"));
    synthetic_csv(&train, 300);
    synthetic_csv(&test, 40_000);
    let m = dir.path().join("m.json");
    std::fs::write(&m, b"{\"a model\": \"to keep\"}").unwrap();
    // One short epoch, then a long evaluation of the big test set with a wide layer.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(["--data", train.to_str().unwrap()])
        .args(["--test", test.to_str().unwrap()])
        .args([
            "--epochs",
            "1",
            "--hidden",
            "8192",
            "--precision",
            "f64",
            "--save",
            m.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("epoch") {
        line.clear();
        if err.read_line(&mut line).unwrap() == 0 {
            panic!("no epoch line");
        }
    }
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    assert_prompt_130(stop(&mut child, "INT"), "final evaluation");
    assert_eq!(std::fs::read(&m).unwrap(), b"{\"a model\": \"to keep\"}");
    assert_no_temporaries(dir.path());
}

#[test]
fn predict_and_gradcheck_stop_at_once_leaving_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let (train, big) = (dir.path().join("train.csv"), dir.path().join("big.csv"));
    synthetic_csv(&train, 300);
    synthetic_csv(&big, 40_000);
    let m = dir.path().join("m.json");
    ok_stdout(&run(&[
        "--data",
        train.to_str().unwrap(),
        "--epochs",
        "1",
        "--hidden",
        "8192",
        // f64: predict computes in the model's precision, twice as long as f32.
        "--precision",
        "f64",
        "--save",
        m.to_str().unwrap(),
        "-q",
    ]));
    let out = dir.path().join("p.csv");
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "predict",
            "--model",
            m.to_str().unwrap(),
            "--data",
            big.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        vec![
            "gradcheck",
            "-d",
            "200",
            "--hidden",
            "200",
            "--batch",
            "200",
        ],
    ];
    for (args, delay) in cases.iter().zip([400u64, 300]) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        assert!(child.try_wait().unwrap().is_none(), "{args:?} ended early");
        assert_prompt_130(stop(&mut child, "INT"), &format!("{args:?}"));
        assert!(!out.exists(), "{args:?}");
        assert_no_temporaries(dir.path());
    }
}

#[test]
fn cross_validation_stops_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args([
            "--data",
            &data("digits.csv"),
            "--cv",
            "3",
            "--epochs",
            "100000",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .current_dir(dir.path())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    // Under --cv each epoch line starts `fold k/K epoch e/E`.
    while !line.starts_with("fold 1/3 epoch") {
        line.clear();
        if err.read_line(&mut line).unwrap() == 0 {
            let _ = child.kill();
            panic!("no epoch line");
        }
    }
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    assert_prompt_130(stop(&mut child, "TERM"), "--cv");
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}
