//! What a training does once it has run: its warnings, the HTML page staged with the other
//! outputs and all committed together, the summary (text or --json), the gates' verdict.

use std::io::IsTerminal;

use crate::cli::args::TrainArgs;
use crate::cli::output::Dest;
use crate::cli::progress::Progress;
use crate::cli::streams::{print, print_err, say, Failure};
use crate::cli::train::{cv_command, interrupted_note, train_command, Finished, Verdict};
use crate::error::exit;
use crate::show::{html, plot, report};
use crate::train::checks;
use crate::train::interrupt::STOP;
use crate::train::options::RunOptions;

/// `mlp-train [train] --data …`: trains (or cross-validates with --cv), writes the outputs,
/// prints the summary; returns 0, or 130 when interrupted. With -q, only the outputs asked
/// for (files, --json), warnings and errors: no summary, no notes.
pub fn train(args: TrainArgs) -> Result<i32, Failure> {
    let mut opts = args.options();
    // Kept under -q, as a warning is: the run is not what was asked.
    if let Some(note) = checks::cap_threads(&mut opts) {
        say(&format!("mlp-train: note: {note}"));
    }
    if args.cv.is_some() {
        return cross_validate(args, opts);
    }
    let mut progress = Progress::new(args.epochs, None, args.quiet, args.verbose);
    let result = train_command(&opts, &mut progress, &STOP);
    finish(&mut progress);
    let Finished { run, mut outputs } = result?;
    // Gates and the baseline are measured before printing, so that --json can report them.
    // An error until the commit below leaves every output file as it was.
    let verdict = Verdict::of_train(&run, &opts)?;
    // --report and --summary-md (written even when a gate fails below) join the model, log
    // and plot staged by the training; then all are put in place together (stdout for `-`,
    // the summary then going to stderr).
    if let Some(to) = outputs.take_deferred("--report") {
        let inv = html::Invocation::current();
        let page = html::render(&html::train_page(&run, &opts, &inv));
        outputs.stage(&to, page.into_bytes())?;
    }
    if let Some(to) = outputs.take_deferred("--summary-md") {
        let md = report::train_md(&run, &verdict.gates, verdict.compared.as_ref());
        outputs.stage(&to, md.into_bytes())?;
    }
    outputs.commit()?;
    // When an output is `-`, stdout carries only that output; the summary goes to stderr.
    let print = |text: &str| {
        if run.summary_to_stderr {
            print_err(text)
        } else {
            print(text)
        }
    };
    let printed = if args.json {
        let mut v = report::summary_json(&run);
        verdict.add_to_json(&mut v);
        let mut text = crate::data::json_safe(v.to_string());
        text.push('\n');
        print(&text)
    } else if args.quiet {
        Ok(())
    } else {
        let mut text = report::summary_text(&run);
        // On a terminal, J per epoch at a glance.
        if std::io::stdout().is_terminal()
            && !run.summary_to_stderr
            && run.outcome.history.len() > 1
        {
            let j: Vec<f64> = run.outcome.history.iter().map(|s| s.train.j).collect();
            text.push_str(&plot::sparkline_line("J per epoch", &j));
        }
        text.push_str(&verdict.text());
        print(&text)
    };
    if run.outcome.interrupted {
        // Exit 130 even when stdout is a closed pipe: the run was interrupted.
        say(&interrupted_note(&run));
        return Ok(exit::INTERRUPTED);
    }
    printed?;
    verdict.into_result()?;
    Ok(0)
}

/// `--cv K`: the folds' summary (on stderr when the page takes stdout), then the verdict.
fn cross_validate(args: TrainArgs, opts: RunOptions) -> Result<i32, Failure> {
    let k = args.cv.unwrap_or(0);
    let mut progress = Progress::new(args.epochs, Some(k), args.quiet, args.verbose);
    let result = cv_command(&opts, &mut progress, &STOP);
    finish(&mut progress);
    let Finished {
        run: cv,
        mut outputs,
    } = result?;
    let verdict = Verdict::of_cv(&cv, &opts)?;
    let mut page_on_stdout = false;
    if let Some(to) = outputs.take_deferred("--report") {
        page_on_stdout = to.dest == Dest::Stdout;
        let inv = html::Invocation::current();
        let page = html::render(&html::cv_page(&cv, &opts, &inv));
        outputs.stage(&to, page.into_bytes())?;
    }
    if let Some(to) = outputs.take_deferred("--summary-md") {
        page_on_stdout |= to.dest == Dest::Stdout;
        let md = report::cv_md(&cv, &verdict.gates, verdict.compared.as_ref());
        outputs.stage(&to, md.into_bytes())?;
    }
    outputs.commit()?;
    let text = format!("{}{}", report::cv_text(&cv), verdict.text());
    if page_on_stdout && !args.quiet {
        say(text.trim_end());
    } else if args.json && !page_on_stdout {
        let mut v = report::cv_json(&cv);
        verdict.add_to_json(&mut v);
        print(&format!("{}\n", crate::data::json_safe(v.to_string())))?;
    } else if !args.quiet && !page_on_stdout {
        print(&text)?;
    }
    if cv.interrupted {
        return Ok(exit::INTERRUPTED);
    }
    verdict.into_result()?;
    Ok(0)
}

/// Clears the progress, then prints the data's warnings: before the summary when the run
/// succeeded, before the error line when it failed.
fn finish(progress: &mut Progress) {
    progress.finish();
    for w in progress.take_warnings() {
        say(&format!("mlp-train: warning: {w}"));
    }
}
