//! Safety of verification: scanned content can't choose where a credential
//! goes, a repository's `.leakscan.toml` can't set endpoints, redirects are
//! not followed, the dry run sends nothing, private addresses are refused,
//! and no output carries a secret.

mod verify_common;

use std::path::Path;

use leakscan_verify::http::{Http, Req, Transport};
use verify_common::*;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn content_cannot_pick_the_destination() {
    let tmp = tempfile::tempdir().unwrap();
    let planted = Stub::start(vec![Canned::json(200, r#"{"access_token":"stolen"}"#)]);
    let legit = Stub::start(vec![Canned::json(
        401,
        r#"{"error":"invalid_client","error_codes":[7000215]}"#,
    )]);
    let p = planted.url();
    write(
        tmp.path(),
        ".env",
        &format!(
            "AZURE_AUTHORITY_HOST={p}\nAZURE_CLIENT_ID={CLIENT_SECRET_APP}\nAZURE_TENANT_ID={TENANT}\nAZURE_CLIENT_SECRET={SECRET_RIGHT}\nAUTHORITY={p}/{TENANT}\n"
        ),
    );
    write(
        tmp.path(),
        "appsettings.json",
        &format!(r#"{{"AzureAd": {{"Instance": "{p}/", "TenantId": "{TENANT}"}}}}"#),
    );
    let key = std::fs::read_to_string(fixture("app-key.pem")).unwrap();
    let sa = serde_json::json!({
        "type": "service_account",
        "client_email": "svc@fake-project.iam.gserviceaccount.com",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": key,
        "token_uri": format!("{p}/token"),
        "auth_uri": format!("{p}/auth"),
    });
    write(tmp.path(), "sa.json", &sa.to_string());
    let env = [
        ("LEAKSCAN_VERIFY_ENDPOINT_ENTRA", legit.url()),
        ("LEAKSCAN_VERIFY_ENDPOINT_GOOGLE", legit.url()),
    ];
    let run = leakscan(tmp.path(), &["--verify"], &env, &[SECRET_RIGHT, "stolen"]);
    assert_eq!(planted.connection_count(), 0, "planted host got a request");
    let (status, _) = verdict(&run, "entra-client-secret");
    assert_eq!(status, "dead");
    assert!(
        legit
            .requests()
            .iter()
            .any(|r| r.path == format!("/{TENANT}/oauth2/v2.0/token")),
        "the override (and only it) was used"
    );
}

#[test]
fn repo_config_cannot_set_endpoints() {
    let tmp = tempfile::tempdir().unwrap();
    let planted = Stub::start(vec![Canned::json(200, r#"{"access_token":"stolen"}"#)]);
    let p = planted.url();
    write(
        tmp.path(),
        ".env",
        &format!(
            "AZURE_CLIENT_ID={CLIENT_SECRET_APP}\nAZURE_TENANT_ID={TENANT}\nAZURE_CLIENT_SECRET={SECRET_RIGHT}\n"
        ),
    );
    for toml in [
        format!("[verify]\nendpoint = \"entra={p}\"\n"),
        format!("[verify.endpoints]\nentra = \"{p}\"\n"),
        format!("verify_endpoint = [\"entra={p}\"]\n"),
    ] {
        write(tmp.path(), ".leakscan.toml", &toml);
        // A dead-end override keeps everything on loopback should the
        // config ever be honoured; the planted listener must stay silent.
        let run = leakscan(
            tmp.path(),
            &["--verify", "--verify-endpoint", "entra=http://127.0.0.1:9"],
            &[],
            &[SECRET_RIGHT],
        );
        assert_eq!(
            run.code, 2,
            "config with an endpoint key is an error: {}",
            run.stderr
        );
        assert_eq!(planted.connection_count(), 0);
    }
}

#[test]
fn redirects_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let target = Stub::start(vec![Canned::json(200, r#"{"access_token":"x"}"#)]);
    let redirector = Stub::start(vec![Canned::json(307, "{}").with_header(
        "Location",
        &format!("{}/{TENANT}/oauth2/v2.0/token", target.url()),
    )]);
    write(
        tmp.path(),
        ".env",
        &format!(
            "AZURE_CLIENT_ID={CLIENT_SECRET_APP}\nAZURE_TENANT_ID={TENANT}\nAZURE_CLIENT_SECRET={SECRET_RIGHT}\n"
        ),
    );
    let run = leakscan(
        tmp.path(),
        &[
            "--verify",
            "--verify-endpoint",
            &format!("entra={}", redirector.url()),
        ],
        &[],
        &[SECRET_RIGHT],
    );
    let (status, detail) = verdict(&run, "entra-client-secret");
    assert_eq!(status, "unknown");
    assert!(detail.contains("redirect not followed"), "{detail}");
    assert_eq!(redirector.requests().len(), 1);
    assert_eq!(
        target.connection_count(),
        0,
        "the redirect target got the secret"
    );
}

#[test]
fn dry_run_sends_nothing_and_masks_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let stub = Stub::start(vec![Canned::json(200, r#"{"access_token":"x"}"#)]);
    write(
        tmp.path(),
        ".env",
        &format!(
            "AZURE_CLIENT_ID={CLIENT_SECRET_APP}\nAZURE_TENANT_ID={TENANT}\nAZURE_CLIENT_SECRET={SECRET_RIGHT}\n"
        ),
    );
    let env = [("LEAKSCAN_VERIFY_ENDPOINT_ENTRA", stub.url())];
    let run = leakscan(tmp.path(), &["--verify-dry-run"], &env, &[SECRET_RIGHT]);
    assert_eq!(stub.connection_count(), 0);
    let line = format!(
        "verify dry-run: POST {}/{TENANT}/oauth2/v2.0/token",
        stub.url()
    );
    assert!(run.stderr.contains(&line), "{}", run.stderr);
    assert!(
        run.stderr.contains(".env:3 entra-client-secret"),
        "{}",
        run.stderr
    );
    assert_eq!(verdict(&run, "entra-client-secret").0, "skipped");
}

#[test]
fn only_live_and_live_first() {
    let tmp = tempfile::tempdir().unwrap();
    let stub = Stub::start(vec![Canned::json(401, r#"{"message":"Bad credentials"}"#)]);
    write(
        tmp.path(),
        "a.env",
        "GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz01230hZocf\n",
    );
    write(
        tmp.path(),
        "z.env",
        &format!(
            "AZURE_CLIENT_ID={CLIENT_SECRET_APP}\nAZURE_TENANT_ID={TENANT}\nAZURE_CLIENT_SECRET={SECRET_RIGHT}\n"
        ),
    );
    let entra = Stub::start(vec![Canned::json(200, r#"{"access_token":"tok"}"#)]);
    let env = [
        ("LEAKSCAN_VERIFY_ENDPOINT_GITHUB", stub.url()),
        ("LEAKSCAN_VERIFY_ENDPOINT_ENTRA", entra.url()),
    ];
    let forbidden = [SECRET_RIGHT, "ghp_abcdefghijklmnopqrstuvwxyz01230hZocf"];
    let run = leakscan(tmp.path(), &["--verify"], &env, &forbidden);
    let list = run.json.as_array().expect("array");
    assert_eq!(list[0]["rule"], "entra-client-secret", "live first");
    assert_eq!(list[0]["verification"]["status"], "live");
    let run = leakscan(tmp.path(), &["--only-live"], &env, &forbidden);
    let list = run.json.as_array().expect("array");
    assert_eq!(list.len(), 1);
    assert_eq!(run.code, 1);
    // Text output marks it.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_leakscan"));
    cmd.args(["dir"]).arg(tmp.path()).args(["--verify"]);
    for (k, v) in &env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("LIVE "), "{text}");
    assert!(!text.contains(SECRET_RIGHT));
}

#[test]
fn strict_client_refuses_http_and_private_addresses() {
    let stub = Stub::start(vec![Canned::json(200, "{}")]);
    let http = Http::new();
    let plain = format!("{}/x", stub.url());
    let req = Req::get(plain.clone(), plain);
    assert_eq!(
        http.send(&req, false, leakscan_verify::http::TIMEOUT)
            .unwrap_err(),
        Transport::HttpsOnly
    );
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("https://{host}:{}/x", stub.port);
        let req = Req::get(url.clone(), url);
        assert_eq!(
            http.send(&req, false, leakscan_verify::http::TIMEOUT)
                .unwrap_err(),
            Transport::Blocked,
            "{host}"
        );
    }
    assert_eq!(stub.connection_count(), 0);
    // The lax client (an override) may reach loopback.
    let url = format!("{}/x", stub.url());
    assert_eq!(
        http.send(
            &Req::get(url.clone(), url),
            true,
            leakscan_verify::http::TIMEOUT
        )
        .unwrap()
        .status,
        200
    );
}
