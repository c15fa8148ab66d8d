//! The real binary on the shipped datasets: the README's exact command, accuracy floors,
//! reproducibility byte for byte, predict, --init-from, --json, --log and the subcommands.

mod common;
use common::*;

#[test]
fn the_readme_command_trains_iris() {
    // Exactly the form of the README and the brief: `mlp-train --data x.csv --lambda 0.01`.
    let out = run(&["--data", &data("iris.csv"), "--lambda", "0.01"]);
    let text = ok_stdout(&out);
    let train_row = text
        .lines()
        .find(|l| l.starts_with("train"))
        .unwrap_or_else(|| panic!("no train row in:\n{text}"));
    let pct: f64 = train_row
        .split_whitespace()
        .last()
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    assert!(pct >= 95.0, "iris train accuracy {pct}%\n{text}");
    // Without a terminal, plain lines on stderr, bounded (issue 11): epoch 1, every 5th.
    assert_eq!(
        stderr(&out)
            .lines()
            .filter(|l| l.starts_with("epoch"))
            .count(),
        21
    );
}

#[test]
fn json_has_the_documented_keys() {
    let v = train_json(&[
        "--data",
        &data("iris.csv"),
        "--lambda",
        "0.01",
        "--val-frac",
        "0.2",
    ]);
    for key in [
        "schema_version",
        "epochs",
        "train_loss",
        "train_objective",
        "train_reg",
        "train_accuracy",
        "val_accuracy",
        "test_accuracy",
        "seconds",
        "samples_per_second",
        "hyperparameters",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["epochs"], 100);
    assert!(v["test_accuracy"].is_null());
    assert!(v["val_accuracy"].as_f64().unwrap() >= 0.9, "{v}");
    assert_eq!(v["hyperparameters"]["lambda"], 0.01);
    let (l, s, j) = (
        v["train_loss"].as_f64().unwrap(),
        v["train_reg"].as_f64().unwrap(),
        v["train_objective"].as_f64().unwrap(),
    );
    assert!((l + s - j).abs() < 1e-12, "J = L + s: {l} + {s} vs {j}");
}

#[test]
fn spirals_need_the_bias_feature() {
    let args = [
        "--data",
        &data("spirals.csv"),
        "--hidden",
        "64",
        "--epochs",
        "300",
        "--lambda",
        "0.0001",
    ];
    let with = train_json(&args);
    let mut no = args.to_vec();
    no.push("--no-bias");
    let without = train_json(&no);
    let acc = |v: &serde_json::Value| v["train_accuracy"].as_f64().unwrap();
    assert!(acc(&with) >= 0.95, "with bias: {}", acc(&with));
    assert!(acc(&without) <= 0.65, "without bias: {}", acc(&without));
    assert_eq!(without["inputs"], 2);
    assert_eq!(with["inputs"], 3);
}

#[test]
fn xor_digits_and_regression_clear_their_floors() {
    let xor = train_json(&["--data", &data("xor.csv"), "--epochs", "50"]);
    assert!(xor["train_accuracy"].as_f64().unwrap() >= 0.97, "{xor}");
    let digits = train_json(&[
        "--data",
        &data("digits.csv"),
        "--epochs",
        "20",
        "--val-frac",
        "0.2",
    ]);
    assert!(digits["val_accuracy"].as_f64().unwrap() >= 0.93, "{digits}");
    // The R² floor is checked on a 5-fold cross-validation mean, where every row is held out
    // once: one 88-row validation split is a coin flip (val R² over seeds 0..7 ranged from
    // 0.06 to 0.47 with the same training R², so a floor there only passed for lucky seeds).
    // The CV mean below, at seeds 0..7, measured 0.47 0.47 0.43 0.39 0.46 0.37 0.43 0.47:
    // the floor 0.35 holds for every seed and still fails a model that learned nothing
    // (predicting the mean gives R² ≈ 0).
    let cv = train_json(&[
        "--data",
        &data("regression.csv"),
        "--task",
        "regress",
        "--cv",
        "5",
        "--epochs",
        "10",
        "--lr",
        "0.05",
    ]);
    assert!(cv["cv"]["mean_r2"].as_f64().unwrap() >= 0.35, "{cv}");
    let reg = train_json(&[
        "--data",
        &data("regression.csv"),
        "--task",
        "regress",
        "--val-frac",
        "0.2",
    ]);
    assert!(reg["val_r2"].as_f64().unwrap().is_finite(), "{reg}");
    // RMSE is in the target's own units (tens), not standardized units (< 1).
    assert!(reg["val_rmse"].as_f64().unwrap() > 20.0, "{reg}");
}

#[test]
fn same_seed_gives_byte_identical_model_files() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a.json"),
        dir.path().join("b.json"),
        dir.path().join("c.json"),
    );
    for (path, seed) in [(&a, "7"), (&b, "7"), (&c, "8")] {
        let p = path.to_str().unwrap();
        ok_stdout(&run(&[
            "--data",
            &data("iris.csv"),
            "--epochs",
            "20",
            "--seed",
            seed,
            "--save",
            p,
            "-q",
        ]));
    }
    let (ba, bb, bc) = (
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        std::fs::read(&c).unwrap(),
    );
    assert_eq!(ba, bb, "same seed, different bytes");
    assert_ne!(ba, bc, "a different seed should give a different model");
}

#[test]
fn predict_reproduces_the_training_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.json");
    let m = model.to_str().unwrap();
    let v = train_json(&[
        "--data",
        &data("iris.csv"),
        "--precision",
        "f64",
        "--save",
        m,
    ]);
    // With --json the report alone is on stdout (issue 11); the predictions go to --out.
    let pred = dir.path().join("pred.csv");
    let out = run(&[
        "predict",
        "--model",
        m,
        "--data",
        &data("iris.csv"),
        "--json",
        "--out",
        pred.to_str().unwrap(),
    ]);
    let report = ok_stdout(&out);
    let csv = std::fs::read_to_string(&pred).unwrap();
    assert_eq!(csv.lines().count(), 151, "header + one row per input");
    assert_eq!(csv.lines().next(), Some("species"));
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let acc = report["accuracy"].as_f64().unwrap();
    assert!(
        (acc - v["train_accuracy"].as_f64().unwrap()).abs() < 1e-12,
        "{acc} vs {v}"
    );
    let n: u64 = report["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|x| x.as_u64().unwrap())
        .sum();
    assert_eq!(n, 150);
}

#[test]
fn predict_with_probabilities_to_a_file_and_without_labels() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.json");
    let m = model.to_str().unwrap();
    ok_stdout(&run(&["--data", &data("iris.csv"), "--save", m, "-q"]));
    // A file without the label column.
    let features: String = std::fs::read_to_string(data("iris.csv"))
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    let nolabel = dir.path().join("x.csv");
    std::fs::write(&nolabel, features).unwrap();
    let out_csv = dir.path().join("pred.csv");
    let out = run(&[
        "predict",
        "--model",
        m,
        "--data",
        nolabel.to_str().unwrap(),
        "--proba",
        "--out",
        out_csv.to_str().unwrap(),
    ]);
    ok_stdout(&out);
    let pred = std::fs::read_to_string(&out_csv).unwrap();
    let mut lines = pred.lines();
    assert_eq!(
        lines.next(),
        Some("species,p_setosa,p_versicolor,p_virginica")
    );
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let p: f64 = cells[1..].iter().map(|c| c.parse::<f64>().unwrap()).sum();
        assert!((p - 1.0).abs() < 1e-9, "{line}");
    }
}

#[test]
fn init_from_continues_where_training_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let (m1, m2) = (dir.path().join("1.json"), dir.path().join("2.json"));
    let (p1, p2) = (m1.to_str().unwrap(), m2.to_str().unwrap());
    let first = train_json(&[
        "--data",
        &data("digits.csv"),
        "--epochs",
        "2",
        "--lr",
        "0.01",
        "--save",
        p1,
    ]);
    let log = dir.path().join("log.csv");
    let second = train_json(&[
        "--data",
        &data("digits.csv"),
        "--epochs",
        "2",
        "--lr",
        "0.01",
        "--init-from",
        p1,
        "--save",
        p2,
        "--log",
        log.to_str().unwrap(),
    ]);
    let l1 = first["train_loss"].as_f64().unwrap();
    let l2 = second["train_loss"].as_f64().unwrap();
    assert!(l2 < l1, "continuing should lower the loss: {l1} → {l2}");
    // The continued run's first epoch starts near where the first run ended, far below ln 10.
    let log = std::fs::read_to_string(&log).unwrap();
    let first_epoch_l: f64 = log
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert!(first_epoch_l < 0.8 * 10f64.ln(), "{first_epoch_l}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&m2).unwrap()).unwrap();
    assert_eq!(
        saved["epochs_run"], 4,
        "epochs accumulate across --init-from"
    );
}

#[test]
fn log_has_one_row_per_epoch_with_the_documented_columns() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    ok_stdout(&run(&[
        "--data",
        &data("iris.csv"),
        "--epochs",
        "7",
        "--val-frac",
        "0.2",
        "--log",
        log.to_str().unwrap(),
        "-q",
    ]));
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "epoch,lr,train_L,train_s,train_J,train_accuracy,val_L,val_J,val_accuracy,grad_norm_w1,grad_norm_w2,seconds"
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 7);
    for (k, r) in rows.iter().enumerate() {
        assert_eq!(r[0], (k + 1) as f64);
        assert!((r[2] + r[3] - r[4]).abs() < 1e-12, "J = L + s in row {k}");
        assert!(r[9] > 0.0 && r[10] > 0.0, "gradient norms");
    }
}

#[test]
fn golden_run_pins_the_first_epochs() {
    // Fixed seed, f64, iris: the first three epochs' training loss L, pinned from the run of
    // 2026-11-29 (re-pinned once when the weights and shuffles moved to rand_xoshiro's
    // xoshiro256++ through ndarray-rand and rand). A change here means the arithmetic, the
    // initialization or the shuffle changed: check it was on purpose. (Epoch 1 starts near
    // ln 3 = 1.0986, as it should.)
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    ok_stdout(&run(&[
        "--data",
        &data("iris.csv"),
        "--precision",
        "f64",
        "--epochs",
        "3",
        "--log",
        log.to_str().unwrap(),
        "-q",
    ]));
    let text = std::fs::read_to_string(&log).unwrap();
    let l: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|r| r.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    let expected = [1.0982746575310618, 0.6744339609268513, 0.5587685477367036];
    for (k, (got, want)) in l.iter().zip(expected).enumerate() {
        assert!(
            (got - want).abs() < 1e-9,
            "epoch {}: L {got} vs pinned {want}",
            k + 1
        );
    }
    // Accuracy floor besides the pins: by epoch 3 the loss has fallen well below ln 3.
    assert!(l[2] < 0.7 * 3f64.ln());
}

#[test]
fn csv_from_stdin_and_gzip_work() {
    let bytes = std::fs::read(data("iris.csv")).unwrap();
    let out = run_stdin(&["--data", "-", "--epochs", "5", "--json", "-q"], &bytes);
    let v: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!(v["data"], "<stdin>");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &bytes).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("iris.csv.gz");
    std::fs::write(&p, gz.finish().unwrap()).unwrap();
    let g = train_json(&["--data", p.to_str().unwrap(), "--epochs", "5"]);
    assert_eq!(
        g["train_accuracy"], v["train_accuracy"],
        "gzip and plain give the same run"
    );
}

#[test]
fn gradcheck_subcommand_passes_and_can_fail() {
    for act in ["relu", "sigmoid", "tanh", "identity"] {
        let out = run(&["gradcheck", "--activation", act, "--lambda", "0.1"]);
        let text = ok_stdout(&out);
        assert!(text.contains("ok: every error"), "{text}");
        for m in ["d_o", "d_w2", "d_h", "d_z", "d_w1"] {
            assert!(
                text.lines().any(|l| l.starts_with(m)),
                "{m} missing:\n{text}"
            );
        }
    }
    let out = run(&[
        "gradcheck",
        "--data",
        &data("iris.csv"),
        "--batch",
        "10",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!((v["d"].as_u64(), v["q"].as_u64()), (Some(5), Some(3)));
    // A tolerance no floating-point computation can meet: exit code 7.
    let out = run(&["gradcheck", "--tol", "1e-300"]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("mlp-train: error: gradient check failed"));
}

#[test]
fn completions_man_and_version() {
    for shell in ["bash", "zsh", "fish"] {
        let text = ok_stdout(&run(&["completions", shell]));
        assert!(
            text.contains("lambda") && text.contains("init-from"),
            "{shell}"
        );
    }
    let man = ok_stdout(&run(&["man"]));
    assert!(man.contains(".TH") && man.contains("lambda"));
    let v = ok_stdout(&run(&["--version"]));
    assert!(v.starts_with("mlp-train "));
}

#[test]
fn explain_walks_one_row_through_the_formulas() {
    let out = run(&["explain", "--data", &data("iris.csv"), "--row", "3"]);
    let text = ok_stdout(&out);
    let order = [
        "z = W1 x",
        "h = φ(z)",
        "o = W2 h",
        "L = ℓ(o, y)",
        "J = L + s",
        "∂J/∂L = 1",
        "∂J/∂s = 1",
        "∂J/∂o =",
        "∂J/∂W2 = ∂J/∂o hᵀ + λW2",
        "∂J/∂h = W2ᵀ ∂J/∂o",
        "∂J/∂z = ∂J/∂h ⊙ φ'(z)",
        "∂J/∂W1 = ∂J/∂z xᵀ + λW1",
        "finite differences",
    ];
    let pos: Vec<usize> = order
        .iter()
        .map(|s| text.find(s).unwrap_or_else(|| panic!("{s} missing")))
        .collect();
    assert!(
        pos.windows(2).all(|w| w[0] < w[1]),
        "formulas out of the chapter's order"
    );
    // With a saved model, and as JSON: the finite differences agree with the analytic values.
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.json");
    ok_stdout(&run(&[
        "--data",
        &data("iris.csv"),
        "--save",
        m.to_str().unwrap(),
        "-q",
    ]));
    let out = run(&[
        "explain",
        "--data",
        &data("iris.csv"),
        "--row",
        "120",
        "--model",
        m.to_str().unwrap(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    let fd = v["finite_differences"].as_array().unwrap();
    assert!(fd.len() >= 6);
    for c in fd {
        assert!(c["rel_error"].as_f64().unwrap() < 1e-6, "{c}");
    }
    assert_eq!(v["dims"][1], 32, "the saved model's h");
    let out = run(&["explain", "--data", &data("iris.csv"), "--row", "150"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--row"), "{}", stderr(&out));
}

#[test]
fn graph_prints_figure_3_6_and_plot_writes_curves() {
    let dot = ok_stdout(&run(&["graph", "--data", &data("iris.csv")]));
    for edge in [
        "x -> z", "W1 -> z", "z -> h", "h -> o", "W2 -> o", "o -> L", "y -> L", "W1 -> s",
        "W2 -> s", "L -> J", "s -> J",
    ] {
        assert!(dot.contains(edge), "{edge} missing");
    }
    assert!(dot.contains("W1 (32×5)"), "annotated with the shapes");
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("curves.svg");
    ok_stdout(&run(&[
        "--data",
        &data("iris.csv"),
        "--epochs",
        "10",
        "--val-frac",
        "0.2",
        "--plot",
        svg.to_str().unwrap(),
        "-q",
    ]));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
    for label in ["J (train)", "L (train)", "val accuracy", "epoch"] {
        assert!(text.contains(label), "{label} missing from the plot");
    }
}

#[test]
fn readme_ci_example_runs_as_shown_and_gates_fail_with_8() {
    // The README's CI step, flag for flag.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains("--data data/iris.csv --val-frac 0.2 --lambda 0.01 \\\n        --min-accuracy 0.9 --max-loss 0.5 --save iris.json --log iris-log.csv --json"));
    let dir = tempfile::tempdir().unwrap();
    let (model, log) = (
        dir.path().join("iris.json"),
        dir.path().join("iris-log.csv"),
    );
    let out = run(&[
        "--data",
        &data("iris.csv"),
        "--val-frac",
        "0.2",
        "--lambda",
        "0.01",
        "--min-accuracy",
        "0.9",
        "--max-loss",
        "0.5",
        "--save",
        model.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert!(v["val_accuracy"].as_f64().unwrap() >= 0.9);
    // A gate that fails: exit 8, the message names the gate, the set and the value, and the
    // model and log were still written.
    std::fs::remove_file(&model).unwrap();
    let out = run(&[
        "--data",
        &data("iris.csv"),
        "--val-frac",
        "0.2",
        "--epochs",
        "2",
        "--min-accuracy",
        "0.999",
        "--save",
        model.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with("mlp-train: error: quality gate failed: validation accuracy is "),
        "{err}"
    );
    // The numbers as the table shows them: 76.67 %, not 0.7666666666666667.
    assert!(err.contains(" %, below --min-accuracy 99.90 %"), "{err}");
    assert!(
        model.exists(),
        "the model is written even when a gate fails"
    );
    let out = run(&[
        "--data",
        &data("regression.csv"),
        "--task",
        "regress",
        "--epochs",
        "2",
        "--min-r2",
        "0.99",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(8));
    assert!(stderr(&out).contains("training R² is"), "{}", stderr(&out));
    let out = run(&[
        "--data",
        &data("iris.csv"),
        "--cv",
        "3",
        "--epochs",
        "2",
        "--max-loss",
        "0.01",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(8));
    assert!(
        stderr(&out).contains("3-fold cross-validation mean loss L is"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn cv_json_has_per_fold_values() {
    let out = run(&["--data", &data("iris.csv"), "--cv", "4", "--json", "-q"]);
    let v: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    let folds = v["cv"]["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 4);
    let rows: u64 = folds.iter().map(|f| f["rows"].as_u64().unwrap()).sum();
    assert_eq!(rows, 150, "every row held out exactly once");
    let mean: f64 = folds
        .iter()
        .map(|f| f["metric"].as_f64().unwrap())
        .sum::<f64>()
        / 4.0;
    assert!((mean - v["cv"]["mean"].as_f64().unwrap()).abs() < 1e-12);
    assert!(v["cv_accuracy"].as_f64().unwrap() > 0.85);
    // The text form: one line per fold, the mean, and a labelled time (no bare number).
    let text = ok_stdout(&run(&["--data", &data("iris.csv"), "--cv", "4"]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert!(lines[1].starts_with("fold  1/4  rows "), "{text}");
    assert!(lines[5].starts_with("mean accuracy "), "{text}");
    assert!(
        lines[6].starts_with("4 folds in ") && lines[6].ends_with(" s"),
        "{text}"
    );
}

#[test]
fn early_stopping_restores_the_best_validation_epoch() {
    // A large learning rate on digits overfits quickly; patience 3 stops well before 200.
    let v = train_json(&[
        "--data",
        &data("digits.csv"),
        "--val-frac",
        "0.3",
        "--epochs",
        "200",
        "--patience",
        "3",
        "--lr",
        "0.3",
        "--hidden",
        "64",
    ]);
    let run = v["epochs"].as_u64().unwrap();
    let best = v["best_epoch"].as_u64().unwrap();
    assert!(run < 200, "stopped early: {v}");
    assert_eq!(
        run,
        best + 3,
        "stops exactly `patience` epochs after the best one"
    );
    assert!(v["val_accuracy"].as_f64().unwrap() > 0.9);
}

#[test]
fn test_file_labels_by_name_and_index_and_several_targets() {
    // --test with the training file itself: the same rows, the same metrics.
    let v = train_json(&[
        "--data",
        &data("iris.csv"),
        "--test",
        &data("iris.csv"),
        "--epochs",
        "20",
    ]);
    assert_eq!(v["test_accuracy"], v["train_accuracy"]);
    assert_eq!(v["test_loss"], v["train_loss"]);
    // The label by name and by index give the same run as the default (last column).
    let by_name = train_json(&[
        "--data",
        &data("iris.csv"),
        "--label",
        "species",
        "--epochs",
        "5",
    ]);
    let by_index = train_json(&["--data", &data("iris.csv"), "--label", "4", "--epochs", "5"]);
    let default = train_json(&["--data", &data("iris.csv"), "--epochs", "5"]);
    assert_eq!(by_name["train_loss"], default["train_loss"]);
    assert_eq!(by_index["train_loss"], default["train_loss"]);
    // Regression on two target columns: petal length and width from the sepals.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("two.csv");
    let text: String = std::fs::read_to_string(data("iris.csv"))
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    std::fs::write(&p, text).unwrap();
    let m = dir.path().join("m.json");
    let v = train_json(&[
        "--data",
        p.to_str().unwrap(),
        "--task",
        "regress",
        "--label",
        "petal_length,petal_width",
        "--epochs",
        "50",
        "--save",
        m.to_str().unwrap(),
    ]);
    assert_eq!(v["outputs"], 2);
    assert!(v["train_r2"].as_f64().unwrap() > 0.7, "{v}");
    let pred = ok_stdout(&run(&[
        "predict",
        "--model",
        m.to_str().unwrap(),
        "--data",
        p.to_str().unwrap(),
    ]));
    assert_eq!(pred.lines().next(), Some("petal_length,petal_width"));
    let first: Vec<f64> = pred
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|c| c.parse().unwrap())
        .collect();
    // Predictions are mapped back to centimetres (the first flower: 1.4 and 0.2).
    assert!(
        (first[0] - 1.4).abs() < 0.6 && (first[1] - 0.2).abs() < 0.4,
        "{first:?}"
    );
    // eval is predict's other name.
    let out = run(&[
        "eval",
        "--model",
        m.to_str().unwrap(),
        "--data",
        p.to_str().unwrap(),
        "--out",
        dir.path().join("o.csv").to_str().unwrap(),
    ]);
    assert!(ok_stdout(&out).contains("RMSE"));
}

#[test]
fn predict_reproduces_an_f32_models_accuracy_exactly() {
    // Predict runs in the model's own precision, so the accuracy is the training run's, not
    // merely close to it.
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.json");
    let v = train_json(&[
        "--data",
        &data("digits.csv"),
        "--epochs",
        "3",
        "--save",
        m.to_str().unwrap(),
    ]);
    assert_eq!(v["hyperparameters"]["precision"], "f32");
    let out = run(&[
        "predict",
        "--model",
        m.to_str().unwrap(),
        "--data",
        &data("digits.csv"),
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!(report["accuracy"].as_f64(), v["train_accuracy"].as_f64());
}
