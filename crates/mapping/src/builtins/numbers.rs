//! Number builtins. `max`, `min`, `mean` and `median` take numbers or arrays of them
//! (nested arrays flattened), as Expr's do.

use super::{builtin, invalid, Builtin, MANY};
use crate::error::Fault;
use crate::eval::Budget;
use crate::value::{compare, Value};

pub(crate) const BUILTINS: &[Builtin] = &[
    builtin("max", max, 1, MANY),
    builtin("min", min, 1, MANY),
    builtin("abs", abs, 1, 1),
    builtin("ceil", ceil, 1, 1),
    builtin("floor", floor, 1, 1),
    builtin("round", round, 1, 1),
    builtin("mean", mean, 1, MANY),
    builtin("median", median, 1, MANY),
    builtin("bitand", bitand, 2, 2),
    builtin("bitor", bitor, 2, 2),
    builtin("bitxor", bitxor, 2, 2),
    builtin("bitnand", bitnand, 2, 2),
    builtin("bitnot", bitnot, 1, 1),
    builtin("bitshl", bitshl, 2, 2),
    builtin("bitshr", bitshr, 2, 2),
    builtin("bitushr", bitushr, 2, 2),
];

type R = Result<Value, Fault>;

/// Collects the numbers of `args`, descending into arrays.
fn numbers<'a>(
    name: &str,
    args: &'a [Value],
    out: &mut Vec<&'a Value>,
    b: &mut Budget,
    pos: usize,
) -> Result<(), Fault> {
    for a in args {
        b.step(pos)?;
        match a {
            Value::Int(_) | Value::Float(_) => out.push(a),
            Value::Array(arr, _) => numbers(name, arr.items(), out, b, pos)?,
            other => return Err(invalid(name, other, pos)),
        }
    }
    Ok(())
}

fn extreme(name: &str, b: &mut Budget, args: &[Value], pos: usize, want_greater: bool) -> R {
    let mut nums = Vec::new();
    numbers(name, args, &mut nums, b, pos)?;
    let mut best: Option<&Value> = None;
    for n in nums {
        let replace = match best {
            None => true,
            Some(cur) => {
                compare(n, cur).is_some_and(|o| if want_greater { o.is_gt() } else { o.is_lt() })
            }
        };
        if replace {
            best = Some(n);
        }
    }
    Ok(best.cloned().unwrap_or(Value::Nil))
}

fn max(b: &mut Budget, args: &[Value], pos: usize) -> R {
    extreme("max", b, args, pos, true)
}

fn min(b: &mut Budget, args: &[Value], pos: usize) -> R {
    extreme("min", b, args, pos, false)
}

fn abs(_: &mut Budget, args: &[Value], pos: usize) -> R {
    match &args[0] {
        Value::Int(i) => Ok(Value::Int(i.wrapping_abs())),
        Value::Float(f) => Ok(Value::Float(f.abs())),
        other => Err(invalid("abs", other, pos)),
    }
}

/// `ceil`, `floor` and `round` give floats, also for an int argument, as Expr does.
fn rounding(name: &str, args: &[Value], pos: usize, f: fn(f64) -> f64) -> R {
    match &args[0] {
        Value::Int(i) => Ok(Value::Float(*i as f64)),
        Value::Float(x) => Ok(Value::Float(f(*x))),
        other => Err(invalid(name, other, pos)),
    }
}

fn ceil(_: &mut Budget, args: &[Value], pos: usize) -> R {
    rounding("ceil", args, pos, f64::ceil)
}

fn floor(_: &mut Budget, args: &[Value], pos: usize) -> R {
    rounding("floor", args, pos, f64::floor)
}

/// Half away from zero, like Go's `math.Round`.
fn round(_: &mut Budget, args: &[Value], pos: usize) -> R {
    rounding("round", args, pos, f64::round)
}

/// Two integer arguments of a bitwise builtin.
fn ints(name: &str, args: &[Value], pos: usize) -> Result<(i64, i64), Fault> {
    match (&args[0], &args[1]) {
        (Value::Int(a), Value::Int(b)) => Ok((*a, *b)),
        (Value::Int(_), other) | (other, _) => Err(invalid(name, other, pos)),
    }
}

/// A shift count: Go panics on a negative one; shifting by 64 or more empties.
fn shift(name: &str, n: i64, pos: usize) -> Result<u32, Fault> {
    u32::try_from(n).map_err(|_| {
        Fault::runtime(
            pos,
            format!("invalid argument for {name}: negative shift count {n}"),
        )
    })
}

fn bitand(_: &mut Budget, args: &[Value], pos: usize) -> R {
    ints("bitand", args, pos).map(|(a, b)| Value::Int(a & b))
}

fn bitor(_: &mut Budget, args: &[Value], pos: usize) -> R {
    ints("bitor", args, pos).map(|(a, b)| Value::Int(a | b))
}

fn bitxor(_: &mut Budget, args: &[Value], pos: usize) -> R {
    ints("bitxor", args, pos).map(|(a, b)| Value::Int(a ^ b))
}

/// Go's AND NOT (`&^`).
fn bitnand(_: &mut Budget, args: &[Value], pos: usize) -> R {
    ints("bitnand", args, pos).map(|(a, b)| Value::Int(a & !b))
}

fn bitnot(_: &mut Budget, args: &[Value], pos: usize) -> R {
    match &args[0] {
        Value::Int(a) => Ok(Value::Int(!a)),
        other => Err(invalid("bitnot", other, pos)),
    }
}

fn bitshl(_: &mut Budget, args: &[Value], pos: usize) -> R {
    let (a, n) = ints("bitshl", args, pos)?;
    let n = shift("bitshl", n, pos)?;
    Ok(Value::Int(a.checked_shl(n).unwrap_or(0)))
}

fn bitshr(_: &mut Budget, args: &[Value], pos: usize) -> R {
    let (a, n) = ints("bitshr", args, pos)?;
    let n = shift("bitshr", n, pos)?;
    Ok(Value::Int(a.checked_shr(n).unwrap_or(if a < 0 {
        -1
    } else {
        0
    })))
}

/// Unsigned shift right: the bits of `a` shifted as an unsigned number.
fn bitushr(_: &mut Budget, args: &[Value], pos: usize) -> R {
    let (a, n) = ints("bitushr", args, pos)?;
    let n = shift("bitushr", n, pos)?;
    Ok(Value::Int((a as u64).checked_shr(n).unwrap_or(0) as i64))
}

fn mean(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let mut nums = Vec::new();
    numbers("mean", args, &mut nums, b, pos)?;
    if nums.is_empty() {
        return Ok(Value::Float(0.0));
    }
    let total: f64 = nums.iter().filter_map(|v| v.as_f64()).sum();
    Ok(Value::Float(total / nums.len() as f64))
}

fn median(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let mut nums = Vec::new();
    numbers("median", args, &mut nums, b, pos)?;
    let mut values: Vec<f64> = nums.iter().filter_map(|v| v.as_f64()).collect();
    if values.is_empty() {
        return Ok(Value::Float(0.0));
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Ok(Value::Float(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }))
}
