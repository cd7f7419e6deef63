//! The ISO 8601 UTC timestamps used by `Timestamp` (V2) and `x-acs-date` (V3).
//!
//! Written by hand rather than with a `time` format description so that exactly one shape is
//! accepted: `yyyy-MM-ddTHH:mm:ssZ`, optionally with 1 to 9 fractional digits before the `Z`
//! (some SDKs send milliseconds). No offsets, no lower-case `t`/`z`, no leap seconds.

use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

use crate::error::ProtocolError;

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// Parses `yyyy-MM-ddTHH:mm:ss[.fffffffff]Z`.
pub fn parse_timestamp(s: &str) -> Result<OffsetDateTime, ProtocolError> {
    parse_inner(s.as_bytes()).ok_or(ProtocolError::InvalidTimestampFormat)
}

fn parse_inner(b: &[u8]) -> Option<OffsetDateTime> {
    let (head, rest) = b.split_at_checked(19)?;
    let sep = |i: usize, c: u8| head.get(i) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let year = digits(head.get(0..4)?)?;
    let month = digits(head.get(5..7)?)?;
    let day = digits(head.get(8..10)?)?;
    let hour = digits(head.get(11..13)?)?;
    let minute = digits(head.get(14..16)?)?;
    let second = digits(head.get(17..19)?)?;
    let nanos = match rest {
        [b'Z'] => 0,
        [b'.', frac @ .., b'Z'] if (1..=9).contains(&frac.len()) => {
            let v = digits(frac)?;
            let scale = 10u32.checked_pow(9 - u32::try_from(frac.len()).ok()?)?;
            v.checked_mul(scale)?
        }
        _ => return None,
    };
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    let time = Time::from_hms_nano(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
        nanos,
    )
    .ok()?;
    Some(date.with_time(time).assume_utc())
}

/// Formats a timestamp as `yyyy-MM-ddTHH:mm:ssZ` in UTC, dropping sub-second precision: the
/// form every Alibaba SDK sends. Only years 0..=9999 give a string that [`parse_timestamp`]
/// accepts back; callers pass the current time, so that is not a practical limit.
pub fn format_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn parses_plain_and_fractional() {
        assert_eq!(
            parse_timestamp("2015-08-18T03:15:45Z").unwrap(),
            datetime!(2015-08-18 03:15:45 UTC)
        );
        assert_eq!(
            parse_timestamp("2015-08-18T03:15:45.123Z").unwrap(),
            datetime!(2015-08-18 03:15:45.123 UTC)
        );
        assert_eq!(
            parse_timestamp("2015-08-18T03:15:45.000000001Z").unwrap(),
            datetime!(2015-08-18 03:15:45.000000001 UTC)
        );
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in [
            "",
            "2015-08-18",
            "2015-08-18T03:15:45",
            "2015-08-18T03:15:45z",
            "2015-08-18t03:15:45Z",
            "2015-08-18T03:15:45+00:00",
            "2015-08-18 03:15:45Z",
            "2015-13-18T03:15:45Z",
            "2015-02-30T03:15:45Z",
            "2015-08-18T24:00:00Z",
            "2015-08-18T03:15:60Z",
            "2015-08-18T03:15:45.Z",
            "2015-08-18T03:15:45.1234567890Z",
            "+015-08-18T03:15:45Z",
            "2015-08-18T03:15:45ZZ",
            "２015-08-18T03:15:45Z",
        ] {
            assert_eq!(
                parse_timestamp(bad),
                Err(ProtocolError::InvalidTimestampFormat),
                "{bad}"
            );
        }
    }

    #[test]
    fn format_round_trips() {
        let t = datetime!(2021-01-15 06:02:28.9 UTC);
        assert_eq!(format_timestamp(t), "2021-01-15T06:02:28Z");
        let t2 = datetime!(2021-01-15 14:02:28 +8);
        assert_eq!(format_timestamp(t2), "2021-01-15T06:02:28Z");
    }
}
