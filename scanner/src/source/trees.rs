//! Trees for the history walk: decoded once from the packs by
//! `source::pack` (each delta chain resolved once), with libgit2 for any
//! tree the packs lack or that does not parse.

use std::path::Path;
use std::sync::Mutex;

use git2::{ObjectType, Repository};

use crate::source::pack::{self, Id, OidMap, Packs, Payload, Select, TREE};

/// What a tree entry points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Blob,
    Tree,
    /// A submodule gitlink (a commit in another repository).
    Commit,
}

/// Tree contents by id; empty when every tree is read through libgit2.
///
/// The bytes live in a few large chunks per decoding thread (no allocation
/// per tree, and the versions of one directory, decoded one after the
/// other from a delta chain, sit side by side); the index is split in
/// shards by the ids' last byte so the decoding threads rarely wait on one
/// another.
#[derive(Default)]
pub struct Trees {
    shards: Vec<OidMap<Loc>>,
    /// Chunks of tree bytes, per decoding thread.
    arenas: Vec<Vec<Vec<u8>>>,
    len: usize,
}

/// Where a tree's bytes are: `arenas[arena][chunk][at..at + len]`.
#[derive(Clone, Copy)]
struct Loc {
    arena: u32,
    chunk: u32,
    at: u32,
    len: u32,
}

/// Index shards (a power of two).
const SHARDS: usize = 16;
/// Size of an arena chunk; a larger tree gets a chunk of its own.
const CHUNK: usize = 8 << 20;

/// One decoding thread's chunks.
#[derive(Default)]
struct Arena {
    chunks: Vec<Vec<u8>>,
}

impl Arena {
    /// Copies `data` in; returns (chunk, offset).
    fn push(&mut self, data: &[u8]) -> (u32, u32) {
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= data.len());
        if !fits {
            self.chunks.push(Vec::with_capacity(CHUNK.max(data.len())));
        }
        let n = self.chunks.len() - 1;
        let c = &mut self.chunks[n];
        let at = c.len();
        c.extend_from_slice(data);
        (n as u32, at as u32)
    }
}

#[inline]
fn shard_of(id: &Id) -> usize {
    // Not from the first eight bytes: they are the hash within a shard.
    usize::from(id.0[19]) & (SHARDS - 1)
}

impl Trees {
    /// Every tree in the packs under `objects_dir`.
    pub fn from_packs(objects_dir: &Path, threads: usize) -> Trees {
        Trees::from_opened(&Packs::open(objects_dir), threads)
    }

    /// Every tree in `packs`.
    pub fn from_opened(packs: &Packs, threads: usize) -> Trees {
        let shards: Vec<Mutex<OidMap<Loc>>> =
            (0..SHARDS).map(|_| Mutex::new(OidMap::default())).collect();
        // One arena per pool thread, and one for any other caller.
        let arenas: Vec<Mutex<Arena>> = (0..=threads.max(1))
            .map(|_| Mutex::new(Arena::default()))
            .collect();
        let res = pack::read_objects_in(
            packs,
            Select::Kinds(&[TREE]),
            threads,
            u64::MAX,
            |oid, _, payload| {
                let Payload::Data(d) = payload else {
                    return;
                };
                let Ok(len) = u32::try_from(d.len()) else {
                    // Left to libgit2.
                    return;
                };
                let a = rayon::current_thread_index()
                    .filter(|&i| i < arenas.len() - 1)
                    .unwrap_or(arenas.len() - 1);
                let (chunk, at) = arenas[a].lock().unwrap_or_else(|e| e.into_inner()).push(d);
                let loc = Loc {
                    arena: a as u32,
                    chunk,
                    at,
                    len,
                };
                shards[shard_of(&oid)]
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(oid, loc);
            },
        );
        // Whatever was not read (or nothing, if the reader could not start)
        // comes from libgit2.
        let _ = res;
        let shards: Vec<OidMap<Loc>> = shards
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect();
        let len = shards.iter().map(|m| m.len()).sum();
        Trees {
            shards,
            arenas: arenas
                .into_iter()
                .map(|a| a.into_inner().unwrap_or_else(|e| e.into_inner()).chunks)
                .collect(),
            len,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The raw bytes of packed tree `id`.
    #[inline]
    pub(crate) fn data(&self, id: &Id) -> Option<&[u8]> {
        let loc = self.shards.get(shard_of(id))?.get(id)?;
        let chunk = &self.arenas[loc.arena as usize][loc.chunk as usize];
        chunk.get(loc.at as usize..loc.at as usize + loc.len as usize)
    }

    /// Calls `f` with each entry of tree `oid`: its kind, name and id.
    /// A packed tree that does not parse is read again through libgit2,
    /// so `f` may see its first entries twice (callers insert into sets).
    pub fn for_each(
        &self,
        repo: &Repository,
        oid: Id,
        f: impl FnMut(EntryKind, &[u8], Id),
    ) -> Result<(), git2::Error> {
        self.for_each_in(repo, oid, self.data(&oid), f)
    }

    /// [`Trees::for_each`] with the tree's packed bytes already looked up
    /// ([`Trees::data`]).
    fn for_each_in(
        &self,
        repo: &Repository,
        oid: Id,
        data: Option<&[u8]>,
        mut f: impl FnMut(EntryKind, &[u8], Id),
    ) -> Result<(), git2::Error> {
        if let Some(data) = data
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

    /// [`Trees::for_each`], also telling how each entry compares with
    /// `prev`, an earlier version of the tree (typically the same path in
    /// the parent commit). Only packed trees are compared: an entry of a
    /// tree read through libgit2, or compared with one, is [`Since::New`].
    /// [`Since::Same`] entries were passed to the callback of an earlier
    /// `for_each` of `prev`, so a walk that has handled `prev` in full may
    /// skip them.
    pub fn for_each_since(
        &self,
        repo: &Repository,
        oid: Id,
        prev: Option<Id>,
        f: impl FnMut(EntryKind, &[u8], Id, Since),
    ) -> Result<(), git2::Error> {
        let before = prev.filter(|&p| p != oid).and_then(|p| self.data(&p));
        self.for_each_since_in(repo, oid, self.data(&oid), before, f)
    }

    /// [`Trees::for_each_since`] with the packed bytes of the tree and of
    /// its previous version already looked up ([`Trees::data`]; `before`
    /// must not be the tree itself).
    pub(crate) fn for_each_since_in(
        &self,
        repo: &Repository,
        oid: Id,
        data: Option<&[u8]>,
        before: Option<&[u8]>,
        mut f: impl FnMut(EntryKind, &[u8], Id, Since),
    ) -> Result<(), git2::Error> {
        if let (Some(data), Some(before)) = (data, before) {
            let mut before = Before::new(before);
            if parse(data, |kind, name, id| {
                let since = before.find(kind, name, id);
                f(kind, name, id, since)
            }) {
                return Ok(());
            }
        }
        self.for_each_in(repo, oid, data, |kind, name, id| {
            f(kind, name, id, Since::New)
        })
    }
}

/// Walks a raw tree (`MODE SP NAME NUL ID` repeated); false when it is
/// malformed (entries before the damage may have been passed to `f`).
pub fn parse(data: &[u8], mut f: impl FnMut(EntryKind, &[u8], Id)) -> bool {
    let mut it = RawEntries::new(data);
    for (kind, name, id) in &mut it {
        f(kind, name, id);
    }
    !it.damaged
}

/// The entries of a raw tree, in order; stops at the first malformed one
/// (and sets `damaged`).
struct RawEntries<'a> {
    data: &'a [u8],
    at: usize,
    damaged: bool,
}

impl<'a> RawEntries<'a> {
    fn new(data: &'a [u8]) -> RawEntries<'a> {
        RawEntries {
            data,
            at: 0,
            damaged: false,
        }
    }

    fn fail(&mut self) -> Option<(EntryKind, &'a [u8], Id)> {
        self.damaged = true;
        self.at = self.data.len();
        None
    }
}

impl<'a> Iterator for RawEntries<'a> {
    type Item = (EntryKind, &'a [u8], Id);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let data = self.data;
        let mut i = self.at;
        if i >= data.len() {
            return None;
        }
        // The mode: one to seven octal digits, then a space (read here
        // byte by byte: it is too short for memchr to pay).
        let mut m: u32 = 0;
        let mode_at = i;
        loop {
            match data.get(i) {
                Some(b' ') if i > mode_at => break,
                Some(&c @ b'0'..=b'7') if i - mode_at < 7 => m = m * 8 + u32::from(c - b'0'),
                _ => return self.fail(),
            }
            i += 1;
        }
        let name_at = i + 1;
        let Some(nul) = memchr::memchr(0, &data[name_at..]) else {
            return self.fail();
        };
        let name = &data[name_at..name_at + nul];
        let id_at = name_at + nul + 1;
        let Some(id) = data.get(id_at..id_at + 20).and_then(Id::from_slice) else {
            return self.fail();
        };
        let kind = match m & 0o170000 {
            0o040000 => EntryKind::Tree,
            0o160000 => EntryKind::Commit,
            _ => EntryKind::Blob,
        };
        self.at = id_at + 20;
        Some((kind, name, id))
    }
}

/// How an entry of a tree compares with the tree's previous version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// No previous version to compare with, or no entry of that name and
    /// kind in it.
    New,
    /// The previous version has this very entry (name, kind and id).
    Same,
    /// The previous version has an entry of this name and kind with
    /// another id (the previous version of this entry).
    Was(Id),
}

/// Looks entries up in a previous version of a tree, in name order: trees
/// are sorted, so one forward pass over the previous version serves the
/// whole walk of the new one. An unsorted or damaged previous version only
/// finds fewer matches.
struct Before<'a> {
    entries: RawEntries<'a>,
    cur: Option<(EntryKind, &'a [u8], Id)>,
}

impl<'a> Before<'a> {
    fn new(data: &'a [u8]) -> Before<'a> {
        let mut entries = RawEntries::new(data);
        let cur = entries.next();
        Before { entries, cur }
    }

    #[inline]
    fn find(&mut self, kind: EntryKind, name: &[u8], id: Id) -> Since {
        while let Some((k, n, i)) = self.cur {
            match n.cmp(name) {
                std::cmp::Ordering::Less => self.cur = self.entries.next(),
                std::cmp::Ordering::Greater => return Since::New,
                std::cmp::Ordering::Equal => {
                    self.cur = self.entries.next();
                    return if k != kind {
                        Since::New
                    } else if i == id {
                        Since::Same
                    } else {
                        Since::Was(i)
                    };
                }
            }
        }
        Since::New
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw tree of (mode, name, id byte) entries.
    fn raw(entries: &[(&str, &str, u8)]) -> Vec<u8> {
        let mut t = Vec::new();
        for (mode, name, id) in entries {
            t.extend(format!("{mode} {name}\0").as_bytes());
            t.extend([*id; 20]);
        }
        t
    }

    /// Trees held in memory as if decoded from packs.
    fn held(items: &[(u8, Vec<u8>)]) -> Trees {
        let mut arena = Arena::default();
        let mut shards: Vec<OidMap<Loc>> = (0..SHARDS).map(|_| OidMap::default()).collect();
        for (id, data) in items {
            let (chunk, at) = arena.push(data);
            let id = Id([*id; 20]);
            shards[shard_of(&id)].insert(
                id,
                Loc {
                    arena: 0,
                    chunk,
                    at,
                    len: data.len() as u32,
                },
            );
        }
        Trees {
            len: items.len(),
            shards,
            arenas: vec![arena.chunks],
        }
    }

    #[test]
    fn entries_compare_with_the_previous_version() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let before = raw(&[
            ("100644", "a.txt", 1),
            ("40000", "dir", 2),
            ("160000", "sub", 3),
            ("100644", "x", 7),
            ("100644", "z.txt", 4),
        ]);
        let after = raw(&[
            ("100644", "a.txt", 1),
            ("40000", "dir", 5),
            ("100644", "new.txt", 6),
            ("160000", "sub", 3),
            ("40000", "x", 7),
            ("100644", "z.txt", 4),
        ]);
        // Not sorted: fewer matches, never a wrong one.
        let shuffled = raw(&[("100644", "z.txt", 4), ("100644", "a.txt", 1)]);
        let trees = held(&[(10, before), (11, after), (12, shuffled)]);
        let seen = |oid: u8, prev: Option<u8>| {
            let mut out = Vec::new();
            trees
                .for_each_since(
                    &repo,
                    Id([oid; 20]),
                    prev.map(|p| Id([p; 20])),
                    |k, n, id, since| {
                        out.push((k, String::from_utf8_lossy(n).into_owned(), id.0[0], since));
                    },
                )
                .unwrap();
            out
        };
        let got = seen(11, Some(10));
        let w = |b: u8| Since::Was(Id([b; 20]));
        assert_eq!(
            got,
            vec![
                (EntryKind::Blob, "a.txt".into(), 1, Since::Same),
                (EntryKind::Tree, "dir".into(), 5, w(2)),
                (EntryKind::Blob, "new.txt".into(), 6, Since::New),
                (EntryKind::Commit, "sub".into(), 3, Since::Same),
                // Same id, another kind: not the same entry.
                (EntryKind::Tree, "x".into(), 7, Since::New),
                (EntryKind::Blob, "z.txt".into(), 4, Since::Same),
            ]
        );
        // No previous version, itself, or one not held: every entry new.
        for prev in [None, Some(11), Some(99)] {
            assert!(seen(11, prev).iter().all(|e| e.3 == Since::New), "{prev:?}");
        }
        // An unsorted previous version: "a.txt" is missed, nothing is
        // wrongly the same.
        let got = seen(11, Some(12));
        let same: Vec<&str> = got
            .iter()
            .filter(|e| e.3 == Since::Same)
            .map(|e| e.1.as_str())
            .collect();
        assert!(
            same.iter().all(|n| *n == "z.txt" || *n == "a.txt"),
            "{got:?}"
        );
        assert_eq!(got.len(), 6);
    }

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
