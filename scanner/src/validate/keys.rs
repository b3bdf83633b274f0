//! Private-key validators: PEM bodies and PKCS#12 structure.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::{Validated, Verdict};

/// A private key block whose body is real base64 of a plausible size, not
/// an elided `...` tutorial block.
pub(super) fn pem_private_key(block: &[u8]) -> Verdict {
    let text = String::from_utf8_lossy(block);
    let mut body = String::new();
    let mut in_body = false;
    for line in text.lines() {
        let line = line
            .trim()
            .trim_matches(|c| c == '"' || c == '\'' || c == ',');
        let line = line.trim_end_matches("\\n").trim();
        if line.starts_with("-----BEGIN") {
            in_body = true;
            continue;
        }
        if line.starts_with("-----END") {
            break;
        }
        if in_body && !line.contains(':') {
            body.extend(
                line.split("\\n")
                    .flat_map(|l| l.chars())
                    .filter(|c| !c.is_whitespace()),
            );
        }
    }
    let decoded = STANDARD
        .decode(body.as_bytes())
        .map_err(|_| "body is not base64".to_string())?;
    if decoded.len() < 64 {
        return Err(format!("body decodes to only {} bytes", decoded.len()));
    }
    let kind = text
        .lines()
        .next()
        .and_then(|l| l.split("BEGIN ").nth(1))
        .map(|k| k.trim_end_matches('-').trim().to_string())
        .unwrap_or_default();
    let mut details = BTreeMap::new();
    details.insert("key_type".into(), json!(kind));
    Ok(Validated {
        details,
        display: None,
    })
}

// --------------------------------------------------------------- PKCS12 ---

/// PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo (data or
/// signedData), macData OPTIONAL }, checked on the DER header only.
pub fn is_pkcs12(data: &[u8]) -> bool {
    fn read_len(d: &[u8], i: &mut usize) -> Option<usize> {
        let b = *d.get(*i)?;
        *i += 1;
        if b < 0x80 {
            return Some(b as usize);
        }
        let n = (b & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for _ in 0..n {
            len = (len << 8) | *d.get(*i)? as usize;
            *i += 1;
        }
        Some(len)
    }
    let mut i = 0;
    if data.first() != Some(&0x30) {
        return false;
    }
    i += 1;
    let Some(outer) = read_len(data, &mut i) else {
        return false;
    };
    if outer + i > data.len() || outer < 16 {
        return false;
    }
    if data.get(i..i + 3) != Some(&[0x02, 0x01, 0x03]) {
        return false;
    }
    i += 3;
    if data.get(i) != Some(&0x30) {
        return false;
    }
    i += 1;
    if read_len(data, &mut i).is_none() {
        return false;
    }
    // OID 1.2.840.113549.1.7.1 (data) or .2 (signedData)
    const OID: [u8; 10] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07];
    data.get(i..i + 10) == Some(&OID) && matches!(data.get(i + 10), Some(1) | Some(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs12_header() {
        let mut d = vec![
            0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03, 0x30, 0x82, 0x00, 0xf0,
        ];
        d.extend([
            0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01,
        ]);
        d.resize(0x104, 0);
        assert!(is_pkcs12(&d));
        d[6] = 2;
        assert!(!is_pkcs12(&d));
    }
}
