//! The builtins that take a predicate: `all none any one filter map count sum find
//! findIndex findLast findLastIndex groupBy sortBy reduce`.
//!
//! Deliberate deviation from Go Expr: given nil instead of an array they all return
//! nil (Expr fails with "invalid argument for len"), so `find(jcUser.x, …) ?? y` works
//! for attributes that are missing altogether.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::compile::{Op, PredicateKind};
use crate::error::Fault;
use crate::eval::{Eval, Frame, Machine};
use crate::value::{compare, Value};

pub(crate) fn run(
    m: &mut Machine<'_>,
    kind: PredicateKind,
    collection: &Op,
    body: Option<&Op>,
    extra: Option<&Op>,
    pos: usize,
) -> Eval {
    // `jcUser.addresses`: read in place (counting the same steps) rather than cloned.
    let owned;
    let collection_value = match m.env_field(collection)? {
        Some(v) => v,
        Option::None => {
            owned = m.eval(collection)?;
            &owned
        }
    };
    let items = match collection_value {
        Value::Nil => return Ok(Value::Nil),
        Value::Array(a, _) => a,
        other => {
            return Err(Fault::runtime(
                collection.pos,
                format!(
                    "invalid argument for {} (type {})",
                    kind.name(),
                    other.go_type()
                ),
            ))
        }
    };
    let items = items.items();
    use PredicateKind::*;
    match kind {
        All | None | Any | One => {
            let body = body.ok_or_else(|| missing(kind, pos))?;
            let mut matched = 0usize;
            for (i, item) in items.iter().enumerate() {
                let hit = test(m, body, item, i)?;
                match kind {
                    All if !hit => return Ok(Value::Bool(false)),
                    None if hit => return Ok(Value::Bool(false)),
                    Any if hit => return Ok(Value::Bool(true)),
                    One if hit => matched += 1,
                    _ => {}
                }
            }
            Ok(Value::Bool(match kind {
                All | None => true,
                Any => false,
                _ => matched == 1,
            }))
        }
        Filter => {
            let body = body.ok_or_else(|| missing(kind, pos))?;
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if test(m, body, item, i)? {
                    m.budget.charge(1, pos)?;
                    out.push(item.clone());
                }
            }
            Ok(Value::array(out))
        }
        Map => {
            let body = body.ok_or_else(|| missing(kind, pos))?;
            m.budget.charge(items.len(), pos)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(apply(m, body, item, i, Value::Nil)?);
            }
            Ok(Value::array(out))
        }
        Count => {
            let mut n = 0i64;
            for (i, item) in items.iter().enumerate() {
                let hit = match body {
                    Some(body) => test(m, body, item, i)?,
                    Option::None => as_bool(item.clone(), pos)?,
                };
                n += i64::from(hit);
            }
            Ok(Value::Int(n))
        }
        Sum => sum(m, items, body, pos),
        Find | FindIndex => {
            let body = body.ok_or_else(|| missing(kind, pos))?;
            for (i, item) in items.iter().enumerate() {
                if test(m, body, item, i)? {
                    return Ok(if kind == Find {
                        item.clone()
                    } else {
                        Value::Int(i as i64)
                    });
                }
            }
            Ok(if kind == Find {
                Value::Nil
            } else {
                Value::Int(-1)
            })
        }
        FindLast | FindLastIndex => {
            let body = body.ok_or_else(|| missing(kind, pos))?;
            for (i, item) in items.iter().enumerate().rev() {
                if test(m, body, item, i)? {
                    return Ok(if kind == FindLast {
                        item.clone()
                    } else {
                        Value::Int(i as i64)
                    });
                }
            }
            Ok(if kind == FindLast {
                Value::Nil
            } else {
                Value::Int(-1)
            })
        }
        GroupBy => {
            let body = body.ok_or_else(|| missing(kind, pos))?;
            m.budget.charge(items.len(), pos)?;
            let mut groups: BTreeMap<Arc<str>, Vec<Value>> = BTreeMap::new();
            for (i, item) in items.iter().enumerate() {
                let key = apply(m, body, item, i, Value::Nil)?;
                let key: Arc<str> = match key {
                    Value::Str(s) => s,
                    other => Arc::from(crate::gofmt::sprint(&other).as_str()),
                };
                groups.entry(key).or_default().push(item.clone());
            }
            Ok(Value::map(
                groups.into_iter().map(|(k, v)| (k, Value::array(v))),
            ))
        }
        SortBy => sort_by(m, items, body, extra, pos),
        Reduce => reduce(m, items, body, extra, pos),
    }
}

fn missing(kind: PredicateKind, pos: usize) -> Fault {
    Fault::runtime(pos, format!("{} needs a predicate", kind.name()))
}

fn as_bool(v: Value, pos: usize) -> Result<bool, Fault> {
    match v {
        Value::Bool(b) => Ok(b),
        other => Err(Fault::runtime(
            pos,
            format!("predicate must return a bool, not {}", other.go_type()),
        )),
    }
}

/// Evaluates `body` with `#` bound to `item`.
fn apply(m: &mut Machine<'_>, body: &Op, item: &Value, index: usize, acc: Value) -> Eval {
    m.frames().push(Frame {
        element: item.clone(),
        index,
        acc,
    });
    let result = m.eval(body);
    m.frames().pop();
    result
}

fn test(m: &mut Machine<'_>, body: &Op, item: &Value, index: usize) -> Result<bool, Fault> {
    if let Some(hit) = m.quick_test(body, item) {
        return Ok(hit);
    }
    let v = apply(m, body, item, index, Value::Nil)?;
    as_bool(v, body.pos)
}

fn sum(m: &mut Machine<'_>, items: &[Value], body: Option<&Op>, pos: usize) -> Eval {
    let mut int_total: i64 = 0;
    let mut float_total: f64 = 0.0;
    let mut is_float = false;
    for (i, item) in items.iter().enumerate() {
        let v = match body {
            Some(body) => apply(m, body, item, i, Value::Nil)?,
            None => item.clone(),
        };
        match v {
            Value::Int(n) => int_total = int_total.wrapping_add(n),
            Value::Float(f) => {
                is_float = true;
                float_total += f;
            }
            other => {
                return Err(Fault::runtime(
                    pos,
                    format!("invalid operation: + {}", other.go_type()),
                ))
            }
        }
    }
    Ok(if is_float {
        Value::Float(float_total + int_total as f64)
    } else {
        Value::Int(int_total)
    })
}

fn sort_by(
    m: &mut Machine<'_>,
    items: &[Value],
    body: Option<&Op>,
    order: Option<&Op>,
    pos: usize,
) -> Eval {
    let descending = match order.map(|o| m.eval(o)).transpose()? {
        None => false,
        Some(Value::Str(s)) if &*s == "asc" => false,
        Some(Value::Str(s)) if &*s == "desc" => true,
        Some(other) => {
            return Err(Fault::runtime(
                pos,
                format!(
                    "unknown order {}, use asc or desc",
                    crate::gofmt::sprint(&other)
                ),
            ))
        }
    };
    m.budget.charge(items.len() * 2, pos)?;
    let mut keyed = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let key = match body {
            Some(body) => apply(m, body, item, i, Value::Nil)?,
            None => item.clone(),
        };
        keyed.push((key, item.clone()));
    }
    let sorted = sort_values(keyed, descending, pos)?;
    Ok(Value::array(sorted))
}

/// Stable sort of `(key, value)` pairs by key; keys that cannot be ordered (a string
/// and a number, say) are an error rather than an arbitrary order.
pub(crate) fn sort_values(
    mut keyed: Vec<(Value, Value)>,
    descending: bool,
    pos: usize,
) -> Result<Vec<Value>, Fault> {
    let mut failure = None;
    keyed.sort_by(|(a, _), (b, _)| {
        let ord = compare(a, b).unwrap_or_else(|| {
            failure.get_or_insert_with(|| (a.go_type(), b.go_type()));
            std::cmp::Ordering::Equal
        });
        if descending {
            ord.reverse()
        } else {
            ord
        }
    });
    if let Some((a, b)) = failure {
        return Err(Fault::runtime(pos, format!("cannot compare {a} and {b}")));
    }
    Ok(keyed.into_iter().map(|(_, v)| v).collect())
}

fn reduce(
    m: &mut Machine<'_>,
    items: &[Value],
    body: Option<&Op>,
    initial: Option<&Op>,
    pos: usize,
) -> Eval {
    let body = body.ok_or_else(|| missing(PredicateKind::Reduce, pos))?;
    let (mut acc, start) = match initial {
        Some(init) => (m.eval(init)?, 0),
        None => match items.first() {
            Some(first) => (first.clone(), 1),
            None => {
                return Err(Fault::runtime(
                    pos,
                    "reduce of empty array with no initial value",
                ))
            }
        },
    };
    for (i, item) in items.iter().enumerate().skip(start) {
        acc = apply(m, body, item, i, acc)?;
        acc = crate::eval::check_depth(acc, pos)?;
    }
    Ok(acc)
}
