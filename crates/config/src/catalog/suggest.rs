//! Did-you-mean for option keys: edit distance, plus token similarity so that keys with the same
//! words in another order (`checkpointing.execution.interval`) still find their match.
//!
//! A candidate qualifies when its (ASCII-case-insensitive) edit distance to the key is at most a
//! third of the key's length (at least 2), or when it has the same dot/dash/underscore tokens in
//! any order (Jaccard ≥ 0.75). [`Suggester`] is built once per catalog and answers without
//! computing a full edit distance per candidate: candidates are bucketed by length (the length
//! difference is a lower bound of the distance), the distance is computed with Myers'
//! bit-parallel algorithm (ASCII keys up to 64 bytes, i.e. all real ones) or else only up to the
//! limit (a diagonal band with early exit), and the token rule only looks at candidates that share a
//! token with the key (an inverted index). The results are the same as those of the plain
//! algorithm (every candidate, full distance), which the tests keep as the reference.

use std::collections::{BTreeSet, HashMap};

/// Edit distance (insertions, deletions, substitutions) over chars.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The edit distance of `a` and `b` when it is at most `max`, else `None`. Computes only the
/// diagonal band `|i - j| ≤ max` and stops as soon as a whole row exceeds `max`. `prev`/`cur`
/// are scratch rows, reused across calls.
fn bounded_levenshtein<T: PartialEq>(
    a: &[T],
    b: &[T],
    max: usize,
    prev: &mut Vec<usize>,
    cur: &mut Vec<usize>,
) -> Option<usize> {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > max {
        return None;
    }
    if n == 0 || m == 0 {
        return Some(n.max(m));
    }
    let big = max + 1;
    prev.clear();
    prev.extend((0..=m).map(|j| j.min(big)));
    cur.clear();
    cur.resize(m + 1, big);
    for (i, ca) in a.iter().enumerate() {
        let i = i + 1;
        let lo = i.saturating_sub(max).max(1);
        let hi = (i + max).min(m);
        let mut row_min = big;
        if lo == 1 {
            cur[0] = i.min(big);
            row_min = cur[0];
        } else {
            cur[lo - 1] = big;
        }
        for j in lo..=hi {
            let sub = prev[j - 1] + usize::from(*ca != b[j - 1]);
            let v = sub.min(prev[j] + 1).min(cur[j - 1] + 1).min(big);
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if hi < m {
            cur[hi + 1] = big;
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(prev, cur);
    }
    let d = prev[m];
    (d <= max).then_some(d)
}

/// Edit distance of an ASCII `pattern` of at most 64 bytes (as [`Pattern`]) to `text`, by
/// Myers' bit-parallel algorithm (Hyyrö's formulation for the global distance): one pass over
/// `text`, a few word operations per byte.
fn myers(p: &Pattern, text: &[u8]) -> usize {
    let m = p.len;
    if m == 0 {
        return text.len();
    }
    let last = 1u64 << (m - 1);
    let mut pv: u64 = !0;
    let mut mv: u64 = 0;
    let mut score = m;
    for &c in text {
        let eq = p.peq.get(usize::from(c)).copied().unwrap_or(0);
        let xv = eq | mv;
        let xh = (((eq & pv).wrapping_add(pv)) ^ pv) | eq;
        let mut ph = mv | !(xh | pv);
        let mut mh = pv & xh;
        if ph & last != 0 {
            score += 1;
        } else if mh & last != 0 {
            score -= 1;
        }
        ph = (ph << 1) | 1;
        mh <<= 1;
        pv = mh | !(xv | ph);
        mv = ph & xv;
    }
    score
}

/// A key prepared for [`myers`]: for each byte, the bit set of its positions in the key.
struct Pattern {
    len: usize,
    peq: [u64; 128],
}

impl Pattern {
    /// `None` unless the key is ASCII and at most 64 bytes long.
    fn new(lower: &[u8]) -> Option<Self> {
        if lower.len() > 64 || !lower.is_ascii() {
            return None;
        }
        let mut peq = [0u64; 128];
        for (i, &b) in lower.iter().enumerate() {
            if let Some(slot) = peq.get_mut(usize::from(b)) {
                *slot |= 1u64 << i;
            }
        }
        Some(Pattern { len: lower.len(), peq })
    }
}

fn token_strs(key: &str) -> impl Iterator<Item = String> + '_ {
    key.split(['.', '-', '_'])
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
}

/// One candidate key, prepared for matching.
struct Candidate {
    /// The key as written (its byte length gates both rules).
    key_len: usize,
    /// ASCII-lowercased key as bytes (when ASCII) or chars.
    lower: Lowered,
    /// Distinct token ids, sorted.
    tokens: Vec<u32>,
    /// Position of the suggested key in [`Suggester::targets`].
    target: u32,
}

enum Lowered {
    Ascii(Vec<u8>),
    Chars(Vec<char>),
}

impl Lowered {
    fn new(s: &str) -> Self {
        let lower = s.to_ascii_lowercase();
        if lower.is_ascii() {
            Lowered::Ascii(lower.into_bytes())
        } else {
            Lowered::Chars(lower.chars().collect())
        }
    }

    fn len(&self) -> usize {
        match self {
            Lowered::Ascii(b) => b.len(),
            Lowered::Chars(c) => c.len(),
        }
    }
}

/// Did-you-mean over a fixed set of `(candidate, suggested key)` pairs, built once.
pub(super) struct Suggester {
    candidates: Vec<Candidate>,
    /// Suggested keys (deduplicated), addressed by [`Candidate::target`].
    targets: Vec<String>,
    /// Candidate positions by char length of the key: `by_len[n]` lists those of length `n`.
    by_len: Vec<Vec<u32>>,
    /// Token → its id; `postings[id]` lists the candidates holding the token.
    token_ids: HashMap<String, u32>,
    postings: Vec<Vec<u32>>,
}

impl Suggester {
    pub(super) fn new<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        let mut s = Suggester {
            candidates: Vec::new(),
            targets: Vec::new(),
            by_len: Vec::new(),
            token_ids: HashMap::new(),
            postings: Vec::new(),
        };
        let mut target_ids: HashMap<&'a str, u32> = HashMap::new();
        for (cand, target) in pairs {
            let Ok(ci) = u32::try_from(s.candidates.len()) else {
                break;
            };
            let next_target = u32::try_from(s.targets.len()).unwrap_or(u32::MAX);
            let t = *target_ids.entry(target).or_insert_with(|| {
                s.targets.push(target.to_string());
                next_target
            });
            let mut tokens: Vec<u32> = Vec::new();
            for tok in token_strs(cand) {
                let next = u32::try_from(s.postings.len()).unwrap_or(u32::MAX);
                let id = *s.token_ids.entry(tok).or_insert_with(|| {
                    s.postings.push(Vec::new());
                    next
                });
                if !tokens.contains(&id) {
                    tokens.push(id);
                    if let Some(p) = s.postings.get_mut(id as usize) {
                        p.push(ci);
                    }
                }
            }
            tokens.sort_unstable();
            let lower = Lowered::new(cand);
            let n = lower.len();
            if s.by_len.len() <= n {
                s.by_len.resize_with(n + 1, Vec::new);
            }
            s.by_len[n].push(ci);
            s.candidates.push(Candidate { key_len: cand.len(), lower, tokens, target: t });
        }
        s
    }

    /// Up to `max` suggestions for `key`, best first (see the module doc for the rules).
    pub(super) fn suggest(&self, key: &str, max: usize) -> Vec<String> {
        if key.is_empty() || max == 0 {
            return Vec::new();
        }
        let key_chars = key.chars().count();
        let limit = (key_chars / 3).max(2);
        let len_gate = limit.max(key.len() / 2);
        let lower = Lowered::new(key);
        let pattern = match &lower {
            Lowered::Ascii(b) => Pattern::new(b),
            Lowered::Chars(_) => None,
        };
        let mut scored: Vec<(usize, u32)> = Vec::new();
        let mut done = vec![false; self.candidates.len()];
        let (mut prev, mut cur) = (Vec::new(), Vec::new());
        // Rule 1: edit distance ≤ limit; only lengths within `limit` of the key's can make it.
        let lo = key_chars.saturating_sub(limit);
        let hi = (key_chars + limit).min(self.by_len.len().saturating_sub(1));
        for bucket in self.by_len.get(lo..=hi).into_iter().flatten() {
            for &ci in bucket {
                let Some(c) = self.candidates.get(ci as usize) else { continue };
                if c.key_len.abs_diff(key.len()) > len_gate {
                    continue;
                }
                let d = match (&lower, &c.lower) {
                    (Lowered::Ascii(_), Lowered::Ascii(b)) if pattern.is_some() => {
                        pattern.as_ref().map(|p| myers(p, b)).filter(|&d| d <= limit)
                    }
                    (Lowered::Ascii(a), Lowered::Ascii(b)) => bounded_levenshtein(a, b, limit, &mut prev, &mut cur),
                    (a, b) => bounded_levenshtein(&chars(a), &chars(b), limit, &mut prev, &mut cur),
                };
                if let Some(d) = d {
                    scored.push((d, c.target));
                    done[ci as usize] = true;
                }
            }
        }
        // Rule 2: the same tokens in any order; a candidate must share a token with the key.
        let key_tokens: BTreeSet<String> = token_strs(key).collect();
        let mut key_ids: Vec<u32> = key_tokens.iter().filter_map(|t| self.token_ids.get(t).copied()).collect();
        key_ids.sort_unstable();
        for &id in &key_ids {
            for &ci in self.postings.get(id as usize).into_iter().flatten() {
                let Some(seen) = done.get_mut(ci as usize) else { continue };
                if *seen {
                    continue;
                }
                *seen = true;
                let Some(c) = self.candidates.get(ci as usize) else { continue };
                if c.key_len.abs_diff(key.len()) > len_gate {
                    continue;
                }
                let common = sorted_intersection(&key_ids, &c.tokens);
                let union = (key_tokens.len() + c.tokens.len() - common).max(1);
                if common * 4 >= union * 3 {
                    scored.push((limit + 1 + (union - common), c.target));
                }
            }
        }
        let mut ranked: Vec<(usize, &str)> = scored
            .into_iter()
            .filter_map(|(s, t)| self.targets.get(t as usize).map(|t| (s, t.as_str())))
            .collect();
        ranked.sort_unstable();
        let mut out: Vec<String> = Vec::new();
        for (_, target) in ranked {
            if target != key && !out.iter().any(|o| o == target) {
                out.push(target.to_string());
                if out.len() == max {
                    break;
                }
            }
        }
        out
    }
}

fn chars(l: &Lowered) -> Vec<char> {
    match l {
        Lowered::Ascii(b) => b.iter().map(|&b| char::from(b)).collect(),
        Lowered::Chars(c) => c.clone(),
    }
}

/// Size of the intersection of two sorted, deduplicated lists.
fn sorted_intersection(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.cmp(y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// The plain algorithm the [`Suggester`] must agree with: every candidate, full edit distance,
/// token sets per candidate. Kept as the reference for tests and the benchmark.
#[cfg(test)]
pub(super) fn suggest_reference<'a>(
    key: &str,
    candidates: impl Iterator<Item = (&'a str, &'a str)>,
    max: usize,
) -> Vec<String> {
    fn tokens(key: &str) -> BTreeSet<String> {
        token_strs(key).collect()
    }
    if key.is_empty() {
        return Vec::new();
    }
    let limit = (key.chars().count() / 3).max(2);
    let key_tokens = tokens(key);
    let lower = key.to_ascii_lowercase();
    let mut scored: Vec<(usize, &str)> = Vec::new();
    for (cand, target) in candidates {
        if cand.len().abs_diff(key.len()) > limit.max(key.len() / 2) {
            continue;
        }
        let d = levenshtein(&lower, &cand.to_ascii_lowercase());
        let score = if d <= limit {
            d
        } else {
            let ct = tokens(cand);
            let common = key_tokens.intersection(&ct).count();
            let union = key_tokens.union(&ct).count().max(1);
            if common * 4 >= union * 3 {
                limit + 1 + (union - common)
            } else {
                continue;
            }
        };
        scored.push((score, target));
    }
    scored.sort();
    let mut out: Vec<String> = Vec::new();
    for (_, target) in scored {
        if target != key && !out.iter().any(|o| o == target) {
            out.push(target.to_string());
            if out.len() == max {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fast(key: &str, cands: &[(&str, &str)], max: usize) -> Vec<String> {
        Suggester::new(cands.iter().copied()).suggest(key, max)
    }

    #[test]
    fn distance() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("état", "etat"), 1);
    }

    #[test]
    fn bounded_distance_agrees_with_full_distance() {
        let (mut p, mut c) = (Vec::new(), Vec::new());
        let b = |x: &str, y: &str, max: usize, p: &mut Vec<usize>, c: &mut Vec<usize>| {
            let (x, y): (Vec<char>, Vec<char>) = (x.chars().collect(), y.chars().collect());
            bounded_levenshtein(&x, &y, max, p, c)
        };
        assert_eq!(b("kitten", "sitting", 3, &mut p, &mut c), Some(3));
        assert_eq!(b("kitten", "sitting", 2, &mut p, &mut c), None);
        assert_eq!(b("", "ab", 2, &mut p, &mut c), Some(2));
        assert_eq!(b("abcdef", "", 2, &mut p, &mut c), None);
        assert_eq!(b("état", "etat", 1, &mut p, &mut c), Some(1));
    }

    #[test]
    fn ranks_closest_first_and_dedups() {
        let cands = [
            ("a.bc", "a.bc"),
            ("a.bd", "a.bd"),
            ("old.a", "a.bc"),
            ("x.y.z.w", "x.y.z.w"),
        ];
        assert_eq!(fast("a.bx", &cands, 3), ["a.bc", "a.bd"]);
        assert_eq!(fast("w.z.y.x", &cands, 3), ["x.y.z.w"]);
        assert!(fast("qqqqqqqq", &cands, 3).is_empty());
        assert!(fast("", &cands, 3).is_empty());
        assert_eq!(fast("a.bx", &cands, 1), ["a.bc"]);
        for key in ["a.bx", "w.z.y.x", "qqqqqqqq", "", "A.BC"] {
            assert_eq!(fast(key, &cands, 3), suggest_reference(key, cands.iter().copied(), 3), "{key}");
        }
    }

    /// Every key of the 2.3 and operator catalogs with each kind of typo: the fast suggester
    /// gives exactly what the reference gives.
    #[test]
    fn agrees_with_reference_on_real_catalogs() {
        for cat in [crate::catalog::Catalog::for_version("2.3").ok(), crate::catalog::Catalog::try_operator().ok()]
            .into_iter()
            .flatten()
        {
            let pairs: Vec<(&str, &str)> = cat
                .options
                .iter()
                .map(|o| (o.key.as_str(), o.key.as_str()))
                .chain(cat.options.iter().flat_map(|o| o.deprecated_keys.iter().map(|d| (d.as_str(), o.key.as_str()))))
                .collect();
            let s = Suggester::new(pairs.iter().copied());
            let mut checked = 0;
            for (i, o) in cat.options.iter().enumerate().step_by(7) {
                let k = &o.key;
                let mut swapped: Vec<&str> = k.split('.').collect();
                swapped.reverse();
                let typos = [
                    format!("{k}x"),
                    k[..k.len() - 1].to_string(),
                    k.to_ascii_uppercase(),
                    swapped.join("."),
                    k.replacen('.', "-", 1),
                    format!("{}é", &k[..k.len() / 2]),
                    k.clone(),
                ];
                for t in &typos {
                    assert_eq!(s.suggest(t, 3), suggest_reference(t, pairs.iter().copied(), 3), "{t} (#{i})");
                    checked += 1;
                }
            }
            assert!(checked > 100, "{checked}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn bounded_matches_full(a in "[abé.-]{0,12}", b in "[abé.-]{0,12}", max in 0usize..6) {
            let (x, y): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            let full = levenshtein(&a, &b);
            let got = bounded_levenshtein(&x, &y, max, &mut Vec::new(), &mut Vec::new());
            prop_assert_eq!(got, (full <= max).then_some(full));
        }

        #[test]
        fn myers_matches_full(a in "[ab.-]{0,70}", b in "[abc.-]{0,70}") {
            let full = levenshtein(&a, &b);
            match Pattern::new(a.as_bytes()) {
                Some(p) => prop_assert_eq!(myers(&p, b.as_bytes()), full),
                None => prop_assert!(a.len() > 64),
            }
        }

        #[test]
        fn fast_matches_reference(
            key in "[a-cA-Cé]{0,3}([.\\-_][a-c]{0,3}){0,4}",
            keys in proptest::collection::vec("[a-cé]{1,3}([.\\-_][a-c]{1,3}){0,4}", 0..30),
        ) {
            let pairs: Vec<(&str, &str)> = keys.iter().enumerate().map(|(i, k)| (k.as_str(), keys[i / 2 * 2].as_str())).collect();
            prop_assert_eq!(fast(&key, &pairs, 3), suggest_reference(&key, pairs.iter().copied(), 3));
        }
    }
}
