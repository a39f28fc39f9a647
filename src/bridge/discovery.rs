//! `/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes`: generated from the same schema
//! tables that validate requests. Read-only: writes answer 405.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keybridge_scim::schema::{self, BulkConfig, FilterConfig, ServiceProviderConfig};
use keybridge_scim::ScimError;

use super::reply;
use super::AppState;

pub async fn service_provider_config(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Response {
    let config = ServiceProviderConfig {
        patch: true,
        bulk: BulkConfig {
            supported: true,
            max_operations: state.limits.max_bulk_operations as u64,
            max_payload_size: state.limits.max_bulk_body as u64,
        },
        filter: FilterConfig {
            supported: true,
            max_results: state.limits.max_results,
        },
        change_password: false,
        sort: true,
        etag: true,
        documentation_uri: None,
    };
    reply::json(
        StatusCode::OK,
        &schema::service_provider_config_json(&config, &state.base_url(&headers)),
    )
}

pub async fn schemas(State(state): State<AppState>, headers: HeaderMap) -> Response {
    reply::json(
        StatusCode::OK,
        &schema::schemas_json(&state.base_url(&headers)),
    )
}

pub async fn schema_by_id(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match schema::schema_json(&id, &state.base_url(&headers)) {
        Some(doc) => reply::json(StatusCode::OK, &doc),
        None => reply::error(&ScimError::not_found(format!(
            "no schema has the id '{id}'"
        ))),
    }
}

pub async fn resource_types(State(state): State<AppState>, headers: HeaderMap) -> Response {
    reply::json(
        StatusCode::OK,
        &schema::resource_types_json(&state.base_url(&headers)),
    )
}

pub async fn resource_type_by_id(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match schema::resource_type_json(&id, &state.base_url(&headers)) {
        Some(doc) => reply::json(StatusCode::OK, &doc),
        None => reply::error(&ScimError::not_found(format!(
            "no resource type has the id '{id}'"
        ))),
    }
}

/// 405 with a SCIM body for writes to read-only endpoints.
pub async fn method_not_allowed() -> Response {
    reply::error(&ScimError::new(
        405,
        None,
        "this endpoint is read-only; use GET",
    ))
}

/// `/Me` needs a notion of "the subject of this token", which bearer tokens issued to an
/// identity provider do not have.
pub async fn me() -> Response {
    reply::error(&ScimError::new(
        501,
        None,
        "/Me is not supported: Keybridge tokens belong to an identity provider, not a person",
    ))
}

pub async fn not_found() -> Response {
    let mut resp = reply::error(&ScimError::not_found("no such endpoint; SCIM lives under /scim/v2 (Users, Groups, Bulk, Schemas, ResourceTypes, ServiceProviderConfig)"));
    resp.extensions_mut().insert(super::metrics::Unrouted);
    resp
}
