//! Byte-string helpers shared by the matcher and the validators (a leaf:
//! it depends on nothing in the crate).

/// Position of `needle` in `hay` (small inputs; no allocation).
pub fn memmem(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::memmem;

    #[test]
    fn finds_the_first_occurrence() {
        assert_eq!(memmem(b"client_assertion=x", b"assertion"), Some(7));
        assert_eq!(memmem(b"abc", b""), Some(0));
        assert_eq!(memmem(b"ab", b"abc"), None);
        assert_eq!(memmem(b"github", b"gitlab"), None);
    }
}
