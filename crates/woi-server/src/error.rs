//! The `OM_API_xxxxx` catalogue (spec 04 §2.7) in one enum, and the RFC 6749
//! errors of the token endpoint.
//!
//! Every error answers with `{"code": "OM_API_…", "message": "…"}` and
//! `Content-Type: application/json;charset=UTF-8`; the message text is WOI's,
//! parameters filled in. Nothing here ever carries a password, secret or token.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use woi_adapters::auth::AuthError;

/// The content type of every JSON response (WOI 8.4.3.2: no space after `;`).
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// Sub-codes of `OM_API_00001` (the `code=` value, always 5 digits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthCode {
    /// No `X-FJWOI-AUTHORIZATION` header.
    NoUserHeader,
    /// `X-FJWOI-AUTHORIZATION` does not carry Basic credentials.
    NotBasic,
    /// The Basic credentials cannot be Base64-decoded (or are not UTF-8).
    BadBase64,
    /// User name and password are not joined by `:`.
    NoColon,
    /// The user name is empty.
    EmptyUser,
    /// No `Authorization` header.
    NoAuthorization,
    /// `Authorization` does not carry Bearer credentials.
    NotBearer,
    /// Bearer credentials malformed, or signature verification failed.
    BadToken,
    /// The access token has expired.
    TokenExpired,
    /// The token cannot be used with this service (claims, validity period, deleted account).
    TokenUnusable,
}

impl AuthCode {
    /// The 5-digit sub-code.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthCode::NoUserHeader => "00001",
            AuthCode::NotBasic => "00002",
            AuthCode::BadBase64 => "00003",
            AuthCode::NoColon => "00004",
            AuthCode::EmptyUser => "00005",
            AuthCode::NoAuthorization => "00011",
            AuthCode::NotBearer => "00012",
            AuthCode::BadToken => "00013",
            AuthCode::TokenExpired => "00014",
            AuthCode::TokenUnusable => "00015",
        }
    }
}

/// Every error of the API, WOI's codes and woi-server's `01xxx` extensions.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// `OM_API_00001` (401): an authentication header is missing or malformed.
    #[error("Authentication information is required. code={}", .0.as_str())]
    AuthRequired(AuthCode),
    /// `OM_API_00002` (401): the X-FJWOI user ID or password is wrong.
    #[error("The user ID or password is invalid.")]
    BadCredentials,
    /// `OM_API_00010` (400): bad value; `value` as sent (raw string or compact JSON).
    #[error("The parameter is invalid. {name}={value}")]
    InvalidParam {
        /// Parameter name.
        name: String,
        /// The value as sent.
        value: String,
    },
    /// `OM_API_00011` (400): a required parameter is missing or empty.
    #[error("A required parameter is not specified. param={0}")]
    MissingParam(String),
    /// `OM_API_00012` (400): a parameter that must not be given was given.
    #[error("An unnecessary parameter is specified. param={0}")]
    UnnecessaryParam(String),
    /// `OM_API_00013` (400): the same parameter appears more than once.
    #[error("The parameter is specified in duplicate. param={0}")]
    DuplicateParam(String),
    /// `OM_API_00050` (404): wrong path, tenant or environment; resource not found.
    #[error("The specified resource does not exist.")]
    NotFound,
    /// `OM_API_00050` (405): the path exists but not with this method; `allow` lists the methods.
    #[error("The specified resource does not exist.")]
    MethodNotAllowed {
        /// Value of the `Allow` header.
        allow: &'static str,
    },
    /// `OM_API_00090` (500): storage I/O error.
    #[error("An I/O error occurred.")]
    Io,
    /// `OM_API_00092` (500): the user/account store is unreachable (no trailing period).
    #[error("An error occurred while connecting to the authentication process")]
    AuthBackend,
    /// `OM_API_00099`: internal error (500), or a malformed request (400).
    #[error("An internal error occurred. detail={detail}")]
    Internal {
        /// What happened.
        detail: String,
        /// Caused by the request (400) rather than the server (500).
        bad_request: bool,
    },
    /// `OM_API_00900` (500): the scheduler rejected the raise; detail = engine message.
    #[error("Failed to process the msgevent resource. detail={0}")]
    MsgEvent(String),
    /// `OM_API_00910` (500): the scheduler rejected the clear; detail = engine message.
    #[error("Failed to process the msgclear resource. detail={0}")]
    MsgClear(String),
    /// `OM_API_01003` (403): the caller lacks the right.
    #[error("You do not have permission to perform this operation. operation={0}")]
    Forbidden(String),
    /// `OM_API_01009` (409): the resource already exists.
    #[error("The resource already exists. {field}={value}")]
    Exists {
        /// Field naming the resource.
        field: String,
        /// Its value.
        value: String,
    },
    /// `OM_API_01010` (409): the execution is not queued or running.
    #[error("The execution is not in 'queued' or 'running' state.")]
    NotActive,
    /// `OM_API_01011` (409): the operation is not valid in the current state.
    #[error("The operation cannot be performed in the current state. operation={operation} state={state}")]
    WrongState {
        /// The operation.
        operation: String,
        /// The current state.
        state: String,
    },
    /// `OM_API_01012` (409): the limit of a resource is reached.
    #[error("The maximum number of resources has been reached. resource={resource} limit={limit}")]
    Limit {
        /// Resource kind (`jobuser`, `apiaccount`, `job` …).
        resource: String,
        /// The limit.
        limit: usize,
    },
    /// `OM_API_01013` (409): the resource is in use.
    #[error("The resource is in use. {field}={value}")]
    InUse {
        /// Field naming the resource.
        field: String,
        /// Its value.
        value: String,
    },
    /// `OM_API_01015` (413): the body exceeds the limit (bytes).
    #[error("The request body is too large. limit={0}")]
    TooLarge(usize),
    /// `OM_API_01016` (415): a media type other than `application/json`.
    #[error("The media type is not supported. type={0}")]
    UnsupportedMediaType(String),
}

impl ApiError {
    /// The body of an unparsable request (§3.1 step 5).
    pub fn not_a_json_object() -> ApiError {
        ApiError::Internal { detail: "request body is not a JSON object".into(), bad_request: true }
    }

    /// The full message ID, e.g. `OM_API_00011`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::AuthRequired(_) => "OM_API_00001",
            ApiError::BadCredentials => "OM_API_00002",
            ApiError::InvalidParam { .. } => "OM_API_00010",
            ApiError::MissingParam(_) => "OM_API_00011",
            ApiError::UnnecessaryParam(_) => "OM_API_00012",
            ApiError::DuplicateParam(_) => "OM_API_00013",
            ApiError::NotFound | ApiError::MethodNotAllowed { .. } => "OM_API_00050",
            ApiError::Io => "OM_API_00090",
            ApiError::AuthBackend => "OM_API_00092",
            ApiError::Internal { .. } => "OM_API_00099",
            ApiError::MsgEvent(_) => "OM_API_00900",
            ApiError::MsgClear(_) => "OM_API_00910",
            ApiError::Forbidden(_) => "OM_API_01003",
            ApiError::Exists { .. } => "OM_API_01009",
            ApiError::NotActive => "OM_API_01010",
            ApiError::WrongState { .. } => "OM_API_01011",
            ApiError::Limit { .. } => "OM_API_01012",
            ApiError::InUse { .. } => "OM_API_01013",
            ApiError::TooLarge(_) => "OM_API_01015",
            ApiError::UnsupportedMediaType(_) => "OM_API_01016",
        }
    }

    /// The HTTP status (spec 04 §2.7 mapping).
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::AuthRequired(_) | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::InvalidParam { .. }
            | ApiError::MissingParam(_)
            | ApiError::UnnecessaryParam(_)
            | ApiError::DuplicateParam(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Internal { bad_request: true, .. } => StatusCode::BAD_REQUEST,
            ApiError::Io
            | ApiError::AuthBackend
            | ApiError::Internal { .. }
            | ApiError::MsgEvent(_)
            | ApiError::MsgClear(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Exists { .. }
            | ApiError::NotActive
            | ApiError::WrongState { .. }
            | ApiError::Limit { .. }
            | ApiError::InUse { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }

    /// The error body, `{"code": …, "message": …}`.
    fn wire_body(&self) -> ErrorBody<'static> {
        ErrorBody { code: self.code(), message: self.to_string() }
    }
}

/// The success envelope (spec 04 §3.3), keys in WOI's order.
#[derive(Debug, serde::Serialize)]
pub struct Envelope<T: serde::Serialize> {
    /// Objects remain that were not returned.
    pub next: bool,
    /// Objects in the whole result set.
    pub total: usize,
    /// The objects of this response.
    pub data: Vec<T>,
}

impl Envelope<()> {
    /// `{"next":false,"total":0,"data":[]}`.
    pub fn empty() -> Envelope<()> {
        Envelope { next: false, total: 0, data: Vec::new() }
    }
}

#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
}

#[derive(serde::Serialize)]
struct OAuthErrorBody<'a> {
    error: &'a str,
    error_description: String,
}

/// A JSON response with WOI's content type.
pub(crate) fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    let mut resp = (status, text).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = json_response(self.status(), &self.wire_body());
        if let ApiError::MethodNotAllowed { allow } = self {
            resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        resp
    }
}

/// Errors of the accounts-and-users store, as the admin API reports them
/// (spec 04 §3.12, decision D6): a bad field → 400 `OM_API_00010 field=value`
/// (passwords as `****`), a duplicate → 409 `01009`, a full store → 409
/// `01012`, a missing account, user or slot → 404 `00050`, an unreachable
/// store → 500 `00092`.
impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        match e {
            AuthError::Invalid { field, value, .. } => ApiError::InvalidParam { name: field.into(), value },
            AuthError::Exists { field, value, .. } => ApiError::Exists { field: field.into(), value },
            AuthError::Limit { resource, limit } => ApiError::Limit { resource: resource.into(), limit },
            AuthError::NotFound(_) => ApiError::NotFound,
            _ => ApiError::AuthBackend,
        }
    }
}

/// RFC 6749 §5.2 errors of the token endpoint: `{"error", "error_description"}`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// 400 `invalid_request`: missing or duplicate field, wrong content type.
    #[error("{0}")]
    InvalidRequest(String),
    /// 400 `unsupported_grant_type`.
    #[error("The grant type is not supported; use client_credentials.")]
    UnsupportedGrantType,
    /// 400 `invalid_scope`.
    #[error("The scope is not valid for this service.")]
    InvalidScope,
    /// 401 `invalid_client`: unknown client, wrong or expired secret.
    #[error("{}", if *.expired { "The client secret has expired." } else { "Client authentication failed." })]
    InvalidClient {
        /// The secret matched but has expired.
        expired: bool,
        /// The client authenticated with an HTTP Basic header (answer with `WWW-Authenticate`).
        basic: bool,
    },
    /// 500 `server_error`: the account store is unreachable.
    #[error("An error occurred while connecting to the authentication process")]
    ServerError,
}

impl TokenError {
    /// The RFC 6749 error code.
    pub fn error(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(_) => "invalid_request",
            TokenError::UnsupportedGrantType => "unsupported_grant_type",
            TokenError::InvalidScope => "invalid_scope",
            TokenError::InvalidClient { .. } => "invalid_client",
            TokenError::ServerError => "server_error",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            TokenError::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
            TokenError::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let body = OAuthErrorBody { error: self.error(), error_description: self.to_string() };
        let mut resp = json_response(self.status(), &body);
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let TokenError::InvalidClient { basic: true, .. } = self {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_texts_are_woi_s() {
        let cases: Vec<(ApiError, u16, &str, &str)> = vec![
            (
                ApiError::AuthRequired(AuthCode::NoAuthorization),
                401,
                "OM_API_00001",
                "Authentication information is required. code=00011",
            ),
            (ApiError::BadCredentials, 401, "OM_API_00002", "The user ID or password is invalid."),
            (
                ApiError::InvalidParam { name: "messagename".into(), value: "EV 1".into() },
                400,
                "OM_API_00010",
                "The parameter is invalid. messagename=EV 1",
            ),
            (
                ApiError::MissingParam("messagename".into()),
                400,
                "OM_API_00011",
                "A required parameter is not specified. param=messagename",
            ),
            (
                ApiError::UnnecessaryParam("host".into()),
                400,
                "OM_API_00012",
                "An unnecessary parameter is specified. param=host",
            ),
            (
                ApiError::DuplicateParam("messagename".into()),
                400,
                "OM_API_00013",
                "The parameter is specified in duplicate. param=messagename",
            ),
            (ApiError::NotFound, 404, "OM_API_00050", "The specified resource does not exist."),
            (
                ApiError::MethodNotAllowed { allow: "POST" },
                405,
                "OM_API_00050",
                "The specified resource does not exist.",
            ),
            (ApiError::Io, 500, "OM_API_00090", "An I/O error occurred."),
            (
                ApiError::AuthBackend,
                500,
                "OM_API_00092",
                "An error occurred while connecting to the authentication process",
            ),
            (
                ApiError::not_a_json_object(),
                400,
                "OM_API_00099",
                "An internal error occurred. detail=request body is not a JSON object",
            ),
            (
                ApiError::MsgEvent("MpJobsch: ERROR: 0416: The project is not found.".into()),
                500,
                "OM_API_00900",
                "Failed to process the msgevent resource. detail=MpJobsch: ERROR: 0416: The project is not found.",
            ),
            (ApiError::MsgClear("x".into()), 500, "OM_API_00910", "Failed to process the msgclear resource. detail=x"),
            (
                ApiError::Forbidden("start".into()),
                403,
                "OM_API_01003",
                "You do not have permission to perform this operation. operation=start",
            ),
            (
                ApiError::Exists { field: "name".into(), value: "op5".into() },
                409,
                "OM_API_01009",
                "The resource already exists. name=op5",
            ),
            (ApiError::NotActive, 409, "OM_API_01010", "The execution is not in 'queued' or 'running' state."),
            (
                ApiError::WrongState { operation: "start".into(), state: "executing".into() },
                409,
                "OM_API_01011",
                "The operation cannot be performed in the current state. operation=start state=executing",
            ),
            (
                ApiError::Limit { resource: "apiaccount".into(), limit: 5 },
                409,
                "OM_API_01012",
                "The maximum number of resources has been reached. resource=apiaccount limit=5",
            ),
            (
                ApiError::InUse { field: "jobnetName".into(), value: "J1".into() },
                409,
                "OM_API_01013",
                "The resource is in use. jobnetName=J1",
            ),
            (ApiError::TooLarge(65536), 413, "OM_API_01015", "The request body is too large. limit=65536"),
            (
                ApiError::UnsupportedMediaType("text/plain".into()),
                415,
                "OM_API_01016",
                "The media type is not supported. type=text/plain",
            ),
        ];
        for (e, status, code, message) in cases {
            assert_eq!((e.status().as_u16(), e.code(), e.to_string().as_str()), (status, code, message));
        }
    }
}
