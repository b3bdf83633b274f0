//! Unit tests of the `keys` validators (fake credentials live here, where
//! the project's own scan allows them).

use super::*;

const EC_SEC1: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEINLARZyt+kzUoPTFQo4O4zSWnmdah9fI+AnrvfW5NWa0oAoGCCqGSM49
AwEHoUQDQgAEecVapPe2ET/mRo320JTsIMFV3+Xlp3gW5R4hswKJx2HoIqTQ3fz/
RZxIsxPWuiZiPxRtl0j9frVuB1W4ivL9uw==
-----END EC PRIVATE KEY-----";
const ED_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIDeeYclTkHZt7GbWucD59WxfsS54m0yOXPttPebyVpvA
-----END PRIVATE KEY-----";
const OPENSSH: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBqGLwORGED8l1rnfbw4ar33aKGnIRdYffcksIuAj1GZAAAAJg9at0APWrd
AAAAAAtzc2gtZWQyNTUxOQAAACBqGLwORGED8l1rnfbw4ar33aKGnIRdYffcksIuAj1GZA
AAAEB5xwQ0IFscX97d04JgvIPmWNGAS5WudHYdRj2Ml5bPMWoYvA5EYQPyXWud9vDhqvfd
ooachF1h99ySwi4CPUZkAAAAFGRlcGxveUBsZWFrc2Nhbi10ZXN0AQ==
-----END OPENSSH PRIVATE KEY-----";

fn kind(v: &Validated) -> &str {
    v.details["key_type"].as_str().unwrap()
}

#[test]
fn pem_kinds_are_reported() {
    assert_eq!(kind(&pem_private_key(EC_SEC1.as_bytes()).unwrap()), "EC");
    assert_eq!(
        kind(&pem_private_key(ED_PKCS8.as_bytes()).unwrap()),
        "Ed25519"
    );
    let v = pem_private_key(OPENSSH.as_bytes()).unwrap();
    assert_eq!(kind(&v), "ssh-ed25519");
    assert_eq!(v.details["encrypted"], json!(false));
}

#[test]
fn json_escaped_and_concatenated_bodies_decode() {
    let json = EC_SEC1.replace('\n', "\\n");
    assert!(pem_private_key(json.as_bytes()).is_ok());
    let concat = EC_SEC1
        .lines()
        .map(|l| format!("\"{l}\\n\" +"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(pem_private_key(concat.as_bytes()).is_ok(), "{concat}");
    let yaml = EC_SEC1
        .lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(pem_private_key(yaml.as_bytes()).is_ok());
}

#[test]
fn elided_truncated_and_corrupt_keys_are_rejected() {
    let elided =
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n...\n-----END RSA PRIVATE KEY-----";
    assert!(pem_private_key(elided.as_bytes()).is_err());
    let truncated: String = EC_SEC1
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    assert!(pem_private_key(truncated.as_bytes()).is_err());
    // A public key's DER under a private label.
    let public = "-----BEGIN PRIVATE KEY-----\nMCowBQYDK2VwAyEAahi8DkRhA/Jda5328OGq992ihpyEXWH33JLCLgI9RmQ=\n-----END PRIVATE KEY-----";
    assert!(pem_private_key(public.as_bytes()).is_err());
    let corrupt = OPENSSH.replace("AAAAJg9at0APWrd", "AAAAJg9at0APWre");
    assert!(pem_private_key(corrupt.as_bytes()).is_err());
}

#[test]
fn base64_wrapped_pem() {
    let wrapped = B64.encode(format!("{EC_SEC1}\n"));
    let v = base64_pem_private_key(wrapped.as_bytes()).unwrap();
    assert_eq!(v.details["key_type"], json!("EC"));
    let public = B64.encode("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAahi8DkRhA/Jda5328OGq992ihpyEXWH33JLCLgI9RmQ=\n-----END PUBLIC KEY-----\n");
    assert!(base64_pem_private_key(public.as_bytes()).is_err());
}

#[test]
fn crc24_known_value() {
    // RFC 4880's CRC-24 of the empty input is its initial value.
    assert_eq!(crc24(b""), 0xB704CE);
    assert_ne!(crc24(b"a"), crc24(b"b"));
}

#[test]
fn service_account_needs_its_type() {
    let key = ED_PKCS8.replace('\n', "\\n");
    let doc = format!(
        "{{\"type\": \"service_account\", \"project_id\": \"p\", \"private_key_id\": \"abc\", \"private_key\": \"{key}\\n\", \"client_email\": \"svc@p.iam.gserviceaccount.com\"}}"
    );
    let start = doc.find("-----BEGIN").unwrap();
    let end = doc.find("-----END PRIVATE KEY-----").unwrap() + 25;
    let c = Candidate {
        start,
        end,
        match_start: start,
        match_end: end,
    };
    let v = gcp_service_account(doc.as_bytes(), &c).unwrap();
    assert_eq!(
        v.details["client_email"],
        json!("svc@p.iam.gserviceaccount.com")
    );
    assert_eq!(v.details["private_key_id"], json!("abc"));
    let other = doc.replace("service_account", "authorized_user");
    assert!(gcp_service_account(other.as_bytes(), &c).is_err());
}

// Exported by puttygen 0.78 (`-O private-sshcom`) from a throwaway key.
const SSH2: &str = r#"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----
Comment: "legacy-rsa-test"
P2/56wAAAi4AAAA3aWYtbW9kbntzaWdue3JzYS1wa2NzMS1zaGExfSxlbmNyeXB0e3JzYS
1wa2NzMXYyLW9hZXB9fQAAAARub25lAAAB3wAAAdsAAAARAQABAAAEAKDSuOgrAqtMML90
5ro/eQUAVvfgWYXnFZabGUiQzV1VgrEjM/eegJiuN1IkaB+ZQsn6usObeO9dzlmH8nN561
Gq6CV4zi9opufg0cpBenXUUObliQC8SDjTQzC2+DOSDW6KUHPKFFa8K4ZModX5+E4HPuGn
WijQyfIJ/lHpI9IFAAAEAKouhopyc6gVgst7gW3B9AGs8PvgRuxyacRGFk+tfJ8V4POrWb
qxAW5Sg05kA+bsdEwHk11hf8QK4u9DwqgPs8yrI8H364Z8N3L/uph+7qe8ojxxmBl2cxdY
Ytrf/0upv8peTlt3VzPy1YRlvtsoqu5/y2XuqwtTvQhb2rb2cBuJAAAB/RTQujfgleYNiA
DJ9DyQP5yLcFs2neTddpElWhRxj4CpFbxdqulwJyx9r+ZfEEP7YHjsJnDn075OhVpu+5AE
6FkAAAIAw16Y8jco0QpOWzKSep8qN+x8Fx65zXIMwZQS8cnQqpSYg3bMWcWv/WHDGoKbGj
c1z2z0gq88eNpfd+X15WVtLwAAAgDe/tmUrOmNEyyfGe571PF0qSOiVd2k14Dd/qrrwyEM
/spNsPsNJk5ACTQzTDYWVmxXR60YnreAPzv6JbhRdITH
---- END SSH2 ENCRYPTED PRIVATE KEY ----"#;

#[test]
fn ssh2_format_is_parsed() {
    let v = ssh2_private_key(SSH2.as_bytes()).unwrap();
    assert_eq!(v.details["key_type"], json!("RSA"));
    assert_eq!(v.details["encrypted"], json!(false));
    let cut: String = SSH2
        .lines()
        .filter(|l| !l.starts_with("1wa2"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(ssh2_private_key(cut.as_bytes()).is_err());
}
