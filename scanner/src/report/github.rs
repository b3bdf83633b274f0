//! GitHub Actions output: `::error` annotations escaped so that scanned
//! text can never become a workflow command, and the Markdown job summary
//! (redacted, capped below GitHub's 1 MiB step-summary limit).

use std::fmt::Write as _;

use crate::finding::{Finding, VerifyStatus};
use crate::sanitize::sanitize;

/// GitHub keeps 10 error annotations per step; more are dropped.
pub const MAX_ANNOTATIONS: usize = 10;
/// Rows of the summary table; the rest are counted and left to the SARIF.
pub const MAX_SUMMARY_ROWS: usize = 200;
/// The summary stays well under GitHub's 1 MiB per step.
pub const MAX_SUMMARY_BYTES: usize = 900 * 1024;
/// Longest text put in one table cell.
const MAX_CELL: usize = 160;

/// Escapes a workflow command's message: `%`, CR and LF.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value: as [`escape_data`] plus
/// `:` and `,`, which would end the value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A line that is safe to print in a workflow log: untrusted text never
/// starts a line with `::` (the runner trims leading white space before it
/// looks for a command), and control characters are escaped so the text
/// stays on its own line.
pub fn safe_log_line(s: &str) -> String {
    let s = sanitize(s);
    if s.trim_start().starts_with("::") {
        format!("> {s}")
    } else {
        s
    }
}

/// One `::error` annotation for a finding. Every piece of scanned text
/// (path, commit message, author) is sanitized, then escaped; the secret
/// itself is never included, redacted or not.
pub fn annotation(f: &Finding) -> String {
    let mut msg = format!("{} ({})", f.name, f.rule);
    if let Some(p) = &f.provenance {
        let short = &p.commit[..p.commit.len().min(12)];
        msg.push_str(&format!(" introduced in commit {short}"));
    }
    if let Some(v) = &f.verification
        && v.status == VerifyStatus::Live
    {
        msg.push_str(", verified LIVE: revoke it now");
    }
    msg.push_str(&format!(". Fingerprint {}.", f.fingerprint));
    let line = f.line.max(1);
    let end_line = f.end_line.max(line);
    let mut props = format!(
        "file={},line={line},endLine={end_line}",
        escape_property(&sanitize(&f.path))
    );
    // Columns only make sense on a single line for GitHub.
    if end_line == line {
        let col = f.column.max(1);
        let end_col = f.end_column.max(col + 1);
        props.push_str(&format!(",col={col},endColumn={end_col}"));
    }
    props.push_str(&format!(
        ",title={}",
        escape_property(&sanitize(&format!("Leaked credential: {}", f.name)))
    ));
    format!("::error {props}::{}", escape_data(&sanitize(&msg)))
}

/// The annotations to print: the first [`MAX_ANNOTATIONS`] findings, live
/// ones first, then by report order.
pub fn annotations(findings: &[Finding]) -> Vec<String> {
    let mut order: Vec<&Finding> = findings.iter().collect();
    let live = |f: &Finding| {
        f.verification
            .as_ref()
            .is_some_and(|v| v.status == VerifyStatus::Live)
    };
    // Stable sort: live ones first, the rest keep report order.
    order.sort_by_key(|f| std::cmp::Reverse(live(f)));
    order
        .into_iter()
        .take(MAX_ANNOTATIONS)
        .map(annotation)
        .collect()
}

/// What the summary says about the scan besides the findings.
#[derive(Debug, Clone, Default)]
pub struct SummaryInfo {
    /// What was scanned, e.g. "push: commits abc..def" (trusted text).
    pub scope: String,
    /// Notices shown above the table (trusted text).
    pub notices: Vec<String>,
    /// Where the SARIF file was written.
    pub sarif_file: Option<String>,
    pub files_scanned: u64,
    pub errors: u64,
}

/// The Markdown job summary: a header, the scope, then a table of the
/// findings (redacted secret, fingerprint; never the raw secret), capped at
/// [`MAX_SUMMARY_ROWS`] rows and [`MAX_SUMMARY_BYTES`].
pub fn job_summary(findings: &[Finding], info: &SummaryInfo) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## leakscan");
    let _ = writeln!(s);
    let _ = writeln!(s, "Scanned: {}", md_cell(&info.scope, 400));
    let _ = writeln!(s);
    for n in &info.notices {
        let _ = writeln!(s, "> [!NOTE]\n> {}\n", md_cell(n, 1000));
    }
    if findings.is_empty() {
        let _ = writeln!(s, "No leaked credentials found.");
    } else {
        let _ = writeln!(
            s,
            "**{} leaked credential{} found.** Revoke or rotate each one: removing it from the code \
             leaves it in git history.",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" }
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "| Rule | Location | Commit | Secret (redacted) | Verified | Fingerprint |"
        );
        let _ = writeln!(s, "| --- | --- | --- | --- | --- | --- |");
        let mut shown = 0usize;
        for f in findings.iter().take(MAX_SUMMARY_ROWS) {
            let row = summary_row(f);
            if s.len() + row.len() > MAX_SUMMARY_BYTES - 4096 {
                break;
            }
            s.push_str(&row);
            shown += 1;
        }
        if shown < findings.len() {
            let _ = writeln!(
                s,
                "\n{} more finding{} not shown here; see the SARIF file or the code scanning alerts.",
                findings.len() - shown,
                if findings.len() - shown == 1 { "" } else { "s" }
            );
        }
    }
    let _ = writeln!(s);
    let mut foot = format!("{} files or blobs scanned", info.files_scanned);
    if info.errors > 0 {
        foot.push_str(&format!(", {} read errors", info.errors));
    }
    if let Some(p) = &info.sarif_file {
        foot.push_str(&format!("; SARIF: {}", md_code(p)));
    }
    let _ = writeln!(s, "{foot}.");
    s
}

fn summary_row(f: &Finding) -> String {
    // The summary always redacts, even with --no-redact: `f.secret` may be
    // the whole secret then.
    let secret = crate::finding::redact(&f.raw.expose_str());
    let secret = if f.raw.is_empty() {
        // A finding that lost its raw bytes (e.g. read back from JSON):
        // show nothing rather than what `secret` holds.
        "…".to_string()
    } else {
        secret
    };
    let commit = f
        .provenance
        .as_ref()
        .map(|p| md_code(&p.commit[..p.commit.len().min(12)]))
        .unwrap_or_default();
    let verified = f
        .verification
        .as_ref()
        .map(|v| v.status.as_str())
        .unwrap_or("");
    format!(
        "| {} ({}) | {}:{} | {} | {} | {} | {} |\n",
        md_cell(&f.name, MAX_CELL),
        md_code(&f.rule),
        md_code(&truncate(&sanitize(&f.path), MAX_CELL)),
        f.line,
        commit,
        md_code(&sanitize(&secret)),
        verified,
        md_code(&f.fingerprint)
    )
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

/// Text for a table cell: sanitized, truncated, with Markdown and HTML
/// metacharacters escaped so scanned text can't add links, images or HTML.
pub fn md_cell(s: &str, max: usize) -> String {
    let s = truncate(&sanitize(s), max);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' => out.push_str("\\|"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Text shown as inline code in a table cell. Inside a code span Markdown
/// is inert, but `|` still splits the cell and backticks end the span, so
/// the text goes into an HTML `<code>` element with entities instead.
pub fn md_code(s: &str) -> String {
    let mut out = String::from("<code>");
    for c in sanitize(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' => out.push_str("&#124;"),
            '`' => out.push_str("&#96;"),
            '\\' => out.push_str("&#92;"),
            '*' => out.push_str("&#42;"),
            '_' => out.push_str("&#95;"),
            '[' => out.push_str("&#91;"),
            ']' => out.push_str("&#93;"),
            ':' => out.push_str("&#58;"),
            '@' => out.push_str("&#64;"),
            _ => out.push(c),
        }
    }
    out.push_str("</code>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_runner() {
        assert_eq!(escape_data("a%b\r\nc"), "a%25b%0D%0Ac");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn log_lines_never_start_a_command() {
        assert_eq!(safe_log_line("  ::error::x"), ">   ::error::x");
        assert_eq!(
            safe_log_line("a\n::set-output name=x::y"),
            "a\\n::set-output name=x::y"
        );
        assert_eq!(safe_log_line("plain"), "plain");
    }

    fn finding(i: usize, path: &str) -> Finding {
        Finding {
            rule: "aws-access-key-id".into(),
            name: "AWS access key id".into(),
            category: leakscan_rules::Category::CloudKey,
            path: path.into(),
            line: i + 1,
            column: 3,
            end_line: i + 1,
            end_column: 23,
            secret: "AKIA…".into(),
            fingerprint: format!("aws-access-key-id:{i:016x}"),
            entropy: 3.5,
            provenance: None,
            details: Default::default(),
            verification: None,
            snippet: None,
            raw: crate::finding::Secret::new(format!("AKIAFAKETESTKEY{i:05}")),
            span: (0, 0),
            context: Default::default(),
        }
    }

    #[test]
    fn at_most_ten_annotations_live_first_and_never_the_secret() {
        let mut fs: Vec<Finding> = (0..25).map(|i| finding(i, "a.env")).collect();
        fs[20].verification = Some(crate::finding::Verification {
            status: VerifyStatus::Live,
            detail: String::new(),
            access: Vec::new(),
        });
        let a = annotations(&fs);
        assert_eq!(a.len(), MAX_ANNOTATIONS);
        assert!(
            a[0].contains("line=21,") && a[0].contains("LIVE"),
            "{}",
            a[0]
        );
        assert!(a[1].contains("line=1,"));
        assert!(a.iter().all(|l| !l.contains("FAKETESTKEY")));
    }

    #[test]
    fn summary_is_capped_in_rows_and_bytes_and_redacted() {
        let long = "d/".repeat(2000);
        let fs: Vec<Finding> = (0..500).map(|i| finding(i, &long)).collect();
        let s = job_summary(&fs, &SummaryInfo::default());
        let rows = s.lines().filter(|l| l.starts_with("| AWS")).count();
        assert_eq!(rows, MAX_SUMMARY_ROWS);
        assert!(s.len() < 1024 * 1024);
        assert!(s.contains("300 more findings not shown"));
        assert!(!s.contains("FAKETESTKEY"));
        // Rows stop early rather than pass the byte cap.
        let huge = "x".repeat(MAX_CELL * 40);
        let fs: Vec<Finding> = (0..200).map(|i| finding(i, &huge)).collect();
        assert!(job_summary(&fs, &SummaryInfo::default()).len() <= MAX_SUMMARY_BYTES);
    }

    #[test]
    fn cells_cannot_break_the_table_or_add_html() {
        assert_eq!(md_cell("a|b<img>", 50), "a\\|b&lt;img&gt;");
        assert_eq!(md_code("x|`y`"), "<code>x&#124;&#96;y&#96;</code>");
    }
}
