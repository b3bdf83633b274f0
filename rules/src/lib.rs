//! leakscan's rule packs: the TOML schema, the built-in packs, and the loader
//! that validates a pack (unique ids, compiling patterns, keywords present).
//!
//! A rule is data: keywords for the prefilter, a pattern whose `secret`
//! capture (or first group) is the credential, an optional entropy floor and
//! allow words, an optional validator and verifier named by string, and the
//! examples and counterexamples that prove it.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The built-in packs, compiled into the binary, one file per area.
pub const BUILTIN_PACKS: &[(&str, &str)] = &[
    (
        "client-secrets",
        include_str!("../packs/client-secrets.toml"),
    ),
    ("private-keys", include_str!("../packs/private-keys.toml")),
    ("assertions", include_str!("../packs/assertions.toml")),
    ("cloud-keys", include_str!("../packs/cloud-keys.toml")),
    ("cloud", include_str!("../packs/cloud.toml")),
    ("ai", include_str!("../packs/ai.toml")),
    ("ci-and-code", include_str!("../packs/ci-and-code.toml")),
    ("data", include_str!("../packs/data.toml")),
    ("observability", include_str!("../packs/observability.toml")),
    ("messaging", include_str!("../packs/messaging.toml")),
    ("payments", include_str!("../packs/payments.toml")),
    ("saas", include_str!("../packs/saas.toml")),
    (
        "maps-and-media",
        include_str!("../packs/maps-and-media.toml"),
    ),
    ("identity", include_str!("../packs/identity.toml")),
    ("config-files", include_str!("../packs/config-files.toml")),
    (
        "commands-and-calls",
        include_str!("../packs/commands-and-calls.toml"),
    ),
    ("generic", include_str!("../packs/generic.toml")),
];

/// Validators the engine implements; a rule naming another one is rejected at
/// load time so a typo cannot silently disable a check.
pub const KNOWN_VALIDATORS: &[&str] = &[
    "entra-secret",
    "github-checksum",
    "jwt",
    "pkcs12",
    "placeholder",
    "pem-private-key",
    "jwk-private",
    "saml-signed",
    "url-credentials",
    "base64-key",
    "generic-secret",
    "token-shape",
    "aws-secret-key",
    "azure-storage-key",
    "azure-sas",
    "pgp-private-key",
    "putty-private-key",
    "gcp-service-account",
    "entra-legacy",
    "github-client-secret",
    "base64-client-secret",
    "client-secret-value",
    "base64-pem-private-key",
    "base64-pkcs12",
    "entra-secret-urlencoded",
    "saml-response-base64",
    "ssh2-private-key",
    "atlassian-checksum",
    "grafana-checksum",
    "age-bech32",
    "prefixed-json",
    "docker-auth",
    "azure-annotated-key",
    "discord-bot-token",
    "password-value",
    "msal-cache-entry",
    "adal-cache-entry",
    "keyed-password",
    "basic-pair",
    "base64-password",
    "http-authorization",
    "url-query-password",
    "pgpass",
    "php-constant",
    "kubernetes-secret",
    "wireguard-key",
    "filezilla-pass",
    "nkey-seed",
    "secret-file",
    "password-hash",
    "code-password",
];

/// Verifiers the engine implements; a rule naming another is rejected.
pub const KNOWN_VERIFIERS: &[&str] = &[
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
    // The verify crate's table verifiers (verify/src/table.rs); a test
    // there keeps the two lists equal.
    "openai",
    "anthropic",
    "groq",
    "xai",
    "mistral",
    "cohere",
    "deepseek",
    "together",
    "openrouter",
    "replicate",
    "huggingface",
    "elevenlabs",
    "npm",
    "rubygems",
    "azure-devops",
    "circleci",
    "buildkite",
    "terraform-cloud",
    "pulumi",
    "postman",
    "snyk",
    "sentry",
    "figma",
    "linear",
    "digitalocean",
    "heroku",
    "cloudflare",
    "vercel",
    "netlify",
    "render",
    "linode",
    "vultr",
    "supabase",
    "neon",
    "databricks",
    "doppler",
    "fastly",
    "launchdarkly",
    "datadog",
    "new-relic",
    "honeycomb",
    "pagerduty",
    "posthog",
    "sendgrid",
    "mailgun",
    "mailchimp",
    "brevo",
    "postmark",
    "resend",
    "twilio",
    "telegram",
    "discord",
    "discord-webhook",
    "twitch",
    "notion",
    "airtable",
    "hubspot",
    "asana",
    "intercom",
    "typeform",
    "dropbox",
    "contentful",
    "mapbox",
    "adafruit-io",
    "square",
    "shopify",
    "okta",
];

/// What a rule finds; DESIGN.md fixes these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    ClientSecret,
    PrivateKey,
    Assertion,
    CloudKey,
    Token,
    Generic,
    /// A password hash that can be cracked offline (`.htpasswd`, shadow
    /// lines, crypt hashes in SQL dumps): lower severity than a password.
    PasswordHash,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::ClientSecret => "client-secret",
            Category::PrivateKey => "private-key",
            Category::Assertion => "assertion",
            Category::CloudKey => "cloud-key",
            Category::Token => "token",
            Category::Generic => "generic",
            Category::PasswordHash => "password-hash",
        }
    }

    /// Default SARIF security-severity for the category.
    pub fn default_severity(self) -> f32 {
        match self {
            Category::PrivateKey | Category::CloudKey => 9.0,
            Category::ClientSecret | Category::Assertion => 8.5,
            Category::Token => 8.0,
            Category::Generic => 6.0,
            Category::PasswordHash => 4.0,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How often a rule is right when it fires (SARIF `precision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    VeryHigh,
    #[default]
    High,
    Medium,
    Low,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::VeryHigh => "very-high",
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }
}

/// A pattern run over the whole blob when the rule matched, whose captures
/// (named groups) are attached to the finding as context, e.g. a client id
/// or tenant next to a client secret. Context must never be a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextPattern {
    pub pattern: String,
}

/// One detection rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id: lower-case letters, digits and dashes. Never reused.
    pub id: String,
    pub name: String,
    pub category: Category,
    /// Literal words (ASCII case-insensitive); the rule runs only on blobs
    /// containing one of them. Empty only for structural (`binary`) rules.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// A `regex` crate pattern over bytes. The credential is the `secret`
    /// named group, else group 1, else the whole match. Empty only for
    /// structural rules whose validator finds the secret itself.
    #[serde(default)]
    pub pattern: String,
    /// Minimum Shannon entropy (bits per byte) of the captured secret.
    #[serde(default)]
    pub entropy: Option<f32>,
    /// Words that, found in the secret (ASCII case-insensitive), mark it as
    /// a placeholder or example rather than a credential.
    #[serde(default)]
    pub allow: Vec<String>,
    /// A check implemented by the engine (checksums, decoding, structure).
    #[serde(default)]
    pub validate: Option<String>,
    /// The verifier that can tell whether the credential is live.
    #[serde(default)]
    pub verify: Option<String>,
    /// Runs on binary blobs (NUL bytes) too; such rules find structure.
    #[serde(default)]
    pub binary: bool,
    /// A format-less rule (a value judged only by its name and shape):
    /// quiet in documentation, tests and examples, where such values are
    /// tutorial and test data. Rules of category `generic` always are.
    #[serde(default)]
    pub formatless: bool,
    /// Higher wins when two findings cover the same span; specific rules
    /// default to 10, generic ones to 0.
    #[serde(default)]
    pub priority: Option<i32>,
    #[serde(default)]
    pub confidence: Confidence,
    /// SARIF security-severity, 0.1 to 10.0; defaults by category.
    #[serde(default)]
    pub severity: Option<f32>,
    #[serde(default)]
    pub context: Vec<ContextPattern>,
    /// The service the credential belongs to ("GitHub", "Datadog"). Every
    /// built-in rule names one; user packs may omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Where the provider lets the owner revoke or rotate the credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke: Option<String>,
    /// Other providers whose credentials share this exact format (prefix,
    /// length and alphabet). A finding of such a rule names every candidate
    /// in `details.candidates`, and no verifier runs: sending the credential
    /// to the wrong provider would leak it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    /// One line telling the user what to do about a finding.
    pub remediation: String,
    #[serde(default)]
    pub references: Vec<String>,
    /// Inputs that must give exactly one finding of this rule.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Inputs that must give no finding of this rule.
    #[serde(default)]
    pub counterexamples: Vec<String>,
}

impl Rule {
    pub fn priority(&self) -> i32 {
        self.priority.unwrap_or(match self.category {
            Category::Generic => 0,
            _ => 10,
        })
    }

    /// The remediation line, with the revocation page when the rule has one.
    pub fn remediation_text(&self) -> String {
        match &self.revoke {
            Some(url) => format!(
                "{} Revoke or rotate it at {url}",
                self.remediation.trim_end()
            ),
            None => self.remediation.clone(),
        }
    }

    /// Every provider this rule's format may belong to: its own, then `also`.
    pub fn candidates(&self) -> Vec<&str> {
        self.provider
            .iter()
            .map(String::as_str)
            .chain(self.also.iter().map(String::as_str))
            .collect()
    }

    pub fn severity(&self) -> f32 {
        self.severity
            .unwrap_or_else(|| self.category.default_severity())
    }
}

/// A rule pack: a named list of rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

/// Why a pack was rejected; names the pack and, where it can, the rule.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("rule pack {pack}: {message}")]
    Parse { pack: String, message: String },
    #[error("rule pack {pack}, rule `{rule}`: {message}")]
    Invalid {
        pack: String,
        rule: String,
        message: String,
    },
}

/// Largest compiled size of one rule's pattern; keeps hostile user packs from
/// exhausting memory.
pub const REGEX_SIZE_LIMIT: usize = 32 * 1024 * 1024;

/// Parses and validates a pack. `pack` names it in errors (a file path or a
/// built-in pack name).
pub fn parse_pack(pack: &str, text: &str) -> Result<Pack, RuleError> {
    parse_pack_inner(pack, text, true)
}

fn parse_pack_inner(pack: &str, text: &str, compile: bool) -> Result<Pack, RuleError> {
    let parsed: Pack = toml::from_str(text).map_err(|e| RuleError::Parse {
        pack: pack.to_string(),
        message: e.to_string().trim_end().to_string(),
    })?;
    check_pack(pack, &parsed, compile)?;
    Ok(parsed)
}

/// Checks what the TOML schema cannot: ids, patterns, keywords, validators.
pub fn validate_pack(pack: &str, parsed: &Pack) -> Result<(), RuleError> {
    check_pack(pack, parsed, true)
}

/// `compile` false skips compiling patterns: the built-in packs are proven
/// by the tests, and compiling every regex at start-up costs more than the
/// scan of a small input.
fn check_pack(pack: &str, parsed: &Pack, compile: bool) -> Result<(), RuleError> {
    let mut seen = HashSet::new();
    for rule in &parsed.rules {
        let invalid = |message: String| RuleError::Invalid {
            pack: pack.to_string(),
            rule: rule.id.clone(),
            message,
        };
        if rule.id.is_empty()
            || !rule
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid(
                "id must be lower-case letters, digits and dashes".into(),
            ));
        }
        if !seen.insert(rule.id.as_str()) {
            return Err(invalid("duplicate rule id".into()));
        }
        if rule.pattern.is_empty() && !rule.binary {
            return Err(invalid(
                "pattern is empty (only binary structural rules may omit it)".into(),
            ));
        }
        if !rule.pattern.is_empty() {
            if compile {
                check_regex(&rule.pattern).map_err(|e| invalid(format!("invalid pattern: {e}")))?;
            }
            if rule.keywords.is_empty() {
                return Err(invalid(
                    "keywords are empty: the prefilter would never run this rule".into(),
                ));
            }
        }
        if rule.keywords.iter().any(|k| k.is_empty()) {
            return Err(invalid("empty keyword".into()));
        }
        for ctx in rule.context.iter().filter(|_| compile) {
            check_regex(&ctx.pattern)
                .map_err(|e| invalid(format!("invalid context pattern: {e}")))?;
        }
        if let Some(v) = &rule.validate
            && !KNOWN_VALIDATORS.contains(&v.as_str())
        {
            return Err(invalid(format!(
                "unknown validator `{v}` (known: {})",
                KNOWN_VALIDATORS.join(", ")
            )));
        }
        if let Some(v) = &rule.verify
            && !KNOWN_VERIFIERS.contains(&v.as_str())
        {
            return Err(invalid(format!(
                "unknown verifier `{v}` (known: {})",
                KNOWN_VERIFIERS.join(", ")
            )));
        }
        if let Some(e) = rule.entropy
            && !(0.0..=8.0).contains(&e)
        {
            return Err(invalid(format!(
                "entropy floor {e} is outside 0.0..=8.0 bits per byte"
            )));
        }
        if let Some(s) = rule.severity
            && !(0.1..=10.0).contains(&s)
        {
            return Err(invalid(format!("severity {s} is outside 0.1..=10.0")));
        }
        if !rule.also.is_empty() && rule.verify.is_some() {
            return Err(invalid(
                "a rule whose format other providers share (`also`) must not name a verifier: \
                 the credential could be sent to the wrong provider"
                    .into(),
            ));
        }
        if let Some(url) = &rule.revoke
            && !url.starts_with("https://")
        {
            return Err(invalid(format!("revoke URL {url:?} is not https")));
        }
        if rule.remediation.trim().is_empty() {
            return Err(invalid("remediation is empty".into()));
        }
    }
    Ok(())
}

fn check_regex(pattern: &str) -> Result<(), String> {
    regex::bytes::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Every built-in pack, parsed. A broken built-in pack is a bug caught by
/// the tests, so this returns the error rather than panicking.
pub fn builtin_packs() -> Result<Vec<(&'static str, Pack)>, RuleError> {
    builtin(false)
}

/// Every built-in pack, parsed without its rules' examples and
/// counterexamples: all a scan needs, and a third less to parse at
/// start-up.
pub fn builtin_packs_lean() -> Result<Vec<(&'static str, Pack)>, RuleError> {
    builtin(true)
}

fn builtin(lean: bool) -> Result<Vec<(&'static str, Pack)>, RuleError> {
    BUILTIN_PACKS
        .iter()
        .map(|(name, text)| {
            // The JSON twin build.rs made of the TOML (start-up parses
            // hundreds of rules: JSON is several times faster); the TOML
            // itself only if there is none.
            let parsed = match pack_json(name, lean) {
                Some(json) => {
                    let p: Pack = serde_json::from_str(json).map_err(|e| RuleError::Parse {
                        pack: name.to_string(),
                        message: e.to_string(),
                    })?;
                    check_pack(name, &p, false)?;
                    p
                }
                None => {
                    let mut p = parse_pack_inner(name, text, false)?;
                    if lean {
                        for r in &mut p.rules {
                            r.examples = Vec::new();
                            r.counterexamples = Vec::new();
                        }
                    }
                    p
                }
            };
            Ok((*name, parsed))
        })
        .collect()
}

include!(concat!(env!("OUT_DIR"), "/packs_json.rs"));

#[cfg(test)]
mod tests {

    #[test]
    fn every_pack_file_is_built_in() {
        // A pack file missing from BUILTIN_PACKS would be silently unused.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packs");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let p = e.unwrap().path();
                (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(String::from))?
            })
            .collect();
        files.sort();
        let mut listed: Vec<String> = BUILTIN_PACKS.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(files, listed);
    }

    use super::*;

    #[test]
    fn builtin_packs_parse_and_ids_are_unique_across_packs() {
        let packs = builtin_packs().expect("built-in packs are valid");
        let mut ids = HashSet::new();
        for (_, pack) in &packs {
            assert!(!pack.rules.is_empty());
            for rule in &pack.rules {
                assert!(ids.insert(rule.id.clone()), "duplicate id {}", rule.id);
            }
        }
    }

    #[test]
    fn lean_packs_are_the_packs_without_examples() {
        let lean = builtin_packs_lean().unwrap();
        let mut full = builtin_packs().unwrap();
        for (_, pack) in &mut full {
            for r in &mut pack.rules {
                assert!(!r.examples.is_empty() || r.binary, "{}", r.id);
                r.examples.clear();
                r.counterexamples.clear();
            }
        }
        assert_eq!(lean, full);
    }

    #[test]
    fn every_builtin_rule_names_its_provider() {
        for (name, pack) in builtin_packs().unwrap() {
            for rule in &pack.rules {
                assert!(
                    rule.provider
                        .as_deref()
                        .is_some_and(|p| !p.trim().is_empty()),
                    "{name}/{} has no provider",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn shared_formats_cannot_name_a_verifier() {
        let text = r#"
[[rule]]
id = "shared"
name = "Shared"
category = "token"
provider = "Stripe"
also = ["Svix"]
keywords = ["whsec_"]
pattern = "whsec_[a-z]{8}"
verify = "stripe"
remediation = "none"
"#;
        let err = parse_pack("p.toml", text).unwrap_err().to_string();
        assert!(
            err.contains("`shared`") && err.contains("verifier"),
            "{err}"
        );
    }

    #[test]
    fn builtin_patterns_compile() {
        for (name, text) in BUILTIN_PACKS {
            parse_pack(name, text).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn every_example_contains_a_keyword() {
        for (name, pack) in builtin_packs().unwrap() {
            for rule in &pack.rules {
                if rule.keywords.is_empty() {
                    continue;
                }
                assert!(
                    !rule.examples.is_empty(),
                    "{name}/{} has no examples",
                    rule.id
                );
                for ex in &rule.examples {
                    let lower = ex.to_ascii_lowercase();
                    assert!(
                        rule.keywords
                            .iter()
                            .any(|k| lower.contains(&k.to_ascii_lowercase())),
                        "{name}/{}: example {ex:?} contains none of the keywords {:?}",
                        rule.id,
                        rule.keywords
                    );
                }
            }
        }
    }

    /// A counterexample that is an obvious placeholder: what a reader of
    /// documentation or a template would see instead of a real value.
    fn is_placeholder(text: &str) -> bool {
        let lower = text.to_ascii_lowercase();
        let xs = text
            .as_bytes()
            .split(|b| !matches!(b, b'x' | b'X'))
            .any(|run| run.len() >= 4);
        let angle = text
            .find('<')
            .is_some_and(|open| text[open + 1..].find('>').is_some_and(|close| close > 0));
        xs || angle
            || [
                "${",
                "your",
                "example",
                "placeholder",
                "redacted",
                "changeme",
                "...",
                "****",
                "_here",
                "replace",
                "0000000000",
            ]
            .iter()
            .any(|p| lower.contains(p))
    }

    #[test]
    fn every_rule_has_two_examples_and_two_counterexamples_one_a_placeholder() {
        let mut offenders = Vec::new();
        for (name, pack) in builtin_packs().unwrap() {
            for rule in &pack.rules {
                if rule.binary {
                    continue;
                }
                let mut problems = Vec::new();
                if rule.examples.len() < 2 {
                    problems.push(format!("{} examples", rule.examples.len()));
                }
                if rule.counterexamples.len() < 2 {
                    problems.push(format!("{} counterexamples", rule.counterexamples.len()));
                }
                if !rule.counterexamples.iter().any(|c| is_placeholder(c)) {
                    problems.push("no placeholder counterexample".to_string());
                }
                if !problems.is_empty() {
                    offenders.push(format!("{name}/{} ({})", rule.id, problems.join(", ")));
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "{} rules need at least two examples and two counterexamples, one a placeholder:\n{}",
            offenders.len(),
            offenders.join("\n")
        );
    }

    #[test]
    fn placeholder_detection() {
        for p in [
            "KEY=<your-token>",
            "hf_xxxxxxxxxxxx",
            "TOKEN=${TOKEN}",
            "sk-...",
            "AKIAIOSFODNN7EXAMPLE",
            "password: ****",
            "api_key=paste_here",
            "0000000000000000",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for p in ["hf_PXGZJLqWtstMrvtpGYmsohTBTESTDYhETw", "a < b", "max"] {
            assert!(!is_placeholder(p), "{p}");
        }
    }

    #[test]
    fn rejects_bad_regex_naming_rule() {
        let text = r#"
[[rule]]
id = "bad"
name = "Bad"
category = "token"
keywords = ["x"]
pattern = "("
remediation = "none"
"#;
        let err = parse_pack("my.toml", text).unwrap_err().to_string();
        assert!(
            err.contains("my.toml") && err.contains("`bad`") && err.contains("invalid pattern"),
            "{err}"
        );
    }

    #[test]
    fn rejects_unknown_field_with_line() {
        let text = "[[rule]]\nid = \"a\"\nnmae = \"x\"\n";
        let err = parse_pack("p.toml", text).unwrap_err().to_string();
        assert!(err.contains("p.toml") && err.contains("line 3"), "{err}");
    }
}
