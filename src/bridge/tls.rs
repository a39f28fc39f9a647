//! TLS for the bridge: a self-signed leaf kept in the data directory, the admin's own PEM
//! chain and key, or a certificate from an ACME CA (see `acme`). TLS 1.2 and 1.3 only.
//!
//! Every mode serves through one `LiveCertificate` resolver, so `/health` reads the
//! certificate the same way for all of them and ACME renewals swap it in place.

mod info;
mod live;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

pub use info::{CertificateInfo, CertificateParseError};
pub use live::{
    CertificateSource, LiveCertificate, RenewalStatus, ServedCertificate, ACME_TLS_ALPN,
};

use super::acme::{self, AcmeConfig};

/// How the bridge serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// A self-signed certificate generated once and kept in `DATA/tls/`.
    SelfSigned,
    /// The admin's certificate chain and private key (PEM).
    Pem { cert: PathBuf, key: PathBuf },
    /// A certificate from an ACME CA (Let's Encrypt), obtained and renewed by the bridge.
    Acme(AcmeConfig),
    /// Plain HTTP: only behind a gateway that terminates TLS, or in tests.
    None,
}

impl TlsMode {
    /// The mode's name as the CLI spells it and `/health` reports it.
    pub fn name(&self) -> &'static str {
        match self {
            TlsMode::SelfSigned => "self-signed",
            TlsMode::Pem { .. } => "pem",
            TlsMode::Acme(_) => "acme",
            TlsMode::None => "none",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no PEM certificate; give the full chain, leaf first")]
    NoCertificate { path: PathBuf },
    #[error("{path} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")]
    NoKey { path: PathBuf },
    #[error("{path}: the leaf certificate is unreadable: {source}")]
    Unreadable {
        path: PathBuf,
        source: CertificateParseError,
    },
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
    #[error("the certificate and key do not make a usable TLS configuration: {0}")]
    Config(String),
}

/// A TLS configuration ready for the acceptor, and the resolver behind it.
pub struct PreparedTls {
    pub config: Arc<ServerConfig>,
    pub certificate: Arc<LiveCertificate>,
}

/// Installs the one crypto provider the process uses (idempotent).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The rustls configuration for `mode` (None for plain HTTP). In ACME mode the first
/// certificate is the stored one when it is usable, else a self-signed stand-in that the
/// ACME task replaces once the CA has issued.
pub fn prepare(
    mode: &TlsMode,
    data_dir: &Path,
    hostname: &str,
) -> Result<Option<PreparedTls>, TlsError> {
    install_crypto_provider();
    let first = match mode {
        TlsMode::None => return Ok(None),
        TlsMode::Pem { cert, key } => load_served(cert, key, CertificateSource::Pem)?,
        TlsMode::SelfSigned => {
            let (cert, key) = ensure_self_signed(data_dir, hostname)?;
            load_served(&cert, &key, CertificateSource::SelfSigned)?
        }
        TlsMode::Acme(config) => match acme::stored_certificate(data_dir, config, hostname) {
            Some(stored) => stored,
            None => {
                let (cert, key) = ensure_self_signed(data_dir, hostname)?;
                load_served(&cert, &key, CertificateSource::AcmePending)?
            }
        },
    };
    let certificate = Arc::new(LiveCertificate::new(first));
    let mut config = ServerConfig::builder_with_protocol_versions(&[
        &rustls::version::TLS13,
        &rustls::version::TLS12,
    ])
    .with_no_client_auth()
    .with_cert_resolver(certificate.clone());
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    if matches!(mode, TlsMode::Acme(_)) {
        // Last, so a client offering h2 or HTTP/1.1 never lands on it; the CA's
        // validation handshake offers nothing else.
        config.alpn_protocols.push(ACME_TLS_ALPN.to_vec());
    }
    Ok(Some(PreparedTls {
        config: Arc::new(config),
        certificate,
    }))
}

/// Reads a PEM chain and key from files into a servable certificate.
pub fn load_served(
    cert_path: &Path,
    key_path: &Path,
    source: CertificateSource,
) -> Result<ServedCertificate, TlsError> {
    let certs = load_certs(cert_path)?;
    let key = load_key(key_path)?;
    served(certs, key, source).map_err(|e| match e {
        ServedError::Unreadable(source) => TlsError::Unreadable {
            path: cert_path.to_owned(),
            source,
        },
        ServedError::Config(detail) => TlsError::Config(detail),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ServedError {
    #[error("the leaf certificate is unreadable: {0}")]
    Unreadable(#[from] CertificateParseError),
    #[error("the certificate and key do not make a usable TLS configuration: {0}")]
    Config(String),
}

/// Pairs a chain (leaf first) with its key, checking that they belong together.
pub fn served(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    source: CertificateSource,
) -> Result<ServedCertificate, ServedError> {
    let leaf = certs
        .first()
        .ok_or_else(|| ServedError::Config("the chain is empty".into()))?;
    let info = CertificateInfo::from_der(leaf)?;
    let provider = rustls::crypto::ring::default_provider();
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| ServedError::Config(e.to_string()))?;
    let key = CertifiedKey::new(certs, signing_key);
    key.keys_match()
        .map_err(|e| ServedError::Config(format!("the key does not match the certificate: {e}")))?;
    Ok(ServedCertificate {
        key: Arc::new(key),
        info,
        source,
    })
}

/// A certificate found in the data directory, for `keybridge status`.
#[derive(Debug)]
pub struct StoredCertificate {
    pub path: PathBuf,
    pub info: Result<CertificateInfo, String>,
}

/// The certificates the bridge keeps in `data_dir`: the self-signed one and every ACME
/// certificate (one per ACME directory used).
pub fn stored_certificates(data_dir: &Path) -> Vec<StoredCertificate> {
    let mut paths = vec![data_dir.join("tls").join("self-signed.crt")];
    paths.extend(acme::certificate_files(data_dir));
    paths
        .into_iter()
        .filter(|p| p.exists())
        .map(|path| {
            let info = load_certs(&path)
                .map_err(|e| e.to_string())
                .and_then(|certs| {
                    let leaf = certs.first().ok_or("no certificate")?;
                    CertificateInfo::from_der(leaf).map_err(|e| e.to_string())
                });
            StoredCertificate { path, info }
        })
        .collect()
}

pub(crate) fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .filter_map(Result::ok)
        .collect::<Vec<_>>();
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

pub(crate) fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .ok()
        .flatten()
        .ok_or_else(|| TlsError::NoKey {
            path: path.to_owned(),
        })
}

/// Generates (once) a self-signed leaf for `hostname`, localhost and the loopback
/// addresses. A leaf, not a CA: rustls refuses a CA certificate as a server certificate.
pub fn ensure_self_signed(data_dir: &Path, hostname: &str) -> Result<(PathBuf, PathBuf), TlsError> {
    let dir = data_dir.join("tls");
    let cert_path = dir.join("self-signed.crt");
    let key_path = dir.join("self-signed.key");
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
    }
    std::fs::create_dir_all(&dir).map_err(|source| TlsError::Write {
        path: dir.clone(),
        source,
    })?;
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !hostname.is_empty() && !names.iter().any(|n| n == hostname) {
        names.insert(0, hostname.to_owned());
    }
    let certified =
        rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::Generate(e.to_string()))?;
    write_private(&key_path, certified.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(&cert_path, certified.cert.pem()).map_err(|source| TlsError::Write {
        path: cert_path.clone(),
        source,
    })?;
    Ok((cert_path, key_path))
}

pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    let err = |source| TlsError::Write {
        path: path.to_owned(),
        source,
    };
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .map_err(err)?;
        f.write_all(bytes).map_err(err)?;
        f.sync_all().map_err(err)
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, bytes).map_err(err)
    }
}
