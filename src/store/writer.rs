//! The single writer: a thread that owns the write connection, takes queued jobs, runs as
//! many as are waiting in one `BEGIN IMMEDIATE` transaction, and answers each job only
//! after COMMIT. Durability (`synchronous=FULL`) then costs one fsync per batch, not per
//! request.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

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
    pub(super) fn start(conn: Connection, max_batch: usize) -> Writer {
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        let thread = std::thread::Builder::new()
            .name("keybridge-writer".into())
            .spawn(move || run(conn, rx, max_batch))
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

fn run(conn: Connection, rx: crossbeam_channel::Receiver<Job>, max_batch: usize) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&conn, batch);
    }
    // WAL checkpoint on a clean shutdown keeps the main file current for backups.
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
}

fn run_batch(conn: &Connection, batch: Vec<Job>) {
    if let Err(e) = run_fixed(conn, "BEGIN IMMEDIATE") {
        // Dropping the jobs answers each caller with "abandoned".
        tracing::error!(error = %e, jobs = batch.len(), "could not begin a write transaction");
        return;
    }
    let completions: Vec<Completion> = batch.into_iter().map(|job| run_job(conn, job)).collect();
    let outcome = match run_fixed(conn, "COMMIT") {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = run_fixed(conn, "ROLLBACK");
            Err(e.to_string())
        }
    };
    for completion in completions {
        completion(outcome.clone().map_err(StoreError::Internal));
    }
}

/// Runs one job inside its own savepoint, so that a job that panics leaves nothing
/// half-written in the shared transaction.
fn run_job(conn: &Connection, job: Job) -> Completion {
    if run_fixed(conn, "SAVEPOINT job").is_err() {
        return Box::new(|_| {});
    }
    match catch_unwind(AssertUnwindSafe(|| job(conn))) {
        Ok(completion) => {
            let _ = run_fixed(conn, "RELEASE job");
            completion
        }
        Err(_) => {
            let _ =
                run_fixed(conn, "ROLLBACK TO job").and_then(|()| run_fixed(conn, "RELEASE job"));
            tracing::error!("a write job panicked; its changes were rolled back");
            Box::new(|_| {})
        }
    }
}
