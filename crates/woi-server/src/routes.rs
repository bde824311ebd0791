//! The route table: every path of the server with its methods. The router
//! and the OpenAPI document are both built from it, so the document lists
//! exactly the routes the router serves.

use axum::extract::State;
use axum::http::Uri;
use axum::routing::{MethodRouter, any, delete, get, post, put};

use crate::error::ApiError;
use crate::{AppState, admin, definitions, executions, layer_a, layer_b, msgevents, openapi, operations, token};

/// One route: its path template, methods, a summary and its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteInfo {
    /// The path template, `{name}` for parameters.
    pub path: &'static str,
    /// The methods, as in the `Allow` header (`GET, POST`).
    pub methods: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// `token`, `layer-a`, `msgevents`, `executions`, `operations`, `definitions`, `admin` or `meta`.
    pub tag: &'static str,
}

/// A 405 (or 404 under a foreign tenant/environment) for the other methods of a known path.
fn allow(mr: MethodRouter<AppState>, methods: &'static str) -> MethodRouter<AppState> {
    mr.fallback(move |State(state): State<AppState>, uri: Uri| async move {
        if layer_b::base_matches(&state, uri.path()) {
            ApiError::MethodNotAllowed { allow: methods }
        } else {
            ApiError::NotFound
        }
    })
}

macro_rules! r {
    ($path:expr, $methods:expr, $tag:expr, $summary:expr, $mr:expr) => {
        (RouteInfo { path: $path, methods: $methods, summary: $summary, tag: $tag }, $mr)
    };
}

/// Every route with its handlers.
pub(crate) fn routes() -> Vec<(RouteInfo, MethodRouter<AppState>)> {
    let rows: Vec<(RouteInfo, MethodRouter<AppState>)> = vec![
        r!(
            "/{tenant}/oauth2/v2.0/token",
            "POST",
            "token",
            "OAuth2 client credentials: a bearer token",
            any(token::token_endpoint)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/msgevent",
            "POST",
            "layer-a",
            "Raise a message event",
            any(layer_a::msgevent)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/msgclear",
            "POST",
            "layer-a",
            "Invalidate raised message events",
            any(layer_a::msgclear)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/msgevents/occurrences",
            "GET",
            "msgevents",
            "Raised message events visible to the caller (?event, ?after, ?wait long-polls)",
            get(msgevents::occurrences)
        ),
        r!(
            "/{tenant}/{environment}/api/openapi.json",
            "GET",
            "meta",
            "This OpenAPI document (no authentication)",
            get(openapi::serve_document)
        ),
        // executions
        r!(
            "/{tenant}/{environment}/api/v1/executions/jobnets",
            "GET",
            "executions",
            "List jobnet executions (filters, sort, paging)",
            get(executions::list_jobnets)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/executions/jobnets/{id}",
            "GET, DELETE",
            "executions",
            "Get a jobnet execution (jobs, messages; ?wait long-polls); DELETE deletes a queued run or cancels a running one",
            get(executions::get_jobnet).delete(executions::cancel_jobnet)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/executions/jobnets/{id}/messages",
            "GET",
            "executions",
            "Messages of a jobnet execution",
            get(executions::jobnet_messages)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/executions/jobs",
            "GET",
            "executions",
            "List job executions (filters, sort, paging)",
            get(executions::list_jobs)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/executions/jobs/{id}",
            "GET, DELETE",
            "executions",
            "Get a job execution; DELETE force-terminates it",
            get(executions::get_job).delete(executions::cancel_job)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/executions/jobs/{id}/messages",
            "GET",
            "executions",
            "Messages of a job execution",
            get(executions::job_messages)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/executions/jobs/{id}/output",
            "GET",
            "executions",
            "Captured output of a job execution (text/plain)",
            get(executions::job_output)
        ),
        // operations
        r!(
            "/{tenant}/{environment}/api/v1/operations",
            "GET",
            "operations",
            "List operations (newest first)",
            get(operations::list_operations)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/operations/{key}",
            "GET",
            "operations",
            "Poll an operation (?wait=N long-polls)",
            get(operations::get_operation)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/projects/{project}/jobnets/{jobnet}/actions/{action}",
            "POST",
            "operations",
            "Jobnet operation (start, start-vparam, restart, cancel → 202; others → 200)",
            post(operations::jobnet_action)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/projects/{project}/jobnets/{jobnet}/jobs/{number}/actions/{action}",
            "POST",
            "operations",
            "Job operation (cancel, restart → 202; pause, continue, disable, enable → 200)",
            post(operations::job_action)
        ),
        // definitions
        r!(
            "/{tenant}/{environment}/api/v1/projects",
            "GET, POST",
            "definitions",
            "List or create projects",
            get(definitions::list_projects).post(definitions::create_project)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/projects/{project}",
            "GET, DELETE",
            "definitions",
            "Get or delete a project",
            get(definitions::get_project).delete(definitions::delete_project)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/projects/{project}/acl",
            "GET, PUT",
            "definitions",
            "Get or replace a project's access rights",
            get(definitions::get_acl).put(definitions::put_acl)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/projects/{project}/jobnets",
            "GET, POST",
            "definitions",
            "List or create jobnets",
            get(definitions::list_jobnets).post(definitions::create_jobnet)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/projects/{project}/jobnets/{jobnet}",
            "GET, PUT, DELETE",
            "definitions",
            "Get, replace or delete a jobnet",
            get(definitions::get_jobnet).put(definitions::put_jobnet).delete(definitions::delete_jobnet)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/projects/{project}/jobnets/{jobnet}/status",
            "GET",
            "definitions",
            "Current status, next start and latest execution of a jobnet",
            get(definitions::jobnet_status)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/projects/{project}/jobnets/{jobnet}/msgevents",
            "GET",
            "definitions",
            "Message-event counts of a jobnet: one MessageEventStatus per waited event",
            get(definitions::jobnet_msgevents)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/projects/{project}/jobnets/{jobnet}/executions",
            "GET",
            "executions",
            "Executions of one jobnet",
            get(executions::list_of_jobnet)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/projects/{project}/jobnets/{jobnet}/jobs",
            "GET, POST",
            "definitions",
            "List or add jobs of a jobnet",
            get(definitions::list_jobs).post(definitions::create_job)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/projects/{project}/jobnets/{jobnet}/jobs/{number}",
            "GET, PUT, DELETE",
            "definitions",
            "Get, replace or delete a job",
            get(definitions::get_job).put(definitions::put_job).delete(definitions::delete_job)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/calendars",
            "GET, POST",
            "definitions",
            "List or create calendars",
            get(definitions::list_calendars).post(definitions::create_calendar)
        ),
        r!(
            "/{tenant}/{environment}/api/v1/calendars/{calendar}",
            "GET, PUT, DELETE",
            "definitions",
            "Get, replace or delete a calendar",
            get(definitions::get_calendar).put(definitions::put_calendar).delete(definitions::delete_calendar)
        ),
        // admin
        r!(
            "/{tenant}/{environment}/admin/v1/jobusers",
            "GET, POST",
            "admin",
            "List (search, direction) or create job-management users",
            get(admin::list_users).post(admin::create_user)
        ),
        r!(
            "/{tenant}/{environment}/admin/v1/jobusers/{name}",
            "DELETE, PATCH",
            "admin",
            "Delete a job-management user (PATCH: name and admin are immutable)",
            delete(admin::delete_user).patch(admin::patch_user)
        ),
        r!(
            "/{tenant}/{environment}/admin/v1/jobusers/{name}/password",
            "PUT",
            "admin",
            "Change a job-management user's password",
            put(admin::set_password)
        ),
        r!(
            "/{tenant}/{environment}/admin/v1/apiaccounts",
            "GET, POST",
            "admin",
            "List (search, direction) or create Web API accounts",
            get(admin::list_accounts).post(admin::create_account)
        ),
        r!(
            "/{tenant}/{environment}/admin/v1/apiaccounts/{name}",
            "GET, DELETE, PATCH",
            "admin",
            "Get or delete a Web API account (PATCH: the name is immutable)",
            get(admin::get_account).delete(admin::delete_account).patch(admin::patch_account)
        ),
        r!(
            "/{tenant}/{environment}/admin/v1/apiaccounts/{name}/secrets/{slot}",
            "POST, DELETE",
            "admin",
            "Create/regenerate (shown once) or delete a client secret",
            post(admin::create_secret).delete(admin::delete_secret)
        ),
    ];
    rows.into_iter()
        .map(|(info, mr)| {
            let mr = if info.methods == "POST" && matches!(info.tag, "token" | "layer-a") {
                mr // these check the method themselves (405 after the tenant check)
            } else {
                allow(mr, info.methods)
            };
            (info, mr)
        })
        .collect()
}

/// Every route of the router (path, methods, summary).
pub fn route_table() -> Vec<RouteInfo> {
    routes().into_iter().map(|(info, _)| info).collect()
}
