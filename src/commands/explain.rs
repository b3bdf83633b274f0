//! `leakscan explain PATH[:LINE] [--rev REV]`: for each candidate on a line
//! (of a file on disk, or of a blob in history), every stage and its
//! verdict, and the final decision. Secrets are always redacted.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use leakscan_scanner::Config;
use leakscan_scanner::explain::{Explanation, Verdict, explain};
use leakscan_scanner::sanitize::sanitize;
use leakscan_scanner::scan::Scanner;
use leakscan_scanner::suppress::Suppressor;

use crate::args::{ExplainArgs, ExplainFormat};

/// Splits `PATH:LINE` (unless the whole text names an existing file).
fn split_target(target: &str, on_disk: bool) -> Result<(String, Option<usize>)> {
    if on_disk && Path::new(target).is_file() {
        return Ok((target.to_string(), None));
    }
    if let Some((p, l)) = target.rsplit_once(':')
        && !l.is_empty()
        && l.bytes().all(|b| b.is_ascii_digit())
    {
        let line: usize = l
            .parse()
            .with_context(|| format!("line number {l} is too large"))?;
        if line == 0 {
            bail!("line numbers start at 1 (got {target})");
        }
        return Ok((p.to_string(), Some(line)));
    }
    Ok((target.to_string(), None))
}

/// The root relative to the current directory when it contains it (for
/// shorter messages), else as it is.
fn tidy_root(root: PathBuf) -> PathBuf {
    let (Ok(cwd), Ok(abs)) = (
        std::env::current_dir().and_then(|c| c.canonicalize()),
        root.canonicalize(),
    ) else {
        return root;
    };
    match abs.strip_prefix(&cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
        Ok(rel) => rel.to_path_buf(),
        Err(_) => root,
    }
}

fn to_slash(p: &Path) -> String {
    leakscan_scanner::paths::display_path(p)
}

pub fn run(args: ExplainArgs) -> Result<u8> {
    let (path, line) = split_target(&args.target, args.rev.is_none())?;
    let (root, rel, data) = match &args.rev {
        None => {
            let file = PathBuf::from(&path);
            if !file.is_file() {
                bail!(
                    "{}: no such file (give PATH or PATH:LINE; use --rev REV for a file in history)",
                    path
                );
            }
            let root = match &args.root {
                Some(r) => r.clone(),
                None => {
                    let parent = file
                        .parent()
                        .filter(|p| !p.as_os_str().is_empty())
                        .unwrap_or(Path::new("."));
                    git2::Repository::discover(parent)
                        .ok()
                        .and_then(|r| r.workdir().map(Path::to_path_buf))
                        .unwrap_or_else(|| PathBuf::from("."))
                }
            };
            let rel = match (file.canonicalize(), root.canonicalize()) {
                (Ok(f), Ok(r)) => f
                    .strip_prefix(&r)
                    .map(to_slash)
                    .unwrap_or_else(|_| to_slash(&file)),
                _ => to_slash(&file),
            };
            let data = std::fs::read(&file).with_context(|| format!("reading {path}"))?;
            (root, rel, data)
        }
        Some(rev) => {
            let start = args.repo.clone().unwrap_or_else(|| PathBuf::from("."));
            let repo = git2::Repository::discover(&start).with_context(|| {
                format!(
                    "{} is not in a git repository (pass --repo DIR)",
                    start.display()
                )
            })?;
            let rel = path.trim_start_matches("./").to_string();
            let spec = format!("{rev}:{rel}");
            let obj = repo.revparse_single(&spec).with_context(|| {
                format!(
                    "no blob {spec} in the repository (the path is relative to its top directory)"
                )
            })?;
            let blob = obj
                .peel_to_blob()
                .with_context(|| format!("{spec} is not a file"))?;
            let root = args.root.clone().unwrap_or_else(|| {
                repo.workdir()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| repo.path().to_path_buf())
            });
            (root, rel, blob.content().to_vec())
        }
    };
    let root = tidy_root(root);
    let config = Config::discover(args.config.as_deref(), &root)?;
    let scanner = Scanner::new(config, Default::default())?;
    let supp = Suppressor::load(
        &scanner.config.root,
        args.ignore_file.as_deref(),
        args.baseline.as_deref(),
    )?;
    let ex = explain(&scanner, &supp, &rel, &data, line);
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    match args.format {
        ExplainFormat::Json => {
            serde_json::to_writer_pretty(&mut w, &ex)?;
            writeln!(w)?;
        }
        ExplainFormat::Text => render(&ex, args.rev.as_deref(), &mut w)?,
    }
    w.flush().context("writing to standard output")?;
    Ok(if ex.reported() { 1 } else { 0 })
}

fn render(ex: &Explanation, rev: Option<&str>, w: &mut dyn Write) -> Result<()> {
    let place = match ex.line {
        Some(l) => format!("{}:{l}", sanitize(&ex.path)),
        None => sanitize(&ex.path),
    };
    let at = rev
        .map(|r| format!(" at {}", sanitize(r)))
        .unwrap_or_default();
    writeln!(w, "explain {place}{at}")?;
    if ex.triggered.is_empty() {
        writeln!(w, "prefilter: no rule's keyword appears in this blob")?;
    } else {
        writeln!(
            w,
            "prefilter: keywords in the blob select {} rule{}: {}",
            ex.triggered.len(),
            if ex.triggered.len() == 1 { "" } else { "s" },
            ex.triggered.join(", ")
        )?;
    }
    if ex.candidates.is_empty() {
        writeln!(
            w,
            "no candidate secret{}",
            if ex.line.is_some() {
                " on this line"
            } else {
                ""
            }
        )?;
    }
    for (n, c) in ex.candidates.iter().enumerate() {
        writeln!(w)?;
        writeln!(
            w,
            "candidate {}: {} ({}) at {}:{}-{}:{}",
            n + 1,
            c.rule,
            sanitize(&c.name),
            c.line,
            c.column,
            c.end_line,
            c.end_column
        )?;
        writeln!(
            w,
            "  secret {}  fingerprint {}",
            sanitize(&c.secret),
            c.fingerprint
        )?;
        for s in &c.stages {
            let v = if s.verdict == Verdict::NotReached {
                "-".to_string()
            } else {
                s.verdict.as_str().to_string()
            };
            if s.detail.is_empty() {
                writeln!(w, "  {:<17} {v}", s.stage)?;
            } else {
                writeln!(w, "  {:<17} {:<9} {}", s.stage, v, sanitize(&s.detail))?;
            }
        }
        writeln!(w, "  decision: {}", sanitize(&c.decision))?;
        if c.reported {
            writeln!(
                w,
                "  to suppress: leakscan ignore {} --reason \"...\"  (or a `leakscan:allow` comment on the line)",
                c.fingerprint
            )?;
        }
    }
    if !ex.notes.is_empty() {
        writeln!(w)?;
        for note in &ex.notes {
            writeln!(w, "note: {}", sanitize(note))?;
        }
    }
    Ok(())
}
