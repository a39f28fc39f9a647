//! Operands: unary operators, parentheses, pointers, names and calls, literals.

use super::{Parsed, Parser};
use crate::ast::{Node, NodeKind, UnaryOp};
use crate::error::ExprError;
use crate::lexer::{Token, TokenKind};

impl<'a> Parser<'a> {
    pub(super) fn parse_primary(&mut self) -> Parsed {
        self.enter()?;
        let result = self.parse_primary_inner();
        self.nesting -= 1;
        result
    }

    fn parse_primary_inner(&mut self) -> Parsed {
        let token = self.current().clone();
        if token.kind == TokenKind::Operator {
            let unary = match token.value.as_str() {
                "not" | "!" => Some((UnaryOp::Not, 50)),
                "-" => Some((UnaryOp::Neg, 90)),
                "+" => Some((UnaryOp::Plus, 90)),
                _ => None,
            };
            if let Some((op, prec)) = unary {
                self.next();
                let operand = self.parse_expression(prec)?;
                let node = Node::new(
                    NodeKind::Unary {
                        op,
                        operand: Box::new(operand),
                    },
                    token.span,
                );
                return self.parse_postfix(node);
            }
        }
        if token.is_bracket("(") {
            self.next();
            let inner = self.parse_sequence()?;
            self.expect(TokenKind::Bracket, ")")?;
            return self.parse_postfix(inner);
        }
        if self.predicate_depth > 0 && (token.is_op("#") || token.is_op(".")) {
            let mut name = String::new();
            if token.is_op("#") {
                self.next();
                if self.current().kind == TokenKind::Identifier {
                    name = self.current().value.clone();
                    self.next();
                }
            }
            return self.parse_postfix(Node::new(NodeKind::Pointer(name), token.span));
        }
        self.parse_secondary()
    }

    fn parse_secondary(&mut self) -> Parsed {
        let token = self.current().clone();
        let node = match token.kind {
            TokenKind::Identifier => {
                self.next();
                match token.value.as_str() {
                    "true" => Node::new(NodeKind::Bool(true), token.span),
                    "false" => Node::new(NodeKind::Bool(false), token.span),
                    "nil" => Node::new(NodeKind::Nil, token.span),
                    _ if self.current().is_bracket("(") => self.parse_call(token, Vec::new())?,
                    _ => Node::new(NodeKind::Ident(token.value), token.span),
                }
            }
            TokenKind::Number => {
                self.next();
                Node::new(self.number_literal(&token)?, token.span)
            }
            TokenKind::String => {
                self.next();
                Node::new(NodeKind::Str(token.value), token.span)
            }
            TokenKind::Bracket if token.value == "[" => self.parse_array()?,
            TokenKind::Bracket if token.value == "{" => self.parse_map()?,
            _ => return Err(self.unexpected()),
        };
        self.parse_postfix(node)
    }

    fn number_literal(&self, token: &Token) -> Result<NodeKind, ExprError> {
        let text = token.value.replace('_', "");
        let lower = text.to_ascii_lowercase();
        let int = |digits: &str, radix: u32, what: &str| {
            i64::from_str_radix(digits, radix)
                .map(NodeKind::Int)
                .map_err(|_| self.error_at(token.span, format!("invalid {what} literal: {text}")))
        };
        if let Some(hex) = lower.strip_prefix("0x") {
            int(hex, 16, "hex")
        } else if lower.contains('.') || lower.contains('e') {
            match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(NodeKind::Float(f)),
                _ => Err(self.error_at(token.span, format!("invalid float literal: {text}"))),
            }
        } else if let Some(bin) = lower.strip_prefix("0b") {
            int(bin, 2, "binary")
        } else if let Some(oct) = lower.strip_prefix("0o") {
            int(oct, 8, "octal")
        } else {
            int(&text, 10, "integer")
        }
    }

    fn parse_array(&mut self) -> Parsed {
        let span = self.current().span;
        self.expect(TokenKind::Bracket, "[")?;
        let mut items = Vec::new();
        while !self.current().is_bracket("]") {
            if !items.is_empty() {
                self.expect(TokenKind::Operator, ",")?;
                if self.current().is_bracket("]") {
                    break;
                }
            }
            items.push(self.parse_expression(0)?);
        }
        self.expect(TokenKind::Bracket, "]")?;
        Ok(Node::new(NodeKind::Array(items), span))
    }

    fn parse_map(&mut self) -> Parsed {
        let span = self.current().span;
        self.expect(TokenKind::Bracket, "{")?;
        let mut pairs = Vec::new();
        while !self.current().is_bracket("}") {
            if !pairs.is_empty() {
                self.expect(TokenKind::Operator, ",")?;
                if self.current().is_bracket("}") {
                    break;
                }
                if self.current().is_op(",") {
                    return Err(self.unexpected());
                }
            }
            let token = self.current().clone();
            let key = match token.kind {
                TokenKind::Number | TokenKind::String | TokenKind::Identifier => {
                    self.next();
                    Node::new(NodeKind::Str(token.value), token.span)
                }
                TokenKind::Bracket if token.value == "(" => self.parse_expression(0)?,
                _ => {
                    return Err(self.error_at(
                        token.span,
                        format!("a map key must be a quoted string, a number, a identifier, or an expression enclosed in parentheses (unexpected token {token})"),
                    ))
                }
            };
            self.expect(TokenKind::Operator, ":")?;
            let value = self.parse_expression(0)?;
            pairs.push((key, value));
        }
        self.expect(TokenKind::Bracket, "}")?;
        Ok(Node::new(NodeKind::Map(pairs), span))
    }
}
