//! Findings: a match placed in its source (path, line, column, commit), with
//! a stable fingerprint that never contains the secret, and redaction.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The raw credential bytes. Its `Debug` never shows them, so a finding can be
/// logged or put in an error without leaking; only [`Secret::expose`] does.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }

    /// The secret itself: for verification and `--no-redact` only.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn expose_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes, redacted)", self.0.len())
    }
}

/// At most the first 4 characters, then `…`; short secrets show less so
/// that at least half of the secret stays hidden.
pub fn redact(secret: &str) -> String {
    let chars = secret.chars().count();
    let show = 4.min(chars / 2);
    let mut out: String = secret.chars().take(show).collect();
    out.push('…');
    out
}

/// Longest snippet kept (characters); a longer line is cut around the secret.
pub const SNIPPET_MAX: usize = 160;

/// The line of `data` holding `span`, each of `spans` on it replaced by the
/// redaction of its text, cut to [`SNIPPET_MAX`] characters around `span`
/// and sanitized.
pub fn snippet(data: &[u8], span: (usize, usize), spans: &[(usize, usize)]) -> String {
    let start = data[..span.0.min(data.len())]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let end = data[span.0.min(data.len())..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(data.len(), |i| span.0 + i);
    let mut on_line: Vec<(usize, usize)> = spans
        .iter()
        .copied()
        .filter(|&(s, e)| s < end && e > start)
        .collect();
    on_line.sort_unstable();
    let mut out = String::new();
    let mut at = start;
    let mut secret_at = 0;
    for (s, e) in on_line {
        let s = s.max(at);
        if s >= e.min(end) {
            continue;
        }
        out.push_str(&String::from_utf8_lossy(&data[at..s]));
        if s <= span.0 {
            secret_at = out.chars().count();
        }
        out.push_str(&redact(&String::from_utf8_lossy(&data[s..e.min(end)])));
        at = e.min(end);
    }
    out.push_str(&String::from_utf8_lossy(&data[at..end]));
    let out = out.trim_end_matches('\r');
    let chars: Vec<char> = out.chars().collect();
    let text: String = if chars.len() > SNIPPET_MAX {
        let from = secret_at
            .saturating_sub(SNIPPET_MAX / 3)
            .min(chars.len() - SNIPPET_MAX);
        chars[from..from + SNIPPET_MAX].iter().collect()
    } else {
        out.to_string()
    };
    crate::sanitize::sanitize(text.trim())
}

/// The fingerprint format, stable forever:
/// `{rule}:{16 hex}` where the hex is the first 64 bits of
/// SHA-256("leakscan-fp-v1" NUL rule NUL secret). Path-scoped entries in
/// ignore files are written `path:fingerprint`.
pub fn fingerprint(rule: &str, secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"leakscan-fp-v1\0");
    h.update(rule.as_bytes());
    h.update(b"\0");
    h.update(secret);
    let digest = h.finalize();
    format!("{rule}:{}", hex::encode(&digest[..8]))
}

/// Whether a credential is still live, filled by `--verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub status: VerifyStatus,
    pub detail: String,
    /// What a live credential can reach, when the provider said so in the
    /// same answer (scopes, account, roles); short strings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerifyStatus {
    Live,
    Dead,
    Unknown,
    Skipped,
}

impl VerifyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyStatus::Live => "live",
            VerifyStatus::Dead => "dead",
            VerifyStatus::Unknown => "unknown",
            VerifyStatus::Skipped => "skipped",
        }
    }
}

/// Where a history finding came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Provenance {
    pub commit: String,
    pub author: String,
    pub email: String,
    /// RFC 3339.
    pub date: String,
    /// First line of the commit message, sanitized.
    pub message: String,
    /// The file is gone from HEAD: the secret lives on in history only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The repository's URL (userinfo stripped) in a scan of several
    /// repositories (`leakscan git URL...`, `leakscan merge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
}

/// One reported credential at one location.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub name: String,
    pub category: leakscan_rules::Category,
    /// Repository- or scan-root-relative path, `/`-separated.
    pub path: String,
    /// 1-based; columns count characters, `end_column` is exclusive.
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// Redacted unless the user asked for `--no-redact`.
    pub secret: String,
    pub fingerprint: String,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f32,
    #[serde(flatten, skip_serializing_if = "Option::is_none", default)]
    pub provenance: Option<Provenance>,
    /// Facts decoded from the secret or its context (JWT alg/iss/aud/exp,
    /// key type, client id...). Never the secret itself.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub details: BTreeMap<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub verification: Option<Verification>,
    /// The matched line with every candidate secret on it replaced by its
    /// redaction (even with `--no-redact`), sanitized, at most
    /// [`SNIPPET_MAX`] characters; `None` with `--no-snippet`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub snippet: Option<String>,
    /// The credential; never serialized.
    #[serde(skip)]
    pub raw: Secret,
    /// Byte span of the secret in its blob, for suppression and explain.
    #[serde(skip)]
    pub span: (usize, usize),
    /// Non-secret identifiers found near the secret (client id, tenant,
    /// key id...), for verification.
    #[serde(skip)]
    pub context: BTreeMap<String, Vec<String>>,
}

impl Finding {
    /// The total order used by every report: path, line, column, rule.
    pub fn sort_key(&self) -> (&str, usize, usize, &str, Option<&str>) {
        (
            &self.path,
            self.line,
            self.column,
            &self.rule,
            self.provenance.as_ref().map(|p| p.commit.as_str()),
        )
    }

    pub fn commit(&self) -> Option<&str> {
        self.provenance.as_ref().map(|p| p.commit.as_str())
    }
}

/// Turns byte offsets into 1-based line and character columns. Offsets must
/// be queried in increasing order for linear cost.
pub struct LineIndex<'a> {
    data: &'a [u8],
    pos: usize,
    line: usize,
    line_start: usize,
}

impl<'a> LineIndex<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        LineIndex {
            data,
            pos: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// (line, column) of a byte offset; restarts from the top if asked for
    /// an offset behind the last one.
    pub fn locate(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.data.len());
        if offset < self.pos {
            self.pos = 0;
            self.line = 1;
            self.line_start = 0;
        }
        for (i, b) in self.data[self.pos..offset].iter().enumerate() {
            if *b == b'\n' {
                self.line += 1;
                self.line_start = self.pos + i + 1;
            }
        }
        self.pos = offset;
        let col = char_count(&self.data[self.line_start..offset]) + 1;
        (self.line, col)
    }
}

/// Characters in a UTF-8-ish byte run: every byte that is not a UTF-8
/// continuation byte starts a character (invalid bytes count as one each).
pub fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count()
}

/// What a scan produces: findings in report order, and the counters.
#[derive(Debug, Default)]
pub struct ScanResult {
    pub findings: Vec<Finding>,
    pub stats: crate::stats::Stats,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_shows_at_most_four_chars() {
        assert_eq!(redact("ghp_abcdefghijkl"), "ghp_…");
        assert_eq!(redact("abc"), "a…");
        assert_eq!(redact(""), "…");
    }

    #[test]
    fn fingerprint_is_stable_and_hides_secret() {
        let fp = fingerprint("rule-x", b"hunter2hunter2");
        assert_eq!(fp, fingerprint("rule-x", b"hunter2hunter2"));
        assert_ne!(fp, fingerprint("rule-y", b"hunter2hunter2"));
        assert!(fp.starts_with("rule-x:") && fp.len() == "rule-x:".len() + 16);
        assert!(!fp.contains("hunter2"));
    }

    #[test]
    fn secret_debug_never_shows_bytes() {
        let s = Secret::new("supersecretvalue");
        assert!(!format!("{s:?}").contains("supersecret"));
    }

    #[test]
    fn line_index_counts_lines_and_chars() {
        let data = "ab\nçd€x\n".as_bytes();
        let mut li = LineIndex::new(data);
        assert_eq!(li.locate(0), (1, 1));
        assert_eq!(li.locate(3), (2, 1));
        // after "çd€" (2+1+3 bytes) -> column 4
        assert_eq!(li.locate(9), (2, 4));
        assert_eq!(li.locate(1), (1, 2));
    }
}
