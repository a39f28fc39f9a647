//! Handlers for `/Users` and `/Groups`: typed input in, one directory call, SCIM out.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use keybridge_scim::list::{list_response, ListQuery};
use keybridge_scim::path::AttrPath;
use keybridge_scim::projection::{parse_attribute_list, project};
use keybridge_scim::schema::{ResourceType, CORE_GROUP};
use keybridge_scim::ScimError;
use serde_json::Value;

use super::body::read_json;
use super::reply::{self, Rejection};
use super::AppState;
use crate::directory::{audit, Actor, DirectoryError, ListRequest, Precondition};

type Params = Query<HashMap<String, String>>;

/// `attributes` / `excludedAttributes` of a request.
struct Projection {
    attributes: Vec<AttrPath>,
    excluded: Vec<AttrPath>,
}

/// Whether `p` is the Group's `members` attribute or one of its sub-attributes.
fn names_members(p: &AttrPath) -> bool {
    p.attr.eq_ignore_ascii_case("members") && p.urn.as_deref().is_none_or(|u| u == CORE_GROUP)
}

impl Projection {
    fn from_params(
        rt: ResourceType,
        params: &HashMap<String, String>,
    ) -> Result<Projection, Rejection> {
        let get = |k: &str| {
            params
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.as_str())
        };
        Ok(Projection {
            attributes: match get("attributes") {
                Some(list) => parse_attribute_list(rt, list)?,
                None => Vec::new(),
            },
            excluded: match get("excludedAttributes") {
                Some(list) => parse_attribute_list(rt, list)?,
                None => Vec::new(),
            },
        })
    }

    /// Takes the document by value: without `attributes`/`excludedAttributes` it is the
    /// answer as it is, and a group with 100 000 members is not copied once more.
    fn apply(&self, rt: ResourceType, doc: Value) -> Value {
        if self.is_whole() {
            return doc;
        }
        project(rt, &doc, &self.attributes, &self.excluded)
    }

    /// [`Projection::apply`], and the whole resource's version for the `ETag` (the
    /// projected document may leave `meta` out).
    fn apply_versioned(&self, rt: ResourceType, doc: Value) -> (Value, Option<String>) {
        let version = reply::meta_text(&doc, "version").map(str::to_owned);
        (self.apply(rt, doc), version)
    }

    /// The answer showing `doc`: projected, with the whole resource's `ETag`.
    fn respond(&self, rt: ResourceType, status: StatusCode, doc: Value) -> Response {
        let (body, version) = self.apply_versioned(rt, doc);
        reply::resource(status, &body, version.as_deref())
    }

    /// Whether the resource is shown as it is (no `attributes`, no `excludedAttributes`).
    fn is_whole(&self) -> bool {
        self.attributes.is_empty() && self.excluded.is_empty()
    }

    /// Whether a group's members will be shown whole: each member with all of its
    /// sub-attributes, so that they can be written as text without projecting them.
    fn wants_whole_members(&self) -> bool {
        self.wants_members()
            && !self
                .attributes
                .iter()
                .chain(&self.excluded)
                .any(|p| names_members(p) && p.sub_attr.is_some())
    }

    /// Whether a group's members will be shown (so they are worth loading).
    fn wants_members(&self) -> bool {
        if !self.attributes.is_empty() {
            return self.attributes.iter().any(names_members);
        }
        !self
            .excluded
            .iter()
            .any(|p| names_members(p) && p.sub_attr.is_none())
    }
}

/// Records a request the bridge refuses before it reaches the directory, and answers it.
async fn reject(state: &AppState, actor: &Actor, event: &'static str, e: ScimError) -> Rejection {
    state.directory.record_failure(event, actor, &e).await;
    Rejection(e)
}

/// Reads a JSON body within the limits; a bad one is recorded as a failed `event`.
async fn read_body(
    state: &AppState,
    actor: &Actor,
    headers: &HeaderMap,
    body: Body,
    event: &'static str,
) -> Result<Value, Rejection> {
    match read_json(
        headers,
        body,
        state.limits.max_body,
        state.limits.max_json_depth,
    )
    .await
    {
        Ok(json) => Ok(json),
        Err(e) => Err(reject(state, actor, event, e).await),
    }
}

fn precondition(headers: &HeaderMap) -> Precondition {
    Precondition {
        if_match: headers
            .get(header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// `Prefer: return=minimal` asks for no body (RFC 7240); SCIM clients rarely send it.
fn wants_minimal(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("return=minimal"))
        })
}

fn event_for(rt: ResourceType, lookup: bool) -> &'static str {
    match (rt, lookup) {
        (ResourceType::User, true) => audit::USER_LOOKUP,
        (ResourceType::Group, true) => audit::GROUP_LOOKUP,
        (ResourceType::User, false) => audit::USER_UPDATE,
        (ResourceType::Group, false) => audit::GROUP_UPDATE,
    }
}

async fn list_with(
    state: &AppState,
    actor: &Actor,
    headers: &HeaderMap,
    rt: ResourceType,
    query: Result<ListQuery, keybridge_scim::ScimError>,
) -> Response {
    let query = match query {
        Ok(q) => q,
        Err(e) => {
            state
                .directory
                .record_failure(event_for(rt, true), actor, &e)
                .await;
            return reply::error(&e);
        }
    };
    let projection = Projection {
        attributes: query.attributes.clone(),
        excluded: query.excluded.clone(),
    };
    let base = state.base_url(headers);
    let request = ListRequest {
        filter: query.filter.clone(),
        start_index: query.start_index,
        count: query
            .count
            .unwrap_or(state.limits.max_results)
            .min(state.limits.max_results),
        sort_by: query.sort_by.clone(),
        descending: query.descending,
        with_members: projection.wants_members(),
    };
    match state.directory.list(rt, request, &base).await {
        Ok(page) => {
            let items = page
                .items
                .into_iter()
                .map(|doc| projection.apply(rt, doc))
                .collect();
            reply::json(
                StatusCode::OK,
                &list_response(page.total, page.start_index, items),
            )
        }
        Err(e) => {
            let scim = e.to_scim();
            if scim.status < 500 {
                state
                    .directory
                    .record_failure(event_for(rt, true), actor, &scim)
                    .await;
            }
            e.into_response()
        }
    }
}

pub async fn list(
    rt: ResourceType,
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    let query = keybridge_scim::list::parse_list_params(rt, &params, state.limits.max_results);
    list_with(&state, &actor, &headers, rt, query).await
}

pub async fn search(
    rt: ResourceType,
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let query = match read_json(
        &headers,
        body,
        state.limits.max_body,
        state.limits.max_json_depth,
    )
    .await
    {
        Ok(json) => keybridge_scim::list::parse_search_request(rt, &json, state.limits.max_results),
        Err(e) => Err(e),
    };
    list_with(&state, &actor, &headers, rt, query).await
}

pub async fn create(
    rt: ResourceType,
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    Query(params): Params,
    body: Body,
) -> Result<Response, Rejection> {
    let projection = Projection::from_params(rt, &params)?;
    let event = if rt == ResourceType::User {
        audit::USER_CREATE
    } else {
        audit::GROUP_CREATE
    };
    let json = read_body(&state, &actor, &headers, body, event).await?;
    let base = state.base_url(&headers);
    let (mut resp, location) = match rt {
        // The common case, and the write the single writer serialises most: the answer
        // comes as text, never built as a `Value`.
        ResourceType::User if projection.is_whole() => {
            let answer = state
                .directory
                .create_user_answer(&actor, json, &base)
                .await?;
            let resp = reply::resource_text(StatusCode::CREATED, answer.text, &answer.version);
            (resp, answer.location)
        }
        _ => {
            let created = match rt {
                ResourceType::User => state.directory.create_user(&actor, json, &base).await?,
                ResourceType::Group => state.directory.create_group(&actor, json, &base).await?,
            };
            let location = reply::meta_text(&created, "location")
                .unwrap_or_default()
                .to_owned();
            (
                projection.respond(rt, StatusCode::CREATED, created),
                location,
            )
        }
    };
    if let Ok(loc) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

pub async fn get(
    rt: ResourceType,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(params): Params,
) -> Result<Response, Rejection> {
    let projection = Projection::from_params(rt, &params)?;
    let base = state.base_url(&headers);
    let (doc, members) = match rt {
        ResourceType::User => (state.directory.get_user(&id, &base).await?, None),
        ResourceType::Group if projection.wants_whole_members() => {
            let (doc, members) = state
                .directory
                .get_group_and_members_json(&id, &base)
                .await?;
            (doc, Some(members))
        }
        ResourceType::Group => (
            state
                .directory
                .get_group(&id, &base, projection.wants_members())
                .await?,
            None,
        ),
    };
    let (body, version) = projection.apply_versioned(rt, doc);
    let version = version.as_deref();
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        let current = version.unwrap_or("").trim_start_matches("W/");
        let hit = inm
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/") == current);
        if hit {
            return Ok(reply::with_etag(
                StatusCode::NOT_MODIFIED.into_response(),
                version,
            ));
        }
    }
    Ok(match members {
        Some(members) => reply::group_with_members(StatusCode::OK, &body, &members, version),
        None => reply::resource(StatusCode::OK, &body, version),
    })
}

pub async fn replace(
    rt: ResourceType,
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(params): Params,
    body: Body,
) -> Result<Response, Rejection> {
    let projection = Projection::from_params(rt, &params)?;
    let json = read_body(&state, &actor, &headers, body, event_for(rt, false)).await?;
    let base = state.base_url(&headers);
    let pre = precondition(&headers);
    let doc = match rt {
        ResourceType::User => {
            state
                .directory
                .replace_user(&actor, &id, json, pre, &base)
                .await?
        }
        ResourceType::Group if projection.wants_whole_members() => {
            let doc = state
                .directory
                .replace_group(&actor, &id, json, pre, &base, false)
                .await?;
            return Ok(group_answer(&state, &projection, &id, &base, doc).await);
        }
        ResourceType::Group => {
            state
                .directory
                .replace_group(&actor, &id, json, pre, &base, projection.wants_members())
                .await?
        }
    };
    Ok(projection.respond(rt, StatusCode::OK, doc))
}

/// The answer to a PUT or PATCH of a group that shows every member. The write itself
/// renders the group without its members: listing 100 000 of them inside the write job
/// would hold up the single writer (and build a `Value` per member). The members are then
/// read after the commit and written as text; a membership change committed meanwhile by
/// someone else may show in them. Should the group be gone by then, the answer is the
/// written record without members.
async fn group_answer(
    state: &AppState,
    projection: &Projection,
    id: &str,
    base: &str,
    written: Value,
) -> Response {
    let (body, version) = projection.apply_versioned(ResourceType::Group, written);
    let version = version.as_deref();
    match state.directory.group_members_json(id, base).await {
        Ok(members) => reply::group_with_members(StatusCode::OK, &body, &members, version),
        Err(e) => {
            if let DirectoryError::Store(e) = &e {
                tracing::warn!(error = %e, "a group changed a moment ago could not be read back");
            }
            reply::resource(StatusCode::OK, &body, version)
        }
    }
}

pub async fn patch(
    rt: ResourceType,
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(params): Params,
    body: Body,
) -> Result<Response, Rejection> {
    let projection = Projection::from_params(rt, &params)?;
    let json = read_body(&state, &actor, &headers, body, event_for(rt, false)).await?;
    let ops = match keybridge_scim::patch::parse_patch(&json) {
        Ok(ops) => ops,
        Err(e) => return Err(reject(&state, &actor, event_for(rt, false), e).await),
    };
    let base = state.base_url(&headers);
    let pre = precondition(&headers);
    let minimal = wants_minimal(&headers);
    let doc = match rt {
        ResourceType::User => {
            state
                .directory
                .patch_user(&actor, &id, ops, pre, &base)
                .await?
        }
        ResourceType::Group if !minimal && projection.wants_whole_members() => {
            let doc = state
                .directory
                .patch_group(&actor, &id, ops, pre, &base, false)
                .await?;
            return Ok(group_answer(&state, &projection, &id, &base, doc).await);
        }
        ResourceType::Group => {
            let with_members = !minimal && projection.wants_members();
            state
                .directory
                .patch_group(&actor, &id, ops, pre, &base, with_members)
                .await?
        }
    };
    if minimal {
        let version = reply::meta_text(&doc, "version");
        return Ok(reply::with_etag(
            StatusCode::NO_CONTENT.into_response(),
            version,
        ));
    }
    Ok(projection.respond(rt, StatusCode::OK, doc))
}

pub async fn delete(
    rt: ResourceType,
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Rejection> {
    let pre = precondition(&headers);
    match rt {
        ResourceType::User => state.directory.delete_user(&actor, &id, pre).await?,
        ResourceType::Group => state.directory.delete_group(&actor, &id, pre).await?,
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /.search` at the root (RFC 7644 §3.4.3): Users then Groups, paged as one list.
/// A filter or attribute that only one resource type knows selects from that type only.
pub async fn search_root(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let json = match read_body(&state, &actor, &headers, body, audit::USER_LOOKUP).await {
        Ok(j) => j,
        Err(e) => return e.into_response(),
    };
    let max = state.limits.max_results;
    let parsed: Vec<(ResourceType, Result<ListQuery, keybridge_scim::ScimError>)> =
        [ResourceType::User, ResourceType::Group]
            .into_iter()
            .map(|rt| {
                (
                    rt,
                    keybridge_scim::list::parse_search_request(rt, &json, max),
                )
            })
            .collect();
    let usable: Vec<(ResourceType, ListQuery)> = parsed
        .iter()
        .filter_map(|(rt, q)| q.as_ref().ok().map(|q| (*rt, q.clone())))
        .collect();
    if usable.is_empty() {
        let e = parsed
            .into_iter()
            .find_map(|(_, q)| q.err())
            .unwrap_or_else(|| ScimError::invalid_filter("the search matches no resource type"));
        return reject(&state, &actor, audit::USER_LOOKUP, e)
            .await
            .into_response();
    }
    let base = state.base_url(&headers);
    let (start, count) = (
        usable[0].1.start_index.max(1),
        usable[0].1.count.unwrap_or(max).min(max),
    );
    let mut total = 0u64;
    let mut items = Vec::new();
    // `skip` counts how many matches precede the page across the types seen so far.
    let mut skip = start - 1;
    for (rt, query) in usable {
        let projection = Projection {
            attributes: query.attributes.clone(),
            excluded: query.excluded.clone(),
        };
        let remaining = count.saturating_sub(items.len() as u64);
        let request = ListRequest {
            filter: query.filter.clone(),
            start_index: skip + 1,
            count: remaining,
            sort_by: query.sort_by.clone(),
            descending: query.descending,
            with_members: projection.wants_members(),
        };
        match state.directory.list(rt, request, &base).await {
            Ok(page) => {
                total += page.total;
                skip = skip.saturating_sub(page.total);
                items.extend(page.items.into_iter().map(|doc| projection.apply(rt, doc)));
            }
            Err(e) => return e.into_response(),
        }
    }
    reply::json(StatusCode::OK, &list_response(total, start, items))
}
