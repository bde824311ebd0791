//! Authentication at run time (spec 03 §3.5): Basic, Bearer, Entra ID and SAP
//! `scs` OAuth 2.0 client credentials (token cached for the run and refreshed
//! when fewer than 60 s remain), AWS Signature Version 4 (the `aws-sigv4`
//! crate), and `others` (nothing).

use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::authinfo::{AuthInfo, AuthKind, AzureTarget};
use super::connection::Method;
use super::http::{self, OutRequest, SendError, encode_component};
use super::json::{self, Json};
use super::time::Timer;

/// A token is refreshed before a call when fewer than this many seconds remain.
pub const TOKEN_REFRESH_MARGIN_SECS: i64 = 60;

/// Why authentication failed (exit 10, except signing problems).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// The token endpoint answered with a non-2xx status (0609, `authentication`).
    #[error("token endpoint answered {0}")]
    Status(u16),
    /// The token request produced no response (0610–0612, `authentication`).
    #[error("token request failed: {0}")]
    Send(SendError),
    /// The token response has no `access_token` (0617).
    #[error("no access token in the response")]
    NoToken,
}

/// A cached access token.
#[derive(Clone, Debug)]
pub struct Token {
    value: String,
    expires: Option<DateTime<Utc>>,
}

impl Token {
    fn fresh_at(&self, now: DateTime<Utc>) -> bool {
        self.expires.is_none_or(|e| (e - now).num_seconds() >= TOKEN_REFRESH_MARGIN_SECS)
    }
}

/// What authentication needs from its surroundings.
pub struct AuthEnv<'a> {
    /// HTTP client.
    pub client: &'a reqwest::Client,
    /// Clock.
    pub timer: &'a dyn Timer,
    /// Per-call timeout.
    pub timeout: Duration,
    /// When set, token requests go to this base (scheme, host, port) instead
    /// of the entry's endpoint host.
    pub token_base: Option<&'a str>,
}

/// Authenticate `req` with `info`: set the headers it needs, fetching or
/// refreshing the token in `cache` as needed.
pub async fn apply(
    info: &AuthInfo,
    cache: &mut Option<Token>,
    env: &AuthEnv<'_>,
    req: &mut OutRequest,
) -> Result<(), AuthFailure> {
    match &info.kind {
        AuthKind::Basic { user, password } => {
            req.set_header("Authorization", basic(user, password.expose()));
        }
        AuthKind::Bearer { token } => req.set_header("Authorization", format!("Bearer {}", token.expose())),
        AuthKind::AzureAd { client_id, client_secret, endpoint, target } => {
            let token = match cache.as_ref().filter(|t| t.fresh_at(env.timer.now())) {
                Some(t) => t.value.clone(),
                None => {
                    let mut form = vec![
                        ("grant_type", "client_credentials"),
                        ("client_id", client_id.as_str()),
                        ("client_secret", client_secret.expose()),
                    ];
                    match target {
                        AzureTarget::Resource(r) => form.push(("resource", r)),
                        AzureTarget::Scope(s) => form.push(("scope", s)),
                    }
                    let t = fetch_token(env, endpoint, &form, None).await?;
                    let v = t.value.clone();
                    *cache = Some(t);
                    v
                }
            };
            req.set_header("Authorization", format!("Bearer {token}"));
        }
        AuthKind::Scs { client_id, client_secret, endpoint } => {
            let token = match cache.as_ref().filter(|t| t.fresh_at(env.timer.now())) {
                Some(t) => t.value.clone(),
                None => {
                    let form = [("grant_type", "client_credentials"), ("client_id", client_id.as_str())];
                    let t = fetch_token(env, endpoint, &form, Some(basic(client_id, client_secret.expose()))).await?;
                    let v = t.value.clone();
                    *cache = Some(t);
                    v
                }
            };
            req.set_header("Authorization", format!("Bearer {token}"));
        }
        AuthKind::AwsSigV4 { access_key, secret_key, service, region, endpoint, headers } => {
            for (k, v) in headers {
                req.set_header(k, v.trim().to_owned());
            }
            // An unusable URL is reported by the send that follows (0612).
            if let Ok(url) = http::parse_url(&req.url) {
                let key = SigV4Key { access_key, secret_key: secret_key.expose(), region, service, endpoint };
                let body = req.body.as_deref().unwrap_or("").as_bytes();
                if let Ok(signed) = sigv4(&key, req.method.as_str(), &url, headers, body, env.timer.now()) {
                    for (k, v) in signed {
                        req.set_header(&k, v);
                    }
                }
            }
        }
        AuthKind::Others => {}
    }
    Ok(())
}

/// `Basic base64(user ":" password)`.
pub fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", B64.encode(format!("{user}:{password}")))
}

/// Where a token request goes: `endpoint`, or `base` + its path and query.
pub fn token_url(endpoint: &str, base: Option<&str>) -> String {
    let Some(base) = base else { return endpoint.to_owned() };
    match reqwest::Url::parse(endpoint) {
        Ok(u) => {
            let query = u.query().map(|q| format!("?{q}")).unwrap_or_default();
            format!("{}{}{query}", base.trim_end_matches('/'), u.path())
        }
        Err(_) => endpoint.to_owned(),
    }
}

async fn fetch_token(
    env: &AuthEnv<'_>,
    endpoint: &str,
    form: &[(&str, &str)],
    authorization: Option<String>,
) -> Result<Token, AuthFailure> {
    let body: Vec<String> = form.iter().map(|(k, v)| format!("{k}={}", encode_component(v))).collect();
    let mut req = OutRequest {
        method: Method::Post,
        url: token_url(endpoint, env.token_base),
        headers: vec![("Content-Type".into(), "application/x-www-form-urlencoded".into())],
        body: Some(body.join("&")),
    };
    if let Some(a) = authorization {
        req.set_header("Authorization", a);
    }
    let resp = http::send(env.client, &req, env.timeout).await.map_err(AuthFailure::Send)?;
    if !resp.is_success() {
        return Err(AuthFailure::Status(resp.status));
    }
    let doc = json::parse(&resp.body).map_err(|_| AuthFailure::NoToken)?;
    let value = doc.get("access_token").and_then(Json::as_str).ok_or(AuthFailure::NoToken)?.to_owned();
    let secs = match doc.get("expires_in") {
        Some(Json::Number(n)) => n.as_i64(),
        Some(Json::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let expires = secs.map(|s| env.timer.now() + chrono::Duration::seconds(s));
    Ok(Token { value, expires })
}

/// What SigV4 signs with.
#[derive(Clone, Copy, Debug)]
pub struct SigV4Key<'a> {
    /// Access key ID.
    pub access_key: &'a str,
    /// Secret access key.
    pub secret_key: &'a str,
    /// Region.
    pub region: &'a str,
    /// Service name.
    pub service: &'a str,
    /// Host signed as `host` (the entry's `endpoint`).
    pub endpoint: &'a str,
}

/// Sign a call with AWS Signature Version 4 (via `aws-sigv4`): returns the
/// headers to add — `x-amz-date`, `authorization` and the unsigned
/// `x-amz-content-sha256`. Signed headers: `host` (= `endpoint`),
/// `x-amz-date` and the `extra` headers.
pub fn sigv4(
    key: &SigV4Key<'_>,
    method: &str,
    url: &reqwest::Url,
    extra: &[(String, String)],
    body: &[u8],
    at: DateTime<Utc>,
) -> Result<Vec<(String, String)>, String> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;

    let identity = aws_credential_types::Credentials::new(key.access_key, key.secret_key, None, None, "woi").into();
    let time = SystemTime::from(at);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(key.region)
        .name(key.service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let path_query = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let uri = format!("https://{}{path_query}", key.endpoint);
    let trimmed: Vec<(String, String)> =
        extra.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned())).collect();
    let headers = std::iter::once(("host", key.endpoint)).chain(trimmed.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let request = SignableRequest::new(method, uri, headers, SignableBody::Bytes(body)).map_err(|e| e.to_string())?;
    let (instructions, _) = sign(request, &params).map_err(|e| e.to_string())?.into_parts();
    let mut out: Vec<(String, String)> = instructions.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    out.push(("x-amz-content-sha256".into(), hex(&Sha256::digest(body))));
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("date").with_timezone(&Utc)
    }

    fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
        h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).expect("header")
    }

    // AUTHRT-009
    #[test]
    fn authrt_009_get_vanilla_vector() {
        let key = SigV4Key {
            access_key: "AKIDEXAMPLE",
            secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            service: "service",
            endpoint: "example.amazonaws.com",
        };
        let url = reqwest::Url::parse("http://127.0.0.1:9/").expect("url");
        let h = sigv4(&key, "GET", &url, &[], b"", at("2015-08-30T12:36:00Z")).expect("signed");
        assert_eq!(
            header(&h, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert_eq!(header(&h, "x-amz-date"), "20150830T123600Z");
    }

    // AUTHRT-008
    #[test]
    fn authrt_008_lambda_vector() {
        let key = SigV4Key {
            access_key: "AKIAEXAMPLE0001",
            secret_key: "exampleSecretKey/0001+abc",
            region: "ap-northeast-1",
            service: "lambda",
            endpoint: "lambda.ap-northeast-1.amazonaws.com",
        };
        let url = reqwest::Url::parse("http://127.0.0.1:9/2015-03-31/functions/nightly-etl/invocations").expect("url");
        let h = sigv4(&key, "POST", &url, &[], br#"{"mode":"full"}"#, at("2024-03-15T01:02:03Z")).expect("signed");
        assert_eq!(
            header(&h, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE0001/20240315/ap-northeast-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=230bff8395fe89b975c79582bd19d9f2dd0697bdda1ddce52ff05c0459cd86f0"
        );
        assert_eq!(
            header(&h, "x-amz-content-sha256"),
            "1d5d296f9033e53b70a20357e71a05c9ac061c1a2467d18dfebbc4d98bee40b6"
        );
    }

    #[test]
    fn token_base_override_keeps_path() {
        assert_eq!(
            token_url("https://login.microsoftonline.com/t1/oauth2/v2.0/token", Some("http://127.0.0.1:5/")),
            "http://127.0.0.1:5/t1/oauth2/v2.0/token"
        );
        assert_eq!(token_url("https://x/y", None), "https://x/y");
    }

    // AUTHRT-001
    #[test]
    fn authrt_001_basic_header() {
        assert_eq!(basic("alice", "s3cret"), "Basic YWxpY2U6czNjcmV0");
    }
}
