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

/// A name printed whole where a terminal may show it (a predicted class on a terminal's
/// stdout): escaped as [`shown`] escapes it, cut only past [`crate::error::PATH_SHOWN`]
/// characters.
pub fn shown_whole(text: &str) -> String {
    crate::error::escaped(text.as_bytes(), crate::error::PATH_SHOWN)
}

/// JSON text (from serde_json) safe on a terminal and exact for a parser: serde_json escapes
/// only the C0 controls, so DEL, the C1 controls (U+009B is CSI on some terminals), bidi
/// overrides, isolates and marks and the line and paragraph separators are written here as
/// `\u` escapes too. They can only stand inside JSON strings, where `\uXXXX` reads back as
/// the same character.
pub fn json_safe(json: String) -> String {
    if !json.chars().any(terminal_unsafe) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if terminal_unsafe(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters that serde_json leaves raw and a terminal acts on or that reorder text.
fn terminal_unsafe(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{9f}' | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// ` (did you mean `species`?)` for a mistyped column name, the closest of `names` as clap
/// suggests a flag (Jaro similarity above 0.7, the most similar); empty when none is close.
pub fn did_you_mean(name: &str, names: &[String]) -> String {
    let best = names
        .iter()
        .map(|n| (strsim::jaro(name, n), n))
        .filter(|(score, n)| *score > 0.7 && n.as_str() != name)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, n)) => format!(" (did you mean `{}`?)", shown_str(n)),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_its_value_and_loses_the_controls() {
        let name = "\u{202e}gnp.exe\u{9b}2J\u{7f}\u{2028}é\x1b";
        let json = json_safe(serde_json::to_string(&serde_json::json!({ "class": name })).unwrap());
        assert!(
            !json.contains(['\u{202e}', '\u{9b}', '\u{7f}', '\u{2028}', '\x1b']),
            "{json}"
        );
        assert!(
            json.contains("\\u202egnp.exe\\u009b2J\\u007f\\u2028é\\u001b"),
            "{json}"
        );
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["class"], name);
    }

    #[test]
    fn whole_names_are_escaped_but_not_cut() {
        let long = format!("\x1b]0;TITLE\x07{}", "x".repeat(100));
        let s = shown_whole(&long);
        assert_eq!(s, format!("\\x1b]0;TITLE\\x07{}", "x".repeat(100)));
    }
}
