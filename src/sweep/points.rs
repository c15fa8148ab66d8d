//! Running points: the data loaded once (per precision), each point trained on a copy of it
//! exactly as `mlp-train … --json` alone would, `-j N` at a time in threads, results on disk.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde_json::{json, Value};

use crate::show::report;
use crate::sweep::files::{self, Hold, PointResult};
use crate::sweep::plan::{SweepPlan, PLAN_SCHEMA};
use crate::train::cv;
use crate::train::options::{Precision, RunOptions};
use crate::train::run::{self, load_input, Input};
use crate::train::sgd::{Observer, Silent};
use crate::{Error, Real, Result};

/// The data of a sweep, read once in each precision its points use.
pub struct Loaded {
    pub f32: Option<Input<f32>>,
    pub f64: Option<Input<f64>>,
    /// The data's warnings (printed once, not per point).
    pub warnings: Vec<String>,
}

/// Collects the data's warnings.
struct Warnings(Vec<String>);
impl Observer for Warnings {
    fn on_warning(&mut self, w: &str) {
        if !self.0.iter().any(|x| x == w) {
            self.0.push(w.to_string());
        }
    }
}

impl Loaded {
    /// Reads the data (and test) files once per precision among `points` (the data flags
    /// are the same for every point: they cannot be axes).
    pub fn load(points: &[RunOptions]) -> Result<Loaded> {
        let mut w = Warnings(Vec::new());
        let first = |p: Precision| points.iter().find(|o| o.training.precision == p);
        let f32 = first(Precision::F32)
            .map(|o| load_input::<f32>(o, &mut w))
            .transpose()?;
        let f64 = first(Precision::F64)
            .map(|o| load_input::<f64>(o, &mut w))
            .transpose()?;
        Ok(Loaded {
            f32,
            f64,
            warnings: w.0,
        })
    }

    /// The data's and the test file's fingerprints.
    pub fn fingerprints(&self) -> (String, Option<String>) {
        fn of<T>(i: &Input<T>) -> (String, Option<String>) {
            (
                i.frame.fingerprint.clone(),
                i.test.as_ref().map(|t| t.fingerprint.clone()),
            )
        }
        match (&self.f32, &self.f64) {
            (Some(i), _) => of(i),
            (None, Some(i)) => of(i),
            (None, None) => (String::new(), None),
        }
    }
}

/// A point's `--json` summary, as `mlp-train [its flags] --json` prints it alone; None when a
/// signal stopped it. With `model`, its model is saved there, as `--save` would.
pub fn run_point(
    opts: &RunOptions,
    loaded: &Loaded,
    model: Option<&Path>,
    stop: &AtomicBool,
    hold: Hold,
) -> Result<Option<Value>> {
    let missing = || Error::Shape("the sweep's data was not loaded in this precision".into());
    match opts.training.precision {
        Precision::F32 => point_in(
            opts,
            loaded.f32.as_ref().ok_or_else(missing)?,
            model,
            stop,
            hold,
        ),
        Precision::F64 => point_in(
            opts,
            loaded.f64.as_ref().ok_or_else(missing)?,
            model,
            stop,
            hold,
        ),
    }
}

fn point_in<T: Real>(
    opts: &RunOptions,
    input: &Input<T>,
    model: Option<&Path>,
    stop: &AtomicBool,
    hold: Hold,
) -> Result<Option<Value>> {
    // The gates and the baseline are refused in a sweep: what `--json` says of them alone.
    let verdict = |mut v: Value| {
        v["gates"] = json!([]);
        v["baseline"] = Value::Null;
        v
    };
    if opts.training.cv.is_some() {
        let cv = cv::cv_on(opts, input.clone(), &mut Silent, stop, Instant::now())?;
        return Ok((!cv.interrupted).then(|| verdict(report::cv_json(&cv))));
    }
    let mut t = run::train_on::<T>(opts, input.clone(), &mut Silent, stop)?;
    if t.run.outcome.interrupted {
        return Ok(None);
    }
    if let Some(p) = model {
        let file = report::model_file(&t.model, &t.prep, &t.run, t.previous_epochs, false);
        files::write_atomic(p, file.to_json().as_bytes(), hold)?;
        t.run.saved = Some(p.to_path_buf());
    }
    Ok(Some(verdict(report::summary_json(&t.run))))
}

/// The local engine: the points of one plan, `jobs` at a time in this process.
pub struct Engine<'a> {
    pub dir: &'a Path,
    pub plan: &'a SweepPlan,
    pub plan_id: String,
    /// Each point's options, in plan order.
    pub opts: &'a [RunOptions],
    pub loaded: &'a Loaded,
    pub jobs: usize,
    pub stop: &'a AtomicBool,
    pub hold: Hold,
}

impl Engine<'_> {
    /// Runs every point of `todo` that another sweep has not claimed, then waits for those
    /// that another sweep runs (taking over any it leaves), until all have a result or a
    /// signal stops it. `done` is called with each result this process records.
    pub fn run(&self, mut todo: Vec<usize>, done: &(dyn Fn(&PointResult) + Sync)) -> Result<()> {
        let failure: Mutex<Option<Error>> = Mutex::new(None);
        while !todo.is_empty() && !self.stop.load(Ordering::SeqCst) {
            let next = AtomicUsize::new(0);
            let others = Mutex::new(Vec::new());
            std::thread::scope(|s| {
                for _ in 0..self.jobs.clamp(1, todo.len()) {
                    s.spawn(|| loop {
                        if self.stop.load(Ordering::SeqCst) || lock(&failure).is_some() {
                            return;
                        }
                        let Some(&i) = todo.get(next.fetch_add(1, Ordering::SeqCst)) else {
                            return;
                        };
                        if let Err(e) = self.one(i, &others, done) {
                            lock(&failure).get_or_insert(e);
                        }
                    });
                }
            });
            if let Some(e) = lock(&failure).take() {
                return Err(e);
            }
            // Points another sweep holds: wait for their results, or take them over.
            todo = lock(&others).clone();
            todo.retain(|&i| self.result(i).is_none());
            if !todo.is_empty() {
                while !self.stop.load(Ordering::SeqCst)
                    && todo
                        .iter()
                        .all(|&i| files::claimed(self.dir, i) && self.result(i).is_none())
                {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                todo.retain(|&i| self.result(i).is_none());
                todo.sort_unstable();
            }
        }
        Ok(())
    }

    /// Claims and runs point `i`, unless another sweep holds it (then it is put in `others`)
    /// or it has a result by now.
    fn one(
        &self,
        i: usize,
        others: &Mutex<Vec<usize>>,
        done: &(dyn Fn(&PointResult) + Sync),
    ) -> Result<()> {
        let Some(_claim) = files::claim(self.dir, i)? else {
            lock(others).push(i);
            return Ok(());
        };
        // Claimed after another sweep finished it: nothing to do.
        if self.result(i).is_some_and(|r| r.status == "ok") {
            return Ok(());
        }
        let r = self.run_and_record(i)?;
        if let Some(r) = r {
            done(&r);
        }
        Ok(())
    }

    /// Runs point `i` and records its result (ok or failed) in `DIR/points`; returns it, or
    /// None when a signal stopped it (nothing is recorded: it runs again on resume). The
    /// caller holds the point's claim.
    pub fn run_and_record(&self, i: usize) -> Result<Option<PointResult>> {
        let (dir, plan, stop, hold) = (self.dir, self.plan, self.stop, self.hold);
        let model = plan.save_models.then(|| files::model_path(dir, i));
        if model.is_some() {
            std::fs::create_dir_all(files::models_dir(dir)).map_err(|e| Error::io(dir, e))?;
        }
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_point(&self.opts[i], self.loaded, model.as_deref(), stop, hold)
        }))
        .unwrap_or_else(|_| {
            Err(Error::External(
                "internal error: the point's training panicked".into(),
            ))
        });
        let mut r = PointResult {
            schema_version: PLAN_SCHEMA,
            plan: self.plan_id.clone(),
            point: i,
            values: plan.points[i].values.clone(),
            status: "ok".into(),
            summary: None,
            error: None,
            exit_code: None,
        };
        match ran {
            Ok(None) => return Ok(None),
            Ok(Some(v)) => r.summary = Some(v),
            Err(e) => {
                r.status = "failed".into();
                r.error = Some(e.to_string());
                r.exit_code = Some(e.exit_code());
            }
        }
        files::write_result(dir, &r, hold)?;
        Ok(Some(r))
    }

    fn result(&self, i: usize) -> Option<PointResult> {
        files::read_result(self.dir, &self.plan_id, i, &self.plan.points[i].values)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
