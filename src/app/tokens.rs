//! Bearer tokens as the admin manages them: issue (shown once, kept in the secrets
//! backend so it can be copied again), copy, rotate, revoke.

use serde::Serialize;

use super::{App, AppError};
use crate::secrets::{serialize_exposed, Secret};
use crate::tokens::{self as core_tokens};

/// A token without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
    /// Whether its plaintext is kept, so "Copy" can work.
    pub copyable: bool,
}

/// A token just issued or rotated: the only time the app hands out its plaintext
/// without being asked to copy it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct NewToken {
    pub name: String,
    #[serde(serialize_with = "serialize_exposed")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub token: Secret,
    /// Where the plaintext is kept, or why it is not (then it is shown only now).
    pub kept: bool,
    pub note: String,
}

/// How long a rotated-out token stays valid.
const ROTATION_GRACE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

fn secret_key(name: &str) -> String {
    format!("token/{name}")
}

impl App {
    /// Every token, with whether it can be copied again.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>, AppError> {
        let rows = core_tokens::list(&self.store).await?;
        let secrets = self.secret_store();
        let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
        let kept = tokio::task::spawn_blocking(move || {
            names
                .iter()
                .map(|n| {
                    secrets
                        .as_ref()
                        .is_some_and(|s| matches!(s.get(&secret_key(n)), Ok(Some(_))))
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        Ok(rows
            .into_iter()
            .enumerate()
            .map(|(i, r)| TokenInfo {
                name: r.name,
                created: r.created,
                last_used: r.last_used,
                copyable: kept.get(i).copied().unwrap_or(false),
            })
            .collect())
    }

    /// Issues a token named `name`; its plaintext is returned once and kept in the
    /// secrets backend when there is one.
    pub async fn issue_token(&self, name: &str) -> Result<NewToken, AppError> {
        let token = core_tokens::issue(&self.store, name.trim()).await?;
        Ok(self.keep(name.trim(), token).await)
    }

    /// Replaces the token named `name`. The previous one keeps working for a day, so the
    /// identity provider is not cut off before the admin pastes the new one.
    pub async fn rotate_token(&self, name: &str) -> Result<NewToken, AppError> {
        let rotation = core_tokens::rotate(&self.store, name, ROTATION_GRACE).await?;
        let mut new = self.keep(name, rotation.token).await;
        new.note = format!(
            "{} The previous token keeps working until {}.",
            new.note, rotation.previous_valid_until
        );
        Ok(new)
    }

    /// Revokes the token named `name` and forgets its plaintext.
    pub async fn revoke_token(&self, name: &str) -> Result<(), AppError> {
        core_tokens::revoke(&self.store, name).await?;
        if let Some(secrets) = self.secret_store() {
            let key = secret_key(name);
            let deleted = tokio::task::spawn_blocking(move || secrets.delete(&key)).await;
            if let Ok(Err(e)) = deleted {
                tracing::warn!(error = %e, "the revoked token's plaintext could not be removed from the secrets backend");
            }
        }
        Ok(())
    }

    /// The plaintext of the token named `name`, from the secrets backend.
    pub async fn token_secret(&self, name: &str) -> Result<Secret, AppError> {
        let Some(secrets) = self.secret_store() else {
            return Err(AppError::NotFound(format!(
                "the token '{name}' cannot be copied: {}",
                self.secrets_status()
                    .problem
                    .unwrap_or_else(|| "no secrets backend is open".into())
            )));
        };
        let key = secret_key(name);
        let found = tokio::task::spawn_blocking(move || secrets.get(&key))
            .await
            .map_err(|e| {
                AppError::Invalid(format!("reading the secret failed ({e}); try again"))
            })??;
        found.ok_or_else(|| {
            AppError::NotFound(format!(
                "the token '{name}' was not kept (it was issued where no keychain was available, or elsewhere); rotate it to get a new one you can copy"
            ))
        })
    }

    async fn keep(&self, name: &str, token: Secret) -> NewToken {
        let (kept, note) = match self.secret_store() {
            None => (
                false,
                format!(
                    "Copy it now: it is shown only once. {}",
                    self.secrets_status().problem.unwrap_or_default()
                ),
            ),
            Some(secrets) => {
                let (key, value) = (secret_key(name), token.clone());
                match tokio::task::spawn_blocking(move || secrets.set(&key, &value)).await {
                    Ok(Ok(())) => (
                        true,
                        format!(
                            "Kept in {}, so you can copy it again later.",
                            self.secrets_status().backend.unwrap_or_default()
                        ),
                    ),
                    Ok(Err(e)) => (false, format!("Copy it now: it could not be kept ({e}).")),
                    Err(e) => (false, format!("Copy it now: it could not be kept ({e}).")),
                }
            }
        };
        NewToken {
            name: name.to_owned(),
            token,
            kept,
            note,
        }
    }
}
