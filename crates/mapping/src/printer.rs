//! Syntax tree → source text that parses back to the same tree.
//!
//! Parentheses are printed only where the parser needs them (precedence,
//! associativity, Expr's rules for chained comparisons and for `??`), and each construct
//! takes its shallowest form — `a not in b` rather than `not (a in b)`, a pipe for a
//! call of a call, an `if … else if …` chain rather than nested ternaries — because every
//! parenthesis and every call counts toward the parser's nesting limit: text printed
//! from a tree the parser accepted must not nest deeper than the limit. Optional chains
//! are the other subtle part: `a?.b.c` extends a chain while `a?.b["c"]` does not (as
//! in Expr), so a member of a chain node is printed in index form.

use std::fmt::{self, Write};

use crate::ast::{BinaryOp, Node, NodeKind, UnaryOp};
use crate::lexer::is_name_char;

/// A property the parser accepts after `.`: any word, keywords included (`a.in`).
fn is_dottable(name: &str) -> bool {
    name.chars().next().is_some_and(|c| !c.is_ascii_digit()) && name.chars().all(is_name_char)
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        print(self, &mut out, Ctx::ANY);
        f.write_str(&out)
    }
}

// How tightly a printed form binds, on the parser's precedence scale (`|` 0 … `??`
// 500), below it the forms only allowed where a whole expression is.
const SEQUENCE: i32 = -30;
const LET: i32 = -20;
const TERNARY: i32 = -10;
const PIPE: i32 = 0;
const COMPARISON: i32 = 20;
const ATOM: i32 = 1000;

/// Where a node is printed: the loosest form the place accepts, and the binding power
/// of the binary operator printed right after it, if any (a prefix operator's operand
/// would swallow an operator that binds at least as tightly as the prefix).
#[derive(Clone, Copy)]
struct Ctx {
    min: i32,
    follow: Option<i32>,
}

impl Ctx {
    /// A whole program, or inside parentheses or braces.
    const ANY: Ctx = Ctx {
        min: SEQUENCE,
        follow: None,
    };
    /// An argument, array item, map value or index: one expression, `let` included.
    const ITEM: Ctx = Ctx {
        min: LET,
        follow: None,
    };

    fn at_least(min: i32) -> Ctx {
        Ctx { min, follow: None }
    }
}

fn precedence(op: BinaryOp) -> i32 {
    use BinaryOp::*;
    match op {
        Or => 10,
        And => 15,
        Eq | Ne | Lt | Gt | Le | Ge | In | Matches | Contains | StartsWith | EndsWith => 20,
        Range => 25,
        Add | Sub => 30,
        Mul | Div | Mod => 60,
        Pow => 100,
        Coalesce => 500,
    }
}

fn is_chaining(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Lt | BinaryOp::Gt | BinaryOp::Le | BinaryOp::Ge
    )
}

/// The operators `not` can negate in place: `a not in b`.
fn is_negatable(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::In
            | BinaryOp::Matches
            | BinaryOp::Contains
            | BinaryOp::StartsWith
            | BinaryOp::EndsWith
    )
}

fn unary_precedence(op: UnaryOp) -> i32 {
    match op {
        UnaryOp::Not => 50,
        UnaryOp::Neg | UnaryOp::Plus => 90,
    }
}

/// `not (a in b)` as the parser reads `a not in b`.
fn negated(node: &Node) -> Option<(BinaryOp, &Node, &Node)> {
    match &node.kind {
        NodeKind::Unary {
            op: UnaryOp::Not,
            operand,
        } => match &operand.kind {
            NodeKind::Binary { op, left, right } if is_negatable(*op) => {
                Some((*op, &**left, &**right))
            }
            _ => None,
        },
        _ => None,
    }
}

/// A call whose first argument is a call prints as a pipe, `x | f() | g(y)`: one level
/// per call instead of two.
fn pipes(node: &Node) -> bool {
    matches!(&node.kind, NodeKind::Call { args, .. }
        if args.first().is_some_and(|a| matches!(a.kind, NodeKind::Call { .. })))
}

/// `a < b and b < c` as the parser reads `a < b < c` (the middle operand repeated):
/// the first operand and each comparison after it. Printing the chain again costs one
/// nesting level per comparison instead of three.
fn comparison_chain(node: &Node) -> Option<(&Node, Vec<(BinaryOp, &Node)>)> {
    match &node.kind {
        NodeKind::Binary { op, left, right } if is_chaining(*op) => {
            Some((&**left, vec![(*op, &**right)]))
        }
        NodeKind::Binary {
            op: BinaryOp::And,
            left,
            right,
        } => {
            let NodeKind::Binary {
                op,
                left: middle,
                right: last,
            } = &right.kind
            else {
                return None;
            };
            if !is_chaining(*op) {
                return None;
            }
            let (first, mut rest) = comparison_chain(left)?;
            let (_, previous) = rest.last()?;
            if !previous.same_shape(middle) {
                return None;
            }
            rest.push((*op, &**last));
            Some((first, rest))
        }
        _ => None,
    }
}

/// How loosely `node` binds as it would print in `ctx` without parentheses.
fn binding(node: &Node, ctx: Ctx) -> i32 {
    match &node.kind {
        NodeKind::Sequence(_) => SEQUENCE,
        NodeKind::Let { .. } => LET,
        NodeKind::Conditional { .. } => TERNARY,
        NodeKind::Binary {
            op: BinaryOp::And, ..
        } if comparison_chain(node).is_some() => COMPARISON,
        NodeKind::Binary { op, .. } => precedence(*op),
        NodeKind::Unary { .. } if negated(node).is_some() => COMPARISON,
        NodeKind::Unary { op, .. } => {
            if ctx.follow.is_some_and(|f| f >= unary_precedence(*op)) {
                // It would take the following operator into its operand.
                i32::MIN
            } else {
                ATOM
            }
        }
        NodeKind::Call { .. } if pipes(node) && ctx.min <= PIPE => PIPE,
        _ => ATOM,
    }
}

fn print(node: &Node, out: &mut String, ctx: Ctx) {
    if binding(node, ctx) < ctx.min {
        out.push('(');
        print_bare(node, out, Ctx::ANY);
        out.push(')');
    } else {
        print_bare(node, out, ctx);
    }
}

/// Prints a binary operator's operands around `symbol`.
fn print_binary(op: BinaryOp, symbol: &str, left: &Node, right: &Node, out: &mut String, ctx: Ctx) {
    let q = precedence(op);
    let right_assoc = op == BinaryOp::Pow;
    let left_ctx = Ctx {
        min: if right_assoc { q + 1 } else { q },
        follow: Some(q),
    };
    // `a < b < c` would read as a chain; `a ?? b + c` is refused.
    let force = match &left.kind {
        NodeKind::Binary { op: inner, .. } => {
            (is_chaining(op) && is_chaining(*inner))
                || (*inner == BinaryOp::Coalesce && op != BinaryOp::Coalesce)
        }
        _ => false,
    };
    if force {
        out.push('(');
        print_bare(left, out, Ctx::ANY);
        out.push(')');
    } else {
        print(left, out, left_ctx);
    }
    out.push(' ');
    out.push_str(symbol);
    out.push(' ');
    let right_ctx = Ctx {
        min: if right_assoc { q } else { q + 1 },
        follow: ctx.follow,
    };
    print(right, out, right_ctx);
}

fn print_bare(node: &Node, out: &mut String, ctx: Ctx) {
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
                        print(key, out, Ctx::ANY);
                        out.push(')');
                    }
                }
                out.push_str(": ");
                print(value, out, Ctx::ITEM);
            }
            out.push('}');
        }
        NodeKind::Unary { op, operand } => {
            if let Some((op, left, right)) = negated(node) {
                let symbol = format!("not {}", op.symbol());
                print_binary(op, &symbol, left, right, out, ctx);
                return;
            }
            let sign = match op {
                UnaryOp::Not => "not ",
                UnaryOp::Neg => "-",
                UnaryOp::Plus => "+",
            };
            out.push_str(sign);
            let at = out.len();
            print(
                operand,
                out,
                Ctx {
                    min: unary_precedence(*op),
                    follow: ctx.follow,
                },
            );
            // `- -x`, not `--x`.
            if sign != "not " && out[at..].starts_with(['-', '+']) {
                out.insert(at, ' ');
            }
        }
        NodeKind::Binary { op, left, right } => match comparison_chain(node) {
            Some((first, rest)) if *op == BinaryOp::And => print_chain(first, &rest, out, ctx),
            _ => print_binary(*op, op.symbol(), left, right, out, ctx),
        },
        NodeKind::Conditional {
            cond,
            then,
            otherwise,
        } => {
            let chain = matches!(otherwise.kind, NodeKind::Conditional { .. });
            if chain && ctx.min <= LET {
                print_if(node, out);
            } else {
                print(cond, out, Ctx::at_least(PIPE));
                out.push_str(" ? ");
                print(then, out, Ctx::at_least(TERNARY));
                out.push_str(" : ");
                print(otherwise, out, Ctx::at_least(TERNARY));
            }
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
                    print(property, out, Ctx::ITEM);
                    out.push(']');
                }
            }
        }
        NodeKind::Slice { object, from, to } => {
            print_object(object, out);
            out.push('[');
            if let Some(from) = from {
                print(from, out, Ctx::ITEM);
            }
            out.push(':');
            if let Some(to) = to {
                print(to, out, Ctx::ITEM);
            }
            out.push(']');
        }
        NodeKind::Call { name, args } => {
            let rest = match args.split_first() {
                Some((first, rest)) if binding(node, ctx) == PIPE => {
                    print(
                        first,
                        out,
                        Ctx {
                            min: PIPE,
                            follow: Some(PIPE),
                        },
                    );
                    out.push_str(" | ");
                    rest
                }
                _ => &args[..],
            };
            out.push_str(name);
            out.push('(');
            print_list(rest, out);
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
            print(body, out, Ctx::ANY);
            out.push_str(" }");
        }
        NodeKind::Chain(inner) => print(inner, out, ctx),
        NodeKind::Let { name, value, body } => {
            out.push_str("let ");
            out.push_str(name);
            out.push_str(" = ");
            print(value, out, Ctx::at_least(TERNARY));
            out.push_str("; ");
            print(body, out, Ctx::ANY);
        }
        NodeKind::Sequence(nodes) => {
            for (i, n) in nodes.iter().enumerate() {
                if i > 0 {
                    out.push_str("; ");
                }
                // A `let` before a `;` would take what follows as its body.
                let min = if i + 1 == nodes.len() { LET } else { TERNARY };
                print(n, out, Ctx::at_least(min));
            }
        }
    }
}

/// `a < b < c`.
fn print_chain(first: &Node, rest: &[(BinaryOp, &Node)], out: &mut String, ctx: Ctx) {
    let Some(((op, second), more)) = rest.split_first() else {
        return;
    };
    let follow = if more.is_empty() {
        ctx.follow
    } else {
        Some(COMPARISON)
    };
    print_binary(*op, op.symbol(), first, second, out, Ctx { follow, ..ctx });
    for (i, (op, operand)) in more.iter().enumerate() {
        out.push(' ');
        out.push_str(op.symbol());
        out.push(' ');
        let follow = if i + 1 == more.len() {
            ctx.follow
        } else {
            Some(COMPARISON)
        };
        print(
            operand,
            out,
            Ctx {
                min: COMPARISON + 1,
                follow,
            },
        );
    }
}

/// A chain of conditionals as `if c { a } else if d { b } else { e }`: one nesting
/// level per branch, where nested ternaries take two.
fn print_if(node: &Node, out: &mut String) {
    let mut current = node;
    loop {
        match &current.kind {
            NodeKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                out.push_str("if ");
                print(cond, out, Ctx::at_least(TERNARY));
                out.push_str(" { ");
                print(then, out, Ctx::ANY);
                out.push_str(" } else ");
                current = otherwise;
            }
            _ => {
                out.push_str("{ ");
                print(current, out, Ctx::ANY);
                out.push_str(" }");
                return;
            }
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
        print(object, out, Ctx::at_least(ATOM));
    } else {
        out.push('(');
        print(object, out, Ctx::ANY);
        out.push(')');
    }
}

fn print_list(items: &[Node], out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        print(item, out, Ctx::ITEM);
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
