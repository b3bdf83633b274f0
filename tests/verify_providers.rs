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

use leakscan_rules::Category;
use leakscan_scanner::finding::{Finding, Secret, VerifyStatus};
use leakscan_scanner::verify::{self, Endpoints, VerifyOptions};
use verify_common::*;

/// Alphanumerics from a seed (distinct, high-entropy fake tokens).
fn alnum(seed: u64, len: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
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
    let mut x = seed.wrapping_mul(2862933555777941757).wrapping_add(3037000493);
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
    assert!(!run.stderr.contains("verifying "), "no progress line off a terminal");
}

#[test]
fn issue14_budget_bounds_the_whole_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let keys: Vec<String> = (10..14).map(stripe_key).collect();
    for (i, k) in keys.iter().enumerate() {
        write(tmp.path(), &format!("k{i}.env"), &format!("STRIPE_SECRET_KEY={k}\n"));
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
    let run = leakscan(tmp.path(), &["--verify", "--verify-timeout", "soon"], &[], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("10s"), "{}", run.stderr);
}

fn finding(rule: &str, secret: &str, context: &[(&str, &str)]) -> Finding {
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
        raw: Secret::new(secret),
        span: (0, 1),
        context: ctx,
    }
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
    assert!(fs.iter().all(|f| f.verification.as_ref().unwrap().status == VerifyStatus::Dead));
}
