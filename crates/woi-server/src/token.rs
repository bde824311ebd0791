//! Access tokens (spec 04 §2.4.5, §3.2 step A): the token endpoint
//! `POST /{tenant_id}/oauth2/v2.0/token` (OAuth2 client credentials, form
//! fields as in WOI, `client_secret_basic` accepted too) and the check of a
//! bearer token on every `{base}` request.
//!
//! Tokens are HS256 JWTs signed with the key kept in the accounts store
//! (via the `jsonwebtoken` crate). The library only verifies the signature;
//! every time claim is checked here against the injected clock.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use serde_json::{Map, Value};
use woi_adapters::auth::{ApiAccount, ClientCheck};

use crate::error::{ApiError, AuthCode, TokenError, json_response};
use crate::{AppState, blocking};

/// Longest token lifetime the server issues or accepts (s).
pub const MAX_TOKEN_LIFETIME: i64 = 3600;
/// The `ver` claim of woi-server tokens.
pub const TOKEN_VERSION: &str = "woi-1";

/// Signing and verification keys.
#[derive(Clone)]
pub(crate) struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Keys {
    pub(crate) fn from_secret(key: &[u8]) -> Keys {
        Keys { encoding: EncodingKey::from_secret(key), decoding: DecodingKey::from_secret(key) }
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    appid: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    ver: &'a str,
}

/// The token endpoint's success body, keys in WOI's order.
#[derive(Serialize)]
struct TokenResponse {
    token_type: &'static str,
    expires_in: i64,
    access_token: String,
}

/// Issue a token for a client at the state's current time.
fn issue(state: &AppState, client_id: &str) -> Result<String, TokenError> {
    let now = state.now().timestamp();
    let cfg = state.config();
    let (iss, aud) = (cfg.issuer(), cfg.audience());
    let claims = Claims {
        iss: &iss,
        aud: &aud,
        appid: client_id,
        iat: now,
        nbf: now,
        exp: now + cfg.lifetime(),
        ver: TOKEN_VERSION,
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &state.keys().encoding)
        .map_err(|_| TokenError::ServerError)
}

/// Step A after the header: signature (00013), expiry (00014), claims and
/// the account's existence (00015). Returns the account.
pub(crate) async fn verify_bearer(state: &AppState, token: &str) -> Result<ApiAccount, ApiError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.leeway = 0;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &state.keys().decoding, &validation)
        .map_err(|_| ApiError::AuthRequired(AuthCode::BadToken))?
        .claims;
    let unusable = ApiError::AuthRequired(AuthCode::TokenUnusable);
    let int = |name: &str| claims.get(name).and_then(Value::as_i64);
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let now = state.now().timestamp();
    let leeway = state.config().token_leeway_s;
    let exp = int("exp").ok_or(unusable.clone())?;
    if exp.saturating_add(leeway) <= now {
        return Err(ApiError::AuthRequired(AuthCode::TokenExpired));
    }
    let cfg = state.config();
    let (iat, nbf) = (int("iat").ok_or(unusable.clone())?, int("nbf").ok_or(unusable.clone())?);
    let claims_ok = text("aud") == Some(cfg.audience().as_str())
        && text("iss") == Some(cfg.issuer().as_str())
        && text("ver") == Some(TOKEN_VERSION)
        && nbf <= now.saturating_add(leeway)
        && iat <= now.saturating_add(leeway)
        && exp.saturating_sub(iat) <= MAX_TOKEN_LIFETIME;
    let Some(appid) = text("appid").filter(|_| claims_ok) else { return Err(unusable) };
    let (auth, appid) = (state.auth().clone(), appid.to_string());
    match blocking(move || auth.account_by_client_id(&appid)).await {
        Ok(Some(account)) => Ok(account),
        Ok(None) => Err(unusable),
        Err(_) => Err(ApiError::AuthBackend),
    }
}

/// Client credentials from the form or an HTTP Basic header (never both).
struct Client {
    id: String,
    secret: String,
    basic: bool,
}

fn basic_client(req: &Request) -> Result<Option<Client>, TokenError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let bad =
        || TokenError::InvalidRequest("The Authorization header is not valid HTTP Basic client authentication.".into());
    let value = value.to_str().map_err(|_| bad())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    let unescape = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
    };
    Ok(Some(Client { id: unescape(id), secret: unescape(secret), basic: true }))
}

/// `POST /{tenant_id}/oauth2/v2.0/token`.
pub(crate) async fn token_endpoint(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    req: Request,
) -> Response {
    if tenant != state.config().tenant_id {
        return ApiError::NotFound.into_response();
    }
    if req.method() != Method::POST {
        return ApiError::MethodNotAllowed { allow: "POST" }.into_response();
    }
    match token(&state, req).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn token(state: &AppState, req: Request) -> Result<Response, TokenError> {
    let form_type =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(|v| {
            v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if form_type != Some(true) {
        return Err(TokenError::InvalidRequest("Content-Type must be application/x-www-form-urlencoded.".into()));
    }
    let basic = basic_client(&req)?;
    let body = axum::body::to_bytes(req.into_body(), crate::request::MAX_BODY)
        .await
        .map_err(|_| TokenError::InvalidRequest("The request body is too large.".into()))?;
    let mut fields: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(&body) {
        if fields.iter().any(|(seen, _)| *seen == k) {
            return Err(TokenError::InvalidRequest(format!("The field {k} is given more than once.")));
        }
        fields.push((k.into_owned(), v.into_owned()));
    }
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let grant_type = field("grant_type").ok_or_else(|| TokenError::InvalidRequest("grant_type is missing.".into()))?;
    if grant_type != "client_credentials" {
        return Err(TokenError::UnsupportedGrantType);
    }
    let client = match (basic, field("client_id"), field("client_secret")) {
        (Some(_), _, Some(_)) => {
            return Err(TokenError::InvalidRequest("Use one client authentication method only.".into()));
        }
        (Some(b), id, None) => {
            if id.is_some_and(|id| id != b.id) {
                return Err(TokenError::InvalidRequest("client_id does not match the Authorization header.".into()));
            }
            b
        }
        (None, Some(id), Some(secret)) => Client { id: id.to_string(), secret: secret.to_string(), basic: false },
        (None, None, _) => return Err(TokenError::InvalidRequest("client_id is missing.".into())),
        (None, Some(_), None) => return Err(TokenError::InvalidRequest("client_secret is missing.".into())),
    };
    let scope = field("scope").ok_or_else(|| TokenError::InvalidRequest("scope is missing.".into()))?.to_string();
    let (auth, now) = (state.auth().clone(), state.now());
    let Client { id, secret, basic } = client;
    let check = blocking(move || auth.verify_client(&id, &secret, now)).await.map_err(|_| TokenError::ServerError)?;
    let account = match check {
        ClientCheck::Valid(account) => account,
        ClientCheck::Expired => return Err(TokenError::InvalidClient { expired: true, basic }),
        _ => return Err(TokenError::InvalidClient { expired: false, basic }),
    };
    if scope != state.config().scope() {
        return Err(TokenError::InvalidScope);
    }
    let access_token = issue(state, &account.client_id)?;
    let body = TokenResponse { token_type: "Bearer", expires_in: state.config().lifetime(), access_token };
    let mut resp = json_response(StatusCode::OK, &body);
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(resp)
}
