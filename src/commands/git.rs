//! `leakscan git`: a repository's history (or a commit range) with a
//! progress bar on a terminal.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use leakscan_scanner::report::human_bytes;
use leakscan_scanner::scan::Scanner;
use leakscan_scanner::source::git::{self, GitReader, GitScanOptions, Mode, Progress};

use crate::args::{GitArgs, GitReaderArg};

pub fn run(args: GitArgs) -> Result<u8> {
    if args.multi.wanted(args.repo.as_deref()) {
        return super::multi::run(args);
    }
    let repo = args.repo.clone().unwrap_or_else(|| PathBuf::from("."));
    let root = git::config_root(&repo)?;
    let config = args.scan.discover_config(&root)?;
    let scanner = Scanner::new(config, args.scan.to_options())?;
    let range = match (&args.range, &args.since) {
        (Some(r), _) => Some(parse_range(r)?),
        (None, Some(base)) => Some((base.clone(), "HEAD".to_string())),
        (None, None) => None,
    };
    let opts = GitScanOptions {
        branch: args.branch.clone(),
        all_objects: args.all_objects,
        range,
    };
    let bar = if !args.scan.quiet && opts.range.is_none() && std::io::stderr().is_terminal() {
        Some(Bar::new())
    } else {
        None
    };
    let mode = if args.no_match {
        Mode::InflateOnly
    } else if args.no_delta_hits {
        Mode::MatchWhole
    } else {
        Mode::Match
    };
    let reader = match args.git_reader {
        GitReaderArg::Pack => GitReader::Pack,
        GitReaderArg::Libgit2 => GitReader::Libgit2,
    };
    let result = scanner.scan_git_reader(
        &repo,
        &opts,
        bar.as_ref().map(|b| b as &dyn Progress),
        mode,
        reader,
    )?;
    super::finish(&scanner, &args.scan, result)
}

/// `BASE..HEAD` into its two revisions (`...` is refused: it means
/// something else to git).
pub fn parse_range(r: &str) -> Result<(String, String)> {
    if r.contains("...") {
        bail!("--range takes BASE..HEAD (two dots), not `{r}`");
    }
    match r.split_once("..") {
        Some((b, h)) if !b.is_empty() => {
            let h = if h.is_empty() { "HEAD" } else { h };
            Ok((b.to_string(), h.to_string()))
        }
        _ => bail!("--range takes BASE..HEAD, for example `--range origin/main..HEAD` (got `{r}`)"),
    }
}

/// An indicatif bar on stderr: blobs, bytes, rate, ETA.
struct Bar {
    bar: ProgressBar,
    started: Instant,
}

impl Bar {
    fn new() -> Bar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} blobs  {msg}  ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Bar {
            bar,
            started: Instant::now(),
        }
    }
}

impl Progress for Bar {
    fn start(&self, blobs_total: u64, _bytes_total: Option<u64>) {
        self.bar.set_length(blobs_total);
    }

    fn update(&self, blobs_done: u64, bytes_done: u64) {
        self.bar.set_position(blobs_done);
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        self.bar.set_message(format!(
            "{} ({}/s)",
            human_bytes(bytes_done),
            human_bytes((bytes_done as f64 / secs) as u64)
        ));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse() {
        assert_eq!(
            parse_range("a..b").unwrap(),
            ("a".to_string(), "b".to_string())
        );
        assert_eq!(parse_range("a..").unwrap().1, "HEAD");
        assert!(parse_range("a...b").is_err());
        assert!(parse_range("..b").is_err());
        assert!(parse_range("ab").is_err());
    }
}
