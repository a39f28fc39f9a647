//! The SQLite store: one file in the data directory, WAL, one writer thread that commits
//! queued writes together (group commit), and a small pool of read connections.
//!
//! Invariant: a write is acknowledged (its future resolves) only after the COMMIT that made
//! it durable has returned. Nothing above this module opens a connection.

mod checkpointer;
mod connection;
mod migrations;
mod readers;
mod writer;

pub mod backup;
pub mod events;
pub mod groups;
pub mod invitations;
pub mod lock;
pub mod mappings;
pub mod people;
pub mod search;
pub mod settings;
pub mod sql_filter;
pub mod sso;
pub mod tokens;

use std::path::{Path, PathBuf};

pub use readers::Readers;
pub use writer::{abandon_transaction, Writer};

/// What can go wrong below the directory.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the database at {path} was written by a newer Keybridge (schema version {found}, this one knows {known}); upgrade Keybridge")]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("the store is shut down")]
    Closed,
    #[error("the write was not carried out (the store failed to start a transaction or the write crashed); see the log")]
    Abandoned,
    #[error("a stored record is damaged: {0}")]
    Corrupt(String),
    #[error("the write failed inside the store: {0}")]
    Internal(String),
}

/// The database file name inside the data directory.
pub const DB_FILE: &str = "keybridge.db";

/// Tuning that tests and the benchmark may change.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub readers: usize,
    /// How many queued writes one transaction may carry.
    pub max_batch: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            readers: 4,
            max_batch: 256,
        }
    }
}

/// A handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    writer: Writer,
    readers: Readers,
    path: PathBuf,
}

impl Store {
    /// Opens (creating and migrating if needed) the store in `data_dir`.
    pub fn open(data_dir: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        create_private_dir(data_dir)?;
        let path = data_dir.join(DB_FILE);
        let mut conn = connection::open_writer(&path)?;
        migrations::migrate(&mut conn, &path)?;
        let readers = Readers::open(&path, options.readers.max(1))?;
        let checkpointer = checkpointer::Checkpointer::start(connection::open_checkpointer(&path)?);
        let writer = Writer::start(conn, checkpointer, options.max_batch.max(1));
        Ok(Store {
            writer,
            readers,
            path,
        })
    }

    /// Runs `job` in the writer's transaction; resolves after COMMIT.
    pub async fn write<T, E, F>(&self, job: F) -> Result<T, E>
    where
        F: FnOnce(&rusqlite::Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.writer.write(job).await
    }

    /// Runs `job` on a read connection (a consistent snapshot for its duration).
    pub async fn read<T, E, F>(&self, job: F) -> Result<T, E>
    where
        F: FnOnce(&rusqlite::Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.readers.read(job).await
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops accepting writes, finishes the queued ones and waits for the writer thread.
    pub async fn close(&self) {
        self.writer.close().await;
    }
}

/// Creates `dir` (and parents) readable by the owner only.
pub fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    let err = |source| StoreError::DataDir {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    Ok(())
}

/// Runs one fixed statement (transaction control) through the connection's statement
/// cache: every write runs a few of these on the single writer thread, and parsing them
/// each time was a measurable share of its time.
fn run_fixed(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Runs `f` inside a savepoint: its writes are kept if it returns `Ok`, undone otherwise.
pub fn in_savepoint<T, E>(
    conn: &rusqlite::Connection,
    f: impl FnOnce(&rusqlite::Connection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    let run = |sql: &str| run_fixed(conn, sql).map_err(|e| E::from(e.into()));
    run("SAVEPOINT op")?;
    match f(conn) {
        Ok(v) => {
            run("RELEASE op")?;
            Ok(v)
        }
        Err(e) => {
            run("ROLLBACK TO op")?;
            run("RELEASE op")?;
            Err(e)
        }
    }
}

/// A JSON value as compact text, written straight into a buffer: `Value`'s `Display`
/// goes through the formatting machinery one piece at a time, which showed as a tenth of
/// a POST's instructions. A `Value` always serialises (its keys are strings).
pub fn json_text(value: &serde_json::Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| value.to_string())
}

/// The current time as stored: RFC 3339, UTC, milliseconds, fixed width so that text
/// order is time order.
pub fn now_timestamp() -> String {
    format_timestamp(time::OffsetDateTime::now_utc())
}

/// Formats an instant the way the store keeps it. Every write stamps one or two, so the
/// digits are written directly rather than through `format!`.
pub fn format_timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    if let Ok(year) = u16::try_from(t.year()) {
        if year <= 9999 {
            let mut out = String::with_capacity(24);
            let mut digits = |n: u16, width: u32, then: char| {
                for i in (0..width).rev() {
                    let d = (n / 10u16.pow(i)) % 10;
                    out.push(char::from(b'0' + d as u8));
                }
                out.push(then);
            };
            digits(year, 4, '-');
            digits(u16::from(u8::from(t.month())), 2, '-');
            digits(u16::from(t.day()), 2, 'T');
            digits(u16::from(t.hour()), 2, ':');
            digits(u16::from(t.minute()), 2, ':');
            digits(u16::from(t.second()), 2, '.');
            digits(t.millisecond(), 3, 'Z');
            return out;
        }
    }
    formatted(t)
}

/// The same text through `format!`: for years the fast path does not cover (before year
/// 0), and the reference its test holds it to.
fn formatted(t: time::OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn timestamps_are_what_format_prints_for_every_field_and_year() {
        let reference = |t: time::OffsetDateTime| formatted(t.to_offset(time::UtcOffset::UTC));
        let mut t = datetime!(2026-11-29 17:00:00.007 UTC);
        for _ in 0..2000 {
            assert_eq!(format_timestamp(t), reference(t));
            t += time::Duration::milliseconds(987_654_321);
        }
        for t in [
            datetime!(0000-01-01 00:00:00 UTC),
            datetime!(0999-12-31 23:59:59.999 UTC),
            datetime!(9999-12-31 23:59:59.999 UTC),
            datetime!(2026-03-01 01:02:03.4 +05:30),
        ] {
            assert_eq!(format_timestamp(t), reference(t));
        }
        assert_eq!(
            format_timestamp(datetime!(2026-03-01 01:02:03.4 +05:30)),
            "2026-02-28T19:32:03.400Z"
        );
    }
}
