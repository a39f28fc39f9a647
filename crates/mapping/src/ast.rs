//! The syntax tree the parser builds. It mirrors Expr's node types so that the tree of
//! any program is the one Expr would build; evaluation uses a compiled form
//! ([`crate::compile`]), the tree is for checking, printing and tooling.

use crate::error::Span;

/// A node and the span of the token that names it (an operator, a name, a bracket):
/// errors about the node point there, as Expr's do.
#[derive(Clone, Debug)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
    Plus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    In,
    Matches,
    Contains,
    StartsWith,
    EndsWith,
    Range,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Coalesce,
}

impl BinaryOp {
    /// The operator as written; `or`/`and` print as words, `**` as `**`.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Gt => ">",
            BinaryOp::Le => "<=",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::Matches => "matches",
            BinaryOp::Contains => "contains",
            BinaryOp::StartsWith => "startsWith",
            BinaryOp::EndsWith => "endsWith",
            BinaryOp::Range => "..",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "**",
            BinaryOp::Coalesce => "??",
        }
    }
}

#[derive(Clone, Debug)]
pub enum NodeKind {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Node>),
    /// Key/value pairs; a key is a string node or a parenthesised expression.
    Map(Vec<(Node, Node)>),
    Ident(String),
    /// `#` (empty name), `#index`, `#acc`: the element, index or accumulator of the
    /// innermost predicate. `.field` inside a predicate is `#.field`.
    Pointer(String),
    Unary {
        op: UnaryOp,
        operand: Box<Node>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Node>,
        right: Box<Node>,
    },
    /// `c ? a : b`, `c ?: b` (then `then` is `c` again) or `if c { a } else { b }`.
    Conditional {
        cond: Box<Node>,
        then: Box<Node>,
        otherwise: Box<Node>,
    },
    /// `a.b`, `a[k]`, `a?.b`, `a?.[k]`.
    Member {
        object: Box<Node>,
        property: Box<Node>,
        optional: bool,
    },
    Slice {
        object: Box<Node>,
        from: Option<Box<Node>>,
        to: Option<Box<Node>>,
    },
    /// A call of a builtin or of a JumpCloud function by name.
    Call {
        name: String,
        args: Vec<Node>,
    },
    /// `value.Method(args)`, e.g. `date(x).Format('2006')`.
    MethodCall {
        object: Box<Node>,
        name: String,
        args: Vec<Node>,
        optional: bool,
    },
    /// A predicate argument of `filter`, `map`, `find`…
    Predicate(Box<Node>),
    /// The extent of an optional chain: when a `?.` inside meets nil, the whole chain
    /// is nil.
    Chain(Box<Node>),
    Let {
        name: String,
        value: Box<Node>,
        body: Box<Node>,
    },
    Sequence(Vec<Node>),
}

impl Node {
    pub fn new(kind: NodeKind, span: Span) -> Node {
        Node { kind, span }
    }

    /// Structural equality ignoring spans (floats compare by bits so that the
    /// print/parse round trip can be checked exactly).
    pub fn same_shape(&self, other: &Node) -> bool {
        use NodeKind as K;
        let both = |a: &Node, b: &Node| a.same_shape(b);
        let all = |a: &[Node], b: &[Node]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_shape(y))
        };
        let opt = |a: &Option<Box<Node>>, b: &Option<Box<Node>>| match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => a.same_shape(b),
            _ => false,
        };
        match (&self.kind, &other.kind) {
            (K::Nil, K::Nil) => true,
            (K::Bool(a), K::Bool(b)) => a == b,
            (K::Int(a), K::Int(b)) => a == b,
            (K::Float(a), K::Float(b)) => a.to_bits() == b.to_bits(),
            (K::Str(a), K::Str(b))
            | (K::Ident(a), K::Ident(b))
            | (K::Pointer(a), K::Pointer(b)) => a == b,
            (K::Array(a), K::Array(b)) | (K::Sequence(a), K::Sequence(b)) => all(a, b),
            (K::Map(a), K::Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((k1, v1), (k2, v2))| both(k1, k2) && both(v1, v2))
            }
            (K::Unary { op: o1, operand: a }, K::Unary { op: o2, operand: b }) => {
                o1 == o2 && both(a, b)
            }
            (
                K::Binary {
                    op: o1,
                    left: l1,
                    right: r1,
                },
                K::Binary {
                    op: o2,
                    left: l2,
                    right: r2,
                },
            ) => o1 == o2 && both(l1, l2) && both(r1, r2),
            (
                K::Conditional {
                    cond: c1,
                    then: t1,
                    otherwise: e1,
                },
                K::Conditional {
                    cond: c2,
                    then: t2,
                    otherwise: e2,
                },
            ) => both(c1, c2) && both(t1, t2) && both(e1, e2),
            (
                K::Member {
                    object: o1,
                    property: p1,
                    optional: x1,
                },
                K::Member {
                    object: o2,
                    property: p2,
                    optional: x2,
                },
            ) => x1 == x2 && both(o1, o2) && both(p1, p2),
            (
                K::Slice {
                    object: o1,
                    from: f1,
                    to: t1,
                },
                K::Slice {
                    object: o2,
                    from: f2,
                    to: t2,
                },
            ) => both(o1, o2) && opt(f1, f2) && opt(t1, t2),
            (K::Call { name: n1, args: a1 }, K::Call { name: n2, args: a2 }) => {
                n1 == n2 && all(a1, a2)
            }
            (
                K::MethodCall {
                    object: o1,
                    name: n1,
                    args: a1,
                    optional: x1,
                },
                K::MethodCall {
                    object: o2,
                    name: n2,
                    args: a2,
                    optional: x2,
                },
            ) => n1 == n2 && x1 == x2 && both(o1, o2) && all(a1, a2),
            (K::Predicate(a), K::Predicate(b)) | (K::Chain(a), K::Chain(b)) => both(a, b),
            (
                K::Let {
                    name: n1,
                    value: v1,
                    body: b1,
                },
                K::Let {
                    name: n2,
                    value: v2,
                    body: b2,
                },
            ) => n1 == n2 && both(v1, v2) && both(b1, b2),
            _ => false,
        }
    }
}
