//! Inline allow comments: a line containing `leakscan:allow` (in any comment
//! syntax) suppresses findings on it, `leakscan:allow-next-line` those on the
//! next line. A multi-line secret (a PEM block) may be marked on its first
//! or last line.

use memchr::memmem;

/// The marker that allows findings on its own line.
pub const ALLOW: &str = "leakscan:allow";
/// The marker that allows findings on the following line.
pub const ALLOW_NEXT_LINE: &str = "leakscan:allow-next-line";

/// Why a secret is allowed inline, with the 1-based line of the marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InlineAllow {
    /// `leakscan:allow` on the secret's first or last line.
    SameLine(usize),
    /// `leakscan:allow-next-line` on the line above the secret.
    NextLine(usize),
}

impl InlineAllow {
    pub fn describe(self) -> String {
        match self {
            InlineAllow::SameLine(l) => format!("`{ALLOW}` on line {l}"),
            InlineAllow::NextLine(l) => format!("`{ALLOW_NEXT_LINE}` on line {l}"),
        }
    }
}

/// Which markers a line carries: (same line, next line). A marker must not
/// run on into a word (`leakscan:allowed` is not one).
fn markers(line: &[u8]) -> (bool, bool) {
    let (mut same, mut next) = (false, false);
    for at in memmem::find_iter(line, ALLOW.as_bytes()) {
        let rest = &line[at + ALLOW.len()..];
        if rest.starts_with(&ALLOW_NEXT_LINE.as_bytes()[ALLOW.len()..]) {
            let after = rest.get(ALLOW_NEXT_LINE.len() - ALLOW.len());
            if !after.is_some_and(|b| is_word(*b)) {
                next = true;
            }
        } else if !rest.first().is_some_and(|b| is_word(*b)) {
            same = true;
        }
    }
    (same, next)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Byte range of the line holding `offset` (without its newline).
fn line_at(data: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(data.len());
    let start = memchr::memrchr(b'\n', &data[..offset]).map_or(0, |p| p + 1);
    let end = memchr::memchr(b'\n', &data[offset..]).map_or(data.len(), |p| offset + p);
    (start, end)
}

fn line_number(data: &[u8], offset: usize) -> usize {
    memchr::memchr_iter(b'\n', &data[..offset.min(data.len())]).count() + 1
}

/// Whether the secret at `start..end` of `data` is allowed by an inline
/// marker, and by which.
pub fn check(data: &[u8], start: usize, end: usize) -> Option<InlineAllow> {
    // Cheap rejection: most blobs carry no marker at all.
    memmem::find(data, ALLOW.as_bytes())?;
    let (fs, fe) = line_at(data, start);
    if markers(&data[fs..fe]).0 {
        return Some(InlineAllow::SameLine(line_number(data, start)));
    }
    let last = end.saturating_sub(1).max(start);
    let (ls, le) = line_at(data, last);
    if ls != fs && markers(&data[ls..le]).0 {
        return Some(InlineAllow::SameLine(line_number(data, last)));
    }
    if fs > 0 {
        let (ps, pe) = line_at(data, fs - 1);
        if markers(&data[ps..pe]).1 {
            return Some(InlineAllow::NextLine(line_number(data, ps)));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(data: &str, secret: &str) -> Option<InlineAllow> {
        let s = data.find(secret).unwrap();
        check(data.as_bytes(), s, s + secret.len())
    }

    #[test]
    fn same_line_in_any_comment_syntax() {
        for line in [
            "token = 'SECRET' # leakscan:allow",
            "token = 'SECRET'; // leakscan:allow test fixture",
            "<!-- leakscan:allow --> SECRET",
            "SECRET /* leakscan:allow */",
        ] {
            let data = format!("a\n{line}\nb\n");
            assert_eq!(
                at(&data, "SECRET"),
                Some(InlineAllow::SameLine(2)),
                "{line}"
            );
        }
    }

    #[test]
    fn next_line_marker_only_covers_the_next_line() {
        let data = "# leakscan:allow-next-line\nSECRET\nOTHER\n";
        assert_eq!(at(data, "SECRET"), Some(InlineAllow::NextLine(1)));
        assert_eq!(at(data, "OTHER"), None);
        // The next-line marker does not allow its own line.
        let data = "SECRET # leakscan:allow-next-line\n";
        assert_eq!(at(data, "SECRET"), None);
    }

    #[test]
    fn marker_must_end_a_word_and_stay_on_its_line() {
        assert_eq!(at("SECRET # leakscan:allowed\n", "SECRET"), None);
        assert_eq!(at("# leakscan:allow\nSECRET\n", "SECRET"), None);
        assert_eq!(at("SECRET\n# leakscan:allow\n", "SECRET"), None);
        assert_eq!(at("SECRET", "SECRET"), None);
    }

    #[test]
    fn multi_line_secret_marked_on_first_or_last_line() {
        let span = |d: &str| {
            (
                d.find("-----BEGIN").unwrap(),
                d.find("-----END").unwrap() + 8,
            )
        };
        let first = "x\n-----BEGIN # leakscan:allow\nbody\n-----END\n";
        let (s, e) = span(first);
        assert_eq!(
            check(first.as_bytes(), s, e),
            Some(InlineAllow::SameLine(2))
        );
        let last = "x\n-----BEGIN\nbody\n-----END // leakscan:allow\n";
        let (s, e) = span(last);
        assert_eq!(check(last.as_bytes(), s, e), Some(InlineAllow::SameLine(4)));
        let middle = "x\n-----BEGIN\nbody leakscan:allow\n-----END\n";
        let (s, e) = span(middle);
        assert_eq!(check(middle.as_bytes(), s, e), None);
    }
}
