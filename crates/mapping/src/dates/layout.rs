//! Go's layout language: a layout is the reference time `Mon Jan 2 15:04:05 MST 2006`
//! written the way the result should look. This splits a layout into literal text and
//! elements exactly where Go's `nextStdChunk` does, and formats a time with it.

use super::GoTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    Iso8601TZ,
    Iso8601SecondsTZ,
    Iso8601ShortTZ,
    Iso8601ColonTZ,
    Iso8601ColonSecondsTZ,
    NumTZ,
    NumSecondsTZ,
    NumShortTZ,
    NumColonTZ,
    NumColonSecondsTZ,
    /// `.000`: exactly this many digits; the separator is `.` or `,`.
    FracSecond0(usize, char),
    /// `.999`: up to this many digits, trailing zeros dropped.
    FracSecond9(usize, char),
}

impl Std {
    pub fn is_iso_zone(self) -> bool {
        matches!(
            self,
            Std::Iso8601TZ
                | Std::Iso8601SecondsTZ
                | Std::Iso8601ShortTZ
                | Std::Iso8601ColonTZ
                | Std::Iso8601ColonSecondsTZ
        )
    }
}

pub(crate) const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub(crate) const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Splits `layout` into the literal text before the first element, the element (with
/// the layout text it came from) and the rest.
pub(crate) fn next_chunk(layout: &str) -> (&str, Option<(Std, &str)>, &str) {
    let b = layout.as_bytes();
    let at = |i: usize, s: &str| layout.get(i..).is_some_and(|rest| rest.starts_with(s));
    let lower_after = |i: usize| b.get(i).is_some_and(u8::is_ascii_lowercase);
    for i in 0..b.len() {
        let found = match b[i] {
            b'J' if at(i, "January") => Some((Std::LongMonth, 7)),
            b'J' if at(i, "Jan") && !lower_after(i + 3) => Some((Std::Month, 3)),
            b'M' if at(i, "Monday") => Some((Std::LongWeekDay, 6)),
            b'M' if at(i, "Mon") && !lower_after(i + 3) => Some((Std::WeekDay, 3)),
            b'M' if at(i, "MST") => Some((Std::TZ, 3)),
            b'0' if matches!(b.get(i + 1), Some(b'1'..=b'6')) => Some((
                [
                    Std::ZeroMonth,
                    Std::ZeroDay,
                    Std::ZeroHour12,
                    Std::ZeroMinute,
                    Std::ZeroSecond,
                    Std::Year,
                ][usize::from(b[i + 1] - b'1')],
                2,
            )),
            b'0' if at(i, "002") => Some((Std::ZeroYearDay, 3)),
            b'1' if at(i, "15") => Some((Std::Hour, 2)),
            b'1' => Some((Std::NumMonth, 1)),
            b'2' if at(i, "2006") => Some((Std::LongYear, 4)),
            b'2' => Some((Std::Day, 1)),
            // `_2006` is a literal `_` followed by the year.
            b'_' if at(i, "_2006") => {
                return (
                    &layout[..i + 1],
                    Some((Std::LongYear, "2006")),
                    &layout[i + 5..],
                )
            }
            b'_' if at(i, "_2") => Some((Std::UnderDay, 2)),
            b'_' if at(i, "__2") => Some((Std::UnderYearDay, 3)),
            b'3' => Some((Std::Hour12, 1)),
            b'4' => Some((Std::Minute, 1)),
            b'5' => Some((Std::Second, 1)),
            b'P' if at(i, "PM") => Some((Std::PM, 2)),
            b'p' if at(i, "pm") => Some((Std::Pm, 2)),
            b'-' if at(i, "-070000") => Some((Std::NumSecondsTZ, 7)),
            b'-' if at(i, "-07:00:00") => Some((Std::NumColonSecondsTZ, 9)),
            b'-' if at(i, "-0700") => Some((Std::NumTZ, 5)),
            b'-' if at(i, "-07:00") => Some((Std::NumColonTZ, 6)),
            b'-' if at(i, "-07") => Some((Std::NumShortTZ, 3)),
            b'Z' if at(i, "Z070000") => Some((Std::Iso8601SecondsTZ, 7)),
            b'Z' if at(i, "Z07:00:00") => Some((Std::Iso8601ColonSecondsTZ, 9)),
            b'Z' if at(i, "Z0700") => Some((Std::Iso8601TZ, 5)),
            b'Z' if at(i, "Z07:00") => Some((Std::Iso8601ColonTZ, 6)),
            b'Z' if at(i, "Z07") => Some((Std::Iso8601ShortTZ, 3)),
            c @ (b'.' | b',') if matches!(b.get(i + 1), Some(b'0' | b'9')) => {
                let digit = b[i + 1];
                let mut j = i + 1;
                while b.get(j) == Some(&digit) {
                    j += 1;
                }
                // Only a fraction when the run of digits ends here.
                if b.get(j).is_some_and(u8::is_ascii_digit) {
                    None
                } else {
                    let n = j - (i + 1);
                    let sep = char::from(c);
                    let std = if digit == b'0' {
                        Std::FracSecond0(n, sep)
                    } else {
                        Std::FracSecond9(n, sep)
                    };
                    Some((std, j - i))
                }
            }
            _ => None,
        };
        if let Some((std, len)) = found {
            return (
                &layout[..i],
                Some((std, &layout[i..i + len])),
                &layout[i + len..],
            );
        }
    }
    (layout, None, "")
}

fn pad(out: &mut String, n: i64, width: usize) {
    let digits = n.unsigned_abs().to_string();
    if n < 0 {
        out.push('-');
    }
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(&digits);
}

/// `t.Format(layout)`.
pub fn format(t: &GoTime, layout: &str) -> String {
    let c = t.civil();
    let mut out = String::with_capacity(layout.len() + 10);
    let mut rest = layout;
    loop {
        let (prefix, std, suffix) = next_chunk(rest);
        out.push_str(prefix);
        let Some((std, _)) = std else {
            break;
        };
        rest = suffix;
        let hour12 = match c.hour % 12 {
            0 => 12,
            h => h,
        };
        match std {
            Std::Year => pad(&mut out, c.year.rem_euclid(100), 2),
            Std::LongYear => pad(&mut out, c.year, 4),
            Std::Month => out.push_str(&LONG_MONTHS[c.month as usize - 1][..3]),
            Std::LongMonth => out.push_str(LONG_MONTHS[c.month as usize - 1]),
            Std::NumMonth => pad(&mut out, c.month.into(), 0),
            Std::ZeroMonth => pad(&mut out, c.month.into(), 2),
            Std::WeekDay => out.push_str(&LONG_DAYS[c.weekday as usize][..3]),
            Std::LongWeekDay => out.push_str(LONG_DAYS[c.weekday as usize]),
            Std::Day => pad(&mut out, c.day.into(), 0),
            Std::UnderDay => {
                if c.day < 10 {
                    out.push(' ');
                }
                pad(&mut out, c.day.into(), 0);
            }
            Std::ZeroDay => pad(&mut out, c.day.into(), 2),
            Std::UnderYearDay => {
                out.push_str(&format!("{:>3}", c.yearday));
            }
            Std::ZeroYearDay => pad(&mut out, c.yearday.into(), 3),
            Std::Hour => pad(&mut out, c.hour.into(), 2),
            Std::Hour12 => pad(&mut out, hour12.into(), 0),
            Std::ZeroHour12 => pad(&mut out, hour12.into(), 2),
            Std::Minute => pad(&mut out, c.minute.into(), 0),
            Std::ZeroMinute => pad(&mut out, c.minute.into(), 2),
            Std::Second => pad(&mut out, c.second.into(), 0),
            Std::ZeroSecond => pad(&mut out, c.second.into(), 2),
            Std::PM => out.push_str(if c.hour >= 12 { "PM" } else { "AM" }),
            Std::Pm => out.push_str(if c.hour >= 12 { "pm" } else { "am" }),
            Std::TZ => {
                if c.abbreviation.is_empty() {
                    push_offset(&mut out, c.offset, false, true, false);
                } else {
                    out.push_str(&c.abbreviation);
                }
            }
            Std::FracSecond0(n, sep) | Std::FracSecond9(n, sep) => {
                let trim = matches!(std, Std::FracSecond9(..));
                if trim && (n == 0 || c.nanos == 0) {
                    continue;
                }
                let mut digits = format!("{:09}", c.nanos);
                digits.truncate(n.min(9));
                if trim {
                    while digits.ends_with('0') {
                        digits.pop();
                    }
                    if digits.is_empty() {
                        continue;
                    }
                }
                out.push(sep);
                out.push_str(&digits);
            }
            zone => {
                if c.offset == 0 && zone.is_iso_zone() {
                    out.push('Z');
                    continue;
                }
                let colon = matches!(
                    zone,
                    Std::Iso8601ColonTZ
                        | Std::NumColonTZ
                        | Std::Iso8601ColonSecondsTZ
                        | Std::NumColonSecondsTZ
                );
                let short = matches!(zone, Std::NumShortTZ | Std::Iso8601ShortTZ);
                let seconds = matches!(
                    zone,
                    Std::Iso8601SecondsTZ
                        | Std::NumSecondsTZ
                        | Std::NumColonSecondsTZ
                        | Std::Iso8601ColonSecondsTZ
                );
                push_offset(&mut out, c.offset, colon, !short, seconds);
            }
        }
    }
    out
}

fn push_offset(out: &mut String, offset: i32, colon: bool, minutes: bool, seconds: bool) {
    let abs = offset.unsigned_abs();
    out.push(if offset < 0 { '-' } else { '+' });
    pad(out, i64::from(abs / 3600), 2);
    if colon {
        out.push(':');
    }
    if minutes {
        pad(out, i64::from(abs / 60 % 60), 2);
    }
    if seconds {
        if colon {
            out.push(':');
        }
        pad(out, i64::from(abs % 60), 2);
    }
}
