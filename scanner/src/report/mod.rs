//! Reports: render findings (read-only) as text, JSON, JSON lines; SARIF
//! and a self-contained HTML page live beside them. Each writes to a writer it is given.

pub mod github;
pub mod html;
pub mod json;
pub mod sarif;
pub mod text;

use std::io::Write;

use anyhow::Result;

use crate::finding::Finding;
use crate::matcher::RuleSet;
use crate::stats::Stats;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Jsonl,
    Sarif,
    Html,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "text" => Some(Format::Text),
            "json" => Some(Format::Json),
            "jsonl" => Some(Format::Jsonl),
            "sarif" => Some(Format::Sarif),
            "html" => Some(Format::Html),
            _ => None,
        }
    }
}

/// What a report needs besides the findings.
pub struct ReportContext<'a> {
    pub rules: &'a RuleSet,
    pub stats: &'a Stats,
    /// ANSI colour (text on a terminal only).
    pub color: bool,
}

pub fn render(
    format: Format,
    findings: &[Finding],
    ctx: &ReportContext<'_>,
    out: &mut dyn Write,
) -> Result<()> {
    match format {
        Format::Text => text::render(findings, ctx, out),
        Format::Json => json::render_array(findings, ctx.rules, out),
        Format::Jsonl => json::render_lines(findings, ctx.rules, out),
        Format::Sarif => sarif::render(findings, ctx, out),
        Format::Html => html::render(findings, ctx, out),
    }
}

/// One-paragraph summary for stderr: files, bytes, skips, findings, time.
pub fn summary(stats: &Stats) -> String {
    let plural = |n: u64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    // A history scan reads blobs (each once) of commits, not files.
    let what = match stats.commits_scanned {
        Some(c) => format!(
            "{}, {}",
            plural(c, "commit"),
            plural(stats.files_scanned, "blob")
        ),
        None => plural(stats.files_scanned, "file"),
    };
    let mut s = format!(
        "scanned {what} ({}) in {:.2}s; {} finding{}",
        human_bytes(stats.bytes_scanned),
        stats.elapsed_ms as f64 / 1000.0,
        stats.findings,
        if stats.findings == 1 { "" } else { "s" }
    );
    let suppressed: u64 = stats.suppressed.values().sum();
    if suppressed > 0 {
        let parts: Vec<String> = stats
            .suppressed
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        s.push_str(&format!("; {suppressed} suppressed: {}", parts.join(", ")));
    }
    if !stats.skipped.is_empty() {
        let parts: Vec<String> = stats
            .skipped
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        s.push_str(&format!("; skipped: {}", parts.join(", ")));
        if stats.skipped.contains_key(crate::stats::reason::GITIGNORED) {
            s.push_str(" (--no-ignore scans gitignored files)");
        }
        if stats.skipped.contains_key(crate::stats::reason::SHALLOW) {
            s.push_str(
                "; a shallow clone: the history before its boundary was not scanned \
                 (git fetch --unshallow, or fetch-depth: 0 in GitHub Actions)",
            );
        }
    }
    if let Some(errors) = read_errors(stats) {
        s.push_str("; ");
        s.push_str(&errors);
    }
    s
}

/// `N read errors:` and the errors, one an indented line; `None` if there
/// were none. Printed even with `--quiet`.
pub fn read_errors(stats: &Stats) -> Option<String> {
    if stats.errors_total == 0 {
        return None;
    }
    let mut s = format!(
        "{} read error{}:",
        stats.errors_total,
        if stats.errors_total == 1 { "" } else { "s" }
    );
    for e in &stats.errors {
        // Sources sanitize what they put here; sanitizing again is a
        // no-op on clean text and a guard against one that forgot.
        s.push_str(&format!("\n  {}", crate::sanitize::sanitize_line(e)));
    }
    if stats.errors_total as usize > stats.errors.len() {
        s.push_str(&format!(
            "\n  ... and {} more",
            stats.errors_total as usize - stats.errors.len()
        ));
    }
    Some(s)
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
