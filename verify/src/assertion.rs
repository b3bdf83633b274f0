//! Found signed assertions (client assertions, federated tokens, other
//! JWTs): decoded without verifying the signature; expired means DEAD with no
//! request. An unexpired one is UNKNOWN until a provider accepts it: `live`
//! only ever means a provider answered yes in this run. Presented to a token
//! endpoint only with `--verify-replay-assertions`, and only when its `aud`
//! is an allowlisted Entra token endpoint (or the user's `entra` override).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use leakscan_scanner::finding::{Finding, Verification, VerifyStatus};

use super::endpoints::{ENTRA_CLOUDS, Provider};
use super::entra::{classify, valid_tenant};
use crate::oauth::client_assertion_request;
use crate::run::Ctx;
use crate::verdict::{dead, live, now_secs, rfc3339, unknown};

/// The claims read from a JWT payload.
#[derive(Debug, Default)]
pub struct Claims {
    pub exp: Option<u64>,
    pub aud: Vec<String>,
    pub iss: Option<String>,
    pub sub: Option<String>,
}

/// Decodes the payload of a compact JWS; `None` if it isn't one.
pub fn decode(jwt: &str) -> Option<Claims> {
    let mut parts = jwt.trim().split('.');
    let _header = parts.next()?;
    let payload = parts.next()?;
    parts.next()?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let aud = match v.get("aud") {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    Some(Claims {
        exp: v
            .get("exp")
            .and_then(|e| e.as_u64().or_else(|| e.as_f64().map(|f| f as u64))),
        aud,
        iss: v.get("iss").and_then(|x| x.as_str()).map(String::from),
        sub: v.get("sub").and_then(|x| x.as_str()).map(String::from),
    })
}

/// The (token URL to call, tenant) when `aud` names an allowlisted Entra
/// token endpoint. The URL is rebuilt from the allowlist or the override,
/// never taken from the token.
fn replay_target(aud: &str, ctx: &Ctx<'_>) -> Option<String> {
    let (base, rest) = match ctx.opts.endpoints.get(Provider::Entra) {
        Some(o) => (o.to_string(), aud.strip_prefix(o)?.to_string()),
        None => {
            let (host, path) = aud.strip_prefix("https://")?.split_once('/')?;
            let (h, _) = ENTRA_CLOUDS.iter().find(|(h, _)| *h == host)?;
            (format!("https://{h}"), format!("/{path}"))
        }
    };
    let tenant = rest.strip_prefix('/')?.strip_suffix("/oauth2/v2.0/token")?;
    valid_tenant(tenant).then(|| format!("{base}/{tenant}/oauth2/v2.0/token"))
}

pub fn verify(f: &Finding, ctx: &Ctx<'_>) -> Verification {
    let jwt = f.raw.expose_str();
    let Some(claims) = decode(&jwt) else {
        return unknown("unparseable: not a decodable JWT");
    };
    let Some(exp) = claims.exp else {
        return unknown("no exp claim: lifetime unknown");
    };
    if exp <= now_secs() {
        return dead(format!("expired {}", rfc3339(exp)));
    }
    // Checked offline: decodable, `exp` in the future. Not checked: the
    // signature, the issuer's keys, replay protection. Only the provider can.
    let offline = format!(
        "not checked with the provider: decoded offline, expires {} (signature not checked)",
        rfc3339(exp)
    );
    let until = format!("expires {}", rfc3339(exp));
    if !ctx.opts.replay_assertions {
        return unknown(format!(
            "{offline}; to ask the token endpoint, rerun with --verify-replay-assertions"
        ));
    }
    let Some((url, client)) = claims
        .aud
        .iter()
        .find_map(|a| replay_target(a, ctx))
        .zip(claims.iss.clone().or(claims.sub.clone()))
    else {
        return unknown(format!(
            "{offline}; not replayed: aud is not an allowlisted token endpoint"
        ));
    };
    if !valid_tenant(&client) {
        return unknown(format!("{offline}; not replayed: iss is not a client id"));
    }
    let scope = ENTRA_CLOUDS
        .iter()
        .find(|(h, _)| url.contains(&format!("://{h}/")))
        .map_or(ENTRA_CLOUDS[0].1, |(_, s)| *s);
    let req = client_assertion_request(url, &client, scope, &jwt);
    let overridden = ctx.opts.endpoints.is_overridden(Provider::Entra);
    match ctx.send(Provider::Entra, req) {
        Ok(resp) => {
            let a = classify(&resp, overridden).verdict;
            match a.status {
                VerifyStatus::Live => {
                    let mut out = live(format!("replayed: {}; {until}", a.detail));
                    out.access = a.access;
                    out
                }
                _ => crate::verdict::verdict(a.status, format!("replayed: {}", a.detail)),
            }
        }
        Err(t) => unknown(t.detail()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_claims() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"exp":1000,"aud":["a","b"],"iss":"i"}"#);
        let c = decode(&format!("eyJhbGciOiJub25lIn0.{payload}.sig")).unwrap();
        assert_eq!(c.exp, Some(1000));
        assert_eq!(c.aud, vec!["a", "b"]);
        assert!(decode("nope").is_none());
    }
}
