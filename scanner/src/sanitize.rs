//! Makes attacker-controlled text (paths, snippets, commit messages, author
//! names) safe to show on a terminal or in a CI log: control characters,
//! escape sequences and bidi overrides are replaced by visible escapes.

/// Replaces control characters (C0, DEL, C1), Unicode bidi controls and
/// other invisible formatting characters with `\u{..}` escapes.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_dangerous(c) {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                _ => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// [`sanitize`] for text that may start a log line: also turns a leading
/// `::` (a GitHub Actions workflow command, even after spaces) into
/// `\u{3a}:`. Not for values inside a workflow command's properties, which
/// must keep the real text.
pub fn sanitize_line(text: &str) -> String {
    let clean = sanitize(text);
    let body = clean.trim_start_matches(' ');
    if body.starts_with("::") {
        let indent = clean.len() - body.len();
        format!("{}\\u{{3a}}{}", &clean[..indent], &body[1..])
    } else {
        clean
    }
}

/// Sanitizes bytes that may not be UTF-8: invalid sequences become U+FFFD.
pub fn sanitize_bytes(bytes: &[u8]) -> String {
    sanitize(&String::from_utf8_lossy(bytes))
}

fn is_dangerous(c: char) -> bool {
    c.is_control() || is_invisible(c)
}

/// Bidi controls and invisible formatting characters (not control
/// characters, so JSON encoders pass them through raw).
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' // zero-width, LRM, RLM
        | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
        | '\u{2060}'..='\u{2069}' // word joiner, bidi isolates
        | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_sequences_and_bidi() {
        assert_eq!(sanitize("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(sanitize("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(sanitize("line\nnext"), "line\\nnext");
        assert_eq!(sanitize("plain/path.rs"), "plain/path.rs");
    }

    #[test]
    fn neutralizes_leading_workflow_commands() {
        assert_eq!(sanitize_line("::error::pwned"), "\\u{3a}:error::pwned");
        assert_eq!(sanitize_line("  ::warning::x"), "  \\u{3a}:warning::x");
        assert_eq!(sanitize_line("\t::notice::x"), "\\t::notice::x");
        assert_eq!(sanitize_line("a::b"), "a::b");
        assert_eq!(sanitize("::error::kept"), "::error::kept");
    }
}
