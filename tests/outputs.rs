//! Outputs never destroy inputs or devices (issue 10): identity checks against inputs and other
//! outputs, symlinks, permissions, long names, stale temporaries, devices, FIFOs and `-`.
#![cfg(unix)]

mod common;
use common::*;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A scratch folder with a copy of iris.csv as `in.csv`.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(data("iris.csv"), dir.path().join("in.csv")).unwrap();
        Scratch { dir }
    }
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    /// A model trained on in.csv for `epochs`, saved as `name`.
    fn model(&self, name: &str, epochs: &str) -> String {
        let m = self.path(name);
        ok_stdout(&run(&[
            "--data",
            &self.path("in.csv"),
            "--epochs",
            epochs,
            "--save",
            &m,
            "-q",
        ]));
        m
    }
    fn bytes(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.p(name)).unwrap()
    }
}

fn model_json(text: &[u8]) -> serde_json::Value {
    serde_json::from_slice(text).expect("a complete model file")
}

#[test]
fn an_output_naming_an_input_is_refused_before_any_work() {
    let s = Scratch::new();
    let input = s.bytes("in.csv");
    let m = s.model("m.json", "2");
    let model = s.bytes("m.json");
    std::fs::copy(data("iris.csv"), s.p("t.csv")).unwrap();
    std::os::unix::fs::symlink("in.csv", s.p("link.csv")).unwrap();
    let (inp, t, link) = (s.path("in.csv"), s.path("t.csv"), s.path("link.csv"));
    let cases: Vec<(Vec<&str>, [&str; 2])> = vec![
        (vec!["--data", &inp, "--save", &inp], ["--save", "--data"]),
        (vec!["--data", &inp, "--log", &inp], ["--log", "--data"]),
        (vec!["--data", &inp, "--plot", &inp], ["--plot", "--data"]),
        (
            vec!["--data", &inp, "--test", &t, "--save", &t],
            ["--save", "--test"],
        ),
        (
            vec!["--data", &inp, "--init-from", &m, "--log", &m],
            ["--log", "--init-from"],
        ),
        // Through a symlink, either way round.
        (vec!["--data", &link, "--save", &inp], ["--save", "--data"]),
        (vec!["--data", &inp, "--save", &link], ["--save", "--data"]),
        (
            vec!["predict", "--model", &m, "--data", &inp, "--out", &inp],
            ["--out", "--data"],
        ),
        (
            vec!["predict", "--model", &m, "--data", &inp, "--out", &m],
            ["--out", "--model"],
        ),
        (
            vec!["eval", "--model", &m, "--data", &inp, "--out", &link],
            ["--out", "--data"],
        ),
    ];
    for (args, flags) in cases {
        let out = run(&args);
        assert_error(&out, 2, &flags);
        assert_eq!(s.bytes("in.csv"), input, "{args:?}");
        assert_eq!(s.bytes("t.csv"), input, "{args:?}");
        assert_eq!(s.bytes("m.json"), model, "{args:?}");
        assert!(
            std::fs::symlink_metadata(s.p("link.csv"))
                .unwrap()
                .file_type()
                .is_symlink(),
            "{args:?}"
        );
    }
    // The input read from stdin is compared too when it is a regular file.
    let out = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(["--data", "-", "--save", &inp, "-q"])
        .stdin(std::fs::File::open(s.p("in.csv")).unwrap())
        .output()
        .unwrap();
    assert_error(&out, 2, &["--save", "--data"]);
    assert_eq!(s.bytes("in.csv"), input);
}

#[test]
fn two_outputs_naming_one_file_are_refused() {
    let s = Scratch::new();
    let inp = s.path("in.csv");
    let m = s.path("m.json");
    std::os::unix::fs::symlink("m.json", s.p("alias.json")).unwrap();
    let alias = s.path("alias.json");
    for (second, path) in [("--log", &m), ("--plot", &m), ("--log", &alias)] {
        let out = run(&["--data", &inp, "--save", &m, second, path]);
        assert_error(&out, 2, &[second, "--save"]);
        assert!(!s.p("m.json").exists(), "nothing is written");
    }
    // An existing file too.
    s.model("m.json", "1");
    let out = run(&["--data", &inp, "--save", &alias, "--plot", &m]);
    assert_error(&out, 2, &["--plot", "--save"]);
}

#[test]
fn continuing_a_model_in_place_is_allowed() {
    let s = Scratch::new();
    let m = s.model("m.json", "2");
    ok_stdout(&run(&[
        "--data",
        &s.path("in.csv"),
        "--init-from",
        &m,
        "--save",
        &m,
        "--epochs",
        "3",
        "-q",
    ]));
    let v = model_json(&s.bytes("m.json"));
    assert_eq!(v["epochs_run"], 5, "{v}");
}

#[test]
fn dev_null_stays_a_device() {
    let s = Scratch::new();
    // A private null device (mknod c 1 3, as root), so that a regression replaces a node of
    // this test's own and not the machine's /dev/null, which every other process uses. A
    // user who may not make device nodes cannot replace /dev/null either (/dev is root's).
    let private = s.p("null");
    let made = Command::new("mknod")
        .arg(&private)
        .args(["c", "1", "3"])
        .status()
        .is_ok_and(|st| st.success());
    let null = if made {
        private.display().to_string()
    } else {
        "/dev/null".to_string()
    };
    let folder = Path::new(&null).parent().unwrap().to_path_buf();
    let is_device = |p: &str| std::fs::metadata(p).unwrap().file_type().is_char_device();
    let out = run(&[
        "--data",
        &s.path("in.csv"),
        "--epochs",
        "1",
        "--save",
        &null,
        "--log",
        &null,
        "--plot",
        &null,
        "-q",
    ]);
    ok_stdout(&out);
    assert!(is_device(&null), "{null} was replaced");
    assert!(files_in(&folder)
        .iter()
        .all(|n| !n.contains("mlp-train") && !n.ends_with(".tmp")));
    let m = s.model("m.json", "1");
    let out = run(&[
        "predict",
        "--model",
        &m,
        "--data",
        &s.path("in.csv"),
        "--out",
        &null,
    ]);
    assert!(ok_stdout(&out).contains("accuracy"));
    assert!(is_device(&null), "{null} was replaced by predict --out");
    assert!(is_device("/dev/null"));
}

#[test]
fn a_fifo_is_written_in_place() {
    let s = Scratch::new();
    let fifo = s.p("pipe");
    let ok = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo");
    // The reader is a child process, so that it can be stopped if the FIFO is replaced.
    let mut reader = Command::new("cat")
        .arg(&fifo)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = run(&[
        "--data",
        &s.path("in.csv"),
        "--epochs",
        "1",
        "--save",
        fifo.to_str().unwrap(),
        "-q",
    ]);
    let still_fifo = std::fs::metadata(&fifo).unwrap().file_type().is_fifo();
    if !still_fifo || !out.status.success() {
        let _ = reader.kill();
        let _ = reader.wait();
        panic!("the FIFO was replaced or not written: {}", stderr(&out));
    }
    let v = model_json(&reader.wait_with_output().unwrap().stdout);
    assert_eq!(v["epochs_run"], 1);
    assert_eq!(files_in(s.dir.path()), ["in.csv", "pipe"]);
}

#[test]
fn a_symlink_to_an_open_descriptor_is_written_through_not_replaced() {
    let s = Scratch::new();
    let m = s.model("m.json", "1");
    std::os::unix::fs::symlink("/proc/self/fd/1", s.p("stdout-link")).unwrap();
    let out = run(&[
        "predict",
        "--model",
        &m,
        "--data",
        &s.path("in.csv"),
        "--out",
        &s.path("stdout-link"),
    ]);
    let text = ok_stdout(&out);
    assert!(text.starts_with("species\n"), "{text}");
    assert_eq!(text.lines().count(), 151, "{text}");
    // The report went to stderr: stdout carries only the predictions.
    assert!(stderr(&out).contains("accuracy"), "{}", stderr(&out));
    let link = std::fs::symlink_metadata(s.p("stdout-link")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
}

#[test]
fn a_symlinked_output_stays_a_link_and_its_target_keeps_its_permissions() {
    let s = Scratch::new();
    for mode in [0o400, 0o600, 0o640] {
        let target = s.p("models/real.json");
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, b"{}").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode)).unwrap();
        let link = s.p("m.json");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("models/real.json", &link).unwrap();
        ok_stdout(&run(&[
            "--data",
            &s.path("in.csv"),
            "--epochs",
            "1",
            "--save",
            link.to_str().unwrap(),
            "-q",
        ]));
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let v = model_json(&std::fs::read(&target).unwrap());
        assert_eq!(v["epochs_run"], 1);
        let got = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(got, mode, "permissions of the replaced file");
        assert_eq!(files_in(&s.p("models")), ["real.json"]);
    }
    // A dangling link creates its target.
    std::os::unix::fs::symlink("models/new.json", s.p("n.json")).unwrap();
    ok_stdout(&run(&[
        "--data",
        &s.path("in.csv"),
        "--epochs",
        "1",
        "--save",
        &s.path("n.json"),
        "-q",
    ]));
    assert!(s.p("models/new.json").is_file());
    assert!(std::fs::symlink_metadata(s.p("n.json"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_250_character_name_is_written() {
    let s = Scratch::new();
    let name = format!("{}.json", "m".repeat(245));
    assert_eq!(name.len(), 250);
    let m = s.path(&name);
    for _ in 0..2 {
        ok_stdout(&run(&[
            "--data",
            &s.path("in.csv"),
            "--epochs",
            "1",
            "--save",
            &m,
            "-q",
        ]));
    }
    assert_eq!(model_json(&s.bytes(&name))["epochs_run"], 1);
    assert_eq!(files_in(s.dir.path()), ["in.csv", name.as_str()]);
}

#[test]
fn stale_temporaries_from_a_killed_run_are_removed_by_the_next_write() {
    let s = Scratch::new();
    // What a SIGKILL between creating and renaming a temporary leaves (pid above pid_max).
    let stale = ".m.json.mlp-train-999999999.tmp";
    std::fs::write(s.p(stale), b"{\"partial").unwrap();
    s.model("m.json", "1");
    assert_eq!(files_in(s.dir.path()), ["in.csv", "m.json"]);
}

#[test]
fn sigkill_during_a_save_leaves_no_temporary_after_the_next_write() {
    // A big model (several MB) so that the kill lands while it is being written.
    let s = Scratch::new();
    let m = s.path("m.json");
    for delay_ms in (0..12u64).map(|k| 10 * k * k) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
            .args(["--data", &s.path("in.csv"), "--epochs", "1", "--hidden"])
            .args(["20000", "--save", &m, "-q"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // Whatever the moment, the file is absent or whole.
        if let Ok(bytes) = std::fs::read(s.p("m.json")) {
            model_json(&bytes);
        }
    }
    s.model("m.json", "1");
    assert_eq!(files_in(s.dir.path()), ["in.csv", "m.json"]);
}

#[test]
fn dash_is_stdout_for_every_output_and_the_summary_moves_to_stderr() {
    let s = Scratch::new();
    let inp = s.path("in.csv");
    let out = run(&["--data", &inp, "--epochs", "2", "--save", "-"]);
    let v = model_json(ok_stdout(&out).as_bytes());
    assert_eq!(v["epochs_run"], 2);
    assert!(stderr(&out).contains("accuracy"), "{}", stderr(&out));
    let out = run(&["--data", &inp, "--epochs", "3", "--log", "-", "--json"]);
    let log = ok_stdout(&out);
    assert!(log.starts_with("epoch,lr,train_L"), "{log}");
    assert_eq!(log.lines().count(), 4, "{log}");
    let summary = stderr(&out);
    let json = summary.lines().find(|l| l.starts_with('{')).unwrap();
    let j: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(j["epochs"], 3);
    let out = run(&["--data", &inp, "--epochs", "2", "--plot", "-", "-q"]);
    assert!(ok_stdout(&out).contains("<svg"));
    let m = s.model("m.json", "1");
    let out = run(&["predict", "--model", &m, "--data", &inp, "--out", "-"]);
    let pred = ok_stdout(&out);
    assert_eq!(pred.lines().count(), 151);
    assert!(stderr(&out).contains("accuracy"));
    // Two outputs on `-` would mix.
    let out = run(&["--data", &inp, "--save", "-", "--log", "-"]);
    assert_error(&out, 2, &["--log", "--save", "standard output"]);
    let out = run(&["--data", &inp, "--save", "-", "--plot", "/dev/stdout"]);
    assert_error(&out, 2, &["--plot", "--save"]);
}

#[test]
fn an_output_that_is_already_stdout_is_written_through_it() {
    // `--save m.json > m.json`: the model is written through the shell's descriptor.
    let s = Scratch::new();
    let m = s.path("m.json");
    let out = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(["--data", &s.path("in.csv"), "--epochs", "2", "--save", &m])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&m).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(model_json(&s.bytes("m.json"))["epochs_run"], 2);
    assert!(stderr(&out).contains("model saved"));
}

#[test]
fn help_into_a_full_device_fails() {
    for args in [&["--help"][..], &["predict", "--help"], &["--version"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
            .args(args)
            .stdout(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .unwrap(),
            )
            .output()
            .unwrap();
        assert_error(&out, 5, &["help"]);
    }
}

#[test]
fn predict_json_puts_the_report_alone_on_stdout_and_eval_prints_only_the_report() {
    let s = Scratch::new();
    let m = s.model("m.json", "2");
    let inp = s.path("in.csv");
    let out = run(&["predict", "--model", &m, "--data", &inp, "--json"]);
    let report: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!(report["confusion"].as_array().unwrap().len(), 3);
    assert_eq!(stderr(&out), "");
    let out = run(&["eval", "--model", &m, "--data", &inp]);
    let text = ok_stdout(&out);
    assert!(text.starts_with("accuracy "), "{text}");
    assert!(!text.contains("setosa\n"), "no prediction lines: {text}");
    assert!(text.lines().count() < 15, "{text}");
    let out = run(&["eval", "--model", &m, "--data", &inp, "--json"]);
    let r2: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!(r2, report);
    // Without the label column there is no report: say so rather than print nothing.
    let features: String = std::fs::read_to_string(&inp)
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    std::fs::write(s.p("x.csv"), features).unwrap();
    let out = run(&["eval", "--model", &m, "--data", &s.path("x.csv")]);
    assert_error(&out, 3, &["x.csv", "species", "no report"]);
}

/// Asserts that a run was refused before any work: exit 5, one line on stderr naming `flag`
/// and `path` (so no progress line: nothing trained), nothing on stdout.
fn refused_before_work(out: &std::process::Output, flag: &str, path: &str) {
    assert_error(out, 5, &[flag, path]);
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn an_output_that_cannot_be_written_is_refused_before_training() {
    let s = Scratch::new();
    let inp = s.path("in.csv");
    std::fs::create_dir(s.p("out")).unwrap();
    let d = s.dir.path().display().to_string();
    let places = [
        format!("{d}/out/"),                // an existing folder
        format!("{d}/out"),                 // the same without the slash
        format!("{d}/nothere/"),            // only a folder can have this name
        format!("{d}/nothere/."),           // the same
        format!("{d}/nodir/m.svg"),         // its folder is missing
        format!("{d}/in.csv/m.svg"),        // its "folder" is a file
        "/proc/self/fd/987654".to_string(), // a descriptor that is not open
        "/proc/m.svg".to_string(),          // a file system that takes no new files
    ];
    let before = files_in(s.dir.path());
    for flag in ["--save", "--log", "--plot", "--report"] {
        for place in &places {
            // Not --quiet: a run that trained would print progress lines on stderr.
            let out = run(&["--data", &inp, "--epochs", "50", flag, place]);
            refused_before_work(&out, flag, place);
        }
    }
    let m = s.model("m.json", "1");
    for flag in ["--out", "--report"] {
        for place in &places {
            let out = run(&["predict", "--model", &m, "--data", &inp, flag, place]);
            refused_before_work(&out, flag, place);
        }
    }
    assert_eq!(files_in(&s.p("out")), Vec::<String>::new());
    let mut now = before;
    now.push("m.json".into());
    now.sort();
    assert_eq!(
        files_in(s.dir.path()),
        now,
        "nothing written, no temporary left"
    );
    // Standard output and devices are still written as before.
    let out = run(&[
        "--data",
        &inp,
        "--epochs",
        "1",
        "--save",
        "-",
        "--log",
        "/dev/null",
        "--plot",
        "/dev/stderr",
        "-q",
    ]);
    assert_eq!(model_json(ok_stdout(&out).as_bytes())["epochs_run"], 1);
    assert!(stderr(&out).contains("<svg"));
}

/// Runs mlp-train as the unprivileged user `nobody`; `None` (with a loud note) when this
/// process may not switch users.
fn run_as_nobody(args: &[&str]) -> Option<std::process::Output> {
    use std::os::unix::process::CommandExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "SKIPPED: the read-only and sticky folder cases need root to run mlp-train as nobody"
        );
        return None;
    }
    Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(args)
        .uid(65534)
        .gid(65534)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            eprintln!(
                "SKIPPED: nobody cannot run {}: {e}",
                env!("CARGO_BIN_EXE_mlp-train")
            )
        })
        .ok()
}

#[test]
fn an_unwritable_folder_or_anothers_file_in_a_sticky_folder_is_refused_before_training() {
    let s = Scratch::new();
    let mode = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    mode(s.dir.path(), 0o755).unwrap();
    // Read-only for nobody.
    std::fs::create_dir(s.p("ro")).unwrap();
    mode(&s.p("ro"), 0o555).unwrap();
    // Sticky and open to all, like /tmp, holding a model of root's.
    std::fs::create_dir(s.p("sticky")).unwrap();
    mode(&s.p("sticky"), 0o1777).unwrap();
    let theirs = s.model("sticky/m.json", "1");
    let model = s.bytes("sticky/m.json");
    let inp = s.path("in.csv");
    // nobody must reach the binary and the scratch folder (not so under a private $TMPDIR).
    let Some(reach) = run_as_nobody(&["--data", &inp, "--epochs", "1", "--save", "-", "-q"]) else {
        return;
    };
    if !reach.status.success() {
        eprintln!("SKIPPED: nobody cannot train here: {}", stderr(&reach));
        return;
    }
    for (flag, place) in [
        ("--save", s.path("ro/m.json")),
        ("--log", s.path("ro/log.csv")),
        ("--save", theirs.clone()),
        ("--plot", theirs.replace("m.json", "m.svg")),
    ] {
        let out = run_as_nobody(&["--data", &inp, "--epochs", "50", flag, &place]).unwrap();
        if flag == "--plot" {
            // A new file of nobody's own in the sticky folder is fine.
            ok_stdout(&out);
            continue;
        }
        refused_before_work(&out, flag, &place);
    }
    assert_eq!(s.bytes("sticky/m.json"), model);
    assert_eq!(files_in(&s.p("ro")), Vec::<String>::new());
    assert_eq!(files_in(&s.p("sticky")), ["m.json", "m.svg"]);
    // predict's --out too.
    let out = run_as_nobody(&[
        "predict",
        "--model",
        &theirs,
        "--data",
        &inp,
        "--out",
        &theirs.replace("m.json", "p.csv"),
    ])
    .unwrap();
    ok_stdout(&out);
    let out = run_as_nobody(&[
        "predict",
        "--model",
        &theirs,
        "--data",
        &inp,
        "--out",
        &s.path("ro/p.csv"),
    ])
    .unwrap();
    refused_before_work(&out, "--out", &s.path("ro/p.csv"));
}
