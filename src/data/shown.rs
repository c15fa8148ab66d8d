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
/// the one place that renders data into messages, with the escaping paths and every other
/// message field get too ([`crate::error::escaped`]). Control characters are escaped (`\n`,
/// `\r`, `\t`, `\0`, `\x1b`, `\u{85}`), as are bidirectional overrides and bytes that are
/// not UTF-8 (`\xff`); after 40 characters the rest is cut with `…`. Reads at most a few
/// hundred bytes, whatever the value's length.
pub fn shown(bytes: &[u8]) -> String {
    crate::error::escaped(bytes, SHOWN_CHARS)
}

/// A name or value already in a `String`, as `shown` renders it.
pub fn shown_str(text: &str) -> String {
    shown(text.as_bytes())
}
