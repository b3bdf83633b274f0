//! `--format sarif` from `dir` and `git`: valid against the SARIF 2.1.0
//! schema and GitHub code scanning's rules, deterministic, and never
//! carrying the secret (not even with `--no-redact`).

mod gitutil;
mod sarif_check;

use gitutil::{commit_all, git, leakscan, new_repo, write};

const AWS: &str = "AKIAZ7TQ4VWB3N5RXK2M";
const PEM: &str = "-----BEGIN PRIVATE KEY-----
MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAu1SU1LfVLPHCozMxH2Mo
4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKh
-----END PRIVATE KEY-----";

fn run(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = leakscan(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn dir_sarif_is_valid_relative_encoded_and_secret_free() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "conf/a b #1%.env",
        &format!("x = 1\naws_access_key_id = {AWS}\n"),
    );
    write(d, "keys/é.pem", &format!("// ünïcode before\n{PEM}\n"));
    let gh = gitutil::token('q');
    write(d, "src/main.rs", &format!("let t = \"{gh}\"; // ç\n"));

    for extra in [&[][..], &["--no-redact"][..]] {
        let mut args = vec!["dir", "--format", "sarif", "--quiet"];
        args.extend_from_slice(extra);
        let (code, out, err) = run(d, &args);
        assert_eq!(code, 1, "{err}");
        let log = sarif_check::check(&out, &[AWS, &gh, PEM.lines().nth(1).unwrap()]);
        let results = sarif_check::results(&log);
        assert_eq!(results.len(), 3, "{out}");

        let by_rule = |id: &str| {
            results
                .iter()
                .find(|r| r["ruleId"] == id)
                .unwrap_or_else(|| panic!("no {id} result"))
        };
        let aws = by_rule("aws-access-key-id");
        let loc = &aws["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "conf/a%20b%20%231%25.env");
        assert_eq!(
            sarif_check::decode_uri(loc["artifactLocation"]["uri"].as_str().unwrap()),
            "conf/a b #1%.env"
        );
        // "aws_access_key_id = " is 20 characters: the key starts at column 21.
        assert_eq!(loc["region"]["startLine"], 2);
        assert_eq!(loc["region"]["startColumn"], 21);
        assert_eq!(loc["region"]["endColumn"], 21 + AWS.len());
        assert_eq!(aws["level"], "error");

        let pem = by_rule("pem-private-key");
        let loc = &pem["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "keys/%C3%A9.pem");
        assert_eq!(loc["region"]["startLine"], 2);
        assert_eq!(loc["region"]["endLine"], 5);
        // Exclusive end: one past "-----END PRIVATE KEY-----".
        assert_eq!(loc["region"]["endColumn"], 26);

        // Columns count characters: `"` after `let t = ` is column 9.
        let tok = by_rule("github-token");
        let region = &tok["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startColumn"], 10);
        assert_eq!(region["endColumn"], 10 + gh.chars().count());

        let rules = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            ["aws-access-key-id", "github-token", "pem-private-key"]
        );
        let tags = &rules[2]["properties"]["tags"];
        assert!(tags.as_array().unwrap().contains(&"private-key".into()));
        assert!(
            rules[0]["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("Deactivate and delete the access key")
        );
        assert_eq!(
            log["runs"][0]["automationDetails"]["id"], "leakscan/",
            "default category"
        );
    }
}

#[test]
fn sarif_is_deterministic_and_category_is_configurable() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for i in 0..20 {
        write(
            d,
            &format!("f{i}/x.env"),
            &format!("aws_access_key_id = {AWS}\n"),
        );
    }
    let (_, a, _) = run(
        d,
        &["dir", "--format", "sarif", "--quiet", "--threads", "4"],
    );
    let (_, b, _) = run(
        d,
        &["dir", "--format", "sarif", "--quiet", "--threads", "3"],
    );
    assert_eq!(a, b, "two runs give byte-identical SARIF");
    sarif_check::check(&a, &[AWS]);

    let (_, c, _) = run(
        d,
        &[
            "dir",
            "--format",
            "sarif",
            "--quiet",
            "--sarif-category",
            "secrets/tree",
        ],
    );
    let log = sarif_check::check(&c, &[AWS]);
    assert_eq!(log["runs"][0]["automationDetails"]["id"], "secrets/tree/");

    // A clean tree gives a valid SARIF with no results.
    let clean = tempfile::tempdir().unwrap();
    write(clean.path(), "README", "nothing here\n");
    let (code, out, _) = run(clean.path(), &["dir", "--format", "sarif", "--quiet"]);
    assert_eq!(code, 0);
    let log = sarif_check::check(&out, &[]);
    assert!(sarif_check::results(&log).is_empty());
}

#[test]
fn git_history_sarif_names_the_commit_and_author() {
    let tmp = tempfile::tempdir().unwrap();
    let d = new_repo(tmp.path());
    write(&d, "README", "hello\n");
    commit_all(&d, "first");
    write(
        &d,
        "deploy/creds.env",
        &format!("aws_access_key_id = {AWS}\n"),
    );
    let leak = commit_all(&d, "add creds");
    std::fs::remove_file(d.join("deploy/creds.env")).unwrap();
    commit_all(&d, "remove creds");

    let (code, out, err) = run(&d, &["git", "--format", "sarif", "--quiet"]);
    assert_eq!(code, 1, "{err}");
    let log = sarif_check::check(&out, &[AWS]);
    let results = sarif_check::results(&log);
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(r["properties"]["commit"], leak.as_str());
    assert_eq!(r["properties"]["author"], "Ann Author");
    assert!(r["properties"]["date"].as_str().is_some());
    assert!(r["message"]["text"].as_str().unwrap().contains(&leak));
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "deploy/creds.env"
    );

    // The range form too.
    let first = git(&d, &["rev-list", "--max-parents=0", "HEAD"]);
    let (code, out, _) = run(
        &d,
        &[
            "git",
            "--range",
            &format!("{first}..HEAD"),
            "--format",
            "sarif",
            "--quiet",
        ],
    );
    assert_eq!(code, 1);
    sarif_check::check(&out, &[AWS]);
}

#[test]
fn the_schema_check_is_not_vacuous() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "x.env", &format!("aws_access_key_id = {AWS}\n"));
    let (_, out, _) = run(tmp.path(), &["dir", "--format", "sarif", "--quiet"]);
    let good: serde_json::Value = serde_json::from_str(&out).unwrap();
    let v = sarif_check::schema_validator();
    assert!(v.is_valid(&good));
    let region = "/runs/0/results/0/locations/0/physicalLocation/region/startLine";
    let mut bad = good.clone();
    *bad.pointer_mut(region).unwrap() = 0.into();
    assert!(!v.is_valid(&bad), "startLine 0 is rejected");
    let mut bad = good.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!v.is_valid(&bad), "unknown level is rejected");
    let mut bad = good.clone();
    bad["runs"][0]["results"][0]["message"] = serde_json::json!({});
    assert!(!v.is_valid(&bad), "a message without text is rejected");
}
