//! JSON exactly as Go's `encoding/json` writes it, because `keybridge expr` and
//! `toJSON()` must print what JumpCloud's Go code prints: map keys sorted, whole floats
//! without a fraction (`2`), Go's exponent form (`1e+21`), `<`, `>` and `&` escaped as
//! `\u003c`…, NaN and infinities refused.

use crate::gofmt::format_json_float;
use crate::value::Value;

/// `json.Marshal(v)`.
pub fn to_json(v: &Value) -> Result<String, String> {
    let mut out = String::new();
    write(v, &mut out, None, 0)?;
    Ok(out)
}

/// `json.MarshalIndent(v, "", indent)`.
pub fn to_json_indent(v: &Value, indent: &str) -> Result<String, String> {
    let mut out = String::new();
    write(v, &mut out, Some(indent), 0)?;
    Ok(out)
}

fn newline(out: &mut String, indent: Option<&str>, level: usize) {
    if let Some(unit) = indent {
        out.push('\n');
        for _ in 0..level {
            out.push_str(unit);
        }
    }
}

fn write(v: &Value, out: &mut String, indent: Option<&str>, level: usize) -> Result<(), String> {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(format!(
                    "json: unsupported value: {}",
                    crate::gofmt::format_g(*f)
                ));
            }
            out.push_str(&format_json_float(*f));
        }
        Value::Str(s) => write_string(s, out),
        Value::Array(a, _) => {
            if a.items().is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in a.items().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write(item, out, indent, level + 1)?;
            }
            newline(out, indent, level);
            out.push(']');
        }
        Value::Map(m, _) => {
            if m.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write_string(k, out);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write(item, out, indent, level + 1)?;
            }
            newline(out, indent, level);
            out.push('}');
        }
        Value::Time(t) => write_string(&t.rfc3339_nano(), out),
        Value::Duration(d) => out.push_str(&d.to_string()),
        // A *time.Location has no exported fields.
        Value::Location(_) => out.push_str("{}"),
    }
    Ok(())
}

/// A JSON string with Go's escaping, HTML-safe characters included.
pub fn write_string(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 0xf] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
