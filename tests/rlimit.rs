//! Memory limits swept, on the real binary under `prlimit --as`: for a data file (training), a
//! model file (predict) and a report, every limit ends in 0, 2, 3 or 4 (never an abort, 134),
//! and every limit above the smallest that succeeds succeeds too (within MARGIN).
//
// A run needs tens of MB of address space before it reads anything (code, glibc, the stacks
// of its threads, the matrix products' buffers): each sweep starts below what the smallest run
// needs (measured once, `floor`) and steps up past what its input needs. Sizes and steps are
// chosen so that the whole file runs in well under a minute on two cores.

mod common;
#[path = "common/tables.rs"]
mod tables;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const MB: u64 = 1 << 20;
/// A limit this far above the smallest that succeeds must succeed too.
const MARGIN: u64 = 16 * MB;

fn have_prlimit() -> bool {
    static HAVE: OnceLock<bool> = OnceLock::new();
    *HAVE.get_or_init(|| {
        let ok = Command::new("prlimit")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            eprintln!("SKIPPED: prlimit (util-linux) is not installed; RLIMIT_AS sweeps not run");
        }
        ok
    })
}

/// Runs mlp-train with `args` under an address-space limit of `limit` bytes.
fn run_as(limit: u64, args: &[&str]) -> Output {
    Command::new("prlimit")
        .arg(format!("--as={limit}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_mlp-train"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("prlimit runs")
}

/// The smallest limit (to 1 MB) at which a tiny training run succeeds: the address space
/// mlp-train needs before any data.
fn floor() -> u64 {
    static FLOOR: OnceLock<u64> = OnceLock::new();
    *FLOOR.get_or_init(|| {
        let iris = common::data("iris.csv");
        let args = [
            "--data",
            iris.as_str(),
            "--epochs",
            "1",
            "--hidden",
            "4",
            "-q",
        ];
        let (mut lo, mut hi) = (MB, 1024 * MB);
        assert!(run_as(hi, &args).status.success(), "iris under 1 GiB");
        while hi - lo > MB {
            let mid = (lo + hi) / 2;
            if run_as(mid, &args).status.success() {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        eprintln!(
            "floor: a tiny run needs {:.1} MB of address space",
            hi as f64 / 1e6
        );
        hi
    })
}

/// Runs `args` at each limit of `limits`; asserts every exit is 0, 2, 3 or 4 (one line on
/// stderr when not 0), that some limit fails and some succeeds, and that every limit at least
/// MARGIN above the smallest success succeeds. Returns that smallest success.
fn sweep(what: &str, limits: impl Iterator<Item = u64>, args: &[&str]) -> u64 {
    sweep_checking(what, limits, args, |_| {})
}

/// As [`sweep`], and `check(stdout)` on every run that succeeds.
fn sweep_checking(
    what: &str,
    limits: impl Iterator<Item = u64>,
    args: &[&str],
    check: impl Fn(&str),
) -> u64 {
    let mut seen = Vec::new();
    for limit in limits {
        let out = run_as(limit, args);
        let code = out.status.code();
        let err = common::stderr(&out);
        if code == Some(0) {
            check(&String::from_utf8_lossy(&out.stdout));
        }
        assert!(
            matches!(code, Some(0 | 2 | 3 | 4)),
            "{what} at --as={limit}: exit {code:?} (signal {:?})\n{err}",
            std::os::unix::process::ExitStatusExt::signal(&out.status)
        );
        if code != Some(0) {
            assert_eq!(err.lines().count(), 1, "{what} at --as={limit}: {err}");
            assert!(err.starts_with("mlp-train: error: "), "{err}");
        }
        seen.push((limit, code, err));
    }
    let table: String = seen
        .iter()
        .map(|(l, c, e)| format!("{:>6.1} MB → {c:?} {}\n", *l as f64 / 1e6, e.trim_end()))
        .collect();
    eprintln!("{what}:\n{table}");
    let first_ok = seen
        .iter()
        .find(|(_, c, _)| *c == Some(0))
        .map(|s| s.0)
        .unwrap_or_else(|| panic!("{what}: no limit succeeds\n{table}"));
    assert!(
        seen.first().is_some_and(|s| s.1 != Some(0)),
        "{what}: the sweep should start below the smallest limit that works\n{table}"
    );
    for (limit, code, _) in &seen {
        if *limit >= first_ok + MARGIN {
            assert_eq!(
                *code,
                Some(0),
                "{what}: fails at {limit} although {first_ok} succeeded\n{table}"
            );
        }
    }
    first_ok
}

/// A CSV of `n` rows, `d` numeric features and a label of 3 classes, the same on every run.
fn csv(path: &Path, n: usize, d: usize) {
    let mut text = (0..d).map(|j| format!("f{j},")).collect::<String>() + "label\n";
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..n {
        for _ in 0..d {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.push_str(&format!("{:.3},", (state % 20_000) as f64 / 1000.0 - 10.0));
        }
        text.push_str(&format!("c{}\n", i % 3));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn training_on_a_data_file_never_aborts_and_more_memory_never_hurts() {
    if !have_prlimit() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.csv");
    // 100 000 × 20: 13 MB of text, 8 MB of f32.
    csv(&path, 100_000, 20);
    let path = path.display().to_string();
    // -q prints no summary: the --json one says what was read.
    let args = [
        "--data", &path, "--epochs", "1", "--hidden", "8", "-q", "--json",
    ];
    let base = floor();
    // A run that succeeds has read every row: memory refused while joining the last block's
    // rows once trained on 268 465 rows of 300 000 with exit 0.
    let first = sweep_checking(
        "training on 100 000 × 20",
        (0..20).map(|k| base.saturating_sub(8 * MB) + k * 3 * MB),
        &args,
        |out| assert!(out.contains("\"rows\":100000"), "{out}"),
    );
    assert!(first > base, "the data needs memory beyond the floor");
}

#[test]
fn predicting_with_a_wide_model_never_aborts_and_more_memory_never_hurts() {
    if !have_prlimit() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("tiny.csv");
    std::fs::write(&data, "x,label\n0,a\n1,b\n2,a\n3,b\n").unwrap();
    let model = dir.path().join("wide.json");
    let data = data.display().to_string();
    let model_s = model.display().to_string();
    // h = 100 000: W1 100 000 × 2, W2 2 × 100 000; a 13 MB file, ~17 MB once parsed.
    let out = common::run(&[
        "--data", &data, "--hidden", "100000", "--epochs", "1", "--save", &model_s, "-q",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let args = ["predict", "--model", &model_s, "--data", &data];
    let base = floor();
    let first = sweep(
        "predict with a 2→100000→2 model",
        (0..20).map(|k| base.saturating_sub(8 * MB) + k * 4 * MB),
        &args,
    );
    assert!(first > base);
    // Just below: a model-file error (exit 4) that names the file.
    let out = run_as(first - 4 * MB, &args);
    common::assert_error(&out, 4, &["wide.json: "]);
}

#[test]
fn a_report_on_many_classes_never_aborts_and_more_memory_never_hurts() {
    if !have_prlimit() {
        return;
    }
    // 400 classes of 2 rows, labels of 200 characters: the page's summary, not a 400² matrix.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("classes.csv");
    let mut text = String::from("x,y,label\n");
    for i in 0..800 {
        text.push_str(&format!("{},{},c{:0>199}\n", i % 7, i % 11, i % 400));
    }
    std::fs::write(&path, text).unwrap();
    let report = dir.path().join("r.html");
    let path = path.display().to_string();
    let report_s = report.display().to_string();
    let args = [
        "--data", &path, "--epochs", "1", "--hidden", "4", "-q", "--report", &report_s,
    ];
    let base = floor();
    sweep(
        "a report on 400 classes",
        (0..12).map(|k| base.saturating_sub(8 * MB) + k * 3 * MB),
        &args,
    );
    let page = std::fs::read_to_string(&report).unwrap();
    assert!(page.contains("id=\"top-confusions\""), "summarised");
    assert!(!page.contains("class=\"cm\""), "no 400 × 400 matrix");
    assert!(page.len() < 1 << 20, "{} bytes", page.len());
}

#[test]
fn parquet_and_numpy_files_never_abort_and_more_memory_never_hurts() {
    use ndarray_npy::{NpzWriter, WriteNpyExt};
    if !have_prlimit() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("data.csv");
    // 100 000 × 20, as the CSV sweep: 16 MB of f64 in the files, 8 MB of f32 in memory.
    csv(&csv_path, 100_000, 20);
    let table = tables::parse_csv(&std::fs::read_to_string(&csv_path).unwrap());
    let x = table.numbers(0..20);
    let y: ndarray::Array1<i64> = (0..100_000).map(|i| i % 3).collect();
    let mut files = Vec::new();
    let npz = dir.path().join("data.npz");
    let mut w = NpzWriter::new(std::fs::File::create(&npz).unwrap());
    w.add_array("X", &x).unwrap();
    w.add_array("y", &y).unwrap();
    w.finish().unwrap();
    files.push(npz);
    let npy = dir.path().join("data.npy");
    let mut xy = ndarray::Array2::<f64>::zeros((100_000, 21));
    xy.slice_mut(ndarray::s![.., ..20]).assign(&x);
    xy.column_mut(20).assign(&y.mapv(|v| v as f64));
    xy.write_npy(std::fs::File::create(&npy).unwrap()).unwrap();
    files.push(npy);
    #[cfg(feature = "parquet")]
    {
        let pq = dir.path().join("data.parquet");
        tables::parquet_files::write(&table, &pq, false);
        files.push(pq);
    }
    let base = floor();
    for file in files {
        let path = file.display().to_string();
        let args = [
            "--data", &path, "--epochs", "1", "--hidden", "8", "-q", "--json",
        ];
        sweep_checking(
            &format!("training on {path}"),
            (0..24).map(|k| base.saturating_sub(8 * MB) + k * 4 * MB),
            &args,
            |out| assert!(out.contains("\"rows\":100000"), "{out}"),
        );
    }
}
