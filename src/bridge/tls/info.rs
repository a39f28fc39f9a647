//! What a certificate says, read from its DER: for `/health`, `keybridge status`, the
//! renewal schedule, and the certificate-expiry metric.

use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::extensions::GeneralName;

/// The facts about a leaf certificate an operator asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateInfo {
    /// The subject's distinguished name, e.g. `CN=scim.example.com` (empty for ACME
    /// certificates, which name their host only in `dnsNames`).
    pub subject: String,
    /// The issuer's distinguished name, e.g. `C=US, O=Let's Encrypt, CN=R11`.
    pub issuer: String,
    /// The serial number in lower-case hex, as CAs print it.
    pub serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// The DNS names and IP addresses the certificate is valid for.
    pub dns_names: Vec<String>,
    /// Issuer and subject are the same name (a self-signed certificate).
    pub self_signed: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("not an X.509 certificate: {0}")]
pub struct CertificateParseError(String);

impl CertificateInfo {
    /// Reads the leaf certificate `der`.
    pub fn from_der(der: &[u8]) -> Result<CertificateInfo, CertificateParseError> {
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| CertificateParseError(e.to_string()))?;
        let when = |t: &x509_parser::time::ASN1Time| {
            OffsetDateTime::from_unix_timestamp(t.timestamp())
                .map_err(|e| CertificateParseError(e.to_string()))
        };
        let mut dns_names = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::DNSName(n) => dns_names.push((*n).to_owned()),
                    GeneralName::IPAddress(ip) => {
                        if let Some(ip) = ip_from_bytes(ip) {
                            dns_names.push(ip.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        let subject = cert.subject().to_string();
        let issuer = cert.issuer().to_string();
        Ok(CertificateInfo {
            self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
            subject,
            issuer,
            serial: hex::encode(cert.raw_serial()),
            not_before: when(&cert.validity().not_before)?,
            not_after: when(&cert.validity().not_after)?,
            dns_names,
        })
    }

    /// Whether the certificate names `host` (exactly, ignoring ASCII case; wildcards are
    /// not considered because the bridge never asks for one).
    pub fn covers(&self, host: &str) -> bool {
        self.dns_names.iter().any(|n| n.eq_ignore_ascii_case(host))
    }

    /// Whole days until `not_after` (negative once expired).
    pub fn days_left(&self, now: OffsetDateTime) -> i64 {
        (self.not_after - now).whole_days()
    }
}

fn ip_from_bytes(bytes: &[u8]) -> Option<std::net::IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_leaf_reports_its_names_and_that_it_is_self_signed() {
        let generated =
            rcgen::generate_simple_self_signed(vec!["scim.example.com".into(), "127.0.0.1".into()])
                .expect("generate");
        let info = CertificateInfo::from_der(generated.cert.der()).expect("parse");
        assert!(info.self_signed);
        assert_eq!(info.subject, info.issuer);
        assert!(info.covers("SCIM.example.com"));
        assert!(info.covers("127.0.0.1"));
        assert!(!info.covers("other.example.com"));
        assert!(info.not_after > info.not_before);
        assert!(!info.serial.is_empty());
    }

    #[test]
    fn garbage_is_a_parse_error_not_a_panic() {
        assert!(CertificateInfo::from_der(b"not a certificate").is_err());
    }
}
