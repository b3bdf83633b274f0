//! Counters for a scan: what was read, what was skipped and why, and the
//! read errors, so a partial result never looks complete.

use std::collections::BTreeMap;

use serde::Serialize;

/// Most read errors kept verbatim; the rest are only counted.
pub const MAX_ERRORS_KEPT: usize = 100;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
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
        self.bytes_scanned += other.bytes_scanned;
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
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}
