//! Hostile input: SQL-injection-shaped filters, deep nesting, huge numbers, invalid
//! UTF-8, null bytes, lone surrogates and oversized names and values, in every place a
//! request carries them (query string, path id, JSON body). Each gets a 4xx SCIM error
//! (never a 5xx, never a dropped connection), and the directory's content is the same
//! afterwards. Well-formed filters with hostile *values* are answered with exactly the
//! people they name: values are bound parameters, never SQL text, and `%`, `_` and `\`
//! are not wildcards.
//!
//! The property test at the end sends arbitrary bytes as bodies through the HTTP layer's
//! body reader.

mod common;

use common::TestBridge;
use proptest::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// One hostile request: method, path and query (relative to the SCIM base, sent as
/// written: percent escapes stay escapes), and raw body bytes.
struct Probe {
    what: String,
    method: Method,
    path: String,
    body: Option<Vec<u8>>,
}

fn probe(what: impl Into<String>, method: Method, path: impl Into<String>) -> Probe {
    Probe {
        what: what.into(),
        method,
        path: path.into(),
        body: None,
    }
}

fn with_body(
    what: impl Into<String>,
    method: Method,
    path: impl Into<String>,
    body: impl Into<Vec<u8>>,
) -> Probe {
    Probe {
        body: Some(body.into()),
        ..probe(what, method, path)
    }
}

/// Percent-encodes everything but unreserved ASCII, so a filter reaches the server
/// byte for byte.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn send(b: &TestBridge, p: &Probe) -> Result<(StatusCode, Value), String> {
    let mut req = b
        .client
        .request(p.method.clone(), format!("{}{}", b.base, p.path))
        .bearer_auth(&b.token);
    if let Some(body) = &p.body {
        req = req
            .header("content-type", "application/scim+json")
            .body(body.clone());
    }
    let resp = req.send().await.map_err(|e| format!("no answer: {e}"))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| format!("body: {e}"))?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok((status, body))
}

/// Why an answer is not a 4xx SCIM error, if it is not.
fn not_a_scim_4xx(status: StatusCode, body: &Value) -> Option<String> {
    if !status.is_client_error() {
        return Some(format!("status {status}"));
    }
    if body["schemas"][0] != ERROR || body["status"] != status.as_str() {
        return Some(format!("{status} without a SCIM error body"));
    }
    if body["detail"].as_str().is_none_or(str::is_empty) {
        return Some(format!("{status} without a detail"));
    }
    None
}

fn shorten(s: &str) -> String {
    if s.len() > 100 {
        let head: String = s.chars().take(100).collect();
        format!("{head}…({} bytes)", s.len())
    } else {
        s.to_owned()
    }
}

/// Sends every probe, collects every miss (so one run shows them all), and checks that
/// the directory's content did not change.
async fn all_refused(b: &TestBridge, probes: Vec<Probe>) {
    let before = b.snapshot().await;
    let mut misses = Vec::new();
    for p in &probes {
        match send(b, p).await {
            Ok((status, body)) => {
                if let Some(why) = not_a_scim_4xx(status, &body) {
                    let body: String = body.to_string().chars().take(160).collect();
                    misses.push(format!(
                        "{} {} ({}): {why}: {body}",
                        p.method,
                        shorten(&p.path),
                        p.what
                    ));
                }
            }
            Err(e) => misses.push(format!(
                "{} {} ({}): {e}",
                p.method,
                shorten(&p.path),
                p.what
            )),
        }
    }
    assert!(
        misses.is_empty(),
        "{} of {} hostile requests were not refused with a 4xx SCIM error:\n{}",
        misses.len(),
        probes.len(),
        misses.join("\n")
    );
    assert_eq!(
        b.snapshot().await,
        before,
        "a refused request changed the directory"
    );
    // Still serving.
    assert_eq!(b.get("/Users?count=1").await.status, StatusCode::OK);
}

/// Filters that are not SCIM filters, many shaped like SQL injection.
fn malformed_filters() -> Vec<String> {
    let mut filters: Vec<String> = [
        r#"userName eq "x" or 1=1"#,
        r#"userName eq "x" or 1 eq 1"#,
        r#"userName eq "x"; DROP TABLE people; --"#,
        r#""; DROP TABLE people; --"#,
        r#"userName eq "x" --"#,
        r#"userName eq "x" /* comment */"#,
        r#"userName eq x' OR '1'='1"#,
        r#"userName eq 'x'"#,
        r#"userName eq "x") or ("1"="1"#,
        r#"userName) OR (1=1 eq "x""#,
        r#"user_name eq "x""#,
        r#"people.user_name eq "x""#,
        r#"doc eq "x""#,
        r#"seq gt 0"#,
        r#"userName eq "unterminated"#,
        r#"userName eq "a\""#,
        r#"userName eq "\x41""#,
        r#"userName eq "\ud800""#,
        r#"userName eq "\udc00x""#,
        r#"userName eq "a" and ("#,
        r#"emails[type eq "work""#,
        r#"emails[value eq "x"]]"#,
        r#"emails[value eq "x"].value[type eq "y"]"#,
        "1=1",
        "*",
        "%",
        "_",
        "'",
        "\\",
        ")",
        "userName eq",
        "userName eq \"x\"\0 or 1 eq 1",
        "userName\0 eq \"x\"",
        "user\u{200b}Name eq \"x\"",
        "üserNäme eq \"x\"",
        "userName eq \"x\" or \u{1F600} pr",
        "userName eq 1e400",
        "active eq 99999999999999999999999999999999999999999",
        "meta.lastModified gt \"' OR 1=1 --\"",
        "active eq \"true' --\"",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Deep nesting, far beyond the advertised 64 levels.
    filters.push(format!(
        "{}userName pr{}",
        "(".repeat(5000),
        ")".repeat(5000)
    ));
    filters.push(format!("{}userName pr", "not (".repeat(2000)));
    filters.push(format!(
        "{}userName eq \"x\"{}",
        "emails[".repeat(500),
        "]".repeat(500)
    ));
    // Very long attribute names.
    filters.push(format!("{} eq \"x\"", "a".repeat(8000)));
    filters.push(format!("userName.{} pr", "b".repeat(8000)));
    filters.push(format!("urn:{}:userName pr", "c:".repeat(3000)));
    filters
}

#[tokio::test]
async fn malformed_and_injection_shaped_filters_are_refused_everywhere() {
    let b = TestBridge::start().await;
    b.create_user("victim@example.com").await;
    b.create_group("victims").await;
    let mut probes = Vec::new();
    for f in malformed_filters() {
        let shown: String = f.chars().take(40).collect();
        for rt in ["Users", "Groups"] {
            probes.push(probe(
                format!("GET filter {shown}"),
                Method::GET,
                format!("/{rt}?filter={}", encode(&f)),
            ));
            probes.push(with_body(
                format!(".search filter {shown}"),
                Method::POST,
                format!("/{rt}/.search"),
                json!({"schemas": [SEARCH], "filter": f}).to_string(),
            ));
        }
        probes.push(with_body(
            format!("root .search filter {shown}"),
            Method::POST,
            "/.search",
            json!({"schemas": [SEARCH], "filter": f}).to_string(),
        ));
    }
    all_refused(&b, probes).await;
    b.stop().await;
}

/// Well-formed filters whose values are hostile find exactly the people they name.
#[tokio::test]
async fn hostile_filter_values_match_literally() {
    let b = TestBridge::start().await;
    let names = [
        "plain@example.com",
        "o'brien@example.com",
        r"back\slash@example.com",
        "per%cent@example.com",
        "under_score@example.com",
        "quo\"te@example.com",
        "ünïcödé@example.com",
    ];
    for n in names {
        b.create_user(n).await;
    }
    let before = b.snapshot().await;
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (r#"userName eq "o'brien@example.com""#, vec![names[1]]),
        (r#"userName co "'""#, vec![names[1]]),
        (r#"userName co "%""#, vec![names[3]]),
        (r#"userName sw "per%""#, vec![names[3]]),
        (r#"userName co "_""#, vec![names[4]]),
        (r#"userName ew "_score@example.com""#, vec![names[4]]),
        (r#"userName co "\\""#, vec![names[2]]),
        (r#"userName co "\"""#, vec![names[5]]),
        (r#"userName eq "ÜNÏCÖDÉ@EXAMPLE.COM""#, vec![names[6]]),
        (r#"userName co "\u00e9""#, vec![names[6]]),
        (r#"userName eq "x' OR '1'='1""#, vec![]),
        (r#"userName eq "\"; DROP TABLE people; --""#, vec![]),
        (r#"userName eq "x\" or \"1\"=\"1""#, vec![]),
        (r#"userName co "%%""#, vec![]),
        (r#"userName co "\u0000""#, vec![]),
        (r#"userName sw "*""#, vec![]),
        (
            r#"emails[value co "'" or value co "%"]"#,
            vec![names[1], names[3]],
        ),
    ];
    let mut misses = Vec::new();
    for (filter, want) in &cases {
        for path in [
            format!("/Users?filter={}&count=100", encode(filter)),
            format!("/Users?filter={}&count=100", encode(filter))
                .replace("&count", "&startIndex=1&count"),
        ] {
            let r = b.get(&path).await;
            if r.status != StatusCode::OK {
                misses.push(format!("{filter}: {} {}", r.status, r.body));
                continue;
            }
            let mut got: Vec<&str> = r.body["Resources"]
                .as_array()
                .map(|a| a.iter().filter_map(|u| u["userName"].as_str()).collect())
                .unwrap_or_default();
            got.sort_unstable();
            let mut want = want.clone();
            want.sort_unstable();
            if got != want {
                misses.push(format!("{filter}: got {got:?}, want {want:?}"));
            }
        }
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
    assert_eq!(b.snapshot().await, before);
    b.stop().await;
}

fn user_json(user_name: &str) -> String {
    json!({"schemas": [USER], "userName": user_name}).to_string()
}

/// `{"schemas": [USER], "userName": <raw>}` with `raw` spliced in as JSON text.
fn user_with_raw_name(raw: &[u8]) -> Vec<u8> {
    let mut body = format!(r#"{{"schemas": ["{USER}"], "userName": "#).into_bytes();
    body.extend_from_slice(raw);
    body.push(b'}');
    body
}

#[tokio::test]
async fn hostile_bodies_are_refused_and_change_nothing() {
    let b = TestBridge::start().await;
    let user = b.create_user("keep@example.com").await;
    let group = b.create_group("keepers").await;
    let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let deep_object = |n: usize| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
    let long_name = "n".repeat(200_000);
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        (
            "invalid UTF-8 in a string",
            user_with_raw_name(b"\"\xff\xfe\""),
        ),
        ("overlong UTF-8", user_with_raw_name(b"\"\xc0\xaf\"")),
        (
            "UTF-8-encoded surrogate",
            user_with_raw_name(b"\"\xed\xa0\x80\""),
        ),
        ("invalid UTF-8 outside strings", b"{\xff}".to_vec()),
        (
            "lone high surrogate escape",
            user_with_raw_name(br#""\ud800""#),
        ),
        (
            "lone low surrogate escape",
            user_with_raw_name(br#""\udc00""#),
        ),
        (
            "reversed surrogate pair",
            user_with_raw_name(br#""\udc00\ud800""#),
        ),
        ("raw null byte in a string", user_with_raw_name(b"\"a\0b\"")),
        ("raw null byte outside strings", b"{\0}".to_vec()),
        (
            "escaped null byte in userName",
            user_json("a\u{0}b").into_bytes(),
        ),
        (
            "only a null byte in userName",
            user_json("\u{0}").into_bytes(),
        ),
        (
            "control characters in userName",
            user_json("a\u{1}\u{7f}b").into_bytes(),
        ),
        ("1e400", user_with_raw_name(b"1e400")),
        ("-1e400", user_with_raw_name(b"-1e400")),
        ("huge integer", user_with_raw_name(b"99999999999999999999")),
        (
            "huge number for active",
            json!({"schemas": [USER], "userName": 1})
                .to_string()
                .replace("1}", "1, \"active\": 1e400}")
                .into_bytes(),
        ),
        ("nested arrays (33)", deep(33).into_bytes()),
        ("nested arrays (100000)", deep(100_000).into_bytes()),
        ("nested objects (100000)", deep_object(100_000).into_bytes()),
        ("unclosed nesting", "[".repeat(100_000).into_bytes()),
        (
            "SQL in userName with a wrong type",
            json!({"schemas": [USER], "userName": ["'; DROP TABLE people; --"]})
                .to_string()
                .into_bytes(),
        ),
        (
            "long attribute name, invalid userName",
            format!(r#"{{"schemas": ["{USER}"], "userName": false, "{long_name}": 1}}"#)
                .into_bytes(),
        ),
        (
            "body over the limit",
            user_json(&"v".repeat(2 * 1024 * 1024)).into_bytes(),
        ),
        ("not JSON", b"userName=x&active=true".to_vec()),
        ("empty", Vec::new()),
        (
            "BOM then JSON",
            [
                b"\xef\xbb\xbf".as_slice(),
                user_json("bom@example.com").as_bytes(),
            ]
            .concat(),
        ),
    ];
    let mut probes = Vec::new();
    for (what, body) in &bodies {
        probes.push(with_body(*what, Method::POST, "/Users", body.clone()));
        probes.push(with_body(
            *what,
            Method::PUT,
            format!("/Users/{user}"),
            body.clone(),
        ));
        probes.push(with_body(*what, Method::POST, "/Groups", body.clone()));
        // A body that is JSON is a search request that merely names no filter.
        if serde_json::from_slice::<Value>(body).is_err() {
            probes.push(with_body(
                *what,
                Method::POST,
                "/Users/.search",
                body.clone(),
            ));
        }
        probes.push(with_body(*what, Method::POST, "/Bulk", body.clone()));
    }
    // PATCH documents with hostile operations.
    let ops: Vec<(&str, Value)> = vec![
        (
            "long path",
            json!([{"op": "replace", "path": long_name, "value": "x"}]),
        ),
        (
            "long sub-attribute",
            json!([{"op": "replace", "path": format!("name.{long_name}"), "value": "x"}]),
        ),
        (
            "SQL path",
            json!([{"op": "replace", "path": "userName\"; DROP TABLE people; --", "value": "x"}]),
        ),
        (
            "null byte path",
            json!([{"op": "replace", "path": "user\u{0}Name", "value": "x"}]),
        ),
        (
            "deep value filter",
            json!([{"op": "remove", "path": format!("emails[{}value eq \"x\"{}]", "(".repeat(3000), ")".repeat(3000))}]),
        ),
        (
            "injection in value filter",
            json!([{"op": "remove", "path": "emails[value eq \"x\" or 1=1]"}]),
        ),
        (
            "null byte userName",
            json!([{"op": "replace", "path": "userName", "value": "a\u{0}b"}]),
        ),
        (
            "huge number value",
            json!([{"op": "replace", "path": "active", "value": 1e300}]),
        ),
        (
            "unknown op with SQL",
            json!([{"op": "'; DROP TABLE people; --", "path": "title", "value": "x"}]),
        ),
        (
            "member that does not exist",
            json!([{"op": "add", "path": "members", "value": [{"value": "' OR 1=1 --"}]}]),
        ),
    ];
    for (what, ops) in &ops {
        let doc = json!({"schemas": [PATCH_OP], "Operations": ops}).to_string();
        probes.push(with_body(
            *what,
            Method::PATCH,
            format!("/Users/{user}"),
            doc.clone(),
        ));
        probes.push(with_body(
            *what,
            Method::PATCH,
            format!("/Groups/{group}"),
            doc,
        ));
    }
    let patch_bytes: Vec<(&str, Vec<u8>)> = vec![
        ("PATCH with invalid UTF-8", format!(r#"{{"schemas": ["{PATCH_OP}"], "Operations": [{{"op": "replace", "path": "title", "value": ""#).into_bytes().into_iter().chain(b"\xff\"}]}".iter().copied()).collect()),
        ("PATCH with a lone surrogate", format!(r#"{{"schemas": ["{PATCH_OP}"], "Operations": [{{"op": "replace", "path": "title", "value": "\udfff"}}]}}"#).into_bytes()),
        ("PATCH with 1e400", format!(r#"{{"schemas": ["{PATCH_OP}"], "Operations": [{{"op": "replace", "path": "title", "value": 1e400}}]}}"#).into_bytes()),
        ("PATCH nested deep", format!(r#"{{"schemas": ["{PATCH_OP}"], "Operations": [{{"op": "replace", "path": "title", "value": {}}}]}}"#, deep(40)).into_bytes()),
    ];
    for (what, body) in &patch_bytes {
        probes.push(with_body(
            *what,
            Method::PATCH,
            format!("/Users/{user}"),
            body.clone(),
        ));
        probes.push(with_body(
            *what,
            Method::PATCH,
            format!("/Groups/{group}"),
            body.clone(),
        ));
    }
    // Search requests with hostile numbers.
    for (what, raw) in [
        ("count 1e400", r#""count": 1e400"#),
        ("count -1e400", r#""count": -1e400"#),
        (
            "count 99999999999999999999",
            r#""count": 99999999999999999999"#,
        ),
        (
            "startIndex 99999999999999999999",
            r#""startIndex": 99999999999999999999"#,
        ),
        ("startIndex 1e400", r#""startIndex": 1e400"#),
        ("count as a string", r#""count": "10; DROP TABLE people""#),
        ("count 1.5", r#""count": 1.5"#),
    ] {
        probes.push(with_body(
            what,
            Method::POST,
            "/Users/.search",
            format!(r#"{{"schemas": ["{SEARCH}"], {raw}}}"#),
        ));
    }
    all_refused(&b, probes).await;
    b.stop().await;
}

#[tokio::test]
async fn hostile_ids_and_query_parameters_are_refused() {
    let b = TestBridge::start().await;
    b.create_user("keep@example.com").await;
    let long_id = "i".repeat(6000);
    let ids = [
        "%FF",
        "%FF%FE",
        "%C0%AF",
        "%ED%A0%80",
        "%00",
        "abc%00def",
        "%27%20OR%20%271%27%3D%271",
        "%22%3B%20DROP%20TABLE%20people%3B%20--",
        "..%2F..%2Fetc%2Fpasswd",
        "%25",
        "_",
        "%5C",
        "%F0%9F%98%80",
        &long_id,
    ];
    let mut probes = Vec::new();
    for id in ids {
        let shown: String = id.chars().take(30).collect();
        for rt in ["Users", "Groups"] {
            let path = format!("/{rt}/{id}");
            probes.push(probe(format!("GET id {shown}"), Method::GET, &path));
            probes.push(probe(format!("DELETE id {shown}"), Method::DELETE, &path));
            probes.push(with_body(
                format!("PATCH id {shown}"),
                Method::PATCH,
                &path,
                json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "x"}]}).to_string(),
            ));
            probes.push(with_body(
                format!("PUT id {shown}"),
                Method::PUT,
                &path,
                user_json("put@example.com"),
            ));
        }
    }
    let long_attr = "a".repeat(8000);
    let queries = [
        "filter=%FF".to_owned(),
        "filter=userName%20eq%20%22%FF%22".to_owned(),
        "filter=userName%20eq%20%22%ED%A0%80%22".to_owned(),
        "filter=%00".to_owned(),
        "count=1e400".to_owned(),
        "count=%FF".to_owned(),
        "count=10%00".to_owned(),
        "count=10;DROP%20TABLE%20people".to_owned(),
        "count=0x10".to_owned(),
        "startIndex=1e400".to_owned(),
        "startIndex=%FF".to_owned(),
        "attributes=%FF".to_owned(),
        "attributes=userName%00".to_owned(),
        "sortBy=userName%3B%20DROP%20TABLE%20people".to_owned(),
        "sortBy=%FF".to_owned(),
        format!("sortBy={long_attr}"),
        "sortOrder=%FF".to_owned(),
        "sortOrder=descending%00".to_owned(),
    ];
    for q in &queries {
        let shown: String = q.chars().take(40).collect();
        probes.push(probe(
            format!("query {shown}"),
            Method::GET,
            format!("/Users?{q}"),
        ));
        probes.push(probe(
            format!("query {shown}"),
            Method::GET,
            format!("/Groups?{q}"),
        ));
    }
    all_refused(&b, probes).await;
    b.stop().await;
}

/// What the bridge tolerates by design is still answered without a 5xx and changes
/// nothing: an empty filter is no filter, unknown names in `attributes` are ignored
/// (RFC 7644 §3.9 asks for no error), and a string compared with a number compares text.
#[tokio::test]
async fn tolerated_oddities_are_answered_harmlessly() {
    let b = TestBridge::start().await;
    b.create_user("keep@example.com").await;
    let before = b.snapshot().await;
    let long_attr = "a".repeat(8000);
    let paths = [
        "/Users?filter=".to_owned(),
        format!(
            "/Users?filter={}",
            encode("userName gt 99999999999999999999999999999999")
        ),
        format!("/Users?attributes={long_attr}"),
        format!("/Groups?excludedAttributes=name.{long_attr}"),
    ];
    for path in &paths {
        let r = b.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", shorten(path), r.body);
        assert!(r.body["totalResults"].is_u64(), "{}", r.body);
    }
    assert_eq!(b.snapshot().await, before);
    b.stop().await;
}

/// Page sizes and offsets too large for any integer type are clamped like any large
/// value (RFC 7644 §3.4.2.4 lets a server return fewer than `count`), not refused.
#[tokio::test]
async fn numbers_beyond_any_integer_in_count_and_start_index_are_clamped() {
    let b = TestBridge::start().await;
    b.create_user("a@example.com").await;
    let before = b.snapshot().await;
    for (q, per_page) in [
        ("count=99999999999999999999", 1),
        ("count=-99999999999999999999", 0),
        ("startIndex=-99999999999999999999", 1),
        ("startIndex=99999999999999999999", 0),
    ] {
        let r = b.get(&format!("/Users?{q}")).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
        assert_eq!(r.body["itemsPerPage"], per_page, "{q}: {}", r.body);
        assert_eq!(r.body["totalResults"], 1, "{q}: {}", r.body);
    }
    assert_eq!(b.snapshot().await, before);
    b.stop().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Arbitrary bytes as a body, through the real HTTP stack and body reader: never a
    /// 5xx, never a change to the directory (random bytes are never a valid resource).
    #[test]
    fn arbitrary_body_bytes_are_refused_with_a_scim_error(
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..512),
            // Bytes that start like JSON, to get past the first character.
            proptest::collection::vec(any::<u8>(), 0..512)
                .prop_map(|tail| [br#"{"schemas": [""#.as_slice(), &tail].concat()),
        ],
        target in 0usize..5,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            // A fresh bridge per case, so a failure shrinks deterministically.
            let b = TestBridge::start().await;
            let (method, path) = match target {
                0 => (Method::POST, "/Users".to_owned()),
                1 => (Method::POST, "/Groups".to_owned()),
                2 => (Method::POST, "/Users/.search".to_owned()),
                3 => (Method::POST, "/Bulk".to_owned()),
                _ => (Method::PATCH, "/Groups/no-such-group".to_owned()),
            };
            let before = b.snapshot().await;
            let (status, reply) = send(&b, &with_body("arbitrary", method, path, body)).await.expect("answered");
            assert!(not_a_scim_4xx(status, &reply).is_none(), "{status}: {reply}");
            assert_eq!(b.snapshot().await, before);
            b.stop().await;
        });
    }
}
