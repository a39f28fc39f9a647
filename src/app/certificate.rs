//! What the bridge's certificate says: mode, subject, names and expiry, for the Overview.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::settings::{AppSettings, TlsChoice};
use super::{App, AppError};

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
        Err(e) => {
            view.note = Some(format!(
                "cannot read the certificate ({e}); check the file in Settings"
            ));
            return view;
        }
    };
    let der = match x509_parser::pem::parse_x509_pem(&pem) {
        Ok((_, pem)) => pem.contents,
        Err(e) => {
            view.note = Some(format!(
                "the file holds no PEM certificate ({e}); choose the certificate chain file in Settings"
            ));
            return view;
        }
    };
    match x509_parser::parse_x509_certificate(&der) {
        Ok((_, cert)) => {
            view.subject = Some(cert.subject().to_string());
            view.issuer = Some(cert.issuer().to_string());
            if let Ok(Some(san)) = cert.subject_alternative_name() {
                for name in &san.value.general_names {
                    match name {
                        x509_parser::extensions::GeneralName::DNSName(d) => {
                            view.names.push((*d).to_owned())
                        }
                        x509_parser::extensions::GeneralName::IPAddress(ip) => {
                            view.names.push(ip_text(ip))
                        }
                        _ => {}
                    }
                }
            }
            let not_after = cert.validity().not_after.to_datetime();
            view.not_after = Some(crate::store::format_timestamp(not_after));
            let days = (not_after - now).whole_days();
            view.days_left = Some(i32::try_from(days).unwrap_or(i32::MAX));
        }
        Err(e) => {
            view.note = Some(format!(
                "the certificate cannot be parsed ({e}); replace the file"
            ))
        }
    }
    view
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => "?".into(),
    }
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
