//! Hostile and broken input (issue 7): every case ends in a clear error or
//! a counted skip, never a panic, never a silently partial result.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

mod gitutil;

use gitutil::{commit_all, git, git_out, new_repo, write};

/// A fake AWS access key id (valid in format, not a real key).
const SECRET_LINE: &str = "aws_access_key_id = AKIAZ7TQ4VWB3N5RXK2M\n";

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_leakscan"))
}

/// What one run produced: exit code, stdout, stderr, the `--stats` JSON.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    stats: Value,
}

impl Run {
    fn skipped(&self, reason: &str) -> u64 {
        self.stats["skipped"][reason].as_u64().unwrap_or(0)
    }

    fn findings(&self) -> Vec<Value> {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not a JSON array ({e}): {}", self.stdout))
    }

    fn no_panic(&self) -> &Self {
        assert!(
            !self.stderr.contains("panicked"),
            "leakscan panicked: {}",
            self.stderr
        );
        self
    }
}

fn finish(out: Output, stats_path: &Path) -> Run {
    let stats = fs::read_to_string(stats_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        stats,
    };
    run.no_panic();
    run
}

/// `leakscan ARGS --stats TMP` (a `Command` prefix, e.g. setpriv, may wrap it).
fn run_with(prefix: &[&str], args: &[&str], cwd: Option<&Path>) -> Run {
    let stats_dir = tempfile::tempdir().unwrap();
    let stats_path = stats_dir.path().join("stats.json");
    let mut cmd = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(bin());
            c
        }
        None => Command::new(bin()),
    };
    cmd.args(args).arg("--stats").arg(&stats_path);
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    cmd.env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE")
        .env("NO_COLOR", "1");
    let out = cmd.output().expect("running leakscan");
    finish(out, &stats_path)
}

fn run(args: &[&str]) -> Run {
    run_with(&[], args, None)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

#[test]
fn sparse_2gb_file_is_skipped_as_too_large_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let big = fs::File::create(dir.path().join("huge.bin")).unwrap();
    big.set_len(2 << 30).unwrap(); // sparse: no blocks written
    drop(big);
    fs::write(dir.path().join("small.txt"), SECRET_LINE).unwrap();

    let started = Instant::now();
    let r = run(&["dir", s(dir.path()), "--format", "json"]);
    let took = started.elapsed();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.findings().len(), 1);
    assert_eq!(r.skipped("too-large"), 1, "{}", r.stats);
    assert_eq!(r.stats["files_scanned"], 1);
    assert!(r.stats["bytes_scanned"].as_u64().unwrap() < 100);
    assert!(r.stderr.contains("1 too-large"), "{}", r.stderr);
    // Reading 2 GB of zeros would take far longer than a metadata check.
    assert!(took < Duration::from_secs(20), "took {took:?}");

    // --strict: the findings are still printed, then exit 2 naming why.
    let r = run(&["dir", s(dir.path()), "--format", "json", "--strict"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.findings().len(), 1);
    assert!(r.stderr.contains("--strict") && r.stderr.contains("1 too-large"));
    assert_eq!(r.stats["incomplete"], 1);
}

#[test]
fn unreadable_file_and_directory_are_counted_with_permission_denied() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ok.txt"), SECRET_LINE).unwrap();
    let locked = dir.path().join("locked.txt");
    fs::write(&locked, "db_password = \"UnreadableContentQ7x9\"\n").unwrap();
    let closed = dir.path().join("closed");
    fs::create_dir(&closed).unwrap();
    fs::write(closed.join("inner.txt"), SECRET_LINE).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(&closed, fs::Permissions::from_mode(0o000)).unwrap();

    // Root reads through mode 000 (CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH),
    // as CI runs: drop those capabilities from the bounding set so the
    // kernel really answers EACCES.
    let prefix: &[&str] = if is_root() {
        &[
            "setpriv",
            "--bounding-set=-dac_override,-dac_read_search",
            "--inh-caps=-all",
        ]
    } else {
        &[]
    };
    let r = run_with(prefix, &["dir", s(dir.path()), "--format", "json"], None);
    fs::set_permissions(&closed, fs::Permissions::from_mode(0o755)).unwrap();

    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.findings().len(), 1, "only ok.txt is readable");
    assert_eq!(r.skipped("unreadable"), 2, "{}", r.stats);
    assert_eq!(r.stats["errors_total"], 2);
    let errors = r.stats["errors"].to_string();
    assert!(
        errors.contains("locked.txt") && errors.contains("closed"),
        "{errors}"
    );
    assert!(errors.contains("Permission denied"), "{errors}");
    assert!(r.stderr.contains("Permission denied"), "{}", r.stderr);
    // Errors name the input, never its content.
    assert!(!r.stderr.contains("UnreadableContent") && !errors.contains("UnreadableContent"));
}

#[test]
fn file_names_that_are_not_utf8_are_scanned_and_shown_lossily() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"bad-\xff\xfe-name.txt");
    fs::write(dir.path().join(name), SECRET_LINE).unwrap();

    let r = run(&["dir", s(dir.path()), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = r.findings();
    assert_eq!(f.len(), 1);
    let path = f[0]["path"].as_str().unwrap();
    assert!(path.ends_with("bad-\u{FFFD}\u{FFFD}-name.txt"), "{path}");

    let r = run(&["dir", s(dir.path()), "--format", "text"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("bad-\u{FFFD}\u{FFFD}-name.txt:1:21"),
        "{}",
        r.stdout
    );
}

#[test]
fn broken_and_looping_symlinks_are_counted_not_followed_forever() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("real.txt"), SECRET_LINE).unwrap();
    std::os::unix::fs::symlink("does-not-exist", root.join("broken")).unwrap();
    fs::create_dir(root.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", root.join("sub/up")).unwrap();
    std::os::unix::fs::symlink("loop-b", root.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", root.join("loop-b")).unwrap();

    // Default: links are not followed; each is a deliberate, counted skip.
    let r = run(&["dir", s(root), "--format", "json", "--strict"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.findings().len(), 1);
    assert_eq!(r.skipped("symlink"), 4, "{}", r.stats);
    assert_eq!(r.stats["incomplete"], 0);

    // Following: the directory loop is detected, the dangling links are
    // named, the real file is still found exactly once.
    let r = run(&["dir", s(root), "--format", "json", "--follow-symlinks"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.findings().len(), 1, "{}", r.stdout);
    assert_eq!(r.skipped("symlink-loop"), 1, "{}", r.stats);
    // A two-link cycle resolves to nothing: the kernel says ELOOP.
    let broken = r.skipped("broken-symlink") + r.skipped("unreadable");
    assert_eq!(broken, 3, "{}", r.stats);
    assert_eq!(r.skipped("broken-symlink"), 1, "{}", r.stats);
    let errors = r.stats["errors"].to_string();
    assert!(errors.contains("broken: broken symbolic link"), "{errors}");
    assert!(errors.contains("sub/up: symbolic link loop"), "{errors}");
    assert!(
        errors.contains("loop-a") && errors.contains("loop-b"),
        "{errors}"
    );

    let r = run(&[
        "dir",
        s(root),
        "--format",
        "json",
        "--follow-symlinks",
        "--strict",
    ]);
    assert_eq!(r.code, 2);
    assert_eq!(r.findings().len(), 1);
}

#[test]
fn very_deep_directory_tree_is_walked() {
    // 2,000 levels of one-letter directories: about 4,000 bytes of path,
    // just inside PATH_MAX.
    let dir = tempfile::tempdir_in("/tmp").unwrap();
    let mut p = dir.path().to_path_buf();
    for _ in 0..2000 {
        p.push("d");
    }
    fs::create_dir_all(&p).unwrap();
    fs::write(p.join("k"), SECRET_LINE).unwrap();
    let r = run(&["dir", s(dir.path()), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = r.findings();
    assert_eq!(f.len(), 1);
    assert!(f[0]["path"].as_str().unwrap().ends_with("/d/d/k"));
    assert_eq!(r.stats["errors_total"], 0);
}

#[test]
fn tree_deeper_than_path_max_is_a_counted_error() {
    // 2,400 levels (4,800 bytes of path) can only be made relative to the
    // current directory; the walker then meets ENAMETOOLONG.
    let dir = tempfile::tempdir_in("/tmp").unwrap();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cd '{}' && p=$(printf 'd/%.0s' $(seq 800)) && for i in 1 2 3; do mkdir -p $p && cd -P $p || exit 1; done && printf '{}' > k",
            s(dir.path()),
            SECRET_LINE.trim_end()
        ))
        .status()
        .unwrap();
    assert!(status.success());
    let r = run(&["dir", s(dir.path()), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.skipped("unreadable") >= 1, "{}", r.stats);
    let errors = r.stats["errors"].to_string();
    assert!(errors.contains("File name too long"), "{errors}");
    let r = run(&["dir", s(dir.path()), "--format", "json", "--strict"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // rm walks by file descriptor; deeper than PATH_MAX is no problem for it.
    let st = Command::new("rm")
        .arg("-rf")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn one_100_mb_line_is_scanned_within_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one-line.txt");
    let mut data = Vec::with_capacity(100 << 20);
    while data.len() < 50 << 20 {
        data.extend_from_slice(b"lorem ipsum dolor sit amet, consectetur adipiscing elit; ");
    }
    data.extend_from_slice(b" aws_access_key_id=AKIAZ7TQ4VWB3N5RXK2M ");
    while data.len() < 100 << 20 {
        data.extend_from_slice(b"sed do eiusmod tempor incididunt ut labore et dolore magna ");
    }
    fs::write(&path, &data).unwrap();

    // Over the default limit: a counted skip.
    let r = run(&["dir", s(dir.path()), "--format", "json"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.skipped("too-large"), 1, "{}", r.stats);

    let started = Instant::now();
    let r = run(&[
        "dir",
        s(dir.path()),
        "--format",
        "json",
        "--max-file-size",
        "200000000",
    ]);
    let took = started.elapsed();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = r.findings();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["line"], 1);
    assert!(f[0]["column"].as_u64().unwrap() > 50 << 20);
    assert!(took < Duration::from_secs(120), "took {took:?}");
}

/// Time to scan one file of `data` (best of two runs, to damp noise from
/// other processes on a shared machine).
fn scan_time(data: &[u8]) -> (Duration, Run) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("input.txt"), data).unwrap();
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..2 {
        let started = Instant::now();
        let r = run(&["dir", s(dir.path()), "--format", "json", "--threads", "1"]);
        best = best.min(started.elapsed());
        last = Some(r);
    }
    (best, last.unwrap())
}

#[test]
fn base64_runs_cause_no_pathological_slowdown() {
    const SIZE: usize = 8 << 20;
    // Baseline: ordinary text of the same size, with the rules' keywords.
    let mut text = Vec::with_capacity(SIZE);
    let mut i = 0u64;
    while text.len() < SIZE {
        text.extend_from_slice(
            format!("let token_{i} = lookup(\"password\", secret_store, {i}); // eyJ AKIA ghp_\n")
                .as_bytes(),
        );
        i += 1;
    }
    // One long run of base64 characters, pseudo-random, with every rule's
    // keyword prefix spliced in: each prefix starts a candidate that can
    // only end megabytes later.
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x = 0x2545F4914F6CDD1Du64;
    let mut b64 = Vec::with_capacity(SIZE);
    let prefixes: &[&[u8]] = &[
        b"eyJ",
        b".eyJ",
        b"AKIA",
        b"ghp_",
        b"8Q~",
        b"token=\"",
        b"secret:'",
        b"-----BEGIN PRIVATE KEY-----",
    ];
    let mut n = 0;
    while b64.len() < SIZE {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b64.push(alphabet[(x % 64) as usize]);
        if b64.len() % 997 == 0 {
            b64.extend_from_slice(prefixes[n % prefixes.len()]);
            n += 1;
        }
    }
    // And a JWT-shaped run: three dot-separated megabyte-long segments.
    let mut jwt = Vec::with_capacity(SIZE);
    while jwt.len() < SIZE {
        jwt.extend_from_slice(b"eyJ");
        for _ in 0..3 {
            let off = jwt.len();
            jwt.extend((0..(1 << 20)).map(|j: usize| alphabet[(j * 7 + off) % 62]));
            jwt.push(b'.');
        }
        jwt.push(b'\n');
    }

    let (base, _) = scan_time(&text);
    let (t_b64, r) = scan_time(&b64);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let (t_jwt, r) = scan_time(&jwt);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let ratio_b64 = t_b64.as_secs_f64() / base.as_secs_f64();
    let ratio_jwt = t_jwt.as_secs_f64() / base.as_secs_f64();
    eprintln!(
        "baseline text {base:?}; base64 run {t_b64:?} ({ratio_b64:.2}x); jwt-shaped run {t_jwt:?} ({ratio_jwt:.2}x)"
    );
    assert!(
        ratio_b64 < 10.0,
        "base64 run {ratio_b64:.2}x slower than text"
    );
    assert!(
        ratio_jwt < 10.0,
        "jwt-shaped run {ratio_jwt:.2}x slower than text"
    );
}

/// True if any line of `out` would be a GitHub Actions workflow command or
/// carries a raw escape or bidi control.
fn unsafe_for_terminal_or_ci(out: &str) -> bool {
    out.lines().any(|l| l.trim_start().starts_with("::"))
        || out
            .chars()
            .any(|c| (c.is_control() && c != '\n') || ('\u{202A}'..='\u{202E}').contains(&c))
}

#[test]
fn escape_sequences_and_workflow_commands_in_names_and_contents_are_sanitized() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let nasty_name = "::error file=x::pwned\x1b]0;title\x07\x1b[2J\u{202E}txt.exe";
    fs::write(root.join(nasty_name), SECRET_LINE).unwrap();
    fs::write(
        root.join("content.txt"),
        "::warning::owned\n\x1b[31mred\x1b[0m\napi_key = \"\x1b[2J\x1b]8;;http://x\x07Zq8W3rT5yU1\"\n",
    )
    .unwrap();
    // A broken link with a nasty name, so the summary's error list shows it.
    std::os::unix::fs::symlink("nowhere", root.join("::notice::\x1b[1mlink")).unwrap();

    for format in ["text", "json", "jsonl"] {
        let r = run_with(
            &[],
            &[
                "dir",
                ".",
                "--format",
                format,
                "--no-redact",
                "--follow-symlinks",
            ],
            Some(root),
        );
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(
            !unsafe_for_terminal_or_ci(&r.stdout),
            "{format} stdout: {:?}",
            r.stdout
        );
        assert!(
            !unsafe_for_terminal_or_ci(&r.stderr),
            "{format} stderr: {:?}",
            r.stderr
        );
        assert_eq!(r.skipped("broken-symlink"), 1, "{}", r.stats);
        if format == "text" {
            // Shown escaped, still recognisable.
            assert!(
                r.stdout
                    .contains("\\u{3a}:error file=x::pwned\\u{1b}]0;title"),
                "{}",
                r.stdout
            );
            assert!(r.stdout.contains("\\u{1b}[2J"), "{}", r.stdout);
            assert!(
                r.stderr.contains("\\u{3a}:notice::\\u{1b}[1mlink"),
                "{}",
                r.stderr
            );
        }
    }
}

fn write_pack_with_bad_regex(dir: &Path) -> PathBuf {
    let pack = dir.join("team-rules.toml");
    fs::write(
        &pack,
        r#"
[[rule]]
id = "team-token"
name = "Team token"
category = "token"
keywords = ["team_"]
pattern = '''team_(?P<secret>[a-z0-9]{20}'''
remediation = "Rotate it."
"#,
    )
    .unwrap();
    pack
}

#[test]
fn rule_pack_with_invalid_regex_exits_2_naming_rule_and_file() {
    let dir = tempfile::tempdir().unwrap();
    write_pack_with_bad_regex(dir.path());
    fs::write(
        dir.path().join(".leakscan.toml"),
        "[rules]\npacks = [\"team-rules.toml\"]\n",
    )
    .unwrap();
    let r = run(&["dir", s(dir.path())]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("team-rules.toml"), "{}", r.stderr);
    assert!(r.stderr.contains("`team-token`"), "{}", r.stderr);
    assert!(r.stderr.contains("invalid pattern"), "{}", r.stderr);

    // `rules check FILE` says the same.
    let out = Command::new(bin())
        .args(["rules", "check", s(&dir.path().join("team-rules.toml"))])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("team-rules.toml") && err.contains("`team-token`"),
        "{err}"
    );
}

#[test]
fn config_with_invalid_allowlist_regex_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("scan.toml");
    fs::write(&cfg, "[allow]\nsecrets = [\"AKIA[\"]\n").unwrap();
    fs::write(dir.path().join("a.txt"), SECRET_LINE).unwrap();
    let r = run(&["dir", s(dir.path()), "--config", s(&cfg)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("scan.toml"), "{}", r.stderr);
    assert!(r.stderr.contains("allow.secrets"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[test]
fn fifo_is_skipped_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let st = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(st.success());
    fs::write(dir.path().join("a.txt"), SECRET_LINE).unwrap();
    let started = Instant::now();
    let r = run(&["dir", s(dir.path()), "--format", "json", "--strict"]);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.skipped("not-a-file"), 1, "{}", r.stats);
}

#[test]
fn stats_file_is_written_for_every_format() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.txt"), SECRET_LINE).unwrap();
    for format in ["text", "json", "jsonl"] {
        let r = run(&["dir", s(dir.path()), "--format", format, "--quiet"]);
        assert_eq!(r.code, 1);
        assert!(r.stderr.is_empty(), "{}", r.stderr);
        assert_eq!(r.stats["files_scanned"], 1, "{format}: {}", r.stats);
        assert_eq!(r.stats["findings"], 1);
        assert_eq!(r.stats["incomplete"], 0);
        assert!(r.stats["skipped"].is_object());
    }
    // An unwritable stats path is an error naming it.
    let out = Command::new(bin())
        .args([
            "dir",
            s(dir.path()),
            "--stats",
            "/nonexistent-dir/stats.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent-dir/stats.json"));
}

#[test]
fn stdin_over_the_size_limit_is_an_error_naming_the_flag() {
    use std::io::Write;
    let mut child = Command::new(bin())
        .args(["stdin", "--max-file-size", "1000"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // More than the limit; the reader stops after limit + 1 bytes, so the
    // write may see a closed pipe.
    let _ = stdin.write_all(&vec![b'a'; 1 << 20]);
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--max-file-size"), "{err}");
}

// ------------------------------------------------------------ git history ---

const SECOND_SECRET: &str = "aws_access_key_id = AKIAQ3TEST7XK4M2NB5R\n";

fn git_scan(repo: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["git", s(repo), "--format", "json"];
    args.extend_from_slice(extra);
    run(&args)
}

/// The loose object file of `oid`.
fn loose_path(repo: &Path, oid: &str) -> PathBuf {
    repo.join(".git/objects").join(&oid[..2]).join(&oid[2..])
}

#[test]
fn corrupt_loose_object_is_a_counted_error_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let repo = new_repo(&dir.path().join("r"));
    write(&repo, "good.txt", SECRET_LINE);
    write(&repo, "bad.txt", SECOND_SECRET);
    commit_all(&repo, "two files");
    let bad = git(&repo, &["rev-parse", "HEAD:bad.txt"]);
    let p = loose_path(&repo, &bad);
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
    // Not zlib at all; then a valid zlib stream of a lying header.
    fs::write(&p, b"this is not a zlib stream \x00\xff\x13\x37").unwrap();

    let r = git_scan(&repo, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = r.findings();
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["path"], "good.txt");
    assert!(
        r.stats["errors_total"].as_u64().unwrap() >= 1,
        "{}",
        r.stats
    );
    let errors = r.stats["errors"].to_string();
    assert!(errors.contains(&bad), "names the object: {errors}");
    assert!(r.stderr.contains(&bad), "{}", r.stderr);
    assert!(!r.stderr.contains("AKIAQ3TEST"));

    let r = git_scan(&repo, &["--strict"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.findings().len(), 1);
}

#[test]
fn truncated_pack_is_a_clear_error_or_counted_skip_and_loose_objects_still_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let repo = new_repo(&dir.path().join("r"));
    for i in 0..20 {
        write(
            &repo,
            &format!("f{i}.txt"),
            &format!("filler {i}\n").repeat(200),
        );
        commit_all(&repo, &format!("filler {i}"));
    }
    write(&repo, "old.txt", SECRET_LINE);
    commit_all(&repo, "old secret");
    git(&repo, &["gc", "-q", "--aggressive"]);
    // Loose objects after the pack: a new commit with another secret.
    write(&repo, "new.txt", SECOND_SECRET);
    commit_all(&repo, "new secret");
    let packs: Vec<PathBuf> = fs::read_dir(repo.join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pack"))
        .collect();
    assert_eq!(packs.len(), 1);
    let len = fs::metadata(&packs[0]).unwrap().len();
    let f = fs::OpenOptions::new().write(true).open(&packs[0]).unwrap();
    f.set_len(len / 2).unwrap();
    drop(f);

    // The sorted walk fails at the first commit inside the broken pack;
    // the one-by-one walk still reaches the loose commit and its blobs.
    let r = git_scan(&repo, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let paths: Vec<String> = r
        .findings()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["new.txt"]);
    assert!(r.skipped("bad-commit") >= 1, "{}", r.stats);
    // old.txt's blob is in the lost half of the pack: named, counted.
    assert!(r.skipped("unreadable") >= 1, "{}", r.stats);
    assert!(
        r.stats["errors"].to_string().contains("(old.txt)"),
        "{}",
        r.stats
    );
    let r = git_scan(&repo, &["--strict"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.findings().len(), 1);
}

#[test]
fn many_thousands_of_refs_are_scanned_once() {
    let dir = tempfile::tempdir().unwrap();
    let repo = new_repo(&dir.path().join("r"));
    write(&repo, "a.txt", SECRET_LINE);
    let head = commit_all(&repo, "secret");
    let mut stdin = String::new();
    for i in 0..10_000 {
        let kind = if i % 2 == 0 { "heads/b" } else { "tags/t" };
        stdin.push_str(&format!("create refs/{kind}{i} {head}\n"));
    }
    let mut child = Command::new("git");
    gitutil::strip(&mut child)
        .current_dir(&repo)
        .args(["update-ref", "--stdin"])
        .stdin(std::process::Stdio::piped());
    let mut child = child.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let refs = git(&repo, &["for-each-ref", "--format=x"]);
    assert!(refs.lines().count() >= 10_000);

    let started = Instant::now();
    let r = git_scan(&repo, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.findings().len(), 1, "each unique blob once");
    assert_eq!(r.stats["errors_total"], 0, "{}", r.stats);
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn submodule_gitlinks_are_skipped_not_crashed() {
    let dir = tempfile::tempdir().unwrap();
    let repo = new_repo(&dir.path().join("r"));
    write(&repo, "a.txt", SECRET_LINE);
    write(
        &repo,
        ".gitmodules",
        "[submodule \"vendor/lib\"]\n\tpath = vendor/lib\n\turl = https://example.invalid/lib.git\n",
    );
    git(&repo, &["add", "-A"]);
    // A gitlink to a commit that is not in this repository.
    git(
        &repo,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            "160000,0123456789abcdef0123456789abcdef01234567,vendor/lib",
        ],
    );
    git(&repo, &["commit", "-q", "-m", "with a submodule"]);
    let tree = git(&repo, &["ls-tree", "-r", "HEAD"]);
    assert!(tree.contains("160000 commit"), "{tree}");

    let r = git_scan(&repo, &["--strict"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.findings().len(), 1);
    assert_eq!(r.stats["errors_total"], 0, "{}", r.stats);
    assert_eq!(r.stats["skipped"]["submodule"], 1, "{}", r.stats);
    // And on disk: an initialised-looking empty submodule folder.
    fs::create_dir_all(repo.join("vendor/lib")).unwrap();
    let r = run(&["dir", s(&repo), "--format", "json", "--strict"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn escape_sequences_in_commit_messages_and_author_names_are_sanitized() {
    let dir = tempfile::tempdir().unwrap();
    let repo = new_repo(&dir.path().join("r"));
    write(&repo, "::error::f\x1b[2J.txt", SECRET_LINE);
    git(&repo, &["add", "-A"]);
    let out = git_out(
        &repo,
        &[
            "commit",
            "-q",
            "-m",
            "::error title=pwned::x\x1b]0;owned\x07\x1b[31m red \u{202E}gnp.exe",
        ],
        &[
            ("GIT_AUTHOR_NAME", "::warning::Mal\x1b[8mlory\u{202E}"),
            ("GIT_AUTHOR_EMAIL", "m\x1b[1m@example.invalid"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    for format in ["text", "json", "jsonl"] {
        let r = run(&["git", s(&repo), "--format", format]);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(
            !unsafe_for_terminal_or_ci(&r.stdout),
            "{format} stdout: {:?}",
            r.stdout
        );
        assert!(
            !unsafe_for_terminal_or_ci(&r.stderr),
            "{format} stderr: {:?}",
            r.stderr
        );
        if format == "text" {
            assert!(r.stdout.contains("Mal\\u{1b}[8mlory"), "{}", r.stdout);
            assert!(r.stdout.contains("\\u{1b}]0;owned\\u{7}"), "{}", r.stdout);
        }
    }
}

#[test]
fn blob_over_the_size_limit_is_never_loaded() {
    // A 256 MB blob (zeros compress to almost nothing in the object store);
    // its size is read from the object header, so peak RSS stays far below
    // the blob's size.
    let dir = tempfile::tempdir().unwrap();
    let repo = new_repo(&dir.path().join("r"));
    let big = fs::File::create(repo.join("big.bin")).unwrap();
    big.set_len(256 << 20).unwrap();
    drop(big);
    write(&repo, "a.txt", SECRET_LINE);
    commit_all(&repo, "a big blob");
    fs::remove_file(repo.join("big.bin")).unwrap();

    let stats_dir = tempfile::tempdir().unwrap();
    let stats_path = stats_dir.path().join("stats.json");
    let rss_path = stats_dir.path().join("rss");
    let mut cmd = Command::new("/usr/bin/time");
    gitutil::strip(&mut cmd)
        .arg("-o")
        .arg(&rss_path)
        .args(["-f", "%M"])
        .arg(bin())
        .args(["git", s(&repo), "--format", "json", "--stats"])
        .arg(&stats_path);
    let r = finish(
        cmd.output().expect("GNU time (apt-get install time)"),
        &stats_path,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.findings().len(), 1);
    assert_eq!(r.skipped("too-large"), 1, "{}", r.stats);
    let rss_kb: u64 = fs::read_to_string(&rss_path)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    eprintln!("peak RSS with a 256 MB blob skipped: {} MB", rss_kb / 1024);
    assert!(rss_kb < 128 * 1024, "peak RSS {rss_kb} kB");
}
