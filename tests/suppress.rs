//! Suppression and triage on real git repositories: inline allow comments,
//! `.leakscanignore` entries surviving rebase, squash and moved lines, stale
//! entries, baselines, `explain`, and malformed files (exit 2, file:line).

mod ci_support;
mod gitutil;

use std::path::Path;
use std::process::Output;

use gitutil::*;

/// A fake Entra client secret: `abc8Q~` + 34 URL-unreserved characters.
fn entra(seed: char) -> String {
    format!("abc8Q~{seed}FaKe-TeSt_7Rk2Wq9Lm4Xz8Pv3Hd6Ns1J")
}

fn run(dir: &Path, args: &[&str]) -> Output {
    leakscan(dir).args(args).output().unwrap()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `leakscan <args> --format json`: exit code, findings, stderr.
fn scan(dir: &Path, args: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let out = leakscan(dir)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let c = code(&out);
    assert_ne!(c, 2, "scan failed: {}", stderr(&out));
    (c, json_findings(&out), stderr(&out))
}

fn fingerprints(findings: &[serde_json::Value]) -> Vec<String> {
    findings
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().to_string())
        .collect()
}

/// Removes every trace of rewritten commits so a history scan can only see
/// the new ones.
fn forget_old_commits(r: &Path) {
    git(r, &["reflog", "expire", "--expire=now", "--all"]);
    let _ = std::fs::remove_file(r.join(".git/ORIG_HEAD"));
    git(r, &["gc", "-q", "--prune=now"]);
}

#[test]
fn inline_allow_same_line_next_line_and_pem_block() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let (a, b, c, e) = (token('a'), token('b'), token('c'), token('e'));
    write(
        d,
        "app.py",
        &format!(
            "A = \"{a}\"\nB = \"{b}\"  # leakscan:allow test fixture\n# leakscan:allow-next-line\nC = \"{c}\"\nE = \"{e}\"\nF = 1 # leakscan:allowed is not a marker\n"
        ),
    );
    let (rc, f, err) = scan(d, &["dir", "."]);
    assert_eq!(rc, 1);
    let lines: Vec<u64> = f.iter().map(|x| x["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [1, 5], "{f:?}");
    assert!(err.contains("2 suppressed: 2 inline"), "{err}");

    // A PEM block marked on its BEGIN line; another marked on its END line.
    let key = include_str!("../fixtures/tree/auth/certs/daemon.key").trim_end();
    let pem = |tail_begin: &str, tail_end: &str| {
        let mut lines: Vec<String> = key.lines().map(str::to_string).collect();
        lines[0].push_str(tail_begin);
        lines.last_mut().unwrap().push_str(tail_end);
        lines.join("\n") + "\n"
    };
    write(d, "app.py", "x = 1\n");
    write(d, "plain.pem", &pem("", ""));
    let (rc, f, _) = scan(d, &["dir", "."]);
    assert_eq!(rc, 1, "the unmarked key must be found first");
    assert_eq!(f.len(), 1, "{f:?}");
    write(d, "plain.pem", &pem(" leakscan:allow", ""));
    write(d, "end.pem", &pem("", " leakscan:allow"));
    let (rc, f, err) = scan(d, &["dir", "."]);
    assert_eq!((rc, f.len()), (0, 0), "{f:?}");
    assert!(err.contains("2 suppressed: 2 inline"), "{err}");

    // stdin goes through the same pipeline.
    let out = assert_cmd::Command::from_std(std::mem::replace(
        leakscan(d).args(["stdin", "--format", "json"]),
        std::process::Command::new("true"),
    ))
    .write_stdin(format!("k = \"{a}\" // leakscan:allow\n"))
    .output()
    .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("1 suppressed: 1 inline"));
}

#[test]
fn ignore_entry_survives_rebase_squash_and_moved_lines() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "README", "hello\n");
    commit_all(&r, "first");
    git(&r, &["checkout", "-q", "-b", "feature"]);
    let tok = token('s');
    write(&r, "config/app.env", &format!("A=1\nGITHUB_TOKEN={tok}\n"));
    let original = commit_all(&r, "add config");
    write(&r, "notes.txt", "more\n");
    commit_all(&r, "notes");
    // `.leakscanignore` stays untracked so history rewrites cannot touch it.
    write(&r, ".git/info/exclude", ".leakscanignore\nempty\n");
    write(&r, "empty", "");

    let (rc, f, _) = scan(&r, &["git", "."]);
    assert_eq!(rc, 1);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["commit"], original.as_str());
    let fp = f[0]["fingerprint"].as_str().unwrap().to_string();
    assert!(!fp.contains(&tok[4..]));

    let out = run(&r, &["ignore", &fp, "--reason", "test token, never valid"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = std::fs::read_to_string(r.join(".leakscanignore")).unwrap();
    assert!(
        text.contains(&format!("{fp}  # test token, never valid\n")),
        "{text}"
    );

    let suppressed = |label: &str| {
        let (rc, f, err) = scan(&r, &["git", "."]);
        assert_eq!((rc, f.len()), (0, 0), "{label}: {f:?}");
        // One finding per blob holding the secret, all by the ignore file.
        let n = err
            .trim()
            .split("; ")
            .find_map(|p| p.strip_suffix(" ignore file"))
            .and_then(|p| p.rsplit(' ').next())
            .unwrap_or("0");
        assert!(
            err.contains(&format!("{n} suppressed: {n} ignore file")),
            "{label}: {err}"
        );
        assert_ne!(n, "0", "{label}: {err}");
        let (rc, f, _) = scan(&r, &["dir", "."]);
        assert_eq!((rc, f.len()), (0, 0), "{label} (dir): {f:?}");
        // Control: without the ignore file the secret is still there, with
        // the very same fingerprint.
        let (rc, f, _) = scan(&r, &["git", ".", "--ignore-file", "empty"]);
        assert_eq!(rc, 1, "{label}");
        let mut fps = fingerprints(&f);
        fps.dedup();
        assert_eq!(fps, std::slice::from_ref(&fp), "{label}");
        f[0]["commit"].as_str().unwrap().to_string()
    };
    assert_eq!(suppressed("before"), original);

    // Rebase onto a moved main: every feature commit gets a new id.
    git(&r, &["checkout", "-q", "main"]);
    write(&r, "README", "hello, main moved on\n");
    commit_all(&r, "main work");
    git(&r, &["checkout", "-q", "feature"]);
    git(&r, &["rebase", "-q", "main"]);
    forget_old_commits(&r);
    let rebased = suppressed("after rebase");
    assert_ne!(
        rebased, original,
        "the history scan sees the rebased commit"
    );

    // Squash the feature into one commit.
    git(&r, &["reset", "-q", "--soft", "main"]);
    git(&r, &["commit", "-q", "-m", "squashed feature"]);
    forget_old_commits(&r);
    let squashed = suppressed("after squash");
    assert_ne!(squashed, rebased);
    assert_eq!(squashed, git(&r, &["rev-parse", "HEAD"]));

    // Move the secret to another line (and indent it).
    write(
        &r,
        "config/app.env",
        &format!("# settings\nB=2\nA=1\n\n  GITHUB_TOKEN={tok}\n"),
    );
    commit_all(&r, "reorder config");
    let (_, f, _) = scan(&r, &["dir", ".", "--ignore-file", "empty"]);
    assert_eq!(f[0]["line"], 5, "the secret really moved");
    suppressed("after moving the line");

    // A path-scoped entry: still suppresses after the move, but not a copy
    // of the secret in another file.
    std::fs::write(
        r.join(".leakscanignore"),
        format!("config/app.env:{fp}  # only here\n"),
    )
    .unwrap();
    let (rc, f, _) = scan(&r, &["dir", "."]);
    assert_eq!((rc, f.len()), (0, 0), "{f:?}");
    write(&r, "other.env", &format!("T={tok}\n"));
    let (rc, f, _) = scan(&r, &["dir", "."]);
    assert_eq!(rc, 1);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["path"], "other.env");
    // Scanning the repository from outside: the scope is relative to the
    // scanned root, not to the current directory.
    let (_, f, _) = scan(t.path(), &["dir", "r"]);
    let paths: Vec<&str> = f.iter().map(|x| x["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["r/other.env"], "{f:?}");
}

#[test]
fn stale_entries_are_reported_with_file_and_line() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    let live = token('l');
    write(&r, "a.txt", &format!("t={live}\n"));
    commit_all(&r, "a");
    let (_, f, _) = scan(&r, &["git", "."]);
    let fp = fingerprints(&f).remove(0);
    let gone = leakscan_scanner::finding::fingerprint("github-token", token('g').as_bytes());
    std::fs::write(
        r.join(".leakscanignore"),
        format!("# reviewed 2024\n{fp}  # in use by tests\n\n{gone}  # rotated long ago\nelsewhere.txt:{fp}\n"),
    )
    .unwrap();
    for cmd in [["git", "."], ["dir", "."]] {
        let out = run(&r, &[cmd[0], cmd[1], "--report-stale"]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("2 stale entries in"), "{err}");
        assert!(
            err.contains(&format!(".leakscanignore:4: {gone}  # rotated long ago")),
            "{err}"
        );
        assert!(
            err.contains(&format!(".leakscanignore:5: elsewhere.txt:{fp}")),
            "{err}"
        );
        assert!(!err.contains(":2: "), "the used entry is not stale: {err}");
    }
    // Without the flag nothing is said about stale entries.
    let out = run(&r, &["dir", "."]);
    assert!(!stderr(&out).contains("stale"));
}

#[test]
fn baseline_reports_only_new_secrets_and_holds_no_secret() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    let (gh, az) = (token('o'), entra('o'));
    write(&r, "src/settings.py", &format!("GH = \"{gh}\"\n"));
    write(
        &r,
        "deploy/azure.env",
        &format!("AZURE_CLIENT_SECRET={az}\n"),
    );
    commit_all(&r, "old secrets");
    write(&r, "src/settings.py", "GH = None\n");
    commit_all(&r, "remove from the tree (still in history)");

    let out = run(
        &r,
        &["baseline", "create", "-o", "baseline.txt", "git", "."],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("baseline: 2 entries for 2 findings written to baseline.txt"));
    let text = std::fs::read_to_string(r.join("baseline.txt")).unwrap();
    for secret in [&gh[..], &az[..], &gh[4..], &az[6..]] {
        assert!(!text.contains(secret), "baseline holds a secret:\n{text}");
    }
    let entries: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let fp_gh = leakscan_scanner::finding::fingerprint("github-token", gh.as_bytes());
    let fp_az = leakscan_scanner::finding::fingerprint("entra-client-secret", az.as_bytes());
    assert_eq!(
        entries,
        [
            format!("{fp_az} deploy/azure.env"),
            format!("{fp_gh} src/settings.py")
        ],
        "sorted by path, rule and path present, no line numbers:\n{text}"
    );
    // Stable: a second run writes the same bytes (no timestamps).
    run(&r, &["baseline", "create", "-o", "again.txt", "git", "."]);
    assert_eq!(std::fs::read(r.join("again.txt")).unwrap(), text.as_bytes());

    // A new secret: only it is reported.
    let new = token('n');
    write(&r, "src/new.py", &format!("T = '{new}'\n"));
    commit_all(&r, "new secret");
    let (rc, f, err) = scan(&r, &["git", ".", "--baseline", "baseline.txt"]);
    assert_eq!(rc, 1);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["path"], "src/new.py");
    assert!(err.contains("2 suppressed: 2 baseline"), "{err}");
    let (rc, f, _) = scan(&r, &["dir", ".", "--baseline", "baseline.txt"]);
    assert_eq!((rc, f.len()), (1, 1), "{f:?}");

    // JSON baseline, and a previous JSON report, work the same way.
    let out = run(&r, &["baseline", "create", "--format", "json", "git", "."]);
    assert_eq!(code(&out), 0);
    let json = stdout(&out);
    assert!(!json.contains(&new[4..]));
    let lines: Vec<&str> = json.lines().collect();
    assert_eq!(lines.len(), 5, "one entry per line:\n{json}");
    write(&r, "baseline.json", &json);
    let (rc, f, _) = scan(&r, &["git", ".", "--baseline", "baseline.json"]);
    assert_eq!((rc, f.len()), (0, 0));
    let out = run(&r, &["git", ".", "--format", "json", "-o", "report.json"]);
    assert_eq!(code(&out), 1);
    let extra = entra('x');
    write(&r, "late.env", &format!("AZURE_CLIENT_SECRET={extra}\n"));
    let (rc, f, _) = scan(&r, &["dir", ".", "--baseline", "report.json"]);
    assert_eq!(rc, 1);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["path"], "late.env");
}

#[test]
fn explain_shows_the_stage_that_suppressed_and_the_stages_that_reported() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    let (a, b) = (token('a'), token('b'));
    let mut bad = token('c');
    bad.replace_range(39..40, if bad.ends_with('Z') { "Y" } else { "Z" });
    write(
        &r,
        "app.py",
        &format!("A = \"{a}\"\nB = \"{b}\"  # leakscan:allow\nC = \"{bad}\"\nplain = 1\n"),
    );
    commit_all(&r, "app");

    let out = run(&r, &["explain", "app.py:1"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "a reported candidate exits 1:\n{text}");
    for want in [
        "candidate 1: github-token (GitHub token) at 1:6-1:46",
        "keyword           pass      found in the blob: ghp_",
        "regex             pass      matched at line 1, column 6",
        "validator         pass      `github-checksum` accepts it",
        "inline allow      pass",
        "ignore file       pass      no ignore file",
        "baseline          pass      no --baseline given",
        "decision: REPORTED",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }

    let out = run(&r, &["explain", "app.py:2"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    assert!(
        text.contains("inline allow      SUPPRESS  `leakscan:allow` on line 2"),
        "{text}"
    );
    assert!(
        text.contains("decision: not reported: suppressed by inline allow"),
        "{text}"
    );

    let out = run(&r, &["explain", "app.py:3"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    assert!(
        text.contains("validator         REJECT    github-checksum: checksum does not match"),
        "{text}"
    );
    assert!(
        text.contains("inline allow      -"),
        "later stages are not reached: {text}"
    );
    assert!(
        text.contains("decision: not reported: rejected by the validator stage"),
        "{text}"
    );

    let out = run(&r, &["explain", "app.py:4"]);
    assert!(stdout(&out).contains("no candidate secret on this line"));

    // Ignore file and baseline stages name the entry.
    let fp = leakscan_scanner::finding::fingerprint("github-token", a.as_bytes());
    std::fs::write(r.join(".leakscanignore"), format!("\n{fp}  # reviewed\n")).unwrap();
    let out = run(&r, &["explain", "app.py:1"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    assert!(
        text.contains(&format!(
            "ignore file       SUPPRESS  .leakscanignore:2: `{fp}` # reviewed"
        )),
        "{text}"
    );
    std::fs::remove_file(r.join(".leakscanignore")).unwrap();
    write(&r, "base.txt", &format!("{fp} app.py\n"));
    let out = run(&r, &["explain", "app.py:1", "--baseline", "base.txt"]);
    assert!(stdout(&out).contains(&format!("baseline          SUPPRESS  {fp} is in base.txt")));

    // The config's path allowlist, and a fingerprint that looks like a secret.
    write(&r, ".leakscan.toml", "[allow]\npaths = [\"vendor/**\"]\n");
    write(&r, "vendor/lib.py", &format!("V = '{a}'\n"));
    let out = run(&r, &["explain", "vendor/lib.py:1"]);
    assert_eq!(code(&out), 0);
    assert!(
        stdout(&out).contains(
            "path allowlist    SUPPRESS  vendor/lib.py matches [allow] paths in .leakscan.toml"
        ),
        "{}",
        stdout(&out)
    );
    // (a rule id without a secret word: a value naming a token is rejected
    // earlier, by the generic validator)
    let fp = leakscan_scanner::finding::fingerprint("stripe-live-key", a.as_bytes());
    write(&r, "notes.txt", &format!("secret = \"{fp}\"\n"));
    let out = run(&r, &["explain", "notes.txt:1"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    assert!(
        text.contains("fingerprint       SUPPRESS  the text is a leakscan fingerprint"),
        "{text}"
    );
    std::fs::remove_file(r.join(".leakscan.toml")).unwrap();

    // A blob in history (the file is gone from disk), from a subdirectory.
    std::fs::remove_file(r.join("app.py")).unwrap();
    commit_all(&r, "remove app");
    std::fs::create_dir_all(r.join("sub")).unwrap();
    let out = run(
        &r.join("sub"),
        &["explain", "--rev", "HEAD~1", "app.py:1", "--format", "json"],
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["candidates"][0]["rule"], "github-token");
    assert_eq!(v["candidates"][0]["decision"], "REPORTED");
    let out = run(&r, &["explain", "--rev", "HEAD", "app.py:1"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("no blob HEAD:app.py"),
        "{}",
        stderr(&out)
    );

    // Never the whole secret, in any of these outputs.
    for line in ["1", "2", "3"] {
        let out = run(
            &r,
            &["explain", "--rev", "HEAD~1", &format!("app.py:{line}")],
        );
        let all = format!("{}{}", stdout(&out), stderr(&out));
        for s in [&a, &b, &bad] {
            assert!(!all.contains(&s[4..]), "secret shown:\n{all}");
        }
    }
}

#[test]
fn malformed_baseline_or_ignore_file_exits_2_naming_file_and_line() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    let tok = token('m');
    write(&r, "a.txt", &format!("t={tok}\n"));
    commit_all(&r, "a");
    let fp = leakscan_scanner::finding::fingerprint("github-token", tok.as_bytes());

    // A secret pasted into the ignore file by mistake: named by line, never echoed.
    write(&r, ".leakscanignore", &format!("# ok\n{fp}\n{tok}\n"));
    for cmd in ["git", "dir"] {
        let out = run(&r, &[cmd, "."]);
        assert_eq!(code(&out), 2, "{cmd}");
        let err = stderr(&out);
        assert!(
            err.contains(".leakscanignore:3: not a fingerprint"),
            "{err}"
        );
        assert!(!err.contains(&tok[4..]), "{err}");
        assert!(stdout(&out).is_empty());
    }
    std::fs::remove_file(r.join(".leakscanignore")).unwrap();
    write(&r, "custom.ignore", "github-token:0123\n");
    let out = run(&r, &["dir", ".", "--ignore-file", "custom.ignore"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("custom.ignore:1: not a fingerprint"),
        "{}",
        stderr(&out)
    );
    let out = run(&r, &["dir", ".", "--ignore-file", "missing.ignore"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("missing.ignore does not exist"));

    let cases = [
        (
            "b.txt",
            format!("# header\n{fp} a.txt\nnot a fingerprint\n"),
            "b.txt:3:",
        ),
        (
            "b.json",
            format!("[\n{{\"fingerprint\": \"{fp}\"}},\n{{\"path\": \"a.txt\"}}\n]\n"),
            "b.json:3:",
        ),
        (
            "b2.json",
            format!("[\n{{\"fingerprint\": \"{fp}\"}},\n"),
            "b2.json:3:",
        ),
        (
            "b.jsonl",
            format!("{{\"fingerprint\": \"{fp}\"}}\n{{\"fingerprint\": \"x\"}}\n"),
            "b.jsonl:2:",
        ),
    ];
    for (name, body, want) in cases {
        write(&r, name, &body);
        for cmd in ["git", "dir"] {
            let out = run(&r, &[cmd, ".", "--baseline", name]);
            assert_eq!(code(&out), 2, "{name}");
            let err = stderr(&out);
            assert!(err.contains(&format!("baseline {want}")), "{name}: {err}");
        }
    }
}

#[test]
fn ignore_command_validates_and_skips_duplicates_and_report_teaches_suppression() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let tok = token('i');
    write(d, "k.txt", &format!("t={tok}\n"));
    let out = run(d, &["dir", "."]);
    assert_eq!(code(&out), 1);
    let report = stdout(&out);
    let fp = leakscan_scanner::finding::fingerprint("github-token", tok.as_bytes());
    assert!(
        report.contains(&format!("leakscan ignore {fp} --reason")),
        "{report}"
    );
    assert!(
        report.contains(&format!("`{fp}  # why it is safe` to .leakscanignore")),
        "{report}"
    );
    assert!(report.contains("`# leakscan:allow`"), "{report}");
    assert!(report.contains("leakscan:allow-next-line"), "{report}");
    assert!(!report.contains(&tok[4..]));

    let out = run(
        d,
        &["ignore", &fp, &format!("k.txt:{fp}"), "--reason", "fixture"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = run(d, &["ignore", &fp]);
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).contains("is already in .leakscanignore"));
    let out = run(d, &["ignore", "github-token:XYZ", &tok]);
    assert_eq!(code(&out), 2);
    assert!(!stderr(&out).contains(&tok[4..]), "{}", stderr(&out));
    let out = run(d, &["ignore", &fp, "--reason", "two\nlines"]);
    assert_eq!(code(&out), 2);
    let text = std::fs::read_to_string(d.join(".leakscanignore")).unwrap();
    let entries: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        entries,
        [format!("{fp}  # fixture"), format!("k.txt:{fp}  # fixture")]
    );
    let out = run(d, &["dir", "."]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("1 suppressed: 1 ignore file"));

    // Fingerprints are never taken for secrets, wherever they appear (ignore
    // files, baselines, reports, docs), whatever the rule's keywords.
    let rules = [
        "github-token",
        "generic-secret-assignment",
        "entra-client-secret",
        "aws-access-key-id",
    ];
    let text: String = (0..200)
        .map(|i| {
            let rule = rules[i % rules.len()];
            let fp = leakscan_scanner::finding::fingerprint(rule, format!("s{i}").as_bytes());
            format!("token: {fp}\nsecret = \"{fp}\"\napi_key={fp} path/x.py\n")
        })
        .collect();
    write(d, "fingerprints.txt", &text);
    let out = run(d, &["dir", "."]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn suppression_applies_to_staged_and_range_scans() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    write(&r, "README", "hello\n");
    let base = commit_all(&r, "first");
    let (a, b, c) = (token('a'), token('b'), token('c'));
    let fp_b = leakscan_scanner::finding::fingerprint("github-token", b.as_bytes());
    write(
        &r,
        ".leakscanignore",
        &format!("src/b.py:{fp_b}  # reviewed\n"),
    );
    write(
        &r,
        "src/a.py",
        &format!("# leakscan:allow-next-line\nA = '{a}'\n"),
    );
    write(&r, "src/b.py", &format!("B = '{b}'\n"));
    git(&r, &["add", "-A"]);
    let (rc, f, err) = scan(&r, &["staged"]);
    assert_eq!((rc, f.len()), (0, 0), "{f:?}");
    assert!(
        err.contains("2 suppressed: 1 ignore file, 1 inline"),
        "{err}"
    );

    write(&r, "src/c.py", &format!("C = '{c}'\n"));
    git(&r, &["add", "-A"]);
    let (rc, f, _) = scan(&r, &["staged"]);
    assert_eq!(rc, 1);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["path"], "src/c.py");
    git(&r, &["commit", "-q", "-m", "three secrets"]);

    // A range scan with a baseline of the one reported secret.
    let range = format!("{base}..HEAD");
    let out = run(
        &r,
        &[
            "baseline", "create", "-o", "b.txt", "git", ".", "--range", &range,
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = std::fs::read_to_string(r.join("b.txt")).unwrap();
    assert_eq!(
        text.lines().filter(|l| !l.starts_with('#')).count(),
        1,
        "{text}"
    );
    let (rc, f, err) = scan(&r, &["git", ".", "--range", &range, "--baseline", "b.txt"]);
    assert_eq!((rc, f.len()), (0, 0), "{f:?}");
    assert!(err.contains("1 baseline"), "{err}");
    let (rc, f, _) = scan(&r, &["git", ".", "--range", &range]);
    assert_eq!((rc, f.len()), (1, 1), "{f:?}");
}

#[test]
fn ci_command_applies_the_ignore_file_and_baseline() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("ws"));
    let (a, b) = (token('a'), entra('b'));
    write(&r, "src/a.py", &format!("A = '{a}'\n"));
    write(&r, "deploy/b.env", &format!("AZURE_CLIENT_SECRET={b}\n"));
    let fp_a = leakscan_scanner::finding::fingerprint("github-token", a.as_bytes());
    let fp_b = leakscan_scanner::finding::fingerprint("entra-client-secret", b.as_bytes());
    write(&r, ".leakscanignore", &format!("{fp_a}  # fixture\n"));
    let head = commit_all(&r, "secrets");
    write(&r, "base.txt", &format!("{fp_b} deploy/b.env\n"));
    let ci = |name: &str, args: &[&str]| {
        let runner = ci_support::Runner::new(
            &t.path().join(name),
            &r,
            "schedule",
            &serde_json::json!({}),
            &head,
        );
        let mut cmd = leakscan(&r);
        runner.apply(&mut cmd);
        let out = cmd.arg("ci").args(args).output().unwrap();
        (
            code(&out),
            runner.outputs()["findings"].clone(),
            stderr(&out),
        )
    };
    let (rc, n, err) = ci("one", &[]);
    assert_eq!((rc, n.as_str()), (1, "1"), "{err}");
    assert!(err.contains("1 suppressed: 1 ignore file"), "{err}");
    let (rc, n, err) = ci("two", &["--baseline", "base.txt"]);
    assert_eq!((rc, n.as_str()), (0, "0"), "{err}");
    assert!(
        err.contains("2 suppressed: 1 baseline, 1 ignore file"),
        "{err}"
    );
}
