//! `--format html`: one self-contained page a person triages from. Findings
//! are grouped by secret (fingerprint) with every place it occurs; every
//! scanned string is escaped, and a strict Content-Security-Policy lets only
//! the page's own style and script (by hash) run.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::Result;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::ReportContext;
use crate::finding::Finding;
use crate::sanitize::sanitize;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:14px 24px}
header h1{font-size:20px;margin:0 0 4px}
main{padding:16px 24px;max-width:1400px}
.cards{display:flex;gap:16px;flex-wrap:wrap;margin-bottom:16px}
.card{background:#fff;border:1px solid #d8dce3;border-radius:6px;padding:10px 14px;min-width:260px}
.card h2{font-size:14px;margin:0 0 6px;color:#4a5568}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:3px 8px;border-bottom:1px solid #e6e9ee;vertical-align:top}
th{font-weight:600;color:#4a5568}
code{font-family:ui-monospace,monospace;font-size:12.5px;word-break:break-all}
.filters{margin:12px 0;display:flex;gap:12px;align-items:center}
.secret{background:#fff;border:1px solid #d8dce3;border-left:4px solid #c53030;border-radius:6px;margin:12px 0;padding:10px 14px}
.secret h3{margin:0 0 6px;font-size:15px}
.tag{display:inline-block;border-radius:10px;padding:0 8px;margin-right:6px;font-size:12px;background:#edf2f7}
.live{background:#c53030;color:#fff}.dead{background:#718096;color:#fff}
.deleted{color:#718096}
.num{text-align:right}
"#;

/// Filters by category and rule (the select boxes, or `#category=..&rule=..`
/// in the URL), and counts what is shown. Reads data only from attributes
/// and text; builds nothing from them but text nodes and option values.
const SCRIPT: &str = r#"
(function () {
  var secrets = Array.prototype.slice.call(document.querySelectorAll('section.secret'));
  var cat = document.getElementById('f-category'), rule = document.getElementById('f-rule');
  var shown = document.getElementById('shown');
  function apply() {
    var n = 0;
    secrets.forEach(function (s) {
      var ok = (!cat.value || s.getAttribute('data-category') === cat.value) &&
               (!rule.value || s.getAttribute('data-rule') === rule.value);
      s.hidden = !ok;
      if (ok) { n++; }
    });
    shown.textContent = String(n);
  }
  function fromHash() {
    var h = new URLSearchParams(location.hash.replace(/^#/, ''));
    if (h.has('category')) { cat.value = h.get('category'); }
    if (h.has('rule')) { rule.value = h.get('rule'); }
  }
  cat.addEventListener('change', apply);
  rule.addEventListener('change', apply);
  window.addEventListener('hashchange', function () { fromHash(); apply(); });
  fromHash();
  apply();
  document.documentElement.setAttribute('data-ready', 'true');
})();
"#;

/// Escapes text for an HTML text node or a quoted attribute, after removing
/// control and bidi characters.
pub fn escape(s: &str) -> String {
    let s = sanitize(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The Content-Security-Policy of the page: nothing from anywhere, except
/// the page's own style and script.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; script-src {}; img-src 'none'; base-uri 'none'; form-action 'none'",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    )
}

fn repository(f: &Finding) -> &str {
    f.provenance
        .as_ref()
        .and_then(|p| p.repository.as_deref())
        .unwrap_or("")
}

pub fn render(findings: &[Finding], ctx: &ReportContext<'_>, out: &mut dyn Write) -> Result<()> {
    out.write_all(page(findings, ctx.stats.files_scanned).as_bytes())?;
    Ok(())
}

/// The whole page.
fn page(findings: &[Finding], files_scanned: u64) -> String {
    // Groups by secret, in first-seen order of the (sorted) findings.
    let mut order: Vec<&str> = Vec::new();
    let mut groups: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        let g = groups.entry(f.fingerprint.as_str()).or_default();
        if g.is_empty() {
            order.push(&f.fingerprint);
        }
        g.push(f);
    }
    let mut per_repo: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
    let mut per_category: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules: BTreeMap<&str, &str> = BTreeMap::new();
    for f in findings {
        let e = per_repo.entry(repository(f)).or_default();
        e.0 += 1;
        e.1.insert(&f.fingerprint);
        *per_category.entry(f.category.as_str()).or_default() += 1;
        rules.insert(&f.rule, &f.name);
    }
    // A one-repository scan has no repository column.
    let multi = per_repo.keys().any(|r| !r.is_empty());
    let live = order
        .iter()
        .filter(|fp| {
            groups[**fp].iter().any(|f| {
                f.verification
                    .as_ref()
                    .is_some_and(|v| v.status.as_str() == "live")
            })
        })
        .count();

    let mut h = String::with_capacity(4096 + findings.len() * 600);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n",
        content_security_policy()
    ));
    h.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<title>leakscan report</title>\n<style>");
    h.push_str(STYLE);
    h.push_str("</style>\n</head>\n<body>\n<header><h1>leakscan report</h1>");
    h.push_str(&format!(
        "<div id=\"totals\">{} finding{} of <span id=\"secrets\">{}</span> distinct secret{} in {} repositor{}; {} live; {} blobs or files scanned</div></header>\n<main>\n",
        findings.len(),
        plural(findings.len()),
        order.len(),
        plural(order.len()),
        per_repo.len(),
        if per_repo.len() == 1 { "y" } else { "ies" },
        live,
        files_scanned,
    ));

    h.push_str("<div class=\"cards\">\n<div class=\"card\"><h2>By repository</h2><table id=\"by-repository\"><tr><th>Repository</th><th class=\"num\">Findings</th><th class=\"num\">Secrets</th></tr>\n");
    let mut repos: Vec<_> = per_repo.iter().collect();
    repos.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    for (repo, (n, fps)) in repos {
        h.push_str(&format!(
            "<tr><td><code>{}</code></td><td class=\"num\">{n}</td><td class=\"num\">{}</td></tr>\n",
            if repo.is_empty() {
                "(this repository)".to_string()
            } else {
                escape(repo)
            },
            fps.len()
        ));
    }
    h.push_str("</table></div>\n<div class=\"card\"><h2>By category</h2><table id=\"by-category\"><tr><th>Category</th><th class=\"num\">Findings</th></tr>\n");
    for (c, n) in &per_category {
        h.push_str(&format!(
            "<tr><td>{}</td><td class=\"num\">{n}</td></tr>\n",
            escape(c)
        ));
    }
    h.push_str("</table></div>\n</div>\n");

    h.push_str("<div class=\"filters\"><label>Category <select id=\"f-category\"><option value=\"\">all</option>");
    for c in per_category.keys() {
        h.push_str(&format!("<option value=\"{0}\">{0}</option>", escape(c)));
    }
    h.push_str(
        "</select></label><label>Rule <select id=\"f-rule\"><option value=\"\">all</option>",
    );
    for (id, name) in &rules {
        h.push_str(&format!(
            "<option value=\"{}\">{} ({})</option>",
            escape(id),
            escape(name),
            escape(id)
        ));
    }
    h.push_str(&format!(
        "</select></label><span><span id=\"shown\">{}</span> of {} secrets shown</span></div>\n",
        order.len(),
        order.len()
    ));

    for fp in &order {
        let g = &groups[*fp];
        let first = g[0];
        let verification = g.iter().find_map(|f| f.verification.as_ref());
        h.push_str(&format!(
            "<section class=\"secret\" data-category=\"{}\" data-rule=\"{}\" data-fingerprint=\"{}\">\n<h3>{} <code>{}</code></h3>\n<div>",
            escape(first.category.as_str()),
            escape(&first.rule),
            escape(fp),
            escape(&first.name),
            escape(&first.secret),
        ));
        h.push_str(&format!(
            "<span class=\"tag\">{}</span><span class=\"tag\">{}</span>",
            escape(first.category.as_str()),
            escape(&first.rule)
        ));
        match verification {
            Some(v) => {
                let status = v.status.as_str();
                h.push_str(&format!(
                    "<span class=\"tag {0}\" data-verification=\"{0}\">{0}</span>{1}",
                    escape(status),
                    escape(&v.detail)
                ));
                if !v.access.is_empty() {
                    h.push_str(" — access: ");
                    let access: Vec<String> = v.access.iter().map(|a| escape(a)).collect();
                    h.push_str(&access.join(", "));
                }
            }
            None => h.push_str(
                "<span class=\"tag\" data-verification=\"not-verified\">not verified</span>",
            ),
        }
        h.push_str(&format!(
            " <span>fingerprint <code>{}</code>; {} place{}</span></div>\n",
            escape(fp),
            g.len(),
            plural(g.len())
        ));
        h.push_str("<table class=\"places\"><tr>");
        if multi {
            h.push_str("<th>Repository</th>");
        }
        h.push_str(
            "<th>Where</th><th>Commit</th><th>Author</th><th>Date</th><th>Message</th></tr>\n",
        );
        for f in g {
            let p = f.provenance.as_ref();
            h.push_str(&format!(
                "<tr{}>{}<td><code>{}:{}</code>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                if p.is_some_and(|p| p.deleted) {
                    " class=\"deleted\""
                } else {
                    ""
                },
                if multi {
                    format!("<td><code>{}</code></td>", escape(repository(f)))
                } else {
                    String::new()
                },
                escape(&f.path),
                f.line,
                if p.is_some_and(|p| p.deleted) {
                    " (deleted)"
                } else {
                    ""
                },
                escape(&p.map_or(String::new(), |p| p.commit.chars().take(12).collect())),
                escape(&p.map_or(String::new(), |p| {
                    format!("{} <{}>", p.author, p.email)
                })),
                escape(p.map_or("", |p| p.date.as_str())),
                escape(p.map_or("", |p| p.message.as_str())),
            ));
        }
        h.push_str("</table>\n</section>\n");
    }
    if findings.is_empty() {
        h.push_str("<p>No leaked credentials found.</p>\n");
    }
    h.push_str("</main>\n<script>");
    h.push_str(SCRIPT);
    h.push_str("</script>\n</body>\n</html>\n");
    h
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }

    fn finding(fp: &str, repo: &str, path: &str) -> Finding {
        Finding {
            rule: "aws-access-key-id".into(),
            name: "AWS access key id".into(),
            category: leakscan_rules::Category::CloudKey,
            path: path.into(),
            line: 2,
            column: 3,
            end_line: 2,
            end_column: 23,
            secret: "AKIA…".into(),
            fingerprint: fp.into(),
            entropy: 3.5,
            provenance: Some(crate::finding::Provenance {
                commit: "é".repeat(20),
                author: "A <b>".into(),
                email: "a@example.invalid".into(),
                date: "2026-01-01T00:00:00+00:00".into(),
                message: "m".into(),
                deleted: false,
                repository: Some(repo.into()),
            }),
            details: Default::default(),
            verification: None,
            snippet: None,
            raw: crate::finding::Secret::new("AKIAFAKETESTKEY00001".to_string()),
            span: (0, 0),
            context: Default::default(),
        }
    }

    #[test]
    fn groups_by_secret_and_shows_verification_and_access_escaped() {
        let mut a = finding("aws:1", "https://h/o/one.git", "a.env");
        a.verification = Some(crate::finding::Verification {
            status: crate::finding::VerifyStatus::Live,
            detail: "accepted <by> STS".into(),
            access: vec!["arn:aws:iam::1:user/<ci>".into()],
        });
        let b = finding("aws:1", "https://h/o/two.git", "b.env");
        let c = finding("aws:2", "https://h/o/two.git", "c.env\u{202e}");
        let page = page(&[a, b, c], 3);
        assert_eq!(page.matches("<section class=\"secret\"").count(), 2);
        assert!(page.contains("2 places"));
        assert!(page.contains("data-verification=\"live\""));
        assert!(page.contains("accepted &lt;by&gt; STS"));
        assert!(page.contains("access: arn:aws:iam::1:user/&lt;ci&gt;"));
        assert!(page.contains("A &lt;b&gt; &lt;a@example.invalid&gt;"));
        assert!(page.contains("1 live"));
        // A commit id that is not ASCII is cut on a character boundary.
        assert!(page.contains(&"é".repeat(12)));
        assert!(!page.contains('\u{202e}') && !page.contains("FAKETESTKEY"));
    }

    #[test]
    fn policy_allows_only_the_page_itself() {
        let csp = content_security_policy();
        assert!(csp.starts_with("default-src 'none';"));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(csp.matches("'sha256-").count(), 2);
        // Neither the style nor the script can end its element early.
        assert!(!STYLE.contains("</") && !SCRIPT.contains("</"));
    }
}
