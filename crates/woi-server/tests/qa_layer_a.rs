//! QA black-box checks of Layer A (spec 04 §2.2–2.7, §3.1–3.7, §4.1–4.7,
//! decision D7) over real HTTP, with values the other test files do not use:
//! names at and one over the legacy byte limits with mixed scripts, each
//! forbidden character class, JSON and header edge cases, the order of the
//! pipeline steps, msgclear rights and the admin rules of §3.7.
//! Every refused request is checked to leave the journal and the accounts
//! store unchanged.

mod support;

use std::future::Future;

use base64::Engine as _;
use serde_json::json;
use support::{ADMIN, ADMIN_PW, Reply, Server, basic, start, start_with};
use woi_adapters::auth::Right;

// ----- helpers ----------------------------------------------------------------

const M_NOT_OBJECT: &str = "An internal error occurred. detail=request body is not a JSON object";
const M_NOT_FOUND: &str = "The specified resource does not exist.";
const M_BAD_USER: &str = "The user ID or password is invalid.";

/// Run a request that must be refused; nothing may change in the journal or the accounts store.
async fn refused(s: &Server, request: impl Future<Output = Reply>) -> Reply {
    let before = s.snapshot().await;
    let reply = request.await;
    assert_ne!(reply.status, 200, "expected a refusal: {}", reply.text);
    assert_eq!(s.snapshot().await, before, "a refused request changed the store");
    reply
}

fn invalid(param: &str, value: &str) -> String {
    format!("The parameter is invalid. {param}={value}")
}

fn required(param: &str) -> String {
    format!("A required parameter is not specified. param={param}")
}

fn unnecessary(param: &str) -> String {
    format!("An unnecessary parameter is specified. param={param}")
}

fn duplicate(param: &str) -> String {
    format!("The parameter is specified in duplicate. param={param}")
}

fn auth_required(code: &str) -> String {
    format!("Authentication information is required. code={code}")
}

async fn msgevent(s: &Server, body: &str) -> Reply {
    s.post("msgevent", body).await
}

/// POST msgevent as the admin; must be refused with `status code message`, changing nothing.
async fn msgevent_refused(s: &Server, body: &str, status: u16, code: &str, message: &str) {
    refused(s, msgevent(s, body)).await.assert_error(status, code, message);
}

/// `messagename=<value>` sent as a JSON string must be refused with 00010 naming the raw value.
async fn bad_messagename(s: &Server, value: &str) {
    let body = json!({ "messagename": value }).to_string();
    msgevent_refused(s, &body, 400, "OM_API_00010", &invalid("messagename", value)).await;
}

async fn msgclear_refused(s: &Server, body: &str, status: u16, code: &str, message: &str) {
    refused(s, s.post("msgclear", body)).await.assert_error(status, code, message);
}

/// Headers of the admin with the Content-Type replaced (or removed with `None`).
async fn headers_with_type(s: &Server, content_type: Option<&str>) -> Vec<(&'static str, String)> {
    let mut h = s.admin_headers().await;
    h.retain(|(k, _)| *k != "content-type");
    if let Some(t) = content_type {
        h.push(("content-type", t.to_string()));
    }
    h
}

/// Headers with this `Authorization` value and the admin's valid X-FJWOI header.
fn with_authorization(value: &str) -> Vec<(&'static str, String)> {
    vec![
        ("authorization", value.to_string()),
        ("x-fjwoi-authorization", basic(&format!("{ADMIN}:{ADMIN_PW}"))),
        ("content-type", "application/json".into()),
    ]
}

/// Headers with a valid bearer token and this raw `X-FJWOI-AUTHORIZATION` value.
async fn with_user_value(s: &Server, value: &str) -> Vec<(&'static str, String)> {
    vec![
        ("authorization", format!("Bearer {}", s.token().await)),
        ("x-fjwoi-authorization", value.to_string()),
        ("content-type", "application/json".into()),
    ]
}

fn url(s: &Server, resource: &str) -> String {
    format!("{}/v1/{resource}", s.base())
}

/// POST msgevent `{"messagename":"EV1"}` with these headers; must be `401 OM_API_00001 code=<sub>`.
async fn auth_refused(s: &Server, headers: &[(&str, String)], sub: &str) {
    let r = refused(s, s.send("POST", &url(s, "msgevent"), headers, Some(br#"{"messagename":"EV1"}"#))).await;
    r.assert_error(401, "OM_API_00001", &auth_required(sub));
}

fn forge_with(alg: jsonwebtoken::Algorithm, key: &[u8], claims: &serde_json::Value) -> String {
    let header = jsonwebtoken::Header::new(alg);
    jsonwebtoken::encode(&header, claims, &jsonwebtoken::EncodingKey::from_secret(key)).expect("sign")
}

fn claims(s: &Server, now: i64) -> serde_json::Value {
    json!({
        "iss": "https://h/t9/oauth2/v2.0",
        "aud": "https://h/t9/envA/api",
        "appid": s.client_id,
        "iat": now,
        "nbf": now,
        "exp": now + 3599,
        "ver": "woi-1",
    })
}

/// A token signed with the server key (HS256) over these claims.
fn signed(s: &Server, claims: &serde_json::Value) -> String {
    let key = s.auth.signing_key().expect("key");
    forge_with(jsonwebtoken::Algorithm::HS256, &key, claims)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn counted_jobnets(s: &Server, event: &str) -> Vec<String> {
    sorted(s.counted(event).await.into_iter().map(|(j, _)| j).collect())
}

// ----- names at the legacy limits (spec 04 §2.2, §2.5; D7) ---------------------

/// 50 legacy bytes: 20 kanji (40) + 2 full-width letters (4) + 6 ASCII.
fn project50() -> String {
    format!("{}ＡＢab12-_", "経".repeat(20))
}

/// 50 legacy bytes: katakana (12) + `ー々` (4) + 15 full-width letters (30) + 4 ASCII.
fn jobnet50() -> String {
    format!("ジョブネット処ー々{}j_-@", "Ｊ".repeat(14))
}

/// 12 legacy bytes: kanji, full-width letter, hiragana, katakana (8) + 4 ASCII.
const EVENT12: &str = "締ＡあアZ1xy";

fn limit_defs() -> String {
    format!(
        r#"
[[jobnet]]
project = "{p}"
name = "{j}"
comment = "limits"
start = {{ message_only = {{}} }}
messages = {{ events = ["{e}", "OTHER"], mode = "and" }}
[[jobnet.job]]
number = 1
command = "true"
"#,
        p = project50(),
        j = jobnet50(),
        e = EVENT12
    )
}

#[tokio::test]
async fn wapi_045_046_066_mixed_script_names_exactly_at_the_legacy_limits_pass() {
    use woi_core::text::legacy_len;
    assert_eq!((legacy_len(&project50()), legacy_len(&jobnet50()), legacy_len(EVENT12)), (50, 50, 12));
    let s = start_with(&limit_defs(), chrono::Utc::now()).await;
    let vparam200 = format!("{}ab", "値".repeat(99));
    let body =
        json!({"messagename": EVENT12, "projectname": project50(), "jobnetname": jobnet50(), "vparam": vparam200});
    msgevent(&s, &body.to_string()).await.assert_ok_envelope();
    assert_eq!(counted_jobnets(&s, EVENT12).await, [format!("{}/{}", project50(), jobnet50())]);
}

#[tokio::test]
async fn wapi_044_061_066_one_legacy_byte_over_each_limit_is_00010() {
    let s = start_with(&limit_defs(), chrono::Utc::now()).await;
    let (p, j) = (project50(), jobnet50());
    let e13 = format!("{EVENT12}z");
    let body = json!({"messagename": e13, "projectname": p, "jobnetname": j});
    msgevent_refused(&s, &body.to_string(), 400, "OM_API_00010", &invalid("messagename", &e13)).await;
    let p51 = format!("{p}z");
    let body = json!({"messagename": EVENT12, "projectname": p51, "jobnetname": j});
    msgevent_refused(&s, &body.to_string(), 400, "OM_API_00010", &invalid("projectname", &p51)).await;
    let j51 = format!("{j}z");
    let body = json!({"messagename": EVENT12, "projectname": p, "jobnetname": j51});
    msgevent_refused(&s, &body.to_string(), 400, "OM_API_00010", &invalid("jobnetname", &j51)).await;
    let v201 = format!("{}abc", "値".repeat(99));
    let body = json!({"messagename": EVENT12, "projectname": p, "jobnetname": j, "vparam": v201});
    msgevent_refused(&s, &body.to_string(), 400, "OM_API_00010", &invalid("vparam", &v201)).await;
    // A full-width letter counts 2: 100 of them are 200 bytes, 100 plus one ASCII are 201.
    let v = "Ｖ".repeat(100);
    msgevent(&s, &json!({"messagename": "EVX", "vparam": v}).to_string()).await.assert_ok_envelope();
    let v = format!("{}1", "Ｖ".repeat(100));
    let body = json!({"messagename": "EVX", "vparam": v}).to_string();
    msgevent_refused(&s, &body, 400, "OM_API_00010", &invalid("vparam", &v)).await;
}

#[tokio::test]
async fn wapi_046_full_width_letters_count_two_bytes_each() {
    let s = start().await;
    for ok in ["ＡＢＣＤＥＦ", "ＡＢＣＤＥ12", "０１２３４５", "ａｂｃｄｅｚ"] {
        msgevent(&s, &json!({ "messagename": ok }).to_string()).await.assert_ok_envelope();
    }
    for bad in ["ＡＢＣＤＥＦＧ", "ＡＢＣＤＥ123", "あいうえおかa", "アイウエオカキ"] {
        bad_messagename(&s, bad).await;
    }
}

/// A message name that passes validation but names a project that does not exist
/// (so the scheduler answers 0416): proof that the API's validation let it through.
async fn passes_validation_project(s: &Server, project: &str) {
    let body = json!({ "messagename": "EV1", "projectname": project }).to_string();
    let msg = "Failed to process the msgevent resource. detail=MpJobsch: ERROR: 0416: The project is not found.";
    msgevent_refused(s, &body, 500, "OM_API_00900", msg).await;
}

#[tokio::test]
async fn wapi_066_projectname_mixed_widths_at_50_and_51() {
    let s = start().await;
    // 24 kanji (48) + 2 ASCII = 50 → passes validation; + 3 ASCII = 51 → 00010.
    passes_validation_project(&s, &format!("{}ab", "部".repeat(24))).await;
    let p = format!("{}abc", "部".repeat(24));
    let body = json!({ "messagename": "EV1", "projectname": p }).to_string();
    msgevent_refused(&s, &body, 400, "OM_API_00010", &invalid("projectname", &p)).await;
    // 25 full-width digits pass; 26 do not.
    passes_validation_project(&s, &"９".repeat(25)).await;
    let p = "９".repeat(26);
    let body = json!({ "messagename": "EV1", "projectname": p }).to_string();
    msgevent_refused(&s, &body, 400, "OM_API_00010", &invalid("projectname", &p)).await;
}

#[tokio::test]
async fn wapi_066_jobnetname_50_ascii_passes_validation_51_does_not() {
    let s = start().await;
    let j = "J".repeat(50);
    let body = json!({ "messagename": "EV1", "projectname": "P1", "jobnetname": j }).to_string();
    let msg = "Failed to process the msgevent resource. detail=MpJobsch: ERROR: 0103: The job net is not found.";
    msgevent_refused(&s, &body, 500, "OM_API_00900", msg).await;
    let j = "J".repeat(51);
    let body = json!({ "messagename": "EV1", "projectname": "P1", "jobnetname": j }).to_string();
    msgevent_refused(&s, &body, 400, "OM_API_00010", &invalid("jobnetname", &j)).await;
}

// ----- WOI_NAME_CHARS (spec 04 §2.3) ------------------------------------------

#[tokio::test]
async fn wapi_047_049_each_forbidden_character_class_is_00010() {
    let s = start().await;
    for bad in [
        "EV\u{3000}1", // full-width space
        "ア・イ",      // U+30FB katakana middle dot
        "゠A",         // U+30A0
        "EV😀",        // emoji
        "ｱ1",          // half-width katakana
        "EV｡",         // U+FF61, first of the half-width block
        "EV\t1",       // tab
        "EV\u{7}",     // control character
        "EV\u{7f}",    // DEL
        "EV\u{85}",    // C1 control
        "E.V",
        "EV,1",
        "EV:1",
        "EV/1",
        "EV*1",
        "EV#1",
        "EV!",
        "EV?",
        "EV(1)",
        "〇",         // U+3007 is not in the kanji ranges
        "𠮷",         // CJK extension B is not in the kanji ranges
        "か\u{3099}", // combining voiced mark
        "゛",         // U+309B
        "＠EV",       // U+FF20 full-width @ (just below Ａ)
        "EV［",       // U+FF3B (just after Ｚ)
        "EV｀",       // U+FF40 (just below ａ)
        "EV｛",       // U+FF5B (just after ｚ)
        "EV／",       // U+FF0F (just below ０)
        "EV：",       // U+FF1A (just after ９)
        "EV、",       // ideographic comma
        "EVé",
        "한글",
        "EV\u{200b}", // zero-width space
    ] {
        bad_messagename(&s, bad).await;
    }
}

#[tokio::test]
async fn wapi_048_code_point_edges_inside_the_fixed_sets_pass() {
    let s = start().await;
    for ok in [
        "ぁゖゝゞゟ",   // U+3041, U+3096, U+309D–U+309F
        "ァヺーヽヾヿ", // U+30A1, U+30FA, U+30FC–U+30FF
        "㐀䶿一鿿",     // U+3400, U+4DBF, U+4E00, U+9FFF
        "０９ＡＺａｚ",
        "@+_-09AZaz",
    ] {
        msgevent(&s, &json!({ "messagename": ok }).to_string()).await.assert_ok_envelope();
    }
}

#[tokio::test]
async fn wapi_062_vparam_forbidden_classes_are_00010() {
    let s = start().await;
    for bad in ["a b", "a\u{3000}b", "ﾊﾟﾗﾒｰﾀ", "a.csv", "x=1", "a;b", "C:\\x", "値・値", "😀"] {
        let body = json!({ "messagename": "EVX", "vparam": bad }).to_string();
        msgevent_refused(&s, &body, 400, "OM_API_00010", &invalid("vparam", bad)).await;
    }
}

#[tokio::test]
async fn wapi_058_059_060_suffix_edges() {
    let s = start().await;
    let ok30 = format!("a{}", "-".repeat(29));
    for ok in [ok30.as_str(), "0", "9-", "Z-z-0", &"7".repeat(30)] {
        let body = json!({ "messagename": "EVX", "vparam": "v", "suffix": ok }).to_string();
        msgevent(&s, &body).await.assert_ok_envelope();
    }
    let over = format!("a{}", "-".repeat(30));
    for bad in [over.as_str(), "-", "--a", "ａ1", "a b", "a.b", "a+b", "a@b", "ab_", "日本", "ｱ"] {
        let body = json!({ "messagename": "EVX", "vparam": "v", "suffix": bad }).to_string();
        msgevent_refused(&s, &body, 400, "OM_API_00010", &invalid("suffix", bad)).await;
    }
}

// ----- JSON values and types (spec 04 §3.1 steps 5–10, §3.4.1) ---------------------

// WAPI-050
#[tokio::test]
async fn wapi_050_non_string_values_are_shown_as_compact_json() {
    let s = start().await;
    for (body, key, shown) in [
        (r#"{"messagename":false}"#, "messagename", "false"),
        (r#"{"messagename":{"a":1}}"#, "messagename", r#"{"a":1}"#),
        (r#"{"messagename":[]}"#, "messagename", "[]"),
        (r#"{"messagename":-7}"#, "messagename", "-7"),
        (r#"{"messagename":"EV1","jobnetname":0,"projectname":"P1"}"#, "jobnetname", "0"),
        (r#"{"messagename":"EV1","vparam":{ "k" : [ 1 , 2 ] }}"#, "vparam", r#"{"k":[1,2]}"#),
        (r#"{"messagename":"EV1","vparam":"v","suffix":12}"#, "suffix", "12"),
    ] {
        msgevent_refused(&s, body, 400, "OM_API_00010", &invalid(key, shown)).await;
    }
}

// WAPI-006, WAPI-007
#[tokio::test]
async fn wapi_006_007_bodies_that_are_not_one_json_object_are_00099() {
    let s = start().await;
    for body in [
        "null",
        "5",
        "true",
        "   ",
        "\n",
        "{}{}",
        r#"{"messagename":"EV1"}{}"#,
        r#"{"messagename":"EV1""#,
        "{'messagename':'EV1'}",
        r#"{"messagename":"EV1",}"#,
        "{messagename:\"EV1\"}",
        r#"{"messagename":"EV1"} // comment"#,
        r#"[{"messagename":"EV1"}]"#,
    ] {
        msgevent_refused(&s, body, 400, "OM_API_00099", M_NOT_OBJECT).await;
    }
    // Bytes that are not UTF-8 inside a string.
    let mut body = br#"{"messagename":"EV"#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe]);
    body.extend_from_slice(br#""}"#);
    let h = s.admin_headers().await;
    let r = refused(&s, s.send("POST", &url(&s, "msgevent"), &h, Some(&body))).await;
    r.assert_error(400, "OM_API_00099", M_NOT_OBJECT);
}

#[tokio::test]
async fn wapi_001_whitespace_around_the_object_and_escaped_keys_are_fine() {
    let s = start().await;
    msgevent(&s, " \r\n\t{ \"messagename\" : \"EV1\" , \"projectname\" : \"P2\" } \n").await.assert_ok_envelope();
    assert_eq!(counted_jobnets(&s, "EV1").await, ["P2/J2", "P2/JD"]);
    // JSON escapes in keys and values are decoded before the rules apply.
    msgevent(&s, r#"{"message\u006eame":"\u0045V2","projectname":"P\u0032","jobnetname":"J2"}"#)
        .await
        .assert_ok_envelope();
    assert_eq!(counted_jobnets(&s, "EV2").await, ["P2/J2"]);
}

// ----- order of the pipeline steps (spec 04 §3.1) -------------------------------------

// WAPI-053, WAPI-065 (order of steps 6, 7, 8, 9, 10, 11)
#[tokio::test]
async fn wapi_053_065_the_first_failing_step_answers() {
    let s = start().await;
    // 6 before 7 and 9: a duplicate wins over an unknown key and a missing messagename.
    msgevent_refused(&s, r#"{"zz":1,"vparam":"a","vparam":"b"}"#, 400, "OM_API_00013", &duplicate("vparam")).await;
    // 6 before 8: a duplicate whose first value is null is still a duplicate.
    let body = r#"{"messagename":"EV1","vparam":null,"vparam":"a"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00013", &duplicate("vparam")).await;
    let body = r#"{"messageName":null,"messagename":"EV1"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00013", &duplicate("messagename")).await;
    // 7 before 8: an unknown key with a null value is still unnecessary.
    let body = r#"{"messagename":"EV1","host":null}"#;
    msgevent_refused(&s, body, 400, "OM_API_00012", &unnecessary("host")).await;
    // 7 before 9: an upper-case spelling is unknown, not a missing messagename.
    msgevent_refused(&s, r#"{"MESSAGENAME":"EV1"}"#, 400, "OM_API_00012", &unnecessary("MESSAGENAME")).await;
    // 7 before 10.
    let body = r#"{"messagename":"EV 1","projectName":"P1"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00012", &unnecessary("projectName")).await;
    // 9 before 10: a missing messagename wins over invalid fields.
    let body = r#"{"projectname":"P 1","vparam":".","suffix":"-"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00011", &required("messagename")).await;
    msgevent_refused(&s, r#"{"messageName":""}"#, 400, "OM_API_00011", &required("messagename")).await;
    // 10 before 11: per-field errors win over the cross-field rules.
    let body = r#"{"messagename":"EV1","jobnetname":"J 1"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00010", &invalid("jobnetname", "J 1")).await;
    let body = r#"{"messagename":"EV1","suffix":"-z"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00010", &invalid("suffix", "-z")).await;
    // Field order: projectname before jobnetname, vparam before suffix, whatever the document order.
    let body = r#"{"jobnetname":"J 1","projectname":"P 1","messagename":"EV1"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00010", &invalid("projectname", "P 1")).await;
    let body = r#"{"suffix":"_","vparam":"a b","messagename":"EV1"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00010", &invalid("vparam", "a b")).await;
    // Cross-field rule 1 before rule 2.
    let body = r#"{"messagename":"EV1","jobnetname":"J1","suffix":"s1"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00011", &required("projectname")).await;
    // A control character is reported raw.
    msgevent_refused(&s, r#"{"messagename":"EV\u0007"}"#, 400, "OM_API_00010", &invalid("messagename", "EV\u{7}"))
        .await;
}

// WAPI-056, WAPI-057 with null normalisation (step 8)
#[tokio::test]
async fn wapi_056_057_null_counts_as_absent_in_the_cross_field_rules() {
    let s = start().await;
    let body = r#"{"messagename":"EV1","projectname":null,"jobnetname":"J1"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00011", &required("projectname")).await;
    let body = r#"{"messagename":"EV1","vparam":null,"suffix":"s1"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00012", &unnecessary("suffix")).await;
    let body = r#"{"messagename":"EV1","vparam":"","suffix":"s1"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00010", &invalid("vparam", "")).await;
    // Nulls in optional keys are simply absent.
    msgevent(&s, r#"{"messagename":"EV2","suffix":null,"vparam":null}"#).await.assert_ok_envelope();
    msgevent(&s, r#"{"messagename":"EV1","projectname":"P1","jobnetname":null}"#).await.assert_ok_envelope();
    assert_eq!(counted_jobnets(&s, "EV1").await, ["P1/J1", "P1/J3", "P1/JD"]);
}

// ----- body checks (spec 04 §3.1 step 5) ------------------------------------------------

// WAPI-010
#[tokio::test]
async fn wapi_010_a_body_of_exactly_64_kib_is_accepted_one_byte_more_is_413() {
    let s = start().await;
    let head = r#"{"messagename":"EVX"}"#;
    let exact = format!("{head}{}", " ".repeat(65536 - head.len()));
    assert_eq!(exact.len(), 65536);
    msgevent(&s, &exact).await.assert_ok_envelope();
    let over = format!("{exact} ");
    msgevent_refused(&s, &over, 413, "OM_API_01015", "The request body is too large. limit=65536").await;
    msgclear_refused(
        &s,
        &format!("{{}}{}", " ".repeat(65535)),
        413,
        "OM_API_01015",
        "The request body is too large. limit=65536",
    )
    .await;
}

// WAPI-010, WAPI-008: the size is checked before the media type.
#[tokio::test]
async fn wapi_010_size_is_checked_before_the_media_type() {
    let s = start().await;
    let h = headers_with_type(&s, Some("text/plain")).await;
    let body = vec![b' '; 70 * 1024];
    let r = refused(&s, s.send("POST", &url(&s, "msgevent"), &h, Some(&body))).await;
    r.assert_error(413, "OM_API_01015", "The request body is too large. limit=65536");
}

// WAPI-008
#[tokio::test]
async fn wapi_008_other_media_types_are_415_with_the_bare_type() {
    let s = start().await;
    for (ct, shown) in [
        ("application/xml", "application/xml"),
        ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),
        ("text/json", "text/json"),
        ("application/problem+json", "application/problem+json"),
        ("multipart/form-data; boundary=xyz", "multipart/form-data"),
    ] {
        let h = headers_with_type(&s, Some(ct)).await;
        let r = refused(&s, s.send("POST", &url(&s, "msgevent"), &h, Some(br#"{"messagename":"EV1"}"#))).await;
        r.assert_error(415, "OM_API_01016", &format!("The media type is not supported. type={shown}"));
        let r = refused(&s, s.send("POST", &url(&s, "msgclear"), &h, Some(b"{}"))).await;
        r.assert_error(415, "OM_API_01016", &format!("The media type is not supported. type={shown}"));
    }
    // The media type before the JSON check: a bad body with a bad type is 415.
    let h = headers_with_type(&s, Some("text/plain")).await;
    let r = refused(&s, s.send("POST", &url(&s, "msgevent"), &h, Some(b"not json"))).await;
    r.assert_code(415, "OM_API_01016");
}

// WAPI-008, WAPI-009
#[tokio::test]
async fn wapi_008_009_json_with_parameters_is_accepted() {
    let s = start().await;
    for ct in ["application/json;charset=utf-8", "application/json ; charset=\"UTF-8\"", "application/json;foo=bar"] {
        let h = headers_with_type(&s, Some(ct)).await;
        s.send("POST", &url(&s, "msgevent"), &h, Some(br#"{"messagename":"EVX"}"#)).await.assert_ok_envelope();
    }
    let h = headers_with_type(&s, None).await;
    s.send("POST", &url(&s, "msgclear"), &h, Some(b"{}")).await.assert_ok_envelope();
}

// ----- routing (spec 04 §2.1, §3.1 step 1) --------------------------------------------

// WAPI-002, WAPI-003: routing comes before authentication.
#[tokio::test]
async fn wapi_002_003_wrong_methods_are_405_even_without_credentials() {
    let s = start().await;
    for (method, resource) in
        [("GET", "msgevent"), ("PATCH", "msgevent"), ("DELETE", "msgevent"), ("GET", "msgclear"), ("PATCH", "msgclear")]
    {
        let r = refused(&s, s.send(method, &url(&s, resource), &[], None)).await;
        r.assert_error(405, "OM_API_00050", M_NOT_FOUND);
        assert_eq!(r.header("allow"), Some("POST"), "{method} {resource}");
    }
}

// WAPI-004, WAPI-005
#[tokio::test]
async fn wapi_004_005_unknown_paths_are_404_even_without_credentials() {
    let s = start().await;
    for path in [
        "/t9/envA/api/v1/msgevents",
        "/t9/envA/api/v1/MsgEvent",
        "/t9/envA/api/v1/msgevent/",
        "/t9/envA/api/v1/msgevent/x",
        "/t9/envA/api/msgevent",
        "/t9/envA/v1/msgevent",
        "/T9/envA/api/v1/msgevent",
        "/t9/ENVA/api/v1/msgevent",
        "/t9/envA/API/v1/msgevent",
        "/t9/envA/envA/api/v1/msgevent",
        "/envA/api/v1/msgevent",
    ] {
        let r = refused(&s, s.send("POST", &format!("{}{path}", s.url), &[], Some(br#"{"messagename":"EV1"}"#))).await;
        r.assert_error(404, "OM_API_00050", M_NOT_FOUND);
    }
}

#[tokio::test]
async fn wapi_004_percent_encoded_tenant_and_environment_are_decoded() {
    let s = start().await;
    let h = s.admin_headers().await;
    let r = s
        .send("POST", &format!("{}/%74%39/env%41/api/v1/msgevent", s.url), &h, Some(br#"{"messagename":"EV2"}"#))
        .await;
    r.assert_ok_envelope();
    // EV2 is awaited by J1, JD, J2 and JD (not J3).
    assert_eq!(counted_jobnets(&s, "EV2").await, ["P1/J1", "P1/JD", "P2/J2", "P2/JD"]);
    // A segment that is not UTF-8 after decoding names its parameter.
    let r = refused(&s, s.send("POST", &format!("{}/t%C3%28/envA/api/v1/msgevent", s.url), &h, Some(b"{}"))).await;
    r.assert_error(400, "OM_API_00010", &invalid("tenantId", "t%C3%28"));
}

// §3.1: Layer A ignores query strings.
#[tokio::test]
async fn layer_a_ignores_query_strings() {
    let s = start().await;
    let h = s.admin_headers().await;
    let u = format!("{}?messagename=EV2&projectname=P2&foo=1&foo=2", url(&s, "msgevent"));
    s.send("POST", &u, &h, Some(br#"{"messagename":"EV1","projectname":"P1","jobnetname":"J3"}"#))
        .await
        .assert_ok_envelope();
    assert_eq!(counted_jobnets(&s, "EV1").await, ["P1/J3"]);
    assert!(s.counted("EV2").await.is_empty());
}

// ----- authentication (spec 04 §3.2) ---------------------------------------------------

// WAPI-012, WAPI-013
#[tokio::test]
async fn wapi_012_013_authorization_that_is_not_bearer_space_token_is_00012() {
    let s = start().await;
    let token = s.token().await;
    for value in [
        format!("Bearer\t{token}"),
        format!("Bearer{token}"),
        format!("Token {token}"),
        format!("JWT {token}"),
        format!("Bearer: {token}"),
        token.clone(),
        "Bearer ".to_string(),
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("a:b")),
    ] {
        auth_refused(&s, &with_authorization(&value), "00012").await;
    }
}

// WAPI-014, WAPI-015
#[tokio::test]
async fn wapi_014_015_malformed_or_badly_signed_tokens_are_00013() {
    let s = start().await;
    let token = s.token().await;
    let now = s.clock_now();
    let key = s.auth.signing_key().expect("key");
    let mut tampered = token.clone();
    let last = tampered.pop().expect("char");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let parts: Vec<&str> = token.split('.').collect();
    let other_claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"appid": s.client_id, "exp": now + 10_000}).to_string());
    let swapped = format!("{}.{}.{}", parts[0], other_claims, parts[2]);
    for value in [
        tampered,
        swapped,
        format!("{token}.x"),
        "a.b.c.d".to_string(),
        "...".to_string(),
        "x".to_string(),
        forge_with(jsonwebtoken::Algorithm::HS512, &key, &claims(&s, now)),
        forge_with(jsonwebtoken::Algorithm::HS384, &key, &claims(&s, now)),
    ] {
        auth_refused(&s, &with_authorization(&format!("Bearer {value}")), "00013").await;
    }
}

// WAPI-016
#[tokio::test]
async fn wapi_016_exp_equal_to_now_is_expired_and_wins_over_a_wrong_audience() {
    let s = start().await;
    let now = s.clock_now();
    let mut c = claims(&s, now - 100);
    c["exp"] = now.into();
    auth_refused(&s, &with_authorization(&format!("Bearer {}", signed(&s, &c))), "00014").await;
    // 00014 is checked before the claims of 00015.
    let mut c = claims(&s, now - 100);
    c["exp"] = (now - 1).into();
    c["aud"] = "https://h/t9/envB/api".into();
    auth_refused(&s, &with_authorization(&format!("Bearer {}", signed(&s, &c))), "00014").await;
    // One second later it is still valid.
    let mut c = claims(&s, now - 100);
    c["exp"] = (now + 1).into();
    let h = with_authorization(&format!("Bearer {}", signed(&s, &c)));
    s.send("POST", &url(&s, "msgevent"), &h, Some(br#"{"messagename":"EVX"}"#)).await.assert_ok_envelope();
}

// WAPI-017
#[tokio::test]
async fn wapi_017_tokens_for_another_tenant_or_missing_claims_are_00015() {
    let s = start().await;
    let now = s.clock_now();
    let mut variants = Vec::new();
    let mut c = claims(&s, now);
    c["iss"] = "https://h/t8/oauth2/v2.0".into();
    c["aud"] = "https://h/t8/envA/api".into();
    variants.push(c);
    let mut c = claims(&s, now);
    c["aud"] = "https://other/t9/envA/api".into();
    variants.push(c);
    let mut c = claims(&s, now);
    c["aud"] = "https://h/t9/envA/api/".into();
    variants.push(c);
    let mut c = claims(&s, now);
    c["appid"] = "00000000-0000-4000-8000-000000000000".into();
    variants.push(c);
    for missing in ["aud", "iss", "ver", "appid"] {
        let mut c = claims(&s, now);
        c.as_object_mut().expect("object").remove(missing);
        variants.push(c);
    }
    let mut c = claims(&s, now);
    c["ver"] = "woi-2".into();
    variants.push(c);
    for c in variants {
        auth_refused(&s, &with_authorization(&format!("Bearer {}", signed(&s, &c))), "00015").await;
    }
    // exp − iat = 3600 exactly is allowed.
    let mut c = claims(&s, now);
    c["exp"] = (now + 3600).into();
    let h = with_authorization(&format!("Bearer {}", signed(&s, &c)));
    s.send("POST", &url(&s, "msgevent"), &h, Some(br#"{"messagename":"EVX"}"#)).await.assert_ok_envelope();
}

// WAPI-022, WAPI-023, WAPI-024, WAPI-025
#[tokio::test]
async fn wapi_022_to_025_x_fjwoi_format_sub_codes() {
    let s = start().await;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let cases: Vec<(String, &str)> = vec![
        (format!("Basic\t{}", b64(b"admin1:Aa#12345")), "00002"),
        (format!("Basic{}", b64(b"admin1:Aa#12345")), "00002"),
        (format!("Basic  {}", b64(b"admin1:Aa#12345")), "00002"),
        ("Basic ".to_string(), "00002"),
        (format!("Digest {}", b64(b"admin1:Aa#12345")), "00002"),
        (b64(b"admin1:Aa#12345"), "00002"),
        ("Basic Pz8_".to_string(), "00003"), // URL-safe alphabet
        ("Basic Pz8-".to_string(), "00003"),
        ("Basic YWRt aW4=".to_string(), "00003"),
        ("Basic YQ".to_string(), "00003"),                        // padding missing
        (format!("Basic {}", b64(&[0xff, b':', 0x41])), "00003"), // not UTF-8
        (basic("admin1"), "00004"),
        (basic(""), "00002"), // "Basic " + nothing: no credential at all
        (basic(":"), "00005"),
        (basic("::"), "00005"),
        (basic(":x:y"), "00005"),
    ];
    for (value, sub) in cases {
        auth_refused(&s, &with_user_value(&s, &value).await, sub).await;
    }
}

// WAPI-026, WAPI-027, WAPI-028
#[tokio::test]
async fn wapi_026_027_credentials_are_case_sensitive_and_exact() {
    let s = start().await;
    for creds in [
        "ADMIN1:Aa#12345",
        "Admin1:Aa#12345",
        "admin1:aa#12345",
        "admin1:Aa#12345:",
        "admin1:Aa#1234",
        "admin1 :Aa#12345",
        " admin1:Aa#12345",
    ] {
        let h = with_user_value(&s, &basic(creds)).await;
        let r = refused(&s, s.send("POST", &url(&s, "msgevent"), &h, Some(br#"{"messagename":"EV1"}"#))).await;
        r.assert_error(401, "OM_API_00002", M_BAD_USER);
    }
}

// WAPI-030, WAPI-033: step A before step B before credentials before the body.
#[tokio::test]
async fn wapi_030_033_authentication_order() {
    let s = start().await;
    // A bad token wins over a missing X-FJWOI header.
    let h = vec![("authorization", "Bearer a.b.c".to_string())];
    let r = refused(&s, s.send("POST", &url(&s, "msgevent"), &h, Some(b"[]"))).await;
    r.assert_error(401, "OM_API_00001", &auth_required("00013"));
    // A bad X-FJWOI format wins over a bad body, a bad media type and an oversized body.
    let mut h = with_user_value(&s, "Basic %%%").await;
    h.retain(|(k, _)| *k != "content-type");
    h.push(("content-type", "text/plain".into()));
    let r = refused(&s, s.send("POST", &url(&s, "msgevent"), &h, Some(b"not json"))).await;
    r.assert_error(401, "OM_API_00001", &auth_required("00003"));
    // Wrong credentials win over an oversized body and a wrong media type.
    let mut h = with_user_value(&s, &basic("admin1:Zz#99999")).await;
    h.retain(|(k, _)| *k != "content-type");
    h.push(("content-type", "text/plain".into()));
    let big = vec![b'x'; 70 * 1024];
    let r = refused(&s, s.send("POST", &url(&s, "msgevent"), &h, Some(&big))).await;
    r.assert_error(401, "OM_API_00002", M_BAD_USER);
    let r = refused(&s, s.send("POST", &url(&s, "msgclear"), &h, Some(b"{\"x\":1}"))).await;
    r.assert_error(401, "OM_API_00002", M_BAD_USER);
}

// WAPI-031 and §3.2: any account pairs with any user.
#[tokio::test]
async fn wapi_031_upper_case_schemes_and_any_account_with_any_user() {
    let s = start().await;
    s.auth.create_account("batch-02", s.clock_at()).expect("account");
    let new = s.auth.regenerate_secret("batch-02", 2, s.clock_at()).expect("secret");
    let token = s.token_for(&new.client_id, &new.secret).await;
    s.user_with("op7", "Qq7#wxyz", &[]);
    let h = vec![
        ("Authorization", format!("BEARER {token}")),
        ("X-Fjwoi-Authorization", basic("op7:Qq7#wxyz").replacen("Basic", "BASIC", 1)),
    ];
    s.send("POST", &url(&s, "msgevent"), &h, Some(br#"{"messagename":"EV1","projectname":"P2"}"#))
        .await
        .assert_ok_envelope();
    assert_eq!(counted_jobnets(&s, "EV1").await, ["P2/J2", "P2/JD"]);
}

// ----- msgevent targets (spec 04 §3.4.2) ---------------------------------------------------

// WAPI-070, WAPI-071: names are case-sensitive; the jobnet must be in the named project.
#[tokio::test]
async fn wapi_070_071_targets_are_case_sensitive_and_per_project() {
    let s = start().await;
    let m0416 = "Failed to process the msgevent resource. detail=MpJobsch: ERROR: 0416: The project is not found.";
    let m0103 = "Failed to process the msgevent resource. detail=MpJobsch: ERROR: 0103: The job net is not found.";
    msgevent_refused(&s, r#"{"messagename":"EV1","projectname":"p1"}"#, 500, "OM_API_00900", m0416).await;
    msgevent_refused(&s, r#"{"messagename":"EV1","projectname":"Ｐ1"}"#, 500, "OM_API_00900", m0416).await;
    let body = r#"{"messagename":"EV1","projectname":"PX","jobnetname":"J1"}"#;
    msgevent_refused(&s, body, 500, "OM_API_00900", m0416).await;
    let body = r#"{"messagename":"EV1","projectname":"P1","jobnetname":"j1"}"#;
    msgevent_refused(&s, body, 500, "OM_API_00900", m0103).await;
    let body = r#"{"messagename":"EV1","projectname":"P2","jobnetname":"J1"}"#;
    msgevent_refused(&s, body, 500, "OM_API_00900", m0103).await;
    // Suffix and vparam valid, unknown jobnet: still 0103 and nothing copied.
    let body = r#"{"messagename":"EV1","projectname":"P2","jobnetname":"J3","vparam":"v","suffix":"c1"}"#;
    msgevent_refused(&s, body, 500, "OM_API_00900", m0103).await;
}

// WAPI-067: an event name nobody waits for is still 200, and msgclear answers the envelope.
#[tokio::test]
async fn wapi_001_090_success_envelopes_and_content_type() {
    let s = start().await;
    let r = msgevent(&s, r#"{"messagename":"NOBODY"}"#).await;
    r.assert_ok_envelope();
    assert!(s.counted("NOBODY").await.is_empty());
    let r = s.post("msgclear", r#"{"projectname":"P2","jobnetname":"JD"}"#).await;
    r.assert_ok_envelope();
    assert_eq!(s.cleared().await, ["P2/JD"]);
}

// ----- msgclear (spec 04 §3.5, §3.11) ----------------------------------------------------------

#[tokio::test]
async fn wapi_091_097_msgclear_validation() {
    let s = start().await;
    msgclear_refused(&s, "[]", 400, "OM_API_00099", M_NOT_OBJECT).await;
    msgclear_refused(&s, "null", 400, "OM_API_00099", M_NOT_OBJECT).await;
    msgclear_refused(&s, " ", 400, "OM_API_00099", M_NOT_OBJECT).await;
    msgclear_refused(&s, r#"{"projectname":"P1","projectname":"P2"}"#, 400, "OM_API_00013", &duplicate("projectname"))
        .await;
    msgclear_refused(&s, r#"{"messageName":"EV1"}"#, 400, "OM_API_00012", &unnecessary("messageName")).await;
    msgclear_refused(&s, r#"{"projectname":"P1","vparam":"x"}"#, 400, "OM_API_00012", &unnecessary("vparam")).await;
    msgclear_refused(&s, r#"{"Projectname":"P1"}"#, 400, "OM_API_00012", &unnecessary("Projectname")).await;
    msgclear_refused(&s, r#"{"projectname":""}"#, 400, "OM_API_00010", &invalid("projectname", "")).await;
    msgclear_refused(&s, r#"{"jobnetname":""}"#, 400, "OM_API_00010", &invalid("jobnetname", "")).await;
    msgclear_refused(&s, r#"{"projectname":7}"#, 400, "OM_API_00010", &invalid("projectname", "7")).await;
    msgclear_refused(&s, r#"{"jobnetname":["J1"]}"#, 400, "OM_API_00010", &invalid("jobnetname", r#"["J1"]"#)).await;
    let body = r#"{"jobnetname":"J 1","projectname":"P・1"}"#;
    msgclear_refused(&s, body, 400, "OM_API_00010", &invalid("projectname", "P・1")).await;
    msgclear_refused(
        &s,
        r#"{"projectname":"P1","jobnetname":"J.1"}"#,
        400,
        "OM_API_00010",
        &invalid("jobnetname", "J.1"),
    )
    .await;
    let p = "部".repeat(26);
    msgclear_refused(&s, &json!({ "projectname": p }).to_string(), 400, "OM_API_00010", &invalid("projectname", &p))
        .await;
    let j = format!("{}x", "J".repeat(50));
    msgclear_refused(&s, &json!({ "jobnetname": j }).to_string(), 400, "OM_API_00010", &invalid("jobnetname", &j))
        .await;
}

#[tokio::test]
async fn wapi_090_msgclear_null_keys_are_absent() {
    let s = start().await;
    s.post("msgclear", r#"{"projectname":null,"jobnetname":null}"#).await.assert_ok_envelope();
    assert_eq!(sorted(s.cleared().await), ["P1/J1", "P1/J3", "P1/JD", "P2/J2", "P2/JD"]);
}

#[tokio::test]
async fn wapi_093_095_msgclear_engine_details() {
    let s = start().await;
    let pre = "Failed to process the msgclear resource. detail=";
    let m0175 = |p: &str| {
        format!(
            "{pre}MpJobsch: ERROR: 0175: {p} The project does not exist, or data or access rights are insufficient."
        )
    };
    let m0103 = format!("{pre}MpJobsch: ERROR: 0103: The job net is not found.");
    msgclear_refused(&s, r#"{"projectname":"PX"}"#, 500, "OM_API_00910", &m0175("PX")).await;
    msgclear_refused(&s, r#"{"projectname":"p1"}"#, 500, "OM_API_00910", &m0175("p1")).await;
    msgclear_refused(&s, r#"{"projectname":"PX","jobnetname":"J1"}"#, 500, "OM_API_00910", &m0175("PX")).await;
    msgclear_refused(&s, r#"{"projectname":"P2","jobnetname":"J1"}"#, 500, "OM_API_00910", &m0103).await;
    msgclear_refused(&s, r#"{"jobnetname":"JX"}"#, 500, "OM_API_00910", &m0103).await;
    msgclear_refused(&s, r#"{"jobnetname":"j1"}"#, 500, "OM_API_00910", &m0103).await;
}

// WAPI-094, WAPI-099 with the `update` right.
#[tokio::test]
async fn wapi_094_099_update_right_is_eligible_change_is_not() {
    let s = start().await;
    s.user_with("upd1", "Uu1#wxyz", &[("P1", Right::Change), ("P2", Right::Update)]);
    s.post_as("upd1:Uu1#wxyz", "msgclear", "{}").await.assert_ok_envelope();
    assert_eq!(sorted(s.cleared().await), ["P2/J2", "P2/JD"]);
    // JD is in P1 (change) and P2 (update): one eligible candidate.
    s.post_as("upd1:Uu1#wxyz", "msgclear", r#"{"jobnetname":"JD"}"#).await.assert_ok_envelope();
    assert_eq!(sorted(s.cleared().await), ["P2/J2", "P2/JD", "P2/JD"]);
    // J1 only exists in P1, where the user is not eligible: 0103.
    let r = refused(&s, s.post_as("upd1:Uu1#wxyz", "msgclear", r#"{"jobnetname":"J1"}"#)).await;
    r.assert_error(
        500,
        "OM_API_00910",
        "Failed to process the msgclear resource. detail=MpJobsch: ERROR: 0103: The job net is not found.",
    );
    // Naming the project gives 0175 instead.
    let r = refused(&s, s.post_as("upd1:Uu1#wxyz", "msgclear", r#"{"projectname":"P1","jobnetname":"J1"}"#)).await;
    r.assert_error(
        500,
        "OM_API_00910",
        "Failed to process the msgclear resource. detail=MpJobsch: ERROR: 0175: P1 The project does not exist, or data or access rights are insufficient.",
    );
}

// WAPI-093 with operation on both projects; WAPI-072: msgevent needs no right at all.
#[tokio::test]
async fn wapi_093_operation_on_both_projects_is_ambiguous_but_msgevent_needs_no_right() {
    let s = start().await;
    s.user_with("opb", "Ob1#wxyz", &[("P1", Right::Operation), ("P2", Right::Update)]);
    let r = refused(&s, s.post_as("opb:Ob1#wxyz", "msgclear", r#"{"jobnetname":"JD"}"#)).await;
    r.assert_error(
        500,
        "OM_API_00910",
        "Failed to process the msgclear resource. detail=job net JD is registered in more than one project",
    );
    s.user_with("ref1", "Rf1#wxyz", &[("P1", Right::Reference)]);
    s.post_as("ref1:Rf1#wxyz", "msgevent", r#"{"messagename":"EV2","projectname":"P2","jobnetname":"JD"}"#)
        .await
        .assert_ok_envelope();
    assert_eq!(counted_jobnets(&s, "EV2").await, ["P2/JD"]);
    let r = refused(&s, s.post_as("ref1:Rf1#wxyz", "msgclear", "{}")).await;
    r.assert_error(
        500,
        "OM_API_00910",
        "Failed to process the msgclear resource. detail=MpJobsch: WARNING: 0274: Valid project not found.",
    );
}

// ----- admin API rules (spec 04 §2.4.2, §2.4.4, §3.7, §3.12) --------------------------------------

async fn create_user(s: &Server, name: &str, password: &str) -> Reply {
    let body = json!({"name": name, "password": password, "admin": false}).to_string();
    s.admin_api("POST", "jobusers", Some(&body)).await
}

// WAPI-108, WAPI-109
#[tokio::test]
async fn wapi_108_109_job_user_name_edges() {
    let s = start().await;
    let n20 = "Ab_9".repeat(5);
    let r = create_user(&s, &n20, "Pq1#wxyz").await;
    assert_eq!(r.status, 201, "{}", r.text);
    for bad in [
        format!("{n20}x"),
        "user.1".into(),
        "user 1".into(),
        "ユーザ".into(),
        "ｕｓｅｒ".into(),
        "u@1".into(),
        "u:1".into(),
    ] {
        let before = s.snapshot().await;
        create_user(&s, &bad, "Pq1#wxyz").await.assert_error(400, "OM_API_00010", &invalid("name", &bad));
        assert_eq!(s.snapshot().await, before);
    }
    // Names are case-sensitive: `AB_9…` is another user than `Ab_9…` (§2.4.2).
    let upper = n20.to_uppercase();
    assert_eq!(create_user(&s, &upper, "Pq1#wxyz").await.status, 201);
    let r = create_user(&s, &n20, "Pq2#wxyz").await;
    r.assert_error(409, "OM_API_01009", &format!("The resource already exists. name={n20}"));
}

// WAPI-110, WAPI-111, WAPI-113
#[tokio::test]
async fn wapi_110_111_113_password_symbols() {
    let s = start().await;
    let allowed = "#%&()*+-./:<>?[]_'{}~";
    for (i, sym) in allowed.chars().enumerate() {
        let name = format!("sym{i}");
        let r = create_user(&s, &name, &format!("Ab1{sym}wxyz")).await;
        assert_eq!(r.status, 201, "symbol {sym:?}: {}", r.text);
    }
    for sym in ['!', '@', '$', '^', '=', ',', ';', '"', '\\', ' ', '|', '`', 'é', '＃'] {
        let before = s.snapshot().await;
        let r = create_user(&s, "badsym", &format!("Ab1{sym}wxyz")).await;
        r.assert_error(400, "OM_API_00010", "The parameter is invalid. password=****");
        assert_eq!(s.snapshot().await, before, "symbol {sym:?}");
    }
    for bad in ["Ab1#wxy", "ab1#wxyz", "AB1#WXYZ", "Abc#wxyz", "Ab12wxyz", "Ab1#wxyz0"] {
        create_user(&s, "badpw", bad).await.assert_error(
            400,
            "OM_API_00010",
            "The parameter is invalid. password=****",
        );
    }
}

// WAPI-112
#[tokio::test]
async fn wapi_112_password_must_not_contain_the_name_in_any_case() {
    let s = start().await;
    for pw in ["xKIM#1aZ", "kim#1AZz", "1A#zzKiM"] {
        create_user(&s, "kim", pw).await.assert_error(400, "OM_API_00010", "The parameter is invalid. password=****");
    }
    assert_eq!(create_user(&s, "kim", "xKI#1aMZ").await.status, 201);
}

// WAPI-101, WAPI-102
#[tokio::test]
async fn wapi_101_102_account_names() {
    let s = start().await;
    let name64 = format!("{}'.-_!#^~", "Zz09".repeat(14));
    assert_eq!(name64.chars().count(), 64);
    let r = s.admin_api("POST", "apiaccounts", Some(&json!({ "name": name64 }).to_string())).await;
    assert_eq!(r.status, 201, "{}", r.text);
    for bad in [format!("{name64}a"), "acc@1".into(), "acc/1".into(), "アカウント".into(), "acc$".into(), "a\tb".into()]
    {
        let before = s.snapshot().await;
        let r = s.admin_api("POST", "apiaccounts", Some(&json!({ "name": bad }).to_string())).await;
        r.assert_error(400, "OM_API_00010", &invalid("name", &bad));
        assert_eq!(s.snapshot().await, before);
    }
    let r = s.admin_api("POST", "apiaccounts", Some(&json!({ "name": name64 }).to_string())).await;
    r.assert_error(409, "OM_API_01009", &format!("The resource already exists. name={name64}"));
}

// WAPI-105: slot numbers other than 1 or 2.
#[tokio::test]
async fn wapi_105_other_slot_numbers_are_404() {
    let s = start().await;
    for slot in ["0", "-1", "x", "12"] {
        let before = s.snapshot().await;
        let r = s.admin_api("POST", &format!("apiaccounts/{}/secrets/{slot}", support::ACCOUNT), None).await;
        r.assert_error(404, "OM_API_00050", M_NOT_FOUND);
        assert_eq!(s.snapshot().await, before);
    }
}

/// Send raw bytes on a fresh connection and return the whole response text.
async fn raw(s: &Server, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.url.trim_start_matches("http://");
    let mut c = tokio::net::TcpStream::connect(addr).await.expect("connect");
    c.write_all(request).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), c.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

// ----- HTTP framing (spec 04 §3.1 step 5) ------------------------------------------------

// WAPI-010 with a chunked body (no Content-Length), WAPI-031 with lower-case raw header lines.
#[tokio::test]
async fn wapi_010_031_chunked_bodies_are_measured_and_raw_lower_case_headers_work() {
    let s = start().await;
    let token = s.token().await;
    let xb = basic(&format!("{ADMIN}:{ADMIN_PW}"));
    let host = s.url.trim_start_matches("http://").to_string();
    let head = format!(
        "POST /t9/envA/api/v1/msgevent HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nX-FJWOI-AUTHORIZATION: {xb}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let mut big = head.clone().into_bytes();
    let chunk = vec![b' '; 70 * 1024];
    big.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
    big.extend_from_slice(&chunk);
    big.extend_from_slice(b"\r\n0\r\n\r\n");
    let before = s.snapshot().await;
    let r = raw(&s, &big).await;
    assert!(r.starts_with("HTTP/1.1 413 "), "{r}");
    assert!(r.contains("content-type: application/json;charset=UTF-8\r\n"), "{r}");
    assert!(r.ends_with(r#"{"code":"OM_API_01015","message":"The request body is too large. limit=65536"}"#), "{r}");
    assert_eq!(s.snapshot().await, before);
    // A small chunked body is read whole.
    let small = format!("{head}5\r\n{{\"mes\r\n10\r\nsagename\":\"EV2\"}}\r\n0\r\n\r\n");
    let r = raw(&s, small.as_bytes()).await;
    assert!(r.starts_with("HTTP/1.1 200 "), "{r}");
    assert!(r.ends_with(r#"{"next":false,"total":0,"data":[]}"#), "{r}");
    assert_eq!(counted_jobnets(&s, "EV2").await.len(), 4);
    // Broken chunked framing (a chunk declares 0x12 bytes, 16 follow) is a
    // malformed request, not a large one (qa-findings-api F2).
    let before = s.snapshot().await;
    let broken = format!("{head}5\r\n{{\"mes\r\n12\r\nsagename\":\"EV2\"}}\r\n0\r\n\r\n");
    let r = raw(&s, broken.as_bytes()).await;
    assert!(r.starts_with("HTTP/1.1 400 "), "{r}");
    assert!(
        r.ends_with(r#"{"code":"OM_API_00099","message":"An internal error occurred. detail=the request body could not be read"}"#),
        "{r}"
    );
    assert_eq!(s.snapshot().await, before);
    assert_eq!(counted_jobnets(&s, "EV2").await.len(), 4);
    let lower = format!(
        "POST /t9/envA/api/v1/msgevent HTTP/1.1\r\nhost: {host}\r\nauthorization: bearer {token}\r\nx-fjwoi-authorization: {xb}\r\ncontent-length: 21\r\nconnection: close\r\n\r\n{{\"messagename\":\"EVX\"}}"
    );
    let r = raw(&s, lower.as_bytes()).await;
    assert!(r.starts_with("HTTP/1.1 200 "), "{r}");
}

// ----- the token endpoint (spec 04 §2.4.5, §4.3) ---------------------------------------------

async fn token_post(s: &Server, content_type: Option<&str>, fields: &[(&str, &str)]) -> Reply {
    let mut req = s.http.post(format!("{}/t9/oauth2/v2.0/token", s.url)).body(support::form_body(fields));
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    support::reply(req.send().await.expect("send")).await
}

fn token_error(r: &Reply, status: u16, error: &str) {
    assert_eq!((r.status, r.json()["error"].as_str()), (status, Some(error)), "{}", r.text);
    assert!(r.json()["error_description"].is_string(), "{}", r.text);
}

// WAPI-034, WAPI-035, WAPI-036
#[tokio::test]
async fn wapi_034_035_036_token_request_edges() {
    let s = start().await;
    let (id, secret) = (s.client_id.clone(), s.secret.clone());
    let form = |scope: &'static str| {
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
            ("scope", scope),
        ]
    };
    for scope in [
        "https://H/t9/envA/api/.default",
        "http://h/t9/envA/api/.default",
        "https://h/t9/envA/api//.default",
        "https://h/t9/envA/api/.DEFAULT",
        "https://h/t9/envB/api/.default",
        "https://h/t8/envA/api/.default",
        "https://h/t9/envA/api/.default https://h/t9/envA/api/.default",
    ] {
        token_error(
            &token_post(&s, Some("application/x-www-form-urlencoded"), &form(scope)).await,
            400,
            "invalid_scope",
        );
    }
    let ok = form("https://h/t9/envA/api/.default");
    // The form type with a charset parameter is still the form type.
    let r = token_post(&s, Some("application/x-www-form-urlencoded; charset=UTF-8"), &ok).await;
    assert_eq!(r.status, 200, "{}", r.text);
    token_error(&token_post(&s, Some("application/json"), &ok).await, 400, "invalid_request");
    token_error(&token_post(&s, None, &ok).await, 400, "invalid_request");
    let mut dup = ok.clone();
    dup.push(("scope", "https://h/t9/envA/api/.default"));
    token_error(&token_post(&s, Some("application/x-www-form-urlencoded"), &dup).await, 400, "invalid_request");
    for missing in ["grant_type", "client_id", "scope"] {
        let f: Vec<(&str, &str)> = ok.iter().copied().filter(|(k, _)| *k != missing).collect();
        token_error(&token_post(&s, Some("application/x-www-form-urlencoded"), &f).await, 400, "invalid_request");
    }
    for grant in ["CLIENT_CREDENTIALS", "authorization_code", "client_credentials "] {
        let mut f = ok.clone();
        f[0] = ("grant_type", grant);
        token_error(
            &token_post(&s, Some("application/x-www-form-urlencoded"), &f).await,
            400,
            "unsupported_grant_type",
        );
    }
    for (cid, sec) in [("00000000-0000-4000-8000-000000000000", secret.as_str()), (id.as_str(), ""), (id.as_str(), "x")]
    {
        let f = vec![
            ("grant_type", "client_credentials"),
            ("client_id", cid),
            ("client_secret", sec),
            ("scope", "https://h/t9/envA/api/.default"),
        ];
        token_error(&token_post(&s, Some("application/x-www-form-urlencoded"), &f).await, 401, "invalid_client");
    }
    // client_secret_basic with a wrong secret.
    let r = s
        .http
        .post(format!("{}/t9/oauth2/v2.0/token", s.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .basic_auth(&id, Some("wrong-secret"))
        .body(support::form_body(&[("grant_type", "client_credentials"), ("scope", "https://h/t9/envA/api/.default")]))
        .send()
        .await
        .expect("send");
    token_error(&support::reply(r).await, 401, "invalid_client");
    // Another tenant's endpoint does not exist; GET is not allowed.
    let r = support::reply(
        s.http
            .post(format!("{}/t8/oauth2/v2.0/token", s.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(support::form_body(&ok))
            .send()
            .await
            .expect("send"),
    )
    .await;
    r.assert_error(404, "OM_API_00050", M_NOT_FOUND);
}

// WAPI-034: the issued token carries the claims of §2.4.5.
#[tokio::test]
async fn wapi_034_issued_token_claims() {
    let s = support::start_at(support::at("2026-03-14T01:59:26Z")).await;
    let token = s.token().await;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url");
    let c: serde_json::Value = serde_json::from_slice(&payload).expect("json");
    let now = support::at("2026-03-14T01:59:26Z").timestamp();
    assert_eq!(c["iss"], json!("https://h/t9/oauth2/v2.0"));
    assert_eq!(c["aud"], json!("https://h/t9/envA/api"));
    assert_eq!(c["appid"], json!(s.client_id));
    assert_eq!(c["ver"], json!("woi-1"));
    assert_eq!((c["iat"].as_i64(), c["nbf"].as_i64(), c["exp"].as_i64()), (Some(now), Some(now), Some(now + 3599)));
}

// WAPI-038, WAPI-103: a secret made on Feb 29 expires on Feb 28 of the next year, to the second.
#[tokio::test]
async fn wapi_038_103_a_leap_day_secret_expires_on_feb_28() {
    let s = support::start_at(support::at("2024-02-29T12:00:00Z")).await;
    assert_eq!(s.admin_api("POST", "apiaccounts", Some(r#"{"name":"leap"}"#)).await.status, 201);
    let r = s.admin_api("POST", "apiaccounts/leap/secrets/2", None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let d = r.json()["data"][0].clone();
    assert_eq!(d["expiresAt"], json!("2025-02-28T12:00:00Z"));
    assert_eq!(d["secretType"], json!(2));
    let secret = d["secret"].as_str().expect("secret").to_string();
    assert_eq!(secret.len(), 40);
    assert!(secret.chars().all(|c| c.is_ascii_alphanumeric() || "~._-".contains(c)), "{secret}");
    let cid = d["clientId"].as_str().expect("clientId").to_string();
    let f = [
        ("grant_type", "client_credentials"),
        ("client_id", cid.as_str()),
        ("client_secret", secret.as_str()),
        ("scope", "https://h/t9/envA/api/.default"),
    ];
    s.clock.set(support::at("2025-02-28T11:59:59Z"));
    assert_eq!(token_post(&s, Some("application/x-www-form-urlencoded"), &f).await.status, 200);
    s.clock.set(support::at("2025-02-28T12:00:00Z"));
    token_error(&token_post(&s, Some("application/x-www-form-urlencoded"), &f).await, 401, "invalid_client");
}

// ----- admin API search and list (spec 04 §3.7, §3.12; WAPI-117) -------------------------------

fn names(r: &Reply) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["data"].as_array().expect("data").iter().map(|x| x["name"].as_str().unwrap_or("").to_string()).collect()
}

// WAPI-117
#[tokio::test]
async fn wapi_117_search_and_direction_with_other_names() {
    let s = start().await;
    for n in ["ops01", "ops02", "opsX", "xops"] {
        assert_eq!(create_user(&s, n, "Pq1#wxyz").await.status, 201);
    }
    assert_eq!(names(&s.admin_api("GET", "jobusers?search=ops*", None).await), ["ops01", "ops02", "opsX"]);
    assert_eq!(names(&s.admin_api("GET", "jobusers?search=*s0*", None).await), ["ops01", "ops02"]);
    assert_eq!(names(&s.admin_api("GET", "jobusers?search=*ops", None).await), ["xops"]);
    assert!(names(&s.admin_api("GET", "jobusers?search=OPS*", None).await).is_empty());
    assert!(names(&s.admin_api("GET", "jobusers?search=ops", None).await).is_empty());
    assert_eq!(names(&s.admin_api("GET", "jobusers?search=ops01", None).await), ["ops01"]);
    assert_eq!(
        names(&s.admin_api("GET", "jobusers?direction=desc", None).await),
        ["xops", "opsX", "ops02", "ops01", "admin1"]
    );
    s.admin_api("GET", "jobusers?direction=sideways", None).await.assert_error(
        400,
        "OM_API_00010",
        &invalid("direction", "sideways"),
    );
    s.admin_api("GET", "jobusers?search=a&search=b", None).await.assert_error(
        400,
        "OM_API_00013",
        &duplicate("search"),
    );
}

// WAPI-112, WAPI-115, WAPI-116 over the password route.
#[tokio::test]
async fn wapi_112_116_password_change_rules() {
    let s = start().await;
    assert_eq!(create_user(&s, "ops01", "Pq1#wxyz").await.status, 201);
    let r = s.admin_api("PUT", "jobusers/ops01/password", Some(r#"{"password":"OPS01#aZ"}"#)).await;
    r.assert_error(400, "OM_API_00010", "The parameter is invalid. password=****");
    let r = s.admin_api("PUT", "jobusers/ops01/password", Some(r#"{"password":"Aa1#Aa1#","admin":true}"#)).await;
    r.assert_error(400, "OM_API_00012", &unnecessary("admin"));
    let r = s.admin_api("PUT", "jobusers/nobody/password", Some(r#"{"password":"Aa1#Aa1#"}"#)).await;
    r.assert_error(404, "OM_API_00050", M_NOT_FOUND);
    // The old password still works: nothing changed.
    s.post_as("ops01:Pq1#wxyz", "msgevent", r#"{"messagename":"EVX"}"#).await.assert_ok_envelope();
    let h = vec![("authorization", basic("admin1:Aa#12346"))];
    let r = s.send("GET", &format!("{}/t9/envA/admin/v1/jobusers", s.url), &h, None).await;
    r.assert_error(401, "OM_API_00002", M_BAD_USER);
}

// WAPI-051, WAPI-052: the alias repeated is a duplicate under the canonical name.
#[tokio::test]
async fn wapi_052_the_alias_twice_is_a_duplicate_of_messagename() {
    let s = start().await;
    let body = r#"{"messageName":"EV1","projectname":"P1","messageName":"EV2"}"#;
    msgevent_refused(&s, body, 400, "OM_API_00013", &duplicate("messagename")).await;
}

// §2.3: `々` and the compatibility ideographs are kanji for vparam and project names.
#[tokio::test]
async fn wapi_062_iteration_mark_and_compatibility_ideographs_in_vparam_and_projectname() {
    let s = start().await;
    for v in ["々々", "\u{F900}\u{FA0E}", "佐々木\u{FA11}"] {
        msgevent(&s, &json!({ "messagename": "EVX", "vparam": v }).to_string()).await.assert_ok_envelope();
        passes_validation_project(&s, v).await;
    }
}

// WAPI-062 (qa-findings-api F1): `々` and the compatibility ideographs are
// WOI_NAME_CHARS in event names too, at the API and in definitions: a jobnet
// waiting for such an event counts it.
#[tokio::test]
async fn wapi_062_iteration_mark_and_compatibility_ideographs_in_messagename() {
    let defs = r#"
[[jobnet]]
project = "P1"
name = "SASAKI"
comment = "waits"
start = { message_only = {} }
messages = { events = ["佐々木", "EV\uF900"] }
[[jobnet.job]]
number = 1
command = "true"
"#;
    let s = start_with(defs, chrono::Utc::now()).await;
    for v in ["々々", "EV\u{F900}", "佐々木", "\u{FA0E}\u{FA11}"] {
        msgevent(&s, &json!({ "messagename": v }).to_string()).await.assert_ok_envelope();
    }
    assert_eq!(counted_jobnets(&s, "佐々木").await, vec!["P1/SASAKI".to_string()]);
    assert_eq!(counted_jobnets(&s, "EV\u{F900}").await, vec!["P1/SASAKI".to_string()]);
}
