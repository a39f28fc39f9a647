//! A real bridge for integration tests: a fresh SQLite file in a temp directory, served
//! over plain HTTP on 127.0.0.1 with an ephemeral port, and a client with a valid token.
#![allow(dead_code)]

use std::time::Duration;

use keybridge::bridge::{self, BridgeConfig, Limits, RunningBridge, TlsMode};
use keybridge::directory::Directory;
use keybridge::store::{Store, StoreOptions};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub struct TestBridge {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub directory: Directory,
    pub base: String,
    pub origin: String,
    pub token: String,
    pub client: reqwest::Client,
    running: Option<RunningBridge>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The SCIM error's scimType, if this is an error.
    pub fn scim_type(&self) -> Option<&str> {
        self.body.get("scimType").and_then(Value::as_str)
    }

    /// A response header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestBridge {
    pub async fn start() -> TestBridge {
        Self::start_with(Limits::default()).await
    }

    pub async fn start_with(limits: Limits) -> TestBridge {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
        let directory = Directory::open(store.clone()).await.expect("directory");
        let token = keybridge::tokens::issue(&store, "test")
            .await
            .expect("token")
            .expose()
            .to_owned();
        let config = BridgeConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            hostname: None,
            tls: TlsMode::None,
            data_dir: dir.path().to_owned(),
            limits,
        };
        let running = bridge::serve(config, directory.clone())
            .await
            .expect("serve");
        let origin = format!("http://{}", running.local_addr);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        TestBridge {
            base: format!("{origin}/scim/v2"),
            origin,
            dir,
            store,
            directory,
            token,
            client,
            running: Some(running),
        }
    }

    /// Sends `method path` (relative to the SCIM base unless it starts with `http`).
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.send_with(method, path, body, &[]).await
    }

    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{}", self.base, path)
        };
        let mut req = self.client.request(method, url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates a user and returns its id.
    pub async fn create_user(&self, user_name: &str) -> String {
        let r = self.post("/Users", user(user_name, "Test", "Person")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    }

    /// Creates a group and returns its id.
    pub async fn create_group(&self, name: &str) -> String {
        let r = self.post("/Groups", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    }

    /// Everything in the directory, to show that a rejected request changed nothing.
    pub async fn snapshot(&self) -> Value {
        self.store
            .read(|conn| -> Result<Value, keybridge::store::StoreError> {
                let dump = |sql: &str| -> Result<Vec<String>, keybridge::store::StoreError> {
                    let mut stmt = conn.prepare(sql)?;
                    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
                    Ok(rows)
                };
                Ok(json!({
                    "people": dump("SELECT id || doc || version || state FROM people ORDER BY seq")?,
                    "groups": dump("SELECT id || doc || version FROM groups ORDER BY seq")?,
                    "members": dump("SELECT group_seq || ':' || person_seq FROM memberships ORDER BY 1")?,
                }))
            })
            .await
            .expect("snapshot")
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

/// A SCIM user body like JumpCloud's.
pub fn user(user_name: &str, given: &str, family: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"value": user_name, "type": "work", "primary": true}],
        "active": true
    })
}

pub fn patch_op(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

pub fn state_of(user: &Value) -> &str {
    user["urn:keybridge:params:scim:schemas:extension:account:2.0:User"]["state"]
        .as_str()
        .unwrap_or("")
}
