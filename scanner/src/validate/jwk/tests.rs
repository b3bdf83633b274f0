//! Unit tests of the `jwk` validators (fake credentials live here, where
//! the project's own scan allows them).

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
    let bare_oct = r#"{"kty":"oct","k":"sTBpI_oCHSyW-n0exSwhzNHwU9FGRioPauxWA84bnRU"}"#;
    assert!(jwk_private(bare_oct.as_bytes()).is_err());
    let used_oct =
        r#"{"kty":"oct","kid":"hmac-1","k":"sTBpI_oCHSyW-n0exSwhzNHwU9FGRioPauxWA84bnRU"}"#;
    assert!(jwk_private(used_oct.as_bytes()).is_ok());
    let short = EC.replace("0sBFnK36TNSg9MVCjg7jNJaeZ1qH18j4Cet99bk1ZrQ", "c2hvcnQ");
    assert!(jwk_private(short.as_bytes()).is_err());
}
