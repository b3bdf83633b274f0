//! Runs a parsed command: builds the engine, scans, renders the report,
//! prints the summary, and returns the exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use leakscan_scanner::ScanResult;
use leakscan_scanner::report::{self, ReportContext, github};
use leakscan_scanner::scan::Scanner;

use crate::args::{Cli, Command, OutputFormat, ScanArgs};

pub(crate) mod baseline;
mod ci;
pub(crate) mod explain;
mod git;
mod hook;
pub(crate) mod ignore;
pub(crate) mod merge;
pub(crate) mod multi;
pub(crate) mod repos;
mod rules;
mod staged;
mod stats;
mod verify;

pub fn run(mut cli: Cli) -> Result<u8> {
    ignore::preflight(&mut cli.command)?;
    match cli.command {
        Command::Dir {
            paths,
            scan,
            follow_symlinks,
            no_ignore,
            hidden: _,
            unrestricted,
        } => {
            let paths = if paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                paths
            };
            let mut options = scan.to_options();
            options.follow_symlinks = follow_symlinks;
            options.verify_neighbours = true;
            options.no_ignore = no_ignore || unrestricted > 0;
            let config = scan.discover_config(&paths[0])?;
            let scanner = Scanner::new(config, options)?;
            let result = scanner.scan_dirs(&paths)?;
            finish(&scanner, &scan, result)
        }
        Command::Stdin { path, scan } => {
            let config = scan.discover_config(Path::new("."))?;
            let scanner = Scanner::new(config, scan.to_options())?;
            let result = scanner.scan_reader(&path, &mut std::io::stdin().lock())?;
            finish(&scanner, &scan, result)
        }
        Command::Git(args) => git::run(args),
        Command::Staged { scan } => staged::run(scan),
        Command::Hook { command } => hook::run(command),
        Command::Rules { command } => rules::run(command),
        Command::Ignore(args) => ignore::run(args),
        Command::Baseline { command } => baseline::run(command),
        Command::Explain(args) => explain::run(args),
        Command::Ci(args) => ci::run(args),
        Command::Repos { command } => repos::run(command),
        Command::Merge(args) => merge::run(args),
    }
}

/// What a finished scan reported (after every suppression and filter).
pub(crate) struct Outcome {
    /// The exit code.
    pub code: u8,
    /// The reported findings' paths (sanitized), sorted, each once.
    pub paths: std::collections::BTreeSet<String>,
    /// How many findings were reported.
    pub reported: usize,
}

/// Renders the report, prints the summary, picks the exit code.
pub(crate) fn finish(scanner: &Scanner, args: &ScanArgs, result: ScanResult) -> Result<u8> {
    Ok(finish_outcome(scanner, args, result)?.code)
}

/// [`finish`], also returning what was reported (the hooks' hints follow it).
pub(crate) fn finish_outcome(
    scanner: &Scanner,
    args: &ScanArgs,
    result: ScanResult,
) -> Result<Outcome> {
    finish_in(scanner, args, result, None)
}

/// What `leakscan ci` adds to [`finish`]: its own outputs (SARIF,
/// annotations, job summary, step outputs), written once the findings are
/// final, and a line naming what was scanned. Everything printed then goes
/// through [`github::safe_log_line`]: the job log runs workflow commands.
pub(crate) struct CiExtras<'a> {
    pub scope: String,
    pub write: &'a mut dyn FnMut(&ScanResult, &ReportContext<'_>) -> Result<()>,
}

/// The post-scan steps of every scan command: the ignore file and
/// baseline, verification, the report (`--output` or standard output),
/// `--stats`, the summary, stale entries, `--strict`, the exit code.
pub(crate) fn finish_in(
    scanner: &Scanner,
    args: &ScanArgs,
    mut result: ScanResult,
    mut ci: Option<CiExtras<'_>>,
) -> Result<Outcome> {
    if let Some(min) = args.min_confidence {
        use leakscan_scanner::validate::confidence;
        let rules = scanner.matcher.rules();
        let before = result.findings.len();
        result.findings.retain(|f| {
            confidence::at_least(confidence::of(f, rules.get(&f.rule).map(|c| &c.rule)), min)
        });
        let dropped = (before - result.findings.len()) as u64;
        if dropped > 0 {
            *result
                .stats
                .suppressed
                .entry("below --min-confidence".to_string())
                .or_default() += dropped;
        }
    }
    let (stale, ignore_path) = ignore::apply(scanner, args, &mut result)?;
    if let Some(out) = &args.write_baseline {
        let code = baseline::write(out, args, &result)?;
        return Ok(Outcome {
            code,
            paths: Default::default(),
            reported: 0,
        });
    }
    verify::apply(scanner, args, &mut result)?;
    if args.no_snippet {
        for f in &mut result.findings {
            f.snippet = None;
        }
    }
    result.stats.findings = result.findings.len() as u64;
    let paths = result
        .findings
        .iter()
        .map(|f| leakscan_scanner::sanitize::sanitize(&f.path))
        .collect();
    let reported = result.findings.len();
    let in_ci = ci.is_some();
    let log = |line: &str| -> String {
        if in_ci {
            github::safe_log_line(line)
        } else {
            line.to_string()
        }
    };
    let color = !in_ci
        && args.output.is_none()
        && args.format == OutputFormat::Text
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let ctx = ReportContext {
        rules: scanner.matcher.rules(),
        stats: &result.stats,
        color,
    };
    if let Some(ci) = &mut ci {
        (ci.write)(&result, &ctx)?;
    }
    let format = args.format.to_report();
    let sarif = report::sarif::SarifOptions {
        category: args.sarif_category.clone(),
    };
    let render = |w: &mut dyn Write| -> Result<()> {
        if format == report::Format::Sarif {
            report::sarif::render_with(&result.findings, &ctx, &sarif, w)
        } else {
            report::render(format, &result.findings, &ctx, w)?;
            if args.format == OutputFormat::Text {
                leakscan_scanner::suppress::write_hints(&result.findings, &ignore_path, w)?;
            }
            Ok(())
        }
    };
    match &args.output {
        Some(path) => {
            let file = create_report(path, args.no_redact)?;
            let mut w = std::io::BufWriter::new(file);
            render(&mut w)?;
            w.flush()
                .with_context(|| format!("writing report file {}", path.display()))?;
        }
        None if in_ci => {
            // The job log: every finding (annotations stop at 10), each
            // line made safe for the runner.
            let mut buf = Vec::new();
            render(&mut buf)?;
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            for line in String::from_utf8_lossy(&buf).lines() {
                writeln!(w, "{}", log(line))?;
            }
            w.flush().context("writing the report to standard output")?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            render(&mut w)?;
            w.flush().context("writing the report to standard output")?;
        }
    }
    if let Some(path) = &args.stats {
        stats::write(path, &result.stats)?;
    }
    if !args.quiet {
        for line in report::summary(&result.stats).lines() {
            eprintln!("{}", log(line));
        }
        if let Some(ci) = &ci {
            eprintln!("{}", log(&format!("leakscan: scanned {}", ci.scope)));
        }
    } else if let Some(errors) = report::read_errors(&result.stats) {
        // Read errors always print: a quiet scan must not look complete.
        for line in format!("leakscan: {errors}").lines() {
            eprintln!("{}", log(line));
        }
    }
    if args.report_stale {
        ignore::print_stale(&stale, &ignore_path);
    }
    let code = if args.strict && result.stats.incomplete_total() > 0 {
        for line in stats::strict_message(&result.stats).lines() {
            eprintln!("{}", log(line));
        }
        2
    } else if result.findings.is_empty() {
        0
    } else {
        1
    };
    Ok(Outcome {
        code,
        paths,
        reported,
    })
}

/// Creates the report file. With `--no-redact` it holds whole secrets, so
/// only its owner may read it (0600; a file that exists is truncated and
/// narrowed to 0600 too).
pub(crate) fn create_report(path: &Path, no_redact: bool) -> Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if no_redact {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts
        .open(path)
        .with_context(|| format!("creating report file {}", path.display()))?;
    #[cfg(unix)]
    if no_redact {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("making report file {} private", path.display()))?;
    }
    Ok(file)
}
