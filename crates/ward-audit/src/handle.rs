//! A store connection owned by a thread of its own, for async callers. The PostgreSQL client is
//! synchronous and may be neither used nor dropped on an async runtime's threads, so the server
//! never holds a `Store`: it sends work to this thread and awaits the answer.

use std::sync::mpsc;

use futures::channel::oneshot;
use ward_core::WardError;

use crate::sql::Location;
use crate::store::Store;

type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// A cheap-to-clone handle; the thread and its connection end with the last handle.
#[derive(Clone, Debug)]
pub struct StoreHandle {
    jobs: mpsc::Sender<Job>,
}

impl StoreHandle {
    /// Starts the thread and opens the store on it.
    pub fn open(location: &Location) -> Result<Self, WardError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (opened, result) = mpsc::channel();
        let location = location.clone();
        std::thread::Builder::new()
            .name("ward-audit-store".into())
            .spawn(move || match Store::open(&location) {
                Ok(mut store) => {
                    let _ = opened.send(Ok(()));
                    while let Ok(job) = queue.recv() {
                        job(&mut store);
                    }
                }
                Err(error) => {
                    let _ = opened.send(Err(error));
                }
            })
            .map_err(|error| {
                WardError::internal(format!("cannot start the store thread: {error}"))
            })?;
        result
            .recv()
            .map_err(|_| WardError::internal("the store thread stopped while opening"))??;
        Ok(StoreHandle { jobs })
    }

    fn send<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T, WardError> + Send + 'static,
    ) -> Result<oneshot::Receiver<Result<T, WardError>>, WardError> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(move |store: &mut Store| {
                let _ = done.send(work(store));
            }))
            .map_err(|_| WardError::internal("the audit store thread has stopped"))?;
        Ok(answer)
    }

    /// Runs `work` on the store's thread and awaits its result.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T, WardError> + Send + 'static,
    ) -> Result<T, WardError> {
        self.send(work)?
            .await
            .map_err(|_| WardError::internal("the audit store thread stopped"))?
    }

    /// Runs `work` on the store's thread and blocks until it is done (outside async code).
    pub fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T, WardError> + Send + 'static,
    ) -> Result<T, WardError> {
        futures::executor::block_on(self.run(work))
    }
}
