//! Training curves as an SVG string (plotters' SVG backend: no system libraries, no fonts) and
//! a one-line unicode sparkline for the terminal summary.
//
// Three panels, each with its own y scale and its legend in a column to its right, where no
// curve can run under it: J and L per epoch on the training set (solid) and validation
// (dashed); s = λ/2 (‖W1‖² + ‖W2‖²), which is orders of magnitude below J and would lie flat
// on J's axis; training and validation accuracy (or RMSE), the axis zoomed to the data.
// Non-finite values break a curve.

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::train::sgd::{EpochStats, Metric};

/// Size of the whole picture in pixels.
const SIZE: (u32, u32) = (960, 900);
/// Width of the legend column right of each panel.
const LEGEND_WIDTH: i32 = 230;

const J_COLOR: RGBColor = RGBColor(31, 119, 180);
const L_COLOR: RGBColor = RGBColor(214, 39, 40);
/// s is context beside J and L: a muted tone, in a small panel of its own.
const S_COLOR: RGBColor = RGBColor(123, 135, 148);
/// Tick labels and axis names: plotters draws a size-n font n / 1.24 px high, so 14 is 11.3 px.
const LABEL_FONT: u32 = 14;
const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const VAL_COLOR: RGBColor = RGBColor(255, 127, 14);

/// One named curve: (epoch, value) points, possibly non-finite.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    dashed: bool,
    /// Drawn as a wide pale band under the other curves (J under L: J = L + s, with s
    /// often a hair, would hide L's line or be hidden by it).
    halo: bool,
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

    let halo = |s: Series| Series { halo: true, ..s };
    let mut objective = vec![
        halo(series("J (train)", epochs(&|e| e.train.j), J_COLOR, false)),
        series("L (train)", epochs(&|e| e.train.l), L_COLOR, false),
    ];
    let penalty = vec![series(
        "s = λ/2 (‖W1‖² + ‖W2‖²)",
        epochs(&|e| e.train.s),
        S_COLOR,
        false,
    )];
    if has_val {
        objective.push(halo(series(
            "J (val)",
            epochs(&|e| val_of(e, &|o| o.j)),
            J_COLOR,
            true,
        )));
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
        // The objective gets the most room, s (context) the least.
        let (top, rest) = root.split_vertically(h * 10 / 20);
        let (middle, bottom) = rest.split_vertically(h * 4 / 20);
        // A loss falling over more than a decade is drawn on a log axis, where the first
        // epochs do not flatten the rest.
        let values = objective.iter().flat_map(|s| s.points.iter().map(|p| p.1));
        if crate::show::html::log_worthy(values) {
            let (lo, hi) = positive_range(&objective);
            panel(
                &top,
                &objective,
                x_range,
                (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
                "objective (log scale)",
                &|v: &f64| log_label(*v),
                LOG_LABELS,
            )?;
        } else {
            let y_obj = data_range(&objective, Some(0.0));
            panel(
                &top,
                &objective,
                x_range,
                y_obj.0..y_obj.1,
                "objective",
                &linear_labels(y_obj),
                Y_LABELS,
            )?;
        }
        let y_s = data_range(&penalty, Some(0.0));
        panel(
            &middle,
            &penalty,
            x_range,
            y_s.0..y_s.1,
            "s",
            &linear_labels(y_s),
            Y_LABELS,
        )?;
        // Zoomed to the data (97% to 99% is not a flat line at the top of 0..1), within
        // the metric's own bounds.
        let (lo, hi) = data_range(&metric, None);
        let y_metric = (lo.max(bounds.0), hi.min(bounds.1));
        let y_metric = if y_metric.1 > y_metric.0 {
            y_metric
        } else {
            (lo, hi)
        };
        panel(
            &bottom,
            &metric,
            x_range,
            y_metric.0..y_metric.1,
            metric_name,
            &linear_labels(y_metric),
            Y_LABELS,
        )?;
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
        halo: false,
    }
}

/// How many tick labels a linear axis gets at most.
const Y_LABELS: usize = 8;
/// A log axis's ticks are given (`log_ticks`): all of them labelled.
const LOG_LABELS: usize = 40;

/// Tick labels for a linear axis over `y`: plotters puts at most [`Y_LABELS`] ticks on it,
/// so they are at least span / 8 apart, and labels precise to span / 10 never repeat
/// (`3.442e-3`, `3.444e-3`, not `3.44e-3` twice).
fn linear_labels(y: (f64, f64)) -> impl Fn(&f64) -> String {
    let step = ((y.1 - y.0) / 10.0).abs();
    move |v: &f64| {
        let step = if step > 0.0 { step } else { 1.0 };
        // Labels of ticks a step apart, as the report writes them.
        crate::show::html::tick_labels(&[*v], step).remove(0)
    }
}

/// The ticks of a log axis over [lo, hi]: 1, 2 and 5 × 10^k (only the powers of ten when
/// the range spans more than three decades).
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let mantissas: &[f64] = if b - a > 3 { &[1.0] } else { &[1.0, 2.0, 5.0] };
    (a..=b)
        .flat_map(|k| mantissas.iter().map(move |m| m * 10f64.powi(k)))
        .filter(|v| (lo..=hi).contains(v))
        .collect()
}

/// A log axis's label: 0.01, 0.5, 20, 1e6.
fn log_label(v: f64) -> String {
    if !(1e-4..1e6).contains(&v) {
        return format!("{v:.0e}");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// The range of the positive finite values (for a log axis), padded by 5 % in log space.
fn positive_range(all: &[Series]) -> (f64, f64) {
    let (lo, hi) = all
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !(lo.is_finite() && hi > lo) {
        return (1e-3, 1.0);
    }
    let pad = (hi / lo).powf(0.05);
    (lo / pad, hi * pad)
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

/// One chart: mesh with labelled axes, each series as its finite runs (halos first, under
/// the others), a legend. `y` is a linear range or a log one.
fn panel<Y>(
    whole: &DrawingArea<SVGBackend<'_>, Shift>,
    all: &[Series],
    x: (f64, f64),
    y: Y,
    y_desc: &str,
    y_fmt: &dyn Fn(&f64) -> String,
    y_labels: usize,
) -> Result<(), String>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let err = |e: DrawingAreaErrorKind<_>| e.to_string();
    let width = whole.dim_in_pixel().0 as i32;
    let (area, legend) = whole.split_horizontally(width - LEGEND_WIDTH);
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(84)
        .build_cartesian_2d(x.0..x.1, y)
        .map_err(err)?;
    // Epochs are whole numbers: no tick labels between them.
    let whole = |v: &f64| {
        if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_desc)
        .y_labels(y_labels)
        .x_label_formatter(&whole)
        .y_label_formatter(&y_fmt)
        .label_style(("sans-serif", LABEL_FONT))
        .axis_desc_style(("sans-serif", LABEL_FONT))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;

    let order: Vec<(usize, &Series)> = all
        .iter()
        .enumerate()
        .filter(|(_, s)| s.halo)
        .chain(all.iter().enumerate().filter(|(_, s)| !s.halo))
        .collect();
    for (k, s) in order {
        let style = if s.halo {
            s.color.mix(0.35).stroke_width(7)
        } else {
            s.color.stroke_width(2)
        };
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

/// `name  ▇▅▃▂▁…` as the summary prints it: on a log scale (and said so) when the values
/// span more than a decade, as the plots draw them, so that the first epochs do not flatten
/// the rest.
pub fn sparkline_line(name: &str, values: &[f64]) -> String {
    if crate::show::html::log_worthy(values.iter().copied()) {
        let logs: Vec<f64> = values.iter().map(|v| v.log10()).collect();
        format!("{name}  {}  (log scale)\n", sparkline(&logs))
    } else {
        format!("{name}  {}\n", sparkline(values))
    }
}

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
        let s = curves(&svg, "#7B8794");
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
        let rightmost = ["#1F77B4", "#D62728", "#7B8794", "#FF7F0E"]
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

    /// The `font-size` of every text in `svg`.
    fn font_sizes(svg: &str) -> Vec<f64> {
        svg.split("font-size=\"")
            .skip(1)
            .filter_map(|t| t.split('"').next()?.parse().ok())
            .collect()
    }

    #[test]
    fn tick_labels_are_at_least_11_px() {
        let svg = curves_svg(&history(), "t").unwrap();
        let sizes = font_sizes(&svg);
        assert!(sizes.len() > 20, "{} texts", sizes.len());
        assert!(sizes.iter().all(|&s| s >= 11.0), "{sizes:?}");
    }

    #[test]
    fn j_is_a_pale_band_under_l() {
        let svg = curves_svg(&history(), "t").unwrap();
        let lines: Vec<&str> = svg.lines().filter(|l| l.starts_with("<polyline")).collect();
        let j = lines
            .iter()
            .position(|l| l.contains("#1F77B4") && l.contains("stroke-width=\"7\""))
            .expect("J drawn 7 px wide");
        assert!(lines[j].contains("opacity=\"0.35"), "{}", lines[j]);
        let l = lines
            .iter()
            .position(|l| l.contains("#D62728") && l.contains("stroke-width=\"2\""))
            .expect("L drawn 2 px wide");
        assert!(j < l, "J drawn first, under L");
    }

    #[test]
    fn linear_tick_labels_differ_on_a_narrow_range() {
        // J between 3.430e-3 and 3.445e-3: 3.44e-3 three times before.
        let f = linear_labels((3.430e-3, 3.445e-3));
        let labels: Vec<String> = (0..8).map(|k| f(&(3.430e-3 + 2e-6 * k as f64))).collect();
        let mut unique = labels.clone();
        unique.dedup();
        assert_eq!(unique, labels, "{labels:?}");
    }

    #[test]
    fn a_loss_over_decades_gets_a_log_axis_and_a_log_sparkline() {
        let mut h = history();
        for (k, e) in h.iter_mut().enumerate() {
            let l = 1000.0 * 0.7f64.powi(k as i32);
            e.train.l = l;
            e.train.j = l + e.train.s;
            e.val = None;
        }
        let svg = curves_svg(&h, "t").unwrap();
        assert!(svg.contains("objective (log scale)"), "no log axis");
        // Within a decade (3 down to 1): linear.
        let mut within = history();
        for (k, e) in within.iter_mut().enumerate() {
            e.train.l = 3.0 - 2.0 * k as f64 / 29.0;
            e.train.j = e.train.l + e.train.s;
            e.val = None;
        }
        assert!(!curves_svg(&within, "t").unwrap().contains("log scale"));
        let j: Vec<f64> = h.iter().map(|e| e.train.j).collect();
        let line = sparkline_line("J per epoch", &j);
        assert!(line.ends_with("(log scale)\n"), "{line}");
        // Evenly falling on a log scale: every step of the bars is small, not one cliff.
        assert_eq!(
            sparkline(&j.iter().map(|v| v.log10()).collect::<Vec<_>>())
                .chars()
                .next(),
            Some('█')
        );
        assert!(!sparkline_line("J", &[3.0, 2.0, 1.0]).contains("log"));
    }
}
