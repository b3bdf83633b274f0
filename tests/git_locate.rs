//! `leakscan git` provenance against git's own answer: for every path a
//! secret blob appears at, the oldest commit having it there, as read from
//! `git ls-tree -r` of each commit, on a history where secrets are copied,
//! moved, removed and re-added while sibling files change (loose objects,
//! then packed with deltas, with both readers).

mod gitutil;

use std::collections::{BTreeSet, HashMap, HashSet};

use gitutil::*;

/// The same from git: each commit's full listing, oldest commit first.
fn expected(dir: &std::path::Path, secrets: &HashSet<String>) -> BTreeSet<(String, String)> {
    let mut first: HashMap<(String, String), String> = HashMap::new();
    for c in git(dir, &["rev-list", "--reverse", "main"]).lines() {
        for line in git(dir, &["ls-tree", "-r", c]).lines() {
            let (meta, path) = line.split_once('\t').unwrap();
            let id = meta.split(' ').nth(2).unwrap();
            if secrets.contains(id) {
                first
                    .entry((id.to_string(), path.to_string()))
                    .or_insert_with(|| c.to_string());
            }
        }
    }
    first.into_iter().map(|((_, p), c)| (p, c)).collect()
}

#[test]
fn every_path_of_a_flagged_blob_gets_its_oldest_commit_as_git_lists_them() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    let dirs = ["a", "a/b", "a/b/c", "d", "d/e"];
    let names = ["f0.txt", "f1.txt", "s.env", "t.env"];
    let secret = |seed: char| format!("GITHUB_TOKEN={}\n", token(seed));
    let mut secrets = HashSet::new();
    for seed in ['a', 'b', 'c'] {
        let p = t.path().join(format!("secret-{seed}"));
        std::fs::write(&p, secret(seed)).unwrap();
        secrets.insert(git(&r, &["hash-object", p.to_str().unwrap()]));
    }
    // A fixed pseudo-random sequence of edits.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rand = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let mut files: Vec<String> = Vec::new();
    for i in 0..60 {
        let path = format!("{}/{}", dirs[rand(dirs.len())], names[rand(names.len())]);
        match rand(6) {
            0 | 1 => write(&r, &path, &format!("plain {i}\n")),
            2 => write(&r, &path, &secret(['a', 'b', 'c'][rand(3)])),
            3 if files.len() > 3 => {
                let victim = files.swap_remove(rand(files.len()));
                let _ = std::fs::remove_file(r.join(&victim));
            }
            4 if !files.is_empty() => {
                let from = &files[rand(files.len())];
                let text = std::fs::read_to_string(r.join(from)).unwrap_or_default();
                write(&r, &path, &text);
            }
            _ => {
                // Move a whole directory's contents one level down.
                let d = dirs[rand(dirs.len())];
                if !git(&r, &["ls-files", d]).is_empty() {
                    let to = format!("moved{i}");
                    git(&r, &["mv", d, &to]);
                    files.retain(|f| !f.starts_with(&format!("{d}/")));
                }
            }
        }
        if !files.contains(&path) && r.join(&path).is_file() {
            files.push(path);
        }
        // Every commit changes something.
        write(&r, "counter.txt", &format!("{i}\n"));
        commit_all(&r, &format!("edit {i}"));
    }
    let want = expected(&r, &secrets);
    assert!(want.len() >= 5, "the history should hold several: {want:?}");
    for reader in ["pack", "libgit2"] {
        assert_eq!(located(&r, reader), want, "loose objects, {reader}");
    }
    // Packed, trees stored as deltas of one another.
    git(&r, &["repack", "-adq", "--window=50", "--depth=50"]);
    for reader in ["pack", "libgit2"] {
        assert_eq!(located(&r, reader), want, "packed, {reader}");
    }
}
