//! OpenID Connect as a public client: discovery with each check spelled out, the
//! authorization-code sign-in with PKCE (S256), `state` and `nonce`, and ID-token
//! verification (signature, issuer exactly as discovered, audience, nonce, expiry).
//!
//! Every failure is a [`SignInError`] whose message says what to fix in the identity
//! provider (JumpCloud's words where they differ from the protocol's).

use std::time::Duration;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreJsonWebKeySet, CoreProviderMetadata,
};
use openidconnect::{
    AccessToken, AuthorizationCode, ClaimsVerificationError, ClientId, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, SignatureVerificationError, TokenResponse,
};
use serde_json::Value;
use time::OffsetDateTime;

use crate::secrets::Secret;

/// The well-known suffix of a discovery document's URL (OpenID Connect Discovery §4).
const WELL_KNOWN_SUFFIX: &str = "/.well-known/openid-configuration";

/// How long one request to the identity provider may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a discovery or a sign-in failed, in words for the administrator.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SignInError {
    #[error("cannot fetch the discovery document at {url}: {reason}. Check the well-known URL (JumpCloud's is {default}) and that this machine can reach it", default = super::DEFAULT_WELL_KNOWN)]
    DiscoveryFetch { url: String, reason: String },
    #[error("the well-known URL {0} does not end in /.well-known/openid-configuration; copy the discovery URL JumpCloud shows for your organization")]
    NotWellKnown(String),
    #[error("the discovery document is not an OpenID Connect provider configuration ({0}); check that the well-known URL points at the identity provider, not at a web page")]
    DiscoveryInvalid(String),
    #[error("issuer mismatch: the discovery document names the issuer '{found}', but it was fetched from '{expected}'. Use the well-known URL of the issuer that signs your tokens (in JumpCloud: the OIDC application's issuer URL)")]
    IssuerMismatch { expected: String, found: String },
    #[error("the discovery document has no {0}; the identity provider is not set up for the authorization-code flow")]
    MissingEndpoint(&'static str),
    #[error("the identity provider does not offer PKCE with S256 (code_challenge_methods_supported lacks S256); Keybridge signs in as a public client and needs it. In JumpCloud, set the SSO application's client authentication type to Public (None / PKCE)")]
    NoS256,
    #[error("the identity provider does not offer the 'code' response type; enable the Authorization Code grant type on the SSO application in JumpCloud")]
    NoCodeResponseType,
    #[error("cannot fetch the signing keys (JWKS) at {url}: {reason}")]
    Jwks { url: String, reason: String },
    #[error("the sign-in was refused by the identity provider: {error}{description}. {hint}")]
    Provider {
        error: String,
        description: String,
        hint: &'static str,
    },
    #[error("this sign-in response does not belong to a sign-in that is waiting (its state is unknown, or it was already used): start again from the link")]
    StateUnknownOrReplayed,
    #[error("the token request failed: {0}. In JumpCloud, check that the redirect URI is registered exactly and that the application is a public client with PKCE")]
    TokenExchange(String),
    #[error("the identity provider returned no ID token; add the 'openid' scope to the SSO application in JumpCloud")]
    NoIdToken,
    #[error("the ID token's signature does not verify with the provider's published keys (JWKS); the token was not signed by the issuer in the discovery document. Check the well-known URL belongs to the same JumpCloud organization and application")]
    BadSignature,
    #[error("the ID token was issued by '{0}', not by the issuer in the discovery document; use the well-known URL of the issuer that signs the tokens")]
    WrongIssuer(String),
    #[error("the ID token is for another application (audience {0}); check the client ID: it must be the one of the SSO application in JumpCloud")]
    WrongAudience(String),
    #[error("the ID token's nonce does not match this sign-in; the response was replayed or mixed up with another sign-in. Start again")]
    NonceMismatch,
    #[error("the ID token has expired ({0}); check the clock of this machine and the identity provider's token lifetime")]
    Expired(String),
    #[error("the ID token was rejected: {0}")]
    IdToken(String),
    #[error("the identity provider did not return an email address; add the 'email' scope/attribute to the SSO application in JumpCloud")]
    NoEmail,
    #[error("the identity provider says the email address {0} is not verified")]
    EmailNotVerified(String),
    #[error("you signed in as {got}, but this invitation is for {expected}. Sign out of the identity provider and sign in as {expected}, or ask the administrator to check the email address in JumpCloud")]
    EmailMismatch { expected: String, got: String },
    #[error("cannot read the user info: {0}")]
    UserInfo(String),
    #[error(
        "no sign-in response arrived within {0} seconds; open the URL in a browser and sign in"
    )]
    TimedOut(u64),
    #[error("cannot prepare the sign-in: {0}")]
    Setup(String),
}

/// The HTTP client for the identity provider. Redirects are not followed: a discovery
/// document, token or key endpoint that redirects elsewhere is refused rather than
/// trusted (openidconnect's guidance against server-side request forgery).
pub fn http_client() -> Result<reqwest::Client, SignInError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HTTP_TIMEOUT)
        .user_agent(concat!("keybridge/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SignInError::Setup(e.to_string()))
}

/// One line of the setup check's report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckStep {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

impl CheckStep {
    fn pass(name: &'static str, detail: impl Into<String>) -> CheckStep {
        CheckStep {
            name,
            ok: true,
            detail: detail.into(),
        }
    }
    fn fail(name: &'static str, e: &SignInError) -> CheckStep {
        CheckStep {
            name,
            ok: false,
            detail: e.to_string(),
        }
    }
}

/// A provider whose discovery document and keys passed the checks.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub issuer: String,
    metadata: CoreProviderMetadata,
}

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Fetches and checks the discovery document and the keys, recording each check in
/// `steps`. Stops at the first failure that later checks depend on.
pub async fn discover(
    http: &reqwest::Client,
    well_known_url: &str,
    steps: &mut Vec<CheckStep>,
) -> Result<Discovered, SignInError> {
    let record = |steps: &mut Vec<CheckStep>, name, r: Result<String, SignInError>| match r {
        Ok(detail) => {
            steps.push(CheckStep::pass(name, detail));
            Ok(())
        }
        Err(e) => {
            steps.push(CheckStep::fail(name, &e));
            Err(e)
        }
    };

    let doc = fetch_json(http, well_known_url).await;
    let doc = match doc {
        Ok(doc) => {
            steps.push(CheckStep::pass(
                "discovery document fetched",
                well_known_url,
            ));
            doc
        }
        Err(e) => {
            steps.push(CheckStep::fail("discovery document fetched", &e));
            return Err(e);
        }
    };

    let issuer = check_issuer(well_known_url, &doc);
    record(
        steps,
        "issuer",
        issuer.clone().map(|i| format!("'{i}' as fetched")),
    )?;
    let issuer = issuer?;

    let mut first_error = None;
    let mut note = |steps: &mut Vec<CheckStep>, name, r| {
        if let Err(e) = record(steps, name, r) {
            first_error.get_or_insert(e);
        }
    };
    note(steps, "endpoints", check_endpoints(&doc));
    note(steps, "PKCE with S256", check_s256(&doc));
    note(
        steps,
        "response type 'code'",
        check_code_response_type(&doc),
    );
    if let Some(e) = first_error {
        return Err(e);
    }

    let metadata: Result<CoreProviderMetadata, _> =
        serde_json::from_value(doc).map_err(|e| SignInError::DiscoveryInvalid(e.to_string()));
    let metadata = match metadata {
        Ok(m) => m,
        Err(e) => {
            steps.push(CheckStep::fail("provider metadata", &e));
            return Err(e);
        }
    };
    let jwks_url = metadata.jwks_uri().url().to_string();
    let jwks = CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), http)
        .await
        .map_err(|e| SignInError::Jwks {
            url: jwks_url.clone(),
            reason: e.to_string(),
        })
        .and_then(|set| {
            if set.keys().is_empty() {
                Err(SignInError::Jwks {
                    url: jwks_url.clone(),
                    reason: "it holds no keys".into(),
                })
            } else {
                Ok(set)
            }
        });
    let jwks = match jwks {
        Ok(set) => {
            steps.push(CheckStep::pass(
                "signing keys (JWKS) fetched",
                format!("{} key(s) from {jwks_url}", set.keys().len()),
            ));
            set
        }
        Err(e) => {
            steps.push(CheckStep::fail("signing keys (JWKS) fetched", &e));
            return Err(e);
        }
    };
    Ok(Discovered {
        issuer,
        metadata: metadata.set_jwks(jwks),
    })
}

async fn fetch_json(http: &reqwest::Client, url: &str) -> Result<Value, SignInError> {
    let fail = |reason: String| SignInError::DiscoveryFetch {
        url: url.to_owned(),
        reason,
    };
    let resp = http
        .get(url)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let status = resp.status();
    if status.is_redirection() {
        return Err(fail(format!(
            "it answered {status} (a redirect); Keybridge does not follow redirects, use the final URL"
        )));
    }
    if !status.is_success() {
        return Err(fail(format!("it answered {status}")));
    }
    let body = resp.bytes().await.map_err(|e| fail(e.to_string()))?;
    serde_json::from_slice(&body).map_err(|_| fail("the answer is not JSON".into()))
}

/// The issuer must be the well-known URL without its suffix (a trailing slash on the
/// issuer is allowed), or a token from another issuer could pass.
fn check_issuer(well_known_url: &str, doc: &Value) -> Result<String, SignInError> {
    let expected = well_known_url
        .trim()
        .strip_suffix(WELL_KNOWN_SUFFIX)
        .ok_or_else(|| SignInError::NotWellKnown(well_known_url.to_owned()))?;
    let found = doc
        .get("issuer")
        .and_then(Value::as_str)
        .ok_or_else(|| SignInError::DiscoveryInvalid("it has no 'issuer'".into()))?;
    if found == expected || found.strip_suffix('/') == Some(expected) {
        Ok(found.to_owned())
    } else {
        Err(SignInError::IssuerMismatch {
            expected: expected.to_owned(),
            found: found.to_owned(),
        })
    }
}

fn check_endpoints(doc: &Value) -> Result<String, SignInError> {
    let mut found = Vec::new();
    for (key, what) in [
        ("authorization_endpoint", "authorization endpoint"),
        ("token_endpoint", "token endpoint"),
        ("jwks_uri", "jwks_uri (signing keys)"),
    ] {
        match doc.get(key).and_then(Value::as_str) {
            Some(u) if url::Url::parse(u).is_ok() => found.push(key),
            _ => return Err(SignInError::MissingEndpoint(what)),
        }
    }
    Ok(found.join(", "))
}

fn string_list<'a>(doc: &'a Value, key: &str) -> impl Iterator<Item = &'a str> {
    doc.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn check_s256(doc: &Value) -> Result<String, SignInError> {
    if string_list(doc, "code_challenge_methods_supported").any(|m| m == "S256") {
        Ok("code_challenge_methods_supported has S256".into())
    } else {
        Err(SignInError::NoS256)
    }
}

fn check_code_response_type(doc: &Value) -> Result<String, SignInError> {
    if string_list(doc, "response_types_supported").any(|m| m == "code") {
        Ok("response_types_supported has code".into())
    } else {
        Err(SignInError::NoCodeResponseType)
    }
}

/// A sign-in that was started and waits for the browser to come back.
pub struct PendingSignIn {
    /// Where to send the browser.
    pub url: url::Url,
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    redirect_uri: String,
}

impl std::fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSignIn")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl PendingSignIn {
    /// The `state` the browser must bring back.
    pub fn state(&self) -> &str {
        self.state.secret()
    }
}

/// The person the identity provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    pub subject: String,
    pub email: Option<String>,
}

fn client(d: &Discovered, client_id: &Secret, redirect_uri: &str) -> Result<Client, SignInError> {
    let redirect =
        RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| SignInError::Setup(e.to_string()))?;
    Ok(CoreClient::from_provider_metadata(
        d.metadata.clone(),
        ClientId::new(client_id.expose().to_owned()),
        None,
    )
    .set_redirect_uri(redirect))
}

/// Starts a sign-in: a fresh PKCE verifier (S256), `state` and `nonce`.
pub fn begin(
    d: &Discovered,
    client_id: &Secret,
    redirect_uri: &str,
) -> Result<PendingSignIn, SignInError> {
    let client = client(d, client_id, redirect_uri)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    Ok(PendingSignIn {
        url,
        state,
        nonce,
        verifier,
        redirect_uri: redirect_uri.to_owned(),
    })
}

/// What the browser brought back to the redirect URI.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl Callback {
    /// The authorization code, or the provider's refusal in words.
    pub fn into_code(self) -> Result<String, SignInError> {
        if let Some(error) = self.error {
            return Err(provider_error(
                &error,
                self.error_description.as_deref().unwrap_or(""),
            ));
        }
        self.code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| SignInError::Provider {
                error: "no code".into(),
                description: String::new(),
                hint: "The identity provider sent the browser back without an authorization code.",
            })
    }
}

fn provider_error(error: &str, description: &str) -> SignInError {
    let hint = match error {
        "access_denied" => "The person declined, or is not assigned to the SSO application in JumpCloud (assign their user group to it).",
        "invalid_request" | "invalid_client" | "unauthorized_client" => "Check the client ID and that the redirect URIs Keybridge shows are registered in the SSO application in JumpCloud.",
        "invalid_grant" => "The code or PKCE verifier was refused: start the sign-in again; if it repeats, check the application is a public client with PKCE.",
        _ => "Check the SSO application's settings in JumpCloud.",
    };
    SignInError::Provider {
        error: error.to_owned(),
        description: if description.is_empty() {
            String::new()
        } else {
            format!(" ({description})")
        },
        hint,
    }
}

/// Finishes a sign-in: exchanges the code with the PKCE verifier, verifies the ID token
/// at `now`, and reads the email from the token or, failing that, from user info.
pub async fn finish(
    http: &reqwest::Client,
    d: &Discovered,
    client_id: &Secret,
    pending: PendingSignIn,
    code: String,
    now: OffsetDateTime,
) -> Result<VerifiedIdentity, SignInError> {
    let client = client(d, client_id, &pending.redirect_uri)?;
    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| SignInError::TokenExchange(e.to_string()))?
        .set_pkce_verifier(pending.verifier)
        .request_async(http)
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(r) => provider_error(
                r.error().as_ref(),
                r.error_description().map(String::as_str).unwrap_or(""),
            ),
            other => SignInError::TokenExchange(other.to_string()),
        })?;
    let id_token = response.id_token().ok_or(SignInError::NoIdToken)?;
    let when = chrono::DateTime::from_timestamp(now.unix_timestamp(), now.nanosecond())
        .unwrap_or_default();
    let verifier = client.id_token_verifier().set_time_fn(move || when);
    let claims: &CoreIdTokenClaims = id_token
        .claims(&verifier, &pending.nonce)
        .map_err(|e| claims_error(e, id_token.to_string()))?;
    let subject = claims.subject().to_string();
    if let Some(email) = claims.email() {
        if claims.email_verified() == Some(false) {
            return Err(SignInError::EmailNotVerified(email.to_string()));
        }
        return Ok(VerifiedIdentity {
            subject,
            email: Some(email.to_string()),
        });
    }
    // Some providers put the email in user info only; the subject must match the token's.
    let email = user_info_email(http, &client, response.access_token().clone(), claims).await?;
    Ok(VerifiedIdentity { subject, email })
}

async fn user_info_email(
    http: &reqwest::Client,
    client: &Client,
    access_token: AccessToken,
    claims: &CoreIdTokenClaims,
) -> Result<Option<String>, SignInError> {
    let Ok(request) = client.user_info(access_token, Some(claims.subject().clone())) else {
        return Ok(None);
    };
    let info: openidconnect::core::CoreUserInfoClaims = request
        .request_async(http)
        .await
        .map_err(|e| SignInError::UserInfo(e.to_string()))?;
    if let Some(email) = info.email() {
        if info.email_verified() == Some(false) {
            return Err(SignInError::EmailNotVerified(email.to_string()));
        }
        return Ok(Some(email.to_string()));
    }
    Ok(None)
}

fn claims_error(e: ClaimsVerificationError, raw_token: String) -> SignInError {
    match e {
        ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::CryptoError(_),
        )
        | ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        ) => SignInError::BadSignature,
        ClaimsVerificationError::SignatureVerification(other) => {
            SignInError::IdToken(format!("its signature cannot be checked: {other}"))
        }
        ClaimsVerificationError::InvalidIssuer(_) => SignInError::WrongIssuer(
            unverified_claim(&raw_token, "iss").unwrap_or_else(|| "an unknown issuer".into()),
        ),
        ClaimsVerificationError::InvalidAudience(_) => SignInError::WrongAudience(
            unverified_claim(&raw_token, "aud").unwrap_or_else(|| "unknown".into()),
        ),
        ClaimsVerificationError::InvalidNonce(_) => SignInError::NonceMismatch,
        ClaimsVerificationError::Expired(detail) => SignInError::Expired(detail),
        other => SignInError::IdToken(other.to_string()),
    }
}

/// Reads a claim from a token that failed verification, only to name it in the error
/// message (never to trust it).
fn unverified_claim(token: &str, claim: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    match value.get(claim)? {
        Value::String(s) => Some(format!("'{s}'")),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_issuer_must_be_the_well_known_url_without_its_suffix() {
        let url = "https://oauth.id.jumpcloud.com/.well-known/openid-configuration";
        assert!(check_issuer(url, &json!({"issuer": "https://oauth.id.jumpcloud.com/"})).is_ok());
        assert!(check_issuer(url, &json!({"issuer": "https://oauth.id.jumpcloud.com"})).is_ok());
        assert!(matches!(
            check_issuer(url, &json!({"issuer": "https://evil.example"})),
            Err(SignInError::IssuerMismatch { .. })
        ));
        assert!(matches!(
            check_issuer(
                "https://idp.example/openid",
                &json!({"issuer": "https://idp.example"})
            ),
            Err(SignInError::NotWellKnown(_))
        ));
    }

    #[test]
    fn s256_and_code_are_required() {
        assert_eq!(
            check_s256(&json!({"code_challenge_methods_supported": ["plain"]})),
            Err(SignInError::NoS256)
        );
        assert!(
            check_s256(&json!({"code_challenge_methods_supported": ["plain", "S256"]})).is_ok()
        );
        assert_eq!(
            check_code_response_type(&json!({"response_types_supported": ["id_token"]})),
            Err(SignInError::NoCodeResponseType)
        );
    }

    #[test]
    fn a_provider_refusal_names_what_to_fix() {
        let e = Callback {
            error: Some("access_denied".into()),
            ..Default::default()
        }
        .into_code()
        .expect_err("refused");
        assert!(e.to_string().contains("assign"), "{e}");
    }
}
