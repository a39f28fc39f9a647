//! What the ACME task keeps in the data directory, one folder per ACME directory URL so
//! switching between the staging and production CA never mixes accounts or certificates:
//!
//! ```text
//! DATA/tls/acme/<directory>/account.json   the account key and URL (owner-only)
//! DATA/tls/acme/<directory>/cert.pem       the issued chain, leaf first
//! DATA/tls/acme/<directory>/key.pem        the certificate's private key (owner-only)
//! ```

use std::path::{Path, PathBuf};

use instant_acme::AccountCredentials;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::AcmeError;
use crate::bridge::tls::{self, CertificateSource, ServedCertificate};

/// The files of one ACME directory.
#[derive(Debug, Clone)]
pub(super) struct AcmeFiles {
    dir: PathBuf,
}

impl AcmeFiles {
    pub(super) fn new(data_dir: &Path, directory_url: &str) -> AcmeFiles {
        AcmeFiles {
            dir: acme_root(data_dir).join(folder_name(directory_url)),
        }
    }

    pub(super) fn account_path(&self) -> PathBuf {
        self.dir.join("account.json")
    }

    pub(super) fn cert_path(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    pub(super) fn key_path(&self) -> PathBuf {
        self.dir.join("key.pem")
    }

    pub(super) fn load_account(&self) -> Result<Option<AccountCredentials>, AcmeError> {
        let path = self.account_path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(AcmeError::Read { path, source }),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| AcmeError::AccountFile { path, source })
    }

    pub(super) fn save_account(&self, credentials: &AccountCredentials) -> Result<(), AcmeError> {
        let path = self.account_path();
        let json =
            serde_json::to_vec_pretty(credentials).map_err(|source| AcmeError::AccountFile {
                path: path.clone(),
                source,
            })?;
        self.write(&path, &json)
    }

    /// Renames the account file to `account.json.retired` (kept, not deleted: its key is
    /// what revokes certificates it ordered).
    pub(super) fn retire_account(&self) -> Result<(), AcmeError> {
        let path = self.account_path();
        let retired = path.with_extension("json.retired");
        std::fs::rename(&path, &retired).map_err(|source| AcmeError::Write { path, source })?;
        tracing::warn!(
            retired = %retired.display(),
            "the ACME CA does not know the stored account; a new one is registered on the next try"
        );
        Ok(())
    }

    /// The stored certificate, if it is one the bridge can serve for `hostname`. Anything
    /// unusable (missing, unreadable, key not matching, other host) means "obtain a new one".
    pub(super) fn load_certificate(&self, hostname: &str) -> Option<ServedCertificate> {
        let (cert, key) = (self.cert_path(), self.key_path());
        if !cert.exists() || !key.exists() {
            return None;
        }
        match tls::load_served(&cert, &key, CertificateSource::Acme) {
            Ok(served) if served.info.covers(hostname) => Some(served),
            Ok(served) => {
                tracing::info!(
                    stored = ?served.info.dns_names,
                    hostname,
                    "the stored ACME certificate is for another host name; obtaining a new one"
                );
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "the stored ACME certificate is unusable; obtaining a new one");
                None
            }
        }
    }

    /// Stores a newly issued chain and key. The key is renamed into place before the chain,
    /// and `load_certificate` checks that they match, so a crash between the two renames
    /// costs one extra order, never a mismatched pair being served.
    pub(super) fn save_certificate(&self, chain_pem: &str, key_pem: &str) -> Result<(), AcmeError> {
        self.write(&self.key_path(), key_pem.as_bytes())?;
        self.write(&self.cert_path(), chain_pem.as_bytes())
    }

    /// Writes owner-only through a temporary file and a rename, so a reader (or a crash)
    /// sees the old file or the new one, never half of one.
    fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), AcmeError> {
        create_private_dir(&self.dir)?;
        let tmp = path.with_extension("tmp");
        tls::write_private(&tmp, bytes).map_err(|e| AcmeError::Files(e.to_string()))?;
        std::fs::rename(&tmp, path).map_err(|source| AcmeError::Write {
            path: path.to_owned(),
            source,
        })?;
        // The rename is durable only once the directory entry is.
        if let Ok(dir) = std::fs::File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

/// `DATA/tls/acme`.
pub(super) fn acme_root(data_dir: &Path) -> PathBuf {
    data_dir.join("tls").join("acme")
}

/// Every ACME certificate file in the data directory.
pub(super) fn certificate_files(data_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(acme_root(data_dir)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path().join("cert.pem"))
        .filter(|p| p.exists())
        .collect();
    files.sort();
    files
}

/// A readable folder name for a directory URL: the host, port and path with everything
/// but letters, digits, dots and dashes turned into `_`.
fn folder_name(directory_url: &str) -> String {
    let rest = directory_url
        .split_once("://")
        .map_or(directory_url, |(_, rest)| rest);
    let name: String = rest
        .trim_end_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        format!("_{name}")
    } else {
        name
    }
}

fn create_private_dir(dir: &Path) -> Result<(), AcmeError> {
    let err = |source| AcmeError::Write {
        path: dir.to_owned(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(err)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir).map_err(err)
    }
}

/// Splits a PEM chain as the CA sent it into DER certificates.
pub(super) fn chain_from_pem(chain_pem: &str) -> Vec<CertificateDer<'static>> {
    rustls_pemfile::certs(&mut chain_pem.as_bytes())
        .filter_map(Result::ok)
        .collect()
}

/// The PKCS#8 DER of a PEM private key.
pub(super) fn key_from_pem(key_pem: &str) -> Option<PrivateKeyDer<'static>> {
    rustls_pemfile::private_key(&mut key_pem.as_bytes())
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_urls_become_readable_distinct_folder_names() {
        assert_eq!(
            folder_name("https://acme-v02.api.letsencrypt.org/directory"),
            "acme-v02.api.letsencrypt.org_directory"
        );
        assert_eq!(
            folder_name("https://acme-staging-v02.api.letsencrypt.org/directory"),
            "acme-staging-v02.api.letsencrypt.org_directory"
        );
        assert_eq!(
            folder_name("https://127.0.0.1:14000/dir"),
            "127.0.0.1_14000_dir"
        );
        assert_eq!(folder_name("https://../x"), "_.._x");
    }
}
