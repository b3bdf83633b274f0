//! `leakscan git URL...` / `--repos-file`: many repositories in one run.
//! Each remote is cloned (a mirror, by the system git) while the previous
//! one is scanned, scanned whole, and removed; findings carry their
//! `repository`; JSON lines are written as each repository finishes, and a
//! state file lets a killed run resume where it stopped.

use std::collections::BTreeSet;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use leakscan_scanner::ScanResult;
use leakscan_scanner::finding::{Finding, Provenance};
use leakscan_scanner::report::{self, ReportContext};
use leakscan_scanner::scan::{Scanner, sort_findings};
use leakscan_scanner::source::git::{GitReader, GitScanOptions, Mode};
use leakscan_scanner::stats::Stats;
use leakscan_scanner::suppress::{self, Suppressor};

use crate::args::{GitArgs, OutputFormat};
use crate::remote::{self, CloneHome, Shard};

/// The flags of a scan of several repositories (part of `leakscan git`).
#[derive(Debug, Args, Default)]
pub struct MultiArgs {
    /// More repositories: URLs (https://, ssh://, git://, file://,
    /// user@host:path) are cloned and scanned whole, paths scanned in place.
    #[arg(value_name = "URL")]
    pub more: Vec<String>,
    /// Scan the repositories listed in FILE (one URL or path a line, `#`
    /// comments; `-` reads standard input), e.g. from `leakscan repos`.
    #[arg(long, value_name = "FILE")]
    pub repos_file: Option<PathBuf>,
    /// Scan only shard I of N (1-based) of the repositories: a stable subset
    /// by hash of the URL, so N workers cover the list exactly once.
    #[arg(long, value_name = "I/N", value_parser = remote::parse_shard)]
    pub shard: Option<Shard>,
    /// Keep the clones in DIR and, on the next run, fetch into them instead
    /// of cloning again.
    #[arg(long, value_name = "DIR")]
    pub keep_clones: Option<PathBuf>,
    /// Record each finished repository in STATE; a run given the same STATE
    /// skips them (after a killed run). Needs --format jsonl; with --output
    /// the report is appended to.
    #[arg(long, value_name = "STATE")]
    pub resume: Option<PathBuf>,
}

impl MultiArgs {
    /// Whether this `leakscan git` scans several (or remote) repositories.
    pub fn wanted(&self, repo: Option<&Path>) -> bool {
        !self.more.is_empty()
            || self.repos_file.is_some()
            || self.shard.is_some()
            || self.keep_clones.is_some()
            || self.resume.is_some()
            || repo.is_some_and(|r| remote::is_url(&r.to_string_lossy()))
    }
}

/// Skip and error reason of a repository that could not be cloned or read.
pub const REPOSITORY_FAILED: &str = "repository-failed";

pub fn run(args: GitArgs) -> Result<u8> {
    let scan = &args.scan;
    if args.range.is_some() || args.since.is_some() {
        bail!(
            "--range and --since scan one checked-out repository; several repositories are each scanned whole"
        );
    }
    if scan.write_baseline.is_some() {
        bail!("`baseline create` takes one repository, not a list");
    }
    let mut list: Vec<String> = Vec::new();
    if let Some(r) = &args.repo {
        list.push(r.to_string_lossy().into_owned());
    }
    list.extend(args.multi.more.iter().cloned());
    if let Some(file) = &args.multi.repos_file {
        list.extend(remote::read_list(file)?);
    }
    let mut seen = BTreeSet::new();
    list.retain(|u| seen.insert(remote::display_url(u)));
    if let Some(shard) = args.multi.shard {
        list.retain(|u| shard.contains(u));
    }

    let mut state = match &args.multi.resume {
        Some(path) => {
            if scan.format != OutputFormat::Jsonl {
                bail!(
                    "--resume needs --format jsonl (findings of the repositories already done are in the earlier output)"
                );
            }
            Some(State::open(path)?)
        }
        None => None,
    };
    let done: BTreeSet<String> = state
        .as_ref()
        .map(|s| s.done.keys().cloned().collect())
        .unwrap_or_default();
    let total = list.len();
    let todo: Vec<String> = list
        .into_iter()
        .filter(|u| !done.contains(&remote::display_url(u)))
        .collect();
    let resumed = total - todo.len();

    let config = scan.discover_config(Path::new("."))?;
    let scanner = Scanner::new(config, scan.to_options())?;
    let supp = Suppressor::load(
        &scanner.config.root,
        scan.ignore_file.as_deref(),
        scan.baseline.as_deref(),
    )?;
    let home = CloneHome::new(args.multi.keep_clones.as_deref())?;
    let opts = GitScanOptions {
        branch: args.branch.clone(),
        all_objects: args.all_objects,
        range: None,
    };

    let mut out = Output::open(scan, state.as_ref())?;
    let streaming = scan.format == OutputFormat::Jsonl;
    let started = Instant::now();
    let mut stats = Stats::default();
    let mut kept: Vec<Finding> = Vec::new();
    let mut failed = 0usize;
    let mut scanned = 0usize;

    std::thread::scope(|s| -> Result<()> {
        // Clone the next repository while this one is scanned; at most one
        // clone waits on disk.
        let (tx, rx) = std::sync::mpsc::sync_channel::<(String, Result<(PathBuf, bool)>)>(1);
        let home = &home;
        let todo = &todo;
        s.spawn(move || {
            for url in todo {
                let got = if remote::is_url(url) {
                    let dest = home.path_for(url);
                    remote::clone_or_fetch(url, &dest).map(|()| (dest, true))
                } else {
                    Ok((PathBuf::from(url), false))
                };
                if tx.send((url.clone(), got)).is_err() {
                    break;
                }
            }
        });
        for (i, (url, got)) in rx.into_iter().enumerate() {
            let shown = remote::display_url(&url);
            let repo_started = Instant::now();
            let result = got.and_then(|(path, cloned)| {
                let inline_before = scanner.inline_allowed();
                let r = scanner
                    .scan_git_reader(&path, &opts, None, Mode::Match, GitReader::Pack)
                    .with_context(|| format!("scanning {shown}"));
                if cloned {
                    home.done_with(&path);
                }
                let mut r = r?;
                let inline = scanner.inline_allowed() - inline_before;
                if inline > 0 {
                    *r.stats
                        .suppressed
                        .entry(suppress::BY_INLINE.to_string())
                        .or_default() += inline;
                }
                Ok(r)
            });
            let mut result = match result {
                Ok(r) => r,
                Err(e) => {
                    failed += 1;
                    let msg = leakscan_scanner::sanitize::sanitize_line(&format!("{e:#}"));
                    if !scan.quiet {
                        eprintln!("leakscan: [{}/{}] {msg}", i + 1, todo.len());
                    }
                    stats.error(REPOSITORY_FAILED, msg);
                    continue;
                }
            };
            finish_repository(&scanner, &supp, scan, &shown, &mut result)?;
            if !scan.quiet {
                eprintln!(
                    "leakscan: [{}/{}] {}: {} finding{} ({} blobs, {}) in {:.2}s",
                    i + 1,
                    todo.len(),
                    leakscan_scanner::sanitize::sanitize_line(&shown),
                    result.findings.len(),
                    if result.findings.len() == 1 { "" } else { "s" },
                    result.stats.files_scanned,
                    report::human_bytes(result.stats.bytes_scanned),
                    repo_started.elapsed().as_secs_f64()
                );
            }
            let ctx = ReportContext {
                rules: scanner.matcher.rules(),
                stats: &result.stats,
                color: false,
            };
            if streaming {
                report::render(report::Format::Jsonl, &result.findings, &ctx, out.writer())?;
                let offset = out.flush()?;
                if let Some(state) = &mut state {
                    state.record(&shown, offset)?;
                }
            }
            scanned += 1;
            result.stats.findings = result.findings.len() as u64;
            stats.merge(std::mem::take(&mut result.stats));
            if !streaming {
                kept.append(&mut result.findings);
            }
        }
        Ok(())
    })?;

    stats.elapsed_ms = started.elapsed().as_millis() as u64;
    if !streaming {
        sort_by_repository(&mut kept);
        stats.findings = kept.len() as u64;
        let ctx = ReportContext {
            rules: scanner.matcher.rules(),
            stats: &stats,
            color: false,
        };
        super::merge::render_to(
            scan.format,
            scan.sarif_category.clone(),
            &kept,
            &ctx,
            out.writer(),
        )?;
        out.flush()?;
    }
    if let Some(path) = &scan.stats {
        super::stats::write(path, &stats)?;
    }
    if !scan.quiet {
        let mut line = format!(
            "scanned {scanned} of {total} repositories{}{}",
            if resumed > 0 {
                format!(" ({resumed} done before, skipped)")
            } else {
                String::new()
            },
            if failed > 0 {
                format!("; {failed} failed")
            } else {
                String::new()
            }
        );
        if stats.elapsed_ms > 0 {
            line.push_str(&format!(
                "; {:.1} repositories/s, {}/s",
                scanned as f64 * 1000.0 / stats.elapsed_ms as f64,
                report::human_bytes(stats.bytes_scanned * 1000 / stats.elapsed_ms)
            ));
        }
        eprintln!("leakscan: {line}");
        for l in report::summary(&stats).lines() {
            eprintln!("{l}");
        }
    } else if let Some(errors) = report::read_errors(&stats) {
        eprintln!("leakscan: {errors}");
    }
    // A repository that could not be scanned makes the result incomplete:
    // an error, even when others had findings.
    Ok(
        if failed > 0 || (scan.strict && stats.incomplete_total() > 0) {
            2
        } else if stats.findings > 0 {
            1
        } else {
            0
        },
    )
}

/// Tags, suppresses, verifies and orders one repository's findings.
fn finish_repository(
    scanner: &Scanner,
    supp: &Suppressor,
    scan: &crate::args::ScanArgs,
    shown: &str,
    result: &mut ScanResult,
) -> Result<()> {
    for f in &mut result.findings {
        f.provenance
            .get_or_insert_with(Provenance::default)
            .repository = Some(shown.to_string());
    }
    supp.apply(result);
    super::verify::apply(scanner, scan, result)?;
    if scan.no_snippet {
        for f in &mut result.findings {
            f.snippet = None;
        }
    }
    sort_findings(&mut result.findings);
    Ok(())
}

/// The order of a report of several repositories: by repository, then the
/// usual order within one.
pub fn sort_by_repository(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        let ra = a.provenance.as_ref().and_then(|p| p.repository.as_deref());
        let rb = b.provenance.as_ref().and_then(|p| p.repository.as_deref());
        (ra, a.sort_key()).cmp(&(rb, b.sort_key()))
    });
}

/// The report's destination: `--output` (appended to when resuming) or
/// standard output.
enum Output {
    File(std::io::BufWriter<std::fs::File>, PathBuf),
    Stdout(std::io::Stdout),
}

impl Output {
    fn open(scan: &crate::args::ScanArgs, state: Option<&State>) -> Result<Output> {
        let Some(path) = &scan.output else {
            return Ok(Output::Stdout(std::io::stdout()));
        };
        let resume_at = state.filter(|s| !s.done.is_empty()).map(|s| s.offset);
        let file = match resume_at {
            Some(offset) => {
                // Cut what a killed run wrote after its last finished
                // repository, then append.
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .with_context(|| {
                        format!(
                            "opening report file {} to resume (it must be the --output of the earlier run)",
                            path.display()
                        )
                    })?;
                f.set_len(offset)
                    .with_context(|| format!("truncating report file {}", path.display()))?;
                f.seek(std::io::SeekFrom::End(0))?;
                f
            }
            None => super::create_report(path, scan.no_redact)?,
        };
        Ok(Output::File(std::io::BufWriter::new(file), path.clone()))
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Output::File(w, _) => w,
            Output::Stdout(s) => s,
        }
    }

    /// Flushes; the file's length after it (0 for standard output).
    fn flush(&mut self) -> Result<u64> {
        match self {
            Output::File(w, path) => {
                w.flush()
                    .with_context(|| format!("writing report file {}", path.display()))?;
                w.get_ref()
                    .sync_data()
                    .with_context(|| format!("writing report file {}", path.display()))?;
                Ok(w.get_ref().metadata()?.len())
            }
            Output::Stdout(s) => {
                s.flush().context("writing the report to standard output")?;
                Ok(0)
            }
        }
    }
}

/// `--resume STATE`: one JSON line per finished repository, written after
/// its findings are flushed: `{"repository": URL, "output_bytes": N}`.
struct State {
    path: PathBuf,
    done: std::collections::BTreeMap<String, u64>,
    /// The report file's length after the last finished repository.
    offset: u64,
    file: std::fs::File,
}

impl State {
    fn open(path: &Path) -> Result<State> {
        let mut done = std::collections::BTreeMap::new();
        let mut offset = 0;
        if path.exists() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading resume state {}", path.display()))?;
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let v: serde_json::Value = match serde_json::from_str(line) {
                    Ok(v) => v,
                    // The last line may be cut by the kill: that repository
                    // is scanned again.
                    Err(_) if n + 1 == text.lines().count() => break,
                    Err(e) => {
                        bail!(
                            "resume state {} line {}: {e} (delete the file to start over)",
                            path.display(),
                            n + 1
                        )
                    }
                };
                let (Some(repo), Some(bytes)) =
                    (v["repository"].as_str(), v["output_bytes"].as_u64())
                else {
                    bail!(
                        "resume state {} line {}: not a leakscan state line (delete the file to start over)",
                        path.display(),
                        n + 1
                    );
                };
                done.insert(repo.to_string(), bytes);
                offset = bytes;
            }
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening resume state {}", path.display()))?;
        // Drop a last line the kill cut short, so the next one starts clean.
        let whole = std::fs::read(path).unwrap_or_default();
        let keep = whole.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if keep < whole.len() {
            file.set_len(keep as u64)
                .with_context(|| format!("repairing resume state {}", path.display()))?;
        }
        Ok(State {
            path: path.to_path_buf(),
            done,
            offset,
            file,
        })
    }

    fn record(&mut self, repo: &str, offset: u64) -> Result<()> {
        let line = serde_json::json!({ "repository": repo, "output_bytes": offset });
        writeln!(self.file, "{line}")
            .and_then(|()| self.file.sync_data())
            .with_context(|| format!("writing resume state {}", self.path.display()))?;
        self.done.insert(repo.to_string(), offset);
        self.offset = offset;
        Ok(())
    }
}
