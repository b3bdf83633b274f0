//! Token and cloud-key validators: GitHub's and npm's CRC32 checksum, AWS
//! secret access keys, Azure storage keys and SAS signatures, and the shape
//! of random token tails.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::{Candidate, Validated, Verdict};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// GitHub's documented format (and npm's since 2021): `prefix_` + 30 base62
/// characters + a CRC32 in base62, left-padded with `0` to 6 characters.
/// GitHub's post does not spell out whether the prefix is part of the
/// checksummed text, so both readings are accepted (a random look-alike
/// still passes with probability 2^-31).
pub(super) fn github_checksum(s: &[u8]) -> Verdict {
    let Some(us) = s.iter().rposition(|&b| b == b'_') else {
        return Err("no prefix".into());
    };
    let body = &s[us + 1..];
    if body.len() != 36 {
        return Err(format!("body is {} characters, not 36", body.len()));
    }
    let (random, check) = body.split_at(30);
    let with_prefix = &s[..s.len() - 6];
    if check == base62_crc32(random).as_bytes() || check == base62_crc32(with_prefix).as_bytes() {
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

/// Character classes present in `s`: (lower, upper, digit, other).
fn classes(s: &[u8]) -> (bool, bool, bool, bool) {
    let mut c = (false, false, false, false);
    for &b in s {
        match b {
            b'a'..=b'z' => c.0 = true,
            b'A'..=b'Z' => c.1 = true,
            b'0'..=b'9' => c.2 = true,
            _ => c.3 = true,
        }
    }
    c
}

/// Longest run of one repeated byte.
fn longest_run(s: &[u8]) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for &b in s {
        if Some(b) == prev {
            run += 1;
        } else {
            run = 1;
            prev = Some(b);
        }
        best = best.max(run);
    }
    best
}

/// Filler words of documentation and templates, for every provider rule.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "xxxxx",
    "placeholder",
    "redacted",
    "changeme",
    "your_",
    "your-",
    "yourtoken",
    "yourkey",
    "yourapikey",
    "yoursecret",
    "_here",
    "-here",
    "goes_here",
    "insert_",
    "replace_me",
    "replaceme",
];

/// The longest run of characters that each follow the previous one in
/// ASCII order (`abcdef`, `12345`), ignoring case.
fn longest_sequence(s: &[u8]) -> usize {
    let mut best = usize::from(!s.is_empty());
    let mut run = 1;
    for w in s.windows(2) {
        let (a, b) = (w[0].to_ascii_lowercase(), w[1].to_ascii_lowercase());
        if a.is_ascii_alphanumeric() && b == a.wrapping_add(1) {
            run += 1;
            best = best.max(run);
        } else {
            run = 1;
        }
    }
    best
}

/// A provider credential that is a template's filler rather than a key:
/// a filler word, a run of one character or an ascending sequence of eight
/// or more. A generator's output has none of these (the chance of eight in
/// a row in 40 random base62 characters is below 1e-12).
pub fn placeholder_token(s: &[u8]) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    if let Some(w) = PLACEHOLDER_WORDS
        .iter()
        .find(|w| crate::bytes::memmem(&lower, w.as_bytes()).is_some())
    {
        return Some(format!("contains the placeholder word {w:?}"));
    }
    if longest_run(s) >= 8 {
        return Some("a run of eight or more of one character".into());
    }
    if longest_sequence(s) >= 8 {
        return Some("an ascending sequence of eight or more characters".into());
    }
    None
}

/// Words that mark a documentation value rather than a credential.
const DOC_WORDS: &[&str] = &["example", "xxxxx", "your", "placeholder", "redacted"];

fn doc_word(s: &[u8]) -> Option<&'static str> {
    let lower = s.to_ascii_lowercase();
    DOC_WORDS
        .iter()
        .find(|w| crate::bytes::memmem(&lower, w.as_bytes()).is_some())
        .copied()
}

/// The random part of a token: mixed character classes (a generator's
/// output, not a word or a hex digest), no long repeated run, no
/// documentation word. Used for the tails of prefixed tokens.
pub(super) fn token_shape(s: &[u8]) -> Verdict {
    if let Some(w) = doc_word(s) {
        return Err(format!("contains the documentation word {w:?}"));
    }
    if longest_run(s) >= 6 {
        return Err("a long run of one character".into());
    }
    let tail = s
        .iter()
        .rposition(|b| matches!(b, b'_' | b'-' | b'.'))
        .map(|i| &s[i + 1..])
        .filter(|t| t.len() >= 16)
        .unwrap_or(s);
    let (lower, upper, digit, _) = classes(tail);
    if [lower, upper, digit].iter().filter(|x| **x).count() < 2 {
        return Err("random part uses a single character class".into());
    }
    Ok(Validated::default())
}

/// Secret keys printed in AWS's developer guides (signature examples) that
/// client libraries copy into their tests: published, not leaked.
const AWS_DOC_SECRETS: &[&[u8]] = &[
    // S3 developer guide, REST authentication examples (with key id
    // 0PN5J17HBGZHT7JJ3X82).
    b"uV3F3YluFJax1cknvbcGwgjvx4QpvB+leU8dUj2o",
];

/// An AWS secret access key: 40 characters of base64's alphabet, as
/// generated: upper and lower case and digits (a 40-hex git hash or a word
/// is not one), and not the documentation's `…EXAMPLEKEY`.
pub(super) fn aws_secret_key(s: &[u8]) -> Verdict {
    if s.len() != 40 {
        return Err(format!("{} characters, not 40", s.len()));
    }
    if let Some(w) = doc_word(s) {
        return Err(format!("contains the documentation word {w:?}"));
    }
    if AWS_DOC_SECRETS.contains(&s) {
        return Err("the secret key of AWS's own documentation examples".into());
    }
    let (lower, upper, digit, _) = classes(s);
    if !(lower && upper && digit) {
        return Err("not upper, lower case and digits mixed".into());
    }
    if longest_run(s) >= 5 {
        return Err("a long run of one character".into());
    }
    Ok(Validated::default())
}

/// The Azurite / storage emulator's published account key (not a secret).
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// An Azure storage account key: base64 that decodes to exactly 64 bytes,
/// not the emulator's well-known key, not a long run of one byte.
pub(super) fn azure_storage_key(s: &[u8]) -> Verdict {
    if s == AZURITE_KEY.as_bytes() {
        return Err("the storage emulator's published key".into());
    }
    let decoded = STANDARD
        .decode(s)
        .map_err(|_| "not valid base64".to_string())?;
    if decoded.len() != 64 {
        return Err(format!("decodes to {} bytes, not 64", decoded.len()));
    }
    let distinct = {
        let mut seen = [false; 256];
        decoded.iter().for_each(|&b| seen[b as usize] = true);
        seen.iter().filter(|x| **x).count()
    };
    if distinct < 24 {
        return Err("decoded key is not random".into());
    }
    Ok(Validated::default())
}

/// A shared access signature's `sig`: URL-decoded base64 of a 32-byte
/// HMAC-SHA256. Adds the expiry (`se`) and permissions (`sp`) when present.
pub(super) fn azure_sas(s: &[u8], data: &[u8], c: &Candidate) -> Verdict {
    let decoded_sig = super::percent_decode(s);
    let raw = STANDARD
        .decode(&decoded_sig)
        .map_err(|_| "sig is not base64".to_string())?;
    if raw.len() != 32 {
        return Err(format!("sig decodes to {} bytes, not 32", raw.len()));
    }
    let whole = String::from_utf8_lossy(&data[c.match_start..c.match_end]);
    let mut details = BTreeMap::new();
    for part in whole.split(['&', '?']) {
        if let Some((k, v)) = part.split_once('=')
            && matches!(k, "se" | "sp" | "sv" | "sr" | "ss")
        {
            let v = String::from_utf8_lossy(&super::percent_decode(v.as_bytes())).into_owned();
            let name = match k {
                "se" => "expiry",
                "sp" => "permissions",
                "sv" => "version",
                "sr" => "resource",
                _ => "services",
            };
            details.insert(name.into(), json!(v));
        }
    }
    Ok(Validated {
        details,
        display: None,
    })
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

    #[test]
    fn npm_tokens_use_the_same_checksum() {
        let random = b"FAKE1f8rESQedUStPKR0CsTy4Qwb8D";
        let token = format!(
            "npm_{}{}",
            String::from_utf8_lossy(random),
            base62_crc32(random)
        );
        assert!(github_checksum(token.as_bytes()).is_ok());
    }

    #[test]
    fn aws_secret_rejects_hashes_and_docs() {
        assert!(aws_secret_key(b"yiA4uoRgnatmUdjAWtGSU8po/799NksnRH9ucAUs").is_ok());
        assert!(aws_secret_key(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").is_err());
        assert!(aws_secret_key(b"uV3F3YluFJax1cknvbcGwgjvx4QpvB+leU8dUj2o").is_err());
        assert!(aws_secret_key(b"da39a3ee5e6b4b0d3255bfef95601890afd80709").is_err());
    }

    #[test]
    fn azure_key_length_and_emulator() {
        let key = STANDARD.encode((0u8..64).map(|i| i.wrapping_mul(37)).collect::<Vec<_>>());
        assert!(azure_storage_key(key.as_bytes()).is_ok());
        assert!(azure_storage_key(AZURITE_KEY.as_bytes()).is_err());
        let short = STANDARD.encode([7u8; 48]);
        assert!(azure_storage_key(short.as_bytes()).is_err());
    }

    #[test]
    fn token_shape_needs_mixed_classes() {
        assert!(token_shape(b"NKiaEdFrRgSnRFsTHsDDDXh5").is_ok());
        assert!(token_shape(b"xxxxxxxxxxxxxxxxxxxxxxxx").is_err());
        assert!(token_shape(b"abcdefghijklmnopqrstuvwx").is_err());
        assert!(token_shape(b"your-token-goes-here-1234").is_err());
    }
}
