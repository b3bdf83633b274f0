//! What the matcher benchmarks share: files loaded into memory first (so
//! only matching is timed) and the built-in packs.

/// Files under `dir` in path order, until `cap` bytes; and their total.
pub fn load(dir: &str, cap: u64) -> (Vec<Vec<u8>>, u64) {
    let mut blobs: Vec<Vec<u8>> = Vec::new();
    let mut total = 0u64;
    for e in ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .sort_by_file_path(|a, b| a.cmp(b))
        .build()
        .flatten()
    {
        if total >= cap {
            break;
        }
        if e.file_type().is_some_and(|t| t.is_file())
            && let Ok(data) = std::fs::read(e.path())
        {
            total += data.len() as u64;
            blobs.push(data);
        }
    }
    (blobs, total)
}

/// The built-in packs, named as the scanner names them.
pub fn builtin_packs() -> Vec<(String, leakscan_rules::Pack)> {
    leakscan_rules::builtin_packs()
        .expect("packs")
        .into_iter()
        .map(|(n, p)| (format!("builtin:{n}"), p))
        .collect()
}
