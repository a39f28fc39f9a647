//! The route table: what answers where, and which layers guard it.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{any, get, post};
use axum::{middleware, Extension, Router};
use keybridge_scim::schema::ResourceType;

use axum::http::header;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;

use super::metrics::MetricsLayer;
use super::{auth, body, bulk, discovery, health, join, metrics, resources, uri, AppState};
use crate::directory::Actor;

type Params = Query<HashMap<String, String>>;

/// `/Users` or `/Groups` and their resources.
fn resource_routes(rt: ResourceType) -> Router<AppState> {
    let collection = get(
        move |s: State<AppState>, a: Extension<Actor>, h: HeaderMap, q: Params| {
            resources::list(rt, s, a, h, q)
        },
    )
    .post(
        move |s: State<AppState>, a: Extension<Actor>, h: HeaderMap, q: Params, b: Body| {
            resources::create(rt, s, a, h, q, b)
        },
    )
    .fallback(discovery::method_not_allowed);
    let search = post(
        move |s: State<AppState>, a: Extension<Actor>, h: HeaderMap, b: Body| {
            resources::search(rt, s, a, h, b)
        },
    );
    let item = get(
        move |s: State<AppState>, p: Path<String>, h: HeaderMap, q: Params| {
            resources::get(rt, s, p, h, q)
        },
    )
    .put(
        move |s: State<AppState>,
              a: Extension<Actor>,
              p: Path<String>,
              h: HeaderMap,
              q: Params,
              b: Body| { resources::replace(rt, s, a, p, h, q, b) },
    )
    .patch(
        move |s: State<AppState>,
              a: Extension<Actor>,
              p: Path<String>,
              h: HeaderMap,
              q: Params,
              b: Body| { resources::patch(rt, s, a, p, h, q, b) },
    )
    .delete(
        move |s: State<AppState>, a: Extension<Actor>, p: Path<String>, h: HeaderMap| {
            resources::delete(rt, s, a, p, h)
        },
    );
    Router::new()
        .route("/", collection)
        .route("/.search", search)
        .route("/{id}", item)
}

/// The SCIM API, mounted under each base path.
fn scim_api() -> Router<AppState> {
    let read_only =
        |r: axum::routing::MethodRouter<AppState>| r.fallback(discovery::method_not_allowed);
    Router::new()
        .route(
            "/ServiceProviderConfig",
            read_only(get(discovery::service_provider_config)),
        )
        .route("/Schemas", read_only(get(discovery::schemas)))
        .route("/Schemas/{id}", read_only(get(discovery::schema_by_id)))
        .route("/ResourceTypes", read_only(get(discovery::resource_types)))
        .route(
            "/ResourceTypes/{id}",
            read_only(get(discovery::resource_type_by_id)),
        )
        .nest("/Users", resource_routes(ResourceType::User))
        .nest("/Groups", resource_routes(ResourceType::Group))
        .route(
            "/Bulk",
            post(bulk::bulk).fallback(discovery::method_not_allowed),
        )
        .route("/.search", post(resources::search_root))
        .route("/Me", any(discovery::me))
        .route("/Me/{*rest}", any(discovery::me))
        .fallback(discovery::not_found)
}

/// The whole application. SCIM answers under `/scim/v2` and `/scim` (what 1Password's
/// bridge serves); trailing slashes are trimmed before routing (see `server.rs`).
///
/// Layers, outermost first: metrics (so they count refusals too), `Authorization` marked
/// sensitive (so no `Debug` of a request shows it), the body deadline, the bearer token
/// on everything but `/ping`, then a SCIM 400 for URLs that are not UTF-8 once decoded.
pub fn router(state: AppState) -> Router {
    let authenticated = Router::new()
        .nest("/scim/v2", scim_api())
        .nest("/scim", scim_api())
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::scrape))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            uri::require_utf8,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    // Joining: the link's token is the credential, so no bearer token here.
    let joining = Router::new()
        .route("/join/{token}", get(join::show).post(join::submit))
        .route("/sso/oidc/redirect", get(join::redirect));
    Router::new()
        .route("/ping", get(health::ping))
        .merge(joining)
        .merge(authenticated)
        .fallback(discovery::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            body::body_deadline,
        ))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
        ]))
        .layer(MetricsLayer::new(state.metrics.clone()))
        .with_state(state)
}
