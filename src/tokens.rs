//! Bearer tokens: 256 random bits, shown once; the store keeps only their SHA-256 digests
//! and the check compares digests in constant time.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use keybridge_secrets::Secret;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::store::{self, now_timestamp, Store, StoreError};

/// Token names: short, printable, used in logs and events.
const MAX_NAME_LEN: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("a token named '{0}' already exists; revoke it first or choose another name")]
    Exists(String),
    #[error("no token is named '{0}'")]
    Unknown(String),
    #[error("a token name is 1 to 64 letters, digits, '-', '_' or '.'; '{0}' is not")]
    BadName(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The prefix makes a leaked token recognisable to secret scanners.
const PREFIX: &str = "kb_";

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Issues a new token named `name` and returns its plaintext (the only time it exists
/// outside the client).
pub async fn issue(store: &Store, name: &str) -> Result<Secret, TokenError> {
    if !valid_name(name) {
        return Err(TokenError::BadName(name.to_owned()));
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let d = digest(&token);
    let name = name.to_owned();
    store
        .write(move |conn| -> Result<(), TokenError> {
            if store::tokens::exists(conn, &name)? {
                return Err(TokenError::Exists(name));
            }
            store::tokens::insert(conn, &name, &d, &now_timestamp())?;
            Ok(())
        })
        .await?;
    Ok(Secret::new(token))
}

/// Revokes the token named `name`.
pub async fn revoke(store: &Store, name: &str) -> Result<(), TokenError> {
    let name = name.to_owned();
    store
        .write(move |conn| -> Result<(), TokenError> {
            if store::tokens::delete(conn, &name)? {
                Ok(())
            } else {
                Err(TokenError::Unknown(name))
            }
        })
        .await
}

/// Every token's name and dates (never digests).
pub async fn list(store: &Store) -> Result<Vec<store::tokens::TokenRow>, TokenError> {
    store
        .read(|conn| -> Result<_, TokenError> { Ok(store::tokens::all(conn)?) })
        .await
}

/// Checks presented tokens against the stored digests. Keeps the digests in memory and
/// reloads them when a token is not found (a token issued by `keybridge token issue` while
/// the bridge runs works at once), at most once a second so failed attempts stay cheap.
#[derive(Clone)]
pub struct TokenVerifier {
    store: Store,
    cache: Arc<RwLock<Cache>>,
}

struct Cache {
    entries: Vec<(String, [u8; 32])>,
    loaded: Option<Instant>,
}

impl TokenVerifier {
    pub fn new(store: Store) -> TokenVerifier {
        TokenVerifier {
            store,
            cache: Arc::new(RwLock::new(Cache {
                entries: Vec::new(),
                loaded: None,
            })),
        }
    }

    /// The name of the token `presented` is, if it is one.
    pub async fn verify(&self, presented: &str) -> Result<Option<String>, StoreError> {
        let d = digest(presented);
        if let Some(name) = self.lookup(&d) {
            return Ok(Some(name));
        }
        let stale = self
            .cache
            .read()
            .map(|c| {
                c.loaded
                    .is_none_or(|t| t.elapsed() > Duration::from_secs(1))
            })
            .unwrap_or(true);
        if stale {
            self.reload().await?;
            return Ok(self.lookup(&d));
        }
        Ok(None)
    }

    /// Re-reads the digests (after an issue or a revoke in this process).
    pub async fn reload(&self) -> Result<(), StoreError> {
        let rows = self
            .store
            .read(|conn| -> Result<_, StoreError> { store::tokens::all(conn) })
            .await?;
        let entries = rows
            .into_iter()
            .filter_map(|r| {
                <[u8; 32]>::try_from(r.digest.as_slice())
                    .ok()
                    .map(|d| (r.name, d))
            })
            .collect();
        if let Ok(mut c) = self.cache.write() {
            c.entries = entries;
            c.loaded = Some(Instant::now());
        }
        Ok(())
    }

    /// Whether any token exists (a bridge without one cannot be used).
    pub async fn any(&self) -> Result<bool, StoreError> {
        self.reload().await?;
        Ok(self
            .cache
            .read()
            .map(|c| !c.entries.is_empty())
            .unwrap_or(false))
    }

    /// Compares against every digest without stopping early, so timing does not tell how
    /// much of a digest matched or which entry did.
    fn lookup(&self, d: &[u8; 32]) -> Option<String> {
        let cache = self.cache.read().ok()?;
        let mut found = None;
        for (name, stored) in &cache.entries {
            if bool::from(stored.ct_eq(d)) {
                found = Some(name.clone());
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names_are_short_and_printable() {
        assert!(valid_name("jumpcloud"));
        assert!(valid_name("okta-prod_2.0"));
        assert!(!valid_name(""));
        assert!(!valid_name("has space"));
        assert!(!valid_name(&"x".repeat(65)));
    }

    #[tokio::test]
    async fn an_issued_token_verifies_and_a_revoked_one_does_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), Default::default()).expect("open");
        let token = issue(&store, "jc").await.expect("issue");
        assert!(token.expose().starts_with("kb_"));
        assert_eq!(token.expose().len(), 3 + 43);
        let verifier = TokenVerifier::new(store.clone());
        assert_eq!(
            verifier.verify(token.expose()).await.expect("verify"),
            Some("jc".into())
        );
        assert_eq!(verifier.verify("kb_wrong").await.expect("verify"), None);
        assert!(matches!(
            issue(&store, "jc").await,
            Err(TokenError::Exists(_))
        ));
        revoke(&store, "jc").await.expect("revoke");
        verifier.reload().await.expect("reload");
        assert_eq!(verifier.verify(token.expose()).await.expect("verify"), None);
    }
}
