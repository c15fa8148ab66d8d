//! `mlp-train explain` as text: the explanation computed by `train::explain`, one step per
//! formula, the numbers with six significant digits.

use crate::train::explain::{
    step, ExplainOptions, ExplainTarget, Explanation, Prediction, Provenance, Step, Value,
};
use crate::train::gradcheck::FLOOR;

/// Where the model and the sample come from; the raw row beside the standardized one.
fn render_source(src: &Provenance, opts: &ExplainOptions) -> String {
    let mut out = String::new();
    // The file names (kept as lossy UTF-8 for the JSON) on one line each: a newline or a
    // bidi override in a name is escaped, as `crate::error::shown_path` shows a path.
    let name = |s: &str| crate::error::escaped(s.as_bytes(), crate::error::PATH_SHOWN);
    match (&src.model.as_deref().map(name), &src.precision) {
        (Some(m), Some(p)) => out.push_str(&format!(
            "model {m}: λ, φ, ℓ, the weights and the precision ({p}) are the model's\n"
        )),
        (Some(m), None) => out.push_str(&format!(
            "model {m}: λ, φ, ℓ and the weights are the model's\n"
        )),
        _ => out.push_str("a freshly initialized model (--seed); no training\n"),
    }
    if src.data.is_empty() {
        return out;
    }
    out.push_str(&format!(
        "\nsample: row {} of {}\n",
        src.row,
        name(&src.data)
    ));
    let raw = step("raw_x", "raw x", "", Value::Vector(src.raw_x.clone()));
    out.push_str(&render_step(&raw, opts));
    // Named when the model encodes categories or blanks (its inputs are then not the
    // file's columns one for one).
    if src
        .inputs
        .iter()
        .any(|n| n.contains('=') || n.ends_with("_missing"))
    {
        let names: Vec<String> = src
            .inputs
            .iter()
            .map(|n| crate::error::escaped(n.as_bytes(), 40))
            .collect();
        out.push_str(&format!(
            "  raw x's entries: {} (categories one-hot, blanks imputed)\n",
            names.join(", ")
        ));
    }
    match (src.standardized_x, src.bias) {
        (false, false) => {
            out.push_str("  x below is the raw row itself (no standardization, no bias input)\n")
        }
        // A saved model's mean and std are its training rows'; a fresh model's, this file's.
        (true, _) if src.model.is_some() => out.push_str(
            "  x below is the raw row standardized: (raw − mean) / std, the training set's\n",
        ),
        (true, _) => out.push_str(
            "  x below is the raw row standardized: (raw − mean) / std, over this file's rows\n",
        ),
        (false, true) => out.push_str("  x below is the raw row, not standardized\n"),
    }
    if src.bias {
        out.push_str("  and its last entry is the constant 1 of the bias input\n");
    }
    if let Some(y) = &src.raw_y {
        let raw = step("raw_y", "raw y", "", Value::Vector(y.clone()));
        out.push_str(&render_step(&raw, opts));
        if src.standardized_y {
            out.push_str("  y below is the raw target standardized, (raw − mean) / std; ŷ is in those units too\n");
        }
    }
    out
}

/// The explanation as text: sections "forward", "backward" and "finite differences", one
/// `symbol = formula  (shape) = value` per line.
pub fn render_text(e: &Explanation, opts: &ExplainOptions) -> String {
    let (d, h, q) = e.dims;
    let mut out = String::new();
    out.push_str(&format!(
        "one sample through the chapter's formulas: φ = {}, ℓ = {}, λ = {}\n",
        e.activation.name(),
        e.loss.name(),
        num(e.lambda, opts.digits)
    ));
    out.push_str(&format!(
        "d = {d} inputs, h = {h} hidden units, q = {q} outputs\n"
    ));
    out.push_str(&render_source(&e.source, opts));

    out.push_str("\nparameters\n");
    for s in &e.parameters {
        out.push_str(&render_step(s, opts));
    }

    out.push_str("\nforward\n");
    for (k, s) in e.forward.iter().enumerate() {
        out.push_str(&render_step(s, opts));
        if k == 0 {
            // y right after x: the data of the sample.
            let y = match &e.y {
                ExplainTarget::Class(c, Some(name)) => {
                    format!("  y = {c} ({})\n", crate::data::shown_str(name))
                }
                ExplainTarget::Class(c, None) => match e.source.classes.get(*c) {
                    Some(name) => format!("  y = {c} ({})\n", crate::data::shown_str(name)),
                    None => format!("  y = {c}\n"),
                },
                ExplainTarget::Values(v) => {
                    let y = step("y", "y", "", Value::Vector(v.clone()));
                    render_step(&y, opts)
                }
            };
            out.push_str(&y);
        }
    }
    // Every class by its name when the model has names, the predicted one as the true one.
    let name_of = |c: usize| match (&e.y, e.source.classes.get(c)) {
        (_, Some(name)) => format!(" ({})", crate::data::shown_str(name)),
        (ExplainTarget::Class(yc, Some(name)), None) if *yc == c => {
            format!(" ({})", crate::data::shown_str(name))
        }
        _ => String::new(),
    };
    match (&e.prediction, &e.y) {
        (
            Prediction {
                class: Some(c),
                probabilities,
                ..
            },
            ExplainTarget::Class(yc, _),
        ) => {
            let p = probabilities
                .as_ref()
                .map(|p| format!(", p = {}", num(p[*c], opts.digits)))
                .unwrap_or_default();
            let verdict = if c == yc { "right" } else { "wrong" };
            out.push_str(&format!(
                "  prediction: class {c}{}{p} ({verdict})\n",
                name_of(*c)
            ));
        }
        (
            Prediction {
                values: Some(v), ..
            },
            _,
        ) => {
            let p = step("yhat", "ŷ", "o", Value::Vector(v.clone()));
            out.push_str(&format!(
                "  prediction: {}",
                render_step(&p, opts).trim_start()
            ));
            // Standardized targets: ŷ also in the target's units, as predict writes it.
            if let Some((mean, std)) = &e.source.target_scale {
                let raw: Vec<f64> = v
                    .iter()
                    .zip(mean.iter().zip(std))
                    .map(|(y, (m, s))| y * s + m)
                    .collect();
                let p = step("yhat_raw", "ŷ × std + mean", "", Value::Vector(raw));
                out.push_str(&format!(
                    "  in the target's units: {}",
                    render_step(&p, opts).trim_start()
                ));
            }
        }
        _ => {}
    }

    out.push_str("\nbackward (B = 1, so ∂J/∂o is not divided by a batch size)\n");
    for s in &e.backward {
        out.push_str(&render_step(s, opts));
    }

    out.push_str(&format!(
        "\nfinite differences (central, ε = {}; relative error = |a − n| / max(|a|, |n|, {}))\n",
        num(e.eps, 2),
        num(FLOOR, 2)
    ));
    if e.source.precision.as_deref() == Some("f32") {
        out.push_str("  both sides in f64, on the f32 weights widened exactly (the values above are f32's)\n");
    }
    let labels: Vec<String> = e
        .finite_differences
        .iter()
        .map(|c| {
            let idx: Vec<String> = c.index.iter().map(usize::to_string).collect();
            format!("{}[{}]", c.symbol, idx.join(","))
        })
        .collect();
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    for (c, label) in e.finite_differences.iter().zip(&labels) {
        let pad = " ".repeat(width - label.chars().count());
        out.push_str(&format!(
            "  {label}{pad}  analytic {:>13}  numeric {:>13}  relative error {}\n",
            num(c.analytic, opts.digits),
            num(c.numeric, opts.digits),
            num(c.rel_error, 2)
        ));
    }
    if e.finite_differences.is_empty() {
        out.push_str("  (no entries checked)\n");
    }
    out
}

/// `  symbol = formula  (shape) = value`, continued on aligned lines for a matrix.
fn render_step(s: &Step, opts: &ExplainOptions) -> String {
    let mut head = format!("  {}", s.symbol);
    let scalar_const = matches!(s.value, Value::Scalar(v) if num(v, opts.digits) == s.formula);
    if !s.formula.is_empty() && !scalar_const {
        head.push_str(" = ");
        head.push_str(&s.formula);
    }
    match s.shape.as_slice() {
        [] => {}
        [n] => head.push_str(&format!("  ({n})")),
        [r, c] => head.push_str(&format!("  ({r}×{c})")),
        _ => {}
    }
    head.push_str(" = ");
    let indent = head.chars().count();
    let body = match &s.value {
        Value::Scalar(v) => num(*v, opts.digits),
        Value::Vector(v) => render_vector(v, opts),
        Value::Matrix(m) => render_matrix(m, indent, opts),
    };
    format!("{head}{body}\n")
}

fn render_vector(v: &[f64], opts: &ExplainOptions) -> String {
    let cells = |xs: &[f64]| -> Vec<String> { xs.iter().map(|&x| num(x, opts.digits)).collect() };
    if v.len() <= opts.max_vector {
        return format!("[{}]", cells(v).join(", "));
    }
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    format!(
        "[{}, …, {}]  ‖·‖ = {}",
        cells(&v[..4]).join(", "),
        cells(&v[v.len() - 2..]).join(", "),
        num(norm, opts.digits)
    )
}

fn render_matrix(m: &[Vec<f64>], indent: usize, opts: &ExplainOptions) -> String {
    let rows = m.len();
    let cols = m.first().map_or(0, Vec::len);
    let (max_r, max_c) = opts.max_matrix;
    let full = rows <= max_r && cols <= max_c;
    // A corner of a large matrix: its first rows and columns.
    let (show_r, show_c) = if full {
        (rows, cols)
    } else {
        (rows.min(3), cols.min(4))
    };
    let cells: Vec<Vec<String>> = m[..show_r]
        .iter()
        .map(|r| r[..show_c].iter().map(|&x| num(x, opts.digits)).collect())
        .collect();
    let width: Vec<usize> = (0..show_c)
        .map(|j| {
            cells
                .iter()
                .map(|r| r[j].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let more_cols = if show_c < cols { ", …" } else { "" };
    let mut lines: Vec<String> = cells
        .iter()
        .map(|r| {
            let padded: Vec<String> = r
                .iter()
                .zip(&width)
                .map(|(c, &w)| format!("{c:>w$}"))
                .collect();
            format!("[{}{more_cols}]", padded.join(", "))
        })
        .collect();
    if show_r < rows {
        lines.push("…".to_string());
    }
    // Rows after the first line up under the first row's own bracket.
    let pad = " ".repeat(indent + 1);
    let mut out = format!("[{}]", lines.join(&format!(",\n{pad}")));
    if !full {
        let norm = m.iter().flatten().map(|x| x * x).sum::<f64>().sqrt();
        let at = " ".repeat(indent);
        out = format!(
            "‖·‖_F = {}, top-left corner:\n{at}{out}",
            num(norm, opts.digits)
        );
    }
    out
}

/// A number with `digits` significant digits, trailing zeros dropped (like C's %g).
fn num(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".into();
    }
    let digits = digits.max(1);
    let exp = v.abs().log10().floor() as i32;
    if (-4..digits as i32).contains(&exp) {
        let decimals = (digits as i32 - 1 - exp).max(0) as usize;
        let s = format!("{v:.decimals$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        // Rounding may carry into a new digit (9.999995 → 10.0000): still fine to print.
        if s == "-0" {
            "0".into()
        } else {
            s
        }
    } else {
        let s = format!("{:.*e}", digits - 1, v);
        match s.split_once('e') {
            Some((mant, e)) if mant.contains('.') => {
                format!("{}e{e}", mant.trim_end_matches('0').trim_end_matches('.'))
            }
            _ => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::num;

    #[test]
    fn numbers_have_six_significant_digits() {
        assert_eq!(num(0.123456789, 6), "0.123457");
        assert_eq!(num(-1234.5678, 6), "-1234.57");
        assert_eq!(num(1.0, 6), "1");
        assert_eq!(num(1.5e-7, 6), "1.5e-7");
        assert_eq!(num(2.0e9, 6), "2e9");
        assert_eq!(num(0.0, 6), "0");
        assert_eq!(num(f64::NAN, 6), "NaN");
    }
}
