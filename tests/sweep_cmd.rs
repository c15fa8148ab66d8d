//! `mlp-train sweep` through the real binary: the plan, the ranked table, points identical to
//! runs alone, resume, two sweeps in one folder, signals, exit codes, engines, hostile names.

mod common;
use common::{assert_error, data, files_in, stderr};
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mlp-train");

fn sweep_os(args: &[&OsStr]) -> Output {
    Command::new(BIN)
        .arg("sweep")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("mlp-train runs")
}

fn sweep(args: &[&str]) -> Output {
    let a: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    sweep_os(&a)
}

fn ok(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(out));
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The CSV table: header, then rows as fields.
fn table(csv: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The `best:` line's command, split as a shell would.
fn best_command(err: &str) -> Vec<String> {
    let line = err
        .lines()
        .find(|l| l.starts_with("best: "))
        .unwrap_or_else(|| panic!("no best: line in\n{err}"));
    let cmd = &line[line.find(": mlp-train").unwrap() + 2..];
    shlex::split(cmd).unwrap()
}

#[test]
fn a_grid_is_ranked_best_first_with_its_metric_named_and_the_best_rerun_alone_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let out = sweep(&[
        "--grid",
        "lambda=0,1e-3",
        "--grid",
        "lr=0.02..0.2:log2",
        "--runs",
        runs.to_str().unwrap(),
        "--data",
        &data("iris.csv"),
        "--val-frac",
        "0.3",
        "--epochs",
        "15",
        "--hidden",
        "6",
        "-j",
        "2",
    ]);
    let (header, rows) = table(&ok(&out));
    assert_eq!(
        header,
        [
            "rank",
            "val_accuracy",
            "val_accuracy_std",
            "val_loss",
            "train_accuracy",
            "fit_seconds",
            "lambda",
            "lr",
            "point",
            "status",
            "error",
            "warnings"
        ]
    );
    assert_eq!(rows.len(), 4);
    let scores: Vec<f64> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    for (k, r) in rows.iter().enumerate() {
        assert_eq!(r[0], (k + 1).to_string());
        assert_eq!(r[9], "ok");
        // Ties broken by the validation loss.
        if k > 0 && scores[k] == scores[k - 1] {
            assert!(rows[k - 1][3].parse::<f64>().unwrap() <= r[3].parse::<f64>().unwrap());
        }
    }
    let lrs: Vec<&str> = rows.iter().map(|r| r[7].as_str()).collect();
    assert!(lrs.contains(&"0.02") && lrs.contains(&"0.2"), "{lrs:?}");
    // The plan names every point's full flags and the data's identity.
    let plan = json(&runs.join("plan.json"));
    assert_eq!(plan["points"].as_array().unwrap().len(), 4);
    assert!(plan["data"]["fingerprint"]
        .as_str()
        .unwrap()
        .starts_with("xxh3-128:"));
    assert_eq!(
        plan["tool"],
        format!("mlp-train {}", env!("CARGO_PKG_VERSION"))
    );
    // The best: line reruns the best point alone, to the same score.
    let cmd = best_command(&stderr(&out));
    assert_eq!(cmd[0], "mlp-train");
    let mut alone: Vec<&str> = cmd[1..].iter().map(String::as_str).collect();
    alone.extend(["--json", "--quiet"]);
    let v = common::train_json(&alone);
    assert_eq!(v["val_accuracy"].as_f64().unwrap(), scores[0]);
}

#[test]
fn each_point_json_and_model_are_byte_identical_to_the_run_alone() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("r");
    let runs_s = runs.to_str().unwrap();
    let iris = data("iris.csv");
    let flags = ["--val-frac", "0.2", "--epochs", "7", "--momentum", "0.5"];
    // The run alone first, saving where the sweep will save point 1's model.
    std::fs::create_dir_all(runs.join("models")).unwrap();
    let model = runs.join("models").join("0001.json");
    let mut alone = vec!["--data", &iris, "--hidden", "9", "--activation", "tanh"];
    alone.extend(flags);
    alone.extend(["--save", model.to_str().unwrap(), "--json", "--quiet"]);
    let alone_out = common::run(&alone);
    let alone_json = ok(&alone_out);
    let alone_model = std::fs::read(&model).unwrap();
    std::fs::remove_file(&model).unwrap();
    let mut args = vec![
        "--grid",
        "hidden=5,9",
        "--grid",
        "activation=tanh",
        "--runs",
        runs_s,
        "--data",
        &iris,
        "--save-models",
        "-q",
    ];
    args.extend(flags);
    ok(&sweep(&args));
    assert_eq!(
        std::fs::read(&model).unwrap(),
        alone_model,
        "model files differ"
    );
    // The --json summary, timings aside, byte for byte.
    let strip = |mut v: serde_json::Value| {
        v.as_object_mut().unwrap().remove("seconds");
        v.as_object_mut().unwrap().remove("samples_per_second");
        v.to_string()
    };
    let mut a: serde_json::Value = serde_json::from_str(&alone_json).unwrap();
    // The sweep gives the data path absolute (engines run from other folders).
    a["data"] = serde_json::json!(iris);
    let r = json(&runs.join("points").join("0001.json"));
    assert_eq!(r["point"], 1);
    assert_eq!(r["values"], serde_json::json!(["9", "tanh"]));
    assert_eq!(strip(r["summary"].clone()), strip(a));
}

#[test]
fn a_bad_value_or_flag_is_one_error_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("r");
    let r = runs.to_str().unwrap();
    let iris = data("iris.csv");
    let cases: [(&[&str], &[&str]); 8] = [
        (
            &["--grid", "lr=0.1,-1,-2"],
            &["--grid lr=-1:", "--lr must be"],
        ),
        (
            &["--grid", "hidden=4,x"],
            &["--grid hidden=x:", "invalid value 'x'"],
        ),
        (
            &["--grid", "nope=1,2"],
            &["--grid nope=1,2:", "not a train flag"],
        ),
        (
            &["--grid", "data=a.csv,b.csv"],
            &["--data cannot be an axis"],
        ),
        (
            &["--grid", "lr=0.1", "--save", "m.json"],
            &["--save:", "--save-models"],
        ),
        (&["--grid", "lr=0.1", "--log", "l.csv"], &["--log:"]),
        (&["--grid", "lr=0.1", "--lr", "0.2"], &["--lr is an axis"]),
        (
            &["--grid", "lr=1e-3..1e-1:log0"],
            &["--grid lr=1e-3..1e-1:log0:"],
        ),
    ];
    for (extra, needles) in cases {
        let mut args = vec!["--runs", r, "--data", &iris];
        args.extend(extra);
        let out = sweep(&args);
        assert_error(&out, 2, needles);
        assert!(!runs.exists(), "{extra:?} created the folder");
    }
    let out = sweep(&["--grid", "lr=0.1", "--runs", r, "--data", &iris, "-j", "0"]);
    assert_error(&out, 2, &["--jobs must be >= 1"]);
    assert!(!runs.exists());
    // A data file that cannot be read: exit 3, nothing run.
    let out = sweep(&[
        "--grid",
        "lr=0.1",
        "--runs",
        r,
        "--data",
        "/nonexistent.csv",
    ]);
    assert_error(&out, 3, &["/nonexistent.csv"]);
}

#[test]
fn resume_runs_only_missing_points_and_refuses_a_changed_plan() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("iris.csv");
    std::fs::copy(data("iris.csv"), &csv).unwrap();
    let runs = dir.path().join("r");
    let args = |epochs: &'static str| {
        vec![
            "--grid".to_string(),
            "seed=0..3".into(),
            "--runs".into(),
            runs.to_str().unwrap().into(),
            "--data".into(),
            csv.to_str().unwrap().into(),
            "--epochs".into(),
            epochs.into(),
        ]
    };
    let run = |a: Vec<String>| sweep(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let first = ok(&run(args("4")));
    let done = |out: &Output| {
        stderr(out)
            .lines()
            .filter(|l| l.contains(" done (point "))
            .count()
    };
    // A lost result and a corrupt one: only those two run again.
    std::fs::remove_file(runs.join("points/0002.json")).unwrap();
    std::fs::write(runs.join("points/0003.json"), b"{\"schema_version\":1,").unwrap();
    let again = run(args("4"));
    let second = ok(&again);
    assert_eq!(done(&again), 2, "{}", stderr(&again));
    let cut = |t: &str| {
        let (h, rows) = table(t);
        let fs = col(&h, "fit_seconds");
        rows.into_iter()
            .map(|mut r| {
                r.remove(fs);
                r
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(cut(&first), cut(&second));
    let third = run(args("4"));
    assert_eq!(done(&third), 0);
    // Other flags: refused, naming what changed.
    assert_error(
        &run(args("5")),
        2,
        &["the flags changed", "--epochs=4", "--epochs=5"],
    );
    // The same file with other content: refused, naming the data.
    let text = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(&csv, text.replace("setosa", "virginica")).unwrap();
    assert_error(
        &run(args("4")),
        2,
        &["the data's content changed", "iris.csv"],
    );
    assert_error(
        &sweep(&["--runs", runs.to_str().unwrap()]),
        2,
        &["the data's content changed"],
    );
}

#[test]
fn two_sweeps_into_one_folder_run_each_point_once_and_agree() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("r");
    let spawn = || {
        Command::new(BIN)
            .args(["sweep", "--grid", "seed=0..9", "--runs"])
            .arg(&runs)
            .args(["--data", &data("digits.csv"), "--val-frac", "0.2"])
            .args(["--epochs", "6", "--hidden", "16", "-j", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let (ta, tb) = (ok(&a), ok(&b));
    let ran = |o: &Output| -> Vec<usize> {
        stderr(o)
            .lines()
            .filter_map(|l| l.split(" done (point ").nth(1))
            .map(|t| t.split(':').next().unwrap().parse().unwrap())
            .collect()
    };
    let mut all = ran(&a);
    all.extend(ran(&b));
    all.sort_unstable();
    assert_eq!(all, (0..10).collect::<Vec<_>>(), "each point run once");
    let (ha, ra) = table(&ta);
    let (_, rb) = table(&tb);
    let fs = col(&ha, "fit_seconds");
    assert_eq!(ra.len(), 10);
    for (x, y) in ra.iter().zip(&rb) {
        assert_eq!((&x[..fs], &x[fs + 1..]), (&y[..fs], &y[fs + 1..]));
        assert_eq!(x[col(&ha, "status")], "ok");
    }
    for f in files_in(&runs.join("points")) {
        assert!(f.ends_with(".json"), "left behind: {f}");
        json(&runs.join("points").join(f));
    }
}

#[test]
fn sigterm_stops_the_sweep_keeping_finished_points_and_printing_the_partial_table() {
    stopped_by("TERM", 143);
}

#[test]
fn sighup_and_sigint_stop_the_sweep_with_their_own_codes() {
    stopped_by("HUP", 129);
    stopped_by("INT", 130);
}

/// A sweep signalled mid-run: exits `code` within 2 s, every point missing, no file left.
fn stopped_by(sig: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("r");
    let mut child = Command::new(BIN)
        .args(["sweep", "--grid", "seed=0..11", "--runs"])
        .arg(&runs)
        .args(["--data", &data("digits.csv"), "--val-frac", "0.2"])
        .args(["--epochs", "100000", "-j", "2", "--save-models"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Instant::now();
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let out = loop {
        if child.try_wait().unwrap().is_some() {
            break child.wait_with_output().unwrap();
        }
        if sent.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("the sweep did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = sent.elapsed();
    assert!(took < Duration::from_secs(2), "stopped after {took:?}");
    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    let (h, rows) = table(&String::from_utf8(out.stdout.clone()).unwrap());
    assert_eq!(rows.len(), 12, "the partial table lists every point");
    assert!(rows.iter().all(|r| r[col(&h, "status")] == "missing"));
    assert!(
        stderr(&out).contains("interrupted: 0 of 12 point(s)"),
        "{}",
        stderr(&out)
    );
    // No result, claim, model or temporary file of the stopped points.
    assert!(
        files_in(&runs.join("points")).is_empty(),
        "{:?}",
        files_in(&runs.join("points"))
    );
    let models = runs.join("models");
    assert!(!models.exists() || files_in(&models).is_empty());
}

#[test]
fn timeout_bounds_a_long_sweep_and_finished_points_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("r");
    let start = Instant::now();
    let out = Command::new("timeout")
        .args(["3", BIN, "sweep", "--grid", "epochs=1,10000000", "--runs"])
        .arg(&runs)
        .args(["--data", &data("iris.csv"), "-j", "1", "-q"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(out.status.code(), Some(124), "{}", stderr(&out));
    assert_eq!(
        files_in(&runs.join("points")),
        ["0000.json"],
        "{}",
        stderr(&out)
    );
    let (h, rows) = table(&String::from_utf8(out.stdout.clone()).unwrap());
    assert_eq!(rows[0][col(&h, "status")], "ok");
    assert_eq!(rows[1][col(&h, "status")], "missing");
}

#[test]
fn failed_points_are_recorded_and_exit_9_or_10_when_all_fail() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("some");
    let iris = data("iris.csv");
    let out = sweep(&[
        "--grid",
        "lr=0.1,1e30",
        "--runs",
        runs.to_str().unwrap(),
        "--data",
        &iris,
        "--epochs",
        "3",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("mlp-train: error: 1 of 2 sweep point(s) failed; the first: point 1 (lr=1e30): training diverged"),
        "{err}"
    );
    let (h, rows) = table(&String::from_utf8(out.stdout.clone()).unwrap());
    assert_eq!(rows[0][col(&h, "status")], "ok");
    assert_eq!(rows[1][col(&h, "status")], "failed");
    assert!(rows[1][col(&h, "error")].contains("diverged"));
    let r = json(&runs.join("points/0001.json"));
    assert_eq!(r["status"], "failed");
    assert_eq!(r["exit_code"], 6);
    let runs = dir.path().join("all");
    let out = sweep(&[
        "--grid",
        "lr=1e30,1e31",
        "--runs",
        runs.to_str().unwrap(),
        "--data",
        &iris,
        "--epochs",
        "3",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 of 2 sweep point(s) failed"));
}

#[test]
fn the_table_does_not_depend_on_the_locale() {
    let dir = tempfile::tempdir().unwrap();
    let run = |lang: &str, runs: &str| {
        Command::new(BIN)
            .args(["sweep", "--grid", "lambda=0,1e-3", "--grid", "lr=0.05,0.1"])
            .args(["--runs", &dir.path().join(runs).display().to_string()])
            .args([
                "--data",
                &data("iris.csv"),
                "--val-frac",
                "0.2",
                "--epochs",
                "8",
                "-q",
            ])
            .env("LANG", lang)
            .env("LC_ALL", lang)
            .output()
            .unwrap()
    };
    let c = ok(&run("C", "c"));
    let de = ok(&run("de_DE.UTF-8", "de"));
    let (h, a) = table(&c);
    let (_, b) = table(&de);
    let fs = col(&h, "fit_seconds");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((&x[..fs], &x[fs + 1..]), (&y[..fs], &y[fs + 1..]));
        assert!(x[1].contains('.'), "{x:?}");
    }
}

#[test]
fn cross_validated_points_are_scored_by_the_cv_mean_with_the_std_named() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("r");
    let out = sweep(&[
        "--grid",
        "hidden=4,8",
        "--runs",
        runs.to_str().unwrap(),
        "--data",
        &data("iris.csv"),
        "--cv",
        "3",
        "--epochs",
        "5",
        "--json",
        "-q",
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(v["metric"], "cv_mean_accuracy");
    assert_eq!(v["std_kind"], "sample standard deviation over 3 folds");
    assert_eq!(v["axes"], serde_json::json!(["hidden"]));
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let point = json(&runs.join(format!(
        "points/{:04}.json",
        rows[0]["point"].as_u64().unwrap()
    )));
    assert_eq!(rows[0]["score"], point["summary"]["cv"]["mean"]);
    assert_eq!(rows[0]["score_std"], point["summary"]["cv"]["std"]);
    assert_eq!(rows[0]["val_loss"], point["summary"]["cv"]["mean_loss"]);
    assert_eq!(rows[0]["rank"], 1);
}

#[test]
fn out_refit_and_report_are_planned_outputs_and_refit_trains_the_best_point_on_all_rows() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("r");
    let r = runs.to_str().unwrap();
    let iris = data("iris.csv");
    let base = [
        "--grid",
        "hidden=3,7",
        "--runs",
        r,
        "--data",
        &iris,
        "--val-frac",
        "0.2",
        "--epochs",
        "5",
        "-q",
    ];
    let mut args = base.to_vec();
    args.extend(["-o", &iris]);
    assert_error(
        &sweep(&args),
        2,
        &["--out must not name the file read by --data"],
    );
    let mut args = base.to_vec();
    args.extend(["--report", &iris]);
    assert_error(
        &sweep(&args),
        2,
        &["--report must not name the file read by --data"],
    );
    let table_file = dir.path().join("t.csv");
    let model = dir.path().join("best.json");
    let page = dir.path().join("sweep.html");
    let mut args = base.to_vec();
    args.extend([
        "-o",
        table_file.to_str().unwrap(),
        "--refit",
        model.to_str().unwrap(),
        "--report",
        page.to_str().unwrap(),
    ]);
    // Without -q, which would keep the `refitted point` note off stderr.
    args.retain(|w| *w != "-q");
    let out = sweep(&args);
    assert!(ok(&out).is_empty(), "the table went to -o");
    let (h, rows) = table(&std::fs::read_to_string(&table_file).unwrap());
    let best_hidden = &rows[0][col(&h, "hidden")];
    // The page: the ranked table with both points, and the command that trains the best alone.
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("id=\"table\"") && html.contains("id=\"best\""),
        "{html}"
    );
    let best_score = &rows[0][col(&h, "val_accuracy")];
    assert!(
        html.contains(&format!("--hidden={best_hidden}"))
            || html.contains(&format!("--hidden {best_hidden}")),
        "the best point's command is on the page"
    );
    let shown = mlp_train::show::html::num(best_score.parse::<f64>().unwrap());
    assert!(html.contains(&shown), "{shown} on the page");
    let m = json(&model);
    assert_eq!(m["hyperparameters"]["hidden"].to_string(), *best_hidden);
    assert_eq!(m["hyperparameters"]["val_frac"], 0.0);
    assert!(stderr(&out).contains("refitted point"), "{}", stderr(&out));
}

#[test]
fn samples_draws_seeded_points_within_the_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let run = |runs: &str, seed: &str| {
        let p = dir.path().join(runs);
        let out = sweep(&[
            "--grid",
            "lr=1e-3..1..log2",
            "--grid",
            "lambda=1e-6..1e-2:log3",
            "--grid",
            "hidden=2..16:x2",
            "--samples",
            "5",
            "--sweep-seed",
            seed,
            "--runs",
            p.to_str().unwrap(),
            "--data",
            &data("iris.csv"),
            "--epochs",
            "2",
            "-q",
        ]);
        out
    };
    // A malformed range is refused.
    assert_error(&run("bad", "1"), 2, &["--grid lr=1e-3..1..log2"]);
    let run = |runs: &str, seed: &str| {
        let p = dir.path().join(runs);
        ok(&sweep(&[
            "--grid",
            "lr=1e-3..1:log2",
            "--grid",
            "lambda=1e-6..1e-2:log3",
            "--grid",
            "hidden=2..16:x2",
            "--samples",
            "5",
            "--sweep-seed",
            seed,
            "--runs",
            p.to_str().unwrap(),
            "--data",
            &data("iris.csv"),
            "--epochs",
            "2",
            "-q",
        ]));
        json(&p.join("plan.json"))["points"].clone()
    };
    let (a, b, c) = (run("a", "1"), run("b", "1"), run("c", "2"));
    assert_eq!(a, b);
    assert_ne!(a, c);
    for p in a.as_array().unwrap() {
        let v = p["values"].as_array().unwrap();
        let lr: f64 = v[0].as_str().unwrap().parse().unwrap();
        let lambda: f64 = v[1].as_str().unwrap().parse().unwrap();
        assert!(
            (1e-3..=1.0).contains(&lr) && (1e-6..=1e-2).contains(&lambda),
            "{v:?}"
        );
        assert!(["2", "4", "8", "16"].contains(&v[2].as_str().unwrap()));
    }
    assert_eq!(a.as_array().unwrap().len(), 5);
}

/// A folder holding the binary as `mlp-train`, for the job lines to find on PATH.
fn path_with_binary(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(BIN, bin.join("mlp-train")).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn hostile_names_reach_no_shell_print_jobs_lines_run_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_with_binary(dir.path());
    // A data file whose name holds a newline and a command substitution.
    let data_dir = dir.path().join("d");
    std::fs::create_dir(&data_dir).unwrap();
    let csv = data_dir.join("a\n$(touch PWNED) `touch PWNED2`;touch PWNED3 #.csv");
    std::fs::copy(data("iris.csv"), &csv).unwrap();
    // A runs folder with `%`, `=` and a space.
    let runs = dir.path().join("100%j h=64 r");
    let common_args: Vec<&OsStr> = vec![
        OsStr::new("--grid"),
        OsStr::new("hidden=3,5,7"),
        OsStr::new("--runs"),
        runs.as_os_str(),
        OsStr::new("--data"),
        csv.as_os_str(),
        OsStr::new("--epochs"),
        OsStr::new("3"),
    ];
    let mut args = common_args.clone();
    args.push(OsStr::new("--print-jobs"));
    let out = sweep_os(&args);
    let jobs = ok(&out);
    let lines: Vec<&str> = jobs.lines().collect();
    assert_eq!(lines.len(), 3, "{jobs}");
    for (i, line) in lines.iter().enumerate() {
        let words = shlex::split(line).unwrap();
        assert_eq!(
            words,
            [
                "mlp-train",
                "sweep",
                "--runs",
                runs.to_str().unwrap(),
                "--point",
                &i.to_string()
            ]
        );
        // Run as printed, by a shell, in another folder.
        let st = Command::new("sh")
            .args(["-c", line])
            .current_dir(&data_dir)
            .env("PATH", &path)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(st.status.success(), "{line}: {}", stderr(&st));
    }
    // Every point ran; nothing was executed.
    assert_eq!(
        files_in(&runs.join("points")),
        ["0000.json", "0001.json", "0002.json"]
    );
    for d in [dir.path(), &data_dir, &runs, Path::new(".")] {
        for name in ["PWNED", "PWNED2", "PWNED3"] {
            assert!(!d.join(name).exists(), "{name} in {}", d.display());
        }
    }
    // Nothing left to do, and the table of the whole plan from the folder alone.
    let out = sweep_os(&args);
    assert_eq!(ok(&out), "");
    let out = sweep_os(&[OsStr::new("--runs"), runs.as_os_str()]);
    let (h, rows) = table(&ok(&out));
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r[col(&h, "status")] == "ok"));
    // The local engine on the same names.
    let runs2 = dir.path().join("%x\nh=1");
    let mut args = common_args.clone();
    args[3] = runs2.as_os_str();
    let out = sweep_os(&args);
    assert_eq!(table(&ok(&out)).1.len(), 3);
    // A folder with a newline cannot go on a job line.
    args.push(OsStr::new("--print-jobs"));
    assert_error(&sweep_os(&args), 2, &["control character"]);
}

#[test]
fn point_runs_one_point_of_the_plan_and_refuses_changed_data() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("iris.csv");
    std::fs::copy(data("iris.csv"), &csv).unwrap();
    let runs = dir.path().join("r");
    let r = runs.to_str().unwrap();
    let out = sweep(&[
        "--grid",
        "hidden=3,5",
        "--runs",
        r,
        "--data",
        csv.to_str().unwrap(),
        "--epochs",
        "3",
        "--print-jobs",
    ]);
    assert_eq!(ok(&out).lines().count(), 2);
    assert!(
        files_in(&runs.join("points")).is_empty(),
        "print-jobs runs nothing"
    );
    ok(&sweep(&["--runs", r, "--point", "1"]));
    assert_eq!(files_in(&runs.join("points")), ["0001.json"]);
    let again = sweep(&["--runs", r, "--point", "1"]);
    assert!(
        stderr(&again).contains("already has its result"),
        "{}",
        stderr(&again)
    );
    assert_error(
        &sweep(&["--runs", r, "--point", "2"]),
        2,
        &["--point", "2 point(s)"],
    );
    // Only the missing point is left to print.
    let out = sweep(&[
        "--grid",
        "hidden=3,5",
        "--runs",
        r,
        "--data",
        csv.to_str().unwrap(),
        "--epochs",
        "3",
        "--print-jobs",
    ]);
    assert!(ok(&out).ends_with("--point 0\n"));
    std::fs::write(
        &csv,
        std::fs::read_to_string(&csv).unwrap().replace("5.1", "5.2"),
    )
    .unwrap();
    assert_error(
        &sweep(&["--runs", r, "--point", "0"]),
        2,
        &["the data's content changed"],
    );
    assert_eq!(files_in(&runs.join("points")), ["0001.json"]);
}

#[test]
fn slurm_submits_the_missing_points_as_one_array_with_percent_escaped() {
    let dir = tempfile::tempdir().unwrap();
    // A stand-in sbatch: records its arguments, then runs each array task in turn.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let fake = bin.join("sbatch");
    std::fs::write(
        &fake,
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$SBATCH_ARGS\"\n\
         for a; do case $a in --array=0-*) n=${a#--array=0-};; esac; script=$a; done\n\
         i=0; while [ $i -le $n ]; do SLURM_ARRAY_TASK_ID=$i sh \"$script\" || exit 1; i=$((i+1)); done\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let runs = dir.path().join("50%j h=64");
    let record = dir.path().join("args");
    let run = || {
        Command::new(BIN)
            .args(["sweep", "--grid", "hidden=3,5,7", "--runs"])
            .arg(&runs)
            .args([
                "--data",
                &data("iris.csv"),
                "--epochs",
                "3",
                "--slurm",
                "-q",
            ])
            .env("PATH", &path)
            .env("SBATCH_ARGS", &record)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = run();
    let (h, rows) = table(&ok(&out));
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r[col(&h, "status")] == "ok"));
    let args = std::fs::read_to_string(&record).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert!(
        args.contains(&"--wait") && args.contains(&"--array=0-2"),
        "{args:?}"
    );
    let output = args[args.iter().position(|a| *a == "--output").unwrap() + 1];
    assert_eq!(
        output,
        format!("{}/50%%j h=64/slurm-%A_%a.out", dir.path().display())
    );
    // Nothing missing: sbatch is not called again.
    std::fs::remove_file(&record).unwrap();
    ok(&run());
    assert!(!record.exists());
}
