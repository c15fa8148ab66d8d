//! Warnings about the data reach stderr also when the run then fails: the warning lines come
//! first, the one `mlp-train: error:` line last (they were lost on the failing path).

mod common;
use common::*;

/// A classification file whose label column looks real-valued (`0.5` is not an integer):
/// it loads with a warning when `--task classify` is given (without it, it is refused).
fn real_valued_labels(dir: &std::path::Path) -> String {
    let mut csv = String::from("a,b,label\n");
    for i in 0..40 {
        let label = if i % 2 == 0 { "0.5" } else { "1.5" };
        csv.push_str(&format!("{},{},{label}\n", i % 7, (i * 3) % 11));
    }
    let path = dir.join("fractional.csv");
    std::fs::write(&path, csv).unwrap();
    path.display().to_string()
}

/// Exactly: the data's warning, then one error line with `code`, naming `what`.
fn warned_then_failed(args: &[&str], code: i32, what: &str) {
    let out = run(&[args, &["--task", "classify"]].concat());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("mlp-train: warning: the label column `label` looks real-valued"),
        "{err}"
    );
    assert!(lines[0].contains("`0.5` is not an integer"), "{err}");
    assert!(lines[1].starts_with("mlp-train: error: "), "{err}");
    assert!(lines[1].contains(what), "{err}");
}

#[test]
fn a_warning_is_shown_when_the_data_loads_and_training_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let data = real_valued_labels(dir.path());
    let out = run(&["--data", &data, "--epochs", "2", "--task", "classify", "-q"]);
    ok_stdout(&out);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("mlp-train: warning: "), "{err}");
}

#[test]
fn warnings_lost_when_training_diverges() {
    let dir = tempfile::tempdir().unwrap();
    let data = real_valued_labels(dir.path());
    let args = ["--data", &data, "--lr", "1e30", "--precision", "f64", "-q"];
    warned_then_failed(&args, 6, "diverged");
}

#[test]
fn warnings_lost_when_the_test_file_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let data = real_valued_labels(dir.path());
    let missing = dir.path().join("no-such-test.csv").display().to_string();
    warned_then_failed(&["--data", &data, "--test", &missing, "-q"], 3, &missing);
}

#[test]
fn warnings_lost_when_cross_validation_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = real_valued_labels(dir.path());
    warned_then_failed(&["--data", &data, "--cv", "41", "-q"], 2, "--cv");
}
