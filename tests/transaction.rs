//! A run's outputs change together, or not at all (issue 20): disk full while staging, a
//! signal in the write phase, outputs that cannot be replaced, a closed pipe on a data output.
#![cfg(target_os = "linux")]

mod common;
use common::*;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mlp-train"));
    c.stdin(Stdio::null());
    c
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The bytes of every entry of `dir` (temporaries included), by name.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_in(dir)
        .into_iter()
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap_or_default();
            (n, bytes)
        })
        .collect()
}

/// A 64 KiB tmpfs mounted on a fresh folder, unmounted when dropped; `None`, said loudly,
/// where this process may not mount (not root, or in a container without CAP_SYS_ADMIN).
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIPPED: cannot mount a tmpfs here (needs root); the RLIMIT_FSIZE test covers a full disk");
            return None;
        }
        Some(Tmpfs(dir))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

/// The case: on a 64 KiB tmpfs holding m.json and r.html from an earlier run,
/// `--save m.json --report r.html --log l.csv` runs out of space on the page (23 KB, with the
/// 9 KB model beside the old files): exit 5 naming r.html and --report; m.json and r.html
/// byte for byte as they were, no l.csv, no temporary.
#[test]
fn a_full_disk_while_staging_leaves_every_earlier_file_untouched() {
    let Some(fs) = Tmpfs::mount("64k") else {
        return;
    };
    let d = fs.path();
    let (m, r, l) = (d.join("m.json"), d.join("r.html"), d.join("l.csv"));
    let iris = data("iris.csv");
    let earlier = bin()
        .args(["--data", &iris, "--epochs", "3", "-q"])
        .args(["--save", &s(&m), "--report", &s(&r)])
        .output()
        .unwrap();
    ok_stdout(&earlier);
    let before = snapshot(d);
    assert_eq!(files_in(d), ["m.json", "r.html"]);
    let out = bin()
        .args(["--data", &iris, "--epochs", "5", "--seed", "7", "-q"])
        .args(["--save", &s(&m), "--report", &s(&r), "--log", &s(&l)])
        .output()
        .unwrap();
    assert_error(
        &out,
        5,
        &[&s(&r), "--report", "No space left", "no file was changed"],
    );
    assert_eq!(
        snapshot(d),
        before,
        "an earlier file changed, or a file was left"
    );
    // With room, the same run writes all three.
    std::fs::remove_file(&r).unwrap();
    ok_stdout(
        &bin()
            .args(["--data", &iris, "--epochs", "5", "-q"])
            .args(["--save", &s(&m), "--log", &s(&l)])
            .output()
            .unwrap(),
    );
    assert_eq!(files_in(d), ["l.csv", "m.json"]);
}

/// The same with RLIMIT_FSIZE on the child (SIGXFSZ ignored, so a write past the limit
/// fails with EFBIG): runs anywhere, root or not. The limit lets the model and the log
/// through and stops the page.
#[test]
fn a_file_size_limit_while_staging_leaves_every_earlier_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (m, r, l, p) = (
        d.join("m.json"),
        d.join("r.html"),
        d.join("l.csv"),
        d.join("pred.csv"),
    );
    let iris = data("iris.csv");
    ok_stdout(
        &bin()
            .args(["--data", &iris, "--epochs", "3", "-q"])
            .args(["--save", &s(&m), "--report", &s(&r)])
            .output()
            .unwrap(),
    );
    let limited = |args: &[&str]| {
        let mut c = bin();
        c.args(args);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            c.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: 16 * 1024,
                    rlim_max: 16 * 1024,
                };
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        c.output().unwrap()
    };
    let before = snapshot(d);
    let out = limited(&[
        "--data",
        &iris,
        "--epochs",
        "5",
        "--seed",
        "7",
        "-q",
        "--save",
        &s(&m),
        "--report",
        &s(&r),
        "--log",
        &s(&l),
    ]);
    assert_error(&out, 5, &[&s(&r), "--report", "no file was changed"]);
    assert_eq!(snapshot(d), before);
    // predict: the predictions (3 KB) and the page (too big) change together, or neither.
    std::fs::write(&p, b"old predictions\n").unwrap();
    let before = snapshot(d);
    let out = limited(&[
        "predict",
        "--model",
        &s(&m),
        "--data",
        &iris,
        "--out",
        &s(&p),
        "--report",
        &s(&r),
    ]);
    assert_error(&out, 5, &[&s(&r), "--report"]);
    assert_eq!(snapshot(d), before);
}

/// Spawns mlp-train with stdout a pipe; reads `keep` bytes of it, then closes it.
fn reader_closes_after(args: &[&str], keep: usize) -> std::process::Output {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = vec![0u8; keep];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    child.wait_with_output().unwrap()
}

/// `mlp-train --data iris.csv --save - | head -c 100`: the model (a few MB with --hidden 2000,
/// more than a pipe holds) reaches its reader truncated: exit 5, not 0.
#[test]
fn a_closed_pipe_on_a_data_output_is_a_failure() {
    let iris = data("iris.csv");
    let out = reader_closes_after(
        &[
            "--data", &iris, "--epochs", "1", "--hidden", "2000", "-q", "--save", "-",
        ],
        100,
    );
    assert_error(
        &out,
        5,
        &["the reader of standard output closed it before the whole --save output was written"],
    );
    // Every data output on stdout, the pipe closed before anything is read.
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.json");
    ok_stdout(
        &bin()
            .args(["--data", &iris, "--epochs", "2", "-q", "--save", &s(&m)])
            .output()
            .unwrap(),
    );
    let m = s(&m);
    let cases: [&[&str]; 5] = [
        &["--data", &iris, "--epochs", "2", "-q", "--log", "-"],
        &["--data", &iris, "--epochs", "2", "-q", "--plot", "-"],
        &["--data", &iris, "--epochs", "2", "-q", "--report", "-"],
        &[
            "--data", &iris, "--cv", "2", "--epochs", "2", "-q", "--report", "-",
        ],
        &["predict", "--model", &m, "--data", &iris, "--out", "-"],
    ];
    for args in cases {
        let flag = args[args.len() - 2];
        let out = reader_closes_after(args, 0);
        assert_error(
            &out,
            5,
            &[&format!(
                "closed it before the whole {flag} output was written"
            )],
        );
    }
}

/// The stream is written before any file is renamed: a closed pipe leaves the files as
/// they were.
#[test]
fn a_closed_pipe_replaces_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let (log, plot) = (dir.path().join("l.csv"), dir.path().join("p.svg"));
    std::fs::write(&log, b"old log\n").unwrap();
    std::fs::write(&plot, b"old plot\n").unwrap();
    let before = snapshot(dir.path());
    let out = reader_closes_after(
        &[
            "--data",
            &iris,
            "--epochs",
            "2",
            "-q",
            "--save",
            "-",
            "--log",
            &s(&log),
            "--plot",
            &s(&plot),
        ],
        0,
    );
    assert_error(&out, 5, &["--save output"]);
    assert_eq!(snapshot(dir.path()), before);
}

/// A device that refuses the write (`/dev/full`) fails before any file is renamed.
#[test]
fn a_full_device_replaces_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("l.csv");
    std::fs::write(&log, b"old log\n").unwrap();
    let before = snapshot(dir.path());
    let out = bin()
        .args(["--data", &data("iris.csv"), "--epochs", "2", "-q"])
        .args(["--log", &s(&log), "--save", "/dev/full"])
        .output()
        .unwrap();
    assert_error(&out, 5, &["/dev/full", "No space left"]);
    assert_eq!(snapshot(dir.path()), before);
}

/// A FIFO whose reader goes away early: the same failure, naming the FIFO.
#[test]
fn a_closed_fifo_on_a_data_output_is_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("model.fifo");
    let c = std::ffi::CString::new(s(&fifo)).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::File::open(&fifo).unwrap();
            let mut head = [0u8; 10];
            f.read_exact(&mut head).unwrap();
        })
    };
    let out = bin()
        .args([
            "--data",
            &data("iris.csv"),
            "--epochs",
            "1",
            "--hidden",
            "2000",
            "-q",
        ])
        .args(["--save", &s(&fifo)])
        .output()
        .unwrap();
    reader.join().unwrap();
    assert_error(
        &out,
        5,
        &[
            &s(&fifo),
            "closed it before the whole --save output was written",
        ],
    );
}

/// Whether `chattr` works on the file system of `dir` (ext4, xfs, btrfs do; tmpfs and
/// overlay may not).
fn chattr_works(dir: &Path) -> bool {
    let probe = dir.join("probe");
    std::fs::write(&probe, b"").unwrap();
    let ok = Command::new("chattr")
        .args(["+i"])
        .arg(&probe)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        let _ = Command::new("chattr").arg("-i").arg(&probe).status();
    }
    std::fs::remove_file(&probe).unwrap();
    ok
}

fn chattr(flag: &str, p: &Path) {
    let ok = Command::new("chattr").arg(flag).arg(p).status().unwrap();
    assert!(ok.success(), "chattr {flag} {}", p.display());
}

/// Removes the chattr flags it set even when an assertion fails (else the folder could not
/// be removed).
struct Unflag(Vec<(String, PathBuf)>);
impl Drop for Unflag {
    fn drop(&mut self) {
        for (flag, p) in &self.0 {
            let _ = Command::new("chattr").arg(flag).arg(p).status();
        }
    }
}

/// An immutable or append-only output, or one in such a folder, is refused before any work
/// (no progress line: nothing trained), exit 5, with the flag, the path and what to do.
#[test]
fn an_output_that_cannot_be_replaced_is_refused_before_training() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let d = dir.path();
    if !chattr_works(d) {
        eprintln!(
            "SKIPPED: chattr +i does not work on the file system of {} (or this process lacks CAP_LINUX_IMMUTABLE)",
            d.display()
        );
        return;
    }
    let iris = data("iris.csv");
    let (m, sub) = (d.join("m.json"), d.join("sub"));
    std::fs::write(&m, b"old model\n").unwrap();
    std::fs::create_dir(&sub).unwrap();
    let _unflag = Unflag(vec![
        ("-i".into(), m.clone()),
        ("-a".into(), m.clone()),
        ("-i".into(), sub.clone()),
        ("-a".into(), sub.clone()),
    ]);
    let cases: [(&str, &Path, &str, &str, &[&str]); 4] = [
        (
            "+i",
            &m,
            "--save",
            &s(&m),
            &["is immutable (chattr +i)", "chattr -i"],
        ),
        (
            "+a",
            &m,
            "--save",
            &s(&m),
            &["is append-only (chattr +a)", "chattr -a"],
        ),
        (
            "+i",
            &sub,
            "--log",
            &s(&sub.join("l.csv")),
            &["in the immutable folder", "chattr -i"],
        ),
        (
            "+a",
            &sub,
            "--report",
            &s(&sub.join("r.html")),
            &["in the append-only folder", "chattr -a"],
        ),
    ];
    for (attr, target, flag, path, words) in cases {
        chattr(attr, target);
        let out = bin()
            .args(["--data", &iris, "--epochs", "50", flag, path])
            .output()
            .unwrap();
        let mut needles = vec![flag, path];
        needles.extend_from_slice(words);
        assert_error(&out, 5, &needles);
        assert!(out.stdout.is_empty(), "it trained");
        chattr(&attr.replace('+', "-"), target);
    }
    // predict --out too; and the file is as it was, nothing left in the folder.
    let model = d.join("good.json");
    ok_stdout(
        &bin()
            .args(["--data", &iris, "--epochs", "1", "-q", "--save", &s(&model)])
            .output()
            .unwrap(),
    );
    chattr("+i", &m);
    let out = bin()
        .args([
            "predict",
            "--model",
            &s(&model),
            "--data",
            &iris,
            "--out",
            &s(&m),
        ])
        .output()
        .unwrap();
    assert_error(&out, 5, &["--out", &s(&m), "immutable"]);
    chattr("-i", &m);
    assert_eq!(std::fs::read(&m).unwrap(), b"old model\n");
    assert_eq!(files_in(d), ["good.json", "m.json", "sub"]);
    assert_eq!(files_in(&sub), Vec::<String>::new());
}

/// A read-only file system is refused before any work, in words.
#[test]
fn an_output_on_a_read_only_file_system_is_refused_before_training() {
    let Some(fs) = Tmpfs::mount("64k") else {
        return;
    };
    let ok = Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(fs.path())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "remount ro");
    let log = fs.path().join("l.csv");
    let out = bin()
        .args([
            "--data",
            &data("iris.csv"),
            "--epochs",
            "50",
            "--log",
            &s(&log),
        ])
        .output()
        .unwrap();
    assert_error(&out, 5, &["--log", &s(&log), "read-only file system"]);
    assert!(out.stdout.is_empty());
}

/// xorshift64*, seeded from the clock (the seed is printed, to replay a failure).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Runs killed by SIGTERM or SIGINT at random instants around the write phase (a 5000-epoch
/// run on iris writes a 0.7 MB log, a 0.3 MB plot and a 0.3 MB page): after each, the four
/// outputs are all as they were or all new; a run interrupted during training keeps them and
/// writes its whole `.interrupted` set beside them, or none of it; no temporary is left.
#[test]
fn a_signal_in_the_write_phase_leaves_the_old_set_or_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let names = ["m.json", "l.csv", "p.svg", "r.html"];
    let siblings = [
        "m.interrupted.json",
        "l.interrupted.csv",
        "p.interrupted.svg",
        "r.interrupted.html",
    ];
    let iris = data("iris.csv");
    let args: Vec<String> = [
        "--data", &iris, "--epochs", "5000", "-q", "--save", "m.json", "--log", "l.csv", "--plot",
        "p.svg", "--report", "r.html",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let spawn = || {
        bin()
            .args(&args)
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let reset = || {
        for n in files_in(d) {
            std::fs::remove_file(d.join(n)).unwrap();
        }
        for n in names {
            std::fs::write(d.join(n), format!("old {n}\n")).unwrap();
        }
    };
    // How long a whole run takes here, now (the slowest of three).
    let mut whole = Duration::ZERO;
    for _ in 0..3 {
        reset();
        let t = Instant::now();
        let out = spawn().wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        whole = whole.max(t.elapsed());
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("a whole run: {whole:?}; seed {seed}");
    let mut rng = Rng(seed);
    let mut tally = std::collections::BTreeMap::<&str, usize>::new();
    let runs = 100;
    for k in 0..runs {
        reset();
        // Between 40% and 110% of a whole run: the end of training, the rendering, the
        // staging, the renames, the exit.
        let permille = 400 + rng.next() % 700;
        let delay = whole * permille as u32 / 1000;
        let sig = if k % 2 == 0 { "TERM" } else { "INT" };
        let mut child = spawn();
        std::thread::sleep(delay);
        let _ = Command::new("kill")
            .args([&format!("-{sig}"), &child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let code = child.wait().unwrap().code();
        let what = format!("run {k} (seed {seed}), SIG{sig} after {delay:?}, exit {code:?}\n{err}");
        let left = files_in(d);
        assert!(
            left.iter().all(|n| !n.starts_with('.')),
            "{what}: temporaries left: {left:?}"
        );
        let old: Vec<bool> = names
            .iter()
            .map(|n| std::fs::read(d.join(n)).unwrap() == format!("old {n}\n").as_bytes())
            .collect();
        let present: Vec<bool> = siblings.iter().map(|n| d.join(n).exists()).collect();
        let all_old = old.iter().all(|&o| o);
        let all_new = old.iter().all(|&o| !o);
        assert!(all_old || all_new, "{what}: a mixed set, old: {old:?}");
        assert!(
            present.iter().all(|&p| p) || present.iter().all(|&p| !p),
            "{what}: a partial .interrupted set: {present:?}"
        );
        // The new files are whole.
        let whole_files = |files: &[&str]| {
            let m: serde_json::Value =
                serde_json::from_slice(&std::fs::read(d.join(files[0])).unwrap())
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(m["epochs_run"].as_u64().unwrap() >= 1, "{what}");
            for f in &files[1..] {
                let t = std::fs::read_to_string(d.join(f)).unwrap();
                assert!(t.ends_with('\n'), "{what}: {f} is cut");
            }
        };
        let outcome = match code {
            Some(0) => {
                assert!(all_new && !present[0], "{what}");
                whole_files(&names);
                "exit 0, all new"
            }
            Some(130) if present[0] => {
                assert!(all_old, "{what}: an interrupted training replaced a file");
                whole_files(&siblings);
                "exit 130 in training, old set kept, .interrupted set beside it"
            }
            Some(130) if all_new => {
                whole_files(&names);
                "exit 130 in the commit, all new"
            }
            Some(130) => "exit 130 before the commit, old set",
            _ => panic!("{what}: unexpected exit"),
        };
        *tally.entry(outcome).or_default() += 1;
    }
    eprintln!("{tally:#?}");
    assert!(
        tally.keys().any(|k| k.starts_with("exit 130")),
        "no run was interrupted: {tally:?}"
    );
}
