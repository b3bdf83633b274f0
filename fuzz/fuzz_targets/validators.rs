//! Fuzz target: JWT, PEM and PKCS#12 decoding through the validator
//! dispatch, on arbitrary candidate spans of arbitrary bytes.
#![no_main]

use leakscan_scanner::validate::{self, Candidate};
use libfuzzer_sys::fuzz_target;

const VALIDATORS: &[&str] = &[
    "jwt",
    "pem-private-key",
    "pkcs12",
    "entra-secret",
    "github-checksum",
    "placeholder",
    "url-credentials",
    "jwk-private",
    "saml-signed",
    "base64-key",
];

fuzz_target!(|input: &[u8]| {
    // First byte picks the validator, the next two split the data into the
    // candidate span; the rest is the blob.
    if input.len() < 3 {
        return;
    }
    let name = VALIDATORS[input[0] as usize % VALIDATORS.len()];
    let data = &input[3..];
    let a = (input[1] as usize * data.len()) / 256;
    let b = a + ((input[2] as usize * (data.len() - a)) / 255);
    let c = Candidate {
        start: a,
        end: b.min(data.len()),
        match_start: a.saturating_sub(input[1] as usize % 8),
        match_end: b.min(data.len()),
    };
    let _ = validate::validate(name, &c, data);
    let whole = Candidate {
        start: 0,
        end: data.len(),
        match_start: 0,
        match_end: data.len(),
    };
    let _ = validate::validate(name, &whole, data);
    for s in validate::structural("pkcs12", data) {
        assert!(s.start <= s.end && s.end <= data.len());
        let _ = validate::validate("pkcs12", &s, data);
    }
});
