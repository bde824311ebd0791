//! The authentication-info registry of the integration adapters (spec 03
//! §2.2, §3.1): parsing and validation of submissions, masking, and the
//! SQLite store with secrets encrypted at rest.
//!
//! # Submissions
//!
//! A submission is JSON text of 2–10,240 characters: one entry object or a
//! non-empty array of them. Entries are validated in array order and the first
//! violation is reported; validation is atomic (nothing is stored when any
//! entry fails); a later entry with the same name wins; storing replaces an
//! existing entry of that name entirely. Byte limits count with the legacy
//! rule (decision D7).
//!
//! # Storage and the secret key
//!
//! Entries live in `<data>/adapters.db` ([`ADAPTERS_DB`]), table
//! `adapter_auth(name, auth_type, payload, memo, updated_at)`. `payload` holds
//! the whole entry (as registered) encrypted with AES-256-GCM under a random
//! 96-bit nonce, the entry's name as associated data, stored as base64 of
//! `nonce || ciphertext`. The 32-byte key comes from the environment variable
//! `WOI_SECRET_KEY` ([`SECRET_KEY_ENV`], base64) when set, else from the file
//! `<data>/secret.key` ([`SECRET_KEY_FILE`], base64), which is created with
//! mode 0600 and a random key on first use. Losing the key makes every stored
//! entry unreadable (jobs using them fail with 0616); back it up with the data
//! directory or keep it in the environment.
//!
//! Secrets never appear in `Debug` output ([`Secret`] prints `***`) nor in the
//! masked details ([`AuthInfo::to_json`] with `masked`).

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, SecondsFormat, Utc};
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use woi_core::text::legacy_len;

use super::json::{self, Json};

/// File name of the adapters database in the data directory.
pub const ADAPTERS_DB: &str = "adapters.db";
/// File name of the secret key in the data directory (used when
/// [`SECRET_KEY_ENV`] is not set).
pub const SECRET_KEY_FILE: &str = "secret.key";
/// Environment variable holding the secret key (base64 of 32 bytes).
pub const SECRET_KEY_ENV: &str = "WOI_SECRET_KEY";
/// Shown instead of a secret value.
pub const MASK: &str = "***";
/// Shortest accepted submission, in characters.
pub const MIN_INPUT_CHARS: usize = 2;
/// Longest accepted submission, in characters.
pub const MAX_INPUT_CHARS: usize = 10_240;
/// Longest entry name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// Longest memo, arbitrary key or value, basic user or password, in bytes.
pub const MAX_VALUE_BYTES: usize = 1024;

const SCHEMA_VERSION: i64 = 1;
const MIGRATIONS: &[&str] = &["CREATE TABLE adapter_auth (
        name TEXT PRIMARY KEY,
        auth_type TEXT NOT NULL,
        payload TEXT NOT NULL,
        memo TEXT,
        updated_at TEXT NOT NULL
    );"];

/// Errors of the registry. The `Display` texts are the portal's detail texts
/// (spec 03 §3.1, §9.1.7).
#[derive(Debug, thiserror::Error)]
pub enum AuthInfoError {
    /// The input is shorter than 2 or longer than 10,240 characters.
    #[error(
        "The form could not be submitted for the following reason(s):\n• Authentication information: enter 2 to 10240 characters ({chars} given)"
    )]
    Form {
        /// Characters given.
        chars: usize,
    },
    /// Not JSON, or neither an object nor a non-empty array of objects.
    #[error("Authentication information: The format of the authentication-information control statement is invalid")]
    Format,
    /// A required parameter is missing.
    #[error(
        "Authentication information: A required parameter is not specified in the authentication-information control statement name={name} param={param}"
    )]
    Required {
        /// The entry's name (empty when the name itself is missing).
        name: String,
        /// The missing key.
        param: String,
    },
    /// A parameter has a wrong type or value.
    #[error(
        "Authentication information: A parameter of the authentication-information control statement is wrong name={name} param={param}"
    )]
    Invalid {
        /// The entry's name.
        name: String,
        /// The offending key.
        param: String,
    },
    /// A parameter the type does not allow.
    #[error(
        "Authentication information: A parameter that cannot be specified is written in the authentication-information control statement name={name} param={param}"
    )]
    NotAllowed {
        /// The entry's name.
        name: String,
        /// The offending key.
        param: String,
    },
    /// No entry of that name.
    #[error("The target does not exist. Check the latest state.")]
    NotFound {
        /// The name asked for.
        name: String,
    },
    /// The database could not be used, or an entry could not be decrypted.
    #[error("Processing execution failed. (process=function, status=500, detail={0})")]
    Storage(String),
    /// The secret key is missing or malformed.
    #[error("Environment error. (process=function, status=500, detail={0})")]
    Key(String),
}

impl AuthInfoError {
    /// A stable code for scripts and the API (`AUTHINFO_FORMAT`, …).
    pub fn code(&self) -> &'static str {
        match self {
            AuthInfoError::Form { .. } => "FORM_INVALID",
            AuthInfoError::Format => "AUTHINFO_FORMAT",
            AuthInfoError::Required { .. } => "AUTHINFO_REQUIRED",
            AuthInfoError::Invalid { .. } => "AUTHINFO_INVALID",
            AuthInfoError::NotAllowed { .. } => "AUTHINFO_NOT_ALLOWED",
            AuthInfoError::NotFound { .. } => "NOT_FOUND",
            AuthInfoError::Storage(_) => "STORAGE",
            AuthInfoError::Key(_) => "SECRET_KEY",
        }
    }

    /// The entry name the error is about, if any.
    pub fn entry_name(&self) -> Option<&str> {
        match self {
            AuthInfoError::Required { name, .. }
            | AuthInfoError::Invalid { name, .. }
            | AuthInfoError::NotAllowed { name, .. }
            | AuthInfoError::NotFound { name } => Some(name),
            _ => None,
        }
    }

    /// The parameter the error is about, if any.
    pub fn param(&self) -> Option<&str> {
        match self {
            AuthInfoError::Required { param, .. }
            | AuthInfoError::Invalid { param, .. }
            | AuthInfoError::NotAllowed { param, .. } => Some(param),
            _ => None,
        }
    }
}

/// A secret string: `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// The authentication types (`authType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AuthType {
    /// HTTP Basic.
    Basic,
    /// Microsoft Entra ID OAuth 2.0 client credentials.
    AzureAd,
    /// A fixed bearer token.
    Bearer,
    /// AWS Signature Version 4.
    AwsSigV4,
    /// No authentication: only arbitrary keys.
    Others,
    /// SAP cloud service OAuth 2.0 client credentials.
    Scs,
}

impl AuthType {
    /// The `authType` text.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::Basic => "basic",
            AuthType::AzureAd => "azuread",
            AuthType::Bearer => "bearer",
            AuthType::AwsSigV4 => "awssigv4",
            AuthType::Others => "others",
            AuthType::Scs => "scs",
        }
    }

    /// Parse an `authType` text (exact, lower case).
    pub fn parse(s: &str) -> Option<AuthType> {
        Some(match s {
            "basic" => AuthType::Basic,
            "azuread" => AuthType::AzureAd,
            "bearer" => AuthType::Bearer,
            "awssigv4" => AuthType::AwsSigV4,
            "others" => AuthType::Others,
            "scs" => AuthType::Scs,
            _ => return None,
        })
    }

    /// The type-specific keys, in the order they are checked and written.
    fn fields(self) -> &'static [&'static str] {
        match self {
            AuthType::Basic => &["basicUser", "basicPasswd"],
            AuthType::AzureAd => &["clientId", "clientSecret", "endpoint", "resource", "scope"],
            AuthType::Bearer => &["token"],
            AuthType::AwsSigV4 => &["accKey", "secKey", "service", "region", "endpoint", "sigv4Header"],
            AuthType::Others => &[],
            AuthType::Scs => &["clientId", "clientSecret", "endpoint"],
        }
    }

    /// The required keys, in the order they are checked.
    fn required(self) -> &'static [&'static str] {
        match self {
            AuthType::Basic => &["basicUser", "basicPasswd"],
            AuthType::AzureAd => &["clientId", "clientSecret", "endpoint"],
            AuthType::Bearer => &["token"],
            AuthType::AwsSigV4 => &["accKey", "secKey", "service", "region", "endpoint"],
            AuthType::Others => &[],
            AuthType::Scs => &["clientId", "clientSecret", "endpoint"],
        }
    }
}

impl fmt::Display for AuthType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which token an `azuread` entry asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AzureTarget {
    /// v1.0 endpoint: `resource`.
    Resource(String),
    /// v2.0 endpoint: `scope`.
    Scope(String),
}

/// The type-specific part of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthKind {
    /// `basic`.
    Basic {
        /// `basicUser`.
        user: String,
        /// `basicPasswd`.
        password: Secret,
    },
    /// `azuread`.
    AzureAd {
        /// `clientId`.
        client_id: String,
        /// `clientSecret`.
        client_secret: Secret,
        /// `endpoint`: the token URL.
        endpoint: String,
        /// `resource` or `scope`.
        target: AzureTarget,
    },
    /// `bearer`.
    Bearer {
        /// `token`.
        token: Secret,
    },
    /// `awssigv4`.
    AwsSigV4 {
        /// `accKey`.
        access_key: String,
        /// `secKey`.
        secret_key: Secret,
        /// `service`, e.g. `lambda`.
        service: String,
        /// `region`, e.g. `ap-northeast-1`.
        region: String,
        /// `endpoint`: the host name signed as `host`.
        endpoint: String,
        /// `sigv4Header`: extra signed headers, in order.
        headers: Vec<(String, String)>,
    },
    /// `others`.
    Others,
    /// `scs`.
    Scs {
        /// `clientId`.
        client_id: String,
        /// `clientSecret`.
        client_secret: Secret,
        /// `endpoint`: the token URL.
        endpoint: String,
    },
}

/// One registered entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthInfo {
    /// `name`.
    pub name: String,
    /// `memo`.
    pub memo: Option<String>,
    /// The type and its fields.
    pub kind: AuthKind,
    /// Arbitrary keys (`@key@` in connection info), in order.
    pub keys: Vec<(String, Secret)>,
}

/// A row of the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthSummary {
    /// `name`.
    pub name: String,
    /// `authType`.
    pub auth_type: AuthType,
    /// `memo`.
    pub memo: Option<String>,
    /// When it was last registered (RFC 3339).
    pub updated_at: String,
}

impl AuthInfo {
    /// Its type.
    pub fn auth_type(&self) -> AuthType {
        match self.kind {
            AuthKind::Basic { .. } => AuthType::Basic,
            AuthKind::AzureAd { .. } => AuthType::AzureAd,
            AuthKind::Bearer { .. } => AuthType::Bearer,
            AuthKind::AwsSigV4 { .. } => AuthType::AwsSigV4,
            AuthKind::Others => AuthType::Others,
            AuthKind::Scs { .. } => AuthType::Scs,
        }
    }

    /// The arbitrary keys as plain pairs (for substitution).
    pub fn key_values(&self) -> Vec<(String, String)> {
        self.keys.iter().map(|(k, v)| (k.clone(), v.expose().to_owned())).collect()
    }

    /// The entry as registration JSON; with `masked`, every secret (password,
    /// token, secret key, client secret, arbitrary values) is `***`.
    pub fn to_json(&self, masked: bool) -> Json {
        let s = |v: &str| Json::String(v.to_owned());
        let secret = |v: &Secret| Json::String(if masked { MASK.to_owned() } else { v.expose().to_owned() });
        let mut m: Vec<(String, Json)> =
            vec![("name".into(), s(&self.name)), ("authType".into(), s(self.auth_type().as_str()))];
        match &self.kind {
            AuthKind::Basic { user, password } => {
                m.push(("basicUser".into(), s(user)));
                m.push(("basicPasswd".into(), secret(password)));
            }
            AuthKind::AzureAd { client_id, client_secret, endpoint, target } => {
                m.push(("clientId".into(), s(client_id)));
                m.push(("clientSecret".into(), secret(client_secret)));
                m.push(("endpoint".into(), s(endpoint)));
                match target {
                    AzureTarget::Resource(r) => m.push(("resource".into(), s(r))),
                    AzureTarget::Scope(sc) => m.push(("scope".into(), s(sc))),
                }
            }
            AuthKind::Bearer { token } => m.push(("token".into(), secret(token))),
            AuthKind::AwsSigV4 { access_key, secret_key, service, region, endpoint, headers } => {
                m.push(("accKey".into(), s(access_key)));
                m.push(("secKey".into(), secret(secret_key)));
                m.push(("service".into(), s(service)));
                m.push(("region".into(), s(region)));
                m.push(("endpoint".into(), s(endpoint)));
                if !headers.is_empty() {
                    m.push((
                        "sigv4Header".into(),
                        Json::Object(headers.iter().map(|(k, v)| (k.clone(), s(v))).collect()),
                    ));
                }
            }
            AuthKind::Others => {}
            AuthKind::Scs { client_id, client_secret, endpoint } => {
                m.push(("clientId".into(), s(client_id)));
                m.push(("clientSecret".into(), secret(client_secret)));
                m.push(("endpoint".into(), s(endpoint)));
            }
        }
        if let Some(memo) = &self.memo {
            m.push(("memo".into(), s(memo)));
        }
        for (k, v) in &self.keys {
            m.push((k.clone(), secret(v)));
        }
        Json::Object(m)
    }
}

/// Parse and validate a submission (one entry or an array of entries).
/// Returns the entries in order, later duplicates replacing earlier ones.
pub fn parse_submission(text: &str) -> Result<Vec<AuthInfo>, AuthInfoError> {
    let chars = text.chars().count();
    if !(MIN_INPUT_CHARS..=MAX_INPUT_CHARS).contains(&chars) {
        return Err(AuthInfoError::Form { chars });
    }
    let value = json::parse(text).map_err(|_| AuthInfoError::Format)?;
    let entries: Vec<&[(String, Json)]> = match &value {
        Json::Object(m) => vec![m.as_slice()],
        Json::Array(items) if !items.is_empty() => {
            items.iter().map(|i| i.as_object().ok_or(AuthInfoError::Format)).collect::<Result<_, _>>()?
        }
        _ => return Err(AuthInfoError::Format),
    };
    let mut out: Vec<AuthInfo> = Vec::new();
    for members in entries {
        let info = parse_entry(members)?;
        match out.iter_mut().find(|i| i.name == info.name) {
            Some(slot) => *slot = info,
            None => out.push(info),
        }
    }
    Ok(out)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && legacy_len(name) <= MAX_NAME_BYTES
        && !name.starts_with('-')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn valid_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Validate one entry object.
fn parse_entry(members: &[(String, Json)]) -> Result<AuthInfo, AuthInfoError> {
    let get = |k: &str| members.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    let name = match get("name") {
        None => return Err(AuthInfoError::Required { name: String::new(), param: "name".into() }),
        Some(Json::String(n)) if valid_name(n) => n.clone(),
        Some(Json::String(n)) => return Err(AuthInfoError::Invalid { name: n.clone(), param: "name".into() }),
        Some(_) => return Err(AuthInfoError::Invalid { name: String::new(), param: "name".into() }),
    };
    let invalid = |param: &str| AuthInfoError::Invalid { name: name.clone(), param: param.to_owned() };
    let ty = match get("authType") {
        None => return Err(AuthInfoError::Required { name, param: "authType".into() }),
        Some(Json::String(t)) => AuthType::parse(t).ok_or_else(|| invalid("authType"))?,
        Some(_) => return Err(invalid("authType")),
    };
    let mut fields: BTreeMap<&str, String> = BTreeMap::new();
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut memo = None;
    let mut keys: Vec<(String, Secret)> = Vec::new();
    for (key, value) in members {
        let key = key.as_str();
        match key {
            "name" | "authType" => {}
            "memo" => match value {
                Json::String(s) if legacy_len(s) <= MAX_VALUE_BYTES => memo = Some(s.clone()),
                _ => return Err(invalid(key)),
            },
            "sigv4Header" if ty == AuthType::AwsSigV4 => {
                let Json::Object(hs) = value else { return Err(invalid(key)) };
                for (h, v) in hs {
                    let Json::String(v) = v else { return Err(invalid(key)) };
                    let lower = h.to_ascii_lowercase();
                    if !valid_header_name(h) || lower == "host" || lower == "x-amz-date" {
                        return Err(invalid(key));
                    }
                    headers.push((h.clone(), v.clone()));
                }
            }
            _ if ty.fields().contains(&key) => {
                let Json::String(s) = value else { return Err(invalid(key)) };
                if ty == AuthType::Basic && legacy_len(s) > MAX_VALUE_BYTES {
                    return Err(invalid(key));
                }
                if let Some(&field) = ty.fields().iter().find(|f| **f == key) {
                    fields.insert(field, s.clone());
                }
            }
            _ if ty == AuthType::Scs => {
                return Err(AuthInfoError::NotAllowed { name, param: key.to_owned() });
            }
            _ => {
                let Json::String(s) = value else { return Err(invalid(key)) };
                if key.starts_with('-') || key.is_empty() || legacy_len(key) > MAX_VALUE_BYTES {
                    return Err(invalid(key));
                }
                if legacy_len(s) > MAX_VALUE_BYTES {
                    return Err(invalid(key));
                }
                keys.push((key.to_owned(), Secret::new(s.clone())));
            }
        }
    }
    for req in ty.required() {
        if !fields.contains_key(req) {
            return Err(AuthInfoError::Required { name, param: (*req).to_owned() });
        }
    }
    let mut take = |k: &str| fields.remove(k).unwrap_or_default();
    let kind = match ty {
        AuthType::Basic => AuthKind::Basic { user: take("basicUser"), password: Secret::new(take("basicPasswd")) },
        AuthType::AzureAd => {
            let (resource, scope) = (fields.remove("resource"), fields.remove("scope"));
            let target = match (resource, scope) {
                (Some(_), Some(_)) => return Err(AuthInfoError::NotAllowed { name, param: "scope".into() }),
                (Some(r), None) => AzureTarget::Resource(r),
                (None, Some(s)) => AzureTarget::Scope(s),
                (None, None) => return Err(AuthInfoError::Required { name, param: "resource/scope".into() }),
            };
            let mut take = |k: &str| fields.remove(k).unwrap_or_default();
            AuthKind::AzureAd {
                client_id: take("clientId"),
                client_secret: Secret::new(take("clientSecret")),
                endpoint: take("endpoint"),
                target,
            }
        }
        AuthType::Bearer => AuthKind::Bearer { token: Secret::new(take("token")) },
        AuthType::AwsSigV4 => AuthKind::AwsSigV4 {
            access_key: take("accKey"),
            secret_key: Secret::new(take("secKey")),
            service: take("service"),
            region: take("region"),
            endpoint: take("endpoint"),
            headers,
        },
        AuthType::Others => AuthKind::Others,
        AuthType::Scs => AuthKind::Scs {
            client_id: take("clientId"),
            client_secret: Secret::new(take("clientSecret")),
            endpoint: take("endpoint"),
        },
    };
    Ok(AuthInfo { name, memo, kind, keys })
}

/// Something that can look up auth entries at run time.
pub trait AuthSource: Send + Sync {
    /// The entry named `name`, `None` if there is none.
    fn auth_info(&self, name: &str) -> Result<Option<AuthInfo>, AuthInfoError>;
}

/// An in-memory registry (tests, embedding).
#[derive(Debug, Default)]
pub struct MemoryAuthSource {
    entries: Mutex<BTreeMap<String, AuthInfo>>,
}

impl MemoryAuthSource {
    /// An empty registry.
    pub fn new() -> MemoryAuthSource {
        MemoryAuthSource::default()
    }

    /// Register a submission (same rules as the store).
    pub fn register(&self, text: &str) -> Result<Vec<String>, AuthInfoError> {
        let infos = parse_submission(text)?;
        let mut entries = self.entries.lock().map_err(|_| AuthInfoError::Storage("poisoned".into()))?;
        Ok(infos
            .into_iter()
            .map(|i| {
                let name = i.name.clone();
                entries.insert(name.clone(), i);
                name
            })
            .collect())
    }

    /// Remove an entry.
    pub fn remove(&self, name: &str) -> Option<AuthInfo> {
        self.entries.lock().ok()?.remove(name)
    }
}

impl AuthSource for MemoryAuthSource {
    fn auth_info(&self, name: &str) -> Result<Option<AuthInfo>, AuthInfoError> {
        let entries = self.entries.lock().map_err(|_| AuthInfoError::Storage("poisoned".into()))?;
        Ok(entries.get(name).cloned())
    }
}

/// The AES-256-GCM key of the store.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        SecretKey(bytes)
    }

    /// A key from base64 text of 32 bytes (surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<SecretKey, AuthInfoError> {
        let bytes = B64.decode(text.trim()).map_err(|e| AuthInfoError::Key(format!("not base64: {e}")))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| AuthInfoError::Key(format!("the key must be 32 bytes, not {}", b.len())))?;
        Ok(SecretKey(arr))
    }

    /// A new random key.
    pub fn generate() -> SecretKey {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        SecretKey(k)
    }

    /// The key in force for `data_dir`: `WOI_SECRET_KEY` when set, else
    /// `<data_dir>/secret.key`, created (mode 0600) with a random key when
    /// missing.
    pub fn load(data_dir: &Path) -> Result<SecretKey, AuthInfoError> {
        match std::env::var(SECRET_KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => {
                SecretKey::from_base64(&v).map_err(|e| AuthInfoError::Key(format!("{SECRET_KEY_ENV}: {e}")))
            }
            _ => SecretKey::load_file(&data_dir.join(SECRET_KEY_FILE)),
        }
    }

    /// Read the key file, creating it (mode 0600) when missing.
    pub fn load_file(path: &Path) -> Result<SecretKey, AuthInfoError> {
        let key_err = |e: &dyn fmt::Display| AuthInfoError::Key(format!("{}: {e}", path.display()));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| key_err(&e))?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        match opts.open(path) {
            Ok(mut f) => {
                let key = SecretKey::generate();
                writeln!(f, "{}", B64.encode(key.0)).map_err(|e| key_err(&e))?;
                f.sync_all().map_err(|e| key_err(&e))?;
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(|e| key_err(&e))?;
                SecretKey::from_base64(&text).map_err(|e| key_err(&e))
            }
            Err(e) => Err(key_err(&e)),
        }
    }

    fn cipher(&self) -> Result<Aes256Gcm, AuthInfoError> {
        Aes256Gcm::new_from_slice(&self.0).map_err(|e| AuthInfoError::Key(e.to_string()))
    }

    fn seal(&self, name: &str, plain: &[u8]) -> Result<String, AuthInfoError> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher()?
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: name.as_bytes() })
            .map_err(|_| AuthInfoError::Storage(format!("cannot encrypt auth info {name}")))?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        Ok(B64.encode(blob))
    }

    fn open(&self, name: &str, stored: &str) -> Result<Vec<u8>, AuthInfoError> {
        let undecryptable = || AuthInfoError::Storage(format!("cannot decrypt auth info {name} (wrong secret key?)"));
        let blob = B64.decode(stored).map_err(|_| undecryptable())?;
        if blob.len() < 12 {
            return Err(undecryptable());
        }
        let (nonce, sealed) = blob.split_at(12);
        self.cipher()?
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: name.as_bytes() })
            .map_err(|_| undecryptable())
    }
}

/// Sort column of the list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    /// By name (default).
    #[default]
    Name,
    /// By `authType`, then name.
    AuthType,
}

/// What to list.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    /// One keyword; `*` matches any run of characters; exact otherwise;
    /// case-insensitive.
    pub search: Option<String>,
    /// Sort column.
    pub sort: SortKey,
    /// Descending.
    pub desc: bool,
}

/// Whether `name` matches a search keyword (spec 03 §3.1): `*` matches any
/// run of characters, otherwise exact; case-insensitive.
pub fn search_matches(pattern: &str, name: &str) -> bool {
    crate::auth::search_matches(&pattern.to_lowercase(), &name.to_lowercase())
}

/// The SQLite registry in `<data>/adapters.db`. Each operation opens its own
/// connection, so the CLI and a running server share the file safely.
#[derive(Clone, Debug)]
pub struct AuthInfoStore {
    path: PathBuf,
    key: SecretKey,
}

impl AuthInfoStore {
    /// Open (creating if needed) `<data_dir>/adapters.db` with the key of
    /// [`SecretKey::load`].
    pub fn open(data_dir: &Path) -> Result<AuthInfoStore, AuthInfoError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| AuthInfoError::Storage(format!("{}: {e}", data_dir.display())))?;
        let key = SecretKey::load(data_dir)?;
        AuthInfoStore::open_with_key(data_dir.join(ADAPTERS_DB), key)
    }

    /// Open (creating if needed) the database file `path` with `key`.
    pub fn open_with_key(path: PathBuf, key: SecretKey) -> Result<AuthInfoStore, AuthInfoError> {
        let store = AuthInfoStore { path, key };
        let mut conn = store.conn()?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| store.err(e))?;
        if version < SCHEMA_VERSION {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| store.err(e))?;
            let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| store.err(e))?;
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
                tx.execute_batch(sql).map_err(|e| store.err(e))?;
                tx.pragma_update(None, "user_version", i as i64 + 1).map_err(|e| store.err(e))?;
            }
            tx.commit().map_err(|e| store.err(e))?;
        }
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: impl fmt::Display) -> AuthInfoError {
        AuthInfoError::Storage(format!("{}: {e}", self.path.display()))
    }

    fn conn(&self) -> Result<Connection, AuthInfoError> {
        let conn = Connection::open(&self.path).map_err(|e| self.err(e))?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(|e| self.err(e))?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| self.err(e))?;
        Ok(conn)
    }

    /// Validate and store a submission atomically; returns the registered names.
    pub fn register(&self, text: &str, now: DateTime<Utc>) -> Result<Vec<String>, AuthInfoError> {
        let infos = parse_submission(text)?;
        let at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| self.err(e))?;
        for info in &infos {
            let payload = self.key.seal(&info.name, info.to_json(false).to_compact().as_bytes())?;
            tx.execute(
                "INSERT INTO adapter_auth (name, auth_type, payload, memo, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(name) DO UPDATE SET auth_type = excluded.auth_type, payload = excluded.payload,
                 memo = excluded.memo, updated_at = excluded.updated_at",
                params![info.name, info.auth_type().as_str(), payload, info.memo, at],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(infos.into_iter().map(|i| i.name).collect())
    }

    /// The entries matching `query`, sorted (case-insensitively, then exactly).
    pub fn list(&self, query: &ListQuery) -> Result<Vec<AuthSummary>, AuthInfoError> {
        let conn = self.conn()?;
        let mut stmt =
            conn.prepare("SELECT name, auth_type, memo, updated_at FROM adapter_auth").map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?, r.get(3)?))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, ty, memo, updated_at) = row.map_err(|e| self.err(e))?;
            let auth_type = AuthType::parse(&ty).ok_or_else(|| self.err(format!("unknown auth type {ty}")))?;
            if query.search.as_deref().is_none_or(|p| search_matches(p, &name)) {
                out.push(AuthSummary { name, auth_type, memo, updated_at });
            }
        }
        let name_key = |s: &AuthSummary| (s.name.to_lowercase(), s.name.clone());
        out.sort_by(|a, b| match query.sort {
            SortKey::Name => name_key(a).cmp(&name_key(b)),
            SortKey::AuthType => (a.auth_type.as_str(), name_key(a)).cmp(&(b.auth_type.as_str(), name_key(b))),
        });
        if query.desc {
            out.reverse();
        }
        Ok(out)
    }

    /// The entry named `name` (decrypted), `None` if there is none.
    pub fn get(&self, name: &str) -> Result<Option<AuthInfo>, AuthInfoError> {
        let conn = self.conn()?;
        let payload: Option<String> = conn
            .query_row("SELECT payload FROM adapter_auth WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(payload) = payload else { return Ok(None) };
        let plain = self.key.open(name, &payload)?;
        let text = String::from_utf8(plain).map_err(|_| self.err(format!("auth info {name} is not UTF-8")))?;
        let value = json::parse(&text).map_err(|e| self.err(format!("auth info {name}: {e}")))?;
        let members = value.as_object().ok_or_else(|| self.err(format!("auth info {name} is not an object")))?;
        parse_entry(members).map(Some).map_err(|e| self.err(format!("auth info {name}: {e}")))
    }

    /// Delete the entry named `name`; [`AuthInfoError::NotFound`] if there is none.
    pub fn delete(&self, name: &str) -> Result<(), AuthInfoError> {
        let conn = self.conn()?;
        let n = conn.execute("DELETE FROM adapter_auth WHERE name = ?1", [name]).map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(AuthInfoError::NotFound { name: name.to_owned() });
        }
        Ok(())
    }
}

impl AuthSource for AuthInfoStore {
    fn auth_info(&self, name: &str) -> Result<Option<AuthInfo>, AuthInfoError> {
        self.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, AuthInfoStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let s =
            AuthInfoStore::open_with_key(dir.path().join(ADAPTERS_DB), SecretKey::from_bytes([7; 32])).expect("open");
        (dir, s)
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").expect("date").with_timezone(&Utc)
    }

    fn err(text: &str) -> AuthInfoError {
        parse_submission(text).expect_err("must be rejected")
    }

    fn code_param(e: &AuthInfoError) -> (&'static str, Option<&str>) {
        (e.code(), e.param())
    }

    // AUTH-001
    #[test]
    fn auth_001_register_basic() {
        let (_d, s) = store();
        let names = s
            .register(r#"{"name":"aws-batch-01","authType":"basic","basicUser":"u","basicPasswd":"p"}"#, now())
            .expect("ok");
        assert_eq!(names, vec!["aws-batch-01"]);
        let list = s.list(&ListQuery::default()).expect("list");
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].name.as_str(), list[0].auth_type), ("aws-batch-01", AuthType::Basic));
        let got = s.get("aws-batch-01").expect("get").expect("exists");
        assert_eq!(got.kind, AuthKind::Basic { user: "u".into(), password: Secret::new("p") });
    }

    // AUTH-002
    #[test]
    fn auth_002_reregister_replaces_entirely() {
        let (_d, s) = store();
        s.register(r#"{"name":"k1","authType":"basic","basicUser":"a","basicPasswd":"p","x":"1"}"#, now()).expect("ok");
        s.register(r#"{"name":"k1","authType":"bearer","token":"T"}"#, now()).expect("ok");
        let got = s.get("k1").expect("get").expect("exists");
        assert_eq!(got.kind, AuthKind::Bearer { token: Secret::new("T") });
        assert!(got.keys.is_empty());
        assert!(!got.to_json(false).to_compact().contains("basicUser"));
    }

    // AUTH-003
    #[test]
    fn auth_003_array_registers_all() {
        let (_d, s) = store();
        s.register(r#"[{"name":"a1","authType":"others"},{"name":"a2","authType":"bearer","token":"t"}]"#, now())
            .expect("ok");
        let names: Vec<String> = s.list(&ListQuery::default()).expect("list").into_iter().map(|e| e.name).collect();
        assert_eq!(names, vec!["a1", "a2"]);
    }

    // AUTH-004
    #[test]
    fn auth_004_form_length_limits() {
        assert_eq!(err("{").code(), "FORM_INVALID");
        let pad = |n: usize| {
            let base = r#"{"name":"p","authType":"others","memo":""}"#;
            let mut s = base.to_owned();
            s.insert_str(s.len() - 1, &" ".repeat(n - base.len()));
            s
        };
        let (_d, st) = store();
        assert_eq!(st.register(&pad(10_241), now()).expect_err("too long").code(), "FORM_INVALID");
        assert!(st.list(&ListQuery::default()).expect("list").is_empty());
        assert_eq!(pad(10_240).chars().count(), 10_240);
        st.register(&pad(10_240), now()).expect("10240 accepted");
    }

    // AUTH-005
    #[test]
    fn auth_005_format_errors() {
        for text in ["[1,2]", r#""x""#, "not json", "[]"] {
            let e = err(text);
            assert_eq!(e.code(), "AUTHINFO_FORMAT", "{text}");
            assert_eq!(
                e.to_string(),
                "Authentication information: The format of the authentication-information control statement is invalid"
            );
        }
    }

    // AUTH-006
    #[test]
    fn auth_006_required_missing() {
        let e = err(r#"{"name":"b","authType":"basic","basicUser":"u"}"#);
        assert_eq!(
            e.to_string(),
            "Authentication information: A required parameter is not specified in the authentication-information control statement name=b param=basicPasswd"
        );
        assert!(err(r#"{"authType":"basic"}"#).to_string().ends_with("name= param=name"));
    }

    // AUTH-007
    #[test]
    fn auth_007_name_rules() {
        for bad in ["-abc", "ab c", &"a".repeat(65)] {
            let e = err(&format!(r#"{{"name":"{bad}","authType":"others"}}"#));
            assert_eq!(code_param(&e), ("AUTHINFO_INVALID", Some("name")), "{bad}");
        }
        let ok = format!("{}_-9", "A".repeat(61));
        assert_eq!(ok.len(), 64);
        parse_submission(&format!(r#"{{"name":"{ok}","authType":"others"}}"#)).expect("64 chars accepted");
        let e = err(r#"{"name":"x","authType":"others","-k":"v"}"#);
        assert!(e.to_string().contains("is wrong name=x param=-k"));
    }

    // AUTH-008
    #[test]
    fn auth_008_auth_type_exact() {
        for t in ["Basic", "oauth"] {
            let e = err(&format!(r#"{{"name":"n","authType":"{t}"}}"#));
            assert_eq!(code_param(&e), ("AUTHINFO_INVALID", Some("authType")));
        }
    }

    // AUTH-009
    #[test]
    fn auth_009_resource_and_scope() {
        let e = err(
            r#"{"name":"z","authType":"azuread","clientId":"c","clientSecret":"s","endpoint":"e","resource":"r","scope":"s"}"#,
        );
        assert_eq!(code_param(&e), ("AUTHINFO_NOT_ALLOWED", Some("scope")));
        assert!(e.to_string().starts_with("Authentication information: A parameter that cannot be specified"));
    }

    // AUTH-010
    #[test]
    fn auth_010_neither_resource_nor_scope() {
        let e = err(r#"{"name":"z","authType":"azuread","clientId":"c","clientSecret":"s","endpoint":"e"}"#);
        assert_eq!(code_param(&e), ("AUTHINFO_REQUIRED", Some("resource/scope")));
    }

    // AUTH-011
    #[test]
    fn auth_011_scs_extra_key() {
        let e =
            err(r#"{"name":"s","authType":"scs","clientId":"c","clientSecret":"s","endpoint":"e","tenantKey":"x"}"#);
        assert_eq!(code_param(&e), ("AUTHINFO_NOT_ALLOWED", Some("tenantKey")));
        parse_submission(
            r#"{"name":"s","authType":"scs","clientId":"c","clientSecret":"s","endpoint":"e","memo":"m"}"#,
        )
        .expect("memo allowed");
    }

    // AUTH-012
    #[test]
    fn auth_012_arbitrary_key_dash() {
        let base = r#""name":"b","authType":"basic","basicUser":"u","basicPasswd":"p""#;
        let e = err(&format!(r#"{{{base},"-apiKey":"v"}}"#));
        assert_eq!(code_param(&e), ("AUTHINFO_INVALID", Some("-apiKey")));
        let ok = parse_submission(&format!(r#"{{{base},"apiKey":"v"}}"#)).expect("ok");
        assert_eq!(ok[0].key_values(), vec![("apiKey".to_owned(), "v".to_owned())]);
    }

    // AUTH-013
    #[test]
    fn auth_013_byte_limits() {
        let long = "x".repeat(1025);
        let ok = "x".repeat(1024);
        let base = r#""name":"b","authType":"basic""#;
        for (key, extra) in [
            ("k", r#","basicUser":"u","basicPasswd":"p","k":"VAL""#),
            ("memo", r#","basicUser":"u","basicPasswd":"p","memo":"VAL""#),
            ("basicUser", r#","basicUser":"VAL","basicPasswd":"p""#),
        ] {
            let e = err(&format!("{{{base}{}}}", extra.replace("VAL", &long)));
            assert_eq!(code_param(&e), ("AUTHINFO_INVALID", Some(key)));
            parse_submission(&format!("{{{base}{}}}", extra.replace("VAL", &ok))).expect("1024 accepted");
        }
        // Non-ASCII counts 2 per character (decision D7).
        let e = err(&format!(r#"{{{base},"basicUser":"u","basicPasswd":"p","memo":"{}"}}"#, "あ".repeat(513)));
        assert_eq!(code_param(&e), ("AUTHINFO_INVALID", Some("memo")));
    }

    // AUTH-014
    #[test]
    fn auth_014_sigv4_header_shape() {
        let base = r#""name":"a","authType":"awssigv4","accKey":"k","secKey":"s","service":"lambda","region":"r","endpoint":"e""#;
        for h in [r#""x""#, r#"{"X-Amz-Target":5}"#, r#"{"host":"h"}"#, r#"{"X-Amz-Date":"d"}"#] {
            let e = err(&format!(r#"{{{base},"sigv4Header":{h}}}"#));
            assert_eq!(code_param(&e), ("AUTHINFO_INVALID", Some("sigv4Header")), "{h}");
        }
        let ok = parse_submission(&format!(r#"{{{base},"sigv4Header":{{"X-Amz-Target":"X.Y"}}}}"#)).expect("ok");
        assert!(
            matches!(&ok[0].kind, AuthKind::AwsSigV4 { headers, .. } if headers == &vec![("X-Amz-Target".to_owned(), "X.Y".to_owned())])
        );
    }

    // AUTH-015
    #[test]
    fn auth_015_non_string_values() {
        let e = err(r#"{"name":"b","authType":"basic","basicUser":12,"basicPasswd":"p"}"#);
        assert_eq!(code_param(&e), ("AUTHINFO_INVALID", Some("basicUser")));
        let e = err(r#"{"name":"b","authType":"others","k":true}"#);
        assert_eq!(code_param(&e), ("AUTHINFO_INVALID", Some("k")));
    }

    // AUTH-016
    #[test]
    fn auth_016_atomic() {
        let (_d, s) = store();
        let e = s
            .register(r#"[{"name":"ok1","authType":"others"},{"name":"bad","authType":"basic"}]"#, now())
            .expect_err("second invalid");
        assert_eq!(code_param(&e), ("AUTHINFO_REQUIRED", Some("basicUser")));
        assert!(s.list(&ListQuery::default()).expect("list").is_empty());
    }

    // AUTH-017
    #[test]
    fn auth_017_duplicate_in_array_later_wins() {
        let (_d, s) = store();
        s.register(
            r#"[{"name":"dup","authType":"basic","basicUser":"u","basicPasswd":"p"},{"name":"dup","authType":"bearer","token":"t"}]"#,
            now(),
        )
        .expect("ok");
        let list = s.list(&ListQuery::default()).expect("list");
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].auth_type, AuthType::Bearer);
    }

    // AUTH-018
    #[test]
    fn auth_018_sorting() {
        let (_d, s) = store();
        s.register(
            r#"[{"name":"zeta","authType":"others"},{"name":"Alpha","authType":"bearer","token":"t"},{"name":"mid","authType":"others"}]"#,
            now(),
        )
        .expect("ok");
        let names = |q: ListQuery| -> Vec<String> { s.list(&q).expect("list").into_iter().map(|e| e.name).collect() };
        assert_eq!(names(ListQuery::default()), vec!["Alpha", "mid", "zeta"]);
        assert_eq!(names(ListQuery { desc: true, ..Default::default() }), vec!["zeta", "mid", "Alpha"]);
        assert_eq!(names(ListQuery { sort: SortKey::AuthType, ..Default::default() }), vec!["Alpha", "mid", "zeta"]);
        assert_eq!(
            names(ListQuery { sort: SortKey::AuthType, desc: true, ..Default::default() }),
            vec!["zeta", "mid", "Alpha"]
        );
    }

    // AUTH-019
    #[test]
    fn auth_019_search() {
        let (_d, s) = store();
        s.register(
            r#"[{"name":"prod-aws","authType":"others"},{"name":"dev-aws","authType":"others"},{"name":"prod-azure","authType":"others"}]"#,
            now(),
        )
        .expect("ok");
        let find = |p: &str| -> Vec<String> {
            let q = ListQuery { search: Some(p.into()), ..Default::default() };
            s.list(&q).expect("list").into_iter().map(|e| e.name).collect()
        };
        assert_eq!(find("prod*"), vec!["prod-aws", "prod-azure"]);
        assert_eq!(find("*aws"), vec!["dev-aws", "prod-aws"]);
        assert!(find("aws").is_empty());
        assert_eq!(find("PROD-AWS"), vec!["prod-aws"]);
    }

    // AUTH-020
    #[test]
    fn auth_020_details_mask_secrets() {
        let infos =
            parse_submission(r#"{"name":"b","authType":"basic","basicUser":"alice","basicPasswd":"p","k":"v"}"#)
                .expect("ok");
        let shown = infos[0].to_json(true).to_compact();
        assert_eq!(shown, r#"{"name":"b","authType":"basic","basicUser":"alice","basicPasswd":"***","k":"***"}"#);
        let debug = format!("{:?}", infos[0]);
        assert!(!debug.contains("\"p\"") && !debug.contains("\"v\""), "{debug}");
        let all = parse_submission(
            r#"[{"name":"t","authType":"bearer","token":"TOK"},{"name":"a","authType":"awssigv4","accKey":"AK","secKey":"SK","service":"s","region":"r","endpoint":"e"},{"name":"z","authType":"azuread","clientId":"c","clientSecret":"CS","endpoint":"e","scope":"sc"}]"#,
        )
        .expect("ok");
        for i in &all {
            let shown = i.to_json(true).to_compact();
            for secret in ["TOK", "SK", "CS"] {
                assert!(!shown.contains(secret), "{shown}");
            }
        }
    }

    // AUTH-021
    #[test]
    fn auth_021_delete_missing() {
        let (_d, s) = store();
        let e = s.delete("ghost").expect_err("missing");
        assert_eq!(e.to_string(), "The target does not exist. Check the latest state.");
        assert_eq!(e.code(), "NOT_FOUND");
        s.register(r#"{"name":"g","authType":"others"}"#, now()).expect("ok");
        s.delete("g").expect("deleted");
        assert!(s.get("g").expect("get").is_none());
    }

    // AUTH-023
    #[test]
    fn auth_023_others_minimal() {
        let i = parse_submission(r#"{"name":"o","authType":"others"}"#).expect("ok");
        assert_eq!(i[0].kind, AuthKind::Others);
    }

    // AUTH-024
    #[test]
    fn auth_024_sigv4_missing_endpoint() {
        let e = err(r#"{"name":"a","authType":"awssigv4","accKey":"k","secKey":"s","service":"x","region":"r"}"#);
        assert_eq!(code_param(&e), ("AUTHINFO_REQUIRED", Some("endpoint")));
    }

    #[test]
    fn secrets_are_encrypted_at_rest_and_bound_to_the_key() {
        let (dir, s) = store();
        s.register(r#"{"name":"b","authType":"basic","basicUser":"alice","basicPasswd":"hunter2secret"}"#, now())
            .expect("ok");
        let raw = std::fs::read(dir.path().join(ADAPTERS_DB)).expect("read");
        let wal = std::fs::read(dir.path().join(format!("{ADAPTERS_DB}-wal"))).unwrap_or_default();
        let hay = |b: &[u8]| b.windows(13).any(|w| w == b"hunter2secret");
        assert!(!hay(&raw) && !hay(&wal), "password stored in clear");
        let other =
            AuthInfoStore::open_with_key(dir.path().join(ADAPTERS_DB), SecretKey::from_bytes([8; 32])).expect("open");
        assert_eq!(other.get("b").expect_err("wrong key").code(), "STORAGE");
    }

    #[test]
    fn key_file_is_created_0600_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(SECRET_KEY_FILE);
        let k1 = SecretKey::load_file(&path).expect("create");
        let k2 = SecretKey::load_file(&path).expect("reuse");
        assert_eq!(k1.0, k2.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(format!("{k1:?}"), "SecretKey(***)");
        assert_eq!(SecretKey::from_base64("AAAA").expect_err("short").code(), "SECRET_KEY");
    }
}
