//! Untrusted text in one-line messages: control characters and bidi overrides escaped, long
//! values cut; lists of names cut after twelve.

/// `a, b, c`, cut after 12 names: `a, b, … and 772 more`; each name as `shown` renders it.
pub fn list(names: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut s = names
        .iter()
        .take(SHOWN)
        .map(|n| shown_str(n))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(", … and {} more", names.len() - SHOWN));
    }
    s
}

/// How many characters of an untrusted value a message shows before cutting it with `…`.
pub(super) const SHOWN_CHARS: usize = 40;

/// Untrusted bytes (a field, a header name, a class name) as shown in a one-line message:
/// the one place that renders data into messages. Control characters are escaped (`\n`,
/// `\r`, `\t`, `\0`, `\x1b`, `\u{85}`), as are bidirectional overrides and bytes that are
/// not UTF-8 (`\xff`); after 40 characters the rest is cut with `…`. Reads at most a few
/// hundred bytes, whatever the value's length.
pub fn shown(bytes: &[u8]) -> String {
    let head = bytes.get(..SHOWN_CHARS * 4 + 4).unwrap_or(bytes);
    let mut out = String::new();
    let mut chars = 0;
    let mut cut = false;
    'chunks: for chunk in head.utf8_chunks() {
        for c in chunk.valid().chars() {
            if chars == SHOWN_CHARS {
                cut = true;
                break 'chunks;
            }
            chars += 1;
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\0' => out.push_str("\\0"),
                c if (c as u32) < 0x80 && c.is_control() => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if c.is_control()
                    || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
                {
                    out.push_str(&format!("\\u{{{:x}}}", c as u32))
                }
                c => out.push(c),
            }
        }
        for &b in chunk.invalid() {
            if chars == SHOWN_CHARS {
                cut = true;
                break 'chunks;
            }
            chars += 1;
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if cut || head.len() < bytes.len() {
        out.push('…');
    }
    out
}

/// A name or value already in a `String`, as `shown` renders it.
pub fn shown_str(text: &str) -> String {
    shown(text.as_bytes())
}
