//! Go's text formatting of values, which Expr's `string()` uses (`fmt.Sprintf("%v")`),
//! and Go's shortest float formatting, which `encoding/json` uses too.

use crate::dates;
use crate::value::Value;

/// Go's `fmt.Sprint(v)`: `[1 2]` for arrays, `map[a:1]` for maps, `<nil>` for nil,
/// `1e+06` for the float one million.
pub fn sprint(v: &Value) -> String {
    let mut out = String::new();
    write_v(v, &mut out);
    out
}

fn write_v(v: &Value, out: &mut String) {
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&format_g(*f)),
        Value::Str(s) => out.push_str(s),
        Value::Array(a, _) => {
            out.push('[');
            for (i, item) in a.items().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(item, out);
            }
            out.push(']');
        }
        Value::Map(m, _) => {
            out.push_str("map[");
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_v(item, out);
            }
            out.push(']');
        }
        Value::Time(t) => out.push_str(&t.go_string()),
        Value::Duration(d) => out.push_str(&dates::format_duration(*d)),
        Value::Location(z) => out.push_str(z.name()),
    }
}

/// The shortest decimal digits that read back as `f` (`f` finite, sign ignored) and
/// the position of the decimal point relative to them: 1234.5 → ("12345", 4).
fn shortest_digits(f: f64) -> (String, i32) {
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    (digits, exp + 1)
}

fn special(f: f64) -> Option<String> {
    if f.is_nan() {
        Some("NaN".into())
    } else if f.is_infinite() {
        Some(if f > 0.0 { "+Inf" } else { "-Inf" }.into())
    } else {
        None
    }
}

/// Go's `strconv.FormatFloat(f, 'e', -1, 64)`: `1e+21`, `1.5e-07`.
pub fn format_e(f: f64) -> String {
    if let Some(s) = special(f) {
        return s;
    }
    let (digits, dp) = shortest_digits(f);
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    let exp = if f == 0.0 { 0 } else { dp - 1 };
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let abs = exp.unsigned_abs();
    if abs < 10 {
        out.push('0');
    }
    out.push_str(&abs.to_string());
    out
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: never an exponent.
pub fn format_f(f: f64) -> String {
    if let Some(s) = special(f) {
        return s;
    }
    let (digits, dp) = shortest_digits(f);
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    let nd = digits.len() as i32;
    if f == 0.0 {
        out.push('0');
    } else if dp <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-dp) as usize));
        out.push_str(&digits);
    } else if dp >= nd {
        out.push_str(&digits);
        out.push_str(&"0".repeat((dp - nd) as usize));
    } else {
        out.push_str(&digits[..dp as usize]);
        out.push('.');
        out.push_str(&digits[dp as usize..]);
    }
    out
}

/// Go's `%v` for a float (`strconv` 'g' with the shortest digits): an exponent when
/// it is below -4 or at least 6, as Go decides with precision 6 for the shortest form
/// (`1e+06`, `123456`, `1e-05`).
pub fn format_g(f: f64) -> String {
    if let Some(s) = special(f) {
        return s;
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let (_, dp) = shortest_digits(f);
    let exp = dp - 1;
    if !(-4..6).contains(&exp) {
        format_e(f)
    } else {
        format_f(f)
    }
}

/// `encoding/json`'s float format: plain decimal between 1e-6 and 1e21, otherwise an
/// exponent with Go's `e-07` cleaned to `e-7`.
pub fn format_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format_e(f);
        // Go strips the leading zero of a two-digit negative exponent only.
        if let Some(idx) = s.find("e-0") {
            let mut t = s[..idx + 2].to_string();
            t.push_str(&s[idx + 3..]);
            return t;
        }
        return s;
    }
    format_f(f)
}
