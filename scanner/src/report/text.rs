//! The human report: one block per finding (rule, place, redacted secret,
//! fingerprint, what to do), sanitized, coloured only on a terminal.

use std::io::Write;

use anyhow::Result;

use super::ReportContext;
use crate::finding::Finding;
use crate::sanitize::{sanitize, sanitize_line};

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// `path:line:column`, after the repository (`URL path:line:column`) in a
/// scan of several repositories.
fn place(f: &Finding) -> String {
    let at = format!("{}:{}:{}", sanitize_line(&f.path), f.line, f.column);
    match f.provenance.as_ref().and_then(|p| p.repository.as_deref()) {
        Some(repo) => format!("{} {at}", sanitize_line(repo)),
        None => at,
    }
}

/// Findings sharing a fingerprint (one secret in many blobs, paths or
/// commits) print as one block: the first in full, then the other places.
pub fn render(findings: &[Finding], ctx: &ReportContext<'_>, out: &mut dyn Write) -> Result<()> {
    let p = Paint(ctx.color);
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for f in findings {
        match index.get(f.fingerprint.as_str()) {
            Some(&i) => groups[i].push(f),
            None => {
                index.insert(&f.fingerprint, groups.len());
                groups.push(vec![f]);
            }
        }
    }
    for group in &groups {
        let f = group[0];
        let live = f
            .verification
            .as_ref()
            .is_some_and(|v| v.status == crate::finding::VerifyStatus::Live);
        let marker = if live {
            // What it can reach, when the provider said so (issue 14).
            let access = f.verification.as_ref().map_or(&[][..], |v| &v.access[..]);
            let reach = if access.is_empty() {
                String::new()
            } else {
                let mut shown: Vec<String> =
                    access.iter().take(6).map(|a| sanitize_line(a)).collect();
                if access.len() > 6 {
                    shown.push(format!("+{} more", access.len() - 6));
                }
                format!("(can reach: {}) ", shown.join(", "))
            };
            format!("{}{reach}", p.wrap("1;31", "LIVE "))
        } else {
            String::new()
        };
        writeln!(
            out,
            "{marker}{} {} [{}]",
            p.wrap("1", &sanitize_line(&f.name)),
            p.wrap("2", &f.rule),
            f.category
        )?;
        // A file gone from HEAD: where to find it (commit and date) beside it.
        let gone = match &f.provenance {
            Some(prov) if prov.deleted => format!(
                "  (deleted; in commit {} of {})",
                &prov.commit[..prov.commit.len().min(12)],
                prov.date.get(..10).unwrap_or(&prov.date)
            ),
            _ => String::new(),
        };
        writeln!(out, "  {}{gone}", p.wrap("36", &place(f)))?;
        if let Some(prov) = &f.provenance {
            writeln!(
                out,
                "  commit {} by {} <{}> on {}: {}",
                &prov.commit[..prov.commit.len().min(12)],
                sanitize(&prov.author),
                sanitize(&prov.email),
                prov.date,
                sanitize(&prov.message)
            )?;
        }
        writeln!(
            out,
            "  secret: {}  (entropy {:.2})",
            sanitize(&f.secret),
            f.entropy
        )?;
        for (k, v) in &f.details {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            writeln!(out, "  {k}: {}", sanitize(&v))?;
        }
        if let Some(v) = &f.verification {
            writeln!(
                out,
                "  verification: {} ({})",
                v.status.as_str(),
                sanitize(&v.detail)
            )?;
        }
        writeln!(out, "  fingerprint: {}", f.fingerprint)?;
        if group.len() > 1 {
            let more = group.len() - 1;
            writeln!(
                out,
                "  same secret at {more} more place{}:",
                if more == 1 { "" } else { "s" }
            )?;
            for g in &group[1..] {
                let place = place(g);
                match &g.provenance {
                    Some(prov) => writeln!(
                        out,
                        "    {}  commit {} ({})",
                        p.wrap("36", &place),
                        &prov.commit[..prov.commit.len().min(12)],
                        prov.date
                    )?,
                    None => writeln!(out, "    {}", p.wrap("36", &place))?,
                }
            }
        }
        if let Some(r) = ctx.rules.get(&f.rule) {
            writeln!(out, "  fix: {}", r.rule.remediation_text())?;
        }
        writeln!(out)?;
    }
    Ok(())
}
