//! A small pool of read-only connections. WAL lets them read while the writer writes;
//! each job runs on tokio's blocking pool so a slow query never stalls the reactor.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::Semaphore;

use super::{connection, StoreError};

#[derive(Clone)]
pub struct Readers {
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
}

impl Readers {
    pub(super) fn open(path: &Path, count: usize) -> Result<Readers, StoreError> {
        let conns = (0..count)
            .map(|_| connection::open_reader(path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Readers {
            idle: Arc::new(Mutex::new(conns)),
            permits: Arc::new(Semaphore::new(count)),
        })
    }

    pub(super) async fn read<T, E, F>(&self, job: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| E::from(StoreError::Closed))?;
        let idle = self.idle.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = idle
                .lock()
                .map_err(|_| E::from(StoreError::Closed))?
                .pop()
                .ok_or(E::from(StoreError::Closed))?;
            // A read transaction gives the job one consistent snapshot (a count and a page
            // agree with each other).
            let result = match conn.execute_batch("BEGIN") {
                Ok(()) => {
                    let r = job(&conn);
                    let _ = conn.execute_batch("COMMIT");
                    r
                }
                Err(e) => Err(E::from(e.into())),
            };
            if let Ok(mut guard) = idle.lock() {
                guard.push(conn);
            }
            result
        })
        .await
        .map_err(|_| E::from(StoreError::Abandoned))?
    }
}
