//! The one thing we read from a certificate ourselves: when it expires. A few dozen lines
//! of DER walking instead of a full X.509 parser: Certificate → tbsCertificate →
//! (version) serialNumber signature issuer validity → notAfter.

use std::path::Path;

use super::tls::{self, TlsMode};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum X509Error {
    #[error("the certificate is not well-formed DER ({0})")]
    Malformed(&'static str),
    #[error("the certificate's notAfter is not a valid time")]
    BadTime,
}

/// One DER element: its tag and contents; and what follows it.
fn element(input: &[u8]) -> Result<(u8, &[u8], &[u8]), X509Error> {
    let (&tag, rest) = input
        .split_first()
        .ok_or(X509Error::Malformed("truncated"))?;
    if tag & 0x1f == 0x1f {
        return Err(X509Error::Malformed("multi-byte tag"));
    }
    let (&first, rest) = rest
        .split_first()
        .ok_or(X509Error::Malformed("truncated"))?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(X509Error::Malformed("length"));
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(X509Error::Malformed("truncated"));
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

fn expect(input: &[u8], want: u8) -> Result<(&[u8], &[u8]), X509Error> {
    let (tag, body, rest) = element(input)?;
    if tag != want {
        return Err(X509Error::Malformed("unexpected element"));
    }
    Ok((body, rest))
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const VERSION: u8 = 0xa0;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// The notAfter of a DER certificate, in Unix seconds.
pub fn not_after(der: &[u8]) -> Result<i64, X509Error> {
    let (cert, _) = expect(der, SEQUENCE)?;
    let (mut tbs, _) = expect(cert, SEQUENCE)?;
    if tbs.first() == Some(&VERSION) {
        tbs = element(tbs)?.2;
    }
    let (_serial, rest) = expect(tbs, INTEGER)?;
    let (_signature, rest) = expect(rest, SEQUENCE)?;
    let (_issuer, rest) = expect(rest, SEQUENCE)?;
    let (validity, _) = expect(rest, SEQUENCE)?;
    let (_not_before_tag, _, rest) = element(validity)?;
    let (tag, time, _) = element(rest)?;
    parse_time(tag, time)
}

/// UTCTime `YYMMDDHHMMSSZ` (years 1950–2049) or GeneralizedTime `YYYYMMDDHHMMSSZ`, the
/// two forms RFC 5280 allows.
fn parse_time(tag: u8, text: &[u8]) -> Result<i64, X509Error> {
    let digits = |s: &[u8]| -> Result<i32, X509Error> {
        if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
            return Err(X509Error::BadTime);
        }
        Ok(s.iter()
            .fold(0i32, |acc, &b| acc * 10 + i32::from(b - b'0')))
    };
    let (year, rest) = match (tag, text.len()) {
        (UTC_TIME, 13) => {
            let yy = digits(&text[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (GENERALIZED_TIME, 15) => (digits(&text[..4])?, &text[4..]),
        _ => return Err(X509Error::BadTime),
    };
    if rest[10] != b'Z' {
        return Err(X509Error::BadTime);
    }
    let field = |i: usize| digits(&rest[i..i + 2]);
    let month = u8::try_from(field(0)?).map_err(|_| X509Error::BadTime)?;
    let month = time::Month::try_from(month).map_err(|_| X509Error::BadTime)?;
    let day = u8::try_from(field(2)?).map_err(|_| X509Error::BadTime)?;
    let date = time::Date::from_calendar_date(year, month, day).map_err(|_| X509Error::BadTime)?;
    let hms = [field(4)?, field(6)?, field(8)?].map(|v| u8::try_from(v).unwrap_or(u8::MAX));
    let clock = time::Time::from_hms(hms[0], hms[1], hms[2]).map_err(|_| X509Error::BadTime)?;
    Ok(time::PrimitiveDateTime::new(date, clock)
        .assume_utc()
        .unix_timestamp())
}

/// The notAfter of the first certificate in a PEM file.
pub fn pem_file_not_after(path: &Path) -> Option<i64> {
    let pem = std::fs::read(path).ok()?;
    let leaf = rustls_pemfile::certs(&mut pem.as_slice()).next()?.ok()?;
    not_after(leaf.as_ref()).ok()
}

/// The expiry of the leaf certificate `mode` serves, for the metrics gauge; None for
/// plain HTTP, and for modes that report their certificate themselves when they obtain
/// or renew it.
pub fn served_certificate_expiry(mode: &TlsMode, data_dir: &Path, hostname: &str) -> Option<i64> {
    match mode {
        TlsMode::Pem { cert, .. } => pem_file_not_after(cert),
        TlsMode::SelfSigned => {
            let (cert, _key) = tls::ensure_self_signed(data_dir, hostname).ok()?;
            pem_file_not_after(&cert)
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_expiring(y: i32, m: u8, d: u8) -> Vec<u8> {
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        params.not_after = rcgen::date_time_ymd(y, m, d);
        let key = rcgen::KeyPair::generate().expect("key");
        params.self_signed(&key).expect("sign").der().to_vec()
    }

    #[test]
    fn reads_not_after_in_both_time_forms() {
        // rcgen writes UTCTime before 2050 and GeneralizedTime from 2050 on.
        assert_eq!(not_after(&cert_expiring(2031, 5, 6)), Ok(1_935_792_000));
        assert_eq!(not_after(&cert_expiring(2051, 1, 2)), Ok(2_556_230_400));
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        let der = cert_expiring(2031, 5, 6);
        for cut in 0..der.len() {
            let _ = not_after(&der[..cut]);
        }
        assert!(not_after(b"").is_err());
        assert!(not_after(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert_eq!(
            parse_time(UTC_TIME, b"311306000000Z"),
            Err(X509Error::BadTime)
        );
    }

    #[test]
    fn the_self_signed_certificate_expiry_is_known() {
        let dir = tempfile::tempdir().expect("tempdir");
        let expiry = served_certificate_expiry(&TlsMode::SelfSigned, dir.path(), "localhost")
            .expect("expiry");
        assert!(expiry > 1_700_000_000, "{expiry}");
        assert_eq!(
            served_certificate_expiry(&TlsMode::None, dir.path(), "localhost"),
            None
        );
    }
}
