//! keybridge-loadgen: drives a SCIM 2.0 server over plain HTTP with many
//! concurrent keep-alive connections and prints one JSON line per measured
//! scenario. The same binary, URLs and bodies are used for every server, so
//! that runs against Keybridge and against a peer can be compared.
//!
//! The bearer token comes from an environment variable (KB_TOKEN by default)
//! or a file, never from the command line.

mod client;
mod plan;
mod scenarios;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// Scenarios, in the order they run.
pub const ALL_SCENARIOS: [&str; 4] = ["filter", "page", "patch", "post"];

#[derive(Parser, Debug)]
#[command(
    name = "keybridge-loadgen",
    about = "Benchmark a SCIM 2.0 server: POST /Users, userName eq lookups, member PATCH, paging",
    after_help = "Output: one JSON object per line on stdout (seeding lines have \"setup\": true).\n\
                  Exit status 1 when a scenario's error rate exceeds --max-error-rate, 2 on bad usage."
)]
pub struct Args {
    /// Base URL of the SCIM service, e.g. http://127.0.0.1:8080/scim/v2
    #[arg(long)]
    pub url: String,
    /// Name of the server in the output
    #[arg(long, default_value = "server")]
    pub label: String,
    /// Environment variable holding the bearer token
    #[arg(long, default_value = "KB_TOKEN")]
    pub token_env: String,
    /// File holding the bearer token (instead of the environment variable)
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Scenarios to run, comma-separated: filter,page,patch,post
    #[arg(long, value_delimiter = ',', default_value = "filter,page,patch,post")]
    pub scenarios: Vec<String>,
    /// Populations at which lookups and paging are measured, comma-separated; the
    /// server is seeded up to each in turn (seeding is not measured)
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    pub populations: Vec<u64>,
    /// Concurrent connections of each measured scenario
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Concurrent connections while seeding
    #[arg(long)]
    pub seed_concurrency: Option<usize>,
    /// Seconds each measured scenario runs at most
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
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
    /// Process id of the server, to report its memory (VmHWM, VmRSS) at checkpoints
    #[arg(long)]
    pub rss_pid: Option<u32>,
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

fn read_token(args: &Args) -> Result<String, String> {
    let raw = match &args.token_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?,
        None => std::env::var(&args.token_env).map_err(|_| {
            format!(
                "set the bearer token in the environment variable {} (or pass --token-file)",
                args.token_env
            )
        })?,
    };
    let token = raw.trim().to_string();
    if token.is_empty() {
        return Err("the bearer token is empty".to_string());
    }
    Ok(token)
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
    let token = match read_token(&args) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("loadgen: {e}");
            return ExitCode::from(2);
        }
    };
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
    match runtime.block_on(plan::run(args, token)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: FAILED: {e}");
            ExitCode::from(1)
        }
    }
}
