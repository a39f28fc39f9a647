//! Maps 100,000 generated JumpCloud users with the default table on one thread and
//! prints users mapped per second. Run with
//! `cargo run --release -p keybridge-mapping --example bench_mapping`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use keybridge_mapping::{default_table, map_user, preview, CompiledTable};
use serde_json::{json, Value};

/// How many users; `BENCH_USERS` overrides it (e.g. for a profiler).
fn user_count() -> usize {
    std::env::var("BENCH_USERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000)
}

/// CPU time this thread has used, from Linux's scheduler statistics; the machine may be
/// shared, and wall-clock time then understates what one core does.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Times `f` over `ROUNDS` runs and keeps the fastest, returning wall-clock and (when
/// available) CPU time: on a shared machine the fastest run is the least disturbed.
fn measure(mut f: impl FnMut()) -> (Duration, Option<Duration>) {
    const ROUNDS: usize = 3;
    let mut best: Option<(Duration, Option<Duration>)> = None;
    for _ in 0..ROUNDS {
        let cpu_before = thread_cpu_time();
        let start = Instant::now();
        f();
        let wall = start.elapsed();
        let cpu = thread_cpu_time()
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before));
        let key = |m: &(Duration, Option<Duration>)| m.1.unwrap_or(m.0);
        if best.as_ref().is_none_or(|b| key(&(wall, cpu)) < key(b)) {
            best = Some((wall, cpu));
        }
    }
    best.unwrap_or_default()
}

fn report(what: &str, users_n: usize, (wall, cpu): (Duration, Option<Duration>)) {
    let rate = |d: Duration| users_n as f64 / d.as_secs_f64();
    match cpu {
        Some(cpu) => println!(
            "{what}: {users_n} users in {:.3} s wall ({:.0} users/s), {:.3} s CPU ({:.0} users/s per core)",
            wall.as_secs_f64(),
            rate(wall),
            cpu.as_secs_f64(),
            rate(cpu)
        ),
        None => println!("{what}: {users_n} users in {:.3} s ({:.0} users/s)", wall.as_secs_f64(), rate(wall)),
    }
}

/// A small deterministic generator, so runs are comparable.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// True one time in `n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.next().checked_rem(n) == Some(0)
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[(self.next() as usize) % options.len()]
    }
}

/// Users of varied shapes: with or without last name, display name, addresses (work,
/// home, none), phones of every JumpCloud type, custom attributes.
fn generate_user(i: usize, rng: &mut Lcg) -> Value {
    let first = rng.pick(&[
        "Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Émilie", "Linus",
    ]);
    let last = rng.pick(&[
        "Lovelace",
        "Hopper",
        "Turing",
        "",
        "Liskov",
        "Thompson",
        "du Châtelet",
    ]);
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
    if rng.one_in(4) {
        obj.insert("displayname".into(), json!(format!("{first} the Great")));
    }
    for (key, values) in [
        ("jobTitle", &["Engineer", "Manager", "Designer", ""][..]),
        ("department", &["R&D", "Sales", "Support"][..]),
        ("company", &["Acme", "Globex"][..]),
        ("costCenter", &["CC-1", "CC-2"][..]),
        ("employeeType", &["full-time", "contractor"][..]),
    ] {
        if !rng.one_in(3) {
            obj.insert(key.into(), json!(rng.pick(values)));
        }
    }
    if rng.one_in(2) {
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
    if rng.one_in(5) {
        obj.insert(
            "attributes".into(),
            json!([{"name": "badge", "value": format!("B{i}")}]),
        );
    }
    user
}

fn main() {
    let table = CompiledTable::compile(&default_table()).expect("the default table compiles");
    let mut rng = Lcg(42);
    let users_n = user_count();
    let users: Vec<Value> = (0..users_n).map(|i| generate_user(i, &mut rng)).collect();
    // One in ten users already exists at the provider, to exercise providerUser.
    let existing = json!({"externalId": "ext-1", "locale": "fr-FR", "preferredLanguage": "fr"});

    // `BENCH_PHASE=map|normalise|evaluate|preview` runs one phase only, for a profiler.
    let phase = std::env::var("BENCH_PHASE").ok();
    let runs = |name: &str| phase.as_deref().is_none_or(|p| p == name);

    // What the bridge does per user: normalise jcUser, evaluate every row, build the
    // SCIM User value.
    let mut failures = 0usize;
    if runs("map") {
        let timing = measure(|| {
            for (i, user) in users.iter().enumerate() {
                let provider = (i % 10 == 0).then_some(&existing);
                let env = table.environment(user, provider);
                let mapped = map_user(&env, &table, provider.is_none());
                failures += mapped.failures().len();
                black_box(mapped);
            }
        });
        report("map (normalise + evaluate + SCIM value)", users_n, timing);
    }

    // The two halves of it.
    if runs("normalise") {
        report(
            "  normalise jcUser",
            users_n,
            measure(|| {
                for user in &users {
                    black_box(table.environment(user, None));
                }
            }),
        );
    }
    if runs("evaluate") {
        let envs: Vec<_> = users.iter().map(|u| table.environment(u, None)).collect();
        report(
            "  evaluate the table",
            users_n,
            measure(|| {
                for env in &envs {
                    black_box(map_user(env, &table, true));
                }
            }),
        );
        drop(envs);
    }
    assert_eq!(
        failures, 0,
        "the default table must not fail on generated users"
    );

    // The desktop preview adds serde_json output and per-row results.
    if runs("preview") {
        let timing = measure(|| {
            for (i, user) in users.iter().enumerate() {
                let provider = (i % 10 == 0).then_some(&existing);
                black_box(preview(user, provider, &table, provider.is_none()));
            }
        });
        report(
            "preview (map + serde_json output + per-row results)",
            users_n,
            timing,
        );
    }
}
