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
