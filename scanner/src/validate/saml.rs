//! SAML assertions that carry an XML signature (on the assertion, or on the
//! Response enclosing it): replayable until `NotOnOrAfter`. Unsigned
//! assertions and elided signatures are not credentials.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::json;

use super::keys::B64;
use super::{Candidate, Validated, Verdict};

/// Text content of the first element whose local name is `local`.
fn element<'a>(xml: &'a str, local: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(p) = xml[from..].find(local) {
        let at = from + p;
        from = at + local.len();
        let before = xml[..at].chars().last();
        if !matches!(before, Some('<') | Some(':')) {
            continue;
        }
        let open_start = xml[..at].rfind('<')?;
        if xml[open_start..at].starts_with("</") {
            continue;
        }
        let rest = &xml[from..];
        if !rest.starts_with(['>', ' ', '\t', '\n', '\r']) {
            continue;
        }
        let body_start = from + rest.find('>')? + 1;
        let body_end = body_start + xml[body_start..].find("</")?;
        return Some(xml[body_start..body_end].trim());
    }
    None
}

fn attribute<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let at = xml.find(&key)? + key.len();
    Some(&xml[at..at + xml[at..].find('"')?])
}

/// A `SignatureValue` that decodes to a plausible signature size.
fn signature_ok(xml: &str) -> bool {
    element(xml, "SignatureValue").is_some_and(|v| {
        let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
        B64.decode(compact.as_bytes())
            .is_ok_and(|b| (64..=1024).contains(&b.len()))
    }) && element(xml, "DigestValue").is_some_and(|v| {
        B64.decode(v.trim().as_bytes())
            .is_ok_and(|b| matches!(b.len(), 20 | 32 | 48 | 64))
    })
}

/// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SS...` (UTC).
fn parse_time(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[10] != b'T' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + hh * 3600 + mm * 60 + ss)
}

/// The assertion (its whole element) must be signed, or sit inside a
/// signed Response.
pub(super) fn saml_signed(data: &[u8], c: &Candidate) -> Verdict {
    let xml = String::from_utf8_lossy(&data[c.start..c.end]);
    let signed = if signature_ok(&xml) {
        "assertion"
    } else {
        let lo = c.match_start.saturating_sub(65536);
        let before = String::from_utf8_lossy(&data[lo..c.match_start]);
        let response = before.rfind("Response ").or_else(|| before.rfind("Response>"));
        match response {
            Some(p) if signature_ok(&before[p..]) => "response",
            _ => return Err("no valid XML signature on the assertion or its response".into()),
        }
    };
    let mut d = BTreeMap::new();
    d.insert("signed".into(), json!(signed));
    if let Some(issuer) = element(&xml, "Issuer") {
        d.insert("iss".into(), json!(issuer));
    }
    if let Some(aud) = element(&xml, "Audience") {
        d.insert("aud".into(), json!(aud));
    }
    if let Some(alg) = attribute(&xml, "SignatureMethod Algorithm") {
        d.insert("alg".into(), json!(alg));
    }
    let conditions = xml.find("Conditions").map(|p| &xml[p..]);
    if let Some(exp) = conditions.and_then(|c| attribute(c, "NotOnOrAfter")) {
        d.insert("not_on_or_after".into(), json!(exp));
        if let Some(t) = parse_time(exp) {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            d.insert("exp".into(), json!(t));
            d.insert("expired".into(), json!(t < now));
        }
    }
    d.insert("kind".into(), json!("saml-assertion"));
    Ok(Validated {
        details: d,
        display: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assertion(signature: &str) -> String {
        format!(
            r#"<saml2:Assertion ID="_a1" Version="2.0" IssueInstant="2024-01-01T00:00:00Z"><saml2:Issuer>https://idp.test/</saml2:Issuer>{signature}<saml2:Conditions NotBefore="2024-01-01T00:00:00Z" NotOnOrAfter="2024-01-01T00:05:00Z"><saml2:AudienceRestriction><saml2:Audience>https://sp.test/</saml2:Audience></saml2:AudienceRestriction></saml2:Conditions></saml2:Assertion>"#
        )
    }

    fn sig(value: &str) -> String {
        format!(
            r##"<ds:Signature><ds:SignedInfo><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_a1"><ds:DigestValue>{}</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>{value}</ds:SignatureValue></ds:Signature>"##,
            B64.encode([7u8; 32])
        )
    }

    fn run(xml: &str) -> Verdict {
        let c = Candidate {
            start: 0,
            end: xml.len(),
            match_start: 0,
            match_end: xml.len(),
        };
        saml_signed(xml.as_bytes(), &c)
    }

    #[test]
    fn signed_assertion_reports_issuer_and_expiry() {
        let xml = assertion(&sig(&B64.encode([9u8; 256])));
        let v = run(&xml).unwrap();
        assert_eq!(v.details["iss"], json!("https://idp.test/"));
        assert_eq!(v.details["aud"], json!("https://sp.test/"));
        assert_eq!(v.details["expired"], json!(true));
        assert_eq!(v.details["exp"], json!(1704067500));
    }

    #[test]
    fn unsigned_or_elided_is_not_a_credential() {
        assert!(run(&assertion("")).is_err());
        assert!(run(&assertion(&sig("..."))).is_err());
    }
}
