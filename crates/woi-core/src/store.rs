//! The storage seam. The engine's state is derived from its journal of
//! [`Event`]s: a [`Store`] keeps that journal durably (write-ahead: events
//! are appended before the effects that follow them are carried out), the
//! applied definition files, and each job run's output.
//!
//! Implementations: `woi_adapters::sqlite::SqliteStore` (the default), and
//! [`MemoryStore`] for tests and embedding without persistence.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::defs::JobnetKey;
use crate::engine::Event;

/// A storage failure. The text says what failed; nothing was half-written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The storage backend failed (I/O, locked, corrupt, …).
    #[error("store: {0}")]
    Backend(String),
    /// Stored data could not be read back.
    #[error("store: unreadable record: {0}")]
    Corrupt(String),
}

/// One definition file as applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefinitionFile {
    /// File name (as given to `woi apply`).
    pub name: String,
    /// Its text.
    pub text: String,
}

/// The captured output of one job run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobOutput {
    /// Its jobnet.
    pub jobnet: JobnetKey,
    /// Job number.
    pub job: u16,
    /// Attempt number (as in the engine's events).
    pub attempt: u32,
    /// Host it ran on.
    pub host: String,
    /// The output (capped by the executor).
    pub output: String,
}

/// A write a store has already put in order; it resolves once durable.
/// See [`Store::begin_append`].
pub type PendingWrite = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), StoreError>> + Send + 'static>>;

/// Durable storage of the journal, definitions and job output.
#[async_trait]
pub trait Store: Send + Sync {
    /// Append events, in order, durably and atomically (all or none).
    async fn append(&self, events: &[Event]) -> Result<(), StoreError>;
    /// Every event with `seq > after`, in order.
    async fn events_after(&self, after: u64) -> Result<Vec<Event>, StoreError>;
    /// Record a finished job run's output.
    async fn save_output(&self, output: &JobOutput) -> Result<(), StoreError>;
    /// Save finished jobs' outputs and append the events that follow from
    /// their ends, durably. Stores that can should do it in one write (the
    /// default saves each output, then appends).
    async fn append_with_outputs(&self, events: &[Event], outputs: &[JobOutput]) -> Result<(), StoreError> {
        for output in outputs {
            self.save_output(output).await?;
        }
        self.append(events).await
    }
    /// Like [`Store::append_with_outputs`], but the write is put in order
    /// **now**, at the call, and the returned future only waits for it to
    /// be durable. Writes begun one after another become durable in that
    /// order: a later one is never durable without every earlier one, and
    /// after one fails no later one is made durable. This lets a driver
    /// keep feeding the engine while earlier writes sync (the group commit
    /// then takes several writes in one fsync), and still carry out each
    /// write's effects only once that write is durable.
    ///
    /// `None` (the default) means the store cannot order a write before it
    /// is awaited; the caller then awaits [`Store::append_with_outputs`].
    fn begin_append(&self, events: &[Event], outputs: &[JobOutput]) -> Option<PendingWrite> {
        let _ = (events, outputs);
        None
    }
    /// The output of a job's latest attempt, if kept.
    async fn last_output(&self, jobnet: &JobnetKey, job: u16) -> Result<Option<JobOutput>, StoreError>;
    /// The applied definition files.
    async fn definitions(&self) -> Result<Vec<DefinitionFile>, StoreError>;
    /// Replace the applied definition files (atomically).
    async fn set_definitions(&self, files: &[DefinitionFile]) -> Result<(), StoreError>;
}

/// A store in memory: nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    events: Vec<Event>,
    outputs: Vec<JobOutput>,
    definitions: Vec<DefinitionFile>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn append(&self, events: &[Event]) -> Result<(), StoreError> {
        self.lock().events.extend_from_slice(events);
        Ok(())
    }

    fn begin_append(&self, events: &[Event], outputs: &[JobOutput]) -> Option<PendingWrite> {
        let mut inner = self.lock();
        inner.outputs.extend_from_slice(outputs);
        inner.events.extend_from_slice(events);
        Some(Box::pin(std::future::ready(Ok(()))))
    }

    async fn events_after(&self, after: u64) -> Result<Vec<Event>, StoreError> {
        Ok(self.lock().events.iter().filter(|e| e.seq > after).cloned().collect())
    }

    async fn save_output(&self, output: &JobOutput) -> Result<(), StoreError> {
        self.lock().outputs.push(output.clone());
        Ok(())
    }

    async fn last_output(&self, jobnet: &JobnetKey, job: u16) -> Result<Option<JobOutput>, StoreError> {
        Ok(self.lock().outputs.iter().rev().find(|o| &o.jobnet == jobnet && o.job == job).cloned())
    }

    async fn definitions(&self) -> Result<Vec<DefinitionFile>, StoreError> {
        Ok(self.lock().definitions.clone())
    }

    async fn set_definitions(&self, files: &[DefinitionFile]) -> Result<(), StoreError> {
        self.lock().definitions = files.to_vec();
        Ok(())
    }
}
