//! `leakscan repos github|gitlab`: an organization's (user's, group's)
//! clone URLs through the provider's REST API, one a line, for
//! `leakscan git --repos-file -`. Pages are followed, rate limits waited
//! out; the token comes from the environment and is never printed.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::Value;

#[derive(Debug, Subcommand)]
pub enum ReposCommand {
    /// A GitHub organization's or user's repositories (token: GITHUB_TOKEN).
    Github(GithubArgs),
    /// A GitLab group's projects, subgroups included (token: GITLAB_TOKEN).
    Gitlab(GitlabArgs),
}

#[derive(Debug, Args)]
pub struct GithubArgs {
    /// The organization.
    #[arg(
        long,
        value_name = "ORG",
        required_unless_present = "user",
        conflicts_with = "user"
    )]
    pub org: Option<String>,
    /// The user (their public repositories).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// API root (GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(long, value_name = "URL", default_value = "https://api.github.com")]
    pub api_url: String,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Args)]
pub struct GitlabArgs {
    /// The group (full path, e.g. `acme/platform`).
    #[arg(long, value_name = "GROUP")]
    pub group: String,
    /// API root (self-managed GitLab: https://HOST/api/v4).
    #[arg(long, value_name = "URL", default_value = "https://gitlab.com/api/v4")]
    pub api_url: String,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Also list forks.
    #[arg(long)]
    pub include_forks: bool,
    /// Also list archived repositories.
    #[arg(long)]
    pub include_archived: bool,
    /// Print SSH clone URLs instead of HTTPS ones.
    #[arg(long)]
    pub ssh: bool,
    /// Longest wait for a rate limit to reset before giving up (seconds, or
    /// 90s, 10m, 1h).
    #[arg(long, value_name = "DURATION", default_value = "1h",
          value_parser = leakscan_verify::parse_duration)]
    pub max_wait: Duration,
    /// No progress or summary on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// One listed repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub url: String,
    pub fork: bool,
    pub archived: bool,
}

/// What differs between providers.
struct Provider {
    name: &'static str,
    token_var: &'static str,
    /// The header carrying the token, and its value's prefix.
    auth: (&'static str, &'static str),
    extra: &'static [(&'static str, &'static str)],
}

const GITHUB: Provider = Provider {
    name: "GitHub",
    token_var: "GITHUB_TOKEN",
    auth: ("Authorization", "Bearer "),
    extra: &[
        ("Accept", "application/vnd.github+json"),
        ("X-GitHub-Api-Version", "2022-11-28"),
    ],
};

const GITLAB: Provider = Provider {
    name: "GitLab",
    token_var: "GITLAB_TOKEN",
    auth: ("PRIVATE-TOKEN", ""),
    extra: &[("Accept", "application/json")],
};

pub fn run(command: ReposCommand) -> Result<u8> {
    let (provider, first, list) = match &command {
        ReposCommand::Github(a) => {
            let api = a.api_url.trim_end_matches('/');
            let first = match (&a.org, &a.user) {
                (Some(org), _) => format!(
                    "{api}/orgs/{}/repos?type=all&per_page=100",
                    path_segment(org)
                ),
                (None, Some(user)) => format!(
                    "{api}/users/{}/repos?type=owner&per_page=100",
                    path_segment(user)
                ),
                (None, None) => bail!("pass --org ORG or --user USER"),
            };
            (&GITHUB, first, &a.list)
        }
        ReposCommand::Gitlab(a) => {
            let api = a.api_url.trim_end_matches('/');
            let first = format!(
                "{api}/groups/{}/projects?include_subgroups=true&per_page=100&order_by=id&sort=asc",
                path_segment(&a.group)
            );
            (&GITLAB, first, &a.list)
        }
    };
    let token = std::env::var(provider.token_var)
        .ok()
        .filter(|t| !t.trim().is_empty());
    let listed = list_all(provider, &first, token.as_deref(), list)?;
    let (mut forks, mut archived, mut bad) = (0, 0, 0);
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let mut printed = 0;
    for r in &listed {
        if r.fork && !list.include_forks {
            forks += 1;
        } else if r.archived && !list.include_archived {
            archived += 1;
        } else if r.url.is_empty() || r.url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            // A list line is data for `git --repos-file`: never two lines
            // out of one answer.
            bad += 1;
        } else {
            writeln!(w, "{}", r.url)?;
            printed += 1;
        }
    }
    w.flush().context("writing the list to standard output")?;
    if !list.quiet {
        let mut left = Vec::new();
        if forks > 0 {
            left.push(format!("{forks} fork{} (--include-forks)", plural(forks)));
        }
        if archived > 0 {
            left.push(format!("{archived} archived (--include-archived)"));
        }
        if bad > 0 {
            left.push(format!("{bad} without a usable clone URL"));
        }
        eprintln!(
            "leakscan: {printed} {} repositor{} listed{}",
            provider.name,
            if printed == 1 { "y" } else { "ies" },
            if left.is_empty() {
                String::new()
            } else {
                format!("; left out {}", left.join(", "))
            }
        );
    }
    Ok(0)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A name as one URL path segment (`acme/platform` becomes `acme%2Fplatform`,
/// as GitLab wants group paths).
fn path_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `scheme://host:port` of a URL, lower-cased (the token goes only there).
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(format!("{}://{}", scheme, &rest[..end]).to_ascii_lowercase())
}

fn is_loopback_origin(origin: &str) -> bool {
    let host = origin.split_once("://").map_or("", |(_, h)| h);
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or("")
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Every page, from `first` on.
fn list_all(
    provider: &Provider,
    first: &str,
    token: Option<&str>,
    args: &ListArgs,
) -> Result<Vec<Listed>> {
    let home = origin(first).with_context(|| format!("--api-url: `{first}` is not a URL"))?;
    if token.is_some() && !home.starts_with("https://") && !is_loopback_origin(&home) {
        bail!(
            "refusing to send {} over plain HTTP to {home}; use an https:// --api-url",
            provider.token_var
        );
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .user_agent(concat!("leakscan/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut out = Vec::new();
    let mut next = Some(first.to_string());
    let mut page = 0;
    let mut waits = 0;
    while let Some(url) = next.take() {
        if origin(&url).as_deref() != Some(home.as_str()) {
            bail!(
                "{} pointed the next page at another host ({}); refusing to send the token there",
                provider.name,
                leakscan_scanner::sanitize::sanitize_line(&crate::remote::display_url(&url))
            );
        }
        let mut req = agent.get(&url);
        for (k, v) in provider.extra {
            req = req.header(*k, *v);
        }
        if let Some(t) = token {
            req = req.header(provider.auth.0, format!("{}{t}", provider.auth.1));
        }
        let mut resp = req.call().map_err(|e| {
            anyhow::anyhow!(
                "{} API at {home}: {e} (check --api-url and the network)",
                provider.name
            )
        })?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .map(str::to_string)
        };
        if let Some(wait) = rate_limited(status, &header) {
            waits += 1;
            if waits > 20 {
                bail!("{} rate limit: still limited after 20 waits", provider.name);
            }
            if wait > args.max_wait {
                bail!(
                    "{} rate limit: the reset is {}s away, more than --max-wait ({}s); run again later or raise --max-wait",
                    provider.name,
                    wait.as_secs(),
                    args.max_wait.as_secs()
                );
            }
            if !args.quiet {
                eprintln!(
                    "leakscan: {} rate limit reached after {} repositor{}; waiting {}s for it to reset",
                    provider.name,
                    out.len(),
                    if out.len() == 1 { "y" } else { "ies" },
                    wait.as_secs()
                );
            }
            std::thread::sleep(wait);
            next = Some(url);
            continue;
        }
        let link_next = header("link").and_then(|l| link_next(&l));
        let gitlab_next = header("x-next-page").filter(|p| !p.is_empty());
        if status != 200 {
            let what = match status {
                401 => format!("the token in {} was refused (401)", provider.token_var),
                403 => format!(
                    "access denied (403): the token in {} lacks a scope, or none was set",
                    provider.token_var
                ),
                404 => "not found (404): check the name, and that the token can see it".to_string(),
                s => format!("answered HTTP {s}"),
            };
            bail!("{} API at {home}: {what}", provider.name);
        }
        let body: Value = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_json()
            .with_context(|| {
                format!("{} API at {home}: reading page {}", provider.name, page + 1)
            })?;
        let Some(items) = body.as_array() else {
            bail!(
                "{} API at {home}: page {} is not a list",
                provider.name,
                page + 1
            );
        };
        for item in items {
            out.push(if provider.name == "GitHub" {
                github_item(item, args.ssh)
            } else {
                gitlab_item(item, args.ssh)
            });
        }
        page += 1;
        waits = 0;
        next = link_next.or_else(|| gitlab_next.map(|p| with_page(&url, &p)));
        if items.is_empty() {
            next = None;
        }
        if page > 100_000 {
            bail!("{} API at {home}: more than 100000 pages", provider.name);
        }
    }
    Ok(out)
}

fn github_item(v: &Value, ssh: bool) -> Listed {
    let url = if ssh { &v["ssh_url"] } else { &v["clone_url"] };
    Listed {
        url: url.as_str().unwrap_or_default().to_string(),
        fork: v["fork"].as_bool().unwrap_or(false),
        archived: v["archived"].as_bool().unwrap_or(false),
    }
}

fn gitlab_item(v: &Value, ssh: bool) -> Listed {
    let url = if ssh {
        &v["ssh_url_to_repo"]
    } else {
        &v["http_url_to_repo"]
    };
    Listed {
        url: url.as_str().unwrap_or_default().to_string(),
        fork: v.get("forked_from_project").is_some_and(|f| !f.is_null()),
        archived: v["archived"].as_bool().unwrap_or(false),
    }
}

/// How long to wait, if the answer says the rate limit was hit: GitHub's
/// 403/429 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` (epoch
/// seconds) or `retry-after` (seconds); GitLab's 429 with `ratelimit-reset`
/// or `retry-after`.
fn rate_limited(status: u16, header: &dyn Fn(&str) -> Option<String>) -> Option<Duration> {
    if status != 429 && status != 403 {
        return None;
    }
    let num = |name: &str| header(name).and_then(|v| v.parse::<u64>().ok());
    if let Some(secs) = num("retry-after") {
        return Some(Duration::from_secs(secs.max(1)));
    }
    let exhausted =
        num("x-ratelimit-remaining") == Some(0) || num("ratelimit-remaining") == Some(0);
    if status == 403 && !exhausted {
        return None;
    }
    let reset = num("x-ratelimit-reset").or_else(|| num("ratelimit-reset"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match reset {
        // One second past the reset: the provider's clock rounds down.
        Some(at) => Some(Duration::from_secs(at.saturating_sub(now) + 1)),
        None if status == 429 => Some(Duration::from_secs(60)),
        None => None,
    }
}

/// The `rel="next"` URL of a Link header.
fn link_next(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let mut pieces = part.split(';');
        let target = pieces.next()?.trim();
        let is_next = pieces.any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        (is_next && target.starts_with('<') && target.ends_with('>'))
            .then(|| target[1..target.len() - 1].to_string())
    })
}

/// `url` with its `page` query parameter set to `page` (GitLab's
/// `x-next-page`).
fn with_page(url: &str, page: &str) -> String {
    let page: String = page.chars().filter(char::is_ascii_digit).collect();
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("page="))
        .map(str::to_string)
        .collect();
    params.push(format!("page={page}"));
    format!("{base}?{}", params.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_next() {
        let l = r#"<https://api.github.com/orgs/a/repos?page=2>; rel="next", <https://api.github.com/orgs/a/repos?page=5>; rel="last""#;
        assert_eq!(
            link_next(l).as_deref(),
            Some("https://api.github.com/orgs/a/repos?page=2")
        );
        assert_eq!(link_next(r#"<https://x/?page=1>; rel="prev""#), None);
    }

    #[test]
    fn pages_and_segments() {
        assert_eq!(
            with_page("http://h/api?per_page=100&page=2", "3"),
            "http://h/api?per_page=100&page=3"
        );
        assert_eq!(path_segment("acme/platform"), "acme%2Fplatform");
        assert!(is_loopback_origin("http://127.0.0.1:8080"));
        assert!(is_loopback_origin("http://localhost"));
        assert!(!is_loopback_origin("http://example.com"));
        assert_eq!(
            origin("https://API.github.com/orgs/x").as_deref(),
            Some("https://api.github.com")
        );
    }

    /// Regression (issue 17): `--max-wait`'s default, `1h`, was not a
    /// duration the parser knew, so every `leakscan repos` failed.
    #[test]
    fn issue17_max_wait_default_parses() {
        assert_eq!(
            leakscan_verify::parse_duration("1h"),
            Ok(Duration::from_secs(3600))
        );
        use clap::Parser;
        #[derive(Parser)]
        struct T {
            #[command(subcommand)]
            c: ReposCommand,
        }
        let t = T::try_parse_from(["t", "github", "--org", "a"]).unwrap();
        let ReposCommand::Github(a) = t.c else {
            panic!()
        };
        assert_eq!(a.list.max_wait, Duration::from_secs(3600));
    }

    #[test]
    fn rate_limit_answers() {
        let h = |pairs: &'static [(&'static str, &'static str)]| {
            move |n: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            rate_limited(403, &h(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(rate_limited(403, &h(&[])), None);
        assert_eq!(rate_limited(200, &h(&[("retry-after", "7")])), None);
        let far = h(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1")]);
        assert_eq!(rate_limited(403, &far), Some(Duration::from_secs(1)));
    }
}
