//! Which lines a new version of a file adds over its older versions, and
//! the findings that fall on them: what range and staged scans report, so a
//! secret that was already there is not reported again.

use anyhow::Result;
use git2::{DiffOptions, Patch};

use crate::finding::Finding;
use crate::matcher::Matcher;

/// The path and new blob id of a diff delta that adds or changes file
/// content (added, modified, type-changed, copied or renamed; a regular or
/// executable file or a symlink), or `None` for anything else.
pub fn added_blob(delta: &git2::DiffDelta<'_>) -> Option<(String, git2::Oid)> {
    use git2::{Delta, FileMode};
    if !matches!(
        delta.status(),
        Delta::Added | Delta::Modified | Delta::Typechange | Delta::Copied | Delta::Renamed
    ) {
        return None;
    }
    let new = delta.new_file();
    if !matches!(
        new.mode(),
        FileMode::Blob | FileMode::BlobExecutable | FileMode::Link
    ) {
        return None;
    }
    let path = String::from_utf8_lossy(new.path_bytes()?).into_owned();
    Some((path, new.id()))
}

/// Added line ranges of the new version, 1-based, inclusive, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedLines(Vec<(usize, usize)>);

impl AddedLines {
    /// Every line is added (the file is new).
    pub fn all() -> Self {
        AddedLines(vec![(1, usize::MAX)])
    }

    /// Lines of `new` absent from `old` (a line diff with no context).
    pub fn between(old: &[u8], new: &[u8]) -> Result<Self> {
        let mut opts = DiffOptions::new();
        opts.context_lines(0).interhunk_lines(0).force_text(true);
        let patch = Patch::from_buffers(old, None, new, None, Some(&mut opts))?;
        let mut ranges = Vec::new();
        for h in 0..patch.num_hunks() {
            let (hunk, _) = patch.hunk(h)?;
            // With no context each hunk's new side is entirely added lines.
            if hunk.new_lines() > 0 {
                let start = hunk.new_start() as usize;
                ranges.push((start, start + hunk.new_lines() as usize - 1));
            }
        }
        ranges.sort_unstable();
        Ok(AddedLines(ranges))
    }

    /// Lines added over every one of several versions (a merge: only what
    /// no parent had).
    pub fn intersect(&self, other: &AddedLines) -> AddedLines {
        let mut out = Vec::new();
        for &(a0, a1) in &self.0 {
            for &(b0, b1) in &other.0 {
                let (s, e) = (a0.max(b0), a1.min(b1));
                if s <= e {
                    out.push((s, e));
                }
            }
        }
        out.sort_unstable();
        AddedLines(out)
    }

    /// Whether any line of `first..=last` is added.
    pub fn touches(&self, first: usize, last: usize) -> bool {
        self.0.iter().any(|&(s, e)| s <= last && first <= e)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Keeps the findings of `new` that its older versions did not have.
/// `olds` holds one entry per older version (a parent, or HEAD and
/// MERGE_HEAD); `None` means the file was absent there. Text is compared
/// line by line: a finding stays if any line of its span is added over
/// every old version. Binary blobs have no lines: a finding stays if its
/// fingerprint is absent from every old version.
pub fn new_findings(
    scan: &dyn Fn(&[u8]) -> Vec<Finding>,
    olds: &[Option<&[u8]>],
    new: &[u8],
    findings: Vec<Finding>,
) -> Result<Vec<Finding>> {
    if findings.is_empty() || olds.iter().any(|o| o.is_some_and(|o| o == new)) {
        return Ok(Vec::new());
    }
    if Matcher::is_binary(new) {
        let mut old_fps = std::collections::HashSet::new();
        for old in olds.iter().flatten() {
            for f in scan(old) {
                old_fps.insert(f.fingerprint);
            }
        }
        return Ok(findings
            .into_iter()
            .filter(|f| !old_fps.contains(&f.fingerprint))
            .collect());
    }
    let mut added = AddedLines::all();
    for old in olds {
        if let Some(old) = old {
            added = added.intersect(&AddedLines::between(old, new)?);
        }
        if added.is_empty() {
            return Ok(Vec::new());
        }
    }
    Ok(findings
        .into_iter()
        .filter(|f| added.touches(f.line, f.end_line))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_lines_of_a_modification() {
        let old = b"a\nb\nc\n";
        let new = b"a\nB\nc\nd\n";
        let added = AddedLines::between(old, new).unwrap();
        assert_eq!(added, AddedLines(vec![(2, 2), (4, 4)]));
        assert!(added.touches(2, 2));
        assert!(!added.touches(1, 1));
        assert!(!added.touches(3, 3));
    }

    #[test]
    fn intersection_keeps_lines_new_to_both() {
        let a = AddedLines(vec![(1, 5)]);
        let b = AddedLines(vec![(4, 9)]);
        assert_eq!(a.intersect(&b), AddedLines(vec![(4, 5)]));
    }
}
