//! What the bridge's certificate says: mode, subject, names and expiry, for the Overview.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::settings::{AppSettings, TlsChoice};
use super::{App, AppError};
use crate::bridge::tls::CertificateInfo;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CertificateView {
    pub mode: TlsChoice,
    pub path: Option<String>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    /// DNS names and IP addresses the certificate is valid for.
    pub names: Vec<String>,
    /// RFC 3339.
    pub not_after: Option<String>,
    /// Negative once expired.
    pub days_left: Option<i32>,
    /// Why nothing more is known, and what to do (no certificate yet, unreadable file).
    pub note: Option<String>,
}

fn certificate_path(settings: &AppSettings, data_dir: &Path) -> Option<PathBuf> {
    match settings.tls {
        TlsChoice::None => None,
        TlsChoice::Pem => settings.cert_file.as_deref().map(PathBuf::from),
        TlsChoice::SelfSigned => Some(data_dir.join("tls").join("self-signed.crt")),
        TlsChoice::Acme => Some(crate::bridge::acme::certificate_path(
            data_dir,
            &crate::bridge::acme::directory_url(settings.acme_directory.trim()),
        )),
    }
}

/// Reads the first certificate of the PEM file at `path`.
pub fn describe(path: &Path, mode: TlsChoice, now: time::OffsetDateTime) -> CertificateView {
    let mut view = CertificateView {
        mode,
        path: Some(path.display().to_string()),
        subject: None,
        issuer: None,
        names: Vec::new(),
        not_after: None,
        days_left: None,
        note: None,
    };
    let pem = match std::fs::read(path) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && mode == TlsChoice::SelfSigned => {
            view.note = Some(
                "Keybridge generates its self-signed certificate the first time the bridge starts"
                    .into(),
            );
            return view;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && mode == TlsChoice::Acme => {
            view.note = Some(
                "Keybridge asks the CA for a certificate when the bridge starts (seconds, if the host name's DNS leads here and the CA can reach port 80 or 443); until then it serves a self-signed one"
                    .into(),
            );
            return view;
        }
        Err(e) => {
            view.note = Some(format!(
                "cannot read the certificate ({e}); check the file in Settings"
            ));
            return view;
        }
    };
    let der = match rustls_pemfile::certs(&mut pem.as_slice()).next() {
        Some(Ok(der)) => der,
        _ => {
            view.note = Some(
                "the file holds no PEM certificate; choose the certificate chain file in Settings"
                    .into(),
            );
            return view;
        }
    };
    match CertificateInfo::from_der(&der) {
        Ok(info) => {
            view.subject = Some(info.subject.clone());
            view.issuer = Some(info.issuer.clone());
            view.names = info.dns_names.clone();
            view.not_after = Some(crate::store::format_timestamp(info.not_after));
            view.days_left = Some(i32::try_from(info.days_left(now)).unwrap_or(i32::MAX));
        }
        Err(e) => view.note = Some(format!("{e}; replace the certificate file")),
    }
    view
}

impl App {
    /// The certificate the bridge serves (or will serve) with.
    pub async fn certificate(&self) -> Result<CertificateView, AppError> {
        let settings = self.settings().await?;
        Ok(match certificate_path(&settings, &self.data_dir) {
            None => CertificateView {
                mode: TlsChoice::None,
                path: None,
                subject: None,
                issuer: None,
                names: Vec::new(),
                not_after: None,
                days_left: None,
                note: Some("Plain HTTP: use this only behind a gateway that terminates TLS".into()),
            },
            Some(path) => describe(&path, settings.tls, time::OffsetDateTime::now_utc()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_shows_its_names_and_expiry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (cert, _) =
            crate::bridge::tls::ensure_self_signed(dir.path(), "scim.example.com").expect("cert");
        let view = describe(
            &cert,
            TlsChoice::SelfSigned,
            time::OffsetDateTime::now_utc(),
        );
        assert_eq!(view.note, None);
        assert!(
            view.names.contains(&"scim.example.com".to_owned()),
            "{view:?}"
        );
        assert!(view.names.contains(&"127.0.0.1".to_owned()), "{view:?}");
        assert!(view.days_left.is_some_and(|d| d > 300), "{view:?}");
    }

    #[test]
    fn a_missing_self_signed_certificate_explains_when_it_appears() {
        let dir = tempfile::tempdir().expect("tempdir");
        let view = describe(
            &dir.path().join("none.crt"),
            TlsChoice::SelfSigned,
            time::OffsetDateTime::now_utc(),
        );
        assert!(view
            .note
            .is_some_and(|n| n.contains("first time the bridge starts")));
    }
}
