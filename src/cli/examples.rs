//! The examples and exit codes shown by `--help` and the man pages, written once: each
//! command's examples (real commands on the files in data/), the exit-status table, SEE ALSO.

use clap::builder::StyledStr;

/// One example: what it does, then the command line (run from the repository's root).
#[derive(Clone, Copy, Debug)]
pub struct Example {
    pub what: &'static str,
    pub cmd: &'static str,
}

const fn ex(what: &'static str, cmd: &'static str) -> Example {
    Example { what, cmd }
}

/// Training (`mlp-train` and `mlp-train train`).
const TRAIN: &[Example] = &[
    ex(
        "Train on the iris data, holding out 20% for validation, and save the model",
        "mlp-train --data data/iris.csv --val-frac 0.2 --save model.json",
    ),
    ex(
        "Stop early once the validation loss has not improved for 10 epochs",
        "mlp-train --data data/iris.csv --val-frac 0.2 --patience 10 --epochs 500",
    ),
    ex(
        "Regression, with a self-contained HTML page of the run",
        "mlp-train --data data/regression.csv --task regress --report run.html",
    ),
    ex(
        "5-fold cross-validation: each fold's accuracy and their mean ± std",
        "mlp-train --data data/iris.csv --cv 5",
    ),
    ex(
        "In CI: print nothing, exit 8 when the validation accuracy is below 90%",
        "mlp-train --data data/iris.csv --val-frac 0.2 --min-accuracy 0.9 -q",
    ),
];

const PREDICT: &[Example] = &[
    ex(
        "Predict each row's class (stdout), with the report on stderr",
        "mlp-train predict --model model.json --data data/iris.csv",
    ),
    ex(
        "Predictions with one probability column per class, into a file",
        "mlp-train predict --model model.json --data data/iris.csv --proba --out predictions.csv",
    ),
    ex(
        "Rows from standard input; only the predictions, no report",
        "head -n 11 data/iris.csv | mlp-train predict --model model.json --data - -q",
    ),
];

const EVAL: &[Example] = &[
    ex(
        "Accuracy, confusion matrix and per-class precision/recall/F1",
        "mlp-train eval --model model.json --data data/iris.csv",
    ),
    ex(
        "In CI: the report as JSON, exit 8 when the accuracy is below 95%",
        "mlp-train eval --model model.json --data data/iris.csv --json --min-accuracy 0.95",
    ),
    ex(
        "A self-contained HTML page of the evaluation",
        "mlp-train eval --model model.json --data data/iris.csv --report eval.html",
    ),
];

const GRADCHECK: &[Example] = &[
    ex(
        "Check every gradient on a random batch (tanh, softmax-ce, λ = 0.01)",
        "mlp-train gradcheck",
    ),
    ex(
        "Another activation and loss, without the L2 term",
        "mlp-train gradcheck --activation sigmoid --loss half-squared --lambda 0",
    ),
    ex(
        "On the first 16 rows of a real file",
        "mlp-train gradcheck --data data/iris.csv --batch 16",
    ),
    ex(
        "In a script: silent, the exit status says (0 passed, 7 failed)",
        "mlp-train gradcheck -q && echo gradients ok",
    ),
];

const EXPLAIN: &[Example] = &[
    ex(
        "Every value of the forward and backward pass for row 0, on a fresh model",
        "mlp-train explain --data data/iris.csv --row 0",
    ),
    ex(
        "The same with a trained model, for row 42",
        "mlp-train explain --model model.json --data data/iris.csv --row 42",
    ),
    ex(
        "As JSON, to check a derivation by program",
        "mlp-train explain --data data/xor.csv --hidden 2 --json",
    ),
];

const GRAPH: &[Example] = &[
    ex(
        "The computation graph as Graphviz source, drawn by dot",
        "mlp-train graph | dot -Tsvg > graph.svg",
    ),
    ex(
        "Annotated with a trained model's shapes",
        "mlp-train graph --model model.json",
    ),
    ex(
        "With the shapes a model of a data file would have",
        "mlp-train graph --data data/digits.csv",
    ),
];

const COMPLETIONS: &[Example] = &[
    ex(
        "bash, for your user (bash-completion loads it on demand)",
        "mlp-train completions bash > ~/.local/share/bash-completion/completions/mlp-train",
    ),
    ex(
        "zsh (a folder on $fpath)",
        "mlp-train completions zsh > ~/.zfunc/_mlp-train",
    ),
    ex(
        "fish",
        "mlp-train completions fish > ~/.config/fish/completions/mlp-train.fish",
    ),
];

const MAN: &[Example] = &[
    ex(
        "Install every page where man finds it (~/.local/share/man is on man's path when \
         ~/.local/bin is on $PATH; otherwise add it to $MANPATH)",
        "mkdir -p ~/.local/share/man/man1 && mlp-train man --dir ~/.local/share/man/man1",
    ),
    ex("Then read a command's page", "man mlp-train-predict"),
    ex(
        "Read a page without installing it",
        "mlp-train man predict | man -l -",
    ),
];

const SWEEP: &[Example] = &[
    ex(
        "A 3 × 2 grid over λ and η, scored on a 20% validation split",
        "mlp-train sweep --grid lambda=0,1e-4,1e-3 --grid lr=0.05,0.1 --runs runs --data data/iris.csv --val-frac 0.2",
    ),
    ex(
        "Run again what is missing, or print the table of a finished sweep",
        "mlp-train sweep --runs runs",
    ),
    ex(
        "12 random points, η log-uniform, h among 16, 32, 64, 128; refit the best",
        "mlp-train sweep --grid lr=1e-3..1e-1:log5 --grid hidden=16..128:x2 --samples 12 --runs runs2 --data data/iris.csv --val-frac 0.2 --refit best.json",
    ),
    ex(
        "With GNU parallel: one command per point, then the table",
        "mlp-train sweep --grid seed=0..7 --runs runs3 --data data/iris.csv --val-frac 0.2 --print-jobs | parallel && mlp-train sweep --runs runs3",
    ),
];

/// `mlp-train export`.
const EXPORT: &[Example] = &[
    ex(
        "The model of the first training example as ONNX, for ONNX Runtime and others",
        "mlp-train export --model model.json --format onnx --out model.onnx",
    ),
    ex(
        "Train and export in one run (written with --save, as one transaction)",
        "mlp-train --data data/iris.csv --save model.json --export-onnx model.onnx",
    ),
    ex(
        "The ONNX file on standard output, into another program",
        "mlp-train export --model model.json --out - | wc -c",
    ),
];

/// The main page's examples: training, then the two next steps.
const MAIN: &[Example] = &[
    TRAIN[0],
    TRAIN[1],
    TRAIN[3],
    PREDICT[0],
    EVAL[1],
    ex(
        "Each command's own examples and options",
        "mlp-train predict --help",
    ),
];

/// The examples of `subcommand` (None: the main command).
pub fn of(subcommand: Option<&str>) -> &'static [Example] {
    match subcommand {
        None => MAIN,
        Some("train") => TRAIN,
        Some("predict") => PREDICT,
        Some("eval") => EVAL,
        Some("gradcheck") => GRADCHECK,
        Some("explain") => EXPLAIN,
        Some("graph") => GRAPH,
        Some("completions") => COMPLETIONS,
        Some("man") => MAN,
        Some("sweep") => SWEEP,
        Some("export") => EXPORT,
        Some(_) => &[],
    }
}

/// The exit codes, as the README's table gives them.
pub const EXIT_CODES: &[(u8, &str)] = &[
    (0, "success"),
    (1, "an unexpected error"),
    (2, "a bad flag or flag value (also a usage error)"),
    (
        3,
        "a data file is missing, unreadable or malformed (the message names file:line:column)",
    ),
    (4, "a model file is missing, malformed or inconsistent"),
    (5, "an output file cannot be written"),
    (6, "training diverged (nothing is saved)"),
    (7, "gradcheck found an error above its tolerance"),
    (
        8,
        "a quality gate failed, or the run fell below --baseline by more than --max-drop",
    ),
    (9, "sweep: some points failed"),
    (10, "sweep: every point failed"),
    (
        130,
        "interrupted by Ctrl-C/SIGTERM (a sweep: 130 on SIGINT, 143 on SIGTERM, 129 on SIGHUP)",
    ),
];

/// The one-line list of exit codes under the main `--help`.
const EXIT_LINE: &str = "Exit codes: 0 ok, 1 other error, 2 bad flag, 3 bad data file, 4 bad \
model file, 5 cannot write output, 6 diverged, 7 gradient check failed, 8 quality gate failed, 9 \
some sweep points failed, 10 all sweep points failed, 130 interrupted (a sweep: 130 SIGINT, 143 \
SIGTERM, 129 SIGHUP).";

/// The examples as `--help` shows them after the options, under a heading styled like
/// clap's own.
pub fn help_text(subcommand: Option<&str>) -> StyledStr {
    let header = *clap::builder::Styles::styled().get_header();
    let mut text = String::new();
    if !of(subcommand).is_empty() {
        text.push_str(&format!("{header}Examples:{header:#}\n"));
        for e in of(subcommand) {
            text.push_str(&format!("  {}:\n    {}\n", e.what, e.cmd));
        }
        text.push('\n');
    }
    match subcommand {
        None => text.push_str(EXIT_LINE),
        Some(_) => text.push_str("Exit codes: see mlp-train --help, or man mlp-train."),
    }
    StyledStr::from(text)
}

/// `--help`'s epilogue of the main command.
pub fn main_help() -> StyledStr {
    help_text(None)
}

/// `--help`'s epilogue of `subcommand`.
pub fn sub_help(subcommand: &'static str) -> StyledStr {
    help_text(Some(subcommand))
}

/// The EXAMPLES, EXIT STATUS and SEE ALSO sections of a man page, in roff (without the
/// preamble that defines `\*(Aq`: the page it joins has it). `pages` are the names of all
/// the subcommands that have a page.
pub fn man_sections(subcommand: Option<&str>, pages: &[&str]) -> String {
    use roff::{bold, italic, roman, Roff};
    let mut r = Roff::new();
    if !of(subcommand).is_empty() {
        r.control("SH", ["EXAMPLES"]);
    }
    for e in of(subcommand) {
        r.control("TP", []);
        r.text([bold(e.cmd)]);
        r.text([roman(format!("{}.", e.what))]);
    }
    r.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in EXIT_CODES {
        r.control("TP", []);
        r.text([bold(code.to_string())]);
        r.text([roman(*meaning)]);
    }
    r.control("PP", []);
    r.text([roman(
        "A panic (exit 101) is always a bug; please report it.",
    )]);
    r.control("SH", ["SEE ALSO"]);
    let mut refs: Vec<String> = Vec::new();
    if subcommand.is_some() {
        refs.push("mlp-train".into());
    }
    refs.extend(
        pages
            .iter()
            .filter(|p| Some(**p) != subcommand)
            .map(|p| format!("mlp-train-{p}")),
    );
    let mut line = Vec::new();
    for (i, name) in refs.iter().enumerate() {
        line.push(bold(name.as_str()));
        line.push(roman(if i + 1 < refs.len() { "(1), " } else { "(1)" }));
    }
    r.text(line);
    r.control("PP", []);
    r.text([
        roman("The README (the user manual), and the chapter the model comes from: "),
        italic("Dive into Deep Learning"),
        roman(", Forward Propagation, Backward Propagation, and Computational Graphs."),
    ]);
    let preamble = Roff::new().render();
    let text = r.render();
    text.strip_prefix(preamble.as_str())
        .unwrap_or(&text)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-line list under `--help` names every code of the table.
    #[test]
    fn the_help_line_names_every_exit_code() {
        for (code, _) in EXIT_CODES {
            assert!(
                EXIT_LINE.contains(&format!(" {code} ")),
                "{code} missing from the --help line"
            );
        }
    }

    /// Every example's mlp-train commands parse with the real definition (the segments of a
    /// pipe or `&&` that run mlp-train).
    #[test]
    fn every_example_parses() {
        let names = [
            None,
            Some("train"),
            Some("predict"),
            Some("eval"),
            Some("gradcheck"),
            Some("explain"),
            Some("graph"),
            Some("completions"),
            Some("man"),
            Some("sweep"),
        ];
        for name in names {
            assert!(!of(name).is_empty(), "{name:?} has examples");
            for e in of(name) {
                for segment in e.cmd.split(['|', '&']) {
                    let Some(words) = shlex::split(segment.split('>').next().unwrap()) else {
                        panic!("{}: not shell words", e.cmd);
                    };
                    if words.first().map(String::as_str) != Some("mlp-train") {
                        continue;
                    }
                    if let Err(err) =
                        crate::cli::usage::parse_command().try_get_matches_from(&words)
                    {
                        assert_eq!(
                            err.kind(),
                            clap::error::ErrorKind::DisplayHelp,
                            "{}: {err}",
                            e.cmd
                        );
                    }
                }
            }
        }
    }
}
