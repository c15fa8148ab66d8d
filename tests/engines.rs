//! The README's sweep blocks run as written in bash on every engine (local cores, GNU parallel
//! locally and over ssh to hosts without a shared disk, a real Slurm array): the same table.

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

/// The grid the README writes: every (λ, η, h) of its -l, -r and -H values.
fn readme_grid() -> BTreeSet<(String, String, String)> {
    let grid = block("grid=(");
    let values = |flag: &str| -> Vec<f64> {
        let at = grid.find(&format!("{flag} \"")).unwrap() + flag.len() + 2;
        let len = grid[at..].find('"').unwrap();
        grid[at..at + len]
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let mut points = BTreeSet::new();
    for l in values("-l") {
        for r in values("-r") {
            for h in values("-H") {
                points.insert((l.to_string(), r.to_string(), h.to_string()));
            }
        }
    }
    points
}

/// A folder to run README blocks in, as a user's checkout looks: scripts/ and data/, and
/// `bin/mlp-train` first on the PATH, which counts its runs in `count` and runs the real binary.
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
        let count = dir.path().join("count");
        fs::write(
            bin.join("mlp-train"),
            format!(
                "#!/bin/sh\necho run >>'{}'\nexec '{BIN}' \"$@\"\n",
                count.display()
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
            .env_remove("MLP_TRAIN")
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

    /// How many times mlp-train ran here, and reset the count.
    fn runs_counted(&self) -> usize {
        let count = self.path().join("count");
        let n = fs::read_to_string(&count).map_or(0, |s| s.lines().count());
        let _ = fs::remove_file(count);
        n
    }

    fn table(&self) -> String {
        fs::read_to_string(self.path().join("table.csv")).unwrap()
    }
}

/// The table without its `seconds` column, the one value that differs between two runs.
fn scores(table: &str) -> Vec<String> {
    let header: Vec<&str> = table.lines().next().unwrap().split(',').collect();
    let seconds = header.iter().position(|c| *c == "seconds").unwrap();
    table
        .lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(seconds);
            cells.join(",")
        })
        .collect()
}

/// Asserts that the table has exactly one row per README grid point, best score first.
fn assert_complete(table: &str) {
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let got: BTreeSet<(String, String, String)> = rows
        .iter()
        .map(|r| {
            let n = |s: &str| s.parse::<f64>().unwrap().to_string();
            (n(r[1]), n(r[2]), n(r[3]))
        })
        .collect();
    assert_eq!(rows.len(), got.len(), "one row per point:\n{table}");
    assert_eq!(got, readme_grid(), "{table}");
    let s: Vec<f64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(s.windows(2).all(|w| w[0] >= w[1]), "best first: {s:?}");
    assert!(s[0] > 0.9, "digits reach 90% validation accuracy: {table}");
}

/// The README's local-cores sweep: the reference table for the other engines.
fn local_table() -> String {
    let ws = Workspace::new();
    ws.bash(
        &(block("grid=(") + &block("scripts/sweep.sh \"${grid[@]}\" > table.csv")),
        &[],
    );
    assert_eq!(ws.runs_counted(), readme_grid().len());
    ws.table()
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_readme_sweep_on_local_cores_has_every_grid_point_best_first() {
    let table = local_table();
    assert_complete(&table);
}

#[test]
fn gnu_parallel_runs_the_readme_sweep_with_the_local_scores() {
    if !have("parallel") {
        skipped("GNU parallel is not installed (Debian package `parallel`; .ci/run installs it)");
        return;
    }
    let ws = Workspace::new();
    let parallel = block("parallel --sshlogin 2/:");
    ws.bash(&(block("grid=(") + &parallel), &[]);
    assert_eq!(ws.runs_counted(), readme_grid().len());
    let table = ws.table();
    assert_complete(&table);
    assert_eq!(scores(&table), scores(&local_table()));

    // Resume: two lost results are the only runs of the same command again.
    for name in ["l0_r0.05_h16", "l1e-3_r0.1_h64"] {
        fs::remove_file(ws.path().join(format!("runs/{name}.json"))).unwrap();
    }
    ws.bash(&(block("grid=(") + &parallel), &[]);
    assert_eq!(ws.runs_counted(), 2);
    assert_eq!(scores(&ws.table()), scores(&table));
}

/// An `ssh` for GNU parallel (PARALLEL_SSH) whose hosts are folders under $FAKE_HOSTS: the
/// command runs there as in the host's home, so nothing is shared with the submitting folder
/// but what parallel copies (rsync runs through this `ssh` too). Like sshd it sets HOME, USER,
/// LOGNAME and SHELL (the login shell): parallel's remote worker runs each job with `$SHELL`,
/// and with SHELL unset (as under CI) it runs nothing and still reports success.
const FAKE_SSH: &str = r#"#!/bin/sh
while [ $# -gt 0 ]; do
    case "$1" in
        --) shift; break ;;
        -[bcDEeFIiJLlmOopQRSWw]) shift 2 ;;
        -*) shift ;;
        *) break ;;
    esac
done
host=$1; shift
[ "${1:-}" != "--" ] || shift
user=$(id -un)
login_shell=$(getent passwd "$user" | cut -d: -f7)
[ -x "${login_shell:-}" ] || login_shell=/bin/sh
mkdir -p "$FAKE_HOSTS/$host" && cd "$FAKE_HOSTS/$host" &&
    HOME=$PWD USER=$user LOGNAME=$user SHELL=$login_shell exec "$login_shell" -c "$*"
"#;

#[test]
fn gnu_parallel_ships_data_to_hosts_without_a_shared_disk_and_returns_the_results() {
    if !have("parallel") || !have("rsync") {
        skipped("GNU parallel or rsync is not installed (Debian packages `parallel`, `rsync`; .ci/run installs them)");
        return;
    }
    // Real copies, not links: the hosts get what parallel sends them, nothing else.
    let ws = Workspace::new();
    fs::remove_file(ws.path().join("data")).unwrap();
    fs::create_dir_all(ws.path().join("data")).unwrap();
    fs::copy(
        format!("{ROOT}/data/digits.csv"),
        ws.path().join("data/digits.csv"),
    )
    .unwrap();
    fs::create_dir_all(ws.path().join("target/release")).unwrap();
    fs::copy(BIN, ws.path().join("target/release/mlp-train")).unwrap();
    let ssh = ws.path().join("fake-ssh");
    fs::write(&ssh, FAKE_SSH).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&ssh, fs::Permissions::from_mode(0o755)).unwrap();
    let hosts = ws.path().join("hosts");
    fs::create_dir(&hosts).unwrap();

    let multi = block("--return runs");
    assert!(multi.contains("8/host1,8/host2"), "{multi}");
    // One run at a time on each of the two hosts: this machine has two cores.
    let script = block("grid=(") + &multi.replace("8/host1,8/host2", "1/host1,1/host2");
    ws.bash(
        &script,
        &[
            ("PARALLEL_SSH", ssh.to_str().unwrap()),
            ("FAKE_HOSTS", hosts.to_str().unwrap()),
        ],
    );
    let table = ws.table();
    assert_complete(&table);
    assert_eq!(scores(&table), scores(&local_table()));
    // Both hosts ran runs in their own folder for this sweep, and --cleanup took the copies back.
    for host in ["host1", "host2"] {
        let sweeps: Vec<_> = fs::read_dir(hosts.join(host))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(sweeps.len(), 1, "{sweeps:?}");
        let name = sweeps[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with("mlp-train-sweep-"), "{name}");
        let results = fs::read_dir(sweeps[0].join("runs"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json")
            })
            .count();
        assert!(results > 0, "{host} ran nothing");
        assert!(!sweeps[0].join("data/digits.csv").exists(), "--cleanup");
        assert!(
            !sweeps[0].join("target/release/mlp-train").exists(),
            "--cleanup"
        );
    }
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

#[test]
fn slurm_array_runs_the_readme_sweep_with_the_local_scores_and_resumes_lost_tasks() {
    let Some(conf) = slurm_conf() else {
        skipped(
            "no Slurm cluster answers (as root: `scripts/slurm-local.sh start`, \
             then run the tests; .ci/run does both)",
        );
        return;
    };
    // A fresh folder without runs/: the task logs' folder must exist before sbatch.
    let ws = Workspace::new();
    let slurm = block("scripts/sweep.sh --slurm");
    let env = [("SLURM_CONF", conf.as_str())];
    ws.bash(&(block("grid=(") + &slurm), &env);
    assert_eq!(ws.runs_counted(), readme_grid().len());
    let table = ws.table();
    assert_complete(&table);
    assert_eq!(scores(&table), scores(&local_table()));
    let logs = fs::read_dir(ws.path().join("runs"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("slurm-") && name.ends_with(".log")
        })
        .count();
    assert_eq!(logs, readme_grid().len(), "one task log per grid point");

    // Two tasks lost: the same command submits an array of two and completes the table.
    for name in ["l1e-4_r0.1_h16", "l0_r0.05_h64"] {
        fs::remove_file(ws.path().join(format!("runs/{name}.json"))).unwrap();
    }
    let out = ws.bash(&(block("grid=(") + &slurm), &env);
    assert_eq!(ws.runs_counted(), 2);
    let total = readme_grid().len();
    let said = format!("{} of {total} grid points already done", total - 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&said), "{stderr}");
    assert_eq!(scores(&ws.table()), scores(&table));

    // The README's submission by hand: the same table.
    let by_hand = Workspace::new();
    by_hand.bash(
        &(block("grid=(") + &block("scripts/sweep.slurm jobs.txt")),
        &env,
    );
    assert_eq!(by_hand.runs_counted(), readme_grid().len());
    assert_eq!(scores(&by_hand.table()), scores(&table));
}
