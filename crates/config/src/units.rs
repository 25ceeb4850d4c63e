//! Exact value parsers: memory sizes, durations, booleans, integers and floating-point numbers,
//! parsed byte-for-byte the way Flink (and the JVM underneath it) parses them.
//!
//! * [`parse_memory_size`] is Flink's `MemorySize.parseBytes`: an ASCII number, optional
//!   whitespace, an optional unit (`b`/`bytes`, `k`/`kb`/`kibibytes`, `m`/`mb`/`mebibytes`,
//!   `g`/`gb`/`gibibytes`, `t`/`tb`/`tebibytes`, any case); no unit means bytes; 64-bit overflow is
//!   an error.
//! * [`parse_duration`] is the latest Flink's `TimeUtils.parseDuration` (units `ns`, `µs`,
//!   `ms`, `s`, `min`/`m`, `h`, `d` with all their long spellings, or, since 2.1, an ISO-8601
//!   `PT…` string); [`parse_duration_with`] follows an older generation ([`DurationRules`]:
//!   1.x limits the number to 64 bits, 2.0 has no ISO-8601). `us` is not a Flink unit.
//! * [`parse_bool`] accepts only `true`/`false` in any case, like Flink 2.x (`yes` is not one).
//! * [`parse_java_float`] / [`parse_java_double`] follow `Float.parseFloat` /
//!   `Double.parseDouble` (trimming, `f`/`d` suffixes, hex floats, `NaN`, `Infinity`); memory
//!   fractions are 32-bit floats in Flink, so exactness needs `f32`.
//! * [`parse_java_int`] / [`parse_java_long`] follow `Integer.parseInt` / `Long.parseLong`
//!   (no trimming; any Unicode decimal digit of the Basic Multilingual Plane counts).
//! * [`java_double_to_string`] prints a `f64` like Java's `Double.toString`.
//!
//! Nothing here panics on any input; the property tests and the fuzz targets check that.

use std::time::Duration;

/// Why a value could not be parsed. Every message says what was wrong and how to write it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// Empty or whitespace-only text.
    #[error("the value is empty: write a number, e.g. `512m` or `10 s`")]
    Empty,
    /// The text does not begin with an ASCII digit.
    #[error("'{0}' does not start with a number: write the amount first, then the unit (e.g. `512 mb`)")]
    NoNumber(String),
    /// The number does not fit a signed 64-bit integer.
    #[error("the number '{0}' does not fit in 64 bits: use a larger unit and a smaller number")]
    NumberOverflow(String),
    /// Number times unit does not fit a signed 64-bit count of bytes.
    #[error("'{0}' is more bytes than fit in 64 bits (8 EiB): use a smaller size")]
    ByteOverflow(String),
    /// Unknown memory unit.
    #[error(
        "memory unit '{0}' is not one Flink knows: use b|bytes, k|kb|kibibytes, m|mb|mebibytes, g|gb|gibibytes or t|tb|tebibytes"
    )]
    MemoryUnit(String),
    /// Unknown time unit.
    #[error(
        "time unit '{0}' is not one Flink knows: use d|day|days, h|hour|hours, min|m|minute|minutes, s|sec|secs|second|seconds, ms|milli|millis|millisecond|milliseconds, µs|micro|micros|microsecond|microseconds or ns|nano|nanos|nanosecond|nanoseconds"
    )]
    TimeUnit(String),
    /// The duration does not fit Java's `Duration` (2^63 - 1 seconds).
    #[error("'{0}' is a longer duration than Flink can hold (2^63-1 seconds): use a smaller value")]
    DurationOverflow(String),
    /// A negative ISO-8601 duration.
    #[error("'{0}' is a negative duration: Flink accepts only durations >= 0")]
    NegativeDuration(String),
    /// Not a Flink boolean.
    #[error("'{0}' is not a boolean to Flink: write `true` or `false` (any case); `yes`, `no`, `on`, `off`, `1` and `0` are not booleans")]
    Bool(String),
    /// Not a number Java's `Float.parseFloat` / `Double.parseDouble` accepts.
    #[error("'{value}' is not a {kind} number: write a decimal such as `0.4` or `1e-3`")]
    Float {
        /// The text as given.
        value: String,
        /// `float` or `double`.
        kind: &'static str,
    },
    /// Not an integer Java's `Integer.parseInt` / `Long.parseLong` accepts.
    #[error("'{value}' is not a {kind}: write a whole number without spaces or units (e.g. `4`){range}")]
    Int {
        /// The text as given.
        value: String,
        /// `32-bit integer` or `64-bit integer`.
        kind: &'static str,
        /// Extra hint about the range, when the number was too large.
        range: &'static str,
    },
}

const KIB: i64 = 1 << 10;
const MIB: i64 = 1 << 20;
const GIB: i64 = 1 << 30;
const TIB: i64 = 1 << 40;

/// Java's `String.trim()`: strips every char `<= U+0020` from both ends.
pub(crate) fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= '\u{20}')
}

/// Splits `trimmed` into its leading run of ASCII digits and the rest.
fn split_ascii_number(trimmed: &str) -> (&str, &str) {
    let end = trimmed.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(trimmed.len());
    trimmed.split_at(end)
}

/// The multiplier of a (lower-cased) memory unit label; `None` for an unknown label.
fn memory_unit(unit: &str) -> Option<i64> {
    Some(match unit {
        "" | "b" | "bytes" => 1,
        "k" | "kb" | "kibibytes" => KIB,
        "m" | "mb" | "mebibytes" => MIB,
        "g" | "gb" | "gibibytes" => GIB,
        "t" | "tb" | "tebibytes" => TIB,
        _ => return None,
    })
}

/// Parses a memory size exactly like Flink's `MemorySize.parseBytes`, returning bytes.
///
/// ```
/// # use flinkops_config::units::parse_memory_size;
/// assert_eq!(parse_memory_size("1728m").unwrap(), 1728 << 20);
/// assert_eq!(parse_memory_size(" 2 GB ").unwrap(), 2 << 30);
/// assert!(parse_memory_size("1.5g").is_err()); // Flink has no fractional sizes
/// ```
pub fn parse_memory_size(text: &str) -> Result<u64, UnitError> {
    let trimmed = java_trim(text);
    if trimmed.is_empty() {
        return Err(UnitError::Empty);
    }
    let (number, rest) = split_ascii_number(trimmed);
    let unit = java_trim(rest).to_lowercase();
    if number.is_empty() {
        return Err(UnitError::NoNumber(text.to_string()));
    }
    let value: i64 = number.parse().map_err(|_| UnitError::NumberOverflow(number.to_string()))?;
    let multiplier = memory_unit(&unit).ok_or_else(|| UnitError::MemoryUnit(unit.clone()))?;
    // Java: `result = value * multiplier; if (result / multiplier != value) overflow`.
    let result = value.wrapping_mul(multiplier);
    if result / multiplier != value || result < 0 {
        return Err(UnitError::ByteOverflow(text.to_string()));
    }
    Ok(result as u64)
}

/// Formats bytes as the shortest exact Flink memory size (`"1728 mb"`, `"1 gb"`, `"0 bytes"`,
/// `"1000 bytes"`). The result parses back to the same number with [`parse_memory_size`].
pub fn format_memory_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(1 << 40, "tb"), (1 << 30, "gb"), (1 << 20, "mb"), (1 << 10, "kb")];
    if bytes != 0 {
        for (mult, label) in UNITS {
            if bytes.is_multiple_of(mult) {
                return format!("{} {label}", bytes / mult);
            }
        }
    }
    format!("{bytes} bytes")
}

/// Formats bytes like Flink's `MemorySize.toHumanReadableString`: `"128.000mb (134217728 bytes)"`,
/// or `"100 bytes"` below one KiB. Used in messages so they read like Flink's own.
pub fn human_memory_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(1 << 40, "tb"), (1 << 30, "gb"), (1 << 20, "mb"), (1 << 10, "kb")];
    for (mult, label) in UNITS {
        if bytes > mult {
            let approx = bytes as f64 / mult as f64;
            return format!("{approx:.3}{label} ({bytes} bytes)");
        }
    }
    format!("{bytes} bytes")
}

/// Nanoseconds per unit for a (lower-cased) Flink time unit label.
fn time_unit_nanos(label: &str) -> Option<u128> {
    Some(match label {
        "d" | "day" | "days" => 86_400_000_000_000,
        "h" | "hour" | "hours" => 3_600_000_000_000,
        "min" | "m" | "minute" | "minutes" => 60_000_000_000,
        "s" | "sec" | "secs" | "second" | "seconds" => 1_000_000_000,
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1_000_000,
        "µs" | "micro" | "micros" | "microsecond" | "microseconds" => 1_000,
        "ns" | "nano" | "nanos" | "nanosecond" | "nanoseconds" => 1,
        _ => return None,
    })
}

const NANOS_PER_SEC: u128 = 1_000_000_000;

fn duration_from_nanos(nanos: u128, text: &str) -> Result<Duration, UnitError> {
    let secs = nanos / NANOS_PER_SEC;
    if secs > i64::MAX as u128 {
        return Err(UnitError::DurationOverflow(text.to_string()));
    }
    Ok(Duration::new(secs as u64, (nanos % NANOS_PER_SEC) as u32))
}

/// Which of Flink's `TimeUtils.parseDuration` generations to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationRules {
    /// Flink 1.x: the number must fit 64 bits; no ISO-8601.
    Flink1,
    /// Flink 2.0: any number of digits (only the result must fit); no ISO-8601.
    Flink2_0,
    /// Flink 2.1 and later: as 2.0, plus ISO-8601 (`PT1M30S`, not negative).
    Flink2_1,
}

impl DurationRules {
    /// The rules of a Flink version (`"1.20.3"`, `"2.0"`, `"2.3"`); `None` if not a version.
    pub fn for_version(version: &str) -> Option<Self> {
        let mut parts = version.trim().split('.');
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next().unwrap_or("0").parse().ok()?;
        Some(match (major, minor) {
            (0 | 1, _) => DurationRules::Flink1,
            (2, 0) => DurationRules::Flink2_0,
            _ => DurationRules::Flink2_1,
        })
    }
}

/// Parses a duration exactly like the latest Flink's `TimeUtils.parseDuration`: `"10 s"`,
/// `"1 min"`, `"500"` (milliseconds), `"PT1M30S"` (ISO-8601, not negative). See
/// [`parse_duration_with`] for older Flink versions.
///
/// ```
/// # use flinkops_config::units::parse_duration;
/// # use std::time::Duration;
/// assert_eq!(parse_duration("1 min").unwrap(), Duration::from_secs(60));
/// assert_eq!(parse_duration("250").unwrap(), Duration::from_millis(250));
/// assert_eq!(parse_duration("PT1.5S").unwrap(), Duration::from_millis(1500));
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    parse_duration_with(DurationRules::Flink2_1, text)
}

/// Parses a duration like Flink 1.x (`parse_duration_with(DurationRules::Flink1, …)`).
pub fn parse_duration_1x(text: &str) -> Result<Duration, UnitError> {
    parse_duration_with(DurationRules::Flink1, text)
}

/// Parses a duration exactly like `TimeUtils.parseDuration` of the given Flink generation.
pub fn parse_duration_with(rules: DurationRules, text: &str) -> Result<Duration, UnitError> {
    let trimmed = java_trim(text);
    if trimmed.is_empty() {
        return Err(UnitError::Empty);
    }
    let (number, rest) = split_ascii_number(trimmed);
    let label = java_trim(rest).to_lowercase();
    if number.is_empty() {
        if rules == DurationRules::Flink2_1
            && let Some(result) = parse_iso_duration(trimmed)
        {
            return result;
        }
        return Err(UnitError::NoNumber(text.to_string()));
    }
    let value: u128 = if rules == DurationRules::Flink1 {
        // Long.parseLong: at most 2^63 - 1.
        let v: i64 = number.parse().map_err(|_| UnitError::NumberOverflow(number.to_string()))?;
        v as u128
    } else {
        // BigInteger: any number of digits; only the final seconds must fit.
        let mut value: u128 = 0;
        for b in number.bytes() {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u128::from(b - b'0')))
                .ok_or_else(|| UnitError::DurationOverflow(text.to_string()))?;
        }
        value
    };
    let unit = if label.is_empty() { 1_000_000 } else { time_unit_nanos(&label).ok_or(UnitError::TimeUnit(label))? };
    let nanos = value.checked_mul(unit).ok_or_else(|| UnitError::DurationOverflow(text.to_string()))?;
    duration_from_nanos(nanos, text)
}

/// Java's `Duration.parse` (ISO-8601 `PnDTnHnMn.nS`), then Flink's "negative is not supported".
/// `None` when the text is not ISO-8601 at all.
fn parse_iso_duration(text: &str) -> Option<Result<Duration, UnitError>> {
    let neg_err = || UnitError::NegativeDuration(text.to_string());
    let overflow = || UnitError::DurationOverflow(text.to_string());
    let b = text.as_bytes();
    let mut i = 0;
    let mut negate = false;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        negate = b[i] == b'-';
        i += 1;
    }
    if i >= b.len() || !b[i].eq_ignore_ascii_case(&b'p') {
        return None;
    }
    i += 1;
    // A signed ASCII integer, then the designator.
    fn number<'b>(b: &'b [u8], i: &mut usize) -> Option<(bool, &'b [u8])> {
        let start = *i;
        let mut neg = false;
        if *i < b.len() && (b[*i] == b'-' || b[*i] == b'+') {
            neg = b[*i] == b'-';
            *i += 1;
        }
        let ds = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        if *i == ds {
            *i = start;
            return None;
        }
        Some((neg, &b[ds..*i]))
    }
    fn to_i64(neg: bool, digits: &[u8]) -> Option<i64> {
        let mut v: i64 = 0;
        for d in digits {
            v = v.checked_mul(10)?;
            v = if neg { v.checked_sub(i64::from(d - b'0'))? } else { v.checked_add(i64::from(d - b'0'))? };
        }
        Some(v)
    }
    let mut days = None;
    let save = i;
    if let Some((neg, ds)) = number(b, &mut i) {
        if i < b.len() && b[i].eq_ignore_ascii_case(&b'd') {
            i += 1;
            days = Some((neg, ds));
        } else {
            i = save;
        }
    }
    let (mut hours, mut mins, mut secs, mut frac) = (None, None, None, None);
    let mut t_section = false;
    if i < b.len() && b[i].eq_ignore_ascii_case(&b't') {
        t_section = true;
        i += 1;
        for (designator, slot) in [(b'h', &mut hours), (b'm', &mut mins)] {
            let save = i;
            if let Some((neg, ds)) = number(b, &mut i) {
                if i < b.len() && b[i].eq_ignore_ascii_case(&designator) {
                    i += 1;
                    *slot = Some((neg, ds));
                } else {
                    i = save;
                }
            }
        }
        let save = i;
        if let Some((neg, ds)) = number(b, &mut i) {
            let mut f: Option<&[u8]> = None;
            let mut j = i;
            if j < b.len() && (b[j] == b'.' || b[j] == b',') {
                j += 1;
                let fs = j;
                while j < b.len() && b[j].is_ascii_digit() && j - fs < 9 {
                    j += 1;
                }
                f = Some(&b[fs..j]);
            }
            if j < b.len() && b[j].eq_ignore_ascii_case(&b's') {
                i = j + 1;
                secs = Some((neg, ds));
                frac = f;
            } else {
                i = save;
            }
        }
    }
    if i != b.len() {
        return None;
    }
    if days.is_none() && hours.is_none() && mins.is_none() && secs.is_none() {
        return None;
    }
    if t_section && hours.is_none() && mins.is_none() && secs.is_none() {
        return None;
    }
    let part = |p: Option<(bool, &[u8])>, mult: i64| -> Result<i64, UnitError> {
        match p {
            None => Ok(0),
            Some((neg, ds)) => to_i64(neg, ds).and_then(|v| v.checked_mul(mult)).ok_or_else(overflow),
        }
    };
    let result = (|| {
        let d = part(days, 86_400)?;
        let h = part(hours, 3_600)?;
        let m = part(mins, 60)?;
        let s = part(secs, 1)?;
        let total = m
            .checked_add(s)
            .and_then(|v| h.checked_add(v))
            .and_then(|v| d.checked_add(v))
            .ok_or_else(overflow)?;
        let mut nanos: i64 = 0;
        if let Some(f) = frac {
            let mut n: i64 = 0;
            for k in 0..9 {
                n = n * 10 + f.get(k).map_or(0, |d| i64::from(d - b'0'));
            }
            nanos = if secs.is_some_and(|(neg, _)| neg) { -n } else { n };
        }
        // Duration.ofSeconds(total, nanos) normalises, then negated() if the leading sign was '-'.
        let total_nanos = i128::from(total) * 1_000_000_000 + i128::from(nanos);
        let total_nanos = if negate { -total_nanos } else { total_nanos };
        let secs_floor = total_nanos.div_euclid(1_000_000_000);
        if secs_floor > i128::from(i64::MAX) || secs_floor < i128::from(i64::MIN) {
            return Err(overflow());
        }
        if total_nanos < 0 {
            return Err(neg_err());
        }
        duration_from_nanos(total_nanos as u128, text)
    })();
    Some(result)
}

/// Parses a boolean like Flink 2.x: `true` or `false` in any case, nothing else, no trimming.
pub fn parse_bool(text: &str) -> Result<bool, UnitError> {
    match text.to_uppercase().as_str() {
        "TRUE" => Ok(true),
        "FALSE" => Ok(false),
        _ => Err(UnitError::Bool(text.to_string())),
    }
}

/// Zero code points of the Unicode decimal-digit runs Java's `Character.digit(c, 10)` accepts
/// in the Basic Multilingual Plane (Java 17).
const BMP_DIGIT_ZEROS: [u32; 37] = [
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
    0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50,
    0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
];

/// `Character.digit(c, 10)` for a char of the Basic Multilingual Plane.
fn java_digit(c: char) -> Option<u32> {
    let cp = c as u32;
    BMP_DIGIT_ZEROS.iter().find(|&&z| cp >= z && cp < z + 10).map(|z| cp - z)
}

fn parse_java_integer(text: &str, min: i64, max: i64, kind: &'static str) -> Result<i64, UnitError> {
    let err = |range: &'static str| UnitError::Int { value: text.to_string(), kind, range };
    let mut chars = text.chars().peekable();
    let neg = match chars.peek() {
        Some('-') => {
            chars.next();
            true
        }
        Some('+') => {
            chars.next();
            false
        }
        _ => false,
    };
    let mut value: i128 = 0;
    let mut any = false;
    for c in chars {
        let d = java_digit(c).ok_or_else(|| err(""))?;
        any = true;
        value = value * 10 + i128::from(d);
        if value > i128::from(max) + 1 {
            return Err(err(" (it is out of range)"));
        }
    }
    if !any {
        return Err(err(""));
    }
    let value = if neg { -value } else { value };
    if value < i128::from(min) || value > i128::from(max) {
        return Err(err(" (it is out of range)"));
    }
    Ok(value as i64)
}

/// Parses an `int` like Java's `Integer.parseInt` (what Flink uses for integer options).
pub fn parse_java_int(text: &str) -> Result<i32, UnitError> {
    parse_java_integer(text, i64::from(i32::MIN), i64::from(i32::MAX), "32-bit integer").map(|v| v as i32)
}

/// Parses a `long` like Java's `Long.parseLong`.
pub fn parse_java_long(text: &str) -> Result<i64, UnitError> {
    parse_java_integer(text, i64::MIN, i64::MAX, "64-bit integer")
}

/// A number in Java floating-point syntax, validated but not yet rounded.
enum JavaFloat<'a> {
    NaN,
    Inf(bool),
    /// A decimal string in Rust's float syntax (sign, digits, optional point and exponent).
    Decimal(&'a str),
    /// A hexadecimal float: sign, mantissa digits with optional point, binary exponent.
    Hex { neg: bool, mantissa: &'a str, exp: &'a str },
}

/// Java's `FloatingDecimal.readJavaFormatString` grammar.
fn scan_java_float(text: &str) -> Option<JavaFloat<'_>> {
    let s = java_trim(text);
    let b = s.as_bytes();
    let mut i = 0;
    let neg = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let rest = &s[i..];
    if rest == "NaN" {
        return Some(JavaFloat::NaN);
    }
    if rest == "Infinity" {
        return Some(JavaFloat::Inf(neg));
    }
    let rb = rest.as_bytes();
    if rb.len() >= 2 && rb[0] == b'0' && (rb[1] == b'x' || rb[1] == b'X') {
        let body = &rest[2..];
        let p = body.find(['p', 'P'])?;
        let mantissa = &body[..p];
        let mut exp = &body[p + 1..];
        if let Some(last) = exp.as_bytes().last()
            && matches!(last, b'f' | b'F' | b'd' | b'D')
        {
            exp = &exp[..exp.len() - 1];
        }
        let digits_ok = {
            let mut parts = mantissa.splitn(2, '.');
            let int = parts.next().unwrap_or("");
            let frac = parts.next();
            let hex = |x: &str| x.bytes().all(|c| c.is_ascii_hexdigit());
            hex(int) && frac.is_none_or(hex) && (int.len() + frac.map_or(0, str::len)) > 0
        };
        let e = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if !digits_ok || e.is_empty() || !e.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        return Some(JavaFloat::Hex { neg, mantissa, exp });
    }
    // Decimal: digits [. digits] [e|E [+-] digits] [f|F|d|D]
    let mut j = i;
    let mut digits = 0;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
        digits += 1;
    }
    if j < b.len() && b[j] == b'.' {
        j += 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
        j += 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let es = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == es {
            return None;
        }
    }
    let end = j;
    if j < b.len() && matches!(b[j], b'f' | b'F' | b'd' | b'D') {
        j += 1;
    }
    if j != b.len() {
        return None;
    }
    Some(JavaFloat::Decimal(&s[..end]))
}

/// Rounds a hexadecimal float exactly to a binary format with `mant_bits` significand bits
/// (24 for `f32`, 53 for `f64`), returning the value as `f64` (exact for both formats).
fn hex_to_float(neg: bool, mantissa: &str, exp: &str, mant_bits: u32, min_exp: i32, max_exp: i32) -> f64 {
    // Collect up to 64 significant bits; remember whether anything non-zero was dropped.
    let mut sig: u64 = 0;
    let mut sticky = false;
    let mut bin_exp: i64 = 0; // value = sig * 2^bin_exp (before sticky)
    let mut seen_point = false;
    let mut started = false;
    for c in mantissa.chars() {
        if c == '.' {
            seen_point = true;
            continue;
        }
        let d = u64::from(c.to_digit(16).unwrap_or(0));
        if !started && d == 0 {
            if seen_point {
                bin_exp -= 4;
            }
            continue;
        }
        started = true;
        if sig >> 60 == 0 {
            sig = (sig << 4) | d;
            if seen_point {
                bin_exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                bin_exp += 4;
            }
        }
    }
    let sign = if neg { -1.0 } else { 1.0 };
    if sig == 0 {
        return sign * 0.0;
    }
    let (eneg, edigits) = match exp.as_bytes().first() {
        Some(b'-') => (true, &exp[1..]),
        Some(b'+') => (false, &exp[1..]),
        _ => (false, exp),
    };
    let mut e: i64 = 0;
    for c in edigits.bytes() {
        e = (e * 10 + i64::from(c - b'0')).min(1 << 40);
    }
    let e = if eneg { -e } else { e };
    bin_exp = bin_exp.saturating_add(e);
    // Normalise: value = 1.xxx * 2^(top) where top = bin_exp + index of highest bit.
    let top_bit = 63 - i64::from(sig.leading_zeros());
    let top = bin_exp + top_bit;
    if top > i64::from(max_exp) {
        return sign * f64::INFINITY;
    }
    // Number of significand bits available at this exponent (fewer for subnormals).
    let avail = if top >= i64::from(min_exp) {
        i64::from(mant_bits)
    } else {
        i64::from(mant_bits) - (i64::from(min_exp) - top)
    };
    if avail < 0 {
        return sign * 0.0;
    }
    // Keep `avail` bits of sig (starting at top_bit), round half to even with sticky.
    let drop = top_bit + 1 - avail; // bits to drop from sig
    let (mut kept, round_up) = if drop <= 0 {
        (sig << (-drop) as u32, false)
    } else if drop > 64 {
        (0, false)
    } else {
        let drop = drop as u32;
        let kept = if drop == 64 { 0 } else { sig >> drop };
        let half = 1u64 << (drop - 1);
        let rem = if drop == 64 { sig } else { sig & ((1u64 << drop) - 1) };
        let above_half = rem > half || (rem == half && sticky);
        let exactly_half = rem == half && !sticky;
        (kept, above_half || (exactly_half && kept & 1 == 1))
    };
    let kept_exp = bin_exp + drop;
    if round_up {
        kept += 1;
    }
    // value = kept * 2^kept_exp, exactly representable in the target format unless it overflows.
    let bits_now = 64 - i64::from(kept.leading_zeros());
    if kept_exp + bits_now - 1 > i64::from(max_exp) {
        return sign * f64::INFINITY;
    }
    sign * scale_pow2(kept as f64, kept_exp)
}

/// `v * 2^e`, in steps so that no intermediate overflows or underflows before the end.
fn scale_pow2(mut v: f64, mut e: i64) -> f64 {
    while e > 0 {
        let step = e.min(500);
        v *= 2f64.powi(step as i32);
        e -= step;
    }
    while e < 0 {
        let step = (-e).min(500);
        v /= 2f64.powi(step as i32);
        e += step;
    }
    v
}

/// Parses a `float` like Java's `Float.parseFloat` (which Flink uses for memory fractions).
///
/// ```
/// # use flinkops_config::units::parse_java_float;
/// assert_eq!(parse_java_float(" 0.4f ").unwrap(), 0.4f32);
/// assert_eq!(parse_java_float("0x1p-2").unwrap(), 0.25f32);
/// assert!(parse_java_float("nan").is_err()); // only `NaN` is NaN in Java
/// ```
pub fn parse_java_float(text: &str) -> Result<f32, UnitError> {
    let err = || UnitError::Float { value: text.to_string(), kind: "float" };
    match scan_java_float(text).ok_or_else(err)? {
        JavaFloat::NaN => Ok(f32::NAN),
        JavaFloat::Inf(neg) => Ok(if neg { f32::NEG_INFINITY } else { f32::INFINITY }),
        JavaFloat::Decimal(s) => s.parse::<f32>().map_err(|_| err()),
        JavaFloat::Hex { neg, mantissa, exp } => Ok(hex_to_float(neg, mantissa, exp, 24, -126, 127) as f32),
    }
}

/// Parses a `double` like Java's `Double.parseDouble`.
pub fn parse_java_double(text: &str) -> Result<f64, UnitError> {
    let err = || UnitError::Float { value: text.to_string(), kind: "double" };
    match scan_java_float(text).ok_or_else(err)? {
        JavaFloat::NaN => Ok(f64::NAN),
        JavaFloat::Inf(neg) => Ok(if neg { f64::NEG_INFINITY } else { f64::INFINITY }),
        JavaFloat::Decimal(s) => s.parse::<f64>().map_err(|_| err()),
        JavaFloat::Hex { neg, mantissa, exp } => Ok(hex_to_float(neg, mantissa, exp, 53, -1022, 1023)),
    }
}

/// The decimal digits Java prints for a finite, non-negative `f64`: `value = digits * 10^exp`,
/// with `digits` the shortest string that reads back to the same double.
pub(crate) fn shortest_decimal(d: f64) -> (u64, i32) {
    if d == 0.0 || !d.is_finite() {
        return (0, 0);
    }
    let s = format!("{:e}", d.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let digits: u64 = format!("{int}{frac}").parse().unwrap_or(0);
    (digits, exp - frac.len() as i32)
}

/// Formats a `f64` like Java's `Double.toString` (`"1.0"`, `"0.5"`, `"1.0E-8"`, `"1.0E300"`),
/// using the shortest round-trip digits (Java 19+ exactly; Java 17 agrees except for rare long
/// 17-digit values).
pub fn java_double_to_string(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let sign = if d.is_sign_negative() { "-" } else { "" };
    if d == 0.0 {
        return format!("{sign}0.0");
    }
    let (digits, exp) = shortest_decimal(d);
    let ds = digits.to_string();
    let n = ds.len() as i32;
    // Scientific exponent: value = d.ddd * 10^sci
    let sci = exp + n - 1;
    let a = d.abs();
    if (1e-3..1e7).contains(&a) {
        if sci >= 0 {
            let int_len = (sci + 1) as usize;
            let (int, frac) = if ds.len() > int_len {
                (ds[..int_len].to_string(), ds[int_len..].to_string())
            } else {
                (format!("{ds}{}", "0".repeat(int_len - ds.len())), String::new())
            };
            let frac = if frac.is_empty() { "0".to_string() } else { frac };
            format!("{sign}{int}.{frac}")
        } else {
            let zeros = "0".repeat((-sci - 1) as usize);
            format!("{sign}0.{zeros}{ds}")
        }
    } else {
        let frac = if ds.len() > 1 { &ds[1..] } else { "0" };
        format!("{sign}{}.{frac}E{sci}", &ds[..1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn memory_sizes_like_flink() {
        assert_eq!(parse_memory_size("0").unwrap(), 0);
        assert_eq!(parse_memory_size("123").unwrap(), 123);
        assert_eq!(parse_memory_size("123b").unwrap(), 123);
        assert_eq!(parse_memory_size("123 bytes").unwrap(), 123);
        assert_eq!(parse_memory_size("1k").unwrap(), 1024);
        assert_eq!(parse_memory_size("1 KB").unwrap(), 1024);
        assert_eq!(parse_memory_size("1kibibytes").unwrap(), 1024);
        assert_eq!(parse_memory_size("1728m").unwrap(), 1728 << 20);
        assert_eq!(parse_memory_size("1 Mebibytes").unwrap(), 1 << 20);
        assert_eq!(parse_memory_size("\t2g\n").unwrap(), 2 << 30);
        assert_eq!(parse_memory_size("1 TB").unwrap(), 1 << 40);
        assert_eq!(parse_memory_size("007m").unwrap(), 7 << 20);
        assert_eq!(parse_memory_size("9223372036854775807").unwrap(), i64::MAX as u64);
        assert_eq!(parse_memory_size("8388607t").unwrap(), 8_388_607u64 << 40);
        assert!(matches!(parse_memory_size("8388608t"), Err(UnitError::ByteOverflow(_))));
        assert!(matches!(parse_memory_size("9223372036854775808"), Err(UnitError::NumberOverflow(_))));
        assert!(matches!(parse_memory_size(""), Err(UnitError::Empty)));
        assert!(matches!(parse_memory_size("  "), Err(UnitError::Empty)));
        assert!(matches!(parse_memory_size("m"), Err(UnitError::NoNumber(_))));
        assert!(matches!(parse_memory_size("-1m"), Err(UnitError::NoNumber(_))));
        assert!(matches!(parse_memory_size("1.5g"), Err(UnitError::MemoryUnit(_))));
        assert!(matches!(parse_memory_size("1 mib"), Err(UnitError::MemoryUnit(_))));
        assert!(matches!(parse_memory_size("1 m b"), Err(UnitError::MemoryUnit(_))));
    }

    #[test]
    fn memory_size_messages_say_how_to_fix() {
        let e = parse_memory_size("1 mib").unwrap_err().to_string();
        assert!(e.contains("mib") && e.contains("m|mb|mebibytes"), "{e}");
    }

    #[test]
    fn formats_sizes() {
        assert_eq!(format_memory_size(0), "0 bytes");
        assert_eq!(format_memory_size(1000), "1000 bytes");
        assert_eq!(format_memory_size(1728 << 20), "1728 mb");
        assert_eq!(format_memory_size(1 << 40), "1 tb");
        assert_eq!(human_memory_size(134_217_728), "128.000mb (134217728 bytes)");
        assert_eq!(human_memory_size(1024), "1024 bytes");
        assert_eq!(human_memory_size(1025), "1.001kb (1025 bytes)");
    }

    #[test]
    fn durations_like_flink() {
        assert_eq!(parse_duration("1 min").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("2 MINUTES").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("10 secs").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("3 d").unwrap(), Duration::from_secs(3 * 86400));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("7 µs").unwrap(), Duration::from_micros(7));
        assert_eq!(parse_duration("7 ns").unwrap(), Duration::from_nanos(7));
        assert_eq!(parse_duration("123").unwrap(), Duration::from_millis(123));
        assert_eq!(parse_duration("123 millis").unwrap(), Duration::from_millis(123));
        assert!(matches!(parse_duration("7 us"), Err(UnitError::TimeUnit(_))));
        assert!(matches!(parse_duration(""), Err(UnitError::Empty)));
        assert!(matches!(parse_duration("s"), Err(UnitError::NoNumber(_))));
        // 2.x: BigInteger numbers, overflow only on the final seconds.
        assert_eq!(parse_duration("99999999999999999999 ns").unwrap(), Duration::new(99_999_999_999, 999_999_999));
        assert!(parse_duration_with(DurationRules::Flink1, "99999999999999999999 ns").is_err());
        assert!(parse_duration_with(DurationRules::Flink2_0, "99999999999999999999 ns").is_ok());
        assert!(matches!(parse_duration("9223372036854775807 d"), Err(UnitError::DurationOverflow(_))));
        assert!(parse_duration("106751991167300 d").is_ok());
        assert!(parse_duration("106751991167301 d").is_err());
        // ISO-8601 in 2.x only.
        assert_eq!(parse_duration("PT1M30S").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("pt1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("P1DT1H").unwrap(), Duration::from_secs(90000));
        assert!(matches!(parse_duration("-PT1S"), Err(UnitError::NegativeDuration(_))));
        assert!(matches!(parse_duration("PT-1S"), Err(UnitError::NegativeDuration(_))));
        assert!(parse_duration("PT").is_err());
        assert!(parse_duration("P").is_err());
        assert!(parse_duration_with(DurationRules::Flink1, "PT1S").is_err());
        assert!(parse_duration_with(DurationRules::Flink2_0, "PT1S").is_err());
        assert_eq!(DurationRules::for_version("1.20.3"), Some(DurationRules::Flink1));
        assert_eq!(DurationRules::for_version("2.0"), Some(DurationRules::Flink2_0));
        assert_eq!(DurationRules::for_version("2.3.0"), Some(DurationRules::Flink2_1));
    }

    #[test]
    fn booleans_like_flink_2() {
        assert!(parse_bool("true").unwrap());
        assert!(parse_bool("TRUE").unwrap());
        assert!(!parse_bool("False").unwrap());
        for bad in ["yes", "no", "on", "off", "1", "0", " true", "true ", ""] {
            assert!(parse_bool(bad).is_err(), "{bad}");
        }
        assert!(parse_bool("yes").unwrap_err().to_string().contains("`yes`"));
    }

    #[test]
    fn ints_like_java() {
        assert_eq!(parse_java_int("42").unwrap(), 42);
        assert_eq!(parse_java_int("+42").unwrap(), 42);
        assert_eq!(parse_java_int("-2147483648").unwrap(), i32::MIN);
        assert!(parse_java_int("2147483648").is_err());
        assert!(parse_java_int(" 1").is_err());
        assert!(parse_java_int("").is_err());
        assert!(parse_java_int("-").is_err());
        assert!(parse_java_int("1.0").is_err());
        assert_eq!(parse_java_int("٣").unwrap(), 3); // Arabic-Indic three
        assert_eq!(parse_java_int("１２").unwrap(), 12); // full-width
        assert_eq!(parse_java_long("-9223372036854775808").unwrap(), i64::MIN);
        assert!(parse_java_long("9223372036854775808").is_err());
    }

    #[test]
    fn floats_like_java() {
        assert_eq!(parse_java_float("0.4").unwrap(), 0.4f32);
        assert_eq!(parse_java_float(" 1.5d ").unwrap(), 1.5);
        assert_eq!(parse_java_float("1.").unwrap(), 1.0);
        assert_eq!(parse_java_float(".5").unwrap(), 0.5);
        assert_eq!(parse_java_float("+.5e-1").unwrap(), 0.05f32);
        assert_eq!(parse_java_float("0x1p-2").unwrap(), 0.25);
        assert_eq!(parse_java_float("0x.8p0").unwrap(), 0.5);
        assert_eq!(parse_java_float("0X1.8P1f").unwrap(), 3.0);
        assert_eq!(parse_java_float("1e400").unwrap(), f32::INFINITY);
        assert_eq!(parse_java_float("1e-50").unwrap(), 0.0);
        assert!(parse_java_float("NaN").unwrap().is_nan());
        assert_eq!(parse_java_float("-Infinity").unwrap(), f32::NEG_INFINITY);
        for bad in ["1e", "Infinityf", "nan", "inf", "1_0", "0x1p", "", ".", "e5", "١", "0x", "1f2"] {
            assert!(parse_java_float(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_java_double("0x1.fffffffffffffp1023").unwrap(), f64::MAX);
        assert_eq!(parse_java_double("0x1p-1074").unwrap(), 5e-324);
        assert_eq!(parse_java_float("0x1p-149").unwrap(), f32::from_bits(1));
        assert_eq!(parse_java_float("0x1.fffffep127").unwrap(), f32::MAX);
        assert_eq!(parse_java_float("0x1.ffffffp127").unwrap(), f32::INFINITY);
        assert_eq!(parse_java_float("0x1.000001p0").unwrap(), 1.0); // ties to even
        assert_eq!(parse_java_float("0x1.000003p0").unwrap(), 1.0 + f32::EPSILON * 2.0);
    }

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(java_double_to_string(1.0), "1.0");
        assert_eq!(java_double_to_string(0.5), "0.5");
        assert_eq!(java_double_to_string(1e7), "1.0E7");
        assert_eq!(java_double_to_string(9_999_999.0), "9999999.0");
        assert_eq!(java_double_to_string(0.001), "0.001");
        assert_eq!(java_double_to_string(0.00099), "9.9E-4");
        assert_eq!(java_double_to_string(-0.0), "-0.0");
        assert_eq!(java_double_to_string(1e21), "1.0E21");
        assert_eq!(java_double_to_string(123_456_789_012.0), "1.23456789012E11");
        assert_eq!(java_double_to_string(f64::from(0.1f32)), "0.10000000149011612");
        assert_eq!(java_double_to_string(1e-8), "1.0E-8");
    }

    proptest! {
        #[test]
        fn memory_size_round_trips(bytes in 0u64..=(i64::MAX as u64)) {
            prop_assert_eq!(parse_memory_size(&format_memory_size(bytes)).unwrap(), bytes);
        }

        #[test]
        fn memory_size_with_units_round_trips(n in 0u64..8_000_000, unit in prop::sample::select(vec![("b", 1u64), ("k", 1 << 10), ("MB", 1 << 20), ("gibibytes", 1 << 30), ("t", 1 << 40)]), ws in "[ \t]{0,2}") {
            let text = format!("{ws}{n}{ws}{}{ws}", unit.0);
            prop_assert_eq!(parse_memory_size(&text).unwrap(), n * unit.1);
        }

        #[test]
        fn duration_round_trips(secs in 0u64..(i64::MAX as u64 / 86_400), unit in prop::sample::select(vec![("s", 1u64), ("min", 60), ("h", 3600), ("d", 86_400)])) {
            let n = secs / unit.1;
            prop_assert_eq!(parse_duration(&format!("{n} {}", unit.0)).unwrap(), Duration::from_secs(n * unit.1));
        }

        #[test]
        fn floats_round_trip(f in any::<f32>().prop_filter("finite", |f| f.is_finite())) {
            prop_assert_eq!(parse_java_float(&format!("{f:e}")).unwrap().to_bits(), f.to_bits());
            prop_assert_eq!(parse_java_float(&format!("{f}f")).unwrap().to_bits(), f.to_bits());
        }

        #[test]
        fn doubles_print_and_parse_back(d in any::<f64>().prop_filter("finite", |d| d.is_finite())) {
            prop_assert_eq!(parse_java_double(&java_double_to_string(d)).unwrap().to_bits(), d.to_bits());
        }

        #[test]
        fn hex_floats_match_decimal(f in any::<f32>().prop_filter("finite", |f| f.is_finite() && *f != 0.0)) {
            // Build Java's hex form 0x1.<23 bits>p<exp> and parse it back.
            let bits = f.to_bits();
            let exp = ((bits >> 23) & 0xff) as i32;
            let frac = bits & 0x7f_ffff;
            let sign = if f < 0.0 { "-" } else { "" };
            let text = if exp == 0 { format!("{sign}0x0.{:06x}p-126", frac << 1) } else { format!("{sign}0x1.{:06x}p{}", frac << 1, exp - 127) };
            prop_assert_eq!(parse_java_float(&text).unwrap().to_bits(), bits, "{}", text);
        }

        #[test]
        fn ints_round_trip(i in any::<i32>()) {
            prop_assert_eq!(parse_java_int(&i.to_string()).unwrap(), i);
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = parse_memory_size(&s);
            let _ = parse_duration(&s);
            let _ = parse_duration_with(DurationRules::Flink1, &s);
            let _ = parse_duration_with(DurationRules::Flink2_0, &s);
            let _ = parse_bool(&s);
            let _ = parse_java_float(&s);
            let _ = parse_java_double(&s);
            let _ = parse_java_int(&s);
            let _ = parse_java_long(&s);
        }

        #[test]
        fn numeric_looking_text_never_panics(s in "[-+ ]?(0[xX])?[0-9a-fA-F.]{0,30}([pPeE][-+]?[0-9]{0,12})?[fFdD]?") {
            let _ = parse_java_float(&s);
            let _ = parse_java_double(&s);
            let _ = parse_iso_duration(&s);
        }

        #[test]
        fn iso_text_never_panics(s in "[-+]?[Pp]([-+]?[0-9]{0,20}[Dd])?([Tt]([-+]?[0-9]{0,20}[Hh])?([-+]?[0-9]{0,20}[Mm])?([-+]?[0-9]{0,20}([.,][0-9]{0,12})?[Ss])?)?") {
            let _ = parse_duration(&s);
        }
    }
}
