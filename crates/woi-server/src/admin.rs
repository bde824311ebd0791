//! The admin API (spec 04 §3.12, behaviors §4.7) under
//! `{admin}` = `/{tenant_id}/{environment_id}/admin/v1`: job-management users
//! and Web API accounts with their client-secret slots, over the same
//! [`AuthStore`](woi_adapters::auth::AuthStore) as `woi user` / `woi account`.
//!
//! Authentication: `Authorization: Basic base64(name:password)`. woi has no
//! portal users (they belong to the users part), so the portal principal is
//! an **admin job-management user**; anything else — a missing or malformed
//! header, wrong credentials, a general user — is `401 OM_API_00002`.
//!
//! No response ever carries a password or a secret, except the response
//! that creates or regenerates a client secret (shown once).
//!
//! Order (spec 04 §3.1): the admin check is part of authentication (the
//! `Admin` extractor, `401`), then the body is read and validated, then the
//! user or account is looked up (`404`), then the change is made. The one
//! exception is PATCH: a field that exists but cannot change (`name`,
//! `admin`) is refused after the lookup.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;
use woi_adapters::auth::{ApiAccount, JobUser, MASK, check_password, search_matches};

use crate::error::ApiError;
use crate::layer_b::{Params, Query, base_matches, located, ok, respond, rfc3339};
use crate::request::{Shape, invalid, parse_object, read_body, shown, string_field};
use crate::{AppState, blocking};

/// An authenticated admin (portal) principal.
pub(crate) struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Admin, ApiError> {
        if !base_matches(state, parts.uri.path()) {
            return Err(ApiError::NotFound);
        }
        let creds = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .and_then(|(_, b64)| base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|t| t.split_once(':').map(|(u, p)| (u.to_string(), p.to_string())))
            .ok_or(ApiError::BadCredentials)?;
        let auth = state.auth().clone();
        let user = blocking(move || auth.authenticate(&creds.0, &creds.1)).await.map_err(|_| ApiError::AuthBackend)?;
        match user {
            Some(u) if u.admin => Ok(Admin),
            _ => Err(ApiError::BadCredentials),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserWire {
    name: String,
    admin: bool,
    created_at: String,
}

fn user_wire(u: &JobUser) -> UserWire {
    UserWire { name: u.name.clone(), admin: u.admin, created_at: rfc3339(u.created_at) }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SlotWire {
    secret_type: u8,
    secret_id: Option<String>,
    expires_at: Option<String>,
    secret: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountWire {
    name: String,
    client_id: String,
    created_at: String,
    secrets: Vec<SlotWire>,
}

fn account_wire(a: &ApiAccount) -> AccountWire {
    let secrets = (1u8..=2)
        .zip(a.secrets.iter())
        .map(|(slot, s)| match s {
            Some(info) => SlotWire {
                secret_type: slot,
                secret_id: Some(info.secret_id.clone()),
                expires_at: Some(rfc3339(info.expires_at)),
                secret: Some(MASK),
            },
            None => SlotWire { secret_type: slot, secret_id: None, expires_at: None, secret: None },
        })
        .collect();
    AccountWire { name: a.name.clone(), client_id: a.client_id.clone(), created_at: rfc3339(a.created_at), secrets }
}

/// `search` (exact unless it has `*`) and `direction` (default `asc`) of the lists.
fn listing<T>(query: &Query, items: Vec<T>, name: impl Fn(&T) -> &str) -> Result<Vec<T>, ApiError> {
    query.check(&["search", "direction"], &[])?;
    let desc = query.descending(false)?;
    let mut items: Vec<T> =
        items.into_iter().filter(|i| query.get("search").is_none_or(|p| search_matches(p, name(i)))).collect();
    items.sort_by(|a, b| name(a).cmp(name(b)));
    if desc {
        items.reverse();
    }
    Ok(items)
}

fn admin_uri(state: &AppState, rest: &str) -> String {
    let cfg = state.config();
    format!("/{}/{}/admin/v1/{rest}", cfg.tenant_id, cfg.environment_id)
}

async fn body(
    req: axum::extract::Request,
    shape: &Shape,
) -> Result<std::collections::BTreeMap<&'static str, Value>, ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = read_body(&parts.headers, body).await?;
    parse_object(&bytes, shape)
}

/// `GET {admin}/jobusers`.
pub(crate) async fn list_users(State(state): State<AppState>, _: Admin, query: Query) -> Response {
    respond(
        async {
            let auth = state.auth().clone();
            let users = blocking(move || auth.users()).await?;
            let users = listing(&query, users, |u| u.name.as_str())?;
            Ok(ok(users.iter().map(user_wire).collect()))
        }
        .await,
    )
}

const NEW_USER: Shape = Shape { keys: &["name", "password", "admin"], aliases: &[], required: &["name", "password"] };

/// `POST {admin}/jobusers`.
pub(crate) async fn create_user(State(state): State<AppState>, _: Admin, req: axum::extract::Request) -> Response {
    respond(
        async {
            let fields = body(req, &NEW_USER).await?;
            let name = string_field(&fields, "name")?.unwrap_or_default().to_string();
            let password = match fields.get("password") {
                Some(Value::String(p)) if !p.is_empty() => p.clone(),
                _ => return Err(invalid("password", MASK)),
            };
            let admin = match fields.get("admin") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(v) => return Err(invalid("admin", &shown(v))),
            };
            let (auth, now) = (state.auth().clone(), state.now());
            let user = blocking(move || auth.add_user(&name, &password, admin, now)).await?;
            Ok(located(StatusCode::CREATED, &admin_uri(&state, &format!("jobusers/{}", user.name)), user_wire(&user)))
        }
        .await,
    )
}

const PASSWORD: Shape = Shape { keys: &["password"], aliases: &[], required: &["password"] };

/// `PUT {admin}/jobusers/{name}/password`.
pub(crate) async fn set_password(
    State(state): State<AppState>,
    _: Admin,
    params: Params,
    req: axum::extract::Request,
) -> Response {
    respond(
        async {
            let fields = body(req, &PASSWORD).await?;
            let Some(Value::String(password)) = fields.get("password").cloned() else {
                return Err(invalid("password", MASK));
            };
            let (auth, name) = (state.auth().clone(), params.get("name").to_string());
            // §3.1: the password rules (step 10) before the lookup; `set_password` checks them again.
            check_password(&name, &password)?;
            let exists = {
                let (auth, name) = (auth.clone(), name.clone());
                blocking(move || auth.user(&name)).await?.is_some()
            };
            if !exists {
                return Err(ApiError::NotFound);
            }
            blocking(move || auth.set_password(&name, &password)).await?;
            Ok(ok(Vec::<()>::new()))
        }
        .await,
    )
}

/// `DELETE {admin}/jobusers/{name}`.
pub(crate) async fn delete_user(State(state): State<AppState>, _: Admin, params: Params) -> Response {
    respond(
        async {
            let (auth, name) = (state.auth().clone(), params.get("name").to_string());
            blocking(move || auth.delete_user(&name)).await?;
            Ok(ok(Vec::<()>::new()))
        }
        .await,
    )
}

const PATCH_USER: Shape = Shape { keys: &["name", "admin", "password"], aliases: &[], required: &[] };

/// `PATCH {admin}/jobusers/{name}`: the name and the admin flag are immutable.
pub(crate) async fn patch_user(
    State(state): State<AppState>,
    _: Admin,
    params: Params,
    req: axum::extract::Request,
) -> Response {
    respond(
        async {
            // §3.1: the body (steps 5–7: not an object, duplicate or unknown key) before the lookup.
            let fields = body(req, &PATCH_USER).await?;
            // The fields that cannot change are unknown keys of a PATCH (step 7).
            for key in ["name", "admin", "password"] {
                if fields.contains_key(key) {
                    return Err(ApiError::UnnecessaryParam(key.into()));
                }
            }
            let (auth, name) = (state.auth().clone(), params.get("name").to_string());
            if blocking(move || auth.user(&name)).await?.is_none() {
                return Err(ApiError::NotFound);
            }
            Ok(ok(Vec::<()>::new()))
        }
        .await,
    )
}

/// `GET {admin}/apiaccounts`.
pub(crate) async fn list_accounts(State(state): State<AppState>, _: Admin, query: Query) -> Response {
    respond(
        async {
            let auth = state.auth().clone();
            let accounts = blocking(move || auth.accounts()).await?;
            let accounts = listing(&query, accounts, |a| a.name.as_str())?;
            Ok(ok(accounts.iter().map(account_wire).collect()))
        }
        .await,
    )
}

const NEW_ACCOUNT: Shape = Shape { keys: &["name"], aliases: &[], required: &["name"] };

/// `POST {admin}/apiaccounts`.
pub(crate) async fn create_account(State(state): State<AppState>, _: Admin, req: axum::extract::Request) -> Response {
    respond(
        async {
            let fields = body(req, &NEW_ACCOUNT).await?;
            let name = string_field(&fields, "name")?.unwrap_or_default().to_string();
            let (auth, now) = (state.auth().clone(), state.now());
            let account = blocking(move || auth.create_account(&name, now)).await?;
            let uri = admin_uri(&state, &format!("apiaccounts/{}", account.name));
            Ok(located(StatusCode::CREATED, &uri, account_wire(&account)))
        }
        .await,
    )
}

/// `GET {admin}/apiaccounts/{name}`.
pub(crate) async fn get_account(State(state): State<AppState>, _: Admin, params: Params) -> Response {
    respond(
        async {
            let (auth, name) = (state.auth().clone(), params.get("name").to_string());
            let account = blocking(move || auth.account(&name)).await?.ok_or(ApiError::NotFound)?;
            Ok(ok(vec![account_wire(&account)]))
        }
        .await,
    )
}

/// `DELETE {admin}/apiaccounts/{name}`: both secrets go, and the account's tokens stop working.
pub(crate) async fn delete_account(State(state): State<AppState>, _: Admin, params: Params) -> Response {
    respond(
        async {
            let (auth, name) = (state.auth().clone(), params.get("name").to_string());
            blocking(move || auth.delete_account(&name)).await?;
            Ok(ok(Vec::<()>::new()))
        }
        .await,
    )
}

const PATCH_ACCOUNT: Shape = Shape { keys: &["name"], aliases: &[], required: &[] };

/// `PATCH {admin}/apiaccounts/{name}`: the name is immutable.
pub(crate) async fn patch_account(
    State(state): State<AppState>,
    _: Admin,
    params: Params,
    req: axum::extract::Request,
) -> Response {
    respond(
        async {
            // §3.1: the body (steps 5–7: not an object, duplicate or unknown key) before the lookup.
            let fields = body(req, &PATCH_ACCOUNT).await?;
            // The name cannot change: an unknown key of a PATCH (step 7).
            if fields.contains_key("name") {
                return Err(ApiError::UnnecessaryParam("name".into()));
            }
            let (auth, name) = (state.auth().clone(), params.get("name").to_string());
            if blocking(move || auth.account(&name)).await?.is_none() {
                return Err(ApiError::NotFound);
            }
            Ok(ok(Vec::<()>::new()))
        }
        .await,
    )
}

fn slot(params: &Params) -> Result<u8, ApiError> {
    match params.get("slot") {
        "1" => Ok(1),
        "2" => Ok(2),
        _ => Err(ApiError::NotFound),
    }
}

/// The only response that carries a plain client secret.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewSecretWire {
    account_name: String,
    client_id: String,
    secret_type: u8,
    expires_at: String,
    secret_id: String,
    secret: String,
}

/// `POST {admin}/apiaccounts/{name}/secrets/{1|2}`: create or regenerate.
pub(crate) async fn create_secret(State(state): State<AppState>, _: Admin, params: Params) -> Response {
    respond(
        async {
            let slot = slot(&params)?;
            let (auth, name, now) = (state.auth().clone(), params.get("name").to_string(), state.now());
            let s = blocking(move || auth.regenerate_secret(&name, slot, now)).await?;
            let uri = admin_uri(&state, &format!("apiaccounts/{}/secrets/{slot}", s.account_name));
            let wire = NewSecretWire {
                account_name: s.account_name.clone(),
                client_id: s.client_id.clone(),
                secret_type: slot,
                expires_at: rfc3339(s.info.expires_at),
                secret_id: s.info.secret_id.clone(),
                secret: s.secret.clone(),
            };
            Ok(located(StatusCode::CREATED, &uri, wire))
        }
        .await,
    )
}

/// `DELETE {admin}/apiaccounts/{name}/secrets/{1|2}`.
pub(crate) async fn delete_secret(State(state): State<AppState>, _: Admin, params: Params) -> Response {
    respond(
        async {
            let slot = slot(&params)?;
            let (auth, name) = (state.auth().clone(), params.get("name").to_string());
            blocking(move || auth.delete_secret(&name, slot)).await?;
            Ok(ok(Vec::<()>::new()))
        }
        .await,
    )
}
