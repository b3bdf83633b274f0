//! The matcher: one Aho-Corasick automaton over every rule's keywords picks
//! the rules worth running on a blob; only their regexes run; each captured
//! secret then passes the entropy floor, allow words, the global allowlist
//! and the rule's validator. Overlapping candidates keep the most specific.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};
use leakscan_rules::{Category, Pack, Rule};
use regex::bytes::{Regex, RegexBuilder};

use crate::bytes::memmem;
use crate::finding::Secret;
use crate::keywords::{FastMap, Hits, KeywordSearch, Piece};
use crate::validate;

/// Bytes sniffed for a NUL to call a blob binary (as git does).
pub const BINARY_SNIFF: usize = 8000;

/// A rule with its patterns, compiled on first use: start-up stays cheap
/// however many rules are loaded, and a blob only pays for the rules its
/// keywords select.
#[derive(Debug)]
pub struct CompiledRule {
    pub rule: Rule,
    /// Pack the rule came from (built-in pack name or file path).
    pub pack: String,
    compiled: OnceLock<Result<Compiled, String>>,
    allow_lower: Vec<Vec<u8>>,
}

/// The regexes of one rule and what the matcher needs to know about them.
#[derive(Debug)]
struct Compiled {
    regex: Option<Regex>,
    /// Index of the group named `secret`, if any (else the first group that
    /// took part in the match, else the whole match).
    secret_group: Option<usize>,
    /// Longest match the pattern can produce, in bytes, when bounded.
    max_len: Option<usize>,
    context: Vec<Regex>,
}

/// Rules whose longest match is at most this many bytes run only on windows
/// around their keyword hits; longer or unbounded ones scan the whole blob.
pub const WINDOW_MAX_LEN: usize = 4096;

/// All enabled rules, compiled, plus the global secret allowlist.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<CompiledRule>,
    allow_secrets: Vec<Regex>,
}

/// Compiles a rule's pattern with ASCII semantics: `\w`, `\d`, `\s`, `\b`,
/// `.` and `(?i)` act on bytes, as credentials are ASCII. Unicode classes
/// made every bounded repetition (`\w{32,64}`) a UTF-8 automaton: most of
/// a small scan's time went into compiling them, they took a third of the
/// memory, and a Unicode `\b` sent matches to the slowest engine. A user
/// pattern that needs Unicode (`\p{L}`) still compiles with it.
fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    let build = |unicode: bool| {
        RegexBuilder::new(pattern)
            .unicode(unicode)
            .size_limit(leakscan_rules::REGEX_SIZE_LIMIT)
            .dfa_size_limit(8 * 1024 * 1024)
            .build()
    };
    build(false).or_else(|_| build(true))
}

/// The longest match of `pattern` in bytes, if bounded.
fn maximum_len(pattern: &str) -> Option<usize> {
    regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?
        .properties()
        .maximum_len()
}

impl CompiledRule {
    fn new(rule: Rule, pack: String) -> CompiledRule {
        let allow_lower = rule
            .allow
            .iter()
            .map(|a| a.to_ascii_lowercase().into_bytes())
            .collect();
        CompiledRule {
            rule,
            pack,
            compiled: OnceLock::new(),
            allow_lower,
        }
    }

    /// The compiled patterns, built on first use. An error names the rule.
    fn compiled(&self) -> Result<&Compiled, &str> {
        self.compiled
            .get_or_init(|| {
                let rule = &self.rule;
                let regex = if rule.pattern.is_empty() {
                    None
                } else {
                    Some(compile(&rule.pattern).map_err(|e| {
                        format!(
                            "rule pack {}, rule `{}`: invalid pattern: {e}",
                            self.pack, rule.id
                        )
                    })?)
                };
                let secret_group = regex
                    .as_ref()
                    .and_then(|re| re.capture_names().position(|n| n == Some("secret")));
                let max_len = if rule.pattern.is_empty() {
                    None
                } else {
                    maximum_len(&rule.pattern)
                };
                let context = rule
                    .context
                    .iter()
                    .map(|c| compile(&c.pattern))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| {
                        format!(
                            "rule pack {}, rule `{}`: invalid context pattern: {e}",
                            self.pack, rule.id
                        )
                    })?;
                Ok(Compiled {
                    regex,
                    secret_group,
                    max_len,
                    context,
                })
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

impl RuleSet {
    /// Collects packs; `disabled` rule ids are left out, `entropy` overrides
    /// floors by rule id, `allow_secrets` are regexes a secret may match to
    /// be ignored. Built-in rules (packs named `builtin:*`, proven by the
    /// tests) compile lazily; user packs compile here so that a bad pattern
    /// is an error naming the pack and rule.
    pub fn build(
        packs: &[(String, Pack)],
        disabled: &[String],
        entropy: &BTreeMap<String, f32>,
        allow_secrets: &[String],
    ) -> Result<RuleSet> {
        Self::from_packs(packs.to_vec(), disabled, entropy, allow_secrets)
    }

    /// [`build`](Self::build), taking the packs (hundreds of rules: no
    /// copy at start-up).
    pub fn from_packs(
        packs: Vec<(String, Pack)>,
        disabled: &[String],
        entropy: &BTreeMap<String, f32>,
        allow_secrets: &[String],
    ) -> Result<RuleSet> {
        let mut rules = Vec::new();
        // Rule id -> index in `rules`, for overrides by id.
        let mut index: FastMap<String, usize> = Default::default();
        for (pack_name, pack) in packs {
            for mut rule in pack.rules {
                if disabled.iter().any(|d| d == &rule.id) {
                    continue;
                }
                if let Some(e) = entropy.get(&rule.id) {
                    rule.entropy = Some(*e);
                }
                let cr = CompiledRule::new(rule, pack_name.clone());
                if !pack_name.starts_with("builtin:") {
                    cr.compiled().map_err(|e| anyhow::anyhow!("{e}"))?;
                }
                // A rule overriding a built-in one with the same id replaces
                // it (and goes last, as it is read last).
                if let Some(old) = index.remove(&cr.rule.id) {
                    rules.remove(old);
                    for i in index.values_mut() {
                        if *i > old {
                            *i -= 1;
                        }
                    }
                }
                index.insert(cr.rule.id.clone(), rules.len());
                rules.push(cr);
            }
        }
        let allow_secrets = allow_secrets
            .iter()
            .map(|p| compile(p).with_context(|| format!("invalid secret allowlist regex {p:?}")))
            .collect::<Result<Vec<_>>>()?;
        Ok(RuleSet {
            rules,
            allow_secrets,
        })
    }

    pub fn get(&self, id: &str) -> Option<&CompiledRule> {
        self.rules.iter().find(|r| r.rule.id == id)
    }
}

/// The stage a candidate was stopped at, for `explain` and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Entropy,
    AllowWord,
    Allowlist,
    Placeholder,
    Validator,
    Overlap,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Entropy => "entropy",
            Stage::AllowWord => "allow-word",
            Stage::Allowlist => "secret-allowlist",
            Stage::Placeholder => "placeholder",
            Stage::Validator => "validator",
            Stage::Overlap => "overlap",
        }
    }
}

/// One candidate secret found in a blob.
#[derive(Debug, Clone)]
pub struct RawMatch {
    /// Index into [`RuleSet::rules`].
    pub rule: usize,
    /// Byte span of the secret.
    pub start: usize,
    pub end: usize,
    pub secret: Secret,
    /// Shown instead of the redacted secret when the secret is not text
    /// (a binary keystore).
    pub display: Option<String>,
    pub entropy: f32,
    pub details: BTreeMap<String, serde_json::Value>,
    pub context: BTreeMap<String, Vec<String>>,
    /// `None` if reported; the stage and reason that dropped it otherwise.
    pub rejected: Option<(Stage, String)>,
}

/// What a scan of one blob produced.
#[derive(Debug, Default)]
pub struct BlobMatches {
    pub matches: Vec<RawMatch>,
    /// Whether the blob was treated as binary (only binary rules ran).
    pub binary: bool,
    /// Rule indices the keyword prefilter selected.
    pub triggered: Vec<usize>,
}

/// Keyword prefilter plus compiled rules; cheap to share across threads.
#[derive(Debug, Clone)]
pub struct Matcher {
    set: Arc<RuleSet>,
    keywords: Option<KeywordSearch>,
    /// Keyword pattern index → rules it triggers.
    keyword_rules: Vec<Vec<u32>>,
    /// Rules with no keyword (structural binary rules): always run.
    keywordless: Vec<usize>,
    /// Whether any binary rule has keywords (else binary blobs skip the
    /// keyword search).
    binary_keywords: bool,
}

impl Matcher {
    pub fn new(set: RuleSet) -> Result<Matcher> {
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<u32>> = Vec::new();
        // Hundreds of keywords: a linear search for each cost milliseconds
        // of start-up.
        let mut index: FastMap<String, usize> = Default::default();
        let mut keywordless = Vec::new();
        let binary_keywords = set
            .rules
            .iter()
            .any(|r| r.rule.binary && !r.rule.keywords.is_empty());
        for (i, r) in set.rules.iter().enumerate() {
            if r.rule.keywords.is_empty() {
                keywordless.push(i);
            }
            for k in &r.rule.keywords {
                let k = k.to_ascii_lowercase();
                let i = u32::try_from(i).context("more than 2^32 rules")?;
                match index.get(&k) {
                    Some(&p) => keyword_rules[p].push(i),
                    None => {
                        index.insert(k.clone(), keywords.len());
                        keywords.push(k);
                        keyword_rules.push(vec![i]);
                    }
                }
            }
        }
        let keywords = if keywords.is_empty() {
            None
        } else {
            Some(KeywordSearch::new(&keywords)?)
        };
        Ok(Matcher {
            set: Arc::new(set),
            keywords,
            keyword_rules,
            keywordless,
            binary_keywords,
        })
    }

    pub fn rules(&self) -> &RuleSet {
        &self.set
    }

    /// Whether `data` looks binary (a NUL byte near the start).
    pub fn is_binary(data: &[u8]) -> bool {
        // memchr's SIMD search: `contains` tests a word at a time, and
        // this runs on every blob, twice.
        memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF)]).is_some()
    }

    /// Reported matches in `data`, overlaps resolved, sorted by offset.
    pub fn scan(&self, data: &[u8]) -> Vec<RawMatch> {
        self.scan_blob(data, false).matches
    }

    /// Scans a blob. With `explain`, rejected candidates are kept (with the
    /// stage that dropped them) and the triggered rules are listed.
    pub fn scan_blob(&self, data: &[u8], explain: bool) -> BlobMatches {
        let hits = self.keyword_hits(data, None);
        self.scan_blob_with(data, explain, hits.as_ref())
    }

    /// The keyword occurrences the rules run on: searched in `data`, or,
    /// for a blob rebuilt from a delta against a base whose hits are known,
    /// derived from the base's (the same hits, found near new bytes only).
    /// `None` when no keyword search applies (a binary blob and no binary
    /// rule with keywords).
    pub fn keyword_hits(&self, data: &[u8], after: Option<(&Hits, &[Piece])>) -> Option<Hits> {
        let ks = self.keywords.as_ref()?;
        if Self::is_binary(data) && !self.binary_keywords {
            return None;
        }
        Some(match after {
            Some((base, pieces)) => ks.hits_after_delta(data, base, pieces),
            None => ks.hits(data),
        })
    }

    /// Reported matches in `data` given its keyword hits (from
    /// [`keyword_hits`](Self::keyword_hits) on the same bytes).
    pub fn scan_with_hits(&self, data: &[u8], hits: Option<&Hits>) -> Vec<RawMatch> {
        self.scan_blob_with(data, false, hits).matches
    }

    /// Reported matches of the rules `keep` accepts only (the printable
    /// runs of a binary file: see [`crate::deep`]).
    pub fn scan_only(&self, data: &[u8], keep: &dyn Fn(&Rule) -> bool) -> Vec<RawMatch> {
        let hits = self.keyword_hits(data, None);
        self.scan_blob_only(data, false, hits.as_ref(), Some(keep))
            .matches
    }

    fn scan_blob_with(&self, data: &[u8], explain: bool, found: Option<&Hits>) -> BlobMatches {
        self.scan_blob_only(data, explain, found, None)
    }

    fn scan_blob_only(
        &self,
        data: &[u8],
        explain: bool,
        found: Option<&Hits>,
        keep: Option<&dyn Fn(&Rule) -> bool>,
    ) -> BlobMatches {
        let binary = Self::is_binary(data);
        // Keyword occurrences as (rule, start, end), grouped by rule: the
        // windows each rule's regex runs on. Hundreds of rules, most of them
        // silent in any one blob: nothing is allocated per rule.
        let mut hits: Vec<(u32, usize, usize)> = Vec::new();
        if let (Some(ks), Some(found)) = (&self.keywords, found) {
            for &(start, k) in &found.0 {
                let end = start + ks.keyword_len(k as usize);
                for &r in &self.keyword_rules[k as usize] {
                    hits.push((r, start, end));
                }
            }
        }
        hits.sort_unstable();
        let mut out = BlobMatches {
            binary,
            ..Default::default()
        };
        // The selected rules in index order: keyword-less ones always, the
        // others where a keyword occurs.
        let mut keywordless = self.keywordless.iter().copied().peekable();
        let mut at = 0;
        let mut windows: Vec<(usize, usize)> = Vec::new();
        loop {
            let next_hit = hits.get(at).map(|h| h.0 as usize);
            let i = match (keywordless.peek().copied(), next_hit) {
                (None, None) => break,
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
            };
            if keywordless.peek() == Some(&i) {
                keywordless.next();
            }
            windows.clear();
            while let Some(&(r, s, e)) = hits.get(at)
                && r as usize == i
            {
                windows.push((s, e));
                at += 1;
            }
            let cr = &self.set.rules[i];
            if (binary && !cr.rule.binary) || keep.is_some_and(|k| !k(&cr.rule)) {
                continue;
            }
            if explain {
                out.triggered.push(i);
            }
            self.run_rule(i, cr, data, &mut windows, explain, &mut out.matches);
        }
        resolve_overlaps(&self.set, &mut out.matches);
        if !explain {
            out.matches.retain(|m| m.rejected.is_none());
        }
        out.matches.sort_by_key(|m| (m.start, m.end, m.rule));
        out
    }

    fn run_rule(
        &self,
        index: usize,
        cr: &CompiledRule,
        data: &[u8],
        hits: &mut [(usize, usize)],
        explain: bool,
        out: &mut Vec<RawMatch>,
    ) {
        let first = out.len();
        let Ok(comp) = cr.compiled() else {
            // Only built-in rules compile lazily, and the tests prove them.
            return;
        };
        let candidates: Vec<validate::Candidate> = match &comp.regex {
            Some(re) => {
                let mut found = Vec::new();
                // One set of capture slots for all of this rule's matches in
                // the blob (a `Captures` per match allocated).
                let mut locs = re.capture_locations();
                let secret_of = |locs: &regex::bytes::CaptureLocations| {
                    let whole = locs.get(0)?;
                    let s = match comp.secret_group {
                        Some(g) => locs.get(g),
                        None => (1..locs.len()).find_map(|g| locs.get(g)),
                    }
                    .unwrap_or(whole);
                    Some(validate::Candidate {
                        start: s.0,
                        end: s.1,
                        match_start: whole.0,
                        match_end: whole.1,
                    })
                };
                match comp.max_len.filter(|&m| m <= WINDOW_MAX_LEN) {
                    Some(max_len) if !hits.is_empty() => {
                        for (ws, we) in windows(hits, max_len, data.len()) {
                            let hay = &data[..we];
                            let mut pos = ws;
                            while pos <= we {
                                let Some(whole) = re.captures_read_at(&mut locs, hay, pos) else {
                                    break;
                                };
                                if whole.end() == we && we < data.len() {
                                    // Possibly cut short by the window; it
                                    // cannot hold a keyword hit (see windows).
                                    break;
                                }
                                pos = whole.end().max(whole.start() + 1);
                                found.extend(secret_of(&locs));
                            }
                        }
                    }
                    _ => {
                        // As `captures_iter`: an empty match right where the
                        // previous match ended is not one.
                        let (mut pos, mut last_end) = (0, None);
                        while pos <= data.len() {
                            let Some(whole) = re.captures_read_at(&mut locs, data, pos) else {
                                break;
                            };
                            pos = whole.end().max(whole.start() + 1);
                            if whole.is_empty() && Some(whole.end()) == last_end {
                                continue;
                            }
                            last_end = Some(whole.end());
                            found.extend(secret_of(&locs));
                        }
                    }
                }
                found
            }
            None => match cr.rule.validate.as_deref() {
                Some(v) => validate::structural(v, data),
                None => Vec::new(),
            },
        };
        for c in candidates {
            let secret = &data[c.start..c.end];
            let entropy = entropy::shannon_entropy(secret);
            let mut m = RawMatch {
                rule: index,
                start: c.start,
                end: c.end,
                secret: Secret::new(secret),
                display: None,
                entropy,
                details: BTreeMap::new(),
                context: BTreeMap::new(),
                rejected: None,
            };
            m.rejected = self.check(cr, &c, data, &mut m);
            if m.rejected.is_some() && !explain {
                continue;
            }
            out.push(m);
        }
        // Context (client ids, tenants, key ids) for the reported matches.
        if !comp.context.is_empty() && out[first..].iter().any(|m| m.rejected.is_none()) {
            let ctx = collect_context(&comp.context, data);
            for m in &mut out[first..] {
                m.context = ctx.clone();
            }
        }
    }

    fn check(
        &self,
        cr: &CompiledRule,
        c: &validate::Candidate,
        data: &[u8],
        m: &mut RawMatch,
    ) -> Option<(Stage, String)> {
        let secret = &data[c.start..c.end];
        if let Some(floor) = cr.rule.entropy
            && m.entropy < floor
        {
            return Some((
                Stage::Entropy,
                format!("entropy {:.2} below the floor {floor:.2}", m.entropy),
            ));
        }
        if !cr.allow_lower.is_empty() {
            let lower = secret.to_ascii_lowercase();
            if let Some(w) = cr.allow_lower.iter().find(|w| memmem(&lower, w).is_some()) {
                return Some((
                    Stage::AllowWord,
                    format!("contains the allow word {:?}", String::from_utf8_lossy(w)),
                ));
            }
        }
        if let Some(re) = self.set.allow_secrets.iter().find(|re| re.is_match(secret)) {
            return Some((
                Stage::Allowlist,
                format!("matches the configured secret allowlist {:?}", re.as_str()),
            ));
        }
        if matches!(
            cr.rule.category,
            Category::Token | Category::CloudKey | Category::ClientSecret
        ) && !cr.rule.binary
            && let Some(why) = validate::placeholder_token(secret)
        {
            return Some((Stage::Placeholder, why));
        }
        if let Some(v) = cr.rule.validate.as_deref() {
            match validate::validate(v, c, data) {
                Ok(ok) => {
                    m.details = ok.details;
                    m.display = ok.display;
                }
                Err(why) => return Some((Stage::Validator, format!("{v}: {why}"))),
            }
        }
        if !cr.rule.also.is_empty() {
            m.details
                .insert("candidates".into(), serde_json::json!(cr.rule.candidates()));
        }
        None
    }
}

/// The windows a bounded rule runs on: each keyword hit widened by the
/// rule's longest match on both sides, merged where they overlap. A match
/// that contains a hit lies inside its window and ends strictly before the
/// window's end, so a match touching a window's end (possibly cut short)
/// holds no hit and is dropped.
fn windows(hits: &mut [(usize, usize)], max_len: usize, len: usize) -> Vec<(usize, usize)> {
    hits.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &(hs, he) in hits.iter() {
        let ws = hs.saturating_sub(max_len);
        let we = he.saturating_add(max_len).min(len);
        match out.last_mut() {
            Some(last) if ws <= last.1 => last.1 = last.1.max(we),
            _ => out.push((ws, we)),
        }
    }
    out
}

/// Runs context patterns over the blob; every named group's values, deduped.
fn collect_context(patterns: &[Regex], data: &[u8]) -> BTreeMap<String, Vec<String>> {
    let mut ctx: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for re in patterns {
        for caps in re.captures_iter(data).take(64) {
            for name in re.capture_names().flatten() {
                if let Some(v) = caps.name(name) {
                    let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                    let list = ctx.entry(name.to_string()).or_default();
                    if !list.contains(&v) {
                        list.push(v);
                    }
                }
            }
        }
    }
    ctx
}

/// One finding per secret span: where reported candidates overlap, the one
/// with the higher rule priority wins, then the longer, then the earlier.
fn resolve_overlaps(set: &RuleSet, matches: &mut [RawMatch]) {
    let mut order: Vec<usize> = (0..matches.len())
        .filter(|&i| matches[i].rejected.is_none())
        .collect();
    order.sort_by_key(|&i| {
        let m = &matches[i];
        (
            std::cmp::Reverse(set.rules[m.rule].rule.priority()),
            std::cmp::Reverse(m.end - m.start),
            m.start,
            m.rule,
        )
    });
    // Accepted spans (disjoint), keyed by start: the last one starting
    // before `e` is the only one that can overlap [s, e).
    let mut taken: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    for i in order {
        let (s, e) = (matches[i].start, matches[i].end.max(matches[i].start + 1));
        let hit = taken
            .range(..e)
            .next_back()
            .filter(|(_, (te, _))| *te > s)
            .map(|(_, (_, w))| *w);
        match hit {
            Some(w) => {
                let rule = &set.rules[matches[w].rule].rule.id;
                matches[i].rejected =
                    Some((Stage::Overlap, format!("overlaps a finding of `{rule}`")));
            }
            None => {
                taken.insert(s, (e, i));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_have_ascii_semantics_unless_they_need_unicode() {
        // `\w`, `\b` and `(?i)` act on bytes: a non-ASCII letter is not a
        // word character, so it bounds a word.
        let word = compile(r"\b\w{4}\b").unwrap();
        assert!(!word.is_match(b"abcde"));
        assert!(word.is_match("\u{e9}abcd\u{e9}".as_bytes()));
        let folded = compile(r"(?i)k").unwrap();
        assert!(
            !folded.is_match("\u{212a}".as_bytes()),
            "Kelvin sign is not k"
        );
        // `.` is any byte but a newline, also one of invalid UTF-8.
        assert!(compile(r"a.b").unwrap().is_match(b"a\xffb"));
        // A pattern that names a Unicode class keeps Unicode semantics.
        let letters = compile(r"^\p{L}+$").unwrap();
        assert!(letters.is_match("\u{e9}t\u{e9}".as_bytes()));
    }

    fn builtin() -> Matcher {
        let packs: Vec<(String, Pack)> = leakscan_rules::builtin_packs()
            .unwrap()
            .into_iter()
            .map(|(n, p)| (format!("builtin:{n}"), p))
            .collect();
        Matcher::new(RuleSet::build(&packs, &[], &BTreeMap::new(), &[]).unwrap()).unwrap()
    }

    fn rule_ids(m: &Matcher, data: &[u8]) -> Vec<(String, String)> {
        m.scan(data)
            .iter()
            .map(|r| {
                (
                    m.rules().rules[r.rule].rule.id.clone(),
                    r.secret.expose_str().into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn aws_secret_has_the_key_id_as_context() {
        let m = builtin();
        let data = b"[default]\naws_access_key_id = AKIAEVFSS5JTBXX53FZ7\naws_secret_access_key = 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\n";
        let found = m.scan(data);
        let secret = found
            .iter()
            .find(|r| m.rules().rules[r.rule].rule.id == "aws-secret-access-key")
            .expect("secret found");
        assert_eq!(
            secret.context.get("access_key_id"),
            Some(&vec!["AKIAEVFSS5JTBXX53FZ7".to_string()])
        );
    }

    #[test]
    fn windows_find_the_same_matches_as_a_whole_scan_in_a_large_blob() {
        let m = builtin();
        // Secrets far apart in a large blob, one at the very start and one
        // at the very end, with keyword hits but no secret in between.
        let mut data = b"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\n".to_vec();
        for i in 0..20_000 {
            data.extend_from_slice(format!("let token_{i} = read_token(ctx);\n").as_bytes());
        }
        data.extend_from_slice(b"STRIPE_KEY=sk_live_kqqeaA355XqA9adgpbthgRJK72wuXDMOPT");
        let ids = rule_ids(&m, &data);
        assert_eq!(
            ids.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
            ["github-token", "stripe-live-key"]
        );
        // A token cut by the end of a window is not reported cut short.
        let mut data = vec![b' '; 10_000];
        data.extend_from_slice(b"sk_live_kqqeaA355XqA9adgpbthgRJK72wuXDMOPTxyz");
        let ids = rule_ids(&m, &data);
        assert_eq!(ids[0].1, "sk_live_kqqeaA355XqA9adgpbthgRJK72wuXDMOPTxyz");
    }

    #[test]
    fn window_boundaries_respect_context_before_the_window() {
        let m = builtin();
        // The AWS id is glued to a longer run: the boundary before it must
        // be judged on the real preceding byte, not the window start.
        let mut data = vec![b'Q'; 5000];
        data.extend_from_slice(b"AKIAEVFSS5JTBXX53FZ7\n");
        assert!(rule_ids(&m, &data).is_empty());
    }

    #[test]
    fn specific_rule_wins_over_generic_on_the_same_span() {
        let m = builtin();
        let data = b"api_key = \"sk_live_kqqeaA355XqA9adgpbthgRJK72wuXDMOPT\"\n";
        let ids = rule_ids(&m, data);
        assert_eq!(ids.len(), 1, "{ids:?}");
        assert_eq!(ids[0].0, "stripe-live-key");
    }

    #[test]
    fn rules_compile_lazily() {
        let m = builtin();
        let with_pattern = || {
            m.rules()
                .rules
                .iter()
                .filter(|r| !r.rule.pattern.is_empty())
        };
        assert!(with_pattern().all(|r| r.compiled.get().is_none()));
        m.scan(b"nothing to see here");
        assert!(with_pattern().all(|r| r.compiled.get().is_none()));
        m.scan(b"GITHUB=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");
        let gh = m.rules().get("github-token").unwrap();
        assert!(gh.compiled.get().is_some());
    }
}
