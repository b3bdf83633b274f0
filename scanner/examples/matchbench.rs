//! Matcher throughput on files loaded into memory first, single-threaded,
//! so only matching is timed: `cargo run --release -p leakscan-scanner
//! --example matchbench -- DIR [MB]`. Prints MB/s and the matches found.

#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::time::Instant;

use leakscan_scanner::matcher::{Matcher, RuleSet};

mod common;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: matchbench DIR [MB]");
    let cap: u64 = args.next().map_or(200, |s| s.parse().expect("MB")) * 1_000_000;
    let (blobs, total) = common::load(&dir, cap);
    let packs = common::builtin_packs();
    let m = Matcher::new(RuleSet::build(&packs, &[], &BTreeMap::new(), &[]).expect("rules"))
        .expect("matcher");
    // Warm-up (lazy regex compilation), then the timed pass.
    let warm: usize = blobs.iter().take(2000).map(|b| m.scan(b).len()).sum();
    let t = Instant::now();
    let found: usize = blobs.iter().map(|b| m.scan(b).len()).sum();
    let s = t.elapsed().as_secs_f64();
    println!(
        "{} files, {:.1} MB: {:.3} s, {:.1} MB/s, {} matches ({} in warm-up)",
        blobs.len(),
        total as f64 / 1e6,
        s,
        total as f64 / 1e6 / s,
        found,
        warm
    );
}
