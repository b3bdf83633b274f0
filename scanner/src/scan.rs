//! Wires the pieces: builds the matcher from the built-in packs and the
//! config, turns a blob's matches into findings, and runs a source.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Result;
use globset::GlobSet;

use crate::config::Config;
pub use crate::finding::ScanResult;
use crate::finding::{self, Finding, LineIndex};
use crate::matcher::{Matcher, RawMatch, RuleSet};
use crate::stats::Stats;

/// Default largest file or blob scanned: 25 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 25 * 1024 * 1024;

/// Options between the CLI and the engine.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Larger files and blobs are skipped and counted.
    pub max_file_size: u64,
    /// Follow symbolic links while walking.
    pub follow_symlinks: bool,
    /// Print secrets whole (`--no-redact`).
    pub no_redact: bool,
    /// `--verify`: collect verification context (client ids, tenants,
    /// certificates) from each blob that has a verifiable finding.
    pub verify: bool,
    /// Verification may read known config files beside a finding's file
    /// (set by `dir` scans, where paths are files on disk).
    pub verify_neighbours: bool,
    /// Walk files that .gitignore, .ignore and .git/info/exclude exclude
    /// (`--no-ignore`); otherwise they are skipped and counted.
    pub no_ignore: bool,
    /// Archives and compressed streams: how deep and how much to open
    /// (`--extract-depth`, `--no-extract` sets depth 0).
    pub extract: crate::source::extract::Limits,
    /// `--no-binary`: binary files are not scanned for printable runs.
    pub no_binary: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            threads: 0,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            follow_symlinks: false,
            no_redact: false,
            verify: false,
            verify_neighbours: false,
            no_ignore: false,
            extract: crate::source::extract::Limits::default(),
            no_binary: false,
        }
    }
}

impl ScanOptions {
    pub fn thread_count(&self) -> usize {
        if self.threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        } else {
            self.threads
        }
    }
}

/// A ready-to-run engine: compiled rules, config, options.
#[derive(Debug, Clone)]
pub struct Scanner {
    pub matcher: Matcher,
    pub config: Config,
    pub options: ScanOptions,
    path_allow: GlobSet,
    /// Findings dropped by inline `leakscan:allow` comments (see
    /// [`crate::suppress::inline`]); shared by clones across threads.
    inline_allowed: Arc<AtomicU64>,
    /// What extraction read and skipped (see [`crate::deep`]).
    pub(crate) extract_stats: crate::deep::SharedStats,
}

/// Built-in packs plus the config's extra packs, in that order (a user rule
/// with a built-in id replaces it).
pub fn all_packs(config: &Config) -> Result<Vec<(String, leakscan_rules::Pack)>> {
    let mut packs: Vec<(String, leakscan_rules::Pack)> = leakscan_rules::builtin_packs()?
        .into_iter()
        .map(|(n, p)| (format!("builtin:{n}"), p))
        .collect();
    packs.extend(config.load_packs()?);
    Ok(packs)
}

/// [`all_packs`] as a scan needs them: the built-in rules without their
/// examples and counterexamples (start-up parses a third less).
pub fn scan_packs(config: &Config) -> Result<Vec<(String, leakscan_rules::Pack)>> {
    let mut packs: Vec<(String, leakscan_rules::Pack)> = leakscan_rules::builtin_packs_lean()?
        .into_iter()
        .map(|(n, p)| (format!("builtin:{n}"), p))
        .collect();
    packs.extend(config.load_packs()?);
    Ok(packs)
}

impl Scanner {
    pub fn new(config: Config, options: ScanOptions) -> Result<Scanner> {
        let packs = scan_packs(&config)?;
        Self::with_packs(config, options, packs)
    }

    /// [`new`](Self::new) with the given packs (from [`all_packs`] where
    /// the rules' examples are wanted, as `rules list` shows them).
    pub fn with_packs(
        config: Config,
        options: ScanOptions,
        packs: Vec<(String, leakscan_rules::Pack)>,
    ) -> Result<Scanner> {
        let known: Vec<&str> = packs
            .iter()
            .flat_map(|(_, p)| p.rules.iter().map(|r| r.id.as_str()))
            .collect();
        config.check_rule_ids(&known)?;
        let set = RuleSet::from_packs(
            packs,
            &config.rules.disable,
            &config.rules.entropy,
            &config.allow.secrets,
        )?;
        let matcher = Matcher::new(set)?;
        let path_allow = config.path_globs()?;
        Ok(Scanner {
            matcher,
            config,
            options,
            path_allow,
            inline_allowed: Arc::default(),
            extract_stats: Arc::default(),
        })
    }

    /// Whether the config's path allowlist excludes this relative path.
    pub fn path_allowed(&self, rel: &str) -> bool {
        self.path_allow.is_match(rel)
    }

    /// Scans one blob in memory and returns its findings (no provenance).
    /// Archives are opened and binary files read by their printable runs
    /// (see [`crate::deep`]).
    pub fn scan_bytes(&self, path: &str, data: &[u8]) -> Vec<Finding> {
        let (reported, allowed) = self.scan_deep(path, data);
        self.count_inline_allowed(allowed.len() as u64);
        reported
    }

    /// Adds the matches of files whose whole content is one secret,
    /// recognised by `path` (see [`crate::validate::file_matches`]), where
    /// no content rule already covers the span.
    pub fn add_file_matches(&self, path: &str, data: &[u8], matches: &mut Vec<RawMatch>) {
        for m in crate::validate::file_matches(self.matcher.rules(), path, data) {
            if m.rejected.is_none() && !matches.iter().any(|x| x.start < m.end && m.start < x.end) {
                matches.push(m);
            }
        }
    }

    /// Whether a finding at `rel` (relative to the scanned root or the
    /// repository) is dropped by its path: see [`Scanner::path_drop`].
    pub fn generic_in_docs_or_tests(&self, f: &Finding, rel: &str) -> bool {
        self.path_drop(f, rel).is_some()
    }

    /// Why a generic or format-less finding (see `formatless` in the rule
    /// schema) at `rel` is dropped by its path, or `None`: (the suppression
    /// count's name, the explanation). A hex value in a lock file is a
    /// checksum or a commit id, never a token; in documentation, tests,
    /// examples, templates and vendored code (see [`crate::pathclass`]) a
    /// generic value is dropped unless `generic_in_docs_and_tests`
    /// (`--include-tests`).
    pub fn path_drop(&self, f: &Finding, rel: &str) -> Option<(&'static str, String)> {
        let formatless = f.category == leakscan_rules::Category::Generic
            || self
                .matcher
                .rules()
                .get(&f.rule)
                .is_some_and(|r| r.rule.formatless);
        if !formatless {
            return None;
        }
        let raw = f.raw.expose();
        if raw.len() >= 16
            && raw.iter().all(u8::is_ascii_hexdigit)
            && crate::pathclass::lock_file(rel)
        {
            return Some((
                "generic hex in lock files",
                format!(
                    "{rel} is a lock file: a hex value there is a checksum or a commit id, not a token"
                ),
            ));
        }
        if self.config.rules.generic_in_docs_and_tests {
            return None;
        }
        crate::pathclass::classify(rel).map(|(kind, why)| {
            (
                kind.label(),
                format!(
                    "{rel} is {why}: a generic or format-less rule's findings are not reported \
                     there (`--include-tests`, or `generic_in_docs_and_tests = true` in [rules], \
                     reports them)"
                ),
            )
        })
    }

    /// Drops generic findings in documentation, tests, examples, templates
    /// and vendored code, judged by each finding's own path, counting them
    /// as suppressed by reason (see [`crate::pathclass::Kind::label`]);
    /// `generic_in_docs_and_tests` (`--include-tests`) keeps them.
    pub fn drop_generic_in_docs_or_tests(&self, result: &mut ScanResult) {
        self.drop_in_docs_or_tests(&mut result.findings, &mut result.stats, None);
    }

    /// The shared step: drops the findings [`Scanner::generic_in_docs_or_tests`]
    /// names, judged at `rel` (or at each finding's own path when `None`),
    /// and counts them as suppressed.
    pub fn drop_in_docs_or_tests(
        &self,
        findings: &mut Vec<Finding>,
        stats: &mut Stats,
        rel: Option<&str>,
    ) {
        findings.retain(|f| {
            let Some((label, _)) = self.path_drop(f, rel.unwrap_or(&f.path)) else {
                return true;
            };
            // Counted by reason: tests, docs, examples, templates, vendored
            // code, lock files.
            *stats.suppressed.entry(label.to_string()).or_default() += 1;
            false
        });
    }

    /// Findings dropped so far by inline `leakscan:allow` comments.
    pub fn inline_allowed(&self) -> u64 {
        self.inline_allowed.load(Ordering::Relaxed)
    }

    /// Places matches in their blob: line, column, fingerprint, redaction.
    /// Matches on a line marked `leakscan:allow` are dropped and counted.
    pub fn findings_from(&self, path: &str, data: &[u8], matches: &[RawMatch]) -> Vec<Finding> {
        let (reported, allowed) = self.findings_split(path, data, matches);
        self.count_inline_allowed(allowed.len() as u64);
        reported
    }

    /// Counts findings dropped by inline `leakscan:allow` comments (for
    /// sources that decide which of them are new, like `staged`).
    pub fn count_inline_allowed(&self, n: u64) {
        self.inline_allowed.fetch_add(n, Ordering::Relaxed);
    }

    /// Scans one blob: the findings to report, and those an inline
    /// `leakscan:allow` comment drops (not counted here).
    pub fn scan_bytes_split(&self, path: &str, data: &[u8]) -> (Vec<Finding>, Vec<Finding>) {
        self.scan_deep(path, data)
    }

    /// [`Scanner::findings_from`] without counting: (reported, dropped by
    /// an inline allow comment).
    pub fn findings_split(
        &self,
        path: &str,
        data: &[u8],
        matches: &[RawMatch],
    ) -> (Vec<Finding>, Vec<Finding>) {
        let mut li = LineIndex::new(data);
        let rules = self.matcher.rules();
        let verify_context = self.options.verify
            && matches
                .iter()
                .any(|m| m.rejected.is_none() && rules.rules[m.rule].rule.verify.is_some());
        let extra = if verify_context {
            crate::credential_context::extract(path, data)
        } else {
            BTreeMap::new()
        };
        // Every candidate's span (rejected ones too): a snippet never shows
        // another secret on the same line.
        let spans: Vec<(usize, usize)> = matches.iter().map(|m| (m.start, m.end)).collect();
        let mut to_finding = |m: &RawMatch| {
            let rule = &rules.rules[m.rule].rule;
            let (line, column) = li.locate(m.start);
            let (end_line, end_column) = li.locate(m.end);
            let shown = match (&m.display, self.options.no_redact) {
                (Some(d), _) => d.clone(),
                (None, true) => m.secret.expose_str().into_owned(),
                (None, false) => finding::redact(&m.secret.expose_str()),
            };
            let mut f = Finding {
                rule: rule.id.clone(),
                name: rule.name.clone(),
                category: rule.category,
                path: path.to_string(),
                line,
                column,
                end_line,
                end_column,
                secret: crate::sanitize::sanitize(&shown),
                fingerprint: finding::fingerprint(&rule.id, m.secret.expose()),
                entropy: (m.entropy * 1000.0).round() / 1000.0,
                provenance: None,
                details: m.details.clone(),
                verification: None,
                snippet: Some(finding::snippet(data, (m.start, m.end), &spans)),
                raw: m.secret.clone(),
                span: (m.start, m.end),
                context: if rule.verify.is_some() && !extra.is_empty() {
                    let mut c = m.context.clone();
                    crate::credential_context::merge(&mut c, extra.clone());
                    c
                } else {
                    m.context.clone()
                },
            };
            if crate::validate::confidence::scored(rule) {
                let ls = data[..m.start]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                let le = data[m.end..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(data.len(), |i| m.end + i);
                let before = String::from_utf8_lossy(&data[ls..m.start]);
                let after = String::from_utf8_lossy(&data[m.end..le]);
                crate::validate::confidence::score(&mut f, rule, &before, &after);
            }
            f
        };
        let (allowed, reported): (Vec<&RawMatch>, Vec<&RawMatch>) = matches
            .iter()
            .filter(|m| m.rejected.is_none())
            .filter(|m| !crate::suppress::is_fingerprint_text(rules, data, m.start, m.end))
            .partition(|m| crate::suppress::inline::check(data, m.start, m.end).is_some());
        (
            reported.into_iter().map(&mut to_finding).collect(),
            allowed.into_iter().map(&mut to_finding).collect(),
        )
    }

    /// Walks paths on disk (see [`crate::source::dir`]) and scans them.
    pub fn scan_dirs(&self, roots: &[PathBuf]) -> Result<ScanResult> {
        let started = Instant::now();
        let mut result = crate::source::dir::scan(self, roots)?;
        self.take_extract_stats(&mut result.stats);
        sort_findings(&mut result.findings);
        result.stats.findings = result.findings.len() as u64;
        result.stats.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(result)
    }

    /// Scans standard input (or any reader) as one blob named `path`.
    pub fn scan_reader(&self, path: &str, reader: &mut dyn std::io::Read) -> Result<ScanResult> {
        let started = Instant::now();
        let mut result = ScanResult::default();
        let limit = self.options.max_file_size;
        let mut data = Vec::new();
        use std::io::Read as _;
        let read = reader
            .take(limit + 1)
            .read_to_end(&mut data)
            .map_err(|e| anyhow::anyhow!("reading standard input: {e}"))?;
        if read as u64 > limit {
            anyhow::bail!(
                "standard input is larger than the size limit of {limit} bytes (raise it with --max-file-size)"
            );
        }
        result.stats.files_scanned = 1;
        result.stats.bytes_scanned = data.len() as u64;
        result.findings = self.scan_bytes(path, &data);
        self.take_extract_stats(&mut result.stats);
        self.drop_generic_in_docs_or_tests(&mut result);
        sort_findings(&mut result.findings);
        result.stats.findings = result.findings.len() as u64;
        result.stats.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(result)
    }
}

/// The deterministic report order: path, line, column, rule, commit.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// Findings grouped by fingerprint, in first-seen order (for grouped text).
pub fn group_by_fingerprint(findings: &[Finding]) -> BTreeMap<&str, Vec<&Finding>> {
    let mut g: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        g.entry(f.fingerprint.as_str()).or_default().push(f);
    }
    g
}

/// The engine receives the blobs sources read: the source never sees the
/// matcher, the config or the suppression rules.
impl crate::source::sink::BlobSink for Scanner {
    fn read_options(&self) -> crate::source::sink::ReadOptions {
        crate::source::sink::ReadOptions {
            threads: self.options.thread_count(),
            max_file_size: self.options.max_file_size,
            follow_symlinks: self.options.follow_symlinks,
            no_ignore: self.options.no_ignore,
        }
    }

    fn excluded(&self, path: &str) -> bool {
        self.path_allowed(&crate::paths::relative_to_root(&self.config.root, path))
    }

    fn blob(
        &self,
        path: &str,
        below: Option<&str>,
        data: &[u8],
        stats: &mut Stats,
    ) -> Vec<Finding> {
        let mut found = self.scan_bytes(path, data);
        if !found.is_empty() {
            // Judged below the scanned folder: a root inside a `tests` folder
            // does not make every file a test (`leakscan explain --root DIR`
            // judges the same way). A file given by name has nothing below it:
            // judged from the project root, as `explain` does by default.
            let rel = below
                .map(str::to_string)
                .unwrap_or_else(|| crate::paths::relative_to_root(&self.config.root, path));
            self.drop_in_docs_or_tests(&mut found, stats, Some(&rel));
        }
        found
    }
}
