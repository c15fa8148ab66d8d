//! mlp-train's entry point: parse the flags, call the library, print the result, and map
//! every error to one `mlp-train: error:` line and a documented exit code.

mod completions;
mod ui;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use mlp_train::cli::args::{Cli, Command};
use mlp_train::cli::commands;
use mlp_train::cli::train::{Finished, Verdict};
use mlp_train::error::exit;
use mlp_train::show::report;
use mlp_train::train::baseline::Baseline;
use mlp_train::train::checks;
use mlp_train::train::interrupt::{self, OnSignal, STOP};

fn main() -> ExitCode {
    handle_signals();
    let cli = match parse_args() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code as u8),
        // A closed pipe on `--save -` (`mlp-train … --save - | head -c1`) is not an error.
        Err(Failure::Lib(mlp_train::Error::Io { source, .. }))
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            ExitCode::SUCCESS
        }
        Err(Failure::Lib(e)) => {
            let mut msg = format!("mlp-train: error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                // Some messages already quote their cause (`{path}: {source}`): once is enough.
                let cause = s.to_string();
                if !msg.ends_with(&cause) {
                    msg.push_str(&format!(": {cause}"));
                }
                source = s.source();
            }
            say(&msg);
            ExitCode::from(e.exit_code() as u8)
        }
        // A closed stdout (`mlp-train … | head -c1`) is not an error.
        Err(Failure::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Io(e)) => {
            say(&format!("mlp-train: error: writing the output: {e}"));
            ExitCode::from(exit::IO as u8)
        }
    }
}

enum Failure {
    Lib(mlp_train::Error),
    Io(std::io::Error),
}

impl From<mlp_train::Error> for Failure {
    fn from(e: mlp_train::Error) -> Self {
        Failure::Lib(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Io(e)
    }
}

/// One line on stderr. Unlike `eprintln!`, never panics when stderr is a closed pipe
/// (`mlp-train … 2>&1 | head -c1`).
fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(format!("{line}\n").as_bytes());
    let _ = err.flush();
}

/// SIGINT, SIGTERM (and SIGHUP): while a training loop runs, the first one lets it finish its
/// minibatch, then the run is evaluated and written by the rule of an interrupted run (see
/// `run::train_command`) and exits 130. In every other phase (loading, a stalled stdin,
/// evaluating, predicting, a second signal) the process exits 130 at once, after letting a
/// rename in progress finish, so that no partial or temporary file is left.
fn handle_signals() {
    let _ = ctrlc::set_handler(|| {
        if interrupt::on_signal() == OnSignal::ExitNow {
            let _no_more_writes = mlp_train::cli::output::hold_writes();
            // Raw write: the main thread may hold stderr's lock (a progress bar), whose line
            // is erased first on a terminal.
            // SAFETY: isatty only inspects file descriptor 2.
            let msg: &[u8] = if unsafe { libc::isatty(2) } == 1 {
                b"\r\x1b[2Kmlp-train: interrupted\n"
            } else {
                b"mlp-train: interrupted\n"
            };
            // SAFETY: writes a valid buffer to file descriptor 2.
            let _ = unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
            std::process::exit(exit::INTERRUPTED);
        }
    });
}

/// The flags, parsed. A flag's value may be a negative number, so that `--lambda -1` gets
/// the flag's own range message rather than clap's "unexpected argument '-1'".
fn parse_args() -> Result<Cli, clap::Error> {
    fn negative_ok(a: clap::Arg) -> clap::Arg {
        if a.get_action().takes_values() {
            a.allow_negative_numbers(true)
        } else {
            a
        }
    }
    let mut cmd = Cli::command()
        .mut_args(negative_ok)
        .mut_subcommands(|s| s.mut_args(negative_ok));
    let mut matches = cmd.try_get_matches_from_mut(std::env::args_os())?;
    Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut cmd))
}

/// clap's own errors in our one-line form (help and version print as usual).
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        // `--help > /dev/full` is a write error like any other (a closed pipe is not).
        let text = if std::io::stdout().is_terminal() {
            e.render().ansi().to_string()
        } else {
            e.render().to_string()
        };
        return match print(&text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(err) => {
                say(&format!("mlp-train: error: writing the help: {err}"));
                ExitCode::from(exit::IO as u8)
            }
        };
    }
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return ExitCode::from(exit::USAGE as u8);
    }
    let text = e.render().to_string();
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
    ExitCode::from(exit::USAGE as u8)
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

fn print(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

fn dispatch(cli: Cli) -> Result<i32, Failure> {
    match cli.command {
        None => train(cli.train),
        Some(Command::Train(args)) => train(*args),
        Some(Command::Predict(args)) => predict(&args, false),
        Some(Command::Eval(args)) => predict(&args, true),
        Some(Command::Gradcheck(args)) => {
            let (text, verdict) = commands::gradcheck(&args)?;
            if !args.quiet {
                print(&text)?;
            }
            verdict?;
            Ok(0)
        }
        Some(Command::Explain(args)) => {
            print(&commands::explain(&args)?)?;
            Ok(0)
        }
        Some(Command::Graph(args)) => {
            print(&commands::graph(&args)?)?;
            Ok(0)
        }
        Some(Command::Completions { shell }) => {
            std::io::stdout()
                .lock()
                .write_all(completions::script(shell).as_bytes())?;
            Ok(0)
        }
        Some(Command::Man(args)) => {
            match (&args.dir, &args.page) {
                (Some(dir), _) => {
                    for name in completions::write_man_pages(dir)? {
                        say(&format!("wrote {}", dir.join(name).display()));
                    }
                }
                (None, page) => {
                    let page = completions::man_page(page.as_deref())?;
                    std::io::stdout().lock().write_all(&page)?;
                }
            }
            Ok(0)
        }
    }
}

/// `predict`, or `eval` (`report_only`): the predictions and the report each go where
/// `commands::predict` says.
fn predict(args: &mlp_train::cli::args::PredictArgs, report_only: bool) -> Result<i32, Failure> {
    let out = commands::predict(args, report_only)?;
    print(&out.stdout)?;
    if !out.stderr.is_empty() {
        let _ = std::io::stderr().lock().write_all(out.stderr.as_bytes());
    }
    Ok(0)
}

fn train(args: mlp_train::cli::args::TrainArgs) -> Result<i32, Failure> {
    let mut opts = args.options();
    if let Some(note) = checks::cap_threads(&mut opts) {
        say(&format!("mlp-train: note: {note}"));
    }
    if args.cv.is_some() {
        return cross_validate(args, opts);
    }
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    let mut progress = ui::Progress::new(args.epochs, None, args.quiet, args.verbose);
    let result = mlp_train::cli::train::train_command(&opts, &mut progress, &STOP);
    progress.finish();
    let Finished { run, report_to } = result?;
    for w in &run.warnings {
        say(&format!("mlp-train: warning: {w}"));
    }
    // Gates and the baseline are measured before printing, so that --json can report them.
    let verdict = Verdict::of_train(&run, &opts, baseline.as_ref())?;
    // --report: the HTML page first (even when a gate fails below), where the output plan
    // put it (stdout for `-`, the summary then going to stderr).
    if let Some(to) = &report_to {
        let inv = mlp_train::show::html::Invocation::current();
        let page =
            mlp_train::show::html::render(&mlp_train::show::html::train_page(&run, &opts, &inv));
        to.write(page.as_bytes())?;
    }
    // When an output is `-`, stdout carries only that output; the summary goes to stderr.
    let print = |text: &str| {
        if run.summary_to_stderr {
            let mut err = std::io::stderr().lock();
            err.write_all(text.as_bytes()).and_then(|()| err.flush())
        } else {
            print(text)
        }
    };
    let printed = if args.json {
        let mut v = report::summary_json(&run);
        verdict.add_to_json(&mut v);
        let mut text = v.to_string();
        text.push('\n');
        print(&text)
    } else {
        let mut text = report::summary_text(&run);
        // On a terminal, J per epoch at a glance.
        if std::io::stdout().is_terminal()
            && !run.summary_to_stderr
            && run.outcome.history.len() > 1
        {
            let j: Vec<f64> = run.outcome.history.iter().map(|s| s.train.j).collect();
            text.push_str(&format!(
                "J per epoch  {}\n",
                mlp_train::show::plot::sparkline(&j)
            ));
        }
        print(&text)
    };
    if run.outcome.interrupted {
        // Exit 130 even when stdout is a closed pipe: the run was interrupted.
        say(&mlp_train::cli::train::interrupted_note(&run));
        return Ok(exit::INTERRUPTED);
    }
    printed?;
    verdict.into_result()?;
    Ok(0)
}

fn cross_validate(
    args: mlp_train::cli::args::TrainArgs,
    opts: mlp_train::train::options::RunOptions,
) -> Result<i32, Failure> {
    let k = args.cv.unwrap_or(0);
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    let mut progress = ui::Progress::new(args.epochs, Some(k), args.quiet, args.verbose);
    let result = mlp_train::cli::train::cv_command(&opts, &mut progress, &STOP);
    progress.finish();
    let Finished { run: cv, report_to } = result?;
    for w in &cv.warnings {
        say(&format!("mlp-train: warning: {w}"));
    }
    let verdict = Verdict::of_cv(&cv, &opts, baseline.as_ref())?;
    let page_on_stdout = report_to
        .as_ref()
        .is_some_and(|o| o.dest == mlp_train::cli::output::Dest::Stdout);
    if let Some(to) = &report_to {
        let inv = mlp_train::show::html::Invocation::current();
        let page = mlp_train::show::html::render(&mlp_train::show::html::cv_page(&cv, &opts, &inv));
        to.write(page.as_bytes())?;
    }
    if page_on_stdout {
        say(report::cv_text(&cv).trim_end());
    } else if args.json {
        let mut v = report::cv_json(&cv);
        verdict.add_to_json(&mut v);
        print(&format!("{v}\n"))?;
    } else {
        print(&report::cv_text(&cv))?;
    }
    if cv.interrupted {
        return Ok(exit::INTERRUPTED);
    }
    verdict.into_result()?;
    Ok(0)
}
