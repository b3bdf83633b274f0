//! What a GitHub Actions event asks to scan: the runner's environment and
//! the event payload turned into a [`Request`] (a commit range, a new
//! branch, a whole history, the tree), before any git lookup.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The environment variables `leakscan ci` reads.
pub const REQUIRED_VARS: &[&str] = &[
    "GITHUB_ACTIONS",
    "GITHUB_EVENT_NAME",
    "GITHUB_EVENT_PATH",
    "GITHUB_WORKSPACE",
    "GITHUB_SHA",
];

/// What the user chose with `--scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanMode {
    /// What the event changed: the pushed commits or the pull request's
    /// commits; the whole history for schedule and workflow_dispatch.
    Changes,
    /// The whole history of the checked-out commit.
    History,
    /// The checked-out files only.
    Tree,
}

/// The runner's environment, read once by the CLI.
#[derive(Debug, Clone)]
pub struct RunnerEnv {
    pub event_name: String,
    pub event_path: PathBuf,
    pub workspace: PathBuf,
    pub sha: String,
    pub step_summary: Option<PathBuf>,
    pub output: Option<PathBuf>,
}

impl RunnerEnv {
    /// Reads the runner's variables through `get`; an error names what is
    /// missing and every variable looked for.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<RunnerEnv> {
        let val = |k: &str| get(k).filter(|v| !v.is_empty());
        let missing: Vec<&str> = REQUIRED_VARS
            .iter()
            .copied()
            .filter(|k| val(k).is_none())
            .collect();
        let actions = val("GITHUB_ACTIONS");
        if !missing.is_empty() || actions.as_deref() != Some("true") {
            let mut what = if missing.is_empty() {
                String::from("GITHUB_ACTIONS is not `true`")
            } else {
                format!("missing {}", missing.join(", "))
            };
            if missing.is_empty() || missing.len() < REQUIRED_VARS.len() {
                what.push_str(" (some GitHub Actions variables are set, others not)");
            }
            bail!(
                "`leakscan ci` runs inside GitHub Actions and found no GitHub Actions run: {what}. \
                 It looks for {}. Outside Actions use `leakscan git --range BASE..HEAD` or \
                 `leakscan dir`.",
                REQUIRED_VARS.join(", ")
            );
        }
        let path = |k: &str| val(k).map(PathBuf::from);
        Ok(RunnerEnv {
            event_name: val("GITHUB_EVENT_NAME").unwrap_or_default(),
            event_path: path("GITHUB_EVENT_PATH").unwrap_or_default(),
            workspace: path("GITHUB_WORKSPACE").unwrap_or_default(),
            sha: val("GITHUB_SHA").unwrap_or_default(),
            step_summary: path("GITHUB_STEP_SUMMARY"),
            output: path("GITHUB_OUTPUT"),
        })
    }
}

/// What to scan, as the event describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Commits in `base..head`. `push` says whether it came from a push,
    /// where a missing base means a force push (fallback to history).
    Range {
        base: String,
        head: String,
        push: bool,
    },
    /// A push that created a branch or tag: the commits not already on
    /// the default branch.
    NewRef {
        head: String,
        git_ref: String,
        default_branch: Option<String>,
    },
    /// The whole history of `head`.
    History { head: String },
    /// The checked-out tree.
    Tree,
    /// Nothing to scan (a deleted branch).
    Nothing { reason: String },
}

/// Whether a sha is git's "no commit" (all zeros, SHA-1 or SHA-256).
pub fn is_zero_sha(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b == b'0')
}

/// A full object id (40 or 64 hex digits); anything else in a payload is
/// refused rather than passed to git.
pub fn is_sha(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn sha_at(payload: &Value, pointer: &str, event: &str) -> Result<String> {
    let v = payload
        .pointer(pointer)
        .and_then(Value::as_str)
        .with_context(|| {
            format!("the {event} event payload has no `{pointer}` (is GITHUB_EVENT_PATH the event file?)")
        })?;
    if !is_sha(v) {
        bail!(
            "the {event} event payload's `{pointer}` is not a commit id: {}",
            leakscan_scanner::sanitize::sanitize(&v.chars().take(80).collect::<String>())
        );
    }
    Ok(v.to_ascii_lowercase())
}

/// Reads the event file.
pub fn read_payload(env: &RunnerEnv) -> Result<Value> {
    let text = std::fs::read_to_string(&env.event_path).with_context(|| {
        format!(
            "reading the event payload {} (GITHUB_EVENT_PATH)",
            env.event_path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "parsing the event payload {} (GITHUB_EVENT_PATH) as JSON",
            env.event_path.display()
        )
    })
}

/// Turns the event into a request. The push payload's `commits` list is
/// never used: GitHub caps it.
pub fn request(env: &RunnerEnv, payload: &Value, mode: ScanMode) -> Result<Request> {
    let event = env.event_name.as_str();
    if !is_sha(&env.sha) {
        bail!("GITHUB_SHA is not a commit id");
    }
    let sha = env.sha.to_ascii_lowercase();
    match mode {
        ScanMode::Tree => return Ok(Request::Tree),
        ScanMode::History => return Ok(Request::History { head: sha }),
        ScanMode::Changes => {}
    }
    Ok(match event {
        "push" => {
            let after = match payload.pointer("/after").and_then(Value::as_str) {
                Some(a) => a.to_string(),
                None => sha.clone(),
            };
            let deleted = payload
                .pointer("/deleted")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if deleted || is_zero_sha(&after) {
                return Ok(Request::Nothing {
                    reason: "the push deleted a branch or tag; there is nothing to scan".into(),
                });
            }
            let after = sha_at(payload, "/after", event)?;
            let before = payload
                .pointer("/before")
                .and_then(Value::as_str)
                .unwrap_or("");
            if before.is_empty() || is_zero_sha(before) {
                let git_ref = payload
                    .pointer("/ref")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let default_branch = payload
                    .pointer("/repository/default_branch")
                    .and_then(Value::as_str)
                    .filter(|b| valid_branch_name(b))
                    .map(str::to_string);
                Request::NewRef {
                    head: after,
                    git_ref,
                    default_branch,
                }
            } else {
                Request::Range {
                    base: sha_at(payload, "/before", event)?,
                    head: after,
                    push: true,
                }
            }
        }
        "pull_request" | "pull_request_target" => Request::Range {
            base: sha_at(payload, "/pull_request/base/sha", event)?,
            head: sha_at(payload, "/pull_request/head/sha", event)?,
            push: false,
        },
        "merge_group" => Request::Range {
            base: sha_at(payload, "/merge_group/base_sha", event)?,
            head: sha_at(payload, "/merge_group/head_sha", event)?,
            push: false,
        },
        _ => Request::History { head: sha },
    })
}

/// A branch name we are willing to put into a refspec: git's rules, a bit
/// stricter (no leading dash, no `..`, no control or special characters).
pub fn valid_branch_name(b: &str) -> bool {
    !b.is_empty()
        && b.len() <= 255
        && !b.starts_with('-')
        && !b.starts_with('/')
        && !b.ends_with('/')
        && !b.ends_with(".lock")
        && !b.contains("..")
        && !b.contains("//")
        && !b.contains("@{")
        && b.bytes().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/' | b'+' | b'=')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const Z: &str = "0000000000000000000000000000000000000000";

    fn env(event: &str) -> RunnerEnv {
        RunnerEnv {
            event_name: event.into(),
            event_path: PathBuf::new(),
            workspace: PathBuf::new(),
            sha: B.into(),
            step_summary: None,
            output: None,
        }
    }

    #[test]
    fn push_is_before_after_and_ignores_commits_list() {
        let p = json!({"before": A, "after": B, "commits": [{"id": "zzz"}]});
        assert_eq!(
            request(&env("push"), &p, ScanMode::Changes).unwrap(),
            Request::Range {
                base: A.into(),
                head: B.into(),
                push: true
            }
        );
    }

    #[test]
    fn new_branch_and_deleted_branch() {
        let p = json!({"before": Z, "after": B, "ref": "refs/heads/feature",
                       "repository": {"default_branch": "main"}});
        assert_eq!(
            request(&env("push"), &p, ScanMode::Changes).unwrap(),
            Request::NewRef {
                head: B.into(),
                git_ref: "refs/heads/feature".into(),
                default_branch: Some("main".into())
            }
        );
        let p = json!({"before": A, "after": Z, "deleted": true});
        assert!(matches!(
            request(&env("push"), &p, ScanMode::Changes).unwrap(),
            Request::Nothing { .. }
        ));
    }

    #[test]
    fn pull_request_merge_group_schedule() {
        let p = json!({"pull_request": {"base": {"sha": A}, "head": {"sha": B}}});
        for e in ["pull_request", "pull_request_target"] {
            assert!(matches!(
                request(&env(e), &p, ScanMode::Changes).unwrap(),
                Request::Range { push: false, .. }
            ));
        }
        let p = json!({"merge_group": {"base_sha": A, "head_sha": B}});
        assert!(matches!(
            request(&env("merge_group"), &p, ScanMode::Changes).unwrap(),
            Request::Range { .. }
        ));
        assert_eq!(
            request(&env("schedule"), &json!({}), ScanMode::Changes).unwrap(),
            Request::History { head: B.into() }
        );
        assert_eq!(
            request(&env("schedule"), &json!({}), ScanMode::Tree).unwrap(),
            Request::Tree
        );
    }

    #[test]
    fn hostile_payload_values_are_refused() {
        let p = json!({"before": "--upload-pack=evil", "after": B});
        assert!(request(&env("push"), &p, ScanMode::Changes).is_err());
        assert!(!valid_branch_name("-x"));
        assert!(!valid_branch_name("a..b"));
        assert!(valid_branch_name("release/1.2"));
    }

    #[test]
    fn outside_actions_names_the_variables() {
        let err = RunnerEnv::from_vars(|_| None).unwrap_err().to_string();
        for v in REQUIRED_VARS {
            assert!(err.contains(v), "{err}");
        }
    }
}
