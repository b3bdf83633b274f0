//! Scanning inside a blob (issue 16): archives and compressed streams are
//! opened level by level (see [`crate::source::extract`]) and their entries
//! scanned as files of their own; the printable runs of a binary file are
//! scanned by the rules whose formats identify themselves.

use std::sync::Mutex;

use leakscan_rules::{Category, Confidence, Rule};

use crate::finding::Finding;
use crate::matcher::{Matcher, RawMatch};
use crate::scan::Scanner;
use crate::source::extract::{self, Budget, Limits, Skip, Visitor};
use crate::stats::Stats;

/// Shortest printable run of a binary file that is scanned (shorter than
/// any self-identifying credential).
pub const MIN_RUN: usize = 16;

/// The detail key of a finding inside an archive: the path inside the
/// outermost archive (`dir/inner.tar.gz!app/.env`); the finding's `path`
/// is the archive's path, [`extract::SEPARATOR`], then this.
pub const INNER_PATH: &str = "inner_path";

/// The path of the file that holds a finding: for a finding inside an
/// archive the outermost archive's path, else the finding's path.
pub fn outer_path(f: &Finding) -> &str {
    match f.details.get(INNER_PATH).and_then(|v| v.as_str()) {
        Some(inner) => f
            .path
            .strip_suffix(inner)
            .and_then(|p| p.strip_suffix(extract::SEPARATOR))
            .unwrap_or(&f.path),
        None => &f.path,
    }
}

/// A finding's path with `outer` as the outermost file's path: `outer`, or
/// `outer!inner` for a finding inside an archive.
pub fn with_outer_path(f: &Finding, outer: &str) -> String {
    match f.details.get(INNER_PATH).and_then(|v| v.as_str()) {
        Some(inner) => format!("{outer}{}{inner}", extract::SEPARATOR),
        None => outer.to_string(),
    }
}

/// The detail key of a finding in a printable run of a binary file.
pub const IN_BINARY: &str = "in_binary";

/// Whether a rule's format identifies itself: a fixed prefix with a
/// checksum or a structure check (`very-high` confidence), and neither
/// generic nor format-less. Only such rules run on the printable runs of a
/// binary file, where there is no line and no context to lean on.
pub fn self_identifying(rule: &Rule) -> bool {
    rule.confidence == Confidence::VeryHigh
        && rule.category != Category::Generic
        && !rule.formatless
}

/// The printable ASCII runs of a binary blob (line breaks and tabs
/// included, so a PEM block stays whole), at least [`MIN_RUN`] bytes long,
/// each followed by a newline, and where each run came from.
#[derive(Debug, Default)]
pub struct Runs {
    pub text: Vec<u8>,
    /// (offset in `text`, offset in the blob, length), by offset.
    map: Vec<(usize, usize, usize)>,
}

impl Runs {
    pub fn of(data: &[u8]) -> Runs {
        let mut runs = Runs::default();
        let mut start = None;
        for (i, &b) in data.iter().chain(std::iter::once(&0u8)).enumerate() {
            let printable = (0x20..0x7f).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r');
            match (printable, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    if i - s >= MIN_RUN {
                        runs.map.push((runs.text.len(), s, i - s));
                        runs.text.extend_from_slice(&data[s..i]);
                        runs.text.push(b'\n');
                    }
                    start = None;
                }
                _ => {}
            }
        }
        runs
    }

    /// The blob span of a `text` span, if it lies within one run.
    pub fn to_blob(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let i = self
            .map
            .partition_point(|&(t, _, _)| t <= start)
            .checked_sub(1)?;
        let (t, d, len) = self.map[i];
        (end <= t + len).then_some((d + start - t, d + end - t))
    }
}

/// Counters of what extraction read and skipped, shared by the threads of
/// a scan (see [`Scanner::take_extract_stats`]).
pub type SharedStats = std::sync::Arc<Mutex<Stats>>;

impl Scanner {
    /// Scans one blob: an archive or compressed stream entry by entry, a
    /// binary file also by its printable runs, anything else as it is.
    /// Returns the findings to report and those an inline allow comment
    /// drops; what extraction opened and skipped is counted.
    pub fn scan_deep(&self, path: &str, data: &[u8]) -> (Vec<Finding>, Vec<Finding>) {
        let (reported, allowed, stats) = self.scan_deep_stats(path, data);
        if let Some(stats) = stats {
            self.add_extract_stats(stats);
        }
        (reported, allowed)
    }

    /// [`Scanner::scan_deep`] for an older version of a file, which
    /// `staged` and `git --range` scan only to tell which findings are new:
    /// its archives and skips are not counted (they were not scanned as
    /// part of what the commit adds).
    pub fn scan_older_version(&self, path: &str, data: &[u8]) -> (Vec<Finding>, Vec<Finding>) {
        let (reported, allowed, _) = self.scan_deep_stats(path, data);
        (reported, allowed)
    }

    /// [`Scanner::scan_deep`], returning what extraction opened and skipped
    /// (for an archive) instead of counting it.
    fn scan_deep_stats(
        &self,
        path: &str,
        data: &[u8],
    ) -> (Vec<Finding>, Vec<Finding>, Option<Stats>) {
        let limits = self.options.extract;
        let mut stats = None;
        if limits.depth > 0
            && let Some(kind) = extract::detect(data)
        {
            let budget = Budget::new(&limits);
            let mut out = Found::default();
            let mut walk = Walk {
                scanner: self,
                limits: &limits,
                budget: &budget,
                prefix: path.to_string(),
                inner: String::new(),
                depth: 1,
                ancestors: vec![digest(data)],
                out: &mut out,
            };
            let opened = extract::open(kind, path, data, &limits, &budget, &mut walk);
            if opened {
                out.stats.archives += 1;
                return (out.reported, out.allowed, Some(out.stats));
            }
            out.stats.skip(Skip::Corrupt.reason());
            stats = Some(out.stats);
        }
        let (reported, allowed) = self.scan_flat(path, data);
        (reported, allowed, stats)
    }

    /// One blob, no archive opened: text as it is; a binary blob by the
    /// binary rules and, unless `--no-binary`, its printable runs by the
    /// self-identifying rules.
    fn scan_flat(&self, path: &str, data: &[u8]) -> (Vec<Finding>, Vec<Finding>) {
        let mut matches = self.matcher.scan(data);
        self.add_file_matches(path, data, &mut matches);
        if !Matcher::is_binary(data) {
            self.add_encoded_matches(data, &mut matches);
        } else if !self.options.no_binary && data.len() >= MIN_RUN {
            let runs = Runs::of(data);
            if !runs.text.is_empty() {
                for mut m in self.matcher.scan_only(&runs.text, &self_identifying) {
                    let Some((s, e)) = runs.to_blob(m.start, m.end) else {
                        continue;
                    };
                    if matches.iter().any(|o| o.start < e && s < o.end) {
                        continue;
                    }
                    m.start = s;
                    m.end = e;
                    m.details
                        .insert(IN_BINARY.to_string(), serde_json::Value::Bool(true));
                    matches.push(m);
                }
                matches.sort_by_key(|m: &RawMatch| (m.start, m.end, m.rule));
            }
        }
        self.findings_split(path, data, &matches)
    }

    /// Adds the provider rules' matches inside the base64 runs of a text
    /// blob (see [`crate::encoded`]), sorted with the others. A decoded
    /// match replaces the matches of lower priority over its encoded span
    /// (the generic rule seeing the base64 as a value) and yields to any
    /// other.
    pub fn add_encoded_matches(&self, data: &[u8], matches: &mut Vec<RawMatch>) {
        let found = crate::encoded::matches(&self.matcher, data);
        if found.is_empty() {
            return;
        }
        let rules = &self.matcher.rules().rules;
        let priority = |m: &RawMatch| rules[m.rule].rule.priority();
        for m in found {
            let over = |o: &RawMatch| o.start < m.end && m.start < o.end;
            if matches
                .iter()
                .any(|o| over(o) && priority(o) >= priority(&m))
            {
                continue;
            }
            matches.retain(|o| !over(o));
            matches.push(m);
        }
        matches.sort_by_key(|m: &RawMatch| (m.start, m.end, m.rule));
    }

    fn add_extract_stats(&self, stats: Stats) {
        let mut s = self.extract_stats.lock().unwrap_or_else(|e| e.into_inner());
        s.merge(stats);
    }

    /// Moves the extraction counters gathered so far (archives, entries,
    /// skips by reason) into `stats`.
    pub fn take_extract_stats(&self, stats: &mut Stats) {
        let taken =
            std::mem::take(&mut *self.extract_stats.lock().unwrap_or_else(|e| e.into_inner()));
        stats.merge(taken);
    }
}

#[derive(Default)]
struct Found {
    reported: Vec<Finding>,
    allowed: Vec<Finding>,
    stats: Stats,
}

/// Length and CRC-32 of a blob: how a quine is recognised.
fn digest(data: &[u8]) -> (usize, u32) {
    (data.len(), crc32fast::hash(data))
}

/// One archive level being read.
struct Walk<'a> {
    scanner: &'a Scanner,
    limits: &'a Limits,
    budget: &'a Budget,
    /// The archive's own path (as reported).
    prefix: String,
    /// Its path inside the outermost archive (empty at the top).
    inner: String,
    /// Its level: 1 for the outermost archive.
    depth: u32,
    ancestors: Vec<(usize, u32)>,
    out: &'a mut Found,
}

impl Visitor for Walk<'_> {
    fn entry(&mut self, name: &str, data: &[u8]) {
        let esc = extract::escape_entry(name);
        let path = format!("{}{}{esc}", self.prefix, extract::SEPARATOR);
        let inner = if self.inner.is_empty() {
            esc
        } else {
            format!("{}{}{esc}", self.inner, extract::SEPARATOR)
        };
        self.out.stats.archive_entries += 1;
        self.out.stats.archive_bytes += data.len() as u64;
        if let Some(kind) = extract::detect(data) {
            let d = digest(data);
            if self.ancestors.contains(&d) {
                self.skip(Skip::Quine);
                return;
            }
            if self.depth < self.limits.depth {
                let mut ancestors = self.ancestors.clone();
                ancestors.push(d);
                let mut child = Walk {
                    scanner: self.scanner,
                    limits: self.limits,
                    budget: self.budget,
                    prefix: path.clone(),
                    inner: inner.clone(),
                    depth: self.depth + 1,
                    ancestors,
                    out: &mut *self.out,
                };
                if extract::open(kind, &path, data, self.limits, self.budget, &mut child) {
                    self.out.stats.archives += 1;
                    return;
                }
                self.skip(Skip::Corrupt);
            } else {
                self.skip(Skip::Depth);
            }
        }
        let (mut reported, mut allowed) = self.scanner.scan_flat(&path, data);
        for f in reported.iter_mut().chain(allowed.iter_mut()) {
            f.details.insert(
                INNER_PATH.to_string(),
                serde_json::Value::String(inner.clone()),
            );
        }
        self.out.reported.append(&mut reported);
        self.out.allowed.append(&mut allowed);
    }

    fn skip(&mut self, why: Skip) {
        self.out.stats.skip(why.reason());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::scan::ScanOptions;

    fn scanner() -> Scanner {
        Scanner::new(Config::default(), ScanOptions::default()).unwrap()
    }

    /// The built-in rules with their examples (a scanner loads them lean).
    fn full_rules() -> Vec<Rule> {
        leakscan_rules::builtin_packs()
            .unwrap()
            .into_iter()
            .flat_map(|(_, p)| p.rules)
            .collect()
    }

    /// The derived property picks fixed-prefix, checksummed or structured
    /// formats, and each such rule finds its own examples in a binary file.
    #[test]
    fn self_identifying_rules_find_their_examples_in_binaries() {
        let s = scanner();
        let rules = full_rules();
        let chosen: Vec<&Rule> = rules.iter().filter(|r| self_identifying(r)).collect();
        for id in ["stripe-live-key", "github-token", "pem-private-key"] {
            assert!(chosen.iter().any(|r| r.id == id), "{id}");
        }
        for r in &rules {
            if r.category == Category::Generic || r.confidence == Confidence::Medium {
                assert!(!self_identifying(r), "{}", r.id);
            }
        }
        let mut proven = 0;
        for r in &chosen {
            for ex in r
                .examples
                .iter()
                .filter(|e| e.is_ascii() && e.len() >= MIN_RUN)
            {
                let mut data = vec![0u8, 1, 2, 0xff];
                data.extend_from_slice(ex.as_bytes());
                data.extend_from_slice(&[0, 0xfe, 7]);
                let (found, _) = s.scan_deep("app.bin", &data);
                assert!(
                    found.iter().any(|f| f.rule == r.id),
                    "{}: an example not found in a binary",
                    r.id
                );
                proven += 1;
            }
        }
        assert!(proven > 100, "{proven}");
    }

    /// A context-only (medium) rule's example is not reported from a binary.
    #[test]
    fn context_only_rules_do_not_run_on_binaries() {
        let s = scanner();
        let rules = full_rules();
        let r = rules
            .iter()
            .find(|r| r.confidence == Confidence::Medium && !r.examples.is_empty())
            .unwrap();
        let ex = &r.examples[0];
        assert!(!s.scan_bytes("a.txt", ex.as_bytes()).is_empty(), "{}", r.id);
        let mut data = vec![0u8, 1, 2];
        data.extend_from_slice(ex.as_bytes());
        assert!(s.scan_bytes("a.bin", &data).is_empty(), "{}", r.id);
    }

    /// An entry identical to the archive that holds it is a quine.
    #[test]
    fn an_archive_holding_itself_is_a_quine() {
        let s = scanner();
        let limits = Limits::default();
        let budget = Budget::new(&limits);
        let data = b"PK\x03\x04 pretend";
        let mut out = Found::default();
        let mut walk = Walk {
            scanner: &s,
            limits: &limits,
            budget: &budget,
            prefix: "q.zip".into(),
            inner: String::new(),
            depth: 1,
            ancestors: vec![digest(data)],
            out: &mut out,
        };
        walk.entry("q.zip", data);
        assert_eq!(out.stats.skipped.get("archive-quine"), Some(&1));
        assert_eq!(out.stats.archive_entries, 1);
    }

    #[test]
    fn runs_map_back_to_the_blob() {
        let data = b"\x00\x01short\x000123456789abcdefXYZ\x00\x7fanother printable run!\x00";
        let runs = Runs::of(data);
        assert_eq!(
            runs.text,
            b"0123456789abcdefXYZ\nanother printable run!\n".to_vec()
        );
        let (s, e) = runs.to_blob(20, 27).unwrap();
        assert_eq!(&data[s..e], b"another");
        // A span across two runs maps to nothing.
        assert!(runs.to_blob(10, 25).is_none());
    }
}
