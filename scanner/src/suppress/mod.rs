//! Suppression: inline `leakscan:allow` comments (applied where the blob is
//! at hand), the `.leakscanignore` file and baselines (applied to a scan's
//! findings). Everything matches on the fingerprint, never on commits or
//! line numbers, so it survives rebases, squashes and moves. (`explain`,
//! which replays the whole pipeline for one line, sits above it: `crate::explain`.)

pub mod baseline;
pub mod ignore;
pub mod inline;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

pub use baseline::Baseline;
pub use ignore::{IgnoreEntry, IgnoreFile};

use crate::finding::ScanResult;

/// The ignore file's name at the scanned root.
pub const IGNORE_FILE: &str = ".leakscanignore";

/// Counter names in [`crate::Stats::suppressed`].
pub const BY_INLINE: &str = "inline";
pub const BY_IGNORE_FILE: &str = "ignore file";
pub const BY_BASELINE: &str = "baseline";

/// Checks the fingerprint syntax `{rule}:{16 lower-case hex}` (rule ids are
/// lower-case letters, digits and dashes). The error never repeats the text.
pub fn check_fingerprint(fp: &str) -> Result<(), String> {
    let Some((rule, hex)) = fp.rsplit_once(':') else {
        return Err("not a fingerprint (expected RULE:16-HEX-DIGITS as printed by a scan)".into());
    };
    let rule_ok = !rule.is_empty()
        && rule
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !rule_ok {
        return Err(
            "not a fingerprint: the rule id before `:` must be lower-case letters, digits and dashes"
                .into(),
        );
    }
    if hex.len() != 16 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(
            "not a fingerprint: expected 16 lower-case hex digits after the rule id".into(),
        );
    }
    Ok(())
}

/// Whether the candidate at `start..end` is a leakscan fingerprint
/// (`{rule}:{16 hex}` with a known rule id), or its hash half, as found in
/// ignore files, baselines and reports: a fingerprint is never a secret.
pub fn is_fingerprint_text(rules: &crate::RuleSet, data: &[u8], start: usize, end: usize) -> bool {
    let is_hex =
        |h: &[u8]| h.len() == 16 && h.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if data.get(end).is_some_and(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    // `before` must end with a whole rule id followed by `:`.
    let rule_before = |before: &[u8]| {
        let Some(before) = before.strip_suffix(b":") else {
            return false;
        };
        rules.rules.iter().any(|r| {
            let id = r.rule.id.as_bytes();
            before.ends_with(id)
                && !before[..before.len() - id.len()]
                    .last()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-')
        })
    };
    let secret = &data[start..end];
    if is_hex(secret) {
        return rule_before(&data[..start]);
    }
    // The whole fingerprint (maybe path-scoped) captured as one value.
    secret.len() > 17
        && is_hex(&secret[secret.len() - 16..])
        && rule_before(&secret[..secret.len() - 16])
}

/// The ignore file and baseline that apply to a scan.
#[derive(Debug, Clone, Default)]
pub struct Suppressor {
    /// Scanned root: path scopes are relative to it.
    pub root: PathBuf,
    pub ignore: Option<IgnoreFile>,
    pub baseline: Option<Baseline>,
}

/// What applying a [`Suppressor`] left over.
#[derive(Debug, Default)]
pub struct Applied {
    /// Ignore entries that matched no finding of this scan.
    pub stale: Vec<IgnoreEntry>,
}

impl Suppressor {
    /// `ignore_file` if given (it must exist), else `.leakscanignore` in
    /// `root` if present; `baseline` if given. Malformed files are errors
    /// naming file and line.
    pub fn load(root: &Path, ignore_file: Option<&Path>, baseline: Option<&Path>) -> Result<Self> {
        let ignore = match ignore_file {
            Some(p) => {
                if !p.exists() {
                    anyhow::bail!(
                        "ignore file {} does not exist (check --ignore-file)",
                        p.display()
                    );
                }
                Some(IgnoreFile::load(p)?)
            }
            None => {
                let p = root.join(IGNORE_FILE);
                if p.is_file() {
                    Some(IgnoreFile::load(&p)?)
                } else {
                    None
                }
            }
        };
        let baseline = baseline.map(Baseline::load).transpose()?;
        Ok(Suppressor {
            root: root.to_path_buf(),
            ignore,
            baseline,
        })
    }

    /// Where a finding's path-scoped entries are matched: relative to root.
    pub fn relative(&self, path: &str) -> String {
        crate::paths::relative_to_root(&self.root, path)
    }

    /// Drops findings covered by the ignore file, then by the baseline, and
    /// counts them in the stats (next to `inline`, counted by the scanner).
    pub fn apply(&self, result: &mut ScanResult) -> Applied {
        let mut used = vec![false; self.ignore.as_ref().map_or(0, |i| i.entries.len())];
        let (mut by_ignore, mut by_baseline) = (0u64, 0u64);
        result.findings.retain(|f| {
            if let Some(ig) = &self.ignore {
                let rel = self.relative(&f.path);
                let mut hit = false;
                for (i, e) in ig.entries.iter().enumerate() {
                    if e.matches(&f.fingerprint, &rel, &f.path) {
                        used[i] = true;
                        hit = true;
                    }
                }
                if hit {
                    by_ignore += 1;
                    return false;
                }
            }
            if let Some(b) = &self.baseline
                && b.contains(&f.fingerprint)
            {
                by_baseline += 1;
                return false;
            }
            true
        });
        let stats = &mut result.stats;
        for (k, n) in [(BY_IGNORE_FILE, by_ignore), (BY_BASELINE, by_baseline)] {
            if n > 0 {
                *stats.suppressed.entry(k.to_string()).or_default() += n;
            }
        }
        stats.findings = result.findings.len() as u64;
        let stale = match &self.ignore {
            Some(ig) => ig
                .entries
                .iter()
                .zip(&used)
                .filter(|(_, u)| !**u)
                .map(|(e, _)| e.clone())
                .collect(),
            None => Vec::new(),
        };
        Applied { stale }
    }
}

/// The end of a text report: how to suppress each finding shown.
pub fn write_hints(
    findings: &[crate::Finding],
    ignore_file: &Path,
    out: &mut dyn Write,
) -> Result<()> {
    let mut fps: Vec<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
    fps.sort_unstable();
    fps.dedup();
    if fps.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 20;
    let file = crate::sanitize::sanitize(&crate::paths::display_path(ignore_file));
    // `leakscan ignore` writes .leakscanignore in the current directory.
    let flag = if file == IGNORE_FILE {
        String::new()
    } else {
        format!(" --ignore-file {file}")
    };
    writeln!(
        out,
        "To suppress a finding that is not a leak (fingerprints survive rebases, squashes and moved lines):"
    )?;
    writeln!(out, "  - record it in {file}:")?;
    for fp in fps.iter().take(SHOWN) {
        writeln!(
            out,
            "      leakscan ignore {fp}{flag} --reason \"why it is safe\""
        )?;
    }
    if fps.len() > SHOWN {
        writeln!(out, "      ... and {} more fingerprints", fps.len() - SHOWN)?;
    }
    writeln!(
        out,
        "    (or add the line `{}  # why it is safe` to {file}; `path:{}` limits it to one file)",
        fps[0], fps[0]
    )?;
    writeln!(
        out,
        "  - or mark the line in the source with a comment `leakscan:allow` (e.g. `# leakscan:allow`, `// leakscan:allow`),"
    )?;
    writeln!(
        out,
        "    or put `leakscan:allow-next-line` on the line above it"
    )?;
    writeln!(
        out,
        "  - or accept every current finding: leakscan baseline create -o .leakscan-baseline, then scan with --baseline .leakscan-baseline"
    )?;
    writeln!(
        out,
        "  - `leakscan explain PATH:LINE` shows why a line is or is not reported"
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_syntax() {
        let ok = crate::finding::fingerprint("github-token", b"x");
        assert!(check_fingerprint(&ok).is_ok());
        for bad in [
            "",
            "github-token",
            "github-token:",
            ":0123456789abcdef",
            "GH:0123456789abcdef",
            "gh:0123456789abcde",
            "gh:0123456789abcdeg",
            "gh:0123456789abcdef0",
        ] {
            assert!(check_fingerprint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fingerprints_in_text_are_recognised() {
        let scanner =
            crate::scan::Scanner::new(crate::Config::default(), Default::default()).unwrap();
        let rules = scanner.matcher.rules();
        let at = |text: &str, hex: &str| {
            let s = text.find(hex).unwrap();
            is_fingerprint_text(rules, text.as_bytes(), s, s + hex.len())
        };
        let h = "9f3e2a7c5b1d8e04";
        assert!(at(&format!("github-token:{h}  # why\n"), h));
        assert!(at(&format!("src/a.py:github-token:{h}\n"), h));
        assert!(at(
            &format!("\"fingerprint\": \"generic-secret-assignment:{h}\""),
            h
        ));
        assert!(!at(&format!("my-github-token:{h}\n"), h), "not a rule id");
        assert!(!at(&format!("token:{h}\n"), h));
        assert!(!at(&format!("github-token:{h}ff\n"), h));
        assert!(!at(&format!("github-token={h}\n"), h));
        let whole = format!("github-token:{h}");
        assert!(at(&format!("secret = \"{whole}\"\n"), &whole));
        let scoped = format!("a/b.py:{whole}");
        assert!(at(&format!("k={scoped}\n"), &scoped));
        let other = format!("xgithub-token:{h}");
        assert!(!at(&format!("k={other}\n"), &other));
    }
}
