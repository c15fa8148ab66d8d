//! Values that load but cannot be used (issue 20): model numbers that cannot give finite
//! outputs, inconsistent model names, huge integer labels, numbers that are both a column's
//! name and another's index, header names with Unicode spaces, UTF-16 files; and what a
//! divergence advises and how fast a signal stops a large minibatch.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A folder with a small f32 model trained on iris (`m.json`).
struct Models {
    dir: tempfile::TempDir,
    model: serde_json::Value,
}

impl Models {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        let out = run(&[
            "--data",
            &data("iris.csv"),
            "--epochs",
            "3",
            "--precision",
            "f32",
            "-q",
            "--save",
            path.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let model = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        Models { dir, model }
    }

    /// The model changed by `edit`, written to `name`; its path.
    fn edited(&self, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut m = self.model.clone();
        edit(&mut m);
        self.bytes(name, serde_json::to_vec_pretty(&m).unwrap())
    }

    /// A file of these bytes in the folder; its path.
    fn bytes(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    }

    fn predict(&self, model: &str, data_file: &str) -> std::process::Output {
        run(&["predict", "--model", model, "--data", data_file])
    }
}

#[test]
fn numbers_that_cannot_give_finite_outputs_are_refused_at_load_naming_the_field() {
    let m = Models::new();
    let iris = data("iris.csv");
    // Each loaded before, and predicted NaN for every row with exit 0.
    type Case = (
        &'static str,
        fn(&mut serde_json::Value),
        &'static [&'static str],
    );
    let cases: [Case; 4] = [
        (
            "subnormal_std.json",
            |m| m["prep"]["standardize"]["std"][2] = 1e-45.into(),
            &["prep.standardize.std[2]", "petal_length", "subnormal"],
        ),
        (
            "zero_std.json",
            |m| m["prep"]["standardize"]["std"][1] = 0.0.into(),
            &["prep.standardize.std[1]"],
        ),
        (
            "huge_mean.json",
            |m| m["prep"]["standardize"]["mean"][0] = 3e38.into(),
            &[
                "cannot give finite outputs",
                "prep.standardize.mean[0] (column \"sepal_length\") = 3e38",
                "f32",
            ],
        ),
        (
            "huge_w2.json",
            |m| m["w2"][0][0] = 3e38.into(),
            &["cannot give finite outputs", "output 0", "w2[0][0] = 3e38"],
        ),
    ];
    for (name, edit, needles) in cases {
        let path = m.edited(name, edit);
        for command in ["predict", "explain"] {
            let out = run(&[command, "--model", &path, "--data", &iris]);
            assert_error(&out, 4, needles);
        }
    }
    // A large weight whose outputs stay finite in f32 is a model like any other.
    let path = m.edited("large_w2.json", |m| m["w2"][0][0] = 1e30.into());
    assert_eq!(ok_stdout(&m.predict(&path, &iris)).lines().count(), 151);
    // The same numbers fit in an f64 model.
    let path = m.edited("huge_mean_f64.json", |m| {
        m["precision"] = "f64".into();
        m["prep"]["standardize"]["mean"][0] = 3e38.into();
    });
    ok_stdout(&m.predict(&path, &iris));
}

#[test]
fn a_non_finite_prediction_is_an_error_naming_the_row() {
    let m = Models::new();
    let model = m.dir.path().join("m.json").display().to_string();
    let mut csv = std::fs::read_to_string(data("iris.csv")).unwrap();
    // Finite in f32, but beyond it once standardized: the model's output is NaN.
    csv.push_str("3e38,1,1,1,setosa\n");
    let big = m.bytes("big.csv", &csv);
    let out = m.predict(&model, &big);
    assert_error(
        &out,
        3,
        &["big.csv:152:sepal_length:", "not a finite number"],
    );
    assert!(out.stdout.is_empty(), "no partial predictions");
    // Without the labels too (predict proper).
    let unlabelled: String = csv
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    let big = m.bytes("big_unlabelled.csv", unlabelled);
    assert_error(&m.predict(&model, &big), 3, &[":152:sepal_length:"]);
}

#[test]
fn repeated_names_and_a_label_among_the_features_are_model_errors() {
    let m = Models::new();
    let iris = data("iris.csv");
    let twice = m.edited("twice.json", |m| {
        m["prep"]["features"][1] = "sepal_length".into();
    });
    assert_error(
        &m.predict(&twice, &iris),
        4,
        &[
            "twice.json:",
            "\"sepal_length\" at both prep.features[0] and prep.features[1]",
        ],
    );
    let label = m.edited("label.json", |m| {
        m["prep"]["features"][3] = "species".into();
    });
    assert_error(
        &m.predict(&label, &iris),
        4,
        &[
            "label.json:",
            "prep.features[3] and prep.labels[0]",
            "its label is also one of its features",
        ],
    );
    // Names that differ only by surrounding spaces are the same name.
    let spaced = m.edited("spaced.json", |m| {
        m["prep"]["features"][1] = "sepal_length\u{a0}".into();
    });
    assert_error(&m.predict(&spaced, &iris), 4, &["appears twice"]);
}

/// Trains on CSV text; returns the saved model's `prep` (features, labels, classes) and
/// stderr.
fn train_on(csv: &str, extra: &[&str]) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.csv");
    std::fs::write(&path, csv).unwrap();
    let model = dir.path().join("m.json");
    let mut args = vec![
        "--data",
        path.to_str().unwrap(),
        "--epochs",
        "1",
        "-q",
        "--save",
        model.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = run(&args);
    ok_stdout(&out);
    (saved_prep(&model), stderr(&out))
}

fn saved_prep(model: &Path) -> serde_json::Value {
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model).unwrap()).unwrap();
    m["prep"].clone()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn integer_labels_are_compared_exactly_at_any_length() {
    let labels = [
        "18446744073709551617",
        "18446744073709551616",
        "-5",
        "10",
        "9",
        "18446744073709551616.0",
        "100000000000000000000000000000000000001",
        "1e38",
        "+9",
        "0009",
    ];
    let mut csv = String::from("a,y\n");
    for (i, l) in labels.iter().cycle().take(40).enumerate() {
        csv.push_str(&format!("{i},{l}\n"));
    }
    let (prep, _) = train_on(&csv, &[]);
    // 2^64 and 2^64 + 1 are two classes; 9, +9 and 0009 one (as are 2^64 and 2^64.0),
    // sorted by value, each spelled as first seen.
    assert_eq!(
        strings(&prep["classes"]),
        [
            "-5",
            "9",
            "10",
            "18446744073709551616",
            "18446744073709551617",
            "1e38",
            "100000000000000000000000000000000000001"
        ],
        "{prep}"
    );
}

#[test]
fn a_number_that_names_a_column_takes_it_before_the_column_at_that_index() {
    let mut csv = String::from("label,0,1,2\n");
    for i in 0..30 {
        csv.push_str(&format!("{},{i},{},{}\n", ["a", "b"][i % 2], i * 2, i % 7));
    }
    // --ignore 1: the column named `1` (index 2), not index 1 (named `0`).
    let (prep, err) = train_on(&csv, &["--label", "label", "--ignore", "1"]);
    assert_eq!(strings(&prep["features"]), ["0", "2"], "{prep}");
    assert!(
        err.contains(
            "--ignore 1: took the column named `1` (index 2), not the column at index 1 (`0`)"
        ),
        "{err}"
    );
    // predict, eval and explain apply the same rule to --ignore, and say so too.
    let dir = tempfile::tempdir().unwrap();
    let (data, model) = (dir.path().join("d.csv"), dir.path().join("m.json"));
    std::fs::write(&data, &csv).unwrap();
    let (data, model) = (data.to_str().unwrap(), model.to_str().unwrap());
    let args = ["--data", data, "--label", "label", "--ignore", "1"];
    train_json(&[&args[..], &["--epochs", "2", "--save", model]].concat());
    for cmd in ["predict", "eval", "explain"] {
        let out = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
            .args([cmd, "--model", model, "--data", data, "--ignore", "1"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{cmd}: {err}");
        assert!(
            err.contains("mlp-train: note: --ignore 1: took the column named `1` (index 2)"),
            "{cmd}: {err}"
        );
    }
    // --label 0 on `2,1,0`: the column named `0` (the last), not index 0 (named `2`).
    let mut csv = String::from("2,1,0\n");
    for i in 0..30 {
        csv.push_str(&format!("{i},{},{}\n", i % 5, ["a", "b", "c"][i % 3]));
    }
    let (prep, err) = train_on(&csv, &["--label", "0"]);
    assert_eq!(strings(&prep["features"]), ["2", "1"], "{prep}");
    assert_eq!(strings(&prep["labels"]), ["0"], "{prep}");
    assert!(
        err.contains("--label 0: took the column named `0`"),
        "{err}"
    );
    // A number that names no column is an index, without a note.
    let mut csv = String::from("x,y,z\n");
    for i in 0..30 {
        csv.push_str(&format!("{i},{},{}\n", i % 5, ["a", "b"][i % 2]));
    }
    let (prep, err) = train_on(&csv, &["--ignore", "1"]);
    assert_eq!(strings(&prep["features"]), ["x"], "{prep}");
    assert!(!err.contains("took the column"), "{err}");
}

#[test]
fn header_names_are_trimmed_of_unicode_spaces_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("excel.csv");
    // A no-break space after `b` and around the label's name, as spreadsheets export.
    let mut csv = String::from("a,b\u{a0},\u{2003}kind\u{a0}\n");
    for i in 0..40 {
        csv.push_str(&format!("{},{},{}\n", i % 9, i % 4, ["x", "y"][i % 2]));
    }
    std::fs::write(&csv_path, csv).unwrap();
    let model = dir.path().join("m.json");
    let (csv_path, model) = (csv_path.to_str().unwrap(), model.to_str().unwrap());
    train_json(&[
        "--data", csv_path, "--label", "kind", "--epochs", "2", "--save", model,
    ]);
    let prep = saved_prep(Path::new(model));
    assert_eq!(strings(&prep["features"]), ["a", "b"], "{prep}");
    assert_eq!(strings(&prep["labels"]), ["kind"], "{prep}");
    // The model predicts on its own training file, and --ignore finds `b` too.
    let out = run(&["predict", "--model", model, "--data", csv_path]);
    assert_eq!(ok_stdout(&out).lines().count(), 41);
    let ignored = dir.path().join("ignored.json");
    train_json(&[
        "--data",
        csv_path,
        "--label",
        "\u{a0}kind",
        "--ignore",
        "b\u{a0}",
        "--epochs",
        "1",
        "--save",
        ignored.to_str().unwrap(),
    ]);
    assert_eq!(strings(&saved_prep(&ignored)["features"]), ["a"]);
    // A model written with a spaced name (before this rule) still matches its file.
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model).unwrap()).unwrap();
    m["prep"]["features"][1] = "b\u{a0}".into();
    let old = dir.path().join("old.json");
    std::fs::write(&old, serde_json::to_vec(&m).unwrap()).unwrap();
    let out = run(&[
        "predict",
        "--model",
        old.to_str().unwrap(),
        "--data",
        csv_path,
    ]);
    assert_eq!(ok_stdout(&out).lines().count(), 41);
}

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let units = bom
        .then_some(0xFEFFu16)
        .into_iter()
        .chain(text.encode_utf16());
    for u in units {
        out.extend(if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

#[test]
fn utf16_files_are_named_as_such_and_a_utf8_bom_is_skipped() {
    let m = Models::new();
    let model_text = std::fs::read_to_string(m.dir.path().join("m.json")).unwrap();
    let iris_text = std::fs::read_to_string(data("iris.csv")).unwrap();
    let iris = data("iris.csv");
    let model = m.dir.path().join("m.json").display().to_string();
    for (big_endian, bom, how) in [
        (false, true, "little-endian, with a byte-order mark"),
        (true, true, "big-endian, with a byte-order mark"),
        (false, false, "little-endian, without a byte-order mark"),
        (true, false, "big-endian, without a byte-order mark"),
    ] {
        let name = format!("m16_{big_endian}_{bom}.json");
        let path = m.bytes(&name, utf16(&model_text, big_endian, bom));
        assert_error(
            &m.predict(&path, &iris),
            4,
            &[&name, &format!("is UTF-16 text ({how}): save it as UTF-8")],
        );
        let name = format!("d16_{big_endian}_{bom}.csv");
        let path = m.bytes(&name, utf16(&iris_text, big_endian, bom));
        assert_error(
            &m.predict(&model, &path),
            3,
            &[&name, &format!("is UTF-16 text ({how})")],
        );
        assert_error(
            &run(&["--data", &path]),
            3,
            &[&name, "UTF-16", "save it as UTF-8"],
        );
    }
    // A UTF-8 byte-order mark (Windows editors) is skipped, in a model as in a CSV file.
    let path = m.bytes("bom.json", format!("\u{feff}{model_text}"));
    let csv = m.bytes("bom.csv", format!("\u{feff}{iris_text}"));
    assert_eq!(ok_stdout(&m.predict(&path, &csv)).lines().count(), 151);
}

#[test]
fn a_divergence_advises_by_the_term_that_grew() {
    // λ so large that its own step, W ← W(1 − ηλ), throws the weights away: a larger
    // --lambda would be the wrong advice.
    let out = run(&["--data", &data("iris.csv"), "--lambda", "1e30", "-q"]);
    let line = assert_error(
        &out,
        6,
        &[
            "training diverged at epoch 1",
            "the L2 term's own step overshoots (--lr × --lambda is not below 2 × (1 + --momentum))",
            "try a smaller --lambda (now 1e30) or a smaller --lr (now 0.1)",
        ],
    );
    assert!(!line.contains("larger --lambda"), "{line}");
    // ηλ = 3: each step doubles the weights' size, however small λ/2 ‖W‖² starts.
    let line = assert_error(
        &run(&["--data", &data("iris.csv"), "--lambda", "30", "-q"]),
        6,
        &["smaller --lambda (now 30)"],
    );
    assert!(!line.contains("larger --lambda"), "{line}");
    // L blew up (raw inputs, a huge step): standardizing first, then a smaller --lr
    // (issue 23: the advice names the fix).
    let out = run(&[
        "--data",
        &data("regression.csv"),
        "--task",
        "regress",
        "--no-standardize",
        "--lr",
        "1e6",
        "--lambda",
        "0",
        "-q",
    ]);
    let line = assert_error(
        &out,
        6,
        &[
            "not standardized (--no-standardize): drop --no-standardize",
            "else try a smaller --lr (now 1000000)",
        ],
    );
    assert!(!line.contains("overshoots"), "{line}");
    // The same with a λ whose own step overshoots too (ηλ = 100): --lr, then --lambda,
    // and never a larger --lambda.
    let out = run(&[
        "--data",
        &data("regression.csv"),
        "--task",
        "regress",
        "--no-standardize",
        "--lr",
        "1e6",
        "--lambda",
        "1e-4",
        "-q",
    ]);
    let line = assert_error(
        &out,
        6,
        &[
            "overshoots",
            "try a smaller --lr (now 1000000) or a smaller --lambda (now 0.0001)",
        ],
    );
    assert!(!line.contains("larger --lambda"), "{line}");
}

/// A CSV of `n` rows of `d` features and a 2-class label, written once per test run.
fn wide_csv(path: &Path, n: usize, d: usize) {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let header: Vec<String> = (0..d)
        .map(|j| format!("x{j}"))
        .chain(["y".into()])
        .collect();
    writeln!(w, "{}", header.join(",")).unwrap();
    let mut state = 12345u64;
    for i in 0..n {
        for _ in 0..d {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            write!(w, "{},", (state >> 54) as f32 / 256.0).unwrap();
        }
        writeln!(w, "{}", i % 2).unwrap();
    }
}

#[test]
#[cfg(unix)]
fn sigterm_stops_a_large_minibatch_within_a_moment() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("wide.csv");
    // One minibatch of 40,000 rows × 256 features into 2048 hidden units: about 7e10
    // multiply-adds a step, seconds on one core.
    wide_csv(&csv, 40_000, 256);
    let save: PathBuf = dir.path().join("m.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .arg("--data")
        .arg(&csv)
        .args([
            "--batch-size",
            "40000",
            "--hidden",
            "2048",
            "--precision",
            "f32",
            "--threads",
            "1",
            "--epochs",
            "1000",
        ])
        .arg("--save")
        .arg(&save)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first epoch line: one whole step has run, and the next has just begun.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let epoch_started = Instant::now();
    let mut step = None;
    for line in lines.by_ref() {
        if line.unwrap().starts_with("epoch") {
            step = Some(epoch_started.elapsed());
            break;
        }
    }
    assert!(step.is_some(), "no epoch line");
    std::thread::sleep(Duration::from_millis(200));
    let sent = Instant::now();
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let rest: Vec<String> = lines.map_while(|l| l.ok()).collect();
    let status = child.wait().unwrap();
    let took = sent.elapsed();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    // Before, the step ran to its end: the exit came about a step after the signal. Measured
    // against the step itself, so that a loaded machine (which slows both) cannot flake it.
    let step = step.unwrap();
    assert!(
        took < Duration::from_millis(1500).max(step / 3),
        "exited {took:?} after SIGTERM (loading and the first step took {step:?})"
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&save).unwrap()).unwrap();
    assert_eq!(m["interrupted"], true);
    assert_eq!(m["epochs_run"], 1, "the unfinished step is dropped");
}
