//! The keyword prefilter: every occurrence of every rule keyword in a blob,
//! ASCII case-insensitively, overlapping ones included.
//!
//! An Aho-Corasick automaton walks every byte (about 300 MB/s here), which
//! made it most of a history scan's matching time. Instead the blob is
//! lowercased once into a reused buffer, and SIMD searchers (Teddy, from
//! aho-corasick's `packed` module) look for the keywords' first three or
//! four bytes; only at those candidate starts are whole keywords compared.
//! Keywords of one or two bytes are found with `memmem`. Where Teddy is not
//! available (no SSSE3/AVX2 or NEON), an automaton does the whole search.

use std::cell::RefCell;

use aho_corasick::packed::{self, MatchKind as PackedKind};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use anyhow::{Context, Result};
use memchr::memmem;

/// Most prefixes given to one Teddy searcher (its own fast-path limit).
const TEDDY_PATTERNS: usize = 64;

/// Prefix length the SIMD searchers look for (Teddy masks at most 4 bytes).
const PREFIX_LEN: usize = 4;

/// A SIMD searcher over distinct prefixes of one length, and for each
/// prefix the keywords that start with it.
#[derive(Debug, Clone)]
struct PrefixSearcher {
    teddy: packed::Searcher,
    keywords: Vec<Vec<usize>>,
}

/// Every occurrence of a fixed set of keywords.
#[derive(Debug, Clone)]
pub struct KeywordSearch {
    /// The keywords, lowercased; hits name them by index.
    keywords: Vec<Vec<u8>>,
    how: How,
}

#[derive(Debug, Clone)]
enum How {
    Prefilter {
        searchers: Vec<PrefixSearcher>,
        /// Keywords shorter than 3 bytes, searched whole.
        short: Vec<(memmem::Finder<'static>, usize)>,
    },
    Automaton(AhoCorasick),
}

thread_local! {
    /// The lowercased copy of the blob being searched, reused per thread.
    static FOLDED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl KeywordSearch {
    /// Builds the search for `keywords` (case is ignored; duplicates are
    /// the caller's to avoid).
    pub fn new(keywords: &[String]) -> Result<KeywordSearch> {
        let keywords: Vec<Vec<u8>> = keywords
            .iter()
            .map(|k| k.to_ascii_lowercase().into_bytes())
            .collect();
        anyhow::ensure!(
            keywords.iter().all(|k| !k.is_empty()),
            "a rule keyword is empty"
        );
        let how = match Self::prefilter(&keywords) {
            Some(how) => how,
            None => How::Automaton(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&keywords)
                    .context("building the keyword automaton")?,
            ),
        };
        Ok(KeywordSearch { keywords, how })
    }

    /// The SIMD plan, or `None` where Teddy cannot be built on this CPU.
    fn prefilter(keywords: &[Vec<u8>]) -> Option<How> {
        // Group keywords by their prefix, one group of searchers per prefix
        // length: at any position at most one prefix of a given length can
        // match, so each searcher's leftmost match names the only group to
        // confirm there.
        let mut by_len: Vec<Vec<(Vec<u8>, Vec<usize>)>> = vec![Vec::new(); PREFIX_LEN + 1];
        let mut short = Vec::new();
        for (i, k) in keywords.iter().enumerate() {
            if k.len() < 3 {
                short.push((memmem::Finder::new(k).into_owned(), i));
                continue;
            }
            let p = &k[..k.len().min(PREFIX_LEN)];
            let groups = &mut by_len[p.len()];
            match groups.iter_mut().find(|(q, _)| q == p) {
                Some((_, members)) => members.push(i),
                None => groups.push((p.to_vec(), vec![i])),
            }
        }
        let mut searchers = Vec::new();
        for groups in by_len {
            for chunk in groups.chunks(TEDDY_PATTERNS) {
                let mut b = packed::Config::new()
                    .match_kind(PackedKind::LeftmostFirst)
                    .builder();
                for (p, _) in chunk {
                    b.add(p);
                }
                searchers.push(PrefixSearcher {
                    teddy: b.build()?,
                    keywords: chunk.iter().map(|(_, m)| m.clone()).collect(),
                });
            }
        }
        Some(How::Prefilter { searchers, short })
    }

    /// Calls `hit(keyword, start, end)` for every occurrence of every
    /// keyword in `data`, in no particular order.
    pub fn for_each(&self, data: &[u8], mut hit: impl FnMut(usize, usize, usize)) {
        let (searchers, short) = match &self.how {
            How::Automaton(ac) => {
                for m in ac.find_overlapping_iter(data) {
                    hit(m.pattern().as_usize(), m.start(), m.end());
                }
                return;
            }
            How::Prefilter { searchers, short } => (searchers, short),
        };
        FOLDED.with(|cell| {
            let mut folded = cell.borrow_mut();
            folded.clear();
            folded.extend(data.iter().map(u8::to_ascii_lowercase));
            let hay = folded.as_slice();
            for s in searchers {
                let mut pos = 0;
                while pos < hay.len() {
                    let Some(m) = s
                        .teddy
                        .find_in(hay, aho_corasick::Span::from(pos..hay.len()))
                    else {
                        break;
                    };
                    let at = m.start();
                    for &k in &s.keywords[m.pattern().as_usize()] {
                        let kw = &self.keywords[k];
                        if hay[at..].starts_with(kw) {
                            hit(k, at, at + kw.len());
                        }
                    }
                    pos = at + 1;
                }
            }
            for (finder, k) in short {
                let len = self.keywords[*k].len();
                // One step at a time: occurrences may overlap ("aa" in "aaa").
                let mut pos = 0;
                while let Some(i) = finder.find(&hay[pos..]) {
                    hit(*k, pos + i, pos + i + len);
                    pos += i + 1;
                }
            }
            // A huge blob must not pin its buffer for the thread's life.
            if folded.capacity() > 64 << 20 {
                *folded = Vec::new();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every hit, sorted, from the automaton over the original bytes: the
    /// reference the SIMD plan must equal.
    fn reference(keywords: &[String], data: &[u8]) -> Vec<(usize, usize, usize)> {
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(keywords)
            .unwrap();
        let mut v: Vec<_> = ac
            .find_overlapping_iter(data)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect();
        v.sort_unstable();
        v
    }

    fn hits(ks: &KeywordSearch, data: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut v = Vec::new();
        ks.for_each(data, |k, s, e| v.push((k, s, e)));
        v.sort_unstable();
        v
    }

    /// A small deterministic generator (xorshift), so failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn builtin_keywords() -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, p) in leakscan_rules::builtin_packs().unwrap() {
            for r in p.rules {
                for k in r.keywords {
                    let k = k.to_ascii_lowercase();
                    if !out.contains(&k) {
                        out.push(k);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn the_simd_plan_is_built_here() {
        let ks = KeywordSearch::new(&builtin_keywords()).unwrap();
        // CI runs on x86_64 with AVX2: the fast path must be the one tested.
        if cfg!(target_arch = "x86_64") {
            assert!(matches!(ks.how, How::Prefilter { .. }));
        }
    }

    #[test]
    fn finds_what_the_automaton_finds_on_keyword_soup() {
        let keywords = builtin_keywords();
        let ks = KeywordSearch::new(&keywords).unwrap();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..300 {
            // Keywords, their fragments and overlaps, in random case, glued
            // with separators: overlapping and adjacent occurrences abound.
            let mut data = Vec::new();
            let len = 1 + rng.below(400);
            for _ in 0..len {
                let k = keywords[rng.below(keywords.len())].as_bytes();
                let piece = match rng.below(4) {
                    0 => &k[..1 + rng.below(k.len())],
                    1 => &k[rng.below(k.len())..],
                    _ => k,
                };
                for &b in piece {
                    data.push(if rng.below(2) == 0 {
                        b.to_ascii_uppercase()
                    } else {
                        b
                    });
                }
                match rng.below(5) {
                    0 => data.push(b' '),
                    1 => data.push(b'_'),
                    2 => data.push(0xC3),
                    _ => {}
                }
            }
            assert_eq!(
                hits(&ks, &data),
                reference(&keywords, &data),
                "round {round}: {:?}",
                String::from_utf8_lossy(&data)
            );
        }
    }

    #[test]
    fn finds_keywords_at_the_edges_and_in_tiny_blobs() {
        let keywords: Vec<String> = ["q~", "aa", "kty", "token", "secret_access_key", "secret"]
            .map(String::from)
            .to_vec();
        let ks = KeywordSearch::new(&keywords).unwrap();
        for data in [
            &b""[..],
            b"q",
            b"Q~",
            b"aAaA",
            b"kty",
            b"TOKEN",
            b"xsecret_access_keyx",
            b"tokentokenTOKENtoken",
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaasecret",
        ] {
            assert_eq!(hits(&ks, data), reference(&keywords, data), "{data:?}");
        }
    }

    #[test]
    fn more_keywords_than_one_searcher_holds() {
        // 200 distinct 4-byte prefixes: several Teddy searchers.
        let keywords: Vec<String> = (0..200).map(|i| format!("k{i:03}x_word")).collect();
        let ks = KeywordSearch::new(&keywords).unwrap();
        let mut data = Vec::new();
        for i in (0..200).rev() {
            data.extend_from_slice(format!("..K{i:03}X_WORD..k{i:03}x_wor;").as_bytes());
        }
        let found = hits(&ks, &data);
        assert_eq!(found.len(), 200);
        assert_eq!(found, reference(&keywords, &data));
    }
}
