//! Private-key validators for armored text: PEM blocks (PKCS#1, SEC1, DSA,
//! PKCS#8, encrypted PKCS#8, OpenSSH), PGP private key blocks, and Google
//! service-account JSON. Each decodes the body and checks its structure, so
//! elided tutorial keys (`...`) and random filler are rejected.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Value, json};

use super::der::{self, INTEGER, OCTET_STRING, OID, SEQUENCE};
use super::{Candidate, Validated, Verdict};

/// Standard base64 that accepts missing or present padding.
pub(super) const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The body of an armored block, wherever it was pasted: raw, inside a JSON
/// or code string with `\n` escapes, concatenated string literals, or an
/// indented YAML block scalar.
#[derive(Debug, Default)]
pub(super) struct Armor {
    /// `Name: value` header lines (Proc-Type, DEK-Info, Version, Comment).
    pub headers: Vec<(String, String)>,
    /// The base64 body, other characters removed.
    pub body: String,
    /// PGP's `=XXXX` CRC-24 line, if any.
    pub checksum: Option<String>,
}

/// Splits the text between the BEGIN and END lines into headers and body.
/// The block starts inside a string when it was pasted into one: quotes
/// toggle in and out of string literals, and only text inside them counts
/// (so `" +` joining literals is dropped), with `\n` escapes undone.
pub(super) fn armor_body(inner: &str) -> Armor {
    let quote = if inner.contains('"') { '"' } else { '\'' };
    let mut text = String::with_capacity(inner.len());
    let mut inside = true;
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            while chars.peek() == Some(&'\\') {
                chars.next();
            }
            match chars.peek() {
                Some('n') | Some('r') => {
                    chars.next();
                    if inside {
                        text.push('\n');
                    }
                }
                Some('t') => {
                    chars.next();
                }
                _ => {}
            }
        } else if c == quote {
            inside = !inside;
            text.push('\n');
        } else if inside {
            text.push(c);
        }
    }
    let mut armor = Armor::default();
    for line in text.lines() {
        let t = line.trim().trim_matches(|c: char| ",;|".contains(c) || c.is_whitespace());
        if t.is_empty() {
            continue;
        }
        if let Some((k, v)) = t.split_once(':')
            && !k.is_empty()
            && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            armor.headers.push((k.to_string(), v.trim().to_string()));
            continue;
        }
        if t.starts_with('=') && t.len() == 5 {
            armor.checksum = Some(t[1..].to_string());
            continue;
        }
        armor.body.extend(
            t.chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')),
        );
    }
    armor
}

/// Label between `-----BEGIN ` and `-----`, and the text up to `-----END`.
fn split_block(text: &str) -> Option<(&str, &str)> {
    let rest = &text[text.find("-----BEGIN ")? + 11..];
    let label_end = rest.find("-----")?;
    let label = &rest[..label_end];
    let after = &rest[label_end + 5..];
    let inner = &after[..after.find("-----END")?];
    Some((label.trim(), inner))
}

fn header<'a>(a: &'a Armor, name: &str) -> Option<&'a str> {
    a.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A PEM private key whose body is a complete key structure of its label.
pub(super) fn pem_private_key(block: &[u8]) -> Verdict {
    let text = std::str::from_utf8(block).map_err(|_| "not UTF-8".to_string())?;
    let (label, inner) = split_block(text).ok_or("no BEGIN/END lines")?;
    let armor = armor_body(inner);
    let der = B64
        .decode(armor.body.as_bytes())
        .map_err(|_| "body is not base64".to_string())?;
    let mut d = BTreeMap::new();
    let legacy_encrypted = header(&armor, "Proc-Type").is_some_and(|v| v.contains("ENCRYPTED"));
    let algo = label.strip_suffix("PRIVATE KEY").unwrap_or(label).trim();
    if legacy_encrypted {
        // PKCS#1/SEC1 encrypted with a DEK-Info cipher: opaque CBC blocks.
        if der.len() < 64 || der.len() % 8 != 0 || header(&armor, "DEK-Info").is_none() {
            return Err("encrypted body has no DEK-Info or a bad size".into());
        }
        d.insert("key_type".into(), json!(algo));
        d.insert("format".into(), json!("PEM (legacy encryption)"));
        d.insert("encrypted".into(), json!(true));
        return Ok(details(d));
    }
    match algo {
        "RSA" => {
            let bits = rsa_pkcs1(&der).ok_or("not a PKCS#1 RSA private key")?;
            d.insert("key_type".into(), json!("RSA"));
            d.insert("bits".into(), json!(bits));
            d.insert("format".into(), json!("PKCS#1"));
        }
        "EC" => {
            let curve = sec1(&der).ok_or("not a SEC1 EC private key")?;
            d.insert("key_type".into(), json!("EC"));
            if let Some(c) = curve {
                d.insert("curve".into(), json!(c));
            }
            d.insert("format".into(), json!("SEC1"));
        }
        "DSA" => {
            let body = der::whole_sequence(&der).ok_or("not a DER sequence")?;
            let mut at = 0;
            for _ in 0..6 {
                at = der::expect(body, at, INTEGER).ok_or("not a DSA private key")?.next;
            }
            d.insert("key_type".into(), json!("DSA"));
            d.insert("format".into(), json!("DSA"));
        }
        "" => {
            let kind = pkcs8(&der).ok_or("not a PKCS#8 private key")?;
            d.insert("key_type".into(), json!(kind));
            d.insert("format".into(), json!("PKCS#8"));
        }
        "ENCRYPTED" => {
            let scheme = encrypted_pkcs8(&der).ok_or("not an encrypted PKCS#8 key")?;
            d.insert("key_type".into(), json!("encrypted"));
            d.insert("format".into(), json!("encrypted PKCS#8"));
            d.insert("encryption".into(), json!(scheme));
            d.insert("encrypted".into(), json!(true));
        }
        "OPENSSH" => {
            let (kind, encrypted) = openssh(&der)?;
            d.insert("key_type".into(), json!(kind));
            d.insert("format".into(), json!("OpenSSH"));
            d.insert("encrypted".into(), json!(encrypted));
        }
        other => return Err(format!("unknown key label {other:?}")),
    }
    Ok(details(d))
}

fn details(d: BTreeMap<String, Value>) -> Validated {
    Validated {
        details: d,
        display: None,
    }
}

/// RSAPrivateKey: version, n, e, d, p, q, dp, dq, qinv. Returns n's bits.
fn rsa_pkcs1(der: &[u8]) -> Option<usize> {
    let body = der::whole_sequence(der)?;
    let v = der::expect(body, 0, INTEGER)?;
    if der::small_int(v.body)? > 1 {
        return None;
    }
    let n = der::expect(body, v.next, INTEGER)?;
    let mut at = n.next;
    for _ in 0..7 {
        at = der::expect(body, at, INTEGER)?.next;
    }
    let bits = der::int_bits(n.body);
    (bits >= 512).then_some(bits)
}

/// ECPrivateKey: version 1, privateKey OCTET STRING, [0] curve OID.
fn sec1(der: &[u8]) -> Option<Option<&'static str>> {
    let body = der::whole_sequence(der)?;
    let v = der::expect(body, 0, INTEGER)?;
    if der::small_int(v.body)? != 1 {
        return None;
    }
    let k = der::expect(body, v.next, OCTET_STRING)?;
    if !(20..=72).contains(&k.body.len()) {
        return None;
    }
    let curve = der::expect(body, k.next, 0xA0)
        .and_then(|p| der::expect(p.body, 0, OID))
        .and_then(|o| curve_name(o.body));
    Some(curve)
}

fn curve_name(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07] => "P-256",
        [0x2B, 0x81, 0x04, 0x00, 0x22] => "P-384",
        [0x2B, 0x81, 0x04, 0x00, 0x23] => "P-521",
        [0x2B, 0x81, 0x04, 0x00, 0x0A] => "secp256k1",
        _ => return None,
    })
}

/// PrivateKeyInfo / OneAsymmetricKey: version, AlgorithmIdentifier,
/// privateKey OCTET STRING. Returns the algorithm's name.
fn pkcs8(der: &[u8]) -> Option<&'static str> {
    let body = der::whole_sequence(der)?;
    let v = der::expect(body, 0, INTEGER)?;
    if der::small_int(v.body)? > 1 {
        return None;
    }
    let alg = der::expect(body, v.next, SEQUENCE)?;
    let oid = der::expect(alg.body, 0, OID)?;
    let key = der::expect(body, alg.next, OCTET_STRING)?;
    if key.body.len() < 16 {
        return None;
    }
    Some(match oid.body {
        [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01] => "RSA",
        [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0A] => "RSA-PSS",
        [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01] => "EC",
        [0x2A, 0x86, 0x48, 0xCE, 0x38, 0x04, 0x01] => "DSA",
        [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x03, 0x01] => "DH",
        [0x2B, 0x65, 0x70] => "Ed25519",
        [0x2B, 0x65, 0x71] => "Ed448",
        [0x2B, 0x65, 0x6E] => "X25519",
        [0x2B, 0x65, 0x6F] => "X448",
        _ => "PKCS#8",
    })
}

/// EncryptedPrivateKeyInfo: AlgorithmIdentifier (PBES2 or a PKCS#12 PBE),
/// encryptedData OCTET STRING.
fn encrypted_pkcs8(der: &[u8]) -> Option<&'static str> {
    let body = der::whole_sequence(der)?;
    let alg = der::expect(body, 0, SEQUENCE)?;
    let oid = der::expect(alg.body, 0, OID)?;
    let data = der::expect(body, alg.next, OCTET_STRING)?;
    if data.body.len() < 32 {
        return None;
    }
    const PKCS5: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05];
    const PKCS12_PBE: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01];
    if oid.body == [PKCS5, &[0x0D]].concat() {
        Some("PBES2")
    } else if oid.body.starts_with(PKCS5) {
        Some("PBES1")
    } else if oid.body.starts_with(PKCS12_PBE) {
        Some("PKCS#12 PBE")
    } else {
        None
    }
}

/// SSH wire-format reader: `string` = u32 length + bytes.
pub(super) struct Wire<'a>(pub &'a [u8]);

impl<'a> Wire<'a> {
    pub fn u32(&mut self) -> Option<u32> {
        let (h, t) = self.0.split_at_checked(4)?;
        self.0 = t;
        Some(u32::from_be_bytes(h.try_into().ok()?))
    }
    pub fn string(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        let (h, t) = self.0.split_at_checked(n)?;
        self.0 = t;
        Some(h)
    }
}

/// openssh-key-v1: magic, cipher, kdf, kdf options, key count, public
/// keys, private section (whose two check ints match when unencrypted).
fn openssh(der: &[u8]) -> Result<(String, bool), String> {
    let rest = der
        .strip_prefix(b"openssh-key-v1\0")
        .ok_or("no openssh-key-v1 magic")?;
    let bad = || "truncated OpenSSH key".to_string();
    let mut w = Wire(rest);
    let cipher = w.string().ok_or_else(bad)?;
    let _kdf = w.string().ok_or_else(bad)?;
    let _kdf_opts = w.string().ok_or_else(bad)?;
    let n = w.u32().ok_or_else(bad)?;
    if !(1..=16).contains(&n) {
        return Err(format!("{n} keys"));
    }
    let public = w.string().ok_or_else(bad)?;
    for _ in 1..n {
        w.string().ok_or_else(bad)?;
    }
    let private = w.string().ok_or_else(bad)?;
    let kind = Wire(public).string().ok_or_else(bad)?;
    let kind = String::from_utf8_lossy(kind).into_owned();
    let encrypted = cipher != b"none";
    if encrypted {
        if private.len() < 16 || private.len() % 8 != 0 {
            return Err("encrypted section has a bad size".into());
        }
    } else {
        let mut p = Wire(private);
        let (a, b) = (p.u32().ok_or_else(bad)?, p.u32().ok_or_else(bad)?);
        if a != b {
            return Err("check integers differ".into());
        }
        if p.string() != Some(kind.as_bytes()) {
            return Err("private key type differs from the public one".into());
        }
    }
    Ok((kind, encrypted))
}

/// A base64 value that decodes to a PEM private key (a Kubernetes Secret's
/// `tls.key`, a CI variable holding a key file).
pub(super) fn base64_pem_private_key(s: &[u8]) -> Verdict {
    let decoded = B64
        .decode(s)
        .map_err(|_| "not base64".to_string())?;
    let text = std::str::from_utf8(&decoded).map_err(|_| "decodes to binary".to_string())?;
    let begin = text.find("-----BEGIN ").ok_or("no PEM block inside")?;
    let end_at = text[begin..]
        .find("-----END ")
        .ok_or("no END line inside")?;
    let end = begin
        + end_at
        + text[begin + end_at + 9..]
            .find("-----")
            .map(|p| p + 14)
            .ok_or("no END line inside")?;
    let block = &text[begin..end];
    if !block.contains("PRIVATE KEY") {
        return Err("the PEM block is not a private key".into());
    }
    let mut v = if block.contains("PGP PRIVATE KEY BLOCK") {
        pgp_private_key(block.as_bytes())?
    } else {
        pem_private_key(block.as_bytes())?
    };
    v.details.insert("encoding".into(), json!("base64"));
    Ok(v)
}

/// CRC-24 of OpenPGP armor (RFC 4880 6.1).
fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0xB704CE;
    for &b in data {
        crc ^= (b as u32) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x1000000 != 0 {
                crc ^= 0x1864CFB;
            }
        }
    }
    crc & 0xFFFFFF
}

/// An armored PGP private key block: its checksum (if present) matches
/// and the first packet is a secret key (tag 5).
pub(super) fn pgp_private_key(block: &[u8]) -> Verdict {
    let text = std::str::from_utf8(block).map_err(|_| "not UTF-8".to_string())?;
    let (_, inner) = split_block(text).ok_or("no BEGIN/END lines")?;
    let armor = armor_body(inner);
    let data = B64
        .decode(armor.body.as_bytes())
        .map_err(|_| "body is not base64".to_string())?;
    if let Some(sum) = &armor.checksum {
        let want = B64.decode(sum).map_err(|_| "bad checksum line")?;
        let got = crc24(&data).to_be_bytes();
        if want != got[1..] {
            return Err("armor checksum does not match".into());
        }
    }
    let first = *data.first().ok_or("empty body")?;
    if first & 0x80 == 0 {
        return Err("not an OpenPGP packet".into());
    }
    let (tag, header_len) = if first & 0x40 != 0 {
        let l = match data.get(1) {
            Some(&l) if l < 192 => 1,
            Some(&l) if l < 224 => 2,
            Some(&255) => 5,
            _ => return Err("bad packet length".into()),
        };
        (first & 0x3F, 1 + l)
    } else {
        let l = match first & 3 {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => return Err("indeterminate packet length".into()),
        };
        ((first >> 2) & 0x0F, 1 + l)
    };
    if tag != 5 {
        return Err(format!("first packet has tag {tag}, not a secret key"));
    }
    if data.len() < header_len + 32 {
        return Err("secret key packet too short".into());
    }
    let version = data[header_len];
    let algo = match version {
        4 | 5 | 6 => data.get(header_len + 5).copied(),
        3 => data.get(header_len + 7).copied(),
        _ => return Err(format!("unknown key version {version}")),
    };
    let algo = match algo {
        Some(1..=3) => "RSA",
        Some(16) => "ElGamal",
        Some(17) => "DSA",
        Some(18) => "ECDH",
        Some(19) => "ECDSA",
        Some(22) => "EdDSA",
        Some(25) => "X25519",
        Some(27) => "Ed25519",
        Some(28) => "Ed448",
        _ => "unknown",
    };
    let mut d = BTreeMap::new();
    d.insert("key_type".into(), json!(format!("PGP {algo}")));
    d.insert("format".into(), json!("OpenPGP"));
    Ok(details(d))
}

/// A Google service-account key: the `private_key` PEM must be valid and
/// the surrounding JSON must say `"type": "service_account"`. Its
/// `client_email`, `private_key_id` and `project_id` become details.
pub(super) fn gcp_service_account(data: &[u8], c: &Candidate) -> Verdict {
    let mut v = pem_private_key(&data[c.start..c.end])?;
    let lo = c.match_start.saturating_sub(8192);
    let hi = (c.match_end + 8192).min(data.len());
    let window = String::from_utf8_lossy(&data[lo..hi]);
    let field = |name: &str| -> Option<String> {
        let key = format!("\"{name}\"");
        let at = window.find(&key)? + key.len();
        let rest = window[at..].trim_start().strip_prefix(':')?.trim_start();
        let rest = rest.strip_prefix('"')?;
        Some(rest[..rest.find('"')?].to_string())
    };
    if field("type").as_deref() != Some("service_account") {
        return Err("no \"type\": \"service_account\" next to the key".into());
    }
    for name in ["client_email", "private_key_id", "project_id", "client_id"] {
        if let Some(val) = field(name) {
            v.details.insert(name.into(), json!(val));
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC_SEC1: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEINLARZyt+kzUoPTFQo4O4zSWnmdah9fI+AnrvfW5NWa0oAoGCCqGSM49
AwEHoUQDQgAEecVapPe2ET/mRo320JTsIMFV3+Xlp3gW5R4hswKJx2HoIqTQ3fz/
RZxIsxPWuiZiPxRtl0j9frVuB1W4ivL9uw==
-----END EC PRIVATE KEY-----";
    const ED_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIDeeYclTkHZt7GbWucD59WxfsS54m0yOXPttPebyVpvA
-----END PRIVATE KEY-----";
    const OPENSSH: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBqGLwORGED8l1rnfbw4ar33aKGnIRdYffcksIuAj1GZAAAAJg9at0APWrd
AAAAAAtzc2gtZWQyNTUxOQAAACBqGLwORGED8l1rnfbw4ar33aKGnIRdYffcksIuAj1GZA
AAAEB5xwQ0IFscX97d04JgvIPmWNGAS5WudHYdRj2Ml5bPMWoYvA5EYQPyXWud9vDhqvfd
ooachF1h99ySwi4CPUZkAAAAFGRlcGxveUBsZWFrc2Nhbi10ZXN0AQ==
-----END OPENSSH PRIVATE KEY-----";

    fn kind(v: &Validated) -> &str {
        v.details["key_type"].as_str().unwrap()
    }

    #[test]
    fn pem_kinds_are_reported() {
        assert_eq!(kind(&pem_private_key(EC_SEC1.as_bytes()).unwrap()), "EC");
        assert_eq!(
            kind(&pem_private_key(ED_PKCS8.as_bytes()).unwrap()),
            "Ed25519"
        );
        let v = pem_private_key(OPENSSH.as_bytes()).unwrap();
        assert_eq!(kind(&v), "ssh-ed25519");
        assert_eq!(v.details["encrypted"], json!(false));
    }

    #[test]
    fn json_escaped_and_concatenated_bodies_decode() {
        let json = EC_SEC1.replace('\n', "\\n");
        assert!(pem_private_key(json.as_bytes()).is_ok());
        let concat = EC_SEC1
            .lines()
            .map(|l| format!("\"{l}\\n\" +"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(pem_private_key(concat.as_bytes()).is_ok(), "{concat}");
        let yaml = EC_SEC1
            .lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(pem_private_key(yaml.as_bytes()).is_ok());
    }

    #[test]
    fn elided_truncated_and_corrupt_keys_are_rejected() {
        let elided = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n...\n-----END RSA PRIVATE KEY-----";
        assert!(pem_private_key(elided.as_bytes()).is_err());
        let truncated: String = EC_SEC1
            .lines()
            .enumerate()
            .filter(|(i, _)| *i != 2)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        assert!(pem_private_key(truncated.as_bytes()).is_err());
        // A public key's DER under a private label.
        let public = "-----BEGIN PRIVATE KEY-----\nMCowBQYDK2VwAyEAahi8DkRhA/Jda5328OGq992ihpyEXWH33JLCLgI9RmQ=\n-----END PRIVATE KEY-----";
        assert!(pem_private_key(public.as_bytes()).is_err());
        let corrupt = OPENSSH.replace("AAAAJg9at0APWrd", "AAAAJg9at0APWre");
        assert!(pem_private_key(corrupt.as_bytes()).is_err());
    }

    #[test]
    fn base64_wrapped_pem() {
        let wrapped = B64.encode(format!("{EC_SEC1}\n"));
        let v = base64_pem_private_key(wrapped.as_bytes()).unwrap();
        assert_eq!(v.details["key_type"], json!("EC"));
        let public = B64.encode("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAahi8DkRhA/Jda5328OGq992ihpyEXWH33JLCLgI9RmQ=\n-----END PUBLIC KEY-----\n");
        assert!(base64_pem_private_key(public.as_bytes()).is_err());
    }

    #[test]
    fn crc24_known_value() {
        // RFC 4880's CRC-24 of the empty input is its initial value.
        assert_eq!(crc24(b""), 0xB704CE);
        assert_ne!(crc24(b"a"), crc24(b"b"));
    }

    #[test]
    fn service_account_needs_its_type() {
        let key = ED_PKCS8.replace('\n', "\\n");
        let doc = format!(
            "{{\"type\": \"service_account\", \"project_id\": \"p\", \"private_key_id\": \"abc\", \"private_key\": \"{key}\\n\", \"client_email\": \"svc@p.iam.gserviceaccount.com\"}}"
        );
        let start = doc.find("-----BEGIN").unwrap();
        let end = doc.find("-----END PRIVATE KEY-----").unwrap() + 25;
        let c = Candidate {
            start,
            end,
            match_start: start,
            match_end: end,
        };
        let v = gcp_service_account(doc.as_bytes(), &c).unwrap();
        assert_eq!(v.details["client_email"], json!("svc@p.iam.gserviceaccount.com"));
        assert_eq!(v.details["private_key_id"], json!("abc"));
        let other = doc.replace("service_account", "authorized_user");
        assert!(gcp_service_account(other.as_bytes(), &c).is_err());
    }
}
