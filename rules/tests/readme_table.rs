//! The README's rule table is generated from the built-in packs. This test
//! fails when the table is stale; `LEAKSCAN_BLESS=1 cargo test -p
//! leakscan-rules --test readme_table` rewrites it.

use std::collections::BTreeMap;
use std::path::Path;

const BEGIN: &str =
    "<!-- rules-table:begin (generated from rules/packs by rules/tests/readme_table.rs) -->";
const END: &str = "<!-- rules-table:end -->";

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn table() -> String {
    let packs = leakscan_rules::builtin_packs().expect("built-in packs parse");
    // Provider -> (rule ids, verifiers)
    let mut by_provider: BTreeMap<String, (Vec<String>, Vec<String>, &str)> = BTreeMap::new();
    let mut rules = 0;
    for (pack, p) in &packs {
        for r in &p.rules {
            rules += 1;
            let provider = r.provider.clone().unwrap_or_else(|| "-".into());
            let e = by_provider
                .entry(provider)
                .or_insert_with(|| (Vec::new(), Vec::new(), pack));
            e.0.push(format!("`{}`", r.id));
            if let Some(v) = &r.verify
                && !e.1.contains(v)
            {
                e.1.push(v.clone());
            }
        }
    }
    let mut out = String::new();
    out.push_str(&format!(
        "{} rules for {} providers.\n\n| provider | pack | rules | verified by |\n| --- | --- | --- | --- |\n",
        rules,
        by_provider.len()
    ));
    let mut rows: Vec<_> = by_provider.into_iter().collect();
    rows.sort_by_key(|(p, _)| p.to_lowercase());
    for (provider, (ids, verifiers, pack)) in rows {
        let verified = if verifiers.is_empty() {
            "-".to_string()
        } else {
            verifiers
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            cell(&provider),
            pack,
            ids.join(", "),
            verified
        ));
    }
    out
}

#[test]
fn readme_rule_table_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md is readable");
    let (Some(b), Some(e)) = (readme.find(BEGIN), readme.find(END)) else {
        panic!("README.md lacks the rule table markers {BEGIN:?} … {END:?}");
    };
    let current = &readme[b + BEGIN.len()..e];
    let want = format!("\n{}", table());
    if current == want {
        return;
    }
    if std::env::var_os("LEAKSCAN_BLESS").is_some() {
        let updated = format!("{}{}{}", &readme[..b + BEGIN.len()], want, &readme[e..]);
        std::fs::write(&path, updated).expect("README.md is writable");
        return;
    }
    panic!(
        "the README's rule table is stale: run `LEAKSCAN_BLESS=1 cargo test -p leakscan-rules --test readme_table`"
    );
}
