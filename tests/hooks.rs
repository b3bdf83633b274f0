//! `leakscan hook install/uninstall` with real `git commit` and `git push`:
//! chaining a foreign hook, idempotence, core.hooksPath, temporary indexes,
//! and a `--no-verify` commit caught by the pre-push hook.

mod gitutil;

use std::path::Path;

use gitutil::*;

fn install(dir: &Path, extra: &[&str]) -> std::process::Output {
    let out = leakscan(dir)
        .args(["hook", "install"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn read_dir_sorted(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn write_hook(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn installed_hook_blocks_commit_and_chains_the_existing_hook() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "README", "hello\n");
    commit_all(&r, "first");
    let hooks = r.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let foreign = "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/foreign-ran\"\nexit 0\n";
    write_hook(&hooks.join("pre-commit"), foreign);

    install(&r, &[]);
    let snapshot = read_dir_sorted(&hooks);
    let out = install(&r, &[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already installed"));
    assert_eq!(
        snapshot,
        read_dir_sorted(&hooks),
        "installing twice changes nothing"
    );

    write(&r, "cfg.txt", &format!("token {}\n", token('a')));
    git(&r, &["add", "cfg.txt"]);
    let out = git_out(&r, &["commit", "-m", "leak"], &[]);
    assert!(!out.status.success(), "the hook must block the commit");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("git restore --staged"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(r.join(".git/foreign-ran")).unwrap(),
        "ran\n"
    );

    // A clean commit passes, and the foreign hook runs again.
    git(&r, &["restore", "--staged", "cfg.txt"]);
    write(&r, "ok.txt", "fine\n");
    git(&r, &["add", "ok.txt"]);
    let out = git_out(&r, &["commit", "-q", "-m", "clean"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(r.join(".git/foreign-ran")).unwrap(),
        "ran\nran\n"
    );

    // A failing foreign hook stops the commit with its own exit code.
    write_hook(
        &hooks.join("pre-commit.pre-leakscan"),
        "#!/bin/sh\necho foreign says no >&2\nexit 3\n",
    );
    write(&r, "ok2.txt", "fine\n");
    git(&r, &["add", "ok2.txt"]);
    let out = git_out(&r, &["commit", "-q", "-m", "clean2"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("foreign says no"));
    write_hook(&hooks.join("pre-commit.pre-leakscan"), foreign);

    // Uninstall restores the original hook.
    let out = leakscan(&r).args(["hook", "uninstall"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).unwrap(),
        foreign
    );
    assert!(!hooks.join("pre-commit.pre-leakscan").exists());
    assert!(!hooks.join("pre-merge-commit").exists());
}

#[test]
fn force_replaces_without_chaining_and_uninstall_restores() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    let hooks = r.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let foreign = "#!/bin/sh\nexit 7\n";
    write_hook(&hooks.join("pre-commit"), foreign);
    install(&r, &["--force"]);
    write(&r, "a.txt", "clean\n");
    git(&r, &["add", "a.txt"]);
    let out = git_out(&r, &["commit", "-q", "-m", "clean"], &[]);
    assert!(out.status.success(), "the replaced hook no longer runs");
    let out = leakscan(&r).args(["hook", "uninstall"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).unwrap(),
        foreign
    );
}

#[test]
fn commit_with_paths_uses_the_temporary_index() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "a.txt", "a\n");
    write(&r, "b.txt", "b\n");
    commit_all(&r, "first");
    install(&r, &[]);
    // `git commit a.txt` commits a.txt from the working tree through a
    // temporary index, even though nothing is staged.
    write(&r, "a.txt", &format!("a\n{}\n", token('b')));
    let out = git_out(&r, &["commit", "-q", "-m", "paths", "a.txt"], &[]);
    assert!(!out.status.success(), "blocked through the temporary index");
    // A secret staged in the main index does not block `git commit b.txt`.
    git(&r, &["add", "a.txt"]);
    write(&r, "b.txt", "b2\n");
    let out = git_out(&r, &["commit", "-q", "-m", "only b", "b.txt"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn core_hooks_path_is_honoured() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "README", "x\n");
    commit_all(&r, "first");
    git(&r, &["config", "core.hooksPath", ".githooks"]);
    let out = install(&r, &[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("core.hooksPath"));
    assert!(r.join(".githooks/pre-commit").is_file());
    assert!(!r.join(".git/hooks/pre-commit").exists());
    write(&r, "s.txt", &format!("{}\n", token('c')));
    git(&r, &["add", "s.txt"]);
    let out = git_out(&r, &["commit", "-q", "-m", "leak"], &[]);
    assert!(!out.status.success());
}

#[test]
fn pre_push_catches_a_no_verify_commit() {
    let t = tempfile::tempdir().unwrap();
    let remote = t.path().join("remote.git");
    git(
        t.path(),
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            remote.to_str().unwrap(),
        ],
    );
    let r = new_repo(&t.path().join("r"));
    git(&r, &["remote", "add", "origin", remote.to_str().unwrap()]);
    write(&r, "README", "x\n");
    commit_all(&r, "first");
    install(&r, &["--pre-push"]);
    // A new branch with clean history pushes.
    let out = git_out(&r, &["push", "-q", "origin", "main"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    write(&r, "leak.txt", &format!("{}\n", token('d')));
    git(&r, &["add", "leak.txt"]);
    git(&r, &["commit", "-q", "--no-verify", "-m", "sneaky"]);
    write(&r, "more.txt", "fine\n");
    commit_all(&r, "clean on top");
    let out = git_out(&r, &["push", "-q", "origin", "main"], &[]);
    assert!(!out.status.success(), "the pre-push hook must block it");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("leak.txt"), "{stderr}");
    assert!(stderr.contains("not pushing refs/heads/main"), "{stderr}");
    // The remote did not get it.
    let remote_head = git(&remote, &["rev-parse", "main"]);
    assert_ne!(remote_head, git(&r, &["rev-parse", "HEAD"]));

    // A new branch carrying it is caught too (commits on no remote ref).
    let out = git_out(&r, &["push", "-q", "origin", "main:feature"], &[]);
    assert!(!out.status.success());
}
