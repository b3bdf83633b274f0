//! Client-secret validators (Entra ID SEC101/156 shape).

use super::{Validated, Verdict};

/// Microsoft's SEC101/156 shape: length 37 goes with the digit 7 at index 3,
/// length 40 with 8.
pub(super) fn entra_secret(s: &[u8]) -> Verdict {
    match (s.len(), s.get(3)) {
        (37, Some(b'7')) | (40, Some(b'8')) => Ok(Validated::default()),
        (len, d) => Err(format!(
            "length {len} does not fit version digit {}",
            d.map(|d| *d as char).unwrap_or('?')
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_length_tied_to_digit() {
        assert!(
            entra_secret(
                &[b'a'; 37]
                    .iter()
                    .enumerate()
                    .map(|(i, b)| if i == 3 { b'7' } else { *b })
                    .collect::<Vec<_>>()
            )
            .is_ok()
        );
        assert!(
            entra_secret(
                &[b'a'; 40]
                    .iter()
                    .enumerate()
                    .map(|(i, b)| if i == 3 { b'7' } else { *b })
                    .collect::<Vec<_>>()
            )
            .is_err()
        );
    }
}
