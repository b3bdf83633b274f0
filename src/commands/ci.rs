//! `leakscan ci`: inside GitHub Actions, scans what the event changed and
//! writes the SARIF file, the job summary, annotations and step outputs.
//! Everything printed is escaped so scanned text cannot run a workflow
//! command.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use leakscan_scanner::ScanResult;
use leakscan_scanner::report::ReportContext;
use leakscan_scanner::report::github::{self, SummaryInfo};
use leakscan_scanner::report::sarif::{self, SarifOptions};
use leakscan_scanner::scan::Scanner;
use leakscan_scanner::source::git::GitScanOptions;

use crate::args::CiArgs;
use crate::ci::event::{self, RunnerEnv};
use crate::ci::git::{Git, Plan, resolve};

/// Prints a `::notice::` with an escaped message.
fn notice(msg: &str) {
    println!(
        "::notice title=leakscan::{}",
        github::escape_data(&leakscan_scanner::sanitize::sanitize(msg))
    );
}

pub fn run(args: CiArgs) -> Result<u8> {
    let env = RunnerEnv::from_vars(|k| std::env::var(k).ok())?;
    run_in(args, &env)
}

fn run_in(mut args: CiArgs, env: &RunnerEnv) -> Result<u8> {
    // A tree scan changes directory; user paths stay relative to where
    // leakscan was started.
    let cwd = std::env::current_dir().context("reading the current directory")?;
    for p in [
        &mut args.sarif_file,
        &mut args.scan.output,
        &mut args.scan.config,
    ]
    .into_iter()
    .flatten()
    {
        if p.is_relative() {
            *p = cwd.join(&*p);
        }
    }
    let repo = match &args.path {
        Some(p) => p.clone(),
        None => env.workspace.clone(),
    };
    let repo = repo
        .canonicalize()
        .with_context(|| format!("the path to scan, {}, does not exist", repo.display()))?;
    let payload = event::read_payload(env)?;
    let request = event::request(env, &payload, args.scan_mode)?;

    let mut git = Git::new(&repo);
    if request != event::Request::Tree {
        git.check_repo()?;
    }
    let resolved = resolve(&mut git, request)?;
    for n in &resolved.notices {
        notice(n);
    }
    let scope = format!("{} event: {}", env.event_name, resolved.plan.describe());

    let sarif_file = match &args.sarif_file {
        Some(p) => p.clone(),
        None => env.workspace.join("leakscan.sarif"),
    };

    let config = args.scan.discover_config(&repo)?;
    let scanner = Scanner::new(config, args.scan.to_options())?;
    let result = match &resolved.plan {
        Plan::Nothing { reason } => {
            notice(&format!("leakscan: {reason}."));
            ScanResult::default()
        }
        Plan::Tree => {
            // Paths relative to the repository root, as code scanning wants.
            std::env::set_current_dir(&repo)
                .with_context(|| format!("entering {}", repo.display()))?;
            scanner.scan_dirs(&[PathBuf::from(".")])?
        }
        Plan::Range { base, head } => scanner.scan_git(
            &repo,
            &GitScanOptions {
                branch: None,
                all_objects: false,
                range: Some((base.clone(), head.clone())),
            },
            None,
        )?,
        Plan::History { head } => scanner.scan_git(
            &repo,
            &GitScanOptions {
                branch: Some(head.clone()),
                all_objects: false,
                range: None,
            },
            None,
        )?,
    };

    // Everything after the scan is `finish()`'s, with ci's own outputs
    // written once the findings are final.
    let mut write = |result: &ScanResult, ctx: &ReportContext<'_>| -> Result<()> {
        write_sarif(&sarif_file, result, ctx, &args)?;
        // Annotations: the top findings, escaped.
        for a in github::annotations(&result.findings) {
            println!("{a}");
        }
        let info = SummaryInfo {
            scope: scope.clone(),
            notices: resolved.notices.clone(),
            sarif_file: Some(sarif_file.display().to_string()),
            files_scanned: result.stats.files_scanned,
            errors: result.stats.errors_total,
        };
        if let Some(path) = &env.step_summary {
            append(path, &github::job_summary(&result.findings, &info))
                .with_context(|| format!("writing the job summary {}", path.display()))?;
        }
        if let Some(path) = &env.output {
            let outputs = step_outputs(&[
                ("findings", result.findings.len().to_string()),
                ("sarif-file", sarif_file.display().to_string()),
            ]);
            append(path, &outputs)
                .with_context(|| format!("writing step outputs {}", path.display()))?;
        }
        Ok(())
    };
    let extras = super::CiExtras {
        scope: scope.clone(),
        write: &mut write,
    };
    Ok(super::finish_in(&scanner, &args.scan, result, Some(extras))?.code)
}

fn write_sarif(
    path: &Path,
    result: &ScanResult,
    ctx: &ReportContext<'_>,
    args: &CiArgs,
) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "creating the directory of the SARIF file {}",
                path.display()
            )
        })?;
    }
    let file = std::fs::File::create(path)
        .with_context(|| format!("creating the SARIF file {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    let opts = SarifOptions {
        category: args.scan.sarif_category.clone(),
    };
    sarif::render_with(&result.findings, ctx, &opts, &mut w)?;
    w.flush()
        .with_context(|| format!("writing the SARIF file {}", path.display()))?;
    Ok(())
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// `name<<DELIMITER` blocks for GITHUB_OUTPUT, with a delimiter that no
/// value contains.
fn step_outputs(values: &[(&str, String)]) -> String {
    let mut delim = format!("leakscan_{}", random_hex());
    while values.iter().any(|(_, v)| v.contains(&delim)) {
        delim = format!("leakscan_{}", random_hex());
    }
    let mut s = String::new();
    for (k, v) in values {
        s.push_str(&format!("{k}<<{delim}\n{v}\n{delim}\n"));
    }
    s
}

fn random_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}
