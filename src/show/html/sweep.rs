//! `sweep --report FILE.html`: a sweep's table as one self-contained page: the ranked table,
//! the best point and the command that reruns it, the score against each axis, a heatmap.
//
// Sections: summary, best, command, table, failed, axes, heatmap. Failed and missing points
// are listed (table, failed) and never plotted. Every user string goes through `esc`.

use std::ffi::OsString;
use std::fmt::Write;
use std::path::Path;

use super::build::{quote_os, Invocation};
use super::svg::{range, scale, tick_text, ticks, AXIS, GRID, POINT};
use super::{esc, num, STYLE};
use crate::show::sweep::{PointStatus, SweepRow, SweepTable};

/// Distinct values an axis may have for the heatmap to draw it (a random search has one per
/// point, which a heatmap cannot show: the per-axis charts do).
const HEAT_MAX: usize = 30;
/// Distinct values up to which a chart ticks every value (as typed) rather than round numbers.
const TICK_EVERY: usize = 12;
const BEST: &str = "#dc2626";
const LINE: &str = "#1e3a8a";

/// What the sweep page shows.
#[derive(Clone, Debug)]
pub struct SweepPage<'a> {
    pub table: &'a SweepTable,
    /// The sweep's own command line and folder.
    pub invocation: &'a Invocation,
    /// The data file the points trained on.
    pub data: Option<&'a Path>,
    /// The `mlp-train …` words that train the best point alone (the plan's flags for it); the
    /// page shows them shell-quoted.
    pub best_argv: Option<Vec<OsString>>,
}

impl<'a> SweepPage<'a> {
    /// A page with the table and the sweep's command only.
    pub fn new(table: &'a SweepTable, invocation: &'a Invocation) -> Self {
        SweepPage {
            table,
            invocation,
            data: None,
            best_argv: None,
        }
    }
}

const SWEEP_STYLE: &str = r#"
tr.best td { background: #fef3c7; font-weight: 600; }
td.failed { color: #b91c1c; }
td.missing { color: var(--muted); }
table.heat td { text-align: center; min-width: 4.2em; padding: 4px 8px; -webkit-print-color-adjust: exact;
  print-color-adjust: exact; }
table.heat td.top { outline: 3px solid #dc2626; outline-offset: -3px; font-weight: 700; }
table.heat th.corner { background: #fff; color: var(--muted); font-weight: 400; font-size: 0.85em; text-align: left; }
ul.failed li { margin: 2px 0; }
"#;

/// The page as one HTML document.
pub fn sweep_page(p: &SweepPage) -> String {
    let t = p.table;
    let ok: Vec<&SweepRow> = t.rows.iter().filter(|r| scored(r).is_some()).collect();
    let failed = t
        .rows
        .iter()
        .filter(|r| matches!(r.status, PointStatus::Failed(_)))
        .count();
    let missing = t
        .rows
        .iter()
        .filter(|r| r.status == PointStatus::Missing)
        .count();
    let best = best_row(t);
    let title = match p.data {
        Some(d) => format!("Sweep report: {}", crate::error::shown_path(d)),
        None => "Sweep report".to_string(),
    };

    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", esc(&title));
    let _ = writeln!(out, "<style>{STYLE}{SWEEP_STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(
        out,
        "<header id=\"top\"><h1>{}</h1><p class=\"subtitle\">{} points over {}, ranked by {} \
         ({} is better)</p></header>",
        esc(&title),
        t.rows.len(),
        esc(&axes_text(&t.axes)),
        esc(&t.metric),
        if t.higher_is_better {
            "higher"
        } else {
            "lower"
        }
    );
    if failed > 0 {
        let _ = writeln!(
            out,
            "<p class=\"note\">{failed} of {} points failed: they are listed under Failed \
             points, and not plotted.</p>",
            t.rows.len()
        );
    }
    if missing > 0 {
        let _ = writeln!(
            out,
            "<p class=\"note\">{missing} of {} points have not run (interrupted, or left to \
             another engine): rerun the sweep with the same --runs folder to finish them.</p>",
            t.rows.len()
        );
    }

    out.push_str("<section id=\"summary\">\n<h2>Sweep</h2>\n<dl class=\"facts\">\n");
    let mut facts: Vec<(String, String)> = Vec::new();
    if let Some(d) = p.data {
        facts.push(("data".into(), crate::error::shown_path(d)));
    }
    facts.push((
        "points".into(),
        format!(
            "{} ({} ok, {failed} failed, {missing} not run)",
            t.rows.len(),
            ok.len()
        ),
    ));
    facts.push(("ranked by".into(), t.metric.clone()));
    if let Some(k) = &t.std_kind {
        facts.push(("± is".into(), k.clone()));
    }
    facts.push((
        "ties broken by".into(),
        "val_loss (lower first)".to_string(),
    ));
    for (i, a) in t.axes.iter().enumerate() {
        let values = Axis::of(t, i);
        facts.push((
            format!("--{a}"),
            format!(
                "{} value{}: {}",
                values.values.len(),
                if values.values.len() == 1 { "" } else { "s" },
                crate::data::list(&values.values)
            ),
        ));
    }
    facts.push(("mlp-train".into(), env!("CARGO_PKG_VERSION").into()));
    for (k, v) in &facts {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
    }
    out.push_str("</dl>\n</section>\n");

    if let Some(b) = best {
        best_section(&mut out, p, b);
    }
    let _ = writeln!(
        out,
        "<section id=\"command\">\n<h2>Command</h2>\n<p class=\"muted\">The sweep, run in {}:</p>\n\
         <pre class=\"command\">{}</pre>\n</section>",
        esc(&p.invocation.cwd),
        esc(&p.invocation.argv)
    );
    table_section(&mut out, t, best);
    failed_section(&mut out, t);
    if !ok.is_empty() {
        out.push_str(
            "<section id=\"axes\">\n<h2>Score against each axis</h2>\n<p class=\"muted\">Every \
             point that ran, as a dot; the line joins the best score at each value (over the \
             other axes); the best point in red.</p>\n<div class=\"charts\">\n",
        );
        for i in 0..t.axes.len() {
            let axis = Axis::of(t, i);
            let _ = writeln!(
                out,
                "<figure>{}<figcaption>{} against --{}{}</figcaption></figure>",
                axis_chart(t, &axis, best),
                esc(&t.metric),
                esc(&axis.name),
                match axis.kind {
                    Kind::Log { .. } => " (log scale)",
                    _ => "",
                }
            );
        }
        out.push_str("</div>\n</section>\n");
        heatmap_section(&mut out, t);
    }
    let _ = writeln!(
        out,
        "<footer>Written by mlp-train {}. This page is self-contained: it loads nothing.</footer>",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str("</body>\n</html>\n");
    out
}

/// `lambda × lr`.
fn axes_text(axes: &[String]) -> String {
    if axes.is_empty() {
        "no axis".into()
    } else {
        axes.join(" × ")
    }
}

/// The score of a point that ran to the end with a finite score.
fn scored(r: &SweepRow) -> Option<f64> {
    (r.status == PointStatus::Ok)
        .then_some(r.score)
        .flatten()
        .filter(|s| s.is_finite())
}

/// Rank 1, or else the best score among the points that ran.
fn best_row(t: &SweepTable) -> Option<&SweepRow> {
    t.rows.iter().find(|r| r.rank == Some(1)).or_else(|| {
        t.rows
            .iter()
            .filter_map(|r| scored(r).map(|s| (r, s)))
            .reduce(|a, b| if better(t, b.1, a.1) { b } else { a })
            .map(|(r, _)| r)
    })
}

/// True when score `a` beats `b`.
fn better(t: &SweepTable, a: f64, b: f64) -> bool {
    if t.higher_is_better {
        a > b
    } else {
        a < b
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or("—".into(), num)
}

/// The score with its fold std: `0.973333 ± 0.0249`.
fn score_text(r: &SweepRow) -> String {
    match (r.score, r.score_std) {
        (Some(s), Some(sd)) => format!("{} ± {}", num(s), num(sd)),
        (s, _) => opt(s),
    }
}

/// `--lambda 0.001 --lr 0.1`, quoted for the shell.
fn flags(t: &SweepTable, r: &SweepRow) -> String {
    let words: Vec<String> = t
        .axes
        .iter()
        .zip(&r.values)
        .flat_map(|(a, v)| [format!("--{a}"), v.clone()])
        .collect();
    quote_os(&words)
}

fn best_section(out: &mut String, p: &SweepPage, b: &SweepRow) {
    let t = p.table;
    let _ = writeln!(
        out,
        "<section id=\"best\">\n<h2>Best point</h2>\n<p>Point {} scores <strong>{}</strong> {} \
         (val_loss {}, {} {}, {} s to fit) with <code>{}</code>.</p>",
        b.point,
        esc(&score_text(b)),
        esc(&t.metric),
        opt(b.val_loss),
        esc(&t.train_metric),
        opt(b.train_metric),
        b.fit_seconds.map_or("—".into(), |s| format!("{s:.2}")),
        esc(&flags(t, b))
    );
    match &p.best_argv {
        Some(argv) => {
            let _ = writeln!(
                out,
                "<p class=\"muted\">To train it alone (add --save FILE to keep the model):</p>\n\
                 <pre class=\"command\">{}</pre>",
                esc(&quote_os(argv))
            );
        }
        None => {
            let _ = writeln!(
                out,
                "<p class=\"muted\">To train it alone: the sweep's shared flags with \
                 <code>{}</code>.</p>",
                esc(&flags(t, b))
            );
        }
    }
    out.push_str("</section>\n");
}

fn table_section(out: &mut String, t: &SweepTable, best: Option<&SweepRow>) {
    let has_std = t.rows.iter().any(|r| r.score_std.is_some());
    out.push_str("<section id=\"table\">\n<h2>All points</h2>\n<table class=\"sweep\">\n<tr>");
    let mut head = vec!["rank".to_string(), "point".into(), t.metric.clone()];
    if has_std {
        head.push("± std".into());
    }
    head.extend(["val_loss".into(), t.train_metric.clone(), "seconds".into()]);
    head.extend(t.axes.iter().cloned());
    head.push("status".into());
    for h in &head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>\n");
    for r in &t.rows {
        let is_best = best.is_some_and(|b| b.point == r.point);
        out.push_str(if is_best {
            "<tr class=\"best\">"
        } else {
            "<tr>"
        });
        let mut cells = vec![
            r.rank.map_or("—".into(), |k| k.to_string()),
            r.point.to_string(),
            opt(r.score),
        ];
        if has_std {
            cells.push(opt(r.score_std));
        }
        cells.extend([
            opt(r.val_loss),
            opt(r.train_metric),
            r.fit_seconds.map_or("—".into(), |s| format!("{s:.2}")),
        ]);
        cells.extend(r.values.iter().cloned());
        for c in &cells {
            let _ = write!(out, "<td>{}</td>", esc(c));
        }
        let _ = writeln!(
            out,
            "{}</tr>",
            match &r.status {
                PointStatus::Ok => "<td>ok</td>",
                PointStatus::Failed(_) => "<td class=\"failed\">failed</td>",
                PointStatus::Missing => "<td class=\"missing\">not run</td>",
            }
        );
    }
    out.push_str("</table>\n</section>\n");
}

fn failed_section(out: &mut String, t: &SweepTable) {
    let failed: Vec<(&SweepRow, &String)> = t
        .rows
        .iter()
        .filter_map(|r| match &r.status {
            PointStatus::Failed(e) => Some((r, e)),
            _ => None,
        })
        .collect();
    if failed.is_empty() {
        return;
    }
    out.push_str("<section id=\"failed\">\n<h2>Failed points</h2>\n<ul class=\"failed\">\n");
    for (r, e) in failed {
        let _ = writeln!(
            out,
            "<li>point {} (<code>{}</code>): {}</li>",
            r.point,
            esc(&flags(t, r)),
            esc(e)
        );
    }
    out.push_str("</ul>\n</section>\n");
}

/// How an axis places its values.
#[derive(Clone, Debug, PartialEq)]
enum Kind {
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
struct Axis {
    index: usize,
    name: String,
    values: Vec<String>,
    numbers: Option<Vec<f64>>,
    kind: Kind,
}

impl Axis {
    fn of(t: &SweepTable, index: usize) -> Axis {
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
fn axis_chart(t: &SweepTable, axis: &Axis, best: Option<&SweepRow>) -> String {
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
                t.extend((a..=b).map(|e| (e as f64, format!("1e{e}"))));
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
fn heatmap_section(out: &mut String, t: &SweepTable) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::show::sweep::SweepRow;

    /// 12 points over lambda × lr (4 × 3), point 7 failed, ranked by val_accuracy.
    fn table() -> SweepTable {
        let lambdas = ["0", "1e-4", "1e-3", "1e-2"];
        let lrs = ["0.01", "0.1", "1"];
        let mut rows = Vec::new();
        for (i, l) in lambdas.iter().enumerate() {
            for (j, r) in lrs.iter().enumerate() {
                let point = i * 3 + j;
                let score = 0.80 + 0.05 * j as f64 - 0.02 * i as f64 + 0.001 * point as f64;
                let status = if point == 7 {
                    PointStatus::Failed("diverged at epoch 3: J is not finite".into())
                } else {
                    PointStatus::Ok
                };
                let ok = status == PointStatus::Ok;
                rows.push(SweepRow {
                    rank: None,
                    point,
                    status,
                    score: ok.then_some(score),
                    score_std: ok.then_some(0.01),
                    val_loss: ok.then_some(1.0 - score),
                    train_metric: ok.then_some(score + 0.01),
                    fit_seconds: ok.then_some(0.5),
                    values: vec![l.to_string(), r.to_string()],
                });
            }
        }
        let mut ranked: Vec<SweepRow> =
            rows.iter().filter(|r| r.score.is_some()).cloned().collect();
        ranked.sort_by(|a, b| b.score.unwrap().total_cmp(&a.score.unwrap()));
        for (k, r) in ranked.iter_mut().enumerate() {
            r.rank = Some(k + 1);
        }
        ranked.extend(rows.into_iter().filter(|r| r.score.is_none()));
        SweepTable {
            metric: "cv_mean_accuracy".into(),
            higher_is_better: true,
            std_kind: Some("population std over 5 folds".into()),
            train_metric: "train_accuracy".into(),
            axes: vec!["lambda".into(), "lr".into()],
            rows: ranked,
        }
    }

    fn inv() -> Invocation {
        Invocation {
            argv: "mlp-train sweep --grid lambda=0,1e-4,1e-3,1e-2 --grid lr=0.01,0.1,1".into(),
            cwd: "/tmp".into(),
        }
    }

    #[test]
    fn the_page_has_every_section_with_the_table_values() {
        let t = table();
        let i = inv();
        let mut p = SweepPage::new(&t, &i);
        p.data = Some(Path::new("data/iris.csv"));
        p.best_argv = Some(
            [
                "mlp-train",
                "--data",
                "data/iris.csv",
                "--lambda",
                "0",
                "--lr",
                "1",
            ]
            .map(OsString::from)
            .to_vec(),
        );
        let html = sweep_page(&p);
        for id in [
            "summary", "best", "command", "table", "failed", "axes", "heatmap",
        ] {
            assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
        }
        // The best: lambda 0, lr 1 (point 2), 0.80 + 0.10 + 0.002.
        assert!(html.contains("Point 2 scores <strong>0.902 ± 0.01</strong> cv_mean_accuracy"));
        assert!(html.contains(
            "<pre class=\"command\">mlp-train --data data/iris.csv --lambda 0 --lr 1</pre>"
        ));
        assert!(html.contains("<tr class=\"best\"><td>1</td><td>2</td><td>0.902</td><td>0.01</td>"));
        assert_eq!(html.matches("<tr class=\"best\">").count(), 1);
        // The table: a header naming the metric and every axis, 12 rows, the failure listed.
        assert!(html.contains(
            "<th>rank</th><th>point</th><th>cv_mean_accuracy</th><th>± std</th><th>val_loss</th>\
             <th>train_accuracy</th><th>seconds</th><th>lambda</th><th>lr</th><th>status</th>"
        ));
        let table = &html[html.find("<section id=\"table\">").unwrap()..];
        let table = &table[..table.find("</section>").unwrap()];
        assert_eq!(table.matches("<tr").count(), 13);
        assert!(table.contains("<td>—</td><td>7</td><td>—</td>"));
        assert!(html.contains("point 7 (<code>--lambda 1e-3 --lr 0.1</code>): diverged at epoch 3"));
        assert!(html.contains("1 of 12 points failed"));
        // Charts: one per axis, 11 dots each (the failure not plotted), lambda on a log scale.
        let axes = &html[html.find("<section id=\"axes\">").unwrap()..];
        let axes = &axes[..axes.find("</section>").unwrap()];
        assert_eq!(axes.matches("<svg").count(), 2);
        assert_eq!(axes.matches("<circle").count(), 22);
        assert_eq!(axes.matches("class=\"best\"").count(), 2);
        assert!(axes.contains("cv_mean_accuracy against --lambda (log scale)"));
        assert!(axes.contains("cv_mean_accuracy against --lr (log scale)"));
        // The heatmap: 4 × 3 cells, the failed pair empty, the best outlined.
        let heat = &html[html.find("<section id=\"heatmap\">").unwrap()..];
        assert_eq!(heat.matches("<td class=\"cell").count(), 11);
        assert_eq!(heat.matches("<td class=\"none\">").count(), 1);
        assert_eq!(heat.matches("class=\"cell top\"").count(), 1);
        assert!(heat.contains("title=\"--lambda 0 --lr 1: 0.902\""));
    }

    #[test]
    fn lower_is_better_and_categories() {
        let mut t = table();
        t.higher_is_better = false;
        t.metric = "val_rmse".into();
        for r in &mut t.rows {
            r.values[1] = ["relu", "tanh", "sigmoid"][r.point % 3].into();
            r.rank = None;
        }
        t.axes[1] = "activation".into();
        let i = inv();
        let html = sweep_page(&SweepPage::new(&t, &i));
        // No rank given: the lowest score (point 9: 0.80 - 0.06 + 0.009) is the best.
        assert!(
            html.contains("Point 9 scores <strong>0.749 ± 0.01</strong> val_rmse"),
            "{html}"
        );
        assert!(html.contains(">sigmoid</text>") && html.contains(">relu</text>"));
        assert!(html.contains("val_rmse against --activation</figcaption>"));
        assert!(html.contains(
            "the sweep's shared flags with <code>--lambda 1e-2 --activation relu</code>"
        ));
    }

    #[test]
    fn user_strings_are_escaped() {
        let mut t = table();
        t.axes[1] = "lr<script>".into();
        t.rows[0].values[1] = "\u{202e}gnp.exe\x1b[2J".into();
        let i = Invocation {
            argv: "<b>".into(),
            cwd: "\0".into(),
        };
        let html = sweep_page(&SweepPage::new(&t, &i));
        assert!(!html.contains("<script>") && !html.contains("<b>"));
        assert!(!html.contains(['\u{202e}', '\x1b', '\0']));
        assert!(html.contains("&lt;U+202E&gt;gnp.exe␛[2J"));
        let doc = scraper::Html::parse_document(&html);
        assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    }
}
