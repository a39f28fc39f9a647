//! Opening connections with the pragmas and SQL functions every connection needs.

use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OpenFlags};

use super::StoreError;

/// Page cache per connection, in KiB. The writer gets more (it touches indexes on every
/// write); readers share the OS page cache, so a small private cache each keeps the
/// process small (the bridge should stay under 64 MB with 100 000 people). With 100 000
/// people the interior pages of every index fit in these, and a lookup reads its leaf
/// pages from the OS cache: halving them (8 → 4 and 2 → 1 MiB) cost no measurable
/// throughput and saved 8 MB at the peak.
const WRITER_CACHE_KIB: i64 = 4 * 1024;
const READER_CACHE_KIB: i64 = 1024;

/// Prepared statements kept per connection. rusqlite keeps 16 by default; one write runs
/// about a dozen distinct statements (transaction control, the uniqueness check, the
/// insert, its audit event, the rendering reads), and the writer as a whole well over 16,
/// so a mixed load evicted and re-parsed statements on the serial writer thread.
/// A statement costs a few KiB.
const WRITER_STATEMENTS: usize = 128;
const READER_STATEMENTS: usize = 64;

fn configure(conn: &Connection, cache_kib: i64, statements: usize) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(statements);
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    // A plan that does not depend on bound values. Without this, SQLite plans around the
    // value bound to `LIMIT ?` / `OFFSET ?` and marks the statement for re-preparation
    // whenever that parameter is bound again, which is on every execution: every page
    // and every `filter=` lookup parsed and planned its SELECT anew, 40% of a lookup's
    // instructions. Our plans never depend on those values.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // Case-insensitive SCIM comparisons need full Unicode case folding; SQLite's NOCASE
    // and lower() fold ASCII only.
    conn.create_scalar_function(
        "kb_fold",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let v: Option<String> = ctx.get(0)?;
            Ok(v.map(|s| caseless::default_case_fold_str(&s)))
        },
    )?;
    Ok(())
}

/// The writer's connection: WAL, and `synchronous=FULL` so that a committed write survives
/// power loss, not only a process crash.
pub fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    #[cfg(unix)]
    restrict_file(path)?;
    configure(&conn, WRITER_CACHE_KIB, WRITER_STATEMENTS)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)?;
    Ok(conn)
}

/// The log size at which the writer checkpoints by itself, in pages (SQLite's default is
/// 1000). The checkpoint thread normally keeps the log far below it; see checkpointer.rs.
pub const WRITER_AUTOCHECKPOINT_PAGES: i64 = 10_000;

/// The checkpoint thread's connection: read-write (a checkpoint writes the database
/// file), with a small cache (it reads pages from the log, not through its cache).
pub fn open_checkpointer(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn, READER_CACHE_KIB, 4)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

/// A read-only connection.
pub fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    configure(&conn, READER_CACHE_KIB, READER_STATEMENTS)?;
    Ok(conn)
}

#[cfg(unix)]
fn restrict_file(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|source| {
        StoreError::DataDir {
            path: path.to_owned(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::StatementStatus;

    /// How many times SQLite re-prepared a page query run with three different pages.
    fn reprepares(conn: &Connection) -> i32 {
        let mut stmt = conn
            .prepare_cached("SELECT n FROM t ORDER BY n LIMIT ?1 OFFSET ?2")
            .expect("prepare");
        for (limit, offset) in [(1, 0), (2, 1), (3, 0)] {
            let got: Vec<i64> = stmt
                .query_map([limit, offset], |r| r.get(0))
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows");
            assert_eq!(got.len(), limit as usize);
        }
        stmt.get_status(StatementStatus::RePrepare)
    }

    #[test]
    fn a_page_query_is_prepared_once_whatever_page_it_is_bound_to() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        let writer = open_writer(&path).expect("writer");
        writer
            .execute_batch("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3), (4);")
            .expect("table");
        assert_eq!(reprepares(&writer), 0);
        assert_eq!(reprepares(&open_reader(&path).expect("reader")), 0);
        // What the setting prevents: SQLite's default re-plans on every new LIMIT.
        let plain = Connection::open(&path).expect("plain");
        assert!(reprepares(&plain) > 0);
    }
}
