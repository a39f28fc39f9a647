//! Secrets never reach a log line or an event: a full provisioning scenario through the
//! real `keybridge serve`, with logging at its most verbose, then everything the bridge
//! wrote (terminal output, the log files, the events table, the database files) is
//! searched for every token and credential that was sent to it.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_keybridge");
/// Credentials an attacker sends: one in our token format, one in another.
const WRONG_TOKEN: &str = "kb_WrongWrongWrongWrongWrongWrongWrongWrong123";
const FOREIGN_CREDENTIAL: &str = "f0reign-Cr3dential-9d81c2";
const BASIC_CREDENTIAL: &str = "YWRtaW46aHVudGVyMg"; // base64 of "admin:hunter2", no padding

struct Server(Option<Child>);

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn cli(data: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(["--secrets", "file"])
        .args(args)
        .output()
        .expect("run keybridge");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .expect("a line")
        .trim()
        .to_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// Reads a child's pipe to the end on its own thread.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    auth: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = client.request(method, url).header("authorization", auth);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/scim+json")
            .body(b.to_string());
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Provisioning as an identity provider does it, with both tokens of a rotation, plus an
/// attacker's failed attempts until throttled.
async fn scenario(client: &reqwest::Client, base: &str, origin: &str, old: &str, new: &str) {
    use reqwest::Method;
    let bearer_new = format!("Bearer {new}");
    let bearer_old = format!("Bearer {old}");
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("secret-test-{}@example.com", uuid()),
        "name": {"givenName": "Sam", "familyName": "Secret"},
        "emails": [{"value": "sam@example.com", "primary": true}],
        "active": true
    });
    let (status, created) = send(
        client,
        Method::POST,
        &format!("{base}/Users"),
        &bearer_new,
        Some(user.clone()),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let user_url = format!("{base}/Users/{id}");
    assert_eq!(
        send(client, Method::GET, &user_url, &bearer_old, None)
            .await
            .0,
        200
    );
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "title", "value": "Keeper"}]});
    assert_eq!(
        send(client, Method::PATCH, &user_url, &bearer_new, Some(patch))
            .await
            .0,
        200
    );
    assert_eq!(
        send(client, Method::PUT, &user_url, &bearer_old, Some(user))
            .await
            .0,
        200
    );
    let filtered = format!("{base}/Users?filter=userName%20sw%20%22secret-test%22");
    assert_eq!(
        send(client, Method::GET, &filtered, &bearer_new, None)
            .await
            .0,
        200
    );
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": format!("Vault {}", uuid()), "members": [{"value": id}]});
    let (status, g) = send(
        client,
        Method::POST,
        &format!("{base}/Groups"),
        &bearer_new,
        Some(group),
    )
    .await;
    assert_eq!(status, 201, "{g}");
    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [{"method": "POST", "path": "/Users", "bulkId": "b1",
            "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                     "userName": format!("bulk-{}@example.com", uuid())}}]});
    assert_eq!(
        send(
            client,
            Method::POST,
            &format!("{base}/Bulk"),
            &bearer_new,
            Some(bulk)
        )
        .await
        .0,
        200
    );
    // Bad requests that carry a valid token (their failure events are written too).
    let bad_filter = format!("{base}/Users?filter=userName%20zz%20%22x%22");
    assert_eq!(
        send(client, Method::GET, &bad_filter, &bearer_new, None)
            .await
            .0,
        400
    );
    assert_eq!(
        send(client, Method::DELETE, &user_url, &bearer_new, None)
            .await
            .0,
        204
    );
    assert_eq!(
        send(
            client,
            Method::GET,
            &format!("{origin}/health"),
            &bearer_new,
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        send(
            client,
            Method::GET,
            &format!("{origin}/metrics"),
            &bearer_old,
            None
        )
        .await
        .0,
        200
    );

    // The attacker: wrong tokens of every shape until throttled.
    let attempts = [
        format!("Bearer {WRONG_TOKEN}"),
        format!("Bearer {FOREIGN_CREDENTIAL}"),
        format!("Basic {BASIC_CREDENTIAL}"),
        WRONG_TOKEN.to_owned(),
    ];
    let mut throttled = false;
    for i in 0..16 {
        let (status, _) = send(
            client,
            Method::GET,
            &format!("{base}/Users"),
            &attempts[i % attempts.len()],
            None,
        )
        .await;
        assert!(status == 401 || status == 429, "{status}");
        throttled |= status == 429;
    }
    assert!(throttled, "16 failures were never throttled");
}

fn uuid() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}

/// Every file under `dir`, recursively, with its bytes.
fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_credential_reaches_a_log_line_or_an_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    let old = cli(data, &["token", "issue", "--name", "jumpcloud"]);
    let new = cli(data, &["token", "rotate", "jumpcloud"]);
    let port = free_port();
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(["--secrets", "file", "serve", "--tls", "none"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        // The most verbose there is, for our code and every dependency.
        .env("KEYBRIDGE_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stdout = drain(child.stdout.take().expect("stdout"));
    let stderr = drain(child.stderr.take().expect("stderr"));
    let pid = child.id();
    let mut server = Server(Some(child));

    let origin = format!("http://127.0.0.1:{port}");
    let base = format!("{origin}/scim/v2");
    let h1 = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !h1
        .get(format!("{origin}/ping"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "the bridge never answered /ping");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    scenario(&h1, &base, &origin, &old, &new).await;
    scenario(&h2, &base, &origin, &old, &new).await;

    // A clean stop, so the log file is flushed as in production.
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let mut child = server.0.take().expect("child");
    let stop_deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > stop_deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve did not stop within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let stdout = stdout.join().expect("stdout");
    let stderr = stderr.join().expect("stderr");

    // Everything the bridge wrote. secrets.json is left out on purpose: `--secrets file`
    // keeps token plaintexts there by design (owner-only), for the desktop app to copy.
    let mut written: Vec<(String, Vec<u8>)> = vec![
        ("serve's stdout".into(), stdout),
        ("serve's stderr".into(), stderr.clone()),
    ];
    for (path, bytes) in files_under(data) {
        if path.file_name().is_some_and(|n| n == "secrets.json") {
            continue;
        }
        written.push((path.display().to_string(), bytes));
    }
    let events = {
        let conn = rusqlite::Connection::open(data.join("keybridge.db")).expect("db");
        let mut stmt = conn
            .prepare("SELECT json_array(time, name, outcome, resource_type, resource_id, resource_name, attributes, actor, status, detail) FROM events ORDER BY seq")
            .expect("prepare");
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        rows
    };
    assert!(
        events.iter().any(|e| e.contains("idm_integration_reauth")),
        "the failed authentications left no event"
    );
    written.push(("the events table".into(), events.join("\n").into_bytes()));

    let secrets = [
        ("the previous token", old.as_str()),
        ("the new token", new.as_str()),
        ("the new token's random part", &new[3..]),
        ("a wrong token", WRONG_TOKEN),
        ("a foreign bearer credential", FOREIGN_CREDENTIAL),
        ("a Basic credential", BASIC_CREDENTIAL),
    ];
    for (what, bytes) in &written {
        for (secret_name, secret) in secrets {
            assert!(!contains(bytes, secret), "{secret_name} appears in {what}");
        }
    }

    // The test means something only if the logs were really written, verbosely.
    let logs: Vec<&(String, Vec<u8>)> = written
        .iter()
        .filter(|(p, _)| p.contains("/logs/keybridge.") && p.ends_with(".log"))
        .collect();
    assert_eq!(logs.len(), 1, "one daily log file");
    let log = String::from_utf8_lossy(&logs[0].1);
    let mut lines = 0;
    for line in log.lines() {
        let v: Value = serde_json::from_str(line).expect("every file line is JSON");
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
        lines += 1;
    }
    assert!(lines > 50, "only {lines} log lines");
    assert!(
        log.contains(r#""route":"/scim/v2/Users/{id}""#),
        "no request lines at debug"
    );
    assert!(log.contains("TRACE"), "trace level was not on");
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(stderr.contains("bridge is serving"), "{stderr}");
    assert!(
        !stderr.trim_start().starts_with('{'),
        "the terminal gets human-readable lines"
    );
}
