//! Go's `time.ParseDuration` and `Duration.String`: `1h30m`, `1.5s`, `300ms`, `-2µs`.

const UNITS: &[(&str, u64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses a duration such as `1h15m30.5s`; Go's error messages.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {s:?}");
    let mut rest = s;
    let negative = rest.starts_with('-');
    if let Some(r) = rest.strip_prefix(['-', '+']) {
        rest = r;
    }
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &r[..n];
            rest = &r[n..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(i, _)| i);
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {s:?}"));
        }
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, scale)| *scale)
            .ok_or_else(|| format!("time: unknown unit {unit:?} in duration {s:?}"))?;
        let whole: u64 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid())?
        };
        let mut value = whole.checked_mul(scale).ok_or_else(invalid)?;
        if !frac_part.is_empty() {
            // The fraction contributes scale × 0.frac, computed exactly in integers.
            let digits = &frac_part[..frac_part.len().min(18)];
            let numerator: u128 = digits.parse().map_err(|_| invalid())?;
            let extra = numerator * u128::from(scale) / 10u128.pow(digits.len() as u32);
            value = value
                .checked_add(u64::try_from(extra).map_err(|_| invalid())?)
                .ok_or_else(invalid)?;
        }
        total = total.checked_add(value).ok_or_else(invalid)?;
    }
    if negative {
        if total > i64::MAX as u64 + 1 {
            return Err(invalid());
        }
        Ok((total as i64).wrapping_neg())
    } else {
        i64::try_from(total).map_err(|_| invalid())
    }
}

/// `Duration.String()`: `72h3m0.5s`, `1.5µs`, `0s`.
pub fn format_duration(d: i64) -> String {
    let negative = d < 0;
    let mut u = d.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (prec, unit) = match u {
            0 => return "0s".into(),
            u if u < 1_000 => (0, "ns"),
            u if u < 1_000_000 => (3, "µs"),
            _ => (6, "ms"),
        };
        out.push_str(&fraction(u, prec));
        out.push_str(unit);
    } else {
        let secs_text = fraction(u % 60_000_000_000, 9);
        u /= 60_000_000_000;
        if u > 0 {
            let minutes = u % 60;
            let hours = u / 60;
            if hours > 0 {
                out.push_str(&format!("{hours}h"));
            }
            out.push_str(&format!("{minutes}m"));
        }
        out.push_str(&secs_text);
        out.push('s');
    }
    if negative {
        out.insert(0, '-');
    }
    out
}

/// `v / 10^prec` with the fraction's trailing zeros (and a bare dot) dropped.
fn fraction(v: u64, prec: u32) -> String {
    let scale = 10u64.pow(prec);
    let whole = v / scale;
    let frac = v % scale;
    if prec == 0 || frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{:0width$}", frac, width = prec as usize);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}
