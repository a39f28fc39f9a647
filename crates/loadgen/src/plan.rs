//! The order of a benchmark run: seed every server to each population and
//! measure lookups and paging there, then build groups and measure member
//! PATCH, then measure POST /Users (last, since it grows the population).
//! Seeding goes server by server; each measured scenario runs on all servers
//! in alternating turns (see turns.rs).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hyper::Method;
use serde_json::{json, Value};

use crate::client::{run as run_load, snippet, Load, Req, Scenario, Target};
use crate::scenarios::{
    add_members_body, group_body, group_patch_path, AddMember, CreateGroups, CreateUsers,
    FilterLookup, Page,
};
use crate::turns::{alternate, Entrant, Measured, Schedule};
use crate::Args;

/// One server under test.
pub struct Server {
    pub label: String,
    pub target: Arc<Target>,
    pub concurrency: usize,
    pub rss_pid: Option<u32>,
}

struct Ctx {
    args: Args,
    servers: Vec<Server>,
    run: String,
}

pub async fn run(args: Args, servers: Vec<Server>) -> Result<(), String> {
    let run = args.run_id.clone().unwrap_or_else(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{:x}", (nanos as u64) & 0xff_ffff_ffff)
    });
    let ctx = Ctx { args, servers, run };
    let want = |s: &str| ctx.args.scenarios.iter().any(|x| x == s);

    let mut pops = ctx.args.populations.clone();
    pops.sort_unstable();
    pops.dedup();
    let mut users: Vec<Vec<String>> = ctx.servers.iter().map(|_| Vec::new()).collect();
    for &pop in &pops {
        for (server, have) in ctx.servers.iter().zip(users.iter_mut()) {
            let had = have.len() as u64;
            if pop > had {
                have.extend(seed_users(&ctx, server, "u", had, pop - had).await?);
            }
        }
        if want("filter") {
            let sc = |_: usize| FilterLookup {
                run: ctx.run.clone(),
                population: pop,
            };
            measure(&ctx, "filter_eq", Some(pop), sc).await?;
        }
        if want("page") {
            let sc = |_: usize| Page {
                population: pop,
                size: ctx.args.page_size,
            };
            measure(&ctx, "page_100", Some(pop), sc).await?;
        }
        report_rss(&ctx, &format!("people={pop}"));
    }

    if want("patch") {
        let users: Vec<Arc<Vec<String>>> = users.into_iter().map(Arc::new).collect();
        member_patch(&ctx, &users).await?;
        report_rss(&ctx, "after_member_patch");
    }

    if want("post") {
        let sc = |_: usize| CreateUsers::new(&ctx.run, "p", 0, 0, false);
        measure(&ctx, "post_users", None, sc).await?;
    }
    report_rss(&ctx, "end");
    Ok(())
}

/// The bounds of a setup step (not measured) against `server`.
fn setup_load(ctx: &Ctx, server: &Server, count: u64) -> Load {
    let a = &ctx.args;
    Load {
        first: 0,
        concurrency: a.seed_concurrency.unwrap_or(server.concurrency),
        duration: Duration::from_secs_f64(a.setup_timeout.max(1.0)),
        max_requests: count,
        request_timeout: Duration::from_secs_f64(a.request_timeout.max(0.1)),
        verify_every: a.verify_every,
        progress: true,
    }
}

fn print(line: &Value) {
    println!("{line}");
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// Runs one measured scenario on every server in alternating turns (the
/// scenario of server `k` is `scenario(k)`), prints a line per server, and
/// fails on too many errors.
async fn measure<S: Scenario>(
    ctx: &Ctx,
    name: &str,
    population: Option<u64>,
    scenario: impl Fn(usize) -> S,
) -> Result<Vec<Measured>, String> {
    let a = &ctx.args;
    let entrants: Vec<Entrant<S>> = ctx
        .servers
        .iter()
        .enumerate()
        .map(|(k, server)| Entrant {
            target: Arc::clone(&server.target),
            scenario: Arc::new(scenario(k)),
            concurrency: server.concurrency,
        })
        .collect();
    let turns = a.turns.max(1);
    let schedule = Schedule {
        turns,
        turn: a.duration().div_f64(turns as f64),
        pause: if ctx.servers.len() > 1 {
            Duration::from_secs_f64(a.turn_pause.max(0.0))
        } else {
            Duration::ZERO
        },
        max_requests: a.max_requests,
        request_timeout: Duration::from_secs_f64(a.request_timeout.max(0.1)),
        verify_every: a.verify_every,
    };
    let measured = alternate(&entrants, &schedule).await;
    for (server, m) in ctx.servers.iter().zip(&measured) {
        let out = &m.total;
        let mut line = json!({
            "scenario": name,
            "server": server.label,
            "concurrency": server.concurrency,
            "requests": out.requests,
            "errors": out.errors,
            "seconds": round(out.elapsed.as_secs_f64(), 3),
            "rps": round(out.rps(), 3),
            "turn_rps": m.turn_rps.iter().map(|&r| round(r, 3)).collect::<Vec<_>>(),
            "p50_ms": round(out.quantile_ms(0.50), 3),
            "p99_ms": round(out.quantile_ms(0.99), 3),
            "max_ms": round(out.quantile_ms(1.0), 3),
        });
        if let (Some(p), Some(obj)) = (population, line.as_object_mut()) {
            obj.insert("population".to_string(), json!(p));
        }
        print(&line);
        for s in &out.error_samples {
            eprintln!("loadgen: {} {name}: {s}", server.label);
        }
    }
    for (server, m) in ctx.servers.iter().zip(&measured) {
        let out = &m.total;
        if out.requests == 0 {
            return Err(format!(
                "{name} against {}: no request completed",
                server.label
            ));
        }
        if out.error_rate() > a.max_error_rate {
            return Err(format!(
                "{name} against {}: {} of {} requests failed ({:.2}% > {:.2}%)",
                server.label,
                out.errors,
                out.requests,
                100.0 * out.error_rate(),
                100.0 * a.max_error_rate
            ));
        }
    }
    Ok(measured)
}

fn setup_line(server: &Server, step: &str, count: u64, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    print(&json!({
        "setup": true,
        "step": step,
        "server": server.label,
        "count": count,
        "seconds": round(secs, 3),
        "rps": round(if secs > 0.0 { count as f64 / secs } else { 0.0 }, 1),
    }));
}

/// Creates `count` users with concurrent POSTs; returns their ids in order.
async fn seed_users(
    ctx: &Ctx,
    server: &Server,
    kind: &'static str,
    first: u64,
    count: u64,
) -> Result<Vec<String>, String> {
    let started = Instant::now();
    let sc = Arc::new(CreateUsers::new(&ctx.run, kind, first, count, true));
    let out = run_load(
        Arc::clone(&server.target),
        Arc::clone(&sc),
        setup_load(ctx, server, count),
    )
    .await;
    let ids = sc.ids.lock().map_err(|_| "poisoned".to_string())?.clone();
    let ids: Vec<String> = ids.into_iter().flatten().collect();
    if out.errors > 0 || ids.len() as u64 != count {
        return Err(format!(
            "seeding {count} users into {}: {} created, {} errors; first: {}",
            server.label,
            ids.len(),
            out.errors,
            out.error_samples
                .first()
                .map_or("(timed out)", String::as_str)
        ));
    }
    setup_line(server, &format!("seed_users_{kind}"), count, started);
    Ok(ids)
}

async fn send_ok(ctx: &Ctx, server: &Server, req: Req) -> Result<Value, String> {
    let timeout = Duration::from_secs_f64(ctx.args.setup_timeout.max(1.0));
    let reply = tokio::time::timeout(timeout, server.target.send(&req))
        .await
        .map_err(|_| format!("{} {}: no answer in {timeout:?}", req.method, req.path))??;
    if !(200..300).contains(&reply.status) {
        return Err(format!(
            "{} {} ({}): HTTP {}: {}",
            req.method,
            req.path,
            server.label,
            reply.status,
            snippet(&reply.body)
        ));
    }
    if reply.body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&reply.body).map_err(|e| format!("{} {}: {e}", req.method, req.path))
}

/// Builds one group with `members`: a single POST when `member_chunk` is 0
/// and the server takes it, else a POST with the first chunk and PATCH adds
/// of one chunk each.
async fn build_big_group(ctx: &Ctx, server: &Server, members: &[String]) -> Result<String, String> {
    let started = Instant::now();
    let name = format!("lg-{}-big", ctx.run);
    let post = |part: &[String]| Req {
        method: Method::POST,
        path: "/Groups?excludedAttributes=members".to_string(),
        body: Some(group_body(&name, part)),
    };
    let mut chunk = ctx.args.member_chunk;
    let mut created = None;
    if chunk == 0 {
        match send_ok(ctx, server, post(members)).await {
            Ok(v) => created = Some(v),
            Err(e) => {
                eprintln!(
                    "loadgen: {}: one POST with {} members refused ({e}); adding them 1000 at a time",
                    server.label,
                    members.len()
                );
                chunk = 1000;
            }
        }
    }
    let first_len = if created.is_some() {
        members.len()
    } else {
        chunk.min(members.len())
    };
    let created = match created {
        Some(v) => v,
        None => send_ok(ctx, server, post(&members[..first_len])).await?,
    };
    let id = created
        .get("id")
        .and_then(Value::as_str)
        .ok_or("POST /Groups: no id in the answer")?
        .to_string();
    for part in members[first_len..].chunks(chunk.max(1)) {
        send_ok(
            ctx,
            server,
            Req {
                method: Method::PATCH,
                path: group_patch_path(&id),
                body: Some(add_members_body(part)),
            },
        )
        .await?;
    }
    setup_line(server, "big_group", members.len() as u64, started);
    Ok(id)
}

async fn member_count(ctx: &Ctx, server: &Server, group: &str) -> Result<usize, String> {
    let v = send_ok(
        ctx,
        server,
        Req {
            method: Method::GET,
            path: format!("/Groups/{group}?attributes=members"),
            body: None,
        },
    )
    .await?;
    Ok(v.get("members")
        .and_then(Value::as_array)
        .map_or(0, Vec::len))
}

/// Checks that a group holds what was sent to it: `want` members, or up to
/// `uncertain` more when some requests failed.
async fn check_members(
    ctx: &Ctx,
    server: &Server,
    group: &str,
    want: usize,
    uncertain: usize,
) -> Result<(), String> {
    let got = member_count(ctx, server, group).await?;
    if got < want || got > want + uncertain {
        return Err(format!(
            "{}: group {group} has {got} members after the PATCHes, want {want}{}",
            server.label,
            if uncertain > 0 {
                format!(" to {}", want + uncertain)
            } else {
                String::new()
            }
        ));
    }
    Ok(())
}

/// The groups one server's member PATCHes go to, and the users they add.
struct PatchSetup {
    small: Vec<String>,
    big: String,
    reserve: Arc<Vec<String>>,
}

async fn patch_setup(
    ctx: &Ctx,
    server: &Server,
    users: &Arc<Vec<String>>,
    big_size: usize,
) -> Result<PatchSetup, String> {
    let a = &ctx.args;
    // Small groups, created concurrently.
    let started = Instant::now();
    let count = a.small_groups.max(1) as u64;
    let creator = Arc::new(CreateGroups {
        run: ctx.run.clone(),
        size: a.small_group.min(users.len()),
        users: Arc::clone(users),
        ids: std::sync::Mutex::new(vec![None; count as usize]),
    });
    let out = run_load(
        Arc::clone(&server.target),
        Arc::clone(&creator),
        setup_load(ctx, server, count),
    )
    .await;
    let small: Vec<String> = creator
        .ids
        .lock()
        .map_err(|_| "poisoned".to_string())?
        .iter()
        .flatten()
        .cloned()
        .collect();
    if out.errors > 0 || small.len() as u64 != count {
        return Err(format!(
            "creating {count} groups in {}: {} created; first error: {}",
            server.label,
            small.len(),
            out.error_samples
                .first()
                .map_or("(timed out)", String::as_str)
        ));
    }
    setup_line(server, "small_groups", count, started);

    let big = build_big_group(ctx, server, &users[..big_size]).await?;
    report_server_rss(server, &format!("people={}+groups", users.len()));
    let reserve = Arc::new(seed_users(ctx, server, "r", 0, a.patch_reserve.max(1)).await?);
    Ok(PatchSetup {
        small,
        big,
        reserve,
    })
}

async fn member_patch(ctx: &Ctx, users: &[Arc<Vec<String>>]) -> Result<(), String> {
    let a = &ctx.args;
    let fewest = users.iter().map(|u| u.len()).min().unwrap_or(0);
    let big_size = a
        .big_group
        .unwrap_or_else(|| a.populations.iter().copied().max().unwrap_or(0) as usize)
        .min(fewest)
        .max(1);
    let mut setups = Vec::with_capacity(ctx.servers.len());
    for (server, users) in ctx.servers.iter().zip(users) {
        setups.push(patch_setup(ctx, server, users, big_size).await?);
    }

    let small_out = measure(
        ctx,
        &format!("patch_add_member_group_{}", a.small_group),
        None,
        |k| AddMember {
            groups: setups[k].small.clone(),
            reserve: Arc::clone(&setups[k].reserve),
        },
    )
    .await?;
    let big_out = measure(
        ctx,
        &format!("patch_add_member_group_{big_size}"),
        None,
        |k| AddMember {
            groups: vec![setups[k].big.clone()],
            reserve: Arc::clone(&setups[k].reserve),
        },
    )
    .await?;

    // The adds must really be there: the first small group and the big group.
    for (k, server) in ctx.servers.iter().enumerate() {
        let (small, big) = (&small_out[k].total, &big_out[k].total);
        let s = &setups[k];
        let g = s.small.len() as u64;
        let small_want = a.small_group.min(users[k].len()) + small.requests.div_ceil(g) as usize;
        check_members(ctx, server, &s.small[0], small_want, small.errors as usize).await?;
        let big_ok = (big.requests - big.errors) as usize;
        check_members(ctx, server, &s.big, big_size + big_ok, big.errors as usize).await?;
    }
    Ok(())
}

fn read_status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// Prints a server's peak and current resident memory, when its pid is known.
fn report_server_rss(server: &Server, checkpoint: &str) {
    let Some(pid) = server.rss_pid else { return };
    let hwm = read_status_kb(pid, "VmHWM");
    let rss = read_status_kb(pid, "VmRSS");
    print(&json!({
        "rss": true,
        "server": server.label,
        "checkpoint": checkpoint,
        "vmhwm_kb": hwm,
        "vmrss_kb": rss,
    }));
}

fn report_rss(ctx: &Ctx, checkpoint: &str) {
    for server in &ctx.servers {
        report_server_rss(server, checkpoint);
    }
}
