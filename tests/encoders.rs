//! Categories and blanks through the real binary (issue 21): `--categorical` one-hot columns,
//! `--impute` fitted on the training rows only, `--missing-indicator`, the model keeping all
//! of it so that predict, eval and explain need no flag, unseen categories, format 2 and 1.

mod common;
use common::*;

use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn model(path: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// 40 rows: `a` a number with blanks (empty and NA), `b` a number, label `y` by the sign of b.
fn numbers_with_blanks() -> String {
    let mut csv = String::from("a,b,y\n");
    for i in 0..40 {
        let a = match i % 10 {
            3 => String::new(),
            7 => "NA".to_string(),
            _ => format!("{}", i % 9),
        };
        let b = i as f64 / 4.0 - 5.0;
        let y = if b > 0.0 { "pos" } else { "neg" };
        csv.push_str(&format!("{a},{b},{y}\n"));
    }
    csv
}

#[test]
fn a_blank_is_refused_without_impute_naming_its_place_and_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "b.csv", &numbers_with_blanks());
    let out = run(&["--data", &f, "--epochs", "1", "-q"]);
    assert_error(
        &out,
        3,
        &[
            "b.csv:5:a: empty field",
            "missing value",
            "--impute mean|median|zero",
        ],
    );
    // NA is a blank too (line 9 holds row 7).
    let na = numbers_with_blanks().replacen("\n,", "\n1,", 1);
    let f = write(dir.path(), "na.csv", &na);
    let out = run(&["--data", &f, "--epochs", "1", "-q"]);
    assert_error(&out, 3, &["na.csv:9:a: `NA`", "--impute"]);
}

#[test]
fn missing_indicator_needs_impute() {
    let out = run(&["--data", "x.csv", "--missing-indicator"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--impute"), "{}", stderr(&out));
}

#[test]
fn impute_stores_its_fills_and_predict_applies_them_with_no_flags() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "b.csv", &numbers_with_blanks());
    let m = dir.path().join("m.json").display().to_string();
    let out = run(&[
        "--data",
        &f,
        "--impute",
        "median",
        "--missing-indicator",
        "--epochs",
        "20",
        "--seed",
        "3",
        "--save",
        &m,
        "-q",
    ]);
    ok_stdout(&out);
    let mf = model(&m);
    assert_eq!(mf["format_version"], 2);
    let enc = &mf["prep"]["encoding"];
    assert_eq!(enc["impute"], "median");
    // The values of a: i % 9 for the 32 rows whose i % 10 is not 3 or 7.
    let mut a: Vec<f64> = (0..40)
        .filter(|i| i % 10 != 3 && i % 10 != 7)
        .map(|i| (i % 9) as f64)
        .collect();
    a.sort_by(f64::total_cmp);
    let median = (a[15] + a[16]) / 2.0;
    assert_eq!(enc["columns"][0]["name"], "a");
    assert_eq!(enc["columns"][0]["fill"].as_f64(), Some(median));
    assert_eq!(enc["columns"][0]["indicator"], true);
    assert_eq!(enc["columns"][1]["indicator"], false);
    assert_eq!(
        mf["prep"]["features"],
        serde_json::json!(["a", "b", "a_missing"])
    );
    // The indicator is 0/1, not standardized.
    assert_eq!(mf["prep"]["standardize"]["mean"][2], 0.0);
    assert_eq!(mf["prep"]["standardize"]["std"][2], 1.0);

    // predict on the training file: no flag beyond --model and --data.
    let out = run(&["predict", "--model", &m, "--data", &f, "--proba"]);
    let with_blanks = ok_stdout(&out);
    assert_eq!(with_blanks.lines().count(), 41);
    // A blank row is the row with the median written in, its indicator set: without the
    // indicator (a row with the value itself) the probabilities differ, so compare a blank
    // against a blank in another spelling (empty, NA, NaN, nan, N/A, NULL, null).
    let rows = |a: &str| format!("a,b,y\n{a},1.5,pos\n");
    let mut seen = Vec::new();
    for blank in ["", "NA", "N/A", "NaN", "nan", "NULL", "null", "  "] {
        let g = write(dir.path(), "one.csv", &rows(blank));
        let out = run(&["predict", "--model", &m, "--data", &g, "--proba"]);
        seen.push(ok_stdout(&out));
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
    let g = write(dir.path(), "value.csv", &rows(&median.to_string()));
    let valued = ok_stdout(&run(&["predict", "--model", &m, "--data", &g, "--proba"]));
    assert_ne!(valued, seen[0], "the indicator changes the row");
}

#[test]
fn impute_fits_on_the_training_rows_only_after_the_validation_split() {
    // Column a is 0 but in one row, where it is 1000; 10 rows have a blank. Fitted on all
    // 90 values the mean would be 1000/90; fitted on the training rows it is 0 (the row went
    // to validation) or 1000/k for the k < 90 training values.
    let mut csv = String::from("a,b,y\n");
    for i in 0..100 {
        let a = match i {
            42 => "1000".to_string(),
            i if i % 10 == 5 => String::new(),
            _ => "0".to_string(),
        };
        csv.push_str(&format!("{a},{},{}\n", i % 13, ["u", "v"][i % 2]));
    }
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "v.csv", &csv);
    let fill = |val_frac: &str| -> f64 {
        let m = dir.path().join(format!("m{val_frac}.json"));
        let m = m.display().to_string();
        let out = run(&[
            "--data",
            &f,
            "--impute",
            "mean",
            "--val-frac",
            val_frac,
            "--epochs",
            "1",
            "--save",
            &m,
            "-q",
        ]);
        ok_stdout(&out);
        model(&m)["prep"]["encoding"]["columns"][0]["fill"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(fill("0"), 1000.0 / 90.0);
    let held_out = fill("0.5");
    assert_ne!(held_out, 1000.0 / 90.0);
    assert!(
        held_out == 0.0 || (1000.0 / held_out).round() < 90.0,
        "fill {held_out}"
    );
}

#[test]
fn a_version_1_model_file_still_loads_and_predicts_the_same() {
    let m = format!("{}/tests/fixtures/iris-v1.json", env!("CARGO_MANIFEST_DIR"));
    assert_eq!(model(&m)["format_version"], 1);
    let want = std::fs::read_to_string(format!(
        "{}/tests/fixtures/iris-v1.predictions.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let out = run(&[
        "predict",
        "--model",
        &m,
        "--data",
        &data("iris.csv"),
        "--proba",
    ]);
    assert_eq!(ok_stdout(&out), want);
    let out = run(&["eval", "--model", &m, "--data", &data("iris.csv")]);
    assert!(ok_stdout(&out).contains("accuracy 64.00% (96/150)"));
}

#[test]
fn a_plain_model_is_written_as_format_2_without_an_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.json").display().to_string();
    ok_stdout(&run(&[
        "--data",
        &data("xor.csv"),
        "--epochs",
        "1",
        "--save",
        &m,
        "-q",
    ]));
    let mf = model(&m);
    assert_eq!(mf["format_version"], 2);
    assert!(mf["prep"].get("encoding").is_none(), "{}", mf["prep"]);
}

#[test]
fn a_newer_format_is_refused_and_an_encoding_in_a_version_1_file_too() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!("{}/tests/fixtures/iris-v1.json", env!("CARGO_MANIFEST_DIR"));
    let mut v = model(&src);
    v["prep"]["encoding"] = serde_json::json!({"columns": [{"name": "sepal_length"}]});
    let m = write(dir.path(), "bad.json", &v.to_string());
    let out = run(&["predict", "--model", &m, "--data", &data("iris.csv")]);
    assert_error(&out, 4, &["bad.json", "format_version 1 does not have"]);
    v["format_version"] = 2.into();
    let m = write(dir.path(), "bad2.json", &v.to_string());
    let out = run(&["predict", "--model", &m, "--data", &data("iris.csv")]);
    assert_error(
        &out,
        4,
        &["bad2.json", "not the inputs of its prep.encoding"],
    );
}
