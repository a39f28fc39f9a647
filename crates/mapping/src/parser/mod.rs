//! Tokens → syntax tree: a Pratt parser with Expr's precedence table, its chained
//! comparisons, its `??` mixing rule and its predicate arguments.
//!
//! Precedence, loosest first: `|` 0 · `or ||` 10 · `and &&` 15 · comparisons 20 ·
//! `..` 25 · `+ -` 30 · unary `not !` 50 · `* / %` 60 · unary `- +` 90 ·
//! `** ^` 100 (right) · `??` 500. The ternary sits outside the table.

use crate::ast::{BinaryOp, Node, NodeKind, UnaryOp};
use crate::error::{ErrorKind, ExprError, Span};
use crate::lexer::{tokenize, Token, TokenKind, NEGATABLE};

mod calls;
mod operand;
mod postfix;

/// How deeply expressions may nest; deeper input is refused rather than risking the
/// stack.
pub const MAX_NESTING: usize = 200;

/// Parses a whole program.
pub fn parse(source: &str) -> Result<Node, ExprError> {
    let tokens = tokenize(source)?;
    let mut parser = Parser {
        src: source,
        tokens,
        pos: 0,
        predicate_depth: 0,
        nesting: 0,
    };
    let node = parser.parse_sequence()?;
    if parser.current().kind != TokenKind::Eof {
        return Err(parser.unexpected());
    }
    Ok(node)
}

/// Binding power and right-associativity of binary operators.
fn binary_info(op: &str) -> Option<(u32, bool)> {
    Some(match op {
        "|" => (0, false),
        "or" | "||" => (10, false),
        "and" | "&&" => (15, false),
        "==" | "!=" | "<" | ">" | ">=" | "<=" | "in" | "matches" | "contains" | "startsWith"
        | "endsWith" => (20, false),
        ".." => (25, false),
        "+" | "-" => (30, false),
        "*" | "/" | "%" => (60, false),
        "**" | "^" => (100, true),
        "??" => (500, false),
        _ => return None,
    })
}

fn binary_op(op: &str) -> Option<BinaryOp> {
    Some(match op {
        "or" | "||" => BinaryOp::Or,
        "and" | "&&" => BinaryOp::And,
        "==" => BinaryOp::Eq,
        "!=" => BinaryOp::Ne,
        "<" => BinaryOp::Lt,
        ">" => BinaryOp::Gt,
        "<=" => BinaryOp::Le,
        ">=" => BinaryOp::Ge,
        "in" => BinaryOp::In,
        "matches" => BinaryOp::Matches,
        "contains" => BinaryOp::Contains,
        "startsWith" => BinaryOp::StartsWith,
        "endsWith" => BinaryOp::EndsWith,
        ".." => BinaryOp::Range,
        "+" => BinaryOp::Add,
        "-" => BinaryOp::Sub,
        "*" => BinaryOp::Mul,
        "/" => BinaryOp::Div,
        "%" => BinaryOp::Mod,
        "**" | "^" => BinaryOp::Pow,
        "??" => BinaryOp::Coalesce,
        _ => return None,
    })
}

/// Only these chain: `1 < 2 < 3` means `1 < 2 && 2 < 3`.
fn is_chaining_comparison(op: &str) -> bool {
    matches!(op, "<" | ">" | "<=" | ">=")
}

pub(super) struct Parser<'a> {
    pub(super) src: &'a str,
    pub(super) tokens: Vec<Token>,
    pub(super) pos: usize,
    /// > 0 inside a predicate, where `#` and `.field` are allowed.
    pub(super) predicate_depth: usize,
    pub(super) nesting: usize,
}

pub(super) type Parsed = Result<Node, ExprError>;

impl<'a> Parser<'a> {
    pub(super) fn current(&self) -> &Token {
        // The token list always ends with EOF and `next` never moves past it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    pub(super) fn next(&mut self) {
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
    }

    pub(super) fn error_at(&self, span: Span, message: impl Into<String>) -> ExprError {
        ExprError::at(ErrorKind::Syntax, self.src, span.start, message)
    }

    pub(super) fn unexpected(&self) -> ExprError {
        let token = self.current();
        if token.kind == TokenKind::Eof {
            return self.error_at(token.span, "unexpected end of expression");
        }
        self.error_at(token.span, format!("unexpected token {token}"))
    }

    pub(super) fn expect(&mut self, kind: TokenKind, value: &str) -> Result<(), ExprError> {
        if self.current().is(kind, value) {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    pub(super) fn enter(&mut self) -> Result<(), ExprError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            let span = self.current().span;
            return Err(self.error_at(
                span,
                format!("expression is nested too deeply (more than {MAX_NESTING} levels)"),
            ));
        }
        Ok(())
    }

    pub(super) fn parse_sequence(&mut self) -> Parsed {
        let first = self.parse_expression(0)?;
        let span = first.span;
        let mut nodes = vec![first];
        while self.current().is_op(";") {
            self.next();
            if self.current().kind == TokenKind::Eof {
                break;
            }
            nodes.push(self.parse_expression(0)?);
        }
        if nodes.len() == 1 {
            return Ok(nodes.remove(0));
        }
        Ok(Node::new(NodeKind::Sequence(nodes), span))
    }

    pub(super) fn parse_expression(&mut self, precedence: u32) -> Parsed {
        self.enter()?;
        let result = self.parse_expression_inner(precedence);
        self.nesting -= 1;
        result
    }

    fn parse_expression_inner(&mut self, precedence: u32) -> Parsed {
        if precedence == 0 && self.current().is_op("let") {
            return self.parse_let();
        }
        if precedence == 0 && self.current().is_op("if") {
            return self.parse_if();
        }
        let mut left = self.parse_primary()?;
        let mut prev_op = String::new();
        // Each operator folded into `left` deepens the tree by one; counting it keeps
        // `1 + 1 + … + 1` from building a tree too deep to walk.
        let nesting_before = self.nesting;
        while self.current().kind == TokenKind::Operator {
            self.enter()?;
            let mut op_token = self.current().clone();
            let mut negate_span = None;
            if op_token.value == "not" {
                let next = self.tokens.get(self.pos + 1).cloned();
                match next {
                    Some(t)
                        if t.kind == TokenKind::Operator
                            && NEGATABLE.contains(&t.value.as_str()) =>
                    {
                        if binary_info(&t.value).is_some_and(|(p, _)| p >= precedence) {
                            self.next();
                            negate_span = Some(t.span);
                            op_token = t;
                        } else {
                            break;
                        }
                    }
                    _ => {
                        self.next();
                        return Err(self.unexpected());
                    }
                }
            }
            let Some((op_prec, right_assoc)) = binary_info(&op_token.value) else {
                break;
            };
            if op_prec < precedence {
                break;
            }
            self.next();
            if op_token.value == "|" {
                let ident = self.current().clone();
                if ident.kind != TokenKind::Identifier {
                    return Err(self.unexpected());
                }
                self.next();
                left = self.parse_call(ident, vec![left])?;
            } else {
                if prev_op == "??" && op_token.value != "??" {
                    return Err(self.error_at(
                        op_token.span,
                        format!(
                            "Operator ({}) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses.",
                            op_token.value
                        ),
                    ));
                }
                if is_chaining_comparison(&op_token.value) {
                    left = self.parse_comparison(left, op_token.clone(), op_prec)?;
                } else {
                    let right = if right_assoc {
                        self.parse_expression(op_prec)?
                    } else {
                        self.parse_expression(op_prec + 1)?
                    };
                    left = binary(&op_token, left, right)?;
                    if let Some(span) = negate_span {
                        left = Node::new(
                            NodeKind::Unary {
                                op: UnaryOp::Not,
                                operand: Box::new(left),
                            },
                            span,
                        );
                    }
                }
            }
            prev_op = op_token.value;
        }
        if precedence == 0 {
            left = self.parse_ternary(left)?;
        }
        self.nesting = nesting_before;
        Ok(left)
    }

    fn parse_comparison(&mut self, mut left: Node, mut token: Token, precedence: u32) -> Parsed {
        let mut root: Option<Node> = None;
        loop {
            self.enter()?;
            let comparator = self.parse_expression(precedence + 1)?;
            let cmp = binary(&token, left, comparator.clone())?;
            root = Some(match root {
                None => cmp,
                Some(prev) => Node::new(
                    NodeKind::Binary {
                        op: BinaryOp::And,
                        left: Box::new(prev),
                        right: Box::new(cmp),
                    },
                    token.span,
                ),
            });
            left = comparator;
            let current = self.current().clone();
            if !(current.kind == TokenKind::Operator && is_chaining_comparison(&current.value)) {
                break;
            }
            token = current;
            self.next();
        }
        root.ok_or_else(|| self.unexpected())
    }

    fn parse_let(&mut self) -> Parsed {
        self.expect(TokenKind::Operator, "let")?;
        let name = self.current().clone();
        if name.kind != TokenKind::Identifier {
            return Err(self.unexpected());
        }
        self.next();
        self.expect(TokenKind::Operator, "=")?;
        let value = self.parse_expression(0)?;
        self.expect(TokenKind::Operator, ";")?;
        let body = self.parse_sequence()?;
        Ok(Node::new(
            NodeKind::Let {
                name: name.value,
                value: Box::new(value),
                body: Box::new(body),
            },
            name.span,
        ))
    }

    fn parse_if(&mut self) -> Parsed {
        let span = self.current().span;
        self.next();
        let cond = self.parse_expression(0)?;
        self.expect(TokenKind::Bracket, "{")?;
        let then = self.parse_sequence()?;
        self.expect(TokenKind::Bracket, "}")?;
        self.expect(TokenKind::Operator, "else")?;
        let otherwise = if self.current().is_op("if") {
            self.enter()?;
            let nested = self.parse_if();
            self.nesting -= 1;
            nested?
        } else {
            self.expect(TokenKind::Bracket, "{")?;
            let e = self.parse_sequence()?;
            self.expect(TokenKind::Bracket, "}")?;
            e
        };
        Ok(conditional(cond, then, otherwise, span))
    }

    fn parse_ternary(&mut self, mut node: Node) -> Parsed {
        while self.current().is_op("?") {
            self.enter()?;
            let span = self.current().span;
            self.next();
            let (then, otherwise) = if self.current().is_op(":") {
                self.next();
                (node.clone(), self.parse_expression(0)?)
            } else {
                let then = self.parse_expression(0)?;
                self.expect(TokenKind::Operator, ":")?;
                (then, self.parse_expression(0)?)
            };
            node = conditional(node, then, otherwise, span);
        }
        Ok(node)
    }
}

fn binary(token: &Token, left: Node, right: Node) -> Parsed {
    let op = binary_op(&token.value).ok_or_else(|| ExprError {
        kind: ErrorKind::Syntax,
        message: format!("unknown operator {}", token.value),
        line: 1,
        col: 1,
        source_line: String::new(),
    })?;
    Ok(Node::new(
        NodeKind::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        },
        token.span,
    ))
}

fn conditional(cond: Node, then: Node, otherwise: Node, span: Span) -> Node {
    Node::new(
        NodeKind::Conditional {
            cond: Box::new(cond),
            then: Box::new(then),
            otherwise: Box::new(otherwise),
        },
        span,
    )
}
