//! A service that embeds woi: an axum app with one endpoint of its own,
//! `POST /orders/{id}`, which raises the message event `ORDER` with the order
//! id as variable parameter. The jobnet `SHOP/ORDER` waits for that event and
//! processes the order; the service prints the jobnet's progress from the
//! scheduler's change stream.
//!
//! `cargo run -p woi --example embedded_service` places one order itself and
//! exits when it is processed; with `WOI_EXAMPLE_SERVE=1` it keeps serving:
//! `curl -X POST localhost:<port>/orders/42`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use futures::StreamExt;
use woi::{
    Change, Definitions, EventKind, Handle, Job, Jobnet, JobnetKey, JobnetStatus, RaiseRequest, Scheduler, WaitMode,
};

/// The service's own endpoint: accept an order, raise `ORDER` with its id.
async fn place_order(State(woi): State<Arc<Handle>>, Path(id): Path<String>) -> (StatusCode, String) {
    let req = RaiseRequest { event: "ORDER", project: Some("SHOP"), jobnet: None, vparam: Some(&id), suffix: None };
    match woi.raise_event(&req).await {
        // The event is durable before we answer.
        Ok(receptions) => {
            let counted = receptions.iter().filter(|r| r.counted).count();
            (StatusCode::ACCEPTED, format!("order {id} accepted by {counted} jobnet(s)\n"))
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("{e}\n")),
    }
}

#[tokio::main]
pub async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = Definitions::builder()
        .jobnet(
            Jobnet::new("SHOP", "ORDER")
                .comment("Process_one_order")
                .message_only(false)
                .on_events(["ORDER"], WaitMode::And)
                .job(Job::command(1, "echo checking stock for order @.VPARAM@").name("stock"))
                .job(Job::command(2, "echo shipping order @.VPARAM@").name("ship").after([1])),
        )
        .build()?;
    let scheduler = Scheduler::builder(env).start().await?;
    let handle = Arc::new(scheduler.handle().clone());

    // Progress from the change stream.
    let key = JobnetKey::new("SHOP", "ORDER");
    let mut changes = Box::pin(handle.changes());
    let watch = key.clone();
    let progress = tokio::spawn(async move {
        while let Some(change) = changes.next().await {
            match change {
                Change::Event(e) => match e.kind {
                    EventKind::JobnetStatus { jobnet, status, .. } if jobnet == watch => {
                        println!("[woi] {jobnet}: {}", status.as_str());
                        if matches!(status, JobnetStatus::Completed | JobnetStatus::Abended) {
                            return Some(status);
                        }
                    }
                    EventKind::JobStatus { jobnet, job, status, .. } if jobnet == watch => {
                        println!("[woi] {jobnet} job {job}: {}", status.as_str());
                    }
                    _ => {}
                },
                Change::Missed(n) => println!("[woi] (missed {n} changes)"),
                _ => {}
            }
        }
        None
    });

    let app = axum::Router::new().route("/orders/{id}", post(place_order)).with_state(handle.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    if std::env::var_os("WOI_EXAMPLE_SERVE").is_some() {
        server.await??;
        return Ok(());
    }
    // Demo: place one order through the service's own endpoint.
    let answer = reqwest::Client::new().post(format!("http://{addr}/orders/A-1001")).send().await?;
    println!("POST /orders/A-1001 -> {} {}", answer.status(), answer.text().await?.trim());
    let status = progress.await?.ok_or("the scheduler stopped")?;
    println!("order processed: SHOP/ORDER {}", status.as_str());
    for job in handle.jobs(&key).await? {
        println!("  {:<6} {}", job.name, job.status.as_str());
    }
    server.abort();
    scheduler.stop().await?;
    assert_eq!(status, JobnetStatus::Completed);
    Ok(())
}
