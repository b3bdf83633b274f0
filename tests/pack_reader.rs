//! The pack reader behind `leakscan git` (issue 3, full-history speed):
//! on repositories packed by the real `git` (deep OFS_DELTA chains,
//! REF_DELTA, several packs plus loose objects) every blob it delivers is
//! byte for byte what `git cat-file` prints, what it leaves is exactly
//! what the packs lack, findings equal the libgit2 reader's, and damaged
//! packs end in counted errors with everything else still scanned.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use leakscan_scanner::source::pack::{self, Base, OFS_DELTA, PackIndex, Payload, REF_DELTA};

mod gitutil;

use gitutil::{commit_all, git, leakscan, new_repo, strip, token, write};

/// Deterministic filler text: `n` lines that differ by `seed`.
fn lines(seed: u64, n: usize) -> String {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut out = String::new();
    for i in 0..n {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        out.push_str(&format!(
            "line {i} value {:016x} {}\n",
            x,
            "lorem ipsum ".repeat((x % 5) as usize)
        ));
    }
    out
}

/// A repository with `versions` versions of several files (each version
/// changes a few lines), optionally with secrets in some versions and on
/// a second branch.
fn history(dir: &Path, versions: usize, secrets: bool) -> PathBuf {
    let r = new_repo(dir);
    let mut files: Vec<Vec<String>> = (0..4)
        .map(|f| lines(f, 120).lines().map(str::to_string).collect())
        .collect();
    for v in 0..versions {
        for (f, body) in files.iter_mut().enumerate() {
            if (v + f) % 2 == 0 {
                let at = (v * 7 + f * 13) % body.len();
                body[at] = format!(
                    "edit {v} of file {f}: {}",
                    lines(v as u64 * 31 + f as u64, 1).trim()
                );
                body.push(format!("appended in version {v}"));
            }
        }
        for (f, body) in files.iter().enumerate() {
            let mut text = body.join("\n");
            if secrets && f == 1 && v % 10 == 3 {
                let seed = (b'a' + (v / 10) as u8) as char;
                text.push_str(&format!("\nGITHUB_TOKEN={}\n", token(seed)));
            }
            write(&r, &format!("dir{f}/file{f}.txt"), &text);
        }
        commit_all(&r, &format!("version {v}"));
    }
    if secrets {
        git(&r, &["checkout", "-q", "-b", "side", "HEAD~5"]);
        write(&r, "side.env", &format!("TOKEN={}\n", token('z')));
        commit_all(&r, "side branch secret");
        git(&r, &["checkout", "-q", "main"]);
    }
    r
}

/// Every blob reachable from every ref.
fn reachable_blobs(r: &Path) -> pack::OidSet {
    let objs = git(r, &["rev-list", "--objects", "--all"]);
    let ids: Vec<&str> = objs.lines().map(|l| &l[..40]).collect();
    let checked = pipe(r, &["cat-file", "--batch-check"], ids.join("\n").as_bytes());
    String::from_utf8(checked)
        .unwrap()
        .lines()
        .filter(|l| l.split(' ').nth(1) == Some("blob"))
        .map(|l| pack::Id::from(git2::Oid::from_str(&l[..40]).unwrap()))
        .collect()
}

fn pipe(r: &Path, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut cmd = Command::new("git");
    strip(&mut cmd)
        .current_dir(r)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        stdin.write_all(&input).unwrap();
        stdin.write_all(b"\n").unwrap();
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(out.status.success());
    out.stdout
}

/// `git cat-file --batch` for these blobs.
fn cat_file(r: &Path, oids: &pack::OidSet) -> HashMap<pack::Id, Vec<u8>> {
    let list: Vec<String> = oids.iter().map(|o| o.to_string()).collect();
    let out = pipe(r, &["cat-file", "--batch"], list.join("\n").as_bytes());
    let mut map = HashMap::new();
    let mut i = 0;
    while i < out.len() {
        let nl = i + out[i..].iter().position(|&b| b == b'\n').unwrap();
        let head = String::from_utf8_lossy(&out[i..nl]).into_owned();
        let mut parts = head.split(' ');
        let oid = pack::Id::from(git2::Oid::from_str(parts.next().unwrap()).unwrap());
        assert_eq!(parts.next(), Some("blob"), "{head}");
        let size: usize = parts.next().unwrap().parse().unwrap();
        map.insert(oid, out[nl + 1..nl + 1 + size].to_vec());
        i = nl + 1 + size + 1;
    }
    map
}

/// What the pack reader delivered: each blob's bytes (a second delivery
/// of one blob fails the test), and its report.
fn read_all(
    r: &Path,
    wanted: &pack::OidSet,
    threads: usize,
) -> (HashMap<pack::Id, Vec<u8>>, pack::PackReport) {
    let got: Mutex<HashMap<pack::Id, Vec<u8>>> = Mutex::new(HashMap::new());
    let report = pack::read_blobs(
        &r.join(".git/objects"),
        wanted,
        threads,
        u64::MAX,
        |oid, p| {
            let Payload::Data(d) = p else {
                panic!("no blob is too large here")
            };
            let again = got.lock().unwrap().insert(oid, d.to_vec());
            assert!(again.is_none(), "{oid} delivered twice");
        },
    )
    .unwrap();
    (got.into_inner().unwrap(), report)
}

fn pack_files(r: &Path) -> Vec<PathBuf> {
    pack::packs(&r.join(".git/objects"))
}

/// Entry type codes of one pack, parsed at each offset its index gives,
/// with the parsed headers keyed by offset.
fn entries(idx: &Path) -> BTreeMap<u64, pack::EntryHeader> {
    let index = PackIndex::parse(&fs::read(idx).unwrap()).unwrap();
    let data = fs::read(idx.with_extension("pack")).unwrap();
    let mut out = BTreeMap::new();
    for pos in 0..index.len() {
        let off = index.offset(pos);
        out.insert(
            off,
            pack::parse_entry_header(&data[off as usize..]).unwrap(),
        );
    }
    out
}

fn assert_all_equal(r: &Path, wanted: &pack::OidSet, got: &HashMap<pack::Id, Vec<u8>>) {
    let want = cat_file(r, &got.keys().copied().collect());
    assert_eq!(want.len(), got.len());
    for (oid, bytes) in got {
        assert!(wanted.contains(oid), "{oid} was not asked for");
        assert!(want[oid] == *bytes, "{oid} differs from git cat-file");
    }
}

#[test]
fn deep_ofs_delta_chains_decode_to_what_git_cat_file_prints() {
    let t = tempfile::tempdir().unwrap();
    let r = history(&t.path().join("r"), 90, false);
    git(&r, &["repack", "-adfq", "--depth=50", "--window=250"]);
    let idx = pack_files(&r);
    assert_eq!(idx.len(), 1);
    let e = entries(&idx[0]);
    let ofs = e.values().filter(|h| h.kind == OFS_DELTA).count();
    assert!(ofs > 100, "the repack made {ofs} deltas");
    // `git verify-pack` reports chain lengths: some are deep.
    let vp = git(&r, &["verify-pack", "-s", idx[0].to_str().unwrap()]);
    let deepest = vp
        .lines()
        .filter_map(|l| l.strip_prefix("chain length = "))
        .filter_map(|l| l.split(':').next()?.trim().parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    assert!(deepest >= 20, "{vp}");

    let wanted = reachable_blobs(&r);
    let (got, report) = read_all(&r, &wanted, 2);
    assert_eq!(got.len(), wanted.len(), "every packed blob is delivered");
    assert_eq!(report.delivered.len(), wanted.len());
    assert_eq!(report.entry_errors, 0, "{:?}", report.errors);
    // Each entry decoded at most once (commits and unneeded trees never).
    assert!(report.objects_decoded as usize <= e.len());
    assert!(report.objects_decoded as usize >= wanted.len());
    assert_all_equal(&r, &wanted, &got);

    // One thread gives the same bytes.
    let (one, _) = read_all(&r, &wanted, 1);
    assert_eq!(one, got);
}

#[test]
fn ref_delta_packs_decode_to_what_git_cat_file_prints() {
    let t = tempfile::tempdir().unwrap();
    let r = history(&t.path().join("r"), 60, false);
    git(
        &r,
        &[
            "-c",
            "repack.useDeltaBaseOffset=false",
            "-c",
            "pack.useDeltaBaseOffset=false",
            "repack",
            "-adfq",
            "--depth=50",
            "--window=250",
        ],
    );
    let idx = pack_files(&r);
    let e = entries(&idx[0]);
    let refs = e.values().filter(|h| h.kind == REF_DELTA).count();
    assert!(refs > 50, "{refs} REF_DELTA entries");
    assert!(e.values().all(|h| h.kind != OFS_DELTA));
    assert!(e.values().any(|h| matches!(h.base, Base::Ref(_))));

    let wanted = reachable_blobs(&r);
    let (got, report) = read_all(&r, &wanted, 2);
    assert_eq!(got.len(), wanted.len());
    assert_eq!(report.entry_errors, 0, "{:?}", report.errors);
    assert_all_equal(&r, &wanted, &got);
}

#[test]
fn two_packs_and_loose_objects_delivered_plus_fallback_is_the_reachable_set() {
    let t = tempfile::tempdir().unwrap();
    let r = history(&t.path().join("r"), 20, false);
    git(&r, &["repack", "-dq"]);
    for v in 0..3 {
        write(&r, "dir1/file1.txt", &lines(800 + v, 80));
        commit_all(&r, &format!("more {v}"));
    }
    // A second pack holding everything (the first stays): each object in
    // two packs must still be delivered once.
    git(&r, &["repack", "-aq"]);
    git(&r, &["prune-packed"]);
    // Then loose objects.
    for v in 0..3 {
        write(&r, &format!("loose{v}.txt"), &lines(900 + v, 30));
        write(&r, "dir0/file0.txt", &lines(950 + v, 80));
        commit_all(&r, &format!("loose {v}"));
    }
    assert_eq!(pack_files(&r).len(), 2);
    let wanted = reachable_blobs(&r);
    let (got, report) = read_all(&r, &wanted, 2);
    assert_eq!(report.packs_read, 2);
    assert_all_equal(&r, &wanted, &got);
    let rest: pack::OidSet = wanted.difference(&report.delivered).copied().collect();
    let loose: pack::OidSet = wanted
        .iter()
        .filter(|o| {
            let s = o.to_string();
            r.join(".git/objects").join(&s[..2]).join(&s[2..]).is_file()
        })
        .copied()
        .collect();
    assert_eq!(
        rest, loose,
        "what the packs lack is exactly the loose blobs"
    );
    assert_eq!(loose.len(), 6);
}

/// Issue 17: once trees and commits are read, the packs keep the entries
/// of blob chains alone (`Packs::retain`); a blob pass over what is kept
/// delivers every blob a fresh reader does, byte for byte, each once, with
/// OFS_DELTA and REF_DELTA chains and an object held by two packs.
#[test]
fn blob_pass_after_the_packs_keep_blob_chains_alone_delivers_the_same() {
    let t = tempfile::tempdir().unwrap();
    let r = history(&t.path().join("r"), 40, false);
    git(
        &r,
        &[
            "-c",
            "pack.useDeltaBaseOffset=false",
            "repack",
            "-adfq",
            "--depth=20",
        ],
    );
    for v in 0..4 {
        write(&r, "dir1/file1.txt", &lines(700 + v, 90));
        commit_all(&r, &format!("more {v}"));
    }
    // A second pack with everything, OFS_DELTA this time; the first stays.
    git(&r, &["repack", "-afq", "--depth=20"]);
    assert_eq!(pack_files(&r).len(), 2);
    let wanted = reachable_blobs(&r);
    let (fresh, fresh_report) = read_all(&r, &wanted, 2);
    assert_eq!(fresh.len(), wanted.len());

    let mut packs = pack::Packs::open(&r.join(".git/objects"));
    let trees = Mutex::new(0usize);
    pack::read_objects_in(
        &packs,
        pack::Select::Kinds(&[pack::TREE]),
        2,
        u64::MAX,
        |_, k, _| {
            assert_eq!(k, pack::TREE);
            *trees.lock().unwrap() += 1;
        },
    )
    .unwrap();
    assert!(*trees.lock().unwrap() > 40);
    let all = packs.heap_bytes();
    assert!(packs.count(pack::BLOB) >= wanted.len());
    packs.retain(pack::BLOB);
    let kept = packs.heap_bytes();
    assert!(kept < all, "{kept} of {all} bytes kept");
    assert!(packs.count(pack::BLOB) >= wanted.len());
    let got: Mutex<HashMap<pack::Id, Vec<u8>>> = Mutex::new(HashMap::new());
    let report = pack::read_objects_in(
        &packs,
        pack::Select::Kinds(&[pack::BLOB]),
        2,
        u64::MAX,
        |oid, k, p| {
            assert_eq!(k, pack::BLOB);
            let Payload::Data(d) = p else {
                panic!("no blob is too large here")
            };
            let again = got.lock().unwrap().insert(oid, d.to_vec());
            assert!(again.is_none(), "{oid} delivered twice");
        },
    )
    .unwrap();
    let got = got.into_inner().unwrap();
    assert_eq!(report.entry_errors, 0, "{:?}", report.errors);
    assert_eq!(report.delivered, fresh_report.delivered);
    assert_eq!(got, fresh);
    assert_all_equal(&r, &wanted, &got);
    // Nothing but blobs is left to select.
    let none = pack::read_objects_in(
        &packs,
        pack::Select::Kinds(&[pack::TREE]),
        2,
        u64::MAX,
        |_, _, _| panic!("no tree is kept"),
    )
    .unwrap();
    assert!(none.delivered.is_empty());
}

/// `leakscan git` JSON findings and the `--stats` JSON, with one reader.
fn scan(
    r: &Path,
    reader: &str,
    extra: &[&str],
) -> (i32, Vec<serde_json::Value>, serde_json::Value, String) {
    let stats_dir = tempfile::tempdir().unwrap();
    let stats = stats_dir.path().join("stats.json");
    let out = leakscan(r)
        .args([
            "git",
            "--format",
            "json",
            "--threads",
            "2",
            "--git-reader",
            reader,
            "--stats",
        ])
        .arg(&stats)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let findings = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let stats: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&stats).unwrap()).unwrap();
    (out.status.code().unwrap(), findings, stats, stderr)
}

#[test]
fn findings_are_identical_with_the_pack_and_libgit2_readers() {
    let t = tempfile::tempdir().unwrap();
    let r = history(&t.path().join("r"), 50, true);
    git(&r, &["repack", "-adfq", "--depth=50", "--window=250"]);
    // A loose commit with one more secret on top.
    write(&r, "late.env", &format!("TOKEN={}\n", token('y')));
    commit_all(&r, "late secret");

    let (code_p, pack_f, pack_s, _) = scan(&r, "pack", &[]);
    let (code_l, lib_f, lib_s, _) = scan(&r, "libgit2", &[]);
    assert_eq!((code_p, code_l), (1, 1));
    // 5 versions with distinct secrets (each kept by later versions of
    // nothing: the secret line is only in that version), the side branch,
    // the loose one.
    assert_eq!(pack_f.len(), 7, "{pack_f:#?}");
    assert_eq!(pack_f, lib_f);
    for k in ["files_scanned", "bytes_scanned", "errors_total", "skipped"] {
        assert_eq!(pack_s[k], lib_s[k], "{k}");
    }
    assert!(pack_s["phases_ms"]["read-pack"].is_u64(), "{pack_s}");
    assert!(
        pack_s["phases_ms"]["read-fallback"].is_u64(),
        "the loose blob: {pack_s}"
    );
    assert!(lib_s["phases_ms"]["read-libgit2"].is_u64(), "{lib_s}");

    // --no-match and a size limit behave alike too.
    let (_, _, p, _) = scan(&r, "pack", &["--no-match"]);
    let (_, _, l, _) = scan(&r, "libgit2", &["--no-match"]);
    assert_eq!(p["bytes_scanned"], l["bytes_scanned"]);
    let (_, pf, p, _) = scan(&r, "pack", &["--max-file-size", "3000"]);
    let (_, lf, l, _) = scan(&r, "libgit2", &["--max-file-size", "3000"]);
    assert!(p["skipped"]["too-large"].as_u64().unwrap() > 10, "{p}");
    assert_eq!(p["skipped"], l["skipped"]);
    assert_eq!(p["files_scanned"], l["files_scanned"]);
    assert_eq!(pf, lf);
}

#[test]
fn keyword_hits_derived_from_delta_bases_equal_whole_blob_search() {
    // One file in 40 versions, each a small edit of the last: after a deep
    // repack most versions are deltas. Secrets arrive, stay for a while
    // (in runs the deltas copy), sit next to later edits, and go.
    let t = tempfile::tempdir().unwrap();
    let r = new_repo(&t.path().join("r"));
    let mut body: Vec<String> = lines(7, 300).lines().map(str::to_string).collect();
    let mut secrets: Vec<String> = (0..6)
        .map(|k| format!("GITHUB_TOKEN={}", token((b'a' + k) as char)))
        .collect();
    // No other keyword on its line.
    secrets.push(format!("note {}", token('g')));
    let mut expected = 0;
    for v in 0..40usize {
        let at = (v * 37) % body.len();
        body[at] = format!("edit {v}: {}", lines(v as u64 + 99, 1).trim());
        match v {
            // Arrives mid-file and stays.
            5 => body.insert(150, secrets[0].clone()),
            // Arrives just before the line the next version edits.
            12 => body.insert(((13 * 37) % body.len()).max(1) - 1, secrets[1].clone()),
            // Two secrets on adjacent lines, then the first goes.
            18 => {
                body.insert(60, secrets[2].clone());
                body.insert(61, secrets[3].clone());
            }
            24 => body.retain(|l| *l != secrets[2]),
            // At the very start and the very end.
            27 => {
                body.insert(0, secrets[4].clone());
                body.push(secrets[5].clone());
            }
            // A line holds a token, then only its first letters: git makes
            // the older version a delta of the newer, copying up to "gh"
            // and adding the rest, so `ghp_` straddles a copy and an insert.
            30 => body[200] = secrets[6].clone(),
            31 => body[200] = "note ghz".to_string(),
            // The mid-file secret goes.
            33 => body.retain(|l| *l != secrets[0]),
            _ => {}
        }
        expected += body
            .iter()
            .filter(|l| secrets.iter().any(|s| l.contains(s.as_str())))
            .count();
        write(&r, "conf.txt", &(body.join("\n") + "\n"));
        commit_all(&r, &format!("version {v}"));
    }
    git(&r, &["repack", "-adfq", "--depth=50", "--window=250"]);
    let idx = pack_files(&r);
    let vp = git(&r, &["verify-pack", "-v", idx[0].to_str().unwrap()]);
    let deltas = vp
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("blob"))
        .filter(|l| l.split_whitespace().count() >= 7)
        .count();
    assert!(deltas >= 30, "most versions are deltas: {vp}");

    let (code, derived, _, _) = scan(&r, "pack", &[]);
    let (_, whole, _, _) = scan(&r, "pack", &["--no-delta-hits"]);
    let (_, lib, _, _) = scan(&r, "libgit2", &[]);
    assert_eq!(code, 1);
    assert_eq!(derived.len(), expected, "{derived:#?}");
    assert_eq!(derived, whole);
    assert_eq!(derived, lib);
}

// ------------------------------------------------------------- hostile ---

/// A fake AWS access key id per file (valid in format, not a real key;
/// the id's characters are base32).
fn aws(n: usize) -> String {
    let a = b'A' + (n / 6) as u8;
    let b = b'2' + (n % 6) as u8;
    format!(
        "aws_access_key_id = AKIAZ7TQ4VWB3N5RXK{}{}\n",
        a as char, b as char
    )
}

/// Files a.txt..e.txt, each with its own secret, and a file `big.txt`
/// whose later versions are deltas of earlier ones; one pack.
fn packed_repo(dir: &Path) -> (PathBuf, Vec<String>) {
    let r = new_repo(dir);
    for (n, f) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        write(&r, &format!("{f}.txt"), &aws(n + 10));
    }
    let mut big = lines(5, 200);
    write(&r, "big.txt", &big);
    commit_all(&r, "base");
    let mut versions = Vec::new();
    for v in 0..4 {
        big.push_str(&lines(100 + v, 40));
        if v == 2 {
            big.push_str(&aws(42));
        }
        write(&r, "big.txt", &big);
        commit_all(&r, &format!("big v{v}"));
        versions.push(git(&r, &["rev-parse", "HEAD:big.txt"]));
    }
    git(&r, &["repack", "-adfq", "--depth=50", "--window=250"]);
    (r, versions)
}

fn found_paths(f: &[serde_json::Value]) -> Vec<String> {
    let mut p: Vec<String> = f
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    p.sort();
    p.dedup();
    p
}

fn varint(mut v: usize, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

#[test]
fn corrupt_delta_is_a_counted_error_and_every_other_blob_is_scanned() {
    let t = tempfile::tempdir().unwrap();
    let (r, versions) = packed_repo(&t.path().join("r"));
    let wanted = reachable_blobs(&r);
    let idx = &pack_files(&r)[0];
    let index = PackIndex::parse(&fs::read(idx).unwrap()).unwrap();
    let pack_path = idx.with_extension("pack");
    let mut data = fs::read(&pack_path).unwrap();
    let e = entries(idx);
    // A version of big.txt that git stored as a delta.
    let (victim, off) = versions
        .iter()
        .map(|v| git2::Oid::from_str(v).unwrap())
        .map(|o| (o, index.offset(index.find(o.as_bytes()).expect("packed"))))
        .find(|(_, off)| e[off].kind == OFS_DELTA)
        .expect("some version of big.txt is a delta");
    let h = e[&off];
    let next = e
        .range(off + 1..)
        .next()
        .map(|(&o, _)| o)
        .unwrap_or(data.len() as u64 - 20);
    let start = off as usize + h.len;
    let room = next as usize - start;
    // The old delta's source size stays; a copy far outside the base, then
    // inserts so the delta keeps the size the entry header announces.
    let mut d = flate2::read::ZlibDecoder::new(&data[start..next as usize]);
    let mut old = Vec::new();
    std::io::Read::read_to_end(&mut d, &mut old).unwrap();
    assert_eq!(old.len() as u64, h.size);
    let mut src = Vec::new();
    let mut i = 0;
    loop {
        src.push(old[i]);
        i += 1;
        if old[i - 1] & 0x80 == 0 {
            break;
        }
    }
    let mut delta = Vec::new();
    let mut target = 0x20usize;
    for _ in 0..4 {
        delta = src.clone();
        varint(target, &mut delta);
        delta.extend([0x9f, 0xff, 0xff, 0xff, 0x7f, 0x20]); // copy 32 at 0x7fffffff
        let mut lit = 0;
        while delta.len() < old.len() {
            let n = (old.len() - delta.len() - 1).clamp(1, 127);
            delta.push(n as u8);
            delta.extend(std::iter::repeat_n(b'A', n));
            lit += n;
        }
        delta.truncate(old.len());
        target = 0x20 + lit;
    }
    assert_eq!(delta.len(), old.len());
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&delta).unwrap();
    let new = z.finish().unwrap();
    assert!(new.len() <= room, "{} > {room}", new.len());
    data[start..start + new.len()].copy_from_slice(&new);
    for b in &mut data[start + new.len()..next as usize] {
        *b = 0;
    }
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&pack_path, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&pack_path, &data).unwrap();

    // The library: one entry error; the victim and the deltas built on it
    // are left to the fallback, everything else is delivered.
    let (got, report) = read_all(&r, &wanted, 2);
    assert_eq!(report.entry_errors, 1, "{report:?}");
    let lost = below(&e, off);
    assert!(!got.contains_key(&pack::Id::from(victim)));
    assert_eq!(got.len(), wanted.len() - lost, "{lost} lost");
    assert_all_equal(&r, &wanted, &got);

    for reader in ["pack", "libgit2"] {
        let (code, f, stats, stderr) = scan(&r, reader, &[]);
        assert_eq!(code, 1, "{reader}: {stderr}");
        let paths = found_paths(&f);
        for p in ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"] {
            assert!(paths.contains(&p.to_string()), "{reader}: {paths:?}");
        }
        assert!(
            stats["errors_total"].as_u64().unwrap() >= 1,
            "{reader}: {stats}"
        );
        assert!(
            stats["errors"].to_string().contains(&victim.to_string()),
            "{reader}: {stats}"
        );
        assert!(!stderr.contains("AKIAZ7TQ4VWB3N5RX"), "{stderr}");
    }
    assert_eq!(scan(&r, "pack", &[]).1, scan(&r, "libgit2", &[]).1);
    assert_eq!(
        scan(&r, "pack", &[]).2["errors_total"],
        scan(&r, "libgit2", &[]).2["errors_total"]
    );
}

/// How many entries are `off` itself or deltas built (through any chain
/// of OFS_DELTA links) on it.
fn below(e: &BTreeMap<u64, pack::EntryHeader>, off: u64) -> usize {
    e.iter()
        .filter(|&(&o, _)| {
            let mut x = o;
            loop {
                if x == off {
                    return true;
                }
                match e[&x].base {
                    Base::Ofs(d) => x -= d,
                    _ => return false,
                }
            }
        })
        .count()
}

#[test]
fn index_offset_past_the_end_is_a_counted_error_and_the_rest_is_scanned() {
    let t = tempfile::tempdir().unwrap();
    let (r, _) = packed_repo(&t.path().join("r"));
    let wanted = reachable_blobs(&r);
    let idx = pack_files(&r)[0].clone();
    let index = PackIndex::parse(&fs::read(&idx).unwrap()).unwrap();
    let victim =
        pack::Id::from(git2::Oid::from_str(&git(&r, &["rev-parse", "HEAD:c.txt"])).unwrap());
    let pos = index.find(victim.as_bytes()).unwrap();
    // The 32-bit offset table follows the header, fanout, ids and CRCs.
    let n = index.len();
    let at = 8 + 1024 + n * 24 + pos * 4;
    let mut bytes = fs::read(&idx).unwrap();
    bytes[at..at + 4].copy_from_slice(&0x7fff_0000u32.to_be_bytes());
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&idx, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&idx, &bytes).unwrap();

    let (got, report) = read_all(&r, &wanted, 2);
    assert!(report.entry_errors >= 1, "{report:?}");
    assert!(!got.contains_key(&victim));
    assert_eq!(got.len(), wanted.len() - 1);
    assert_all_equal(&r, &wanted, &got);

    for reader in ["pack", "libgit2"] {
        let (code, f, stats, stderr) = scan(&r, reader, &[]);
        assert_eq!(code, 1, "{reader}: {stderr}");
        let paths = found_paths(&f);
        assert_eq!(
            paths,
            ["a.txt", "b.txt", "big.txt", "d.txt", "e.txt"],
            "{reader}"
        );
        assert!(
            stats["errors"].to_string().contains(&victim.to_string()),
            "{reader}: {stats}"
        );
    }
}

#[test]
fn unreachable_packed_blob_is_read_but_not_reported_unless_all_objects() {
    let t = tempfile::tempdir().unwrap();
    let r = history(&t.path().join("r"), 6, false);
    write(&r, "dropped.env", &format!("TOKEN={}\n", token('u')));
    commit_all(&r, "to be dropped");
    let dropped = git(&r, &["rev-parse", "HEAD:dropped.env"]);
    git(&r, &["repack", "-adq"]);
    git(&r, &["reset", "-q", "--hard", "HEAD~1"]);
    git(&r, &["reflog", "expire", "--expire=now", "--all"]);
    // The dropped blob is in the pack, reachable from nothing.
    let idx = &pack_files(&r)[0];
    let index = PackIndex::parse(&fs::read(idx).unwrap()).unwrap();
    assert!(
        index
            .find(git2::Oid::from_str(&dropped).unwrap().as_bytes())
            .is_some()
    );

    let (code_p, f_p, s_p, _) = scan(&r, "pack", &[]);
    let (code_l, f_l, s_l, _) = scan(&r, "libgit2", &[]);
    assert_eq!((code_p, code_l), (0, 0), "{f_p:?}");
    assert_eq!(f_p, f_l);
    for k in ["files_scanned", "bytes_scanned", "skipped", "errors_total"] {
        assert_eq!(s_p[k], s_l[k], "{k}");
    }
    let (code_p, f_p, s_p, _) = scan(&r, "pack", &["--all-objects"]);
    let (code_l, f_l, s_l, _) = scan(&r, "libgit2", &["--all-objects"]);
    assert_eq!((code_p, code_l), (1, 1));
    assert_eq!(f_p.len(), 1);
    assert_eq!(f_p, f_l);
    assert_eq!(s_p["files_scanned"], s_l["files_scanned"]);
    // --branch takes the other path (read only what the walk reached).
    let (code_p, f_p, s_p, _) = scan(&r, "pack", &["--branch", "main"]);
    let (_, f_l, s_l, _) = scan(&r, "libgit2", &["--branch", "main"]);
    assert_eq!(code_p, 0);
    assert_eq!(f_p, f_l);
    assert_eq!(s_p["bytes_scanned"], s_l["bytes_scanned"]);
}
