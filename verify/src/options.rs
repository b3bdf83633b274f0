//! What the person running the scan asked verification to do, and the
//! defaults (`--verify-timeout`, `--verify-budget`, `--verify-concurrency`).

use std::sync::Arc;
use std::time::Duration;

use crate::endpoints::Endpoints;
use crate::http;

/// Default number of credentials verified at once.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// Default time for one request (`--verify-timeout`).
pub const DEFAULT_TIMEOUT: Duration = http::TIMEOUT;
/// Default time for the whole verification pass (`--verify-budget`).
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(180);

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
        .map_err(|_| format!("`{t}` is not a duration (examples: 10, 10s, 500ms, 3m, 1h)"))?;
    let d = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" | "min" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(format!("`{t}`: unit must be ms, s, m or h")),
    };
    if d.is_zero() {
        return Err("a duration must be more than zero".into());
    }
    Ok(d)
}
