//! Adapter messages (spec 03 §3.17) and the standard-output format (§3.10).
//!
//! Result lines (`HttpStatusCode=…`, `NAME=value`) go to standard output,
//! `MpJobsch: ERROR: 06xx` messages to standard error; the job's output is
//! standard output followed by standard error, as for command jobs.

use std::fmt;

use super::http::{InResponse, Parsed, SendError};
use super::json::{Json, JsonError};

/// The `RequestType` of messages 0609–0612.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestType {
    /// The execution call.
    Request,
    /// A monitoring call.
    Monitoring,
    /// The termination call.
    Termination,
    /// A token request.
    Authentication,
}

impl fmt::Display for RequestType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RequestType::Request => "request",
            RequestType::Monitoring => "monitoring",
            RequestType::Termination => "termination",
            RequestType::Authentication => "authentication",
        })
    }
}

/// The `Property` of message 0632.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Property {
    /// The connection info.
    ConnectionInfo,
    /// The execution body.
    BodyExecution,
    /// The monitoring body.
    BodyMonitoring,
    /// The termination body.
    BodyTermination,
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Property::ConnectionInfo => "Connection information",
            Property::BodyExecution => "HTTP Request Message Body (Execution)",
            Property::BodyMonitoring => "HTTP Request Message Body (Monitoring)",
            Property::BodyTermination => "HTTP Request Message Body (Forced)",
        })
    }
}

/// Message texts.
pub mod msg {
    use super::*;

    /// 0609.
    pub fn http_failed(t: RequestType, status: u16) -> String {
        format!("MpJobsch: ERROR: 0609: HTTP request failed. RequestType={t} StatusCode={status}")
    }
    /// 0610.
    pub fn network(t: RequestType) -> String {
        format!("MpJobsch: ERROR: 0610: A network issue occurred. RequestType={t}")
    }
    /// 0611.
    pub fn timed_out(t: RequestType) -> String {
        format!("MpJobsch: ERROR: 0611: HTTP request timed out. RequestType={t}")
    }
    /// 0612.
    pub fn request_issue(t: RequestType) -> String {
        format!("MpJobsch: ERROR: 0612: An issue occurred with the HTTP request. RequestType={t}")
    }
    /// 0610 / 0611 / 0612 for a call that produced no response.
    pub fn send_error(t: RequestType, e: &SendError) -> String {
        match e {
            SendError::Network(_) => network(t),
            SendError::Timeout => timed_out(t),
            SendError::Other(_) => request_issue(t),
        }
    }
    /// 0613.
    pub fn wait_elapsed() -> String {
        "MpJobsch: ERROR: 0613: The wait time for completion of the job on the cloud service has elapsed.".into()
    }
    /// 0614.
    pub fn not_normal(value: &str) -> String {
        format!(
            "MpJobsch: ERROR: 0614: The execution result of the job on the cloud service is not the specified normal exit value. ResultValue={value}"
        )
    }
    /// 0615.
    pub fn key_not_found(name: &str) -> String {
        format!("MpJobsch: ERROR: 0615: The specified key is not found in the response result. ParamName={name}")
    }
    /// 0616.
    pub fn auth_unavailable(name: &str) -> String {
        format!("MpJobsch: ERROR: 0616: Failed to obtain the authentication information. AuthName={name}")
    }
    /// 0617.
    pub fn no_access_token() -> String {
        "MpJobsch: ERROR: 0617: An access token is not found in the response result.".into()
    }
    /// 0618.
    pub fn internal() -> String {
        "MpJobsch: ERROR: 0618: An internal logical error occurred.".into()
    }
    /// 0632.
    pub fn json_syntax(p: Property, e: &JsonError) -> String {
        format!("MpJobsch: ERROR: 0632: JSON syntax error. Property=\"{p}\" Details=\"{e}\"")
    }
    /// 0633.
    pub fn invalid_param(path: &str, details: &str) -> String {
        format!("MpJobsch: ERROR: 0633: Invalid parameter. Parameter=\"{path}\" Details=\"{details}\"")
    }
    /// 0639.
    pub fn sql_failed() -> String {
        "MpJobsch: ERROR: 0639: An error occurred in the SQL statement.".into()
    }
    /// 0640.
    pub fn format() -> String {
        "MpJobsch: ERROR: 0640: The connection information format is invalid.".into()
    }
    /// 0641.
    pub fn task_names() -> String {
        "MpJobsch: ERROR: 0641: Task names do not match.".into()
    }
    /// 0635–0638: the monitoring-log record of a failed termination call.
    pub fn termination_log(failure: &TerminationFailure, project: &str, jobnet: &str) -> String {
        let tail = format!("ProjectName={project} JobNetName={jobnet}");
        match failure {
            TerminationFailure::Status(s) => {
                format!("MpJobsch: ERROR: 0635: HTTP request failed. RequestType=termination StatusCode={s} {tail}")
            }
            TerminationFailure::Send(SendError::Network(_)) => {
                format!("MpJobsch: ERROR: 0636: A network issue occurred. RequestType=termination {tail}")
            }
            TerminationFailure::Send(SendError::Timeout) => {
                format!("MpJobsch: ERROR: 0637: HTTP request timed out. RequestType=termination {tail}")
            }
            TerminationFailure::Send(SendError::Other(_)) => {
                format!(
                    "MpJobsch: ERROR: 0638: An issue occurred with the HTTP request. RequestType=termination {tail}"
                )
            }
        }
    }
}

/// How a termination call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TerminationFailure {
    /// Non-2xx status.
    Status(u16),
    /// No response.
    Send(SendError),
}

/// What a response body line says, or nothing.
const NOT_JSON: &str = "\"The response is not a valid JSON response\"";
const NOT_XML: &str = "\"The response is not a valid XML response\"";

/// The job's two output streams.
#[derive(Clone, Debug, Default)]
pub struct Output {
    stdout: String,
    stderr: String,
}

impl Output {
    /// A result line on standard output.
    pub fn line(&mut self, line: impl AsRef<str>) {
        self.stdout.push_str(line.as_ref());
        self.stdout.push('\n');
    }

    /// A message on standard error.
    pub fn error(&mut self, line: impl AsRef<str>) {
        self.stderr.push_str(line.as_ref());
        self.stderr.push('\n');
    }

    /// The `HttpStatusCode` / `HttpResHeader` / `HttpResBody` lines of a
    /// response, each name prefixed with `prefix` (`""` or `"ChkResult"`).
    pub fn http(&mut self, prefix: &str, resp: &InResponse) {
        self.line(format!("{prefix}HttpStatusCode={}", resp.status));
        let headers = Json::Object(resp.headers.iter().map(|(k, v)| (k.clone(), Json::String(v.clone()))).collect());
        self.line(format!("{prefix}HttpResHeader={}", headers.to_pretty()));
        match resp.parsed() {
            Parsed::Json(j) => self.line(format!("{prefix}HttpResBody={}", j.to_pretty())),
            Parsed::Xml(_) => self.line(format!("{prefix}HttpResBody={}", resp.body.trim_end_matches(['\r', '\n']))),
            Parsed::BadJson => self.line(format!("{prefix}HttpResBody={NOT_JSON}")),
            Parsed::BadXml => self.line(format!("{prefix}HttpResBody={NOT_XML}")),
            Parsed::Other => {}
        }
    }

    /// Standard output so far.
    pub fn stdout(&self) -> &str {
        &self.stdout
    }

    /// Standard error so far.
    pub fn stderr(&self) -> &str {
        &self.stderr
    }

    /// Standard output then standard error, standard output capped at `cap`
    /// bytes (cut at a character boundary); whether it was cut.
    pub fn combined(&self, cap: usize) -> (String, bool) {
        let mut out = String::with_capacity(self.stdout.len().min(cap) + self.stderr.len());
        let truncated = self.stdout.len() > cap;
        if truncated {
            let mut end = cap;
            while !self.stdout.is_char_boundary(end) {
                end -= 1;
            }
            out.push_str(&self.stdout[..end]);
            out.push('\n');
        } else {
            out.push_str(&self.stdout);
        }
        out.push_str(&self.stderr);
        (out, truncated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(ct: Option<&str>, body: &str) -> InResponse {
        let mut headers = vec![("x-a".to_owned(), "1, 2".to_owned())];
        if let Some(ct) = ct {
            headers.insert(0, ("content-type".to_owned(), ct.to_owned()));
        }
        InResponse { status: 200, headers, body: body.to_owned() }
    }

    // FLOW-001 LA-006
    #[test]
    fn flow_001_json_lines() {
        let mut o = Output::default();
        o.http("", &resp(Some("application/json"), r#"{"ok":true}"#));
        assert_eq!(
            o.stdout(),
            "HttpStatusCode=200\nHttpResHeader={\n  \"content-type\": \"application/json\",\n  \"x-a\": \"1, 2\"\n}\nHttpResBody={\n  \"ok\": true\n}\n"
        );
    }

    // OUT-001 LA-007
    #[test]
    fn out_001_invalid_json_body() {
        let mut o = Output::default();
        o.http("", &resp(Some("application/json"), "{oops"));
        assert!(o.stdout().ends_with("HttpResBody=\"The response is not a valid JSON response\"\n"));
    }

    // OUT-002 LA-009
    #[test]
    fn out_002_xml_as_received() {
        let mut o = Output::default();
        o.http("", &resp(Some("text/xml"), "<a><b>1</b></a>\n"));
        assert!(o.stdout().ends_with("\nHttpResBody=<a><b>1</b></a>\n"), "{}", o.stdout());
    }

    // OUT-003
    #[test]
    fn out_003_invalid_xml_body() {
        let mut o = Output::default();
        o.http("ChkResult", &resp(Some("application/xml"), "<a><b>1</a>"));
        assert!(o.stdout().ends_with("ChkResultHttpResBody=\"The response is not a valid XML response\"\n"));
    }

    // OUT-004 LA-008
    #[test]
    fn out_004_no_body_line_for_other_types() {
        for ct in [Some("text/plain"), None] {
            let mut o = Output::default();
            o.http("", &resp(ct, "hello"));
            assert!(o.stdout().starts_with("HttpStatusCode=200\nHttpResHeader={"));
            assert!(!o.stdout().contains("HttpResBody"));
        }
    }

    // OUT-006
    #[test]
    fn out_006_streams_are_separate() {
        let mut o = Output::default();
        o.line("A=1");
        o.error(msg::internal());
        o.line("B=2");
        assert_eq!(o.stdout(), "A=1\nB=2\n");
        assert_eq!(o.combined(1 << 20).0, "A=1\nB=2\nMpJobsch: ERROR: 0618: An internal logical error occurred.\n");
        assert_eq!(
            o.combined(3),
            ("A=1\nMpJobsch: ERROR: 0618: An internal logical error occurred.\n".to_owned(), true)
        );
    }
}
