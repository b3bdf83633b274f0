//! JSON (an array of findings) and JSON lines (one finding per line). The
//! secret field is whatever the scan put there: redacted unless asked.

use std::io::Write;

use anyhow::Result;

use crate::finding::Finding;
use crate::matcher::RuleSet;

pub fn render_array(findings: &[Finding], rules: &RuleSet, out: &mut dyn Write) -> Result<()> {
    let values = findings
        .iter()
        .map(|f| value(f, rules))
        .collect::<Result<Vec<_>>>()?;
    let text = serde_json::to_string_pretty(&values)?;
    writeln!(out, "{}", escape_invisible(&text))?;
    Ok(())
}

pub fn render_lines(findings: &[Finding], rules: &RuleSet, out: &mut dyn Write) -> Result<()> {
    for f in findings {
        let line = serde_json::to_string(&value(f, rules)?)?;
        writeln!(out, "{}", escape_invisible(&line))?;
    }
    Ok(())
}

/// A finding as JSON, with its rule's `severity` (`critical`, `high`,
/// `medium`, `low`, from the rule's security-severity) and `confidence`
/// (unless the finding carries its own).
fn value(f: &Finding, rules: &RuleSet) -> Result<serde_json::Value> {
    let mut v = serde_json::to_value(f)?;
    if let (Some(obj), Some(cr)) = (v.as_object_mut(), rules.get(&f.rule)) {
        obj.entry("severity")
            .or_insert_with(|| severity_label(cr.rule.severity()).into());
        obj.entry("confidence").or_insert_with(|| {
            crate::validate::confidence::of(f, Some(&cr.rule))
                .as_str()
                .into()
        });
    }
    Ok(v)
}

/// GitHub's bands for a security-severity score.
pub fn severity_label(score: f32) -> &'static str {
    if score >= 9.0 {
        "critical"
    } else if score >= 7.0 {
        "high"
    } else if score >= 4.0 {
        "medium"
    } else {
        "low"
    }
}

/// serde_json escapes control characters but passes bidi overrides and
/// zero-width characters through raw; a file name holding one would
/// reorder what a terminal shows. They can only occur inside JSON strings,
/// so `\uXXXX` escapes keep the JSON equal in value.
pub fn escape_invisible(json: &str) -> String {
    if !json.chars().any(crate::sanitize::is_invisible) {
        return json.to_string();
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if crate::sanitize::is_invisible(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn bidi_in_strings_is_escaped_and_value_preserved() {
        let v = serde_json::json!({"path": "a\u{202E}b\u{200B}c"});
        let text = super::escape_invisible(&v.to_string());
        assert!(
            text.contains("\\u202e") && text.contains("\\u200b"),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }
}
