//! The engine holds no network code (issue 14, item 6): HTTP, TLS and JWT
//! signing live in `leakscan-verify`. Besides the layering itself, this keeps
//! the fuzz crate (which builds the scanner in release mode in CI) from
//! compiling a TLS stack: the aws-lc-sys build once filled CI's disk.

use std::process::Command;

/// Crates (by name, or name prefix) that talk to the network or sign tokens.
const FORBIDDEN_PREFIXES: &[&str] = &[
    "ureq",
    "rustls",
    "hyper",
    "reqwest",
    "jsonwebtoken",
    "aws-lc",
    "openssl",
    "native-tls",
];
const FORBIDDEN_EXACT: &[&str] = &["ring"];

/// The crate names in `cargo tree -p PACKAGE -e normal`, run offline (the
/// lock file and the local registry are enough).
fn normal_dependencies(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let out = Command::new(cargo)
        .args(["tree", "--offline", "--manifest-path", manifest, "-p"])
        .arg(package)
        .args(["-e", "normal", "--prefix", "none"])
        .output()
        .expect("running cargo tree");
    assert!(
        out.status.success(),
        "cargo tree -p {package} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("cargo tree prints UTF-8");
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

fn forbidden(names: &[String]) -> Vec<&str> {
    names
        .iter()
        .map(String::as_str)
        .filter(|n| {
            FORBIDDEN_EXACT.contains(n) || FORBIDDEN_PREFIXES.iter().any(|p| n.starts_with(p))
        })
        .collect()
}

#[test]
fn the_scanner_has_no_http_tls_or_jwt_crate() {
    let names = normal_dependencies("leakscan-scanner");
    assert!(
        names.iter().any(|n| n == "leakscan-rules"),
        "cargo tree output not understood: {names:?}"
    );
    assert!(
        !names.iter().any(|n| n == "leakscan-verify"),
        "the scanner must not depend on the verify crate"
    );
    let bad = forbidden(&names);
    assert!(
        bad.is_empty(),
        "leakscan-scanner depends on network/TLS/JWT crates {bad:?}: they belong in \
         leakscan-verify (see `cargo tree -p leakscan-scanner -e normal -i <crate>`)"
    );
}

/// The check above is not vacuous: the verify crate does hold them, and the
/// names are spelled as `cargo tree` prints them.
#[test]
fn the_verify_crate_is_where_they_are() {
    let names = normal_dependencies("leakscan-verify");
    let found = forbidden(&names);
    for want in ["ureq", "rustls", "jsonwebtoken"] {
        assert!(
            found.contains(&want),
            "expected {want} under leakscan-verify, found {found:?}"
        );
    }
    assert!(names.iter().any(|n| n == "leakscan-scanner"));
}
