//! Fuzz target: rule-pack and config TOML parsing, and compiling whatever
//! parses into a rule set (hostile patterns must fail cleanly, not panic).
#![no_main]

use leakscan_scanner::{Config, RuleSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(pack) = leakscan_rules::parse_pack("fuzz.toml", text) {
        let _ = RuleSet::build(
            &[("fuzz.toml".to_string(), pack)],
            &[],
            &Default::default(),
            &[],
        );
    }
    if let Ok(config) = Config::parse(text, "fuzz.leakscan.toml") {
        let _ = RuleSet::build(
            &[],
            &config.rules.disable,
            &config.rules.entropy,
            &config.allow.secrets,
        );
    }
});
