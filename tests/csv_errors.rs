//! Malformed CSV on the real binary: every error is one line naming file, line and column,
//! whatever the line endings, the quoting or the bytes in the field; delimiters and ignored
//! columns; labels that are numbers. Each test failed on main at f2ac146.

mod common;

use common::{data, run, run_stdin, stderr};

/// A file in a fresh temporary folder.
fn file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

/// Trains one quick epoch on `path` with `extra` flags.
fn train(path: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["--data", path, "--epochs", "1", "--hidden", "2", "--quiet"];
    args.extend_from_slice(extra);
    run(&args)
}

/// Asserts exit 3 and a one-line message on stderr; returns it.
fn data_error(out: &std::process::Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(3), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.ends_with('\n'));
    err
}

#[test]
fn an_unterminated_quote_is_an_error_at_the_line_where_it_opened() {
    let dir = tempfile::tempdir().unwrap();
    let f = file(&dir, "q.csv", b"a,b,label\n1,2,x\n3,4,\"y\n5,6,x\n7,8,y\n");
    let err = data_error(&train(&f, &[]));
    assert!(
        err.contains("q.csv:3:label: a quoted field opens here and is never closed"),
        "{err}"
    );
    // Opened in the header.
    let f = file(&dir, "h.csv", b"a,\"b,label\n1,2,x\n");
    assert!(data_error(&train(&f, &[])).contains("h.csv:1:field 2: a quoted field opens here"));
    // Far into a big file, read in parallel blocks, with CRLF line ends.
    let mut big = b"a,b,label\r\n".to_vec();
    for i in 0..200_000 {
        big.extend_from_slice(format!("{i},{},c{}\r\n", i % 7, i % 3).as_bytes());
    }
    big.extend_from_slice(b"1,2,\"open\r\n3,4,x\r\n");
    let f = file(&dir, "big.csv", &big);
    let err = data_error(&train(&f, &[]));
    assert!(
        err.contains("big.csv:200002:label: a quoted field"),
        "{err}"
    );
    // An earlier bad value is reported first.
    let f = file(&dir, "e.csv", b"a,b,label\n1,zz,x\n3,4,\"y\n");
    assert!(data_error(&train(&f, &[])).contains("e.csv:2:b: `zz` is not a number"));
}

#[test]
fn errors_are_one_line_with_control_bytes_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        "c.csv",
        b"a,b,label\n1,2,x\n3,\"4\x1b[31m\nr\red\0\",y\n",
    );
    let out = train(&f, &[]);
    let err = data_error(&out);
    assert!(
        err.contains(r"c.csv:3:b: `4\x1b[31m\nr\red\0` is not a number"),
        "{err}"
    );
    assert!(!out.stderr.contains(&0x1b) && !out.stderr.contains(&0));
    // A header name with control bytes, quoted back in a message.
    let f = file(&dir, "h.csv", b"\"a\x1b]0;pwn\x07\",b,label\n1,zz,x\n");
    let err = data_error(&train(&f, &[]));
    assert!(err.contains(r"h.csv:2:b: `zz`"), "{err}");
    let f = file(&dir, "h2.csv", b"\"a\x1b\nb\",b,label\nq,1,x\n");
    let err = data_error(&train(&f, &[]));
    assert!(
        err.contains(r"h2.csv:3:a\x1b\nb: `q` is not a number"),
        "{err}"
    );
    // Bytes that are not UTF-8, and a bidirectional override.
    let f = file(&dir, "u.csv", "a,b,label\n1,\u{202e}7,x\n".as_bytes());
    assert!(data_error(&train(&f, &[])).contains(r"`\u{202e}7` is not a number"));
}

#[test]
fn a_ten_megabyte_field_gives_a_short_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"a,b,label\n1,2,x\n3,".to_vec();
    bytes.extend(std::iter::repeat_n(b'z', 10 << 20));
    bytes.extend_from_slice(b",y\n");
    let f = file(&dir, "long.csv", &bytes);
    let err = data_error(&train(&f, &[]));
    assert!(err.len() < 300, "{} bytes", err.len());
    assert!(
        err.contains(&format!("`{}…` is not a number", "z".repeat(40))),
        "{err}"
    );
    // The same as a class name never seen in training.
    let mut label = b"a,b,label\n1,2,x\n3,4,".to_vec();
    label.extend(std::iter::repeat_n(b'q', 10 << 20));
    label.push(b'\n');
    let test = file(&dir, "t.csv", &label);
    let train_file = file(&dir, "ok.csv", b"a,b,label\n1,2,x\n3,4,y\n");
    let out = train(&train_file, &["--test", &test]);
    let err = data_error(&out);
    assert!(
        err.len() < 400 && err.contains("…` was never seen in training"),
        "{err}"
    );
}

#[test]
fn every_line_ending_reports_the_right_line() {
    let dir = tempfile::tempdir().unwrap();
    for (name, eol) in [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")] {
        // Small (one stretch) and big (parallel stretches, two 4 MiB blocks); a quoted field
        // that spans lines near the start and again just before the bad value.
        for rows in [6usize, 400_000] {
            let mut text = format!("a,b,label{eol}{eol}");
            text.push_str(&format!("1,\"2\",\"x{eol}y\"{eol}"));
            for i in 0..rows {
                text.push_str(&format!("{i},{},c{}{eol}", i % 5, i % 2));
            }
            text.push_str(&format!("1,\"2\",\"x{eol}y\"{eol}"));
            text.push_str(&format!("1,oops,x{eol}2,3,y{eol}"));
            let f = file(&dir, &format!("{name}{rows}.csv"), text.as_bytes());
            let err = data_error(&train(&f, &[]));
            // header 1, blank 2, the quoted record 3-4 (its "\r\n" or "\r" inside quotes
            // counts too), rows from 5, the second quoted record on two lines.
            let want = 5 + rows + 2;
            assert!(
                err.contains(&format!(
                    "{name}{rows}.csv:{want}:b: `oops` is not a number"
                )),
                "{name} {rows}: {err}"
            );
        }
    }
}

#[test]
fn explain_reads_standard_input_once() {
    let iris = std::fs::read(data("iris.csv")).unwrap();
    let out = run_stdin(&["explain", "--data", "-", "--row", "3"], &iris);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("d = 5 inputs"), "{text}");
}

#[test]
fn two_inputs_on_standard_input_are_refused() {
    let iris = std::fs::read(data("iris.csv")).unwrap();
    for args in [
        &["--data", "-", "--test", "-"][..],
        &["--test", "-", "--epochs", "1", "--data", "-"][..],
    ] {
        let out = run_stdin(args, &iris);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("--test cannot read standard input too") && err.contains("read only once"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1);
    }
}

#[test]
fn other_delimiters_are_named_and_read() {
    let dir = tempfile::tempdir().unwrap();
    let semi = file(&dir, "s.csv", b"a;b;label\n1;2;x\n3;4;y\n5;6;x\n");
    let err = data_error(&train(&semi, &[]));
    assert!(
        err.contains("contains `;`") && err.contains("--delimiter ';'"),
        "{err}"
    );
    let tab = file(&dir, "t.tsv", b"a\tb\tlabel\n1\t2\tx\n3\t4\ty\n5\t6\tx\n");
    let err = data_error(&train(&tab, &[]));
    assert!(
        err.contains("a tab") && err.contains("--delimiter tab"),
        "{err}"
    );

    let json = |path: &str, d: &str| {
        common::train_json(&["--data", path, "--epochs", "1", "--delimiter", d])
    };
    for (path, d) in [(&semi, ";"), (&tab, "tab"), (&tab, "\t")] {
        let j = json(path, d);
        assert_eq!(j["features"], 2, "{j}");
        assert_eq!(j["inputs"], 3, "{j}");
    }
    // predict: the same hint, and the same reading with the flag.
    let model = dir.path().join("m.json").display().to_string();
    common::train_json(&[
        "--data",
        &semi,
        "--epochs",
        "1",
        "--delimiter",
        ";",
        "--save",
        &model,
    ]);
    let err = data_error(&run(&["predict", "--model", &model, "--data", &semi]));
    assert!(err.contains("--delimiter ';'"), "{err}");
    let out = run(&[
        "predict",
        "--model",
        &model,
        "--data",
        &semi,
        "--delimiter",
        ";",
    ]);
    assert_eq!(common::ok_stdout(&out).lines().count(), 4);
    // Quotes with another delimiter: a quoted `;` is text.
    let q = file(&dir, "q.csv", b"a|b|label\n1|2|\"x|y\"\n3|\"4\"|z\n");
    let j = json(&q, "|");
    assert_eq!(j["classes"], serde_json::json!(["x|y", "z"]), "{j}");
    for bad in ["ab", "\"", "é"] {
        let out = train(&semi, &["--delimiter", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains("--delimiter"));
    }
}

#[test]
fn ignored_columns_are_skipped_in_training_and_prediction() {
    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        "id.csv",
        b"id,a,note,b,label\nr1,1,red,2,x\nr2,3,blue,4,y\nr3,5,green,6,x\nr4,7,tan,8,y\n",
    );
    let err = data_error(&train(&f, &[]));
    assert!(err.contains("id.csv:2:id: `r1` is not a number"), "{err}");
    let model = dir.path().join("m.json").display().to_string();
    let j = common::train_json(&[
        "--data", &f, "--epochs", "1", "--ignore", "id,2", "--save", &model,
    ]);
    assert_eq!(j["features"], 2, "{j}");
    let out = run(&[
        "predict", "--model", &model, "--data", &f, "--ignore", "id,note",
    ]);
    let csv = common::ok_stdout(&out);
    assert_eq!(csv.lines().count(), 5, "{csv}");
    let out = run(&["explain", "--data", &f, "--ignore", "id,note"]);
    assert!(common::ok_stdout(&out).contains("d = 3 inputs"));
    // A column that is not there, and the label itself.
    let err = data_error(&train(&f, &["--ignore", "nope"]));
    assert!(
        err.contains("--ignore: no column `nope` (did you mean `note`?); the columns are: id, a"),
        "{err}"
    );
    let err = data_error(&train(&f, &["--ignore", "id,note,label"]));
    assert!(
        err.contains("column `label` is the label, and --ignore names it too"),
        "{err}"
    );
}

#[test]
fn class_names_that_are_equal_numbers_are_one_class() {
    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        "n.csv",
        b"a,b,label\n1,2,2\n3,4,2.0\n5,6,1e0\n7,8,1\n9,1,+2\n2,2,01\n",
    );
    let j = common::train_json(&["--data", &f, "--epochs", "1"]);
    assert_eq!(j["classes"], serde_json::json!(["1e0", "2"]), "{j}");
    // Predicting rows labelled with another spelling of a known class.
    let model = dir.path().join("m.json").display().to_string();
    common::train_json(&["--data", &f, "--epochs", "1", "--save", &model]);
    let t = file(&dir, "t.csv", b"a,b,label\n1,2,2.00\n5,6,1.0\n");
    let preds = dir.path().join("p.csv").display().to_string();
    let out = run(&["predict", "--model", &model, "--data", &t, "--out", &preds]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_real_valued_label_column_gets_a_warning() {
    let out = run(&[
        "--data",
        &data("regression.csv"),
        "--epochs",
        "1",
        "--quiet",
    ]);
    let err = stderr(&out);
    assert!(
        err.contains("mlp-train: warning: the label column `progression` looks real-valued (214 distinct numbers in 442 rows)")
            && err.contains("--task regress"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let f = file(&dir, "r.csv", b"a,y\n1,0.5\n2,1.5\n3,0.5\n4,1.5\n");
    // Non-integer labels are refused unless --task classify is given (tests/columns.rs).
    let err = stderr(&train(&f, &["--task", "classify"]));
    assert!(err.contains("(`0.5` is not an integer)"), "{err}");
    // Real classes: no warning, in a classification or a regression.
    for args in [
        &["--data", &data("iris.csv"), "--epochs", "1", "--quiet"][..],
        &[
            "--data",
            &data("regression.csv"),
            "--task",
            "regress",
            "--epochs",
            "1",
            "--quiet",
        ][..],
        &["--data", &data("digits.csv"), "--epochs", "1", "--quiet"][..],
    ] {
        let out = run(args);
        assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    }
}
