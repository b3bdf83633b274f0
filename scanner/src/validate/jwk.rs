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
        "oct" => need("k", 16..=512)?,
        other => return Err(format!("unknown kty {other:?}")),
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
mod tests {
    use super::*;

    const EC: &str = r#"{"kty":"EC","crv":"P-256","x":"ecVapPe2ET_mRo320JTsIMFV3-Xlp3gW5R4hswKJx2E","y":"6CKk0N38_0WcSLMT1rombD8UbZdI_X61bgdVuIry_bs","d":"0sBFnK36TNSg9MVCjg7jNJaeZ1qH18j4Cet99bk1ZrQ","kid":"test-signing-1"}"#;

    #[test]
    fn private_ec_jwk_accepted_with_kid() {
        let v = jwk_private(EC.as_bytes()).unwrap();
        assert_eq!(v.details["key_type"], json!("JWK EC"));
        assert_eq!(v.details["kid"], json!("test-signing-1"));
        let escaped = EC.replace('"', "\\\"");
        assert!(jwk_private(escaped.as_bytes()).is_ok());
    }

    #[test]
    fn public_and_elided_jwks_rejected() {
        let public = EC.replace(r#","d":"0sBFnK36TNSg9MVCjg7jNJaeZ1qH18j4Cet99bk1ZrQ""#, "");
        assert!(jwk_private(public.as_bytes()).is_err());
        let elided = EC.replace("0sBFnK36TNSg9MVCjg7jNJaeZ1qH18j4Cet99bk1ZrQ", "...");
        assert!(jwk_private(elided.as_bytes()).is_err());
        let short = EC.replace("0sBFnK36TNSg9MVCjg7jNJaeZ1qH18j4Cet99bk1ZrQ", "c2hvcnQ");
        assert!(jwk_private(short.as_bytes()).is_err());
    }
}
