//! Bad input and faults (issue 4): every bad data file, flag and model file gets one line
//! `mlp-train: error: <what>` naming the file and line:column (or field), or the flag and its
//! value; a documented exit code; never a panic (101); and nothing written or half-written.

mod common;
use common::*;

use std::path::Path;
use std::process::{Command, Stdio};

const DATA: i32 = 3;
const USAGE: i32 = 2;
const MODEL: i32 = 4;
const IO: i32 = 5;
const DIVERGED: i32 = 6;

/// A scratch folder: the inputs a test puts there, and the outputs a failing run must not leave.
struct Scratch {
    dir: tempfile::TempDir,
    inputs: Vec<String>,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
            inputs: Vec::new(),
        }
    }

    /// Writes an input file and returns its path.
    fn file(&mut self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        std::fs::write(self.dir.path().join(name), bytes).unwrap();
        self.inputs.push(name.to_string());
        self.path(name)
    }

    /// A path in the folder (not created).
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// `--save m.json --log log.csv` in the folder.
    fn outputs(&self) -> Vec<String> {
        vec![
            "--save".into(),
            self.path("m.json"),
            "--log".into(),
            self.path("log.csv"),
        ]
    }

    /// Nothing but the inputs in the folder: no model, no log, no temporary file.
    fn assert_nothing_written(&self) {
        let mut expected = self.inputs.clone();
        expected.sort();
        assert_eq!(files_in(self.dir.path()), expected, "something was written");
    }

    /// Trains with `args` plus --save and --log into the folder; asserts the failure and
    /// that nothing was written. Returns the error line.
    fn train_fails(&self, args: &[&str], code: i32, needles: &[&str]) -> String {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(self.outputs());
        all.push("--quiet".into());
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let line = assert_error(&run(&all), code, needles);
        self.assert_nothing_written();
        line
    }

    /// Predicts with `args` plus --out into the folder; asserts the failure and that
    /// nothing was written.
    fn predict_fails(&self, args: &[&str], code: i32, needles: &[&str]) -> String {
        let out = self.path("pred.csv");
        let mut all = vec!["predict"];
        all.extend(args);
        all.extend(["--out", &out]);
        let line = assert_error(&run(&all), code, needles);
        self.assert_nothing_written();
        line
    }

    /// A model trained on iris for a few epochs, saved into the folder as an input.
    fn iris_model(&mut self, name: &str) -> String {
        let path = self.path(name);
        let out = run(&[
            "--data",
            &data("iris.csv"),
            "--epochs",
            "3",
            "--save",
            &path,
            "--quiet",
        ]);
        ok_stdout(&out);
        self.inputs.push(name.to_string());
        path
    }
}

/// The iris CSV text.
fn iris() -> String {
    std::fs::read_to_string(data("iris.csv")).unwrap()
}

// ---------------------------------------------------------------------------------------
// Data files
// ---------------------------------------------------------------------------------------

#[test]
fn data_file_missing() {
    let s = Scratch::new();
    let missing = s.path("missing.csv");
    s.train_fails(&["--data", &missing], DATA, &[&missing, "no such file"]);
}

#[test]
fn data_file_is_a_directory() {
    let mut s = Scratch::new();
    std::fs::create_dir(s.dir.path().join("folder.csv")).unwrap();
    s.inputs.push("folder.csv".into());
    let p = s.path("folder.csv");
    s.train_fails(&["--data", &p], DATA, &[&p, "is a directory"]);
}

#[cfg(unix)]
#[test]
fn data_file_unreadable() {
    use std::os::unix::fs::PermissionsExt;
    let mut s = Scratch::new();
    let p = s.file("secret.csv", iris());
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&p).is_err() {
        s.train_fails(&["--data", &p], DATA, &[&p, "cannot be read"]);
    } else {
        eprintln!("running as root: mode 000 does not stop reads; using /proc/self/mem");
    }
    // A file that exists but whose read fails (EIO) whoever reads it.
    if Path::new("/proc/self/mem").exists() {
        s.train_fails(
            &["--data", "/proc/self/mem"],
            DATA,
            &["/proc/self/mem", "cannot be read"],
        );
    }
    // A path through a regular file (ENOTDIR).
    let through = format!("{p}/x.csv");
    s.train_fails(&["--data", &through], DATA, &[&through]);
}

#[test]
fn data_file_empty_or_header_only() {
    let mut s = Scratch::new();
    let empty = s.file("empty.csv", "");
    s.train_fails(&["--data", &empty], DATA, &[&empty, "is empty"]);
    let header = s.file("header.csv", "a,b,label\n");
    s.train_fails(&["--data", &header], DATA, &[&header, "no data rows"]);
    // Blank lines after the header are not rows either.
    let blank = s.file("blank.csv", "a,b,label\n\n\n");
    s.train_fails(&["--data", &blank], DATA, &[&blank]);
    // The same through stdin.
    let out = run_stdin(&["--data", "-", "--quiet"], b"");
    assert_error(&out, DATA, &["<stdin>", "is empty"]);
}

#[test]
fn data_ragged_row_names_line_and_column() {
    let mut s = Scratch::new();
    let short = s.file("short.csv", "a,b,label\n1,2,x\n3,y\n5,6,y\n");
    s.train_fails(
        &["--data", &short],
        DATA,
        &[&format!("{short}:3:"), "2 fields"],
    );
    let long = s.file("long.csv", "a,b,label\n1,2,x\n3,4,y\n5,6,y,7\n");
    s.train_fails(
        &["--data", &long],
        DATA,
        &[&format!("{long}:4:"), "4 fields"],
    );
}

#[test]
fn data_non_numeric_or_empty_field_names_line_and_column() {
    let mut s = Scratch::new();
    let p = s.file("text.csv", "a,b,label\n1,2,x\n3,zz,y\n");
    s.train_fails(&["--data", &p], DATA, &[&format!("{p}:3:b:"), "`zz`"]);
    let p = s.file("empty_field.csv", "a,b,label\n1,2,x\n,4,y\n");
    s.train_fails(&["--data", &p], DATA, &[&format!("{p}:3:a:"), "empty"]);
    // An empty class label is an empty field too.
    let p = s.file("empty_label.csv", "a,b,label\n1,2,x\n3,4,\n");
    s.train_fails(&["--data", &p], DATA, &[&format!("{p}:3:label:")]);
    // A non-numeric regression target.
    let p = s.file("target.csv", "a,b,y\n1,2,0.5\n3,4,high\n");
    s.train_fails(
        &["--data", &p, "--task", "regress"],
        DATA,
        &[&format!("{p}:3:y:"), "`high`"],
    );
}

#[test]
fn data_nan_and_inf_are_refused_with_their_place() {
    let mut s = Scratch::new();
    for (k, bad) in ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"]
        .iter()
        .enumerate()
    {
        let p = s.file(
            &format!("bad{k}.csv"),
            format!("a,b,label\n1,2,x\n3,{bad},y\n"),
        );
        s.train_fails(&["--data", &p], DATA, &[&format!("{p}:3:b:"), bad]);
    }
    let p = s.file("target_nan.csv", "a,b,y\n1,2,0.5\n3,4,nan\n");
    s.train_fails(
        &["--data", &p, "--task", "regress"],
        DATA,
        &[&format!("{p}:3:y:"), "nan"],
    );
}

#[test]
fn data_label_column_that_does_not_exist() {
    let s = Scratch::new();
    let iris = data("iris.csv");
    s.train_fails(
        &["--data", &iris, "--label", "colour"],
        DATA,
        &[&iris, "`colour`", "species"],
    );
    s.train_fails(
        &["--data", &iris, "--label", "17"],
        DATA,
        &[&iris, "17", "5 columns"],
    );
    s.train_fails(&["--data", &iris, "--label", "-1"], DATA, &[&iris, "`-1`"]);
}

#[test]
fn data_single_class() {
    let mut s = Scratch::new();
    let p = s.file("one.csv", "a,b,label\n1,2,x\n3,4,x\n");
    s.train_fails(&["--data", &p], DATA, &[&p, "`label`", "single class"]);
}

#[test]
fn data_duplicate_header_names() {
    let mut s = Scratch::new();
    let p = s.file("dup.csv", "a,b,a,label\n1,2,3,x\n3,4,5,y\n");
    s.train_fails(&["--data", &p], DATA, &[&format!("{p}:1:a:"), "twice"]);
}

#[test]
fn data_corrupt_gzip() {
    let mut s = Scratch::new();
    let p = s.file("garbage.csv.gz", b"\x1f\x8b\x08\x00not deflate at all");
    s.train_fails(&["--data", &p], DATA, &[&p, "gzip"]);
    // A real gzip file cut in half.
    let whole = gzip(iris().as_bytes());
    let p = s.file("cut.csv.gz", &whole[..whole.len() / 2]);
    s.train_fails(&["--data", &p], DATA, &[&p, "gzip"]);
}

/// A gzip member of `bytes`, stored with the flate2 the crate already depends on.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn data_bom_and_crlf_simply_work() {
    let mut s = Scratch::new();
    let crlf = iris().replace('\n', "\r\n");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(crlf.as_bytes());
    let p = s.file("bom_crlf.csv", &bom);
    let gz = s.file("bom_crlf.csv.gz", gzip(&bom));
    let plain = train_json(&["--data", &data("iris.csv"), "--epochs", "5"]);
    for file in [&p, &gz] {
        let v = train_json(&["--data", file, "--epochs", "5"]);
        // The same header names (no BOM in the first, no \r in the last) and the same run.
        assert_eq!(v["classes"], plain["classes"], "{file}");
        assert_eq!(v["train_loss"], plain["train_loss"], "{file}");
        assert_eq!(v["train_accuracy"], plain["train_accuracy"], "{file}");
    }
    // The first and last columns by name.
    let v = train_json(&["--data", &p, "--label", "species", "--epochs", "2"]);
    assert_eq!(v["classes"], plain["classes"]);
    // Regression targets at the end of a CRLF line, and the first column (after the BOM)
    // by name.
    let mut reg = b"\xEF\xBB\xBF".to_vec();
    reg.extend(
        std::fs::read_to_string(data("regression.csv"))
            .unwrap()
            .replace('\n', "\r\n")
            .as_bytes(),
    );
    let r = s.file("reg_crlf.csv", reg);
    for label in ["progression", "age"] {
        let v = train_json(&[
            "--data", &r, "--task", "regress", "--label", label, "--epochs", "2",
        ]);
        assert!(v["train_loss"].as_f64().unwrap().is_finite(), "{v}");
    }
    // And a model trained on it predicts the plain file.
    let m = s.path("m.json");
    ok_stdout(&run(&["--data", &p, "--epochs", "2", "--save", &m, "-q"]));
    ok_stdout(&run(&[
        "predict",
        "--model",
        &m,
        "--data",
        &data("iris.csv"),
    ]));
}

#[test]
fn test_file_with_other_columns_says_which() {
    let mut s = Scratch::new();
    let iris_path = data("iris.csv");
    let text = iris();
    let renamed = s.file("renamed.csv", text.replacen("sepal_width", "sepal_w", 1));
    s.train_fails(
        &["--data", &iris_path, "--test", &renamed],
        DATA,
        &[&renamed, "sepal_width", "sepal_w"],
    );
    let fewer: String = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{},{},{},{}\n", f[0], f[1], f[2], f[4])
        })
        .collect();
    let fewer = s.file("fewer.csv", fewer);
    s.train_fails(
        &["--data", &iris_path, "--test", &fewer],
        DATA,
        &[&fewer, "petal_width"],
    );
    let missing = s.path("nope.csv");
    s.train_fails(
        &["--data", &iris_path, "--test", &missing],
        DATA,
        &[&missing, "no such file"],
    );
}

#[test]
fn predict_file_with_other_columns_says_which() {
    let mut s = Scratch::new();
    let m = s.iris_model("iris.json");
    let renamed = s.file(
        "renamed.csv",
        iris().replacen("petal_length", "petal_len", 1),
    );
    s.predict_fails(
        &["--model", &m, "--data", &renamed],
        DATA,
        &[&renamed, "petal_length", "petal_len"],
    );
    // Extra feature column.
    let extra: String = iris()
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("extra,{l}\n")
            } else {
                format!("1.0,{l}\n")
            }
        })
        .collect();
    let extra = s.file("extra.csv", extra);
    // An extra column is skipped (the model's columns are found by name), and noted once.
    let out = run(&["predict", "--model", &m, "--data", &extra]);
    assert_eq!(ok_stdout(&out).lines().count(), iris().lines().count());
    assert!(
        stderr(&out).contains("the model does not use column extra: ignored"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn label_never_seen_in_training() {
    let mut s = Scratch::new();
    let m = s.iris_model("iris.json");
    let unseen = s.file("unseen.csv", iris().replacen("setosa", "martian", 1));
    let place = format!("{unseen}:2:species:");
    s.predict_fails(
        &["--model", &m, "--data", &unseen],
        DATA,
        &[&place, "`martian`"],
    );
    s.train_fails(
        &["--data", &data("iris.csv"), "--test", &unseen],
        DATA,
        &[&place, "`martian`"],
    );
}

// ---------------------------------------------------------------------------------------
// Flags
// ---------------------------------------------------------------------------------------

/// Runs training on iris with one bad flag; asserts exit 2, the flag and the value in the
/// message, and nothing written.
fn bad_flag(s: &Scratch, flag: &str, value: &str, shown: &str) {
    let iris = data("iris.csv");
    for args in [
        vec!["--data", &iris, flag, value],
        vec!["--data", &iris, &format!("{flag}={value}")],
    ] {
        s.train_fails(&args, USAGE, &[flag, shown]);
    }
}

#[test]
fn flag_lambda_negative() {
    let s = Scratch::new();
    bad_flag(&s, "--lambda", "-1", "-1");
    bad_flag(&s, "--lambda", "-0.001", "-0.001");
    bad_flag(&s, "--lambda", "nan", "NaN");
    bad_flag(&s, "--lambda", "inf", "inf");
}

#[test]
fn flag_lr_not_positive_or_not_finite() {
    let s = Scratch::new();
    bad_flag(&s, "--lr", "0", "0");
    bad_flag(&s, "--lr", "-0.1", "-0.1");
    bad_flag(&s, "--lr", "nan", "NaN");
    bad_flag(&s, "--lr", "inf", "inf");
}

#[test]
fn flag_counts_zero() {
    let s = Scratch::new();
    for flag in ["--batch-size", "--hidden", "--epochs", "--threads"] {
        bad_flag(&s, flag, "0", "0");
    }
    // Not a number at all: clap's message, still naming the flag and the value.
    bad_flag(&s, "--epochs", "-3", "-3");
    bad_flag(&s, "--hidden", "many", "many");
}

#[test]
fn flag_val_frac_outside_0_1() {
    let s = Scratch::new();
    for v in ["1", "1.5", "-0.1"] {
        bad_flag(&s, "--val-frac", v, v);
    }
    bad_flag(&s, "--val-frac", "nan", "NaN");
}

#[test]
fn flag_momentum_outside_0_1() {
    let s = Scratch::new();
    for v in ["1", "2", "-0.5"] {
        bad_flag(&s, "--momentum", v, v);
    }
    bad_flag(&s, "--momentum", "nan", "NaN");
}

#[test]
fn flag_conflicts_are_declared_in_clap() {
    let mut s = Scratch::new();
    let iris = data("iris.csv");
    let m = s.iris_model("iris.json");
    s.train_fails(&["--data", &iris, "--cv", "3"], USAGE, &["--cv", "--save"]);
    s.train_fails(
        &["--data", &iris, "--init-from", &m, "--hidden", "4"],
        USAGE,
        &["--init-from", "--hidden"],
    );
    s.train_fails(
        &["--data", &iris, "--init-from", &m, "--task", "regress"],
        USAGE,
        &["--init-from", "--task"],
    );
    // --patience needs --val-frac: the message names the missing flag.
    s.train_fails(
        &["--data", &iris, "--patience", "3"],
        USAGE,
        &["--val-frac"],
    );
    // No --data at all.
    s.train_fails(&["--epochs", "3"], USAGE, &["--data"]);
    let out = run(&["graph", "--model", &m, "--data", &iris]);
    assert_error(&out, USAGE, &["--model", "--data"]);
}

// ---------------------------------------------------------------------------------------
// Model files
// ---------------------------------------------------------------------------------------

/// Loads `model` three ways (predict, --init-from, explain) and asserts exit 4 naming the
/// file and `needles`, and that nothing was written.
fn bad_model(s: &Scratch, model: &str, needles: &[&str]) {
    let mut all = vec![model];
    all.extend(needles);
    let iris = data("iris.csv");
    s.predict_fails(&["--model", model, "--data", &iris], MODEL, &all);
    s.train_fails(&["--data", &iris, "--init-from", model], MODEL, &all);
    let out = run(&["explain", "--model", model, "--data", &iris]);
    assert_error(&out, MODEL, &all);
    let out = run(&["graph", "--model", model]);
    assert_error(&out, MODEL, &all);
}

/// A saved iris model as JSON, to edit.
fn model_json(s: &mut Scratch) -> serde_json::Value {
    let p = s.iris_model("good.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn model_file_missing_or_a_directory() {
    let mut s = Scratch::new();
    let missing = s.path("missing.json");
    bad_model(&s, &missing, &["cannot open"]);
    std::fs::create_dir(s.dir.path().join("folder.json")).unwrap();
    s.inputs.push("folder.json".into());
    bad_model(&s, &s.path("folder.json"), &["directory"]);
}

#[test]
fn model_file_truncated_or_not_json() {
    let mut s = Scratch::new();
    let good = std::fs::read_to_string(s.iris_model("good.json")).unwrap();
    let cut = s.file("cut.json", &good[..good.len() / 2]);
    bad_model(&s, &cut, &["truncated"]);
    let empty = s.file("empty.json", "");
    bad_model(&s, &empty, &["truncated"]);
    let text = s.file("text.json", "hello, world\n");
    bad_model(&s, &text, &["invalid JSON"]);
    let csv = data("iris.csv");
    let out = run(&["predict", "--model", &csv, "--data", &csv]);
    assert_error(&out, MODEL, &[&csv]);
    let other = s.file(
        "other.json",
        r#"{"format": "something else", "format_version": 1}"#,
    );
    bad_model(&s, &other, &["not an mlp-train model"]);
    let binary = s.file("binary.json", [0xffu8, 0xfe, 0x00, 0x7b, 0x22]);
    bad_model(&s, &binary, &[]);
}

#[test]
fn model_file_unknown_format_version() {
    let mut s = Scratch::new();
    let mut v = model_json(&mut s);
    v["format_version"] = 3.into();
    let p = s.file("v2.json", v.to_string());
    bad_model(&s, &p, &["format_version 3", "reads only versions 1 to 2"]);
    v["format_version"] = "one".into();
    let p = s.file("vtext.json", v.to_string());
    bad_model(&s, &p, &["format_version"]);
}

#[test]
fn model_weight_shapes_disagree_with_declared_dimensions() {
    let mut s = Scratch::new();
    let good = model_json(&mut s);
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit, &str); 5] = [
        (
            "w1row",
            |v| {
                v["w1"][3].as_array_mut().unwrap().pop();
            },
            "w1 row 3",
        ),
        (
            "w1rows",
            |v| {
                v["w1"].as_array_mut().unwrap().pop();
            },
            "hidden",
        ),
        (
            "w2row",
            |v| {
                v["w2"][1].as_array_mut().unwrap().push(0.5.into());
            },
            "w2 row 1",
        ),
        (
            "inputs",
            |v| v["architecture"]["inputs"] = 6.into(),
            "inputs",
        ),
        (
            "classes",
            |v| {
                v["prep"]["classes"].as_array_mut().unwrap().pop();
            },
            "classes",
        ),
    ];
    for (name, edit, needle) in edits {
        let mut v = good.clone();
        edit(&mut v);
        let p = s.file(&format!("{name}.json"), v.to_string());
        bad_model(&s, &p, &[needle, "inconsistent"]);
    }
}

#[test]
fn model_that_does_not_fit_the_data() {
    let mut s = Scratch::new();
    // A model trained on three of iris's four features.
    let three: String = iris()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{},{},{},{}\n", f[0], f[1], f[2], f[4])
        })
        .collect();
    let three = s.file("three.csv", three);
    let m = s.path("three.json");
    ok_stdout(&run(&[
        "--data", &three, "--epochs", "2", "--save", &m, "-q",
    ]));
    s.inputs.push("three.json".into());
    let iris = data("iris.csv");
    // The file has a column more: skipped by name (tests/columns.rs); one less is an error.
    ok_stdout(&run(&["predict", "--model", &m, "--data", &iris]));
    let four = s.iris_model("four.json");
    s.predict_fails(
        &["--model", &four, "--data", &three],
        DATA,
        &[&three, "petal_width"],
    );
    s.train_fails(
        &["--data", &three, "--init-from", &four],
        DATA,
        &[&three, "petal_width"],
    );
    // A regression model on a file without its target column, for --init-from.
    let r = s.path("reg.json");
    ok_stdout(&run(&[
        "--data",
        &data("regression.csv"),
        "--task",
        "regress",
        "--epochs",
        "2",
        "--save",
        &r,
        "-q",
    ]));
    s.inputs.push("reg.json".into());
    s.train_fails(
        &["--data", &iris, "--init-from", &r],
        DATA,
        &[&iris, "progression"],
    );
}

#[test]
fn model_non_finite_weights() {
    let mut s = Scratch::new();
    let good = std::fs::read_to_string(s.iris_model("good.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&good).unwrap();
    let first = v["w1"][0][0].to_string();
    let at = good.find(&first).unwrap();
    for (k, bad) in ["1e999", "-1e999", "NaN", "Infinity", "null"]
        .iter()
        .enumerate()
    {
        let text = format!("{}{bad}{}", &good[..at], &good[at + first.len()..]);
        let p = s.file(&format!("w{k}.json"), text);
        bad_model(&s, &p, &[]);
    }
    // Non-finite or zero standardization statistics are refused too.
    let mut z = v.clone();
    z["prep"]["standardize"]["std"][0] = 0.0.into();
    let p = s.file("std0.json", z.to_string());
    bad_model(&s, &p, &["std"]);
}

#[test]
fn model_absurd_declared_sizes_are_not_allocated() {
    let mut s = Scratch::new();
    let good = model_json(&mut s);
    for (k, (field, value)) in [
        ("hidden", serde_json::json!(1_000_000_000_000_000u64)),
        ("inputs", serde_json::json!(u64::MAX)),
        ("outputs", serde_json::json!(99_999_999_999u64)),
        ("hidden", serde_json::json!(0)),
        ("hidden", serde_json::json!(1e300)),
        ("inputs", serde_json::json!(-5)),
    ]
    .into_iter()
    .enumerate()
    {
        let mut v = good.clone();
        v["architecture"][field] = value;
        let p = s.file(&format!("absurd{k}.json"), v.to_string());
        bad_model(&s, &p, &[]);
    }
}

#[test]
fn model_inconsistent_preprocessing() {
    let mut s = Scratch::new();
    let good = model_json(&mut s);
    let mut v = good.clone();
    v["prep"]["classes"] = serde_json::json!(["virginica", "setosa", "versicolor"]);
    let p = s.file("unsorted.json", v.to_string());
    bad_model(&s, &p, &["class list"]);
    let mut v = good.clone();
    v["prep"]["task"] = "regress".into();
    let p = s.file("task.json", v.to_string());
    bad_model(&s, &p, &[]);
    let mut v = good.clone();
    v["prep"]["standardize"]["mean"]
        .as_array_mut()
        .unwrap()
        .pop();
    let p = s.file("means.json", v.to_string());
    bad_model(&s, &p, &["standardize means"]);
}

// ---------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------

#[test]
fn divergence_stops_names_epoch_and_batch_and_saves_nothing() {
    let s = Scratch::new();
    let reg = data("regression.csv");
    for precision in ["f32", "f64"] {
        let line = s.train_fails(
            &[
                "--data",
                &reg,
                "--task",
                "regress",
                "--no-standardize",
                "--lr",
                "1e6",
                "--precision",
                precision,
            ],
            DIVERGED,
            &["diverged", "epoch 1", "batch ", "--lr", "--lambda"],
        );
        assert!(!line.contains("NaN weights"), "{line}");
        // Caught while finite, as a blow-up (issue 11), or once it overflows.
        assert!(
            line.contains("not finite") || line.contains("grew more than 1e6 times"),
            "{line}"
        );
    }
    // A weight that overflows: J was finite before the step. Since issue 11 the next
    // minibatch's J, finite but 1e6 times its start, usually stops it first.
    let line = s.train_fails(
        &[
            "--data",
            &data("iris.csv"),
            "--lr",
            "1e30",
            "--precision",
            "f64",
        ],
        DIVERGED,
        &["diverged", "epoch ", "batch ", "--lr", "--lambda"],
    );
    assert!(
        line.contains("not finite") || line.contains("grew more than 1e6 times"),
        "{line}"
    );
}

#[test]
fn output_paths_are_checked_before_training() {
    let mut s = Scratch::new();
    let iris = data("iris.csv");
    let nowhere = s.path("no/such/folder/m.json");
    // Many epochs: had training started, it would not matter, but nothing may be written.
    let long = ["--data", iris.as_str(), "--epochs", "100000"];
    let run_with = |extra: &[&str]| {
        let mut a = long.to_vec();
        a.extend(extra);
        a.push("-q");
        run(&a)
    };
    let out = run_with(&["--save", &nowhere, "--log", &s.path("log.csv")]);
    assert_error(&out, IO, &["--save", &nowhere]);
    s.assert_nothing_written();
    let out = run_with(&["--save", &s.path("m.json"), "--log", &nowhere]);
    assert_error(&out, IO, &["--log", &nowhere]);
    s.assert_nothing_written();
    // --plot takes only FILE.svg names (issue 11).
    let nowhere_svg = s.path("no/such/folder/curves.svg");
    let out = run_with(&["--save", &s.path("m.json"), "--plot", &nowhere_svg]);
    assert_error(&out, IO, &["--plot", &nowhere_svg]);
    s.assert_nothing_written();
    // A directory.
    let dir = s.dir.path().display().to_string();
    let out = run_with(&["--save", &dir, "--log", &s.path("log.csv")]);
    assert_error(&out, IO, &["--save", &dir, "directory"]);
    s.assert_nothing_written();
    // Through a regular file.
    let file = s.file("plain.txt", "x");
    let through = format!("{file}/m.json");
    let out = run_with(&["--save", &through]);
    assert_error(&out, IO, &["--save", &through]);
    s.assert_nothing_written();
    // predict --out.
    let m = s.iris_model("iris.json");
    let out = run(&["predict", "--model", &m, "--data", &iris, "--out", &nowhere]);
    assert_error(&out, IO, &["--out", &nowhere]);
    let out = run(&["predict", "--model", &m, "--data", &iris, "--out", &dir]);
    assert_error(&out, IO, &["--out", &dir, "directory"]);
    s.assert_nothing_written();
}

#[cfg(unix)]
#[test]
fn output_into_a_read_only_folder_fails_before_training() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    let ro = s.dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    if privileged(&ro) {
        eprintln!("running as root: a read-only folder cannot be staged; skipped");
        return;
    }
    let target = ro.join("m.json").display().to_string();
    let log = s.path("log.csv");
    let iris = data("iris.csv");
    let out = run(&["--data", &iris, "--save", &target, "--log", &log, "-q"]);
    assert_error(&out, IO, &["--save", &target]);
    assert!(files_in(&ro).is_empty());
    assert!(!Path::new(&log).exists());
}

#[test]
fn successful_writes_leave_no_temporary_files() {
    let mut s = Scratch::new();
    let m = s.iris_model("iris.json");
    let log = s.path("log.csv");
    let plot = s.path("curves.svg");
    ok_stdout(&run(&[
        "--data",
        &data("iris.csv"),
        "--epochs",
        "3",
        "--init-from",
        &m,
        "--save",
        &m,
        "--log",
        &log,
        "--plot",
        &plot,
        "-q",
    ]));
    let pred = s.path("pred.csv");
    ok_stdout(&run(&[
        "predict",
        "--model",
        &m,
        "--data",
        &data("iris.csv"),
        "--out",
        &pred,
    ]));
    assert_eq!(
        files_in(s.dir.path()),
        ["curves.svg", "iris.json", "log.csv", "pred.csv"]
    );
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
    assert_eq!(v["epochs_run"], 6);
}

/// Spawns mlp-train with stdout a pipe whose read end is closed at once.
fn closed_stdout(args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn closed_stdout_pipe_is_not_an_error() {
    let iris = data("iris.csv");
    let s = Scratch::new();
    let m = s.path("m.json");
    for args in [
        vec!["--data", iris.as_str(), "--epochs", "3", "--json", "-q"],
        vec![
            "--data",
            iris.as_str(),
            "--epochs",
            "3",
            "--save",
            m.as_str(),
        ],
        vec!["gradcheck"],
        vec!["completions", "bash"],
        vec!["man"],
    ] {
        let out = closed_stdout(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}\n{err}");
        assert!(!err.contains("error"), "{args:?}\n{err}");
    }
    let out = closed_stdout(&["predict", "--model", &m, "--data", &iris, "--proba"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("error"), "{}", stderr(&out));
}

#[cfg(unix)]
#[test]
fn closed_stderr_pipe_is_not_a_panic() {
    // `mlp-train --data missing.csv 2>&1 | head -c1`: the error line meets a closed pipe
    // (eprintln! would panic there). Both pipes are closed before the child writes.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(["--data", "/no/such/file.csv"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(DATA));
}
