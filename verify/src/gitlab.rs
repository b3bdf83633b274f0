//! GitLab tokens on gitlab.com: `GET /api/v4/user` with `PRIVATE-TOKEN`.
//! Self-managed instances need an explicit `--verify-endpoint gitlab=URL`.

use leakscan_scanner::finding::{Finding, Verification};

use super::endpoints::Provider;
use super::http::{Req, Resp};
use crate::run::Ctx;
use crate::verdict::{dead, live, unknown};

pub fn classify(resp: &Resp) -> Verification {
    match resp.status {
        200 => live("ok"),
        403 => live("authenticated; forbidden (scope or blocked user)"),
        401 => dead("401: invalid, expired or revoked token"),
        429 => unknown("throttled"),
        s => unknown(format!("HTTP {s}")),
    }
}

pub fn verify(f: &Finding, ctx: &Ctx<'_>) -> Verification {
    let url = format!("{}/api/v4/user", ctx.opts.endpoints.base(Provider::Gitlab));
    let req = Req::get(url.clone(), url).header("PRIVATE-TOKEN", f.raw.expose_str().into_owned());
    match ctx.send(Provider::Gitlab, req) {
        Ok(r) => classify(&r),
        Err(t) => unknown(t.detail()),
    }
}
