//! Git history: every blob reachable from every ref (or one ref, or every
//! object in the odb), each unique blob read once by parallel workers with a
//! repository handle each; provenance (the introducing commit) is computed
//! afterwards, only for the blobs that had findings.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use git2::{ObjectType, Oid, Repository, Sort};

use crate::finding::Finding;
use crate::keywords::Hits;
use crate::scan::{ScanResult, Scanner, sort_findings};
use crate::source::commit::{provenance, resolve_commit};
use crate::source::locate::{Graph, NONE, locate};
use crate::source::pack::{BLOB, FromBase, Id, OidMap, OidSet, Packs};
use crate::source::trees::{EntryKind, Since, Trees};
use crate::stats::Stats;

/// What part of a repository `scan_git` reads.
#[derive(Debug, Clone, Default)]
pub struct GitScanOptions {
    /// Only what this revision reaches (default: every ref).
    pub branch: Option<String>,
    /// Also scan unreachable objects in the object database.
    pub all_objects: bool,
    /// `(base, head)` revisions: only what the commits in `base..head` add.
    /// A base of forty zeros means "a new branch": commits of `head` not
    /// reachable from any remote-tracking ref.
    pub range: Option<(String, String)>,
}

/// Progress of a long scan, reported from worker threads. The CLI draws it.
pub trait Progress: Sync {
    /// Called once before scanning: blobs to read, and their total bytes
    /// when known.
    fn start(&self, blobs_total: u64, bytes_total: Option<u64>);
    /// Called as work completes, with running totals.
    fn update(&self, blobs_done: u64, bytes_done: u64);
    /// Called once at the end.
    fn finish(&self);
}

/// Whether blobs are matched, or only enumerated and inflated (benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Match,
    /// Match, but search every blob's keywords whole rather than derive a
    /// delta's from its base's (tests and benchmarks compare the two).
    MatchWhole,
    InflateOnly,
}

/// Which reader delivers blob bytes to a full-history scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GitReader {
    /// leakscan's own pack reader (each delta chain resolved once), with
    /// libgit2 for whatever the packs do not hold.
    #[default]
    Pack,
    /// libgit2 for every blob.
    Libgit2,
}

/// Opens the repository at or above `path`.
pub fn open(path: &Path) -> Result<Repository> {
    Repository::open_ext(
        path,
        git2::RepositoryOpenFlags::empty(),
        &[] as &[&std::ffi::OsStr],
    )
    .with_context(|| {
        format!(
            "{} is not a git repository (run `git init`, or pass the repository's path)",
            path.display()
        )
    })
}

/// A blob to scan and the first path it was seen at.
struct BlobEntry {
    oid: Id,
    path: String,
}

/// The first path of each blob, by the graph's blob index, held in a few
/// large buffers (no allocation per path, no id beside it: the graph has
/// the ids in the same order).
#[derive(Default)]
struct Paths {
    chunks: Vec<String>,
    /// (chunk, start) of each path; it ends where the next one of the same
    /// chunk starts, or at the chunk's end.
    at: Vec<(u32, u32)>,
}

/// Size of a [`Paths`] chunk (a longer path gets a chunk of its own).
const PATH_CHUNK: usize = 1 << 20;

impl Paths {
    /// Appends `prefix` joined with `name` (see [`join`]).
    fn push(&mut self, prefix: &str, name: &[u8]) {
        let name = String::from_utf8_lossy(name);
        let slash = !(prefix.is_empty() || prefix.ends_with(':'));
        let len = prefix.len() + usize::from(slash) + name.len();
        let c = self.chunk_for(len);
        let chunk = &mut self.chunks[c];
        self.at.push((c as u32, chunk.len() as u32));
        chunk.push_str(prefix);
        if slash {
            chunk.push('/');
        }
        chunk.push_str(&name);
    }

    fn push_str(&mut self, path: &str) {
        let c = self.chunk_for(path.len());
        let chunk = &mut self.chunks[c];
        self.at.push((c as u32, chunk.len() as u32));
        chunk.push_str(path);
    }

    /// The chunk `len` more bytes go into.
    fn chunk_for(&mut self, len: usize) -> usize {
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= len);
        if !fits {
            self.chunks.push(String::with_capacity(PATH_CHUNK.max(len)));
        }
        self.chunks.len() - 1
    }

    fn get(&self, i: usize) -> &str {
        let (c, start) = self.at[i];
        let chunk = &self.chunks[c as usize];
        let end = match self.at.get(i + 1) {
            Some(&(c2, s2)) if c2 == c => s2 as usize,
            _ => chunk.len(),
        };
        &chunk[start as usize..end]
    }

    fn heap_bytes(&self) -> u64 {
        (self.chunks.iter().map(String::capacity).sum::<usize>() + self.at.capacity() * 8) as u64
    }
}

/// What enumeration found: blobs in first-seen order and the commits
/// walked, oldest first.
struct Enumerated {
    /// Each blob's first path (its id: `graph.blob_ids`, same index).
    paths: Paths,
    /// Readable commits, oldest first, with their root trees.
    commits: Vec<(Id, Id)>,
    /// The trees walked, for `locate`.
    graph: Graph,
}

impl Enumerated {
    /// Each blob and its first path, in first-seen order.
    fn blobs(&self) -> impl Iterator<Item = (Id, &str)> + '_ {
        self.graph
            .blob_ids
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, self.paths.get(i)))
    }

    fn blob_count(&self) -> usize {
        self.graph.blob_ids.len()
    }

    /// The blobs as a list of their own (readers that sort it).
    fn blob_entries(&self) -> Vec<BlobEntry> {
        self.blobs()
            .map(|(oid, path)| BlobEntry {
                oid,
                path: path.to_string(),
            })
            .collect()
    }

    fn first_path(&self, oid: Id) -> String {
        self.blobs()
            .find(|b| b.0 == oid)
            .map(|b| b.1.to_string())
            .unwrap_or_else(|| format!("<blob {oid}>"))
    }
}

impl Scanner {
    /// Scans a repository's history (or a range of it, see
    /// [`GitScanOptions::range`]).
    pub fn scan_git(
        &self,
        repo: &Path,
        opts: &GitScanOptions,
        progress: Option<&dyn Progress>,
    ) -> Result<ScanResult> {
        self.scan_git_mode(repo, opts, progress, Mode::Match)
    }

    /// [`Scanner::scan_git`] with matching optionally turned off, to measure
    /// the cost of enumeration and inflation alone.
    pub fn scan_git_mode(
        &self,
        repo: &Path,
        opts: &GitScanOptions,
        progress: Option<&dyn Progress>,
        mode: Mode,
    ) -> Result<ScanResult> {
        self.scan_git_reader(repo, opts, progress, mode, GitReader::default())
    }

    /// [`Scanner::scan_git_mode`] with a choice of blob reader (to compare
    /// them in tests and benchmarks).
    pub fn scan_git_reader(
        &self,
        repo: &Path,
        opts: &GitScanOptions,
        progress: Option<&dyn Progress>,
        mode: Mode,
        reader: GitReader,
    ) -> Result<ScanResult> {
        let started = Instant::now();
        let r = open(repo)?;
        let mut result = if let Some((base, head)) = &opts.range {
            crate::source::range::scan(self, &r, base, head)?
        } else {
            let mut result = self.scan_history(&r, opts, progress, mode, reader)?;
            // A shallow clone's history stops at its boundary commits: what
            // came before them was not scanned (a skip `--strict` fails on).
            let boundary = shallow_boundary(&r);
            if boundary > 0 {
                *result
                    .stats
                    .skipped
                    .entry(crate::stats::reason::SHALLOW.to_string())
                    .or_default() += boundary;
            }
            result
        };
        self.drop_generic_in_docs_or_tests(&mut result);
        mark_deleted(&r, &mut result.findings);
        sort_findings(&mut result.findings);
        result.stats.findings = result.findings.len() as u64;
        result.stats.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(result)
    }

    fn scan_history(
        &self,
        repo: &Repository,
        opts: &GitScanOptions,
        progress: Option<&dyn Progress>,
        mode: Mode,
        reader: GitReader,
    ) -> Result<ScanResult> {
        let mut stats = Stats::default();
        // See scan_blobs: no re-hash of objects on read; set before the
        // enumeration so commits and trees are not re-hashed either.
        git2::opts::strict_hash_verification(false);
        // Nor a cache of parsed objects: every commit and tree is read once
        // by the walk (from memory, see PackedCommits and Trees), and
        // libgit2's cache would keep a copy of each.
        git2::opts::enable_caching(false);
        // The pack reader decodes every packed tree once, up front; the
        // walk reads them from memory (libgit2 resolves each tree's delta
        // chain on its own, which dominated the enumeration).
        let packs = reader == GitReader::Pack && sha1_repo(repo);
        // Opened once: the tree pass and the blob pass share each pack's
        // parsed entry headers.
        let opened = packs.then(|| Packs::open(&repo.commondir().join("objects")));
        let trees = if let Some(opened) = &opened {
            let phase = Instant::now();
            let t = Trees::from_opened(opened, self.options.thread_count());
            stats.phase("read-trees", phase);
            t
        } else {
            Trees::default()
        };
        // The commits too, for the walk: libgit2 reading them from the
        // mapped pack faults in the pages around each, which is the whole
        // pack when commits are spread through it.
        let commits = opened.as_ref().map(|opened| {
            let phase = Instant::now();
            let c = PackedCommits::read(opened, self.options.thread_count());
            stats.phase("read-commits", phase);
            c
        });
        // A whole history (every ref) reaches nearly every packed blob: read
        // them all while one worker walks the history, then keep what it
        // reached. With --branch, read only what the walk reached.
        let (en, flagged, scan_stats) =
            if let Some(mut opened) = opened.filter(|_| opts.branch.is_none()) {
                // Trees and commits are read: the blob pass needs the
                // entries of blob chains alone (a fifth of a history's
                // objects), and the walk runs beside it.
                stats.memory("pack-indexes", opened.heap_bytes());
                opened.retain(BLOB);
                scan_overlapped(self, repo, opts, (&trees, commits), &opened, progress, mode)?
            } else {
                let phase = Instant::now();
                let en = enumerate(repo, opts, (&trees, commits, 0), &mut stats)?;
                stats.phase("enumerate", phase);
                let git_dir = repo.path().to_path_buf();
                // Versions of one file together, oldest first: the first read
                // resolves the file's delta chain and leaves its bases in
                // libgit2's delta base cache for the next versions.
                let mut blobs = en.blob_entries();
                blobs.sort_by(|a, b| a.path.cmp(&b.path));
                let (flagged, scan_stats) = match reader {
                    GitReader::Libgit2 => {
                        let phase = Instant::now();
                        let mut r = scan_blobs(self, &git_dir, &blobs, progress, mode)?;
                        r.1.phase("read-libgit2", phase);
                        r
                    }
                    GitReader::Pack => scan_blobs_packed(self, repo, &blobs, progress, mode)?,
                };
                (en, flagged, scan_stats)
            };
        stats.merge(scan_stats);
        let mut flagged = flagged;
        if mode == Mode::Match {
            secret_files_pass(self, repo, en.blobs(), &mut flagged);
        }
        stats.commits_scanned = Some(en.commits.len() as u64);
        for (name, bytes) in trees.memory() {
            stats.memory(name, bytes);
        }
        let mut findings = Vec::new();
        if !flagged.is_empty() {
            let flagged_oids: OidSet = flagged.keys().copied().collect();
            let phase = Instant::now();
            let located = locate(repo, &trees, &en.graph, &en.commits, &flagged_oids);
            stats.phase("locate", phase);
            for (oid, templates) in &flagged {
                let locations = match located.get(oid) {
                    Some(l) if !l.is_empty() => l.clone(),
                    // Only reachable outside any commit (a tag to a blob or
                    // tree, or unreachable): the first path seen, no commit.
                    _ => vec![(en.first_path(*oid), None)],
                };
                for (path, commit) in locations {
                    if self.path_allowed(&path) {
                        stats.skip("path-allowlist");
                        continue;
                    }
                    let prov = match commit {
                        Some(c) => Some(provenance(repo, c.oid())?),
                        None => None,
                    };
                    for t in templates {
                        let mut f = t.clone();
                        // An archive's entries: `!inner` after the blob's path.
                        f.path = crate::deep::with_outer_path(&f, &path);
                        crate::validate::confidence::apply_path(&mut f);
                        f.provenance = prov.clone();
                        findings.push(f);
                    }
                }
            }
        }
        if let Some(peak) = peak_rss() {
            stats.memory("process-peak-rss", peak);
        }
        Ok(ScanResult { findings, stats })
    }
}

/// The process's peak resident size so far (Linux's `VmHWM`), if known.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Files whose whole content is one secret (`config/master.key`,
/// `.vault-token`, see [`crate::validate::file_matches`]) are recognised by
/// name. Each unique blob is read once, so it is judged by the first path
/// it was seen at (oldest commit first); when that path names a secret
/// file, the finding is reported at every location of the blob, whatever
/// it is called there (the same bytes are the same secret).
fn secret_files_pass<'a>(
    scanner: &Scanner,
    repo: &Repository,
    blobs: impl Iterator<Item = (Id, &'a str)>,
    flagged: &mut Flagged,
) {
    for (oid, path) in blobs {
        if crate::validate::secret_file_rule(path).is_none() {
            continue;
        }
        let Ok(blob) = Oid::from_bytes(&oid.0).and_then(|oid| repo.find_blob(oid)) else {
            continue;
        };
        let data = blob.content();
        let mut matches = Vec::new();
        scanner.add_file_matches(path, data, &mut matches);
        let found = flagged.entry(oid).or_default();
        for f in scanner.findings_from("", data, &matches) {
            if !found
                .iter()
                .any(|x| x.span.0 < f.span.1 && f.span.0 < x.span.1)
            {
                found.push(f);
            }
        }
        if found.is_empty() {
            flagged.remove(&oid);
        }
    }
}

/// Collects the starting points (commits, plus trees and blobs that refs
/// point at directly), walks the commits and their trees once each.
fn enumerate(
    repo: &Repository,
    opts: &GitScanOptions,
    (trees, commits, blobs_hint): (&Trees, Option<PackedCommits>, usize),
    stats: &mut Stats,
) -> Result<Enumerated> {
    // Commits are read from memory when the packs' commits were read
    // (the refs, and anything else, from the repository).
    if let Some(c) = &commits {
        stats.memory("commits-held", c.bytes());
    }
    let held = commits.and_then(|c| c.repository(repo));
    let repo_c = held.as_ref().unwrap_or(repo);
    let mut walk = repo_c.revwalk().context("starting a revision walk")?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    let mut root_trees: Vec<(Oid, String)> = Vec::new();
    let mut loose_blobs: Vec<(Oid, String)> = Vec::new();
    // The walk's starting commits, for the one-by-one walk (below).
    let mut starts: Vec<Oid> = Vec::new();
    if let Some(branch) = &opts.branch {
        let c = resolve_commit(repo, branch)?;
        walk.push(c)?;
        starts.push(c);
    } else {
        let refs = repo.references().context("listing references")?;
        for r in refs {
            let r = match r {
                Ok(r) => r,
                Err(e) => {
                    stats.error("bad-ref", format!("reading a reference: {e}"));
                    continue;
                }
            };
            let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
            let Ok(resolved) = r.resolve() else {
                stats.skip("dangling-ref");
                continue;
            };
            let Some(target) = resolved.target() else {
                continue;
            };
            add_start(
                repo,
                &mut walk,
                target,
                &name,
                &mut root_trees,
                &mut loose_blobs,
                &mut starts,
                stats,
            );
        }
        // Older stash entries live only in the stash's reflog.
        if let Ok(log) = repo.reflog("refs/stash") {
            for e in log.iter() {
                let id = e.id_new();
                add_start(
                    repo,
                    &mut walk,
                    id,
                    "refs/stash",
                    &mut root_trees,
                    &mut loose_blobs,
                    &mut starts,
                    stats,
                );
            }
        }
    }
    let mut commits = Vec::new();
    let mut walk_error = None;
    for id in walk {
        match id {
            Ok(id) => commits.push(id),
            Err(e) => {
                walk_error = Some(e);
                break;
            }
        }
    }
    if let Some(e) = walk_error {
        // libgit2's sorted walk stops at the first unreadable commit (a
        // corrupt or truncated pack); walk again one commit at a time so
        // everything readable is still scanned, counting what is not.
        let before = stats.errors_total;
        commits = walk_one_by_one(repo_c, &starts, stats);
        if stats.errors_total == before {
            stats.error("bad-commit", format!("walking history: {e}"));
        }
    }
    // Each commit's root tree, before the trees are walked: the commits
    // held in memory for libgit2 (and what its walk allocated) are not
    // needed past this point, and are given back before the tree walk
    // builds the graph and the blob list.
    let mut roots = Vec::with_capacity(commits.len());
    for c in &commits {
        match repo_c.find_commit(*c) {
            Ok(commit) => roots.push((Id::from(c), Id::from(commit.tree_id()))),
            Err(e) => stats.error("bad-commit", format!("commit {c}: {e}")),
        }
    }
    drop(commits);
    // Freed last on libgit2's (C) heap, so it can return the top of it.
    drop(held);
    let mut graph = Graph::with_trees(trees, blobs_hint);
    let mut blobs = Paths::default();
    let mut stack: Vec<(u32, String, u32)> = Vec::new();
    // The previous commit's root tree: most of a root tree is the same as
    // the one before it.
    let mut prev_root = NONE;
    for &(_, tree) in &roots {
        let (t, new) = graph.tree(trees, tree);
        if new {
            stack.push((t, String::new(), prev_root));
            walk_trees(repo, trees, &mut stack, &mut graph, &mut blobs, stats);
        }
        prev_root = t;
    }
    for (tree, name) in root_trees {
        let (t, new) = graph.tree(trees, Id::from(tree));
        if new {
            stack.push((t, format!("{name}:"), NONE));
            walk_trees(repo, trees, &mut stack, &mut graph, &mut blobs, stats);
        }
    }
    for (oid, name) in loose_blobs {
        let oid = Id::from(oid);
        if graph.blob(oid).1 {
            blobs.push_str(&name);
        }
    }
    if opts.all_objects {
        let odb = repo.odb()?;
        let mut all = Vec::new();
        odb.foreach(|oid| {
            all.push(*oid);
            true
        })
        .context("listing the object database")?;
        for oid in all {
            if graph.has_blob(&Id::from(oid)) {
                continue;
            }
            match odb.read_header(oid) {
                Ok((_, ObjectType::Blob)) => {
                    graph.blob(Id::from(oid));
                    blobs.push_str(&format!("<unreachable blob {oid}>"));
                }
                Ok(_) => {}
                Err(e) => stats.error("unreadable", format!("object {oid}: {e}")),
            }
        }
    }
    stats.memory("graph-id-maps", graph.map_bytes());
    graph.seal();
    stats.memory("graph", graph.heap_bytes());
    stats.memory("blob-list", blobs.heap_bytes());
    Ok(Enumerated {
        paths: blobs,
        commits: roots,
        graph,
    })
}

/// The packs' commits, read by the pack reader, for a history walk that
/// reads them from memory: libgit2 reading each commit from its mapping of
/// the pack faults in the pages around it (file-backed pages count in the
/// resident size), the whole pack when commits are spread through it.
pub(crate) struct PackedCommits(Vec<Vec<u8>>);

impl PackedCommits {
    fn read(packs: &Packs, threads: usize) -> PackedCommits {
        use crate::source::pack::{self, COMMIT, Payload, Select};
        let out = Mutex::new(Vec::new());
        let _ = pack::read_objects_in(
            packs,
            Select::Kinds(&[COMMIT]),
            threads,
            u64::MAX,
            |_, _, payload| {
                if let Payload::Data(d) = payload {
                    out.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(d.to_vec());
                }
            },
        );
        PackedCommits(out.into_inner().unwrap_or_else(|e| e.into_inner()))
    }

    /// A repository whose object database serves these commits from
    /// memory and everything else from `repo`'s objects; `None` (read from
    /// `repo` itself) for a shallow or grafted repository, whose history
    /// libgit2 cuts with files the in-memory one lacks, or when it cannot
    /// be set up.
    fn bytes(&self) -> u64 {
        self.0.iter().map(|c| c.capacity() as u64 + 24).sum()
    }

    fn repository(self, repo: &Repository) -> Option<Repository> {
        if repo.is_shallow() || repo.commondir().join("info/grafts").exists() {
            return None;
        }
        let objects = repo.commondir().join("objects");
        let odb = git2::Odb::new().ok()?;
        odb.add_new_mempack_backend(1000).ok()?;
        for data in self.0 {
            // Stored under the id its bytes hash to: a damaged commit
            // misses here and is read (and reported) from disk.
            odb.write(ObjectType::Commit, &data).ok()?;
        }
        odb.add_disk_alternate(objects.to_str()?).ok()?;
        Repository::from_odb(odb).ok()
    }
}

#[allow(clippy::too_many_arguments)]
fn add_start(
    repo: &Repository,
    walk: &mut git2::Revwalk<'_>,
    target: Oid,
    name: &str,
    root_trees: &mut Vec<(Oid, String)>,
    loose_blobs: &mut Vec<(Oid, String)>,
    starts: &mut Vec<Oid>,
    stats: &mut Stats,
) {
    let mut obj = match repo.find_object(target, None) {
        Ok(o) => o,
        Err(_) => {
            stats.skip("dangling-ref");
            return;
        }
    };
    // Peel annotated tags (possibly nested).
    for _ in 0..16 {
        if obj.kind() != Some(ObjectType::Tag) {
            break;
        }
        match obj.as_tag().map(|t| t.target()) {
            Some(Ok(t)) => obj = t,
            _ => {
                stats.skip("dangling-ref");
                return;
            }
        }
    }
    match obj.kind() {
        Some(ObjectType::Commit) => {
            starts.push(obj.id());
            if let Err(e) = walk.push(obj.id()) {
                stats.error("bad-commit", format!("{name}: {e}"));
            }
        }
        Some(ObjectType::Tree) => root_trees.push((obj.id(), name.to_string())),
        Some(ObjectType::Blob) => loose_blobs.push((obj.id(), name.to_string())),
        _ => {}
    }
}

/// Every readable commit reachable from `starts`, parents before children;
/// each unreadable commit is a counted `bad-commit` error (its parents stay
/// unknown, so history behind it is reached only through other paths).
fn walk_one_by_one(repo: &Repository, starts: &[Oid], stats: &mut Stats) -> Vec<Oid> {
    let mut out = Vec::new();
    let mut seen: HashSet<Oid> = HashSet::new();
    // (commit, parents already pushed): post-order puts parents first.
    let mut stack: Vec<(Oid, bool)> = starts.iter().rev().map(|&c| (c, false)).collect();
    while let Some((id, expanded)) = stack.pop() {
        if expanded {
            out.push(id);
            continue;
        }
        if !seen.insert(id) {
            continue;
        }
        match repo.find_commit(id) {
            Ok(commit) => {
                stack.push((id, true));
                for p in commit.parent_ids() {
                    if !seen.contains(&p) {
                        stack.push((p, false));
                    }
                }
            }
            Err(e) => stats.error("bad-commit", format!("commit {id}: {}", e.message())),
        }
    }
    out
}

/// Walks the trees on `stack` (index, path prefix, and the index of the
/// tree's previous version or `NONE`) and everything below them not seen
/// before, recording the tree graph. An entry a tree shares with its
/// previous version was handled with that version (which was walked in
/// full, earlier), so only changed entries are looked up.
fn walk_trees(
    repo: &Repository,
    trees: &Trees,
    stack: &mut Vec<(u32, String, u32)>,
    graph: &mut Graph,
    blobs: &mut Paths,
    stats: &mut Stats,
) {
    let mut subtrees = Vec::new();
    while let Some((t, prefix, prev)) = stack.pop() {
        let oid = graph.tree_id(trees, t);
        let data = if (t as usize) < trees.len() {
            trees.data_at(t)
        } else {
            None
        };
        // The previous version was walked before this one: rebuilt again
        // (most often from the trees' cache) rather than held meanwhile.
        let before = if (prev as usize) < trees.len() {
            trees.data_at(prev)
        } else if prev != NONE {
            trees.data(&graph.tree_id(trees, prev))
        } else {
            None
        };
        graph.walking(t, prev);
        let res = trees.for_each_since_in(
            repo,
            oid,
            data.as_deref(),
            before.as_deref(),
            |kind, name, id, since| match kind {
                // Submodule gitlinks point into another repository: counted,
                // not read (a deliberate skip, see `stats::DELIBERATE_SKIPS`).
                EntryKind::Commit => stats.skip(crate::stats::reason::SUBMODULE),
                _ if since == Since::Same => {}
                EntryKind::Blob => {
                    let (b, new) = graph.blob(id);
                    if new {
                        blobs.push(&prefix, name);
                    }
                    graph.blob_edge(b, t);
                }
                EntryKind::Tree => {
                    let (s, new) = graph.tree(trees, id);
                    if new {
                        let before = match since {
                            Since::Was(b) => graph.tree_seen(trees, &b).unwrap_or(NONE),
                            _ => NONE,
                        };
                        subtrees.push((s, join(&prefix, name), before));
                    }
                    graph.tree_edge(s, t);
                }
            },
        );
        if let Err(e) = res {
            stats.error(
                "bad-tree",
                format!(
                    "tree {oid} at `{}`: {e}",
                    crate::sanitize::sanitize(&prefix)
                ),
            );
        }
        stack.append(&mut subtrees);
    }
}

fn join(prefix: &str, name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    let mut out = String::with_capacity(prefix.len() + 1 + name.len());
    out.push_str(prefix);
    if !(prefix.is_empty() || prefix.ends_with(':')) {
        out.push('/');
    }
    out.push_str(&name);
    out
}

/// Findings of one blob with an empty path (filled per location later).
type Flagged = OidMap<Vec<Finding>>;

/// Reads and matches blobs on `threads` workers, each with its own
/// repository handle, pulling chunks from a shared cursor.
fn scan_blobs(
    scanner: &Scanner,
    git_dir: &Path,
    blobs: &[BlobEntry],
    progress: Option<&dyn Progress>,
    mode: Mode,
) -> Result<(Flagged, Stats)> {
    const CHUNK: usize = 32;
    let threads = scanner
        .options
        .thread_count()
        .max(1)
        .min(blobs.len().max(1));
    let cursor = AtomicUsize::new(0);
    let blobs_done = AtomicU64::new(0);
    let bytes_done = AtomicU64::new(0);
    let out: Mutex<(Flagged, Stats, Option<anyhow::Error>)> =
        Mutex::new((Flagged::default(), Stats::default(), None));
    if let Some(p) = progress {
        p.start(blobs.len() as u64, None);
    }
    let limit = scanner.options.max_file_size;
    // libgit2 re-hashes (SHA-1 with collision detection) every object it
    // inflates to check it against its id; that was ~40% of the CPU time of
    // a full-history scan. Scanning only needs the bytes, and git itself
    // (`git cat-file`) does not re-hash on read either. Process-wide; set
    // before the workers open their handles.
    git2::opts::strict_hash_verification(false);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut flagged = Flagged::default();
                let mut stats = Stats::default();
                let res = (|| -> Result<()> {
                    let repo = Repository::open(git_dir)
                        .with_context(|| format!("opening {}", git_dir.display()))?;
                    let odb = repo.odb().context("opening the object database")?;
                    loop {
                        let start = cursor.fetch_add(CHUNK, Ordering::Relaxed);
                        if start >= blobs.len() {
                            break;
                        }
                        let end = (start + CHUNK).min(blobs.len());
                        let mut bytes = 0u64;
                        for b in &blobs[start..end] {
                            bytes +=
                                scan_one(scanner, &odb, b, limit, mode, &mut flagged, &mut stats);
                        }
                        let done = blobs_done.fetch_add((end - start) as u64, Ordering::Relaxed)
                            + (end - start) as u64;
                        let bd = bytes_done.fetch_add(bytes, Ordering::Relaxed) + bytes;
                        if let Some(p) = progress {
                            p.update(done, bd);
                        }
                    }
                    Ok(())
                })();
                let mut o = out.lock().unwrap_or_else(|e| e.into_inner());
                o.0.extend(flagged);
                o.1.merge(stats);
                if let Err(e) = res {
                    o.2.get_or_insert(e);
                }
            });
        }
    });
    if let Some(p) = progress {
        p.finish();
    }
    let (flagged, stats, err) = out.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = err {
        return Err(e);
    }
    Ok((flagged, stats))
}

/// Reads the blobs the repository's packs hold with the pack reader
/// (`source::pack`), then the rest (loose objects, alternates, damaged or
/// thin entries, SHA-256 repositories) with libgit2 through
/// [`scan_blobs`], which reports their errors.
fn scan_blobs_packed(
    scanner: &Scanner,
    repo: &Repository,
    blobs: &[BlobEntry],
    progress: Option<&dyn Progress>,
    mode: Mode,
) -> Result<(Flagged, Stats)> {
    use crate::source::pack::{self, Payload};
    let mut stats = Stats::default();
    let delivered = if sha1_repo(repo) && !blobs.is_empty() {
        let phase = Instant::now();
        if let Some(p) = progress {
            p.start(blobs.len() as u64, None);
        }
        let wanted: OidSet = blobs.iter().map(|b| b.oid).collect();
        let flagged: Mutex<Flagged> = Mutex::new(Flagged::default());
        let files = AtomicU64::new(0);
        let bytes = AtomicU64::new(0);
        let too_large = AtomicU64::new(0);
        let done = AtomicU64::new(0);
        let visit = |oid: Id, _: u8, payload: Payload<'_>, from: Option<FromBase<'_, Hits>>| {
            let mut memo = None;
            match payload {
                Payload::TooLarge(_) => {
                    too_large.fetch_add(1, Ordering::Relaxed);
                }
                Payload::Data(data) => {
                    files.fetch_add(1, Ordering::Relaxed);
                    bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
                    memo = match_packed(scanner, mode, oid, data, from, &flagged);
                }
            }
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(p) = progress
                && d.is_multiple_of(64)
            {
                p.update(d, bytes.load(Ordering::Relaxed));
            }
            memo
        };
        let (report, ()) = pack::read_objects_memo_in(
            &Packs::open(&repo.commondir().join("objects")),
            pack::Select::Blobs(&wanted),
            scanner.options.thread_count(),
            (scanner.options.max_file_size, true),
            visit,
            || (),
        )?;
        stats.files_scanned += files.into_inner();
        stats.bytes_scanned += bytes.into_inner();
        for _ in 0..too_large.into_inner() {
            stats.skip("too-large");
        }
        stats.phase("read-pack", phase);
        let flagged = flagged.into_inner().unwrap_or_else(|e| e.into_inner());
        Some((
            report.delivered,
            flagged,
            done.into_inner(),
            stats.bytes_scanned,
        ))
    } else {
        None
    };
    let Some((delivered, flagged, done, bytes)) = delivered else {
        let phase = Instant::now();
        let mut r = scan_blobs(scanner, repo.path(), blobs, progress, mode)?;
        r.1.phase("read-fallback", phase);
        return Ok(r);
    };
    let rest = blobs
        .iter()
        .filter(|b| !delivered.contains(&b.oid))
        .map(|b| BlobEntry {
            oid: b.oid,
            path: b.path.clone(),
        })
        .collect();
    read_rest(
        scanner,
        repo,
        rest,
        (flagged, stats),
        progress,
        mode,
        (done, bytes),
    )
}

/// Enumeration (on one of the pack reader's workers) overlapped with
/// reading every packed blob (on the others, then all); blobs the walk
/// did not reach are dropped from the findings and the counts, and the
/// reached blobs the packs lack are read by libgit2.
fn scan_overlapped(
    scanner: &Scanner,
    repo: &Repository,
    opts: &GitScanOptions,
    (trees, commits): (&Trees, Option<PackedCommits>),
    opened: &Packs,
    progress: Option<&dyn Progress>,
    mode: Mode,
) -> Result<(Enumerated, Flagged, Stats)> {
    use crate::source::pack::{self, Payload, Select};
    let git_dir = repo.path().to_path_buf();
    let phase = Instant::now();
    let flagged: Mutex<Flagged> = Mutex::new(Flagged::default());
    // Each blob read and its size ([`TOO_LARGE`] when too large to
    // read), sorted after: a list sized for every packed blob is smaller
    // than a map (and the reader's own list of what it delivered is not
    // kept).
    // (The reader delivers no object over MAX_OBJECT: a size fits in 32
    // bits.)
    const TOO_LARGE: u32 = u32::MAX;
    let blobs_hint = opened.count(BLOB);
    let seen: Mutex<Vec<(Id, u32)>> = Mutex::new(Vec::with_capacity(blobs_hint));
    let done = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let visit = |oid: Id, _: u8, payload: Payload<'_>, from: Option<FromBase<'_, Hits>>| {
        let mut memo = None;
        let size = match payload {
            Payload::TooLarge(_) => TOO_LARGE,
            Payload::Data(data) => {
                memo = match_packed(scanner, mode, oid, data, from, &flagged);
                u32::try_from(data.len()).unwrap_or(TOO_LARGE - 1)
            }
        };
        seen.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((oid, size));
        let size = if size == TOO_LARGE {
            0
        } else {
            u64::from(size)
        };
        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
        let b = bytes.fetch_add(size, Ordering::Relaxed) + size;
        if let Some(p) = progress
            && d.is_multiple_of(64)
        {
            p.update(d, b);
        }
        memo
    };
    let walk = || -> Result<(Enumerated, Stats)> {
        let phase = Instant::now();
        let r =
            Repository::open(&git_dir).with_context(|| format!("opening {}", git_dir.display()))?;
        let mut st = Stats::default();
        let en = enumerate(&r, opts, (trees, commits, blobs_hint), &mut st)?;
        // Until `locate`, which reads few trees.
        trees.release_cache();
        if let Some(p) = progress {
            p.start(en.blob_count() as u64, None);
        }
        st.phase("enumerate", phase);
        Ok((en, st))
    };
    let (_, walked) = pack::read_objects_memo_in(
        opened,
        Select::Kinds(&[BLOB]),
        scanner.options.thread_count(),
        (scanner.options.max_file_size, false),
        visit,
        walk,
    )?;
    let (en, mut stats) = walked?;
    let mut seen = seen.into_inner().unwrap_or_else(|e| e.into_inner());
    stats.memory(
        "blob-read-map",
        (seen.capacity() * std::mem::size_of::<(Id, u32)>()) as u64,
    );
    // Each blob is delivered once (the first pack that holds it).
    seen.sort_unstable_by_key(|a| a.0);
    let size_of = |oid: &Id| {
        seen.binary_search_by(|(x, _)| x.cmp(oid))
            .ok()
            .map(|i| seen[i].1)
    };
    // What the blob pass kept of the entry layouts (see Packs::retain).
    stats.memory("pack-indexes-blob-pass", opened.heap_bytes());
    let mut flagged = flagged.into_inner().unwrap_or_else(|e| e.into_inner());
    // Flagged blobs the walk reached (few: a set of them, not of every
    // blob), and the reached blobs the packs did not deliver.
    let mut reached = OidSet::default();
    let mut rest = Vec::new();
    let mut done = 0u64;
    for (oid, path) in en.blobs() {
        if flagged.contains_key(&oid) {
            reached.insert(oid);
        }
        match size_of(&oid) {
            Some(TOO_LARGE) => stats.skip("too-large"),
            Some(n) => {
                stats.files_scanned += 1;
                stats.bytes_scanned += u64::from(n);
            }
            None => {
                rest.push(BlobEntry {
                    oid,
                    path: path.to_string(),
                });
                continue;
            }
        }
        done += 1;
    }
    drop(seen);
    flagged.retain(|oid, _| reached.contains(oid));
    stats.phase("read-pack", phase);
    let bytes = stats.bytes_scanned;
    let (flagged, stats) = read_rest(
        scanner,
        repo,
        rest,
        (flagged, stats),
        progress,
        mode,
        (done, bytes),
    )?;
    Ok((en, flagged, stats))
}

/// After the pack reader: the blobs it did not deliver (`rest`), through
/// libgit2 ([`scan_blobs`], which reports their errors); progress
/// continues from `(blobs, bytes)` done.
fn read_rest(
    scanner: &Scanner,
    repo: &Repository,
    mut rest: Vec<BlobEntry>,
    (mut flagged, mut stats): (Flagged, Stats),
    progress: Option<&dyn Progress>,
    mode: Mode,
    (done, bytes): (u64, u64),
) -> Result<(Flagged, Stats)> {
    if !rest.is_empty() {
        // Versions of one file together (see scan_history).
        rest.sort_by(|a, b| a.path.cmp(&b.path));
        let phase = Instant::now();
        let cont = progress.map(|inner| Continued {
            inner,
            blobs: done,
            bytes,
        });
        let (more, more_stats) = scan_blobs(
            scanner,
            repo.path(),
            &rest,
            cont.as_ref().map(|c| c as &dyn Progress),
            mode,
        )?;
        flagged.extend(more);
        stats.merge(more_stats);
        stats.phase("read-fallback", phase);
    }
    if let Some(p) = progress {
        p.finish();
    }
    Ok((flagged, stats))
}

/// The pack reader knows SHA-1 repositories only.
fn sha1_repo(repo: &Repository) -> bool {
    repo.config()
        .ok()
        .and_then(|c| c.get_string("extensions.objectformat").ok())
        .is_none_or(|f| f.eq_ignore_ascii_case("sha1"))
}

/// Progress of a second reading pass, continuing the first's counts.
struct Continued<'a> {
    inner: &'a dyn Progress,
    blobs: u64,
    bytes: u64,
}

impl Progress for Continued<'_> {
    fn start(&self, _blobs_total: u64, _bytes_total: Option<u64>) {}

    fn update(&self, blobs_done: u64, bytes_done: u64) {
        self.inner
            .update(self.blobs + blobs_done, self.bytes + bytes_done);
    }

    fn finish(&self) {}
}

/// Reads one blob (size checked from its header first) and matches it;
/// returns the bytes read.
fn scan_one(
    scanner: &Scanner,
    odb: &git2::Odb<'_>,
    b: &BlobEntry,
    limit: u64,
    mode: Mode,
    flagged: &mut Flagged,
    stats: &mut Stats,
) -> u64 {
    match odb.read_header(b.oid.oid()) {
        Ok((size, _)) if size as u64 > limit => {
            stats.skip("too-large");
            return 0;
        }
        Ok(_) => {}
        Err(e) => {
            stats.error(
                "unreadable",
                format!(
                    "blob {} ({}): {}",
                    b.oid,
                    crate::sanitize::sanitize(&b.path),
                    e.message()
                ),
            );
            return 0;
        }
    }
    let obj = match odb.read(b.oid.oid()) {
        Ok(o) => o,
        Err(e) => {
            stats.error(
                "unreadable",
                format!(
                    "blob {} ({}): {}",
                    b.oid,
                    crate::sanitize::sanitize(&b.path),
                    e.message()
                ),
            );
            return 0;
        }
    };
    let data = obj.data();
    stats.files_scanned += 1;
    stats.bytes_scanned += data.len() as u64;
    if let Some(found) = blob_findings(scanner, mode, data) {
        flagged.insert(b.oid, found);
    }
    data.len() as u64
}

/// A blob's findings, path left empty (filled per location later); `None`
/// when it has none or matching is off. Shared by every history reader.
fn blob_findings(scanner: &Scanner, mode: Mode, data: &[u8]) -> Option<Vec<Finding>> {
    blob_findings_from(scanner, mode, data, None).0
}

/// Matches a blob the pack reader delivered ([`blob_findings_from`]),
/// records its findings in `flagged`, and returns its keyword hits for the
/// blobs built on it.
fn match_packed(
    scanner: &Scanner,
    mode: Mode,
    oid: Id,
    data: &[u8],
    from: Option<FromBase<'_, Hits>>,
    flagged: &Mutex<Flagged>,
) -> Option<Hits> {
    let (found, hits) = blob_findings_from(scanner, mode, data, from);
    if let Some(found) = found {
        flagged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(oid, found);
    }
    hits
}

/// [`blob_findings`] for a blob the pack reader rebuilt from a delta
/// against a base whose keyword hits are known (`from`): its hits are
/// derived from the base's instead of searched in full. Also returns the
/// blob's hits, for the blobs built on it.
fn blob_findings_from(
    scanner: &Scanner,
    mode: Mode,
    data: &[u8],
    from: Option<FromBase<'_, Hits>>,
) -> (Option<Vec<Finding>>, Option<Hits>) {
    if mode == Mode::InflateOnly {
        return (None, None);
    }
    if crate::source::extract::detect(data).is_some() || crate::matcher::Matcher::is_binary(data) {
        // Archives and binary files (see crate::deep); no keyword hits to
        // hand on, as for any binary blob.
        let found = scanner.scan_bytes("", data);
        return ((!found.is_empty()).then_some(found), None);
    }
    let from = from.filter(|_| mode == Mode::Match);
    let hits = scanner
        .matcher
        .keyword_hits(data, from.map(|f| (f.memo, f.pieces)));
    let mut matches = scanner.matcher.scan_with_hits(data, hits.as_ref());
    scanner.add_encoded_matches(data, &mut matches);
    let found = if matches.is_empty() {
        None
    } else {
        Some(scanner.findings_from("", data, &matches)).filter(|f| !f.is_empty())
    };
    (found, hits.filter(|_| mode == Mode::Match))
}

/// The repository's work tree, or its git dir for a bare repository (where
/// the config file is looked for).
/// Marks history findings whose file HEAD no longer has (`deleted`). An
/// unborn or unreadable HEAD marks nothing.
fn mark_deleted(repo: &Repository, findings: &mut [Finding]) {
    let Ok(tree) = repo.head().and_then(|h| h.peel_to_tree()) else {
        return;
    };
    for f in findings {
        let gone = tree
            .get_path(Path::new(crate::deep::outer_path(f)))
            .is_err();
        if let Some(p) = &mut f.provenance {
            p.deleted = gone;
        }
    }
}

/// How many commits of a shallow clone have parents the clone lacks (the
/// lines of `shallow`); 0 for a complete repository.
pub fn shallow_boundary(repo: &Repository) -> u64 {
    if !repo.is_shallow() {
        return 0;
    }
    std::fs::read_to_string(repo.commondir().join("shallow"))
        .map(|t| t.lines().filter(|l| !l.trim().is_empty()).count() as u64)
        .unwrap_or(1)
        .max(1)
}

pub fn config_root(repo: &Path) -> Result<PathBuf> {
    let r = open(repo)?;
    Ok(r.workdir().unwrap_or_else(|| r.path()).to_path_buf())
}
