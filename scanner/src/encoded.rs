//! Base64 payloads (issue 16): runs of base64 long enough to hold a
//! credential (data URIs, Kubernetes `data:`, base64 values in `.env`,
//! JSON or YAML) are decoded once and the decoded text is scanned by the
//! provider rules; a finding points at the encoded span.

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, GeneralPurpose as Engine};
use leakscan_rules::{Category, Rule};

use crate::matcher::{Matcher, RawMatch};

/// Shortest base64 run decoded: 40 characters, 30 bytes (shorter than
/// the self-identifying credentials with their prefixes).
pub const MIN_RUN: usize = 40;

/// Longest run decoded (a larger one is a file embedded whole: an image, a
/// font); its first [`MAX_RUN`] characters are not worth the cost either.
pub const MAX_RUN: usize = 1 << 20;

/// The detail key of a finding in decoded base64.
pub const IN_BASE64: &str = "in_base64";

const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: Engine = GeneralPurpose::new(&base64::alphabet::STANDARD, CONFIG);
const URL_SAFE: Engine = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CONFIG);

/// Byte classes: bit 0 a letter or digit, bit 1 `+` or `/`, bit 2 `-` or
/// `_`; bits 3, 4, 5 an upper-case letter, a lower-case letter, a digit.
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_uppercase() {
            1 | 8
        } else if c.is_ascii_lowercase() {
            1 | 16
        } else if c.is_ascii_digit() {
            1 | 32
        } else if c == b'+' || c == b'/' {
            2
        } else if c == b'-' || c == b'_' {
            4
        } else {
            0
        };
        b += 1;
    }
    t
};

const HIGH: u64 = 0x8080_8080_8080_8080;
const ONES: u64 = 0x0101_0101_0101_0101;

/// The eight bytes at `at`, with the high bit of each byte set where that
/// byte is a base64 byte (a letter, a digit, `+`, `/`, `-` or `_`): the
/// same classes as [`CLASS`], eight bytes at a time.
#[inline(always)]
fn base64_bits(data: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&data[at..at + 8]);
    let x = u64::from_le_bytes(word);
    // Bytes below 0x80 only: no carry crosses into the next byte.
    let y = x & !HIGH;
    // High bit set where the byte is at least `k`.
    let at_least = |v: u64, k: u64| v.wrapping_add(ONES * (0x80 - k));
    let folded = y | (ONES * 0x20);
    let letter = at_least(folded, b'a' as u64) & !at_least(folded, b'z' as u64 + 1);
    let digit = at_least(y, b'0' as u64) & !at_least(y, b'9' as u64 + 1);
    // `+`, `-` and `/` are the odd bytes from 0x2b to 0x2f; bit 0 of each
    // byte shifted to its bit 7.
    let sign = at_least(y, b'+' as u64) & !at_least(y, b'/' as u64 + 1) & (y << 7);
    let underscore = at_least(y, b'_' as u64) & !at_least(y, b'_' as u64 + 1);
    (letter | digit | sign | underscore) & !x & HIGH
}

/// Whether no byte of a word is below `+` (0x2b: space, line breaks,
/// quotes, brackets, `*`) or above 0x7f: true of every word of base64,
/// and false of most words of text and code.
#[inline(always)]
fn maybe_base64(word: &[u8; 8]) -> bool {
    let x = u64::from_le_bytes(*word);
    // A borrow out of a byte below 0x2b sets some high bit; so does a
    // byte above 0x7f.
    (x.wrapping_sub(ONES * u64::from(b'+')) | x) & HIGH == 0
}

/// Calls `found(start, end)` for every maximal run of base64 bytes at
/// least [`MIN_RUN`] long, in order (and perhaps for some shorter ones).
///
/// A run of MIN_RUN holds four whole words of eight bytes (aligned on the
/// blob's start). The words are read 64 at a time into a mask of those
/// that may be base64 ([`maybe_base64`], a few operations and no branch
/// per word); only where four in a row may be does [`base64_bits`] check
/// them, and a run found is followed out eight bytes at a time.
fn runs(data: &[u8], mut found: impl FnMut(usize, usize)) {
    const _: () = assert!(MIN_RUN >= 4 * 8 + 7);
    let n = data.len();
    let class = |i: usize| CLASS[data[i] as usize];
    let (words, _) = data.as_chunks::<8>();
    let full = |k: usize| base64_bits(data, 8 * k) == HIGH;
    // Where the previous run ended; the first word of this block of 64;
    // the previous block's last three bits.
    let mut lo = 0;
    let mut i = 0;
    let mut carry = 0u64;
    while i < words.len() {
        let block = &words[i..words.len().min(i + 64)];
        let mut may = 0u64;
        for (k, w) in block.iter().enumerate() {
            may |= u64::from(maybe_base64(w)) << k;
        }
        // Bit t + 3 of `fours`: words i + t - 3 ..= i + t may all be base64.
        let m = (u128::from(may) << 3) | u128::from(carry);
        let mut fours = m & (m << 1) & (m << 2) & (m << 3);
        let len = block.len();
        carry = if len >= 3 {
            (may >> (len - 3)) & 7
        } else {
            ((carry << len) | may) & 7
        };
        let mut next = i + len;
        while fours != 0 {
            // The last word of four.
            let j = i + fours.trailing_zeros() as usize - 3;
            if let Some(q) = (j - 3..=j).rev().find(|&k| !full(k)) {
                // Four in a row that are base64 start past word q.
                let from = q + 4 + 3 - i;
                if from >= 128 {
                    break;
                }
                fours &= !((1u128 << from) - 1);
                continue;
            }
            let mut start = 8 * (j - 3);
            loop {
                if start < lo + 8 {
                    while start > lo && class(start - 1) != 0 {
                        start -= 1;
                    }
                    break;
                }
                let gap = !base64_bits(data, start - 8) & HIGH;
                if gap != 0 {
                    start -= (gap.leading_zeros() / 8) as usize;
                    break;
                }
                start -= 8;
            }
            let mut end = 8 * j + 8;
            loop {
                if end + 8 > n {
                    while end < n && class(end) != 0 {
                        end += 1;
                    }
                    break;
                }
                let gap = !base64_bits(data, end) & HIGH;
                if gap != 0 {
                    end += (gap.trailing_zeros() / 8) as usize;
                    break;
                }
                end += 8;
            }
            found(start, end);
            // The next run starts past `end`, and so do its four words.
            lo = end;
            next = (end + 1).div_ceil(8);
            carry = 0;
            break;
        }
        i = next;
    }
}

/// Whether a rule runs on decoded base64: a provider's format, not the
/// generic rule, format-less values or password hashes (decoded bytes
/// have no context to lean on, and noise would follow).
pub fn decoded_rule(rule: &Rule) -> bool {
    !matches!(rule.category, Category::Generic | Category::PasswordHash) && !rule.formatless
}

/// The decoded runs of a blob, each followed by a newline, and where each
/// came from.
#[derive(Debug, Default)]
pub struct Decoded {
    pub text: Vec<u8>,
    /// (offset in `text`, decoded length, offset of the run in the blob,
    /// run length).
    map: Vec<(usize, usize, usize, usize)>,
}

impl Decoded {
    /// Decodes the base64 runs of `data` that are at least [`MIN_RUN`]
    /// long, mix upper-case, lower-case and digits (not hex, not an
    /// identifier) and decode to text. Where there are none it costs a few
    /// operations per eight bytes (see [`runs`]).
    pub fn of(data: &[u8]) -> Decoded {
        let mut out = Decoded::default();
        runs(data, |start, end| {
            let len = end - start;
            if !(MIN_RUN..=MAX_RUN).contains(&len) {
                return;
            }
            let seen = data[start..end]
                .iter()
                .fold(0u8, |a, &b| a | CLASS[b as usize]);
            if seen & 56 != 56 || seen & 6 == 6 {
                return;
            }
            // Padding belongs to the run.
            let mut padded = end;
            while padded < data.len() && padded - end < 2 && data[padded] == b'=' {
                padded += 1;
            }
            out.push(data, start, padded, seen & 4 != 0);
        });
        out
    }

    fn push(&mut self, data: &[u8], start: usize, end: usize, url_safe: bool) {
        let mut run = &data[start..end];
        while let [rest @ .., b'='] = run {
            run = rest;
        }
        if run.len() % 4 == 1 {
            run = &run[..run.len() - 1];
        }
        let engine = if url_safe { &URL_SAFE } else { &STANDARD };
        let at = self.text.len();
        if engine.decode_vec(run, &mut self.text).is_err() {
            self.text.truncate(at);
            return;
        }
        let decoded = &self.text[at..];
        if !mostly_text(decoded) {
            self.text.truncate(at);
            return;
        }
        self.map.push((at, decoded.len(), start, end - start));
        self.text.push(b'\n');
    }

    /// The encoded span in the blob of a `text` span, if it lies within
    /// one decoded run: the base64 quanta that hold those bytes.
    pub fn to_blob(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let i = self
            .map
            .partition_point(|&(t, ..)| t <= start)
            .checked_sub(1)?;
        let (t, len, run, run_len) = self.map[i];
        if end > t + len {
            return None;
        }
        let (s, e) = (start - t, end - t);
        Some((run + s / 3 * 4, run + (e.div_ceil(3) * 4).min(run_len)))
    }
}

/// Text, not bytes: no NUL and at most one byte in 16 outside printable
/// ASCII, whitespace and UTF-8 lead or continuation bytes.
fn mostly_text(d: &[u8]) -> bool {
    if d.contains(&0) {
        return false;
    }
    let odd = d
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r') || b == 0x7f)
        .count();
    odd * 16 <= d.len()
}

/// The provider rules' matches in the decoded base64 runs of `data`, with
/// spans moved onto the encoded text.
pub fn matches(matcher: &Matcher, data: &[u8]) -> Vec<RawMatch> {
    let decoded = Decoded::of(data);
    if decoded.text.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for mut m in matcher.scan_only(&decoded.text, &decoded_rule) {
        let Some((s, e)) = decoded.to_blob(m.start, m.end) else {
            continue;
        };
        m.start = s;
        m.end = e;
        m.details
            .insert(IN_BASE64.to_string(), serde_json::Value::Bool(true));
        out.push(m);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn runs_are_decoded_and_mapped_back() {
        let secret = "TOKEN=the decoded text of a run\n";
        let doc = format!("data:text/plain;base64,{}\nnext line", b64(secret));
        let d = Decoded::of(doc.as_bytes());
        assert_eq!(d.text, format!("{secret}\n").into_bytes());
        let at = secret.find("decoded").unwrap();
        let (s, e) = d.to_blob(at, at + 7).unwrap();
        // The quanta holding "decoded": within the encoded run.
        let run = doc.find(";base64,").unwrap() + 8;
        assert!(s >= run && e <= run + b64(secret).len() && s < e);
        let again = base64::engine::general_purpose::STANDARD
            .decode(&doc[s - (s - run) % 4..e])
            .unwrap();
        assert!(String::from_utf8_lossy(&again).contains("decoded"));
    }

    /// The probes miss no run: a run of each length from 39 to 48 at each
    /// offset from 0 to 48, behind words and punctuation.
    #[test]
    fn every_run_is_found_wherever_it_starts() {
        let long = b64("A decoded value, long enough: 0123456789 abcdefghij");
        for len in MIN_RUN - 1..=MIN_RUN + 8 {
            let run = &long[..len - len % 4];
            let run = if run.len() < len { &long[..len] } else { run };
            for at in 0..=MIN_RUN + 8 {
                let filler: String = "ab cd.".chars().cycle().take(at).collect();
                let doc = format!("{filler}:{run} x");
                let d = Decoded::of(doc.as_bytes());
                assert_eq!(!d.text.is_empty(), len >= MIN_RUN, "{len} at {at}: {doc}");
                if len >= MIN_RUN {
                    assert_eq!(d.map[0].2, at + 1, "{len} at {at}");
                }
            }
        }
    }

    #[test]
    fn hex_identifiers_short_runs_and_binary_are_left() {
        let hex = "0123456789abcdef0123456789abcdef0123456789abcdef";
        let ident = "a_long_snake_case_identifier_without_digits_at_all";
        let short = b64("short");
        let binary =
            base64::engine::general_purpose::STANDARD.encode([0u8, 1, 2, 3, 250].repeat(9));
        for s in [hex, ident, &short, &binary] {
            assert!(Decoded::of(s.as_bytes()).text.is_empty(), "{s}");
        }
        // URL-safe base64 is read too.
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode("a value >>> with ??? url-safe characters");
        assert!(url.contains(['-', '_']), "{url}");
        assert!(!Decoded::of(url.as_bytes()).text.is_empty());
    }

    /// The word-wise finder yields every maximal run of MIN_RUN or more
    /// that a byte-by-byte reading finds, on random text made of base64
    /// bytes, separators, `=` and bytes above 0x7f, and its word classes
    /// agree with the byte table.
    #[test]
    fn word_finder_agrees_with_a_byte_by_byte_reading() {
        for b in 0..=255u8 {
            let data = [b; 8];
            let bits = base64_bits(&data, 0);
            assert_eq!(bits == HIGH, CLASS[b as usize] != 0, "{b:#x}");
            assert!(bits == HIGH || bits == 0, "{b:#x}");
            // The cheap test passes every base64 word.
            assert!(maybe_base64(&data) || CLASS[b as usize] == 0, "{b:#x}");
            assert_eq!(maybe_base64(&data), (b'+'..0x80).contains(&b), "{b:#x}");
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"aZ9+/-_=. \n\x80\xff";
        let mut compared = 0;
        for round in 0..3000 {
            // Past 512 bytes, four words in a row straddle blocks of 64.
            let len = (next() % 1500) as usize;
            // Mostly base64 bytes, a separator one byte in `gap`.
            let gap = 2 + next() % 80;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if r % gap == 0 {
                        alphabet[7 + (r as usize / 97) % 6]
                    } else {
                        match (r >> 8) % 8 {
                            0 => alphabet[(r as usize >> 16) % 7],
                            _ => b"AZaz09Qq"[(r as usize >> 16) % 8],
                        }
                    }
                })
                .collect();
            let mut naive = Vec::new();
            let mut i = 0;
            while i < data.len() {
                let s = i;
                while i < data.len() && CLASS[data[i] as usize] != 0 {
                    i += 1;
                }
                if i - s >= MIN_RUN {
                    naive.push((s, i));
                }
                i += 1;
            }
            let mut found = Vec::new();
            runs(&data, |s, e| {
                if e - s >= MIN_RUN {
                    found.push((s, e));
                }
            });
            assert_eq!(
                found,
                naive,
                "round {round}: {:?}",
                String::from_utf8_lossy(&data)
            );
            compared += naive.len();
        }
        assert!(compared > 1000, "{compared}");
    }
}
