//! action.yml: valid against check-jsonschema's GitHub Actions schema, and
//! run step by step in a mini runner (tests/action/minirunner.py) on a real
//! repository with a simulated push: SARIF written, upload recorded, the
//! job failing on a leak and passing when clean.
//!
//! `cargo install` is replaced by a recording test double that installs the
//! leakscan binary this test run built (a release build from scratch takes
//! minutes); everything else runs for real.

mod ci_support;
mod gitutil;
mod sarif_check;

use std::path::PathBuf;
use std::process::Command;

use gitutil::{commit_all, git, new_repo, write};
use serde_json::{Value, json};

const AWS: &str = "AKIAZ7TQ4VWB3N5RXK2M";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tool(name: &str) -> Command {
    let found = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{name}` is missing: run scripts/setup.sh (it installs check-jsonschema and its YAML parser)"
    );
    Command::new(name)
}

#[test]
fn action_yml_is_valid_against_the_github_actions_schema() {
    let out = tool("check-jsonschema")
        .args(["--builtin-schema", "vendor.github-actions"])
        .arg(root().join("action.yml"))
        .output()
        .unwrap();
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
    let out = tool("check-jsonschema")
        .args(["--builtin-schema", "vendor.github-actions"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a step without shell must fail validation"
    );
}

#[test]
fn action_never_inlines_expressions_in_run_and_pins_uses_by_sha() {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let mut in_run = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("run: |") {
            in_run = true;
            continue;
        }
        if in_run && !line.starts_with("        ") && !t.is_empty() {
            in_run = false;
        }
        if in_run {
            assert!(!line.contains("${{"), "expression inside run: {line}");
        }
        if let Some(u) = t.strip_prefix("uses: ") {
            let rev = u
                .split('@')
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap();
            assert!(
                rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()),
                "pin {u} by commit"
            );
        }
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
