//! Syntax tree → source text that parses back to the same tree.
//!
//! Every operator is parenthesised, so the text never depends on precedence; the one
//! subtle part is optional chains: `a?.b.c` extends a chain while `a?.b["c"]` does
//! not (as in Expr), so a member of a chain node is printed in index form.

use std::fmt::{self, Write};

use crate::ast::{Node, NodeKind, UnaryOp};
use crate::lexer::is_name_char;

/// A property the parser accepts after `.`: any word, keywords included (`a.in`).
fn is_dottable(name: &str) -> bool {
    name.chars().next().is_some_and(|c| !c.is_ascii_digit()) && name.chars().all(is_name_char)
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        print(self, &mut out);
        f.write_str(&out)
    }
}

fn print(node: &Node, out: &mut String) {
    match &node.kind {
        NodeKind::Nil => out.push_str("nil"),
        NodeKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        NodeKind::Int(i) => push_fmt(out, format_args!("{i}")),
        NodeKind::Float(x) => push_fmt(out, format_args!("{x:?}")),
        NodeKind::Str(s) => print_string(s, out),
        NodeKind::Ident(name) => out.push_str(name),
        NodeKind::Pointer(name) => {
            out.push('#');
            out.push_str(name);
        }
        NodeKind::Array(items) => {
            out.push('[');
            print_list(items, out);
            out.push(']');
        }
        NodeKind::Map(pairs) => {
            out.push('{');
            for (i, (key, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match &key.kind {
                    NodeKind::Str(s) => print_string(s, out),
                    _ => {
                        out.push('(');
                        print(key, out);
                        out.push(')');
                    }
                }
                out.push_str(": ");
                print(value, out);
            }
            out.push('}');
        }
        NodeKind::Unary { op, operand } => {
            out.push_str(match op {
                UnaryOp::Not => "(not ",
                UnaryOp::Neg => "(-",
                UnaryOp::Plus => "(+",
            });
            print(operand, out);
            out.push(')');
        }
        NodeKind::Binary { op, left, right } => {
            out.push('(');
            print(left, out);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            print(right, out);
            out.push(')');
        }
        NodeKind::Conditional {
            cond,
            then,
            otherwise,
        } => {
            out.push('(');
            print(cond, out);
            out.push_str(" ? ");
            print(then, out);
            out.push_str(" : ");
            print(otherwise, out);
            out.push(')');
        }
        NodeKind::Member {
            object,
            property,
            optional,
        } => {
            print_object(object, out);
            let dotted = match &property.kind {
                NodeKind::Str(name)
                    if is_dottable(name) && !matches!(object.kind, NodeKind::Chain(_)) =>
                {
                    Some(name)
                }
                _ => None,
            };
            if *optional {
                out.push_str("?.");
            }
            match dotted {
                Some(name) => {
                    if !*optional {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                None => {
                    out.push('[');
                    print(property, out);
                    out.push(']');
                }
            }
        }
        NodeKind::Slice { object, from, to } => {
            print_object(object, out);
            out.push('[');
            if let Some(from) = from {
                print(from, out);
            }
            out.push(':');
            if let Some(to) = to {
                print(to, out);
            }
            out.push(']');
        }
        NodeKind::Call { name, args } => {
            out.push_str(name);
            out.push('(');
            print_list(args, out);
            out.push(')');
        }
        NodeKind::MethodCall {
            object,
            name,
            args,
            optional,
        } => {
            print_object(object, out);
            out.push_str(if *optional { "?." } else { "." });
            out.push_str(name);
            out.push('(');
            print_list(args, out);
            out.push(')');
        }
        NodeKind::Predicate(body) => {
            out.push_str("{ ");
            print(body, out);
            out.push_str(" }");
        }
        NodeKind::Chain(inner) => print(inner, out),
        NodeKind::Let { name, value, body } => {
            out.push_str("(let ");
            out.push_str(name);
            out.push_str(" = ");
            print(value, out);
            out.push_str("; ");
            print(body, out);
            out.push(')');
        }
        NodeKind::Sequence(nodes) => {
            out.push('(');
            for (i, n) in nodes.iter().enumerate() {
                if i > 0 {
                    out.push_str("; ");
                }
                print(n, out);
            }
            out.push(')');
        }
    }
}

/// The object of a member, slice or method: atoms print bare, anything else in
/// parentheses (a number followed by `.` would lex as a float).
fn print_object(object: &Node, out: &mut String) {
    let bare = matches!(
        object.kind,
        NodeKind::Ident(_)
            | NodeKind::Pointer(_)
            | NodeKind::Member { .. }
            | NodeKind::Slice { .. }
            | NodeKind::Call { .. }
            | NodeKind::MethodCall { .. }
            | NodeKind::Chain(_)
            | NodeKind::Str(_)
            | NodeKind::Array(_)
            | NodeKind::Nil
            | NodeKind::Bool(_)
    );
    if bare {
        print(object, out);
    } else {
        out.push('(');
        print(object, out);
        out.push(')');
    }
}

fn print_list(items: &[Node], out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        print(item, out);
    }
}

fn print_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => push_fmt(out, format_args!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_fmt(out: &mut String, args: fmt::Arguments<'_>) {
    // Writing into a String cannot fail.
    let _ = out.write_fmt(args);
}
