//! Turns a [`Request`] into a [`Plan`] against the checked-out clone with
//! the real `git`: checks that base and head exist, deepens a shallow clone
//! in bounded steps when a remote answers, finds a new branch's base, and
//! falls back (with a notice) when a force push removed `before`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::event::{Request, is_sha, valid_branch_name};

/// How far each deepening step reaches (commits from the current shallow
/// boundary); after the last one, `--unshallow`.
pub const DEEPEN_STEPS: &[u32] = &[64, 256, 1024, 4096];
/// Longest a single `git fetch` may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(600);

/// What will be scanned, with everything resolved to commit ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Only what the commits in `base..head` added.
    Range { base: String, head: String },
    /// Every blob in the history of `head`.
    History { head: String },
    /// The files of the working tree.
    Tree,
    /// Nothing to do; the reason is shown as a notice.
    Nothing { reason: String },
}

impl Plan {
    /// A short description for the summary and the log.
    pub fn describe(&self) -> String {
        match self {
            Plan::Range { base, head } => {
                format!("commits {}..{}", short(base), short(head))
            }
            Plan::History { head } => format!("the whole history of {}", short(head)),
            Plan::Tree => "the checked-out files".into(),
            Plan::Nothing { reason } => format!("nothing ({reason})"),
        }
    }
}

pub fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// The plan and the notices explaining any fallback.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub plan: Plan,
    pub notices: Vec<String>,
}

/// The `git` binary run on one repository, with inherited repository
/// variables removed so it cannot be pointed elsewhere.
pub struct Git {
    repo: PathBuf,
    /// Log of the fetches run (for the notices).
    pub fetches: Vec<String>,
}

impl Git {
    pub fn new(repo: &Path) -> Git {
        Git {
            repo: repo.to_path_buf(),
            fetches: Vec::new(),
        }
    }

    fn command(&self) -> Command {
        let mut c = Command::new("git");
        c.arg("-C").arg(&self.repo);
        for v in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_NAMESPACE",
            "GIT_CEILING_DIRECTORIES",
        ] {
            c.env_remove(v);
        }
        c.env("GIT_TERMINAL_PROMPT", "0");
        c.env("GCM_INTERACTIVE", "never");
        c.stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Result<Output> {
        self.command().args(args).output().map_err(|e| {
            anyhow::anyhow!("running `git {}`: {e} (is git installed?)", args.join(" "))
        })
    }

    fn stdout(&self, args: &[&str]) -> Option<String> {
        let out = self.run(args).ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Fails unless the path is a git work tree.
    pub fn check_repo(&self) -> Result<()> {
        match self.stdout(&["rev-parse", "--is-inside-work-tree"]) {
            Some(s) if s == "true" => Ok(()),
            _ => bail!(
                "{} is not a git repository (check out the repository with actions/checkout \
                 before running leakscan, or pass its path)",
                self.repo.display()
            ),
        }
    }

    pub fn has_commit(&self, sha: &str) -> bool {
        is_sha(sha)
            && self
                .stdout(&["cat-file", "-e", &format!("{sha}^{{commit}}")])
                .is_some()
    }

    pub fn is_shallow(&self) -> bool {
        self.stdout(&["rev-parse", "--is-shallow-repository"])
            .is_some_and(|s| s == "true")
    }

    /// The commits at the shallow boundary (their parents are missing).
    fn shallow_commits(&self) -> HashSet<String> {
        let Some(path) = self.stdout(&["rev-parse", "--git-path", "shallow"]) else {
            return HashSet::new();
        };
        let path = self.repo.join(path);
        std::fs::read_to_string(path)
            .map(|t| t.lines().map(|l| l.trim().to_string()).collect())
            .unwrap_or_default()
    }

    /// Whether every commit of `base..head` is present with its parents:
    /// no shallow-boundary commit inside the range.
    pub fn range_complete(&self, base: &str, head: &str) -> bool {
        if !self.is_shallow() {
            return true;
        }
        let shallow = self.shallow_commits();
        let Some(list) = self.stdout(&["rev-list", &format!("{base}..{head}")]) else {
            return false;
        };
        !list.lines().any(|c| shallow.contains(c.trim()))
    }

    pub fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        self.stdout(&["merge-base", a, b]).filter(|s| is_sha(s))
    }

    /// The commit a ref points at.
    pub fn resolve_ref(&self, r: &str) -> Option<String> {
        self.stdout(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{r}^{{commit}}"),
        ])
        .filter(|s| is_sha(s))
    }

    /// `origin` when it exists, else the first remote.
    pub fn remote(&self) -> Option<String> {
        let list = self.stdout(&["remote"])?;
        let names: Vec<&str> = list
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        names
            .iter()
            .find(|n| **n == "origin")
            .or(names.first())
            .map(|s| s.to_string())
    }

    /// The remote's default branch as the clone knows it.
    pub fn remote_default_branch(&self, remote: &str) -> Option<String> {
        let full = self.stdout(&[
            "symbolic-ref",
            "--quiet",
            &format!("refs/remotes/{remote}/HEAD"),
        ])?;
        let b = full
            .strip_prefix(&format!("refs/remotes/{remote}/"))?
            .to_string();
        valid_branch_name(&b).then_some(b)
    }

    /// Runs `git fetch` with a timeout; Err carries git's (sanitized) last
    /// line of stderr.
    pub fn fetch(&mut self, args: &[&str]) -> std::result::Result<(), String> {
        let mut full = vec!["fetch", "--quiet", "--no-tags", "--no-recurse-submodules"];
        full.extend_from_slice(args);
        self.fetches.push(format!("git {}", full.join(" ")));
        let mut child = match self
            .command()
            .args(&full)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => return Err(format!("could not run git: {e}")),
        };
        let started = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    let mut err = String::new();
                    if let Some(mut s) = child.stderr.take() {
                        use std::io::Read;
                        let _ = s.read_to_string(&mut err);
                    }
                    return if status.success() {
                        Ok(())
                    } else {
                        let last = err
                            .lines()
                            .rev()
                            .find(|l| !l.trim().is_empty())
                            .unwrap_or("");
                        Err(leakscan_scanner::sanitize::sanitize(last.trim()))
                    };
                }
                Ok(None) if started.elapsed() > FETCH_TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("timed out after {}s", FETCH_TIMEOUT.as_secs()));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// Deepens a shallow clone step by step until `done` holds or the
    /// clone is complete. Returns Err with the reason when no remote
    /// answered while the clone was still shallow.
    pub fn deepen_until(&mut self, mut done: impl FnMut(&Git) -> bool) -> Result<(), String> {
        if done(self) || !self.is_shallow() {
            return Ok(());
        }
        let Some(remote) = self.remote() else {
            return Err("the clone has no remote to fetch from".into());
        };
        for step in DEEPEN_STEPS {
            self.fetch(&[&format!("--deepen={step}"), &remote])?;
            if done(self) || !self.is_shallow() {
                return Ok(());
            }
        }
        self.fetch(&["--unshallow", &remote])?;
        Ok(())
    }
}

fn shallow_error(what: &str, why: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{what} is not in this shallow clone and it could not be deepened ({why}). \
         Check out the whole history: in the workflow, give actions/checkout `fetch-depth: 0`."
    )
}

/// Resolves the request against the clone, fetching what is missing.
pub fn resolve(git: &mut Git, req: Request) -> Result<Resolved> {
    let mut notices = Vec::new();
    let plan = match req {
        Request::Nothing { reason } => Plan::Nothing { reason },
        Request::Tree => Plan::Tree,
        Request::History { head } => history(git, head, &mut notices)?,
        Request::Range { base, head, push } => {
            if base == head {
                Plan::Nothing {
                    reason: format!(
                        "BASE and HEAD are the same commit ({}); no new commits to scan",
                        short(&head)
                    ),
                }
            } else {
                range(git, base, head, push, &mut notices)?
            }
        }
        Request::NewRef {
            head,
            git_ref,
            default_branch,
        } => new_ref(git, head, &git_ref, default_branch, &mut notices)?,
    };
    Ok(Resolved { plan, notices })
}

fn ensure_head(git: &mut Git, head: &str) -> Result<()> {
    if git.has_commit(head) {
        return Ok(());
    }
    let h = head.to_string();
    let deepened = git.deepen_until(|g| g.has_commit(&h));
    if git.has_commit(head) {
        return Ok(());
    }
    if let Some(remote) = git.remote() {
        let _ = git.fetch(&[&remote, head]);
        if git.has_commit(head) {
            return Ok(());
        }
    }
    match deepened {
        Err(why) if git.is_shallow() => {
            Err(shallow_error(&format!("commit {}", short(head)), &why))
        }
        _ => bail!(
            "the commit to scan, {}, is not in the repository at {} (check that actions/checkout \
             checked out this event's commit)",
            short(head),
            git.repo.display()
        ),
    }
}

fn history(git: &mut Git, head: String, notices: &mut Vec<String>) -> Result<Plan> {
    ensure_head(git, &head)?;
    if git.is_shallow() {
        let remote = git.remote();
        let res = match &remote {
            Some(r) => git.fetch(&["--unshallow", r]),
            None => Err("the clone has no remote to fetch from".into()),
        };
        if let Err(why) = res {
            return Err(shallow_error(
                "the history before the checked-out commit",
                &why,
            ));
        }
        notices.push("The clone was shallow; fetched the whole history to scan it.".into());
    }
    Ok(Plan::History { head })
}

fn range(
    git: &mut Git,
    base: String,
    head: String,
    push: bool,
    notices: &mut Vec<String>,
) -> Result<Plan> {
    ensure_head(git, &head)?;
    let was_shallow = git.is_shallow();
    let (b, h) = (base.clone(), head.clone());
    let deepened = git.deepen_until(|g| g.has_commit(&b) && g.range_complete(&b, &h));
    if was_shallow && deepened.is_ok() {
        notices.push(format!(
            "The clone was shallow; deepened it with `git fetch --deepen` to reach {}.",
            short(&base)
        ));
    }
    if git.has_commit(&base) && git.range_complete(&base, &head) {
        return Ok(Plan::Range { base, head });
    }
    if let Err(why) = &deepened
        && git.is_shallow()
    {
        return Err(shallow_error(
            &format!("the base commit {}", short(&base)),
            why,
        ));
    }
    // The clone is complete and the base is still missing: ask the remote
    // for that one commit (it may keep it), else fall back.
    if let Some(remote) = git.remote() {
        let _ = git.fetch(&[&remote, &base]);
        if git.has_commit(&base) {
            return Ok(Plan::Range { base, head });
        }
    }
    if push {
        notices.push(format!(
            "The push's `before` commit {} is not in the repository (a force push rewrote \
             the branch), so leakscan scans the whole history of {} instead.",
            short(&base),
            short(&head)
        ));
        return history(git, head, notices);
    }
    bail!(
        "the base commit {} is not in the repository at {} and the remote did not provide it \
         (give actions/checkout `fetch-depth: 0`)",
        short(&base),
        git.repo.display()
    )
}

fn new_ref(
    git: &mut Git,
    head: String,
    git_ref: &str,
    default_branch: Option<String>,
    notices: &mut Vec<String>,
) -> Result<Plan> {
    ensure_head(git, &head)?;
    let remote = git.remote();
    let default_branch =
        default_branch.or_else(|| remote.as_deref().and_then(|r| git.remote_default_branch(r)));
    let (Some(default_branch), Some(remote)) = (default_branch, remote) else {
        notices.push(format!(
            "A new branch was pushed and the default branch is unknown, so leakscan scans \
             the whole history of {}.",
            short(&head)
        ));
        return history(git, head, notices);
    };
    if git_ref == format!("refs/heads/{default_branch}") {
        notices.push(format!(
            "The first push of the default branch `{default_branch}`: scanning its whole history."
        ));
        return history(git, head, notices);
    }
    let default_ref = format!("refs/remotes/{remote}/{default_branch}");
    if git.resolve_ref(&default_ref).is_none() {
        let _ = git.fetch(&[
            &remote,
            &format!("+refs/heads/{default_branch}:{default_ref}"),
        ]);
    }
    let Some(default_tip) = git.resolve_ref(&default_ref) else {
        notices.push(format!(
            "A new branch was pushed and `{default_branch}` could not be found, so leakscan \
             scans the whole history of {}.",
            short(&head)
        ));
        return history(git, head, notices);
    };
    let h = head.clone();
    let t = default_tip.clone();
    let deepened = git.deepen_until(|g| {
        g.merge_base(&t, &h)
            .is_some_and(|mb| g.range_complete(&mb, &h))
    });
    match git.merge_base(&default_tip, &head) {
        Some(mb) if git.range_complete(&mb, &head) => {
            notices.push(format!(
                "A new branch: scanning the commits not on `{default_branch}` (since {}).",
                short(&mb)
            ));
            if mb == head {
                return Ok(Plan::Nothing {
                    reason: format!("the new branch adds no commits to `{default_branch}`"),
                });
            }
            Ok(Plan::Range { base: mb, head })
        }
        _ => {
            if let Err(why) = deepened
                && git.is_shallow()
            {
                return Err(shallow_error(
                    &format!("the common history with `{default_branch}`"),
                    &why,
                ));
            }
            notices.push(format!(
                "The new branch shares no history with `{default_branch}`, so leakscan scans \
                 the whole history of {}.",
                short(&head)
            ));
            history(git, head, notices)
        }
    }
}
