//! A compiled expression: parse and check once, evaluate many times.

use std::sync::Arc;

use crate::ast::Node;
use crate::compile::{compile, Op};
use crate::error::{ExprError, Fault};
use crate::eval::{Limits, Machine, Scratch};
use crate::parser::parse;
use crate::value::Value;

/// An Expr program compiled against a fixed list of variable names.
///
/// Compiling resolves every name, so `jcuser.email` fails here ("unknown name jcuser
/// (did you mean jcUser?)") rather than at the first user.
#[derive(Debug)]
pub struct Expression {
    source: Arc<str>,
    ast: Node,
    op: Op,
    variables: Vec<Arc<str>>,
}

impl Expression {
    /// Parses and compiles `source`; `variables` are the names the environment will
    /// provide, in the order [`Expression::eval`] takes their values.
    pub fn compile(source: &str, variables: &[&str]) -> Result<Expression, ExprError> {
        let ast = parse(source)?;
        let variables: Vec<Arc<str>> = variables.iter().map(|v| Arc::from(*v)).collect();
        let op = compile(&ast, source, &variables)?;
        Ok(Expression {
            source: Arc::from(source),
            ast,
            op,
            variables,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The syntax tree, e.g. to print it normalised.
    pub fn ast(&self) -> &Node {
        &self.ast
    }

    pub fn variables(&self) -> &[Arc<str>] {
        &self.variables
    }

    /// The fields of the `slot`-th variable the expression reads, when it reads that
    /// variable only as `variable.field`; None when it may read any field.
    pub fn fields_of(&self, slot: usize) -> Option<Vec<Arc<str>>> {
        let mut out = Vec::new();
        self.op.fields_of(slot, &mut out).then_some(out)
    }

    /// Evaluates with `env[i]` as the value of the i-th variable, within the default
    /// [`Limits`].
    pub fn eval(&self, env: &[Value]) -> Result<Value, ExprError> {
        self.eval_with_limits(env, Limits::default())
    }

    pub fn eval_with_limits(&self, env: &[Value], limits: Limits) -> Result<Value, ExprError> {
        let mut scratch = Scratch::take();
        let result = self.eval_in(env, limits, &mut scratch);
        scratch.give_back();
        result
    }

    /// Evaluates with stacks the caller keeps: mapping a user evaluates several
    /// expressions, and fetching this thread's stacks once for all of them is cheaper
    /// than once for each.
    pub(crate) fn eval_in(
        &self,
        env: &[Value],
        limits: Limits,
        scratch: &mut Scratch,
    ) -> Result<Value, ExprError> {
        self.eval_unbound(env, limits, scratch)
            .map_err(|fault| fault.bind(&self.source))
    }

    /// [`Expression::eval_in`] with the error not yet placed in the source: mapping a
    /// row returns the small `Fault` and places only the rare error, rather than moving
    /// the large `Result` of every evaluation.
    #[inline]
    pub(crate) fn eval_unbound(
        &self,
        env: &[Value],
        limits: Limits,
        scratch: &mut Scratch,
    ) -> Result<Value, Fault> {
        let mut machine = Machine::new(env, &self.variables, limits, scratch);
        let result = machine.eval(&self.op);
        machine.finish();
        result
    }
}
