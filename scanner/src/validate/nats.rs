//! NATS nkey seeds: base32 (RFC 4648, unpadded) of two prefix bytes, the
//! 32-byte Ed25519 seed and a CRC-16 (XMODEM, little-endian) of the bytes
//! before it. The checksum tells a real seed from 58 random capitals.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Validated, Verdict};

/// The base32 value of an RFC 4648 letter or digit.
fn b32(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'2'..=b'7' => Some(c - b'2' + 26),
        _ => None,
    }
}

fn decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in s {
        acc = (acc << 5) | u32::from(b32(c)?);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

pub(crate) fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// A seed's kind from its second prefix byte.
fn kind(prefix: u8) -> Option<&'static str> {
    Some(match prefix {
        p if p == 20 << 3 => "user",
        0 => "account",
        p if p == 14 << 3 => "operator",
        p if p == 13 << 3 => "server",
        p if p == 2 << 3 => "cluster",
        p if p == 23 << 3 => "curve",
        _ => return None,
    })
}

/// An nkey seed (`SU…`, `SA…`, `SO…`): 58 base32 characters whose CRC-16
/// holds and whose prefix names a seed of a known kind.
pub(super) fn nkey_seed(s: &[u8]) -> Verdict {
    if s.len() != 58 {
        return Err(format!("{} characters, a seed has 58", s.len()));
    }
    let raw = decode(s).ok_or("not base32")?;
    if raw.len() != 36 {
        return Err("does not decode to 36 bytes".into());
    }
    let (body, sum) = raw.split_at(34);
    if crc16(body) != u16::from_le_bytes([sum[0], sum[1]]) {
        return Err("CRC-16 mismatch".into());
    }
    if raw[0] & 0xF8 != 18 << 3 {
        return Err("not a seed prefix".into());
    }
    let prefix = ((raw[0] & 7) << 5) | (raw[1] >> 3);
    let kind = kind(prefix).ok_or("unknown key kind")?;
    let mut details = BTreeMap::new();
    details.insert("kind".to_string(), json!(kind));
    Ok(Validated {
        details,
        display: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(bytes: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let (mut acc, mut bits, mut out) = (0u32, 0u32, String::new());
        for &b in bytes {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                out.push(A[((acc >> bits) & 31) as usize] as char);
            }
            acc &= (1 << bits) - 1;
        }
        if bits > 0 {
            out.push(A[((acc << (5 - bits)) & 31) as usize] as char);
        }
        out
    }

    fn seed(prefix: u8, raw: [u8; 32]) -> String {
        let mut b = vec![(18 << 3) | (prefix >> 5), (prefix & 31) << 3];
        b.extend_from_slice(&raw);
        let c = crc16(&b);
        b.extend_from_slice(&c.to_le_bytes());
        encode(&b)
    }

    #[test]
    fn round_trip_and_checksum() {
        let raw: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
        let s = seed(20 << 3, raw);
        assert!(s.starts_with("SUA") && s.len() == 58, "{s}");
        let ok = nkey_seed(s.as_bytes()).expect("valid");
        assert_eq!(ok.details["kind"], "user");
        assert!(nkey_seed(seed(0, raw).as_bytes()).is_ok());
        let mut bad = s.into_bytes();
        bad[30] = if bad[30] == b'A' { b'B' } else { b'A' };
        assert!(nkey_seed(&bad).is_err());
        assert!(nkey_seed(&[b'S'; 58]).is_err());
    }
}
