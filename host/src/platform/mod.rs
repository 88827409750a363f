//! The product's own core: organizations, people, credentials, projects and tasks.
//!
//! Every change to a project or a task writes its event to the outbox ([`outbox`]) in the same
//! transaction, so a change and the news of it are never separated.

pub mod credentials;
pub mod orgs;
pub mod outbox;
pub mod page;
pub mod passwords;
pub mod projects;
pub mod scope;
pub mod tasks;

pub use scope::{Scope, ScopeSet};

/// What can go wrong in the core, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    /// Invalid input with one problem per named field (`scopes[1].purpose`).
    #[error("{0}")]
    InvalidFields(String, Vec<(String, String)>),
    #[error("database error: {0}")]
    Database(#[from] crate::store::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = PlatformError> = std::result::Result<T, E>;

/// Formats a stored millisecond time as RFC 3339 (UTC), the form the API shows.
///
/// Written by hand (every listed row formats two or three of these): the same text as the
/// `time` crate's RFC 3339, `2026-12-07T00:50:00.12Z`, with the fraction's trailing zeros
/// dropped and none for a whole second; empty outside years 0000–9999, which RFC 3339 cannot
/// write.
pub fn format_time(ms: i64) -> String {
    let (days, in_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return String::new();
    }
    let (secs, millis) = ((in_day / 1000) as u32, (in_day % 1000) as u32);
    let mut text = *b"0000-00-00T00:00:00.000Z";
    let put = |text: &mut [u8; 24], at: usize, n: u32| {
        text[at] = b'0' + (n / 10) as u8;
        text[at + 1] = b'0' + (n % 10) as u8;
    };
    let year = year as u32;
    put(&mut text, 0, year / 100);
    put(&mut text, 2, year % 100);
    put(&mut text, 5, month);
    put(&mut text, 8, day);
    put(&mut text, 11, secs / 3600);
    put(&mut text, 14, secs / 60 % 60);
    put(&mut text, 17, secs % 60);
    let end = if millis == 0 {
        19
    } else {
        text[20] = b'0' + (millis / 100) as u8;
        put(&mut text, 21, millis % 100);
        // The fraction without its trailing zeros.
        (20..23)
            .rev()
            .find(|&i| text[i] != b'0')
            .map_or(19, |last| last + 1)
    };
    text[end] = b'Z';
    String::from_utf8(text[..=end].to_vec()).unwrap_or_default()
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Parses an RFC 3339 time into stored milliseconds.
pub fn parse_time(text: &str) -> Result<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).map_err(|_| {
            PlatformError::Invalid(format!(
                "`{text}` is not an RFC 3339 time; use a form like 2026-01-31T12:00:00Z"
            ))
        })?;
    Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Checks a required human-entered text field: trimmed, not empty, not too long.
pub fn require_text(field: &str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(PlatformError::Invalid(format!("`{field}` must not be empty")));
    }
    if value.chars().count() > max {
        return Err(PlatformError::Invalid(format!(
            "`{field}` is longer than {max} characters"
        )));
    }
    Ok(value.to_owned())
}

/// Checks an optional free-text field's length.
pub fn limit_text(field: &str, value: &str, max: usize) -> Result<String> {
    if value.chars().count() > max {
        return Err(PlatformError::Invalid(format!(
            "`{field}` is longer than {max} characters"
        )));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The formatter the hand-written one replaced, for comparison.
    fn by_the_time_crate(ms: i64) -> String {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default()
    }

    #[test]
    fn times_format_as_the_time_crate_writes_rfc_3339() {
        let mut samples = vec![
            0,
            -1,
            1,
            10,
            120,
            999,
            1_000,
            951_782_400_000,     // 2000-02-29
            4_107_542_399_999,   // 2100-02-28T23:59:59.999
            -62_167_219_200_000, // 0000-01-01
            -62_167_219_200_001, // before year 0: not writable
            253_402_300_799_999, // 9999-12-31T23:59:59.999
            253_402_300_800_000, // 10000-01-01: not writable
            1_796_517_000_123,
        ];
        // A spread over the years RFC 3339 can write, with every kind of fraction.
        let mut x: i64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            samples.push(x.rem_euclid(315_569_520_000_000) - 62_167_219_200_000);
        }
        for ms in samples {
            assert_eq!(format_time(ms), by_the_time_crate(ms), "at {ms} ms");
            if let Ok(parsed) = parse_time(&format_time(ms)) {
                assert_eq!(parsed, ms);
            }
        }
    }
}
