//! Real peers for the SSO and invitation tests, started on loopback by the tests and
//! stopped by their own process ids: an OpenID Connect provider (npm oidc-provider) and
//! an SMTP server (PyPI aiosmtpd). A test that cannot find them fails with a message
//! naming the script that installs them.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use keybridge::bridge::{self, BridgeConfig, Limits, RunningBridge, TlsMode};
use keybridge::directory::{Actor, Directory, Precondition};
use keybridge::secrets::{FileStore, SecretStore};
use keybridge::sso::{Clock, Sso, SystemClock};
use keybridge::store::{Store, StoreOptions};
use serde_json::{json, Value};

pub const CLIENT_ID: &str = "keybridge-test";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A child process that is killed (by its pid) and reaped when dropped.
pub struct Peer {
    child: Child,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cmd`, waits (bounded) for its first stdout line starting with `listening `,
/// and returns the rest of that line.
fn start_peer(mut cmd: Command, what: &str, install: &str) -> (Peer, String) {
    // KEYBRIDGE_PEER_LOG=FILE keeps a peer's stderr for diagnosis.
    let stderr = match std::env::var_os("KEYBRIDGE_PEER_LOG") {
        Some(path) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null()),
        None => Stdio::null(),
    };
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what} ({e}); install it with {install}"));
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        // Keep draining: a peer that writes to a closed pipe dies of EPIPE.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let peer = Peer { child };
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| {
            panic!("{what} did not start within 60 s; reinstall it with {install}")
        });
    let rest = line
        .trim()
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("{what} did not start ({line:?}); install it with {install}"))
        .to_owned();
    (peer, rest)
}

/// The OpenID Connect provider of `tests/oidc/server.mjs`.
pub struct OidcProvider {
    pub origin: String,
    pub well_known: String,
    _peer: Peer,
}

impl OidcProvider {
    /// `fault`: none, wrong-issuer, no-s256, bad-signature, wrong-audience.
    pub fn start(fault: &str) -> OidcProvider {
        let install = "scripts/install-oidc-provider.sh";
        let dir = root().join("tests/oidc");
        assert!(
            dir.join("node_modules/oidc-provider/package.json").exists(),
            "the OpenID provider (npm oidc-provider) is not installed; run {install}"
        );
        let mut cmd = Command::new("node");
        cmd.arg("server.mjs")
            .current_dir(&dir)
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_FAULT", fault)
            // Native clients may use any port on a loopback redirect, so this also
            // covers the test bridge's http://127.0.0.1:PORT/sso/oidc/redirect/.
            .env("OIDC_REDIRECTS", "http://127.0.0.1/sso/oidc/redirect/");
        let (peer, origin) = start_peer(
            cmd,
            "the OpenID provider (node tests/oidc/server.mjs)",
            install,
        );
        OidcProvider {
            well_known: format!("{origin}/.well-known/openid-configuration"),
            origin,
            _peer: peer,
        }
    }
}

/// The SMTP server of `tests/smtp/sink.py`, writing messages into a folder.
pub struct SmtpSink {
    pub port: u16,
    pub dir: tempfile::TempDir,
    _peer: Peer,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let install = "scripts/install-smtp-peer.sh";
        let python = root().join(".peers/venv/bin/python");
        assert!(
            python.exists(),
            "the SMTP peer (PyPI aiosmtpd in .peers/venv) is not installed; run {install}"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new(python);
        cmd.arg(root().join("tests/smtp/sink.py")).arg(dir.path());
        let (peer, addr) = start_peer(cmd, "the SMTP peer (tests/smtp/sink.py)", install);
        let port = addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        SmtpSink {
            port,
            dir,
            _peer: peer,
        }
    }

    /// The messages received so far, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("read message"))
            .collect()
    }
}

/// A bridge with single sign-on: file secrets in its data directory, plain HTTP on
/// 127.0.0.1 with an ephemeral port.
pub struct SsoBridge {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub directory: Directory,
    pub sso: Sso,
    pub origin: String,
    pub base: String,
    running: Option<RunningBridge>,
}

impl SsoBridge {
    pub async fn start() -> SsoBridge {
        Self::start_with_clock(Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> SsoBridge {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
        let directory = Directory::open(store.clone()).await.expect("directory");
        let secrets: Arc<dyn SecretStore> =
            Arc::new(FileStore::open(dir.path().join("secrets")).expect("secrets"));
        let sso = Sso::new(store.clone(), Some(secrets), clock).expect("sso");
        let config = BridgeConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            hostname: None,
            tls: TlsMode::None,
            data_dir: dir.path().to_owned(),
            limits: Limits::default(),
        };
        let running = bridge::serve_with(config, directory.clone(), sso.clone())
            .await
            .expect("serve");
        let origin = format!("http://{}", running.local_addr);
        SsoBridge {
            base: format!("{origin}/scim/v2"),
            origin,
            dir,
            store,
            directory,
            sso,
            running: Some(running),
        }
    }

    pub async fn create_user(&self, email: &str) -> String {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": email,
            "name": {"givenName": "Test", "familyName": "Person"},
            "emails": [{"value": email, "type": "work", "primary": true}],
            "active": true
        });
        let u = self
            .directory
            .create_user(&Actor::admin(), body, &self.base)
            .await
            .expect("create user");
        u["id"].as_str().expect("id").to_owned()
    }

    pub async fn create_group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let g = self
            .directory
            .create_group(
                &Actor::admin(),
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members}),
                &self.base,
            )
            .await
            .expect("create group");
        g["id"].as_str().expect("id").to_owned()
    }

    pub async fn set_members(&self, group_id: &str, name: &str, members: &[&str]) {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        self.directory
            .replace_group(
                &Actor::admin(),
                group_id,
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members}),
                Precondition::default(),
                &self.base,
                false,
            )
            .await
            .expect("replace group");
    }

    pub async fn state_of(&self, id: &str) -> String {
        let u = self.directory.get_user(id, &self.base).await.expect("get");
        u["urn:keybridge:params:scim:schemas:extension:account:2.0:User"]["state"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Names and outcomes of all events, oldest first.
    pub async fn events(&self) -> Vec<(String, String)> {
        let query = keybridge::store::events::EventQuery {
            limit: Some(10_000),
            ..Default::default()
        };
        let newest_first = self
            .store
            .read(move |conn| keybridge::store::events::list(conn, &query))
            .await
            .expect("events");
        newest_first
            .into_iter()
            .rev()
            .map(|e| (e.name, e.outcome.as_str().to_owned()))
            .collect()
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        self.store.close().await;
    }
}

/// A browser: a cookie jar, no automatic redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn absolute(base: &str, location: &str) -> String {
    url::Url::parse(base)
        .and_then(|b| b.join(location))
        .expect("location")
        .to_string()
}

/// Signs in at the provider as `login` through its development interactions (login form,
/// consent form), following redirects until the provider sends the browser elsewhere;
/// returns that URL (the redirect URI with `code` and `state`), not yet visited.
pub async fn sign_in_at_provider(browser: &reqwest::Client, start: &str, login: &str) -> String {
    let provider = url::Url::parse(start).expect("url").origin();
    let mut url = start.to_owned();
    for _ in 0..20 {
        let resp = browser.get(&url).send().await.expect("provider GET");
        let resp = if resp.status().is_success() {
            let page = resp.text().await.expect("page");
            let form: Vec<(&str, &str)> = if page.contains("name=\"login\"") {
                vec![("prompt", "login"), ("login", login), ("password", "any")]
            } else if page.contains("value=\"consent\"") {
                vec![("prompt", "consent")]
            } else {
                panic!("unexpected provider page at {url}: {page}");
            };
            browser
                .post(&url)
                .form(&form)
                .send()
                .await
                .expect("provider POST")
        } else {
            resp
        };
        assert!(
            resp.status().is_redirection(),
            "provider answered {} at {url}",
            resp.status()
        );
        let location = resp
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .expect("location");
        let next = absolute(&url, location);
        if url::Url::parse(&next).expect("next").origin() != provider {
            return next;
        }
        url = next;
    }
    panic!("the provider sign-in did not finish in 20 steps");
}

/// The value of a hidden form field in `page`.
pub fn form_field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {page}"))
        + marker.len();
    page[start..].split('"').next().expect("value").to_owned()
}

/// The first `/join/…` link in `text`.
pub fn join_link(text: &str) -> String {
    let start = text
        .find("http://127.0.0.1:")
        .expect("a link in the message");
    text[start..]
        .split_whitespace()
        .next()
        .expect("link")
        .to_owned()
}
