//! keybridge-loadgen: drives one or more SCIM 2.0 servers over plain HTTP
//! with many concurrent keep-alive connections and prints one JSON line per
//! server and measured scenario. The same binary, URLs and bodies are used for
//! every server, and with several servers each scenario is measured in
//! alternating turns, so that servers can be compared within one run.
//!
//! Bearer tokens come from environment variables (KB_TOKEN by default) or
//! files, never from the command line.

mod client;
mod plan;
mod scenarios;
mod turns;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::client::Target;
use crate::plan::Server;

/// Scenarios, in the order they run.
pub const ALL_SCENARIOS: [&str; 4] = ["filter", "page", "patch", "post"];

#[derive(Parser, Debug)]
#[command(
    name = "keybridge-loadgen",
    about = "Benchmark SCIM 2.0 servers: POST /Users, userName eq lookups, member PATCH, paging",
    after_help = "Several servers: repeat --url, and give --label, --token-env or --token-file, \
                  --concurrency and --rss-pid once for all servers or once per server, in the \
                  order of the URLs.\n\
                  Output: one JSON object per line on stdout (seeding lines have \"setup\": true).\n\
                  Exit status 1 when a scenario's error rate exceeds --max-error-rate, 2 on bad usage."
)]
pub struct Args {
    /// Base URL of a SCIM service, e.g. http://127.0.0.1:8080/scim/v2 (repeat for several servers)
    #[arg(long, required = true)]
    pub url: Vec<String>,
    /// Name of each server in the output
    #[arg(long)]
    pub label: Vec<String>,
    /// Environment variable holding each server's bearer token
    #[arg(long, default_value = "KB_TOKEN")]
    pub token_env: Vec<String>,
    /// File holding each server's bearer token (instead of the environment variable)
    #[arg(long)]
    pub token_file: Vec<PathBuf>,
    /// Scenarios to run, comma-separated: filter,page,patch,post
    #[arg(long, value_delimiter = ',', default_value = "filter,page,patch,post")]
    pub scenarios: Vec<String>,
    /// Populations at which lookups and paging are measured, comma-separated; the
    /// server is seeded up to each in turn (seeding is not measured)
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    pub populations: Vec<u64>,
    /// Concurrent connections of each measured scenario, for each server
    #[arg(long, default_value = "32")]
    pub concurrency: Vec<usize>,
    /// Concurrent connections while seeding (default: each server's --concurrency)
    #[arg(long)]
    pub seed_concurrency: Option<usize>,
    /// Seconds each measured scenario runs at most on each server, over all its turns
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Turns each measured scenario is split into per server; the servers take
    /// them in alternation (A B, B A, A B, ...)
    #[arg(long, default_value_t = 1)]
    pub turns: usize,
    /// Seconds of pause before each turn when there are several servers
    #[arg(long, default_value_t = 0.5)]
    pub turn_pause: f64,
    /// Requests each measured scenario sends at most
    #[arg(long, default_value_t = 1_000_000)]
    pub max_requests: u64,
    /// Seconds any one seeding step may take before the run fails
    #[arg(long, default_value_t = 1800.0)]
    pub setup_timeout: f64,
    /// Seconds to wait for any single answer
    #[arg(long, default_value_t = 300.0)]
    pub request_timeout: f64,
    /// Members of each small group for the member PATCH scenario
    #[arg(long, default_value_t = 100)]
    pub small_group: usize,
    /// How many small groups the small-group PATCHes are spread over
    #[arg(long, default_value_t = 200)]
    pub small_groups: usize,
    /// Members of the big group (default: the largest population)
    #[arg(long)]
    pub big_group: Option<usize>,
    /// Extra users, in no group, that the member PATCHes add (bounds those
    /// scenarios' request count: each add is a user not yet in the group)
    #[arg(long, default_value_t = 20_000)]
    pub patch_reserve: u64,
    /// Members per request while building the big group; 0: try one POST
    /// with all of them, and 1000 per request if the server refuses that
    #[arg(long, default_value_t = 0)]
    pub member_chunk: usize,
    /// Items per page in the paging scenario
    #[arg(long, default_value_t = 100)]
    pub page_size: u64,
    /// Check the content of every Nth successful answer
    #[arg(long, default_value_t = 16)]
    pub verify_every: u64,
    /// Fail when more than this fraction of a scenario's requests fail
    #[arg(long, default_value_t = 0.01)]
    pub max_error_rate: f64,
    /// Process id of each server, to report its memory (VmHWM, VmRSS) at checkpoints
    #[arg(long)]
    pub rss_pid: Vec<u32>,
    /// Tokio worker threads of the load generator
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Tag making this run's userNames unique (default: derived from the clock)
    #[arg(long)]
    pub run_id: Option<String>,
}

impl Args {
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration.max(0.1))
    }
}

/// The `k`-th of `n` servers' value of a per-server option: the one value
/// given for all servers, or the `k`-th of one value per server.
fn per_server<'a, T>(values: &'a [T], k: usize, n: usize, option: &str) -> Result<&'a T, String> {
    match values.len() {
        1 => Ok(&values[0]),
        len if len == n => Ok(&values[k]),
        len => Err(format!(
            "--{option} was given {len} times for {n} servers: give it once for all, or once per --url"
        )),
    }
}

fn read_token(args: &Args, k: usize, n: usize) -> Result<String, String> {
    let raw = if args.token_file.is_empty() {
        let var = per_server(&args.token_env, k, n, "token-env")?;
        std::env::var(var).map_err(|_| {
            format!("set the bearer token in the environment variable {var} (or pass --token-file)")
        })?
    } else {
        let path = per_server(&args.token_file, k, n, "token-file")?;
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?
    };
    let token = raw.trim().to_string();
    if token.is_empty() {
        return Err(format!("the bearer token of server {} is empty", k + 1));
    }
    Ok(token)
}

/// The servers named on the command line, each with its own connection pool.
fn servers(args: &Args) -> Result<Vec<Server>, String> {
    let n = args.url.len();
    let mut out: Vec<Server> = Vec::with_capacity(n);
    for (k, url) in args.url.iter().enumerate() {
        let label = match args.label.len() {
            0 if n == 1 => "server".to_string(),
            0 => format!("server{}", k + 1),
            len if len == n => args.label[k].clone(),
            len => {
                return Err(format!(
                    "--label was given {len} times for {n} servers: give it once per --url"
                ))
            }
        };
        if out.iter().any(|s| s.label == label) {
            return Err(format!("two servers are labelled {label:?}"));
        }
        let concurrency = *per_server(&args.concurrency, k, n, "concurrency")?;
        let rss_pid = if args.rss_pid.is_empty() {
            None
        } else {
            Some(*per_server(&args.rss_pid, k, n, "rss-pid")?)
        };
        let pool = concurrency.max(args.seed_concurrency.unwrap_or(0)).max(1);
        let token = read_token(args, k, n)?;
        out.push(Server {
            label,
            target: std::sync::Arc::new(Target::new(url, &token, pool)?),
            concurrency: concurrency.max(1),
            rss_pid,
        });
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args = Args::parse();
    for s in &args.scenarios {
        if !ALL_SCENARIOS.contains(&s.as_str()) {
            eprintln!("loadgen: unknown scenario {s:?}; known: {ALL_SCENARIOS:?}");
            return ExitCode::from(2);
        }
    }
    if args.populations.is_empty() || args.populations.iter().any(|&p| p < args.page_size.max(2)) {
        eprintln!(
            "loadgen: every population must be at least the page size ({})",
            args.page_size
        );
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("loadgen: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    // The connection pools belong to the runtime.
    let _entered = runtime.enter();
    let servers = match servers(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("loadgen: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(plan::run(args, servers)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: FAILED: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        let mut argv = vec!["keybridge-loadgen"];
        argv.extend_from_slice(extra);
        Args::parse_from(argv)
    }

    #[test]
    fn one_value_serves_every_server_and_one_per_server_goes_in_url_order() {
        assert_eq!(per_server(&[5], 1, 2, "concurrency"), Ok(&5));
        assert_eq!(per_server(&[32, 2], 1, 2, "concurrency"), Ok(&2));
        let err = per_server(&[1, 2, 3], 0, 2, "concurrency").expect_err("three for two");
        assert!(
            err.contains("--concurrency was given 3 times for 2 servers"),
            "{err}"
        );
    }

    #[test]
    fn servers_take_their_labels_and_concurrency_in_the_order_of_their_urls() {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let _entered = rt.enter();
        std::env::set_var("LOADGEN_TEST_TOKEN", "t0k3n");
        let a = args(&[
            "--url",
            "http://127.0.0.1:1/scim/v2",
            "--label",
            "keybridge",
            "--concurrency",
            "32",
            "--url",
            "http://127.0.0.1:2/scim/v2",
            "--label",
            "peer",
            "--concurrency",
            "2",
            "--token-env",
            "LOADGEN_TEST_TOKEN",
        ]);
        let s = servers(&a).expect("servers");
        let got: Vec<(&str, usize)> = s
            .iter()
            .map(|s| (s.label.as_str(), s.concurrency))
            .collect();
        assert_eq!(got, vec![("keybridge", 32), ("peer", 2)]);

        let same = args(&[
            "--url",
            "http://127.0.0.1:1",
            "--url",
            "http://127.0.0.1:2",
            "--label",
            "x",
            "--label",
            "x",
            "--token-env",
            "LOADGEN_TEST_TOKEN",
        ]);
        let err = servers(&same).err().expect("duplicate labels refused");
        assert!(err.contains("two servers are labelled \"x\""), "{err}");

        let unnamed = args(&[
            "--url",
            "http://127.0.0.1:1",
            "--url",
            "http://127.0.0.1:2",
            "--token-env",
            "LOADGEN_TEST_TOKEN",
        ]);
        let labels: Vec<String> = servers(&unnamed)
            .expect("servers")
            .into_iter()
            .map(|s| s.label)
            .collect();
        assert_eq!(labels, ["server1", "server2"]);
    }
}
