//! PuTTY private key files (PPK v2 and v3): the line structure must hold,
//! and for unencrypted keys the `Private-MAC` must verify, which rejects
//! edited, truncated and made-up files.

use std::collections::BTreeMap;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha1::Sha1;
use sha1::Digest as _;
use sha2::Sha256;

use super::keys::B64;
use super::{Validated, Verdict};

struct Ppk<'a> {
    version: u8,
    algorithm: &'a str,
    encryption: &'a str,
    comment: &'a str,
    public: Vec<u8>,
    private: Vec<u8>,
    mac: Vec<u8>,
}

fn next<'a>(lines: &mut impl Iterator<Item = &'a str>, what: &str) -> Result<&'a str, String> {
    lines.next().ok_or_else(|| format!("missing {what}"))
}

/// The value of a `Name: value` line that must be `name`.
fn field<'a>(lines: &mut impl Iterator<Item = &'a str>, name: &str) -> Result<&'a str, String> {
    match next(lines, name)?.split_once(": ") {
        Some((k, v)) if k == name => Ok(v),
        _ => Err(format!("expected {name}")),
    }
}

fn base64_lines<'a>(lines: &mut impl Iterator<Item = &'a str>, n: &str) -> Result<Vec<u8>, String> {
    let n: usize = n.parse().map_err(|_| "bad line count")?;
    if n == 0 || n > 512 {
        return Err("implausible line count".into());
    }
    let mut s = String::new();
    for _ in 0..n {
        s.push_str(next(lines, "base64 line")?.trim());
    }
    B64.decode(s.as_bytes())
        .map_err(|_| "base64 lines do not decode".to_string())
}

fn parse(text: &str) -> Result<Ppk<'_>, String> {
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    let (head, algorithm) = next(&mut lines, "header")?
        .split_once(": ")
        .ok_or("no header")?;
    let version = match head {
        "PuTTY-User-Key-File-2" => 2,
        "PuTTY-User-Key-File-3" => 3,
        _ => return Err(format!("unknown header {head:?}")),
    };
    let encryption = field(&mut lines, "Encryption")?;
    let comment = field(&mut lines, "Comment")?;
    let n = field(&mut lines, "Public-Lines")?;
    let public = base64_lines(&mut lines, n)?;
    let mut line = next(&mut lines, "Private-Lines")?;
    // v3 encrypted files carry Argon2 parameters before Private-Lines.
    while !line.starts_with("Private-Lines: ") {
        let (k, _) = line.split_once(": ").ok_or("expected Private-Lines")?;
        if !(k == "Key-Derivation" || k.starts_with("Argon2-")) {
            return Err(format!("unexpected line {k:?}"));
        }
        line = next(&mut lines, "Private-Lines")?;
    }
    let private = base64_lines(&mut lines, &line["Private-Lines: ".len()..])?;
    let mac = field(&mut lines, "Private-MAC")?;
    let mac = hex::decode(mac.trim()).map_err(|_| "Private-MAC is not hex")?;
    Ok(Ppk {
        version,
        algorithm,
        encryption,
        comment,
        public,
        private,
        mac,
    })
}

fn ssh_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend((s.len() as u32).to_be_bytes());
    out.extend(s);
}

/// A whole PPK file (from its first line to the end of `Private-MAC`).
pub(super) fn putty_private_key(block: &[u8]) -> Verdict {
    let text = std::str::from_utf8(block).map_err(|_| "not UTF-8".to_string())?;
    let ppk = parse(text)?;
    let encrypted = match ppk.encryption {
        "none" => false,
        "aes256-cbc" => true,
        other => return Err(format!("unknown encryption {other:?}")),
    };
    let want_mac = if ppk.version == 2 { 20 } else { 32 };
    if ppk.mac.len() != want_mac {
        return Err("Private-MAC has the wrong length".into());
    }
    if !encrypted {
        let mut msg = Vec::new();
        ssh_string(&mut msg, ppk.algorithm.as_bytes());
        ssh_string(&mut msg, ppk.encryption.as_bytes());
        ssh_string(&mut msg, ppk.comment.as_bytes());
        ssh_string(&mut msg, &ppk.public);
        ssh_string(&mut msg, &ppk.private);
        let ok = if ppk.version == 2 {
            // v2: key = SHA-1("putty-private-key-file-mac-key" || passphrase).
            let key = Sha1::digest(b"putty-private-key-file-mac-key");
            let mut m = Hmac::<Sha1>::new_from_slice(&key).map_err(|e| e.to_string())?;
            m.update(&msg);
            m.verify_slice(&ppk.mac).is_ok()
        } else {
            // v3 without encryption: HMAC-SHA-256 with an empty key.
            let mut m = Hmac::<Sha256>::new_from_slice(b"").map_err(|e| e.to_string())?;
            m.update(&msg);
            m.verify_slice(&ppk.mac).is_ok()
        };
        if !ok {
            return Err("Private-MAC does not verify".into());
        }
    } else if ppk.private.len() % 16 != 0 {
        return Err("encrypted private blob is not whole AES blocks".into());
    }
    let mut d = BTreeMap::new();
    d.insert("key_type".into(), json!(ppk.algorithm));
    d.insert("format".into(), json!(format!("PuTTY PPK v{}", ppk.version)));
    d.insert("encrypted".into(), json!(encrypted));
    Ok(Validated {
        details: d,
        display: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made with puttygen 0.78 from throwaway keys.
    const V3: &str = "PuTTY-User-Key-File-3: ssh-ed25519
Encryption: none
Comment: ci-deploy-test
Public-Lines: 2
AAAAC3NzaC1lZDI1NTE5AAAAIIbLnQBkqtCGESQDXDZZDZ4JGjnEE39AsCuhRGT5
H9kw
Private-Lines: 1
AAAAIJ1/5CIjDpIbwWykbbhsjxnD49WWIocqaAyjjpbASvIb
Private-MAC: e0be0ebff97f6b13f0a0fe2931a6eb07279c048a9808466ae140bf31a77481a0";
    const V2: &str = "PuTTY-User-Key-File-2: ssh-ed25519
Encryption: none
Comment: deploy@leakscan-test
Public-Lines: 2
AAAAC3NzaC1lZDI1NTE5AAAAIGoYvA5EYQPyXWud9vDhqvfdooachF1h99ySwi4C
PUZk
Private-Lines: 1
AAAAIHnHBDQgWxxf3t3TgmC8g+ZY0YBLla50dh1GPYyXls8x
Private-MAC: c630f7c0a292e013615728a74a9da7015d2a08af";

    #[test]
    fn real_v2_and_v3_files_verify() {
        let v = putty_private_key(V3.as_bytes()).unwrap();
        assert_eq!(v.details["format"], json!("PuTTY PPK v3"));
        assert_eq!(v.details["key_type"], json!("ssh-ed25519"));
        assert!(putty_private_key(V2.as_bytes()).is_ok());
        assert!(putty_private_key(V2.replace('\n', "\r\n").as_bytes()).is_ok());
    }

    #[test]
    fn edited_or_elided_files_are_rejected() {
        let edited = V3.replace("ci-deploy-test", "ci-deploy-tesT");
        assert!(putty_private_key(edited.as_bytes()).is_err());
        let elided = V2.replace("AAAAIHnHBDQgWxxf3t3TgmC8g+ZY0YBLla50dh1GPYyXls8x", "...");
        assert!(putty_private_key(elided.as_bytes()).is_err());
    }
}
