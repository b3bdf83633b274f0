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
    /// identifier) and decode to text. Where there are none it looks at
    /// one byte in [`MIN_RUN`] and the words around the probes that land in
    /// one.
    pub fn of(data: &[u8]) -> Decoded {
        let mut out = Decoded::default();
        let n = data.len();
        let class = |i: usize| CLASS[data[i] as usize];
        // A run of MIN_RUN holds every MIN_RUN-th byte: probe those, and
        // look around a probe only where it is a base64 byte.
        let mut lo = 0;
        let mut i = MIN_RUN - 1;
        while i < n {
            if class(i) == 0 {
                i += MIN_RUN;
                continue;
            }
            let mut start = i;
            while start > lo && class(start - 1) != 0 {
                start -= 1;
            }
            // The window of MIN_RUN bytes from the word's start, checked
            // from its far end: a gap at k means no run starts before k.
            let last = start + MIN_RUN - 1;
            if last >= n {
                break;
            }
            let mut k = last;
            while k > i && class(k) != 0 {
                k -= 1;
            }
            if k > i {
                lo = k;
                i = k + MIN_RUN;
                continue;
            }
            let mut end = last + 1;
            while end < n && class(end) != 0 {
                end += 1;
            }
            lo = end;
            i = end + MIN_RUN;
            let len = end - start;
            if !(MIN_RUN..=MAX_RUN).contains(&len) {
                continue;
            }
            let seen = data[start..end]
                .iter()
                .fold(0u8, |a, &b| a | CLASS[b as usize]);
            if seen & 56 != 56 || seen & 6 == 6 {
                continue;
            }
            // Padding belongs to the run.
            let mut padded = end;
            while padded < n && padded - end < 2 && data[padded] == b'=' {
                padded += 1;
            }
            out.push(data, start, padded, seen & 4 != 0);
        }
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
}
