//! Proves rule packs against their own examples: every example gives a
//! finding of its rule, no counterexample does, and every example holds one
//! of the rule's keywords (else the prefilter would hide the rule).

use std::collections::BTreeMap;

use anyhow::Result;
use leakscan_rules::Pack;

use crate::matcher::{Matcher, RuleSet};

/// Human-readable failures; empty when every rule holds.
pub fn check_packs(packs: &[(String, Pack)]) -> Result<Vec<String>> {
    let mut failures = Vec::new();
    for (pack_name, pack) in packs {
        for rule in &pack.rules {
            let single = Pack {
                rules: vec![rule.clone()],
            };
            let set = RuleSet::build(&[(pack_name.clone(), single)], &[], &BTreeMap::new(), &[])?;
            let matcher = Matcher::new(set)?;
            // Structural (binary) rules are proven by fixture files instead.
            if rule.examples.is_empty() && !rule.binary {
                failures.push(format!("{pack_name}: rule `{}` has no examples", rule.id));
            }
            for ex in &rule.examples {
                if !rule.keywords.is_empty() {
                    let lower = ex.to_ascii_lowercase();
                    if !rule
                        .keywords
                        .iter()
                        .any(|k| lower.contains(&k.to_ascii_lowercase()))
                    {
                        failures.push(format!(
                            "{pack_name}: rule `{}`: example {:?} contains none of its keywords",
                            rule.id,
                            preview(ex)
                        ));
                        continue;
                    }
                }
                if matcher.scan(ex.as_bytes()).is_empty() {
                    let why = matcher
                        .scan_blob(ex.as_bytes(), true)
                        .matches
                        .into_iter()
                        .filter_map(|m| m.rejected.map(|(_, r)| r))
                        .next()
                        .unwrap_or_else(|| "the pattern does not match".into());
                    failures.push(format!(
                        "{pack_name}: rule `{}`: example {:?} gives no finding ({why})",
                        rule.id,
                        preview(ex)
                    ));
                }
            }
            for cx in &rule.counterexamples {
                if !matcher.scan(cx.as_bytes()).is_empty() {
                    failures.push(format!(
                        "{pack_name}: rule `{}`: counterexample {:?} gives a finding",
                        rule.id,
                        preview(cx)
                    ));
                }
            }
        }
    }
    Ok(failures)
}

fn preview(s: &str) -> String {
    let p: String = s.chars().take(60).collect();
    if p.len() < s.len() {
        format!("{p}…")
    } else {
        p
    }
}
