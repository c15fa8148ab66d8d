//! The CSV reader's tests: every error with its place, every cut of a file into blocks and
//! stretches, and property tests against the `csv` crate.

use std::path::{Path, PathBuf};

use super::frame::{load, load_with, parse, parse_blocks, parse_with, Frame, PARALLEL_MIN_BYTES};
use super::labels::Labels;
use super::layout::layout;
use super::numbers::{fast_decimal, fast_field, number};
use super::options::{LabelKind, LabelSpec, LoadOptions};
use super::records::csv_reader;
use super::rows::{parse_rows_csv, parse_rows_plain, RowLines};
use super::shown::shown;
use super::source::{gunzip_if_gzip, read_bytes, Delimiter, Source, BLOCK_BYTES};
use crate::{Real, Result};
use std::io::Write;

fn classify() -> LoadOptions<'static> {
    LoadOptions::new(vec![LabelSpec::Last], LabelKind::Classes)
}

fn regress(labels: &[&str]) -> LoadOptions<'static> {
    let specs = labels
        .iter()
        .map(|l| LabelSpec::Name(l.to_string()))
        .collect();
    LoadOptions::new(specs, LabelKind::Targets)
}

fn ok<T: Real>(text: &[u8], opts: &LoadOptions) -> Frame<T> {
    parse::<T>(Path::new("t.csv"), text, opts).unwrap()
}

/// The error message, without the hint for a text column after `is not a number` (tested
/// once, in `a_text_feature_gets_the_hint_to_ignore_or_encode_it`).
fn err(text: &[u8], opts: &LoadOptions) -> String {
    unhinted(
        parse::<f64>(Path::new("t.csv"), text, opts)
            .unwrap_err()
            .to_string(),
    )
}

fn unhinted(msg: String) -> String {
    match msg.split_once(" is not a number; if `") {
        Some((head, _)) => format!("{head} is not a number"),
        None => msg,
    }
}

/// Each row's class name.
fn row_classes<T>(f: &Frame<T>) -> Vec<String> {
    match &f.labels {
        Labels::Classes(c) => (0..c.y.len())
            .map(|i| c.name_of(i).unwrap_or("?").to_string())
            .collect(),
        _ => Vec::new(),
    }
}

/// Each row's line.
fn all_lines<T>(f: &Frame<T>) -> Vec<u64> {
    (0..f.lines.len())
        .map(|i| f.lines.line(i).unwrap_or(0))
        .collect()
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn reads_features_and_class_labels() {
    let f = ok::<f64>(b"a,b,kind\n1,2,cat\n3.5,-4e1,dog\n", &classify());
    assert_eq!(f.feature_names, names(&["a", "b"]));
    assert_eq!(f.label_names, names(&["kind"]));
    assert_eq!(f.x, ndarray::array![[1.0, 2.0], [3.5, -40.0]]);
    assert_eq!(row_classes(&f), (names(&["cat", "dog"])));
    assert_eq!(all_lines(&f), vec![2, 3]);
    assert_eq!(f.source, PathBuf::from("t.csv"));
}

#[test]
fn bom_crlf_and_spaces_just_work() {
    let text = b"\xEF\xBB\xBF a , b ,kind\r\n 1 ,2, x \r\n3,4,\"y z\"\r\n";
    let f = ok::<f32>(text, &classify());
    assert_eq!(f.feature_names, names(&["a", "b"]));
    assert_eq!(f.x, ndarray::array![[1.0f32, 2.0], [3.0, 4.0]]);
    assert_eq!(row_classes(&f), (names(&["x", "y z"])));
    assert_eq!(all_lines(&f), vec![2, 3]);
    // No trailing newline, and a quoted label holding the delimiter.
    let f = ok::<f64>(b"a,kind\r\n1,\"x,y\"", &classify());
    assert_eq!(row_classes(&f), (names(&["x,y"])));
}

#[test]
fn line_numbers_count_blank_lines_and_quoted_newlines() {
    let text = b"a,kind\n\n1,x\n\r\n\r\n2,\"multi\nline\"\n3,y\n\n4,oops\n";
    let f = ok::<f64>(&text[..text.len() - 7], &classify());
    assert_eq!(all_lines(&f), vec![3, 6, 8]);
    let text = b"a,kind\n\n1,x\n\r\n\r\n2,\"multi\nline\"\n3,y\n\nz,oops\n";
    assert_eq!(err(text, &classify()), "t.csv:10:a: `z` is not a number");
    let text = b"a,kind\r\n\r\n1,x\r\n\r\n\r\nq,y\r\n";
    assert_eq!(err(text, &classify()), "t.csv:6:a: `q` is not a number");
}

#[test]
fn labels_by_name_index_and_absent() {
    let text = b"a,kind,b\n1,x,2\n";
    let by_name = LoadOptions::new(vec![LabelSpec::Name("kind".into())], LabelKind::Classes);
    let by_index = LoadOptions::new(vec![LabelSpec::Index(1)], LabelKind::Classes);
    for opts in [by_name, by_index] {
        let f = ok::<f64>(text, &opts);
        assert_eq!(f.feature_names, names(&["a", "b"]));
        assert_eq!(f.x, ndarray::array![[1.0, 2.0]]);
        assert_eq!(row_classes(&f), (names(&["x"])));
    }
    for labels in [vec![], vec![LabelSpec::Absent]] {
        let f = ok::<f64>(b"a,b\n1,2\n", &LoadOptions::new(labels, LabelKind::Classes));
        assert_eq!(f.labels, Labels::None);
        assert!(f.label_names.is_empty());
        assert_eq!(f.x, ndarray::array![[1.0, 2.0]]);
    }
}

#[test]
fn several_regression_targets_in_the_order_asked() {
    let text = b"y2,a,y1,b\n10,1,20,2\n30,3,40,4\n";
    let f = ok::<f64>(text, &regress(&["y1", "y2"]));
    assert_eq!(f.feature_names, names(&["a", "b"]));
    assert_eq!(f.label_names, names(&["y1", "y2"]));
    assert_eq!(f.x, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    assert_eq!(
        f.labels,
        Labels::Targets(ndarray::array![[20.0, 10.0], [40.0, 30.0]])
    );
    assert_eq!(
        err(b"a,y\n1,2\n3,x\n", &regress(&["y"])),
        "t.csv:3:y: `x` is not a number"
    );
}

#[test]
fn f32_is_parsed_directly_and_f64_keeps_precision() {
    let text = b"a,y\n0.1,1e39\n";
    let opts = LoadOptions::new(vec![], LabelKind::Targets);
    let f32s = ok::<f32>(b"a\n0.1\n16777217\n", &opts);
    assert_eq!(f32s.x[[0, 0]], 0.1f32);
    assert_eq!(f32s.x[[1, 0]], 16777216.0f32);
    let f64s = ok::<f64>(b"a\n0.1\n16777217\n", &opts);
    assert_eq!(f64s.x[[0, 0]], 0.1f64);
    assert_eq!(f64s.x[[1, 0]], 16777217.0f64);
    // 1e39 fits an f64 but not an f32.
    let f = ok::<f64>(text, &regress(&["y"]));
    assert_eq!(f.labels, Labels::Targets(ndarray::array![[1e39]]));
    let e = parse::<f32>(Path::new("t.csv"), text, &regress(&["y"])).unwrap_err();
    assert_eq!(e.to_string(), "t.csv:2:y: `1e39` is out of range for f32");
}

#[test]
fn bad_numbers_name_line_and_column() {
    let o = classify();
    let cases: [(&[u8], &str); 7] = [
        (
            b"a,b,c\n1,2,x\n1,abc,x\n",
            "t.csv:3:b: `abc` is not a number",
        ),
        (
            b"a,b,c\n1,nan,x\n",
            "t.csv:2:b: `nan` is not a finite number: a missing value, refused unless --impute mean|median|zero fills it",
        ),
        (
            b"a,b,c\n-inf,1,x\n",
            "t.csv:2:a: `-inf` is not a finite number",
        ),
        (
            b"a,b,c\n1,  ,x\n",
            "t.csv:2:b: empty field: a missing value, refused unless --impute mean|median|zero fills it",
        ),
        (
            b"a,,c\n1,2,x\n3,1.2.3,x\n",
            "t.csv:3:field 2: `1.2.3` is not a number",
        ),
        (
            b"a,b,c\n1,\xff\xfe,x\n",
            "t.csv:2:b: `\\xff\\xfe` is not valid UTF-8",
        ),
        (b"a,b,c\n1,2,\n", "t.csv:2:c: empty label"),
    ];
    for (text, want) in cases {
        assert_eq!(err(text, &o), want);
    }
    assert_eq!(
        err(b"a,b,c\n1,2,\xc3\n", &o),
        "t.csv:2:c: label `\\xc3` is not valid UTF-8"
    );
    assert_eq!(
        err(b"a,\xc3,c\n1,2,x\n", &o),
        "t.csv:1:field 2: the header name `\\xc3` is not valid UTF-8"
    );
    let long = format!("a,c\n{},x\n", "9".repeat(30) + &"z".repeat(30));
    let want = format!(
        "t.csv:2:a: `{}…` is not a number",
        "9".repeat(30) + &"z".repeat(10)
    );
    assert_eq!(err(long.as_bytes(), &o), want);
}

#[test]
fn whole_file_errors() {
    let o = classify();
    assert_eq!(err(b"", &o), "t.csv: is empty");
    assert_eq!(err(b"\xEF\xBB\xBF", &o), "t.csv: is empty");
    assert_eq!(err(b"\n\r\n\n", &o), "t.csv: is empty");
    assert_eq!(err(b"a,b\n", &o), "t.csv: has a header but no data rows");
    assert_eq!(
        err(b"a,b\r\n\r\n", &o),
        "t.csv: has a header but no data rows"
    );
    assert_eq!(
        err(b"a,b,c,d,e\n1,2,3,4,x\n\n\n\n1,2,3,4,x\n1,2,x\n", &o),
        "t.csv:7:d: line 7 has 3 fields, the header has 5"
    );
    assert_eq!(
        err(b"a,b,c\n1,2,3,x\n", &o),
        "t.csv:2:field 4: line 2 has 4 fields, the header has 3"
    );
    assert_eq!(
        err(b"a,b,a,c\n1,2,3,x\n", &o),
        "t.csv:1:a: column `a` appears twice in the header (fields 1 and 3)"
    );
    assert_eq!(
        err(b"kind\nx\n", &o),
        "t.csv: has no feature columns: every column (kind) is a label"
    );
}

#[test]
fn label_columns_that_are_not_there() {
    let by_name = LoadOptions::new(vec![LabelSpec::Name("kind".into())], LabelKind::Classes);
    assert_eq!(
        err(b"a,b,c\n1,2,3\n", &by_name),
        "t.csv: no column named `kind`; the columns are: a, b, c"
    );
    let by_index = LoadOptions::new(vec![LabelSpec::Index(9)], LabelKind::Classes);
    assert_eq!(
        err(b"a,b,c,d,e\n1,2,3,4,5\n", &by_index),
        "t.csv: label index 9 is out of range: the file has 5 columns (0..4)"
    );
    let twice = LoadOptions::new(
        vec![LabelSpec::Index(1), LabelSpec::Name("b".into())],
        LabelKind::Targets,
    );
    assert_eq!(
        err(b"a,b\n1,2\n", &twice),
        "t.csv: column `b` is given twice as a label"
    );
    let two = LoadOptions::new(
        vec![LabelSpec::Index(1), LabelSpec::Index(2)],
        LabelKind::Classes,
    );
    assert_eq!(
        err(b"a,b,c\n1,2,3\n", &two),
        "t.csv: classification takes one label column, got 2: b, c"
    );
    let many: Vec<String> = (0..20).map(|i| format!("p{i}")).collect();
    let text = format!("{}\n{}\n", many.join(","), vec!["0"; 20].join(","));
    assert_eq!(
        err(text.as_bytes(), &by_name),
        "t.csv: no column named `kind`; the columns are: \
         p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, … and 8 more"
    );
}

#[test]
fn expected_features_are_found_by_name_in_any_order() {
    let want = names(&["a", "b", "c"]);
    let o = LoadOptions {
        expected_features: Some(&want),
        ..classify()
    };
    let f = ok::<f64>(b"a,b,c,y\n1,2,3,x\n", &o);
    assert_eq!(f.feature_names, want);
    assert!(f.warnings.is_empty());
    // Another order, extra columns: the model's order, the extra ones noted once.
    let f = read_every_way(b"id,c,a,note,b,y\n7,3,1,9,2,x\n8,6,4,9,5,z\n", &o).unwrap();
    assert_eq!(f.feature_names, want);
    assert_eq!(f.x, ndarray::array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    assert_eq!(
        f.warnings,
        names(&["t.csv: the model does not use columns id, note: ignored"])
    );
    assert_eq!(
        err(b"a,c,y\n1,3,x\n", &o),
        "t.csv: the model's feature column b is not in the file; the columns are: a, c, y"
    );
    assert_eq!(
        err(b"a,B,y\n1,2,x\n", &o),
        "t.csv: the model's feature columns b, c are not in the file; the columns are: a, B, y"
    );
    let ignoring = LoadOptions {
        ignore: vec![LabelSpec::Name("b".into())],
        ..o.clone()
    };
    assert_eq!(
        err(b"a,b,c,y\n1,2,3,x\n", &ignoring),
        "t.csv: --ignore names `b`, a feature column of the model: the model needs it"
    );
    // A feature kept as text too (predict --keep): its numbers and its text.
    let keeping = LoadOptions {
        text: vec![(LabelSpec::Name("c".into()), "--keep")],
        ..o.clone()
    };
    let f = ok::<f64>(b"c,b,a,y\n3.0,2,1,x\n", &keeping);
    assert_eq!(f.x, ndarray::array![[1.0, 2.0, 3.0]]);
    assert_eq!(f.text[0].values, names(&["3.0"]));
}

#[test]
fn features_pick_columns_in_the_order_given() {
    let o = LoadOptions {
        features: vec![
            LabelSpec::parse("c"),
            LabelSpec::parse("0"),
            LabelSpec::parse("c"),
        ],
        ..classify()
    };
    let f = read_every_way(b"a,b,c,y\n1,2,3,x\n", &o).unwrap();
    assert_eq!(f.feature_names, names(&["c", "a"]));
    assert_eq!(f.x, ndarray::array![[3.0, 1.0]]);
    assert!(f.warnings.is_empty());
    let o = LoadOptions {
        features: vec![LabelSpec::parse("d")],
        ..classify()
    };
    assert_eq!(
        err(b"a,b,c,y\n1,2,3,x\n", &o),
        "t.csv: --features: no column `d`; the columns are: a, b, c, y"
    );
    let o = LoadOptions {
        features: vec![LabelSpec::parse("y")],
        ..classify()
    };
    assert_eq!(
        err(b"a,y\n1,x\n", &o),
        "t.csv: column `y` is the label, and --features names it too"
    );
}

#[test]
fn optional_labels_for_predict() {
    let want = names(&["a", "b"]);
    for spec in [
        LabelSpec::Last,
        LabelSpec::Name("y".into()),
        LabelSpec::Index(2),
    ] {
        let o = LoadOptions {
            labels: vec![spec],
            kind: LabelKind::Classes,
            expected_features: Some(&want),
            optional_label: true,
            delimiter: b',',
            ignore: Vec::new(),
            text: Vec::new(),
            features: Vec::new(),
            no_header: false,
            missing: false,
            npz: Default::default(),
        };
        let with = ok::<f64>(b"a,b,y\n1,2,x\n", &o);
        assert_eq!(row_classes(&with), (names(&["x"])));
        assert_eq!(with.label_names, names(&["y"]));
        let without = ok::<f64>(b"a,b\n1,2\n", &o);
        assert_eq!(without.labels, Labels::None);
        assert!(without.label_names.is_empty());
        assert_eq!(without.x, ndarray::array![[1.0, 2.0]]);
    }
    // Several targets: all or none.
    let o = LoadOptions {
        optional_label: true,
        ..regress(&["y1", "y2"])
    };
    assert_eq!(ok::<f64>(b"a,b\n1,2\n", &o).labels, Labels::None);
    assert_eq!(
        err(b"a,y1\n1,2\n", &o),
        "t.csv: has some label columns but not `y2`; the columns are: a, y1"
    );
}

#[test]
fn parallel_stretches_give_the_same_frame_and_the_first_error() {
    let mut text = String::from("a,b,kind\r\n");
    for i in 0..1000 {
        text.push_str(&format!("{i},{}.5,k{}\r\n", i * 2, i % 3));
        if i % 97 == 0 {
            text.push_str("\r\n");
        }
    }
    let one = parse_with::<f32>(Path::new("t.csv"), text.as_bytes(), &classify(), Some(1)).unwrap();
    assert_eq!(one.x.dim(), (1000, 2));
    assert_eq!(one.x[[999, 1]], 1998.5);
    assert_eq!(one.lines.line(999).unwrap_or(0), 1000 + 11 + 1);
    for threads in 2..6 {
        let many = parse_with::<f32>(
            Path::new("t.csv"),
            text.as_bytes(),
            &classify(),
            Some(threads),
        );
        assert_eq!(many.unwrap(), one);
    }
    // Two bad fields: whichever stretch finds them, the first in the file is reported.
    let bad = text
        .replacen("500,1000.5", "500,x", 1)
        .replacen("900,", "y,", 1);
    for threads in 1..6 {
        let e = parse_with::<f64>(
            Path::new("t.csv"),
            bad.as_bytes(),
            &classify(),
            Some(threads),
        );
        assert_eq!(
            unhinted(e.unwrap_err().to_string()),
            "t.csv:508:b: `x` is not a number"
        );
    }
    // Big enough for `parse` itself to use every core.
    let big = text
        .repeat(PARALLEL_MIN_BYTES / text.len() + 1)
        .replace("a,b,kind\r\n", "");
    let big = format!("a,b,kind\n{big}");
    let f = parse::<f64>(Path::new("t.csv"), big.as_bytes(), &classify()).unwrap();
    let f1 = parse_with::<f64>(Path::new("t.csv"), big.as_bytes(), &classify(), Some(1)).unwrap();
    assert_eq!(f, f1);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[test]
fn gzip_is_read_transparently_whatever_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let text = b"a,b,kind\n1,2,x\n3,4,y\n";
    for file in ["t.csv.gz", "t.csv"] {
        let path = dir.path().join(file);
        std::fs::write(&path, gzip(text)).unwrap();
        let src = Source::Path(path.clone());
        assert_eq!(read_bytes(&src).unwrap(), text);
        let f = load::<f32>(&src, &classify()).unwrap();
        assert_eq!(f.x, ndarray::array![[1.0f32, 2.0], [3.0, 4.0]]);
        assert_eq!(f.source, path);
    }
    // Two concatenated members, as `cat a.gz b.gz` makes.
    let mut two = gzip(b"a,kind\n1,x\n");
    two.extend(gzip(b"2,y\n"));
    let f = parse::<f64>(
        Path::new("t"),
        &gunzip_if_gzip(Path::new("t"), two).unwrap(),
        &classify(),
    )
    .unwrap();
    assert_eq!(all_lines(&f), vec![2, 3]);
}

#[test]
fn corrupt_gzip_is_an_error() {
    let name = Path::new("t.csv.gz");
    let e = gunzip_if_gzip(name, b"\x1f\x8bnot gzip at all".to_vec()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("t.csv.gz: is not a valid gzip file: "),
        "{e}"
    );
    let mut cut = gzip(&b"a,b\n1,2\n".repeat(100));
    cut.truncate(cut.len() / 2);
    let e = gunzip_if_gzip(name, cut).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("t.csv.gz: is not a valid gzip file: "),
        "{e}"
    );
    assert_eq!(e.exit_code(), crate::error::exit::DATA);
}

#[test]
fn missing_files_and_directories() {
    let dir = tempfile::tempdir().unwrap();
    let e = read_bytes(&Source::Path(dir.path().to_path_buf())).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}: is a directory, not a CSV file", dir.path().display())
    );
    let gone = dir.path().join("gone.csv");
    let e = load::<f64>(&Source::Path(gone.clone()), &classify()).unwrap_err();
    assert_eq!(e.to_string(), format!("{}: no such file", gone.display()));
    assert_eq!(e.exit_code(), crate::error::exit::DATA);
}

#[test]
fn source_from_the_command_line() {
    assert_eq!(Source::parse("-"), Source::Stdin);
    assert_eq!(Source::Stdin.display(), PathBuf::from("<stdin>"));
    assert_eq!(
        Source::parse("d/x.csv"),
        Source::Path(PathBuf::from("d/x.csv"))
    );
    assert_eq!(Source::parse("d/x.csv").to_string(), "d/x.csv");
}

#[test]
fn the_shipped_datasets_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let load_last = |file: &str, kind| {
        load::<f32>(
            &Source::Path(root.join(file)),
            &LoadOptions::new(vec![LabelSpec::Last], kind),
        )
        .unwrap()
    };
    let iris = load_last("iris.csv", LabelKind::Classes);
    assert_eq!(iris.x.dim(), (150, 4));
    assert_eq!(iris.label_names, names(&["species"]));
    let digits = load_last("digits.csv", LabelKind::Classes);
    assert_eq!(digits.x.dim(), (1797, 64));
    let diabetes = load_last("regression.csv", LabelKind::Targets);
    assert_eq!(diabetes.x.dim(), (442, 10));
    for (file, n) in [("spirals.csv", 400), ("xor.csv", 200)] {
        assert_eq!(load_last(file, LabelKind::Classes).x.dim(), (n, 2));
    }
}

/// Every way of reading `bytes`: `parse` with blocks of many sizes and several threads,
/// and `load` of it as a file, plain and gzipped; each must give what `parse` gives.
fn read_every_way(bytes: &[u8], opts: &LoadOptions) -> std::result::Result<Frame<f64>, String> {
    let name = Path::new("t.csv");
    let want = parse::<f64>(name, bytes, opts).map_err(|e| e.to_string());
    let same = |got: Result<Frame<f64>>, how: &str| match (&want, got) {
        (Ok(a), Ok(b)) => assert_eq!(a, &b, "{how}"),
        (Err(a), Err(b)) => assert_eq!(a, &b.to_string(), "{how}"),
        (a, b) => panic!("{how}: parse gives {a:?}, this gives {b:?}"),
    };
    for block in [1, 2, 3, 5, 7, 11, 64, 1000] {
        for threads in [None, Some(1), Some(2), Some(3)] {
            let got = parse_blocks::<f64>(name, bytes, opts, block, threads);
            same(got, &format!("block {block}, threads {threads:?}"));
        }
    }
    // The same, read from a file: the messages name the file's path instead of t.csv.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    let same_file = |got: Result<Frame<f64>>, how: &str| {
        let got = got
            .map(|mut f| {
                assert_eq!(f.source, path, "{how}");
                f.source = PathBuf::from("t.csv");
                for w in &mut f.warnings {
                    *w = w.replacen(&path.display().to_string(), "t.csv", 1);
                }
                f
            })
            .map_err(|e| {
                let m = e.to_string();
                m.replacen(&path.display().to_string(), "t.csv", 1)
            });
        assert_eq!(want, got, "{how}");
    };
    for gz in [false, true] {
        std::fs::write(&path, if gz { gzip(bytes) } else { bytes.to_vec() }).unwrap();
        let src = Source::Path(path.clone());
        same_file(load::<f64>(&src, opts), &format!("load, gzip {gz}"));
        for block in [1, 7, 13] {
            for threads in [None, Some(2)] {
                let got = load_with::<f64>(&src, opts, block, threads);
                same_file(
                    got,
                    &format!("load gzip {gz}, block {block}, threads {threads:?}"),
                );
            }
        }
    }
    want.map_err(unhinted)
}

#[test]
fn blocks_of_any_size_give_the_frame_parse_gives() {
    let o = classify();
    // Quoted fields holding newlines, commas and doubled quotes, wherever blocks end.
    let text =
        b"a,b,kind\r\n1,2,\"x\ny,\"\"z\"\"\r\n\"\"\"\n3,4,\"q\n\nq\"\n5,6,\"a,b\"\n\n7,8,plain\r\n";
    let f = read_every_way(text, &o).unwrap();
    assert_eq!(
        f.x,
        ndarray::array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]
    );
    assert_eq!(
        row_classes(&f),
        (names(&["x\ny,\"z\"\r\n\"", "q\n\nq", "a,b", "plain"]))
    );
    assert_eq!(all_lines(&f), vec![2, 5, 8, 10]);
    // BOM, CRLF, blank lines before the header and among the rows, no final newline.
    let text = b"\xEF\xBB\xBF\r\n\n\r\na,kind\r\n\r\n1,x\r\n\r\n\r\n2,y\r\n3,z";
    let f = read_every_way(text, &o).unwrap();
    assert_eq!(all_lines(&f), vec![6, 9, 10]);
    assert_eq!(row_classes(&f), (names(&["x", "y", "z"])));
    // A header longer than a block, a quoted newline in it.
    let text = b"\"long name\nof a\",\"second, long, name\",kind\n1,2,x\n";
    let f = read_every_way(text, &o).unwrap();
    assert_eq!(
        f.feature_names,
        names(&["long name\nof a", "second, long, name"])
    );
    assert_eq!(all_lines(&f), vec![3]);
    // Quotes that are text (inside an unquoted field) and text after closing quotes.
    let text = b"a,kind\n1,x\"y\n2,\"p\"q\n3,\"\"\n4,r\"\n\"\n";
    let f = read_every_way(text, &o);
    assert_eq!(f.unwrap_err(), "t.csv:4:kind: empty label");
    let text = b"a,kind\n1,x\"y\n2,\"p\"q\n4,r\"\n";
    let f = read_every_way(text, &o).unwrap();
    assert_eq!(row_classes(&f), (names(&["x\"y", "pq", "r\""])));
    // Lone CRs end records too (without moving the line on).
    let f = read_every_way(b"a,kind\r1,x\r2,y\r\r\n3,z\n", &o).unwrap();
    // A lone '\r' ends a line as it ends a record (before, such files said line 1).
    assert_eq!(all_lines(&f), vec![2, 3, 5]);
    // A quote that never closes is an error at the line where it opened (before, the
    // rest of the file became one class name).
    assert_eq!(
        read_every_way(b"a,kind\n1,\"x\n2,y\n3,z\n", &o).unwrap_err(),
        "t.csv:2:kind: a quoted field opens here and is never closed (a `\"` is missing): it runs to the end of the file"
    );
    // Regression targets and no label.
    let f = read_every_way(b"y2,a,y1\n1,2,3\n\n4,5,6", &regress(&["y1", "y2"])).unwrap();
    assert_eq!(
        f.labels,
        Labels::Targets(ndarray::array![[3.0, 1.0], [6.0, 4.0]])
    );
    read_every_way(
        b"a,b\n1,2\n3,4\n",
        &LoadOptions::new(vec![], LabelKind::Targets),
    )
    .unwrap();
}

#[test]
fn errors_are_the_same_whatever_the_blocks() {
    let o = classify();
    let cases: [(&[u8], &str); 9] = [
        (b"", "t.csv: is empty"),
        (b"\xEF\xBB\xBF\n\r\n\n\r\r", "t.csv: is empty"),
        (b"\n\na,b\r\n\r\n", "t.csv: has a header but no data rows"),
        // Ragged rows after the first block.
        (
            b"a,b,kind\n1,2,x\n3,4,y\n5,6,z\n7,8,w\n9,10,v,extra\n",
            "t.csv:6:field 4: line 6 has 4 fields, the header has 3",
        ),
        (
            b"a,b,kind\n1,2,x\n3,4,y\n5,6,z\n\n\n7,8\n",
            "t.csv:7:kind: line 7 has 2 fields, the header has 3",
        ),
        // At the very last line, with and without a final newline.
        (
            b"a,b,kind\n1,2,x\n3,4,y\n5,6,z\n7,q,w",
            "t.csv:5:b: `q` is not a number",
        ),
        (
            b"a,b,kind\n1,2,x\n3,4,y\n5,6,z\n7,8,\n",
            "t.csv:5:kind: empty label",
        ),
        // Two errors: the first in the file wins, wherever the blocks end.
        (
            b"a,b,kind\n1,2,\"x\n\"\n3,4,y\n5,no,z\n\n7,8,w\n9,nan,v\n",
            "t.csv:5:b: `no` is not a number",
        ),
        (
            b"a,a,kind\n1,2,x\n",
            "t.csv:1:a: column `a` appears twice in the header (fields 1 and 2)",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(read_every_way(text, &o).unwrap_err(), want);
    }
}

#[test]
fn big_files_stream_in_parallel_blocks() {
    let mut text = String::from("a,b,kind\r\n");
    for i in 0..30_000 {
        text.push_str(&format!("{i},{}.25,\"k,{}\"\r\n", i * 3, i % 4));
        if i % 1000 == 7 {
            text.push_str("\r\n");
        }
    }
    let o = classify();
    let whole = parse_blocks::<f32>(Path::new("t.csv"), text.as_bytes(), &o, usize::MAX, Some(1));
    let whole = whole.unwrap();
    assert_eq!(whole.x.dim(), (30_000, 2));
    assert_eq!(*all_lines(&whole).last().unwrap(), 30_000 + 30 + 1);
    for (block, threads) in [
        (4096, Some(3)),
        (50_000, None),
        (1 << 20, Some(2)),
        (777, Some(8)),
    ] {
        let f = parse_blocks::<f32>(Path::new("t.csv"), text.as_bytes(), &o, block, threads);
        assert_eq!(f.unwrap(), whole, "block {block}");
    }
    let bad = text
        .replacen("29000,87000.25", "29000,x", 1)
        .replacen("29500,", "y,", 1);
    for block in [4096, 1 << 16] {
        let e = parse_blocks::<f32>(Path::new("t.csv"), bad.as_bytes(), &o, block, Some(2));
        assert_eq!(
            unhinted(e.unwrap_err().to_string()),
            "t.csv:29031:b: `x` is not a number"
        );
    }
}

#[test]
fn a_gzip_file_corrupt_after_good_blocks_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv.gz");
    let mut text = String::from("a,kind\n");
    for i in 0..20_000 {
        text.push_str(&format!("{i},k{}\n", i * 7919 % 13));
    }
    let mut gz = gzip(text.as_bytes());
    gz.truncate(gz.len() * 3 / 4);
    std::fs::write(&path, &gz).unwrap();
    for block in [100, 4096, BLOCK_BYTES] {
        let e = load_with::<f64>(&Source::Path(path.clone()), &classify(), block, None);
        let e = e.unwrap_err();
        assert!(
            e.to_string().contains(": is not a valid gzip file: "),
            "{e}"
        );
        assert_eq!(e.exit_code(), crate::error::exit::DATA);
    }
}

#[test]
fn row_lines_are_compact_and_exact() {
    let lines = [2u64, 3, 4, 7, 8, 10, 11, 12, 13];
    let mut a = RowLines::default();
    for &l in &lines[..4] {
        a.push(l).unwrap();
    }
    let mut b = RowLines::default();
    for &l in &lines[4..] {
        b.push(l).unwrap();
    }
    a.append(&b).unwrap();
    assert_eq!(a.len(), lines.len());
    let got: Vec<u64> = (0..a.len()).filter_map(|i| a.line(i)).collect();
    assert_eq!(got, lines);
    assert_eq!(a.line(lines.len()), None);
    // Three runs: 2-4, 7-8, 10-13.
    assert_eq!(a.jumps, vec![(0, 2), (3, 7), (5, 10)]);
    let s = a.select(&[1, 4, 5, 8]);
    let got: Vec<u64> = (0..s.len()).filter_map(|i| s.line(i)).collect();
    assert_eq!(got, [3, 8, 10, 13]);
}

#[test]
fn untrusted_bytes_are_shown_on_one_short_line() {
    assert_eq!(shown(b"a\nb\r\t\0\x1b[1m\x7f"), r"a\nb\r\t\0\x1b[1m\x7f");
    assert_eq!(shown("\u{202e}é\u{85}".as_bytes()), r"\u{202e}é\u{85}");
    assert_eq!(shown(b"\xff\xfeok"), r"\xff\xfeok");
    let long = "é".repeat(10_000);
    assert_eq!(shown(long.as_bytes()), format!("{}…", "é".repeat(40)));
    assert_eq!(shown(&[b'x'; 40]), "x".repeat(40));
    assert_eq!(shown(&[b'x'; 41]), format!("{}…", "x".repeat(40)));
}

#[test]
fn delimiters_from_the_command_line() {
    let d = |s: &str| s.parse::<Delimiter>().map(Delimiter::byte);
    assert_eq!(d(","), Ok(b','));
    assert_eq!(d(";"), Ok(b';'));
    assert_eq!(d("tab"), Ok(b'\t'));
    assert_eq!(d("\\t"), Ok(b'\t'));
    assert_eq!(d("\t"), Ok(b'\t'));
    assert_eq!(d("|"), Ok(b'|'));
    assert!(d("\"").is_err() && d("\n").is_err() && d(";;").is_err() && d("é").is_err());
}

#[test]
fn classes_are_interned_in_class_order() {
    let f = ok::<f64>(b"a,y\n1,b\n2,10\n3,2\n4,2.0\n5,a\n6,1e1\n", &classify());
    let Labels::Classes(c) = &f.labels else {
        panic!("classes")
    };
    assert_eq!(c.names, names(&["2", "10", "a", "b"]));
    assert_eq!(c.first_lines, [4, 3, 6, 2]);
    assert_eq!(c.y, [3, 1, 0, 0, 2, 1]);
    assert!(f.warnings.is_empty());
    let f = ok::<f64>(b"a,y\n1,0.5\n2,1\n", &classify());
    assert_eq!(f.warnings.len(), 1);
    assert!(
        f.warnings[0].contains("`0.5` is not an integer"),
        "{:?}",
        f.warnings
    );
}

mod props {
    use super::*;

    use proptest::prelude::*;
    use std::path::Path;

    fn configs() -> Vec<LoadOptions<'static>> {
        vec![
            LoadOptions::new(vec![LabelSpec::Last], LabelKind::Classes),
            LoadOptions::new(
                vec![LabelSpec::Name("b".into()), LabelSpec::Index(0)],
                LabelKind::Targets,
            ),
            LoadOptions {
                optional_label: true,
                ..LoadOptions::new(vec![LabelSpec::Name("c".into())], LabelKind::Classes)
            },
            LoadOptions::new(vec![], LabelKind::Targets),
        ]
    }

    /// Parses with every configuration, in both precisions; checks the shapes of what parses.
    fn parse_all(bytes: &[u8]) {
        for opts in configs() {
            if let Ok(f) = parse::<f32>(Path::new("p"), bytes, &opts) {
                assert_eq!(f.x.nrows(), all_lines(&f).len());
                assert_eq!(f.x.ncols(), f.feature_names.len());
                assert!(f.x.iter().all(|v| v.is_finite()));
                match &f.labels {
                    Labels::Classes(c) => assert_eq!(c.y.len(), f.x.nrows()),
                    Labels::Targets(t) => {
                        assert_eq!(t.dim(), (f.x.nrows(), f.label_names.len()))
                    }
                    Labels::None => {}
                }
            }
            let one = parse_with::<f64>(Path::new("p"), bytes, &opts, Some(1));
            let three = parse_with::<f64>(Path::new("p"), bytes, &opts, Some(3));
            match (one, three) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                (a, b) => panic!("1 thread: {a:?}\n3 threads: {b:?}"),
            }
        }
    }

    /// Read in blocks of `block` bytes cut into `threads` stretches, `bytes` give what
    /// `parse` gives, with every configuration.
    fn same_in_blocks(bytes: &[u8], block: usize, threads: usize) {
        for opts in configs() {
            let whole = parse::<f64>(Path::new("p"), bytes, &opts);
            let blocks = parse_blocks::<f64>(Path::new("p"), bytes, &opts, block, Some(threads));
            match (whole, blocks) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                (a, b) => panic!("parse: {a:?}\nblocks of {block}: {b:?}"),
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 700, ..ProptestConfig::default() })]

        #[test]
        fn the_plain_reader_agrees_with_the_csv_crate(
            header in "[abc,]{1,6}",
            chunk in proptest::collection::vec(
                prop_oneof![
                    Just(b','), Just(b'\n'), Just(b'\r'), Just(b' '), Just(b'.'),
                    Just(b'1'), Just(b'x'), any::<u8>().prop_filter("no quote", |b| *b != b'"'),
                ],
                0..120,
            ),
            first_line in 1u64..1000,
        ) {
            let name = Path::new("p");
            for opts in configs() {
                let mut rdr = csv_reader(header.as_bytes(), b',');
                let mut rec = csv::ByteRecord::new();
                prop_assert!(rdr.read_byte_record(&mut rec).unwrap());
                let Ok(layout) = layout(name, &rec, 1, &opts) else {
                    continue;
                };
                let csv = parse_rows_csv::<f64>(name, &chunk, first_line, &layout);
                let plain = parse_rows_plain::<f64>(name, &chunk, first_line, &layout);
                match (csv, plain) {
                    (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                    (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                    (a, b) => prop_assert!(false, "csv: {:?}\nplain: {:?}", a, b),
                }
            }
        }

        #[test]
        fn tiny_blocks_agree_with_parse(
            text in "(\u{feff})?[\r\n]{0,3}([abc ,\"]{0,6}\r?\n){0,2}([0-9 ,.\"\r\nxk]{0,12}(\r?\n|\r)?){0,10}",
            block in 1usize..24,
            threads in 1usize..5,
        ) {
            same_in_blocks(text.as_bytes(), block, threads);
        }

        #[test]
        fn tiny_blocks_agree_with_parse_on_any_bytes(
            bytes in proptest::collection::vec(
                prop_oneof![Just(b'"'), Just(b','), Just(b'\n'), Just(b'\r'), Just(b'1'), any::<u8>()],
                0..200,
            ),
            block in 1usize..40,
            threads in 1usize..5,
        ) {
            same_in_blocks(&bytes, block, threads);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            parse_all(&bytes);
            let mut gz = vec![0x1f, 0x8b];
            gz.extend_from_slice(&bytes);
            if let Ok(plain) = gunzip_if_gzip(Path::new("p"), gz) {
                parse_all(&plain);
            }
        }

        #[test]
        fn almost_csv_never_panics(
            text in "(\u{feff})?([abc ,\"]{0,6}\r?\n){0,2}([0-9 ,.eE+\\-\"xnaif]{0,12}(\r?\n|\r)?){0,8}"
        ) {
            parse_all(text.as_bytes());
        }

        #[test]
        fn the_fast_path_agrees_with_std(text in "[+-]?[0-9]{0,12}(\\.[0-9]{0,12})?") {
            let std32 = text.parse::<f32>().ok();
            let std64 = text.parse::<f64>().ok();
            if let Some(v) = fast_decimal::<f32>(text.as_bytes()) {
                prop_assert_eq!(Some(v.to_bits()), std32.map(f32::to_bits));
            }
            if let Some(v) = fast_decimal::<f64>(text.as_bytes()) {
                prop_assert_eq!(Some(v.to_bits()), std64.map(f64::to_bits));
            }
            prop_assert_eq!(number::<f32>(text.as_bytes()).ok().map(f32::to_bits), std32.map(f32::to_bits));
            prop_assert_eq!(number::<f64>(text.as_bytes()).ok().map(f64::to_bits), std64.map(f64::to_bits));
        }

        #[test]
        fn the_crate_agrees_with_std_with_exponents(
            text in "[+-]?[0-9]{0,20}(\\.[0-9]{0,20})?([eE][+-]?[0-9]{1,3})?"
        ) {
            // Every finite value std reads, the fast paths read to the same bits (f32
            // straight from the text, never through f64); everything else is refused.
            let std32 = text.parse::<f32>().ok().filter(|v| v.is_finite());
            let std64 = text.parse::<f64>().ok().filter(|v| v.is_finite());
            prop_assert_eq!(fast_decimal::<f32>(text.as_bytes()).map(f32::to_bits), std32.map(f32::to_bits));
            prop_assert_eq!(fast_decimal::<f64>(text.as_bytes()).map(f64::to_bits), std64.map(f64::to_bits));
            let field = format!("{text},7");
            prop_assert_eq!(
                fast_field::<f32>(field.as_bytes(), 0).map(|(v, end)| (v.to_bits(), end)),
                std32.map(|v| (v.to_bits(), text.len()))
            );
            prop_assert_eq!(
                fast_field::<f64>(field.as_bytes(), 0).map(|(v, end)| (v.to_bits(), end)),
                std64.map(|v| (v.to_bits(), text.len()))
            );
        }

        #[test]
        fn well_formed_rows_parse_back(rows in proptest::collection::vec((-1e6f64..1e6, -1e6f64..1e6, 0u8..3), 1..20)) {
            let mut text = String::from("a,b,c\n");
            for (a, b, c) in &rows {
                text.push_str(&format!("{a},{b},k{c}\n"));
            }
            let opts = LoadOptions::new(vec![LabelSpec::Last], LabelKind::Classes);
            let f = parse::<f64>(Path::new("p"), text.as_bytes(), &opts).unwrap();
            for (i, (a, b, c)) in rows.iter().enumerate() {
                prop_assert_eq!(f.x[[i, 0]], *a);
                prop_assert_eq!(f.x[[i, 1]], *b);
                prop_assert_eq!(all_lines(&f)[i], i as u64 + 2);
                match &f.labels {
                    Labels::Classes(cl) => prop_assert_eq!(cl.name_of(i).unwrap_or("?"), &format!("k{c}")),
                    _ => prop_assert!(false),
                }
            }
        }
    }
}

#[test]
fn the_fingerprint_is_the_content_whatever_the_blocks_or_the_compression() {
    let dir = tempfile::tempdir().unwrap();
    let text = b"a,b,kind\n1,2,x\n3,4,y\n5,6,x\n";
    let plain = dir.path().join("t.csv");
    let packed = dir.path().join("t.csv.gz");
    std::fs::write(&plain, text).unwrap();
    std::fs::write(&packed, gzip(text)).unwrap();
    let of = |p: &Path, block| {
        load_with::<f32>(&Source::Path(p.to_path_buf()), &classify(), block, Some(2))
            .unwrap()
            .fingerprint
    };
    let whole = of(&plain, BLOCK_BYTES);
    assert_eq!(whole, super::source::fingerprint_of(text));
    assert!(
        whole.starts_with("xxh3-128:") && whole.len() == 9 + 32,
        "{whole}"
    );
    for block in [1, 3, 7] {
        assert_eq!(of(&plain, block), whole, "block {block}");
    }
    assert_eq!(of(&packed, 5), whole);
    // One byte changed, a row's order changed: another fingerprint.
    std::fs::write(&plain, b"a,b,kind\n1,2,x\n3,4,y\n5,7,x\n").unwrap();
    assert_ne!(of(&plain, BLOCK_BYTES), whole);
    std::fs::write(&plain, b"a,b,kind\n3,4,y\n1,2,x\n5,6,x\n").unwrap();
    assert_ne!(of(&plain, BLOCK_BYTES), whole);
    // A selection of rows keeps the file's fingerprint.
    let f = load::<f64>(&Source::Path(packed), &classify()).unwrap();
    assert_eq!(f.select(&[1]).fingerprint, whole);
}

#[test]
fn blanks_read_as_nan_only_when_asked_and_only_in_feature_columns() {
    let o = LoadOptions {
        missing: true,
        ..classify()
    };
    // The plain path and the quoted (csv crate) path, every spelling of a blank.
    for text in [
        &b"a,b,c\n,1,x\nNA,N/A,x\nNaN,nan,x\nNULL,null,x\n  ,2,x\n"[..],
        &b"a,b,c\n\"\",1,x\nNA,\"N/A\",x\nNaN,nan,x\nNULL,null,x\n  ,2,x\n"[..],
    ] {
        for f in [
            ok::<f64>(text, &o).x.mapv(|v| v.is_nan()),
            ok::<f32>(text, &o).x.mapv(|v| v.is_nan()),
        ] {
            assert_eq!(
                f,
                ndarray::array![
                    [true, false],
                    [true, true],
                    [true, true],
                    [true, true],
                    [true, false]
                ]
            );
        }
        assert!(err(text, &classify()).starts_with("t.csv:2:a: empty field: a missing value"));
    }
    // Anything else is still not a number; a blank label is still refused.
    assert_eq!(
        err(b"a,b,c\nna,1,x\n", &o),
        "t.csv:2:a: `na` is not a number"
    );
    assert_eq!(err(b"a,b,c\n1,1,\n", &o), "t.csv:2:c: empty label");
    assert_eq!(
        err(b"a,b,c\n-inf,1,x\n", &o),
        "t.csv:2:a: `-inf` is not a finite number"
    );
}

#[test]
fn text_columns_are_read_verbatim_and_kept_by_select() {
    let o = LoadOptions {
        text: vec![
            (LabelSpec::Name("colour".into()), "--categorical"),
            (LabelSpec::parse("0"), "--keep"),
            // Named twice: read once.
            (LabelSpec::Name("colour".into()), "--keep"),
        ],
        ignore: vec![LabelSpec::Name("id".into())],
        ..classify()
    };
    let text = b"id,a,colour,b,kind\n007,1,red,2,x\n8,3,\"dark, blue\",4,y\n9,5, green ,6,x\n";
    let f = read_every_way(text, &o).unwrap();
    assert_eq!(f.feature_names, names(&["a", "b"]));
    assert_eq!(f.x, ndarray::array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    let cols: Vec<(&str, Vec<&str>)> = f
        .text
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.values.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        cols,
        vec![
            ("colour", vec!["red", "dark, blue", "green"]),
            ("id", vec!["007", "8", "9"])
        ]
    );
    let s = f.select(&[2, 0]);
    assert_eq!(s.text[0].values, names(&["green", "red"]));
    assert_eq!(s.text[1].values, names(&["9", "007"]));
    // None asked: no text columns; a text column not there, or the label, is an error.
    assert!(ok::<f64>(b"a,kind\n1,x\n", &classify()).text.is_empty());
    let missing = LoadOptions {
        text: vec![(LabelSpec::Name("shade".into()), "--categorical")],
        ..classify()
    };
    assert_eq!(
        err(b"a,kind\n1,x\n", &missing),
        "t.csv: --categorical: no column `shade`; the columns are: a, kind"
    );
    let label = LoadOptions {
        text: vec![(LabelSpec::Name("kind".into()), "--keep")],
        ..classify()
    };
    assert_eq!(
        err(b"a,kind\n1,x\n", &label),
        "t.csv: column `kind` is the label, and --keep names it too"
    );
}

#[test]
fn a_text_feature_gets_the_hint_to_ignore_or_encode_it() {
    let full = parse::<f64>(
        Path::new("t.csv"),
        b"a,my colour,kind\n1,orange,x\n",
        &classify(),
    );
    assert_eq!(
        full.unwrap_err().to_string(),
        "t.csv:2:my colour: `orange` is not a number; if `my colour` is a text column, pass \
         --ignore 'my colour' to skip it or --categorical 'my colour' to one-hot encode it"
    );
    // Not for a blank or an out-of-range number.
    assert_eq!(
        err(b"a,b,kind\n1,,x\n", &classify()),
        "t.csv:2:b: empty field: a missing value, refused unless --impute mean|median|zero fills it"
    );
}

#[test]
fn f32_data_from_an_f64_is_the_decimal_s_f32_wherever_the_table_reader_takes_it_so() {
    // Random decimals of 6 to 17 digits and exponents across f32's normal range, and decimals
    // that round to an f64 exactly halfway between two f32 values (the one case left to the
    // text path): where `f32_same_as_text` says so, f64 → f32 is the decimal's own f32.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut direct = 0;
    for i in 0..200_000 {
        let text = if i % 4 == 0 {
            // Near an f32 midpoint: the midpoint's f64 with its last digits perturbed.
            let f = f32::from_bits((next() % 0x7F00_0000) as u32 + 0x0080_0000);
            let up = f32::from_bits(f.to_bits() + 1);
            let mid = (f64::from(f) + f64::from(up)) / 2.0;
            let s = format!("{mid:e}");
            let (m, e) = s.split_once('e').unwrap();
            format!("{m}{}e{e}", next() % 10)
        } else {
            let digits = 6 + next() % 12;
            let m: String = (0..digits)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            let e = (next() % 70) as i64 - 40;
            format!("0.{m}e{e}")
        };
        let v: f64 = text.parse().unwrap();
        if super::rows::f32_same_as_text(v) {
            direct += 1;
            assert_eq!(v as f32, text.parse::<f32>().unwrap(), "{text}");
        }
    }
    assert!(direct > 100_000, "{direct}");
}
