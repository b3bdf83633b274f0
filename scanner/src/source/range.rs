//! A commit range (`base..head`): only what its commits add. Each commit is
//! diffed against its first parent; a modified file contributes only its
//! added lines, and a merge only what none of its parents had.

use std::collections::HashMap;

use anyhow::{Context, Result};
use git2::{Delta, DiffOptions, ObjectType, Oid, Repository, Sort, Tree};

use crate::finding::Finding;
use crate::scan::{ScanResult, Scanner};
use crate::source::commit::{GitError, provenance, resolve_commit};
use crate::source::lines::{added_blob, new_findings};

/// A base of forty (or sixty-four) zeros: a new branch, as in a pre-push
/// hook's stdin or a push event's `before`.
pub fn is_zero_rev(rev: &str) -> bool {
    !rev.is_empty() && rev.bytes().all(|b| b == b'0') && (rev.len() == 40 || rev.len() == 64)
}

pub fn scan(scanner: &Scanner, repo: &Repository, base: &str, head: &str) -> Result<ScanResult> {
    // Reading only needs the bytes: no re-hash of every object read.
    git2::opts::strict_hash_verification(false);
    let mut result = ScanResult::default();
    result.stats.commits_scanned = Some(0);
    let head_id = resolve_commit(repo, head)?;
    let mut walk = repo.revwalk().context("starting a revision walk")?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    walk.push(head_id)?;
    if is_zero_rev(base) {
        // A new branch: what no remote-tracking ref has yet.
        walk.hide_glob("refs/remotes/*")?;
    } else {
        let base_id = match repo.revparse_single(base).and_then(|o| o.peel_to_commit()) {
            Ok(c) => c.id(),
            Err(_) if !could_be_beyond_the_boundary(repo, base) => {
                return Err(GitError::MissingRevision {
                    rev: crate::sanitize::sanitize(base),
                }
                .into());
            }
            Err(_) => {
                return Err(GitError::MissingBase {
                    rev: crate::sanitize::sanitize(base),
                    shallow: if repo.is_shallow() {
                        " (it is a shallow clone)".into()
                    } else {
                        String::new()
                    },
                }
                .into());
            }
        };
        walk.hide(base_id)?;
    }
    let odb = repo.odb()?;
    let limit = scanner.options.max_file_size;
    // Scans of new blobs, by id (a cherry-pick adds the same blob twice).
    let mut cache: HashMap<Oid, (Vec<Finding>, Vec<Finding>)> = HashMap::new();
    for id in walk {
        let id = id.context("walking the range")?;
        *result.stats.commits_scanned.get_or_insert(0) += 1;
        let commit = repo.find_commit(id)?;
        let tree = commit.tree()?;
        let parents: Vec<Tree<'_>> = commit
            .parents()
            .map(|p| p.tree())
            .collect::<std::result::Result<_, _>>()
            .with_context(|| format!("reading the parents of {id}"))?;
        let mut opts = DiffOptions::new();
        opts.include_typechange(true).skip_binary_check(true);
        let diff = repo
            .diff_tree_to_tree(parents.first(), Some(&tree), Some(&mut opts))
            .with_context(|| format!("diffing commit {id}"))?;
        let mut prov = None;
        'deltas: for delta in diff.deltas() {
            let Some((path, new_id)) = added_blob(&delta) else {
                continue;
            };
            // Other parents of a merge: unchanged from one of them → nothing new.
            let mut others = Vec::new();
            for p in parents.iter().skip(1) {
                let e = p
                    .get_path(std::path::Path::new(&path))
                    .ok()
                    .filter(|e| e.kind() == Some(ObjectType::Blob));
                if e.as_ref().is_some_and(|e| e.id() == new_id) {
                    continue 'deltas;
                }
                others.push(e.map(|e| e.id()));
            }
            if scanner.path_allowed(&path) {
                result.stats.skip("path-allowlist");
                continue;
            }
            let templates = match cache.get(&new_id) {
                Some(t) => t.clone(),
                None => {
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
                                    "blob {new_id} ({}): {}",
                                    crate::sanitize::sanitize(&path),
                                    e.message()
                                ),
                            );
                            continue;
                        }
                    }
                    let obj = odb.read(new_id)?;
                    result.stats.files_scanned += 1;
                    result.stats.bytes_scanned += obj.len() as u64;
                    let t = scanner.scan_bytes_split(&path, obj.data());
                    cache.insert(new_id, t.clone());
                    t
                }
            };
            // Inline-allowed findings count only where they are new too.
            let (templates, allowed) = templates;
            if templates.is_empty() && allowed.is_empty() {
                continue;
            }
            let new_obj = odb.read(new_id)?;
            let first_old = match delta.old_file().id() {
                z if z.is_zero() || delta.status() == Delta::Added => None,
                old if delta.old_file().mode() == git2::FileMode::Commit => {
                    let _ = old;
                    None
                }
                old => Some(odb.read(old)?),
            };
            let mut old_objs = vec![first_old];
            for o in others {
                old_objs.push(match o {
                    Some(o) => Some(odb.read(o)?),
                    None => None,
                });
            }
            let olds: Vec<Option<&[u8]>> = old_objs
                .iter()
                .map(|o| o.as_ref().map(|o| o.data()))
                .collect();
            let scan = |d: &[u8]| scanner.scan_older_version(&path, d).0;
            let kept = new_findings(&scan, &olds, new_obj.data(), templates)?;
            let scan_allowed = |d: &[u8]| scanner.scan_older_version(&path, d).1;
            let new_allowed = new_findings(&scan_allowed, &olds, new_obj.data(), allowed)?;
            scanner.count_inline_allowed(new_allowed.len() as u64);
            if kept.is_empty() {
                continue;
            }
            if prov.is_none() {
                prov = Some(provenance(repo, id)?);
            }
            for mut f in kept {
                // Findings are cached by blob: the path is this one's, with
                // `!inner` for an archive's entries, and the file-kind part
                // of the confidence is this path's.
                f.path = crate::deep::with_outer_path(&f, &path);
                crate::validate::confidence::apply_path(&mut f);
                f.provenance = prov.clone();
                result.findings.push(f);
            }
        }
    }
    Ok(result)
}

/// Whether a base that does not resolve may be history the repository lacks
/// (an object id, or a name that resolves with `~`/`^` steps past what was
/// fetched) rather than a name that does not exist: only then is fetching
/// more history the fix.
fn could_be_beyond_the_boundary(repo: &Repository, base: &str) -> bool {
    let hex = base.len() >= 4 && base.bytes().all(|b| b.is_ascii_hexdigit());
    if hex {
        return true;
    }
    let name = base.split(['~', '^']).next().unwrap_or(base);
    name != base && !name.is_empty() && repo.revparse_single(name).is_ok()
}
