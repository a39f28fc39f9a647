//! Go's `time.Parse` / `time.ParseInLocation`: reading a string with a layout,
//! including Go's leniencies (a fraction after seconds the layout did not ask for,
//! runs of spaces) and its error messages.

use std::sync::Arc;

use super::layout::{next_chunk, Std, LONG_DAYS, LONG_MONTHS};
use super::{GoTime, Zone};

/// Parses `value` with `layout`. Without zone information in the text the wall clock
/// is read in `location`, as `time.ParseInLocation` does (`time.Parse` is UTC).
pub fn parse(layout: &str, value: &str, location: &Zone) -> Result<GoTime, String> {
    let mut f = Fields::default();
    let mut lay = layout;
    let mut val = value;
    let cannot = |rest: &str, elem: &str| {
        format!("parsing time {value:?} as {layout:?}: cannot parse {rest:?} as {elem:?}")
    };
    loop {
        let (prefix, std, suffix) = next_chunk(lay);
        let std_text = std.map_or("", |(_, text)| text);
        val = skip(val, prefix).ok_or_else(|| cannot(val, prefix))?;
        let Some((std, _)) = std else {
            if !val.is_empty() {
                return Err(format!("parsing time {value:?}: extra text: {val:?}"));
            }
            break;
        };
        lay = suffix;
        let before = val;
        val = f.element(std, val, suffix).map_err(|e| match e {
            Bad::Syntax => cannot(before, std_text),
            Bad::Range(what) => format!("parsing time {value:?}: {what} out of range"),
        })?;
    }
    f.finish(value, location)
}

enum Bad {
    Syntax,
    Range(&'static str),
}

#[derive(Default)]
struct Fields {
    year: i64,
    month: Option<i64>,
    day: Option<i64>,
    yearday: Option<i64>,
    hour: i64,
    minute: i64,
    second: i64,
    nanos: i64,
    pm: Option<bool>,
    utc: bool,
    offset: Option<i32>,
    zone_name: String,
}

/// Matches literal layout text; a space in the layout matches any run of spaces.
fn skip<'v>(mut value: &'v str, mut prefix: &str) -> Option<&'v str> {
    while let Some(p) = prefix.chars().next() {
        if p == ' ' {
            if !value.is_empty() && !value.starts_with(' ') {
                return None;
            }
            prefix = prefix.trim_start_matches(' ');
            value = value.trim_start_matches(' ');
            continue;
        }
        value = value.strip_prefix(p)?;
        prefix = &prefix[p.len_utf8()..];
    }
    Some(value)
}

/// One or two digits (`fixed`: exactly two).
fn getnum(value: &str, fixed: bool) -> Result<(i64, &str), Bad> {
    let b = value.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_digit) {
        return Err(Bad::Syntax);
    }
    if !b.get(1).is_some_and(u8::is_ascii_digit) {
        if fixed {
            return Err(Bad::Syntax);
        }
        return Ok((i64::from(b[0] - b'0'), &value[1..]));
    }
    Ok((
        i64::from(b[0] - b'0') * 10 + i64::from(b[1] - b'0'),
        &value[2..],
    ))
}

fn digits(value: &str, n: usize) -> Result<(i64, &str), Bad> {
    let head = value.get(..n).ok_or(Bad::Syntax)?;
    if !head.bytes().all(|c| c.is_ascii_digit()) {
        return Err(Bad::Syntax);
    }
    Ok((head.parse().map_err(|_| Bad::Syntax)?, &value[n..]))
}

/// Case-insensitive match of one of `names` (or their three-letter forms).
fn lookup<'v>(names: &[&str], value: &'v str, short: bool) -> Result<(usize, &'v str), Bad> {
    for (i, name) in names.iter().enumerate() {
        let name = if short { &name[..3] } else { name };
        if let Some(head) = value.get(..name.len()) {
            if head.eq_ignore_ascii_case(name) {
                return Ok((i, &value[name.len()..]));
            }
        }
    }
    Err(Bad::Syntax)
}

fn nanoseconds(value: &str, n: usize) -> Result<(i64, &str), Bad> {
    let mut chars = value.chars();
    if !matches!(chars.next(), Some('.' | ',')) {
        return Err(Bad::Syntax);
    }
    let (digits_str, rest) = (value.get(1..n).ok_or(Bad::Syntax)?, &value[n..]);
    if digits_str.is_empty() || !digits_str.bytes().all(|c| c.is_ascii_digit()) {
        return Err(Bad::Syntax);
    }
    let mut ns: i64 = 0;
    for (i, d) in digits_str.bytes().enumerate() {
        if i < 9 {
            ns = ns * 10 + i64::from(d - b'0');
        }
    }
    for _ in digits_str.len()..9 {
        ns *= 10;
    }
    Ok((ns, rest))
}

fn zone_name_len(value: &str) -> Option<usize> {
    let b = value.as_bytes();
    if b.len() < 3 {
        return None;
    }
    if value.starts_with("ChST") || value.starts_with("MeST") {
        return Some(4);
    }
    if value.starts_with("GMT") {
        let sign_len = b
            .get(3)
            .filter(|c| matches!(c, b'+' | b'-'))
            .map_or(0, |_| 1);
        let n = b[3 + sign_len..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        return Some(if sign_len == 1 && n > 0 { 3 + 1 + n } else { 3 });
    }
    let upper = b
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        3 => Some(3),
        4 if b[3] == b'T' || value.starts_with("WITA") => Some(4),
        5 if b[4] == b'T' => Some(5),
        _ => None,
    }
}

impl Fields {
    fn element<'v>(&mut self, std: Std, value: &'v str, layout_rest: &str) -> Result<&'v str, Bad> {
        let range = |ok: bool, what| if ok { Ok(()) } else { Err(Bad::Range(what)) };
        Ok(match std {
            Std::Year => {
                let (y, rest) = digits(value, 2)?;
                self.year = if y >= 69 { 1900 + y } else { 2000 + y };
                rest
            }
            Std::LongYear => {
                let (y, rest) = digits(value, 4)?;
                self.year = y;
                rest
            }
            Std::Month | Std::LongMonth => {
                let (m, rest) = lookup(&LONG_MONTHS, value, std == Std::Month)?;
                self.month = Some(m as i64 + 1);
                rest
            }
            Std::NumMonth | Std::ZeroMonth => {
                let (m, rest) = getnum(value, std == Std::ZeroMonth)?;
                range((1..=12).contains(&m), "month")?;
                self.month = Some(m);
                rest
            }
            Std::WeekDay | Std::LongWeekDay => lookup(&LONG_DAYS, value, std == Std::WeekDay)?.1,
            Std::Day | Std::UnderDay | Std::ZeroDay => {
                let value = if std == Std::UnderDay {
                    value.strip_prefix(' ').unwrap_or(value)
                } else {
                    value
                };
                let (d, rest) = getnum(value, std == Std::ZeroDay)?;
                self.day = Some(d);
                rest
            }
            Std::UnderYearDay | Std::ZeroYearDay => {
                let trimmed = if std == Std::UnderYearDay {
                    value.trim_start_matches(' ')
                } else {
                    value
                };
                let n = trimmed
                    .bytes()
                    .take(3)
                    .take_while(u8::is_ascii_digit)
                    .count();
                if std == Std::ZeroYearDay && n != 3 {
                    return Err(Bad::Syntax);
                }
                let (d, rest) = digits(trimmed, n.max(1))?;
                range((1..=366).contains(&d), "day-of-year")?;
                self.yearday = Some(d);
                rest
            }
            Std::Hour => {
                let (h, rest) = getnum(value, false)?;
                range((0..24).contains(&h), "hour")?;
                self.hour = h;
                rest
            }
            Std::Hour12 | Std::ZeroHour12 => {
                let (h, rest) = getnum(value, std == Std::ZeroHour12)?;
                range((0..=12).contains(&h), "hour")?;
                self.hour = h;
                rest
            }
            Std::Minute | Std::ZeroMinute => {
                let (m, rest) = getnum(value, std == Std::ZeroMinute)?;
                range((0..60).contains(&m), "minute")?;
                self.minute = m;
                rest
            }
            Std::Second | Std::ZeroSecond => {
                let (s, mut rest) = getnum(value, std == Std::ZeroSecond)?;
                range((0..60).contains(&s), "second")?;
                self.second = s;
                // Go accepts a fraction after the seconds even when the layout has none.
                let b = rest.as_bytes();
                let next_is_fraction = matches!(
                    next_chunk(layout_rest).1,
                    Some((Std::FracSecond0(..) | Std::FracSecond9(..), _))
                );
                if b.len() >= 2
                    && matches!(b[0], b'.' | b',')
                    && b[1].is_ascii_digit()
                    && !next_is_fraction
                {
                    let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    let (ns, r) = nanoseconds(rest, n)?;
                    self.nanos = ns;
                    rest = r;
                }
                rest
            }
            Std::PM | Std::Pm => {
                let head = value.get(..2).ok_or(Bad::Syntax)?;
                let (am, pm) = if std == Std::PM {
                    ("AM", "PM")
                } else {
                    ("am", "pm")
                };
                self.pm = Some(match head {
                    h if h == pm => true,
                    h if h == am => false,
                    _ => return Err(Bad::Syntax),
                });
                &value[2..]
            }
            Std::TZ => {
                if let Some(rest) = value.strip_prefix("UTC") {
                    self.utc = true;
                    rest
                } else {
                    let n = zone_name_len(value).ok_or(Bad::Syntax)?;
                    self.zone_name = value[..n].to_string();
                    &value[n..]
                }
            }
            Std::FracSecond0(n, _) => {
                let (ns, rest) = nanoseconds(value, 1 + n)?;
                self.nanos = ns;
                rest
            }
            Std::FracSecond9(..) => {
                let b = value.as_bytes();
                if b.len() < 2 || !matches!(b[0], b'.' | b',') || !b[1].is_ascii_digit() {
                    value
                } else {
                    let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    let (ns, rest) = nanoseconds(value, n)?;
                    self.nanos = ns;
                    rest
                }
            }
            zone => {
                if zone.is_iso_zone() {
                    if let Some(rest) = value.strip_prefix('Z') {
                        self.utc = true;
                        return Ok(rest);
                    }
                }
                self.offset_element(zone, value)?
            }
        })
    }

    fn offset_element<'v>(&mut self, zone: Std, value: &'v str) -> Result<&'v str, Bad> {
        let b = value.as_bytes();
        // Offsets are ASCII; requiring that also keeps the slices below on character
        // boundaries.
        let take = |n: usize| {
            if b.len() >= n && b[..n].is_ascii() {
                Ok(())
            } else {
                Err(Bad::Syntax)
            }
        };
        let (h, m, s, rest) = match zone {
            Std::Iso8601ColonTZ | Std::NumColonTZ => {
                take(6)?;
                if b[3] != b':' {
                    return Err(Bad::Syntax);
                }
                (&value[1..3], &value[4..6], "00", &value[6..])
            }
            Std::NumShortTZ | Std::Iso8601ShortTZ => {
                take(3)?;
                (&value[1..3], "00", "00", &value[3..])
            }
            Std::Iso8601ColonSecondsTZ | Std::NumColonSecondsTZ => {
                take(9)?;
                if b[3] != b':' || b[6] != b':' {
                    return Err(Bad::Syntax);
                }
                (&value[1..3], &value[4..6], &value[7..9], &value[9..])
            }
            Std::Iso8601SecondsTZ | Std::NumSecondsTZ => {
                take(7)?;
                (&value[1..3], &value[3..5], &value[5..7], &value[7..])
            }
            _ => {
                take(5)?;
                (&value[1..3], &value[3..5], "00", &value[5..])
            }
        };
        let (h, _) = getnum(h, true)?;
        let (m, _) = getnum(m, true)?;
        let (s, _) = getnum(s, true)?;
        if h > 24 {
            return Err(Bad::Range("time zone offset hour"));
        }
        let magnitude = ((h * 60 + m) * 60 + s) as i32;
        self.offset = Some(match b[0] {
            b'+' => magnitude,
            b'-' => -magnitude,
            _ => return Err(Bad::Syntax),
        });
        Ok(rest)
    }

    fn finish(mut self, value: &str, location: &Zone) -> Result<GoTime, String> {
        match (self.pm, self.hour) {
            (Some(true), h) if h < 12 => self.hour += 12,
            (Some(false), 12) => self.hour = 0,
            _ => {}
        }
        let out_of_range = |what: &str| format!("parsing time {value:?}: {what} out of range");
        let mut month = self.month.unwrap_or(1);
        let mut day = self.day.unwrap_or(1);
        if let Some(yd) = self.yearday {
            let leap = (self.year % 4 == 0 && self.year % 100 != 0) || self.year % 400 == 0;
            if yd > 365 + i64::from(leap) {
                return Err(out_of_range("day-of-year"));
            }
            if self.month.is_none() && self.day.is_none() {
                month = 1;
                day = yd;
            }
        }
        if day < 1 || day > days_in(month, self.year) {
            return Err(out_of_range("day"));
        }
        let build = |zone: Zone| {
            GoTime::from_civil(
                self.year,
                month,
                day,
                self.hour,
                self.minute,
                self.second,
                self.nanos,
                zone,
            )
            .ok_or_else(|| out_of_range("year"))
        };
        if self.utc {
            return build(Zone::Utc);
        }
        if let Some(offset) = self.offset {
            let t = build(Zone::Utc)?.add_nanos(-i64::from(offset) * super::NANOS_PER_SECOND);
            let (local_offset, local_name) = location.lookup(t.unix());
            if local_offset == offset && (self.zone_name.is_empty() || local_name == self.zone_name)
            {
                return Ok(t.with_zone(location.clone()));
            }
            return Ok(t.with_zone(Zone::Fixed {
                name: Arc::from(self.zone_name.as_str()),
                offset,
            }));
        }
        if !self.zone_name.is_empty() {
            let t = build(Zone::Utc)?;
            let (local_offset, local_name) = location.lookup(t.unix());
            if local_name == self.zone_name {
                return Ok(t
                    .add_nanos(-i64::from(local_offset) * super::NANOS_PER_SECOND)
                    .with_zone(location.clone()));
            }
            // An unknown abbreviation: Go records it with offset zero (or GMT±h).
            let offset = self
                .zone_name
                .strip_prefix("GMT")
                .and_then(|h| h.parse::<i32>().ok())
                .map_or(0, |h| h * 3600);
            let name = Arc::from(self.zone_name.as_str());
            return Ok(t
                .add_nanos(-i64::from(offset) * super::NANOS_PER_SECOND)
                .with_zone(Zone::Fixed { name, offset }));
        }
        build(location.clone())
    }
}

fn days_in(month: i64, year: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}
