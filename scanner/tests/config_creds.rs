//! Issue 13: the labelled corpus of configuration-file credentials and
//! look-alikes (fixtures/config-creds, written by
//! scripts/gen_config_creds.py). On the `tune` split every positive is found
//! on its line and no negative is reported; on the `holdout` split (never
//! tuned on) precision and recall are measured and must stay high.

use std::path::Path;

use leakscan_scanner::scan::Scanner;
use leakscan_scanner::{Config, ScanOptions};
use serde_json::Value;

struct Record {
    label: String,
    shape: String,
    path: String,
    text: String,
    line: u64,
}

fn load(split: &str) -> Vec<Record> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/config-creds")
        .join(format!("{split}.jsonl"));
    let text = std::fs::read_to_string(&file).expect("corpus file");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("corpus line is JSON");
            let s = |k: &str| v[k].as_str().expect(k).to_string();
            Record {
                label: s("label"),
                shape: s("shape"),
                path: s("path"),
                text: s("text"),
                line: v["line"].as_u64().expect("line"),
            }
        })
        .collect()
}

/// (rule, line) of what a default scan reports for one record: generic
/// findings in docs, tests, examples and vendored code dropped as usual.
fn reported(scanner: &Scanner, r: &Record) -> Vec<(String, u64)> {
    scanner
        .scan_bytes(&r.path, r.text.as_bytes())
        .into_iter()
        .filter(|f| !scanner.generic_in_docs_or_tests(f, &r.path))
        .map(|f| (f.rule, f.line as u64))
        .collect()
}

struct Score {
    tp: usize,
    fn_: usize,
    fp: usize,
    misses: Vec<String>,
    noise: Vec<String>,
}

fn score(split: &str) -> Score {
    let scanner = Scanner::new(Config::default(), ScanOptions::default()).expect("scanner");
    let debug = std::env::var_os("LEAKSCAN_CORPUS_DEBUG").is_some();
    let mut s = Score {
        tp: 0,
        fn_: 0,
        fp: 0,
        misses: Vec::new(),
        noise: Vec::new(),
    };
    for r in load(split) {
        let found = reported(&scanner, &r);
        let shown = |r: &Record| {
            if debug {
                format!("{} {}:{} {:?}", r.shape, r.path, r.line, r.text)
            } else {
                format!("{} {}:{}", r.shape, r.path, r.line)
            }
        };
        if r.label == "pos" {
            if found.iter().any(|(_, l)| *l == r.line) {
                s.tp += 1;
            } else {
                s.fn_ += 1;
                s.misses.push(shown(&r));
            }
            // Anything else reported in a positive's file is noise too.
            let extra = found.iter().filter(|(_, l)| *l != r.line).count();
            if extra > 0 {
                s.fp += extra;
                s.noise.push(format!("{} ({found:?})", shown(&r)));
            }
        } else if !found.is_empty() {
            s.fp += found.len();
            s.noise.push(format!("{} ({found:?})", shown(&r)));
        }
    }
    s
}

#[test]
fn tune_split_every_positive_found_no_negative_reported() {
    let s = score("tune");
    assert!(s.tp >= 300, "the corpus holds at least 300 positives");
    assert!(
        s.misses.is_empty() && s.noise.is_empty(),
        "missed {}:\n  {}\nreported {}:\n  {}",
        s.misses.len(),
        s.misses.join("\n  "),
        s.noise.len(),
        s.noise.join("\n  ")
    );
}

#[test]
// The figures are the test's report (run with --nocapture).
#[allow(clippy::print_stderr)]
fn holdout_split_precision_and_recall() {
    let s = score("holdout");
    let recall = s.tp as f64 / (s.tp + s.fn_) as f64;
    let precision = s.tp as f64 / (s.tp + s.fp).max(1) as f64;
    eprintln!(
        "holdout: recall {recall:.3} ({} of {}), precision {precision:.3} ({} false)\nmissed:\n  {}\nnoise:\n  {}",
        s.tp,
        s.tp + s.fn_,
        s.fp,
        s.misses.join("\n  "),
        s.noise.join("\n  ")
    );
    assert!(recall >= 0.95, "holdout recall {recall:.3}");
    assert!(precision >= 0.95, "holdout precision {precision:.3}");
}

#[test]
fn generic_and_config_packs_prove_their_examples() {
    let packs: Vec<(String, leakscan_rules::Pack)> = leakscan_rules::builtin_packs()
        .expect("built-in packs")
        .into_iter()
        .filter(|(n, _)| matches!(*n, "generic" | "config-files"))
        .map(|(n, p)| (format!("builtin:{n}"), p))
        .collect();
    let failures = leakscan_scanner::rulecheck::check_packs(&packs).expect("check");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs `git` in `dir`, failing the test on a non-zero exit.
fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 13: files whose whole content is one secret are found by name on
/// disk, in the index and in history (judged by the first path a blob was
/// seen at, reported at each of its locations), and not under other names.
#[test]
fn secret_files_by_name_in_dir_staged_and_history() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let key = "7f3a9c0e5b1d4f8a2c6e0b9d3f7a1c5e";
    std::fs::create_dir_all(root.join("config")).unwrap();
    std::fs::create_dir_all(root.join("ssl")).unwrap();
    std::fs::write(root.join("config/master.key"), format!("{key}\n")).unwrap();
    // A legacy service token (`s.`): no content rule knows it.
    std::fs::write(root.join(".vault-token"), "s.Jq9x7VtR2mWk4pLz8nQ3sYbT").unwrap();
    // The same kind of content under names that are not secret files.
    std::fs::write(
        root.join("ssl/server.key"),
        "0b9d3f7a1c5e7f3a9c0e5b1d4f8a2c6e\n",
    )
    .unwrap();
    std::fs::write(root.join("notes.txt"), "9d3f7a1c5e7f3a9c0e5b1d4f8a2c6e0b\n").unwrap();

    let scanner = Scanner::new(Config::default(), ScanOptions::default()).expect("scanner");
    let dir = scanner.scan_dirs(&[root.to_path_buf()]).expect("dir scan");
    let mut rules: Vec<(String, String)> = dir
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.clone(),
                f.path.rsplit('/').next().unwrap_or("").to_string(),
            )
        })
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        vec![
            ("rails-master-key".to_string(), "master.key".to_string()),
            ("vault-token-file".to_string(), ".vault-token".to_string()),
        ],
        "{:?}",
        dir.findings
    );
    assert!(
        dir.findings.iter().all(|f| !f.secret.contains(key)),
        "redacted"
    );

    // Staged: the new key file is reported by the pre-commit scan.
    git(root, &["init", "-q"]);
    git(root, &["add", "config/master.key", "ssl/server.key"]);
    let repo = git2::Repository::open(root).expect("repo");
    let staged = scanner.scan_staged(&repo).expect("staged scan");
    let staged_rules: Vec<&str> = staged.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        staged_rules,
        vec!["rails-master-key"],
        "{:?}",
        staged.findings
    );

    // History: committed, then copied under another name and deleted.
    git(root, &["commit", "-q", "-m", "app"]);
    git(root, &["mv", "config/master.key", "config/old-master.txt"]);
    git(root, &["commit", "-q", "-m", "rename"]);
    let hist = scanner
        .scan_git(
            root,
            &leakscan_scanner::source::git::GitScanOptions::default(),
            None,
        )
        .expect("history scan");
    let mut at: Vec<(String, String)> = hist
        .findings
        .iter()
        .map(|f| (f.rule.clone(), f.path.clone()))
        .collect();
    at.sort();
    at.dedup();
    assert!(
        at.contains(&(
            "rails-master-key".to_string(),
            "config/master.key".to_string()
        )),
        "{at:?}"
    );
    assert!(at.iter().all(|(r, _)| r == "rails-master-key"), "{at:?}");
}

/// Password hashes are reported by `dir` and left out of `staged` by default.
#[test]
fn password_hashes_off_in_staged_by_default() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    std::fs::write(
        root.join(".htpasswd"),
        "deploy:$apr1$Qz7vK2pa$/eK62jvYzAeHSfq9yGOnx0\n",
    )
    .unwrap();
    let scanner = Scanner::new(Config::default(), ScanOptions::default()).expect("scanner");
    let dir = scanner.scan_dirs(&[root.to_path_buf()]).expect("dir scan");
    assert_eq!(dir.findings.len(), 1, "{:?}", dir.findings);
    assert_eq!(
        dir.findings[0].category,
        leakscan_rules::Category::PasswordHash
    );
    git(root, &["init", "-q"]);
    git(root, &["add", ".htpasswd"]);
    let repo = git2::Repository::open(root).expect("repo");
    let staged = scanner.scan_staged(&repo).expect("staged scan");
    assert!(staged.findings.is_empty(), "{:?}", staged.findings);
    assert_eq!(
        staged.stats.suppressed.get("password-hash (off in staged)"),
        Some(&1)
    );
    let mut config = Config::default();
    config.rules.password_hashes_in_staged = true;
    let on = Scanner::new(config, ScanOptions::default()).expect("scanner");
    assert_eq!(on.scan_staged(&repo).expect("staged").findings.len(), 1);
}
