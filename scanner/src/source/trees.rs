//! Trees for the history walk, held as the packs store them: each tree's
//! inflated delta against its base (or its bytes, for a tree stored
//! whole), rebuilt on demand through a small cache of recent versions, so
//! memory follows the packed size of the trees rather than the sum of
//! every version's bytes. libgit2 reads any tree the packs lack or that
//! does not parse.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use git2::{ObjectType, Repository};

use crate::source::pack::{self, Id, NO_BASE, Packs, TREE};

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
/// The stored bytes live in a few large chunks per reading thread (no
/// allocation per tree); `slots` links each delta to its base, and
/// rebuilt versions are kept in [`Cache`] within a byte budget.
#[derive(Default)]
pub struct Trees {
    index: IdIndex,
    slots: Vec<Slot>,
    /// Chunks of stored bytes (each reading thread's, one after another).
    chunks: Vec<Vec<u8>>,
    cache: Mutex<Cache>,
}

/// Where a stored entry's bytes are (`chunks[chunk][at..at + len]`) and
/// its delta base's slot ([`NO_BASE`] for a tree stored whole).
#[derive(Clone, Copy)]
struct Slot {
    chunk: u32,
    at: u32,
    /// [`FAILED`] when the entry did not read.
    len: u32,
    base: u32,
}

/// [`Slot::len`] of an entry that did not read or inflate.
const FAILED: u32 = u32::MAX;
/// Size of an arena chunk; a larger entry gets a chunk of its own.
const CHUNK: usize = 8 << 20;
/// Bytes of rebuilt trees the cache keeps (two generations of half each).
const CACHE_BUDGET: usize = 24 << 20;

/// One reading thread's chunks.
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

/// Tree id -> slot without storing the slot: the held trees are numbered
/// in id order, so an id's slot is its position among the sorted ids,
/// found by a table of where each value of the first two bytes starts
/// (ids are uniform, so a range holds a handful) and a binary search.
#[derive(Default)]
struct IdIndex {
    /// Sorted, each once.
    ids: Vec<Id>,
    /// `ids[start[k]..start[k + 1]]` begin with the two bytes `k`.
    start: Vec<u32>,
}

impl IdIndex {
    /// From ids sorted and each once.
    fn new(ids: Vec<Id>) -> IdIndex {
        let mut start = vec![0u32; (1 << 16) + 1];
        for id in &ids {
            start[usize::from(u16::from_be_bytes([id.0[0], id.0[1]])) + 1] += 1;
        }
        for k in 0..1 << 16 {
            start[k + 1] += start[k];
        }
        IdIndex { ids, start }
    }

    #[inline]
    fn get(&self, id: &Id) -> Option<u32> {
        let k = usize::from(u16::from_be_bytes([id.0[0], id.0[1]]));
        let lo = *self.start.get(k)? as usize;
        let range = self.ids.get(lo..self.start[k + 1] as usize)?;
        range
            .binary_search_by(|x| x.cmp(id))
            .ok()
            .map(|i| (lo + i) as u32)
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn heap_bytes(&self) -> u64 {
        (self.ids.capacity() * 20 + self.start.capacity() * 4) as u64
    }
}

/// Rebuilt trees by slot, within a byte budget: a lookup in the older
/// generation moves the tree to the current one, and when the current one
/// is full it becomes the older one (the older one is dropped), an LRU
/// approximation with O(1) work per access.
#[derive(Default)]
struct Cache {
    cur: HashMap<u32, Arc<Vec<u8>>>,
    old: HashMap<u32, Arc<Vec<u8>>>,
    cur_bytes: usize,
    old_bytes: usize,
    peak_bytes: usize,
    /// Another budget than [`CACHE_BUDGET`] (tests).
    budget: Option<usize>,
}

impl Cache {
    fn get(&mut self, slot: u32) -> Option<Arc<Vec<u8>>> {
        if let Some(d) = self.cur.get(&slot) {
            return Some(d.clone());
        }
        let d = self.old.remove(&slot)?;
        self.old_bytes -= d.len();
        self.insert(slot, d.clone());
        Some(d)
    }

    fn insert(&mut self, slot: u32, data: Arc<Vec<u8>>) {
        self.cur_bytes += data.len();
        if let Some(prev) = self.cur.insert(slot, data) {
            self.cur_bytes -= prev.len();
        }
        self.peak_bytes = self.peak_bytes.max(self.cur_bytes + self.old_bytes);
        if self.cur_bytes > self.budget.unwrap_or(CACHE_BUDGET) / 2 {
            self.old = std::mem::take(&mut self.cur);
            self.old_bytes = std::mem::take(&mut self.cur_bytes);
        }
    }
}

/// A tree's raw bytes: held as stored, or rebuilt.
pub(crate) enum TreeData<'a> {
    Held(&'a [u8]),
    Built(Arc<Vec<u8>>),
}

impl std::ops::Deref for TreeData<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            TreeData::Held(d) => d,
            TreeData::Built(d) => d,
        }
    }
}

impl Trees {
    /// Every tree in the packs under `objects_dir`.
    pub fn from_packs(objects_dir: &Path, threads: usize) -> Trees {
        Trees::from_opened(&Packs::open(objects_dir), threads)
    }

    /// Every tree in `packs`.
    pub fn from_opened(packs: &Packs, threads: usize) -> Trees {
        // One arena per pool thread, and one for any other caller.
        let arenas: Vec<Mutex<Arena>> = (0..=threads.max(1))
            .map(|_| Mutex::new(Arena::default()))
            .collect();
        let keep = |d: &[u8]| -> Option<(u32, u32, u32, u32)> {
            let len = u32::try_from(d.len()).ok().filter(|&l| l != FAILED)?;
            let a = rayon::current_thread_index()
                .filter(|&i| i < arenas.len() - 1)
                .unwrap_or(arenas.len() - 1);
            let (chunk, at) = arenas[a].lock().unwrap_or_else(|e| e.into_inner()).push(d);
            Some((a as u32, chunk, at, len))
        };
        // Whatever is not held (or nothing, if the reader could not start)
        // comes from libgit2.
        let per_pack = pack::read_stored(packs, TREE, threads, keep).unwrap_or_default();
        let total: usize = per_pack.iter().map(Vec::len).sum();
        // Each arena's chunks, one after another.
        let arenas: Vec<Vec<Vec<u8>>> = arenas
            .into_iter()
            .map(|a| a.into_inner().unwrap_or_else(|e| e.into_inner()).chunks)
            .collect();
        let mut first_chunk = Vec::with_capacity(arenas.len());
        let mut n = 0u32;
        for a in &arenas {
            first_chunk.push(n);
            n += a.len() as u32;
        }
        let chunks: Vec<Vec<u8>> = arenas.into_iter().flatten().collect();
        let mut entries = Vec::with_capacity(total);
        for list in per_pack {
            let first = entries.len() as u32;
            for e in list {
                let (chunk, at, len) = match e.data.flatten() {
                    Some((arena, chunk, at, len)) => (first_chunk[arena as usize] + chunk, at, len),
                    None => (0, 0, FAILED),
                };
                let base = if e.base == NO_BASE {
                    NO_BASE
                } else {
                    first + e.base
                };
                let slot = Slot {
                    chunk,
                    at,
                    len,
                    base,
                };
                entries.push((e.id, slot));
            }
        }
        Trees::from_entries(entries, chunks)
    }

    /// Trees from entries (id, where its bytes are, its base as a position
    /// in `entries`), renumbered in id order: the slot of a tree is its
    /// position among the sorted ids, so the index holds ids alone. An id
    /// held more than once is found at its first entry (the first pack
    /// holding it); the others get slots after every indexed one (deltas
    /// may still build on them).
    fn from_entries(entries: Vec<(Id, Slot)>, chunks: Vec<Vec<u8>>) -> Trees {
        let n = entries.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            entries[a as usize]
                .0
                .cmp(&entries[b as usize].0)
                .then(a.cmp(&b))
        });
        let mut ids: Vec<Id> = Vec::with_capacity(n);
        let mut again = Vec::new();
        let mut slot_of = vec![NO_BASE; n];
        for &e in &order {
            let id = entries[e as usize].0;
            if ids.last() == Some(&id) {
                again.push(e);
            } else {
                slot_of[e as usize] = ids.len() as u32;
                ids.push(id);
            }
        }
        drop(order);
        for (k, &e) in again.iter().enumerate() {
            slot_of[e as usize] = (ids.len() + k) as u32;
        }
        let mut slots = vec![
            Slot {
                chunk: 0,
                at: 0,
                len: FAILED,
                base: NO_BASE,
            };
            n
        ];
        for (e, (_, mut slot)) in entries.into_iter().enumerate() {
            if slot.base != NO_BASE {
                slot.base = slot_of[slot.base as usize];
            }
            slots[slot_of[e] as usize] = slot;
        }
        ids.shrink_to_fit();
        Trees {
            index: IdIndex::new(ids),
            slots,
            chunks,
            cache: Mutex::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// What this holds, by structure, in bytes (for `--stats`).
    pub fn memory(&self) -> Vec<(&'static str, u64)> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let stored: usize = self.chunks.iter().map(Vec::capacity).sum();
        vec![
            ("trees-stored", stored as u64),
            (
                "trees-index",
                self.index.heap_bytes()
                    + (self.slots.capacity() * std::mem::size_of::<Slot>()) as u64,
            ),
            ("trees-cache-peak", cache.peak_bytes as u64),
        ]
    }

    /// The stored bytes of slot `s` (a delta's instructions, or a whole
    /// tree).
    fn stored(&self, s: u32) -> Option<&[u8]> {
        let slot = self.slots.get(s as usize)?;
        if slot.len == FAILED {
            return None;
        }
        let chunk = self.chunks.get(slot.chunk as usize)?;
        chunk.get(slot.at as usize..slot.at as usize + slot.len as usize)
    }

    /// The raw bytes of packed tree `id`, rebuilt from its delta chain when
    /// it is stored as a delta; `None` when the packs do not hold it or it
    /// does not rebuild.
    pub(crate) fn data(&self, id: &Id) -> Option<TreeData<'_>> {
        self.build(self.slot(id)?)
    }

    /// Drops the rebuilt trees kept (the walk is done).
    pub(crate) fn release_cache(&self) {
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        c.cur = HashMap::new();
        c.old = HashMap::new();
        c.cur_bytes = 0;
        c.old_bytes = 0;
    }

    /// The slot of packed tree `id`.
    #[inline]
    pub(crate) fn slot(&self, id: &Id) -> Option<u32> {
        self.index.get(id)
    }

    /// The id of the tree at `slot` (`slot < self.len()`: slots of the
    /// trees found by id are their positions in id order).
    #[inline]
    pub(crate) fn id(&self, slot: u32) -> Option<Id> {
        self.index.ids.get(slot as usize).copied()
    }

    /// [`Trees::data`] of the tree at `slot`.
    pub(crate) fn data_at(&self, slot: u32) -> Option<TreeData<'_>> {
        self.build(slot)
    }

    fn build(&self, slot: u32) -> Option<TreeData<'_>> {
        let s = self.slots.get(slot as usize)?;
        if s.base == NO_BASE {
            return self.stored(slot).map(TreeData::Held);
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = cache.get(slot) {
            return Some(TreeData::Built(d));
        }
        // Climb to a cached version or a whole tree, then apply the deltas
        // back down, caching each version on the way.
        let mut chain = vec![slot];
        let mut x = s.base;
        let mut cur = loop {
            if chain.len() > self.slots.len() {
                return None;
            }
            let sx = self.slots.get(x as usize)?;
            if sx.base == NO_BASE {
                break TreeData::Held(self.stored(x)?);
            }
            if let Some(d) = cache.get(x) {
                break TreeData::Built(d);
            }
            chain.push(x);
            x = sx.base;
        };
        for &c in chain.iter().rev() {
            let delta = self.stored(c)?;
            let mut out = Vec::new();
            pack::apply_delta(&cur, delta, &mut out).ok()?;
            let d = Arc::new(out);
            cache.insert(c, d.clone());
            cur = TreeData::Built(d);
        }
        Some(cur)
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
        self.for_each_in(repo, oid, self.data(&oid).as_deref(), f)
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
        self.for_each_since_in(repo, oid, self.data(&oid).as_deref(), before.as_deref(), f)
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

    /// Trees held in memory as if read from packs, each stored whole.
    fn held(items: &[(u8, Vec<u8>)]) -> Trees {
        let mut arena = Arena::default();
        let mut entries = Vec::new();
        for (id, data) in items {
            let (chunk, at) = arena.push(data);
            let slot = Slot {
                chunk,
                at,
                len: data.len() as u32,
                base: NO_BASE,
            };
            entries.push((Id([*id; 20]), slot));
        }
        Trees::from_entries(entries, arena.chunks)
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

    /// `git` in `dir`, its standard output.
    fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("git must be installed (scripts/setup.sh)");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        out.stdout
    }

    /// Issue 17: trees held as the pack stores them (deltas) and rebuilt
    /// on demand are byte for byte what git prints, also when the cache
    /// is so small that every rebuild starts again from a whole tree, and
    /// a tree the packs lack is not made up; also with a second pack that
    /// holds every tree again (slots are ranks in id order, duplicates
    /// after them).
    #[test]
    fn trees_rebuilt_from_pack_deltas_are_what_git_prints() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        git(r, &["init", "-q", "-b", "main", "."]);
        let commit = |msg: &str| {
            git(
                r,
                &[
                    "-c",
                    "user.name=T",
                    "-c",
                    "user.email=t@e.invalid",
                    "commit",
                    "-qm",
                    msg,
                ],
            )
        };
        for i in 0..40 {
            for d in ["a", "a/b", "c"] {
                std::fs::create_dir_all(r.join(d)).unwrap();
                std::fs::write(r.join(format!("{d}/f{}.txt", i % 7)), format!("{i}\n")).unwrap();
            }
            git(r, &["add", "-A"]);
            commit("x");
        }
        git(r, &["repack", "-adq", "--window=50", "--depth=50"]);
        let list_ids = || -> Vec<Id> {
            String::from_utf8(git(
                r,
                &[
                    "cat-file",
                    "--batch-all-objects",
                    "--batch-check=%(objecttype) %(objectname)",
                ],
            ))
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("tree "))
            .map(|h| Id::from(git2::Oid::from_str(h).unwrap()))
            .collect()
        };
        for packs in [1, 2] {
            if packs == 2 {
                // A second pack holding every tree again (the first stays):
                // each id is found once, its other copy kept as a base.
                std::fs::write(r.join("a/more.txt"), "more\n").unwrap();
                git(r, &["add", "-A"]);
                commit("y");
                git(r, &["repack", "-aq", "--window=50", "--depth=50"]);
                assert_eq!(pack::packs(&r.join(".git/objects")).len(), 2);
            }
            let ids = list_ids();
            assert!(ids.len() > 100, "{}", ids.len());
            for budget in [None, Some(1)] {
                let trees = Trees::from_packs(&r.join(".git/objects"), 2);
                trees.cache.lock().unwrap().budget = budget;
                assert_eq!(trees.len(), ids.len());
                if packs == 2 {
                    assert!(trees.slots.len() > ids.len() + 100, "{}", trees.slots.len());
                }
                let deltas = trees.slots.iter().filter(|s| s.base != NO_BASE).count();
                assert!(deltas > ids.len() / 2, "mostly deltas: {deltas}");
                for id in &ids {
                    let want = git(r, &["cat-file", "tree", &id.to_string()]);
                    assert_eq!(
                        trees.data(id).as_deref(),
                        Some(&want[..]),
                        "{id} {budget:?}"
                    );
                    // A tree's slot is its rank among the ids.
                    assert_eq!(trees.slot(id).and_then(|s| trees.id(s)), Some(*id));
                }
                assert!(trees.data(&Id([7; 20])).is_none());
                let peak = trees.cache.lock().unwrap().peak_bytes;
                if budget.is_some() {
                    assert!(peak < 4096, "the cache kept {peak} bytes");
                }
            }
        }
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
