//! CI gates that cannot be fooled (issue 19): the baseline is an input no output may replace,
//! it judges only a run on the same data and split, eval has the same gates, numbers read as
//! the table shows them, and --summary-md writes the verdict for a CI page. The real binary.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_error, data, ok_stdout, run, stderr};
use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A training's --json summary written to `to` (quick: iris, a few epochs), returned parsed.
fn summary_to(to: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--json", "-q"]);
    let out = run(&all);
    let text = ok_stdout(&out);
    std::fs::write(to, &text).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn iris_args(iris: &str) -> Vec<&str> {
    vec!["--data", iris, "--val-frac", "0.2", "--epochs", "20"]
}

/// A copy of iris in `dir`, with `edit` applied to its lines (header first).
fn iris_copy(dir: &Path, name: &str, edit: impl FnOnce(&mut Vec<String>)) -> PathBuf {
    let mut lines: Vec<String> = std::fs::read_to_string(data("iris.csv"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    edit(&mut lines);
    let p = dir.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

#[test]
fn no_output_may_name_the_baseline_and_it_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let good = dir.path().join("good.json");
    summary_to(&good, &iris_args(&iris));
    let before = std::fs::read(&good).unwrap();
    for flag in ["--save", "--log", "--report", "--summary-md", "--plot"] {
        // --plot wants an .svg name: the baseline is then a JSON summary under that name.
        let base = if flag == "--plot" {
            let svg = dir.path().join("good.svg");
            std::fs::copy(&good, &svg).unwrap();
            svg
        } else {
            good.clone()
        };
        let mut args = iris_args(&iris);
        args.extend(["--epochs", "2", "--baseline", s(&base), flag, s(&base)]);
        let out = run(&args);
        let line = assert_error(&out, 2, &[flag, "--baseline"]);
        assert!(line.contains("good."), "{line}");
        assert_eq!(std::fs::read(&base).unwrap(), before, "{flag} replaced it");
    }
    // Before any work: the data is not even read (a missing data file would be exit 3).
    let out = run(&[
        "--data",
        s(&dir.path().join("missing.csv")),
        "--baseline",
        s(&good),
        "--save",
        s(&good),
    ]);
    assert_error(&out, 2, &["--save", "--baseline"]);
    // Through a symlink, and with --cv.
    #[cfg(unix)]
    {
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&good, &link).unwrap();
        let out = run(&[
            "--data",
            &iris,
            "--cv",
            "3",
            "--epochs",
            "2",
            "--baseline",
            s(&good),
            "--report",
            s(&link),
        ]);
        assert_error(&out, 2, &["--report", "--baseline"]);
    }
    // eval: --out and --summary-md may not name it either.
    let model = dir.path().join("m.json");
    let mut args = iris_args(&iris);
    args.extend(["-q", "--save", s(&model)]);
    ok_stdout(&run(&args));
    let ev = dir.path().join("eval.json");
    let out = run(&["eval", "--model", s(&model), "--data", &iris, "--json"]);
    std::fs::write(&ev, ok_stdout(&out)).unwrap();
    let eval_before = std::fs::read(&ev).unwrap();
    for flag in ["--out", "--summary-md"] {
        let out = run(&[
            "eval",
            "--model",
            s(&model),
            "--data",
            &iris,
            "--baseline",
            s(&ev),
            flag,
            s(&ev),
        ]);
        assert_error(&out, 2, &[flag, "--baseline"]);
        assert_eq!(std::fs::read(&ev).unwrap(), eval_before);
    }
}

#[test]
fn an_iris_baseline_does_not_judge_a_digits_run() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let good = dir.path().join("good.json");
    let v = summary_to(&good, &iris_args(&iris));
    let fp = v["identity"]["data"]["fingerprint"].as_str().unwrap_or("?");
    let digits = data("digits.csv");
    let out = run(&[
        "--data",
        &digits,
        "--val-frac",
        "0.2",
        "--epochs",
        "1",
        "-q",
        "--baseline",
        s(&good),
    ]);
    let line = assert_error(
        &out,
        2,
        &[
            "--baseline",
            "good.json was made on other data",
            fp,
            "iris.csv",
            "digits.csv",
            "1797 rows",
        ],
    );
    assert!(line.contains("150 rows"), "{line}");
    // Nothing was trained: the refusal comes before the first epoch.
    assert!(out.stdout.is_empty());
    // The summary records what it measured.
    let id = &v["identity"];
    assert_eq!(id["command"], "train");
    assert_eq!(id["data"]["rows"], 150);
    assert_eq!(id["data"]["file"], iris.as_str());
    assert!(fp.starts_with("xxh3-128:") && fp.len() == 9 + 32, "{fp}");
    assert_eq!(id["features"][3], "petal_width");
    assert_eq!(id["classes"][0], "setosa");
    assert_eq!(id["split"]["val_frac"], 0.2);
    assert_eq!(id["split"]["seed"], 0);
    assert_eq!(id["test_data"], Value::Null);
}

#[test]
fn the_same_name_with_other_content_is_other_data() {
    let dir = tempfile::tempdir().unwrap();
    let csv = iris_copy(dir.path(), "iris.csv", |_| {});
    let good = dir.path().join("good.json");
    summary_to(&good, &iris_args(s(&csv)));
    // The labels of two rows swapped in place: same name, same size, other content.
    iris_copy(dir.path(), "iris.csv", |l| {
        let a = l[1].rsplit_once(',').unwrap().0.to_string();
        let b = l[120].rsplit_once(',').unwrap().0.to_string();
        let (la, lb) = (
            l[1].rsplit_once(',').unwrap().1.to_string(),
            l[120].rsplit_once(',').unwrap().1.to_string(),
        );
        l[1] = format!("{a},{lb}");
        l[120] = format!("{b},{la}");
    });
    let mut args = iris_args(s(&csv));
    args.extend(["-q", "--baseline", s(&good)]);
    assert_error(&run(&args), 2, &["was made on other data", "iris.csv"]);
}

#[test]
fn a_baseline_of_another_split_or_test_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let good = dir.path().join("good.json");
    summary_to(&good, &iris_args(&iris));
    let base = |extra: &[&str]| {
        let mut a = vec!["--data", iris.as_str(), "--epochs", "2", "-q"];
        a.extend(extra);
        a.extend(["--baseline", s(&good)]);
        run(&a)
    };
    assert_error(
        &base(&["--val-frac", "0.3"]),
        2,
        &["another split", "--val-frac is 0.2, this run's is 0.3"],
    );
    assert_error(
        &base(&["--val-frac", "0.2", "--seed", "7"]),
        2,
        &["another split", "--seed", "is 0, this run's is 7"],
    );
    assert_error(
        &base(&["--cv", "3"]),
        2,
        &["another split", "--val-frac is 0.2, this run's is 0"],
    );
    assert_error(
        &base(&["--val-frac", "0.2", "--ignore", "sepal_width"]),
        2,
        &["other features", "it has 4", "this run 3"],
    );
    // Without a split the seed changes the model, not what it is measured on: compared.
    let plain = dir.path().join("plain.json");
    summary_to(&plain, &["--data", &iris, "--epochs", "20", "--seed", "1"]);
    let out = run(&[
        "--data",
        &iris,
        "--epochs",
        "20",
        "--seed",
        "2",
        "-q",
        "--json",
        "--baseline",
        s(&plain),
        "--max-drop",
        "1",
    ]);
    let v: Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!(v["baseline"]["metric"], "train_accuracy");
    // The test file: its content is compared, and a baseline without one is another set.
    let t1 = iris_copy(dir.path(), "t1.csv", |l| l.truncate(40));
    let t2 = iris_copy(dir.path(), "t2.csv", |l| {
        l.truncate(40);
        l[5] = l[6].clone();
    });
    let with_test = dir.path().join("with-test.json");
    let mut a = iris_args(&iris);
    a.extend(["--test", s(&t1)]);
    summary_to(&with_test, &a);
    let mut a = iris_args(&iris);
    a.extend(["-q", "--test", s(&t2), "--baseline", s(&with_test)]);
    assert_error(
        &run(&a),
        2,
        &["another --test set", "t1.csv", "t2.csv", "39 rows"],
    );
    let mut a = iris_args(&iris);
    a.extend(["-q", "--baseline", s(&with_test)]);
    assert_error(&run(&a), 2, &["another --test set", "this run (none)"]);
    // The same test file passes, and compares the test accuracy.
    let mut a = iris_args(&iris);
    a.extend([
        "-q",
        "--json",
        "--test",
        s(&t1),
        "--baseline",
        s(&with_test),
    ]);
    let v: Value = serde_json::from_str(&ok_stdout(&run(&a))).unwrap();
    assert_eq!(v["baseline"]["metric"], "test_accuracy");
    assert_eq!(v["baseline"]["verdict"], "pass");
}

#[test]
fn a_baseline_from_an_older_version_is_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let good = dir.path().join("good.json");
    let mut v = summary_to(&good, &iris_args(&iris));
    v.as_object_mut().unwrap().remove("identity");
    std::fs::write(&good, v.to_string()).unwrap();
    let mut a = iris_args(&iris);
    a.extend(["-q", "--baseline", s(&good)]);
    assert_error(&run(&a), 2, &["good.json", "older mlp-train", "remake it"]);
    // A model file too: it carries the identity now, and is refused without it.
    let model = dir.path().join("m.json");
    let mut a = iris_args(&iris);
    a.extend(["-q", "--save", s(&model)]);
    ok_stdout(&run(&a));
    let mut m: Value = serde_json::from_slice(&std::fs::read(&model).unwrap()).unwrap();
    assert_eq!(m["identity"]["data"]["rows"], 150);
    let mut a = iris_args(&iris);
    a.extend(["-q", "--json", "--baseline", s(&model)]);
    let v: Value = serde_json::from_str(&ok_stdout(&run(&a))).unwrap();
    assert_eq!(v["baseline"]["verdict"], "pass");
    m.as_object_mut().unwrap().remove("identity");
    std::fs::write(&model, m.to_string()).unwrap();
    let mut a = iris_args(&iris);
    a.extend(["-q", "--baseline", s(&model)]);
    assert_error(&run(&a), 2, &["m.json is a model file", "older mlp-train"]);
}

#[test]
fn a_baseline_value_that_is_not_a_number_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let good = dir.path().join("good.json");
    let mut v = summary_to(&good, &iris_args(&iris));
    v["val_accuracy"] = Value::from("0.9");
    std::fs::write(&good, v.to_string()).unwrap();
    let mut a = iris_args(&iris);
    a.extend(["-q", "--baseline", s(&good)]);
    assert_error(
        &run(&a),
        3,
        &[
            "good.json",
            "`val_accuracy` is a string (0.9), not a number",
        ],
    );
    v.as_object_mut().unwrap().remove("val_accuracy");
    std::fs::write(&good, v.to_string()).unwrap();
    assert_error(&run(&a), 3, &["`val_accuracy` is missing"]);
}

#[test]
fn a_baseline_saved_as_utf16_is_named_and_a_utf8_bom_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let good = dir.path().join("good.json");
    let v = summary_to(&good, &iris_args(&iris));
    let mut a = iris_args(&iris);
    a.extend(["-q", "--baseline", s(&good)]);
    // What Windows' "Unicode" saves: UTF-16 little-endian with its mark.
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(v.to_string().encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(&good, utf16).unwrap();
    assert_error(
        &run(&a),
        3,
        &["good.json", "--baseline is UTF-16 text", "save it as UTF-8"],
    );
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(v.to_string().bytes());
    std::fs::write(&good, bom).unwrap();
    let out = run(&a);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn numbers_read_as_the_table_shows_them_and_a_passing_gate_says_so() {
    let iris = data("iris.csv");
    let mut a = iris_args(&iris);
    a.extend(["--epochs", "2", "-q", "--min-accuracy", "0.999"]);
    let out = run(&a);
    let line = assert_error(
        &out,
        8,
        &[
            "validation accuracy is ",
            " %, below --min-accuracy 99.90 %",
        ],
    );
    let pct = line
        .split("accuracy is ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    // Two decimals, as the table's 76.67%.
    assert_eq!(pct.split('.').nth(1).map(str::len), Some(2), "{line}");
    // -q prints only the error; the summary's table is printed without it.
    let loud: Vec<&str> = a.iter().copied().filter(|w| *w != "-q").collect();
    let table = ok_or_summary(&run(&loud));
    assert!(table.contains(&format!("{pct}%")), "{table}");
    assert!(table.contains(&format!(
        "gate --min-accuracy 99.90 %: validation accuracy {pct} %, FAIL"
    )));
    // A passing gate: one line in the text summary, exit 0.
    let mut a = iris_args(&iris);
    a.extend(["--min-accuracy", "0.5", "--max-loss", "5"]);
    let text = ok_stdout(&run(&a));
    let gate_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("gate ")).collect();
    assert_eq!(gate_lines.len(), 2, "{text}");
    assert!(
        gate_lines[0].starts_with("gate --min-accuracy 50.00 %: validation accuracy ")
            && gate_lines[0].ends_with(" %, pass"),
        "{text}"
    );
    assert!(
        gate_lines[1].starts_with("gate --max-loss 5: validation loss L 0."),
        "{text}"
    );
    // A huge threshold is shown compactly, never as 309 digits.
    let reg = data("regression.csv");
    let out = run(&[
        "--data",
        &reg,
        "--task",
        "regress",
        "--epochs",
        "2",
        "-q",
        "--min-r2",
        "1",
        "--max-loss",
        "1e-300",
    ]);
    let line = assert_error(&out, 8, &["below --min-r2 1", "above --max-loss 1e-300"]);
    assert!(line.len() < 300, "{line}");
    let r2 = line
        .split("R² is ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    assert_eq!(r2.split('.').nth(1).map(str::len), Some(4), "{line}");
    let out = run(&[
        "--data", &reg, "--task", "regress", "--epochs", "2", "--min-r2", "-1e308",
    ]);
    let text = ok_stdout(&out);
    assert!(
        text.contains("gate --min-r2 -1e308: training R² "),
        "{text}"
    );
    assert!(text.lines().all(|l| l.len() < 200), "{text}");
}

/// The summary a failed run printed (stdout).
fn ok_or_summary(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn a_failed_gate_and_a_failed_baseline_are_both_named() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let good = dir.path().join("good.json");
    let v = summary_to(&good, &iris_args(&iris));
    let base = v["val_accuracy"].as_f64().unwrap();
    let out = run(&[
        "--data",
        &iris,
        "--val-frac",
        "0.2",
        "--epochs",
        "2",
        "-q",
        "--baseline",
        s(&good),
        "--max-drop",
        "0.02",
        "--min-accuracy",
        "0.99",
        "--json",
    ]);
    let base_shown = format!("{:.2} %", 100.0 * base);
    let line = assert_error(
        &out,
        8,
        &[
            "quality gate failed: validation accuracy is",
            "below --min-accuracy 99.00 %",
            "; and regression against the baseline: validation accuracy is",
            &format!("below the baseline's {base_shown} ("),
            "good.json), more than --max-drop 0.02",
        ],
    );
    assert!(!line.contains("0000000"), "{line}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["gates"][0]["verdict"], "fail");
    assert_eq!(v["baseline"]["verdict"], "fail");
    assert_eq!(v["baseline"]["baseline"].as_f64(), Some(base));
}

/// A saved iris model and its eval --json, in `dir`.
fn model_and_eval(dir: &Path, iris: &str) -> (PathBuf, PathBuf, Value) {
    let model = dir.join("m.json");
    let mut a = iris_args(iris);
    a.extend(["-q", "--save", s(&model)]);
    ok_stdout(&run(&a));
    let ev = dir.join("eval.json");
    let out = run(&["eval", "--model", s(&model), "--data", iris, "--json"]);
    let text = ok_stdout(&out);
    std::fs::write(&ev, &text).unwrap();
    (model, ev, serde_json::from_str(&text).unwrap())
}

#[test]
fn eval_reports_schema_rows_objective_and_both_identities() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let (model, _, v) = model_and_eval(dir.path(), &iris);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["rows"], 150);
    let (l, r, j) = (
        v["loss"].as_f64().unwrap(),
        v["reg"].as_f64().unwrap(),
        v["objective"].as_f64().unwrap(),
    );
    assert!(l > 0.0 && r > 0.0 && (l + r - j).abs() < 1e-12, "{v}");
    assert!(v["accuracy"].as_f64().unwrap() > 0.5);
    assert_eq!(v["data"], iris.as_str());
    assert_eq!(v["identity"]["command"], "eval");
    assert_eq!(v["identity"]["data"]["rows"], 150);
    assert_eq!(v["model"]["file"], s(&model));
    // The model's data and the evaluated data: here the same file, the same fingerprint.
    assert_eq!(
        v["model"]["identity"]["data"]["fingerprint"],
        v["identity"]["data"]["fingerprint"]
    );
    assert_eq!(v["gates"], serde_json::json!([]));
    assert_eq!(v["baseline"], Value::Null);
    // The same model's training L on all 150 rows would be the same number: s is λ/2‖W‖².
    let m: Value = serde_json::from_slice(&std::fs::read(&model).unwrap()).unwrap();
    assert_eq!(m["metrics"]["train_reg"].as_f64(), Some(r));
}

#[test]
fn eval_gates_pass_or_exit_8_after_writing_everything() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let (model, _, v) = model_and_eval(dir.path(), &iris);
    let acc = v["accuracy"].as_f64().unwrap();
    let preds = dir.path().join("p.csv");
    let md = dir.path().join("s.md");
    let out = run(&[
        "eval",
        "--model",
        s(&model),
        "--data",
        &iris,
        "--min-accuracy",
        "0.5",
        "--max-loss",
        "10",
    ]);
    let text = ok_stdout(&out);
    assert!(
        text.contains(&format!(
            "gate --min-accuracy 50.00 %: evaluated accuracy {:.2} %, pass",
            100.0 * acc
        )),
        "{text}"
    );
    let out = run(&[
        "eval",
        "--model",
        s(&model),
        "--data",
        &iris,
        "--min-accuracy",
        "0.999",
        "--out",
        s(&preds),
        "--summary-md",
        s(&md),
        "--json",
    ]);
    assert_error(
        &out,
        8,
        &[&format!(
            "quality gate failed: evaluated accuracy is {:.2} %, below --min-accuracy 99.90 %",
            100.0 * acc
        )],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["gates"][0]["verdict"], "fail");
    assert_eq!(v["gates"][0]["set"], "evaluated");
    assert_eq!(
        std::fs::read_to_string(&preds).unwrap().lines().count(),
        151
    );
    assert!(std::fs::read_to_string(&md).unwrap().contains("❌"));
    // --min-r2 on a classifier is a flag error.
    let out = run(&[
        "eval",
        "--model",
        s(&model),
        "--data",
        &iris,
        "--min-r2",
        "0.5",
    ]);
    assert_error(&out, 2, &["--min-r2", "needs --task regress"]);
    // predict with a gate needs the label column.
    let unlabelled = iris_copy(dir.path(), "x.csv", |l| {
        for line in l.iter_mut() {
            *line = line.rsplit_once(',').unwrap().0.to_string();
        }
    });
    let out = run(&[
        "predict",
        "--model",
        s(&model),
        "--data",
        s(&unlabelled),
        "--min-accuracy",
        "0.5",
    ]);
    assert_error(
        &out,
        2,
        &["--min-accuracy needs the label column species", "x.csv"],
    );
}

#[test]
fn eval_baseline_compares_only_the_same_evaluated_data() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let (model, ev, v) = model_and_eval(dir.path(), &iris);
    let acc = v["accuracy"].as_f64().unwrap();
    // A weaker model (1 epoch) against the first's eval.
    let weak = dir.path().join("weak.json");
    let out = run(&[
        "--data",
        &iris,
        "--val-frac",
        "0.2",
        "--epochs",
        "1",
        "--lr",
        "0.01",
        "-q",
        "--save",
        s(&weak),
    ]);
    ok_stdout(&out);
    let out = run(&[
        "eval",
        "--model",
        s(&weak),
        "--data",
        &iris,
        "--baseline",
        s(&ev),
        "--max-drop",
        "0.05",
        "--json",
    ]);
    let w: Value = serde_json::from_slice(&out.stdout).unwrap();
    let weak_acc = w["accuracy"].as_f64().unwrap();
    assert!(acc - weak_acc > 0.05, "{acc} {weak_acc}");
    assert_eq!(w["baseline"]["metric"], "accuracy");
    assert_eq!(w["baseline"]["verdict"], "fail");
    assert_error(
        &out,
        8,
        &[
            "regression against the baseline: evaluated accuracy is",
            &format!("below the baseline's {:.2} %", 100.0 * acc),
            "eval.json",
        ],
    );
    // The same model passes.
    let out = run(&[
        "eval",
        "--model",
        s(&model),
        "--data",
        &iris,
        "--baseline",
        s(&ev),
    ]);
    assert!(ok_stdout(&out).contains(", pass\n"));
    // Another evaluated file: refused, naming both.
    let part = iris_copy(dir.path(), "part.csv", |l| l.truncate(100));
    let out = run(&[
        "eval",
        "--model",
        s(&model),
        "--data",
        s(&part),
        "--baseline",
        s(&ev),
    ]);
    assert_error(
        &out,
        2,
        &[
            "eval.json was made on other data",
            "iris.csv",
            "part.csv",
            "99 rows",
        ],
    );
    // A training's summary or model file is not an eval's baseline.
    let out = run(&[
        "eval",
        "--model",
        s(&model),
        "--data",
        &iris,
        "--baseline",
        s(&model),
    ]);
    assert_error(&out, 2, &["mlp-train train", "mlp-train eval"]);
}

#[test]
fn summary_md_shows_the_data_the_table_and_each_check() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let good = dir.path().join("good.json");
    let v = summary_to(&good, &iris_args(&iris));
    let fp = v["identity"]["data"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let md = dir.path().join("summary.md");
    let mut a = iris_args(&iris);
    a.extend([
        "-q",
        "--min-accuracy",
        "0.5",
        "--max-loss",
        "1e-9",
        "--baseline",
        s(&good),
        "--summary-md",
        s(&md),
    ]);
    let out = run(&a);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let text = std::fs::read_to_string(&md).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("### mlp-train on ") && lines[0].ends_with("— ❌ failed"),
        "{text}"
    );
    assert!(
        text.contains(&format!("- data: {iris} — 150 rows, fingerprint `{fp}`")),
        "{text}"
    );
    assert!(
        text.contains("- split: validation fraction 0.2, seed 0"),
        "{text}"
    );
    assert!(
        text.contains("| set | rows | L | s | J | accuracy |"),
        "{text}"
    );
    let val_acc = format!("{:.2} %", 100.0 * v["val_accuracy"].as_f64().unwrap());
    assert!(text.contains("| val | 30 | "), "{text}");
    let gate = |name: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("| `{name}`")))
            .copied()
    };
    let acc = gate("--min-accuracy").unwrap();
    assert!(
        acc.contains("≥ 50.00 %") && acc.ends_with("| ✅ |"),
        "{acc}"
    );
    let loss = gate("--max-loss").unwrap();
    assert!(
        loss.contains("≤ 1e-9") && loss.ends_with("| ❌ |"),
        "{loss}"
    );
    let b = lines.iter().find(|l| l.starts_with("| baseline ")).unwrap();
    assert!(b.contains("good.json | validation accuracy |"), "{b}");
    assert!(
        b.contains(&format!("below {val_acc}")) && b.ends_with("| ✅ |"),
        "{b}"
    );
    // `-` is standard output (the text summary then goes to stderr); all pass: ✅.
    let mut a = iris_args(&iris);
    a.extend(["--min-accuracy", "0.5", "--summary-md", "-"]);
    let out = run(&a);
    let md = ok_stdout(&out);
    assert!(
        md.starts_with("### ") && md.lines().next().unwrap().ends_with("— ✅ passed"),
        "{md}"
    );
    assert!(
        stderr(&out).contains("gate --min-accuracy 50.00 %"),
        "{}",
        stderr(&out)
    );
    // A --cv run: one row per fold and the mean.
    let md = dir.path().join("cv.md");
    ok_stdout(&run(&[
        "--data",
        &iris,
        "--cv",
        "3",
        "--epochs",
        "5",
        "-q",
        "--summary-md",
        s(&md),
    ]));
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains("— no gates"), "{text}");
    assert!(
        text.contains("| 3/3 | 50 | ") && text.contains("| mean | |"),
        "{text}"
    );
    assert!(
        text.contains("- split: 3-fold cross-validation, seed 0"),
        "{text}"
    );
}

#[test]
fn summary_md_escapes_a_hostile_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let csv = iris_copy(dir.path(), "a|b*<img src=x>`$x$.csv", |_| {});
    let md = dir.path().join("s.md");
    ok_stdout(&run(&[
        "--data",
        s(&csv),
        "--epochs",
        "2",
        "-q",
        "--summary-md",
        s(&md),
    ]));
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains(r"a\|b\*\<img src=x\>\`\$x\$.csv"), "{text}");
    // Every `<` escaped: literal text, never HTML.
    assert!(
        text.match_indices('<')
            .all(|(i, _)| &text[i - 1..i] == "\\"),
        "{text}"
    );
}

/// The README's gate and baseline transcripts (the ```text blocks of "In scripts and CI" that
/// use --baseline or --min-accuracy), run as written in bash from a folder with data/: every
/// line shown after a `$ command` is in its output, in order (`...` stands for lines left
/// out), and `$ echo $?` shows the exit code.
#[test]
fn the_readme_gate_transcripts_are_what_the_binary_prints() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("## In scripts and CI").unwrap();
    let end = start + readme[start..].find("**Cross-validation.**").unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in readme[start..end].lines() {
        match (&mut current, line) {
            (None, "```text") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(b), l) => b.push(l),
            _ => {}
        }
    }
    let blocks: Vec<Vec<&str>> = blocks
        .into_iter()
        .filter(|b| {
            b.iter()
                .any(|l| l.contains("--baseline") || l.contains("--min-accuracy"))
        })
        .collect();
    assert!(blocks.len() >= 3, "{blocks:?}");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_mlp-train")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for block in blocks {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(
            concat!(env!("CARGO_MANIFEST_DIR"), "/data"),
            dir.path().join("data"),
        )
        .unwrap();
        // A green run's summary for the blocks that compare with one.
        let green = run(&[
            "--data",
            &data("iris.csv"),
            "--val-frac",
            "0.2",
            "--json",
            "-q",
        ]);
        std::fs::write(dir.path().join("last-green.json"), ok_stdout(&green)).unwrap();
        let mut last_code: Option<i32> = None;
        let mut lines = block.iter().peekable();
        while let Some(line) = lines.next() {
            let cmd = line
                .strip_prefix("$ ")
                .unwrap_or_else(|| panic!("{line:?} is not a command"));
            let mut expected = Vec::new();
            while let Some(l) = lines.next_if(|l| !l.starts_with("$ ")) {
                expected.push(*l);
            }
            if cmd == "echo $?" {
                assert_eq!(expected, [last_code.unwrap().to_string()], "{block:?}");
                continue;
            }
            let out = std::process::Command::new("bash")
                .args(["-c", &format!("{cmd} 2>&1")])
                .current_dir(dir.path())
                .env("PATH", &path)
                .output()
                .unwrap();
            last_code = out.status.code();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let mut rest = text.as_str();
            for want in expected.iter().filter(|l| **l != "...") {
                let at = rest.find(want).unwrap_or_else(|| {
                    panic!("`{cmd}` printed no line {want:?} (in order):\n{text}")
                });
                rest = &rest[at + want.len()..];
            }
        }
    }
}
