//! Fuzz target: the pack reader's parsers on hostile bytes: entry headers,
//! delta application (a base and a delta split from the input), pack index
//! files and raw trees. Every bound must hold: errors, never panics.
#![no_main]

use leakscan_scanner::source::pack::{self, PackIndex};
use leakscan_scanner::source::trees;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&split, rest)) = input.split_first() else {
        return;
    };
    let _ = pack::parse_entry_header(rest);
    let at = (split as usize * rest.len()) / 255;
    let (base, delta) = rest.split_at(at.min(rest.len()));
    let mut out = Vec::new();
    if pack::apply_delta(base, delta, &mut out).is_ok() {
        assert_eq!(
            pack::delta_target_size(base.len(), delta).ok(),
            Some(out.len() as u64)
        );
    }
    if let Ok(index) = PackIndex::parse(rest) {
        for pos in 0..index.len() {
            let _ = index.offset(pos);
        }
    }
    let mut n = 0usize;
    let _ = trees::parse(rest, |_, name, _| n += name.len());
});
