//! Connection info: parsing and run-time validation (spec 03 §2.3–2.6, §3.2).
//!
//! Checks run on the raw values as written, before any substitution, in the
//! spec's order (`request`, then `monitoring`, then `termination`, each key in
//! the documented order); the first failure is reported. Unknown keys are
//! ignored.

use woi_core::text::legacy_len;

use super::json::{self, Json, JsonError};

/// Longest URL, in bytes.
pub const MAX_URL_BYTES: usize = 2083;
/// Longest query/header name or value, array element or key path, in bytes.
pub const MAX_ITEM_BYTES: usize = 1024;
/// Longest takeover variable name, in bytes.
pub const MAX_TAKEOVER_NAME_BYTES: usize = 64;
/// Default `timeout` (seconds).
pub const DEFAULT_TIMEOUT: u64 = 10;
/// Default `pollingInterval` (seconds).
pub const DEFAULT_POLLING_INTERVAL: u64 = 60;
/// Default `firstMonitorInterval` (seconds).
pub const DEFAULT_FIRST_MONITOR_INTERVAL: u64 = 10;
/// Output keys a `jobnetValKeys` name must not use.
pub const RESERVED_OUTPUT_KEYS: [&str; 6] = [
    "HttpStatusCode",
    "HttpResHeader",
    "HttpResBody",
    "ChkResultHttpStatusCode",
    "ChkResultHttpResHeader",
    "ChkResultHttpResBody",
];

/// Which adapter's rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// REST execution job.
    Rest,
    /// Informatica job (`termination` ignored).
    Informatica,
    /// Snowflake job, task mode.
    SnowflakeTask,
    /// Snowflake job, SQL-statement mode.
    SnowflakeSql,
}

impl Variant {
    fn headers_required(self) -> bool {
        matches!(self, Variant::SnowflakeTask | Variant::SnowflakeSql)
    }
}

/// HTTP methods the adapters send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// PUT.
    Put,
    /// POST.
    Post,
    /// DELETE.
    Delete,
}

impl Method {
    /// The method name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// The parts common to the three request objects.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    /// `url`, as written.
    pub url: String,
    /// `method`.
    pub method: Method,
    /// `query`, in order.
    pub query: Vec<(String, String)>,
    /// `header`, in order.
    pub header: Vec<(String, String)>,
}

/// The `request` object.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestDef {
    /// url, method, query, header.
    pub endpoint: Endpoint,
    /// `authName`.
    pub auth_name: Option<String>,
    /// `timeout` in seconds.
    pub timeout: u64,
    /// `takeoverKeys`: variable → key path.
    pub takeover_keys: Vec<(String, String)>,
    /// `jobnetValKeys`: jobnet variable → key path.
    pub jobnet_val_keys: Vec<(String, String)>,
}

/// The `monitoring` object.
#[derive(Clone, Debug, PartialEq)]
pub struct MonitoringDef {
    /// url, method, query, header.
    pub endpoint: Endpoint,
    /// `pollingInterval` in seconds.
    pub polling_interval: u64,
    /// `pollingCount` (0 = unlimited).
    pub polling_count: u64,
    /// `firstMonitorInterval` in seconds.
    pub first_monitor_interval: u64,
    /// `pollingEndKey` (empty in Snowflake SQL mode).
    pub polling_end_key: String,
    /// `pollingEndVal`.
    pub polling_end_val: Vec<String>,
    /// `checkResultKey` (empty in Snowflake SQL mode).
    pub check_result_key: String,
    /// `checkResultVal`.
    pub check_result_val: Vec<String>,
    /// `jobnetValKeys`.
    pub jobnet_val_keys: Vec<(String, String)>,
}

/// Validated connection info of a REST, Informatica or Snowflake job.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionInfo {
    /// `request`.
    pub request: RequestDef,
    /// `monitoring`, if any.
    pub monitoring: Option<MonitoringDef>,
    /// `termination`, if any (never for Informatica).
    pub termination: Option<Endpoint>,
}

/// Why connection info was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// Not JSON (message 0632).
    #[error("JSON syntax error: {0}")]
    Syntax(JsonError),
    /// Wrong overall shape (message 0640).
    #[error("the connection information format is invalid")]
    Format,
    /// A parameter is wrong (message 0633).
    #[error("invalid parameter {path}: {details}")]
    Param {
        /// Dotted location, e.g. `request.url`.
        path: String,
        /// What is wrong.
        details: String,
    },
}

fn param(path: &str, details: impl Into<String>) -> ConnectionError {
    ConnectionError::Param { path: path.to_owned(), details: details.into() }
}

type Members = [(String, Json)];

fn get<'a>(m: &'a Members, key: &str) -> Option<&'a Json> {
    m.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Parse and validate the connection info of a REST/Informatica/Snowflake job.
pub fn parse(text: &str, variant: Variant) -> Result<ConnectionInfo, ConnectionError> {
    let doc = json::parse(text).map_err(ConnectionError::Syntax)?;
    let top = doc.as_object().ok_or(ConnectionError::Format)?;
    let request = get(top, "request").and_then(Json::as_object).ok_or(ConnectionError::Format)?;
    let monitoring = match get(top, "monitoring") {
        None => None,
        Some(m) => Some(m.as_object().ok_or(ConnectionError::Format)?),
    };
    let termination = match (variant, get(top, "termination")) {
        (Variant::Informatica, _) | (_, None) => None,
        (_, Some(t)) => Some(t.as_object().ok_or(ConnectionError::Format)?),
    };

    let request = parse_request(request, variant)?;
    let monitoring = monitoring.map(|m| parse_monitoring(m, variant, &request)).transpose()?;
    let termination = termination.map(|t| endpoint(t, "termination", variant)).transpose()?;
    Ok(ConnectionInfo { request, monitoring, termination })
}

fn parse_request(m: &Members, variant: Variant) -> Result<RequestDef, ConnectionError> {
    let sql = variant == Variant::SnowflakeSql;
    let endpoint = endpoint_parts(m, "request", variant, sql, |m| match get(m, "authName") {
        None | Some(Json::String(_)) => Ok(()),
        Some(_) => Err(param("request.authName", "the value must be a string")),
    })?;
    let auth_name = get(m, "authName").and_then(Json::as_str).map(str::to_owned);
    let timeout = integer(m, "timeout", "request.timeout", 1, 1800)?.unwrap_or(DEFAULT_TIMEOUT);
    let takeover_keys = string_map(m, "takeoverKeys", "request.takeoverKeys")?;
    if variant == Variant::SnowflakeSql && get(m, "takeoverKeys").is_none() {
        return Err(param("request.takeoverKeys", "a required parameter is not specified"));
    }
    for (name, path) in &takeover_keys {
        if name.is_empty() || name.len() > MAX_TAKEOVER_NAME_BYTES || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(param(
                "request.takeoverKeys",
                format!("the variable name {name} must be 1 to 64 ASCII letters and digits"),
            ));
        }
        check_key_path("request.takeoverKeys", path)?;
    }
    if variant == Variant::SnowflakeSql && !takeover_keys.iter().any(|(k, _)| k == "STATEMENT") {
        return Err(param("request.takeoverKeys", "the variable STATEMENT must be defined"));
    }
    let jobnet_val_keys = jobnet_vals(m, "request.jobnetValKeys", variant)?;
    Ok(RequestDef { endpoint, auth_name, timeout, takeover_keys, jobnet_val_keys })
}

fn parse_monitoring(m: &Members, variant: Variant, request: &RequestDef) -> Result<MonitoringDef, ConnectionError> {
    let endpoint = endpoint(m, "monitoring", variant)?;
    let polling_interval =
        integer(m, "pollingInterval", "monitoring.pollingInterval", 1, 600)?.unwrap_or(DEFAULT_POLLING_INTERVAL);
    let polling_count = integer(m, "pollingCount", "monitoring.pollingCount", 0, u64::MAX)?.unwrap_or(0);
    let first_monitor_interval = integer(m, "firstMonitorInterval", "monitoring.firstMonitorInterval", 1, 600)?
        .unwrap_or(DEFAULT_FIRST_MONITOR_INTERVAL);
    let sql = variant == Variant::SnowflakeSql;
    let key = |k: &str| -> Result<String, ConnectionError> {
        let path = format!("monitoring.{k}");
        match get(m, k) {
            None if sql => Ok(String::new()),
            None => Err(param(&path, "a required parameter is not specified")),
            Some(_) if sql => Ok(String::new()),
            Some(Json::String(s)) => {
                check_key_path(&path, s)?;
                Ok(s.clone())
            }
            Some(_) => Err(param(&path, "the value must be a string")),
        }
    };
    let vals = |k: &str| -> Result<Vec<String>, ConnectionError> {
        let path = format!("monitoring.{k}");
        match get(m, k) {
            _ if sql => Ok(Vec::new()),
            None => Err(param(&path, "a required parameter is not specified")),
            Some(Json::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Json::String(s) if legacy_len(s) <= MAX_ITEM_BYTES => Ok(s.clone()),
                    Json::String(_) => Err(param(&path, "an element is longer than 1024 bytes")),
                    _ => Err(param(&path, "the elements must be strings")),
                })
                .collect(),
            Some(_) => Err(param(&path, "the value must be an array of strings")),
        }
    };
    let polling_end_key = key("pollingEndKey")?;
    let polling_end_val = vals("pollingEndVal")?;
    let check_result_key = key("checkResultKey")?;
    let check_result_val = vals("checkResultVal")?;
    let jobnet_val_keys = jobnet_vals(m, "monitoring.jobnetValKeys", variant)?;
    if let Some((dup, _)) = jobnet_val_keys.iter().find(|(k, _)| request.jobnet_val_keys.iter().any(|(r, _)| r == k)) {
        return Err(param("monitoring.jobnetValKeys", format!("{dup} is also in request.jobnetValKeys")));
    }
    Ok(MonitoringDef {
        endpoint,
        polling_interval,
        polling_count,
        first_monitor_interval,
        polling_end_key,
        polling_end_val,
        check_result_key,
        check_result_val,
        jobnet_val_keys,
    })
}

fn endpoint(m: &Members, object: &str, variant: Variant) -> Result<Endpoint, ConnectionError> {
    endpoint_parts(m, object, variant, false, |_| Ok(()))
}

fn endpoint_parts(
    m: &Members,
    object: &str,
    variant: Variant,
    query_required: bool,
    between: impl Fn(&Members) -> Result<(), ConnectionError>,
) -> Result<Endpoint, ConnectionError> {
    let url_path = format!("{object}.url");
    let url = match get(m, "url") {
        None => return Err(param(&url_path, "a required parameter is not specified")),
        Some(Json::String(s)) => s.clone(),
        Some(_) => return Err(param(&url_path, "the value must be a string")),
    };
    check_url(&url_path, &url)?;
    let method_path = format!("{object}.method");
    let method = match get(m, "method") {
        None => return Err(param(&method_path, "a required parameter is not specified")),
        Some(Json::String(s)) => match s.as_str() {
            "GET" => Method::Get,
            "PUT" => Method::Put,
            "POST" => Method::Post,
            "DELETE" => Method::Delete,
            _ => return Err(param(&method_path, "the value must be GET, PUT, POST or DELETE")),
        },
        Some(_) => return Err(param(&method_path, "the value must be a string")),
    };
    between(m)?;
    if query_required && get(m, "query").is_none() {
        return Err(param(&format!("{object}.query"), "a required parameter is not specified"));
    }
    let query = string_map(m, "query", &format!("{object}.query"))?;
    check_items(&format!("{object}.query"), &query)?;
    let header_path = format!("{object}.header");
    if variant.headers_required() && get(m, "header").is_none() {
        return Err(param(&header_path, "a required parameter is not specified"));
    }
    let header = string_map(m, "header", &header_path)?;
    check_items(&header_path, &header)?;
    Ok(Endpoint { url, method, query, header })
}

/// `url` must start with `http://` or `https://` followed by at least one
/// character and be at most 2083 bytes.
pub fn check_url(path: &str, url: &str) -> Result<(), ConnectionError> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    if rest.is_none_or(str::is_empty) {
        return Err(param(path, "the value must start with https:// or http:// followed by a host"));
    }
    if legacy_len(url) > MAX_URL_BYTES {
        return Err(param(path, "the value is longer than 2083 bytes"));
    }
    Ok(())
}

fn check_items(path: &str, items: &[(String, String)]) -> Result<(), ConnectionError> {
    for (k, v) in items {
        if legacy_len(k) > MAX_ITEM_BYTES || legacy_len(v) > MAX_ITEM_BYTES {
            return Err(param(path, format!("{k}: names and values must be at most 1024 bytes")));
        }
    }
    Ok(())
}

fn check_key_path(path: &str, key_path: &str) -> Result<(), ConnectionError> {
    if legacy_len(key_path) > MAX_ITEM_BYTES {
        return Err(param(path, "a key path is longer than 1024 bytes"));
    }
    Ok(())
}

fn string_map(m: &Members, key: &str, path: &str) -> Result<Vec<(String, String)>, ConnectionError> {
    match get(m, key) {
        None => Ok(Vec::new()),
        Some(Json::Object(items)) => items
            .iter()
            .map(|(k, v)| match v {
                Json::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(param(path, format!("the value of {k} must be a string"))),
            })
            .collect(),
        Some(_) => Err(param(path, "the value must be an object")),
    }
}

fn jobnet_vals(m: &Members, path: &str, variant: Variant) -> Result<Vec<(String, String)>, ConnectionError> {
    let key = path.rsplit('.').next().unwrap_or(path);
    let vals = string_map(m, key, path)?;
    for (name, key_path) in &vals {
        let sql_reserved = variant == Variant::SnowflakeSql
            && name
                .strip_prefix("ChkResultSqlStatement")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if RESERVED_OUTPUT_KEYS.contains(&name.as_str()) || sql_reserved {
            return Err(param(path, format!("{name} is a reserved output key")));
        }
        if name.is_empty() {
            return Err(param(path, "a name must not be empty"));
        }
        check_key_path(path, key_path)?;
    }
    Ok(vals)
}

/// A JSON integer in `min..=max`; `None` when absent.
fn integer(m: &Members, key: &str, path: &str, min: u64, max: u64) -> Result<Option<u64>, ConnectionError> {
    match get(m, key) {
        None => Ok(None),
        Some(Json::Number(n)) => match n.as_u64() {
            Some(v) if (min..=max).contains(&v) => Ok(Some(v)),
            Some(_) => Err(param(path, range_text(min, max))),
            None if n.as_i64().is_some() => Err(param(path, range_text(min, max))),
            None => Err(param(path, "the value must be an integer")),
        },
        Some(_) => Err(param(path, "the value must be an integer")),
    }
}

fn range_text(min: u64, max: u64) -> String {
    if max == u64::MAX {
        format!("the value must be {min} or more")
    } else {
        format!("the value must be {min} to {max}")
    }
}

/// Connection info of an SAP cloud service job (spec 03 §2.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SapCloudInfo {
    /// `url` of the Job Scheduling service instance.
    pub url: String,
    /// `jobId`.
    pub job_id: String,
    /// `authName`.
    pub auth_name: Option<String>,
    /// `pollingInterval` (seconds).
    pub polling_interval: u64,
    /// `pollingCount` (0 = unlimited).
    pub polling_count: u64,
    /// `firstMonitorInterval` (seconds).
    pub first_monitor_interval: u64,
    /// `timeout` (seconds).
    pub timeout: u64,
}

/// Parse and validate SAP cloud connection info: a flat object; the four
/// numbers accept JSON integers and strings of decimal digits.
pub fn parse_sap_cloud(text: &str) -> Result<SapCloudInfo, ConnectionError> {
    let doc = json::parse(text).map_err(ConnectionError::Syntax)?;
    let m = doc.as_object().ok_or(ConnectionError::Format)?;
    let string = |k: &str| -> Result<Option<String>, ConnectionError> {
        match get(m, k) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(param(k, "the value must be a string")),
        }
    };
    let url = string("url")?.ok_or_else(|| param("url", "a required parameter is not specified"))?;
    check_url("url", &url)?;
    let job_id = string("jobId")?.ok_or_else(|| param("jobId", "a required parameter is not specified"))?;
    if job_id.is_empty() {
        return Err(param("jobId", "the value must not be empty"));
    }
    let auth_name = string("authName")?;
    let number = |k: &str, min: u64, max: u64| -> Result<Option<u64>, ConnectionError> {
        let v = match get(m, k) {
            None => return Ok(None),
            Some(Json::Number(n)) => n.as_u64(),
            Some(Json::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
            Some(_) => return Err(param(k, "the value must be an integer")),
        };
        match v {
            Some(v) if (min..=max).contains(&v) => Ok(Some(v)),
            _ => Err(param(k, range_text(min, max))),
        }
    };
    let polling_interval = number("pollingInterval", 1, 600)?.unwrap_or(DEFAULT_POLLING_INTERVAL);
    let polling_count = number("pollingCount", 0, u64::MAX)?.unwrap_or(0);
    let first_monitor_interval = number("firstMonitorInterval", 1, 600)?.unwrap_or(DEFAULT_FIRST_MONITOR_INTERVAL);
    let timeout = number("timeout", 1, 1800)?.unwrap_or(DEFAULT_TIMEOUT);
    Ok(SapCloudInfo { url, job_id, auth_name, polling_interval, polling_count, first_monitor_interval, timeout })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(text: &str, variant: Variant) -> String {
        match parse(text, variant) {
            Err(ConnectionError::Param { path, .. }) => path,
            other => panic!("expected a parameter error, got {other:?}"),
        }
    }

    fn rest(text: &str) -> String {
        path_of(text, Variant::Rest)
    }

    const MON: &str = r#""monitoring":{"url":"https://h/m","method":"GET","pollingEndKey":"s","pollingEndVal":["A"],"checkResultKey":"s","checkResultVal":["A"]"#;

    // CONN-005
    #[test]
    fn conn_005_format_errors() {
        for text in ["[]", r#"{"monitoring":{}}"#, r#"{"request":"x"}"#, r#"{"request":{},"monitoring":1}"#] {
            assert_eq!(parse(text, Variant::Rest), Err(ConnectionError::Format), "{text}");
        }
    }

    // CONN-006
    #[test]
    fn conn_006_default_template() {
        assert_eq!(rest(r###"{"request":{"url":"##url##","method":"##method##"}}"###), "request.url");
    }

    // CONN-007
    #[test]
    fn conn_007_method() {
        for m in ["PATCH", "get"] {
            assert_eq!(rest(&format!(r#"{{"request":{{"url":"https://h/","method":"{m}"}}}}"#)), "request.method");
        }
    }

    // CONN-008
    #[test]
    fn conn_008_timeout_range() {
        for t in ["0", "1801", r#""30""#, "2.5", "-1"] {
            assert_eq!(
                rest(&format!(r#"{{"request":{{"url":"https://h/","method":"GET","timeout":{t}}}}}"#)),
                "request.timeout",
                "{t}"
            );
        }
        for t in [1, 1800] {
            let c =
                parse(&format!(r#"{{"request":{{"url":"https://h/","method":"GET","timeout":{t}}}}}"#), Variant::Rest)
                    .expect("valid");
            assert_eq!(c.request.timeout, t);
        }
        let c = parse(r#"{"request":{"url":"https://h/","method":"GET"}}"#, Variant::Rest).expect("valid");
        assert_eq!(c.request.timeout, 10);
    }

    // CONN-009
    #[test]
    fn conn_009_monitoring_numbers() {
        let req = r#""request":{"url":"https://h/","method":"GET"}"#;
        assert_eq!(rest(&format!(r#"{{{req},{MON},"pollingInterval":601}}}}"#)), "monitoring.pollingInterval");
        assert_eq!(rest(&format!(r#"{{{req},{MON},"firstMonitorInterval":0}}}}"#)), "monitoring.firstMonitorInterval");
        assert_eq!(rest(&format!(r#"{{{req},{MON},"pollingCount":-1}}}}"#)), "monitoring.pollingCount");
        let c = parse(&format!(r#"{{{req},{MON}}}}}"#), Variant::Rest).expect("valid");
        let m = c.monitoring.expect("monitoring");
        assert_eq!((m.polling_interval, m.polling_count, m.first_monitor_interval), (60, 0, 10));
    }

    // CONN-010
    #[test]
    fn conn_010_monitoring_keys() {
        let req = r#""request":{"url":"https://h/","method":"GET"}"#;
        let m = r#""monitoring":{"url":"https://h/m","method":"GET""#;
        assert_eq!(
            rest(&format!(r#"{{{req},{m},"checkResultKey":"s","pollingEndVal":["A"],"checkResultVal":["A"]}}}}"#)),
            "monitoring.pollingEndKey"
        );
        assert_eq!(
            rest(&format!(r#"{{{req},{m},"pollingEndKey":"s","pollingEndVal":["A"],"checkResultVal":["A"]}}}}"#)),
            "monitoring.checkResultKey"
        );
        assert_eq!(
            rest(&format!(
                r#"{{{req},{m},"pollingEndKey":"s","pollingEndVal":"SUCCEEDED","checkResultKey":"s","checkResultVal":["A"]}}}}"#
            )),
            "monitoring.pollingEndVal"
        );
    }

    // CONN-011
    #[test]
    fn conn_011_termination_method() {
        let text = r#"{"request":{"url":"https://h/","method":"GET"},"termination":{"url":"https://h/t"}}"#;
        assert_eq!(rest(text), "termination.method");
        assert!(parse(text, Variant::Informatica).is_ok(), "Informatica ignores termination");
    }

    // CONN-012
    #[test]
    fn conn_012_reserved_jobnet_val_key() {
        assert_eq!(
            rest(r#"{"request":{"url":"https://h/","method":"GET","jobnetValKeys":{"HttpStatusCode":"id"}}}"#),
            "request.jobnetValKeys"
        );
        let req = r#""request":{"url":"https://h/","method":"GET","jobnetValKeys":{"A":"x"}}"#;
        assert_eq!(rest(&format!(r#"{{{req},{MON},"jobnetValKeys":{{"A":"y"}}}}}}"#)), "monitoring.jobnetValKeys");
    }

    // CONN-013
    #[test]
    fn conn_013_takeover_names() {
        assert_eq!(
            rest(r#"{"request":{"url":"https://h/","method":"GET","takeoverKeys":{"JOB_ID":"jobId"}}}"#),
            "request.takeoverKeys"
        );
        parse(r#"{"request":{"url":"https://h/","method":"GET","takeoverKeys":{"JOBID2":"jobId"}}}"#, Variant::Rest)
            .expect("alphanumeric accepted");
        let long = "A".repeat(65);
        assert_eq!(
            rest(&format!(r#"{{"request":{{"url":"https://h/","method":"GET","takeoverKeys":{{"{long}":"x"}}}}}}"#)),
            "request.takeoverKeys"
        );
    }

    // CONN-014
    #[test]
    fn conn_014_url_length() {
        let url = |n: usize| format!("https://h/{}", "a".repeat(n - 10));
        assert_eq!(url(2084).len(), 2084);
        assert_eq!(rest(&format!(r#"{{"request":{{"url":"{}","method":"GET"}}}}"#, url(2084))), "request.url");
        parse(&format!(r#"{{"request":{{"url":"{}","method":"GET"}}}}"#, url(2083)), Variant::Rest).expect("2083 ok");
    }

    // CONN-015
    #[test]
    fn conn_015_url_scheme() {
        for u in ["ftp://h/x", "https://", "HTTPS://h/"] {
            assert_eq!(rest(&format!(r#"{{"request":{{"url":"{u}","method":"GET"}}}}"#)), "request.url", "{u}");
        }
    }

    // CONN-016
    #[test]
    fn conn_016_first_failure_only() {
        let text =
            format!(r#"{{"request":{{"url":"https://h/","method":"GET","timeout":0}},{MON},"pollingInterval":0}}}}"#);
        assert_eq!(rest(&text), "request.timeout");
    }

    // CONN-017
    #[test]
    fn conn_017_unknown_keys_ignored() {
        let c = parse(
            r#"{"comment":"x","request":{"url":"https://h/","method":"GET","resHeader":"/response/x.json"}}"#,
            Variant::Rest,
        )
        .expect("valid");
        assert_eq!(c.request.endpoint.url, "https://h/");
    }

    // CONN-019
    #[test]
    fn conn_019_check_result_val_required() {
        let text = r#"{"request":{"url":"https://h/","method":"GET"},"monitoring":{"url":"https://h/m","method":"GET","pollingEndKey":"s","pollingEndVal":["A"],"checkResultKey":"s"}}"#;
        assert_eq!(rest(text), "monitoring.checkResultVal");
    }

    // CONN-020 LA-005
    #[test]
    fn conn_020_syntax_error_only_at_run_time() {
        assert!(matches!(parse("{not json", Variant::Rest), Err(ConnectionError::Syntax(_))));
    }

    #[test]
    fn snowflake_rules() {
        let h = r#""header":{"Accept":"application/json"}"#;
        let text = r#"{"request":{"url":"https://a/api/v2/statements","method":"POST"}}"#;
        assert_eq!(path_of(text, Variant::SnowflakeTask), "request.header");
        let sql = format!(r#"{{"request":{{"url":"https://a/api/v2/statements","method":"POST",{h}}}}}"#);
        assert_eq!(path_of(&sql, Variant::SnowflakeSql), "request.query");
        let sql = format!(
            r#"{{"request":{{"url":"https://a/s","method":"POST",{h},"query":{{"async":"true"}},"takeoverKeys":{{"X":"y"}}}}}}"#
        );
        assert_eq!(path_of(&sql, Variant::SnowflakeSql), "request.takeoverKeys");
        let sql = format!(
            r#"{{"request":{{"url":"https://a/s","method":"POST",{h},"query":{{"async":"true"}},"takeoverKeys":{{"STATEMENT":"statementHandle"}}}},"monitoring":{{"url":"https://a/s/<STATEMENT>","method":"GET",{h}}}}}"#
        );
        let c = parse(&sql, Variant::SnowflakeSql).expect("sql mode needs no end keys");
        assert!(c.monitoring.expect("monitoring").polling_end_key.is_empty());
    }

    // SAPC-003
    #[test]
    fn sapc_003_missing_job_id() {
        assert_eq!(
            parse_sap_cloud(r#"{"url":"https://js.example"}"#),
            Err(param("jobId", "a required parameter is not specified"))
        );
    }

    // SAPC-004
    #[test]
    fn sapc_004_digit_strings() {
        let c = parse_sap_cloud(r#"{"url":"https://js.example","jobId":"77","pollingInterval":"30","timeout":5}"#)
            .expect("valid");
        assert_eq!((c.polling_interval, c.timeout, c.polling_count, c.first_monitor_interval), (30, 5, 0, 10));
        assert!(matches!(
            parse_sap_cloud(r#"{"url":"https://js.example","jobId":"77","pollingInterval":"3x"}"#),
            Err(ConnectionError::Param { path, .. }) if path == "pollingInterval"
        ));
        assert_eq!(parse_sap_cloud("[1]"), Err(ConnectionError::Format));
    }
}
