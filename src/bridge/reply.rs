//! SCIM responses: `application/scim+json`, errors in RFC 7644 §3.12 form.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use keybridge_scim::{ScimError, ScimType};
use serde_json::Value;

use crate::directory::DirectoryError;

pub const SCIM_JSON: &str = "application/scim+json";

/// A JSON body with the SCIM media type.
pub fn json(status: StatusCode, body: &Value) -> Response {
    json_text(status, crate::store::json_text(body))
}

fn json_text(status: StatusCode, text: String) -> Response {
    let mut resp = (status, text).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    resp
}

/// A resource with its `ETag`: the whole resource's `meta.version`, which a projected
/// `body` (`attributes=userName`) may not carry itself.
pub fn resource(status: StatusCode, body: &Value, version: Option<&str>) -> Response {
    with_etag(json(status, body), version)
}

/// A group whose `members` array comes as JSON text (`render::members_json`), added as
/// its last attribute, so that a 100 000-member answer never exists as a `Value`.
pub fn group_with_members(
    status: StatusCode,
    body: &Value,
    members: &str,
    version: Option<&str>,
) -> Response {
    let mut text = crate::store::json_text(body);
    if text.ends_with('}') {
        text.pop();
        if text.len() > 1 {
            text.push(',');
        }
        text.reserve(members.len() + 12);
        text.push_str("\"members\":");
        text.push_str(members);
        text.push('}');
    }
    with_etag(json_text(status, text), version)
}

/// A resource already written as JSON text, with its `ETag`.
pub fn resource_text(status: StatusCode, text: String, version: &str) -> Response {
    with_etag(json_text(status, text), Some(version))
}

/// Adds the `ETag` of `version` (also to a 304 or 204, which have no body to carry it).
pub fn with_etag(mut resp: Response, version: Option<&str>) -> Response {
    if let Some(v) = version.and_then(|v| HeaderValue::from_str(v).ok()) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// A text attribute of a resource's `meta` (`Value::pointer` unescapes each step of its
/// path into a new string, every request).
pub fn meta_text<'a>(doc: &'a Value, attr: &str) -> Option<&'a str> {
    doc.get("meta")?.get(attr)?.as_str()
}

/// Marks a response as a SCIM error, with its scimType, for the metrics layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorKind(pub Option<ScimType>);

impl ErrorKind {
    /// The scimType keyword, or `none`.
    pub fn label(&self) -> &'static str {
        self.0.map_or("none", ScimType::as_str)
    }
}

/// The error a client reads.
pub fn error(e: &ScimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = json(status, &e.to_json());
    resp.extensions_mut().insert(ErrorKind(e.scim_type));
    resp
}

impl IntoResponse for DirectoryError {
    fn into_response(self) -> Response {
        if let DirectoryError::Store(e) = &self {
            tracing::error!(error = %e, "directory failure");
        }
        error(&self.to_scim())
    }
}

/// A handler's error: already a SCIM error.
pub struct Rejection(pub ScimError);

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        error(&self.0)
    }
}

impl From<ScimError> for Rejection {
    fn from(e: ScimError) -> Self {
        Rejection(e)
    }
}

impl From<DirectoryError> for Rejection {
    fn from(e: DirectoryError) -> Self {
        if let DirectoryError::Store(s) = &e {
            tracing::error!(error = %s, "directory failure");
        }
        Rejection(e.to_scim())
    }
}
