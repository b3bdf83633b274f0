//! Helpers for tests that build repositories with the real `git`: an
//! environment stripped of inherited GIT_* variables, per-repo identity,
//! and fake GitHub tokens with valid checksums.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;

/// GIT_* variables a parent git (a hook, a test run from one) may export.
pub const STRIPPED: &[&str] = &[
    "GIT_DIR",
    "GIT_INDEX_FILE",
    "GIT_WORK_TREE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_DATE",
    "GIT_CONFIG_PARAMETERS",
];

pub fn strip(cmd: &mut Command) -> &mut Command {
    for v in STRIPPED {
        cmd.env_remove(v);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
}

/// Runs git in `dir`, panicking with its stderr on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_out(dir, args, &[]);
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn git_out(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("git");
    strip(&mut cmd).current_dir(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("running git")
}

/// A fresh repository on branch `main` with its own identity.
pub fn new_repo(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", "Ann Author"]);
    git(dir, &["config", "user.email", "ann@example.invalid"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
    dir.to_path_buf()
}

pub fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(p, text).unwrap();
}

/// Stages everything and commits; returns the new commit id.
pub fn commit_all(dir: &Path, msg: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", msg]);
    git(dir, &["rev-parse", "HEAD"])
}

/// A fake GitHub token (`ghp_`, 30 characters, valid CRC32 checksum), one
/// per seed. The body is mixed from the seed: a run of one character would
/// be a placeholder, which the scanner rightly ignores.
pub fn token(seed: char) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let body: String = (0..26)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALPHA[(x % ALPHA.len() as u64) as usize] as char
        })
        .collect();
    let random = format!("TEST{body}");
    format!(
        "ghp_{random}{}",
        leakscan_scanner::validate::base62_crc32(random.as_bytes())
    )
}

/// The leakscan binary, run in `dir` with a clean git environment.
pub fn leakscan(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("leakscan").unwrap();
    strip(&mut cmd).current_dir(dir);
    cmd
}

pub fn json_findings(out: &Output) -> Vec<serde_json::Value> {
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON array ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// (path, commit) of every finding of `leakscan git` in `dir` with the
/// given `--git-reader` (`pack` or `libgit2`), which must find something.
pub fn located(dir: &Path, reader: &str) -> std::collections::BTreeSet<(String, String)> {
    let out = leakscan(dir)
        .args(["git", "--format", "json", "--git-reader", reader])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_findings(&out)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["commit"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
