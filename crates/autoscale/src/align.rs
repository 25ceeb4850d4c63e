//! Parallelism alignment to key groups: a keyed vertex whose parallelism divides its max
//! parallelism spreads key groups evenly (every subtask owns the same number of key groups), so
//! no subtask carries more state and load than the rest.
//!
//! The rule follows the Flink operator's autoscaler ("evenly spread" mode): search upwards from
//! the computed parallelism for a divisor of the max parallelism, within the upper bound; when
//! scaling down, never search above the current parallelism (that would turn a scale-down into
//! no change at best). Without a divisor in range the computed value stands.

/// The aligned parallelism for a vertex. `computed` is already clamped to
/// `[lower, upper]`; `upper ≤ max_parallelism`.
pub fn align_to_key_groups(computed: u32, current: u32, max_parallelism: u32, upper: u32) -> u32 {
    if computed == 0 || max_parallelism == 0 || computed == current {
        return computed;
    }
    let limit = if computed > current { upper.min(max_parallelism) } else { current.min(upper).min(max_parallelism) };
    (computed..=limit).find(|&p| max_parallelism.is_multiple_of(p)).unwrap_or(computed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table() {
        // (computed, current, max_parallelism, upper) → aligned
        let cases = [
            ((3, 1, 128, 128), 4),
            ((5, 1, 128, 128), 8),
            ((2, 1, 128, 128), 2),
            ((9, 1, 128, 128), 16),
            ((9, 1, 128, 10), 9), // no divisor of 128 in 9..=10
            ((7, 1, 120, 128), 8),
            ((5, 12, 128, 128), 8), // scale-down searches up to the current parallelism
            ((5, 6, 128, 128), 5),  // no divisor in 5..=6: keep the computed value
            ((4, 4, 128, 128), 4),
            ((13, 1, 13, 13), 13),
        ];
        for ((c, cur, max, up), want) in cases {
            assert_eq!(align_to_key_groups(c, cur, max, up), want, "align({c}, {cur}, {max}, {up})");
        }
    }

    proptest! {
        #[test]
        fn stays_in_bounds_and_direction(c in 1u32..300, cur in 1u32..300, max in 1u32..400) {
            let upper = max;
            let c = c.min(upper);
            let a = align_to_key_groups(c, cur, max, upper);
            prop_assert!(a >= c && a <= upper);
            if c < cur { prop_assert!(a <= cur); }
            if a != c { prop_assert_eq!(max % a, 0); }
        }
    }
}
