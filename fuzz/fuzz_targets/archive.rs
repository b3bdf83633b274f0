//! Fuzz target: the archive reader (zip, tar, gzip, bzip2, xz, zstd) on
//! hostile bytes, nested as the scanner nests it: every entry, skip and
//! error stays within the limits, never a panic, never more bytes than the
//! budget.
#![no_main]

use leakscan_scanner::source::extract::{self, Budget, Limits, Skip, Visitor};
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits {
    depth: 3,
    total: 8 * 1024 * 1024,
    entry: 1024 * 1024,
    ratio: 200,
    entries: 1000,
};

struct Walk<'a> {
    budget: &'a Budget,
    depth: u32,
    entries: u64,
    bytes: u64,
}

impl Visitor for Walk<'_> {
    fn entry(&mut self, name: &str, data: &[u8]) {
        assert!(data.len() as u64 <= LIMITS.entry);
        let _ = extract::escape_entry(name);
        self.entries += 1;
        self.bytes += data.len() as u64;
        if let Some(kind) = extract::detect(data)
            && self.depth < LIMITS.depth
        {
            let mut child = Walk {
                budget: self.budget,
                depth: self.depth + 1,
                entries: 0,
                bytes: 0,
            };
            extract::open(kind, name, data, &LIMITS, self.budget, &mut child);
            self.entries += child.entries;
        }
    }

    fn skip(&mut self, why: Skip) {
        assert!(why.reason().starts_with("archive-"));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(kind) = extract::detect(data) else {
        return;
    };
    let budget = Budget::new(&LIMITS);
    let mut walk = Walk {
        budget: &budget,
        depth: 1,
        entries: 0,
        bytes: 0,
    };
    extract::open(kind, "fuzz", data, &LIMITS, &budget, &mut walk);
    assert!(walk.entries <= LIMITS.entries.pow(3) + 3);
});
