//! Go's `time` package as far as Expr exposes it: instants shown in a zone, durations,
//! zones by IANA name, and Go's reference-date layouts (`2006-01-02T15:04:05Z07:00`)
//! for formatting and parsing. chrono does the calendar arithmetic and chrono-tz
//! supplies the zone database; the layouts are Go's own language, implemented here.

mod duration;
mod layout;
mod parse;

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::{OffsetName, Tz};

pub use duration::{format_duration, parse_duration};
pub use layout::format;
pub use parse::parse;

pub const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Go's RFC 3339 layout with nanoseconds, used for JSON.
pub const RFC3339_NANO: &str = "2006-01-02T15:04:05.999999999Z07:00";

/// A `*time.Location`.
#[derive(Clone, Debug, PartialEq)]
pub enum Zone {
    Utc,
    Iana(Tz),
    /// A zone known only by its offset (and perhaps an abbreviation), as Go creates when
    /// parsing `+02:00` or an unknown `CEST`.
    Fixed {
        name: Arc<str>,
        offset: i32,
    },
}

impl Zone {
    /// `time.LoadLocation`: "" and "UTC" are UTC; "Local" is UTC too, since the bridge
    /// must not depend on the machine it runs on.
    pub fn load(name: &str) -> Result<Zone, String> {
        match name {
            "" | "UTC" | "Local" => Ok(Zone::Utc),
            _ => name
                .parse::<Tz>()
                .map(Zone::Iana)
                .map_err(|_| format!("unknown time zone {name}")),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Zone::Utc => "UTC",
            Zone::Iana(tz) => tz.name(),
            Zone::Fixed { name, .. } => name,
        }
    }

    /// The offset east of UTC in seconds and the abbreviation in effect at `unix`
    /// seconds ("" when the zone has none).
    pub fn lookup(&self, unix: i64) -> (i32, String) {
        match self {
            Zone::Utc => (0, "UTC".into()),
            Zone::Fixed { name, offset } => (*offset, name.to_string()),
            Zone::Iana(tz) => {
                let utc = DateTime::from_timestamp(unix, 0)
                    .unwrap_or_default()
                    .naive_utc();
                let off = tz.offset_from_utc_datetime(&utc);
                let abbr = off.abbreviation().unwrap_or("").to_string();
                (off.fix().local_minus_utc(), abbr)
            }
        }
    }

    /// The Unix second at which the wall clock of this zone reads `local`. In a gap or
    /// an overlap of a daylight-saving change the earlier offset is used.
    fn unix_from_local(&self, local: &NaiveDateTime) -> i64 {
        let wall = local.and_utc().timestamp();
        match self {
            Zone::Utc => wall,
            Zone::Fixed { offset, .. } => wall - i64::from(*offset),
            Zone::Iana(tz) => match tz.from_local_datetime(local).earliest() {
                Some(dt) => dt.timestamp(),
                None => {
                    wall - i64::from(tz.offset_from_utc_datetime(local).fix().local_minus_utc())
                }
            },
        }
    }
}

/// A `time.Time`: an instant and the zone it is shown in.
#[derive(Clone, Debug, PartialEq)]
pub struct GoTime {
    unix: i64,
    nanos: u32,
    zone: Zone,
}

/// Wall-clock fields of a time in its zone.
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
    pub weekday: u32,
    pub yearday: u32,
    pub offset: i32,
    pub abbreviation: String,
}

impl GoTime {
    pub fn from_unix(unix: i64, nanos: u32, zone: Zone) -> GoTime {
        GoTime { unix, nanos, zone }
    }

    pub fn now() -> GoTime {
        let now = Utc::now();
        GoTime::from_unix(now.timestamp(), now.timestamp_subsec_nanos(), Zone::Utc)
    }

    /// Go's `time.Date`: out-of-range fields normalise (month 13 is January of the next
    /// year, day 32 spills into the next month).
    #[allow(clippy::too_many_arguments)]
    pub fn from_civil(
        year: i64,
        month: i64,
        day: i64,
        hour: i64,
        min: i64,
        sec: i64,
        nanos: i64,
        zone: Zone,
    ) -> Option<GoTime> {
        let months = year.checked_mul(12)?.checked_add(month - 1)?;
        let (y, m0) = (months.div_euclid(12), months.rem_euclid(12));
        let first = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, (m0 + 1) as u32, 1)?;
        let secs = (day - 1)
            .checked_mul(86_400)?
            .checked_add(hour.checked_mul(3600)?)?
            .checked_add(min.checked_mul(60)?)?
            .checked_add(sec)?
            .checked_add(nanos.div_euclid(NANOS_PER_SECOND))?;
        let local = first
            .and_hms_opt(0, 0, 0)?
            .checked_add_signed(chrono::TimeDelta::try_seconds(secs)?)?;
        let unix = zone.unix_from_local(&local);
        Some(GoTime {
            unix,
            nanos: nanos.rem_euclid(NANOS_PER_SECOND) as u32,
            zone,
        })
    }

    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    pub fn unix(&self) -> i64 {
        self.unix
    }

    pub fn nanos(&self) -> u32 {
        self.nanos
    }

    /// Nanoseconds since the Unix epoch, wide enough for any year.
    pub fn instant_nanos(&self) -> i128 {
        i128::from(self.unix) * i128::from(NANOS_PER_SECOND) + i128::from(self.nanos)
    }

    pub fn with_zone(&self, zone: Zone) -> GoTime {
        GoTime {
            zone,
            ..self.clone()
        }
    }

    pub(crate) fn civil(&self) -> Civil {
        let (offset, abbreviation) = self.zone.lookup(self.unix);
        let local = DateTime::from_timestamp(self.unix.saturating_add(i64::from(offset)), 0)
            .unwrap_or_default()
            .naive_utc();
        Civil {
            year: i64::from(local.year()),
            month: local.month(),
            day: local.day(),
            hour: local.hour(),
            minute: local.minute(),
            second: local.second(),
            nanos: self.nanos,
            weekday: local.weekday().num_days_from_sunday(),
            yearday: local.ordinal(),
            offset,
            abbreviation,
        }
    }

    /// `t.Add(d)`.
    pub fn add_nanos(&self, d: i64) -> GoTime {
        let total = self.instant_nanos() + i128::from(d);
        let unix = total.div_euclid(i128::from(NANOS_PER_SECOND));
        GoTime {
            unix: i64::try_from(unix).unwrap_or(if unix < 0 { i64::MIN } else { i64::MAX }),
            nanos: total.rem_euclid(i128::from(NANOS_PER_SECOND)) as u32,
            zone: self.zone.clone(),
        }
    }

    /// `t.AddDate(y, m, d)`, normalising like `time.Date`.
    pub fn add_date(&self, years: i64, months: i64, days: i64) -> Option<GoTime> {
        let c = self.civil();
        GoTime::from_civil(
            c.year.checked_add(years)?,
            i64::from(c.month).checked_add(months)?,
            i64::from(c.day).checked_add(days)?,
            i64::from(c.hour),
            i64::from(c.minute),
            i64::from(c.second),
            i64::from(c.nanos),
            self.zone.clone(),
        )
    }

    /// Go's zero time, January 1 of year 1, UTC.
    pub fn is_zero(&self) -> bool {
        self.unix == -62_135_596_800 && self.nanos == 0
    }

    pub fn rfc3339_nano(&self) -> String {
        format(self, RFC3339_NANO)
    }

    /// `t.String()`.
    pub fn go_string(&self) -> String {
        format(self, "2006-01-02 15:04:05.999999999 -0700 MST")
    }
}

/// `a.Sub(b)`, saturating at the largest durations like Go.
pub fn sub(a: &GoTime, b: &GoTime) -> i64 {
    let d = a.instant_nanos() - b.instant_nanos();
    i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX })
}
