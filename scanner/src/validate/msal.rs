//! Token caches of Microsoft's authentication libraries, committed by
//! mistake: MSAL's (`msal_cache.json`, `msal.cache`, the Azure CLI's
//! `msal_token_cache.json`, MSAL.NET's unencrypted `*.bin` caches) and
//! ADAL's (the Azure CLI's old `accessTokens.json`). A cached refresh token
//! signs in as its user until it expires, which is the leak this project
//! exists for. One finding per cached credential; the entry around it
//! (a flat JSON object) gives the kind, the client, the tenant and the
//! expiry for `details`. Nothing is sent anywhere.

use serde_json::{Map, Value, json};

use super::{Candidate, Validated, Verdict};

/// The JSON object (without nested objects) around the match, parsed.
fn entry(data: &[u8], c: &Candidate) -> Option<Map<String, Value>> {
    // Entries are a few hundred bytes of metadata around the secret.
    const REACH: usize = 4096;
    let lo = c.match_start.saturating_sub(REACH);
    let open = lo + data[lo..c.match_start].iter().rposition(|&b| b == b'{')?;
    if data[open..c.match_start].contains(&b'}') {
        return None;
    }
    let hi = (c.match_end + REACH).min(data.len());
    let close = c.match_end + data[c.match_end..hi].iter().position(|&b| b == b'}')?;
    if data[c.match_end..close].contains(&b'{') {
        return None;
    }
    match serde_json::from_slice::<Value>(&data[open..=close]).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Seconds since the epoch, as MSAL stores them (a string) or a number.
fn epoch(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn text<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// An MSAL cache entry: `credential_type` and `secret` in one object.
pub fn msal_cache_entry(secret: &[u8], data: &[u8], c: &Candidate) -> Verdict {
    let m = entry(data, c).ok_or("not inside a flat JSON object (not a token cache entry)")?;
    let kind = text(&m, "credential_type").ok_or("no credential_type")?;
    let (kind_name, min_len) = match kind {
        "RefreshToken" => ("refresh token", 20),
        "AccessToken" | "AccessToken_With_AuthScheme" => ("access token", 100),
        "IdToken" => ("ID token", 100),
        _ => return Err(format!("credential_type {kind:?} holds no credential")),
    };
    if text(&m, "secret").map(str::as_bytes) != Some(secret) {
        return Err("the secret is not this entry's".into());
    }
    if secret.len() < min_len {
        return Err(format!("too short for an MSAL {kind_name}"));
    }
    let mut v = Validated::default();
    v.details.insert("cache".into(), json!("msal"));
    v.details.insert("kind".into(), json!(kind_name));
    for (from, to) in [
        ("client_id", "client_id"),
        ("environment", "authority_host"),
        ("realm", "tenant"),
        ("target", "scopes"),
    ] {
        if let Some(s) = text(&m, from) {
            v.details.insert(to.into(), json!(s));
        }
    }
    // Epoch seconds, as the JWT validator gives `exp`.
    if let Some(exp) = m.get("expires_on").and_then(epoch) {
        v.details.insert("exp".into(), json!(exp));
        v.details.insert("expired".into(), json!(exp < now()));
    } else if kind == "RefreshToken" {
        // Refresh tokens carry no expiry in the cache: Entra's expire after
        // 90 days unused (24 hours for single-page apps).
        v.details.insert(
            "expires".into(),
            json!("not stored; Entra refresh tokens last until revoked or 90 days unused"),
        );
    }
    if let Some(at) = m
        .get("cached_at")
        .or(m.get("last_modification_time"))
        .and_then(epoch)
    {
        v.details.insert("cached_at".into(), json!(at));
    }
    v.display = Some(format!("MSAL token cache: {kind_name}"));
    Ok(v)
}

/// An ADAL cache entry (`accessTokens.json`): `refreshToken` with the
/// `_clientId`/`_authority` ADAL stores beside it.
pub fn adal_cache_entry(secret: &[u8], data: &[u8], c: &Candidate) -> Verdict {
    let m = entry(data, c).ok_or("not inside a flat JSON object (not a token cache entry)")?;
    if text(&m, "refreshToken").map(str::as_bytes) != Some(secret) {
        return Err("the secret is not this entry's refresh token".into());
    }
    if text(&m, "_clientId").is_none() && text(&m, "_authority").is_none() {
        return Err("no _clientId or _authority: not an ADAL cache entry".into());
    }
    let mut v = Validated::default();
    v.details.insert("cache".into(), json!("adal"));
    v.details.insert("kind".into(), json!("refresh token"));
    for (from, to) in [
        ("_clientId", "client_id"),
        ("_authority", "authority"),
        ("resource", "resource"),
    ] {
        if let Some(s) = text(&m, from) {
            v.details.insert(to.into(), json!(s));
        }
    }
    if let Some(s) = text(&m, "expiresOn") {
        // The access token's expiry; the refresh token outlives it.
        v.details.insert("access_token_expires".into(), json!(s));
    }
    v.display = Some("ADAL token cache: refresh token".into());
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        f: fn(&[u8], &[u8], &Candidate) -> Verdict,
        data: &str,
        secret: &str,
        anchor: &str,
    ) -> Verdict {
        let start = data.find(secret).unwrap();
        let a = data.find(anchor).unwrap();
        let c = Candidate {
            start,
            end: start + secret.len(),
            match_start: a.min(start),
            match_end: (a + anchor.len()).max(start + secret.len()) + 1,
        };
        f(secret.as_bytes(), data.as_bytes(), &c)
    }

    const RT: &str = "0.AXoAq7Zk3dQ2m0yWv8pQ1c9rTgHnE5sXb4LJk0uY2aZf6QmVp7WcNn3R0tKx9sPq2dM8hYb5vLw1eZr4Tj6uN0oXi3QkS7aFgH2pDl9mWc8";

    #[test]
    fn an_msal_refresh_token_entry_gives_kind_client_and_tenant() {
        let data = format!(
            r#"{{"RefreshToken": {{"k": {{"credential_type": "RefreshToken", "secret": "{RT}", "home_account_id": "x", "environment": "login.microsoftonline.com", "client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "target": "https://management.core.windows.net//.default", "last_modification_time": "1765000000"}}}}}}"#
        );
        let v = run(msal_cache_entry, &data, RT, "\"credential_type\"").unwrap();
        assert_eq!(v.details["kind"], "refresh token");
        assert_eq!(
            v.details["client_id"],
            "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
        );
        assert_eq!(v.details["authority_host"], "login.microsoftonline.com");
        assert_eq!(v.details["cached_at"], 1765000000);
    }

    #[test]
    fn an_access_token_entry_says_when_it_expired() {
        let at = format!(
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.{}.sig",
            "A".repeat(120)
        );
        let data = format!(
            r#"{{"credential_type": "AccessToken", "secret": "{at}", "expires_on": "1600000000", "realm": "contoso.onmicrosoft.com"}}"#
        );
        let v = run(msal_cache_entry, &data, &at, "\"credential_type\"").unwrap();
        assert_eq!(v.details["kind"], "access token");
        assert_eq!(v.details["exp"], 1600000000);
        assert_eq!(v.details["expired"], true);
        assert_eq!(v.details["tenant"], "contoso.onmicrosoft.com");
    }

    #[test]
    fn other_entries_and_loose_json_are_rejected() {
        let data = format!(r#"{{"credential_type": "Account", "secret": "{RT}"}}"#);
        assert!(run(msal_cache_entry, &data, RT, "\"credential_type\"").is_err());
        // The secret belongs to the next object, not this one.
        let data = format!(
            r#"{{"credential_type": "RefreshToken", "secret": "short"}}, {{"secret": "{RT}"}}"#
        );
        assert!(run(msal_cache_entry, &data, RT, "\"credential_type\"").is_err());
        let data = format!(r#"{{"refreshToken": "{RT}", "user": "a"}}"#);
        assert!(run(adal_cache_entry, &data, RT, "\"refreshToken\"").is_err());
    }

    #[test]
    fn an_adal_entry_names_its_client() {
        let data = format!(
            r#"[{{"tokenType": "Bearer", "expiresOn": "2020-01-01 10:00:00.000000", "refreshToken": "{RT}", "_clientId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "_authority": "https://login.microsoftonline.com/common"}}]"#
        );
        let v = run(adal_cache_entry, &data, RT, "\"refreshToken\"").unwrap();
        assert_eq!(v.details["cache"], "adal");
        assert_eq!(
            v.details["authority"],
            "https://login.microsoftonline.com/common"
        );
    }
}
