//! `leakscan staged`: the pre-commit check on what the index adds, with
//! what to do next when it blocks a commit.

use std::collections::BTreeSet;

use anyhow::Result;
use leakscan_scanner::scan::Scanner;
use leakscan_scanner::source::staged;

use crate::args::ScanArgs;

pub fn run(scan: ScanArgs) -> Result<u8> {
    let repo = staged::open_from_env()?;
    let root = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    let config = scan.discover_config(&root)?;
    let scanner = Scanner::new(config, scan.to_options())?;
    // A clean `git merge` names the merged commits only here.
    let heads: Vec<git2::Oid> = std::env::vars_os()
        .filter_map(|(k, _)| {
            let k = k.to_str()?;
            git2::Oid::from_str(k.strip_prefix("GITHEAD_")?).ok()
        })
        .collect();
    let result = scanner.scan_staged_with(&repo, &heads)?;
    let unborn = repo.head().is_err();
    let out = super::finish_outcome(&scanner, &scan, result)?;
    // The hint follows what was reported: suppressed findings (ignore file,
    // baseline) do not block the commit and are not mentioned.
    if out.reported > 0 {
        eprint!("{}", hint(out.reported, &out.paths, unborn));
    }
    Ok(out.code)
}

/// What to do when the commit is blocked. Before the first commit there is
/// no HEAD to restore from: `git rm --cached` unstages instead.
fn hint(n: usize, paths: &BTreeSet<String>, unborn: bool) -> String {
    let (secrets, them) = if n == 1 {
        ("1 secret".to_string(), "it")
    } else {
        (format!("{n} secrets"), "them")
    };
    let mut hint = format!(
        "leakscan: the staged changes add {secrets}. Before committing:\n  \
         - remove {them} from the file and stage the file again, or unstage the file:\n"
    );
    for p in paths {
        let q = p.replace('\'', "'\\''");
        if unborn {
            hint.push_str(&format!("      git rm --cached -- '{q}'\n"));
        } else {
            hint.push_str(&format!("      git restore --staged -- '{q}'\n"));
        }
    }
    hint.push_str(
        "  - a false positive: add a `leakscan:allow` comment on the same line\n  \
         - `git commit --no-verify` skips this check (the secret would still be committed)\n",
    );
    hint
}
