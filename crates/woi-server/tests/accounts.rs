//! Accounts, secrets and job-management users (spec 04 §2.4, §3.7, §4.7).
//!
//! The admin HTTP API of §3.12 is not built yet (accounts and users are
//! managed with `woi user` / `woi account`), so the rules are proven on the
//! store that both use, and the error each refusal becomes through
//! `ApiError::from` is checked against §3.12's code, text and status.
//! Behaviors that involve Web API calls (WAPI-115, WAPI-118) go through HTTP.

mod support;

use woi_adapters::auth::{AuthError, AuthStore, MASK, search_matches};
use woi_server::ApiError;

use support::{at, start};

fn store() -> (tempfile::TempDir, AuthStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let auth = AuthStore::open(dir.path().join("auth.db")).expect("open");
    (dir, auth)
}

/// The refusal as the admin API answers it: (status, code, message).
fn api(e: AuthError) -> (u16, &'static str, String) {
    let e = ApiError::from(e);
    (e.status().as_u16(), e.code(), e.to_string())
}

fn t0() -> chrono::DateTime<chrono::Utc> {
    at("2025-05-01T08:00:00Z")
}

// WAPI-100
#[test]
fn wapi_100_a_sixth_account_is_refused() {
    let (_d, auth) = store();
    for i in 1..=5 {
        auth.create_account(&format!("acc{i}"), t0()).expect("create");
    }
    let e = auth.create_account("sixth", t0()).expect_err("limit");
    assert_eq!(
        api(e),
        (409, "OM_API_01012", "The maximum number of resources has been reached. resource=apiaccount limit=5".into())
    );
    assert_eq!(auth.accounts().expect("list").len(), 5);
    // After deleting one, a new one fits.
    auth.delete_account("acc3").expect("delete");
    auth.create_account("sixth", t0()).expect("create");
}

// WAPI-101
#[test]
fn wapi_101_account_name_charset() {
    let (_d, auth) = store();
    let e = auth.create_account("a b", t0()).expect_err("space");
    assert_eq!(api(e), (400, "OM_API_00010", "The parameter is invalid. name=a b".into()));
    let a = auth.create_account("a.b-c_d!e#f^g~h'i", t0()).expect("symbols");
    // A lower-case hyphenated UUID client ID is assigned.
    assert_eq!(a.client_id.len(), 36);
    assert!(a.client_id.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase() || c == '-'));
    let e = auth.create_account("a.b-c_d!e#f^g~h'i", t0()).expect_err("duplicate");
    assert_eq!(api(e), (409, "OM_API_01009", "The resource already exists. name=a.b-c_d!e#f^g~h'i".into()));
}

// WAPI-102
#[test]
fn wapi_102_account_name_is_at_most_64_characters() {
    let (_d, auth) = store();
    assert_eq!(api(auth.create_account(&"a".repeat(65), t0()).expect_err("65")).1, "OM_API_00010");
    auth.create_account(&"a".repeat(64), t0()).expect("64");
}

// WAPI-103
#[test]
fn wapi_103_a_secret_is_shown_once_and_expires_a_year_later() {
    let (dir, auth) = store();
    auth.create_account("acc1", t0()).expect("create");
    let s = auth.regenerate_secret("acc1", 2, t0()).expect("secret");
    assert_eq!(s.info.slot, 2);
    assert_eq!(s.info.expires_at, at("2026-05-01T08:00:00Z"));
    assert_eq!(s.info.secret_id.len(), 36);
    assert_eq!(s.secret.len(), 40);
    assert!(s.secret.chars().all(|c| c.is_ascii_alphanumeric() || "~._-".contains(c)));
    assert!(!format!("{s:?}").contains(&s.secret), "Debug masks the secret");
    // Afterwards only the metadata exists: the listing has no value to show.
    let a = auth.account("acc1").expect("read").expect("account");
    assert!(a.secrets[0].is_none());
    assert_eq!(a.secrets[1].as_ref().map(|i| i.secret_id.as_str()), Some(s.info.secret_id.as_str()));
    assert!(!format!("{a:?}").contains(&s.secret));
    // Stored hashed: the value is nowhere in the database files.
    for f in std::fs::read_dir(dir.path()).expect("dir") {
        let bytes = std::fs::read(f.expect("entry").path()).expect("read");
        assert!(!bytes.windows(s.secret.len()).any(|w| w == s.secret.as_bytes()));
    }
    assert_eq!(MASK, "****");
    // A Feb 29 creation expires on Feb 28.
    let leap = auth.regenerate_secret("acc1", 1, at("2028-02-29T12:00:00Z")).expect("secret");
    assert_eq!(leap.info.expires_at, at("2029-02-28T12:00:00Z"));
}

// WAPI-104
#[test]
fn wapi_104_deleting_an_empty_slot_is_404() {
    let (_d, auth) = store();
    auth.create_account("acc1", t0()).expect("create");
    let e = auth.delete_secret("acc1", 1).expect_err("empty");
    assert_eq!(api(e), (404, "OM_API_00050", "The specified resource does not exist.".into()));
    assert_eq!(api(auth.delete_secret("nope", 1).expect_err("no account")).0, 404);
    assert_eq!(api(auth.regenerate_secret("nope", 1, t0()).expect_err("no account")).0, 404);
}

// WAPI-105
#[test]
fn wapi_105_slot_3_does_not_exist() {
    let (_d, auth) = store();
    auth.create_account("acc1", t0()).expect("create");
    for slot in [0, 3] {
        assert_eq!(api(auth.regenerate_secret("acc1", slot, t0()).expect_err("slot")).1, "OM_API_00050");
        assert_eq!(api(auth.delete_secret("acc1", slot).expect_err("slot")).0, 404);
    }
}

// WAPI-107
#[test]
fn wapi_107_root_is_not_a_user_name() {
    let (_d, auth) = store();
    let e = auth.add_user("root", "Ab1#Ab1#", false, t0()).expect_err("root");
    assert_eq!(api(e), (400, "OM_API_00010", "The parameter is invalid. name=root".into()));
}

// WAPI-108
#[test]
fn wapi_108_user_name_is_at_most_20_characters() {
    let (_d, auth) = store();
    assert_eq!(api(auth.add_user(&"u".repeat(21), "Ab1#Ab1#", false, t0()).expect_err("21")).1, "OM_API_00010");
    auth.add_user("ops_team_01", "Ab1#Ab1#", false, t0()).expect("11");
    auth.add_user(&"u".repeat(20), "Ab1#Ab1#", false, t0()).expect("20");
}

// WAPI-109
#[test]
fn wapi_109_a_hyphen_is_not_allowed_in_user_names() {
    let (_d, auth) = store();
    let e = auth.add_user("ops-1", "Ab1#Ab1#", false, t0()).expect_err("hyphen");
    assert_eq!(api(e), (400, "OM_API_00010", "The parameter is invalid. name=ops-1".into()));
}

fn password_refused(auth: &AuthStore, user: &str, password: &str) {
    let e = auth.add_user(user, password, false, t0()).expect_err(password);
    assert!(!e.to_string().contains(password), "the error must not echo the password: {e}");
    assert_eq!(api(e), (400, "OM_API_00010", "The parameter is invalid. password=****".into()));
}

// WAPI-110
#[test]
fn wapi_110_a_password_needs_a_symbol() {
    let (_d, auth) = store();
    password_refused(&auth, "op1", "Abcdefg1");
}

// WAPI-111
#[test]
fn wapi_111_a_password_is_exactly_8_characters() {
    let (_d, auth) = store();
    password_refused(&auth, "op1", "Ab1#Ab1#x");
    password_refused(&auth, "op1", "Ab1#Ab1");
    auth.add_user("op1", "Ab1#Ab1#", false, t0()).expect("8");
}

// WAPI-112
#[test]
fn wapi_112_a_password_must_not_contain_the_user_name() {
    let (_d, auth) = store();
    password_refused(&auth, "Abc", "xAbc#12Z");
    password_refused(&auth, "Abc", "xaBC#12Z");
}

// WAPI-113
#[test]
fn wapi_113_exclamation_mark_is_not_a_password_symbol() {
    let (_d, auth) = store();
    password_refused(&auth, "op1", "Ab1#Ab1!");
}

// WAPI-114
#[test]
fn wapi_114_a_101st_user_is_refused() {
    let (_d, auth) = store();
    for i in 0..100 {
        auth.add_user(&format!("u{i:03}"), "Ab1#Ab1#", false, t0()).expect("user");
    }
    let e = auth.add_user("u100", "Ab1#Ab1#", false, t0()).expect_err("limit");
    assert_eq!(
        api(e),
        (409, "OM_API_01012", "The maximum number of resources has been reached. resource=jobuser limit=100".into())
    );
    assert_eq!(auth.users().expect("users").len(), 100);
    let e = auth.add_user("u000", "Ab1#Ab1#", false, t0()).expect_err("limit before duplicate");
    assert_eq!(api(e).1, "OM_API_01012");
}

#[test]
fn duplicate_users_are_409_and_rights_follow_the_user() {
    let (_d, auth) = store();
    auth.add_user("op1", "Ab1#Ab1#", false, t0()).expect("user");
    let e = auth.add_user("op1", "Cd2#Cd2#", true, t0()).expect_err("duplicate");
    assert_eq!(api(e), (409, "OM_API_01009", "The resource already exists. name=op1".into()));
    auth.grant("op1", "P1", Some(woi_adapters::auth::Right::Operation)).expect("grant");
    assert_eq!(api(auth.grant("nobody", "P1", None).expect_err("no user")).0, 404);
    assert_eq!(api(auth.grant("op1", "P/1", None).expect_err("bad project")).1, "OM_API_00010");
    auth.delete_user("op1").expect("delete");
    auth.add_user("op1", "Ab1#Ab1#", false, t0()).expect("re-create");
    assert!(auth.user("op1").expect("read").expect("user").rights.is_empty(), "rights went with the user");
}

// WAPI-115
#[tokio::test]
async fn wapi_115_a_password_change_applies_to_the_next_call() {
    let s = start().await;
    s.auth.add_user("op5", "Xy7#abcd", false, s.clock_at()).expect("user");
    s.post_as("op5:Xy7#abcd", "msgevent", r#"{"messagename":"EVX"}"#).await.assert_ok_envelope();
    s.auth.set_password("op5", "Xy9#wxyz").expect("passwd");
    let r = s.post_as("op5:Xy7#abcd", "msgevent", r#"{"messagename":"EVX"}"#).await;
    r.assert_error(401, "OM_API_00002", "The user ID or password is invalid.");
    s.post_as("op5:Xy9#wxyz", "msgevent", r#"{"messagename":"EVX"}"#).await.assert_ok_envelope();
    // The new password follows the same rules.
    assert!(s.auth.set_password("op5", "short").is_err());
}

// WAPI-117
#[test]
fn wapi_117_search_is_exact_unless_it_has_a_star() {
    let (_d, auth) = store();
    for name in ["jobadmin", "jobuser01", "jobuser02", "ops9"] {
        auth.add_user(name, "Ab1#Ab1#", false, t0()).expect("user");
    }
    let users = auth.users().expect("users");
    let hits =
        |p: &str| users.iter().filter(|u| search_matches(p, &u.name)).map(|u| u.name.clone()).collect::<Vec<_>>();
    assert_eq!(hits("jobuser*"), ["jobuser01", "jobuser02"]);
    assert!(hits("jobuser").is_empty());
    assert_eq!(hits("*user*"), ["jobuser01", "jobuser02"]);
}

// WAPI-118
#[tokio::test]
async fn wapi_118_a_deleted_user_can_no_longer_call() {
    let s = start().await;
    s.auth.add_user("op6", "Xy7#abcd", false, s.clock_at()).expect("user");
    s.post_as("op6:Xy7#abcd", "msgevent", r#"{"messagename":"EVX"}"#).await.assert_ok_envelope();
    s.auth.delete_user("op6").expect("delete");
    let r = s.post_as("op6:Xy7#abcd", "msgevent", r#"{"messagename":"EVX"}"#).await;
    r.assert_error(401, "OM_API_00002", "The user ID or password is invalid.");
}

#[test]
fn an_unreachable_store_is_00092() {
    let (dir, auth) = store();
    drop(dir);
    assert_eq!(
        api(auth.users().expect_err("gone")),
        (500, "OM_API_00092", "An error occurred while connecting to the authentication process".into())
    );
}
