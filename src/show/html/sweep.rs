//! `sweep --report FILE.html`: a sweep's table as one self-contained page: the ranked table,
//! the best point and the command that reruns it, the score against each axis, a heatmap.
//
// Sections: summary, best, command, table, failed, axes, heatmap. Failed and missing points
// are listed (table, failed) and never plotted. Every user string goes through `esc`.

use std::ffi::OsString;
use std::fmt::Write;
use std::path::Path;

mod charts;

use super::build::{quote_os, Invocation};
use super::{esc, num, STYLE};
use crate::show::sweep::{PointStatus, SweepRow, SweepTable};
use charts::{axis_chart, heatmap_section, Axis, Kind};

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
                    warnings: Vec::new(),
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
    fn a_random_search_gets_decade_ticks_and_no_heatmap() {
        // 40 points, lr log-uniform over 1e-4..1, hidden uniform over 20..=83 (linear).
        let rows: Vec<SweepRow> = (0..40)
            .map(|k| {
                let lr = 10f64.powf(-4.0 + 4.0 * ((k * 37 % 40) as f64 + 0.5) / 40.0);
                SweepRow {
                    rank: None,
                    point: k,
                    status: PointStatus::Ok,
                    score: Some(0.5 + 0.01 * k as f64),
                    score_std: None,
                    val_loss: Some(0.1),
                    train_metric: Some(0.9),
                    fit_seconds: Some(1.0),
                    warnings: Vec::new(),
                    values: vec![format!("{lr:e}"), (20 + k * 13 % 64).to_string()],
                }
            })
            .collect();
        let t = SweepTable {
            metric: "val_accuracy".into(),
            higher_is_better: true,
            std_kind: None,
            train_metric: "train_accuracy".into(),
            axes: vec!["lr".into(), "hidden".into()],
            rows,
        };
        let i = inv();
        let html = sweep_page(&SweepPage::new(&t, &i));
        for e in -3..=-1 {
            assert!(html.contains(&format!(">1e{e}</text>")), "1e{e}");
        }
        assert!(html.contains("val_accuracy against --lr (log scale)"));
        assert!(html.contains("val_accuracy against --hidden</figcaption>"));
        assert!(!html.contains("<table class=\"heat\">"));
        assert!(html.contains("No heatmap: --lr has 40 values and --hidden 40"));
        // The best: point 39, the only red dot of each chart.
        assert!(html.contains("Point 39 scores <strong>0.89</strong>"));
        assert_eq!(html.matches("class=\"best\" cx=").count(), 2);
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
