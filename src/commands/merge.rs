//! `leakscan merge FILE...`: JSON-lines outputs of shards (or of a resumed
//! run) into one report in any format, each finding once.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use leakscan_scanner::Config;
use leakscan_scanner::finding::Finding;
use leakscan_scanner::report::{self, ReportContext};
use leakscan_scanner::scan::Scanner;
use leakscan_scanner::stats::Stats;

use crate::args::OutputFormat;

/// `leakscan merge` arguments.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON-lines reports (`--format jsonl`) to combine; `-` reads standard
    /// input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Config file whose rule packs describe the findings (titles, help,
    /// severity) [default: .leakscan.toml in the current project].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// SARIF `runAutomationDetails.id` category [default: leakscan/].
    #[arg(long, value_name = "CATEGORY")]
    pub sarif_category: Option<String>,
    /// Also append a Markdown summary (counts per repository and category,
    /// then the findings, redacted) to FILE, e.g. `$GITHUB_STEP_SUMMARY`.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// No summary on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// A finding's identity across outputs: the same repository, secret
/// (fingerprint) and place (path, line, column, commit). A repository
/// scanned by two shards, or twice around a kill, counts once; one secret
/// at several places stays several findings, as in a single scan.
type Key = (Option<String>, String, String, usize, usize, Option<String>);

fn key(f: &Finding) -> Key {
    let p = f.provenance.as_ref();
    (
        p.and_then(|p| p.repository.clone()),
        f.fingerprint.clone(),
        f.path.clone(),
        f.line,
        f.column,
        p.map(|p| p.commit.clone()),
    )
}

pub fn run(args: MergeArgs) -> Result<u8> {
    let mut seen: BTreeSet<Key> = BTreeSet::new();
    let mut findings = Vec::new();
    let mut read = 0usize;
    for file in &args.files {
        for f in read_jsonl(file)? {
            read += 1;
            if seen.insert(key(&f)) {
                findings.push(f);
            }
        }
    }
    super::multi::sort_by_repository(&mut findings);
    let config = Config::discover(args.config.as_deref(), Path::new("."))?;
    let scanner = Scanner::new(config, Default::default())?;
    let stats = Stats {
        findings: findings.len() as u64,
        ..Default::default()
    };
    let ctx = ReportContext {
        rules: scanner.matcher.rules(),
        stats: &stats,
        color: false,
    };
    // Whole secrets in (a `--no-redact` scan) stay private out.
    let whole = findings.iter().any(|f| !f.secret.ends_with('…'));
    let render =
        |w: &mut dyn Write| render_to(args.format, args.sarif_category.clone(), &findings, &ctx, w);
    match &args.output {
        Some(path) => {
            let file = super::create_report(path, whole)?;
            let mut w = std::io::BufWriter::new(file);
            render(&mut w)?;
            w.flush()
                .with_context(|| format!("writing report file {}", path.display()))?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            render(&mut w)?;
            w.flush().context("writing the report to standard output")?;
        }
    }
    if let Some(path) = &args.summary {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening summary file {}", path.display()))?;
        f.write_all(org_summary(&findings).as_bytes())
            .with_context(|| format!("writing summary file {}", path.display()))?;
    }
    if !args.quiet {
        let repos: BTreeSet<_> = findings
            .iter()
            .filter_map(|f| f.provenance.as_ref().and_then(|p| p.repository.as_deref()))
            .collect();
        eprintln!(
            "leakscan: merged {} file{}: {} finding{} in {} repositor{} ({} duplicate{} dropped)",
            args.files.len(),
            if args.files.len() == 1 { "" } else { "s" },
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            repos.len(),
            if repos.len() == 1 { "y" } else { "ies" },
            read - findings.len(),
            if read - findings.len() == 1 { "" } else { "s" },
        );
    }
    Ok(if findings.is_empty() { 0 } else { 1 })
}

/// The Markdown summary of a merged audit: findings per repository and per
/// category, then the capped table of the findings (every scanned string
/// escaped, secrets redacted).
pub fn org_summary(findings: &[Finding]) -> String {
    use leakscan_scanner::report::github::{SummaryInfo, job_summary, md_cell, md_code};
    use std::collections::BTreeMap;
    use std::fmt::Write as _;
    let mut per_repo: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
    let mut per_category: BTreeMap<&str, usize> = BTreeMap::new();
    for f in findings {
        let repo = f
            .provenance
            .as_ref()
            .and_then(|p| p.repository.as_deref())
            .unwrap_or("(local)");
        let e = per_repo.entry(repo).or_default();
        e.0 += 1;
        e.1.insert(&f.fingerprint);
        *per_category.entry(f.category.as_str()).or_default() += 1;
    }
    let secrets: BTreeSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let mut s = String::new();
    let _ = writeln!(s, "## leakscan organization audit\n");
    let _ = writeln!(
        s,
        "{} finding{} of {} distinct secret{} in {} repositor{}.\n",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        secrets.len(),
        if secrets.len() == 1 { "" } else { "s" },
        per_repo.len(),
        if per_repo.len() == 1 { "y" } else { "ies" }
    );
    if !per_repo.is_empty() {
        let _ = writeln!(
            s,
            "| Repository | Findings | Secrets |\n| --- | --- | --- |"
        );
        let mut repos: Vec<_> = per_repo.into_iter().collect();
        repos.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        for (repo, (n, fps)) in repos.iter().take(200) {
            let _ = writeln!(s, "| {} | {n} | {} |", md_code(repo), fps.len());
        }
        if repos.len() > 200 {
            let _ = writeln!(
                s,
                "\n{} more repositories in the reports.",
                repos.len() - 200
            );
        }
        let _ = writeln!(s, "\n| Category | Findings |\n| --- | --- |");
        for (c, n) in &per_category {
            let _ = writeln!(s, "| {} | {n} |", md_cell(c, 40));
        }
        let _ = writeln!(s);
    }
    let table = job_summary(findings, &SummaryInfo::default());
    // job_summary's own header and footer are for one repository's scan.
    let body: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("**") && !l.starts_with("No leaked"))
        .filter(|l| !l.ends_with("files or blobs scanned."))
        .collect();
    s.push_str(&body.join("\n"));
    s.push('\n');
    s
}

/// The findings of one JSON-lines report; a line that is not a finding is
/// an error naming file and line.
fn read_jsonl(file: &Path) -> Result<Vec<Finding>> {
    let reader: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(file)
                .with_context(|| format!("reading report {}", file.display()))?,
        ))
    };
    let mut out = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading report {}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let f: Finding = serde_json::from_str(&line).with_context(|| {
            format!(
                "{} line {}: not a leakscan finding (merge takes `--format jsonl` outputs)",
                file.display(),
                n + 1
            )
        })?;
        out.push(f);
    }
    Ok(out)
}

/// Renders findings of several repositories in `format`.
pub fn render_to(
    format: OutputFormat,
    sarif_category: Option<String>,
    findings: &[Finding],
    ctx: &ReportContext<'_>,
    w: &mut dyn Write,
) -> Result<()> {
    if format == OutputFormat::Sarif {
        let sarif = report::sarif::SarifOptions {
            category: sarif_category,
        };
        report::sarif::render_with(findings, ctx, &sarif, w)
    } else {
        report::render(format.to_report(), findings, ctx, w)
    }
}
