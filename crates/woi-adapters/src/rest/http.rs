//! Building and sending the adapters' HTTP calls (spec 03 §3.6) over reqwest.

use std::time::Duration;

use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::connection::Method;
use super::json::{self, Json};
use super::keypath;

/// One outgoing call, fully substituted.
#[derive(Clone, Debug, PartialEq)]
pub struct OutRequest {
    /// Method.
    pub method: Method,
    /// The final URL (query appended).
    pub url: String,
    /// Headers in order (names as written).
    pub headers: Vec<(String, String)>,
    /// The body text sent byte for byte, if any.
    pub body: Option<String>,
}

impl OutRequest {
    /// Set a header, replacing any of the same name (case-insensitive).
    pub fn set_header(&mut self, name: &str, value: String) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value));
    }

    /// Whether a header is present (case-insensitive).
    pub fn has_header(&self, name: &str) -> bool {
        self.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
    }
}

/// A response as the adapters see it.
#[derive(Clone, Debug, PartialEq)]
pub struct InResponse {
    /// Status code.
    pub status: u16,
    /// Headers: names lower-cased, repeated values joined with `, `, in the
    /// order received.
    pub headers: Vec<(String, String)>,
    /// Body text (lossy UTF-8).
    pub body: String,
}

/// How a response body can be read.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    /// `application/json` that parses.
    Json(Json),
    /// `application/xml` / `text/xml` that parses (and its tree).
    Xml(Json),
    /// JSON content type, body does not parse.
    BadJson,
    /// XML content type, body does not parse.
    BadXml,
    /// Another or no content type.
    Other,
}

impl InResponse {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A header value (name lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The body read by its content type.
    pub fn parsed(&self) -> Parsed {
        let ct = self.header("content-type").unwrap_or("");
        if keypath::is_json_type(ct) {
            json::parse(&self.body).map(Parsed::Json).unwrap_or(Parsed::BadJson)
        } else if keypath::is_xml_type(ct) {
            keypath::xml_to_json(&self.body).map(Parsed::Xml).unwrap_or(Parsed::BadXml)
        } else {
            Parsed::Other
        }
    }

    /// The tree for key extraction, if the body is JSON or XML that parses.
    pub fn tree(&self) -> Option<Json> {
        match self.parsed() {
            Parsed::Json(j) | Parsed::Xml(j) => Some(j),
            _ => None,
        }
    }
}

/// Why a call produced no response (messages 0610 / 0611 / 0612).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Connection refused/reset, DNS or TLS failure (0610).
    #[error("network issue: {0}")]
    Network(String),
    /// No complete response within the timeout (0611).
    #[error("timed out")]
    Timeout,
    /// Anything else: unusable URL or header, protocol error (0612).
    #[error("request problem: {0}")]
    Other(String),
}

/// RFC 3986 percent-encoding with the unreserved set kept (space → `%20`).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `url` with the query pairs appended in order (after `?`, or `&` when the
/// URL already has a query).
pub fn with_query(url: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return url.to_owned();
    }
    let pairs: Vec<String> =
        query.iter().map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v))).collect();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{}", pairs.join("&"))
}

/// A reqwest client for the adapters: no redirects followed, no connection
/// pooling across runs needed but harmless.
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()
}

/// Parse a URL for sending (0612 when it cannot be used).
pub fn parse_url(url: &str) -> Result<Url, SendError> {
    let parsed = Url::parse(url).map_err(|e| SendError::Other(format!("{url}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(SendError::Other(format!("{url}: not an http(s) URL with a host")));
    }
    Ok(parsed)
}

/// Send one call and read the complete response within `timeout`.
pub async fn send(client: &reqwest::Client, req: &OutRequest, timeout: Duration) -> Result<InResponse, SendError> {
    let url = parse_url(&req.url)?;
    let method = match req.method {
        Method::Get => reqwest::Method::GET,
        Method::Put => reqwest::Method::PUT,
        Method::Post => reqwest::Method::POST,
        Method::Delete => reqwest::Method::DELETE,
    };
    let mut headers = HeaderMap::new();
    for (k, v) in &req.headers {
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|e| SendError::Other(format!("header {k}: {e}")))?;
        let value = HeaderValue::from_str(v).map_err(|e| SendError::Other(format!("header {k}: {e}")))?;
        headers.append(name, value);
    }
    let mut builder = client.request(method, url).headers(headers).timeout(timeout);
    if let Some(body) = &req.body {
        builder = builder.body(body.clone());
    }
    let call = async {
        let resp = builder.send().await.map_err(classify)?;
        let status = resp.status().as_u16();
        let mut out_headers: Vec<(String, String)> = Vec::new();
        for (name, value) in resp.headers() {
            let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
            match out_headers.iter_mut().find(|(k, _)| k == name.as_str()) {
                Some((_, existing)) => {
                    existing.push_str(", ");
                    existing.push_str(&v);
                }
                None => out_headers.push((name.as_str().to_owned(), v)),
            }
        }
        let bytes = resp.bytes().await.map_err(classify)?;
        Ok(InResponse { status, headers: out_headers, body: String::from_utf8_lossy(&bytes).into_owned() })
    };
    // reqwest's timeout covers the body too; this outer bound is a safety net.
    match tokio::time::timeout(timeout + Duration::from_millis(250), call).await {
        Ok(r) => r,
        Err(_) => Err(SendError::Timeout),
    }
}

fn classify(e: reqwest::Error) -> SendError {
    if e.is_timeout() {
        return SendError::Timeout;
    }
    if e.is_connect() {
        return SendError::Network(chain(&e));
    }
    if e.is_builder() || e.is_redirect() || e.is_decode() || e.is_status() {
        return SendError::Other(chain(&e));
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return SendError::Network(chain(&e));
        }
        source = s.source();
    }
    SendError::Other(chain(&e))
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    // FLOW-021
    #[test]
    fn flow_021_query_appended_in_order_and_encoded() {
        let q = vec![("b".to_owned(), "2".to_owned()), ("a".to_owned(), "x y".to_owned())];
        assert_eq!(with_query("https://h/p?z=1", &q), "https://h/p?z=1&b=2&a=x%20y");
        assert_eq!(with_query("https://h/p", &q), "https://h/p?b=2&a=x%20y");
        assert_eq!(encode_component("@NOPE@ ~._-"), "%40NOPE%40%20~._-");
    }

    // FLOW-006
    #[test]
    fn flow_006_unparsable_url_is_other() {
        assert!(matches!(parse_url("https://h:99999/x"), Err(SendError::Other(_))));
        assert!(parse_url("https://h/runs/@ENV@").is_ok());
    }
}
