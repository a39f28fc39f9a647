//! The SCIM requests of each scenario and the checks on their answers.
//! Every scenario sends the same URLs and bodies to whichever server it drives.

use std::sync::Mutex;

use bytes::Bytes;
use hyper::Method;
use serde_json::{json, Value};

use crate::client::{Reply, Req, Scenario};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The userName of the `i`-th user of a run tagged `run` with `kind`.
pub fn user_name(run: &str, kind: &str, i: u64) -> String {
    format!("lg-{run}-{kind}{i}@example.com")
}

fn user_body(name: &str, i: u64) -> Bytes {
    let v = json!({
        "schemas": [USER_SCHEMA],
        "userName": name,
        "name": {"givenName": "Load", "familyName": format!("Tester{i}")},
        "displayName": format!("Load Tester{i}"),
        "emails": [{"value": name, "type": "work", "primary": true}],
        "active": true
    });
    Bytes::from(v.to_string())
}

fn json_of(reply: &Reply) -> Result<Value, String> {
    serde_json::from_slice(&reply.body).map_err(|e| format!("answer is not JSON: {e}"))
}

fn id_of(reply: &Reply) -> Result<String, String> {
    match json_of(reply)?.get("id") {
        Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
        _ => Err("answer has no string \"id\"".to_string()),
    }
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// POST /Users with unique userNames; keeps each new id at its index.
pub struct CreateUsers {
    pub run: String,
    pub kind: &'static str,
    pub first: u64,
    pub ids: Mutex<Vec<Option<String>>>,
    keep_ids: bool,
}

impl CreateUsers {
    pub fn new(run: &str, kind: &'static str, first: u64, count: u64, keep_ids: bool) -> Self {
        let slots = if keep_ids { count as usize } else { 0 };
        Self {
            run: run.to_string(),
            kind,
            first,
            ids: Mutex::new(vec![None; slots]),
            keep_ids,
        }
    }
}

impl Scenario for CreateUsers {
    fn request(&self, j: u64) -> Req {
        let i = self.first + j;
        Req {
            method: Method::POST,
            path: "/Users".to_string(),
            body: Some(user_body(&user_name(&self.run, self.kind, i), i)),
        }
    }

    fn verify(&self, j: u64, reply: &Reply) -> Result<(), String> {
        if reply.status != 201 {
            return Err(format!("status {} instead of 201", reply.status));
        }
        let id = id_of(reply)?;
        if self.keep_ids {
            let mut ids = self.ids.lock().map_err(|_| "poisoned".to_string())?;
            if let Some(slot) = ids.get_mut(j as usize) {
                *slot = Some(id);
            }
        }
        Ok(())
    }

    fn always_inspect(&self) -> bool {
        self.keep_ids
    }
}

/// Cheap deterministic pseudo-random index (splitmix64) so that both servers
/// see the same sequence of lookups.
pub fn mix(j: u64) -> u64 {
    let mut z = j.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// GET /Users?filter=userName eq "…" for a random seeded user.
pub struct FilterLookup {
    pub run: String,
    pub population: u64,
}

impl FilterLookup {
    fn name(&self, j: u64) -> String {
        user_name(&self.run, "u", mix(j) % self.population)
    }
}

impl Scenario for FilterLookup {
    fn request(&self, j: u64) -> Req {
        let filter = format!("userName eq \"{}\"", self.name(j));
        Req {
            method: Method::GET,
            path: format!("/Users?filter={}", pct(&filter)),
            body: None,
        }
    }

    fn verify(&self, j: u64, reply: &Reply) -> Result<(), String> {
        let v = json_of(reply)?;
        let total = v.get("totalResults").and_then(Value::as_u64);
        let got = v
            .pointer("/Resources/0/userName")
            .and_then(Value::as_str)
            .unwrap_or("");
        let want = self.name(j);
        if total != Some(1) || !got.eq_ignore_ascii_case(&want) {
            return Err(format!(
                "totalResults {total:?}, userName {got:?}; want 1 result {want:?}"
            ));
        }
        Ok(())
    }
}

/// GET /Users?startIndex=K&count=100 at a random K within the population.
pub struct Page {
    pub population: u64,
    pub size: u64,
}

impl Scenario for Page {
    fn request(&self, j: u64) -> Req {
        let last_start = self.population.saturating_sub(self.size).max(1);
        let start = 1 + mix(j) % last_start;
        Req {
            method: Method::GET,
            path: format!("/Users?startIndex={start}&count={}", self.size),
            body: None,
        }
    }

    fn verify(&self, _j: u64, reply: &Reply) -> Result<(), String> {
        let v = json_of(reply)?;
        let n = v
            .get("Resources")
            .and_then(Value::as_array)
            .map_or(0, Vec::len) as u64;
        if n != self.size {
            return Err(format!("{n} resources in the page, want {}", self.size));
        }
        Ok(())
    }
}

pub fn group_body(name: &str, members: &[String]) -> Bytes {
    let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
    Bytes::from(
        json!({"schemas": [GROUP_SCHEMA], "displayName": name, "members": members}).to_string(),
    )
}

pub fn add_members_body(members: &[String]) -> Bytes {
    let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
    Bytes::from(
        json!({
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "add", "path": "members", "value": members}]
        })
        .to_string(),
    )
}

/// The PATCH URL that keeps the (possibly huge) member list out of the answer.
pub fn group_patch_path(group_id: &str) -> String {
    format!("/Groups/{group_id}?excludedAttributes=members")
}

/// POST /Groups: group `j` gets `size` members taken from `users` at a
/// per-group offset; keeps each new group id.
pub struct CreateGroups {
    pub run: String,
    pub size: usize,
    pub users: std::sync::Arc<Vec<String>>,
    pub ids: Mutex<Vec<Option<String>>>,
}

impl CreateGroups {
    pub fn members(&self, j: u64) -> Vec<String> {
        let n = self.users.len();
        let offset = (j as usize).wrapping_mul(7919) % n;
        (0..self.size.min(n))
            .map(|k| self.users[(offset + k) % n].clone())
            .collect()
    }
}

impl Scenario for CreateGroups {
    fn request(&self, j: u64) -> Req {
        Req {
            method: Method::POST,
            path: "/Groups".to_string(),
            body: Some(group_body(
                &format!("lg-{}-g{}x{j}", self.run, self.size),
                &self.members(j),
            )),
        }
    }

    fn verify(&self, j: u64, reply: &Reply) -> Result<(), String> {
        if reply.status != 201 {
            return Err(format!("status {} instead of 201", reply.status));
        }
        let id = id_of(reply)?;
        let mut ids = self.ids.lock().map_err(|_| "poisoned".to_string())?;
        if let Some(slot) = ids.get_mut(j as usize) {
            *slot = Some(id);
        }
        Ok(())
    }

    fn always_inspect(&self) -> bool {
        true
    }
}

/// PATCH add of one member that is not yet in the group. Request `j` goes to
/// group `j % groups.len()` and adds reserve user `j / groups.len()`, so no
/// group ever receives the same user twice.
pub struct AddMember {
    pub groups: Vec<String>,
    pub reserve: std::sync::Arc<Vec<String>>,
}

impl Scenario for AddMember {
    /// How many requests can run before a group would get a user twice.
    fn capacity(&self) -> u64 {
        (self.groups.len() * self.reserve.len()) as u64
    }

    fn request(&self, j: u64) -> Req {
        let g = self.groups.len() as u64;
        let group = &self.groups[(j % g) as usize];
        let user = &self.reserve[((j / g) as usize) % self.reserve.len()];
        Req {
            method: Method::PATCH,
            path: group_patch_path(group),
            body: Some(add_members_body(std::slice::from_ref(user))),
        }
    }

    fn verify(&self, _j: u64, reply: &Reply) -> Result<(), String> {
        if reply.status == 204 {
            return Ok(());
        }
        // With excludedAttributes=members the answer must not carry the members.
        let v = json_of(reply)?;
        let n = v
            .get("members")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if n > 0 {
            return Err(format!(
                "the answer carries {n} members despite excludedAttributes=members"
            ));
        }
        Ok(())
    }
}
