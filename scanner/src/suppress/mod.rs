//! Suppression: inline `leakscan:allow` comments (applied where the blob is
//! at hand), the `.leakscanignore` file and baselines (applied to a scan's
//! findings), and `explain`. Everything matches on the fingerprint, never on
//! commits or line numbers, so it survives rebases, squashes and moves.

pub mod baseline;
pub mod explain;
pub mod ignore;
pub mod inline;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

pub use baseline::Baseline;
pub use ignore::{IgnoreEntry, IgnoreFile};

use crate::scan::ScanResult;

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

/// A path as reported by a scan, made relative to the scanned root when it
/// lies under it (`repo/src/a.py` with root `repo` gives `src/a.py`).
pub fn relative_to_root(root: &Path, path: &str) -> String {
    let root = crate::source::dir::display_path(root);
    let root = root.trim_end_matches('/');
    if root.is_empty() || root == "." {
        return path.to_string();
    }
    match path.strip_prefix(root) {
        Some(rest) if rest.starts_with('/') => rest.trim_start_matches('/').to_string(),
        _ => path.to_string(),
    }
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
                if !p.is_file() {
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
        relative_to_root(&self.root, path)
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
    let file = crate::sanitize::sanitize(&crate::source::dir::display_path(ignore_file));
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
    fn paths_relative_to_root() {
        assert_eq!(relative_to_root(Path::new("."), "src/a.py"), "src/a.py");
        assert_eq!(
            relative_to_root(Path::new("repo"), "repo/src/a.py"),
            "src/a.py"
        );
        assert_eq!(
            relative_to_root(Path::new("repo/"), "repo/src/a.py"),
            "src/a.py"
        );
        assert_eq!(
            relative_to_root(Path::new("repo"), "repository/a.py"),
            "repository/a.py"
        );
        assert_eq!(relative_to_root(Path::new("/abs/r"), "/abs/r/a.py"), "a.py");
    }
}
