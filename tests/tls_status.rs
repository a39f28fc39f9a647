//! The served certificate's subject, issuer and expiry in `/health` for every TLS mode,
//! and in `keybridge status`. (ACME mode: tests/acme.)

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use keybridge::bridge::{self, BridgeConfig, Limits, TlsMode};
use keybridge::directory::Directory;
use keybridge::store::{Store, StoreOptions};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_keybridge");

struct Served {
    health: Value,
    data: tempfile::TempDir,
}

async fn serve_and_read_health(tls: impl FnOnce(&Path) -> (TlsMode, String)) -> Served {
    let data = tempfile::tempdir().expect("tempdir");
    let (mode, trusted_pem_path) = tls(data.path());
    let store = Store::open(data.path(), StoreOptions::default()).expect("store");
    let directory = Directory::open(store.clone()).await.expect("directory");
    let token = keybridge::tokens::issue(&store, "t")
        .await
        .expect("token")
        .expose()
        .to_owned();
    let running = bridge::serve(
        BridgeConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            hostname: Some("localhost".into()),
            tls: mode,
            data_dir: data.path().to_owned(),
            limits: Limits::default(),
        },
        directory,
    )
    .await
    .expect("serve");
    let addr: SocketAddr = running.local_addr;
    let pem = std::fs::read(data.path().join(trusted_pem_path)).expect("trusted cert");
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client");
    let response = client
        .get(format!("https://localhost:{}/health", addr.port()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET /health");
    assert_eq!(response.status(), 200);
    let health = response.json().await.expect("JSON");
    running.shutdown().await;
    store.close().await;
    Served { health, data }
}

#[tokio::test]
async fn health_reports_the_self_signed_certificate_and_status_reads_it_from_the_data_dir() {
    let served =
        serve_and_read_health(|_| (TlsMode::SelfSigned, "tls/self-signed.crt".to_owned())).await;
    let tls = &served.health["components"]["tls"];
    assert_eq!(tls["status"], "ok", "{tls}");
    assert_eq!(tls["mode"], "self-signed");
    assert_eq!(tls["source"], "self-signed");
    let cert = &tls["certificate"];
    assert_eq!(cert["selfSigned"], true);
    assert_eq!(cert["subject"], cert["issuer"]);
    assert!(cert["dnsNames"]
        .as_array()
        .is_some_and(|n| n.iter().any(|n| n == "localhost")));
    assert!(cert["notAfter"].as_str().is_some_and(|d| d.len() >= 20));
    assert!(tls["expiresInDays"].as_i64().is_some_and(|d| d > 0));
    assert!(tls.get("acme").is_none());

    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(served.data.path())
        .arg("status")
        .env_remove("KEYBRIDGE_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("run keybridge status");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("self-signed.crt"), "{text}");
    assert!(text.contains("issuer:"), "{text}");
    assert!(text.contains("names:   localhost"), "{text}");
    assert!(text.contains("days left"), "{text}");
    assert_eq!(
        text.matches(cert["serial"].as_str().expect("serial"))
            .count(),
        1,
        "{text}"
    );
}

#[tokio::test]
async fn health_reports_the_subject_and_issuer_of_the_admins_pem_certificate() {
    let served = serve_and_read_health(|dir| {
        let ca_key = KeyPair::generate().expect("key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Example Corp Issuing CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA");
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, "scim.example.com");
        let leaf = params.signed_by(&key, &ca).expect("leaf");
        std::fs::write(dir.join("chain.pem"), leaf.pem() + &ca.pem()).expect("chain");
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).expect("key");
        std::fs::write(dir.join("ca.pem"), ca.pem()).expect("ca");
        (
            TlsMode::Pem {
                cert: dir.join("chain.pem"),
                key: dir.join("key.pem"),
            },
            "ca.pem".to_owned(),
        )
    })
    .await;
    let tls = &served.health["components"]["tls"];
    assert_eq!(tls["mode"], "pem");
    assert_eq!(tls["source"], "pem");
    assert_eq!(tls["certificate"]["subject"], "CN=scim.example.com");
    assert_eq!(tls["certificate"]["issuer"], "CN=Example Corp Issuing CA");
    assert_eq!(tls["certificate"]["selfSigned"], false);
}
