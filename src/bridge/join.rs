//! The join pages: `GET /join/{token}` shows what the link is for without using it (mail
//! scanners fetch links), `POST /join/{token}` accepts or starts the identity provider's
//! sign-in, and `GET /sso/oidc/redirect/` finishes that sign-in. The core work is in
//! `sso::join`; this file is HTTP: forms, cookies, pages.
//!
//! CSRF: the form carries a random value that must equal a `SameSite=Strict` cookie set
//! with the page (double submit). The sign-in is bound to the browser that started it by
//! a second cookie (`SameSite=Lax`, as the identity provider's redirect is a top-level
//! cross-site navigation).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::AppState;
use crate::sso::invite::LinkError;
use crate::sso::oidc::{Callback, SignInError};
use crate::sso::SsoError;

const CSRF_COOKIE: &str = "kb_join_csrf";
const BINDING_COOKIE: &str = "kb_sso_binding";
/// Who the audit log names for a join: the person, through their link.
const ACTOR: &str = "join link";

fn secure_attr(state: &AppState) -> &'static str {
    if state.scheme() == "http"
        && !state
            .public_origin
            .as_deref()
            .is_some_and(|o| o.starts_with("https:"))
    {
        ""
    } else {
        "; Secure"
    }
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn page(status: StatusCode, title: &str, body_html: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}\
         button{{font-size:1rem;padding:.5rem 1rem}}</style></head>\
         <body><h1>{t}</h1>{body_html}</body></html>",
        t = escape(title)
    );
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The link's token is in the URL: never send it on to another site as a Referer.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    resp
}

fn error_page(e: &SsoError) -> Response {
    let status = match e {
        SsoError::Link(LinkError::Unknown) => StatusCode::NOT_FOUND,
        SsoError::Link(LinkError::NotApplicable(_)) => StatusCode::CONFLICT,
        SsoError::Link(_) => StatusCode::GONE,
        SsoError::SignIn(SignInError::EmailMismatch { .. }) => StatusCode::FORBIDDEN,
        SsoError::SignIn(SignInError::StateUnknownOrReplayed) => StatusCode::BAD_REQUEST,
        SsoError::SignIn(_) | SsoError::NotConfigured => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = %e, "join failed");
        return page(
            status,
            "Something went wrong",
            "<p>Keybridge could not complete this. Try again later, or tell your administrator.</p>",
        );
    }
    page(
        status,
        "Cannot continue",
        &format!("<p class=\"error\">{}</p>", escape(&e.to_string())),
    )
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `GET /join/{token}`.
pub async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let view = match state.sso.inspect_link(&token).await {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    let csrf = hex::encode(rand::random::<[u8; 32]>());
    let (intro, action, button) = match (view.purpose.as_str(), view.with_sso) {
        ("join", true) => (
            "Your team signs in with its identity provider. Continue to sign in as",
            "sso",
            "Continue with single sign-on",
        ),
        ("join", false) => (
            "You are invited to join your team's account as",
            "accept",
            "Join",
        ),
        _ => (
            "Switch to unlocking with your identity provider. Continue to sign in as",
            "sso",
            "Continue with single sign-on",
        ),
    };
    let body = format!(
        "<p>{intro} <strong>{email}</strong> ({name}).</p>\
         <form method=\"post\" action=\"/join/{token}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"action\" value=\"{action}\">\
         <button type=\"submit\">{button}</button></form>",
        email = escape(&view.email),
        name = escape(&view.display_name),
        token = escape(&token),
    );
    let mut resp = page(StatusCode::OK, "Join your team", &body);
    let cookie = format!(
        "{CSRF_COOKIE}={csrf}; Path=/join; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        secure_attr(&state)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// `POST /join/{token}`: accept, or start the sign-in.
pub async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut csrf = None;
    let mut action = None;
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "csrf" => csrf = Some(v.into_owned()),
            "action" => action = Some(v.into_owned()),
            _ => {}
        }
    }
    let from_cookie = cookie(&headers, CSRF_COOKIE).unwrap_or("");
    let valid = match &csrf {
        Some(c) if !c.is_empty() => bool::from(c.as_bytes().ct_eq(from_cookie.as_bytes())),
        _ => false,
    };
    if !valid {
        return page(
            StatusCode::FORBIDDEN,
            "Cannot continue",
            "<p>This form has expired or did not come from this page. Open the link again.</p>",
        );
    }
    if action.as_deref() == Some("sso") {
        return match state.sso.begin_join_sign_in(&token).await {
            Ok(start) => {
                let mut resp = (
                    StatusCode::SEE_OTHER,
                    [(header::LOCATION, start.authorization_url.to_string())],
                )
                    .into_response();
                resp.headers_mut().insert(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                );
                let cookie = format!(
                    "{BINDING_COOKIE}={}; Path=/sso/oidc; HttpOnly; SameSite=Lax; Max-Age=900{}",
                    start.binding.expose(),
                    secure_attr(&state)
                );
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
                resp
            }
            Err(e) => error_page(&e),
        };
    }
    match state.sso.accept_link(ACTOR, &token).await {
        Ok(j) => page(
            StatusCode::OK,
            "Welcome",
            &format!(
                "<p>You have joined as <strong>{}</strong>.</p>",
                escape(&j.user_name)
            ),
        ),
        Err(e) => error_page(&e),
    }
}

/// `GET /sso/oidc/redirect/`: the identity provider sends the browser back here.
pub async fn redirect(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Response {
    let binding = cookie(&headers, BINDING_COOKIE);
    let mut resp = match state
        .sso
        .finish_join_sign_in(ACTOR, callback, binding)
        .await
    {
        Ok(j) if j.purpose == "join" => page(
            StatusCode::OK,
            "Welcome",
            &format!(
                "<p>You have joined as <strong>{}</strong> and unlock with single sign-on.</p>",
                escape(&j.user_name)
            ),
        ),
        Ok(j) => page(
            StatusCode::OK,
            "Switched",
            &format!(
                "<p><strong>{}</strong> now unlocks with single sign-on.</p>",
                escape(&j.user_name)
            ),
        ),
        Err(e) => error_page(&e),
    };
    let clear = format!(
        "{BINDING_COOKIE}=; Path=/sso/oidc; HttpOnly; SameSite=Lax; Max-Age=0{}",
        secure_attr(&state)
    );
    if let Ok(v) = HeaderValue::from_str(&clear) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}
