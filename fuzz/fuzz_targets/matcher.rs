//! Fuzz target: the matcher over arbitrary bytes with every built-in rule,
//! with and without `explain`, and the finding layer on top of it.
#![no_main]

use std::sync::OnceLock;

use leakscan_scanner::scan::Scanner;
use leakscan_scanner::{Config, ScanOptions};
use libfuzzer_sys::fuzz_target;

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| {
        Scanner::new(Config::default(), ScanOptions::default()).expect("built-in rules")
    })
}

fuzz_target!(|data: &[u8]| {
    let s = scanner();
    let explained = s.matcher.scan_blob(data, true);
    let plain = s.matcher.scan_blob(data, false);
    // Explain keeps rejected candidates, never loses reported ones.
    let reported = explained
        .matches
        .iter()
        .filter(|m| m.rejected.is_none())
        .count();
    assert_eq!(reported, plain.matches.len());
    for m in &plain.matches {
        assert!(m.start <= m.end && m.end <= data.len());
    }
    let findings = s.findings_from("fuzz", data, &plain.matches);
    for f in &findings {
        assert!(f.line >= 1 && f.column >= 1);
        assert!(!f.secret.contains('\x1b'));
    }
});
