//! `leakscan staged`: the index against HEAD, added lines only, blobs read
//! from the index (partial staging), GIT_INDEX_FILE, the first commit.

mod gitutil;

use gitutil::*;

#[test]
fn partial_staging_reads_the_index_not_the_working_tree() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "app.cfg", "name = demo\n");
    commit_all(&r, "first");
    let tok = token('a');
    // Only in the working tree: the commit would not contain it.
    write(&r, "app.cfg", &format!("name = demo\ntoken = {tok}\n"));
    let out = leakscan(&r).arg("staged").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Staged: blocked, with what to do.
    git(&r, &["add", "app.cfg"]);
    let out = leakscan(&r).arg("staged").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("app.cfg:2:"), "{stdout}");
    assert!(!stdout.contains(&tok) && !stderr.contains(&tok));
    assert!(
        stderr.contains("git restore --staged -- 'app.cfg'"),
        "{stderr}"
    );
    assert!(stderr.contains("leakscan:allow"), "{stderr}");
    assert!(stderr.contains("--no-verify"), "{stderr}");

    // Staged, then removed from the working tree: still what the commit holds.
    write(&r, "app.cfg", "name = demo\n");
    let out = leakscan(&r).arg("staged").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn only_added_lines_count() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    let old = token('b');
    write(&r, "s.env", &format!("OLD={old}\n"));
    commit_all(&r, "old secret already committed");
    write(&r, "s.env", &format!("OLD={old}\nOTHER=1\n"));
    git(&r, &["add", "s.env"]);
    let out = leakscan(&r).arg("staged").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let new = token('c');
    write(&r, "s.env", &format!("OLD={old}\nOTHER=1\nNEW={new}\n"));
    git(&r, &["add", "s.env"]);
    let out = leakscan(&r)
        .args(["staged", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let f = json_findings(&out);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["line"], 3);
}

#[test]
fn first_commit_is_checked_against_the_empty_tree() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "clean.txt", "nothing here\n");
    git(&r, &["add", "-A"]);
    let out = leakscan(&r).arg("staged").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    write(&r, "k.txt", &format!("{}\n", token('d')));
    git(&r, &["add", "-A"]);
    let out = leakscan(&r).arg("staged").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn honours_git_index_file() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "a.txt", "a\n");
    commit_all(&r, "first");
    // A temporary index (as `git commit <path>` builds) holding a secret;
    // the main index stays clean.
    let tmp_index = r.join(".git/next-index-test.lock");
    let idx = tmp_index.to_str().unwrap();
    let env = [("GIT_INDEX_FILE", idx)];
    assert!(git_out(&r, &["read-tree", "HEAD"], &env).status.success());
    write(&r, "a.txt", &format!("a\n{}\n", token('e')));
    assert!(git_out(&r, &["add", "a.txt"], &env).status.success());

    let out = leakscan(&r).arg("staged").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "main index is clean");
    let out = leakscan(&r)
        .arg("staged")
        .env("GIT_INDEX_FILE", idx)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the temporary index has the secret"
    );
}

#[test]
fn outside_a_repository_is_an_error() {
    let t = tempfile::tempdir().unwrap();
    let out = leakscan(t.path())
        .arg("staged")
        .env("GIT_CEILING_DIRECTORIES", t.path().parent().unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The summary counts an inline-allowed finding only where the commit adds
/// it: an allowed secret already in HEAD is not counted again for every
/// later edit of its file.
#[test]
fn inline_allowed_count_covers_only_added_lines() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    let old = token('c');
    write(&r, "s.env", &format!("OLD={old} # leakscan:allow\n"));
    commit_all(&r, "allowed secret already committed");
    write(
        &r,
        "s.env",
        &format!("OLD={old} # leakscan:allow\nOTHER=1\n"),
    );
    git(&r, &["add", "s.env"]);
    let out = leakscan(&r).arg("staged").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("suppressed"), "{stderr}");

    // A newly added allowed secret is counted once.
    let new = token('d');
    write(
        &r,
        "s.env",
        &format!("OLD={old} # leakscan:allow\nOTHER=1\nNEW={new} # leakscan:allow\n"),
    );
    git(&r, &["add", "s.env"]);
    let out = leakscan(&r).arg("staged").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("1 suppressed: 1 inline"), "{stderr}");
}

/// Issue 15 item 2: a finding suppressed by the ignore file or a baseline
/// does not block the commit, and the hook says nothing about a secret.
#[test]
fn issue15_hint_follows_reported_findings_only() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "a.txt", "a\n");
    commit_all(&r, "first");
    write(&r, "app.cfg", &format!("token = {}\n", token('f')));
    git(&r, &["add", "app.cfg"]);
    let out = leakscan(&r)
        .args(["staged", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let fp = json_findings(&out)[0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();

    // The ignore file: 0 findings, 1 suppressed, no hint.
    write(&r, ".leakscanignore", &format!("{fp}  # test fixture\n"));
    let out = leakscan(&r).arg("staged").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("0 findings; 1 suppressed"), "{stderr}");
    assert!(!stderr.contains("add 1 secret"), "{stderr}");
    assert!(!stderr.contains("Before committing"), "{stderr}");
    std::fs::remove_file(r.join(".leakscanignore")).unwrap();

    // A baseline: the same.
    let base = t.path().join("base.json");
    let out = leakscan(&r)
        .args(["staged", "--format", "json", "-o"])
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = leakscan(&r)
        .args(["staged", "--baseline"])
        .arg(&base)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("Before committing"), "{stderr}");

    // Two reported secrets: plural, "remove them".
    write(
        &r,
        "app.cfg",
        &format!("token = {}\nother = {}\n", token('f'), token('g')),
    );
    git(&r, &["add", "app.cfg"]);
    let out = leakscan(&r).arg("staged").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("add 2 secrets"), "{stderr}");
    assert!(stderr.contains("remove them from"), "{stderr}");
}
