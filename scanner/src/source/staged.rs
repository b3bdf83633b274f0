//! The index against HEAD (the empty tree before the first commit): only
//! the lines the next commit adds, read from the index's blobs rather than
//! the working tree, so partial staging and temporary indexes work.

use std::time::Instant;

use anyhow::{Context, Result};
use git2::{Delta, DiffOptions, ObjectType, Oid, Repository, Tree};

use crate::scan::{ScanResult, Scanner, sort_findings};
use crate::source::lines::new_findings;

/// Opens the repository the way git's own commands do: `GIT_DIR`,
/// `GIT_WORK_TREE`, `GIT_INDEX_FILE` (the temporary index of
/// `git commit <path>`) and discovery from the current directory.
pub fn open_from_env() -> Result<Repository> {
    Repository::open_from_env().context(
        "not inside a git repository (run `leakscan staged` from a repository's work tree)",
    )
}

impl Scanner {
    /// Scans what the index adds over HEAD. During a conflicted merge
    /// (`MERGE_HEAD` present) a line counts only if neither HEAD nor
    /// MERGE_HEAD has it.
    pub fn scan_staged(&self, repo: &Repository) -> Result<ScanResult> {
        let started = Instant::now();
        let mut result = ScanResult::default();
        let head_tree = match repo.head() {
            Ok(h) => Some(h.peel_to_tree().context("reading HEAD's tree")?),
            Err(e)
                if e.code() == git2::ErrorCode::UnbornBranch
                    || e.code() == git2::ErrorCode::NotFound =>
            {
                None
            }
            Err(e) => return Err(e).context("reading HEAD"),
        };
        let merge_tree = merge_head_tree(repo)?;
        let index = repo.index().context("reading the index")?;
        let mut opts = DiffOptions::new();
        opts.include_typechange(true).skip_binary_check(true);
        let diff = repo
            .diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut opts))
            .context("comparing the index with HEAD")?;
        let odb = repo.odb()?;
        let limit = self.options.max_file_size;
        for delta in diff.deltas() {
            if !matches!(
                delta.status(),
                Delta::Added | Delta::Modified | Delta::Typechange | Delta::Copied | Delta::Renamed
            ) {
                continue;
            }
            let new = delta.new_file();
            if !matches!(
                new.mode(),
                git2::FileMode::Blob | git2::FileMode::BlobExecutable | git2::FileMode::Link
            ) {
                continue;
            }
            let Some(path) = new.path_bytes() else {
                continue;
            };
            let path = String::from_utf8_lossy(path).into_owned();
            let new_id = new.id();
            let merge_old = match &merge_tree {
                Some(t) => {
                    let e = blob_at(t, &path);
                    if e == Some(new_id) {
                        continue; // taken unchanged from the merged branch
                    }
                    Some(e)
                }
                None => None,
            };
            if self.path_allowed(&path) {
                result.stats.skip("path-allowlist");
                continue;
            }
            match odb.read_header(new_id) {
                Ok((size, _)) if size as u64 > limit => {
                    result.stats.skip("too-large");
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    result.stats.error(
                        "unreadable",
                        format!(
                            "staged {}: {}",
                            crate::sanitize::sanitize(&path),
                            e.message()
                        ),
                    );
                    continue;
                }
            }
            let obj = odb.read(new_id).with_context(|| {
                format!("reading the staged {}", crate::sanitize::sanitize(&path))
            })?;
            result.stats.files_scanned += 1;
            result.stats.bytes_scanned += obj.len() as u64;
            let found = self.scan_bytes(&path, obj.data());
            if found.is_empty() {
                continue;
            }
            let old_id = delta.old_file().id();
            let mut old_objs = Vec::new();
            old_objs.push(
                if delta.status() == Delta::Added
                    || old_id.is_zero()
                    || delta.old_file().mode() == git2::FileMode::Commit
                {
                    None
                } else {
                    Some(odb.read(old_id)?)
                },
            );
            if let Some(m) = merge_old {
                old_objs.push(match m {
                    Some(id) => Some(odb.read(id)?),
                    None => None,
                });
            }
            let olds: Vec<Option<&[u8]>> = old_objs
                .iter()
                .map(|o| o.as_ref().map(|o| o.data()))
                .collect();
            let scan = |d: &[u8]| self.scan_bytes(&path, d);
            result
                .findings
                .extend(new_findings(&scan, &olds, obj.data(), found)?);
        }
        sort_findings(&mut result.findings);
        result.stats.findings = result.findings.len() as u64;
        result.stats.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(result)
    }
}

fn blob_at(tree: &Tree<'_>, path: &str) -> Option<Oid> {
    tree.get_path(std::path::Path::new(path))
        .ok()
        .filter(|e| e.kind() == Some(ObjectType::Blob))
        .map(|e| e.id())
}

/// The tree of MERGE_HEAD during a conflicted merge, if any.
fn merge_head_tree(repo: &Repository) -> Result<Option<Tree<'_>>> {
    let p = repo.path().join("MERGE_HEAD");
    let Ok(text) = std::fs::read_to_string(&p) else {
        return Ok(None);
    };
    let Some(first) = text.lines().next() else {
        return Ok(None);
    };
    let Ok(oid) = Oid::from_str(first.trim()) else {
        return Ok(None);
    };
    match repo.find_commit(oid) {
        Ok(c) => Ok(Some(c.tree()?)),
        Err(_) => Ok(None),
    }
}
