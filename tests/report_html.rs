//! `--report FILE.html` on real files: the page parses without errors (html5ever) and with every
//! tag closed, holds each section with the run's own numbers, names nothing outside itself,
//! and loads in headless Chromium (DOM dump and a screenshot that is not blank).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{data, ok_stdout, run};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

/// Runs mlp-train in `dir`, returning its output.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("mlp-train runs")
}

/// The elements that never have an end tag in HTML.
const VOID: [&str; 6] = ["meta", "br", "hr", "img", "input", "link"];

/// Strict well-formedness: every start tag is closed, in order (a self-closing `<x/>` closes
/// itself), and html5ever's parser reports no error at all.
fn assert_well_formed(html: &str) {
    let doc = Html::parse_document(html);
    assert!(
        doc.errors.is_empty(),
        "html5ever reports parse errors: {:?}",
        doc.errors
    );
    if let Err(e) = balanced(html) {
        panic!("tags not balanced: {e}");
    }
}

fn balanced(html: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    let mut in_raw: Option<String> = None;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        let end = after.find('>').ok_or("a '<' without '>'")?;
        let tag = &after[..end];
        rest = &after[end + 1..];
        if let Some(raw) = &in_raw {
            // <style> content is not markup.
            if tag.trim_start_matches('/') == raw && tag.starts_with('/') {
                stack.pop();
                in_raw = None;
            }
            continue;
        }
        if tag.starts_with('!') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() {
            return Err(format!("a bare '<' before {:?}", &tag[..tag.len().min(20)]));
        }
        if tag.starts_with('/') {
            match stack.pop() {
                Some(open) if open == name => {}
                Some(open) => return Err(format!("</{name}> closes <{open}>")),
                None => return Err(format!("</{name}> closes nothing")),
            }
        } else if tag.ends_with('/') || VOID.contains(&name.as_str()) {
            continue;
        } else {
            if name == "style" || name == "script" {
                in_raw = Some(name.clone());
            }
            stack.push(name);
        }
    }
    match stack.pop() {
        None => Ok(()),
        Some(open) => Err(format!("<{open}> is never closed")),
    }
}

/// Nothing outside the page: no scheme, no fetched resource, no stylesheet import.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "http:", "https:", "http", "src=", "href=", "@import", "url(", "<link", "<script",
        "<iframe", "file:", "//cdn",
    ] {
        assert!(!lower.contains(bad), "the page contains {bad:?}");
    }
    // Inline styles and a print stylesheet.
    assert!(html.contains("<style>") && html.contains("@media print"));
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn section<'a>(doc: &'a Html, id: &str) -> ElementRef<'a> {
    doc.select(&sel(&format!("#{id}")))
        .next()
        .unwrap_or_else(|| panic!("no section #{id}"))
}

fn text(e: ElementRef) -> String {
    e.text().collect::<String>()
}

/// The cells of a table's rows (th and td), skipping the header row.
fn rows(e: ElementRef) -> Vec<Vec<String>> {
    e.select(&sel("tr"))
        .skip(1)
        .map(|tr| {
            tr.select(&sel("th, td"))
                .map(|c| text(c).trim().to_string())
                .collect()
        })
        .collect()
}

/// The confusion matrix's counts, rows true class, columns predicted.
fn confusion(doc: &Html) -> Vec<Vec<u64>> {
    let table = section(doc, "confusion")
        .select(&sel("table.cm"))
        .next()
        .expect("a confusion table");
    table
        .select(&sel("tr"))
        .skip(1)
        .map(|tr| {
            tr.select(&sel("td.cell"))
                .map(|c| text(c).trim().parse().unwrap())
                .collect()
        })
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_classification_run_has_every_part_with_its_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let out = run_in(
        dir.path(),
        &[
            "--data",
            &iris,
            "--val-frac",
            "0.2",
            "--patience",
            "5",
            "--epochs",
            "300",
            "--hidden",
            "16",
            "--lambda",
            "0.001",
            "--seed",
            "7",
            "--min-accuracy",
            "0.5",
            "--max-loss",
            "0.000001",
            "--report",
            "r.html",
            "--json",
            "--quiet",
        ],
    );
    // --max-loss fails (exit 8), and the report is still written, with both verdicts.
    assert_eq!(
        out.status.code(),
        Some(8),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let html = read(&dir.path().join("r.html"));
    assert_well_formed(&html);
    assert_self_contained(&html);
    let doc = Html::parse_document(&html);
    for id in [
        "summary",
        "command",
        "metrics",
        "gates",
        "curves",
        "confusion",
        "per-class",
        "graph",
        "explain",
    ] {
        section(&doc, id);
    }
    assert!(doc.select(&sel("#folds")).next().is_none());
    assert!(doc.select(&sel("#regression")).next().is_none());

    // Header: model, hyperparameters, epochs run of asked, seed.
    let summary = text(section(&doc, "summary"));
    for want in [
        "iris.csv (150 rows)",
        "5→16→3",
        "relu",
        "softmax",
        "f32",
        "0.001",
        "setosa, versicolor, virginica",
        "sepal_length",
        "samples/s",
    ] {
        assert!(summary.contains(want), "summary lacks {want:?}: {summary}");
    }
    let epochs = json["epochs"].as_u64().unwrap();
    let best = json["best_epoch"].as_u64().unwrap();
    assert!(summary.contains(&format!("{epochs} of 300")), "{summary}");
    // Issue 23: early stopping is named only when patience ran out; a best epoch that is
    // the last restores nothing and is not mentioned.
    if epochs < 300 {
        assert!(
            summary.contains(&format!(
                "early stopping: no better validation L in 5 epochs; best epoch {best} restored"
            )),
            "{summary}"
        );
    } else if best < epochs {
        assert!(
            summary.contains(&format!(
                "patience never ran out; best validation L at epoch {best}, restored"
            )),
            "{summary}"
        );
    } else {
        assert!(
            !summary.contains("early stopping") && !summary.contains("restored"),
            "{summary}"
        );
    }
    // The command line, shell-quoted, as run.
    let command = text(section(&doc, "command"));
    assert!(command.contains("--report r.html") && command.contains("--seed 7"));
    assert!(command.contains(&iris), "{command}");

    // The table per set agrees with --json.
    let m = rows(section(&doc, "metrics"));
    assert_eq!(m.len(), 2, "train and validation: {m:?}");
    assert_eq!(m[1][0], "validation");
    assert_eq!(
        m[1][2],
        mlp_train::show::html::num(json["val_loss"].as_f64().unwrap())
    );
    assert_eq!(
        m[1][5],
        format!("{:.2}%", 100.0 * json["val_accuracy"].as_f64().unwrap())
    );

    // Gates with verdicts.
    let gates = rows(section(&doc, "gates"));
    assert_eq!(gates.len(), 2);
    assert!(gates[0][0].starts_with("--min-accuracy") && gates[0][4] == "pass");
    assert!(gates[1][0].starts_with("--max-loss") && gates[1][4] == "FAIL");

    // Curves: one point per epoch in J train, the best epoch marked.
    let curves = section(&doc, "curves");
    assert_eq!(curves.select(&sel("svg")).count(), 2);
    let first_line = curves.select(&sel("polyline")).next().unwrap();
    let points = first_line.value().attr("points").unwrap();
    assert_eq!(points.split_whitespace().count() as u64, epochs);
    assert_eq!(
        text(curves).contains(&format!("best epoch {best} (restored)")),
        best < epochs,
        "the best epoch is marked when its weights replaced the last ones"
    );
    assert!(text(curves).contains("right axis"), "s on its own scale");

    // The confusion matrix is on the validation set: its diagonal is the accuracy.
    let cm = confusion(&doc);
    assert_eq!(cm.len(), 3);
    let n: u64 = cm.iter().flatten().sum();
    let right: u64 = (0..3).map(|k| cm[k][k]).sum();
    assert_eq!(n, 30);
    let acc = json["val_accuracy"].as_f64().unwrap();
    assert!(
        (right as f64 / n as f64 - acc).abs() < 1e-9,
        "{right}/{n} vs {acc}"
    );
    let per_class = rows(section(&doc, "per-class"));
    assert_eq!(per_class.len(), 3);
    assert_eq!(per_class[0][0], "setosa");
    let support: u64 = per_class.iter().map(|r| r[4].parse::<u64>().unwrap()).sum();
    assert_eq!(support, 30);

    // The graph: ten nodes with this model's shapes.
    let graph = section(&doc, "graph");
    assert_eq!(graph.select(&sel("g.node")).count(), 10);
    let g = text(graph);
    assert!(
        g.contains("16×5") && g.contains("3×16") && g.contains("class of 3"),
        "{g}"
    );

    // The explained sample: forward values and the five gradients, as `explain` prints them.
    let e = text(section(&doc, "explain"));
    for want in [
        "forward",
        "z = W1 x",
        "y = 0 (setosa)",
        "∂J/∂o = ∂L/∂o",
        "∂J/∂W2 = ∂J/∂o hᵀ + λW2",
        "∂J/∂h = W2ᵀ ∂J/∂o",
        "∂J/∂z = ∂J/∂h ⊙ φ'(z)",
        "∂J/∂W1 = ∂J/∂z xᵀ + λW1",
    ] {
        assert!(e.contains(want), "explain lacks {want:?}");
    }
}

#[test]
fn the_explained_sample_is_what_explain_prints_for_the_saved_model() {
    // In both precisions: an f32 model is explained in f32, by the page as by `explain`.
    for precision in ["f64", "f32"] {
        let dir = tempfile::tempdir().unwrap();
        let iris = data("iris.csv");
        ok_stdout(&run_in(
            dir.path(),
            &[
                "--data",
                &iris,
                "--epochs",
                "20",
                "--precision",
                precision,
                "--lambda",
                "0.01",
                "--save",
                "m.json",
                "--report",
                "r.html",
                "--quiet",
            ],
        ));
        let explained = ok_stdout(&run_in(
            dir.path(),
            // λ, φ, ℓ and the precision come from the model file.
            &[
                "explain", "--model", "m.json", "--data", &iris, "--row", "0",
            ],
        ));
        assert!(explained.contains(&format!("the precision ({precision})")));
        let doc = Html::parse_document(&read(&dir.path().join("r.html")));
        let pre = text(section(&doc, "explain").select(&sel("pre")).next().unwrap());
        assert_eq!(pre, explained, "{precision}");
    }
}

#[test]
fn a_regression_run_shows_predicted_against_actual_in_the_data_units() {
    let dir = tempfile::tempdir().unwrap();
    let reg = data("regression.csv");
    let out = run_in(
        dir.path(),
        &[
            "--data",
            &reg,
            "--task",
            "regress",
            "--val-frac",
            "0.25",
            "--epochs",
            "30",
            "--lr",
            "0.05",
            "--min-r2",
            "0.1",
            "--report",
            "r.html",
            "--json",
            "--quiet",
        ],
    );
    let json: Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    let html = read(&dir.path().join("r.html"));
    assert_well_formed(&html);
    assert_self_contained(&html);
    let doc = Html::parse_document(&html);
    for id in [
        "summary",
        "command",
        "metrics",
        "gates",
        "curves",
        "regression",
        "graph",
        "explain",
    ] {
        section(&doc, id);
    }
    assert!(doc.select(&sel("#confusion")).next().is_none());
    let r = section(&doc, "regression");
    let t = text(r);
    let num = mlp_train::show::html::num;
    assert!(
        t.contains(&format!("RMSE {}", num(json["val_rmse"].as_f64().unwrap()))),
        "{t}"
    );
    assert!(
        t.contains(&format!("MAE {}", num(json["val_mae"].as_f64().unwrap()))),
        "{t}"
    );
    assert!(
        t.contains(&format!("R² {:.4}", json["val_r2"].as_f64().unwrap())),
        "{t}"
    );
    // Two charts for the one target: the scatter with its diagonal, the residuals with 0.
    let svgs: Vec<_> = r.select(&sel("svg")).collect();
    assert_eq!(svgs.len(), 2);
    let val_rows = rows(section(&doc, "metrics"))[1][1]
        .parse::<usize>()
        .unwrap();
    assert!(
        (100..=120).contains(&val_rows),
        "a quarter of 442: {val_rows}"
    );
    for s in &svgs {
        assert_eq!(s.select(&sel("circle")).count(), val_rows);
        assert_eq!(s.select(&sel("line.reference")).count(), 1);
    }
    assert!(t.contains("predicted progression") && t.contains("actual progression"));
    // In the data's units: the target is in the tens to hundreds, not standardized.
    let ticks: Vec<f64> = svgs[0]
        .select(&sel("text"))
        .filter_map(|x| text(x).parse().ok())
        .collect();
    assert!(ticks.iter().any(|&v| v >= 200.0), "{ticks:?}");
    assert!(text(section(&doc, "summary")).contains("1: progression"));
    let metrics_head = text(section(&doc, "metrics").select(&sel("tr")).next().unwrap());
    assert!(metrics_head.contains("RMSE") && metrics_head.contains("R²"));
    let gates = rows(section(&doc, "gates"));
    assert_eq!(gates[0][4], "pass");
}

#[test]
fn a_cross_validation_has_the_folds_with_mean_and_sd() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let out = run_in(
        dir.path(),
        &[
            "--data", &iris, "--cv", "4", "--epochs", "15", "--report", "cv.html", "--json",
            "--quiet",
        ],
    );
    let json: Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    let html = read(&dir.path().join("cv.html"));
    assert_well_formed(&html);
    assert_self_contained(&html);
    let doc = Html::parse_document(&html);
    for id in [
        "summary",
        "command",
        "folds",
        "confusion",
        "per-class",
        "graph",
        "explain",
    ] {
        section(&doc, id);
    }
    let folds = rows(section(&doc, "folds"));
    assert_eq!(folds.len(), 5, "4 folds and the mean: {folds:?}");
    let cv = &json["cv"];
    for (i, f) in cv["folds"].as_array().unwrap().iter().enumerate() {
        assert_eq!(folds[i][0], format!("{}/4", i + 1));
        assert_eq!(
            folds[i][3],
            format!("{:.2}%", 100.0 * f["metric"].as_f64().unwrap())
        );
    }
    assert_eq!(folds[4][0], "mean");
    assert_eq!(
        folds[4][3],
        format!(
            "{:.2}% ± {:.2}%",
            100.0 * cv["mean"].as_f64().unwrap(),
            100.0 * cv["std"].as_f64().unwrap()
        )
    );
    // Out-of-fold predictions pooled: every row once; the diagonal is the rows' accuracy.
    let cm = confusion(&doc);
    assert_eq!(cm.iter().flatten().sum::<u64>(), 150);
    let right: u64 = (0..3).map(|k| cm[k][k]).sum();
    let folds_right: f64 = cv["folds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["metric"].as_f64().unwrap() * f["rows"].as_f64().unwrap())
        .sum();
    assert_eq!(right as f64, folds_right.round());
}

#[test]
fn predict_and_eval_report_on_labelled_data() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    ok_stdout(&run_in(
        dir.path(),
        &[
            "--data", &iris, "--epochs", "30", "--save", "m.json", "--quiet",
        ],
    ));
    let out = run_in(
        dir.path(),
        &[
            "eval", "--model", "m.json", "--data", &iris, "--out", "p.csv", "--json", "--report",
            "e.html",
        ],
    );
    let json: Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    let html = read(&dir.path().join("e.html"));
    assert_well_formed(&html);
    assert_self_contained(&html);
    let doc = Html::parse_document(&html);
    for id in [
        "summary",
        "command",
        "metrics",
        "confusion",
        "per-class",
        "graph",
        "explain",
    ] {
        section(&doc, id);
    }
    assert!(
        doc.select(&sel("#curves")).next().is_none(),
        "no history in a model file"
    );
    let want: Vec<Vec<u64>> = serde_json::from_value(json["confusion"].clone()).unwrap();
    assert_eq!(confusion(&doc), want);
    let m = rows(section(&doc, "metrics"));
    assert_eq!(
        m[0][5],
        format!("{:.2}%", 100.0 * json["accuracy"].as_f64().unwrap())
    );
    assert!(text(section(&doc, "summary")).contains("m.json"));
}

/// eval --weight-column --report: the page's metrics are the report's, weighted as it
/// weighs them (not the rows' plain mean), and its head says so; a category unseen in
/// training is noted at the page's top as in the report.
#[test]
fn an_eval_page_weighs_its_metrics_and_notes_unseen_categories_as_the_report_does() {
    let dir = tempfile::tempdir().unwrap();
    let churn = data("churn.csv");
    let encode = ["--categorical", "plan,region", "--impute", "median"];
    ok_stdout(&run_in(
        dir.path(),
        &[
            &[
                "--data",
                &churn,
                "--ignore",
                "id",
                "--weight-column",
                "weight",
            ][..],
            &encode[..],
            &["--epochs", "20", "--save", "m.json", "--quiet"][..],
        ]
        .concat(),
    ));
    let eval = |file: &str, weighted: bool, page: &str| {
        let mut args = vec!["eval", "--model", "m.json", "--data", file, "--json"];
        if weighted {
            args.extend(["--weight-column", "weight"]);
        }
        args.extend(["--report", page]);
        let out = run_in(dir.path(), &args);
        let json: Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
        let html = read(&dir.path().join(page));
        assert_well_formed(&html);
        (json, Html::parse_document(&html), common::stderr(&out))
    };
    let metrics = |doc: &Html| rows(section(doc, "metrics"));
    let head = |doc: &Html| -> Vec<String> {
        section(doc, "metrics")
            .select(&sel("th"))
            .map(|e| e.text().collect())
            .collect()
    };
    let percent = |v: &Value| format!("{:.2}%", 100.0 * v.as_f64().unwrap());

    let (weighted, doc, _) = eval(&churn, true, "w.html");
    assert_eq!(metrics(&doc)[0][5], percent(&weighted["accuracy"]));
    assert!(
        head(&doc)[5].contains("weighted by column `weight`"),
        "{:?}",
        head(&doc)
    );
    let (plain, plain_doc, _) = eval(&churn, false, "p.html");
    assert_eq!(metrics(&plain_doc)[0][5], percent(&plain["accuracy"]));
    assert_eq!(head(&plain_doc)[5], "accuracy");
    // The two differ, so the first page did weigh.
    assert_ne!(percent(&weighted["accuracy"]), percent(&plain["accuracy"]));

    // `pro` renamed `enterprise` in the file evaluated: never seen in training.
    let text = std::fs::read_to_string(&churn)
        .unwrap()
        .replace(",pro,", ",enterprise,");
    let unseen = dir.path().join("unseen.csv");
    std::fs::write(&unseen, text).unwrap();
    let (_, doc, err) = eval(unseen.to_str().unwrap(), true, "u.html");
    let notes: Vec<String> = doc
        .select(&sel("p.note"))
        .map(|e| e.text().collect())
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("unseen categories: "), "{notes:?}");
    assert!(notes[0].contains("plan: enterprise"), "{notes:?}");
    assert!(
        err.contains(&notes[0]["unseen categories: ".len()..]),
        "{err}"
    );
    let (_, doc, _) = eval(&churn, true, "none.html");
    assert!(doc.select(&sel("p.note")).next().is_none());
}

/// eval --weight-column on a regression: the page's RMSE, MAE and R² are the weighted ones
/// of the report.
#[test]
fn an_eval_page_of_a_regression_weighs_its_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(data("regression.csv")).unwrap();
    let mut lines = text.lines();
    let mut csv = format!("{},w\n", lines.next().unwrap());
    for (i, l) in lines.enumerate() {
        csv.push_str(&format!("{l},{}\n", 1 + (i * 7) % 4));
    }
    std::fs::write(dir.path().join("r.csv"), csv).unwrap();
    ok_stdout(&run_in(
        dir.path(),
        &[
            "--data",
            "r.csv",
            "--task",
            "regress",
            "--label",
            "progression",
            "--weight-column",
            "w",
            "--epochs",
            "30",
            "--save",
            "m.json",
            "--quiet",
        ],
    ));
    let eval = |weighted: bool| {
        let mut args = vec!["eval", "--model", "m.json", "--data", "r.csv", "--json"];
        if weighted {
            args.extend(["--weight-column", "w"]);
        }
        args.extend(["--report", "e.html"]);
        let json: Value = serde_json::from_str(&ok_stdout(&run_in(dir.path(), &args))).unwrap();
        let doc = Html::parse_document(&read(&dir.path().join("e.html")));
        (json, rows(section(&doc, "metrics"))[0].clone())
    };
    let close = |cell: &str, v: &Value| {
        let (a, b) = (cell.parse::<f64>().unwrap(), v.as_f64().unwrap());
        (a - b).abs() <= 1e-4 * b.abs().max(1e-9)
    };
    let (weighted, row) = eval(true);
    let (plain, plain_row) = eval(false);
    for (at, key) in [(5, "rmse"), (6, "mae"), (7, "r2")] {
        assert!(
            close(&row[at], &weighted[key]),
            "{key}: {} vs {}",
            row[at],
            weighted[key]
        );
        assert!(
            close(&plain_row[at], &plain[key]),
            "{key}: {}",
            plain_row[at]
        );
    }
    // Weighted and plain differ by more than the check's tolerance.
    assert!(
        !close(&row[5], &plain["rmse"]),
        "{} vs {}",
        row[5],
        plain["rmse"]
    );
}

#[test]
fn predict_report_needs_labels_and_writes_nothing_without() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    ok_stdout(&run_in(
        dir.path(),
        &[
            "--data", &iris, "--epochs", "5", "--save", "m.json", "--quiet",
        ],
    ));
    let unlabelled: String = read(Path::new(&iris))
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    std::fs::write(dir.path().join("x.csv"), unlabelled).unwrap();
    let out = run_in(
        dir.path(),
        &[
            "predict", "--model", "m.json", "--data", "x.csv", "--report", "r.html",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--report") && err.contains("species") && err.contains("x.csv"),
        "{err}"
    );
    assert!(!dir.path().join("r.html").exists());
    // `--report -` needs --out: stdout cannot hold both.
    let out = run_in(
        dir.path(),
        &[
            "predict", "--model", "m.json", "--data", &iris, "--report", "-",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out"));
}

#[test]
fn dash_writes_the_page_to_stdout_and_the_summary_to_stderr() {
    let out = run(&["--data", &data("xor.csv"), "--epochs", "5", "--report", "-"]);
    let html = ok_stdout(&out);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_well_formed(&html);
    assert!(String::from_utf8_lossy(&out.stderr).contains("rows"));
    // With --json, both would want stdout.
    let out = run(&["--data", &data("xor.csv"), "--report", "-", "--json"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn user_strings_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("\"a<b\",\"c&d\",\"class\"\n");
    for i in 0..40 {
        let label = if i % 2 == 0 {
            "<i>x</i>"
        } else {
            "\"q\" & 'r'"
        };
        csv.push_str(&format!(
            "{},{},\"{}\"\n",
            i % 7,
            i % 3,
            label.replace('"', "\"\"")
        ));
    }
    let name = "we<ird>&.csv";
    std::fs::write(dir.path().join(name), csv).unwrap();
    ok_stdout(&run_in(
        dir.path(),
        &[
            "--data", name, "--epochs", "3", "--report", "r.html", "--quiet",
        ],
    ));
    let html = read(&dir.path().join("r.html"));
    assert_well_formed(&html);
    assert!(!html.contains("<i>x</i>") && !html.contains("we<ird>"));
    assert!(html.contains("we&lt;ird&gt;&amp;.csv"));
    assert!(html.contains("&lt;i&gt;x&lt;/i&gt;"));
    assert!(html.contains("&quot;q&quot; &amp; &#39;r&#39;"));
    assert!(html.contains("a&lt;b") && html.contains("c&amp;d"));
    let doc = Html::parse_document(&html);
    let heads: Vec<String> = section(&doc, "confusion")
        .select(&sel("table.cm tr th"))
        .map(text)
        .collect();
    assert!(heads.contains(&"<i>x</i>".to_string()), "{heads:?}");
}

#[test]
fn the_checks_can_fail() {
    assert!(balanced("<div><span></div>").is_err());
    assert!(balanced("<section><p>x</p>").is_err());
    assert!(balanced("<p>a < b</p>").is_err());
    assert!(balanced("<svg><line x1=\"0\"/></svg><meta charset=\"utf-8\">").is_ok());
    assert!(!Html::parse_document("<!DOCTYPE html><p></div>")
        .errors
        .is_empty());
}

/// The Chromium program, or why there is none.
fn chromium() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Ok(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(
        "no chromium, chromium-browser or google-chrome on PATH, and $CHROMIUM unset; \
         `apt-get install --no-install-recommends chromium`, or run .ci/run which installs it"
            .into(),
    )
}

/// Runs headless Chromium on `url` with `extra` flags, killed after two minutes.
fn headless(program: &Path, profile: &Path, extra: &[&str], url: &str) -> Output {
    let mut child = Command::new(program)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn chromium_loads_the_page_and_draws_it() {
    let program = match chromium() {
        Ok(p) => p,
        Err(why) => {
            // Straight to stderr: libtest captures eprintln! of a passing test, not this.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "\n*** SKIPPED: chromium not installed ({why}) ***\n"
            );
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    ok_stdout(&run_in(
        dir.path(),
        &[
            "--data",
            &data("iris.csv"),
            "--val-frac",
            "0.2",
            "--epochs",
            "40",
            "--report",
            "r.html",
            "--quiet",
        ],
    ));
    let page = dir.path().join("r.html");
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("profile");

    // The DOM as the browser built it: every section, the SVG charts, the matrix.
    let out = headless(&program, &profile, &["--dump-dom"], &url);
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        dom.contains("</html>"),
        "chromium printed no DOM; stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = Html::parse_document(&dom);
    for id in [
        "summary",
        "metrics",
        "curves",
        "confusion",
        "graph",
        "explain",
    ] {
        section(&doc, id);
    }
    assert!(doc.select(&sel("#curves svg polyline")).count() >= 4);
    assert_eq!(doc.select(&sel("#graph g.node")).count(), 10);

    // A screenshot that is not blank: many distinct shades, far from a flat page.
    let png_path = dir.path().join("shot.png");
    let shot = format!("--screenshot={}", png_path.display());
    let out = headless(
        &program,
        &profile,
        &[&shot, "--window-size=1200,1600"],
        &url,
    );
    assert!(
        png_path.exists(),
        "no screenshot; stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1200, 1600));
    let channels = info.color_type.samples();
    let luma: Vec<f64> = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| {
            (p[0] as f64 + p[1.min(channels - 1)] as f64 + p[2.min(channels - 1)] as f64) / 3.0
        })
        .collect();
    let mean = luma.iter().sum::<f64>() / luma.len() as f64;
    let var = luma.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / luma.len() as f64;
    let inked = luma.iter().filter(|&&v| v < 200.0).count() as f64 / luma.len() as f64;
    assert!(var > 100.0, "the screenshot is nearly flat: variance {var}");
    assert!(
        inked > 0.01,
        "only {:.3}% of the pixels are dark",
        100.0 * inked
    );

    // Printed: the print stylesheet gives a PDF of several pages.
    let pdf_path = dir.path().join("page.pdf");
    let pdf = format!("--print-to-pdf={}", pdf_path.display());
    let out = headless(&program, &profile, &["--no-pdf-header-footer", &pdf], &url);
    let bytes = std::fs::read(&pdf_path).unwrap_or_else(|e| {
        panic!(
            "no PDF ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(bytes.starts_with(b"%PDF"));
    let pages = bytes.windows(10).filter(|w| w == b"/Type /Pag").count()
        + bytes.windows(9).filter(|w| w == b"/Type/Pag").count();
    assert!(
        pages >= 2,
        "{pages} page objects in a {} byte PDF",
        bytes.len()
    );
}

#[test]
fn the_report_never_replaces_an_input_and_fails_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let iris = read(Path::new(&data("iris.csv")));
    std::fs::write(dir.path().join("i.csv"), &iris).unwrap();
    let out = run_in(
        dir.path(),
        &["--data", "i.csv", "--report", "./i.csv", "-q"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--report") && err.contains("--data"), "{err}");
    assert_eq!(read(&dir.path().join("i.csv")), iris);
    // An unwritable place is refused before any training (no model saved).
    let out = run_in(
        dir.path(),
        &[
            "--data",
            "i.csv",
            "--save",
            "m.json",
            "--report",
            "no/such/dir/r.html",
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir/r.html"));
    assert!(!dir.path().join("m.json").exists());
    // A bad data file: exit 3 and no page.
    std::fs::write(dir.path().join("bad.csv"), "a,b,y\n1,x,0\n").unwrap();
    let out = run_in(
        dir.path(),
        &["--data", "bad.csv", "--report", "r.html", "-q"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(!dir.path().join("r.html").exists());
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 2, "only i.csv and bad.csv: {names:?}");
}

#[test]
fn the_readme_ci_step_writes_the_report_it_uploads() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains(
        "--log iris-log.csv --json \\\n        --report iris-report.html > iris.json.summary"
    ));
    assert!(readme.contains("uses: actions/upload-artifact@v4"));
    assert!(readme.contains("path: iris-report.html"));
    assert!(readme.contains("![a training report on digits](docs/report.png)"));
    assert!(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/report.png")).is_file());
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &[
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
            "iris.json",
            "--log",
            "iris-log.csv",
            "--json",
            "--report",
            "iris-report.html",
        ],
    );
    let v: Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert!(v["val_accuracy"].as_f64().unwrap() >= 0.9);
    let html = read(&dir.path().join("iris-report.html"));
    assert_well_formed(&html);
    let doc = Html::parse_document(&html);
    let gates = rows(section(&doc, "gates"));
    assert_eq!(gates.len(), 2);
    assert!(gates.iter().all(|g| g[4] == "pass"), "{gates:?}");
}

#[test]
fn the_confusion_matrix_is_on_the_test_set_when_there_is_one() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let out = run_in(
        dir.path(),
        &[
            "--data",
            &iris,
            "--test",
            &iris,
            "--val-frac",
            "0.2",
            "--epochs",
            "20",
            "--report",
            "r.html",
            "--json",
            "--quiet",
        ],
    );
    let json: Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    let doc = Html::parse_document(&read(&dir.path().join("r.html")));
    let cm = confusion(&doc);
    let n: u64 = cm.iter().flatten().sum();
    assert_eq!(n, 150);
    let right: u64 = (0..3).map(|k| cm[k][k]).sum();
    let acc = json["test_accuracy"].as_f64().unwrap();
    assert!((right as f64 / 150.0 - acc).abs() < 1e-9);
    assert!(text(section(&doc, "confusion")).contains("test set (150 rows)"));
    let sets: Vec<String> = rows(section(&doc, "metrics"))
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(sets, ["train", "validation", "test"]);
    assert!(text(section(&doc, "summary")).contains("test data"));
}

#[test]
fn several_targets_get_a_scatter_each() {
    let dir = tempfile::tempdir().unwrap();
    ok_stdout(&run_in(
        dir.path(),
        &[
            "--data",
            &data("regression.csv"),
            "--task",
            "regress",
            "--label",
            "bmi,progression",
            "--epochs",
            "10",
            "--report",
            "r.html",
            "--quiet",
        ],
    ));
    let html = read(&dir.path().join("r.html"));
    assert_well_formed(&html);
    let doc = Html::parse_document(&html);
    let r = section(&doc, "regression");
    assert_eq!(r.select(&sel("svg")).count(), 4);
    let t = text(r);
    assert!(t.contains("actual bmi") && t.contains("actual progression"));
    for s in r.select(&sel("svg")) {
        assert_eq!(s.select(&sel("circle")).count(), 442);
    }
    assert!(text(section(&doc, "summary")).contains("2: bmi, progression"));
}

#[test]
fn predict_from_stdin_reports_with_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let model = dir.path().join("m.json");
    let page = dir.path().join("r.html");
    let out_csv = dir.path().join("p.csv");
    ok_stdout(&run(&[
        "--data",
        &iris,
        "--epochs",
        "5",
        "--save",
        model.to_str().unwrap(),
        "--quiet",
    ]));
    let out = common::run_stdin(
        &[
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--data",
            "-",
            "--out",
            out_csv.to_str().unwrap(),
            "--report",
            page.to_str().unwrap(),
        ],
        read(Path::new(&iris)).as_bytes(),
    );
    ok_stdout(&out);
    let html = read(&page);
    assert_well_formed(&html);
    let doc = Html::parse_document(&html);
    assert_eq!(confusion(&doc).iter().flatten().sum::<u64>(), 150);
    // The data is read once: its first row is explained from that same read.
    let explained = text(section(&doc, "explain"));
    assert!(
        explained.contains("sample: row 0 of <stdin>"),
        "{explained}"
    );
    assert!(
        explained.contains("raw x  (4) = [5.1, 3.5, 1.4, 0.2]"),
        "{explained}"
    );
}

#[test]
fn an_interrupted_run_still_writes_its_report_and_says_so() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args([
            "--data",
            &data("digits.csv"),
            "--epochs",
            "1000000",
            "--report",
            "r.html",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Per-epoch lines on stderr (not a terminal): the first one means training has begun.
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while err.read_line(&mut line).unwrap() > 0 && !line.starts_with("epoch") {
        line.clear();
    }
    assert!(line.starts_with("epoch"), "no epoch line");
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let html = read(&dir.path().join("r.html"));
    assert_well_formed(&html);
    let doc = Html::parse_document(&html);
    let note = text(doc.select(&sel("p.note")).next().expect("a note"));
    assert!(note.contains("interrupted"), "{note}");
    assert!(text(section(&doc, "summary")).contains("of 1000000 (interrupted)"));
}

/// Raw characters a page must not hold: C0 controls but newline and tab, DEL, C1 controls,
/// bidi overrides, isolates and marks, line and paragraph separators.
fn raw_controls(html: &str) -> Vec<String> {
    html.chars()
        .filter(|&c| {
            let u = c as u32;
            (u < 0x20 && c != '\n' && c != '\t')
                || (0x7f..=0x9f).contains(&u)
                || matches!(u, 0x61c | 0x200e | 0x200f | 0x2028..=0x202e | 0x2066..=0x2069)
        })
        .map(|c| format!("U+{:04X}", c as u32))
        .collect()
}

#[test]
fn control_and_bidi_characters_are_marked_visibly_in_the_page() {
    let dir = tempfile::tempdir().unwrap();
    // Classes with ESC, NUL, CR, a bidi override and a C1 control; a feature name with ESC;
    // a file name with ESC and a bidi override (a file name cannot hold NUL).
    let classes = ["\x1b[2Ja", "b\0c", "d\re", "\u{202e}gnp.exe", "f\u{85}g"];
    let mut csv = String::from("\"x\x1b[31m1\",x2,label\n");
    for i in 0..50 {
        let k = i % 5;
        csv.push_str(&format!(
            "{},{},\"{}\"\n",
            k as f64 + (i as f64 * 0.7).sin() * 0.2,
            (k * k) as f64,
            classes[k]
        ));
    }
    let name = "d\x1b[1m\u{202e}vsc.csv";
    std::fs::write(dir.path().join(name), csv).unwrap();
    let out = run_in(
        dir.path(),
        &[
            "--data", name, "--epochs", "5", "--report", "r.html", "--quiet",
        ],
    );
    ok_stdout(&out);
    let html = read(&dir.path().join("r.html"));
    assert_well_formed(&html);
    assert_eq!(raw_controls(&html), Vec::<String>::new());
    // Marked, not dropped: ESC, NUL and CR as their control pictures, the others as U+ marks.
    let doc = Html::parse_document(&html);
    let heads: Vec<String> = section(&doc, "confusion")
        .select(&sel("table.cm tr th"))
        .map(text)
        .collect();
    for shown in ["␛[2Ja", "b␀c", "d␍e", "<U+202E>gnp.exe", "f<U+0085>g"] {
        assert!(
            heads.contains(&shown.to_string()),
            "{shown} not in {heads:?}"
        );
    }
    let summary = text(section(&doc, "summary"));
    assert!(summary.contains("x␛[31m1"), "{summary}");
    assert!(text(doc.select(&sel("title")).next().unwrap()).contains("d␛[1m<U+202E>vsc.csv"));
    // The command shows the file name as the shell reads it back.
    let command = text(section(&doc, "command"));
    assert!(
        command.contains("--data $'d\\x1b[1m\\xe2\\x80\\xaevsc.csv'"),
        "{command}"
    );
}

/// What bash makes of `word`: the bytes of the one argument it passes.
fn bash_reads(word: &str) -> Option<Vec<u8>> {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("printf '%s' {word}"))
        .output()
        .ok()?;
    Some(out.stdout)
}

#[test]
fn the_command_shows_a_name_that_is_not_utf8_as_the_shell_reads_it_back() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"x\xff it's.csv");
    std::fs::copy(data("xor.csv"), dir.path().join(name)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .arg("--data")
        .arg(name)
        .args(["--epochs", "2", "--report", "r.html", "--quiet"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    ok_stdout(&out);
    let html = read(&dir.path().join("r.html"));
    assert_well_formed(&html);
    let doc = Html::parse_document(&html);
    let command = text(section(&doc, "command"));
    let word = "$'x\\xff it\\'s.csv'";
    assert!(command.contains(&format!("--data {word} ")), "{command}");
    assert!(!command.contains('\u{fffd}'), "{command}");
    // Read back by a real shell, it is the file's name byte for byte.
    match bash_reads(word) {
        Some(bytes) => assert_eq!(bytes, name.as_bytes()),
        None => eprintln!("no bash: the read-back is not checked"),
    }
}

#[test]
fn every_quoted_word_reads_back_as_itself() {
    use mlp_train::show::html::build::shell_word;
    use std::os::unix::ffi::OsStrExt;
    let words: [&[u8]; 9] = [
        b"iris.csv",
        b"my data.csv",
        b"it's",
        b"a\nb",
        b"\x1b]0;T\x07",
        "\u{202e}gnp.exe".as_bytes(),
        "caf\u{e9} \u{85}".as_bytes(),
        b"x\xff\xfe1.csv",
        b"$HOME `x` \\ \"q\"",
    ];
    for w in words {
        let quoted = shell_word(std::ffi::OsStr::from_bytes(w));
        assert!(
            !quoted.contains(|c: char| c.is_control() || c == '\u{202e}'),
            "{quoted}"
        );
        match bash_reads(&quoted) {
            Some(bytes) => assert_eq!(bytes, w, "{quoted}"),
            None => return,
        }
    }
    assert_eq!(shell_word("my data.csv".as_ref()), "'my data.csv'");
    assert_eq!(shell_word("caf\u{e9}.csv".as_ref()), "'caf\u{e9}.csv'");
}

/// A sweep's table as `sweep` fills it: lambda × lr (4 × 3), point 7 failed, ranked.
fn sweep_table() -> mlp_train::show::sweep::SweepTable {
    use mlp_train::show::sweep::{PointStatus, SweepRow, SweepTable};
    let mut rows = Vec::new();
    for (i, l) in ["0", "1e-4", "1e-3", "1e-2"].iter().enumerate() {
        for (j, r) in ["0.01", "0.1", "1"].iter().enumerate() {
            let point = i * 3 + j;
            let ok = point != 7;
            let score = 0.80 + 0.05 * j as f64 - 0.02 * i as f64 + 0.001 * point as f64;
            rows.push(SweepRow {
                rank: None,
                point,
                status: if ok {
                    PointStatus::Ok
                } else {
                    PointStatus::Failed("diverged at epoch 3 <J is not finite>".into())
                },
                score: ok.then_some(score),
                score_std: None,
                val_loss: ok.then_some(1.0 - score),
                train_metric: ok.then_some(score + 0.01),
                fit_seconds: ok.then_some(0.25),
                values: vec![l.to_string(), r.to_string()],
                warnings: Vec::new(),
            });
        }
    }
    rows.sort_by(|a, b| b.score.unwrap_or(-1.0).total_cmp(&a.score.unwrap_or(-1.0)));
    for (k, r) in rows.iter_mut().filter(|r| r.score.is_some()).enumerate() {
        r.rank = Some(k + 1);
    }
    SweepTable {
        metric: "val_accuracy".into(),
        higher_is_better: true,
        std_kind: None,
        train_metric: "train_accuracy".into(),
        axes: vec!["lambda".into(), "lr".into()],
        rows,
    }
}

#[test]
fn the_sweep_page_is_well_formed_with_its_table_and_heatmap() {
    use mlp_train::show::html::{sweep_page, Invocation, SweepPage};
    let t = sweep_table();
    let inv = Invocation {
        argv: "mlp-train sweep --grid lambda=0,1e-4,1e-3,1e-2 --grid lr=0.01,0.1,1".into(),
        cwd: "/tmp".into(),
    };
    let mut page = SweepPage::new(&t, &inv);
    page.data = Some(Path::new("iris.csv"));
    let html = sweep_page(&page);
    assert_well_formed(&html);
    assert_self_contained(&html);
    let doc = Html::parse_document(&html);
    let head: Vec<String> = section(&doc, "table")
        .select(&sel("th"))
        .map(text)
        .collect();
    assert_eq!(
        head,
        [
            "rank",
            "point",
            "val_accuracy",
            "val_loss",
            "train_accuracy",
            "seconds",
            "lambda",
            "lr",
            "status"
        ]
    );
    let table = rows(section(&doc, "table"));
    assert_eq!(table.len(), 12, "{table:?}");
    assert_eq!(
        table[0],
        ["1", "2", "0.902", "0.098", "0.912", "0.25", "0", "1", "ok"]
    );
    assert_eq!(table[11][..3], ["—", "7", "—"]);
    assert_eq!(table[11][8], "failed");
    assert_eq!(
        doc.select(&sel("#table tr.best td"))
            .map(text)
            .nth(1)
            .as_deref(),
        Some("2")
    );
    let heat = rows(section(&doc, "heatmap"));
    assert_eq!(heat.len(), 4);
    assert_eq!(heat[2][0], "1e-3");
    assert_eq!(heat[2][2], "—");
    assert_eq!(heat[0][3], "0.902");
    let cols: Vec<String> = section(&doc, "heatmap")
        .select(&sel("tr th"))
        .skip(1)
        .take(3)
        .map(text)
        .collect();
    assert_eq!(cols, ["0.01", "0.1", "1"]);
    assert!(text(section(&doc, "failed")).contains("point 7 (--lambda 1e-3 --lr 0.1): diverged"));
}

#[test]
fn chromium_draws_the_sweep_page() {
    use mlp_train::show::html::{sweep_page, Invocation, SweepPage};
    let program = match chromium() {
        Ok(p) => p,
        Err(why) => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "\n*** SKIPPED: chromium not installed ({why}) ***\n"
            );
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let t = sweep_table();
    let inv = Invocation {
        argv: "mlp-train sweep --grid lambda=0,1e-4,1e-3,1e-2 --grid lr=0.01,0.1,1".into(),
        cwd: "/tmp".into(),
    };
    let path = dir.path().join("sweep.html");
    std::fs::write(&path, sweep_page(&SweepPage::new(&t, &inv))).unwrap();
    let url = format!("file://{}", path.display());
    let profile = dir.path().join("profile");

    let out = headless(&program, &profile, &["--dump-dom"], &url);
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        dom.contains("</html>"),
        "chromium printed no DOM; stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = Html::parse_document(&dom);
    for id in [
        "summary", "best", "command", "table", "failed", "axes", "heatmap",
    ] {
        section(&doc, id);
    }
    assert_eq!(doc.select(&sel("#table tr")).count(), 13);
    assert_eq!(doc.select(&sel("#heatmap td.cell")).count(), 11);
    assert_eq!(doc.select(&sel("#axes svg")).count(), 2);
    assert_eq!(doc.select(&sel("#axes svg circle")).count(), 22);

    let png_path = dir.path().join("shot.png");
    let shot = format!("--screenshot={}", png_path.display());
    let out = headless(
        &program,
        &profile,
        &[&shot, "--window-size=1200,1600"],
        &url,
    );
    assert!(
        png_path.exists(),
        "no screenshot; stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let luma: Vec<f64> = pixels
        .iter()
        .map(|p| {
            (p[0] as f64 + p[1.min(channels - 1)] as f64 + p[2.min(channels - 1)] as f64) / 3.0
        })
        .collect();
    let mean = luma.iter().sum::<f64>() / luma.len() as f64;
    let var = luma.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / luma.len() as f64;
    assert!(var > 100.0, "the screenshot is nearly flat: variance {var}");
    // The heatmap's blue cells are drawn: many clearly blue pixels.
    let blue = pixels
        .iter()
        .filter(|p| channels >= 3 && p[2] as i32 - p[0] as i32 > 60)
        .count();
    assert!(blue > 2000, "only {blue} blue pixels");
}

/// Issue 23: the explained sample of a wide file (digits: 64 features) fits a 1280 px window
/// without a horizontal scrollbar (it scaled its font down, or wrapped): measured in
/// headless Chromium through a same-folder page that reads the report's layout.
#[test]
fn the_explained_sample_needs_no_horizontal_scrollbar_at_1280_px() {
    let program = match chromium() {
        Ok(p) => p,
        Err(why) => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "\n*** SKIPPED: chromium not installed ({why}) ***\n"
            );
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    ok_stdout(&run_in(
        dir.path(),
        &[
            "--data",
            &data("digits.csv"),
            "--epochs",
            "2",
            "--report",
            "r.html",
            "--quiet",
        ],
    ));
    std::fs::write(
        dir.path().join("probe.html"),
        "<html><body><iframe id=\"f\" src=\"r.html\" style=\"width:1280px;height:800px\"></iframe>\
         <script>document.getElementById('f').onload = function () {\
           var p = this.contentDocument.querySelector('#explain pre');\
           var out = document.createElement('p'); out.id = 'result';\
           out.textContent = p ? (p.scrollWidth + ' ' + p.clientWidth) : 'none';\
           document.body.appendChild(out); };</script></body></html>",
    )
    .unwrap();
    let url = format!("file://{}", dir.path().join("probe.html").display());
    let out = headless(
        &program,
        &dir.path().join("profile"),
        &[
            "--allow-file-access-from-files",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ],
        &url,
    );
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    let result = dom
        .split("<p id=\"result\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or_else(|| {
            panic!(
                "no measurement; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let w: Vec<u32> = result.split(' ').map(|v| v.parse().unwrap()).collect();
    assert!(
        w[0] <= w[1],
        "the sample is {} px wide in a {} px box",
        w[0],
        w[1]
    );
}
