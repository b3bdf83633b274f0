//! GitHub Actions support for `leakscan ci`: reading the event, and
//! resolving it to commits in the checked-out clone.

pub mod event;
pub mod git;
