//! The confidence of a generic (format-less) finding, scored from its parts:
//! the rule's own confidence, the strength of the key that names the value,
//! the value's shape, a real host on the line, and the file's kind. The
//! parts are kept in `details.score` (shown by JSON reports and `explain`);
//! the band becomes the finding's `confidence` (`low`..`high`; `very-high`
//! is left to checksummed formats).

use leakscan_rules::{Category, Confidence, Rule};
use serde_json::json;

use crate::finding::Finding;

fn rank(c: Confidence) -> i32 {
    match c {
        Confidence::Low => 0,
        Confidence::Medium => 1,
        Confidence::High => 2,
        Confidence::VeryHigh => 3,
    }
}

/// Orders confidences (`low` < `medium` < `high` < `very-high`).
pub fn at_least(c: Confidence, min: Confidence) -> bool {
    rank(c) >= rank(min)
}

fn band(points: i64) -> Confidence {
    match points {
        i64::MIN..=0 => Confidence::Low,
        1..=2 => Confidence::Medium,
        _ => Confidence::High,
    }
}

/// Whether the rule's findings are scored (generic and format-less rules).
pub fn scored(rule: &Rule) -> bool {
    rule.category == Category::Generic || rule.formatless
}

/// Files whose kind is configuration: a value there is set, not computed.
fn config_file(path: &str) -> bool {
    let name = path
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    const EXTS: &[&str] = &[
        ".env",
        ".yml",
        ".yaml",
        ".ini",
        ".cfg",
        ".conf",
        ".properties",
        ".toml",
        ".json",
        ".xml",
        ".config",
        ".cnf",
        ".tfvars",
        ".http",
    ];
    const NAMES: &[&str] = &[
        ".env",
        ".npmrc",
        ".pypirc",
        ".netrc",
        ".pgpass",
        ".git-credentials",
        ".my.cnf",
        ".dockercfg",
        "wp-config.php",
        "settings.py",
        "database.php",
        "local_settings.py",
    ];
    NAMES.contains(&name.as_str())
        || name.starts_with(".env.")
        || EXTS.iter().any(|e| name.ends_with(e))
}

/// Scores a finding from its line (`line_before`: the text of the line up
/// to the secret) and stores the parts in `details.score`; the path part
/// is added by [`apply_path`].
pub fn score(f: &mut Finding, rule: &Rule, line_before: &str, line_after: &str) {
    if !scored(rule) {
        return;
    }
    let mut parts: Vec<(String, i64)> = Vec::new();
    parts.push((
        format!("rule `{}` is {}", rule.id, rule.confidence.as_str()),
        i64::from(rank(rule.confidence)),
    ));
    let key = line_before
        .trim_end_matches(|c: char| c.is_whitespace() || "\"':=>,(\\".contains(c))
        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .next()
        .unwrap_or("");
    match super::generic::key_strength_of(key) {
        super::generic::KeyStrength::Weak if !key.is_empty() => {
            parts.push((format!("key `{key}` names a token or key (weak)"), 0))
        }
        super::generic::KeyStrength::Weak => {}
        _ => parts.push((format!("key `{key}` names a password or secret"), 1)),
    }
    let v = f.raw.expose_str();
    let classes = [
        v.chars().any(|c| c.is_ascii_lowercase()),
        v.chars().any(|c| c.is_ascii_uppercase()),
        v.chars().any(|c| c.is_ascii_digit()),
        v.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if v.len() >= 20 && classes >= 3 && f.entropy >= 4.0 {
        parts.push((
            format!(
                "{} characters, {classes} character classes, entropy {:.1}",
                v.len(),
                f.entropy
            ),
            1,
        ));
    } else if v.len() < 12 {
        parts.push((format!("short value ({} characters)", v.len()), -1));
    }
    let line = format!("{line_before} {line_after}").to_ascii_lowercase();
    let host = line
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .find(|w| w.contains('.') && super::generic::real_host(w));
    if let Some(h) = host {
        parts.push((format!("real host {h}"), 1));
    }
    let points: i64 = parts.iter().map(|p| p.1).sum();
    f.details.insert(
        "score".to_string(),
        json!({
            "points": points,
            "parts": parts.iter().map(|(t, p)| format!("{p:+} {t}")).collect::<Vec<_>>(),
        }),
    );
    apply_path(f);
}

/// Adds the file-kind part for the finding's path (known late in history
/// scans) and sets `details.score.confidence`.
pub fn apply_path(f: &mut Finding) {
    let path = f.path.clone();
    let Some(score) = f.details.get_mut("score").and_then(|s| s.as_object_mut()) else {
        return;
    };
    let base = score.get("points").and_then(|p| p.as_i64()).unwrap_or(0);
    let (file_points, file_part) = if path.is_empty() {
        (0, None)
    } else if let Some(why) = crate::pathclass::docs_or_tests(&path) {
        (-2, Some(format!("-2 {why}")))
    } else if config_file(&path) {
        (1, Some("+1 a configuration file".to_string()))
    } else {
        (0, None)
    };
    if let Some(parts) = score.get_mut("parts").and_then(|p| p.as_array_mut()) {
        parts.retain(|p| !p.as_str().is_some_and(|s| s.starts_with("file: ")));
        if let Some(t) = file_part {
            parts.push(json!(format!("file: {t}")));
        }
    }
    score.insert(
        "confidence".to_string(),
        json!(band(base + file_points).as_str()),
    );
}

/// A finding's confidence: its score's band, else its rule's.
pub fn of(f: &Finding, rule: Option<&Rule>) -> Confidence {
    let scored = f
        .details
        .get("score")
        .and_then(|s| s.get("confidence"))
        .and_then(|c| c.as_str())
        .and_then(|c| serde_json::from_value(json!(c)).ok());
    scored.unwrap_or_else(|| rule.map_or(Confidence::default(), |r| r.confidence))
}
