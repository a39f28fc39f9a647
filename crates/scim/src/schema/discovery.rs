//! The discovery documents of RFC 7644 §4: `/Schemas`, `/ResourceTypes` and
//! `/ServiceProviderConfig`, generated from the same tables that validate requests, so
//! what is advertised is what is enforced.

use serde_json::{json, Map, Value};

use super::{AttrDef, ResourceType, SchemaDef, LIST_RESPONSE};

const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// What `/ServiceProviderConfig` advertises (RFC 7643 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProviderConfig {
    pub patch: bool,
    pub bulk: BulkConfig,
    pub filter: FilterConfig,
    pub change_password: bool,
    pub sort: bool,
    pub etag: bool,
    /// Where an admin reads how to connect an IdP.
    pub documentation_uri: Option<String>,
}

/// Bulk support and its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkConfig {
    pub supported: bool,
    pub max_operations: u64,
    pub max_payload_size: u64,
}

/// Filter support and the most resources one list answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterConfig {
    pub supported: bool,
    pub max_results: u64,
}

fn trim_base(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

fn all_schemas() -> impl Iterator<Item = &'static SchemaDef> {
    ResourceType::User
        .schemas()
        .chain(ResourceType::Group.schemas())
}

fn list(items: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": items.len(),
        "itemsPerPage": items.len(),
        "startIndex": 1,
        "Resources": items,
    })
}

fn attr_json(def: &AttrDef) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), def.name.into());
    m.insert("type".into(), def.attr_type.as_str().into());
    m.insert("multiValued".into(), def.multi_valued.into());
    m.insert("description".into(), def.description.into());
    m.insert("required".into(), def.required.into());
    if !def.canonical_values.is_empty() {
        m.insert("canonicalValues".into(), json!(def.canonical_values));
    }
    if !def.is_complex() {
        m.insert("caseExact".into(), def.case_exact.into());
    }
    m.insert("mutability".into(), def.mutability.as_str().into());
    m.insert("returned".into(), def.returned.as_str().into());
    if !def.is_complex() {
        m.insert("uniqueness".into(), def.uniqueness.as_str().into());
    }
    if !def.reference_types.is_empty() {
        m.insert("referenceTypes".into(), json!(def.reference_types));
    }
    if def.is_complex() {
        let subs: Vec<Value> = def.sub_attributes.iter().map(attr_json).collect();
        m.insert("subAttributes".into(), Value::Array(subs));
    }
    Value::Object(m)
}

fn schema_resource(schema: &SchemaDef, base_url: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": schema.attributes.iter().map(attr_json).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": format!("{}/Schemas/{}", trim_base(base_url), schema.id),
        },
    })
}

/// `GET /Schemas`: a ListResponse of every schema served.
pub fn schemas_json(base_url: &str) -> Value {
    list(
        all_schemas()
            .map(|s| schema_resource(s, base_url))
            .collect(),
    )
}

/// `GET /Schemas/{urn}` (URN compared case-insensitively); `None` answers 404.
pub fn schema_json(urn: &str, base_url: &str) -> Option<Value> {
    all_schemas()
        .find(|s| s.id.eq_ignore_ascii_case(urn))
        .map(|s| schema_resource(s, base_url))
}

fn resource_type_resource(rt: ResourceType, base_url: &str) -> Value {
    let extensions: Vec<Value> = rt
        .extensions()
        .iter()
        .map(|s| json!({ "schema": s.id, "required": false }))
        .collect();
    let description = match rt {
        ResourceType::User => "User Account",
        ResourceType::Group => "Group",
    };
    let mut v = json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": rt.name(),
        "name": rt.name(),
        "endpoint": format!("/{}", rt.plural()),
        "description": description,
        "schema": rt.core_urn(),
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{}/ResourceTypes/{}", trim_base(base_url), rt.name()),
        },
    });
    if !extensions.is_empty() {
        v["schemaExtensions"] = Value::Array(extensions);
    }
    v
}

/// `GET /ResourceTypes`: User (with the enterprise and Keybridge extensions) and Group.
pub fn resource_types_json(base_url: &str) -> Value {
    list(vec![
        resource_type_resource(ResourceType::User, base_url),
        resource_type_resource(ResourceType::Group, base_url),
    ])
}

/// `GET /ResourceTypes/{name}` (case-insensitive); `None` answers 404.
pub fn resource_type_json(name: &str, base_url: &str) -> Option<Value> {
    [ResourceType::User, ResourceType::Group]
        .into_iter()
        .find(|rt| rt.name().eq_ignore_ascii_case(name))
        .map(|rt| resource_type_resource(rt, base_url))
}

/// `GET /ServiceProviderConfig` (RFC 7643 §5). Authentication is a bearer token
/// (`oauthbearertoken`), the scheme JumpCloud, Okta and Entra use.
pub fn service_provider_config_json(config: &ServiceProviderConfig, base_url: &str) -> Value {
    let mut v = json!({
        "schemas": [SPC_SCHEMA],
        "patch": { "supported": config.patch },
        "bulk": {
            "supported": config.bulk.supported,
            "maxOperations": config.bulk.max_operations,
            "maxPayloadSize": config.bulk.max_payload_size,
        },
        "filter": { "supported": config.filter.supported, "maxResults": config.filter.max_results },
        "changePassword": { "supported": config.change_password },
        "sort": { "supported": config.sort },
        "etag": { "supported": config.etag },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a bearer token issued by `keybridge token issue`.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", trim_base(base_url)),
        },
    });
    if let Some(uri) = &config.documentation_uri {
        v["documentationUri"] = Value::String(uri.clone());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_list_every_schema_with_its_location() {
        let v = schemas_json("https://h/scim/v2/");
        assert_eq!(v["totalResults"], 4);
        let user = &v["Resources"][0];
        assert_eq!(user["id"], super::super::CORE_USER);
        assert_eq!(
            user["meta"]["location"],
            "https://h/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"
        );
        let password = user["attributes"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["name"] == "password"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(password["returned"], "never");
        assert_eq!(password["mutability"], "writeOnly");
    }

    #[test]
    fn schema_json_finds_a_urn_case_insensitively() {
        let v = schema_json("URN:ietf:params:scim:schemas:core:2.0:group", "https://h");
        assert_eq!(v.map(|v| v["name"].clone()), Some(json!("Group")));
        assert!(schema_json("urn:nope", "https://h").is_none());
    }

    #[test]
    fn user_resource_type_lists_both_extensions() {
        let v = resource_types_json("https://h");
        let ext = &v["Resources"][0]["schemaExtensions"];
        assert_eq!(ext[0]["schema"], super::super::ENTERPRISE_USER);
        assert_eq!(ext[1]["schema"], super::super::KEYBRIDGE_USER);
        assert_eq!(v["Resources"][1]["endpoint"], "/Groups");
        assert!(v["Resources"][1].get("schemaExtensions").is_none());
    }

    #[test]
    fn service_provider_config_advertises_limits_as_integers() {
        let config = ServiceProviderConfig {
            patch: true,
            bulk: BulkConfig {
                supported: true,
                max_operations: 1000,
                max_payload_size: 1_048_576,
            },
            filter: FilterConfig {
                supported: true,
                max_results: 200,
            },
            change_password: false,
            sort: true,
            etag: true,
            documentation_uri: Some("https://example.org/docs".into()),
        };
        let v = service_provider_config_json(&config, "https://h/scim/v2");
        assert_eq!(v["bulk"]["maxOperations"], 1000);
        assert_eq!(v["filter"]["maxResults"], 200);
        assert_eq!(v["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert_eq!(v["documentationUri"], "https://example.org/docs");
    }
}
