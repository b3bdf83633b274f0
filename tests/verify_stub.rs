//! Recorded-response tests: each provider flow against a loopback stub
//! answering with recorded provider bodies (every Entra code of the
//! reference table, and each other provider's live, dead and unknown).

mod verify_common;

use std::collections::BTreeMap;

use leakscan_scanner::finding::{Finding, Secret, VerifyStatus};
use leakscan_verify::{self as verify, Endpoints, Provider, VerifyOptions};
use verify_common::*;

/// Verifies one finding with `verifier`, every provider pointed at `stub`.
fn check(stub: &Stub, verifier: &str, f: Finding) -> (VerifyStatus, String) {
    let mut endpoints = Endpoints::default();
    for p in Provider::ALL {
        endpoints.set(p, &stub.url()).unwrap();
    }
    let opts = VerifyOptions {
        endpoints,
        ..VerifyOptions::default()
    };
    let mut map = BTreeMap::new();
    map.insert(f.rule.clone(), verifier.to_string());
    let mut fs = vec![f];
    verify::verify_findings(&mut fs, &map, &opts);
    let v = fs[0].verification.clone().expect("verified");
    (v.status, v.detail)
}

fn entra_secret() -> Finding {
    finding(
        "entra-client-secret",
        SECRET_RIGHT,
        &[("client_id", CLIENT_SECRET_APP), ("tenant", TENANT)],
    )
}

fn aadsts(code: u64, desc: &str) -> Canned {
    Canned::json(
        400,
        &format!(
            r#"{{"error":"invalid_request","error_description":"AADSTS{code}: {desc}\r\nTrace ID: 0","error_codes":[{code}],"timestamp":"2026-11-27 10:00:00Z","trace_id":"t","correlation_id":"c","error_uri":"https://login.microsoftonline.com/error?code={code}"}}"#
        ),
    )
}

#[test]
fn entra_codes_from_the_reference_table() {
    use VerifyStatus::*;
    let stub = Stub::start(vec![Canned::json(200, "{}")]);
    let cases: &[(u64, VerifyStatus, &str)] = &[
        (53003, Live, "blocked-by-policy"),
        (7000215, Dead, "invalid client secret"),
        (7000222, Dead, "expired"),
        (7000112, Dead, "app-disabled"),
        (700016, Unknown, "wrong-pairing"),
        (90002, Unknown, "wrong-pairing"),
        (90038, Unknown, "wrong-cloud"),
        (700024, Unknown, "bug"),
        (700021, Unknown, "bug"),
        (700023, Unknown, "bug"),
        (50012, Unknown, "assertion"),
        (50013, Unknown, "assertion"),
        (500133, Unknown, "assertion"),
        (70021, Dead, "federated"),
        (7000218, Unknown, "bug"),
        (9001023, Unknown, "bug"),
        (900382, Unknown, "wrong-cloud"),
        (900432, Unknown, "wrong-cloud"),
        (50196, Unknown, "throttled"),
        (90055, Unknown, "throttled"),
        (90024, Unknown, "transient"),
        (50033, Unknown, "transient"),
        (90006, Unknown, "transient"),
        (1234567, Unknown, "unrecognised"),
    ];
    for (code, status, word) in cases {
        stub.set(vec![aadsts(*code, "recorded message")]);
        let (s, d) = check(&stub, "entra", entra_secret());
        assert_eq!(s, *status, "AADSTS{code}: {d}");
        assert!(d.contains(word), "AADSTS{code}: {d}");
        let reqs = stub.requests();
        assert_eq!(reqs.len(), 1, "AADSTS{code}");
        assert_eq!(reqs[0].path, format!("/{TENANT}/oauth2/v2.0/token"));
        assert!(reqs[0].body.contains("grant_type=client_credentials"));
        assert!(
            reqs[0]
                .body
                .contains("scope=https%3A%2F%2Fgraph.microsoft.com%2F.default")
        );
        assert!(!d.contains(SECRET_RIGHT));
    }
    // 200 with a token: live, and the token is nowhere in the verdict.
    stub.set(vec![Canned::json(
        200,
        r#"{"token_type":"Bearer","expires_in":3599,"access_token":"eyJTOKENxyz.abc.def"}"#,
    )]);
    let (s, d) = check(&stub, "entra", entra_secret());
    assert_eq!(s, Live);
    assert!(!d.contains("eyJTOKEN"));
    // 429: throttled, one attempt only (issue 14: no retries).
    stub.set(vec![
        Canned::json(429, "{}").with_header("Retry-After", "0"),
    ]);
    let (s, d) = check(&stub, "entra", entra_secret());
    assert_eq!((s, d.contains("throttled")), (Unknown, true), "{d}");
    assert_eq!(stub.requests().len(), 1);
    // HTML: unknown.
    stub.set(vec![Canned::text(200, "<html>sign in</html>")]);
    assert_eq!(check(&stub, "entra", entra_secret()).0, Unknown);
}

#[test]
fn entra_pairs_stop_at_first_live() {
    let stub = Stub::start(vec![
        aadsts(700016, "Application not found"),
        Canned::json(200, r#"{"access_token":"t","token_type":"Bearer"}"#),
    ]);
    let f = finding(
        "entra-client-secret",
        SECRET_RIGHT,
        &[
            ("client_id", "cccccccc-1111-2222-3333-444444444444"),
            ("client_id", CLIENT_SECRET_APP),
            ("client_id", "dddddddd-1111-2222-3333-444444444444"),
            ("tenant", TENANT),
        ],
    );
    let (s, d) = check(&stub, "entra", f);
    assert_eq!(s, VerifyStatus::Live, "{d}");
    assert!(d.contains(CLIENT_SECRET_APP), "{d}");
    assert_eq!(stub.requests().len(), 2, "stopped at the first live pair");
    // A tenant that fails the pre-check: no credential sent, checked once.
    stub.set(vec![Canned::json(200, r#"{"access_token":"t"}"#)]);
    *stub.discovery.lock().unwrap() = (400, 0);
    let (s, d) = check(&stub, "entra", entra_secret());
    assert_eq!(s, VerifyStatus::Unknown, "{d}");
    assert!(d.contains("tenant does not exist"), "{d}");
    assert!(stub.requests().is_empty(), "no token request");
    assert_eq!(stub.discovery.lock().unwrap().1, 1);
    *stub.discovery.lock().unwrap() = (200, 0);
    // No ids at all: skipped, nothing sent.
    stub.set(vec![Canned::json(200, "{}")]);
    let (s, _) = check(
        &stub,
        "entra",
        finding("entra-client-secret", SECRET_RIGHT, &[]),
    );
    assert_eq!(s, VerifyStatus::Skipped);
    assert!(stub.requests().is_empty());
}

#[test]
fn entra_certificate_retries_ps256_on_key_not_found() {
    let key = std::fs::read_to_string(fixture("app-key.pem")).unwrap();
    let cert = std::fs::read_to_string(fixture("app-cert.pem")).unwrap();
    let f = || {
        finding(
            "pem-private-key",
            &key,
            &[
                ("client_id", CLIENT_CERT_APP),
                ("tenant", TENANT),
                ("cert_pem", &cert),
            ],
        )
    };
    let not_found = Canned::json(
        401,
        r#"{"error":"invalid_client","error_description":"AADSTS700027: Client assertion failed signature validation. Reason - The key was not found.","error_codes":[700027]}"#,
    );
    let stub = Stub::start(vec![not_found.clone()]);
    let (s, d) = check(&stub, "entra-cert", f());
    assert_eq!(s, VerifyStatus::Dead, "{d}");
    let reqs = stub.requests();
    assert_eq!(reqs.len(), 2, "RS256 then PS256");
    let header = |body: &str| -> serde_json::Value {
        let a = body
            .split("client_assertion=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        let h = a.split('.').next().unwrap();
        use base64::Engine;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .unwrap(),
        )
        .unwrap()
    };
    let h1 = header(&reqs[0].body);
    let h2 = header(&reqs[1].body);
    assert_eq!(h1["alg"], "RS256");
    assert!(
        h1["x5t"].is_string() && h1.get("x5t#S256").is_none(),
        "{h1}"
    );
    assert_eq!(h2["alg"], "PS256");
    assert!(h2["x5t#S256"].is_string(), "{h2}");

    // Key found, then PS256 works: live.
    stub.set(vec![
        not_found,
        Canned::json(200, r#"{"access_token":"t"}"#),
    ]);
    let (s, d) = check(&stub, "entra-cert", f());
    assert_eq!(s, VerifyStatus::Live, "{d}");
    assert!(d.contains("PS256"), "{d}");

    // Signature check failed (key found): unknown, no retry.
    stub.set(vec![Canned::json(
        401,
        r#"{"error":"invalid_client","error_description":"AADSTS700027: Client assertion contains an invalid signature.","error_codes":[700027]}"#,
    )]);
    let (s, _) = check(&stub, "entra-cert", f());
    assert_eq!(s, VerifyStatus::Unknown);
    assert_eq!(stub.requests().len(), 1);

    // A key whose certificate isn't there: skipped, nothing sent.
    stub.set(vec![Canned::json(200, "{}")]);
    let other = std::fs::read_to_string(fixture("other-cert.pem")).unwrap();
    let f = finding(
        "pem-private-key",
        &key,
        &[
            ("client_id", CLIENT_CERT_APP),
            ("tenant", TENANT),
            ("cert_pem", &other),
        ],
    );
    let (s, d) = check(&stub, "entra-cert", f);
    assert_eq!(s, VerifyStatus::Skipped, "{d}");
    assert!(stub.requests().is_empty());
}

type Case = (Canned, VerifyStatus);

fn run_cases(stub: &Stub, verifier: &str, f: &Finding, cases: Vec<Case>) -> Vec<Received> {
    let mut all = Vec::new();
    for (answer, want) in cases {
        stub.set(vec![answer.clone()]);
        let (s, d) = check(stub, verifier, f.clone());
        assert_eq!(s, want, "{verifier} on {answer:?}: {d}");
        assert!(!d.contains(&*f.raw.expose_str()), "{d}");
        all.extend(stub.requests());
    }
    all
}

#[test]
fn other_providers_live_dead_unknown() {
    use VerifyStatus::*;
    let stub = Stub::start(vec![Canned::json(200, "{}")]);

    let gh = finding(
        "github-token",
        "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000",
        &[],
    );
    let reqs = run_cases(
        &stub,
        "github",
        &gh,
        vec![
            (
                Canned::json(200, "{}").with_header("X-OAuth-Scopes", "repo"),
                Live,
            ),
            (Canned::json(401, r#"{"message":"Bad credentials"}"#), Dead),
            (
                Canned::json(403, r#"{"message":"API rate limit exceeded"}"#),
                Unknown,
            ),
        ],
    );
    assert_eq!(reqs[0].path, "/rate_limit");
    assert!(
        reqs[0]
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v.starts_with("Bearer ghp_"))
    );

    let gl = finding("gitlab-token", "glpat-FAKEfakeFAKEfake1234", &[]);
    let reqs = run_cases(
        &stub,
        "gitlab",
        &gl,
        vec![
            (Canned::json(200, r#"{"id":1}"#), Live),
            (Canned::json(403, r#"{"message":"403 Forbidden"}"#), Live),
            (Canned::json(401, r#"{"message":"401 Unauthorized"}"#), Dead),
            (Canned::json(500, "{}"), Unknown),
        ],
    );
    assert_eq!(reqs[0].path, "/api/v4/user");
    assert!(reqs[0].headers.iter().any(|(k, _)| k == "private-token"));

    let sl = finding(
        "slack-token",
        "xoxb-0000000000-0000000000-FAKEfakeFAKEfake",
        &[],
    );
    let reqs = run_cases(
        &stub,
        "slack",
        &sl,
        vec![
            (
                Canned::json(200, r#"{"ok":true,"team":"T","user":"u"}"#),
                Live,
            ),
            (
                Canned::json(200, r#"{"ok":false,"error":"invalid_auth"}"#),
                Dead,
            ),
            (
                Canned::json(200, r#"{"ok":false,"error":"token_revoked"}"#),
                Dead,
            ),
            (
                Canned::json(200, r#"{"ok":false,"error":"missing_scope"}"#),
                Unknown,
            ),
        ],
    );
    assert_eq!(reqs[0].path, "/api/auth.test");

    let hook = finding(
        "slack-webhook",
        "https://hooks.slack.com/services/T0000FAKE/B0000FAKE/FAKEfakeFAKEfake12345678",
        &[],
    );
    let reqs = run_cases(
        &stub,
        "slack-webhook",
        &hook,
        vec![
            (Canned::text(400, "invalid_payload"), Live),
            (Canned::text(403, "invalid_token"), Dead),
            (Canned::text(404, "no_service"), Dead),
            (Canned::text(500, "oops"), Unknown),
        ],
    );
    assert_eq!(
        reqs[0].path,
        "/services/T0000FAKE/B0000FAKE/FAKEfakeFAKEfake12345678"
    );
    assert!(reqs[0].body.is_empty(), "nothing posted");

    let st = finding("stripe-key", "sk_live_FAKEfakeFAKEfakeFAKEfake00", &[]);
    let reqs = run_cases(
        &stub,
        "stripe",
        &st,
        vec![
            (Canned::json(200, r#"{"data":[]}"#), Live),
            (Canned::json(403, r#"{"error":{}}"#), Live),
            (Canned::json(401, r#"{"error":{}}"#), Dead),
            (
                Canned::json(429, "{}").with_header("Retry-After", "0"),
                Unknown,
            ),
        ],
    );
    assert_eq!(reqs[0].path, "/v1/charges?limit=1");

    let aws = finding(
        "aws-secret-access-key",
        "FAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfake",
        &[("aws_access_key_id", "AKIAZ7TQ4VWB3N5RXK2M")],
    );
    let ok = "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/test</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>";
    let bad = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>";
    let sig = "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>";
    let reqs = run_cases(
        &stub,
        "aws",
        &aws,
        vec![
            (Canned::text(200, ok), Live),
            (Canned::text(403, bad), Dead),
            (Canned::text(403, sig), Unknown),
        ],
    );
    assert_eq!(reqs[0].body, "Action=GetCallerIdentity&Version=2011-06-15");
    let auth = &reqs[0]
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap()
        .1;
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIAZ7TQ4VWB3N5RXK2M/"),
        "{auth}"
    );
    assert!(auth.contains("/us-east-1/sts/aws4_request"));
    assert_eq!(
        reqs.len(),
        3,
        "one request per credential, SignatureDoesNotMatch included"
    );

    let key = std::fs::read_to_string(fixture("app-key.pem")).unwrap();
    let sa = finding(
        "google-service-account",
        &key.replace('\n', "\\n"),
        &[
            (
                "google_client_email",
                "svc@fake-project.iam.gserviceaccount.com",
            ),
            (
                "google_private_key_id",
                "0123456789abcdef0123456789abcdef01234567",
            ),
        ],
    );
    let reqs = run_cases(
        &stub,
        "google",
        &sa,
        vec![
            (
                Canned::json(200, r#"{"access_token":"ya29.x","expires_in":3599}"#),
                Live,
            ),
            (
                Canned::json(
                    400,
                    r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
                ),
                Dead,
            ),
            (
                Canned::json(
                    400,
                    r#"{"error":"invalid_grant","error_description":"Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."}"#,
                ),
                Unknown,
            ),
            (Canned::json(500, "{}"), Unknown),
        ],
    );
    assert_eq!(reqs[0].path, "/token");
    assert!(
        reqs[0]
            .body
            .contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer")
    );

    // The whole key file as the secret: its token_uri names a planted
    // listener, which must receive nothing.
    let planted = Stub::start(vec![Canned::json(200, r#"{"access_token":"stolen"}"#)]);
    let file = serde_json::json!({
        "type": "service_account",
        "client_email": "svc@fake-project.iam.gserviceaccount.com",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": key,
        "token_uri": format!("{}/token", planted.url()),
    });
    let sa_file = finding("google-service-account", &file.to_string(), &[]);
    let reqs = run_cases(
        &stub,
        "google",
        &sa_file,
        vec![(
            Canned::json(
                400,
                r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
            ),
            Dead,
        )],
    );
    assert_eq!(reqs[0].path, "/token");
    assert_eq!(
        planted.connection_count(),
        0,
        "token_uri from the file was used"
    );

    let oc = finding(
        "google-oauth-client-secret",
        "GOCSPX-FAKEfakeFAKEfakeFAKEfake000",
        &[(
            "google_client_id",
            "123456789012-fakefakefakefakefakefake.apps.googleusercontent.com",
        )],
    );
    run_cases(
        &stub,
        "google-oauth",
        &oc,
        vec![
            (
                Canned::json(
                    400,
                    r#"{"error":"invalid_grant","error_description":"Malformed auth code."}"#,
                ),
                Live,
            ),
            (
                Canned::json(
                    401,
                    r#"{"error":"invalid_client","error_description":"Unauthorized"}"#,
                ),
                Dead,
            ),
            (Canned::json(500, "{}"), Unknown),
        ],
    );
}

#[test]
fn each_distinct_credential_is_verified_once() {
    let stub = Stub::start(vec![Canned::json(200, r#"{"access_token":"t"}"#)]);
    let mut endpoints = Endpoints::default();
    endpoints.set(Provider::Entra, &stub.url()).unwrap();
    let opts = VerifyOptions {
        endpoints,
        ..VerifyOptions::default()
    };
    let mut map = BTreeMap::new();
    map.insert("entra-client-secret".to_string(), "entra".to_string());
    let mut other = entra_secret();
    other.raw = Secret::new(SECRET_WRONG);
    let mut untouched = finding("no-verifier", "whatever", &[]);
    untouched.rule = "generic".into();
    let mut fs = vec![
        entra_secret(),
        entra_secret(),
        other,
        entra_secret(),
        untouched,
    ];
    let report = verify::verify_findings(&mut fs, &map, &opts);
    assert_eq!(report.credentials, 2);
    assert_eq!(stub.requests().len(), 2, "one request per distinct secret");
    assert!(
        fs[..4]
            .iter()
            .all(|f| f.verification.as_ref().unwrap().status == VerifyStatus::Live)
    );
    assert!(fs[4].verification.is_none());
}
