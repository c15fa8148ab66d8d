//! Fuzzes the CSV reader: `mlp_train::data::parse` (after the gzip sniffing of
//! `gunzip_if_gzip`) with every kind of label spec (two per input), in f32 and f64, then the preprocessing
//! fitted on whatever parses. Corpus: the files in data/ (heads and whole), gzipped copies.
//! Beyond "no panic": every message is one line without control characters and of bounded
//! length; a file that ends inside quotes is refused; row lines increase and stay within the
//! file; the same file with `\r\n` or lone `\r` line ends, or with `;` for `,` read with
//! `--delimiter ';'`, gives the same frame or the same error.
//!
//! cargo run --release --bin fuzz_csv -- --seconds 180

use std::path::Path;

use mlp_train::data::prep::{Prep, Task};
use mlp_train::data::{self, Frame, LabelKind, LabelSpec, Labels, LoadOptions};
use mlp_train_fuzz::{data_dir, finish, fuzz, gzip, Options};

const DICT: &[&[u8]] = &[
    b"nan",
    b"NaN",
    b"inf",
    b"-inf",
    b"Infinity",
    b"1e999",
    b"-1e999",
    b"1e-400",
    b"-0",
    b"+1",
    b" 1 ",
    b"0x10",
    b"1_000",
    b"99999999999999999999",
    b".",
    b"-",
    b"e5",
    b"\"",
    b"\"\"",
    b"\",\"",
    b",",
    b",,",
    b"\r\n",
    b"\r",
    b"\n",
    b"\n\n",
    b"\t",
    b" ",
    b"\xEF\xBB\xBF",
    b"\x1b[31m",
    b"\x1b]0;t\x07",
    b"\x7f",
    b"\xe2\x80\xae",
    b"\xc2\x85",
    b"\"x\n",
    b"\"\r\n\"",
    b"\"\r\"",
    b"\r\r",
    b"\n\r",
    b";",
    b"|",
    b"2.0",
    b"1e0",
    b"\x1f\x8b",
    b"\x00",
    b"\xff",
    b"\xc3\xa9",
    b"#",
    b"species",
    b"label",
    b"a",
    b"b",
    b"c",
    b"field 2",
    b"setosa",
    b"p0",
];

/// Checks what a successful parse promises, and runs the preprocessing on it.
fn check<T: mlp_train::Real>(f: &Frame<T>, opts: &LoadOptions) -> String {
    let (n, d) = f.x.dim();
    assert_eq!(f.lines.len(), n, "one line number per row");
    assert_eq!(f.feature_names.len(), d, "one name per feature column");
    assert!(f.x.iter().all(|v| v.is_finite()), "only finite features");
    if let Some(expected) = opts.expected_features {
        assert_eq!(f.feature_names, expected, "the expected features");
    }
    let kind = match &f.labels {
        Labels::None => "none",
        Labels::Classes(c) => {
            assert_eq!(c.y.len(), n);
            assert_eq!(f.label_names.len(), 1);
            assert!(c.names.iter().all(|s| !s.is_empty()), "no empty class name");
            assert!(
                c.y.iter().all(|&k| (k as usize) < c.names.len()),
                "class indices in range"
            );
            assert!(
                c.names
                    .windows(2)
                    .all(|w| data::class_order(&w[0], &w[1]) == std::cmp::Ordering::Less),
                "class names sorted, equal numbers merged"
            );
            let task = Task::Classify;
            if let Ok(p) = Prep::fit(f, task, true, true, true) {
                let data = p
                    .transform(f.clone())
                    .expect("a frame transforms with its own prep");
                assert_eq!(data.x.dim(), (n, d + 1));
                assert!(
                    data.x.iter().all(|v| v.is_finite()),
                    "standardized x finite"
                );
            }
            "classes"
        }
        Labels::Targets(t) => {
            assert_eq!(t.dim(), (n, f.label_names.len()));
            assert!(t.iter().all(|v| v.is_finite()), "only finite targets");
            if let Ok(p) = Prep::fit(f, Task::Regress, true, true, false) {
                let data = p
                    .transform(f.clone())
                    .expect("a frame transforms with its own prep");
                assert_eq!(data.x.dim(), (n, d));
            }
            "targets"
        }
    };
    format!("{kind} d={}", d.min(3))
}

/// Whether `bytes` end inside a quoted field, by the RFC 4180 rules the reader follows (a
/// `"` opens quotes only at the start of a field): written apart from the reader's own scan.
fn ends_in_quotes(bytes: &[u8], delim: u8) -> bool {
    let (mut quoted, mut at_start, mut after_quote) = (false, true, false);
    for &b in bytes {
        if quoted {
            if b == b'"' {
                quoted = false;
                after_quote = true;
            }
            continue;
        }
        if after_quote && b == b'"' {
            // `""` inside quotes: a literal quote, still quoted.
            quoted = true;
            after_quote = false;
            continue;
        }
        after_quote = false;
        if b == b'"' && at_start {
            quoted = true;
        }
        at_start = b == delim || b == b'\n' || b == b'\r';
    }
    quoted
}

/// The 1-based number of the last line of `bytes`, line ends being `\n`, `\r\n`, lone `\r`.
fn last_line(bytes: &[u8]) -> u64 {
    let mut n = 1;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || b == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            n += 1;
        }
    }
    n
}

/// What must hold of any outcome: a one-line message naming the file, without control
/// characters, of bounded length; rows on increasing lines within the file.
fn check_outcome<T: mlp_train::Real>(r: &Result<Frame<T>, mlp_train::Error>, bytes: &[u8]) {
    match r {
        Err(e) => {
            let m = e.to_string();
            assert!(m.starts_with("fuzz.csv"), "a message without the file: {m}");
            assert!(
                !m.chars().any(|c| c.is_control()),
                "a control character in a message: {m:?}"
            );
            assert!(m.len() < 4096, "a message of {} bytes", m.len());
        }
        Ok(f) => {
            let lines: Vec<u64> = (0..f.lines.len()).filter_map(|i| f.lines.line(i)).collect();
            assert_eq!(lines.len(), f.lines.len());
            assert!(
                lines.windows(2).all(|w| w[0] < w[1]),
                "rows on increasing lines"
            );
            let last = last_line(bytes);
            assert!(
                lines.iter().all(|&l| l >= 2 && l <= last),
                "row lines within 2..={last}: {lines:?}"
            );
        }
    }
}

/// A frame as text, to compare two reads of the same data.
fn summary<T: mlp_train::Real>(r: &Result<Frame<T>, mlp_train::Error>) -> String {
    match r {
        Ok(f) => format!(
            "{:?} {:?} {:?} {:?} {:?}",
            f.feature_names, f.label_names, f.x, f.labels, f.lines
        ),
        Err(e) => format!("error {e}"),
    }
}

/// The same data with other line ends or another delimiter gives the same outcome.
fn check_equivalents(bytes: &[u8], opts: &LoadOptions) {
    let name = Path::new("fuzz.csv");
    if bytes.contains(&b'\r') || bytes.contains(&b'"') || bytes.starts_with(&[0x1f, 0x8b]) {
        return;
    }
    let want = summary(&data::parse::<f64>(name, bytes, opts));
    for eol in [&b"\r\n"[..], &b"\r"[..]] {
        let other: Vec<u8> = bytes
            .iter()
            .flat_map(|&b| if b == b'\n' { eol.to_vec() } else { vec![b] })
            .collect();
        let got = summary(&data::parse::<f64>(name, &other, opts));
        assert_eq!(got, want, "line ends {eol:?} change the outcome");
    }
    if !bytes.contains(&b';') && !bytes.contains(&b'\t') && !bytes.contains(&b'|') {
        let semi: Vec<u8> = bytes
            .iter()
            .map(|&b| if b == b',' { b';' } else { b })
            .collect();
        let mut o = opts.clone();
        o.delimiter = b';';
        let got = data::parse::<f64>(name, &semi, &o);
        let want = data::parse::<f64>(name, bytes, opts);
        match (&got, &want) {
            (Ok(_), Ok(_)) => assert_eq!(summary(&got), summary(&want), "`;` reads as `,`"),
            (Err(_), Err(_)) => {}
            _ => panic!(
                "`;` and `,` disagree: {} / {}",
                summary(&got),
                summary(&want)
            ),
        }
    }
}

fn target(input: &[u8]) -> Result<String, String> {
    let name = Path::new("fuzz.csv");
    let bytes = data::gunzip_if_gzip(name, input.to_vec()).map_err(|e| e.to_string())?;
    let ab: Vec<String> = vec!["a".into(), "b".into()];
    type Spec<'a> = (Vec<LabelSpec>, LabelKind, Option<&'a [String]>, bool);
    let specs: Vec<Spec> = vec![
        (vec![LabelSpec::Last], LabelKind::Classes, None, false),
        (vec![LabelSpec::Last], LabelKind::Targets, None, false),
        (vec![LabelSpec::Index(0)], LabelKind::Classes, None, false),
        (vec![LabelSpec::Index(2)], LabelKind::Targets, None, false),
        (
            vec![LabelSpec::Name("species".into())],
            LabelKind::Classes,
            None,
            true,
        ),
        (
            vec![LabelSpec::Name("c".into())],
            LabelKind::Classes,
            Some(&ab),
            true,
        ),
        (
            vec![LabelSpec::Name("b".into()), LabelSpec::Index(0)],
            LabelKind::Targets,
            None,
            false,
        ),
        (vec![LabelSpec::Absent], LabelKind::Classes, None, false),
        (vec![], LabelKind::Targets, Some(&ab), false),
    ];
    // Each parse costs a thread spawn in mlp_train::data (even for a tiny file), so each input runs
    // the first spec and one other, chosen by its content: all specs over many inputs.
    let other = 1 + input
        .iter()
        .fold(0usize, |h, &c| h.wrapping_mul(31).wrapping_add(c as usize))
        % (specs.len() - 1);
    let mut first = None;
    for (k, (labels, kind, expected, optional)) in specs.into_iter().enumerate() {
        if k != 0 && k != other {
            continue;
        }
        let mut opts = LoadOptions::new(labels, kind);
        opts.expected_features = expected;
        opts.optional_label = optional;
        let r32 = data::parse::<f32>(name, &bytes, &opts);
        let r64 = data::parse::<f64>(name, &bytes, &opts);
        check_outcome(&r32, &bytes);
        check_outcome(&r64, &bytes);
        if ends_in_quotes(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes), b',') {
            assert!(r64.is_err(), "a file that ends inside quotes was accepted");
        }
        if k == 0 {
            check_equivalents(&bytes, &opts);
        }
        let outcome = match (&r32, &r64) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.feature_names, b.feature_names, "f32 and f64 agree");
                assert_eq!(a.lines, b.lines, "f32 and f64 agree");
                check(a, &opts);
                Ok(check(b, &opts))
            }
            (Err(a), Err(_)) => Err(a.to_string()),
            // f32 may overflow where f64 does not (1e39): only that difference is allowed.
            (Err(a), Ok(_)) => {
                let m = a.to_string();
                assert!(
                    m.contains("finite") || m.contains("range"),
                    "f32 alone refused: {m}"
                );
                Err(m)
            }
            (Ok(_), Err(b)) => panic!("f64 refused what f32 parsed: {b}"),
        };
        // Every message names the file.
        if let Err(m) = &outcome {
            assert!(m.starts_with("fuzz.csv"), "a message without the file: {m}");
        }
        first.get_or_insert(outcome);
    }
    first.unwrap_or_else(|| Err("no spec".into()))
}

fn main() {
    let opts = Options::from_args();
    let mut seeds = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(data_dir())
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    names.sort();
    for path in names {
        if path.extension().is_some_and(|e| e == "csv") {
            let whole = std::fs::read(&path).unwrap_or_default();
            // The head of each file: fast to parse, so most of the time goes to mutations.
            let head: Vec<u8> = whole
                .split_inclusive(|&c| c == b'\n')
                .take(8)
                .flatten()
                .copied()
                .collect();
            seeds.push(gzip(&head));
            seeds.push(head);
            if whole.len() <= opts.max_len {
                seeds.push(whole);
            }
        }
    }
    seeds.push(b"a,b,c\n1,2,x\n3,4,y\n".to_vec());
    seeds.push(b"\xEF\xBB\xBFa,b,c\r\n1,2,x\r\n3,4,y\r\n".to_vec());
    seeds.push(b"\"a\",\"b,\"\"q\"\"\",c\n\"1\",2,\"x y\"\n3,4,y\n".to_vec());
    seeds.push(b"a,b,c\r1,2,x\r\r3,\"4\r5\",y\r".to_vec());
    seeds.push(b"a,b,c\n1,2,\"x\n3,4,y\n".to_vec());
    seeds.push(b"a,b,c\n1,\"2\x1b[31m\n\x00\",x\n3,4,\"\xe2\x80\xaey\"\n".to_vec());
    seeds.push(b"a,b,c\n1,2,2\n3,4,2.0\n5,6,1e0\n".to_vec());
    let stats = fuzz("fuzz_csv", &opts, seeds, DICT, &target);
    std::process::exit(finish("fuzz_csv", &opts, &stats));
}
