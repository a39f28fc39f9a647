//! Attribute paths (RFC 7644 §3.10) and PATCH paths (§3.5.2).

use std::fmt;

use crate::error::{ScimError, ScimType};
use crate::filter::parse::Parser;
use crate::filter::Filter;

/// `[URN ":"] attr ["." subAttr]`, with names as written until resolved against a schema.
/// After resolution (`schema::resolve_*`) `urn` is always set and names carry the
/// schema's canonical case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    pub urn: Option<String>,
    pub attr: String,
    pub sub_attr: Option<String>,
}

/// A PATCH `path`: an attribute path, optionally with a value filter and a sub-attribute
/// after it (`emails[type eq "work"].value`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub value_filter: Option<Filter>,
    /// Only with `value_filter`: the sub-attribute after `]`.
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// A bare path `attr` (no URN, no sub-attribute).
    pub fn new(attr: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            attr: attr.into(),
            sub_attr: None,
        }
    }

    /// `attr.sub` without a URN.
    pub fn with_sub(attr: impl Into<String>, sub: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            attr: attr.into(),
            sub_attr: Some(sub.into()),
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.value_filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// Characters that may appear in an attribute path token (names, `$ref`, URNs).
pub(crate) fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '$' | ':' | '.')
}

/// `ATTRNAME = ALPHA *(nameChar)`, plus `$ref` which RFC 7643 uses for references.
fn is_attr_name(s: &str) -> bool {
    let body = s.strip_prefix('$').unwrap_or(s);
    let mut chars = body.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Splits an attribute path token into URN, attribute and sub-attribute. The URN is
/// everything before the last `:` (URNs contain dots, as in `2.0`, so the split on `.`
/// happens only after it). Returns a detail for the admin on failure.
pub(crate) fn split_attr_path(token: &str) -> Result<AttrPath, String> {
    let (urn, rest) = match token.rfind(':') {
        Some(i) => {
            let urn = token.get(..i).unwrap_or_default();
            let rest = token.get(i + 1..).unwrap_or_default();
            if urn.is_empty() {
                return Err(format!(
                    "\"{token}\" starts with ':'; expected a schema URN before it"
                ));
            }
            if rest.is_empty() {
                return Err(format!(
                    "\"{token}\" ends with ':'; name an attribute after the schema URN"
                ));
            }
            (Some(urn.to_owned()), rest)
        }
        None => (None, token),
    };
    let mut parts = rest.split('.');
    let attr = parts.next().unwrap_or_default();
    let sub = parts.next();
    if parts.next().is_some() {
        return Err(format!(
            "\"{token}\" has more than one '.'; SCIM paths go at most one level deep (attr.subAttr)"
        ));
    }
    if !is_attr_name(attr) {
        return Err(format!(
            "\"{attr}\" is not a valid attribute name in \"{token}\""
        ));
    }
    if let Some(sub) = sub {
        if !is_attr_name(sub) {
            return Err(format!(
                "\"{sub}\" is not a valid sub-attribute name in \"{token}\""
            ));
        }
    }
    Ok(AttrPath {
        urn,
        attr: attr.to_owned(),
        sub_attr: sub.map(str::to_owned),
    })
}

/// Parses `[URN ":"] attr ["." subAttr]`; errors are `400 invalidPath`.
pub fn parse_attr_path(s: &str) -> Result<AttrPath, ScimError> {
    let token = s.trim();
    if token.is_empty() {
        return Err(ScimError::invalid_path("the attribute path is empty"));
    }
    if let Some(bad) = token.chars().find(|c| !is_path_char(*c)) {
        return Err(ScimError::invalid_path(format!(
            "unexpected character '{bad}' in the attribute path \"{token}\""
        )));
    }
    split_attr_path(token).map_err(ScimError::invalid_path)
}

/// Parses a PATCH path (RFC 7644 §3.5.2 `PATH = attrPath / valuePath [subAttr]`):
/// `name.givenName`, `members[value eq "id"]`, `emails[type eq "work"].value`, or a
/// URN-qualified attribute. Errors are `400 invalidPath`.
pub fn parse_patch_path(s: &str) -> Result<PatchPath, ScimError> {
    let s = s.trim();
    let Some(open) = s.find('[') else {
        let attr = parse_attr_path(s)?;
        return Ok(PatchPath {
            attr,
            value_filter: None,
            sub_attr: None,
        });
    };
    let attr = parse_attr_path(s.get(..open).unwrap_or_default())?;
    if attr.sub_attr.is_some() {
        return Err(ScimError::invalid_path(format!(
            "\"{s}\": a value filter must follow a multi-valued attribute, not a sub-attribute"
        )));
    }
    let mut parser = Parser::at(s, open + 1);
    let filter = parser.parse_value_filter().map_err(|e| {
        ScimError::bad_request(
            ScimType::InvalidPath,
            format!(
                "in the value filter of the PATCH path \"{s}\": {}",
                e.detail
            ),
        )
    })?;
    let rest = parser.rest();
    let sub_attr = if rest.is_empty() {
        None
    } else {
        let sub = rest.strip_prefix('.').filter(|sub| is_attr_name(sub)).ok_or_else(|| {
            ScimError::invalid_path(format!(
                "unexpected \"{rest}\" after the value filter in \"{s}\"; only \".subAttribute\" may follow ']'"
            ))
        })?;
        Some(sub.to_owned())
    };
    Ok(PatchPath {
        attr,
        value_filter: Some(filter),
        sub_attr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{CompValue, CompareOp};

    fn cmp(attr: &str, v: &str) -> Filter {
        Filter::Compare {
            path: AttrPath::new(attr),
            op: CompareOp::Eq,
            value: CompValue::String(v.into()),
        }
    }

    #[test]
    fn parses_a_sub_attribute_path() {
        assert_eq!(
            parse_attr_path("name.givenName"),
            Ok(AttrPath::with_sub("name", "givenName"))
        );
    }

    #[test]
    fn parses_a_urn_qualified_extension_attribute() {
        let p = parse_attr_path(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        );
        assert_eq!(
            p,
            Ok(AttrPath {
                urn: Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into()),
                attr: "employeeNumber".into(),
                sub_attr: None
            })
        );
    }

    #[test]
    fn urn_qualified_sub_attribute_splits_after_the_last_colon() {
        let p = parse_attr_path(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .map(|p| (p.attr, p.sub_attr));
        assert_eq!(p, Ok(("manager".to_string(), Some("value".to_string()))));
    }

    #[test]
    fn rejects_malformed_attribute_paths_as_invalid_path() {
        for bad in [
            "", "a.b.c", "1abc", "name.", ":x", "urn:x:", "a b", "emails[", "a..b",
        ] {
            let e = parse_attr_path(bad).err().map(|e| e.scim_type);
            assert_eq!(e, Some(Some(ScimType::InvalidPath)), "{bad}");
        }
    }

    #[test]
    fn parses_a_member_value_filter_path() {
        let p = parse_patch_path(r#"members[value eq "2819c223"]"#);
        assert_eq!(
            p,
            Ok(PatchPath {
                attr: AttrPath::new("members"),
                value_filter: Some(cmp("value", "2819c223")),
                sub_attr: None
            })
        );
    }

    #[test]
    fn parses_a_value_filter_followed_by_a_sub_attribute() {
        let p = parse_patch_path(r#"emails[type eq "work"].value"#);
        assert_eq!(
            p,
            Ok(PatchPath {
                attr: AttrPath::new("emails"),
                value_filter: Some(cmp("type", "work")),
                sub_attr: Some("value".into())
            })
        );
    }

    #[test]
    fn a_bracket_inside_a_quoted_value_does_not_end_the_filter() {
        let p = parse_patch_path(r#"emails[value eq "a]b"].display"#);
        assert_eq!(p.map(|p| p.sub_attr), Ok(Some("display".into())));
    }

    #[test]
    fn rejects_malformed_patch_paths() {
        for bad in [
            r#"emails[type eq "work""#,
            r#"emails[type eq "work"]x"#,
            r#"emails[type eq "work"].value.x"#,
            r#"name.givenName[type eq "x"]"#,
            r#"emails[]"#,
            r#"emails[type eq]"#,
        ] {
            let e = parse_patch_path(bad).err().map(|e| e.scim_type);
            assert_eq!(e, Some(Some(ScimType::InvalidPath)), "{bad}");
        }
    }

    #[test]
    fn display_writes_a_path_that_parses_back() {
        let p = parse_patch_path(r#"urn:x:y:emails[type eq "work" and primary eq true].value"#);
        let text = p.as_ref().map(|p| p.to_string()).unwrap_or_default();
        assert_eq!(parse_patch_path(&text), p);
    }
}
