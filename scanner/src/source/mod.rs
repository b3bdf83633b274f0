//! Sources produce blobs to scan: files on disk (`dir`); git history, ranges
//! and the index live beside it as they are added.

pub mod dir;
