//! `POST /Bulk` (RFC 7644 §3.7): operations run in order, each in its own transaction;
//! `bulkId:` references are resolved to the ids that earlier operations created, and an
//! operation that refers forward waits until its reference exists.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use keybridge_scim::schema::{ResourceType, BULK_REQUEST, BULK_RESPONSE};
use keybridge_scim::{ScimError, ScimType};
use serde_json::{json, Value};

use super::body::read_json;
use super::reply;
use super::AppState;
use crate::directory::{Actor, Precondition};

struct Operation {
    method: String,
    path: String,
    bulk_id: Option<String>,
    version: Option<String>,
    data: Value,
}

fn parse(body: &Value, max_operations: usize) -> Result<(Vec<Operation>, Option<u64>), ScimError> {
    let schemas = body.get("schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| s.iter().any(|u| u.as_str() == Some(BULK_REQUEST))) {
        return Err(ScimError::invalid_syntax(format!(
            "a Bulk request must list the schema {BULK_REQUEST}"
        )));
    }
    let fail_on_errors =
        match body.get("failOnErrors") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().filter(|n| *n > 0).ok_or_else(|| {
                ScimError::invalid_value("failOnErrors must be a positive integer")
            })?),
        };
    let ops = body
        .get("Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("a Bulk request needs an 'Operations' array"))?;
    if ops.len() > max_operations {
        return Err(ScimError::new(
            413,
            Some(ScimType::TooMany),
            format!(
                "the Bulk request has {} operations; at most {max_operations} are allowed",
                ops.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let field = |k: &str| op.get(k).and_then(Value::as_str).map(str::to_owned);
        let method = field("method")
            .ok_or_else(|| ScimError::invalid_syntax(format!("operation {i} has no 'method'")))?;
        let path = field("path")
            .ok_or_else(|| ScimError::invalid_syntax(format!("operation {i} has no 'path'")))?;
        let bulk_id = field("bulkId");
        if method.eq_ignore_ascii_case("POST") && bulk_id.is_none() {
            return Err(ScimError::invalid_syntax(format!(
                "operation {i} is a POST without a 'bulkId'"
            )));
        }
        out.push(Operation {
            method: method.to_ascii_uppercase(),
            path,
            bulk_id,
            version: field("version"),
            data: op.get("data").cloned().unwrap_or(Value::Null),
        });
    }
    Ok((out, fail_on_errors))
}

/// Replaces `bulkId:x` strings with created ids; None if some reference is not known yet.
fn resolve(value: &Value, ids: &HashMap<String, String>) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => match s.strip_prefix("bulkId:") {
            Some(reference) => Value::String(
                ids.get(reference)
                    .cloned()
                    .ok_or_else(|| reference.to_owned())?,
            ),
            None => value.clone(),
        },
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| resolve(v, ids))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), resolve(v, ids)?)))
                .collect::<Result<_, String>>()?,
        ),
        _ => value.clone(),
    })
}

fn resolve_path(path: &str, ids: &HashMap<String, String>) -> Result<String, String> {
    match path.split_once("bulkId:") {
        Some((head, reference)) => Ok(format!(
            "{head}{}",
            ids.get(reference).ok_or_else(|| reference.to_owned())?
        )),
        None => Ok(path.to_owned()),
    }
}

fn target(path: &str) -> Option<(ResourceType, Option<&str>)> {
    let trimmed = path.trim_matches('/');
    let (kind, id) = match trimmed.split_once('/') {
        Some((k, id)) => (k, Some(id)),
        None => (trimmed, None),
    };
    let rt = if kind.eq_ignore_ascii_case("Users") {
        ResourceType::User
    } else if kind.eq_ignore_ascii_case("Groups") {
        ResourceType::Group
    } else {
        return None;
    };
    Some((rt, id.filter(|i| !i.is_empty() && !i.contains('/'))))
}

async fn run_one(
    state: &AppState,
    actor: &Actor,
    base: &str,
    op: &Operation,
    path: &str,
    data: Value,
) -> Result<(StatusCode, Option<Value>), ScimError> {
    let Some((rt, id)) = target(path) else {
        return Err(ScimError::invalid_path(format!(
            "'{}' is not /Users, /Groups or one of their resources",
            op.path
        )));
    };
    let pre = Precondition {
        if_match: op.version.clone(),
    };
    let d = &state.directory;
    let to_scim = |e: crate::directory::DirectoryError| e.to_scim();
    match (op.method.as_str(), rt, id) {
        ("POST", ResourceType::User, None) => Ok((
            StatusCode::CREATED,
            Some(d.create_user(actor, data, base).await.map_err(to_scim)?),
        )),
        ("POST", ResourceType::Group, None) => Ok((
            StatusCode::CREATED,
            Some(d.create_group(actor, data, base).await.map_err(to_scim)?),
        )),
        ("PUT", ResourceType::User, Some(id)) => Ok((
            StatusCode::OK,
            Some(
                d.replace_user(actor, id, data, pre, base)
                    .await
                    .map_err(to_scim)?,
            ),
        )),
        ("PUT", ResourceType::Group, Some(id)) => Ok((
            StatusCode::OK,
            Some(
                d.replace_group(actor, id, data, pre, base, false)
                    .await
                    .map_err(to_scim)?,
            ),
        )),
        ("PATCH", rt, Some(id)) => {
            let ops = keybridge_scim::patch::parse_patch(&data)?;
            let doc = match rt {
                ResourceType::User => d.patch_user(actor, id, ops, pre, base).await,
                ResourceType::Group => d.patch_group(actor, id, ops, pre, base, false).await,
            }
            .map_err(to_scim)?;
            Ok((StatusCode::OK, Some(doc)))
        }
        ("DELETE", ResourceType::User, Some(id)) => d
            .delete_user(actor, id, pre)
            .await
            .map(|_| (StatusCode::NO_CONTENT, None))
            .map_err(to_scim),
        ("DELETE", ResourceType::Group, Some(id)) => d
            .delete_group(actor, id, pre)
            .await
            .map(|_| (StatusCode::NO_CONTENT, None))
            .map_err(to_scim),
        (m, _, _) => Err(ScimError::invalid_syntax(format!(
            "'{m} {}' is not a Bulk operation Keybridge supports",
            op.path
        ))),
    }
}

pub async fn bulk(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let parsed = read_json(
        &headers,
        body,
        state.limits.max_bulk_body,
        state.limits.max_json_depth,
    )
    .await
    .and_then(|json| parse(&json, state.limits.max_bulk_operations));
    let (ops, fail_on_errors) = match parsed {
        Ok(p) => p,
        Err(e) => return reply::error(&e),
    };
    let base = state.base_url(&headers);
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut results: Vec<Option<Value>> = vec![None; ops.len()];
    let mut pending: Vec<usize> = (0..ops.len()).collect();
    let mut errors = 0u64;
    'rounds: loop {
        let mut waiting = Vec::new();
        let before = pending.len();
        for index in pending {
            let op = &ops[index];
            let resolved =
                resolve_path(&op.path, &ids).and_then(|p| resolve(&op.data, &ids).map(|d| (p, d)));
            let (path, data) = match resolved {
                Ok(r) => r,
                Err(_) => {
                    waiting.push(index);
                    continue;
                }
            };
            let outcome = run_one(&state, &actor, &base, op, &path, data).await;
            let mut entry = json!({"method": op.method});
            if let Some(b) = &op.bulk_id {
                entry["bulkId"] = json!(b);
            }
            match outcome {
                Ok((status, doc)) => {
                    entry["status"] = json!(status.as_u16().to_string());
                    if let Some(doc) = doc {
                        if let (Some(b), Some(id)) =
                            (&op.bulk_id, doc.get("id").and_then(Value::as_str))
                        {
                            ids.insert(b.clone(), id.to_owned());
                        }
                        if let Some(loc) = doc.pointer("/meta/location") {
                            entry["location"] = loc.clone();
                        }
                        if let Some(v) = doc.pointer("/meta/version") {
                            entry["version"] = v.clone();
                        }
                    }
                }
                Err(e) => {
                    errors += 1;
                    entry["status"] = json!(e.status.to_string());
                    entry["response"] = e.to_json();
                }
            }
            results[index] = Some(entry);
            if fail_on_errors.is_some_and(|limit| errors >= limit) {
                break 'rounds;
            }
        }
        if waiting.is_empty() || waiting.len() == before {
            // No progress: the rest refer to bulkIds that no operation created.
            for index in waiting {
                let op = &ops[index];
                let e = ScimError::new(409, Some(ScimType::InvalidValue), "this operation refers to a bulkId that no operation in the request created (or that failed)");
                let mut entry =
                    json!({"method": op.method, "status": "409", "response": e.to_json()});
                if let Some(b) = &op.bulk_id {
                    entry["bulkId"] = json!(b);
                }
                results[index] = Some(entry);
            }
            break;
        }
        pending = waiting;
    }
    let operations: Vec<Value> = results.into_iter().flatten().collect();
    reply::json(
        StatusCode::OK,
        &json!({"schemas": [BULK_RESPONSE], "Operations": operations}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_ids_are_replaced_in_nested_values_and_paths() {
        let ids = HashMap::from([("u1".to_owned(), "abc".to_owned())]);
        let data = json!({"members": [{"value": "bulkId:u1"}], "displayName": "bulkId-not-a-ref"});
        assert_eq!(
            resolve(&data, &ids).expect("resolved")["members"][0]["value"],
            "abc"
        );
        assert_eq!(
            resolve_path("/Users/bulkId:u1", &ids).expect("path"),
            "/Users/abc"
        );
        assert_eq!(resolve(&json!("bulkId:nope"), &ids), Err("nope".to_owned()));
    }

    #[test]
    fn bulk_paths_name_users_or_groups() {
        assert_eq!(target("/Users"), Some((ResourceType::User, None)));
        assert_eq!(target("/Groups/x"), Some((ResourceType::Group, Some("x"))));
        assert_eq!(target("/Other"), None);
    }
}
