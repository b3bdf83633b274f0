//! Files on disk: a parallel walk honouring .gitignore and .ignore (unless
//! `no_ignore`; what they exclude is counted), skipping `.git/`, not following
//! symlinks unless asked, with oversized and unreadable files counted as skips.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Result, bail};
use ignore::{WalkBuilder, WalkState};

use crate::finding::{Finding, ScanResult};
use crate::paths::display_path;
use crate::source::sink::{BlobSink, ReadOptions};
use crate::stats::{Stats, reason};

struct Shared {
    findings: Vec<Finding>,
    stats: Stats,
    /// Folders the walk entered (to count what ignore rules excluded).
    dirs: Vec<PathBuf>,
    /// Every path the walk yielded, errors included.
    seen: Vec<PathBuf>,
    /// The worker's read buffer, reused from file to file: a buffer
    /// allocated per file was handed back to the kernel when freed and
    /// faulted in, zeroed, for the next (the kernel's page clearing was a
    /// twentieth of a tree scan).
    buf: Vec<u8>,
}

impl Shared {
    fn new() -> Self {
        Shared {
            findings: Vec::new(),
            stats: Stats::default(),
            dirs: Vec::new(),
            seen: Vec::new(),
            buf: Vec::new(),
        }
    }
}

/// Walks `roots` and hands every file read to `sink`.
pub fn scan<S: BlobSink + ?Sized>(sink: &S, roots: &[PathBuf]) -> Result<ScanResult> {
    let opts = sink.read_options();
    for r in roots {
        if std::fs::symlink_metadata(r).is_err() {
            bail!(
                "{}: no such file or directory (check the path you passed to `leakscan dir`)",
                display_path(r)
            );
        }
    }
    let mut builder = WalkBuilder::new(&roots[0]);
    for r in &roots[1..] {
        builder.add(r);
    }
    let honour = !opts.no_ignore;
    builder
        .hidden(false)
        .git_ignore(honour)
        .git_global(false)
        .git_exclude(honour)
        .ignore(honour)
        .parents(honour)
        .require_git(false)
        .follow_links(opts.follow_symlinks)
        .threads(opts.threads)
        .filter_entry(|e| e.file_name() != ".git");
    // Roots that are folders: a file's path below one is where generic
    // findings are judged (a file given by name has nothing below it).
    let dir_roots: Vec<&Path> = roots
        .iter()
        .filter(|r| r.is_dir())
        .map(PathBuf::as_path)
        .collect();
    let shared = Mutex::new(Shared::new());
    builder.build_parallel().run(|| {
        let shared = &shared;
        let opts = &opts;
        let dir_roots = &dir_roots;
        let local = Shared::new();
        // Flushed into the shared state when the worker's closure is dropped.
        struct Flush<'a> {
            local: Shared,
            shared: &'a Mutex<Shared>,
        }
        impl Drop for Flush<'_> {
            fn drop(&mut self) {
                if let Ok(mut s) = self.shared.lock() {
                    s.findings.append(&mut self.local.findings);
                    let stats = std::mem::take(&mut self.local.stats);
                    s.stats.merge(stats);
                    s.dirs.append(&mut self.local.dirs);
                    s.seen.append(&mut self.local.seen);
                }
            }
        }
        let mut flush = Flush { local, shared };
        Box::new(move |entry| {
            let l = &mut flush.local;
            match entry {
                Ok(e) => {
                    if honour {
                        l.seen.push(e.path().to_path_buf());
                        if e.file_type().is_some_and(|t| t.is_dir()) {
                            l.dirs.push(e.path().to_path_buf());
                        }
                    }
                    visit(sink, opts, dir_roots, e, l)
                }
                Err(err) => {
                    if honour && let Some(p) = error_path(&err) {
                        l.seen.push(p.to_path_buf());
                    }
                    let (reason, path, text) = classify(&err);
                    l.stats.error(
                        reason,
                        format!("{}: {text}", crate::sanitize::sanitize(&path)),
                    );
                }
            }
            WalkState::Continue
        })
    });
    let mut shared = shared
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a scan worker panicked"))?;
    if honour {
        let n = count_ignored(&shared.dirs, shared.seen.iter().cloned().collect());
        if n > 0 {
            *shared
                .stats
                .skipped
                .entry(reason::GITIGNORED.to_string())
                .or_default() += n;
        }
    }
    Ok(ScanResult {
        findings: shared.findings,
        stats: shared.stats,
    })
}

/// Children of the walked folders that the walk did not yield: what
/// .gitignore, .ignore and .git/info/exclude excluded (a folder counts once,
/// `.git` not at all).
fn count_ignored(dirs: &[PathBuf], seen: HashSet<PathBuf>) -> u64 {
    let mut n = 0;
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(d) else {
            continue;
        };
        for e in rd.flatten() {
            if e.file_name() != ".git" && !seen.contains(&d.join(e.file_name())) {
                n += 1;
            }
        }
    }
    n
}

/// The innermost path a walk error names.
fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, err } => error_path(err).or(Some(path)),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

/// A walk error's skip reason, the path it concerns, and what went wrong
/// (never the file's content).
fn classify(err: &ignore::Error) -> (&'static str, String, String) {
    let mut path = None;
    let mut e = err;
    loop {
        match e {
            ignore::Error::WithPath { path: p, err } => {
                path.get_or_insert_with(|| display_path(p));
                e = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                e = err
            }
            _ => break,
        }
    }
    let path = path.unwrap_or_else(|| String::from("(walk)"));
    match e {
        ignore::Error::Loop { ancestor, child } => (
            reason::SYMLINK_LOOP,
            display_path(child),
            format!(
                "symbolic link loop (leads back to {}); not followed",
                crate::sanitize::sanitize(&display_path(ancestor))
            ),
        ),
        ignore::Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            let dangling = std::fs::symlink_metadata(&path)
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false);
            if dangling {
                (
                    reason::BROKEN_SYMLINK,
                    path,
                    "broken symbolic link (its target does not exist)".into(),
                )
            } else {
                (reason::UNREADABLE, path, io.to_string())
            }
        }
        ignore::Error::Io(io) => (reason::UNREADABLE, path, io.to_string()),
        other => ("walk-error", path, other.to_string()),
    }
}

fn error_text(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. } => error_text(err),
        ignore::Error::WithDepth { err, .. } => error_text(err),
        ignore::Error::Loop { .. } => "symbolic link loop".into(),
        ignore::Error::Io(e) => e.to_string(),
        other => other.to_string(),
    }
}

fn visit<S: BlobSink + ?Sized>(
    sink: &S,
    opts: &ReadOptions,
    dir_roots: &[&Path],
    entry: ignore::DirEntry,
    l: &mut Shared,
) {
    let Some(ft) = entry.file_type() else {
        return; // stdin entries do not occur here
    };
    if ft.is_dir() {
        return;
    }
    let path = entry.path();
    let shown = display_path(path);
    if ft.is_symlink() {
        // Not followed (or a broken link when following).
        l.stats.skip("symlink");
        return;
    }
    if !ft.is_file() {
        l.stats.skip(reason::NOT_A_FILE);
        return;
    }
    if sink.excluded(&shown) {
        l.stats.skip("path-allowlist");
        return;
    }
    let meta = match entry.metadata() {
        Ok(m) => m,
        Err(e) => {
            l.stats.error(
                reason::UNREADABLE,
                format!("{}: {}", crate::sanitize::sanitize(&shown), error_text(&e)),
            );
            return;
        }
    };
    if meta.len() > opts.max_file_size {
        l.stats.skip(reason::TOO_LARGE);
        return;
    }
    match read_limited(path, meta.len(), opts.max_file_size, &mut l.buf) {
        Ok(true) => {}
        Ok(false) => {
            l.stats.skip(reason::TOO_LARGE);
            return;
        }
        Err(e) => {
            l.stats.error(
                reason::UNREADABLE,
                format!("{}: {e}", crate::sanitize::sanitize(&shown)),
            );
            return;
        }
    }
    let data = &l.buf;
    l.stats.files_scanned += 1;
    l.stats.bytes_scanned += data.len() as u64;
    let below = dir_roots
        .iter()
        .find_map(|r| path.strip_prefix(r).ok())
        .map(display_path);
    let mut found = sink.blob(&shown, below.as_deref(), data, &mut l.stats);
    l.findings.append(&mut found);
    // A huge file must not pin its buffer for the worker's life.
    if l.buf.capacity() > 64 << 20 {
        l.buf = Vec::new();
    }
}

/// Reads a file into `buf` (its old contents dropped), never more than
/// `limit` bytes (a file may grow after its metadata was read); `false` if
/// it is larger. `len`, the size its metadata gave, reserves the room:
/// reading through `take` hides the size from `read_to_end`, which then
/// grew the buffer from 32 bytes by doubling, copying the bytes each time
/// and calling `read` once per doubling.
fn read_limited(path: &Path, len: u64, limit: u64, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    buf.clear();
    let f = std::fs::File::open(path)?;
    // One byte more, so that the read that finds the end needs no growth.
    buf.reserve(usize::try_from(len.min(limit)).unwrap_or(0) + 1);
    f.take(limit + 1).read_to_end(buf)?;
    Ok(buf.len() as u64 <= limit)
}
