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

/// Trains on the shipped worked example as the README shows it; returns the model's path.
fn churn_model(dir: &Path) -> String {
    let m = dir.join("churn.json").display().to_string();
    let out = run(&[
        "--data",
        &data("churn.csv"),
        "--ignore",
        "id,weight",
        "--categorical",
        "plan,region",
        "--impute",
        "median",
        "--epochs",
        "60",
        "--seed",
        "1",
        "--save",
        &m,
        "-q",
    ]);
    ok_stdout(&out);
    m
}

#[test]
fn the_worked_example_one_hot_encodes_and_predict_needs_only_model_and_data() {
    let dir = tempfile::tempdir().unwrap();
    let m = churn_model(dir.path());
    let mf = model(&m);
    let inputs = [
        "age",
        "monthly_spend",
        "tenure_months",
        "plan=basic",
        "plan=plus",
        "plan=pro",
        "region=east",
        "region=north",
        "region=south",
        "region=west",
    ];
    assert_eq!(mf["prep"]["features"], serde_json::json!(inputs));
    let enc = &mf["prep"]["encoding"];
    assert_eq!(
        enc["columns"][3]["categories"],
        serde_json::json!(["basic", "plus", "pro"])
    );
    // The most frequent plan fills its blanks (basic is drawn 5:3:2).
    assert_eq!(enc["columns"][3]["fill"], "basic");
    // One-hot inputs are not standardized; number columns are.
    let st = &mf["prep"]["standardize"];
    for j in 3..10 {
        assert_eq!(
            (st["mean"][j].as_f64(), st["std"][j].as_f64()),
            (Some(0.0), Some(1.0))
        );
    }
    assert!(st["std"][0].as_f64().unwrap() > 5.0, "age is standardized");

    let out = run(&["predict", "--model", &m, "--data", &data("churn.csv")]);
    let csv = ok_stdout(&out);
    assert_eq!(csv.lines().count(), 301);
    assert_eq!(csv.lines().next(), Some("churn"));
    let out = run(&[
        "eval",
        "--model",
        &m,
        "--data",
        &data("churn.csv"),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert!(v["accuracy"].as_f64().unwrap() > 0.7, "{}", v["accuracy"]);
    assert_eq!(v["unseen_categories"]["rows"], 0);
}

#[test]
fn an_unseen_category_is_all_zeros_and_counted_or_an_error_with_strict() {
    let dir = tempfile::tempdir().unwrap();
    let m = churn_model(dir.path());
    let text = std::fs::read_to_string(data("churn.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().take(6).map(String::from).collect();
    // Rows 1 and 3 (lines 2 and 4) get a new plan, row 4 (line 5) a new region too.
    lines[1] = lines[1].replacen(",pro,", ",enterprise,", 1);
    lines[3] = lines[3].replacen(",plus,", ",enterprise,", 1);
    lines[4] = lines[4].replacen(",north,", ",mars,", 1);
    let f = write(dir.path(), "u.csv", &(lines.join("\n") + "\n"));
    let out = run(&["predict", "--model", &m, "--data", &f]);
    let csv = ok_stdout(&out);
    assert_eq!(csv.lines().count(), 6);
    let err = stderr(&out);
    assert!(
        err.contains(
            "mlp-train: note: 3 rows had a category not seen in training \
             (plan: enterprise ×2; region: mars ×1)"
        ),
        "{err}"
    );
    let out = run(&["eval", "--model", &m, "--data", &f, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!(v["unseen_categories"]["rows"], 3);
    assert_eq!(v["unseen_categories"]["columns"]["plan"]["enterprise"], 2);
    let out = run(&["eval", "--model", &m, "--data", &f]);
    assert!(ok_stdout(&out).contains("unseen categories: 3 rows"));

    let out = run(&["predict", "--model", &m, "--data", &f, "--strict"]);
    assert_error(
        &out,
        3,
        &[
            "u.csv:2:plan: category `enterprise` was never seen in training",
            "known: basic, plus, pro",
        ],
    );
}

#[test]
fn a_blank_category_without_impute_is_refused_with_its_line() {
    let out = run(&[
        "--data",
        &data("churn.csv"),
        "--ignore",
        "id,weight,age,monthly_spend",
        "--categorical",
        "plan,region",
        "--epochs",
        "1",
    ]);
    // c0005 (line 6) has no plan.
    assert_error(&out, 3, &["churn.csv:6:plan: empty field", "--impute"]);
}

#[test]
fn explain_names_the_encoded_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let m = churn_model(dir.path());
    // Row 4 (c0005) has no plan: imputed as basic.
    let out = run(&[
        "explain",
        "--model",
        &m,
        "--data",
        &data("churn.csv"),
        "--row",
        "4",
    ]);
    let text = ok_stdout(&out);
    assert!(
        text.contains(
            "raw x's entries: age, monthly_spend, tenure_months, plan=basic, plan=plus, \
             plan=pro, region=east, region=north, region=south, region=west"
        ),
        "{text}"
    );
    assert!(
        text.contains("raw x  (10) = [73, 92.91, 64, 1, 0, 0, 0, 1, 0, 0]"),
        "{text}"
    );
    // Standardized as the model was trained.
    assert!(
        text.contains("(raw − mean) / std, the training set's"),
        "{text}"
    );
}

/// The columns of data/churn.csv, each row's fields as text, header skipped.
fn churn_rows() -> Vec<Vec<String>> {
    std::fs::read_to_string(data("churn.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn explain_without_a_model_encodes_categories_and_fills_blanks_as_training_would() {
    // A fresh model, its encoding fitted on the file's rows: row 4 (c0005) has no plan, row 11
    // (c0012) no age and an NA monthly_spend.
    let churn = data("churn.csv");
    let encoded = |more: &[&str]| {
        let mut args = vec!["explain", "--data", &churn, "--ignore", "id,weight"];
        args.extend(["--categorical", "plan,region", "--impute", "median"]);
        args.extend(more);
        run(&args)
    };
    let explain = |row: &str| {
        let out = encoded(&["--missing-indicator", "--row", row, "--json"]);
        serde_json::from_str::<serde_json::Value>(&ok_stdout(&out)).unwrap()["source"].clone()
    };
    let rows = churn_rows();
    let mut plans: Vec<String> = rows
        .iter()
        .map(|r| r[1].clone())
        .filter(|p| !p.is_empty())
        .collect();
    plans.sort();
    plans.dedup();
    let most_frequent = plans
        .iter()
        .max_by_key(|p| rows.iter().filter(|r| &r[1] == *p).count())
        .unwrap()
        .clone();
    let mut ages: Vec<f64> = rows.iter().filter_map(|r| r[3].parse().ok()).collect();
    ages.sort_by(f64::total_cmp);
    let median = if ages.len() % 2 == 1 {
        ages[ages.len() / 2]
    } else {
        (ages[ages.len() / 2 - 1] + ages[ages.len() / 2]) / 2.0
    };

    let four = explain("4");
    let inputs: Vec<String> = four["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut expected = vec!["age", "monthly_spend", "tenure_months"]
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
    expected.extend(plans.iter().map(|p| format!("plan={p}")));
    let mut regions: Vec<String> = rows.iter().map(|r| r[2].clone()).collect();
    regions.sort();
    regions.dedup();
    expected.extend(regions.iter().map(|r| format!("region={r}")));
    expected.extend(["age_missing", "monthly_spend_missing", "plan_missing"].map(str::to_string));
    assert_eq!(inputs, expected);
    let x = |s: &serde_json::Value, name: &str| {
        let at = inputs.iter().position(|i| i == name).unwrap();
        s["raw_x"][at].as_f64().unwrap()
    };
    for p in &plans {
        let want = if *p == most_frequent { 1.0 } else { 0.0 };
        assert_eq!(x(&four, &format!("plan={p}")), want, "plan={p}");
    }
    assert_eq!(x(&four, "plan_missing"), 1.0);
    assert_eq!(x(&four, "age"), rows[4][3].parse::<f64>().unwrap());

    let eleven = explain("11");
    assert_eq!(x(&eleven, "age"), median);
    assert_eq!(x(&eleven, "age_missing"), 1.0);
    assert_eq!(x(&eleven, "monthly_spend_missing"), 1.0);
    assert_eq!(x(&eleven, "plan_missing"), 0.0);
    assert_eq!(x(&eleven, "plan=pro"), 1.0);

    // The fresh model's mean and std are the file's, and the text says so.
    let text = ok_stdout(&encoded(&[]));
    assert!(
        text.contains("(raw − mean) / std, over this file's rows"),
        "{text}"
    );
    assert!(!text.contains("the training set's"), "{text}");
}

#[test]
fn explain_without_a_model_refuses_blanks_without_impute_and_encoders_beside_a_model() {
    // As training refuses them (a_blank_category_without_impute_is_refused_with_its_line),
    // and a blank number too.
    let refused = |ignore: &str| {
        run(&[
            "explain",
            "--data",
            &data("churn.csv"),
            "--ignore",
            ignore,
            "--categorical",
            "plan,region",
        ])
    };
    let out = refused("id,weight,age,monthly_spend");
    assert_error(&out, 3, &["churn.csv:6:plan: empty field", "--impute"]);
    let out = refused("id,weight");
    assert_error(&out, 3, &["churn.csv:13:age: empty field", "--impute"]);
    // The hint for a text column names a flag explain has.
    let out = run(&["explain", "--data", &data("churn.csv")]);
    assert_error(&out, 3, &["churn.csv:2:id", "--categorical id"]);
    // A model keeps its own encoding.
    for flag in [&["--categorical", "plan"][..], &["--impute", "zero"][..]] {
        let mut args = vec!["explain", "--data", "x.csv", "--model", "m.json"];
        args.extend_from_slice(flag);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{flag:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("cannot be used with"),
            "{}",
            stderr(&out)
        );
    }
    let out = run(&["explain", "--data", "x.csv", "--missing-indicator"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn categories_are_fitted_on_the_training_rows_only() {
    // One row of 60 is green: in the training rows it is a category; in the validation
    // rows it is unseen there (noted), never both.
    let mut csv = String::from("colour,b,y\n");
    for i in 0..60 {
        let colour = if i == 17 {
            "green"
        } else {
            ["red", "blue"][i % 2]
        };
        csv.push_str(&format!("{colour},{},{}\n", i % 7, ["u", "v"][i % 3 % 2]));
    }
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "c.csv", &csv);
    let mut saw = [false, false];
    for seed in ["1", "2", "3", "4", "5", "6"] {
        let m = dir.path().join("m.json").display().to_string();
        let out = run(&[
            "--data",
            &f,
            "--categorical",
            "colour",
            "--val-frac",
            "0.5",
            "--seed",
            seed,
            "--epochs",
            "1",
            "--save",
            &m,
        ]);
        ok_stdout(&out);
        let cats = model(&m)["prep"]["encoding"]["columns"][1]["categories"].clone();
        let in_training = cats == serde_json::json!(["blue", "green", "red"]);
        if !in_training {
            assert_eq!(cats, serde_json::json!(["blue", "red"]));
        }
        let noted = stderr(&out).contains(
            "validation rows: 1 row had a category not seen in training (colour: green ×1)",
        );
        assert_ne!(in_training, noted, "seed {seed}: {}", stderr(&out));
        saw[usize::from(in_training)] = true;
    }
    assert_eq!(saw, [true, true], "both cases met over the seeds");
}

#[test]
fn predict_on_the_worked_example_needs_only_model_and_data() {
    let dir = tempfile::tempdir().unwrap();
    let m = churn_model(dir.path());
    let churn = data("churn.csv");
    let out = run(&["predict", "--model", &m, "--data", &churn]);
    let plain = ok_stdout(&out);
    let named = ok_stdout(&run(&[
        "predict",
        "--model",
        &m,
        "--data",
        &churn,
        "--ignore",
        "id,weight",
    ]));
    assert_eq!(plain, named);
    // --keep copies a categorical column through as well as the id, in its order.
    let out = run(&[
        "predict", "--model", &m, "--data", &churn, "--keep", "id,plan",
    ]);
    let kept = ok_stdout(&out);
    let lines: Vec<&str> = kept.lines().take(6).collect();
    assert_eq!(lines[0], "id,plan,churn");
    assert!(lines[1].starts_with("c0001,pro,"), "{kept}");
    assert!(
        lines[5].starts_with("c0005,,"),
        "a blank stays blank: {kept}"
    );
    let bare: Vec<&str> = plain.lines().collect();
    for (k, p) in kept.lines().zip(&bare).skip(1) {
        assert!(k.ends_with(&format!(",{p}")), "{k} vs {p}");
    }
}

#[test]
fn a_text_column_without_the_flag_is_refused_with_the_hint() {
    let out = run(&[
        "--data",
        &data("churn.csv"),
        "--ignore",
        "id,weight",
        "--impute",
        "median",
        "--epochs",
        "1",
    ]);
    assert_error(
        &out,
        3,
        &[
            "churn.csv:2:plan: `pro` is not a number",
            "--categorical plan",
        ],
    );
    // Named by both --categorical and --ignore: which was meant is not guessed.
    let out = run(&[
        "--data",
        &data("churn.csv"),
        "--ignore",
        "id,weight,plan",
        "--categorical",
        "plan,region",
        "--impute",
        "median",
    ]);
    assert_error(&out, 2, &["--categorical", "--ignore skips too", "plan"]);
}

#[test]
fn categorical_columns_alone_make_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "c.csv",
        "colour,y\nred,a\nblue,b\nred,a\nblue,b\nred,a\nblue,b\n",
    );
    let m = dir.path().join("m.json").display().to_string();
    ok_stdout(&run(&[
        "--data",
        &f,
        "--categorical",
        "colour",
        "--epochs",
        "100",
        "--save",
        &m,
        "-q",
    ]));
    assert_eq!(
        model(&m)["prep"]["features"],
        serde_json::json!(["colour=blue", "colour=red"])
    );
    let out = run(&["predict", "--model", &m, "--data", &f]);
    assert_eq!(ok_stdout(&out), "y\na\nb\na\nb\na\nb\n");
}
