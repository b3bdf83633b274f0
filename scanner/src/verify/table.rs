//! Table-driven verifiers: one documented, read-only "who am I" (or token
//! introspection) request per provider, as data. Each [`Spec`] names the
//! compiled-in host (or, for owner-chosen hosts, the documented suffix the
//! host must sit under), the request, where the token goes, and how to read
//! the answer: 2xx with JSON → live, 401/403 → dead, 429/5xx and anything
//! else → unknown, with per-provider `markers` for answers that mean
//! something else than their status.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::endpoints::key;
use super::http::{Req, Resp, pct};
use super::{Ctx, dead, live, skipped, unknown};
use crate::finding::{Finding, Verification, VerifyStatus};

/// Where the token goes.
#[derive(Debug, Clone, Copy)]
pub enum Auth {
    /// `Authorization: Bearer {token}`.
    Bearer,
    /// `{header}: {prefix}{token}`.
    Header(&'static str, &'static str),
    /// HTTP Basic: this user name, the token as password.
    BasicPassword(&'static str),
    /// HTTP Basic: user name from the finding's context (this key, e.g. a
    /// Twilio account SID), the token as password; `{user}` in the path.
    BasicContextUser(&'static str),
    /// The token is part of the path (`{token}`).
    InPath,
    /// The token is this query parameter.
    Query(&'static str),
}

/// Where the request goes.
#[derive(Debug, Clone, Copy)]
pub enum Host {
    /// One compiled-in host.
    Fixed(&'static str),
    /// The provider's sites or regions, compiled in, tried in order until one
    /// does not refuse the credential (a key is refused by other sites).
    Sites(&'static [&'static str]),
    /// The credential owner's host (an Okta org, a Shopify store, a
    /// Databricks workspace), found beside the credential and accepted only
    /// as DNS labels under one of these documented suffixes.
    Owner(&'static [&'static str]),
    /// Mailchimp: `{dc}.api.mailchimp.com`, the data center from the key's
    /// `-usNN` suffix.
    MailchimpDc,
}

/// How a marker reads an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Authenticated, then refused for a missing permission or quota.
    Live,
    Dead,
    Unknown,
}

/// One table verifier.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The name rules use (`verify = "…"`); its override name is [`key`] of it.
    pub id: &'static str,
    pub provider: &'static str,
    pub host: Host,
    pub method: &'static str,
    /// Path and query, `{token}` and `{user}` filled with checked characters.
    pub path: &'static str,
    pub auth: Auth,
    pub headers: &'static [(&'static str, &'static str)],
    /// JSON body of a POST (GraphQL read queries).
    pub body: Option<&'static str>,
    /// Token prefixes this request is for (empty: any); others are skipped.
    pub prefixes: &'static [&'static str],
    /// Token prefixes this request is not for (admin keys...): skipped.
    pub not_prefixes: &'static [&'static str],
    /// Cut from the secret before use (webhook URLs: the path is reused on
    /// the compiled-in host); one must match when any is given.
    pub strip: &'static [&'static str],
    /// (status, body substring, reading), checked before the status rule.
    pub markers: &'static [(u16, &'static str, Mark)],
    /// A JSON pointer a 2xx answer must hold to be live (GraphQL answers
    /// 200 with errors).
    pub require: Option<&'static str>,
    /// (JSON pointer, value) that make a 2xx answer dead (disabled keys).
    pub dead_if: &'static [(&'static str, &'static str)],
    /// JSON pointers to who the credential is (the first found is shown).
    pub who: &'static [&'static str],
    /// JSON pointers to what it can reach (strings or lists; `*` walks a
    /// list of objects).
    pub access: &'static [&'static str],
    /// A 2xx body the provider sends (the stub tests answer with it).
    pub sample: &'static str,
}

const fn get(
    id: &'static str,
    provider: &'static str,
    host: &'static str,
    path: &'static str,
    auth: Auth,
) -> Spec {
    Spec {
        id,
        provider,
        host: Host::Fixed(host),
        method: "GET",
        path,
        auth,
        headers: &[],
        body: None,
        prefixes: &[],
        not_prefixes: &[],
        strip: &[],
        markers: &[],
        require: None,
        dead_if: &[],
        who: &[],
        access: &[],
        sample: "{}",
    }
}

impl Spec {
    const fn post(mut self, body: &'static str) -> Spec {
        self.method = "POST";
        self.body = Some(body);
        self
    }
    const fn host(mut self, host: Host) -> Spec {
        self.host = host;
        self
    }
    const fn headers(mut self, h: &'static [(&'static str, &'static str)]) -> Spec {
        self.headers = h;
        self
    }
    const fn prefixes(mut self, p: &'static [&'static str]) -> Spec {
        self.prefixes = p;
        self
    }
    const fn not_prefixes(mut self, p: &'static [&'static str]) -> Spec {
        self.not_prefixes = p;
        self
    }
    const fn strip(mut self, p: &'static [&'static str]) -> Spec {
        self.strip = p;
        self
    }
    const fn markers(mut self, m: &'static [(u16, &'static str, Mark)]) -> Spec {
        self.markers = m;
        self
    }
    const fn require(mut self, p: &'static str) -> Spec {
        self.require = Some(p);
        self
    }
    const fn dead_if(mut self, d: &'static [(&'static str, &'static str)]) -> Spec {
        self.dead_if = d;
        self
    }
    const fn who(mut self, w: &'static [&'static str]) -> Spec {
        self.who = w;
        self
    }
    const fn access(mut self, a: &'static [&'static str]) -> Spec {
        self.access = a;
        self
    }
    const fn sample(mut self, s: &'static str) -> Spec {
        self.sample = s;
        self
    }

    /// `METHOD https://host/path` as documented (owner hosts shown by suffix).
    pub fn request_line(&self) -> String {
        let host = match self.host {
            Host::Fixed(h) => h.to_string(),
            Host::Sites(hs) => hs.join(" | "),
            Host::Owner(s) => format!("{{owner}}.{}", s.join(" | {owner}.")),
            Host::MailchimpDc => "{dc}.api.mailchimp.com".to_string(),
        };
        let path = self.path.replace("{token}", "***");
        format!("{} https://{host}{path}", self.method)
    }
}

use Auth::*;

const JSON: &[(&str, &str)] = &[("Accept", "application/json")];

/// Every table verifier.
pub static SPECS: &[Spec] = &[];

/// The table verifier named `name`, if any.
pub fn find(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.id == name)
}

fn valid_label(l: &str) -> bool {
    (1..=63).contains(&l.len())
        && l.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !l.starts_with('-')
        && !l.ends_with('-')
}

/// Whether `host` is DNS labels ending in `.` + one of `suffixes` (a label
/// boundary: `evilokta.com` is not under `okta.com`).
pub fn owner_host_ok(host: &str, suffixes: &[&str]) -> bool {
    suffixes.iter().any(|s| {
        host.strip_suffix(s)
            .and_then(|p| p.strip_suffix('.'))
            .is_some_and(|labels| !labels.is_empty() && labels.split('.').all(valid_label))
    })
}

/// Text of a JSON value for display: strings, numbers and booleans.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn short(s: &str) -> String {
    let s = crate::sanitize::sanitize(s);
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

/// The strings at a pointer: a string, a list of strings, or with `*` the
/// field of each object in a list (`/access_scopes/*/handle`).
fn strings_at(v: &Value, pointer: &str) -> Vec<String> {
    if let Some((list, field)) = pointer.split_once("/*") {
        return v
            .pointer(list)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.pointer(field).and_then(text))
                    .collect()
            })
            .unwrap_or_default();
    }
    match v.pointer(pointer) {
        Some(Value::Array(a)) => a.iter().filter_map(text).collect(),
        Some(Value::String(s)) => s.split_whitespace().map(String::from).collect(),
        Some(x) => text(x).into_iter().collect(),
        None => Vec::new(),
    }
}

/// At most this many access entries are kept.
const ACCESS_LIMIT: usize = 24;

/// Reads one answer.
pub fn classify(spec: &Spec, resp: &Resp) -> Verification {
    for (status, needle, mark) in spec.markers {
        if resp.status == *status && resp.body.contains(needle) {
            let d = format!("HTTP {status} `{needle}`");
            return match mark {
                Mark::Live => live(format!("authenticated; refused for a permission or quota ({d})")),
                Mark::Dead => dead(d),
                Mark::Unknown => unknown(d),
            };
        }
    }
    match resp.status {
        200..=299 => {
            let Some(v) = resp.json() else {
                return unknown(format!("unparseable: HTTP {} without a JSON answer", resp.status));
            };
            if let Some(p) = spec.require
                && v.pointer(p).is_none_or(Value::is_null)
            {
                return unknown(format!("unparseable: answer without `{p}`"));
            }
            for (p, want) in spec.dead_if {
                if v.pointer(p).and_then(text).is_some_and(|t| t == *want) {
                    return dead(format!("provider says {} = {want}", p.trim_start_matches('/')));
                }
            }
            let mut d = String::from("ok");
            if let Some(w) = spec.who.iter().find_map(|p| v.pointer(p).and_then(text)) {
                d.push_str(&format!(": {}", short(&w)));
            }
            let mut out = live(d);
            let mut access: Vec<String> = Vec::new();
            for p in spec.access {
                for s in strings_at(&v, p) {
                    let s = short(&s);
                    if !access.contains(&s) {
                        access.push(s);
                    }
                }
            }
            if access.len() > ACCESS_LIMIT {
                let more = access.len() - ACCESS_LIMIT;
                access.truncate(ACCESS_LIMIT);
                access.push(format!("… {more} more"));
            }
            out.access = access;
            out
        }
        401 | 403 => dead(format!("HTTP {}: credential refused", resp.status)),
        429 => unknown("throttled (HTTP 429)"),
        s @ 500..=599 => unknown(format!("provider error (HTTP {s})")),
        s => unknown(format!("HTTP {s}")),
    }
}

/// Characters a token may have where it becomes part of a URL.
fn url_safe(token: &str) -> bool {
    token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~:/".contains(&b))
        && !token.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..")
}

fn first_context<'a>(f: &'a Finding, k: &str) -> Vec<&'a str> {
    f.context
        .get(k)
        .map(|v| v.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

/// Verifies one finding with `spec`.
pub fn verify(spec: &Spec, f: &Finding, ctx: &Ctx<'_>) -> Verification {
    let raw = f.raw.expose_str();
    let mut token: &str = raw.trim();
    if !spec.strip.is_empty() {
        match spec.strip.iter().find_map(|p| token.strip_prefix(p)) {
            Some(t) => token = t,
            None => return skipped(format!("not a {} URL this check knows", spec.provider)),
        }
    }
    if (!spec.prefixes.is_empty() && !spec.prefixes.iter().any(|p| token.starts_with(p)))
        || spec.not_prefixes.iter().any(|p| token.starts_with(p))
    {
        return skipped(format!(
            "{}: no read-only check for this kind of credential (checked: {})",
            spec.provider,
            if spec.prefixes.is_empty() {
                "other kinds".to_string()
            } else {
                spec.prefixes.join(", ")
            }
        ));
    }
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return skipped("not a single-line printable token");
    }
    let in_url = matches!(spec.auth, InPath | Query(_));
    if in_url && !url_safe(token) {
        return skipped("token has characters that cannot go into a URL as they are");
    }
    let user = match spec.auth {
        BasicContextUser(k) => {
            match first_context(f, k)
                .into_iter()
                .find(|u| !u.is_empty() && u.bytes().all(|b| b.is_ascii_alphanumeric()))
            {
                Some(u) => u.to_string(),
                None => {
                    return skipped(format!(
                        "{}: needs its {k} beside the token (none found)",
                        spec.provider
                    ));
                }
            }
        }
        _ => String::new(),
    };
    let name = key(spec.id);
    let bases: Vec<String> = match (ctx.opts.endpoints.get(&name), spec.host) {
        (Some(o), _) => vec![o.to_string()],
        (None, Host::Fixed(h)) => vec![format!("https://{h}")],
        (None, Host::Sites(hs)) => hs.iter().map(|h| format!("https://{h}")).collect(),
        (None, Host::Owner(suffixes)) => {
            let hosts: Vec<String> = first_context(f, super::context::OWNER_HOST)
                .into_iter()
                .filter(|h| owner_host_ok(h, suffixes))
                .take(3)
                .map(|h| format!("https://{h}"))
                .collect();
            if hosts.is_empty() {
                return skipped(format!(
                    "{}: no host under {} found beside the token",
                    spec.provider,
                    suffixes.join(", ")
                ));
            }
            hosts
        }
        (None, Host::MailchimpDc) => {
            let dc = token.rsplit_once('-').map(|(_, dc)| dc).unwrap_or("");
            let ok = dc.len() > 2
                && dc.len() <= 4
                && dc.starts_with("us")
                && dc[2..].bytes().all(|b| b.is_ascii_digit());
            if !ok {
                return skipped("Mailchimp: no data center (-usNN) at the end of the key");
            }
            vec![format!("https://{dc}.api.mailchimp.com")]
        }
    };
    let path = spec.path.replace("{user}", &user);
    let shown_path = path.replace("{token}", "***");
    let path = path.replace("{token}", token);
    let mut verdicts: Vec<Verification> = Vec::new();
    for base in &bases {
        let (mut url, mut shown) = (format!("{base}{path}"), format!("{base}{shown_path}"));
        if let Query(q) = spec.auth {
            let sep = if url.contains('?') { '&' } else { '?' };
            url.push_str(&format!("{sep}{q}={}", pct(token)));
            shown.push_str(&format!("{sep}{q}=***"));
        }
        let mut req = Req {
            method: spec.method,
            url,
            shown_url: shown,
            headers: Vec::new(),
            body: spec.body.map(|b| b.as_bytes().to_vec()),
        };
        match spec.auth {
            Bearer => req = req.header("Authorization", format!("Bearer {token}")),
            Header(h, prefix) => req = req.header(h, format!("{prefix}{token}")),
            BasicPassword(u) => {
                req = req.header(
                    "Authorization",
                    format!("Basic {}", STANDARD.encode(format!("{u}:{token}"))),
                )
            }
            BasicContextUser(_) => {
                req = req.header(
                    "Authorization",
                    format!("Basic {}", STANDARD.encode(format!("{user}:{token}"))),
                )
            }
            InPath | Query(_) => {}
        }
        for (k, v) in spec.headers {
            req = req.header(k, v.to_string());
        }
        if spec.body.is_some() {
            req = req.header("Content-Type", "application/json".into());
        }
        let v = match ctx.send_to(&name, req) {
            Ok(r) => classify(spec, &r),
            Err(t) => unknown(t.detail()),
        };
        if v.status == VerifyStatus::Live {
            if bases.len() > 1 {
                let host = base.split("://").nth(1).unwrap_or(base);
                let mut v = v;
                v.detail.push_str(&format!(" (at {host})"));
                return v;
            }
            return v;
        }
        let stop = v.status == VerifyStatus::Skipped || ctx.opts.dry_run;
        verdicts.push(v);
        if stop {
            break;
        }
    }
    // Dead only when every site refused it; otherwise the first unknown.
    if verdicts.iter().all(|v| v.status == VerifyStatus::Dead) && !verdicts.is_empty() {
        let mut v = verdicts.swap_remove(0);
        if bases.len() > 1 {
            v.detail.push_str(&format!(" (by all {} sites)", bases.len()));
        }
        return v;
    }
    verdicts
        .into_iter()
        .find(|v| v.status != VerifyStatus::Dead)
        .unwrap_or_else(|| unknown("not tried"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_hosts_need_a_label_boundary() {
        let s = &["okta.com", "oktapreview.com"];
        assert!(owner_host_ok("acme.okta.com", s));
        assert!(owner_host_ok("dev-123.oktapreview.com", s));
        assert!(!owner_host_ok("evilokta.com", s));
        assert!(!owner_host_ok("okta.com", s));
        assert!(!owner_host_ok("acme.okta.com.evil.net", s));
        assert!(!owner_host_ok("a_b.okta.com", s));
        assert!(!owner_host_ok("-a.okta.com", s));
        assert!(!owner_host_ok("a..okta.com", s));
    }

    #[test]
    fn ids_are_unique_and_requests_documented() {
        let mut ids: Vec<_> = SPECS.iter().map(|s| s.id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate verifier id");
        for s in SPECS {
            assert!(s.path.starts_with('/'), "{}", s.id);
            assert!(matches!(s.method, "GET" | "POST"), "{}", s.id);
            assert!(serde_json::from_str::<Value>(s.sample).is_ok(), "{}", s.id);
            if let Host::Fixed(h) = s.host {
                assert!(h.split('.').all(valid_label), "{}", s.id);
            }
        }
    }
}
