//! `data::load` streams a file a block at a time; `data::parse` reads a slice the same way.
//! Files of several blocks (quoted fields with newlines and commas, CRLF, blank lines, gzip)
//! must give exactly the frame, or the error, that `parse` gives on the same bytes.
//! (Tiny blocks, every cut and property tests are in `src/data/tests.rs`; here, the public API.)

use std::io::Write;

use mlp_train::data::{self, Frame, LabelKind, LabelSpec, LoadOptions, Source};

fn classify() -> LoadOptions<'static> {
    LoadOptions::new(vec![LabelSpec::Last], LabelKind::Classes)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// About `mb` MB of rows: numbers, quoted labels holding commas, newlines and quotes, CRLF
/// line ends and blank lines; `bad` replaces the first field of that row.
fn text(mb: usize, bad: Option<(usize, &str)>) -> Vec<u8> {
    let mut t = String::from("\u{feff}\r\n\"first\nfeature\",b,c,kind\r\n");
    let mut i = 0;
    while t.len() < mb << 20 {
        let first = match bad {
            Some((row, what)) if row == i => what.to_string(),
            _ => format!("{}.{}", i, i % 7),
        };
        let label = match i % 5 {
            0 => "\"k,0\"".to_string(),
            1 => "\"k\n1\"".to_string(),
            2 => "\"k \"\"2\"\"\"".to_string(),
            _ => format!("k{}", i % 5),
        };
        t.push_str(&format!("{first},-{},{}e-3,{label}\r\n", i * 3, i % 1000));
        if i % 1013 == 0 {
            t.push_str("\r\n\n");
        }
        i += 1;
    }
    t.into_bytes()
}

/// `load` of `bytes` written to a file (plain, then gzipped), against `parse` of them.
fn load_matches_parse(bytes: &[u8]) -> Result<Frame<f32>, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    let want = data::parse::<f32>(&path, bytes, &classify()).map_err(|e| e.to_string());
    for gz in [false, true] {
        std::fs::write(&path, if gz { gzip(bytes) } else { bytes.to_vec() }).unwrap();
        let got = data::load::<f32>(&Source::Path(path.clone()), &classify());
        assert_eq!(got.map_err(|e| e.to_string()), want, "gzip {gz}");
    }
    want.map(|mut f| {
        f.source = "t.csv".into();
        f
    })
}

#[test]
fn a_file_of_many_blocks_loads_as_it_parses() {
    let f = load_matches_parse(&text(13, None)).unwrap();
    let n = f.x.nrows();
    assert!(n > 300_000, "{n} rows");
    assert_eq!(f.feature_names[0], "first\nfeature");
    assert_eq!(
        f.x[[n - 1, 0]],
        format!("{}.{}", n - 1, (n - 1) % 7).parse::<f32>().unwrap()
    );
    // Every row after a quoted newline or a blank line is numbered right, to the last.
    let line = |i: usize| 4 + i + (i + 3) / 5 + 2 * i.div_ceil(1013);
    for i in [0, 1, 2, 1012, 1013, 1014, n / 2, n - 1] {
        assert_eq!(f.lines.line(i), Some(line(i) as u64), "row {i}");
    }
}

#[test]
fn errors_far_into_a_file_name_the_right_line() {
    for (row, bad) in [(250_000, "x"), (2, "1,2"), (1013, "")] {
        let e = load_matches_parse(&text(9, Some((row, bad)))).unwrap_err();
        let line = 4 + row + (row + 3) / 5 + 2 * row.div_ceil(1013);
        assert!(e.contains(&format!("t.csv:{line}:")), "{e}");
    }
}

/// CPU seconds (user + system) this process has used, from /proc (Linux), or 0.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
}

/// Timing, by hand: `MLP_LOAD_BENCH=file.csv cargo test --release --test data_stream -- \
/// --ignored --nocapture`; the best of 5 loads, wall clock and CPU time.
#[test]
#[ignore]
fn load_speed() {
    let Ok(file) = std::env::var("MLP_LOAD_BENCH") else {
        return;
    };
    let size = std::fs::metadata(&file).unwrap().len() as f64 / 1e6;
    let (mut wall, mut cpu) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..5 {
        let (t, c) = (std::time::Instant::now(), cpu_seconds());
        let f = data::load::<f32>(&Source::parse(&file), &classify()).unwrap();
        wall = wall.min(t.elapsed().as_secs_f64());
        cpu = cpu.min(cpu_seconds() - c);
        assert!(f.x.nrows() > 0);
    }
    println!(
        "{file}: {size:.0} MB in {wall:.3} s: {:.0} MB/s; {cpu:.2} CPU s: {:.0} MB per CPU s",
        size / wall,
        size / cpu
    );
}
