//! List and search requests (RFC 7644 §3.4.2 and §3.4.3): their parameters, from a query
//! string or a `POST /.search` body, and the ListResponse.

use serde_json::{json, Map, Value};

use crate::error::ScimError;
use crate::filter::{parse_filter, resolve_filter, Filter};
use crate::path::{parse_attr_path, AttrPath};
use crate::projection::parse_attribute_list;
use crate::schema::{resolve_attr, ResourceType, LIST_RESPONSE};
use crate::value::describe;

/// A parsed, resolved list request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Resolved against the resource type (see [`resolve_filter`]).
    pub filter: Option<Filter>,
    /// 1-based; values below 1 are read as 1 (RFC 7644 §3.4.2.4).
    pub start_index: u64,
    /// `None` when the client did not ask: the caller picks its default page size.
    /// Negative values are read as 0 and values above the caller's maximum are capped.
    pub count: Option<u64>,
    /// Resolved; a complex attribute with a `value` sub-attribute is sorted by it
    /// (`emails` → `emails.value`: for multi-valued ones, the primary or first value).
    pub sort_by: Option<AttrPath>,
    pub descending: bool,
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

/// The ListResponse of RFC 7644 §3.4.2 (counts as JSON integers; `itemsPerPage` is the
/// number of items on this page).
pub fn list_response(total: u64, start_index: u64, items: Vec<Value>) -> Value {
    // Built by hand: `json!` would serialise `items` into a new `Value`, a deep copy of
    // every resource on the page.
    let mut out = Map::new();
    out.insert("schemas".into(), json!([LIST_RESPONSE]));
    out.insert("totalResults".into(), json!(total));
    out.insert("itemsPerPage".into(), json!(items.len()));
    out.insert("startIndex".into(), json!(start_index));
    out.insert("Resources".into(), Value::Array(items));
    Value::Object(out)
}

/// Parses the query parameters of `GET /Users` or `GET /Groups`. Parameter names are
/// matched case-insensitively; unknown ones are ignored; an empty `filter=` means none.
/// `max_count` caps `count`.
pub fn parse_list_params<K: AsRef<str>, V: AsRef<str>>(
    rt: ResourceType,
    params: impl IntoIterator<Item = (K, V)>,
    max_count: u64,
) -> Result<ListQuery, ScimError> {
    let mut q = ListQuery {
        filter: None,
        start_index: 1,
        count: None,
        sort_by: None,
        descending: false,
        attributes: Vec::new(),
        excluded: Vec::new(),
    };
    let mut sort_order: Option<String> = None;
    for (key, value) in params {
        let (key, value) = (key.as_ref(), value.as_ref().trim());
        let is = |name: &str| key.eq_ignore_ascii_case(name);
        if is("filter") {
            q.filter = if value.is_empty() {
                None
            } else {
                Some(resolve_filter(rt, parse_filter(value)?)?)
            };
        } else if is("startIndex") {
            q.start_index =
                u64::try_from(parse_integer("startIndex", value)?.max(1)).unwrap_or(u64::MAX);
        } else if is("count") {
            let n = parse_integer("count", value)?.max(0);
            q.count = Some(u64::try_from(n).unwrap_or(u64::MAX).min(max_count));
        } else if is("sortBy") {
            q.sort_by = if value.is_empty() {
                None
            } else {
                Some(resolve_sort_by(rt, value)?)
            };
        } else if is("sortOrder") {
            sort_order = Some(value.to_owned());
        } else if is("attributes") {
            q.attributes = parse_attribute_list(rt, value)?;
        } else if is("excludedAttributes") {
            q.excluded = parse_attribute_list(rt, value)?;
        }
    }
    q.descending = match sort_order.as_deref() {
        None | Some("") => false,
        Some(s) if s.eq_ignore_ascii_case("ascending") => false,
        Some(s) if s.eq_ignore_ascii_case("descending") => true,
        Some(s) => {
            return Err(ScimError::invalid_value(format!(
                "sortOrder must be \"ascending\" or \"descending\", not \"{s}\""
            )))
        }
    };
    Ok(q)
}

/// Parses a SearchRequest body (`POST /Users/.search`, RFC 7644 §3.4.3) with the same
/// semantics as the query parameters. `startIndex` and `count` must be integers;
/// `attributes` and `excludedAttributes` are arrays of names (a comma-separated string is
/// accepted too).
pub fn parse_search_request(
    rt: ResourceType,
    body: &Value,
    max_count: u64,
) -> Result<ListQuery, ScimError> {
    let Value::Object(map) = body else {
        return Err(ScimError::invalid_syntax(format!(
            "a search request must be a JSON object (a SearchRequest), but it is {}",
            describe(body)
        )));
    };
    let mut params: Vec<(String, String)> = Vec::new();
    for (key, value) in map {
        let text = match (key.to_ascii_lowercase().as_str(), value) {
            ("schemas", _) | (_, Value::Null) => continue,
            ("startindex" | "count", Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
            ("startindex" | "count", Value::String(s)) => s.clone(),
            ("startindex" | "count", other) => {
                return Err(ScimError::invalid_value(format!(
                    "{key} must be an integer, but the request has {}",
                    describe(other)
                )))
            }
            ("attributes" | "excludedattributes", Value::Array(items)) => {
                let mut names = Vec::with_capacity(items.len());
                for item in items {
                    match item.as_str() {
                        Some(s) => names.push(s),
                        None => {
                            return Err(ScimError::invalid_value(format!(
                                "{key} must be an array of attribute names, but it holds {}",
                                describe(item)
                            )))
                        }
                    }
                }
                names.join(",")
            }
            (_, Value::String(s)) => s.clone(),
            (_, other) => {
                return Err(ScimError::invalid_value(format!(
                    "{key} must be a string, but the request has {}",
                    describe(other)
                )))
            }
        };
        params.push((key.clone(), text));
    }
    parse_list_params(rt, params, max_count)
}

fn parse_integer(name: &str, value: &str) -> Result<i128, ScimError> {
    value.parse::<i128>().map_err(|_| {
        ScimError::invalid_value(format!("{name} must be an integer, not \"{value}\""))
    })
}

fn resolve_sort_by(rt: ResourceType, value: &str) -> Result<AttrPath, ScimError> {
    let path = parse_attr_path(value)
        .map_err(|e| ScimError::invalid_value(format!("sortBy: {}", e.detail)))?;
    let mut resolved = resolve_attr(rt, &path)
        .map_err(|e| ScimError::invalid_value(format!("sortBy: {}", e.detail)))?;
    if resolved.sub_attr.is_none() && resolved.attr.is_complex() {
        resolved.sub_attr = Some(resolved.attr.sub_attribute("value").ok_or_else(|| {
            ScimError::invalid_value(format!(
                "sortBy: \"{}\" is complex; sort by one of its sub-attributes, such as {}.{}",
                resolved.attr.name,
                resolved.attr.name,
                resolved
                    .attr
                    .sub_attributes
                    .first()
                    .map_or("value", |s| s.name)
            ))
        })?);
    }
    if resolved.leaf().returned == crate::schema::Returned::Never {
        return Err(ScimError::invalid_value(format!(
            "sortBy: \"{}\" cannot be sorted by",
            resolved.display_name()
        )));
    }
    Ok(resolved.to_path())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use crate::schema::CORE_USER;

    fn q(params: &[(&str, &str)]) -> Result<ListQuery, ScimError> {
        parse_list_params(ResourceType::User, params.iter().copied(), 200)
    }

    fn scim_type(r: Result<ListQuery, ScimError>) -> Option<ScimType> {
        r.err().and_then(|e| e.scim_type)
    }

    #[test]
    fn defaults() {
        let v = q(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (v.filter, v.start_index, v.count, v.sort_by, v.descending),
            (None, 1, None, None, false)
        );
    }

    #[test]
    fn okta_existence_check() {
        let v = q(&[
            ("filter", "userName eq \"x\""),
            ("startIndex", "1"),
            ("count", "100"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            v.filter.map(|f| f.to_string()),
            Some(format!("{CORE_USER}:userName eq \"x\""))
        );
        assert_eq!((v.start_index, v.count), (1, Some(100)));
    }

    #[test]
    fn out_of_range_numbers_are_clamped() {
        let v = q(&[("startIndex", "-5"), ("count", "-1")]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((v.start_index, v.count), (1, Some(0)));
        let v = q(&[("count", "99999999999999999999")]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.count, Some(200));
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert_eq!(
            scim_type(q(&[("count", "ten")])),
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            scim_type(q(&[("startIndex", "1.5")])),
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            scim_type(q(&[("sortOrder", "up")])),
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            scim_type(q(&[("sortBy", "nope")])),
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            scim_type(q(&[("sortBy", "name")])),
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            scim_type(q(&[("filter", "userName eq")])),
            Some(ScimType::InvalidFilter)
        );
        assert_eq!(
            scim_type(q(&[("filter", "nope eq \"x\"")])),
            Some(ScimType::InvalidFilter)
        );
    }

    #[test]
    fn sorting() {
        let v = q(&[("SORTBY", "name.familyName"), ("sortorder", "Descending")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            v.sort_by.map(|p| p.to_string()),
            Some(format!("{CORE_USER}:name.familyName"))
        );
        assert!(v.descending);
        let v = q(&[("sortBy", "emails")]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.sort_by.and_then(|p| p.sub_attr), Some("value".into()));
    }

    #[test]
    fn search_request_body_has_the_same_semantics() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "attributes": ["displayName", "userName"], "excludedAttributes": "emails",
            "filter": "displayName sw \"smith\"", "startIndex": 1, "count": 10, "sortOrder": "descending"
        });
        let v =
            parse_search_request(ResourceType::User, &body, 200).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((v.start_index, v.count, v.descending), (1, Some(10), true));
        assert_eq!(v.attributes.len(), 2);
        assert_eq!(v.excluded.len(), 1);
        for bad in [
            json!({"count": 1.5}),
            json!({"startIndex": "x"}),
            json!({"count": true}),
            json!({"attributes": [1]}),
            json!([]),
        ] {
            assert!(
                parse_search_request(ResourceType::User, &bad, 200).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn list_response_counts_are_integers() {
        let v = list_response(3, 2, vec![json!({"id": "a"})]);
        assert_eq!(v["totalResults"], 3);
        assert_eq!(v["itemsPerPage"], 1);
        assert_eq!(v["startIndex"], 2);
        assert_eq!(v["schemas"][0], LIST_RESPONSE);
        assert_eq!(
            v.to_string(),
            format!(
                r#"{{"schemas":["{LIST_RESPONSE}"],"totalResults":3,"itemsPerPage":1,"startIndex":2,"Resources":[{{"id":"a"}}]}}"#
            ),
            "the same text, in the same order, as before"
        );
    }
}
