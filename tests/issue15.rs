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

/// Item 3: the config and the ignore file at the repository root apply to
/// every command, from any folder; `--config` still wins.
#[test]
fn issue15_item3_every_command_finds_the_same_config() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "sub/a.py", &format!("key = '{}'\n", token('d')));
    write(&r, "sub/b.py", "print('b')\n");
    commit_all(&r, "app");
    let sub = r.join("sub");
    let count = |dir: &std::path::Path, args: &[&str]| -> (Option<i32>, usize) {
        let out = leakscan(dir)
            .args(args)
            .args(["--format", "json"])
            .output()
            .unwrap();
        (out.status.code(), json_findings(&out).len())
    };
    // No config: every way of scanning finds it.
    assert_eq!(count(&r, &["dir", "sub"]), (Some(1), 1));
    assert_eq!(count(&sub, &["dir"]), (Some(1), 1));

    write(
        &r,
        ".leakscan.toml",
        "[rules]\ndisable = [\"github-token\"]\n",
    );
    assert_eq!(count(&r, &["dir"]), (Some(0), 0));
    assert_eq!(count(&r, &["dir", "sub"]), (Some(0), 0));
    assert_eq!(count(&sub, &["dir"]), (Some(0), 0));
    assert_eq!(count(&sub, &["dir", "a.py", "b.py"]), (Some(0), 0));
    assert_eq!(count(&sub, &["git"]), (Some(0), 0));
    for (dir, target) in [(&r, "sub/a.py:1"), (&sub, "a.py:1")] {
        let out = leakscan(dir).args(["explain", target]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{target}: {}", stdout(&out));
    }
    // --config still wins.
    let empty = t.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let e = empty.to_str().unwrap();
    assert_eq!(count(&sub, &["dir", "--config", e]), (Some(1), 1));

    // The ignore file at the root, with a path-scoped entry: found from
    // the subfolder too, and the scope is relative to the root.
    std::fs::remove_file(r.join(".leakscan.toml")).unwrap();
    let out = leakscan(&r)
        .args(["dir", "--format", "json"])
        .output()
        .unwrap();
    let fp = json_findings(&out)[0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    write(
        &r,
        ".leakscanignore",
        &format!("sub/a.py:{fp}  # fixture\n"),
    );
    assert_eq!(count(&r, &["dir"]), (Some(0), 0));
    assert_eq!(count(&r, &["dir", "sub"]), (Some(0), 0));
    assert_eq!(count(&sub, &["dir"]), (Some(0), 0));
    assert_eq!(count(&sub, &["dir", "a.py"]), (Some(0), 0));
    let out = leakscan(&sub).args(["explain", "a.py:1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// Item 4: unknown rule ids in the config are errors naming the file, the
/// line and the closest known id.
#[test]
fn issue15_item4_unknown_rule_ids_in_the_config_are_errors() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "a.txt", "nothing\n");
    commit_all(&r, "a");
    write(
        &r,
        ".leakscan.toml",
        "[rules]\n# typo below\ndisable = [\"github-tokn\"]\n",
    );
    for args in [&["dir"][..], &["git"], &["staged"], &["rules", "list"]] {
        let out = leakscan(&r).args(args).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(".leakscan.toml:3"), "{err}");
        assert!(err.contains("unknown rule id `github-tokn`"), "{err}");
        assert!(err.contains("did you mean `github-token`"), "{err}");
    }
    write(
        &r,
        ".leakscan.toml",
        "[rules]\nentropy = { \"no-such-rule\" = 4.0 }\n",
    );
    let out = leakscan(&r).arg("dir").output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(".leakscan.toml:2: rules.entropy: unknown rule id `no-such-rule`"),
        "{err}"
    );
    assert!(!err.contains("did you mean"), "{err}");
    // Known ids are fine.
    write(
        &r,
        ".leakscan.toml",
        "[rules]\ndisable = [\"github-token\"]\n",
    );
    let out = leakscan(&r).arg("dir").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Item 5: a closed pipe, unsupported formats, multi-line errors, private
/// unredacted reports, read errors under `-q`, the `--strict` advice,
/// plurals.
#[test]
fn issue15_item5_output_hygiene() {
    use std::process::Stdio;
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    let tok = token('e');
    write(&r, "a.env", &format!("A={tok}\n"));
    write(&r, "b.env", &format!("B={tok}\n"));
    commit_all(&r, "two copies");

    // A reader that closed its end at once: quiet, exit 0.
    let mut child = leakscan(&r)
        .args(["rules", "list", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");

    // A format `rules list` cannot write is rejected; jsonl is one a line.
    let out = leakscan(&r)
        .args(["rules", "list", "--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
    let out = leakscan(&r)
        .args(["rules", "list", "--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    for l in stdout(&out).lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert!(v["id"].is_string());
    }

    // A config parse error keeps its line breaks.
    let bad = t.path().join("bad.toml");
    std::fs::write(&bad, "[rules]\ndisable = [\"x\"\n").unwrap();
    let out = leakscan(&r)
        .args(["dir", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.toml"), "{err}");
    assert!(!err.contains("\\n"), "{err}");
    assert!(err.lines().count() > 1, "{err}");

    // --no-redact -o FILE: only its owner may read it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let report = t.path().join("report.txt");
        std::fs::write(&report, "old").unwrap();
        std::fs::set_permissions(&report, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = leakscan(&r)
            .args(["dir", "--no-redact", "-o"])
            .arg(&report)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let mode = std::fs::metadata(&report).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(std::fs::read_to_string(&report).unwrap().contains(&tok));
    }

    // Plurals: the same secret in two files.
    let out = leakscan(&r)
        .arg("dir")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        stdout(&out).contains("same secret at 1 more place:"),
        "{}",
        stdout(&out)
    );
    let out = leakscan(&r).args(["explain", "a.env:7"]).output().unwrap();
    assert!(
        stdout(&out).contains("the blob has 1 line;"),
        "{}",
        stdout(&out)
    );

    // A read error (a broken link followed) prints under -q, and --strict
    // does not blame --max-file-size for it.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("missing-target", r.join("dangling")).unwrap();
        let out = leakscan(&r)
            .args(["dir", "-q", "--follow-symlinks", "--strict"])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("1 read error:"), "{err}");
        assert!(err.contains("dangling"), "{err}");
        assert!(!err.contains("scanned"), "{err}");
        assert!(
            err.contains("--strict: the scan is incomplete (1 broken-symlink)"),
            "{err}"
        );
        assert!(!err.contains("--max-file-size"), "{err}");
    }
}

/// Item 6: the hooks on a first commit, a pure rename, and a pre-push that
/// says whether secrets or a failed scan stopped it.
#[test]
fn issue15_item6_hook_edge_cases() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    let out = leakscan(&r)
        .args(["hook", "install", "--pre-push"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // The first commit: there is no HEAD to restore from.
    write(&r, ".env", &format!("TOKEN={}\n", token('g')));
    git(&r, &["add", ".env"]);
    let out = git_out(&r, &["commit", "-q", "-m", "first"], &[]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("git rm --cached -- '.env'"), "{err}");
    assert!(!err.contains("git restore"), "{err}");
    git(&r, &["rm", "-q", "--cached", "--", ".env"]);
    write(&r, "README", "hello\n");
    git(&r, &["add", "README"]);
    git(&r, &["commit", "-q", "-m", "first"]);

    // Committed past the hook, then moved: the move adds no line.
    git(&r, &["add", ".env"]);
    git(&r, &["commit", "-q", "--no-verify", "-m", "leak"]);
    std::fs::create_dir_all(r.join("config")).unwrap();
    git(&r, &["mv", ".env", "config/app.env"]);
    let out = git_out(&r, &["commit", "-q", "-m", "move"], &[]);
    assert!(out.status.success(), "a pure rename: {}", stderr(&out));
    // A rename with an added secret still blocks.
    git(&r, &["mv", "config/app.env", "config/prod.env"]);
    write(
        &r,
        "config/prod.env",
        &format!("TOKEN={}\nOTHER={}\n", token('g'), token('h')),
    );
    git(&r, &["add", "config/prod.env"]);
    let out = git_out(&r, &["commit", "-q", "-m", "move and add"], &[]);
    assert!(!out.status.success(), "{}", stderr(&out));
    git(&r, &["reset", "-q", "--hard"]);

    // pre-push: secrets, then a failed scan, each said plainly.
    let remote = t.path().join("remote.git");
    git(
        t.path(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    git(&r, &["remote", "add", "origin", remote.to_str().unwrap()]);
    let out = git_out(&r, &["push", "-q", "origin", "main"], &[]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("its commits add the secrets listed above"),
        "{err}"
    );
    assert!(!err.contains("scan failed"), "{err}");
    write(
        &r,
        ".leakscan.toml",
        "[rules]\ndisable = [\"no-such-rule\"]\n",
    );
    let out = git_out(&r, &["push", "-q", "origin", "main"], &[]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("the scan failed (exit 2"), "{err}");
    assert!(!err.contains("add the secrets"), "{err}");
}

/// Item 7: a shallow clone's history scan says it is incomplete (summary,
/// `--stats`, `--strict`); a range base that names nothing is not blamed
/// on the shallow clone.
#[test]
fn issue15_item7_shallow_history_is_incomplete_history() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "a.txt", "one\n");
    let first = commit_all(&r, "one");
    write(&r, "a.txt", "two\n");
    commit_all(&r, "two");
    write(&r, "a.txt", "three\n");
    commit_all(&r, "three");
    let url = format!("file://{}", r.display());
    git(t.path(), &["clone", "-q", "--depth", "1", &url, "shallow"]);
    let s = t.path().join("shallow");

    let stats = t.path().join("stats.json");
    let out = leakscan(&s)
        .args(["git", "--stats"])
        .arg(&stats)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("skipped: 1 shallow-boundary"), "{err}");
    assert!(err.contains("a shallow clone"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    assert_eq!(v["skipped"]["shallow-boundary"], 1, "{v}");
    let out = leakscan(&s).args(["git", "--strict"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // The complete repository: nothing said.
    let out = leakscan(&r).args(["git", "--strict"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("shallow"), "{}", stderr(&out));

    // A name that does not exist: not the shallow clone's fault.
    let out = leakscan(&s)
        .args(["git", "--range", "no-such-branch..HEAD"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`no-such-branch` is not in this repository"),
        "{err}"
    );
    assert!(!err.contains("shallow"), "{err}");
    // A commit beyond the boundary: fetch more history.
    let out = leakscan(&s)
        .args(["git", "--range", &format!("{first}..HEAD")])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("shallow clone"), "{err}");
    assert!(err.contains("--unshallow"), "{err}");
}

/// Item 15: `explain` and the scan agree at every suppression stage: the
/// same line is reported by both or by neither.
#[test]
fn issue15_item15_explain_and_the_scan_share_every_decision() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    let conn = "conn = \"Host=db.prod.acme.io;Port=5432;Database=app;Username=svc;Pwd=h4Jt9Qw2Ez7Ry5Uk\"\n";
    write(&r, "README", "hello\n");
    commit_all(&r, "first");
    // (file, content, extra config, expected: reported?)
    let tok = token('p');
    let cases: Vec<(&str, String, &str, bool, &str)> = vec![
        ("src/db.py", conn.to_string(), "", true, "REPORTED"),
        ("examples/db.py", conn.to_string(), "", false, "docs/tests"),
        ("demo/db.py", conn.to_string(), "", false, "docs/tests"),
        // A rule with a format of its own is reported in examples too.
        (
            "examples/gh.py",
            format!("t = '{tok}'\n"),
            "",
            true,
            "REPORTED",
        ),
        (
            "src/allowed.py",
            format!("t = '{tok}'  # leakscan:allow\n"),
            "",
            false,
            "inline allow",
        ),
        (
            "vendor/x.py",
            format!("t = '{tok}'\n"),
            "[allow]\npaths = [\"vendor/**\"]\n",
            false,
            "path allowlist",
        ),
    ];
    for (file, text, config, reported, stage) in &cases {
        write(&r, file, text);
        std::fs::write(r.join(".leakscan.toml"), config).unwrap();
        let scan = leakscan(&r)
            .args(["dir", file, "--format", "json"])
            .output()
            .unwrap();
        let ex = leakscan(&r)
            .args(["explain", &format!("{file}:1")])
            .output()
            .unwrap();
        let want = if *reported { 1 } else { 0 };
        assert_eq!(
            scan.status.code(),
            Some(want),
            "dir {file}: {}",
            stderr(&scan)
        );
        assert_eq!(
            ex.status.code(),
            Some(want),
            "explain {file}:\n{}",
            stdout(&ex)
        );
        assert!(
            stdout(&ex).contains(stage),
            "{file}: {stage}\n{}",
            stdout(&ex)
        );
        std::fs::remove_file(r.join(file)).unwrap();
    }
    std::fs::write(r.join(".leakscan.toml"), "").unwrap();

    // The ignore file and a baseline.
    write(&r, "src/gh.py", &format!("t = '{tok}'\n"));
    let out = leakscan(&r)
        .args(["dir", "--format", "json"])
        .output()
        .unwrap();
    let fp = json_findings(&out)[0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let base = t.path().join("base.json");
    std::fs::write(&base, &out.stdout).unwrap();
    let b = base.to_str().unwrap();
    let scan = leakscan(&r)
        .args(["dir", "--baseline", b])
        .output()
        .unwrap();
    let ex = leakscan(&r)
        .args(["explain", "src/gh.py:1", "--baseline", b])
        .output()
        .unwrap();
    assert_eq!(scan.status.code(), Some(0), "{}", stderr(&scan));
    assert_eq!(ex.status.code(), Some(0), "{}", stdout(&ex));
    assert!(
        stdout(&ex).contains("baseline          SUPPRESS"),
        "{}",
        stdout(&ex)
    );
    write(&r, ".leakscanignore", &format!("{fp}  # fixture\n"));
    let scan = leakscan(&r).arg("dir").output().unwrap();
    let ex = leakscan(&r)
        .args(["explain", "src/gh.py:1"])
        .output()
        .unwrap();
    assert_eq!(scan.status.code(), Some(0), "{}", stderr(&scan));
    assert_eq!(ex.status.code(), Some(0), "{}", stdout(&ex));
    assert!(
        stdout(&ex).contains("ignore file       SUPPRESS"),
        "{}",
        stdout(&ex)
    );
}

/// Item 9: `--max-file-size` takes units; history summaries count commits
/// and blobs.
#[test]
fn issue15_item9_size_units_and_history_counts() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "small.txt", "x\n");
    write(&r, "big.txt", &"y".repeat(3000));
    commit_all(&r, "one");
    write(&r, "small.txt", "x\nz\n");
    commit_all(&r, "two");
    let out = leakscan(&r)
        .args(["dir", "--max-file-size", "2KiB"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("scanned 1 file ("), "{err}");
    assert!(err.contains("1 too-large"), "{err}");
    let out = leakscan(&r)
        .args(["dir", "--max-file-size", "3kB"])
        .output()
        .unwrap();
    assert!(!stderr(&out).contains("too-large"), "{}", stderr(&out));
    let out = leakscan(&r)
        .args(["dir", "--max-file-size", "10XB"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown unit"), "{}", stderr(&out));

    let stats = t.path().join("s.json");
    let out = leakscan(&r)
        .args(["git", "--stats"])
        .arg(&stats)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(err.contains("scanned 2 commits, 3 blobs ("), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    assert_eq!(v["commits_scanned"], 2, "{v}");
    let out = leakscan(&r)
        .args(["git", "--range", "HEAD~1..HEAD"])
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("scanned 1 commit, 1 blob ("),
        "{}",
        stderr(&out)
    );
}

/// Item 10: a history finding in a file HEAD no longer has says `deleted`,
/// and the text report shows its commit and date beside it.
#[test]
fn issue15_item10_history_findings_in_deleted_files() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "old.env", &format!("T={}\n", token('q')));
    write(&r, "kept.env", &format!("T={}\n", token('r')));
    let c = commit_all(&r, "secrets");
    git(&r, &["rm", "-q", "old.env"]);
    git(&r, &["commit", "-q", "-m", "remove"]);
    let out = leakscan(&r)
        .args(["git", "--format", "json"])
        .output()
        .unwrap();
    let f = json_findings(&out);
    let by = |p: &str| f.iter().find(|x| x["path"] == p).unwrap().clone();
    assert_eq!(by("old.env")["deleted"], true, "{f:?}");
    assert!(by("kept.env").get("deleted").is_none(), "{f:?}");
    let out = leakscan(&r)
        .arg("git")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains("old.env:1:"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains(&format!("deleted; in commit {}", &c[..12])),
        "{line}"
    );
    assert!(line.contains(" of 20"), "{line}");
    let kept = text.lines().find(|l| l.contains("kept.env:1:")).unwrap();
    assert!(!kept.contains("deleted"), "{kept}");
}

/// Item 11: JSON findings carry `severity`, `confidence` and a redacted
/// one-line `snippet` (not with `--no-snippet`), in dir and history scans.
#[test]
fn issue15_item11_severity_confidence_snippet() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    let (a, b) = (token('s'), token('u'));
    write(
        &r,
        "app.py",
        &format!("x = 1\nA = \"{a}\"; B = \"{b}\"  # two\n"),
    );
    commit_all(&r, "two tokens");
    for cmd in ["dir", "git"] {
        for extra in [&[][..], &["--no-redact"]] {
            let out = leakscan(&r)
                .args([cmd, "--format", "jsonl"])
                .args(extra)
                .output()
                .unwrap();
            let text = stdout(&out);
            let f: Vec<serde_json::Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(f.len(), 2, "{text}");
            for x in &f {
                assert!(
                    ["critical", "high", "medium", "low"]
                        .contains(&x["severity"].as_str().unwrap()),
                    "{x}"
                );
                assert!(x["confidence"].is_string(), "{x}");
                let snip = x["snippet"].as_str().unwrap();
                assert!(snip.starts_with("A = \"ghp_"), "{snip}");
                assert!(snip.ends_with("# two"), "{snip}");
                assert!(!snip.contains(&a) && !snip.contains(&b), "{snip}");
                assert!(
                    !snip.contains(&a[..12]) && !snip.contains(&b[..12]),
                    "{snip}"
                );
            }
        }
    }
    let out = leakscan(&r)
        .args(["dir", "--format", "json", "--no-snippet"])
        .output()
        .unwrap();
    for x in json_findings(&out) {
        assert!(x.get("snippet").is_none(), "{x}");
        assert!(x["severity"].is_string());
    }
}

/// Item 12: `hook install --config FILE --baseline FILE` writes both into
/// the hooks; `.pre-commit-hooks.yaml` offers `leakscan-push-system`.
#[test]
fn issue15_item12_hook_install_config_and_baseline() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "README", "hello\n");
    commit_all(&r, "first");
    let cfg = t.path().join("team config.toml");
    std::fs::write(&cfg, "[rules]\ndisable = [\"github-token\"]\n").unwrap();
    let out = leakscan(&r)
        .args(["hook", "install", "--pre-push", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let hook = std::fs::read_to_string(r.join(".git/hooks/pre-commit")).unwrap();
    assert!(hook.contains("staged --config '"), "{hook}");
    assert!(!hook.contains("@LEAKSCAN_ARGS@"), "{hook}");
    let push = std::fs::read_to_string(r.join(".git/hooks/pre-push")).unwrap();
    assert!(push.contains("team config.toml'"), "{push}");
    // The config disables the rule: the commit passes.
    write(&r, "a.env", &format!("T={}\n", token('v')));
    git(&r, &["add", "a.env"]);
    let out = git_out(&r, &["commit", "-q", "-m", "with config"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A baseline instead: the finding it lists passes, a new one blocks.
    write(&r, "b.env", &format!("T={}\n", token('w')));
    git(&r, &["add", "b.env"]);
    let base = t.path().join("base.json");
    let out = leakscan(&r)
        .args(["staged", "--format", "json", "-o"])
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = leakscan(&r)
        .args(["hook", "install", "--pre-push", "--baseline"])
        .arg(&base)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("updated"), "{}", stderr(&out));
    let out = git_out(&r, &["commit", "-q", "-m", "baselined"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    write(&r, "c.env", &format!("T={}\n", token('x')));
    git(&r, &["add", "c.env"]);
    let out = git_out(&r, &["commit", "-q", "-m", "new"], &[]);
    assert!(!out.status.success(), "{}", stderr(&out));
    // A missing file is an error at install time.
    let out = leakscan(&r)
        .args(["hook", "install", "--config", "nope.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.toml"), "{}", stderr(&out));

    let yaml = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    let entry = yaml
        .split("\n- id: ")
        .find(|e| e.starts_with("leakscan-push-system\n"))
        .expect("leakscan-push-system");
    assert!(entry.contains("language: system"), "{entry}");
    assert!(entry.contains("stages: [pre-push]"), "{entry}");
}

/// Item 14: every option of every command has a description, none shows
/// two defaults, and `ci --help` uses the compact layout of the others.
#[test]
fn issue15_item14_help_text() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    let commands: &[&[&str]] = &[
        &["dir"],
        &["stdin"],
        &["git"],
        &["staged"],
        &["ci"],
        &["explain"],
        &["rules", "list"],
        &["rules", "check"],
        &["hook", "install"],
        &["hook", "uninstall"],
        &["ignore"],
        &["baseline", "create"],
    ];
    for c in commands {
        let out = leakscan(&r).args(*c).arg("--help").output().unwrap();
        let help = stdout(&out);
        assert!(out.status.success(), "{c:?}");
        let mut in_opts = false;
        for line in help.lines() {
            if line.starts_with("Options:") || line.starts_with("Arguments:") {
                in_opts = true;
                continue;
            }
            if !in_opts || line.trim().is_empty() {
                continue;
            }
            let trimmed = line.trim_start();
            let is_item = line.starts_with("  ")
                && (trimmed.starts_with('-')
                    || trimmed.starts_with('[')
                    || trimmed.starts_with('<'))
                && line.len() - trimmed.len() <= 6;
            if is_item {
                // The flag, then at least two spaces and its description.
                let (_, desc) = trimmed.split_once("  ").unwrap_or((trimmed, ""));
                assert!(
                    !desc.trim().is_empty(),
                    "{c:?}: no description: {line}\n{help}"
                );
            }
            assert!(
                line.matches("[default:").count() <= 1,
                "{c:?}: two defaults: {line}"
            );
        }
        // Compact layout: a description on the flag's own line.
        assert!(
            !help.contains("\n          Output format"),
            "{c:?}:\n{help}"
        );
    }
}
