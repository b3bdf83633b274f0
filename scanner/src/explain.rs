//! `leakscan explain`: for every candidate on a line of a blob, each stage
//! it went through (keyword prefilter, regex, entropy floor, allow words,
//! secret allowlist, validator, overlap, path allowlist, inline allow,
//! generic in docs/tests, ignore file, baseline) with its verdict, and the
//! final decision. Returns data; secrets appear only redacted.

use serde::Serialize;

use crate::finding::{self, LineIndex};
use crate::matcher::Stage;
use crate::scan::Scanner;
use crate::suppress::{Suppressor, inline};

/// What one stage decided about a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The candidate passed this stage.
    Pass,
    /// The matcher dropped the candidate here.
    Reject,
    /// A suppression mechanism covers it.
    Suppress,
    /// An earlier stage already decided.
    NotReached,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Reject => "REJECT",
            Verdict::Suppress => "SUPPRESS",
            Verdict::NotReached => "not reached",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StageVerdict {
    pub stage: &'static str,
    pub verdict: Verdict,
    pub detail: String,
}

/// One candidate secret and its way through the pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateReport {
    pub rule: String,
    pub name: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// Always redacted.
    pub secret: String,
    pub fingerprint: String,
    pub entropy: f32,
    pub stages: Vec<StageVerdict>,
    pub reported: bool,
    pub decision: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// Path relative to the scanned root.
    pub path: String,
    pub line: Option<usize>,
    pub binary: bool,
    /// Rules the keyword prefilter selected for this blob.
    pub triggered: Vec<String>,
    pub candidates: Vec<CandidateReport>,
    /// Why nothing (more) was found: rules whose keyword is on the line but
    /// whose pattern matched nothing there, and the like.
    pub notes: Vec<String>,
}

impl Explanation {
    /// Whether a scan would report anything explained here.
    pub fn reported(&self) -> bool {
        self.candidates.iter().any(|c| c.reported)
    }
}

const MATCH_STAGES: [Stage; 6] = [
    Stage::Entropy,
    Stage::AllowWord,
    Stage::Allowlist,
    Stage::Placeholder,
    Stage::Validator,
    Stage::Overlap,
];

fn stage(stage: &'static str, verdict: Verdict, detail: impl Into<String>) -> StageVerdict {
    StageVerdict {
        stage,
        verdict,
        detail: detail.into(),
    }
}

fn lower_contains(hay_lower: &[u8], needle: &str) -> bool {
    memchr::memmem::find(hay_lower, needle.to_ascii_lowercase().as_bytes()).is_some()
}

/// Explains the candidates of `data` (the blob at `path`, relative to the
/// scanned root) on `line`, or on every line when `line` is `None`.
pub fn explain(
    scanner: &Scanner,
    supp: &Suppressor,
    path: &str,
    data: &[u8],
    line: Option<usize>,
) -> Explanation {
    let mut bm = scanner.matcher.scan_blob(data, true);
    let rules = scanner.matcher.rules();
    // Files whose whole content is one secret are judged by their name.
    for m in crate::validate::file_matches(rules, path, data) {
        if !bm
            .matches
            .iter()
            .any(|x| x.start < m.end && m.start < x.end)
        {
            bm.matches.push(m);
        }
    }
    let lower = data.to_ascii_lowercase();
    let mut out = Explanation {
        path: path.to_string(),
        line,
        binary: bm.binary,
        triggered: bm
            .triggered
            .iter()
            .map(|&i| rules.rules[i].rule.id.clone())
            .collect(),
        candidates: Vec::new(),
        notes: Vec::new(),
    };
    let path_allowed = scanner.path_allowed(path);
    let lines_total = memchr::memchr_iter(b'\n', data).count()
        + usize::from(!data.is_empty() && !data.ends_with(b"\n"));
    if let Some(l) = line
        && (l == 0 || l > lines_total.max(1))
    {
        out.notes.push(format!(
            "the blob has {lines_total} line{}; there is no line {l}",
            if lines_total == 1 { "" } else { "s" }
        ));
    }
    if bm.binary {
        out.notes.push(
            "the blob looks binary (a NUL byte near the start): only binary rules run".into(),
        );
    }
    let mut li = LineIndex::new(data);
    let mut on_line_rules = Vec::new();
    for m in &bm.matches {
        let (l, c) = li.locate(m.start);
        let (el, ec) = li.locate(m.end.saturating_sub(1).max(m.start));
        if let Some(want) = line
            && !(l..=el).contains(&want)
        {
            continue;
        }
        on_line_rules.push(m.rule);
        let cr = &rules.rules[m.rule];
        let rule = &cr.rule;
        let mut stages = Vec::new();
        // Keyword prefilter and regex: every candidate got past both.
        if rule.keywords.is_empty() {
            stages.push(stage(
                "keyword",
                Verdict::Pass,
                "rule has no keywords (always runs)",
            ));
        } else {
            let hits: Vec<&str> = rule
                .keywords
                .iter()
                .filter(|k| lower_contains(&lower, k))
                .map(String::as_str)
                .collect();
            stages.push(stage(
                "keyword",
                Verdict::Pass,
                format!("found in the blob: {}", hits.join(", ")),
            ));
        }
        stages.push(stage(
            "regex",
            Verdict::Pass,
            if cr.rule.pattern.is_empty() {
                format!(
                    "structural rule: validator `{}` located it",
                    rule.validate.as_deref().unwrap_or("?")
                )
            } else {
                format!("matched at line {l}, column {c}")
            },
        ));
        let rejected_at = m
            .rejected
            .as_ref()
            .and_then(|(s, _)| MATCH_STAGES.iter().position(|x| x == s));
        for (i, st) in MATCH_STAGES.iter().enumerate() {
            let verdict = match rejected_at {
                Some(r) if i == r => Verdict::Reject,
                Some(r) if i > r => Verdict::NotReached,
                _ => Verdict::Pass,
            };
            let detail = if verdict == Verdict::Reject {
                m.rejected
                    .as_ref()
                    .map(|(_, why)| why.clone())
                    .unwrap_or_default()
            } else if verdict == Verdict::NotReached {
                String::new()
            } else {
                pass_detail(scanner, rule, *st, m.entropy)
            };
            stages.push(stage(st.as_str(), verdict, detail));
        }
        // Generic findings: the confidence score and its parts.
        if m.rejected.is_none() && crate::validate::confidence::scored(rule) {
            let (found, allowed) = scanner.findings_split(path, data, std::slice::from_ref(m));
            if let Some(score) = found
                .first()
                .or(allowed.first())
                .and_then(|f| f.details.get("score"))
            {
                let band = score["confidence"].as_str().unwrap_or("low");
                let parts: Vec<&str> = score["parts"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|p| p.as_str()).collect())
                    .unwrap_or_default();
                stages.push(stage(
                    "confidence",
                    Verdict::Pass,
                    format!("{band} ({})", parts.join("; ")),
                ));
            }
        }
        let mut decision: Option<String> = m
            .rejected
            .as_ref()
            .map(|(s, _)| format!("not reported: rejected by the {} stage", s.as_str()));
        let fingerprint = finding::fingerprint(&rule.id, m.secret.expose());
        // Suppression stages, in the order a scan applies them.
        let mut suppress = |name: &'static str, hit: Option<String>, miss: String| {
            if decision.is_some() && m.rejected.is_some() {
                stages.push(stage(name, Verdict::NotReached, ""));
                return;
            }
            match hit {
                Some(why) => {
                    if decision.is_none() {
                        decision = Some(format!("not reported: suppressed by {name} ({why})"));
                    }
                    stages.push(stage(name, Verdict::Suppress, why));
                }
                None => stages.push(stage(name, Verdict::Pass, miss)),
            }
        };
        suppress(
            "fingerprint",
            crate::suppress::is_fingerprint_text(rules, data, m.start, m.end)
                .then(|| "the text is a leakscan fingerprint (rule:hash), not a secret".into()),
            "not a leakscan fingerprint".into(),
        );
        suppress(
            "path allowlist",
            path_allowed.then(|| {
                format!(
                    "{path} matches [allow] paths in {}: the file is not scanned",
                    config_name(scanner)
                )
            }),
            "the path is not in [allow] paths".into(),
        );
        suppress(
            "inline allow",
            inline::check(data, m.start, m.end).map(inline::InlineAllow::describe),
            format!(
                "no `{}` on the line, no `{}` above it",
                inline::ALLOW,
                inline::ALLOW_NEXT_LINE
            ),
        );
        // Generic and format-less findings in docs, tests and examples
        // (and hex values in lock files): the scan's own predicate, on the
        // finding the scan would make.
        let docs_hit = if m.rejected.is_none() {
            let (found, allowed) = scanner.findings_split(path, data, std::slice::from_ref(m));
            found
                .first()
                .or(allowed.first())
                .and_then(|f| scanner.path_drop(f, path))
                .map(|(_, why)| why)
        } else {
            None
        };
        suppress(
            "docs/tests",
            docs_hit,
            if rule.formatless || rule.category == leakscan_rules::Category::Generic {
                "not documentation, a test or an example".into()
            } else {
                "the rule has a format of its own: reported in docs and tests too".into()
            },
        );
        let rel = path.to_string();
        let ignore_hit = supp.ignore.as_ref().and_then(|ig| {
            ig.find(&fingerprint, &rel, &rel).map(|i| {
                let e = &ig.entries[i];
                let reason = e
                    .reason
                    .as_deref()
                    .map(|r| format!(" # {r}"))
                    .unwrap_or_default();
                format!(
                    "{}:{}: `{}`{reason}",
                    crate::paths::display_path(&ig.path),
                    e.line,
                    e.text()
                )
            })
        });
        let ignore_miss = match &supp.ignore {
            Some(ig) => format!(
                "no entry for {fingerprint} in {}",
                crate::paths::display_path(&ig.path)
            ),
            None => format!(
                "no ignore file ({} at the scanned root)",
                crate::suppress::IGNORE_FILE
            ),
        };
        suppress("ignore file", ignore_hit, ignore_miss);
        let base_hit = supp
            .baseline
            .as_ref()
            .filter(|b| b.contains(&fingerprint))
            .map(|b| {
                format!(
                    "{fingerprint} is in {}",
                    crate::paths::display_path(&b.path)
                )
            });
        let base_miss = match &supp.baseline {
            Some(b) => format!(
                "{fingerprint} is not in {}",
                crate::paths::display_path(&b.path)
            ),
            None => "no --baseline given".into(),
        };
        suppress("baseline", base_hit, base_miss);
        let reported = decision.is_none();
        let shown = m
            .display
            .clone()
            .unwrap_or_else(|| finding::redact(&m.secret.expose_str()));
        out.candidates.push(CandidateReport {
            rule: rule.id.clone(),
            name: rule.name.clone(),
            line: l,
            column: c,
            end_line: el,
            end_column: ec + 1,
            secret: shown,
            fingerprint,
            entropy: (m.entropy * 1000.0).round() / 1000.0,
            stages,
            reported,
            decision: decision.unwrap_or_else(|| "REPORTED".into()),
        });
    }
    if let Some(want) = line {
        line_notes(
            scanner,
            &bm.triggered,
            &on_line_rules,
            data,
            want,
            &mut out.notes,
        );
    }
    out
}

fn config_name(scanner: &Scanner) -> String {
    scanner
        .config
        .source
        .as_ref()
        .map_or_else(|| "the config".into(), |p| crate::paths::display_path(p))
}

fn pass_detail(scanner: &Scanner, rule: &leakscan_rules::Rule, st: Stage, entropy: f32) -> String {
    match st {
        Stage::Entropy => match rule.entropy {
            Some(f) => format!("{entropy:.2} bits/byte, floor {f:.2}"),
            None => format!("rule has no floor ({entropy:.2} bits/byte)"),
        },
        Stage::AllowWord if rule.allow.is_empty() => "rule has no allow words".into(),
        Stage::AllowWord => format!(
            "contains none of the rule's {} allow words / stopwords",
            rule.allow.len()
        ),
        Stage::Allowlist if scanner.config.allow.secrets.is_empty() => {
            "no [allow] secrets patterns configured".into()
        }
        Stage::Allowlist => format!(
            "matches none of the {} [allow] secrets patterns",
            scanner.config.allow.secrets.len()
        ),
        Stage::Placeholder
            if matches!(
                rule.category,
                leakscan_rules::Category::Generic
                    | leakscan_rules::Category::PrivateKey
                    | leakscan_rules::Category::Assertion
            ) =>
        {
            "checked by the rule's own validator (structure, not filler words)".into()
        }
        Stage::Placeholder => "not a placeholder (no filler word, run or sequence)".into(),
        Stage::Validator => match &rule.validate {
            Some(v) => format!("`{v}` accepts it"),
            None => "rule has no validator".into(),
        },
        Stage::Overlap => "no overlapping candidate of a higher-priority rule".into(),
    }
}

/// Notes for rules whose keyword is on the line but which produced no
/// candidate there.
fn line_notes(
    scanner: &Scanner,
    triggered: &[usize],
    on_line: &[usize],
    data: &[u8],
    want: usize,
    notes: &mut Vec<String>,
) {
    let Some(text) = data.split(|b| *b == b'\n').nth(want.saturating_sub(1)) else {
        return;
    };
    let lower = text.to_ascii_lowercase();
    let rules = scanner.matcher.rules();
    let mut any_keyword = false;
    for (i, cr) in rules.rules.iter().enumerate() {
        let hits: Vec<&str> = cr
            .rule
            .keywords
            .iter()
            .filter(|k| lower_contains(&lower, k))
            .map(String::as_str)
            .collect();
        if hits.is_empty() {
            continue;
        }
        any_keyword = true;
        if on_line.contains(&i) {
            continue;
        }
        let why = if triggered.contains(&i) {
            "its pattern matched nothing on this line"
        } else {
            "the rule does not run on this blob (binary)"
        };
        notes.push(format!(
            "rule `{}`: keyword {} on this line, but {why}",
            cr.rule.id,
            hits.join(", ")
        ));
    }
    if !any_keyword && on_line.is_empty() {
        notes.push(format!(
            "no rule keyword appears on line {want}, so the prefilter sends it to no keyword rule"
        ));
    }
}
