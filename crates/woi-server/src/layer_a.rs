//! Layer A, WOI's own Web API (spec 04 §3.4, §3.5): `POST {base}/v1/msgevent`
//! raises a message event, `POST {base}/v1/msgclear` invalidates raised ones.
//!
//! Each request runs the pipeline of §3.1 in order — route, bearer token,
//! X-FJWOI header, credentials, body, duplicate/unknown keys, nulls,
//! required keys, per-field rules, cross-field rules, execution — and the
//! first failing step answers. A 200 for msgevent is sent only after the
//! scheduler has made the raise durable (`Handle::raise_event` answers after
//! the journal append).

use std::collections::BTreeSet;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use woi_adapters::auth::{JobUser, Right};
use woi_adapters::runtime::RuntimeError;
use woi_core::Refusal;
use woi_core::engine::{JobnetView, RaiseRequest};
use woi_core::text::limits;

use crate::error::{ApiError, json_response};
use crate::request::{self, Shape, invalid, is_woi_name, parse_object, string_field};
use crate::{AppState, AuditRecord, blocking};

/// `MpJobsch: ERROR: 0416` — the project of a msgevent does not exist.
pub const PROJECT_NOT_FOUND: &str = "MpJobsch: ERROR: 0416: The project is not found.";
/// `MpJobsch: ERROR: 0103` — the jobnet does not exist.
pub const JOBNET_NOT_FOUND: &str = "MpJobsch: ERROR: 0103: The job net is not found.";
/// `MpJobsch: WARNING: 0274` — the caller is eligible for no project.
pub const NO_VALID_PROJECT: &str = "MpJobsch: WARNING: 0274: Valid project not found.";

/// `MpJobsch: ERROR: 0175` — the project is missing or the caller lacks the right.
pub fn project_unavailable(project: &str) -> String {
    format!("MpJobsch: ERROR: 0175: {project} The project does not exist, or data or access rights are insufficient.")
}

/// The detail of a jobnet-only msgclear whose name is in several eligible projects.
pub fn jobnet_in_several_projects(jobnet: &str) -> String {
    format!("job net {jobnet} is registered in more than one project")
}

const MSGEVENT: Shape = Shape {
    keys: &["messagename", "projectname", "jobnetname", "vparam", "suffix"],
    aliases: &[("messageName", "messagename")],
    required: &["messagename"],
};

const MSGCLEAR: Shape = Shape { keys: &["projectname", "jobnetname"], aliases: &[], required: &[] };

/// The envelope of every Layer A success: `{"next":false,"total":0,"data":[]}`.
fn empty_envelope() -> Response {
    json_response(StatusCode::OK, &crate::error::Envelope::empty())
}

use crate::layer_b::Caller;

/// Step 1: the tenant and environment must be this server's (404), the method POST (405).
fn route(state: &AppState, path: Result<Path<(String, String)>, PathRejection>, req: &Request) -> Result<(), ApiError> {
    let Ok(Path((tenant, environment))) = path else {
        // A segment that does not percent-decode to UTF-8.
        let raw: Vec<&str> = req.uri().path().split('/').collect();
        for (i, name) in [(1, "tenantId"), (2, "environmentId")] {
            if let Some(seg) = raw.get(i).filter(|s| percent_decode_utf8(s).is_none()) {
                return Err(invalid(name, seg));
            }
        }
        return Err(ApiError::NotFound);
    };
    let cfg = state.config();
    if tenant != cfg.tenant_id || environment != cfg.environment_id {
        return Err(ApiError::NotFound);
    }
    if req.method() != Method::POST {
        return Err(ApiError::MethodNotAllowed { allow: "POST" });
    }
    Ok(())
}

fn percent_decode_utf8(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Steps 2–4: bearer token, X-FJWOI header, then the user's credentials.
pub(crate) async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let token = request::bearer(headers)?;
    let account = crate::token::verify_bearer(state, token).await?;
    let creds = request::fjwoi_basic(headers)?;
    let auth = state.auth().clone();
    let user = blocking(move || auth.authenticate(&creds.user, &creds.password))
        .await
        .map_err(|_| ApiError::AuthBackend)?
        .ok_or(ApiError::BadCredentials)?;
    Ok(Caller { account, user })
}

fn respond(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// A validated msgevent body.
struct MsgEvent {
    event: String,
    project: Option<String>,
    jobnet: Option<String>,
    vparam: Option<String>,
    suffix: Option<String>,
}

fn validate_msgevent(
    fields: &std::collections::BTreeMap<&'static str, serde_json::Value>,
) -> Result<MsgEvent, ApiError> {
    let name = |key: &str, max: usize| -> Result<Option<String>, ApiError> {
        match string_field(fields, key)? {
            Some(v) if !is_woi_name(v, max) => Err(invalid(key, v)),
            v => Ok(v.map(str::to_string)),
        }
    };
    let event = name("messagename", limits::EVENT_NAME)?.unwrap_or_default();
    let project = name("projectname", limits::PROJECT_NAME)?;
    let jobnet = name("jobnetname", limits::JOBNET_NAME)?;
    let vparam = name("vparam", limits::VPARAM)?;
    let suffix = match string_field(fields, "suffix")? {
        Some(s) if woi_core::text::check_copy_suffix(s).is_err() => return Err(invalid("suffix", s)),
        s => s.map(str::to_string),
    };
    if jobnet.is_some() && project.is_none() {
        return Err(ApiError::MissingParam("projectname".into()));
    }
    if suffix.is_some() && vparam.is_none() {
        return Err(ApiError::UnnecessaryParam("suffix".into()));
    }
    Ok(MsgEvent { event, project, jobnet, vparam, suffix })
}

/// The engine's name of a field, as the API spells it.
fn api_key(field: &str) -> &'static str {
    match field {
        "event" => "messagename",
        "project" => "projectname",
        "jobnet" => "jobnetname",
        "suffix" => "suffix",
        _ => "vparam",
    }
}

fn runtime_error(e: RuntimeError, resource: fn(String) -> ApiError) -> ApiError {
    match e {
        RuntimeError::Refused(r) => resource(r.to_string()),
        RuntimeError::Store(_) => ApiError::Io,
        other => ApiError::Internal { detail: other.to_string(), bad_request: false },
    }
}

/// `POST {base}/v1/msgevent`.
pub(crate) async fn msgevent(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    req: Request,
) -> Response {
    respond(
        async {
            route(&state, path, &req)?;
            let (parts, body) = req.into_parts();
            let caller = authenticate(&state, &parts.headers).await?;
            let bytes = request::read_body(&parts.headers, body).await?;
            let ev = validate_msgevent(&parse_object(&bytes, &MSGEVENT)?)?;
            let result = raise(&state, &ev).await;
            state.audit(&AuditRecord {
                resource: "msgevent",
                client_id: caller.account.client_id.clone(),
                user: caller.user.name.clone(),
                message_name: Some(ev.event.clone()),
                project: ev.project.clone(),
                jobnet: ev.jobnet.clone(),
                vparam: ev.vparam.is_some(),
                suffix: ev.suffix.is_some(),
                result: result.as_ref().map_or_else(|e| format!("{} {e}", e.code()), |()| "accepted".into()),
            });
            result.map(|()| empty_envelope())
        }
        .await,
    )
}

async fn raise(state: &AppState, ev: &MsgEvent) -> Result<(), ApiError> {
    let h = state.handle();
    if let Some(p) = &ev.project {
        let views = h.jobnets().await.map_err(|e| runtime_error(e, ApiError::MsgEvent))?;
        if !views.iter().any(|v| *v.key.project == **p) {
            return Err(ApiError::MsgEvent(PROJECT_NOT_FOUND.into()));
        }
        if let Some(j) = &ev.jobnet
            && !views.iter().any(|v| *v.key.project == **p && *v.key.jobnet == **j)
        {
            return Err(ApiError::MsgEvent(JOBNET_NOT_FOUND.into()));
        }
    }
    let req = RaiseRequest {
        event: &ev.event,
        project: ev.project.as_deref(),
        jobnet: ev.jobnet.as_deref(),
        vparam: ev.vparam.as_deref(),
        suffix: ev.suffix.as_deref(),
    };
    match h.raise_event(&req).await {
        Ok(_) => Ok(()),
        // The engine's own name rules (definition files) refused a value the
        // API's rules let through: report it as that parameter's error.
        Err(RuntimeError::Refused(Refusal::Invalid { field, .. })) => {
            let key = api_key(field);
            let value = match key {
                "messagename" => Some(ev.event.as_str()),
                "projectname" => ev.project.as_deref(),
                "jobnetname" => ev.jobnet.as_deref(),
                "suffix" => ev.suffix.as_deref(),
                _ => ev.vparam.as_deref(),
            };
            Err(invalid(key, value.unwrap_or("")))
        }
        Err(e) => Err(runtime_error(e, ApiError::MsgEvent)),
    }
}

/// `POST {base}/v1/msgclear`.
pub(crate) async fn msgclear(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    req: Request,
) -> Response {
    respond(
        async {
            route(&state, path, &req)?;
            let (parts, body) = req.into_parts();
            let caller = authenticate(&state, &parts.headers).await?;
            let bytes = request::read_body(&parts.headers, body).await?;
            let fields = parse_object(&bytes, &MSGCLEAR)?;
            let mut names = [None, None];
            for (slot, key) in names.iter_mut().zip(["projectname", "jobnetname"]) {
                *slot = match string_field(&fields, key)? {
                    Some(v) if !is_woi_name(v, 50) => return Err(invalid(key, v)),
                    v => v.map(str::to_string),
                };
            }
            let [project, jobnet] = names;
            let result = clear(&state, &caller.user, project.as_deref(), jobnet.as_deref()).await;
            state.audit(&AuditRecord {
                resource: "msgclear",
                client_id: caller.account.client_id.clone(),
                user: caller.user.name.clone(),
                message_name: None,
                project,
                jobnet,
                vparam: false,
                suffix: false,
                result: result.as_ref().map_or_else(|e| format!("{} {e}", e.code()), |()| "accepted".into()),
            });
            result.map(|()| empty_envelope())
        }
        .await,
    )
}

/// msgclear eligibility (§3.5): `operation` or `update` on the project; admins everywhere.
fn eligible(user: &JobUser, project: &str) -> bool {
    user.right_on(project).is_some_and(Right::can_operate)
}

async fn clear(state: &AppState, user: &JobUser, project: Option<&str>, jobnet: Option<&str>) -> Result<(), ApiError> {
    let h = state.handle();
    let fail = |e| runtime_error(e, ApiError::MsgClear);
    let views: Vec<JobnetView> = h.jobnets().await.map_err(fail)?;
    let projects: BTreeSet<&str> = views.iter().map(|v| &*v.key.project).collect();
    let has_jobnet = |p: &str, j: &str| views.iter().any(|v| *v.key.project == *p && *v.key.jobnet == *j);
    let targets: Vec<(Option<&str>, Option<&str>)> = match (project, jobnet) {
        (None, None) => {
            let mine: Vec<&str> = projects.iter().copied().filter(|p| eligible(user, p)).collect();
            if mine.is_empty() {
                return Err(ApiError::MsgClear(NO_VALID_PROJECT.into()));
            }
            if user.admin { vec![(None, None)] } else { mine.into_iter().map(|p| (Some(p), None)).collect() }
        }
        (Some(p), None) => {
            if !projects.contains(p) || !eligible(user, p) {
                return Err(ApiError::MsgClear(project_unavailable(p)));
            }
            vec![(Some(p), None)]
        }
        (None, Some(j)) => {
            let candidates: Vec<&str> =
                projects.iter().copied().filter(|p| eligible(user, p) && has_jobnet(p, j)).collect();
            match candidates.as_slice() {
                [] => return Err(ApiError::MsgClear(JOBNET_NOT_FOUND.into())),
                [p] => vec![(Some(*p), Some(j))],
                _ => return Err(ApiError::MsgClear(jobnet_in_several_projects(j))),
            }
        }
        (Some(p), Some(j)) => {
            if !projects.contains(p) || !eligible(user, p) {
                return Err(ApiError::MsgClear(project_unavailable(p)));
            }
            if !has_jobnet(p, j) {
                return Err(ApiError::MsgClear(JOBNET_NOT_FOUND.into()));
            }
            vec![(Some(p), Some(j))]
        }
    };
    for (p, j) in targets {
        h.clear_events(p, j).await.map_err(fail)?;
    }
    Ok(())
}
