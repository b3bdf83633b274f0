//! The verification pass: groups findings by distinct credential, verifies
//! each once in a bounded pool with per-host pacing, within the run's
//! budget, and writes `verification` on every finding of the group.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use leakscan_scanner::finding::{Finding, Verification, VerifyStatus};
use sha2::Sha256;

use crate::endpoints::Provider;
use crate::http::{Http, Req, Resp, Transport};
use crate::options::VerifyOptions;
use crate::verdict::{skipped, unknown};

/// Smallest gap between two requests to one host.
const HOST_INTERVAL: Duration = Duration::from_millis(100);
/// Longest time spent on one credential (all its requests).
const CREDENTIAL_BUDGET: Duration = Duration::from_secs(60);

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
                        let v = crate::run_verifier(name, f, &ctx);
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
