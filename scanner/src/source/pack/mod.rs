//! A packfile reader for full-history scans: parses `objects/pack/*.idx`
//! (v2, SHA-1) and `*.pack` (v2/v3), builds each pack's delta forest and
//! decodes every needed object exactly once, from the non-delta roots down,
//! on a work-stealing pool. What it cannot decode is left to the caller.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use crate::source::id::Id;

mod decode;
mod format;

use decode::Pack;

use crate::keywords::Piece;
pub use format::{
    Base, EntryHeader, PackIndex, apply_delta, apply_delta_traced, delta_target_size,
    parse_entry_header,
};

/// Largest object this reader decodes; larger ones (and hostile size
/// fields) are left to the fallback reader.
pub const MAX_OBJECT: u64 = 1 << 30;

/// Pack entry type codes.
pub const COMMIT: u8 = 1;
pub const TREE: u8 = 2;
pub const BLOB: u8 = 3;
pub const TAG: u8 = 4;
pub const OFS_DELTA: u8 = 6;
pub const REF_DELTA: u8 = 7;

/// Object ids are already uniformly random: their first eight bytes make
/// a hash (SipHash over all twenty showed in profiles of large histories).
#[derive(Default, Clone, Copy)]
pub struct OidHasher(u64);

impl std::hash::Hasher for OidHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(b);
            if bytes.len() >= 8 {
                // An id: its first eight bytes are enough.
                break;
            }
        }
    }

    /// [`Id`]'s `Hash` writes its first eight bytes as one `u64`.
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }

    fn write_usize(&mut self, _: usize) {}

    fn finish(&self) -> u64 {
        self.0
    }
}

pub type OidBuildHasher = std::hash::BuildHasherDefault<OidHasher>;
/// A set of object ids with [`OidHasher`].
pub type OidSet = HashSet<Id, OidBuildHasher>;
/// A map keyed by object id with [`OidHasher`].
pub type OidMap<V> = std::collections::HashMap<Id, V, OidBuildHasher>;

const NONE: u32 = u32::MAX;
/// Longest entry header: 10 size bytes plus a 20-byte base id (or a
/// 10-byte base distance).
const MAX_HEADER: u64 = 32;
/// Bytes read at a time while parsing entry headers.
const HEADER_CHUNK: usize = 4 << 20;
/// Thread-local buffers larger than this are released after use.
const KEEP_BUFFER: usize = 64 << 20;

/// What [`read_blobs`] hands to its visitor for one wanted blob.
pub enum Payload<'a> {
    /// The blob's bytes.
    Data(&'a [u8]),
    /// Larger than the size limit: not materialised (when it is nobody's
    /// base) and not to be scanned.
    TooLarge(u64),
}

/// How an object rebuilt from a delta came from its base, for a visitor
/// that derives its work on the object from its work on the base: what the
/// visitor returned for the base, and the delta's runs.
pub struct FromBase<'a, M> {
    pub memo: &'a M,
    pub pieces: &'a [Piece],
}

/// What the pack reader did.
#[derive(Debug, Default)]
pub struct PackReport {
    /// Wanted blobs handed to the visitor (as data or as too large).
    pub delivered: OidSet,
    /// Packs read, and packs left wholly to the fallback.
    pub packs_read: usize,
    pub packs_skipped: usize,
    /// Entries that failed to decode (each, and every delta below it, is
    /// left to the fallback), with the first few reasons.
    pub entry_errors: u64,
    pub errors: Vec<String>,
    /// Objects inflated and deltas applied (each at most once).
    pub objects_decoded: u64,
}

/// The `*.idx` files of `objects_dir/pack` that have their `*.pack`.
pub fn packs(objects_dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(objects_dir.join("pack")) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "idx") && p.with_extension("pack").is_file())
        .collect();
    out.sort();
    out
}

/// The packs under an objects directory, opened once, so that several
/// passes over them (trees, then blobs) parse each pack's entry headers
/// once.
pub struct Packs {
    list: Vec<(PathBuf, Result<Pack>)>,
}

impl Packs {
    pub fn open(objects_dir: &Path) -> Packs {
        Packs {
            list: packs(objects_dir)
                .into_iter()
                .map(|idx| {
                    let p = Pack::open(&idx);
                    (idx, p)
                })
                .collect(),
        }
    }
}

/// Which objects [`read_objects`] delivers.
#[derive(Clone, Copy)]
pub enum Select<'a> {
    /// These blobs.
    Blobs(&'a OidSet),
    /// Every object of these types (e.g. `&[TREE]`).
    Kinds(&'a [u8]),
}

/// Reads every blob of `wanted` that the packs under `objects_dir` hold,
/// each once, calling `visit` from `threads` workers. Blobs not in
/// [`PackReport::delivered`] were not read (not packed, in a damaged
/// entry, behind a thin-pack base...) and are the caller's to read.
pub fn read_blobs<F>(
    objects_dir: &Path,
    wanted: &OidSet,
    threads: usize,
    limit: u64,
    visit: F,
) -> Result<PackReport>
where
    F: Fn(Id, Payload<'_>) + Sync,
{
    read_objects(
        objects_dir,
        Select::Blobs(wanted),
        threads,
        limit,
        |oid, _, payload| visit(oid, payload),
    )
}

/// Reads the selected objects the packs hold, each once, calling `visit`
/// with the id, type code and content (objects larger than `limit` are
/// [`Payload::TooLarge`]).
pub fn read_objects<F>(
    objects_dir: &Path,
    select: Select<'_>,
    threads: usize,
    limit: u64,
    visit: F,
) -> Result<PackReport>
where
    F: Fn(Id, u8, Payload<'_>) + Sync,
{
    read_objects_in(&Packs::open(objects_dir), select, threads, limit, visit)
}

/// [`read_objects`] over packs already opened.
pub fn read_objects_in<F>(
    packs: &Packs,
    select: Select<'_>,
    threads: usize,
    limit: u64,
    visit: F,
) -> Result<PackReport>
where
    F: Fn(Id, u8, Payload<'_>) + Sync,
{
    read_objects_memo_in(
        packs,
        select,
        threads,
        (limit, true),
        |oid, kind, payload, _: Option<FromBase<'_, ()>>| {
            visit(oid, kind, payload);
            None
        },
        || (),
    )
    .map(|(r, ())| r)
}

/// [`read_objects_in`] for a visitor that returns a memo for each object
/// (and [`PackReport::delivered`] left empty unless `record`):
/// an object rebuilt from a delta is visited with its base's memo and the
/// delta's runs ([`FromBase`]) when the base has one. `side` runs as one
/// more task of the same `threads` workers (one worker runs it while the
/// others decode, then it joins them): single-threaded work overlaps
/// decoding without adding a thread.
pub fn read_objects_memo_in<F, M, S, R>(
    packs: &Packs,
    select: Select<'_>,
    threads: usize,
    (limit, record): (u64, bool),
    visit: F,
    side: S,
) -> Result<(PackReport, R)>
where
    F: Fn(Id, u8, Payload<'_>, Option<FromBase<'_, M>>) -> Option<M> + Sync,
    M: Send + Sync,
    S: FnOnce() -> R + Send,
    R: Send,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("leakscan-pack-{i}"))
        // A worker waiting for a subtree's tasks runs other roots' tasks
        // on its own stack.
        .stack_size(16 << 20)
        .build()
        .context("starting the pack reader's threads")?;
    let mut report = PackReport::default();
    let mut side_out = None;
    pool.install(|| {
        rayon::scope(|s| {
            let out = &mut side_out;
            s.spawn(move |_| *out = Some(side()));
            let mut claimed = OidSet::default();
            let n = packs.list.len();
            for (i, (idx_path, pack)) in packs.list.iter().enumerate() {
                match pack {
                    Ok(pack) => {
                        report.packs_read += 1;
                        // What the last pack delivers is asked of no other
                        // (one pack: the set stays empty).
                        let claim = i + 1 < n;
                        let forest = pack.forest(select, (&mut claimed, claim), &mut report);
                        forest.decode(pack, (limit, record), &visit, &mut report);
                    }
                    Err(e) => {
                        report.packs_skipped += 1;
                        note(&mut report, format!("{}: {e}", idx_path.display()));
                    }
                }
            }
        })
    });
    let side_out = side_out.context("the pack reader's side task did not run")?;
    Ok((report, side_out))
}

/// One entry of a pack as stored (see [`read_stored`]).
pub struct Stored<T> {
    pub id: Id,
    /// The position of the entry's delta base in the same pack's list, or
    /// [`NO_BASE`] for an object stored whole.
    pub base: u32,
    /// What the caller kept of the inflated bytes; `None` when the entry
    /// did not read or inflate.
    pub data: Option<T>,
}

/// [`Stored::base`] of an object stored whole.
pub const NO_BASE: u32 = NONE;

/// Every entry of the packs whose delta chain ends in an object of type
/// `kind`, as stored (an object's content, or a delta's instructions with
/// its base), per pack, without resolving any delta: for callers that hold
/// objects in delta form and rebuild them on demand. `keep` turns each
/// entry's inflated bytes into what is held, on `threads` workers.
pub fn read_stored<T, F>(
    packs: &Packs,
    kind: u8,
    threads: usize,
    keep: F,
) -> Result<Vec<Vec<Stored<T>>>>
where
    T: Send,
    F: Fn(&[u8]) -> T + Sync,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("leakscan-pack-{i}"))
        .build()
        .context("starting the pack reader's threads")?;
    Ok(pool.install(|| {
        packs
            .list
            .iter()
            .map(|(_, p)| match p {
                Ok(p) => p.stored(kind, &keep),
                Err(_) => Vec::new(),
            })
            .collect()
    }))
}

impl Packs {
    /// Forgets every entry but those of delta chains whose root has type
    /// `kind` (e.g. blobs once the trees and commits are read): later
    /// passes must select `kind` alone.
    pub fn retain(&mut self, kind: u8) {
        for (_, p) in &mut self.list {
            if let Ok(p) = p {
                p.retain(kind);
            }
        }
    }

    /// Entries of the readable packs whose delta chain ends in an object
    /// of type `kind` (at most the objects a pass over `kind` delivers).
    pub fn count(&self, kind: u8) -> usize {
        self.list
            .iter()
            .map(|(_, p)| p.as_ref().map_or(0, |p| p.count(kind)))
            .sum()
    }

    /// Bytes held for the packs' indexes and parsed entry headers.
    pub fn heap_bytes(&self) -> u64 {
        self.list
            .iter()
            .map(|(_, p)| p.as_ref().map_or(0, |p| p.layout_bytes()))
            .sum()
    }
}

fn note(report: &mut PackReport, msg: String) {
    if report.errors.len() < crate::stats::MAX_ERRORS_KEPT {
        report.errors.push(msg);
    }
}
