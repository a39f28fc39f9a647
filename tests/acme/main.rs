//! `--tls acme` end to end against Let's Encrypt's test CA, pebble, on 127.0.0.1:
//! issuance over TLS-ALPN-01 (on the bridge's own listener) and HTTP-01 (on its port-80
//! listener), a renewal that swaps the certificate under an open keep-alive connection,
//! reuse of the stored certificate after a restart, `/health`, and `keybridge status`.
//!
//! Needs Debian's `pebble` package: `scripts/install-pebble.sh`.

mod client;
mod pebble;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use client::KeepAlive;
use keybridge::bridge::acme::{self, AcmeConfig, ChallengeKind};
use keybridge::bridge::tls::{CertificateSource, LiveCertificate, ServedCertificate};
use keybridge::bridge::{self, BridgeConfig, Limits, TlsMode};
use keybridge::directory::Directory;
use keybridge::store::{Store, StoreOptions};
use pebble::{free_port, ChallengePorts, Pebble};
use serde_json::Value;

/// Pebble's DNS (pebble-challtestsrv) resolves every name to 127.0.0.1.
const HOST: &str = "localhost";
/// Issuance against pebble takes well under a second; this bounds a hung CA or bridge.
const ISSUANCE_TIMEOUT: Duration = Duration::from_secs(90);

fn acme_config(pebble: &Pebble, challenge: ChallengeKind) -> AcmeConfig {
    let mut config = AcmeConfig::new(pebble.directory.clone());
    config.ca_root = Some(pebble.https_ca.clone());
    config.challenge = Some(challenge);
    config.email = Some("ops@example.com".into());
    // Pebble refuses 5% of nonces; failed orders are retried quickly in tests.
    config.retry_initial = Duration::from_millis(500);
    config.retry_max = Duration::from_secs(4);
    config
}

/// Waits until the served certificate satisfies `done`; fails with pebble's log.
async fn wait_for_certificate(
    live: &LiveCertificate,
    pebble: &Pebble,
    what: &str,
    done: impl Fn(&ServedCertificate) -> bool,
) -> Arc<ServedCertificate> {
    let deadline = Instant::now() + ISSUANCE_TIMEOUT;
    loop {
        let current = live.current();
        if done(&current) {
            return current;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not done within {ISSUANCE_TIMEOUT:?}; renewal status: {:?}\npebble:\n{}",
            live.renewal(),
            pebble.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_alpn_01_issues_a_certificate_and_a_renewal_swaps_it_under_an_open_connection() {
    let bridge_port = free_port();
    let pebble = Pebble::start(ChallengePorts {
        http: free_port(),
        tls: bridge_port,
    })
    .await;
    let data = tempfile::tempdir().expect("tempdir");
    let store = Store::open(data.path(), StoreOptions::default()).expect("store");
    let directory = Directory::open(store.clone()).await.expect("directory");
    let token = keybridge::tokens::issue(&store, "acme-test")
        .await
        .expect("token")
        .expose()
        .to_owned();
    let listen: SocketAddr = format!("127.0.0.1:{bridge_port}").parse().expect("addr");
    let config = BridgeConfig {
        listen,
        hostname: Some(HOST.into()),
        tls: TlsMode::Acme(acme_config(&pebble, ChallengeKind::TlsAlpn01)),
        data_dir: data.path().to_owned(),
        limits: Limits::default(),
    };

    // First start: a self-signed stand-in until the CA has issued.
    let started = Instant::now();
    let running = bridge::serve(config.clone(), directory.clone())
        .await
        .expect("serve");
    let live = running.certificate.clone().expect("a TLS listener");
    let first = wait_for_certificate(&live, &pebble, "first issuance", |c| {
        c.source == CertificateSource::Acme
    })
    .await;
    let issuance = started.elapsed();
    eprintln!("measured: first issuance over tls-alpn-01 took {issuance:?}");
    assert!(first.info.covers(HOST), "{:?}", first.info.dns_names);
    assert!(
        first.info.issuer.contains("Pebble"),
        "{}",
        first.info.issuer
    );

    // A client that trusts only pebble's root reaches the bridge.
    let root = pebble.root_pem().await;
    let mut kept = KeepAlive::connect(listen, HOST, &root).await;
    assert_eq!(kept.peer_certificate().serial, first.info.serial);
    assert_eq!(kept.get("/ping").await, (200, "pong\n".to_owned()));

    // /health names the certificate and the renewal schedule.
    let health = health(listen, &root, &token).await;
    let tls = &health["components"]["tls"];
    assert_eq!(tls["status"], "ok", "{tls}");
    assert_eq!(tls["mode"], "acme");
    assert_eq!(tls["source"], "acme");
    assert_eq!(tls["certificate"]["serial"], first.info.serial.as_str());
    assert!(tls["certificate"]["issuer"]
        .as_str()
        .is_some_and(|i| i.contains("Pebble")));
    assert!(tls["certificate"]["notAfter"].is_string());
    assert_eq!(tls["acme"]["challenge"], "tls-alpn-01");
    assert_eq!(tls["acme"]["directory"], pebble.directory.as_str());
    assert!(tls["acme"]["lastError"].is_null(), "{tls}");
    assert!(tls["acme"]["nextAttempt"].is_string(), "{tls}");

    // Account and certificate are kept owner-only in the data directory.
    let files = acme::files_dir(data.path(), &pebble.directory);
    for name in ["account.json", "cert.pem", "key.pem"] {
        let path = files.join(name);
        assert!(path.exists(), "{} is missing", path.display());
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }

    // Renewal: a new certificate is served to new handshakes while the open keep-alive
    // connection goes on with the session it negotiated.
    let renewing = Instant::now();
    running.acme().expect("acme task").renew_now();
    let second = wait_for_certificate(&live, &pebble, "renewal", |c| {
        c.info.serial != first.info.serial
    })
    .await;
    let renewal = renewing.elapsed();
    eprintln!("measured: renewal over tls-alpn-01 took {renewal:?}");
    assert_eq!(second.source, CertificateSource::Acme);
    assert_eq!(kept.get("/ping").await, (200, "pong\n".to_owned()));
    assert_eq!(kept.peer_certificate().serial, first.info.serial);
    let fresh = KeepAlive::connect(listen, HOST, &root).await;
    assert_eq!(fresh.peer_certificate().serial, second.info.serial);
    let gauge = metric(
        listen,
        &root,
        &token,
        "keybridge_tls_certificate_expiry_timestamp_seconds",
    )
    .await;
    assert_eq!(gauge, second.info.not_after.unix_timestamp());
    drop(fresh);
    drop(kept);

    // A restart serves the stored certificate at once and orders nothing new.
    running.shutdown().await;
    let running = bridge::serve(config, directory).await.expect("restart");
    let live = running.certificate.clone().expect("a TLS listener");
    assert_eq!(live.current().source, CertificateSource::Acme);
    assert_eq!(live.current().info.serial, second.info.serial);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(live.current().info.serial, second.info.serial);
    let restarted = KeepAlive::connect(listen, HOST, &root).await;
    assert_eq!(restarted.peer_certificate().serial, second.info.serial);
    running.shutdown().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuance_retries_with_backoff_when_the_ca_refuses_half_of_its_nonces() {
    let http_port = free_port();
    let pebble = Pebble::start_with(
        ChallengePorts {
            http: http_port,
            tls: free_port(),
        },
        50,
    )
    .await;
    let data = tempfile::tempdir().expect("tempdir");
    let store = Store::open(data.path(), StoreOptions::default()).expect("store");
    let directory = Directory::open(store.clone()).await.expect("directory");
    let mut acme = acme_config(&pebble, ChallengeKind::Http01);
    acme.http_port = http_port;
    acme.retry_initial = Duration::from_millis(100);
    acme.retry_max = Duration::from_secs(1);
    let config = BridgeConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        hostname: Some(HOST.into()),
        tls: TlsMode::Acme(acme),
        data_dir: data.path().to_owned(),
        limits: Limits::default(),
    };
    let started = Instant::now();
    let running = bridge::serve(config, directory).await.expect("serve");
    assert_eq!(
        running
            .acme()
            .and_then(|a| a.http01_addr())
            .map(|a| a.port()),
        Some(http_port)
    );
    let live = running.certificate.clone().expect("a TLS listener");
    // Each request is tried three times by the ACME client on badNonce; an order that
    // still fails is retried whole after a backoff. Record the failures seen meanwhile.
    let deadline = Instant::now() + ISSUANCE_TIMEOUT;
    let mut most_failures = 0;
    while live.current().source != CertificateSource::Acme {
        if let Some(status) = live.renewal() {
            most_failures = most_failures.max(status.consecutive_failures);
        }
        assert!(
            Instant::now() < deadline,
            "no certificate within {ISSUANCE_TIMEOUT:?}: {:?}",
            live.renewal()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "measured: issuance with 50% of nonces refused took {:?} ({most_failures} failed orders retried)",
        started.elapsed()
    );
    let status = live.renewal().expect("renewal status");
    assert_eq!(status.consecutive_failures, 0);
    assert!(status.last_error.is_none());
    assert!(status.last_success.is_some());
    running.shutdown().await;
    store.close().await;
}

/// One unlabelled value from `/metrics`.
async fn metric(addr: SocketAddr, root_pem: &str, token: &str, name: &str) -> i64 {
    let text = get(addr, root_pem, token, "/metrics")
        .await
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
        .map(|v| v as i64)
        .unwrap_or_else(|| panic!("{name} is not in /metrics:\n{text}"))
}

async fn health(addr: SocketAddr, root_pem: &str, token: &str) -> Value {
    get(addr, root_pem, token, "/health")
        .await
        .json()
        .await
        .expect("health JSON")
}

async fn get(addr: SocketAddr, root_pem: &str, token: &str, path: &str) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(root_pem.as_bytes()).expect("root"))
        .resolve(HOST, addr)
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client");
    let response = client
        .get(format!("https://{HOST}:{}{path}", addr.port()))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200, "GET {path}");
    response
}

const BIN: &str = env!("CARGO_BIN_EXE_keybridge");

/// A `keybridge serve` child, killed by PID when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn keybridge(data: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(["--secrets", "file"])
        .args(args)
        .env_remove("KEYBRIDGE_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("run keybridge");
    assert!(
        out.status.success(),
        "keybridge {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_tls_acme_over_http_01_and_keybridge_status_report_the_certificate() {
    let (bridge_port, http_port) = (free_port(), free_port());
    let pebble = Pebble::start(ChallengePorts {
        http: http_port,
        tls: free_port(),
    })
    .await;
    let data = tempfile::tempdir().expect("tempdir");
    let issued = keybridge(data.path(), &["token", "issue", "--name", "status"]);
    let token = String::from_utf8_lossy(&issued.stdout)
        .lines()
        .last()
        .expect("token line")
        .trim()
        .to_owned();

    let started = Instant::now();
    let log = std::fs::File::create(data.path().join("serve.log")).expect("log");
    let _server = Server(
        Command::new(BIN)
            .arg("--data-dir")
            .arg(data.path())
            .args(["serve", "--listen", &format!("127.0.0.1:{bridge_port}")])
            .args(["--hostname", HOST, "--tls", "acme"])
            .args(["--acme-directory", &pebble.directory])
            .arg("--acme-ca-root")
            .arg(&pebble.https_ca)
            .args(["--acme-http-port", &http_port.to_string()])
            .args(["--acme-email", "ops@example.com"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn keybridge serve"),
    );

    // `keybridge status` reads the certificate from the data directory once issued.
    let deadline = Instant::now() + ISSUANCE_TIMEOUT;
    let acme_certificate = loop {
        let out = keybridge(data.path(), &["status", "--json"]);
        let status: Value = serde_json::from_slice(&out.stdout).expect("status JSON");
        let found = status["certificates"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["path"].as_str().is_some_and(|p| p.contains("acme")))
            .cloned();
        if let Some(found) = found {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "no ACME certificate within {ISSUANCE_TIMEOUT:?}; bridge log:\n{}\npebble:\n{}",
            std::fs::read_to_string(data.path().join("serve.log")).unwrap_or_default(),
            pebble.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!(
        "measured: start to stored certificate over http-01 (CLI) took {:?}",
        started.elapsed()
    );
    assert!(acme_certificate["certificate"]["issuer"]
        .as_str()
        .is_some_and(|i| i.contains("Pebble")));
    assert!(acme_certificate["certificate"]["dnsNames"]
        .as_array()
        .is_some_and(|n| n.iter().any(|n| n == HOST)));

    // The file is written before the swap; wait until the bridge serves it too.
    let root = pebble.root_pem().await;
    let root_path = data.path().join("pebble-root.pem");
    std::fs::write(&root_path, &root).expect("write root");
    let url = format!("https://{HOST}:{bridge_port}");
    let deadline = Instant::now() + Duration::from_secs(15);
    let text = loop {
        let out = Command::new(BIN)
            .arg("--data-dir")
            .arg(data.path())
            .args(["status", "--url", &url, "--ca"])
            .arg(&root_path)
            .env("KEYBRIDGE_TOKEN", &token)
            .stdin(Stdio::null())
            .output()
            .expect("run keybridge status --url");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if out.status.success() && text.contains("mode acme") && text.contains("tls: ok") {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "keybridge status --url: {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(text.contains("Pebble"), "{text}");
    assert!(text.contains("via http-01"), "{text}");
    assert!(text.contains(&format!("names:   {HOST}")), "{text}");
    assert!(!text.contains(&token), "status must never print the token");

    // The challenge listener serves challenges only: browsers are sent to HTTPS, anything
    // else is refused.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let http = format!("http://127.0.0.1:{http_port}");
    let r = plain
        .get(format!("{http}/scim/v2/Users?count=1"))
        .send()
        .await
        .expect("GET over HTTP");
    assert_eq!(r.status(), 301);
    assert_eq!(
        r.headers()["location"],
        format!("https://{HOST}:{bridge_port}/scim/v2/Users?count=1").as_str()
    );
    let r = plain
        .post(format!("{http}/scim/v2/Users"))
        .body("{}")
        .send()
        .await
        .expect("POST over HTTP");
    assert_eq!(r.status(), 404);
    let r = plain
        .get(format!("{http}/.well-known/acme-challenge/no-such-token"))
        .send()
        .await
        .expect("GET unknown token");
    assert_eq!(r.status(), 404);
}
