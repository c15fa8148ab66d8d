//! Issue 23, "words that tell the truth": what the real binary says about a run (early
//! stopping, standardized units, the CV spread, eval's L s J, explain's names and units).

mod common;

use common::{assert_error, data, ok_stdout, run};

/// Trains on iris into `dir` with extra flags; the summary.
fn iris(dir: &std::path::Path, extra: &[&str]) -> String {
    let model = dir.join("m.json");
    let mut args = vec![
        "--data",
        &data("iris.csv"),
        "--save",
        model.to_str().unwrap(),
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok_stdout(&run(&args))
}

#[test]
fn early_stopping_is_named_only_when_patience_ran_out() {
    let dir = tempfile::tempdir().unwrap();
    // Patience 500 over 30 epochs never runs out: no "early stopping" (before: "early
    // stopping: best epoch 30 restored").
    let out = iris(
        dir.path(),
        &["--val-frac", "0.2", "--epochs", "30", "--patience", "500"],
    );
    assert!(!out.contains("early stopping"), "{out}");
    assert!(out.contains("30 epochs in"), "{out}");
    // Patience 2 on a noisy validation L stops well before 3000 epochs.
    let out = iris(
        dir.path(),
        &["--val-frac", "0.2", "--epochs", "3000", "--patience", "2"],
    );
    let line = out.lines().find(|l| l.contains("epochs in")).unwrap();
    let run: usize = line.split_whitespace().next().unwrap().parse().unwrap();
    assert!(run < 3000, "{line}");
    assert!(
        line.contains(&format!(
            "early stopping at epoch {run}: no better val L in 2 epochs"
        )) && line.contains(&format!("best epoch {} restored", run - 2)),
        "{line}"
    );
}

#[test]
fn a_regression_summary_says_l_is_in_standardized_units() {
    let out = ok_stdout(&run(&[
        "--data",
        &data("regression.csv"),
        "--task",
        "regress",
        "--epochs",
        "5",
    ]));
    assert!(
        out.contains("L in standardized target units")
            && out.contains("RMSE, MAE in the target's units"),
        "{out}"
    );
    let raw = ok_stdout(&run(&[
        "--data",
        &data("regression.csv"),
        "--task",
        "regress",
        "--no-standardize-targets",
        "--lr",
        "0.0001",
        "--epochs",
        "5",
    ]));
    assert!(!raw.contains("standardized target units"), "{raw}");
}

#[test]
fn the_cv_spread_says_n_minus_1_and_gives_the_n_one() {
    let out = ok_stdout(&run(&[
        "--data",
        &data("iris.csv"),
        "--cv",
        "5",
        "--epochs",
        "20",
    ]));
    let acc: Vec<f64> = out
        .lines()
        .filter(|l| l.starts_with("fold"))
        .map(|l| {
            let pct = l.split("accuracy ").nth(1).unwrap().trim_end_matches('%');
            pct.parse::<f64>().unwrap()
        })
        .collect();
    assert_eq!(acc.len(), 5, "{out}");
    let mean = acc.iter().sum::<f64>() / 5.0;
    let ss = acc.iter().map(|a| (a - mean).powi(2)).sum::<f64>();
    let (sample, population) = ((ss / 4.0).sqrt(), (ss / 5.0).sqrt());
    let line = out.lines().find(|l| l.starts_with("mean")).unwrap();
    assert!(line.contains(&format!("± {sample:.2}%")), "{line}");
    assert!(
        line.contains("sample standard deviation, n − 1")
            && line.contains(&format!("std_test_score: {population:.2}%")),
        "{line}"
    );
}

#[test]
fn a_cv_page_does_not_ask_to_explain_a_model_it_never_saved() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("cv.html");
    ok_stdout(&run(&[
        "--data",
        &data("iris.csv"),
        "--cv",
        "3",
        "--epochs",
        "5",
        "--report",
        page.to_str().unwrap(),
    ]));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("--model MODEL"), "the page names a MODEL");
    assert!(html.contains("Cross-validation saves no model"));
    assert!(html.contains("n − 1") && html.contains("std_test_score"));
}

#[test]
fn eval_prints_l_s_and_j_as_training_does() {
    let dir = tempfile::tempdir().unwrap();
    iris(dir.path(), &["--epochs", "20"]);
    let model = dir.path().join("m.json");
    let out = ok_stdout(&run(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        &data("iris.csv"),
    ]));
    let line = out.lines().nth(1).unwrap();
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .step_by(2)
        .map(|x| x.parse().unwrap())
        .collect();
    assert!(line.starts_with("L ") && v.len() == 3, "{out}");
    assert!((v[0] + v[1] - v[2]).abs() < 2e-6, "J = L + s: {line}");
    // The same L and s as the JSON report's.
    let json: serde_json::Value = serde_json::from_str(&ok_stdout(&run(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        &data("iris.csv"),
        "--json",
    ])))
    .unwrap();
    let l = json["loss"].as_f64().unwrap_or_else(|| panic!("{json}"));
    let j = json["objective"].as_f64().unwrap();
    assert!(
        (l - v[0]).abs() < 1e-6 && (j - v[2]).abs() < 1e-6,
        "{json} vs {line}"
    );
}

#[test]
fn explain_names_every_predicted_class() {
    let dir = tempfile::tempdir().unwrap();
    // One epoch at a tiny rate: many predictions are wrong.
    iris(dir.path(), &["--epochs", "1", "--lr", "0.001"]);
    let model = dir.path().join("m.json");
    let names = ["setosa", "versicolor", "virginica"];
    let mut wrong = 0;
    for row in ["0", "50", "100"] {
        let out = ok_stdout(&run(&[
            "explain",
            "--model",
            model.to_str().unwrap(),
            "--data",
            &data("iris.csv"),
            "--row",
            row,
        ]));
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with("prediction: class"))
            .unwrap();
        let k: usize = line.split("class ").nth(1).unwrap()[..1].parse().unwrap();
        assert!(
            line.contains(&format!("class {k} ({})", names[k])),
            "{line}"
        );
        wrong += usize::from(line.contains("(wrong)"));
    }
    assert!(wrong > 0, "every prediction right: the test shows nothing");
}

#[test]
fn explain_shows_a_regression_prediction_in_the_targets_units() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("r.json");
    ok_stdout(&run(&[
        "--data",
        &data("regression.csv"),
        "--task",
        "regress",
        "--epochs",
        "20",
        "--save",
        model.to_str().unwrap(),
    ]));
    let out = ok_stdout(&run(&[
        "explain",
        "--model",
        model.to_str().unwrap(),
        "--data",
        &data("regression.csv"),
        "--row",
        "0",
    ]));
    let line = out
        .lines()
        .find(|l| l.contains("in the target's units"))
        .unwrap_or_else(|| panic!("{out}"));
    let shown: f64 = line
        .rsplit('[')
        .next()
        .unwrap()
        .trim_end_matches(']')
        .parse()
        .unwrap();
    // predict writes the same value, de-standardized, for row 0.
    let csv = ok_stdout(&run(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        &data("regression.csv"),
    ]));
    let first: f64 = csv.lines().nth(1).unwrap().parse().unwrap();
    assert!(
        (shown - first).abs() <= 1e-4 * first.abs().max(1.0),
        "{shown} vs {first}"
    );
}

#[test]
fn a_divergence_without_standardization_advises_standardizing() {
    let out = run(&[
        "--data",
        &data("regression.csv"),
        "--task",
        "regress",
        "--no-standardize",
        "--lr",
        "0.1",
        "--epochs",
        "5",
    ]);
    let line = assert_error(&out, 6, &["drop --no-standardize", "--lr (now 0.1)"]);
    assert!(!line.contains("--lambda"), "{line}");
    // Standardized, the advice is --lr and --lambda, and names no --no-standardize.
    let out = run(&["--data", &data("iris.csv"), "--lr", "1e6", "--epochs", "5"]);
    if out.status.code() == Some(6) {
        let err = common::stderr(&out);
        assert!(!err.contains("no-standardize"), "{err}");
    }
}

#[test]
fn the_plot_has_legible_unique_ticks_and_a_visible_j() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("p.svg");
    iris(
        dir.path(),
        &[
            "--epochs",
            "60",
            "--val-frac",
            "0.2",
            "--plot",
            svg.to_str().unwrap(),
        ],
    );
    let svg = std::fs::read_to_string(&svg).unwrap();
    let sizes: Vec<f64> = svg
        .split("font-size=\"")
        .skip(1)
        .map(|t| t.split('"').next().unwrap().parse().unwrap())
        .collect();
    assert!(sizes.iter().all(|&s| s >= 11.0), "{sizes:?}");
    assert!(
        svg.contains("stroke-width=\"7\""),
        "J drawn as a wide band under L"
    );
}

#[test]
fn graph_svg_is_drawn_without_graphviz() {
    // PATH without any `dot`: the built-in drawing needs none.
    let empty = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(["graph", "--format", "svg", "--data", &data("iris.csv")])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    let svg = ok_stdout(&out);
    assert!(
        svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    // Parses as XML, with every node of the chapter's figure.
    let doc = roxmltree_free_check(&svg);
    assert!(doc, "not well-formed");
    for id in ["x", "W1", "z", "h", "W2", "o", "y", "L", "s", "J"] {
        assert!(svg.contains(&format!("id=\"node-{id}\"")), "{id}");
    }
    assert!(svg.contains("32×5"), "h = 32 by default, d = 4 + bias");
    // Graphviz only on request: --engine dot without it is the old, explained error.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(["graph", "--format", "svg", "--engine", "dot"])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(common::stderr(&out).contains("apt-get install graphviz"));
}

/// A light well-formedness check (balanced tags) without an XML crate.
fn roxmltree_free_check(svg: &str) -> bool {
    let opens = svg.matches("<g ").count();
    let closes = svg.matches("</g>").count();
    svg.trim_end().ends_with("</svg>") && opens == closes && svg.matches("<svg").count() == 1
}

#[test]
fn graph_data_takes_the_model_flags() {
    let out = ok_stdout(&run(&[
        "graph",
        "--data",
        &data("iris.csv"),
        "--hidden",
        "7",
        "--activation",
        "tanh",
        "--no-bias",
        "--batch-size",
        "16",
    ]));
    assert!(out.contains("7×4") && out.contains("3×7"), "{out}");
    assert!(out.contains("tanh") && out.contains("B = 16"), "{out}");
    // The flags shape a model of --data only.
    let out = run(&["graph", "--hidden", "7"]);
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
}
