//! The keyword prefilter: every occurrence of every rule keyword in a blob,
//! ASCII case-insensitively, overlapping ones included.
//!
//! An Aho-Corasick automaton walks every byte (about 300 MB/s here), which
//! made it most of a history scan's matching time. Instead the blob is
//! lowercased once into a reused buffer, and SIMD searchers (Teddy, from
//! aho-corasick's `packed` module) look for the keywords' first three or
//! four bytes; only at those candidate starts are whole keywords compared.
//! Keywords of one or two bytes are found with `memmem`. Where Teddy is not
//! available (no SSSE3/AVX2 or NEON), an automaton does the whole search.

use std::cell::RefCell;

use aho_corasick::packed::{self, MatchKind as PackedKind};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use anyhow::{Context, Result};
use memchr::memmem;

use crate::common_4grams::COMMON_4GRAMS;

/// A hash map for start-up's grouping of keywords and rule ids: hundreds of
/// short keys, hashed with a multiply and rotate (FxHash's way) instead of
/// SipHash, which cost a millisecond there. The keys come from rule packs,
/// not from scanned data.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, FastHash>;

/// The [`BuildHasher`](std::hash::BuildHasher) of [`FastMap`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FastHash;

/// The [`Hasher`](std::hash::Hasher) of [`FastMap`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FastHasher(u64);

impl std::hash::BuildHasher for FastHash {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("eight bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Most prefixes given to one Teddy searcher (its own limit).
const TEDDY_PATTERNS: usize = 64;

/// Prefix length the SIMD searchers look for (Teddy masks at most 4 bytes).
const PREFIX_LEN: usize = 4;

/// A SIMD searcher over distinct prefixes of one length, and for each
/// prefix the keywords that start with it.
#[derive(Debug, Clone)]
struct PrefixSearcher {
    teddy: packed::Searcher,
    keywords: Vec<Vec<usize>>,
}

/// Every occurrence of a fixed set of keywords.
#[derive(Debug, Clone)]
pub struct KeywordSearch {
    /// The keywords, lowercased; hits name them by index.
    keywords: Vec<Vec<u8>>,
    /// The longest keyword's length.
    longest: usize,
    how: How,
}

/// Every keyword occurrence in one blob, as (start, keyword index),
/// sorted. Kept for a blob that other blobs are deltas of, so theirs can
/// be derived from it ([`KeywordSearch::hits_after_delta`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hits(pub Vec<(usize, u32)>);

/// One run of a blob rebuilt from a delta: `len` bytes at `to`, copied
/// from its base at `from`, or new bytes (`from` is `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub to: usize,
    pub len: usize,
    pub from: Option<usize>,
}

/// Most four-byte prefixes left to Teddy; past this many (each searcher
/// is one more pass over the blob) they go to [`HashedPrefixes`], whose
/// one pass costs the same for any number of prefixes.
const TEDDY_MAX_PREFIXES: usize = 2 * TEDDY_PATTERNS;

/// Bits of the hashes that index the bit tables (8 KiB each: they stay in
/// the L1 cache).
const HASH_BITS: u32 = 16;

/// Keys of one width (the first four or eight bytes of keywords, as
/// little-endian integers) in a hashed bit table, with an exact lookup
/// behind it.
#[derive(Debug, Clone)]
struct KeyTable {
    /// Bit `h` is set when some key hashes to `h`.
    bits: Box<[u64; 1 << (HASH_BITS - 6)]>,
    /// For each hash's top [`SLOT_BITS`] bits, where its keys start in
    /// `keys` (and the next slot's entry where they end): a few KiB, where
    /// one entry per hash would cost start-up a quarter MiB of page faults.
    start: Vec<u32>,
    /// Keys sorted by hash, with their keywords and where in each keyword
    /// the key starts.
    keys: Vec<(u64, Vec<Anchored>)>,
}

/// Bits of the hash that indexes [`HashedPrefixes`]' filter, a byte per
/// entry (256 KiB: one load and one OR per position, where a bit table
/// costs two more shifts). With 2^16 entries a third of the positions that
/// passed the filter were collisions; at 2^18 the exact lookups behind it
/// ran half as often (cachegrind: 4.8 M -> 2.2 M instructions on 14 MB of
/// crate sources), for a table that lives in L2 instead of L1.
const FILTER_BITS: u32 = 18;

#[inline(always)]
fn filter_index(x: u32) -> usize {
    (x.wrapping_mul(0x9E37_79B1) >> (32 - FILTER_BITS)) as usize
}

/// Bits of a hash that pick its slot in [`KeyTable::start`].
const SLOT_BITS: u32 = 10;

fn slot(h: usize) -> usize {
    h >> (HASH_BITS - SLOT_BITS)
}

fn hash32(x: u32) -> usize {
    (x.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

fn hash64(x: u64) -> usize {
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - HASH_BITS)) as usize
}

impl KeyTable {
    fn new(mut keys: Vec<(u64, Vec<Anchored>)>, hash: impl Fn(u64) -> usize) -> KeyTable {
        let mut bits = Box::new([0u64; 1 << (HASH_BITS - 6)]);
        keys.sort_by_key(|k| (hash(k.0), k.0));
        let mut start = vec![0u32; (1 << SLOT_BITS) + 1];
        for (k, _) in &keys {
            let h = hash(*k);
            bits[h >> 6] |= 1 << (h & 63);
            start[slot(h) + 1] += 1;
        }
        for s in 0..1 << SLOT_BITS {
            start[s + 1] += start[s];
        }
        KeyTable { bits, start, keys }
    }

    #[inline(always)]
    fn maybe(&self, h: usize) -> bool {
        self.bits[h >> 6] >> (h & 63) & 1 != 0
    }

    /// The keywords whose key is exactly `key` (hashing to `h`).
    fn get(&self, h: usize, key: u64) -> Option<&[Anchored]> {
        let (lo, hi) = (
            self.start[slot(h)] as usize,
            self.start[slot(h) + 1] as usize,
        );
        self.keys[lo..hi]
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, m)| m.as_slice())
    }
}

/// A keyword (by index) and the offset in it of the four bytes it is
/// looked up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Anchored {
    keyword: u32,
    offset: u32,
}

/// Keywords of four bytes or more, found in one pass however many there
/// are: at every position of the lowercased blob its next four bytes are
/// hashed once and tested against one bit table holding every keyword's
/// anchor; only where that bit is set are the exact tables consulted: one
/// of four-byte keys and one of eight-byte keys (keywords with eight bytes
/// from their anchor on, so that a common anchor costs a lookup, never a
/// comparison, unless all eight bytes match).
///
/// A keyword's anchor is its rarest four bytes, not its first: `typeform`
/// is looked up by `efor`, not by `type`, which starts a few percent of
/// all positions in source code. Rarity comes from [`COMMON_4GRAMS`]; the
/// blocks of the hashed pass are then almost all without a candidate.
#[derive(Debug, Clone)]
struct HashedPrefixes {
    /// Bit `hash32(first four bytes)` of every key, both widths.
    filter: Box<[u8; 1 << FILTER_BITS]>,
    four: KeyTable,
    eight: KeyTable,
}

/// Positions tested per block of the hashed pass: their filter bits are
/// gathered into a mask, so the loop branches once per block (most blocks
/// have no bit set) instead of once per position.
const BLOCK: usize = 8;

impl HashedPrefixes {
    fn new(groups: Vec<Group>, keywords: &[Vec<u8>]) -> HashedPrefixes {
        let mut four: Vec<(u64, Vec<Anchored>)> = Vec::new();
        let mut eight: Vec<(u64, Vec<Anchored>)> = Vec::new();
        let mut at: FastMap<(bool, u64), usize> = Default::default();
        let mut add =
            |table: &mut Vec<(u64, Vec<Anchored>)>, long: bool, key: u64, a: Anchored| match at
                .get(&(long, key))
            {
                Some(&j) => table[j].1.push(a),
                None => {
                    at.insert((long, key), table.len());
                    table.push((key, vec![a]));
                }
            };
        let common: FastMap<u32, usize> = COMMON_4GRAMS
            .iter()
            .enumerate()
            .map(|(rank, &g)| (g, rank))
            .collect();
        let mut filter = Box::new([0u8; 1 << FILTER_BITS]);
        for (_, members) in groups {
            for k in members {
                let kw = &keywords[k];
                let offset = anchor(kw, &common);
                let a = Anchored {
                    keyword: k as u32,
                    offset: offset as u32,
                };
                let from = &kw[offset..];
                filter[filter_index(u32::from_le_bytes(
                    from[..4].try_into().expect("four bytes"),
                ))] = 1;
                if from.len() >= 8 {
                    let key = u64::from_le_bytes(from[..8].try_into().expect("eight bytes"));
                    add(&mut eight, true, key, a);
                } else {
                    let key = u32::from_le_bytes(from[..4].try_into().expect("four bytes"));
                    add(&mut four, false, u64::from(key), a);
                }
            }
        }
        HashedPrefixes {
            filter,
            four: KeyTable::new(four, |k| hash32(k as u32)),
            eight: KeyTable::new(eight, hash64),
        }
    }

    /// Calls `found(at, keywords)` for every position of `hay` where a
    /// keyword's anchor key starts, in order.
    #[inline]
    fn each(&self, hay: &[u8], mut found: impl FnMut(usize, &[Anchored])) {
        let filter = &*self.filter;
        let mut i = 0;
        // A block of positions needs its last one's four bytes. Their
        // filter bytes are ORed together, so a block with no candidate (the
        // most by far) costs one branch; one with a candidate is tested
        // again position by position.
        while i + BLOCK + 3 <= hay.len() {
            let chunk: &[u8; BLOCK + 3] = hay[i..i + BLOCK + 3].try_into().expect("a block");
            let mut any = 0u8;
            for j in 0..BLOCK {
                let x = u32::from_le_bytes(chunk[j..j + 4].try_into().expect("four bytes"));
                any |= filter[filter_index(x)];
            }
            if any != 0 {
                // The candidates' positions as a mask, without a branch
                // per position (filter entries are 0 or 1).
                let mut mask = 0u32;
                for j in 0..BLOCK {
                    let x = u32::from_le_bytes(chunk[j..j + 4].try_into().expect("four bytes"));
                    mask |= u32::from(filter[filter_index(x)]) << j;
                }
                while mask != 0 {
                    let j = mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    self.confirm(hay, i + j, &mut found);
                }
            }
            i += BLOCK;
        }
        while i + 4 <= hay.len() {
            let x = u32::from_le_bytes(hay[i..i + 4].try_into().expect("four bytes"));
            if filter[filter_index(x)] != 0 {
                self.confirm(hay, i, &mut found);
            }
            i += 1;
        }
    }

    /// The exact lookups at a position whose filter bit is set.
    #[inline(never)]
    fn confirm(&self, hay: &[u8], at: usize, found: &mut impl FnMut(usize, &[Anchored])) {
        let x = u32::from_le_bytes(hay[at..at + 4].try_into().expect("four bytes"));
        let h4 = hash32(x);
        if self.four.maybe(h4)
            && let Some(m) = self.four.get(h4, u64::from(x))
        {
            found(at, m);
        }
        if let Some(w) = hay.get(at..at + 8) {
            let w = u64::from_le_bytes(w.try_into().expect("eight bytes"));
            let h8 = hash64(w);
            if self.eight.maybe(h8)
                && let Some(m) = self.eight.get(h8, w)
            {
                found(at, m);
            }
        }
    }
}

/// Where in `keyword` (four bytes or more) its rarest four bytes start:
/// the first four bytes not in [`COMMON_4GRAMS`] (`common` maps them to
/// their rank), else the least common, ties to the byte frequencies of
/// source code and then to the earliest offset.
fn anchor(keyword: &[u8], common: &FastMap<u32, usize>) -> usize {
    (0..=keyword.len() - 4)
        .min_by_key(|&o| {
            let g = &keyword[o..o + 4];
            let rank = common
                .get(&u32::from_le_bytes(g.try_into().expect("four bytes")))
                .map_or(0, |&r| COMMON_4GRAMS.len() - r);
            let bytes: u128 = g
                .iter()
                .map(|&b| u128::from(BYTE_FREQ[b as usize] + 1))
                .product();
            (rank, bytes, o)
        })
        .unwrap_or(0)
}

#[derive(Debug, Clone)]
enum How {
    Prefilter {
        searchers: Vec<PrefixSearcher>,
        /// Four-byte prefixes too many for a few Teddy searchers.
        hashed: Option<HashedPrefixes>,
        /// Keywords shorter than 3 bytes, searched whole.
        short: Vec<(memmem::Finder<'static>, usize)>,
    },
    Automaton(AhoCorasick),
}

thread_local! {
    /// The lowercased copy of the blob being searched, reused per thread.
    static FOLDED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// How often each byte occurs in lowercased source code, per million
/// (measured on 40 MB of crate sources): the cost model for [`buckets`].
const BYTE_FREQ: [u32; 256] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 20831, 32372, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 199713, 833, 2728, 4021, 3925, 9028, 1798, 428, 9491, 9494, 2768, 1718, 36575, 4808,
    10338, 8312, 20203, 23777, 16678, 9445, 10107, 8693, 9970, 5866, 8193, 6214, 3118, 4797, 971,
    3257, 1674, 100, 664, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 3396, 1180, 3395, 288, 20860, 525, 29727, 13821, 21622, 25825, 46159, 13178, 6598, 9064,
    23804, 783, 5092, 20924, 24025, 23548, 23618, 15686, 4449, 30420, 31225, 32721, 14713, 11046,
    4224, 28709, 8027, 2584, 2050, 1532, 2048, 103, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1, 3, 1, 1, 3, 0, 0,
    2, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 2, 0, 0, 1, 0, 0, 0, 2, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 5, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// A prefix and the keywords (indices) that start with it.
type Group = (Vec<u8>, Vec<usize>);

/// Each byte's nibbles as one-bit masks (low, high), per prefix position.
type Nibbles = [(u16, u16); PREFIX_LEN];

fn nibbles(prefix: &[u8]) -> Nibbles {
    let mut n = [(0, 0); PREFIX_LEN];
    for (slot, &b) in n.iter_mut().zip(prefix) {
        *slot = (1 << (b & 15), 1 << (b >> 4));
    }
    n
}

/// Expected share of positions where a Teddy bucket holding prefixes
/// with these nibbles (of length `len`) fires: Teddy tests each byte's low
/// and high nibble against the union of its members' nibbles at that
/// position, so a bucket also fires on every mix of those nibbles.
fn bucket_cost<'a>(members: impl Iterator<Item = &'a Nibbles> + Clone, len: usize) -> f64 {
    let mut p = 1.0;
    for j in 0..len {
        let (mut lo, mut hi) = (0u16, 0u16);
        for m in members.clone() {
            lo |= m[j].0;
            hi |= m[j].1;
        }
        let mut share = 0u32;
        while hi != 0 {
            let h = hi.trailing_zeros() as usize;
            hi &= hi - 1;
            let mut los = lo;
            while los != 0 {
                let l = los.trailing_zeros() as usize;
                los &= los - 1;
                share += BYTE_FREQ[h << 4 | l];
            }
        }
        p *= f64::from(share) / 1e6;
    }
    p
}

/// Splits prefixes of one length into Teddy buckets: as few searchers as
/// Teddy allows (64 patterns each; 16 buckets each above 32 patterns, else
/// 8), buckets of equal size, filled so that each bucket's prefixes share
/// nibbles (sorted, then one round of swaps under [`bucket_cost`], which
/// gets most of what more rounds would and costs ~1 ms at start-up).
/// Sparse bucket masks mean few false candidates: on source code two
/// searchers so arranged ran 1.5x faster than three in the keywords' own
/// order.
fn buckets(mut prefixes: Vec<Group>) -> Vec<Vec<Vec<Group>>> {
    prefixes.sort();
    let n = prefixes.len();
    if n == 0 {
        return Vec::new();
    }
    let len = prefixes[0].0.len().min(PREFIX_LEN);
    let nib: Vec<Nibbles> = prefixes.iter().map(|(p, _)| nibbles(p)).collect();
    let searchers = n.div_ceil(TEDDY_PATTERNS);
    let per_searcher = if n > 32 { 16 } else { 8 };
    let count = searchers * per_searcher;
    // Balanced, in sorted order: the first (n % count) get one more.
    let mut bk: Vec<Vec<usize>> = Vec::with_capacity(count);
    let mut next = 0;
    for b in 0..count {
        let take = n / count + usize::from(b < n % count);
        bk.push((next..next + take).collect());
        next += take;
    }
    let cost = |b: &[usize]| bucket_cost(b.iter().map(|&i| &nib[i]), len);
    let mut costs: Vec<f64> = bk.iter().map(|b| cost(b)).collect();
    for x in 0..count {
        for y in x + 1..count {
            for i in 0..bk[x].len() {
                for j in 0..bk[y].len() {
                    let (a, b) = bk.split_at_mut(y);
                    std::mem::swap(&mut a[x][i], &mut b[0][j]);
                    let (cx, cy) = (cost(&bk[x]), cost(&bk[y]));
                    if cx + cy < (costs[x] + costs[y]) * 0.999 {
                        costs[x] = cx;
                        costs[y] = cy;
                    } else {
                        let (a, b) = bk.split_at_mut(y);
                        std::mem::swap(&mut a[x][i], &mut b[0][j]);
                    }
                }
            }
        }
    }
    let bk: Vec<Vec<Group>> = bk
        .into_iter()
        .map(|b| b.into_iter().map(|i| prefixes[i].clone()).collect())
        .collect();
    bk.chunks(per_searcher).map(<[_]>::to_vec).collect()
}

/// The patterns for one searcher, in id order, from its buckets: Teddy
/// puts pattern `id` in bucket `B - 1 - id % B` (B = 16 above 32 patterns,
/// else 8). A bucket short of members repeats one (a repeated pattern only
/// costs a comparison when its bucket fires); a 16-bucket searcher gets at
/// least 33 patterns so that Teddy picks its 16-bucket form.
fn slots(bk: &[Vec<Group>]) -> Vec<&Group> {
    let b = bk.len();
    let mut per = bk.iter().map(Vec::len).max().unwrap_or(0);
    if b == 16 {
        per = per.max(3);
    }
    let mut out = Vec::with_capacity(per * b);
    for m in 0..per {
        for id in 0..b {
            let members = &bk[b - 1 - id];
            let any = members
                .first()
                .or_else(|| bk.iter().find_map(|x| x.first()));
            if let Some(p) = members.get(m).or(members.first()).or(any) {
                out.push(p);
            }
        }
    }
    out
}

impl KeywordSearch {
    /// Builds the search for `keywords` (case is ignored; duplicates are
    /// the caller's to avoid).
    pub fn new(keywords: &[String]) -> Result<KeywordSearch> {
        Self::with_teddy_limit(keywords, TEDDY_MAX_PREFIXES)
    }

    /// [`new`](Self::new), with four-byte prefixes hashed once there are
    /// more than `teddy_limit` of them (benchmarks and tests compare both
    /// plans with it).
    #[doc(hidden)]
    pub fn with_teddy_limit(keywords: &[String], teddy_limit: usize) -> Result<KeywordSearch> {
        let keywords: Vec<Vec<u8>> = keywords
            .iter()
            .map(|k| k.to_ascii_lowercase().into_bytes())
            .collect();
        anyhow::ensure!(
            keywords.iter().all(|k| !k.is_empty()),
            "a rule keyword is empty"
        );
        let how = match Self::prefilter(&keywords, teddy_limit) {
            Some(how) => how,
            None => How::Automaton(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&keywords)
                    .context("building the keyword automaton")?,
            ),
        };
        let longest = keywords.iter().map(Vec::len).max().unwrap_or(0);
        Ok(KeywordSearch {
            keywords,
            longest,
            how,
        })
    }

    /// The SIMD plan, or `None` where Teddy cannot be built on this CPU.
    fn prefilter(keywords: &[Vec<u8>], teddy_limit: usize) -> Option<How> {
        // Group keywords by their prefix, one group of searchers per prefix
        // length: at any position at most one prefix of a given length can
        // match, so each searcher's leftmost match names the only group to
        // confirm there.
        let mut by_len: Vec<Vec<(Vec<u8>, Vec<usize>)>> = vec![Vec::new(); PREFIX_LEN + 1];
        let mut short = Vec::new();
        // Prefix -> (its length, its group): hundreds of keywords.
        let mut seen: FastMap<Vec<u8>, (usize, usize)> = Default::default();
        for (i, k) in keywords.iter().enumerate() {
            if k.len() < 3 {
                short.push((memmem::Finder::new(k).into_owned(), i));
                continue;
            }
            let p = &k[..k.len().min(PREFIX_LEN)];
            match seen.get(p) {
                Some(&(len, g)) => by_len[len][g].1.push(i),
                None => {
                    let groups = &mut by_len[p.len()];
                    seen.insert(p.to_vec(), (p.len(), groups.len()));
                    groups.push((p.to_vec(), vec![i]));
                }
            }
        }
        let mut searchers = Vec::new();
        let mut hashed = None;
        for (len, groups) in by_len.into_iter().enumerate() {
            if len == PREFIX_LEN && groups.len() > teddy_limit {
                hashed = Some(HashedPrefixes::new(groups, keywords));
                continue;
            }
            for bk in buckets(groups) {
                let slots = slots(&bk);
                let mut b = packed::Config::new()
                    .match_kind(PackedKind::LeftmostFirst)
                    .builder();
                for (p, _) in &slots {
                    b.add(p);
                }
                searchers.push(PrefixSearcher {
                    teddy: b.build()?,
                    keywords: slots.iter().map(|(_, m)| m.clone()).collect(),
                });
            }
        }
        Some(How::Prefilter {
            searchers,
            hashed,
            short,
        })
    }

    /// Calls `hit(keyword, start, end)` for every occurrence of every
    /// keyword in `data`, in no particular order.
    pub fn for_each(&self, data: &[u8], hit: impl FnMut(usize, usize, usize)) {
        self.for_each_starting(data, 0, data.len(), hit);
    }

    /// Length of keyword `k`.
    pub fn keyword_len(&self, k: usize) -> usize {
        self.keywords[k].len()
    }

    /// Every occurrence in `data`, sorted.
    pub fn hits(&self, data: &[u8]) -> Hits {
        let mut v = Vec::new();
        self.for_each(data, |k, s, _| v.push((s, k as u32)));
        v.sort_unstable();
        Hits(v)
    }

    /// The hits of `data`, a blob rebuilt from a delta (`pieces`, in order,
    /// covering it) against a base whose hits are `base`: exactly
    /// [`hits`](Self::hits)`(data)`, searching only near new bytes.
    ///
    /// An occurrence lying wholly inside one copied run has the same bytes
    /// as the base at the run's source, so it is the base's hit moved. Any
    /// other occurrence starts in new bytes or within a keyword's length
    /// before the end of a copied run: only those stretches are searched,
    /// keeping what does not lie wholly inside a copied run.
    pub fn hits_after_delta(&self, data: &[u8], base: &Hits, pieces: &[Piece]) -> Hits {
        // Copies that continue each other in both blobs are one run (a
        // delta copies at most 64 KiB per instruction).
        let mut runs: Vec<Piece> = Vec::with_capacity(pieces.len());
        for &p in pieces.iter().filter(|p| p.len > 0) {
            match (runs.last_mut(), p.from) {
                (Some(last), Some(f))
                    if last.to + last.len == p.to
                        && last.from.is_some_and(|lf| lf + last.len == f) =>
                {
                    last.len += p.len;
                }
                (Some(last), None) if last.from.is_none() && last.to + last.len == p.to => {
                    last.len += p.len;
                }
                _ => runs.push(p),
            }
        }
        let mut out = Vec::new();
        for r in &runs {
            let Some(from) = r.from else { continue };
            let lo = base.0.partition_point(|&(s, _)| s < from);
            for &(s, k) in &base.0[lo..] {
                if s >= from + r.len {
                    break;
                }
                if s + self.keywords[k as usize].len() <= from + r.len {
                    out.push((r.to + (s - from), k));
                }
            }
        }
        // Where an occurrence may start without lying inside one copied
        // run: new bytes, and the last (longest - 1) bytes of each copy.
        let tail = self.longest.saturating_sub(1);
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for r in &runs {
            let end = r.to + r.len;
            let start = match r.from {
                None => r.to,
                Some(_) => end.saturating_sub(tail).max(r.to),
            };
            match spans.last_mut() {
                // Close spans are searched together: each search has a
                // fixed cost.
                Some(last) if start <= last.1 + 64 => last.1 = end,
                _ => spans.push((start, end)),
            }
        }
        let inside_copy = |s: usize, e: usize| {
            let i = runs.partition_point(|r| r.to <= s);
            i > 0 && runs[i - 1].from.is_some() && e <= runs[i - 1].to + runs[i - 1].len
        };
        for (s, e) in spans {
            let e = e.min(data.len());
            if s >= e {
                continue;
            }
            self.for_each_starting(data, s, e, |k, hs, he| {
                if !inside_copy(hs, he) {
                    out.push((hs, k as u32));
                }
            });
        }
        out.sort_unstable();
        Hits(out)
    }

    /// Calls `hit(keyword, start, end)` for every occurrence in `data` that
    /// starts in `from..to` (it may end past `to`).
    fn for_each_starting(
        &self,
        data: &[u8],
        from: usize,
        to: usize,
        mut hit: impl FnMut(usize, usize, usize),
    ) {
        let stop = to
            .saturating_add(self.longest.saturating_sub(1))
            .min(data.len());
        let data = &data[from.min(stop)..stop];
        let room = to - from.min(to);
        let mut hit = |k: usize, s: usize, e: usize| {
            if s < room {
                hit(k, from + s, from + e);
            }
        };
        let (searchers, hashed, short) = match &self.how {
            How::Automaton(ac) => {
                for m in ac.find_overlapping_iter(data) {
                    hit(m.pattern().as_usize(), m.start(), m.end());
                }
                return;
            }
            How::Prefilter {
                searchers,
                hashed,
                short,
            } => (searchers, hashed, short),
        };
        FOLDED.with(|cell| {
            let mut folded = cell.borrow_mut();
            folded.clear();
            folded.extend(data.iter().map(u8::to_ascii_lowercase));
            let hay = folded.as_slice();
            for s in searchers {
                let mut pos = 0;
                while pos < hay.len() {
                    let Some(m) = s
                        .teddy
                        .find_in(hay, aho_corasick::Span::from(pos..hay.len()))
                    else {
                        break;
                    };
                    let at = m.start();
                    for &k in &s.keywords[m.pattern().as_usize()] {
                        let kw = &self.keywords[k];
                        if hay[at..].starts_with(kw) {
                            hit(k, at, at + kw.len());
                        }
                    }
                    pos = at + 1;
                }
            }
            if let Some(hp) = hashed {
                hp.each(hay, |at, members| {
                    for a in members {
                        let Some(start) = at.checked_sub(a.offset as usize) else {
                            continue;
                        };
                        let k = a.keyword as usize;
                        let kw = &self.keywords[k];
                        if hay[start..].starts_with(kw) {
                            hit(k, start, start + kw.len());
                        }
                    }
                });
            }
            for (finder, k) in short {
                let len = self.keywords[*k].len();
                // One step at a time: occurrences may overlap ("aa" in "aaa").
                let mut pos = 0;
                while let Some(i) = finder.find(&hay[pos..]) {
                    hit(*k, pos + i, pos + i + len);
                    pos += i + 1;
                }
            }
            // A huge blob must not pin its buffer for the thread's life.
            if folded.capacity() > 64 << 20 {
                *folded = Vec::new();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every hit, sorted, from the automaton over the original bytes: the
    /// reference the SIMD plan must equal.
    fn reference(keywords: &[String], data: &[u8]) -> Vec<(usize, usize, usize)> {
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(keywords)
            .unwrap();
        let mut v: Vec<_> = ac
            .find_overlapping_iter(data)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect();
        v.sort_unstable();
        v
    }

    fn hits(ks: &KeywordSearch, data: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut v = Vec::new();
        ks.for_each(data, |k, s, e| v.push((k, s, e)));
        v.sort_unstable();
        v
    }

    /// A small deterministic generator (xorshift), so failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn builtin_keywords() -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, p) in leakscan_rules::builtin_packs().unwrap() {
            for r in p.rules {
                for k in r.keywords {
                    let k = k.to_ascii_lowercase();
                    if !out.contains(&k) {
                        out.push(k);
                    }
                }
            }
        }
        out
    }

    /// Keyword soup: keywords, their fragments and overlaps, in random
    /// case, glued with separators.
    fn soup(rng: &mut Rng, keywords: &[String], len: usize) -> Vec<u8> {
        let mut data = Vec::new();
        for _ in 0..len {
            let k = keywords[rng.below(keywords.len())].as_bytes();
            let piece = match rng.below(4) {
                0 => &k[..1 + rng.below(k.len())],
                1 => &k[rng.below(k.len())..],
                _ => k,
            };
            for &b in piece {
                data.push(if rng.below(2) == 0 {
                    b.to_ascii_uppercase()
                } else {
                    b
                });
            }
            match rng.below(5) {
                0 => data.push(b' '),
                1 => data.push(b'_'),
                2 => data.push(0xC3),
                _ => {}
            }
        }
        data
    }

    /// A blob rebuilt from `base` by random copies (whole, cut mid-keyword,
    /// adjacent ones that continue each other) and new bytes.
    fn random_delta(rng: &mut Rng, keywords: &[String], base: &[u8]) -> (Vec<u8>, Vec<Piece>) {
        let mut out = Vec::new();
        let mut pieces = Vec::new();
        let mut last_copy_end = 0;
        for _ in 0..1 + rng.below(12) {
            let to = out.len();
            if !base.is_empty() && rng.below(3) > 0 {
                let from = if rng.below(3) == 0 {
                    last_copy_end.min(base.len() - 1)
                } else {
                    rng.below(base.len())
                };
                let len = 1 + rng.below((base.len() - from).min(300));
                out.extend_from_slice(&base[from..from + len]);
                pieces.push(Piece {
                    to,
                    len,
                    from: Some(from),
                });
                last_copy_end = from + len;
            } else {
                let n = 1 + rng.below(6);
                let new = soup(rng, keywords, n);
                out.extend_from_slice(&new);
                pieces.push(Piece {
                    to,
                    len: new.len(),
                    from: None,
                });
            }
        }
        (out, pieces)
    }

    #[test]
    fn hits_after_a_delta_equal_a_full_search() {
        // The rules' keywords, and a few where the longest is common (an
        // occurrence across a copy's end is then frequent).
        let few: Vec<String> = ["q~", "aa", "kty", "token", "secret_access_key"]
            .map(String::from)
            .to_vec();
        for keywords in [builtin_keywords(), few] {
            delta_rounds(&keywords);
        }
    }

    #[test]
    fn keywords_cut_across_delta_runs_are_found_at_every_cut() {
        let keywords: Vec<String> = ["kty", "token", "secret_access_key"]
            .map(String::from)
            .to_vec();
        let ks = KeywordSearch::new(&keywords).unwrap();
        let pad = |n: usize| vec![b'.'; n];
        for kw in &keywords {
            let kw = kw.as_bytes();
            // The keyword twice, 300 bytes apart, in padding.
            let mut base = pad(100);
            base.extend_from_slice(kw);
            base.extend(pad(300 - kw.len()));
            base.extend_from_slice(kw);
            base.extend(pad(100));
            for cut in 0..=kw.len() {
                // Its head from the first copy, its tail from the second
                // (not contiguous there), or its tail as new bytes.
                let head = Piece {
                    to: 0,
                    len: 100 + cut,
                    from: Some(0),
                };
                let rest = kw.len() - cut;
                let tails = [
                    Piece {
                        to: 100 + cut,
                        len: rest + 50,
                        from: Some(400 + cut),
                    },
                    Piece {
                        to: 100 + cut,
                        len: rest,
                        from: None,
                    },
                ];
                for tail in tails {
                    let mut child = base[..100 + cut].to_vec();
                    match tail.from {
                        Some(f) => child.extend_from_slice(&base[f..f + tail.len]),
                        None => child.extend_from_slice(&kw[cut..]),
                    }
                    let pieces = [head, tail];
                    let derived = ks.hits_after_delta(&child, &ks.hits(&base), &pieces);
                    assert_eq!(derived, ks.hits(&child), "cut {cut}: {pieces:?}");
                    assert!(
                        derived.0.iter().any(|&(s, _)| s == 100),
                        "cut {cut}: {derived:?}"
                    );
                }
            }
        }
    }

    fn delta_rounds(keywords: &[String]) {
        let [simd, hashed] = plans(keywords);
        let mut automaton = simd.clone();
        automaton.how = How::Automaton(
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&automaton.keywords)
                .unwrap(),
        );
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        for round in 0..400 {
            let n = rng.below(200);
            let base = soup(&mut rng, keywords, n);
            let (child, pieces) = random_delta(&mut rng, keywords, &base);
            // A second generation, built on the derived hits.
            let (grandchild, more) = random_delta(&mut rng, keywords, &child);
            for ks in [&simd, &hashed, &automaton] {
                let derived = ks.hits_after_delta(&child, &ks.hits(&base), &pieces);
                assert_eq!(derived, ks.hits(&child), "round {round}: {pieces:?}");
                let again = ks.hits_after_delta(&grandchild, &derived, &more);
                assert_eq!(again, ks.hits(&grandchild), "round {round}: {more:?}");
            }
        }
    }

    #[test]
    fn the_simd_plan_is_built_here() {
        let ks = KeywordSearch::new(&builtin_keywords()).unwrap();
        // CI runs on x86_64 with AVX2: the fast path must be the one tested.
        if cfg!(target_arch = "x86_64") {
            assert!(matches!(ks.how, How::Prefilter { .. }));
        }
    }

    /// Both plans for four-byte prefixes: Teddy searchers only, and the
    /// hashed table only.
    fn plans(keywords: &[String]) -> [KeywordSearch; 2] {
        let teddy = KeywordSearch::with_teddy_limit(keywords, usize::MAX).unwrap();
        let hashed = KeywordSearch::with_teddy_limit(keywords, 0).unwrap();
        if cfg!(target_arch = "x86_64") {
            assert!(matches!(teddy.how, How::Prefilter { hashed: None, .. }));
            assert!(matches!(
                hashed.how,
                How::Prefilter {
                    hashed: Some(_),
                    ..
                }
            ));
        }
        [teddy, hashed]
    }

    #[test]
    fn finds_what_the_automaton_finds_on_keyword_soup() {
        let keywords = builtin_keywords();
        for ks in plans(&keywords) {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
            for round in 0..300 {
                // Overlapping and adjacent occurrences abound.
                let len = 1 + rng.below(400);
                let data = soup(&mut rng, &keywords, len);
                assert_eq!(
                    hits(&ks, &data),
                    reference(&keywords, &data),
                    "round {round}: {:?}",
                    String::from_utf8_lossy(&data)
                );
            }
        }
    }

    #[test]
    fn finds_keywords_at_the_edges_and_in_tiny_blobs() {
        let keywords: Vec<String> = ["q~", "aa", "kty", "token", "secret_access_key", "secret"]
            .map(String::from)
            .to_vec();
        for ks in plans(&keywords) {
            for data in [
            &b""[..],
            b"q",
            b"Q~",
            b"aAaA",
            b"kty",
            b"TOKEN",
            b"xsecret_access_keyx",
            b"tokentokenTOKENtoken",
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaasecret",
        ] {
            assert_eq!(hits(&ks, data), reference(&keywords, data), "{data:?}");
        }
        }
    }

    #[test]
    fn more_keywords_than_one_searcher_holds() {
        // 200 distinct 4-byte prefixes: several Teddy searchers, or (the
        // default past 128) the hashed table.
        let keywords: Vec<String> = (0..200).map(|i| format!("k{i:03}x_word")).collect();
        let default = KeywordSearch::new(&keywords).unwrap();
        if cfg!(target_arch = "x86_64") {
            assert!(matches!(
                default.how,
                How::Prefilter {
                    hashed: Some(_),
                    ..
                }
            ));
        }
        let mut data = Vec::new();
        for i in (0..200).rev() {
            data.extend_from_slice(format!("..K{i:03}X_WORD..k{i:03}x_wor;").as_bytes());
        }
        let [teddy, hashed] = plans(&keywords);
        for ks in [default, teddy, hashed] {
            let found = hits(&ks, &data);
            assert_eq!(found.len(), 200);
            assert_eq!(found, reference(&keywords, &data));
        }
    }

    #[test]
    fn keywords_are_anchored_on_their_rarest_four_bytes() {
        let common: FastMap<u32, usize> = COMMON_4GRAMS
            .iter()
            .enumerate()
            .map(|(rank, &g)| (g, rank))
            .collect();
        let at = |k: &str| {
            let o = anchor(k.as_bytes(), &common);
            String::from_utf8_lossy(&k.as_bytes()[o..o + 4]).into_owned()
        };
        // `type` and `test` start a few percent of all positions in code.
        assert_ne!(at("typeform"), "type");
        assert_ne!(at("testmail_api"), "test");
        // A four-byte keyword is its own anchor.
        assert_eq!(at("ghp_"), "ghp_");
        // Occurrences are reported at the keyword's start, also where the
        // anchor sits at the very end of the blob or the keyword is cut.
        let keywords: Vec<String> = ["typeform", "testmail_api", "mattermost"]
            .map(String::from)
            .to_vec();
        let hashed = KeywordSearch::with_teddy_limit(&keywords, 0).unwrap();
        for data in [
            &b"TYPEFORM"[..],
            b"xtypeformx mattermost",
            b"ypeform attermost estmail_api",
            b"testmail_apitypeformmattermos",
        ] {
            assert_eq!(hits(&hashed, data), reference(&keywords, data), "{data:?}");
        }
    }
}
