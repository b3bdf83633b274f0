//! `leakscan ignore FINGERPRINT...` (append to the ignore file), and the
//! suppression step every scan command runs before its report: ignore
//! file, baseline, stale entries, the counts in the summary.

use std::path::PathBuf;

use anyhow::Result;
use leakscan_scanner::ScanResult;
use leakscan_scanner::paths::display_path;
use leakscan_scanner::scan::Scanner;
use leakscan_scanner::suppress::{self, IgnoreEntry, Suppressor};

use crate::args::{Command, IgnoreArgs, ScanArgs};

pub fn run(args: IgnoreArgs) -> Result<u8> {
    if let Some(r) = &args.reason {
        suppress::ignore::check_reason(r)?;
    }
    let path = args
        .ignore_file
        .unwrap_or_else(|| PathBuf::from(suppress::IGNORE_FILE));
    let done = suppress::ignore::append(&path, &args.fingerprints, args.reason.as_deref())?;
    let shown = leakscan_scanner::sanitize::sanitize(&path.display().to_string());
    for e in &done.added {
        eprintln!(
            "added {} to {shown}",
            leakscan_scanner::sanitize::sanitize(e)
        );
    }
    for e in &done.present {
        eprintln!(
            "{} is already in {shown}",
            leakscan_scanner::sanitize::sanitize(e)
        );
    }
    Ok(0)
}

/// The scan flags of a scan command, if it is one.
pub(crate) fn scan_args(command: &mut Command) -> Option<&mut ScanArgs> {
    match command {
        Command::Dir { scan, .. } | Command::Stdin { scan, .. } | Command::Staged { scan } => {
            Some(scan)
        }
        Command::Git(git) => Some(&mut git.scan),
        Command::Ci(ci) => Some(&mut ci.scan),
        _ => None,
    }
}

/// Reads the ignore file and `--baseline` before a scan starts,
/// so a malformed file fails fast instead of after a long history scan.
pub(crate) fn preflight(command: &mut Command) -> Result<()> {
    // The scanned root as far as the arguments tell (the scan itself may
    // resolve it further, e.g. to a repository's top directory).
    let root = match command {
        Command::Dir { paths, .. } => paths.first().cloned(),
        Command::Git(git) => git.repo.clone(),
        _ => None,
    }
    .unwrap_or_else(|| PathBuf::from("."));
    let root = leakscan_scanner::config::project_root(&root);
    if let Some(args) = scan_args(command) {
        // Loads `--ignore-file`, or `.leakscanignore` at the root if present.
        Suppressor::load(&root, args.ignore_file.as_deref(), None)?;
        if let Some(p) = &args.baseline {
            suppress::Baseline::load(p)?;
        }
    }
    Ok(())
}

/// Applies the ignore file and baseline to a scan's findings (inline
/// comments were applied during the scan) and records the counts. Returns
/// the stale ignore entries and the ignore file's path.
pub(crate) fn apply(
    scanner: &Scanner,
    args: &ScanArgs,
    result: &mut ScanResult,
) -> Result<(Vec<IgnoreEntry>, PathBuf)> {
    scanner.take_extract_stats(&mut result.stats);
    let inline = scanner.inline_allowed();
    if inline > 0 {
        *result
            .stats
            .suppressed
            .entry(suppress::BY_INLINE.to_string())
            .or_default() += inline;
    }
    let root = scanner.config.root.clone();
    // Writing a baseline records every current finding: the old baseline
    // does not filter it.
    let baseline = if args.write_baseline.is_some() {
        None
    } else {
        args.baseline.as_deref()
    };
    let supp = Suppressor::load(&root, args.ignore_file.as_deref(), baseline)?;
    let applied = supp.apply(result);
    let ignore_path = match &supp.ignore {
        Some(ig) => ig.path.clone(),
        None => args
            .ignore_file
            .clone()
            .unwrap_or_else(|| root.join(suppress::IGNORE_FILE)),
    };
    Ok((applied.stale, ignore_path))
}

/// `--report-stale`: the entries that matched nothing, on stderr.
pub(crate) fn print_stale(stale: &[IgnoreEntry], ignore_path: &std::path::Path) {
    let file = leakscan_scanner::sanitize::sanitize(&display_path(ignore_path));
    if stale.is_empty() {
        eprintln!("no stale entries in {file}");
        return;
    }
    eprintln!(
        "{} stale entr{} in {file} (matched nothing in this scan; remove if the secret is gone):",
        stale.len(),
        if stale.len() == 1 { "y" } else { "ies" }
    );
    for e in stale {
        let reason = e
            .reason
            .as_deref()
            .map(|r| format!("  # {r}"))
            .unwrap_or_default();
        eprintln!(
            "  {file}:{}: {}{}",
            e.line,
            leakscan_scanner::sanitize::sanitize(&e.text()),
            leakscan_scanner::sanitize::sanitize(&reason)
        );
    }
}
