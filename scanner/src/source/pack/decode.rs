//! Decoding one pack: entry headers in offset order, the delta forest
//! (each delta linked to its base), and a walk from the undeltified roots
//! down that produces every needed object once, on a rayon pool.

use std::cell::RefCell;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result, bail};
use libdeflater::Decompressor;

use super::format::{
    Base, PackIndex, apply_delta_traced, delta_target_size, inflate, parse_entry_header,
};
use super::{
    BLOB, FromBase, HEADER_CHUNK, Id, KEEP_BUFFER, MAX_HEADER, NONE, OidSet, PackReport, Payload,
    Select, note,
};
use crate::keywords::Piece;

/// One open pack: its index and file.
pub(super) struct Pack {
    /// The parsed index, until the layout is built from it (the layout
    /// holds what later passes need: the index is not kept besides it).
    index: Mutex<Option<PackIndex>>,
    file: File,
    /// Where entry data may end: 20 bytes (the checksum) before EOF.
    data_end: u64,
    /// Entry headers and delta links, parsed on first use.
    layout: OnceLock<Layout>,
}

/// A pack's entries in offset order: what every pass over the pack needs,
/// whatever it selects.
struct Layout {
    off: Offsets,
    /// Where entry data may end (see [`Pack::data_end`]): an entry's data
    /// ends where the next one starts, or here.
    data_end: u64,
    /// Where each entry's data ends, once the layout no longer holds every
    /// entry (see [`Pack::retain`]).
    ends: Option<Offsets>,
    oid: Vec<Id>,
    /// Type code, 0 for an entry that failed to parse.
    kind: Vec<u8>,
    /// The size from the entry's header, [`u32::MAX`] for any larger
    /// (beyond [`super::MAX_OBJECT`] either way: never decoded).
    size: Vec<u32>,
    hdr: Vec<u8>,
    /// Each delta's base entry, or `NONE`.
    parent: Vec<u32>,
    /// The type of each entry's chain root; `UNRESOLVED` for chains with a
    /// bad entry or a cycle.
    root_kind: Vec<u8>,
    /// Entries that failed to parse, and the first few reasons.
    entry_errors: u64,
    errors: Vec<String>,
}

impl Layout {
    /// Where entry `i`'s data ends (an entry that parsed has an offset of
    /// its own: the next entry's offset is larger).
    #[inline]
    fn end(&self, i: usize) -> u64 {
        if let Some(ends) = &self.ends {
            ends.get(i)
        } else if i + 1 < self.off.len() {
            self.off.get(i + 1).min(self.data_end)
        } else {
            self.data_end
        }
    }

    #[inline]
    fn size(&self, i: usize) -> u64 {
        u64::from(self.size[i])
    }

    /// Bytes held per entry.
    fn entry_bytes(&self) -> usize {
        self.off.width() + self.ends.as_ref().map_or(0, Offsets::width) + 20 + 1 + 4 + 1 + 4 + 1
    }

    /// The entries whose chain root has type `kind` (a delta's base has
    /// the same root), in the same order, bases renumbered.
    fn retain(&self, kind: u8) -> Layout {
        let n = self.oid.len();
        let mut new = vec![NONE; n];
        let mut keep = Vec::new();
        for (e, slot) in new.iter_mut().enumerate() {
            if self.kind[e] != 0 && self.root_kind[e] == kind {
                *slot = keep.len() as u32;
                keep.push(e);
            }
        }
        let pick = |v: &[u8]| keep.iter().map(|&e| v[e]).collect::<Vec<u8>>();
        Layout {
            off: Offsets::new(keep.iter().map(|&e| self.off.get(e)).collect()),
            data_end: self.data_end,
            ends: Some(Offsets::new(keep.iter().map(|&e| self.end(e)).collect())),
            oid: keep.iter().map(|&e| self.oid[e]).collect(),
            kind: pick(&self.kind),
            size: keep.iter().map(|&e| self.size[e]).collect(),
            hdr: pick(&self.hdr),
            parent: keep
                .iter()
                .map(|&e| match self.parent[e] {
                    NONE => NONE,
                    p => new[p as usize],
                })
                .collect(),
            root_kind: pick(&self.root_kind),
            entry_errors: self.entry_errors,
            errors: self.errors.clone(),
        }
    }
}

/// Entry offsets in increasing order, four bytes each in a pack under
/// 4 GiB.
#[derive(Debug, PartialEq)]
enum Offsets {
    Small(Vec<u32>),
    Large(Vec<u64>),
}

impl Offsets {
    fn new(off: Vec<u64>) -> Offsets {
        match off.last() {
            Some(&o) if o > u64::from(u32::MAX) => Offsets::Large(off),
            _ => Offsets::Small(off.into_iter().map(|o| o as u32).collect()),
        }
    }

    #[inline]
    fn get(&self, i: usize) -> u64 {
        match self {
            Offsets::Small(v) => u64::from(v[i]),
            Offsets::Large(v) => v[i],
        }
    }

    fn len(&self) -> usize {
        match self {
            Offsets::Small(v) => v.len(),
            Offsets::Large(v) => v.len(),
        }
    }

    fn width(&self) -> usize {
        match self {
            Offsets::Small(_) => 4,
            Offsets::Large(_) => 8,
        }
    }
}

impl Pack {
    pub(super) fn open(idx_path: &Path) -> Result<Pack> {
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
            index: Mutex::new(Some(index)),
            file,
            data_end: len - 20,
            layout: OnceLock::new(),
        })
    }

    /// Parses every entry header and links deltas to their bases (once per
    /// pack: later passes reuse it).
    fn layout(&self) -> &Layout {
        self.layout.get_or_init(|| {
            let n = self.layout_index(|i| i.len());
            let pieces = (n / 16_384).clamp(1, 4 * rayon::current_num_threads().max(1));
            let l = self.parse_layout(pieces);
            *self.index.lock().unwrap_or_else(|e| e.into_inner()) = None;
            l
        })
    }

    /// Keeps only the entries of chains whose root has type `kind`: later
    /// passes select no other (their headers are parsed first if they
    /// were not yet).
    pub(super) fn retain(&mut self, kind: u8) {
        let kept = self.layout().retain(kind);
        self.layout = OnceLock::from(kept);
    }

    /// Runs `f` with the parsed index (an empty one once the layout is
    /// built, which never asks again).
    fn layout_index<R>(&self, f: impl FnOnce(&PackIndex) -> R) -> R {
        let guard = self.index.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(i) => f(i),
            None => f(&PackIndex::default()),
        }
    }

    /// The layout, headers parsed in `pieces` ranges.
    fn parse_layout(&self, pieces: usize) -> Layout {
        self.layout_index(|index| self.parse_layout_with(index, pieces))
    }

    fn parse_layout_with(&self, index: &PackIndex, pieces: usize) -> Layout {
        // Parse problems, replayed into each pass's report.
        let mut report = PackReport::default();
        let report = &mut report;
        let n = index.len();
        // Entries in offset order.
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_unstable_by_key(|&p| index.offset(p as usize));
        let off: Vec<u64> = order.iter().map(|&p| index.offset(p as usize)).collect();
        let mut e_of_pos = vec![NONE; n];
        for (e, &p) in order.iter().enumerate() {
            e_of_pos[p as usize] = e as u32;
        }
        // Headers are parsed in consecutive ranges of entries, in parallel
        // (this runs before any decoding can start), each range through its
        // own window, then joined in offset order.
        let pieces = pieces.clamp(1, n.max(1));
        let parts: Vec<Headers> = {
            use rayon::prelude::*;
            (0..pieces)
                .into_par_iter()
                .map(|k| {
                    self.parse_headers(index, k * n / pieces..(k + 1) * n / pieces, &off, &e_of_pos)
                })
                .collect()
        };
        let mut kind = Vec::with_capacity(n);
        let mut size = Vec::with_capacity(n);
        let mut hdr = Vec::with_capacity(n);
        let mut parent = Vec::with_capacity(n);
        for part in parts {
            kind.extend(part.kind);
            size.extend(part.size);
            hdr.extend(part.hdr);
            parent.extend(part.parent);
            report.entry_errors += part.report.entry_errors;
            for m in part.report.errors {
                note(report, m);
            }
        }
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
        let mut oid = Vec::with_capacity(n);
        for &p in &order {
            oid.push(Id::from_slice(index.name(p as usize)).unwrap_or_default());
        }
        Layout {
            off: Offsets::new(off),
            data_end: self.data_end,
            ends: None,
            oid,
            kind,
            size,
            hdr,
            parent,
            root_kind,
            entry_errors: report.entry_errors,
            errors: std::mem::take(&mut report.errors),
        }
    }

    /// Entry headers of the entries `range` (in offset order `off`).
    fn parse_headers(
        &self,
        index: &PackIndex,
        range: std::ops::Range<usize>,
        off: &[u64],
        e_of_pos: &[u32],
    ) -> Headers {
        let n = off.len();
        let len = range.len();
        let mut h_out = Headers {
            kind: vec![0u8; len],
            size: vec![0u32; len],
            hdr: vec![0u8; len],
            parent: vec![NONE; len],
            report: PackReport::default(),
        };
        let first = range.start;
        let report = &mut h_out.report;
        let mut window = Window::default();
        for e in range {
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
                Base::Ref(id) => index.find(&id).map(|p| e_of_pos[p]).unwrap_or(NONE),
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
            let i = e - first;
            h_out.kind[i] = h.kind;
            h_out.size[i] = u32::try_from(h.size).unwrap_or(u32::MAX);
            h_out.hdr[i] = h.len as u8;
            h_out.parent[i] = base;
        }
        h_out
    }

    /// Marks the entries needed to produce the selected objects not
    /// claimed by an earlier pack (headers parsed by [`Pack::layout`]);
    /// the selected ones are added to `claimed` when `claim` (not for the
    /// last pack: no later one asks).
    pub(super) fn forest(
        &self,
        select: Select<'_>,
        (claimed, claim): (&mut OidSet, bool),
        report: &mut PackReport,
    ) -> Forest<'_> {
        let l = self.layout();
        report.entry_errors += l.entry_errors;
        for m in &l.errors {
            note(report, m.clone());
        }
        let n = l.oid.len();
        let (kind, parent, root_kind) = (&l.kind, &l.parent, &l.root_kind);

        // Wanted entries and everything above them.
        let mut want = vec![false; n];
        let mut needed = vec![false; n];
        for (e, &id) in l.oid.iter().enumerate() {
            let selected = match select {
                Select::Blobs(w) => root_kind[e] == BLOB && w.contains(&id),
                Select::Kinds(k) => k.contains(&root_kind[e]),
            };
            let fresh = if claim {
                claimed.insert(id)
            } else {
                !claimed.contains(&id)
            };
            if kind[e] == 0 || !selected || !fresh {
                continue;
            }
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
            layout: l,
            want,
            first_child,
            children,
            roots,
        }
    }
}

impl Pack {
    /// The entries whose chain root has type `kind`, in offset order, each
    /// with the position of its delta base in that list (or `NONE`), and
    /// the bytes of each as stored, inflated (a delta's own instructions,
    /// not the object), handed to `keep` on the current rayon pool. An
    /// entry that does not read or inflate gets `None`.
    pub(super) fn stored<T, F>(&self, kind: u8, keep: &F) -> Vec<super::Stored<T>>
    where
        T: Send,
        F: Fn(&[u8]) -> T + Sync,
    {
        use rayon::prelude::*;
        let l = self.layout();
        let n = l.oid.len();
        let mut pos = vec![NONE; n];
        let mut list: Vec<u32> = Vec::new();
        for (e, p) in pos.iter_mut().enumerate() {
            if l.kind[e] != 0 && l.root_kind[e] == kind {
                *p = list.len() as u32;
                list.push(e as u32);
            }
        }
        list.par_chunks(256)
            .flat_map_iter(|chunk| {
                with_state(|st| {
                    chunk
                        .iter()
                        .map(|&e| {
                            let i = e as usize;
                            let base = if l.parent[i] == NONE {
                                NONE
                            } else {
                                pos[l.parent[i] as usize]
                            };
                            let data = self.inflate_stored(st, i).map(keep);
                            super::Stored {
                                id: l.oid[i],
                                base,
                                data,
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect()
    }

    /// Entry `i`'s stored bytes, inflated into the thread's buffer.
    fn inflate_stored<'s>(&self, st: &'s mut State, i: usize) -> Option<&'s [u8]> {
        let l = self.layout();
        let start = l.off.get(i) + u64::from(l.hdr[i]);
        let most = l
            .size(i)
            .saturating_add(l.size(i) / 8192)
            .saturating_add(64);
        let len = (l.end(i).checked_sub(start)?).min(most) as usize;
        if st.input.len() < len {
            st.input.resize(len, 0);
        }
        self.file.read_exact_at(&mut st.input[..len], start).ok()?;
        inflate(&mut st.z, &st.input[..len], l.size(i), &mut st.delta).ok()?;
        Some(&st.delta)
    }

    /// Entries whose chain root has type `kind` (their headers parsed).
    pub(super) fn count(&self, kind: u8) -> usize {
        let l = self.layout();
        (0..l.kind.len())
            .filter(|&e| l.kind[e] != 0 && l.root_kind[e] == kind)
            .count()
    }

    /// Bytes the parsed entry headers of this pack hold (0 before any pass).
    pub(super) fn layout_bytes(&self) -> u64 {
        self.layout
            .get()
            .map_or(0, |l| (l.oid.len() * l.entry_bytes()) as u64)
            + self.layout_index(PackIndex::heap_bytes)
    }
}

/// Parsed headers of a range of entries (see [`Pack::parse_headers`]).
struct Headers {
    kind: Vec<u8>,
    size: Vec<u32>,
    hdr: Vec<u8>,
    parent: Vec<u32>,
    report: PackReport,
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
pub(super) struct Forest<'p> {
    /// The pack's entries (shared by every pass over the pack).
    layout: &'p Layout,
    want: Vec<bool>,
    first_child: Vec<u32>,
    children: Vec<u32>,
    roots: Vec<u32>,
}

/// Per-thread buffers and inflater, reused across objects.
struct State {
    z: Decompressor,
    input: Vec<u8>,
    delta: Vec<u8>,
    leaf: Vec<u8>,
    pieces: Vec<Piece>,
}

impl State {
    fn new() -> State {
        State {
            z: Decompressor::new(),
            input: Vec::new(),
            delta: Vec::new(),
            leaf: Vec::new(),
            pieces: Vec::new(),
        }
    }

    fn trim(&mut self) {
        for b in [&mut self.input, &mut self.delta, &mut self.leaf] {
            if b.capacity() > KEEP_BUFFER {
                *b = Vec::new();
            }
        }
        if self.pieces.capacity() > KEEP_BUFFER / 16 {
            self.pieces = Vec::new();
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

/// An object children are built from: its bytes, and what the visitor
/// returned for it.
struct Node<M> {
    data: Vec<u8>,
    memo: Option<M>,
}

/// Shared by the workers decoding one pack.
struct Job<'a, F> {
    forest: &'a Forest<'a>,
    pack: &'a Pack,
    limit: u64,
    visit: &'a F,
    delivered: Vec<AtomicBool>,
    decoded: AtomicU64,
    failed: AtomicU64,
    errors: Mutex<Vec<String>>,
}

impl Forest<'_> {
    fn kids(&self, e: u32) -> &[u32] {
        let e = e as usize;
        &self.children[self.first_child[e] as usize..self.first_child[e + 1] as usize]
    }

    /// Decodes the forest, visiting the wanted objects; their ids are
    /// added to [`PackReport::delivered`] when `record`.
    pub(super) fn decode<F, M>(
        &self,
        pack: &Pack,
        (limit, record): (u64, bool),
        visit: &F,
        report: &mut PackReport,
    ) where
        F: Fn(Id, u8, Payload<'_>, Option<FromBase<'_, M>>) -> Option<M> + Sync,
        M: Send + Sync,
    {
        use rayon::prelude::*;
        let job = Job {
            forest: self,
            pack,
            limit,
            visit,
            delivered: (0..self.layout.oid.len())
                .map(|_| AtomicBool::new(false))
                .collect(),
            decoded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            errors: Mutex::new(Vec::new()),
        };
        self.roots.par_iter().for_each(|&r| {
            let kind = self.layout.kind[r as usize];
            if self.kids(r).is_empty() {
                // No scope for a lone object: nothing to spawn.
                job.walk(None, r, None, kind);
            } else {
                rayon::scope(|s| job.walk(Some(s), r, None, kind));
            }
        });
        for (e, d) in job.delivered.iter().enumerate() {
            if record && d.load(Ordering::Relaxed) {
                report.delivered.insert(self.layout.oid[e]);
            }
        }
        report.objects_decoded += job.decoded.into_inner();
        report.entry_errors += job.failed.into_inner();
        for m in job.errors.into_inner().unwrap_or_else(|e| e.into_inner()) {
            note(report, m);
        }
    }
}

impl<'a, F> Job<'a, F> {
    /// Decodes `e` (from its parent's content `base` when it is a delta),
    /// hands it over when wanted, then goes down its children: the first
    /// on this thread, the others as tasks other threads may steal.
    fn walk<'s, M>(
        &'s self,
        s: Option<&rayon::Scope<'s>>,
        mut e: u32,
        mut base: Option<Arc<Node<M>>>,
        kind: u8,
    ) where
        'a: 's,
        F: Fn(Id, u8, Payload<'_>, Option<FromBase<'_, M>>) -> Option<M> + Sync,
        M: Send + Sync + 's,
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
                self.forest.layout.oid[e as usize],
                self.forest.layout.off.get(e as usize)
            ));
        }
    }

    /// Produces entry `e`; visits it when it is a wanted blob; returns its
    /// content when children need it.
    fn produce<M>(
        &self,
        st: &mut State,
        e: u32,
        base: Option<&Node<M>>,
        kind: u8,
        keep: bool,
    ) -> Option<Arc<Node<M>>>
    where
        F: Fn(Id, u8, Payload<'_>, Option<FromBase<'_, M>>) -> Option<M> + Sync,
    {
        let f = self.forest;
        let l = f.layout;
        let i = e as usize;
        let wanted = f.want[i];
        let start = l.off.get(i) + u64::from(l.hdr[i]);
        let size = l.size(i);
        // Deflate never grows data by more than 5 bytes per 64 KiB stored
        // block (plus header and trailer): read no more than that, however
        // far the next entry is (a damaged index can make extents huge).
        let most = size.saturating_add(size / 8192).saturating_add(64);
        let len = (l.end(i) - start).min(most) as usize;
        // A wanted root nobody builds on and too large to scan: skip
        // without reading it.
        if wanted && !keep && base.is_none() && size > self.limit {
            (self.visit)(l.oid[i], kind, Payload::TooLarge(size), None);
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
        // The delta's runs, when the visitor has a memo of the base to
        // derive from.
        let trace = wanted && base.is_some_and(|b| b.memo.is_some());
        let res = match base {
            None => inflate(&mut st.z, &st.input[..len], size, &mut out),
            Some(b) => inflate(&mut st.z, &st.input[..len], size, &mut st.delta).and_then(|()| {
                match delta_target_size(b.data.len(), &st.delta) {
                    Ok(t) if wanted && !keep && t > self.limit => Err(format!("too-large {t}")),
                    Ok(_) => apply_delta_traced(
                        &b.data,
                        &st.delta,
                        &mut out,
                        trace.then_some(&mut st.pieces),
                    )
                    .map_err(str::to_string),
                    Err(m) => Err(m.to_string()),
                }
            }),
        };
        self.decoded.fetch_add(1, Ordering::Relaxed);
        match res {
            Ok(()) => {}
            Err(m) if m.starts_with("too-large ") => {
                let t = m["too-large ".len()..].parse().unwrap_or(u64::MAX);
                (self.visit)(l.oid[i], kind, Payload::TooLarge(t), None);
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
        let mut memo = None;
        if wanted {
            if out.len() as u64 > self.limit {
                (self.visit)(l.oid[i], kind, Payload::TooLarge(out.len() as u64), None);
            } else {
                let from = match base {
                    Some(Node {
                        memo: Some(memo), ..
                    }) if trace => Some(FromBase {
                        memo,
                        pieces: &st.pieces,
                    }),
                    _ => None,
                };
                memo = (self.visit)(l.oid[i], kind, Payload::Data(&out), from);
            }
            self.delivered[i].store(true, Ordering::Relaxed);
        }
        if keep {
            Some(Arc::new(Node { data: out, memo }))
        } else {
            st.leaf = out;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::*;
    use super::*;

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
        for &off in offsets.iter().take(n) {
            idx.extend((off as u32).to_be_bytes());
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
        let wanted: OidSet = (1..=8u8).map(|k| Id(oid(k))).collect();
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

        // Headers parsed in several ranges give the same layout.
        let pack = Pack::open(&packs(&objects)[0]).unwrap();
        let one = pack.parse_layout(1);
        for pieces in [2, 3, 8, 20] {
            let l = pack.parse_layout(pieces);
            assert_eq!(l.off, one.off);
            assert_eq!(l.oid, one.oid);
            assert_eq!(l.kind, one.kind);
            assert_eq!(l.size, one.size);
            assert_eq!(l.hdr, one.hdr);
            assert_eq!(l.parent, one.parent);
            assert_eq!(l.root_kind, one.root_kind);
            assert_eq!((l.entry_errors, &l.errors), (one.entry_errors, &one.errors));
        }
        assert_eq!(one.entry_errors, 1, "{:?}", one.errors);
        assert_eq!(one.parent[1], 0);
    }
}
