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

impl Config {
    /// Reads and validates a config file; errors name the file, line and key.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        let mut config = Config::parse(&text, &path.display().to_string())?;
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

    /// `explicit` if given (it must exist), else `.leakscan.toml` in `root`
    /// if present, else the defaults.
    pub fn discover(explicit: Option<&Path>, root: &Path) -> Result<Config> {
        let dir = if root.is_dir() {
            root.to_path_buf()
        } else {
            root.parent().map(Path::to_path_buf).unwrap_or_default()
        };
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
