//! SARIF 2.1.0 for GitHub code scanning: one run, the rules that fired, one
//! result per finding with a repository-relative location. Never the secret.
//!
//! SARIF always leaves the secret out, even with `--no-redact`: the file is
//! uploaded and shown to everyone with code-scanning access.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;
use leakscan_rules::{Category, Confidence, Rule};
use serde_json::{Value, json};

use super::ReportContext;
use crate::finding::{Finding, VerifyStatus};

/// `$schema` of the log (the copy GitHub's docs point to).
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The key of leakscan's own fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "leakscan/v1";
/// `runAutomationDetails.id` when none is given.
pub const DEFAULT_CATEGORY: &str = "leakscan/";
/// Where users learn about the tool.
pub const INFORMATION_URI: &str = "https://github.com/leakscan/leakscan";
/// GitHub keeps at most 1024 characters of a rule description.
const MAX_DESCRIPTION: usize = 1024;

/// Options of the SARIF report that the other formats don't have.
#[derive(Debug, Clone, Default)]
pub struct SarifOptions {
    /// `runAutomationDetails.id`; a `/` is appended when missing, as
    /// upload-sarif does with its `category` input. Default `leakscan/`.
    pub category: Option<String>,
}

impl SarifOptions {
    pub fn automation_id(&self) -> String {
        match self.category.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_CATEGORY.to_string(),
            Some(c) if c.ends_with('/') => c.to_string(),
            Some(c) => format!("{c}/"),
        }
    }
}

/// Writes the SARIF log with the default options.
pub fn render(findings: &[Finding], ctx: &ReportContext<'_>, out: &mut dyn Write) -> Result<()> {
    render_with(findings, ctx, &SarifOptions::default(), out)
}

/// Writes the SARIF log.
pub fn render_with(
    findings: &[Finding],
    ctx: &ReportContext<'_>,
    opts: &SarifOptions,
    out: &mut dyn Write,
) -> Result<()> {
    let log = to_value(findings, ctx, opts);
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)?;
    Ok(())
}

/// The SARIF log as a JSON value (keys sorted, results in report order).
pub fn to_value(findings: &[Finding], ctx: &ReportContext<'_>, opts: &SarifOptions) -> Value {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));

    // The rules that fired, by id; their index is their place in this list.
    let mut fired: BTreeMap<&str, RuleMeta> = BTreeMap::new();
    for f in &sorted {
        fired
            .entry(f.rule.as_str())
            .or_insert_with(|| RuleMeta::of(f, ctx));
    }
    let index: BTreeMap<&str, usize> = fired.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let rules: Vec<Value> = fired.values().map(RuleMeta::to_value).collect();
    let results: Vec<Value> = sorted
        .iter()
        .map(|f| result(f, index[f.rule.as_str()], &fired[f.rule.as_str()]))
        .collect();

    let notifications: Vec<Value> = ctx
        .stats
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "warning",
                "message": { "text": non_empty(e) },
                "descriptor": { "id": "read-error" },
            })
        })
        .collect();
    let mut invocation = json!({
        "executionSuccessful": true,
        "properties": {
            "filesScanned": ctx.stats.files_scanned,
            "bytesScanned": ctx.stats.bytes_scanned,
            "skipped": ctx.stats.skipped,
            "errors": ctx.stats.errors_total,
        },
    });
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = Value::Array(notifications);
    }

    let version = env!("CARGO_PKG_VERSION");
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "leakscan",
                    "version": version,
                    "semanticVersion": version,
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                },
            },
            "automationDetails": { "id": opts.automation_id() },
            "columnKind": "unicodeCodePoints",
            "invocations": [invocation],
            "results": results,
        }],
    })
}

/// Rule metadata for one fired rule (from the rule set, or from the finding
/// when the rule is not in it).
struct RuleMeta {
    id: String,
    title: String,
    category: Category,
    severity: f32,
    confidence: Confidence,
    remediation: String,
    references: Vec<String>,
}

impl RuleMeta {
    fn of(f: &Finding, ctx: &ReportContext<'_>) -> RuleMeta {
        match ctx.rules.get(&f.rule) {
            Some(c) => RuleMeta::from_rule(&c.rule),
            None => RuleMeta {
                id: f.rule.clone(),
                title: f.name.clone(),
                category: f.category,
                severity: f.category.default_severity(),
                confidence: Confidence::default(),
                remediation: "Revoke the credential, replace it, and remove it from the code."
                    .into(),
                references: Vec::new(),
            },
        }
    }

    fn from_rule(r: &Rule) -> RuleMeta {
        RuleMeta {
            id: r.id.clone(),
            title: r.name.clone(),
            category: r.category,
            severity: r.severity(),
            confidence: r.confidence,
            remediation: r.remediation_text(),
            references: r.references.clone(),
        }
    }

    /// security-severity as GitHub wants it: a number in (0, 10] as a string.
    fn severity_string(&self) -> String {
        let s = if self.severity.is_finite() {
            self.severity.clamp(0.1, 10.0)
        } else {
            self.category.default_severity()
        };
        format!("{s:.1}")
    }

    fn to_value(&self) -> Value {
        let title = non_empty(&self.title);
        let full = truncate(
            &format!(
                "{title}: a {} credential committed to the repository. Anyone who can read \
                 the repository (or its history) can use it.",
                self.category
            ),
            MAX_DESCRIPTION,
        );
        let remediation = non_empty(&self.remediation);
        let mut help_text = format!(
            "{remediation}\n\nRemoving the line is not enough: the \
            credential stays in git history and in every clone. Revoke or rotate it first."
        );
        let mut help_md = format!(
            "**{}**\n\n{}\n\nRemoving the line is not enough: the credential stays in git \
             history and in every clone. Revoke or rotate it first.",
            md_escape(&title),
            md_escape(&remediation)
        );
        let refs: Vec<&String> = self.references.iter().filter(|r| is_web_uri(r)).collect();
        if !refs.is_empty() {
            help_text.push_str("\n\nReferences:");
            help_md.push_str("\n\nReferences:\n");
            for r in &refs {
                help_text.push_str(&format!("\n- {r}"));
                help_md.push_str(&format!("\n- <{r}>"));
            }
        }
        let mut rule = json!({
            "id": self.id,
            "name": pascal_case(&self.id),
            "shortDescription": { "text": truncate(&title, MAX_DESCRIPTION) },
            "fullDescription": { "text": full },
            "help": { "text": help_text, "markdown": help_md },
            "defaultConfiguration": { "level": level_for(self.severity) },
            "properties": {
                "tags": ["security", "secret", self.category.as_str(), "external/cwe/cwe-798"],
                "security-severity": self.severity_string(),
                "precision": self.confidence.as_str(),
            },
        });
        if let Some(first) = refs.first() {
            rule["helpUri"] = json!(first);
        }
        rule
    }
}

/// `error` for high and critical (security-severity ≥ 7), `warning` for
/// medium (≥ 4), `note` below, following GitHub's severity bands.
pub fn level_for(severity: f32) -> &'static str {
    if severity >= 7.0 {
        "error"
    } else if severity >= 4.0 {
        "warning"
    } else {
        "note"
    }
}

/// The result level: `error` when the credential was verified live, else
/// by the rule's security-severity.
pub fn result_level(f: &Finding, severity: f32) -> &'static str {
    match &f.verification {
        Some(v) if v.status == VerifyStatus::Live => "error",
        _ => level_for(severity),
    }
}

fn result(f: &Finding, rule_index: usize, meta: &RuleMeta) -> Value {
    let mut text = format!("{} ({})", non_empty(&meta.title), f.rule);
    if let Some(p) = &f.provenance {
        if let Some(repo) = &p.repository {
            text.push_str(&format!(" in repository {repo}"));
        }
        text.push_str(&format!(
            " introduced in commit {}; the location is the file as it was in that commit",
            p.commit
        ));
    }
    match f.verification.as_ref().map(|v| v.status) {
        Some(VerifyStatus::Live) => text.push_str(". Verified LIVE: revoke it now"),
        Some(VerifyStatus::Dead) => text.push_str(". Verified no longer valid"),
        _ => {}
    }
    let inner = f
        .details
        .get(crate::deep::INNER_PATH)
        .and_then(|v| v.as_str());
    if let Some(inner) = inner {
        // The location is the archive; the entry and its line are here.
        text.push_str(&format!(
            ", inside the archive at {inner} (line {}, column {})",
            f.line, f.column
        ));
    }
    text.push('.');

    let mut props = json!({ "category": f.category.as_str() });
    if let Some(inner) = inner {
        props["inner_path"] = json!(inner);
        props["inner_line"] = json!(f.line);
        props["inner_column"] = json!(f.column);
    }
    if let Some(p) = &f.provenance {
        props["commit"] = json!(p.commit);
        if let Some(repo) = &p.repository {
            props["repository"] = json!(repo);
        }
        if !p.author.is_empty() {
            props["author"] = json!(p.author);
        }
        if !p.date.is_empty() {
            props["date"] = json!(p.date);
        }
    }
    if let Some(v) = &f.verification {
        props["verification"] = json!(v.status.as_str());
    }

    let (line, column, end_line, end_column) = if inner.is_some() {
        (1, 1, 1, 1)
    } else {
        (f.line, f.column, f.end_line, f.end_column)
    };
    let line = line.max(1);
    let column = column.max(1);
    let end_line = end_line.max(line);
    let mut end_column = end_column.max(1);
    if end_line == line && end_column <= column {
        end_column = column + 1;
    }
    json!({
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": result_level(f, meta.severity),
        "message": { "text": text },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": artifact_location(crate::deep::outer_path(f)),
                "region": {
                    "startLine": line,
                    "startColumn": column,
                    "endLine": end_line,
                    "endColumn": end_column,
                },
            },
        }],
        "partialFingerprints": { FINGERPRINT_KEY: f.fingerprint },
        "properties": props,
    })
}

/// A relative path becomes a percent-encoded URI relative to `%SRCROOT%`;
/// an absolute one (the user scanned an absolute directory) a `file://` URI.
fn artifact_location(path: &str) -> Value {
    let p = path.replace('\\', "/");
    if p.starts_with('/') {
        return json!({ "uri": format!("file://{}", percent_encode_path(&p)) });
    }
    let mut rel = p.as_str();
    while let Some(r) = rel.strip_prefix("./") {
        rel = r;
    }
    json!({ "uri": percent_encode_path(rel), "uriBaseId": "%SRCROOT%" })
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `/`,
/// so spaces, `%`, `#`, `?`, `:` and non-ASCII survive as a valid
/// uri-reference.
pub fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push_str("%3Cunknown%3E");
    }
    out
}

/// `aws-access-key-id` → `AwsAccessKeyId` (SARIF's `name` is an identifier).
fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            match c.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// GitHub rejects empty required strings.
fn non_empty(s: &str) -> String {
    let t = s.trim();
    if t.is_empty() {
        "(none)".to_string()
    } else {
        crate::sanitize::sanitize(t)
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

fn is_web_uri(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > 8
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

/// Escapes Markdown punctuation so rule text renders literally.
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded_and_relative() {
        assert_eq!(percent_encode_path("src/a b.rs"), "src/a%20b.rs");
        assert_eq!(percent_encode_path("x/100%#?.txt"), "x/100%25%23%3F.txt");
        assert_eq!(percent_encode_path("é.txt"), "%C3%A9.txt");
        assert_eq!(
            artifact_location("./a/b.txt"),
            json!({"uri": "a/b.txt", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact_location("/tmp/x y"),
            json!({"uri": "file:///tmp/x%20y"})
        );
    }

    #[test]
    fn names_levels_and_categories() {
        assert_eq!(pascal_case("aws-access-key-id"), "AwsAccessKeyId");
        assert_eq!(level_for(9.0), "error");
        assert_eq!(level_for(7.0), "error");
        assert_eq!(level_for(6.0), "warning");
        assert_eq!(level_for(1.0), "note");
        let o = SarifOptions {
            category: Some("secrets".into()),
        };
        assert_eq!(o.automation_id(), "secrets/");
        assert_eq!(SarifOptions::default().automation_id(), "leakscan/");
    }
}
