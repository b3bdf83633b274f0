//! The token, cloud-key and generic rules on a tree of realistic files
//! (fixtures/tree/tokens): exactly the planted secrets are found, and none
//! of the decoys (placeholders, references, hashes, UUIDs, lockfile
//! integrity, data URIs, public keys, tutorial passwords, local databases,
//! checksum failures, elided and wrong-length tokens).

use std::collections::BTreeSet;
use std::path::Path;

use assert_cmd::Command;

const TREE: &str = "fixtures/tree/tokens";

/// (path under the tree, rule, line) of every planted secret.
const EXPECTED: &[(&str, &str, u64)] = &[
    (".env", "aws-access-key-id", 3),
    (".env", "aws-secret-access-key", 4),
    (".env", "stripe-live-key", 5),
    // Test-mode keys are findings too, at a lower severity.
    (".env", "stripe-test-key", 6),
    (".env", "sendgrid-api-key", 7),
    (".env", "openai-api-key", 8),
    (".npmrc", "npm-token", 2),
    (".pypirc", "pypi-token", 8),
    ("app/settings.py", "anthropic-api-key", 4),
    ("app/settings.py", "twilio-auth-token", 7),
    // Issue 13: a `django-insecure-` key is a leak like any Django key.
    ("app/settings.py", "generic-secret-assignment", 14),
    ("app/settings.py", "generic-secret-assignment", 20),
    ("config/settings.json", "generic-url-credentials", 3),
    ("config/settings.json", "slack-token", 8),
    ("docker-compose.yml", "slack-webhook-url", 16),
    (
        "infra/terraform.tfvars",
        "azure-storage-connection-string",
        3,
    ),
    ("infra/terraform.tfvars", "generic-secret-assignment", 5),
    ("k8s/secret.yaml", "gitlab-token", 8),
    ("k8s/secret.yaml", "kubernetes-secret-value", 9),
    (
        "src/main/resources/application.properties",
        "generic-secret-assignment",
        6,
    ),
    ("web/client.js", "google-api-key", 3),
    ("web/client.js", "github-token", 8),
    // Service tokens, cloud keys, age keys, registry and netrc passwords
    // (rules-more): the decoys beside them (bad checksums, placeholders,
    // references, wrong lengths) must stay silent.
    (".docker/config.json", "docker-config-auth", 4),
    (".github/workflows/deploy.yml", "digitalocean-token", 19),
    (".github/workflows/deploy.yml", "docker-hub-token", 18),
    (".github/workflows/deploy.yml", "terraform-cloud-token", 9),
    (".github/workflows/deploy.yml", "vault-token", 8),
    (".netrc", "netrc-password", 3),
    ("bots/bot.js", "discord-bot-token", 6),
    ("bots/bot.js", "telegram-bot-token", 8),
    ("config/integrations.yaml", "atlassian-api-token", 9),
    (
        "config/integrations.yaml",
        "grafana-service-account-token",
        13,
    ),
    ("config/integrations.yaml", "linear-api-key", 18),
    ("config/integrations.yaml", "postman-api-key", 22),
    ("config/integrations.yaml", "sentry-org-token", 16),
    ("config/integrations.yaml", "shopify-token", 4),
    ("deploy/services.env", "azure-annotated-key", 2),
    ("deploy/services.env", "azure-annotated-key", 3),
    ("deploy/services.env", "alibaba-access-key-id", 4),
    ("deploy/services.env", "alibaba-access-key-secret", 5),
    ("deploy/services.env", "tencent-secret-id", 6),
    ("deploy/services.env", "doppler-token", 7),
    ("deploy/services.env", "pulumi-access-token", 8),
    ("deploy/services.env", "supabase-access-token", 9),
    ("deploy/services.env", "planetscale-token", 10),
    ("deploy/services.env", "mailchimp-api-key", 11),
    ("deploy/services.env", "mailgun-api-key", 12),
    ("deploy/services.env", "stripe-webhook-secret", 13),
    ("deploy/services.env", "square-access-token", 14),
    ("deploy/services.env", "okta-api-token", 15),
    ("deploy/services.env", "jfrog-token", 16),
    ("deploy/services.env", "sonarqube-token", 17),
    ("deploy/services.env", "buildkite-token", 18),
    ("deploy/services.env", "circleci-token", 19),
    ("deploy/services.env", "figma-token", 20),
    ("deploy/services.env", "netlify-token", 21),
    ("deploy/services.env", "render-api-key", 22),
    (
        "deploy/services.env",
        "onepassword-service-account-token",
        23,
    ),
    ("deploy/services.env", "databricks-token", 24),
    ("deploy/services.env", "grafana-cloud-token", 25),
    ("deploy/services.env", "replicate-api-token", 26),
    ("deploy/services.env", "openrouter-api-key", 32),
    ("deploy/services.env", "notion-token", 33),
    ("deploy/services.env", "contentful-token", 34),
    ("deploy/services.env", "google-oauth-refresh-token", 35),
    ("deploy/services.env", "discord-webhook-url", 36),
    ("deploy/services.env", "teams-webhook-url", 37),
    ("deploy/services.env", "dynatrace-token", 38),
    ("deploy/services.env", "mapbox-secret-token", 39),
    ("deploy/services.env", "package-registry-token", 40),
    ("deploy/services.env", "langsmith-api-key", 41),
    ("deploy/services.env", "tailscale-key", 42),
    ("k8s/kubeconfig.yaml", "pem-private-key-base64", 12),
    ("ml/train.py", "groq-api-key", 8),
    ("ml/train.py", "huggingface-token", 6),
    ("ml/train.py", "xai-api-key", 10),
    ("secrets/keys.txt", "age-secret-key", 3),
    ("src/appsettings.json", "connection-string-password", 3),
];

fn scan(extra: &[&str]) -> Vec<serde_json::Value> {
    let config = tempfile::NamedTempFile::new().unwrap();
    let out = Command::cargo_bin("leakscan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["dir", TREE, "--format", "jsonl", "--quiet", "--config"])
        .arg(config.path())
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON finding"))
        .collect()
}

#[test]
fn finds_exactly_the_planted_token_secrets() {
    let findings = scan(&[]);
    let got: BTreeSet<(String, String, u64)> = findings
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap();
            let rel = Path::new(path)
                .strip_prefix(TREE)
                .unwrap_or_else(|_| panic!("{path} is outside {TREE}"));
            (
                rel.to_string_lossy().into_owned(),
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, u64)> = EXPECTED
        .iter()
        .map(|(p, r, l)| (p.to_string(), r.to_string(), *l))
        .collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing: {missing:#?}\nunexpected: {extra:#?}"
    );
    assert_eq!(
        findings.len(),
        EXPECTED.len(),
        "one finding per secret span"
    );
}

#[test]
fn secrets_are_redacted_by_default_and_whole_with_no_redact() {
    let redacted = scan(&[]);
    let whole = scan(&["--no-redact"]);
    assert_eq!(redacted.len(), whole.len());
    for (r, w) in redacted.iter().zip(&whole) {
        let shown = r["secret"].as_str().unwrap();
        let full = w["secret"].as_str().unwrap();
        assert!(shown.ends_with('…'), "{shown}");
        assert!(shown.chars().count() <= 5, "{shown}");
        assert!(full.len() >= 16, "{} {full}", w["rule"]);
        assert!(full.starts_with(shown.trim_end_matches('…')));
        assert_eq!(r["fingerprint"], w["fingerprint"]);
    }
}
