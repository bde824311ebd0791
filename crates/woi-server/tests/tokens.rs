//! The token endpoint over real HTTP (spec 04 §2.4.5, §4.3): client
//! credentials, RFC 6749 error bodies, secret expiry, both slots, rotation.

mod support;

use base64::Engine as _;
use support::{ACCOUNT, Reply, Server, at, start, start_at};

fn fields<'a>(s: &'a Server, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", s.client_id.as_str()),
        ("client_secret", secret),
        ("scope", s.scope()),
    ]
}

#[track_caller]
fn assert_oauth_error(r: &Reply, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    let v = r.json();
    assert_eq!(v["error"], error, "{}", r.text);
    assert!(v["error_description"].is_string());
    assert_eq!(r.header("content-type"), Some("application/json;charset=UTF-8"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

fn claims_of(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    serde_json::from_slice(&bytes).expect("claims")
}

// WAPI-034
#[tokio::test]
async fn wapi_034_client_credentials_yield_a_bearer_token_for_3599_s() {
    let s = start().await;
    let r = s.token_request(&fields(&s, &s.secret)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json;charset=UTF-8"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v = r.json();
    assert!(r.text.starts_with(r#"{"token_type":"Bearer","expires_in":3599,"access_token":""#), "{}", r.text);
    let token = v["access_token"].as_str().expect("token");
    let c = claims_of(token);
    let now = s.clock_now();
    assert_eq!(c["iss"], "https://h/t9/oauth2/v2.0");
    assert_eq!(c["aud"], "https://h/t9/envA/api");
    assert_eq!(c["appid"], s.client_id.as_str());
    assert_eq!(c["ver"], "woi-1");
    assert_eq!((c["iat"].as_i64(), c["nbf"].as_i64(), c["exp"].as_i64()), (Some(now), Some(now), Some(now + 3599)));
    // The token works.
    let h = vec![
        ("authorization", format!("Bearer {token}")),
        ("x-fjwoi-authorization", support::basic("admin1:Aa#12345")),
    ];
    let r = s.send("POST", &format!("{}/v1/msgevent", s.base()), &h, Some(br#"{"messagename":"EVX"}"#)).await;
    r.assert_ok_envelope();
}

// WAPI-034
#[tokio::test]
async fn wapi_034_client_secret_basic_is_accepted() {
    let s = start().await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", s.client_id, s.secret));
    let body = support::form_body(&[("grant_type", "client_credentials"), ("scope", s.scope())]);
    let r = s
        .http
        .post(format!("{}/t9/oauth2/v2.0/token", s.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", format!("Basic {basic}"))
        .body(body.clone())
        .send()
        .await
        .expect("send");
    let r = support::reply(r).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A wrong Basic secret is invalid_client with WWW-Authenticate.
    let bad = base64::engine::general_purpose::STANDARD.encode(format!("{}:nope", s.client_id));
    let r = s
        .http
        .post(format!("{}/t9/oauth2/v2.0/token", s.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", format!("Basic {bad}"))
        .body(body)
        .send()
        .await
        .expect("send");
    let r = support::reply(r).await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert_eq!(r.header("www-authenticate"), Some("Basic"));
}

// WAPI-035
#[tokio::test]
async fn wapi_035_a_scope_without_default_is_invalid_scope() {
    let s = start().await;
    let mut f = fields(&s, &s.secret);
    f[3] = ("scope", "https://h/t9/envA/api");
    assert_oauth_error(&s.token_request(&f).await, 400, "invalid_scope");
    f[3] = ("scope", "https://h/t9/envB/api/.default");
    assert_oauth_error(&s.token_request(&f).await, 400, "invalid_scope");
}

// WAPI-036
#[tokio::test]
async fn wapi_036_another_grant_type_is_unsupported_grant_type() {
    let s = start().await;
    let mut f = fields(&s, &s.secret);
    f[0] = ("grant_type", "password");
    assert_oauth_error(&s.token_request(&f).await, 400, "unsupported_grant_type");
}

// WAPI-037
#[tokio::test]
async fn wapi_037_a_wrong_secret_or_client_is_invalid_client() {
    let s = start().await;
    let r = s.token_request(&fields(&s, "wrong-secret")).await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert!(!r.text.contains("wrong-secret"));
    let mut f = fields(&s, &s.secret);
    f[1] = ("client_id", "00000000-0000-4000-8000-000000000000");
    let r = s.token_request(&f).await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert!(!r.text.contains(&s.secret));
}

// WAPI-038
#[tokio::test]
async fn wapi_038_an_expired_secret_no_longer_yields_a_token() {
    let s = start_at(at("2025-01-15T10:00:00Z")).await;
    // The harness created slot 1 at 2025-01-15T10:00:00Z: valid for one year.
    let account = s.auth.account(ACCOUNT).expect("read").expect("account");
    let slot = account.secrets[0].clone().expect("slot 1");
    assert_eq!(slot.expires_at, at("2026-01-15T10:00:00Z"));
    s.clock.set(at("2026-01-15T09:59:59Z"));
    assert_eq!(s.token_request(&fields(&s, &s.secret)).await.status, 200);
    s.clock.set(at("2026-01-15T10:00:00Z"));
    assert_oauth_error(&s.token_request(&fields(&s, &s.secret)).await, 401, "invalid_client");
    s.clock.set(at("2026-01-15T10:00:01Z"));
    let r = s.token_request(&fields(&s, &s.secret)).await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert_eq!(r.json()["error_description"], "The client secret has expired.");
}

// WAPI-039
#[tokio::test]
async fn wapi_039_either_slot_yields_a_token() {
    let s = start().await;
    let second = s.auth.regenerate_secret(ACCOUNT, 2, s.clock_at()).expect("slot 2");
    assert_eq!(second.client_id, s.client_id);
    assert_eq!(s.token_request(&fields(&s, &s.secret)).await.status, 200);
    assert_eq!(s.token_request(&fields(&s, &second.secret)).await.status, 200);
}

// WAPI-040
#[tokio::test]
async fn wapi_040_regenerating_a_slot_revokes_its_old_secret_at_once() {
    let s = start().await;
    let new = s.auth.regenerate_secret(ACCOUNT, 1, s.clock_at()).expect("regenerate");
    assert_ne!(new.secret, s.secret);
    assert_oauth_error(&s.token_request(&fields(&s, &s.secret)).await, 401, "invalid_client");
    assert_eq!(s.token_request(&fields(&s, &new.secret)).await.status, 200);
}

#[tokio::test]
async fn a_deleted_secret_or_account_no_longer_yields_a_token() {
    let s = start().await;
    s.auth.delete_secret(ACCOUNT, 1).expect("delete secret");
    assert_oauth_error(&s.token_request(&fields(&s, &s.secret)).await, 401, "invalid_client");
    let again = s.auth.regenerate_secret(ACCOUNT, 1, s.clock_at()).expect("regenerate");
    assert_eq!(s.token_request(&fields(&s, &again.secret)).await.status, 200);
    s.auth.delete_account(ACCOUNT).expect("delete account");
    assert_oauth_error(&s.token_request(&fields(&s, &again.secret)).await, 401, "invalid_client");
}

#[tokio::test]
async fn malformed_token_requests_are_invalid_request() {
    let s = start().await;
    // Missing fields.
    for missing in ["grant_type", "client_id", "client_secret", "scope"] {
        let f: Vec<_> = fields(&s, &s.secret).into_iter().filter(|(k, _)| *k != missing).collect();
        assert_oauth_error(&s.token_request(&f).await, 400, "invalid_request");
    }
    // A duplicate field.
    let mut f = fields(&s, &s.secret);
    f.push(("scope", "https://h/t9/envA/api/.default"));
    assert_oauth_error(&s.token_request(&f).await, 400, "invalid_request");
    // The wrong content type.
    let r = s
        .http
        .post(format!("{}/t9/oauth2/v2.0/token", s.url))
        .header("content-type", "application/json")
        .body(support::form_body(&fields(&s, &s.secret)))
        .send()
        .await
        .expect("send");
    assert_oauth_error(&support::reply(r).await, 400, "invalid_request");
}

#[tokio::test]
async fn the_token_endpoint_routes_by_tenant_and_method() {
    let s = start().await;
    let r = s.send("POST", &format!("{}/t8/oauth2/v2.0/token", s.url), &[], Some(b"")).await;
    r.assert_error(404, "OM_API_00050", "The specified resource does not exist.");
    let r = s.send("GET", &format!("{}/t9/oauth2/v2.0/token", s.url), &[], None).await;
    r.assert_error(405, "OM_API_00050", "The specified resource does not exist.");
    assert_eq!(r.header("allow"), Some("POST"));
}
