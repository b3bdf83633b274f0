//! The auth fixture tree (client secrets, private keys, signed assertions in
//! realistic files, plus decoys) gives exactly the expected findings: each
//! (path, rule, line), nothing missing, nothing extra, and the details that
//! verification relies on.

use std::collections::BTreeSet;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const ROOT: &str = "fixtures/tree/auth";

/// Every secret planted in the tree; anything else found is a false positive.
const EXPECTED: &[(&str, &str, usize)] = &[
    (".env", "entra-client-secret", 6),
    (".env", "google-oauth-client-secret", 8),
    (".env", "github-oauth-client-secret", 10),
    (".env", "client-secret-assignment", 12),
    ("appsettings.json", "entra-client-secret", 14),
    ("azure/create-for-rbac.json", "entra-client-secret", 4),
    ("azure/sdk-auth.json", "entra-client-secret-legacy", 3),
    ("certs/daemon-legacy.p12", "pkcs12-keystore", 1),
    ("certs/daemon.key", "pem-private-key", 1),
    ("certs/daemon.pfx", "pkcs12-keystore", 1),
    ("gcp/oauth-client.json", "google-oauth-client-secret", 1),
    ("gcp/service-account.json", "gcp-service-account-key", 5),
    ("jwks/private-jwks.json", "jwk-private-key", 3),
    ("jwks/private-jwks.json", "jwk-private-key", 13),
    ("k8s/secret-data.yaml", "pem-private-key-base64", 9),
    ("k8s/secret-data.yaml", "entra-client-secret-base64", 11),
    ("k8s/secret-stringdata.yaml", "entra-client-secret", 10),
    ("keys/id_ed25519", "pem-private-key", 1),
    ("keys/jumphost.ppk", "putty-private-key", 1),
    ("keys/release-signing.asc", "pgp-private-key", 1),
    ("saml/response.xml", "saml-signed-assertion", 4),
    ("scripts/token-request.sh", "jwt", 7),
    ("src/KeycloakConfig.java", "client-secret-assignment", 12),
    ("src/daemon.py", "entra-client-secret", 15),
    ("src/msalConfig.js", "entra-client-secret", 7),
    ("src/oauth.js", "client-secret-assignment", 7),
    ("tests/http/graph.http", "jwt", 3),
    ("web.config", "entra-client-secret-legacy", 7),
];

fn scan() -> Vec<Value> {
    let empty = tempfile::NamedTempFile::new().expect("temp config");
    let out = Command::cargo_bin("leakscan")
        .expect("built binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["dir", ROOT, "--format", "json", "--quiet", "--config"])
        .arg(empty.path())
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings give exit 1; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON array")
}

fn rel(path: &str) -> String {
    let p = path.replace('\\', "/");
    p.strip_prefix(&format!("{ROOT}/"))
        .or_else(|| p.strip_prefix("./"))
        .unwrap_or(&p)
        .to_string()
}

fn find<'a>(findings: &'a [Value], path: &str, rule: &str) -> &'a Value {
    findings
        .iter()
        .find(|f| rel(f["path"].as_str().unwrap()) == path && f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding in {path}"))
}

#[test]
fn auth_tree_gives_exactly_the_planted_findings() {
    let findings = scan();
    let got: BTreeSet<(String, String, usize)> = findings
        .iter()
        .map(|f| {
            (
                rel(f["path"].as_str().unwrap()),
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    let want: BTreeSet<(String, String, usize)> = EXPECTED
        .iter()
        .map(|(p, r, l)| (p.to_string(), r.to_string(), *l))
        .collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing: {missing:#?}\nextra: {extra:#?}"
    );
    assert_eq!(findings.len(), EXPECTED.len(), "one finding per secret");
}

#[test]
fn findings_carry_decoded_details() {
    let findings = scan();
    let pem = find(&findings, "certs/daemon.key", "pem-private-key");
    assert_eq!(pem["details"]["key_type"], "RSA");
    assert_eq!(pem["details"]["format"], "PKCS#8");
    let ssh = find(&findings, "keys/id_ed25519", "pem-private-key");
    assert_eq!(ssh["details"]["key_type"], "ssh-ed25519");
    let sa = find(&findings, "gcp/service-account.json", "gcp-service-account-key");
    assert_eq!(
        sa["details"]["client_email"],
        "reporting@leakscan-fixture.iam.gserviceaccount.com"
    );
    assert_eq!(
        sa["details"]["private_key_id"],
        "3c9d2e1f0a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
    );
    let modern = find(&findings, "certs/daemon.pfx", "pkcs12-keystore");
    assert_eq!(modern["details"]["encryption"], "PBES2");
    assert_eq!(modern["details"]["mac"], "sha256");
    let legacy = find(&findings, "certs/daemon-legacy.p12", "pkcs12-keystore");
    assert_eq!(legacy["details"]["encryption"], "legacy PKCS#12 PBE (RC2/3DES)");
    assert_eq!(legacy["details"]["mac"], "sha1");
    let ca = find(&findings, "scripts/token-request.sh", "jwt");
    assert_eq!(ca["details"]["kind"], "client-assertion");
    assert_eq!(ca["details"]["alg"], "RS256");
    assert_eq!(ca["details"]["expired"], false);
    assert!(ca["details"]["aud"].as_str().unwrap().ends_with("/oauth2/v2.0/token"));
    let at = find(&findings, "tests/http/graph.http", "jwt");
    assert_eq!(at["details"]["kind"], "access-token");
    assert_eq!(at["details"]["expired"], true);
    let saml = find(&findings, "saml/response.xml", "saml-signed-assertion");
    assert_eq!(saml["details"]["signed"], "assertion");
    assert_eq!(saml["details"]["expired"], true);
    let legacy_secret = find(&findings, "azure/sdk-auth.json", "entra-client-secret-legacy");
    assert_eq!(
        legacy_secret["details"]["tenant"],
        "9b1c4a6e-3d2f-4e8a-b5c7-1a2b3c4d5e6f"
    );
    let ppk = find(&findings, "keys/jumphost.ppk", "putty-private-key");
    assert_eq!(ppk["details"]["format"], "PuTTY PPK v3");
    let pgp = find(&findings, "keys/release-signing.asc", "pgp-private-key");
    assert_eq!(pgp["details"]["key_type"], "PGP EdDSA");
}

#[test]
fn no_secret_appears_whole_in_the_report() {
    let findings = scan();
    let text = serde_json::to_string(&findings).unwrap();
    for secret in [
        "LKO8Q~PtYgjTESTBel31iEl2hpChYgCfrL1spNxn",
        "GOCSPX-nD8zRA9a9STESTkpXz9w3QlY7Zku",
        "cAUsdMlHUvTC.QCyEZDz~TddJ8HyS5SUkC",
    ] {
        assert!(!text.contains(secret), "{secret} leaked into the report");
    }
    let pfx = find(&findings, "certs/daemon.pfx", "pkcs12-keystore");
    assert!(pfx["secret"].as_str().unwrap().starts_with("PKCS#12 keystore"));
}

#[test]
fn decoy_files_give_nothing() {
    let findings = scan();
    for decoy in [
        ".env.example",
        "appsettings.Development.json",
        "azure/main.tf",
        "certs/daemon.crt",
        "certs/daemon.pub.pem",
        "certs/truststore.p12",
        "decoys/",
        "docs/SETUP.md",
        "jwks/public-jwks.json",
        "k8s/configmap.yaml",
        "keys/id_ed25519.pub",
        "keys/release-signing.pub.asc",
        "saml/unsigned-response.xml",
    ] {
        assert!(
            findings
                .iter()
                .all(|f| !rel(f["path"].as_str().unwrap()).starts_with(decoy)),
            "a finding in decoy {decoy}"
        );
    }
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(ROOT).join("certs/truststore.p12").is_file());
}
