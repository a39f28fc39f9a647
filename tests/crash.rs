//! Kill -9 under load. A child `keybridge serve` takes writes from concurrent clients;
//! the test kills it with SIGKILL at random moments, restarts it on the same data
//! directory, and checks that every write it acknowledged is there, that nothing
//! half-written is visible, and that SQLite's integrity check passes. A POST whose answer
//! was lost to a kill is retried and must give 409 (it had committed) or 201 (it had
//! not), never a second person.
//!
//! A process kill does not test fsync (the kernel keeps the page cache); what protects
//! against power loss is `synchronous=FULL`, which this test cannot observe.
//!
//! `KEYBRIDGE_CRASH_SEED=N` replays one run's kill moments.

#[path = "common/child.rs"]
mod child;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use child::{issue_token, ServeChild};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use rusqlite::{Connection, OpenFlags};
use serde_json::{json, Value};

/// The issue asks for at least 30 kills.
const MIN_KILLS: usize = 30;
const KILLS: usize = 36;
const CLIENTS: usize = 6;
const GROUPS: usize = 3;
/// Kill cycles stop here even if fewer than `KILLS` happened (the test then fails on
/// `MIN_KILLS`), so a slow machine gives a clear failure rather than a hung suite.
const TIME_BUDGET: Duration = Duration::from_secs(45);
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// What the clients saw, shared between them.
#[derive(Default)]
struct Ledger {
    /// userName → id, for every POST answered 201 with a full body.
    users: BTreeMap<String, String>,
    /// (group id, person id) for every PATCH answered 200 with a full body.
    members: BTreeSet<(String, String)>,
    /// userNames whose POST got no complete answer (the kill came first).
    unanswered_posts: BTreeSet<String>,
    /// Answers that should never happen (5xx, unexpected 4xx), with their bodies.
    unexpected: Vec<String>,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// A response read to its last byte: the only kind that counts as an acknowledgement.
async fn send(req: reqwest::RequestBuilder) -> Option<(StatusCode, Value)> {
    let resp = req.send().await.ok()?;
    let status = resp.status();
    let text = resp.text().await.ok()?;
    let body = serde_json::from_str(&text).ok()?;
    Some((status, body))
}

fn user_body(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Crash", "familyName": "Test"},
        "emails": [{"value": user_name, "type": "work", "primary": true}],
        "active": true
    })
}

async fn post_user(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    user_name: &str,
) -> Option<(StatusCode, Value)> {
    send(
        http.post(format!("{base}/Users"))
            .bearer_auth(token)
            .header("content-type", "application/scim+json")
            .body(user_body(user_name).to_string()),
    )
    .await
}

/// One client: create a person, then add them to a group, until told to stop.
async fn client_loop(
    base: String,
    token: String,
    groups: Arc<Vec<String>>,
    ledger: Arc<Mutex<Ledger>>,
    next: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) {
    let http = client();
    while !stop.load(Ordering::Relaxed) {
        let k = next.fetch_add(1, Ordering::Relaxed);
        let user_name = format!("crash-{k}@example.com");
        let id = match post_user(&http, &base, &token, &user_name).await {
            Some((StatusCode::CREATED, body)) => {
                let id = body["id"].as_str().expect("created user has an id");
                let mut l = ledger.lock().expect("ledger");
                l.users.insert(user_name, id.to_owned());
                id.to_owned()
            }
            Some((status, body)) => {
                let mut l = ledger.lock().expect("ledger");
                l.unexpected
                    .push(format!("POST {user_name}: {status} {body}"));
                continue;
            }
            None => {
                let mut l = ledger.lock().expect("ledger");
                l.unanswered_posts.insert(user_name);
                continue;
            }
        };
        let group = &groups[k % groups.len()];
        let patch = json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": id}]}
        ]});
        let answer = send(
            http.patch(format!("{base}/Groups/{group}?excludedAttributes=members"))
                .bearer_auth(&token)
                .header("content-type", "application/scim+json")
                .body(patch.to_string()),
        )
        .await;
        let mut l = ledger.lock().expect("ledger");
        match answer {
            Some((StatusCode::OK, _)) => {
                l.members.insert((group.clone(), id));
            }
            Some((status, body)) => l.unexpected.push(format!("PATCH {group}: {status} {body}")),
            // Lost: either outcome is allowed, and the invariants below cover both.
            None => {}
        }
    }
}

/// Reads the store from outside the bridge (a second process's view, like a backup) and
/// checks everything a torn write would break. Returns the number of people.
fn check_store(db: &Path, ledger: &Ledger, groups: &[String]) -> usize {
    let mut conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the store read-only");
    conn.busy_timeout(Duration::from_secs(10)).expect("timeout");
    // One read transaction: every check sees the same snapshot.
    let tx = conn.transaction().expect("read transaction");
    let scalar = |sql: &str| -> i64 { tx.query_row(sql, [], |r| r.get(0)).expect(sql) };
    let text = |sql: &str| -> Vec<String> {
        let mut stmt = tx.prepare(sql).expect(sql);
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .expect(sql)
            .collect::<Result<Vec<_>, _>>()
            .expect(sql);
        rows
    };

    assert_eq!(text("PRAGMA integrity_check"), vec!["ok"]);
    assert_eq!(
        scalar("SELECT count(*) FROM pragma_foreign_key_check"),
        0,
        "memberships point at rows that do not exist"
    );

    // Acknowledged writes are durable.
    for (user_name, id) in &ledger.users {
        let found: Option<String> = tx
            .query_row(
                "SELECT id FROM people WHERE user_name = ?1",
                [user_name],
                |r| r.get(0),
            )
            .ok();
        assert_eq!(
            found.as_deref(),
            Some(id.as_str()),
            "acknowledged user {user_name} is missing"
        );
    }
    for (group, person) in &ledger.members {
        let n: i64 = tx
            .query_row(
                "SELECT count(*) FROM memberships m
                 JOIN groups g ON g.seq = m.group_seq JOIN people p ON p.seq = m.person_seq
                 WHERE g.id = ?1 AND p.id = ?2",
                [group, person],
                |r| r.get(0),
            )
            .expect("membership");
        assert_eq!(n, 1, "acknowledged member {person} of {group} is missing");
    }

    // Nothing half-written: a person and their creation event commit together...
    assert_eq!(
        scalar(
            "SELECT count(*) FROM people p WHERE (SELECT count(*) FROM events e
               WHERE e.name = 'user_create_provision' AND e.outcome = 'success'
               AND e.resource_id = p.id) != 1"
        ),
        0,
        "a person without exactly one creation event"
    );
    assert_eq!(
        scalar(
            "SELECT count(*) FROM events e WHERE e.name = 'user_create_provision'
               AND e.outcome = 'success' AND e.resource_id NOT IN (SELECT id FROM people)"
        ),
        0,
        "a creation event whose person is missing"
    );
    // ...the document and the columns derived from it agree...
    assert_eq!(
        scalar(
            "SELECT count(*) FROM people WHERE json_valid(doc) = 0
               OR json_extract(doc, '$.userName') IS NOT user_name OR version != 1"
        ),
        0,
        "a person whose document disagrees with its columns"
    );
    // ...and each member PATCH (one new member each) bumped the group's version, wrote
    // its event and its row in one transaction.
    for group in groups {
        let (version, members, updates): (i64, i64, i64) = tx
            .query_row(
                "SELECT g.version,
                        (SELECT count(*) FROM memberships m WHERE m.group_seq = g.seq),
                        (SELECT count(*) FROM events e WHERE e.name = 'group_update_provision'
                           AND e.outcome = 'success' AND e.resource_id = g.id)
                 FROM groups g WHERE g.id = ?1",
                [group],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("group row");
        assert_eq!(
            (version, members),
            (1 + updates, updates),
            "group {group}: version, member rows and update events disagree"
        );
    }
    scalar("SELECT count(*) FROM people") as usize
}

fn create_groups(rt: &tokio::runtime::Runtime, base: &str, token: &str) -> Vec<String> {
    let http = client();
    (0..GROUPS)
        .map(|i| {
            let body = json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": format!("crash group {i}")
            });
            let (status, body) = rt
                .block_on(send(
                    http.post(format!("{base}/Groups"))
                        .bearer_auth(token)
                        .header("content-type", "application/scim+json")
                        .body(body.to_string()),
                ))
                .expect("group answer");
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["id"].as_str().expect("group id").to_owned()
        })
        .collect()
}

#[test]
fn every_acknowledged_write_survives_sigkill_and_nothing_half_written_is_visible() {
    let started = Instant::now();
    let seed: u64 = std::env::var("KEYBRIDGE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("crash test seed: {seed} (KEYBRIDGE_CRASH_SEED={seed} replays it)");
    let mut rng = StdRng::seed_from_u64(seed);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    let dir = tempfile::tempdir().expect("tempdir");
    let data: PathBuf = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let db = data.join("keybridge.db");
    let token = issue_token(&data, "crash");

    let server = ServeChild::start(&data, &log);
    let groups = Arc::new(create_groups(&rt, &server.base, &token));
    drop(server);

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let next = Arc::new(AtomicUsize::new(0));
    let (mut kills, mut kills_at_startup) = (0usize, 0usize);
    while kills < KILLS && started.elapsed() < TIME_BUDGET {
        let mut child = ServeChild::spawn(&data, &log);
        // Now and then the kill lands while the bridge is still opening (and recovering)
        // the store, before it listens.
        if rng.random_bool(0.15) {
            std::thread::sleep(Duration::from_millis(rng.random_range(0..40)));
            let _ = child.kill();
            let _ = child.wait();
            kills += 1;
            kills_at_startup += 1;
            continue;
        }
        let mut server = ServeChild::ready(child);
        {
            let l = ledger.lock().expect("ledger");
            check_store(&db, &l, &groups);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|_| {
                rt.spawn(client_loop(
                    server.base.clone(),
                    token.clone(),
                    groups.clone(),
                    ledger.clone(),
                    next.clone(),
                    stop.clone(),
                ))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(rng.random_range(20..350)));
        server.kill();
        kills += 1;
        stop.store(true, Ordering::Relaxed);
        for task in tasks {
            rt.block_on(task).expect("client task");
        }
    }

    // The last start: retry every POST whose answer was lost.
    let server = ServeChild::start(&data, &log);
    let http = client();
    let unanswered = ledger.lock().expect("ledger").unanswered_posts.clone();
    let mut committed_before_the_kill = 0;
    for user_name in &unanswered {
        let (status, body) = rt
            .block_on(post_user(&http, &server.base, &token, user_name))
            .expect("retry answered");
        match status {
            StatusCode::CONFLICT => committed_before_the_kill += 1,
            StatusCode::CREATED => {}
            _ => panic!("retried POST {user_name}: {status} {body}"),
        }
        let filter = format!("userName eq \"{user_name}\"");
        let (status, list) = rt
            .block_on(send(
                http.get(format!("{}/Users", server.base))
                    .query(&[("filter", filter.as_str())])
                    .bearer_auth(&token),
            ))
            .expect("list answered");
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list["totalResults"], 1, "{user_name}: {list}");
    }
    let l = ledger.lock().expect("ledger");
    let people = check_store(&db, &l, &groups);
    drop(server);
    check_store(&db, &l, &groups);

    assert!(
        l.unexpected.is_empty(),
        "unexpected answers: {:#?}",
        l.unexpected
    );
    assert!(
        kills >= MIN_KILLS,
        "only {kills} kills in {TIME_BUDGET:?}; the machine is too slow for this test's budget"
    );
    assert!(
        !l.users.is_empty() && !l.members.is_empty(),
        "no write was acknowledged"
    );
    eprintln!(
        "{kills} kills ({kills_at_startup} during startup) in {:.1} s: {} users and {} memberships acknowledged, {} POSTs unanswered ({} of them had committed: retry gave 409), {people} people stored",
        started.elapsed().as_secs_f64(),
        l.users.len(),
        l.members.len(),
        unanswered.len(),
        committed_before_the_kill,
    );
}
