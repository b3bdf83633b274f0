//! Issue 17: audits at organization scale. Real repositories made by real
//! git, served by `git daemon` on 127.0.0.1; a loopback stub of the GitHub
//! and GitLab listing APIs; `leakscan git URL...`, `--repos-file`,
//! `--shard`, `--resume` after a kill, `--keep-clones`, `leakscan repos`
//! and `leakscan merge`.

mod ci_support;
mod gitutil;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ci_support::{check_run_blocks_and_pins, check_schema, tool};
use gitutil::*;

/// `git daemon` serving every bare repository under a folder, killed on drop.
struct Daemon {
    child: Child,
    port: u16,
}

impl Daemon {
    fn start(base: &Path) -> Daemon {
        let port = free_port();
        let mut cmd = Command::new("git");
        strip(&mut cmd);
        let child = cmd
            .arg("daemon")
            .arg(format!("--base-path={}", base.display()))
            .args(["--export-all", "--reuseaddr", "--informative-errors"])
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(base)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("`git daemon` must be installed for these tests (Debian: the git package)");
        let d = Daemon { child, port };
        let until = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "git daemon did not start on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }

    fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}.git", self.port)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `n` served repositories `r0..r{n-1}`: each has its own token in its
/// history (removed again in `r1`), `r0` and `r2` share one more, and the
/// last is clean. Returns the folder of the bare repositories.
fn served_repos(root: &Path, n: usize) -> PathBuf {
    let base = root.join("served");
    std::fs::create_dir_all(&base).unwrap();
    for i in 0..n {
        let work = new_repo(&root.join(format!("work/r{i}")));
        write(&work, "README.md", &format!("repository {i}\n"));
        commit_all(&work, "first");
        if i + 1 < n {
            let seed = char::from(b'a' + i as u8);
            write(
                &work,
                "app/.env",
                &format!("GITHUB_TOKEN={}\n", token(seed)),
            );
            commit_all(&work, "add config");
        }
        if i == 0 || i == 2 {
            write(&work, "ci/deploy.sh", &format!("export T={}\n", token('Z')));
            commit_all(&work, "deploy script");
        }
        if i == 1 && i + 1 < n {
            std::fs::remove_file(work.join("app/.env")).unwrap();
            commit_all(&work, "remove config");
        }
        git(
            root,
            &[
                "clone",
                "-q",
                "--bare",
                work.to_str().unwrap(),
                base.join(format!("r{i}.git")).to_str().unwrap(),
            ],
        );
    }
    base
}

fn jsonl(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line ({e}): {l}")))
        .collect()
}

fn repository_of(f: &serde_json::Value) -> String {
    f["repository"]
        .as_str()
        .unwrap_or_else(|| panic!("no repository field: {f}"))
        .to_string()
}

/// The repositories named in `[i/n] URL: ...` progress lines.
fn scanned_in(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("leakscan: ["))
        .filter_map(|l| l.split_once("] "))
        .filter_map(|(_, rest)| rest.split_once(": ").map(|(u, _)| u.to_string()))
        .filter(|u| u.starts_with("git://"))
        .collect()
}

#[test]
fn git_urls_are_cloned_scanned_tagged_and_removed_and_a_failing_url_is_a_counted_error() {
    let t = tempfile::tempdir().unwrap();
    let base = served_repos(t.path(), 3);
    let d = Daemon::start(&base);
    let tmp = t.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = leakscan(t.path())
        .env("TMPDIR", &tmp)
        .arg("git")
        .arg(d.url("r0"))
        .arg(d.url("r1"))
        .arg(d.url("nope"))
        .arg("http://bob@127.0.0.1:1/closed.git")
        .arg("https://bob:hunter2hunter2@127.0.0.1:1/with-password.git")
        .arg(d.url("r2"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a failed repository: exit 2\n{stderr}"
    );
    let findings = json_findings(&out);
    let repos: BTreeSet<String> = findings.iter().map(repository_of).collect();
    assert_eq!(
        repos,
        BTreeSet::from([d.url("r0"), d.url("r1"), d.url("r2")]),
        "{stderr}"
    );
    // r1's token was removed from HEAD: found in history, marked deleted.
    let r1: Vec<_> = findings
        .iter()
        .filter(|f| repository_of(f) == d.url("r1"))
        .collect();
    assert_eq!(r1.len(), 1, "{r1:?}");
    assert_eq!(r1[0]["deleted"], true);
    assert_eq!(r1[0]["path"], "app/.env");
    // The shared token: one fingerprint, in two repositories.
    let shared: BTreeSet<String> = findings
        .iter()
        .filter(|f| f["path"] == "ci/deploy.sh")
        .map(repository_of)
        .collect();
    assert_eq!(shared, BTreeSet::from([d.url("r0"), d.url("r2")]));
    // Failures named (userinfo stripped), counted, the others scanned.
    assert!(stderr.contains(&d.url("nope")), "{stderr}");
    assert!(stderr.contains("http://127.0.0.1:1/closed.git"), "{stderr}");
    assert!(
        stderr.contains("https://127.0.0.1:1/with-password.git"),
        "{stderr}"
    );
    assert!(stderr.contains("credential helper"), "{stderr}");
    assert!(!stderr.contains("bob@"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(stderr.contains("3 failed"), "{stderr}");
    assert!(stderr.contains("3 read errors"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(&token('a')) && !stdout.contains("hunter2"));
    // The clones are gone.
    let left: Vec<_> = walk_files(&tmp);
    assert!(left.is_empty(), "clones left behind: {left:?}");
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn shards_cover_every_repository_once_and_their_merge_equals_one_scan() {
    let t = tempfile::tempdir().unwrap();
    let base = served_repos(t.path(), 7);
    let d = Daemon::start(&base);
    let all: Vec<String> = (0..7).map(|i| d.url(&format!("r{i}"))).collect();
    let list = t.path().join("repos.txt");
    std::fs::write(&list, format!("# the organization\n\n{}\n", all.join("\n"))).unwrap();

    let single = leakscan(t.path())
        .args(["git", "--repos-file"])
        .arg(&list)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let single_err = String::from_utf8_lossy(&single.stderr);
    assert_eq!(single.status.code(), Some(1), "{single_err}");
    let mut once: Vec<String> = scanned_in(&single_err);
    once.sort();
    let mut want = all.clone();
    want.sort();
    assert_eq!(once, want, "{single_err}");

    let n = 3;
    let mut covered: BTreeMap<String, usize> = BTreeMap::new();
    let mut outputs = Vec::new();
    for i in 1..=n {
        let path = t.path().join(format!("shard-{i}.jsonl"));
        let out = leakscan(t.path())
            .args(["git", "--repos-file", "-", "--format", "jsonl", "--shard"])
            .arg(format!("{i}/{n}"))
            .arg("--output")
            .arg(&path)
            .stdin(std::fs::File::open(&list).unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{stderr}");
        for r in scanned_in(&stderr) {
            *covered.entry(r).or_default() += 1;
        }
        outputs.push(path);
    }
    assert_eq!(covered.keys().cloned().collect::<Vec<_>>(), want);
    assert!(covered.values().all(|&c| c == 1), "{covered:?}");

    let merged = leakscan(t.path())
        .arg("merge")
        .args(&outputs)
        // A shard's output given twice: every finding still once.
        .arg(&outputs[0])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        merged.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let merged_findings = json_findings(&merged);
    let single_findings = json_findings(&single);
    assert_eq!(single_findings.len(), 8, "six own tokens, one shared twice");
    assert_eq!(merged_findings, single_findings);

    // Other formats from the same shards.
    let sarif = leakscan(t.path())
        .arg("merge")
        .args(&outputs)
        .args(["--format", "sarif"])
        .output()
        .unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 8);
    assert!(
        results
            .iter()
            .all(|r| r["properties"]["repository"].as_str().is_some())
    );
    let text = leakscan(t.path())
        .arg("merge")
        .args(&outputs)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!("{} app/.env:1:", d.url("r3"))),
        "{text}"
    );
    assert!(!text.contains(&token('c')));
}

/// A git:// server that accepts and never answers: a clone that hangs.
struct Hang {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Hang {
    fn start() -> Hang {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        l.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !s.load(Ordering::SeqCst) {
                if let Ok((c, _)) = l.accept() {
                    held.push(c);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Hang { port, stop }
    }
}

impl Drop for Hang {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

#[test]
fn resume_after_a_killed_run_skips_what_was_done_and_loses_nothing() {
    let t = tempfile::tempdir().unwrap();
    let base = served_repos(t.path(), 6);
    let d = Daemon::start(&base);
    let hang = Hang::start();
    let hang_url = format!("git://127.0.0.1:{}/stuck.git", hang.port);
    let good: Vec<String> = (0..6).map(|i| d.url(&format!("r{i}"))).collect();
    let mut list = good[..3].to_vec();
    list.push(hang_url.clone());
    list.extend(good[3..].iter().cloned());
    let list_file = t.path().join("repos.txt");
    std::fs::write(&list_file, list.join("\n")).unwrap();
    let state = t.path().join("state.jsonl");
    let report = t.path().join("out.jsonl");
    let tmp = t.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let run = || {
        let mut cmd = leakscan(t.path());
        cmd.env("TMPDIR", &tmp)
            .args(["git", "--format", "jsonl", "--repos-file"])
            .arg(&list_file)
            .arg("--resume")
            .arg(&state)
            .arg("--output")
            .arg(&report);
        cmd
    };
    let mut child = run()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Three repositories done, the fourth clone hangs: kill it there.
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let lines = std::fs::read_to_string(&state)
            .map(|s| s.lines().count())
            .unwrap_or(0);
        if lines >= 3 {
            break;
        }
        assert!(
            Instant::now() < until,
            "the first run never finished 3 repositories"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let first = jsonl(&std::fs::read_to_string(&report).unwrap());
    let first_repos: BTreeSet<String> = first.iter().map(repository_of).collect();
    assert_eq!(first_repos, good[..3].iter().cloned().collect());
    // What a kill in the middle of a write leaves: cut on resume.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&report)
        .unwrap()
        .write_all(b"{\"rule\":\"github-pat\",\"pa")
        .unwrap();
    drop(hang);

    let out = run().output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the stuck URL now fails: {stderr}"
    );
    assert!(stderr.contains("3 done before, skipped"), "{stderr}");
    let again = scanned_in(&stderr);
    assert!(
        again.iter().all(|r| !good[..3].contains(r)),
        "rescanned a finished repository: {again:?}"
    );
    assert!(stderr.contains("stuck.git"), "{stderr}");

    let all = jsonl(&std::fs::read_to_string(&report).unwrap());
    let single = leakscan(t.path())
        .arg("git")
        .args(&good)
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    let mut want = jsonl(&String::from_utf8_lossy(&single.stdout));
    let mut got = all.clone();
    let k = |v: &serde_json::Value| v.to_string();
    want.sort_by_key(k);
    got.sort_by_key(k);
    assert_eq!(got, want, "resumed output differs from one scan");
}

#[test]
fn kept_clones_are_fetched_on_the_next_run() {
    let t = tempfile::tempdir().unwrap();
    let base = served_repos(t.path(), 2);
    let d = Daemon::start(&base);
    let keep = t.path().join("clones");
    let scan = || {
        leakscan(t.path())
            .arg("git")
            .arg(d.url("r0"))
            .arg("--keep-clones")
            .arg(&keep)
            .args(["--format", "json"])
            .output()
            .unwrap()
    };
    let first = json_findings(&scan());
    assert_eq!(first.len(), 2);
    let kept: Vec<_> = std::fs::read_dir(&keep).unwrap().flatten().collect();
    assert_eq!(kept.len(), 1);
    let marker = kept[0].path().join("leakscan-test-marker");
    std::fs::write(&marker, "x").unwrap();
    // A new commit upstream.
    let work = t.path().join("work/r0");
    write(&work, "late.env", &format!("GITHUB_TOKEN={}\n", token('q')));
    commit_all(&work, "late");
    git(
        &work,
        &["push", "-q", base.join("r0.git").to_str().unwrap(), "main"],
    );
    let second = json_findings(&scan());
    assert_eq!(second.len(), 3, "{second:?}");
    assert!(second.iter().any(|f| f["path"] == "late.env"));
    assert!(
        marker.exists(),
        "the kept clone was replaced, not fetched into"
    );
}

#[test]
fn local_paths_in_a_list_are_scanned_in_place() {
    let t = tempfile::tempdir().unwrap();
    let base = served_repos(t.path(), 3);
    let local = base.join("r1.git");
    let list = t.path().join("list");
    std::fs::write(&list, format!("{}\n", local.display())).unwrap();
    let out = leakscan(t.path())
        .args(["git", "--format", "json", "--repos-file"])
        .arg(&list)
        .output()
        .unwrap();
    let f = json_findings(&out);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["repository"], local.display().to_string());
}

// ---------------------------------------------------------------------------
// A loopback stub of the GitHub and GitLab listing APIs.

#[derive(Debug, Clone)]
struct Request {
    target: String,
    headers: BTreeMap<String, String>,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

type Handler = Box<dyn Fn(&Request, usize) -> Reply + Send + Sync>;

/// A tiny HTTP/1.1 server on 127.0.0.1: one request a connection; the
/// handler sees each request and how many came before it.
struct Stub {
    port: u16,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Stub {
    fn start(handler: Handler) -> Stub {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
        let s = seen.clone();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
                let mut headers = BTreeMap::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                    }
                }
                let req = Request { target, headers };
                let n = {
                    let mut g = s.lock().unwrap();
                    g.push(req.clone());
                    g.len() - 1
                };
                let reply = handler(&req, n);
                let mut text = format!(
                    "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                    reply.status,
                    reply.body.len()
                );
                for (k, v) in &reply.headers {
                    text.push_str(&format!("{k}: {v}\r\n"));
                }
                text.push_str("\r\n");
                text.push_str(&reply.body);
                let _ = conn.write_all(text.as_bytes());
                let _ = conn.flush();
                let mut rest = Vec::new();
                let _ = conn.set_read_timeout(Some(Duration::from_millis(50)));
                let _ = reader.read_to_end(&mut rest);
            }
        });
        Stub { port, seen }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn github_repo(name: &str, fork: bool, archived: bool, clone: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "full_name": format!("acme/{name}"),
        "fork": fork,
        "archived": archived,
        "clone_url": clone,
        "ssh_url": format!("git@github.example:acme/{name}.git"),
    })
}

const FAKE_TOKEN: &str = "stub-token-0123456789abcdef";

#[test]
fn github_listing_follows_pages_waits_out_the_rate_limit_and_filters() {
    let t = tempfile::tempdir().unwrap();
    let base = served_repos(t.path(), 3);
    let d = Daemon::start(&base);
    let urls: Vec<String> = (0..3).map(|i| d.url(&format!("r{i}"))).collect();
    let port_holder: Arc<Mutex<u16>> = Arc::default();
    let ph = port_holder.clone();
    let limited = Arc::new(AtomicBool::new(false));
    let lim = limited.clone();
    let served = urls.clone();
    let stub = Stub::start(Box::new(move |req, _| {
        let urls = &served;
        let port = *ph.lock().unwrap();
        let api = format!("http://127.0.0.1:{port}/api/v3");
        let path = req.target.as_str();
        if !path.starts_with("/api/v3/orgs/acme/repos?") {
            return Reply {
                status: 404,
                headers: vec![],
                body: r#"{"message":"Not Found"}"#.into(),
            };
        }
        let page = path
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("page="))
            .unwrap_or("1");
        let next = |n: u32| {
            (
                "Link".to_string(),
                format!(
                    "<{api}/orgs/acme/repos?type=all&per_page=100&page={n}>; rel=\"next\", <{api}/orgs/acme/repos?type=all&per_page=100&page=3>; rel=\"last\""
                ),
            )
        };
        match page {
            "1" => Reply {
                status: 200,
                headers: vec![next(2)],
                body: serde_json::json!([
                    github_repo("r0", false, false, &urls[0]),
                    github_repo("forked", true, false, "git://127.0.0.1:1/forked.git"),
                ])
                .to_string(),
            },
            "2" if !lim.swap(true, Ordering::SeqCst) => Reply {
                status: 403,
                headers: vec![
                    ("x-ratelimit-remaining".into(), "0".into()),
                    ("x-ratelimit-reset".into(), (now() + 1).to_string()),
                ],
                body: r#"{"message":"API rate limit exceeded"}"#.into(),
            },
            "2" => Reply {
                status: 200,
                headers: vec![next(3)],
                body: serde_json::json!([
                    github_repo("r1", false, false, &urls[1]),
                    github_repo("old", false, true, "git://127.0.0.1:1/old.git"),
                ])
                .to_string(),
            },
            _ => Reply {
                status: 200,
                headers: vec![],
                body: serde_json::json!([github_repo("r2", false, false, &urls[2])]).to_string(),
            },
        }
    }));
    *port_holder.lock().unwrap() = stub.port;
    let api = format!("{}/api/v3", stub.base());

    let started = Instant::now();
    let out = leakscan(t.path())
        .env("GITHUB_TOKEN", FAKE_TOKEN)
        .args(["repos", "github", "--org", "acme", "--api-url", &api])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout.lines().collect::<Vec<_>>(), urls, "{stderr}");
    assert!(stderr.contains("rate limit reached"), "{stderr}");
    assert!(started.elapsed() >= Duration::from_secs(1), "did not wait");
    assert!(stderr.contains("1 fork (--include-forks)"), "{stderr}");
    assert!(
        stderr.contains("1 archived (--include-archived)"),
        "{stderr}"
    );
    assert!(!stdout.contains(FAKE_TOKEN) && !stderr.contains(FAKE_TOKEN));
    {
        let seen = stub.seen.lock().unwrap();
        assert_eq!(seen.len(), 4, "3 pages and one retry: {seen:?}");
        assert!(
            seen.iter()
                .all(|r| r.headers.get("authorization").map(String::as_str)
                    == Some(&format!("Bearer {FAKE_TOKEN}")[..]))
        );
    }

    let all = leakscan(t.path())
        .env("GITHUB_TOKEN", FAKE_TOKEN)
        .args(["repos", "github", "--org", "acme", "--api-url", &api])
        .args(["--include-forks", "--include-archived", "--ssh", "-q"])
        .output()
        .unwrap();
    let all = String::from_utf8_lossy(&all.stdout).into_owned();
    assert_eq!(all.lines().count(), 5, "{all}");
    assert!(all.contains("git@github.example:acme/forked.git"));

    // The list feeds the scan.
    let mut scan = leakscan(t.path())
        .args(["git", "--repos-file", "-", "--format", "jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    scan.stdin
        .take()
        .unwrap()
        .write_all(stdout.as_bytes())
        .unwrap();
    let scanned = scan.wait_with_output().unwrap();
    let found: BTreeSet<String> = jsonl(&String::from_utf8_lossy(&scanned.stdout))
        .iter()
        .map(repository_of)
        .collect();
    assert_eq!(found, urls.iter().cloned().collect());

    // Unknown organization: a clear error, the token not in it.
    let missing = leakscan(t.path())
        .env("GITHUB_TOKEN", FAKE_TOKEN)
        .args(["repos", "github", "--org", "nobody", "--api-url", &api])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(2));
    assert!(err.contains("not found (404)"), "{err}");
    assert!(!err.contains(FAKE_TOKEN));
}

#[test]
fn gitlab_listing_uses_next_page_headers_waits_on_429_and_encodes_groups() {
    let limited = Arc::new(AtomicBool::new(false));
    let lim = limited.clone();
    let stub = Stub::start(Box::new(move |req, _| {
        let path = req.target.as_str();
        if !path.starts_with("/api/v4/groups/acme%2Fplatform/projects?") {
            return Reply {
                status: 404,
                headers: vec![],
                body: "{}".into(),
            };
        }
        let page = path
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("page="))
            .unwrap_or("1");
        let project = |name: &str, fork: bool, archived: bool| {
            let mut v = serde_json::json!({
                "path_with_namespace": format!("acme/platform/{name}"),
                "archived": archived,
                "http_url_to_repo": format!("https://gitlab.example/acme/platform/{name}.git"),
                "ssh_url_to_repo": format!("git@gitlab.example:acme/platform/{name}.git"),
            });
            if fork {
                v["forked_from_project"] = serde_json::json!({"id": 1});
            }
            v
        };
        match page {
            "1" => Reply {
                status: 200,
                headers: vec![("x-next-page".into(), "2".into())],
                body: serde_json::json!([
                    project("api", false, false),
                    project("fork", true, false)
                ])
                .to_string(),
            },
            "2" if !lim.swap(true, Ordering::SeqCst) => Reply {
                status: 429,
                headers: vec![("ratelimit-reset".into(), (now() + 1).to_string())],
                body: "Retry later".into(),
            },
            _ => Reply {
                status: 200,
                headers: vec![("x-next-page".into(), "".into())],
                body: serde_json::json!([
                    project("web", false, false),
                    project("old", false, true)
                ])
                .to_string(),
            },
        }
    }));
    let t = tempfile::tempdir().unwrap();
    let out = leakscan(t.path())
        .env("GITLAB_TOKEN", FAKE_TOKEN)
        .args(["repos", "gitlab", "--group", "acme/platform", "--api-url"])
        .arg(format!("{}/api/v4", stub.base()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "https://gitlab.example/acme/platform/api.git",
            "https://gitlab.example/acme/platform/web.git"
        ]
    );
    assert!(stderr.contains("GitLab rate limit reached"), "{stderr}");
    assert!(!stderr.contains(FAKE_TOKEN));
    let seen = stub.seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(
        seen.iter()
            .all(|r| r.headers.get("private-token").map(String::as_str) == Some(FAKE_TOKEN))
    );
    assert!(seen[0].target.contains("include_subgroups=true"));
}

#[test]
fn a_next_page_on_another_host_does_not_get_the_token() {
    let stub = Stub::start(Box::new(|_, _| Reply {
        status: 200,
        headers: vec![(
            "Link".into(),
            "<http://127.0.0.2/orgs/acme/repos?page=2>; rel=\"next\"".into(),
        )],
        body: "[]".into(),
    }));
    let t = tempfile::tempdir().unwrap();
    // An empty page ends the listing; a non-empty one must refuse the hop.
    let stub2 = Stub::start(Box::new(|_, _| Reply {
        status: 200,
        headers: vec![(
            "Link".into(),
            "<http://127.0.0.2/orgs/acme/repos?page=2>; rel=\"next\"".into(),
        )],
        body: serde_json::json!([github_repo("a", false, false, "https://h/a.git")]).to_string(),
    }));
    let ok = leakscan(t.path())
        .env("GITHUB_TOKEN", FAKE_TOKEN)
        .args([
            "repos",
            "github",
            "--org",
            "acme",
            "--api-url",
            &stub.base(),
        ])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
    let out = leakscan(t.path())
        .env("GITHUB_TOKEN", FAKE_TOKEN)
        .args([
            "repos",
            "github",
            "--org",
            "acme",
            "--api-url",
            &stub2.base(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refusing to send the token"), "{err}");
    // Plain HTTP off the machine: refused before anything is sent.
    let out = leakscan(t.path())
        .env("GITHUB_TOKEN", FAKE_TOKEN)
        .args([
            "repos",
            "github",
            "--org",
            "acme",
            "--api-url",
            "http://leakscan-test.invalid",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("plain HTTP"), "{err}");
}

// ---------------------------------------------------------------------------
// The reusable workflow .github/workflows/org-audit.yml.

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn org_audit_workflow_is_valid_pinned_and_never_inlines_expressions_in_run() {
    let file = root().join(".github/workflows/org-audit.yml");
    let check = |p: &Path| check_schema("vendor.github-workflows", p);
    let out = check(&file);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    // Not vacuous: a job without runs-on is rejected.
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("org-audit.yml");
    std::fs::write(&p, text.replacen("    runs-on: ubuntu-24.04\n", "", 1)).unwrap();
    assert!(
        !check(&p).status.success(),
        "a job without runs-on must fail"
    );
    // Every action pinned by commit; no expression inside a run: block
    // (template injection): values reach the shell through env:.
    let (pinned, blocks) = check_run_blocks_and_pins(&text);
    assert!(pinned >= 5, "{pinned}");
    assert!(blocks >= 5, "{blocks}");
}

/// The `cargo install` double of the workflow's build step: records its
/// arguments and installs the leakscan this test run built.
fn fake_cargo(dir: &Path) -> PathBuf {
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let cargo = bin.join("cargo");
    std::fs::write(
        &cargo,
        r#"#!/usr/bin/env bash
set -euo pipefail
printf '%s\n' "$*" >> "$FAKE_CARGO_LOG"
[ "$1" = install ] || { echo "fake cargo: only install" >&2; exit 3; }
root=''
while [ $# -gt 0 ]; do
  case "$1" in --root) root=$2; shift ;; esac
  shift
done
mkdir -p "$root/bin"
cp "$LEAKSCAN_TEST_BIN" "$root/bin/leakscan"
"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn org_audit_workflow_lists_shards_scans_and_merges_in_the_mini_runner() {
    let t = tempfile::tempdir().unwrap();
    let base = served_repos(t.path(), 5);
    let d = Daemon::start(&base);
    let good: Vec<String> = (0..5).map(|i| d.url(&format!("r{i}"))).collect();
    let broken = d.url("gone");
    let mut listed: Vec<serde_json::Value> = good
        .iter()
        .enumerate()
        .map(|(i, u)| github_repo(&format!("r{i}"), false, false, u))
        .collect();
    listed.push(github_repo("gone", false, false, &broken));
    let page2 = listed.split_off(3);
    let port_holder: Arc<Mutex<u16>> = Arc::default();
    let ph = port_holder.clone();
    let stub = Stub::start(Box::new(move |req, _| {
        let port = *ph.lock().unwrap();
        if req.target.contains("page=2") {
            return Reply {
                status: 200,
                headers: vec![],
                body: serde_json::Value::from(page2.clone()).to_string(),
            };
        }
        Reply {
            status: 200,
            headers: vec![(
                "Link".into(),
                format!(
                    "<http://127.0.0.1:{port}/orgs/acme/repos?type=all&per_page=100&page=2>; rel=\"next\""
                ),
            )],
            body: serde_json::Value::from(listed.clone()).to_string(),
        }
    }));
    *port_holder.lock().unwrap() = stub.port;

    let bin = fake_cargo(t.path());
    let home = t.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let cargo_log = t.path().join("cargo.log");
    let work = t.path().join("run");
    let report = t.path().join("report.json");
    let mut cmd = tool("python3");
    cmd.arg(root().join("tests/action/miniworkflow.py"))
        .arg(root().join(".github/workflows/org-audit.yml"))
        .arg(&report)
        .arg(&work)
        .args(["--input", "org=acme", "--input", "shards=3"])
        .arg("--input")
        .arg(format!("api-url={}", stub.base()))
        .args([
            "--input",
            "leakscan-ref=0123456789abcdef0123456789abcdef01234567",
        ])
        .arg("--secret")
        .arg(format!("token={FAKE_TOKEN}"))
        .current_dir(t.path())
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("HOME", &home)
        .env("FAKE_CARGO_LOG", &cargo_log)
        .env("LEAKSCAN_TEST_BIN", env!("CARGO_BIN_EXE_leakscan"))
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITLAB_TOKEN");
    strip(&mut cmd);
    let out = cmd.output().unwrap();
    let text = std::fs::read_to_string(&report).unwrap_or_else(|_| {
        panic!(
            "the mini runner wrote no report: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The broken repository fails its shard: the run fails, and says so,
    // but the merge still runs over every shard.
    assert_eq!(out.status.code(), Some(1), "{r:#}");
    assert_eq!(r["results"]["list"]["result"], "success", "{r:#}");
    assert_eq!(r["results"]["scan"]["result"], "failure", "{r:#}");
    assert_eq!(r["results"]["merge"]["result"], "success", "{r:#}");
    assert_eq!(r["outputs"]["repositories"], "6");
    let scans: Vec<&serde_json::Value> = r["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["job"] == "scan")
        .collect();
    assert_eq!(scans.len(), 3);
    let failed: Vec<_> = scans.iter().filter(|j| j["status"] == "failure").collect();
    assert_eq!(
        failed.len(),
        1,
        "only the shard holding the broken URL fails"
    );
    let log = serde_json::to_string(&r).unwrap();
    assert!(log.contains("gone.git"), "the failure names the repository");
    assert!(!log.contains(FAKE_TOKEN), "the token leaked into a log");
    for t in ['a', 'b', 'c', 'd', 'Z'] {
        assert!(!log.contains(&token(t)), "a secret in a log");
    }
    // Built once, from the ref asked for.
    let cargo = std::fs::read_to_string(&cargo_log).unwrap();
    assert_eq!(cargo.lines().count(), 1, "{cargo}");
    assert!(cargo.contains("--rev 0123456789abcdef0123456789abcdef01234567"));
    assert!(cargo.contains("--git https://github.com/leakscan/leakscan"));
    // The stub saw the token as a bearer token on both pages.
    {
        let seen = stub.seen.lock().unwrap();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(
            seen.iter()
                .all(|q| q.headers.get("authorization").map(String::as_str)
                    == Some(&format!("Bearer {FAKE_TOKEN}")[..]))
        );
    }
    // Artifacts: three shards and the merged reports.
    let arts = r["artifacts"].as_object().unwrap();
    for i in 1..=3 {
        assert!(
            arts.contains_key(&format!("leakscan-shard-{i}")),
            "{arts:?}"
        );
    }
    let store = PathBuf::from(r["store"].as_str().unwrap());
    let audit = store.join("leakscan-audit");
    let merged: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(audit.join("leakscan-audit.json")).unwrap()).unwrap();
    let single = leakscan(t.path())
        .arg("git")
        .args(&good)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        merged,
        json_findings(&single),
        "merged shards differ from one scan"
    );
    assert!(!merged.is_empty());
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(audit.join("leakscan-audit.sarif")).unwrap())
            .unwrap();
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        merged.len()
    );
    let html = std::fs::read_to_string(audit.join("leakscan-audit.html")).unwrap();
    assert!(html.contains("Content-Security-Policy"));
    assert_eq!(
        html.matches("<section class=\"secret\"").count(),
        merged
            .iter()
            .map(|f| f["fingerprint"].as_str().unwrap())
            .collect::<BTreeSet<_>>()
            .len()
    );
    // The job summary: per-repository counts, the incomplete warning.
    let summary = r["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["job"] == "merge")
        .unwrap()["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        summary.contains("6 repositories listed, 3 of 3 shards reported"),
        "{summary}"
    );
    assert!(summary.contains("this audit is incomplete"), "{summary}");
    assert!(
        summary.contains("## leakscan organization audit"),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("{} finding", merged.len())),
        "{summary}"
    );
    // (in <code>, with `:` as an entity so that nothing autolinks)
    for i in 0..4 {
        let cell = format!("&#58;{}/r{i}.git</code> |", d.port);
        assert!(summary.contains(&cell), "{cell} missing from {summary}");
    }
    assert!(
        summary.contains("| client-secret |") || summary.contains("| token |"),
        "{summary}"
    );
    // The runner's git config got the helper, not the token; the helper
    // answers git with the token from the step's environment.
    let gitconfig = std::fs::read_to_string(home.join(".gitconfig")).unwrap();
    assert!(gitconfig.contains("helper"), "{gitconfig}");
    assert!(!gitconfig.contains(FAKE_TOKEN));
    let mut fill = Command::new("git");
    strip(&mut fill);
    fill.env_remove("GIT_CONFIG_NOSYSTEM")
        .args(["credential", "fill"])
        .env("HOME", &home)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("TOKEN", FAKE_TOKEN)
        .env("LEAKSCAN_CLONE_USER", "x-access-token")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = fill.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"protocol=https\nhost=github.com\npath=acme/r0.git\n\n")
        .unwrap();
    let filled = child.wait_with_output().unwrap();
    let filled = String::from_utf8_lossy(&filled.stdout);
    assert!(filled.contains("username=x-access-token"), "{filled}");
    assert!(
        filled.contains(&format!("password={FAKE_TOKEN}")),
        "{filled}"
    );
}
