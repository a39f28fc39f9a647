//! Runs a compiled expression. Evaluation is bounded: every step counts against a step
//! budget and every array element or string byte built counts against a memory budget,
//! so no expression can hang or exhaust the process, whatever it is.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::ast::{BinaryOp, UnaryOp};
use crate::builtins::methods;
use crate::compile::{Op, OpKind};
use crate::error::Fault;
use crate::operators;
use crate::value::{equal, Value, MAX_VALUE_DEPTH};

/// How much one evaluation may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Steps: operations evaluated, predicate iterations included.
    pub max_steps: u64,
    /// Array elements plus string bytes created.
    pub max_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 1_000_000,
            max_memory: 16 * 1024 * 1024,
        }
    }
}

/// The step and memory budget of one evaluation, shared with builtins.
pub(crate) struct Budget {
    steps: u64,
    memory: u64,
    limits: Limits,
}

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        Budget {
            steps: 0,
            memory: 0,
            limits,
        }
    }

    /// Accounts for `units` of new data (elements or bytes) before it is built.
    pub fn charge(&mut self, units: usize, pos: usize) -> Result<(), Fault> {
        self.memory = self.memory.saturating_add(units as u64);
        if self.memory > self.limits.max_memory {
            return Err(Fault::limit(pos, "memory budget exceeded"));
        }
        Ok(())
    }

    /// Counts `n` steps when they fit in the budget; false (nothing counted) when they
    /// do not, and the caller then takes the step-by-step path that reports where.
    pub fn try_steps(&mut self, n: u64) -> bool {
        match self.steps.checked_add(n) {
            Some(total) if total <= self.limits.max_steps => {
                self.steps = total;
                true
            }
            _ => false,
        }
    }

    #[inline]
    pub fn step(&mut self, pos: usize) -> Result<(), Fault> {
        self.steps_at(1, pos)
    }

    /// Counts `n` steps of the operation at `pos`: the same as `n` calls of
    /// [`Budget::step`], whose error names only the position and the limit.
    #[inline]
    pub fn steps_at(&mut self, n: u64, pos: usize) -> Result<(), Fault> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > self.limits.max_steps {
            return Err(self.out_of_steps(pos));
        }
        Ok(())
    }

    /// Kept out of line, so that counting a step (done for every operation) is a few
    /// instructions the compiler inlines.
    #[cold]
    #[inline(never)]
    fn out_of_steps(&self, pos: usize) -> Fault {
        Fault::limit(
            pos,
            format!("evaluation exceeded {} steps", self.limits.max_steps),
        )
    }
}

/// The element, index and accumulator of the innermost predicate.
pub(crate) struct Frame {
    pub element: Value,
    pub index: usize,
    pub acc: Value,
}

/// The stacks of a machine, kept between evaluations so that mapping many users does
/// not allocate them again for every expression.
#[derive(Default)]
pub(crate) struct Scratch {
    locals: Vec<Value>,
    frames: Vec<Frame>,
}

thread_local! {
    static SCRATCH: std::cell::Cell<Option<Scratch>> = const { std::cell::Cell::new(None) };
}

impl Scratch {
    /// This thread's stacks (fresh ones when they are in use, as by a nested
    /// evaluation); hand them back with [`Scratch::give_back`].
    pub fn take() -> Scratch {
        SCRATCH.with(std::cell::Cell::take).unwrap_or_default()
    }

    pub fn give_back(self) {
        SCRATCH.with(|cell| cell.set(Some(self)));
    }
}

pub(crate) struct Machine<'e> {
    env: &'e [Value],
    names: &'e [Arc<str>],
    /// Borrowed rather than moved in and out: moving the stacks in and out of each
    /// evaluation, and dropping the emptied husk left behind, cost more than many
    /// a small expression itself.
    scratch: &'e mut Scratch,
    pub budget: Budget,
}

pub(crate) type Eval = Result<Value, Fault>;

impl<'e> Machine<'e> {
    /// A machine over `scratch`'s stacks, which must be empty, and which
    /// [`Machine::finish`] leaves empty again.
    pub fn new(
        env: &'e [Value],
        names: &'e [Arc<str>],
        limits: Limits,
        scratch: &'e mut Scratch,
    ) -> Machine<'e> {
        Machine {
            env,
            names,
            scratch,
            budget: Budget::new(limits),
        }
    }

    /// Empties the stacks (an error may leave frames or locals on them) for the next
    /// evaluation.
    #[inline]
    pub fn finish(&mut self) {
        // Usually empty already; clearing an empty stack still walks the drop glue.
        if !self.scratch.locals.is_empty() {
            self.scratch.locals.clear();
        }
        if !self.scratch.frames.is_empty() {
            self.scratch.frames.clear();
        }
    }

    pub fn frames(&mut self) -> &mut Vec<Frame> {
        &mut self.scratch.frames
    }

    pub fn eval(&mut self, op: &Op) -> Eval {
        self.budget.step(op.pos)?;
        match &op.kind {
            OpKind::Const(v) => Ok(v.clone()),
            OpKind::Env(slot) => Ok(self.env.get(*slot).cloned().unwrap_or(Value::Nil)),
            OpKind::EnvMap => Ok(self.env_map()),
            OpKind::Local(i) => Ok(self.scratch.locals.get(*i).cloned().unwrap_or(Value::Nil)),
            OpKind::Element => Ok(self
                .frame()
                .map(|f| f.element.clone())
                .unwrap_or(Value::Nil)),
            OpKind::ElementIndex => Ok(self
                .frame()
                .map(|f| Value::Int(f.index as i64))
                .unwrap_or(Value::Nil)),
            OpKind::Accumulator => Ok(self.frame().map(|f| f.acc.clone()).unwrap_or(Value::Nil)),
            OpKind::Unary(u, operand) => {
                let v = self.eval(operand)?;
                unary(*u, v, op.pos)
            }
            OpKind::And(l, r) => {
                if self.condition(l, "and")? {
                    self.condition(r, "and").map(Value::Bool)
                } else {
                    Ok(Value::Bool(false))
                }
            }
            OpKind::Or(l, r) => {
                if self.condition(l, "or")? {
                    Ok(Value::Bool(true))
                } else {
                    self.condition(r, "or").map(Value::Bool)
                }
            }
            OpKind::Coalesce(l, r) => match self.eval(l)? {
                Value::Nil => self.eval(r),
                v => Ok(v),
            },
            OpKind::Binary(b @ (BinaryOp::Eq | BinaryOp::Ne), l, r) => {
                // `.type == 'work'`: compare in place when both sides are a variable, a
                // constant or a field of one, counting the steps evaluating them would.
                let (env, locals, frames) = (self.env, &self.scratch.locals, &self.scratch.frames);
                if let (Some((lv, ls)), Some((rv, rs))) =
                    (peek(env, locals, frames, l), peek(env, locals, frames, r))
                {
                    if self.budget.try_steps(ls + rs) {
                        return Ok(Value::Bool(equal(lv, rv) == (*b == BinaryOp::Eq)));
                    }
                }
                let lv = self.eval(l)?;
                let rv = self.eval(r)?;
                operators::binary(*b, lv, rv, op.pos, &mut self.budget)
            }
            OpKind::Binary(BinaryOp::Add, l, r)
                if matches!(l.kind, OpKind::Binary(BinaryOp::Add, ..)) =>
            {
                self.eval_add_chain(l, r, op.pos)
            }
            OpKind::Binary(b, l, r) => {
                let lv = self.eval(l)?;
                let rv = self.eval(r)?;
                operators::binary(*b, lv, rv, op.pos, &mut self.budget)
            }
            OpKind::MatchesConst(l, regex) => match self.eval(l)? {
                Value::Str(s) => Ok(Value::Bool(regex.is_match(&s))),
                other => Err(Fault::runtime(
                    op.pos,
                    format!("invalid operation: {} matches string", other.go_type()),
                )),
            },
            OpKind::Conditional(c, t, e) => match self.eval(c)? {
                Value::Bool(true) => self.eval(t),
                Value::Bool(false) => self.eval(e),
                other => Err(Fault::runtime(
                    c.pos,
                    format!(
                        "non-bool expression (type {}) used as condition",
                        other.go_type()
                    ),
                )),
            },
            OpKind::Chain(inner) => Ok(self.eval_chain(inner)?.unwrap_or(Value::Nil)),
            OpKind::Field { .. } | OpKind::Index { .. } | OpKind::Method { .. } => {
                Ok(self.eval_chain(op)?.unwrap_or(Value::Nil))
            }
            OpKind::Slice { object, from, to } => {
                let object = self.eval(object)?;
                let from = from.as_ref().map(|f| self.eval(f)).transpose()?;
                let to = to.as_ref().map(|t| self.eval(t)).transpose()?;
                operators::slice(
                    &object,
                    from.as_ref(),
                    to.as_ref(),
                    op.pos,
                    &mut self.budget,
                )
            }
            OpKind::Builtin { f, args } => {
                // Most calls take a few arguments: keep them on the stack, and read a
                // lone `jcUser.field` argument in place rather than cloning it.
                let result = if let [arg] = &args[..] {
                    match self.env_field(arg)? {
                        Some(v) => f(&mut self.budget, std::slice::from_ref(v), op.pos)?,
                        None => {
                            let v = self.eval(arg)?;
                            f(&mut self.budget, std::slice::from_ref(&v), op.pos)?
                        }
                    }
                } else if args.len() <= 4 {
                    let mut values: [Value; 4] = Default::default();
                    for (slot, a) in values.iter_mut().zip(args) {
                        *slot = self.eval(a)?;
                    }
                    f(&mut self.budget, &values[..args.len()], op.pos)?
                } else {
                    let mut values = Vec::with_capacity(args.len());
                    for a in args {
                        values.push(self.eval(a)?);
                    }
                    f(&mut self.budget, &values, op.pos)?
                };
                check_depth(result, op.pos)
            }
            OpKind::Predicate {
                kind,
                collection,
                body,
                extra,
            } => {
                let result = crate::predicates::run(
                    self,
                    *kind,
                    collection,
                    body.as_deref(),
                    extra.as_deref(),
                    op.pos,
                )?;
                check_depth(result, op.pos)
            }
            OpKind::Array(items) => {
                self.budget.charge(items.len(), op.pos)?;
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(self.eval(item)?);
                }
                check_depth(Value::array(values), op.pos)
            }
            OpKind::Map(pairs) => self.eval_map(pairs, op.pos),
            OpKind::Let(value, body) => {
                let v = self.eval(value)?;
                self.scratch.locals.push(v);
                let result = self.eval(body);
                self.scratch.locals.pop();
                result
            }
            OpKind::Sequence(ops) => {
                let mut last = Value::Nil;
                for o in ops {
                    last = self.eval(o)?;
                }
                Ok(last)
            }
        }
    }

    /// `a + b + c` (`jcUser.firstname + ' ' + jcUser.lastname`): when all three are
    /// strings the result is built at once, without building `a + b` first; the steps
    /// and memory are counted, and errors raised, as evaluating `a + b` then adding `c`
    /// would count and raise them.
    fn eval_add_chain(&mut self, l: &Op, r: &Op, pos: usize) -> Eval {
        let OpKind::Binary(BinaryOp::Add, ll, lr) = &l.kind else {
            let lv = self.eval(l)?;
            let rv = self.eval(r)?;
            return operators::binary(BinaryOp::Add, lv, rv, pos, &mut self.budget);
        };
        // What evaluating `l` counts for itself.
        self.budget.step(l.pos)?;
        let a = self.operand(ll)?;
        let b = self.operand(lr)?;
        let (a, b) = match (a.get(), b.get()) {
            (Value::Str(a), Value::Str(b)) => (a, b),
            _ => {
                let lv = operators::binary(
                    BinaryOp::Add,
                    a.into_owned(),
                    b.into_owned(),
                    l.pos,
                    &mut self.budget,
                )?;
                let rv = self.eval(r)?;
                return operators::binary(BinaryOp::Add, lv, rv, pos, &mut self.budget);
            }
        };
        self.budget.charge(a.len() + b.len(), l.pos)?;
        let c = self.operand(r)?;
        match c.get() {
            Value::Str(c) => {
                self.budget.charge(a.len() + b.len() + c.len(), pos)?;
                Ok(operators::concat_all(&[a, b, c]))
            }
            _ => {
                let lv = operators::concat_all(&[a, b]);
                operators::binary(BinaryOp::Add, lv, c.into_owned(), pos, &mut self.budget)
            }
        }
    }

    /// An operand that is a constant or `variable.field`, borrowed where it is, or
    /// any other evaluated; the same steps are counted either way.
    fn operand<'a>(&mut self, op: &'a Op) -> Result<Operand<'a>, Fault>
    where
        'e: 'a,
    {
        if let OpKind::Const(v) = &op.kind {
            self.budget.step(op.pos)?;
            return Ok(Operand::Borrowed(v));
        }
        if let Some(v) = self.env_field(op)? {
            return Ok(Operand::Borrowed(v));
        }
        self.eval(op).map(Operand::Owned)
    }

    /// The value of a variable, pointer or constant without evaluating (and cloning)
    /// it; None for any other operation.
    fn borrow<'a>(&'a self, op: &'a Op) -> Option<&'a Value> {
        static NIL: Value = Value::Nil;
        match &op.kind {
            OpKind::Env(slot) => Some(self.env.get(*slot).unwrap_or(&NIL)),
            OpKind::Local(i) => Some(self.scratch.locals.get(*i).unwrap_or(&NIL)),
            OpKind::Element => Some(self.frame().map_or(&NIL, |f| &f.element)),
            OpKind::Const(v) => Some(v),
            _ => None,
        }
    }

    /// The value of `variable.field` (a field of an environment map) borrowed from the
    /// environment, counting the steps evaluating it would; None, with nothing
    /// counted, for any other operation, which must then be evaluated.
    pub(crate) fn env_field(&mut self, op: &Op) -> Result<Option<&'e Value>, Fault> {
        static NIL: Value = Value::Nil;
        let OpKind::Field {
            object,
            key,
            optional,
            hint,
        } = &op.kind
        else {
            return Ok(None);
        };
        let OpKind::Env(slot) = object.kind else {
            return Ok(None);
        };
        let env: &'e [Value] = self.env;
        let value = match env.get(slot) {
            Some(Value::Map(m, _)) => m.get_hinted(key, hint).unwrap_or(&NIL),
            Some(Value::Nil) | None if *optional => &NIL,
            _ => return Ok(None),
        };
        // `eval` then `eval_chain` each count the field.
        self.budget.steps_at(2, op.pos)?;
        Ok(Some(value))
    }

    /// A predicate body of the form `.field == constant` (either side a constant, a
    /// variable or a field of one, `!=` too) tested against `element` without pushing
    /// a frame for it, cloning it or evaluating the sides. It counts exactly the steps
    /// the general path would (one for the comparison, then those [`peek`] gives), and
    /// only when they all fit in the budget; otherwise (None, nothing counted) the
    /// caller takes the general path, which reports the limit where it is reached.
    pub(crate) fn quick_test(&mut self, body: &Op, element: &Value) -> Option<bool> {
        let OpKind::Binary(b @ (BinaryOp::Eq | BinaryOp::Ne), l, r) = &body.kind else {
            return None;
        };
        let locals = &self.scratch.locals;
        let (lv, ls) = peek_element(self.env, locals, element, l)?;
        let (rv, rs) = peek_element(self.env, locals, element, r)?;
        if !self.budget.try_steps(1 + ls + rs) {
            return None;
        }
        Some(equal(lv, rv) == (*b == BinaryOp::Eq))
    }

    fn frame(&self) -> Option<&Frame> {
        self.scratch.frames.last()
    }

    fn env_map(&self) -> Value {
        Value::map(
            self.names
                .iter()
                .zip(self.env)
                .map(|(k, v)| (k.clone(), v.clone())),
        )
    }

    /// Evaluates a boolean operand of `and`/`or`; anything but a bool is an error
    /// because Expr has no truthiness.
    fn condition(&mut self, op: &Op, operator: &str) -> Result<bool, Fault> {
        match self.eval(op)? {
            Value::Bool(b) => Ok(b),
            other => Err(Fault::runtime(
                op.pos,
                format!(
                    "invalid operation: {operator} on {} (expected bool)",
                    other.go_type()
                ),
            )),
        }
    }

    /// Evaluates the spine of an optional chain. `None` means a `?.` met nil and the
    /// whole chain is nil.
    fn eval_chain(&mut self, op: &Op) -> Result<Option<Value>, Fault> {
        match &op.kind {
            OpKind::Field {
                object,
                key,
                optional,
                hint,
            } => {
                self.budget.step(op.pos)?;
                // `jcUser.email`, `#.type`: read the field in place rather than cloning
                // the whole record first.
                if let Some(obj) = self.borrow(object) {
                    if *optional && obj.is_nil() {
                        return Ok(None);
                    }
                    return operators::fetch_field(obj, key, hint, op.pos).map(Some);
                }
                let Some(obj) = self.eval_chain(object)? else {
                    return Ok(None);
                };
                if *optional && obj.is_nil() {
                    return Ok(None);
                }
                operators::fetch_field(&obj, key, hint, op.pos).map(Some)
            }
            OpKind::Index {
                object,
                key,
                optional,
            } => {
                self.budget.step(op.pos)?;
                let Some(obj) = self.eval_chain(object)? else {
                    return Ok(None);
                };
                if *optional && obj.is_nil() {
                    return Ok(None);
                }
                let key = self.eval(key)?;
                operators::fetch(&obj, &key, op.pos).map(Some)
            }
            OpKind::Method {
                object,
                name,
                args,
                optional,
            } => {
                self.budget.step(op.pos)?;
                let Some(obj) = self.eval_chain(object)? else {
                    return Ok(None);
                };
                if *optional && obj.is_nil() {
                    return Ok(None);
                }
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.eval(a)?);
                }
                methods::call(&obj, name, &values, op.pos, &mut self.budget).map(Some)
            }
            _ => self.eval(op).map(Some),
        }
    }

    fn eval_map(&mut self, pairs: &[(Op, Op)], pos: usize) -> Eval {
        self.budget.charge(pairs.len(), pos)?;
        let mut entries = BTreeMap::new();
        for (k, v) in pairs {
            let key = match self.eval(k)? {
                Value::Str(s) => s,
                other @ (Value::Int(_) | Value::Float(_) | Value::Bool(_)) => {
                    Arc::from(crate::gofmt::sprint(&other).as_str())
                }
                other => {
                    return Err(Fault::runtime(
                        k.pos,
                        format!("a map key must be a string, not {}", other.go_type()),
                    ))
                }
            };
            let value = self.eval(v)?;
            entries.insert(key, value);
        }
        check_depth(Value::map(entries), pos)
    }
}

/// A value read in place or computed.
enum Operand<'a> {
    Borrowed(&'a Value),
    Owned(Value),
}

impl Operand<'_> {
    fn get(&self) -> &Value {
        match self {
            Operand::Borrowed(v) => v,
            Operand::Owned(v) => v,
        }
    }

    fn into_owned(self) -> Value {
        match self {
            Operand::Borrowed(v) => v.clone(),
            Operand::Owned(v) => v,
        }
    }
}

/// The value of a variable, constant, predicate element or a field of one of them,
/// borrowed, and the number of evaluation steps evaluating it counts; None for any other
/// operation (or a field of something that is not a map), which must be evaluated.
fn peek<'a>(
    env: &'a [Value],
    locals: &'a [Value],
    frames: &'a [Frame],
    op: &'a Op,
) -> Option<(&'a Value, u64)> {
    static NIL: Value = Value::Nil;
    peek_element(env, locals, frames.last().map_or(&NIL, |f| &f.element), op)
}

/// [`peek`] with `#` standing for `element`.
fn peek_element<'a>(
    env: &'a [Value],
    locals: &'a [Value],
    element: &'a Value,
    op: &'a Op,
) -> Option<(&'a Value, u64)> {
    static NIL: Value = Value::Nil;
    let leaf = |op: &'a Op| -> Option<&'a Value> {
        Some(match &op.kind {
            OpKind::Const(v) => v,
            OpKind::Env(slot) => env.get(*slot).unwrap_or(&NIL),
            OpKind::Local(i) => locals.get(*i).unwrap_or(&NIL),
            OpKind::Element => element,
            _ => return None,
        })
    };
    match &op.kind {
        // `eval` then `eval_chain` each count a field; its object is borrowed uncounted.
        OpKind::Field {
            object,
            key,
            optional,
            hint,
        } => match leaf(object)? {
            Value::Map(m, _) => Some((m.get_hinted(key, hint).unwrap_or(&NIL), 2)),
            Value::Nil if *optional => Some((&NIL, 2)),
            _ => None,
        },
        _ => leaf(op).map(|v| (v, 1)),
    }
}

/// Refuses values nested deeper than [`MAX_VALUE_DEPTH`]; only a loop such as
/// `reduce(1..1000, [#acc])` could build one.
#[inline(always)]
pub(crate) fn check_depth(value: Value, pos: usize) -> Eval {
    if value.depth() > MAX_VALUE_DEPTH {
        return Err(too_deep(pos));
    }
    Ok(value)
}

#[cold]
#[inline(never)]
fn too_deep(pos: usize) -> Fault {
    Fault::limit(
        pos,
        format!("value nested more than {MAX_VALUE_DEPTH} levels deep"),
    )
}

fn unary(op: UnaryOp, v: Value, pos: usize) -> Eval {
    match (op, v) {
        (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (UnaryOp::Neg, Value::Int(i)) => Ok(Value::Int(i.wrapping_neg())),
        (UnaryOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
        (UnaryOp::Neg, Value::Duration(d)) => Ok(Value::Duration(d.wrapping_neg())),
        (UnaryOp::Plus, v @ (Value::Int(_) | Value::Float(_) | Value::Duration(_))) => Ok(v),
        (UnaryOp::Not, v) => Err(Fault::runtime(
            pos,
            format!("invalid operation: not on {} (expected bool)", v.go_type()),
        )),
        (UnaryOp::Neg, v) => Err(Fault::runtime(
            pos,
            format!("invalid operation: - {}", v.go_type()),
        )),
        (UnaryOp::Plus, v) => Err(Fault::runtime(
            pos,
            format!("invalid operation: + {}", v.go_type()),
        )),
    }
}
