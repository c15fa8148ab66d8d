//! The README's "Real tables" example, run as written: the commands are read from the
//! README itself, so a change to either the text or the binary that breaks it fails here.

mod common;
#[path = "common/tables.rs"]
mod tables;

use std::path::Path;
use std::process::Command;

use common::{data, stderr};

/// The `sh` block of the README section headed `heading`, one command a line.
fn sh_block(heading: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with(heading))
        .unwrap_or_else(|| panic!("README has a section `{heading}`"));
    let start = section.find("```sh\n").expect("an sh block") + "```sh\n".len();
    let len = section[start..].find("```").expect("its end");
    section[start..start + len]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_real_tables_example_runs_as_written_and_predict_needs_only_model_and_data() {
    let commands = sh_block("Real tables");
    assert_eq!(commands.len(), 2, "{commands:?}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::copy(data("churn.csv"), dir.path().join("data/churn.csv")).unwrap();
    for line in &commands {
        run_as_written(line, dir.path());
    }
    // The model knows its columns, encoders and weighting.
    let model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("churn.json")).unwrap()).unwrap();
    assert_eq!(model["format_version"], 2);
    let features: Vec<&str> = model["prep"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(features.contains(&"plan=basic"), "{features:?}");
    assert!(
        !features.contains(&"weight") && !features.contains(&"id"),
        "{features:?}"
    );
    // Predictions: the id first, one row per customer, in the file's order.
    let predictions = std::fs::read_to_string(dir.path().join("churn-predictions.csv")).unwrap();
    let ids: Vec<&str> = predictions
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let source = std::fs::read_to_string(data("churn.csv")).unwrap();
    let expected: Vec<&str> = source
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids, expected);
    // And predict with nothing but --model and --data: the same labels.
    let out = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args([
            "predict",
            "--model",
            "churn.json",
            "--data",
            "data/churn.csv",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let bare: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect();
    let kept: Vec<String> = predictions
        .lines()
        .skip(1)
        .map(|l| l.split_once(',').unwrap().1.to_string())
        .collect();
    assert_eq!(bare, kept);
    assert!(
        bare.iter().any(|l| l == "left") && bare.iter().any(|l| l == "stayed"),
        "both classes predicted"
    );
}

#[test]
fn the_parquet_and_numpy_example_runs_as_written() {
    use ndarray::{Array1, Array2};
    use ndarray_npy::NpzWriter;
    let commands = sh_block("Parquet and NumPy input");
    assert_eq!(commands.len(), 5, "{commands:?}");
    let dir = tempfile::tempdir().unwrap();
    let at = |f: &str| dir.path().join(f);
    #[cfg(feature = "parquet")]
    for name in ["iris", "churn"] {
        let csv = tables::read_csv(&format!("{name}.csv"));
        tables::parquet_files::write(&csv, &at(&format!("{name}.parquet")), false);
    }
    let digits = tables::read_csv("digits.csv");
    let numbers = digits.numbers(0..65);
    let x: Array2<i64> = numbers.slice(ndarray::s![.., ..64]).mapv(|v| v as i64);
    let y: Array1<i64> = numbers.column(64).mapv(|v| v as i64);
    let mut w = NpzWriter::new(std::fs::File::create(at("digits.npz")).unwrap());
    w.add_array("X", &x).unwrap();
    w.add_array("y", &y).unwrap();
    w.finish().unwrap();
    let diabetes = tables::read_csv("regression.csv").numbers(0..11);
    let mut w = NpzWriter::new(std::fs::File::create(at("diabetes.npz")).unwrap());
    w.add_array("data", &diabetes.slice(ndarray::s![.., ..10]).to_owned())
        .unwrap();
    w.add_array("target", &diabetes.column(10).to_owned())
        .unwrap();
    w.finish().unwrap();
    for line in &commands {
        if !cfg!(feature = "parquet") && line.contains(".parquet") {
            eprintln!("SKIPPED (built without the parquet feature): {line}");
            continue;
        }
        run_as_written(line, dir.path());
    }
    let model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(at("diabetes.json")).unwrap()).unwrap();
    assert_eq!(model["prep"]["labels"][0], "target");
    assert_eq!(model["prep"]["features"][0], "x0");
    if cfg!(feature = "parquet") {
        let predictions = std::fs::read_to_string(at("iris-predictions.csv")).unwrap();
        assert_eq!(predictions.lines().count(), 151, "{predictions}");
    }
}

/// Runs one README line (`mlp-train …`, split as sh would) in `dir`; it must succeed.
fn run_as_written(line: &str, dir: &std::path::Path) {
    let words = shlex::split(line).unwrap();
    assert_eq!(words[0], "mlp-train", "{line}");
    let out = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(&words[1..])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{line}\n{}", stderr(&out));
}
