//! Microsoft Entra ID: the client credentials grant with a client secret,
//! the AADSTS error-code table (kept as data), and the token-endpoint
//! plumbing shared with the certificate and assertion flows.

use leakscan_scanner::credential_context::{CLIENT_ID, ENTRA_HOST, TENANT};
use leakscan_scanner::finding::{Finding, Verification, VerifyStatus};

use super::endpoints::{ENTRA_CLOUDS, Provider};
use super::http::{Req, Resp};
use crate::oauth::{has_access_token, oauth_error};
use crate::run::Ctx;
use crate::verdict::{dead, live, skipped, unknown};

/// Most (client id, tenant) pairs tried for one credential.
pub const MAX_PAIRS: usize = 8;

/// AADSTS code → verdict and reason (reference 2.5). Codes not listed are
/// UNKNOWN. 700027 is special-cased by [`classify`]: DEAD only for "key not
/// found", and only after the certificate flow's PS256 retry.
pub const AADSTS: &[(u64, VerifyStatus, &str)] = &[
    (
        53003,
        VerifyStatus::Live,
        "blocked-by-policy (authenticated, then refused by conditional access)",
    ),
    (
        7000215,
        VerifyStatus::Dead,
        "invalid client secret for this app",
    ),
    (7000222, VerifyStatus::Dead, "expired"),
    (7000112, VerifyStatus::Dead, "app-disabled"),
    (
        700016,
        VerifyStatus::Unknown,
        "wrong-pairing: application not found in tenant",
    ),
    (
        90002,
        VerifyStatus::Unknown,
        "wrong-pairing: tenant not found",
    ),
    (
        90038,
        VerifyStatus::Unknown,
        "wrong-cloud: national cloud redirection",
    ),
    (
        700027,
        VerifyStatus::Dead,
        "key-not-registered: certificate not registered on the app",
    ),
    (
        700024,
        VerifyStatus::Unknown,
        "bug: assertion outside its valid time range",
    ),
    (
        700021,
        VerifyStatus::Unknown,
        "bug: assertion app id differs from client_id",
    ),
    (
        700023,
        VerifyStatus::Unknown,
        "bug: audience or scope refused",
    ),
    (50012, VerifyStatus::Unknown, "assertion invalid"),
    (50013, VerifyStatus::Unknown, "assertion invalid or expired"),
    (
        500133,
        VerifyStatus::Unknown,
        "assertion malformed or expired",
    ),
    (
        70021,
        VerifyStatus::Dead,
        "no matching federated identity record",
    ),
    (
        7000218,
        VerifyStatus::Unknown,
        "bug: request lacks a client credential",
    ),
    (
        9001023,
        VerifyStatus::Unknown,
        "bug: grant not supported on a multi-tenant alias",
    ),
    (
        900382,
        VerifyStatus::Unknown,
        "wrong-cloud: confidential client not supported cross-cloud",
    ),
    (
        900432,
        VerifyStatus::Unknown,
        "wrong-cloud: confidential client not supported cross-cloud",
    ),
    (50196, VerifyStatus::Unknown, "throttled: loop detected"),
    (90055, VerifyStatus::Unknown, "throttled: tenant throttling"),
    (90024, VerifyStatus::Unknown, "transient: retry later"),
    (50033, VerifyStatus::Unknown, "transient: retry later"),
    (90006, VerifyStatus::Unknown, "transient: retry later"),
];

/// What one token request said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub verdict: Verification,
    /// The AADSTS code, when there was one.
    pub code: Option<u64>,
    /// 700027 with "key was not found": the retry trigger.
    pub key_not_found: bool,
}

fn answer(verdict: Verification, code: Option<u64>) -> Answer {
    Answer {
        verdict,
        code,
        key_not_found: false,
    }
}

/// Classifies a token-endpoint response (reference 2.5). `overridden` means
/// the user pointed `entra` at another OAuth 2.0 server (the test IdP).
pub fn classify(resp: &Resp, overridden: bool) -> Answer {
    if has_access_token(resp) {
        // The token itself is never kept: only its `roles` claim is copied.
        let mut v = live("ok: token issued");
        v.access = crate::oauth::token_roles(resp);
        return answer(v, None);
    }
    if resp.status == 429 {
        return answer(unknown("throttled"), None);
    }
    if (300..400).contains(&resp.status) {
        return answer(
            unknown(format!("HTTP {}: redirect not followed", resp.status)),
            None,
        );
    }
    let Some(json) = resp.json() else {
        return answer(
            unknown(format!(
                "unparseable: HTTP {} without a JSON body",
                resp.status
            )),
            None,
        );
    };
    let desc = json
        .get("error_description")
        .and_then(|d| d.as_str())
        .unwrap_or("");
    let code = json
        .get("error_codes")
        .and_then(|c| c.as_array())
        .and_then(|a| a.first())
        .and_then(|c| c.as_u64())
        .or_else(|| {
            // Fallback only when `error_codes` is missing.
            let rest = desc.strip_prefix("AADSTS")?;
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            digits.parse().ok()
        });
    let Some(code) = code else {
        let error = oauth_error(resp).unwrap_or_default();
        // A plain OAuth 2.0 server (only reachable through an override, e.g.
        // the test IdP) has no AADSTS codes. RFC 6749 §5.2 `invalid_client`
        // with 401 means "client authentication failed": the server checked
        // this client's credential and refused it, which is what 7000215
        // (secret) and 700027 key-not-found (certificate) mean on Entra,
        // a DEAD verdict for this (tenant, client id). Against the real
        // Entra host the same bare answer is not trusted: UNKNOWN.
        if overridden && resp.status == 401 && error == "invalid_client" {
            return answer(
                dead("invalid_client: client authentication failed for this app"),
                None,
            );
        }
        if resp.status >= 500 || error == "temporarily_unavailable" {
            return answer(unknown(format!("transient: HTTP {}", resp.status)), None);
        }
        return answer(
            unknown(format!(
                "unparseable: HTTP {} error `{}` without an AADSTS code",
                resp.status,
                leakscan_scanner::sanitize::sanitize(&error)
            )),
            None,
        );
    };
    if code == 700027 {
        let key_not_found = desc.to_ascii_lowercase().contains("key was not found");
        let verdict = if key_not_found {
            dead("AADSTS700027 key-not-registered: certificate not registered on the app")
        } else {
            unknown("AADSTS700027 bug: signature check failed (key found)")
        };
        return Answer {
            verdict,
            code: Some(code),
            key_not_found,
        };
    }
    let verdict = match AADSTS.iter().find(|(c, _, _)| *c == code) {
        Some((_, status, reason)) => {
            crate::verdict::verdict(*status, format!("AADSTS{code} {reason}"))
        }
        None => unknown(format!(
            "AADSTS{code} unrecognised code (HTTP {})",
            resp.status
        )),
    };
    answer(verdict, Some(code))
}

/// The cloud to use: the first allowlisted host the context chose, else global.
pub fn cloud(f: &Finding) -> (&'static str, &'static str) {
    let wanted = f.context.get(ENTRA_HOST).and_then(|v| v.first());
    ENTRA_CLOUDS
        .iter()
        .find(|(h, _)| Some(*h) == wanted.map(String::as_str))
        .copied()
        .unwrap_or(ENTRA_CLOUDS[0])
}

/// `https://{host}/{tenant}/oauth2/v2.0/token`, or the override's authority.
pub fn token_url(ctx: &Ctx<'_>, host: &str, tenant: &str) -> String {
    match ctx.opts.endpoints.get(Provider::Entra) {
        Some(base) => format!("{base}/{tenant}/oauth2/v2.0/token"),
        None => format!("https://{host}/{tenant}/oauth2/v2.0/token"),
    }
}

/// A tenant usable as a path segment: a GUID or a verified domain, never a
/// multi-tenant alias.
pub fn valid_tenant(t: &str) -> bool {
    let guid = t.len() == 36
        && t.chars().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    let domain = t.len() <= 253
        && t.split('.').count() >= 2
        && t.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    (guid || domain) && !matches!(t, "common" | "organizations" | "consumers")
}

/// (client id, tenant) pairs from the context; a GUID that is a tenant is
/// not tried as a client id.
pub fn pairs(f: &Finding) -> Vec<(String, String)> {
    let tenants: Vec<&String> = f
        .context
        .get(TENANT)
        .map(|v| v.iter().filter(|t| valid_tenant(t)).collect())
        .unwrap_or_default();
    let clients: Vec<&String> = f
        .context
        .get(CLIENT_ID)
        .map(|v| {
            v.iter()
                .filter(|c| valid_tenant(c) && !tenants.contains(c))
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    for c in &clients {
        for t in &tenants {
            out.push(((*c).clone(), (*t).clone()));
        }
    }
    out.truncate(MAX_PAIRS);
    out
}

/// Combines per-pair answers: the first LIVE wins; DEAD only when every pair
/// was DEAD; otherwise UNKNOWN with the last reason.
pub fn combine(results: Vec<(String, String, Verification)>) -> Verification {
    if results.is_empty() {
        return skipped("no client id and tenant found");
    }
    let all_dead = results
        .iter()
        .all(|(_, _, v)| v.status == VerifyStatus::Dead);
    let single = results.len() == 1;
    let (c, t, v) = results.into_iter().last().expect("not empty");
    let detail = if single {
        format!("{} (client {c}, tenant {t})", v.detail)
    } else if all_dead {
        format!("{} (every client id and tenant pair tried)", v.detail)
    } else {
        format!("{} (last of several client id and tenant pairs)", v.detail)
    };
    let status = if all_dead {
        VerifyStatus::Dead
    } else {
        VerifyStatus::Unknown
    };
    crate::verdict::verdict(status, detail)
}

/// Tenant pre-check, no credential sent: `GET /{tenant}/.well-known/openid-configuration`
/// answers 200 for an existing tenant and 400 for an unknown one (anything
/// else: don't know, go on). Cached per run and host.
pub fn tenant_exists(ctx: &Ctx<'_>, host: &str, tenant: &str) -> Option<bool> {
    let base = match ctx.opts.endpoints.get(Provider::Entra) {
        Some(b) => b.to_string(),
        None => format!("https://{host}"),
    };
    let url = format!("{base}/{tenant}/.well-known/openid-configuration");
    ctx.fact(&url.clone(), || {
        match ctx.send(Provider::Entra, Req::get(url.clone(), url)) {
            Ok(r) if r.status == 200 && r.json().is_some() => Some(true),
            Ok(r) if r.status == 400 => Some(false),
            _ => None,
        }
    })
}

/// Pairs whose tenant failed the pre-check get their verdict without a
/// credential being sent.
pub fn missing_tenant(ctx: &Ctx<'_>, host: &str, tenant: &str) -> Option<Verification> {
    (tenant_exists(ctx, host, tenant) == Some(false))
        .then(|| unknown("wrong-pairing: tenant does not exist (no credential sent)"))
}

/// Client secret: one client credentials request per pair, stop at the first LIVE.
pub fn verify_secret(f: &Finding, ctx: &Ctx<'_>) -> Verification {
    let secret = f.raw.expose_str().into_owned();
    let (host, scope) = cloud(f);
    let overridden = ctx.opts.endpoints.is_overridden(Provider::Entra);
    let mut results = Vec::new();
    for (client, tenant) in pairs(f) {
        if let Some(v) = missing_tenant(ctx, host, &tenant) {
            results.push((client, tenant, v));
            continue;
        }
        let url = token_url(ctx, host, &tenant);
        let req = Req::post_form(
            url.clone(),
            url,
            &[
                ("client_id", &client),
                ("scope", scope),
                ("client_secret", &secret),
                ("grant_type", "client_credentials"),
            ],
        );
        let v = match ctx.send(Provider::Entra, req) {
            Ok(resp) => classify(&resp, overridden).verdict,
            Err(t) => unknown(t.detail()),
        };
        if v.status == VerifyStatus::Live {
            let mut out = live(format!("{} (client {client}, tenant {tenant})", v.detail));
            out.access = v.access;
            return out;
        }
        results.push((client, tenant, v));
    }
    combine(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> Resp {
        Resp {
            status,
            content_type: "application/json".into(),
            body: body.into(),
            ..Resp::default()
        }
    }

    /// Every code the reference's table names, with its verdict. Fails if
    /// the map loses a code or a code's verdict changes.
    #[test]
    fn table_knows_every_reference_code() {
        use VerifyStatus::*;
        let expected: &[(u64, VerifyStatus)] = &[
            (53003, Live),
            (7000215, Dead),
            (7000222, Dead),
            (7000112, Dead),
            (700016, Unknown),
            (90002, Unknown),
            (90038, Unknown),
            (700024, Unknown),
            (700021, Unknown),
            (700023, Unknown),
            (50012, Unknown),
            (50013, Unknown),
            (500133, Unknown),
            (70021, Dead),
            (7000218, Unknown),
            (9001023, Unknown),
            (900382, Unknown),
            (900432, Unknown),
            (50196, Unknown),
            (90055, Unknown),
            (90024, Unknown),
            (50033, Unknown),
            (90006, Unknown),
        ];
        for (code, status) in expected {
            let entry = AADSTS.iter().find(|(c, _, _)| c == code);
            assert!(entry.is_some(), "AADSTS{code} missing from the table");
            let body = format!(r#"{{"error":"x","error_codes":[{code}]}}"#);
            assert_eq!(
                classify(&resp(400, &body), false).verdict.status,
                *status,
                "{code}"
            );
        }
        // And the table holds nothing the reference doesn't.
        for (code, _, _) in AADSTS {
            assert!(
                *code == 700027 || expected.iter().any(|(c, _)| c == code),
                "AADSTS{code} is in the table but not the reference"
            );
        }
    }

    #[test]
    fn special_answers() {
        let ok = resp(
            200,
            r#"{"token_type":"Bearer","expires_in":3599,"access_token":"x.y.z"}"#,
        );
        assert_eq!(classify(&ok, false).verdict.status, VerifyStatus::Live);
        assert!(!classify(&ok, false).verdict.detail.contains("x.y.z"));
        let nf = resp(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS700027: The key was not found.","error_codes":[700027]}"#,
        );
        assert!(classify(&nf, false).key_not_found);
        let sig = resp(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS700027: Client assertion contains an invalid signature.","error_codes":[700027]}"#,
        );
        assert_eq!(classify(&sig, false).verdict.status, VerifyStatus::Unknown);
        let fallback = resp(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#,
        );
        assert_eq!(
            classify(&fallback, false).verdict.status,
            VerifyStatus::Dead
        );
        let bare = resp(401, r#"{"error":"invalid_client"}"#);
        assert_eq!(classify(&bare, false).verdict.status, VerifyStatus::Unknown);
        assert_eq!(classify(&bare, true).verdict.status, VerifyStatus::Dead);
        let html = resp(200, "<html>hi</html>");
        assert_eq!(classify(&html, false).verdict.status, VerifyStatus::Unknown);
        let unknown_code = resp(400, r#"{"error":"x","error_codes":[1234567]}"#);
        assert_eq!(
            classify(&unknown_code, false).verdict.status,
            VerifyStatus::Unknown
        );
    }

    #[test]
    fn tenants() {
        assert!(valid_tenant("11111111-2222-3333-4444-555555555555"));
        assert!(valid_tenant("contoso.onmicrosoft.com"));
        assert!(!valid_tenant("common"));
        assert!(!valid_tenant("../x"));
        assert!(!valid_tenant("a/b.com"));
    }
}
