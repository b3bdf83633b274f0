//! Command-line arguments (clap derive) and their conversion into the
//! engine's plain options struct.

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
    /// Scan files on disk (honours .gitignore and .ignore, skips .git/).
    Dir {
        /// Files or directories to scan [default: .]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        scan: ScanArgs,
        /// Follow symbolic links.
        #[arg(long)]
        follow_symlinks: bool,
    },
    /// Scan standard input.
    Stdin {
        /// Name to report for the input.
        #[arg(long, default_value = "<stdin>")]
        path: String,
        #[command(flatten)]
        scan: ScanArgs,
    },
    /// List or check rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every enabled rule: id, category, name.
    List {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Prove a rule pack against its own examples and counterexamples
    /// (the built-in packs when no file is given).
    Check { file: Option<PathBuf> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Jsonl,
    Sarif,
}

impl OutputFormat {
    pub fn to_report(self) -> leakscan_scanner::report::Format {
        use leakscan_scanner::report::Format;
        match self {
            OutputFormat::Text => Format::Text,
            OutputFormat::Json => Format::Json,
            OutputFormat::Jsonl => Format::Jsonl,
            OutputFormat::Sarif => Format::Sarif,
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
    /// Worker threads [default: one per core].
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Skip files and blobs larger than this many bytes (counted as skips).
    #[arg(long, value_name = "BYTES", default_value_t = leakscan_scanner::scan::DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// No summary or progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
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
    /// Send a provider's checks to URL instead (NAME: entra, google, github,
    /// gitlab, slack, stripe, aws); also LEAKSCAN_VERIFY_ENDPOINT_<NAME>.
    #[arg(long, value_name = "NAME=URL")]
    pub verify_endpoint: Vec<String>,
    /// Credentials verified at once.
    #[arg(long, value_name = "N", default_value_t = leakscan_scanner::verify::DEFAULT_CONCURRENCY)]
    pub verify_concurrency: usize,
}

impl ScanArgs {
    /// Whether any verification flag is on.
    pub fn verifying(&self) -> bool {
        self.verify || self.verify_dry_run || self.only_live
    }

    pub fn to_options(&self) -> ScanOptions {
        ScanOptions {
            threads: self.threads,
            max_file_size: self.max_file_size,
            follow_symlinks: false,
            no_redact: self.no_redact,
            verify: self.verifying(),
            verify_neighbours: false,
        }
    }
}
