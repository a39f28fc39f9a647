//! Syntax tree → executable form. Names are resolved here, once: variables become slot
//! numbers, calls become function pointers, constant regular expressions are compiled,
//! and unknown names or wrong argument counts are reported before anything runs.

use std::sync::Arc;

use regex::Regex;

use crate::ast::{BinaryOp, Node, NodeKind, UnaryOp};
use crate::builtins::{self, BuiltinFn};
use crate::error::{ErrorKind, ExprError, Span};
use crate::value::{Hint, Value};

/// One executable step and the byte offset its errors point at.
#[derive(Debug)]
pub(crate) struct Op {
    pub kind: OpKind,
    pub pos: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PredicateKind {
    All,
    None,
    Any,
    One,
    Filter,
    Map,
    Count,
    Sum,
    Find,
    FindIndex,
    FindLast,
    FindLastIndex,
    GroupBy,
    SortBy,
    Reduce,
}

impl PredicateKind {
    fn from_name(name: &str) -> Option<PredicateKind> {
        use PredicateKind::*;
        Some(match name {
            "all" => All,
            "none" => None,
            "any" => Any,
            "one" => One,
            "filter" => Filter,
            "map" => Map,
            "count" => Count,
            "sum" => Sum,
            "find" => Find,
            "findIndex" => FindIndex,
            "findLast" => FindLast,
            "findLastIndex" => FindLastIndex,
            "groupBy" => GroupBy,
            "sortBy" => SortBy,
            "reduce" => Reduce,
            _ => return Option::None,
        })
    }

    pub fn name(self) -> &'static str {
        use PredicateKind::*;
        match self {
            All => "all",
            None => "none",
            Any => "any",
            One => "one",
            Filter => "filter",
            Map => "map",
            Count => "count",
            Sum => "sum",
            Find => "find",
            FindIndex => "findIndex",
            FindLast => "findLast",
            FindLastIndex => "findLastIndex",
            GroupBy => "groupBy",
            SortBy => "sortBy",
            Reduce => "reduce",
        }
    }
}

#[derive(Debug)]
pub(crate) enum OpKind {
    Const(Value),
    /// A variable of the environment, by slot.
    Env(usize),
    /// `$env`: all variables as one map.
    EnvMap,
    /// A `let` variable, by its index on the locals stack.
    Local(usize),
    Element,
    ElementIndex,
    Accumulator,
    Unary(UnaryOp, Box<Op>),
    And(Box<Op>, Box<Op>),
    Or(Box<Op>, Box<Op>),
    Coalesce(Box<Op>, Box<Op>),
    Binary(BinaryOp, Box<Op>, Box<Op>),
    /// `x matches 'literal'`, the pattern compiled once.
    MatchesConst(Box<Op>, Arc<Regex>),
    Conditional(Box<Op>, Box<Op>, Box<Op>),
    Field {
        object: Box<Op>,
        key: Arc<str>,
        optional: bool,
        /// Where `key` was last found in the object.
        hint: Hint,
    },
    Index {
        object: Box<Op>,
        key: Box<Op>,
        optional: bool,
    },
    Slice {
        object: Box<Op>,
        from: Option<Box<Op>>,
        to: Option<Box<Op>>,
    },
    Builtin {
        f: BuiltinFn,
        args: Vec<Op>,
    },
    Predicate {
        kind: PredicateKind,
        collection: Box<Op>,
        body: Option<Box<Op>>,
        extra: Option<Box<Op>>,
    },
    Method {
        object: Box<Op>,
        name: Arc<str>,
        args: Vec<Op>,
        optional: bool,
    },
    Chain(Box<Op>),
    Array(Vec<Op>),
    Map(Vec<(Op, Op)>),
    Let(Box<Op>, Box<Op>),
    Sequence(Vec<Op>),
}

impl Op {
    /// Collects into `out` the fields of variable `slot` this operation reads, when it
    /// reads that variable only as `variable.field`. Returns false when it uses the
    /// variable any other way (`jcUser[k]`, `keys(jcUser)`, `$env`), so that every
    /// field may matter.
    pub(crate) fn fields_of(&self, slot: usize, out: &mut Vec<Arc<str>>) -> bool {
        match &self.kind {
            OpKind::Field { object, key, .. } if matches!(object.kind, OpKind::Env(s) if s == slot) =>
            {
                out.push(key.clone());
                true
            }
            OpKind::Env(s) => *s != slot,
            OpKind::EnvMap => false,
            _ => self
                .children()
                .into_iter()
                .all(|child| child.fields_of(slot, out)),
        }
    }

    fn children(&self) -> Vec<&Op> {
        match &self.kind {
            OpKind::Const(_)
            | OpKind::Env(_)
            | OpKind::EnvMap
            | OpKind::Local(_)
            | OpKind::Element
            | OpKind::ElementIndex
            | OpKind::Accumulator => Vec::new(),
            OpKind::Unary(_, a) | OpKind::MatchesConst(a, _) | OpKind::Chain(a) => vec![a],
            OpKind::And(a, b)
            | OpKind::Or(a, b)
            | OpKind::Coalesce(a, b)
            | OpKind::Binary(_, a, b)
            | OpKind::Let(a, b) => vec![a, b],
            OpKind::Conditional(a, b, c) => vec![a, b, c],
            OpKind::Field { object, .. } => vec![object],
            OpKind::Index { object, key, .. } => vec![object, key],
            OpKind::Slice { object, from, to } => std::iter::once(&**object)
                .chain(from.as_deref())
                .chain(to.as_deref())
                .collect(),
            OpKind::Builtin { args, .. } | OpKind::Array(args) | OpKind::Sequence(args) => {
                args.iter().collect()
            }
            OpKind::Method { object, args, .. } => std::iter::once(&**object).chain(args).collect(),
            OpKind::Predicate {
                collection,
                body,
                extra,
                ..
            } => std::iter::once(&**collection)
                .chain(body.as_deref())
                .chain(extra.as_deref())
                .collect(),
            OpKind::Map(pairs) => pairs.iter().flat_map(|(k, v)| [k, v]).collect(),
        }
    }
}

/// Compiles `node` (parsed from `source`) against the variable names `variables`.
pub(crate) fn compile(node: &Node, source: &str, variables: &[Arc<str>]) -> Result<Op, ExprError> {
    let mut compiler = Compiler {
        source,
        variables,
        locals: Vec::new(),
        predicate_depth: 0,
    };
    compiler.compile(node)
}

struct Compiler<'a> {
    source: &'a str,
    variables: &'a [Arc<str>],
    locals: Vec<String>,
    predicate_depth: usize,
}

type Compiled = Result<Op, ExprError>;

fn op(kind: OpKind, span: Span) -> Op {
    Op {
        kind,
        pos: span.start,
    }
}

impl<'a> Compiler<'a> {
    fn error(&self, span: Span, message: impl Into<String>) -> ExprError {
        ExprError::at(ErrorKind::Compile, self.source, span.start, message)
    }

    fn boxed(&mut self, node: &Node) -> Result<Box<Op>, ExprError> {
        self.compile(node).map(Box::new)
    }

    fn compile(&mut self, node: &Node) -> Compiled {
        let span = node.span;
        let kind = match &node.kind {
            NodeKind::Nil => OpKind::Const(Value::Nil),
            NodeKind::Bool(b) => OpKind::Const(Value::Bool(*b)),
            NodeKind::Int(i) => OpKind::Const(Value::Int(*i)),
            NodeKind::Float(f) => OpKind::Const(Value::Float(*f)),
            NodeKind::Str(s) => OpKind::Const(Value::str(s)),
            NodeKind::Ident(name) => self.resolve(name, span)?,
            NodeKind::Pointer(name) => match name.as_str() {
                "" => OpKind::Element,
                "index" => OpKind::ElementIndex,
                "acc" => OpKind::Accumulator,
                other => return Err(self.error(span, format!("unknown pointer #{other}"))),
            },
            NodeKind::Array(items) => OpKind::Array(self.list(items)?),
            NodeKind::Map(pairs) => {
                let mut out = Vec::with_capacity(pairs.len());
                for (k, v) in pairs {
                    out.push((self.compile(k)?, self.compile(v)?));
                }
                OpKind::Map(out)
            }
            NodeKind::Unary { op: u, operand } => OpKind::Unary(*u, self.boxed(operand)?),
            NodeKind::Binary { op: b, left, right } => self.binary(*b, left, right)?,
            NodeKind::Conditional {
                cond,
                then,
                otherwise,
            } => OpKind::Conditional(self.boxed(cond)?, self.boxed(then)?, self.boxed(otherwise)?),
            NodeKind::Member {
                object,
                property,
                optional,
            } => {
                let object = self.boxed(object)?;
                match &property.kind {
                    NodeKind::Str(key) => OpKind::Field {
                        object,
                        // Interned: `jcUser`'s keys are these very strings, so looking
                        // the field up compares pointers.
                        key: crate::jumpcloud::key(key),
                        optional: *optional,
                        hint: Hint::default(),
                    },
                    _ => OpKind::Index {
                        object,
                        key: self.boxed(property)?,
                        optional: *optional,
                    },
                }
            }
            NodeKind::Slice { object, from, to } => OpKind::Slice {
                object: self.boxed(object)?,
                from: from.as_ref().map(|n| self.boxed(n)).transpose()?,
                to: to.as_ref().map(|n| self.boxed(n)).transpose()?,
            },
            NodeKind::Call { name, args } => self.call(name, args, span)?,
            NodeKind::MethodCall {
                object,
                name,
                args,
                optional,
            } => OpKind::Method {
                object: self.boxed(object)?,
                name: Arc::from(name.as_str()),
                args: self.list(args)?,
                optional: *optional,
            },
            NodeKind::Predicate(_) => {
                return Err(self.error(
                    span,
                    "a predicate is only allowed as an argument of a builtin",
                ))
            }
            NodeKind::Chain(inner) => OpKind::Chain(self.boxed(inner)?),
            NodeKind::Let { name, value, body } => {
                let value = self.boxed(value)?;
                self.locals.push(name.clone());
                let body = self.boxed(body);
                self.locals.pop();
                OpKind::Let(value, body?)
            }
            NodeKind::Sequence(nodes) => OpKind::Sequence(self.list(nodes)?),
        };
        Ok(op(kind, span))
    }

    fn list(&mut self, nodes: &[Node]) -> Result<Vec<Op>, ExprError> {
        nodes.iter().map(|n| self.compile(n)).collect()
    }

    fn resolve(&self, name: &str, span: Span) -> Result<OpKind, ExprError> {
        if let Some(i) = self.locals.iter().rposition(|l| l == name) {
            return Ok(OpKind::Local(i));
        }
        if let Some(i) = self.variables.iter().position(|v| &**v == name) {
            return Ok(OpKind::Env(i));
        }
        if name == "$env" {
            return Ok(OpKind::EnvMap);
        }
        let known = self
            .variables
            .iter()
            .map(|v| &**v)
            .chain(self.locals.iter().map(String::as_str));
        Err(self.error(
            span,
            format!("unknown name {name}{}", suggestion(name, known)),
        ))
    }

    fn binary(&mut self, b: BinaryOp, left: &Node, right: &Node) -> Result<OpKind, ExprError> {
        let l = self.boxed(left)?;
        if b == BinaryOp::Matches {
            if let NodeKind::Str(pattern) = &right.kind {
                let regex =
                    builtins::compile_regex(pattern).map_err(|m| self.error(right.span, m))?;
                return Ok(OpKind::MatchesConst(l, Arc::new(regex)));
            }
        }
        let r = self.boxed(right)?;
        Ok(match b {
            BinaryOp::And => OpKind::And(l, r),
            BinaryOp::Or => OpKind::Or(l, r),
            BinaryOp::Coalesce => OpKind::Coalesce(l, r),
            _ => OpKind::Binary(b, l, r),
        })
    }

    fn call(&mut self, name: &str, args: &[Node], span: Span) -> Result<OpKind, ExprError> {
        if let Some(kind) = PredicateKind::from_name(name) {
            return self.predicate_call(kind, args, span);
        }
        let Some(builtin) = builtins::lookup(name) else {
            let known = builtins::names().chain([
                "all",
                "none",
                "any",
                "one",
                "filter",
                "map",
                "count",
                "sum",
                "find",
                "findIndex",
                "findLast",
                "findLastIndex",
                "groupBy",
                "sortBy",
                "reduce",
            ]);
            return Err(self.error(
                span,
                format!("unknown func {name}{}", suggestion(name, known)),
            ));
        };
        if args.len() < builtin.min_args || args.len() > builtin.max_args {
            return Err(self.error(
                span,
                arity_message(name, builtin.min_args, builtin.max_args, args.len()),
            ));
        }
        Ok(OpKind::Builtin {
            f: builtin.f,
            args: self.list(args)?,
        })
    }

    fn predicate_call(
        &mut self,
        kind: PredicateKind,
        args: &[Node],
        span: Span,
    ) -> Result<OpKind, ExprError> {
        let (min, max) = match kind {
            PredicateKind::Count | PredicateKind::Sum => (1, 2),
            PredicateKind::SortBy | PredicateKind::Reduce => (2, 3),
            _ => (2, 2),
        };
        if args.len() < min || args.len() > max {
            return Err(self.error(span, arity_message(kind.name(), min, max, args.len())));
        }
        let collection = self.boxed(&args[0])?;
        let body = match args.get(1) {
            Some(Node {
                kind: NodeKind::Predicate(body),
                ..
            }) => {
                self.predicate_depth += 1;
                let compiled = self.boxed(body);
                self.predicate_depth -= 1;
                Some(compiled?)
            }
            Some(other) => {
                return Err(self.error(
                    other.span,
                    format!("the second argument of {} must be a predicate", kind.name()),
                ))
            }
            None => None,
        };
        let extra = args.get(2).map(|n| self.boxed(n)).transpose()?;
        Ok(OpKind::Predicate {
            kind,
            collection,
            body,
            extra,
        })
    }
}

fn arity_message(name: &str, min: usize, max: usize, got: usize) -> String {
    let expected = if min == max {
        format!("{min}")
    } else if max == usize::MAX {
        format!("at least {min}")
    } else {
        format!("{min} to {max}")
    };
    format!("invalid number of arguments for {name} (expected {expected}, got {got})")
}

/// ", did you mean X?" for the closest known name within a small edit distance, so a
/// typo such as `jcuser` or `notNullorEmpty` says what to write instead.
fn suggestion<'n>(name: &str, known: impl Iterator<Item = &'n str>) -> String {
    let lower = name.to_lowercase();
    known
        .map(|k| (edit_distance(&lower, &k.to_lowercase()), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| format!(" (did you mean {k}?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = current;
        }
    }
    row[b.len()]
}
