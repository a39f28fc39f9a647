//! Measuring one scenario on several servers in alternating turns.
//!
//! The servers of a comparison share one machine, whose speed drifts over a
//! run of half an hour (other work, the CPU's clock, the page cache): over
//! five full runs the same build's throughput moved by 10-30% between runs.
//! Measured one after the other, each server gets whatever speed the machine
//! had during its own part of the run, and the ratio moves with it. Measured
//! in short alternating turns, every server sees the same drift, so it
//! cancels out of the ratio.

use std::sync::Arc;
use std::time::Duration;

use crate::client::{run as run_load, Load, Outcome, Scenario, Target};

/// One server's part in a measured scenario.
pub struct Entrant<S> {
    pub target: Arc<Target>,
    pub scenario: Arc<S>,
    pub concurrency: usize,
}

/// How a scenario is split into turns.
#[derive(Clone, Copy)]
pub struct Schedule {
    /// Turns per server.
    pub turns: usize,
    /// Time bound of one turn.
    pub turn: Duration,
    /// Unmeasured pause before each turn, so that one server's background work
    /// after its turn (a WAL checkpoint, a garbage collection) does not run into
    /// the next server's turn.
    pub pause: Duration,
    /// Requests each server sends at most, over all its turns.
    pub max_requests: u64,
    pub request_timeout: Duration,
    pub verify_every: u64,
}

/// What one server did over all its turns of a scenario.
pub struct Measured {
    pub total: Outcome,
    /// Throughput of each turn, in the order the turns ran.
    pub turn_rps: Vec<f64>,
}

/// The order in which servers take their turns: forwards in even rounds and
/// backwards in odd ones (A B, B A, A B, ...), so that no server always runs
/// right after the same other one.
pub fn order(servers: usize, turns: usize) -> Vec<usize> {
    (0..turns)
        .flat_map(|round| {
            (0..servers).map(move |k| if round % 2 == 0 { k } else { servers - 1 - k })
        })
        .collect()
}

/// Runs each entrant's scenario in `schedule.turns` turns, alternating between
/// the entrants. A turn goes on with the request numbers where the entrant's
/// previous turn stopped, so no request is sent twice; an entrant that has sent
/// `max_requests` (or its scenario's capacity) sits its remaining turns out.
pub async fn alternate<S: Scenario>(entrants: &[Entrant<S>], schedule: &Schedule) -> Vec<Measured> {
    let mut sent = vec![0u64; entrants.len()];
    let mut turns: Vec<Vec<Outcome>> = entrants.iter().map(|_| Vec::new()).collect();
    for k in order(entrants.len(), schedule.turns.max(1)) {
        let e = &entrants[k];
        let max = schedule.max_requests.min(e.scenario.capacity());
        if sent[k] >= max {
            continue;
        }
        tokio::time::sleep(schedule.pause).await;
        let out = run_load(
            Arc::clone(&e.target),
            Arc::clone(&e.scenario),
            Load {
                first: sent[k],
                concurrency: e.concurrency,
                duration: schedule.turn,
                max_requests: max,
                request_timeout: schedule.request_timeout,
                verify_every: schedule.verify_every,
                progress: false,
            },
        )
        .await;
        sent[k] += out.requests;
        turns[k].push(out);
    }
    turns
        .into_iter()
        .map(|t| Measured {
            turn_rps: t.iter().map(Outcome::rps).collect(),
            total: Outcome::combine(t),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Reply, Req};
    use http_body_util::Full;
    use hyper::body::Bytes;
    use hyper::service::service_fn;
    use hyper::{Method, Response};
    use hyper_util::rt::TokioIo;
    use std::sync::Mutex;
    use tokio::net::TcpListener;

    #[test]
    fn turns_alternate_and_reverse_every_round() {
        assert_eq!(order(2, 3), vec![0, 1, 1, 0, 0, 1]);
        assert_eq!(order(3, 2), vec![0, 1, 2, 2, 1, 0]);
        assert_eq!(order(1, 3), vec![0, 0, 0]);
    }

    /// Every request a test server received: (server, request number).
    type Log = Arc<Mutex<Vec<(usize, u64)>>>;

    /// A plain HTTP server on loopback that answers 200 to everything and logs
    /// the request number at the end of the path.
    async fn serve(server: usize, log: Log) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let j = req
                            .uri()
                            .path()
                            .rsplit('/')
                            .next()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(u64::MAX);
                        log.lock().expect("log").push((server, j));
                        async move {
                            // Slow enough that a short turn holds several requests.
                            tokio::time::sleep(Duration::from_millis(2)).await;
                            Ok::<_, std::convert::Infallible>(Response::new(Full::new(
                                Bytes::from_static(b"{}"),
                            )))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        format!("http://{addr}")
    }

    struct Numbered {
        capacity: u64,
    }

    impl Scenario for Numbered {
        fn request(&self, j: u64) -> Req {
            Req {
                method: Method::GET,
                path: format!("/r/{j}"),
                body: None,
            }
        }
        fn verify(&self, _j: u64, _reply: &Reply) -> Result<(), String> {
            Ok(())
        }
        fn capacity(&self) -> u64 {
            self.capacity
        }
    }

    fn schedule(turns: usize, max_requests: u64) -> Schedule {
        Schedule {
            turns,
            turn: Duration::from_millis(150),
            pause: Duration::from_millis(10),
            max_requests,
            request_timeout: Duration::from_secs(5),
            verify_every: 1,
        }
    }

    async fn entrants(log: &Log, capacities: [u64; 2]) -> Vec<Entrant<Numbered>> {
        let mut out = Vec::new();
        for (k, capacity) in capacities.into_iter().enumerate() {
            let url = serve(k, Arc::clone(log)).await;
            out.push(Entrant {
                target: Arc::new(Target::new(&url, "t", 4).expect("target")),
                scenario: Arc::new(Numbered { capacity }),
                concurrency: 2 + 2 * k,
            });
        }
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_server_gets_every_request_number_once_in_alternating_turns() {
        let log: Log = Arc::default();
        let entrants = entrants(&log, [u64::MAX, u64::MAX]).await;
        let measured = alternate(&entrants, &schedule(4, u64::MAX)).await;

        let log = log.lock().expect("log").clone();
        for (k, m) in measured.iter().enumerate() {
            assert_eq!(m.turn_rps.len(), 4);
            assert!(m.turn_rps.iter().all(|&r| r > 0.0), "{:?}", m.turn_rps);
            assert_eq!(m.total.errors, 0);
            let mut got: Vec<u64> = log.iter().filter(|e| e.0 == k).map(|e| e.1).collect();
            got.sort_unstable();
            let want: Vec<u64> = (0..m.total.requests).collect();
            assert_eq!(got, want, "server {k}: each number once, none skipped");
        }
        // Turns in the order A B B A A B B A: the log changes server 4 times.
        let switches = log.windows(2).filter(|w| w[0].0 != w[1].0).count();
        assert_eq!(switches, 4, "{log:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_server_stops_at_its_scenarios_capacity_and_sits_out_the_rest() {
        let log: Log = Arc::default();
        let entrants = entrants(&log, [7, u64::MAX]).await;
        let measured = alternate(&entrants, &schedule(3, 1_000)).await;

        assert_eq!(measured[0].total.requests, 7);
        assert_eq!(measured[0].turn_rps.len(), 1, "the later turns are skipped");
        assert_eq!(measured[1].turn_rps.len(), 3);
        assert!(measured[1].total.requests <= 1_000);
        let log = log.lock().expect("log");
        let mut first: Vec<u64> = log.iter().filter(|e| e.0 == 0).map(|e| e.1).collect();
        first.sort_unstable();
        assert_eq!(first, (0..7).collect::<Vec<_>>());
    }
}
