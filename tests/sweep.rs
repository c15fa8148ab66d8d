//! scripts/sweep.sh on a tiny grid with a shipped dataset: one row per grid point, the
//! documented columns, best score first, --cv scored, failures, resume; collect.sh's errors.

mod common;
use common::data;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// Runs scripts/`script` with `args` and MLP_TRAIN = `bin`.
fn script_with(script: &str, bin: &str, args: &[&str]) -> Output {
    let root = env!("CARGO_MANIFEST_DIR");
    Command::new("sh")
        .arg(format!("{root}/scripts/{script}"))
        .args(args)
        .env("MLP_TRAIN", bin)
        .output()
        .expect("sh runs")
}

fn sweep_out(args: &[&str]) -> Output {
    script_with("sweep.sh", env!("CARGO_BIN_EXE_mlp-train"), args)
}

fn sweep(args: &[&str]) -> String {
    let out = sweep_out(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

#[test]
fn classification_sweep_is_complete_and_sorted_best_first() {
    let table = sweep(&[
        "-j",
        "2",
        "-l",
        "0 0.01",
        "-r",
        "0.02 0.2",
        "-H",
        "4",
        "--",
        "--data",
        &data("iris.csv"),
        "--val-frac",
        "0.3",
        "--epochs",
        "15",
    ]);
    assert_eq!(
        table.lines().next().unwrap(),
        "score,lambda,lr,hidden,epochs,train_metric,val_metric,test_metric,train_loss,seconds,cv_metric,run"
    );
    let rows = rows(&table);
    assert_eq!(rows.len(), 4, "{table}");
    let mut grid: Vec<(String, String)> =
        rows.iter().map(|r| (r[1].clone(), r[2].clone())).collect();
    grid.sort();
    assert_eq!(
        grid,
        [
            ("0.0", "0.02"),
            ("0.0", "0.2"),
            ("0.01", "0.02"),
            ("0.01", "0.2")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let scores: Vec<f64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "not best first: {scores:?}"
    );
    // The score is the validation accuracy when there is a validation set.
    for r in &rows {
        assert_eq!(r[0], r[6]);
        assert_eq!(r[3], "4");
    }
}

#[test]
fn regression_sweep_puts_the_lowest_rmse_first() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("table.csv");
    let table = sweep(&[
        "-o",
        out.to_str().unwrap(),
        "-l",
        "0",
        "-r",
        "0.001 0.1",
        "-H",
        "8",
        "--",
        "--data",
        &data("regression.csv"),
        "--task",
        "regress",
        "--epochs",
        "10",
    ]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), table);
    let scores: Vec<f64> = rows(&table).iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(scores.len(), 2);
    assert!(scores[0] <= scores[1], "lowest RMSE first: {scores:?}");
}

/// An MLP_TRAIN that counts its runs in `count` and runs the real binary.
fn counting_binary(dir: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("counting-mlp-train");
    fs::write(
        &bin,
        format!(
            "#!/bin/sh\necho run >>'{}'\nexec '{}' \"$@\"\n",
            dir.join("count").display(),
            env!("CARGO_BIN_EXE_mlp-train")
        ),
    )
    .unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    bin.display().to_string()
}

fn take_count(dir: &Path) -> usize {
    let n = fs::read_to_string(dir.join("count")).map_or(0, |s| s.lines().count());
    let _ = fs::remove_file(dir.join("count"));
    n
}

/// Without the `seconds` column (index 9), which differs between two runs of the same point.
fn without_seconds(table: &str) -> Vec<String> {
    table
        .lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(9);
            cells.join(",")
        })
        .collect()
}

#[test]
fn a_resumed_sweep_runs_only_the_missing_points() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let runs = runs.to_str().unwrap();
    let bin = counting_binary(dir.path());
    let iris = data("iris.csv");
    let args = [
        "-d",
        runs,
        "-l",
        "0 0.01",
        "-r",
        "0.05 0.2",
        "-H",
        "4 8",
        "--",
        "--data",
        &iris,
        "--val-frac",
        "0.3",
        "--epochs",
        "10",
    ];
    let first = script_with("sweep.sh", &bin, &args);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(take_count(dir.path()), 8);
    let table = String::from_utf8(first.stdout).unwrap();
    assert_eq!(table.lines().count(), 9, "{table}");

    // Two results lost, a third cut short by a kill: only those three are jobs again.
    fs::remove_file(format!("{runs}/l0_r0.05_h4.json")).unwrap();
    fs::remove_file(format!("{runs}/l0.01_r0.2_h8.json")).unwrap();
    let cut = format!("{runs}/l0_r0.2_h8.json");
    let whole = fs::read_to_string(&cut).unwrap();
    fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let mut print = vec!["--print-jobs"];
    print.extend(args);
    let jobs = script_with("sweep.sh", &bin, &print);
    let jobs = String::from_utf8(jobs.stdout).unwrap();
    let mut named: Vec<&str> = jobs
        .lines()
        .map(|l| l.rsplit('/').next().unwrap().trim_end_matches(".json"))
        .collect();
    named.sort();
    assert_eq!(
        named,
        ["l0.01_r0.2_h8", "l0_r0.05_h4", "l0_r0.2_h8"],
        "{jobs}"
    );
    assert_eq!(take_count(dir.path()), 0, "--print-jobs runs nothing");

    let again = script_with("sweep.sh", &bin, &args);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(take_count(dir.path()), 3);
    assert!(String::from_utf8_lossy(&again.stderr).contains("5 of 8 grid points already done"));
    assert_eq!(
        without_seconds(&String::from_utf8(again.stdout).unwrap()),
        without_seconds(&table),
        "the same runs give the same table"
    );

    // Complete: nothing left to run; a grown grid runs only its new points.
    let done = script_with("sweep.sh", &bin, &args);
    assert!(done.status.success());
    assert_eq!(take_count(dir.path()), 0);
    let mut grown = args.to_vec();
    grown[7] = "4 8 16";
    let grown_out = script_with("sweep.sh", &bin, &grown);
    assert!(grown_out.status.success());
    assert_eq!(take_count(dir.path()), 4);
    assert_eq!(
        String::from_utf8(grown_out.stdout).unwrap().lines().count(),
        13
    );
}

#[test]
fn a_runs_folder_of_another_sweep_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let runs = runs.to_str().unwrap();
    let iris = data("iris.csv");
    let grid = [
        "-d", runs, "-l", "0", "-r", "0.1", "-H", "4", "--", "--data", &iris,
    ];
    let mut ten = grid.to_vec();
    ten.extend(["--epochs", "10"]);
    assert!(sweep_out(&ten).status.success());
    let mut twenty = grid.to_vec();
    twenty.extend(["--epochs", "20"]);
    let out = sweep_out(&twenty);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds a sweep with other mlp-train arguments") && err.contains("--epochs 10"),
        "{err}"
    );
}

#[test]
fn a_cv_sweep_is_scored_by_the_cv_mean() {
    let table = sweep(&[
        "-l",
        "0 0.01",
        "-r",
        "0.1",
        "-H",
        "8",
        "--",
        "--data",
        &data("iris.csv"),
        "--cv",
        "3",
        "--epochs",
        "10",
    ]);
    let rows = rows(&table);
    assert_eq!(rows.len(), 2, "{table}");
    for r in &rows {
        let score: f64 = r[0].parse().expect("a score under --cv");
        assert_eq!(r[0], r[10], "the score is the cv_metric column");
        assert!(score > 0.5 && score <= 1.0, "{table}");
    }
}

#[test]
fn a_sweep_where_every_run_fails_exits_1_with_the_first_failure() {
    let out = sweep_out(&[
        "-l",
        "0",
        "-r",
        "1e6 1e7",
        "-H",
        "4",
        "--",
        "--data",
        &data("iris.csv"),
        "--epochs",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "no table: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("every run failed (2 of 2)"), "{err}");
    assert!(
        err.contains("training diverged") && err.contains("--lr"),
        "{err}"
    );
}

#[test]
fn grid_flags_after_the_dashes_are_refused() {
    let out = sweep_out(&["-l", "0", "--", "--data", &data("iris.csv"), "--lr", "5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--lr is the grid's"));
    let out = sweep_out(&["-r", "0.1 fast", "--", "--data", &data("iris.csv")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("'fast'"));
}

#[test]
fn help_is_the_header_without_shell_code() {
    let help = String::from_utf8(sweep_out(&["--help"]).stdout).unwrap();
    assert!(help.starts_with("Grid sweep for mlp-train"), "{help}");
    assert!(
        help.trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("example: scripts/sweep.sh"),
        "{help}"
    );
    assert!(!help.contains("set -eu"));
}

#[test]
fn collect_refuses_a_missing_or_empty_folder() {
    let bin = env!("CARGO_BIN_EXE_mlp-train");
    let out = script_with("collect.sh", bin, &["/nonexistent/runs"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/runs: no such folder"));
    let dir = tempfile::tempdir().unwrap();
    let out = script_with("collect.sh", bin, &[dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    // A file that is not a whole summary is skipped with a warning, not a row.
    fs::write(
        dir.path().join("half.json"),
        "{\"schema_version\":1,\"hyper",
    )
    .unwrap();
    let out = script_with("collect.sh", bin, &[dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("half.json: not a complete mlp-train --json summary"));
}

#[test]
fn an_interrupted_sweep_leaves_only_whole_results_and_resumes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let runs_s = runs.to_str().unwrap();
    let bin = counting_binary(dir.path());
    let digits = data("digits.csv");
    let args = [
        "-j",
        "2",
        "-d",
        runs_s,
        "-l",
        "0 1e-4 1e-3",
        "-r",
        "0.05",
        "-H",
        "16 32",
        "--",
        "--data",
        &digits,
        "--epochs",
        "40",
    ];
    // Ctrl-C as a terminal sends it: SIGINT to the whole process group, mid-sweep.
    let root = env!("CARGO_MANIFEST_DIR");
    let child = Command::new("setsid")
        .args(["sh", &format!("{root}/scripts/sweep.sh")])
        .args(args)
        .env("MLP_TRAIN", &bin)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("setsid runs");
    std::thread::sleep(std::time::Duration::from_millis(600));
    let _ = Command::new("kill")
        .args(["-INT", "--", &format!("-{}", child.id())])
        .status();
    let status = child.wait_with_output().unwrap().status;
    let started = take_count(dir.path());

    // Every result left is whole and of a finished run; interrupted runs left none.
    let mut whole = 0;
    for entry in fs::read_dir(&runs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "json") {
            let v: serde_json::Value =
                serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
            assert_eq!(v["interrupted"], false, "{}", path.display());
            whole += 1;
        }
    }
    if whole < 6 {
        assert_eq!(status.code(), Some(130), "an interrupted sweep exits 130");
    }
    assert!(started >= whole);

    let again = script_with("sweep.sh", &bin, &args);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        take_count(dir.path()),
        6 - whole,
        "only the missing points run"
    );
    assert_eq!(String::from_utf8(again.stdout).unwrap().lines().count(), 7);
}
