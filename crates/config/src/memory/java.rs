//! The few pieces of JVM behaviour Flink's memory calculator depends on, reproduced exactly:
//! `MemorySize.multiply` (a `BigDecimal` product of the bytes and the decimal string of a
//! `double`, truncated), `Resource` values (8 decimal places, rounded down), the iteration order of
//! a `java.util.HashMap` (which decides the order BashJavaUtils prints `-D` pairs in), and Flink's
//! `StructuredOptionsSplitter` for `;`-separated lists.

use crate::units::shortest_decimal;

/// `MemorySize.multiply(double)`: `BigDecimal.valueOf(bytes) * BigDecimal.valueOf(multiplier)`,
/// rejected above `Long.MAX_VALUE`, then truncated towards zero. `None` on overflow or when the
/// multiplier is negative, NaN or infinite (Java throws there).
pub(crate) fn multiply(bytes: u64, multiplier: f64) -> Option<u64> {
    if multiplier.is_nan() || multiplier.is_infinite() || multiplier < 0.0 {
        return None;
    }
    let (digits, exp) = shortest_decimal(multiplier);
    let product = u128::from(bytes) * u128::from(digits); // < 2^63 * 2^57
    let max = i64::MAX as u128;
    if exp >= 0 {
        let mut p = product;
        for _ in 0..exp {
            p = p.checked_mul(10)?;
            if p > max {
                return None;
            }
        }
        return (p <= max).then_some(p as u64);
    }
    // product * 10^exp with exp < 0: quotient and remainder by 10^-exp.
    let k = (-exp) as u32;
    let (q, r) = if k > 38 {
        (0, product)
    } else {
        let div = 10u128.pow(k);
        (product / div, product % div)
    };
    if q > max || (q == max && r > 0) {
        return None;
    }
    Some(q as u64)
}

/// A `double` as Java's `Resource` keeps it: `BigDecimal.valueOf(d).setScale(8, DOWN)
/// .stripTrailingZeros()`, as `(digits, exponent)`. `None` for NaN or infinity (Java throws).
pub(crate) fn resource_decimal(d: f64) -> Option<(u64, i32)> {
    if !d.is_finite() {
        return None;
    }
    let (mut digits, mut exp) = shortest_decimal(d);
    if exp < -8 {
        let cut = (-8 - exp) as u32;
        digits = if cut > 19 { 0 } else { digits / 10u64.pow(cut) };
        exp = -8;
    }
    if digits == 0 {
        return Some((0, 0));
    }
    while digits % 10 == 0 {
        digits /= 10;
        exp += 1;
    }
    Some((digits, exp))
}

/// `Resource.getValue().doubleValue()` of a CPU resource built from `d`.
pub(crate) fn cpu_resource_value(d: f64) -> Option<f64> {
    let (digits, exp) = resource_decimal(d)?;
    format!("{digits}e{exp}").parse::<f64>().ok()
}

/// `Resource.getValue().longValue()` of an external resource built from the `long` amount
/// (Flink passes it through a `double`, so amounts above 2^53 lose precision as in Flink).
pub(crate) fn external_resource_long(amount: i64) -> i64 {
    let Some((digits, exp)) = resource_decimal(amount as f64) else { return 0 };
    let mut v = i128::from(digits);
    if exp >= 0 {
        for _ in 0..exp {
            v = v.saturating_mul(10);
        }
    } else {
        for _ in 0..(-exp) {
            v /= 10;
        }
    }
    // BigDecimal.longValue(): the low 64 bits of the integer part.
    v as i64
}

/// Java's `String.hashCode()` (over UTF-16 code units).
pub(crate) fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// `HashMap.tableSizeFor(cap)`: the next power of two.
fn table_size_for(cap: usize) -> usize {
    cap.max(1).next_power_of_two().min(1 << 30)
}

/// The iteration order of a `java.util.HashMap` (or `HashSet`) after putting `keys` in order
/// (duplicates keep their first position), starting from `initial_capacity` (16 for `new
/// HashMap<>()`). Buckets are walked in index order and each bucket keeps insertion order, which
/// resizes preserve.
pub(crate) fn hash_order<T: AsRef<str> + Clone>(keys: &[T], initial_capacity: usize) -> Vec<T> {
    let mut seen: Vec<T> = Vec::new();
    for k in keys {
        if !seen.iter().any(|s| s.as_ref() == k.as_ref()) {
            seen.push(k.clone());
        }
    }
    let mut cap = table_size_for(initial_capacity);
    while seen.len() > cap * 3 / 4 {
        cap *= 2;
    }
    let bucket = |k: &T| {
        let h = java_string_hash(k.as_ref());
        let spread = h ^ ((h as u32) >> 16) as i32;
        (spread as u32 as usize) & (cap - 1)
    };
    let mut indexed: Vec<(usize, usize, T)> = seen.into_iter().enumerate().map(|(i, k)| (bucket(&k), i, k)).collect();
    indexed.sort_by_key(|(b, i, _)| (*b, *i));
    indexed.into_iter().map(|(_, _, k)| k).collect()
}

/// The initial capacity `new HashSet<>(collection)` uses.
pub(crate) fn hash_set_capacity(n: usize) -> usize {
    ((n as f32 / 0.75f32) as usize + 1).max(16)
}

/// Flink's `StructuredOptionsSplitter.splitEscaped(text, ';')`: `;`-separated, tokens trimmed,
/// `'…'` / `"…"` quoting with doubled quotes as escapes. `Err` for broken quoting.
pub(crate) fn split_escaped(text: &str, delimiter: char) -> Result<Vec<String>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let n = chars.len();
    let skip_ws = |i: &mut usize| {
        while *i < n && chars[*i].is_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= n {
            break;
        }
        let c = chars[i];
        if c == '\'' || c == '"' {
            let quote = c;
            i += 1;
            let mut tok = String::new();
            loop {
                if i >= n {
                    return Err("Could not split string. Quoting was not closed properly.".into());
                }
                if chars[i] == quote {
                    if i + 1 < n && chars[i + 1] == quote {
                        tok.push(quote);
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                tok.push(chars[i]);
                i += 1;
            }
            skip_ws(&mut i);
            if i < n && chars[i] != delimiter {
                return Err(format!("Could not split string. Illegal quoting at position: {i}"));
            }
            out.push(tok);
        } else if c == delimiter {
            out.push(String::new());
        } else {
            let start = i;
            while i < n && chars[i] != delimiter {
                if chars[i] == '\'' || chars[i] == '"' {
                    // a quote inside an unquoted token is kept as is
                }
                i += 1;
            }
            let tok: String = chars[start..i].iter().collect();
            out.push(tok.trim_end().to_string());
        }
        if i < n && chars[i] == delimiter {
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiply_matches_flink_examples() {
        // 1728m process, 0.1f overhead: 0.10000000149011612 * 1811939328 = 181193935.1... -> but
        // capped elsewhere; the product itself:
        assert_eq!(multiply(1_811_939_328, f64::from(0.1f32)), Some(181_193_935));
        // network of the default 1728m TM: (1728m-256m-192m)... Flink prints 134217730.
        assert_eq!(multiply(1_342_177_280, f64::from(0.1f32)), Some(134_217_730));
        assert_eq!(multiply(10, 0.0), Some(0));
        assert_eq!(multiply(i64::MAX as u64, 1.0), Some(i64::MAX as u64));
        assert_eq!(multiply(i64::MAX as u64, 1.5), None);
        assert_eq!(multiply(1 << 62, 2.0), None);
        assert_eq!(multiply(1, -1.0), None);
        assert_eq!(multiply(1, f64::NAN), None);
        assert_eq!(multiply(3, 1e-300), Some(0));
        assert_eq!(multiply(1000, 1.6777215e7), Some(16_777_215_000));
    }

    #[test]
    fn resources_keep_eight_decimals() {
        assert_eq!(cpu_resource_value(1.0), Some(1.0));
        assert_eq!(cpu_resource_value(0.000000019), Some(1e-8));
        assert_eq!(cpu_resource_value(1e-9), Some(0.0));
        assert_eq!(cpu_resource_value(1e300), Some(1e300));
        assert_eq!(cpu_resource_value(f64::NAN), None);
        assert_eq!(external_resource_long(9_007_199_254_740_993), 9_007_199_254_740_992);
        assert_eq!(external_resource_long(2), 2);
    }

    #[test]
    fn hash_order_matches_java() {
        // Observed from BashJavaUtils (Flink 2.3.0) for the default TaskManager.
        let keys = [
            "taskmanager.cpu.cores",
            "taskmanager.memory.framework.heap.size",
            "taskmanager.memory.framework.off-heap.size",
            "taskmanager.memory.task.heap.size",
            "taskmanager.memory.task.off-heap.size",
            "taskmanager.memory.network.min",
            "taskmanager.memory.network.max",
            "taskmanager.memory.managed.size",
            "taskmanager.memory.jvm-metaspace.size",
            "taskmanager.memory.jvm-overhead.min",
            "taskmanager.memory.jvm-overhead.max",
            "taskmanager.numberOfTaskSlots",
            "external-resources",
        ];
        let order = hash_order(&keys, 16);
        assert_eq!(
            order,
            [
                "taskmanager.memory.network.min",
                "taskmanager.cpu.cores",
                "taskmanager.memory.task.off-heap.size",
                "taskmanager.memory.jvm-metaspace.size",
                "external-resources",
                "taskmanager.memory.jvm-overhead.min",
                "taskmanager.memory.framework.off-heap.size",
                "taskmanager.memory.network.max",
                "taskmanager.memory.framework.heap.size",
                "taskmanager.memory.managed.size",
                "taskmanager.memory.task.heap.size",
                "taskmanager.numberOfTaskSlots",
                "taskmanager.memory.jvm-overhead.max",
            ]
        );
        assert_eq!(hash_order(&["gpu", "fpga"], 16), ["fpga", "gpu"]);
        assert_eq!(hash_order(&["gpu", "x"], 16), ["x", "gpu"]);
    }

    #[test]
    fn splits_like_flink() {
        let s = |t: &str| split_escaped(t, ';').unwrap();
        assert_eq!(s(" gpu ; x"), ["gpu", "x"]);
        assert_eq!(s("a;;b"), ["a", "", "b"]);
        assert_eq!(s("'a;b';c"), ["a;b", "c"]);
        assert_eq!(s("a b;c"), ["a b", "c"]);
        assert!(s("  ").is_empty());
        assert!(s("").is_empty());
        assert_eq!(s("a ;"), ["a"]);
        assert_eq!(s("'a' ;b"), ["a", "b"]);
        assert_eq!(s("\"x\"\"y\";z"), ["x\"y", "z"]);
        assert_eq!(s("a'b"), ["a'b"]);
        assert!(split_escaped("'a", ';').is_err());
        assert!(split_escaped("'a'b", ';').is_err());
    }
}
