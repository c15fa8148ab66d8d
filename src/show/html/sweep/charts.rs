//! The sweep page's charts: the score against one axis (log x for positive scales spanning a
//! decade), and the heatmap of the score over two axes, the best over the others.

use std::fmt::Write;

use super::{better, flags, scored};
use crate::show::html::svg::{range, scale, tick_text, ticks, AXIS, GRID, POINT};
use crate::show::html::{esc, num};
use crate::show::sweep::{SweepRow, SweepTable};

/// Distinct values an axis may have for the heatmap to draw it (a random search has one per
/// point, which a heatmap cannot show: the per-axis charts do).
const HEAT_MAX: usize = 30;
/// Distinct values up to which a chart ticks every value (as typed) rather than round numbers.
const TICK_EVERY: usize = 12;
const BEST: &str = "#dc2626";
const LINE: &str = "#1e3a8a";

/// How an axis places its values.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Kind {
    /// Values that are not all numbers (activation, init): evenly spaced, in plan order.
    Categories,
    Linear,
    /// Positive values spanning a decade or more, on log10; a 0 among them gets a place of
    /// its own left of the smallest positive value.
    Log {
        zero: bool,
    },
}

/// One axis: its distinct values (sorted by number when they all are numbers, else in plan
/// order) and how to place them.
pub(super) struct Axis {
    index: usize,
    pub(super) name: String,
    pub(super) values: Vec<String>,
    numbers: Option<Vec<f64>>,
    pub(super) kind: Kind,
}

impl Axis {
    pub(super) fn of(t: &SweepTable, index: usize) -> Axis {
        let mut values: Vec<String> = Vec::new();
        let mut points: Vec<&SweepRow> = t.rows.iter().collect();
        points.sort_by_key(|r| r.point);
        for r in points {
            if let Some(v) = r.values.get(index) {
                if !values.contains(v) {
                    values.push(v.clone());
                }
            }
        }
        let parsed: Option<Vec<f64>> = values
            .iter()
            .map(|v| v.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
            .collect();
        let (values, numbers, kind) = match parsed {
            Some(nums) if !nums.is_empty() => {
                let mut pairs: Vec<(f64, String)> = nums.into_iter().zip(values).collect();
                pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
                let (nums, values): (Vec<f64>, Vec<String>) = pairs.into_iter().unzip();
                let positive: Vec<f64> = nums.iter().copied().filter(|&x| x > 0.0).collect();
                let (lo, hi) = (
                    positive.first().copied().unwrap_or(1.0),
                    positive.last().copied().unwrap_or(1.0),
                );
                let log = nums.iter().all(|&x| x >= 0.0) && positive.len() >= 2 && hi / lo >= 10.0;
                let zero = nums.contains(&0.0);
                let kind = if log {
                    Kind::Log { zero }
                } else {
                    Kind::Linear
                };
                (values, Some(nums), kind)
            }
            _ => (values, None, Kind::Categories),
        };
        Axis {
            index,
            name: t.axes.get(index).cloned().unwrap_or_default(),
            values,
            numbers,
            kind,
        }
    }

    /// The position (in the axis' own units) of value number `k`.
    fn position(&self, k: usize) -> f64 {
        match (&self.kind, &self.numbers) {
            (Kind::Linear, Some(n)) => n[k],
            (Kind::Log { zero }, Some(n)) => {
                if n[k] > 0.0 {
                    n[k].log10()
                } else {
                    // One decade-and-a-half left of the smallest positive value.
                    let lo = n
                        .iter()
                        .copied()
                        .filter(|&x| x > 0.0)
                        .fold(f64::MAX, f64::min);
                    debug_assert!(*zero);
                    lo.log10() - 1.5
                }
            }
            _ => k as f64,
        }
    }

    fn index_of(&self, v: &str) -> Option<usize> {
        self.values.iter().position(|x| x == v)
    }
}

/// The score against one axis: every point as a dot, the best per value joined by a line.
pub(super) fn axis_chart(t: &SweepTable, axis: &Axis, best: Option<&SweepRow>) -> String {
    let (w, h) = (500.0, 300.0);
    let (ml, mr, mt, mb) = (64.0, 18.0, 16.0, 48.0);
    let (x0, x1, y0, y1) = (ml, w - mr, h - mb, mt);
    let points: Vec<(usize, f64, &SweepRow)> = t
        .rows
        .iter()
        .filter_map(|r| {
            let k = axis.index_of(r.values.get(axis.index)?)?;
            Some((k, scored(r)?, r))
        })
        .collect();
    let (sa, sb) = range(points.iter().map(|p| p.1));
    let (yt, ystep) = ticks(sa, sb, 5);
    let (ya, yb) = (yt[0].min(sa), yt.last().copied().unwrap_or(sb).max(sb));
    let y_of = scale(ya, yb, y0, y1);
    let positions: Vec<f64> = (0..axis.values.len()).map(|k| axis.position(k)).collect();
    let (xa, xb) = range(positions.iter().copied());
    // Categories and lone values sit inside the frame, not on its edges.
    let pad = if axis.kind == Kind::Categories || axis.values.len() < 2 {
        0.5
    } else {
        (xb - xa) * 0.04
    };
    let x_of = scale(xa - pad, xb + pad, x0, x1);

    let mut out = String::new();
    let _ = write!(
        out,
        "<svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" \
         aria-label=\"{} against --{}\" class=\"axis-chart\">\
         <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>",
        esc(&t.metric),
        esc(&axis.name)
    );
    for &v in yt.iter().filter(|v| (ya..=yb).contains(*v)) {
        let y = y_of(v);
        let _ = write!(
            out,
            "<line x1=\"{x0}\" y1=\"{y:.1}\" x2=\"{x1}\" y2=\"{y:.1}\" stroke=\"{GRID}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"{AXIS}\">{}</text>",
            x0 - 6.0,
            y + 4.0,
            tick_text(v, ystep)
        );
    }
    // x ticks: every value as typed when there are few, else round numbers (decades on log).
    let xticks: Vec<(f64, String)> = if axis.values.len() <= TICK_EVERY {
        positions
            .iter()
            .zip(&axis.values)
            .map(|(&x, v)| (x, short(v)))
            .collect()
    } else {
        match axis.kind {
            Kind::Log { zero } => {
                let (mut a, b) = (xa.ceil() as i32, xb.floor() as i32);
                let mut t = Vec::new();
                if zero {
                    t.push((positions[0], "0".to_string()));
                    a = a.max((positions[0] + 1.5).ceil() as i32);
                }
                // About eight decades labelled at most, however wide the range.
                let every = ((b - a) / 8 + 1).max(1) as usize;
                t.extend((a..=b).step_by(every).map(|e| (e as f64, format!("1e{e}"))));
                t
            }
            Kind::Linear => {
                let (v, step) = ticks(xa, xb, 6);
                v.into_iter()
                    .filter(|x| (xa..=xb).contains(x))
                    .map(|x| (x, tick_text(x, step)))
                    .collect()
            }
            Kind::Categories => positions
                .iter()
                .zip(&axis.values)
                .map(|(&x, v)| (x, short(v)))
                .collect(),
        }
    };
    for (x, label) in &xticks {
        let x = x_of(*x);
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{y0}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"{AXIS}\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{AXIS}\">{}</text>",
            y0 + 4.0,
            y0 + 16.0,
            esc(label)
        );
    }
    if let Kind::Log { zero: true } = axis.kind {
        // A break in the axis between 0 and the smallest positive value.
        let x = x_of(positions[0] + 0.75);
        let _ = write!(
            out,
            "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"{AXIS}\">//</text>",
            y0 + 4.0
        );
    }
    let _ = write!(
        out,
        "<rect x=\"{x0}\" y=\"{y1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"{AXIS}\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"{AXIS}\">--{}{}</text>\
         <text transform=\"translate(14 {:.1}) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\" \
         fill=\"{AXIS}\">{}</text>",
        x1 - x0,
        y0 - y1,
        (x0 + x1) / 2.0,
        h - 10.0,
        esc(&axis.name),
        if matches!(axis.kind, Kind::Log { .. }) {
            " (log)"
        } else {
            ""
        },
        (y0 + y1) / 2.0,
        esc(&t.metric)
    );
    // The best score at each value, joined in axis order.
    let mut best_at: Vec<Option<f64>> = vec![None; axis.values.len()];
    for &(k, s, _) in &points {
        if best_at[k].is_none_or(|b| better(t, s, b)) {
            best_at[k] = Some(s);
        }
    }
    let line: Vec<String> = best_at
        .iter()
        .enumerate()
        .filter_map(|(k, s)| s.map(|s| format!("{:.1},{:.1}", x_of(positions[k]), y_of(s))))
        .collect();
    if line.len() > 1 {
        let _ = write!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{LINE}\" stroke-width=\"1.6\"/>",
            line.join(" ")
        );
    }
    for &(k, s, r) in &points {
        let is_best = best.is_some_and(|b| b.point == r.point);
        let (fill, radius) = if is_best { (BEST, 5.5) } else { (POINT, 3.5) };
        let _ = write!(
            out,
            "<circle class=\"{}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{radius}\" fill=\"{fill}\" \
             fill-opacity=\"{}\"><title>point {}: {}, {} = {}</title></circle>",
            if is_best { "best" } else { "point" },
            x_of(positions[k]),
            y_of(s),
            if is_best { "1" } else { "0.55" },
            r.point,
            esc(&flags(t, r)),
            esc(&t.metric),
            num(s)
        );
    }
    out.push_str("</svg>");
    out
}

/// A value cut for a tick label.
fn short(v: &str) -> String {
    const MAX: usize = 12;
    if v.chars().count() > MAX {
        let mut s: String = v.chars().take(MAX - 1).collect();
        s.push('…');
        s
    } else {
        v.to_string()
    }
}

/// The best score for each pair of values of the first two axes that vary, over the others.
pub(super) fn heatmap_section(out: &mut String, t: &SweepTable) {
    let axes: Vec<Axis> = (0..t.axes.len())
        .map(|i| Axis::of(t, i))
        .filter(|a| a.values.len() > 1)
        .take(2)
        .collect();
    let [a, b] = &axes[..] else {
        return;
    };
    let _ = writeln!(
        out,
        "<section id=\"heatmap\">\n<h2>{} over --{} and --{}</h2>",
        esc(&t.metric),
        esc(&a.name),
        esc(&b.name)
    );
    if a.values.len() > HEAT_MAX || b.values.len() > HEAT_MAX {
        let _ = writeln!(
            out,
            "<p class=\"muted\">No heatmap: --{} has {} values and --{} {} (a random search), \
             more than the {HEAT_MAX} a heatmap can show; the charts above show every point.</p>\n\
             </section>",
            esc(&a.name),
            a.values.len(),
            esc(&b.name),
            b.values.len()
        );
        return;
    }
    let mut cell: Vec<Vec<Option<f64>>> = vec![vec![None; b.values.len()]; a.values.len()];
    for r in &t.rows {
        let (Some(s), Some(i), Some(j)) = (
            scored(r),
            r.values.get(a.index).and_then(|v| a.index_of(v)),
            r.values.get(b.index).and_then(|v| b.index_of(v)),
        ) else {
            continue;
        };
        if cell[i][j].is_none_or(|c| better(t, s, c)) {
            cell[i][j] = Some(s);
        }
    }
    let all: Vec<f64> = cell.iter().flatten().flatten().copied().collect();
    let (lo, hi) = all
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let top = if t.higher_is_better { hi } else { lo };
    let others = t.axes.len() > 2;
    let _ = writeln!(
        out,
        "<p class=\"muted\">Each cell is the {}{}; darker is better, the best is outlined, \
         — marks a pair with no point that ran.</p>\n<table class=\"heat\">",
        esc(&t.metric),
        if others {
            ", the best over the other axes"
        } else {
            ""
        }
    );
    let _ = write!(
        out,
        "<tr><th class=\"corner\">--{} ╲ --{}</th>",
        esc(&a.name),
        esc(&b.name)
    );
    for v in &b.values {
        let _ = write!(out, "<th>{}</th>", esc(v));
    }
    out.push_str("</tr>\n");
    for (i, va) in a.values.iter().enumerate() {
        let _ = write!(out, "<tr><th>{}</th>", esc(va));
        for (j, vb) in b.values.iter().enumerate() {
            match cell[i][j] {
                Some(s) => {
                    // 0 for the worst cell, 1 for the best.
                    let g = if hi > lo {
                        if t.higher_is_better {
                            (s - lo) / (hi - lo)
                        } else {
                            (hi - s) / (hi - lo)
                        }
                    } else {
                        1.0
                    };
                    let alpha = 0.08 + 0.87 * g;
                    let fg = if alpha > 0.55 { "#fff" } else { "#1f2933" };
                    let _ = write!(
                        out,
                        "<td class=\"cell{}\" style=\"background: rgba(37, 99, 235, {alpha:.3}); \
                         color: {fg}\" title=\"--{} {} --{} {}: {}\">{}</td>",
                        if s == top { " top" } else { "" },
                        esc(&a.name),
                        esc(va),
                        esc(&b.name),
                        esc(vb),
                        num(s),
                        num(s)
                    );
                }
                None => out.push_str("<td class=\"none\">—</td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n</section>\n");
}
