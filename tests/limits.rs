//! Protocol limits under a hostile client: body limits over HTTP/2 as over HTTP/1.1, slow
//! heads and dribbled bodies cut off, the connection cap, oversized heads, TLS 1.0/1.1
//! refused, and plain HTTP refused on a TLS listener. Every loop and wait is bounded.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::TestBridge;
use keybridge::bridge::{self, BridgeConfig, Limits, RunningBridge, TlsMode};
use keybridge::directory::Directory;
use keybridge::store::{Store, StoreOptions};
use reqwest::{StatusCode, Version};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SCIM_ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

fn h2_client() -> reqwest::Client {
    reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A user body padded to `size` bytes.
fn padded_user(size: usize) -> String {
    let mut body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "big@example.com",
        "title": ""
    });
    let overhead = body.to_string().len();
    body["title"] = json!("x".repeat(size.saturating_sub(overhead)));
    body.to_string()
}

async fn assert_413(resp: reqwest::Response) {
    assert_eq!(resp.version(), Version::HTTP_2);
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = resp.json().await.expect("a SCIM error body");
    assert_eq!(body["schemas"][0], SCIM_ERROR, "{body}");
    assert_eq!(body["status"], "413");
}

#[tokio::test]
async fn body_limits_hold_over_http2_with_and_without_a_content_length() {
    let b = TestBridge::start().await;
    let client = h2_client();
    let max = Limits::default().max_body;

    let ok = client
        .post(format!("{}/Users", b.base))
        .bearer_auth(&b.token)
        .header("content-type", "application/scim+json")
        .body(padded_user(max - 1024))
        .send()
        .await
        .expect("send");
    assert_eq!(ok.version(), Version::HTTP_2);
    assert_eq!(ok.status(), StatusCode::CREATED);

    let declared = client
        .post(format!("{}/Users", b.base))
        .bearer_auth(&b.token)
        .header("content-type", "application/scim+json")
        .body(padded_user(2 * max))
        .send()
        .await
        .expect("send");
    assert_413(declared).await;

    // No content-length: DATA frames keep coming until the limit stops them.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = std::iter::once(Ok(b"{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"s@example.com\",\"title\":\"".to_vec()))
        .chain((0..48).map(|_| Ok(vec![b'y'; 64 * 1024])))
        .chain(std::iter::once(Ok(b"\"}".to_vec())))
        .collect();
    let streamed = client
        .post(format!("{}/Users", b.base))
        .bearer_auth(&b.token)
        .header("content-type", "application/scim+json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .expect("send");
    assert_413(streamed).await;

    let bulk_max = Limits::default().max_bulk_body;
    let bulk = client
        .post(format!("{}/Bulk", b.base))
        .bearer_auth(&b.token)
        .header("content-type", "application/scim+json")
        .body(format!(
            "{{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:BulkRequest\"],\"Operations\":[],\"pad\":\"{}\"}}",
            "z".repeat(bulk_max + 1)
        ))
        .send()
        .await
        .expect("send");
    assert_413(bulk).await;

    // The bridge still serves the same client afterwards.
    let after = client
        .get(format!("{}/Users?count=1", b.base))
        .bearer_auth(&b.token)
        .send()
        .await
        .expect("send");
    assert_eq!(after.status(), StatusCode::OK);
    b.stop().await;
}

/// Reads from `stream` until it closes or `limit` passes; what was read, and whether it
/// closed.
async fn read_until_closed(
    stream: &mut (impl AsyncReadExt + Unpin),
    limit: Duration,
) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (got, false),
        }
    }
}

#[tokio::test]
async fn a_client_that_dribbles_a_body_is_answered_408_and_disconnected() {
    let b = TestBridge::start_with(Limits {
        body_read_timeout: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let addr = b.origin.trim_start_matches("http://").to_owned();
    let stream = TcpStream::connect(&addr).await.expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    let head = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/scim+json\r\nContent-Length: 1000\r\n\r\n{{",
        b.token
    );
    wr.write_all(head.as_bytes()).await.expect("head");
    let started = Instant::now();
    // One byte every 100 ms: the whole body would take 100 s.
    let dribbler = tokio::spawn(async move {
        for _ in 0..999 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if wr.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let (got, closed) = read_until_closed(&mut rd, Duration::from_secs(10)).await;
    let elapsed = started.elapsed();
    dribbler.abort();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains(SCIM_ERROR), "{text}");
    assert!(closed, "the connection stayed open after the 408");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    b.stop().await;
}

#[tokio::test]
async fn a_client_that_dribbles_its_request_head_is_disconnected() {
    let b = TestBridge::start_with(Limits {
        header_read_timeout: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let addr = b.origin.trim_start_matches("http://").to_owned();
    let stream = TcpStream::connect(&addr).await.expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    wr.write_all(b"GET /ping HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .expect("head");
    let started = Instant::now();
    let dribbler = tokio::spawn(async move {
        for i in 0..100 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if wr
                .write_all(format!("X-Slow-{i}: a\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    });
    let (got, closed) = read_until_closed(&mut rd, Duration::from_secs(10)).await;
    dribbler.abort();
    let text = String::from_utf8_lossy(&got);
    assert!(closed, "a dribbled head held the connection for 10 s");
    assert!(!text.contains("pong"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    b.stop().await;
}

#[tokio::test]
async fn an_oversized_request_head_is_refused() {
    let b = TestBridge::start().await;
    let huge = "a".repeat(Limits::default().max_header_bytes + 1024);
    let h1 = b
        .client
        .get(format!("{}/ping", b.origin))
        .header("x-huge", &huge)
        .send()
        .await
        .expect("send");
    assert_eq!(h1.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    // Over HTTP/2 the head is refused too: a 431 or a reset stream, never an answer.
    let h2 = h2_client()
        .get(format!("{}/ping", b.origin))
        .header("x-huge", &huge)
        .send()
        .await;
    match h2 {
        Ok(r) => assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
        Err(e) => assert!(!e.is_timeout(), "{e}"),
    }
    b.stop().await;
}

#[tokio::test]
async fn one_connection_past_the_cap_is_closed_and_the_others_are_served() {
    let b = TestBridge::start_with(Limits {
        max_connections: 3,
        ..Limits::default()
    })
    .await;
    let addr = b.origin.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(&addr).await.expect("connect"));
    }
    // Give the accept loop time to take the three before the fourth arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(&addr).await.expect("connect");
    let _ = extra
        .write_all(b"GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    let (got, closed) = read_until_closed(&mut extra, Duration::from_secs(5)).await;
    assert!(closed, "the connection past the cap was left open");
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));

    let first = &mut held[0];
    first
        .write_all(b"GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let (got, _) = read_until_closed(first, Duration::from_secs(5)).await;
    assert!(
        String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );

    // A freed slot is reused.
    held.clear();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(r) = b.client.get(format!("{}/ping", b.origin)).send().await {
            if r.status() == StatusCode::OK {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no connection was served after the others closed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let metrics = b
        .client
        .get(format!("{}/metrics", b.origin))
        .bearer_auth(&b.token)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("keybridge_connections_refused_total 1\n"),
        "{metrics}"
    );
    b.stop().await;
}

/// A bridge serving TLS with its self-signed certificate.
async fn tls_bridge() -> (tempfile::TempDir, Store, RunningBridge) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
    let directory = Directory::open(store.clone()).await.expect("directory");
    let running = bridge::serve(
        BridgeConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            hostname: Some("localhost".into()),
            tls: TlsMode::SelfSigned,
            data_dir: dir.path().to_owned(),
            limits: Limits::default(),
        },
        directory,
    )
    .await
    .expect("serve");
    (dir, store, running)
}

/// A ClientHello offering only `version` (0x0301 TLS 1.0, 0x0302 TLS 1.1): no
/// supported_versions extension, the suites of that era plus two TLS 1.2 ones, and
/// signature_algorithms when `sig_algs` (TLS 1.1 clients send none; with it the server
/// gets as far as comparing versions).
fn legacy_client_hello(version: u16, sig_algs: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version.to_be_bytes());
    body.extend_from_slice(&[0x42; 32]); // random
    body.push(0); // no session id
    let suites: [u16; 6] = [0xc02b, 0xc02f, 0xc013, 0xc014, 0x002f, 0x0035];
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut extensions = Vec::new();
    // supported_groups: x25519, secp256r1; ec_point_formats: uncompressed.
    extensions.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17]);
    extensions.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    if sig_algs {
        // ecdsa_secp256r1_sha256, rsa_pkcs1_sha256, rsa_pss_rsae_sha256.
        extensions.extend_from_slice(&[
            0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x04, 0x01, 0x08, 0x04,
        ]);
    }
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);
    let mut handshake = vec![0x01];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

/// Sends `hello` and returns the alert description the server answered with; fails if
/// the server answered anything but a fatal alert (a ServerHello above all).
async fn alert_for(addr: SocketAddr, hello: &[u8]) -> u8 {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(hello).await.expect("hello");
    let (got, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(closed, "the connection stayed open");
    // An alert record: type 21, version, length 2, level fatal (2), description.
    assert!(got.len() >= 7, "{got:?}");
    assert_eq!(
        got[0], 0x15,
        "not an alert (a ServerHello is 0x16): {got:?}"
    );
    assert_eq!(got[5], 2, "not fatal: {got:?}");
    got[6]
}

const HANDSHAKE_FAILURE: u8 = 40;
const PROTOCOL_VERSION: u8 = 70;

#[tokio::test]
async fn tls_1_0_and_1_1_are_refused_with_a_protocol_version_alert() {
    let (_dir, store, running) = tls_bridge().await;
    for version in [0x0301u16, 0x0302] {
        // With everything else acceptable, the version alone is refused.
        assert_eq!(
            alert_for(running.local_addr, &legacy_client_hello(version, true)).await,
            PROTOCOL_VERSION,
            "TLS {version:#06x}"
        );
        // A hello as TLS 1.0/1.1 clients really send it (no signature_algorithms) fails
        // even earlier: no ServerHello either way.
        let alert = alert_for(running.local_addr, &legacy_client_hello(version, false)).await;
        assert!(
            alert == HANDSHAKE_FAILURE || alert == PROTOCOL_VERSION,
            "TLS {version:#06x}: alert {alert}"
        );
    }
    running.shutdown().await;
    store.close().await;
}

/// `openssl s_client` against `addr` with `args`, bounded to 20 s, off the runtime's
/// threads (the bridge under test runs on them).
async fn s_client(addr: SocketAddr, args: &[&str]) -> (bool, String) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new("timeout")
            .args(["20", "openssl", "s_client"])
            .args(&args)
            .args(["-connect", &addr.to_string(), "-servername", "localhost"])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run openssl");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    })
    .await
    .expect("join")
}

#[tokio::test]
async fn openssl_s_client_cannot_handshake_with_tls_1_1() {
    let Ok(version) = std::process::Command::new("openssl")
        .arg("version")
        .output()
    else {
        eprintln!("openssl is not installed; the raw ClientHello test covers TLS 1.0/1.1");
        return;
    };
    assert!(version.status.success());
    let (_dir, store, running) = tls_bridge().await;
    let addr = running.local_addr;
    let (ok, text) = s_client(addr, &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]).await;
    assert!(!ok, "{text}");
    // OpenSSL's TLS 1.1 hello carries no signature_algorithms, so rustls refuses it
    // with handshake_failure before it compares versions; nothing is negotiated.
    assert!(
        text.contains("alert handshake failure") || text.contains("alert protocol version"),
        "{text}"
    );
    assert!(text.contains("Cipher is (NONE)"), "{text}");
    // A modern client is served on the same port.
    let (_, text) = s_client(addr, &["-tls1_2"]).await;
    assert!(text.contains("TLSv1.2"), "{text}");
    running.shutdown().await;
    store.close().await;
}

#[tokio::test]
async fn plain_http_to_the_tls_port_gets_no_http_answer() {
    let (_dir, store, running) = tls_bridge().await;
    let mut s = TcpStream::connect(running.local_addr)
        .await
        .expect("connect");
    s.write_all(b"GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let (got, closed) = read_until_closed(&mut s, Duration::from_secs(15)).await;
    assert!(closed, "the connection stayed open");
    let text = String::from_utf8_lossy(&got);
    assert!(!text.contains("HTTP/"), "{text}");
    assert!(!text.contains("pong"), "{text}");
    running.shutdown().await;
    store.close().await;
}

#[tokio::test]
async fn silent_and_idle_connections_are_closed_and_free_their_slots() {
    let b = TestBridge::start_with(Limits {
        max_connections: 3,
        header_read_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        ..Limits::default()
    })
    .await;
    let addr = b.origin.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    // Not a byte.
    let mut silent = TcpStream::connect(&addr).await.expect("connect");
    // The HTTP/2 preface and empty SETTINGS, then nothing.
    let mut h2_idle = TcpStream::connect(&addr).await.expect("connect");
    h2_idle
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .expect("preface");
    // One request answered, then a keep-alive connection left idle.
    let mut kept = TcpStream::connect(&addr).await.expect("connect");
    kept.write_all(b"GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("request");
    for (what, stream) in [
        ("silent", &mut silent),
        ("idle HTTP/2", &mut h2_idle),
        ("idle keep-alive", &mut kept),
    ] {
        let (_, closed) = read_until_closed(stream, Duration::from_secs(8)).await;
        assert!(closed, "the {what} connection was left open");
    }
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    // Their slots are free again.
    let r = b
        .client
        .get(format!("{}/ping", b.origin))
        .send()
        .await
        .expect("ping");
    assert_eq!(r.status(), StatusCode::OK);
    b.stop().await;
}
