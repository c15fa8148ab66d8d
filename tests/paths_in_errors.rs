//! File names in error messages (issue 10): a name with a newline, an escape sequence, a bidi
//! override or bytes that are not UTF-8 is shown escaped, whole, and the message stays one line.
#![cfg(unix)]

mod common;
use common::*;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The hostile names, each with the form a message must show it in.
fn names() -> Vec<(OsString, &'static str)> {
    vec![
        (OsString::from("a\nb"), r"a\nb"),
        (OsString::from("c\x1b[31mred"), r"c\x1b[31mred"),
        (OsString::from("d\u{202e}vsc"), r"d\u{202e}vsc"),
        (OsString::from_vec(b"e\xff\xfe".to_vec()), r"e\xff\xfe"),
    ]
}

/// `dir/name + ext`, as an argument.
fn path(dir: &Path, name: &OsStr, ext: &str) -> PathBuf {
    let mut n = name.to_os_string();
    n.push(ext);
    dir.join(n)
}

/// Asserts exit `code` and stderr exactly one line with no raw control byte, no bidi control
/// and nothing that is not UTF-8, containing every one of `needles`.
fn one_clean_line(out: &Output, code: i32, needles: &[String]) {
    let raw = &out.stderr;
    let err = String::from_utf8(raw.clone())
        .unwrap_or_else(|_| panic!("stderr is not UTF-8: {}", String::from_utf8_lossy(raw)));
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(err.starts_with("mlp-train: error: "), "{err:?}");
    assert!(err.ends_with('\n'), "{err:?}");
    let body = &err[..err.len() - 1];
    assert!(
        !body.chars().any(|c| c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
        "a raw control character: {err:?}"
    );
    for n in needles {
        assert!(body.contains(n.as_str()), "`{n}` not in {err:?}");
    }
}

#[test]
fn hostile_file_names_are_shown_escaped_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let iris = data("iris.csv");
    for (name, shown) in names() {
        let (csv, json, svg) = (
            path(dir.path(), &name, ".csv"),
            path(dir.path(), &name, ".json"),
            path(dir.path(), &name, ".svg"),
        );
        let (csv_s, json_s) = (format!("{d}/{shown}.csv"), format!("{d}/{shown}.json"));

        // A file that does not exist.
        let out = run_os(&["--data".as_ref(), csv.as_os_str(), "-q".as_ref()]);
        one_clean_line(&out, 3, &[format!("{csv_s}: no such file")]);
        let out = run_os(&[
            "predict".as_ref(),
            "--model".as_ref(),
            json.as_os_str(),
            "--data".as_ref(),
            iris.as_ref(),
        ]);
        one_clean_line(&out, 4, std::slice::from_ref(&json_s));

        // A file whose content is malformed.
        std::fs::write(&csv, b"a,b,label\n1,x,y\n3,4,z\n").unwrap();
        let out = run_os(&["--data".as_ref(), csv.as_os_str(), "-q".as_ref()]);
        one_clean_line(&out, 3, &[format!("{csv_s}:2:b: `x` is not a number")]);
        std::fs::write(&json, b"{ not a model").unwrap();
        let out = run_os(&[
            "predict".as_ref(),
            "--model".as_ref(),
            json.as_os_str(),
            "--data".as_ref(),
            iris.as_ref(),
        ]);
        one_clean_line(&out, 4, std::slice::from_ref(&json_s));

        // An output that names an input, and one that cannot be written.
        let out = run_os(&[
            "--data".as_ref(),
            csv.as_os_str(),
            "--save".as_ref(),
            csv.as_os_str(),
        ]);
        one_clean_line(
            &out,
            2,
            &[format!(
                "--save must not name the file read by --data ({csv_s}), got {csv_s}"
            )],
        );
        let out = run_os(&[
            "predict".as_ref(),
            "--model".as_ref(),
            json.as_os_str(),
            "--data".as_ref(),
            iris.as_ref(),
            "--out".as_ref(),
            json.as_os_str(),
        ]);
        one_clean_line(
            &out,
            2,
            &[format!(
                "--out must not name the file read by --model ({json_s}), got {json_s}"
            )],
        );
        let inside = json.join("m.json");
        let out = run_os(&[
            "--data".as_ref(),
            iris.as_ref(),
            "--log".as_ref(),
            inside.as_os_str(),
        ]);
        one_clean_line(
            &out,
            5,
            &[format!(
                "{json_s}/m.json: cannot write --log here: {json_s} is a file, not a folder"
            )],
        );
        let out = run_os(&[
            "--data".as_ref(),
            iris.as_ref(),
            "--plot".as_ref(),
            json.as_os_str(),
            "-q".as_ref(),
        ]);
        one_clean_line(
            &out,
            2,
            &["--plot writes SVG only".to_string(), json_s.clone()],
        );
        // A folder with the name: the message shows it in every path that goes through it.
        let sub = path(dir.path(), &name, "");
        std::fs::create_dir(&sub).unwrap();
        let out = run_os(&[
            "--data".as_ref(),
            iris.as_ref(),
            "--init-from".as_ref(),
            sub.join("gone.json").as_os_str(),
            "--plot".as_ref(),
            svg.as_os_str(),
        ]);
        one_clean_line(&out, 4, &[format!("{d}/{shown}/gone.json")]);
    }
}

#[test]
fn a_long_path_is_shown_whole() {
    let dir = tempfile::tempdir().unwrap();
    // About 1,000 characters: far more than a data value (cut at 40), still a real path.
    let mut p = dir.path().to_path_buf();
    for i in 0..4 {
        p.push(format!("{i}{}", "é".repeat(120)));
    }
    std::fs::create_dir_all(&p).unwrap();
    let file = p.join("missing\n.csv");
    let out = run_os(&["--data".as_ref(), file.as_os_str(), "-q".as_ref()]);
    let whole = format!("{}/missing\\n.csv", p.display());
    one_clean_line(&out, 3, &[whole]);
    assert!(!stderr(&out).contains('…'), "{}", stderr(&out));
}

/// A flag's value that clap refuses (a number flag given text, an unknown activation, an
/// unknown flag) is quoted by clap's message: escaped like a file name, on one line. (clap
/// itself drops an ANSI escape sequence from what it quotes: `c\x1b[31mred` shows as `cred`.)
#[test]
fn hostile_flag_values_in_clap_errors_are_shown_escaped_on_one_line() {
    for (raw, shown) in names().into_iter().filter(|(n, _)| n.to_str().is_some()) {
        let shown = if shown.contains(r"\x1b[31m") {
            "cred"
        } else {
            shown
        };
        let cases: Vec<Vec<OsString>> = vec![
            vec!["--epochs".into(), raw.clone()],
            vec!["--activation".into(), raw.clone()],
            vec![{
                let mut flag = OsString::from("--x");
                flag.push(&raw);
                flag
            }],
        ];
        for args in cases {
            let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
            let out = run_os(&args);
            one_clean_line(&out, 2, &[shown.to_string()]);
        }
    }
}
