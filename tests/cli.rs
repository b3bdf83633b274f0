//! The command line as a user meets it (issue 2): every command, format and
//! exit code, `--output`, redaction, config and path errors, determinism
//! across thread counts, binary and oversized files. Each test checks exit
//! code, stdout and stderr together, with temp paths and timings filtered.

use std::path::Path;
use std::process::Command as StdCommand;

use assert_cmd::Command;
use tempfile::TempDir;

mod gitutil;

/// Fake secrets in valid formats (the GitHub one carries a valid checksum).
const GITHUB: &str = "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";
const STRIPE: &str = "sk_live_kqqeaA355XqA9adgpbthgRJK72wuXDMOPT";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs leakscan in `dir` and filters `dir` and timings out of the output.
fn run(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = Command::cargo_bin("leakscan").unwrap();
    cmd.current_dir(dir).args(args).env("NO_COLOR", "1");
    if let Some(s) = stdin {
        cmd.write_stdin(s.as_bytes().to_vec());
    }
    let out = cmd.output().unwrap();
    let filter = |b: &[u8]| {
        let s = String::from_utf8_lossy(b).replace(&dir.display().to_string(), "[TMP]");
        filter_elapsed(&s)
    };
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: filter(&out.stdout),
        stderr: filter(&out.stderr),
    }
}

/// `in 0.03s` → `in [T]s`.
fn filter_elapsed(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(" in ") {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if n > 0 && rest[n..].starts_with('s') {
            out.push_str("[T]");
            rest = &rest[n..];
        }
    }
    out.push_str(rest);
    out
}

/// A temp dir with an empty config, so the repository's own allowlist does
/// not apply.
fn tree(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".leakscan.toml"), "").unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn leaky_tree() -> TempDir {
    tree(&[
        ("src/app.py", &format!("import os\nGITHUB = \"{GITHUB}\"\n")),
        ("billing/.env", &format!("STRIPE_SECRET_KEY={STRIPE}\n")),
        ("README.md", "# nothing here\n"),
    ])
}

#[test]
fn dir_text_report_and_exit_1() {
    let dir = leaky_tree();
    let r = run(dir.path(), &["dir", "."], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let fp_github = leakscan_fingerprint("github-token", GITHUB);
    let fp_stripe = leakscan_fingerprint("stripe-live-key", STRIPE);
    let findings = format!(
        "Stripe live secret or restricted key stripe-live-key [token]\n  billing/.env:1:19\n  secret: sk_l…  (entropy 4.90)\n  fingerprint: {fp_stripe}\n  fix: Roll the key in the Stripe dashboard (Developers, API keys), review recent API activity, and load the new key from a secret store. Revoke or rotate it at https://dashboard.stripe.com/apikeys\n\nGitHub token github-token [token]\n  src/app.py:2:11\n  secret: ghp_…  (entropy 4.78)\n  fingerprint: {fp_github}\n  fix: Revoke the token in GitHub settings (or via the credential revocation API) and create a new one with the least scope.\n\n"
    );
    // The findings, then the footer teaching how to suppress each one.
    let (head, footer) = r.stdout.split_at(findings.len().min(r.stdout.len()));
    assert_eq!(head, findings);
    assert!(
        footer.starts_with("To suppress a finding that is not a leak"),
        "{footer}"
    );
    for fp in [&fp_github, &fp_stripe] {
        assert!(
            footer.contains(&format!("leakscan ignore {fp} --reason")),
            "{footer}"
        );
    }
    assert!(footer.contains("leakscan:allow"), "{footer}");
    assert_eq!(r.stderr, "scanned 4 files (138 B) in [T]s; 2 findings\n");
}

/// The fingerprint as documented: `{rule}:` + 16 hex of
/// SHA-256("leakscan-fp-v1" NUL rule NUL secret); taken from the JSON
/// report of a separate run so the text test stays independent of hashing.
fn leakscan_fingerprint(rule: &str, secret: &str) -> String {
    let dir = tree(&[]);
    let r = run(
        dir.path(),
        &["stdin", "--format", "jsonl", "--quiet"],
        Some(&format!("x = \"{secret}\"\n")),
    );
    let f: serde_json::Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(f["rule"], rule);
    f["fingerprint"].as_str().unwrap().to_string()
}

#[test]
fn dir_clean_tree_exits_0() {
    let dir = tree(&[("a.txt", "hello\n"), ("b.env", "PASSWORD=${DB_PASSWORD}\n")]);
    let r = run(dir.path(), &["dir", "."], None);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    assert_eq!(r.stderr, "scanned 3 files (30 B) in [T]s; 0 findings\n");
}

#[test]
fn stdin_with_path_label_in_every_format() {
    let dir = tree(&[]);
    let input = format!("token: {GITHUB}\n");
    for format in ["text", "json", "jsonl"] {
        let r = run(
            dir.path(),
            &["stdin", "--path", "ci/build.log", "--format", format],
            Some(&input),
        );
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(r.stdout.contains("ci/build.log"), "{format}: {}", r.stdout);
        assert!(!r.stdout.contains(GITHUB), "{format} leaks the secret");
        assert!(!r.stderr.contains(GITHUB));
        assert_eq!(r.stderr, "scanned 1 file (48 B) in [T]s; 1 finding\n");
        match format {
            "json" => {
                let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
                let f = &v.as_array().unwrap()[0];
                assert_eq!(f["path"], "ci/build.log");
                assert_eq!(
                    (f["line"].as_u64(), f["column"].as_u64()),
                    (Some(1), Some(8))
                );
                assert_eq!(f["secret"], "ghp_…");
                assert_eq!(f["category"], "token");
            }
            "jsonl" => {
                assert_eq!(r.stdout.lines().count(), 1);
                let f: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
                assert_eq!(f["rule"], "github-token");
            }
            _ => assert!(r.stdout.contains("ci/build.log:1:8")),
        }
    }
    let r = run(
        dir.path(),
        &["stdin", "--format", "json"],
        Some("nothing\n"),
    );
    assert_eq!((r.code, r.stdout.trim()), (0, "[]"));
}

#[test]
fn no_redact_shows_the_secret_and_default_never_does() {
    let dir = leaky_tree();
    for format in ["text", "json", "jsonl"] {
        let r = run(dir.path(), &["dir", ".", "--format", format], None);
        assert_eq!(r.code, 1);
        for s in [GITHUB, STRIPE] {
            assert!(!r.stdout.contains(s) && !r.stderr.contains(s), "{format}");
            // Not even the part after the first four characters.
            assert!(!r.stdout.contains(&s[4..]), "{format}");
        }
        let r = run(
            dir.path(),
            &["dir", ".", "--format", format, "--no-redact"],
            None,
        );
        assert_eq!(r.code, 1);
        assert!(
            r.stdout.contains(GITHUB) && r.stdout.contains(STRIPE),
            "{format}"
        );
    }
}

#[test]
fn output_file_gets_the_report_and_stdout_stays_empty() {
    let dir = leaky_tree();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("report.json");
    let r = run(
        dir.path(),
        &[
            "dir",
            ".",
            "--format",
            "json",
            "--output",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    assert_eq!(r.stderr, "scanned 4 files (138 B) in [T]s; 2 findings\n");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let rules: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["stripe-live-key", "github-token"]);
}

#[test]
fn quiet_silences_the_summary() {
    let dir = leaky_tree();
    let r = run(
        dir.path(),
        &["dir", ".", "--quiet", "--format", "jsonl"],
        None,
    );
    assert_eq!((r.code, r.stderr.as_str()), (1, ""));
    assert_eq!(r.stdout.lines().count(), 2);
}

#[test]
fn malformed_config_exits_2_naming_file_line_and_key() {
    let dir = tree(&[("a.txt", "x\n")]);
    std::fs::write(
        dir.path().join(".leakscan.toml"),
        "[rules]\ndisable = [\"generic-secret-assignment\"]\n\n[allow]\npathz = [\"x\"]\n",
    )
    .unwrap();
    let r = run(dir.path(), &["dir", "."], None);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(
        r.stderr
            .starts_with("leakscan: error: invalid config ./.leakscan.toml"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("line 5"), "{}", r.stderr);
    assert!(r.stderr.contains("pathz"), "{}", r.stderr);
}

#[test]
fn missing_path_exits_2_with_a_clear_message() {
    let dir = tree(&[]);
    let r = run(dir.path(), &["dir", "no/such/dir"], None);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (
            2,
            "",
            "leakscan: error: no/such/dir: no such file or directory (check the path you passed to `leakscan dir`)\n"
        )
    );
}

#[test]
fn missing_config_file_exits_2() {
    let dir = tree(&[]);
    let r = run(dir.path(), &["dir", ".", "--config", "nope.toml"], None);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            2,
            "leakscan: error: config file nope.toml does not exist (check --config)\n"
        )
    );
}

#[test]
fn bad_arguments_exit_2() {
    let dir = tree(&[]);
    let r = run(dir.path(), &["dir", "--format", "xml"], None);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(r.stderr.contains("invalid value 'xml'"), "{}", r.stderr);
}

#[test]
fn rules_list_shows_id_category_name() {
    let dir = tree(&[]);
    let r = run(dir.path(), &["rules", "list"], None);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("github-token "))
        .expect("github-token listed");
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        // id, category, provider, name, verifier
        [
            "github-token",
            "token",
            "GitHub",
            "GitHub",
            "token",
            "[verify:",
            "github]"
        ]
    );
    for id in [
        "aws-access-key-id",
        "azure-storage-connection-string",
        "slack-webhook-url",
        "generic-url-credentials",
    ] {
        assert!(r.stdout.lines().any(|l| l.starts_with(id)), "{id}");
    }
    let r = run(dir.path(), &["rules", "list", "--format", "json"], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v.as_array().unwrap().iter().any(|r| r["id"] == "npm-token"));
}

const GOOD_PACK: &str = r#"
[[rule]]
id = "acme-token"
name = "Acme token"
category = "token"
keywords = ["acme_"]
pattern = '''(?P<secret>acme_[0-9a-f]{16})'''
remediation = "Revoke it in the Acme console."
examples = ["ACME=acme_8c3f1a9e27d4b065"]
counterexamples = ["ACME=acme_short"]
"#;

#[test]
fn rules_check_good_pack_exits_0_and_failing_pack_exits_1() {
    let dir = tree(&[
        ("good.toml", GOOD_PACK),
        (
            "bad.toml",
            &GOOD_PACK.replace("acme_short", "acme_fedcba9876543210"),
        ),
    ]);
    let r = run(dir.path(), &["rules", "check", "good.toml"], None);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (
            0,
            "1 rule: every example matches and no counterexample does\n",
            ""
        )
    );
    let r = run(dir.path(), &["rules", "check", "bad.toml"], None);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (
            1,
            "bad.toml: rule `acme-token`: counterexample \"ACME=acme_fedcba9876543210\" gives a finding\n1 failure in 1 rule\n",
            ""
        )
    );
    let r = run(dir.path(), &["rules", "check", "missing.toml"], None);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("reading rule pack missing.toml"),
        "{}",
        r.stderr
    );
}

#[test]
fn built_in_rules_check_passes_for_this_area() {
    let dir = tree(&[]);
    let r = run(dir.path(), &["rules", "check"], None);
    // Other areas' packs are checked by their own tests; none of the
    // failures may come from the cloud-key, token or generic packs.
    for pack in ["builtin:cloud-keys", "builtin:tokens", "builtin:generic"] {
        assert!(!r.stdout.contains(pack), "{}", r.stdout);
    }
}

#[test]
fn same_output_with_1_and_8_threads() {
    let dir = tree(&[]);
    for i in 0..300 {
        let body = match i % 5 {
            0 => format!("GITHUB = \"{GITHUB}\"\n"),
            1 => format!("line\nSTRIPE={STRIPE}\n"),
            2 => "nothing to see\n".to_string(),
            3 => format!("a = 1\nb = 2\ntoken: {GITHUB}\nkey={STRIPE}\n"),
            _ => "password = os.environ['X']\n".to_string(),
        };
        let p = dir.path().join(format!("d{}/f{i:03}.txt", i % 7));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    let one = run(
        dir.path(),
        &["dir", ".", "--threads", "1", "--format", "jsonl"],
        None,
    );
    let eight = run(
        dir.path(),
        &["dir", ".", "--threads", "8", "--format", "jsonl"],
        None,
    );
    assert_eq!(one.code, 1);
    assert_eq!(one.stdout.lines().count(), 60 + 60 + 120);
    assert_eq!(one.stdout, eight.stdout);
    assert_eq!(one.stderr, eight.stderr);
    let text1 = run(dir.path(), &["dir", ".", "--threads", "1"], None);
    let text8 = run(dir.path(), &["dir", ".", "--threads", "8"], None);
    assert_eq!(text1.stdout, text8.stdout);
}

#[test]
fn binary_files_are_read_by_self_identifying_rules_and_binary_rules() {
    let dir = tree(&[]);
    // A token inside a binary file (NUL bytes) is found in its printable
    // run (issue 16), unless --no-binary...
    let mut blob = b"\x00\x01\x02binary ".to_vec();
    blob.extend_from_slice(GITHUB.as_bytes());
    std::fs::write(dir.path().join("image.bin"), &blob).unwrap();
    let r = run(
        dir.path(),
        &["dir", ".", "--format", "jsonl", "--no-binary"],
        None,
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    let r = run(dir.path(), &["dir", ".", "--format", "jsonl"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains(r#""in_binary":true"#), "{}", r.stdout);
    std::fs::remove_file(dir.path().join("image.bin")).unwrap();
    // ...but a PKCS#12 keystore, a binary format, is found by its rule.
    let ok = StdCommand::new("openssl")
        .current_dir(dir.path())
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-subj",
            "/CN=leakscan-test",
            "-days",
            "1",
        ])
        .output()
        .expect("openssl is installed (scripts/setup.sh)");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let ok = StdCommand::new("openssl")
        .current_dir(dir.path())
        .args([
            "pkcs12",
            "-export",
            "-inkey",
            "k.pem",
            "-in",
            "c.pem",
            "-out",
            "client.pfx",
            "-passout",
            "pass:",
        ])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    std::fs::remove_file(dir.path().join("k.pem")).unwrap();
    std::fs::remove_file(dir.path().join("c.pem")).unwrap();
    let r = run(dir.path(), &["dir", ".", "--format", "jsonl"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let rules: Vec<String> = r
        .stdout
        .lines()
        .map(|l| {
            let f: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{} {}",
                f["path"].as_str().unwrap(),
                f["rule"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(rules, ["client.pfx pkcs12-keystore"]);
}

#[test]
fn max_file_size_skip_is_counted_in_the_summary() {
    let dir = tree(&[
        ("small.txt", "GITHUB=nothing\n"),
        (
            "big.env",
            &format!("{}\nSTRIPE={STRIPE}\n", "#".repeat(200)),
        ),
    ]);
    let r = run(dir.path(), &["dir", ".", "--max-file-size", "100"], None);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (
            0,
            "",
            "scanned 2 files (15 B) in [T]s; 0 findings; skipped: 1 too-large\n"
        )
    );
    let r = run(
        dir.path(),
        &["dir", ".", "--max-file-size", "1000", "--quiet"],
        None,
    );
    assert_eq!(r.code, 1);
}

/// Generic (format-less) findings are tutorial and test values in docs,
/// tests and examples: not reported there, counted as suppressed, unless the
/// config asks; real formats report everywhere; a root that itself sits in a
/// `tests` folder does not hide its files.
#[test]
fn generic_findings_skip_docs_tests_and_examples() {
    let generic = "db_password = \"T7q9mZ2vX8kP4rL1wQ\"\n";
    let t = tree(&[
        ("config/app.env", generic),
        ("tests/test_db.py", generic),
        ("docs/setup.md", generic),
        ("examples/demo/settings.py", generic),
        ("tests/fixture.env", &format!("GITHUB_TOKEN={GITHUB}\n")),
    ]);
    let r = run(t.path(), &["dir", ".", "--format", "jsonl"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found: Vec<(String, String)> = r
        .stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["path"].as_str().unwrap().into(),
                v["rule"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "config/app.env".to_string(),
                "generic-secret-assignment".to_string()
            ),
            ("tests/fixture.env".to_string(), "github-token".to_string()),
        ]
    );
    assert!(
        r.stderr
            .contains("3 suppressed: 1 generic in docs, 1 generic in examples, 1 generic in tests"),
        "{}",
        r.stderr
    );

    // The config turns it off.
    std::fs::write(
        t.path().join(".leakscan.toml"),
        "[rules]\ngeneric_in_docs_and_tests = true\n",
    )
    .unwrap();
    let r = run(t.path(), &["dir", ".", "--format", "jsonl"], None);
    assert_eq!(r.stdout.lines().count(), 5, "{}", r.stdout);

    // Scanning `tests/` itself: its files are judged below the root.
    std::fs::remove_file(t.path().join(".leakscan.toml")).unwrap();
    let inner = tree(&[("tests/proj/config/app.env", generic)]);
    let r = run(
        &inner.path().join("tests"),
        &["dir", "proj", "--format", "jsonl"],
        None,
    );
    assert_eq!(r.code, 1, "{} {}", r.stdout, r.stderr);
}

/// The audit profile's fixture: one generic password in the project's
/// config and the same in a test, a doc, an example and vendored code, and
/// a real-format token in a test (reported by both profiles).
const AUDIT_TREE: &[(&str, &str)] = &[
    ("config/app.env", "db_password = \"T7q9mZ2vX8kP4rL1wQ\"\n"),
    ("tests/test_db.py", "db_password = \"T7q9mZ2vX8kP4rL1wQ\"\n"),
    ("docs/setup.md", "db_password = \"T7q9mZ2vX8kP4rL1wQ\"\n"),
    (
        "examples/demo/settings.py",
        "db_password = \"T7q9mZ2vX8kP4rL1wQ\"\n",
    ),
    (
        "node_modules/pg/lib/defaults.js",
        "db_password = \"T7q9mZ2vX8kP4rL1wQ\"\n",
    ),
];

/// (path, confidence) of a JSON-lines report, in report order.
fn paths_and_confidence(stdout: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["path"].as_str().unwrap().to_string(),
                v["confidence"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

const QUIET_SUMMARY: &str = "4 suppressed: 1 generic in docs, 1 generic in examples, \
                             1 generic in tests, 1 generic in vendored code";

/// Issue 13, two audiences: the same fixture is quiet by default (generic
/// findings in tests, docs, examples and vendored code counted as
/// suppressed, by reason) and reported with `--include-tests`, where the
/// confidence tells the project's own config from the rest; on `dir`,
/// `git`, `git --range` and `stdin`.
#[test]
fn issue13_include_tests_is_the_audit_profile() {
    let mut files = AUDIT_TREE.to_vec();
    let token = format!("GITHUB_TOKEN={GITHUB}\n");
    files.push(("tests/fixture.env", &token));
    let t = tree(&files);

    let quiet = run(t.path(), &["dir", ".", "--format", "jsonl"], None);
    assert_eq!(quiet.code, 1, "{}", quiet.stderr);
    let found = paths_and_confidence(&quiet.stdout);
    assert_eq!(
        found.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["config/app.env", "tests/fixture.env"]
    );
    assert!(quiet.stderr.contains(QUIET_SUMMARY), "{}", quiet.stderr);

    let audit = run(
        t.path(),
        &["dir", ".", "--format", "jsonl", "--include-tests"],
        None,
    );
    assert_eq!(audit.code, 1, "{}", audit.stderr);
    assert!(!audit.stderr.contains("suppressed"), "{}", audit.stderr);
    let found = paths_and_confidence(&audit.stdout);
    let own = found.iter().find(|f| f.0 == "config/app.env").unwrap();
    assert_eq!(own.1, "medium", "{found:?}");
    for (path, _) in AUDIT_TREE.iter().skip(1) {
        let f = found.iter().find(|f| f.0 == *path).expect(path);
        assert_eq!(f.1, "low", "{path}: {found:?}");
    }
    assert_eq!(found.len(), 6, "{found:?}");
    // `--min-confidence medium` on the audit profile is the quiet set again.
    let ranked = run(
        t.path(),
        &[
            "dir",
            ".",
            "--format",
            "jsonl",
            "--include-tests",
            "--min-confidence",
            "medium",
        ],
        None,
    );
    assert_eq!(
        paths_and_confidence(&ranked.stdout)
            .iter()
            .map(|f| f.0.as_str())
            .collect::<Vec<_>>(),
        ["config/app.env", "tests/fixture.env"]
    );

    // History: the whole of it, and a range.
    let repo = tempfile::tempdir().unwrap();
    gitutil::new_repo(repo.path());
    gitutil::write(repo.path(), ".leakscan.toml", "");
    gitutil::write(repo.path(), "README", "app\n");
    let base = gitutil::commit_all(repo.path(), "init");
    for (path, text) in AUDIT_TREE {
        gitutil::write(repo.path(), path, text);
    }
    gitutil::commit_all(repo.path(), "app");
    let range = format!("{base}..HEAD");
    for args in [
        vec!["git", ".", "--format", "jsonl"],
        vec!["git", ".", "--format", "jsonl", "--range", &range],
    ] {
        let out = gitutil::leakscan(repo.path()).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stdout.lines().count(), 1, "{args:?}: {stdout}");
        assert!(stderr.contains(QUIET_SUMMARY), "{args:?}: {stderr}");
        let out = gitutil::leakscan(repo.path())
            .args(&args)
            .arg("--include-tests")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            paths_and_confidence(&stdout)
                .iter()
                .filter(|f| f.1 == "low")
                .count(),
            4,
            "{args:?}: {stdout}"
        );
    }

    // Standard input, labelled as a test file.
    let args = ["stdin", "--path", "tests/test_db.py", "--format", "jsonl"];
    let r = run(t.path(), &args, Some(AUDIT_TREE[1].1));
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("1 suppressed: 1 generic in tests"),
        "{}",
        r.stderr
    );
    let mut with = args.to_vec();
    with.push("--include-tests");
    let r = run(t.path(), &with, Some(AUDIT_TREE[1].1));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        paths_and_confidence(&r.stdout),
        [("tests/test_db.py".to_string(), "low".to_string())]
    );
}
