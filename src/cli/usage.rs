//! Parsing the command line, and clap's own errors in our one-line form: `mlp-train: error:
//! … (did you mean --lambda?) (see mlp-train --help)`, exit 2; help and version as usual.

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
    say(&format!(
        "mlp-train: error: {first}{} (see mlp-train --help)",
        clap_hint(&e)
    ));
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
    let suggested: Vec<String> = [ContextKind::SuggestedArg, ContextKind::SuggestedValue]
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
