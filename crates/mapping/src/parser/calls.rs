//! Calls: arguments, the predicate arguments of `filter`, `map`…, and pipes.

use super::{Parsed, Parser};
use crate::ast::{Node, NodeKind};
use crate::error::ExprError;
use crate::lexer::{Token, TokenKind};

/// The argument shapes of the builtins that take predicates.
#[derive(Clone, Copy, PartialEq)]
enum Arg {
    Expr,
    Predicate,
    OptionalPredicate,
    OptionalExpr,
}

fn predicate_signature(name: &str) -> Option<&'static [Arg]> {
    use Arg::*;
    Some(match name {
        "all" | "none" | "any" | "one" | "filter" | "map" | "find" | "findIndex" | "findLast"
        | "findLastIndex" | "groupBy" => &[Expr, Predicate],
        "count" | "sum" => &[Expr, OptionalPredicate],
        "sortBy" | "reduce" => &[Expr, Predicate, OptionalExpr],
        _ => return None,
    })
}

impl<'a> Parser<'a> {
    /// A call by name. `piped` holds the left side of a pipe, which becomes the first
    /// argument.
    pub(super) fn parse_call(&mut self, name: Token, piped: Vec<Node>) -> Parsed {
        let args = match predicate_signature(&name.value) {
            Some(signature) => self.parse_predicate_arguments(signature, piped)?,
            None => self.parse_arguments(piped)?,
        };
        Ok(Node::new(
            NodeKind::Call {
                name: name.value,
                args,
            },
            name.span,
        ))
    }

    fn parse_predicate_arguments(
        &mut self,
        signature: &[Arg],
        mut args: Vec<Node>,
    ) -> Result<Vec<Node>, ExprError> {
        self.expect(TokenKind::Bracket, "(")?;
        let remaining = signature.get(args.len()..).unwrap_or(&[]);
        for (i, arg) in remaining.iter().enumerate() {
            let optional = matches!(arg, Arg::OptionalPredicate | Arg::OptionalExpr);
            if self.current().is_bracket(")") {
                if optional {
                    break;
                }
                let required = remaining
                    .iter()
                    .filter(|a| matches!(a, Arg::Expr | Arg::Predicate))
                    .count();
                return Err(self.error_at(
                    self.current().span,
                    format!("expected at least {required} arguments"),
                ));
            }
            if i > 0 {
                self.expect(TokenKind::Operator, ",")?;
            }
            let node = match arg {
                Arg::Expr | Arg::OptionalExpr => self.parse_expression(0)?,
                Arg::Predicate | Arg::OptionalPredicate => self.parse_predicate()?,
            };
            args.push(node);
        }
        if self.current().is_op(",") {
            self.next();
        }
        self.expect(TokenKind::Bracket, ")")?;
        Ok(args)
    }

    pub(super) fn parse_arguments(&mut self, mut args: Vec<Node>) -> Result<Vec<Node>, ExprError> {
        let offset = args.len();
        self.expect(TokenKind::Bracket, "(")?;
        while !self.current().is_bracket(")") {
            if args.len() > offset {
                self.expect(TokenKind::Operator, ",")?;
            }
            if self.current().is_bracket(")") {
                break;
            }
            args.push(self.parse_expression(0)?);
        }
        self.expect(TokenKind::Bracket, ")")?;
        Ok(args)
    }

    fn parse_predicate(&mut self) -> Parsed {
        let start = self.current().span;
        let braces = self.current().is_bracket("{");
        if braces {
            self.next();
        }
        self.predicate_depth += 1;
        let body = if braces {
            self.parse_sequence()
        } else {
            self.parse_expression(0)
        };
        self.predicate_depth -= 1;
        let body = body?;
        if braces {
            self.expect(TokenKind::Bracket, "}")?;
        } else if self.current().is_op(";") {
            return Err(self.error_at(self.current().span, "wrap predicate with brackets { and }"));
        }
        Ok(Node::new(NodeKind::Predicate(Box::new(body)), start))
    }
}
