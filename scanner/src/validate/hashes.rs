//! Password hashes that can be cracked offline: crypt(3) formats (bcrypt,
//! SHA-crypt, MD5-crypt, Apache APR1, yescrypt) and `{SHA}`. The format is
//! in the pattern; this names the algorithm and drops filler.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Validated, Verdict};

fn algorithm(v: &str) -> Option<&'static str> {
    Some(if v.starts_with("$2") {
        "bcrypt"
    } else if v.starts_with("$6$") {
        "sha512-crypt"
    } else if v.starts_with("$5$") {
        "sha256-crypt"
    } else if v.starts_with("$1$") {
        "md5-crypt"
    } else if v.starts_with("$apr1$") {
        "apr1-md5"
    } else if v.starts_with("$y$") || v.starts_with("$gy$") {
        "yescrypt"
    } else if v.starts_with("$7$") {
        "scrypt"
    } else if v.starts_with("{SHA}") {
        "sha1"
    } else {
        return None;
    })
}

/// A crypt or `{SHA}` hash: a known algorithm, and a hash part that is not
/// filler (one character repeated, a placeholder word).
pub(super) fn password_hash(s: &[u8]) -> Verdict {
    let v = std::str::from_utf8(s).map_err(|_| "not UTF-8".to_string())?;
    let algo = algorithm(v).ok_or("no known hash prefix")?;
    let hash = v.rsplit(['$', '}']).next().unwrap_or("");
    let lower = hash.to_ascii_lowercase();
    if ["xxxx", "example", "hash", "your"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return Err("placeholder words in the hash".into());
    }
    let e = entropy::shannon_entropy(hash.as_bytes());
    if e < 3.5 {
        return Err(format!("entropy {e:.2}: filler, not a hash"));
    }
    let mut details = BTreeMap::new();
    details.insert("algorithm".to_string(), json!(algo));
    Ok(Validated {
        details,
        display: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_and_filler() {
        let ok = password_hash(b"$apr1$Qz7vK2pa$/eK62jvYzAeHSfq9yGOnx0").expect("apr1");
        assert_eq!(ok.details["algorithm"], "apr1-md5");
        assert!(password_hash(b"$1$aB3dE5fG$0TCHHzlpe5iFMm2woxQs7/").is_ok());
        assert!(
            password_hash(b"$2y$10$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").is_err()
        );
        assert!(password_hash(b"plain").is_err());
    }
}
