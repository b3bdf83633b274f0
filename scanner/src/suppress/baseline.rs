//! Baselines: the fingerprints of findings already accepted, so a scan
//! reports only new ones. Written one entry per line in a stable order with
//! no secrets, line numbers, commits or timestamps, so the file diffs and
//! merges cleanly. A previous JSON or JSON-lines report (or SARIF with
//! leakscan fingerprints) is read as a baseline too.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use super::check_fingerprint;
use crate::finding::Finding;

/// One baseline line: the fingerprint (rule and hash) and the path it was
/// seen at. Matching uses the fingerprint only; the path helps reviewers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct BaselineEntry {
    pub path: String,
    pub fingerprint: String,
    pub rule: String,
}

/// Sorted (path, fingerprint) and de-duplicated entries for `findings`.
pub fn entries(findings: &[Finding]) -> Vec<BaselineEntry> {
    let set: BTreeSet<BaselineEntry> = findings
        .iter()
        .map(|f| BaselineEntry {
            path: crate::sanitize::sanitize(&f.path),
            fingerprint: f.fingerprint.clone(),
            rule: f.rule.clone(),
        })
        .collect();
    set.into_iter().collect()
}

const TEXT_HEADER: &str = "# leakscan baseline: accepted findings, one `FINGERPRINT PATH` per line.\n\
# Fingerprints are rule:hash (no secret, no line number). Regenerate with\n\
# `leakscan baseline create`; use with `--baseline FILE`.\n";

/// The text form: a fixed header, then `fingerprint path` lines.
pub fn write_text(entries: &[BaselineEntry], out: &mut dyn Write) -> Result<()> {
    out.write_all(TEXT_HEADER.as_bytes())?;
    for e in entries {
        writeln!(out, "{} {}", e.fingerprint, e.path)?;
    }
    Ok(())
}

/// The JSON form: an array with one object per line.
pub fn write_json(entries: &[BaselineEntry], out: &mut dyn Write) -> Result<()> {
    writeln!(out, "[")?;
    for (i, e) in entries.iter().enumerate() {
        let sep = if i + 1 == entries.len() { "" } else { "," };
        writeln!(out, "{}{sep}", serde_json::to_string(e)?)?;
    }
    writeln!(out, "]")?;
    Ok(())
}

/// A loaded baseline: the set of accepted fingerprints.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    pub path: PathBuf,
    pub fingerprints: BTreeSet<String>,
}

impl Baseline {
    /// Reads a baseline (text, JSON array, JSON lines, or SARIF); errors
    /// name the file and line.
    pub fn load(path: &Path) -> Result<Baseline> {
        let data =
            std::fs::read(path).with_context(|| format!("reading baseline {}", path.display()))?;
        let text = String::from_utf8(data)
            .map_err(|_| anyhow::anyhow!("baseline {} is not valid UTF-8", path.display()))?;
        let fingerprints = parse(&crate::paths::display_path(path), &text)?;
        Ok(Baseline {
            path: path.to_path_buf(),
            fingerprints,
        })
    }

    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }
}

/// Parses any accepted baseline form; `name` is used in errors.
pub fn parse(name: &str, text: &str) -> Result<BTreeSet<String>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return parse_json_array(name, text);
    }
    if trimmed.starts_with('{') {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(text)
            && v.get("runs").is_some()
        {
            return parse_sarif(name, &v);
        }
        return parse_json_lines(name, text);
    }
    parse_text(name, text)
}

fn parse_text(name: &str, text: &str) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fp = line.split_whitespace().next().unwrap_or_default();
        check_fingerprint(fp).map_err(|e| {
            anyhow::anyhow!(
                "baseline {name}:{}: {e} (each line is `FINGERPRINT PATH`, as `leakscan baseline create` writes)",
                i + 1
            )
        })?;
        out.insert(fp.to_string());
    }
    Ok(out)
}

fn object_fingerprint(v: &serde_json::Value) -> Result<String, String> {
    let fp = v
        .get("fingerprint")
        .and_then(|f| f.as_str())
        .ok_or("an entry has no \"fingerprint\" string")?;
    check_fingerprint(fp)?;
    Ok(fp.to_string())
}

/// 1-based line of byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn parse_json_array(name: &str, text: &str) -> Result<BTreeSet<String>> {
    let items: Vec<serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("baseline {name}:{}: invalid JSON: {e}", e.line()))?;
    let starts = element_starts(text);
    let mut out = BTreeSet::new();
    for (k, v) in items.iter().enumerate() {
        let fp = object_fingerprint(v).map_err(|e| {
            let line = starts.get(k).map_or(1, |o| line_of(text, *o));
            anyhow::anyhow!("baseline {name}:{line}: {e}")
        })?;
        out.insert(fp);
    }
    Ok(out)
}

/// Byte offsets where each element of a top-level JSON array starts (the
/// text is already known to be valid JSON).
fn element_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let (mut depth, mut in_str, mut esc, mut want) = (0usize, false, false, false);
    for (i, b) in text.bytes().enumerate() {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        if want && !b.is_ascii_whitespace() && b != b']' {
            starts.push(i);
            want = false;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if depth == 1 {
                    want = true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => want = true,
            _ => {}
        }
    }
    starts
}

fn parse_json_lines(name: &str, text: &str) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("baseline {name}:{}: invalid JSON: {e}", i + 1))?;
        let fp = object_fingerprint(&v)
            .map_err(|e| anyhow::anyhow!("baseline {name}:{}: {e}", i + 1))?;
        out.insert(fp);
    }
    Ok(out)
}

/// SARIF: every leakscan fingerprint found in results' `partialFingerprints`
/// or `fingerprints`.
fn parse_sarif(name: &str, v: &serde_json::Value) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let runs = v["runs"].as_array().map(Vec::as_slice).unwrap_or_default();
    for run in runs {
        let results = run["results"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for r in results {
            for key in ["partialFingerprints", "fingerprints"] {
                if let Some(map) = r[key].as_object() {
                    for val in map.values().filter_map(|x| x.as_str()) {
                        if check_fingerprint(val).is_ok() {
                            out.insert(val.to_string());
                        }
                    }
                }
            }
        }
    }
    if out.is_empty()
        && runs
            .iter()
            .any(|r| r["results"].as_array().is_some_and(|a| !a.is_empty()))
    {
        anyhow::bail!("baseline {name}: SARIF file whose results carry no leakscan fingerprint");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "github-token:0123456789abcdef";
    const B: &str = "entra-client-secret:fedcba9876543210";

    #[test]
    fn text_and_json_round_trip() {
        let e = vec![
            BaselineEntry {
                path: "a b.txt".into(),
                fingerprint: A.into(),
                rule: "github-token".into(),
            },
            BaselineEntry {
                path: "z".into(),
                fingerprint: B.into(),
                rule: "entra-client-secret".into(),
            },
        ];
        let mut t = Vec::new();
        write_text(&e, &mut t).unwrap();
        let mut j = Vec::new();
        write_json(&e, &mut j).unwrap();
        let want: BTreeSet<String> = [A.to_string(), B.to_string()].into();
        assert_eq!(parse("t", std::str::from_utf8(&t).unwrap()).unwrap(), want);
        assert_eq!(parse("j", std::str::from_utf8(&j).unwrap()).unwrap(), want);
        let jl = format!("{{\"fingerprint\":\"{A}\"}}\n{{\"fingerprint\":\"{B}\"}}\n");
        assert_eq!(parse("jl", &jl).unwrap(), want);
    }

    #[test]
    fn errors_name_the_line() {
        let t = format!("# c\n{A} x\nnot-a-fp\n");
        let err = parse("b.txt", &t).unwrap_err().to_string();
        assert!(err.contains("b.txt:3"), "{err}");
        let j = format!("[\n{{\"fingerprint\":\"{A}\"}},\n{{\"rule\":\"x\"}}\n]\n");
        let err = parse("b.json", &j).unwrap_err().to_string();
        assert!(err.contains("b.json:3"), "{err}");
        let err = parse("b.json", "[\n{\"fingerprint\":")
            .unwrap_err()
            .to_string();
        assert!(err.contains("b.json:2"), "{err}");
    }
}
