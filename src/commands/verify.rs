//! `--verify`, `--verify-dry-run`, `--only-live`: runs the engine's
//! verification over a scan's findings and prints the dry-run plan.

use anyhow::Result;
use leakscan_scanner::ScanResult;
use leakscan_scanner::finding::VerifyStatus;
use leakscan_scanner::scan::Scanner;
use leakscan_verify::{self as verify, Endpoints, VerifyOptions};

use crate::args::ScanArgs;

/// `verifying 12/40` on stderr, redrawn in place, when stderr is a terminal.
fn progress_line(args: &ScanArgs) -> Option<verify::Progress> {
    use std::io::IsTerminal;
    if args.quiet || args.verify_dry_run || !std::io::stderr().is_terminal() {
        return None;
    }
    Some(verify::Progress(std::sync::Arc::new(|done, total| {
        eprint!("\rverifying {done}/{total}");
    })))
}

/// Annotates `result.findings` with verification (when asked), sorts live
/// findings first, and keeps only live ones with `--only-live`.
pub(crate) fn apply(scanner: &Scanner, args: &ScanArgs, result: &mut ScanResult) -> Result<()> {
    if !args.verifying() {
        return Ok(());
    }
    // Overrides come from the command line and the environment only.
    let endpoints = Endpoints::from_cli_and_env(&args.verify_endpoint, |k| std::env::var(k).ok())?;
    let opts = VerifyOptions {
        dry_run: args.verify_dry_run,
        replay_assertions: args.verify_replay_assertions,
        concurrency: args.verify_concurrency.max(1),
        endpoints,
        read_neighbours: scanner.options.verify_neighbours,
        timeout: args.verify_timeout,
        budget: args.verify_budget,
        progress: progress_line(args),
    };
    let map = verify::verifier_map(scanner.matcher.rules());
    let report = verify::verify_findings(&mut result.findings, &map, &opts);
    if opts.progress.is_some() {
        eprint!("\r\x1b[2K");
    }
    if opts.dry_run {
        for p in &report.planned {
            eprintln!("verify dry-run: {} {}  ({})", p.method, p.url, p.finding);
        }
        if !args.quiet {
            eprintln!(
                "verify dry-run: {} request(s) for {} credential(s); nothing sent",
                report.planned.len(),
                report.credentials
            );
        }
    }
    verify::sort_live_first(&mut result.findings);
    if args.only_live {
        result.findings.retain(|f| {
            f.verification
                .as_ref()
                .is_some_and(|v| v.status == VerifyStatus::Live)
        });
        result.stats.findings = result.findings.len() as u64;
    }
    if !args.quiet && !opts.dry_run {
        let count = |s: VerifyStatus| {
            result
                .findings
                .iter()
                .filter(|f| f.verification.as_ref().is_some_and(|v| v.status == s))
                .count()
        };
        eprintln!(
            "verified {} credential(s) with {} request(s): {} live, {} dead, {} unknown, {} skipped finding(s)",
            report.credentials,
            report.requests_sent,
            count(VerifyStatus::Live),
            count(VerifyStatus::Dead),
            count(VerifyStatus::Unknown),
            count(VerifyStatus::Skipped)
        );
    }
    Ok(())
}
