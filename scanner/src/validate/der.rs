//! A minimal DER reader for the structural checks of key containers: enough
//! to walk tag-length-value triples with definite lengths, bounds-checked.

/// One DER element: its tag, its content, and where the next element starts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tlv<'a> {
    pub tag: u8,
    pub body: &'a [u8],
    /// Offset (in the slice given to [`read`]) just past this element.
    pub next: usize,
}

pub(super) const SEQUENCE: u8 = 0x30;
pub(super) const INTEGER: u8 = 0x02;
pub(super) const OCTET_STRING: u8 = 0x04;
pub(super) const OID: u8 = 0x06;

/// Reads the element starting at `at`; `None` if truncated, if the length
/// uses more than 4 bytes, or if it is BER's indefinite form.
pub(super) fn read(data: &[u8], at: usize) -> Option<Tlv<'_>> {
    let tag = *data.get(at)?;
    let first = *data.get(at + 1)?;
    let mut i = at + 2;
    let len = if first < 0x80 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for _ in 0..n {
            len = (len << 8) | *data.get(i)? as usize;
            i += 1;
        }
        len
    };
    let end = i.checked_add(len)?;
    let body = data.get(i..end)?;
    Some(Tlv {
        tag,
        body,
        next: end,
    })
}

/// Reads an element that must have `tag`.
pub(super) fn expect(data: &[u8], at: usize, tag: u8) -> Option<Tlv<'_>> {
    read(data, at).filter(|t| t.tag == tag)
}

/// A whole buffer that is exactly one SEQUENCE: its content.
pub(super) fn whole_sequence(data: &[u8]) -> Option<&[u8]> {
    let t = expect(data, 0, SEQUENCE)?;
    (t.next == data.len()).then_some(t.body)
}

/// A small non-negative INTEGER's value (up to 8 bytes).
pub(super) fn small_int(body: &[u8]) -> Option<u64> {
    if body.is_empty() || body.len() > 8 {
        return None;
    }
    Some(body.iter().fold(0u64, |acc, b| (acc << 8) | *b as u64))
}

/// Significant bits of an unsigned big INTEGER (RSA modulus size).
pub(super) fn int_bits(body: &[u8]) -> usize {
    let trimmed: &[u8] = match body.iter().position(|&b| b != 0) {
        Some(p) => &body[p..],
        None => return 0,
    };
    trimmed.len() * 8 - trimmed[0].leading_zeros() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let d = [0x30, 0x03, 0x02, 0x01, 0x05];
        let s = expect(&d, 0, SEQUENCE).unwrap();
        assert_eq!(s.next, 5);
        let i = expect(s.body, 0, INTEGER).unwrap();
        assert_eq!(small_int(i.body), Some(5));
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        assert_eq!(read(&long, 0).unwrap().body.len(), 0x80);
        assert!(read(&long[..100], 0).is_none(), "truncated");
        assert!(read(&[0x30, 0x80, 0, 0], 0).is_none(), "indefinite");
        assert!(whole_sequence(&[0x30, 0x00, 0x00]).is_none(), "trailing");
        assert_eq!(int_bits(&[0x00, 0x80, 0x00]), 16);
    }
}
