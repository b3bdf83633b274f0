//! Placeholder and variable-reference filtering for generic rules.

use super::{Validated, Verdict};

/// Rejects values that name a secret rather than hold one: variable
/// references, templates, masked or repeated characters, example words.
pub(super) fn placeholder(s: &[u8]) -> Verdict {
    let lower = s.to_ascii_lowercase();
    let t = String::from_utf8_lossy(&lower);
    const WORDS: &[&str] = &[
        "changeme",
        "change_me",
        "change-me",
        "xxxx",
        "****",
        "....",
        "example",
        "placeholder",
        "your-",
        "your_",
        "yourpass",
        "<your",
        "dummy",
        "redacted",
        "sample",
        "todo",
        "fixme",
        "secret_here",
        "insert",
        "replace",
        "foobar",
        "password1",
        "passw0rd",
        "abcdef",
        "123456",
        "qwerty",
        "letmein",
        "notreal",
        "fake",
    ];
    if let Some(w) = WORDS.iter().find(|w| t.contains(**w)) {
        return Err(format!("placeholder word {w:?}"));
    }
    const SIGILS: &[&str] = &[
        "${",
        "{{",
        "$(",
        "%(",
        "<%",
        "#{",
        "os.environ",
        "process.env",
        "getenv",
    ];
    if let Some(w) = SIGILS.iter().find(|w| t.contains(**w)) {
        return Err(format!("variable reference {w:?}"));
    }
    if t.starts_with('$')
        || t.starts_with('<') && t.ends_with('>')
        || t.starts_with('%') && t.ends_with('%')
    {
        return Err("variable reference".into());
    }
    let first = s.first().copied().unwrap_or(0);
    if s.iter().all(|&b| b == first) {
        return Err("one repeated character".into());
    }
    Ok(Validated::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_rejected() {
        for p in [
            "${SECRET}",
            "changeme",
            "xxxxxxxx",
            "<your-secret>",
            "os.environ['X']",
        ] {
            assert!(placeholder(p.as_bytes()).is_err(), "{p}");
        }
        assert!(placeholder(b"T7q9mZ2vX8kP4rL1").is_ok());
    }
}
