//! Array and map builtins, plus `len` and `get`.

use std::collections::HashSet;
use std::sync::Arc;

use super::{arg, array_arg, builtin, int_arg, invalid, str_arg, Builtin, MANY};
use crate::error::Fault;
use crate::eval::Budget;
use crate::operators;
use crate::predicates::sort_values;
use crate::value::{equal, Value};

pub(crate) const BUILTINS: &[Builtin] = &[
    builtin("concat", concat, 1, MANY),
    builtin("flatten", flatten, 1, 1),
    builtin("uniq", uniq, 1, 1),
    builtin("join", join, 1, 2),
    builtin("first", first, 1, 1),
    builtin("last", last, 1, 1),
    builtin("take", take, 2, 2),
    builtin("reverse", reverse, 1, 1),
    builtin("sort", sort, 1, 2),
    builtin("keys", keys, 1, 1),
    builtin("values", values, 1, 1),
    builtin("len", len, 1, 1),
    builtin("get", get, 2, 2),
];

type R = Result<Value, Fault>;

fn concat(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let mut out = Vec::new();
    for (i, _) in args.iter().enumerate() {
        let items = array_arg("concat", args, i, pos)?;
        b.charge(items.len(), pos)?;
        out.extend_from_slice(items);
    }
    Ok(Value::array(out))
}

fn flatten_into(
    items: &[Value],
    out: &mut Vec<Value>,
    b: &mut Budget,
    pos: usize,
) -> Result<(), Fault> {
    for item in items {
        match item {
            Value::Array(inner, _) => flatten_into(inner.items(), out, b, pos)?,
            other => {
                b.charge(1, pos)?;
                out.push(other.clone());
            }
        }
    }
    Ok(())
}

fn flatten(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let items = array_arg("flatten", args, 0, pos)?;
    let mut out = Vec::new();
    flatten_into(items, &mut out, b, pos)?;
    Ok(Value::array(out))
}

/// A hashable stand-in for scalar values, so `uniq` is linear on the common case.
#[derive(Hash, PartialEq, Eq)]
enum Key {
    Nil,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(Arc<str>),
}

fn scalar_key(v: &Value) -> Option<Key> {
    Some(match v {
        Value::Nil => Key::Nil,
        Value::Bool(b) => Key::Bool(*b),
        Value::Int(i) => Key::Int(*i),
        // A whole float equals the int of the same value.
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Key::Int(*f as i64),
        Value::Float(f) => Key::Float(f.to_bits()),
        Value::Str(s) => Key::Str(s.clone()),
        _ => return None,
    })
}

fn uniq(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let items = array_arg("uniq", args, 0, pos)?;
    b.charge(items.len(), pos)?;
    let mut seen = HashSet::new();
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        let fresh = match scalar_key(item) {
            Some(key) => seen.insert(key),
            None => {
                let mut fresh = true;
                for kept in &out {
                    b.step(pos)?;
                    if equal(kept, item) {
                        fresh = false;
                        break;
                    }
                }
                fresh
            }
        };
        if fresh {
            out.push(item.clone());
        }
    }
    Ok(Value::array(out))
}

fn join(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let items = array_arg("join", args, 0, pos)?;
    let sep = if args.len() == 2 {
        str_arg("join", args, 1, pos)?
    } else {
        ""
    };
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        let Value::Str(s) = item else {
            return Err(invalid("join", item, pos));
        };
        if i > 0 {
            out.push_str(sep);
        }
        b.charge(s.len() + sep.len(), pos)?;
        out.push_str(s);
    }
    Ok(Value::string(out))
}

/// `first` and `last` never fail: nil, an empty array or a non-array give nil.
fn first(_: &mut Budget, args: &[Value], _: usize) -> R {
    Ok(arg(args, 0)
        .as_array()
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or(Value::Nil))
}

fn last(_: &mut Budget, args: &[Value], _: usize) -> R {
    Ok(arg(args, 0)
        .as_array()
        .and_then(|a| a.last())
        .cloned()
        .unwrap_or(Value::Nil))
}

fn take(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let items = array_arg("take", args, 0, pos)?;
    let n = int_arg("take", args, 1, pos)?;
    if n < 0 {
        return Err(Fault::runtime(pos, format!("cannot take {n} elements")));
    }
    let n = (n as usize).min(items.len());
    b.charge(n, pos)?;
    Ok(Value::array(items[..n].to_vec()))
}

fn reverse(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let items = array_arg("reverse", args, 0, pos)?;
    b.charge(items.len(), pos)?;
    Ok(Value::array(items.iter().rev().cloned().collect()))
}

fn sort(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let items = array_arg("sort", args, 0, pos)?;
    let descending = match arg(args, 1) {
        Value::Nil => false,
        Value::Str(s) if &**s == "asc" => false,
        Value::Str(s) if &**s == "desc" => true,
        other => {
            return Err(Fault::runtime(
                pos,
                format!(
                    "unknown order {}, use asc or desc",
                    crate::gofmt::sprint(other)
                ),
            ))
        }
    };
    b.charge(items.len() * 2, pos)?;
    let keyed = items.iter().map(|v| (v.clone(), v.clone())).collect();
    Ok(Value::array(sort_values(keyed, descending, pos)?))
}

fn keys(b: &mut Budget, args: &[Value], pos: usize) -> R {
    match arg(args, 0) {
        Value::Map(m, _) => {
            b.charge(m.len(), pos)?;
            Ok(Value::array(
                m.keys().map(|k| Value::Str(k.clone())).collect(),
            ))
        }
        other => Err(invalid("keys", other, pos)),
    }
}

fn values(b: &mut Budget, args: &[Value], pos: usize) -> R {
    match arg(args, 0) {
        Value::Map(m, _) => {
            b.charge(m.len(), pos)?;
            Ok(Value::array(m.values().cloned().collect()))
        }
        other => Err(invalid("values", other, pos)),
    }
}

/// Characters of a string (not bytes), elements of an array, entries of a map.
fn len(_: &mut Budget, args: &[Value], pos: usize) -> R {
    match arg(args, 0) {
        Value::Str(s) => Ok(Value::Int(s.chars().count() as i64)),
        Value::Array(a, _) => Ok(Value::Int(a.len() as i64)),
        Value::Map(m, _) => Ok(Value::Int(m.len() as i64)),
        other => Err(invalid("len", other, pos)),
    }
}

/// Like `x[key]`, but nil instead of any error.
fn get(_: &mut Budget, args: &[Value], pos: usize) -> R {
    Ok(operators::fetch(arg(args, 0), arg(args, 1), pos).unwrap_or(Value::Nil))
}
