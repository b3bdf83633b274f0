//! Counters for a scan: what was read, what was skipped and why, and the
//! read errors, so a partial result never looks complete.

use std::collections::BTreeMap;

use serde::Serialize;

/// Most read errors kept verbatim; the rest are only counted.
pub const MAX_ERRORS_KEPT: usize = 100;

/// Skip reasons that are the user's choice or hold no stored content, not
/// lost content: paths the config allowlists, symbolic links not followed
/// (their targets inside the tree are scanned as themselves), FIFOs,
/// sockets and devices, and submodule gitlinks (another repository). Every
/// other reason makes the result incomplete (`--strict`).
pub const DELIBERATE_SKIPS: &[&str] = &[
    "path-allowlist",
    "symlink",
    "not-a-file",
    "submodule",
    "gitignored",
];

/// Skip reasons used by the sources, for reference in docs and tests.
pub mod reason {
    /// A shallow clone's boundary commits: history before them is missing
    /// (counted per boundary commit; `git fetch --unshallow` completes it).
    pub const SHALLOW: &str = "shallow-boundary";
    /// Excluded by .gitignore, .ignore or .git/info/exclude (`dir` without
    /// `--no-ignore`); a folder counts once.
    pub const GITIGNORED: &str = "gitignored";
    /// Larger than `--max-file-size` (never read whole).
    pub const TOO_LARGE: &str = "too-large";
    /// Open or read failed (permission denied, vanished, name too long...).
    pub const UNREADABLE: &str = "unreadable";
    /// A symbolic link whose target does not exist (with `--follow-symlinks`).
    pub const BROKEN_SYMLINK: &str = "broken-symlink";
    /// A symbolic link that leads back to one of its ancestors.
    pub const SYMLINK_LOOP: &str = "symlink-loop";
    /// A FIFO, socket or device: never opened (reading could block forever).
    pub const NOT_A_FILE: &str = "not-a-file";
    /// A submodule gitlink in history: a commit of another repository
    /// (scan that repository itself).
    pub const SUBMODULE: &str = "submodule";
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Files read (for a history scan: blobs, each once).
    pub files_scanned: u64,
    /// Commits a history or range scan walked (absent for files on disk).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits_scanned: Option<u64>,
    pub bytes_scanned: u64,
    /// Archives and compressed streams opened, and the entries read from
    /// them (with their extracted bytes), nested levels included.
    #[serde(skip_serializing_if = "is_zero")]
    pub archives: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub archive_entries: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub archive_bytes: u64,
    /// Skips by reason (`too-large`, `unreadable`, `symlink`, ...).
    pub skipped: BTreeMap<String, u64>,
    /// Read errors: the input and what went wrong, never its content.
    pub errors: Vec<String>,
    pub errors_total: u64,
    pub findings: u64,
    pub elapsed_ms: u64,
    /// Findings left out by suppression, by mechanism (`inline`, `ignore
    /// file`, `baseline`); `findings` counts only what is left.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub suppressed: BTreeMap<String, u64>,
    /// Wall milliseconds per phase of a history scan (`enumerate`,
    /// `read-pack`, `read-fallback`, `locate`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub phases_ms: BTreeMap<String, u64>,
    /// Bytes held by the largest structures of a history scan (trees
    /// stored, pack indexes, the tree graph, blob lists...), each at its
    /// largest, and the process's peak resident size where the system
    /// tells it (`process-peak-rss`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub memory_bytes: BTreeMap<String, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Stats {
    pub fn skip(&mut self, reason: &str) {
        *self.skipped.entry(reason.to_string()).or_default() += 1;
    }

    pub fn error(&mut self, reason: &str, message: String) {
        self.skip(reason);
        self.errors_total += 1;
        if self.errors.len() < MAX_ERRORS_KEPT {
            self.errors.push(message);
        }
    }

    pub fn merge(&mut self, other: Stats) {
        self.files_scanned += other.files_scanned;
        if let Some(c) = other.commits_scanned {
            *self.commits_scanned.get_or_insert(0) += c;
        }
        self.bytes_scanned += other.bytes_scanned;
        self.archives += other.archives;
        self.archive_entries += other.archive_entries;
        self.archive_bytes += other.archive_bytes;
        for (k, v) in other.skipped {
            *self.skipped.entry(k).or_default() += v;
        }
        self.errors_total += other.errors_total;
        for e in other.errors {
            if self.errors.len() < MAX_ERRORS_KEPT {
                self.errors.push(e);
            }
        }
        self.findings += other.findings;
        for (k, v) in other.suppressed {
            *self.suppressed.entry(k).or_default() += v;
        }
        for (k, v) in other.phases_ms {
            *self.phases_ms.entry(k).or_default() += v;
        }
        for (k, v) in other.memory_bytes {
            self.memory(&k, v);
        }
    }

    /// Records that structure `name` held `bytes` (the largest is kept).
    pub fn memory(&mut self, name: &str, bytes: u64) {
        let m = self.memory_bytes.entry(name.to_string()).or_default();
        *m = (*m).max(bytes);
    }

    /// Records the wall time of a phase that started at `since`.
    pub fn phase(&mut self, name: &str, since: std::time::Instant) {
        *self.phases_ms.entry(name.to_string()).or_default() += since.elapsed().as_millis() as u64;
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Skips and read errors that mean some content was not scanned.
    pub fn incomplete_total(&self) -> u64 {
        self.skipped
            .iter()
            .filter(|(k, _)| !DELIBERATE_SKIPS.contains(&k.as_str()))
            .map(|(_, v)| v)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliberate_skips_do_not_make_a_scan_incomplete() {
        let mut s = Stats::default();
        s.skip("path-allowlist");
        s.skip("symlink");
        s.skip("not-a-file");
        assert_eq!(s.skipped_total(), 3);
        assert_eq!(s.incomplete_total(), 0);
        s.skip(reason::TOO_LARGE);
        s.error(reason::UNREADABLE, "a.txt: Permission denied".into());
        assert_eq!(s.incomplete_total(), 2);
        assert_eq!(s.errors_total, 1);
    }

    #[test]
    fn errors_beyond_the_cap_are_counted_not_kept() {
        let mut s = Stats::default();
        for i in 0..MAX_ERRORS_KEPT + 5 {
            s.error(reason::UNREADABLE, format!("f{i}"));
        }
        let mut t = Stats::default();
        t.error("bad-commit", "c".into());
        s.merge(t);
        assert_eq!(s.errors.len(), MAX_ERRORS_KEPT);
        assert_eq!(s.errors_total as usize, MAX_ERRORS_KEPT + 6);
        assert_eq!(s.incomplete_total(), s.errors_total);
    }
}
