//! Maps 100,000 generated JumpCloud users with the default table on one thread and
//! prints users mapped per second. Run with
//! `cargo run --release -p keybridge-mapping --example bench_mapping`.

use std::hint::black_box;
use std::time::Instant;

use keybridge_mapping::{default_table, environment, map_user, preview, CompiledTable};
use serde_json::{json, Value};

const USERS: usize = 100_000;

/// A small deterministic generator, so runs are comparable.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[(self.next() as usize) % options.len()]
    }
}

/// Users of varied shapes: with or without last name, display name, addresses (work,
/// home, none), phones of every JumpCloud type, custom attributes.
fn generate_user(i: usize, rng: &mut Lcg) -> Value {
    let first = rng.pick(&["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Émilie", "Linus"]);
    let last = rng.pick(&["Lovelace", "Hopper", "Turing", "", "Liskov", "Thompson", "du Châtelet"]);
    let mut user = json!({
        "_id": format!("5f{i:022x}"),
        "username": format!("{}.{}{i}", first.to_lowercase(), last.to_lowercase()),
        "email": format!("user{i}@example.com"),
        "firstname": first,
        "lastname": last,
        "state": rng.pick(&["ACTIVATED", "STAGED", "SUSPENDED"]),
        "activated": true,
        "suspended": false,
        "created": "2024-03-01T10:00:00.000Z",
    });
    let obj = user.as_object_mut().expect("generated user is an object");
    if rng.next() % 4 == 0 {
        obj.insert("displayname".into(), json!(format!("{first} the Great")));
    }
    for (key, values) in [
        ("jobTitle", &["Engineer", "Manager", "Designer", ""][..]),
        ("department", &["R&D", "Sales", "Support"][..]),
        ("company", &["Acme", "Globex"][..]),
        ("costCenter", &["CC-1", "CC-2"][..]),
        ("employeeType", &["full-time", "contractor"][..]),
    ] {
        if rng.next() % 3 != 0 {
            obj.insert(key.into(), json!(rng.pick(values)));
        }
    }
    if rng.next() % 2 == 0 {
        obj.insert("employeeIdentifier".into(), json!(format!("E{i}")));
    }
    let addresses: Vec<Value> = (0..rng.next() % 3)
        .map(|_| {
            json!({
                "type": rng.pick(&["work", "home", "other"]),
                "streetAddress": "1 Main Street",
                "locality": rng.pick(&["Paris", "London", "Berlin"]),
                "postalCode": "75001",
                "country": rng.pick(&["FR", "GB", "DE"]),
            })
        })
        .collect();
    obj.insert("addresses".into(), json!(addresses));
    let phones: Vec<Value> = (0..rng.next() % 3)
        .map(|_| {
            json!({
                "type": rng.pick(&["work", "home", "mobile", "work_mobile", "work_fax", "other"]),
                "number": "+33 1 23 45 67 89",
            })
        })
        .collect();
    obj.insert("phoneNumbers".into(), json!(phones));
    if rng.next() % 5 == 0 {
        obj.insert("attributes".into(), json!([{"name": "badge", "value": format!("B{i}")}]));
    }
    user
}

fn main() {
    let table = CompiledTable::compile(&default_table()).expect("the default table compiles");
    let mut rng = Lcg(42);
    let users: Vec<Value> = (0..USERS).map(|i| generate_user(i, &mut rng)).collect();
    // One in ten users already exists at the provider, to exercise providerUser.
    let existing = json!({"externalId": "ext-1", "locale": "fr-FR", "preferredLanguage": "fr"});

    let start = Instant::now();
    let mut failures = 0usize;
    for (i, user) in users.iter().enumerate() {
        let provider = (i % 10 == 0).then_some(&existing);
        let result = preview(user, provider, &table, provider.is_none());
        failures += result.errors().count();
        black_box(result);
    }
    let elapsed = start.elapsed();
    let per_second = USERS as f64 / elapsed.as_secs_f64();
    println!(
        "preview: mapped {USERS} users in {:.3} s: {:.0} users/s on one thread ({failures} row failures)",
        elapsed.as_secs_f64(),
        per_second
    );

    // The parts: normalising jcUser, then evaluating the table into a SCIM value.
    let start = Instant::now();
    let envs: Vec<_> = users.iter().map(|u| environment(u, None)).collect();
    let normalise = start.elapsed();
    let start = Instant::now();
    for env in &envs {
        black_box(map_user(env, &table, true));
    }
    let evaluate = start.elapsed();
    println!(
        "  of which normalising jcUser: {:.0} users/s; evaluating the table: {:.0} users/s",
        USERS as f64 / normalise.as_secs_f64(),
        USERS as f64 / evaluate.as_secs_f64()
    );
}
