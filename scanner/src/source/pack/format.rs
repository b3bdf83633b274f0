//! The pack format: entry headers, delta instructions, zlib streams and
//! version 2 index files, each parsed with every bound checked.

use libdeflater::{DecompressionError, Decompressor};

use super::{BLOB, COMMIT, MAX_OBJECT, OFS_DELTA, REF_DELTA, TAG, TREE};
use crate::keywords::Piece;

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
    apply_delta_traced(base, delta, out, None)
}

/// [`apply_delta`], also listing the runs it wrote (copied from the base
/// or new) in `pieces`, in order, when given.
pub fn apply_delta_traced(
    base: &[u8],
    delta: &[u8],
    out: &mut Vec<u8>,
    mut pieces: Option<&mut Vec<Piece>>,
) -> Result<(), &'static str> {
    if let Some(p) = pieces.as_deref_mut() {
        p.clear();
    }
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
        // A copy from the base, or `c` new bytes from the delta.
        let (bytes, from) = if c & 0x80 != 0 {
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
            (src, Some(off))
        } else if c != 0 {
            let n = usize::from(c);
            let lit = delta.get(i..i + n).ok_or("delta insert truncated")?;
            i += n;
            (lit, None)
        } else {
            return Err("delta has the reserved instruction 0");
        };
        if out.len() + bytes.len() > target {
            return Err("delta writes past its target size");
        }
        if let Some(p) = pieces.as_deref_mut() {
            p.push(Piece {
                to: out.len(),
                len: bytes.len(),
                from,
            });
        }
        out.extend_from_slice(bytes);
    }
    if out.len() != target {
        return Err("delta target shorter than announced");
    }
    Ok(())
}

/// Inflates one zlib stream that must produce exactly `size` bytes, with
/// libdeflate (whole-buffer decompression, about twice zlib's speed; the
/// exact output size is known from the entry header). The two-byte zlib
/// header is checked here and the deflate data inflated raw: the Adler-32
/// trailer is not verified (the exact size and a well-formed deflate
/// stream are still required, and objects are not re-hashed either, as with
/// libgit2 and `git cat-file`). Bytes after the stream's end are ignored.
pub(super) fn inflate(
    z: &mut Decompressor,
    input: &[u8],
    size: u64,
    out: &mut Vec<u8>,
) -> Result<(), String> {
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
    // A reused buffer is not zeroed first: on success the inflater has
    // written all `size` bytes (checked below), and on failure the bytes
    // are not used.
    if out.len() >= size {
        out.truncate(size);
    } else {
        out.resize(size, 0);
    }
    match z.deflate_decompress(input, out) {
        Ok(n) if n == size => Ok(()),
        Ok(n) => {
            out.truncate(n);
            Err(format!("inflated to {n} bytes, header says {size}"))
        }
        Err(DecompressionError::InsufficientSpace) => {
            Err("zlib stream longer than its header says".into())
        }
        Err(DecompressionError::BadData) => Err("zlib: corrupt or truncated deflate data".into()),
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

impl Default for PackIndex {
    /// An index of no objects.
    fn default() -> PackIndex {
        PackIndex {
            fanout: [0; 256],
            names: Vec::new(),
            offsets: Vec::new(),
        }
    }
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

    /// Bytes this index holds in memory.
    pub fn heap_bytes(&self) -> u64 {
        (self.names.capacity() + self.offsets.capacity() * 8) as u64
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

    pub(super) fn name(&self, pos: usize) -> &[u8] {
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
        let mut pieces = vec![Piece {
            to: 9,
            len: 9,
            from: None,
        }];
        apply_delta_traced(base, &delta, &mut out, Some(&mut pieces)).unwrap();
        let runs: Vec<_> = pieces.iter().map(|p| (p.to, p.len, p.from)).collect();
        assert_eq!(runs, [(0, 5, Some(0)), (5, 2, None), (7, 5, Some(7))]);
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
}
