//! Postfix operations: `.name`, `?.name`, `.method(…)`, `[index]`, `[from:to]`.

use super::{Parsed, Parser};
use crate::ast::{Node, NodeKind};
use crate::lexer::TokenKind;

impl<'a> Parser<'a> {
    pub(super) fn parse_postfix(&mut self, mut node: Node) -> Parsed {
        let nesting_before = self.nesting;
        let result = loop {
            let token = self.current().clone();
            let optional = token.is_op("?.");
            if optional
                && self
                    .tokens
                    .get(self.pos + 1)
                    .is_some_and(|t| t.is_bracket("["))
            {
                self.next();
                node = self.parse_index(node, true)?;
            } else if token.is_op(".") || optional {
                self.next();
                node = self.parse_member(node, optional)?;
            } else if token.is_bracket("[") {
                node = self.parse_index(node, false)?;
            } else {
                break Ok(node);
            }
            // Like binary operators, every postfix step deepens the tree.
            self.enter()?;
        };
        self.nesting = nesting_before;
        result
    }

    /// `.name` or `?.name`, possibly a method call. A member of a chain extends the
    /// chain (Expr unwraps and rewraps it), so `a?.b.c` is nil when `a` is nil.
    fn parse_member(&mut self, node: Node, optional: bool) -> Parsed {
        let name = self.current().clone();
        let valid = name.kind == TokenKind::Identifier
            || (name.kind == TokenKind::Operator
                && name.value.chars().all(crate::lexer::is_name_char)
                && !name.value.is_empty());
        if !valid {
            return Err(self.error_at(name.span, "expected name"));
        }
        self.next();
        let (object, in_chain) = match node.kind {
            NodeKind::Chain(inner) => (*inner, true),
            kind => (Node::new(kind, node.span), false),
        };
        let member = if self.current().is_bracket("(") {
            let args = self.parse_arguments(Vec::new())?;
            NodeKind::MethodCall {
                object: Box::new(object),
                name: name.value.clone(),
                args,
                optional,
            }
        } else {
            NodeKind::Member {
                object: Box::new(object),
                property: Box::new(Node::new(NodeKind::Str(name.value.clone()), name.span)),
                optional,
            }
        };
        let member = Node::new(member, name.span);
        if in_chain || optional {
            return Ok(Node::new(NodeKind::Chain(Box::new(member)), name.span));
        }
        Ok(member)
    }

    /// `[i]`, `[a:b]`, `[:b]`, `[a:]`, `[:]`, or `?.[i]` when `optional`.
    fn parse_index(&mut self, node: Node, optional: bool) -> Parsed {
        let span = self.current().span;
        self.expect(TokenKind::Bracket, "[")?;
        if self.current().is_op(":") {
            self.next();
            let to = if self.current().is_bracket("]") {
                None
            } else {
                Some(Box::new(self.parse_expression(0)?))
            };
            self.expect(TokenKind::Bracket, "]")?;
            let kind = NodeKind::Slice {
                object: Box::new(node),
                from: None,
                to,
            };
            return Ok(Node::new(kind, span));
        }
        let from = self.parse_expression(0)?;
        if self.current().is_op(":") {
            self.next();
            let to = if self.current().is_bracket("]") {
                None
            } else {
                Some(Box::new(self.parse_expression(0)?))
            };
            self.expect(TokenKind::Bracket, "]")?;
            let kind = NodeKind::Slice {
                object: Box::new(node),
                from: Some(Box::new(from)),
                to,
            };
            return Ok(Node::new(kind, span));
        }
        self.expect(TokenKind::Bracket, "]")?;
        let member = Node::new(
            NodeKind::Member {
                object: Box::new(node),
                property: Box::new(from),
                optional,
            },
            span,
        );
        if optional {
            return Ok(Node::new(NodeKind::Chain(Box::new(member)), span));
        }
        Ok(member)
    }
}
