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
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("SKIPPED: prlimit (util-linux) is not installed; memory-limit test not run");
        return None;
    }
    let out = Command::new("prlimit")
        .arg(LIMIT)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_mlp-train"))
        .args(args)
        // glibc reserves 64 MiB of address space per malloc arena and thread.
        .env("MALLOC_ARENA_MAX", "2")
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
