//! TLS for the bridge: a self-signed leaf kept in the data directory, or the admin's own
//! PEM chain and key. TLS 1.2 and 1.3 only.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

/// How the bridge serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// A self-signed certificate generated once and kept in `DATA/tls/`.
    SelfSigned,
    /// The admin's certificate chain and private key (PEM).
    Pem { cert: PathBuf, key: PathBuf },
    /// Plain HTTP: only behind a gateway that terminates TLS, or in tests.
    None,
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
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
    #[error("the certificate and key do not make a usable TLS configuration: {0}")]
    Config(String),
}

/// What the certificate says, for `/health` and the CLI.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertificateInfo {
    pub mode: &'static str,
    pub path: Option<PathBuf>,
}

/// Installs the one crypto provider the process uses (idempotent).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The rustls configuration for `mode` (None for plain HTTP).
pub fn server_config(
    mode: &TlsMode,
    data_dir: &Path,
    hostname: &str,
) -> Result<Option<Arc<ServerConfig>>, TlsError> {
    install_crypto_provider();
    let (cert_path, key_path) = match mode {
        TlsMode::None => return Ok(None),
        TlsMode::Pem { cert, key } => (cert.clone(), key.clone()),
        TlsMode::SelfSigned => ensure_self_signed(data_dir, hostname)?,
    };
    let certs = load_certs(&cert_path)?;
    let key = load_key(&key_path)?;
    let mut config = ServerConfig::builder_with_protocol_versions(&[
        &rustls::version::TLS13,
        &rustls::version::TLS12,
    ])
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Some(Arc::new(config)))
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
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

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
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
    write_private(&key_path, certified.key_pair.serialize_pem().as_bytes())?;
    std::fs::write(&cert_path, certified.cert.pem()).map_err(|source| TlsError::Write {
        path: cert_path.clone(),
        source,
    })?;
    Ok((cert_path, key_path))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
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
