//! Where flagged blobs live in a history: the tree graph the history walk
//! records (each tree's previous version, and the entries where a tree
//! differs from it), and `locate`, which climbs from the flagged blobs to
//! the root trees through that graph instead of walking every tree again.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use git2::Repository;

use crate::source::pack::{Id, OidMap, OidSet};
use crate::source::trees::{EntryKind, Trees};

/// No index (no previous version).
pub(crate) const NONE: u32 = u32::MAX;
/// Marks a tree index in a child code (blob indices have it clear).
const TREE_BIT: u32 = 1 << 31;

/// What the history walk records, by index of each tree and blob: a tree
/// [`Trees`] holds has its slot there as index (its id is found from it),
/// a tree read through libgit2 an index after those; blobs are numbered
/// in walk order.
#[derive(Default)]
pub(crate) struct Graph {
    /// Trees held by [`Trees`] (their indices are `0..held`).
    held: u32,
    /// Which of them the walk has seen (only during the walk).
    seen: Vec<bool>,
    /// Index of each tree not held, by id (only during the walk), and
    /// their ids (index `held + k`).
    tree_index: OidMap<u32>,
    other_trees: Vec<Id>,
    /// Blob id -> index (only during the walk): indices alone, hashed by
    /// the id they point to in `blob_ids` (a fifth of a map's memory).
    blob_index: hashbrown::HashTable<u32>,
    pub(crate) blob_ids: Vec<Id>,
    /// Each tree's previous version (the version it was compared with
    /// during the walk), or [`NONE`].
    prev: Vec<u32>,
    /// (child code, parent tree index) for each entry of a tree that is not
    /// the same entry of its previous version (every entry when it has
    /// none). An entry the same as in the previous version is the parent's
    /// through that version. Child code: a tree index with [`TREE_BIT`], or
    /// a blob index.
    edges: Edges,
}

/// The graph's edges, in chunks of a fixed size (no doubling: a vector
/// grown by doubling has up to half its memory unused, and both its old
/// and new buffers at once while it grows).
#[derive(Default)]
struct Edges {
    chunks: Vec<Vec<(u32, u32)>>,
}

/// Edges per chunk.
const EDGE_CHUNK: usize = 1 << 16;

impl Edges {
    #[inline]
    fn push(&mut self, e: (u32, u32)) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < EDGE_CHUNK => c.push(e),
            _ => {
                let mut c = Vec::with_capacity(EDGE_CHUNK);
                c.push(e);
                self.chunks.push(c);
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = &(u32, u32)> {
        self.chunks.iter().flatten()
    }

    fn capacity(&self) -> usize {
        self.chunks.iter().map(Vec::capacity).sum()
    }
}

/// The hash of a blob id in [`Graph::blob_index`] (ids are uniformly
/// random already).
#[inline]
fn id_hash(id: &Id) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&id.0[..8]);
    u64::from_le_bytes(b)
}

impl Graph {
    /// A graph sized for the trees `trees` holds, and about `blobs`
    /// blobs.
    pub(crate) fn with_trees(trees: &Trees, blobs: usize) -> Graph {
        let held = trees.len();
        let blob_index = hashbrown::HashTable::with_capacity(blobs);
        Graph {
            held: held as u32,
            seen: vec![false; held],
            prev: vec![NONE; held],
            blob_index,
            blob_ids: Vec::with_capacity(blobs),
            ..Graph::default()
        }
    }

    /// Trees indexed (an upper bound of every tree index).
    pub(crate) fn tree_count(&self) -> usize {
        self.held as usize + self.other_trees.len()
    }

    /// The id of tree `t`.
    #[inline]
    pub(crate) fn tree_id(&self, trees: &Trees, t: u32) -> Id {
        match t.checked_sub(self.held) {
            None => trees.id(t).unwrap_or_default(),
            Some(k) => self.other_trees[k as usize],
        }
    }

    /// The index of tree `id`, and whether it was first seen now.
    #[inline]
    pub(crate) fn tree(&mut self, trees: &Trees, id: Id) -> (u32, bool) {
        if let Some(s) = trees.slot(&id) {
            let new = !std::mem::replace(&mut self.seen[s as usize], true);
            return (s, new);
        }
        let next = self.held + self.other_trees.len() as u32;
        let t = *self.tree_index.entry(id).or_insert(next);
        if t == next {
            self.other_trees.push(id);
            self.prev.push(NONE);
        }
        (t, t == next)
    }

    /// The index of a tree seen before.
    pub(crate) fn tree_seen(&self, trees: &Trees, id: &Id) -> Option<u32> {
        match trees.slot(id) {
            Some(s) => self.seen[s as usize].then_some(s),
            None => self.tree_index.get(id).copied(),
        }
    }

    /// The index of blob `id`, and whether it was first seen now.
    #[inline]
    pub(crate) fn blob(&mut self, id: Id) -> (u32, bool) {
        let h = id_hash(&id);
        let ids = &self.blob_ids;
        if let Some(&b) = self.blob_index.find(h, |&b| ids[b as usize] == id) {
            return (b, false);
        }
        let next = ids.len() as u32;
        self.blob_index
            .insert_unique(h, next, |&b| id_hash(&ids[b as usize]));
        self.blob_ids.push(id);
        (next, true)
    }

    pub(crate) fn has_blob(&self, id: &Id) -> bool {
        let ids = &self.blob_ids;
        self.blob_index
            .find(id_hash(id), |&b| ids[b as usize] == *id)
            .is_some()
    }

    /// Tree `t` is being walked, compared with `prev` (or [`NONE`]).
    #[inline]
    pub(crate) fn walking(&mut self, t: u32, prev: u32) {
        self.prev[t as usize] = prev;
    }

    /// Tree `parent` has a tree (or blob) entry `child` that its previous
    /// version does not have.
    #[inline]
    pub(crate) fn tree_edge(&mut self, child: u32, parent: u32) {
        self.edges.push((child | TREE_BIT, parent));
    }

    #[inline]
    pub(crate) fn blob_edge(&mut self, child: u32, parent: u32) {
        self.edges.push((child, parent));
    }

    /// Bytes of the id -> index maps (dropped by [`Graph::seal`]).
    pub(crate) fn map_bytes(&self) -> u64 {
        (self.tree_index.capacity() * (20 + 4 + 1)
            + self.blob_index.capacity() * (4 + 1)
            + self.seen.capacity()) as u64
    }

    /// Bytes of what `locate` keeps: ids, previous versions, edges.
    pub(crate) fn heap_bytes(&self) -> u64 {
        ((self.other_trees.capacity() + self.blob_ids.capacity()) * 20
            + self.prev.capacity() * 4
            + self.edges.capacity() * 8) as u64
    }

    /// After the walk: drops the id -> index maps (locate works on
    /// indices).
    pub(crate) fn seal(&mut self) {
        self.seen = Vec::new();
        self.tree_index = OidMap::default();
        self.blob_index = hashbrown::HashTable::new();
    }
}

/// Every path a blob appears at, with the commit that introduced it there.
pub(crate) type Locations = OidMap<Vec<(String, Option<Id>)>>;

/// For each flagged blob, every path it appears at (under the commits'
/// root trees) and the oldest commit (of `commits`, oldest first, with
/// their root trees) that has it there.
///
/// First the trees holding a flagged blob at any depth are found, climbing
/// from the blobs: a tree holds an entry either because the walk recorded
/// it as differing from the tree's previous version, or because that
/// previous version holds it too, so each climb step scans the recorded
/// entries and follows the later versions of each parent found while they
/// still hold the entry. Then only those trees are read again, to name the
/// paths.
pub(crate) fn locate(
    repo: &Repository,
    trees: &Trees,
    graph: &Graph,
    commits: &[(Id, Id)],
    flagged: &OidSet,
) -> Locations {
    let n_trees = graph.tree_count();
    // Later versions of each tree (the trees compared with it), as
    // offsets into one array.
    let mut first_next = vec![0u32; n_trees + 1];
    for &p in &graph.prev {
        if p != NONE {
            first_next[p as usize + 1] += 1;
        }
    }
    for t in 0..n_trees {
        first_next[t + 1] += first_next[t];
    }
    let mut fill = first_next.clone();
    let mut next = vec![0u32; first_next[n_trees] as usize];
    for (t, &p) in graph.prev.iter().enumerate() {
        if p != NONE {
            next[fill[p as usize] as usize] = t as u32;
            fill[p as usize] += 1;
        }
    }
    drop(fill);
    let later =
        |t: u32| &next[first_next[t as usize] as usize..first_next[t as usize + 1] as usize];

    // Children looked for at this step, marked by code.
    let mut blob_mark = vec![false; graph.blob_ids.len()];
    let mut tree_mark = vec![false; n_trees];
    let mut level: Vec<u32> = Vec::new();
    for (b, id) in graph.blob_ids.iter().enumerate() {
        if flagged.contains(id) {
            blob_mark[b] = true;
            level.push(b as u32);
        }
    }
    // Trees holding a flagged blob at some depth.
    let mut holding = vec![false; n_trees];
    let mut held: Vec<u32> = Vec::new();
    while !level.is_empty() {
        let mut pairs: Vec<(u32, u32)> = graph
            .edges
            .iter()
            .copied()
            .filter(|&(c, _)| {
                if c & TREE_BIT != 0 {
                    tree_mark[(c & !TREE_BIT) as usize]
                } else {
                    blob_mark[c as usize]
                }
            })
            .collect();
        for &c in &level {
            if c & TREE_BIT != 0 {
                tree_mark[(c & !TREE_BIT) as usize] = false;
            } else {
                blob_mark[c as usize] = false;
            }
        }
        let mut done: HashSet<(u32, u32)> = pairs.iter().copied().collect();
        let mut found: Vec<u32> = Vec::new();
        while let Some((c, t)) = pairs.pop() {
            found.push(t);
            let id = if c & TREE_BIT != 0 {
                graph.tree_id(trees, c & !TREE_BIT)
            } else {
                graph.blob_ids[c as usize]
            };
            for &s in later(t) {
                if done.contains(&(c, s)) {
                    continue;
                }
                let mut has = false;
                let _ = trees.for_each(repo, graph.tree_id(trees, s), |_, _, e| {
                    has |= e == id;
                });
                if has {
                    done.insert((c, s));
                    pairs.push((c, s));
                }
            }
        }
        level.clear();
        for t in found {
            if !holding[t as usize] {
                holding[t as usize] = true;
                held.push(t);
                tree_mark[t as usize] = true;
                level.push(t | TREE_BIT);
            }
        }
    }
    let held: OidSet = held.iter().map(|&t| graph.tree_id(trees, t)).collect();

    let mut names = Names {
        repo,
        trees,
        flagged,
        held: &held,
        memo: OidMap::default(),
    };
    // blob -> path -> introducing commit; commits come oldest first.
    let mut intro: OidMap<HashMap<String, Id>> = OidMap::default();
    for &(c, tree) in commits {
        if !held.contains(&tree) {
            continue;
        }
        // A root tree is most often one commit's alone: not memoized (the
        // trees below it are, and are shared).
        let hits = names.hits(tree, false);
        for (oid, path) in hits.iter() {
            let paths = intro.entry(*oid).or_default();
            if !paths.contains_key(path) {
                paths.insert(path.clone(), c);
            }
        }
    }
    let mut out = Locations::default();
    for (oid, paths) in intro {
        out.insert(oid, paths.into_iter().map(|(p, c)| (p, Some(c))).collect());
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// Flagged blobs under a tree, with their paths below it.
type Hits = Rc<Vec<(Id, String)>>;

/// Paths of the flagged blobs under the trees that hold some.
struct Names<'a> {
    repo: &'a Repository,
    trees: &'a Trees,
    flagged: &'a OidSet,
    held: &'a OidSet,
    memo: OidMap<Hits>,
}

impl Names<'_> {
    fn hits(&mut self, tree: Id, memo: bool) -> Hits {
        if let Some(h) = self.memo.get(&tree) {
            return h.clone();
        }
        let mut hits = Vec::new();
        let mut subtrees: Vec<(Id, String)> = Vec::new();
        let (flagged, held) = (self.flagged, self.held);
        let _ = self
            .trees
            .for_each(self.repo, tree, |kind, name, id| match kind {
                EntryKind::Blob if flagged.contains(&id) => {
                    hits.push((id, String::from_utf8_lossy(name).into_owned()));
                }
                EntryKind::Tree if held.contains(&id) => {
                    subtrees.push((id, String::from_utf8_lossy(name).into_owned()));
                }
                _ => {}
            });
        for (id, name) in subtrees {
            let sub = self.hits(id, true);
            for (oid, p) in sub.iter() {
                hits.push((*oid, format!("{name}/{p}")));
            }
        }
        let hits = Rc::new(hits);
        if memo {
            self.memo.insert(tree, hits.clone());
        }
        hits
    }
}
