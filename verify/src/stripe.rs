//! Stripe secret and restricted keys: `GET /v1/charges?limit=1`; a
//! restricted key without that permission answers 403 and is live.

use leakscan_scanner::finding::{Finding, Verification};

use super::endpoints::Provider;
use super::http::{Req, Resp};
use crate::run::Ctx;
use crate::verdict::{dead, live, unknown};

/// Live or test mode and restricted or not (from the key, which Stripe
/// answered for), plus the account when the answer names one.
pub fn access(key: &str, resp: &Resp) -> Vec<String> {
    let mut a = Vec::new();
    a.push(
        if key.contains("_live_") {
            "live mode"
        } else {
            "test mode"
        }
        .to_string(),
    );
    if key.starts_with("rk_") {
        a.push("restricted key".into());
    }
    if resp.status == 403 {
        a.push("cannot read charges".into());
    }
    if let Some(acct) = resp
        .headers
        .get("stripe-account")
        .filter(|s| s.starts_with("acct_") && s.len() < 64)
    {
        a.push(format!(
            "account {}",
            leakscan_scanner::sanitize::sanitize(acct)
        ));
    }
    a
}

pub fn classify(resp: &Resp) -> Verification {
    match resp.status {
        200 => live("ok"),
        403 => live("authenticated; restricted key without this permission"),
        401 => dead("401: invalid or revoked key"),
        429 => unknown("throttled"),
        s => unknown(format!("HTTP {s}")),
    }
}

pub fn verify(f: &Finding, ctx: &Ctx<'_>) -> Verification {
    let url = format!(
        "{}/v1/charges?limit=1",
        ctx.opts.endpoints.base(Provider::Stripe)
    );
    let req = Req::get(url.clone(), url)
        .header("Authorization", format!("Bearer {}", f.raw.expose_str()));
    match ctx.send(Provider::Stripe, req) {
        Ok(r) => {
            let mut v = classify(&r);
            if v.status == leakscan_scanner::finding::VerifyStatus::Live {
                v.access = access(&f.raw.expose_str(), &r);
            }
            v
        }
        Err(t) => unknown(t.detail()),
    }
}
