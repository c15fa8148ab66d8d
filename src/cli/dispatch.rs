//! A parsed command line to its command, and the command's results to stdout or stderr:
//! what main calls once the flags are parsed, returning the exit code or the failure.

use std::io::Write;

use crate::cli::args::{Cli, Command, PredictArgs};
use crate::cli::streams::{print, say, Failure};
use crate::cli::{commands, completions, summary};

/// Runs the command and prints its results; returns the exit code (0, or 130 after an
/// interrupted training that wrote what it could).
pub fn run(cli: Cli) -> Result<i32, Failure> {
    simd_from_env()?;
    match cli.command {
        None => summary::train(cli.train),
        Some(Command::Train(args)) => summary::train(*args),
        Some(Command::Predict(args)) => predict(&args, false),
        Some(Command::Eval(args)) => predict(&args, true),
        Some(Command::Gradcheck(args)) => {
            let (text, verdict) = commands::gradcheck(&args)?;
            // -q: nothing but errors and the outputs asked for (--json).
            if !args.quiet || args.json {
                print(&text)?;
            }
            verdict?;
            Ok(0)
        }
        Some(Command::Explain(args)) => {
            let (text, notes) = commands::explain(&args)?;
            for n in notes.iter().filter(|_| !args.quiet) {
                say(&format!("mlp-train: note: {n}"));
            }
            print(&text)?;
            Ok(0)
        }
        Some(Command::Graph(args)) => {
            print(&commands::graph(&args)?)?;
            Ok(0)
        }
        Some(Command::Completions { shell, .. }) => {
            std::io::stdout()
                .lock()
                .write_all(completions::script(shell).as_bytes())?;
            Ok(0)
        }
        Some(Command::Man(args)) => {
            match (&args.dir, &args.page) {
                (Some(dir), _) => {
                    for name in completions::write_man_pages(dir)? {
                        if args.quiet {
                            continue;
                        }
                        say(&format!(
                            "wrote {}",
                            crate::error::shown_path(&dir.join(name))
                        ));
                    }
                }
                (None, page) => {
                    let page = completions::man_page(page.as_deref())?;
                    std::io::stdout().lock().write_all(&page)?;
                }
            }
            Ok(0)
        }
        Some(Command::Sweep(args)) => crate::cli::sweep::sweep(*args),
        Some(Command::Export(args)) => {
            crate::cli::export::export(&args)?;
            Ok(0)
        }
    }
}

/// `predict`, or `eval` (`report_only`): the predictions and the report each go where
/// `commands::predict` says. With -q, only the outputs asked for: the predictions and the
/// --json report, not the text report nor the notes.
fn predict(args: &PredictArgs, report_only: bool) -> Result<i32, Failure> {
    let out = commands::predict(args, report_only)?;
    let quiet = args.quiet && !args.json;
    for n in out.notes.iter().filter(|_| !args.quiet) {
        say(&format!("mlp-train: note: {n}"));
    }
    // stdout holds the text report when the predictions went to --out, or for eval.
    let stdout_is_report = args.out.is_some() || report_only;
    if !(quiet && stdout_is_report) {
        print(&out.stdout)?;
    }
    if !out.stderr.is_empty() && !quiet {
        let _ = std::io::stderr().lock().write_all(out.stderr.as_bytes());
    }
    out.verdict?;
    Ok(0)
}

/// `MLP_TRAIN_SIMD=avx2` caps the matrix products at their AVX2+FMA build on a CPU with
/// AVX-512F (for measuring what an AVX2-only CPU runs); `auto`, empty or unset: the CPU's best.
/// Any other value is refused (exit 2) before anything runs. Sweeps' runs inherit it.
fn simd_from_env() -> crate::Result<()> {
    use crate::math::simd::{self, Simd};
    let Some(v) = std::env::var_os("MLP_TRAIN_SIMD") else {
        return Ok(());
    };
    let v = v.to_string_lossy();
    let simd: Simd = v
        .parse()
        .map_err(|got| crate::Error::flag("MLP_TRAIN_SIMD", "is `auto` or `avx2`", got))?;
    simd::set(simd);
    Ok(())
}
