//! Stripe secret and restricted keys: `GET /v1/charges?limit=1`; a
//! restricted key without that permission answers 403 and is live.

use super::endpoints::Provider;
use super::http::{Req, Resp};
use super::{Ctx, dead, live, unknown};
use crate::finding::{Finding, Verification};

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
        Ok(r) => classify(&r),
        Err(t) => unknown(t.detail()),
    }
}
