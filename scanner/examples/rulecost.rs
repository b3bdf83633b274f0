//! What a set of rules costs the matcher: the built-in rules with and
//! without the given rule ids, alternated on the same in-memory files,
//! single-threaded, best of N each. `cargo run --release -p leakscan-scanner
//! --example rulecost -- DIR MB ROUNDS RULE_ID...` prints both times and
//! their ratio, and the matches each found.

#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::time::Instant;

use leakscan_scanner::matcher::{Matcher, RuleSet};

mod common;

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: rulecost DIR MB ROUNDS RULE_ID...";
    let dir = args.next().expect(usage);
    let cap: u64 = args.next().expect(usage).parse::<u64>().expect("MB") * 1_000_000;
    let rounds: usize = args.next().expect(usage).parse().expect("ROUNDS");
    let without: Vec<String> = args.collect();
    let (blobs, total) = common::load(&dir, cap);
    let packs = common::builtin_packs();
    let build = |disabled: &[String]| {
        Matcher::new(RuleSet::build(&packs, disabled, &BTreeMap::new(), &[]).expect("rules"))
            .expect("matcher")
    };
    let base = build(&without);
    let rare = std::env::var("RULECOST_RARE_KEYWORDS").ok();
    let all = if let Some(how) = rare {
        // Diagnostic: the given rules keep their patterns but trigger on
        // keywords that never occur: one shared keyword (`one`) isolates
        // what the rules cost beyond the prefilter; one distinct keyword per
        // rule (`distinct`) adds what more keyword prefixes cost without
        // any more hits.
        let packs: Vec<_> = packs
            .iter()
            .map(|(n, p)| {
                let mut p = p.clone();
                for r in &mut p.rules {
                    if without.contains(&r.id) {
                        r.keywords = vec![if how == "distinct" {
                            // A distinct 4-byte prefix per rule.
                            let n = without.iter().position(|w| w == &r.id).unwrap_or(0);
                            format!(
                                "q{}{}zqzq",
                                (b'a' + (n / 26) as u8) as char,
                                (b'a' + (n % 26) as u8) as char
                            )
                        } else {
                            "zqzqzqzq".to_string()
                        }];
                    }
                }
                (n.clone(), p)
            })
            .collect();
        Matcher::new(RuleSet::build(&packs, &[], &BTreeMap::new(), &[]).expect("rules"))
            .expect("matcher")
    } else {
        build(&[])
    };
    let run = |m: &Matcher| {
        let t = Instant::now();
        let found: usize = blobs.iter().map(|b| m.scan(b).len()).sum();
        (t.elapsed().as_secs_f64(), found)
    };
    // Warm-up: lazy regex compilation and page faults.
    run(&base);
    run(&all);
    let (mut best_base, mut best_all) = (f64::MAX, f64::MAX);
    let (mut found_base, mut found_all) = (0, 0);
    for _ in 0..rounds.max(1) {
        let (s, f) = run(&base);
        best_base = best_base.min(s);
        found_base = f;
        let (s, f) = run(&all);
        best_all = best_all.min(s);
        found_all = f;
    }
    let mb = total as f64 / 1e6;
    println!(
        "{} files, {mb:.1} MB; without {} rules: {best_base:.3} s ({:.0} MB/s, {found_base} matches); all {} rules: {best_all:.3} s ({:.0} MB/s, {found_all} matches); ratio {:.3}",
        blobs.len(),
        without.len(),
        mb / best_base,
        all.rules().rules.len(),
        mb / best_all,
        best_all / best_base
    );
}
