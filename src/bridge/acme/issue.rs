//! One ACME order, start to finish: account, order, challenges, CSR, certificate.

use std::sync::Arc;
use std::time::Duration;

use instant_acme::{
    Account, AuthorizationStatus, ChallengeType, Identifier, NewAccount, NewOrder, Order,
    OrderStatus, RetryPolicy,
};
use rcgen::{CertificateParams, CustomExtension, DistinguishedName, KeyPair};

use super::files::{self, AcmeFiles};
use super::http01::Http01Tokens;
use super::{AcmeConfig, AcmeError, ChallengeKind};
use crate::bridge::tls::{self, CertificateSource, LiveCertificate, ServedCertificate};

/// How long the CA may take to validate the challenge and to sign: Let's Encrypt needs
/// seconds; a minute and a half leaves room for a slow vantage point.
const POLL: RetryPolicy = RetryPolicy::new()
    .initial_delay(Duration::from_millis(250))
    .backoff(1.5)
    .timeout(Duration::from_secs(90));

/// What an order needs from the bridge.
pub(super) struct Issuer<'a> {
    pub(super) config: &'a AcmeConfig,
    pub(super) files: &'a AcmeFiles,
    pub(super) hostname: &'a str,
    pub(super) challenge: ChallengeKind,
    pub(super) live: &'a Arc<LiveCertificate>,
    pub(super) http01: &'a Http01Tokens,
}

impl Issuer<'_> {
    /// The stored account, or a new one registered (and stored) now.
    pub(super) async fn account(&self) -> Result<Account, AcmeError> {
        let builder = || {
            match &self.config.ca_root {
                Some(root) => Account::builder_with_root(root),
                None => Account::builder(),
            }
            .map_err(|source| AcmeError::Acme {
                step: "set up the HTTPS client",
                source,
            })
        };
        if let Some(credentials) = self.files.load_account()? {
            return builder()?
                .from_credentials(credentials)
                .await
                .map_err(|source| AcmeError::Acme {
                    step: "load the stored account",
                    source,
                });
        }
        let contact = self.config.email.as_ref().map(|e| format!("mailto:{e}"));
        let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
        let (account, credentials) = builder()?
            .create(
                &NewAccount {
                    contact: &contacts,
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                },
                self.config.directory.clone(),
                None,
            )
            .await
            .map_err(|source| AcmeError::Acme {
                step: "register an account",
                source,
            })?;
        self.files.save_account(&credentials)?;
        tracing::info!(directory = %self.config.directory, id = account.id(), "registered an ACME account");
        Ok(account)
    }

    /// Orders, validates and downloads a certificate for the host name, stores it, and
    /// returns it ready to serve.
    pub(super) async fn obtain(&self, account: &Account) -> Result<ServedCertificate, AcmeError> {
        let identifiers = [Identifier::Dns(self.hostname.to_owned())];
        let mut order = account
            .new_order(&NewOrder::new(&identifiers))
            .await
            .map_err(|source| AcmeError::Acme {
                step: "create an order",
                source,
            })?;
        let mut published = Published::new(self);
        let outcome = self.validate_and_finalize(&mut order, &mut published).await;
        published.withdraw();
        let (chain_pem, key_pem) = outcome?;
        let chain = files::chain_from_pem(&chain_pem);
        let key = files::key_from_pem(&key_pem).ok_or(AcmeError::Csr(
            "the generated key does not read back as PEM".into(),
        ))?;
        let served = tls::served(chain, key, CertificateSource::Acme)
            .map_err(|e| AcmeError::BadCertificate(e.to_string()))?;
        self.files.save_certificate(&chain_pem, &key_pem)?;
        Ok(served)
    }

    async fn validate_and_finalize(
        &self,
        order: &mut Order,
        published: &mut Published<'_>,
    ) -> Result<(String, String), AcmeError> {
        let wanted = match self.challenge {
            ChallengeKind::TlsAlpn01 => ChallengeType::TlsAlpn01,
            ChallengeKind::Http01 => ChallengeType::Http01,
        };
        let mut authorizations = order.authorizations();
        while let Some(authz) = authorizations.next().await {
            let mut authz = authz.map_err(|source| AcmeError::Acme {
                step: "fetch an authorization",
                source,
            })?;
            match authz.status {
                AuthorizationStatus::Pending => {}
                // The CA remembers a recent validation of this account for this name.
                AuthorizationStatus::Valid => continue,
                other => {
                    return Err(AcmeError::Rejected(format!(
                        "the authorization for {} is {other:?}",
                        self.hostname
                    )))
                }
            }
            let mut challenge =
                authz
                    .challenge(wanted.clone())
                    .ok_or_else(|| AcmeError::NoChallenge {
                        kind: self.challenge.name(),
                        host: self.hostname.to_owned(),
                    })?;
            let key_authorization = challenge.key_authorization();
            match self.challenge {
                ChallengeKind::TlsAlpn01 => {
                    let key = alpn_challenge_certificate(
                        self.hostname,
                        key_authorization.digest().as_ref(),
                    )?;
                    published.alpn(key);
                }
                ChallengeKind::Http01 => {
                    published.http(&challenge.token, key_authorization.as_str());
                }
            }
            challenge
                .set_ready()
                .await
                .map_err(|source| AcmeError::Acme {
                    step: "tell the CA the challenge is ready",
                    source,
                })?;
        }
        let status = order
            .poll_ready(&POLL)
            .await
            .map_err(|source| AcmeError::Acme {
                step: "wait for validation",
                source,
            })?;
        if status != OrderStatus::Ready {
            return Err(AcmeError::ValidationFailed {
                host: self.hostname.to_owned(),
                challenge: self.challenge.name(),
                detail: validation_problem(order).await,
                hint: self.challenge.hint(self.config.http_port),
            });
        }
        let key = KeyPair::generate().map_err(|e| AcmeError::Csr(e.to_string()))?;
        let mut params = CertificateParams::new(vec![self.hostname.to_owned()])
            .map_err(|e| AcmeError::Csr(e.to_string()))?;
        params.distinguished_name = DistinguishedName::new();
        let csr = params
            .serialize_request(&key)
            .map_err(|e| AcmeError::Csr(e.to_string()))?;
        order
            .finalize_csr(csr.der())
            .await
            .map_err(|source| AcmeError::Acme {
                step: "finalize the order",
                source,
            })?;
        let chain = order
            .poll_certificate(&POLL)
            .await
            .map_err(|source| AcmeError::Acme {
                step: "download the certificate",
                source,
            })?;
        Ok((chain, key.serialize_pem()))
    }
}

/// The challenge responses this order published, withdrawn when the order ends however
/// it ends.
struct Published<'a> {
    issuer: &'a Issuer<'a>,
    alpn: bool,
    tokens: Vec<String>,
}

impl<'a> Published<'a> {
    fn new(issuer: &'a Issuer<'a>) -> Self {
        Published {
            issuer,
            alpn: false,
            tokens: Vec::new(),
        }
    }

    fn alpn(&mut self, key: Arc<rustls::sign::CertifiedKey>) {
        self.issuer.live.add_challenge(self.issuer.hostname, key);
        self.alpn = true;
    }

    fn http(&mut self, token: &str, key_authorization: &str) {
        self.issuer.http01.insert(token, key_authorization);
        self.tokens.push(token.to_owned());
    }

    fn withdraw(&mut self) {
        if std::mem::take(&mut self.alpn) {
            self.issuer.live.remove_challenge(self.issuer.hostname);
        }
        for token in self.tokens.drain(..) {
            self.issuer.http01.remove(&token);
        }
    }
}

impl Drop for Published<'_> {
    fn drop(&mut self) {
        self.withdraw();
    }
}

/// The self-signed certificate RFC 8737 asks for: the host name as its only SAN and the
/// SHA-256 of the key authorization in the critical acmeIdentifier extension.
fn alpn_challenge_certificate(
    hostname: &str,
    digest: &[u8],
) -> Result<Arc<rustls::sign::CertifiedKey>, AcmeError> {
    let key = KeyPair::generate().map_err(|e| AcmeError::Csr(e.to_string()))?;
    let mut params = CertificateParams::new(vec![hostname.to_owned()])
        .map_err(|e| AcmeError::Csr(e.to_string()))?;
    params.distinguished_name = DistinguishedName::new();
    params.custom_extensions = vec![CustomExtension::new_acme_identifier(digest)];
    let cert = params
        .self_signed(&key)
        .map_err(|e| AcmeError::Csr(e.to_string()))?;
    let key_der = files::key_from_pem(&key.serialize_pem()).ok_or(AcmeError::Csr(
        "the challenge key does not read back".into(),
    ))?;
    // Not through `tls::served`: its key check parses the certificate with webpki, which
    // (rightly, for a real certificate) refuses the critical acmeIdentifier extension.
    let signing_key = rustls::crypto::ring::default_provider()
        .key_provider
        .load_private_key(key_der)
        .map_err(|e| AcmeError::Csr(e.to_string()))?;
    Ok(Arc::new(rustls::sign::CertifiedKey::new(
        vec![cert.der().clone()],
        signing_key,
    )))
}

/// The CA's reason for an invalid authorization, for the operator.
async fn validation_problem(order: &mut Order) -> String {
    let mut details = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(Ok(mut authz)) = authorizations.next().await {
        let state = match authz.refresh().await {
            Ok(state) => state,
            Err(e) => {
                details.push(e.to_string());
                continue;
            }
        };
        for challenge in &state.challenges {
            if let Some(problem) = &challenge.error {
                details.push(problem.to_string());
            }
        }
    }
    if details.is_empty() {
        "the CA gave no reason".into()
    } else {
        details.join("; ")
    }
}
