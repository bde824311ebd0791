//! # woi-server
//!
//! The HTTP side of the woi daemon. Only this crate knows HTTP; it uses the
//! public API of woi-core (names, limits, raise requests) and woi-adapters
//! (the scheduler [`Handle`], the accounts store [`AuthStore`]).
//!
//! ## Layer A — WOI's Web API (spec 04 §2–3.7)
//!
//! | Route | Method | What |
//! |---|---|---|
//! | `/{tenant_id}/oauth2/v2.0/token` | POST | OAuth2 client credentials → a bearer token (3599 s) |
//! | `{base}/v1/msgevent` | POST | raise a message event |
//! | `{base}/v1/msgclear` | POST | invalidate raised message events |
//!
//! ## Layer B and the admin API (spec 04 §3.8–3.12, `docs/web-api.md`)
//!
//! Executions (`{base}/v1/executions/…`, [`executions`]), asynchronous
//! operations (`…/actions/{a}` → 202, `{base}/v1/operations`, [`operations`]),
//! definitions CRUD (`{base}/v1/projects…`, `{base}/v1/calendars…`), the admin
//! API under `/{tenant_id}/{environment_id}/admin/v1` and the OpenAPI document
//! at `{base}/openapi.json` ([`openapi`]). The message-event occurrence
//! history, long-polled by `woi jobschchkmsgevt --server`, is
//! `GET {base}/v1/msgevents/occurrences` ([`msgevents`]). [`route_table`]
//! lists every route.
//!
//! `{base}` is `/{tenant_id}/{environment_id}/api`. Every `{base}` request
//! carries two credentials: `Authorization: Bearer <token>` (a Web API
//! account) and `X-FJWOI-AUTHORIZATION: Basic base64(user:password)` (the
//! job-management user whose project rights apply). Successes answer with
//! WOI's envelope `{"next":false,"total":0,"data":[]}`, errors with
//! `{"code":"OM_API_xxxxx","message":"…"}` ([`ApiError`]), every JSON
//! response with `Content-Type: application/json;charset=UTF-8`.
//!
//! Invariants: no password, secret or token appears in a response (other
//! than the token the token endpoint issues), an error or an audit record;
//! time comes from the injected [`Clock`]; an accepted event is durable in
//! the journal before the 200.
#![warn(missing_docs)]

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use chrono::{DateTime, Utc};
use woi_adapters::auth::{AuthError, AuthStore};
use woi_adapters::runtime::Handle;
use woi_adapters::sqlite::SqliteStore;
use woi_core::Clock;

mod admin;
mod definitions;
pub mod error;
pub mod executions;
mod layer_a;
mod layer_b;
pub mod msgevents;
pub mod openapi;
pub mod operations;
pub mod request;
mod routes;
mod token;

pub use error::{ApiError, AuthCode, TokenError};
pub use layer_a::{
    JOBNET_NOT_FOUND, NO_VALID_PROJECT, PROJECT_NOT_FOUND, jobnet_in_several_projects, project_unavailable,
};
pub use layer_b::Pagination;
pub use routes::{RouteInfo, route_table};
pub use token::{MAX_TOKEN_LIFETIME, TOKEN_VERSION};

/// Settings of the API (spec 04 §2.1 config keys).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiConfig {
    /// `api.tenant_id`: first path segment (default `default`).
    pub tenant_id: String,
    /// `api.environment_id`: second path segment (default `default`).
    pub environment_id: String,
    /// `api.public_host`: the host in the token issuer, audience and scope.
    pub public_host: String,
    /// Token lifetime in seconds (default 3599; values above 3600 are capped).
    pub token_lifetime_s: i64,
    /// Clock skew tolerated on `exp`, `nbf` and `iat` (default 0).
    pub token_leeway_s: i64,
}

impl Default for ApiConfig {
    fn default() -> ApiConfig {
        ApiConfig {
            tenant_id: "default".into(),
            environment_id: "default".into(),
            public_host: "localhost".into(),
            token_lifetime_s: 3599,
            token_leeway_s: 0,
        }
    }
}

impl ApiConfig {
    /// `https://{public_host}/{tenant_id}/oauth2/v2.0`.
    pub fn issuer(&self) -> String {
        format!("https://{}/{}/oauth2/v2.0", self.public_host, self.tenant_id)
    }

    /// `https://{public_host}/{tenant_id}/{environment_id}/api`.
    pub fn audience(&self) -> String {
        format!("https://{}/{}/{}/api", self.public_host, self.tenant_id, self.environment_id)
    }

    /// The only scope the token endpoint accepts: the audience + `/.default`.
    pub fn scope(&self) -> String {
        format!("{}/.default", self.audience())
    }

    /// `{base}`: `/{tenant_id}/{environment_id}/api`.
    pub fn base(&self) -> String {
        format!("/{}/{}/api", self.tenant_id, self.environment_id)
    }

    fn lifetime(&self) -> i64 {
        self.token_lifetime_s.clamp(1, MAX_TOKEN_LIFETIME)
    }
}

/// One accepted msgevent or msgclear call (spec 04 §3.13): who, what, result.
/// Never holds a password, secret or token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// `msgevent` or `msgclear`.
    pub resource: &'static str,
    /// Client ID of the Web API account.
    pub client_id: String,
    /// Job-management user.
    pub user: String,
    /// Message event name (msgevent).
    pub message_name: Option<String>,
    /// Target project.
    pub project: Option<String>,
    /// Target jobnet.
    pub jobnet: Option<String>,
    /// A variable parameter was given.
    pub vparam: bool,
    /// A copy-start suffix was given.
    pub suffix: bool,
    /// `accepted`, or the error code and text.
    pub result: String,
}

impl fmt::Display for AuditRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        write!(
            f,
            "webapi {} client_id={} user={} message={} project={} jobnet={} vparam={} suffix={} result={}",
            self.resource,
            self.client_id,
            self.user,
            opt(&self.message_name),
            opt(&self.project),
            opt(&self.jobnet),
            self.vparam,
            self.suffix,
            self.result
        )
    }
}

/// Receives an [`AuditRecord`] per accepted Layer A call.
pub type AuditSink = Arc<dyn Fn(&AuditRecord) + Send + Sync>;

#[derive(Clone)]
struct Inner {
    handle: Handle,
    auth: AuthStore,
    clock: Arc<dyn Clock>,
    config: ApiConfig,
    keys: token::Keys,
    audit: Option<AuditSink>,
    store: Option<Arc<SqliteStore>>,
    operations: operations::Registry,
}

/// Everything the handlers share: the scheduler handle, the accounts store,
/// the history store, the clock, the settings, the token keys and the
/// asynchronous operations. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState").field("config", &self.inner.config).field("auth", &self.inner.auth).finish()
    }
}

impl AppState {
    /// The state of a server: reads the token-signing key and the kept
    /// asynchronous operations from the accounts store (blocking); operations
    /// that were still running when the server stopped are completed with
    /// `ERROR` ([`operations::INTERRUPTED`]).
    pub fn new(
        handle: Handle,
        auth: AuthStore,
        clock: Arc<dyn Clock>,
        config: ApiConfig,
    ) -> Result<AppState, AuthError> {
        let keys = token::Keys::from_secret(&auth.signing_key()?);
        let operations = operations::Registry::open(auth.clone(), clock.now())?;
        let inner = Inner { handle, auth, clock, config, keys, audit: None, store: None, operations };
        Ok(AppState { inner: Arc::new(inner) })
    }

    fn map(self, f: impl FnOnce(&mut Inner)) -> AppState {
        let mut inner = Arc::try_unwrap(self.inner).unwrap_or_else(|shared| (*shared).clone());
        f(&mut inner);
        AppState { inner: Arc::new(inner) }
    }

    /// Send an [`AuditRecord`] for every accepted msgevent / msgclear call to `sink`.
    pub fn with_audit(self, sink: AuditSink) -> AppState {
        self.map(|i| i.audit = Some(sink))
    }

    /// Serve Layer B from this store: the execution history, job outputs and
    /// the definitions (the scheduler's own store). Without it the executions
    /// and definitions routes answer `500 OM_API_00099`.
    pub fn with_store(self, store: Arc<SqliteStore>) -> AppState {
        self.map(|i| i.store = Some(store))
    }

    /// The settings.
    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    pub(crate) fn handle(&self) -> &Handle {
        &self.inner.handle
    }

    pub(crate) fn auth(&self) -> &AuthStore {
        &self.inner.auth
    }

    pub(crate) fn store(&self) -> Option<&Arc<SqliteStore>> {
        self.inner.store.as_ref()
    }

    pub(crate) fn operations(&self) -> &operations::Registry {
        &self.inner.operations
    }

    pub(crate) fn keys(&self) -> &token::Keys {
        &self.inner.keys
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    pub(crate) fn audit(&self, record: &AuditRecord) {
        if let Some(sink) = &self.inner.audit {
            sink(record);
        }
    }
}

/// Run blocking store work (SQLite, argon2) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
) -> Result<T, AuthError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(AuthError::Storage { path: Default::default(), detail: e.to_string() }))
}

/// Unknown paths: `404 OM_API_00050` as JSON.
async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// The HTTP API: the token endpoint, Layer A and Layer B under `{base}`, the
/// admin API under `{admin}` and the OpenAPI document. Unknown paths answer
/// `404 OM_API_00050`; known paths with another method `405` with `Allow`.
pub fn router(state: AppState) -> Router {
    let mut r = Router::new();
    for (info, method_router) in routes::routes() {
        r = r.route(info.path, method_router);
    }
    r.fallback(not_found).with_state(state)
}

/// Serve [`router`] on `listener` until `shutdown` completes, then finish
/// the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}
