//! A packfile reader for full-history scans: parses `objects/pack/*.idx`
//! (v2, SHA-1) and `*.pack` (v2/v3), builds each pack's delta forest and
//! decodes every needed object exactly once, from the non-delta roots down,
//! on a work-stealing pool. What it cannot decode is left to the caller.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use flate2::{Decompress, FlushDecompress, Status};
use git2::Oid;

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

    fn write_usize(&mut self, _: usize) {}

    fn finish(&self) -> u64 {
        self.0
    }
}

pub type OidBuildHasher = std::hash::BuildHasherDefault<OidHasher>;
/// A set of object ids with [`OidHasher`].
pub type OidSet = HashSet<Oid, OidBuildHasher>;
/// A map keyed by object id with [`OidHasher`].
pub type OidMap<V> = std::collections::HashMap<Oid, V, OidBuildHasher>;

const NONE: u32 = u32::MAX;
/// Longest entry header: 10 size bytes plus a 20-byte base id (or a
/// 10-byte base distance).
const MAX_HEADER: u64 = 32;
/// Bytes read at a time while parsing entry headers.
const HEADER_CHUNK: usize = 4 << 20;
/// Thread-local buffers larger than this are released after use.
const KEEP_BUFFER: usize = 64 << 20;

/// Where an entry's delta base is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// Not a delta.
    None,
    /// OFS_DELTA: this many bytes before the entry.
    Ofs(u64),
    /// REF_DELTA: the object with this id.
    Ref([u8; 20]),
}

/// A parsed entry header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryHeader {
    /// Type code (1-4 objects, 6-7 deltas).
    pub kind: u8,
    /// Inflated size of the entry's data (the delta itself for deltas).
    pub size: u64,
    /// Header length: the zlib stream starts this many bytes in.
    pub len: usize,
    pub base: Base,
}

/// Parses an entry header at the start of `buf`.
pub fn parse_entry_header(buf: &[u8]) -> Result<EntryHeader, &'static str> {
    const SHORT: &str = "entry header runs past the data";
    let mut b = *buf.first().ok_or(SHORT)?;
    let kind = (b >> 4) & 7;
    let mut size = u64::from(b & 15);
    let mut shift = 4u32;
    let mut i = 1;
    while b & 0x80 != 0 {
        b = *buf.get(i).ok_or(SHORT)?;
        i += 1;
        if shift > 57 {
            return Err("entry size field too long");
        }
        size |= u64::from(b & 0x7f) << shift;
        shift += 7;
    }
    let base = match kind {
        COMMIT | TREE | BLOB | TAG => Base::None,
        OFS_DELTA => {
            let mut c = *buf.get(i).ok_or(SHORT)?;
            i += 1;
            let mut dist = u64::from(c & 0x7f);
            while c & 0x80 != 0 {
                c = *buf.get(i).ok_or(SHORT)?;
                i += 1;
                dist = dist
                    .checked_add(1)
                    .and_then(|d| d.checked_mul(128))
                    .ok_or("delta base distance overflows")?
                    | u64::from(c & 0x7f);
            }
            Base::Ofs(dist)
        }
        REF_DELTA => {
            let id: [u8; 20] = buf
                .get(i..i + 20)
                .ok_or(SHORT)?
                .try_into()
                .map_err(|_| SHORT)?;
            i += 20;
            Base::Ref(id)
        }
        _ => return Err("invalid entry type"),
    };
    Ok(EntryHeader {
        kind,
        size,
        len: i,
        base,
    })
}

/// Reads a delta's size varint at `*i`.
fn delta_varint(delta: &[u8], i: &mut usize) -> Result<u64, &'static str> {
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        let b = *delta.get(*i).ok_or("delta header truncated")?;
        *i += 1;
        if shift > 63 {
            return Err("delta size field too long");
        }
        v |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
        shift += 7;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
}

/// The target size a delta announces (after checking its source size).
pub fn delta_target_size(base_len: usize, delta: &[u8]) -> Result<u64, &'static str> {
    let mut i = 0;
    let src = delta_varint(delta, &mut i)?;
    if src != base_len as u64 {
        return Err("delta source size does not match its base");
    }
    delta_varint(delta, &mut i)
}

/// Applies a git delta to `base`, writing the target into `out` (cleared
/// first). Every bound is checked; a bad delta is an error, never a panic.
pub fn apply_delta(base: &[u8], delta: &[u8], out: &mut Vec<u8>) -> Result<(), &'static str> {
    let mut i = 0;
    let src = delta_varint(delta, &mut i)?;
    if src != base.len() as u64 {
        return Err("delta source size does not match its base");
    }
    let target = delta_varint(delta, &mut i)?;
    if target > MAX_OBJECT {
        return Err("delta target too large");
    }
    let target = target as usize;
    out.clear();
    out.reserve_exact(target);
    while i < delta.len() {
        let c = delta[i];
        i += 1;
        if c & 0x80 != 0 {
            let mut off = 0usize;
            for k in 0..4 {
                if c & (1 << k) != 0 {
                    off |= usize::from(*delta.get(i).ok_or("delta copy truncated")?) << (8 * k);
                    i += 1;
                }
            }
            let mut n = 0usize;
            for k in 0..3 {
                if c & (0x10 << k) != 0 {
                    n |= usize::from(*delta.get(i).ok_or("delta copy truncated")?) << (8 * k);
                    i += 1;
                }
            }
            if n == 0 {
                n = 0x10000;
            }
            let end = off.checked_add(n).ok_or("delta copy overflows")?;
            let src = base.get(off..end).ok_or("delta copy outside its base")?;
            if out.len() + n > target {
                return Err("delta writes past its target size");
            }
            out.extend_from_slice(src);
        } else if c != 0 {
            let n = usize::from(c);
            let lit = delta.get(i..i + n).ok_or("delta insert truncated")?;
            i += n;
            if out.len() + n > target {
                return Err("delta writes past its target size");
            }
            out.extend_from_slice(lit);
        } else {
            return Err("delta has the reserved instruction 0");
        }
    }
    if out.len() != target {
        return Err("delta target shorter than announced");
    }
    Ok(())
}

/// Inflates one zlib stream that must produce exactly `size` bytes. The
/// two-byte zlib header is checked here and the deflate data inflated raw:
/// the Adler-32 trailer is not verified (it cost ~7% of a history scan;
/// the exact size and a well-formed deflate stream are still required,
/// and objects are not re-hashed either, as with libgit2 and `git
/// cat-file`).
fn inflate(z: &mut Decompress, input: &[u8], size: u64, out: &mut Vec<u8>) -> Result<(), String> {
    let [cmf, flg, ..] = *input else {
        return Err("zlib stream truncated".into());
    };
    if cmf & 0x0f != 8 || (u16::from(cmf) << 8 | u16::from(flg)) % 31 != 0 || flg & 0x20 != 0 {
        return Err("not a zlib stream".into());
    }
    let input = &input[2..];
    // Deflate expands at most ~1032:1; a larger claim is a lie.
    if size > MAX_OBJECT || size > (input.len() as u64).saturating_mul(1100) + 1024 {
        return Err(format!("implausible object size {size}"));
    }
    let size = size as usize;
    z.reset(false);
    out.clear();
    out.reserve(size + 1);
    match z.decompress_vec(input, out, FlushDecompress::Finish) {
        Ok(Status::StreamEnd) if out.len() == size => Ok(()),
        Ok(Status::StreamEnd) => Err(format!(
            "inflated to {} bytes, header says {size}",
            out.len()
        )),
        Ok(_) => Err("zlib stream truncated or longer than its header says".into()),
        Err(e) => Err(format!("zlib: {e}")),
    }
}

/// A version 2 pack index.
pub struct PackIndex {
    fanout: [u32; 256],
    /// `n` sorted 20-byte ids.
    names: Vec<u8>,
    /// Pack offset of each id.
    offsets: Vec<u64>,
}

impl PackIndex {
    /// Parses an idx file's bytes; `None` for anything this reader does
    /// not handle (version 1, SHA-256, damage), which the fallback reads.
    pub fn parse(data: &[u8]) -> Result<PackIndex, String> {
        if data.len() < 8 + 1024 + 40 || data[..4] != [0xff, b't', b'O', b'c'] {
            return Err("not a version 2 pack index".into());
        }
        if u32::from_be_bytes([data[4], data[5], data[6], data[7]]) != 2 {
            return Err("unsupported pack index version".into());
        }
        let be32 =
            |at: usize| u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
        let mut fanout = [0u32; 256];
        let mut prev = 0;
        for (k, f) in fanout.iter_mut().enumerate() {
            *f = be32(8 + 4 * k);
            if *f < prev {
                return Err("pack index fanout not monotonic".into());
            }
            prev = *f;
        }
        let n = fanout[255] as usize;
        let fixed = 8 + 1024 + n * 28 + 40;
        if data.len() < fixed || !(data.len() - fixed).is_multiple_of(8) {
            return Err("pack index size does not fit a SHA-1 index".into());
        }
        let large = (data.len() - fixed) / 8;
        let names_at = 8 + 1024;
        let names = data[names_at..names_at + n * 20].to_vec();
        for k in 1..n {
            if names[(k - 1) * 20..k * 20] >= names[k * 20..(k + 1) * 20] {
                return Err("pack index ids not sorted".into());
            }
        }
        for k in 0..n {
            let first = u32::from(names[k * 20]);
            let lo = if first == 0 {
                0
            } else {
                fanout[first as usize - 1]
            };
            if (k as u32) < lo || k as u32 >= fanout[first as usize] {
                return Err("pack index fanout does not match its ids".into());
            }
        }
        let off_at = names_at + n * 24;
        let large_at = off_at + n * 4;
        let mut offsets = Vec::with_capacity(n);
        for k in 0..n {
            let o = be32(off_at + 4 * k);
            if o & 0x8000_0000 != 0 {
                let j = (o & 0x7fff_ffff) as usize;
                if j >= large {
                    return Err("pack index large offset out of range".into());
                }
                let at = large_at + 8 * j;
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[at..at + 8]);
                offsets.push(u64::from_be_bytes(b));
            } else {
                offsets.push(u64::from(o));
            }
        }
        Ok(PackIndex {
            fanout,
            names,
            offsets,
        })
    }

    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// The pack offset of the object at `pos`.
    pub fn offset(&self, pos: usize) -> u64 {
        self.offsets[pos]
    }

    fn name(&self, pos: usize) -> &[u8] {
        &self.names[pos * 20..pos * 20 + 20]
    }

    /// The position of `id`, if the index has it.
    pub fn find(&self, id: &[u8]) -> Option<usize> {
        let first = *id.first()? as usize;
        let mut lo = if first == 0 {
            0
        } else {
            self.fanout[first - 1] as usize
        };
        let mut hi = self.fanout[first] as usize;
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.name(mid).cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }
}

/// What [`read_blobs`] hands to its visitor for one wanted blob.
pub enum Payload<'a> {
    /// The blob's bytes.
    Data(&'a [u8]),
    /// Larger than the size limit: not materialised (when it is nobody's
    /// base) and not to be scanned.
    TooLarge(u64),
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
    F: Fn(Oid, Payload<'_>) + Sync,
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
    F: Fn(Oid, u8, Payload<'_>) + Sync,
{
    read_objects_beside(objects_dir, select, threads, limit, visit, || ()).map(|(r, ())| r)
}

/// [`read_objects`], running `side` as one more task of the same
/// `threads` workers (one worker runs it while the others decode, then it
/// joins them): single-threaded work overlaps decoding without adding a
/// thread.
pub fn read_objects_beside<F, S, R>(
    objects_dir: &Path,
    select: Select<'_>,
    threads: usize,
    limit: u64,
    visit: F,
    side: S,
) -> Result<(PackReport, R)>
where
    F: Fn(Oid, u8, Payload<'_>) + Sync,
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
            for idx_path in packs(objects_dir) {
                match Pack::open(&idx_path) {
                    Ok(pack) => {
                        report.packs_read += 1;
                        let forest = pack.forest(select, &mut claimed, &mut report);
                        forest.decode(&pack, limit, &visit, &mut report);
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

fn note(report: &mut PackReport, msg: String) {
    if report.errors.len() < crate::stats::MAX_ERRORS_KEPT {
        report.errors.push(msg);
    }
}

/// One open pack: its index and file.
struct Pack {
    index: PackIndex,
    file: File,
    /// Where entry data may end: 20 bytes (the checksum) before EOF.
    data_end: u64,
}

impl Pack {
    fn open(idx_path: &Path) -> Result<Pack> {
        let data =
            std::fs::read(idx_path).with_context(|| format!("reading {}", idx_path.display()))?;
        let index = PackIndex::parse(&data).map_err(anyhow::Error::msg)?;
        drop(data);
        let pack_path = idx_path.with_extension("pack");
        let file =
            File::open(&pack_path).with_context(|| format!("opening {}", pack_path.display()))?;
        let len = file.metadata()?.len();
        let mut head = [0u8; 12];
        if len < 32 || file.read_exact_at(&mut head, 0).is_err() || &head[..4] != b"PACK" {
            bail!("{} is not a pack", pack_path.display());
        }
        let version = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
        let count = u32::from_be_bytes([head[8], head[9], head[10], head[11]]);
        if version != 2 && version != 3 {
            bail!("unsupported pack version {version}");
        }
        if count as usize != index.len() {
            bail!("pack has {count} entries, its index {}", index.len());
        }
        Ok(Pack {
            index,
            file,
            data_end: len - 20,
        })
    }

    /// Parses every entry header and links deltas to their bases; marks
    /// the entries needed to produce the wanted blobs not claimed by an
    /// earlier pack.
    fn forest(&self, select: Select<'_>, claimed: &mut OidSet, report: &mut PackReport) -> Forest {
        let n = self.index.len();
        // Entries in offset order.
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_unstable_by_key(|&p| self.index.offsets[p as usize]);
        let off: Vec<u64> = order
            .iter()
            .map(|&p| self.index.offsets[p as usize])
            .collect();
        let mut e_of_pos = vec![NONE; n];
        for (e, &p) in order.iter().enumerate() {
            e_of_pos[p as usize] = e as u32;
        }
        let mut kind = vec![0u8; n];
        let mut size = vec![0u64; n];
        let mut hdr = vec![0u8; n];
        let mut end = vec![0u64; n];
        let mut parent = vec![NONE; n];
        let mut window = Window::default();
        for e in 0..n {
            let o = off[e];
            let next = off[e + 1..]
                .iter()
                .copied()
                .find(|&x| x != o)
                .unwrap_or(self.data_end);
            let dup = (e > 0 && off[e - 1] == o) || (e + 1 < n && off[e + 1] == o);
            if dup || o < 12 || o >= self.data_end {
                report.entry_errors += 1;
                note(
                    report,
                    format!("pack entry at offset {o}: outside the pack or shared"),
                );
                continue;
            }
            let stop = next.min(self.data_end);
            let parsed = window
                .bytes(&self.file, o, (stop - o).min(MAX_HEADER) as usize)
                .map_err(|e| e.to_string())
                .and_then(|b| parse_entry_header(b).map_err(str::to_string));
            let h = match parsed {
                Ok(h) if (h.len as u64) < stop - o => h,
                Ok(_) => {
                    report.entry_errors += 1;
                    note(
                        report,
                        format!("pack entry at offset {o}: no data after its header"),
                    );
                    continue;
                }
                Err(msg) => {
                    report.entry_errors += 1;
                    note(report, format!("pack entry at offset {o}: {msg}"));
                    continue;
                }
            };
            let base = match h.base {
                Base::None => NONE,
                Base::Ofs(d) => match o.checked_sub(d).filter(|_| d > 0) {
                    Some(b) => off.binary_search(&b).map(|x| x as u32).unwrap_or(NONE),
                    None => NONE,
                },
                Base::Ref(id) => self.index.find(&id).map(|p| e_of_pos[p]).unwrap_or(NONE),
            };
            if h.base != Base::None && (base == NONE || base as usize == e) {
                // A base outside this pack (thin pack) or nowhere.
                report.entry_errors += 1;
                note(
                    report,
                    format!("pack entry at offset {o}: delta base not in this pack"),
                );
                continue;
            }
            kind[e] = h.kind;
            size[e] = h.size;
            hdr[e] = h.len as u8;
            end[e] = stop;
            parent[e] = base;
        }
        drop(window);
        // The type of each entry's chain root (a delta has its base's
        // type); UNRESOLVED for chains with a bad entry or a cycle.
        const UNRESOLVED: u8 = 0xff;
        const VISITING: u8 = 0xfe;
        let mut root_kind = vec![0u8; n];
        let mut path = Vec::new();
        for e in 0..n {
            if root_kind[e] != 0 {
                continue;
            }
            path.clear();
            let mut x = e;
            let k = loop {
                match root_kind[x] {
                    0 => {}
                    VISITING => break UNRESOLVED,
                    k => break k,
                }
                if kind[x] == 0 {
                    break UNRESOLVED;
                }
                path.push(x);
                root_kind[x] = VISITING;
                if parent[x] == NONE {
                    break kind[x];
                }
                x = parent[x] as usize;
            };
            for &p in &path {
                root_kind[p] = k;
            }
        }
        // Wanted entries and everything above them.
        let mut want = vec![false; n];
        let mut needed = vec![false; n];
        let mut oid = Vec::with_capacity(n);
        for (e, &p) in order.iter().enumerate() {
            let id = Oid::from_bytes(self.index.name(p as usize)).unwrap_or_else(|_| Oid::zero());
            oid.push(id);
            let selected = match select {
                Select::Blobs(w) => root_kind[e] == BLOB && w.contains(&id),
                Select::Kinds(k) => k.contains(&root_kind[e]),
            };
            if kind[e] == 0 || !selected || claimed.contains(&id) {
                continue;
            }
            claimed.insert(id);
            want[e] = true;
            let mut x = e as u32;
            // Marking stops at the first entry already marked, so a cycle
            // of REF_DELTA links ends the climb (and is never decoded: no
            // root leads into it).
            while x != NONE && !needed[x as usize] {
                needed[x as usize] = true;
                x = parent[x as usize];
            }
        }
        // Children of needed entries, as offsets into one array.
        let mut first_child = vec![0u32; n + 1];
        for e in 0..n {
            if needed[e] && parent[e] != NONE {
                first_child[parent[e] as usize + 1] += 1;
            }
        }
        for e in 0..n {
            first_child[e + 1] += first_child[e];
        }
        let mut fill = first_child.clone();
        let mut children = vec![0u32; first_child[n] as usize];
        for e in 0..n {
            if needed[e] && parent[e] != NONE {
                let p = parent[e] as usize;
                children[fill[p] as usize] = e as u32;
                fill[p] += 1;
            }
        }
        let roots = (0..n as u32)
            .filter(|&e| needed[e as usize] && parent[e as usize] == NONE && kind[e as usize] != 0)
            .collect();
        Forest {
            off,
            oid,
            kind,
            size,
            hdr,
            end,
            want,
            first_child,
            children,
            roots,
        }
    }
}

/// A buffered view of the pack for reading headers in offset order.
#[derive(Default)]
struct Window {
    buf: Vec<u8>,
    start: u64,
}

impl Window {
    fn bytes(&mut self, file: &File, at: u64, len: usize) -> std::io::Result<&[u8]> {
        let inside = at >= self.start && at + len as u64 <= self.start + self.buf.len() as u64;
        if !inside {
            self.buf.resize(HEADER_CHUNK.max(len), 0);
            let mut got = 0;
            while got < self.buf.len() {
                match file.read_at(&mut self.buf[got..], at + got as u64) {
                    Ok(0) => break,
                    Ok(k) => got += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            self.buf.truncate(got);
            self.start = at;
            if got < len {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "pack ends inside an entry header",
                ));
            }
        }
        let from = (at - self.start) as usize;
        Ok(&self.buf[from..from + len])
    }
}

/// One pack's delta forest, restricted to what the wanted blobs need.
struct Forest {
    off: Vec<u64>,
    oid: Vec<Oid>,
    /// Type code, 0 for an entry that failed to parse.
    kind: Vec<u8>,
    size: Vec<u64>,
    hdr: Vec<u8>,
    end: Vec<u64>,
    want: Vec<bool>,
    first_child: Vec<u32>,
    children: Vec<u32>,
    roots: Vec<u32>,
}

/// Per-thread buffers and inflater, reused across objects.
struct State {
    z: Decompress,
    input: Vec<u8>,
    delta: Vec<u8>,
    leaf: Vec<u8>,
}

impl State {
    fn new() -> State {
        State {
            z: Decompress::new(false),
            input: Vec::new(),
            delta: Vec::new(),
            leaf: Vec::new(),
        }
    }

    fn trim(&mut self) {
        for b in [&mut self.input, &mut self.delta, &mut self.leaf] {
            if b.capacity() > KEEP_BUFFER {
                *b = Vec::new();
            }
        }
    }
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's buffers (a fresh set if they are in use
/// further up the stack).
fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    let mut st = STATE
        .with(|c| c.borrow_mut().take())
        .unwrap_or_else(State::new);
    let r = f(&mut st);
    st.trim();
    STATE.with(|c| *c.borrow_mut() = Some(st));
    r
}

/// Shared by the workers decoding one pack.
struct Job<'a, F> {
    forest: &'a Forest,
    pack: &'a Pack,
    limit: u64,
    visit: &'a F,
    delivered: Vec<AtomicBool>,
    decoded: AtomicU64,
    failed: AtomicU64,
    errors: Mutex<Vec<String>>,
}

impl Forest {
    fn kids(&self, e: u32) -> &[u32] {
        let e = e as usize;
        &self.children[self.first_child[e] as usize..self.first_child[e + 1] as usize]
    }

    fn decode<F>(&self, pack: &Pack, limit: u64, visit: &F, report: &mut PackReport)
    where
        F: Fn(Oid, u8, Payload<'_>) + Sync,
    {
        use rayon::prelude::*;
        let job = Job {
            forest: self,
            pack,
            limit,
            visit,
            delivered: (0..self.oid.len())
                .map(|_| AtomicBool::new(false))
                .collect(),
            decoded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            errors: Mutex::new(Vec::new()),
        };
        self.roots.par_iter().for_each(|&r| {
            let kind = self.kind[r as usize];
            if self.kids(r).is_empty() {
                // No scope for a lone object: nothing to spawn.
                job.walk(None, r, None, kind);
            } else {
                rayon::scope(|s| job.walk(Some(s), r, None, kind));
            }
        });
        for (e, d) in job.delivered.iter().enumerate() {
            if d.load(Ordering::Relaxed) {
                report.delivered.insert(self.oid[e]);
            }
        }
        report.objects_decoded += job.decoded.into_inner();
        report.entry_errors += job.failed.into_inner();
        for m in job.errors.into_inner().unwrap_or_else(|e| e.into_inner()) {
            note(report, m);
        }
    }
}

impl<'a, F> Job<'a, F>
where
    F: Fn(Oid, u8, Payload<'_>) + Sync,
{
    /// Decodes `e` (from its parent's content `base` when it is a delta),
    /// hands it over when wanted, then goes down its children: the first
    /// on this thread, the others as tasks other threads may steal.
    fn walk<'s>(
        &'s self,
        s: Option<&rayon::Scope<'s>>,
        mut e: u32,
        mut base: Option<Arc<Vec<u8>>>,
        kind: u8,
    ) where
        'a: 's,
    {
        loop {
            let kids = self.forest.kids(e);
            let content =
                with_state(|st| self.produce(st, e, base.as_deref(), kind, !kids.is_empty()));
            // The parent's bytes are no longer needed here.
            drop(base);
            let (Some(content), Some(s)) = (content, s) else {
                return;
            };
            let Some((&first, rest)) = kids.split_first() else {
                return;
            };
            for &k in rest {
                let c = Arc::clone(&content);
                s.spawn(move |s| self.walk(Some(s), k, Some(c), kind));
            }
            e = first;
            base = Some(content);
        }
    }

    fn fail(&self, e: u32, msg: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut errs = self.errors.lock().unwrap_or_else(|x| x.into_inner());
        if errs.len() < crate::stats::MAX_ERRORS_KEPT {
            errs.push(format!(
                "pack entry {} at offset {}: {msg}",
                self.forest.oid[e as usize], self.forest.off[e as usize]
            ));
        }
    }

    /// Produces entry `e`; visits it when it is a wanted blob; returns its
    /// content when children need it.
    fn produce(
        &self,
        st: &mut State,
        e: u32,
        base: Option<&Vec<u8>>,
        kind: u8,
        keep: bool,
    ) -> Option<Arc<Vec<u8>>> {
        let f = self.forest;
        let i = e as usize;
        let wanted = f.want[i];
        let start = f.off[i] + u64::from(f.hdr[i]);
        // Deflate never grows data by more than 5 bytes per 64 KiB stored
        // block (plus header and trailer): read no more than that, however
        // far the next entry is (a damaged index can make extents huge).
        let most = f.size[i]
            .saturating_add(f.size[i] / 8192)
            .saturating_add(64);
        let len = (f.end[i] - start).min(most) as usize;
        // A wanted root nobody builds on and too large to scan: skip
        // without reading it.
        if wanted && !keep && base.is_none() && f.size[i] > self.limit {
            (self.visit)(f.oid[i], kind, Payload::TooLarge(f.size[i]));
            self.delivered[i].store(true, Ordering::Relaxed);
            return None;
        }
        if st.input.len() < len {
            st.input.resize(len, 0);
        }
        if let Err(err) = self.pack.file.read_exact_at(&mut st.input[..len], start) {
            self.fail(e, format!("reading: {err}"));
            return None;
        }
        let mut out = if keep {
            Vec::new()
        } else {
            std::mem::take(&mut st.leaf)
        };
        let res = match base {
            None => inflate(&mut st.z, &st.input[..len], f.size[i], &mut out),
            Some(b) => {
                inflate(&mut st.z, &st.input[..len], f.size[i], &mut st.delta).and_then(|()| {
                    match delta_target_size(b.len(), &st.delta) {
                        Ok(t) if wanted && !keep && t > self.limit => Err(format!("too-large {t}")),
                        Ok(_) => apply_delta(b, &st.delta, &mut out).map_err(str::to_string),
                        Err(m) => Err(m.to_string()),
                    }
                })
            }
        };
        self.decoded.fetch_add(1, Ordering::Relaxed);
        match res {
            Ok(()) => {}
            Err(m) if m.starts_with("too-large ") => {
                let t = m["too-large ".len()..].parse().unwrap_or(u64::MAX);
                (self.visit)(f.oid[i], kind, Payload::TooLarge(t));
                self.delivered[i].store(true, Ordering::Relaxed);
                if !keep {
                    st.leaf = out;
                }
                return None;
            }
            Err(m) => {
                self.fail(e, m);
                if !keep {
                    st.leaf = out;
                }
                return None;
            }
        }
        if wanted {
            if out.len() as u64 > self.limit {
                (self.visit)(f.oid[i], kind, Payload::TooLarge(out.len() as u64));
            } else {
                (self.visit)(f.oid[i], kind, Payload::Data(&out));
            }
            self.delivered[i].store(true, Ordering::Relaxed);
        }
        if keep {
            Some(Arc::new(out))
        } else {
            st.leaf = out;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_headers_parse() {
        // Blob of 5 bytes.
        let h = parse_entry_header(&[0x35, 0xAA]).unwrap();
        assert_eq!((h.kind, h.size, h.len, h.base), (BLOB, 5, 1, Base::None));
        // A tree whose size continues into a second byte: 1 << 4 = 16.
        let h = parse_entry_header(&[0xA0, 0x01]).unwrap();
        assert_eq!((h.kind, h.size, h.len), (TREE, 16, 2));
        // OFS_DELTA with a two-byte distance: ((1 + 1) << 7) | 5 = 261.
        let h = parse_entry_header(&[0x62, 0x81, 0x05]).unwrap();
        assert_eq!(
            (h.kind, h.size, h.base, h.len),
            (OFS_DELTA, 2, Base::Ofs(261), 3)
        );
        let mut r = vec![0x73];
        r.extend([7u8; 20]);
        let h = parse_entry_header(&r).unwrap();
        assert_eq!((h.kind, h.base, h.len), (REF_DELTA, Base::Ref([7; 20]), 21));
        assert!(parse_entry_header(&r[..10]).is_err());
        assert!(parse_entry_header(&[0x50]).is_err(), "type 5 is reserved");
        assert!(parse_entry_header(&[0x00]).is_err(), "type 0 is invalid");
        assert!(parse_entry_header(&[0xff; 40]).is_err(), "endless size");
        assert!(parse_entry_header(&[]).is_err());
    }

    #[test]
    fn deltas_apply_and_bad_ones_are_errors() {
        let base = b"hello, world";
        // Source 12, target 12: copy "hello" (offset 0, size 5), insert
        // "!!", copy "world" (offset 7, size 5).
        let delta = [12u8, 12, 0x90, 5, 2, b'!', b'!', 0x91, 7, 5];
        let mut out = Vec::new();
        apply_delta(base, &delta, &mut out).unwrap();
        assert_eq!(out, b"hello!!world");
        // Copy past the base.
        let bad = [12u8, 5, 0x91, 10, 5];
        assert!(apply_delta(base, &bad, &mut out).is_err());
        // Wrong source size.
        assert!(apply_delta(base, &[11u8, 1, 1, b'x'], &mut out).is_err());
        // Target shorter / longer than announced.
        assert!(apply_delta(base, &[12u8, 3, 1, b'x'], &mut out).is_err());
        assert!(apply_delta(base, &[12u8, 1, 2, b'x', b'y'], &mut out).is_err());
        // Reserved opcode 0, truncated insert, truncated copy.
        assert!(apply_delta(base, &[12u8, 1, 0], &mut out).is_err());
        assert!(apply_delta(base, &[12u8, 3, 3, b'x'], &mut out).is_err());
        assert!(apply_delta(base, &[12u8, 3, 0x91], &mut out).is_err());
        // Size 0 means 0x10000.
        let big = vec![7u8; 0x10000];
        let d = [0x80u8, 0x80, 4, 0x80, 0x80, 4, 0x80];
        apply_delta(&big, &d, &mut out).unwrap();
        assert_eq!(out, big);
        // Endless varint.
        assert!(apply_delta(base, &[0xff; 12], &mut out).is_err());
    }

    /// Writes a pack of `entries` (type, base, raw data; bases: `Base::Ofs`
    /// holds the index of an earlier entry) with ids 01.., and its index.
    fn write_pack(dir: &Path, entries: &[(u8, Base, Vec<u8>, bool)]) -> PathBuf {
        use std::io::Write;
        let mut pack = b"PACK\0\0\0\x02".to_vec();
        pack.extend((entries.len() as u32).to_be_bytes());
        let mut offsets = Vec::new();
        for (kind, base, data, corrupt) in entries {
            let off = pack.len() as u64;
            offsets.push(off);
            let mut size = data.len();
            let mut b = (kind << 4) | (size & 15) as u8;
            size >>= 4;
            while size > 0 {
                pack.push(b | 0x80);
                b = (size & 0x7f) as u8;
                size >>= 7;
            }
            pack.push(b);
            match base {
                Base::None => {}
                Base::Ofs(e) => {
                    let mut d = off - offsets[*e as usize];
                    let mut enc = vec![(d & 0x7f) as u8];
                    d >>= 7;
                    while d > 0 {
                        d -= 1;
                        enc.push(0x80 | (d & 0x7f) as u8);
                        d >>= 7;
                    }
                    enc.reverse();
                    pack.extend(enc);
                }
                Base::Ref(id) => pack.extend(id),
            }
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(data).unwrap();
            let mut zd = z.finish().unwrap();
            if *corrupt {
                let n = zd.len();
                zd[n / 2] ^= 0xff;
                zd[2] = 0xff;
            }
            pack.extend(zd);
        }
        pack.extend([0u8; 20]);
        let n = entries.len();
        let id = |k: usize| {
            let mut id = [0u8; 20];
            id[0] = k as u8 + 1;
            id
        };
        let mut idx = vec![0xff, b't', b'O', b'c', 0, 0, 0, 2];
        for f in 0..256usize {
            let c = (0..n).filter(|&k| (id(k)[0] as usize) <= f).count() as u32;
            idx.extend(c.to_be_bytes());
        }
        for k in 0..n {
            idx.extend(id(k));
        }
        idx.extend(std::iter::repeat_n(0u8, 4 * n));
        for k in 0..n {
            idx.extend((offsets[k] as u32).to_be_bytes());
        }
        idx.extend([0u8; 40]);
        std::fs::create_dir_all(dir.join("pack")).unwrap();
        std::fs::write(dir.join("pack/pack-test.pack"), pack).unwrap();
        std::fs::write(dir.join("pack/pack-test.idx"), idx).unwrap();
        dir.to_path_buf()
    }

    #[test]
    fn thin_bases_cycles_and_corrupt_entries_are_left_to_the_fallback() {
        let t = tempfile::tempdir().unwrap();
        let oid = |k: u8| {
            let mut id = [0u8; 20];
            id[0] = k;
            id
        };
        let to_b = vec![12u8, 12, 0x90, 5, 2, b'!', b'!', 0x91, 7, 5];
        let to_c = vec![12u8, 5, 0x90, 5];
        let objects = write_pack(
            t.path(),
            &[
                (BLOB, Base::None, b"hello, world".to_vec(), false),
                (OFS_DELTA, Base::Ofs(0), to_b, false),
                (REF_DELTA, Base::Ref(oid(1)), to_c.clone(), false),
                // A thin-pack base: not in this pack.
                (REF_DELTA, Base::Ref(oid(0xee)), to_c.clone(), false),
                // Two deltas based on each other.
                (REF_DELTA, Base::Ref(oid(6)), to_c.clone(), false),
                (REF_DELTA, Base::Ref(oid(5)), to_c.clone(), false),
                // Below the thin one.
                (OFS_DELTA, Base::Ofs(3), to_c, false),
                // A damaged zlib stream.
                (BLOB, Base::None, b"some text here".repeat(20), true),
            ],
        );
        let wanted: OidSet = (1..=8u8)
            .map(|k| Oid::from_bytes(&oid(k)).unwrap())
            .collect();
        let got = Mutex::new(Vec::new());
        let report = read_blobs(&objects, &wanted, 2, u64::MAX, |o, p| {
            if let Payload::Data(d) = p {
                got.lock().unwrap().push((o.as_bytes()[0], d.to_vec()));
            }
        })
        .unwrap();
        let mut got = got.into_inner().unwrap();
        got.sort();
        assert_eq!(
            got,
            vec![
                (1, b"hello, world".to_vec()),
                (2, b"hello!!world".to_vec()),
                (3, b"hello".to_vec()),
            ]
        );
        assert_eq!(report.delivered.len(), 3);
        // The thin delta at parse time, the damaged stream at decode time.
        assert_eq!(report.entry_errors, 2, "{:?}", report.errors);
    }
}
