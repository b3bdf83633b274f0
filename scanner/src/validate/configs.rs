//! Validators for passwords in the formats of configuration files, scripts
//! and code: values decoded first (base64 `user:password`, Kubernetes
//! `data:`), hosts judged (`.pgpass`, URL parameters), WordPress salts, and
//! values whose syntax already names them a password (SQL, PowerShell).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::generic::{KeyStrength, judge, local_or_documentation_host};
use super::{Candidate, Validated, Verdict};

fn text(s: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(s).map_err(|_| "not UTF-8".to_string())
}

/// A value the surrounding syntax names a password (`IDENTIFIED BY '…'`,
/// `-Password "…"`, `NetworkCredential(user, "…")`, `curl -u user:…`).
pub(super) fn keyed_password(s: &[u8]) -> Verdict {
    let v = text(s)?;
    if v.contains(char::is_whitespace) {
        return Err("contains spaces: a phrase, not a password".into());
    }
    judge(v, KeyStrength::Strong)?;
    Ok(Validated::default())
}

/// A password in code (`setPassword("…")`, `password.equals("…")`): not
/// on a documentation comment or a commented example.
pub(super) fn code_password(s: &[u8], data: &[u8], c: &Candidate) -> Verdict {
    if let Some(why) = super::generic::doc_example(data, c.match_start) {
        return Err(why.into());
    }
    keyed_password(s)
}

/// Decodes base64 of `user:password` to text (no control characters).
fn decode_pair(s: &[u8]) -> Result<(String, String), String> {
    let bytes = STANDARD.decode(s).map_err(|_| "not base64".to_string())?;
    let text = String::from_utf8(bytes).map_err(|_| "does not decode to text".to_string())?;
    if text.chars().any(|c| c.is_control()) {
        return Err("decodes to control characters".into());
    }
    let (user, password) = text
        .split_once(':')
        .ok_or_else(|| "decodes to no `user:password` pair".to_string())?;
    if user.is_empty() || password.is_empty() {
        return Err("empty user or password".into());
    }
    Ok((user.to_string(), password.to_string()))
}

fn with_user(user: &str) -> Validated {
    let mut details = BTreeMap::new();
    details.insert("username".to_string(), json!(user));
    Validated {
        details,
        display: None,
    }
}

/// Base64 of `user:password` (`.npmrc` `_auth`, HTTP Basic): the decoded
/// password is judged; the user becomes a detail.
pub(super) fn basic_pair(s: &[u8]) -> Verdict {
    let (user, password) = decode_pair(s)?;
    judge(&password, KeyStrength::Strong).map_err(|e| format!("password: {e}"))?;
    Ok(with_user(&user))
}

/// Base64 of a password alone (FileZilla `<Pass encoding="base64">`,
/// `.npmrc` `_password`).
pub(super) fn base64_password(s: &[u8]) -> Verdict {
    let bytes = STANDARD.decode(s).map_err(|_| "not base64".to_string())?;
    let password = String::from_utf8(bytes).map_err(|_| "does not decode to text".to_string())?;
    if password.chars().any(|c| c.is_control()) {
        return Err("decodes to control characters".into());
    }
    judge(&password, KeyStrength::Strong).map_err(|e| format!("decoded password: {e}"))?;
    Ok(Validated::default())
}

/// A FileZilla `<Pass>`: decoded first when `encoding="base64"`.
pub(super) fn filezilla_pass(s: &[u8], data: &[u8], c: &Candidate) -> Verdict {
    let tag = &data[c.match_start..c.start];
    if tag.windows(6).any(|w| w == b"base64") {
        base64_password(s)
    } else {
        keyed_password(s)
    }
}

/// An `Authorization` header: `Basic` credentials are decoded and their
/// password judged; a `Bearer` or `Token` value is judged as it is.
pub(super) fn http_authorization(s: &[u8], data: &[u8], c: &Candidate) -> Verdict {
    let scheme = String::from_utf8_lossy(&data[c.match_start..c.start]).to_ascii_lowercase();
    if scheme.trim_end().ends_with("basic") {
        return basic_pair(s);
    }
    let v = text(s)?;
    judge(v, KeyStrength::Weak)?;
    Ok(Validated::default())
}

/// The line holding byte `at`.
fn line_at(data: &[u8], at: usize) -> &[u8] {
    let start = data[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let end = data[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(data.len(), |i| at + i);
    &data[start..end]
}

/// The host of the first URL (`scheme://[user@]host`) or JDBC address on
/// the line before byte `at`, lower-cased.
fn url_host_before(data: &[u8], at: usize) -> Option<String> {
    let line_start = data[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let before = String::from_utf8_lossy(&data[line_start..at]).into_owned();
    let i = before.rfind("://")?;
    let rest = &before[i + 3..];
    let authority = rest.split(['/', '?', ';']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = host.split(',').next().unwrap_or("");
    let host = if host.starts_with('[') {
        host.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or("")
    };
    Some(host.to_ascii_lowercase())
}

/// A password in a URL's parameters (`jdbc:…?user=app&password=…`,
/// `…;password=…`): local and documentation hosts are development noise.
pub(super) fn url_query_password(s: &[u8], data: &[u8], c: &Candidate) -> Verdict {
    if let Some(host) = url_host_before(data, c.start)
        && (host.is_empty() || local_or_documentation_host(&host))
    {
        return Err(format!("local or documentation host {host:?}"));
    }
    let raw = text(s)?;
    let password = String::from_utf8_lossy(&super::percent_decode(raw.as_bytes())).into_owned();
    judge(&password, KeyStrength::Strong).map_err(|e| format!("password: {e}"))?;
    Ok(Validated::default())
}

/// A `.pgpass` line `host:port:database:user:password`: local hosts are
/// development noise.
pub(super) fn pgpass(s: &[u8], data: &[u8], c: &Candidate) -> Verdict {
    let line = String::from_utf8_lossy(line_at(data, c.start)).into_owned();
    let host = line
        .trim_start()
        .split(':')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if host == "*" || local_or_documentation_host(&host) {
        return Err(format!("local or any host {host:?}"));
    }
    keyed_password(s)
}

/// `define('NAME', '…')` in PHP: WordPress keys and salts (long phrases of
/// any printable characters) are judged by length and entropy; password
/// and secret constants like any password.
pub(super) fn php_constant(s: &[u8], data: &[u8], c: &Candidate) -> Verdict {
    let name = String::from_utf8_lossy(&data[c.match_start..c.start]).to_ascii_uppercase();
    let v = text(s)?;
    let salt = (name.contains("_KEY") || name.contains("_SALT"))
        && !name.contains("PASS")
        && !name.contains("SECRET");
    if !salt {
        return keyed_password(s);
    }
    // Salts are any printable characters (`{{`, `${` included): only
    // placeholder words count against them.
    let lower = v.to_ascii_lowercase();
    if let Some(w) = [
        "unique phrase",
        "put your",
        "changeme",
        "xxxx",
        "example",
        "salt here",
    ]
    .iter()
    .find(|w| lower.contains(**w))
    {
        return Err(format!("placeholder words {w:?}"));
    }
    if v.len() < 32 {
        return Err(format!("{} characters: shorter than a salt", v.len()));
    }
    let e = entropy::shannon_entropy(s);
    if e < 4.2 {
        return Err(format!("entropy {e:.2}: words, not a generated salt"));
    }
    Ok(Validated::default())
}

/// A value of a Kubernetes `Secret`: under `data:` it is base64, decoded
/// and judged; under `stringData:` judged as it is. The key's name sets
/// how strongly it vouches for a short value.
pub(super) fn kubernetes_secret(s: &[u8], data: &[u8], c: &Candidate) -> Verdict {
    let line_start = data[..c.match_start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = String::from_utf8_lossy(line_at(data, c.start));
    let indent = line.len() - line.trim_start().len();
    let key = line
        .trim_start()
        .split(':')
        .next()
        .unwrap_or("")
        .to_string();
    let is_kind = |l: &str| {
        matches!(
            l.trim(),
            "kind: Secret" | "kind: \"Secret\"" | "kind: 'Secret'"
        )
    };
    // One walk up the lines above, nearest first, to the start of this
    // YAML document: the parent is the nearest line with less indentation,
    // and the document's kind may be among them. Line by line on the
    // bytes, nothing copied: a manifest can hold thousands of values, each
    // a candidate.
    let mut parent = None;
    let mut kind_above = false;
    if line_start > 0 {
        for raw in data[..line_start - 1].rsplit(|&b| b == b'\n') {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let l = String::from_utf8_lossy(raw);
            if l.starts_with("---") {
                break;
            }
            kind_above = kind_above || is_kind(&l);
            let t = l.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if parent.is_none() && l.len() - l.trim_start().len() < indent {
                parent = Some(t.to_string());
            }
        }
    }
    let Some(parent) = parent else {
        return Err("not under `data:` or `stringData:`".into());
    };
    // The document must be a Secret (its kind before or after the data).
    let after = &data[c.end..];
    let after = &after[..memchr::memmem::find(after, b"\n---").unwrap_or(after.len())];
    let kind_after = || {
        after
            .split(|&b| b == b'\n')
            .any(|l| is_kind(&String::from_utf8_lossy(l)))
    };
    if !kind_above && !kind_after() {
        return Err("not in a Kubernetes Secret".into());
    }
    let strength = super::generic::key_strength_of(&key);
    let v = text(s)?;
    match parent.as_str() {
        "data:" => {
            let bytes = STANDARD
                .decode(s)
                .map_err(|_| "a `data:` value that is not base64".to_string())?;
            let decoded = String::from_utf8(bytes).map_err(|_| "decodes to binary".to_string())?;
            let decoded = decoded.trim_end_matches(['\n', '\r']);
            if decoded.chars().any(|c| c.is_control()) {
                return Err("decodes to several lines or control characters".into());
            }
            judge(decoded, strength).map_err(|e| format!("decoded value: {e}"))?;
        }
        "stringData:" => {
            judge(v, strength)?;
        }
        other => return Err(format!("under `{other}`, not `data:` or `stringData:`")),
    }
    let mut details = BTreeMap::new();
    details.insert("key".to_string(), json!(key));
    Ok(Validated {
        details,
        display: None,
    })
}

/// A WireGuard `PrivateKey`/`PresharedKey`: base64 of 32 bytes that are not
/// one repeated value.
pub(super) fn wireguard_key(s: &[u8]) -> Verdict {
    let bytes = STANDARD.decode(s).map_err(|_| "not base64".to_string())?;
    if bytes.len() != 32 {
        return Err(format!("{} bytes, not 32", bytes.len()));
    }
    let distinct = bytes
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if distinct < 12 {
        return Err("too few distinct bytes for a random key".into());
    }
    super::generic::placeholder(s)?;
    Ok(Validated::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(data: &str, secret: &str) -> Candidate {
        let start = data.find(secret).unwrap();
        Candidate {
            start,
            end: start + secret.len(),
            match_start: data[..start].rfind('\n').map_or(0, |i| i + 1),
            match_end: start + secret.len(),
        }
    }

    #[test]
    fn basic_pairs_are_decoded() {
        let good = STANDARD.encode("deploy:Vq8#Lm2pTz9w");
        assert!(basic_pair(good.as_bytes()).is_ok());
        assert!(basic_pair(STANDARD.encode("admin:admin123").as_bytes()).is_err());
        assert!(basic_pair(STANDARD.encode("no-colon-here").as_bytes()).is_err());
    }

    #[test]
    fn kubernetes_data_is_decoded_and_judged() {
        let pw = STANDARD.encode("Vq8#Lm2pTz9wKd4!");
        let doc = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: {pw}\n  username: {}\n",
            STANDARD.encode("app")
        );
        assert!(kubernetes_secret(pw.as_bytes(), doc.as_bytes(), &cand(&doc, &pw)).is_ok());
        let user = STANDARD.encode("app");
        assert!(kubernetes_secret(user.as_bytes(), doc.as_bytes(), &cand(&doc, &user)).is_err());
        let cm = doc.replace("kind: Secret", "kind: ConfigMap");
        assert!(kubernetes_secret(pw.as_bytes(), cm.as_bytes(), &cand(&cm, &pw)).is_err());
        let weak = STANDARD.encode("changeme");
        let doc2 = doc.replace(&pw, &weak);
        assert!(kubernetes_secret(weak.as_bytes(), doc2.as_bytes(), &cand(&doc2, &weak)).is_err());
    }

    #[test]
    fn url_hosts() {
        let l = "url=jdbc:mysql://db.prod.acme-corp.io:3306/app?user=app&password=X";
        assert_eq!(
            url_host_before(l.as_bytes(), l.len()).as_deref(),
            Some("db.prod.acme-corp.io")
        );
    }
}
