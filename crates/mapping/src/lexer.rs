//! Source text → tokens, following Expr's lexer: keywords are whole words only (so
//! `notNullOrEmpty` and `orders` are names), `not in` and friends are read as one
//! negated operator by the parser, `..` after a number is the range operator.

use crate::error::{ErrorKind, ExprError, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Identifier,
    Number,
    String,
    Operator,
    Bracket,
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    /// The token's text; for strings the unescaped value.
    pub value: String,
    pub span: Span,
}

impl Token {
    pub fn is(&self, kind: TokenKind, value: &str) -> bool {
        self.kind == kind && self.value == value
    }

    pub fn is_op(&self, value: &str) -> bool {
        self.is(TokenKind::Operator, value)
    }

    pub fn is_bracket(&self, value: &str) -> bool {
        self.is(TokenKind::Bracket, value)
    }
}

impl std::fmt::Display for Token {
    /// As Expr prints tokens in "unexpected token" messages: `Operator("+")`, `EOF`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            TokenKind::Identifier => "Identifier",
            TokenKind::Number => "Number",
            TokenKind::String => "String",
            TokenKind::Operator => "Operator",
            TokenKind::Bracket => "Bracket",
            TokenKind::Eof => "EOF",
        };
        if self.value.is_empty() {
            write!(f, "{kind}")
        } else {
            write!(f, "{kind}({:?})", self.value)
        }
    }
}

/// Words that are operators, not names.
const KEYWORDS: &[&str] = &[
    "in",
    "or",
    "and",
    "matches",
    "contains",
    "startsWith",
    "endsWith",
    "let",
    "if",
    "else",
];

/// Operators that may follow `not` to form a negated operator.
pub const NEGATABLE: &[&str] = &["in", "matches", "contains", "startsWith", "endsWith"];

/// True for characters that may appear in a name (Expr also allows `$`).
pub fn is_name_char(c: char) -> bool {
    c == '_' || c == '$' || c.is_alphanumeric()
}

/// True when `word` lexes as one identifier token (not a keyword, not a literal).
pub fn is_plain_identifier(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some(c) if is_name_char(c) && !c.is_ascii_digit())
        && word.chars().all(is_name_char)
        && !KEYWORDS.contains(&word)
        && word != "not"
}

/// Splits `source` into tokens, ending with an EOF token.
pub fn tokenize(source: &str) -> Result<Vec<Token>, ExprError> {
    let mut lexer = Lexer {
        src: source,
        pos: 0,
        tokens: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn accept(&mut self, set: &str) -> bool {
        match self.peek() {
            Some(c) if set.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, set: &str) {
        while self.accept(set) {}
    }

    fn emit(&mut self, kind: TokenKind, start: usize) {
        let value = self.src[start..self.pos].to_string();
        self.emit_value(kind, start, value);
    }

    fn emit_value(&mut self, kind: TokenKind, start: usize, value: String) {
        self.tokens.push(Token {
            kind,
            value,
            span: Span::new(start, self.pos),
        });
    }

    fn error(&self, at: usize, message: impl Into<String>) -> ExprError {
        ExprError::at(ErrorKind::Syntax, self.src, at, message)
    }

    fn run(&mut self) -> Result<(), ExprError> {
        while let Some(c) = self.peek() {
            let start = self.pos;
            match c {
                c if c.is_whitespace() => {
                    self.bump();
                }
                '\'' | '"' => {
                    self.bump();
                    let value = self.scan_string(c, start)?;
                    self.emit_value(TokenKind::String, start, value);
                }
                '`' => {
                    self.bump();
                    let value = self.scan_raw_string(start)?;
                    self.emit_value(TokenKind::String, start, value);
                }
                '0'..='9' => self.scan_number(start)?,
                '.' if matches!(self.peek_at(1), Some('0'..='9')) => self.scan_number(start)?,
                '.' => {
                    self.bump();
                    self.accept(".");
                    self.emit(TokenKind::Operator, start);
                }
                '?' => {
                    self.bump();
                    self.accept(".?");
                    self.emit(TokenKind::Operator, start);
                }
                '/' => {
                    self.bump();
                    if self.accept("/") {
                        while let Some(c) = self.bump() {
                            if c == '\n' {
                                break;
                            }
                        }
                    } else if self.accept("*") {
                        self.skip_block_comment(start)?;
                    } else {
                        self.emit(TokenKind::Operator, start);
                    }
                }
                '#' => {
                    self.bump();
                    self.emit(TokenKind::Operator, start);
                    let name_start = self.pos;
                    while matches!(self.peek(), Some(c) if is_name_char(c)) {
                        self.bump();
                    }
                    if self.pos > name_start {
                        self.emit(TokenKind::Identifier, name_start);
                    }
                }
                '|' => {
                    self.bump();
                    self.accept("|");
                    self.emit(TokenKind::Operator, start);
                }
                ':' => {
                    self.bump();
                    self.accept(":");
                    self.emit(TokenKind::Operator, start);
                }
                '(' | '[' | '{' | ')' | ']' | '}' => {
                    self.bump();
                    self.emit(TokenKind::Bracket, start);
                }
                ',' | ';' | '%' | '+' | '-' | '^' => {
                    self.bump();
                    self.emit(TokenKind::Operator, start);
                }
                '&' | '!' | '=' | '*' | '<' | '>' => {
                    self.bump();
                    self.accept("&=*");
                    self.emit(TokenKind::Operator, start);
                }
                c if is_name_char(c) => self.scan_word(start),
                c => {
                    return Err(self.error(
                        start,
                        format!("unrecognized character: U+{:04X} '{c}'", c as u32),
                    ))
                }
            }
        }
        let end = self.src.len();
        self.tokens.push(Token {
            kind: TokenKind::Eof,
            value: String::new(),
            span: Span::new(end, end),
        });
        Ok(())
    }

    fn skip_block_comment(&mut self, start: usize) -> Result<(), ExprError> {
        loop {
            match self.bump() {
                None => return Err(self.error(start, "unclosed comment")),
                Some('*') if self.accept("/") => return Ok(()),
                Some(_) => {}
            }
        }
    }

    fn scan_word(&mut self, start: usize) {
        while matches!(self.peek(), Some(c) if is_name_char(c)) {
            self.bump();
        }
        let word = &self.src[start..self.pos];
        if word == "not" {
            self.emit(TokenKind::Operator, start);
            self.scan_after_not();
        } else if KEYWORDS.contains(&word) {
            self.emit(TokenKind::Operator, start);
        } else {
            self.emit(TokenKind::Identifier, start);
        }
    }

    /// After `not`, a following `in`/`matches`/… is lexed as an operator even if it
    /// would otherwise be read differently; anything else is left for the main loop.
    fn scan_after_not(&mut self) {
        let save = self.pos;
        while matches!(self.peek(), Some(c) if c.is_whitespace()) {
            self.bump();
        }
        let word_start = self.pos;
        while matches!(self.peek(), Some(c) if is_name_char(c)) {
            self.bump();
        }
        if NEGATABLE.contains(&&self.src[word_start..self.pos]) {
            self.emit(TokenKind::Operator, word_start);
        } else {
            self.pos = save;
        }
    }

    fn scan_number(&mut self, start: usize) -> Result<(), ExprError> {
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        let before_dot = self.pos;
        if self.accept(".") {
            // `1..2` is a range, not the float `1.` followed by `.2`.
            if self.peek() == Some('.') {
                self.pos = before_dot;
                self.emit(TokenKind::Number, start);
                return Ok(());
            }
            self.accept_run(digits);
        }
        if self.accept("eE") {
            self.accept("+-");
            self.accept_run(digits);
        }
        if let Some(c) = self.peek() {
            if is_name_char(c) {
                self.bump();
                return Err(self.error(
                    start,
                    format!("bad number syntax: {:?}", &self.src[start..self.pos]),
                ));
            }
        }
        self.emit(TokenKind::Number, start);
        Ok(())
    }

    fn scan_raw_string(&mut self, start: usize) -> Result<String, ExprError> {
        let body_start = self.pos;
        loop {
            match self.bump() {
                None => return Err(self.error(start, "literal not terminated")),
                Some('`') => return Ok(self.src[body_start..self.pos - 1].to_string()),
                Some(_) => {}
            }
        }
    }

    fn scan_string(&mut self, quote: char, start: usize) -> Result<String, ExprError> {
        let mut out = String::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None | Some('\n') => return Err(self.error(start, "literal not terminated")),
                Some(c) if c == quote => return Ok(out),
                Some('\\') => out.push(self.scan_escape(quote, at)?),
                Some(c) => out.push(c),
            }
        }
    }

    fn scan_escape(&mut self, quote: char, at: usize) -> Result<char, ExprError> {
        let invalid = |l: &Self| l.error(at, "invalid char escape");
        let c = self.bump().ok_or_else(|| invalid(self))?;
        let simple = match c {
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            '\\' => Some('\\'),
            c if c == quote => Some(c),
            _ => None,
        };
        if let Some(c) = simple {
            return Ok(c);
        }
        let (count, radix) = match c {
            '0'..='7' => (2, 8),
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            _ => return Err(invalid(self)),
        };
        let mut code: u32 = if radix == 8 { c as u32 - '0' as u32 } else { 0 };
        for _ in 0..count {
            let d = self
                .bump()
                .and_then(|d| d.to_digit(radix))
                .ok_or_else(|| invalid(self))?;
            code = code * radix + d;
        }
        if radix == 8 && code > 255 {
            return Err(invalid(self));
        }
        char::from_u32(code)
            .ok_or_else(|| self.error(at, "escape sequence is invalid Unicode code point"))
    }
}
