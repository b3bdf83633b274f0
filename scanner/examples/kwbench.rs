//! The keyword prefilter alone: every keyword occurrence in the files
//! under DIR (loaded first), single-threaded, best of ROUNDS.
//! `cargo run --release -p leakscan-scanner --example kwbench -- DIR MB ROUNDS`
//!
//! `KWBENCH_EXTRA=FILE` adds keywords (one per line) to the rules' own, to
//! see how the search scales; each plan for four-byte prefixes (Teddy
//! searchers only, the hashed table only, the default) is timed, or only
//! the one named by `KWBENCH_PLAN` (`teddy`, `hashed`, `default`).

#![allow(clippy::print_stdout)]

use std::time::Instant;

use leakscan_scanner::keywords::KeywordSearch;

mod common;

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: kwbench DIR MB ROUNDS";
    let dir = args.next().expect(usage);
    let cap: u64 = args.next().expect(usage).parse::<u64>().expect("MB") * 1_000_000;
    let rounds: usize = args.next().expect(usage).parse().expect("ROUNDS");
    let (blobs, total) = common::load(&dir, cap);
    let mut keywords: Vec<String> = Vec::new();
    for (_, p) in common::builtin_packs() {
        for r in p.rules {
            for k in r.keywords {
                let k = k.to_ascii_lowercase();
                if !keywords.contains(&k) {
                    keywords.push(k);
                }
            }
        }
    }
    if let Ok(extra) = std::env::var("KWBENCH_EXTRA") {
        let text = std::fs::read_to_string(&extra).expect("KWBENCH_EXTRA file");
        for k in text.lines().map(str::trim).filter(|k| !k.is_empty()) {
            let k = k.to_ascii_lowercase();
            if !keywords.contains(&k) {
                keywords.push(k);
            }
        }
    }
    let plans: [(&str, Option<usize>); 3] = [
        ("teddy", Some(usize::MAX)),
        ("hashed", Some(0)),
        ("default", None),
    ];
    let only = std::env::var("KWBENCH_PLAN").ok();
    for (plan, limit) in plans {
        if only.as_deref().is_some_and(|o| o != plan) {
            continue;
        }
        let t = Instant::now();
        let ks = match limit {
            Some(l) => KeywordSearch::with_teddy_limit(&keywords, l),
            None => KeywordSearch::new(&keywords),
        }
        .expect("keywords");
        let build = t.elapsed();
        let mut best = f64::MAX;
        let mut hits = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            hits = blobs.iter().map(|b| ks.hits(b).0.len()).sum::<usize>();
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "{plan:>8}: {} keywords, built in {:.2} ms; {} files, {:.1} MB: best {:.3} s, {:.1} MB/s, {hits} hits",
            keywords.len(),
            build.as_secs_f64() * 1e3,
            blobs.len(),
            total as f64 / 1e6,
            best,
            total as f64 / 1e6 / best
        );
    }
}
