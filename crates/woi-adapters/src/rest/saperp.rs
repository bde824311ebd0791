//! The SAP ERP job, `r3stepexec` (spec 03 §2.7, §3.15; spec 02 §3.7): data
//! model and validation. Running it needs SAP's proprietary NetWeaver RFC
//! SDK, which is not part of this build.
//!
//! What is implemented: the MSGTYPE exit-code mapping
//! ([`parse_msgtype_mapping`], [`msgtype_exit_code`]), session-opening info
//! ([`SessionInfo::new`]) and destination definitions
//! ([`parse_destinations`]) with the spec's rules, and the [`RfcClient`] seam
//! an RFC binding would implement. Without a client, an SAP ERP job ends at
//! once with exit code **104** ("error connecting to or requesting SAP
//! S/4HANA", the code `r3stepexec` uses when it cannot reach the system) and
//! the output line [`NOT_AVAILABLE`].

use async_trait::async_trait;

use super::authinfo::Secret;

/// Exit code of an SAP ERP job in this build (cannot connect).
pub const NOT_AVAILABLE_EXIT: u32 = 104;
/// Output line of an SAP ERP job in this build.
pub const NOT_AVAILABLE: &str = "woi: SAP ERP jobs (r3stepexec) are not available in this build: they need the SAP NetWeaver RFC SDK; exit code 104 (cannot connect to SAP S/4HANA)";
/// `r3stepexec`: wrong arguments, or the SAP job was ended from outside.
pub const EXIT_ARGUMENTS: u32 = 101;
/// `r3stepexec`: a file operation failed.
pub const EXIT_FILE: u32 = 102;
/// `r3stepexec`: wrong destination name.
pub const EXIT_DESTINATION: u32 = 103;
/// `r3stepexec`: forcibly ended by a signal.
pub const EXIT_SIGNAL: u32 = 105;

/// Errors of SAP ERP data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SapErpError {
    /// A MSGTYPE mapping item is malformed or its code is outside 1–100.
    #[error("invalid MSGTYPE exit-code item `{0}` (expected TYPE=CODE with CODE 1-100)")]
    Mapping(String),
    /// A session-opening info field is invalid.
    #[error("invalid session-opening info field {field}: {reason}")]
    Session {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The destination definitions are invalid.
    #[error("invalid destination definitions: {0}")]
    Destinations(String),
}

/// Parse `E=10,A=5,W=3` into ordered items.
pub fn parse_msgtype_mapping(text: &str) -> Result<Vec<(String, u32)>, SapErpError> {
    text.split(',')
        .map(|item| {
            let bad = || SapErpError::Mapping(item.to_owned());
            let (ty, code) = item.split_once('=').ok_or_else(bad)?;
            let ty = ty.trim();
            let code: u32 = code.trim().parse().map_err(|_| bad())?;
            if ty.is_empty() || !ty.bytes().all(|b| b.is_ascii_alphanumeric()) || !(1..=100).contains(&code) {
                return Err(bad());
            }
            Ok((ty.to_owned(), code))
        })
        .collect()
}

/// The exit code for the MSGTYPEs found in the XMI log: that of the first
/// mapping item (left to right) whose type occurs; 0 when none does.
pub fn msgtype_exit_code(mapping: &[(String, u32)], log_types: &[&str]) -> u32 {
    mapping.iter().find(|(ty, _)| log_types.contains(&ty.as_str())).map(|(_, c)| *c).unwrap_or(0)
}

/// Language of the SAP log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Language {
    /// Japanese (default).
    #[default]
    Japanese,
    /// English.
    English,
}

/// A session-opening info record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// 1–50 of ASCII letters, digits, `-`, `_`.
    pub name: String,
    /// Exactly 3 ASCII alphanumerics (a `DEST`).
    pub destination: String,
    /// Exactly 3 digits.
    pub client: String,
    /// 1–18 of ASCII letters, digits, `$ # @ _`.
    pub user: String,
    /// 3–40 characters of the allowed set.
    pub password: Secret,
    /// Log language.
    pub language: Language,
    /// At most 128 characters.
    pub memo: Option<String>,
}

const PASSWORD_SYMBOLS: &str = "!\"@$%&/()=?'`*+~#-_.,;{[]}¥<>| ";

impl SessionInfo {
    /// Validate and build a record (`language` `None` → Japanese).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        destination: &str,
        client: &str,
        user: &str,
        password: &str,
        password_again: &str,
        language: Option<Language>,
        memo: Option<&str>,
    ) -> Result<SessionInfo, SapErpError> {
        let err = |field, reason| Err(SapErpError::Session { field, reason });
        let n = name.chars().count();
        if !(1..=50).contains(&n) || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return err("name", "1-50 of A-Z a-z 0-9 - _");
        }
        if destination.len() != 3 || !destination.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return err("destination", "exactly 3 ASCII letters or digits");
        }
        if client.len() != 3 || !client.bytes().all(|b| b.is_ascii_digit()) {
            return err("client", "exactly 3 digits");
        }
        let u = user.chars().count();
        if !(1..=18).contains(&u) || !user.bytes().all(|b| b.is_ascii_alphanumeric() || b"$#@_".contains(&b)) {
            return err("user", "1-18 of A-Z a-z 0-9 $ # @ _");
        }
        let p = password.chars().count();
        if !(3..=40).contains(&p)
            || !password.chars().all(|c| c.is_ascii_alphanumeric() || PASSWORD_SYMBOLS.contains(c))
        {
            return err("password", "3-40 letters, digits and allowed symbols");
        }
        if password != password_again {
            return err("password", "the re-entered password differs");
        }
        if memo.is_some_and(|m| m.chars().count() > 128) {
            return err("memo", "at most 128 characters");
        }
        Ok(SessionInfo {
            name: name.to_owned(),
            destination: destination.to_owned(),
            client: client.to_owned(),
            user: user.to_owned(),
            password: Secret::new(password),
            language: language.unwrap_or_default(),
            memo: memo.map(str::to_owned),
        })
    }
}

/// One destination block of the definitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// `DEST`.
    pub dest: String,
    /// The other statements, in order.
    pub params: Vec<(String, String)>,
}

const DEST_SYMBOLS: &str = "!\"@$%&/()=?`'*+~#-_.,;:{[]}¥<>|^ \r\n";

/// Validate destination definitions (1–1600 characters of the allowed set)
/// and split them into `DEST=` blocks.
pub fn parse_destinations(text: &str) -> Result<Vec<Destination>, SapErpError> {
    let n = text.chars().count();
    if !(1..=1600).contains(&n) {
        return Err(SapErpError::Destinations(format!("{n} characters; 1 to 1600 allowed")));
    }
    if let Some(c) = text.chars().find(|c| !c.is_ascii_alphanumeric() && !DEST_SYMBOLS.contains(*c)) {
        return Err(SapErpError::Destinations(format!("character {c:?} is not allowed")));
    }
    let mut out: Vec<Destination> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (k, v) =
            line.split_once('=').ok_or_else(|| SapErpError::Destinations(format!("`{line}` is not KEY=VALUE")))?;
        let (k, v) = (k.trim().to_ascii_uppercase(), v.trim().to_owned());
        if k == "DEST" {
            if v.is_empty() || v.len() > 3 || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(SapErpError::Destinations(format!("DEST={v}: 1-3 letters or digits")));
            }
            out.retain(|d| d.dest != v);
            out.push(Destination { dest: v, params: Vec::new() });
        } else {
            let d =
                out.last_mut().ok_or_else(|| SapErpError::Destinations(format!("`{line}` before the first DEST=")))?;
            d.params.push((k, v));
        }
    }
    Ok(out)
}

/// What an RFC binding would provide: submit a job step and wait for it,
/// returning the XMI log (and the MSGTYPEs in it).
#[async_trait]
pub trait RfcClient: Send + Sync {
    /// Run the SAP ERP job and return its XMI log lines and MSGTYPEs.
    async fn run(&self, session: &SessionInfo) -> Result<(Vec<String>, Vec<String>), u32>;
}

#[cfg(test)]
mod tests {
    use super::*;

    // SAPE-001
    #[test]
    fn sape_001_msgtype_mapping() {
        let m = parse_msgtype_mapping("E=10,A=5,W=3").expect("valid");
        assert_eq!(msgtype_exit_code(&m, &["E", "A", "W"]), 10);
        assert_eq!(msgtype_exit_code(&m, &["A", "W"]), 5);
        assert_eq!(msgtype_exit_code(&m, &["W", "I"]), 3);
        assert_eq!(msgtype_exit_code(&m, &["I", "S"]), 0);
        assert!(parse_msgtype_mapping("E=101").is_err());
        assert!(parse_msgtype_mapping("E=0").is_err());
        assert!(parse_msgtype_mapping("E10").is_err());
    }

    // SAPE-002
    #[test]
    fn sape_002_left_to_right() {
        let m = parse_msgtype_mapping("W=3,E=10").expect("valid");
        assert_eq!(msgtype_exit_code(&m, &["E", "W"]), 3);
    }

    // SAPE-003
    #[test]
    fn sape_003_session_rules() {
        let ok = |name: &str, client: &str, user: &str, pw: &str| {
            SessionInfo::new(name, "S4H", client, user, pw, pw, None, None)
        };
        assert!(ok("sess 1", "001", "u", "pwd").is_err());
        assert!(ok("sess1", "01", "u", "pwd").is_err());
        assert!(ok("sess1", "001", &"u".repeat(19), "pwd").is_err());
        assert!(ok("sess1", "001", "u", "pw").is_err());
        let s = ok("sess1", "001", &"u".repeat(18), "pwd").expect("valid");
        assert_eq!(s.language, Language::Japanese);
        assert_eq!(format!("{:?}", s.password), "***");
        assert!(SessionInfo::new("s", "S4H", "001", "u", "pwd", "pwx", None, None).is_err());
    }

    // SAPE-004
    #[test]
    fn sape_004_destination_length() {
        let block = "DEST=S4H\nASHOST=10.0.0.1\nSYSNR=00\n";
        let d = parse_destinations(block).expect("valid");
        assert_eq!(d[0].dest, "S4H");
        assert_eq!(d[0].params.len(), 2);
        let long = format!("{block}{}", "#".repeat(1601 - block.len()));
        assert_eq!(long.chars().count(), 1601);
        assert!(parse_destinations(&long).is_err());
        assert!(parse_destinations("").is_err());
        assert!(parse_destinations("DEST=S4H\nASHOST=é").is_err());
    }
}
