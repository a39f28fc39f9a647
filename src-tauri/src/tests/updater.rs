//! The updater against a release feed served from 127.0.0.1: a manifest and a bundle
//! signed with a throwaway minisign key made here (the format `tauri signer generate`
//! writes), so no private key ever lives in the repository.

use std::io::Cursor;

use base64::Engine;
use keybridge::app::{AppSettings, ProblemKind};

use super::{core_app, mock_shell};
use crate::updates;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

struct Key {
    /// What tauri.conf.json's `plugins.updater.pubkey` holds: base64 of the key file.
    pubkey: String,
    pair: minisign::KeyPair,
}

fn throwaway_key() -> Key {
    let pair = minisign::KeyPair::generate_unencrypted_keypair().expect("key pair");
    let text = pair.pk.to_box().expect("public key box").into_string();
    Key {
        pubkey: B64.encode(text),
        pair,
    }
}

/// The `.sig` file `tauri signer sign` writes, base64-encoded as manifests carry it.
fn signature(key: &Key, data: &[u8]) -> String {
    let sig = minisign::sign(
        Some(&key.pair.pk),
        &key.pair.sk,
        Cursor::new(data),
        Some("file:keybridge_9.9.9_amd64.deb"),
        Some("signature from tauri secret key"),
    )
    .expect("sign");
    B64.encode(sig.into_string())
}

/// Serves `manifest` at /latest.json and `bundle` at /bundle on a loopback port; answers
/// the feed's URL. The server lives as long as the test's runtime.
fn serve_feed(bundle: Vec<u8>, signature: String) -> String {
    let listener =
        tauri::async_runtime::block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let entry =
        serde_json::json!({ "signature": signature, "url": format!("http://{addr}/bundle") });
    let manifest = serde_json::json!({
        "version": "9.9.9",
        "notes": "A test release",
        "pub_date": "2026-01-01T00:00:00Z",
        "platforms": {
            "linux-x86_64": entry, "darwin-x86_64": entry, "darwin-aarch64": entry,
            "windows-x86_64": entry
        }
    });
    let app = axum::Router::new()
        .route(
            "/latest.json",
            axum::routing::get(move || {
                let m = manifest.clone();
                async move { axum::Json(m) }
            }),
        )
        .route(
            "/bundle",
            axum::routing::get(move || {
                let b = bundle.clone();
                async move { b }
            }),
        );
    tauri::async_runtime::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/latest.json")
}

fn settings_for(feed: String) -> AppSettings {
    AppSettings {
        update_endpoint: Some(feed),
        ..AppSettings::default()
    }
}

#[test]
fn a_signed_release_on_the_feed_is_found_downloaded_and_verified() {
    let key = throwaway_key();
    let bundle = b"a signed Keybridge 9.9.9 bundle".to_vec();
    let feed = serve_feed(bundle.clone(), signature(&key, &bundle));
    let (_dir, app) = core_app();
    let shell = mock_shell(app, &key.pubkey);
    let update =
        tauri::async_runtime::block_on(updates::check(shell.handle(), &settings_for(feed), None))
            .expect("check")
            .expect("an update");
    assert_eq!(update.version, "9.9.9");
    assert_eq!(update.body.as_deref(), Some("A test release"));
    let downloaded = tauri::async_runtime::block_on(updates::download(&update)).expect("verified");
    assert_eq!(downloaded, bundle);
}

#[test]
fn a_tampered_bundle_or_a_foreign_signature_is_rejected() {
    let key = throwaway_key();
    let bundle = b"a signed Keybridge 9.9.9 bundle".to_vec();
    let mut tampered = bundle.clone();
    tampered[0] ^= 1;
    let stranger = throwaway_key();
    for (served, sig) in [
        (tampered, signature(&key, &bundle)),
        (bundle.clone(), signature(&stranger, &bundle)),
    ] {
        let feed = serve_feed(served, sig);
        let (_dir, app) = core_app();
        let shell = mock_shell(app, &key.pubkey);
        let update = tauri::async_runtime::block_on(updates::check(
            shell.handle(),
            &settings_for(feed),
            None,
        ))
        .expect("check")
        .expect("an update is announced");
        let refused =
            tauri::async_runtime::block_on(updates::download(&update)).expect_err("refused");
        assert_eq!(refused.kind, ProblemKind::Update);
        assert!(
            refused.message.contains("not installed"),
            "{}",
            refused.message
        );
    }
}

#[test]
fn updates_off_never_asks_the_feed() {
    let (_dir, app) = core_app();
    let shell = mock_shell(app, "unused");
    let settings = AppSettings {
        update_channel: keybridge::app::UpdateChannel::Off,
        update_endpoint: Some("http://127.0.0.1:9/latest.json".into()),
        ..AppSettings::default()
    };
    let found = tauri::async_runtime::block_on(updates::check(shell.handle(), &settings, None));
    assert!(matches!(found, Ok(None)));
}

#[test]
fn the_beta_channel_reads_beta_json_beside_latest_json() {
    let configured = tauri::Url::parse("https://example.com/releases/latest.json").expect("url");
    let beta = AppSettings {
        update_channel: keybridge::app::UpdateChannel::Beta,
        ..AppSettings::default()
    };
    assert_eq!(
        updates::endpoint_for(&beta, Some(&configured)).map(|u| u.to_string()),
        Some("https://example.com/releases/beta.json".to_owned())
    );
    assert_eq!(
        updates::endpoint_for(&AppSettings::default(), Some(&configured)),
        Some(configured)
    );
}
