//! The pre-commit framework (installed from PyPI by scripts/setup.sh) runs
//! leakscan's hook through `pre-commit try-repo` against this project and
//! blocks a staged secret. Fails, never skips, if pre-commit is missing.

mod gitutil;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gitutil::*;

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pre_commit(dir: &Path, home: &Path, args: &[&str]) -> Output {
    let bin_dir = assert_cmd::cargo::cargo_bin("leakscan")
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("pre-commit");
    strip(&mut cmd)
        .current_dir(dir)
        .env("PRE_COMMIT_HOME", home)
        .env("PATH", path)
        .args(args);
    match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!("pre-commit is not installed ({e}); run scripts/setup.sh"),
    }
}

#[test]
fn manifest_is_valid() {
    let t = tempfile::tempdir().unwrap();
    let out = pre_commit(
        &project(),
        t.path(),
        &["validate-manifest", ".pre-commit-hooks.yaml"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn try_repo_blocks_a_staged_secret() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("pre-commit-home");
    let r = new_repo(&t.path().join("consumer"));
    write(&r, "README", "hello\n");
    commit_all(&r, "first");
    let project = project();
    let project = project.to_str().unwrap();

    write(&r, "ok.txt", "nothing secret\n");
    git(&r, &["add", "ok.txt"]);
    let out = pre_commit(
        &r,
        &home,
        &["try-repo", project, "leakscan-system", "--verbose"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Passed"), "{text}");

    let tok = token('p');
    write(&r, "settings.env", &format!("GITHUB_TOKEN={tok}\n"));
    git(&r, &["add", "settings.env"]);
    // An unstaged change elsewhere: pre-commit stashes it, leakscan reads
    // the index anyway.
    write(&r, "README", "hello, unstaged\n");
    let out = pre_commit(
        &r,
        &home,
        &["try-repo", project, "leakscan-system", "--verbose"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("Failed"), "{text}");
    assert!(text.contains("settings.env:1:"), "{text}");
    assert!(!text.contains(&tok), "the secret must stay redacted");
    // pre-commit restored the unstaged change.
    assert_eq!(
        std::fs::read_to_string(r.join("README")).unwrap(),
        "hello, unstaged\n"
    );
}
