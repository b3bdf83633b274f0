//! Client-secret validators: the Entra ID SEC101/156 shape, legacy Entra
//! secrets (only with a client id and tenant nearby), GitHub client secrets
//! in context, base64-wrapped provider secrets (Kubernetes `data:`), and the
//! value filter of the generic client-secret rule.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use base64::Engine as _;
use regex::bytes::Regex;
use serde_json::json;

use super::keys::B64;
use super::{Candidate, Validated, Verdict, generic};

const UNRESERVED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.-";

/// Microsoft's SEC101/156 shape: length 37 goes with the digit 7 at index 3,
/// length 40 with 8; `Q~` follows; every character URL-unreserved.
pub(super) fn entra_secret(s: &[u8]) -> Verdict {
    if !s.iter().all(|b| UNRESERVED.contains(b)) {
        return Err("a character outside the URL-unreserved alphabet".into());
    }
    if s.get(4..6) != Some(b"Q~") {
        return Err("no Q~ marker at index 4".into());
    }
    match (s.len(), s.get(3)) {
        (37, Some(b'7')) | (40, Some(b'8')) => Ok(Validated::default()),
        (len, d) => Err(format!(
            "length {len} does not fit version digit {}",
            d.map(|d| *d as char).unwrap_or('?')
        )),
    }
}

/// An Entra secret written with `%7E` for `~` (form bodies, query strings).
pub(super) fn entra_secret_urlencoded(s: &[u8]) -> Verdict {
    let text = std::str::from_utf8(s).map_err(|_| "not UTF-8".to_string())?;
    let decoded = text.replace("%7E", "~").replace("%7e", "~");
    entra_secret(decoded.as_bytes()).map(|mut v| {
        v.details.insert("encoding".into(), json!("url"));
        v
    })
}

fn window<'a>(data: &'a [u8], c: &Candidate, before: usize, after: usize) -> &'a [u8] {
    &data[c.match_start.saturating_sub(before)..(c.match_end + after).min(data.len())]
}

fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid built-in regex"))
}

const GUID: &str = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

/// A 34-character legacy Entra secret (SEC101/101): reported only when a
/// client id and a tenant sit within a couple of kilobytes.
pub(super) fn entra_legacy(data: &[u8], c: &Candidate) -> Verdict {
    let s = &data[c.start..c.end];
    if s.len() != 34 || !s.iter().all(|b| UNRESERVED.contains(b)) {
        return Err("not 34 URL-unreserved characters".into());
    }
    if !s.iter().any(u8::is_ascii_digit) || !s.iter().any(u8::is_ascii_alphabetic) {
        return Err("no mix of letters and digits".into());
    }
    generic::placeholder(s)?;
    static CLIENT: OnceLock<Regex> = OnceLock::new();
    static TENANT: OnceLock<Regex> = OnceLock::new();
    let client = regex(
        &CLIENT,
        &format!(
            r#"(?i)(?:client_?id|app_?id|application_?id)(?:["']?\s*[:=]\s*|["']\s+value\s*=\s*|>\s*)["']?(?P<v>{GUID})"#
        ),
    );
    let tenant = regex(
        &TENANT,
        &format!(
            r#"(?i)(?:tenant_?id|tenant|domain)(?:["']?\s*[:=]\s*|["']\s+value\s*=\s*|>\s*)["']?(?P<v>{GUID}|[a-z0-9-]+\.onmicrosoft\.com)|login\.microsoftonline\.(?:com|us)/(?P<a>{GUID}|[a-z0-9-]+\.onmicrosoft\.com)"#
        ),
    );
    let w = window(data, c, 2048, 2048);
    let client_id = client
        .captures(w)
        .and_then(|m| m.name("v"))
        .ok_or("no client id nearby")?;
    let t = tenant.captures(w).ok_or("no tenant nearby")?;
    let tenant_id = t
        .name("v")
        .or_else(|| t.name("a"))
        .ok_or("no tenant nearby")?;
    let mut d = BTreeMap::new();
    d.insert(
        "client_id".into(),
        json!(String::from_utf8_lossy(client_id.as_bytes())),
    );
    d.insert(
        "tenant".into(),
        json!(String::from_utf8_lossy(tenant_id.as_bytes())),
    );
    d.insert("format".into(), json!("legacy (34 characters)"));
    Ok(Validated {
        details: d,
        display: None,
    })
}

/// A 40-hex GitHub OAuth/App client secret: the word `github` must be in
/// the key name or just before it, or a GitHub client id nearby.
pub(super) fn github_client_secret(data: &[u8], c: &Candidate) -> Verdict {
    let s = &data[c.start..c.end];
    if s.len() != 40 || !s.iter().all(u8::is_ascii_hexdigit) {
        return Err("not 40 hex digits".into());
    }
    let before = window(data, c, 300, 0).to_ascii_lowercase();
    if crate::bytes::memmem(&before, b"github").is_some() {
        return Ok(Validated::default());
    }
    static CLIENT_ID: OnceLock<Regex> = OnceLock::new();
    let id = regex(
        &CLIENT_ID,
        r"(?:^|[^A-Za-z0-9.])(?:Iv1\.[0-9a-f]{16}|[IO]v23li[A-Za-z0-9]{14})(?:$|[^A-Za-z0-9])",
    );
    if id.is_match(window(data, c, 1024, 1024)) {
        return Ok(Validated::default());
    }
    Err("no GitHub context (key name or client id)".into())
}

/// Base64 that must decode to an Entra secret (`Q~` shape) or a Google
/// `GOCSPX-` secret, as in a Kubernetes Secret's `data:` map.
pub(super) fn base64_client_secret(s: &[u8]) -> Verdict {
    let decoded = B64.decode(s).map_err(|_| "not base64".to_string())?;
    let inner = decoded.strip_suffix(b"\n").unwrap_or(&decoded);
    let provider = if inner.starts_with(b"GOCSPX-") {
        let rest = &inner[7..];
        if rest.len() != 28
            || !rest
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
        {
            return Err("decodes to a malformed GOCSPX- secret".into());
        }
        "google"
    } else {
        entra_secret(inner).map_err(|e| format!("decoded value: {e}"))?;
        "entra"
    };
    let mut d = BTreeMap::new();
    d.insert("encoding".into(), json!("base64"));
    d.insert("provider".into(), json!(provider));
    Ok(Validated {
        details: d,
        display: None,
    })
}

/// The value of a `client_secret` assignment: not a placeholder, variable,
/// code expression, path, URL or UUID.
pub(super) fn client_secret_value(s: &[u8]) -> Verdict {
    if s.len() > 256 {
        return Err("longer than any client secret".into());
    }
    generic::placeholder(s)?;
    let t = std::str::from_utf8(s).map_err(|_| "not UTF-8".to_string())?;
    let lower = t.to_ascii_lowercase();
    static UUID: OnceLock<Regex> = OnceLock::new();
    if regex(&UUID, &format!("^{GUID}$")).is_match(s) {
        return Err("a UUID (an id, not a secret)".into());
    }
    if t.bytes()
        .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'.' || b == b'-')
    {
        return Err("an identifier or expression, not a value".into());
    }
    if t.starts_with('/') || t.starts_with("./") || t.starts_with("~/") || lower.starts_with("http")
    {
        return Err("a path or URL".into());
    }
    if generic::is_code_name(t) {
        return Err("a snake_case or camelCase name (a type or a variable)".into());
    }
    for w in [
        "secret",
        "token",
        "password",
        "client_secret",
        "clientsecret",
        "client-secret",
        "secret_value",
        "vault:",
        "arn:aws",
        "keyvault",
        "secretref",
    ] {
        if lower.contains(w) {
            return Err(format!("names a secret ({w:?}) rather than holding one"));
        }
    }
    if lower.ends_with(".pem") || lower.ends_with(".json") || lower.ends_with(".txt") {
        return Err("a file name".into());
    }
    // A Kubernetes `data:` value is base64 of the real value: judge that.
    if s.len().is_multiple_of(4)
        && s.len() >= 12
        && let Ok(inner) = B64.decode(s)
        && !inner.is_empty()
        && inner.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
    {
        if inner.len() < 8 {
            return Err("base64 of a short value".into());
        }
        if inner.contains(&b' ') {
            return Err("base64 of words (text with spaces), not of a secret".into());
        }
        client_secret_value(&inner).map_err(|e| format!("base64 of a value that is {e}"))?;
    }
    Ok(Validated::default())
}

#[cfg(test)]
mod tests;
