//! Parquet, .npy and .npz through the real binary: the same table as CSV trains the same
//! model (files written here by the parquet crate and ndarray-npy, and by pyarrow and NumPy
//! when a Python has them); the format is known by content, stdin included; hostile files
//! are exit 3 naming the file and the array or column, never a panic.

mod common;
#[path = "common/tables.rs"]
mod tables;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_error, data, run, run_stdin, stderr};
use ndarray::{Array1, Array2, ShapeBuilder};
use ndarray_npy::{NpzWriter, WriteNpyExt};
#[cfg(feature = "parquet")]
use tables::parquet_files;
use tables::{read_csv, x_names, Csv};

/// Trains on `file` with `flags` and saves the model to `model`; returns the model's text.
fn train(file: &str, flags: &[&str], model: &Path) -> String {
    let mut args = vec!["--data", file, "--quiet", "--threads", "1"];
    args.extend_from_slice(flags);
    args.extend(["--save", model.to_str().unwrap()]);
    let out = run(&args);
    assert!(out.status.success(), "{file}: {}", stderr(&out));
    std::fs::read_to_string(model).unwrap()
}

/// The data file's name and raw fingerprint that a model records (identity.data).
fn identity(model: &str) -> (String, String) {
    let v: serde_json::Value = serde_json::from_str(model).unwrap();
    let d = &v["identity"]["data"];
    (
        d["file"].as_str().unwrap().to_string(),
        d["fingerprint"].as_str().unwrap().to_string(),
    )
}

/// The two model files are the same bytes but for the data file's name and the fingerprint
/// of its raw bytes (which name the file, not the table): those are swapped for the CSV
/// model's, then every byte is compared.
fn assert_same_model(csv_model: &str, other_model: &str, what: &str) {
    let (csv_file, csv_fp) = identity(csv_model);
    let (file, fp) = identity(other_model);
    assert_ne!(
        fp, csv_fp,
        "{what}: the raw bytes differ, so must the fingerprints"
    );
    let quoted = |s: &str| serde_json::to_string(s).unwrap();
    let swapped = other_model
        .replace(&quoted(&file), &quoted(&csv_file))
        .replace(&fp, &csv_fp);
    if swapped != csv_model {
        let first = swapped
            .lines()
            .zip(csv_model.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{what}: not the CSV model; first difference at line {}:\n  {}\n  {}",
            first + 1,
            swapped.lines().nth(first).unwrap_or(""),
            csv_model.lines().nth(first).unwrap_or("")
        );
    }
}

fn write_npy(path: &Path, a: &Array2<f64>) {
    a.write_npy(std::fs::File::create(path).unwrap()).unwrap();
}

/// The shipped datasets and how each is trained, for the Parquet comparison.
#[cfg(feature = "parquet")]
const CASES: &[(&str, &[&str])] = &[
    ("iris.csv", &["--epochs", "30"]),
    ("regression.csv", &["--epochs", "20", "--task", "regress"]),
    ("digits.csv", &["--epochs", "3", "--precision", "f64"]),
    (
        "churn.csv",
        &[
            "--epochs",
            "20",
            "--ignore",
            "id",
            "--weight-column",
            "weight",
            "--categorical",
            "plan,region",
            "--impute",
            "median",
        ],
    ),
];

#[cfg(feature = "parquet")]
#[test]
fn the_same_table_as_parquet_trains_the_same_model_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    for &(name, flags) in CASES {
        let csv_model = train(&data(name), flags, &dir.path().join("csv.json"));
        for zstd in [false, true] {
            let pq = dir.path().join(format!("{name}.{zstd}.parquet"));
            parquet_files::write(&read_csv(name), &pq, zstd);
            let model = train(pq.to_str().unwrap(), flags, &dir.path().join("pq.json"));
            assert_same_model(&csv_model, &model, &format!("{name} as Parquet"));
        }
    }
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_is_known_by_content_on_stdin_and_under_any_name_and_as_test_and_predict_data() {
    let dir = tempfile::tempdir().unwrap();
    let csv = read_csv("iris.csv");
    let misnamed = dir.path().join("iris.csv");
    parquet_files::write(&csv, &misnamed, false);
    let flags = ["--epochs", "30"];
    let csv_model = train(&data("iris.csv"), &flags, &dir.path().join("csv.json"));
    let model = train(
        misnamed.to_str().unwrap(),
        &flags,
        &dir.path().join("m.json"),
    );
    assert_same_model(&csv_model, &model, "Parquet named .csv");

    // Standard input: read once, the same model (its file is `-`).
    let bytes = std::fs::read(&misnamed).unwrap();
    let from_stdin = train_on_stdin(&bytes, &dir.path().join("stdin.json"));
    assert_same_model(&csv_model, &from_stdin, "Parquet on stdin");

    // Gzipped Parquet is still Parquet.
    let gz = dir.path().join("iris.parquet.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &bytes).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let model = train(gz.to_str().unwrap(), &flags, &dir.path().join("gz.json"));
    let (_, fp_plain) = identity(&from_stdin);
    let (_, fp_gz) = identity(&model);
    assert_eq!(fp_plain, fp_gz, "the fingerprint is of the gunzipped bytes");

    // --test and predict take it too, with the CSV's results.
    let model_path = dir.path().join("csv.json");
    let m = model_path.to_str().unwrap();
    let p = misnamed.to_str().unwrap();
    let predict = |file: &str| {
        let out = run(&["predict", "--model", m, "--data", file, "--proba"]);
        assert!(out.status.success(), "{}", stderr(&out));
        out.stdout
    };
    assert_eq!(predict(p), predict(&data("iris.csv")));
    let out = run(&[
        "--data",
        &data("iris.csv"),
        "--test",
        p,
        "--epochs",
        "5",
        "--json",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_nulls_are_refused_naming_the_column_unless_imputed() {
    let dir = tempfile::tempdir().unwrap();
    let pq = dir.path().join("churn.parquet");
    parquet_files::write(&read_csv("churn.csv"), &pq, false);
    let p = pq.to_str().unwrap();
    let out = run(&[
        "--data",
        p,
        "--ignore",
        "id",
        "--categorical",
        "plan,region",
        "--epochs",
        "1",
    ]);
    let line = assert_error(&out, 3, &[p, "row 12, column `age`: null"]);
    assert!(line.contains("--impute"), "{line}");
}

#[cfg(feature = "parquet")]
#[test]
fn a_parquet_column_of_another_type_is_refused_by_name_unless_ignored() {
    use arrow_array::{ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let pq = dir.path().join("dates.parquet");
    let n = 40;
    let a: ArrayRef = Arc::new(Float64Array::from_iter_values((0..n).map(|i| i as f64)));
    let day: ArrayRef = Arc::new(Date32Array::from_iter_values(0..n));
    let y: ArrayRef = Arc::new(Int64Array::from_iter_values(
        (0..n).map(|i| i64::from(i % 2)),
    ));
    let batch = RecordBatch::try_from_iter([("a", a), ("day", day), ("y", y)]).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&pq).unwrap(),
        batch.schema(),
        None,
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let p = pq.to_str().unwrap();
    let out = run(&["--data", p, "--epochs", "1"]);
    assert_error(&out, 3, &[p, "column `day`", "Date32", "--ignore day"]);
    let out = run(&["--data", p, "--epochs", "1", "--ignore", "day", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[cfg(not(feature = "parquet"))]
#[test]
fn without_the_feature_a_parquet_file_is_refused_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let pq = dir.path().join("t.parquet");
    std::fs::write(&pq, b"PAR1 whatever PAR1").unwrap();
    let p = pq.to_str().unwrap();
    let out = run(&["--data", p, "--epochs", "1"]);
    assert_error(&out, 3, &[p, "leaves Parquet out", "`parquet` feature"]);
}

#[test]
fn the_same_table_as_npy_and_npz_trains_the_same_model_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let at = |f: &str| dir.path().join(f);
    let s = |p: &PathBuf| p.to_str().unwrap().to_string();

    // regression.csv as one 2-D .npy (C and Fortran order) vs the CSV named x0…x10.
    let csv = read_csv("regression.csv");
    let d = csv.names.len();
    std::fs::write(at("reg.csv"), csv.renamed(&x_names(d))).unwrap();
    let flags = ["--epochs", "20", "--task", "regress"];
    let csv_model = train(&s(&at("reg.csv")), &flags, &at("csv.json"));
    let table = csv.numbers(0..d);
    write_npy(&at("reg.npy"), &table);
    let model = train(&s(&at("reg.npy")), &flags, &at("npy.json"));
    assert_same_model(&csv_model, &model, "regression.npy");
    let mut fortran = Array2::<f64>::zeros(table.dim().f());
    fortran.assign(&table);
    write_npy(&at("reg_f.npy"), &fortran);
    let model = train(&s(&at("reg_f.npy")), &flags, &at("npy_f.json"));
    assert_same_model(&csv_model, &model, "regression.npy in Fortran order");

    // iris as .npz: X (f64) and y (the species' index), plain and compressed, vs the CSV
    // named x0…x3,y with the same index as label.
    let csv = read_csv("iris.csv");
    let species: Vec<&str> = {
        let mut s = csv.column(4);
        s.sort();
        s.dedup();
        s
    };
    let y: Array1<i64> = csv
        .column(4)
        .iter()
        .map(|c| species.iter().position(|s| s == c).unwrap() as i64)
        .collect();
    let mut rows = csv.rows.clone();
    for (r, k) in rows.iter_mut().zip(&y) {
        r[4] = k.to_string();
    }
    let indexed = Csv {
        names: csv.names.clone(),
        rows,
    };
    let mut names = x_names(4);
    names.push("y".into());
    std::fs::write(at("iris.csv"), indexed.renamed(&names)).unwrap();
    let flags = ["--epochs", "30"];
    let csv_model = train(&s(&at("iris.csv")), &flags, &at("csv.json"));
    let x = csv.numbers(0..4);
    for compressed in [false, true] {
        let f = std::fs::File::create(at("iris.npz")).unwrap();
        let mut w = match compressed {
            true => NpzWriter::new_compressed(f),
            false => NpzWriter::new(f),
        };
        w.add_array("X", &x).unwrap();
        w.add_array("y", &y).unwrap();
        w.add_array("unused", &Array1::<f64>::zeros(3)).unwrap();
        w.finish().unwrap();
        let model = train(&s(&at("iris.npz")), &flags, &at("npz.json"));
        assert_same_model(
            &csv_model,
            &model,
            &format!("iris.npz, compressed {compressed}"),
        );
    }

    // Standard input: the .npz (a zip archive, read whole) is known by its first bytes.
    let bytes = std::fs::read(at("iris.npz")).unwrap();
    let model = train_on_stdin(&bytes, &at("stdin.json"));
    assert_same_model(&csv_model, &model, "iris.npz on stdin");

    // Other array names, chosen with --npz-x/--npz-y; the label column is named after y's.
    let mut w = NpzWriter::new(std::fs::File::create(at("named.npz")).unwrap());
    w.add_array("data", &x).unwrap();
    w.add_array("target", &y).unwrap();
    w.finish().unwrap();
    let named = s(&at("named.npz"));
    let out = run(&["--data", &named, "--epochs", "1"]);
    assert_error(
        &out,
        3,
        &[
            &named,
            "no array `X`",
            "its arrays are: data, target",
            "--npz-x",
        ],
    );
    let model = train(
        &named,
        &["--epochs", "30", "--npz-x", "data", "--npz-y", "target"],
        &at("named.json"),
    );
    let v: serde_json::Value = serde_json::from_str(&model).unwrap();
    assert_eq!(v["prep"]["labels"][0], "target");

    // predict on X alone (no y): the rows, predicted as from the CSV without its label.
    let mut w = NpzWriter::new(std::fs::File::create(at("x_only.npz")).unwrap());
    w.add_array("X", &x).unwrap();
    w.finish().unwrap();
    std::fs::write(at("x_only.csv"), {
        let only_x = Csv {
            names: x_names(4),
            rows: csv.rows.iter().map(|r| r[..4].to_vec()).collect(),
        };
        only_x.renamed(&x_names(4))
    })
    .unwrap();
    let m = s(&at("csv.json"));
    let predict = |file: &str| {
        let out = run(&["predict", "--model", &m, "--data", file]);
        assert!(out.status.success(), "{}", stderr(&out));
        out.stdout
    };
    assert_eq!(
        predict(&s(&at("x_only.npz"))),
        predict(&s(&at("x_only.csv")))
    );
    // …while training on it is refused: there is no label.
    let out = run(&["--data", &s(&at("x_only.npz")), "--epochs", "1"]);
    assert_error(
        &out,
        3,
        &["x_only.npz", "no array `y` for the labels", "--npz-y"],
    );
}

/// A .npy file with this header dictionary and these data bytes, as NumPy lays it out
/// (version 1.0, the header padded with spaces to a multiple of 64 bytes).
fn npy_bytes(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut header = dict.to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

#[test]
fn unicode_labels_in_a_npz_are_class_names_as_in_csv() {
    // y as NumPy writes strings ('<U10': UTF-32 code units, NUL-padded), by hand: ndarray-npy
    // writes no strings.
    let dir = tempfile::tempdir().unwrap();
    let csv = read_csv("iris.csv");
    let x = csv.numbers(0..4);
    let mut y = Vec::new();
    for s in csv.column(4) {
        let mut units: Vec<u32> = s.chars().map(|c| c as u32).collect();
        units.resize(10, 0);
        y.extend(units.iter().flat_map(|u| u.to_le_bytes()));
    }
    let y_npy = npy_bytes(
        &format!(
            "{{'descr': '<U10', 'fortran_order': False, 'shape': ({},), }}",
            csv.rows.len()
        ),
        &y,
    );
    let mut x_npy = Vec::new();
    x.write_npy(&mut x_npy).unwrap();
    let npz = dir.path().join("iris.npz");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&npz).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    for (name, bytes) in [("X.npy", &x_npy), ("y.npy", &y_npy)] {
        z.start_file(name, opts).unwrap();
        std::io::Write::write_all(&mut z, bytes).unwrap();
    }
    z.finish().unwrap();
    let mut names = x_names(4);
    names.push("y".into());
    let renamed = dir.path().join("iris.csv");
    std::fs::write(&renamed, csv.renamed(&names)).unwrap();
    let flags = ["--epochs", "30"];
    let csv_model = train(
        renamed.to_str().unwrap(),
        &flags,
        &dir.path().join("c.json"),
    );
    let model = train(npz.to_str().unwrap(), &flags, &dir.path().join("z.json"));
    assert_same_model(&csv_model, &model, "iris.npz with string labels");
}

#[test]
fn npy_arrays_that_are_no_table_are_refused_naming_the_array() {
    let dir = tempfile::tempdir().unwrap();
    let path = |f: &str| dir.path().join(f).to_str().unwrap().to_string();
    let f64s = |n: usize| vec![0u8; n * 8];
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        (
            "three_d.npy",
            npy_bytes(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 4), }",
                &f64s(24),
            ),
            vec!["the array has shape (2, 3, 4)", "2-D"],
        ),
        (
            "one_d.npy",
            npy_bytes(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }",
                &f64s(5),
            ),
            vec!["the array has shape (5,)"],
        ),
        (
            "objects.npy",
            npy_bytes(
                "{'descr': '|O', 'fortran_order': False, 'shape': (2, 2), }",
                &f64s(4),
            ),
            vec!["dtype `|O`", "Python objects"],
        ),
        (
            "complex.npy",
            npy_bytes(
                "{'descr': '<c16', 'fortran_order': False, 'shape': (2, 2), }",
                &f64s(8),
            ),
            vec!["dtype `<c16`"],
        ),
        (
            "short.npy",
            npy_bytes(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1000, 3), }",
                &f64s(30),
            ),
            vec!["is truncated", "(1000, 3)", "24000 bytes", "240 follow"],
        ),
        (
            "huge.npy",
            npy_bytes(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (4000000000, 4000000000), }",
                &f64s(3),
            ),
            vec!["(4000000000, 4000000000)"],
        ),
        (
            // Zero-width strings claimed from no bytes at all (found while writing
            // fuzz/fuzz_tables, replayed through it): 1e8 of them once took 12 s and 2.4 GB
            // before the table was refused.
            "no_width.npy",
            npy_bytes(
                "{'descr': '<U0', 'fortran_order': False, 'shape': (100000000, 2), }",
                &[],
            ),
            vec!["dtype `<U0`", "no characters"],
        ),
        (
            "long.npy",
            npy_bytes(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
                &f64s(5),
            ),
            vec!["8 bytes more than"],
        ),
        (
            "bad_header.npy",
            npy_bytes(
                "{'descr': '<f8', 'fortran_order': 'maybe', 'shape': (2, 2), }",
                &f64s(4),
            ),
            vec!["header that cannot be read"],
        ),
    ];
    for (name, bytes, needles) in cases {
        std::fs::write(path(name), bytes).unwrap();
        let out = run(&["--data", &path(name), "--epochs", "1"]);
        let mut all = vec![name];
        all.extend(needles);
        assert_error(&out, 3, &all);
    }

    // .npz: lengths that disagree, a 2-D y, a 3-D X.
    let npz = |name: &str, x: &[usize], y: &[usize]| {
        let mut w = NpzWriter::new(std::fs::File::create(path(name)).unwrap());
        w.add_array("X", &ndarray::ArrayD::<f64>::zeros(x)).unwrap();
        w.add_array("y", &ndarray::ArrayD::<i64>::zeros(y)).unwrap();
        w.finish().unwrap();
        path(name)
    };
    for (file, needles) in [
        (
            npz("lengths.npz", &[10, 3], &[9]),
            vec!["array `X` has 10 rows and array `y` has 9"],
        ),
        (
            npz("y2d.npz", &[10, 3], &[10, 2]),
            vec!["array `y` has shape (10, 2)", "1-D"],
        ),
        (
            npz("x3d.npz", &[10, 3, 1], &[10]),
            vec!["array `X` has shape (10, 3, 1)"],
        ),
    ] {
        let out = run(&["--data", &file, "--epochs", "1"]);
        let mut all = vec![file.as_str()];
        all.extend(needles);
        assert_error(&out, 3, &all);
    }
}

/// Runs a short training on `bytes` (written to `path`): exit 0 or 3, never a panic or an
/// abort, and an error names the file.
fn never_panics(path: &Path, bytes: &[u8], what: &str) {
    std::fs::write(path, bytes).unwrap();
    let p = path.to_str().unwrap();
    let out = run(&["--data", p, "--epochs", "1", "--quiet"]);
    let err = stderr(&out);
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{what}: exit {:?}\n{err}",
        out.status.code()
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
    if out.status.code() == Some(3) {
        assert!(err.contains(p), "{what}: the file is not named: {err}");
    }
}

/// Every cut and every tenth-byte flip of a good file.
fn hostile_copies(good: &[u8]) -> Vec<(String, Vec<u8>)> {
    let len = good.len();
    let mut out = Vec::new();
    let mut cuts = vec![
        1,
        4,
        5,
        6,
        8,
        10,
        12,
        50,
        64,
        100,
        len / 3,
        len / 2,
        len - 8,
        len - 4,
        len - 1,
    ];
    cuts.retain(|&c| c < len);
    for c in cuts {
        out.push((format!("cut at {c}"), good[..c].to_vec()));
    }
    let step = (len / 60).max(1);
    for at in (0..len).step_by(step) {
        let mut b = good.to_vec();
        b[at] ^= 0xA5;
        out.push((format!("byte {at} flipped"), b));
    }
    out
}

#[test]
fn truncated_and_flipped_npy_and_npz_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let x = read_csv("iris.csv").numbers(0..4);
    let mut npy = Vec::new();
    x.write_npy(&mut npy).unwrap();
    let mut npz = std::io::Cursor::new(Vec::new());
    {
        let mut w = NpzWriter::new_compressed(&mut npz);
        w.add_array("X", &x).unwrap();
        w.add_array("y", &Array1::<i64>::zeros(x.nrows())).unwrap();
        w.finish().unwrap();
    }
    for (good, name) in [(npy, "t.npy"), (npz.into_inner(), "t.npz")] {
        for (what, bytes) in hostile_copies(&good) {
            never_panics(&dir.path().join(name), &bytes, &format!("{name} {what}"));
        }
    }
}

#[cfg(feature = "parquet")]
#[test]
fn truncated_and_flipped_parquet_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.parquet");
    parquet_files::write(&read_csv("churn.csv"), &good, false);
    let good = std::fs::read(good).unwrap();
    for (what, bytes) in hostile_copies(&good) {
        never_panics(&dir.path().join("t.parquet"), &bytes, &what);
    }
}

/// A Python that imports pyarrow and numpy: $MLP_TRAIN_FORMATS_PYTHON, the venv .ci/run
/// makes (target/formats-venv), bench's venv, or python3 on the PATH.
fn python() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("MLP_TRAIN_FORMATS_PYTHON").map(PathBuf::from),
        Some(root.join("target/formats-venv/bin/python")),
        Some(root.join("bench/.venv/bin/python")),
        Some(PathBuf::from("python3")),
    ];
    candidates.into_iter().flatten().find(|p| {
        Command::new(p)
            .args(["-c", "import pyarrow, pyarrow.parquet, numpy"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn files_written_by_pyarrow_and_numpy_train_the_csv_model() {
    let Some(py) = python() else {
        eprintln!(
            "SKIPPED: files_written_by_pyarrow_and_numpy_train_the_csv_model: no Python with \
             pyarrow and numpy (run .ci/run, or python3 -m venv target/formats-venv && \
             target/formats-venv/bin/pip install pyarrow numpy)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/formats_check.py");
    let out = Command::new(&py)
        .args([script, &data(""), dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = String::from_utf8(out.stdout).unwrap();
    // Each line: a file Python wrote, the CSV it holds, and the training flags.
    let mut checked = 0;
    for line in listed.lines() {
        let words = shlex::split(line).unwrap();
        let (file, csv, flags) = (&words[0], &words[1], &words[2..]);
        if !cfg!(feature = "parquet") && file.ends_with(".parquet") {
            continue;
        }
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let csv_model = train(csv, &flags, &dir.path().join("csv.json"));
        let model = train(file, &flags, &dir.path().join("other.json"));
        assert_same_model(&csv_model, &model, &format!("{file} (written by Python)"));
        checked += 1;
    }
    // 4 Parquet files, 2 .npy, 3 .npz.
    let expected = if cfg!(feature = "parquet") { 9 } else { 5 };
    assert_eq!(checked, expected, "{listed}");
}

#[cfg(feature = "parquet")]
#[test]
fn a_value_the_column_copy_cannot_take_is_read_as_its_csv_field() {
    // Number columns without nulls are copied whole into x; a value that is not finite, or
    // an f64 exactly halfway between two f32 values, sends the batch through the per-field
    // path: the same error, and the same model, as the CSV file's.
    use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, a: Vec<f64>| {
        let n = a.len();
        let y: ArrayRef = Arc::new(Int64Array::from_iter_values((0..n).map(|i| (i % 2) as i64)));
        let b: ArrayRef = Arc::new(Float64Array::from_iter_values((0..n).map(|i| i as f64)));
        let a: ArrayRef = Arc::new(Float64Array::from(a));
        let batch = RecordBatch::try_from_iter([("a", a), ("b", b), ("y", y)]).unwrap();
        let path = dir.path().join(name);
        let mut w = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&path).unwrap(),
            batch.schema(),
            None,
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let mut csv = String::from("a,b,y\n");
        for i in 0..n {
            let v = batch
                .column(0)
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap()
                .value(i);
            csv += &format!("{v},{i},{}\n", i % 2);
        }
        std::fs::write(dir.path().join(format!("{name}.csv")), csv).unwrap();
        path.to_str().unwrap().to_string()
    };
    let mut a: Vec<f64> = (0..40).map(|i| f64::from(i) / 7.0).collect();
    a[5] = f64::INFINITY;
    let p = write("inf.parquet", a.clone());
    let out = run(&["--data", &p, "--epochs", "1"]);
    assert_error(
        &out,
        3,
        &[&p, "row 6, column `a`", "`inf` is not a finite number"],
    );
    // 1 + 2⁻²⁴: halfway between 1 and the next f32.
    a[5] = 1.0 + f64::powi(2.0, -24);
    let p = write("mid.parquet", a);
    let flags = ["--epochs", "20"];
    let csv_model = train(&format!("{p}.csv"), &flags, &dir.path().join("c.json"));
    let model = train(&p, &flags, &dir.path().join("p.json"));
    assert_same_model(&csv_model, &model, "a midpoint value in f32");
}

/// Trains as the equivalence tests do (30 epochs, 1 thread) on `bytes` given on standard
/// input (`--data -`), saving to `saved`; the model file's text.
fn train_on_stdin(bytes: &[u8], saved: &Path) -> String {
    let mut args = vec!["--data", "-", "--quiet", "--threads", "1", "--epochs", "30"];
    args.extend(["--save", saved.to_str().unwrap()]);
    let out = run_stdin(&args, bytes);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read_to_string(saved).unwrap()
}
