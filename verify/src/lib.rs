//! Verification: tells whether a found credential still works. Runs after
//! scanning and suppression, only when asked (`--verify`), over the engine's
//! findings; the engine never depends on this crate (engine → verify → CLI).
//! This file only names the verifiers and dispatches a finding to its flow.
//! The pass itself (grouping, pool, pacing, budget) is [`run`]; the verdicts
//! flows return are [`verdict`]; one module per flow or provider; hosts are
//! compiled in (see [`endpoints`]); the HTTP client is [`http`].

use leakscan_scanner::finding::{Finding, Verification};

pub mod assertion;
pub mod aws;
pub mod azure_storage;
mod docs;
pub mod endpoints;
pub mod entra;
pub mod entra_cert;
pub mod github;
pub mod gitlab;
pub mod google;
pub mod http;
pub mod oauth;
mod options;
pub mod run;
pub mod slack;
pub mod stripe;
pub mod table;
pub mod verdict;

pub use docs::{FLOW_DOCS, readme_table};
pub use endpoints::{Endpoints, Provider};
pub use options::{
    DEFAULT_BUDGET, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, Progress, VerifyOptions, parse_duration,
};
pub use run::{Ctx, PlannedRequest, VerifyReport, sort_live_first, verifier_map, verify_findings};
use verdict::skipped;

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
pub(crate) fn run_verifier(name: &str, f: &Finding, ctx: &Ctx<'_>) -> Verification {
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
