//! `--stats FILE` (the scan's counters as JSON) and the `--strict` verdict.

use std::path::Path;

use anyhow::{Context, Result};
use leakscan_scanner::Stats;

/// Writes the counters as a JSON object; `incomplete` is what `--strict`
/// fails on.
pub fn write(path: &Path, stats: &Stats) -> Result<()> {
    let mut value = serde_json::to_value(stats).context("serializing the scan stats")?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("incomplete".into(), stats.incomplete_total().into());
    }
    let text = serde_json::to_string_pretty(&value).context("serializing the scan stats")?;
    std::fs::write(path, text + "\n")
        .with_context(|| format!("writing stats file {}", path.display()))
}

/// What `--strict` prints before exiting 2.
pub fn strict_message(stats: &Stats) -> String {
    let parts: Vec<String> = stats
        .skipped
        .iter()
        .filter(|(k, _)| !leakscan_scanner::stats::DELIBERATE_SKIPS.contains(&k.as_str()))
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    // The advice fits the reasons: only a too-large skip is helped by a
    // larger --max-file-size.
    let too_large = leakscan_scanner::stats::reason::TOO_LARGE;
    let mut fixes = Vec::new();
    if stats.skipped.contains_key(too_large) {
        fixes.push("raise --max-file-size");
    }
    if stats
        .skipped
        .keys()
        .any(|k| k != too_large && !leakscan_scanner::stats::DELIBERATE_SKIPS.contains(&k.as_str()))
    {
        fixes.push("fix the unreadable inputs (see the read errors above)");
    }
    fixes.push("or drop --strict");
    format!(
        "leakscan: error: --strict: the scan is incomplete ({}); {}",
        parts.join(", "),
        fixes.join(", ")
    )
}
