//! Did-you-mean for option keys: edit distance, plus token similarity so that keys with the same
//! words in another order (`checkpointing.execution.interval`) still find their match.

use std::collections::BTreeSet;

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

fn tokens(key: &str) -> BTreeSet<String> {
    key.split(['.', '-', '_'])
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Up to `max` suggestions for `key` among `(candidate, suggested key)` pairs, best first. A
/// candidate qualifies when its edit distance is at most a third of the key's length (at least
/// 2), or when it has the same tokens (dot/dash separated, any order, Jaccard ≥ 0.75).
pub(super) fn suggest<'a>(
    key: &str,
    candidates: impl Iterator<Item = (&'a str, &'a str)>,
    max: usize,
) -> Vec<String> {
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

    #[test]
    fn distance() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("état", "etat"), 1);
    }

    #[test]
    fn ranks_closest_first_and_dedups() {
        let cands = [
            ("a.bc", "a.bc"),
            ("a.bd", "a.bd"),
            ("old.a", "a.bc"),
            ("x.y.z.w", "x.y.z.w"),
        ];
        assert_eq!(suggest("a.bx", cands.iter().copied(), 3), ["a.bc", "a.bd"]);
        assert_eq!(suggest("w.z.y.x", cands.iter().copied(), 3), ["x.y.z.w"]);
        assert!(suggest("qqqqqqqq", cands.iter().copied(), 3).is_empty());
    }
}
