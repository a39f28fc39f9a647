//! Prometheus metrics: a small registry of atomics, a tower layer that records every
//! request (handlers know nothing of it), and `/metrics` in the text exposition format.
//!
//! Labels have bounded values only: the route *template* (`/scim/v2/Users/{id}`, never a
//! raw path), a fixed set of methods, the status code, and SCIM's scimType keywords; so
//! no client can grow the registry.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use super::reply::ErrorKind;
use super::AppState;

/// Upper bounds (seconds) of the latency histogram's buckets; `+Inf` is implied.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The route label of a request no route matched.
const UNMATCHED: &str = "unmatched";

/// The bridge's metrics; cheap to clone (one shared registry).
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Arc<Registry>,
}

#[derive(Default)]
struct Registry {
    routes: RwLock<HashMap<String, Arc<RouteStats>>>,
    scim_errors: RwLock<HashMap<(u16, &'static str), AtomicU64>>,
    /// Unix seconds of the serving certificate's notAfter; 0 while unknown.
    certificate_expiry: AtomicI64,
    connections_refused: AtomicU64,
}

#[derive(Default)]
struct RouteStats {
    responses: RwLock<HashMap<(&'static str, u16), AtomicU64>>,
    latency: Histogram,
}

#[derive(Default)]
struct Histogram {
    /// Per bucket (not cumulative), plus one for `+Inf`.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, seconds: f64, nanos: u64) {
        let i = BUCKETS
            .iter()
            .position(|&b| seconds <= b)
            .unwrap_or(BUCKETS.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// Adds one to the counter under `key`, creating it on first use. The read lock is the
/// common path; the write lock is taken once per new label set.
fn increment<K: std::hash::Hash + Eq>(map: &RwLock<HashMap<K, AtomicU64>>, key: K) {
    if let Ok(m) = map.read() {
        if let Some(c) = m.get(&key) {
            c.fetch_add(1, Ordering::Relaxed);
            return;
        }
    }
    if let Ok(mut m) = map.write() {
        m.entry(key)
            .or_insert_with(|| AtomicU64::new(0))
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// Methods as label values: the ones SCIM uses, and `other` for the rest.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Records the expiry (notAfter, Unix seconds) of the certificate being served. Call
    /// again after every renewal or swap.
    pub fn set_certificate_expiry(&self, unix_secs: i64) {
        self.inner
            .certificate_expiry
            .store(unix_secs, Ordering::Relaxed);
    }

    /// Counts a connection refused because the bridge was at its connection cap.
    pub fn connection_refused(&self) {
        self.inner
            .connections_refused
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Records one answered request.
    fn observe(
        &self,
        route: &str,
        method: &'static str,
        status: u16,
        elapsed: std::time::Duration,
        error: Option<&ErrorKind>,
    ) {
        let stats = self.route_stats(route);
        if let Some(stats) = stats {
            increment(&stats.responses, (method, status));
            stats.latency.observe(
                elapsed.as_secs_f64(),
                u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
            );
        }
        if let Some(kind) = error {
            increment(&self.inner.scim_errors, (status, kind.label()));
        }
    }

    fn route_stats(&self, route: &str) -> Option<Arc<RouteStats>> {
        if let Some(s) = self.inner.routes.read().ok()?.get(route) {
            return Some(s.clone());
        }
        let mut routes = self.inner.routes.write().ok()?;
        Some(routes.entry(route.to_owned()).or_default().clone())
    }

    /// The registry in Prometheus' text exposition format (version 0.0.4), families and
    /// series in a stable order.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let routes: Vec<(String, Arc<RouteStats>)> = match self.inner.routes.read() {
            Ok(r) => {
                let mut v: Vec<_> = r.iter().map(|(k, s)| (k.clone(), s.clone())).collect();
                v.sort_by(|a, b| a.0.cmp(&b.0));
                v
            }
            Err(_) => Vec::new(),
        };

        family(
            &mut out,
            "keybridge_http_requests_total",
            "counter",
            "HTTP requests answered, by route template, method and status code.",
        );
        for (route, stats) in &routes {
            let mut series: Vec<((&str, u16), u64)> = match stats.responses.read() {
                Ok(m) => m
                    .iter()
                    .map(|(k, c)| (*k, c.load(Ordering::Relaxed)))
                    .collect(),
                Err(_) => Vec::new(),
            };
            series.sort();
            for ((method, status), n) in series {
                let _ = writeln!(
                    out,
                    "keybridge_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }

        family(
            &mut out,
            "keybridge_http_request_duration_seconds",
            "histogram",
            "Time from a request's head to its response's head, by route template.",
        );
        for (route, stats) in &routes {
            let route = escape(route);
            let mut cumulative = 0u64;
            for (i, count) in stats.latency.counts.iter().enumerate() {
                cumulative += count.load(Ordering::Relaxed);
                let le = BUCKETS
                    .get(i)
                    .map_or_else(|| "+Inf".to_owned(), |b| b.to_string());
                let _ = writeln!(
                    out,
                    "keybridge_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let sum = stats.latency.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "keybridge_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "keybridge_http_request_duration_seconds_count{{route=\"{route}\"}} {cumulative}"
            );
        }

        family(
            &mut out,
            "keybridge_scim_errors_total",
            "counter",
            "SCIM error responses, by status code and scimType (\"none\" when the error has none).",
        );
        let mut errors: Vec<((u16, &str), u64)> = match self.inner.scim_errors.read() {
            Ok(m) => m
                .iter()
                .map(|(k, c)| (*k, c.load(Ordering::Relaxed)))
                .collect(),
            Err(_) => Vec::new(),
        };
        errors.sort();
        for ((status, scim_type), n) in errors {
            let _ = writeln!(
                out,
                "keybridge_scim_errors_total{{status=\"{status}\",scim_type=\"{scim_type}\"}} {n}"
            );
        }

        family(
            &mut out,
            "keybridge_connections_refused_total",
            "counter",
            "Connections closed at once because the bridge was serving its maximum.",
        );
        let _ = writeln!(
            out,
            "keybridge_connections_refused_total {}",
            self.inner.connections_refused.load(Ordering::Relaxed)
        );

        let expiry = self.inner.certificate_expiry.load(Ordering::Relaxed);
        if expiry != 0 {
            family(
                &mut out,
                "keybridge_tls_certificate_expiry_timestamp_seconds",
                "gauge",
                "When the certificate being served expires (notAfter), in Unix seconds.",
            );
            let _ = writeln!(
                out,
                "keybridge_tls_certificate_expiry_timestamp_seconds {expiry}"
            );
        }

        family(
            &mut out,
            "keybridge_build_info",
            "gauge",
            "The running version.",
        );
        let _ = writeln!(
            out,
            "keybridge_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value with `\`, `"` and newlines escaped as the exposition format wants.
fn escape(value: &str) -> String {
    let mut s = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// `GET /metrics` (authenticated like `/health`).
pub async fn scrape(State(state): State<AppState>) -> Response {
    let mut resp = (StatusCode::OK, state.metrics.render()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

/// Marks a "no such endpoint" answer: it counts under the `unmatched` label even when a
/// catch-all route caught it (those make unknown SCIM paths authenticate first), so
/// unknown paths are told apart from real routes in the metrics.
#[derive(Clone, Copy)]
pub struct Unrouted;

/// Records every request that passes through it. Compose it outermost in the router so
/// it sees authentication failures and throttling too.
#[derive(Clone)]
pub struct MetricsLayer {
    metrics: Metrics,
}

impl MetricsLayer {
    pub fn new(metrics: Metrics) -> MetricsLayer {
        MetricsLayer { metrics }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct MetricsService<S> {
    inner: S,
    metrics: Metrics,
}

impl<S> Service<Request> for MetricsService<S>
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let start = Instant::now();
        // MatchedPath is an `Arc<str>` inside: cloning it does not copy the template.
        let route = req.extensions().get::<MatchedPath>().cloned();
        let method = method_label(req.method());
        // The clone that was made ready is the one to call (tower's contract).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let metrics = self.metrics.clone();
        Box::pin(async move {
            let resp = inner.call(req).await?;
            let elapsed = start.elapsed();
            let status = resp.status().as_u16();
            let route = match route {
                Some(ref r) if resp.extensions().get::<Unrouted>().is_none() => r.as_str(),
                _ => UNMATCHED,
            };
            metrics.observe(
                route,
                method,
                status,
                elapsed,
                resp.extensions().get::<ErrorKind>(),
            );
            // The request log line: the route template, never the raw path or query
            // (which carry people's names and emails), and never a header.
            tracing::debug!(
                route,
                method,
                status,
                micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
                "request"
            );
            Ok(resp)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn requests_are_counted_by_route_method_and_status_with_a_cumulative_histogram() {
        let m = Metrics::new();
        let ms = Duration::from_millis;
        m.observe("/scim/v2/Users/{id}", "GET", 200, ms(3), None);
        m.observe("/scim/v2/Users/{id}", "GET", 200, ms(30), None);
        m.observe(
            "/scim/v2/Users/{id}",
            "GET",
            404,
            ms(1),
            Some(&ErrorKind(None)),
        );
        m.observe(
            "/scim/v2/Users",
            "GET",
            400,
            ms(2),
            Some(&ErrorKind(Some(keybridge_scim::ScimType::InvalidFilter))),
        );
        let text = m.render();
        assert!(text.contains(
            "keybridge_http_requests_total{route=\"/scim/v2/Users/{id}\",method=\"GET\",status=\"200\"} 2\n"
        ), "{text}");
        assert!(text.contains(
            "keybridge_http_request_duration_seconds_bucket{route=\"/scim/v2/Users/{id}\",le=\"0.005\"} 2\n"
        ), "{text}");
        assert!(text.contains(
            "keybridge_http_request_duration_seconds_bucket{route=\"/scim/v2/Users/{id}\",le=\"+Inf\"} 3\n"
        ));
        assert!(text.contains(
            "keybridge_http_request_duration_seconds_count{route=\"/scim/v2/Users/{id}\"} 3\n"
        ));
        assert!(text.contains(
            "keybridge_scim_errors_total{status=\"400\",scim_type=\"invalidFilter\"} 1\n"
        ));
        assert!(text.contains("keybridge_scim_errors_total{status=\"404\",scim_type=\"none\"} 1\n"));
        assert!(!text.contains("keybridge_tls_certificate_expiry_timestamp_seconds"));
        m.set_certificate_expiry(1_900_000_000);
        assert!(m
            .render()
            .contains("keybridge_tls_certificate_expiry_timestamp_seconds 1900000000\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn every_sample_line_is_well_formed() {
        let m = Metrics::new();
        m.observe("/ping", "GET", 200, Duration::from_micros(10), None);
        m.connection_refused();
        for line in m.render().lines() {
            if line.starts_with('#') {
                assert!(
                    line.starts_with("# HELP ") || line.starts_with("# TYPE "),
                    "{line}"
                );
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("name and value");
            assert!(value.parse::<f64>().is_ok(), "{line}");
            let name = series.split('{').next().expect("name");
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{line}"
            );
        }
    }
}
