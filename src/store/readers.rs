//! A small, fixed pool of read-only connections, each owned by its own thread. WAL lets
//! them read while the writer writes.
//!
//! Why threads of our own rather than tokio's blocking pool: with `spawn_blocking` a new
//! job often arrived while the previous one's thread was still finishing, so the pool
//! grew to a dozen or more threads under load, each with its own allocator caches and
//! stack — about 40 MB of extra resident memory at 100 000 people. Here the number of
//! threads is the number of connections, and each connection's page cache stays warm on
//! one thread. A slow query still never stalls the reactor: the async side only awaits
//! the answer.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::{connection, StoreError};

type Job = Box<dyn FnOnce(&Connection) + Send>;

/// The sending side of the pool; cheap to clone. The threads end (and close their
/// connections) when the last clone is dropped.
#[derive(Clone)]
pub struct Readers {
    jobs: Arc<crossbeam_channel::Sender<Job>>,
}

impl Readers {
    pub(super) fn open(path: &Path, count: usize) -> Result<Readers, StoreError> {
        let conns = (0..count)
            .map(|_| connection::open_reader(path))
            .collect::<Result<Vec<_>, _>>()?;
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        for (i, conn) in conns.into_iter().enumerate() {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("keybridge-reader-{i}"))
                .spawn(move || serve(conn, rx))
                .map_err(|e| StoreError::Internal(format!("cannot start a reader thread: {e}")))?;
        }
        Ok(Readers { jobs: Arc::new(tx) })
    }

    pub(super) async fn read<T, E, F>(&self, job: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn| {
            // A read transaction gives the job one consistent snapshot (a count and a
            // page agree with each other).
            let result = match conn.execute_batch("BEGIN") {
                Ok(()) => {
                    let r = job(conn);
                    let _ = conn.execute_batch("COMMIT");
                    r
                }
                Err(e) => Err(E::from(e.into())),
            };
            let _ = reply.send(result);
        });
        self.jobs
            .send(job)
            .map_err(|_| E::from(StoreError::Closed))?;
        answer.await.map_err(|_| E::from(StoreError::Abandoned))?
    }
}

/// One reader thread: runs jobs until the pool is dropped. A job that panics loses its
/// answer (the caller sees "abandoned") but not the thread or its connection.
fn serve(conn: Connection, jobs: crossbeam_channel::Receiver<Job>) {
    while let Ok(job) = jobs.recv() {
        if catch_unwind(AssertUnwindSafe(|| job(&conn))).is_err() {
            tracing::error!("a read job panicked; its answer was dropped");
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Store, StoreOptions};
    use super::*;

    #[tokio::test]
    async fn reads_run_on_the_pool_and_a_panicking_job_leaves_it_usable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(
            dir.path(),
            StoreOptions {
                readers: 2,
                ..StoreOptions::default()
            },
        )
        .expect("open");
        let answer: Result<(), StoreError> = store
            .read(|_conn| -> Result<(), StoreError> { panic!("a bug in a read job") })
            .await;
        assert!(matches!(answer, Err(StoreError::Abandoned)));
        // Both threads still answer, inside a fresh transaction each time.
        let mut handles = Vec::new();
        for _ in 0..8 {
            let store = store.clone();
            handles.push(tokio::spawn(async move {
                store
                    .read(|conn| -> Result<bool, StoreError> { Ok(!conn.is_autocommit()) })
                    .await
            }));
        }
        for h in handles {
            assert!(h.await.expect("join").expect("read"));
        }
    }
}
