//! Layer A over real HTTP on loopback (spec 04 §4.1, §4.2, §4.4–4.6):
//! routing, envelope, the two authentication headers, msgevent validation,
//! target selection and msgclear eligibility. Every refused request is
//! checked to leave the journal and the accounts store unchanged.

mod support;

use std::future::Future;

use support::{ADMIN, ADMIN_PW, Reply, Server, basic, start};

const EV1: &str = r#"{"messagename":"EV1"}"#;

/// Run a request that must be refused; nothing may change in the journal or the accounts store.
async fn refused(s: &Server, request: impl Future<Output = Reply>) -> Reply {
    let before = s.snapshot().await;
    let reply = request.await;
    assert_ne!(reply.status, 200, "expected a refusal: {}", reply.text);
    assert_eq!(s.snapshot().await, before, "a refused request changed the store");
    reply
}

async fn msgevent(s: &Server, body: &str) -> Reply {
    s.post("msgevent", body).await
}

/// POST msgevent as the admin; must be refused with `status code message`, changing nothing.
async fn msgevent_refused(s: &Server, body: &str, status: u16, code: &str, message: &str) {
    refused(s, msgevent(s, body)).await.assert_error(status, code, message);
}

// ----- 4.1 routing, envelope, headers -------------------------------------

// WAPI-001
#[tokio::test]
async fn wapi_001_msgevent_answers_the_empty_envelope_after_the_event_is_durable() {
    let s = start().await;
    let r = msgevent(&s, EV1).await;
    r.assert_ok_envelope();
    // The 200 came after the journal append: the occurrence is already in woi.db.
    let counted = s.counted("EV1").await;
    assert!(counted.contains(&("P1/J1".to_string(), 1)), "{counted:?}");
}

// WAPI-002
#[tokio::test]
async fn wapi_002_get_msgevent_is_405_with_allow_post() {
    let s = start().await;
    let h = s.admin_headers().await;
    let r = refused(&s, s.send("GET", &format!("{}/v1/msgevent", s.base()), &h, None)).await;
    r.assert_error(405, "OM_API_00050", "The specified resource does not exist.");
    assert_eq!(r.header("allow"), Some("POST"));
}

// WAPI-003
#[tokio::test]
async fn wapi_003_put_and_delete_msgclear_are_405() {
    let s = start().await;
    let h = s.admin_headers().await;
    for method in ["PUT", "DELETE"] {
        let r = refused(&s, s.send(method, &format!("{}/v1/msgclear", s.base()), &h, Some(b"{}"))).await;
        r.assert_error(405, "OM_API_00050", "The specified resource does not exist.");
        assert_eq!(r.header("allow"), Some("POST"));
    }
}

// WAPI-004
#[tokio::test]
async fn wapi_004_wrong_environment_or_tenant_is_404() {
    let s = start().await;
    let h = s.admin_headers().await;
    for path in ["/t9/WRONG/api/v1/msgevent", "/t8/envA/api/v1/msgevent", "/t9/envA/api/v1/msgclear/x"] {
        let r = refused(&s, s.send("POST", &format!("{}{path}", s.url), &h, Some(EV1.as_bytes()))).await;
        r.assert_error(404, "OM_API_00050", "The specified resource does not exist.");
    }
    // Routing comes first: a wrong environment with a wrong method is still 404.
    let r = s.send("GET", &format!("{}/t9/WRONG/api/v1/msgevent", s.url), &h, None).await;
    r.assert_code(404, "OM_API_00050");
}

#[tokio::test]
async fn a_path_segment_that_is_not_utf8_is_00010() {
    let s = start().await;
    let h = s.admin_headers().await;
    let r = refused(&s, s.send("POST", &format!("{}/t9/%FF/api/v1/msgevent", s.url), &h, Some(EV1.as_bytes()))).await;
    r.assert_error(400, "OM_API_00010", "The parameter is invalid. environmentId=%FF");
}

// WAPI-005
#[tokio::test]
async fn wapi_005_unknown_version_is_404() {
    let s = start().await;
    let h = s.admin_headers().await;
    let r = refused(&s, s.send("POST", &format!("{}/v2/msgevent", s.base()), &h, Some(EV1.as_bytes()))).await;
    r.assert_error(404, "OM_API_00050", "The specified resource does not exist.");
}

// WAPI-006
#[tokio::test]
async fn wapi_006_a_body_that_is_not_json_is_00099() {
    let s = start().await;
    let msg = "An internal error occurred. detail=request body is not a JSON object";
    msgevent_refused(&s, "not json", 400, "OM_API_00099", msg).await;
    msgevent_refused(&s, "", 400, "OM_API_00099", msg).await;
    msgevent_refused(&s, r#"{"messagename":"EV1"} trailing"#, 400, "OM_API_00099", msg).await;
}

// WAPI-007
#[tokio::test]
async fn wapi_007_an_array_body_is_00099() {
    let s = start().await;
    let msg = "An internal error occurred. detail=request body is not a JSON object";
    msgevent_refused(&s, r#"["EV1"]"#, 400, "OM_API_00099", msg).await;
    msgevent_refused(&s, r#""EV1""#, 400, "OM_API_00099", msg).await;
}

// WAPI-008
#[tokio::test]
async fn wapi_008_a_media_type_other_than_json_is_415() {
    let s = start().await;
    let mut h = s.admin_headers().await;
    h.retain(|(k, _)| *k != "content-type");
    h.push(("content-type", "text/plain".into()));
    let r = refused(&s, s.send("POST", &format!("{}/v1/msgevent", s.base()), &h, Some(EV1.as_bytes()))).await;
    r.assert_error(415, "OM_API_01016", "The media type is not supported. type=text/plain");
    // Parameters such as charset are ignored.
    h.retain(|(k, _)| *k != "content-type");
    h.push(("content-type", "application/json; charset=UTF-8".into()));
    s.send("POST", &format!("{}/v1/msgevent", s.base()), &h, Some(EV1.as_bytes())).await.assert_ok_envelope();
}

// WAPI-009
#[tokio::test]
async fn wapi_009_a_missing_content_type_is_tolerated() {
    let s = start().await;
    let mut h = s.admin_headers().await;
    h.retain(|(k, _)| *k != "content-type");
    s.send("POST", &format!("{}/v1/msgevent", s.base()), &h, Some(EV1.as_bytes())).await.assert_ok_envelope();
}

// WAPI-010
#[tokio::test]
async fn wapi_010_a_70_kib_body_is_413() {
    let s = start().await;
    let body = format!(r#"{{"messagename":"EV1","vparam":"{}"}}"#, "a".repeat(70 * 1024));
    msgevent_refused(&s, &body, 413, "OM_API_01015", "The request body is too large. limit=65536").await;
}

// ----- 4.2 authentication ---------------------------------------------------

fn auth_required(code: &str) -> String {
    format!("Authentication information is required. code={code}")
}

/// POST msgevent with exactly these headers; must be refused with `OM_API_00001 code=<sub>`.
async fn auth_refused(s: &Server, headers: &[(&str, String)], sub: &str) {
    let r = refused(s, s.send("POST", &format!("{}/v1/msgevent", s.base()), headers, Some(EV1.as_bytes()))).await;
    r.assert_error(401, "OM_API_00001", &auth_required(sub));
}

async fn with_bearer(_s: &Server, authorization: &str) -> Vec<(&'static str, String)> {
    vec![
        ("authorization", authorization.to_string()),
        ("x-fjwoi-authorization", basic(&format!("{ADMIN}:{ADMIN_PW}"))),
        ("content-type", "application/json".into()),
    ]
}

async fn with_user_header(s: &Server, value: Option<String>) -> Vec<(&'static str, String)> {
    let mut h = vec![("authorization", format!("Bearer {}", s.token().await))];
    if let Some(v) = value {
        h.push(("x-fjwoi-authorization", v));
    }
    h
}

// WAPI-011
#[tokio::test]
async fn wapi_011_no_authorization_header_is_code_00011() {
    let s = start().await;
    let h = vec![("x-fjwoi-authorization", basic(&format!("{ADMIN}:{ADMIN_PW}")))];
    auth_refused(&s, &h, "00011").await;
}

// WAPI-012
#[tokio::test]
async fn wapi_012_authorization_basic_is_code_00012() {
    let s = start().await;
    auth_refused(&s, &with_bearer(&s, "Basic YWJj").await, "00012").await;
}

// WAPI-013
#[tokio::test]
async fn wapi_013_bare_bearer_is_code_00012() {
    let s = start().await;
    auth_refused(&s, &with_bearer(&s, "Bearer").await, "00012").await;
    let token = s.token().await;
    // Exactly one space after the scheme.
    auth_refused(&s, &with_bearer(&s, &format!("Bearer  {token}")).await, "00012").await;
}

// WAPI-014
#[tokio::test]
async fn wapi_014_a_two_part_token_is_code_00013() {
    let s = start().await;
    auth_refused(&s, &with_bearer(&s, "Bearer abc.def").await, "00013").await;
    auth_refused(&s, &with_bearer(&s, "Bearer a.b.c").await, "00013").await;
    // An unsigned token (alg "none") is refused too.
    auth_refused(&s, &with_bearer(&s, "Bearer eyJhbGciOiJub25lIn0.e30.").await, "00013").await;
}

fn forge(key: &[u8], claims: &serde_json::Value) -> String {
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    jsonwebtoken::encode(&header, claims, &jsonwebtoken::EncodingKey::from_secret(key)).expect("sign")
}

fn claims(s: &Server, now: i64) -> serde_json::Value {
    serde_json::json!({
        "iss": "https://h/t9/oauth2/v2.0",
        "aud": "https://h/t9/envA/api",
        "appid": s.client_id,
        "iat": now,
        "nbf": now,
        "exp": now + 3599,
        "ver": "woi-1",
    })
}

// WAPI-015
#[tokio::test]
async fn wapi_015_a_token_signed_with_another_key_is_code_00013() {
    let s = start().await;
    let now = s.clock_now();
    let token = forge(b"not the server key, not the server key, not it", &claims(&s, now));
    auth_refused(&s, &with_bearer(&s, &format!("Bearer {token}")).await, "00013").await;
    // The same claims signed with the server key are accepted.
    let key = s.auth.signing_key().expect("key");
    let good = forge(&key, &claims(&s, now));
    let r = s
        .send(
            "POST",
            &format!("{}/v1/msgevent", s.base()),
            &with_bearer(&s, &format!("Bearer {good}")).await,
            Some(EV1.as_bytes()),
        )
        .await;
    r.assert_ok_envelope();
}

// WAPI-016
#[tokio::test]
async fn wapi_016_an_expired_token_is_code_00014() {
    let s = start().await;
    let token = s.token().await;
    // The token was issued at T with exp = T + 3599; at T + 3600, exp = now − 1 s.
    s.clock.set(s.clock_at() + chrono::Duration::seconds(3600));
    auth_refused(&s, &with_bearer(&s, &format!("Bearer {token}")).await, "00014").await;
}

// WAPI-016
#[tokio::test]
async fn wapi_016_a_token_is_valid_until_its_last_second() {
    let s = start().await;
    let token = s.token().await;
    s.clock.set(s.clock_at() + chrono::Duration::seconds(3598));
    let h = with_bearer(&s, &format!("Bearer {token}")).await;
    s.send("POST", &format!("{}/v1/msgevent", s.base()), &h, Some(EV1.as_bytes())).await.assert_ok_envelope();
}

// WAPI-017
#[tokio::test]
async fn wapi_017_a_token_for_another_audience_is_code_00015() {
    let s = start().await;
    let key = s.auth.signing_key().expect("key");
    let now = s.clock_now();
    let mut c = claims(&s, now);
    c["aud"] = "https://h/t9/envB/api".into();
    auth_refused(&s, &with_bearer(&s, &format!("Bearer {}", forge(&key, &c))).await, "00015").await;
    // Wrong issuer, version, missing appid, a lifetime over 3600 s: all 00015.
    for (claim, value) in [
        ("iss", serde_json::json!("https://evil/t9/oauth2/v2.0")),
        ("ver", serde_json::json!("woi-0")),
        ("appid", serde_json::Value::Null),
        ("exp", serde_json::json!(now + 3601)),
        ("iat", serde_json::json!(now + 10)),
    ] {
        let mut c = claims(&s, now);
        c[claim] = value;
        auth_refused(&s, &with_bearer(&s, &format!("Bearer {}", forge(&key, &c))).await, "00015").await;
    }
}

// WAPI-018
#[tokio::test]
async fn wapi_018_a_token_not_yet_valid_is_code_00015() {
    let s = start().await;
    let key = s.auth.signing_key().expect("key");
    let now = s.clock_now();
    let mut c = claims(&s, now);
    c["nbf"] = (now + 300).into();
    auth_refused(&s, &with_bearer(&s, &format!("Bearer {}", forge(&key, &c))).await, "00015").await;
}

// WAPI-019
#[tokio::test]
async fn wapi_019_deleting_the_account_invalidates_its_tokens() {
    let s = start().await;
    let token = s.token().await;
    s.auth.delete_account(support::ACCOUNT).expect("delete");
    auth_refused(&s, &with_bearer(&s, &format!("Bearer {token}")).await, "00015").await;
}

// WAPI-020
#[tokio::test]
async fn wapi_020_a_token_outlives_the_deletion_of_its_secret() {
    let s = start().await;
    let token = s.token().await;
    s.auth.delete_secret(support::ACCOUNT, 1).expect("delete secret");
    let h = with_bearer(&s, &format!("Bearer {token}")).await;
    s.send("POST", &format!("{}/v1/msgevent", s.base()), &h, Some(EV1.as_bytes())).await.assert_ok_envelope();
}

// WAPI-021
#[tokio::test]
async fn wapi_021_no_x_fjwoi_header_is_code_00001() {
    let s = start().await;
    auth_refused(&s, &with_user_header(&s, None).await, "00001").await;
}

// WAPI-022
#[tokio::test]
async fn wapi_022_x_fjwoi_bearer_is_code_00002() {
    let s = start().await;
    auth_refused(&s, &with_user_header(&s, Some("Bearer xyz".into())).await, "00002").await;
    auth_refused(&s, &with_user_header(&s, Some("Basic".into())).await, "00002").await;
}

// WAPI-023
#[tokio::test]
async fn wapi_023_undecodable_basic_is_code_00003() {
    let s = start().await;
    auth_refused(&s, &with_user_header(&s, Some("Basic %%%".into())).await, "00003").await;
    // Padding is required.
    auth_refused(&s, &with_user_header(&s, Some("Basic YWJjZA".into())).await, "00003").await;
}

// WAPI-024
#[tokio::test]
async fn wapi_024_basic_without_colon_is_code_00004() {
    let s = start().await;
    auth_refused(&s, &with_user_header(&s, Some(basic("admin1Aa#12345"))).await, "00004").await;
}

// WAPI-025
#[tokio::test]
async fn wapi_025_basic_with_empty_user_is_code_00005() {
    let s = start().await;
    auth_refused(&s, &with_user_header(&s, Some(basic(":Aa#12345"))).await, "00005").await;
}

async fn bad_credentials(s: &Server, user_password: &str) {
    let h = with_user_header(s, Some(basic(user_password))).await;
    let r = refused(s, s.send("POST", &format!("{}/v1/msgevent", s.base()), &h, Some(EV1.as_bytes()))).await;
    r.assert_error(401, "OM_API_00002", "The user ID or password is invalid.");
    assert!(!r.text.contains("wrongpw1") && !r.text.contains(ADMIN_PW), "no password in the body");
}

// WAPI-026
#[tokio::test]
async fn wapi_026_wrong_password_is_00002() {
    let s = start().await;
    bad_credentials(&s, "admin1:wrongpw1").await;
}

// WAPI-027
#[tokio::test]
async fn wapi_027_unknown_user_is_00002() {
    let s = start().await;
    bad_credentials(&s, "nosuchuser:Aa#12345").await;
}

// WAPI-028
#[tokio::test]
async fn wapi_028_empty_password_is_00002() {
    let s = start().await;
    bad_credentials(&s, "admin1:").await;
}

// WAPI-029
#[tokio::test]
async fn wapi_029_basic_credentials_split_at_the_first_colon() {
    let s = start().await;
    s.auth.add_user("u_colon", "Ab1:cd#e", false, s.clock_at()).expect("user");
    s.post_as("u_colon:Ab1:cd#e", "msgevent", EV1).await.assert_ok_envelope();
}

// WAPI-030
#[tokio::test]
async fn wapi_030_both_headers_missing_reports_authorization_first() {
    let s = start().await;
    auth_refused(&s, &[("content-type", "application/json".into())], "00011").await;
}

// WAPI-031
#[tokio::test]
async fn wapi_031_header_names_and_schemes_are_case_insensitive() {
    let s = start().await;
    let token = s.token().await;
    let encoded = basic(&format!("{ADMIN}:{ADMIN_PW}")).replacen("Basic", "basic", 1);
    let h = vec![
        ("AUTHORIZATION", format!("bearer {token}")),
        ("x-fjwoi-authorization", encoded),
        ("Content-Type", "application/json".into()),
    ];
    s.send("POST", &format!("{}/v1/msgevent", s.base()), &h, Some(EV1.as_bytes())).await.assert_ok_envelope();
}

// WAPI-032
#[tokio::test]
async fn wapi_032_an_unreachable_account_store_is_00092() {
    let s = start().await;
    let h = s.admin_headers().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(s.dir.path().join(format!("auth.db{suffix}")));
    }
    let before = serde_json::to_string(&s.journal().await).expect("json");
    let r = s.send("POST", &format!("{}/v1/msgevent", s.base()), &h, Some(EV1.as_bytes())).await;
    r.assert_error(500, "OM_API_00092", "An error occurred while connecting to the authentication process");
    assert_eq!(serde_json::to_string(&s.journal().await).expect("json"), before);
}

// WAPI-033
#[tokio::test]
async fn wapi_033_authentication_is_checked_before_the_body() {
    let s = start().await;
    let h = with_user_header(&s, Some(basic("admin1:wrongpw1"))).await;
    let r = refused(&s, s.send("POST", &format!("{}/v1/msgevent", s.base()), &h, Some(b"not json"))).await;
    r.assert_code(401, "OM_API_00002");
    let r = refused(&s, s.send("POST", &format!("{}/v1/msgevent", s.base()), &[], Some(b"[1]"))).await;
    r.assert_code(401, "OM_API_00001");
}

// ----- 4.4 msgevent validation ----------------------------------------------

fn invalid(param: &str, value: &str) -> String {
    format!("The parameter is invalid. {param}={value}")
}

const M11: &str = "A required parameter is not specified. param=messagename";

// WAPI-041, WAPI-042, WAPI-043
#[tokio::test]
async fn wapi_041_042_043_messagename_missing_empty_or_null_is_00011() {
    let s = start().await;
    for body in ["{}", r#"{"messagename":""}"#, r#"{"messagename":null}"#, r#"{"messageName":null}"#] {
        msgevent_refused(&s, body, 400, "OM_API_00011", M11).await;
    }
}

// WAPI-044, WAPI-045
#[tokio::test]
async fn wapi_044_045_messagename_is_at_most_12_bytes() {
    let s = start().await;
    msgevent_refused(
        &s,
        r#"{"messagename":"ABCDEFGHIJKLM"}"#,
        400,
        "OM_API_00010",
        &invalid("messagename", "ABCDEFGHIJKLM"),
    )
    .await;
    msgevent(&s, r#"{"messagename":"ABCDEFGHIJKL"}"#).await.assert_ok_envelope();
}

// WAPI-046
#[tokio::test]
async fn wapi_046_kanji_count_two_bytes_each_by_the_legacy_rule() {
    let s = start().await;
    msgevent_refused(
        &s,
        r#"{"messagename":"日次締め処理済"}"#,
        400,
        "OM_API_00010",
        &invalid("messagename", "日次締め処理済"),
    )
    .await;
    msgevent(&s, r#"{"messagename":"日次締め処理"}"#).await.assert_ok_envelope();
}

// WAPI-047
#[tokio::test]
async fn wapi_047_a_space_is_not_allowed() {
    let s = start().await;
    msgevent_refused(&s, r#"{"messagename":"EV 1"}"#, 400, "OM_API_00010", &invalid("messagename", "EV 1")).await;
}

// WAPI-048
#[tokio::test]
async fn wapi_048_only_at_plus_underscore_hyphen_symbols() {
    let s = start().await;
    msgevent_refused(&s, r#"{"messagename":"EV.1"}"#, 400, "OM_API_00010", &invalid("messagename", "EV.1")).await;
    msgevent(&s, r#"{"messagename":"EV@+_-1"}"#).await.assert_ok_envelope();
}

// WAPI-049
#[tokio::test]
async fn wapi_049_half_width_katakana_is_refused() {
    let s = start().await;
    msgevent_refused(&s, r#"{"messagename":"ｲﾍﾞﾝﾄ"}"#, 400, "OM_API_00010", &invalid("messagename", "ｲﾍﾞﾝﾄ")).await;
}

// WAPI-050
#[tokio::test]
async fn wapi_050_a_number_is_shown_as_json() {
    let s = start().await;
    msgevent_refused(&s, r#"{"messagename":12}"#, 400, "OM_API_00010", &invalid("messagename", "12")).await;
    msgevent_refused(
        &s,
        r#"{"messagename":"EV1","vparam":["a"]}"#,
        400,
        "OM_API_00010",
        &invalid("vparam", r#"["a"]"#),
    )
    .await;
    msgevent_refused(
        &s,
        r#"{"messagename":"EV1","projectname":true}"#,
        400,
        "OM_API_00010",
        &invalid("projectname", "true"),
    )
    .await;
}

// WAPI-051
#[tokio::test]
async fn wapi_051_messagename_alias_is_accepted() {
    let s = start().await;
    // Errors use the canonical name.
    msgevent_refused(&s, r#"{"messageName":"EV 1"}"#, 400, "OM_API_00010", &invalid("messagename", "EV 1")).await;
    msgevent(&s, r#"{"messageName":"EV1"}"#).await.assert_ok_envelope();
    assert_eq!(s.counted("EV1").await.len(), 5);
}

// WAPI-052
#[tokio::test]
async fn wapi_052_both_spellings_are_a_duplicate() {
    let s = start().await;
    let msg = "The parameter is specified in duplicate. param=messagename";
    msgevent_refused(&s, r#"{"messagename":"EV1","messageName":"EV1"}"#, 400, "OM_API_00013", msg).await;
    msgevent_refused(&s, r#"{"messageName":"EV1","messagename":"EV2"}"#, 400, "OM_API_00013", msg).await;
}

// WAPI-053
#[tokio::test]
async fn wapi_053_a_repeated_key_is_a_duplicate() {
    let s = start().await;
    let body = r#"{"messagename":"EV1","projectname":"P1","projectname":"P2"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00013", "The parameter is specified in duplicate. param=projectname").await;
    // Duplicates are checked before unknown keys.
    let body = r#"{"host":"x","messagename":"EV1","host":"y"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00013", "The parameter is specified in duplicate. param=host").await;
}

// WAPI-054
#[tokio::test]
async fn wapi_054_an_unknown_key_is_00012() {
    let s = start().await;
    let msg = "An unnecessary parameter is specified. param=host";
    msgevent_refused(&s, r#"{"messagename":"EV1","host":"x"}"#, 400, "OM_API_00012", msg).await;
}

// WAPI-055
#[tokio::test]
async fn wapi_055_another_spelling_is_an_unknown_key() {
    let s = start().await;
    let msg = "An unnecessary parameter is specified. param=MessageName";
    msgevent_refused(&s, r#"{"messagename":"EV1","MessageName":"EV1"}"#, 400, "OM_API_00012", msg).await;
}

// WAPI-056
#[tokio::test]
async fn wapi_056_jobnetname_without_projectname_is_00011_projectname() {
    let s = start().await;
    let msg = "A required parameter is not specified. param=projectname";
    msgevent_refused(&s, r#"{"messagename":"EV1","jobnetname":"J1"}"#, 400, "OM_API_00011", msg).await;
}

// WAPI-057
#[tokio::test]
async fn wapi_057_suffix_without_vparam_is_00012_suffix() {
    let s = start().await;
    let msg = "An unnecessary parameter is specified. param=suffix";
    msgevent_refused(&s, r#"{"messagename":"EV1","suffix":"a1"}"#, 400, "OM_API_00012", msg).await;
}

// WAPI-058
#[tokio::test]
async fn wapi_058_suffix_must_start_alphanumeric() {
    let s = start().await;
    let body = r#"{"messagename":"EV1","vparam":"x","suffix":"-a"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00010", &invalid("suffix", "-a")).await;
}

// WAPI-059, WAPI-060
#[tokio::test]
async fn wapi_059_060_suffix_charset_and_30_bytes() {
    let s = start().await;
    let body = r#"{"messagename":"EVX","vparam":"x","suffix":"a_b"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00010", &invalid("suffix", "a_b")).await;
    let long = "a".repeat(31);
    let body = format!(r#"{{"messagename":"EVX","vparam":"x","suffix":"{long}"}}"#);
    msgevent_refused(&s, &body, 400, "OM_API_00010", &invalid("suffix", &long)).await;
    // EVX is awaited by no jobnet: valid requests only pass validation.
    for ok in ["A-9".to_string(), "a".repeat(30)] {
        msgevent(&s, &format!(r#"{{"messagename":"EVX","vparam":"x","suffix":"{ok}"}}"#)).await.assert_ok_envelope();
    }
}

// WAPI-061
#[tokio::test]
async fn wapi_061_vparam_is_at_most_200_bytes() {
    let s = start().await;
    let long = "v".repeat(201);
    let body = format!(r#"{{"messagename":"EVX","vparam":"{long}"}}"#);
    msgevent_refused(&s, &body, 400, "OM_API_00010", &invalid("vparam", &long)).await;
    let body = format!(r#"{{"messagename":"EVX","vparam":"{}"}}"#, "v".repeat(200));
    msgevent(&s, &body).await.assert_ok_envelope();
}

// WAPI-062
#[tokio::test]
async fn wapi_062_vparam_uses_the_api_charset() {
    let s = start().await;
    let body = r#"{"messagename":"EVX","vparam":"/data/in.csv"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00010", &invalid("vparam", "/data/in.csv")).await;
}

// WAPI-063
#[tokio::test]
async fn wapi_063_an_empty_optional_value_is_invalid() {
    let s = start().await;
    msgevent_refused(&s, r#"{"messagename":"EV1","projectname":""}"#, 400, "OM_API_00010", &invalid("projectname", ""))
        .await;
}

// WAPI-064
#[tokio::test]
async fn wapi_064_fields_are_validated_in_a_fixed_order() {
    let s = start().await;
    let body = r#"{"projectname":"P 1","messagename":"EV 1"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00010", &invalid("messagename", "EV 1")).await;
    let body = r#"{"messagename":"EV1","suffix":"-x","vparam":"a b","jobnetname":"J 1","projectname":"P1"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00010", &invalid("jobnetname", "J 1")).await;
}

// WAPI-065
#[tokio::test]
async fn wapi_065_the_first_unknown_key_is_reported() {
    let s = start().await;
    let body = r#"{"messagename":"EV1","projectname":"P1","foo":1,"bar":2}"#;
    msgevent_refused(&s, body, 400, "OM_API_00012", "An unnecessary parameter is specified. param=foo").await;
}

/// Spec 04 counts 51 bytes as 17 kanji (UTF-8); decision D7 counts kanji as
/// 2 bytes, so the 50-byte limit is 25 kanji: 26 are refused, 25 pass.
// WAPI-066
#[tokio::test]
async fn wapi_066_projectname_is_at_most_50_legacy_bytes() {
    let s = start().await;
    let ascii = "P".repeat(51);
    let body = format!(r#"{{"messagename":"EV1","projectname":"{ascii}"}}"#);
    msgevent_refused(&s, &body, 400, "OM_API_00010", &invalid("projectname", &ascii)).await;
    let kanji26 = "営".repeat(26);
    let body = format!(r#"{{"messagename":"EV1","projectname":"{kanji26}"}}"#);
    msgevent_refused(&s, &body, 400, "OM_API_00010", &invalid("projectname", &kanji26)).await;
    // 25 kanji pass validation and reach the scheduler, which knows no such project.
    let kanji25 = "営".repeat(25);
    let r = msgevent(&s, &format!(r#"{{"messagename":"EV1","projectname":"{kanji25}"}}"#)).await;
    r.assert_code(500, "OM_API_00900");
    let r = msgevent(&s, &format!(r#"{{"messagename":"EV1","projectname":"{}"}}"#, "P".repeat(50))).await;
    r.assert_code(500, "OM_API_00900");
}

// ----- 4.5 msgevent targets ---------------------------------------------------

/// Targets are observed in the journal; `triggeredBy` of executions belongs to Layer B.
// WAPI-067
#[tokio::test]
async fn wapi_067_no_project_reaches_every_project() {
    let s = start().await;
    msgevent(&s, EV1).await.assert_ok_envelope();
    let mut counted: Vec<String> = s.counted("EV1").await.into_iter().map(|(j, _)| j).collect();
    counted.sort();
    assert_eq!(counted, ["P1/J1", "P1/J3", "P1/JD", "P2/J2", "P2/JD"]);
}

// WAPI-068
#[tokio::test]
async fn wapi_068_a_project_limits_the_targets() {
    let s = start().await;
    msgevent(&s, r#"{"messagename":"EV1","projectname":"P1"}"#).await.assert_ok_envelope();
    let mut counted: Vec<String> = s.counted("EV1").await.into_iter().map(|(j, _)| j).collect();
    counted.sort();
    assert_eq!(counted, ["P1/J1", "P1/J3", "P1/JD"]);
}

// WAPI-069
#[tokio::test]
async fn wapi_069_a_jobnet_limits_the_target_to_itself_and_it_starts() {
    let s = start().await;
    let mut events = s.handle.subscribe();
    msgevent(&s, r#"{"messagename":"EV1","projectname":"P1","jobnetname":"J3"}"#).await.assert_ok_envelope();
    assert_eq!(s.counted("EV1").await, [("P1/J3".to_string(), 1)]);
    // J3 waits for EV1 alone: it starts.
    let started = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if let Ok(woi_core::Event { kind: woi_core::EventKind::JobnetStatus { jobnet, status, .. }, .. }) =
                events.recv().await
                && jobnet.to_string() == "P1/J3"
                && status.is_running()
            {
                return true;
            }
        }
    })
    .await;
    assert_eq!(started, Ok(true));
}

// WAPI-070
#[tokio::test]
async fn wapi_070_an_unknown_project_is_00900_0416() {
    let s = start().await;
    let body = r#"{"messagename":"EV1","projectname":"PX"}"#;
    let msg = "Failed to process the msgevent resource. detail=MpJobsch: ERROR: 0416: The project is not found.";
    msgevent_refused(&s, body, 500, "OM_API_00900", msg).await;
}

// WAPI-071
#[tokio::test]
async fn wapi_071_an_unknown_jobnet_is_00900_0103() {
    let s = start().await;
    let body = r#"{"messagename":"EV1","projectname":"P1","jobnetname":"JX"}"#;
    let msg = "Failed to process the msgevent resource. detail=MpJobsch: ERROR: 0103: The job net is not found.";
    msgevent_refused(&s, body, 500, "OM_API_00900", msg).await;
}

/// Spec 04 §3.4.2 and §3.11: msgevent needs no project right (msgclear does).
// WAPI-072
#[tokio::test]
async fn wapi_072_a_user_without_rights_may_raise() {
    let s = start().await;
    s.auth.add_user("op9", "Zz9#abcd", false, s.clock_at()).expect("user");
    let r =
        s.post_as("op9:Zz9#abcd", "msgevent", r#"{"messagename":"EV1","projectname":"P1","jobnetname":"J1"}"#).await;
    r.assert_ok_envelope();
    assert_eq!(s.counted("EV1").await, [("P1/J1".to_string(), 1)]);
}

#[tokio::test]
async fn an_accepted_raise_is_counted_exactly_once_and_audited_without_secrets() {
    let s = start().await;
    let r = msgevent(&s, r#"{"messagename":"EV1","projectname":"P1","jobnetname":"J1"}"#).await;
    r.assert_ok_envelope();
    assert_eq!(s.counted("EV1").await, [("P1/J1".to_string(), 1)]);
    let r = msgevent(&s, r#"{"messagename":"EV1","projectname":"P1","jobnetname":"J1"}"#).await;
    r.assert_ok_envelope();
    assert_eq!(s.counted("EV1").await, [("P1/J1".to_string(), 1), ("P1/J1".to_string(), 2)]);
    let audit = s.audit.lock().expect("audit").clone();
    assert_eq!(audit.len(), 2);
    let line = audit[0].to_string();
    assert_eq!(
        line,
        format!(
            "webapi msgevent client_id={} user=admin1 message=EV1 project=P1 jobnet=J1 vparam=false suffix=false result=accepted",
            s.client_id
        )
    );
    let token = s.token().await;
    assert!(!line.contains(ADMIN_PW) && !line.contains(&s.secret) && !line.contains(&token));
}

// ----- 4.6 msgclear -------------------------------------------------------------

// WAPI-090
#[tokio::test]
async fn wapi_090_admin_clears_every_jobnet() {
    let s = start().await;
    msgevent(&s, EV1).await.assert_ok_envelope();
    msgevent(&s, EV1).await.assert_ok_envelope();
    s.post("msgclear", "{}").await.assert_ok_envelope();
    let mut cleared = s.cleared().await;
    cleared.sort();
    assert_eq!(cleared, ["P1/J1", "P1/J3", "P1/JD", "P2/J2", "P2/JD"]);
}

// WAPI-091
#[tokio::test]
async fn wapi_091_an_empty_body_is_00099() {
    let s = start().await;
    let r = refused(&s, s.post("msgclear", "")).await;
    r.assert_error(400, "OM_API_00099", "An internal error occurred. detail=request body is not a JSON object");
}

// WAPI-092
#[tokio::test]
async fn wapi_092_a_jobnet_alone_clears_only_it() {
    let s = start().await;
    s.post("msgclear", r#"{"jobnetname":"J1"}"#).await.assert_ok_envelope();
    assert_eq!(s.cleared().await, ["P1/J1"]);
}

// WAPI-093
#[tokio::test]
async fn wapi_093_a_jobnet_name_in_two_eligible_projects_fails() {
    let s = start().await;
    let r = refused(&s, s.post("msgclear", r#"{"jobnetname":"JD"}"#)).await;
    r.assert_error(
        500,
        "OM_API_00910",
        "Failed to process the msgclear resource. detail=job net JD is registered in more than one project",
    );
}

// WAPI-094
#[tokio::test]
async fn wapi_094_only_eligible_projects_are_candidates() {
    let s = start().await;
    s.auth.add_user("op1", "Zz1#abcd", false, s.clock_at()).expect("user");
    s.auth.grant("op1", "P1", Some(woi_adapters::auth::Right::Operation)).expect("grant");
    s.auth.grant("op1", "P2", Some(woi_adapters::auth::Right::Reference)).expect("grant");
    s.post_as("op1:Zz1#abcd", "msgclear", r#"{"jobnetname":"JD"}"#).await.assert_ok_envelope();
    assert_eq!(s.cleared().await, ["P1/JD"]);
}

// WAPI-095
#[tokio::test]
async fn wapi_095_reference_right_is_not_enough_to_clear() {
    let s = start().await;
    s.auth.add_user("op2", "Zz2#abcd", false, s.clock_at()).expect("user");
    s.auth.grant("op2", "P1", Some(woi_adapters::auth::Right::Reference)).expect("grant");
    let detail = "MpJobsch: ERROR: 0175: P1 The project does not exist, or data or access rights are insufficient.";
    for body in [r#"{"projectname":"P1"}"#, r#"{"projectname":"P1","jobnetname":"J1"}"#] {
        let r = refused(&s, s.post_as("op2:Zz2#abcd", "msgclear", body)).await;
        r.assert_error(500, "OM_API_00910", &format!("Failed to process the msgclear resource. detail={detail}"));
    }
    // The change right cannot operate either (§3.11).
    s.auth.grant("op2", "P1", Some(woi_adapters::auth::Right::Change)).expect("grant");
    let r = refused(&s, s.post_as("op2:Zz2#abcd", "msgclear", r#"{"projectname":"P1"}"#)).await;
    r.assert_code(500, "OM_API_00910");
}

// WAPI-096
#[tokio::test]
async fn wapi_096_no_eligible_project_is_0274() {
    let s = start().await;
    s.auth.add_user("op2", "Zz2#abcd", false, s.clock_at()).expect("user");
    let r = refused(&s, s.post_as("op2:Zz2#abcd", "msgclear", "{}")).await;
    r.assert_error(
        500,
        "OM_API_00910",
        "Failed to process the msgclear resource. detail=MpJobsch: WARNING: 0274: Valid project not found.",
    );
}

// WAPI-097
#[tokio::test]
async fn wapi_097_messagename_is_unnecessary_in_msgclear() {
    let s = start().await;
    let r = refused(&s, s.post("msgclear", r#"{"projectname":"P1","jobnetname":"J1","messagename":"EV1"}"#)).await;
    r.assert_error(400, "OM_API_00012", "An unnecessary parameter is specified. param=messagename");
}

// WAPI-099
#[tokio::test]
async fn wapi_099_a_general_user_clears_only_eligible_projects() {
    let s = start().await;
    s.auth.add_user("op3", "Zz3#abcd", false, s.clock_at()).expect("user");
    s.auth.grant("op3", "P1", Some(woi_adapters::auth::Right::Operation)).expect("grant");
    s.post_as("op3:Zz3#abcd", "msgclear", "{}").await.assert_ok_envelope();
    let mut cleared = s.cleared().await;
    cleared.sort();
    assert_eq!(cleared, ["P1/J1", "P1/J3", "P1/JD"]);
}

#[tokio::test]
async fn msgclear_validates_names_and_unknown_targets() {
    let s = start().await;
    let r = refused(&s, s.post("msgclear", r#"{"projectname":"P 1"}"#)).await;
    r.assert_error(400, "OM_API_00010", "The parameter is invalid. projectname=P 1");
    let r = refused(&s, s.post("msgclear", r#"{"projectname":"P1","jobnetname":"JX"}"#)).await;
    r.assert_error(
        500,
        "OM_API_00910",
        "Failed to process the msgclear resource. detail=MpJobsch: ERROR: 0103: The job net is not found.",
    );
    let r = refused(&s, s.post("msgclear", r#"{"projectname":"PX"}"#)).await;
    r.assert_code(500, "OM_API_00910");
    // A general user without any right cannot clear a project either.
    s.auth.add_user("op4", "Zz4#abcd", false, s.clock_at()).expect("user");
    let r = refused(&s, s.post_as("op4:Zz4#abcd", "msgclear", r#"{"projectname":"P1"}"#)).await;
    r.assert_code(500, "OM_API_00910");
}
