//! Conversion builtins: `type int float string toJSON fromJSON toBase64 fromBase64
//! toPairs fromPairs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{arg, array_arg, builtin, invalid, str_arg, Builtin};
use crate::error::Fault;
use crate::eval::Budget;
use crate::value::{Value, MAX_VALUE_DEPTH};

pub(crate) const BUILTINS: &[Builtin] = &[
    builtin("type", type_of, 1, 1),
    builtin("int", int, 1, 1),
    builtin("float", float, 1, 1),
    builtin("string", string, 1, 1),
    builtin("toJSON", to_json, 1, 1),
    builtin("fromJSON", from_json, 1, 1),
    builtin("toBase64", to_base64, 1, 1),
    builtin("fromBase64", from_base64, 1, 1),
    builtin("toPairs", to_pairs, 1, 1),
    builtin("fromPairs", from_pairs, 1, 1),
];

type R = Result<Value, Fault>;

fn type_of(_: &mut Budget, args: &[Value], _: usize) -> R {
    Ok(Value::str(arg(args, 0).type_name()))
}

fn int(_: &mut Budget, args: &[Value], pos: usize) -> R {
    match arg(args, 0) {
        Value::Int(i) => Ok(Value::Int(*i)),
        Value::Float(f) => Ok(Value::Int(*f as i64)),
        Value::Duration(d) => Ok(Value::Int(*d)),
        Value::Str(s) => s
            .trim_start_matches('+')
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| Fault::runtime(pos, format!("invalid operation: int({s:?})"))),
        other => Err(Fault::runtime(
            pos,
            format!("invalid operation: int({})", other.go_type()),
        )),
    }
}

fn float(_: &mut Budget, args: &[Value], pos: usize) -> R {
    match arg(args, 0) {
        Value::Int(i) => Ok(Value::Float(*i as f64)),
        Value::Float(f) => Ok(Value::Float(*f)),
        Value::Str(s) => s
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| Fault::runtime(pos, format!("invalid operation: float({s:?})"))),
        other => Err(Fault::runtime(
            pos,
            format!("invalid operation: float({})", other.go_type()),
        )),
    }
}

fn string(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = crate::gofmt::sprint(arg(args, 0));
    b.charge(s.len(), pos)?;
    Ok(Value::string(s))
}

fn to_json(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let s =
        crate::gojson::to_json_indent(arg(args, 0), "  ").map_err(|m| Fault::runtime(pos, m))?;
    b.charge(s.len(), pos)?;
    Ok(Value::string(s))
}

/// Go's `json.Unmarshal` into `any`: every number becomes a float64.
fn from_go_json(json: serde_json::Value, depth: u32) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Nil,
        J::Bool(b) => Value::Bool(b),
        J::Number(n) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        J::String(s) => Value::string(s),
        _ if depth >= MAX_VALUE_DEPTH => Value::Nil,
        J::Array(items) => Value::array(
            items
                .into_iter()
                .map(|v| from_go_json(v, depth + 1))
                .collect(),
        ),
        J::Object(entries) => Value::map(
            entries
                .into_iter()
                .map(|(k, v)| (Arc::from(k), from_go_json(v, depth + 1))),
        ),
    }
}

fn from_json(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = str_arg("fromJSON", args, 0, pos)?;
    b.charge(s.len(), pos)?;
    let json: serde_json::Value =
        serde_json::from_str(s).map_err(|e| Fault::runtime(pos, e.to_string()))?;
    Ok(from_go_json(json, 0))
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, as Go's `base64.StdEncoding`.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    // Go skips line breaks inside the input.
    let clean: Vec<(usize, u8)> = text
        .bytes()
        .enumerate()
        .filter(|(_, c)| *c != b'\n' && *c != b'\r')
        .collect();
    let illegal = |i: usize| format!("illegal base64 data at input byte {i}");
    if !clean.len().is_multiple_of(4) {
        return Err(illegal(clean.len() - clean.len() % 4));
    }
    let mut out = Vec::with_capacity(clean.len() / 4 * 3);
    for (q, quad) in clean.chunks(4).enumerate() {
        let last = q == clean.len() / 4 - 1;
        let mut n = 0u32;
        let mut padding = 0;
        for (j, &(i, c)) in quad.iter().enumerate() {
            let v = if c == b'=' {
                if !last || j < 2 || (padding == 0 && j == 2 && quad[3].1 != b'=') {
                    return Err(illegal(i));
                }
                padding += 1;
                0
            } else {
                if padding > 0 {
                    return Err(illegal(i));
                }
                ALPHABET
                    .iter()
                    .position(|&a| a == c)
                    .ok_or_else(|| illegal(i))? as u32
            };
            n = (n << 6) | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - padding]);
    }
    Ok(out)
}

fn to_base64(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = str_arg("toBase64", args, 0, pos)?;
    b.charge(s.len() * 4 / 3 + 4, pos)?;
    Ok(Value::string(base64_encode(s.as_bytes())))
}

fn from_base64(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let s = str_arg("fromBase64", args, 0, pos)?;
    b.charge(s.len(), pos)?;
    let bytes = base64_decode(s).map_err(|m| Fault::runtime(pos, m))?;
    Ok(Value::string(String::from_utf8_lossy(&bytes).into_owned()))
}

fn to_pairs(b: &mut Budget, args: &[Value], pos: usize) -> R {
    match arg(args, 0) {
        Value::Map(m, _) => {
            b.charge(m.len() * 3, pos)?;
            Ok(Value::array(
                m.iter()
                    .map(|(k, v)| Value::array(vec![Value::Str(k.clone()), v.clone()]))
                    .collect(),
            ))
        }
        other => Err(invalid("toPairs", other, pos)),
    }
}

fn from_pairs(b: &mut Budget, args: &[Value], pos: usize) -> R {
    let pairs = array_arg("fromPairs", args, 0, pos)?;
    b.charge(pairs.len(), pos)?;
    let mut out = BTreeMap::new();
    for pair in pairs {
        let items = match pair.as_array() {
            Some(items) if items.len() == 2 => items,
            _ => {
                return Err(Fault::runtime(
                    pos,
                    format!("invalid pair {}", crate::gofmt::sprint(pair)),
                ))
            }
        };
        let key: Arc<str> = match &items[0] {
            Value::Str(s) => s.clone(),
            other => Arc::from(crate::gofmt::sprint(other).as_str()),
        };
        out.insert(key, items[1].clone());
    }
    Ok(Value::map(out))
}
