//! `mlp-train sweep`: the flags to a plan (every point parsed by the train flags' own clap
//! definition and checks), the engines (in-process, `--point`, `--print-jobs`, `--slurm`), progress, the table.

use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use clap::{ArgMatches, Args, Command, FromArgMatches};

use crate::cli::args::{SweepArgs, TrainArgs};
use crate::cli::output::{hold_writes, Plan, Transaction};
use crate::cli::streams::{print, say, Failure};
use crate::error::{exit, shown_path};
use crate::show::html;
use crate::sweep::files::{self, PointResult};
use crate::sweep::plan::{self, Arg, FileId, PlanPoint, Search, SweepPlan, PLAN_SCHEMA};
use crate::sweep::points::{Engine, Loaded};
use crate::sweep::{axes, table};
use crate::train::checks;
use crate::train::interrupt::{self, STOP};
use crate::train::options::RunOptions;
use crate::{Error, Result};

/// Train flags that belong to the sweep itself, not to its points.
const SWEEP_LEVEL: [&str; 4] = ["json", "quiet", "verbose", "report"];

/// Train flags a point may not have, and what to use instead.
const REFUSED: [(&str, &str); 9] = [
    (
        "save",
        "use --save-models (one model per point) or --refit MODEL (the best point)",
    ),
    (
        "log",
        "a sweep keeps each point's --json summary in DIR/points",
    ),
    (
        "plot",
        "a sweep keeps each point's --json summary in DIR/points",
    ),
    (
        "baseline",
        "compare the refitted best model in a train or eval run",
    ),
    (
        "max_drop",
        "compare the refitted best model in a train or eval run",
    ),
    (
        "min_accuracy",
        "a sweep ranks its points; gate the best one in a train run",
    ),
    (
        "max_loss",
        "a sweep ranks its points; gate the best one in a train run",
    ),
    (
        "min_r2",
        "a sweep ranks its points; gate the best one in a train run",
    ),
    (
        "export_onnx",
        "use --refit MODEL, then mlp-train export --model MODEL --format onnx",
    ),
];

/// Train flags that shape the data, read once for the whole sweep: never an axis.
const DATA_FLAGS: [&str; 14] = [
    "data",
    "test",
    "label",
    "task",
    "delimiter",
    "ignore",
    "init_from",
    "features",
    "no_header",
    "npz_x",
    "npz_y",
    // How the columns are read (as text, blanks as NaN).
    "categorical",
    "impute",
    // Taken out of the features when the data is read, once for the whole sweep.
    "weight_column",
];

/// `mlp-train sweep …`: returns the exit code.
pub fn sweep(args: SweepArgs) -> Result<i32, Failure> {
    let dir = args.runs.clone();
    if let Some(i) = args.point {
        return point_command(&dir, i);
    }
    if args.jobs == Some(0) {
        return Err(Error::flag("--jobs", "must be >= 1", 0).into());
    }
    let engine_line = args.print_jobs || args.slurm;
    if engine_line {
        check_engine_dir(&dir)?;
    }
    let base = base_argv()?;
    let (plan, opts, loaded) = if args.grid.is_empty() && base.is_empty() {
        resume_plan(&dir)?
    } else {
        new_plan(&args, &base)?
    };
    for w in &loaded.warnings {
        say(&format!("mlp-train: warning: {w}"));
    }
    let plan_id = plan.id();
    let todo: Vec<usize> = table::collect(&dir, &plan, &plan_id)
        .iter()
        .enumerate()
        .filter(|(_, r)| r.as_ref().is_none_or(|r| r.status != "ok"))
        .map(|(i, _)| i)
        .collect();
    // The table's output is planned before any point runs: never an input or the plan.
    let out_plan = table_plan(&args, &dir, &opts)?;
    if args.print_jobs {
        let mut text = String::new();
        for &i in &todo {
            text.push_str(&format!(
                "mlp-train sweep --runs {} --point {i}\n",
                quoted(&dir)?
            ));
        }
        print(&text)?;
        return Ok(0);
    }
    let signal = Arc::new(AtomicUsize::new(0));
    watch_signals(&signal);
    interrupt::COALESCE.store(true, Ordering::SeqCst);
    if args.slurm {
        slurm(&dir, &todo)?;
    } else if !todo.is_empty() {
        let jobs = args.jobs.unwrap_or_else(crate::train::limits::cores);
        let progress = SweepProgress::new(&plan, &plan_id, &dir, args.train.quiet, todo.len());
        let engine = Engine {
            dir: &dir,
            plan: &plan,
            plan_id: plan_id.clone(),
            opts: &opts,
            loaded: &loaded,
            jobs,
            stop: &STOP,
            hold: hold_writes,
        };
        let (ran, _) = interrupt::polling(|| engine.run(todo.clone(), &|r| progress.done(r)));
        progress.finish();
        ran?;
    }
    let results = table::collect(&dir, &plan, &plan_id);
    let t = table::table(&plan, &results);
    let text = if args.train.json {
        format!("{}\n", t.json())
    } else {
        t.csv()
    };
    // The table (-o) and the page change together, or neither does.
    let mut outputs = Transaction::new();
    let text = match out_plan.get("--out") {
        Some(o) => {
            outputs.stage(o, text.into_bytes())?;
            String::new()
        }
        None => text,
    };
    if let Some(to) = out_plan.get("--report") {
        let inv = html::Invocation::current();
        let mut page = html::SweepPage::new(&t, &inv);
        let data = opts.first().and_then(|o| o.data.data.clone());
        page.data = data.as_deref();
        page.best_argv = t.rows.first().filter(|r| r.rank.is_some()).map(|best| {
            std::iter::once(OsString::from("mlp-train"))
                .chain(plan.points[best.point].args.iter().map(Arg::os))
                .collect()
        });
        let html = html::sweep_page(&page);
        outputs.stage(to, html.into_bytes())?;
    }
    outputs.commit()?;
    if !text.is_empty() {
        print(&text)?;
    }
    // -q: the table (an output asked for), not the best: line.
    if let Some(best) = t
        .rows
        .first()
        .filter(|r| r.rank.is_some() && !args.train.quiet)
    {
        let cmd = rerun_command(&plan.points[best.point].args);
        say(&format!(
            "best: point {} {} {}: {cmd}",
            best.point,
            t.metric,
            best.score.map_or(String::new(), |s| format!("{s}"))
        ));
    }
    if STOP.load(Ordering::SeqCst) {
        let finished = results.iter().flatten().count();
        say(&format!(
            "mlp-train: interrupted: {finished} of {} point(s) have a result in {}; run the same command again to run the rest",
            plan.points.len(),
            shown_path(&dir)
        ));
        return Ok(match signal.load(Ordering::SeqCst) {
            s if s == libc::SIGTERM as usize => exit::TERMINATED,
            s if s == libc::SIGHUP as usize => exit::HANGUP,
            _ => exit::INTERRUPTED,
        });
    }
    if let (Some(model), Some(best)) = (&args.refit, t.rows.first().filter(|r| r.rank.is_some())) {
        refit(&plan.points[best.point].args, model, &out_plan)?;
        if !args.train.quiet {
            say(&format!(
                "mlp-train: refitted point {} on all the data: {}",
                best.point,
                shown_path(model)
            ));
        }
    }
    let failed: Vec<&PointResult> = results
        .iter()
        .flatten()
        .filter(|r| r.status != "ok")
        .collect();
    let missing = results.iter().filter(|r| r.is_none()).count();
    if let Some(first) = failed.first() {
        return Err(Error::SweepFailed {
            failed: failed.len(),
            total: plan.points.len(),
            first: format!(
                "point {} ({}): {}",
                first.point,
                plan.label(first.point),
                first.error.as_deref().unwrap_or("")
            ),
        }
        .into());
    }
    if missing > 0 {
        return Err(Error::SweepFailed {
            failed: missing,
            total: plan.points.len(),
            first: format!("{missing} point(s) have no result (an engine did not run them)"),
        }
        .into());
    }
    Ok(0)
}

/// The raw arguments of the process's train flags given to `sweep` (not the sweep's own),
/// each as `--flag=value` (data paths made absolute, so that an engine may run a point from
/// another folder): the base of every point.
fn base_argv() -> Result<Vec<OsString>> {
    let matches = crate::cli::usage::parse_command()
        .try_get_matches_from(std::env::args_os())
        .map_err(|e| Error::Sweep {
            what: "sweep".into(),
            msg: clap_message(&e),
        })?;
    let Some(m) = matches.subcommand_matches("sweep") else {
        return Ok(Vec::new());
    };
    train_flags(m)
}

/// The train flags given on the command line in `m`, as arguments.
fn train_flags(m: &ArgMatches) -> Result<Vec<OsString>> {
    let mut out = Vec::new();
    for arg in train_command().get_arguments() {
        let id = arg.get_id().as_str();
        let Some(long) = arg.get_long() else { continue };
        if SWEEP_LEVEL.contains(&id)
            || m.value_source(id) != Some(clap::parser::ValueSource::CommandLine)
        {
            continue;
        }
        if let Some((_, why)) = REFUSED.iter().find(|(f, _)| *f == id) {
            return Err(Error::Sweep {
                what: format!("--{long}"),
                msg: format!("cannot be given to a sweep's points: {why}"),
            });
        }
        if !arg.get_action().takes_values() {
            out.push(OsString::from(format!("--{long}")));
            continue;
        }
        let mut values: Vec<OsString> = m
            .get_raw(id)
            .into_iter()
            .flatten()
            .map(|v| {
                if matches!(id, "data" | "test" | "init_from") && v != "-" {
                    std::path::absolute(v).map_or_else(|_| v.to_os_string(), |p| p.into_os_string())
                } else if let Some(file) = v
                    .to_str()
                    .and_then(|s| s.strip_prefix('@'))
                    .filter(|_| id == "class_weight")
                {
                    // --class-weight @FILE: engines run elsewhere, so the file's path absolute.
                    let abs = std::path::absolute(file).unwrap_or_else(|_| file.into());
                    let mut a = OsString::from("@");
                    a.push(abs.as_os_str());
                    a
                } else {
                    v.to_os_string()
                }
            })
            .collect();
        if arg.get_value_delimiter().is_some() {
            let joined = values.join(OsStr::new(","));
            values = vec![joined];
        }
        for v in values {
            let mut a = OsString::from(format!("--{long}="));
            a.push(v);
            out.push(a);
        }
    }
    Ok(out)
}

/// The train flags' own clap definition, alone: what parses every point.
fn train_command() -> Command {
    TrainArgs::augment_args(
        Command::new("mlp-train")
            .no_binary_name(true)
            .args_override_self(true),
    )
    .mut_args(crate::cli::usage::negative_ok)
}

/// A point's arguments parsed and checked exactly as `mlp-train` would parse them.
fn parse_point(args: &[OsString]) -> Result<RunOptions, Error> {
    let m = train_command()
        .try_get_matches_from(args)
        .map_err(|e| Error::Sweep {
            what: clap_flag(&e),
            msg: clap_message(&e),
        })?;
    let t = TrainArgs::from_arg_matches(&m).map_err(|e| Error::Sweep {
        what: clap_flag(&e),
        msg: clap_message(&e),
    })?;
    let mut opts = t.options();
    checks::cap_threads(&mut opts);
    checks::validate(&opts)?;
    Ok(opts)
}

/// The first line of clap's message, without its `error: `.
fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let line = text.lines().next().unwrap_or("");
    line.trim_start_matches("error: ").to_string()
}

/// The flag a clap error is about (`--hidden`), if it says.
fn clap_flag(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.split_whitespace().next().unwrap_or("").to_string(),
        _ => String::new(),
    }
}

/// A new plan from the flags: the axes checked, every point parsed and validated, the data
/// read, then the plan written in DIR (or the folder's plan found to be the same sweep).
fn new_plan(args: &SweepArgs, base: &[OsString]) -> Result<(SweepPlan, Vec<RunOptions>, Loaded)> {
    if args.grid.is_empty() {
        return Err(Error::Sweep {
            what: "--grid".into(),
            msg: "give at least one axis, e.g. `--grid lr=0.05,0.1` (or only --runs DIR to resume its plan)".into(),
        });
    }
    let data = args.train.data.as_deref();
    if data.is_none() || data == Some(Path::new("-")) {
        return Err(Error::Sweep {
            what: "--data".into(),
            msg: "a sweep needs its data as a file (engines and resume read it again)".into(),
        });
    }
    let known = train_command();
    let mut axes_list = Vec::new();
    for spec in &args.grid {
        let axis = axes::parse(spec)?;
        let what = format!("--grid {spec}");
        let arg = known
            .get_arguments()
            .find(|a| a.get_long() == Some(axis.name.as_str()));
        let Some(arg) = arg else {
            return Err(Error::Sweep {
                what,
                msg: format!(
                    "--{} is not a train flag (see mlp-train train --help)",
                    axis.name
                ),
            });
        };
        let id = arg.get_id().as_str();
        if DATA_FLAGS.contains(&id)
            || SWEEP_LEVEL.contains(&id)
            || REFUSED.iter().any(|(f, _)| *f == id)
        {
            return Err(Error::Sweep {
                what,
                msg: format!(
                    "--{} cannot be an axis: the data is read once for the whole sweep, and outputs and gates are the sweep's (run one sweep per data set)",
                    axis.name
                ),
            });
        }
        if !arg.get_action().takes_values() {
            return Err(Error::Sweep {
                what,
                msg: format!(
                    "--{} takes no value; run one sweep with it and one without",
                    axis.name
                ),
            });
        }
        if axes_list.iter().any(|a: &axes::Axis| a.name == axis.name) {
            return Err(Error::Sweep {
                what,
                msg: format!("--{} is already an axis", axis.name),
            });
        }
        let prefix = format!("--{}=", axis.name);
        if base
            .iter()
            .any(|b| b.as_encoded_bytes().starts_with(prefix.as_bytes()))
        {
            return Err(Error::Sweep {
                what,
                msg: format!("--{} is an axis: give its values only in --grid", axis.name),
            });
        }
        axes_list.push(axis);
    }
    let (values, search) = match args.samples {
        Some(n) => (
            axes::samples(&axes_list, n, args.sweep_seed)?,
            Search::Random {
                samples: n,
                sweep_seed: args.sweep_seed,
            },
        ),
        None => (axes::grid(&axes_list)?, Search::Grid),
    };
    // Every point parsed and checked before anything is read or run: one error, not N.
    let mut points = Vec::with_capacity(values.len());
    let mut opts = Vec::with_capacity(values.len());
    for (i, vals) in values.into_iter().enumerate() {
        let mut argv: Vec<OsString> = base.to_vec();
        for (a, v) in axes_list.iter().zip(&vals) {
            argv.push(OsString::from(format!("--{}={v}", a.name)));
        }
        let o = parse_point(&argv).map_err(|e| {
            let flag = match &e {
                Error::Flag { flag, .. } => flag.to_string(),
                Error::Sweep { what, .. } => what.clone(),
                _ => String::new(),
            };
            let named = axes_list
                .iter()
                .zip(&vals)
                .find(|(a, _)| flag == format!("--{}", a.name));
            let what = match named {
                Some((a, v)) => format!("--grid {}={v}", a.name),
                None => format!(
                    "point {i} ({})",
                    axes_list
                        .iter()
                        .zip(&vals)
                        .map(|(a, v)| format!("{}={v}", a.name))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            };
            let msg = match e {
                Error::Sweep { what: w, msg } if !w.is_empty() => format!("{w}: {msg}"),
                Error::Sweep { msg, .. } => msg,
                e => e.to_string(),
            };
            Error::Sweep { what, msg }
        })?;
        opts.push(o);
        points.push(PlanPoint {
            point: i,
            values: vals,
            args: argv.iter().map(|a| Arg::new(a)).collect(),
        });
    }
    let loaded = Loaded::load(&opts)?;
    let (data_fp, test_fp) = loaded.fingerprints();
    let path_arg = |p: &Path| {
        Arg::new(
            std::path::absolute(p)
                .unwrap_or(p.to_path_buf())
                .as_os_str(),
        )
    };
    let plan = SweepPlan {
        schema_version: PLAN_SCHEMA,
        tool: plan::tool(),
        created_unix_seconds: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        data: FileId {
            path: path_arg(data.unwrap_or(Path::new("-"))),
            fingerprint: data_fp,
        },
        test: args
            .train
            .test
            .as_deref()
            .zip(test_fp)
            .map(|(p, fp)| FileId {
                path: path_arg(p),
                fingerprint: fp,
            }),
        axes: axes_list.iter().map(|a| a.name.clone()).collect(),
        search,
        save_models: args.save_models,
        base: base.iter().map(|a| Arg::new(a)).collect(),
        points,
    };
    let plan = plan::establish(&args.runs, &plan, hold_writes)?;
    Ok((plan, opts, loaded))
}

/// The plan already in DIR (`sweep --runs DIR`, or `--point I`), its points parsed, its
/// data read and checked against the plan's fingerprints.
fn resume_plan(dir: &Path) -> Result<(SweepPlan, Vec<RunOptions>, Loaded)> {
    if !plan::plan_path(dir).exists() {
        return Err(Error::Sweep {
            what: format!("--runs {}", shown_path(dir)),
            msg: "has no plan.json: give the axes (--grid) and the train flags to plan a sweep"
                .into(),
        });
    }
    let plan = plan::load(dir)?;
    if plan.tool != plan::tool() {
        return Err(Error::Sweep {
            what: format!("--runs {}", shown_path(dir)),
            msg: format!("was planned by {}, this is {}", plan.tool, plan::tool()),
        });
    }
    let opts = plan
        .points
        .iter()
        .map(|p| {
            let argv: Vec<OsString> = p.args.iter().map(Arg::os).collect();
            parse_point(&argv).map_err(|e| Error::Sweep {
                what: format!("point {} of {}", p.point, shown_path(&plan::plan_path(dir))),
                msg: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let loaded = Loaded::load(&opts)?;
    check_data(dir, &plan, &loaded)?;
    Ok((plan, opts, loaded))
}

/// The data read now must be the data planned.
fn check_data(dir: &Path, plan: &SweepPlan, loaded: &Loaded) -> Result<()> {
    let (data, test) = loaded.fingerprints();
    let changed = |what: &str, p: &Arg, was: &str, now: &str| Error::Sweep {
        what: format!("--runs {}", shown_path(dir)),
        msg: format!(
            "the {what}'s content changed since the plan: {} was {was}, is now {now}",
            shown_path(Path::new(&p.os()))
        ),
    };
    if data != plan.data.fingerprint {
        return Err(changed(
            "data",
            &plan.data.path,
            &plan.data.fingerprint,
            &data,
        ));
    }
    if let (Some(t), Some(now)) = (&plan.test, test) {
        if now != t.fingerprint {
            return Err(changed("test file", &t.path, &t.fingerprint, &now));
        }
    }
    Ok(())
}

/// `sweep --runs DIR --point I`: runs point I of the plan and records its result; exits with
/// the point's own code when it failed.
fn point_command(dir: &Path, i: usize) -> Result<i32, Failure> {
    let (plan, opts, loaded) = resume_plan(dir)?;
    if i >= plan.points.len() {
        return Err(Error::flag(
            "--point",
            format!("must be below the plan's {} point(s)", plan.points.len()),
            i,
        )
        .into());
    }
    let plan_id = plan.id();
    let done = |id: &str| files::read_result(dir, id, i, &plan.points[i].values);
    if done(&plan_id).is_some_and(|r| r.status == "ok") {
        say(&format!(
            "mlp-train: point {i} already has its result; nothing to do"
        ));
        return Ok(0);
    }
    let Some(_claim) = files::claim(dir, i)? else {
        say(&format!(
            "mlp-train: point {i} is being run by another process; nothing to do"
        ));
        return Ok(0);
    };
    let engine = Engine {
        dir,
        plan: &plan,
        plan_id,
        opts: &opts,
        loaded: &loaded,
        jobs: 1,
        stop: &STOP,
        hold: hold_writes,
    };
    let (r, _) = interrupt::polling(|| engine.run_and_record(i));
    match r? {
        None => Ok(exit::INTERRUPTED),
        Some(r) if r.status == "ok" => Ok(0),
        Some(r) => {
            say(&format!(
                "mlp-train: error: point {i} ({}): {}",
                plan.label(i),
                r.error.as_deref().unwrap_or("")
            ));
            Ok(r.exit_code.unwrap_or(exit::OTHER))
        }
    }
}

/// The table's output (`-o FILE`), planned against the inputs (data, test, the plan) and
/// the --refit model.
fn table_plan(args: &SweepArgs, dir: &Path, opts: &[RunOptions]) -> Result<Plan> {
    let first = opts.first();
    let data = first.and_then(|o| o.data.data.clone());
    let test = first.and_then(|o| o.data.test.clone());
    let init = first.and_then(|o| o.model.init_from.clone());
    let plan_file = plan::plan_path(dir);
    Plan::new(
        &[
            ("--out", args.out.as_deref()),
            ("--refit", args.refit.as_deref()),
            // The train flag --report is the sweep's own: its page.
            ("--report", args.train.report.as_deref()),
        ],
        &[
            ("--data", data.as_deref()),
            ("--test", test.as_deref()),
            ("--init-from", init.as_deref()),
            ("the plan", Some(plan_file.as_path())),
        ],
        &[],
    )
}

/// `--refit MODEL`: the best point's flags without the validation split or --cv, on all the
/// data, saved to MODEL.
fn refit(args: &[Arg], model: &Path, out_plan: &Plan) -> Result<()> {
    let argv: Vec<OsString> = args.iter().map(Arg::os).collect();
    let mut opts = parse_point(&argv)?;
    opts.data.val_frac = 0.0;
    opts.training.cv = None;
    opts.training.patience = None;
    opts.outputs.save = Some(model.to_path_buf());
    if out_plan.get("--refit").is_none() {
        return Ok(());
    }
    let mut silent = crate::train::sgd::Silent;
    let finished = crate::cli::train::train_command(&opts, &mut silent, &STOP)?;
    if !finished.run.outcome.interrupted {
        finished.outputs.commit()?;
    }
    if finished.run.outcome.interrupted {
        return Err(Error::Sweep {
            what: "--refit".into(),
            msg: "interrupted".into(),
        });
    }
    Ok(())
}

/// The command that reruns a point alone, shell-quoted.
fn rerun_command(args: &[Arg]) -> String {
    let mut words: Vec<Vec<u8>> = vec![b"mlp-train".to_vec()];
    for a in args {
        let b = a.os().into_encoded_bytes();
        // `--flag=value` as `--flag value`, as one types it, unless the value looks like a flag.
        match b.iter().position(|&c| c == b'=') {
            Some(eq) if b.starts_with(b"--") && b.get(eq + 1) != Some(&b'-') => {
                words.push(b[..eq].to_vec());
                words.push(b[eq + 1..].to_vec());
            }
            _ => words.push(b),
        }
    }
    match shlex::bytes::try_join(words.iter().map(Vec::as_slice)) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => "(an argument holds a NUL byte)".into(),
    }
}

/// A folder that goes on an engine's command line: no control character (a newline would
/// end the line), no backslash (Slurm would not expand its patterns).
fn check_engine_dir(dir: &Path) -> Result<()> {
    let b = dir.as_os_str().as_encoded_bytes();
    if b.iter().any(|&c| c < 0x20 || c == 0x7f || c == b'\\') {
        return Err(Error::Sweep {
            what: format!("--runs {}", shown_path(dir)),
            msg: "holds a control character or a backslash: an engine's job line could not carry it; choose another folder name".into(),
        });
    }
    Ok(())
}

/// `dir` as one shell word.
fn quoted(dir: &Path) -> Result<String> {
    let b = dir.as_os_str().as_encoded_bytes();
    shlex::bytes::try_quote(b)
        .map(|q| String::from_utf8_lossy(&q).into_owned())
        .map_err(|_| Error::Sweep {
            what: format!("--runs {}", shown_path(dir)),
            msg: "cannot be quoted for a shell".into(),
        })
}

/// `--slurm`: the array job script and the list of its points in DIR, `sbatch --wait`.
fn slurm(dir: &Path, todo: &[usize]) -> Result<()> {
    if todo.is_empty() {
        return Ok(());
    }
    let abs = std::path::absolute(dir).map_err(|e| Error::io(dir, e))?;
    check_engine_dir(&abs)?;
    let exe = std::env::current_exe().map_err(|e| Error::io("mlp-train", e))?;
    check_engine_dir(exe.parent().unwrap_or(Path::new("/")))?;
    let list: String = todo.iter().map(|i| format!("{i}\n")).collect();
    let list_path = abs.join("slurm-points.txt");
    files::write_atomic(&list_path, list.as_bytes(), hold_writes)?;
    let script = format!(
        "#!/bin/sh\n# mlp-train sweep: one array task per missing point (the lines of slurm-points.txt).\n\
         set -eu\npoint=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" {list})\nexec {exe} sweep --runs {dir} --point \"$point\"\n",
        list = quoted(&list_path)?,
        exe = quoted(&exe)?,
        dir = quoted(&abs)?,
    );
    let script_path = abs.join("slurm.sh");
    files::write_atomic(&script_path, script.as_bytes(), hold_writes)?;
    // Slurm expands `%j`, `%a` … in --output: the folder's own `%` are doubled.
    let mut output = OsString::from(
        String::from_utf8_lossy(abs.as_os_str().as_encoded_bytes()).replace('%', "%%"),
    );
    output.push("/slurm-%A_%a.out");
    let status = std::process::Command::new("sbatch")
        .arg("--wait")
        .arg(format!("--array=0-{}", todo.len() - 1))
        .arg("--job-name=mlp-train-sweep")
        .arg("--output")
        .arg(&output)
        .arg(&script_path)
        .stdin(std::process::Stdio::null())
        // "Submitted batch job N" is a note, not part of the table on stdout.
        .stdout(std::io::stderr())
        .status()
        .map_err(|e| Error::External(format!("sbatch: cannot run it: {e}")))?;
    if !status.success() && status.code().is_none_or(|c| c != 0) {
        say(&format!(
            "mlp-train: note: sbatch exited with {status}; the table shows what the array recorded"
        ));
    }
    Ok(())
}

/// Records which signal stopped the sweep (the training loops see main.rs's STOP).
fn watch_signals(signal: &Arc<AtomicUsize>) {
    for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        let _ = signal_hook::flag::register_usize(s, Arc::clone(signal), s as usize);
    }
}

/// The sweep's progress on stderr: a bar on a terminal (`point 5/36, best 0.973, ETA`), at
/// most about 20 plain lines off it, nothing with --quiet.
struct SweepProgress<'a> {
    plan: &'a SweepPlan,
    bar: Option<indicatif::ProgressBar>,
    lines: Option<usize>,
    state: Mutex<(usize, Vec<Option<PointResult>>)>,
    total: usize,
}

impl<'a> SweepProgress<'a> {
    fn new(plan: &'a SweepPlan, plan_id: &str, dir: &Path, quiet: bool, total: usize) -> Self {
        let results = table::collect(dir, plan, plan_id);
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {msg} ETA {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_prefix(format!("point 0/{total}"));
            bar
        });
        SweepProgress {
            plan,
            bar,
            lines: (!quiet && !terminal).then(|| total.div_ceil(20).max(1)),
            state: Mutex::new((0, results)),
            total,
        }
    }

    fn done(&self, r: &PointResult) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.0 += 1;
        st.1[r.point] = Some(r.clone());
        let n = st.0;
        let t = table::table(self.plan, &st.1);
        let best = t
            .rows
            .first()
            .and_then(|b| b.score)
            .map_or("-".to_string(), crate::cli::progress::short);
        if let Some(bar) = &self.bar {
            bar.set_prefix(format!("point {n}/{}", self.total));
            bar.set_message(format!("best {} {best}", t.metric));
            bar.inc(1);
        } else if let Some(every) = self.lines {
            if n == 1 || n.is_multiple_of(every) || n == self.total {
                let what = match &r.error {
                    Some(e) => format!("failed: {e}"),
                    None => "ok".into(),
                };
                say(&format!(
                    "point {n}/{} done (point {}: {}: {what}); best {} {best}",
                    self.total,
                    r.point,
                    self.plan.label(r.point),
                    t.metric
                ));
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
