//! Copies the write-ahead log back into the database file on a thread of its own.
//!
//! SQLite's automatic checkpoint runs inside the COMMIT that takes the log past 1000
//! pages, on the single writer thread, and every queued write waits while it copies
//! pages and syncs the database file. Under a stream of new people the log passes 1000
//! pages many times a second, so the writer spent part of its time checkpointing. Here a
//! second connection runs PASSIVE checkpoints beside the writer (SQLite lets one
//! checkpoint run while another connection writes; neither waits for the other), at most
//! every [`INTERVAL`] while writes arrive, and once more when they stop.
//!
//! The writer keeps an automatic checkpoint at a much larger log size
//! ([`super::connection::WRITER_AUTOCHECKPOINT_PAGES`]). SQLite starts writing the log
//! from its beginning again only when a write transaction begins with the whole log
//! copied back, which under a steady stream of writes this thread rarely sees; so the
//! log grows to that size, and then the writer's own checkpoint, with nearly everything
//! already copied, finishes the job and lets the log start over. That is one writer-side
//! checkpoint per 10 000 pages instead of one per 1 000, each copying only what was
//! written in the last interval.
//!
//! Durability does not depend on checkpoints: a write is durable once the log holding it
//! is synced, which the writer's COMMIT does (`synchronous=FULL`).

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use rusqlite::Connection;

/// How often the log is copied back while writes keep coming. Long enough that a page
/// changed by many writes is copied once, short enough that the log stays a few MB.
pub const INTERVAL: Duration = Duration::from_millis(200);

/// The writer's side: says that a transaction was committed.
pub struct Checkpointer {
    commits: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread on `conn`, a read-write connection of its own.
    pub fn start(conn: Connection) -> Checkpointer {
        // One pending signal is all the thread needs: it checkpoints everything committed
        // by the time it runs.
        let (tx, rx) = crossbeam_channel::bounded(1);
        let thread = std::thread::Builder::new()
            .name("keybridge-checkpoint".into())
            .spawn(move || run(&conn, &rx))
            .map_err(|e| {
                // The writer's own automatic checkpoint still bounds the log.
                tracing::warn!(error = %e, "cannot start the checkpoint thread");
            })
            .ok();
        Checkpointer {
            commits: Some(tx),
            thread,
        }
    }

    /// Called after each COMMIT; never blocks. A full channel already holds a signal,
    /// and a closed one means the thread is gone (the writer's own checkpoint remains).
    pub fn committed(&self) {
        if let Some(tx) = &self.commits {
            let _ = tx.try_send(());
        }
    }

    /// Stops the thread after a last checkpoint, so that the writer's final one on close
    /// does not find it holding the checkpoint lock.
    pub fn stop(&mut self) {
        self.commits.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(conn: &Connection, commits: &Receiver<()>) {
    let mut last = Instant::now();
    // Waits for a commit, then lets INTERVAL pass since the last checkpoint (collecting
    // the commits made meanwhile), then copies the log.
    while commits.recv().is_ok() {
        let wake = last + INTERVAL;
        while commits.recv_deadline(wake).is_ok() {}
        checkpoint(conn);
        last = Instant::now();
    }
}

/// A PASSIVE checkpoint: copies what it can without waiting for readers or the writer.
fn checkpoint(conn: &Connection) {
    let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
        ))
    });
    match result {
        Ok((_busy, log, copied)) => {
            tracing::trace!(log, copied, "checkpointed the write-ahead log");
        }
        Err(e) => tracing::warn!(error = %e, "could not checkpoint the write-ahead log"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Store, StoreOptions, DB_FILE};
    use super::*;
    use crate::store::StoreError;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn what_was_written_reaches_the_database_file_without_the_writer_checkpointing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), StoreOptions::default()).expect("open");
        store
            .write(|conn| -> Result<(), StoreError> {
                conn.execute_batch("CREATE TABLE t (n INTEGER NOT NULL, pad TEXT NOT NULL)")?;
                Ok(())
            })
            .await
            .expect("create");
        // About 2 000 pages, one transaction each: fewer than the writer's own automatic
        // checkpoint waits for, so only this thread can have copied them.
        let pad = "x".repeat(4000);
        for n in 0..2_000_i64 {
            let pad = pad.clone();
            store
                .write(move |conn| -> Result<(), StoreError> {
                    conn.execute("INSERT INTO t (n, pad) VALUES (?1, ?2)", (n, pad))?;
                    Ok(())
                })
                .await
                .expect("insert");
        }
        let file_pages = || {
            std::fs::metadata(dir.path().join(DB_FILE))
                .map(|m| m.len() / 4096)
                .unwrap_or(0)
        };
        // Once writes stop, the last of them is copied within an interval or so.
        let deadline = Instant::now() + INTERVAL * 20;
        while file_pages() < 2_000 && Instant::now() < deadline {
            tokio::time::sleep(INTERVAL / 4).await;
        }
        assert!(
            file_pages() >= 2_000,
            "the database file holds {} pages",
            file_pages()
        );
        store.close().await;
    }
}
