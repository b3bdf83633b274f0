//! Reading an OAuth 2.0 token response: its error code, whether a token came
//! back, and the application permissions that token carries (then dropped).

use crate::http::{Req, Resp};

/// The client-credentials token request of a confidential client that
/// authenticates with a signed assertion (RFC 7523 client authentication):
/// what the certificate flow sends and what a leaked assertion is replayed
/// with.
pub fn client_assertion_request(url: String, client: &str, scope: &str, jwt: &str) -> Req {
    Req::post_form(
        url.clone(),
        url,
        &[
            ("client_id", client),
            ("scope", scope),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", jwt),
            ("grant_type", "client_credentials"),
        ],
    )
}

/// A token endpoint's JSON error, for flows that speak OAuth 2.0.
pub fn oauth_error(resp: &Resp) -> Option<String> {
    resp.json()?
        .get("error")?
        .as_str()
        .map(|s| s.chars().take(64).collect())
}

/// The `roles` claim (application permissions granted to the client) of
/// the access token in a token response: decoded, copied, and the token
/// dropped with the parsed answer. Empty when the token is not a JWT.
pub fn token_roles(resp: &Resp) -> Vec<String> {
    use base64::Engine;
    let Some(v) = resp.json() else {
        return Vec::new();
    };
    let Some(token) = v.get("access_token").and_then(|t| t.as_str()) else {
        return Vec::new();
    };
    let Some(payload) = token.split('.').nth(1) else {
        return Vec::new();
    };
    let Ok(bytes) =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))
    else {
        return Vec::new();
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    claims
        .get("roles")
        .and_then(|r| r.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str())
                .take(48)
                .map(|s| {
                    leakscan_scanner::sanitize::sanitize(s)
                        .chars()
                        .take(96)
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether an OAuth 2.0 token response carries an access token. The token is
/// read into nothing and dropped with the parsed value.
pub fn has_access_token(resp: &Resp) -> bool {
    (200..300).contains(&resp.status)
        && resp
            .json()
            .is_some_and(|v| v.get("access_token").is_some_and(|t| t.is_string()))
}
