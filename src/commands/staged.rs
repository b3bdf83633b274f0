//! `leakscan staged`: the pre-commit check on what the index adds, with
//! what to do next when it blocks a commit.

use std::collections::BTreeSet;

use anyhow::Result;
use leakscan_scanner::Config;
use leakscan_scanner::sanitize::sanitize;
use leakscan_scanner::scan::Scanner;
use leakscan_scanner::source::staged;

use crate::args::ScanArgs;

pub fn run(scan: ScanArgs) -> Result<u8> {
    let repo = staged::open_from_env()?;
    let root = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    let config = Config::discover(scan.config.as_deref(), &root)?;
    let scanner = Scanner::new(config, scan.to_options())?;
    let result = scanner.scan_staged(&repo)?;
    let paths: BTreeSet<String> = result.findings.iter().map(|f| sanitize(&f.path)).collect();
    let n = result.findings.len();
    let code = super::finish(&scanner, &scan, result)?;
    if n > 0 {
        let mut hint = format!(
            "leakscan: the staged changes add {n} secret{}. Before committing:\n",
            if n == 1 { "" } else { "s" }
        );
        hint.push_str(
            "  - remove it from the file and stage the file again, or unstage the file:\n",
        );
        for p in &paths {
            hint.push_str(&format!(
                "      git restore --staged -- '{}'\n",
                p.replace('\'', "'\\''")
            ));
        }
        hint.push_str(
            "  - a false positive: add a `leakscan:allow` comment on the same line\n  \
             - `git commit --no-verify` skips this check (the secret would still be committed)\n",
        );
        eprint!("{hint}");
    }
    Ok(code)
}
