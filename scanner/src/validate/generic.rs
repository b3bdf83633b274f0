//! Filters for generic rules: placeholders and variable references, and the
//! judgement of whether an assigned value or a URL password looks like a
//! generated secret rather than code, a tutorial password or a local
//! development database.

use super::{Candidate, Validated, Verdict};

/// Rejects values that name a secret rather than hold one: variable
/// references, templates, masked or repeated characters, example words.
pub(super) fn placeholder(s: &[u8]) -> Verdict {
    let lower = s.to_ascii_lowercase();
    let t = String::from_utf8_lossy(&lower);
    const WORDS: &[&str] = &[
        "changeme",
        "change_me",
        "change-me",
        "xxxx",
        "****",
        "....",
        "example",
        "placeholder",
        "your-",
        "your_",
        "yourpass",
        "<your",
        "dummy",
        "redacted",
        "sample",
        "todo",
        "fixme",
        "secret_here",
        "insert",
        "replace",
        "foobar",
        "password1",
        "passw0rd",
        "abcdef",
        "123456",
        "qwerty",
        "letmein",
        "notreal",
        "fake",
    ];
    if let Some(w) = WORDS.iter().find(|w| t.contains(**w)) {
        // Four random `x` can occur in generated text: a mask is mostly x.
        if *w != "xxxx" || t.matches('x').count() * 3 >= t.len() {
            return Err(format!("placeholder word {w:?}"));
        }
    }
    const SIGILS: &[&str] = &[
        "${",
        "{{",
        "<%",
        "#{",
        "os.environ",
        "process.env",
        "getenv",
    ];
    if let Some(w) = SIGILS.iter().find(|w| t.contains(**w)) {
        return Err(format!("variable reference {w:?}"));
    }
    if let Some(w) = ["$(", "%("].iter().find(|w| substitution(&t, w)) {
        return Err(format!("variable reference {w:?}"));
    }
    if t.starts_with('<') && t.ends_with('>')
        || t.len() > 2
            && t.starts_with('%')
            && t.ends_with('%')
            && reads_as_name(&String::from_utf8_lossy(&s[1..s.len() - 1]))
    {
        return Err("variable reference".into());
    }
    if let Some(rest) = t.strip_prefix('$')
        && (rest.is_empty() || reference_name(&String::from_utf8_lossy(&s[1..])))
    {
        return Err("variable reference".into());
    }
    let first = s.first().copied().unwrap_or(0);
    if s.iter().all(|&b| b == first) {
        return Err("one repeated character".into());
    }
    Ok(Validated::default())
}

/// Whether `open` (`$(` or `%(`) starts a substitution in `t`: a name of
/// letters, digits, `_`, `.`, `-` or spaces, then the closing `)`
/// (`$(cat key)`, `%(name)s`), not generated characters around a `(`.
fn substitution(t: &str, open: &str) -> bool {
    t.match_indices(open).any(|(i, _)| {
        let rest = &t[i + open.len()..];
        let Some(end) = rest.find(')') else {
            return false;
        };
        let inner = &rest[..end];
        let after = rest.as_bytes().get(end + 1).copied();
        // `%(name)s` ends with its conversion; `$(cmd args)` runs a
        // command: a name of code words either way.
        (open != "%(" || matches!(after, Some(b's' | b'd' | b'r' | b'i' | b'f' | b'x')))
            && inner.len() >= 3
            && inner.split([' ', '/']).filter(|w| !w.is_empty()).all(|w| {
                // A command or a name with a vowel (`$(cat key)`,
                // `%(name)s`); bare short consonants (`$(ffd)`) only
                // with arguments.
                is_code_word(w)
                    || is_code_name(w)
                    || (reads_as_name(w) && inner.contains(' '))
                    || w.starts_with('-')
            })
            && inner.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 2
    })
}

/// Whether the text after a sigil (`$`, `@`, `%`, `!`, `#`, `&`, `*`)
/// reads as a name (`$DB_PASSWORD`, `@password`, `!Ref DbPass`, `&anchor`,
/// `*alias`, `%env.password`): a reference, judged by the whole value. A
/// generated value with a leading symbol mixes digits, cases and symbols
/// and is not one.
fn reference_name(rest: &str) -> bool {
    if !rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return false;
    }
    if reads_as_name(rest) {
        return true;
    }
    // A name, then an index, a call, a tag's argument or a key:
    // `$cfg[db]`, `@Value(x)`, `!Ref DbPass`, `%env:PASS`.
    let Some(at) = rest.find(['[', '(', ' ', ':', '{']) else {
        return false;
    };
    let head = &rest[..at];
    let closed = match rest.as_bytes()[at] {
        b'[' => rest.ends_with(']'),
        b'(' => rest.ends_with(')') && is_call(rest),
        b'{' => rest.ends_with('}'),
        _ => true,
    };
    head.len() >= 2 && reads_as_name(head) && closed
}

/// Whether `s` is made of words of code joined by `.`, `-` or `_`
/// (`DB_PASSWORD`, `env.db-password`, `dbPassword2`): a name, not
/// generated text.
fn reads_as_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && s.split(['.', '-', '_']).filter(|p| !p.is_empty()).all(|w| {
            // Short lower-case words of code need no vowel (`ftp`, `pwd`).
            (w.len() <= 4 && w.chars().all(|c| c.is_ascii_lowercase()))
                || is_code_word(w)
                || is_code_name(w)
                || camel_humps(w).iter().all(|h| {
                    is_code_word(h) || (h.len() <= 2 && h.chars().all(|c| c.is_ascii_alphabetic()))
                })
        })
}

/// The humps of a camelCase word (`accessKeyId` gives `access`, `Key`,
/// `Id`); digits stay with the hump before them.
fn camel_humps(w: &str) -> Vec<&str> {
    let b = w.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=b.len() {
        if i == b.len() || (b[i].is_ascii_uppercase() && !b[i - 1].is_ascii_uppercase()) {
            out.push(&w[start..i]);
            start = i;
        }
    }
    out
}

/// Words that make up tutorial and default passwords. A value whose letters
/// split entirely into these (after undoing leetspeak and dropping a trailing
/// number) is not a leak worth reporting.
const DICTIONARY: &[&str] = &[
    "a",
    "abc",
    "access",
    "admin",
    "administrator",
    "airflow",
    "all",
    "an",
    "any",
    "anything",
    "api",
    "app",
    "application",
    "auth",
    "bar",
    "baseball",
    "baz",
    "be",
    "big",
    "blue",
    "change",
    "client",
    "compose",
    "correct",
    "battery",
    "horse",
    "staple",
    "data",
    "database",
    "db",
    "default",
    "demo",
    "dev",
    "devel",
    "development",
    "django",
    "do",
    "docker",
    "dont",
    "dragon",
    "easy",
    "eggs",
    "elastic",
    "example",
    "fake",
    "flask",
    "foo",
    "football",
    "for",
    "gitlab",
    "go",
    "goes",
    "grafana",
    "guest",
    "hello",
    "here",
    "hunter",
    "i",
    "in",
    "insecure",
    "is",
    "it",
    "jenkins",
    "just",
    "key",
    "keycloak",
    "kibana",
    "letme",
    "letmein",
    "local",
    "localhost",
    "login",
    "love",
    "magic",
    "master",
    "me",
    "mega",
    "minio",
    "mongo",
    "mongodb",
    "monkey",
    "my",
    "mysql",
    "new",
    "nexus",
    "nextcloud",
    "no",
    "not",
    "of",
    "old",
    "on",
    "one",
    "only",
    "open",
    "oracle",
    "our",
    "pass",
    "passwd",
    "password",
    "passwords",
    "passphrase",
    "pg",
    "please",
    "postgres",
    "postgresql",
    "private",
    "prod",
    "production",
    "public",
    "put",
    "pw",
    "pwd",
    "qwerty",
    "qux",
    "rabbit",
    "rabbitmq",
    "rails",
    "random",
    "redis",
    "reset",
    "root",
    "sa",
    "secret",
    "secrets",
    "secure",
    "server",
    "service",
    "sesame",
    "set",
    "shadow",
    "simple",
    "some",
    "something",
    "sonar",
    "spam",
    "spring",
    "sql",
    "staging",
    "string",
    "strong",
    "sunshine",
    "super",
    "superuser",
    "system",
    "temp",
    "test",
    "tester",
    "testing",
    "that",
    "the",
    "this",
    "tmp",
    "to",
    "token",
    "top",
    "toor",
    "trust",
    "trustno",
    "ultra",
    "unsafe",
    "use",
    "user",
    "username",
    "value",
    "vault",
    "very",
    "weak",
    "welcome",
    "word",
    "wordpress",
    "world",
    "wp",
    "your",
    "zxcv",
    "asdf",
    "iloveyou",
    "princess",
    "dragon",
    "mypass",
    "qwertyuiop",
    "s",
    "geheim",
    "parole",
    "passwort",
    "kennwort",
    "contrasena",
    "motdepasse",
    "segreto",
    "senha",
    "wachtwoord",
    "haslo",
    "sekret",
    "xyz",
];

fn is_word(w: &str) -> bool {
    DICTIONARY.contains(&w)
}

/// Whether `letters` (lower-case ASCII letters) splits into dictionary words.
fn segments_into_words(letters: &str) -> bool {
    let n = letters.len();
    if n == 0 {
        return true;
    }
    let mut ok = vec![false; n + 1];
    ok[0] = true;
    for end in 1..=n {
        for start in end.saturating_sub(14)..end {
            if ok[start] && is_word(&letters[start..end]) {
                ok[end] = true;
                break;
            }
        }
    }
    ok[n]
}

/// The letter a leetspeak digit or symbol stands for (`0` → `o`, `@` →
/// `a`), other characters unchanged.
fn unleet(c: char) -> char {
    match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        '@' => 'a',
        '$' => 's',
        c => c,
    }
}

/// A tutorial or default password: dictionary words, leetspeak, a number or
/// a symbol tacked on (`password123`, `P@ssw0rd!`, `Sup3rS3cr3t2024`,
/// `my-secret-pw`).
pub fn is_trivial_password(v: &str) -> bool {
    let decoded = String::from_utf8_lossy(&super::percent_decode(v.as_bytes())).into_owned();
    let core = decoded.trim_matches(|c: char| !c.is_ascii_alphabetic());
    let mut letters = String::new();
    for c in core.chars() {
        let m = unleet(c.to_ascii_lowercase());
        if m.is_ascii_lowercase() {
            letters.push(m);
        }
    }
    if letters.is_empty() {
        // Only digits and symbols: a PIN, a year, a port, a version.
        return true;
    }
    // `l`/`i` ambiguity of `1`: try both readings.
    segments_into_words(&letters) || segments_into_words(&letters.replace('i', "l"))
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Case flips between consecutive letters, per letter: about 0.5 for random
/// mixed-case text, well under 0.3 for camelCase words.
fn case_flip_ratio(s: &str) -> f32 {
    let letters: Vec<bool> = s
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.is_ascii_uppercase())
        .collect();
    if letters.len() < 2 {
        return 0.0;
    }
    let flips = letters.windows(2).filter(|w| w[0] != w[1]).count();
    flips as f32 / letters.len() as f32
}

/// A word of code: lower-case letters, or a capital then lower-case
/// letters, or all capitals, optionally followed by digits (`data2`).
fn is_code_word(w: &str) -> bool {
    let letters = w.trim_end_matches(|c: char| c.is_ascii_digit());
    if letters.len() < 3 {
        return false;
    }
    let mut chars = letters.chars();
    let first = chars.next().unwrap_or(' ');
    let rest: Vec<char> = chars.collect();
    let capitals = first.is_ascii_uppercase() && rest.iter().all(|c| c.is_ascii_uppercase());
    // A word of code has a vowel (`Nscyfw` of random text has none);
    // acronyms (`HTTP`, `XML`) need not.
    let vowel = letters
        .chars()
        .any(|c| matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u' | 'y'));
    first.is_ascii_alphabetic()
        && (rest.iter().all(|c| c.is_ascii_lowercase()) && vowel || capitals)
}

/// snake_case, kebab-case or camelCase names made of code words
/// (`request_data2`, `defaultApiToken`, `my-service-key`): variables and
/// settings names, not generated secrets.
pub(super) fn is_code_name(v: &str) -> bool {
    // Digits only as a short suffix of a word, or as the name's tail
    // (`SensitiveString2048`); digits strewn inside look generated.
    let head = v.trim_end_matches(|c: char| c.is_ascii_digit());
    if head.chars().filter(|c| c.is_ascii_digit()).count() > 2 {
        return false;
    }
    let parts: Vec<&str> = v.split(['_', '-', '.']).filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return false;
    }
    let mut words = 0;
    for part in &parts {
        // Split camelCase humps: a capital starts a new word.
        let mut start = 0;
        let b = part.as_bytes();
        for i in 1..=b.len() {
            let boundary = i == b.len()
                || (b[i].is_ascii_uppercase() && b[i - 1].is_ascii_lowercase())
                || (b[i].is_ascii_alphabetic() && b[i - 1].is_ascii_digit());
            if boundary {
                if !is_code_word(&part[start..i]) {
                    return false;
                }
                words += 1;
                start = i;
            }
        }
    }
    words >= 2
}

/// File extensions that make a value a file name rather than a secret.
const FILE_EXTS: &[&str] = &[
    ".pem",
    ".key",
    ".json",
    ".txt",
    ".yaml",
    ".yml",
    ".crt",
    ".cer",
    ".p12",
    ".pfx",
    ".env",
    ".properties",
    ".conf",
    ".cfg",
    ".ini",
    ".xml",
    ".toml",
    ".jks",
    ".gpg",
    ".asc",
    ".pub",
    ".js",
    ".py",
    ".rb",
    ".go",
    ".rs",
    ".java",
    ".html",
    ".php",
    ".sh",
];

/// Prefixes of formats that specific rules judge (with checksums, lengths,
/// or a decision not to report, like Stripe test keys): a value that failed
/// them is not a generic secret either.
const PROVIDER_PREFIXES: &[&str] = &[
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "gldt-",
    "glrt-",
    "glcbt-",
    "glptt-",
    "glft-",
    "gloas-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxr-",
    "xoxe",
    "xapp-",
    "sk_live_",
    "rk_live_",
    "sk_test_",
    "rk_test_",
    "pk_live_",
    "pk_test_",
    "AKIA",
    "ASIA",
    "AIza",
    "SG.",
    "npm_",
    "pypi-",
    "sk-proj-",
    "sk-svcacct-",
    "sk-admin-",
    "sk-ant-",
    "GOCSPX-",
    "ATATT3",
    "glsa_",
    "glc_eyJ",
    "sntrys_eyJ",
    "ops_eyJ",
    "AGE-SECRET-KEY-1",
    // Mapbox: sk. secret tokens have their rule; pk. tokens are public.
    "sk.eyJ",
    "pk.eyJ",
];

/// How strongly the key names a password: a strong key (`password`,
/// `passwd`, `pwd`, `secret`, a `PASSWORD` constant) vouches for short
/// mixed values and for hex of a digest's length (`secret_key_base`); a weak
/// one (`token`, `api_key`, or none, as in a URL) leaves the value to prove
/// itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStrength {
    Weak,
    Strong,
    /// A strong key with an unquoted value (`password: k7vq2mx9` in YAML,
    /// `.env`, ini, properties): short values mixing letters and digits
    /// count too.
    StrongBare,
    /// A key that names a credential token (`access_token`, `api_key`,
    /// `oauth_token`, not `csrf_token` or `commit_sha`): hex of a digest's
    /// length counts there (API tokens are often 32, 40 or 64 hex), other
    /// values prove themselves as under a weak key.
    Token,
}

/// The shape checks shared by assigned values and URL passwords: rejects
/// code, references, paths, hashes and ids, and tutorial passwords.
#[cfg(test)]
pub fn judge_value(v: &str) -> Result<(), String> {
    judge(v, KeyStrength::Weak)
}

/// Leading characters that never start a value (an expression, a list, a
/// member), and those that start a reference only when a name follows.
const NEVER_FIRST: &[char] = &['{', '[', ':', '.', ','];
const SIGIL_FIRST: &[char] = &['$', '%', '(', '@', '#', '&', '*', '!', '-', '^', '=', '+'];

/// Whether `v` is a call (`get_secret(name)`, `os.urandom(24)`, `fn()`):
/// a name right before `(`, and the value closing with `)`.
fn is_call(v: &str) -> bool {
    let Some(open) = v.find('(') else {
        return false;
    };
    let name = &v[..open];
    let Some(args) = v[open + 1..]
        .strip_suffix(')')
        .or_else(|| v[open + 1..].strip_suffix(");"))
    else {
        return false;
    };
    // A name of code words, then arguments of names, numbers, quotes and
    // commas (not the symbols a generated value strews around a `(`).
    name.len() >= 2
        && reads_as_name(name.trim_start_matches(['$', '@', '!', '&', '*', '%', '#', '-']))
        && args.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '_' | '.' | ',' | '\'' | '"' | ' ' | '=' | '-' | '/' | '[' | ']'
                )
        })
}

/// Whether a `%` in `v` starts a printf conversion: `%s`, `%d`, `%r` ...
/// then the end or a character that is not a letter or digit (`user_%s`,
/// `%s:%s`), or `%(name)s`.
fn has_format_spec(v: &str) -> bool {
    let b = v.as_bytes();
    let mut specs = 0;
    let mut rest = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && matches!(b.get(i + 1), Some(b's' | b'd' | b'r' | b'i' | b'f' | b'x'))
            && !b.get(i + 2).is_some_and(|n| n.is_ascii_alphanumeric())
        {
            specs += 1;
            rest.push(' ');
            i += 2;
            continue;
        }
        rest.push(b[i] as char);
        i += 1;
    }
    // The text around the conversions must read as words or names
    // (`__omit_place_holder__%s`, `%s:%s`, `user_%d`), not as generated
    // characters that happen to hold `%d`.
    specs > 0
        && rest
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|p| !p.is_empty())
            .all(|p| reads_as_name(p) || p.chars().all(|c| c.is_ascii_digit()))
        || substitution(v, "%(")
}

/// A mixed-case run of letters that reads as random rather than as words:
/// frequent case flips, and humps too short to be code words.
fn random_letters(v: &str) -> bool {
    let upper = v.chars().filter(|c| c.is_ascii_uppercase()).count();
    let lower = v.chars().filter(|c| c.is_ascii_lowercase()).count();
    v.len() >= 16 && upper >= 3 && lower >= 3 && case_flip_ratio(v) >= 0.18 && !is_code_name(v)
}

/// The shape checks with the key's strength (see [`KeyStrength`]).
pub fn judge(v: &str, key: KeyStrength) -> Result<(), String> {
    placeholder(v.as_bytes())?;
    // Django's development keys keep the generator's alphabet after the
    // prefix: judge the random part.
    let v = v.strip_prefix("django-insecure-").unwrap_or(v);
    let lower = v.to_ascii_lowercase();
    if v.len() < 8 {
        return Err("shorter than 8 characters".into());
    }
    if let Some(c) = v.chars().next().filter(|c| NEVER_FIRST.contains(c)) {
        return Err(format!("starts with {c:?}: an expression or a list"));
    }
    if v.starts_with(SIGIL_FIRST) {
        let rest = v.trim_start_matches(SIGIL_FIRST);
        let repeated = v.len() >= 3 && v.as_bytes()[..3].iter().all(|&b| b == v.as_bytes()[0]);
        if repeated || rest.is_empty() || reference_name(rest) {
            return Err(format!(
                "starts with {:?} then a name: a reference or an expression",
                &v[..1]
            ));
        }
    }
    if v.starts_with('*') && v.len() == 41 && is_hex(&v[1..]) {
        return Err("a MySQL password hash (`*` and 40 hex)".into());
    }
    // Calls and member chains (`process.current_process().authkey`,
    // `self._authkey)`): every piece between brackets and dots is a name.
    let code_chain = v.contains(['(', ')'])
        && v.split(['(', ')', '.', ',', ';', '!']).all(|p| {
            p.is_empty() || reads_as_name(p.trim_start_matches(['$', '@', '!', '&', '*']))
        });
    if code_chain || is_call(v) || v.contains('`') || v.contains("::") || v.contains("->") {
        return Err("a function call, an expression or inline code".into());
    }
    if v.starts_with("eyJ") {
        return Err("base64 JSON (a JWT is the assertion rules' to judge)".into());
    }
    if v.contains("://") || lower.starts_with("www.") {
        return Err("a URL".into());
    }
    if v.starts_with('/')
        || v.starts_with("./")
        || v.starts_with("../")
        || v.starts_with("~/")
        || v.contains('\\')
        || lower.starts_with("file:")
        || lower.starts_with("classpath:")
    {
        return Err("a file path".into());
    }
    if FILE_EXTS.iter().any(|e| lower.ends_with(e)) {
        return Err("a file name".into());
    }
    for prefix in [
        "sha1-",
        "sha256-",
        "sha384-",
        "sha512-",
        "data:",
        "md5:",
        "sha256:",
        "arn:",
        "vault:",
        "ref+",
        "secretref:",
        "keyvault:",
        "scram-sha",
    ] {
        if lower.starts_with(prefix) {
            return Err(format!("starts with {prefix:?}: not a secret value"));
        }
    }
    if let Some(why) = not_a_value(v, &lower) {
        return Err(why.into());
    }
    if let Some(p) = PROVIDER_PREFIXES.iter().find(|p| v.starts_with(**p)) {
        return Err(format!(
            "a {p}… value is the provider rule's to judge (checksum, test key)"
        ));
    }
    if is_uuid(v) {
        return Err("a UUID".into());
    }
    if key == KeyStrength::Weak && is_hex(v) && matches!(v.len(), 40 | 64 | 128) {
        return Err("a hex digest length (SHA-1, SHA-256, SHA-512)".into());
    }
    if v.split('.').count() > 1
        && v.split('.').all(|p| !p.is_empty() && is_identifier(p))
        && !v.chars().any(|c| c.is_ascii_digit())
    {
        return Err("a dotted identifier (member access)".into());
    }
    // A module path (`pkg.sub_2.module.`): three or more identifiers of
    // code words, digits allowed inside them.
    let dotted = v.trim_end_matches('.');
    if dotted.split('.').count() >= 3
        && dotted
            .split('.')
            .all(|p| is_identifier(p) && p.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
    {
        return Err("a dotted module or member path".into());
    }
    if is_route(v) {
        return Err("a path, a route or a list of words".into());
    }
    if v.chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && (v.contains('_') || !v.chars().any(|c| c.is_ascii_digit()))
    {
        return Err("an upper-case name (an environment variable)".into());
    }
    let has_letter = v.chars().any(|c| c.is_ascii_alphabetic());
    let has_digit = v.chars().any(|c| c.is_ascii_digit());
    let has_upper = v.chars().any(|c| c.is_ascii_uppercase());
    let has_lower = v.chars().any(|c| c.is_ascii_lowercase());
    let has_symbol = v
        .chars()
        .any(|c| !c.is_ascii_alphanumeric() && !matches!(c, '-' | '_' | '.'));
    if !has_letter {
        return Err("no letters: a number, a date or a version".into());
    }
    if !has_symbol && v.len() < 12 {
        // Short values: only right after a strong key, and mixing upper
        // case, lower case and digits as generated passwords do.
        let digits = v.chars().filter(|c| c.is_ascii_digit()).count();
        let letters = v.chars().filter(|c| c.is_ascii_alphabetic()).count();
        let bare_mix = key == KeyStrength::StrongBare && digits >= 2 && letters >= 3;
        if matches!(key, KeyStrength::Weak | KeyStrength::Token)
            || !(has_digit && has_upper && has_lower || bare_mix)
        {
            return Err("shorter than 12 characters without a symbol".into());
        }
    }
    if !has_digit && !has_symbol {
        // Letters and separators only: words, identifiers, camelCase names,
        // unless long and flipping case like generated text.
        if !random_letters(v) {
            return Err("letters only: a word or an identifier".into());
        }
    } else if is_identifier(v) && !has_digit {
        return Err("an identifier".into());
    }
    if is_code_name(v) {
        return Err("a snake_case or camelCase name".into());
    }
    if let Some(text) = base64_text(v) {
        return Err(format!(
            "base64 of plain text ({} characters), not of random bytes",
            text.len()
        ));
    }
    if is_trivial_password(v) {
        return Err("dictionary words with digits or symbols (a tutorial password)".into());
    }
    if is_sequence(&lower) {
        return Err("a keyboard or alphabet sequence".into());
    }
    let e = entropy::shannon_entropy(v.as_bytes());
    let floor = if v.len() >= 24 {
        3.3
    } else if v.len() >= 12 {
        2.9
    } else {
        2.5
    };
    if e < floor {
        return Err(format!("entropy {e:.2} too low for a generated secret"));
    }
    Ok(())
}

/// A path, a route or a list of words (`active_storage/disk#show`,
/// `abs|acos|asin`, `app/models/user`): separated parts that are each a
/// lower-case word or name.
fn is_route(v: &str) -> bool {
    let seps = ['/', '|', '#', '*', ':', ','];
    if !v.contains(seps) {
        return false;
    }
    let parts: Vec<&str> = v.split(seps).filter(|p| !p.is_empty()).collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            let p = p.trim_start_matches(['.', '@', '~', '$']);
            p.len() >= 2
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || matches!(c, '_' | '-' | '.'))
                || is_code_name(p)
        })
}

/// Password-hash formats (Django, Passlib, Werkzeug): `ALGORITHM$...`.
const HASH_FORMATS: &[&str] = &[
    "pbkdf2",
    "argon2",
    "bcrypt",
    "scrypt",
    "sha1$",
    "sha256$",
    "md5$",
    "crypt$",
    "unsalted_",
];

/// Values that are something other than a secret whatever their entropy:
/// password hashes, format strings, template filters, keys of a mapping,
/// timestamps, e-mail addresses, UUID fragments, words in other scripts,
/// and descriptions that name a secret instead of holding one
/// (`bad-token-causes-400`, `myIdempToken1`).
fn not_a_value(v: &str, lower: &str) -> Option<&'static str> {
    if HASH_FORMATS.iter().any(|h| lower.starts_with(h)) && v.contains(['$', ':']) {
        return Some("a password hash (algorithm$salt$hash), not a password");
    }
    if has_format_spec(v) || ["{}", "{0}"].iter().any(|f| v.contains(f)) {
        return Some("a format string");
    }
    if v.len() > 2 && v.starts_with('+') && v.ends_with('+') && reads_as_name(&v[1..v.len() - 1]) {
        return Some("string concatenation (`\"+name+\"`)");
    }
    if v.contains('|') && v.contains(':') {
        return Some("a template filter expression");
    }
    if v.ends_with(':') {
        return Some("ends with ':': a key or a label, not a value");
    }
    if v.contains('[') && v.contains(']') && v.contains('.') {
        return Some("an index or path expression (`a[-1].b`)");
    }
    if is_timestamp(v) {
        return Some("a date or a timestamp");
    }
    if let Some((user, host)) = v.split_once('@')
        && !user.is_empty()
        && host.contains('.')
        && host.split(['/', ':', '?']).next().is_some_and(|h| {
            h.split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        })
        && host
            .split(['/', ':', '?'])
            .next()
            .and_then(|h| h.rsplit('.').next())
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
    {
        return Some("an e-mail address or user@host");
    }
    if v.contains('-')
        && v.split('-').all(|g| !g.is_empty() && is_hex(g))
        && v.split('-').count() >= 2
        && v.split('-').any(|g| g.len() == 4)
    {
        return Some("hex groups of a UUID or an id");
    }
    if !v.is_ascii() {
        return Some("non-ASCII letters: a word, not a generated secret");
    }
    let plain: String = lower.chars().map(unleet).collect();
    if ["token", "secret", "passw", "apikey", "api_key", "api-key"]
        .iter()
        .any(|w| plain.contains(w) || lower.contains(w))
    {
        return Some("names a secret instead of holding one (a description or a test value)");
    }
    None
}

/// `2016-09-08`, `2016-09-08T21:47:36Z`, `2016-09-08 21:47:36.123+02:00`.
fn is_timestamp(v: &str) -> bool {
    let b = v.as_bytes();
    let date = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit);
    date && b[10..]
        .iter()
        .all(|c| c.is_ascii_digit() || matches!(c, b'T' | b'Z' | b':' | b'.' | b'+' | b'-' | b' '))
}

/// The text a base64 value decodes to, when it is printable ASCII with a
/// space or a tutorial password (`bm90IG15IHJlYWwgcGFzc3dvcmQ=`).
fn base64_text(v: &str) -> Option<String> {
    use base64::Engine as _;
    if v.len() < 8 || !v.len().is_multiple_of(4) {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(v).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let printable = text.chars().all(|c| c.is_ascii_graphic() || c == ' ');
    (printable && (text.contains(' ') || is_trivial_password(&text))).then_some(text)
}

/// `abcd1234`, `1234abcd`, `qwer1234`: runs of consecutive characters make
/// up most of the value.
fn is_sequence(lower: &str) -> bool {
    let b = lower.as_bytes();
    let steps = b
        .windows(2)
        .filter(|w| w[1] == w[0].wrapping_add(1))
        .count();
    steps * 10 >= b.len().saturating_sub(1) * 7
}

/// Key names whose value is not a secret even though they contain a secret
/// word: hashes, ids, names, lengths, paths, URLs, types...
const NON_SECRET_KEYS: &[&str] = &[
    "hash",
    "sha",
    "md5",
    "digest",
    "checksum",
    "_id",
    "-id",
    "uuid",
    "name",
    "type",
    "file",
    "path",
    "url",
    "uri",
    "length",
    "len",
    "field",
    "format",
    "policy",
    "expir",
    "ttl",
    "timeout",
    "header",
    "param",
    "label",
    "prefix",
    "endpoint",
    "placeholder",
    "regex",
    "pattern",
    "encoding",
    "mode",
    "class",
    "ref",
    "hint",
    "question",
    "reset",
    "version",
    "count",
    "size",
    "min",
    "max",
    "validity",
    "rotation",
    "store",
    "provider",
    "manager",
    "location",
    "dir",
    "template",
    "message",
    "error",
    "description",
    "title",
    "help",
    "encryption",
    "algorithm",
    "cipher",
    "method",
];

/// Generic assignments: the key (text before the value in the match) must
/// name a secret, and the value must look generated (see [`judge`]).
pub(super) fn generic_secret(s: &[u8], data: &[u8], c: &Candidate) -> Verdict {
    let raw_key = String::from_utf8_lossy(&data[c.match_start..c.start]);
    let raw_key = raw_key.trim_end_matches(|ch: char| {
        ch.is_whitespace() || matches!(ch, '"' | '\'' | ':' | '=' | '>' | '<' | ',' | '\\')
    });
    // The name the keyword is part of: `AWS::ApiGateway::ApiKey`.
    let name_start = data[..c.match_start]
        .iter()
        .rposition(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'.' | b'-')))
        .map_or(0, |i| i + 1)
        .max(c.match_start.saturating_sub(64));
    if raw_key.contains("::")
        || data[name_start..c.match_start]
            .windows(2)
            .any(|w| w == b"::")
    {
        return Err("the key is a type or resource name (`AWS::…::ApiKey`)".into());
    }
    if let Some(w) = non_secret_key(raw_key) {
        return Err(format!("the key names a {w:?}, not a secret"));
    }
    if test_status_line(data, c.match_start, raw_key) {
        return Err("a test run's status line (`PASS: name`), not a key".into());
    }
    let v = std::str::from_utf8(s).map_err(|_| "not UTF-8".to_string())?;
    if let Some(why) = doc_example(data, c.match_start) {
        return Err(why.into());
    }
    if url_parameter(data, c.match_start) {
        return Err("a URL parameter: the URL rules judge it with its host".into());
    }
    let quoted = c.start > 0 && matches!(data[c.start - 1], b'"' | b'\'');
    // The whole key name (`BITLY_ACCESS_TOKEN`, `csrf_token`): the match
    // starts at its keyword.
    let full_key = String::from_utf8_lossy(&data[name_start..c.start]);
    let full_key = full_key.trim_end_matches(|ch: char| {
        ch.is_whitespace() || matches!(ch, '"' | '\'' | ':' | '=' | '>' | '<' | ',' | '\\')
    });
    if is_hex(v) && matches!(v.len(), 32 | 40 | 64 | 128) && not_credential_token(full_key) {
        return Err(
            "hex under a key that names a hash, a commit or a non-credential token (`csrf_token`)"
                .into(),
        );
    }
    if !quoted && function_call(v) {
        return Err("an unquoted function call (`Handler(pm)`): code, not a value".into());
    }
    let strength = match key_strength_of(raw_key) {
        KeyStrength::Strong if !quoted => KeyStrength::StrongBare,
        KeyStrength::Weak if token_key(full_key) => KeyStrength::Token,
        k => k,
    };
    judge(v, strength)?;
    Ok(Validated::default())
}

/// Whether an unquoted value is a call: a dotted identifier, then one
/// parenthesised argument list that ends the value (`HTTPBasicAuthHandler(pm)`,
/// `os.urandom(32)`). Quoted values are left to the judge (Django's key
/// alphabet has parentheses).
fn function_call(v: &str) -> bool {
    let Some((name, rest)) = v.split_once('(') else {
        return false;
    };
    let mut first = name.chars();
    first
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
        && rest.ends_with(')')
        && !rest[..rest.len() - 1].contains(['(', ')'])
}

/// Whether the match is a test run's status line: an upper-case `PASS`
/// that starts its line, then a colon (Automake's and DejaGnu's `PASS:
/// name` in test logs and summaries; configuration keys are not spelt so).
fn test_status_line(data: &[u8], match_start: usize, raw_key: &str) -> bool {
    let line_start = data[..match_start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    raw_key == "PASS"
        && data[line_start..match_start]
            .iter()
            .all(u8::is_ascii_whitespace)
        && data[match_start + raw_key.len()..]
            .iter()
            .find(|b| !matches!(b, b' ' | b'\t'))
            == Some(&b':')
}

/// Words of a token-named key that make the token something other than a
/// credential (a form's CSRF token, a page cursor) or the value a hash.
const NOT_CREDENTIAL_TOKENS: &[&str] = &[
    "csrf",
    "xsrf",
    "page",
    "next",
    "continuation",
    "sync",
    "cache",
    "idempotency",
    "nonce",
    "state",
    "cursor",
    "pagination",
    "integrity",
    "etag",
    "commit",
    "revision",
    "rev",
    "sri",
    "lock",
    "build",
    "fingerprint",
    "thumbprint",
];

/// Whether the key names a credential token: its last words are `token`
/// (`access_token`, `BITLY_ACCESS_TOKEN`, `oauth_token`) or `api key` /
/// `access key` / `auth key`, and no word names a hash, a commit or a
/// non-credential token (see [`NOT_CREDENTIAL_TOKENS`]).
pub(super) fn token_key(key: &str) -> bool {
    let words = key_words(key);
    let Some(last) = words.last() else {
        return false;
    };
    let before = words.len().checked_sub(2).map(|i| words[i].as_str());
    let named = last == "token"
        || last == "tokens"
        || matches!(last.as_str(), "apikey" | "accesskey" | "authkey")
        || (last == "key" && matches!(before, Some("api" | "access" | "auth")));
    named && !not_credential_token(key)
}

/// Whether a word of the key names a hash, a commit or a token that is not
/// a credential (see [`NOT_CREDENTIAL_TOKENS`]).
fn not_credential_token(key: &str) -> bool {
    key_words(key)
        .iter()
        .any(|w| NOT_CREDENTIAL_TOKENS.contains(&w.as_str()))
}

/// The words of a key name, lower-cased: split at separators and at
/// camelCase humps (`dbPasswordHash` gives `db`, `password`, `hash`).
fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in key.split(|c: char| !c.is_ascii_alphanumeric()) {
        let b = part.as_bytes();
        let mut start = 0;
        for i in 1..=b.len() {
            if i == b.len() || (b[i].is_ascii_uppercase() && b[i - 1].is_ascii_lowercase()) {
                if i > start {
                    words.push(part[start..i].to_ascii_lowercase());
                }
                start = i;
            }
        }
    }
    words
}

/// The [`NON_SECRET_KEYS`] entry a key's words name, if any: whole words
/// for short entries (`id`, `len`, `min`), word prefixes for longer ones
/// (`hash` in `hashed`, `expir` in `expires`).
fn non_secret_key(key: &str) -> Option<&'static str> {
    let words = key_words(key);
    NON_SECRET_KEYS.iter().copied().find(|w| {
        let w_trim = w.trim_start_matches(['_', '-']);
        words.iter().any(|word| {
            word == w_trim
                || (w_trim.len() >= 4 && (word.starts_with(w_trim) || word.ends_with(w_trim)))
                || (w_trim == "sha"
                    && word.starts_with("sha")
                    && word[3..].chars().all(|c| c.is_ascii_digit()))
        })
    })
}

/// Run-together `…pass` key words that name a password (`dbpass`,
/// `smtppass`), unlike `bypass` or `compass`.
const PASS_PREFIXES: &[&str] = &[
    "db", "sql", "mysql", "pg", "root", "admin", "user", "smtp", "mail", "ftp", "ldap", "redis",
    "app", "my",
];

/// Strong when the key's words name a password or a secret.
pub(super) fn key_strength_of(key: &str) -> KeyStrength {
    let strong = key_words(key).iter().any(|w| {
        w.starts_with("password")
            || w.starts_with("passwd")
            || matches!(
                w.as_str(),
                "pwd" | "pass" | "secret" | "secrets" | "passphrase"
            )
            || w.ends_with("password")
            || w.ends_with("secret")
            || w.strip_suffix("pass")
                .is_some_and(|p| PASS_PREFIXES.contains(&p))
    });
    if strong {
        KeyStrength::Strong
    } else {
        KeyStrength::Weak
    }
}

/// Whether the key at `at` is a parameter of a URL on its line
/// (`…://host/db?user=app&password=…`).
fn url_parameter(data: &[u8], at: usize) -> bool {
    let line_start = data[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let before = &data[line_start..at];
    matches!(before.last(), Some(b'?' | b'&' | b';')) && before.windows(3).any(|w| w == b"://")
}

/// A documentation example on the line at `at`: a doc comment (`///`,
/// `//!`, a ` * ` line of a block comment), a doctest (`>>>`), or a
/// commented example whose result follows (`# => false`).
pub(super) fn doc_example(data: &[u8], at: usize) -> Option<&'static str> {
    let line_start = data[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line_end = data[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(data.len(), |i| at + i);
    let line = String::from_utf8_lossy(&data[line_start..line_end]);
    let t = line.trim_start();
    if t.starts_with("///") || t.starts_with("//!") || t.starts_with("* ") || t.starts_with("*\t") {
        return Some("a documentation comment");
    }
    if t.starts_with(">>> ") || t.starts_with("... ") {
        return Some("a doctest example");
    }
    if t.starts_with('#') || t.starts_with("//") {
        // The next few lines: a commented result marks an example.
        let after = &data[line_end.min(data.len())..];
        let next: Vec<String> = String::from_utf8_lossy(&after[..after.len().min(400)])
            .lines()
            .skip(1)
            .take(3)
            .map(|l| l.trim_start().to_string())
            .collect();
        if line.contains("# =>")
            || next.iter().any(|l| {
                (l.starts_with('#') || l.starts_with("//"))
                    && (l.contains("# =>") || l.contains("#=>") || l.contains("// =>"))
            })
        {
            return Some("a commented example with its result (`# => …`)");
        }
    }
    None
}

/// Hosts where credentials are tutorial or local-development noise.
pub(super) fn local_or_documentation_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h == "localhost"
        || h.starts_with("127.")
        || h == "0.0.0.0"
        || h == "::1"
        || h == "host.docker.internal"
        || h == "example.com"
        || h == "example.org"
        || h == "example.net"
        || [
            ".localhost",
            ".local",
            ".test",
            ".example",
            ".invalid",
            ".example.com",
            ".example.org",
            ".example.net",
        ]
        .iter()
        .any(|s| h.ends_with(s))
}

/// Host suffixes of managed databases, caches and brokers.
const MANAGED_HOSTS: &[&str] = &[
    ".rds.amazonaws.com",
    ".cache.amazonaws.com",
    ".redshift.amazonaws.com",
    ".docdb.amazonaws.com",
    ".mq.amazonaws.com",
    ".database.windows.net",
    ".database.azure.com",
    ".redis.cache.windows.net",
    ".servicebus.windows.net",
    ".mongodb.net",
    ".redislabs.com",
    ".redis-cloud.com",
    ".upstash.io",
    ".aivencloud.com",
    ".db.ondigitalocean.com",
    ".supabase.co",
    ".neon.tech",
    ".cockroachlabs.cloud",
    ".psdb.cloud",
    ".cloudamqp.com",
    ".elephantsql.com",
    ".clever-cloud.com",
    ".hivemq.cloud",
    ".emqxsl.com",
    ".ngs.global",
];

/// A real, reachable target: a managed service's host, or a public IPv4
/// address (not private, loopback, link-local, shared or documentation).
pub(super) fn real_host(host: &str) -> bool {
    if MANAGED_HOSTS.iter().any(|s| host.ends_with(s)) {
        return true;
    }
    let Ok(ip) = host.parse::<std::net::Ipv4Addr>() else {
        return false;
    };
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a, b, c) == (192, 0, 2)
        || (a, b, c) == (198, 51, 100)
        || (a, b, c) == (203, 0, 113)
        || (a == 198 && (b == 18 || b == 19)))
}

/// Credentials in a URL (`scheme://user:pass@host`): the password is judged
/// like an assigned value; local, documentation and compose-service hosts
/// are development noise.
pub(super) fn url_credentials(s: &[u8], data: &[u8], c: &Candidate) -> Verdict {
    let after = &data[c.end..c.match_end.max(c.end)];
    let host_part = match after.iter().position(|&b| b == b'@') {
        Some(i) => &after[i + 1..],
        None => after,
    };
    let host = String::from_utf8_lossy(host_part)
        .split([':', '/', '?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if local_or_documentation_host(&host) {
        return Err(format!("local or documentation host {host:?}"));
    }
    let raw = std::str::from_utf8(s).map_err(|_| "not UTF-8".to_string())?;
    let password = String::from_utf8_lossy(&super::percent_decode(raw.as_bytes())).into_owned();
    let single_label = !host.contains('.') && !host.contains(':');
    // A managed database or a public address is a real target: a short
    // password (8-11 characters mixing cases and digits) to it counts.
    let strength = if real_host(&host) {
        KeyStrength::Strong
    } else {
        KeyStrength::Weak
    };
    match judge(&password, strength) {
        Ok(()) => {}
        Err(why) => return Err(format!("password: {why}")),
    }
    if single_label && (password.len() < 12 || entropy::shannon_entropy(password.as_bytes()) < 3.5)
    {
        return Err(format!(
            "short password to the compose-style service host {host:?}"
        ));
    }
    Ok(Validated::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_rejected() {
        for p in [
            "${SECRET}",
            "changeme",
            "xxxxxxxx",
            "<your-secret>",
            "os.environ['X']",
        ] {
            assert!(placeholder(p.as_bytes()).is_err(), "{p}");
        }
        assert!(placeholder(b"T7q9mZ2vX8kP4rL1").is_ok());
    }

    #[test]
    fn tutorial_passwords_are_trivial() {
        for p in [
            "password123",
            "P@ssw0rd!",
            "Sup3rS3cr3t2024",
            "my-secret-pw",
            "admin1234",
            "testpass123",
            "s3cr3t_k3y!",
            "supersecretkey",
            "2024-01-01",
        ] {
            assert!(is_trivial_password(p), "{p}");
        }
        for p in ["T7q9mZ2vX8kP4rL1", "Xk9#mP2$vL5nQ8", "Tr0ub4dor&3"] {
            assert!(!is_trivial_password(p), "{p}");
        }
    }

    #[test]
    fn judge_rejects_code_and_ids() {
        for v in [
            "config.db.password",
            "getPassword",
            "DB_PASSWORD",
            "/etc/secrets/db",
            "secrets/db.json",
            "0b8e1e0a-9c1d-4f4e-8a55-2b1a8b8a0f11",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "sha512-Vb3Qx4w4sbDQ+G2SvvLJ3ZrZqPSW5cBs6Ed1dNIqnA1Zn9tHJIkdz4CxUnsI4Z+u4z9B6KaD29mTMfP8wBJbUw==",
            "abcd1234",
            "get_secret(name)",
            "process.current_process().authkey",
            "self._authkey)",
            "self.ftp.pwd()",
            "assert_fips_status_indicator!(",
            "quote!(struct",
            "@db_password",
            "$DB_PASSWORD",
            "%(password)s",
            "user_%s",
            "active_storage/disk#show",
            "abs|acos|asin|atan",
            "scram-sha-256",
            "*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29",
            "request_data2",
            "defaultApiToken2",
            "TokenKind::RightSquareBracket",
            "bm90IG15IHJlYWwgcGFzc3dvcmQ=",
            "geheim$parole",
            "ghp_abcdefghijklmnopqrstuvwxyz0123AAAAAA",
            "sk_test_kqqeaA355XqA9adgpbthgRJK72wuXDMOPT",
        ] {
            assert!(judge_value(v).is_err(), "{v}");
        }
        for v in [
            "T7q9mZ2vX8kP4rL1wQ",
            "Zr8Kq2Lm7Vb4Nc9Xw1Yp",
            "Xk9#mP2$vL5nQ8",
            "a8f5f167f44f4964e6c998dee827110c",
            "ey9gLlviJAaKf8HjvE",
            "F0dIwoIzDfpc4yJq",
            "django-insecure-3k5#n@)c1^b%x8v9(q$2w!e7r6t0y",
            "%k7@Rw2#qLx9!mZp4Tb",
            "!Hq8w#Kd2%Lm9xZr4Pt",
            "q(7&x$2m#9v^k4+z!w8-p=j5*r)n3b%h6t_y0l1c@s",
            "+&^w8g2*g3%hx8d3@5r=!&bpqd4_43-tor6_cs3ju$w@obx6mi",
            "PcwNscyfw4Nxj5Ewalo4",
            "QmXkPzRtVbNwLcYd",
        ] {
            assert!(judge_value(v).is_ok(), "{v}: {:?}", judge_value(v));
        }
        // After a strong key: short mixed values and digest-length hex.
        for v in ["Rk4mW9qZt2", "9f2c4e1a7b3d8f6e0a5c2b9d4e7f1a3c6b8d0e2f"] {
            assert!(judge(v, KeyStrength::Strong).is_ok(), "{v}");
            assert!(judge_value(v).is_err(), "{v}");
        }
    }

    /// Random values of `len` characters from `alphabet` that `keep`
    /// accepts, and the ones [`judge`] rejects after a strong key.
    fn rejected_random(alphabet: &[u8], len: usize, keep: fn(&str) -> bool) -> Vec<String> {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut rejected = Vec::new();
        let mut tried = 0;
        while tried < 3000 {
            let v: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize] as char)
                .collect();
            if !keep(&v) {
                continue;
            }
            tried += 1;
            if let Err(why) = judge(&v, KeyStrength::Strong) {
                rejected.push(format!("{v}: {why}"));
            }
        }
        rejected
    }

    /// Issue 13: generated passwords (20 characters of letters, digits and
    /// `!@#%`, as password managers make them), Django's generated keys and
    /// 16-letter mixed-case values are accepted every time.
    #[test]
    fn generated_values_are_always_accepted() {
        let classes = |v: &str| {
            v.bytes().any(|b| b.is_ascii_uppercase())
                && v.bytes().any(|b| b.is_ascii_lowercase())
                && v.bytes().any(|b| b.is_ascii_digit())
        };
        // (alphabet, length, which values, how many of 3000 may be
        // rejected): letters alone carry less evidence, and a value whose
        // cases come in two blocks (`MLDUUVSDanvwfwuw`) reads like
        // `wordACRONYM`; about one in 500 is let go.
        for (alphabet, len, keep, tolerated) in [
            (
                &b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#%"[..],
                20,
                classes as fn(&str) -> bool,
                0,
            ),
            (
                &b"abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"[..],
                50,
                (|_: &str| true) as fn(&str) -> bool,
                0,
            ),
            (
                &b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[..],
                16,
                (|v: &str| {
                    v.bytes().filter(u8::is_ascii_uppercase).count() >= 4
                        && v.bytes().filter(u8::is_ascii_lowercase).count() >= 4
                }) as fn(&str) -> bool,
                9,
            ),
        ] {
            let rejected = rejected_random(alphabet, len, keep);
            assert!(
                rejected.len() <= tolerated,
                "{} rejected:\n{}",
                rejected.len(),
                rejected.join("\n")
            );
        }
    }

    #[test]
    fn local_hosts() {
        assert!(local_or_documentation_host("localhost"));
        assert!(local_or_documentation_host("127.0.0.1"));
        assert!(local_or_documentation_host("db.example.com"));
        assert!(!local_or_documentation_host("db.prod.acme.io"));
    }
}
