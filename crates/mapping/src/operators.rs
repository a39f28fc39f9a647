//! The binary operators, member access and slicing, with Expr's rules: `/` always
//! gives a float, `%` takes only integers, `+` joins two strings or adds two numbers,
//! ints and floats compare by value, an index out of range is an error.

use std::sync::Arc;

use crate::ast::BinaryOp;
use crate::dates;
use crate::error::Fault;
use crate::eval::{Budget, Eval};
use crate::value::{compare, equal, Hint, Value};

/// The largest range `a..b` may build, so that `1..1e18` fails fast.
const MAX_RANGE: i64 = 10_000_000;

pub(crate) fn binary(op: BinaryOp, l: Value, r: Value, pos: usize, budget: &mut Budget) -> Eval {
    use BinaryOp::*;
    let mismatch = |l: &Value, r: &Value| {
        Fault::runtime(
            pos,
            format!(
                "invalid operation: {} {} {}",
                l.go_type(),
                op.symbol(),
                r.go_type()
            ),
        )
    };
    match op {
        Eq => Ok(Value::Bool(equal(&l, &r))),
        Ne => Ok(Value::Bool(!equal(&l, &r))),
        Lt | Gt | Le | Ge => {
            let ord = compare(&l, &r).ok_or_else(|| mismatch(&l, &r))?;
            Ok(Value::Bool(match op {
                Lt => ord.is_lt(),
                Gt => ord.is_gt(),
                Le => ord.is_le(),
                _ => ord.is_ge(),
            }))
        }
        In => contains_element(&l, &r, pos).map(Value::Bool),
        Matches => match (&l, &r) {
            (Value::Str(s), Value::Str(p)) => {
                let regex =
                    crate::builtins::compile_regex(p).map_err(|m| Fault::runtime(pos, m))?;
                Ok(Value::Bool(regex.is_match(s)))
            }
            _ => Err(mismatch(&l, &r)),
        },
        Contains | StartsWith | EndsWith => match (&l, &r) {
            (Value::Str(s), Value::Str(t)) => Ok(Value::Bool(match op {
                Contains => s.contains(&**t),
                StartsWith => s.starts_with(&**t),
                _ => s.ends_with(&**t),
            })),
            _ => Err(mismatch(&l, &r)),
        },
        Range => match (&l, &r) {
            (Value::Int(a), Value::Int(b)) => range(*a, *b, pos, budget),
            _ => Err(mismatch(&l, &r)),
        },
        Add => add(&l, &r, pos, budget).unwrap_or_else(|| Err(mismatch(&l, &r))),
        Sub => subtract(&l, &r).ok_or_else(|| mismatch(&l, &r)),
        Mul => match (&l, &r) {
            (Value::Int(a), Value::Int(b)) => Ok(Value::Int(a.wrapping_mul(*b))),
            (Value::Duration(d), Value::Int(n)) | (Value::Int(n), Value::Duration(d)) => {
                Ok(Value::Duration(d.wrapping_mul(*n)))
            }
            _ => float_op(&l, &r, |a, b| a * b).ok_or_else(|| mismatch(&l, &r)),
        },
        Div => match (&l, &r) {
            (Value::Duration(d), Value::Int(n)) if *n != 0 => Ok(Value::Duration(d / n)),
            _ => float_op(&l, &r, |a, b| a / b).ok_or_else(|| mismatch(&l, &r)),
        },
        Mod => match (&l, &r) {
            (Value::Int(_), Value::Int(0)) => Err(Fault::runtime(pos, "integer divide by zero")),
            (Value::Int(a), Value::Int(b)) => Ok(Value::Int(a.wrapping_rem(*b))),
            _ => Err(mismatch(&l, &r)),
        },
        Pow => float_op(&l, &r, f64::powf).ok_or_else(|| mismatch(&l, &r)),
        // Evaluated lazily by the machine; never reaches here.
        And | Or | Coalesce => Err(mismatch(&l, &r)),
    }
}

fn float_op(l: &Value, r: &Value, f: impl Fn(f64, f64) -> f64) -> Option<Value> {
    Some(Value::Float(f(l.as_f64()?, r.as_f64()?)))
}

fn add(l: &Value, r: &Value, pos: usize, budget: &mut Budget) -> Option<Eval> {
    Some(Ok(match (l, r) {
        (Value::Int(a), Value::Int(b)) => Value::Int(a.wrapping_add(*b)),
        (Value::Str(a), Value::Str(b)) => {
            if let Err(e) = budget.charge(a.len() + b.len(), pos) {
                return Some(Err(e));
            }
            concat(a, b)
        }
        (Value::Time(t), Value::Duration(d)) | (Value::Duration(d), Value::Time(t)) => {
            Value::Time(Arc::new(t.add_nanos(*d)))
        }
        (Value::Duration(a), Value::Duration(b)) => Value::Duration(a.wrapping_add(*b)),
        _ => return float_op(l, r, |a, b| a + b).map(Ok),
    }))
}

/// Joins two strings.
fn concat(a: &str, b: &str) -> Value {
    concat_all(&[a, b])
}

/// Joins strings, assembled in a buffer this thread keeps so that building the shared
/// string is the only allocation. (Assembling them in a byte array on the stack needed
/// the result checked as UTF-8 again, which cost more than the copying.)
pub(crate) fn concat_all(parts: &[&str]) -> Value {
    thread_local! {
        static BUFFER: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
    }
    let mut buffer = BUFFER.with(std::cell::Cell::take);
    buffer.clear();
    for part in parts {
        buffer.push_str(part);
    }
    let joined = Value::str(&buffer);
    // A buffer grown by one long string is not kept.
    if buffer.capacity() <= 4096 {
        BUFFER.with(|cell| cell.set(buffer));
    }
    joined
}

fn subtract(l: &Value, r: &Value) -> Option<Value> {
    Some(match (l, r) {
        (Value::Int(a), Value::Int(b)) => Value::Int(a.wrapping_sub(*b)),
        (Value::Time(a), Value::Time(b)) => Value::Duration(dates::sub(a, b)),
        (Value::Time(t), Value::Duration(d)) => {
            Value::Time(Arc::new(t.add_nanos(d.wrapping_neg())))
        }
        (Value::Duration(a), Value::Duration(b)) => Value::Duration(a.wrapping_sub(*b)),
        _ => return float_op(l, r, |a, b| a - b),
    })
}

fn range(a: i64, b: i64, pos: usize, budget: &mut Budget) -> Eval {
    if b < a {
        return Ok(Value::array(Vec::new()));
    }
    let size = b.saturating_sub(a).saturating_add(1);
    if size > MAX_RANGE {
        return Err(Fault::limit(pos, "memory budget exceeded"));
    }
    budget.charge(size as usize, pos)?;
    Ok(Value::array((a..=b).map(Value::Int).collect()))
}

/// `x in collection`: an equal element of an array, a key of a map; nothing is in nil.
fn contains_element(needle: &Value, haystack: &Value, pos: usize) -> Result<bool, Fault> {
    match haystack {
        Value::Nil => Ok(false),
        Value::Array(a, _) => Ok(a.items().iter().any(|v| equal(v, needle))),
        Value::Map(m, _) => match needle {
            Value::Str(k) => Ok(m.get(k).is_some()),
            Value::Nil => Ok(false),
            other => Ok(m.get(&crate::gofmt::sprint(other)).is_some()),
        },
        other => Err(Fault::runtime(
            pos,
            format!("operator \"in\" not defined on {}", other.go_type()),
        )),
    }
}

/// `object.key` with a name known at compile time.
pub(crate) fn fetch_field(object: &Value, key: &Arc<str>, hint: &Hint, pos: usize) -> Eval {
    match object {
        Value::Map(m, _) => Ok(m.get_hinted(key, hint).cloned().unwrap_or(Value::Nil)),
        other => fetch(other, &Value::Str(key.clone()), pos),
    }
}

/// `object[key]`: a map's value (nil when missing), an array's element or a string's
/// character (negative indexes count from the end).
pub(crate) fn fetch(object: &Value, key: &Value, pos: usize) -> Eval {
    match (object, key) {
        (Value::Map(m, _), Value::Str(k)) => Ok(m.get(k).cloned().unwrap_or(Value::Nil)),
        (Value::Map(m, _), Value::Int(_) | Value::Float(_) | Value::Bool(_)) => Ok(m
            .get(&crate::gofmt::sprint(key))
            .cloned()
            .unwrap_or(Value::Nil)),
        (Value::Array(a, _), Value::Int(_) | Value::Float(_)) => {
            let i = resolve_index(key, a.items().len(), pos)?;
            Ok(a.items()[i].clone())
        }
        (Value::Str(s), Value::Int(_) | Value::Float(_)) => {
            let count = s.chars().count();
            let i = resolve_index(key, count, pos)?;
            Ok(s.chars()
                .nth(i)
                .map(|c| Value::string(c.to_string()))
                .unwrap_or(Value::Nil))
        }
        _ => Err(Fault::runtime(
            pos,
            format!(
                "cannot fetch {} from {}",
                crate::gofmt::sprint(key),
                object.go_type()
            ),
        )),
    }
}

fn resolve_index(key: &Value, len: usize, pos: usize) -> Result<usize, Fault> {
    let raw = match key {
        Value::Int(i) => *i,
        Value::Float(f) => *f as i64,
        _ => 0,
    };
    let index = if raw < 0 {
        raw.saturating_add(len as i64)
    } else {
        raw
    };
    if index < 0 || index >= len as i64 {
        return Err(Fault::runtime(
            pos,
            format!("index out of range: {index} (array length is {len})"),
        ));
    }
    Ok(index as usize)
}

/// `object[from:to]`, clamping both ends as Expr does (never an error for bounds).
pub(crate) fn slice(
    object: &Value,
    from: Option<&Value>,
    to: Option<&Value>,
    pos: usize,
    budget: &mut Budget,
) -> Eval {
    let bound = |v: Option<&Value>, default: i64| -> Result<i64, Fault> {
        match v {
            None => Ok(default),
            Some(Value::Int(i)) => Ok(*i),
            Some(Value::Float(f)) => Ok(*f as i64),
            Some(other) => Err(Fault::runtime(
                pos,
                format!("invalid operation: int({})", other.go_type()),
            )),
        }
    };
    let clamp = |len: usize| -> Result<(usize, usize), Fault> {
        let len = len as i64;
        let mut a = bound(from, 0)?;
        let mut b = bound(to, len)?;
        if a < 0 {
            a = len.saturating_add(a).max(0);
        }
        if b < 0 {
            b = len.saturating_add(b).max(0);
        }
        b = b.min(len);
        a = a.min(b);
        Ok((a as usize, b as usize))
    };
    match object {
        Value::Array(arr, _) => {
            let (a, b) = clamp(arr.items().len())?;
            budget.charge(b - a, pos)?;
            Ok(Value::array(arr.items()[a..b].to_vec()))
        }
        Value::Str(s) => {
            let (a, b) = clamp(s.chars().count())?;
            budget.charge(b - a, pos)?;
            Ok(Value::string(s.chars().skip(a).take(b - a).collect()))
        }
        other => Err(Fault::runtime(
            pos,
            format!("cannot slice {}", other.go_type()),
        )),
    }
}
