//! GitHub tokens: `GET https://api.github.com/rate_limit` (not counted
//! against the limit); records scopes and expiry headers.

use leakscan_scanner::finding::{Finding, Verification};

use super::endpoints::Provider;
use super::http::{Req, Resp};
use crate::run::Ctx;
use crate::verdict::{dead, live, unknown};

/// `repo, read:org` → `["repo", "read:org"]` (a comma-separated scope header).
pub fn scopes(header: &str) -> Vec<String> {
    header
        .split(',')
        .map(|s| leakscan_scanner::sanitize::sanitize(s.trim()))
        .filter(|s| !s.is_empty())
        .take(48)
        .collect()
}

pub fn classify(resp: &Resp) -> Verification {
    match resp.status {
        200..=299 => {
            let mut d = String::from("ok");
            let mut access = Vec::new();
            if let Some(s) = resp.headers.get("x-oauth-scopes") {
                d.push_str(&format!("; scopes: {s}"));
                access = scopes(s);
            }
            if let Some(e) = resp.headers.get("github-authentication-token-expiration") {
                d.push_str(&format!("; expires {e}"));
            }
            let mut v = live(d);
            v.access = access;
            v
        }
        401 => dead("401: bad credentials"),
        403 | 429 => unknown(format!("HTTP {}: rate limited or forbidden", resp.status)),
        s => unknown(format!("HTTP {s}")),
    }
}

pub fn verify(f: &Finding, ctx: &Ctx<'_>) -> Verification {
    let url = format!("{}/rate_limit", ctx.opts.endpoints.base(Provider::Github));
    let req = Req::get(url.clone(), url)
        .header("Authorization", format!("Bearer {}", f.raw.expose_str()))
        .header("Accept", "application/vnd.github+json".into())
        .header("X-GitHub-Api-Version", "2022-11-28".into());
    match ctx.send(Provider::Github, req) {
        Ok(r) => classify(&r),
        Err(t) => unknown(t.detail()),
    }
}
