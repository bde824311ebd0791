//! Definitions CRUD (spec 04 §3.10) for projects, jobnets, jobs and
//! calendars, with the rights of §3.11.
//!
//! The definitions are the applied definition files of the scheduler's
//! store (`woi apply`). A read merges them (as `woi validate` does); a write
//! changes the merged definitions, validates the whole with
//! `Catalog::compile` — the same checks as `woi validate` — and stores the
//! result as one file, `webapi.json`, replacing the previous files. Bodies
//! carry the definition-file objects (`docs/definitions.md`) unchanged as
//! JSON. A change takes effect at once in the running scheduler (spec 01
//! §3.15): changed jobnets and their jobs are reset to `Waiting`, the others
//! keep their state; a change to an executing jobnet is refused with
//! `409 OM_API_01013 jobnet=<P/N>` and nothing is stored.
//!
//! Every handler follows the order of spec 04 §3.1: the body is read and
//! validated (steps 5–11) before the resource is looked up and the caller's
//! right checked (step 12, `404 OM_API_00050` / `403 OM_API_01003`); the
//! checks that need the resource (already exists, in use, limits, the
//! whole-definitions validation of `save`) come after that.

use std::sync::LazyLock;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};
use woi_adapters::auth::Right;
use woi_core::Catalog;
use woi_core::defs::SYSTEM_CALENDAR;
use woi_core::engine::JobnetView;
use woi_core::model::{CalendarDef, Definitions, JobDef, JobnetDef, ProjectDef};
use woi_core::store::{DefinitionFile, Store};

use crate::AppState;
use crate::error::ApiError;
use crate::layer_b::{Caller, NoQuery, Params, located, ok, respond, rfc3339};
use crate::operations::{internal, status_object};
use crate::request::{Shape, invalid, is_woi_name, parse_object, read_body, string_field};

/// The file a Web API write stores the definitions in.
pub const WEBAPI_FILE: &str = "webapi.json";
/// Projects per environment [SWOM].
pub const MAX_PROJECTS: usize = 1000;
/// Jobs per jobnet [SWOM].
pub const MAX_JOBS: usize = 255;
/// Project names the system reserves [SWOM].
const RESERVED_PROJECTS: [&str; 2] = ["temp", "core"];

fn store(state: &AppState) -> Result<&std::sync::Arc<woi_adapters::sqlite::SqliteStore>, ApiError> {
    state.store().ok_or_else(|| internal("the server has no definitions store"))
}

/// The merged definitions of the store.
async fn load(state: &AppState) -> Result<Definitions, ApiError> {
    let files = store(state)?.definitions().await.map_err(|_| ApiError::Io)?;
    let mut cat = Catalog::new();
    for f in &files {
        cat.add_text(&f.name, &f.text);
    }
    Ok(cat.defs)
}

/// Validate the whole and store it (`400 OM_API_00010 <field>=<problem>` when invalid).
async fn save(state: &AppState, defs: &Definitions) -> Result<(), ApiError> {
    let mut cat = Catalog::new();
    cat.add(Some(WEBAPI_FILE.into()), defs.clone());
    let env = match cat.compile() {
        Ok(env) => env,
        Err(diags) => {
            let d = diags.into_iter().next();
            let field = d.as_ref().map_or("definition".to_string(), |d| {
                if d.field.is_empty() { "definition".into() } else { d.field.clone() }
            });
            let problem = d.map(|d| format!("{}: {}", d.object, d.message)).unwrap_or_default();
            return Err(invalid(&field, &problem));
        }
    };
    // Live: changed jobnets reset to Waiting; refused while one executes (spec 01 §3.15).
    match state.handle().reload(env).await {
        Ok(_) => {}
        Err(woi_adapters::runtime::RuntimeError::Refused(woi_core::Refusal::Refused { target, .. })) => {
            return Err(ApiError::InUse { field: "jobnet".into(), value: target });
        }
        Err(e) => return Err(internal(e)),
    }
    let text = serde_json::to_string_pretty(defs).map_err(internal)?;
    let file = DefinitionFile { name: WEBAPI_FILE.into(), text };
    store(state)?.set_definitions(&[file]).await.map_err(|_| ApiError::Io)
}

fn project_names(defs: &Definitions) -> Vec<String> {
    let mut names: Vec<String> =
        defs.projects.iter().map(|p| p.name.clone()).chain(defs.jobnets.iter().map(|j| j.project.clone())).collect();
    names.sort();
    names.dedup();
    names
}

async fn views(state: &AppState) -> Result<Vec<JobnetView>, ApiError> {
    state.handle().jobnets().await.map_err(internal)
}

fn running(v: &JobnetView) -> bool {
    matches!(
        v.status,
        woi_core::JobnetStatus::Executing | woi_core::JobnetStatus::Warning | woi_core::JobnetStatus::Paused
    )
}

/// The project exists (in the definitions or the scheduler) and the caller sees it.
async fn visible_project(state: &AppState, caller: &Caller, p: &str) -> Result<Definitions, ApiError> {
    let defs = load(state).await?;
    let known = project_names(&defs).iter().any(|n| n == p) || views(state).await?.iter().any(|v| *v.key.project == *p);
    if !known || !caller.sees(p) {
        return Err(ApiError::NotFound);
    }
    Ok(defs)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProjectWire {
    project_name: String,
    owner: String,
    jobnets: usize,
}

fn project_wire(defs: &Definitions, p: &str) -> ProjectWire {
    let owner = defs.projects.iter().find(|d| d.name == p).map_or("jobuser".to_string(), |d| d.owner.clone());
    ProjectWire { project_name: p.into(), owner, jobnets: defs.jobnets.iter().filter(|j| j.project == p).count() }
}

/// `GET {base}/v1/projects`.
pub(crate) async fn list_projects(State(state): State<AppState>, caller: Caller, _: NoQuery) -> Response {
    respond(
        async {
            let defs = load(&state).await?;
            let mut names = project_names(&defs);
            names.extend(views(&state).await?.iter().map(|v| v.key.project.to_string()));
            names.sort();
            names.dedup();
            Ok(ok(names.iter().filter(|p| caller.sees(p)).map(|p| project_wire(&defs, p)).collect()))
        }
        .await,
    )
}

const NEW_PROJECT: Shape = Shape { keys: &["projectName"], aliases: &[], required: &["projectName"] };

/// `POST {base}/v1/projects` (admin).
pub(crate) async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    _: NoQuery,
    req: axum::extract::Request,
) -> Response {
    respond(
        async {
            // §3.1: the body (steps 5–10) before the permission (step 12).
            let (parts, body) = req.into_parts();
            let fields = parse_object(&read_body(&parts.headers, body).await?, &NEW_PROJECT)?;
            let name = string_field(&fields, "projectName")?.unwrap_or_default().to_string();
            if !is_woi_name(&name, woi_core::text::limits::PROJECT_NAME) || RESERVED_PROJECTS.contains(&name.as_str()) {
                return Err(invalid("projectName", &name));
            }
            if !caller.user.admin {
                return Err(ApiError::Forbidden("project.create".into()));
            }
            let mut defs = load(&state).await?;
            let names = project_names(&defs);
            if names.contains(&name) || views(&state).await?.iter().any(|v| *v.key.project == *name) {
                return Err(ApiError::Exists { field: "projectName".into(), value: name });
            }
            if names.len() >= MAX_PROJECTS {
                return Err(ApiError::Limit { resource: "project".into(), limit: MAX_PROJECTS });
            }
            defs.projects.push(ProjectDef { name: name.clone(), owner: "jobuser".into(), access: Vec::new() });
            save(&state, &defs).await?;
            let uri = format!("{}/v1/projects/{name}", state.config().base());
            Ok(located(StatusCode::CREATED, &uri, project_wire(&defs, &name)))
        }
        .await,
    )
}

/// `GET {base}/v1/projects/{p}`.
pub(crate) async fn get_project(State(state): State<AppState>, caller: Caller, params: Params, _: NoQuery) -> Response {
    respond(
        async {
            let p = params.get("project");
            let defs = visible_project(&state, &caller, p).await?;
            Ok(ok(vec![project_wire(&defs, p)]))
        }
        .await,
    )
}

/// `DELETE {base}/v1/projects/{p}` (admin): refused while a jobnet of it runs.
pub(crate) async fn delete_project(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
) -> Response {
    respond(
        async {
            let p = params.get("project");
            let mut defs = visible_project(&state, &caller, p).await?;
            if !caller.user.admin {
                return Err(ApiError::Forbidden("project.delete".into()));
            }
            if views(&state).await?.iter().any(|v| *v.key.project == *p && running(v)) {
                return Err(ApiError::InUse { field: "projectName".into(), value: p.into() });
            }
            defs.projects.retain(|d| d.name != p);
            defs.jobnets.retain(|j| j.project != p);
            save(&state, &defs).await?;
            Ok(ok(Vec::<()>::new()))
        }
        .await,
    )
}

#[derive(Serialize)]
struct AclEntry {
    user: String,
    right: &'static str,
}

/// `GET {base}/v1/projects/{p}/acl`: the rights of job-management users (`auth.db`).
pub(crate) async fn get_acl(State(state): State<AppState>, caller: Caller, params: Params, _: NoQuery) -> Response {
    respond(
        async {
            let p = params.get("project").to_string();
            visible_project(&state, &caller, &p).await?;
            let auth = state.auth().clone();
            let users = crate::blocking(move || auth.users()).await?;
            let entries: Vec<AclEntry> = users
                .iter()
                .filter_map(|u| u.rights.get(&p).map(|r| AclEntry { user: u.name.clone(), right: r.as_str() }))
                .collect();
            Ok(ok(vec![json!({ "projectName": p, "entries": entries })]))
        }
        .await,
    )
}

const ACL: Shape = Shape { keys: &["entries"], aliases: &[], required: &["entries"] };

/// `PUT {base}/v1/projects/{p}/acl` (admin): replace the whole ACL.
pub(crate) async fn put_acl(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
    req: axum::extract::Request,
) -> Response {
    respond(
        async {
            let p = params.get("project").to_string();
            // §3.1: the body (steps 5–10) before lookup and permission (step 12).
            let (parts, body) = req.into_parts();
            let fields = parse_object(&read_body(&parts.headers, body).await?, &ACL)?;
            let Some(Value::Array(items)) = fields.get("entries") else {
                return Err(invalid("entries", &fields.get("entries").map(Value::to_string).unwrap_or_default()));
            };
            let mut wanted: Vec<(String, Right)> = Vec::new();
            for item in items {
                // No user is named "" (a missing or non-string `user`).
                let user = item.get("user").and_then(Value::as_str).unwrap_or_default();
                if user.is_empty() {
                    return Err(invalid("user", user));
                }
                let right = item.get("right").and_then(Value::as_str).unwrap_or_default();
                let r = Right::parse(right).ok_or_else(|| invalid("right", right))?;
                wanted.push((user.to_string(), r));
            }
            visible_project(&state, &caller, &p).await?;
            if !caller.user.admin {
                return Err(ApiError::Forbidden("project.acl".into()));
            }
            // Left after the permission on purpose: whether a user exists
            // needs the user store, and checked earlier it would let a caller
            // without the right learn which user names exist.
            let auth = state.auth().clone();
            let users = {
                let auth = auth.clone();
                crate::blocking(move || auth.users()).await?
            };
            if let Some((user, _)) = wanted.iter().find(|(w, _)| !users.iter().any(|u| u.name == *w)) {
                return Err(invalid("user", user));
            }
            let p2 = p.clone();
            crate::blocking(move || {
                for u in &users {
                    if u.rights.contains_key(&p2) && !wanted.iter().any(|(w, _)| *w == u.name) {
                        auth.grant(&u.name, &p2, None)?;
                    }
                }
                for (u, r) in &wanted {
                    auth.grant(u, &p2, Some(*r))?;
                }
                Ok(())
            })
            .await?;
            Ok(ok(Vec::<()>::new()))
        }
        .await,
    )
}

/// `GET {base}/v1/projects/{p}/jobnets`: the jobnet definitions of the project.
pub(crate) async fn list_jobnets(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
) -> Response {
    respond(
        async {
            let p = params.get("project");
            let defs = visible_project(&state, &caller, p).await?;
            Ok(ok(defs.jobnets.iter().filter(|j| j.project == p).cloned().collect()))
        }
        .await,
    )
}

/// The serialized field names of a definition struct, read from its
/// `Deserialize` implementation (so the list follows the model).
fn field_names<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Error as _, Visitor};
    struct Fields<'a>(&'a mut &'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for Fields<'_> {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Self::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(Self::Error::custom("fields read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Fields(&mut fields));
    fields
}

static JOBNET_KEYS: LazyLock<&'static [&'static str]> = LazyLock::new(field_names::<JobnetDef>);
static JOB_KEYS: LazyLock<&'static [&'static str]> = LazyLock::new(field_names::<JobDef>);
/// A calendar body may also carry `calendarName` (as the responses do).
static CALENDAR_KEYS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| field_names::<CalendarDef>().iter().copied().chain(["calendarName"]).collect());

/// A definition body as a JSON object (spec 04 §3.1 steps 5–8): not an
/// object → `00099`; a duplicated key → `00013`; a key the definition does
/// not have → `00012`; `null` values dropped.
async fn definition_object(
    req: axum::extract::Request,
    keys: &'static [&'static str],
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = read_body(&parts.headers, body).await?;
    let fields = parse_object(&bytes, &Shape { keys, aliases: &[], required: &[] })?;
    Ok(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// Parse a jobnet definition body for project `p` (and name `j` on PUT).
async fn jobnet_body(req: axum::extract::Request, p: &str, j: Option<&str>) -> Result<JobnetDef, ApiError> {
    let mut obj = definition_object(req, &JOBNET_KEYS).await?;
    match obj.get("project").and_then(Value::as_str) {
        None => {
            obj.insert("project".into(), Value::String(p.into()));
        }
        Some(given) if given != p => return Err(invalid("project", given)),
        Some(_) => {}
    }
    if let Some(j) = j {
        match obj.get("name").and_then(Value::as_str) {
            None => {
                obj.insert("name".into(), Value::String(j.into()));
            }
            Some(given) if given != j => return Err(invalid("name", given)),
            Some(_) => {}
        }
    }
    serde_json::from_value(Value::Object(obj)).map_err(|e| invalid("jobnet", &e.to_string()))
}

fn jobnet_uri(state: &AppState, p: &str, j: &str) -> String {
    format!("{}/v1/projects/{p}/jobnets/{j}", state.config().base())
}

/// `POST {base}/v1/projects/{p}/jobnets` (change or update).
pub(crate) async fn create_jobnet(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
    req: axum::extract::Request,
) -> Response {
    respond(
        async {
            let p = params.get("project");
            // §3.1: the body (steps 5–10) before lookup and permission (step 12).
            let def = jobnet_body(req, p, None).await?;
            let mut defs = visible_project(&state, &caller, p).await?;
            if !caller.defines(p) {
                return Err(ApiError::Forbidden("jobnet.create".into()));
            }
            if defs.jobnets.iter().any(|x| x.project == p && x.name == def.name) {
                return Err(ApiError::Exists { field: "jobnetName".into(), value: def.name });
            }
            defs.jobnets.push(def.clone());
            // The whole-definitions validation (`Catalog::compile`, e.g. a
            // reference to another jobnet) needs the stored definitions: after lookup.
            save(&state, &defs).await?;
            Ok(located(StatusCode::CREATED, &jobnet_uri(&state, p, &def.name), def))
        }
        .await,
    )
}

/// The visible jobnet definition `p/j` and the merged definitions.
async fn visible_jobnet_def(
    state: &AppState,
    caller: &Caller,
    p: &str,
    j: &str,
) -> Result<(Definitions, usize), ApiError> {
    let defs = visible_project(state, caller, p).await?;
    let i = defs.jobnets.iter().position(|x| x.project == p && x.name == j).ok_or(ApiError::NotFound)?;
    Ok((defs, i))
}

async fn refuse_if_running(state: &AppState, p: &str, j: &str) -> Result<(), ApiError> {
    if views(state).await?.iter().any(|v| *v.key.project == *p && *v.key.jobnet == *j && running(v)) {
        return Err(ApiError::InUse { field: "jobnetName".into(), value: j.into() });
    }
    Ok(())
}

/// `GET {base}/v1/projects/{p}/jobnets/{j}`.
pub(crate) async fn get_jobnet(State(state): State<AppState>, caller: Caller, params: Params, _: NoQuery) -> Response {
    respond(
        async {
            let (p, j) = (params.get("project"), params.get("jobnet"));
            let (defs, i) = visible_jobnet_def(&state, &caller, p, j).await?;
            Ok(ok(vec![defs.jobnets[i].clone()]))
        }
        .await,
    )
}

/// `PUT {base}/v1/projects/{p}/jobnets/{j}` (change or update; refused while it runs).
pub(crate) async fn put_jobnet(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
    req: axum::extract::Request,
) -> Response {
    respond(
        async {
            let (p, j) = (params.get("project"), params.get("jobnet"));
            // §3.1: the body (steps 5–10) before lookup and permission (step 12).
            let def = jobnet_body(req, p, Some(j)).await?;
            let (mut defs, i) = visible_jobnet_def(&state, &caller, p, j).await?;
            if !caller.defines(p) {
                return Err(ApiError::Forbidden("jobnet.change".into()));
            }
            refuse_if_running(&state, p, j).await?;
            defs.jobnets[i] = def.clone();
            // Whole-definitions validation: needs the stored definitions, so after lookup.
            save(&state, &defs).await?;
            Ok(ok(vec![def]))
        }
        .await,
    )
}

/// `DELETE {base}/v1/projects/{p}/jobnets/{j}` (change or update; refused while it runs).
pub(crate) async fn delete_jobnet(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
) -> Response {
    respond(
        async {
            let (p, j) = (params.get("project"), params.get("jobnet"));
            let (mut defs, i) = visible_jobnet_def(&state, &caller, p, j).await?;
            if !caller.defines(p) {
                return Err(ApiError::Forbidden("jobnet.delete".into()));
            }
            refuse_if_running(&state, p, j).await?;
            defs.jobnets.remove(i);
            save(&state, &defs).await?;
            Ok(ok(Vec::<()>::new()))
        }
        .await,
    )
}

/// `GET {base}/v1/projects/{p}/jobnets/{j}/status`.
pub(crate) async fn jobnet_status(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
) -> Response {
    respond(
        async {
            let (p, j) = (params.get("project"), params.get("jobnet"));
            let view = crate::operations::visible_jobnet(&state, &caller, p, j).await?;
            Ok(ok(vec![status_object(&state, &view).await?]))
        }
        .await,
    )
}

/// MessageEventStatus (spec 04 §2.6): one waited message event of a jobnet.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageEventStatus {
    /// The waited event.
    pub message_name: String,
    /// Raised, not yet consumed occurrences (at most 255, D5).
    pub count: u16,
    /// `count > 0`.
    pub occurred: bool,
    /// The last occurrence (RFC 3339 UTC), or null.
    pub last_occurred_at: Option<String>,
}

/// `GET {base}/v1/projects/{p}/jobnets/{j}/msgevents` (reference+): one
/// MessageEventStatus per waited event, in definition order.
pub(crate) async fn jobnet_msgevents(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
) -> Response {
    respond(
        async {
            let (p, j) = (params.get("project"), params.get("jobnet"));
            let view = crate::operations::visible_jobnet(&state, &caller, p, j).await?;
            let counts = state.handle().event_counts(&view.key).await.map_err(internal)?;
            Ok(ok(counts
                .into_iter()
                .map(|c| MessageEventStatus {
                    message_name: c.event,
                    count: c.count,
                    occurred: c.count > 0,
                    last_occurred_at: c.last_raised.map(rfc3339),
                })
                .collect()))
        }
        .await,
    )
}

/// `GET {base}/v1/projects/{p}/jobnets/{j}/jobs`.
pub(crate) async fn list_jobs(State(state): State<AppState>, caller: Caller, params: Params, _: NoQuery) -> Response {
    respond(
        async {
            let (p, j) = (params.get("project"), params.get("jobnet"));
            let (defs, i) = visible_jobnet_def(&state, &caller, p, j).await?;
            Ok(ok(defs.jobnets[i].jobs.clone()))
        }
        .await,
    )
}

async fn job_body(req: axum::extract::Request, number: Option<u16>) -> Result<JobDef, ApiError> {
    let mut obj = definition_object(req, &JOB_KEYS).await?;
    if let Some(n) = number {
        match obj.get("number") {
            None => {
                obj.insert("number".into(), json!(n));
            }
            Some(given) if given.as_u64() != Some(u64::from(n)) => return Err(invalid("number", &given.to_string())),
            Some(_) => {}
        }
    }
    serde_json::from_value(Value::Object(obj)).map_err(|e| invalid("job", &e.to_string()))
}

/// `POST {base}/v1/projects/{p}/jobnets/{j}/jobs` (change or update; at most 255 jobs).
pub(crate) async fn create_job(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
    req: axum::extract::Request,
) -> Response {
    respond(
        async {
            let (p, j) = (params.get("project"), params.get("jobnet"));
            // §3.1: the body (steps 5–10) before lookup and permission (step 12).
            let job = job_body(req, None).await?;
            let (mut defs, i) = visible_jobnet_def(&state, &caller, p, j).await?;
            if !caller.defines(p) {
                return Err(ApiError::Forbidden("job.create".into()));
            }
            refuse_if_running(&state, p, j).await?;
            if defs.jobnets[i].jobs.len() >= MAX_JOBS {
                return Err(ApiError::Limit { resource: "job".into(), limit: MAX_JOBS });
            }
            if defs.jobnets[i].jobs.iter().any(|x| x.number == job.number) {
                return Err(ApiError::Exists { field: "jobNumber".into(), value: job.number.to_string() });
            }
            defs.jobnets[i].jobs.push(job.clone());
            save(&state, &defs).await?;
            let uri = format!("{}/jobs/{}", jobnet_uri(&state, p, j), job.number);
            Ok(located(StatusCode::CREATED, &uri, job))
        }
        .await,
    )
}

fn job_index(defs: &Definitions, i: usize, params: &Params) -> Result<usize, ApiError> {
    let n: u16 = params.get("number").parse().map_err(|_| ApiError::NotFound)?;
    defs.jobnets[i].jobs.iter().position(|x| x.number == n).ok_or(ApiError::NotFound)
}

/// `GET {base}/v1/projects/{p}/jobnets/{j}/jobs/{n}`.
pub(crate) async fn get_job(State(state): State<AppState>, caller: Caller, params: Params, _: NoQuery) -> Response {
    respond(
        async {
            let (p, j) = (params.get("project"), params.get("jobnet"));
            let (defs, i) = visible_jobnet_def(&state, &caller, p, j).await?;
            let k = job_index(&defs, i, &params)?;
            Ok(ok(vec![defs.jobnets[i].jobs[k].clone()]))
        }
        .await,
    )
}

/// `PUT {base}/v1/projects/{p}/jobnets/{j}/jobs/{n}` (change or update).
pub(crate) async fn put_job(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
    req: axum::extract::Request,
) -> Response {
    respond(
        async {
            let (p, j) = (params.get("project"), params.get("jobnet"));
            // A `{n}` that is not a job number names no job at all: 404 as
            // routing (step 1), before the body.
            let n: u16 = params.get("number").parse().map_err(|_| ApiError::NotFound)?;
            // §3.1: the body (steps 5–10) before lookup and permission (step 12).
            let job = job_body(req, Some(n)).await?;
            let (mut defs, i) = visible_jobnet_def(&state, &caller, p, j).await?;
            let k = job_index(&defs, i, &params)?;
            if !caller.defines(p) {
                return Err(ApiError::Forbidden("job.change".into()));
            }
            refuse_if_running(&state, p, j).await?;
            defs.jobnets[i].jobs[k] = job.clone();
            save(&state, &defs).await?;
            Ok(ok(vec![job]))
        }
        .await,
    )
}

/// `DELETE {base}/v1/projects/{p}/jobnets/{j}/jobs/{n}` (change or update).
pub(crate) async fn delete_job(State(state): State<AppState>, caller: Caller, params: Params, _: NoQuery) -> Response {
    respond(
        async {
            let (p, j) = (params.get("project"), params.get("jobnet"));
            let (mut defs, i) = visible_jobnet_def(&state, &caller, p, j).await?;
            let k = job_index(&defs, i, &params)?;
            if !caller.defines(p) {
                return Err(ApiError::Forbidden("job.delete".into()));
            }
            refuse_if_running(&state, p, j).await?;
            defs.jobnets[i].jobs.remove(k);
            save(&state, &defs).await?;
            Ok(ok(Vec::<()>::new()))
        }
        .await,
    )
}

/// A calendar as JSON: the definition-file object plus `calendarName`.
fn calendar_wire(c: &CalendarDef) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_else(|_| json!({}));
    if let Some(obj) = v.as_object_mut() {
        obj.insert("calendarName".into(), Value::String(c.name.clone()));
    }
    v
}

fn calendars(defs: &Definitions) -> Vec<CalendarDef> {
    let mut out = defs.calendars.clone();
    if !out.iter().any(|c| c.name == SYSTEM_CALENDAR) {
        // The built-in calendar: day change 00:00, every day an operating day [WOI 4.3].
        out.insert(
            0,
            CalendarDef { name: SYSTEM_CALENDAR.into(), day_change: Default::default(), holidays: Vec::new() },
        );
    }
    out
}

/// `GET {base}/v1/calendars` (any authenticated user).
pub(crate) async fn list_calendars(State(state): State<AppState>, _: Caller, _: NoQuery) -> Response {
    respond(async { Ok(ok(calendars(&load(&state).await?).iter().map(calendar_wire).collect())) }.await)
}

/// `GET {base}/v1/calendars/{c}`.
pub(crate) async fn get_calendar(State(state): State<AppState>, _: Caller, params: Params, _: NoQuery) -> Response {
    respond(
        async {
            let c = params.get("calendar");
            let all = calendars(&load(&state).await?);
            let cal = all.iter().find(|x| x.name == c).ok_or(ApiError::NotFound)?;
            Ok(ok(vec![calendar_wire(cal)]))
        }
        .await,
    )
}

async fn calendar_body(req: axum::extract::Request, name: Option<&str>) -> Result<CalendarDef, ApiError> {
    let mut obj = definition_object(req, &CALENDAR_KEYS).await?;
    if let Some(n) = obj.remove("calendarName") {
        obj.entry("name").or_insert(n);
    }
    if let Some(name) = name {
        match obj.get("name").and_then(Value::as_str) {
            None => {
                obj.insert("name".into(), Value::String(name.into()));
            }
            Some(given) if given != name => return Err(invalid("name", given)),
            Some(_) => {}
        }
    }
    serde_json::from_value(Value::Object(obj)).map_err(|e| invalid("calendar", &e.to_string()))
}

/// `POST {base}/v1/calendars` (admin).
pub(crate) async fn create_calendar(
    State(state): State<AppState>,
    caller: Caller,
    _: NoQuery,
    req: axum::extract::Request,
) -> Response {
    respond(
        async {
            // §3.1: the body (steps 5–10) before the permission (step 12).
            let cal = calendar_body(req, None).await?;
            if !caller.user.admin {
                return Err(ApiError::Forbidden("calendar.create".into()));
            }
            let mut defs = load(&state).await?;
            if calendars(&defs).iter().any(|c| c.name == cal.name) {
                return Err(ApiError::Exists { field: "calendarName".into(), value: cal.name });
            }
            defs.calendars.push(cal.clone());
            save(&state, &defs).await?;
            let uri = format!("{}/v1/calendars/{}", state.config().base(), cal.name);
            Ok(located(StatusCode::CREATED, &uri, calendar_wire(&cal)))
        }
        .await,
    )
}

/// `PUT {base}/v1/calendars/{c}` (admin).
pub(crate) async fn put_calendar(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
    req: axum::extract::Request,
) -> Response {
    respond(
        async {
            let c = params.get("calendar");
            // §3.1: the body (steps 5–10) before lookup and permission (step 12).
            let cal = calendar_body(req, Some(c)).await?;
            let mut defs = load(&state).await?;
            if !calendars(&defs).iter().any(|x| x.name == c) {
                return Err(ApiError::NotFound);
            }
            if !caller.user.admin {
                return Err(ApiError::Forbidden("calendar.change".into()));
            }
            defs.calendars.retain(|x| x.name != c);
            defs.calendars.push(cal.clone());
            save(&state, &defs).await?;
            Ok(ok(vec![calendar_wire(&cal)]))
        }
        .await,
    )
}

/// `DELETE {base}/v1/calendars/{c}` (admin): never `SYSTEM_CALENDAR`, nor a calendar jobnets use.
pub(crate) async fn delete_calendar(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    _: NoQuery,
) -> Response {
    respond(
        async {
            let c = params.get("calendar");
            let mut defs = load(&state).await?;
            if !calendars(&defs).iter().any(|x| x.name == c) {
                return Err(ApiError::NotFound);
            }
            if !caller.user.admin {
                return Err(ApiError::Forbidden("calendar.delete".into()));
            }
            let used = defs.jobnets.iter().any(|j| j.startup_days.calendars.iter().any(|x| x == c));
            if c == SYSTEM_CALENDAR || used {
                return Err(ApiError::InUse { field: "calendarName".into(), value: c.into() });
            }
            defs.calendars.retain(|x| x.name != c);
            save(&state, &defs).await?;
            Ok(ok(Vec::<()>::new()))
        }
        .await,
    )
}
