//! Shared helpers for the verification tests: a loopback HTTP stub that
//! records what it receives, the test IdP (oidc-provider) launcher, fake
//! credentials, and a leakscan runner that checks no secret leaks.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use leakscan_rules::Category;
use leakscan_scanner::finding::{Finding, Secret};

/// Fake Entra secrets (SEC101/156 shape: 3 chars, 8, Q~, 34 chars).
pub const SECRET_RIGHT: &str = "abc8Q~TESTsecretRIGHTforLeakscanIdp0001x";
pub const SECRET_WRONG: &str = "abc8Q~TESTsecretWRONGforLeakscanIdp0002x";
pub const TENANT: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT_SECRET_APP: &str = "aaaaaaaa-1111-2222-3333-444444444444";
pub const CLIENT_CERT_APP: &str = "bbbbbbbb-1111-2222-3333-444444444444";

/// One request the stub received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A canned answer.
#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Canned {
    pub fn json(status: u16, body: &str) -> Canned {
        Canned {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
        }
    }
    pub fn text(status: u16, body: &str) -> Canned {
        Canned {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: body.into(),
        }
    }
    pub fn with_header(mut self, k: &str, v: &str) -> Canned {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// A loopback HTTP/1.1 server: answers from a queue (the last answer
/// repeats) and records every request. Counts connections too, so a test
/// can prove that nothing arrived.
pub struct Stub {
    pub port: u16,
    /// Status for `/.well-known/openid-configuration` (tenant pre-check);
    /// such requests are counted apart, not queued or recorded.
    pub discovery: Arc<Mutex<(u16, usize)>>,
    answers: Arc<Mutex<Vec<Canned>>>,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub connections: Arc<Mutex<usize>>,
}

impl Stub {
    pub fn start(answers: Vec<Canned>) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        let answers = Arc::new(Mutex::new(answers));
        let received = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let discovery = Arc::new(Mutex::new((200u16, 0usize)));
        let (a, r, c, d) = (
            answers.clone(),
            received.clone(),
            connections.clone(),
            discovery.clone(),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                *c.lock().unwrap() += 1;
                let (a, r, d) = (a.clone(), r.clone(), d.clone());
                std::thread::spawn(move || serve(stream, a, r, d));
            }
        });
        Stub {
            port,
            discovery,
            answers,
            received,
            connections,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, answers: Vec<Canned>) {
        *self.answers.lock().unwrap() = answers;
        self.received.lock().unwrap().clear();
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn connection_count(&self) -> usize {
        *self.connections.lock().unwrap()
    }
}

fn serve(
    stream: TcpStream,
    answers: Arc<Mutex<Vec<Canned>>>,
    received: Arc<Mutex<Vec<Received>>>,
    discovery: Arc<Mutex<(u16, usize)>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if path.ends_with("/.well-known/openid-configuration") {
            let status = {
                let mut d = discovery.lock().unwrap();
                d.1 += 1;
                d.0
            };
            let body = if status == 200 {
                r#"{"issuer":"x"}"#
            } else {
                r#"{"error":"invalid_tenant"}"#
            };
            let out = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if stream.write_all(out.as_bytes()).is_err() {
                return;
            }
            continue;
        }
        received.lock().unwrap().push(Received {
            method,
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let answer = {
            let mut a = answers.lock().unwrap();
            if a.len() > 1 {
                a.remove(0)
            } else {
                a[0].clone()
            }
        };
        let mut out = format!(
            "HTTP/1.1 {} X\r\nContent-Length: {}\r\n",
            answer.status,
            answer.body.len()
        );
        for (k, v) in &answer.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&answer.body);
        if stream.write_all(out.as_bytes()).is_err() {
            return;
        }
    }
}

/// The repository root (where tests/idp and fixtures live).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("fixtures/verify").join(name)
}

/// The test IdP: `node tests/idp/idp.mjs` on a free loopback port.
pub struct Idp {
    pub port: u16,
    child: Child,
    log: PathBuf,
}

impl Idp {
    /// Starts oidc-provider with a client_secret_post client and a
    /// private_key_jwt client (the app certificate's key). Fails (never
    /// skips) when node or the package is missing.
    pub fn start(log_dir: &Path) -> Idp {
        let node_ok = Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            node_ok,
            "node is required for the verification tests: run scripts/setup.sh"
        );
        let pkg = root().join("tests/idp/node_modules/oidc-provider/package.json");
        assert!(
            pkg.is_file(),
            "oidc-provider is not installed: run scripts/setup.sh (npm ci --prefix tests/idp)"
        );
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let config = serde_json::json!({
            "tenant": TENANT,
            "clients": [
                {"client_id": CLIENT_SECRET_APP, "client_secret": SECRET_RIGHT},
                {"client_id": CLIENT_CERT_APP, "cert_pem_file": fixture("app-cert.pem")},
            ]
        });
        let log = log_dir.join("idp.log");
        let child = Command::new("node")
            .arg(root().join("tests/idp/idp.mjs"))
            .env("PORT", port.to_string())
            .env("IDP_CONFIG", config.to_string())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn node");
        let idp = Idp { port, child, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = s.write_all(b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.1 200") {
                    assert!(
                        buf.contains(&format!("/{TENANT}/oauth2/v2.0/token")),
                        "token route: {buf}"
                    );
                    return idp;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the test IdP did not start: {}",
                idp.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Output of one leakscan run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub json: serde_json::Value,
}

/// Runs `leakscan dir PATH --verify --format json ARGS` with `env`, no
/// inherited override variables, and checks that no forbidden string
/// (secrets, tokens) appears in its output.
pub fn leakscan(path: &Path, args: &[&str], env: &[(&str, String)], forbidden: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leakscan"));
    cmd.arg("dir")
        .arg(path)
        .args(["--format", "json"])
        .args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("LEAKSCAN_VERIFY_ENDPOINT_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run leakscan");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    for f in forbidden {
        assert!(!stdout.contains(f), "stdout leaks a secret: {stdout}");
        assert!(!stderr.contains(f), "stderr leaks a secret: {stderr}");
    }
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout,
        stderr,
        json,
    }
}

/// Every finding of `rule` in a JSON report.
pub fn findings<'a>(run: &'a Run, rule: &str) -> Vec<&'a serde_json::Value> {
    let list = run
        .json
        .get("findings")
        .and_then(|f| f.as_array())
        .or_else(|| run.json.as_array())
        .unwrap_or_else(|| panic!("no findings array in: {}\n{}", run.stdout, run.stderr));
    list.iter().filter(|f| f["rule"] == rule).collect()
}

/// `(status, detail)` of the single finding of `rule`.
pub fn verdict(run: &Run, rule: &str) -> (String, String) {
    let f = findings(run, rule);
    assert_eq!(
        f.len(),
        1,
        "one {rule} finding expected: {}\n{}",
        run.stdout,
        run.stderr
    );
    let v = &f[0]["verification"];
    (
        v["status"].as_str().unwrap_or("none").to_string(),
        v["detail"].as_str().unwrap_or("").to_string(),
    )
}

/// A finding of `rule` holding `secret`, with context values, as the
/// scanner hands it to the verifiers.
pub fn finding(rule: &str, secret: &str, context: &[(&str, &str)]) -> Finding {
    let mut ctx: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in context {
        ctx.entry(k.to_string()).or_default().push(v.to_string());
    }
    Finding {
        rule: rule.into(),
        name: rule.into(),
        category: Category::Token,
        path: "stub/file".into(),
        line: 1,
        column: 1,
        end_line: 1,
        end_column: 2,
        secret: "redacted".into(),
        fingerprint: format!("{rule}:0000"),
        entropy: 4.0,
        provenance: None,
        details: BTreeMap::new(),
        verification: None,
        snippet: None,
        raw: Secret::new(secret),
        span: (0, 1),
        context: ctx,
    }
}
