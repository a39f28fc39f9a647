//! Tokens → syntax tree: a Pratt parser with Expr's precedence table, its chained
//! comparisons, its `??` mixing rule and its predicate arguments.
//!
//! Precedence, loosest first: `|` 0 · `or ||` 10 · `and &&` 15 · comparisons 20 ·
//! `..` 25 · `+ -` 30 · unary `not !` 50 · `* / %` 60 · unary `- +` 90 ·
//! `** ^` 100 (right) · `??` 500. The ternary sits outside the table.

use crate::ast::{BinaryOp, Node, NodeKind, UnaryOp};
use crate::error::{ErrorKind, ExprError, Span};
use crate::lexer::{tokenize, Token, TokenKind, NEGATABLE};

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

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    /// > 0 inside a predicate, where `#` and `.field` are allowed.
    predicate_depth: usize,
    nesting: usize,
}

type Parsed = Result<Node, ExprError>;

impl<'a> Parser<'a> {
    fn current(&self) -> &Token {
        // The token list always ends with EOF and `next` never moves past it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) {
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
    }

    fn error_at(&self, span: Span, message: impl Into<String>) -> ExprError {
        ExprError::at(ErrorKind::Syntax, self.src, span.start, message)
    }

    fn unexpected(&self) -> ExprError {
        let token = self.current();
        if token.kind == TokenKind::Eof {
            return self.error_at(token.span, "unexpected end of expression");
        }
        self.error_at(token.span, format!("unexpected token {token}"))
    }

    fn expect(&mut self, kind: TokenKind, value: &str) -> Result<(), ExprError> {
        if self.current().is(kind, value) {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn enter(&mut self) -> Result<(), ExprError> {
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

    fn parse_sequence(&mut self) -> Parsed {
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

    fn parse_expression(&mut self, precedence: u32) -> Parsed {
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

    fn parse_primary(&mut self) -> Parsed {
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

    /// A call by name. `piped` holds the left side of a pipe, which becomes the first
    /// argument.
    fn parse_call(&mut self, name: Token, piped: Vec<Node>) -> Parsed {
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

    fn parse_arguments(&mut self, mut args: Vec<Node>) -> Result<Vec<Node>, ExprError> {
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

    fn parse_postfix(&mut self, mut node: Node) -> Parsed {
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
