//! scripts/sweep.sh on a tiny grid with a shipped dataset: one row per grid point, the
//! documented columns, best score first; and the Slurm script's grid arithmetic.

mod common;
use common::data;
use std::process::Command;

fn sweep(args: &[&str]) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("sh")
        .arg(format!("{root}/scripts/sweep.sh"))
        .args(args)
        .env("MLP_TRAIN", env!("CARGO_BIN_EXE_mlp-train"))
        .output()
        .expect("sh runs");
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
        "score,lambda,lr,hidden,epochs,train_metric,val_metric,test_metric,train_loss,seconds"
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
