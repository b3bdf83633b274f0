//! `leakscan hook install / uninstall`: writes the plain git hooks from
//! hooks/ into the folder git uses (core.hooksPath and worktrees honoured),
//! chaining any hook already there and restoring it on uninstall.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::args::HookCommand;

const PRE_COMMIT: &str = include_str!("../../hooks/pre-commit");
const PRE_PUSH: &str = include_str!("../../hooks/pre-push");
/// Marks a hook as ours.
const MARKER: &str = "# leakscan-hook";
/// Suffix of a foreign hook kept and run first.
const CHAINED: &str = ".pre-leakscan";
/// Suffix of a foreign hook replaced with `--force` (not run; restored on
/// uninstall).
const REPLACED: &str = ".leakscan-replaced";

pub fn run(command: HookCommand) -> Result<u8> {
    let dir = hooks_dir()?;
    match command {
        HookCommand::Install {
            pre_push,
            force,
            config,
            baseline,
        } => {
            let mut extra = String::new();
            for (flag, file) in [("--config", &config), ("--baseline", &baseline)] {
                if let Some(f) = file {
                    let abs = f
                        .canonicalize()
                        .with_context(|| format!("{flag} {}: no such file", f.display()))?;
                    extra.push_str(&format!(" {flag} {}", shell_quote(&abs.to_string_lossy())));
                }
            }
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("creating the hooks folder {}", dir.display()))?;
            let bin = std::env::current_exe().context("finding the leakscan binary")?;
            let bin = bin.to_string_lossy().replace('\'', "'\\''");
            let mut hooks = vec![("pre-commit", PRE_COMMIT), ("pre-merge-commit", PRE_COMMIT)];
            if pre_push {
                hooks.push(("pre-push", PRE_PUSH));
            }
            for (name, script) in hooks {
                let script = script
                    .replace("@LEAKSCAN_BIN@", &bin)
                    .replace(" @LEAKSCAN_ARGS@", &extra);
                let msg = install(&dir, name, &script, force)?;
                eprintln!("leakscan: {name}: {msg}");
            }
        }
        HookCommand::Uninstall => {
            for name in ["pre-commit", "pre-merge-commit", "pre-push"] {
                if let Some(msg) = uninstall(&dir, name)? {
                    eprintln!("leakscan: {name}: {msg}");
                }
            }
        }
    }
    Ok(0)
}

/// `git rev-parse --git-path hooks`, made absolute; says so when
/// core.hooksPath points elsewhere (it may be shared or versioned).
fn hooks_dir() -> Result<PathBuf> {
    let out = Command::new("git")
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .output()
        .context("running `git rev-parse` (is git installed?)")?;
    if !out.status.success() {
        bail!(
            "not inside a git repository: {} (run `leakscan hook install` from a repository)",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim_end_matches(['\n', '\r']));
    let hp = Command::new("git")
        .args(["config", "--get", "core.hooksPath"])
        .output();
    if let Ok(hp) = hp
        && hp.status.success()
    {
        eprintln!(
            "leakscan: core.hooksPath is set; using {} (shared by every repository or clone that uses it)",
            dir.display()
        );
    }
    Ok(dir)
}

fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|s| s.contains(MARKER))
}

fn install(dir: &Path, name: &str, script: &str, force: bool) -> Result<&'static str> {
    let target = dir.join(name);
    let mut msg = "installed";
    if target.exists() || target.symlink_metadata().is_ok() {
        if is_ours(&target) {
            if std::fs::read_to_string(&target).is_ok_and(|s| s == script) {
                return Ok("already installed, nothing changed");
            }
            msg = "updated";
        } else {
            let keep = dir.join(format!("{name}{}", if force { REPLACED } else { CHAINED }));
            if keep.symlink_metadata().is_ok() {
                bail!(
                    "{} exists and so does {}; move one of them away, then install again",
                    target.display(),
                    keep.display()
                );
            }
            std::fs::rename(&target, &keep).with_context(|| {
                format!(
                    "keeping the existing hook {} as {}",
                    target.display(),
                    keep.display()
                )
            })?;
            msg = if force {
                "installed; the existing hook was set aside (not run) and comes back on uninstall"
            } else {
                "installed; the existing hook is kept and runs first"
            };
        }
    }
    write_executable(&target, script)?;
    Ok(msg)
}

fn uninstall(dir: &Path, name: &str) -> Result<Option<&'static str>> {
    let target = dir.join(name);
    if target.symlink_metadata().is_err() {
        return Ok(None);
    }
    if !is_ours(&target) {
        return Ok(Some("not leakscan's hook; left alone"));
    }
    std::fs::remove_file(&target).with_context(|| format!("removing {}", target.display()))?;
    for suffix in [CHAINED, REPLACED] {
        let kept = dir.join(format!("{name}{suffix}"));
        if kept.symlink_metadata().is_ok() {
            std::fs::rename(&kept, &target)
                .with_context(|| format!("restoring {}", target.display()))?;
            return Ok(Some("removed; the previous hook is restored"));
        }
    }
    Ok(Some("removed"))
}

fn write_executable(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", path.display()))?;
    }
    Ok(())
}

/// `'text'` for sh, with `'` written `'\''`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}
