//! `--report FILE.html`: one self-contained page (styles inline, charts as inline SVG, no
//! network, no external names) rendered from the plain [`Page`] struct; `build` fills it.
//
// Every section has an id (summary, command, metrics, gates, folds, curves, confusion,
// per-class, regression, graph, explain) so that tests and readers can find it. Every string
// that comes from the user (file names, class and feature names) goes through `esc`.

pub mod build;
pub mod confusion;
pub mod svg;
pub mod sweep;

use std::fmt::Write;

pub use build::{cv_page, predict_page, train_page, Invocation};
pub use svg::{log_worthy, tick_labels};
pub use sweep::{sweep_page, SweepPage};

/// A table: a header row and rows of already formatted cells; the first column is a label.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One quality gate and its verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Gate {
    /// The flag: `--min-accuracy`.
    pub flag: String,
    /// What was measured on which set: `accuracy on the test set`.
    pub measure: String,
    pub measured: String,
    /// `≥ 0.9`.
    pub wanted: String,
    pub pass: bool,
}

/// One curve of a chart: (x, y) points, non-finite y breaking the line.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// A CSS colour: `#1f77b4`.
    pub color: &'static str,
    pub dashed: bool,
    /// Drawn against the right-hand axis (its own scale).
    pub right: bool,
    /// How loud the curve is drawn.
    pub stroke: Stroke,
}

/// How a curve is drawn, so that two that coincide both stay visible and a secondary one
/// does not shout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stroke {
    /// A plain 2 px line.
    #[default]
    Line,
    /// A wide pale band drawn under every line (J under L: J = L + s, with s often a hair).
    Halo,
    /// A thin grey-toned line (s on its own axis: context, not the headline).
    Faint,
}

/// A line chart: series over epochs, an optional marked epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub title: String,
    pub series: Vec<Series>,
    pub y_label: String,
    /// Label of the right-hand axis, when some series use it.
    pub right_label: Option<String>,
    /// A vertical marker: (x, label), e.g. the best epoch restored by early stopping.
    pub marker: Option<(f64, String)>,
    /// Fix the left axis to this range (accuracy: zoomed to the data within 0..1).
    pub y_range: Option<(f64, f64)>,
    /// The left axis on a log scale (a loss spanning more than a decade).
    pub log_y: bool,
}

/// The confusion matrix and per-class scores of one set.
#[derive(Clone, Debug, PartialEq)]
pub struct Classes {
    /// Which set: `test set (30 rows)`.
    pub set: String,
    pub names: Vec<String>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<u64>>,
    pub accuracy: f64,
    pub per_class: Vec<crate::train::metrics::ClassScores>,
}

/// Predicted against actual for a regression, in the data's units.
#[derive(Clone, Debug, PartialEq)]
pub struct Regression {
    pub set: String,
    /// Target names, one per output.
    pub targets: Vec<String>,
    /// Per target: (actual, predicted) pairs.
    pub points: Vec<Vec<(f64, f64)>>,
    pub rmse: f64,
    pub mae: f64,
    pub r2: f64,
}

/// The computation graph's sizes and functions.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    pub d: usize,
    pub h: usize,
    pub q: usize,
    pub bias: bool,
    pub batch: Option<usize>,
    pub activation: String,
    pub loss: String,
}

/// Everything the page shows; sections left empty are not drawn.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// `Training report: iris.csv`.
    pub title: String,
    /// One line under the title.
    pub subtitle: String,
    /// Warnings shown at the top (interrupted, diverged...).
    pub notes: Vec<String>,
    /// The header: label, value.
    pub facts: Vec<(String, String)>,
    /// The shell-quoted command line and the folder it ran in.
    pub command: Option<(String, String)>,
    /// L, s, J and the metric per set.
    pub metrics: Option<Table>,
    pub gates: Vec<Gate>,
    /// Cross-validation: one row per fold, then the mean ± sd row.
    pub folds: Option<Table>,
    pub charts: Vec<Chart>,
    pub classes: Option<Classes>,
    pub regression: Option<Regression>,
    pub graph: Option<Graph>,
    /// `explain`'s text for one sample, and where it came from.
    pub explanation: Option<(String, String)>,
}

/// Escapes text for HTML content and double-quoted attributes, and makes visible what would
/// be invisible or would reorder the text around it: C0 controls as their control pictures
/// (ESC `␛`, NUL `␀`, CR `␍`, newline `␊`, tab `␉`), DEL as `␡`, and C1 controls, bidi
/// overrides, isolates and marks, line and paragraph separators and Unicode noncharacters as
/// a `<U+202E>` mark. The page then holds no character that html5ever reports as a parse
/// error, and `\u{202e}gnp.exe` reads `<U+202E>gnp.exe`, not `exe.png`.
pub fn esc(s: &str) -> String {
    escape(s, false)
}

/// As [`esc`], keeping line breaks and tabs: for multi-line text in a `<pre>` block.
pub fn esc_lines(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, lines: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' if lines => out.push(c),
            // U+2400 + c is the control picture of c: ␀ … ␟.
            '\0'..='\u{1f}' => out.extend(char::from_u32(0x2400 + c as u32)),
            '\u{7f}' => out.push('␡'),
            c if hidden(c) => {
                let _ = write!(out, "&lt;U+{:04X}&gt;", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Characters a page must not hold raw: C1 controls, bidi controls (which reorder what
/// follows them), line and paragraph separators, and noncharacters (html5ever parse errors).
fn hidden(c: char) -> bool {
    let u = c as u32;
    matches!(u, 0x80..=0x9f | 0x61c | 0x200e | 0x200f | 0x2028..=0x202e | 0x2066..=0x2069 | 0xfdd0..=0xfdef)
        || u & 0xfffe == 0xfffe
}

const STYLE: &str = r#"
:root { --fg: #1f2933; --muted: #616e7c; --line: #d9e2ec; --panel: #f5f7fa; --accent: #2563eb; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); background: #fff; max-width: 1200px; margin: 0 auto; padding: 28px 32px 48px; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 10px; margin-bottom: 8px; }
h1 { font-size: 1.7em; margin: 0; letter-spacing: -0.01em; }
.subtitle { color: var(--muted); margin: 2px 0 0; }
h2 { font-size: 1.2em; margin: 1.8em 0 0.5em; padding-bottom: 0.2em; border-bottom: 1px solid var(--line); }
h3 { font-size: 1em; margin: 1.2em 0 0.4em; color: var(--muted); }
section { margin: 0; }
.note { background: #fff4e5; border-left: 4px solid #f59e0b; padding: 6px 12px; margin: 10px 0; }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr) max-content minmax(0, 1fr);
  gap: 3px 18px; margin: 12px 0 0; }
dl.facts dt { color: var(--muted); white-space: nowrap; }
dl.facts dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 4px 0 8px; }
th, td { padding: 4px 12px; border-bottom: 1px solid var(--line); text-align: right; }
th { font-weight: 600; background: var(--panel); }
th:first-child, td:first-child { text-align: left; }
tr.mean td { font-weight: 600; border-top: 2px solid var(--fg); }
pre.command { white-space: pre-wrap; overflow-wrap: anywhere; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 10px 14px;
  overflow-x: auto; font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
section#explain { container-type: inline-size; }
pre.explain { font-size: clamp(8.5px, calc((100cqw - 32px) / var(--chars) / 0.61), 12.5px);
  white-space: pre-wrap; overflow-wrap: anywhere; overflow-x: visible; }
.pass { color: #15803d; font-weight: 600; }
.fail { color: #b91c1c; font-weight: 600; }
.muted { color: var(--muted); }
.charts { display: flex; flex-wrap: wrap; gap: 12px 24px; }
.charts figure { margin: 0; max-width: 500px; }
figcaption { color: var(--muted); font-size: 0.9em; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
table.cm td { text-align: center; min-width: 2.6em; padding: 4px 8px; }
table.cm th.corner { background: #fff; color: var(--muted); font-weight: 400; font-size: 0.85em; text-align: left; }
table.cm td.cell { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.cols { display: flex; flex-wrap: wrap; gap: 8px 40px; align-items: flex-start; }
footer { margin-top: 3em; color: var(--muted); font-size: 0.85em; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  h2 { break-after: avoid; }
  section, figure, table { break-inside: avoid; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; }
  .charts { display: block; }
}
"#;

/// The page as one HTML document.
pub fn render(page: &Page) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", esc(&page.title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(
        out,
        "<header id=\"top\"><h1>{}</h1><p class=\"subtitle\">{}</p></header>",
        esc(&page.title),
        esc(&page.subtitle)
    );
    for n in &page.notes {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(n));
    }

    out.push_str("<section id=\"summary\">\n<h2>Run</h2>\n<dl class=\"facts\">\n");
    for (k, v) in &page.facts {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
    }
    out.push_str("</dl>\n</section>\n");

    if let Some((argv, cwd)) = &page.command {
        let _ = writeln!(
            out,
            "<section id=\"command\">\n<h2>Command</h2>\n<p class=\"muted\">Run in {} to reproduce \
             this page (a fixed seed fixes every random draw):</p>\n<pre class=\"command\">{}</pre>\n</section>",
            esc(cwd),
            esc(argv)
        );
    }
    if let Some(t) = &page.metrics {
        out.push_str("<section id=\"metrics\">\n<h2>Loss and metrics</h2>\n");
        table(&mut out, t, "");
        out.push_str(
            "<p class=\"muted\">L is the mean loss ℓ, s = λ/2 (‖W1‖² + ‖W2‖²) the L2 penalty, \
             J = L + s the objective minimized.</p>\n</section>\n",
        );
    }
    if !page.gates.is_empty() {
        out.push_str("<section id=\"gates\">\n<h2>Quality gates</h2>\n<table>\n");
        out.push_str(
            "<tr><th>gate</th><th>measured</th><th>value</th><th>wanted</th><th>verdict</th></tr>\n",
        );
        for g in &page.gates {
            let (class, verdict) = if g.pass {
                ("pass", "pass")
            } else {
                ("fail", "FAIL")
            };
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td>\
                 <td class=\"{class}\">{verdict}</td></tr>",
                esc(&g.flag),
                esc(&g.measure),
                esc(&g.measured),
                esc(&g.wanted)
            );
        }
        out.push_str("</table>\n</section>\n");
    }
    if let Some(t) = &page.folds {
        out.push_str("<section id=\"folds\">\n<h2>Cross-validation folds</h2>\n");
        table(&mut out, t, "mean");
        out.push_str("</section>\n");
    }
    if !page.charts.is_empty() {
        out.push_str("<section id=\"curves\">\n<h2>Training curves</h2>\n<div class=\"charts\">\n");
        for c in &page.charts {
            let _ = writeln!(
                out,
                "<figure>{}<figcaption>{}</figcaption></figure>",
                svg::line_chart(c),
                esc(&c.title)
            );
        }
        out.push_str("</div>\n</section>\n");
    }
    if let Some(c) = &page.classes {
        classes(&mut out, c);
    }
    if let Some(r) = &page.regression {
        regression(&mut out, r);
    }
    if let Some(g) = &page.graph {
        let _ = writeln!(
            out,
            "<section id=\"graph\">\n<h2>Computation graph</h2>\n<p class=\"muted\">The chapter's \
             Figure 3.6 with this model's shapes: data in circles, variables in boxes, parameters \
             bare; back-propagation walks the arrows backwards.</p>\n{}\n</section>",
            svg::graph(g)
        );
    }
    if let Some((text, origin)) = &page.explanation {
        let _ =
            writeln!(
            out,
            "<section id=\"explain\">\n<h2>One sample explained</h2>\n<p class=\"muted\">{}</p>\n\
             <pre class=\"explain\" style=\"--chars: {}\">{}</pre>\n</section>",
            esc(origin),
            text.lines().map(|l| l.chars().count()).max().unwrap_or(1).max(1),
            esc_lines(text)
        );
    }
    let _ = writeln!(
        out,
        "<footer>Written by mlp-train {}. This page is self-contained: it loads nothing.</footer>",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str("</body>\n</html>\n");
    out
}

/// A table; a row whose first cell is `mean_label` is emphasized.
fn table(out: &mut String, t: &Table, mean_label: &str) {
    out.push_str("<table>\n<tr>");
    for h in &t.head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>\n");
    for row in &t.rows {
        let mean = !mean_label.is_empty() && row.first().is_some_and(|c| c == mean_label);
        out.push_str(if mean { "<tr class=\"mean\">" } else { "<tr>" });
        for c in row {
            let _ = write!(out, "<td>{}</td>", esc(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn classes(out: &mut String, c: &Classes) {
    if c.names.len() > confusion::DRAWN {
        return confusion::summary(out, c);
    }
    let n: u64 = c.confusion.iter().flatten().sum();
    let correct: u64 = (0..c.names.len())
        .map(|k| {
            c.confusion
                .get(k)
                .and_then(|r| r.get(k))
                .copied()
                .unwrap_or(0)
        })
        .sum();
    let max = c
        .confusion
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let _ = writeln!(
        out,
        "<section id=\"confusion\">\n<h2>Where the model errs</h2>\n<p>{}: accuracy \
         <strong>{:.2}%</strong> ({correct} of {n}).</p>\n<div class=\"cols\">\n<div>\n\
         <h3>Confusion matrix (rows: true class, columns: predicted)</h3>\n<table class=\"cm\">",
        esc(&c.set),
        100.0 * c.accuracy
    );
    out.push_str("<tr><th class=\"corner\">true ╲ predicted</th>");
    for name in &c.names {
        let _ = write!(out, "<th>{}</th>", esc(name));
    }
    out.push_str("<th>total</th></tr>\n");
    for (t, row) in c.confusion.iter().enumerate() {
        let name = c.names.get(t).map_or("", String::as_str);
        let _ = write!(out, "<tr><th>{}</th>", esc(name));
        for (p, &v) in row.iter().enumerate() {
            // Shade by count: right answers blue, errors red; white text on dark cells.
            let a = v as f64 / max as f64;
            let (r, g, b) = if t == p { (37, 99, 235) } else { (220, 38, 38) };
            let alpha = if v == 0 { 0.0 } else { 0.12 + 0.88 * a };
            let fg = if alpha > 0.55 { "#fff" } else { "#1f2933" };
            let _ = write!(
                out,
                "<td class=\"cell\" style=\"background: rgba({r}, {g}, {b}, {alpha:.3}); color: {fg}\" \
                 title=\"true {}, predicted {}: {v}\">{v}</td>",
                esc(name),
                esc(c.names.get(p).map_or("", String::as_str))
            );
        }
        let _ = writeln!(out, "<td>{}</td></tr>", row.iter().sum::<u64>());
    }
    out.push_str("</table>\n</div>\n<div id=\"per-class\">\n<h3>Per class</h3>\n<table>\n");
    out.push_str(
        "<tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>\n",
    );
    for s in &c.per_class {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td></tr>",
            esc(&s.class),
            s.precision,
            s.recall,
            s.f1,
            s.support
        );
    }
    out.push_str("</table>\n</div>\n</div>\n</section>\n");
}

fn regression(out: &mut String, r: &Regression) {
    let rows = r.points.first().map_or(0, Vec::len);
    let _ = writeln!(
        out,
        "<section id=\"regression\">\n<h2>Predicted against actual</h2>\n<p>{}, in the data's \
         units: RMSE <strong>{}</strong>, MAE <strong>{}</strong>, R² <strong>{:.4}</strong> \
         ({rows} rows).</p>",
        esc(&r.set),
        num(r.rmse),
        num(r.mae),
        r.r2
    );
    for (name, pts) in r.targets.iter().zip(&r.points) {
        let _ = writeln!(
            out,
            "<div class=\"charts\">\n<figure>{}<figcaption>{}: predicted against actual; points on \
             the diagonal are exact</figcaption></figure>\n<figure>{}<figcaption>{}: residual \
             (actual − predicted) against predicted</figcaption></figure>\n</div>",
            svg::scatter(pts, name, false),
            esc(name),
            svg::scatter(pts, name, true),
            esc(name)
        );
    }
    out.push_str("</section>\n");
}

/// A number with 6 significant digits, without trailing noise.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e7).contains(&a) {
        return format!("{v:.4e}");
    }
    let digits = if a == 0.0 {
        0
    } else {
        (5 - a.log10().floor() as i32).max(0) as usize
    };
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_strings_are_escaped() {
        assert_eq!(
            esc("<b>\"a\" & 'b'</b>"),
            "&lt;b&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/b&gt;"
        );
        let page = Page {
            title: "<script>x</script>".into(),
            facts: vec![("data".into(), "a&b.csv".into())],
            ..Page::default()
        };
        let html = render(&page);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains("a&amp;b.csv"));
    }

    #[test]
    fn numbers_keep_six_significant_digits() {
        assert_eq!(num(0.123456789), "0.123457");
        assert_eq!(num(151.25), "151.25");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(1234567.0), "1234567");
        assert_eq!(num(1.5e-7), "1.5000e-7");
    }
}
