//! `keybridge backup` and `keybridge restore` as an admin runs them, against a real
//! `keybridge serve` in another process: a backup taken while clients write is a
//! consistent copy that restores into a fresh directory and serves again; a restore is
//! refused while a bridge serves from the directory it would replace.

#[path = "common/child.rs"]
mod child;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use child::{issue_token, keybridge, ServeChild};
use reqwest::StatusCode;
use rusqlite::{Connection, OpenFlags};
use serde_json::{json, Value};

const WRITERS: usize = 4;
/// Bounds on the write load, whichever comes first.
const MAX_WRITES: usize = 5_000;
const MAX_LOAD_TIME: Duration = Duration::from_secs(20);

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn user(user_name: &str) -> String {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Backup", "familyName": "Test"},
        "emails": [{"value": user_name, "type": "work", "primary": true}]
    })
    .to_string()
}

/// userNames in a store file, read directly.
fn stored_user_names(db: &Path) -> Vec<String> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let mut stmt = conn
        .prepare("SELECT user_name FROM people ORDER BY seq")
        .expect("prepare");
    let names = stmt
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<Vec<String>, _>>()
        .expect("rows");
    names
}

/// The backup is one consistent snapshot: every person has their creation event and
/// vice versa, and SQLite finds nothing wrong.
fn assert_consistent(db: &Path) {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity");
    assert_eq!(check, "ok");
    let torn: i64 = conn
        .query_row(
            "SELECT (SELECT count(*) FROM people p WHERE NOT EXISTS (SELECT 1 FROM events e
                       WHERE e.name = 'user_create_provision' AND e.resource_id = p.id))
                  + (SELECT count(*) FROM events e WHERE e.name = 'user_create_provision'
                       AND e.outcome = 'success' AND e.resource_id NOT IN (SELECT id FROM people))",
            [],
            |r| r.get(0),
        )
        .expect("events");
    assert_eq!(torn, 0, "a person and their creation event were split");
}

fn assert_success(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_backup_taken_while_serving_writes_restores_into_a_fresh_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let token = issue_token(&data, "backup-test");
    let server = ServeChild::start(&data, &log);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    // Writers POST people until told to stop; `acked` holds those answered 201.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (base, token) = (server.base.clone(), token.clone());
            let (acked, next, stop) = (acked.clone(), next.clone(), stop.clone());
            rt.spawn(async move {
                let http = http_client();
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed) && started.elapsed() < MAX_LOAD_TIME {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= MAX_WRITES {
                        break;
                    }
                    let name = format!("backup-{k}@example.com");
                    let resp = http
                        .post(format!("{base}/Users"))
                        .bearer_auth(&token)
                        .header("content-type", "application/scim+json")
                        .body(user(&name))
                        .send()
                        .await
                        .expect("POST answered");
                    assert_eq!(resp.status(), StatusCode::CREATED);
                    resp.bytes().await.expect("body");
                    acked.lock().expect("acked").push(name);
                }
            })
        })
        .collect();

    // Three backups while the writers run, each to the same file (replaced atomically).
    let file = dir.path().join("keybridge.backup");
    let file_arg = file.to_str().expect("utf-8 path");
    let mut last_before: Vec<String> = Vec::new();
    for round in 0..3 {
        std::thread::sleep(Duration::from_millis(300));
        let acked_before = acked.lock().expect("acked").clone();
        let out = keybridge(&data, &["backup", file_arg]);
        let stdout = assert_success(&out);
        assert!(stdout.contains("Backed up"), "{stdout}");
        let in_backup = stored_user_names(&file);
        for name in &acked_before {
            assert!(
                in_backup.contains(name),
                "round {round}: {name} was acknowledged before the backup began but is not in it"
            );
        }
        assert_consistent(&file);
        last_before = acked_before;
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        rt.block_on(w).expect("writer");
    }
    assert!(
        last_before.len() >= 10,
        "too few writes before the last backup ({}) to show anything",
        last_before.len()
    );

    // Restore into a fresh directory and serve from it: the same token works (its
    // digest is in the store) and the people are there.
    let restored = dir.path().join("restored");
    let out = keybridge(&restored, &["restore", file_arg]);
    let stdout = assert_success(&out);
    assert!(stdout.contains("Restored"), "{stdout}");
    assert_consistent(&restored.join("keybridge.db"));
    let again = ServeChild::start(&restored, &dir.path().join("restored.log"));
    let http = http_client();
    let name = &last_before[last_before.len() / 2];
    let filter = format!("userName eq \"{name}\"");
    let list: Value = rt
        .block_on(async {
            http.get(format!("{}/Users", again.base))
                .query(&[("filter", filter.as_str())])
                .bearer_auth(&token)
                .send()
                .await?
                .json()
                .await
        })
        .expect("list");
    assert_eq!(list["totalResults"], 1, "{list}");
    drop(again);
    drop(server);
}

#[test]
fn restore_is_refused_while_a_bridge_serves_the_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let token = issue_token(&data, "restore-test");
    let file = dir.path().join("empty.backup");
    let file_arg = file.to_str().expect("utf-8 path");
    assert_success(&keybridge(&data, &["backup", file_arg]));

    let mut server = ServeChild::start(&data, &log);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let http = http_client();
    let status = rt
        .block_on(async {
            http.post(format!("{}/Users", server.base))
                .bearer_auth(&token)
                .header("content-type", "application/scim+json")
                .body(user("stays@example.com"))
                .send()
                .await
                .map(|r| r.status())
        })
        .expect("POST");
    assert_eq!(status, StatusCode::CREATED);

    let out = keybridge(&data, &["restore", file_arg]);
    assert!(!out.status.success(), "restore ran under a serving bridge");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Stop that bridge first") && stderr.contains("keybridge.lock"),
        "{stderr}"
    );
    assert!(!data.join("keybridge.db.before-restore").exists());

    // A second bridge on the same directory is refused the same way.
    let second = keybridge(
        &data,
        &["serve", "--tls", "none", "--listen", "127.0.0.1:0"],
    );
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("Stop that bridge first"));

    // The running bridge still has its person; once it stops, the restore goes ahead.
    server.kill();
    assert_eq!(
        stored_user_names(&data.join("keybridge.db")),
        vec!["stays@example.com"]
    );
    assert_success(&keybridge(&data, &["restore", file_arg]));
    assert!(stored_user_names(&data.join("keybridge.db")).is_empty());
    assert_eq!(
        stored_user_names(&data.join("keybridge.db.before-restore")),
        vec!["stays@example.com"]
    );
}

#[test]
fn restore_refuses_a_file_that_is_not_a_backup_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    issue_token(&data, "keep");
    let junk = dir.path().join("junk.backup");
    std::fs::write(&junk, b"SQLite format 3\0 but not really").expect("write");
    let out = keybridge(&data, &["restore", junk.to_str().expect("utf-8 path")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not a Keybridge backup"), "{stderr}");
    let out = keybridge(&data, &["token", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("keep"));
}
