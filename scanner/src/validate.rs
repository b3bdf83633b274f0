//! Validators: checks that a regex cannot express (checksums, lengths tied
//! to a version digit, decoding a JWT or a PEM body, binary structure). Each
//! either accepts a candidate, adding decoded facts, or rejects it with a
//! short reason. Rules name them by string (`validate = "jwt"`).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

/// A regex match: the secret span and the whole match span.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    pub start: usize,
    pub end: usize,
    pub match_start: usize,
    pub match_end: usize,
}

/// What an accepted candidate adds to its finding.
#[derive(Debug, Default)]
pub struct Validated {
    pub details: BTreeMap<String, Value>,
    pub display: Option<String>,
}

pub type Verdict = Result<Validated, String>;

/// Runs the named validator on a candidate.
pub fn validate(name: &str, c: &Candidate, data: &[u8]) -> Verdict {
    let secret = &data[c.start..c.end];
    match name {
        "entra-secret" => entra_secret(secret),
        "github-checksum" => github_checksum(secret),
        "jwt" => jwt(secret, data, c),
        "placeholder" => placeholder(secret),
        "pem-private-key" => pem_private_key(secret),
        "jwk-private" => Ok(Validated::default()),
        "saml-signed" => Ok(Validated::default()),
        "url-credentials" => placeholder(secret),
        "base64-key" => Ok(Validated::default()),
        "pkcs12" => Ok(Validated::default()),
        other => Err(format!("validator `{other}` is not implemented")),
    }
}

/// Structural detectors for rules without a pattern (binary formats).
pub fn structural(name: &str, data: &[u8]) -> Vec<Candidate> {
    match name {
        "pkcs12" if is_pkcs12(data) => vec![Candidate {
            start: 0,
            end: data.len(),
            match_start: 0,
            match_end: data.len(),
        }],
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------- Entra ---

/// Microsoft's SEC101/156 shape: length 37 goes with the digit 7 at index 3,
/// length 40 with 8.
fn entra_secret(s: &[u8]) -> Verdict {
    match (s.len(), s.get(3)) {
        (37, Some(b'7')) | (40, Some(b'8')) => Ok(Validated::default()),
        (len, d) => Err(format!(
            "length {len} does not fit version digit {}",
            d.map(|d| *d as char).unwrap_or('?')
        )),
    }
}

// --------------------------------------------------------------- GitHub ---

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `prefix_` + 30 base62 characters + 6-character base62 CRC32 of those 30.
fn github_checksum(s: &[u8]) -> Verdict {
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

// ------------------------------------------------------------------ JWT ---

/// Decodes header and claims (without verifying), classifies the token and
/// records `alg`, `iss`, `aud`, `exp`, `expired`, `kind`.
fn jwt(s: &[u8], data: &[u8], c: &Candidate) -> Verdict {
    let text = std::str::from_utf8(s).map_err(|_| "not UTF-8".to_string())?;
    let mut parts = text.split('.');
    let (Some(h), Some(p), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not three dot-separated parts".into());
    };
    let header: Value = decode_json(h).ok_or("header is not base64url JSON")?;
    let claims: Value = decode_json(p).ok_or("payload is not base64url JSON")?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or("header has no alg")?;
    if alg.eq_ignore_ascii_case("none") || sig.len() < 16 {
        return Err("unsigned token".into());
    }
    if !claims.is_object() {
        return Err("claims are not an object".into());
    }
    let mut d = BTreeMap::new();
    d.insert("alg".into(), json!(alg));
    for k in ["iss", "aud", "sub_is_iss", "typ"] {
        if let Some(v) = claims.get(k) {
            d.insert(k.into(), v.clone());
        }
    }
    if let Some(x5t) = header.get("x5t").or_else(|| header.get("kid")) {
        d.insert("key_id".into(), x5t.clone());
    }
    let exp = claims.get("exp").and_then(Value::as_i64);
    if let Some(exp) = exp {
        d.insert("exp".into(), json!(exp));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        d.insert("expired".into(), json!(exp < now));
    }
    d.insert("kind".into(), json!(jwt_kind(&claims, data, c)));
    Ok(Validated {
        details: d,
        display: None,
    })
}

fn decode_json(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `client-assertion` (iss == sub and aud a token endpoint, or found next to
/// `client_assertion`), `id-token`, `access-token` or `other`.
fn jwt_kind(claims: &Value, data: &[u8], c: &Candidate) -> &'static str {
    let iss = claims.get("iss").and_then(Value::as_str);
    let sub = claims.get("sub").and_then(Value::as_str);
    let aud_is_token_endpoint = match claims.get("aud") {
        Some(Value::String(a)) => is_token_endpoint(a),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(is_token_endpoint),
        _ => false,
    };
    let before = &data[c.match_start.saturating_sub(200)..c.match_start];
    let near_assertion = crate::matcher::memmem(&before.to_ascii_lowercase(), b"client_assertion")
        .is_some();
    if near_assertion || (iss.is_some() && iss == sub && aud_is_token_endpoint) {
        "client-assertion"
    } else if claims.get("nonce").is_some()
        || (claims.get("aud").is_some() && claims.get("at_hash").is_some())
        || claims.get("auth_time").is_some() && claims.get("scp").is_none()
    {
        "id-token"
    } else if claims.get("scp").is_some()
        || claims.get("scope").is_some()
        || claims.get("roles").is_some()
        || claims.get("client_id").is_some()
        || claims.get("azp").is_some()
    {
        "access-token"
    } else {
        "other"
    }
}

fn is_token_endpoint(aud: &str) -> bool {
    let a = aud.to_ascii_lowercase();
    a.starts_with("http") && (a.contains("/token") || a.ends_with("/oauth2/v2.0/token"))
}

// ---------------------------------------------------------- placeholder ---

/// Rejects values that name a secret rather than hold one: variable
/// references, templates, masked or repeated characters, example words.
fn placeholder(s: &[u8]) -> Verdict {
    let lower = s.to_ascii_lowercase();
    let t = String::from_utf8_lossy(&lower);
    const WORDS: &[&str] = &[
        "changeme", "change_me", "change-me", "xxxx", "****", "....", "example", "placeholder",
        "your-", "your_", "yourpass", "<your", "dummy", "redacted", "sample", "todo", "fixme",
        "secret_here", "insert", "replace", "foobar", "password1", "passw0rd", "abcdef",
        "123456", "qwerty", "letmein", "notreal", "fake",
    ];
    if let Some(w) = WORDS.iter().find(|w| t.contains(**w)) {
        return Err(format!("placeholder word {w:?}"));
    }
    const SIGILS: &[&str] = &["${", "{{", "$(", "%(", "<%", "#{", "os.environ", "process.env", "getenv"];
    if let Some(w) = SIGILS.iter().find(|w| t.contains(**w)) {
        return Err(format!("variable reference {w:?}"));
    }
    if t.starts_with('$') || t.starts_with('<') && t.ends_with('>') || t.starts_with('%') && t.ends_with('%') {
        return Err("variable reference".into());
    }
    let first = s.first().copied().unwrap_or(0);
    if s.iter().all(|&b| b == first) {
        return Err("one repeated character".into());
    }
    Ok(Validated::default())
}

// ------------------------------------------------------------------ PEM ---

/// A private key block whose body is real base64 of a plausible size, not
/// an elided `...` tutorial block.
fn pem_private_key(block: &[u8]) -> Verdict {
    let text = String::from_utf8_lossy(block);
    let mut body = String::new();
    let mut in_body = false;
    for line in text.lines() {
        let line = line.trim().trim_matches(|c| c == '"' || c == '\'' || c == ',');
        let line = line.trim_end_matches("\\n").trim();
        if line.starts_with("-----BEGIN") {
            in_body = true;
            continue;
        }
        if line.starts_with("-----END") {
            break;
        }
        if in_body && !line.contains(':') {
            body.extend(line.split("\\n").flat_map(|l| l.chars()).filter(|c| !c.is_whitespace()));
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
    fn github_checksum_round_trip() {
        let random = b"abcdefghijklmnopqrstuvwxyz0123";
        let token = format!("ghp_{}{}", String::from_utf8_lossy(random), base62_crc32(random));
        assert!(github_checksum(token.as_bytes()).is_ok());
        let mut bad = token.clone().into_bytes();
        bad[10] = b'Z';
        assert!(github_checksum(&bad).is_err());
    }

    #[test]
    fn entra_length_tied_to_digit() {
        assert!(entra_secret(&[b'a'; 37].iter().enumerate().map(|(i, b)| if i == 3 { b'7' } else { *b }).collect::<Vec<_>>()).is_ok());
        assert!(entra_secret(&[b'a'; 40].iter().enumerate().map(|(i, b)| if i == 3 { b'7' } else { *b }).collect::<Vec<_>>()).is_err());
    }

    #[test]
    fn placeholders_rejected() {
        for p in ["${SECRET}", "changeme", "xxxxxxxx", "<your-secret>", "os.environ['X']"] {
            assert!(placeholder(p.as_bytes()).is_err(), "{p}");
        }
        assert!(placeholder(b"T7q9mZ2vX8kP4rL1").is_ok());
    }

    #[test]
    fn pkcs12_header() {
        let mut d = vec![0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03, 0x30, 0x82, 0x00, 0xf0];
        d.extend([0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01]);
        d.resize(0x104, 0);
        assert!(is_pkcs12(&d));
        d[6] = 2;
        assert!(!is_pkcs12(&d));
    }
}
