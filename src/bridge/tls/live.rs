//! The certificate the listener serves, replaceable while it serves.
//!
//! rustls asks a `ResolvesServerCert` for the certificate at every handshake, so swapping
//! the `Arc` it hands out changes what new connections see while established ones keep
//! the session they negotiated: a renewal drops no connection and needs no restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use serde::Serialize;
use time::OffsetDateTime;

use super::info::CertificateInfo;

/// The ALPN protocol of the TLS-ALPN-01 challenge (RFC 8737).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// Where the served certificate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertificateSource {
    SelfSigned,
    Pem,
    Acme,
    /// A self-signed stand-in served until the first ACME certificate arrives, so the
    /// TLS-ALPN-01 challenge and early clients can still complete a handshake.
    AcmePending,
}

/// One certificate with its key, ready for rustls, and what it says.
#[derive(Debug)]
pub struct ServedCertificate {
    pub key: Arc<CertifiedKey>,
    pub info: CertificateInfo,
    pub source: CertificateSource,
}

/// The renewal schedule and its last outcome, as `/health` shows them (ACME only).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewalStatus {
    pub directory: String,
    pub challenge: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
}

/// The listener's certificate resolver: the current certificate, swapped atomically, and
/// the TLS-ALPN-01 challenge certificates of orders in flight.
#[derive(Debug)]
pub struct LiveCertificate {
    current: ArcSwap<ServedCertificate>,
    /// Challenge certificates by lower-case host name.
    challenges: Mutex<HashMap<String, Arc<CertifiedKey>>>,
    renewal: Mutex<Option<RenewalStatus>>,
    observers: Observers,
}

type Observer = Box<dyn Fn(&CertificateInfo) + Send + Sync>;

/// Who is told about each certificate served (the metrics' expiry gauge).
#[derive(Default)]
struct Observers(Mutex<Vec<Observer>>);

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Observers")
    }
}

impl LiveCertificate {
    pub fn new(first: ServedCertificate) -> LiveCertificate {
        LiveCertificate {
            current: ArcSwap::from_pointee(first),
            challenges: Mutex::new(HashMap::new()),
            renewal: Mutex::new(None),
            observers: Observers::default(),
        }
    }

    /// Calls `observer` with the certificate served now and with every later one.
    pub fn on_change(&self, observer: impl Fn(&CertificateInfo) + Send + Sync + 'static) {
        observer(&self.current().info);
        self.observers
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(observer));
    }

    /// The certificate new handshakes get.
    pub fn current(&self) -> Arc<ServedCertificate> {
        self.current.load_full()
    }

    /// Serves `next` to every handshake from now on.
    pub fn replace(&self, next: ServedCertificate) {
        tracing::info!(
            subject = %next.info.subject,
            issuer = %next.info.issuer,
            serial = %next.info.serial,
            not_after = %next.info.not_after,
            "now serving a new certificate"
        );
        let next = Arc::new(next);
        self.current.store(next.clone());
        for observer in self
            .observers
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            observer(&next.info);
        }
    }

    /// Answers TLS-ALPN-01 handshakes for `host` with `key` until `remove_challenge`.
    pub fn add_challenge(&self, host: &str, key: Arc<CertifiedKey>) {
        self.challenges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(host.to_ascii_lowercase(), key);
    }

    pub fn remove_challenge(&self, host: &str) {
        self.challenges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&host.to_ascii_lowercase());
    }

    pub fn renewal(&self) -> Option<RenewalStatus> {
        self.renewal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn update_renewal(&self, change: impl FnOnce(&mut RenewalStatus)) {
        let mut guard = self.renewal.lock().unwrap_or_else(PoisonError::into_inner);
        change(guard.get_or_insert_with(RenewalStatus::default));
    }
}

impl ResolvesServerCert for LiveCertificate {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // RFC 8737: the validation server offers acme-tls/1 and nothing else; such a
        // handshake gets the challenge certificate for its SNI name or fails.
        let mut offered = hello.alpn().into_iter().flatten().peekable();
        let only_acme = offered.peek().is_some() && offered.all(|p| p == ACME_TLS_ALPN);
        if only_acme {
            let host = hello.server_name()?.to_ascii_lowercase();
            return self
                .challenges
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&host)
                .cloned();
        }
        Some(self.current.load().key.clone())
    }
}
