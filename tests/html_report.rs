//! Issue 17: `--format html` in a real browser. Headless Chromium (Debian's
//! package; scripts/setup.sh installs it) loads reports of real histories:
//! the rendered DOM is checked (`--dump-dom`), a `<script>` planted in a
//! file name and a commit message does not run while the page's own script
//! does (the Content-Security-Policy admits it by hash), the filters work,
//! and a screenshot is saved under target/ for a person to look at.

mod gitutil;

use std::path::{Path, PathBuf};
use std::process::Command;

use gitutil::*;

fn chromium() -> PathBuf {
    ["/usr/bin/chromium", "/usr/lib/chromium/chromium"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect(
            "headless Chromium is missing: run scripts/setup.sh (it installs Debian's chromium)",
        )
}

/// Chromium with the flags that work on a closed, sandbox-less machine and
/// a fresh profile, stopped if it hangs.
fn browser(profile: &Path) -> Command {
    let mut c = Command::new("timeout");
    c.args(["-k", "10", "120"])
        .arg(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    c
}

fn dump_dom(page: &Path, fragment: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = browser(profile.path())
        .arg("--dump-dom")
        .arg(format!("file://{}{fragment}", page.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const PLANT: &str = "document.documentElement.setAttribute('data-pwned','yes')";

/// Two repositories sharing one token; a file name and a commit message
/// carrying markup that would run if it were not escaped.
fn repositories(root: &Path) -> (PathBuf, PathBuf) {
    let a = new_repo(&root.join("alpha"));
    write(&a, "README.md", "alpha\n");
    commit_all(&a, "first");
    let evil_name = format!("<img src=x onerror=\"{PLANT}\">.env");
    write(&a, &evil_name, &format!("GITHUB_TOKEN={}\n", token('h')));
    commit_all(&a, &format!("<script>{PLANT}</script> add config"));
    write(&a, "deploy.sh", &format!("export T={}\n", token('s')));
    commit_all(&a, "deploy");
    std::fs::remove_file(a.join("deploy.sh")).unwrap();
    commit_all(&a, "remove deploy");
    write(
        &a,
        "cloud.env",
        "aws_access_key_id = AKIAZ7TQ4VWB3N5RXK2M\n",
    );
    commit_all(&a, "cloud");
    let b = new_repo(&root.join("beta"));
    write(&b, "ci.sh", &format!("export T={}\n", token('s')));
    commit_all(&b, "ci");
    (a, b)
}

#[test]
fn html_report_renders_groups_filters_and_runs_no_planted_script() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = repositories(t.path());
    let page = t.path().join("report.html");
    let out = leakscan(t.path())
        .arg("git")
        .arg(&a)
        .arg(&b)
        .args(["--format", "html", "--output"])
        .arg(&page)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = leakscan(t.path())
        .arg("git")
        .arg(&a)
        .arg(&b)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let findings = json_findings(&json);
    let secrets: std::collections::BTreeSet<&str> = findings
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert!(findings.len() >= 4 && secrets.len() >= 3, "{findings:?}");

    // The file itself: self-contained, strict policy, nothing unescaped.
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'sha256-"
    ));
    assert!(!html.contains("unsafe-inline"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    // No element loads anything: no tag carries src= or href=.
    for tag in html
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap())
    {
        assert!(
            !tag.contains("src=") && !tag.contains("href="),
            "a tag that loads something: <{tag}>"
        );
    }
    assert!(!html.contains(PLANT), "planted markup copied unescaped");
    assert_eq!(html.matches("<script>").count(), 1);
    for s in ['h', 's'] {
        assert!(!html.contains(&token(s)), "an unredacted secret");
    }

    let dom = dump_dom(&page, "");
    // The page's own script ran (its hash is in the policy)...
    assert!(dom.contains("data-ready=\"true\""), "{dom}");
    // ...and the planted one did not, in any form.
    assert!(!dom.contains("data-pwned=\"yes\""), "a planted script ran");
    assert!(
        dom.contains("&lt;script&gt;document.documentElement.setAttribute"),
        "the commit message is shown as text"
    );
    assert!(
        dom.contains("&lt;img src=x onerror="),
        "the file name is shown as text"
    );
    assert!(
        !dom.contains("<img"),
        "markup from a file name became an element"
    );
    // One section per secret; the shared token's lists both repositories,
    // and the deleted place is marked.
    assert_eq!(
        dom.matches("<section class=\"secret\"").count(),
        secrets.len()
    );
    let shared = dom
        .split("<section class=\"secret\"")
        .find(|s| s.contains("deploy.sh"))
        .unwrap();
    assert!(
        shared.contains("ci.sh") && shared.contains("2 places"),
        "{shared}"
    );
    assert!(shared.contains(&format!("{}", a.display())));
    assert!(shared.contains(&format!("{}", b.display())));
    assert!(shared.contains("(deleted)"));
    assert!(shared.contains("Ann Author &lt;ann@example.invalid&gt;"));
    assert!(shared.contains("not verified"));
    // Counts per repository and per category.
    let by_repo = dom.split("id=\"by-repository\"").nth(1).unwrap();
    assert!(by_repo.contains(&a.display().to_string()));
    let by_cat = dom.split("id=\"by-category\"").nth(1).unwrap();
    assert!(by_cat.contains("<td>cloud-key</td>") && by_cat.contains("<td>token</td>"));

    // The category filter, from the URL: only the cloud key stays shown.
    let filtered = dump_dom(&page, "#category=cloud-key");
    let shown = filtered
        .split("<section class=\"secret\"")
        .skip(1)
        .filter(|s| !s.split('>').next().unwrap().contains("hidden"))
        .count();
    assert_eq!(shown, 1, "{filtered}");
    assert!(filtered.contains("<span id=\"shown\">1</span>"));
    let aws = findings.iter().find(|f| f["path"] == "cloud.env").unwrap()["rule"]
        .as_str()
        .unwrap();
    let by_rule = dump_dom(&page, &format!("#rule={aws}"));
    assert!(
        by_rule.contains("<span id=\"shown\">1</span>"),
        "the rule filter: {by_rule}"
    );

    // A screenshot for a person to look at.
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join("report.png");
    let _ = std::fs::remove_file(&png);
    let profile = tempfile::tempdir().unwrap();
    let out = browser(profile.path())
        .arg("--window-size=1280,1000")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success());
    let bytes = std::fs::read(&png).expect("no screenshot written");
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000);
    std::fs::copy(&page, shots.join("report.html")).unwrap();
}

#[test]
fn merge_renders_html_from_shards() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = repositories(t.path());
    let lines = leakscan(t.path())
        .arg("git")
        .arg(&a)
        .arg(&b)
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    let shard = t.path().join("s.jsonl");
    std::fs::write(&shard, &lines.stdout).unwrap();
    let out = leakscan(t.path())
        .arg("merge")
        .arg(&shard)
        .args(["--format", "html"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Content-Security-Policy"));
    assert!(!html.contains(PLANT));
    assert!(html.contains(&a.display().to_string()));
}
