//! Issue 21, "columns belong to the model": text columns, the hint for one, columns chosen by
//! name, `--features`, `--keep`, `--no-header`, refused real-valued targets, warnings everywhere.

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// Writes `text` to `dir/name`; its path.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let p: PathBuf = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn a_text_feature_column_says_how_to_ignore_or_encode_it() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "fruit.csv",
        "weight,colour,kind\n1.5,orange,a\n2.5,green,b\n",
    );
    let out = run(&["--data", &f, "--epochs", "1"]);
    assert_error(
        &out,
        3,
        &[
            "fruit.csv:2:colour: `orange` is not a number",
            "pass --ignore colour to skip it or --categorical colour to one-hot encode it",
        ],
    );
    // And --ignore does what the hint says.
    let out = run(&[
        "--data", &f, "--epochs", "1", "--ignore", "colour", "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A classification file with an id column, a text column, the features out of order in
/// `other`: 40 rows, two classes separable by `a`.
fn fruit(dir: &Path) -> (String, String) {
    let mut train = String::from("id,a,colour,b,kind\n");
    let mut other = String::from("b,note,kind,a,id\n");
    for i in 0..40 {
        let a = if i % 2 == 0 {
            1.0 + i as f64 / 40.0
        } else {
            -1.0 - i as f64 / 40.0
        };
        let b = (i % 7) as f64 / 7.0;
        let kind = if i % 2 == 0 { "pos" } else { "neg" };
        let colour = ["red", "green", "dark, blue"][i % 3];
        train.push_str(&format!("r{i},{a},\"{colour}\",{b},{kind}\n"));
        other.push_str(&format!("{b},x{i},{kind},{a},r{i}\n"));
    }
    (
        write(dir, "fruit.csv", &train),
        write(dir, "other.csv", &other),
    )
}

#[test]
fn predict_eval_and_explain_find_the_model_columns_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (train, other) = fruit(dir.path());
    let model = dir.path().join("m.json").display().to_string();
    let report = dir.path().join("r.html").display().to_string();
    let out = run(&[
        "--data",
        &train,
        "--ignore",
        "id,colour",
        "--epochs",
        "30",
        "--save",
        &model,
        "--report",
        &report,
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The training file itself, no --ignore: the extra columns noted once, on stderr.
    let out = run(&["predict", "--model", &model, "--data", &train]);
    let csv = ok_stdout(&out);
    assert_eq!(csv.lines().count(), 41, "{csv}");
    let err = stderr(&out);
    assert_eq!(
        err.matches("the model does not use columns id, colour: ignored")
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("mlp-train: note:"), "{err}");
    // Another file, the columns in another order: the same predictions.
    let out2 = run(&["predict", "--model", &model, "--data", &other]);
    assert_eq!(ok_stdout(&out2), csv);
    let e1 = run(&["eval", "--model", &model, "--data", &train, "--json"]);
    let e2 = run(&["eval", "--model", &model, "--data", &other, "--json"]);
    let j1: serde_json::Value = serde_json::from_str(&ok_stdout(&e1)).unwrap();
    let j2: serde_json::Value = serde_json::from_str(&ok_stdout(&e2)).unwrap();
    assert_eq!(j1["accuracy"], j2["accuracy"]);
    assert!(j1["accuracy"].as_f64().unwrap() > 0.9, "{j1}");
    // --ignore still works (and silences the note for what it names).
    let out = run(&[
        "predict", "--model", &model, "--data", &train, "--ignore", "id",
    ]);
    assert_eq!(ok_stdout(&out), csv);
    assert!(stderr(&out).contains("does not use column colour: ignored"));
    // A missing feature column: exit 3, naming it.
    let missing = write(dir.path(), "missing.csv", "id,a,kind\nr1,1,pos\n");
    assert_error(
        &run(&["predict", "--model", &model, "--data", &missing]),
        3,
        &["missing.csv: the model's feature column b is not in the file"],
    );
    // The report's "paste this" explain command works as printed.
    let page = std::fs::read_to_string(&report).unwrap();
    let at = page
        .find("mlp-train explain --model")
        .expect("the page prints the command");
    let cmd: String = page[at..]
        .chars()
        .take_while(|&c| c != '`' && c != '<')
        .collect();
    let words = shlex::split(&cmd.replace("&#x27;", "'").replace("&amp;", "&")).unwrap();
    assert_eq!(words.last().map(String::as_str), Some("0"), "{cmd}");
    let args: Vec<&str> = words.iter().skip(1).map(String::as_str).collect();
    let out = run(&args);
    let text = ok_stdout(&out);
    assert!(text.contains("forward"), "{text}");
    let out = run(&["explain", "--model", &model, "--data", &other]);
    assert_eq!(ok_stdout(&out).replace("other.csv", "fruit.csv"), text);
}

#[test]
fn features_pick_the_columns_and_exclude_ignore() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = fruit(dir.path());
    let model = dir.path().join("m.json").display().to_string();
    let j = train_json(&[
        "--data",
        &train,
        "--features",
        "b,a",
        "--epochs",
        "2",
        "--save",
        &model,
    ]);
    assert_eq!(
        j["identity"]["features"],
        serde_json::json!(["b", "a"]),
        "{j}"
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(saved["prep"]["features"], serde_json::json!(["b", "a"]));
    // Both --features and --ignore: a usage error, exit 2.
    let out = run(&["--data", &train, "--features", "a", "--ignore", "id"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--features"), "{}", stderr(&out));
    // A column not there: exit 3, naming it.
    assert_error(
        &run(&["--data", &train, "--features", "a,zz", "--epochs", "1"]),
        3,
        &["--features: no column `zz`"],
    );
}

#[test]
fn predict_keeps_columns_first_in_the_order_given() {
    let dir = tempfile::tempdir().unwrap();
    let (train, other) = fruit(dir.path());
    let model = dir.path().join("m.json").display().to_string();
    let out = run(&[
        "--data",
        &train,
        "--ignore",
        "id,colour",
        "--epochs",
        "5",
        "--save",
        &model,
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plain = ok_stdout(&run(&["predict", "--model", &model, "--data", &train]));
    // Text (quoted as CSV needs), an id, and a feature the model uses, verbatim.
    let kept = ok_stdout(&run(&[
        "predict",
        "--model",
        &model,
        "--data",
        &train,
        "--keep",
        "colour,id,a",
    ]));
    let lines: Vec<&str> = kept.lines().collect();
    let plain: Vec<&str> = plain.lines().collect();
    assert_eq!(lines[0], format!("colour,id,a,{}", plain[0]));
    assert_eq!(lines[1], format!("red,r0,1,{}", plain[1]));
    assert_eq!(lines[3], format!("\"dark, blue\",r2,1.05,{}", plain[3]));
    assert_eq!(lines.len(), 41);
    // From a file where the id is the last column.
    let kept = ok_stdout(&run(&[
        "predict", "--model", &model, "--data", &other, "--keep", "id",
    ]));
    assert_eq!(kept.lines().nth(2).unwrap(), format!("r1,{}", plain[2]));
    assert_error(
        &run(&[
            "predict", "--model", &model, "--data", &train, "--keep", "nope",
        ]),
        3,
        &["--keep: no column `nope`"],
    );
}

#[test]
fn no_header_names_the_columns_field_n_and_a_numeric_header_is_noted() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!("{},{},{}\n", i % 5 + 1, (i * 7) % 11 + 20, i % 2));
    }
    let f = write(dir.path(), "bare.csv", &text);
    // Without the flag: the first row is taken as a header, and a note says so.
    let out = run(&["--data", &f, "--epochs", "1", "--quiet"]);
    assert!(
        stderr(&out).contains(
            "bare.csv: the first line looks like data (every field is a number); if the file \
             has no header, pass --no-header"
        ),
        "{}",
        stderr(&out)
    );
    let j = train_json(&["--data", &f, "--no-header", "--epochs", "1"]);
    assert_eq!(
        j["identity"]["features"],
        serde_json::json!(["field 1", "field 2"]),
        "{j}"
    );
    // The label by its 0-based index.
    let j = train_json(&["--data", &f, "--no-header", "--label", "0", "--epochs", "1"]);
    assert_eq!(
        j["identity"]["features"],
        serde_json::json!(["field 2", "field 3"]),
        "{j}"
    );
    // Predict with the same flag.
    let model = dir.path().join("m.json").display().to_string();
    let out = run(&[
        "--data",
        &f,
        "--no-header",
        "--epochs",
        "1",
        "--save",
        &model,
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let csv = ok_stdout(&run(&[
        "predict",
        "--model",
        &model,
        "--data",
        &f,
        "--no-header",
    ]));
    assert_eq!(csv.lines().count(), 31, "{csv}");
}

#[test]
fn gradcheck_and_graph_take_the_data_flags() {
    let dir = tempfile::tempdir().unwrap();
    let text = "id;colour;a;b;kind\nr1;red;1;2;x\nr2;blue;3;1;y\nr3;red;2;2;x\nr4;red;0;5;y\n";
    let f = write(dir.path(), "semi.csv", text);
    let out = run(&[
        "gradcheck",
        "--data",
        &f,
        "--delimiter",
        ";",
        "--ignore",
        "id,colour",
        "--json",
    ]);
    let j: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!(
        (j["d"].as_u64(), j["q"].as_u64(), j["ok"].as_bool()),
        (Some(3), Some(2), Some(true))
    );
    let out = run(&[
        "gradcheck",
        "--data",
        &f,
        "--delimiter",
        ";",
        "--features",
        "b",
        "--json",
    ]);
    let j: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!(j["d"].as_u64(), Some(2), "{j}");
    let dot = ok_stdout(&run(&[
        "graph",
        "--data",
        &f,
        "--delimiter",
        ";",
        "--ignore",
        "id,colour",
        "--hidden",
        "7",
    ]));
    assert!(
        dot.contains("7×3") || dot.contains("7x3") || dot.contains("(7, 3)"),
        "{dot}"
    );
    // Without the flags, the text column is refused with the hint.
    assert_error(
        &run(&["graph", "--data", &f, "--delimiter", ";"]),
        3,
        &["--ignore id"],
    );
}

#[test]
fn a_real_valued_label_is_refused_unless_the_task_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("area,rooms,price\n");
    for i in 0..50 {
        text.push_str(&format!("{},{},{}.5\n", 40 + i, 1 + i % 4, 100 + 3 * i));
    }
    let f = write(dir.path(), "house.csv", &text);
    let out = run(&["--data", &f, "--epochs", "1"]);
    let line = assert_error(
        &out,
        3,
        &[
            "house.csv: the label column `price` holds non-integer numbers (`100.5` on line 2",
            "--task regress",
            "--task classify",
        ],
    );
    assert!(!line.contains("epoch 1"), "{line}");
    // Explicitly classify: trains, with the warning.
    let out = run(&[
        "--data", &f, "--epochs", "1", "--task", "classify", "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("looks real-valued"),
        "{}",
        stderr(&out)
    );
    // Regression trains; integer classes are not refused.
    let j = train_json(&["--data", &f, "--epochs", "1", "--task", "regress"]);
    assert_eq!(j["task"], "regress");
    let out = run(&["--data", &data("iris.csv"), "--epochs", "1", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn every_warning_is_in_the_json_the_report_and_the_sweep_table() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("a,b,label\n");
    for i in 0..40 {
        let label = if i % 2 == 0 { "0.5" } else { "1.5" };
        text.push_str(&format!("{},{},{label}\n", i % 7, (i * 3) % 11));
    }
    let f = write(dir.path(), "fractional.csv", &text);
    let warning = "the label column `label` looks real-valued (`0.5` is not an integer)";
    let has = |v: &serde_json::Value| {
        v["warnings"]
            .as_array()
            .is_some_and(|w| w.len() == 1 && w[0].as_str().unwrap().contains(warning))
    };
    let j = train_json(&["--data", &f, "--task", "classify", "--epochs", "1"]);
    assert!(has(&j), "{j}");
    let j = train_json(&[
        "--data", &f, "--task", "classify", "--epochs", "1", "--cv", "2",
    ]);
    assert!(has(&j), "{j}");
    // None: an empty list.
    let j = train_json(&["--data", &data("iris.csv"), "--epochs", "1"]);
    assert_eq!(j["warnings"], serde_json::json!([]), "{j}");
    // The report: in the box at the top.
    let report = dir.path().join("r.html");
    let out = run(&[
        "--data",
        &f,
        "--task",
        "classify",
        "--epochs",
        "1",
        "--quiet",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = std::fs::read_to_string(&report).unwrap();
    let boxed = page
        .split("<div class=\"note\">")
        .nth(1)
        .or_else(|| page.split("class=\"note\"").nth(1))
        .expect("a note box");
    assert!(boxed.contains("looks real-valued"), "{boxed}");
    // eval --json: the column notes.
    let model = dir.path().join("m.json").display().to_string();
    let out = run(&[
        "--data", &f, "--task", "classify", "--epochs", "1", "--save", &model, "-q",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let wide = write(
        dir.path(),
        "wide.csv",
        &text.replace('\n', ",9\n").replacen(",9\n", ",extra\n", 1),
    );
    let out = run(&["eval", "--model", &model, "--data", &wide, "--json"]);
    let j: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!(
        j["warnings"][0].as_str().unwrap_or(""),
        format!("{wide}: the model does not use column extra: ignored"),
        "{j}"
    );
    // The sweep table: a warnings column.
    let runs = dir.path().join("runs");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args([
            "sweep",
            "--grid",
            "lr=0.1,0.2",
            "--runs",
            runs.to_str().unwrap(),
        ])
        .args(["--data", &f, "--task", "classify", "--epochs", "1"])
        .output()
        .unwrap();
    let csv = ok_stdout(&out);
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let at = header
        .iter()
        .position(|h| h == "warnings")
        .expect("a warnings column");
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert!(row[at].contains(warning), "{csv}");
    }
}
