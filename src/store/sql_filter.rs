//! Turns a resolved SCIM filter into a SQL condition over `people` or `groups`.
//!
//! Invariant: nothing from the request is spliced into the SQL text. Attribute names come
//! from the schema (resolution rejected anything else) and are bound as JSON paths; every
//! comparison value is a bound parameter.
//!
//! A leaf is NULL when its attribute is missing. AND, OR and WHERE already treat NULL as
//! false, so leaves stay bare (and `userName eq` stays an index lookup); only `not` wraps
//! its operand in `COALESCE(…, 0)` to keep two-valued logic. `ne` adds its own "missing
//! counts as not equal" test.

use keybridge_scim::filter::{CompValue, CompareOp, Filter};
use keybridge_scim::path::AttrPath;
use keybridge_scim::schema::{ResourceType, CORE_GROUP, CORE_USER, KEYBRIDGE_USER};
use keybridge_scim::ScimError;
use rusqlite::types::Value as SqlValue;

/// What the compiler needs to know of an attribute (from the schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrInfo {
    pub kind: AttrKind,
    pub multi_valued: bool,
    pub case_exact: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    String,
    Boolean,
    Number,
    DateTime,
    Complex,
}

/// Looks an attribute up: (urn, attr, optional sub-attribute) in canonical form.
pub type AttrLookup<'a> = &'a dyn Fn(&str, &str, Option<&str>) -> Option<AttrInfo>;

/// A condition and its parameters, numbered from `?1`.
#[derive(Debug, Clone, Default)]
pub struct SqlCondition {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

/// Deepest filter the compiler accepts (the parser bounds it too).
const MAX_DEPTH: usize = 64;

struct Compiler<'a> {
    rt: ResourceType,
    lookup: AttrLookup<'a>,
    params: Vec<SqlValue>,
    aliases: usize,
}

/// Where a compared value comes from.
#[derive(Clone)]
enum Operand {
    /// A column or other SQL expression we wrote ourselves.
    Sql(String),
    /// `json_extract(base, ?path)`.
    Json { base: String, path: String },
}

impl Compiler<'_> {
    fn bind(&mut self, v: SqlValue) -> String {
        self.params.push(v);
        format!("?{}", self.params.len())
    }

    fn operand_sql(&mut self, operand: &Operand) -> String {
        match operand {
            Operand::Sql(s) => s.clone(),
            Operand::Json { base, path } => {
                let p = self.bind(SqlValue::Text(path.clone()));
                format!("json_extract({base}, {p})")
            }
        }
    }

    fn table(&self) -> &'static str {
        match self.rt {
            ResourceType::User => "people",
            ResourceType::Group => "groups",
        }
    }

    fn compile(&mut self, f: &Filter, depth: usize) -> Result<String, ScimError> {
        if depth > MAX_DEPTH {
            return Err(ScimError::invalid_filter("the filter is nested too deeply"));
        }
        Ok(match f {
            Filter::And(a, b) => format!(
                "({} AND {})",
                self.compile(a, depth + 1)?,
                self.compile(b, depth + 1)?
            ),
            Filter::Or(a, b) => format!(
                "({} OR {})",
                self.compile(a, depth + 1)?,
                self.compile(b, depth + 1)?
            ),
            Filter::Not(a) => format!("(NOT COALESCE({}, 0))", self.compile(a, depth + 1)?),
            Filter::Present(path) => self.leaf(path, None, depth)?,
            Filter::Compare { path, op, value } => self.leaf(path, Some((*op, value)), depth)?,
            Filter::ValuePath { attr, filter } => self.value_path(attr, filter, depth)?,
        })
    }

    fn info(&self, urn: &str, attr: &str, sub: Option<&str>) -> Result<AttrInfo, ScimError> {
        (self.lookup)(urn, attr, sub).ok_or_else(|| {
            let name = match sub {
                Some(s) => format!("{attr}.{s}"),
                None => attr.to_owned(),
            };
            ScimError::invalid_filter(format!("the attribute '{name}' cannot be used in a filter"))
        })
    }

    /// A comparison or presence test on a (possibly multi-valued) attribute.
    fn leaf(
        &mut self,
        path: &AttrPath,
        cmp: Option<(CompareOp, &CompValue)>,
        depth: usize,
    ) -> Result<String, ScimError> {
        let urn = path
            .urn
            .clone()
            .unwrap_or_else(|| core_urn(self.rt).to_owned());
        let top = self.info(&urn, &path.attr, None)?;
        if is_membership(self.rt, &urn, &path.attr) {
            let sub = path.sub_attr.clone().unwrap_or_else(|| "value".to_owned());
            let info = self.info(&urn, &path.attr, Some(&sub))?;
            let alias = self.next_alias();
            let (from, operand) = self.membership_source(&alias, &sub)?;
            let test = self.test(&operand, info, cmp)?;
            let exists = format!("EXISTS (SELECT 1 FROM {from} AND {test})");
            return Ok(any_value(exists, cmp, || {
                format!("EXISTS (SELECT 1 FROM {from})")
            }));
        }
        if top.multi_valued {
            let t = self.table();
            let json_path = json_path(self.rt, &urn, &path.attr, None);
            let alias = self.next_alias();
            let p = self.bind(SqlValue::Text(json_path));
            let (operand, info) = if top.kind == AttrKind::Complex {
                let sub = path.sub_attr.clone().unwrap_or_else(|| "value".to_owned());
                let info = self.info(&urn, &path.attr, Some(&sub))?;
                (
                    Operand::Json {
                        base: format!("{alias}.value"),
                        path: format!("$.\"{sub}\""),
                    },
                    info,
                )
            } else {
                (Operand::Sql(format!("{alias}.value")), top)
            };
            let test = self.test(&operand, info, cmp)?;
            let exists =
                format!("EXISTS (SELECT 1 FROM json_each({t}.doc, {p}) AS {alias} WHERE {test})");
            // Bind the presence test's parameters only when `any_value` uses it.
            let present = if is_ne(cmp) {
                self.operand_sql(&operand)
            } else {
                String::new()
            };
            return Ok(any_value(exists, cmp, || {
                format!(
                    "EXISTS (SELECT 1 FROM json_each({t}.doc, {p}) AS {alias} WHERE {})",
                    presence(&present, info.kind)
                )
            }));
        }
        let info = match &path.sub_attr {
            Some(sub) => self.info(&urn, &path.attr, Some(sub))?,
            None => top,
        };
        if info.kind == AttrKind::Complex && cmp.is_some() {
            return Err(ScimError::invalid_filter(format!(
                "'{}' is a complex attribute: compare one of its sub-attributes (for example '{}.value')",
                path.attr, path.attr
            )));
        }
        let _ = depth;
        let operand = self.single_operand(&urn, &path.attr, path.sub_attr.as_deref(), cmp)?;
        let test = self.test(&operand, info, cmp)?;
        let present = if is_ne(cmp) {
            presence(&self.operand_sql(&operand), info.kind)
        } else {
            String::new()
        };
        Ok(any_value(test, cmp, || present))
    }

    /// `attr[filter]`: some value of the multi-valued `attr` satisfies `filter`, whose paths
    /// name sub-attributes.
    fn value_path(
        &mut self,
        attr: &AttrPath,
        filter: &Filter,
        depth: usize,
    ) -> Result<String, ScimError> {
        let urn = attr
            .urn
            .clone()
            .unwrap_or_else(|| core_urn(self.rt).to_owned());
        let top = self.info(&urn, &attr.attr, None)?;
        if !top.multi_valued || top.kind != AttrKind::Complex {
            return Err(ScimError::invalid_filter(format!(
                "'{}[…]' needs a multi-valued complex attribute",
                attr.attr
            )));
        }
        let alias = self.next_alias();
        if is_membership(self.rt, &urn, &attr.attr) {
            let (from, _) = self.membership_source(&alias, "value")?;
            let inner = self.inner(
                &urn,
                &attr.attr,
                filter,
                &Inner::Membership(alias.clone()),
                depth + 1,
            )?;
            return Ok(format!("EXISTS (SELECT 1 FROM {from} AND {inner})"));
        }
        let p = self.bind(SqlValue::Text(json_path(self.rt, &urn, &attr.attr, None)));
        let inner = self.inner(
            &urn,
            &attr.attr,
            filter,
            &Inner::Json(format!("{alias}.value")),
            depth + 1,
        )?;
        Ok(format!(
            "EXISTS (SELECT 1 FROM json_each({}.doc, {p}) AS {alias} WHERE {inner})",
            self.table()
        ))
    }

    fn inner(
        &mut self,
        urn: &str,
        attr: &str,
        f: &Filter,
        ctx: &Inner,
        depth: usize,
    ) -> Result<String, ScimError> {
        if depth > MAX_DEPTH {
            return Err(ScimError::invalid_filter("the filter is nested too deeply"));
        }
        Ok(match f {
            Filter::And(a, b) => {
                format!(
                    "({} AND {})",
                    self.inner(urn, attr, a, ctx, depth + 1)?,
                    self.inner(urn, attr, b, ctx, depth + 1)?
                )
            }
            Filter::Or(a, b) => {
                format!(
                    "({} OR {})",
                    self.inner(urn, attr, a, ctx, depth + 1)?,
                    self.inner(urn, attr, b, ctx, depth + 1)?
                )
            }
            Filter::Not(a) => format!(
                "(NOT COALESCE({}, 0))",
                self.inner(urn, attr, a, ctx, depth + 1)?
            ),
            Filter::ValuePath { .. } => {
                return Err(ScimError::invalid_filter(
                    "a value filter cannot contain another value filter",
                ))
            }
            Filter::Present(p) | Filter::Compare { path: p, .. } => {
                let sub = relative_sub(p);
                let info = self.info(urn, attr, Some(&sub))?;
                let operand = match ctx {
                    Inner::Json(base) => Operand::Json {
                        base: base.clone(),
                        path: format!("$.\"{sub}\""),
                    },
                    Inner::Membership(alias) => self.membership_source(alias, &sub)?.1,
                };
                let cmp = match f {
                    Filter::Compare { op, value, .. } => Some((*op, value)),
                    _ => None,
                };
                self.test(&operand, info, cmp)?
            }
        })
    }

    fn next_alias(&mut self) -> String {
        self.aliases += 1;
        format!("j{}", self.aliases)
    }

    /// The FROM/WHERE start of a membership subquery and the operand for `sub`.
    fn membership_source(
        &mut self,
        alias: &str,
        sub: &str,
    ) -> Result<(String, Operand), ScimError> {
        let (from, person, group) = match self.rt {
            ResourceType::Group => (
                format!("memberships {alias} JOIN people {alias}p ON {alias}p.seq = {alias}.person_seq WHERE {alias}.group_seq = groups.seq"),
                format!("{alias}p"),
                String::new(),
            ),
            ResourceType::User => (
                format!("memberships {alias} JOIN groups {alias}g ON {alias}g.seq = {alias}.group_seq WHERE {alias}.person_seq = people.seq"),
                String::new(),
                format!("{alias}g"),
            ),
        };
        let operand = match (self.rt, sub) {
            (ResourceType::Group, "value") => Operand::Sql(format!("{person}.id")),
            (ResourceType::Group, "display") => Operand::Sql(format!("{person}.display_name")),
            (ResourceType::Group, "type") => Operand::Sql("'User'".into()),
            (ResourceType::User, "value") => Operand::Sql(format!("{group}.id")),
            (ResourceType::User, "display") => Operand::Sql(format!("{group}.display_name")),
            (ResourceType::User, "type") => Operand::Sql("'direct'".into()),
            _ => {
                return Err(ScimError::invalid_filter(format!(
                    "the sub-attribute '{sub}' cannot be used in a filter"
                )))
            }
        };
        Ok((from, operand))
    }

    /// A single-valued attribute: a column where we keep one, else a JSON path.
    fn single_operand(
        &mut self,
        urn: &str,
        attr: &str,
        sub: Option<&str>,
        cmp: Option<(CompareOp, &CompValue)>,
    ) -> Result<Operand, ScimError> {
        let t = self.table();
        let column =
            match (self.rt, urn, attr, sub) {
                (_, _, "id", None) => Some(format!("{t}.id")),
                (_, _, "externalId", None) => Some(format!("{t}.external_id")),
                (_, _, "meta", Some("created")) => Some(format!("{t}.created")),
                (_, _, "meta", Some("lastModified")) => Some(format!("{t}.modified")),
                (ResourceType::User, _, "meta", Some("resourceType")) => Some("'User'".into()),
                (ResourceType::Group, _, "meta", Some("resourceType")) => Some("'Group'".into()),
                (ResourceType::User, CORE_USER, "userName", None) => {
                    // `userName eq` goes through the prepared-key index: one lookup, and the
                    // same Unicode equivalence that uniqueness uses.
                    if let Some((CompareOp::Eq | CompareOp::Ne, CompValue::String(_))) = cmp {
                        Some("people.user_name_key".into())
                    } else {
                        Some("people.user_name".into())
                    }
                }
                (ResourceType::User, CORE_USER, "active", None) => Some("people.active".into()),
                (ResourceType::User, KEYBRIDGE_USER, "state", None) => Some("people.state".into()),
                (ResourceType::User, KEYBRIDGE_USER, "role", None) => Some("people.role".into()),
                (ResourceType::Group, CORE_GROUP, "displayName", None) => {
                    Some("groups.display_name".into())
                }
                (_, _, "meta", Some(_)) => return Err(ScimError::invalid_filter(
                    "only meta.created, meta.lastModified and meta.resourceType can be filtered",
                )),
                _ => None,
            };
        Ok(match column {
            Some(c) => Operand::Sql(c),
            None => Operand::Json {
                base: format!("{t}.doc"),
                path: json_path(self.rt, urn, attr, sub),
            },
        })
    }

    /// The SQL test of one operand against one comparison (or presence).
    fn test(
        &mut self,
        operand: &Operand,
        info: AttrInfo,
        cmp: Option<(CompareOp, &CompValue)>,
    ) -> Result<String, ScimError> {
        let x = self.operand_sql(operand);
        let Some((op, value)) = cmp else {
            return Ok(match info.kind {
                AttrKind::String | AttrKind::DateTime => format!("({x} IS NOT NULL AND {x} <> '')"),
                _ => format!("({x} IS NOT NULL)"),
            });
        };
        if let CompValue::Null = value {
            return match op {
                CompareOp::Eq => Ok(format!("({x} IS NULL)")),
                CompareOp::Ne => Ok(format!("({x} IS NOT NULL)")),
                _ => Err(ScimError::invalid_filter(
                    "null can only be compared with eq or ne",
                )),
            };
        }
        let user_name_key = x == "people.user_name_key";
        match info.kind {
            AttrKind::Boolean => {
                let CompValue::Bool(b) = value else {
                    return Err(ScimError::invalid_filter(
                        "a boolean attribute is compared with true or false",
                    ));
                };
                let v = self.bind(SqlValue::Integer(i64::from(*b)));
                match op {
                    CompareOp::Eq => Ok(format!("({x} = {v})")),
                    CompareOp::Ne => Ok(format!("({x} <> {v})")),
                    _ => Err(ScimError::invalid_filter(
                        "a boolean attribute supports only eq, ne and pr",
                    )),
                }
            }
            AttrKind::Number => {
                let v = match value {
                    CompValue::Number(n) => match n.as_i64() {
                        Some(i) => SqlValue::Integer(i),
                        None => SqlValue::Real(n.as_f64().unwrap_or(0.0)),
                    },
                    _ => {
                        return Err(ScimError::invalid_filter(
                            "a numeric attribute is compared with a number",
                        ))
                    }
                };
                let v = self.bind(v);
                ordered(op, &x, &v, true)
            }
            AttrKind::Complex => Err(ScimError::invalid_filter(
                "a complex attribute cannot be compared",
            )),
            AttrKind::String | AttrKind::DateTime => {
                let text = match value {
                    CompValue::String(s) => s.clone(),
                    CompValue::Number(n) => n.to_string(),
                    CompValue::Bool(b) => b.to_string(),
                    CompValue::Null => String::new(),
                };
                let (x, v) = if info.kind == AttrKind::DateTime {
                    let normal = normalize_datetime(&text).ok_or_else(|| {
                        ScimError::invalid_filter(format!("'{text}' is not a dateTime (RFC 3339)"))
                    })?;
                    (x, self.bind(SqlValue::Text(normal)))
                } else if user_name_key {
                    (
                        x,
                        self.bind(SqlValue::Text(keybridge_scim::username_key(&text))),
                    )
                } else if info.case_exact {
                    (x, self.bind(SqlValue::Text(text)))
                } else {
                    let v = self.bind(SqlValue::Text(text));
                    (format!("kb_fold({x})"), format!("kb_fold({v})"))
                };
                match op {
                    CompareOp::Co => Ok(format!("(instr({x}, {v}) > 0)")),
                    CompareOp::Sw => Ok(format!("(substr({x}, 1, length({v})) = {v})")),
                    CompareOp::Ew => Ok(format!(
                        "({x} IS NOT NULL AND (length({v}) = 0 OR (length({x}) >= length({v}) AND substr({x}, -length({v})) = {v})))"
                    )),
                    _ => ordered(op, &x, &v, true),
                }
            }
        }
    }
}

enum Inner {
    Json(String),
    Membership(String),
}

/// Any-value semantics for a multi-valued attribute (RFC 7644 §3.4.2.2): some value
/// passes the test; for `ne`, a resource with no value at all passes too ("not equal"),
/// as in the protocol crate's in-memory evaluation.
fn any_value(
    exists: String,
    cmp: Option<(CompareOp, &CompValue)>,
    has_value: impl FnOnce() -> String,
) -> String {
    if is_ne(cmp) {
        format!("({exists} OR NOT {})", has_value())
    } else {
        exists
    }
}

/// Whether a value counts as present (`pr`): not null, and for strings not empty.
fn presence(x: &str, kind: AttrKind) -> String {
    match kind {
        AttrKind::String | AttrKind::DateTime => format!("({x} IS NOT NULL AND {x} <> '')"),
        _ => format!("({x} IS NOT NULL)"),
    }
}

fn is_ne(cmp: Option<(CompareOp, &CompValue)>) -> bool {
    matches!(cmp, Some((CompareOp::Ne, v)) if !matches!(v, CompValue::Null))
}

fn ordered(op: CompareOp, x: &str, v: &str, allow_order: bool) -> Result<String, ScimError> {
    let sym = match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Gt if allow_order => ">",
        CompareOp::Ge if allow_order => ">=",
        CompareOp::Lt if allow_order => "<",
        CompareOp::Le if allow_order => "<=",
        _ => {
            return Err(ScimError::invalid_filter(
                "this operator does not apply to this attribute",
            ))
        }
    };
    Ok(format!("({x} {sym} {v})"))
}

fn core_urn(rt: ResourceType) -> &'static str {
    match rt {
        ResourceType::User => CORE_USER,
        ResourceType::Group => CORE_GROUP,
    }
}

fn is_membership(rt: ResourceType, urn: &str, attr: &str) -> bool {
    matches!(
        (rt, urn, attr),
        (ResourceType::Group, CORE_GROUP, "members") | (ResourceType::User, CORE_USER, "groups")
    )
}

/// In a value filter, a path names a sub-attribute: `type` in `emails[type eq "work"]`.
fn relative_sub(p: &AttrPath) -> String {
    match &p.sub_attr {
        Some(s) if p.urn.is_none() => format!("{}.{}", p.attr, s),
        _ => p.attr.clone(),
    }
}

/// The JSON path of an attribute in the stored document: core attributes at the top,
/// extension attributes under their URN key.
pub fn json_path(rt: ResourceType, urn: &str, attr: &str, sub: Option<&str>) -> String {
    let mut path = String::from("$");
    if urn != core_urn(rt) {
        path.push_str(&format!(".\"{urn}\""));
    }
    path.push_str(&format!(".\"{attr}\""));
    if let Some(s) = sub {
        path.push_str(&format!(".\"{s}\""));
    }
    path
}

/// An RFC 3339 instant in the store's fixed-width form, so text order is time order.
pub fn normalize_datetime(s: &str) -> Option<String> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()?;
    Some(super::format_timestamp(t))
}

/// Compiles `filter` (already resolved against the schema) into a SQL condition.
pub fn compile(
    rt: ResourceType,
    filter: &Filter,
    lookup: AttrLookup<'_>,
) -> Result<SqlCondition, ScimError> {
    let mut c = Compiler {
        rt,
        lookup,
        params: Vec::new(),
        aliases: 0,
    };
    let sql = c.compile(filter, 0)?;
    Ok(SqlCondition {
        sql,
        params: c.params,
    })
}

/// An ORDER BY expression for `sortBy` (multi-valued: the primary value, else the first),
/// with its parameters numbered after `first_param`.
pub fn sort_expression(
    rt: ResourceType,
    path: &AttrPath,
    lookup: AttrLookup<'_>,
    params: &mut Vec<SqlValue>,
) -> Result<String, ScimError> {
    let mut c = Compiler {
        rt,
        lookup,
        params: std::mem::take(params),
        aliases: 100,
    };
    let urn = path.urn.clone().unwrap_or_else(|| core_urn(rt).to_owned());
    let top = c.info(&urn, &path.attr, None)?;
    let result = if is_membership(rt, &urn, &path.attr) {
        Err(ScimError::invalid_value("cannot sort by group membership"))
    } else if top.multi_valued {
        let sub = path.sub_attr.clone().unwrap_or_else(|| "value".to_owned());
        let info = c.info(&urn, &path.attr, Some(&sub))?;
        let p = c.bind(SqlValue::Text(json_path(rt, &urn, &path.attr, None)));
        let s = c.bind(SqlValue::Text(format!("$.\"{sub}\"")));
        let value = format!("json_extract(js.value, {s})");
        let value = if info.kind == AttrKind::String && !info.case_exact {
            format!("kb_fold({value})")
        } else {
            value
        };
        Ok(format!(
            "(SELECT {value} FROM json_each({}.doc, {p}) AS js ORDER BY coalesce(json_extract(js.value, '$.primary'), 0) DESC LIMIT 1)",
            c.table()
        ))
    } else {
        let info = match &path.sub_attr {
            Some(sub) => c.info(&urn, &path.attr, Some(sub))?,
            None => top,
        };
        let operand = c.single_operand(&urn, &path.attr, path.sub_attr.as_deref(), None)?;
        let x = c.operand_sql(&operand);
        Ok(if info.kind == AttrKind::String && !info.case_exact {
            format!("kb_fold({x})")
        } else {
            x
        })
    };
    *params = c.params;
    result
}
