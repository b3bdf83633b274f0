//! Issue 15: what a new user tripped over (ignored files, config discovery,
//! hook messages, output hygiene...), each on a repository made with git.

mod gitutil;

use std::process::Output;

use gitutil::*;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A repository whose .gitignore hides three secrets.
fn ignored_secrets(t: &std::path::Path) -> std::path::PathBuf {
    let r = new_repo(&t.join("r"));
    write(&r, ".gitignore", ".env\n*.pem\nsecrets/\n");
    write(&r, "app.py", "print('hello')\n");
    write(&r, ".env", &format!("TOKEN={}\n", token('a')));
    write(&r, "deploy.pem", &format!("token: {}\n", token('b')));
    write(&r, "secrets/prod.txt", &format!("gh = {}\n", token('c')));
    commit_all(&r, "app");
    r
}

/// Item 1: `dir` counts what ignore rules skip, and `--no-ignore` / `-u`
/// scan it.
#[test]
fn issue15_item1_gitignored_files_are_counted_and_no_ignore_scans_them() {
    let t = tempfile::tempdir().unwrap();
    let r = ignored_secrets(t.path());
    let stats = t.path().join("stats.json");
    let out = leakscan(&r)
        .args(["dir", "--strict", "--stats"])
        .arg(&stats)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("0 findings"), "{err}");
    assert!(err.contains("skipped: 3 gitignored"), "{err}");
    assert!(err.contains("--no-ignore"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    assert_eq!(v["skipped"]["gitignored"], 3, "{v}");
    assert_eq!(v["incomplete"], 0, "{v}");

    for flag in ["--no-ignore", "-u", "-uu"] {
        let out = leakscan(&r)
            .args(["dir", flag, "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{flag}: {}", stderr(&out));
        let mut paths: Vec<String> = json_findings(&out)
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect();
        paths.sort();
        paths.dedup();
        assert_eq!(paths, [".env", "deploy.pem", "secrets/prod.txt"], "{flag}");
        assert!(!stderr(&out).contains("gitignored"), "{}", stderr(&out));
    }
}
