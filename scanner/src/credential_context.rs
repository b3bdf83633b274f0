//! Non-secret context a verifier needs, taken from the blob a credential was
//! found in (and, for directory scans, known configuration files beside it):
//! Entra client and tenant ids and cloud, certificates beside a key, Google
//! service-account ids, AWS key ids. Values only ever fill path segments or
//! choose among compiled-in hosts; nothing here becomes a URL.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;

use crate::finding::Finding;

/// Context keys this module fills.
pub const CLIENT_ID: &str = "client_id";
pub const TENANT: &str = "tenant";
pub const ENTRA_HOST: &str = "entra_host";
pub const CERT_PEM: &str = "cert_pem";
pub const GOOGLE_CLIENT_EMAIL: &str = "google_client_email";
pub const GOOGLE_PRIVATE_KEY_ID: &str = "google_private_key_id";
pub const GOOGLE_CLIENT_ID: &str = "google_client_id";
pub const AWS_ACCESS_KEY_ID: &str = "aws_access_key_id";
/// A credential owner's host under a provider's documented suffix (Okta
/// org, Shopify store, Databricks workspace); table verifiers re-check the
/// suffix at a label boundary before using one.
pub const OWNER_HOST: &str = "owner_host";
pub const TWILIO_ACCOUNT_SID: &str = "twilio_account_sid";
pub const AZURE_STORAGE_ACCOUNT: &str = "azure_storage_account";
/// `core.windows.net` and the national clouds' suffixes only.
pub const AZURE_STORAGE_SUFFIX: &str = "azure_storage_suffix";

/// Entra authority hosts a context value may choose among (the public
/// cloud and the national clouds). The verify crate's compiled-in Entra
/// endpoints are keyed by these same hosts; a test there keeps them equal.
pub const ENTRA_HOSTS: &[&str] = &[
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.partner.microsoftonline.cn",
    "login.chinacloudapi.cn",
];

/// Storage endpoint suffixes a connection string may choose among.
pub const AZURE_STORAGE_SUFFIXES: &[&str] = &[
    "core.windows.net",
    "core.usgovcloudapi.net",
    "core.chinacloudapi.cn",
];

/// Only the first MiB of a blob is searched for context.
const CONTEXT_LIMIT: usize = 1024 * 1024;
/// Neighbouring files read at most, and their size cap.
const MAX_NEIGHBOURS: usize = 32;
const NEIGHBOUR_LIMIT: u64 = 256 * 1024;

const GUID: &str = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

struct Patterns {
    client: Regex,
    tenant: Regex,
    authority: Regex,
    host: Regex,
    cert: Regex,
    email: Regex,
    key_id: Regex,
    google_client: Regex,
    aws_key: Regex,
    owner_host: Regex,
    twilio_sid: Regex,
    storage_account: Regex,
    storage_url: Regex,
    storage_suffix: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("context pattern compiles");
        Patterns {
            client: re(&format!(
                r#"(?i)\b(?:AZURE_CLIENT_ID|ARM_CLIENT_ID|client[_-]?id|app[_-]?id|application[_-]?id)["']?\s*[:=]\s*["']?({GUID})"#
            )),
            tenant: re(&format!(
                r#"(?i)\b(?:AZURE_TENANT_ID|ARM_TENANT_ID|tenant[_-]?id|tenant|directory[_-]?id|domain)["']?\s*[:=]\s*["']?({GUID}|[a-z0-9-]{{1,63}}\.onmicrosoft\.com)"#
            )),
            authority: re(&format!(
                r"(?i)https://(login\.microsoftonline\.com|login\.microsoftonline\.us|login\.partner\.microsoftonline\.cn|login\.chinacloudapi\.cn|login\.windows\.net|sts\.windows\.net)/({GUID}|[a-z0-9-]{{1,63}}\.onmicrosoft\.com)\b"
            )),
            host: re(
                r#"(?i)\b(?:Instance|AZURE_AUTHORITY_HOST|activeDirectoryEndpointUrl|authority|authorityHost)["']?\s*[:=]\s*["']?https://([a-z0-9.-]+)"#,
            ),
            cert: re(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s\\n]+?-----END CERTIFICATE-----"),
            email: re(r#""client_email"\s*:\s*"([A-Za-z0-9._%+-]{1,128}@[A-Za-z0-9.-]{1,128})""#),
            key_id: re(r#""private_key_id"\s*:\s*"([0-9a-f]{40})""#),
            google_client: re(r"\b([0-9]{5,20}-[a-z0-9]{20,40}\.apps\.googleusercontent\.com)\b"),
            aws_key: re(r"\b((?:AKIA|ASIA)[A-Z2-7]{16})\b"),
            owner_host: re(
                r"(?i)\b((?:[a-z0-9-]{1,63}\.){1,4}(?:okta\.com|oktapreview\.com|okta-emea\.com|myshopify\.com|cloud\.databricks\.com|azuredatabricks\.net|gcp\.databricks\.com))\b",
            ),
            twilio_sid: re(r"\b(AC[0-9a-f]{32})\b"),
            storage_account: re(
                r#"(?i)(?:AccountName|AZURE_STORAGE_ACCOUNT(?:_NAME)?|storage_?account(?:_?name)?)["']?\s{0,2}[:=]\s{0,2}["']?([a-z0-9]{3,24})\b"#,
            ),
            storage_url: re(r"(?i)https://([a-z0-9]{3,24})\.(?:blob|queue|table|file|dfs)\.core\.windows\.net\b"),
            storage_suffix: re(r"(?i)EndpointSuffix\s{0,2}=\s{0,2}(core\.windows\.net|core\.usgovcloudapi\.net|core\.chinacloudapi\.cn)\b"),
        }
    })
}

fn push(map: &mut BTreeMap<String, Vec<String>>, key: &str, value: String) {
    let v = map.entry(key.to_string()).or_default();
    if !v.contains(&value) {
        v.push(value);
    }
}

/// Context found in one blob. `path` is used for nothing but future
/// format-specific choices; the bytes decide.
pub fn extract(_path: &str, data: &[u8]) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let data = &data[..data.len().min(CONTEXT_LIMIT)];
    if data.contains(&0) {
        return out; // binary (a keystore): nothing to read
    }
    let text = String::from_utf8_lossy(data);
    let p = patterns();
    for c in p.authority.captures_iter(&text) {
        let host = c[1].to_ascii_lowercase();
        let host = match host.as_str() {
            "login.windows.net" | "sts.windows.net" => "login.microsoftonline.com".to_string(),
            _ => host,
        };
        push(&mut out, ENTRA_HOST, host);
        push(&mut out, TENANT, c[2].to_ascii_lowercase());
    }
    for c in p.tenant.captures_iter(&text) {
        push(&mut out, TENANT, c[1].to_ascii_lowercase());
    }
    for c in p.client.captures_iter(&text) {
        push(&mut out, CLIENT_ID, c[1].to_ascii_lowercase());
    }
    for c in p.host.captures_iter(&text) {
        let host = c[1].trim_end_matches('.').to_ascii_lowercase();
        // Only choose among compiled-in hosts; anything else is ignored.
        if ENTRA_HOSTS.contains(&host.as_str()) {
            push(&mut out, ENTRA_HOST, host);
        }
    }
    for m in p.cert.find_iter(&text) {
        push(&mut out, CERT_PEM, m.as_str().replace("\\n", "\n"));
    }
    for c in p.email.captures_iter(&text) {
        push(&mut out, GOOGLE_CLIENT_EMAIL, c[1].to_string());
    }
    for c in p.key_id.captures_iter(&text) {
        push(&mut out, GOOGLE_PRIVATE_KEY_ID, c[1].to_string());
    }
    for c in p.google_client.captures_iter(&text) {
        push(&mut out, GOOGLE_CLIENT_ID, c[1].to_string());
    }
    for c in p.aws_key.captures_iter(&text) {
        push(&mut out, AWS_ACCESS_KEY_ID, c[1].to_string());
    }
    for c in p.owner_host.captures_iter(&text) {
        push(&mut out, OWNER_HOST, c[1].to_ascii_lowercase());
    }
    for c in p.twilio_sid.captures_iter(&text) {
        push(&mut out, TWILIO_ACCOUNT_SID, c[1].to_string());
    }
    for c in p.storage_account.captures_iter(&text) {
        push(&mut out, AZURE_STORAGE_ACCOUNT, c[1].to_ascii_lowercase());
    }
    for c in p.storage_url.captures_iter(&text) {
        push(&mut out, AZURE_STORAGE_ACCOUNT, c[1].to_ascii_lowercase());
    }
    for c in p.storage_suffix.captures_iter(&text) {
        push(&mut out, AZURE_STORAGE_SUFFIX, c[1].to_ascii_lowercase());
    }
    out
}

/// Merges `extra` into a finding's context (values deduplicated).
pub fn merge(into: &mut BTreeMap<String, Vec<String>>, extra: BTreeMap<String, Vec<String>>) {
    for (k, vs) in extra {
        for v in vs {
            push(into, &k, v);
        }
    }
}

/// Configuration files whose context applies to a credential beside them.
fn is_known_neighbour(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == ".env"
        || n.starts_with(".env.")
        || n.ends_with(".env")
        || (n.starts_with("appsettings") && n.ends_with(".json"))
        || n == "local.settings.json"
        || (n.starts_with("azure") && n.ends_with(".json"))
        || (n.starts_with("msal") && n.ends_with(".json"))
        || n == "config.json"
        || n == "credentials.json"
        || n.ends_with(".pem")
        || n.ends_with(".crt")
        || n.ends_with(".cer")
}

/// Adds context from known configuration files in the finding's directory
/// (only when the finding's path is a file on disk: `dir` scans).
pub fn add_neighbours(f: &mut Finding) {
    let path = Path::new(&f.path);
    if !path.is_file() {
        return;
    }
    let Some(dir) = path.parent() else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<_> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| e.file_name().to_str().is_some_and(is_known_neighbour))
        .map(|e| e.path())
        .filter(|p| p.as_path() != path)
        .collect();
    names.sort();
    for p in names.into_iter().take(MAX_NEIGHBOURS) {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if meta.len() > NEIGHBOUR_LIMIT {
            continue;
        }
        if let Ok(data) = std::fs::read(&p) {
            let extra = extract(&p.to_string_lossy(), &data);
            merge(&mut f.context, extra);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appsettings_env_and_cli_json() {
        let appsettings = br#"{"AzureAd": {"Instance": "https://login.microsoftonline.us/",
            "TenantId": "11111111-2222-3333-4444-555555555555",
            "ClientId": "AAAAAAAA-2222-3333-4444-555555555555"}}"#;
        let c = extract("appsettings.json", appsettings);
        assert_eq!(c[TENANT], vec!["11111111-2222-3333-4444-555555555555"]);
        assert_eq!(c[CLIENT_ID], vec!["aaaaaaaa-2222-3333-4444-555555555555"]);
        assert_eq!(c[ENTRA_HOST], vec!["login.microsoftonline.us"]);

        let env = b"AZURE_CLIENT_ID=99999999-2222-3333-4444-555555555555\nAZURE_TENANT_ID=contoso.onmicrosoft.com\n";
        let c = extract(".env", env);
        assert_eq!(c[TENANT], vec!["contoso.onmicrosoft.com"]);
        assert_eq!(c[CLIENT_ID].len(), 1);

        let cli = br#"{"appId": "99999999-2222-3333-4444-555555555555", "tenant": "88888888-2222-3333-4444-555555555555"}"#;
        let c = extract("sp.json", cli);
        assert_eq!(c[CLIENT_ID], vec!["99999999-2222-3333-4444-555555555555"]);
        assert_eq!(c[TENANT], vec!["88888888-2222-3333-4444-555555555555"]);
    }

    #[test]
    fn foreign_hosts_are_never_context() {
        let c = extract(
            "x.json",
            br#"{"Instance": "https://evil.example.net/", "authority": "https://login.microsoftonline.com.evil.net/"}"#,
        );
        assert!(!c.contains_key(ENTRA_HOST), "{c:?}");
        let c = extract(
            "y",
            b"authority = https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0",
        );
        assert_eq!(c[TENANT], vec!["contoso.onmicrosoft.com"]);
        assert_eq!(c[ENTRA_HOST], vec!["login.microsoftonline.com"]);
    }
}
