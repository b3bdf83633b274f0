//! Validators: checks that a regex cannot express (checksums, lengths tied
//! to a version digit, decoding a JWT or a PEM body, binary structure). Each
//! either accepts a candidate, adding decoded facts, or rejects it with a
//! short reason. Rules name them by string (`validate = "jwt"`).

use std::collections::BTreeMap;

use serde_json::Value;

pub mod confidence;
mod configs;
mod der;
mod formats;
mod generic;
mod hashes;
mod jwk;
mod jwt;
mod keys;
mod msal;
mod nats;
mod pkcs12;
mod ppk;
mod saml;
mod secret_files;
mod secrets;
mod tokens;

pub use pkcs12::is_pkcs12;
pub(crate) use secret_files::{file_matches, rule_for_path as secret_file_rule};
pub use tokens::{base62_crc32, placeholder_token};

/// A regex match: the secret span and the whole match span.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    pub start: usize,
    pub end: usize,
    pub match_start: usize,
    pub match_end: usize,
}

/// What an accepted candidate adds to its finding.
#[derive(Debug, Default)]
pub struct Validated {
    pub details: BTreeMap<String, Value>,
    pub display: Option<String>,
}

pub type Verdict = Result<Validated, String>;

/// Runs the named validator on a candidate.
pub fn validate(name: &str, c: &Candidate, data: &[u8]) -> Verdict {
    let secret = &data[c.start..c.end];
    match name {
        "entra-secret" => secrets::entra_secret(secret),
        "github-checksum" => tokens::github_checksum(secret),
        "jwt" => jwt::jwt(secret, data, c),
        "placeholder" => generic::placeholder(secret),
        "pem-private-key" => keys::pem_private_key(secret),
        "url-credentials" => generic::url_credentials(secret, data, c),
        "base64-key" => Ok(Validated::default()),
        "generic-secret" => generic::generic_secret(secret, data, c),
        "token-shape" => tokens::token_shape(secret),
        "aws-secret-key" => tokens::aws_secret_key(secret),
        "azure-storage-key" => tokens::azure_storage_key(secret),
        "azure-sas" => tokens::azure_sas(secret, data, c),
        "base64-pem-private-key" => keys::base64_pem_private_key(secret),
        "ssh2-private-key" => keys::ssh2_private_key(secret),
        "pgp-private-key" => keys::pgp_private_key(secret),
        "putty-private-key" => ppk::putty_private_key(secret),
        "gcp-service-account" => keys::gcp_service_account(data, c),
        "jwk-private" => jwk::jwk_private(secret),
        "saml-signed" => saml::saml_signed(data, c),
        "saml-response-base64" => saml::saml_response_base64(secret),
        "entra-secret-urlencoded" => secrets::entra_secret_urlencoded(secret),
        "entra-legacy" => secrets::entra_legacy(data, c),
        "github-client-secret" => secrets::github_client_secret(data, c),
        "base64-client-secret" => secrets::base64_client_secret(secret),
        "client-secret-value" => secrets::client_secret_value(secret),
        "pkcs12" => pkcs12::pkcs12(data, c),
        "base64-pkcs12" => pkcs12::base64_pkcs12(secret),
        "atlassian-checksum" => formats::atlassian_checksum(secret),
        "grafana-checksum" => formats::grafana_checksum(secret),
        "age-bech32" => formats::age_bech32(secret),
        "prefixed-json" => formats::prefixed_json(secret),
        "docker-auth" => formats::docker_auth(secret),
        "azure-annotated-key" => formats::azure_annotated_key(secret),
        "discord-bot-token" => formats::discord_bot_token(secret),
        "password-value" => formats::password_value(secret),
        "msal-cache-entry" => msal::msal_cache_entry(secret, data, c),
        "adal-cache-entry" => msal::adal_cache_entry(secret, data, c),
        "keyed-password" => configs::keyed_password(secret),
        "code-password" => configs::code_password(secret, data, c),
        "basic-pair" => configs::basic_pair(secret),
        "base64-password" => configs::base64_password(secret),
        "http-authorization" => configs::http_authorization(secret, data, c),
        "url-query-password" => configs::url_query_password(secret, data, c),
        "pgpass" => configs::pgpass(secret, data, c),
        "php-constant" => configs::php_constant(secret, data, c),
        "kubernetes-secret" => configs::kubernetes_secret(secret, data, c),
        "wireguard-key" => configs::wireguard_key(secret),
        "filezilla-pass" => configs::filezilla_pass(secret, data, c),
        "nkey-seed" => nats::nkey_seed(secret),
        "password-hash" => hashes::password_hash(secret),
        // Judged by the file's name and whole content (see secret_files).
        "secret-file" => Err("judged only with the file's name".into()),
        other => Err(format!("validator `{other}` is not implemented")),
    }
}

/// Structural detectors for rules without a pattern (binary formats).
pub fn structural(name: &str, data: &[u8]) -> Vec<Candidate> {
    match name {
        "pkcs12" if pkcs12::is_pkcs12(data) => vec![Candidate {
            start: 0,
            end: data.len(),
            match_start: 0,
            match_end: data.len(),
        }],
        _ => Vec::new(),
    }
}

/// Decodes `%XX` escapes (as in URLs and SAS tokens); other bytes pass through.
pub(crate) fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%'
            && let Some(h) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(&String::from_utf8_lossy(h), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
    out
}
