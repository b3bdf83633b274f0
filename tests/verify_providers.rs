//! Issue 14: verification people can trust. Time bounds (one attempt per
//! request within --verify-timeout, --verify-budget for the pass, progress),
//! the wiring (Azure Storage, Google API keys, every pack's verifier name
//! exists) and the table verifiers, each against a loopback stub through
//! LEAKSCAN_VERIFY_ENDPOINT_<NAME>.

mod verify_common;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use leakscan_scanner::finding::{Finding, VerifyStatus};
use leakscan_verify::{self as verify, Endpoints, VerifyOptions};
use verify_common::*;

/// Alphanumerics from a seed (distinct, high-entropy fake tokens).
fn alnum(seed: u64, len: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            A[((x >> 33) % A.len() as u64) as usize] as char
        })
        .collect()
}

fn hexs(seed: u64, len: usize) -> String {
    const H: &[u8] = b"0123456789abcdef";
    let mut x = seed
        .wrapping_mul(2862933555777941757)
        .wrapping_add(3037000493);
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(2862933555777941757).wrapping_add(3037000493);
            H[((x >> 33) % 16) as usize] as char
        })
        .collect()
}

fn lower_letters(seed: u64, len: usize) -> String {
    alnum(seed, len * 2)
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .take(len)
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// A server that accepts connections and never answers; counts them.
fn silent_server() -> (String, Arc<Mutex<usize>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let n = Arc::new(Mutex::new(0));
    let n2 = n.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            *n2.lock().unwrap() += 1;
            held.push(s); // keep it open, say nothing
        }
    });
    (url, n)
}

fn stripe_key(seed: u64) -> String {
    format!("sk_live_{}", alnum(seed, 24))
}

#[test]
fn issue14_timeout_is_one_attempt_within_verify_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    let key = stripe_key(1);
    write(tmp.path(), "pay.env", &format!("STRIPE_SECRET_KEY={key}\n"));
    let (url, conns) = silent_server();
    let start = Instant::now();
    let run = leakscan(
        tmp.path(),
        &["--verify", "--verify-timeout", "1s"],
        &[("LEAKSCAN_VERIFY_ENDPOINT_STRIPE", url)],
        &[key.as_str()],
    );
    let took = start.elapsed();
    let (status, detail) = verdict(&run, "stripe-live-key");
    assert_eq!(status, "unknown", "{detail}");
    assert!(detail.contains("timeout"), "{detail}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(*conns.lock().unwrap(), 1, "one attempt, no retry");
    assert!(
        !run.stderr.contains("verifying "),
        "no progress line off a terminal"
    );
}

#[test]
fn issue14_budget_bounds_the_whole_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let keys: Vec<String> = (10..14).map(stripe_key).collect();
    for (i, k) in keys.iter().enumerate() {
        write(
            tmp.path(),
            &format!("k{i}.env"),
            &format!("STRIPE_SECRET_KEY={k}\n"),
        );
    }
    let (url, conns) = silent_server();
    let start = Instant::now();
    let forbidden: Vec<&str> = keys.iter().map(String::as_str).collect();
    let run = leakscan(
        tmp.path(),
        &[
            "--verify",
            "--verify-timeout",
            "30s",
            "--verify-budget",
            "1500ms",
            "--verify-concurrency",
            "1",
        ],
        &[("LEAKSCAN_VERIFY_ENDPOINT_STRIPE", url)],
        &forbidden,
    );
    let took = start.elapsed();
    assert!(took < Duration::from_secs(8), "took {took:?}");
    let fs = findings(&run, "stripe-live-key");
    assert_eq!(fs.len(), 4, "{}", run.stdout);
    for f in fs {
        assert_eq!(f["verification"]["status"], "unknown", "{f}");
        let d = f["verification"]["detail"].as_str().unwrap();
        assert!(d.contains("budget exhausted"), "{d}");
    }
    assert_eq!(*conns.lock().unwrap(), 1, "the rest never started");

    // Bad durations are refused with the expected forms.
    let run = leakscan(
        tmp.path(),
        &["--verify", "--verify-timeout", "soon"],
        &[],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("10s"), "{}", run.stderr);
}

#[test]
fn issue14_progress_reports_every_credential() {
    let stub = Stub::start(vec![Canned::json(401, "{}")]);
    let mut endpoints = Endpoints::default();
    endpoints.set("stripe", &stub.url()).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let opts = VerifyOptions {
        endpoints,
        progress: Some(verify::Progress(Arc::new(move |d, t| {
            s2.lock().unwrap().push((d, t))
        }))),
        ..VerifyOptions::default()
    };
    let mut fs: Vec<Finding> = (0..3)
        .map(|i| finding(&format!("r{i}"), &stripe_key(100 + i), &[]))
        .collect();
    let map: BTreeMap<String, String> = (0..3)
        .map(|i| (format!("r{i}"), "stripe".to_string()))
        .collect();
    verify::verify_findings(&mut fs, &map, &opts);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.first(), Some(&(0, 3)));
    assert_eq!(seen.last(), Some(&(3, 3)));
    assert_eq!(seen.len(), 4);
    assert!(
        fs.iter()
            .all(|f| f.verification.as_ref().unwrap().status == VerifyStatus::Dead)
    );
}

#[test]
fn issue14_every_pack_verifier_exists_and_fifty_providers() {
    let packs = leakscan_rules::builtin_packs().expect("packs parse");
    let mut used = Vec::new();
    for (pack, p) in &packs {
        for r in &p.rules {
            if let Some(v) = &r.verify {
                assert!(
                    verify::verifier_exists(v),
                    "rule {} in pack {pack} names verifier `{v}`, which does not exist",
                    r.id
                );
                used.push(v.clone());
            }
        }
    }
    assert!(used.iter().any(|v| v == "azure-storage"));
    // The rules crate's list (what packs may name) is exactly the engine's.
    let mut known: Vec<&str> = leakscan_rules::KNOWN_VERIFIERS.to_vec();
    known.sort();
    assert_eq!(known, verify::verifier_names());
    assert!(!verify::verifier_exists("no-such-verifier"));
    // Providers verified: the table's plus the flows' (Entra, Google, GitHub,
    // GitLab, Slack, Stripe, AWS, Azure Storage).
    let mut providers: Vec<&str> = verify::table::SPECS.iter().map(|s| s.provider).collect();
    providers.sort();
    providers.dedup();
    assert!(
        providers.len() + 8 >= 50,
        "{} providers",
        providers.len() + 8
    );
    // Every verifier has an override name.
    let names = verify::endpoints::override_names();
    for s in verify::table::SPECS {
        assert!(names.contains(&verify::endpoints::key(s.id)), "{}", s.id);
    }
    assert!(names.contains(&"azure_storage".to_string()));
}

/// A token each spec accepts, and the context it needs.
fn token_for(spec: &verify::table::Spec, seed: u64) -> (String, Vec<(&'static str, String)>) {
    use verify::table::{Auth, Host};
    let body = alnum(seed, 40);
    let mut token = if let Some(strip) = spec.strip.first() {
        format!("{strip}123456789012345678/{body}")
    } else if let Some(p) = spec.prefixes.first() {
        format!("{p}{body}")
    } else {
        body
    };
    let mut ctx = Vec::new();
    match spec.host {
        Host::Owner(s) => ctx.push(("owner_host", format!("acme.{}", s[0]))),
        Host::MailchimpDc => token = format!("{}-us21", hexs(seed, 32)),
        _ => {}
    }
    if let Auth::BasicContextUser(k) = spec.auth {
        ctx.push((k, format!("AC{}", hexs(seed, 32))));
    }
    (token, ctx)
}

fn run_one(
    stub: &Stub,
    spec: &verify::table::Spec,
    token: &str,
    ctx: &[(&str, String)],
) -> (VerifyStatus, String, Vec<String>) {
    let mut endpoints = Endpoints::default();
    endpoints.set(spec.id, &stub.url()).unwrap();
    let opts = VerifyOptions {
        endpoints,
        ..VerifyOptions::default()
    };
    let c: Vec<(&str, &str)> = ctx.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut fs = vec![finding("r", token, &c)];
    let map = BTreeMap::from([("r".to_string(), spec.id.to_string())]);
    verify::verify_findings(&mut fs, &map, &opts);
    let v = fs.remove(0).verification.unwrap();
    (v.status, v.detail, v.access)
}

#[test]
fn issue14_each_table_verifier_against_a_loopback_stub() {
    use verify::table::Auth;
    let stub = Stub::start(vec![Canned::json(200, "{}")]);
    for (i, spec) in verify::table::SPECS.iter().enumerate() {
        let (token, ctx) = token_for(spec, 1000 + i as u64);
        let cases = [
            (Canned::json(200, spec.sample), VerifyStatus::Live),
            (
                Canned::json(401, r#"{"error":"unauthorized"}"#),
                VerifyStatus::Dead,
            ),
            (
                Canned::json(403, r#"{"error":"forbidden"}"#),
                VerifyStatus::Dead,
            ),
            (
                Canned::json(429, r#"{"error":"slow down"}"#),
                VerifyStatus::Unknown,
            ),
            (
                Canned::json(503, r#"{"error":"busy"}"#),
                VerifyStatus::Unknown,
            ),
            (
                Canned::text(200, "<html>login</html>"),
                VerifyStatus::Unknown,
            ),
        ];
        for (answer, want) in cases {
            stub.set(vec![answer.clone()]);
            let (status, detail, access) = run_one(&stub, spec, &token, &ctx);
            assert_eq!(status, want, "{}: {answer:?} → {detail}", spec.id);
            assert!(!detail.contains(&token), "{}: {detail}", spec.id);
            let reqs = stub.requests();
            assert_eq!(reqs.len(), 1, "{}: one request", spec.id);
            let r = &reqs[0];
            assert_eq!(r.method, spec.method, "{}", spec.id);
            // The path is the provider's; the token only where documented.
            let bare = token
                .strip_prefix(spec.strip.first().copied().unwrap_or(""))
                .unwrap_or(&token);
            let want_path = spec.path.replace("{token}", bare).replace(
                "{user}",
                ctx.iter()
                    .find(|(k, _)| k.contains("sid"))
                    .map_or("", |(_, v)| v),
            );
            match spec.auth {
                Auth::Query(q) => {
                    assert_eq!(r.path, format!("{want_path}?{q}={bare}"), "{}", spec.id)
                }
                _ => assert_eq!(r.path, want_path, "{}", spec.id),
            }
            let header = |n: &str| {
                r.headers
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.clone())
            };
            match spec.auth {
                Auth::Bearer => assert_eq!(
                    header("authorization"),
                    Some(format!("Bearer {bare}")),
                    "{}",
                    spec.id
                ),
                Auth::Header(h, prefix) => assert_eq!(
                    header(&h.to_ascii_lowercase()),
                    Some(format!("{prefix}{bare}")),
                    "{}",
                    spec.id
                ),
                Auth::BasicPassword(_) | Auth::BasicContextUser(_) => {
                    use base64::Engine;
                    let v = header("authorization").unwrap();
                    let dec = base64::engine::general_purpose::STANDARD
                        .decode(v.strip_prefix("Basic ").unwrap())
                        .unwrap();
                    let dec = String::from_utf8(dec).unwrap();
                    assert!(dec.ends_with(&format!(":{bare}")), "{}", spec.id);
                }
                Auth::InPath | Auth::Query(_) => {
                    assert!(header("authorization").is_none(), "{}", spec.id)
                }
            }
            if let Some(b) = spec.body {
                assert_eq!(r.body, b, "{}", spec.id);
            } else {
                assert!(r.body.is_empty(), "{}: a GET sends no body", spec.id);
            }
            if want == VerifyStatus::Live && !spec.access.is_empty() {
                assert!(
                    !access.is_empty(),
                    "{}: access from the same answer",
                    spec.id
                );
            }
        }
    }
}

#[test]
fn issue14_owner_hosts_need_the_documented_suffix() {
    // No override: the host must come from the content, under the suffix.
    let spec = verify::table::find("okta").unwrap();
    let opts = VerifyOptions::default();
    for host in [
        "evilokta.com",
        "okta.com",
        "acme.okta.com.evil.net",
        "127.0.0.1",
    ] {
        let mut fs = vec![finding(
            "r",
            "00abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
            &[("owner_host", host)],
        )];
        let map = BTreeMap::from([("r".to_string(), spec.id.to_string())]);
        let report = verify::verify_findings(&mut fs, &map, &opts);
        let v = fs[0].verification.clone().unwrap();
        assert_eq!(v.status, VerifyStatus::Skipped, "{host}: {}", v.detail);
        assert_eq!(report.requests_sent, 0, "{host}");
    }
    // Mailchimp: the data center must be usNN.
    let mut fs = vec![finding("r", &format!("{}-evil.example", hexs(3, 32)), &[])];
    let map = BTreeMap::from([("r".to_string(), "mailchimp".to_string())]);
    let report = verify::verify_findings(&mut fs, &map, &opts);
    assert_eq!(
        fs[0].verification.as_ref().unwrap().status,
        VerifyStatus::Skipped
    );
    assert_eq!(report.requests_sent, 0);
}

#[test]
fn issue14_google_api_key_is_skipped_never_the_service_account_flow() {
    let tmp = tempfile::tempdir().unwrap();
    let key = format!("AIza{}", alnum(77, 35));
    write(tmp.path(), "maps.js", &format!("const key = \"{key}\";\n"));
    let stub = Stub::start(vec![Canned::json(200, r#"{"access_token":"x"}"#)]);
    let run = leakscan(
        tmp.path(),
        &["--verify"],
        &[("LEAKSCAN_VERIFY_ENDPOINT_GOOGLE", stub.url())],
        &[key.as_str()],
    );
    let (status, detail) = verdict(&run, "google-api-key");
    assert_eq!(status, "skipped", "{detail}");
    assert!(detail.contains("Google API key"), "{detail}");
    assert!(!detail.contains("client_email"), "{detail}");
    assert_eq!(stub.connection_count(), 0);
}

#[test]
fn issue14_azure_storage_signed_read_only_request() {
    use base64::Engine;
    let tmp = tempfile::tempdir().unwrap();
    let raw: Vec<u8> = (0..64u8)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    let key = base64::engine::general_purpose::STANDARD.encode(&raw);
    assert!(key.ends_with("==") && key.len() == 88);
    write(
        tmp.path(),
        "app.config",
        &format!(
            "DefaultEndpointsProtocol=https;AccountName=acmestore;AccountKey={key};EndpointSuffix=core.windows.net\n"
        ),
    );
    let ok = "<?xml version=\"1.0\" encoding=\"utf-8\"?><StorageServiceProperties><Logging/></StorageServiceProperties>";
    let stub = Stub::start(vec![Canned::text(200, ok)]);
    let env = [("LEAKSCAN_VERIFY_ENDPOINT_AZURE_STORAGE", stub.url())];
    let run = leakscan(tmp.path(), &["--verify"], &env, &[key.as_str()]);
    let (status, detail) = verdict(&run, "azure-storage-connection-string");
    assert_eq!(status, "live", "{detail}");
    assert!(detail.contains("acmestore"), "{detail}");
    let reqs = stub.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("GET", "/?restype=service&comp=properties")
    );
    let h = |n: &str| {
        r.headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(h("x-ms-version"), verify::azure_storage::API_VERSION);
    assert_eq!(
        h("authorization"),
        verify::azure_storage::authorization("acmestore", &raw, &h("x-ms-date")),
        "signed with the decoded key over the documented string"
    );
    assert!(
        !r.headers.iter().any(|(_, v)| v.contains(&key)),
        "the key never leaves"
    );

    let bad = "<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.</Message></Error>";
    stub.set(vec![Canned::text(403, bad)]);
    let run = leakscan(tmp.path(), &["--verify"], &env, &[key.as_str()]);
    assert_eq!(verdict(&run, "azure-storage-connection-string").0, "dead");
    // Refused by the account's network rules: not the key's fault.
    let fw = "<?xml version=\"1.0\"?><Error><Code>AuthorizationFailure</Code></Error>";
    stub.set(vec![Canned::text(403, fw)]);
    let run = leakscan(tmp.path(), &["--verify"], &env, &[key.as_str()]);
    assert_eq!(
        verdict(&run, "azure-storage-connection-string").0,
        "unknown"
    );
}

/// A stub that answers 200 when a request carries one of `live` and 401
/// otherwise, and counts requests per token.
struct TokenStub {
    url: String,
    counts: Arc<Mutex<BTreeMap<String, usize>>>,
}

fn token_stub(live: Vec<String>, all: Vec<String>) -> TokenStub {
    use std::io::{BufRead, BufReader, Read, Write};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let counts = Arc::new(Mutex::new(BTreeMap::new()));
    let c2 = counts.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let (live, all, counts) = (live.clone(), all.clone(), c2.clone());
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut s = s;
                loop {
                    let mut head = String::new();
                    let mut len = 0;
                    loop {
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                        head.push_str(&line);
                    }
                    let mut body = vec![0; len];
                    let _ = r.read_exact(&mut body);
                    if let Some(t) = all.iter().find(|t| head.contains(t.as_str())) {
                        *counts.lock().unwrap().entry(t.clone()).or_insert(0) += 1;
                    }
                    let ok = live.iter().any(|t| head.contains(t.as_str()));
                    let (status, body) = if ok {
                        (
                            200,
                            r#"{"username":"someone","name":"someone","scopes":["mail.send"],"account":{"email":"a@b.c"},"data":[]}"#,
                        )
                    } else {
                        (401, r#"{"error":"invalid token"}"#)
                    };
                    let out = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if s.write_all(out.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    TokenStub { url, counts }
}

fn npm_token(seed: u64) -> String {
    let random = alnum(seed, 30);
    format!(
        "npm_{random}{}",
        leakscan_scanner::validate::base62_crc32(random.as_bytes())
    )
}

#[test]
fn issue14_done_when_six_providers_live_and_dead_one_request_each() {
    // (verifier, rule, live token, dead token, line template)
    let pairs: Vec<(&str, &str, String, String, &str)> = vec![
        (
            "openai",
            "openai-api-key",
            format!("sk-proj-{}", alnum(1, 64)),
            format!("sk-proj-{}", alnum(2, 64)),
            "OPENAI_API_KEY={}",
        ),
        (
            "anthropic",
            "anthropic-api-key",
            format!("sk-ant-api03-{}", alnum(3, 93)),
            format!("sk-ant-api03-{}", alnum(4, 93)),
            "ANTHROPIC_API_KEY={}",
        ),
        (
            "huggingface",
            "huggingface-token",
            format!("hf_{}", lower_letters(5, 34)),
            format!("hf_{}", lower_letters(6, 34)),
            "HF_TOKEN={}",
        ),
        (
            "npm",
            "npm-token",
            npm_token(7),
            npm_token(8),
            "//registry.npmjs.org/:_authToken={}",
        ),
        (
            "digitalocean",
            "digitalocean-token",
            format!("dop_v1_{}", hexs(9, 64)),
            format!("dop_v1_{}", hexs(10, 64)),
            "DIGITALOCEAN_TOKEN={}",
        ),
        (
            "sendgrid",
            "sendgrid-api-key",
            format!("SG.{}.{}", alnum(11, 22), alnum(12, 43)),
            format!("SG.{}.{}", alnum(13, 22), alnum(14, 43)),
            "SENDGRID_API_KEY={}",
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for (_, _, live, dead, line) in &pairs {
        text.push_str(&line.replace("{}", live));
        text.push('\n');
        text.push_str(&line.replace("{}", dead));
        text.push('\n');
        // The same live token again elsewhere: still one request.
        text.push_str(&format!("# copy: {}\n", line.replace("{}", live)));
    }
    write(tmp.path(), "secrets.env", &text);
    let live: Vec<String> = pairs.iter().map(|p| p.2.clone()).collect();
    let all: Vec<String> = pairs
        .iter()
        .flat_map(|p| [p.2.clone(), p.3.clone()])
        .collect();
    let stub = token_stub(live, all.clone());
    let env: Vec<(String, String)> = pairs
        .iter()
        .map(|p| {
            (
                format!("LEAKSCAN_VERIFY_ENDPOINT_{}", p.0.to_ascii_uppercase()),
                stub.url.clone(),
            )
        })
        .collect();
    let env_ref: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let forbidden: Vec<&str> = all.iter().map(String::as_str).collect();
    let run = leakscan(tmp.path(), &["--verify"], &env_ref, &forbidden);
    for (name, rule, live, dead, _) in &pairs {
        let fs = findings(&run, rule);
        let status_of = |tok: &str| {
            let fp = tok.chars().take(6).collect::<String>();
            let _ = fp;
            fs.iter()
                .map(|f| {
                    f["verification"]["status"]
                        .as_str()
                        .unwrap_or("none")
                        .to_string()
                })
                .collect::<Vec<_>>()
        };
        let statuses = status_of(live);
        assert!(
            statuses.iter().any(|s| s == "live"),
            "{name}: {statuses:?}\n{}",
            run.stderr
        );
        assert!(statuses.iter().any(|s| s == "dead"), "{name}: {statuses:?}");
        assert!(
            statuses.iter().all(|s| s == "live" || s == "dead"),
            "{name}: {statuses:?}"
        );
        let counts = stub.counts.lock().unwrap();
        assert_eq!(
            counts.get(live),
            Some(&1),
            "{name}: one request for the live token"
        );
        assert_eq!(
            counts.get(dead),
            Some(&1),
            "{name}: one request for the dead token"
        );
    }
    // Live findings carry what they can reach when the answer says (SendGrid scopes).
    let sg = findings(&run, "sendgrid-api-key");
    assert!(
        sg.iter()
            .any(|f| f["verification"]["access"][0] == "mail.send"),
        "{sg:?}"
    );
}

const BEGIN: &str = "<!-- verifiers:begin (generated: LEAKSCAN_BLESS=1 cargo test --test verify_providers readme) -->";
const END: &str = "<!-- verifiers:end -->";

#[test]
fn issue14_readme_lists_every_verifier_and_its_request() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let want = format!("\n{}", verify::readme_table());
    let current = match (readme.find(BEGIN), readme.find(END)) {
        (Some(b), Some(e)) => &readme[b + BEGIN.len()..e],
        _ => "",
    };
    if current == want {
        return;
    }
    if std::env::var_os("LEAKSCAN_BLESS").is_some()
        && let (Some(b), Some(e)) = (readme.find(BEGIN), readme.find(END))
    {
        let updated = format!("{}{}{}", &readme[..b + BEGIN.len()], want, &readme[e..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "the README's verifier table is stale: LEAKSCAN_BLESS=1 cargo test --test verify_providers readme"
    );
}

fn verify_one(stub: &Stub, name: &str, f: Finding) -> leakscan_scanner::finding::Verification {
    let mut endpoints = Endpoints::default();
    for n in ["entra", "github", "slack", "stripe", "aws"] {
        endpoints.set(n, &stub.url()).unwrap();
    }
    let opts = VerifyOptions {
        endpoints,
        ..VerifyOptions::default()
    };
    let map = BTreeMap::from([(f.rule.clone(), name.to_string())]);
    let mut fs = vec![f];
    verify::verify_findings(&mut fs, &map, &opts);
    fs.remove(0).verification.unwrap()
}

#[test]
fn issue14_access_from_the_same_answer() {
    use base64::Engine;
    let stub = Stub::start(vec![
        Canned::json(200, "{}").with_header("X-OAuth-Scopes", "repo, read:org"),
    ]);
    let gh = format!("ghp_{}", alnum(21, 36));
    let v = verify_one(&stub, "github", finding("github-token", &gh, &[]));
    assert_eq!(v.status, VerifyStatus::Live);
    assert_eq!(v.access, vec!["repo", "read:org"]);

    stub.set(vec![
        Canned::json(200, r#"{"ok":true,"team":"Acme","user":"bot"}"#)
            .with_header("X-OAuth-Scopes", "chat:write,channels:read"),
    ]);
    let v = verify_one(&stub, "slack", finding("slack-token", "xoxb-1-2-abc", &[]));
    assert_eq!(v.access, vec!["team Acme", "chat:write", "channels:read"]);

    stub.set(vec![Canned::text(
        200,
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>",
    )]);
    let v = verify_one(
        &stub,
        "aws",
        finding(
            "aws-secret-access-key",
            &alnum(22, 40),
            &[("aws_access_key_id", "AKIAZ7TQ4VWB3N5RXK2M")],
        ),
    );
    assert_eq!(v.access, vec!["arn:aws:iam::123456789012:user/ci"]);

    stub.set(vec![Canned::json(
        403,
        r#"{"error":{"type":"invalid_request_error"}}"#,
    )]);
    let v = verify_one(
        &stub,
        "stripe",
        finding(
            "stripe-live-key",
            &format!("rk_live_{}", alnum(23, 24)),
            &[],
        ),
    );
    assert_eq!(v.status, VerifyStatus::Live);
    assert_eq!(
        v.access,
        vec!["live mode", "restricted key", "cannot read charges"]
    );

    // Entra: the roles claim of the token obtained; the token is not kept.
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(br#"{"aud":"https://graph.microsoft.com","roles":["User.Read.All","Mail.Send"]}"#);
    let token = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.c2lnbmF0dXJlc2lnbmF0dXJl");
    stub.set(vec![Canned::json(
        200,
        &format!(r#"{{"token_type":"Bearer","expires_in":3599,"access_token":"{token}"}}"#),
    )]);
    let v = verify_one(
        &stub,
        "entra",
        finding(
            "entra-client-secret",
            SECRET_RIGHT,
            &[("client_id", CLIENT_SECRET_APP), ("tenant", TENANT)],
        ),
    );
    assert_eq!(v.status, VerifyStatus::Live, "{}", v.detail);
    assert_eq!(v.access, vec!["User.Read.All", "Mail.Send"]);
    assert!(!v.detail.contains(&payload));
    let json = serde_json::to_string(&v).unwrap();
    assert!(!json.contains(&payload), "{json}");
}
