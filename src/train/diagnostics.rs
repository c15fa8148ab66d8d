//! What a report needs beyond the summary, as plain data: one set's predictions (confusion
//! matrix, predicted-against-actual scatter) and one sample with the model in f64 for `explain`.

use ndarray::ArrayView1;

use crate::data::matrices::{Data, Targets};
use crate::data::prep::Prep;
use crate::data::{Frame, Labels as FrameLabels};
use crate::math::model::Mlp;
use crate::train::explain::{self, ExplainOptions, ExplainTarget, Explanation, Provenance};
use crate::train::predict::predict;
use crate::train::sgd::argmax;
use crate::{Real, Result};

/// A model's predictions on one labelled set.
#[derive(Clone, Debug, PartialEq)]
pub enum Predictions {
    /// True and predicted class indices (argmax o), one of each per row.
    Classes {
        truth: Vec<usize>,
        predicted: Vec<usize>,
    },
    /// Actual and predicted targets, (n, q) row-major, in the data's own units.
    Values {
        actual: Vec<f64>,
        predicted: Vec<f64>,
        q: usize,
    },
}

impl Predictions {
    /// Appends another set's predictions (cross-validation pools its held-out folds).
    pub fn extend(&mut self, other: Predictions) {
        match (self, other) {
            (
                Predictions::Classes { truth, predicted },
                Predictions::Classes {
                    truth: t,
                    predicted: p,
                },
            ) => {
                truth.extend(t);
                predicted.extend(p);
            }
            (
                Predictions::Values {
                    actual, predicted, ..
                },
                Predictions::Values {
                    actual: a,
                    predicted: p,
                    ..
                },
            ) => {
                actual.extend(a);
                predicted.extend(p);
            }
            // A task never changes between folds.
            _ => {}
        }
    }

    /// Rows predicted.
    pub fn rows(&self) -> usize {
        match self {
            Predictions::Classes { truth, .. } => truth.len(),
            Predictions::Values { actual, q, .. } => actual.len() / (*q).max(1),
        }
    }
}

/// One sample of the data file, transformed as the model sees it, and the model in f64.
#[derive(Clone, Debug)]
pub struct Sample {
    pub model: Mlp<f64>,
    /// x (d), standardized, with the bias 1 appended when the model has it.
    pub x: Vec<f64>,
    /// y: one class index or q (scaled) targets.
    pub y: Targets<f64>,
    /// The class's name, for classification.
    pub class_name: Option<String>,
    /// λ of the objective.
    pub lambda: f64,
    /// Where the sample and the model come from, as `explain` prints it.
    pub source: Provenance,
    /// The model as it was trained, when that was in f32 (`explain` computes in it).
    pub model_f32: Option<Mlp<f32>>,
}

/// What a report needs beyond the summary of a run.
#[derive(Clone, Debug)]
pub struct Diagnostics {
    /// Which set `predictions` are on: "test", "validation", "training", ...
    pub set: String,
    pub predictions: Predictions,
    /// Names of the outputs: the class names (classification) or the target columns.
    pub outputs: Vec<String>,
    /// The data file's first row, for the explained sample.
    pub sample: Option<Sample>,
}

/// The predictions of `model` on the set named `set`, without a sample yet.
pub fn on_set<T: Real>(
    model: &Mlp<T>,
    data: &Data<T>,
    prep: &Prep,
    set: &str,
) -> Result<Diagnostics> {
    Ok(Diagnostics {
        set: set.to_string(),
        predictions: predictions(model, data, prep)?,
        outputs: prep.classes.clone().unwrap_or_else(|| prep.labels.clone()),
        sample: None,
    })
}

/// The predictions of `model` on every row of `data`; regression targets mapped back to the
/// data's units with the preprocessing's target standardization.
pub fn predictions<T: Real>(model: &Mlp<T>, data: &Data<T>, prep: &Prep) -> Result<Predictions> {
    let (_, _, q) = model.dims();
    let mut o = predict(model, data.x.view())?;
    Ok(match &data.y {
        Targets::Classes(truth) => Predictions::Classes {
            truth: truth.clone(),
            predicted: o.outer_iter().map(|r| argmax(r.iter().copied())).collect(),
        },
        Targets::Values(y) => {
            let mut actual = y.clone();
            if let Some(st) = &prep.target_standardize {
                st.invert(o.view_mut());
                st.invert(actual.view_mut());
            }
            Predictions::Values {
                actual: actual.iter().map(|v| v.f64()).collect(),
                predicted: o.iter().map(|v| v.f64()).collect(),
                q,
            }
        }
    })
}

/// The first row of a frame, as a frame of one row (None for an empty frame).
pub fn first_row<T: Real>(frame: &Frame<T>) -> Option<Frame<T>> {
    (frame.x.nrows() > 0).then(|| frame.select(&[0]))
}

/// Row `index` of the labelled `frame` transformed by `prep`, with `model` widened to f64 and
/// kept as it is when it is f32, so that `explain` computes in the model's own precision.
/// `model_file` names the model explained (None: a fresh one); the row's number, raw values
/// and preprocessing go into the sample's provenance, as `explain` prints them.
pub fn sample<T: Real>(
    model: &Mlp<T>,
    prep: &Prep,
    frame: &Frame<T>,
    index: usize,
    lambda: f64,
    model_file: Option<String>,
) -> Result<Sample> {
    let row = frame.select(&[index]);
    let class_name = match &row.labels {
        FrameLabels::Classes(c) => c.name_of(0).map(str::to_string),
        _ => None,
    };
    let source = Provenance {
        model: model_file,
        precision: Some(T::NAME.to_string()),
        data: row.source.display().to_string(),
        row: index,
        // The row as the model's inputs before standardization: the file's numbers, or
        // with an encoding the one-hot and imputed values.
        raw_x: match &prep.encoding {
            None => row.x.row(0).iter().map(|&v| as_read(v)).collect(),
            Some(_) => {
                let (x, _) = prep.encode(&row, false)?;
                x.row(0).iter().map(|&v| as_read(v)).collect()
            }
        },
        inputs: prep.features.clone(),
        raw_y: match &row.labels {
            FrameLabels::Targets(t) => Some(t.row(0).iter().map(|&v| as_read(v)).collect()),
            _ => None,
        },
        standardized_x: prep.standardize.is_some(),
        standardized_y: prep.target_standardize.is_some(),
        bias: prep.bias,
        classes: prep.classes.clone().unwrap_or_default(),
        target_scale: prep
            .target_standardize
            .as_ref()
            .map(|t| (t.mean.clone(), t.std.clone())),
    };
    let model_f32 = (T::NAME == "f32").then(|| Mlp {
        w1: model.w1.mapv(|v| v.f64() as f32),
        w2: model.w2.mapv(|v| v.f64() as f32),
        activation: model.activation,
        loss: model.loss,
    });
    let d = prep.transform(row)?;
    let y = match d.y {
        Targets::Classes(c) => Targets::Classes(c),
        Targets::Values(v) => Targets::Values(v.mapv(|t| t.f64())),
    };
    Ok(Sample {
        model: Mlp {
            w1: model.w1.mapv(|v| v.f64()),
            w2: model.w2.mapv(|v| v.f64()),
            activation: model.activation,
            loss: model.loss,
        },
        x: d.x.row(0).iter().map(|v| v.f64()).collect(),
        y,
        class_name,
        lambda,
        source,
        model_f32,
    })
}

/// A value as the file spelled it, in f64: an f32 4.7 is 4.7, not 4.699999809265137 (its
/// shortest decimal, which reads back to the same f32).
fn as_read<T: Real>(v: T) -> f64 {
    v.to_string().parse().unwrap_or(v.f64())
}

impl Sample {
    /// The sample through the chapter's formulas, in the model's own precision (f32 values
    /// for an f32 model; the finite differences always in f64), with its provenance.
    pub fn explain(&self, opts: &ExplainOptions) -> Result<Explanation> {
        let y = match &self.y {
            Targets::Classes(c) => {
                ExplainTarget::Class(c.first().copied().unwrap_or(0), self.class_name.clone())
            }
            Targets::Values(v) => ExplainTarget::Values(v.row(0).to_vec()),
        };
        let mut e = match &self.model_f32 {
            Some(m) => {
                let x: Vec<f32> = self.x.iter().map(|&v| v as f32).collect();
                explain::explain(m, ArrayView1::from(&x), y, self.lambda, opts)?
            }
            None => explain::explain(&self.model, ArrayView1::from(&self.x), y, self.lambda, opts)?,
        };
        e.source = self.source.clone();
        Ok(e)
    }
}

/// A divergence of L in a run that did not standardize its features (`features` false) or
/// its targets (`targets` false) is advised to standardize: that, not a smaller --lr, is the
/// usual fix. Any other error is returned as it is.
pub fn unstandardized_advice(
    e: crate::error::Error,
    features: bool,
    targets: bool,
) -> crate::error::Error {
    use crate::error::{Blowup, Error};
    let flags = match (features, targets) {
        (false, false) => "--no-standardize and --no-standardize-targets",
        (false, true) => "--no-standardize",
        (true, false) => "--no-standardize-targets",
        (true, true) => return e,
    };
    match e {
        Error::Diverged {
            epoch,
            batch,
            what,
            lr,
            lambda,
            cause: Blowup::Loss,
        } => Error::Diverged {
            epoch,
            batch,
            what,
            lr,
            lambda,
            cause: Blowup::Unstandardized { flags },
        },
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_appends_rows() {
        let mut a = Predictions::Classes {
            truth: vec![0, 1],
            predicted: vec![0, 0],
        };
        a.extend(Predictions::Classes {
            truth: vec![2],
            predicted: vec![2],
        });
        assert_eq!(a.rows(), 3);
        assert_eq!(
            a,
            Predictions::Classes {
                truth: vec![0, 1, 2],
                predicted: vec![0, 0, 2]
            }
        );
        let mut v = Predictions::Values {
            actual: vec![1.0, 2.0],
            predicted: vec![1.5, 2.5],
            q: 2,
        };
        v.extend(Predictions::Values {
            actual: vec![3.0, 4.0],
            predicted: vec![3.0, 4.0],
            q: 2,
        });
        assert_eq!(v.rows(), 2);
    }
}
