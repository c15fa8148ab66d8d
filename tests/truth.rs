//! Issue 11 on the real binary: every number on screen is true (explain's λ, divergence that
//! stays finite, gates and baselines in --json) and the CLI behaves as scripts expect.

mod common;

use common::{data, ok_stdout, run, stderr, train_json};

/// Exit code and the one line on stderr of a run expected to fail.
fn fails(args: &[&str]) -> (i32, String) {
    let out = run(args);
    let err = stderr(&out);
    assert_eq!(
        err.lines().count(),
        1,
        "one line on stderr for {args:?}:\n{err}"
    );
    (out.status.code().unwrap_or(-1), err)
}

#[test]
fn a_repeated_flag_takes_its_last_value() {
    let iris = data("iris.csv");
    let v = train_json(&["--data", &iris, "--epochs", "20", "--epochs", "30"]);
    assert_eq!(v["epochs"], 30);
    assert_eq!(v["hyperparameters"]["epochs"], 30);
    let v = train_json(&[
        "--data", &iris, "--epochs", "3", "--lambda", "0.5", "--lambda", "0",
    ]);
    assert_eq!(v["hyperparameters"]["lambda"], 0.0);
    // In a subcommand too.
    let out = run(&["gradcheck", "--batch", "2", "--batch", "3", "--json"]);
    let g: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert!(g.to_string().contains("\"batch\":3"), "{g}");
}

#[test]
fn one_line_errors_keep_claps_hint() {
    let iris = data("iris.csv");
    let (code, err) = fails(&["--data", &iris, "--lamda", "0.1"]);
    assert_eq!(code, 2);
    assert!(err.contains("--lamda"), "{err}");
    assert!(err.contains("(did you mean --lambda?)"), "{err}");
    let (code, err) = fails(&["--data", &iris, "--activation", "rlu"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("possible values: relu, sigmoid, tanh, identity"),
        "{err}"
    );
    let (_, err) = fails(&["predict", "--model", "m.json", "--data", &iris, "--prob"]);
    assert!(err.contains("did you mean --proba?"), "{err}");
}

#[test]
fn gradcheck_q_is_quiet() {
    let out = run(&["gradcheck", "-q"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    // q itself is still there, long form only.
    let out = run(&["gradcheck", "--q", "4", "--json"]);
    assert!(ok_stdout(&out).contains("\"q\":4"));
    // A failing check still says why, in one line, exit 7.
    let (code, err) = fails(&["gradcheck", "-q", "--tol", "1e-30"]);
    assert_eq!(code, 7, "{err}");
    assert!(err.contains("gradient check failed"), "{err}");
}

#[test]
fn a_finite_blow_up_is_a_divergence() {
    // Issue 11: exited 0 with s ≈ 1.4e18 and R² 0.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.json");
    let reg = data("regression.csv");
    let out = run(&[
        "--data",
        &reg,
        "--task",
        "regress",
        "--no-standardize",
        "-q",
        "--save",
        model.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    for part in [
        "training diverged at epoch 1",
        "grew more than 1e6 times",
        "--lr",
        "drop --no-standardize",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
    assert!(!model.exists(), "nothing is saved");
    // Standardized, the same data trains fine.
    let v = train_json(&["--data", &reg, "--task", "regress"]);
    assert!(v["train_r2"].as_f64().unwrap() > 0.5, "{v}");
}

#[test]
fn model_files_hold_no_run_settings() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.json");
    let v = train_json(&[
        "--data",
        &data("iris.csv"),
        "--epochs",
        "2",
        "--threads",
        "2",
        "--save",
        model.to_str().unwrap(),
    ]);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(
        v["threads"],
        2.min(cores),
        "the run's --json reports threads"
    );
    // Still among --json's hyperparameters (schema 1 had it there), never in the model file.
    assert_eq!(v["hyperparameters"]["threads"], v["threads"]);
    let text = std::fs::read_to_string(&model).unwrap();
    assert!(!text.contains("threads"), "{text}");
}

#[test]
fn proba_on_a_regression_model_and_a_png_plot_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("r.json");
    let reg = data("regression.csv");
    let m = model.to_str().unwrap();
    train_json(&[
        "--data", &reg, "--task", "regress", "--epochs", "2", "--save", m,
    ]);
    let (code, err) = fails(&["predict", "--model", m, "--data", &reg, "--proba"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--proba needs a classification model"),
        "{err}"
    );
    assert!(err.contains("r.json"), "{err}");

    let png = dir.path().join("curves.png");
    let (code, err) = fails(&[
        "--data",
        &data("iris.csv"),
        "--epochs",
        "2",
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--plot writes SVG only"), "{err}");
    assert!(!png.exists());
    // Any case of .svg is fine.
    let svg = dir.path().join("curves.SVG");
    let out = run(&[
        "--data",
        &data("iris.csv"),
        "--epochs",
        "2",
        "-q",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    ok_stdout(&out);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
}

#[test]
fn json_reports_each_gate_with_its_verdict() {
    let iris = data("iris.csv");
    let out = run(&[
        "--data",
        &iris,
        "--val-frac",
        "0.2",
        "--epochs",
        "3",
        "--json",
        "-q",
        "--min-accuracy",
        "0.99",
        "--max-loss",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gates = v["gates"].as_array().unwrap();
    assert_eq!(gates.len(), 2, "{v}");
    let acc = &gates[0];
    assert_eq!(acc["gate"], "--min-accuracy");
    assert_eq!(acc["set"], "validation");
    assert_eq!(acc["threshold"], 0.99);
    assert_eq!(acc["value"], v["val_accuracy"]);
    assert_eq!(acc["verdict"], "fail");
    assert_eq!(gates[1]["gate"], "--max-loss");
    assert_eq!(gates[1]["value"], v["val_loss"]);
    assert_eq!(gates[1]["verdict"], "pass");
    assert!(
        stderr(&out).contains("validation accuracy is"),
        "{}",
        stderr(&out)
    );
    // No gate asked: an empty list. Under --cv: the mean over folds.
    let v = train_json(&["--data", &iris, "--epochs", "2"]);
    assert_eq!(v["gates"], serde_json::json!([]));
    let v = train_json(&[
        "--data",
        &iris,
        "--epochs",
        "5",
        "--cv",
        "3",
        "--min-accuracy",
        "0.1",
    ]);
    assert_eq!(v["gates"][0]["set"], "3-fold cross-validation mean");
    assert_eq!(v["gates"][0]["value"], v["cv_accuracy"]);
    assert_eq!(v["gates"][0]["verdict"], "pass");
}

#[test]
fn baseline_regression_exits_8_naming_both_values() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let summary = dir.path().join("last-green.json");
    let model = dir.path().join("model.json");
    // The last green run: its --json summary, and its model file.
    let out = run(&[
        "--data",
        &iris,
        "--val-frac",
        "0.2",
        "--json",
        "-q",
        "--save",
        model.to_str().unwrap(),
    ]);
    std::fs::write(&summary, ok_stdout(&out)).unwrap();
    let green: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let base = green["val_accuracy"].as_f64().unwrap();
    // The same run again: no drop, against the summary or the model file.
    for b in [&summary, &model] {
        let v = train_json(&[
            "--data",
            &iris,
            "--val-frac",
            "0.2",
            "--baseline",
            b.to_str().unwrap(),
        ]);
        assert_eq!(v["baseline"]["verdict"], "pass", "{v}");
        assert_eq!(v["baseline"]["baseline"].as_f64(), Some(base));
        assert_eq!(v["baseline"]["metric"], "val_accuracy");
    }
    // A worse run (3 epochs) drops by more than 0.02.
    let out = run(&[
        "--data",
        &iris,
        "--val-frac",
        "0.2",
        "--epochs",
        "3",
        "-q",
        "--baseline",
        summary.to_str().unwrap(),
        "--max-drop",
        "0.02",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(8), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // The numbers as the table shows them (76.67 %).
    let now = err
        .split("accuracy is ")
        .nth(1)
        .unwrap()
        .split(" %,")
        .next()
        .unwrap();
    let now: f64 = now.parse::<f64>().unwrap() / 100.0;
    assert!(base - now > 0.02, "{err}");
    assert!(
        err.contains(&format!("the baseline's {:.2} %", 100.0 * base)),
        "{err}"
    );
    assert!(
        err.contains("last-green.json") && err.contains("--max-drop 0.02"),
        "{err}"
    );
    // A large enough --max-drop lets it pass.
    let out = run(&[
        "--data",
        &iris,
        "--val-frac",
        "0.2",
        "--epochs",
        "3",
        "-q",
        "--baseline",
        summary.to_str().unwrap(),
        "--max-drop",
        "0.5",
    ]);
    ok_stdout(&out);
    // Under --cv the CV mean is compared, with a --cv baseline.
    let cv = dir.path().join("cv.json");
    let out = run(&[
        "--data", &iris, "--cv", "3", "--epochs", "5", "--json", "-q",
    ]);
    std::fs::write(&cv, ok_stdout(&out)).unwrap();
    let v = train_json(&[
        "--data",
        &iris,
        "--cv",
        "3",
        "--epochs",
        "5",
        "--baseline",
        cv.to_str().unwrap(),
    ]);
    assert_eq!(v["baseline"]["metric"], "cv_accuracy");
    assert_eq!(v["baseline"]["drop"], 0.0);
    // A --cv baseline does not judge a run without --cv (another split: exit 2, see
    // tests/ci_gates.rs); --max-drop needs --baseline.
    let (code, err) = fails(&[
        "--data",
        &iris,
        "--epochs",
        "2",
        "-q",
        "--baseline",
        cv.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("another split"), "{err}");
    let (code, err) = fails(&["--data", &iris, "--max-drop", "0.1"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn off_a_terminal_epoch_lines_are_bounded_and_the_log_keeps_all() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    let iris = data("iris.csv");
    let out = run(&[
        "--data",
        &iris,
        "--epochs",
        "100",
        "--log",
        log.to_str().unwrap(),
    ]);
    ok_stdout(&out);
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.len() <= 22, "{} lines:\n{err}", lines.len());
    assert!(
        lines[0].starts_with("epoch   1/100") && lines[0].contains("--verbose"),
        "{err}"
    );
    assert!(lines[1].starts_with("epoch   5/100"), "{err}");
    assert!(lines.last().unwrap().starts_with("epoch 100/100"), "{err}");
    let rows = std::fs::read_to_string(&log).unwrap().lines().count();
    assert_eq!(rows, 101, "--log keeps every epoch");
    // --verbose: every epoch; few epochs: every epoch anyway.
    let out = run(&["--data", &iris, "--epochs", "100", "--verbose"]);
    ok_stdout(&out);
    assert_eq!(stderr(&out).lines().count(), 100);
    let out = run(&["--data", &iris, "--epochs", "7"]);
    ok_stdout(&out);
    assert_eq!(stderr(&out).lines().count(), 7);
    // Stopped early (--patience): the last epoch run is shown even off the k-th beat.
    let out = run(&[
        "--data",
        &iris,
        "--val-frac",
        "0.2",
        "--patience",
        "3",
        "--epochs",
        "1000",
        "--lr",
        "0.5",
    ]);
    ok_stdout(&out);
    let err = stderr(&out);
    let last = err.lines().last().unwrap();
    let v = train_json(&[
        "--data",
        &iris,
        "--val-frac",
        "0.2",
        "--patience",
        "3",
        "--epochs",
        "1000",
        "--lr",
        "0.5",
    ]);
    let ran = v["epochs"].as_u64().unwrap();
    assert!(
        !ran.is_multiple_of(50) && ran < 1000,
        "pick a run that stops off the beat: {ran}"
    );
    assert!(last.starts_with(&format!("epoch {ran:>4}/1000")), "{err}");
    // Under --cv each line names its fold, and each fold counts its own epochs.
    let out = run(&["--data", &iris, "--epochs", "30", "--cv", "3"]);
    ok_stdout(&out);
    let err = stderr(&out);
    assert!(
        err.lines().any(|l| l.starts_with("fold 3/3 epoch 30/30")),
        "{err}"
    );
    assert!(!err.contains("/90"), "{err}");
    assert!(err.lines().count() <= 3 * 17, "{err}");
}

#[test]
fn explain_uses_the_models_lambda_and_shows_the_raw_row() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.json");
    let m = model.to_str().unwrap();
    let iris = data("iris.csv");
    train_json(&[
        "--data", &iris, "--lambda", "0.0001", "--epochs", "5", "--save", m,
    ]);
    let out = run(&[
        "explain", "--model", m, "--data", &iris, "--row", "2", "--json",
    ]);
    let e: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!(e["lambda"], 0.0001);
    // s = λ/2 (‖W1‖² + ‖W2‖²) from the weights in the file, with the model's λ.
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    let sq = |w: &serde_json::Value| -> f64 {
        w.as_array()
            .unwrap()
            .iter()
            .flat_map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap().powi(2))
            })
            .sum()
    };
    let s = 0.0001 / 2.0 * (sq(&file["w1"]) + sq(&file["w2"]));
    let s_shown = e["objective"]["s"].as_f64().unwrap();
    // Computed in f32, the model's precision: equal to f32 rounding, not to 1e-12.
    assert!((s_shown - s).abs() <= 1e-5 * s, "{s_shown} vs {s}");
    assert_eq!(e["source"]["precision"], "f32");
    // In f32 indeed: z = W1 x is a vector of f32 numbers, widened.
    let z = e["forward"][1]["value"].as_array().unwrap();
    assert!(
        z.iter().all(|v| {
            let v = v.as_f64().unwrap();
            (v as f32) as f64 == v
        }),
        "z in f32: {z:?}"
    );
    // An f64 model is explained in f64, to 1e-12.
    let m64 = dir.path().join("m64.json");
    let m64s = m64.to_str().unwrap();
    train_json(&[
        "--data",
        &iris,
        "--lambda",
        "0.0001",
        "--epochs",
        "5",
        "--precision",
        "f64",
        "--save",
        m64s,
    ]);
    let out = run(&["explain", "--model", m64s, "--data", &iris, "--json"]);
    let e64: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    let file64: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&m64).unwrap()).unwrap();
    let s64 = 0.0001 / 2.0 * (sq(&file64["w1"]) + sq(&file64["w2"]));
    let shown = e64["objective"]["s"].as_f64().unwrap();
    assert!((shown - s64).abs() <= 1e-12 * s64, "{shown} vs {s64}");
    assert_eq!(e64["source"]["precision"], "f64");
    let z = e64["forward"][1]["value"].as_array().unwrap();
    assert!(
        z.iter().any(|v| {
            let v = v.as_f64().unwrap();
            (v as f32) as f64 != v
        }),
        "z in f64: {z:?}"
    );
    // Row 2 of iris is 4.7,3.2,1.3,0.2: shown raw, and standardized as x.
    assert_eq!(
        e["source"]["raw_x"],
        serde_json::json!([4.7, 3.2, 1.3, 0.2])
    );
    assert_eq!(e["source"]["standardized_x"], true);
    let x = &e["forward"][0]["value"];
    assert_eq!(x.as_array().unwrap().len(), 5, "{x}");
    assert_ne!(x[0], 4.7);
    assert_eq!(x[4], 1.0, "the bias input");

    let text = ok_stdout(&run(&[
        "explain", "--model", m, "--data", &iris, "--row", "2",
    ]));
    assert!(
        text.starts_with("one sample through the chapter's formulas"),
        "{text}"
    );
    assert!(text.contains("λ = 0.0001"), "{text}");
    assert!(text.contains("raw x  (4) = [4.7, 3.2, 1.3, 0.2]"), "{text}");
    assert!(text.contains("standardized"), "{text}");
    assert!(!text.contains("seed"), "{text}");

    // A flag that would contradict the model is refused, exit 2, naming both.
    for flag in [
        ["--lambda", "0.5"],
        ["--activation", "tanh"],
        ["--hidden", "3"],
    ] {
        let (code, err) = fails(&["explain", "--model", m, "--data", &iris, flag[0], flag[1]]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("--model") && err.contains(flag[0]), "{err}");
    }
    // Without --model, --lambda is the λ used.
    let out = run(&["explain", "--data", &iris, "--lambda", "0.5", "--json"]);
    let e: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!(e["lambda"], 0.5);
}
