//! The single writer: a thread that owns the write connection, takes queued jobs, runs as
//! many as are waiting in one `BEGIN IMMEDIATE` transaction, and answers each job only
//! after COMMIT. Durability (`synchronous=FULL`) then costs one fsync per batch, not per
//! request.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::checkpointer::Checkpointer;
use super::{run_fixed, StoreError};

/// What a job hands back to the writer: called with the batch's commit outcome.
type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Completion + Send>;

/// The sending side of the writer; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    sender: Arc<Mutex<Option<crossbeam_channel::Sender<Job>>>>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Writer {
    pub(super) fn start(conn: Connection, checkpointer: Checkpointer, max_batch: usize) -> Writer {
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        let thread = std::thread::Builder::new()
            .name("keybridge-writer".into())
            .spawn(move || run(conn, checkpointer, rx, max_batch))
            .ok();
        Writer {
            sender: Arc::new(Mutex::new(Some(tx))),
            thread: Arc::new(Mutex::new(thread)),
        }
    }

    pub(super) async fn write<T, E, F>(&self, job: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn| {
            let result = job(conn);
            Box::new(move |commit: Result<(), StoreError>| {
                let _ = reply.send(match commit {
                    Ok(()) => result,
                    Err(e) => Err(E::from(e)),
                });
            })
        });
        {
            let guard = self
                .sender
                .lock()
                .map_err(|_| E::from(StoreError::Closed))?;
            let sender = guard.as_ref().ok_or(E::from(StoreError::Closed))?;
            sender.send(job).map_err(|_| E::from(StoreError::Closed))?;
        }
        answer.await.map_err(|_| E::from(StoreError::Abandoned))?
    }

    /// How many jobs wait for the writer thread.
    #[cfg(test)]
    fn queued(&self) -> usize {
        self.sender
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(crossbeam_channel::Sender::len))
            .unwrap_or(0)
    }

    /// Closes the queue; the thread finishes what was queued, then exits.
    pub(super) async fn close(&self) {
        if let Ok(mut guard) = self.sender.lock() {
            guard.take();
        }
        let handle = self.thread.lock().ok().and_then(|mut g| g.take());
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }
}

fn run(
    conn: Connection,
    mut checkpointer: Checkpointer,
    rx: crossbeam_channel::Receiver<Job>,
    max_batch: usize,
) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&conn, batch);
        checkpointer.committed();
    }
    // WAL checkpoint on a clean shutdown keeps the main file current for backups.
    checkpointer.stop();
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
}

fn run_batch(conn: &Connection, batch: Vec<Job>) {
    let mut jobs = batch.into_iter();
    if !begin(conn, jobs.len()) {
        return;
    }
    let mut carried: Vec<Completion> = Vec::with_capacity(jobs.len());
    while let Some(job) = jobs.next() {
        carried.push(run_job(conn, job));
        if conn.is_autocommit() {
            // The transaction is gone: a job panicked or gave up part-way (see
            // `abandon_transaction`), or SQLite rolled it back itself after an I/O error
            // or a full disk. Nothing it carried was stored; the jobs still queued get a
            // transaction of their own. Without this check they would run in autocommit
            // mode, each stored at once, and then be told that the COMMIT failed.
            for completion in carried.drain(..) {
                completion(Err(StoreError::Abandoned));
            }
            if !begin(conn, jobs.len()) {
                return;
            }
        }
    }
    let outcome = match run_fixed(conn, "COMMIT") {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = run_fixed(conn, "ROLLBACK");
            Err(e.to_string())
        }
    };
    for completion in carried {
        completion(outcome.clone().map_err(StoreError::Internal));
    }
}

/// Starts the batch's transaction; on failure the `waiting` jobs are dropped, which
/// answers each caller with "abandoned".
fn begin(conn: &Connection, waiting: usize) -> bool {
    match run_fixed(conn, "BEGIN IMMEDIATE") {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, jobs = waiting, "could not begin a write transaction");
            false
        }
    }
}

/// Runs one job. A job has no savepoint of its own: opening one per job made SQLite copy
/// every page the job touched that an earlier job of the batch had already changed, a
/// tenth of the writer's time. A job that must undo its own writes when a rule rejects
/// it uses [`super::in_savepoint`]; one that panics takes the whole transaction with it.
fn run_job(conn: &Connection, job: Job) -> Completion {
    match catch_unwind(AssertUnwindSafe(|| job(conn))) {
        Ok(completion) => completion,
        Err(_) => {
            tracing::error!("a write job panicked; the transaction it shared was rolled back");
            abandon_transaction(conn);
            Box::new(|_| {})
        }
    }
}

/// Rolls back the writer's whole transaction: for a job that cannot undo its own partial
/// writes. The writer notices (the connection is back in autocommit mode) and answers
/// every job of the transaction "not carried out".
pub fn abandon_transaction(conn: &Connection) {
    if !conn.is_autocommit() {
        if let Err(e) = run_fixed(conn, "ROLLBACK") {
            tracing::error!(error = %e, "could not roll back a write transaction");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use super::super::{Store, StoreOptions};
    use super::*;

    async fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), StoreOptions::default()).expect("open");
        store
            .write(|conn| -> Result<(), StoreError> {
                conn.execute_batch("CREATE TABLE t (n INTEGER NOT NULL)")?;
                Ok(())
            })
            .await
            .expect("create a table");
        (dir, store)
    }

    type TestJob = Box<dyn FnOnce(&Connection) -> Result<(), StoreError> + Send>;

    fn insert(n: i64) -> impl FnOnce(&Connection) -> Result<(), StoreError> + Send + 'static {
        move |conn| {
            conn.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
            Ok(())
        }
    }

    async fn stored(store: &Store) -> Vec<i64> {
        store
            .read(|conn| -> Result<Vec<i64>, StoreError> {
                let mut stmt = conn.prepare("SELECT n FROM t ORDER BY n")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
            .expect("read")
    }

    /// Holds the writer in a job until `queued` more jobs wait behind it, so that those
    /// run as one batch; then runs `jobs` and returns their answers in order.
    async fn one_batch(store: &Store, jobs: Vec<TestJob>) -> Vec<Result<(), StoreError>> {
        let (release, hold) = mpsc::channel::<()>();
        let (running, started) = tokio::sync::oneshot::channel::<()>();
        let gate = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .write(move |_conn| -> Result<(), StoreError> {
                        let _ = running.send(());
                        let _ = hold.recv_timeout(Duration::from_secs(10));
                        Ok(())
                    })
                    .await
            }
        });
        started.await.expect("the writer runs the gate");
        // One at a time, so that they queue in this order.
        let mut answers = Vec::new();
        for (i, job) in jobs.into_iter().enumerate() {
            let queue = store.clone();
            answers.push(tokio::spawn(async move { queue.write(job).await }));
            let deadline = Instant::now() + Duration::from_secs(10);
            while store.writer.queued() <= i && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            assert_eq!(store.writer.queued(), i + 1, "queued behind the gate");
        }
        let _ = release.send(());
        gate.await.expect("join").expect("gate");
        let mut out = Vec::new();
        for a in answers {
            out.push(a.await.expect("join"));
        }
        out
    }

    /// `middle` between the inserts of 1 and 3 (and then `more`), to run as one batch.
    fn around(middle: TestJob, more: &[i64]) -> Vec<TestJob> {
        let mut jobs: Vec<TestJob> = vec![Box::new(insert(1)), middle, Box::new(insert(3))];
        jobs.extend(more.iter().map(|&n| Box::new(insert(n)) as TestJob));
        jobs
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_commits_together_and_a_rejected_job_in_it_changes_nothing() {
        let (_dir, store) = open().await;
        let rejected = |conn: &Connection| {
            super::super::in_savepoint(conn, |c| {
                insert(2)(c)?;
                Err(StoreError::Corrupt("rejected after writing".into()))
            })
        };
        let answers = one_batch(&store, around(Box::new(rejected), &[])).await;
        assert!(answers[0].is_ok() && answers[2].is_ok());
        assert!(matches!(answers[1], Err(StoreError::Corrupt(_))));
        assert_eq!(stored(&store).await, vec![1, 3]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_job_loses_its_transaction_and_the_queue_goes_on() {
        let (_dir, store) = open().await;
        let panicking = |conn: &Connection| {
            insert(2)(conn)?;
            panic!("a bug in a write job")
        };
        let answers = one_batch(&store, around(Box::new(panicking), &[])).await;
        // The job before it shared its transaction: not stored, and told so. The one
        // after ran in a new transaction.
        assert!(matches!(answers[0], Err(StoreError::Abandoned)));
        assert!(matches!(answers[1], Err(StoreError::Abandoned)));
        assert!(answers[2].is_ok());
        assert_eq!(stored(&store).await, vec![3]);
        store
            .write(insert(4))
            .await
            .expect("the writer still works");
        assert_eq!(stored(&store).await, vec![3, 4]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_that_abandons_the_transaction_takes_its_batch_mates_not_later_jobs() {
        let (_dir, store) = open().await;
        let abandoning = |conn: &Connection| {
            insert(2)(conn)?;
            abandon_transaction(conn);
            Err(StoreError::Internal("failed part-way".into()))
        };
        let answers = one_batch(&store, around(Box::new(abandoning), &[4])).await;
        assert!(matches!(answers[0], Err(StoreError::Abandoned)));
        assert!(matches!(answers[1], Err(StoreError::Abandoned)));
        assert!(answers[2].is_ok() && answers[3].is_ok());
        assert_eq!(stored(&store).await, vec![3, 4]);
    }
}
