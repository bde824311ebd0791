//! What every Layer B route shares (spec 04 §3.1, §3.3, §3.8.3): the
//! authenticated caller (tenant/environment check, then the two headers of
//! Layer A), path parameters, the strict query-string rules (unknown →
//! `00012`, repeated single value → `00013`), paging and the envelopes.

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use serde::Serialize;
use woi_adapters::auth::{ApiAccount, JobUser, Right};

use crate::AppState;
use crate::error::{ApiError, json_response};
use crate::request::invalid;

/// The caller of a `{base}` route: the Web API account and the job-management user.
pub(crate) struct Caller {
    /// The account of the bearer token.
    pub account: ApiAccount,
    /// The user whose rights apply.
    pub user: JobUser,
}

impl Caller {
    /// The right of the caller on a project (admins: `update`).
    pub fn right(&self, project: &str) -> Option<Right> {
        self.user.right_on(project)
    }

    /// Any right on the project: the project and what is in it are visible.
    pub fn sees(&self, project: &str) -> bool {
        self.right(project).is_some()
    }

    /// `operation` or `update`.
    pub fn operates(&self, project: &str) -> bool {
        self.right(project).is_some_and(Right::can_operate)
    }

    /// `change` or `update`: may change definitions.
    pub fn defines(&self, project: &str) -> bool {
        matches!(self.right(project), Some(Right::Change | Right::Update))
    }
}

/// True when the path's first two segments are this server's tenant and environment.
pub(crate) fn base_matches(state: &AppState, path: &str) -> bool {
    let mut seg = path.split('/').skip(1);
    let cfg = state.config();
    seg.next() == Some(cfg.tenant_id.as_str()) && seg.next() == Some(cfg.environment_id.as_str())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        if !base_matches(state, parts.uri.path()) {
            return Err(ApiError::NotFound);
        }
        crate::layer_a::authenticate(state, &parts.headers).await
    }
}

/// The named path parameters, percent-decoded as UTF-8 (a path that does not
/// decode is `404`).
pub(crate) struct Params(pub BTreeMap<String, String>);

impl Params {
    /// A parameter (empty when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }
}

impl FromRequestParts<AppState> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Params, ApiError> {
        match Path::<BTreeMap<String, String>>::from_request_parts(parts, state).await {
            Ok(Path(map)) => Ok(Params(map)),
            Err(_) => Err(ApiError::NotFound),
        }
    }
}

/// The query string as `(name, value)` pairs in order.
pub(crate) struct Query(pub Vec<(String, String)>);

impl FromRequestParts<AppState> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Query, ApiError> {
        Ok(Query::parse(&parts.uri))
    }
}

/// The query string of a route that takes no query parameters: any
/// parameter is refused (`00012`, the first in order) before the handler runs.
pub(crate) struct NoQuery;

impl FromRequestParts<AppState> for NoQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<NoQuery, ApiError> {
        Query::parse(&parts.uri).check(&[], &[])?;
        Ok(NoQuery)
    }
}

/// A strict `yyyy-MM-dd` date: four-digit year, two-digit month and day.
pub(crate) fn strict_date(v: &str) -> Option<chrono::NaiveDate> {
    let b = v.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    if !shaped {
        return None;
    }
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()
}

impl Query {
    fn parse(uri: &Uri) -> Query {
        let q = uri.query().unwrap_or("");
        Query(form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    /// Refuse unknown names (`00012`, first in order) and a repeated
    /// single-valued name (`00013`). `lists` may repeat.
    pub fn check(&self, singles: &[&str], lists: &[&str]) -> Result<(), ApiError> {
        if let Some((k, _)) =
            self.0.iter().find(|(k, _)| !singles.contains(&k.as_str()) && !lists.contains(&k.as_str()))
        {
            return Err(ApiError::UnnecessaryParam(k.clone()));
        }
        for (i, (k, _)) in self.0.iter().enumerate() {
            if singles.contains(&k.as_str()) && self.0[..i].iter().any(|(seen, _)| seen == k) {
                return Err(ApiError::DuplicateParam(k.clone()));
            }
        }
        Ok(())
    }

    /// A single value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A list value: repeated and/or comma-separated, empty items dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string))
            .collect()
    }

    /// A boolean (`true` / `false`), or `default` when absent.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => Err(invalid(name, v)),
        }
    }

    /// `offset` (default 0) and `limit` (default 50, 1–1000).
    pub fn paging(&self) -> Result<Paging, ApiError> {
        let offset = match self.get("offset") {
            None => 0,
            Some(v) => v.parse::<usize>().map_err(|_| invalid("offset", v))?,
        };
        let limit = match self.get("limit") {
            None => 50,
            Some(v) => v.parse::<usize>().ok().filter(|l| (1..=1000).contains(l)).ok_or_else(|| invalid("limit", v))?,
        };
        Ok(Paging { offset, limit })
    }

    /// `direction`: `asc` or `desc` (default `default`).
    pub fn descending(&self, default_desc: bool) -> Result<bool, ApiError> {
        match self.get("direction") {
            None => Ok(default_desc),
            Some("asc") => Ok(false),
            Some("desc") => Ok(true),
            Some(v) => Err(invalid("direction", v)),
        }
    }
}

/// `offset` and `limit`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Paging {
    /// First item.
    pub offset: usize,
    /// Page size.
    pub limit: usize,
}

/// The pagination object of seed 002 (spec 04 §2.6).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// `floor(offset / limit) + 1`.
    pub current_page: usize,
    /// `limit`.
    pub page_size: usize,
    /// Matching items.
    pub total_items: usize,
    /// `ceil(total / limit)`.
    pub total_pages: usize,
    /// `offset + len(data) < total`.
    pub has_next_page: bool,
    /// `offset > 0`.
    pub has_previous_page: bool,
}

/// The envelope of a paged list: WOI's keys plus `pagination`.
#[derive(Serialize)]
struct PagedEnvelope<T: Serialize> {
    next: bool,
    total: usize,
    data: Vec<T>,
    pagination: Pagination,
}

/// One page of `items` (already filtered and sorted) as a 200 response.
pub(crate) fn page<T: Serialize>(items: Vec<T>, p: Paging) -> Response {
    let total = items.len();
    let data: Vec<T> = items.into_iter().skip(p.offset).take(p.limit).collect();
    let next = p.offset + data.len() < total;
    let pagination = Pagination {
        current_page: p.offset / p.limit + 1,
        page_size: p.limit,
        total_items: total,
        total_pages: total.div_ceil(p.limit),
        has_next_page: next,
        has_previous_page: p.offset > 0,
    };
    json_response(StatusCode::OK, &PagedEnvelope { next, total, data, pagination })
}

/// `{"next":false,"total":n,"data":[…]}` with `status`.
pub(crate) fn envelope<T: Serialize>(status: StatusCode, data: Vec<T>) -> Response {
    json_response(status, &crate::error::Envelope { next: false, total: data.len(), data })
}

/// 200 with all of `data`.
pub(crate) fn ok<T: Serialize>(data: Vec<T>) -> Response {
    envelope(StatusCode::OK, data)
}

/// 201 (or 202) with `data` and a `Location` header.
pub(crate) fn located<T: Serialize>(status: StatusCode, location: &str, data: T) -> Response {
    let mut resp = envelope(status, vec![data]);
    if let Ok(v) = HeaderValue::from_str(&percent_path(location)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// Percent-encode the characters of a path that may not appear in a header (non-ASCII, space …).
pub(crate) fn percent_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~@+:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Collapse a handler's result into a response.
pub(crate) fn respond(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(axum::response::IntoResponse::into_response)
}

/// RFC 3339 UTC to the second with `Z`.
pub(crate) fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
