use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::error::ScimType;
use crate::schema::{ResourceType, CORE_USER, ENTERPRISE_USER};

fn p(s: &str) -> Filter {
    parse_filter(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn err(s: &str) -> String {
    match parse_filter(s) {
        Ok(f) => panic!("{s} parsed as {f:?}"),
        Err(e) => {
            assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
            e.detail
        }
    }
}

fn eq(attr: &str, v: &str) -> Filter {
    Filter::Compare {
        path: AttrPath::new(attr),
        op: CompareOp::Eq,
        value: CompValue::String(v.into()),
    }
}

fn pr(attr: &str) -> Filter {
    Filter::Present(AttrPath::new(attr))
}

fn and(l: Filter, r: Filter) -> Filter {
    Filter::And(Box::new(l), Box::new(r))
}

fn or(l: Filter, r: Filter) -> Filter {
    Filter::Or(Box::new(l), Box::new(r))
}

#[test]
fn parses_every_operator_case_insensitively() {
    for (text, op) in [
        ("eq", CompareOp::Eq),
        ("NE", CompareOp::Ne),
        ("Co", CompareOp::Co),
        ("sw", CompareOp::Sw),
        ("ew", CompareOp::Ew),
        ("gt", CompareOp::Gt),
        ("ge", CompareOp::Ge),
        ("lt", CompareOp::Lt),
        ("LE", CompareOp::Le),
    ] {
        let f = p(&format!("title {text} \"x\""));
        assert_eq!(
            f,
            Filter::Compare {
                path: AttrPath::new("title"),
                op,
                value: CompValue::String("x".into())
            }
        );
    }
    assert_eq!(p("title PR"), pr("title"));
}

#[test]
fn and_binds_tighter_than_or_and_not_tighter_than_and() {
    assert_eq!(
        p("a pr or b pr and c pr"),
        or(pr("a"), and(pr("b"), pr("c")))
    );
    assert_eq!(
        p("a pr AND b pr Or c pr"),
        or(and(pr("a"), pr("b")), pr("c"))
    );
    assert_eq!(
        p("not (a pr) and b pr"),
        and(Filter::Not(Box::new(pr("a"))), pr("b"))
    );
    assert_eq!(
        p("(a pr or b pr) and c pr"),
        and(or(pr("a"), pr("b")), pr("c"))
    );
}

#[test]
fn parses_value_paths_and_urn_qualified_names() {
    let f = p(r#"emails[type eq "work" and primary eq true]"#);
    let inner = and(
        eq("type", "work"),
        Filter::Compare {
            path: AttrPath::new("primary"),
            op: CompareOp::Eq,
            value: CompValue::Bool(true),
        },
    );
    assert_eq!(
        f,
        Filter::ValuePath {
            attr: AttrPath::new("emails"),
            filter: Box::new(inner.clone())
        }
    );
    let f = p(r#"userName sw "a" and emails[type eq "work" and primary eq true]"#);
    assert!(matches!(f, Filter::And(_, r) if matches!(*r, Filter::ValuePath { .. })));
    let f =
        p(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "42""#);
    assert!(
        matches!(f, Filter::Compare { path, .. } if path.urn.as_deref() == Some(ENTERPRISE_USER) && path.sub_attr.as_deref() == Some("value"))
    );
}

#[test]
fn parses_json_values() {
    let v = |s: &str| match p(&format!("x eq {s}")) {
        Filter::Compare { value, .. } => value,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        v(r#""a\"b\\c\u00e9\n""#),
        CompValue::String("a\"b\\cé\n".into())
    );
    assert_eq!(
        v("-12.5e2"),
        CompValue::Number(serde_json::Number::from_f64(-1250.0).unwrap_or(0.into()))
    );
    assert_eq!(v("42"), CompValue::Number(42.into()));
    assert_eq!(v("True"), CompValue::Bool(true));
    assert_eq!(v("false"), CompValue::Bool(false));
    assert_eq!(v("NULL"), CompValue::Null);
}

#[test]
fn errors_say_what_was_expected_and_where() {
    assert!(err(r#"userName eq bjensen"#).contains("double quotes"));
    assert!(err(r#"userName xx "a""#).contains("expected an operator"));
    assert!(err(r#"userName eq "a" and"#).contains("at the end"));
    assert!(err(r#"(userName eq "a""#).contains("')'"));
    assert!(err(r#"userName eq "a")"#).contains("unbalanced"));
    assert!(err(r#"userName eq "a"#).contains("unterminated"));
    assert!(err(r#"emails[type eq "work"].value eq "x""#).contains("inside the brackets"));
    assert!(err(r#"emails[type eq "work" and x[y pr]]"#).contains("nested"));
    assert!(err(r#"not userName pr"#).contains("parenthesised"));
    assert!(err("").contains("empty"));
    assert!(err(r#"userName eq "a" userName eq "b""#).contains("position 17"));
}

#[test]
fn deep_nesting_is_rejected() {
    let deep = format!("{}a pr{}", "(".repeat(65), ")".repeat(65));
    assert!(err(&deep).contains("too deeply nested"));
    let ok = format!("{}a pr{}", "(".repeat(64), ")".repeat(64));
    assert_eq!(p(&ok), pr("a"));
    let nots = format!("{}a pr{}", "not (".repeat(100), ")".repeat(100));
    assert!(err(&nots).contains("too deeply nested"));
}

#[test]
fn long_filters_are_rejected() {
    let long = format!("userName eq \"{}\"", "a".repeat(MAX_FILTER_LEN));
    assert!(err(&long).contains("bytes long"));
}

fn resolved(s: &str) -> Result<Filter, ScimError> {
    resolve_filter(ResourceType::User, p(s))
}

use crate::error::ScimError;

#[test]
fn resolution_fills_urns_and_canonical_case() {
    let f = resolved(r#"USERNAME eq "a""#).ok();
    assert_eq!(
        f.map(|f| f.to_string()),
        Some(format!("{CORE_USER}:userName eq \"a\""))
    );
    let f = resolved(r#"emails[TYPE eq "work"]"#).ok();
    assert_eq!(
        f.map(|f| f.to_string()),
        Some(format!("{CORE_USER}:emails[type eq \"work\"]"))
    );
}

#[test]
fn a_multi_valued_attribute_without_sub_attribute_compares_its_value() {
    let f = resolved(r#"emails co "x""#).ok();
    assert_eq!(
        f.map(|f| f.to_string()),
        Some(format!("{CORE_USER}:emails.value co \"x\""))
    );
}

#[test]
fn unknown_attributes_are_invalid_filter_naming_them() {
    let e = resolved(r#"nickname2 eq "a""#).err();
    assert!(
        e.as_ref().is_some_and(
            |e| e.scim_type == Some(ScimType::InvalidFilter) && e.detail.contains("nickname2")
        ),
        "{e:?}"
    );
    assert!(resolved(r#"emails[kind eq "work"]"#).is_err());
    assert!(resolved(r#"department eq "x""#).is_err());
}

#[test]
fn nonsense_comparisons_are_rejected() {
    for bad in [
        "active gt true",
        "active co \"t\"",
        "active eq 1",
        "name co \"x\"",
        "addresses eq \"x\"",
        "meta.created co \"2024\"",
        "meta.created gt \"yesterday\"",
        "userName eq true",
        "userName eq null",
        "password eq \"x\"",
        "userName[value eq \"x\"]",
    ] {
        let e = resolved(bad).err().map(|e| e.scim_type);
        assert_eq!(e, Some(Some(ScimType::InvalidFilter)), "{bad}");
    }
    assert_eq!(
        resolved(r#"active eq "True""#).map(|f| f.to_string()),
        Ok(format!("{CORE_USER}:active eq true"))
    );
}

fn user() -> serde_json::Value {
    json!({
        "userName": "Élodie@Example.io",
        "active": true,
        "name": {"givenName": "Élodie", "familyName": "Martin"},
        "emails": [
            {"value": "elodie@example.io", "type": "work", "primary": true},
            {"value": "e@home.example", "type": "home"}
        ],
        "externalId": "AbC",
        "meta": {"created": "2024-05-01T12:00:00+02:00"},
        ENTERPRISE_USER: {"department": "Research", "manager": {"value": "m1"}}
    })
}

fn m(s: &str) -> bool {
    let f = resolved(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    f.matches(ResourceType::User, &user())
}

#[test]
fn matching_honours_case_exactness() {
    assert!(m(r#"userName eq "élodie@example.io""#));
    assert!(m(r#"userName eq "E\u0301LODIE@EXAMPLE.IO""#));
    assert!(!m(r#"externalId eq "abc""#));
    assert!(m(r#"externalId eq "AbC""#));
}

#[test]
fn matching_multi_valued_attributes_means_any_value() {
    assert!(m(r#"emails co "home""#));
    assert!(m(r#"emails.type eq "home""#));
    assert!(m(r#"emails[type eq "work" and primary eq true]"#));
    assert!(!m(r#"emails[type eq "home" and primary eq true]"#));
    assert!(m(r#"emails[type eq "home" and not (primary eq true)]"#));
    // Any-value semantics apply to `ne` too: some email differs from this one.
    assert!(m(r#"emails.value ne "e@home.example""#));
}

#[test]
fn matching_covers_every_operator() {
    assert!(m(
        r#"name.familyName sw "mar" and name.familyName ew "TIN" and name.familyName co "rt""#
    ));
    assert!(m(
        r#"name.familyName gt "M" and name.familyName lt "N" and name.familyName ge "martin" and name.familyName le "martin""#
    ));
    assert!(m("active eq true and not (active ne true)"));
    assert!(m(r#"title pr or name.givenName pr"#));
    assert!(!m("title pr"));
    assert!(m(
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "research""#
    ));
    assert!(m(
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "m1""#
    ));
    assert!(m(r#"title ne "x""#));
}

#[test]
fn datetimes_compare_as_instants() {
    assert!(m(r#"meta.created eq "2024-05-01T10:00:00Z""#));
    assert!(m(r#"meta.created gt "2024-05-01T09:59:59.999Z""#));
    assert!(!m(r#"meta.created gt "2024-05-01T10:00:00Z""#));
}

#[test]
fn present_needs_a_non_empty_value() {
    let doc = json!({"userName": "a", "title": "", "emails": [], "name": {"givenName": null}});
    for attr in ["title", "emails", "name", "nickName"] {
        let f = resolve_filter(ResourceType::User, p(&format!("{attr} pr"))).ok();
        assert_eq!(
            f.map(|f| f.matches(ResourceType::User, &doc)),
            Some(false),
            "{attr}"
        );
    }
}

// ---- property tests ----

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9_-]{0,8}".prop_filter("not a keyword", |s| {
        ![
            "and", "or", "not", "pr", "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "true",
            "false", "null",
        ]
        .contains(&s.to_ascii_lowercase().as_str())
    })
}

fn attr_path(relative: bool) -> impl Strategy<Value = AttrPath> {
    let urn = if relative {
        Just(None).boxed()
    } else {
        prop_oneof![
            Just(None),
            Just(Some(CORE_USER.to_owned())),
            Just(Some(ENTERPRISE_USER.to_owned()))
        ]
        .boxed()
    };
    let sub = if relative {
        Just(None).boxed()
    } else {
        proptest::option::of(name()).boxed()
    };
    (urn, name(), sub).prop_map(|(urn, attr, sub_attr)| AttrPath {
        urn,
        attr,
        sub_attr,
    })
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        any::<i64>().prop_map(|n| CompValue::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(CompValue::Number)),
        any::<String>().prop_map(CompValue::String),
    ]
}

fn op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Eq),
        Just(CompareOp::Ne),
        Just(CompareOp::Co),
        Just(CompareOp::Sw),
        Just(CompareOp::Ew),
        Just(CompareOp::Gt),
        Just(CompareOp::Ge),
        Just(CompareOp::Lt),
        Just(CompareOp::Le),
    ]
}

fn filter_tree(relative: bool) -> BoxedStrategy<Filter> {
    let leaf =
        prop_oneof![
            attr_path(relative).prop_map(Filter::Present),
            (attr_path(relative), op(), comp_value())
                .prop_map(|(path, op, value)| Filter::Compare { path, op, value }),
        ];
    let leaf = if relative {
        leaf.boxed()
    } else {
        prop_oneof![
            3 => leaf,
            1 => (name(), filter_tree(true)).prop_map(|(attr, f)| Filter::ValuePath { attr: AttrPath::new(attr), filter: Box::new(f) }),
        ]
        .boxed()
    };
    leaf.prop_recursive(5, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::Or(Box::new(l), Box::new(r))),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
    .boxed()
}

proptest! {
    #[test]
    fn the_parser_never_panics(s in any::<String>()) {
        let _ = parse_filter(&s);
    }

    #[test]
    fn the_parser_never_panics_on_filter_like_text(s in r#"[a-z\[\]()" .:\\0-9]{0,60}"#) {
        let _ = parse_filter(&s);
        let _ = crate::path::parse_patch_path(&s);
    }

    #[test]
    fn display_then_parse_gives_the_same_tree(f in filter_tree(false)) {
        let text = f.to_string();
        prop_assert_eq!(parse_filter(&text), Ok(f), "{}", text);
    }

    #[test]
    fn resolution_and_matching_never_panic(f in filter_tree(false)) {
        if let Ok(r) = resolve_filter(ResourceType::User, f.clone()) {
            let _ = r.matches(ResourceType::User, &user());
        }
        let _ = f.matches(ResourceType::User, &user());
    }
}

#[test]
fn long_chains_are_bounded_and_the_longest_allowed_works() {
    let chain = |n: usize| format!("{}title pr", "title pr or ".repeat(n));
    assert!(err(&chain(MAX_FILTER_OPERATORS + 1)).contains("operators"));
    let f = resolve_filter(ResourceType::User, p(&chain(MAX_FILTER_OPERATORS)));
    let f = f.unwrap_or_else(|e| panic!("{e}"));
    assert!(!f.matches(ResourceType::User, &user()));
    assert_eq!(parse_filter(&f.to_string()), Ok(f));
}
