//! Slack: tokens through `POST /api/auth.test` (always HTTP 200; read `ok`
//! and `error`), and incoming webhooks through an empty POST that Slack
//! refuses as `invalid_payload` without posting anything.

use leakscan_scanner::finding::{Finding, Verification};

use super::endpoints::{Provider, SLACK_WEBHOOK_BASE};
use super::http::{Req, Resp};
use crate::run::Ctx;
use crate::verdict::{dead, live, skipped, unknown};

pub fn classify_token(resp: &Resp) -> Verification {
    let Some(v) = resp.json() else {
        return unknown(format!("unparseable: HTTP {}", resp.status));
    };
    if v.get("ok").and_then(|o| o.as_bool()) == Some(true) {
        let team = v.get("team").and_then(|t| t.as_str()).unwrap_or("?");
        let user = v.get("user").and_then(|t| t.as_str()).unwrap_or("?");
        let mut out = live(format!("ok: team {team}, user {user}"));
        out.access = vec![format!(
            "team {}",
            leakscan_scanner::sanitize::sanitize(team)
        )];
        if let Some(s) = resp.headers.get("x-oauth-scopes") {
            out.access.extend(super::github::scopes(s));
        }
        return out;
    }
    let error = v.get("error").and_then(|e| e.as_str()).unwrap_or("");
    match error {
        "invalid_auth" | "account_inactive" | "token_revoked" | "token_expired" => {
            dead(error.to_string())
        }
        "ratelimited" => unknown("throttled"),
        e => unknown(format!(
            "error `{}`",
            leakscan_scanner::sanitize::sanitize(e)
        )),
    }
}

pub fn verify_token(f: &Finding, ctx: &Ctx<'_>) -> Verification {
    let url = format!("{}/api/auth.test", ctx.opts.endpoints.base(Provider::Slack));
    let mut req = Req::post_form(url.clone(), url, &[]);
    req = req.header("Authorization", format!("Bearer {}", f.raw.expose_str()));
    match ctx.send(Provider::Slack, req) {
        Ok(r) => classify_token(&r),
        Err(t) => unknown(t.detail()),
    }
}

/// `/services/T…/B…/secret` from a webhook URL on hooks.slack.com, checked
/// part by part (the URL is the secret; only its path is reused).
pub fn webhook_path(raw: &str) -> Option<(String, String, String)> {
    let rest = raw
        .trim()
        .strip_prefix("https://hooks.slack.com/services/")?;
    let mut parts = rest.split('/');
    let (t, b, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let ok = |p: &str, first: char| {
        p.starts_with(first)
            && (2..=20).contains(&p.len())
            && p.chars().all(|c| c.is_ascii_alphanumeric())
    };
    let secret_ok = (16..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric());
    (ok(t, 'T') && ok(b, 'B') && secret_ok).then(|| (t.into(), b.into(), s.into()))
}

pub fn classify_webhook(resp: &Resp) -> Verification {
    let body = resp.body.trim();
    match (resp.status, body) {
        (400, "invalid_payload" | "no_text" | "missing_text_or_fallback_or_attachments") => {
            live(format!("webhook accepts posts ({body}; nothing posted)"))
        }
        (403, "invalid_token") | (404, "no_service" | "no_team" | "channel_not_found") => {
            dead(leakscan_scanner::sanitize::sanitize(body))
        }
        (410, "channel_is_archived") => dead("channel_is_archived"),
        (429, _) => unknown("throttled"),
        (s, _) => unknown(format!("HTTP {s}")),
    }
}

pub fn verify_webhook(f: &Finding, ctx: &Ctx<'_>) -> Verification {
    let Some((t, b, s)) = webhook_path(&f.raw.expose_str()) else {
        return skipped("not a hooks.slack.com/services webhook URL");
    };
    let base = ctx
        .opts
        .endpoints
        .get(Provider::Slack)
        .unwrap_or(SLACK_WEBHOOK_BASE);
    let url = format!("{base}/services/{t}/{b}/{s}");
    let shown = format!("{base}/services/{t}/{b}/***");
    let req = Req {
        method: "POST",
        url,
        shown_url: shown,
        headers: vec![("Content-Type", "application/json".into())],
        body: Some(Vec::new()),
    };
    match ctx.send(Provider::Slack, req) {
        Ok(r) => classify_webhook(&r),
        Err(t) => unknown(t.detail()),
    }
}
