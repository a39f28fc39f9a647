//! A recursive-descent parser for the filter grammar of RFC 7644 §3.4.2.2:
//!
//! ```text
//! filter  = or
//! or      = and *("or" and)
//! and     = not *("and" not)
//! not     = "not" "(" filter ")" / atom
//! atom    = "(" filter ")" / attrPath "[" valFilter "]" / attrPath "pr"
//!         / attrPath compareOp compValue
//! ```
//!
//! Keywords and operators are case-insensitive (ABNF literals are). Whitespace may be any
//! amount of spaces or tabs. Nesting (parentheses, `not`, brackets) is bounded so that a
//! hostile filter cannot exhaust the stack; the length bound keeps `and`/`or` chains short.

use super::{CompValue, CompareOp, Filter};
use crate::error::ScimError;
use crate::path::{is_path_char, split_attr_path, AttrPath};

/// The longest filter accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 8 * 1024;
/// The deepest nesting of parentheses, `not` and value-filter brackets accepted.
pub const MAX_FILTER_DEPTH: usize = 64;
/// The most `and`, `or` and `not` operators in one filter. Chains of `and`/`or` deepen
/// the tree by one level per operator, and every consumer of the tree (resolution,
/// evaluation, SQL generation, printing) recurses over it: this bound, with the nesting
/// bound, keeps that recursion shallow. IdPs send one or two.
pub const MAX_FILTER_OPERATORS: usize = 100;

/// Parses a filter (RFC 7644 §3.4.2.2). Attribute names are kept as written; resolve them
/// with [`super::resolve_filter`]. Errors are `400 invalidFilter` with the position.
pub fn parse_filter(text: &str) -> Result<Filter, ScimError> {
    if text.len() > MAX_FILTER_LEN {
        return Err(ScimError::invalid_filter(format!(
            "the filter is {} bytes long; at most {MAX_FILTER_LEN} are accepted",
            text.len()
        )));
    }
    let mut p = Parser::at(text, 0);
    p.skip_ws();
    if p.at_end() {
        return Err(ScimError::invalid_filter("the filter is empty"));
    }
    let filter = p.parse_or(false)?;
    p.skip_ws();
    if !p.at_end() {
        return Err(p.error(if p.peek() == Some(')') {
            "unbalanced ')'".to_owned()
        } else {
            "expected \"and\", \"or\" or the end of the filter".to_owned()
        }));
    }
    Ok(filter)
}

/// Parser state over the filter text; also used by `path` for PATCH value filters.
pub(crate) struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    operators: usize,
}

impl<'a> Parser<'a> {
    /// A parser starting at byte offset `pos` of `src`.
    pub(crate) fn at(src: &'a str, pos: usize) -> Self {
        Parser {
            src,
            pos: pos.min(src.len()),
            depth: 0,
            operators: 0,
        }
    }

    /// What is left after the parsed part.
    pub(crate) fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or_default()
    }

    /// Parses `valFilter "]"` (the caller consumed `[`): the filter inside a value path,
    /// whose attribute names are relative to the multi-valued attribute.
    pub(crate) fn parse_value_filter(&mut self) -> Result<Filter, ScimError> {
        self.skip_ws();
        if self.peek() == Some(']') {
            return Err(self.error("the value filter between '[' and ']' is empty".to_owned()));
        }
        let f = self.parse_or(true)?;
        self.skip_ws();
        self.expect(']', "expected ']' to close the value filter")?;
        Ok(f)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(c) if c.is_whitespace()) {
            self.bump();
        }
    }

    fn expect(&mut self, c: char, detail: &str) -> Result<(), ScimError> {
        if self.peek() == Some(c) {
            self.bump();
            Ok(())
        } else {
            Err(self.error(detail.to_owned()))
        }
    }

    /// An invalidFilter error pointing at the current position (1-based, in characters).
    fn error(&self, what: String) -> ScimError {
        let consumed = self.src.get(..self.pos).unwrap_or_default();
        let column = consumed.chars().count() + 1;
        let near: String = self.rest().chars().take(20).collect();
        let at = if near.is_empty() {
            "at the end of the filter".to_owned()
        } else {
            format!("at position {column} (near \"{near}\")")
        };
        ScimError::invalid_filter(format!("{what} {at}"))
    }

    /// The run of path characters at the current position, without consuming it.
    fn peek_word(&self) -> &'a str {
        let rest = self.rest();
        let end = rest.find(|c: char| !is_path_char(c)).unwrap_or(rest.len());
        rest.get(..end).unwrap_or_default()
    }

    fn take_word(&mut self) -> &'a str {
        let w = self.peek_word();
        self.pos += w.len();
        w
    }

    /// Consumes `keyword` (case-insensitive) after optional whitespace, if it is there as
    /// a whole word; otherwise leaves the position unchanged.
    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.peek_word().eq_ignore_ascii_case(keyword) {
            self.pos += keyword.len();
            true
        } else {
            self.pos = save;
            false
        }
    }

    fn enter(&mut self) -> Result<(), ScimError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(self.error(format!(
                "the filter is too deeply nested (more than {MAX_FILTER_DEPTH} levels of parentheses, \"not\" or brackets)"
            )));
        }
        Ok(())
    }

    /// Counts one logical operator against [`MAX_FILTER_OPERATORS`].
    fn count_operator(&mut self) -> Result<(), ScimError> {
        self.operators += 1;
        if self.operators > MAX_FILTER_OPERATORS {
            return Err(self.error(format!(
                "the filter has more than {MAX_FILTER_OPERATORS} \"and\", \"or\" and \"not\" operators"
            )));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn parse_or(&mut self, in_value_path: bool) -> Result<Filter, ScimError> {
        let mut left = self.parse_and(in_value_path)?;
        while self.eat_keyword("or") {
            self.count_operator()?;
            let right = self.parse_and(in_value_path)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self, in_value_path: bool) -> Result<Filter, ScimError> {
        let mut left = self.parse_not(in_value_path)?;
        while self.eat_keyword("and") {
            self.count_operator()?;
            let right = self.parse_not(in_value_path)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_not(&mut self, in_value_path: bool) -> Result<Filter, ScimError> {
        self.skip_ws();
        let save = self.pos;
        if self.eat_keyword("not") {
            self.skip_ws();
            if self.peek() == Some('(') {
                self.enter()?;
                self.count_operator()?;
                self.bump();
                let inner = self.parse_or(in_value_path)?;
                self.skip_ws();
                self.expect(')', "expected ')' to close \"not (\"")?;
                self.leave();
                return Ok(Filter::Not(Box::new(inner)));
            }
            // `not` followed by an operator is an attribute named "not"; anything else
            // is the RFC's `not` without its required parentheses.
            let next = self.peek_word();
            if !(next.eq_ignore_ascii_case("pr") || parse_op(next).is_some()) {
                return Err(self.error(
                    "\"not\" must be followed by a parenthesised filter, as in not (userName eq \"x\"),"
                        .to_owned(),
                ));
            }
            self.pos = save;
        }
        self.parse_atom(in_value_path)
    }

    fn parse_atom(&mut self, in_value_path: bool) -> Result<Filter, ScimError> {
        self.skip_ws();
        if self.peek() == Some('(') {
            self.enter()?;
            self.bump();
            let inner = self.parse_or(in_value_path)?;
            self.skip_ws();
            self.expect(')', "expected ')' to close '('")?;
            self.leave();
            return Ok(inner);
        }
        let start = self.pos;
        let word = self.take_word();
        if word.is_empty() {
            return Err(self.error(match self.peek() {
                None => "expected an attribute name".to_owned(),
                Some(c) => format!("expected an attribute name, found '{c}'"),
            }));
        }
        let path = match split_attr_path(word) {
            Ok(p) => p,
            Err(detail) => {
                self.pos = start;
                return Err(self.error(detail));
            }
        };
        if self.peek() == Some('[') {
            return self.parse_value_path(path, in_value_path);
        }
        self.skip_ws();
        let op_start = self.pos;
        let op_word = self.take_word();
        if op_word.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let Some(op) = parse_op(op_word) else {
            self.pos = op_start;
            return Err(self.error(format!(
                "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after \"{word}\""
            )));
        };
        self.skip_ws();
        let value = self.parse_value()?;
        Ok(Filter::Compare { path, op, value })
    }

    fn parse_value_path(
        &mut self,
        attr: AttrPath,
        in_value_path: bool,
    ) -> Result<Filter, ScimError> {
        if in_value_path {
            return Err(self.error("value filters cannot be nested".to_owned()));
        }
        if attr.sub_attr.is_some() {
            return Err(self.error(format!(
                "'[' must follow a multi-valued attribute, not the sub-attribute \"{attr}\""
            )));
        }
        self.enter()?;
        self.bump();
        let inner = self.parse_value_filter()?;
        self.leave();
        if self.peek() == Some('.') {
            return Err(self.error(
                "a filter cannot select a sub-attribute after ']'; write the condition inside the brackets, as in emails[type eq \"work\" and value co \"@example.com\"],"
                    .to_owned(),
            ));
        }
        Ok(Filter::ValuePath {
            attr,
            filter: Box::new(inner),
        })
    }

    fn parse_value(&mut self) -> Result<CompValue, ScimError> {
        match self.peek() {
            Some('"') => self.parse_string().map(CompValue::String),
            Some(c) if c == '-' || c.is_ascii_digit() => self.parse_number(),
            _ => {
                let start = self.pos;
                let word = self.take_word();
                if word.eq_ignore_ascii_case("true") {
                    Ok(CompValue::Bool(true))
                } else if word.eq_ignore_ascii_case("false") {
                    Ok(CompValue::Bool(false))
                } else if word.eq_ignore_ascii_case("null") {
                    Ok(CompValue::Null)
                } else {
                    self.pos = start;
                    let hint = if word.is_empty() {
                        ""
                    } else {
                        " (strings must be in double quotes)"
                    };
                    Err(self.error(format!(
                        "expected a value: a \"quoted string\", a number, true, false or null{hint}"
                    )))
                }
            }
        }
    }

    /// A JSON string: find the closing quote (skipping escaped characters), then let
    /// serde_json decode the escapes so they follow JSON exactly.
    fn parse_string(&mut self) -> Result<String, ScimError> {
        let start = self.pos;
        let rest = self.rest();
        let mut escaped = false;
        let mut end = None;
        for (i, c) in rest.char_indices().skip(1) {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            return Err(self.error("unterminated string: missing the closing '\"'".to_owned()));
        };
        let literal = rest.get(..=end).unwrap_or_default();
        match serde_json::from_str::<String>(literal) {
            Ok(s) => {
                self.pos = start + end + 1;
                Ok(s)
            }
            Err(e) => Err(self.error(format!("invalid string value ({e})"))),
        }
    }

    fn parse_number(&mut self) -> Result<CompValue, ScimError> {
        let rest = self.rest();
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
            .unwrap_or(rest.len());
        let literal = rest.get(..end).unwrap_or_default();
        match parse_json_number(literal) {
            Some(n) => {
                self.pos += end;
                Ok(CompValue::Number(n))
            }
            None => Err(self.error(format!("\"{literal}\" is not a valid number"))),
        }
    }
}

/// A JSON number (RFC 8259 §6 syntax). Integers stay integers; other numbers go through
/// Rust's correctly rounded `f64` parser, so printing and re-parsing gives the same value.
fn parse_json_number(literal: &str) -> Option<serde_json::Number> {
    let b = literal.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let int_start = i;
    let int_len = digits(&mut i);
    if int_len == 0 || (int_len > 1 && b.get(int_start) == Some(&b'0')) {
        return None;
    }
    let mut integral = true;
    if b.get(i) == Some(&b'.') {
        i += 1;
        integral = false;
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        integral = false;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    if integral {
        if let Ok(n) = literal.parse::<i64>() {
            return Some(n.into());
        }
        if let Ok(n) = literal.parse::<u64>() {
            return Some(n.into());
        }
    }
    literal
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
}

fn parse_op(word: &str) -> Option<CompareOp> {
    Some(match word.to_ascii_lowercase().as_str() {
        "eq" => CompareOp::Eq,
        "ne" => CompareOp::Ne,
        "co" => CompareOp::Co,
        "sw" => CompareOp::Sw,
        "ew" => CompareOp::Ew,
        "gt" => CompareOp::Gt,
        "ge" => CompareOp::Ge,
        "lt" => CompareOp::Lt,
        "le" => CompareOp::Le,
        _ => return None,
    })
}
