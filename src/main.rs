//! mlp-train's entry point: parse the flags, call the library, print the result, and map
//! every error to one `mlp-train: error:` line and a documented exit code.

mod ui;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use clap::{CommandFactory, FromArgMatches};
use mlp_train::cli::{Cli, Command};
use mlp_train::error::exit;
use mlp_train::{commands, report, run};

/// Set by the first Ctrl-C/SIGTERM: the training loop finishes its minibatch and stops.
static STOP: AtomicBool = AtomicBool::new(false);
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

fn main() -> ExitCode {
    let cli = match parse_args() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code as u8),
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
        let _ = e.print();
        return ExitCode::SUCCESS;
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
    say(&format!("mlp-train: error: {first} (see mlp-train --help)"));
    ExitCode::from(exit::USAGE as u8)
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
        Some(Command::Predict(args)) => {
            let out = commands::predict(&args)?;
            print(&out.stdout)?;
            if !out.stderr.is_empty() {
                let _ = std::io::stderr().lock().write_all(out.stderr.as_bytes());
            }
            Ok(0)
        }
        Some(Command::Gradcheck(args)) => {
            let (text, verdict) = commands::gradcheck(&args)?;
            print(&text)?;
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
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "mlp-train", &mut buf);
            std::io::stdout().lock().write_all(&buf)?;
            Ok(0)
        }
        Some(Command::Man) => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut buf)?;
            std::io::stdout().lock().write_all(&buf)?;
            Ok(0)
        }
    }
}

fn train(args: mlp_train::cli::TrainArgs) -> Result<i32, Failure> {
    // First Ctrl-C/SIGTERM: finish the minibatch, save, exit 130. Second: exit at once.
    // Files are only ever renamed into place; holding the write lock lets a write in
    // progress finish its rename (or remove its temporary) and starts no other.
    let _ = ctrlc::set_handler(|| {
        if SIGNALS.fetch_add(1, Ordering::SeqCst) == 0 {
            STOP.store(true, Ordering::SeqCst);
        } else {
            let _no_more_writes = mlp_train::output::hold_writes();
            std::process::exit(exit::INTERRUPTED);
        }
    });
    if args.cv.is_some() {
        return cross_validate(args);
    }
    let mut progress = ui::Progress::new(args.epochs, args.quiet);
    let result = run::train_command(&args, &mut progress, &STOP);
    progress.finish();
    let run = result?;
    for w in &run.warnings {
        say(&format!("mlp-train: warning: {w}"));
    }
    let printed = if args.json {
        let mut text = report::summary_json(&run).to_string();
        text.push('\n');
        print(&text)
    } else {
        let mut text = report::summary_text(&run);
        // On a terminal, J per epoch at a glance.
        if std::io::stdout().is_terminal() && run.outcome.history.len() > 1 {
            let j: Vec<f64> = run.outcome.history.iter().map(|s| s.train.j).collect();
            text.push_str(&format!(
                "J per epoch  {}\n",
                mlp_train::plot::sparkline(&j)
            ));
        }
        print(&text)
    };
    if run.outcome.interrupted {
        // Exit 130 even when stdout is a closed pipe: the run was interrupted.
        say(&format!(
            "mlp-train: interrupted after {} epoch(s){}",
            run.outcome.epochs_run,
            run.saved
                .as_ref()
                .map(|p| format!(
                    "; model saved to {} with \"interrupted\": true",
                    p.display()
                ))
                .unwrap_or_default()
        ));
        return Ok(exit::INTERRUPTED);
    }
    printed?;
    let (set, e) = run::gate_set(&run);
    let accuracy = run.classes.as_ref().map(|_| e.metric.value());
    let r2 = e.regression.as_ref().map(|r| r.r2);
    run::check_gates(&args, set, accuracy, e.objective.l, r2)?;
    Ok(0)
}

fn cross_validate(args: mlp_train::cli::TrainArgs) -> Result<i32, Failure> {
    let k = args.cv.unwrap_or(0);
    let mut progress = ui::Progress::new(args.epochs * k, args.quiet);
    let result = run::cv_command(&args, &mut progress, &STOP);
    progress.finish();
    let cv = result?;
    for w in &cv.warnings {
        say(&format!("mlp-train: warning: {w}"));
    }
    if args.json {
        print(&format!("{}\n", report::cv_json(&cv)))?;
    } else {
        print(&report::cv_text(&cv))?;
    }
    if cv.interrupted {
        return Ok(exit::INTERRUPTED);
    }
    let classify = cv.task == mlp_train::prep::Task::Classify;
    let set = format!("{k}-fold cross-validation mean");
    run::check_gates(
        &args,
        &set,
        classify.then_some(cv.mean),
        cv.mean_loss,
        cv.mean_r2,
    )?;
    Ok(0)
}
