//! action.yml: valid against check-jsonschema's GitHub Actions schema, and
//! run step by step in a mini runner (tests/action/minirunner.py) on a real
//! repository with a simulated push: SARIF written, upload recorded, the
//! job failing on a leak and passing when clean.
//!
//! `cargo install` is replaced by a recording test double that installs the
//! leakscan binary this test run built (a release build from scratch takes
//! minutes); everything else runs for real. At a release tag the action
//! downloads a release archive instead: a small HTTP server on 127.0.0.1
//! serves one made of the same binary, with right and wrong checksums.
//!
//! .github/workflows/release.yml, which builds those archives, is checked
//! against check-jsonschema's GitHub workflow schema.

mod ci_support;
mod gitutil;
mod sarif_check;

use std::path::PathBuf;
use std::process::Command;

use ci_support::{check_run_blocks_and_pins, check_schema, tool};
use gitutil::{commit_all, git, new_repo, write};
use serde_json::{Value, json};

const AWS: &str = "AKIAZ7TQ4VWB3N5RXK2M";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn action_yml_is_valid_against_the_github_actions_schema() {
    let out = check_schema("vendor.github-actions", &root().join("action.yml"));
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The check is not vacuous: a run step without `shell` is rejected.
    let tmp = tempfile::tempdir().unwrap();
    let broken = std::fs::read_to_string(root().join("action.yml"))
        .unwrap()
        .replacen("      shell: bash\n", "", 1);
    let p = tmp.path().join("action.yml");
    std::fs::write(&p, broken).unwrap();
    let out = check_schema("vendor.github-actions", &p);
    assert!(
        !out.status.success(),
        "a step without shell must fail validation"
    );
}

#[test]
fn release_workflow_is_valid_against_the_github_workflow_schema() {
    let file = root().join(".github/workflows/release.yml");
    let check = |p: &std::path::Path| check_schema("vendor.github-workflows", p);
    let out = check(&file);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Not vacuous: a job without runs-on is rejected.
    let text = std::fs::read_to_string(&file).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("release.yml");
    std::fs::write(&p, text.replacen("    runs-on: ubuntu-24.04\n", "", 1)).unwrap();
    assert!(
        !check(&p).status.success(),
        "a job without runs-on must fail"
    );
    // It builds every target action.yml downloads, and publishes checksums.
    let action = std::fs::read_to_string(root().join("action.yml")).unwrap();
    for target in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "aarch64-apple-darwin",
        "x86_64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(text.contains(&format!("target: {target},")), "{target}");
        assert!(action.contains(&format!("target={target} ;;")), "{target}");
    }
    assert!(text.contains("sha256sum leakscan-* > SHA256SUMS"));
}

#[test]
fn action_never_inlines_expressions_in_run_and_pins_uses_by_sha() {
    for file in ["action.yml", ".github/workflows/release.yml"] {
        let (pinned, _) =
            check_run_blocks_and_pins(&std::fs::read_to_string(root().join(file)).unwrap());
        assert!(pinned > 0, "no uses: found; the check would be vacuous");
    }
}

struct Sim {
    _tmp: tempfile::TempDir,
    ws: PathBuf,
    env: Vec<(String, String)>,
    cargo_log: PathBuf,
    dir: PathBuf,
}

/// A repository whose push added a leak (or not), and a runner around it.
fn sim(leak: bool) -> Sim {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let up = new_repo(&dir.join("up"));
    write(&up, "README", "hello\n");
    let base = commit_all(&up, "first");
    if leak {
        write(
            &up,
            "config/prod.env",
            &format!("aws_access_key_id = {AWS}\n"),
        );
    } else {
        write(&up, "config/prod.env", "region = eu-west-1\n");
    }
    let head = commit_all(&up, "config");
    let ws = dir.join("ws");
    git(
        &dir,
        &[
            "clone",
            "-q",
            &format!("file://{}", up.display()),
            ws.to_str().unwrap(),
        ],
    );
    let event = dir.join("event.json");
    std::fs::write(
        &event,
        serde_json::to_vec(
            &json!({"before": base, "after": head, "ref": "refs/heads/main",
                                   "repository": {"default_branch": "main"}}),
        )
        .unwrap(),
    )
    .unwrap();

    // The `cargo install` double: records its arguments, checks that it was
    // asked to install leakscan's own source, installs the built binary.
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let cargo = bin.join("cargo");
    std::fs::write(
        &cargo,
        r#"#!/usr/bin/env bash
set -euo pipefail
printf '%s\n' "$*" >> "$FAKE_CARGO_LOG"
[ "$1" = install ] || { echo "fake cargo: only install" >&2; exit 3; }
root='' path=''
while [ $# -gt 0 ]; do
  case "$1" in --root) root=$2; shift ;; --path) path=$2; shift ;; esac
  shift
done
grep -q '^name = "leakscan"$' "$path/Cargo.toml" || { echo "fake cargo: not leakscan's source: $path" >&2; exit 4; }
mkdir -p "$root/bin"
cp "$LEAKSCAN_TEST_BIN" "$root/bin/leakscan"
"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();

    let home = dir.join("home");
    let temp = dir.join("runner-temp");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&temp).unwrap();
    let cargo_log = dir.join("cargo.log");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = vec![
        ("PATH", path),
        ("HOME", home.display().to_string()),
        ("RUNNER_TEMP", temp.display().to_string()),
        ("RUNNER_OS", "Linux".into()),
        ("RUNNER_ARCH", "X64".into()),
        ("GITHUB_WORKSPACE", ws.display().to_string()),
        ("GITHUB_EVENT_NAME", "push".into()),
        ("GITHUB_EVENT_PATH", event.display().to_string()),
        ("GITHUB_SHA", head),
        ("FAKE_CARGO_LOG", cargo_log.display().to_string()),
        (
            "LEAKSCAN_TEST_BIN",
            env!("CARGO_BIN_EXE_leakscan").to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Sim {
        _tmp: tmp,
        ws,
        env,
        cargo_log,
        dir,
    }
}

/// Runs the action in the mini runner; returns its exit code and report.
fn run_action(s: &Sim, inputs: &[&str]) -> (i32, Value) {
    let report = s.dir.join(format!("report-{}.json", inputs.len()));
    let mut cmd = tool("python3");
    cmd.arg(root().join("tests/action/minirunner.py"))
        .arg(root())
        .arg(&report)
        .current_dir(&s.ws);
    for i in inputs {
        cmd.args(["--input", i]);
    }
    for v in ci_support::GITHUB_VARS {
        cmd.env_remove(v);
    }
    for v in gitutil::STRIPPED {
        cmd.env_remove(v);
    }
    for (k, v) in &s.env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = std::fs::read_to_string(&report).unwrap_or_else(|_| {
        panic!(
            "the mini runner wrote no report: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_str(&text).unwrap(),
    )
}

fn step<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id || s["name"] == id)
        .unwrap_or_else(|| panic!("no step {id}: {report:#}"))
}

fn uses<'a>(report: &'a Value, prefix: &str) -> Option<&'a Value> {
    report["uses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["uses"].as_str().unwrap().starts_with(prefix))
}

#[test]
fn action_with_default_inputs_writes_sarif_uploads_and_fails_on_a_leak() {
    let s = sim(true);
    let (code, report) = run_action(&s, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["status"], "failure");

    // Built from the action's own source, into the cached directory.
    let log = std::fs::read_to_string(&s.cargo_log).unwrap();
    let home = &s.env.iter().find(|(k, _)| k == "HOME").unwrap().1;
    assert_eq!(
        log.trim(),
        format!(
            "install --locked --quiet --root {home}/.leakscan-action --path {}",
            root().display()
        )
    );
    let cache = uses(&report, "actions/cache@").expect("cache step");
    assert_eq!(cache["with"]["path"], "~/.leakscan-action");
    let key = cache["with"]["key"].as_str().unwrap();
    assert!(
        key.starts_with("leakscan-Linux-X64-") && key.len() > 40,
        "{key}"
    );

    let scan = step(&report, "scan");
    assert_eq!(scan["outcome"], "success", "{scan:#}");
    assert_eq!(scan["outputs"]["findings"], "1");
    assert_eq!(scan["outputs"]["exit-code"], "1");
    let sarif_path = s.ws.join("leakscan.sarif");
    assert_eq!(
        scan["outputs"]["sarif-file"],
        sarif_path.display().to_string()
    );
    let text = std::fs::read_to_string(&sarif_path).unwrap();
    let log = sarif_check::check(&text, &[AWS]);
    assert_eq!(sarif_check::results(&log).len(), 1);

    // Annotations came out of the scan step; the summary has the table.
    let cmds = report["commands"].as_array().unwrap();
    assert!(cmds.iter().any(|c| {
        c["command"] == "error"
            && c["properties"]
                .as_str()
                .unwrap()
                .contains("file=config/prod.env")
    }));
    assert!(
        report["summary"]
            .as_str()
            .unwrap()
            .contains("| Rule | Location |")
    );

    // Upload recorded with the SARIF file, also though leaks were found.
    let up = uses(&report, "github/codeql-action/upload-sarif@").expect("upload step ran");
    assert_eq!(up["with"]["sarif_file"], sarif_path.display().to_string());
    assert_eq!(up["with"]["checkout_path"], s.ws.display().to_string());

    let fail = step(&report, "Fail on leaked credentials");
    assert_eq!(fail["outcome"], "failure");
    assert_eq!(report["outputs"]["findings"], "1");
    assert_eq!(
        report["outputs"]["sarif-file"],
        sarif_path.display().to_string()
    );
}

#[test]
fn action_passes_on_a_clean_push_and_honours_its_switches() {
    let s = sim(false);
    let (code, report) = run_action(&s, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        step(&report, "Fail on leaked credentials")["outcome"],
        "skipped"
    );
    assert!(uses(&report, "github/codeql-action/upload-sarif@").is_some());
    assert_eq!(report["outputs"]["findings"], "0");

    let s = sim(true);
    let sarif = s.dir.join("custom/out.sarif");
    let (code, report) = run_action(
        &s,
        &[
            "fail-on-findings=false",
            "upload-sarif=false",
            &format!("sarif-file={}", sarif.display()),
            "args=--sarif-category secrets/push",
        ],
    );
    assert_eq!(code, 0, "{report:#}");
    assert!(uses(&report, "github/codeql-action/upload-sarif@").is_none());
    assert_eq!(report["outputs"]["findings"], "1");
    let log = sarif_check::check(&std::fs::read_to_string(&sarif).unwrap(), &[AWS]);
    assert_eq!(log["runs"][0]["automationDetails"]["id"], "secrets/push/");

    // A bad input stops the job before leakscan runs.
    let (code, report) = run_action(&s, &["scan=everything"]);
    assert_eq!(code, 1);
    assert_eq!(step(&report, "prep")["outcome"], "failure");
    assert_eq!(step(&report, "scan")["outcome"], "skipped");
}

#[test]
fn mini_runner_refuses_what_it_cannot_evaluate() {
    // Guards the simulation itself: unknown functions are errors, not
    // silently false, so a condition in action.yml can't be skipped unseen.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(
        d.join("action.yml"),
        "name: t\ndescription: t\nruns:\n  using: composite\n  steps:\n    - if: hashFiles('x') != ''\n      shell: bash\n      run: echo hi\n",
    )
    .unwrap();
    std::fs::write(d.join("event.json"), "{}").unwrap();
    let out = tool("python3")
        .arg(root().join("tests/action/minirunner.py"))
        .arg(d)
        .arg(d.join("r.json"))
        .env("GITHUB_WORKSPACE", d)
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_EVENT_PATH", d.join("event.json"))
        .env("GITHUB_SHA", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("hashFiles"));
}

/// The release target of the simulated runner (Linux, X64).
const TARGET: &str = "x86_64-unknown-linux-musl";

fn release_tag() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

/// A release archive of the binary this test run built, laid out as the
/// release workflow packs it, and its SHA-256 (by the system's sha256sum).
fn release_archive(dir: &std::path::Path) -> (Vec<u8>, String) {
    let stage = dir.join("stage");
    let inner = stage.join(format!("leakscan-{TARGET}"));
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_leakscan"), inner.join("leakscan")).unwrap();
    let archive = dir.join("release.tar.gz");
    let ok = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&stage)
        .arg(format!("leakscan-{TARGET}"))
        .status()
        .unwrap();
    assert!(ok.success());
    let out = tool("sha256sum").arg(&archive).output().unwrap();
    let sum = String::from_utf8(out.stdout).unwrap()[..64].to_string();
    (std::fs::read(&archive).unwrap(), sum)
}

/// A release mirror on 127.0.0.1: answers GET of the files it holds, 404
/// otherwise, and records every path asked for.
struct Mirror {
    url: String,
    asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

fn mirror(files: Vec<(String, Vec<u8>)>) -> Mirror {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = asked.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) <= 2 {
                    break;
                }
            }
            let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
            log.lock().unwrap().push(path.clone());
            let _ = match files.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .and_then(|_| conn.write_all(body)),
                None => conn.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    Mirror { url, asked }
}

/// A mirror holding this build's archive and a SHA256SUMS that lists `sum`
/// for it (and another file's line, which must not be taken).
fn release_mirror(archive: &[u8], sum: &str) -> Mirror {
    let tag = release_tag();
    let name = format!("leakscan-{TARGET}.tar.gz");
    let sums = format!(
        "{}  leakscan-aarch64-apple-darwin.tar.gz\n{sum}  {name}\n",
        "0".repeat(64)
    );
    mirror(vec![
        (format!("/{tag}/{name}"), archive.to_vec()),
        (format!("/{tag}/SHA256SUMS"), sums.into_bytes()),
    ])
}

/// A simulated push with a leak, the action used at `action_ref`.
fn sim_at(action_ref: &str) -> Sim {
    let mut s = sim(true);
    s.env.push(("GITHUB_ACTION_REF".into(), action_ref.into()));
    s
}

fn installed(s: &Sim) -> bool {
    let home = &s.env.iter().find(|(k, _)| k == "HOME").unwrap().1;
    std::path::Path::new(home)
        .join(".leakscan-action/bin/leakscan")
        .exists()
}

#[test]
fn action_at_a_release_tag_downloads_the_release_binary_and_checks_it() {
    let s = sim_at(&release_tag());
    let (archive, sum) = release_archive(&s.dir);
    let m = release_mirror(&archive, &sum);
    let (code, report) = run_action(&s, &[&format!("download-url={}", m.url)]);
    assert_eq!(code, 1, "the leak fails the job: {report:#}");
    let dl = step(&report, "download");
    assert_eq!(dl["outcome"], "success", "{dl:#}");
    assert!(
        dl["stdout"]
            .as_str()
            .unwrap()
            .contains(&format!("SHA-256 {sum}, as expected")),
        "{dl:#}"
    );
    assert!(!s.cargo_log.exists(), "nothing is built at a release tag");
    assert_eq!(step(&report, "cache")["outcome"], "skipped");
    assert!(uses(&report, "actions/cache@").is_none());
    assert_eq!(step(&report, "scan")["outputs"]["findings"], "1");
    let tag = release_tag();
    assert_eq!(
        *m.asked.lock().unwrap(),
        vec![
            format!("/{tag}/leakscan-{TARGET}.tar.gz"),
            format!("/{tag}/SHA256SUMS")
        ]
    );

    // SHA256SUMS disagrees with the archive: nothing is installed or run.
    let s = sim_at(&release_tag());
    let (archive, sum) = release_archive(&s.dir);
    let wrong: String = sum
        .chars()
        .map(|c| if c == '0' { '1' } else { '0' })
        .collect();
    let m = release_mirror(&archive, &wrong);
    let (code, report) = run_action(&s, &[&format!("download-url={}", m.url)]);
    assert_eq!(code, 1);
    assert_eq!(step(&report, "download")["outcome"], "failure");
    assert_eq!(step(&report, "scan")["outcome"], "skipped");
    assert!(!installed(&s));
    assert!(
        report["commands"].as_array().unwrap().iter().any(|c| {
            c["command"] == "error" && c["message"].as_str().unwrap().contains("checksum mismatch")
        }),
        "{report:#}"
    );

    // A checksum pinned by the workflow wins over SHA256SUMS, both ways.
    let s = sim_at(&release_tag());
    let (archive, sum) = release_archive(&s.dir);
    let m = release_mirror(&archive, &sum);
    let (_, report) = run_action(
        &s,
        &[
            &format!("download-url={}", m.url),
            &format!("sha256={wrong}"),
        ],
    );
    assert_eq!(step(&report, "download")["outcome"], "failure");
    assert!(!installed(&s));
    let (code, report) = run_action(
        &s,
        &[
            &format!("download-url={}", m.url),
            &format!("sha256={}", sum.to_uppercase()),
        ],
    );
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(step(&report, "download")["outcome"], "success");
    assert!(installed(&s));
    let asked = m.asked.lock().unwrap();
    assert!(
        asked.iter().all(|p| !p.ends_with("SHA256SUMS")),
        "a pinned checksum needs no SHA256SUMS: {asked:?}"
    );

    // Plain http only to this machine.
    let s = sim_at(&release_tag());
    let (code, report) = run_action(&s, &["download-url=http://mirror.example.net/releases"]);
    assert_eq!(code, 1);
    let dl = step(&report, "download");
    assert_eq!(dl["exit_code"], 2, "{dl:#}");
    assert!(
        dl["stdout"]
            .as_str()
            .unwrap()
            .contains("must be an https URL")
    );
}

#[test]
fn action_builds_from_source_off_a_release_tag_or_when_told() {
    // At a branch: today's path, cargo install from the action's source.
    let s = sim_at("main");
    let (code, report) = run_action(&s, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(step(&report, "download")["outcome"], "skipped");
    assert!(
        std::fs::read_to_string(&s.cargo_log)
            .unwrap()
            .starts_with("install ")
    );

    // At the tag with install: build, the same.
    let s = sim_at(&release_tag());
    let (_, report) = run_action(&s, &["install=build"]);
    assert_eq!(step(&report, "download")["outcome"], "skipped");
    assert!(s.cargo_log.exists());

    // install: download at a branch fetches the version's release.
    let s = sim_at("main");
    let (archive, sum) = release_archive(&s.dir);
    let m = release_mirror(&archive, &sum);
    let (code, report) = run_action(
        &s,
        &["install=download", &format!("download-url={}", m.url)],
    );
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(step(&report, "download")["outcome"], "success");
    assert!(!s.cargo_log.exists());

    // A bad value stops the job before anything is fetched or built.
    let (_, report) = run_action(&s, &["install=sometimes"]);
    assert_eq!(step(&report, "prep")["outcome"], "failure");
    assert_eq!(step(&report, "scan")["outcome"], "skipped");
}

/// Turns the simulated push into a pull request from `head_repo` to
/// org/app, same commits.
fn as_pull_request(s: &mut Sim, head_repo: &str) {
    let event_path = s.dir.join("event.json");
    let push: Value = serde_json::from_slice(&std::fs::read(&event_path).unwrap()).unwrap();
    let pr = json!({"pull_request": {
        "base": {"sha": push["before"], "ref": "main", "repo": {"full_name": "org/app"}},
        "head": {"sha": push["after"], "ref": "feature", "repo": {"full_name": head_repo}},
    }});
    std::fs::write(&event_path, serde_json::to_vec(&pr).unwrap()).unwrap();
    for (k, v) in s.env.iter_mut() {
        if k == "GITHUB_EVENT_NAME" {
            *v = "pull_request".into();
        }
    }
    s.env.push(("GITHUB_REPOSITORY".into(), "org/app".into()));
}

#[test]
fn pull_request_from_a_fork_skips_the_upload_with_a_notice_and_still_fails() {
    let mut s = sim(true);
    as_pull_request(&mut s, "someone/app");
    let (code, report) = run_action(&s, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(step(&report, "scan")["outputs"]["findings"], "1");
    assert!(uses(&report, "github/codeql-action/upload-sarif@").is_none());
    assert_eq!(
        step(&report, "Fail on leaked credentials")["outcome"],
        "failure"
    );
    assert!(
        report["commands"].as_array().unwrap().iter().any(|c| {
            c["command"] == "notice"
                && c["message"]
                    .as_str()
                    .unwrap()
                    .contains("SARIF upload is skipped")
        }),
        "{report:#}"
    );

    // The same pull request from a branch of the repository uploads.
    let mut s = sim(true);
    as_pull_request(&mut s, "org/app");
    let (code, report) = run_action(&s, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert!(uses(&report, "github/codeql-action/upload-sarif@").is_some());
}
