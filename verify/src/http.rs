//! The only HTTP client verification uses: no redirects, no proxy from the
//! environment, https only, one attempt within the caller's timeout
//! (`--verify-timeout`, 10 s by default), 64 KiB bodies, and a resolver that
//! drops private, loopback, link-local and metadata addresses after DNS so the
//! connection goes to the vetted address. Overridden providers (tests, a
//! user's own gateway) get a second agent that permits http and private
//! addresses, for that provider only.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use ureq::Agent;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// Largest response body read.
pub const BODY_LIMIT: u64 = 64 * 1024;
/// Default whole-request timeout (`--verify-timeout`).
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for a connection, within the request's timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// One request. `shown_url` is what may be printed (secrets masked).
#[derive(Clone)]
pub struct Req {
    pub method: &'static str,
    pub url: String,
    pub shown_url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
}

impl fmt::Debug for Req {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the body or header values: they carry credentials.
        write!(f, "Req({} {})", self.method, self.shown_url)
    }
}

impl Req {
    pub fn get(url: String, shown_url: String) -> Req {
        Req {
            method: "GET",
            url,
            shown_url,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn post_form(url: String, shown_url: String, form: &[(&str, &str)]) -> Req {
        Req {
            method: "POST",
            url,
            shown_url,
            headers: vec![(
                "Content-Type",
                "application/x-www-form-urlencoded".to_string(),
            )],
            body: Some(form_encode(form).into_bytes()),
        }
    }

    pub fn header(mut self, name: &'static str, value: String) -> Req {
        self.headers.push((name, value));
        self
    }

    /// Host (and port) of the URL, for rate limiting and logs.
    pub fn host(&self) -> String {
        let rest = self.url.split("://").nth(1).unwrap_or("");
        rest.split('/').next().unwrap_or("").to_string()
    }
}

/// A response, read whole up to [`BODY_LIMIT`].
#[derive(Debug, Clone, Default)]
pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub retry_after: Option<u64>,
    /// Lower-case names; only the headers flows look at.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// Why no response came back. Never carries a URL or a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The host resolved only to private or special addresses.
    Blocked,
    Timeout,
    Connect,
    Tls,
    TooLarge,
    HttpsOnly,
    Other,
    /// `--verify-dry-run`: nothing was sent.
    DryRun,
    /// `--verify-budget` ran out before this request.
    Budget,
}

impl Transport {
    pub fn detail(self) -> &'static str {
        match self {
            Transport::Blocked => "transport: destination is a private or special address",
            Transport::Timeout => "transport: timeout",
            Transport::Connect => "transport: connection failed",
            Transport::Tls => "transport: TLS error",
            Transport::TooLarge => "transport: response too large",
            Transport::HttpsOnly => "transport: refused to use plain http",
            Transport::Other => "transport: error",
            Transport::DryRun => "dry run: nothing sent",
            Transport::Budget => "budget exhausted (--verify-budget): not checked",
        }
    }
}

#[derive(Debug)]
struct BlockedAddress;

impl fmt::Display for BlockedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("private or special address refused")
    }
}

impl std::error::Error for BlockedAddress {}

/// Whether an address must never receive a credential: loopback, RFC 1918,
/// link-local (incl. 169.254.169.254), CGNAT, multicast, unspecified,
/// broadcast, documentation, IPv4-mapped/compatible IPv6, ULA.
pub fn is_special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_special_v4(v4),
        IpAddr::V6(v6) => is_special_v6(v6),
    }
}

fn is_special_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        || o[0] >= 240
}

fn is_special_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4() {
        // IPv4-mapped (::ffff:a.b.c.d) and -compatible (::a.b.c.d): judge
        // the embedded address, and refuse the compatible form outright.
        return s[5] != 0xffff || is_special_v4(v4);
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || s[0] == 0x0064 && s[1] == 0xff9b
}

/// DNS through the default resolver, then drop special addresses (unless
/// allowed). ureq connects only to the addresses returned here.
#[derive(Debug)]
struct GuardResolver {
    allow_private: bool,
    inner: DefaultResolver,
}

impl Resolver for GuardResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let all = self.inner.resolve(uri, config, timeout)?;
        if self.allow_private {
            return Ok(all);
        }
        let mut kept = self.empty();
        for a in all.iter() {
            if !is_special(a.ip()) {
                kept.push(*a);
            }
        }
        if kept.is_empty() {
            return Err(ureq::Error::Other(Box::new(BlockedAddress)));
        }
        Ok(kept)
    }
}

fn agent(lax: bool) -> Agent {
    let config = Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .https_only(!lax)
        .proxy(None)
        .timeout_global(Some(TIMEOUT))
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .user_agent(concat!("leakscan/", env!("CARGO_PKG_VERSION"), " (verify)"))
        .build();
    Agent::with_parts(
        config,
        DefaultConnector::default(),
        GuardResolver {
            allow_private: lax,
            inner: DefaultResolver::default(),
        },
    )
}

/// Two agents: strict for compiled-in hosts, lax for overridden providers.
#[derive(Debug, Clone)]
pub struct Http {
    strict: Agent,
    lax: Agent,
}

impl Default for Http {
    fn default() -> Self {
        Http::new()
    }
}

impl Http {
    pub fn new() -> Http {
        Http {
            strict: agent(false),
            lax: agent(true),
        }
    }

    /// Sends one request, once, all of it (connect, send, read) within
    /// `timeout`; `lax` only for a provider the user overrode.
    pub fn send(&self, req: &Req, lax: bool, timeout: Duration) -> Result<Resp, Transport> {
        let agent = if lax { &self.lax } else { &self.strict };
        if !lax && !req.url.starts_with("https://") {
            return Err(Transport::HttpsOnly);
        }
        let timeout = timeout.max(Duration::from_millis(1));
        let connect = timeout.min(CONNECT_TIMEOUT);
        let result = match (req.method, &req.body) {
            ("GET", _) => {
                let mut r = agent.get(&req.url);
                for (k, v) in &req.headers {
                    r = r.header(*k, v);
                }
                r.config()
                    .timeout_global(Some(timeout))
                    .timeout_connect(Some(connect))
                    .build()
                    .call()
            }
            (_, body) => {
                let mut r = agent.post(&req.url);
                for (k, v) in &req.headers {
                    r = r.header(*k, v);
                }
                r.config()
                    .timeout_global(Some(timeout))
                    .timeout_connect(Some(connect))
                    .build()
                    .send(body.as_deref().unwrap_or(&[]))
            }
        };
        let mut resp = result.map_err(classify_error)?;
        let mut out = Resp {
            status: resp.status().as_u16(),
            ..Resp::default()
        };
        for (name, value) in resp.headers() {
            let n = name.as_str().to_ascii_lowercase();
            if matches!(
                n.as_str(),
                "content-type"
                    | "retry-after"
                    | "x-oauth-scopes"
                    | "github-authentication-token-expiration"
                    | "stripe-account"
                    | "location"
            ) && let Ok(v) = value.to_str()
            {
                out.headers.insert(n, v.to_string());
            }
        }
        out.content_type = out.headers.get("content-type").cloned().unwrap_or_default();
        out.retry_after = out
            .headers
            .get("retry-after")
            .and_then(|v| v.trim().parse().ok());
        out.body = resp
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_string()
            .map_err(classify_error)?;
        Ok(out)
    }
}

fn classify_error(e: ureq::Error) -> Transport {
    match e {
        ureq::Error::Other(inner) if inner.downcast_ref::<BlockedAddress>().is_some() => {
            Transport::Blocked
        }
        ureq::Error::Timeout(_) => Transport::Timeout,
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => Transport::Timeout,
        ureq::Error::Io(_) | ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
            Transport::Connect
        }
        ureq::Error::BodyExceedsLimit(_) => Transport::TooLarge,
        ureq::Error::RequireHttpsOnly(_) => Transport::HttpsOnly,
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => Transport::Tls,
        _ => Transport::Other,
    }
}

/// `application/x-www-form-urlencoded`: every byte outside the unreserved
/// set percent-encoded (so `~`, `+`, `/` in secrets survive).
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but `A-Z a-z 0-9 - . _ ~`.
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
        ] {
            assert!(is_special(a.parse().unwrap()), "{a}");
        }
        for a in [
            "20.190.160.1",
            "140.82.112.6",
            "2603:1030::1",
            "::ffff:20.1.2.3",
        ] {
            assert!(!is_special(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn form_encoding_keeps_secrets_intact() {
        assert_eq!(
            form_encode(&[("a", "x~y+z/="), ("scope", "https://g/.default")]),
            "a=x~y%2Bz%2F%3D&scope=https%3A%2F%2Fg%2F.default"
        );
    }
}
