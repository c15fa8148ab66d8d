//! Training curves as an SVG string (plotters' SVG backend: no system libraries, no fonts) and
//! a one-line unicode sparkline for the terminal summary.
//
// Three panels, each with its own y scale and its legend in a column to its right, where no
// curve can run under it: J and L per epoch on the training set (solid) and validation
// (dashed); s = λ/2 (‖W1‖² + ‖W2‖²), which is orders of magnitude below J and would lie flat
// on J's axis; training and validation accuracy (or RMSE), the axis zoomed to the data.
// Non-finite values break a curve.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::train::sgd::{EpochStats, Metric};

/// Size of the whole picture in pixels.
const SIZE: (u32, u32) = (960, 900);
/// Width of the legend column right of each panel.
const LEGEND_WIDTH: i32 = 230;

const J_COLOR: RGBColor = RGBColor(31, 119, 180);
const L_COLOR: RGBColor = RGBColor(214, 39, 40);
const S_COLOR: RGBColor = RGBColor(44, 160, 44);
const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const VAL_COLOR: RGBColor = RGBColor(255, 127, 14);

/// One named curve: (epoch, value) points, possibly non-finite.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    dashed: bool,
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
    ];
    let penalty = vec![series(
        "s = λ/2 (‖W1‖² + ‖W2‖²)",
        epochs(&|e| e.train.s),
        S_COLOR,
        false,
    )];
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

    let (metric_name, bounds) = match history[0].train_metric {
        Metric::Accuracy(_) => ("accuracy", (0.0, 1.0)),
        Metric::Rmse(_) => ("RMSE", (0.0, f64::INFINITY)),
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
        let h = SIZE.1 as i32;
        let (top, rest) = root.split_vertically(h * 9 / 20);
        let (middle, bottom) = rest.split_vertically(h * 5 / 20);
        let y_obj = data_range(&objective, Some(0.0));
        panel(&top, &objective, x_range, y_obj, "objective")?;
        let y_s = data_range(&penalty, Some(0.0));
        panel(&middle, &penalty, x_range, y_s, "s")?;
        // Zoomed to the data (97% to 99% is not a flat line at the top of 0..1), within
        // the metric's own bounds.
        let (lo, hi) = data_range(&metric, None);
        let y_metric = (lo.max(bounds.0), hi.min(bounds.1));
        let y_metric = if y_metric.1 > y_metric.0 {
            y_metric
        } else {
            (lo, hi)
        };
        panel(&bottom, &metric, x_range, y_metric, metric_name)?;
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
    whole: &DrawingArea<SVGBackend<'_>, Shift>,
    all: &[Series],
    x: (f64, f64),
    y: (f64, f64),
    y_desc: &str,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<_>| e.to_string();
    let width = whole.dim_in_pixel().0 as i32;
    let (area, legend) = whole.split_horizontally(width - LEGEND_WIDTH);
    let mut chart = ChartBuilder::on(&area)
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

    for (k, s) in all.iter().enumerate() {
        let style = s.color.stroke_width(2);
        // The legend entry, in the column right of the chart, whatever the data.
        let y_at = 24 + 22 * k as i32;
        let (a, b) = if s.dashed {
            ((4, 12), (16, 24))
        } else {
            ((4, 24), (4, 24))
        };
        legend
            .draw(&PathElement::new(vec![(a.0, y_at), (a.1, y_at)], style))
            .map_err(err)?;
        legend
            .draw(&PathElement::new(vec![(b.0, y_at), (b.1, y_at)], style))
            .map_err(err)?;
        legend
            .draw(&Text::new(
                s.name.clone(),
                (32, y_at - 7),
                ("sans-serif", 15).into_font().color(&BLACK),
            ))
            .map_err(err)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Objective;

    fn history() -> Vec<EpochStats> {
        (1..=30)
            .map(|e| {
                let t = e as f64 / 30.0;
                let o = Objective {
                    l: 2.0 * (1.0 - t) + 0.1,
                    s: 1e-4 * (1.0 + t),
                    j: 2.0 * (1.0 - t) + 0.1 + 1e-4 * (1.0 + t),
                };
                EpochStats {
                    epoch: e,
                    lr: 0.1,
                    train: o,
                    train_metric: Metric::Accuracy(0.9 + 0.09 * t),
                    val: Some((o, Metric::Accuracy(0.88 + 0.08 * t))),
                    grad_norm_w1: 1.0,
                    grad_norm_w2: 1.0,
                    seconds: 1.0,
                }
            })
            .collect()
    }

    /// The (x, y) pixels of every polyline of `color` with more than two points.
    fn curves(svg: &str, color: &str) -> Vec<Vec<(f64, f64)>> {
        svg.lines()
            .filter(|l| l.starts_with("<polyline") && l.contains(&format!("stroke=\"{color}\"")))
            .filter_map(|l| l.split("points=\"").nth(1)?.split('"').next())
            .map(|pts| {
                pts.split_whitespace()
                    .filter_map(|p| {
                        let (x, y) = p.split_once(',')?;
                        Some((x.parse().ok()?, y.parse().ok()?))
                    })
                    .collect::<Vec<(f64, f64)>>()
            })
            .filter(|c| c.len() > 2)
            .collect()
    }

    fn y_span(c: &[(f64, f64)]) -> f64 {
        let (lo, hi) = c.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
        hi - lo
    }

    #[test]
    fn s_has_its_own_scale_and_accuracy_zooms_to_the_data() {
        let svg = curves_svg(&history(), "t").unwrap();
        // s is 1e-4 against J's 2: on J's axis it would lie flat (under a pixel).
        let s = curves(&svg, "#2CA02C");
        assert_eq!(s.len(), 1, "one s curve");
        assert!(y_span(&s[0]) > 50.0, "s spans {} px", y_span(&s[0]));
        // The accuracy curves (bottom panel) rise 0.09: zoomed, that is most of the panel.
        let bottom = SIZE.1 as f64 * 14.0 / 20.0;
        let acc: Vec<_> = curves(&svg, "#1F77B4")
            .into_iter()
            .filter(|c| c.iter().all(|p| p.1 > bottom))
            .collect();
        assert_eq!(acc.len(), 1, "one train accuracy curve");
        assert!(
            y_span(&acc[0]) > 100.0,
            "accuracy spans {} px",
            y_span(&acc[0])
        );
    }

    #[test]
    fn legends_sit_right_of_every_curve() {
        let svg = curves_svg(&history(), "t").unwrap();
        let rightmost = ["#1F77B4", "#D62728", "#2CA02C", "#FF7F0E"]
            .iter()
            .flat_map(|c| curves(&svg, c))
            .flatten()
            .map(|p| p.0)
            .fold(f64::MIN, f64::max);
        let mut labels = 0;
        let lines: Vec<&str> = svg.lines().collect();
        for (k, l) in lines.iter().enumerate() {
            let name = lines.get(k + 1).copied().unwrap_or("");
            if l.starts_with("<text")
                && ["(train)", "(val)", "s = ", "accuracy"]
                    .iter()
                    .any(|n| name.contains(n))
                && !l.contains("rotate")
            {
                let x: f64 = l
                    .split("x=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(
                    x > rightmost,
                    "legend {name:?} at x {x}, a curve reaches {rightmost}"
                );
                labels += 1;
            }
        }
        assert_eq!(labels, 7, "J, L train and val, s, train and val accuracy");
    }
}
