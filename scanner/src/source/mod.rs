//! Sources produce blobs to scan: files on disk (`dir`), git history
//! (`git`), commit ranges (`range`) and the index (`staged`).

pub mod commit;
pub mod dir;
pub mod extract;
pub mod git;
pub mod id;
pub mod lines;
mod locate;
pub mod pack;
pub mod range;
pub mod sink;
pub mod staged;
pub mod trees;
