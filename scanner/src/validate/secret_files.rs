//! Files whose whole content is one secret, recognised by their name: Rails
//! `config/master.key` and `config/credentials/*.key`, Jenkins
//! `secrets/master.key`, `secrets/initialAdminPassword` and `secret.key`,
//! Vault's `.vault-token`, NATS `*.nk` seed files. Nothing in such a file
//! names the secret, so no keyword or pattern can: the rules (category and
//! remediation in `rules/packs/config-files.toml`, `validate =
//! "secret-file"`) carry no pattern, and this pass runs where the blob's
//! path is known (`dir`, `staged`, `stdin --path`; `git` history by the
//! first path each blob was seen at, see `source/git.rs`).

use std::collections::BTreeMap;

use serde_json::json;

use crate::finding::Secret;
use crate::matcher::{RawMatch, RuleSet};

/// Longest content judged (a master key of 512 hex digits and its newline).
const MAX_LEN: usize = 2048;

/// The rule id a path names, if its file name is one of a secret file.
pub fn rule_for_path(path: &str) -> Option<&'static str> {
    let path = path.trim_end_matches('/');
    // A path inside an archive reads `outer.zip!inner/path`.
    let path = path.rsplit('!').next().unwrap_or(path);
    let mut parts = path.rsplit(['/', '\\']);
    let name = parts.next()?;
    let parent = parts.next().unwrap_or("");
    let grand = parts.next().unwrap_or("");
    match name {
        "master.key" if parent == "config" => Some("rails-master-key"),
        n if n.ends_with(".key") && parent == "credentials" && grand == "config" => {
            Some("rails-master-key")
        }
        "master.key" if parent == "secrets" => Some("jenkins-secret-file"),
        "initialAdminPassword" if parent == "secrets" => Some("jenkins-secret-file"),
        "secret.key" => Some("secret-key-file"),
        ".vault-token" => Some("vault-token-file"),
        n if n.ends_with(".nk") && n.len() > 3 => Some("nats-nkey-seed"),
        _ => None,
    }
}

fn is_hex(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_hexdigit)
}

/// Judges a secret file's content (surrounding whitespace trimmed) for the
/// rule its name gave: the shape each tool writes, and never a
/// placeholder.
pub fn judge(
    rule: &str,
    path: &str,
    v: &[u8],
) -> Result<BTreeMap<String, serde_json::Value>, String> {
    if v.is_empty() {
        return Err("empty file".into());
    }
    if v.iter().any(|b| b.is_ascii_whitespace()) {
        return Err("more than one word: not a file holding one secret".into());
    }
    let first = v[0];
    if v.iter().all(|&b| b == first) {
        return Err("one repeated character".into());
    }
    let text = std::str::from_utf8(v).map_err(|_| "not UTF-8".to_string())?;
    super::generic::placeholder(v)?;
    let mut details = BTreeMap::new();
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    details.insert("file".to_string(), json!(name));
    match rule {
        // `rails credentials:edit` writes 32 hex digits (16 random bytes).
        "rails-master-key" if v.len() == 32 && is_hex(v) => {}
        "rails-master-key" => return Err("a Rails master key is 32 hex digits".into()),
        // Jenkins: master.key is 512 hex digits, initialAdminPassword 32.
        "jenkins-secret-file" if is_hex(v) && (32..=1024).contains(&v.len()) => {}
        "jenkins-secret-file" => {
            return Err("a Jenkins secret file holds 32 to 1024 hex digits".into());
        }
        "vault-token-file" => {
            let prefixed = ["hvs.", "hvb.", "hvr.", "s.", "b.", "r."]
                .iter()
                .find(|p| text.starts_with(**p));
            let body = prefixed.map_or(text, |p| &text[p.len()..]);
            let token_chars = body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            let uuid = v.len() == 36 && v.iter().filter(|&&b| b == b'-').count() == 4;
            if !(token_chars && (body.len() >= 24 || uuid)) {
                return Err("not the shape of a Vault token".into());
            }
        }
        "secret-key-file" => {
            if !(16..=512).contains(&v.len()) {
                return Err(format!("{} characters: not a key", v.len()));
            }
            let key_chars = v.iter().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-')
            });
            if !key_chars {
                return Err("characters outside hex, base64 and base64url".into());
            }
            let e = entropy::shannon_entropy(v);
            let floor = if is_hex(v) { 3.0 } else { 3.5 };
            if e < floor {
                return Err(format!("entropy {e:.2}: not a generated key"));
            }
        }
        "nats-nkey-seed" => {
            let ok = super::nats::nkey_seed(v)?;
            details.extend(ok.details);
        }
        other => return Err(format!("no secret file is judged by rule `{other}`")),
    }
    Ok(details)
}

/// Matches of the secret-file rules for a blob at `path` (none unless its
/// name is one of a secret file and the rule is loaded). The caller adds
/// them to the content rules' matches.
pub fn file_matches(set: &RuleSet, path: &str, data: &[u8]) -> Vec<RawMatch> {
    let Some(id) = rule_for_path(path) else {
        return Vec::new();
    };
    if data.len() > MAX_LEN {
        return Vec::new();
    }
    let Some(index) = set.rules.iter().position(|r| r.rule.id == id) else {
        return Vec::new();
    };
    let start = data
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(data.len());
    let end = data
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    let secret = &data[start..end];
    let (details, rejected) = match judge(id, path, secret) {
        Ok(d) => (d, None),
        Err(why) => (
            BTreeMap::new(),
            Some((
                crate::matcher::Stage::Validator,
                format!("secret-file: {why}"),
            )),
        ),
    };
    vec![RawMatch {
        rule: index,
        start,
        end,
        secret: Secret::new(secret),
        display: None,
        entropy: entropy::shannon_entropy(secret),
        details,
        context: BTreeMap::new(),
        rejected,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(rule_for_path("config/master.key"), Some("rails-master-key"));
        assert_eq!(
            rule_for_path("app/config/credentials/production.key"),
            Some("rails-master-key")
        );
        assert_eq!(rule_for_path("credentials/production.key"), None);
        assert_eq!(
            rule_for_path("jenkins_home/secrets/master.key"),
            Some("jenkins-secret-file")
        );
        assert_eq!(
            rule_for_path("secrets/initialAdminPassword"),
            Some("jenkins-secret-file")
        );
        assert_eq!(
            rule_for_path("/srv/jenkins/secret.key"),
            Some("secret-key-file")
        );
        assert_eq!(rule_for_path("home/.vault-token"), Some("vault-token-file"));
        assert_eq!(
            rule_for_path("nsc/keys/U/AB/user.nk"),
            Some("nats-nkey-seed")
        );
        assert_eq!(rule_for_path("master.key"), None);
        assert_eq!(rule_for_path("config/master.key.example"), None);
        assert_eq!(rule_for_path("ssl/server.key"), None);
    }

    #[test]
    fn contents() {
        let hex32 = b"7f3a9c0e5b1d4f8a2c6e0b9d3f7a1c5e";
        assert!(judge("rails-master-key", "config/master.key", hex32).is_ok());
        assert!(judge("rails-master-key", "config/master.key", b"7f3a9c0e5b1d").is_err());
        assert!(
            judge(
                "rails-master-key",
                "config/master.key",
                b"<your-master-key>"
            )
            .is_err()
        );
        assert!(judge("rails-master-key", "config/master.key", &[b'0'; 32]).is_err());
        assert!(judge("jenkins-secret-file", "secrets/initialAdminPassword", hex32).is_ok());
        assert!(
            judge(
                "vault-token-file",
                ".vault-token",
                b"hvs.CAESIJq9x7VtR2mWk4pLz8nQ3sYb"
            )
            .is_ok()
        );
        assert!(judge("vault-token-file", ".vault-token", b"root").is_err());
        assert!(judge("secret-key-file", "secret.key", b"q8Zt3VmP2wXk9LrB7nYc4HsD").is_ok());
        assert!(judge("secret-key-file", "secret.key", b"changeme").is_err());
        assert!(judge("secret-key-file", "secret.key", b"two words").is_err());
    }
}
