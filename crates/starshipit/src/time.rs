//! StarShipIT time stamps: `/track` sends offset-less wall-clock times with 0–7 fractional
//! digits (`2017-04-12T13:17:40.5931835`), webhooks send UTC with `Z`. Both parse here; an
//! offset-less value stays a local time, because guessing its zone would invent data.

use jiff::{civil, tz::Offset};
use waybill_domain::EventTime;

/// Parses `YYYY-MM-DDTHH:MM:SS`, optionally followed by `.` and 1–9 fractional digits, and
/// optionally by `Z` or `±hh:mm`. With an offset the result is [`EventTime::Exact`] (no zone
/// name); without one it is [`EventTime::Local`]. Surrounding whitespace is ignored.
///
/// ```
/// use waybill_domain::EventTime;
/// let t = waybill_starshipit::time::parse("2017-04-12T13:17:40.5931835")?;
/// assert_eq!(t, EventTime::Local { at: "2017-04-12T13:17:40.5931835".parse()? });
/// assert!(waybill_starshipit::time::parse("2018-08-09T02:55:37.1446912Z")?.is_exact());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`TimeError`] naming what was wrong: shape, out-of-range field, too many digits.
pub fn parse(raw: &str) -> Result<EventTime, TimeError> {
    let fail = |reason: &'static str| TimeError { raw: raw.to_owned(), reason };
    let mut p = Cursor { bytes: raw.trim().as_bytes(), pos: 0 };

    let year = p.digits(4).ok_or_else(|| fail("the date must start with a 4-digit year"))?;
    p.expect(b'-').ok_or_else(|| fail("expected '-' after the year"))?;
    let month = p.digits(2).ok_or_else(|| fail("expected a 2-digit month"))?;
    p.expect(b'-').ok_or_else(|| fail("expected '-' after the month"))?;
    let day = p.digits(2).ok_or_else(|| fail("expected a 2-digit day"))?;
    p.expect(b'T').ok_or_else(|| fail("expected 'T' between the date and the time"))?;
    let hour = p.digits(2).ok_or_else(|| fail("expected a 2-digit hour"))?;
    p.expect(b':').ok_or_else(|| fail("expected ':' after the hour"))?;
    let minute = p.digits(2).ok_or_else(|| fail("expected 2-digit minutes"))?;
    p.expect(b':').ok_or_else(|| fail("expected ':' after the minutes"))?;
    let second = p.digits(2).ok_or_else(|| fail("expected 2-digit seconds"))?;

    let mut nanos = 0_i32;
    if p.expect(b'.').is_some() {
        let start = p.pos;
        while p.peek().is_some_and(|b| b.is_ascii_digit()) {
            p.pos += 1;
        }
        let count = p.pos - start;
        if count == 0 {
            return Err(fail("expected digits after '.'"));
        }
        if count > 9 {
            return Err(fail("at most 9 fractional digits are supported"));
        }
        let mut value = 0_i32;
        for &b in &p.bytes[start..p.pos] {
            value = value * 10 + i32::from(b - b'0');
        }
        // Scale to nanoseconds: "5931835" (7 digits) is 593_183_500 ns.
        nanos = value * 10_i32.pow(9 - u32::try_from(count).unwrap_or(9));
    }

    let offset = match p.peek() {
        None => None,
        Some(b'Z' | b'z') => {
            p.pos += 1;
            Some(Offset::UTC)
        }
        Some(sign @ (b'+' | b'-')) => {
            p.pos += 1;
            let hh = p.digits(2).ok_or_else(|| fail("expected a 2-digit offset hour"))?;
            p.expect(b':').ok_or_else(|| fail("expected ':' inside the offset (±hh:mm)"))?;
            let mm = p.digits(2).ok_or_else(|| fail("expected 2-digit offset minutes"))?;
            if hh > 23 || mm > 59 {
                return Err(fail("the offset must be between -23:59 and +23:59"));
            }
            let secs = (hh * 3600 + mm * 60) * if sign == b'-' { -1 } else { 1 };
            Some(Offset::from_seconds(secs).map_err(|_| fail("the offset is out of range"))?)
        }
        Some(_) => return Err(fail("unexpected text after the seconds")),
    };
    if p.pos != p.bytes.len() {
        return Err(fail("unexpected text after the time"));
    }

    let narrow = |v: i32| i8::try_from(v).map_err(|_| fail("a date or time field is out of range"));
    let year = i16::try_from(year).map_err(|_| fail("the year is out of range"))?;
    let at = civil::DateTime::new(
        year,
        narrow(month)?,
        narrow(day)?,
        narrow(hour)?,
        narrow(minute)?,
        narrow(second)?,
        nanos,
    )
    .map_err(|_| fail("no such date or time (check month, day, hour, minute and second)"))?;
    match offset {
        None => Ok(EventTime::Local { at }),
        Some(offset) => {
            let ts = offset.to_timestamp(at).map_err(|_| fail("the instant is out of range"))?;
            Ok(EventTime::exact(ts, None))
        }
    }
}

/// A time stamp that does not have StarShipIT's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid StarShipIT time {raw:?}: {reason}; expected YYYY-MM-DDTHH:MM:SS with optional .fraction (1-9 digits) and optional Z or ±hh:mm"
)]
pub struct TimeError {
    /// The text that was rejected.
    pub raw: String,
    /// What was wrong with it.
    pub reason: &'static str,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek() == Some(byte)).then(|| self.pos += 1)
    }

    /// Exactly `n` ASCII digits as a number.
    fn digits(&mut self, n: usize) -> Option<i32> {
        let slice = self.bytes.get(self.pos..self.pos + n)?;
        if !slice.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.pos += n;
        Some(slice.iter().fold(0, |acc, b| acc * 10 + i32::from(b - b'0')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_seven_digits_exactly() {
        let EventTime::Local { at } = parse("2017-04-12T13:17:40.5931835").unwrap() else {
            panic!("expected a local time")
        };
        assert_eq!(at.subsec_nanosecond(), 593_183_500);
        assert_eq!(at.second(), 40);
    }

    #[test]
    fn offsets_make_exact_instants() {
        let t = parse("2026-06-10T12:03:42.1543701Z").unwrap();
        assert_eq!(t, EventTime::exact("2026-06-10T12:03:42.1543701Z".parse().unwrap(), None));
        let t = parse("2026-06-10T22:03:42+10:00").unwrap();
        assert_eq!(t, EventTime::exact("2026-06-10T12:03:42Z".parse().unwrap(), None));
        let t = parse("2026-06-10T02:03:42-10:00").unwrap();
        assert_eq!(t, EventTime::exact("2026-06-10T12:03:42Z".parse().unwrap(), None));
    }

    #[test]
    fn rejects_with_reasons() {
        for (raw, needle) in [
            ("", "4-digit year"),
            ("2017-04-12", "'T'"),
            ("2017-04-12T13:17", "':' after the minutes"),
            ("2017-04-12T13:17:40.", "digits after '.'"),
            ("2017-04-12T13:17:40.1234567890", "at most 9"),
            ("2017-02-30T13:17:40", "no such date"),
            ("2017-04-12T25:17:40", "no such date"),
            ("2017-04-12T13:17:40+1000", "':' inside the offset"),
            ("2017-04-12T13:17:40 UTC", "unexpected text"),
        ] {
            let e = parse(raw).unwrap_err();
            assert!(e.to_string().contains(needle), "{raw:?}: {e}");
        }
    }
}
