//! The confusion section beyond [`DRAWN`] classes: the most frequent confusions as a list and
//! a per-class table, instead of a q × q matrix that would grow the page with q².

use std::fmt::Write;

use super::{esc, Classes};

/// The most classes whose confusion matrix is drawn whole.
pub const DRAWN: usize = 30;
/// How many of the most frequent confusions the summary lists.
pub const TOP: usize = 20;
/// The most rows of the summary's per-class table (those of largest support, then by name).
pub const PER_CLASS_ROWS: usize = 1000;

/// The `(count, true, predicted)` of the `TOP` most frequent errors, most frequent first (then
/// in class order), from one pass over the matrix that keeps only those.
pub fn top_confusions(confusion: &[Vec<u64>]) -> Vec<(u64, usize, usize)> {
    let mut top: Vec<(u64, usize, usize)> = Vec::with_capacity(TOP + 1);
    for (t, row) in confusion.iter().enumerate() {
        for (p, &v) in row.iter().enumerate() {
            if t == p || v == 0 {
                continue;
            }
            let worse = |e: &(u64, usize, usize)| e.0 > v || (e.0 == v && (e.1, e.2) < (t, p));
            if top.len() == TOP && top.last().is_some_and(&worse) {
                continue;
            }
            let at = top.partition_point(worse);
            top.insert(at, (v, t, p));
            top.truncate(TOP);
        }
    }
    top
}

/// The section for many classes: accuracy, the top confusions, the per-class table.
pub fn summary(out: &mut String, c: &Classes) {
    let q = c.names.len();
    let n: u64 = c.confusion.iter().flatten().sum();
    let correct: u64 = (0..q)
        .map(|k| {
            c.confusion
                .get(k)
                .and_then(|r| r.get(k))
                .copied()
                .unwrap_or(0)
        })
        .sum();
    let name = |k: usize| esc(c.names.get(k).map_or("", String::as_str));
    let _ = writeln!(
        out,
        "<section id=\"confusion\">\n<h2>Where the model errs</h2>\n<p>{}: accuracy \
         <strong>{:.2}%</strong> ({correct} of {n}).</p>\n<p class=\"muted\">{q} classes: too \
         many to draw the {q} × {q} confusion matrix (it is drawn up to {DRAWN}); the most \
         frequent confusions and the scores of each class instead.</p>\n<div class=\"cols\">\n\
         <div id=\"top-confusions\">\n<h3>Most frequent confusions</h3>",
        esc(&c.set),
        100.0 * c.accuracy
    );
    let top = top_confusions(&c.confusion);
    if top.is_empty() {
        out.push_str("<p>None: every row is predicted right.</p>\n");
    } else {
        out.push_str("<table>\n<tr><th>true</th><th>predicted</th><th>rows</th></tr>\n");
        for (v, t, p) in &top {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{v}</td></tr>",
                name(*t),
                name(*p)
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("</div>\n<div id=\"per-class\">\n<h3>Per class</h3>\n");
    let mut order: Vec<usize> = (0..c.per_class.len()).collect();
    if order.len() > PER_CLASS_ROWS {
        order.sort_by_key(|&k| std::cmp::Reverse(c.per_class[k].support));
        order.truncate(PER_CLASS_ROWS);
        order.sort_unstable();
        let _ = writeln!(
            out,
            "<p class=\"muted\">The {PER_CLASS_ROWS} classes with the most rows, of {}.</p>",
            c.per_class.len()
        );
    }
    out.push_str(
        "<table>\n<tr><th>class</th><th>support</th><th>precision</th><th>recall</th><th>F1</th></tr>\n",
    );
    for s in order.iter().filter_map(|&k| c.per_class.get(k)) {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>",
            esc(&s.class),
            s.support,
            s.precision,
            s.recall,
            s.f1
        );
    }
    out.push_str("</table>\n</div>\n</div>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_confusions_are_the_largest_off_diagonal_counts() {
        let mut m = vec![vec![0u64; 40]; 40];
        for t in 0..40 {
            m[t][t] = 100;
            m[t][(t + 1) % 40] = t as u64;
        }
        m[3][7] = 39;
        let top = top_confusions(&m);
        assert_eq!(top.len(), TOP);
        assert_eq!(top[0], (39, 3, 7));
        assert_eq!(top[1], (39, 39, 0));
        assert_eq!(top[2], (38, 38, 39));
        assert!(top.windows(2).all(|w| w[0].0 >= w[1].0));
        assert!(top_confusions(&[vec![5, 0], vec![0, 5]]).is_empty());
    }
}
