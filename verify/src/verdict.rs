//! The verdicts flows return (`live`, `dead`, `unknown`, `skipped`, each
//! with a sanitized detail), and the clock expiry times are stated with.

use std::time::{SystemTime, UNIX_EPOCH};

use leakscan_scanner::finding::{Verification, VerifyStatus};

pub fn live(detail: impl Into<String>) -> Verification {
    verdict(VerifyStatus::Live, detail)
}
pub fn dead(detail: impl Into<String>) -> Verification {
    verdict(VerifyStatus::Dead, detail)
}
pub fn unknown(detail: impl Into<String>) -> Verification {
    verdict(VerifyStatus::Unknown, detail)
}
pub fn skipped(detail: impl Into<String>) -> Verification {
    verdict(VerifyStatus::Skipped, detail)
}
pub(crate) fn verdict(status: VerifyStatus, detail: impl Into<String>) -> Verification {
    Verification {
        status,
        detail: leakscan_scanner::sanitize::sanitize(&detail.into()),
        access: Vec::new(),
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// RFC 3339 (UTC, seconds) for a Unix time.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
