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
