//! `leakscan git`: full history with provenance, shared fingerprints,
//! `--range`/`--since` (only what commits add), shallow clones, merges.

mod gitutil;

use gitutil::*;

fn scan_json(dir: &std::path::Path, args: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let out = leakscan(dir)
        .arg("git")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let findings = if code == 2 {
        Vec::new()
    } else {
        json_findings(&out)
    };
    (code, findings, stderr)
}

#[test]
fn removed_secret_found_in_history_with_introducing_commit_not_by_dir() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "README", "hello\n");
    commit_all(&r, "first");
    let tok = token('a');
    write(&r, "config/app.env", &format!("X=1\nGITHUB_TOKEN={tok}\n"));
    git(&r, &["add", "-A"]);
    let out = git_out(
        &r,
        &["commit", "-q", "-m", "add app config\n\nbody line"],
        &[
            ("GIT_AUTHOR_DATE", "2020-01-02T03:04:05+01:00"),
            ("GIT_AUTHOR_NAME", "Bob Builder"),
            ("GIT_AUTHOR_EMAIL", "bob@example.invalid"),
        ],
    );
    assert!(out.status.success());
    let intro = git(&r, &["rev-parse", "HEAD"]);
    // Touch another file, then remove the secret.
    write(&r, "README", "hello again\n");
    commit_all(&r, "readme");
    git(&r, &["rm", "-q", "config/app.env"]);
    git(&r, &["commit", "-q", "-m", "remove config"]);

    let (code, findings, _) = scan_json(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f["rule"], "github-token");
    assert_eq!(f["path"], "config/app.env");
    assert_eq!(f["line"], 2);
    assert_eq!(f["commit"], intro.as_str());
    assert_eq!(f["author"], "Bob Builder");
    assert_eq!(f["email"], "bob@example.invalid");
    assert_eq!(f["date"], "2020-01-02T03:04:05+01:00");
    assert_eq!(f["message"], "add app config");
    assert!(!String::from_utf8_lossy(&serde_json::to_vec(f).unwrap()).contains(&tok));

    // The working tree no longer has it.
    let out = leakscan(&r)
        .args(["dir", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn same_secret_on_two_branches_shares_one_fingerprint() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "README", "hello\n");
    commit_all(&r, "first");
    let tok = token('b');
    git(&r, &["checkout", "-q", "-b", "feature"]);
    write(&r, "a.txt", &format!("token: {tok}\n"));
    let c1 = commit_all(&r, "feature adds it");
    git(&r, &["checkout", "-q", "main"]);
    write(&r, "deep/b.yml", &format!("other: 1\nkey: {tok}\n"));
    let c2 = commit_all(&r, "main adds it");

    let (code, findings, _) = scan_json(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert_eq!(findings[0]["fingerprint"], findings[1]["fingerprint"]);
    let mut places: Vec<(String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["commit"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    places.sort();
    assert_eq!(
        places,
        vec![("a.txt".to_string(), c1), ("deep/b.yml".to_string(), c2)]
    );

    // The text report groups them under one fingerprint.
    let out = leakscan(&r).args(["git"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("fingerprint:").count(), 1, "{text}");
    assert!(text.contains("same secret at 1 more place"), "{text}");

    // --branch limits the scan to what one branch reaches.
    let (code, findings, _) = scan_json(&r, &["--branch", "feature"]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["path"], "a.txt");
}

#[test]
fn range_reports_only_what_later_commits_add() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    let old = token('c');
    let new = token('d');
    write(&r, "settings.py", &format!("A = 1\nTOKEN = '{old}'\n"));
    let base = commit_all(&r, "old secret");
    // Modify the file holding the old secret: a new line with a new secret.
    write(
        &r,
        "settings.py",
        &format!("A = 2\nTOKEN = '{old}'\nNEW = '{new}'\nB = 3\n"),
    );
    let head = commit_all(&r, "new secret");

    for args in [
        vec!["--range".to_string(), format!("{base}..{head}")],
        vec!["--since".to_string(), base.clone()],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, findings, _) = scan_json(&r, &args);
        assert_eq!(code, 1);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0]["line"], 3);
        assert_eq!(findings[0]["commit"], head.as_str());
    }

    // A change that only touches other lines adds nothing.
    write(
        &r,
        "settings.py",
        &format!("A = 3\nTOKEN = '{old}'\nNEW = '{new}'\nB = 4\n"),
    );
    let later = commit_all(&r, "unrelated edit");
    let (code, findings, _) = scan_json(&r, &["--range", &format!("{head}..{later}")]);
    assert_eq!((code, findings.len()), (0, 0));

    // BASE == HEAD scans nothing and succeeds.
    let (code, findings, _) = scan_json(&r, &["--range", &format!("{later}..{later}")]);
    assert_eq!((code, findings.len()), (0, 0));
}

#[test]
fn merge_contributes_only_what_no_parent_had() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "README", "hello\n");
    commit_all(&r, "first");
    git(&r, &["checkout", "-q", "-b", "feature"]);
    let f_tok = token('e');
    write(&r, "feature.txt", &format!("key {f_tok}\n"));
    commit_all(&r, "feature secret");
    git(&r, &["checkout", "-q", "main"]);
    let m_tok = token('f');
    write(&r, "main.txt", &format!("key {m_tok}\n"));
    let main_commit = commit_all(&r, "main secret");
    git(&r, &["merge", "-q", "--no-edit", "feature"]);
    let merge = git(&r, &["rev-parse", "HEAD"]);

    // feature..merge holds main's commit and the merge; the merge brings
    // feature.txt over main, but feature already had it.
    let (code, findings, _) = scan_json(&r, &["--range", &format!("feature..{merge}")]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["path"], "main.txt");
    assert_eq!(findings[0]["commit"], main_commit.as_str());
}

#[test]
fn shallow_clone_with_missing_base_fails_and_names_the_fix() {
    let t = tempfile::tempdir().unwrap();
    let up = new_repo(&t.path().join("up"));
    write(&up, "a", "1\n");
    let first = commit_all(&up, "one");
    write(&up, "a", "2\n");
    commit_all(&up, "two");
    write(&up, "a", &format!("3 {}\n", token('g')));
    commit_all(&up, "three");
    let url = format!("file://{}", up.display());
    let clone = t.path().join("clone");
    let out = git_out(
        t.path(),
        &["clone", "-q", "--depth", "1", &url, clone.to_str().unwrap()],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = leakscan(&clone)
        .args(["git", "--range", &format!("{first}..HEAD")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("fetch-depth: 0"), "{stderr}");
    assert!(stderr.contains("git fetch --deepen"), "{stderr}");
    assert!(stderr.contains("shallow"), "{stderr}");
}

#[test]
fn all_objects_finds_unreachable_blobs_and_size_limit_counts_skips() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "README", "hello\n");
    write(&r, "big.txt", &"x".repeat(5000));
    commit_all(&r, "first");
    write(&r, "loose.txt", &format!("k={}\n", token('h')));
    git(&r, &["hash-object", "-w", "loose.txt"]);
    std::fs::remove_file(r.join("loose.txt")).unwrap();

    let (code, findings, _) = scan_json(&r, &[]);
    assert_eq!((code, findings.len()), (0, 0));
    let (code, findings, _) = scan_json(&r, &["--all-objects"]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 1);
    assert!(
        findings[0]["path"]
            .as_str()
            .unwrap()
            .starts_with("<unreachable blob ")
    );

    let out = leakscan(&r)
        .args(["git", "--max-file-size", "1000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 too-large"));
}

#[test]
fn not_a_repository_is_an_error() {
    let t = tempfile::tempdir().unwrap();
    let out = leakscan(t.path()).args(["git"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a git repository"));
}
