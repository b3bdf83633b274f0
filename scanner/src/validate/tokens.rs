//! Token validators: GitHub's CRC32 checksum and friends.

use super::{Validated, Verdict};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `prefix_` + 30 base62 characters + 6-character base62 CRC32 of those 30.
pub(super) fn github_checksum(s: &[u8]) -> Verdict {
    let Some(us) = s.iter().position(|&b| b == b'_') else {
        return Err("no prefix".into());
    };
    let body = &s[us + 1..];
    if body.len() != 36 {
        return Err(format!("body is {} characters, not 36", body.len()));
    }
    let (random, check) = body.split_at(30);
    let expected = base62_crc32(random);
    if check == expected.as_bytes() {
        Ok(Validated::default())
    } else {
        Err("checksum does not match".into())
    }
}

/// CRC32 of `data` in base62, left-padded with `0` to 6 characters.
pub fn base62_crc32(data: &[u8]) -> String {
    let mut n = crc32fast::hash(data) as u64;
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_checksum_round_trip() {
        let random = b"abcdefghijklmnopqrstuvwxyz0123";
        let token = format!(
            "ghp_{}{}",
            String::from_utf8_lossy(random),
            base62_crc32(random)
        );
        assert!(github_checksum(token.as_bytes()).is_ok());
        let mut bad = token.clone().into_bytes();
        bad[10] = b'Z';
        assert!(github_checksum(&bad).is_err());
    }
}
