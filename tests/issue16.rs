//! Issue 16: secrets inside archives, compressed files and binaries, in a
//! working tree, in history, in the index and on standard input; archives
//! made by the real tools (zip, jar, tar, gzip, bzip2, xz, zstd, Python's
//! zipfile), and hostile ones that must end in counted skips.

mod gitutil;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use gitutil::*;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs a tool in `dir`; a missing tool fails the test (never a silent
/// skip): scripts/setup.sh installs zip, jar, tar, gzip, bzip2, xz and zstd.
fn run(dir: &Path, cmd: &str, args: &[&str]) {
    let out = Command::new(cmd)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} is needed by this test: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn python(dir: &Path, script: &str) {
    run(dir, "python3", &["-c", script]);
}

/// A Stripe live-format key, built here so that this file holds none.
fn stripe_key() -> String {
    format!("sk_{}_{}", "live", "kqqeaA355XqA9adgpbthgRJK72wuXDMOPT")
}

fn paths(out: &Output) -> BTreeSet<String> {
    json_findings(out)
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

fn stats(dir: &Path, args: &[&str]) -> (Output, serde_json::Value) {
    let file = dir.join("stats.json");
    let out = leakscan(dir)
        .args(args)
        .arg("--stats")
        .arg(&file)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    (out, v)
}

/// `src/app/.env` holds a GitHub token on its line 2; the archives of
/// every supported format and a nested one are made of it.
fn archives(root: &Path) -> std::path::PathBuf {
    let src = root.join("src");
    write(&src, "app/.env", &format!("# app\nTOKEN={}\n", token('z')));
    let out = root.join("tree");
    std::fs::create_dir_all(out.join("dir")).unwrap();
    let o = |n: &str| out.join(n).to_string_lossy().into_owned();
    run(&src, "zip", &["-qr", &o("a.zip"), "app"]);
    run(&src, "jar", &["cf", &o("a.jar"), "app"]);
    run(&src, "tar", &["cf", &o("a.tar"), "app"]);
    run(&src, "tar", &["czf", &o("a.tar.gz"), "app"]);
    run(&src, "tar", &["cjf", &o("a.tar.bz2"), "app"]);
    run(&src, "tar", &["cJf", &o("a.txz"), "app"]);
    run(&src, "tar", &["--zstd", "-cf", &o("a.tar.zst"), "app"]);
    run(
        &src,
        "sh",
        &["-c", &format!("gzip -c app/.env > {}", o("env.gz"))],
    );
    python(
        &src,
        &format!(
            "import zipfile; z = zipfile.ZipFile('{}', 'w', zipfile.ZIP_DEFLATED); \
             z.write('app/.env'); z.close()",
            o("pkg-1.0-py3-none-any.whl")
        ),
    );
    // Detected by its bytes, not its name.
    std::fs::copy(out.join("a.zip"), out.join("blob.dat")).unwrap();
    // outer.zip!dir/inner.tar.gz!app/.env
    run(&src, "tar", &["czf", &o("dir/inner.tar.gz"), "app"]);
    run(&out, "zip", &["-qr", "outer.zip", "dir/inner.tar.gz"]);
    std::fs::remove_dir_all(out.join("dir")).unwrap();
    out
}

#[test]
fn issue16_every_format_and_a_nested_archive_in_dir() {
    let t = tempfile::tempdir().unwrap();
    let tree = archives(t.path());
    let (out, v) = stats(&tree, &["dir", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let expected: BTreeSet<String> = [
        "a.jar!app/.env",
        "a.tar!app/.env",
        "a.tar.bz2!app/.env",
        "a.tar.gz!app/.env",
        "a.tar.zst!app/.env",
        "a.txz!app/.env",
        "a.zip!app/.env",
        "blob.dat!app/.env",
        "env.gz!env",
        "outer.zip!dir/inner.tar.gz!app/.env",
        "pkg-1.0-py3-none-any.whl!app/.env",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(paths(&out), expected);
    for f in json_findings(&out) {
        assert_eq!(f["rule"], "github-token", "{f}");
        assert_eq!(f["line"], 2, "the inner file's line: {f}");
        assert_eq!(f["column"], 7, "{f}");
        let inner = f["details"]["inner_path"].as_str().unwrap();
        assert!(
            f["path"].as_str().unwrap().ends_with(&format!("!{inner}")),
            "{f}"
        );
        assert!(!f.to_string().contains(&token('z')), "redacted: {f}");
    }
    assert_eq!(v["archives"], 12, "{v}");
    assert_eq!(v["incomplete"], 0, "{v}");

    // --extract-depth 1: the nested archive is not opened, and says so.
    let (out, v) = stats(&tree, &["dir", "--format", "json", "--extract-depth", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!paths(&out).iter().any(|p| p.starts_with("outer.zip")));
    assert_eq!(v["skipped"]["archive-depth"], 1, "{v}");

    // --no-extract: nothing is opened (the plain tar's bytes still hold
    // the token in a printable run); with --no-binary too, nothing is found.
    let out = leakscan(&tree)
        .args(["dir", "--format", "json", "--no-extract"])
        .output()
        .unwrap();
    assert!(paths(&out).contains("a.tar"), "{:?}", paths(&out));
    assert!(paths(&out).iter().all(|p| !p.contains('!')));
    let out = leakscan(&tree)
        .args(["dir", "--format", "json", "--no-extract", "--no-binary"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn issue16_sarif_points_at_the_archive() {
    let t = tempfile::tempdir().unwrap();
    let tree = archives(t.path());
    let out = leakscan(&tree)
        .args(["dir", "outer.zip", "--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["runs"][0]["results"][0];
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "outer.zip", "{r}");
    assert_eq!(r["properties"]["inner_path"], "dir/inner.tar.gz!app/.env");
    assert_eq!(r["properties"]["inner_line"], 2);
    let text = r["message"]["text"].as_str().unwrap();
    assert!(text.contains("dir/inner.tar.gz!app/.env"), "{text}");
}

#[test]
fn issue16_archives_in_history_index_and_stdin() {
    let t = tempfile::tempdir().unwrap();
    let tree = archives(t.path());
    let r = new_repo(&t.path().join("r"));
    std::fs::copy(tree.join("outer.zip"), r.join("release.zip")).unwrap();
    write(&r, "README.md", "hello\n");
    let first = commit_all(&r, "release");
    git(&r, &["rm", "-q", "release.zip"]);
    let second = commit_all(&r, "drop the release");

    let out = leakscan(&r)
        .args(["git", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let f = &json_findings(&out)[0];
    assert_eq!(f["path"], "release.zip!dir/inner.tar.gz!app/.env", "{f}");
    assert_eq!(f["commit"].as_str().unwrap(), first, "{f}");
    assert_eq!(f["deleted"], true, "{f}");

    // Staged: a new archive in the index.
    std::fs::copy(tree.join("a.tar.gz"), r.join("backup.tgz")).unwrap();
    git(&r, &["add", "backup.tgz"]);
    let out = leakscan(&r)
        .args(["staged", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        paths(&out),
        BTreeSet::from(["backup.tgz!app/.env".to_string()])
    );

    // A range: what the commit of that archive added.
    commit_all(&r, "backup");
    let out = leakscan(&r)
        .args([
            "git",
            "--range",
            &format!("{second}..HEAD"),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        paths(&out),
        BTreeSet::from(["backup.tgz!app/.env".to_string()])
    );

    // Standard input.
    let mut child = leakscan(&r)
        .args(["stdin", "--path", "upload.tar.xz", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let data = std::fs::read(tree.join("a.txz")).unwrap();
    child.stdin.take().unwrap().write_all(&data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        paths(&out),
        BTreeSet::from(["upload.tar.xz!app/.env".to_string()])
    );
}

#[test]
fn issue16_hostile_archives_are_counted_skips() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(d, "keep/.env", &format!("TOKEN={}\n", token('y')));
    python(
        d,
        &format!(
            r#"
import zipfile, io
D = zipfile.ZIP_DEFLATED
# A bomb: 20 MB of zeros in one entry (about 20 KB compressed).
with zipfile.ZipFile('bomb.zip', 'w', D) as z:
    z.writestr('zeros.txt', b'\0' * (20 * 1024 * 1024))
# 42.zip-style: the bomb ten times, inside another zip.
with zipfile.ZipFile('nested-bomb.zip', 'w', zipfile.ZIP_STORED) as z:
    data = open('bomb.zip', 'rb').read()
    for i in range(10):
        z.writestr('b%d.zip' % i, data)
# Path traversal: the secret behind '..' is not read.
with zipfile.ZipFile('traversal.zip', 'w', D) as z:
    z.writestr('../../etc/evil.env', 'TOKEN={tok}\n')
    z.writestr('ok.txt', 'nothing\n')
# 10,000 tiny entries.
with zipfile.ZipFile('many.zip', 'w', D) as z:
    for i in range(10000):
        z.writestr('e%05d.txt' % i, 'x')
# Truncated: the first half of a real archive.
buf = io.BytesIO()
with zipfile.ZipFile(buf, 'w', D) as z:
    z.writestr('a.txt', 'a' * 5000)
    z.writestr('b.txt', 'b' * 5000)
open('truncated.zip', 'wb').write(buf.getvalue()[:len(buf.getvalue()) // 2])
# Six levels of zips (deflated): opened three deep, the rest counted.
buf = io.BytesIO()
with zipfile.ZipFile(buf, 'w', D) as z:
    z.writestr('deep.env', 'TOKEN={tok}\n')
for level in range(5):
    inner = buf.getvalue()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', D) as z:
        z.writestr('l%d.zip' % level, inner)
open('nested.zip', 'wb').write(buf.getvalue())
"#,
            tok = token('x')
        ),
    );
    let (out, v) = stats(d, &["dir", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(paths(&out), BTreeSet::from(["keep/.env".to_string()]));
    let skipped = &v["skipped"];
    assert!(skipped["archive-bomb"].as_u64().unwrap() >= 2, "{v}");
    assert_eq!(skipped["archive-traversal"], 1, "{v}");
    assert_eq!(skipped["archive-entries"], 1, "{v}");
    assert_eq!(skipped["archive-corrupt"], 1, "{v}");
    assert_eq!(skipped["archive-depth"], 1, "{v}");
    assert!(v["incomplete"].as_u64().unwrap() >= 5, "{v}");
    let err = stderr(&out);
    assert!(err.contains("archive-bomb"), "{err}");
}

#[test]
fn issue16_a_key_in_a_20_mb_binary() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let mut data: Vec<u8> = (0..20 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    data[100] = 0;
    let at = 15 * 1024 * 1024;
    let key = stripe_key();
    let line = format!("\0{key}\0");
    data[at..at + line.len()].copy_from_slice(line.as_bytes());
    // A context-only credential is not reported from a binary.
    let generic = b"\0password = \"Xk92mQz7Lp0vRt5w\"\0";
    data[at + 4096..at + 4096 + generic.len()].copy_from_slice(generic);
    std::fs::write(d.join("app.bin"), &data).unwrap();

    let out = leakscan(d)
        .args(["dir", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = json_findings(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["rule"], "stripe-live-key");
    assert_eq!(found[0]["details"]["in_binary"], true);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&key));

    let out = leakscan(d)
        .args(["dir", "--format", "json", "--no-binary"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Base64 payloads: a data URI, a Kubernetes `data:` value, a `.env` value
/// and a JSON field each hold a provider key once decoded; the finding
/// says so and points at the encoded text. A generic `password = ...`
/// inside base64 is not reported (the generic rule does not run there).
#[test]
fn issue16_secrets_inside_base64() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let gh = token('b');
    let stripe = stripe_key();
    let uri = b64(&format!("#!/bin/sh\nexport GH={gh}\n"));
    write(
        d,
        "page.html",
        &format!("<a href=\"data:text/plain;base64,{uri}\">x</a>\n"),
    );
    let k8s = b64(&format!("{gh}\n"));
    write(
        d,
        "deploy/secret.yaml",
        &format!("apiVersion: v1\nkind: Secret\ndata:\n  token: {k8s}\n"),
    );
    let env = b64(&format!("{{\"stripe\": \"{stripe}\"}}"));
    write(d, "svc/.env", &format!("# config\nBLOB={env}\n"));
    let generic = b64("password = \"Xk92mQz7Lp0vRt5wQ\"\n");
    write(d, "other.json", &format!("{{\"cfg\": \"{generic}\"}}\n"));

    let out = leakscan(d)
        .args(["dir", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(&gh) && !text.contains(&stripe), "redacted");
    let found = json_findings(&out);
    let got: BTreeSet<(String, String)> = found
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("deploy/secret.yaml", "github-token"),
        ("page.html", "github-token"),
        ("svc/.env", "stripe-live-key"),
    ]
    .into_iter()
    .map(|(p, r)| (p.to_string(), r.to_string()))
    .collect();
    assert_eq!(got, want, "{found:?}");
    for f in &found {
        assert_eq!(f["details"]["in_base64"], true, "{f}");
    }
    // Line and columns: within the encoded run of each file.
    let env_f = found.iter().find(|f| f["path"] == "svc/.env").unwrap();
    assert_eq!(env_f["line"], 2, "{env_f}");
    let (c, e) = (
        env_f["column"].as_u64().unwrap() as usize,
        env_f["end_column"].as_u64().unwrap() as usize,
    );
    let run = "BLOB=".len() + 1;
    assert!(c >= run && e <= run + env.len() && e > c + 30, "{env_f}");
    let k8s_f = found
        .iter()
        .find(|f| f["path"] == "deploy/secret.yaml")
        .unwrap();
    assert_eq!(
        (k8s_f["line"].as_u64(), k8s_f["column"].as_u64()),
        (Some(4), Some(10)),
        "{k8s_f}"
    );

    // In history too.
    let r = new_repo(&d.join("repo"));
    write(&r, "values.yaml", &format!("blob: {uri}\n"));
    commit_all(&r, "values");
    let out = leakscan(&r)
        .args(["git", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let f = &json_findings(&out)[0];
    assert_eq!(
        (f["path"].as_str(), f["rule"].as_str()),
        (Some("values.yaml"), Some("github-token"))
    );
    assert_eq!(f["details"]["in_base64"], true, "{f}");
}

/// `staged` and `git --range` scan an older version of an archive only to
/// tell which findings are new: its archives and skips are not counted,
/// only those of the version the index or the range adds.
#[test]
fn issue16_staged_and_range_count_only_new_versions() {
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    // release.zip holds app/.env and inner.zip (left unopened at
    // --extract-depth 1: one archive-depth skip per scanned version);
    // version 2 adds app/more.env.
    let make = |with_more: bool| {
        python(
            &r,
            &format!(
                r#"
import zipfile, io
D = zipfile.ZIP_DEFLATED
buf = io.BytesIO()
with zipfile.ZipFile(buf, 'w', D) as z:
    z.writestr('x.txt', 'nothing here\n')
with zipfile.ZipFile('release.zip', 'w', D) as z:
    z.writestr('app/.env', 'TOKEN={old}\n')
    z.writestr('inner.zip', buf.getvalue())
    if {more}:
        z.writestr('app/more.env', 'TOKEN={new}\n')
"#,
                old = token('a'),
                new = token('b'),
                more = if with_more { "True" } else { "False" },
            ),
        )
    };
    make(false);
    let first = commit_all(&r, "release 1");
    make(true);
    git(&r, &["add", "release.zip"]);
    // Runs in the repository, --stats written beside it.
    let run_stats = |cmd: &[&str]| {
        let file = t.path().join("stats.json");
        let out = leakscan(&r)
            .args(cmd)
            .args(["--extract-depth", "1", "--format", "json", "--stats"])
            .arg(&file)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_eq!(
            paths(&out),
            BTreeSet::from(["release.zip!app/more.env".to_string()])
        );
        // The old version was read (its finding is not new), not counted.
        assert_eq!(v["archives"], 1, "{v}");
        assert_eq!(v["archive_entries"], 3, "{v}");
        assert_eq!(v["skipped"]["archive-depth"], 1, "{v}");
    };
    run_stats(&["staged"]);
    commit_all(&r, "release 2");
    run_stats(&["git", "--range", &format!("{first}..HEAD")]);
}

/// A true zip quine (tests/archives/zip_quine.py: a zip whose one entry,
/// deflated, is the zip itself, CRC-32 and all) ends in one counted
/// archive-quine skip, not in extraction down to the depth limit; so does
/// the quine inside another zip.
#[test]
fn issue16_a_zip_that_contains_itself() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/archives/zip_quine.py");
    run(
        d,
        "python3",
        &[
            script.to_str().unwrap(),
            d.join("quine.zip").to_str().unwrap(),
        ],
    );
    // Python's zipfile reads the entry back, checks its CRC-32, and finds
    // the file itself.
    python(
        d,
        "import zipfile; z = zipfile.ZipFile('quine.zip'); \
         assert z.testzip() is None; \
         assert z.read(z.namelist()[0]) == open('quine.zip', 'rb').read()",
    );
    let (out, v) = stats(d, &["dir", "--format", "json", "--extract-depth", "50"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(v["archives"], 1, "{v}");
    assert_eq!(v["archive_entries"], 1, "{v}");
    assert_eq!(v["skipped"], serde_json::json!({"archive-quine": 1}), "{v}");

    python(
        d,
        "import zipfile; z = zipfile.ZipFile('outer.zip', 'w'); \
         z.write('quine.zip', 'lib/quine.zip'); z.close()",
    );
    std::fs::remove_file(d.join("quine.zip")).unwrap();
    let (out, v) = stats(d, &["dir", "--format", "json", "--extract-depth", "50"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(v["archives"], 2, "{v}");
    assert_eq!(v["archive_entries"], 2, "{v}");
    assert_eq!(v["skipped"], serde_json::json!({"archive-quine": 1}), "{v}");
}
