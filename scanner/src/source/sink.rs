//! What a source hands its blobs to. A source reads bytes and counts what
//! it skips; it knows nothing of matching. The engine
//! ([`crate::scan::Scanner`]) implements [`BlobSink`], so data flows one
//! way: source → sink (matcher, findings) → the source's collected result.

use crate::finding::Finding;
use crate::stats::Stats;

/// How sources read, taken from the engine's options.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Worker threads (at least one).
    pub threads: usize,
    /// Larger files and blobs are skipped and counted.
    pub max_file_size: u64,
    /// Follow symbolic links while walking.
    pub follow_symlinks: bool,
    /// Walk what .gitignore, .ignore and .git/info/exclude exclude.
    pub no_ignore: bool,
}

/// Receives every blob a source reads.
pub trait BlobSink: Sync {
    fn read_options(&self) -> ReadOptions;
    /// Whether `path` (as reported) is left out before it is read (the
    /// config's path allowlist).
    fn excluded(&self, path: &str) -> bool;
    /// The findings to report in one blob at `path`. `below`: the path
    /// below the walked folder it was found in (a file named on the command
    /// line has none); what the sink drops it counts in `stats`.
    fn blob(&self, path: &str, below: Option<&str>, data: &[u8], stats: &mut Stats)
    -> Vec<Finding>;
}
