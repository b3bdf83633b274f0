//! Trees for the history walk: decoded once from the packs by
//! `source::pack` (each delta chain resolved once), with libgit2 for any
//! tree the packs lack or that does not parse.

use std::path::Path;
use std::sync::Mutex;

use git2::{ObjectType, Repository};

use crate::source::pack::{self, Id, OidMap, Payload, Select, TREE};

/// What a tree entry points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Blob,
    Tree,
    /// A submodule gitlink (a commit in another repository).
    Commit,
}

/// Tree contents by id; empty when every tree is read through libgit2.
#[derive(Default)]
pub struct Trees {
    map: OidMap<Box<[u8]>>,
}

impl Trees {
    /// Every tree in the packs under `objects_dir`.
    pub fn from_packs(objects_dir: &Path, threads: usize) -> Trees {
        let map: Mutex<OidMap<Box<[u8]>>> = Mutex::new(OidMap::default());
        let res = pack::read_objects(
            objects_dir,
            Select::Kinds(&[TREE]),
            threads,
            u64::MAX,
            |oid, _, payload| {
                if let Payload::Data(d) = payload {
                    map.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(oid, d.into());
                }
            },
        );
        // Whatever was not read (or nothing, if the reader could not start)
        // comes from libgit2.
        let _ = res;
        Trees {
            map: map.into_inner().unwrap_or_else(|e| e.into_inner()),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Calls `f` with each entry of tree `oid`: its kind, name and id.
    /// A packed tree that does not parse is read again through libgit2,
    /// so `f` may see its first entries twice (callers insert into sets).
    pub fn for_each(
        &self,
        repo: &Repository,
        oid: Id,
        mut f: impl FnMut(EntryKind, &[u8], Id),
    ) -> Result<(), git2::Error> {
        if let Some(data) = self.map.get(&oid)
            && parse(data, &mut f)
        {
            return Ok(());
        }
        let tree = repo.find_tree(oid.oid())?;
        for entry in tree.iter() {
            let kind = match entry.kind() {
                Some(ObjectType::Blob) => EntryKind::Blob,
                Some(ObjectType::Tree) => EntryKind::Tree,
                _ => EntryKind::Commit,
            };
            f(kind, entry.name_bytes(), Id::from(entry.id()));
        }
        Ok(())
    }
}

/// Walks a raw tree (`MODE SP NAME NUL ID` repeated); false when it is
/// malformed (entries before the damage may have been passed to `f`).
pub fn parse(data: &[u8], mut f: impl FnMut(EntryKind, &[u8], Id)) -> bool {
    let mut i = 0;
    while i < data.len() {
        let Some(sp) = memchr::memchr(b' ', &data[i..]) else {
            return false;
        };
        let mode = &data[i..i + sp];
        let mut m: u32 = 0;
        if mode.is_empty() || mode.len() > 7 {
            return false;
        }
        for &c in mode {
            if !(b'0'..=b'7').contains(&c) {
                return false;
            }
            m = m * 8 + u32::from(c - b'0');
        }
        let name_at = i + sp + 1;
        let Some(nul) = memchr::memchr(0, &data[name_at..]) else {
            return false;
        };
        let name = &data[name_at..name_at + nul];
        let id_at = name_at + nul + 1;
        let Some(id) = data.get(id_at..id_at + 20).and_then(Id::from_slice) else {
            return false;
        };
        let kind = match m & 0o170000 {
            0o040000 => EntryKind::Tree,
            0o160000 => EntryKind::Commit,
            _ => EntryKind::Blob,
        };
        f(kind, name, id);
        i = id_at + 20;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_trees_parse_and_damage_is_detected() {
        let mut t = Vec::new();
        t.extend(b"100644 a.txt\0");
        t.extend([1u8; 20]);
        t.extend(b"40000 dir\0");
        t.extend([2u8; 20]);
        t.extend(b"160000 sub\0");
        t.extend([3u8; 20]);
        t.extend(b"120000 link\0");
        t.extend([4u8; 20]);
        let mut seen = Vec::new();
        assert!(parse(&t, |k, n, id| seen.push((
            k,
            n.to_vec(),
            id.as_bytes()[0]
        ))));
        assert_eq!(
            seen,
            vec![
                (EntryKind::Blob, b"a.txt".to_vec(), 1),
                (EntryKind::Tree, b"dir".to_vec(), 2),
                (EntryKind::Commit, b"sub".to_vec(), 3),
                (EntryKind::Blob, b"link".to_vec(), 4),
            ]
        );
        assert!(!parse(&t[..t.len() - 1], |_, _, _| {}));
        assert!(!parse(b"10x644 a\0aaaaaaaaaaaaaaaaaaaa", |_, _, _| {}));
        assert!(!parse(b"100644 a", |_, _, _| {}));
        assert!(parse(b"", |_, _, _| {}));
    }
}
