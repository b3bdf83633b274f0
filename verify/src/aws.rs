//! AWS key pairs: STS `GetCallerIdentity`, signed with a hand-rolled SigV4
//! (HMAC-SHA256 chain), serialized per access key id (a key id tried with
//! different secrets in quick succession can give spurious signature errors).

use hmac::{Hmac, Mac};
use leakscan_scanner::credential_context::AWS_ACCESS_KEY_ID;
use leakscan_scanner::finding::{Finding, Verification, VerifyStatus};
use sha2::{Digest, Sha256};

use super::endpoints::Provider;
use super::http::{Req, Resp};
use crate::run::Ctx;
use crate::verdict::{dead, live, skipped, unknown};

const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key size");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// The SigV4 signing key: HMAC chain over date, region, service, `aws4_request`.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date);
    let k = hmac(&k, region);
    let k = hmac(&k, service);
    hmac(&k, "aws4_request")
}

/// One request to sign: headers `content-type`, `host`, `x-amz-date` only.
pub struct Signing<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub content_type: &'a str,
    pub body: &'a str,
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

impl Signing<'_> {
    pub fn canonical_request(&self) -> String {
        format!(
            "{}\n{}\n{}\ncontent-type:{}\nhost:{}\nx-amz-date:{}\n\ncontent-type;host;x-amz-date\n{}",
            self.method,
            self.path,
            self.query,
            self.content_type,
            self.host,
            self.amz_date,
            hex::encode(Sha256::digest(self.body.as_bytes()))
        )
    }

    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            &self.amz_date[..8],
            self.region,
            self.service
        )
    }

    pub fn string_to_sign(&self) -> String {
        format!(
            "AWS4-HMAC-SHA256\n{}\n{}\n{}",
            self.amz_date,
            self.scope(),
            hex::encode(Sha256::digest(self.canonical_request().as_bytes()))
        )
    }

    pub fn signature(&self, secret: &str) -> String {
        let key = signing_key(secret, &self.amz_date[..8], self.region, self.service);
        hex::encode(hmac(&key, &self.string_to_sign()))
    }

    pub fn authorization(&self, key_id: &str, secret: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential={key_id}/{}, SignedHeaders=content-type;host;x-amz-date, Signature={}",
            self.scope(),
            self.signature(secret)
        )
    }
}

fn amz_date_now() -> String {
    // rfc3339 gives 2026-11-27T11:00:00Z; SigV4 wants 20261127T110000Z.
    crate::verdict::rfc3339(crate::verdict::now_secs()).replace(['-', ':'], "")
}

fn xml_field(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = start + body[start..].find(&format!("</{name}>"))?;
    Some(body[start..end].chars().take(256).collect())
}

pub fn classify(resp: &Resp) -> Verification {
    let code = xml_field(&resp.body, "Code").unwrap_or_default();
    match (resp.status, code.as_str()) {
        (200, _) => {
            let arn = leakscan_scanner::sanitize::sanitize(
                &xml_field(&resp.body, "Arn").unwrap_or_default(),
            );
            let mut v = live(format!("ok: {arn}"));
            if !arn.is_empty() {
                v.access = vec![arn];
            }
            v
        }
        (403, "InvalidClientTokenId") => {
            dead("InvalidClientTokenId: key id unknown in the aws partition")
        }
        (403, "SignatureDoesNotMatch") => {
            unknown("SignatureDoesNotMatch: wrong secret for this key id?")
        }
        (403, "ExpiredToken") => dead("ExpiredToken"),
        (429, _) | (400, "Throttling") => unknown("throttled"),
        (s, c) => unknown(format!(
            "HTTP {s} {}",
            leakscan_scanner::sanitize::sanitize(c)
        )),
    }
}

fn check(key_id: &str, secret: &str, ctx: &Ctx<'_>) -> Verification {
    let base = ctx.opts.endpoints.base(Provider::Aws).to_string();
    let host = base
        .split("://")
        .nth(1)
        .unwrap_or("")
        .split('/')
        .next()
        .unwrap_or("")
        .to_string();
    let url = format!("{base}/");
    let amz_date = amz_date_now();
    let s = Signing {
        method: "POST",
        host: &host,
        path: "/",
        query: "",
        content_type: CONTENT_TYPE,
        body: BODY,
        amz_date: &amz_date,
        region: "us-east-1",
        service: "sts",
    };
    let req = Req {
        method: "POST",
        url: url.clone(),
        shown_url: url,
        headers: vec![
            ("Content-Type", CONTENT_TYPE.into()),
            ("X-Amz-Date", amz_date.clone()),
            ("Authorization", s.authorization(key_id, secret)),
        ],
        body: Some(BODY.as_bytes().to_vec()),
    };
    match ctx.send(Provider::Aws, req) {
        Ok(r) => classify(&r),
        Err(t) => unknown(t.detail()),
    }
}

/// Verifies a secret access key finding with the key ids found beside it.
pub fn verify(f: &Finding, ctx: &Ctx<'_>) -> Verification {
    let secret = f.raw.expose_str().into_owned();
    if secret.starts_with("AKIA") || secret.starts_with("ASIA") {
        return skipped("a key id alone cannot be verified; needs its secret access key");
    }
    let ids: Vec<String> = f
        .context
        .get(AWS_ACCESS_KEY_ID)
        .map(|v| {
            v.iter()
                .filter(|k| k.starts_with("AKIA"))
                .take(4)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return skipped("no long-term access key id (AKIA…) found beside the secret");
    }
    let mut last = unknown("not tried");
    for id in ids {
        // One request per (key id, secret) pair: a SignatureDoesNotMatch
        // is `unknown` as answered, never retried.
        let v = ctx.serialized(&id, || check(&id, &secret, ctx));
        if v.status == VerifyStatus::Live {
            let mut out = live(format!("{} (key id {id})", v.detail));
            out.access = v.access;
            return out;
        }
        last = v;
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published SigV4 example (IAM ListUsers, 2015-08-30).
    #[test]
    fn aws_published_example() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        assert_eq!(
            hex::encode(signing_key(secret, "20150830", "us-east-1", "iam")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        let s = Signing {
            method: "GET",
            host: "iam.amazonaws.com",
            path: "/",
            query: "Action=ListUsers&Version=2010-05-08",
            content_type: "application/x-www-form-urlencoded; charset=utf-8",
            body: "",
            amz_date: "20150830T123600Z",
            region: "us-east-1",
            service: "iam",
        };
        assert_eq!(
            hex::encode(Sha256::digest(s.canonical_request().as_bytes())),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        assert_eq!(
            s.signature(secret),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }
}
