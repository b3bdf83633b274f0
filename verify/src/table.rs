//! Table-driven verifiers: one documented, read-only "who am I" (or token
//! introspection) request per provider, as data. Each [`Spec`] names the
//! compiled-in host (or, for owner-chosen hosts, the documented suffix the
//! host must sit under), the request, where the token goes, and how to read
//! the answer: 2xx with JSON → live, 401/403 → dead, 429/5xx and anything
//! else → unknown, with per-provider `markers` for answers that mean
//! something else than their status.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use leakscan_scanner::finding::{Finding, Verification, VerifyStatus};
use serde_json::Value;

use super::endpoints::key;
use super::http::{Req, Resp, pct};
use crate::run::Ctx;
use crate::verdict::{dead, live, skipped, unknown};

/// Where the token goes.
#[derive(Debug, Clone, Copy)]
pub enum Auth {
    /// `Authorization: Bearer {token}`.
    Bearer,
    /// `{header}: {prefix}{token}`.
    Header(&'static str, &'static str),
    /// HTTP Basic: this user name, the token as password.
    BasicPassword(&'static str),
    /// HTTP Basic: user name from the finding's context (this key, e.g. a
    /// Twilio account SID), the token as password; `{user}` in the path.
    BasicContextUser(&'static str),
    /// The token is part of the path (`{token}`).
    InPath,
    /// The token is this query parameter.
    Query(&'static str),
}

/// Where the request goes.
#[derive(Debug, Clone, Copy)]
pub enum Host {
    /// One compiled-in host.
    Fixed(&'static str),
    /// The provider's sites or regions, compiled in, tried in order until one
    /// does not refuse the credential (a key is refused by other sites).
    Sites(&'static [&'static str]),
    /// The credential owner's host (an Okta org, a Shopify store, a
    /// Databricks workspace), found beside the credential and accepted only
    /// as DNS labels under one of these documented suffixes.
    Owner(&'static [&'static str]),
    /// Mailchimp: `{dc}.api.mailchimp.com`, the data center from the key's
    /// `-usNN` suffix.
    MailchimpDc,
}

/// How a marker reads an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Authenticated, then refused for a missing permission or quota.
    Live,
    Dead,
    Unknown,
}

/// One table verifier.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The name rules use (`verify = "…"`); its override name is [`key`] of it.
    pub id: &'static str,
    pub provider: &'static str,
    pub host: Host,
    pub method: &'static str,
    /// Path and query, `{token}` and `{user}` filled with checked characters.
    pub path: &'static str,
    pub auth: Auth,
    pub headers: &'static [(&'static str, &'static str)],
    /// JSON body of a POST (GraphQL read queries).
    pub body: Option<&'static str>,
    /// Token prefixes this request is for (empty: any); others are skipped.
    pub prefixes: &'static [&'static str],
    /// Token prefixes this request is not for (admin keys...): skipped.
    pub not_prefixes: &'static [&'static str],
    /// Cut from the secret before use (webhook URLs: the path is reused on
    /// the compiled-in host); one must match when any is given.
    pub strip: &'static [&'static str],
    /// (status, body substring, reading), checked before the status rule.
    pub markers: &'static [(u16, &'static str, Mark)],
    /// A JSON pointer a 2xx answer must hold to be live (GraphQL answers
    /// 200 with errors).
    pub require: Option<&'static str>,
    /// (JSON pointer, value) that make a 2xx answer dead (disabled keys).
    pub dead_if: &'static [(&'static str, &'static str)],
    /// JSON pointers to who the credential is (the first found is shown).
    pub who: &'static [&'static str],
    /// JSON pointers to what it can reach (strings or lists; `*` walks a
    /// list of objects).
    pub access: &'static [&'static str],
    /// A 2xx body the provider sends (the stub tests answer with it).
    pub sample: &'static str,
}

const fn get(
    id: &'static str,
    provider: &'static str,
    host: &'static str,
    path: &'static str,
    auth: Auth,
) -> Spec {
    Spec {
        id,
        provider,
        host: Host::Fixed(host),
        method: "GET",
        path,
        auth,
        headers: &[],
        body: None,
        prefixes: &[],
        not_prefixes: &[],
        strip: &[],
        markers: &[],
        require: None,
        dead_if: &[],
        who: &[],
        access: &[],
        sample: "{}",
    }
}

impl Spec {
    const fn post(mut self, body: &'static str) -> Spec {
        self.method = "POST";
        self.body = Some(body);
        self
    }
    const fn host(mut self, host: Host) -> Spec {
        self.host = host;
        self
    }
    const fn headers(mut self, h: &'static [(&'static str, &'static str)]) -> Spec {
        self.headers = h;
        self
    }
    const fn prefixes(mut self, p: &'static [&'static str]) -> Spec {
        self.prefixes = p;
        self
    }
    const fn not_prefixes(mut self, p: &'static [&'static str]) -> Spec {
        self.not_prefixes = p;
        self
    }
    const fn strip(mut self, p: &'static [&'static str]) -> Spec {
        self.strip = p;
        self
    }
    const fn markers(mut self, m: &'static [(u16, &'static str, Mark)]) -> Spec {
        self.markers = m;
        self
    }
    const fn require(mut self, p: &'static str) -> Spec {
        self.require = Some(p);
        self
    }
    const fn dead_if(mut self, d: &'static [(&'static str, &'static str)]) -> Spec {
        self.dead_if = d;
        self
    }
    const fn who(mut self, w: &'static [&'static str]) -> Spec {
        self.who = w;
        self
    }
    const fn access(mut self, a: &'static [&'static str]) -> Spec {
        self.access = a;
        self
    }
    const fn sample(mut self, s: &'static str) -> Spec {
        self.sample = s;
        self
    }

    /// `METHOD https://host/path` as documented (owner hosts shown by suffix).
    pub fn request_line(&self) -> String {
        let host = match self.host {
            Host::Fixed(h) => h.to_string(),
            Host::Sites(hs) => hs.join(" | "),
            Host::Owner(s) => format!("{{owner}}.{}", s.join(" | {owner}.")),
            Host::MailchimpDc => "{dc}.api.mailchimp.com".to_string(),
        };
        let path = self.path.replace("{token}", "***");
        format!("{} https://{host}{path}", self.method)
    }
}

use Auth::*;

const JSON: &[(&str, &str)] = &[("Accept", "application/json")];

/// Every table verifier.
pub static SPECS: &[Spec] = &[
    // AI and model APIs: list models (free, read-only).
    get("openai", "OpenAI", "api.openai.com", "/v1/models", Bearer)
        .not_prefixes(&["sk-admin-"])
        // A project key without the models permission, or without credit.
        .markers(&[
            (401, "Missing scopes", Mark::Live),
            (403, "Missing scopes", Mark::Live),
            (429, "insufficient_quota", Mark::Live),
        ])
        .sample(r#"{"object":"list","data":[{"id":"gpt-4o","object":"model"}]}"#),
    get("anthropic", "Anthropic", "api.anthropic.com", "/v1/models", Header("x-api-key", ""))
        .headers(&[("anthropic-version", "2023-06-01")])
        .prefixes(&["sk-ant-api"])
        .sample(r#"{"data":[{"id":"claude-sonnet-4-5","type":"model"}],"has_more":false}"#),
    get("groq", "Groq", "api.groq.com", "/openai/v1/models", Bearer)
        .sample(r#"{"object":"list","data":[]}"#),
    get("xai", "xAI", "api.x.ai", "/v1/api-key", Bearer)
        .markers(&[(400, "Incorrect API key", Mark::Dead)])
        .dead_if(&[("/api_key_disabled", "true"), ("/api_key_blocked", "true")])
        .who(&["/name"])
        .access(&["/acls"])
        .sample(r#"{"name":"ci","acls":["api-key:model:*","api-key:endpoint:*"],"api_key_disabled":false,"api_key_blocked":false}"#),
    get("mistral", "Mistral AI", "api.mistral.ai", "/v1/models", Bearer)
        .sample(r#"{"object":"list","data":[]}"#),
    get("cohere", "Cohere", "api.cohere.com", "/v1/models", Bearer)
        .sample(r#"{"models":[]}"#),
    get("deepseek", "DeepSeek", "api.deepseek.com", "/models", Bearer)
        .sample(r#"{"object":"list","data":[]}"#),
    get("together", "Together AI", "api.together.xyz", "/v1/models", Bearer)
        .sample(r#"[]"#),
    get("openrouter", "OpenRouter", "openrouter.ai", "/api/v1/key", Bearer)
        .who(&["/data/label"])
        .sample(r#"{"data":{"label":"sk-or-v1-abc...","usage":0,"limit":null}}"#),
    get("replicate", "Replicate", "api.replicate.com", "/v1/account", Bearer)
        .who(&["/username"])
        .sample(r#"{"type":"user","username":"someone","name":"Someone"}"#),
    get("huggingface", "Hugging Face", "huggingface.co", "/api/whoami-v2", Bearer)
        .who(&["/name"])
        .access(&["/auth/accessToken/role"])
        .sample(r#"{"type":"user","name":"someone","auth":{"type":"access_token","accessToken":{"displayName":"ci","role":"read"}}}"#),
    get("elevenlabs", "ElevenLabs", "api.elevenlabs.io", "/v1/user", Header("xi-api-key", ""))
        .markers(&[(401, "missing_permissions", Mark::Live)])
        .sample(r#"{"subscription":{"tier":"free"},"is_new_user":false}"#),
    // Package registries and developer platforms.
    get("npm", "npm", "registry.npmjs.org", "/-/whoami", Bearer)
        .who(&["/username"])
        .sample(r#"{"username":"someone"}"#),
    get("rubygems", "RubyGems", "rubygems.org", "/api/v1/gems.json", Header("Authorization", ""))
        .prefixes(&["rubygems_"])
        .sample(r#"[]"#),
    get("azure-devops", "Azure DevOps", "app.vssps.visualstudio.com", "/_apis/profile/profiles/me?api-version=7.1", BasicPassword(""))
        .who(&["/emailAddress", "/displayName"])
        .sample(r#"{"displayName":"Someone","emailAddress":"someone@example.com","id":"x"}"#),
    get("circleci", "CircleCI", "circleci.com", "/api/v2/me", Header("Circle-Token", ""))
        .prefixes(&["CCIPAT_"])
        .who(&["/login"])
        .sample(r#"{"id":"x","login":"someone","name":"Someone"}"#),
    get("buildkite", "Buildkite", "api.buildkite.com", "/v2/access-token", Bearer)
        .who(&["/uuid"])
        .access(&["/scopes"])
        .sample(r#"{"uuid":"b63254c0-3271-4a98-8270-7cfbd6c2f14e","scopes":["read_builds","read_pipelines"]}"#),
    get("terraform-cloud", "HashiCorp Terraform Cloud", "app.terraform.io", "/api/v2/account/details", Bearer)
        .headers(&[("Content-Type", "application/vnd.api+json")])
        .who(&["/data/attributes/username"])
        .sample(r#"{"data":{"id":"user-1","type":"users","attributes":{"username":"someone"}}}"#),
    get("pulumi", "Pulumi", "api.pulumi.com", "/api/user", Header("Authorization", "token "))
        .headers(&[("Accept", "application/vnd.pulumi+8")])
        .who(&["/githubLogin", "/name"])
        .sample(r#"{"name":"Someone","githubLogin":"someone"}"#),
    get("postman", "Postman", "api.getpostman.com", "/me", Header("X-Api-Key", ""))
        .who(&["/user/username"])
        .sample(r#"{"user":{"id":1,"username":"someone"}}"#),
    get("snyk", "Snyk", "api.snyk.io", "/rest/self?version=2024-10-15", Header("Authorization", "token "))
        .headers(&[("Accept", "application/vnd.api+json")])
        .who(&["/data/attributes/username", "/data/attributes/email"])
        .sample(r#"{"data":{"id":"x","type":"user","attributes":{"username":"someone"}}}"#),
    get("sentry", "Sentry", "sentry.io", "/api/0/organizations/", Bearer)
        .prefixes(&["sntryu_"])
        .access(&["/*/slug"])
        .sample(r#"[{"id":"1","slug":"acme","name":"Acme"}]"#),
    get("figma", "Figma", "api.figma.com", "/v1/me", Header("X-Figma-Token", ""))
        .who(&["/handle", "/email"])
        .sample(r#"{"id":"1","handle":"someone","email":"someone@example.com"}"#),
    get("linear", "Linear", "api.linear.app", "/graphql", Header("Authorization", ""))
        .post(r#"{"query":"{ viewer { id name } }"}"#)
        .require("/data/viewer")
        .markers(&[(400, "AUTHENTICATION_ERROR", Mark::Dead)])
        .who(&["/data/viewer/name"])
        .sample(r#"{"data":{"viewer":{"id":"x","name":"Someone"}}}"#),
    // Cloud, hosting, data.
    get("digitalocean", "DigitalOcean", "api.digitalocean.com", "/v2/account", Bearer)
        .who(&["/account/email"])
        .sample(r#"{"account":{"email":"someone@example.com","status":"active"}}"#),
    get("heroku", "Heroku", "api.heroku.com", "/account", Bearer)
        .headers(&[("Accept", "application/vnd.heroku+json; version=3")])
        .who(&["/email"])
        .sample(r#"{"email":"someone@example.com","id":"x"}"#),
    get("cloudflare", "Cloudflare", "api.cloudflare.com", "/client/v4/user/tokens/verify", Bearer)
        .require("/result/status")
        .dead_if(&[("/result/status", "disabled"), ("/result/status", "expired")])
        .sample(r#"{"success":true,"result":{"id":"x","status":"active"},"errors":[],"messages":[]}"#),
    get("vercel", "Vercel", "api.vercel.com", "/v2/user", Bearer)
        .who(&["/user/username"])
        .sample(r#"{"user":{"id":"x","username":"someone"}}"#),
    get("netlify", "Netlify", "api.netlify.com", "/api/v1/user", Bearer)
        .who(&["/email"])
        .sample(r#"{"id":"x","email":"someone@example.com"}"#),
    get("render", "Render", "api.render.com", "/v1/owners?limit=1", Bearer)
        .who(&["/0/owner/name"])
        .sample(r#"[{"owner":{"id":"x","name":"Someone","type":"user"},"cursor":"c"}]"#),
    get("linode", "Linode (Akamai)", "api.linode.com", "/v4/profile", Bearer)
        .who(&["/username"])
        .sample(r#"{"username":"someone","email":"someone@example.com"}"#),
    get("vultr", "Vultr", "api.vultr.com", "/v2/account", Bearer)
        .who(&["/account/email"])
        .access(&["/account/acls"])
        .sample(r#"{"account":{"name":"Someone","email":"someone@example.com","acls":["manage_users","billing"]}}"#),
    get("supabase", "Supabase", "api.supabase.com", "/v1/projects", Bearer)
        .prefixes(&["sbp_"])
        .access(&["/*/name"])
        .sample(r#"[{"id":"x","name":"prod"}]"#),
    get("neon", "Neon", "console.neon.tech", "/api/v2/users/me", Bearer)
        .who(&["/email"])
        .sample(r#"{"id":"x","email":"someone@example.com"}"#),
    get("databricks", "Databricks", "", "/api/2.0/preview/scim/v2/Me", Bearer)
        .host(Host::Owner(&["cloud.databricks.com", "azuredatabricks.net", "gcp.databricks.com"]))
        .prefixes(&["dapi"])
        .who(&["/userName"])
        .sample(r#"{"userName":"someone@example.com","active":true}"#),
    get("doppler", "Doppler", "api.doppler.com", "/v3/me", Bearer)
        .who(&["/workplace/name", "/name"])
        .access(&["/type"])
        .sample(r#"{"name":"ci","type":"service_token","workplace":{"name":"Acme"}}"#),
    get("fastly", "Fastly", "api.fastly.com", "/tokens/self", Header("Fastly-Key", ""))
        .who(&["/name"])
        .access(&["/scope"])
        .sample(r#"{"id":"x","name":"ci","scope":"global:read purge_select"}"#),
    get("launchdarkly", "LaunchDarkly", "app.launchdarkly.com", "/api/v2/caller-identity", Header("Authorization", ""))
        .who(&["/tokenName"])
        .sample(r#"{"accountId":"x","tokenName":"ci","tokenKind":"api"}"#),
    // Observability.
    get("datadog", "Datadog", "", "/api/v1/validate", Header("DD-API-KEY", ""))
        .host(Host::Sites(&[
            "api.datadoghq.com",
            "api.us3.datadoghq.com",
            "api.us5.datadoghq.com",
            "api.datadoghq.eu",
            "api.ap1.datadoghq.com",
            "api.ap2.datadoghq.com",
            "api.ddog-gov.com",
        ]))
        .require("/valid")
        .dead_if(&[("/valid", "false")])
        .sample(r#"{"valid":true}"#),
    get("new-relic", "New Relic", "", "/graphql", Header("API-Key", ""))
        .host(Host::Sites(&["api.newrelic.com", "api.eu.newrelic.com"]))
        .post(r#"{"query":"{ actor { user { email } } }"}"#)
        .prefixes(&["NRAK-"])
        .require("/data/actor/user")
        .who(&["/data/actor/user/email"])
        .sample(r#"{"data":{"actor":{"user":{"email":"someone@example.com"}}}}"#),
    get("honeycomb", "Honeycomb", "api.honeycomb.io", "/1/auth", Header("X-Honeycomb-Team", ""))
        .who(&["/team/slug"])
        .sample(r#"{"id":"x","team":{"name":"Acme","slug":"acme"},"environment":{"slug":"prod"}}"#),
    get("pagerduty", "PagerDuty", "api.pagerduty.com", "/abilities", Header("Authorization", "Token token="))
        .headers(&[("Accept", "application/vnd.pagerduty+json;version=2")])
        .access(&["/abilities"])
        .sample(r#"{"abilities":["teams","read_only_users"]}"#),
    get("posthog", "PostHog", "", "/api/users/@me/", Bearer)
        .host(Host::Sites(&["us.posthog.com", "eu.posthog.com"]))
        .prefixes(&["phx_"])
        .who(&["/email"])
        .sample(r#"{"uuid":"x","email":"someone@example.com"}"#),
    // Messaging and email.
    get("sendgrid", "SendGrid", "api.sendgrid.com", "/v3/scopes", Bearer)
        .access(&["/scopes"])
        .sample(r#"{"scopes":["mail.send","user.profile.read"]}"#),
    get("mailgun", "Mailgun", "", "/v3/domains?limit=1", BasicPassword("api"))
        .host(Host::Sites(&["api.mailgun.net", "api.eu.mailgun.net"]))
        .sample(r#"{"total_count":1,"items":[{"name":"mg.example.com"}]}"#),
    get("mailchimp", "Mailchimp", "", "/3.0/", BasicPassword("leakscan"))
        .host(Host::MailchimpDc)
        .who(&["/account_name"])
        .sample(r#"{"account_id":"x","account_name":"Acme"}"#),
    get("brevo", "Brevo", "api.brevo.com", "/v3/account", Header("api-key", ""))
        .prefixes(&["xkeysib-"])
        .who(&["/email"])
        .sample(r#"{"email":"someone@example.com","companyName":"Acme"}"#),
    get("postmark", "Postmark", "api.postmarkapp.com", "/server", Header("X-Postmark-Server-Token", ""))
        .headers(JSON)
        .who(&["/Name"])
        .sample(r#"{"ID":1,"Name":"Production"}"#),
    get("resend", "Resend", "api.resend.com", "/domains", Bearer)
        .prefixes(&["re_"])
        // A sending-only key: authenticated, not allowed to list.
        .markers(&[(401, "restricted_api_key", Mark::Live)])
        .sample(r#"{"data":[]}"#),
    get("twilio", "Twilio", "api.twilio.com", "/2010-04-01/Accounts/{user}.json", BasicContextUser(leakscan_scanner::credential_context::TWILIO_ACCOUNT_SID))
        .who(&["/friendly_name"])
        .dead_if(&[("/status", "closed")])
        .sample(r#"{"sid":"AC00000000000000000000000000000000","friendly_name":"Acme","status":"active"}"#),
    get("telegram", "Telegram", "api.telegram.org", "/bot{token}/getMe", InPath)
        .require("/result")
        .who(&["/result/username"])
        .sample(r#"{"ok":true,"result":{"id":1,"is_bot":true,"username":"acme_bot"}}"#),
    get("discord", "Discord", "discord.com", "/api/v10/users/@me", Header("Authorization", "Bot "))
        .who(&["/username"])
        .sample(r#"{"id":"1","username":"acme-bot","bot":true}"#),
    get("discord-webhook", "Discord", "discord.com", "/api/webhooks/{token}", InPath)
        .strip(&[
            "https://discord.com/api/webhooks/",
            "https://discordapp.com/api/webhooks/",
            "https://ptb.discord.com/api/webhooks/",
            "https://canary.discord.com/api/webhooks/",
        ])
        .markers(&[(404, "Unknown Webhook", Mark::Dead)])
        .who(&["/name"])
        .sample(r#"{"id":"1","type":1,"name":"alerts","channel_id":"2","guild_id":"3"}"#),
    get("twitch", "Twitch", "id.twitch.tv", "/oauth2/validate", Header("Authorization", "OAuth "))
        .who(&["/login", "/client_id"])
        .access(&["/scopes"])
        .sample(r#"{"client_id":"x","login":"someone","scopes":["user:read:email"],"user_id":"1","expires_in":5000}"#),
    // SaaS and payments.
    get("notion", "Notion", "api.notion.com", "/v1/users/me", Bearer)
        .headers(&[("Notion-Version", "2022-06-28")])
        .who(&["/bot/workspace_name", "/name"])
        .sample(r#"{"object":"user","id":"x","name":"ci","type":"bot","bot":{"workspace_name":"Acme"}}"#),
    get("airtable", "Airtable", "api.airtable.com", "/v0/meta/whoami", Bearer)
        .prefixes(&["pat"])
        .who(&["/email", "/id"])
        .access(&["/scopes"])
        .sample(r#"{"id":"usrX","email":"someone@example.com","scopes":["data.records:read"]}"#),
    get("hubspot", "HubSpot", "api.hubapi.com", "/account-info/v3/details", Bearer)
        .prefixes(&["pat-"])
        .who(&["/portalId"])
        .sample(r#"{"portalId":123,"accountType":"STANDARD"}"#),
    get("asana", "Asana", "app.asana.com", "/api/1.0/users/me", Bearer)
        .who(&["/data/email"])
        .sample(r#"{"data":{"gid":"1","email":"someone@example.com"}}"#),
    get("intercom", "Intercom", "api.intercom.io", "/me", Bearer)
        .headers(JSON)
        .who(&["/email"])
        .sample(r#"{"type":"admin","id":"1","email":"someone@example.com"}"#),
    get("typeform", "Typeform", "api.typeform.com", "/me", Bearer)
        .prefixes(&["tfp_"])
        .who(&["/alias", "/email"])
        .sample(r#"{"alias":"someone","email":"someone@example.com"}"#),
    get("dropbox", "Dropbox", "api.dropboxapi.com", "/2/users/get_current_account", Bearer)
        .post("null")
        .prefixes(&["sl."])
        .who(&["/email"])
        .sample(r#"{"account_id":"dbid:x","email":"someone@example.com"}"#),
    get("contentful", "Contentful", "api.contentful.com", "/users/me", Bearer)
        .who(&["/email"])
        .sample(r#"{"sys":{"id":"x","type":"User"},"email":"someone@example.com"}"#),
    get("mapbox", "Mapbox", "api.mapbox.com", "/tokens/v2", Query("access_token"))
        .dead_if(&[("/code", "TokenInvalid"), ("/code", "TokenExpired"), ("/code", "TokenRevoked")])
        .who(&["/token/user"])
        .access(&["/token/scopes"])
        .sample(r#"{"code":"TokenValid","token":{"user":"someone","scopes":["styles:read","fonts:read"]}}"#),
    get("adafruit-io", "Adafruit IO", "io.adafruit.com", "/api/v2/user", Header("X-AIO-Key", ""))
        .who(&["/username"])
        .sample(r#"{"id":1,"username":"someone"}"#),
    get("square", "Square", "connect.squareup.com", "/v2/merchants/me", Bearer)
        .prefixes(&["EAAA", "sq0atp-"])
        .who(&["/merchant/business_name"])
        .sample(r#"{"merchant":{"id":"x","business_name":"Acme"}}"#),
    get("shopify", "Shopify", "", "/admin/oauth/access_scopes.json", Header("X-Shopify-Access-Token", ""))
        .host(Host::Owner(&["myshopify.com"]))
        .prefixes(&["shpat_", "shpca_", "shppa_"])
        .access(&["/access_scopes/*/handle"])
        .sample(r#"{"access_scopes":[{"handle":"read_products"},{"handle":"read_orders"}]}"#),
    get("okta", "Okta", "", "/api/v1/users/me", Header("Authorization", "SSWS "))
        .host(Host::Owner(&["okta.com", "oktapreview.com", "okta-emea.com"]))
        .headers(JSON)
        .who(&["/profile/login"])
        .sample(r#"{"id":"x","status":"ACTIVE","profile":{"login":"someone@example.com"}}"#),
];

/// The table verifier named `name`, if any.
pub fn find(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.id == name)
}

fn valid_label(l: &str) -> bool {
    (1..=63).contains(&l.len())
        && l.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !l.starts_with('-')
        && !l.ends_with('-')
}

/// Whether `host` is DNS labels ending in `.` + one of `suffixes` (a label
/// boundary: `evilokta.com` is not under `okta.com`).
pub fn owner_host_ok(host: &str, suffixes: &[&str]) -> bool {
    suffixes.iter().any(|s| {
        host.strip_suffix(s)
            .and_then(|p| p.strip_suffix('.'))
            .is_some_and(|labels| !labels.is_empty() && labels.split('.').all(valid_label))
    })
}

/// Text of a JSON value for display: strings, numbers and booleans.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn short(s: &str) -> String {
    let s = leakscan_scanner::sanitize::sanitize(s);
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

/// The strings at a pointer: a string, a list of strings, or with `*` the
/// field of each object in a list (`/access_scopes/*/handle`).
fn strings_at(v: &Value, pointer: &str) -> Vec<String> {
    if let Some((list, field)) = pointer.split_once("/*") {
        return v
            .pointer(list)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.pointer(field).and_then(text))
                    .collect()
            })
            .unwrap_or_default();
    }
    match v.pointer(pointer) {
        Some(Value::Array(a)) => a.iter().filter_map(text).collect(),
        Some(Value::String(s)) => s.split_whitespace().map(String::from).collect(),
        Some(x) => text(x).into_iter().collect(),
        None => Vec::new(),
    }
}

/// At most this many access entries are kept.
const ACCESS_LIMIT: usize = 24;

/// Reads one answer.
pub fn classify(spec: &Spec, resp: &Resp) -> Verification {
    for (status, needle, mark) in spec.markers {
        if resp.status == *status && resp.body.contains(needle) {
            let d = format!("HTTP {status} `{needle}`");
            return match mark {
                Mark::Live => live(format!(
                    "authenticated; refused for a permission or quota ({d})"
                )),
                Mark::Dead => dead(d),
                Mark::Unknown => unknown(d),
            };
        }
    }
    match resp.status {
        200..=299 => {
            let Some(v) = resp.json() else {
                return unknown(format!(
                    "unparseable: HTTP {} without a JSON answer",
                    resp.status
                ));
            };
            if let Some(p) = spec.require
                && v.pointer(p).is_none_or(Value::is_null)
            {
                return unknown(format!("unparseable: answer without `{p}`"));
            }
            for (p, want) in spec.dead_if {
                if v.pointer(p).and_then(text).is_some_and(|t| t == *want) {
                    return dead(format!(
                        "provider says {} = {want}",
                        p.trim_start_matches('/')
                    ));
                }
            }
            let mut d = String::from("ok");
            if let Some(w) = spec.who.iter().find_map(|p| v.pointer(p).and_then(text)) {
                d.push_str(&format!(": {}", short(&w)));
            }
            let mut out = live(d);
            let mut access: Vec<String> = Vec::new();
            for p in spec.access {
                for s in strings_at(&v, p) {
                    let s = short(&s);
                    if !access.contains(&s) {
                        access.push(s);
                    }
                }
            }
            if access.len() > ACCESS_LIMIT {
                let more = access.len() - ACCESS_LIMIT;
                access.truncate(ACCESS_LIMIT);
                access.push(format!("… {more} more"));
            }
            out.access = access;
            out
        }
        401 | 403 => dead(format!("HTTP {}: credential refused", resp.status)),
        429 => unknown("throttled (HTTP 429)"),
        s @ 500..=599 => unknown(format!("provider error (HTTP {s})")),
        s => unknown(format!("HTTP {s}")),
    }
}

/// Characters a token may have where it becomes part of a URL.
fn url_safe(token: &str) -> bool {
    token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~:/".contains(&b))
        && !token
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
}

fn first_context<'a>(f: &'a Finding, k: &str) -> Vec<&'a str> {
    f.context
        .get(k)
        .map(|v| v.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

/// Verifies one finding with `spec`.
pub fn verify(spec: &Spec, f: &Finding, ctx: &Ctx<'_>) -> Verification {
    let raw = f.raw.expose_str();
    let mut token: &str = raw.trim();
    if !spec.strip.is_empty() {
        match spec.strip.iter().find_map(|p| token.strip_prefix(p)) {
            Some(t) => token = t,
            None => return skipped(format!("not a {} URL this check knows", spec.provider)),
        }
    }
    if (!spec.prefixes.is_empty() && !spec.prefixes.iter().any(|p| token.starts_with(p)))
        || spec.not_prefixes.iter().any(|p| token.starts_with(p))
    {
        return skipped(format!(
            "{}: no read-only check for this kind of credential (checked: {})",
            spec.provider,
            if spec.prefixes.is_empty() {
                "other kinds".to_string()
            } else {
                spec.prefixes.join(", ")
            }
        ));
    }
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return skipped("not a single-line printable token");
    }
    let in_url = matches!(spec.auth, InPath | Query(_));
    if in_url && !url_safe(token) {
        return skipped("token has characters that cannot go into a URL as they are");
    }
    let user = match spec.auth {
        BasicContextUser(k) => {
            match first_context(f, k)
                .into_iter()
                .find(|u| !u.is_empty() && u.bytes().all(|b| b.is_ascii_alphanumeric()))
            {
                Some(u) => u.to_string(),
                None => {
                    return skipped(format!(
                        "{}: needs its {k} beside the token (none found)",
                        spec.provider
                    ));
                }
            }
        }
        _ => String::new(),
    };
    let name = key(spec.id);
    let bases: Vec<String> = match (ctx.opts.endpoints.get(&name), spec.host) {
        (Some(o), _) => vec![o.to_string()],
        (None, Host::Fixed(h)) => vec![format!("https://{h}")],
        (None, Host::Sites(hs)) => hs.iter().map(|h| format!("https://{h}")).collect(),
        (None, Host::Owner(suffixes)) => {
            let hosts: Vec<String> =
                first_context(f, leakscan_scanner::credential_context::OWNER_HOST)
                    .into_iter()
                    .filter(|h| owner_host_ok(h, suffixes))
                    .take(3)
                    .map(|h| format!("https://{h}"))
                    .collect();
            if hosts.is_empty() {
                return skipped(format!(
                    "{}: no host under {} found beside the token",
                    spec.provider,
                    suffixes.join(", ")
                ));
            }
            hosts
        }
        (None, Host::MailchimpDc) => {
            let dc = token.rsplit_once('-').map(|(_, dc)| dc).unwrap_or("");
            let ok = dc.len() > 2
                && dc.len() <= 4
                && dc.starts_with("us")
                && dc[2..].bytes().all(|b| b.is_ascii_digit());
            if !ok {
                return skipped("Mailchimp: no data center (-usNN) at the end of the key");
            }
            vec![format!("https://{dc}.api.mailchimp.com")]
        }
    };
    let path = spec.path.replace("{user}", &user);
    let shown_path = path.replace("{token}", "***");
    let path = path.replace("{token}", token);
    let mut verdicts: Vec<Verification> = Vec::new();
    for base in &bases {
        let (mut url, mut shown) = (format!("{base}{path}"), format!("{base}{shown_path}"));
        if let Query(q) = spec.auth {
            let sep = if url.contains('?') { '&' } else { '?' };
            url.push_str(&format!("{sep}{q}={}", pct(token)));
            shown.push_str(&format!("{sep}{q}=***"));
        }
        let mut req = Req {
            method: spec.method,
            url,
            shown_url: shown,
            headers: Vec::new(),
            body: spec.body.map(|b| b.as_bytes().to_vec()),
        };
        match spec.auth {
            Bearer => req = req.header("Authorization", format!("Bearer {token}")),
            Header(h, prefix) => req = req.header(h, format!("{prefix}{token}")),
            BasicPassword(u) => {
                req = req.header(
                    "Authorization",
                    format!("Basic {}", STANDARD.encode(format!("{u}:{token}"))),
                )
            }
            BasicContextUser(_) => {
                req = req.header(
                    "Authorization",
                    format!("Basic {}", STANDARD.encode(format!("{user}:{token}"))),
                )
            }
            InPath | Query(_) => {}
        }
        for (k, v) in spec.headers {
            req = req.header(k, v.to_string());
        }
        if spec.body.is_some() {
            req = req.header("Content-Type", "application/json".into());
        }
        let v = match ctx.send_to(&name, req) {
            Ok(r) => classify(spec, &r),
            Err(t) => unknown(t.detail()),
        };
        if v.status == VerifyStatus::Live {
            if bases.len() > 1 {
                let host = base.split("://").nth(1).unwrap_or(base);
                let mut v = v;
                v.detail.push_str(&format!(" (at {host})"));
                return v;
            }
            return v;
        }
        let stop = v.status == VerifyStatus::Skipped || ctx.opts.dry_run;
        verdicts.push(v);
        if stop {
            break;
        }
    }
    // Dead only when every site refused it; otherwise the first unknown.
    if verdicts.iter().all(|v| v.status == VerifyStatus::Dead) && !verdicts.is_empty() {
        let mut v = verdicts.swap_remove(0);
        if bases.len() > 1 {
            v.detail
                .push_str(&format!(" (by all {} sites)", bases.len()));
        }
        return v;
    }
    verdicts
        .into_iter()
        .find(|v| v.status != VerifyStatus::Dead)
        .unwrap_or_else(|| unknown("not tried"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_hosts_need_a_label_boundary() {
        let s = &["okta.com", "oktapreview.com"];
        assert!(owner_host_ok("acme.okta.com", s));
        assert!(owner_host_ok("dev-123.oktapreview.com", s));
        assert!(!owner_host_ok("evilokta.com", s));
        assert!(!owner_host_ok("okta.com", s));
        assert!(!owner_host_ok("acme.okta.com.evil.net", s));
        assert!(!owner_host_ok("a_b.okta.com", s));
        assert!(!owner_host_ok("-a.okta.com", s));
        assert!(!owner_host_ok("a..okta.com", s));
    }

    #[test]
    fn ids_are_unique_and_requests_documented() {
        let mut ids: Vec<_> = SPECS.iter().map(|s| s.id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate verifier id");
        for s in SPECS {
            assert!(s.path.starts_with('/'), "{}", s.id);
            assert!(matches!(s.method, "GET" | "POST"), "{}", s.id);
            assert!(serde_json::from_str::<Value>(s.sample).is_ok(), "{}", s.id);
            if let Host::Fixed(h) = s.host {
                assert!(h.split('.').all(valid_label), "{}", s.id);
            }
        }
    }
}
