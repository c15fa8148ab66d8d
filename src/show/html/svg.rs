//! Inline SVG drawn by hand for the report: line charts over epochs (a second axis for s),
//! predicted-against-actual and residual scatters, and the chapter's computation graph.
//
// No xmlns attribute and no url() references: inline SVG in HTML needs neither, and the page
// must name nothing outside itself. Arrowheads are drawn as polygons for the same reason.

use std::fmt::Write;

use super::{esc, Chart, Graph, Stroke};

pub(super) const AXIS: &str = "#52606d";
pub(super) const GRID: &str = "#e4e7eb";
pub(super) const POINT: &str = "#2563eb";
/// The right-hand axis (s): present, but quieter than the left one.
const MUTED: &str = "#9aa5b1";
const CHAR_W: f64 = 6.6;

/// Tick positions at 1, 2 or 5 × 10^k covering [lo, hi], about `n` of them.
pub(super) fn ticks(lo: f64, hi: f64, n: usize) -> (Vec<f64>, f64) {
    let span = (hi - lo).abs().max(f64::MIN_POSITIVE);
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).floor() * step;
    let mut t = Vec::new();
    let mut k = 0;
    while k < 100 {
        let v = first + k as f64 * step;
        t.push(v);
        if v >= hi - step * 1e-9 {
            break;
        }
        k += 1;
    }
    (t, step)
}

/// A tick's label, precise enough that ticks `step` apart never share one: in scientific
/// notation the mantissa keeps the digits down to the step's (3.442e-3 and 3.444e-3 for a
/// step of 2e-6, not 3.44e-3 twice).
pub(super) fn tick_text(v: f64, step: f64) -> String {
    if step < 1e-4 || v.abs() >= 1e6 {
        if v == 0.0 {
            return "0".into();
        }
        let exp = |x: f64| x.abs().log10().floor();
        let digits = (exp(v) - exp(step)).clamp(0.0, 15.0) as usize;
        return format!("{v:.digits$e}");
    }
    let d = (-step.log10().floor()).max(0.0) as usize;
    let s = format!("{v:.d$}");
    if s == "-0" || s.starts_with("-0.") && s.trim_start_matches(['-', '0', '.']).is_empty() {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

/// The labels of ticks `step` apart, as [`tick_text`] writes them (the plotters plot uses
/// them too).
pub fn tick_labels(ticks: &[f64], step: f64) -> Vec<String> {
    ticks.iter().map(|&t| tick_text(t, step)).collect()
}

/// Whether values (a loss over epochs) are better read on a log axis: all finite ones
/// positive and spanning more than a decade (max > 10 × min), so that the first epochs
/// would flatten the rest on a linear one.
pub fn log_worthy(values: impl Iterator<Item = f64>) -> bool {
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for v in values.filter(|v| v.is_finite()) {
        if v <= 0.0 {
            return false;
        }
        lo = lo.min(v);
        hi = hi.max(v);
    }
    lo.is_finite() && hi / lo > 10.0
}

/// A log axis over [lo, hi] (both > 0): ticks at the powers of ten (with 2 and 5 between
/// when fewer than three decades), as log10 values, and their labels.
fn log_ticks(lo: f64, hi: f64) -> (f64, f64, Vec<(f64, String)>) {
    let (a, b) = (
        lo.log10().floor(),
        hi.log10().ceil().max(lo.log10().floor() + 1.0),
    );
    let mut t = Vec::new();
    let fine = b - a < 3.0;
    let mut k = a;
    while k <= b && t.len() < 200 {
        for m in if fine {
            &[1.0, 2.0, 5.0][..]
        } else {
            &[1.0][..]
        } {
            let v = m * 10f64.powf(k);
            if k < b || *m == 1.0 {
                let text = if (-3.0..=5.0).contains(&k) {
                    let d = (-k).max(0.0) as usize;
                    format!("{v:.d$}")
                } else {
                    format!("{m}e{k}")
                };
                t.push((v.log10(), text));
            }
        }
        k += 1.0;
    }
    (a, b, t)
}

/// The finite range of values, widened when empty or flat.
pub(super) fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - pad, hi + pad);
    }
    (lo, hi)
}

/// A linear map from [a0, a1] to [b0, b1].
pub(super) fn scale(a0: f64, a1: f64, b0: f64, b1: f64) -> impl Fn(f64) -> f64 {
    move |v| b0 + (v - a0) / (a1 - a0) * (b1 - b0)
}

/// A line chart of `c`'s series, with a right-hand axis for the series marked `right`.
pub fn line_chart(c: &Chart) -> String {
    let (w, h) = (500.0, 320.0);
    let has_right = c.series.iter().any(|s| s.right);
    let (ml, mr, mb) = (64.0, if has_right { 64.0 } else { 18.0 }, 42.0);

    // Legend rows first: they set the top margin.
    let mut legend = Vec::new();
    let (mut lx, mut row) = (ml, 0);
    for s in &c.series {
        let label = if s.right {
            format!("{} (right axis)", s.name)
        } else {
            s.name.clone()
        };
        let width = 28.0 + CHAR_W * label.chars().count() as f64 + 14.0;
        if lx + width > w - mr && lx > ml {
            lx = ml;
            row += 1;
        }
        legend.push((lx, row, label, s));
        lx += width;
    }
    let mt = 16.0 + 18.0 * (row + 1) as f64;
    let (x0, x1, y0, y1) = (ml, w - mr, h - mb, mt);

    let xs = c.series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (xa, xb) = range(xs);
    // Epochs: the axis ends at the last one, not at the next round number.
    let (xt, xstep) = ticks(xa, xb, 6);
    let x_of = scale(xa, xb, x0, x1);

    let axis_ticks = |right: bool, fixed: Option<(f64, f64)>| {
        let (lo, hi) = fixed.unwrap_or_else(|| {
            range(
                c.series
                    .iter()
                    .filter(|s| s.right == right)
                    .flat_map(|s| s.points.iter().map(|p| p.1)),
            )
        });
        let (t, step) = ticks(lo, hi, 5);
        let (lo, hi) = (t[0].min(lo), t.last().copied().unwrap_or(hi).max(hi));
        (lo, hi, t, step)
    };
    // A log axis: values are drawn as log10 of themselves, ticks at powers of ten.
    let log_y = c.log_y
        && log_worthy(
            c.series
                .iter()
                .filter(|s| !s.right)
                .flat_map(|s| s.points.iter().map(|p| p.1)),
        );
    let left_ticks: Vec<(f64, String)>;
    let (la, lb) = if log_y {
        let (lo, hi) = range(
            c.series
                .iter()
                .filter(|s| !s.right)
                .flat_map(|s| s.points.iter().map(|p| p.1))
                .filter(|v| *v > 0.0),
        );
        let (_, _, t) = log_ticks(lo, hi);
        left_ticks = t;
        // The data's own span (padded), not whole decades: no empty band above or below.
        let (a, b) = (lo.log10(), hi.log10());
        let pad = 0.03 * (b - a);
        (a - pad, b + pad)
    } else {
        let (la, lb, lt, lstep) = axis_ticks(false, c.y_range);
        left_ticks = lt.iter().map(|&t| (t, tick_text(t, lstep))).collect();
        (la, lb)
    };
    let left = move |v: f64| if log_y { v.log10() } else { v };
    let yl = scale(la, lb, y0, y1);

    let mut out = String::new();
    let _ = write!(
        out,
        "<svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        esc(&c.title)
    );
    let _ = write!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>"
    );
    // Grid and left axis.
    for (t, text) in left_ticks.iter().filter(|t| (la..=lb).contains(&t.0)) {
        let y = yl(*t);
        let _ = write!(
            out,
            "<line x1=\"{x0}\" y1=\"{y:.1}\" x2=\"{x1}\" y2=\"{y:.1}\" stroke=\"{GRID}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"{AXIS}\">{}</text>",
            x0 - 6.0,
            y + 4.0,
            text
        );
    }
    for &t in xt.iter().filter(|t| (xa..=xb).contains(*t)) {
        let x = x_of(t);
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{y0}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"{AXIS}\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{AXIS}\">{}</text>",
            y0 + 4.0,
            y0 + 16.0,
            tick_text(t, xstep)
        );
    }
    let _ = write!(
        out,
        "<rect x=\"{x0}\" y=\"{y1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"{AXIS}\"/>",
        x1 - x0,
        y0 - y1
    );
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"{AXIS}\">epoch</text>",
        (x0 + x1) / 2.0,
        h - 8.0
    );
    let _ = write!(
        out,
        "<text transform=\"translate(14 {:.1}) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\" \
         fill=\"{AXIS}\">{}</text>",
        (y0 + y1) / 2.0,
        esc(&if log_y {
            format!("{} (log scale)", c.y_label)
        } else {
            c.y_label.clone()
        })
    );
    let right_axis = has_right.then(|| axis_ticks(true, None));
    if let Some((ra, rb, rt, rstep)) = &right_axis {
        let yr = scale(*ra, *rb, y0, y1);
        for &t in rt.iter().filter(|t| (*ra..=*rb).contains(*t)) {
            let _ = write!(
                out,
                "<line x1=\"{x1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{AXIS}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"{MUTED}\">{}</text>",
                x1 + 4.0,
                x1 + 6.0,
                yr(t) + 4.0,
                tick_text(t, *rstep),
                y = yr(t)
            );
        }
        if let Some(label) = &c.right_label {
            let _ = write!(
                out,
                "<text transform=\"translate({:.1} {:.1}) rotate(90)\" font-size=\"12\" \
                 text-anchor=\"middle\" fill=\"{MUTED}\">{}</text>",
                w - 12.0,
                (y0 + y1) / 2.0,
                esc(label)
            );
        }
    }
    if let Some((x, label)) = &c.marker {
        if x.is_finite() {
            let xm = x_of(*x);
            // The label on the side of the line that has room for it.
            let room = xm + 8.0 + CHAR_W * label.chars().count() as f64 <= x1;
            let (lx, anchor) = if room {
                (xm + 4.0, "start")
            } else {
                (xm - 4.0, "end")
            };
            let _ =
                write!(
                out,
                "<line x1=\"{xm:.1}\" y1=\"{y0}\" x2=\"{xm:.1}\" y2=\"{y1}\" stroke=\"#7b8794\" \
                 stroke-dasharray=\"3 3\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" \
                 text-anchor=\"{anchor}\" fill=\"#3e4c59\">{}</text>",
                lx,
                // Falling curves (losses) leave the top free, rising ones (accuracy) the bottom.
                if c.y_range.is_some() { y0 - 6.0 } else { y1 + 13.0 },
                esc(label)
            );
        }
    }
    // The curves, broken at non-finite values: halos first, under every line.
    let order = c
        .series
        .iter()
        .filter(|s| s.stroke == Stroke::Halo)
        .chain(c.series.iter().filter(|s| s.stroke != Stroke::Halo));
    for s in order {
        let y_of: Box<dyn Fn(f64) -> f64> = match (&right_axis, s.right) {
            (Some((ra, rb, _, _)), true) => Box::new(scale(*ra, *rb, y0, y1)),
            _ => {
                let yl = scale(la, lb, y0, y1);
                Box::new(move |v| yl(left(v)))
            }
        };
        let dash = stroke_attrs(s);
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for &(x, y) in &s.points {
            if x.is_finite() && y.is_finite() && !(log_y && !s.right && y <= 0.0) {
                // Clip to the plot so a wild value cannot draw over the page.
                let yy = y_of(y).clamp(y1 - 2.0, y0 + 2.0);
                if let Some(r) = runs.last_mut() {
                    r.push((x_of(x), yy));
                }
            } else if runs.last().is_some_and(|r| !r.is_empty()) {
                runs.push(Vec::new());
            }
        }
        for r in runs.iter().filter(|r| !r.is_empty()) {
            if r.len() == 1 {
                let _ = write!(
                    out,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"/>",
                    r[0].0, r[0].1, s.color
                );
                continue;
            }
            let pts: Vec<String> = r.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let _ = write!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\"{dash} \
                 stroke-linejoin=\"round\"/>",
                pts.join(" "),
                s.color
            );
        }
    }
    for (lx, row, label, s) in &legend {
        let ly = 14.0 + 18.0 * *row as f64;
        let dash = stroke_attrs(s);
        let _ = write!(
            out,
            "<line x1=\"{lx:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{}\"\
             {dash}/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" \
             fill=\"#1f2933\">{}</text>",
            lx + 22.0,
            s.color,
            lx + 28.0,
            ly + 4.0,
            esc(label)
        );
    }
    out.push_str("</svg>");
    out
}

/// The stroke attributes of a curve (and its legend entry): width, opacity, dashes.
fn stroke_attrs(s: &super::Series) -> String {
    let (width, opacity) = match s.stroke {
        Stroke::Line => (2.0, 1.0),
        Stroke::Halo => (7.0, 0.35),
        Stroke::Faint => (1.5, 0.8),
    };
    let mut a = format!(" stroke-width=\"{width}\"");
    if opacity < 1.0 {
        let _ = write!(a, " stroke-opacity=\"{opacity}\"");
    }
    if s.dashed {
        let dash = if s.stroke == Stroke::Halo {
            "12 6"
        } else {
            "6 4"
        };
        let _ = write!(a, " stroke-dasharray=\"{dash}\"");
    }
    a
}

/// Predicted against actual (`residual` false: with the diagonal y = x, both axes on one
/// scale) or the residual actual − predicted against predicted (with the line 0).
pub fn scatter(points: &[(f64, f64)], name: &str, residual: bool) -> String {
    let (w, h) = (400.0, 380.0);
    let (ml, mr, mt, mb) = (66.0, 16.0, 14.0, 44.0);
    let (x0, x1, y0, y1) = (ml, w - mr, h - mb, mt);
    // At most 3000 points, evenly spaced, so that a big file gives a small page.
    let stride = points.len().div_ceil(3000).max(1);
    let pts: Vec<(f64, f64)> = points
        .iter()
        .step_by(stride)
        .map(|&(a, p)| if residual { (p, a - p) } else { (a, p) })
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let (xa, xb, ya, yb) = if residual {
        let (xa, xb) = range(pts.iter().map(|p| p.0));
        let m = pts.iter().map(|p| p.1.abs()).fold(0.0, f64::max);
        let m = if m > 0.0 { m } else { 1.0 };
        (xa, xb, -m, m)
    } else {
        let (a, b) = range(pts.iter().flat_map(|p| [p.0, p.1]));
        (a, b, a, b)
    };
    let (xt, xs) = ticks(xa, xb, 5);
    let (yt, ys) = ticks(ya, yb, 5);
    let (xa, xb) = (xa.min(xt[0]), xb.max(*xt.last().unwrap_or(&xb)));
    let (ya, yb) = (ya.min(yt[0]), yb.max(*yt.last().unwrap_or(&yb)));
    let (xa, xb, ya, yb) = if residual {
        (xa, xb, ya, yb)
    } else {
        (xa.min(ya), xb.max(yb), xa.min(ya), xb.max(yb))
    };
    let x_of = scale(xa, xb, x0, x1);
    let y_of = scale(ya, yb, y0, y1);
    let (x_label, y_label) = if residual {
        (
            format!("predicted {name}"),
            "actual − predicted".to_string(),
        )
    } else {
        (format!("actual {name}"), format!("predicted {name}"))
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">\
         <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>",
        esc(&y_label)
    );
    for &t in yt.iter().filter(|t| (ya..=yb).contains(*t)) {
        let _ = write!(
            out,
            "<line x1=\"{x0}\" y1=\"{y:.1}\" x2=\"{x1}\" y2=\"{y:.1}\" stroke=\"{GRID}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"{AXIS}\">{}</text>",
            x0 - 6.0,
            y_of(t) + 4.0,
            tick_text(t, ys),
            y = y_of(t)
        );
    }
    for &t in xt.iter().filter(|t| (xa..=xb).contains(*t)) {
        let x = x_of(t);
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{y0}\" x2=\"{x:.1}\" y2=\"{y1}\" stroke=\"{GRID}\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{AXIS}\">{}</text>",
            y0 + 16.0,
            tick_text(t, xs)
        );
    }
    let _ = write!(
        out,
        "<rect x=\"{x0}\" y=\"{y1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"{AXIS}\"/>",
        x1 - x0,
        y0 - y1
    );
    // The reference line: y = x, or residual 0.
    let (ra, rb) = if residual {
        ((xa, 0.0), (xb, 0.0))
    } else {
        ((xa, xa), (xb, xb))
    };
    let _ = write!(
        out,
        "<line class=\"reference\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" \
         stroke=\"#dc2626\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>",
        x_of(ra.0),
        y_of(ra.1),
        x_of(rb.0),
        y_of(rb.1)
    );
    for (x, y) in &pts {
        let _ = write!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.6\" fill=\"{POINT}\" fill-opacity=\"0.5\"/>",
            x_of(*x),
            y_of(*y)
        );
    }
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"{AXIS}\">{}</text>\
         <text transform=\"translate(14 {:.1}) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\" \
         fill=\"{AXIS}\">{}</text></svg>",
        (x0 + x1) / 2.0,
        h - 8.0,
        esc(&x_label),
        (y0 + y1) / 2.0,
        esc(&y_label)
    );
    out
}

/// How a node of the graph is drawn.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Circle,
    Box,
    Bare,
}

struct Node {
    id: &'static str,
    shape: Shape,
    x: f64,
    y: f64,
    lines: [String; 2],
}

impl Node {
    /// Half width and half height of the node's outline.
    fn half(&self) -> (f64, f64) {
        let chars = self
            .lines
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(1);
        match self.shape {
            Shape::Circle => {
                let r = (CHAR_W * 0.9 * chars as f64 / 2.0 + 6.0).max(28.0);
                (r, r)
            }
            Shape::Box => (CHAR_W * 1.05 * chars as f64 / 2.0 + 10.0, 22.0),
            Shape::Bare => (CHAR_W * chars as f64 / 2.0 + 4.0, 18.0),
        }
    }

    /// Where the segment from the centre towards (tx, ty) leaves the outline.
    fn exit(&self, tx: f64, ty: f64) -> (f64, f64) {
        let (dx, dy) = (tx - self.x, ty - self.y);
        let len = (dx * dx + dy * dy).sqrt().max(1e-9);
        let (hw, hh) = self.half();
        let t = match self.shape {
            Shape::Circle => hw / len,
            _ => {
                let tx = if dx.abs() > 1e-9 {
                    hw / dx.abs()
                } else {
                    f64::INFINITY
                };
                let ty = if dy.abs() > 1e-9 {
                    hh / dy.abs()
                } else {
                    f64::INFINITY
                };
                tx.min(ty)
            }
        };
        (self.x + dx * t.min(1.0), self.y + dy * t.min(1.0))
    }
}

/// The chapter's Figure 3.6 with the model's shapes, nodes and edges as in `crate::show::graph`.
pub fn graph(g: &Graph) -> String {
    let y_shape = if g.loss.starts_with("softmax") {
        format!("class of {}", g.q)
    } else {
        format!("({})", g.q)
    };
    let x_shape = if g.bias {
        format!("({} + 1 bias)", g.d.saturating_sub(1))
    } else {
        format!("({})", g.d)
    };
    let node = |id, shape, x, y, a: &str, b: String| Node {
        id,
        shape,
        x,
        y,
        lines: [a.to_string(), b],
    };
    let nodes = [
        node("x", Shape::Circle, 50.0, 190.0, "x", x_shape),
        node(
            "W1",
            Shape::Bare,
            175.0,
            82.0,
            "W1",
            format!("{}×{}", g.h, g.d),
        ),
        node(
            "z",
            Shape::Box,
            235.0,
            190.0,
            "z = W1 x",
            format!("({})", g.h),
        ),
        node(
            "h",
            Shape::Box,
            385.0,
            190.0,
            "h = φ(z)",
            format!("({}), φ = {}", g.h, g.activation),
        ),
        node(
            "W2",
            Shape::Bare,
            480.0,
            82.0,
            "W2",
            format!("{}×{}", g.q, g.h),
        ),
        node(
            "o",
            Shape::Box,
            545.0,
            190.0,
            "o = W2 h",
            format!("({})", g.q),
        ),
        node("y", Shape::Circle, 700.0, 292.0, "y", y_shape),
        node(
            "L",
            Shape::Box,
            700.0,
            190.0,
            "L = ℓ(o, y)",
            format!("ℓ = {}", g.loss),
        ),
        node(
            "s",
            Shape::Box,
            700.0,
            52.0,
            "s = λ/2 (‖W1‖² + ‖W2‖²)",
            "scalar".into(),
        ),
        node("J", Shape::Box, 865.0, 121.0, "J = L + s", "scalar".into()),
    ];
    let at = |id: &str| nodes.iter().find(|n| n.id == id);
    let (w, h) = (940.0, 336.0);
    let mut out = String::new();
    let caption = match g.batch {
        Some(b) => format!("one sample; minibatches of B = {b} average L over their rows"),
        None => "one sample".to_string(),
    };
    let _ = write!(
        out,
        "<svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" \
         aria-label=\"computation graph\"><rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" \
         fill=\"#fff\"/><text x=\"8\" y=\"{:.1}\" font-size=\"12\" fill=\"{AXIS}\">{}</text>",
        h - 8.0,
        esc(&caption)
    );
    for (from, to) in crate::show::graph::EDGES {
        let (Some(a), Some(b)) = (at(from), at(to)) else {
            continue;
        };
        // W1 → s bends over W2, which sits on the straight line.
        let control = (from == "W1" && to == "s").then_some((440.0, 4.0));
        let (cx, cy) = control.unwrap_or((b.x, b.y));
        let start = a.exit(control.map_or(b.x, |c| c.0), control.map_or(b.y, |c| c.1));
        let end = b.exit(control.map_or(a.x, |_| cx), control.map_or(a.y, |_| cy));
        match control {
            Some((cx, cy)) => {
                let _ = write!(
                    out,
                    "<path d=\"M{:.1} {:.1} Q{cx:.1} {cy:.1} {:.1} {:.1}\" fill=\"none\" \
                     stroke=\"{AXIS}\" stroke-width=\"1.4\"/>",
                    start.0, start.1, end.0, end.1
                );
            }
            None => {
                let _ = write!(
                    out,
                    "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{AXIS}\" \
                     stroke-width=\"1.4\"/>",
                    start.0, start.1, end.0, end.1
                );
            }
        }
        // The arrowhead along the last direction of travel.
        let (px, py) = control.unwrap_or(start);
        let (dx, dy) = (end.0 - px, end.1 - py);
        let len = (dx * dx + dy * dy).sqrt().max(1e-9);
        let (ux, uy) = (dx / len, dy / len);
        let (bx, by) = (end.0 - 9.0 * ux, end.1 - 9.0 * uy);
        let _ = write!(
            out,
            "<polygon points=\"{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\" fill=\"{AXIS}\"/>",
            end.0,
            end.1,
            bx - 4.0 * uy,
            by + 4.0 * ux,
            bx + 4.0 * uy,
            by - 4.0 * ux
        );
    }
    for n in &nodes {
        let (hw, hh) = n.half();
        match n.shape {
            Shape::Circle => {
                let _ = write!(
                    out,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"{hw}\" fill=\"#f5f7fa\" stroke=\"#1f2933\" \
                     stroke-width=\"1.4\"/>",
                    n.x, n.y
                );
            }
            Shape::Box => {
                let _ = write!(
                    out,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"4\" \
                     fill=\"#eff6ff\" stroke=\"#2563eb\" stroke-width=\"1.4\"/>",
                    n.x - hw,
                    n.y - hh,
                    2.0 * hw,
                    2.0 * hh
                );
            }
            Shape::Bare => {}
        }
        let weight = if n.shape == Shape::Bare {
            " font-weight=\"600\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<g class=\"node\" id=\"node-{}\"><text x=\"{}\" y=\"{:.1}\" font-size=\"13\" \
             text-anchor=\"middle\" fill=\"#1f2933\"{weight}>{}</text><text x=\"{}\" y=\"{:.1}\" \
             font-size=\"11\" text-anchor=\"middle\" fill=\"{AXIS}\">{}</text></g>",
            n.id,
            n.x,
            n.y - 2.0,
            esc(&n.lines[0]),
            n.x,
            n.y + 13.0,
            esc(&n.lines[1])
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let (t, step) = ticks(0.13, 0.87, 5);
        assert_eq!(step, 0.2);
        assert!(t[0] <= 0.13 && *t.last().unwrap() >= 0.87);
        assert_eq!(tick_text(0.4, 0.2), "0.4");
        assert_eq!(tick_text(-0.0, 0.2), "0.0");
        let (t, _) = ticks(1.0, 100.0, 5);
        assert_eq!(t, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
    }

    #[test]
    fn the_graph_has_every_node_and_edge() {
        let g = Graph {
            d: 5,
            h: 16,
            q: 3,
            bias: true,
            batch: Some(32),
            activation: "relu".into(),
            loss: "softmax-ce".into(),
        };
        let svg = graph(&g);
        for id in ["x", "W1", "z", "h", "W2", "o", "y", "L", "s", "J"] {
            assert!(svg.contains(&format!("id=\"node-{id}\"")), "{id}");
        }
        assert_eq!(
            svg.matches("<polygon").count(),
            crate::show::graph::EDGES.len(),
            "one arrowhead per edge"
        );
        assert!(svg.contains("16×5") && svg.contains("3×16") && svg.contains("(4 + 1 bias)"));
    }

    #[test]
    fn tick_labels_never_repeat_on_a_narrow_range() {
        for (lo, hi) in [
            (3.43e-3, 3.445e-3),
            (0.9981, 0.9993),
            (1.2345e7, 1.2347e7),
            (1e-9, 1.3e-9),
        ] {
            let (t, step) = ticks(lo, hi, 5);
            let labels = tick_labels(&t, step);
            let mut unique = labels.clone();
            unique.dedup();
            assert_eq!(unique, labels, "[{lo}, {hi}]");
        }
        assert_eq!(tick_text(3.442e-3, 2e-6), "3.442e-3");
    }

    fn chart(values: Vec<f64>, log_y: bool) -> Chart {
        let s = |name: &str, stroke, right| super::super::Series {
            name: name.into(),
            points: values
                .iter()
                .enumerate()
                .map(|(k, &v)| (k as f64 + 1.0, v))
                .collect(),
            color: "#123456",
            dashed: false,
            right,
            stroke,
        };
        Chart {
            title: "t".into(),
            series: vec![
                s("J", Stroke::Halo, false),
                s("L", Stroke::Line, false),
                s("s", Stroke::Faint, true),
            ],
            y_label: "J, L".into(),
            right_label: Some("s".into()),
            marker: None,
            y_range: None,
            log_y,
        }
    }

    #[test]
    fn halo_under_line_faint_s_and_a_log_axis_past_a_decade() {
        let falling: Vec<f64> = (0..50).map(|k| 1000.0 * 0.8f64.powi(k)).collect();
        let svg = line_chart(&chart(falling.clone(), true));
        assert!(svg.contains("J, L (log scale)"));
        let halo = svg.find("stroke-width=\"7\"").expect("a halo");
        let line = svg.find("stroke-width=\"2\"").expect("a line");
        assert!(halo < line, "the halo is drawn under the line");
        assert!(svg.contains("stroke-width=\"1.5\""), "s is thin");
        // Log ticks: powers of ten labelled once each.
        for t in ["1000", "100", "10", "1"] {
            assert!(svg.contains(&format!(">{t}</text>")), "tick {t}");
        }
        // Asked for, but the data spans less than a decade: linear.
        let flat: Vec<f64> = (0..50).map(|k| 2.0 - 0.01 * k as f64).collect();
        assert!(!line_chart(&chart(flat, true)).contains("log scale"));
        assert!(!line_chart(&chart(falling, false)).contains("log scale"));
    }
}
