//! SQLite store append throughput (WAL, `synchronous=FULL`: every commit is
//! fsynced): appends of 1 and of 100 events from one task, and single-event
//! appends from 64 concurrent tasks (group commit: about one fsync for all).
//! The database lives under the target directory, on a real disk.
//!
//! `cargo bench -p woi-adapters --bench store`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use woi_adapters::sqlite::SqliteStore;
use woi_core::store::Store;
use woi_core::{Event, EventKind, ExitCode, JobStatus, JobnetKey};

fn event(seq: u64) -> Event {
    let at = DateTime::<Utc>::from_timestamp(1_700_000_000 + (seq as i64 % 86_400), 0).unwrap_or_default();
    Event {
        seq,
        at,
        kind: EventKind::JobStatus {
            jobnet: JobnetKey::new("BENCH", "NET"),
            job: (seq % 200) as u16 + 1,
            name: "job".into(),
            status: JobStatus::Completed,
            exit: Some(ExitCode::from_command(0)),
            attempt: 1,
        },
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    seq: Arc<AtomicU64>,
}

fn fixture() -> Option<Fixture> {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).ok()?;
    let store = Arc::new(SqliteStore::open(dir.path().join("bench.db")).ok()?);
    Some(Fixture { _dir: dir, store, seq: Arc::new(AtomicU64::new(0)) })
}

fn bench(c: &mut Criterion) {
    let Ok(rt) = tokio::runtime::Runtime::new() else { return };
    let mut group = c.benchmark_group("store_append");
    group.sample_size(20).measurement_time(Duration::from_secs(5));

    for batch in [1u64, 100] {
        let Some(f) = fixture() else { return };
        group.throughput(Throughput::Elements(batch));
        group.bench_function(format!("batch_{batch}"), |b| {
            b.iter(|| {
                let first = f.seq.fetch_add(batch, Ordering::Relaxed) + 1;
                let events: Vec<Event> = (first..first + batch).map(event).collect();
                rt.block_on(f.store.append(&events)).ok();
            })
        });
    }

    let Some(f) = fixture() else { return };
    let tasks = 64u64;
    group.throughput(Throughput::Elements(tasks));
    group.bench_function("concurrent_64_tasks_x1", |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..tasks)
                    .map(|_| {
                        let (store, seq) = (f.store.clone(), f.seq.clone());
                        tokio::spawn(async move {
                            let s = seq.fetch_add(1, Ordering::Relaxed) + 1;
                            store.append(&[event(s)]).await
                        })
                    })
                    .collect();
                for h in handles {
                    let _ = h.await;
                }
            })
        })
    });
    group.finish();
    let appends = f.seq.load(Ordering::Relaxed);
    eprintln!("concurrent_64_tasks_x1: {appends} single-event appends in {} commits", f.store.commits());
}

criterion_group!(benches, bench);
criterion_main!(benches);
