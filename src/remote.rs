//! Remote repositories for `leakscan git URL...`: telling URLs from paths,
//! stripping userinfo for display, stable shards, repository lists, and
//! cloning with the system `git` (credentials only through git's own
//! helpers or `GIT_ASKPASS`).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Whether `s` names a remote repository rather than a local path:
/// `scheme://...` or git's scp-like `user@host:path`.
pub fn is_url(s: &str) -> bool {
    if let Some((scheme, _)) = s.split_once("://") {
        return !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    }
    scp_like(s).is_some()
}

/// `user@host:path` (git's scp-like syntax): the host part, if `s` is one.
/// A colon after a slash is a path (`./a:b`), as git reads it.
fn scp_like(s: &str) -> Option<&str> {
    let colon = s.find(':')?;
    let before = &s[..colon];
    if before.contains('/') || before.is_empty() || !before.contains('@') {
        return None;
    }
    Some(before)
}

/// The URL without userinfo (`https://user:token@host/x` becomes
/// `https://host/x`; `git@host:org/x` becomes `host:org/x`): what every
/// report, error and state file shows.
pub fn display_url(s: &str) -> String {
    let s = s.trim();
    if let Some((scheme, rest)) = s.split_once("://") {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        return format!("{scheme}://{host}{path}");
    }
    if let Some(before) = scp_like(s) {
        let host = before.rsplit_once('@').map_or(before, |(_, h)| h);
        return format!("{host}{}", &s[before.len()..]);
    }
    s.to_string()
}

/// Whether the URL carries a password (`scheme://user:secret@host`): refused,
/// since it would end up in process lists and the clone's config.
pub fn has_password(s: &str) -> bool {
    if let Some((_, rest)) = s.split_once("://") {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if let Some((userinfo, _)) = rest[..end].rsplit_once('@') {
            return userinfo.contains(':');
        }
    }
    false
}

/// Schemes `leakscan git` clones; git's `ext::` and unknown transports are
/// refused (a repository list is data, it must not run commands).
const SCHEMES: &[&str] = &["https", "http", "ssh", "git", "file", "git+ssh", "ssh+git"];

/// Checks a remote repository argument before git sees it.
pub fn check_url(url: &str) -> Result<()> {
    let shown = display_url(url);
    if url.starts_with('-') {
        bail!("`{shown}` is not a repository URL");
    }
    if let Some((scheme, _)) = url.split_once("://")
        && !SCHEMES.contains(&scheme.to_ascii_lowercase().as_str())
    {
        bail!(
            "{shown}: the `{scheme}` transport is not supported (use https://, ssh://, git:// or file://)"
        );
    }
    if has_password(url) {
        bail!(
            "{shown}: credentials in the URL are refused; configure a git credential helper \
             (git config credential.helper) or GIT_ASKPASS instead"
        );
    }
    if url.chars().any(char::is_control) {
        bail!("{shown}: a control character in the URL");
    }
    Ok(())
}

/// `--shard I/N` (1-based: `1/4` .. `4/4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

pub fn parse_shard(text: &str) -> Result<Shard, String> {
    let err = || format!("--shard takes I/N with 1 <= I <= N, e.g. 2/8 (got `{text}`)");
    let (i, n) = text.split_once('/').ok_or_else(err)?;
    let index: u64 = i.trim().parse().map_err(|_| err())?;
    let count: u64 = n.trim().parse().map_err(|_| err())?;
    if count == 0 || index == 0 || index > count {
        return Err(err());
    }
    Ok(Shard { index, count })
}

impl Shard {
    /// Whether the repository falls in this shard: FNV-1a (64-bit) of its
    /// displayed URL modulo N, the same on every machine and every run, so
    /// N workers given the same list cover each repository exactly once.
    pub fn contains(&self, url: &str) -> bool {
        fnv1a(display_url(url).as_bytes()) % self.count == self.index - 1
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A repository list: one URL or path a line; blank lines and `#` comments
/// skipped. `-` reads standard input.
pub fn read_list(file: &Path) -> Result<Vec<String>> {
    let reader: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        let f = std::fs::File::open(file)
            .with_context(|| format!("reading repository list {}", file.display()))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut out = Vec::new();
    for line in reader.lines() {
        let line = line.with_context(|| format!("reading repository list {}", file.display()))?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(line.to_string());
    }
    Ok(out)
}

/// A folder name for a kept clone: the URL's last path segment, made safe,
/// and a hash of the whole displayed URL (two `app.git` of different owners
/// stay apart).
pub fn clone_dir_name(url: &str) -> String {
    let shown = display_url(url);
    let last = shown
        .trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()
        .unwrap_or("repo")
        .trim_end_matches(".git");
    let mut safe: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    if safe.is_empty() || safe.starts_with('.') {
        safe.insert(0, 'r');
    }
    format!("{safe}-{:016x}.git", fnv1a(shown.as_bytes()))
}

/// Runs git with an environment fit for unattended clones: no terminal
/// prompt (a missing credential fails instead of hanging; `GIT_ASKPASS`
/// and credential helpers still answer), no stdin.
fn git() -> Command {
    let mut cmd = Command::new("git");
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `cmd`; on failure an error naming `shown` and git's last lines
/// (sanitized, with the URL shown without userinfo).
fn run(mut cmd: Command, url: &str, shown: &str, what: &str) -> Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("{what} {shown}: running git (is git installed?)"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr).replace(url, shown);
    let reason: Vec<String> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(leakscan_scanner::sanitize::sanitize_line)
        .collect();
    let tail = reason[reason.len().saturating_sub(2)..].join("; ");
    bail!(
        "{what} {shown} failed ({}){}",
        out.status,
        if tail.is_empty() {
            String::new()
        } else {
            format!(": {tail}")
        }
    )
}

/// Mirrors `url` into `dest` (a bare repository holding every ref), or, if
/// `dest` already is one (a kept clone), fetches what changed.
pub fn clone_or_fetch(url: &str, dest: &Path) -> Result<()> {
    check_url(url)?;
    let shown = display_url(url);
    if dest.join("HEAD").is_file() && dest.join("objects").is_dir() {
        let mut cmd = git();
        cmd.arg("--git-dir")
            .arg(dest)
            .args(["fetch", "--quiet", "--prune", "--force", "--", url])
            .arg("+refs/*:refs/*");
        return run(cmd, url, &shown, "fetching");
    }
    if dest.exists() {
        std::fs::remove_dir_all(dest)
            .with_context(|| format!("removing the partial clone {}", dest.display()))?;
    }
    let mut cmd = git();
    cmd.args(["clone", "--mirror", "--quiet", "--no-hardlinks", "--", url])
        .arg(dest);
    run(cmd, url, &shown, "cloning")
}

/// Where each repository's clone goes: a temporary folder removed after
/// the scan, or `--keep-clones DIR`.
pub enum CloneHome {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl CloneHome {
    pub fn new(keep: Option<&Path>) -> Result<CloneHome> {
        match keep {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the clone folder {}", dir.display()))?;
                Ok(CloneHome::Kept(dir.to_path_buf()))
            }
            None => Ok(CloneHome::Temp(
                tempfile::Builder::new()
                    .prefix("leakscan-clones-")
                    .tempdir()
                    .context("creating a temporary folder for clones")?,
            )),
        }
    }

    pub fn path_for(&self, url: &str) -> PathBuf {
        let base = match self {
            CloneHome::Temp(t) => t.path(),
            CloneHome::Kept(p) => p.as_path(),
        };
        base.join(clone_dir_name(url))
    }

    /// Removes a clone once scanned, unless clones are kept.
    pub fn done_with(&self, path: &Path) {
        if matches!(self, CloneHome::Temp(_)) {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert!(is_url("https://github.com/o/r.git"));
        assert!(is_url("git@github.com:o/r.git"));
        assert!(is_url("file:///tmp/r"));
        assert!(!is_url("."));
        assert!(!is_url("/tmp/r"));
        assert!(!is_url("./a:b"));
        assert!(!is_url("C:\\x"));
    }

    #[test]
    fn userinfo_is_stripped() {
        assert_eq!(
            display_url("https://bob:hunter2@example.com/o/r.git"),
            "https://example.com/o/r.git"
        );
        assert_eq!(
            display_url("ssh://git@example.com:22/o/r"),
            "ssh://example.com:22/o/r"
        );
        assert_eq!(display_url("git@github.com:o/r.git"), "github.com:o/r.git");
        assert_eq!(display_url("file:///tmp/r"), "file:///tmp/r");
        assert!(has_password("https://bob:hunter2@example.com/r"));
        assert!(!has_password("ssh://git@example.com/r"));
        let err = check_url("https://bob:hunter2@example.com/r").unwrap_err();
        assert!(!format!("{err:#}").contains("hunter2"));
        assert!(!is_url("ext::sh -c touch% /tmp/x"));
        assert!(check_url("ext://x").is_err());
        assert!(check_url("-uhttps://x").is_err());
    }

    #[test]
    fn shards_partition() {
        let urls: Vec<String> = (0..200).map(|i| format!("https://h/o/r{i}")).collect();
        let n = 7;
        let mut seen = vec![0; urls.len()];
        for i in 1..=n {
            let s = parse_shard(&format!("{i}/{n}")).unwrap();
            for (k, u) in urls.iter().enumerate() {
                if s.contains(u) {
                    seen[k] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&c| c == 1));
        // Userinfo does not move a repository to another shard.
        let s = parse_shard("3/7").unwrap();
        assert_eq!(s.contains("https://a@h/o/r1"), s.contains("https://h/o/r1"));
        assert!(parse_shard("0/3").is_err());
        assert!(parse_shard("4/3").is_err());
        assert!(parse_shard("1/0").is_err());
        assert!(parse_shard("x").is_err());
    }

    #[test]
    fn clone_names_are_safe_and_distinct() {
        let a = clone_dir_name("https://h/one/app.git");
        let b = clone_dir_name("https://h/two/app.git");
        assert_ne!(a, b);
        assert!(a.starts_with("app-") && a.ends_with(".git"));
        assert!(clone_dir_name("https://h/../..").starts_with('r'));
        assert!(!clone_dir_name("https://h/a b/c d").contains(' '));
    }
}
