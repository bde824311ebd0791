//! The message-event occurrence history (spec 02 §3.3 design suggestion):
//! `GET {base}/v1/msgevents/occurrences?event=E&after=SEQ&wait=N`, what a
//! `jobschchkmsgevt` run outside the scheduler (`woi jobschchkmsgevt
//! --server URL`) waits on.
//!
//! The answer lists the occurrences the scheduler keeps (the newest 10,000)
//! whose sequence number is greater than `after`, of event `event` (all
//! events without it), that the caller may see: those raised without a
//! project and those raised for a project on which the job-management user
//! has at least the reference right. With `wait=N` (0–60 s) the request
//! long-polls: it answers at once when something matches, otherwise when a
//! matching occurrence is raised or after `N` seconds (then with an empty
//! list). Besides WOI's `{"next","total","data"}` the envelope carries
//! `cursor` (pass it as `after` next time: the highest sequence number
//! examined, visible or not) and `now` (the server's clock, the reference of
//! `raisedAt`).
//!
//! This route only reads: it never changes an occurrence count (spec 02 §3.3).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use woi_core::builtin::Occurrence;

use crate::AppState;
use crate::error::{ApiError, json_response};
use crate::layer_b::{Caller, Query, respond};
use crate::operations::internal;
use crate::request::invalid;

/// Longest long poll (s), as for operations.
pub const MAX_WAIT: u64 = 60;

/// One raised message event, as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OccurrenceObject {
    /// Sequence number, increasing in raise order.
    pub seq: u64,
    /// Event name.
    pub event: String,
    /// Project it was raised for (`null`: every project).
    pub project_name: Option<String>,
    /// Jobnet it was raised for (only with a project).
    pub jobnet_name: Option<String>,
    /// Variable parameter it carried.
    pub vparam: Option<String>,
    /// When it was raised (RFC 3339, UTC, sub-second precision).
    pub raised_at: String,
}

impl OccurrenceObject {
    fn of(o: &Occurrence) -> OccurrenceObject {
        OccurrenceObject {
            seq: o.seq,
            event: o.event.clone(),
            project_name: o.project.clone(),
            jobnet_name: o.jobnet.clone(),
            vparam: o.vparam.clone(),
            raised_at: precise(o.raised_at),
        }
    }
}

/// The envelope of this route: WOI's keys plus `cursor` and `now`.
#[derive(Serialize)]
struct OccurrencesEnvelope {
    next: bool,
    total: usize,
    data: Vec<OccurrenceObject>,
    cursor: u64,
    now: String,
}

/// RFC 3339 UTC with as many fractional digits as needed and `Z`: waiters
/// compare these instants, so they are not truncated to the second.
fn precise(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The validated query.
struct Filter {
    event: Option<String>,
    after: u64,
    wait: u64,
}

impl Filter {
    fn parse(query: &Query) -> Result<Filter, ApiError> {
        query.check(&["event", "after", "wait"], &[])?;
        let event = match query.get("event") {
            None => None,
            // Any name a waiter may give (1–12 bytes, legacy count, no control character).
            Some(v)
                if !v.is_empty()
                    && woi_core::text::legacy_len(v) <= woi_core::text::limits::EVENT_NAME
                    && !v.chars().any(char::is_control) =>
            {
                Some(v.to_string())
            }
            Some(v) => return Err(invalid("event", v)),
        };
        let after = match query.get("after") {
            None => 0,
            Some(v) => digits(v).ok_or_else(|| invalid("after", v))?,
        };
        let wait = match query.get("wait") {
            None => 0,
            Some(v) => digits(v).filter(|w| *w <= MAX_WAIT).ok_or_else(|| invalid("wait", v))?,
        };
        Ok(Filter { event, after, wait })
    }

    /// Whether `o` is of the asked event and visible to `caller`.
    fn admits(&self, caller: &Caller, o: &Occurrence) -> bool {
        self.event.as_deref().is_none_or(|e| e == o.event) && o.project.as_deref().is_none_or(|p| caller.sees(p))
    }
}

/// A decimal of ASCII digits only (no sign, no blanks).
fn digits(s: &str) -> Option<u64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// `GET {base}/v1/msgevents/occurrences[?event=E][&after=SEQ][&wait=N]`.
pub(crate) async fn occurrences(State(state): State<AppState>, caller: Caller, query: Query) -> Response {
    respond(
        async {
            let filter = Filter::parse(&query)?;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(filter.wait);
            // Subscribed before the first look, so no raise falls between the two.
            let mut changes = state.handle().subscribe();
            let mut cursor = filter.after;
            loop {
                let now = state.now();
                let seen = state.handle().occurrences(cursor).await.map_err(internal)?;
                cursor = seen.iter().map(|o| o.seq).max().unwrap_or(cursor);
                let data: Vec<OccurrenceObject> =
                    seen.iter().filter(|o| filter.admits(&caller, o)).map(OccurrenceObject::of).collect();
                if !data.is_empty() || tokio::time::Instant::now() >= deadline {
                    let envelope =
                        OccurrencesEnvelope { next: false, total: data.len(), data, cursor, now: precise(now) };
                    return Ok(json_response(StatusCode::OK, &envelope));
                }
                // Sleep until the next raise (every raise is journaled and
                // published) or the deadline; a lagging subscriber looks again.
                let raised = async {
                    loop {
                        match changes.recv().await {
                            Ok(e) if matches!(e.kind, woi_core::EventKind::MessageEventRaised { .. }) => return,
                            Ok(_) => {}
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                            Err(tokio::sync::broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
                        }
                    }
                };
                let _ = tokio::time::timeout_at(deadline, raised).await;
            }
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_and_waits_are_plain_decimals() {
        assert_eq!(digits("0"), Some(0));
        assert_eq!(digits("0042"), Some(42));
        for bad in ["", "-1", "+1", " 1", "1.0", "x", "99999999999999999999999"] {
            assert_eq!(digits(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn instants_keep_their_fraction() {
        let t = DateTime::parse_from_rfc3339("2025-06-01T10:00:00.250Z").expect("rfc3339").to_utc();
        assert_eq!(precise(t), "2025-06-01T10:00:00.250Z");
        let t = DateTime::parse_from_rfc3339("2025-06-01T10:00:00Z").expect("rfc3339").to_utc();
        assert_eq!(precise(t), "2025-06-01T10:00:00Z");
    }
}
