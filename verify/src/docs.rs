//! The README's table of verified providers: the flows with their own
//! module are described here, the table verifiers by their specs.

use crate::table;

/// (verifier, provider, request, what it reports as access) of the flows
/// with their own module, for the README.
pub const FLOW_DOCS: &[(&str, &str, &str, &str)] = &[
    (
        "entra",
        "Microsoft Entra ID (client secret)",
        "POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token (client credentials; national clouds chosen among compiled-in hosts)",
        "application permissions (`roles` of the token obtained, then dropped)",
    ),
    (
        "entra-cert",
        "Microsoft Entra ID (certificate)",
        "same, with a signed client assertion (RS256 + x5t, then PS256 + x5t#S256)",
        "application permissions (`roles`)",
    ),
    (
        "assertion",
        "signed assertions (JWT)",
        "none offline (expired: dead; unexpired: unknown); with --verify-replay-assertions POST to its allowlisted Entra token endpoint",
        "with --verify-replay-assertions: application permissions (`roles`)",
    ),
    (
        "google",
        "Google Cloud (service-account key)",
        "POST https://oauth2.googleapis.com/token (JWT bearer grant)",
        "-",
    ),
    (
        "google-oauth",
        "Google (OAuth client secret)",
        "POST https://oauth2.googleapis.com/token (authorization code probe with a random code)",
        "-",
    ),
    (
        "google-api-key",
        "Google API key",
        "none: skipped (no read-only identity check; calls may spend the owner's quota)",
        "-",
    ),
    (
        "github",
        "GitHub",
        "GET https://api.github.com/rate_limit",
        "token scopes (X-OAuth-Scopes)",
    ),
    (
        "gitlab",
        "GitLab",
        "GET https://gitlab.com/api/v4/user",
        "-",
    ),
    (
        "slack",
        "Slack (token)",
        "POST https://slack.com/api/auth.test",
        "team, scopes (X-OAuth-Scopes)",
    ),
    (
        "slack-webhook",
        "Slack (webhook)",
        "POST https://hooks.slack.com/services/… with an empty body (refused, nothing posted)",
        "-",
    ),
    (
        "stripe",
        "Stripe",
        "GET https://api.stripe.com/v1/charges?limit=1",
        "live or test mode, restricted key",
    ),
    (
        "aws",
        "AWS",
        "POST https://sts.amazonaws.com/ GetCallerIdentity (SigV4), one request per key id found beside the secret (at most 4), never retried",
        "caller ARN",
    ),
    (
        "azure-storage",
        "Azure Storage",
        "GET https://{account}.blob.{core.windows.net|national suffix}/?restype=service&comp=properties (SharedKey HMAC; the key is never sent)",
        "storage account",
    ),
];

/// The README's table of verified providers (a test keeps it current).
pub fn readme_table() -> String {
    let mut rows: Vec<(String, String, String, String)> = FLOW_DOCS
        .iter()
        .map(|(n, p, r, a)| (p.to_string(), n.to_string(), r.to_string(), a.to_string()))
        .collect();
    for s in table::SPECS {
        let mut req = s.request_line();
        match s.auth {
            table::Auth::Bearer => req.push_str(" (Bearer)"),
            table::Auth::Header(h, _) => req.push_str(&format!(" ({h} header)")),
            table::Auth::BasicPassword(_) | table::Auth::BasicContextUser(_) => {
                req.push_str(" (Basic)")
            }
            table::Auth::InPath => req.push_str(" (token in path)"),
            table::Auth::Query(q) => req.push_str(&format!(" ({q} query)")),
        }
        if let Some(b) = s.body {
            req.push_str(&format!(" body `{b}`"));
        }
        let access = if s.access.is_empty() {
            "-".to_string()
        } else {
            s.access
                .iter()
                .map(|a| {
                    let field = a
                        .trim_start_matches('/')
                        .replace("/*/", "[].")
                        .replace('/', ".");
                    format!("`{field}`")
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        rows.push((s.provider.into(), s.id.into(), req, access));
    }
    rows.sort_by_key(|r| (r.0.to_lowercase(), r.1.clone()));
    let mut out = format!(
        "{} verifiers.\n\n| provider | verifier | request | access reported |\n| --- | --- | --- | --- |\n",
        rows.len()
    );
    for (p, n, r, a) in rows {
        let esc = |s: &str| s.replace('|', "\\|");
        out.push_str(&format!(
            "| {} | `{n}` | {} | {} |\n",
            esc(&p),
            esc(&r),
            esc(&a)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::FLOW_DOCS;

    /// Every verifier with its own module has its README row, and every
    /// row names one (the table verifiers' rows come from their specs).
    #[test]
    fn every_flow_verifier_is_documented() {
        let mut documented: Vec<&str> = FLOW_DOCS.iter().map(|d| d.0).collect();
        let mut flows = crate::FLOW_VERIFIERS.to_vec();
        documented.sort_unstable();
        flows.sort_unstable();
        assert_eq!(documented, flows);
        for (name, provider, request, access) in FLOW_DOCS {
            assert!(
                !provider.is_empty() && !request.is_empty() && !access.is_empty(),
                "{name}"
            );
        }
    }

    /// The README table has one row per verifier.
    #[test]
    fn readme_table_has_a_row_per_verifier() {
        let table = super::readme_table();
        for name in crate::verifier_names() {
            assert!(table.contains(&format!("| `{name}` |")), "{name}");
        }
        let rows = table
            .lines()
            .filter(|l| {
                l.starts_with("| ") && !l.starts_with("| provider") && !l.starts_with("| ---")
            })
            .count();
        assert_eq!(rows, crate::verifier_names().len());
    }
}
