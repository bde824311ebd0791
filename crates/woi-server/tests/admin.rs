//! The admin API over real HTTP on loopback (spec 04 §3.12, behaviors §4.7):
//! Web API accounts and their secret slots, job-management users. The
//! principal is an admin job-management user (Basic credentials).

mod support;

use serde_json::json;
use support::{ADMIN, ADMIN_PW, Server, basic, start};

async fn create_user(s: &Server, name: &str, password: &str) -> support::Reply {
    let body = json!({"name": name, "password": password, "admin": false}).to_string();
    s.admin_api("POST", "jobusers", Some(&body)).await
}

// WAPI-100
#[tokio::test]
async fn wapi_100_sixth_api_account_is_01012() {
    let s = start().await; // holds batch01
    for n in ["a2", "a3", "a4", "a5"] {
        assert_eq!(s.admin_api("POST", "apiaccounts", Some(&json!({"name": n}).to_string())).await.status, 201);
    }
    let r = s.admin_api("POST", "apiaccounts", Some(r#"{"name":"sixth"}"#)).await;
    r.assert_error(
        409,
        "OM_API_01012",
        "The maximum number of resources has been reached. resource=apiaccount limit=5",
    );
}

// WAPI-101
#[tokio::test]
async fn wapi_101_account_name_characters() {
    let s = start().await;
    let r = s.admin_api("POST", "apiaccounts", Some(r#"{"name":"a b"}"#)).await;
    r.assert_error(400, "OM_API_00010", "The parameter is invalid. name=a b");
    let r = s.admin_api("POST", "apiaccounts", Some(r#"{"name":"a.b-c_d!e#f^g~h'i"}"#)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let v = r.json();
    assert_eq!(v["data"][0]["name"], json!("a.b-c_d!e#f^g~h'i"));
    assert_eq!(v["data"][0]["clientId"].as_str().map(str::len), Some(36));
    assert!(r.header("location").is_some());
}

// WAPI-102
#[tokio::test]
async fn wapi_102_account_name_of_64_is_the_limit() {
    let s = start().await;
    let long = "a".repeat(65);
    s.admin_api("POST", "apiaccounts", Some(&json!({"name": long}).to_string())).await.assert_code(400, "OM_API_00010");
    let ok = "a".repeat(64);
    assert_eq!(s.admin_api("POST", "apiaccounts", Some(&json!({"name": ok}).to_string())).await.status, 201);
}

// WAPI-103
#[tokio::test]
async fn wapi_103_secret_is_shown_once_then_masked() {
    let s = support::start_at(support::at("2025-05-01T08:00:00Z")).await;
    assert_eq!(s.admin_api("POST", "apiaccounts", Some(r#"{"name":"acc1"}"#)).await.status, 201);
    let r = s.admin_api("POST", "apiaccounts/acc1/secrets/2", None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let d = &r.json()["data"][0];
    assert_eq!(d["secretType"], json!(2));
    assert_eq!(d["expiresAt"], json!("2026-05-01T08:00:00Z"));
    assert_eq!(d["accountName"], json!("acc1"));
    assert_eq!(d["secretId"].as_str().map(str::len), Some(36));
    let secret = d["secret"].as_str().expect("secret").to_string();
    assert_eq!(secret.len(), 40);
    let r = s.admin_api("GET", "apiaccounts/acc1", None).await;
    assert!(!r.text.contains(&secret), "the secret is never shown again");
    let slots = &r.json()["data"][0]["secrets"];
    assert_eq!(slots[1]["secret"], json!("****"));
    assert_eq!(slots[0], json!({"secretType":1,"secretId":null,"expiresAt":null,"secret":null}));
    // The listing masks too.
    let r = s.admin_api("GET", "apiaccounts", None).await;
    assert!(!r.text.contains(&secret) && !r.text.contains(&s.secret));
}

// WAPI-104
#[tokio::test]
async fn wapi_104_deleting_an_empty_slot_is_404() {
    let s = start().await;
    assert_eq!(s.admin_api("POST", "apiaccounts", Some(r#"{"name":"acc1"}"#)).await.status, 201);
    s.admin_api("DELETE", "apiaccounts/acc1/secrets/1", None).await.assert_code(404, "OM_API_00050");
    assert_eq!(s.admin_api("POST", "apiaccounts/acc1/secrets/1", None).await.status, 201);
    assert_eq!(s.admin_api("DELETE", "apiaccounts/acc1/secrets/1", None).await.status, 200);
}

// WAPI-105
#[tokio::test]
async fn wapi_105_slot_3_is_404() {
    let s = start().await;
    assert_eq!(s.admin_api("POST", "apiaccounts", Some(r#"{"name":"acc1"}"#)).await.status, 201);
    s.admin_api("POST", "apiaccounts/acc1/secrets/3", None).await.assert_code(404, "OM_API_00050");
}

// WAPI-106
#[tokio::test]
async fn wapi_106_account_name_is_immutable() {
    let s = start().await;
    assert_eq!(s.admin_api("POST", "apiaccounts", Some(r#"{"name":"acc1"}"#)).await.status, 201);
    let r = s.admin_api("PATCH", "apiaccounts/acc1", Some(r#"{"name":"acc2"}"#)).await;
    r.assert_error(400, "OM_API_00012", "An unnecessary parameter is specified. param=name");
}

// WAPI-107
#[tokio::test]
async fn wapi_107_job_user_root_is_refused() {
    let s = start().await;
    create_user(&s, "root", "Ab1#Ab1#").await.assert_error(400, "OM_API_00010", "The parameter is invalid. name=root");
}

// WAPI-108
#[tokio::test]
async fn wapi_108_job_user_name_length() {
    let s = start().await;
    create_user(&s, &"a".repeat(21), "Ab1#Ab1#").await.assert_code(400, "OM_API_00010");
    assert_eq!(create_user(&s, "ops_team_01", "Ab1#Ab1#").await.status, 201);
}

// WAPI-109
#[tokio::test]
async fn wapi_109_hyphen_in_job_user_name_is_refused() {
    let s = start().await;
    create_user(&s, "ops-1", "Ab1#Ab1#").await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. name=ops-1",
    );
}

// WAPI-110
#[tokio::test]
async fn wapi_110_password_without_symbol_is_masked_in_the_error() {
    let s = start().await;
    let r = create_user(&s, "op5", "Abcdefg1").await;
    r.assert_error(400, "OM_API_00010", "The parameter is invalid. password=****");
    assert!(!r.text.contains("Abcdefg1"));
}

// WAPI-111
#[tokio::test]
async fn wapi_111_password_is_exactly_8_characters() {
    let s = start().await;
    create_user(&s, "op5", "Ab1#Ab1#x").await.assert_code(400, "OM_API_00010");
    let r = create_user(&s, "op5", "Ab1#Ab1#").await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["data"][0]["name"], json!("op5"));
    assert!(!r.text.contains("Ab1#Ab1#"), "no password in a response");
}

// WAPI-112
#[tokio::test]
async fn wapi_112_password_must_not_contain_the_name() {
    let s = start().await;
    create_user(&s, "Abc", "xAbc#12Z").await.assert_code(400, "OM_API_00010");
    create_user(&s, "Abc", "xaBC#12Z").await.assert_code(400, "OM_API_00010");
}

// WAPI-113
#[tokio::test]
async fn wapi_113_exclamation_mark_is_not_allowed_in_passwords() {
    let s = start().await;
    create_user(&s, "op5", "Ab1#Ab1!").await.assert_error(
        400,
        "OM_API_00010",
        "The parameter is invalid. password=****",
    );
}

// WAPI-114
#[tokio::test]
async fn wapi_114_101st_job_user_is_01012() {
    let s = start().await; // holds admin1
    for i in 0..99 {
        s.auth.add_user(&format!("u{i}"), "Ab1#Ab1#", false, s.clock_at()).expect("user");
    }
    let r = create_user(&s, "extra", "Ab1#Ab1#").await;
    r.assert_error(409, "OM_API_01012", "The maximum number of resources has been reached. resource=jobuser limit=100");
}

// WAPI-115
#[tokio::test]
async fn wapi_115_password_change_takes_effect_on_the_next_request() {
    let s = start().await;
    s.user_with("op5", "Xy7#abcd", &[]);
    assert_eq!(s.post_as("op5:Xy7#abcd", "msgevent", r#"{"messagename":"EV9"}"#).await.status, 200);
    let r = s.admin_api("PUT", "jobusers/op5/password", Some(r#"{"password":"Xy9#wxyz"}"#)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    s.post_as("op5:Xy7#abcd", "msgevent", r#"{"messagename":"EV9"}"#).await.assert_code(401, "OM_API_00002");
    assert_eq!(s.post_as("op5:Xy9#wxyz", "msgevent", r#"{"messagename":"EV9"}"#).await.status, 200);
}

// WAPI-116
#[tokio::test]
async fn wapi_116_admin_flag_is_immutable() {
    let s = start().await;
    s.user_with("op5", "Xy7#abcd", &[]);
    let r = s.admin_api("PATCH", "jobusers/op5", Some(r#"{"admin":true}"#)).await;
    r.assert_error(400, "OM_API_00012", "An unnecessary parameter is specified. param=admin");
}

// WAPI-117
#[tokio::test]
async fn wapi_117_search_is_exact_unless_it_has_a_star() {
    let s = start().await;
    for n in ["jobadmin", "jobuser01", "jobuser02", "ops9"] {
        s.user_with(n, "Zz#12345", &[]);
    }
    let names = |v: serde_json::Value| -> Vec<String> {
        v["data"].as_array().expect("data").iter().filter_map(|u| u["name"].as_str().map(String::from)).collect()
    };
    assert_eq!(names(s.admin_api("GET", "jobusers?search=jobuser*", None).await.json()), ["jobuser01", "jobuser02"]);
    assert!(names(s.admin_api("GET", "jobusers?search=jobuser", None).await.json()).is_empty());
    assert_eq!(names(s.admin_api("GET", "jobusers?search=*user*", None).await.json()), ["jobuser01", "jobuser02"]);
    assert_eq!(
        names(s.admin_api("GET", "jobusers?search=job*&direction=desc", None).await.json()),
        ["jobuser02", "jobuser01", "jobadmin"]
    );
}

// WAPI-118
#[tokio::test]
async fn wapi_118_deleted_job_user_gets_00002() {
    let s = start().await;
    s.user_with("op5", "Xy7#abcd", &[]);
    assert_eq!(s.admin_api("DELETE", "jobusers/op5", None).await.status, 200);
    s.post_as("op5:Xy7#abcd", "msgevent", r#"{"messagename":"EV9"}"#).await.assert_error(
        401,
        "OM_API_00002",
        "The user ID or password is invalid.",
    );
    s.admin_api("DELETE", "jobusers/op5", None).await.assert_code(404, "OM_API_00050");
}

#[tokio::test]
async fn admin_api_needs_an_admin_job_user() {
    let s = start().await;
    s.user_with("op5", "Xy7#abcd", &[]);
    let url = format!("{}/t9/envA/admin/v1/jobusers", s.url);
    for auth in [None, Some(basic("op5:Xy7#abcd")), Some(basic(&format!("{ADMIN}:wrong"))), Some("Bearer x".into())] {
        let h: Vec<(&str, String)> = auth.into_iter().map(|a| ("authorization", a)).collect();
        s.send("GET", &url, &h, None).await.assert_error(401, "OM_API_00002", "The user ID or password is invalid.");
    }
    let h = vec![("authorization", basic(&format!("{ADMIN}:{ADMIN_PW}")))];
    assert_eq!(s.send("GET", &url, &h, None).await.status, 200);
}
