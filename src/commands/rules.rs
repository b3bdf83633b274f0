//! `leakscan rules list` and `leakscan rules check`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use leakscan_scanner::Config;
use leakscan_scanner::scan::{Scanner, all_packs};

use crate::args::{RulesCommand, RulesFormat};

pub fn run(command: RulesCommand) -> Result<u8> {
    match command {
        RulesCommand::List { config, format } => {
            let config = Config::discover(config.as_deref(), Path::new("."))?;
            // Every field of every rule, examples included.
            let packs = all_packs(&config)?;
            let scanner = Scanner::with_packs(config, Default::default(), packs)?;
            let rules = &scanner.matcher.rules().rules;
            let stdout = std::io::stdout();
            let mut w = stdout.lock();
            match format {
                RulesFormat::Json | RulesFormat::Jsonl => {
                    let list: Vec<_> = rules
                        .iter()
                        .map(|r| {
                            // Every field of the rule, plus the pack it came from.
                            let mut v = serde_json::to_value(&r.rule)
                                .unwrap_or_else(|_| serde_json::json!({"id": r.rule.id}));
                            if let Some(o) = v.as_object_mut() {
                                o.insert("pack".into(), serde_json::json!(r.pack));
                            }
                            v
                        })
                        .collect();
                    if format == RulesFormat::Json {
                        serde_json::to_writer_pretty(&mut w, &list)?;
                        writeln!(w)?;
                    } else {
                        for v in &list {
                            serde_json::to_writer(&mut w, v)?;
                            writeln!(w)?;
                        }
                    }
                }
                RulesFormat::Text => {
                    for r in rules {
                        writeln!(
                            w,
                            "{:<36} {:<14} {:<22} {}{}",
                            r.rule.id,
                            r.rule.category,
                            r.rule.provider.as_deref().unwrap_or("-"),
                            r.rule.name,
                            r.rule
                                .verify
                                .as_deref()
                                .map(|v| format!(" [verify: {v}]"))
                                .unwrap_or_default()
                        )?;
                    }
                }
            }
            Ok(0)
        }
        RulesCommand::Check { file } => {
            let packs = match &file {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("reading rule pack {}", path.display()))?;
                    let name = path.display().to_string();
                    vec![(name.clone(), leakscan_rules::parse_pack(&name, &text)?)]
                }
                None => all_packs(&Config::default())?,
            };
            let failures = leakscan_scanner::rulecheck::check_packs(&packs)?;
            let total: usize = packs.iter().map(|(_, p)| p.rules.len()).sum();
            let mut w = std::io::stdout().lock();
            let rules = plural(total, "rule");
            if failures.is_empty() {
                writeln!(
                    w,
                    "{rules}: every example matches and no counterexample does"
                )?;
                Ok(0)
            } else {
                for f in &failures {
                    writeln!(w, "{f}")?;
                }
                writeln!(w, "{} in {rules}", plural(failures.len(), "failure"))?;
                Ok(1)
            }
        }
    }
}

/// `1 rule`, `2 rules`.
fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}
