//! Methods of Go's time values that Expr lets expressions call:
//! `date(x).Format('2006-01-02')`, `.Year()`, `.In(timezone('Europe/Paris'))`,
//! `duration('90m').Hours()`…

use std::sync::Arc;

use super::time::zone_arg;
use crate::dates::{self, GoTime, Zone, NANOS_PER_SECOND};
use crate::error::Fault;
use crate::eval::Budget;
use crate::value::Value;

type R = Result<Value, Fault>;

pub(crate) fn call(
    object: &Value,
    name: &str,
    args: &[Value],
    pos: usize,
    budget: &mut Budget,
) -> R {
    match object {
        Value::Time(t) => time_method(t, name, args, pos, budget),
        Value::Duration(d) => duration_method(*d, name, args, pos),
        Value::Location(z) if name == "String" => Ok(Value::str(z.name())),
        other => Err(Fault::runtime(
            pos,
            format!("cannot fetch {name} from {}", other.go_type()),
        )),
    }
}

fn arity(name: &str, args: &[Value], n: usize, pos: usize) -> Result<(), Fault> {
    if args.len() != n {
        return Err(Fault::runtime(
            pos,
            format!(
                "invalid number of arguments for {name} (expected {n}, got {})",
                args.len()
            ),
        ));
    }
    Ok(())
}

fn int_at(name: &str, args: &[Value], i: usize, pos: usize) -> Result<i64, Fault> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        Some(Value::Duration(d)) => Ok(*d),
        Some(other) => Err(super::invalid(name, other, pos)),
        None => Err(Fault::runtime(pos, format!("missing argument for {name}"))),
    }
}

fn time_at<'a>(name: &str, args: &'a [Value], pos: usize) -> Result<&'a GoTime, Fault> {
    match args.first() {
        Some(Value::Time(t)) => Ok(t),
        Some(other) => Err(super::invalid(name, other, pos)),
        None => Err(Fault::runtime(pos, format!("missing argument for {name}"))),
    }
}

fn time_method(t: &GoTime, name: &str, args: &[Value], pos: usize, budget: &mut Budget) -> R {
    let int = |n: i64| Ok(Value::Int(n));
    let with_time = |t: GoTime| Ok(Value::Time(Arc::new(t)));
    let expected = match name {
        "Format" | "In" | "Add" | "Sub" | "Before" | "After" | "Equal" | "Compare" => 1,
        "AddDate" => 3,
        _ => 0,
    };
    arity(name, args, expected, pos)?;
    match name {
        "Format" => {
            let layout = super::str_arg("Format", args, 0, pos)?;
            budget.charge(layout.len() * 2, pos)?;
            Ok(Value::string(dates::format(t, layout)))
        }
        "String" => Ok(Value::string(t.go_string())),
        "Year" => int(t.civil().year),
        "Month" => int(t.civil().month.into()),
        "Day" => int(t.civil().day.into()),
        "Hour" => int(t.civil().hour.into()),
        "Minute" => int(t.civil().minute.into()),
        "Second" => int(t.civil().second.into()),
        "Nanosecond" => int(t.nanos().into()),
        "Weekday" => int(t.civil().weekday.into()),
        "YearDay" => int(t.civil().yearday.into()),
        "Unix" => int(t.unix()),
        "UnixMilli" => int(t
            .unix()
            .saturating_mul(1000)
            .saturating_add(i64::from(t.nanos() / 1_000_000))),
        "UnixMicro" => int(t
            .unix()
            .saturating_mul(1_000_000)
            .saturating_add(i64::from(t.nanos() / 1000))),
        "UnixNano" => int(t
            .unix()
            .saturating_mul(NANOS_PER_SECOND)
            .saturating_add(i64::from(t.nanos()))),
        "IsZero" => Ok(Value::Bool(t.is_zero())),
        "UTC" | "Local" => with_time(t.with_zone(Zone::Utc)),
        "Location" => Ok(Value::Location(Arc::new(t.zone().clone()))),
        "In" => with_time(t.with_zone(zone_arg("In", &args[0], pos)?)),
        "Add" => with_time(t.add_nanos(int_at("Add", args, 0, pos)?)),
        "AddDate" => {
            let (y, m, d) = (
                int_at(name, args, 0, pos)?,
                int_at(name, args, 1, pos)?,
                int_at(name, args, 2, pos)?,
            );
            t.add_date(y, m, d)
                .map(|t| Value::Time(Arc::new(t)))
                .ok_or_else(|| Fault::runtime(pos, "AddDate: date out of range"))
        }
        "Sub" => Ok(Value::Duration(dates::sub(t, time_at(name, args, pos)?))),
        "Before" => Ok(Value::Bool(
            t.instant_nanos() < time_at(name, args, pos)?.instant_nanos(),
        )),
        "After" => Ok(Value::Bool(
            t.instant_nanos() > time_at(name, args, pos)?.instant_nanos(),
        )),
        "Equal" => Ok(Value::Bool(
            t.instant_nanos() == time_at(name, args, pos)?.instant_nanos(),
        )),
        "Compare" => int(t
            .instant_nanos()
            .cmp(&time_at(name, args, pos)?.instant_nanos()) as i64),
        _ => Err(Fault::runtime(
            pos,
            format!("cannot fetch {name} from time.Time"),
        )),
    }
}

fn duration_method(d: i64, name: &str, args: &[Value], pos: usize) -> R {
    let expected = usize::from(matches!(name, "Round" | "Truncate"));
    arity(name, args, expected, pos)?;
    let per = |unit: i64| Value::Float((d / unit) as f64 + (d % unit) as f64 / unit as f64);
    match name {
        "Hours" => Ok(per(3_600 * NANOS_PER_SECOND)),
        "Minutes" => Ok(per(60 * NANOS_PER_SECOND)),
        "Seconds" => Ok(per(NANOS_PER_SECOND)),
        "Milliseconds" => Ok(Value::Int(d / 1_000_000)),
        "Microseconds" => Ok(Value::Int(d / 1_000)),
        "Nanoseconds" => Ok(Value::Int(d)),
        "String" => Ok(Value::string(dates::format_duration(d))),
        "Abs" => Ok(Value::Duration(d.checked_abs().unwrap_or(i64::MAX))),
        "Truncate" | "Round" => {
            let m = int_at(name, args, 0, pos)?;
            if m <= 0 {
                return Ok(Value::Duration(d));
            }
            let r = d % m;
            let truncated = d - r;
            if name == "Truncate" {
                return Ok(Value::Duration(truncated));
            }
            // Halfway values round away from zero, as Go does.
            let rounded = if r.unsigned_abs().saturating_mul(2) >= m as u64 {
                if d < 0 {
                    truncated.saturating_sub(m)
                } else {
                    truncated.saturating_add(m)
                }
            } else {
                truncated
            };
            Ok(Value::Duration(rounded))
        }
        _ => Err(Fault::runtime(
            pos,
            format!("cannot fetch {name} from time.Duration"),
        )),
    }
}
