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
        &format!(r#"(?i)(?:client_?id|app_?id|application_?id)(?:["']?\s*[:=]\s*|["']\s+value\s*=\s*|>\s*)["']?(?P<v>{GUID})"#),
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
    let tenant_id = t.name("v").or_else(|| t.name("a")).ok_or("no tenant nearby")?;
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
    if crate::matcher::memmem(&before, b"github").is_some() {
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
    let decoded = B64
        .decode(s)
        .map_err(|_| "not base64".to_string())?;
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
    for w in [
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
    Ok(Validated::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(data: &str, secret: &str) -> Candidate {
        let start = data.find(secret).unwrap();
        Candidate {
            start,
            end: start + secret.len(),
            match_start: start,
            match_end: start + secret.len(),
        }
    }

    #[test]
    fn entra_length_tied_to_digit() {
        assert!(entra_secret(b"Xy07Q~TestOnlyValue.NotReal.1234567-_").is_ok());
        assert!(entra_secret(b"abc8Q~TestOnlyValue.NotReal.1234567-_AbC").is_ok());
        assert!(entra_secret(b"abc7Q~TestOnlyValue.NotReal.1234567-_AbC").is_err());
        assert!(entra_secret(b"abc8Q~TestOnlyValue.NotReal.1234567-_").is_err());
        assert!(entra_secret(b"abc8Q~TestOnlyValue+NotReal.1234567-_AbC").is_err());
    }

    #[test]
    fn legacy_needs_client_and_tenant() {
        let secret = "k3.N-9Z1_8vFE~5ZOd_cG3B2A2_PX-f8Q8";
        let full = format!(
            "{{\"appId\": \"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\", \"password\": \"{secret}\", \"tenant\": \"11111111-2222-3333-4444-555555555555\"}}"
        );
        let v = entra_legacy(full.as_bytes(), &cand(&full, secret)).unwrap();
        assert_eq!(v.details["tenant"], json!("11111111-2222-3333-4444-555555555555"));
        let no_tenant = format!(
            "{{\"appId\": \"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\", \"password\": \"{secret}\"}}"
        );
        assert!(entra_legacy(no_tenant.as_bytes(), &cand(&no_tenant, secret)).is_err());
    }

    #[test]
    fn github_secret_needs_context() {
        let hex = "3f9c2b7a1e0d4c5b6a7988776655443322110f0e";
        let with = format!("GITHUB_CLIENT_SECRET={hex}");
        assert!(github_client_secret(with.as_bytes(), &cand(&with, hex)).is_ok());
        let id = format!("client_id: Iv1.0123456789abcdef\nclient_secret: {hex}");
        assert!(github_client_secret(id.as_bytes(), &cand(&id, hex)).is_ok());
        let without = format!("client_secret={hex}");
        assert!(github_client_secret(without.as_bytes(), &cand(&without, hex)).is_err());
    }

    #[test]
    fn base64_wrapped_secrets() {
        let e = B64.encode("abc8Q~TestOnlyValue.NotReal.1234567-_AbC");
        assert!(base64_client_secret(e.as_bytes()).is_ok());
        let g = B64.encode("GOCSPX-TestOnly_Value-NotReal1234567");
        assert!(base64_client_secret(g.as_bytes()).is_err(), "29 chars");
        let g = B64.encode("GOCSPX-TestOnly_Value-NotReal123456");
        assert!(base64_client_secret(g.as_bytes()).is_ok());
        let other = B64.encode("just some configuration value");
        assert!(base64_client_secret(other.as_bytes()).is_err());
    }

    #[test]
    fn client_secret_values() {
        assert!(client_secret_value(b"Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5").is_ok());
        for bad in [
            "process.env.CLIENT_SECRET",
            "clientSecretFromVault",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "/run/secrets/client_secret",
            "https://vault.local/v1/x",
            "your-client-secret-here",
            "${CLIENT_SECRET}",
        ] {
            assert!(client_secret_value(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
