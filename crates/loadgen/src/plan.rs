//! The order of a benchmark run against one server: seed to each population
//! and measure lookups and paging there, then build groups and measure member
//! PATCH, then measure POST /Users (last, since it grows the population).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hyper::Method;
use serde_json::{json, Value};

use crate::client::{run as run_load, snippet, Load, Outcome, Req, Scenario, Target};
use crate::scenarios::{
    add_members_body, group_body, group_patch_path, AddMember, CreateGroups, CreateUsers,
    FilterLookup, Page,
};
use crate::Args;

struct Ctx {
    args: Args,
    target: Arc<Target>,
    run: String,
}

pub async fn run(args: Args, token: String) -> Result<(), String> {
    let seed_conc = args.seed_concurrency.unwrap_or(args.concurrency);
    let pool = args.concurrency.max(seed_conc);
    let target = Arc::new(Target::new(&args.url, &token, pool)?);
    let run = args.run_id.clone().unwrap_or_else(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{:x}", (nanos as u64) & 0xff_ffff_ffff)
    });
    let ctx = Ctx { args, target, run };
    let want = |s: &str| ctx.args.scenarios.iter().any(|x| x == s);

    let mut pops = ctx.args.populations.clone();
    pops.sort_unstable();
    pops.dedup();
    let mut users: Vec<String> = Vec::new();
    for &pop in &pops {
        let have = users.len() as u64;
        if pop > have {
            users.extend(seed_users(&ctx, "u", have, pop - have).await?);
        }
        if want("filter") {
            let sc = FilterLookup {
                run: ctx.run.clone(),
                population: pop,
            };
            measure(&ctx, "filter_eq", Some(pop), sc, ctx.args.max_requests).await?;
        }
        if want("page") {
            let sc = Page {
                population: pop,
                size: ctx.args.page_size,
            };
            measure(&ctx, "page_100", Some(pop), sc, ctx.args.max_requests).await?;
        }
        report_rss(&ctx, &format!("people={pop}"));
    }

    if want("patch") {
        let users = Arc::new(users);
        member_patch(&ctx, &users).await?;
        report_rss(&ctx, "after_member_patch");
    }

    if want("post") {
        let sc = CreateUsers::new(&ctx.run, "p", 0, 0, false);
        measure(&ctx, "post_users", None, sc, ctx.args.max_requests).await?;
    }
    report_rss(&ctx, "end");
    Ok(())
}

fn load(ctx: &Ctx, measured: bool, max_requests: u64) -> Load {
    let a = &ctx.args;
    Load {
        concurrency: if measured {
            a.concurrency
        } else {
            a.seed_concurrency.unwrap_or(a.concurrency)
        },
        duration: if measured {
            a.duration()
        } else {
            Duration::from_secs_f64(a.setup_timeout.max(1.0))
        },
        max_requests,
        request_timeout: Duration::from_secs_f64(a.request_timeout.max(0.1)),
        verify_every: a.verify_every,
        progress: !measured,
    }
}

fn print(line: &Value) {
    println!("{line}");
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// Runs one measured scenario, prints its line, and fails on too many errors.
async fn measure<S: Scenario>(
    ctx: &Ctx,
    name: &str,
    population: Option<u64>,
    scenario: S,
    max_requests: u64,
) -> Result<Outcome, String> {
    let out = run_load(
        Arc::clone(&ctx.target),
        Arc::new(scenario),
        load(ctx, true, max_requests),
    )
    .await;
    let mut line = json!({
        "scenario": name,
        "server": ctx.args.label,
        "concurrency": ctx.args.concurrency,
        "requests": out.requests,
        "errors": out.errors,
        "seconds": round(out.elapsed.as_secs_f64(), 3),
        "rps": round(out.rps(), 3),
        "p50_ms": round(out.quantile_ms(0.50), 3),
        "p99_ms": round(out.quantile_ms(0.99), 3),
        "max_ms": round(out.quantile_ms(1.0), 3),
    });
    if let (Some(p), Some(obj)) = (population, line.as_object_mut()) {
        obj.insert("population".to_string(), json!(p));
    }
    print(&line);
    for s in &out.error_samples {
        eprintln!("loadgen: {} {name}: {s}", ctx.args.label);
    }
    if out.requests == 0 {
        return Err(format!("{name}: no request completed"));
    }
    if out.error_rate() > ctx.args.max_error_rate {
        return Err(format!(
            "{name} against {}: {} of {} requests failed ({:.2}% > {:.2}%)",
            ctx.args.label,
            out.errors,
            out.requests,
            100.0 * out.error_rate(),
            100.0 * ctx.args.max_error_rate
        ));
    }
    Ok(out)
}

fn setup_line(ctx: &Ctx, step: &str, count: u64, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    print(&json!({
        "setup": true,
        "step": step,
        "server": ctx.args.label,
        "count": count,
        "seconds": round(secs, 3),
        "rps": round(if secs > 0.0 { count as f64 / secs } else { 0.0 }, 1),
    }));
}

/// Creates `count` users with concurrent POSTs; returns their ids in order.
async fn seed_users(
    ctx: &Ctx,
    kind: &'static str,
    first: u64,
    count: u64,
) -> Result<Vec<String>, String> {
    let started = Instant::now();
    let sc = Arc::new(CreateUsers::new(&ctx.run, kind, first, count, true));
    let out = run_load(
        Arc::clone(&ctx.target),
        Arc::clone(&sc),
        load(ctx, false, count),
    )
    .await;
    let ids = sc.ids.lock().map_err(|_| "poisoned".to_string())?.clone();
    let ids: Vec<String> = ids.into_iter().flatten().collect();
    if out.errors > 0 || ids.len() as u64 != count {
        return Err(format!(
            "seeding {count} users: {} created, {} errors; first: {}",
            ids.len(),
            out.errors,
            out.error_samples
                .first()
                .map_or("(timed out)", String::as_str)
        ));
    }
    setup_line(ctx, &format!("seed_users_{kind}"), count, started);
    Ok(ids)
}

async fn send_ok(ctx: &Ctx, req: Req) -> Result<Value, String> {
    let timeout = Duration::from_secs_f64(ctx.args.setup_timeout.max(1.0));
    let reply = tokio::time::timeout(timeout, ctx.target.send(&req))
        .await
        .map_err(|_| format!("{} {}: no answer in {timeout:?}", req.method, req.path))??;
    if !(200..300).contains(&reply.status) {
        return Err(format!(
            "{} {}: HTTP {}: {}",
            req.method,
            req.path,
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
async fn build_big_group(ctx: &Ctx, members: &[String]) -> Result<String, String> {
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
        match send_ok(ctx, post(members)).await {
            Ok(v) => created = Some(v),
            Err(e) => {
                eprintln!(
                    "loadgen: {}: one POST with {} members refused ({e}); adding them 1000 at a time",
                    ctx.args.label,
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
        None => send_ok(ctx, post(&members[..first_len])).await?,
    };
    let id = created
        .get("id")
        .and_then(Value::as_str)
        .ok_or("POST /Groups: no id in the answer")?
        .to_string();
    for part in members[first_len..].chunks(chunk.max(1)) {
        send_ok(
            ctx,
            Req {
                method: Method::PATCH,
                path: group_patch_path(&id),
                body: Some(add_members_body(part)),
            },
        )
        .await?;
    }
    setup_line(ctx, "big_group", members.len() as u64, started);
    Ok(id)
}

async fn member_count(ctx: &Ctx, group: &str) -> Result<usize, String> {
    let v = send_ok(
        ctx,
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

/// Checks that a group holds what was sent to it: `before + added`
/// members, or up to `uncertain` more when some requests failed.
async fn check_members(
    ctx: &Ctx,
    group: &str,
    want: usize,
    uncertain: usize,
) -> Result<(), String> {
    let got = member_count(ctx, group).await?;
    if got < want || got > want + uncertain {
        return Err(format!(
            "group {group} has {got} members after the PATCHes, want {want}{}",
            if uncertain > 0 {
                format!(" to {}", want + uncertain)
            } else {
                String::new()
            }
        ));
    }
    Ok(())
}

async fn member_patch(ctx: &Ctx, users: &Arc<Vec<String>>) -> Result<(), String> {
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
        Arc::clone(&ctx.target),
        Arc::clone(&creator),
        load(ctx, false, count),
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
            "creating {count} groups: {} created; first error: {}",
            small.len(),
            out.error_samples
                .first()
                .map_or("(timed out)", String::as_str)
        ));
    }
    setup_line(ctx, "small_groups", count, started);

    let big_size = a
        .big_group
        .unwrap_or_else(|| a.populations.iter().copied().max().unwrap_or(0) as usize)
        .min(users.len())
        .max(1);
    let big = build_big_group(ctx, &users[..big_size]).await?;
    report_rss(ctx, &format!("people={}+groups", users.len()));

    let reserve = Arc::new(seed_users(ctx, "r", 0, a.patch_reserve.max(1)).await?);

    let sc = AddMember {
        groups: small.clone(),
        reserve: Arc::clone(&reserve),
    };
    let max = a.max_requests.min(sc.capacity());
    let small_out = measure(
        ctx,
        &format!("patch_add_member_group_{}", a.small_group),
        None,
        sc,
        max,
    )
    .await?;

    let sc = AddMember {
        groups: vec![big.clone()],
        reserve: Arc::clone(&reserve),
    };
    let max = a.max_requests.min(sc.capacity());
    let big_out = measure(
        ctx,
        &format!("patch_add_member_group_{big_size}"),
        None,
        sc,
        max,
    )
    .await?;

    // The adds must really be there: the first small group and the big group.
    let g = small.len() as u64;
    let small_done = small_out.requests.div_ceil(g) as usize;
    let small_want = a.small_group.min(users.len()) + small_done;
    check_members(ctx, &small[0], small_want, small_out.errors as usize).await?;
    let big_ok = (big_out.requests - big_out.errors) as usize;
    check_members(ctx, &big, big_size + big_ok, big_out.errors as usize).await?;
    Ok(())
}

fn read_status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// Prints the server's peak and current resident memory, when its pid is known.
fn report_rss(ctx: &Ctx, checkpoint: &str) {
    let Some(pid) = ctx.args.rss_pid else { return };
    let hwm = read_status_kb(pid, "VmHWM");
    let rss = read_status_kb(pid, "VmRSS");
    print(&json!({
        "rss": true,
        "server": ctx.args.label,
        "checkpoint": checkpoint,
        "vmhwm_kb": hwm,
        "vmrss_kb": rss,
    }));
}
