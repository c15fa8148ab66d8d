//! Class and feature names that hold terminal escapes and bidi overrides, from the data and
//! from a shared model file: nothing the binary prints for a person may carry them raw.
//
// The one exception, by design: predictions written to a file or a pipe are data and keep
// the exact class names (CSV-quoted); on a terminal they are escaped like every message.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{ok_stdout, run};

/// Retitles and clears a terminal when printed raw.
const TITLE: &str = "\x1b]0;TITLE\x07\x1b[2J";
/// Displays as `exe.png`.
const BIDI: &str = "\u{202e}gnp.exe";
/// A C1 control (CSI on some terminals) and a line separator.
const C1: &str = "c\u{9b}1m\u{2028}";

/// What a terminal must never receive raw: C0 controls but newline and tab, DEL, C1
/// controls, bidi overrides, isolates and marks, line and paragraph separators.
fn unsafe_chars(bytes: &[u8], allow_cr: bool) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.chars()
        .filter(|&c| {
            let u = c as u32;
            (u < 0x20 && c != '\n' && c != '\t' && !(allow_cr && c == '\r'))
                || (0x7f..=0x9f).contains(&u)
                || matches!(u, 0x61c | 0x200e | 0x200f | 0x2028..=0x202e | 0x2066..=0x2069)
        })
        .map(|c| format!("U+{:04X}", c as u32))
        .collect()
}

fn assert_clean(what: &str, out: &Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let bad = unsafe_chars(bytes, false);
        assert!(
            bad.is_empty(),
            "{what}: {stream} carries {bad:?}:\n{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

/// A folder with `d.csv`: 90 rows, 2 features (one named with a bidi override), 3 classes
/// named TITLE, BIDI and C1; and `m.json` trained on it.
fn hostile() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    let model = dir.path().join("m.json");
    let mut csv = String::from("x1,\"x\u{202e}2\",label\n");
    for i in 0..90 {
        let k = i % 3;
        let (a, b) = ([0.0, 3.0, -3.0][k], [3.0, -2.0, -2.0][k]);
        let jitter = (i as f64 * 0.37).sin() * 0.4;
        let label = [TITLE, BIDI, C1][k];
        csv.push_str(&format!("{},{},\"{label}\"\n", a + jitter, b - jitter));
    }
    std::fs::write(&data, csv).unwrap();
    ok_stdout(&run(&[
        "--data",
        data.to_str().unwrap(),
        "--epochs",
        "300",
        "--seed",
        "3",
        "--hidden",
        "8",
        "--save",
        model.to_str().unwrap(),
        "--quiet",
    ]));
    (dir, data, model)
}

#[test]
fn predict_eval_explain_gradcheck_graph_print_hostile_names_escaped() {
    let (_dir, data, model) = hostile();
    let (d, m) = (data.to_str().unwrap(), model.to_str().unwrap());

    // The text report: the confusion matrix and per-class table name every class, escaped.
    let eval = run(&["eval", "--model", m, "--data", d]);
    assert_clean("eval", &eval);
    let text = ok_stdout(&eval);
    assert!(text.contains("\\x1b]0;TITLE\\x07\\x1b[2J"), "{text}");
    assert!(text.contains("\\u{202e}gnp.exe"), "{text}");
    assert!(text.contains("c\\u{9b}1m\\u{2028}"), "{text}");
    assert!(text.starts_with("accuracy "), "{text}");

    // JSON: the exact names for a parser, no raw control or bidi character for a terminal.
    let json = run(&["eval", "--model", m, "--data", d, "--json"]);
    assert_clean("eval --json", &json);
    let v: serde_json::Value = serde_json::from_str(&ok_stdout(&json)).unwrap();
    let classes: Vec<&str> = v["per_class"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["class"].as_str().unwrap())
        .collect();
    for name in [TITLE, BIDI, C1] {
        assert!(classes.contains(&name), "{name:?} not in {classes:?}");
    }

    // predict --out FILE: the report on stdout is clean; the file keeps the exact names.
    let out = model.with_file_name("p.csv");
    let p = run(&[
        "predict",
        "--model",
        m,
        "--data",
        d,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_clean("predict --out", &p);
    assert!(ok_stdout(&p).contains("\\x1b]0;TITLE"));
    let mut r = csv::Reader::from_path(&out).unwrap();
    let predicted: Vec<String> = r.records().map(|x| x.unwrap()[0].to_string()).collect();
    assert_eq!(predicted.len(), 90);
    assert_eq!(predicted[0], TITLE);
    assert_eq!(predicted[1], BIDI);
    assert_eq!(predicted[2], C1);

    // predict to a pipe: the report (stderr) is clean; stdout is the CSV data, exact.
    let p = run(&["predict", "--model", m, "--data", d, "--proba"]);
    assert_clean(
        "predict (stderr)",
        &Output {
            stdout: vec![],
            ..p.clone()
        },
    );
    let mut r = csv::Reader::from_reader(&p.stdout[..]);
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "label".to_string(),
            // Classes in sorted order: ESC < `c` < U+202E.
            format!("p_{TITLE}"),
            format!("p_{C1}"),
            format!("p_{BIDI}")
        ]
    );
    assert_eq!(r.records().next().unwrap().unwrap()[0].to_string(), TITLE);

    // explain: the sample's class and the prediction, on rows of each class; and its JSON.
    for row in ["0", "1", "2"] {
        let e = run(&["explain", "--model", m, "--data", d, "--row", row]);
        assert_clean("explain", &e);
        let text = ok_stdout(&e);
        assert!(
            text.contains("  y = ") && text.contains("prediction: class"),
            "{text}"
        );
    }
    let e = run(&["explain", "--model", m, "--data", d, "--row", "0"]);
    assert!(ok_stdout(&e).contains("y = 0 (\\x1b]0;TITLE\\x07\\x1b[2J)"));
    let e = run(&["explain", "--model", m, "--data", d, "--row", "1", "--json"]);
    assert_clean("explain --json", &e);
    assert!(serde_json::from_str::<serde_json::Value>(&ok_stdout(&e))
        .unwrap()
        .to_string()
        .contains(BIDI));
    let e = run(&["explain", "--data", d, "--row", "2"]);
    assert_clean("explain without a model", &e);
    ok_stdout(&e);

    // gradcheck and graph on the same data and model.
    for args in [
        &["gradcheck", "--data", d][..],
        &["gradcheck", "--data", d, "--json"],
        &["graph", "--model", m],
        &["graph", "--data", d],
    ] {
        let o = run(args);
        assert_clean(&args.join(" "), &o);
        ok_stdout(&o);
    }
    // Training's own summary and JSON (the names exact once parsed), with and without --cv.
    let t = run(&["--data", d, "--epochs", "2"]);
    assert_clean("train", &t);
    ok_stdout(&t);
    for args in [
        &["--data", d, "--epochs", "2", "--json"][..],
        &["--data", d, "--epochs", "2", "--cv", "3", "--json"],
    ] {
        let t = run(args);
        assert_clean(&args.join(" "), &t);
        let v: serde_json::Value = serde_json::from_str(&ok_stdout(&t)).unwrap();
        assert!(
            v.to_string().contains(BIDI) || args.contains(&"--cv"),
            "{v}"
        );
    }
}

#[test]
fn the_check_can_fail() {
    assert_eq!(unsafe_chars(TITLE.as_bytes(), false).len(), 3);
    assert_eq!(unsafe_chars(BIDI.as_bytes(), false), ["U+202E"]);
    assert_eq!(unsafe_chars(C1.as_bytes(), false), ["U+009B", "U+2028"]);
    assert!(unsafe_chars("a\tb\nc\\x1b".as_bytes(), false).is_empty());
}

/// Runs mlp-train with its stdout on a pseudo-terminal (stderr piped); returns what the
/// terminal received and the output.
fn run_on_terminal(args: &[&str], cwd: &Path) -> (Vec<u8>, Output) {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two fresh descriptors into the two integers; the name, termios
    // and window-size arguments may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and are owned here alone.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let child = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The child holds the only copy of the slave now: reading ends (EIO) when it exits.
    let mut terminal = Vec::new();
    let mut master = std::fs::File::from(master);
    let mut buf = [0u8; 4096];
    loop {
        match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => terminal.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    (terminal, child.wait_with_output().unwrap())
}

#[test]
fn predictions_on_a_terminal_show_names_escaped() {
    let (dir, data, model) = hostile();
    let (d, m) = (data.to_str().unwrap(), model.to_str().unwrap());
    for args in [
        &["predict", "--model", m, "--data", d, "--proba"][..],
        &["predict", "--model", m, "--data", d, "--out", "-"],
    ] {
        let (terminal, out) = run_on_terminal(args, dir.path());
        assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
        let bad = unsafe_chars(&terminal, true);
        assert!(bad.is_empty(), "the terminal received {bad:?}");
        assert!(unsafe_chars(&out.stderr, false).is_empty());
        let shown = String::from_utf8_lossy(&terminal).replace("\r\n", "\n");
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines.len(), 91, "{shown}");
        assert!(
            lines[1].starts_with("\\x1b]0;TITLE\\x07\\x1b[2J"),
            "{}",
            lines[1]
        );
        assert!(lines[2].starts_with("\\u{202e}gnp.exe"), "{}", lines[2]);
    }
}
