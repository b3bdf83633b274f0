//! Where each verifier may send a credential: compiled-in hosts per provider,
//! and the only way around them, overrides set by the person running the scan
//! (`--verify-endpoint NAME=URL` or `LEAKSCAN_VERIFY_ENDPOINT_<NAME>`).

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Result, bail};

/// A provider that can be pointed elsewhere with an override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Provider {
    Entra,
    Google,
    Github,
    Gitlab,
    Slack,
    Stripe,
    Aws,
}

impl Provider {
    pub const ALL: [Provider; 7] = [
        Provider::Entra,
        Provider::Google,
        Provider::Github,
        Provider::Gitlab,
        Provider::Slack,
        Provider::Stripe,
        Provider::Aws,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Provider::Entra => "entra",
            Provider::Google => "google",
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
            Provider::Slack => "slack",
            Provider::Stripe => "stripe",
            Provider::Aws => "aws",
        }
    }

    pub fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// The compiled-in base URL (for Entra, the global cloud's authority).
    pub fn default_base(self) -> &'static str {
        match self {
            Provider::Entra => "https://login.microsoftonline.com",
            Provider::Google => "https://oauth2.googleapis.com",
            Provider::Github => "https://api.github.com",
            Provider::Gitlab => "https://gitlab.com",
            Provider::Slack => "https://slack.com",
            Provider::Stripe => "https://api.stripe.com",
            Provider::Aws => "https://sts.amazonaws.com",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Microsoft Entra clouds: authority host and the Graph scope to request
/// (reference 2.1). Content may only choose among these hosts.
pub const ENTRA_CLOUDS: &[(&str, &str)] = &[
    (
        "login.microsoftonline.com",
        "https://graph.microsoft.com/.default",
    ),
    (
        "login.microsoftonline.us",
        "https://graph.microsoft.us/.default",
    ),
    (
        "login.partner.microsoftonline.cn",
        "https://microsoftgraph.chinacloudapi.cn/.default",
    ),
    (
        "login.chinacloudapi.cn",
        "https://microsoftgraph.chinacloudapi.cn/.default",
    ),
];

/// Slack webhooks live on their own host.
pub const SLACK_WEBHOOK_BASE: &str = "https://hooks.slack.com";

/// The Google token endpoint, fixed: never the file's `token_uri`.
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// Overrides, one per provider at most. Built only from the command line and
/// the environment: nothing read from a scanned tree or a config file can
/// construct one.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    overrides: BTreeMap<Provider, String>,
}

impl Endpoints {
    /// Command-line `NAME=URL` values win over the environment
    /// (`LEAKSCAN_VERIFY_ENDPOINT_<NAME>`, read through `env`).
    pub fn from_cli_and_env(
        cli: &[String],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Endpoints> {
        let mut e = Endpoints::default();
        for p in Provider::ALL {
            let var = format!("LEAKSCAN_VERIFY_ENDPOINT_{}", p.name().to_ascii_uppercase());
            if let Some(v) = env(&var).filter(|v| !v.is_empty()) {
                e.set(p, &v)
                    .map_err(|err| anyhow::anyhow!("{var}: {err}"))?;
            }
        }
        for item in cli {
            let Some((name, url)) = item.split_once('=') else {
                bail!(
                    "--verify-endpoint expects NAME=URL, got `{}`",
                    crate::sanitize::sanitize(item)
                );
            };
            let Some(p) = Provider::from_name(name.trim()) else {
                bail!(
                    "--verify-endpoint: unknown provider `{}` (known: entra, google, github, gitlab, slack, stripe, aws)",
                    crate::sanitize::sanitize(name)
                );
            };
            e.set(p, url.trim())?;
        }
        Ok(e)
    }

    /// Sets one override after checking it is a plain `http(s)://host[:port][/path]`.
    pub fn set(&mut self, p: Provider, url: &str) -> Result<()> {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let Some(rest) = rest else {
            bail!("endpoint for {p} must start with http:// or https://");
        };
        let authority = rest.split('/').next().unwrap_or("");
        if authority.is_empty()
            || authority.contains('@')
            || url.contains('?')
            || url.contains('#')
            || url.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            bail!("endpoint for {p} must be a plain URL (scheme, host, optional port and path)");
        }
        self.overrides
            .insert(p, url.trim_end_matches('/').to_string());
        Ok(())
    }

    pub fn is_overridden(&self, p: Provider) -> bool {
        self.overrides.contains_key(&p)
    }

    /// The override for a provider, if any.
    pub fn get(&self, p: Provider) -> Option<&str> {
        self.overrides.get(&p).map(String::as_str)
    }

    /// The base URL to use: the override or the compiled-in default.
    pub fn base(&self, p: Provider) -> &str {
        self.get(p).unwrap_or(p.default_base())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_beats_env_and_names_are_checked() {
        let e = Endpoints::from_cli_and_env(&["entra=http://127.0.0.1:9/".into()], |k| {
            (k == "LEAKSCAN_VERIFY_ENDPOINT_ENTRA" || k == "LEAKSCAN_VERIFY_ENDPOINT_GITHUB")
                .then(|| "http://127.0.0.1:8".to_string())
        })
        .unwrap();
        assert_eq!(e.base(Provider::Entra), "http://127.0.0.1:9");
        assert_eq!(e.base(Provider::Github), "http://127.0.0.1:8");
        assert_eq!(e.base(Provider::Stripe), "https://api.stripe.com");
        assert!(Endpoints::from_cli_and_env(&["nope=http://x".into()], |_| None).is_err());
        assert!(Endpoints::from_cli_and_env(&["entra=ftp://x".into()], |_| None).is_err());
        assert!(Endpoints::from_cli_and_env(&["entra=http://u@x".into()], |_| None).is_err());
        assert!(Endpoints::from_cli_and_env(&["entra".into()], |_| None).is_err());
    }
}
