//! Date builtins: `now duration date timezone`.

use std::sync::Arc;

use super::{arg, builtin, invalid, str_arg, Builtin};
use crate::dates::{self, GoTime, Zone};
use crate::error::Fault;
use crate::eval::Budget;
use crate::value::Value;

pub(crate) const BUILTINS: &[Builtin] = &[
    builtin("now", now, 0, 1),
    builtin("duration", duration, 1, 1),
    builtin("date", date, 1, 4),
    builtin("timezone", timezone, 1, 1),
];

type R = Result<Value, Fault>;

/// The layouts `date(x)` tries, in Expr's order.
const DEFAULT_LAYOUTS: &[&str] = &[
    "2006-01-02",
    "15:04:05",
    "2006-01-02 15:04:05",
    "2006-01-02T15:04:05Z07:00",
    "02 Jan 06 15:04 MST",
    "Monday, 02-Jan-06 15:04:05 MST",
    "Mon, 02 Jan 2006 15:04:05 MST",
];

/// A zone given as `timezone(…)` or as a name.
pub(crate) fn zone_arg(name: &str, v: &Value, pos: usize) -> Result<Zone, Fault> {
    match v {
        Value::Location(z) => Ok((**z).clone()),
        Value::Str(s) => Zone::load(s).map_err(|m| Fault::runtime(pos, m)),
        other => Err(invalid(name, other, pos)),
    }
}

fn now(_: &mut Budget, args: &[Value], pos: usize) -> R {
    let t = GoTime::now();
    Ok(Value::Time(Arc::new(match args.first() {
        Some(zone) => t.with_zone(zone_arg("now", zone, pos)?),
        None => t,
    })))
}

fn duration(_: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = str_arg("duration", args, 0, pos)?;
    dates::parse_duration(s)
        .map(Value::Duration)
        .map_err(|m| Fault::runtime(pos, m))
}

/// `date(str)`, `date(str, layout)`, `date(str, layout, zone)`, each optionally led by
/// a `timezone(…)` in which to read a wall-clock time.
fn date(_: &mut Budget, args: &[Value], pos: usize) -> R {
    let (mut zone, args) = match args.first() {
        Some(Value::Location(z)) => ((**z).clone(), &args[1..]),
        _ => (Zone::Utc, args),
    };
    let text = match arg(args, 0) {
        Value::Time(t) => return Ok(Value::Time(t.clone())),
        Value::Str(s) => s.clone(),
        other => return Err(invalid("date", other, pos)),
    };
    if args.len() >= 3 {
        zone = zone_arg("date", &args[2], pos)?;
    }
    let parsed = if args.len() >= 2 {
        let layout = str_arg("date", args, 1, pos)?;
        dates::parse(layout, &text, &zone).map_err(|m| Fault::runtime(pos, m))?
    } else {
        DEFAULT_LAYOUTS
            .iter()
            .find_map(|layout| dates::parse(layout, &text, &zone).ok())
            .ok_or_else(|| Fault::runtime(pos, format!("invalid date {text}")))?
    };
    Ok(Value::Time(Arc::new(parsed)))
}

fn timezone(_: &mut Budget, args: &[Value], pos: usize) -> R {
    let name = str_arg("timezone", args, 0, pos)?;
    Zone::load(name)
        .map(|z| Value::Location(Arc::new(z)))
        .map_err(|m| Fault::runtime(pos, m))
}
