//! Command-line arguments (clap derive) and their conversion into the
//! engine's plain options struct.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use leakscan_scanner::ScanOptions;

#[derive(Debug, Parser)]
#[command(
    name = "leakscan",
    version,
    about = "Finds leaked credentials in files, git history and staged changes",
    after_help = "Exit codes: 0 nothing found, 1 findings, 2 error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files on disk (honours .gitignore and .ignore unless --no-ignore,
    /// counting what they exclude; scans hidden files; skips .git/).
    Dir {
        /// Files or directories to scan [default: .]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        scan: ScanArgs,
        /// Follow symbolic links.
        #[arg(long)]
        follow_symlinks: bool,
        /// Also scan files that .gitignore, .ignore and .git/info/exclude
        /// exclude (an audit: that is where .env files and keys hide).
        #[arg(long)]
        no_ignore: bool,
        /// Accepted for ripgrep's habits; hidden files are always scanned.
        #[arg(long, hide = true)]
        hidden: bool,
        /// `-u`: same as --no-ignore (`-uu`, `-uuu` too: hidden and binary
        /// files are always scanned).
        #[arg(short = 'u', action = clap::ArgAction::Count)]
        unrestricted: u8,
    },
    /// Scan standard input.
    Stdin {
        /// Name to report for the input.
        #[arg(long, default_value = "<stdin>")]
        path: String,
        #[command(flatten)]
        scan: ScanArgs,
    },
    /// Scan git history: every blob reachable from every ref, each once,
    /// with the commit that introduced each finding; or only what a range
    /// of commits adds (`--range BASE..HEAD`).
    Git(GitArgs),
    /// Scan what the index adds over HEAD (the pre-commit hook).
    Staged {
        #[command(flatten)]
        scan: ScanArgs,
    },
    /// Install or remove leakscan's plain git hooks.
    Hook {
        #[command(subcommand)]
        command: HookCommand,
    },
    /// Add fingerprints to the ignore file (.leakscanignore).
    Ignore(IgnoreArgs),
    /// Baselines: accept the current findings so scans report only new ones.
    Baseline {
        #[command(subcommand)]
        command: BaselineCommand,
    },
    /// Show, stage by stage, why a line is or is not reported.
    Explain(ExplainArgs),
    /// Inside GitHub Actions: scan what the event changed (a push's commits,
    /// a pull request's commits, the whole history on a schedule), write
    /// SARIF, the job summary, annotations and step outputs.
    Ci(CiArgs),
    /// List or check rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// List an organization's repositories (one clone URL a line) for
    /// `leakscan git --repos-file -`.
    Repos {
        #[command(subcommand)]
        command: crate::commands::repos::ReposCommand,
    },
    /// Combine JSON-lines reports (shards of one audit) into one report.
    Merge(crate::commands::merge::MergeArgs),
}

/// `leakscan git` arguments.
#[derive(Debug, Args)]
pub struct GitArgs {
    /// Repository (or a folder inside it), or a URL to clone [default: .]
    pub repo: Option<PathBuf>,
    /// Only what this branch or revision reaches.
    #[arg(long, value_name = "REF", conflicts_with_all = ["range", "since"])]
    pub branch: Option<String>,
    /// Also scan unreachable objects in the object database.
    #[arg(long, conflicts_with_all = ["range", "since"])]
    pub all_objects: bool,
    /// Only what the commits in BASE..HEAD add (a base of 40 zeros: commits
    /// on no remote-tracking ref).
    #[arg(long, value_name = "BASE..HEAD", conflicts_with = "since")]
    pub range: Option<String>,
    /// Same as `--range BASE..HEAD`.
    #[arg(long, value_name = "BASE")]
    pub since: Option<String>,
    /// Enumerate and inflate blobs without matching (benchmarks).
    #[arg(long, hide = true)]
    pub no_match: bool,
    /// Search every blob's keywords whole instead of deriving a delta's
    /// from its base's (tests and benchmarks compare the two).
    #[arg(long, hide = true)]
    pub no_delta_hits: bool,
    /// Blob reader: `pack` (leakscan's own, libgit2 for what packs lack)
    /// or `libgit2` for everything (tests and benchmarks compare them).
    #[arg(long, hide = true, value_enum, default_value_t = GitReaderArg::Pack)]
    pub git_reader: GitReaderArg,
    /// Several or remote repositories (issue 17).
    #[command(flatten)]
    pub multi: crate::commands::multi::MultiArgs,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// `--git-reader` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GitReaderArg {
    Pack,
    Libgit2,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write the pre-commit hook (and with --pre-push the pre-push hook)
    /// into the repository's hooks folder, chaining any existing hook.
    Install {
        /// Also install the pre-push hook.
        #[arg(long)]
        pre_push: bool,
        /// Replace an existing foreign hook instead of chaining it.
        #[arg(long)]
        force: bool,
        /// Config file the hooks pass to every scan (written into the hook
        /// as an absolute path).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Baseline the hooks pass to every scan (written into the hook as
        /// an absolute path).
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
    },
    /// Remove leakscan's hooks and restore the hooks they chained.
    Uninstall,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every enabled rule: id, category, provider, name, verifier.
    List {
        /// Config file [default: .leakscan.toml in the project root].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Output format: text (a table), json (an array of every rule
        /// field) or jsonl (one rule a line).
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
    /// Prove a rule pack against its own examples and counterexamples
    /// (the built-in packs when no file is given).
    Check {
        /// Rule pack (TOML) to check [default: the built-in packs].
        file: Option<PathBuf>,
    },
}

/// `rules list --format` values (no SARIF: a rule list is not a scan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Text,
    Json,
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Jsonl,
    Sarif,
    // One self-contained page, grouped by secret, with filters (no doc
    // comment: one would turn every command's help into the long form).
    Html,
}

impl OutputFormat {
    pub fn to_report(self) -> leakscan_scanner::report::Format {
        use leakscan_scanner::report::Format;
        match self {
            OutputFormat::Text => Format::Text,
            OutputFormat::Json => Format::Json,
            OutputFormat::Jsonl => Format::Jsonl,
            OutputFormat::Sarif => Format::Sarif,
            OutputFormat::Html => Format::Html,
        }
    }
}

/// Flags shared by every scan command.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Config file [default: .leakscan.toml at the scanned root].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print secrets whole instead of redacted.
    #[arg(long)]
    pub no_redact: bool,
    /// Leave out `snippet` (the matched line, secrets redacted) from JSON
    /// findings.
    #[arg(long)]
    pub no_snippet: bool,
    /// Worker threads [default: one per core].
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub threads: usize,
    /// Skip files and blobs larger than this (counted as skips): bytes, or
    /// with a unit: 512KiB, 10MiB, 10MB (K, M, G are KiB, MiB, GiB) [default: 25MiB].
    #[arg(long, value_name = "SIZE", default_value = "25MiB", hide_default_value = true, value_parser = parse_size)]
    pub max_file_size: u64,
    /// No summary or progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Report only findings whose fingerprint is not in FILE (made by
    /// `leakscan baseline create`, or a previous JSON report).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Ignore file [default: .leakscanignore at the scanned root].
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// List ignore-file entries that matched nothing in this scan.
    #[arg(long)]
    pub report_stale: bool,
    /// Set by `leakscan baseline create`: write a baseline, not a report.
    #[arg(skip)]
    pub write_baseline: Option<BaselineOut>,
    /// SARIF `runAutomationDetails.id` category (code scanning keeps one
    /// analysis per category) [default: leakscan/].
    #[arg(long, value_name = "CATEGORY")]
    pub sarif_category: Option<String>,
    /// Check whether found credentials still work (sends them to their provider).
    #[arg(long)]
    pub verify: bool,
    /// Print each request verification would make, send nothing.
    #[arg(long)]
    pub verify_dry_run: bool,
    /// Report only findings verified live (implies --verify).
    #[arg(long)]
    pub only_live: bool,
    /// Present found, unexpired assertions to their allowlisted token endpoint.
    #[arg(long)]
    pub verify_replay_assertions: bool,
    /// Send a verifier's checks to URL instead (NAME: the verifier in
    /// `leakscan rules list`, `_` for `-`); also LEAKSCAN_VERIFY_ENDPOINT_<NAME>.
    #[arg(long, value_name = "NAME=URL")]
    pub verify_endpoint: Vec<String>,
    /// Credentials verified at once.
    #[arg(long, value_name = "N", default_value_t = leakscan_verify::DEFAULT_CONCURRENCY)]
    pub verify_concurrency: usize,
    /// Time for each verification request, one attempt (10, 10s, 500ms, 1m).
    #[arg(long, value_name = "DURATION", default_value = "10s",
          value_parser = leakscan_verify::parse_duration)]
    pub verify_timeout: std::time::Duration,
    /// Time for the whole verification pass; credentials not reached in
    /// time are reported `unknown: budget exhausted`.
    #[arg(long, value_name = "DURATION", default_value = "3m",
          value_parser = leakscan_verify::parse_duration)]
    pub verify_budget: std::time::Duration,
    /// Write the scan's counters (files, bytes, skips by reason, read
    /// errors) to FILE as JSON.
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,
    /// Exit 2 if anything was skipped or unreadable (too large, permission
    /// denied, broken symlink...), after printing the findings. Paths
    /// excluded on purpose (allowlisted paths, unfollowed symlinks) do not count.
    #[arg(long)]
    pub strict: bool,
    /// Report only findings of this confidence or more: low, medium, high,
    /// very-high (generic findings are scored one by one; see `explain`).
    #[arg(long, value_name = "LEVEL", value_parser = parse_confidence)]
    pub min_confidence: Option<leakscan_rules::Confidence>,
    /// The audit profile: also report generic (format-less) findings in
    /// tests, docs, examples, templates and vendored code, where a lower
    /// `confidence` tells them apart (as `[rules] generic_in_docs_and_tests
    /// = true`; without it they are counted as suppressed, by reason).
    #[arg(long)]
    pub include_tests: bool,
    /// Do not open archives and compressed files (zip, jar, whl, tar, gz,
    /// bz2, xz, zst...); scan their bytes as they are.
    #[arg(long)]
    pub no_extract: bool,
    /// Archive levels opened: an archive inside an archive inside an
    /// archive is 3.
    #[arg(long, value_name = "N", default_value_t = leakscan_scanner::source::extract::DEFAULT_DEPTH)]
    pub extract_depth: u32,
    /// Do not scan the printable runs of binary files (by default they are
    /// scanned by the rules whose formats identify themselves).
    #[arg(long)]
    pub no_binary: bool,
}

fn parse_confidence(s: &str) -> Result<leakscan_rules::Confidence, String> {
    match s {
        "low" => Ok(leakscan_rules::Confidence::Low),
        "medium" => Ok(leakscan_rules::Confidence::Medium),
        "high" => Ok(leakscan_rules::Confidence::High),
        "very-high" => Ok(leakscan_rules::Confidence::VeryHigh),
        _ => Err("expected low, medium, high or very-high".into()),
    }
}

impl ScanArgs {
    /// Whether any verification flag is on.
    pub fn verifying(&self) -> bool {
        self.verify || self.verify_dry_run || self.only_live
    }

    /// The config for a scan rooted at `start` (`--config` or the one
    /// discovered there), with the profile flags applied.
    pub fn discover_config(
        &self,
        start: &std::path::Path,
    ) -> anyhow::Result<leakscan_scanner::Config> {
        let mut config = leakscan_scanner::Config::discover(self.config.as_deref(), start)?;
        if self.include_tests {
            config.rules.generic_in_docs_and_tests = true;
        }
        Ok(config)
    }

    pub fn to_options(&self) -> ScanOptions {
        ScanOptions {
            threads: self.threads,
            max_file_size: self.max_file_size,
            follow_symlinks: false,
            no_redact: self.no_redact,
            verify: self.verifying(),
            verify_neighbours: false,
            no_ignore: false,
            extract: leakscan_scanner::source::extract::Limits {
                depth: if self.no_extract {
                    0
                } else {
                    self.extract_depth
                },
                entry: self.max_file_size,
                ..Default::default()
            },
            no_binary: self.no_binary,
        }
    }
}

/// `leakscan ci` arguments.
#[derive(Debug, Args)]
pub struct CiArgs {
    /// The checked-out repository [default: $GITHUB_WORKSPACE].
    pub path: Option<PathBuf>,
    /// What to scan: `changes` (a push's or pull request's commits; the
    /// whole history on a schedule), `history` (the checked-out commit's
    /// whole history) or `tree` (the checked-out files) [default: changes].
    #[arg(
        long = "scan",
        value_name = "MODE",
        value_enum,
        default_value_t = crate::ci::event::ScanMode::Changes,
        hide_default_value = true,
        hide_possible_values = true
    )]
    pub scan_mode: crate::ci::event::ScanMode,
    /// Where to write the SARIF file [default: leakscan.sarif in $GITHUB_WORKSPACE].
    #[arg(long, value_name = "FILE")]
    pub sarif_file: Option<PathBuf>,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// `--max-file-size` values: a number of bytes, or a number with a unit
/// (`B`; `K`/`KiB`, `M`/`MiB`, `G`/`GiB` in powers of 1024; `KB`, `MB`,
/// `GB` in powers of 1000), case-insensitive, an optional space between.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit = unit.trim().to_ascii_lowercase();
    let mult: u64 = match unit.as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => {
            return Err(format!(
                "unknown unit `{unit}` (use B, KiB, MiB, GiB, KB, MB or GB, e.g. 10MiB)"
            ));
        }
    };
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 1048576, 512KiB, 10MB)"))?;
    let bytes = value * mult as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("`{text}` is too large"));
    }
    Ok(bytes as u64)
}

// `leakscan ignore`
#[derive(Debug, Args)]
pub struct IgnoreArgs {
    /// Fingerprints as printed by a scan (`rule:16hex`), or `path:rule:16hex`
    /// to ignore it in one file only.
    #[arg(required = true, value_name = "FINGERPRINT")]
    pub fingerprints: Vec<String>,
    /// Why it is safe; written as a `# comment` after the entry.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Ignore file to write [default: .leakscanignore in the current directory].
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
}

// `leakscan baseline`
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan, then write the findings' fingerprints (rule and path, no secret,
    /// no line numbers, sorted) as a baseline for `--baseline FILE`.
    #[command(
        after_help = "Examples:\n  leakscan baseline create -o .leakscan-baseline\n  \
        leakscan baseline create -o .leakscan-baseline dir src tests\n  \
        leakscan baseline create --format json -o baseline.json git ."
    )]
    Create {
        /// Write the baseline to FILE [default: standard output].
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Baseline format: text (`FINGERPRINT PATH` lines) or json.
        #[arg(long, value_enum, default_value_t = BaselineFormat::Text)]
        format: BaselineFormat,
        /// The scan to run, as on the command line (`dir PATH...`, `git
        /// REPO`, `stdin`); a bare path means `dir PATH` [default: dir .].
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "SCAN"
        )]
        scan: Vec<OsString>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BaselineFormat {
    Text,
    Json,
}

/// Where `finish()` writes the baseline instead of a report.
#[derive(Debug, Clone)]
pub struct BaselineOut {
    pub output: Option<PathBuf>,
    pub format: BaselineFormat,
}

// `leakscan explain`
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  leakscan explain src/settings.py:12\n  \
    leakscan explain --rev HEAD~3 config/app.env:4\n\n\
    Exit codes: 0 nothing on the line would be reported, 1 something would, 2 error.")]
pub struct ExplainArgs {
    /// A file and optionally a line: `PATH` or `PATH:LINE`. With --rev, PATH
    /// is relative to the repository's top directory.
    #[arg(value_name = "PATH[:LINE]")]
    pub target: String,
    /// Explain the blob at PATH in this revision (`REV:PATH`, e.g. HEAD~2, a
    /// commit id, a branch) instead of the file on disk.
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// Repository for --rev [default: the one containing the current directory].
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Scanned root: PATH is judged relative to it (docs/tests, path
    /// scopes), as `leakscan dir DIR` judges its files
    /// [default: the git work tree holding the file, else the current directory].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Config file [default: .leakscan.toml in the project root].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore file [default: .leakscanignore in the project root].
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// Baseline whose fingerprints count as suppressed.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Text,
    Json,
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_with_units() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("10 mib"), Ok(10 << 20));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(
            parse_size("25MiB"),
            Ok(leakscan_scanner::scan::DEFAULT_MAX_FILE_SIZE)
        );
        assert!(parse_size("10XB").is_err());
        assert!(parse_size("MB").is_err());
    }
}
