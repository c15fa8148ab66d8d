//! The seed's computation graph (its Figure 3.6) as Graphviz DOT: data in circles, variables in
//! boxes, parameters bare; `builtin_svg` draws it (as the HTML report does), `render_svg`
//! pipes the DOT through Graphviz's `dot -Tsvg` on request.
//
// Nodes (10): x, y (data); z, h, o, L, s, J (variables); W1, W2 (parameters).
// Edges (11): x→z, W1→z, z→h, h→o, W2→o, o→L, y→L, W1→s, W2→s, L→J, s→J.
// Back-propagation walks these edges in reverse.

use std::io::{ErrorKind, Write};
use std::process::{Command, Stdio};

use crate::math::activation::Activation;
use crate::math::loss::Loss;

/// The sizes of a concrete model, to print on the graph.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphShapes {
    /// Inputs per sample, as W1 sees them (including the appended 1 when `bias`).
    pub d: usize,
    /// Hidden units.
    pub h: usize,
    /// Outputs (classes or targets).
    pub q: usize,
    /// The minibatch size B, when the graph is drawn for training.
    pub batch: Option<usize>,
    /// Whether the last input is the constant 1 standing in for a bias.
    pub bias: bool,
    /// φ.
    pub activation: Activation,
    /// ℓ.
    pub loss: Loss,
}

/// The graph as a standalone SVG document, drawn as the HTML report draws it (no Graphviz):
/// with `shapes`, the model's sizes; without, the symbols alone.
pub fn builtin_svg(shapes: Option<GraphShapes>) -> String {
    let g = match shapes {
        Some(g) => crate::show::html::Graph {
            d: g.d,
            h: g.h,
            q: g.q,
            bias: g.bias,
            batch: g.batch,
            activation: g.activation.name().into(),
            loss: g.loss.name().into(),
        },
        // No model: sizes drawn as the symbols d, h, q (numbers no model has, replaced).
        None => crate::show::html::Graph {
            d: SYMBOLS[0].0,
            h: SYMBOLS[1].0,
            q: SYMBOLS[2].0,
            bias: false,
            batch: None,
            activation: "φ".into(),
            loss: "ℓ".into(),
        },
    };
    let mut svg = crate::show::html::svg::graph(&g);
    for (n, sym) in SYMBOLS {
        svg = svg.replace(&n.to_string(), sym);
    }
    // Inline SVG in HTML needs no namespace and takes the page's font; a file needs both.
    let body = svg.strip_prefix("<svg ").unwrap_or(&svg);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
         font-family=\"sans-serif\" {body}\n"
    )
}

/// Stand-ins for d, h and q in a graph drawn without a model.
const SYMBOLS: [(usize, &str); 3] = [(9_000_001, "d"), (9_000_002, "h"), (9_000_003, "q")];

/// The nodes: DOT id, shape, the operation that makes it (empty for data and parameters).
const NODES: [(&str, &str, &str); 10] = [
    ("x", "circle", ""),
    ("W1", "plaintext", ""),
    ("z", "box", "z = W1 x"),
    ("h", "box", "h = φ(z)"),
    ("W2", "plaintext", ""),
    ("o", "box", "o = W2 h"),
    ("y", "circle", ""),
    ("L", "box", "L = ℓ(o, y)"),
    ("s", "box", "s = λ/2 (‖W1‖² + ‖W2‖²)"),
    ("J", "box", "J = L + s"),
];

/// The edges, from → to, in the order of the forward pass.
pub const EDGES: [(&str, &str); 11] = [
    ("x", "z"),
    ("W1", "z"),
    ("z", "h"),
    ("h", "o"),
    ("W2", "o"),
    ("o", "L"),
    ("y", "L"),
    ("W1", "s"),
    ("W2", "s"),
    ("L", "J"),
    ("s", "J"),
];

/// The computation graph in DOT, left to right. With `shapes`, every node also carries its
/// shape (`W1 (16×5)`) and the graph's caption names φ, ℓ and B.
pub fn dot(shapes: Option<GraphShapes>) -> String {
    let mut out = String::new();
    out.push_str("digraph mlp {\n");
    out.push_str("  rankdir=LR;\n");
    out.push_str("  node [fontname=\"Helvetica\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    let caption = match &shapes {
        None => "Figure 3.6: the L2-regularized one-hidden-layer perceptron, one sample".into(),
        Some(g) => {
            let mut c = format!(
                "one sample of an L2-regularized MLP: φ = {}, ℓ = {}",
                g.activation.name(),
                g.loss.name()
            );
            if g.bias {
                c.push_str(&format!(
                    "; x ends with a constant 1 (bias), so d = {} features + 1",
                    g.d.saturating_sub(1)
                ));
            }
            if let Some(b) = g.batch {
                c.push_str(&format!(
                    "; minibatches of B = {b} average L over their samples"
                ));
            }
            c
        }
    };
    out.push_str(&format!("  label=\"{}\";\n  labelloc=t;\n", esc(&caption)));

    for (id, shape, op) in NODES {
        let mut label = if op.is_empty() {
            id.to_string()
        } else {
            op.to_string()
        };
        if let Some(g) = &shapes {
            let dims = match id {
                "x" => format!("({})", g.d),
                "W1" => format!("({}×{})", g.h, g.d),
                "z" | "h" => format!("({})", g.h),
                "W2" => format!("({}×{})", g.q, g.h),
                "o" => format!("({})", g.q),
                "y" => match g.loss {
                    Loss::SoftmaxCe => format!("(class of {})", g.q),
                    Loss::HalfSquared => format!("({})", g.q),
                },
                _ => "(scalar)".to_string(),
            };
            // Circles grow with their label, so data gets its shape on a second line.
            let sep = if shape == "circle" { "\\n" } else { " " };
            label = format!("{}{sep}{}", esc(&label), dims);
        } else {
            label = esc(&label);
        }
        out.push_str(&format!("  {id} [shape={shape}, label=\"{label}\"];\n"));
    }
    for (from, to) in EDGES {
        out.push_str(&format!("  {from} -> {to};\n"));
    }
    out.push_str("}\n");
    out
}

/// Renders DOT to SVG with Graphviz's `dot -Tsvg`; an error with install advice when it is
/// not installed, or with dot's own message when it fails.
pub fn render_svg(dot: &str) -> Result<String, String> {
    render_svg_with("dot", dot)
}

/// As [`render_svg`], with the Graphviz program named (or given as a path) explicitly.
pub fn render_svg_with(program: &str, dot: &str) -> Result<String, String> {
    let mut child = match Command::new(program)
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(format!(
                "Graphviz's `{program}` program was not found on PATH; install Graphviz \
                 (Debian/Ubuntu: `apt-get install graphviz`, Fedora: `dnf install graphviz`, \
                 macOS: `brew install graphviz`, Windows: `winget install graphviz`), \
                 or write the DOT text and render it elsewhere"
            ))
        }
        Err(e) => return Err(format!("could not run `{program} -Tsvg`: {e}")),
    };
    // Write from a thread so that a large output cannot fill the pipe while we are writing.
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = dot.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .map_err(|e| format!("`{program} -Tsvg` failed: {e}"))?;
    let written = writer
        .join()
        .map_err(|_| format!("writing to `{program} -Tsvg` panicked"))?;
    if !output.status.success() {
        return Err(format!(
            "`{program} -Tsvg` exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    written.map_err(|e| format!("could not write to `{program} -Tsvg`: {e}"))?;
    String::from_utf8(output.stdout)
        .map_err(|e| format!("`{program} -Tsvg` wrote invalid UTF-8: {e}"))
}

/// Escapes a DOT double-quoted string.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
