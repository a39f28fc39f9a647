//! The `keybridge` command as an admin runs it: issue a token, serve over TLS with a
//! self-signed certificate, read the base URL it prints, provision one user.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_keybridge");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn issue_token(data: &std::path::Path, name: &str) -> String {
    let out = Command::new(BIN)
        .args(["--data-dir"])
        .arg(data)
        .args(["--secrets", "file", "token", "issue", "--name", name])
        .output()
        .expect("run token issue");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout.lines().last().expect("a line").trim().to_owned()
}

/// Starts `keybridge serve` and returns it with the base URL it printed.
fn serve(data: &std::path::Path, extra: &[&str]) -> (Server, String) {
    let port = free_port();
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(url) = line
            .split("Base URL")
            .nth(1)
            .and_then(|rest| rest.split(": ").nth(1))
        {
            return (server, url.trim().to_owned());
        }
        assert!(Instant::now() < deadline, "serve printed no base URL");
    }
    panic!("serve exited without printing a base URL");
}

#[test]
fn token_issue_prints_only_the_token_on_the_last_line_and_list_never_shows_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = issue_token(dir.path(), "jumpcloud");
    assert!(token.starts_with("kb_") && token.len() == 46, "{token}");
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["token", "list"])
        .output()
        .expect("list");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("jumpcloud"));
    assert!(!listed.contains(&token));
    let db = std::fs::read(dir.path().join("keybridge.db")).expect("db");
    assert!(
        !db.windows(token.len()).any(|w| w == token.as_bytes()),
        "the plaintext token reached the database"
    );
    let again = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["token", "issue", "--name", "jumpcloud"])
        .output()
        .expect("dup");
    assert!(!again.status.success());
}

#[tokio::test]
async fn serve_with_a_self_signed_certificate_and_provision_a_user() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = issue_token(dir.path(), "jc");
    let (_server, base) = serve(
        dir.path(),
        &["--tls", "self-signed", "--hostname", "localhost"],
    );
    assert!(base.starts_with("https://localhost:"), "{base}");
    let pem = std::fs::read(dir.path().join("tls/self-signed.crt")).expect("cert");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let origin = base.trim_end_matches("/scim/v2");
    let mut ready = false;
    for _ in 0..100 {
        if client
            .get(format!("{origin}/ping"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the bridge never answered /ping over TLS");
    let created: Value = client
        .post(format!("{base}/Users"))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body(json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"tls@example.com"}).to_string())
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(created["userName"], "tls@example.com");
    assert!(
        created["meta"]["location"]
            .as_str()
            .is_some_and(|l| l.starts_with(&base)),
        "{created}"
    );
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["people", "confirm", "tls@example.com"])
        .output()
        .expect("confirm");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = client
        .get(format!(
            "{base}/Users/{}",
            created["id"].as_str().unwrap_or("")
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        got["urn:keybridge:params:scim:schemas:extension:account:2.0:User"]["state"],
        "active"
    );
}
