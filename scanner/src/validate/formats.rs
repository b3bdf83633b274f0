//! Validators for service-token formats that carry structure a regex cannot
//! check: CRC32 suffixes (Atlassian, Grafana), bech32 (age), base64 JSON
//! payloads (Grafana Cloud, Sentry, 1Password), Docker `auth` pairs, Azure
//! common annotated keys and Discord bot tokens.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::{Validated, Verdict};

/// Atlassian API tokens (`ATATT3…=XXXXXXXX`): the last 8 characters are the
/// CRC32 (upper-case hex) of everything before them, `=` included.
pub(super) fn atlassian_checksum(s: &[u8]) -> Verdict {
    let Some(eq) = s.iter().rposition(|&b| b == b'=') else {
        return Err("no `=` before the checksum".into());
    };
    let check = &s[eq + 1..];
    if check.len() != 8 {
        return Err(format!("checksum is {} characters, not 8", check.len()));
    }
    let want = format!("{:08X}", crc32fast::hash(&s[..=eq]));
    if check == want.as_bytes() {
        Ok(Validated::default())
    } else {
        Err("checksum does not match".into())
    }
}

/// Grafana service account tokens (`glsa_` + 32 + `_` + 8 hex): the suffix
/// is the CRC32 of `glsa_<random>`, as tokens issued by Grafana write it
/// (little-endian bytes in hex); the big-endian reading is accepted too.
pub(super) fn grafana_checksum(s: &[u8]) -> Verdict {
    let Some(us) = s.iter().rposition(|&b| b == b'_') else {
        return Err("no `_` before the checksum".into());
    };
    let check = String::from_utf8_lossy(&s[us + 1..]).to_ascii_lowercase();
    if check.len() != 8 {
        return Err(format!("checksum is {} characters, not 8", check.len()));
    }
    let crc = crc32fast::hash(&s[..us]);
    if check == hex::encode(crc.to_le_bytes()) || check == hex::encode(crc.to_be_bytes()) {
        Ok(Validated::default())
    } else {
        Err("checksum does not match".into())
    }
}

const BECH32_CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bech32_polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// An age X25519 identity (`AGE-SECRET-KEY-1…`): bech32 with the
/// human-readable part `age-secret-key-`, a valid checksum, and 32 bytes of
/// key.
pub(super) fn age_bech32(s: &[u8]) -> Verdict {
    let lower = s.to_ascii_lowercase();
    let Some(sep) = lower.iter().rposition(|&b| b == b'1') else {
        return Err("no bech32 separator".into());
    };
    let (hrp, data) = (&lower[..sep], &lower[sep + 1..]);
    if hrp != b"age-secret-key-" {
        return Err("not the age-secret-key- prefix".into());
    }
    let mut values = Vec::with_capacity(data.len());
    for &c in data {
        match BECH32_CHARSET.iter().position(|&x| x == c) {
            Some(v) => values.push(v as u8),
            None => return Err(format!("{:?} is not a bech32 character", c as char)),
        }
    }
    if values.len() < 6 || (values.len() - 6) * 5 / 8 != 32 {
        return Err("does not hold a 32-byte key".into());
    }
    let expanded = hrp
        .iter()
        .map(|b| b >> 5)
        .chain(std::iter::once(0))
        .chain(hrp.iter().map(|b| b & 31))
        .chain(values.iter().copied());
    if bech32_polymod(expanded) != 1 {
        return Err("bech32 checksum does not match".into());
    }
    let key = &values[..values.len() - 6];
    if key.iter().all(|&v| v == key[0]) {
        return Err("key is one repeated value".into());
    }
    Ok(Validated::default())
}

fn decode_base64_any(s: &[u8]) -> Option<Vec<u8>> {
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(s).ok())
}

/// Tokens whose body is base64 of a JSON object: Grafana Cloud `glc_`,
/// Sentry organization `sntrys_` (payload `_` secret), 1Password service
/// accounts `ops_`. The object must carry the keys the provider writes;
/// non-secret fields (organization, sign-in address) become details.
pub(super) fn prefixed_json(s: &[u8]) -> Verdict {
    let text = std::str::from_utf8(s).map_err(|_| "not UTF-8".to_string())?;
    let (prefix, rest) = text
        .split_once('_')
        .ok_or_else(|| "no prefix".to_string())?;
    let (payload, required, shown): (&str, &[&str], &[&str]) = match prefix {
        "glc" => (rest, &["o", "k"], &["o", "n"]),
        "sntrys" => (
            rest.rsplit_once('_').map(|(p, _)| p).unwrap_or(rest),
            &["org"],
            &["org", "url"],
        ),
        "ops" => (rest, &["secretKey", "signInAddress"], &["signInAddress"]),
        other => return Err(format!("unknown prefix {other:?}")),
    };
    let bytes = decode_base64_any(payload.as_bytes()).ok_or("payload is not base64")?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| "payload is not JSON")?;
    let obj = value.as_object().ok_or("payload is not a JSON object")?;
    if let Some(k) = required.iter().find(|k| !obj.contains_key(**k)) {
        return Err(format!("payload lacks the {k:?} field"));
    }
    let mut details = BTreeMap::new();
    for k in shown {
        if let Some(v) = obj.get(*k).and_then(Value::as_str) {
            let name = match *k {
                "o" => "org_id",
                "n" => "token_name",
                "signInAddress" => "sign_in_address",
                other => other,
            };
            details.insert(name.to_string(), json!(v));
        }
    }
    Ok(Validated {
        details,
        display: None,
    })
}

/// A Docker `config.json` `"auth"`: base64 of `user:password`, printable,
/// with a password that looks real (not a placeholder or tutorial word).
pub(super) fn docker_auth(s: &[u8]) -> Verdict {
    let bytes = STANDARD.decode(s).map_err(|_| "not base64".to_string())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| "does not decode to text".to_string())?;
    if text.chars().any(|c| c.is_control()) {
        return Err("decodes to control characters".into());
    }
    let (user, password) = text
        .split_once(':')
        .ok_or_else(|| "decodes to no `user:password` pair".to_string())?;
    if user.is_empty() || password.is_empty() {
        return Err("empty user or password".into());
    }
    // Registry tokens (GitHub, GitLab, npm...) are passwords too: only
    // shape is judged here.
    super::generic::judge(password, super::generic::KeyStrength::Strong)
        .map_err(|e| format!("password: {e}"))?;
    let mut details = BTreeMap::new();
    details.insert("username".to_string(), json!(user));
    Ok(Validated {
        details,
        display: None,
    })
}

/// Azure common annotated security keys (84 characters: 52 random, the
/// `JQQJ99` signature, 18 more, a 4-letter provider signature, 4 checksum
/// characters): the provider signature names the service.
pub(super) fn azure_annotated_key(s: &[u8]) -> Verdict {
    if s.len() != 84 {
        return Err(format!("{} characters, not 84", s.len()));
    }
    if &s[52..58] != b"JQQJ99" {
        return Err("no JQQJ99 signature at offset 52".into());
    }
    super::tokens::token_shape(&s[..52])?;
    let sig = String::from_utf8_lossy(&s[76..80]).into_owned();
    let service = match sig.as_str() {
        "AZDO" => "Azure DevOps personal access token",
        "ACOG" => "Azure AI services (Cognitive Services, Azure OpenAI) key",
        "AWPS" => "Azure Web PubSub access key",
        "AZSE" => "Azure AI Search key",
        "APIM" => "Azure API Management key",
        "AZEG" => "Azure Event Grid key",
        "AzFu" => "Azure Functions key",
        "AZCa" => "Azure Cache for Redis key",
        "ARis" => "Azure Relay key",
        "AZRe" => "Azure Relay key",
        "AzSe" | "AzEh" | "+ASb" | "+AEh" => "Azure Service Bus or Event Hubs key",
        "AZCo" => "Azure Cosmos DB key",
        "AzSt" | "+ASt" => "Azure Storage key",
        "AZCR" | "ACRD" => "Azure Container Registry key",
        _ => "Azure key",
    };
    let mut details = BTreeMap::new();
    details.insert("provider_signature".to_string(), json!(sig));
    details.insert("service".to_string(), json!(service));
    Ok(Validated {
        details,
        display: None,
    })
}

/// A Discord bot token: base64 of the bot's numeric user id (a snowflake,
/// 17 to 20 digits), `.`, a timestamp part, `.`, the HMAC part.
pub(super) fn discord_bot_token(s: &[u8]) -> Verdict {
    let first = s
        .split(|&b| b == b'.')
        .next()
        .ok_or_else(|| "no id part".to_string())?;
    let id = decode_base64_any(first).ok_or("id part is not base64")?;
    if !(17..=20).contains(&id.len()) || !id.iter().all(u8::is_ascii_digit) {
        return Err("id part does not decode to a Discord user id".into());
    }
    super::tokens::token_shape(s)?;
    let mut details = BTreeMap::new();
    details.insert(
        "bot_user_id".to_string(),
        json!(String::from_utf8_lossy(&id)),
    );
    Ok(Validated {
        details,
        display: None,
    })
}

/// A password taken from a structured file (`.netrc`, a connection
/// string): judged like a generic assigned value.
pub(super) fn password_value(s: &[u8]) -> Verdict {
    let v = std::str::from_utf8(s).map_err(|_| "not UTF-8".to_string())?;
    super::generic::judge(v, super::generic::KeyStrength::Strong)?;
    Ok(Validated::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atlassian_crc_round_trip() {
        let body = format!("ATATT3xFfGF0{}=", "aB3dE5fG7h".repeat(17));
        let token = format!("{body}{:08X}", crc32fast::hash(body.as_bytes()));
        assert!(atlassian_checksum(token.as_bytes()).is_ok());
        let mut bad = token.into_bytes();
        bad[20] = b'Z';
        assert!(atlassian_checksum(&bad).is_err());
    }

    #[test]
    fn grafana_crc_little_endian() {
        let body = "glsa_QV291mfTESTQf09ChZj36kSUSmrXXpsj";
        let le = hex::encode(crc32fast::hash(body.as_bytes()).to_le_bytes());
        assert!(grafana_checksum(format!("{body}_{le}").as_bytes()).is_ok());
        assert!(grafana_checksum(format!("{body}_00000000").as_bytes()).is_err());
    }

    #[test]
    fn age_checksum() {
        // Split so that the project's self-scan does not see a key here.
        let good = concat!(
            "AGE-SECRET-KEY-1",
            "WSWFA7J7PWCL9EJAU6NEN9W6YDU6Q82W7Z2CCYKZVFJZEA0Z6C5Q5JZYCG"
        )
        .as_bytes();
        assert!(age_bech32(good).is_ok());
        let mut bad = good.to_vec();
        bad[30] = if bad[30] == b'Q' { b'P' } else { b'Q' };
        assert!(age_bech32(&bad).is_err());
        assert!(
            age_bech32(
                b"AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
            )
            .is_err()
        );
    }

    #[test]
    fn docker_auth_needs_a_pair() {
        let good = STANDARD.encode("ci-bot:2B84MGVC0r251aNcSVyR");
        assert!(docker_auth(good.as_bytes()).is_ok());
        assert!(docker_auth(STANDARD.encode("just-a-token-value").as_bytes()).is_err());
        assert!(docker_auth(STANDARD.encode("user:password").as_bytes()).is_err());
    }

    #[test]
    fn discord_id_part_is_a_snowflake() {
        let id = STANDARD_NO_PAD.encode("1187654321098765432");
        let good = format!("{id}.63zYco.PyQ4U707jZl0LsTESTh4V30fqCR-vXqag1l6hk");
        assert!(discord_bot_token(good.as_bytes()).is_ok());
        let words = STANDARD_NO_PAD.encode("not-a-user-id-here");
        let bad = format!("{words}.63zYco.PyQ4U707jZl0LsTESTh4V30fqCR-vXqag1l6hk");
        assert!(discord_bot_token(bad.as_bytes()).is_err());
    }
}
