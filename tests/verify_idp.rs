//! End to end against a real OAuth 2.0 / OpenID provider (npm oidc-provider
//! on 127.0.0.1, token endpoint at /{tenant}/oauth2/v2.0/token): scanned
//! trees with Entra secrets, certificates and assertions, verified through
//! `LEAKSCAN_VERIFY_ENDPOINT_ENTRA`.

mod verify_common;

use std::path::Path;

use base64::Engine;
use verify_common::*;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn env_file(secret: &str, client: &str) -> String {
    format!("AZURE_CLIENT_ID={client}\nAZURE_TENANT_ID={TENANT}\nAZURE_CLIENT_SECRET={secret}\n")
}

fn appsettings(client: &str) -> String {
    format!(
        r#"{{"AzureAd": {{"Instance": "https://login.microsoftonline.com/", "TenantId": "{TENANT}", "ClientId": "{client}"}}}}"#
    )
}

fn key_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

/// A fake compact JWT with the given claims (the signature is junk: the
/// assertion flow must decide on `exp` without sending it anywhere).
/// An RS256-shaped JWT whose signature is 256 arbitrary bytes (the size of
/// an RSA-2048 signature, which the `jwt` validator checks) that no key made.
fn fake_jwt(claims: &str) -> String {
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let signature: Vec<u8> = (0..256u32).map(|i| (i * 151 + 7) as u8).collect();
    format!(
        "{}.{}.{}",
        b.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        b.encode(claims),
        b.encode(signature)
    )
}

#[test]
fn entra_flows_against_oidc_provider() {
    let tmp = tempfile::tempdir().unwrap();
    let mut idp = Idp::start(tmp.path());
    let env = [("LEAKSCAN_VERIFY_ENDPOINT_ENTRA", idp.url())];
    let key_secret = key_text("app-key.pem");
    let key_body: String = key_secret.lines().nth(1).unwrap().to_string();
    let forbidden = [
        SECRET_RIGHT,
        SECRET_WRONG,
        key_body.as_str(),
        "access_token",
    ];

    // Right secret with its ids: live.
    let right = tmp.path().join("right");
    std::fs::create_dir(&right).unwrap();
    write(&right, ".env", &env_file(SECRET_RIGHT, CLIENT_SECRET_APP));
    let run = leakscan(&right, &["--verify"], &env, &forbidden);
    let (status, detail) = verdict(&run, "entra-client-secret");
    assert_eq!(
        status,
        "live",
        "{detail}\n{}\n{}",
        run.stderr,
        idp.log_text()
    );
    assert!(
        detail.contains(CLIENT_SECRET_APP) && detail.contains(TENANT),
        "{detail}"
    );

    // Wrong secret: dead.
    let wrong = tmp.path().join("wrong");
    std::fs::create_dir(&wrong).unwrap();
    write(&wrong, ".env", &env_file(SECRET_WRONG, CLIENT_SECRET_APP));
    let run = leakscan(&wrong, &["--verify"], &env, &forbidden);
    let (status, detail) = verdict(&run, "entra-client-secret");
    assert_eq!(status, "dead", "{detail}\n{}", run.stderr);

    // Certificate as a PEM pair in one file, ids in appsettings.json beside it.
    let pair = tmp.path().join("pair");
    std::fs::create_dir(&pair).unwrap();
    write(
        &pair,
        "app.pem",
        &format!("{key_secret}{}", key_text("app-cert.pem")),
    );
    write(&pair, "appsettings.json", &appsettings(CLIENT_CERT_APP));
    let run = leakscan(&pair, &["--verify"], &env, &forbidden);
    let (status, detail) = verdict(&run, "pem-private-key");
    assert_eq!(
        status,
        "live",
        "{detail}\n{}\n{}",
        run.stderr,
        idp.log_text()
    );
    assert!(detail.contains("RS256"), "{detail}");

    // Key and certificate in neighbouring files, ids in .env.
    let split = tmp.path().join("split");
    std::fs::create_dir(&split).unwrap();
    write(&split, "key.pem", &key_secret);
    write(&split, "cert.crt", &key_text("app-cert.pem"));
    write(
        &split,
        ".env",
        &format!("AZURE_CLIENT_ID={CLIENT_CERT_APP}\nAZURE_TENANT_ID={TENANT}\n"),
    );
    let run = leakscan(&split, &["--verify"], &env, &forbidden);
    assert_eq!(verdict(&run, "pem-private-key").0, "live", "{}", run.stderr);

    // Certificate as a .pfx with an empty password.
    let pfx = tmp.path().join("pfx");
    std::fs::create_dir(&pfx).unwrap();
    std::fs::copy(fixture("app-empty.pfx"), pfx.join("app.pfx")).unwrap();
    write(&pfx, "appsettings.json", &appsettings(CLIENT_CERT_APP));
    let run = leakscan(&pfx, &["--verify"], &env, &forbidden);
    let (status, detail) = verdict(&run, "pkcs12-keystore");
    assert_eq!(
        status,
        "live",
        "{detail}\n{}\n{}",
        run.stderr,
        idp.log_text()
    );

    // A key the provider doesn't know: dead (after the PS256 retry).
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    write(
        &other,
        "app.pem",
        &format!(
            "{}{}",
            key_text("other-key.pem"),
            key_text("other-cert.pem")
        ),
    );
    write(&other, "appsettings.json", &appsettings(CLIENT_CERT_APP));
    let run = leakscan(&other, &["--verify"], &env, &forbidden);
    let (status, detail) = verdict(&run, "pem-private-key");
    assert_eq!(status, "dead", "{detail}\n{}", run.stderr);
    assert!(detail.contains("PS256"), "retried with PS256: {detail}");

    // Provider stopped: unknown, never dead.
    idp.stop();
    let run = leakscan(&right, &["--verify"], &env, &forbidden);
    let (status, detail) = verdict(&run, "entra-client-secret");
    assert_eq!(status, "unknown", "{detail}");
    assert!(detail.contains("transport"), "{detail}");
}

#[test]
fn expired_assertion_is_dead_without_a_request() {
    let tmp = tempfile::tempdir().unwrap();
    let stub = Stub::start(vec![Canned::json(
        200,
        r#"{"access_token":"x","token_type":"Bearer"}"#,
    )]);
    let aud = format!("{}/{TENANT}/oauth2/v2.0/token", stub.url());
    let expired = fake_jwt(&format!(
        r#"{{"aud":"{aud}","iss":"{CLIENT_CERT_APP}","sub":"{CLIENT_CERT_APP}","exp":1000,"nbf":900}}"#
    ));
    write(
        tmp.path(),
        "assertion.txt",
        &format!("client_assertion={expired}\n"),
    );
    let env = [("LEAKSCAN_VERIFY_ENDPOINT_ENTRA", stub.url())];
    let sig = expired.rsplit('.').next().unwrap().to_string();
    let run = leakscan(
        tmp.path(),
        &["--verify", "--verify-replay-assertions"],
        &env,
        &[sig.as_str()],
    );
    let (status, detail) = verdict(&run, "jwt");
    assert_eq!(status, "dead", "{detail}");
    assert!(detail.contains("expired 1970-01-01T00:16:40Z"), "{detail}");
    assert_eq!(
        stub.connection_count(),
        0,
        "no request for an expired assertion"
    );

    // Unexpired, without replay: unknown (never live without the
    // provider's answer), with what was checked and how to replay; no request.
    let later = fake_jwt(&format!(
        r#"{{"aud":"{aud}","iss":"{CLIENT_CERT_APP}","exp":4102444800}}"#
    ));
    write(
        tmp.path(),
        "assertion.txt",
        &format!("client_assertion={later}\n"),
    );
    let run = leakscan(tmp.path(), &["--verify"], &env, &[]);
    let (status, detail) = verdict(&run, "jwt");
    assert_eq!(status, "unknown", "{detail}");
    assert!(detail.contains("expires 2100-01-01T00:00:00Z"), "{detail}");
    assert!(detail.contains("signature not checked"), "{detail}");
    assert!(detail.contains("--verify-replay-assertions"), "{detail}");
    assert_eq!(stub.connection_count(), 0);

    // With replay, an allowlisted aud (here: the user's override) is presented.
    let run = leakscan(
        tmp.path(),
        &["--verify", "--verify-replay-assertions"],
        &env,
        &[],
    );
    let (status, detail) = verdict(&run, "jwt");
    assert_eq!(status, "live", "{detail}");
    assert!(detail.contains("replayed"), "{detail}");
    let reqs = stub.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, format!("/{TENANT}/oauth2/v2.0/token"));
    assert!(reqs[0].body.contains("client_assertion="));
}
