//! `mlp-train graph`: the computation graph of the model's shapes (from a model file, a
//! data file and the model flags, or the flags alone) as DOT or SVG.

use super::columns_options;
use crate::cli::args::{GraphArgs, GraphEngine, GraphFormat};
use crate::data::prep::{Prep, Task};
use crate::data::{self, Source};
use crate::show::graph::GraphShapes;
use crate::train::limits;
use crate::{Error, Result};

/// `mlp-train graph`: the computation graph as DOT, or SVG through Graphviz.
pub fn graph(args: &GraphArgs) -> Result<String> {
    let shapes = match (&args.model, &args.data) {
        (Some(path), _) => {
            let mf = limits::load_model(path)?;
            let a = &mf.architecture;
            Some(GraphShapes {
                d: a.inputs,
                h: a.hidden,
                q: a.outputs,
                batch: None,
                bias: a.bias,
                activation: a.activation,
                loss: a.loss,
            })
        }
        (None, Some(file)) => {
            if args.hidden == 0 {
                return Err(Error::flag("--hidden", "must be >= 1", 0));
            }
            // The shapes a training with the same model flags would give.
            let opts = columns_options(&args.label, args.task, &args.columns);
            let frame = data::load::<f64>(&Source::parse(file), &opts)?;
            let prep = Prep::fit(&frame, args.task, true, true, !args.no_bias)?;
            let loss = args.loss.unwrap_or(match args.task {
                Task::Classify => crate::math::loss::Loss::SoftmaxCe,
                Task::Regress => crate::math::loss::Loss::HalfSquared,
            });
            Some(GraphShapes {
                d: prep.inputs(),
                h: args.hidden,
                q: prep.outputs(),
                batch: Some(args.batch_size),
                bias: !args.no_bias,
                activation: args.activation,
                loss,
            })
        }
        (None, None) => None,
    };
    match (args.format, args.engine) {
        (GraphFormat::Dot, _) => Ok(crate::show::graph::dot(shapes)),
        (GraphFormat::Svg, GraphEngine::Builtin) => Ok(crate::show::graph::builtin_svg(shapes)),
        (GraphFormat::Svg, GraphEngine::Dot) => {
            crate::show::graph::render_svg(&crate::show::graph::dot(shapes))
                .map_err(Error::External)
        }
    }
}
