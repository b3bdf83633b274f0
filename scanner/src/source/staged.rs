//! The index against HEAD (the empty tree before the first commit): only
//! the lines the next commit adds, read from the index's blobs rather than
//! the working tree, so partial staging and temporary indexes work.

use std::time::Instant;

use anyhow::{Context, Result};
use git2::{Delta, DiffOptions, ObjectType, Oid, Repository, Tree};

use crate::scan::{ScanResult, Scanner, sort_findings};
use crate::source::lines::{added_blob, new_findings};

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
        self.scan_staged_with(repo, &[])
    }

    /// [`Scanner::scan_staged`] with more merge heads: a clean `git merge`
    /// runs pre-merge-commit before MERGE_HEAD exists, and names the merged
    /// commits only in `GITHEAD_<id>` environment variables, which the CLI
    /// passes here.
    pub fn scan_staged_with(&self, repo: &Repository, extra_heads: &[Oid]) -> Result<ScanResult> {
        let started = Instant::now();
        // Reading only needs the bytes; re-hashing every tree and blob read
        // (SHA-1 with collision detection) was ~15% of a staged check's CPU.
        git2::opts::strict_hash_verification(false);
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
        let merge_trees = merge_head_trees(repo, extra_heads)?;
        let index = repo.index().context("reading the index")?;
        let mut opts = DiffOptions::new();
        opts.include_typechange(true).skip_binary_check(true);
        let mut diff = repo
            .diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut opts))
            .context("comparing the index with HEAD")?;
        // A moved file (`git mv`) adds no line: pair it with its old path,
        // so only the lines a rename-and-edit adds count.
        let mut similar = git2::DiffFindOptions::new();
        similar.renames(true);
        diff.find_similar(Some(&mut similar))
            .context("finding renamed files among the staged changes")?;
        let odb = repo.odb()?;
        let limit = self.options.max_file_size;
        for delta in diff.deltas() {
            let Some((path, new_id)) = added_blob(&delta) else {
                continue;
            };
            let merge_old: Vec<Option<Oid>> =
                merge_trees.iter().map(|t| blob_at(t, &path)).collect();
            if merge_old.contains(&Some(new_id)) {
                continue; // taken unchanged from a merged branch
            }
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
            // Inline-allowed findings count only where they are new too.
            let (found, allowed) = self.scan_bytes_split(&path, obj.data());
            if found.is_empty() && allowed.is_empty() {
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
            for m in merge_old {
                old_objs.push(match m {
                    Some(id) => Some(odb.read(id)?),
                    None => None,
                });
            }
            let olds: Vec<Option<&[u8]>> = old_objs
                .iter()
                .map(|o| o.as_ref().map(|o| o.data()))
                .collect();
            let scan = |d: &[u8]| self.scan_older_version(&path, d).0;
            result
                .findings
                .extend(new_findings(&scan, &olds, obj.data(), found)?);
            let scan_allowed = |d: &[u8]| self.scan_older_version(&path, d).1;
            let new_allowed = new_findings(&scan_allowed, &olds, obj.data(), allowed)?;
            self.count_inline_allowed(new_allowed.len() as u64);
        }
        self.drop_generic_in_docs_or_tests(&mut result);
        if !self.config.rules.password_hashes_in_staged {
            let before = result.findings.len();
            result
                .findings
                .retain(|f| f.category != leakscan_rules::Category::PasswordHash);
            let dropped = (before - result.findings.len()) as u64;
            if dropped > 0 {
                *result
                    .stats
                    .suppressed
                    .entry("password-hash (off in staged)".to_string())
                    .or_default() += dropped;
            }
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

/// Trees of the commits being merged: MERGE_HEAD's lines (a conflicted
/// merge being committed) and `extra` (deduplicated).
fn merge_head_trees<'r>(repo: &'r Repository, extra: &[Oid]) -> Result<Vec<Tree<'r>>> {
    let mut heads: Vec<Oid> = Vec::new();
    if let Ok(text) = std::fs::read_to_string(repo.path().join("MERGE_HEAD")) {
        heads.extend(text.lines().filter_map(|l| Oid::from_str(l.trim()).ok()));
    }
    heads.extend_from_slice(extra);
    heads.sort();
    heads.dedup();
    let mut trees = Vec::new();
    for h in heads {
        if let Ok(c) = repo.find_commit(h) {
            trees.push(c.tree()?);
        }
    }
    Ok(trees)
}
