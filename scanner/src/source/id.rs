//! A plain 20-byte (SHA-1) object id for the hot sets and maps of the
//! history scan: `git2::Oid` compares and is built through FFI calls, which
//! showed in profiles; this one is plain bytes, converted to and from
//! `git2::Oid` only where libgit2 is called.

use std::fmt;
use std::hash::{Hash, Hasher};

use git2::Oid;

/// A SHA-1 object id. Ordered as its bytes are.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Id(pub [u8; 20]);

impl Id {
    /// The bytes as three big-endian integers: ordered as the bytes are.
    #[inline]
    fn words(&self) -> (u64, u64, u32) {
        let b = &self.0;
        (
            u64::from_be_bytes(b[..8].try_into().expect("eight bytes")),
            u64::from_be_bytes(b[8..16].try_into().expect("eight bytes")),
            u32::from_be_bytes(b[16..].try_into().expect("four bytes")),
        )
    }
}

impl Ord for Id {
    /// The bytes' order, compared as three integers: sorting and searching
    /// the trees and blobs of a history called `memcmp` once per
    /// comparison (a twentieth of a history scan's samples).
    #[inline]
    fn cmp(&self, other: &Id) -> std::cmp::Ordering {
        self.words().cmp(&other.words())
    }
}

impl PartialOrd for Id {
    #[inline]
    fn partial_cmp(&self, other: &Id) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Id {
    /// The id of 20 raw bytes; `None` for any other length.
    #[inline]
    pub fn from_slice(bytes: &[u8]) -> Option<Id> {
        bytes.try_into().ok().map(Id)
    }

    /// Its raw bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// The same id as a `git2::Oid`, for calls into libgit2.
    pub fn oid(self) -> Oid {
        // Twenty bytes always make an Oid; zero is unreachable.
        Oid::from_bytes(&self.0).unwrap_or_else(|_| Oid::zero())
    }
}

impl Hash for Id {
    /// Ids are already uniformly random: the first eight bytes are the
    /// hash (see [`crate::source::pack::OidHasher`]).
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(b));
    }
}

impl From<Oid> for Id {
    /// `Oid::as_bytes` reads the bytes in place (no FFI call). A SHA-256
    /// id is truncated: only SHA-1 repositories use `Id`.
    #[inline]
    fn from(o: Oid) -> Id {
        let mut b = [0u8; 20];
        let src = o.as_bytes();
        let n = src.len().min(20);
        b[..n].copy_from_slice(&src[..n]);
        Id(b)
    }
}

impl From<&Oid> for Id {
    #[inline]
    fn from(o: &Oid) -> Id {
        Id::from(*o)
    }
}

impl From<Id> for Oid {
    fn from(id: Id) -> Oid {
        id.oid()
    }
}

impl fmt::Display for Id {
    /// Forty lowercase hex digits, as `git2::Oid` shows.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_ways_and_shows_as_hex() {
        let hex = "0123456789abcdef0123456789abcdef01234567";
        let oid = Oid::from_str(hex).unwrap();
        let id = Id::from(oid);
        assert_eq!(id.to_string(), hex);
        assert_eq!(format!("{id:?}"), hex);
        assert_eq!(id.oid(), oid);
        assert_eq!(Oid::from(id), oid);
        assert_eq!(Id::from_slice(oid.as_bytes()), Some(id));
        assert_eq!(Id::from_slice(&[0u8; 19]), None);
        assert_eq!(id.as_bytes(), oid.as_bytes());
    }

    #[test]
    fn orders_like_the_bytes() {
        let mut a = [0u8; 20];
        let mut b = [0u8; 20];
        a[19] = 2;
        b[0] = 1;
        assert!(Id(a) < Id(b));
        assert!(Id([0u8; 20]) < Id(a));
        // Every byte position decides where the ids first differ, both
        // ways, with bytes above 0x7f (no sign trouble).
        for at in 0..20 {
            for (x, y) in [(0u8, 1u8), (0x7f, 0x80), (0xfe, 0xff), (3, 3)] {
                let mut p = [0x55u8; 20];
                let mut q = [0x55u8; 20];
                p[at] = x;
                q[at] = y;
                if at + 1 < 20 {
                    q[at + 1] = 0;
                }
                assert_eq!(Id(p).cmp(&Id(q)), p.cmp(&q), "byte {at}: {x} vs {y}");
                assert_eq!(Id(q).cmp(&Id(p)), q.cmp(&p), "byte {at}: {y} vs {x}");
            }
        }
    }

    #[test]
    fn sets_keyed_by_id_hash_and_compare_whole_ids() {
        use crate::source::pack::OidSet;
        // Same first eight bytes (same hash), different ids.
        let mut a = [7u8; 20];
        let b = [7u8; 20];
        a[19] = 8;
        let mut s = OidSet::default();
        assert!(s.insert(Id(a)));
        assert!(s.insert(Id(b)));
        assert!(!s.insert(Id(a)));
        assert_eq!(s.len(), 2);
    }
}
