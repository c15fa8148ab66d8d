//! Parsing the command line, and clap's own errors in our one-line form: `mlp-train: error:
//! … (did you mean --lambda?) (see mlp-train predict --help)`, exit 2; help and version as
//! usual; a bare `mlp-train` gets the short help.

use std::io::IsTerminal;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::args::Cli;
use crate::cli::streams::{print, say};
use crate::error::exit;

/// The flags, parsed. A flag's value may be a negative number, so that `--lambda -1` gets
/// the flag's own range message rather than clap's "unexpected argument '-1'".
pub fn parse_args() -> Result<Cli, clap::Error> {
    let mut cmd = parse_command();
    let mut matches = cmd.try_get_matches_from_mut(std::env::args_os())?;
    Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut cmd))
}

/// The command line's definition as [`parse_args`] parses it (negative numbers as values).
pub fn parse_command() -> clap::Command {
    Cli::command()
        .mut_args(negative_ok)
        .mut_subcommands(|s| s.mut_args(negative_ok))
}

/// A flag that takes a value accepts a negative number as its value.
pub fn negative_ok(a: clap::Arg) -> clap::Arg {
    if a.get_action().takes_values() {
        a.allow_negative_numbers(true)
    } else {
        a
    }
}

/// Whether the command line is `mlp-train` alone, which gets [`short_help`] (as `rg` does)
/// rather than the "required --data" error.
pub fn is_bare() -> bool {
    std::env::args_os().len() <= 1
}

/// What a bare `mlp-train` prints on stderr (exit 2): the usage, the commands and the two
/// most common command lines, and where to read more.
pub fn short_help(styled: bool) -> String {
    let header = *clap::builder::Styles::styled().get_header();
    let head = |t: &str| {
        if styled {
            format!("{header}{t}{header:#}")
        } else {
            t.to_string()
        }
    };
    let template = format!(
        "{{about}}\n\n{{usage-heading}} {{usage}}\n\n{}\n{{subcommands}}",
        head("Commands:")
    );
    let mut cmd = Cli::command().help_template(template);
    cmd.build();
    let help = cmd.render_help();
    let mut text = if styled {
        help.ansi().to_string()
    } else {
        help.to_string()
    };
    text = text.trim_end().to_string();
    text.push_str(&format!(
        "\n\n{}\n  {}\n  {}\n\n{}\n",
        head("Most common:"),
        crate::cli::examples::of(None)[0].cmd,
        crate::cli::examples::of(None)[3].cmd,
        "Every option: mlp-train --help; a command's own, with examples: mlp-train COMMAND --help."
    ));
    text
}

/// The subcommand the command line names (its first word), if any: its own `--help` is
/// the one to read after a usage error.
fn subcommand_given() -> Option<String> {
    let first = std::env::args_os().nth(1)?;
    let first = first.to_str()?;
    let cmd = Cli::command();
    cmd.find_subcommand(first)
        .filter(|s| s.get_name() != "help")
        .map(|s| s.get_name().to_string())
}

/// Whether the command line has `flag` (as `--flag V` or `--flag=V`).
fn has_flag(flag: &str) -> bool {
    std::env::args_os().skip(1).any(|a| {
        let a = a.to_string_lossy();
        a == flag || a.starts_with(&format!("{flag}="))
    })
}

/// A flag that clap requires another for, and why, in plain words: `--patience 5` alone is
/// told that early stopping needs a validation set, not "--val-frac was not provided".
const REQUIRES: &[(&str, &str, &str)] = &[
    (
        "--patience",
        "--val-frac",
        crate::train::checks::PATIENCE_NEEDS,
    ),
    (
        "--max-drop",
        "--baseline",
        "is the drop tolerated below a baseline: add --baseline FILE (an earlier --json \
         summary, or a saved model)",
    ),
    (
        "--sweep-seed",
        "--samples",
        "seeds the random draws of --samples: add --samples N, or leave --sweep-seed out",
    ),
];

/// For a word clap did not expect that names an existing file (`mlp-train data/iris.csv`,
/// `predict --model m.json data/iris.csv`): the flag it was probably meant for.
fn file_hint(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(
        e.kind(),
        ErrorKind::InvalidSubcommand | ErrorKind::UnknownArgument
    ) {
        return None;
    }
    let word = [ContextKind::InvalidSubcommand, ContextKind::InvalidArg]
        .into_iter()
        .find_map(|k| match e.get(k) {
            Some(ContextValue::String(s)) => Some(s.clone()),
            _ => None,
        })?;
    if word.starts_with('-') || !std::path::Path::new(&word).is_file() {
        return None;
    }
    let sub = subcommand_given();
    let takes_model = matches!(
        sub.as_deref(),
        Some("predict" | "eval" | "explain" | "graph")
    );
    // A .json is a model (a data file is CSV): --model where the command takes one.
    let flag = if word.ends_with(".json") {
        if !takes_model || has_flag("--model") {
            return None;
        }
        "--model"
    } else if !has_flag("--data") {
        "--data"
    } else {
        return None;
    };
    let shown = crate::error::escaped(word.as_bytes(), crate::error::PATH_SHOWN);
    let quoted = shlex::try_quote(&shown).map_or(shown.clone(), |q| q.into_owned());
    Some(format!(" (did you mean {flag} {quoted}?)"))
}

/// Prints clap's error (or the help or version it asked for) and returns the exit code.
pub fn clap_error(e: clap::Error) -> i32 {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        // `--help > /dev/full` is a write error like any other (a closed pipe is not).
        let text = if std::io::stdout().is_terminal() {
            e.render().ansi().to_string()
        } else {
            e.render().to_string()
        };
        return match print(&text) {
            Ok(()) => 0,
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => 0,
            Err(err) => {
                say(&format!("mlp-train: error: writing the help: {err}"));
                exit::IO
            }
        };
    }
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return exit::USAGE;
    }
    let mut text = e.render().to_string();
    // A value or argument as the user typed it may hold a newline, ESC or a bidi override:
    // shown escaped, like every value in our own messages, so the error stays one line.
    for kind in [ContextKind::InvalidValue, ContextKind::InvalidArg] {
        if let Some(ContextValue::String(raw)) = e.get(kind) {
            let shown = crate::error::escaped(raw.as_bytes(), crate::error::PATH_SHOWN);
            if shown != *raw && !raw.is_empty() {
                text = text.replace(raw.as_str(), &shown);
            }
        }
    }
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("invalid arguments");
    let mut first = first.strip_prefix("error: ").unwrap_or(first).to_string();
    // "the following required arguments were not provided:" lists them on the next lines.
    if first.ends_with(':') {
        let listed: Vec<&str> = lines
            .take_while(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect();
        first = format!("{first} {}", listed.join(", "));
    }
    let help = match subcommand_given() {
        Some(sub) => format!("mlp-train {sub} --help"),
        None => "mlp-train --help".to_string(),
    };
    if e.kind() == ErrorKind::MissingRequiredArgument {
        let missing = match e.get(ContextKind::InvalidArg) {
            Some(ContextValue::Strings(v)) => v.clone(),
            _ => Vec::new(),
        };
        for (flag, needs, why) in REQUIRES {
            let absent = missing
                .iter()
                .any(|m| m.split([' ', '=']).next() == Some(*needs));
            if absent && has_flag(flag) {
                say(&format!("mlp-train: error: {flag} {why} (see {help})"));
                return exit::USAGE;
            }
        }
    }
    let hint = file_hint(&e).unwrap_or_else(|| clap_hint(&e));
    say(&format!("mlp-train: error: {first}{hint} (see {help})"));
    exit::USAGE
}

/// clap's suggestion and list of possible values, for the same one line:
/// ` (did you mean --lambda?)`, ` (possible values: relu, sigmoid, tanh, identity)`.
fn clap_hint(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    let strings = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::Strings(v)) => v.clone(),
        _ => Vec::new(),
    };
    let mut hint = String::new();
    let suggested: Vec<String> = [
        ContextKind::SuggestedArg,
        ContextKind::SuggestedValue,
        ContextKind::SuggestedSubcommand,
    ]
    .into_iter()
    .flat_map(strings)
    .collect();
    if !suggested.is_empty() {
        hint.push_str(&format!(" (did you mean {}?)", suggested.join(" or ")));
    }
    let possible = strings(ContextKind::ValidValue);
    if !possible.is_empty() {
        hint.push_str(&format!(" (possible values: {})", possible.join(", ")));
    }
    hint
}
