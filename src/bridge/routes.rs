//! The route table: what answers where, and which layers guard it.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{any, get, post};
use axum::{middleware, Extension, Router};
use keybridge_scim::schema::ResourceType;

use axum::http::header;
use tower::ServiceBuilder;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;

use super::metrics::MetricsLayer;
use super::{auth, body, bulk, discovery, health, join, metrics, resources, uri, AppState};
use crate::directory::Actor;

type Params = Query<HashMap<String, String>>;

/// The base paths SCIM answers under: `/scim/v2`, and `/scim` (what 1Password's bridge
/// serves).
const SCIM_BASES: [&str; 2] = ["/scim/v2", "/scim"];

/// `/Users` or `/Groups` and their resources, at `{base}/Users` or `{base}/Groups`.
fn resource_routes(router: Router<AppState>, base: &str, rt: ResourceType) -> Router<AppState> {
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
    let at = format!("{base}/{}", rt.plural());
    router
        .route(&at, collection)
        .route(&format!("{at}/.search"), search)
        .route(&format!("{at}/{{id}}"), item)
}

/// The SCIM API under `base`, written out path by path rather than nested: a nested
/// router puts two more boxed services (prefix stripping, the nested path) in front of
/// each of its routes, and axum clones a route's whole stack of services, box by box,
/// on every request it routes through it.
fn scim_api(router: Router<AppState>, base: &str) -> Router<AppState> {
    let read_only =
        |r: axum::routing::MethodRouter<AppState>| r.fallback(discovery::method_not_allowed);
    let router = router
        .route(
            &format!("{base}/ServiceProviderConfig"),
            read_only(get(discovery::service_provider_config)),
        )
        .route(
            &format!("{base}/Schemas"),
            read_only(get(discovery::schemas)),
        )
        .route(
            &format!("{base}/Schemas/{{id}}"),
            read_only(get(discovery::schema_by_id)),
        )
        .route(
            &format!("{base}/ResourceTypes"),
            read_only(get(discovery::resource_types)),
        )
        .route(
            &format!("{base}/ResourceTypes/{{id}}"),
            read_only(get(discovery::resource_type_by_id)),
        )
        .route(
            &format!("{base}/Bulk"),
            post(bulk::bulk).fallback(discovery::method_not_allowed),
        )
        .route(&format!("{base}/.search"), post(resources::search_root))
        .route(&format!("{base}/Me"), any(discovery::me))
        .route(&format!("{base}/Me/{{*rest}}"), any(discovery::me))
        // Anything else under the base is a 404, but only once authenticated, so that
        // the API's shape is not open to anyone who asks.
        .route(base, any(discovery::not_found))
        .route(&format!("{base}/{{*unknown}}"), any(discovery::not_found));
    let router = resource_routes(router, base, ResourceType::User);
    resource_routes(router, base, ResourceType::Group)
}

/// The whole application. SCIM answers under each of [`SCIM_BASES`]; trailing slashes
/// are trimmed before routing (see `server.rs`).
///
/// Layers, outermost first: metrics (so they count refusals too), `Authorization` marked
/// sensitive (so no `Debug` of a request shows it), the body deadline, the bearer token
/// on everything but `/ping` and joining, then a SCIM 400 for URLs that are not UTF-8 once
/// decoded. `Router::layer` wraps every route in its own copy of a layer, and each layer
/// added on its own is one more boxed service that axum clones on every request; so the
/// layers of each group are stacked with one `ServiceBuilder` and added at once.
pub fn router(state: AppState) -> Router {
    let mut authenticated = Router::new()
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::scrape));
    for base in SCIM_BASES {
        authenticated = scim_api(authenticated, base);
    }
    let authenticated = authenticated.layer(
        ServiceBuilder::new()
            .layer(middleware::from_fn_with_state(
                state.clone(),
                auth::require_token,
            ))
            .layer(middleware::from_fn_with_state(
                state.clone(),
                uri::require_utf8,
            )),
    );
    // Joining: the link's token is the credential, so no bearer token here.
    let joining = Router::new()
        .route("/join/{token}", get(join::show).post(join::submit))
        .route("/sso/oidc/redirect", get(join::redirect));
    Router::new()
        .route("/ping", get(health::ping))
        .merge(joining)
        .merge(authenticated)
        .fallback(discovery::not_found)
        .layer(
            ServiceBuilder::new()
                .layer(MetricsLayer::new(state.metrics.clone()))
                .layer(SetSensitiveRequestHeadersLayer::new([
                    header::AUTHORIZATION,
                ]))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    body::body_deadline,
                )),
        )
        .with_state(state)
}
