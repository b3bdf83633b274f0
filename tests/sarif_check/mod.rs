//! Checks a SARIF log against the SARIF 2.1.0 schema (draft-04, with
//! formats) and against GitHub code scanning's own rules.
#![allow(dead_code)]

use std::path::Path;

use serde_json::Value;

pub fn schema_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(&path).expect("reading the SARIF schema");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

/// Validates against the schema and GitHub's rules; `secrets` must appear
/// nowhere in the file (not even a long prefix of one).
pub fn check(text: &str, secrets: &[&str]) -> Value {
    for s in secrets {
        assert!(!text.contains(s), "the secret is in the SARIF:\n{text}");
        // Not even its second half (redaction shows at most a 4-char prefix).
        let half = &s[s.len() / 2..];
        assert!(!text.contains(half), "part of the secret is in the SARIF");
    }
    let log: Value = serde_json::from_str(text).expect("SARIF is JSON");
    let validator = schema_validator();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}\n{text}");

    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().is_some_and(|s| !s.is_empty()));
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "one run per file");
    let run = &runs[0];
    assert!(
        run["automationDetails"]["id"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "leakscan");
    for k in ["version", "semanticVersion", "informationUri"] {
        assert!(driver[k].as_str().is_some_and(|s| !s.is_empty()), "{k}");
    }
    let rules = driver["rules"].as_array().expect("rules");
    let mut ids = Vec::new();
    for r in rules {
        let id = r["id"].as_str().expect("rule id");
        assert!(!id.is_empty() && !id.contains(' '), "rule id {id:?}");
        ids.push(id.to_string());
        for k in ["shortDescription", "fullDescription"] {
            let t = r[k]["text"].as_str().expect(k);
            assert!(!t.is_empty() && t.chars().count() <= 1024, "{k}: {t}");
        }
        assert!(
            r["name"]
                .as_str()
                .is_some_and(|n| !n.is_empty() && n.len() <= 255)
        );
        assert!(r["help"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(
            r["help"]["markdown"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        );
        let tags: Vec<&str> = r["properties"]["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(tags.contains(&"security"), "{tags:?}");
        assert!(tags.len() <= 20);
        let sev = r["properties"]["security-severity"]
            .as_str()
            .expect("security-severity is a string");
        let n: f64 = sev.parse().expect("security-severity is numeric");
        assert!(n > 0.0 && n <= 10.0, "{n}");
        assert!(
            ["very-high", "high", "medium", "low"]
                .contains(&r["properties"]["precision"].as_str().unwrap())
        );
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "rules in a stable order");

    for res in run["results"].as_array().expect("results") {
        let rule_id = res["ruleId"].as_str().expect("ruleId");
        let idx = res["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(ids[idx], rule_id, "ruleIndex points at its rule");
        assert!(["error", "warning", "note"].contains(&res["level"].as_str().unwrap()));
        let msg = res["message"]["text"].as_str().expect("message");
        assert!(msg.contains(rule_id), "message names the rule: {msg}");
        let locs = res["locations"].as_array().expect("locations");
        assert_eq!(locs.len(), 1);
        let phys = &locs[0]["physicalLocation"];
        let uri = phys["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(
            !uri.starts_with('/') && !uri.starts_with("./") && !uri.contains("://"),
            "repository-relative uri: {uri}"
        );
        assert!(
            !uri.contains(' ') && !uri.contains('\\'),
            "encoded uri: {uri}"
        );
        assert_eq!(phys["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let region = &phys["region"];
        let n = |k: &str| region[k].as_u64().unwrap_or_else(|| panic!("region.{k}"));
        for k in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(n(k) >= 1, "{k} >= 1");
        }
        assert!(n("endLine") >= n("startLine"));
        if n("endLine") == n("startLine") {
            assert!(n("endColumn") > n("startColumn"), "endColumn is exclusive");
        }
        let fp = res["partialFingerprints"]["leakscan/v1"]
            .as_str()
            .expect("leakscan fingerprint");
        assert!(fp.starts_with(&format!("{rule_id}:")), "{fp}");
        assert!(res["properties"]["category"].as_str().is_some());
        if let Some(c) = res["properties"]["commit"].as_str() {
            assert!(msg.contains(c), "history results name their commit: {msg}");
        }
    }
    log
}

/// The results of the single run.
pub fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().unwrap()
}

/// Percent-decodes a SARIF uri.
pub fn decode_uri(uri: &str) -> String {
    let b = uri.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(h, 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}
