//! Issue 17, memory that stays flat: the history walk reads commits from
//! an in-memory copy of the packs' commits (libgit2 reading them from its
//! mapping of the pack kept the whole pack resident) and trees from their
//! pack deltas, rebuilt on demand. What it reports must not change: here
//! against libgit2 reading everything, on commits partly packed and partly
//! loose, and on a shallow clone (whose history is read from disk).

mod gitutil;

use std::collections::BTreeSet;
use std::path::Path;

use gitutil::*;

/// Commits `from..to` of edits in nested directories, a secret added every
/// seventh commit and copied into another directory every eleventh.
fn edits(r: &Path, from: usize, to: usize) {
    let secret = |i: usize| {
        let seed = char::from(b'a' + (i % 20) as u8);
        format!("GITHUB_TOKEN={}\n", token(seed))
    };
    for i in from..to {
        for d in ["src/a", "src/a/b", "docs", "lib/x/y"] {
            write(
                r,
                &format!("{d}/f{}.txt", i % 5),
                &format!("line {i} in {d}\n"),
            );
        }
        if i % 7 == 0 {
            write(r, &format!("src/a/b/s{i}.env"), &secret(i));
        }
        if i % 11 == 0 {
            write(r, &format!("lib/x/copy{i}.env"), &secret(i / 2));
        }
        commit_all(r, &format!("edit {i}"));
    }
}

#[test]
fn packed_and_loose_commits_and_a_shallow_clone_are_located_as_libgit2_does() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    edits(&r, 0, 40);
    // Trees as deltas of one another, then commits left loose on top.
    git(&r, &["repack", "-adq", "--window=50", "--depth=50"]);
    edits(&r, 40, 60);
    let want = located(&r, "libgit2");
    let commits: BTreeSet<&str> = want.iter().map(|(_, c)| c.as_str()).collect();
    let packed = git(&r, &["rev-parse", "HEAD~20"]);
    let loose_commits = git(&r, &["rev-list", "HEAD~20..HEAD"]);
    assert!(
        commits.iter().any(|c| {
            git_out(&r, &["merge-base", "--is-ancestor", c, &packed], &[])
                .status
                .success()
        }),
        "a finding introduced by a packed commit: {want:?}"
    );
    assert!(
        commits
            .iter()
            .any(|c| loose_commits.lines().any(|l| l == *c)),
        "a finding introduced by a loose commit: {want:?}"
    );
    assert!(want.len() >= 8, "{want:?}");
    assert_eq!(located(&r, "pack"), want, "packed then loose");

    // Where the memory goes, in --stats.
    let stats = t.path().join("stats.json");
    let out = leakscan(&r)
        .args(["git", "-q", "--stats", stats.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    let mem = &s["memory_bytes"];
    for k in [
        "trees-stored",
        "trees-index",
        "commits-held",
        "graph",
        "blob-list",
        "pack-indexes",
    ] {
        assert!(mem[k].as_u64().is_some_and(|b| b > 0), "{k}: {s}");
    }
    // The blob pass keeps the entries of blob chains alone (the repository
    // holds commits and trees besides its blobs).
    let (all, blob_pass) = (
        mem["pack-indexes"].as_u64().unwrap(),
        mem["pack-indexes-blob-pass"].as_u64().unwrap_or(0),
    );
    assert!(blob_pass > 0 && blob_pass < all, "{s}");
    assert!(
        mem["process-peak-rss"]
            .as_u64()
            .is_some_and(|b| b > 1 << 20),
        "{s}"
    );

    // A shallow clone: its cut history is read from disk, as before.
    let url = format!("file://{}", r.display());
    git(t.path(), &["clone", "-q", "--depth", "12", &url, "shallow"]);
    let shallow = t.path().join("shallow");
    let want = located(&shallow, "libgit2");
    assert!(!want.is_empty());
    assert_eq!(located(&shallow, "pack"), want, "shallow");
}
