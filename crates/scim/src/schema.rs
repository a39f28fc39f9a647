//! The schemas Keybridge serves: core User, Enterprise User, Group, and Keybridge's
//! read-only account extension. One table drives discovery, validation, filters and
//! projection.

mod defs;
mod discovery;

pub use discovery::{
    resource_type_json, resource_types_json, schema_json, schemas_json,
    service_provider_config_json, BulkConfig, FilterConfig, ServiceProviderConfig,
};

use crate::error::{ScimError, ScimType};
use crate::path::AttrPath;

pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const KEYBRIDGE_USER: &str = "urn:keybridge:params:scim:schemas:extension:account:2.0:User";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

static USER_EXTENSIONS: &[&SchemaDef] = &[&defs::ENTERPRISE_SCHEMA, &defs::KEYBRIDGE_SCHEMA];

/// Which kind of resource a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceType {
    User,
    Group,
}

impl ResourceType {
    /// The resource type's name as in `meta.resourceType` and `/ResourceTypes`.
    pub fn name(self) -> &'static str {
        match self {
            ResourceType::User => "User",
            ResourceType::Group => "Group",
        }
    }

    /// The plural used in endpoints and in error details ("Users").
    pub fn plural(self) -> &'static str {
        match self {
            ResourceType::User => "Users",
            ResourceType::Group => "Groups",
        }
    }

    /// The URN of the resource type's core schema.
    pub fn core_urn(self) -> &'static str {
        self.core_schema().id
    }

    /// The core schema of the resource type.
    pub fn core_schema(self) -> &'static SchemaDef {
        match self {
            ResourceType::User => &defs::USER_SCHEMA,
            ResourceType::Group => &defs::GROUP_SCHEMA,
        }
    }

    /// The extension schemas a resource of this type may carry (nested under their URN).
    pub fn extensions(self) -> &'static [&'static SchemaDef] {
        match self {
            ResourceType::User => USER_EXTENSIONS,
            ResourceType::Group => &[],
        }
    }

    /// The core schema followed by the extensions.
    pub fn schemas(self) -> impl Iterator<Item = &'static SchemaDef> {
        std::iter::once(self.core_schema()).chain(self.extensions().iter().copied())
    }

    /// The extension schema whose URN is `urn` (compared case-insensitively).
    pub fn extension(self, urn: &str) -> Option<&'static SchemaDef> {
        self.extensions()
            .iter()
            .copied()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// The schema (core or extension) whose URN is `urn` (case-insensitive).
    pub fn schema(self, urn: &str) -> Option<&'static SchemaDef> {
        self.schemas().find(|s| s.id.eq_ignore_ascii_case(urn))
    }
}

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
    Binary,
}

impl AttrType {
    /// The name used in schema representations.
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
            AttrType::Binary => "binary",
        }
    }
}

/// Whether and how a client may change an attribute (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute appears in responses (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// How unique an attribute's value is (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute definition (RFC 7643 §7 "attributes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrDef {
    pub name: &'static str,
    pub attr_type: AttrType,
    pub multi_valued: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub required: bool,
    pub canonical_values: &'static [&'static str],
    pub sub_attributes: &'static [AttrDef],
    pub reference_types: &'static [&'static str],
    pub description: &'static str,
}

impl AttrDef {
    /// The sub-attribute named `name` (case-insensitive).
    pub fn sub_attribute(&self, name: &str) -> Option<&'static AttrDef> {
        self.sub_attributes
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// True for complex attributes.
    pub fn is_complex(&self) -> bool {
        self.attr_type == AttrType::Complex
    }

    /// True if a client can never write the attribute (`readOnly`).
    pub fn is_read_only(&self) -> bool {
        self.mutability == Mutability::ReadOnly
    }
}

/// A schema: its URN, name and attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [AttrDef],
}

impl SchemaDef {
    /// The attribute named `name` (case-insensitive) of this schema only.
    pub fn attribute(&self, name: &str) -> Option<&'static AttrDef> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// True for a resource type's core schema (attributes live at the top level).
    pub fn is_core(&self) -> bool {
        self.id == CORE_USER || self.id == CORE_GROUP
    }
}

/// The attributes every resource has (RFC 7643 §3.1): `id`, `externalId`, `meta`. They are
/// addressed like core attributes (bare, or with the core URN).
pub fn common_attributes() -> &'static [AttrDef] {
    defs::COMMON_ATTRS
}

/// An attribute path resolved against a resource type's schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedAttr {
    /// The canonical URN of the schema that defines the attribute (the core URN for the
    /// common attributes).
    pub urn: &'static str,
    pub attr: &'static AttrDef,
    pub sub_attr: Option<&'static AttrDef>,
}

impl ResolvedAttr {
    /// The path with the URN set and the names in canonical case.
    pub fn to_path(&self) -> AttrPath {
        AttrPath {
            urn: Some(self.urn.to_owned()),
            attr: self.attr.name.to_owned(),
            sub_attr: self.sub_attr.map(|s| s.name.to_owned()),
        }
    }

    /// True if the attribute lives in an extension (nested under its URN in documents).
    pub fn is_extension(&self) -> bool {
        self.urn != CORE_USER && self.urn != CORE_GROUP
    }

    /// The definition of the leaf: the sub-attribute if there is one, else the attribute.
    pub fn leaf(&self) -> &'static AttrDef {
        self.sub_attr.unwrap_or(self.attr)
    }

    /// The name to show in error details: `name.givenName`, or URN-qualified for
    /// extension attributes.
    pub fn display_name(&self) -> String {
        let mut s = String::new();
        if self.is_extension() {
            s.push_str(self.urn);
            s.push(':');
        }
        s.push_str(self.attr.name);
        if let Some(sub) = self.sub_attr {
            s.push('.');
            s.push_str(sub.name);
        }
        s
    }
}

/// Why an attribute path did not resolve. The caller decides which `scimType` the client
/// sees (a filter answers invalidFilter, a PATCH path invalidPath, a body invalidValue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    pub detail: String,
}

impl SchemaError {
    pub fn into_error(self, scim_type: ScimType) -> ScimError {
        ScimError::bad_request(scim_type, self.detail)
    }
    pub fn into_filter_error(self) -> ScimError {
        self.into_error(ScimType::InvalidFilter)
    }
    pub fn into_path_error(self) -> ScimError {
        self.into_error(ScimType::InvalidPath)
    }
    pub fn into_value_error(self) -> ScimError {
        self.into_error(ScimType::InvalidValue)
    }
}

/// Looks up a top-level attribute (no sub-attribute) by URN and name, both
/// case-insensitive. Without a URN only core and common attributes are found.
pub fn find_attr(
    rt: ResourceType,
    urn: Option<&str>,
    name: &str,
) -> Result<(&'static str, &'static AttrDef), SchemaError> {
    let schema = match urn {
        Some(u) => rt.schema(u).ok_or_else(|| SchemaError {
            detail: format!(
                "unknown schema URN \"{u}\" for {}; known schemas: {}",
                rt.plural(),
                rt.schemas().map(|s| s.id).collect::<Vec<_>>().join(", ")
            ),
        })?,
        None => rt.core_schema(),
    };
    let found = schema.attribute(name).or_else(|| {
        if schema.is_core() {
            common_attributes()
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name))
        } else {
            None
        }
    });
    if let Some(def) = found {
        return Ok((schema.id, def));
    }
    let mut detail = format!("unknown attribute \"{name}\" in schema {}", schema.id);
    if urn.is_none() {
        // The commonest mistake: an extension attribute without its URN.
        if let Some(ext) = rt.extensions().iter().find(|s| s.attribute(name).is_some()) {
            detail.push_str(&format!(
                "; \"{name}\" is an attribute of the extension {0}: write it as \"{0}:{name}\"",
                ext.id
            ));
        }
    }
    Err(SchemaError { detail })
}

/// Resolves `path` against the schemas of `rt`: names case-insensitive, URN optional for
/// core and common attributes, required for extension attributes.
pub fn resolve_attr(rt: ResourceType, path: &AttrPath) -> Result<ResolvedAttr, SchemaError> {
    let (urn, attr) = find_attr(rt, path.urn.as_deref(), &path.attr)?;
    let sub_attr = match &path.sub_attr {
        None => None,
        Some(sub) => Some(attr.sub_attribute(sub).ok_or_else(|| {
            let detail = if attr.is_complex() {
                format!(
                    "\"{}\" has no sub-attribute \"{sub}\"; its sub-attributes are: {}",
                    attr.name,
                    attr.sub_attributes
                        .iter()
                        .map(|s| s.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                format!(
                    "\"{}\" is not complex and has no sub-attribute \"{sub}\"",
                    attr.name
                )
            };
            SchemaError { detail }
        })?),
    };
    Ok(ResolvedAttr {
        urn,
        attr,
        sub_attr,
    })
}

#[cfg(test)]
mod tests;
