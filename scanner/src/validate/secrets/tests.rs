//! Unit tests of the `secrets` validators (fake credentials live here, where
//! the project's own scan allows them).

use super::*;

fn cand(data: &str, secret: &str) -> Candidate {
    let start = data.find(secret).unwrap();
    Candidate {
        start,
        end: start + secret.len(),
        match_start: start,
        match_end: start + secret.len(),
    }
}

#[test]
fn entra_length_tied_to_digit() {
    assert!(entra_secret(b"Xy07Q~TestOnlyValue.NotReal.1234567-_").is_ok());
    assert!(entra_secret(b"abc8Q~TestOnlyValue.NotReal.1234567-_AbC").is_ok());
    assert!(entra_secret(b"abc7Q~TestOnlyValue.NotReal.1234567-_AbC").is_err());
    assert!(entra_secret(b"abc8Q~TestOnlyValue.NotReal.1234567-_").is_err());
    assert!(entra_secret(b"abc8Q~TestOnlyValue+NotReal.1234567-_AbC").is_err());
}

#[test]
fn legacy_needs_client_and_tenant() {
    let secret = "k3.N-9Z1_8vFE~5ZOd_cG3B2A2_PX-f8Q8";
    let full = format!(
        "{{\"appId\": \"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\", \"password\": \"{secret}\", \"tenant\": \"11111111-2222-3333-4444-555555555555\"}}"
    );
    let v = entra_legacy(full.as_bytes(), &cand(&full, secret)).unwrap();
    assert_eq!(
        v.details["tenant"],
        json!("11111111-2222-3333-4444-555555555555")
    );
    let no_tenant = format!(
        "{{\"appId\": \"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\", \"password\": \"{secret}\"}}"
    );
    assert!(entra_legacy(no_tenant.as_bytes(), &cand(&no_tenant, secret)).is_err());
}

#[test]
fn github_secret_needs_context() {
    let hex = "3f9c2b7a1e0d4c5b6a7988776655443322110f0e";
    let with = format!("GITHUB_CLIENT_SECRET={hex}");
    assert!(github_client_secret(with.as_bytes(), &cand(&with, hex)).is_ok());
    let id = format!("client_id: Iv1.0123456789abcdef\nclient_secret: {hex}");
    assert!(github_client_secret(id.as_bytes(), &cand(&id, hex)).is_ok());
    let without = format!("client_secret={hex}");
    assert!(github_client_secret(without.as_bytes(), &cand(&without, hex)).is_err());
}

#[test]
fn base64_wrapped_secrets() {
    let e = B64.encode("abc8Q~TestOnlyValue.NotReal.1234567-_AbC");
    assert!(base64_client_secret(e.as_bytes()).is_ok());
    let g = B64.encode("GOCSPX-TestOnly_Value-NotReal1234567");
    assert!(base64_client_secret(g.as_bytes()).is_err(), "29 chars");
    let g = B64.encode("GOCSPX-TestOnly_Value-NotReal123456");
    assert!(base64_client_secret(g.as_bytes()).is_ok());
    let other = B64.encode("just some configuration value");
    assert!(base64_client_secret(other.as_bytes()).is_err());
}

#[test]
fn client_secret_values() {
    assert!(client_secret_value(b"Tq8vN3xZ5rW1mK7pL2sJ9dF4").is_ok());
    for bad in [
        "process.env.CLIENT_SECRET",
        "clientSecretFromVault",
        "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        "/run/secrets/client_secret",
        "https://vault.local/v1/x",
        "your-client-secret-here",
        "${CLIENT_SECRET}",
    ] {
        assert!(client_secret_value(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn url_encoded_entra_secret() {
    assert!(entra_secret_urlencoded(b"Jr47Q%7E%7E6ilITEST5KXSc7Tvo%7EhBKqFYY%7Ekv5Z").is_ok());
    assert!(entra_secret_urlencoded(b"Jr47Q%7E%7E6ilITEST5KXSc7Tvo%7EhBKqFYY%7Ekv5ZAbC").is_err());
}

#[test]
fn base64_wrapped_placeholders_rejected() {
    // base64("changeme-please") and base64("${CLIENT_SECRET}")
    assert!(client_secret_value(b"Y2hhbmdlbWUtcGxlYXNl").is_err());
    assert!(client_secret_value(b"JHtDTElFTlRfU0VDUkVUfQ==").is_err());
    // base64 of a real-looking value stays reported.
    assert!(client_secret_value(b"a3FkbG03dE90SFduc0NHUmxyd1picWNhYlVHSm1HRXA=").is_ok());
}
