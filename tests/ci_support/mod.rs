//! A simulated GitHub Actions runner for `leakscan ci` tests: event
//! payload, runner files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY), the
//! environment, parsers for what leakscan writes and prints, and the
//! checks every workflow and action file of the project passes.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every GitHub variable a test might inherit from a real runner.
pub const GITHUB_VARS: &[&str] = &[
    "GITHUB_ACTIONS",
    "GITHUB_EVENT_NAME",
    "GITHUB_EVENT_PATH",
    "GITHUB_WORKSPACE",
    "GITHUB_SHA",
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_ENV",
    "GITHUB_PATH",
    "GITHUB_ACTION_PATH",
    "GITHUB_ACTION_REF",
    "GITHUB_REPOSITORY",
];

pub const ZERO: &str = "0000000000000000000000000000000000000000";

/// A fake runner: a temp directory holding the event file and the runner
/// files, plus the workspace (the checked-out clone).
pub struct Runner {
    pub dir: PathBuf,
    pub workspace: PathBuf,
    pub event_name: String,
    pub sha: String,
}

impl Runner {
    pub fn new(
        dir: &Path,
        workspace: &Path,
        event_name: &str,
        payload: &serde_json::Value,
        sha: &str,
    ) -> Runner {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("event.json"),
            serde_json::to_vec_pretty(payload).unwrap(),
        )
        .unwrap();
        for f in ["output", "summary"] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        Runner {
            dir: dir.to_path_buf(),
            workspace: workspace.to_path_buf(),
            event_name: event_name.to_string(),
            sha: sha.to_string(),
        }
    }

    /// Sets the runner's variables on a command (after removing inherited ones).
    pub fn apply(&self, cmd: &mut Command) {
        for v in GITHUB_VARS {
            cmd.env_remove(v);
        }
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", &self.event_name)
            .env("GITHUB_EVENT_PATH", self.dir.join("event.json"))
            .env("GITHUB_WORKSPACE", &self.workspace)
            .env("GITHUB_SHA", &self.sha)
            .env("GITHUB_OUTPUT", self.dir.join("output"))
            .env("GITHUB_STEP_SUMMARY", self.dir.join("summary"));
    }

    pub fn outputs(&self) -> BTreeMap<String, String> {
        parse_outputs(&std::fs::read_to_string(self.dir.join("output")).unwrap())
    }

    pub fn summary(&self) -> String {
        std::fs::read_to_string(self.dir.join("summary")).unwrap()
    }
}

/// Parses a GITHUB_OUTPUT file: `name=value` lines and `name<<DELIM`
/// blocks, as the runner does. Panics on anything else.
pub fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            loop {
                let l = lines
                    .next()
                    .unwrap_or_else(|| panic!("unterminated {name}"));
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        } else {
            panic!("bad GITHUB_OUTPUT line {line:?}");
        }
    }
    out
}

/// A workflow command the runner would execute: lines whose trimmed start
/// is `::` (the runner trims leading white space).
#[derive(Debug, Clone)]
pub struct WorkflowCommand {
    pub name: String,
    pub props: BTreeMap<String, String>,
    pub message: String,
}

/// Finds every line of `text` that the runner would take as a command,
/// parsing it the runner's way (unescaping `%25`, `%0D`, `%0A`, `%3A`, `%2C`).
pub fn workflow_commands(text: &str) -> Vec<WorkflowCommand> {
    let mut cmds = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        let Some(rest) = t.strip_prefix("::") else {
            continue;
        };
        let Some(end) = rest.find("::") else {
            continue; // not a command without the closing `::`
        };
        let head = &rest[..end];
        let message = unescape(&rest[end + 2..]);
        let (name, props_text) = head.split_once(' ').unwrap_or((head, ""));
        let mut props = BTreeMap::new();
        for p in props_text.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            props.insert(k.to_string(), unescape(v));
        }
        cmds.push(WorkflowCommand {
            name: name.to_string(),
            props,
            message,
        });
    }
    cmds
}

fn unescape(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

/// A command for a tool the tests need; fails (never skips) when
/// scripts/setup.sh has not installed it.
pub fn tool(name: &str) -> Command {
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

/// `check-jsonschema` with one of its built-in schemas
/// (`vendor.github-actions`, `vendor.github-workflows`) on `file`.
pub fn check_schema(schema: &str, file: &Path) -> std::process::Output {
    tool("check-jsonschema")
        .args(["--builtin-schema", schema])
        .arg(file)
        .output()
        .unwrap()
}

/// Asserts that no `${{ }}` expression stands inside a `run: |` block
/// (values reach the shell through `env:`) and that every `uses:` is pinned
/// by a full commit id; returns (pinned uses, run blocks) so that a caller
/// can tell the check was not vacuous.
pub fn check_run_blocks_and_pins(text: &str) -> (usize, usize) {
    // The indentation of the `run: |` key of the block we are in, if any.
    let mut run_indent: Option<usize> = None;
    let (mut pinned, mut blocks) = (0, 0);
    for line in text.lines() {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        if let Some(i) = run_indent
            && !t.is_empty()
            && indent <= i
        {
            run_indent = None;
        }
        if run_indent.is_some() {
            assert!(!line.contains("${{"), "expression inside run: {line}");
            continue;
        }
        let key = t.strip_prefix("- ").unwrap_or(t);
        if key.starts_with("run: |") {
            run_indent = Some(indent + (t.len() - key.len()));
            blocks += 1;
        } else if let Some(u) = key.strip_prefix("uses: ") {
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
            pinned += 1;
        }
    }
    (pinned, blocks)
}
