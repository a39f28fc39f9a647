//! Which attributes a response carries (RFC 7644 §3.4.2.5 and the `returned`
//! characteristic of RFC 7643 §7).
//!
//! - `returned: always` (`id`; and `schemas`, which every resource needs to be read) is
//!   in every response and cannot be excluded.
//! - `returned: never` (`password`) is in none.
//! - `returned: request` appears only when listed in `attributes`.
//! - `returned: default` (everything else, `userName` and `meta` included) appears unless
//!   `attributes` lists other attributes only, or `excludedAttributes` names it.
//!
//! Attribute names that a resource type does not have are ignored in both lists: the RFC
//! does not make them errors, and a client asking for an attribute Keybridge does not
//! serve simply does not get it.

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::path::{parse_attr_path, AttrPath};
use crate::schema::{common_attributes, resolve_attr, AttrDef, ResourceType, Returned, SchemaDef};

/// Parses an `attributes` or `excludedAttributes` value: comma-separated attribute paths
/// (`userName,name.givenName,urn:...:enterprise:2.0:User:department`). A bare schema URN
/// stands for all of that schema's attributes. Names the resource type does not have are
/// dropped; malformed names are `400 invalidValue`.
pub fn parse_attribute_list(rt: ResourceType, text: &str) -> Result<Vec<AttrPath>, ScimError> {
    parse_attribute_names(rt, text.split(','))
}

/// Like [`parse_attribute_list`], for names already split (a SearchRequest's arrays).
pub fn parse_attribute_names<'a>(
    rt: ResourceType,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<AttrPath>, ScimError> {
    let mut out: Vec<AttrPath> = Vec::new();
    let mut push = |p: AttrPath| {
        if !out.contains(&p) {
            out.push(p);
        }
    };
    for name in names.into_iter().map(str::trim).filter(|n| !n.is_empty()) {
        if let Some(schema) = rt.schema(name) {
            for def in schema.attributes {
                push(AttrPath {
                    urn: Some(schema.id.to_owned()),
                    attr: def.name.to_owned(),
                    sub_attr: None,
                });
            }
            continue;
        }
        let path = parse_attr_path(name)
            .map_err(|e| ScimError::invalid_value(format!("attribute list: {}", e.detail)))?;
        if let Ok(resolved) = resolve_attr(rt, &path) {
            push(resolved.to_path());
        }
    }
    Ok(out)
}

/// Projects a full rendered resource (`schemas`, `id`, `meta`, attributes, extension
/// objects, and `members` for groups) to the attributes a response should carry.
/// `attributes` and `excluded` hold resolved paths (see [`parse_attribute_list`]); when
/// both are given, `attributes` selects and `excluded` then removes.
pub fn project(
    rt: ResourceType,
    doc: &Value,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> Value {
    let Value::Object(map) = doc else {
        return doc.clone();
    };
    let sel = Selection {
        attributes,
        excluded,
    };
    let mut out = Map::new();
    for (key, value) in map {
        if key.eq_ignore_ascii_case("schemas") {
            out.insert(key.clone(), value.clone());
        } else if let Some(ext) = rt.extension(key) {
            if let Value::Object(inner) = value {
                let projected = project_schema(ext, inner, &sel);
                if !projected.is_empty() {
                    out.insert(key.clone(), Value::Object(projected));
                }
            }
        } else {
            let core = rt.core_schema();
            let def = core.attribute(key).or_else(|| {
                common_attributes()
                    .iter()
                    .find(|a| a.name.eq_ignore_ascii_case(key))
            });
            match def {
                Some(def) => {
                    if let Some(v) = sel.project_attr(core.id, def, value) {
                        out.insert(key.clone(), v);
                    }
                }
                // Not an attribute of the schema: treated as `returned: default`.
                None if attributes.is_empty() => {
                    out.insert(key.clone(), value.clone());
                }
                None => {}
            }
        }
    }
    Value::Object(out)
}

fn project_schema(
    schema: &SchemaDef,
    inner: &Map<String, Value>,
    sel: &Selection<'_>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in inner {
        match schema.attribute(key) {
            Some(def) => {
                if let Some(v) = sel.project_attr(schema.id, def, value) {
                    out.insert(key.clone(), v);
                }
            }
            None if sel.attributes.is_empty() => {
                out.insert(key.clone(), value.clone());
            }
            None => {}
        }
    }
    out
}

struct Selection<'a> {
    attributes: &'a [AttrPath],
    excluded: &'a [AttrPath],
}

/// Which sub-attributes of a complex attribute to keep.
enum Subs<'a> {
    All,
    Only(Vec<&'a str>),
    AllBut(Vec<&'a str>),
}

fn same_attr(p: &AttrPath, urn: &str, def: &AttrDef) -> bool {
    p.attr.eq_ignore_ascii_case(def.name)
        && p.urn.as_deref().is_none_or(|u| u.eq_ignore_ascii_case(urn))
}

impl Selection<'_> {
    fn project_attr(&self, urn: &str, def: &AttrDef, value: &Value) -> Option<Value> {
        let subs = match def.returned {
            Returned::Never => return None,
            Returned::Always => Subs::All,
            _ => {
                let subs = if self.attributes.is_empty() {
                    if def.returned == Returned::Request {
                        return None;
                    }
                    Subs::All
                } else {
                    self.requested(urn, def)?
                };
                self.minus_excluded(urn, def, subs)?
            }
        };
        let keep = |name: &str| -> bool {
            let Some(sub) = def.sub_attribute(name) else {
                return matches!(subs, Subs::All | Subs::AllBut(_));
            };
            let listed = |names: &Vec<&str>| names.iter().any(|n| n.eq_ignore_ascii_case(sub.name));
            sub.returned != Returned::Never
                && match &subs {
                    Subs::All => sub.returned != Returned::Request,
                    Subs::Only(names) => listed(names) || sub.returned == Returned::Always,
                    Subs::AllBut(names) => !listed(names) && sub.returned != Returned::Request,
                }
        };
        if !def.is_complex() {
            return Some(value.clone());
        }
        let filter_obj = |v: &Value| -> Option<Value> {
            let Value::Object(m) = v else {
                return Some(v.clone());
            };
            let kept: Map<String, Value> = m
                .iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        };
        match value {
            Value::Array(items) => {
                let kept: Vec<Value> = items.iter().filter_map(filter_obj).collect();
                (!kept.is_empty()).then_some(Value::Array(kept))
            }
            other => filter_obj(other),
        }
    }

    /// With an `attributes` list: the whole attribute, some sub-attributes, or nothing.
    fn requested(&self, urn: &str, def: &AttrDef) -> Option<Subs<'_>> {
        let mut subs = Vec::new();
        for p in self.attributes.iter().filter(|p| same_attr(p, urn, def)) {
            match &p.sub_attr {
                None => return Some(Subs::All),
                Some(s) => subs.push(s.as_str()),
            }
        }
        (!subs.is_empty()).then_some(Subs::Only(subs))
    }

    fn minus_excluded<'s>(&'s self, urn: &str, def: &AttrDef, subs: Subs<'s>) -> Option<Subs<'s>> {
        let mut gone = Vec::new();
        for p in self.excluded.iter().filter(|p| same_attr(p, urn, def)) {
            match &p.sub_attr {
                None => return None,
                Some(s) => gone.push(s.as_str()),
            }
        }
        if gone.is_empty() {
            return Some(subs);
        }
        Some(match subs {
            Subs::All | Subs::AllBut(_) => Subs::AllBut(gone),
            Subs::Only(names) => Subs::Only(
                names
                    .into_iter()
                    .filter(|n| !gone.iter().any(|g| g.eq_ignore_ascii_case(n)))
                    .collect(),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{CORE_GROUP, CORE_USER, ENTERPRISE_USER};
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": [CORE_USER, ENTERPRISE_USER],
            "id": "u1",
            "userName": "ada@example.io",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "ada@example.io", "type": "work"}, {"value": "a@home", "type": "home"}],
            "password": "never",
            "meta": {"resourceType": "User", "version": "W/\"1\""},
            ENTERPRISE_USER: {"department": "Research", "employeeNumber": "7"}
        })
    }

    fn list(s: &str) -> Vec<AttrPath> {
        parse_attribute_list(ResourceType::User, s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn proj(attrs: &str, excluded: &str) -> Value {
        project(ResourceType::User, &user(), &list(attrs), &list(excluded))
    }

    #[test]
    fn the_default_set_drops_never_returned_attributes() {
        let mut want = user();
        if let Some(m) = want.as_object_mut() {
            m.remove("password");
        }
        assert_eq!(proj("", ""), want);
    }

    #[test]
    fn attributes_keep_the_listed_ones_plus_id_and_schemas() {
        assert_eq!(
            proj("userName,name.givenName", ""),
            json!({"schemas": [CORE_USER, ENTERPRISE_USER], "id": "u1", "userName": "ada@example.io", "name": {"givenName": "Ada"}})
        );
    }

    #[test]
    fn sub_attributes_of_multi_valued_attributes_can_be_selected() {
        let v = proj("emails.value", "");
        assert_eq!(
            v["emails"],
            json!([{"value": "ada@example.io"}, {"value": "a@home"}])
        );
    }

    #[test]
    fn urn_qualified_names_select_extension_attributes() {
        let v = proj(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "",
        );
        assert_eq!(v[ENTERPRISE_USER], json!({"department": "Research"}));
        let v = proj(ENTERPRISE_USER, "");
        assert_eq!(
            v[ENTERPRISE_USER],
            json!({"department": "Research", "employeeNumber": "7"})
        );
        assert!(v.get("userName").is_none());
    }

    #[test]
    fn excluded_attributes_remove_but_never_id() {
        let v = proj("", "emails,id,name.familyName,meta,password");
        assert_eq!(v["id"], "u1");
        assert!(v.get("emails").is_none() && v.get("meta").is_none());
        assert_eq!(v["name"], json!({"givenName": "Ada"}));
    }

    #[test]
    fn entra_excludes_members_from_group_lookups() {
        let group = json!({"schemas": [CORE_GROUP], "id": "g1", "displayName": "Eng", "members": [{"value": "u1"}]});
        let excluded = parse_attribute_list(ResourceType::Group, "members").unwrap_or_default();
        assert_eq!(
            project(ResourceType::Group, &group, &[], &excluded),
            json!({"schemas": [CORE_GROUP], "id": "g1", "displayName": "Eng"})
        );
    }

    #[test]
    fn unknown_names_are_ignored_and_malformed_ones_rejected() {
        assert_eq!(
            list("nope, userName ,,"),
            vec![AttrPath {
                urn: Some(CORE_USER.into()),
                attr: "userName".into(),
                sub_attr: None
            }]
        );
        let e = parse_attribute_list(ResourceType::User, "emails[type eq \"work\"]").err();
        assert_eq!(
            e.map(|e| e.scim_type),
            Some(Some(crate::ScimType::InvalidValue))
        );
    }
}
