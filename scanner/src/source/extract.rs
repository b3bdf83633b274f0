//! Archives and compressed streams opened in memory (issue 16): zip and the
//! formats built on it, tar, and gzip, bzip2, xz and zstd around either,
//! recognised by their magic bytes and read within [`Limits`]; nothing is
//! ever written to disk.

use std::io::{self, Cursor, Read};

/// Separates an archive's path from an entry's path inside it:
/// `outer.zip!dir/inner.tar.gz!app/.env`. Inside entry names `%` is written
/// `%25` and `!` is written `%21` (see [`escape_entry`]).
pub const SEPARATOR: char = '!';

/// Default `--extract-depth`: archives inside archives, three deep.
pub const DEFAULT_DEPTH: u32 = 3;

/// Bounds on what one archive (with everything nested in it) may produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Archive levels opened (`--extract-depth`); 0 opens none
    /// (`--no-extract`).
    pub depth: u32,
    /// Bytes extracted from one top-level archive, nested levels included.
    pub total: u64,
    /// Largest entry kept (larger ones are skipped without being read).
    pub entry: u64,
    /// Largest ratio of extracted to compressed bytes, checked once an
    /// entry or stream has produced [`RATIO_FLOOR`] bytes.
    pub ratio: u64,
    /// Entries read from one archive; the rest are skipped and counted.
    pub entries: u64,
}

/// Below this many extracted bytes the compression ratio is not checked
/// (a small, very repetitive file compresses well without being a bomb).
pub const RATIO_FLOOR: u64 = 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            depth: DEFAULT_DEPTH,
            total: 256 * 1024 * 1024,
            entry: crate::scan::DEFAULT_MAX_FILE_SIZE,
            ratio: 200,
            entries: 5_000,
        }
    }
}

/// A container format recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Tar,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

/// The container format `data` starts with, if any. Zip is recognised by a
/// local file header (or the end record of an empty archive) at offset 0,
/// tar by `ustar` at offset 257.
pub fn detect(data: &[u8]) -> Option<Kind> {
    let kind = match data {
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => Kind::Zip,
        [0x1f, 0x8b, 8, ..] => Kind::Gzip,
        [
            b'B',
            b'Z',
            b'h',
            b'1'..=b'9',
            0x31,
            0x41,
            0x59,
            0x26,
            0x53,
            0x59,
            ..,
        ] => Kind::Bzip2,
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Kind::Xz,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Kind::Zstd,
        _ if is_tar(data) => Kind::Tar,
        _ => return None,
    };
    Some(kind)
}

/// `ustar` at offset 257 and a first header whose checksum holds (a text
/// file that happens to hold `ustar` there is not a tar).
fn is_tar(data: &[u8]) -> bool {
    if data.len() < 512 || &data[257..262] != b"ustar" {
        return false;
    }
    let field = &data[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    let Some(stored) = std::str::from_utf8(&digits)
        .ok()
        .and_then(|d| u32::from_str_radix(d, 8).ok())
    else {
        return false;
    };
    let sum: u32 = data[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    sum == stored
}

/// Why an entry, or the rest of an archive, was not scanned. Each is a skip
/// reason in the summary and in `--stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Nested deeper than `--extract-depth` (scanned as a binary blob).
    Depth,
    /// The archive's extracted bytes passed [`Limits::total`].
    Total,
    /// An entry larger than [`Limits::entry`].
    EntrySize,
    /// Expands more than [`Limits::ratio`] times: a compression bomb.
    Ratio,
    /// Entries past [`Limits::entries`].
    Entries,
    /// A name with `..`, or an absolute name: a path-traversal entry.
    Traversal,
    /// An entry identical to an archive that holds it: a quine.
    Quine,
    /// An encrypted entry.
    Encrypted,
    /// A compression method this reader lacks.
    Unsupported,
    /// A truncated or malformed archive or stream.
    Corrupt,
}

impl Skip {
    pub fn reason(self) -> &'static str {
        match self {
            Skip::Depth => "archive-depth",
            Skip::Total => "archive-total-size",
            Skip::EntrySize => "archive-entry-size",
            Skip::Ratio => "archive-bomb",
            Skip::Entries => "archive-entries",
            Skip::Traversal => "archive-traversal",
            Skip::Quine => "archive-quine",
            Skip::Encrypted => "archive-encrypted",
            Skip::Unsupported => "archive-unsupported",
            Skip::Corrupt => "archive-corrupt",
        }
    }
}

/// What the opener reports to its caller.
pub trait Visitor {
    /// An entry's name (as stored, not escaped) and its whole content.
    fn entry(&mut self, name: &str, data: &[u8]);
    /// An entry, a stream or the rest of an archive skipped.
    fn skip(&mut self, why: Skip);
}

/// The extracted-byte allowance left for one top-level archive.
#[derive(Debug)]
pub struct Budget {
    pub left: std::cell::Cell<u64>,
}

impl Budget {
    pub fn new(limits: &Limits) -> Budget {
        Budget {
            left: std::cell::Cell::new(limits.total),
        }
    }
}

/// Opens `data` as `kind` and hands each entry to `visit`. `name` is the
/// archive's own name (for the entry of a bare compressed stream). Returns
/// `false` if the archive could not be opened at all (the caller scans its
/// bytes as they are); a failure part way is a [`Skip::Corrupt`].
pub fn open(
    kind: Kind,
    name: &str,
    data: &[u8],
    limits: &Limits,
    budget: &Budget,
    visit: &mut dyn Visitor,
) -> bool {
    match kind {
        Kind::Zip => open_zip(data, limits, budget, visit),
        Kind::Tar => {
            if let Err(s) = read_tar(Cursor::new(data), limits, visit) {
                visit.skip(s);
            }
            true
        }
        Kind::Gzip => stream(
            flate2::read::MultiGzDecoder::new(data),
            name,
            data.len(),
            limits,
            budget,
            visit,
        ),
        Kind::Bzip2 => stream(
            bzip2::read::MultiBzDecoder::new(data),
            name,
            data.len(),
            limits,
            budget,
            visit,
        ),
        Kind::Xz => stream(
            // A 256 MiB dictionary at most (xz -9 uses 64 MiB).
            lzma_rust2::XzReader::new_mem_limit(data, true, 256 * 1024),
            name,
            data.len(),
            limits,
            budget,
            visit,
        ),
        Kind::Zstd => match ruzstd::decoding::StreamingDecoder::new(data) {
            Ok(d) => stream(d, name, data.len(), limits, budget, visit),
            Err(_) => false,
        },
    }
}

/// Counts what a decoder produces and stops it at the budget or the ratio.
struct Guard<'b, R> {
    inner: R,
    compressed: u64,
    out: u64,
    ratio: u64,
    budget: &'b Budget,
    tripped: Option<Skip>,
}

impl<'b, R: Read> Guard<'b, R> {
    fn new(inner: R, compressed: u64, limits: &Limits, budget: &'b Budget) -> Self {
        Guard {
            inner,
            compressed: compressed.max(1),
            out: 0,
            ratio: limits.ratio,
            budget,
            tripped: None,
        }
    }
}

impl<R: Read> Read for Guard<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(t) = self.tripped {
            return Err(io::Error::other(t.reason()));
        }
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let left = self.budget.left.get();
        let trip = if n as u64 > left {
            Some(Skip::Total)
        } else if self.out > RATIO_FLOOR && self.out / self.compressed > self.ratio {
            Some(Skip::Ratio)
        } else {
            None
        };
        if let Some(t) = trip {
            self.budget.left.set(0);
            self.tripped = Some(t);
            return Err(io::Error::other(t.reason()));
        }
        self.budget.left.set(left - n as u64);
        Ok(n)
    }
}

/// Reads an entry whole, at most `limit` bytes.
fn read_entry<R: Read>(r: &mut Guard<'_, R>, limit: u64) -> Result<Vec<u8>, Skip> {
    let mut out = Vec::new();
    match (&mut *r).take(limit + 1).read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > limit => Err(Skip::EntrySize),
        Ok(_) => Ok(out),
        Err(_) => Err(r.tripped.unwrap_or(Skip::Corrupt)),
    }
}

/// Whether an entry name climbs out of its archive or is absolute.
pub fn traversal(name: &str) -> bool {
    let n = name.replace('\\', "/");
    n.starts_with('/') || n.as_bytes().get(1) == Some(&b':') || n.split('/').any(|c| c == "..")
}

/// An entry name as written in a path: `%` as `%25`, `!` as `%21`.
pub fn escape_entry(name: &str) -> String {
    if !name.contains(['%', SEPARATOR]) {
        return name.to_string();
    }
    name.replace('%', "%25").replace(SEPARATOR, "%21")
}

fn open_zip(data: &[u8], limits: &Limits, budget: &Budget, visit: &mut dyn Visitor) -> bool {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(data)) else {
        return false;
    };
    for i in 0..zip.len() {
        if i as u64 >= limits.entries {
            visit.skip(Skip::Entries);
            break;
        }
        if budget.left.get() == 0 {
            visit.skip(Skip::Total);
            break;
        }
        let mut file = match zip.by_index(i) {
            Ok(f) => f,
            Err(zip::result::ZipError::UnsupportedArchive(m)) if m.contains("assword") => {
                visit.skip(Skip::Encrypted);
                continue;
            }
            Err(zip::result::ZipError::CompressionMethodNotSupported(_))
            | Err(zip::result::ZipError::UnsupportedArchive(_)) => {
                visit.skip(Skip::Unsupported);
                continue;
            }
            Err(_) => {
                visit.skip(Skip::Corrupt);
                continue;
            }
        };
        if file.is_dir() || file.is_symlink() {
            continue;
        }
        let name = String::from_utf8_lossy(file.name_raw()).into_owned();
        if traversal(&name) {
            visit.skip(Skip::Traversal);
            continue;
        }
        if file.encrypted() {
            visit.skip(Skip::Encrypted);
            continue;
        }
        if file.size() > limits.entry {
            visit.skip(Skip::EntrySize);
            continue;
        }
        let compressed = file.compressed_size();
        let mut g = Guard::new(&mut file, compressed, limits, budget);
        match read_entry(&mut g, limits.entry) {
            Ok(bytes) => {
                drop(file);
                visit.entry(&name, &bytes);
            }
            Err(s) => visit.skip(s),
        }
    }
    true
}

/// Reads tar entries from `r` (a slice, or a decoder's output), regular
/// files only; an error that ends the archive is returned.
fn read_tar<R: Read>(r: R, limits: &Limits, visit: &mut dyn Visitor) -> Result<(), Skip> {
    let mut ar = tar::Archive::new(r);
    let entries = ar.entries().map_err(|e| skip_of(&e))?;
    let mut n = 0u64;
    for e in entries {
        let mut e = e.map_err(|e| skip_of(&e))?;
        if !e.header().entry_type().is_file() {
            continue;
        }
        n += 1;
        if n > limits.entries {
            return Err(Skip::Entries);
        }
        let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        if traversal(&name) {
            visit.skip(Skip::Traversal);
            continue;
        }
        if e.size() > limits.entry {
            visit.skip(Skip::EntrySize);
            continue;
        }
        let mut bytes = Vec::new();
        (&mut e)
            .take(limits.entry + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| skip_of(&e))?;
        if bytes.len() as u64 > limits.entry {
            visit.skip(Skip::EntrySize);
        } else {
            visit.entry(&name, &bytes);
        }
    }
    Ok(())
}

/// The skip a read error stands for: a [`Guard`] trip, else corruption.
fn skip_of(err: &io::Error) -> Skip {
    let text = err.to_string();
    [Skip::Total, Skip::Ratio]
        .into_iter()
        .find(|s| text.contains(s.reason()))
        .unwrap_or(Skip::Corrupt)
}

/// The name of what a compressed stream holds: `a.tgz` → `a.tar`,
/// `dump.sql.gz` → `dump.sql`; a name without a known suffix stays.
pub fn stream_entry_name(outer: &str) -> String {
    let base = outer
        .rsplit(['/', SEPARATOR])
        .next()
        .unwrap_or(outer)
        .to_string();
    let lower = base.to_ascii_lowercase();
    for (suffix, with) in [
        (".tgz", ".tar"),
        (".tbz2", ".tar"),
        (".tbz", ".tar"),
        (".txz", ".tar"),
        (".tzst", ".tar"),
        (".gz", ""),
        (".bz2", ""),
        (".xz", ""),
        (".zst", ""),
    ] {
        if lower.ends_with(suffix) && lower.len() > suffix.len() {
            return format!("{}{with}", &base[..base.len() - suffix.len()]);
        }
    }
    if base.is_empty() {
        "data".to_string()
    } else {
        base
    }
}

/// A compressed stream: a tar inside is listed entry by entry (its entries
/// sit directly under the compressed file: `a.tar.gz!x`); anything else is
/// one entry named by [`stream_entry_name`].
fn stream<R: Read>(
    decoder: R,
    name: &str,
    compressed: usize,
    limits: &Limits,
    budget: &Budget,
    visit: &mut dyn Visitor,
) -> bool {
    let mut g = Guard::new(decoder, compressed as u64, limits, budget);
    let mut head = Vec::with_capacity(512);
    if let Err(e) = (&mut g).take(512).read_to_end(&mut head) {
        if head.is_empty() && g.tripped.is_none() {
            return false;
        }
        visit.skip(g.tripped.unwrap_or(skip_of(&e)));
        return true;
    }
    if is_tar(&head) {
        if let Err(s) = read_tar(Cursor::new(head).chain(&mut g), limits, visit) {
            visit.skip(g.tripped.unwrap_or(s));
        }
        return true;
    }
    let mut rest = Vec::new();
    let limit = limits.entry.saturating_sub(head.len() as u64);
    match (&mut g).take(limit + 1).read_to_end(&mut rest) {
        Ok(_) if rest.len() as u64 > limit => visit.skip(Skip::EntrySize),
        Ok(_) => {
            drop(g);
            head.extend_from_slice(&rest);
            drop(rest);
            visit.entry(&stream_entry_name(name), &head);
        }
        Err(e) => visit.skip(g.tripped.unwrap_or(skip_of(&e))),
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_and_traversal_is_recognised() {
        assert_eq!(escape_entry("a!b%c.txt"), "a%21b%25c.txt");
        assert_eq!(escape_entry("plain/name"), "plain/name");
        assert!(traversal("../x") && traversal("a/../../x") && traversal("/etc/x"));
        assert!(traversal("C:\\x") && traversal("a\\..\\b"));
        assert!(!traversal("a/b..c/d") && !traversal(".env"));
        assert_eq!(stream_entry_name("d/a.tgz"), "a.tar");
        assert_eq!(stream_entry_name("x.zip!dump.sql.gz"), "dump.sql");
        assert_eq!(stream_entry_name(""), "data");
    }

    #[test]
    fn a_text_with_ustar_at_257_is_not_a_tar() {
        let mut text = vec![b'a'; 600];
        text[257..262].copy_from_slice(b"ustar");
        assert_eq!(detect(&text), None);
    }
}
