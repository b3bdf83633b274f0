//! `leakscan ci` on real repositories (built with `git` in temp dirs) with
//! simulated event payloads and runner files: push, new branch, force push,
//! pull request, BASE == HEAD, schedule, shallow clones, and scanned text
//! that tries to inject workflow commands.

mod ci_support;
mod gitutil;
mod sarif_check;

use std::path::{Path, PathBuf};

use ci_support::{Runner, ZERO, workflow_commands};
use gitutil::{commit_all, git, leakscan, new_repo, write};
use serde_json::json;

const AWS: &str = "AKIAZ7TQ4VWB3N5RXK2M";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn ci(runner: &Runner, args: &[&str]) -> Run {
    let mut cmd = leakscan(&runner.workspace);
    runner.apply(&mut cmd);
    let out = cmd.arg("ci").args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every workflow command leakscan printed must be one of its own, well
/// formed: `::error` with exactly the annotation properties, or a notice.
fn assert_only_own_commands(r: &Run) {
    for stream in [&r.stdout, &r.stderr] {
        for c in workflow_commands(stream) {
            match c.name.as_str() {
                "error" => {
                    let keys: Vec<&str> = c.props.keys().map(String::as_str).collect();
                    assert!(
                        keys == ["col", "endColumn", "endLine", "file", "line", "title"]
                            || keys == ["endLine", "file", "line", "title"],
                        "unexpected annotation properties {keys:?} in {stream}"
                    );
                }
                "notice" => assert_eq!(c.props.get("title").map(String::as_str), Some("leakscan")),
                other => panic!("leakscan printed a `{other}` workflow command:\n{stream}"),
            }
        }
    }
}

fn errors(r: &Run) -> Vec<ci_support::WorkflowCommand> {
    workflow_commands(&r.stdout)
        .into_iter()
        .filter(|c| c.name == "error")
        .collect()
}

fn notices(r: &Run) -> String {
    workflow_commands(&r.stdout)
        .into_iter()
        .filter(|c| c.name == "notice")
        .map(|c| c.message)
        .collect::<Vec<_>>()
        .join("\n")
}

fn sarif(runner: &Runner, secrets: &[&str]) -> serde_json::Value {
    let path = runner.outputs()["sarif-file"].clone();
    let text = std::fs::read_to_string(&path).unwrap();
    sarif_check::check(&text, secrets)
}

fn rules_found(log: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = sarif_check::results(log)
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn clone(up: &Path, ws: &Path, depth: Option<u32>) {
    let url = format!("file://{}", up.display());
    let mut args = vec!["clone".to_string(), "-q".into()];
    if let Some(d) = depth {
        args.push(format!("--depth={d}"));
    }
    args.push(url);
    args.push(ws.display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    git(up.parent().unwrap(), &args);
}

/// upstream: c1 clean, c2 adds an AWS key, c3 adds a GitHub token.
fn upstream(root: &Path) -> (PathBuf, Vec<String>, String) {
    let up = new_repo(&root.join("up"));
    write(&up, "README", "hello\n");
    let c1 = commit_all(&up, "first");
    write(
        &up,
        "deploy/aws.env",
        &format!("aws_access_key_id = {AWS}\n"),
    );
    let c2 = commit_all(&up, "aws");
    let tok = gitutil::token('k');
    write(
        &up,
        "src/token.rs",
        &format!("const T: &str = \"{tok}\";\n"),
    );
    let c3 = commit_all(&up, "token");
    (up, vec![c1, c2, c3], tok)
}

#[test]
fn push_scans_before_to_after_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, c, tok) = upstream(tmp.path());
    let ws = tmp.path().join("ws");
    clone(&up, &ws, None);
    let runner = Runner::new(
        &tmp.path().join("runner"),
        &ws,
        "push",
        // `commits` lists the AWS commit: it must be ignored.
        &json!({"before": c[1], "after": c[2], "ref": "refs/heads/main",
                "repository": {"default_branch": "main"},
                "commits": [{"id": c[1]}, {"id": c[2]}]}),
        &c[2],
    );
    let r = ci(&runner, &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_only_own_commands(&r);
    let out = runner.outputs();
    assert_eq!(out["findings"], "1");
    assert_eq!(
        out["sarif-file"],
        ws.join("leakscan.sarif").display().to_string()
    );
    let log = sarif(&runner, &[AWS, &tok]);
    assert_eq!(rules_found(&log), ["github-token"]);
    assert_eq!(
        sarif_check::results(&log)[0]["properties"]["commit"],
        c[2].as_str()
    );

    let ann = errors(&r);
    assert_eq!(ann.len(), 1);
    assert_eq!(ann[0].props["file"], "src/token.rs");
    assert_eq!(ann[0].props["line"], "1");
    assert_eq!(ann[0].props["col"], "18");
    assert!(ann[0].message.contains("github-token") && ann[0].message.contains(&c[2][..12]));
    assert!(!r.stdout.contains(&tok[4..]) && !r.stderr.contains(&tok[4..]));

    let summary = runner.summary();
    assert!(summary.contains("| Rule | Location |"), "{summary}");
    assert!(summary.contains("src/token.rs"));
    assert!(
        summary.contains("<code>ghp&#95;…</code>"),
        "redacted secret in the summary: {summary}"
    );
    assert!(!summary.contains(&tok[4..]));
    assert!(summary.contains(&format!("{}..{}", &c[1][..12], &c[2][..12])));
}

#[test]
fn new_branch_scans_commits_not_on_the_default_branch() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, c, tok) = upstream(tmp.path());
    // `feature` branches off after the AWS commit and adds a token.
    git(&up, &["checkout", "-q", "-b", "feature", &c[1]]);
    let tok2 = gitutil::token('f');
    write(&up, "feature.txt", &format!("token {tok2}\n"));
    let f1 = commit_all(&up, "feature work");
    git(&up, &["checkout", "-q", "main"]);
    let ws = tmp.path().join("ws");
    clone(&up, &ws, None);
    git(&ws, &["checkout", "-q", "feature"]);
    let runner = Runner::new(
        &tmp.path().join("runner"),
        &ws,
        "push",
        &json!({"before": ZERO, "after": f1, "ref": "refs/heads/feature",
                "repository": {"default_branch": "main"}, "commits": []}),
        &f1,
    );
    let r = ci(&runner, &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_only_own_commands(&r);
    assert!(notices(&r).contains("new branch"), "{}", r.stdout);
    let log = sarif(&runner, &[AWS, &tok, &tok2]);
    // Only the feature commit: neither the AWS key nor main's token.
    assert_eq!(rules_found(&log), ["github-token"]);
    assert_eq!(
        sarif_check::results(&log)[0]["properties"]["commit"],
        f1.as_str()
    );
}

#[test]
fn force_push_falls_back_to_the_history_of_after_with_a_notice() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, c, tok) = upstream(tmp.path());
    // Rewrite the last commit and drop the old one for good.
    let old = c[2].clone();
    git(&up, &["reset", "-q", "--hard", &c[1]]);
    write(
        &up,
        "src/token.rs",
        &format!("const T: &str = \"{tok}\"; // amended\n"),
    );
    let new = commit_all(&up, "token, amended");
    git(&up, &["reflog", "expire", "--expire=now", "--all"]);
    git(&up, &["gc", "-q", "--prune=now"]);
    let ws = tmp.path().join("ws");
    clone(&up, &ws, None);
    let runner = Runner::new(
        &tmp.path().join("runner"),
        &ws,
        "push",
        &json!({"before": old, "after": new, "forced": true, "ref": "refs/heads/main",
                "repository": {"default_branch": "main"}}),
        &new,
    );
    let r = ci(&runner, &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_only_own_commands(&r);
    let n = notices(&r);
    assert!(n.contains("force push") && n.contains(&old[..12]), "{n}");
    // The whole history of `after`: the older AWS key too.
    let log = sarif(&runner, &[AWS, &tok]);
    assert_eq!(rules_found(&log), ["aws-access-key-id", "github-token"]);
    assert!(runner.summary().contains("force push"));
}

#[test]
fn pull_request_scans_base_to_head() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, c, tok) = upstream(tmp.path());
    git(&up, &["checkout", "-q", "-b", "pr"]);
    write(
        &up,
        "more.env",
        &format!("aws_access_key_id = {}\n", "AKIAQ3MTWS7NRPXV2Y4J"),
    );
    let head = commit_all(&up, "pr work");
    git(&up, &["checkout", "-q", "main"]);
    let ws = tmp.path().join("ws");
    clone(&up, &ws, None);
    git(&ws, &["checkout", "-q", "pr"]);
    for event in ["pull_request", "pull_request_target"] {
        let runner = Runner::new(
            &tmp.path().join(format!("runner-{event}")),
            &ws,
            event,
            &json!({"number": 7, "pull_request": {"base": {"sha": c[2], "ref": "main"},
                                                   "head": {"sha": head, "ref": "pr"}}}),
            &head,
        );
        let r = ci(
            &runner,
            &[
                "--sarif-file",
                runner.dir.join("out/pr.sarif").to_str().unwrap(),
            ],
        );
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        assert_only_own_commands(&r);
        assert_eq!(runner.outputs()["findings"], "1");
        assert!(runner.outputs()["sarif-file"].ends_with("out/pr.sarif"));
        let log = sarif(&runner, &[AWS, "AKIAQ3MTWS7NRPXV2Y4J", &tok]);
        let res = sarif_check::results(&log);
        assert_eq!(res.len(), 1);
        assert_eq!(
            res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "more.env"
        );
    }
}

#[test]
fn base_equal_to_head_is_a_notice_and_success() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, c, _) = upstream(tmp.path());
    let ws = tmp.path().join("ws");
    clone(&up, &ws, None);
    let runner = Runner::new(
        &tmp.path().join("runner"),
        &ws,
        "push",
        &json!({"before": c[2], "after": c[2], "ref": "refs/heads/main"}),
        &c[2],
    );
    let r = ci(&runner, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_only_own_commands(&r);
    assert!(
        notices(&r).contains("BASE and HEAD are the same commit"),
        "{}",
        r.stdout
    );
    assert_eq!(runner.outputs()["findings"], "0");
    let log = sarif(&runner, &[]);
    assert!(sarif_check::results(&log).is_empty());
    assert!(runner.summary().contains("No leaked credentials found."));
    assert!(errors(&r).is_empty());
}

#[test]
fn schedule_scans_the_whole_history_or_the_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, c, tok) = upstream(tmp.path());
    // The AWS key is removed from the tree but stays in history.
    std::fs::remove_file(up.join("deploy/aws.env")).unwrap();
    let head = commit_all(&up, "remove aws");
    let _ = c;
    let ws = tmp.path().join("ws");
    clone(&up, &ws, None);
    for event in ["schedule", "workflow_dispatch"] {
        let runner = Runner::new(&tmp.path().join(event), &ws, event, &json!({}), &head);
        let r = ci(&runner, &[]);
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        let log = sarif(&runner, &[AWS, &tok]);
        assert_eq!(rules_found(&log), ["aws-access-key-id", "github-token"]);
        assert!(runner.summary().contains("whole history"));
    }
    let runner = Runner::new(&tmp.path().join("tree"), &ws, "schedule", &json!({}), &head);
    // Started elsewhere, with a relative SARIF path: it stays relative to
    // where leakscan started, though a tree scan enters the repository.
    let mut cmd = leakscan(&runner.dir);
    runner.apply(&mut cmd);
    let out = cmd
        .args([
            "ci",
            ws.to_str().unwrap(),
            "--scan",
            "tree",
            "--sarif-file",
            "tree.sarif",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(runner.dir.join("tree.sarif").is_file());
    assert_eq!(
        runner.outputs()["sarif-file"],
        runner.dir.join("tree.sarif").display().to_string()
    );
    let log = sarif(&runner, &[AWS, &tok]);
    assert_eq!(rules_found(&log), ["github-token"]);
    let res = sarif_check::results(&log);
    assert_eq!(
        res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "src/token.rs"
    );
    assert!(res[0]["properties"]["commit"].is_null());
}

#[test]
fn shallow_clone_is_deepened_from_the_remote() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, c, tok) = upstream(tmp.path());
    for i in 0..5 {
        write(&up, &format!("n{i}.txt"), "clean\n");
        commit_all(&up, &format!("filler {i}"));
    }
    let tok2 = gitutil::token('s');
    write(&up, "late.txt", &format!("{tok2}\n"));
    let head = commit_all(&up, "late token");
    let ws = tmp.path().join("ws");
    clone(&up, &ws, Some(1));
    assert_eq!(git(&ws, &["rev-parse", "--is-shallow-repository"]), "true");
    let runner = Runner::new(
        &tmp.path().join("runner"),
        &ws,
        "push",
        &json!({"before": c[2], "after": head, "ref": "refs/heads/main"}),
        &head,
    );
    let r = ci(&runner, &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(notices(&r).contains("deepened"), "{}", r.stdout);
    let log = sarif(&runner, &[AWS, &tok, &tok2]);
    // Only the late token: c[2]'s token and the AWS key are before the range.
    assert_eq!(rules_found(&log), ["github-token"]);
    assert_eq!(
        sarif_check::results(&log)[0]["properties"]["commit"],
        head.as_str()
    );
    // The base is now in the clone.
    git(&ws, &["cat-file", "-e", &format!("{}^{{commit}}", c[2])]);
}

#[test]
fn shallow_clone_without_a_reachable_remote_fails_naming_fetch_depth() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, c, _) = upstream(tmp.path());
    let ws = tmp.path().join("ws");
    clone(&up, &ws, Some(1));
    git(
        &ws,
        &[
            "remote",
            "set-url",
            "origin",
            "file:///nonexistent/leakscan-test-remote",
        ],
    );
    let runner = Runner::new(
        &tmp.path().join("runner"),
        &ws,
        "push",
        &json!({"before": c[0], "after": c[2], "ref": "refs/heads/main"}),
        &c[2],
    );
    let r = ci(&runner, &[]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("fetch-depth: 0"), "{}", r.stderr);
    assert!(r.stderr.contains("shallow"), "{}", r.stderr);
    // Never a vacuous pass: no outputs claiming zero findings.
    assert!(!runner.outputs().contains_key("findings"));

    // A schedule run on the same clone cannot scan "the whole history" either.
    let runner = Runner::new(&tmp.path().join("r2"), &ws, "schedule", &json!({}), &c[2]);
    let r = ci(&runner, &[]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("fetch-depth: 0"), "{}", r.stderr);
}

#[test]
fn outside_github_actions_names_the_variables() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = leakscan(tmp.path());
    for v in ci_support::GITHUB_VARS {
        cmd.env_remove(v);
    }
    let out = cmd.arg("ci").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for v in [
        "GITHUB_ACTIONS",
        "GITHUB_EVENT_NAME",
        "GITHUB_EVENT_PATH",
        "GITHUB_WORKSPACE",
        "GITHUB_SHA",
    ] {
        assert!(err.contains(v), "{err}");
    }
}

#[test]
fn scanned_text_cannot_inject_workflow_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let up = new_repo(&tmp.path().join("up"));
    write(&up, "README", "hello\n");
    let base = commit_all(&up, "first");
    let evil_content = format!(
        "::error::INJECTED-content\n::set-output name=findings::0\n  ::add-mask::x\n\
         aws_access_key_id = {AWS}\n%0A::error::INJECTED-encoded\n"
    );
    // File names carrying commands, a newline and a carriage return.
    write(&up, "::error::INJECTED-name.env", &evil_content);
    write(
        &up,
        "dir\n::set-output name=x::INJECTED-newline.env",
        &evil_content,
    );
    write(&up, "cr\r::warning::INJECTED-cr,line=9.env", &evil_content);
    git(&up, &["add", "-A"]);
    git(
        &up,
        &[
            "commit",
            "-q",
            "-m",
            "::error::INJECTED-message\n\n::set-output name=findings::0",
        ],
    );
    let head = git(&up, &["rev-parse", "HEAD"]);
    let ws = tmp.path().join("ws");
    clone(&up, &ws, None);
    let runner = Runner::new(
        &tmp.path().join("runner"),
        &ws,
        "push",
        &json!({"before": base, "after": head, "ref": "refs/heads/main",
                "head_commit": {"message": "::error::INJECTED-payload"}}),
        &head,
    );
    let r = ci(&runner, &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_only_own_commands(&r);
    for stream in [&r.stdout, &r.stderr] {
        for line in stream.lines() {
            let t = line.trim_start();
            assert!(
                !(t.starts_with("::")
                    && !t.starts_with("::error file=")
                    && !t.starts_with("::notice title=leakscan::")),
                "a line could run a command: {line:?}"
            );
        }
    }
    // The file names reach the annotations escaped, and come back intact
    // (with control characters made visible) when the runner unescapes them.
    let ann = errors(&r);
    assert_eq!(ann.len(), 3, "{}", r.stdout);
    let files: Vec<&str> = ann.iter().map(|a| a.props["file"].as_str()).collect();
    assert!(files.contains(&"::error::INJECTED-name.env"), "{files:?}");
    assert!(
        files.contains(&"dir\\n::set-output name=x::INJECTED-newline.env"),
        "{files:?}"
    );
    assert!(
        files.contains(&"cr\\r::warning::INJECTED-cr,line=9.env"),
        "{files:?}"
    );
    for a in &ann {
        assert_eq!(a.props["line"], "4");
        assert!(!a.message.contains('\n') && !a.message.contains('\r'));
    }
    // GITHUB_OUTPUT holds only leakscan's two outputs, with the real count.
    let out = runner.outputs();
    assert_eq!(out.keys().collect::<Vec<_>>(), ["findings", "sarif-file"]);
    assert_eq!(out["findings"], "3");
    // The summary renders names as text, not Markdown or HTML.
    let summary = runner.summary();
    assert!(!summary.contains("\n::"), "{summary}");
    assert!(!summary.contains(AWS));
    sarif(&runner, &[AWS]);
}

#[test]
fn new_branch_in_a_shallow_single_branch_clone() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, c, tok) = upstream(tmp.path());
    git(&up, &["checkout", "-q", "-b", "feature", &c[1]]);
    for i in 0..3 {
        write(&up, &format!("f{i}.txt"), "clean\n");
        commit_all(&up, &format!("feature {i}"));
    }
    let tok2 = gitutil::token('b');
    write(&up, "feature.txt", &format!("token {tok2}\n"));
    let f = commit_all(&up, "feature token");
    git(&up, &["checkout", "-q", "main"]);
    let ws = tmp.path().join("ws");
    let url = format!("file://{}", up.display());
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--depth=1",
            "--branch",
            "feature",
            &url,
            ws.to_str().unwrap(),
        ],
    );
    let runner = Runner::new(
        &tmp.path().join("runner"),
        &ws,
        "push",
        &json!({"before": ZERO, "after": f, "ref": "refs/heads/feature",
                "repository": {"default_branch": "main"}}),
        &f,
    );
    let r = ci(&runner, &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_only_own_commands(&r);
    assert!(
        notices(&r).contains(&c[1][..12]),
        "based on the fork point: {}",
        r.stdout
    );
    let log = sarif(&runner, &[AWS, &tok, &tok2]);
    assert_eq!(rules_found(&log), ["github-token"]);
    assert_eq!(
        sarif_check::results(&log)[0]["properties"]["commit"],
        f.as_str()
    );
}

#[test]
fn pull_request_from_a_depth_one_merge_checkout() {
    // What actions/checkout does by default for pull_request: fetch only
    // refs/pull/N/merge with depth 1 and check out the merge commit.
    let tmp = tempfile::tempdir().unwrap();
    let (up, c, tok) = upstream(tmp.path());
    git(&up, &["checkout", "-q", "-b", "pr", &c[1]]);
    let tok2 = gitutil::token('m');
    write(&up, "pr.txt", &format!("{tok2}\n"));
    let head = commit_all(&up, "pr token");
    git(&up, &["checkout", "-q", "--detach", &c[2]]);
    git(
        &up,
        &["merge", "-q", "--no-ff", "-m", "Merge pr into main", "pr"],
    );
    let merge = git(&up, &["rev-parse", "HEAD"]);
    git(&up, &["update-ref", "refs/pull/1/merge", &merge]);
    git(&up, &["checkout", "-q", "main"]);

    let ws = new_repo(&tmp.path().join("ws"));
    git(
        &ws,
        &[
            "remote",
            "add",
            "origin",
            &format!("file://{}", up.display()),
        ],
    );
    git(
        &ws,
        &[
            "fetch",
            "-q",
            "--depth=1",
            "origin",
            "+refs/pull/1/merge:refs/remotes/pull/1/merge",
        ],
    );
    git(
        &ws,
        &["checkout", "-q", "--detach", "refs/remotes/pull/1/merge"],
    );
    assert_eq!(git(&ws, &["rev-parse", "--is-shallow-repository"]), "true");
    let runner = Runner::new(
        &tmp.path().join("runner"),
        &ws,
        "pull_request",
        &json!({"pull_request": {"base": {"sha": c[2], "ref": "main"},
                                 "head": {"sha": head, "ref": "pr"}}}),
        &merge,
    );
    let r = ci(&runner, &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let log = sarif(&runner, &[AWS, &tok, &tok2]);
    assert_eq!(rules_found(&log), ["github-token"]);
    assert_eq!(
        sarif_check::results(&log)[0]["properties"]["commit"],
        head.as_str()
    );
}

#[test]
fn ignore_file_suppresses_in_ci_too() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, c, tok) = upstream(tmp.path());
    let ws = tmp.path().join("ws");
    clone(&up, &ws, None);
    let payload = json!({"before": c[1], "after": c[2], "ref": "refs/heads/main"});
    let runner = Runner::new(&tmp.path().join("r1"), &ws, "push", &payload, &c[2]);
    assert_eq!(ci(&runner, &[]).code, 1);
    let log = sarif(&runner, &[&tok]);
    let fp = sarif_check::results(&log)[0]["partialFingerprints"]["leakscan/v1"]
        .as_str()
        .unwrap()
        .to_string();
    write(
        &ws,
        ".leakscanignore",
        &format!("{fp}  # test token, revoked\n"),
    );
    let runner = Runner::new(&tmp.path().join("r2"), &ws, "push", &payload, &c[2]);
    let r = ci(&runner, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(runner.outputs()["findings"], "0");
    assert!(sarif_check::results(&sarif(&runner, &[&tok])).is_empty());
    assert!(errors(&r).is_empty());
}

#[test]
fn merge_group_range_and_deleted_branch() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, c, tok) = upstream(tmp.path());
    let ws = tmp.path().join("ws");
    clone(&up, &ws, None);
    let runner = Runner::new(
        &tmp.path().join("mg"),
        &ws,
        "merge_group",
        &json!({"merge_group": {"base_sha": c[1], "head_sha": c[2],
                                "head_ref": "refs/heads/gh-readonly-queue/main/pr-1"}}),
        &c[2],
    );
    let r = ci(&runner, &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(rules_found(&sarif(&runner, &[AWS, &tok])), ["github-token"]);

    let runner = Runner::new(
        &tmp.path().join("del"),
        &ws,
        "push",
        &json!({"before": c[2], "after": ZERO, "deleted": true, "ref": "refs/heads/old"}),
        &c[2],
    );
    let r = ci(&runner, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(notices(&r).contains("deleted"), "{}", r.stdout);
    assert_eq!(runner.outputs()["findings"], "0");
    assert!(sarif_check::results(&sarif(&runner, &[])).is_empty());
}

#[test]
fn verification_flags_reach_ci() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, c, tok) = upstream(tmp.path());
    let ws = tmp.path().join("ws");
    clone(&up, &ws, None);
    let runner = Runner::new(
        &tmp.path().join("r"),
        &ws,
        "push",
        &json!({"before": c[1], "after": c[2], "ref": "refs/heads/main"}),
        &c[2],
    );
    // Dry run: prints what it would send, sends nothing.
    let r = ci(&runner, &["--verify-dry-run"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("verify dry-run"), "{}", r.stderr);
    assert!(!r.stderr.contains(&tok[4..]));
    assert_only_own_commands(&r);
    sarif(&runner, &[&tok]);
}

/// `--stats FILE` and `--strict` work in `ci` as in the other scans: a
/// blob skipped for its size makes a strict run fail with exit 2.
#[test]
fn stats_and_strict_apply_to_ci() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, c, _tok) = upstream(tmp.path());
    let head = c.last().unwrap().clone();
    let ws = tmp.path().join("ws");
    clone(&up, &ws, None);
    let runner = Runner::new(&tmp.path().join("run"), &ws, "schedule", &json!({}), &head);
    let stats = tmp.path().join("stats.json");
    let r = ci(&runner, &["--stats", stats.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert!(v["files_scanned"].as_u64().unwrap() > 0, "{v}");
    // Without --strict a skipped blob is only counted; with it, exit 2.
    let r = ci(&runner, &["--max-file-size", "10"]);
    assert_ne!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    let r = ci(&runner, &["--max-file-size", "10", "--strict"]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("too-large"), "{}", r.stderr);
}

/// Issue 15 item 8: `leakscan ci` honours `--format` without `-o` like
/// every scan command, and the job log holds every finding (annotations
/// stop at 10).
#[test]
fn issue15_item8_ci_prints_the_full_report_to_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, c, _) = upstream(tmp.path());
    let many: String = ('a'..='l')
        .map(|ch| format!("T_{ch}={}\n", gitutil::token(ch)))
        .collect();
    write(&up, "many.env", &many);
    let c4 = commit_all(&up, "twelve tokens");
    let ws = tmp.path().join("ws");
    clone(&up, &ws, None);
    let runner = Runner::new(
        &tmp.path().join("runner"),
        &ws,
        "push",
        &json!({"before": c[2], "after": c4, "ref": "refs/heads/main",
                "repository": {"default_branch": "main"}}),
        &c4,
    );
    let r = ci(&runner, &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_only_own_commands(&r);
    assert_eq!(errors(&r).len(), 10, "{}", r.stdout);
    for line in 1..=12 {
        assert!(
            r.stdout.contains(&format!("many.env:{line}:")),
            "line {line} missing from the log:\n{}",
            r.stdout
        );
    }
    for ch in 'a'..='l' {
        assert!(!r.stdout.contains(&gitutil::token(ch)));
    }

    let r = ci(&runner, &["--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_only_own_commands(&r);
    let json: String = r
        .stdout
        .lines()
        .filter(|l| !l.starts_with("::"))
        .collect::<Vec<_>>()
        .join("\n");
    let v: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(v.len(), 12, "{json}");
}
