//! What a newcomer reads, through the real binary: the short help of a bare `mlp-train`, the
//! examples of every `--help` (run as written), the man pages' sections, `-q`'s one rule for
//! every command, and the usage errors that name the fix.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{assert_error, data, ok_stdout, run, stderr};

/// Every subcommand with a page and its own examples.
const SUBCOMMANDS: [&str; 10] = [
    "train",
    "predict",
    "eval",
    "gradcheck",
    "explain",
    "graph",
    "completions",
    "man",
    "sweep",
    "export",
];

/// Runs mlp-train in `dir`, stdin closed.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlp-train"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("mlp-train runs")
}

/// A folder whose `data` is the repository's data/ (a symlink), as the examples expect.
fn examples_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo_data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    std::os::unix::fs::symlink(repo_data, dir.path().join("data")).unwrap();
    dir
}

/// The example command lines under `Examples:` in a `--help` text.
fn examples_in(help: &str) -> Vec<String> {
    let start = help.find("\nExamples:\n").expect("an Examples: section");
    help[start..]
        .lines()
        .filter(|l| l.starts_with("    ") && !l.starts_with("     "))
        .map(|l| l.trim().to_string())
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_bare_mlp_train_prints_the_short_help_on_stderr_and_exits_2() {
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("Usage: mlp-train [OPTIONS] --data <FILE>"),
        "{err}"
    );
    assert!(err.contains("Commands:"), "{err}");
    for sub in SUBCOMMANDS {
        assert!(err.contains(&format!("\n  {sub} ")), "{sub} listed:\n{err}");
    }
    assert!(err.contains("Most common:"), "{err}");
    assert!(
        err.contains("  mlp-train --data data/iris.csv --val-frac 0.2 --save model.json\n"),
        "{err}"
    );
    assert!(
        err.contains("  mlp-train predict --model model.json --data data/iris.csv\n"),
        "{err}"
    );
    assert!(err.contains("mlp-train COMMAND --help"), "{err}");
    assert!(!err.contains("required"), "not the --data error:\n{err}");
    // Short: the commands, not every training flag.
    assert!(!err.contains("--lambda"), "{err}");
    assert!(err.lines().count() < 30, "{err}");
}

#[test]
fn every_help_ends_with_examples_and_the_main_one_with_the_exit_codes() {
    let main = ok_stdout(&run(&["--help"]));
    assert!(
        examples_in(&main).contains(&"mlp-train --data data/iris.csv --cv 5".to_string()),
        "{main}"
    );
    assert!(
        main.contains("Exit codes: 0 ok, 1 other error, 2 bad flag"),
        "{main}"
    );
    assert!(main.contains("130 interrupted"), "{main}");
    // -h shows them too.
    assert!(ok_stdout(&run(&["-h"])).contains("\nExamples:\n"));
    for sub in SUBCOMMANDS {
        for flag in ["--help", "-h"] {
            let help = ok_stdout(&run(&[sub, flag]));
            let examples = examples_in(&help);
            assert!(examples.len() >= 3, "{sub} {flag}: {examples:?}");
            let own = if sub == "train" {
                "mlp-train --data".to_string()
            } else {
                format!("mlp-train {sub}")
            };
            assert!(
                examples.iter().any(|e| e.contains(&own)),
                "{sub}: an example runs `{own}`: {examples:?}"
            );
            assert!(!help.contains('\x1b'), "{sub}: no ANSI off a terminal");
        }
    }
}

/// The examples of `--help` that run on their own (no pipe, redirection, `&&`, no folder
/// outside the example's), in the order a user would: training first, which saves the
/// model.json the others use. Each exits 0.
#[test]
fn the_help_examples_run_as_written() {
    let dir = examples_dir();
    let mut ran = 0;
    for sub in [
        "train",
        "predict",
        "eval",
        "gradcheck",
        "explain",
        "graph",
        "export",
    ] {
        let help = ok_stdout(&run(&[sub, "--help"]));
        for example in examples_in(&help) {
            if example.contains(['|', '>', '&', '~']) {
                continue;
            }
            let words = shlex::split(&example).unwrap();
            assert_eq!(words[0], "mlp-train", "{example}");
            let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
            let out = run_in(dir.path(), &args);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{example}\nstderr:\n{}",
                stderr(&out)
            );
            ran += 1;
        }
    }
    assert!(ran >= 14, "{ran} examples ran");
    // What they said they would write.
    for f in ["model.json", "run.html", "predictions.csv", "eval.html"] {
        assert!(dir.path().join(f).is_file(), "{f} written");
    }
}

/// The sections of a page as `man` renders them (None when man is not installed).
fn rendered(page: &Path) -> Option<String> {
    if Command::new("man").arg("--version").output().is_err() {
        eprintln!("SKIPPED rendering: man is not installed (the CI's .ci/run installs man-db)");
        return None;
    }
    let out = Command::new("man")
        .arg("-l")
        .arg(page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .unwrap();
    assert!(out.status.success());
    Some(text(&out.stdout))
}

#[test]
fn every_man_page_has_examples_exit_status_and_see_also() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["man", "--dir", dir.path().to_str().unwrap()]);
    ok_stdout(&out);
    for page in std::iter::once("mlp-train".to_string())
        .chain(SUBCOMMANDS.iter().map(|s| format!("mlp-train-{s}")))
    {
        let roff = std::fs::read_to_string(dir.path().join(format!("{page}.1"))).unwrap();
        for section in [".SH EXAMPLES", ".SH \"EXIT STATUS\"", ".SH \"SEE ALSO\""] {
            assert!(roff.contains(section), "{page}: {section}\n{roff}");
        }
        // The examples and codes are sections of their own, not --help's epilogue as EXTRA.
        assert!(!roff.contains(".SH EXTRA"), "{page}");
        assert!(roff.contains("\\fB130\\fR"), "{page}: exit 130");
        let Some(shown) = rendered(&dir.path().join(format!("{page}.1"))) else {
            continue;
        };
        let examples = shown.find("\nEXAMPLES\n").expect("EXAMPLES");
        let status = shown.find("\nEXIT STATUS\n").expect("EXIT STATUS");
        let see_also = shown.find("\nSEE ALSO\n").expect("SEE ALSO");
        assert!(examples < status && status < see_also, "{page}:\n{shown}");
        assert!(
            shown[status..see_also].contains("quality gate failed"),
            "{page}:\n{shown}"
        );
        if page == "mlp-train" {
            assert!(
                shown[see_also..].contains("mlp-train-predict(1)"),
                "{shown}"
            );
        } else {
            assert!(
                shown[see_also..].contains("mlp-train(1)"),
                "{page}:\n{shown}"
            );
        }
    }
    let predict = rendered(&dir.path().join("mlp-train-predict.1"));
    if let Some(p) = predict {
        assert!(
            p.contains("mlp-train predict --model model.json --data data/iris.csv"),
            "{p}"
        );
    }
}

#[test]
fn man_help_says_where_to_put_the_pages() {
    let help = ok_stdout(&run(&["man", "--help"]));
    assert!(
        help.contains("mlp-train man --dir ~/.local/share/man/man1"),
        "{help}"
    );
    assert!(help.contains("MANPATH"), "{help}");
    let page = ok_stdout(&run(&["man", "man"]));
    assert!(page.contains("MANPATH"), "{page}");
}

#[test]
fn eval_help_needs_the_label_column_where_predict_may_lack_it() {
    let predict = ok_stdout(&run(&["predict", "--help"]));
    assert!(predict.contains("the label column may be"), "{predict}");
    let eval = ok_stdout(&run(&["eval", "--help"]));
    assert!(!eval.contains("may be absent"), "{eval}");
    assert!(
        eval.contains("Rows to evaluate: a CSV with the model's feature columns and its label"),
        "{eval}"
    );
}

#[test]
fn gradcheck_help_names_what_d_and_q_count() {
    let help = ok_stdout(&run(&["gradcheck", "--help"]));
    assert!(help.contains("-d, --d <INPUTS>"), "{help}");
    assert!(help.contains("--q <OUTPUTS>"), "{help}");
    assert!(help.contains("--batch <ROWS>"), "{help}");
    // The short and long forms still parse.
    let a = ok_stdout(&run(&["gradcheck", "-d", "3", "--json"]));
    let b = ok_stdout(&run(&["gradcheck", "--d", "3", "--json"]));
    assert_eq!(a, b);
    assert!(a.contains("\"d\":3"), "{a}");
}

// -q: nothing but errors and the outputs asked for, in every command.

#[test]
fn training_with_q_prints_nothing_but_writes_what_was_asked() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let base = ["--data", iris.as_str(), "--epochs", "3"];
    // Without -q: the summary (the contrast that makes this test able to fail).
    let loud = run(&base);
    assert!(
        ok_stdout(&loud).contains("accuracy"),
        "{}",
        text(&loud.stdout)
    );
    let m = dir.path().join("m.json");
    let mut a = base.to_vec();
    a.extend(["-q", "--save", m.to_str().unwrap()]);
    let out = run(&a);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    assert!(m.is_file());
    // --json is an output asked for.
    let mut a = base.to_vec();
    a.extend(["-q", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&ok_stdout(&run(&a))).unwrap();
    assert_eq!(v["epochs"], 3);
    assert!(v["train_accuracy"].as_f64().is_some(), "{v}");
    // A passing gate is silent; a failing one is one error line, exit 8.
    let mut a = base.to_vec();
    a.extend(["-q", "--min-accuracy", "0.1"]);
    let out = run(&a);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    let mut a = base.to_vec();
    a.extend(["-q", "--min-accuracy", "0.999"]);
    assert_error(&run(&a), 8, &["--min-accuracy"]);
    // Cross-validation too.
    let out = run(&["--data", &iris, "--epochs", "2", "--cv", "3", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    // `train -q` is the same command.
    let out = run(&["train", "--data", &iris, "--epochs", "2", "-q"]);
    assert!(ok_stdout(&out).is_empty() && out.stderr.is_empty());
}

#[test]
fn gradcheck_with_q_prints_only_the_json_asked_for() {
    let out = run(&["gradcheck", "-q"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    let out = run(&["gradcheck", "-q", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert!(v.is_object());
    assert!(!ok_stdout(&run(&["gradcheck"])).is_empty());
}

/// A model of iris saved in `dir`.
fn iris_model(dir: &Path) -> String {
    let m = dir.join("m.json").display().to_string();
    ok_stdout(&run(&[
        "--data",
        &data("iris.csv"),
        "--epochs",
        "5",
        "--save",
        &m,
        "-q",
    ]));
    m
}

#[test]
fn predict_and_eval_with_q_print_only_the_predictions_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let m = iris_model(dir.path());
    let iris = data("iris.csv");
    let loud = run(&["predict", "--model", &m, "--data", &iris]);
    assert!(stderr(&loud).contains("accuracy"), "{}", stderr(&loud));
    let out = run(&["predict", "--model", &m, "--data", &iris, "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "no report: {}", stderr(&out));
    assert_eq!(out.stdout, loud.stdout, "the same predictions");
    assert_eq!(
        text(&out.stdout).lines().count(),
        151,
        "a header and 150 rows"
    );
    // With --out, the report that would take stdout is not printed; the file is written.
    let p = dir.path().join("p.csv");
    let out = run(&[
        "predict",
        "--model",
        &m,
        "--data",
        &iris,
        "--out",
        p.to_str().unwrap(),
        "-q",
    ]);
    assert!(ok_stdout(&out).is_empty() && out.stderr.is_empty());
    assert_eq!(std::fs::read(&p).unwrap(), loud.stdout);
    // eval -q: silent; --json still printed; a failing gate one error line, exit 8.
    let out = run(&["eval", "--model", &m, "--data", &iris, "-q"]);
    assert!(ok_stdout(&out).is_empty() && out.stderr.is_empty());
    let out = run(&["eval", "--model", &m, "--data", &iris, "-q", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert!(v.is_object());
    let out = run(&[
        "eval",
        "--model",
        &m,
        "--data",
        &iris,
        "-q",
        "--min-accuracy",
        "0.9999",
    ]);
    assert!(out.stdout.is_empty());
    assert_error(&out, 8, &["--min-accuracy"]);
}

#[test]
fn explain_graph_man_and_sweep_with_q_print_only_their_outputs() {
    let iris = data("iris.csv");
    let loud = run(&["explain", "--data", &iris]);
    let out = run(&["explain", "--data", &iris, "-q"]);
    assert!(!ok_stdout(&out).is_empty());
    assert_eq!(
        out.stdout, loud.stdout,
        "the explanation is the output asked for"
    );
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let out = run(&["graph", "-q"]);
    assert!(
        ok_stdout(&out).starts_with("digraph"),
        "{}",
        text(&out.stdout)
    );
    assert!(out.stderr.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let loud = run(&["man", "--dir", d]);
    assert!(stderr(&loud).contains("wrote "), "{}", stderr(&loud));
    let out = run(&["man", "--dir", d, "-q"]);
    assert!(ok_stdout(&out).is_empty() && out.stderr.is_empty());
    // sweep -q: the table (the output asked for), no best: line.
    let runs = dir.path().join("runs");
    let sweep = |q: bool| {
        let mut a = vec![
            "sweep",
            "--grid",
            "lr=0.05,0.1",
            "--runs",
            runs.to_str().unwrap(),
            "--data",
            &iris,
            "--epochs",
            "2",
            "-j",
            "1",
        ];
        if q {
            a.push("-q");
        }
        run(&a)
    };
    let out = sweep(true);
    let table = ok_stdout(&out);
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let out = sweep(false);
    assert!(stderr(&out).contains("best: "), "{}", stderr(&out));
}

#[test]
fn quiet_says_its_rule_in_every_help() {
    for sub in SUBCOMMANDS {
        let help = ok_stdout(&run(&[sub, "--help"]));
        assert!(
            help.contains("-q, --quiet") && help.contains("Print nothing but errors"),
            "{sub}:\n{help}"
        );
    }
}

// Errors that name the fix.

#[test]
fn a_usage_error_in_a_subcommand_points_to_its_own_help() {
    let line = assert_error(&run(&["gradcheck", "--lamda", "1"]), 2, &["'--lamda'"]);
    assert!(line.ends_with("(see mlp-train gradcheck --help)"), "{line}");
    let line = assert_error(&run(&["--lamda", "1"]), 2, &["did you mean --lambda?"]);
    assert!(line.ends_with("(see mlp-train --help)"), "{line}");
    assert_error(
        &run(&["predcit"]),
        2,
        &["'predcit'", "did you mean predict?"],
    );
}

#[test]
fn a_data_file_given_without_its_flag_is_told_the_flag() {
    let iris = data("iris.csv");
    let line = assert_error(
        &run(&[&iris]),
        2,
        &[
            "unrecognized subcommand",
            &format!("(did you mean --data {iris}?)"),
        ],
    );
    assert!(line.ends_with("(see mlp-train --help)"), "{line}");
    let dir = tempfile::tempdir().unwrap();
    let m = iris_model(dir.path());
    assert_error(
        &run(&["predict", "--model", &m, &iris]),
        2,
        &[
            &format!("(did you mean --data {iris}?)"),
            "mlp-train predict --help",
        ],
    );
    assert_error(
        &run(&["predict", &m, "--data", &iris]),
        2,
        &[&format!("(did you mean --model {m}?)")],
    );
    // A model given to training is no --data.
    let err = assert_error(&run(&[&m]), 2, &["unrecognized"]);
    assert!(!err.contains("did you mean"), "{err}");
    // A word that is no file gets no such hint.
    let err = assert_error(&run(&["nosuchfile.csv"]), 2, &["unrecognized"]);
    assert!(!err.contains("--data"), "{err}");
}

#[test]
fn a_mistyped_column_suggests_the_closest() {
    let iris = data("iris.csv");
    for flag in ["--label", "--ignore"] {
        assert_error(
            &run(&["--data", &iris, flag, "specis", "--epochs", "1", "-q"]),
            3,
            &[
                "`specis`",
                "(did you mean `species`?)",
                "sepal_length, sepal_width",
            ],
        );
    }
    let err = assert_error(
        &run(&["--data", &iris, "--label", "zzz", "--epochs", "1", "-q"]),
        3,
        &["no column named `zzz`"],
    );
    assert!(!err.contains("did you mean"), "{err}");
}

#[test]
fn patience_without_validation_says_what_it_needs() {
    let iris = data("iris.csv");
    for args in [
        &["--data", iris.as_str(), "--patience", "5"][..],
        &[
            "--data",
            iris.as_str(),
            "--patience",
            "5",
            "--val-frac",
            "0",
        ],
    ] {
        let line = assert_error(
            &run(args),
            2,
            &["--patience needs a validation set", "--val-frac F above 0"],
        );
        assert!(!line.contains("were not provided"), "{line}");
    }
    assert_error(
        &run(&[
            "eval",
            "--model",
            "m.json",
            "--data",
            &iris,
            "--max-drop",
            "0.1",
        ]),
        2,
        &["--max-drop is the drop tolerated below a baseline: add --baseline FILE"],
    );
}

#[test]
fn a_percentage_where_a_fraction_is_meant_gets_the_fraction() {
    let iris = data("iris.csv");
    assert_error(
        &run(&["--data", &iris, "--val-frac", "20"]),
        2,
        &["--val-frac must be a fraction in [0, 1): 20% is 0.2, got 20"],
    );
    assert_error(
        &run(&["--data", &iris, "--min-accuracy", "95"]),
        2,
        &["--min-accuracy must be a fraction in [0, 1]: 95% is 0.95, got 95"],
    );
    assert_error(
        &run(&[
            "eval",
            "--model",
            "m.json",
            "--data",
            &iris,
            "--min-accuracy",
            "95",
        ]),
        2,
        &["95% is 0.95"],
    );
}

#[test]
fn a_report_on_a_file_without_labels_says_the_file_lacks_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let m = iris_model(dir.path());
    let unlabelled: String = std::fs::read_to_string(data("iris.csv"))
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    let x = dir.path().join("x.csv");
    std::fs::write(&x, unlabelled).unwrap();
    let r = dir.path().join("r.html");
    let line = assert_error(
        &run(&[
            "predict",
            "--model",
            &m,
            "--data",
            x.to_str().unwrap(),
            "--report",
            r.to_str().unwrap(),
        ]),
        2,
        &[
            "--report needs the label column species, which",
            "x.csv lacks",
        ],
    );
    assert!(!line.contains("got"), "{line}");
    assert!(!r.exists());
}
