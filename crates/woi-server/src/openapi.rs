//! The OpenAPI 3.1 document of the server, generated with `utoipa` from the
//! route table (every path and method the router serves, with its path
//! parameters) and the wire types (`ToSchema`). Served without
//! authentication at `GET /{tenant_id}/{environment_id}/api/openapi.json`.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Required, ResponseBuilder,
};

use crate::AppState;
use crate::error::{ApiError, json_response};
use crate::routes::route_table;

fn method(m: &str) -> Option<HttpMethod> {
    match m {
        "GET" => Some(HttpMethod::Get),
        "POST" => Some(HttpMethod::Post),
        "PUT" => Some(HttpMethod::Put),
        "DELETE" => Some(HttpMethod::Delete),
        "PATCH" => Some(HttpMethod::Patch),
        _ => None,
    }
}

/// The names of the `{parameters}` of a path template.
fn path_params(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}')).collect()
}

/// The document.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for route in route_table() {
        for m in route.methods.split(", ") {
            let Some(http) = method(m) else { continue };
            let mut op = OperationBuilder::new()
                .summary(Some(route.summary))
                .tag(route.tag)
                .operation_id(Some(format!("{} {}", m.to_ascii_lowercase(), route.path)));
            for p in path_params(route.path) {
                op = op.parameter(
                    ParameterBuilder::new().name(p).parameter_in(ParameterIn::Path).required(Required::True),
                );
            }
            let ok = match (route.tag, m) {
                (_, "POST") if route.path.contains("/actions/") => "200 (synchronous action) or 202 (operation)",
                ("admin" | "definitions", "POST") => "201 Created: data[0] is the new resource",
                _ => "Success: {\"next\",\"total\",\"data\"} (paged lists add \"pagination\")",
            };
            op = op.response("200", ResponseBuilder::new().description(ok)).response(
                "default",
                ResponseBuilder::new().description("Error: {\"code\":\"OM_API_xxxxx\",\"message\"}"),
            );
            paths = paths.path(route.path, PathItem::new(http, op.build()));
        }
    }
    let components = ComponentsBuilder::new()
        .schema_from::<crate::operations::Operation>()
        .schema_from::<crate::operations::Target>()
        .schema_from::<crate::operations::JobnetStatusObject>()
        .schema_from::<crate::operations::JobStatusObject>()
        .schema_from::<crate::definitions::MessageEventStatus>()
        .schema_from::<crate::executions::JobnetExecution>()
        .schema_from::<crate::executions::JobExecution>()
        .schema_from::<crate::executions::JobSummary>()
        .schema_from::<crate::executions::ExecutionMessage>()
        .schema_from::<crate::executions::TriggeredBy>()
        .schema_from::<crate::executions::OutputInfo>()
        .schema_from::<crate::layer_b::Pagination>()
        .schema_from::<crate::msgevents::OccurrenceObject>()
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("woi Web API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("WOI Web API (Layer A), the executions/operations/definitions extension (Layer B) and the admin API. See docs/web-api.md.")),
        )
        .paths(paths.build())
        .components(Some(components))
        .build()
}

/// `GET {base}/openapi.json`.
pub(crate) async fn serve_document(State(state): State<AppState>, uri: Uri) -> Response {
    if !crate::layer_b::base_matches(&state, uri.path()) {
        return ApiError::NotFound.into_response();
    }
    json_response(StatusCode::OK, &document())
}
