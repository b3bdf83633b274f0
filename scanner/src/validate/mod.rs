//! Validators: checks that a regex cannot express (checksums, lengths tied
//! to a version digit, decoding a JWT or a PEM body, binary structure). Each
//! either accepts a candidate, adding decoded facts, or rejects it with a
//! short reason. Rules name them by string (`validate = "jwt"`).

use std::collections::BTreeMap;

use serde_json::Value;

mod generic;
mod jwt;
mod keys;
mod secrets;
mod tokens;

pub use keys::is_pkcs12;
pub use tokens::base62_crc32;

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
        "jwk-private" => Ok(Validated::default()),
        "saml-signed" => Ok(Validated::default()),
        "url-credentials" => generic::url_credentials(secret, data, c),
        "base64-key" => Ok(Validated::default()),
        "pkcs12" => Ok(Validated::default()),
        "generic-secret" => generic::generic_secret(secret, data, c),
        "token-shape" => tokens::token_shape(secret),
        "aws-secret-key" => tokens::aws_secret_key(secret),
        "azure-storage-key" => tokens::azure_storage_key(secret),
        "azure-sas" => tokens::azure_sas(secret, data, c),
        other => Err(format!("validator `{other}` is not implemented")),
    }
}

/// Structural detectors for rules without a pattern (binary formats).
pub fn structural(name: &str, data: &[u8]) -> Vec<Candidate> {
    match name {
        "pkcs12" if keys::is_pkcs12(data) => vec![Candidate {
            start: 0,
            end: data.len(),
            match_start: 0,
            match_end: data.len(),
        }],
        _ => Vec::new(),
    }
}
