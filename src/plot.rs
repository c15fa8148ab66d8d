//! Training curves as an SVG string (plotters' SVG backend: no system libraries, no fonts) and
//! a one-line unicode sparkline for the terminal summary.
//
// Top panel: J, L, s per epoch on the training set (solid), J and L on validation (dashed).
// Bottom panel: training and validation accuracy (or RMSE). Non-finite values break a curve.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::train::{EpochStats, Metric};

/// Size of the whole picture in pixels.
const SIZE: (u32, u32) = (900, 720);

const J_COLOR: RGBColor = RGBColor(31, 119, 180);
const L_COLOR: RGBColor = RGBColor(214, 39, 40);
const S_COLOR: RGBColor = RGBColor(44, 160, 44);
const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const VAL_COLOR: RGBColor = RGBColor(255, 127, 14);
/// Falling curves leave the upper right corner free for the legend.
const UPPER: SeriesLabelPosition = SeriesLabelPosition::UpperRight;

/// One named curve: (epoch, value) points, possibly non-finite.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    dashed: bool,
}

/// `--plot FILE` draws SVG only: a name that promises another format (`curves.png`) is refused
/// rather than filled with SVG.
pub fn check_path(path: &std::path::Path) -> crate::Result<()> {
    let svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    if svg {
        Ok(())
    } else {
        Err(crate::Error::flag(
            "--plot",
            "writes SVG only: give a FILE.svg name (convert it afterwards, e.g. `rsvg-convert -o curves.png curves.svg`)",
            path.display(),
        ))
    }
}

/// The training curves of `history` as a complete SVG document titled `title`.
/// Errors (as text) only for an empty history or a drawing failure; one epoch, NaN and
/// infinities are drawn as far as they can be.
pub fn curves_svg(history: &[EpochStats], title: &str) -> Result<String, String> {
    if history.is_empty() {
        return Err("no epochs to plot".into());
    }
    let epochs = |f: &dyn Fn(&EpochStats) -> f64| -> Vec<(f64, f64)> {
        history.iter().map(|e| (e.epoch as f64, f(e))).collect()
    };
    let has_val = history.iter().any(|e| e.val.is_some());
    let val_of = |e: &EpochStats, f: &dyn Fn(&crate::Objective) -> f64| {
        e.val.as_ref().map_or(f64::NAN, |(o, _)| f(o))
    };

    let mut objective = vec![
        series("J (train)", epochs(&|e| e.train.j), J_COLOR, false),
        series("L (train)", epochs(&|e| e.train.l), L_COLOR, false),
        series(
            "s = λ/2 (‖W1‖² + ‖W2‖²)",
            epochs(&|e| e.train.s),
            S_COLOR,
            false,
        ),
    ];
    if has_val {
        objective.push(series(
            "J (val)",
            epochs(&|e| val_of(e, &|o| o.j)),
            J_COLOR,
            true,
        ));
        objective.push(series(
            "L (val)",
            epochs(&|e| val_of(e, &|o| o.l)),
            L_COLOR,
            true,
        ));
    }

    let (metric_name, metric_range) = match history[0].train_metric {
        Metric::Accuracy(_) => ("accuracy", Some((0.0, 1.0))),
        Metric::Rmse(_) => ("RMSE", None),
    };
    let mut metric = vec![series(
        &format!("train {metric_name}"),
        epochs(&|e| e.train_metric.value()),
        TRAIN_COLOR,
        false,
    )];
    if has_val {
        metric.push(series(
            &format!("val {metric_name}"),
            epochs(&|e| e.val.as_ref().map_or(f64::NAN, |(_, m)| m.value())),
            VAL_COLOR,
            true,
        ));
    }

    let first = history[0].epoch as f64;
    let last = history[history.len() - 1].epoch as f64;
    let x_range = if last > first {
        (first, last)
    } else {
        (first - 1.0, first + 1.0)
    };

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let root = root
            .titled(title, ("sans-serif", 22))
            .map_err(|e| e.to_string())?;
        let (top, bottom) = root.split_vertically(SIZE.1 as i32 * 11 / 20);
        let y_obj = data_range(&objective, Some(0.0));
        panel(&top, &objective, x_range, y_obj, "objective", UPPER)?;
        let y_metric = metric_range.unwrap_or_else(|| data_range(&metric, Some(0.0)));
        // Accuracy rises towards the top right corner; keep the legend out of its way.
        let legend_at = match metric_range {
            Some(_) => SeriesLabelPosition::LowerRight,
            None => UPPER,
        };
        panel(&bottom, &metric, x_range, y_metric, metric_name, legend_at)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

fn series(name: &str, points: Vec<(f64, f64)>, color: RGBColor, dashed: bool) -> Series {
    Series {
        name: name.to_string(),
        points,
        color,
        dashed,
    }
}

/// The span of the finite values (including `include`, e.g. 0), padded by 5%; (0, 1) when
/// there is none.
fn data_range(all: &[Series], include: Option<f64>) -> (f64, f64) {
    let finite = all
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .chain(include)
        .filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span == 0.0 || !span.is_finite() {
        let pad = (lo.abs() * 0.1).max(1e-3);
        return (lo - pad, hi + pad);
    }
    let pad = 0.05 * span;
    (
        (lo - pad).max(if lo >= 0.0 { 0.0 } else { f64::MIN }),
        hi + pad,
    )
}

/// One chart: mesh with labelled axes, each series as its finite runs, a legend.
fn panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    all: &[Series],
    x: (f64, f64),
    y: (f64, f64),
    y_desc: &str,
    legend_at: SeriesLabelPosition,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<_>| e.to_string();
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .map_err(err)?;
    // Epochs are whole numbers: no tick labels between them.
    let whole = |v: &f64| {
        if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            String::new()
        }
    };
    // Enough decimals to tell ticks a tenth of the span apart.
    let decimals = (-((y.1 - y.0) / 10.0).log10()).ceil().clamp(0.0, 8.0) as usize;
    let y_fmt = move |v: &f64| format!("{v:.decimals$}");
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_desc)
        .x_label_formatter(&whole)
        .y_label_formatter(&y_fmt)
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;

    for s in all {
        let style = s.color.stroke_width(2);
        // The legend entry, drawn once, whatever the data.
        let legend_style = style;
        let dashed = s.dashed;
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(err)?
            .label(s.name.clone())
            .legend(move |at| {
                // Two dashes for a dashed series, one stroke (drawn twice) for a solid one.
                let (a, b) = if dashed {
                    ((0, 8), (12, 20))
                } else {
                    ((0, 20), (0, 20))
                };
                EmptyElement::at(at)
                    + PathElement::new(vec![(a.0, 0), (a.1, 0)], legend_style)
                    + PathElement::new(vec![(b.0, 0), (b.1, 0)], legend_style)
            });
        for run in finite_runs(&s.points) {
            if run.len() == 1 {
                // A lone point (one epoch, or between NaNs) would be an invisible line.
                chart
                    .draw_series(run.iter().map(|&p| Circle::new(p, 3, style.filled())))
                    .map_err(err)?;
            } else if s.dashed {
                chart
                    .draw_series(DashedLineSeries::new(run.iter().copied(), 8, 5, style))
                    .map_err(err)?;
            } else {
                chart
                    .draw_series(LineSeries::new(run.iter().copied(), style))
                    .map_err(err)?;
            }
        }
    }
    chart
        .configure_series_labels()
        .position(legend_at)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .draw()
        .map_err(err)?;
    Ok(())
}

/// The maximal runs of consecutive points whose value is finite.
fn finite_runs(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    for &p in points {
        if p.1.is_finite() {
            run.push(p);
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// Glyphs of increasing height.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// Longest sparkline, in characters.
const SPARK_WIDTH: usize = 60;

/// A one-line sparkline of `values`, scaled from their finite minimum to maximum and
/// resampled (by bucket means) to at most 60 characters; a non-finite bucket is a space.
pub fn sparkline(values: &[f64]) -> String {
    let n = values.len();
    let buckets = n.min(SPARK_WIDTH);
    let resampled: Vec<f64> = (0..buckets)
        .map(|k| {
            let (a, b) = (k * n / buckets, (k + 1) * n / buckets);
            let finite: Vec<f64> = values[a..b]
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            if finite.is_empty() {
                f64::NAN
            } else {
                finite.iter().sum::<f64>() / finite.len() as f64
            }
        })
        .collect();
    let (lo, hi) = resampled
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    resampled
        .iter()
        .map(|&v| {
            if !v.is_finite() {
                ' '
            } else if hi > lo && (hi - lo).is_finite() {
                let t = (v - lo) / (hi - lo);
                BARS[((t * (BARS.len() - 1) as f64).round() as usize).min(BARS.len() - 1)]
            } else {
                BARS[BARS.len() / 2]
            }
        })
        .collect()
}
