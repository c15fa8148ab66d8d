//! Memory on the data side, on the real binary: inputs that grow without end are clean
//! out-of-memory errors (exit 3, never an abort), each run in a child under an address-space
//! limit (`prlimit --as`) so that a failing test cannot take the machine down; and
//! `--val-frac` with the bias column stays near the size of the data.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The address space a limited child may use: plenty for mlp-train's code, threads and a
/// few blocks of text, far less than the inputs below would need.
const LIMIT: &str = "--as=1073741824";

/// Runs mlp-train under `prlimit --as`, or None (after saying so loudly) without prlimit.
fn run_limited(args: &[&str]) -> Option<Output> {
    run_limited_to(LIMIT, args)
}

/// Runs mlp-train under `prlimit` with `limit` (`--as=N`); None without prlimit. (No
/// MALLOC_ARENA_MAX here: mlp-train limits glibc's arenas itself under a limit.)
fn run_limited_to(limit: &str, args: &[&str]) -> Option<Output> {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("SKIPPED: prlimit (util-linux) is not installed; memory-limit test not run");
        return None;
    }
    let out = Command::new("prlimit")
        .arg(limit)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_mlp-train"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("prlimit runs");
    Some(out)
}

/// Asserts a clean data error (exit 3, one line, not an abort) containing `want`.
fn assert_clean(out: &Output, want: &str) {
    let err = common::stderr(out);
    assert_eq!(out.status.code(), Some(3), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(want), "{err}");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn a_header_without_end_is_refused_not_grown_forever() {
    let Some(out) = run_limited(&["--data", "/dev/zero", "--quiet"]) else {
        return;
    };
    assert_clean(
        &out,
        "/dev/zero:1:header: the header record is longer than 64.0 MiB (no line end)",
    );
}

#[test]
fn a_gzip_of_nul_bytes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zeros.csv.gz");
    std::fs::write(&path, gzip(&vec![0u8; 100 << 20])).unwrap();
    let path = path.display().to_string();
    let Some(out) = run_limited(&["--data", &path, "--quiet"]) else {
        return;
    };
    assert_clean(
        &out,
        "zeros.csv.gz:1:header: the header record is longer than",
    );
}

#[test]
fn a_gzip_bomb_of_rows_is_an_out_of_memory_error() {
    // 400 gzip members of 8 MiB of rows each: 14 MB on disk, 3.4 GB of rows once expanded.
    let dir = tempfile::tempdir().unwrap();
    let rows = b"1,2,x\n3,4,y\n".repeat((8 << 20) / 12);
    let member = gzip(&rows);
    let path = dir.path().join("bomb.csv.gz");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(&gzip(b"a,b,label\n")).unwrap();
    for _ in 0..400 {
        f.write_all(&member).unwrap();
    }
    drop(f);
    let path = path.display().to_string();
    let Some(out) = run_limited(&["--data", &path, "--quiet", "--epochs", "1"]) else {
        return;
    };
    assert_clean(&out, "bomb.csv.gz: out of memory");
    let err = common::stderr(&out);
    assert!(err.contains(" rows"), "says how far it got: {err}");
}

#[test]
fn a_record_without_end_is_an_out_of_memory_error() {
    // A header, then one field that never ends: 3 GB of digits, far past the limit.
    let dir = tempfile::tempdir().unwrap();
    let member = gzip(&vec![b'7'; 8 << 20]);
    let path = dir.path().join("endless.csv.gz");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(&gzip(b"a,b,label\n1,2,x\n")).unwrap();
    for _ in 0..360 {
        f.write_all(&member).unwrap();
    }
    drop(f);
    let path = path.display().to_string();
    let Some(out) = run_limited(&["--data", &path, "--quiet"]) else {
        return;
    };
    assert_clean(&out, "endless.csv.gz: out of memory after reading");
}

/// Peak resident set of a run, in bytes, by GNU time; None (said loudly) without it.
fn peak_rss(args: &[&str]) -> Option<u64> {
    if !std::path::Path::new("/usr/bin/time").exists() {
        eprintln!("SKIPPED: /usr/bin/time (GNU time) is not installed; peak RSS not measured");
        return None;
    }
    let out = Command::new("/usr/bin/time")
        .args(["-f", "peak_kb=%M"])
        .arg(env!("CARGO_BIN_EXE_mlp-train"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("/usr/bin/time runs");
    let err = common::stderr(&out);
    assert!(out.status.success(), "{err}");
    let kb: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("peak_kb="))
        .and_then(|v| v.trim().parse().ok())
        .expect("GNU time prints %M");
    Some(kb * 1024)
}

#[test]
fn val_frac_and_bias_do_not_copy_the_matrix() {
    // 120 000 rows × 80 features: 38.4 MB as f32.
    let (n, d) = (120_000usize, 80usize);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.csv");
    let mut text = String::with_capacity(n * d * 5);
    let header: Vec<String> = (0..d).map(|j| format!("p{j}")).collect();
    text.push_str(&header.join(","));
    text.push_str(",label\n");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..n {
        for _ in 0..d {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.push_str(&format!("{:.2},", (state % 2000) as f64 / 100.0 - 10.0));
        }
        text.push_str(&format!("c{}\n", state % 5));
    }
    std::fs::write(&path, text).unwrap();
    let path = path.display().to_string();
    let data = (n * d * 4) as f64;
    let bound = 1.25 * data + 50e6;
    let Some(peak) = peak_rss(&[
        "--data",
        &path,
        "--val-frac",
        "0.2",
        "--epochs",
        "1",
        "--hidden",
        "4",
        "--threads",
        "1",
        "--quiet",
    ]) else {
        return;
    };
    eprintln!(
        "peak RSS {:.1} MB for {:.1} MB of f32 data (bound {:.1} MB)",
        peak as f64 / 1e6,
        data / 1e6,
        bound / 1e6
    );
    assert!(
        (peak as f64) < bound,
        "peak RSS {peak} bytes exceeds 1.25 × {data} + 50 MB"
    );
}

/// Runs a training with `--report` under a 1 GiB address-space limit; returns the page.
fn report_of(csv: &[u8], extra: &[&str]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    std::fs::write(&data, csv).unwrap();
    let page = dir.path().join("r.html");
    let (data, page_s) = (data.display().to_string(), page.display().to_string());
    let mut args = vec![
        "--data", &data, "--epochs", "1", "--hidden", "4", "-q", "--report", &page_s,
    ];
    args.extend(extra);
    let out = run_limited(&args)?;
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    Some(std::fs::read_to_string(&page).unwrap())
}

#[test]
fn a_report_cuts_long_labels() {
    // 20 classes named by 1 MiB each: the matrix is drawn (20 ≤ 30), each name cut to 48
    // characters and its length; the page stays small (it was 20² × 2 MiB of titles).
    let mut csv = b"x,label\n".to_vec();
    for k in 0..20 {
        csv.extend(format!("{k},{k:02}").bytes());
        csv.extend(std::iter::repeat_n(b'y', 1 << 20));
        csv.push(b'\n');
    }
    let Some(page) = report_of(&csv, &[]) else {
        return;
    };
    assert!(page.len() < 1 << 20, "{} bytes", page.len());
    assert!(page.contains("class=\"cm\""), "20 classes are drawn");
    let cut = format!("07{}… (1048578 characters)", "y".repeat(46));
    assert!(page.contains(&cut), "a label cut with its length");
}

#[test]
fn a_report_on_thousands_of_classes_is_a_summary() {
    // 5000 integer classes, one row each (a 40 KB file): no 5000 × 5000 matrix (a 5 GB page),
    // but the top confusions and a per-class table of the 1000 classes with the most rows.
    let mut csv = String::from("x,label\n");
    for k in 0..5000 {
        csv.push_str(&format!("{},{k}\n", k % 13));
    }
    let Some(page) = report_of(csv.as_bytes(), &[]) else {
        return;
    };
    assert!(page.len() < 2 << 20, "{} bytes", page.len());
    assert!(!page.contains("class=\"cm\""));
    assert!(page.contains("5000 classes: too many to draw"));
    assert!(page.contains("id=\"top-confusions\""));
    assert!(page.contains("The 1000 classes with the most rows, of 5000."));
    let per_class = page.split("id=\"per-class\"").nth(1).unwrap();
    assert_eq!(per_class.matches("<tr><td>").count(), 1000);
}

/// A valid model of d = 2 (one feature and the bias), h hidden units and 2 classes, written
/// as compact JSON (6 significant digits a weight), from a tiny trained model's envelope.
fn wide_model(dir: &std::path::Path, h: usize) -> (String, String) {
    let data = dir.join("tiny.csv");
    std::fs::write(&data, "x,label\n0,a\n1,b\n2,a\n3,b\n").unwrap();
    let small = dir.join("small.json");
    let (data, small_s) = (data.display().to_string(), small.display().to_string());
    let out = common::run(&["--data", &data, "--hidden", "1", "--save", &small_s, "-q"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&small).unwrap()).unwrap();
    v["architecture"]["hidden"] = h.into();
    v["w1"] = "W1".into();
    v["w2"] = "W2".into();
    let text = serde_json::to_string(&v).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut weight = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 2_000_000) as f64 / 1e6 - 1.0
    };
    let mut w1 = String::with_capacity(h * 22);
    for i in 0..h {
        w1.push_str(if i == 0 { "[" } else { "," });
        w1.push_str(&format!("[{:.6},{:.6}]", weight(), weight()));
    }
    w1.push(']');
    let mut w2 = String::with_capacity(h * 20);
    for k in 0..2 {
        w2.push_str(if k == 0 { "[[" } else { "],[" });
        for i in 0..h {
            if i > 0 {
                w2.push(',');
            }
            w2.push_str(&format!("{:.6}", weight()));
        }
    }
    w2.push_str("]]");
    let text = text.replace("\"W1\"", &w1).replace("\"W2\"", &w2);
    let model = dir.join("wide.json");
    std::fs::write(&model, text).unwrap();
    (model.display().to_string(), data)
}

#[test]
fn a_model_too_big_for_the_limit_is_refused_before_parsing() {
    // h = 3 000 000: a 120 MB file that takes about 500 MB to load. Under 400 MB: exit 4, one
    // line naming the file, what loading needs and what is available (it aborted, 134); under
    // 600 MB it predicts.
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = wide_model(dir.path(), 3_000_000);
    let args = ["predict", "--model", &model, "--data", &data];
    let Some(out) = run_limited_to("--as=400000000", &args) else {
        return;
    };
    common::assert_error(
        &out,
        4,
        &[
            "wide.json: loading this model needs",
            "w1 as parsed",
            "but only",
            "RLIMIT_AS",
        ],
    );
    let out = run_limited_to("--as=600000000", &args).unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(
        common::ok_stdout(&out).lines().count(),
        5,
        "a header and 4 rows"
    );
    // With --report the page's copies of the model count too (under 600 MB they aborted);
    // under 1 GB the page is written without the explained sample, which says why.
    let page = dir.path().join("r.html");
    let page_s = page.display().to_string();
    let mut with_report = args.to_vec();
    with_report.extend(["--report", &page_s]);
    let out = run_limited_to("--as=600000000", &with_report).unwrap();
    common::assert_error(
        &out,
        4,
        &["loading this model needs", "the report's copies"],
    );
    let out = run_limited_to("--as=1000000000", &with_report).unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("cannot explain the sample: explaining it needs"),
        "the reason in the page"
    );
}

#[test]
fn eval_lists_the_largest_confusions_instead_of_a_matrix_of_many_classes() {
    // 40 classes: the matrix would be 40 columns wide; the text lists the top confusions,
    // and the JSON still has the whole matrix.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("many.csv");
    let mut csv = String::from("x,y,label\n");
    for i in 0..400 {
        let _ = std::fmt::Write::write_fmt(
            &mut csv,
            format_args!("{},{},c{}\n", i % 7, i % 11, i % 40),
        );
    }
    std::fs::write(&data, csv).unwrap();
    let (d, m) = (data.display().to_string(), dir.path().join("m.json"));
    let m = m.display().to_string();
    let out = common::run(&["--data", &d, "--epochs", "2", "--save", &m, "-q"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let out = common::run(&["eval", "--model", &m, "--data", &d]);
    let text = common::ok_stdout(&out);
    assert!(
        text.contains(
            "confusion matrix: 40 classes, too many to print; the 20 most frequent confusions"
        ),
        "{text}"
    );
    let listed: Vec<u64> = text
        .lines()
        .filter(|l| l.contains(" true c") && l.contains(" predicted c"))
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(listed.len(), 20, "{text}");
    assert!(
        listed.windows(2).all(|w| w[0] >= w[1]),
        "largest first: {listed:?}"
    );
    let out = common::run(&["eval", "--model", &m, "--data", &d, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&common::ok_stdout(&out)).unwrap();
    let confusion = v["confusion"].as_array().unwrap();
    assert_eq!(confusion.len(), 40);
    // The largest off-diagonal cell is the first one listed.
    let largest = confusion
        .iter()
        .enumerate()
        .flat_map(|(t, row)| {
            row.as_array()
                .unwrap()
                .iter()
                .enumerate()
                .filter(move |(p, _)| *p != t)
                .map(|(_, v)| v.as_u64().unwrap())
        })
        .max()
        .unwrap();
    assert_eq!(listed[0], largest);
}
