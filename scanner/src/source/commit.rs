//! Commits: resolving a revision to a commit, a commit's provenance
//! (id, author, date, first line of the message), and the errors callers
//! may recognise. Shared by the history (`git`) and range (`range`) sources.

use anyhow::{Context, Result};
use git2::{Oid, Repository};

use crate::finding::Provenance;

/// Errors callers may want to recognise (downcast from `anyhow::Error`).
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The range base is not in the repository, typically a shallow clone.
    #[error(
        "the range base `{rev}` is not in this repository{shallow}; fetch more history \
         (in GitHub Actions set `fetch-depth: 0` on actions/checkout, or run \
         `git fetch --deepen=100` / `git fetch --unshallow`) and run again"
    )]
    MissingBase {
        rev: String,
        /// Filled with " (it is a shallow clone)" when that is the cause.
        shallow: String,
    },
    /// The range head or `--branch` revision does not resolve.
    #[error("revision `{rev}` is not in this repository (check the name, or fetch it first)")]
    MissingRevision { rev: String },
}

/// Resolves a revision to a commit, or `MissingRevision`.
pub(crate) fn resolve_commit(repo: &Repository, rev: &str) -> Result<Oid> {
    let obj = repo
        .revparse_single(rev)
        .map_err(|_| GitError::MissingRevision {
            rev: crate::sanitize::sanitize(rev),
        })?;
    let commit = obj.peel_to_commit().with_context(|| {
        format!(
            "revision `{}` is not a commit",
            crate::sanitize::sanitize(rev)
        )
    })?;
    Ok(commit.id())
}

/// Commit id, author, email, RFC 3339 author date and the sanitized first
/// line of the message.
pub(crate) fn provenance(repo: &Repository, commit: Oid) -> Result<Provenance> {
    let c = repo
        .find_commit(commit)
        .with_context(|| format!("reading commit {commit}"))?;
    let author = c.author();
    let message = c.message_bytes();
    let first = message.split(|b| *b == b'\n').next().unwrap_or_default();
    Ok(Provenance {
        commit: commit.to_string(),
        author: crate::sanitize::sanitize_bytes(author.name_bytes()),
        email: crate::sanitize::sanitize_bytes(author.email_bytes()),
        date: rfc3339(author.when()),
        message: crate::sanitize::sanitize_bytes(first),
        deleted: false,
        repository: None,
    })
}

/// `YYYY-MM-DDTHH:MM:SS±HH:MM` in the commit's own offset.
pub fn rfc3339(t: git2::Time) -> String {
    let offset = t.offset_minutes() as i64;
    let local = t.seconds() + offset * 60;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let sign = if offset < 0 { '-' } else { '+' };
    let off = offset.abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// algorithm, in the public domain).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_offsets() {
        assert_eq!(rfc3339(git2::Time::new(0, 0)), "1970-01-01T00:00:00+00:00");
        // 1112904793 is 2005-04-07T20:13:13Z.
        assert_eq!(
            rfc3339(git2::Time::new(1_112_904_793, 120)),
            "2005-04-07T22:13:13+02:00"
        );
        assert_eq!(
            rfc3339(git2::Time::new(1_700_000_000, -300)),
            "2023-11-14T17:13:20-05:00"
        );
    }
}
