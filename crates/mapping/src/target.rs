//! Where a mapping row writes in the SCIM User: a core attribute (`userName`,
//! `name.givenName`), an enterprise one (`$enterpriseUser.department`) or any
//! attribute of a URN-qualified extension schema.

use serde::Serialize;

pub const CORE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Core User attributes a mapping may write, with the sub-attributes of the complex
/// single-valued ones. Multi-valued attributes (`emails`, …) are written whole.
const CORE: &[(&str, &[&str])] = &[
    ("userName", &[]),
    (
        "name",
        &[
            "formatted",
            "familyName",
            "givenName",
            "middleName",
            "honorificPrefix",
            "honorificSuffix",
        ],
    ),
    ("displayName", &[]),
    ("nickName", &[]),
    ("profileUrl", &[]),
    ("title", &[]),
    ("userType", &[]),
    ("preferredLanguage", &[]),
    ("locale", &[]),
    ("timezone", &[]),
    ("active", &[]),
    ("password", &[]),
    ("externalId", &[]),
    ("emails", &[]),
    ("phoneNumbers", &[]),
    ("ims", &[]),
    ("photos", &[]),
    ("addresses", &[]),
    ("entitlements", &[]),
    ("roles", &[]),
    ("x509Certificates", &[]),
];

const ENTERPRISE: &[(&str, &[&str])] = &[
    ("employeeNumber", &[]),
    ("costCenter", &[]),
    ("organization", &[]),
    ("division", &[]),
    ("department", &[]),
    ("manager", &["value", "displayName", "$ref"]),
];

/// Attributes the service provider assigns; a mapping cannot set them.
const READ_ONLY: &[&str] = &["id", "meta", "schemas", "groups"];

/// A validated target: the schema (None for the core User schema) and the attribute
/// path within it, one or two names long.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Target {
    pub schema: Option<String>,
    pub path: Vec<String>,
}

impl Target {
    /// Parses a target as written in a table.
    pub fn parse(text: &str) -> Result<Target, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the target is empty".into());
        }
        if let Some(rest) = text.strip_prefix("$enterpriseUser.") {
            return Target::in_schema(Some(ENTERPRISE_USER_SCHEMA), rest, Some(ENTERPRISE));
        }
        if text.starts_with("$enterpriseUser") {
            return Err(
                "write $enterpriseUser.<attribute>, e.g. $enterpriseUser.department".into(),
            );
        }
        if text.to_ascii_lowercase().starts_with("urn:") {
            let (schema, attr) = text
                .rsplit_once(':')
                .filter(|(s, a)| !a.is_empty() && s.matches(':').count() >= 2)
                .ok_or_else(|| {
                    format!("{text:?} names no attribute: write <schema URN>:<attribute>")
                })?;
            if schema.eq_ignore_ascii_case(CORE_USER_SCHEMA) {
                return Target::in_schema(None, attr, Some(CORE));
            }
            if schema.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) {
                return Target::in_schema(Some(ENTERPRISE_USER_SCHEMA), attr, Some(ENTERPRISE));
            }
            return Target::in_schema(Some(schema), attr, None);
        }
        Target::in_schema(None, text, Some(CORE))
    }

    /// Checks `path` against `known` attributes (None: any well-formed name, for
    /// custom extensions) and returns the canonical spelling.
    fn in_schema(
        schema: Option<&str>,
        path: &str,
        known: Option<&[(&str, &[&str])]>,
    ) -> Result<Target, String> {
        let parts: Vec<&str> = path.split('.').collect();
        if parts.len() > 2 || parts.iter().any(|p| !is_attribute_name(p)) {
            return Err(format!(
                "{path:?} is not an attribute path (attribute or attribute.subAttribute)"
            ));
        }
        let Some(known) = known else {
            return Ok(Target {
                schema: schema.map(str::to_string),
                path: parts.iter().map(|p| p.to_string()).collect(),
            });
        };
        if schema.is_none() && READ_ONLY.iter().any(|r| r.eq_ignore_ascii_case(parts[0])) {
            return Err(format!(
                "{} is assigned by the service provider and cannot be mapped",
                parts[0]
            ));
        }
        // SCIM attribute names are case-insensitive; the canonical spelling is used.
        let (name, subs) = known
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(parts[0]))
            .ok_or_else(|| unknown_attribute(schema, parts[0], known))?;
        let mut canonical = vec![name.to_string()];
        if let Some(sub) = parts.get(1) {
            let sub = subs
                .iter()
                .find(|s| s.eq_ignore_ascii_case(sub))
                .ok_or_else(|| match subs.is_empty() {
                    true => format!("{name} has no sub-attributes"),
                    false => format!(
                        "{name} has no sub-attribute {sub} (known: {})",
                        subs.join(", ")
                    ),
                })?;
            canonical.push(sub.to_string());
        }
        Ok(Target {
            schema: schema.map(str::to_string),
            path: canonical,
        })
    }

    /// The target as shown to admins: `name.givenName`, `$enterpriseUser.department`,
    /// `urn:…:User:badge`.
    pub fn display(&self) -> String {
        let path = self.path.join(".");
        match self.schema.as_deref() {
            None => path,
            Some(ENTERPRISE_USER_SCHEMA) => format!("$enterpriseUser.{path}"),
            Some(schema) => format!("{schema}:{path}"),
        }
    }

    /// True when one target contains the other (`name` and `name.givenName`) or they
    /// are the same.
    pub fn overlaps(&self, other: &Target) -> bool {
        let same_schema = match (&self.schema, &other.schema) {
            (None, None) => true,
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        };
        same_schema
            && self
                .path
                .iter()
                .zip(&other.path)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

fn is_attribute_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn unknown_attribute(schema: Option<&str>, name: &str, known: &[(&str, &[&str])]) -> String {
    let names: Vec<&str> = known.iter().map(|(n, _)| *n).collect();
    let where_ = match schema {
        None => "the core User schema",
        Some(_) => "the enterprise User extension",
    };
    format!(
        "{name} is not an attribute of {where_} (known: {})",
        names.join(", ")
    )
}
