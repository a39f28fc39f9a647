//! Where the process's `tracing` events go: human-readable lines on the terminal (stderr)
//! and JSON lines in `DATA/logs/keybridge.YYYY-MM-DD.log`, a new file each day and only
//! the newest `keep_files` kept, so the logs cannot fill the disk over months.
//!
//! No secret reaches a log by construction (tokens live in `Secret`, whose `Debug` and
//! `Display` redact; `Authorization` is marked sensitive before any layer sees it).
//! Every line also passes through `redact` on its way out, so a secret that some
//! dependency logs by itself (say, at trace level) is masked all the same.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Daily files kept by default: two weeks of history.
pub const DEFAULT_KEEP_FILES: usize = 14;
/// The directory under the data directory that holds the log files.
pub const LOG_DIR: &str = "logs";
const FILE_PREFIX: &str = "keybridge";
const FILE_SUFFIX: &str = "log";

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot create the log directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open a log file in {path}: {source}")]
    File {
        path: PathBuf,
        source: tracing_appender::rolling::InitError,
    },
    #[error("logging was already set up in this process")]
    AlreadySet,
}

/// How to log.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// The data directory; the files go to its `logs/`. None: terminal only.
    pub data_dir: Option<PathBuf>,
    /// JSON lines on the terminal too (for log collectors that read stderr).
    pub terminal_json: bool,
    /// How many daily files to keep.
    pub keep_files: usize,
}

/// Keeps the file writer's thread alive; dropping it flushes what is queued.
#[must_use = "dropping the guard stops file logging"]
pub struct LogGuard {
    _file: WorkerGuard,
}

/// Sets up the process's logging. The level comes from `KEYBRIDGE_LOG` (an `EnvFilter`
/// directive such as `debug` or `keybridge=debug,hyper=info`), `info` by default.
pub fn init(config: &LogConfig) -> Result<Option<LogGuard>, LogError> {
    let filter =
        EnvFilter::try_from_env("KEYBRIDGE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let (file_layer, guard) = match &config.data_dir {
        Some(data_dir) => {
            let appender = file_appender(data_dir, config.keep_files)?;
            // Lines are written by a background thread so a slow disk never stalls a
            // request; when its queue is full, lines are dropped rather than waited for.
            let (writer, guard) = tracing_appender::non_blocking(Redacting(appender));
            let layer = tracing_subscriber::fmt::layer()
                .json()
                .with_ansi(false)
                .with_writer(writer);
            (Some(layer), Some(LogGuard { _file: guard }))
        }
        None => (None, None),
    };
    let stderr = || Redacting(std::io::stderr());
    let ansi = std::io::stderr().is_terminal();
    let terminal_json = config.terminal_json.then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .with_ansi(false)
            .with_writer(stderr)
    });
    let terminal_text = (!config.terminal_json).then(|| {
        tracing_subscriber::fmt::layer()
            .with_ansi(ansi)
            .with_writer(stderr)
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(terminal_json)
        .with(terminal_text)
        .try_init()
        .map_err(|_| LogError::AlreadySet)?;
    Ok(guard)
}

/// The daily-rotating appender in `data_dir/logs`, pruned to `keep_files` files.
fn file_appender(data_dir: &Path, keep_files: usize) -> Result<RollingFileAppender, LogError> {
    let dir = data_dir.join(LOG_DIR);
    create_private_dir(&dir).map_err(|source| LogError::Dir {
        path: dir.clone(),
        source,
    })?;
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix(FILE_SUFFIX)
        .max_log_files(keep_files.max(1))
        .build(&dir)
        .map_err(|source| LogError::File { path: dir, source })
}

/// Logs name people and addresses: owner-only, like the data directory itself.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// A writer that masks secrets in what passes through it. `tracing`'s formatters write
/// one whole event per call, so a secret is never split across two calls.
pub struct Redacting<W>(pub W);

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_all(&redact(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Characters of our tokens after the `kb_` prefix (base64url).
fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Where a credential after `Bearer ` ends in a log line (text or JSON).
fn ends_credential(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b',' | b'\\' | b';' | b'}' | b')')
}

/// Whether the word after `Bearer ` is a credential rather than prose ("bearer tokens
/// cross the network"): credentials are long, or mix in digits, capitals or symbols.
fn looks_like_credential(word: &[u8]) -> bool {
    word.len() >= 20 || (word.len() >= 6 && !word.iter().all(u8::is_ascii_lowercase))
}

/// The shortest run after `kb_` taken for a token (ours have 43 characters); shorter
/// runs are words like `kb_version`.
const MIN_TOKEN_TAIL: usize = 16;

/// `line` with every Keybridge token (`kb_…`) and every `Bearer …` credential replaced by
/// `[redacted]`.
pub fn redact(line: &[u8]) -> Cow<'_, [u8]> {
    let has = |needle: &[u8]| {
        line.windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    };
    if !has(b"kb_") && !has(b"bearer") {
        return Cow::Borrowed(line);
    }
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let rest = &line[i..];
        if rest.starts_with(b"kb_") {
            let tail = rest[3..].iter().take_while(|&&b| is_token_char(b)).count();
            if tail >= MIN_TOKEN_TAIL {
                out.extend_from_slice(b"kb_[redacted]");
                i += 3 + tail;
                continue;
            }
        }
        if rest.len() > 7 && rest[..6].eq_ignore_ascii_case(b"bearer") && rest[6] == b' ' {
            let spaces = rest[6..].iter().take_while(|&&b| b == b' ').count();
            let credential = &rest[6 + spaces..];
            let credential = &credential[..credential
                .iter()
                .take_while(|&&b| !ends_credential(b))
                .count()];
            if looks_like_credential(credential) {
                out.extend_from_slice(&rest[..6 + spaces]);
                out.extend_from_slice(b"[redacted]");
                i += 6 + spaces + credential.len();
                continue;
            }
        }
        out.push(line[i]);
        i += 1;
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        String::from_utf8(redact(s.as_bytes()).into_owned()).expect("utf-8")
    }

    #[test]
    fn tokens_and_bearer_credentials_are_masked() {
        let token = "kb_Q2hhbmdlIHRoaXMgdG9rZW4gd2hlbiBpdCBsZWFrcyE_-abc";
        assert_eq!(r(&format!("token={token} ok")), "token=kb_[redacted] ok");
        assert_eq!(
            r(r#"{"authorization":"Bearer abc.def/ghi=="}"#),
            r#"{"authorization":"Bearer [redacted]"}"#
        );
        assert_eq!(
            r("authorization: bearer   s3cr3t, next"),
            "authorization: bearer   [redacted], next"
        );
        assert_eq!(
            r("é kb_short stays, Bearer realm"),
            "é kb_short stays, Bearer realm"
        );
        assert_eq!(
            r("plain HTTP: bearer tokens cross the network"),
            "plain HTTP: bearer tokens cross the network"
        );
        assert_eq!(r("Bearer abcdefghijklmnopqrstuvwxyz"), "Bearer [redacted]");
    }

    #[test]
    fn lines_without_secrets_are_not_copied() {
        assert!(matches!(
            redact(b"GET /scim/v2/Users 200"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn old_log_files_beyond_the_limit_are_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let logs = dir.path().join(LOG_DIR);
        std::fs::create_dir_all(&logs).expect("mkdir");
        for day in 1..=20 {
            std::fs::write(logs.join(format!("keybridge.2020-01-{day:02}.log")), "{}\n")
                .expect("write");
        }
        std::fs::write(logs.join("unrelated.txt"), "keep me").expect("write");
        let mut appender = file_appender(dir.path(), 5).expect("appender");
        appender.write_all(b"{\"msg\":\"hello\"}\n").expect("write");
        let names: Vec<String> = std::fs::read_dir(&logs)
            .expect("list")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        let log_files = names.iter().filter(|n| n.ends_with(".log")).count();
        assert!(log_files <= 5, "{names:?}");
        assert!(names.iter().any(|n| n == "unrelated.txt"));
    }
}
