//! The HTTP side: one pooled keep-alive client per target, and a closed-loop
//! runner that keeps `concurrency` requests in flight until a time or count
//! bound is reached.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

const SCIM_JSON: &str = "application/scim+json";

/// A SCIM server reached over plain HTTP with a bearer token.
pub struct Target {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
    auth: HeaderValue,
}

/// A finished exchange: status and the whole body.
pub struct Reply {
    pub status: u16,
    pub body: Bytes,
}

/// One request of a scenario; `path` is relative to the base URL and starts with `/`.
pub struct Req {
    pub method: Method,
    pub path: String,
    pub body: Option<Bytes>,
}

impl Target {
    pub fn new(base: &str, token: &str, pool: usize) -> Result<Self, String> {
        if !base.starts_with("http://") {
            return Err(format!(
                "base URL {base} must start with http:// (the load generator speaks plain HTTP on loopback)"
            ));
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| "the token contains characters not allowed in a header".to_string())?;
        auth.set_sensitive(true);
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_keepalive(Some(Duration::from_secs(60)));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(pool)
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_string(),
            auth,
        })
    }

    pub async fn send(&self, req: &Req) -> Result<Reply, String> {
        let uri = format!("{}{}", self.base, req.path);
        let mut builder = Request::builder()
            .method(req.method.clone())
            .uri(&uri)
            .header(AUTHORIZATION, self.auth.clone())
            .header(ACCEPT, SCIM_JSON);
        if req.body.is_some() {
            builder = builder.header(CONTENT_TYPE, SCIM_JSON);
        }
        let request = builder
            .body(Full::new(req.body.clone().unwrap_or_default()))
            .map_err(|e| format!("bad request {uri}: {e}"))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| format!("{} {}: {e:?}", req.method, req.path))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{} {}: reading body: {e}", req.method, req.path))?
            .to_bytes();
        Ok(Reply { status, body })
    }
}

/// What a scenario sends and how it checks and keeps answers.
pub trait Scenario: Send + Sync + 'static {
    /// The `j`-th request (0-based, unique within a run).
    fn request(&self, j: u64) -> Req;
    /// Checks a successful (2xx) answer; called for every `verify_every`-th request
    /// and whenever `always_inspect` is true.
    fn verify(&self, _j: u64, _reply: &Reply) -> Result<(), String> {
        Ok(())
    }
    /// Scenarios that must see every answer (seeding keeps the new ids).
    fn always_inspect(&self) -> bool {
        false
    }
    /// How many requests the scenario can send before it would repeat itself
    /// (for example add a member a group already has).
    fn capacity(&self) -> u64 {
        u64::MAX
    }
}

/// Bounds and shape of one run.
#[derive(Clone, Copy)]
pub struct Load {
    /// Index of the first request: a scenario measured in several turns goes on
    /// where its previous turn stopped, so that no request is sent twice.
    pub first: u64,
    pub concurrency: usize,
    pub duration: Duration,
    pub max_requests: u64,
    pub request_timeout: Duration,
    pub verify_every: u64,
    /// Print how far the run got every 15 s (for long setup steps).
    pub progress: bool,
}

/// What a run measured.
pub struct Outcome {
    pub requests: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Latency in microseconds of every completed request, sorted.
    pub latencies_us: Vec<u32>,
    pub error_samples: Vec<String>,
}

impl Outcome {
    pub fn rps(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        }
    }

    /// Latency at quantile `q` (0..=1) in milliseconds, nearest-rank.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let n = self.latencies_us.len();
        if n == 0 {
            return 0.0;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        f64::from(self.latencies_us[rank - 1]) / 1000.0
    }

    /// One outcome for several turns of a scenario: requests, errors and time
    /// added up, latencies merged.
    pub fn combine(turns: Vec<Outcome>) -> Outcome {
        let mut all = Outcome {
            requests: 0,
            errors: 0,
            elapsed: Duration::ZERO,
            latencies_us: Vec::new(),
            error_samples: Vec::new(),
        };
        for mut t in turns {
            all.requests += t.requests;
            all.errors += t.errors;
            all.elapsed += t.elapsed;
            all.latencies_us.append(&mut t.latencies_us);
            all.error_samples.append(&mut t.error_samples);
        }
        all.latencies_us.sort_unstable();
        all.error_samples.truncate(5);
        all
    }

    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }
}

struct Tally {
    errors: u64,
    latencies_us: Vec<u32>,
    samples: Vec<String>,
}

/// Runs `scenario` with `load.concurrency` workers, each sending its next
/// request as soon as the previous one is answered, until `load.duration`
/// has passed or request `load.max_requests - 1` was started, whichever comes
/// first. Requests are numbered from `load.first`.
pub async fn run<S: Scenario>(target: Arc<Target>, scenario: Arc<S>, load: Load) -> Outcome {
    let next = Arc::new(AtomicU64::new(load.first));
    let samples = Arc::new(Mutex::new(Vec::<String>::new()));
    let start = Instant::now();
    let ticker = load.progress.then(|| {
        let next = Arc::clone(&next);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(15));
            tick.tick().await;
            loop {
                tick.tick().await;
                let n = next
                    .load(Ordering::Relaxed)
                    .min(load.max_requests)
                    .saturating_sub(load.first);
                eprintln!(
                    "loadgen: setup: {n} of {} requests sent in {:.0} s",
                    load.max_requests.saturating_sub(load.first),
                    start.elapsed().as_secs_f64()
                );
            }
        })
    });
    let mut workers = Vec::with_capacity(load.concurrency);
    for _ in 0..load.concurrency.max(1) {
        let target = Arc::clone(&target);
        let scenario = Arc::clone(&scenario);
        let next = Arc::clone(&next);
        let samples = Arc::clone(&samples);
        workers.push(tokio::spawn(async move {
            let mut tally = Tally {
                errors: 0,
                latencies_us: Vec::new(),
                samples: Vec::new(),
            };
            loop {
                if start.elapsed() >= load.duration {
                    break;
                }
                let j = next.fetch_add(1, Ordering::Relaxed);
                if j >= load.max_requests {
                    break;
                }
                let req = scenario.request(j);
                let t0 = Instant::now();
                let result = tokio::time::timeout(load.request_timeout, target.send(&req)).await;
                let micros = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
                tally.latencies_us.push(micros);
                let failure = match result {
                    Err(_) => Some(format!(
                        "{} {}: no answer within {:?}",
                        req.method, req.path, load.request_timeout
                    )),
                    Ok(Err(e)) => Some(e),
                    Ok(Ok(reply)) if !(200..300).contains(&reply.status) => Some(format!(
                        "{} {}: HTTP {}: {}",
                        req.method,
                        req.path,
                        reply.status,
                        snippet(&reply.body)
                    )),
                    Ok(Ok(reply)) => {
                        if scenario.always_inspect() || j % load.verify_every.max(1) == 0 {
                            scenario
                                .verify(j, &reply)
                                .err()
                                .map(|e| format!("{} {}: wrong answer: {e}", req.method, req.path))
                        } else {
                            None
                        }
                    }
                };
                if let Some(f) = failure {
                    tally.errors += 1;
                    if tally.samples.len() < 3 {
                        tally.samples.push(f);
                    }
                }
            }
            if let Ok(mut s) = samples.lock() {
                s.append(&mut tally.samples);
            }
            tally
        }));
    }
    let mut errors = 0;
    let mut latencies_us = Vec::new();
    for w in workers {
        match w.await {
            Ok(mut t) => {
                errors += t.errors;
                latencies_us.append(&mut t.latencies_us);
            }
            Err(e) => {
                errors += 1;
                if let Ok(mut s) = samples.lock() {
                    s.push(format!("worker failed: {e}"));
                }
            }
        }
    }
    let elapsed = start.elapsed();
    if let Some(t) = ticker {
        t.abort();
    }
    latencies_us.sort_unstable();
    let mut error_samples = samples.lock().map(|s| s.clone()).unwrap_or_default();
    error_samples.truncate(5);
    Outcome {
        requests: latencies_us.len() as u64,
        errors,
        elapsed,
        latencies_us,
        error_samples,
    }
}

/// The start of a body, for error messages.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        s.push('…');
    }
    s
}
