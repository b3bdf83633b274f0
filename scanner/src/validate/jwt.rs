//! JWT decoding and classification (client assertion, ID or access token).
//! The token is decoded, never verified: header and claims must be JSON
//! objects, the algorithm a signing one, and the signature the size that
//! algorithm produces, so unsigned, truncated and made-up tokens fall out.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::{Candidate, Validated, Verdict};

/// Signature sizes in bytes that `alg` can produce.
fn signature_fits(alg: &str, len: usize) -> bool {
    match alg {
        "HS256" => len == 32,
        "HS384" => len == 48,
        "HS512" => len == 64,
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => {
            (128..=1024).contains(&len) && len.is_multiple_of(64)
        }
        "ES256" | "ES256K" => len == 64,
        "ES384" => len == 96,
        "ES512" => len == 132,
        "EdDSA" | "Ed25519" => len == 64 || len == 114,
        "Ed448" => len == 114,
        _ => false,
    }
}

/// Claims of documentation tokens: the jwt.io debugger's (and the
/// tutorials copying it), Microsoft identity platform's sample ID token,
/// and tokens whose claims say EXAMPLE or name a documentation domain.
fn is_tutorial(claims: &Value) -> bool {
    let s = |k: &str| claims.get(k).and_then(Value::as_str);
    if s("sub") == Some("1234567890") && matches!(s("name"), Some("John Doe") | Some("Jane Doe")) {
        return true;
    }
    if s("name") == Some("Abe Lincoln") {
        return true;
    }
    let text = claims.to_string();
    text.contains("EXAMPLE")
        || ["example.com", "example.org", "example.net"]
            .iter()
            .any(|d| text.contains(d))
}

/// HMAC keys that documentation and tutorials sign their sample tokens
/// with: a token that verifies under one of them is an example, not a leak.
const TUTORIAL_HMAC_KEYS: &[&[u8]] = &[
    b"",
    b"secret",
    b"Secret",
    b"SECRET",
    b"key",
    b"password",
    b"changeme",
    b"test",
    b"shhhhh",
    b"shhhhhhared-secret",
    b"supersecret",
    b"super-secret",
    b"mysecret",
    b"my-secret",
    b"my_secret",
    b"my-secret-key",
    b"secretkey",
    b"secret-key",
    b"secret_key",
    b"SECRET_KEY",
    b"jwt-secret",
    b"jwt_secret",
    b"your-secret",
    b"your-secret-key",
    b"your_jwt_secret",
    b"your-256-bit-secret",
    b"your-384-bit-secret",
    b"your-512-bit-secret",
    b"a-string-secret-at-least-256-bits-long",
    // FastAPI's OAuth2 JWT tutorial (and the apps started from it).
    b"09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",
    // RFC 7515 appendix A.1 / RFC 7519 section 3.1 example key.
    &[
        3, 35, 53, 75, 43, 15, 165, 188, 131, 126, 6, 101, 119, 123, 166, 143, 90, 179, 40, 230,
        240, 84, 201, 40, 169, 15, 132, 178, 210, 80, 46, 191, 211, 251, 90, 146, 210, 6, 71, 239,
        150, 138, 180, 195, 119, 98, 61, 34, 61, 46, 33, 114, 5, 46, 79, 8, 192, 205, 154, 245,
        103, 208, 128, 163,
    ],
];

/// The tutorial key an HS256/384/512 token verifies under, if any.
fn tutorial_hmac_key(alg: &str, signing_input: &[u8], sig: &[u8]) -> Option<String> {
    use hmac::{Hmac, Mac};
    fn check<M: Mac + hmac::digest::KeyInit>(key: &[u8], input: &[u8], sig: &[u8]) -> bool {
        let Ok(mut m) = <M as hmac::digest::KeyInit>::new_from_slice(key) else {
            return false;
        };
        m.update(input);
        m.verify_slice(sig).is_ok()
    }
    TUTORIAL_HMAC_KEYS.iter().find_map(|key| {
        let ok = match alg {
            "HS256" => check::<Hmac<sha2::Sha256>>(key, signing_input, sig),
            "HS384" => check::<Hmac<sha2::Sha384>>(key, signing_input, sig),
            "HS512" => check::<Hmac<sha2::Sha512>>(key, signing_input, sig),
            _ => false,
        };
        ok.then(|| String::from_utf8_lossy(key).into_owned())
    })
}

/// Claims a real token carries at least one of; `{"some": "payload"}` and
/// other toy tokens carry none.
const IDENTITY_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "azp",
    "client_id",
    "scope",
    "scp",
    "roles",
    "role",
    "uid",
    "user_id",
    "userId",
    "email",
    "username",
    "tid",
    "oid",
    "sid",
    "upn",
    "appid",
    "preferred_username",
    "name",
    "id",
];

/// Decodes header and claims (without verifying), classifies the token and
/// records `alg`, `iss`, `aud`, `exp`, `expired`, `kind`.
pub(super) fn jwt(s: &[u8], data: &[u8], c: &Candidate) -> Verdict {
    let text = std::str::from_utf8(s).map_err(|_| "not UTF-8".to_string())?;
    let mut parts = text.split('.');
    let (Some(h), Some(p), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not three dot-separated parts".into());
    };
    let header: Value = decode_json(h).ok_or("header is not base64url JSON")?;
    let claims: Value = decode_json(p).ok_or("payload is not base64url JSON")?;
    if !header.is_object() || !claims.is_object() {
        return Err("header or claims are not JSON objects".into());
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or("header has no alg")?;
    if alg.eq_ignore_ascii_case("none") {
        return Err("unsigned token (alg none)".into());
    }
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| "signature is not base64url".to_string())?;
    if !signature_fits(alg, sig.len()) {
        return Err(format!(
            "a {} byte signature does not fit alg {alg}",
            sig.len()
        ));
    }
    if is_tutorial(&claims) {
        return Err("a documentation token (jwt.io, Microsoft docs, EXAMPLE claims)".into());
    }
    if !IDENTITY_CLAIMS.iter().any(|k| claims.get(k).is_some()) {
        return Err("no identity or registered claim (a toy token)".into());
    }
    let signing_input = &text[..h.len() + 1 + p.len()];
    if let Some(key) = tutorial_hmac_key(alg, signing_input.as_bytes(), &sig) {
        return Err(format!("signed with the tutorial key {key:?}"));
    }
    let mut d = BTreeMap::new();
    d.insert("alg".into(), json!(alg));
    for k in ["iss", "aud"] {
        if let Some(v) = claims.get(k) {
            d.insert(k.into(), v.clone());
        }
    }
    if let Some(typ) = header.get("typ") {
        d.insert("typ".into(), typ.clone());
    }
    if let Some(x5t) = header
        .get("kid")
        .or_else(|| header.get("x5t#S256"))
        .or_else(|| header.get("x5t"))
    {
        d.insert("key_id".into(), x5t.clone());
    }
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64) {
        d.insert("exp".into(), json!(exp));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        d.insert("expired".into(), json!(exp < now));
    }
    d.insert("kind".into(), json!(jwt_kind(&header, &claims, data, c)));
    Ok(Validated {
        details: d,
        display: None,
    })
}

pub(super) fn decode_json(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `client-assertion` (iss == sub and aud a token endpoint, or found next to
/// `client_assertion`), `grant-assertion` (a JWT-bearer grant: aud a token
/// endpoint, iss != sub, as Google service accounts send), `id-token`,
/// `access-token` or `other`.
pub(super) fn jwt_kind(header: &Value, claims: &Value, data: &[u8], c: &Candidate) -> &'static str {
    let iss = claims.get("iss").and_then(Value::as_str);
    let sub = claims.get("sub").and_then(Value::as_str);
    let aud_is_token_endpoint = match claims.get("aud") {
        Some(Value::String(a)) => is_token_endpoint(a),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(is_token_endpoint),
        _ => false,
    };
    let before = &data[c.match_start.saturating_sub(200)..c.match_start];
    let near_assertion =
        crate::bytes::memmem(&before.to_ascii_lowercase(), b"client_assertion").is_some();
    let has = |k: &str| claims.get(k).is_some();
    let typ = header
        .get("typ")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    if near_assertion || (iss.is_some() && iss == sub && aud_is_token_endpoint) {
        "client-assertion"
    } else if aud_is_token_endpoint && iss.is_some() {
        "grant-assertion"
    } else if typ == "at+jwt"
        || has("scp")
        || has("scope")
        || has("roles")
        || has("client_id")
        || (has("azp") && !has("nonce") && !has("at_hash"))
    {
        "access-token"
    } else if has("nonce")
        || has("at_hash")
        || has("c_hash")
        || has("auth_time")
        || (has("aud") && (has("preferred_username") || has("email") || has("name")))
    {
        "id-token"
    } else {
        "other"
    }
}

pub(super) fn is_token_endpoint(aud: &str) -> bool {
    let a = aud.to_ascii_lowercase();
    a.starts_with("https://") && (a.ends_with("/token") || a.contains("/token?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    fn token(header: Value, claims: Value, sig_len: usize) -> String {
        format!(
            "{}.{}.{}",
            b64(&header),
            b64(&claims),
            URL_SAFE_NO_PAD.encode(vec![0x5Au8; sig_len])
        )
    }

    fn check(t: &str, context: &str) -> Verdict {
        let data = format!("{context}{t}");
        let start = context.len();
        let c = Candidate {
            start,
            end: data.len(),
            match_start: start,
            match_end: data.len(),
        };
        jwt(t.as_bytes(), data.as_bytes(), &c)
    }

    #[test]
    fn client_assertion_is_classified_with_details() {
        let app = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
        let t = token(
            json!({"alg": "RS256", "typ": "JWT", "x5t": "dGVzdC10aHVtYnByaW50"}),
            json!({"iss": app, "sub": app, "exp": 1000,
                   "aud": "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"}),
            256,
        );
        let v = check(&t, "").unwrap();
        assert_eq!(v.details["kind"], json!("client-assertion"));
        assert_eq!(v.details["alg"], json!("RS256"));
        assert_eq!(v.details["expired"], json!(true));
        assert_eq!(v.details["exp"], json!(1000));
    }

    #[test]
    fn id_access_and_context_kinds() {
        let id = token(
            json!({"alg": "ES256"}),
            json!({"iss": "https://accounts.acme.test", "sub": "u1", "aud": "client", "nonce": "n"}),
            64,
        );
        assert_eq!(check(&id, "").unwrap().details["kind"], json!("id-token"));
        let at = token(
            json!({"alg": "HS256"}),
            json!({"iss": "https://issuer.test", "sub": "u1", "scp": "read"}),
            32,
        );
        assert_eq!(
            check(&at, "").unwrap().details["kind"],
            json!("access-token")
        );
        let other = token(json!({"alg": "HS256"}), json!({"sub": "u1"}), 32);
        assert_eq!(check(&other, "").unwrap().details["kind"], json!("other"));
        assert_eq!(
            check(&other, "client_assertion=").unwrap().details["kind"],
            json!("client-assertion")
        );
    }

    #[test]
    fn unsigned_malformed_and_tutorial_tokens_rejected() {
        for claims in [
            json!({"iss": "https://login.example.com", "sub": "u1"}),
            json!({"sub": "u1", "ctx": "EXAMPLEIDENTITYCONTEXT"}),
            json!({"sub": "u1", "name": "Abe Lincoln", "aud": "app"}),
        ] {
            let t = token(json!({"alg": "RS256"}), claims, 256);
            assert!(check(&t, "").unwrap_err().contains("documentation token"));
        }
        let none = token(json!({"alg": "none"}), json!({"sub": "u"}), 32);
        assert!(check(&none, "").is_err());
        let short_sig = token(json!({"alg": "RS256"}), json!({"sub": "u"}), 24);
        assert!(check(&short_sig, "").is_err());
        let not_object = format!(
            "{}.{}.{}",
            b64(&json!({"alg": "HS256"})),
            b64(&json!([1])),
            "A".repeat(43)
        );
        assert!(check(&not_object, "").is_err());
        let tutorial = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        assert!(check(tutorial, "").is_err());
        // PyJWT's README token: HS256 under "secret", toy claims.
        let readme = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzb21lIjoicGF5bG9hZCJ9.4twFt5NiznN84AWoo1d7KO1T_yoc0Z6XOpOVswacPZg";
        assert!(check(readme, "").is_err());
    }

    #[test]
    fn tokens_signed_with_tutorial_keys_rejected() {
        use hmac::{Hmac, Mac};
        let input = format!(
            "{}.{}",
            b64(&json!({"alg": "HS256", "typ": "JWT"})),
            b64(&json!({"sub": "svc", "iat": 1700000000}))
        );
        let sign = |key: &[u8]| {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            m.update(input.as_bytes());
            format!(
                "{input}.{}",
                URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
            )
        };
        assert!(check(&sign(b"your-256-bit-secret"), "").is_err());
        assert!(
            check(
                &sign(b"09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7"),
                ""
            )
            .is_err()
        );
        assert!(check(&sign(b"k7Qp2vX9mZ4rL8wT1nB6yH3cJ5dF0gS"), "").is_ok());
    }
}
