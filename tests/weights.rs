//! Sample and class weights through the real binary: integer weights train the model that
//! duplicated rows train, the weighting is recorded, bad weights are one error line.

mod common;
use common::{assert_error, data, ok_stdout, run, train_json};
use serde_json::Value;
use std::path::Path;

/// Row i of a shipped file weighs `weight(i)`: the file with a `w` column in front, and the
/// same rows each written `weight(i)` times without it.
fn weighted_and_duplicated(
    dir: &Path,
    name: &str,
    weight: impl Fn(usize) -> usize,
) -> (String, String) {
    let text = std::fs::read_to_string(data(name)).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    // The weights first: the label stays the last column.
    let (mut weighted, mut duplicated) = (format!("w,{header}\n"), format!("{header}\n"));
    for (i, row) in lines.enumerate() {
        weighted.push_str(&format!("{},{row}\n", weight(i)));
        for _ in 0..weight(i) {
            duplicated.push_str(&format!("{row}\n"));
        }
    }
    let (w, d) = (dir.join("weighted.csv"), dir.join("duplicated.csv"));
    std::fs::write(&w, weighted).unwrap();
    std::fs::write(&d, duplicated).unwrap();
    (path(&w), path(&d))
}

fn path(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

fn model(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn flat(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()))
        .collect()
}

/// The largest |a − b| over both weight matrices of two model files.
fn max_weight_difference(a: &Value, b: &Value) -> f64 {
    let mut worst = 0.0f64;
    for m in ["w1", "w2"] {
        let (x, y) = (flat(&a[m]), flat(&b[m]));
        assert_eq!(x.len(), y.len(), "{m}: shapes");
        for (p, q) in x.iter().zip(&y) {
            worst = worst.max((p - q).abs());
        }
    }
    worst
}

/// Full batch (B ≥ n, so neither shuffled nor split), f64.
const FULL_BATCH: [&str; 10] = [
    "--batch-size",
    "100000",
    "--epochs",
    "40",
    "--precision",
    "f64",
    "--hidden",
    "6",
    "--seed",
    "3",
];

/// Trains on `data` with `extra` flags and FULL_BATCH, saving to `save`; returns --json.
fn train_full_batch(data: &str, save: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["--data", data, "--save", save.to_str().unwrap()];
    args.extend(FULL_BATCH);
    args.extend(extra);
    train_json(&args)
}

#[test]
fn integer_weights_train_the_same_model_as_duplicated_rows() {
    // Weights 1, 2, 3, 1, 2, 3, …: full-batch gradient descent on Σ wᵢℓᵢ / Σ wᵢ is on
    // paper the one on the rows repeated wᵢ times; in floating point only the order of the
    // sums differs (a row's wᵢ·(p − y)/Σw against wᵢ copies of (p − y)/n'), a few ulps per
    // step, so the weights agree to 1e-12, not bit for bit. The standardization (fitted on
    // the training rows) is weighted too, so this holds with the default flags.
    let dir = tempfile::tempdir().unwrap();
    let (weighted, duplicated) = weighted_and_duplicated(dir.path(), "iris.csv", |i| 1 + i % 3);
    for extra in [&["--no-standardize"][..], &[]] {
        let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
        let mut with_column = vec!["--weight-column", "w"];
        with_column.extend(extra);
        let ja = train_full_batch(&weighted, &a, &with_column);
        let jb = train_full_batch(&duplicated, &b, extra);
        let (ma, mb) = (model(&a), model(&b));
        let diff = max_weight_difference(&ma, &mb);
        assert!(diff < 1e-12, "{extra:?}: weights differ by {diff:e}");
        // The weights' column is no feature: the same four inputs.
        assert_eq!(ma["prep"]["features"], mb["prep"]["features"]);
        assert_eq!(ma["architecture"], mb["architecture"]);
        // The weighted loss and accuracy are the duplicated file's.
        for key in ["train_loss", "train_accuracy"] {
            let (x, y) = (ja[key].as_f64().unwrap(), jb[key].as_f64().unwrap());
            assert!((x - y).abs() < 1e-12, "{key}: {x} vs {y}");
        }
        // The two models differ from an unweighted one: the weights did something.
        let c = dir.path().join("c.json");
        train_full_batch(&weighted, &c, &[&["--ignore", "w"][..], extra].concat());
        assert!(max_weight_difference(&ma, &model(&c)) > 1e-6);
    }
}

#[test]
fn integer_weights_in_regression_are_duplicated_rows_too() {
    // Standardized targets, weighted R²/RMSE: all as the duplicated file's.
    let dir = tempfile::tempdir().unwrap();
    let (weighted, duplicated) =
        weighted_and_duplicated(dir.path(), "regression.csv", |i| 1 + (i * 7) % 4);
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let regress = ["--task", "regress", "--lr", "0.01"];
    let ja = train_full_batch(
        &weighted,
        &a,
        &[&regress[..], &["--weight-column", "w"]].concat(),
    );
    let jb = train_full_batch(&duplicated, &b, &regress);
    let diff = max_weight_difference(&model(&a), &model(&b));
    assert!(diff < 1e-12, "weights differ by {diff:e}");
    for key in ["train_loss", "train_rmse", "train_mae", "train_r2"] {
        let (x, y) = (ja[key].as_f64().unwrap(), jb[key].as_f64().unwrap());
        assert!((x - y).abs() < 1e-9 * y.abs().max(1.0), "{key}: {x} vs {y}");
    }
}

#[test]
fn the_weighting_is_in_json_and_in_the_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let (weighted, _) = weighted_and_duplicated(dir.path(), "iris.csv", |i| 1 + i % 2);
    let m = dir.path().join("m.json");
    let j = train_json(&[
        "--data",
        &weighted,
        "--weight-column",
        "w",
        "--class-weight",
        "setosa=2,virginica=0.5",
        "--epochs",
        "2",
        "--save",
        m.to_str().unwrap(),
    ]);
    let want = serde_json::json!({
        "weight_column": "w",
        "class_weight": "setosa=2,virginica=0.5",
        "class_weights": [2.0, 1.0, 0.5],
    });
    assert_eq!(j["weighting"], want);
    assert_eq!(j["hyperparameters"]["weight_column"], "w");
    assert_eq!(
        j["hyperparameters"]["class_weight"],
        "setosa=2,virginica=0.5"
    );
    let mf = model(&m);
    assert_eq!(mf["weighting"], want);
    assert_eq!(
        mf["architecture"]["inputs"], 5,
        "4 features and the bias, no `w`"
    );
    // The model predicts from the features alone: a file without `w` is fine.
    let out = run(&[
        "predict",
        "--model",
        m.to_str().unwrap(),
        "--data",
        &data("iris.csv"),
    ]);
    ok_stdout(&out);
    // Unweighted: no trace of weights in either.
    let u = dir.path().join("u.json");
    let j = train_json(&[
        "--data",
        &data("iris.csv"),
        "--epochs",
        "1",
        "--save",
        u.to_str().unwrap(),
    ]);
    assert!(j.get("weighting").is_none() && j["hyperparameters"].get("weight_column").is_none());
    assert!(model(&u).get("weighting").is_none());
}

#[test]
fn balanced_class_weights_are_n_over_q_n_k_on_the_training_rows() {
    // 50 setosa, 20 versicolor, 10 virginica: n = 80, q = 3.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(data("iris.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut csv = format!("{}\n", lines[0]);
    for l in lines[1..51]
        .iter()
        .chain(&lines[51..71])
        .chain(&lines[101..111])
    {
        csv.push_str(l);
        csv.push('\n');
    }
    let f = dir.path().join("imbalanced.csv");
    std::fs::write(&f, csv).unwrap();
    let j = train_json(&[
        "--data",
        &path(&f),
        "--class-weight",
        "balanced",
        "--epochs",
        "3",
    ]);
    let got: Vec<f64> = j["weighting"]["class_weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let want = [80.0 / 150.0, 80.0 / 60.0, 80.0 / 30.0];
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-15, "{got:?} vs {want:?}");
    }
    // A class list from a file: the same as on the command line.
    let list = dir.path().join("w.txt");
    std::fs::write(&list, "# weights\nsetosa=0.25\nvirginica=4\n").unwrap();
    let at = format!("@{}", path(&list));
    let j = train_json(&["--data", &path(&f), "--class-weight", &at, "--epochs", "1"]);
    assert_eq!(
        j["weighting"]["class_weights"],
        serde_json::json!([0.25, 1.0, 4.0])
    );
}

#[test]
fn bad_weights_are_one_error_naming_the_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("w.csv");
    for (value, needle) in [
        (
            "0",
            "a weight (--weight-column) must be a finite number > 0, got 0",
        ),
        (
            "-2",
            "a weight (--weight-column) must be a finite number > 0, got -2",
        ),
        // The parser refuses infinities in every numeric column, at the same place.
        ("inf", "is not a finite number"),
    ] {
        let csv = format!("a,b,w,y\n1,2,1,x\n3,4,{value},y\n5,6,1,x\n");
        std::fs::write(&f, csv).unwrap();
        let out = run(&["--data", &path(&f), "--weight-column", "w", "--epochs", "1"]);
        let shown = format!("{}:3:w:", path(&f));
        assert_error(&out, 3, &[&shown, needle]);
    }
    // A blank weight is the parser's missing value, at its line and column too.
    std::fs::write(&f, "a,b,w,y\n1,2,1,x\n3,4,,y\n").unwrap();
    let out = run(&["--data", &path(&f), "--weight-column", "w", "--epochs", "1"]);
    assert_error(&out, 3, &[&format!("{}:3:", path(&f))]);
    // No such column.
    std::fs::write(&f, "a,b,w,y\n1,2,1,x\n3,4,1,y\n").unwrap();
    let out = run(&[
        "--data",
        &path(&f),
        "--weight-column",
        "weight",
        "--epochs",
        "1",
    ]);
    assert_error(
        &out,
        3,
        &[
            "--weight-column",
            "no feature column named `weight`",
            "a, b, w",
        ],
    );
    // Bad --class-weight values are flag errors (exit 2), before any training.
    let iris = data("iris.csv");
    for (value, needle) in [
        ("cat=2", "names a class the data does not have (classes: setosa, versicolor, virginica), got cat"),
        ("setosa=0", "a class weight must be a finite number > 0"),
        ("setosa", "expected `balanced`"),
        ("@/nonexistent/w.txt", "cannot read the file"),
    ] {
        let out = run(&["--data", &iris, "--class-weight", value, "--epochs", "1"]);
        assert_error(&out, 2, &["--class-weight", needle]);
    }
    let out = run(&[
        "--data",
        &data("regression.csv"),
        "--task",
        "regress",
        "--class-weight",
        "balanced",
    ]);
    assert_error(&out, 2, &["--class-weight", "needs --task classify"]);
}

#[test]
fn eval_weighs_rows_as_duplicated_rows() {
    // eval --weight-column: loss and accuracy are the duplicated file's.
    let dir = tempfile::tempdir().unwrap();
    let (weighted, duplicated) = weighted_and_duplicated(dir.path(), "iris.csv", |i| 1 + i % 4);
    let m = dir.path().join("m.json");
    let ms = m.to_str().unwrap();
    // A deliberately weak model, so that accuracy is not 1 and weights move it.
    train_json(&[
        "--data",
        &data("iris.csv"),
        "--epochs",
        "1",
        "--lr",
        "0.01",
        "--save",
        ms,
    ]);
    let eval = |args: &[&str]| -> Value {
        let mut all = vec!["eval", "--model", ms, "--json"];
        all.extend(args);
        serde_json::from_str(&ok_stdout(&run(&all))).unwrap()
    };
    let a = eval(&["--data", &weighted, "--weight-column", "w"]);
    let b = eval(&["--data", &duplicated]);
    let plain = eval(&["--data", &data("iris.csv")]);
    for key in ["accuracy", "loss"] {
        let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
        assert!((x - y).abs() < 1e-12, "{key}: {x} vs {y}");
    }
    assert_ne!(
        a["accuracy"], plain["accuracy"],
        "the weights changed nothing"
    );
    // The text names the weighting; the count beside it is of rows.
    let text = ok_stdout(&run(&[
        "eval",
        "--model",
        ms,
        "--data",
        &weighted,
        "--weight-column",
        "w",
    ]));
    let first = text.lines().next().unwrap();
    let pct = 100.0 * a["accuracy"].as_f64().unwrap();
    assert!(
        first.starts_with(&format!(
            "accuracy {pct:.2}% weighted by column `w` (rows: "
        )),
        "{first}"
    );
    assert_eq!(a["weight_column"], "w");
    assert!(plain.get("weight_column").is_none());
    // A weighted file without the flag: its weight column is one the model does not use,
    // named in a note, and the rows count once each.
    let out = run(&["eval", "--model", ms, "--data", &weighted]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(
        common::stderr(&out).contains("does not use column w"),
        "{}",
        common::stderr(&out)
    );
}

#[test]
fn validation_cv_and_sweep_take_the_weights() {
    let dir = tempfile::tempdir().unwrap();
    let (weighted, _) = weighted_and_duplicated(dir.path(), "iris.csv", |i| 1 + i % 3);
    // Validation split: the held-out rows keep their weights (the weighted metrics differ
    // from the same split's unweighted ones).
    let w = train_json(&[
        "--data",
        &weighted,
        "--weight-column",
        "w",
        "--val-frac",
        "0.3",
        "--epochs",
        "2",
    ]);
    let u = train_json(&[
        "--data",
        &weighted,
        "--ignore",
        "w",
        "--val-frac",
        "0.3",
        "--epochs",
        "2",
    ]);
    assert_ne!(w["val_loss"], u["val_loss"]);
    // Cross-validation: every fold trains with its rows' weights.
    let cv = train_json(&[
        "--data",
        &weighted,
        "--weight-column",
        "w",
        "--cv",
        "3",
        "--epochs",
        "2",
    ]);
    assert_eq!(cv["cv"]["folds"].as_array().unwrap().len(), 3, "{cv}");
    assert_eq!(cv["hyperparameters"]["weight_column"], "w");
    let plain = train_json(&[
        "--data", &weighted, "--ignore", "w", "--cv", "3", "--epochs", "2",
    ]);
    assert_ne!(cv["cv"]["mean_loss"], plain["cv"]["mean_loss"]);
    // A sweep passes the flags to every point.
    let runs = dir.path().join("runs");
    let out = run(&[
        "sweep",
        "--grid",
        "lr=0.05,0.1",
        "--runs",
        runs.to_str().unwrap(),
        "--data",
        &weighted,
        "--weight-column",
        "w",
        "--class-weight",
        "balanced",
        "--epochs",
        "2",
        "-q",
    ]);
    ok_stdout(&out);
    let p: Value = serde_json::from_str(
        &std::fs::read_to_string(runs.join("points").join("0001.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(p["summary"]["weighting"]["weight_column"], "w", "{p}");
    assert_eq!(p["summary"]["weighting"]["class_weight"], "balanced");
    // The weight column is read with the data, once: no axis. Class weights may vary
    // (points are numbered from 0: point 1 is `setosa=3`).
    let runs2 = dir.path().join("runs2");
    let out = run(&[
        "sweep",
        "--grid",
        "weight-column=w,x",
        "--runs",
        runs2.to_str().unwrap(),
        "--data",
        &weighted,
    ]);
    assert_error(&out, 2, &["--weight-column cannot be an axis"]);
    let out = run(&[
        "sweep",
        "--grid",
        "class-weight=balanced,setosa=3",
        "--runs",
        runs2.to_str().unwrap(),
        "--data",
        &weighted,
        "--weight-column",
        "w",
        "--epochs",
        "1",
        "-q",
    ]);
    ok_stdout(&out);
    let p: Value = serde_json::from_str(
        &std::fs::read_to_string(runs2.join("points").join("0001.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        p["summary"]["weighting"]["class_weights"],
        serde_json::json!([3.0, 1.0, 1.0])
    );
}

#[test]
fn gradcheck_checks_the_weighted_loss() {
    // Through the library: every activation and loss, λ = 0 and λ > 0, random weights.
    use mlp_train::train::gradcheck;
    use mlp_train::{Activation, Init, Loss, Mlp, Target, Weighted};
    use ndarray::{Array1, Array2};
    let x = Array2::from_shape_fn((7, 5), |(i, j)| ((i * 5 + j) as f64 * 0.37).sin());
    let classes: Vec<usize> = (0..7).map(|i| i % 3).collect();
    let values = Array2::from_shape_fn((7, 3), |(i, j)| ((i + 2 * j) as f64 * 0.5).cos());
    let w = Array1::from_shape_fn(7, |i| 0.5 + (i as f64 * 0.71).fract() * 2.0);
    for activation in [Activation::Relu, Activation::Sigmoid, Activation::Tanh] {
        for loss in [Loss::SoftmaxCe, Loss::HalfSquared] {
            for lambda in [0.0, 0.1] {
                let m = Mlp::<f64>::init(5, 4, 3, activation, loss, Init::Xavier, 2);
                let y = match loss {
                    Loss::SoftmaxCe => Target::Classes(&classes),
                    Loss::HalfSquared => Target::Values(values.view()),
                };
                let opts = gradcheck::Options {
                    lambda,
                    ..Default::default()
                };
                let y = Weighted::new(y, Some(w.view()));
                let report = gradcheck::check(&m, x.view(), y, &opts).unwrap();
                assert_eq!(report.len(), 5);
                for r in &report {
                    assert!(
                        r.checked > 0,
                        "{activation:?} {loss:?}: {} unchecked",
                        r.name
                    );
                    assert!(
                        r.max_rel_error < 1e-6,
                        "{activation:?} {loss:?} λ={lambda}: {} {:e}",
                        r.name,
                        r.max_rel_error
                    );
                }
            }
        }
    }
    // Through the binary: --weighted draws the weights and says so.
    let out = run(&["gradcheck", "--weighted", "--json", "--batch", "6"]);
    let v: Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!(v["ok"], true);
    let w = v["weights"].as_array().unwrap();
    assert_eq!(w.len(), 6);
    assert!(w.iter().all(|w| (0.5..2.5).contains(&w.as_f64().unwrap())));
    let text = ok_stdout(&run(&["gradcheck", "--weighted", "--activation", "relu"]));
    assert!(
        text.contains("weighted: L = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ, w = ["),
        "{text}"
    );
    let plain: Value = serde_json::from_str(&ok_stdout(&run(&["gradcheck", "--json"]))).unwrap();
    assert!(plain["weights"].is_null());
}

#[test]
fn explain_shows_the_rows_weight_and_its_weighted_d_o() {
    let dir = tempfile::tempdir().unwrap();
    let (weighted, _) = weighted_and_duplicated(dir.path(), "iris.csv", |i| 3 + i % 2);
    let m = dir.path().join("m.json");
    let ms = m.to_str().unwrap();
    train_json(&[
        "--data",
        &weighted,
        "--weight-column",
        "w",
        "--class-weight",
        "setosa=2",
        "--epochs",
        "2",
        "--save",
        ms,
    ]);
    // Row 1 (a setosa) weighs 4 in its column, times 2 for its class.
    let out = run(&[
        "explain", "--model", ms, "--data", &weighted, "--row", "1", "--json",
    ]);
    let e: Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!(e["weight"]["sample"], 4.0);
    assert_eq!(e["weight"]["class"], 2.0);
    assert_eq!(e["weight"]["w"], 8.0);
    let d_o = e["backward"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "d_o")
        .unwrap()["value"]
        .as_array()
        .unwrap()
        .clone();
    let weighted_d_o = e["weight"]["weighted_d_o"].as_array().unwrap();
    assert_eq!(d_o.len(), weighted_d_o.len());
    for (a, b) in d_o.iter().zip(weighted_d_o) {
        assert!((8.0 * a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-12);
    }
    let text = ok_stdout(&run(&[
        "explain", "--model", ms, "--data", &weighted, "--row", "1",
    ]));
    assert!(
        text.contains("w = 4 (weight column) × 2 (class weight) = 8"),
        "{text}"
    );
    // The same model on a file without the column: the class weight alone.
    let out = run(&[
        "explain",
        "--model",
        ms,
        "--data",
        &data("iris.csv"),
        "--json",
    ]);
    let e: Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert!(e["weight"]["sample"].is_null());
    assert_eq!(e["weight"]["w"], 2.0);
}

#[test]
fn the_summary_and_the_report_say_the_rows_were_weighted() {
    let dir = tempfile::tempdir().unwrap();
    let (weighted, _) = weighted_and_duplicated(dir.path(), "iris.csv", |i| 1 + i % 2);
    let page = dir.path().join("r.html");
    let out = run(&[
        "--data",
        &weighted,
        "--weight-column",
        "w",
        "--class-weight",
        "balanced",
        "--epochs",
        "2",
        "--report",
        page.to_str().unwrap(),
    ]);
    let text = ok_stdout(&out);
    assert!(
        text.contains("rows weighted by column `w` × class weight balanced (setosa 1, versicolor 1, virginica 1)"),
        "{text}"
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("class weight balanced"),
        "the page does not say it"
    );
    let plain = ok_stdout(&run(&["--data", &data("iris.csv"), "--epochs", "1"]));
    assert!(!plain.contains("weighted"));
}

#[test]
fn a_weighted_run_continues_from_its_model() {
    // --init-from reads the weighted file's features without its weight column.
    let dir = tempfile::tempdir().unwrap();
    let (weighted, _) = weighted_and_duplicated(dir.path(), "iris.csv", |i| 1 + i % 2);
    let (m, m2) = (dir.path().join("m.json"), dir.path().join("m2.json"));
    let w = ["--weight-column", "w", "--epochs", "2"];
    train_json(
        &[
            &["--data", &weighted, "--save", m.to_str().unwrap()][..],
            &w,
        ]
        .concat(),
    );
    let j = train_json(
        &[
            &["--data", &weighted, "--init-from", m.to_str().unwrap()][..],
            &["--save", m2.to_str().unwrap()],
            &w,
        ]
        .concat(),
    );
    assert_eq!(j["weighting"]["weight_column"], "w");
    assert_eq!(model(&m2)["epochs_run"], 4);
    // Without the flag, the weight column is a column the model does not use: the model's
    // columns are found by name, and the extra one is named in a note.
    let out = run(&[
        "--data",
        &weighted,
        "--init-from",
        m.to_str().unwrap(),
        "--epochs",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(
        common::stderr(&out).contains("does not use column w"),
        "{}",
        common::stderr(&out)
    );
}
