//! String builtins, with Go's `strings` semantics. Indexes count characters (Go counts
//! bytes; the two agree on ASCII), in line with `len` counting characters.

use super::{builtin, int_arg, str_arg, Builtin};
use crate::error::Fault;
use crate::eval::Budget;
use crate::value::Value;

pub(crate) const BUILTINS: &[Builtin] = &[
    builtin("trim", trim, 1, 2),
    builtin("trimPrefix", trim_prefix, 1, 2),
    builtin("trimSuffix", trim_suffix, 1, 2),
    builtin("upper", upper, 1, 1),
    builtin("lower", lower, 1, 1),
    builtin("split", split, 2, 3),
    builtin("splitAfter", split_after, 2, 3),
    builtin("replace", replace, 3, 3),
    builtin("repeat", repeat, 2, 2),
    builtin("indexOf", index_of, 2, 2),
    builtin("lastIndexOf", last_index_of, 2, 2),
    builtin("hasPrefix", has_prefix, 2, 2),
    builtin("hasSuffix", has_suffix, 2, 2),
];

type R = Result<Value, Fault>;

fn trim(_: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = str_arg("trim", args, 0, pos)?;
    if args.len() == 2 {
        let cutset = str_arg("trim", args, 1, pos)?;
        return Ok(Value::str(s.trim_matches(|c| cutset.contains(c))));
    }
    Ok(Value::str(s.trim()))
}

fn trim_prefix(_: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = str_arg("trimPrefix", args, 0, pos)?;
    let prefix = if args.len() == 2 {
        str_arg("trimPrefix", args, 1, pos)?
    } else {
        " "
    };
    Ok(Value::str(s.strip_prefix(prefix).unwrap_or(s)))
}

fn trim_suffix(_: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = str_arg("trimSuffix", args, 0, pos)?;
    let suffix = if args.len() == 2 {
        str_arg("trimSuffix", args, 1, pos)?
    } else {
        " "
    };
    Ok(Value::str(s.strip_suffix(suffix).unwrap_or(s)))
}

fn upper(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = str_arg("upper", args, 0, pos)?;
    b.charge(s.len(), pos)?;
    Ok(Value::string(s.to_uppercase()))
}

fn lower(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = str_arg("lower", args, 0, pos)?;
    b.charge(s.len(), pos)?;
    Ok(Value::string(s.to_lowercase()))
}

/// Go's `strings.SplitN`/`SplitAfterN`: `n < 0` all parts, `n == 0` none, `n > 0` at
/// most `n` parts; an empty separator splits into characters.
fn split_n(s: &str, sep: &str, n: i64, keep_sep: bool) -> Vec<Value> {
    if n == 0 {
        return Vec::new();
    }
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let mut parts = Vec::new();
    if sep.is_empty() {
        let mut rest = s;
        while !rest.is_empty() {
            if parts.len() + 1 == limit {
                parts.push(Value::str(rest));
                return parts;
            }
            let len = rest.chars().next().map_or(1, char::len_utf8);
            parts.push(Value::str(&rest[..len]));
            rest = &rest[len..];
        }
        return parts;
    }
    let mut rest = s;
    while parts.len() + 1 < limit {
        let Some(i) = rest.find(sep) else {
            break;
        };
        let end = if keep_sep { i + sep.len() } else { i };
        parts.push(Value::str(&rest[..end]));
        rest = &rest[i + sep.len()..];
    }
    parts.push(Value::str(rest));
    parts
}

fn split_common(name: &str, b: &mut Budget, args: &[Value], pos: usize, keep_sep: bool) -> R {
    let s = str_arg(name, args, 0, pos)?;
    let sep = str_arg(name, args, 1, pos)?;
    let n = if args.len() == 3 {
        int_arg(name, args, 2, pos)?
    } else {
        -1
    };
    b.charge(s.len(), pos)?;
    Ok(Value::array(split_n(s, sep, n, keep_sep)))
}

fn split(b: &mut Budget, args: &[Value], pos: usize) -> R {
    split_common("split", b, args, pos, false)
}

fn split_after(b: &mut Budget, args: &[Value], pos: usize) -> R {
    split_common("splitAfter", b, args, pos, true)
}

fn replace(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = str_arg("replace", args, 0, pos)?;
    let old = str_arg("replace", args, 1, pos)?;
    let new = str_arg("replace", args, 2, pos)?;
    // Worst case: `new` inserted at every character boundary.
    let matches = if old.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(old).count()
    };
    b.charge(s.len() + matches.saturating_mul(new.len()), pos)?;
    Ok(Value::string(s.replace(old, new)))
}

fn repeat(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = str_arg("repeat", args, 0, pos)?;
    let n = int_arg("repeat", args, 1, pos)?;
    if n < 0 {
        return Err(Fault::runtime(
            pos,
            format!("invalid argument for repeat (expected positive integer, got {n})"),
        ));
    }
    // Expr refuses more than a million repetitions outright.
    if n > 1_000_000 {
        return Err(Fault::limit(pos, "memory budget exceeded"));
    }
    b.charge(s.len().saturating_mul(n as usize), pos)?;
    Ok(Value::string(s.repeat(n as usize)))
}

fn char_index(s: &str, byte_index: Option<usize>) -> Value {
    Value::Int(byte_index.map_or(-1, |i| s[..i].chars().count() as i64))
}

fn index_of(_: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = str_arg("indexOf", args, 0, pos)?;
    let sub = str_arg("indexOf", args, 1, pos)?;
    Ok(char_index(s, s.find(sub)))
}

fn last_index_of(_: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = str_arg("lastIndexOf", args, 0, pos)?;
    let sub = str_arg("lastIndexOf", args, 1, pos)?;
    Ok(char_index(s, s.rfind(sub)))
}

fn has_prefix(_: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = str_arg("hasPrefix", args, 0, pos)?;
    Ok(Value::Bool(s.starts_with(str_arg(
        "hasPrefix",
        args,
        1,
        pos,
    )?)))
}

fn has_suffix(_: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = str_arg("hasSuffix", args, 0, pos)?;
    Ok(Value::Bool(s.ends_with(str_arg(
        "hasSuffix",
        args,
        1,
        pos,
    )?)))
}
