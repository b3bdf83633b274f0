//! `leakscan baseline create [--output FILE] [SCAN...]`: runs a scan
//! (`dir .` by default; any scan command line after the options) and writes
//! its findings' fingerprints as a baseline instead of a report.

use std::ffi::OsString;
use std::io::Write;

use anyhow::{Context, Result};
use clap::Parser;
use leakscan_scanner::ScanResult;
use leakscan_scanner::suppress::baseline;

use crate::args::{BaselineCommand, BaselineFormat, BaselineOut, Cli, ScanArgs};

const SCAN_COMMANDS: [&str; 4] = ["dir", "stdin", "git", "staged"];

pub fn run(command: BaselineCommand) -> Result<u8> {
    let BaselineCommand::Create {
        output,
        format,
        mut scan,
    } = command;
    let named = scan
        .first()
        .and_then(|s| s.to_str())
        .is_some_and(|s| SCAN_COMMANDS.contains(&s));
    if !named {
        scan.insert(0, OsString::from("dir"));
    }
    let argv = std::iter::once(OsString::from("leakscan")).chain(scan);
    let mut cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            // clap's own message and exit code (0 for --help, 2 for errors).
            let _ = e.print();
            return Ok(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let Some(args) = super::ignore::scan_args(&mut cli.command) else {
        anyhow::bail!("baseline create: expected a scan command (dir, git, staged or stdin)");
    };
    // `-o` after the scan command means the baseline file too.
    let output = output.or_else(|| args.output.take());
    args.write_baseline = Some(BaselineOut { output, format });
    super::run(cli)
}

/// Writes the baseline for a scan's (suppressed) findings; exit code 0.
pub(crate) fn write(out: &BaselineOut, args: &ScanArgs, result: &ScanResult) -> Result<u8> {
    let entries = baseline::entries(&result.findings);
    let render = |w: &mut dyn Write| match out.format {
        BaselineFormat::Text => baseline::write_text(&entries, w),
        BaselineFormat::Json => baseline::write_json(&entries, w),
    };
    match &out.output {
        Some(path) => {
            let mut buf = Vec::new();
            render(&mut buf)?;
            std::fs::write(path, buf)
                .with_context(|| format!("writing baseline {}", path.display()))?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            render(&mut w)?;
            w.flush()
                .context("writing the baseline to standard output")?;
        }
    }
    if !args.quiet {
        let dest = out
            .output
            .as_ref()
            .map_or_else(|| "standard output".into(), |p| p.display().to_string());
        eprintln!(
            "{}\nbaseline: {} entr{} for {} finding{} written to {}",
            leakscan_scanner::report::summary(&result.stats),
            entries.len(),
            if entries.len() == 1 { "y" } else { "ies" },
            result.findings.len(),
            if result.findings.len() == 1 { "" } else { "s" },
            leakscan_scanner::sanitize::sanitize(&dest)
        );
    }
    Ok(0)
}
