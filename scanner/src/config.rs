//! The user's configuration (`.leakscan.toml` at the scanned root, or
//! `--config FILE`): extra rule packs, disabled rules, entropy overrides and
//! allowlists. It can never name a verification endpoint: those come only
//! from the command line or the environment of the person running the scan.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

pub const DEFAULT_CONFIG: &str = ".leakscan.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub rules: RulesConfig,
    #[serde(default)]
    pub allow: AllowConfig,
    /// Directory the config came from; relative pack paths resolve here.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The file it was read from, for messages.
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// The file's text, to point at the line of a bad value.
    #[serde(skip)]
    pub text: String,
    /// The scanned root it was discovered for ([`Config::discover`]): where
    /// `.leakscanignore` is looked up and what path scopes are relative to.
    #[serde(skip)]
    pub root: PathBuf,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Extra rule pack files (TOML), relative to the config file.
    #[serde(default)]
    pub packs: Vec<PathBuf>,
    /// Rule ids to turn off.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Entropy floor overrides by rule id.
    #[serde(default)]
    pub entropy: BTreeMap<String, f32>,
    /// Report generic (format-less) findings in documentation, tests and
    /// examples too (see [`crate::pathclass`]); off by default.
    #[serde(default)]
    pub generic_in_docs_and_tests: bool,
    /// Report `password-hash` findings in `staged` (the pre-commit hook)
    /// too; off by default: hashes of seed and fixture users are common
    /// in commits, and CI and history scans still report them.
    #[serde(default)]
    pub password_hashes_in_staged: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowConfig {
    /// Globs of paths (relative to the scanned root) never scanned.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes; a secret matching one is not reported.
    #[serde(default)]
    pub secrets: Vec<String>,
}

/// Where `.leakscan.toml` and `.leakscanignore` are looked up for a scan
/// starting at `start` (a file or a folder), and what reported paths are
/// judged relative to (path scopes, `allow.paths`, docs and tests): the
/// nearest folder, from `start`'s up to the repository's top folder (the
/// first holding `.git`), that holds either file, as git and ripgrep find
/// their files; else the repository's top folder; `start`'s folder outside
/// a repository. Written relative to `start` when `start` is
/// relative (`sub/..` becomes `.`, `.` one level down becomes `..`), so
/// reported paths and path scopes stay comparable.
pub fn project_root(start: &Path) -> PathBuf {
    let dir = if start.is_dir() {
        start.to_path_buf()
    } else {
        match start.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    };
    let Ok(abs) = dir.canonicalize() else {
        return dir;
    };
    let above = |up: usize| {
        if up == 0 {
            dir.clone()
        } else {
            normalize(&(0..up).fold(dir.clone(), |p, _| p.join("..")))
        }
    };
    for (up, d) in abs.ancestors().enumerate() {
        let has = |name: &str| d.join(name).is_file();
        if has(DEFAULT_CONFIG) || has(crate::suppress::IGNORE_FILE) || d.join(".git").exists() {
            return above(up);
        }
    }
    dir
}

/// Removes `.` and `name/..` pairs lexically (`sub/..` → `.`).
fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

impl Config {
    /// Reads and validates a config file; errors name the file, line and key.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        let mut config = Config::parse(&text, &path.display().to_string())?;
        config.text = text;
        config.base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        config.source = Some(path.to_path_buf());
        Ok(config)
    }

    /// Parses and validates config text; `name` (a file path) labels errors.
    /// Relative pack paths resolve against the current directory until the
    /// caller sets `base_dir`.
    pub fn parse(text: &str, name: &str) -> Result<Config> {
        let config: Config = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("invalid config {name}: {}", e.to_string().trim_end()))?;
        config
            .path_globs()
            .with_context(|| format!("invalid config {name}"))?;
        for p in &config.allow.secrets {
            regex::bytes::RegexBuilder::new(p)
                .size_limit(leakscan_rules::REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| {
                    anyhow::anyhow!("invalid config {name}: allow.secrets: bad regex {p:?}: {e}")
                })?;
        }
        Ok(config)
    }

    /// `explicit` if given (it must exist), else `.leakscan.toml` in the
    /// project root ([`project_root`] of `start`) if present, else the
    /// defaults. Every command finds the same config for the same files.
    pub fn discover(explicit: Option<&Path>, start: &Path) -> Result<Config> {
        let dir = project_root(start);
        let mut config = Config::discover_in(explicit, &dir)?;
        config.root = dir;
        Ok(config)
    }

    fn discover_in(explicit: Option<&Path>, dir: &Path) -> Result<Config> {
        if let Some(p) = explicit {
            if !p.is_file() {
                bail!(
                    "config file {} does not exist (check --config)",
                    p.display()
                );
            }
            return Config::load(p);
        }
        let candidate = dir.join(DEFAULT_CONFIG);
        if candidate.is_file() {
            Config::load(&candidate)
        } else {
            Ok(Config::default())
        }
    }

    /// Every rule id the config names (`disable`, `entropy`) must be one of
    /// `known`: a typo would silently leave the rule on. The error names the
    /// file, the line and the closest known id.
    pub fn check_rule_ids(&self, known: &[&str]) -> Result<()> {
        let named = self
            .rules
            .disable
            .iter()
            .map(|id| ("rules.disable", id))
            .chain(self.rules.entropy.keys().map(|id| ("rules.entropy", id)));
        for (key, id) in named {
            if known.contains(&id.as_str()) {
                continue;
            }
            let file = self
                .source
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "the config".into());
            let line = self
                .text
                .lines()
                .position(|l| l.contains(&format!("\"{id}\"")) || l.contains(&format!("'{id}'")))
                .map(|n| format!(":{}", n + 1))
                .unwrap_or_default();
            let hint = closest(id, known)
                .map(|k| format!(" (did you mean `{k}`? `leakscan rules list` shows every id)"))
                .unwrap_or_else(|| " (`leakscan rules list` shows every id)".into());
            bail!(
                "invalid config {file}{line}: {key}: unknown rule id `{}`{hint}",
                crate::sanitize::sanitize(id)
            );
        }
        Ok(())
    }

    /// The path allowlist compiled.
    pub fn path_globs(&self) -> Result<GlobSet> {
        let mut b = GlobSetBuilder::new();
        for g in &self.allow.paths {
            b.add(Glob::new(g).with_context(|| format!("allow.paths: bad glob {g:?}"))?);
        }
        Ok(b.build()?)
    }

    /// Extra packs, loaded and validated, with their file names.
    pub fn load_packs(&self) -> Result<Vec<(String, leakscan_rules::Pack)>> {
        self.rules
            .packs
            .iter()
            .map(|p| {
                let path = self.base_dir.join(p);
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading rule pack {}", path.display()))?;
                let name = path.display().to_string();
                let pack = leakscan_rules::parse_pack(&name, &text)?;
                Ok((name, pack))
            })
            .collect()
    }
}

/// The known id nearest `id` by edit distance, if it is near enough to be
/// a typo (at most a third of its length).
fn closest<'a>(id: &str, known: &[&'a str]) -> Option<&'a str> {
    let (best, d) = known
        .iter()
        .map(|k| (*k, edit_distance(id, k)))
        .min_by_key(|(_, d)| *d)?;
    (d <= id.chars().count().max(3) / 3 + 1).then_some(best)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_suggests_typos_only() {
        let known = ["github-token", "aws-access-key-id"];
        assert_eq!(closest("github-tokn", &known), Some("github-token"));
        assert_eq!(closest("no-such-rule", &known), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
