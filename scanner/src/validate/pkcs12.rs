//! PKCS#12 keystores (.pfx / .p12) found by DER structure, not by name: the
//! PFX envelope (version 3, authSafe ContentInfo, optional MacData) must
//! parse, and a private-key bag must be visible, so certificate-only trust
//! stores are not reported.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::der::{self, INTEGER, OCTET_STRING, OID, SEQUENCE};
use super::{Candidate, Validated, Verdict};

const PKCS7: [u8; 8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07];
const KEY_BAG: [u8; 11] = [
    0x06, 0x0B, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x0A,
];
const PBES2: [u8; 9] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D];
const PKCS12_PBE: [u8; 9] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01];

/// Whether `data` is a PKCS#12 file holding a private key.
pub fn is_pkcs12(data: &[u8]) -> bool {
    inspect(data).is_ok()
}

/// ContentInfo's content type: the last arc of 1.2.840.113549.1.7.x.
fn pkcs7_type(oid: &[u8]) -> Option<u8> {
    match oid {
        [p @ .., t] if p == PKCS7 => Some(*t),
        _ => None,
    }
}

/// Checks the PFX structure; returns facts for the finding's details.
pub(super) fn inspect(data: &[u8]) -> Result<BTreeMap<String, Value>, String> {
    if data.len() < 64 || data[0] != SEQUENCE {
        return Err("not a DER sequence".into());
    }
    let mut d = BTreeMap::new();
    if data[1] == 0x80 {
        // BER indefinite length (some older Windows exports): header only.
        let v = der::expect(data, 2, INTEGER).ok_or("no version")?;
        if der::small_int(v.body) != Some(3) {
            return Err("version is not 3".into());
        }
        let at = v.next;
        if data.get(at) != Some(&SEQUENCE) {
            return Err("no authSafe".into());
        }
        let oid_at = at + if data.get(at + 1) == Some(&0x80) { 2 } else { 4 };
        let oid = der::expect(data, oid_at, OID).ok_or("no content type")?;
        if !matches!(pkcs7_type(oid.body), Some(1) | Some(2)) {
            return Err("authSafe is not data or signedData".into());
        }
        d.insert("encoding".into(), json!("BER"));
    } else {
        let outer = der::whole_sequence(data).ok_or("outer sequence length does not span the file")?;
        let v = der::expect(outer, 0, INTEGER).ok_or("no version")?;
        if der::small_int(v.body) != Some(3) {
            return Err("version is not 3".into());
        }
        let auth = der::expect(outer, v.next, SEQUENCE).ok_or("no authSafe")?;
        let oid = der::expect(auth.body, 0, OID).ok_or("no content type")?;
        match pkcs7_type(oid.body) {
            Some(1) => {
                let explicit = der::expect(auth.body, oid.next, 0xA0).ok_or("no content")?;
                let octets = der::read(explicit.body, 0).ok_or("bad content")?;
                if octets.tag == OCTET_STRING {
                    let safes = der::whole_sequence(octets.body)
                        .ok_or("AuthenticatedSafe is not a sequence")?;
                    let first = der::expect(safes, 0, SEQUENCE).ok_or("empty AuthenticatedSafe")?;
                    let inner = der::expect(first.body, 0, OID).ok_or("bad ContentInfo")?;
                    if !matches!(pkcs7_type(inner.body), Some(1) | Some(3) | Some(6)) {
                        return Err("AuthenticatedSafe holds an unknown content type".into());
                    }
                } else if octets.tag != 0x24 {
                    return Err("content is not an OCTET STRING".into());
                }
            }
            Some(2) => {
                d.insert("integrity".into(), json!("public-key"));
            }
            _ => return Err("authSafe is not data or signedData".into()),
        }
        if let Some(mac) = der::expect(outer, auth.next, SEQUENCE) {
            let digest = der::expect(mac.body, 0, SEQUENCE)
                .and_then(|di| der::expect(di.body, 0, SEQUENCE))
                .and_then(|alg| der::expect(alg.body, 0, OID))
                .ok_or("MacData has no digest algorithm")?;
            let name = match digest.body {
                [0x2B, 0x0E, 0x03, 0x02, 0x1A] => "sha1",
                [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01] => "sha256",
                [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02] => "sha384",
                [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03] => "sha512",
                _ => "other",
            };
            d.insert("mac".into(), json!(name));
        }
    }
    if memchr::memmem::find(data, &KEY_BAG).is_none() {
        return Err("no private-key bag in plain view (certificate-only store)".into());
    }
    let scheme = if memchr::memmem::find(data, &PBES2).is_some() {
        "PBES2"
    } else if memchr::memmem::find(data, &PKCS12_PBE).is_some() {
        "legacy PKCS#12 PBE (RC2/3DES)"
    } else {
        "unknown"
    };
    d.insert("encryption".into(), json!(scheme));
    d.insert("key_type".into(), json!("PKCS#12"));
    d.insert("format".into(), json!("PKCS#12"));
    Ok(d)
}

/// Validator for the structural candidate (the whole file).
pub(super) fn pkcs12(data: &[u8], c: &Candidate) -> Verdict {
    let blob = &data[c.start..c.end];
    let details = inspect(blob)?;
    Ok(Validated {
        details,
        display: Some(format!("PKCS#12 keystore, {} bytes", blob.len())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal(with_key_bag: bool) -> Vec<u8> {
        // AuthenticatedSafe = SEQUENCE { ContentInfo { data, [0] OCTET STRING } }
        // A SafeBag-like SEQUENCE: the bag type OID, or filler.
        let mut content = Vec::new();
        if with_key_bag {
            content.extend(KEY_BAG);
            content.push(0x02);
        } else {
            content.extend([0x05, 0x00]);
        }
        content.extend([0x04, 0x20]);
        content.extend([0x41u8; 0x20]);
        let mut bag = vec![0x30, content.len() as u8];
        bag.extend(&content);
        let mut ci = vec![0x06, 0x09];
        ci.extend(PKCS7);
        ci.push(1);
        ci.extend([0xA0, bag.len() as u8 + 2, 0x04, bag.len() as u8]);
        ci.extend(&bag);
        let mut safes = vec![0x30, ci.len() as u8 + 2, 0x30, ci.len() as u8];
        safes.extend(&ci);
        let mut auth = vec![0x06, 0x09];
        auth.extend(PKCS7);
        auth.push(1);
        auth.extend([0xA0, safes.len() as u8 + 2, 0x04, safes.len() as u8]);
        auth.extend(&safes);
        let mut body = vec![0x02, 0x01, 0x03, 0x30, auth.len() as u8];
        body.extend(&auth);
        let mut pfx = vec![0x30, body.len() as u8];
        pfx.extend(&body);
        pfx
    }

    #[test]
    fn structure_and_key_bag_are_required() {
        let pfx = minimal(true);
        assert!(is_pkcs12(&pfx), "{:?}", inspect(&pfx));
        assert!(!is_pkcs12(&minimal(false)), "certificate-only store");
        let mut wrong_version = pfx.clone();
        wrong_version[4] = 2;
        assert!(!is_pkcs12(&wrong_version));
        let mut trailing = pfx.clone();
        trailing.push(0);
        assert!(!is_pkcs12(&trailing));
        assert!(!is_pkcs12(&pfx[..pfx.len() - 1]));
    }
}
