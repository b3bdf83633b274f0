//! Fuzz target: finding and decoding base64 runs in arbitrary bytes: every
//! decoded run is text, and every span maps back inside the input, never
//! a panic.
#![no_main]

use leakscan_scanner::encoded::Decoded;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let d = Decoded::of(data);
    assert!(!d.text.contains(&0));
    let n = d.text.len();
    for (s, e) in [(0, n.min(7)), (n / 3, n / 2), (n.saturating_sub(5), n)] {
        if let Some((a, b)) = d.to_blob(s, e) {
            assert!(a <= b && b <= data.len(), "{a}..{b} of {}", data.len());
        }
    }
});
