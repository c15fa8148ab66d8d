//! The README's sweep blocks run as written in bash on every engine (this process, GNU
//! parallel, a real Slurm array): the same table; and hostile names pass through no shell.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_mlp-train");

/// Says loudly, past the test harness's capture, that a test did not run and why.
fn skipped(why: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

/// The ```sh blocks of the README's sweep paragraphs, in order.
fn sweep_blocks() -> Vec<String> {
    let readme = fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    let start = readme
        .find("**Sweeps.**")
        .expect("README has a Sweeps paragraph");
    let end = start
        + readme[start..]
            .find("**Shell integration.**")
            .expect("the Sweeps paragraphs end before Shell integration");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme[start..end].lines() {
        match (&mut current, line) {
            (None, "```sh") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(block), l) => {
                block.push_str(l);
                block.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

/// The one README sweep block that contains `needle`.
fn block(needle: &str) -> String {
    let found: Vec<String> = sweep_blocks()
        .into_iter()
        .filter(|b| b.contains(needle))
        .collect();
    assert_eq!(found.len(), 1, "one README sweep block with {needle:?}");
    found.into_iter().next().unwrap()
}

/// The axes of the README's grid (`--grid name=a,b`), in order.
fn readme_axes() -> Vec<(String, Vec<String>)> {
    let grid = block("grid=(");
    grid.split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[0] == "--grid")
        .map(|w| {
            let (name, values) = w[1].split_once('=').unwrap();
            (
                name.to_string(),
                values.split(',').map(str::to_string).collect(),
            )
        })
        .collect()
}

/// Every point of the README's grid, as its values in axis order (numbers normalized).
fn readme_points() -> BTreeSet<Vec<String>> {
    let mut points = vec![Vec::new()];
    for (_, values) in readme_axes() {
        points = points
            .into_iter()
            .flat_map(|p: Vec<String>| {
                values.iter().map(move |v| {
                    let mut p = p.clone();
                    p.push(normal(v));
                    p
                })
            })
            .collect();
    }
    points.into_iter().collect()
}

/// A number's value as one text (`1e-4` and `0.0001` alike), else the text.
fn normal(v: &str) -> String {
    v.parse::<f64>().map_or(v.to_string(), |x| x.to_string())
}

/// A folder to run README blocks in, as a user's looks: data/ (and scripts/), and
/// `bin/mlp-train` first on the PATH, which logs each run's arguments and runs the real binary.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(format!("{ROOT}/scripts"), dir.path().join("scripts")).unwrap();
        std::os::unix::fs::symlink(format!("{ROOT}/data"), dir.path().join("data")).unwrap();
        let bin = dir.path().join("bin");
        fs::create_dir(&bin).unwrap();
        let log = dir.path().join("runs.log");
        fs::write(
            bin.join("mlp-train"),
            format!(
                "#!/bin/sh\necho \"$*\" >>'{}'\nexec '{BIN}' \"$@\"\n",
                log.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(bin.join("mlp-train"), fs::Permissions::from_mode(0o755)).unwrap();
        Workspace { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `script` in bash (-euo pipefail) here, with extra environment variables, and
    /// without SHELL, which CI's environment does not set either.
    fn bash(&self, script: &str, env: &[(&str, &str)]) -> Output {
        let path = format!(
            "{}:{}",
            self.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c", script])
            .current_dir(self.path())
            .env("PATH", path)
            .env_remove("SHELL")
            .envs(env.iter().copied())
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{script}\nexit {:?}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// (processes started, of which `--point` runs), and reset the log.
    fn runs_counted(&self) -> (usize, usize) {
        let log = self.path().join("runs.log");
        let text = fs::read_to_string(&log).unwrap_or_default();
        let _ = fs::remove_file(log);
        let points = text.lines().filter(|l| l.contains("--point")).count();
        (text.lines().count(), points)
    }

    fn table(&self) -> String {
        fs::read_to_string(self.path().join("table.csv")).unwrap()
    }
}

/// The table's rows as (axis values, score, val_loss), best first: everything but timings.
fn scores(table: &str) -> Vec<(Vec<String>, String, String)> {
    let mut rdr = csv::Reader::from_reader(table.as_bytes());
    let head: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let col = |name: &str| {
        head.iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("{name} in {head:?}"))
    };
    let axes: Vec<usize> = readme_axes().iter().map(|(a, _)| col(a)).collect();
    let (score, val_loss) = (1, col("val_loss"));
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (
                axes.iter().map(|&i| normal(&r[i])).collect(),
                r[score].to_string(),
                r[val_loss].to_string(),
            )
        })
        .collect()
}

/// Asserts that the table has exactly one ok row per README grid point, ranked best first.
fn assert_complete(table: &str) {
    assert!(
        table.starts_with("rank,val_accuracy,"),
        "the score is the validation accuracy, named:\n{table}"
    );
    let rows = scores(table);
    let got: BTreeSet<Vec<String>> = rows.iter().map(|r| r.0.clone()).collect();
    assert_eq!(rows.len(), got.len(), "one row per point:\n{table}");
    assert_eq!(got, readme_points(), "{table}");
    let s: Vec<f64> = rows.iter().map(|r| r.1.parse().unwrap()).collect();
    assert!(s.windows(2).all(|w| w[0] >= w[1]), "best first: {s:?}");
    assert!(s[0] > 0.9, "digits reach 90% validation accuracy: {table}");
    let ranks: Vec<String> = csv::Reader::from_reader(table.as_bytes())
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    let want: Vec<String> = (1..=rows.len()).map(|k| k.to_string()).collect();
    assert_eq!(ranks, want);
}

/// The README's in-process sweep: the reference table for the other engines.
fn local_table() -> String {
    let ws = Workspace::new();
    ws.bash(
        &(block("grid=(") + &block("mlp-train sweep \"${grid[@]}\" > table.csv")),
        &[],
    );
    // One process, every point in it.
    assert_eq!(ws.runs_counted(), (1, 0));
    ws.table()
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_readme_sweep_in_one_process_has_every_grid_point_best_first() {
    assert_complete(&local_table());
}

#[test]
fn gnu_parallel_runs_the_readme_sweep_with_the_local_scores_and_resumes() {
    if !have("parallel") {
        skipped("GNU parallel is not installed (Debian package `parallel`; .ci/run installs it)");
        return;
    }
    let ws = Workspace::new();
    let parallel = block("parallel --sshlogin 2/:");
    ws.bash(&(block("grid=(") + &parallel), &[]);
    let points = readme_points().len();
    // --print-jobs, one process per point, the table.
    assert_eq!(ws.runs_counted(), (points + 2, points));
    let table = ws.table();
    assert_complete(&table);
    assert_eq!(scores(&table), scores(&local_table()));

    // Resume: two lost results are the only points run by the same commands again.
    for i in [0, 7] {
        fs::remove_file(ws.path().join(format!("runs/points/{i:04}.json"))).unwrap();
    }
    ws.bash(&(block("grid=(") + &parallel), &[]);
    assert_eq!(ws.runs_counted(), (4, 2));
    assert_eq!(scores(&ws.table()), scores(&table));
}

/// The SLURM_CONF of a cluster that answers: the caller's, else scripts/slurm-local.sh's.
fn slurm_conf() -> Option<String> {
    if !have("sbatch") {
        return None;
    }
    let status = Command::new("sh")
        .arg(format!("{ROOT}/scripts/slurm-local.sh"))
        .arg("status")
        .output()
        .ok()?;
    if status.status.success() {
        let line = String::from_utf8(status.stdout).ok()?;
        return Some(line.trim().strip_prefix("SLURM_CONF=")?.to_string());
    }
    let conf = std::env::var("SLURM_CONF").ok()?;
    Command::new("sinfo")
        .arg("-h")
        .output()
        .is_ok_and(|o| o.status.success())
        .then_some(conf)
}

const NO_SLURM: &str = "no Slurm cluster answers (as root: `scripts/slurm-local.sh start`, \
                        then run the tests; .ci/run does both)";

#[test]
fn slurm_array_runs_the_readme_sweep_with_the_local_scores_and_resumes_lost_tasks() {
    let Some(conf) = slurm_conf() else {
        skipped(NO_SLURM);
        return;
    };
    let ws = Workspace::new();
    let slurm = block("mlp-train sweep --slurm");
    let env = [("SLURM_CONF", conf.as_str())];
    ws.bash(&(block("grid=(") + &slurm), &env);
    let points = readme_points().len();
    let table = ws.table();
    assert_complete(&table);
    assert_eq!(scores(&table), scores(&local_table()));
    let logs = |ws: &Workspace| {
        fs::read_dir(ws.path().join("runs"))
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                let name = name.to_string_lossy();
                name.starts_with("slurm-") && name.ends_with(".out")
            })
            .count()
    };
    assert_eq!(logs(&ws), points, "one task log per grid point");
    // The array's tasks ran the binary itself, not through the PATH's wrapper: nothing to
    // count but the submitting process.
    ws.runs_counted();

    // Two tasks lost: the same command submits an array of two and completes the table.
    for i in [1, 6] {
        fs::remove_file(ws.path().join(format!("runs/points/{i:04}.json"))).unwrap();
    }
    ws.bash(&(block("grid=(") + &slurm), &env);
    assert_eq!(logs(&ws), points + 2);
    assert_eq!(scores(&ws.table()), scores(&table));
}

/// A data file and a runs folder named to break shell text: a newline followed by a command,
/// `$(…)`, a `%` (Slurm's --output patterns) and `h=64` (an assignment to awk).
fn hostile(ws: &Workspace) -> (String, String) {
    let data = "d\ntouch PWNED #$(touch PWNED2).csv";
    fs::copy(format!("{ROOT}/data/iris.csv"), ws.path().join(data)).unwrap();
    (data.to_string(), "r%j h=64 'x".to_string())
}

fn assert_nothing_ran(ws: &Workspace) {
    for f in ["PWNED", "PWNED2"] {
        assert!(
            !ws.path().join(f).exists(),
            "{f} was created: a shell ran user text"
        );
    }
}

#[test]
fn hostile_names_reach_gnu_parallel_as_data_never_as_commands() {
    if !have("parallel") {
        skipped("GNU parallel is not installed (Debian package `parallel`; .ci/run installs it)");
        return;
    }
    let ws = Workspace::new();
    let (data, runs) = hostile(&ws);
    let script = r#"mlp-train sweep --print-jobs --runs "$RUNS" --grid hidden=4,8 --data "$DATA" --epochs 3 --val-frac 0.2 | parallel --sshlogin 2/:
mlp-train sweep --runs "$RUNS" > table.csv"#;
    ws.bash(script, &[("RUNS", &runs), ("DATA", &data)]);
    assert_nothing_ran(&ws);
    let table = ws.table();
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(!table.contains(",failed,"), "{table}");
    // A newline in the runs folder cannot be put on a job line: refused, nothing planned.
    let out = Command::new(BIN)
        .args([
            "sweep",
            "--print-jobs",
            "--runs",
            "a\nb",
            "--grid",
            "hidden=4,8",
        ])
        .args(["--data", &format!("{ROOT}/data/iris.csv")])
        .current_dir(ws.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(!ws.path().join("a\nb").exists());
}

#[test]
fn hostile_names_reach_slurm_as_data_never_as_commands() {
    let Some(conf) = slurm_conf() else {
        skipped(NO_SLURM);
        return;
    };
    let ws = Workspace::new();
    let (data, runs) = hostile(&ws);
    let script = r#"mlp-train sweep --slurm --runs "$RUNS" --grid hidden=4,8 --data "$DATA" --epochs 3 --val-frac 0.2 > table.csv"#;
    ws.bash(
        script,
        &[("RUNS", &runs), ("DATA", &data), ("SLURM_CONF", &conf)],
    );
    assert_nothing_ran(&ws);
    let table = ws.table();
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(!table.contains(",failed,"), "{table}");
    // Both tasks' logs are in the folder, under its own name (`%j` not expanded).
    let logs = fs::read_dir(ws.path().join(&runs))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("slurm-")
        })
        .count();
    assert!(logs >= 2, "task logs in {runs}");
}
