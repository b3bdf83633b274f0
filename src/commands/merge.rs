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
