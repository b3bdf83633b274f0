//! JWT decoding and classification (client assertion, ID or access token).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::{Candidate, Validated, Verdict};

/// Decodes header and claims (without verifying), classifies the token and
/// records `alg`, `iss`, `aud`, `exp`, `expired`, `kind`.
pub(super) fn jwt(s: &[u8], data: &[u8], c: &Candidate) -> Verdict {
    let text = std::str::from_utf8(s).map_err(|_| "not UTF-8".to_string())?;
    let mut parts = text.split('.');
    let (Some(h), Some(p), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
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

pub(super) fn decode_json(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `client-assertion` (iss == sub and aud a token endpoint, or found next to
/// `client_assertion`), `id-token`, `access-token` or `other`.
pub(super) fn jwt_kind(claims: &Value, data: &[u8], c: &Candidate) -> &'static str {
    let iss = claims.get("iss").and_then(Value::as_str);
    let sub = claims.get("sub").and_then(Value::as_str);
    let aud_is_token_endpoint = match claims.get("aud") {
        Some(Value::String(a)) => is_token_endpoint(a),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(is_token_endpoint),
        _ => false,
    };
    let before = &data[c.match_start.saturating_sub(200)..c.match_start];
    let near_assertion =
        crate::matcher::memmem(&before.to_ascii_lowercase(), b"client_assertion").is_some();
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

pub(super) fn is_token_endpoint(aud: &str) -> bool {
    let a = aud.to_ascii_lowercase();
    a.starts_with("http") && (a.contains("/token") || a.ends_with("/oauth2/v2.0/token"))
}
