//! Epoch milliseconds as RFC 3339 (UTC), the format Alertmanager's API and webhook payload use.

/// `2026-03-01T12:00:00.250Z` for epoch milliseconds (UTC, millisecond precision).
pub(crate) fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z", sod / 3600, (sod % 3600) / 60, sod % 60)
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 → (year, month, day).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2026-03-01 12:00:00 UTC` for people (e-mail bodies, Slack).
pub(crate) fn human(ms: i64) -> String {
    let s = rfc3339(ms);
    format!("{} {} UTC", &s[..10], &s[11..19])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (leap day) 23:59:59.999
        assert_eq!(rfc3339(951_868_799_999), "2000-02-29T23:59:59.999Z");
        // 2024-12-31T00:00:00Z = 1735603200 s
        assert_eq!(rfc3339(1_735_603_200_000), "2024-12-31T00:00:00.000Z");
        // 2038-01-19T03:14:08Z: past i32 seconds.
        assert_eq!(rfc3339(2_147_483_648_000), "2038-01-19T03:14:08.000Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(human(1_735_603_200_000), "2024-12-31 00:00:00 UTC");
    }
}
