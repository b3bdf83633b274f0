//! Whether a path holds documentation, tests, examples, templates or
//! vendored third-party code, where generic (format-less) findings are
//! tutorial passwords and test values, not the project's leaks: the
//! generic rules don't report there unless the config asks them to
//! (`[rules] generic_in_docs_and_tests = true`). Rules for real formats
//! (checksummed tokens, keys, assertions) report everywhere.

/// Folder names whose contents are tests or fixtures (compared
/// case-insensitively).
const TEST_DIRS: &[&str] = &[
    "test",
    "tests",
    "testing",
    "__tests__",
    "testdata",
    "test-data",
    "test_data",
    "spec",
    "specs",
    "fixtures",
    "__fixtures__",
    "mocks",
    "__mocks__",
];

/// Folder names whose contents are documentation.
const DOC_DIRS: &[&str] = &["doc", "docs", "documentation"];

/// Folder names whose contents are examples, samples, tutorials and demos.
const EXAMPLE_DIRS: &[&str] = &[
    "example",
    "examples",
    "sample",
    "samples",
    "tutorial",
    "tutorials",
    "demo",
    "demos",
];

/// Folder names of vendored or generated third-party code (dependencies,
/// virtualenvs, built documentation).
const VENDORED_DIRS: &[&str] = &[
    "node_modules",
    "bower_components",
    "vendor",
    "_vendor",
    "site-packages",
    "dist-packages",
    "_build",
    ".venv",
    "venv",
    ".tox",
    "jspm_packages",
];

/// Extensions of prose documents.
const DOC_EXTS: &[&str] = &[
    ".md",
    ".markdown",
    ".rst",
    ".adoc",
    ".asciidoc",
    ".textile",
    ".rdoc",
];

/// What kind of not-the-project's-own file a path is: the reason
/// generic findings there are counted as suppressed (one count each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tests,
    Docs,
    Examples,
    Templates,
    Vendored,
}

impl Kind {
    /// The suppression count's name (`generic in tests`, ...).
    pub fn label(self) -> &'static str {
        match self {
            Kind::Tests => "generic in tests",
            Kind::Docs => "generic in docs",
            Kind::Examples => "generic in examples",
            Kind::Templates => "generic in templates",
            Kind::Vendored => "generic in vendored code",
        }
    }
}

/// Why `rel` (a `/`-separated path relative to the scanned root or the
/// repository) is documentation, a test or an example, or `None`.
pub fn docs_or_tests(rel: &str) -> Option<&'static str> {
    classify(rel).map(|(_, why)| why)
}

/// [`docs_or_tests`] with the kind of path: (kind, why).
pub fn classify(rel: &str) -> Option<(Kind, &'static str)> {
    let rel = rel.trim_start_matches("./");
    let mut parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    let original = parts.pop()?;
    let file = original.to_ascii_lowercase();
    let in_dirs = |dirs: &[&str]| {
        parts
            .iter()
            .any(|d| dirs.iter().any(|x| d.eq_ignore_ascii_case(x)))
    };
    if in_dirs(VENDORED_DIRS)
        || parts.windows(2).any(|w| {
            (w[0] == "build" && w[1] == "lib") || (w[0] == "jenkins_home" && w[1] == "plugins")
        })
    {
        return Some((Kind::Vendored, "vendored or generated third-party code"));
    }
    if in_dirs(TEST_DIRS) {
        return Some((Kind::Tests, "a test folder"));
    }
    if in_dirs(DOC_DIRS) {
        return Some((Kind::Docs, "a documentation folder"));
    }
    if in_dirs(EXAMPLE_DIRS) {
        return Some((Kind::Examples, "an example folder"));
    }
    if DOC_EXTS.iter().any(|e| file.ends_with(e)) {
        return Some((Kind::Docs, "a documentation file"));
    }
    let stem = file.split('.').next().unwrap_or("");
    let test_file = stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
        || stem.ends_with("_spec")
        || stem == "conftest"
        || [".java", ".kt", ".cs", ".scala", ".swift"].iter().any(|e| {
            original.ends_with(&format!("Test{e}")) || original.ends_with(&format!("Tests{e}"))
        })
        || [".test.", ".spec.", ".tests."]
            .iter()
            .any(|m| file.contains(m));
    if test_file {
        return Some((Kind::Tests, "a test file"));
    }
    if stem.starts_with("example")
        || stem.starts_with("sample")
        || file
            .split(['.', '-', '_'])
            .any(|w| matches!(w, "example" | "examples" | "sample" | "samples"))
    {
        return Some((Kind::Examples, "an example file"));
    }
    let last = file.rsplit('.').next().unwrap_or("");
    if file.contains('.')
        && matches!(
            last,
            "template" | "tmpl" | "dist" | "tpl" | "example" | "sample"
        )
        || file.split(['.', '-', '_']).any(|w| w == "template")
    {
        return Some((Kind::Templates, "a template file"));
    }
    None
}

/// Whether `rel` names a package manager's lock file (generated: its hex
/// values are checksums and commit ids).
pub fn lock_file(rel: &str) -> bool {
    let name = rel
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(rel)
        .to_ascii_lowercase();
    const NAMES: &[&str] = &[
        "package-lock.json",
        "npm-shrinkwrap.json",
        "pnpm-lock.yaml",
        "packages.lock.json",
        "go.sum",
        "flake.lock",
        "gradle.lockfile",
    ];
    NAMES.contains(&name.as_str()) || name.ends_with(".lock") || name.ends_with(".lockfile")
}

#[cfg(test)]
mod tests {
    use super::docs_or_tests;

    #[test]
    fn classifies_docs_tests_and_examples() {
        for p in [
            "tests/unit/test_auth.py",
            "src/__tests__/login.js",
            "pkg/auth/client_test.go",
            "docs/config.rst",
            "README.md",
            "examples/django/proj/settings.py",
            "botocore/data/iam/examples-1.json",
            "web/src/login.spec.ts",
            "src/test/java/com/acme/AuthServiceTest.java",
            "config/settings.example.env",
            "Test/Fixtures/app.config",
            "node_modules/pg/lib/defaults.js",
            "vendor/bundle/gems/x/config.rb",
            "pip-23.2.1-py3-none-any.whl!pip/_vendor/distlib/index.py",
            "lib/python3.12/site-packages/pkg/conf.py",
            "build/lib/pkg/settings.py",
            "config/app.yml.template",
            ".env.dist",
            "wp-config-sample.php",
            "docs/guide.textile",
        ] {
            assert!(docs_or_tests(p).is_some(), "{p}");
        }
    }

    #[test]
    fn kinds_name_the_suppression_reason() {
        use super::{Kind, classify};
        for (p, kind) in [
            ("tests/unit/test_auth.py", Kind::Tests),
            ("pkg/auth/client_test.go", Kind::Tests),
            ("docs/config.rst", Kind::Docs),
            ("README.md", Kind::Docs),
            ("examples/django/proj/settings.py", Kind::Examples),
            ("wp-config-sample.php", Kind::Examples),
            ("config/app.yml.template", Kind::Templates),
            ("node_modules/pg/test/defaults.js", Kind::Vendored),
            ("lib/python3.12/site-packages/pkg/conf.py", Kind::Vendored),
        ] {
            assert_eq!(classify(p).map(|c| c.0), Some(kind), "{p}");
        }
        assert_eq!(Kind::Vendored.label(), "generic in vendored code");
    }

    #[test]
    fn lock_files() {
        use super::lock_file;
        for p in [
            "package-lock.json",
            "web/yarn.lock",
            "Cargo.lock",
            "Gemfile.lock",
            "go.sum",
            "poetry.lock",
        ] {
            assert!(lock_file(p), "{p}");
        }
        for p in ["config/lock.yml", "src/lock.rs", ".env", "locks/app.json"] {
            assert!(!lock_file(p), "{p}");
        }
    }

    #[test]
    fn leaves_code_and_config_alone() {
        for p in [
            ".env",
            "config/settings.py",
            "src/main/resources/application.properties",
            "deploy/values.yaml",
            "credentials.txt",
            "src/contest/app.py",
            "latest/config.json",
            "attestation/keys.pem",
            "src/resample.py",
            "src/main/java/com/acme/Latest.java",
        ] {
            assert_eq!(docs_or_tests(p), None, "{p}");
        }
    }
}
