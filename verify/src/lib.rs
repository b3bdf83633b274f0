//! Verification: tells whether a found credential still works. Runs after
//! scanning and suppression, only when asked (`--verify`): groups findings by
//! distinct credential, verifies each once in a bounded pool with per-host
//! pacing, and writes `verification: {status, detail}` on every finding.
//! One module per flow or provider; hosts are compiled in (see
//! [`endpoints`]); the HTTP client is [`http`].

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use leakscan_scanner::finding::{Finding, Verification, VerifyStatus};

pub mod assertion;
pub mod aws;
pub mod azure_storage;
pub mod endpoints;
pub mod entra;
pub mod entra_cert;
pub mod github;
pub mod gitlab;
pub mod google;
pub mod http;
pub mod slack;
pub mod stripe;
pub mod table;

pub use endpoints::{Endpoints, Provider};
use http::{Http, Req, Resp, Transport};

/// Default number of credentials verified at once.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// Default time for one request (`--verify-timeout`).
pub const DEFAULT_TIMEOUT: Duration = http::TIMEOUT;
/// Default time for the whole verification pass (`--verify-budget`).
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(180);
/// Smallest gap between two requests to one host.
const HOST_INTERVAL: Duration = Duration::from_millis(100);
/// Longest time spent on one credential (all its requests).
const CREDENTIAL_BUDGET: Duration = Duration::from_secs(60);

/// Called after each credential with (done, total); the CLI draws a
/// progress line with it. The library itself never prints.
#[derive(Clone)]
pub struct Progress(pub Arc<dyn Fn(usize, usize) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

/// What the person running the scan asked for. Built by the CLI only.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Print each request instead of sending it.
    pub dry_run: bool,
    /// Present found, unexpired assertions to their (allowlisted) token endpoint.
    pub replay_assertions: bool,
    pub concurrency: usize,
    pub endpoints: Endpoints,
    /// Read known configuration files beside a finding's file (dir scans).
    pub read_neighbours: bool,
    /// Each request: one attempt, connect to last byte, within this.
    pub timeout: Duration,
    /// The whole pass; credentials not reached in time are `unknown:
    /// budget exhausted`.
    pub budget: Duration,
    pub progress: Option<Progress>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            dry_run: false,
            replay_assertions: false,
            concurrency: DEFAULT_CONCURRENCY,
            endpoints: Endpoints::default(),
            read_neighbours: false,
            timeout: DEFAULT_TIMEOUT,
            budget: DEFAULT_BUDGET,
            progress: None,
        }
    }
}

/// Parses a duration for `--verify-timeout` / `--verify-budget`: `10`
/// (seconds), `10s`, `500ms`, `3m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{t}` is not a duration (examples: 10, 10s, 500ms, 3m)"))?;
    let d = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" | "min" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(format!("`{t}`: unit must be ms, s or m")),
    };
    if d.is_zero() {
        return Err("a duration must be more than zero".into());
    }
    Ok(d)
}

/// A request the dry run would have sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRequest {
    pub method: String,
    /// Secrets masked.
    pub url: String,
    /// `path:line rule` of the finding it is for.
    pub finding: String,
}

/// What a verification run did, besides the findings it annotated.
#[derive(Debug, Default)]
pub struct VerifyReport {
    pub planned: Vec<PlannedRequest>,
    /// Distinct credentials checked.
    pub credentials: usize,
    pub requests_sent: usize,
}

pub fn live(detail: impl Into<String>) -> Verification {
    verdict(VerifyStatus::Live, detail)
}
pub fn dead(detail: impl Into<String>) -> Verification {
    verdict(VerifyStatus::Dead, detail)
}
pub fn unknown(detail: impl Into<String>) -> Verification {
    verdict(VerifyStatus::Unknown, detail)
}
pub fn skipped(detail: impl Into<String>) -> Verification {
    verdict(VerifyStatus::Skipped, detail)
}
fn verdict(status: VerifyStatus, detail: impl Into<String>) -> Verification {
    Verification {
        status,
        detail: leakscan_scanner::sanitize::sanitize(&detail.into()),
        access: Vec::new(),
    }
}

/// Shared by the flows while verifying one credential.
pub struct Ctx<'a> {
    pub opts: &'a VerifyOptions,
    http: &'a Http,
    pacing: &'a Mutex<HashMap<String, Instant>>,
    locks: &'a Mutex<HashMap<String, Arc<Mutex<()>>>>,
    /// Structural answers worth caching for the run (Entra tenant exists?).
    facts: &'a Mutex<HashMap<String, bool>>,
    planned: &'a Mutex<Vec<PlannedRequest>>,
    sent: &'a AtomicUsize,
    label: String,
    /// This credential's deadline.
    deadline: Instant,
    /// The whole pass's deadline (`--verify-budget`).
    run_deadline: Instant,
}

impl Ctx<'_> {
    /// Sends a request for `provider` (through the lax agent only when the
    /// user overrode that provider).
    pub fn send(&self, provider: Provider, req: Req) -> Result<Resp, Transport> {
        self.send_to(provider.name(), req)
    }

    /// Sends a request for the verifier whose override name is `name`: one
    /// attempt (no retries), within `--verify-timeout` and what is left of
    /// the credential's and the run's budget.
    pub fn send_to(&self, name: &str, req: Req) -> Result<Resp, Transport> {
        if self.opts.dry_run {
            self.planned
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(PlannedRequest {
                    method: req.method.to_string(),
                    url: req.shown_url.clone(),
                    finding: self.label.clone(),
                });
            return Err(Transport::DryRun);
        }
        let lax = self.opts.endpoints.is_overridden(name);
        if Instant::now() >= self.run_deadline {
            return Err(Transport::Budget);
        }
        if Instant::now() >= self.deadline {
            return Err(Transport::Timeout);
        }
        self.pace(&req.host());
        let now = Instant::now();
        let left = self
            .run_deadline
            .min(self.deadline)
            .saturating_duration_since(now);
        if left.is_zero() {
            return Err(Transport::Budget);
        }
        let timeout = self.opts.timeout.min(left);
        self.sent.fetch_add(1, Ordering::Relaxed);
        let r = self.http.send(&req, lax, timeout);
        if matches!(r, Err(Transport::Timeout)) && Instant::now() >= self.run_deadline {
            // Cut short by the run's budget, not by the provider.
            return Err(Transport::Budget);
        }
        r
    }

    /// Runs `f` while holding the lock named `key` (AWS: one key id at a time).
    pub fn serialized<T>(&self, key: &str, f: impl FnOnce() -> T) -> T {
        let lock = {
            let mut m = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            m.entry(key.to_string()).or_default().clone()
        };
        let _g = lock.lock().unwrap_or_else(|e| e.into_inner());
        f()
    }

    /// A cached yes/no fact for the run, computed once per key even when
    /// several workers ask at the same time (`compute` returns `None` for
    /// "don't know", which is not cached).
    pub fn fact(&self, key: &str, compute: impl FnOnce() -> Option<bool>) -> Option<bool> {
        self.serialized(&format!("fact:{key}"), || {
            if let Some(v) = self
                .facts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(key)
            {
                return Some(*v);
            }
            let v = compute()?;
            self.facts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key.to_string(), v);
            Some(v)
        })
    }

    fn pace(&self, host: &str) {
        loop {
            let wait = {
                let mut m = self.pacing.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                match m.get(host) {
                    Some(next) if *next > now => *next - now,
                    _ => {
                        m.insert(host.to_string(), now + HOST_INTERVAL);
                        return;
                    }
                }
            };
            std::thread::sleep(wait);
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// RFC 3339 (UTC, seconds) for a Unix time.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Verifier names with their own module (the table's are in [`table::SPECS`]).
pub const FLOW_VERIFIERS: &[&str] = &[
    "entra",
    "entra-cert",
    "assertion",
    "google",
    "google-oauth",
    "google-api-key",
    "github",
    "gitlab",
    "slack",
    "slack-webhook",
    "stripe",
    "aws",
    "azure-storage",
];

/// (verifier, provider, request, what it reports as access) of the flows
/// with their own module, for the README.
pub const FLOW_DOCS: &[(&str, &str, &str, &str)] = &[
    (
        "entra",
        "Microsoft Entra ID (client secret)",
        "POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token (client credentials; national clouds chosen among compiled-in hosts)",
        "application permissions (`roles` of the token obtained, then dropped)",
    ),
    (
        "entra-cert",
        "Microsoft Entra ID (certificate)",
        "same, with a signed client assertion (RS256 + x5t, then PS256 + x5t#S256)",
        "application permissions (`roles`)",
    ),
    (
        "assertion",
        "signed assertions (JWT)",
        "none offline (expired: dead; unexpired: unknown); with --verify-replay-assertions POST to its allowlisted Entra token endpoint",
        "-",
    ),
    (
        "google",
        "Google Cloud (service-account key)",
        "POST https://oauth2.googleapis.com/token (JWT bearer grant)",
        "-",
    ),
    (
        "google-oauth",
        "Google (OAuth client secret)",
        "POST https://oauth2.googleapis.com/token (authorization code probe with a random code)",
        "-",
    ),
    (
        "google-api-key",
        "Google API key",
        "none: skipped (no read-only identity check; calls may spend the owner's quota)",
        "-",
    ),
    (
        "github",
        "GitHub",
        "GET https://api.github.com/rate_limit",
        "token scopes (X-OAuth-Scopes)",
    ),
    (
        "gitlab",
        "GitLab",
        "GET https://gitlab.com/api/v4/user",
        "-",
    ),
    (
        "slack",
        "Slack (token)",
        "POST https://slack.com/api/auth.test",
        "team, scopes (X-OAuth-Scopes)",
    ),
    (
        "slack-webhook",
        "Slack (webhook)",
        "POST https://hooks.slack.com/services/… with an empty body (refused, nothing posted)",
        "-",
    ),
    (
        "stripe",
        "Stripe",
        "GET https://api.stripe.com/v1/charges?limit=1",
        "live or test mode, restricted key",
    ),
    (
        "aws",
        "AWS",
        "POST https://sts.amazonaws.com/ GetCallerIdentity (SigV4)",
        "caller ARN",
    ),
    (
        "azure-storage",
        "Azure Storage",
        "GET https://{account}.blob.{core.windows.net|national suffix}/?restype=service&comp=properties (SharedKey HMAC; the key is never sent)",
        "storage account",
    ),
];

/// The README's table of verified providers (a test keeps it current).
pub fn readme_table() -> String {
    let mut rows: Vec<(String, String, String, String)> = FLOW_DOCS
        .iter()
        .map(|(n, p, r, a)| (p.to_string(), n.to_string(), r.to_string(), a.to_string()))
        .collect();
    for s in table::SPECS {
        let mut req = s.request_line();
        match s.auth {
            table::Auth::Bearer => req.push_str(" (Bearer)"),
            table::Auth::Header(h, _) => req.push_str(&format!(" ({h} header)")),
            table::Auth::BasicPassword(_) | table::Auth::BasicContextUser(_) => {
                req.push_str(" (Basic)")
            }
            table::Auth::InPath => req.push_str(" (token in path)"),
            table::Auth::Query(q) => req.push_str(&format!(" ({q} query)")),
        }
        if let Some(b) = s.body {
            req.push_str(&format!(" body `{b}`"));
        }
        let access = if s.access.is_empty() {
            "-".to_string()
        } else {
            s.access
                .iter()
                .map(|a| {
                    let field = a
                        .trim_start_matches('/')
                        .replace("/*/", "[].")
                        .replace('/', ".");
                    format!("`{field}`")
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        rows.push((s.provider.into(), s.id.into(), req, access));
    }
    rows.sort_by_key(|r| (r.0.to_lowercase(), r.1.clone()));
    let mut out = format!(
        "{} verifiers.\n\n| provider | verifier | request | access reported |\n| --- | --- | --- | --- |\n",
        rows.len()
    );
    for (p, n, r, a) in rows {
        let esc = |s: &str| s.replace('|', "\\|");
        out.push_str(&format!(
            "| {} | `{n}` | {} | {} |\n",
            esc(&p),
            esc(&r),
            esc(&a)
        ));
    }
    out
}

/// Whether a rule's `verify = "name"` names a verifier that exists.
pub fn verifier_exists(name: &str) -> bool {
    FLOW_VERIFIERS.contains(&name) || table::find(name).is_some()
}

/// Every verifier name, sorted.
pub fn verifier_names() -> Vec<&'static str> {
    let mut v: Vec<&str> = FLOW_VERIFIERS.to_vec();
    v.extend(table::SPECS.iter().map(|s| s.id));
    v.sort();
    v
}

/// Google API keys (`AIza…`) open whatever APIs their project enabled; none
/// is a read-only identity check, and calling one may spend the owner's
/// paid quota. They are never sent down the service-account flow.
fn google_api_key() -> Verification {
    skipped(
        "Google API key: no read-only identity check exists (what it opens depends on the APIs its project enabled, and calls may spend the owner's quota); not sent",
    )
}

/// Dispatches one finding to its verifier by the rule's `verify` name.
fn run_verifier(name: &str, f: &Finding, ctx: &Ctx<'_>) -> Verification {
    if let Some(spec) = table::find(name) {
        return table::verify(spec, f, ctx);
    }
    match name {
        "entra" => entra::verify_secret(f, ctx),
        "entra-cert" => entra_cert::verify(f, ctx),
        "assertion" => assertion::verify(f, ctx),
        "google" if f.raw.expose_str().trim_start().starts_with("AIza") => google_api_key(),
        "google" => google::verify_service_account(f, ctx),
        "google-api-key" => google_api_key(),
        "google-oauth" => google::verify_oauth_client(f, ctx),
        "github" => github::verify(f, ctx),
        "gitlab" => gitlab::verify(f, ctx),
        "slack" => slack::verify_token(f, ctx),
        "slack-webhook" => slack::verify_webhook(f, ctx),
        "stripe" => stripe::verify(f, ctx),
        "aws" => aws::verify(f, ctx),
        "azure-storage" => azure_storage::verify(f, ctx),
        other => skipped(format!("no verifier for `{other}` yet")),
    }
}

/// Verifies every finding whose rule names a verifier (`verifiers`: rule id
/// → verifier name). Findings whose rule has none are left untouched.
/// Each distinct credential (verifier + secret + context) is checked once.
pub fn verify_findings(
    findings: &mut [Finding],
    verifiers: &BTreeMap<String, String>,
    opts: &VerifyOptions,
) -> VerifyReport {
    // Per-run random key: cache keys never equal a plain hash of a secret.
    let salt = uuid::Uuid::new_v4();
    let mut groups: BTreeMap<Vec<u8>, Vec<usize>> = BTreeMap::new();
    let mut order: Vec<Vec<u8>> = Vec::new();
    for (i, f) in findings.iter_mut().enumerate() {
        let Some(name) = verifiers.get(&f.rule) else {
            continue;
        };
        if opts.read_neighbours {
            leakscan_scanner::credential_context::add_neighbours(f);
        }
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(salt.as_bytes()).expect("any key size");
        mac.update(name.as_bytes());
        mac.update(&[0]);
        mac.update(f.raw.expose());
        mac.update(&[0]);
        for (k, vs) in &f.context {
            mac.update(k.as_bytes());
            for v in vs {
                mac.update(&[1]);
                mac.update(v.as_bytes());
            }
            mac.update(&[0]);
        }
        let key = mac.finalize().into_bytes().to_vec();
        let entry = groups.entry(key.clone()).or_default();
        if entry.is_empty() {
            order.push(key);
        }
        entry.push(i);
    }

    let http = Http::new();
    let pacing = Mutex::new(HashMap::new());
    let locks = Mutex::new(HashMap::new());
    let facts = Mutex::new(HashMap::new());
    let planned = Mutex::new(Vec::new());
    let sent = AtomicUsize::new(0);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Verification)>> = Mutex::new(Vec::new());
    let jobs: Vec<(usize, &str)> = order
        .iter()
        .map(|k| {
            let first = groups[k][0];
            (first, verifiers[&findings[first].rule].as_str())
        })
        .collect();
    let workers = opts.concurrency.clamp(1, 64).min(jobs.len().max(1));
    let run_deadline = Instant::now() + opts.budget;
    let done = AtomicUsize::new(0);
    if let Some(p) = &opts.progress {
        (p.0)(0, jobs.len());
    }
    {
        let findings_ro: &[Finding] = findings;
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        let j = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(idx, name)) = jobs.get(j) else {
                            break;
                        };
                        let f = &findings_ro[idx];
                        if Instant::now() >= run_deadline && !opts.dry_run {
                            results
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push((j, unknown(Transport::Budget.detail())));
                            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                            if let Some(p) = &opts.progress {
                                (p.0)(n, jobs.len());
                            }
                            continue;
                        }
                        let ctx = Ctx {
                            opts,
                            http: &http,
                            pacing: &pacing,
                            locks: &locks,
                            facts: &facts,
                            planned: &planned,
                            sent: &sent,
                            label: format!(
                                "{}:{} {}",
                                leakscan_scanner::sanitize::sanitize(&f.path),
                                f.line,
                                f.rule
                            ),
                            deadline: (Instant::now() + CREDENTIAL_BUDGET).min(run_deadline),
                            run_deadline,
                        };
                        let v = run_verifier(name, f, &ctx);
                        // A dry run keeps verdicts decided offline (dead,
                        // skipped); anything else would have needed a request.
                        let v = if opts.dry_run
                            && !matches!(v.status, VerifyStatus::Dead | VerifyStatus::Skipped)
                        {
                            skipped(Transport::DryRun.detail())
                        } else {
                            v
                        };
                        results
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((j, v));
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if let Some(p) = &opts.progress {
                            (p.0)(n, jobs.len());
                        }
                    }
                });
            }
        });
    }
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    for (j, v) in results {
        for &i in &groups[&order[j]] {
            findings[i].verification = Some(v.clone());
        }
    }
    let mut planned = planned.into_inner().unwrap_or_else(|e| e.into_inner());
    planned.sort_by(|a, b| (&a.finding, &a.url).cmp(&(&b.finding, &b.url)));
    VerifyReport {
        planned,
        credentials: jobs.len(),
        requests_sent: sent.load(Ordering::Relaxed),
    }
}

/// Live findings first, the existing order otherwise (stable).
pub fn sort_live_first(findings: &mut [Finding]) {
    findings.sort_by_key(|f| {
        f.verification
            .as_ref()
            .is_none_or(|v| v.status != VerifyStatus::Live)
    });
}

/// The verifier name of each rule that has one.
pub fn verifier_map(rules: &leakscan_scanner::matcher::RuleSet) -> BTreeMap<String, String> {
    rules
        .rules
        .iter()
        .filter_map(|r| r.rule.verify.clone().map(|v| (r.rule.id.clone(), v)))
        .collect()
}

/// A token endpoint's JSON error, for flows that speak OAuth 2.0.
pub(crate) fn oauth_error(resp: &Resp) -> Option<String> {
    resp.json()?
        .get("error")?
        .as_str()
        .map(|s| s.chars().take(64).collect())
}

/// The `roles` claim (application permissions granted to the client) of
/// the access token in a token response: decoded, copied, and the token
/// dropped with the parsed answer. Empty when the token is not a JWT.
pub(crate) fn token_roles(resp: &Resp) -> Vec<String> {
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
pub(crate) fn has_access_token(resp: &Resp) -> bool {
    (200..300).contains(&resp.status)
        && resp
            .json()
            .is_some_and(|v| v.get("access_token").is_some_and(|t| t.is_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
