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

impl AsRef<str> for Provider {
    fn as_ref(&self) -> &str {
        self.name()
    }
}

/// Every name an override can be set for (`LEAKSCAN_VERIFY_ENDPOINT_<NAME>`,
/// `--verify-endpoint NAME=URL`): the built-in flows, Azure Storage, and each
/// table verifier's id with `_` for separators.
pub fn override_names() -> Vec<String> {
    let mut v: Vec<String> = Provider::ALL.iter().map(|p| p.name().to_string()).collect();
    v.push(AZURE_STORAGE.to_string());
    v.extend(super::table::SPECS.iter().map(|s| key(s.id)));
    v.sort();
    v.dedup();
    v
}

/// The override name of a verifier id: lower case, `_` for `-`.
pub fn key(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('-', "_")
}

/// Override name of the Azure Storage verifier.
pub const AZURE_STORAGE: &str = "azure_storage";

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
    /// Override name (see [`key`]) → base URL.
    overrides: BTreeMap<String, String>,
}

impl Endpoints {
    /// Command-line `NAME=URL` values win over the environment
    /// (`LEAKSCAN_VERIFY_ENDPOINT_<NAME>`, read through `env`).
    pub fn from_cli_and_env(
        cli: &[String],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Endpoints> {
        let mut e = Endpoints::default();
        let names = override_names();
        for name in &names {
            let var = format!("LEAKSCAN_VERIFY_ENDPOINT_{}", name.to_ascii_uppercase());
            if let Some(v) = env(&var).filter(|v| !v.is_empty()) {
                e.set(name, &v)
                    .map_err(|err| anyhow::anyhow!("{var}: {err}"))?;
            }
        }
        for item in cli {
            let Some((name, url)) = item.split_once('=') else {
                bail!(
                    "--verify-endpoint expects NAME=URL, got `{}`",
                    leakscan_scanner::sanitize::sanitize(item)
                );
            };
            if !names.contains(&key(name)) {
                bail!(
                    "--verify-endpoint: unknown verifier `{}` (names: `leakscan rules list` shows each rule's verifier; use `_` for `-`)",
                    leakscan_scanner::sanitize::sanitize(name)
                );
            }
            e.set(name, url.trim())?;
        }
        Ok(e)
    }

    /// Sets one override after checking it is a plain `http(s)://host[:port][/path]`.
    pub fn set(&mut self, name: impl AsRef<str>, url: &str) -> Result<()> {
        let p = key(name.as_ref());
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

    pub fn is_overridden(&self, name: impl AsRef<str>) -> bool {
        self.overrides.contains_key(&key(name.as_ref()))
    }

    /// The override for a verifier, if any.
    pub fn get(&self, name: impl AsRef<str>) -> Option<&str> {
        self.overrides.get(&key(name.as_ref())).map(String::as_str)
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

    #[test]
    fn entra_clouds_are_the_hosts_context_may_choose() {
        let ours: Vec<&str> = ENTRA_CLOUDS.iter().map(|(h, _)| *h).collect();
        assert_eq!(ours, leakscan_scanner::credential_context::ENTRA_HOSTS);
    }
}
