//! The common request pipeline of `{base}` routes (spec 04 §3.1): the two
//! authentication headers (§3.2), the body checks, duplicate and unknown
//! keys, null normalisation, required keys and the name rules of the API
//! (`WOI_NAME_CHARS`, §2.3, counted with the legacy byte rule of D7).

use std::collections::BTreeMap;
use std::fmt;

use axum::body::Body;
use axum::http::{HeaderMap, header};
use base64::Engine as _;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::error::{ApiError, AuthCode};

/// Largest accepted request body (64 KiB).
pub const MAX_BODY: usize = 64 * 1024;

/// The header naming the job-management user.
pub const X_FJWOI_AUTHORIZATION: &str = "x-fjwoi-authorization";

/// `<scheme> <credential>`: the scheme matched case-insensitively, then
/// exactly one space and a non-empty credential.
fn credential<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (s, rest) = value.split_once(' ')?;
    (s.eq_ignore_ascii_case(scheme) && !rest.is_empty() && !rest.starts_with(' ')).then_some(rest)
}

/// Step A: the bearer token of `Authorization`.
pub fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else { return Err(ApiError::AuthRequired(AuthCode::NoAuthorization)) };
    if values.next().is_some() {
        return Err(ApiError::AuthRequired(AuthCode::NotBearer));
    }
    value.to_str().ok().and_then(|v| credential(v, "Bearer")).ok_or(ApiError::AuthRequired(AuthCode::NotBearer))
}

/// Basic credentials, split at the first `:`.
pub struct BasicCredentials {
    /// The user ID.
    pub user: String,
    /// The password (may contain `:`; never shown).
    pub password: String,
}

impl fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicCredentials").field("user", &self.user).field("password", &"****").finish()
    }
}

/// Step B: `X-FJWOI-AUTHORIZATION: Basic base64(user:password)`.
pub fn fjwoi_basic(headers: &HeaderMap) -> Result<BasicCredentials, ApiError> {
    let mut values = headers.get_all(X_FJWOI_AUTHORIZATION).iter();
    let Some(value) = values.next() else { return Err(ApiError::AuthRequired(AuthCode::NoUserHeader)) };
    if values.next().is_some() {
        return Err(ApiError::AuthRequired(AuthCode::NotBasic));
    }
    let encoded =
        value.to_str().ok().and_then(|v| credential(v, "Basic")).ok_or(ApiError::AuthRequired(AuthCode::NotBasic))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(ApiError::AuthRequired(AuthCode::BadBase64))?;
    let (user, password) = decoded.split_once(':').ok_or(ApiError::AuthRequired(AuthCode::NoColon))?;
    if user.is_empty() {
        return Err(ApiError::AuthRequired(AuthCode::EmptyUser));
    }
    Ok(BasicCredentials { user: user.to_string(), password: password.to_string() })
}

/// Step 5: size and media type, then the bytes of the body.
pub async fn read_body(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, ApiError> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(ApiError::TooLarge(MAX_BODY));
    }
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let text = String::from_utf8_lossy(ct.as_bytes()).into_owned();
        let media = text.split(';').next().unwrap_or("").trim();
        if !media.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::UnsupportedMediaType(media.to_string()));
        }
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|e| {
        // Over the limit while reading (no or a wrong Content-Length) is 413;
        // a body that breaks off or has broken chunked framing is malformed.
        if e.into_inner().downcast_ref::<http_body_util::LengthLimitError>().is_some() {
            ApiError::TooLarge(MAX_BODY)
        } else {
            ApiError::Internal { detail: "the request body could not be read".into(), bad_request: true }
        }
    })?;
    Ok(bytes.to_vec())
}

/// The top-level members of a JSON object in document order, duplicates kept.
struct Entries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entries, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// What a resource accepts: its keys in validation order, their aliases.
pub struct Shape {
    /// Canonical keys, in per-field validation order.
    pub keys: &'static [&'static str],
    /// `(alias, canonical)` spellings.
    pub aliases: &'static [(&'static str, &'static str)],
    /// Keys that must be present and non-empty.
    pub required: &'static [&'static str],
}

impl Shape {
    fn canonical<'a>(&self, key: &'a str) -> &'a str {
        self.aliases.iter().find(|(a, _)| *a == key).map_or(key, |(_, c)| c)
    }
}

/// Steps 5–9: parse the body as one JSON object; refuse duplicates (aliases
/// count as the same key), unknown keys, and missing required keys; drop
/// nulls. The result maps canonical keys to their (non-null) values.
pub fn parse_object(bytes: &[u8], shape: &Shape) -> Result<BTreeMap<&'static str, Value>, ApiError> {
    let Entries(entries) = serde_json::from_slice(bytes).map_err(|_| ApiError::not_a_json_object())?;
    // Duplicates: the duplicated key that appears first in the document.
    let mut first_seen: Vec<(&str, usize, bool)> = Vec::new();
    for (i, (k, _)) in entries.iter().enumerate() {
        let c = shape.canonical(k);
        match first_seen.iter_mut().find(|(name, _, _)| *name == c) {
            Some(seen) => seen.2 = true,
            None => first_seen.push((c, i, false)),
        }
    }
    if let Some((name, _, _)) = first_seen.iter().filter(|s| s.2).min_by_key(|s| s.1) {
        return Err(ApiError::DuplicateParam((*name).to_string()));
    }
    if let Some((k, _)) = entries.iter().find(|(k, _)| !shape.keys.contains(&shape.canonical(k))) {
        return Err(ApiError::UnnecessaryParam(k.clone()));
    }
    let mut out = BTreeMap::new();
    for (k, v) in entries {
        if v.is_null() {
            continue;
        }
        let c = shape.canonical(&k);
        if let Some(key) = shape.keys.iter().find(|key| **key == c) {
            out.insert(*key, v);
        }
    }
    for key in shape.required {
        if out.get(key).is_none_or(|v| v.as_str() == Some("")) {
            return Err(ApiError::MissingParam((*key).to_string()));
        }
    }
    Ok(out)
}

/// The value as shown in `OM_API_00010`: the raw string, or compact JSON.
pub fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A string field, or `OM_API_00010 key=<json>`; an empty string is invalid too.
pub fn string_field<'a>(fields: &'a BTreeMap<&'static str, Value>, key: &str) -> Result<Option<&'a str>, ApiError> {
    match fields.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(v) => Err(invalid(key, &shown(v))),
    }
}

/// `OM_API_00010 key=value`.
pub fn invalid(key: &str, value: &str) -> ApiError {
    ApiError::InvalidParam { name: key.to_string(), value: value.to_string() }
}

pub use woi_core::text::is_woi_name_char;

/// A name of `WOI_NAME_CHARS`, 1 to `max` legacy bytes (D7).
pub fn is_woi_name(value: &str, max: usize) -> bool {
    let len = woi_core::text::legacy_len(value);
    (1..=max).contains(&len) && value.chars().all(is_woi_name_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn woi_name_chars_follow_the_fixed_code_point_sets() {
        for ok in ["EV@+_-1", "日次締め処理", "ＡＢ１", "ー", "々", "ゝ", "ヿ"] {
            assert!(is_woi_name(ok, 50), "{ok}");
        }
        for bad in ["EV 1", "EV.1", "ｲﾍﾞﾝﾄ", "・", "゠", "a/b", "x\u{3000}", "😀", "a,b", "゛"] {
            assert!(!is_woi_name(bad, 50), "{bad}");
        }
        assert!(is_woi_name("日次締め処理", 12));
        assert!(!is_woi_name("日次締め処理済", 12));
    }
}
