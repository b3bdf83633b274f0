//! Microsoft Entra certificate credential: a private key with its
//! certificate (PEM pair in one file or beside it, or a .pfx/.p12 with an
//! empty or common password) becomes a signed client assertion (RS256 with
//! `x5t`; PS256 with `x5t#S256` once on "key not found").

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use leakscan_scanner::credential_context::CERT_PEM;
use leakscan_scanner::finding::{Finding, Verification, VerifyStatus};
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::endpoints::Provider;
use super::entra::{classify, cloud, combine, pairs, token_url};
use crate::oauth::client_assertion_request;
use crate::run::Ctx;
use crate::verdict::{live, now_secs, rfc3339, skipped, unknown};

/// Passwords tried on a keystore: empty and the usual defaults.
pub const COMMON_PASSWORDS: &[&str] = &[
    "", "password", "changeit", "123456", "1234", "pass", "secret", "test", "changeme",
];

/// A usable RSA key and the certificate that matches it.
pub struct Credential {
    key_pem: String,
    pub cert_der: Vec<u8>,
    pub not_after: Option<i64>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Credential(cert {} bytes, key redacted)",
            self.cert_der.len()
        )
    }
}

impl Credential {
    /// base64url (no padding) of SHA-1 over the certificate DER.
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha1::digest(&self.cert_der))
    }

    /// base64url (no padding) of SHA-256 over the certificate DER.
    pub fn x5t_s256(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(&self.cert_der))
    }
}

/// A minimal DER reader: (tag, content, rest).
fn der_tlv(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *d.first()?;
    let first = *d.get(1)? as usize;
    let (len, hdr) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *d.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    Some((tag, d.get(hdr..end)?, d.get(end..)?))
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[i..]
}

/// RSA modulus of a PKCS#1 or PKCS#8 private key (DER).
fn private_modulus(der: &[u8]) -> Option<Vec<u8>> {
    let (tag, seq, _) = der_tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let (t0, _version, rest) = der_tlv(seq)?;
    if t0 != 0x02 {
        return None;
    }
    let (t1, second, rest) = der_tlv(rest)?;
    match t1 {
        // PKCS#1: version, modulus, ...
        0x02 => Some(strip_zeros(second).to_vec()),
        // PKCS#8: version, AlgorithmIdentifier (rsaEncryption), OCTET STRING(PKCS#1).
        0x30 => {
            const RSA_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
            let (_, oid, _) = der_tlv(second)?;
            if oid != RSA_OID {
                return None;
            }
            let (t2, inner, _) = der_tlv(rest)?;
            if t2 != 0x04 {
                return None;
            }
            private_modulus(inner)
        }
        _ => None,
    }
}

/// (modulus, notAfter) of an RSA certificate.
fn cert_modulus(cert_der: &[u8]) -> Option<(Vec<u8>, i64)> {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(cert_der).ok()?;
    let not_after = cert.validity().not_after.timestamp();
    match cert.public_key().parsed().ok()? {
        x509_parser::public_key::PublicKey::RSA(rsa) => {
            Some((strip_zeros(rsa.modulus).to_vec(), not_after))
        }
        _ => None,
    }
}

/// The base64 body of the first PEM block labelled `label`.
fn pem_body(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let b64: String = text[start..stop]
        .replace("\\n", "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(b64).ok()
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// Pairs a key (PKCS#1 or PKCS#8 DER) with the first certificate whose
/// public key matches it.
fn pair(key_der: &[u8], key_label: &str, certs: &[Vec<u8>]) -> Result<Credential, Verification> {
    let Some(modulus) = private_modulus(key_der) else {
        return Err(skipped("not an RSA private key"));
    };
    for c in certs {
        if let Some((m, not_after)) = cert_modulus(c)
            && m == modulus
        {
            return Ok(Credential {
                key_pem: pem(key_label, key_der),
                cert_der: c.clone(),
                not_after: Some(not_after),
            });
        }
    }
    Err(skipped(if certs.is_empty() {
        "no certificate found beside the key"
    } else {
        "no certificate matching the key found"
    }))
}

/// Key and certificate from a PEM key finding and its context.
pub fn from_pem(f: &Finding) -> Result<Credential, Verification> {
    let text = f.raw.expose_str();
    if text.contains("ENCRYPTED") {
        return Err(skipped("encrypted private key"));
    }
    let (der, label) = if let Some(d) = pem_body(&text, "RSA PRIVATE KEY") {
        (d, "RSA PRIVATE KEY")
    } else if let Some(d) = pem_body(&text, "PRIVATE KEY") {
        (d, "PRIVATE KEY")
    } else {
        return Err(skipped("not an RSA private key"));
    };
    let certs: Vec<Vec<u8>> = f
        .context
        .get(CERT_PEM)
        .map(|v| {
            v.iter()
                .filter_map(|c| pem_body(c, "CERTIFICATE"))
                .collect()
        })
        .unwrap_or_default();
    pair(&der, label, &certs)
}

/// Key and certificate from a PKCS#12 keystore, trying common passwords.
pub fn from_pkcs12(data: &[u8]) -> Result<Credential, Verification> {
    use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
    for pw in COMMON_PASSWORDS {
        let Ok(ks) = KeyStore::from_pkcs12(data, pw, Pkcs12ImportPolicy::Relaxed) else {
            continue;
        };
        let Some((_, chain)) = ks.private_key_chain() else {
            return Err(skipped("keystore holds no private key"));
        };
        let certs: Vec<Vec<u8>> = chain.certs().iter().map(|c| c.as_der().to_vec()).collect();
        return pair(chain.key().as_der(), "PRIVATE KEY", &certs);
    }
    Err(skipped("keystore password is not empty or a common one"))
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: u64,
    iat: u64,
    exp: u64,
}

/// A fresh client assertion: RS256 + `x5t`, or PS256 + `x5t#S256`.
pub fn assertion(
    cred: &Credential,
    client_id: &str,
    aud: &str,
    pss: bool,
) -> Result<String, Verification> {
    let key = EncodingKey::from_rsa_pem(cred.key_pem.as_bytes())
        .map_err(|_| unknown("bug: key could not be loaded for signing"))?;
    let mut header = Header::new(if pss {
        Algorithm::PS256
    } else {
        Algorithm::RS256
    });
    header.typ = Some("JWT".into());
    if pss {
        header.x5t_s256 = Some(cred.x5t_s256());
    } else {
        header.x5t = Some(cred.x5t());
    }
    let now = now_secs();
    let claims = Claims {
        aud,
        iss: client_id,
        sub: client_id,
        jti: uuid::Uuid::new_v4().to_string(),
        nbf: now,
        iat: now,
        exp: now + 600,
    };
    jsonwebtoken::encode(&header, &claims, &key).map_err(|_| unknown("bug: signing failed"))
}

/// The certificate flow for a PEM key or a keystore finding.
pub fn verify(f: &Finding, ctx: &Ctx<'_>) -> Verification {
    let raw = f.raw.expose();
    let cred = if raw.starts_with(b"-----BEGIN") {
        from_pem(f)
    } else {
        from_pkcs12(raw)
    };
    let cred = match cred {
        Ok(c) => c,
        Err(v) => return v,
    };
    let expired_note = match cred.not_after {
        Some(t) if t > 0 && (t as u64) < now_secs() => {
            format!("; certificate expired {}", rfc3339(t as u64))
        }
        _ => String::new(),
    };
    let (host, scope) = cloud(f);
    let overridden = ctx.opts.endpoints.is_overridden(Provider::Entra);
    let mut results = Vec::new();
    for (client, tenant) in pairs(f) {
        if let Some(v) = super::entra::missing_tenant(ctx, host, &tenant) {
            results.push((client, tenant, v));
            continue;
        }
        let url = token_url(ctx, host, &tenant);
        let mut v = unknown("not tried");
        for pss in [false, true] {
            let jwt = match assertion(&cred, &client, &url, pss) {
                Ok(j) => j,
                Err(e) => return e,
            };
            let req = client_assertion_request(url.clone(), &client, scope, &jwt);
            let a = match ctx.send(Provider::Entra, req) {
                Ok(resp) => classify(&resp, overridden),
                Err(t) => {
                    v = unknown(t.detail());
                    break;
                }
            };
            let alg = if pss { "PS256" } else { "RS256" };
            v = crate::verdict::verdict(a.verdict.status, format!("{} [{alg}]", a.verdict.detail));
            // Retry once with PS256 + x5t#S256 on "key not found" (or, for a
            // plain OAuth server behind an override, on its invalid_client).
            let retry = a.key_not_found || (overridden && a.verdict.status == VerifyStatus::Dead);
            if !retry {
                break;
            }
        }
        if v.status == VerifyStatus::Live {
            let mut out = live(format!(
                "{} (client {client}, tenant {tenant}){expired_note}",
                v.detail
            ));
            out.access = v.access;
            return out;
        }
        results.push((client, tenant, v));
    }
    let mut out = combine(results);
    out.detail.push_str(&expired_note);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_reader_rejects_truncation() {
        assert!(der_tlv(&[0x30, 0x82, 0x01]).is_none());
        assert!(der_tlv(&[0x30, 0x05, 0x00]).is_none());
        assert_eq!(der_tlv(&[0x02, 0x01, 0x07, 0xff]).unwrap().1, &[0x07]);
    }
}
