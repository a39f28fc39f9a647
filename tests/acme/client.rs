//! One HTTP/1.1 keep-alive connection over TLS that trusts only the given root: to see the
//! certificate a handshake got, and to check that an established connection survives a
//! certificate swap.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use keybridge::bridge::tls::CertificateInfo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

const TIMEOUT: Duration = Duration::from_secs(15);

pub struct KeepAlive {
    host: String,
    stream: TlsStream<TcpStream>,
}

impl KeepAlive {
    pub async fn connect(addr: SocketAddr, host: &str, root_pem: &str) -> KeepAlive {
        keybridge::bridge::tls::install_crypto_provider();
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut root_pem.as_bytes()) {
            roots.add(cert.expect("root PEM")).expect("add root");
        }
        let mut config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let tcp = tokio::time::timeout(TIMEOUT, TcpStream::connect(addr))
            .await
            .expect("connect in time")
            .expect("connect");
        let name = ServerName::try_from(host.to_owned()).expect("server name");
        let stream = tokio::time::timeout(
            TIMEOUT,
            TlsConnector::from(Arc::new(config)).connect(name, tcp),
        )
        .await
        .expect("handshake in time")
        .expect("TLS handshake with a client that trusts only the CA's root");
        KeepAlive {
            host: host.to_owned(),
            stream,
        }
    }

    /// What the server presented in this connection's handshake.
    pub fn peer_certificate(&self) -> CertificateInfo {
        let (_, session) = self.stream.get_ref();
        let leaf = session
            .peer_certificates()
            .and_then(|c| c.first())
            .expect("the server presented a certificate");
        CertificateInfo::from_der(leaf).expect("parse the served certificate")
    }

    /// `GET path` on this connection; the status code and body.
    pub async fn get(&mut self, path: &str) -> (u16, String) {
        let request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.host);
        tokio::time::timeout(TIMEOUT, self.exchange(request.as_bytes()))
            .await
            .expect("an answer in time")
    }

    async fn exchange(&mut self, request: &[u8]) -> (u16, String) {
        self.stream.write_all(request).await.expect("write request");
        self.stream.flush().await.expect("flush");
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            let n = self.stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "the server closed the keep-alive connection");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status code");
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .expect("content-length");
        while buf.len() < head_end + length {
            let n = self.stream.read(&mut chunk).await.expect("read body");
            assert!(n > 0, "the server closed the connection mid-body");
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).to_string();
        (status, body)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
