//! JSON Web Keys holding private material: `d` for RSA, EC and OKP keys,
//! `k` for symmetric (`oct`) keys. Public JWKs and elided values are
//! rejected; the key type and id go into the details.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use regex::Regex;
use serde_json::json;

use super::{Validated, Verdict};

const B64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `"name": "value"` members of one flat object (JSON, JS or escaped JSON).
fn members(object: &str) -> BTreeMap<String, String> {
    static MEMBER: OnceLock<Regex> = OnceLock::new();
    let re = MEMBER.get_or_init(|| {
        Regex::new(r#"["']?([A-Za-z0-9_]{1,16})["']?\s*:\s*["']([^"']*)["']"#).expect("valid regex")
    });
    let unescaped = object.replace("\\\"", "\"");
    re.captures_iter(&unescaped)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect()
}

fn decoded_len(v: &str) -> Option<usize> {
    B64URL.decode(v.trim_end_matches('=')).ok().map(|b| b.len())
}

/// Private members of the example keys in RFC 7515, 7517 and 8037.
const RFC_EXAMPLE_KEYS: &[&str] = &[
    "870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE",
    "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI",
    "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
];

/// A JWK object with private members of a plausible size.
pub(super) fn jwk_private(object: &[u8]) -> Verdict {
    let text = std::str::from_utf8(object).map_err(|_| "not UTF-8".to_string())?;
    let m = members(text);
    let kty = m.get("kty").ok_or("no kty")?;
    let need = |name: &str, range: std::ops::RangeInclusive<usize>| -> Result<(), String> {
        let v = m
            .get(name)
            .ok_or_else(|| format!("no private member {name:?} (a public key)"))?;
        let n = decoded_len(v).ok_or_else(|| format!("{name:?} is not base64url"))?;
        if range.contains(&n) {
            Ok(())
        } else {
            Err(format!("{name:?} decodes to {n} bytes"))
        }
    };
    match kty.as_str() {
        "RSA" => {
            need("d", 64..=1024)?;
            need("n", 64..=1024)?;
        }
        "EC" => need("d", 28..=66)?,
        "OKP" => need("d", 32..=57)?,
        "oct" => {
            need("k", 16..=512)?;
            // A bare {kty, k} pair is how docs illustrate thumbprints; a
            // key in use names its id, algorithm or use.
            if !["kid", "alg", "use"].iter().any(|k| m.contains_key(*k)) {
                return Err("symmetric JWK without kid, alg or use (a doc example)".into());
            }
        }
        other => return Err(format!("unknown kty {other:?}")),
    }
    if let Some(private) = m.get("d").or_else(|| m.get("k"))
        && RFC_EXAMPLE_KEYS.iter().any(|e| private.starts_with(e))
    {
        return Err("a published RFC example key".into());
    }
    let mut d = BTreeMap::new();
    d.insert("key_type".into(), json!(format!("JWK {kty}")));
    d.insert("format".into(), json!("JWK"));
    for k in ["kid", "crv", "alg", "use"] {
        if let Some(v) = m.get(k) {
            d.insert(k.into(), json!(v));
        }
    }
    Ok(Validated {
        details: d,
        display: None,
    })
}

#[cfg(test)]
mod tests;
