//! Google: service-account keys (JWT bearer grant to the fixed
//! https://oauth2.googleapis.com/token, never the file's `token_uri`) and
//! OAuth client secrets with their client id (a bogus authorization-code
//! probe: a post-authentication error means the client authenticated).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use leakscan_scanner::credential_context::{
    GOOGLE_CLIENT_EMAIL, GOOGLE_CLIENT_ID, GOOGLE_PRIVATE_KEY_ID,
};
use leakscan_scanner::finding::{Finding, Verification};
use serde::Serialize;

use super::endpoints::{GOOGLE_TOKEN_URL, Provider};
use super::http::{Req, Resp};
use crate::oauth::{has_access_token, oauth_error};
use crate::run::Ctx;
use crate::verdict::{dead, live, now_secs, skipped, unknown};

fn token_url(ctx: &Ctx<'_>) -> String {
    format!("{}/token", ctx.opts.endpoints.base(Provider::Google))
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

/// Classifies a service-account token answer.
pub fn classify_service_account(resp: &Resp) -> Verification {
    if has_access_token(resp) {
        return live("ok: token issued");
    }
    let error = oauth_error(resp).unwrap_or_default();
    let desc = resp
        .json()
        .and_then(|v| {
            v.get("error_description")?
                .as_str()
                .map(str::to_ascii_lowercase)
        })
        .unwrap_or_default();
    match (resp.status, error.as_str()) {
        (429, _) => unknown("throttled"),
        (400, "invalid_grant") if desc.contains("timeframe") || desc.contains("time") => {
            unknown("clock skew: assertion time refused")
        }
        (400 | 401, "invalid_grant") => dead("invalid_grant: key or account refused"),
        (401, "invalid_client") => dead("invalid_client: account or key not found"),
        (s, e) => unknown(format!(
            "HTTP {s} {}",
            leakscan_scanner::sanitize::sanitize(e)
        )),
    }
}

/// (private key PEM, client_email, private_key_id) from the finding: the
/// secret is either the key itself (ids from the context) or the whole
/// key file's JSON. URLs in the file (`token_uri`...) are never read.
fn service_account_parts(f: &Finding) -> Option<(String, String, Option<String>)> {
    let raw = f.raw.expose_str();
    let first = |k: &str| f.context.get(k).and_then(|v| v.first()).cloned();
    if raw.trim_start().starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(&raw).ok()?;
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(String::from);
        return Some((
            field("private_key")?,
            field("client_email").or_else(|| first(GOOGLE_CLIENT_EMAIL))?,
            field("private_key_id").or_else(|| first(GOOGLE_PRIVATE_KEY_ID)),
        ));
    }
    Some((
        raw.replace("\\n", "\n"),
        first(GOOGLE_CLIENT_EMAIL)?,
        first(GOOGLE_PRIVATE_KEY_ID),
    ))
}

pub fn verify_service_account(f: &Finding, ctx: &Ctx<'_>) -> Verification {
    let Some((pem, email, key_id)) = service_account_parts(f) else {
        return skipped("no client_email found");
    };
    let email = &email;
    let Ok(key) = EncodingKey::from_rsa_pem(pem.as_bytes()) else {
        return skipped("not an RSA private key");
    };
    let mut header = Header::new(Algorithm::RS256);
    header.typ = Some("JWT".into());
    header.kid = key_id;
    let now = now_secs();
    let claims = Claims {
        iss: email,
        scope: "https://www.googleapis.com/auth/cloud-platform",
        aud: GOOGLE_TOKEN_URL,
        iat: now,
        exp: now + 600,
    };
    let Ok(jwt) = jsonwebtoken::encode(&header, &claims, &key) else {
        return unknown("bug: signing failed");
    };
    let url = token_url(ctx);
    let req = Req::post_form(
        url.clone(),
        url,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", &jwt),
        ],
    );
    match ctx.send(Provider::Google, req) {
        Ok(r) => classify_service_account(&r),
        Err(t) => unknown(t.detail()),
    }
}

/// Classifies the bogus-code probe's answer.
pub fn classify_oauth_probe(resp: &Resp) -> Verification {
    let error = oauth_error(resp).unwrap_or_default();
    match (resp.status, error.as_str()) {
        (429, _) => unknown("throttled"),
        (401, "invalid_client") | (400, "invalid_client") => {
            dead("invalid_client: client authentication failed")
        }
        (400, "invalid_grant" | "redirect_uri_mismatch" | "unauthorized_client") => {
            live(format!("authenticated; probe code refused ({error})"))
        }
        (s, e) => unknown(format!(
            "HTTP {s} {}",
            leakscan_scanner::sanitize::sanitize(e)
        )),
    }
}

pub fn verify_oauth_client(f: &Finding, ctx: &Ctx<'_>) -> Verification {
    let Some(client) = f.context.get(GOOGLE_CLIENT_ID).and_then(|v| v.first()) else {
        return skipped("no client id found");
    };
    let secret = f.raw.expose_str();
    let code = format!("leakscan-probe-{}", uuid::Uuid::new_v4());
    let url = token_url(ctx);
    let req = Req::post_form(
        url.clone(),
        url,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://localhost"),
            ("client_id", client),
            ("client_secret", &secret),
        ],
    );
    match ctx.send(Provider::Google, req) {
        Ok(r) => classify_oauth_probe(&r),
        Err(t) => unknown(t.detail()),
    }
}
