//! The ignore file (`.leakscanignore` at the scanned root, or
//! `--ignore-file`): one fingerprint per line, optionally scoped to a path
//! (`path:fingerprint`, a glob when it has `*`, `?` or `[`), `#` comments
//! for reasons. Fingerprints hold no commit and no line, so entries survive
//! rebases, squashes, cherry-picks and moved lines.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use globset::{Glob, GlobMatcher};

use super::check_fingerprint;

/// One entry of an ignore file.
#[derive(Debug, Clone)]
pub struct IgnoreEntry {
    /// `{rule}:{16 hex}`.
    pub fingerprint: String,
    /// Path scope, relative to the scanned root, if any.
    pub path: Option<String>,
    glob: Option<GlobMatcher>,
    /// 1-based line in the file.
    pub line: usize,
    /// The trailing `# comment`, if any.
    pub reason: Option<String>,
}

impl IgnoreEntry {
    /// The entry as written in the file (without its comment).
    pub fn text(&self) -> String {
        match &self.path {
            Some(p) => format!("{p}:{}", self.fingerprint),
            None => self.fingerprint.clone(),
        }
    }

    /// Whether it covers a finding with this fingerprint at `path` (relative
    /// to the scanned root; `full` is the path as the scan reported it).
    pub fn matches(&self, fingerprint: &str, path: &str, full: &str) -> bool {
        if self.fingerprint != fingerprint {
            return false;
        }
        match (&self.path, &self.glob) {
            (None, _) => true,
            (Some(_), Some(g)) => g.is_match(path) || g.is_match(full),
            (Some(p), None) => p == path || p == full,
        }
    }
}

/// A parsed ignore file.
#[derive(Debug, Clone, Default)]
pub struct IgnoreFile {
    pub path: PathBuf,
    pub entries: Vec<IgnoreEntry>,
}

impl IgnoreFile {
    /// Reads and parses a file; errors name the file and line.
    pub fn load(path: &Path) -> Result<IgnoreFile> {
        let text = std::fs::read(path)
            .with_context(|| format!("reading ignore file {}", path.display()))?;
        let text = String::from_utf8(text)
            .map_err(|_| anyhow::anyhow!("ignore file {} is not valid UTF-8", path.display()))?;
        let entries = parse(&crate::paths::display_path(path), &text)?;
        Ok(IgnoreFile {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// The first entry covering a finding, as an index into `entries`.
    pub fn find(&self, fingerprint: &str, path: &str, full: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.matches(fingerprint, path, full))
    }
}

/// Splits a line into the entry and its trailing comment.
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1] == b' ' || bytes[i - 1] == b'\t') {
            let reason = line[i + 1..].trim();
            return (line[..i].trim(), (!reason.is_empty()).then_some(reason));
        }
    }
    (line.trim(), None)
}

/// Parses one entry (`fingerprint` or `path:fingerprint`). The message
/// never repeats the text: a user may have pasted a secret by mistake.
pub fn parse_entry(entry: &str) -> Result<(Option<String>, String), String> {
    let mut parts = entry.rsplitn(3, ':');
    let hex = parts.next().unwrap_or_default();
    let rule = parts.next();
    let path = parts.next();
    let Some(rule) = rule else {
        return Err(
            "not a fingerprint (expected RULE:16-HEX-DIGITS as printed by a scan, optionally PATH:RULE:16-HEX-DIGITS)"
                .into(),
        );
    };
    let fingerprint = format!("{rule}:{hex}");
    check_fingerprint(&fingerprint)?;
    let path = match path {
        Some(p) if p.trim().is_empty() => return Err("empty path before the fingerprint".into()),
        Some(p) => Some(p.trim().to_string()),
        None => None,
    };
    Ok((path, fingerprint))
}

/// Parses ignore-file text; `name` is used in errors (`name:line: ...`).
pub fn parse(name: &str, text: &str) -> Result<Vec<IgnoreEntry>> {
    let mut entries = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let (entry, reason) = split_comment(raw);
        if entry.is_empty() {
            continue;
        }
        let (path, fingerprint) =
            parse_entry(entry).map_err(|e| anyhow::anyhow!("ignore file {name}:{line}: {e}"))?;
        let glob = match &path {
            Some(p) if p.contains(['*', '?', '[']) => Some(
                Glob::new(p)
                    .map_err(|e| {
                        anyhow::anyhow!("ignore file {name}:{line}: bad path glob: {}", e.kind())
                    })?
                    .compile_matcher(),
            ),
            _ => None,
        };
        entries.push(IgnoreEntry {
            fingerprint,
            path,
            glob,
            line,
            reason: reason.map(str::to_string),
        });
    }
    Ok(entries)
}

/// What [`append`] did.
#[derive(Debug, Default)]
pub struct Appended {
    pub added: Vec<String>,
    /// Entries already present (left alone).
    pub present: Vec<String>,
}

/// Appends entries (validated; duplicates of existing or repeated entries
/// skipped) with an optional reason as a trailing comment. Creates the file
/// if needed. Nothing is written if any entry is malformed.
pub fn append(path: &Path, entries: &[String], reason: Option<&str>) -> Result<Appended> {
    let existing = if path.exists() {
        IgnoreFile::load(path)?
    } else {
        IgnoreFile::default()
    };
    let reason = reason.map(|r| crate::sanitize::sanitize(r.trim()));
    let mut out = Appended::default();
    let mut seen: Vec<String> = existing.entries.iter().map(IgnoreEntry::text).collect();
    for (n, e) in entries.iter().enumerate() {
        let (p, fp) =
            parse_entry(e.trim()).map_err(|why| anyhow::anyhow!("argument {}: {why}", n + 1))?;
        let text = match p {
            Some(p) => format!("{p}:{fp}"),
            None => fp,
        };
        if seen.contains(&text) {
            out.present.push(text);
        } else {
            seen.push(text.clone());
            out.added.push(text);
        }
    }
    if out.added.is_empty() {
        return Ok(out);
    }
    let mut body = String::new();
    let current = if path.exists() {
        std::fs::read(path).with_context(|| format!("reading ignore file {}", path.display()))?
    } else {
        body.push_str(
            "# leakscan ignore file: one fingerprint per line (optionally path:fingerprint),\n\
             # '#' starts a comment. Fingerprints survive rebases, squashes and moved lines.\n",
        );
        Vec::new()
    };
    if !current.is_empty() && !current.ends_with(b"\n") {
        body.insert(0, '\n');
    }
    for text in &out.added {
        match &reason {
            Some(r) if !r.is_empty() => body.push_str(&format!("{text}  # {r}\n")),
            _ => body.push_str(&format!("{text}\n")),
        }
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening ignore file {}", path.display()))?;
    f.write_all(body.as_bytes())
        .with_context(|| format!("writing ignore file {}", path.display()))?;
    Ok(out)
}

/// Rejects a reason that would break the one-line format.
pub fn check_reason(reason: &str) -> Result<()> {
    if reason.contains(['\n', '\r']) {
        bail!("--reason must be a single line");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "github-token:0123456789abcdef";

    #[test]
    fn parses_plain_scoped_and_commented_entries() {
        let text = format!(
            "# reasons go here\n\n{FP}\nsrc/a b.py:{FP}  # test fixture\nsrc/**/*.rs:{FP}\n"
        );
        let e = parse("f", &text).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!((e[0].path.as_deref(), e[0].line), (None, 3));
        assert_eq!(e[1].path.as_deref(), Some("src/a b.py"));
        assert_eq!(e[1].reason.as_deref(), Some("test fixture"));
        assert!(e[0].matches(FP, "anything", "anything"));
        assert!(e[1].matches(FP, "src/a b.py", "x/src/a b.py"));
        assert!(!e[1].matches(FP, "src/c.py", "src/c.py"));
        assert!(e[2].matches(FP, "src/x/y.rs", "src/x/y.rs"));
        assert!(!e[2].matches("github-token:0123456789abcdee", "src/x/y.rs", ""));
    }

    #[test]
    fn malformed_lines_name_the_line_and_never_echo_it() {
        let text = format!("{FP}\nghp_notafingerprintbutasecret\n");
        let err = parse(".leakscanignore", &text).unwrap_err().to_string();
        assert!(err.contains(".leakscanignore:2"), "{err}");
        assert!(!err.contains("ghp_"), "{err}");
        for bad in [
            "rule:0123",
            "Rule:0123456789abcdef",
            "r:0123456789ABCDEF",
            ":r:0123456789abcdef",
        ] {
            assert!(parse("f", bad).is_err(), "{bad}");
        }
    }
}
