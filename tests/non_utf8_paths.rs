//! File names that are not UTF-8 (a Latin-1 `caf\xe9.csv`) or that hold a newline: every
//! flag that names a file takes them (clap used to refuse `--data` and `--test` with
//! "invalid UTF-8 was detected"), the files are read and written, and every line that shows
//! a name shows it escaped, whole, on one line.
#![cfg(unix)]

mod common;
use common::*;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::Output;

/// `dir/<bytes>`.
fn named(dir: &Path, bytes: &[u8]) -> PathBuf {
    dir.join(OsString::from_vec(bytes.to_vec()))
}

/// A copy of data/iris.csv at `to`.
fn iris_at(to: &Path) {
    std::fs::copy(data("iris.csv"), to).unwrap();
}

/// Asserts exit 0 and returns stdout and stderr as text (both must be UTF-8).
fn ok(out: &Output) -> (String, String) {
    let err = String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8");
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    let text = String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8");
    (text, err)
}

#[test]
fn a_latin1_data_test_and_save_name_trains_and_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let (csv, test, model) = (
        named(dir.path(), b"caf\xe9.csv"),
        named(dir.path(), b"t\xeast.csv"),
        named(dir.path(), b"m\xf6del.json"),
    );
    iris_at(&csv);
    iris_at(&test);

    let out = run_os(&[
        "--data".as_ref(),
        csv.as_os_str(),
        "--test".as_ref(),
        test.as_os_str(),
        "--save".as_ref(),
        model.as_os_str(),
        "--epochs".as_ref(),
        "3".as_ref(),
    ]);
    let (text, _) = ok(&out);
    assert!(model.is_file(), "the model was not written: {text}");
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("{d}/caf\\xe9.csv: 150 rows × 4 features")),
        "{text}"
    );
    assert!(
        text.contains(&format!("model saved to {d}/m\\xf6del.json\n")),
        "{text}"
    );

    // predict: the model and the data both by non-UTF-8 names, the predictions to a third.
    let preds = named(dir.path(), b"pr\xe9d.csv");
    let out = run_os(&[
        "predict".as_ref(),
        "--model".as_ref(),
        model.as_os_str(),
        "--data".as_ref(),
        test.as_os_str(),
        "--out".as_ref(),
        preds.as_os_str(),
    ]);
    let (report, _) = ok(&out);
    assert!(
        report.contains("accuracy") || report.contains("acc"),
        "{report}"
    );
    let written = std::fs::read_to_string(&preds).unwrap();
    assert_eq!(written.lines().count(), 151, "{written}");

    // explain and graph take the same names.
    let out = run_os(&[
        "explain".as_ref(),
        "--model".as_ref(),
        model.as_os_str(),
        "--data".as_ref(),
        csv.as_os_str(),
    ]);
    ok(&out);
    let out = run_os(&["graph".as_ref(), "--data".as_ref(), csv.as_os_str()]);
    ok(&out);
    let out = run_os(&[
        "gradcheck".as_ref(),
        "--data".as_ref(),
        csv.as_os_str(),
        "-q".as_ref(),
    ]);
    ok(&out);
}

#[test]
fn json_shows_a_non_utf8_name_lossily_and_stays_valid() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, model) = (
        named(dir.path(), b"caf\xe9.csv"),
        named(dir.path(), b"m\xf6del.json"),
    );
    iris_at(&csv);
    let out = run_os(&[
        "--data".as_ref(),
        csv.as_os_str(),
        "--save".as_ref(),
        model.as_os_str(),
        "--epochs".as_ref(),
        "2".as_ref(),
        "--json".as_ref(),
        "-q".as_ref(),
    ]);
    let (text, _) = ok(&out);
    let v: serde_json::Value = serde_json::from_str(&text).expect("one JSON object");
    let lossy = |p: &Path| p.to_string_lossy().into_owned();
    assert_eq!(v["data"], lossy(&csv), "{text}");
    assert_eq!(v["model"], lossy(&model), "{text}");

    // --cv too.
    let out = run_os(&[
        "--data".as_ref(),
        csv.as_os_str(),
        "--cv".as_ref(),
        "2".as_ref(),
        "--epochs".as_ref(),
        "1".as_ref(),
        "--json".as_ref(),
        "-q".as_ref(),
    ]);
    let (text, _) = ok(&out);
    let v: serde_json::Value = serde_json::from_str(&text).expect("one JSON object");
    assert_eq!(v["data"], lossy(&csv), "{text}");
}

#[test]
fn a_newline_in_a_name_gives_one_summary_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let (csv, model) = (
        dir.path().join("ok\nname.csv"),
        dir.path().join("m\u{202e}x.json"),
    );
    iris_at(&csv);
    let out = run_os(&[
        "--data".as_ref(),
        csv.as_os_str(),
        "--save".as_ref(),
        model.as_os_str(),
        "--epochs".as_ref(),
        "2".as_ref(),
    ]);
    let (text, _) = ok(&out);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("{d}/ok\\nname.csv: 150 rows × 4 features")),
        "{text}"
    );
    assert!(
        text.contains(&format!("model saved to {d}/m\\u{{202e}}x.json\n")),
        "{text}"
    );
    assert!(!text.contains('\u{202e}'), "{text}");

    // explain names the data file and the model on one line each.
    let out = run_os(&[
        "explain".as_ref(),
        "--model".as_ref(),
        model.as_os_str(),
        "--data".as_ref(),
        csv.as_os_str(),
    ]);
    let (text, _) = ok(&out);
    assert!(
        text.contains(&format!("model {d}/m\\u{{202e}}x.json: λ")),
        "{text}"
    );
    assert!(
        text.contains(&format!("\nsample: row 0 of {d}/ok\\nname.csv\n")),
        "{text}"
    );

    let out = run_os(&[
        "--data".as_ref(),
        csv.as_os_str(),
        "--cv".as_ref(),
        "2".as_ref(),
        "--epochs".as_ref(),
        "1".as_ref(),
    ]);
    let (text, _) = ok(&out);
    assert!(
        text.starts_with(&format!("{d}/ok\\nname.csv: 2-fold cross-validation")),
        "{text}"
    );
}

#[test]
fn man_dir_with_a_hostile_name_says_wrote_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let pages = named(dir.path(), b"m\xe9n\npages");
    std::fs::create_dir(&pages).unwrap();
    let out = run_os(&["man".as_ref(), "--dir".as_ref(), pages.as_os_str()]);
    let (_, err) = ok(&out);
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("wrote {d}/m\\xe9n\\npages/mlp-train")),
        "{err}"
    );
    assert!(err.lines().all(|l| l.starts_with("wrote ")), "{err}");
}
