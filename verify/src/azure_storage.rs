//! Azure Storage account keys: a SharedKey-signed, read-only Get Blob
//! Service Properties request (`GET https://{account}.blob.{suffix}/?restype=service&comp=properties`).
//! Only an HMAC of the request leaves the machine, never the key. The
//! account name and endpoint suffix come from the connection string (or the
//! file around the key); the suffix only chooses among Azure's clouds.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use leakscan_scanner::credential_context::{
    AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_SUFFIX, AZURE_STORAGE_SUFFIXES,
};
use leakscan_scanner::finding::{Finding, Verification};
use sha2::Sha256;

use super::endpoints::AZURE_STORAGE;
use super::http::{Req, Resp};
use crate::run::Ctx;
use crate::verdict::{dead, live, skipped, unknown};

/// Storage REST API version sent and signed.
pub const API_VERSION: &str = "2021-08-06";

/// RFC 1123 date (`Mon, 07 Dec 2026 12:00:00 GMT`) for `x-ms-date`.
pub fn http_date(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let iso = crate::verdict::rfc3339(secs); // 2026-12-07T12:00:00Z
    let (y, m, d) = (&iso[0..4], &iso[5..7], &iso[8..10]);
    let month = MONTHS[m.parse::<usize>().unwrap_or(1).clamp(1, 12) - 1];
    let weekday = DAYS[((secs / 86400) % 7) as usize];
    format!("{weekday}, {d} {month} {y} {} GMT", &iso[11..19])
}

/// The SharedKey string to sign for this one request (Microsoft, "Authorize
/// with Shared Key"): verb, eleven empty standard headers, the `x-ms-`
/// headers sorted, then the canonical resource with its sorted query.
pub fn string_to_sign(account: &str, date: &str) -> String {
    format!(
        "GET\n{}x-ms-date:{date}\nx-ms-version:{API_VERSION}\n/{account}/\ncomp:properties\nrestype:service",
        "\n".repeat(11)
    )
}

/// `SharedKey {account}:{base64 HMAC-SHA256}` with the decoded key.
pub fn authorization(account: &str, key: &[u8], date: &str) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key size");
    m.update(string_to_sign(account, date).as_bytes());
    format!(
        "SharedKey {account}:{}",
        STANDARD.encode(m.finalize().into_bytes())
    )
}

fn xml_code(body: &str) -> Option<&str> {
    let start = body.find("<Code>")? + "<Code>".len();
    let end = start + body[start..].find("</Code>")?;
    Some(&body[start..end])
}

pub fn classify(resp: &Resp) -> Verification {
    let code = xml_code(&resp.body).unwrap_or("");
    match (resp.status, code) {
        (200, _) if resp.body.contains("StorageServiceProperties") => {
            live("ok: service properties read")
        }
        (200, _) => unknown("unparseable: HTTP 200 without service properties"),
        (403, "AuthenticationFailed") => dead("AuthenticationFailed: key refused"),
        // Network rules, missing permission: authenticated or not, we can't tell.
        (403, c) => unknown(format!(
            "HTTP 403 {}: refused by the account's rules, not for the key",
            leakscan_scanner::sanitize::sanitize(c)
        )),
        (429, _) | (503, "ServerBusy") => unknown("throttled"),
        (s, c) => unknown(format!(
            "HTTP {s} {}",
            leakscan_scanner::sanitize::sanitize(c)
        )),
    }
}

pub fn verify(f: &Finding, ctx: &Ctx<'_>) -> Verification {
    let raw = f.raw.expose_str();
    let Ok(key) = STANDARD.decode(raw.trim()) else {
        return skipped("the account key is not base64");
    };
    let first = |k: &str| f.context.get(k).and_then(|v| v.first()).cloned();
    let Some(account) = first(AZURE_STORAGE_ACCOUNT).filter(|a| {
        (3..=24).contains(&a.len())
            && a.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    }) else {
        return skipped("no storage account name (AccountName=…) found beside the key");
    };
    let suffix = first(AZURE_STORAGE_SUFFIX)
        .filter(|s| AZURE_STORAGE_SUFFIXES.contains(&s.as_str()))
        .unwrap_or_else(|| AZURE_STORAGE_SUFFIXES[0].to_string());
    let base = match ctx.opts.endpoints.get(AZURE_STORAGE) {
        Some(o) => o.to_string(),
        None => format!("https://{account}.blob.{suffix}"),
    };
    let url = format!("{base}/?restype=service&comp=properties");
    let date = http_date(crate::verdict::now_secs());
    let req = Req::get(url.clone(), url)
        .header("x-ms-date", date.clone())
        .header("x-ms-version", API_VERSION.into())
        .header("Authorization", authorization(&account, &key, &date));
    match ctx.send_to(AZURE_STORAGE, req) {
        Ok(r) => {
            let mut v = classify(&r);
            if v.status == leakscan_scanner::finding::VerifyStatus::Live {
                v.detail.push_str(&format!(" (account {account})"));
                v.access = vec![format!("storage account {account}.blob.{suffix}")];
            }
            v
        }
        Err(t) => unknown(t.detail()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_signature_shape() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_796_644_800), "Mon, 07 Dec 2026 12:00:00 GMT");
        let s = string_to_sign("acct", "D");
        assert!(
            s.starts_with("GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:D\n"),
            "{s:?}"
        );
        assert!(s.ends_with("/acct/\ncomp:properties\nrestype:service"));
        // Known HMAC: key "key", fixed date.
        let a = authorization("acct", b"key", "Mon, 07 Dec 2026 12:00:00 GMT");
        assert!(a.starts_with("SharedKey acct:") && a.len() == "SharedKey acct:".len() + 44);
    }
}
