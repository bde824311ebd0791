//! Accounts and users of the Web API (spec 04 §2.4, §3.7): job-management
//! users with their project rights, Web API accounts with two client-secret
//! slots, and the server's token-signing key — kept in their own SQLite file
//! (`auth.db` in the data directory) with a versioned schema.
//!
//! Rules enforced here:
//! - job-management users: name 1–20 of `[A-Za-z0-9_]`, not `root`; password
//!   exactly 8 characters of `A–Z a–z 0–9 # % & ( ) * + - . / : < > ? [ ] _ ' { } ~`
//!   with all four classes and without the user name (case-insensitive); at
//!   most [`MAX_JOB_USERS`]; name and admin flag immutable;
//! - Web API accounts: name 1–64 of ``[A-Za-z0-9'.\-_!#^~]``, unique; at most
//!   [`MAX_API_ACCOUNTS`]; a client ID (UUID) assigned at creation;
//! - client secrets: slots 1 and 2; (re)generating a slot makes a new
//!   40-character secret from a CSPRNG, shown once, stored as an argon2id
//!   hash, expiring one calendar year after creation (Feb 29 → Feb 28); the
//!   old secret of the slot stops working at once.
//!
//! Passwords and secrets are hashed with argon2id and never appear in an
//! error, a `Debug` output or a listing. Time is always passed in (`now`):
//! nothing here reads the system clock.
//!
//! Each operation opens its own connection, so a `woi user …` command and a
//! running `woi serve` share the file safely (WAL, busy timeout), and a file
//! that has gone away is reported as [`AuthError::Storage`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Months, Utc};
use rand::{Rng, RngCore, TryRngCore};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

/// File name of the accounts and users database in the data directory.
pub const AUTH_DB: &str = "auth.db";
/// Job-management users per environment (WOI 2.1.1).
pub const MAX_JOB_USERS: usize = 100;
/// Web API accounts per environment (WOI 2.1.1).
pub const MAX_API_ACCOUNTS: usize = 5;
/// Client-secret slots per account ("client secret type" 1 and 2).
pub const SECRET_SLOTS: u8 = 2;
/// Length of a generated client secret.
pub const SECRET_LEN: usize = 40;
/// Alphabet of generated client secrets.
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-";
/// Symbols allowed in job-management user passwords.
const PASSWORD_SYMBOLS: &str = "#%&()*+-./:<>?[]_'{}~";
/// Symbols allowed in Web API account names.
const ACCOUNT_SYMBOLS: &str = "'.-_!#^~";
/// Current schema version (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 2;
/// Shown instead of a password or secret.
pub const MASK: &str = "****";

const MIGRATIONS: &[&str] = &[
    // 1: users, rights, accounts, secrets, signing key.
    "CREATE TABLE job_users (
        name TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        admin INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE project_rights (
        user TEXT NOT NULL REFERENCES job_users(name) ON DELETE CASCADE,
        project TEXT NOT NULL,
        access TEXT NOT NULL,
        PRIMARY KEY (user, project)
    );
    CREATE TABLE api_accounts (
        name TEXT PRIMARY KEY,
        client_id TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE client_secrets (
        client_id TEXT NOT NULL REFERENCES api_accounts(client_id) ON DELETE CASCADE,
        slot INTEGER NOT NULL CHECK (slot IN (1, 2)),
        secret_id TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (client_id, slot)
    );
    CREATE TABLE signing_key (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        key BLOB NOT NULL
    );",
    // 2: the Web API's asynchronous operations and the runs they started.
    "CREATE TABLE api_operations (
        key TEXT PRIMARY KEY,
        submitted_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        completed_at INTEGER,
        body TEXT NOT NULL
    );
    CREATE INDEX api_operations_completed ON api_operations (completed_at);
    CREATE TABLE api_runs (
        execution_seq INTEGER PRIMARY KEY,
        user TEXT NOT NULL,
        vparam TEXT
    );",
];

/// An asynchronous operation of the Web API as stored (spec 04 §3.9): the
/// server's object, opaque here, with what retention needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOperation {
    /// The operation key (UUID).
    pub key: String,
    /// The job-management user who submitted it.
    pub submitted_by: String,
    /// Accepted at (to the second).
    pub created_at: DateTime<Utc>,
    /// Completed at (to the second), once completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// The operation object (JSON) as the server shows it.
    pub body: String,
}

/// A jobnet run started through the Web API: who started it, with which
/// variable parameter. Keyed by the run's execution sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRun {
    /// The execution sequence number of the run (`jne-<seq>`).
    pub execution_seq: u64,
    /// The submitter.
    pub user: String,
    /// The variable parameter given.
    pub vparam: Option<String>,
}

/// Why an accounts-and-users operation failed. Never carries a password or secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A field breaks its rule (nothing changed). `value` is [`MASK`] for passwords.
    #[error("invalid {field} {value:?}: {reason}")]
    Invalid {
        /// The field (`name`, `password`, `project`, `right`, `slot`).
        field: &'static str,
        /// The value as given (masked for passwords).
        value: String,
        /// The rule it breaks.
        reason: String,
    },
    /// The name is taken (nothing changed).
    #[error("{resource} {value:?} already exists")]
    Exists {
        /// `jobuser` or `apiaccount`.
        resource: &'static str,
        /// The field holding the name.
        field: &'static str,
        /// The name.
        value: String,
    },
    /// The limit of the resource is reached (nothing changed).
    #[error("the maximum number of {resource}s ({limit}) has been reached; delete unneeded ones first")]
    Limit {
        /// `jobuser` or `apiaccount`.
        resource: &'static str,
        /// The limit.
        limit: usize,
    },
    /// The target does not exist; check the latest state.
    #[error("{0} does not exist; check the latest state")]
    NotFound(String),
    /// The database cannot be opened, read or written.
    #[error("accounts and users store {}: {detail}", path.display())]
    Storage {
        /// The file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
}

/// A right on a project (spec 04 §2.4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Right {
    /// Reference only.
    Reference,
    /// Register, change, delete and reference definitions; no operations ("registration").
    Change,
    /// Operate and reference.
    Operation,
    /// Everything: definitions, operations, reference.
    Update,
}

impl Right {
    /// Every right, weakest first.
    pub const ALL: [Right; 4] = [Right::Reference, Right::Change, Right::Operation, Right::Update];

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Right::Reference => "reference",
            Right::Change => "change",
            Right::Operation => "operation",
            Right::Update => "update",
        }
    }

    /// Parse a right; `registration` and `operate` are accepted as aliases.
    pub fn parse(s: &str) -> Option<Right> {
        match s {
            "reference" => Some(Right::Reference),
            "change" | "registration" => Some(Right::Change),
            "operation" | "operate" => Some(Right::Operation),
            "update" => Some(Right::Update),
            _ => None,
        }
    }

    /// May operate jobnets (start, cancel, clear message events …).
    pub fn can_operate(self) -> bool {
        matches!(self, Right::Operation | Right::Update)
    }
}

impl fmt::Display for Right {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job-management user (no password).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobUser {
    /// Name (immutable).
    pub name: String,
    /// Administrator (immutable).
    pub admin: bool,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Rights per project (admins implicitly hold `update` everywhere).
    pub rights: BTreeMap<String, Right>,
}

impl JobUser {
    /// The right this user holds on a project: `update` for admins.
    pub fn right_on(&self, project: &str) -> Option<Right> {
        if self.admin { Some(Right::Update) } else { self.rights.get(project).copied() }
    }
}

/// A client-secret slot that holds a secret (its value is never kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretInfo {
    /// Slot (1 or 2).
    pub slot: u8,
    /// Client secret ID, new for every generation.
    pub secret_id: String,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Expiry: one calendar year after creation; expired when `now ≥ expires_at`.
    pub expires_at: DateTime<Utc>,
}

/// A Web API account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiAccount {
    /// Name (immutable, for identification only).
    pub name: String,
    /// Client ID (lower-case hyphenated UUID).
    pub client_id: String,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Slots 1 and 2.
    pub secrets: [Option<SecretInfo>; 2],
}

/// A freshly generated client secret: the only place its value exists.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSecret {
    /// Account name.
    pub account_name: String,
    /// Client ID.
    pub client_id: String,
    /// The slot and its metadata.
    pub info: SecretInfo,
    /// The secret, to be shown once.
    pub secret: String,
}

impl fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSecret")
            .field("account_name", &self.account_name)
            .field("client_id", &self.client_id)
            .field("info", &self.info)
            .field("secret", &MASK)
            .finish()
    }
}

/// Outcome of checking client credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientCheck {
    /// The secret matches an unexpired slot of this account.
    Valid(ApiAccount),
    /// The secret matches a slot whose secret has expired.
    Expired,
    /// Unknown client ID, or a secret that matches neither slot.
    Invalid,
}

/// The accounts and users database.
#[derive(Debug, Clone)]
pub struct AuthStore {
    path: PathBuf,
    /// Open connections reused across calls (every API request reads users
    /// and accounts; opening SQLite each time costs more than the query).
    pool: std::sync::Arc<std::sync::Mutex<Vec<(Connection, FileId)>>>,
}

/// Identity of the database file a connection opened: a pooled connection
/// is reused only while the file at the path is still that file (a deleted
/// or replaced database is reopened, or reported unreachable).
type FileId = (u64, u64);

fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// A pooled connection: goes back to the pool when dropped.
struct Pooled {
    conn: Option<Connection>,
    id: FileId,
    pool: std::sync::Arc<std::sync::Mutex<Vec<(Connection, FileId)>>>,
}

impl std::ops::Deref for Pooled {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Always Some until drop.
        self.conn.as_ref().unwrap_or_else(|| unreachable!("pooled connection used after drop"))
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().unwrap_or_else(|| unreachable!("pooled connection used after drop"))
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut pool)) = (self.conn.take(), self.pool.lock())
            && pool.len() < 8
        {
            pool.push((conn, self.id));
        }
    }
}

fn storage(path: &Path, context: &str, e: impl fmt::Display) -> AuthError {
    AuthError::Storage { path: path.to_path_buf(), detail: format!("{context}: {e}") }
}

fn ts(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

fn from_ts(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// One calendar year after `at` (Feb 29 → Feb 28), to the second.
pub fn one_year_after(at: DateTime<Utc>) -> DateTime<Utc> {
    let at = from_ts(ts(at));
    at.checked_add_months(Months::new(12)).unwrap_or(at)
}

fn argon2() -> Argon2<'static> {
    Argon2::default()
}

/// A 16-byte salt from the operating system's CSPRNG (via `rand`).
fn salt() -> Result<SaltString, argon2::password_hash::Error> {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes).map_err(|_| argon2::password_hash::Error::Crypto)?;
    SaltString::encode_b64(&bytes)
}

fn hash(path: &Path, secret: &str) -> Result<String, AuthError> {
    let salt = salt().map_err(|e| storage(path, "salt", e))?;
    argon2().hash_password(secret.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| storage(path, "hash", e))
}

fn verify(secret: &str, stored: &str) -> bool {
    let key = verified_key(secret, stored);
    if let Some(k) = key
        && VERIFIED.get().is_some_and(|m| m.lock().is_ok_and(|m| m.contains(&k)))
    {
        return true;
    }
    let ok = PasswordHash::new(stored).is_ok_and(|h| argon2().verify_password(secret.as_bytes(), &h).is_ok());
    if ok && let (Some(k), Ok(mut m)) = (key, VERIFIED.get_or_init(Default::default).lock()) {
        if m.len() >= VERIFIED_MAX {
            m.clear();
        }
        m.insert(k);
    }
    ok
}

/// Successful verifications of this process, so that a client sending the
/// same credentials on every request (the Web API's Basic header) pays the
/// argon2 cost once, not per request. An entry is a keyed SHA-256 of the
/// *stored hash* and the secret — never the secret itself — under a random
/// per-process key: a changed password or secret (a new stored hash) misses
/// the cache and is verified afresh; a wrong one is never in it.
static VERIFIED: OnceLock<std::sync::Mutex<std::collections::HashSet<[u8; 32]>>> = OnceLock::new();
const VERIFIED_MAX: usize = 4096;

fn verified_key(secret: &str, stored: &str) -> Option<[u8; 32]> {
    use sha2::{Digest, Sha256};
    static PROCESS_KEY: OnceLock<Option<[u8; 32]>> = OnceLock::new();
    let process_key = PROCESS_KEY.get_or_init(|| {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.try_fill_bytes(&mut k).ok().map(|()| k)
    });
    let process_key = process_key.as_ref()?;
    let mut h = Sha256::new();
    h.update(process_key);
    h.update((stored.len() as u64).to_le_bytes());
    h.update(stored.as_bytes());
    h.update(secret.as_bytes());
    Some(h.finalize().into())
}

/// Spend the time of one verification, so that an unknown name answers as
/// slowly as a wrong password.
fn verify_dummy(secret: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = DUMMY.get_or_init(|| {
        salt()
            .and_then(|salt| argon2().hash_password(b"woi-dummy-password", &salt).map(|h| h.to_string()))
            .unwrap_or_default()
    });
    let _ = verify(secret, stored);
}

fn invalid(field: &'static str, value: &str, reason: impl Into<String>) -> AuthError {
    AuthError::Invalid { field, value: value.to_string(), reason: reason.into() }
}

/// Check a job-management user name: 1–20 of `[A-Za-z0-9_]`, not `root`.
pub fn check_user_name(name: &str) -> Result<(), AuthError> {
    if name.is_empty() || name.chars().count() > 20 {
        return Err(invalid("name", name, "must be 1 to 20 characters"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid("name", name, "may contain only A-Z a-z 0-9 and _"));
    }
    if name == "root" {
        return Err(invalid("name", name, "the name root cannot be used"));
    }
    Ok(())
}

/// Check a job-management user password against the rules (charset, exactly
/// 8 characters, all four classes, not containing the user name). The error
/// never contains the password.
pub fn check_password(user: &str, password: &str) -> Result<(), AuthError> {
    let bad = |reason: &str| invalid("password", MASK, reason);
    if !password.chars().all(|c| c.is_ascii_alphanumeric() || PASSWORD_SYMBOLS.contains(c)) {
        return Err(bad("may contain only A-Z a-z 0-9 and # % & ( ) * + - . / : < > ? [ ] _ ' { } ~"));
    }
    if password.chars().count() != 8 {
        return Err(bad("must be exactly 8 characters"));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| PASSWORD_SYMBOLS.contains(c)),
    ];
    if !classes.iter().all(|&c| c) {
        return Err(bad("must contain an upper-case letter, a lower-case letter, a digit and a symbol"));
    }
    if !user.is_empty() && password.to_ascii_lowercase().contains(&user.to_ascii_lowercase()) {
        return Err(bad("must not contain the user name"));
    }
    Ok(())
}

/// Check a Web API account name: 1–64 of ``[A-Za-z0-9'.\-_!#^~]``.
pub fn check_account_name(name: &str) -> Result<(), AuthError> {
    if name.is_empty() || name.chars().count() > 64 {
        return Err(invalid("name", name, "must be 1 to 64 characters"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || ACCOUNT_SYMBOLS.contains(c)) {
        return Err(invalid("name", name, "may contain only A-Z a-z 0-9 and ' . - _ ! # ^ ~"));
    }
    Ok(())
}

/// The portal's search rule (spec 04 §3.7): exact match, unless the pattern
/// contains `*`, which matches any sequence (including none).
pub fn search_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else { return pattern == name };
    let Some(mut rest) = name.strip_prefix(first) else { return false };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

fn check_slot(account: &str, slot: u8) -> Result<usize, AuthError> {
    if (1..=SECRET_SLOTS).contains(&slot) {
        Ok(usize::from(slot - 1))
    } else {
        Err(AuthError::NotFound(format!("client secret slot {slot} of Web API account {account}")))
    }
}

fn generate_secret() -> String {
    let mut rng = rand::rng();
    (0..SECRET_LEN).map(|_| char::from(SECRET_ALPHABET[rng.random_range(0..SECRET_ALPHABET.len())])).collect()
}

impl AuthStore {
    /// Open (or create) the database at `path`, applying migrations and
    /// creating the token-signing key on first use. Blocking.
    pub fn open(path: impl AsRef<Path>) -> Result<AuthStore, AuthError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| storage(&path, "create directory", e))?;
        }
        let mut conn = Connection::open(&path).map_err(|e| storage(&path, "open", e))?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(|e| storage(&path, "set busy timeout", e))?;
        let _: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(|e| storage(&path, "set WAL mode", e))?;
        let tx =
            conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| storage(&path, "begin", e))?;
        let version: i64 =
            tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| storage(&path, "read version", e))?;
        if version > SCHEMA_VERSION {
            return Err(storage(
                &path,
                "open",
                format!("schema version {version} is newer than this woi understands ({SCHEMA_VERSION})"),
            ));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
            tx.execute_batch(sql).map_err(|e| storage(&path, "migrate", e))?;
            tx.pragma_update(None, "user_version", i as i64 + 1).map_err(|e| storage(&path, "migrate", e))?;
        }
        let has_key: bool = tx
            .query_row("SELECT EXISTS (SELECT 1 FROM signing_key)", [], |r| r.get(0))
            .map_err(|e| storage(&path, "read signing key", e))?;
        if !has_key {
            let mut key = vec![0u8; 64];
            rand::rng().fill_bytes(&mut key);
            tx.execute("INSERT INTO signing_key (id, key) VALUES (1, ?1)", params![key])
                .map_err(|e| storage(&path, "create signing key", e))?;
        }
        tx.commit().map_err(|e| storage(&path, "commit", e))?;
        Ok(AuthStore { path, pool: Default::default() })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Result<Pooled, AuthError> {
        let now = file_id(&self.path);
        let reused = self.pool.lock().ok().and_then(|mut p| {
            if now.is_none() || p.last().is_some_and(|(_, id)| Some(*id) != now) {
                p.clear(); // the file is gone or was replaced
            }
            p.pop()
        });
        let (conn, id) = match reused {
            Some(c) => c,
            None => {
                let conn = self.open_conn()?;
                (conn, file_id(&self.path).unwrap_or_default())
            }
        };
        Ok(Pooled { conn: Some(conn), id, pool: self.pool.clone() })
    }

    fn open_conn(&self) -> Result<Connection, AuthError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(|e| self.err("open", e))?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(|e| self.err("set busy timeout", e))?;
        conn.pragma_update(None, "foreign_keys", true).map_err(|e| self.err("enable foreign keys", e))?;
        Ok(conn)
    }

    fn err(&self, context: &str, e: impl fmt::Display) -> AuthError {
        storage(&self.path, context, e)
    }

    /// The key that signs access tokens (HS256). Never shown.
    pub fn signing_key(&self) -> Result<Vec<u8>, AuthError> {
        self.conn()?
            .query_row("SELECT key FROM signing_key WHERE id = 1", [], |r| r.get(0))
            .map_err(|e| self.err("read signing key", e))
    }

    // ----- job-management users -------------------------------------------

    /// Register a job-management user. Checks in order: name, password,
    /// limit (100), uniqueness.
    pub fn add_user(&self, name: &str, password: &str, admin: bool, now: DateTime<Utc>) -> Result<JobUser, AuthError> {
        check_user_name(name)?;
        check_password(name, password)?;
        let password_hash = hash(&self.path, password)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| self.err("begin", e))?;
        let count: i64 =
            tx.query_row("SELECT COUNT(*) FROM job_users", [], |r| r.get(0)).map_err(|e| self.err("count users", e))?;
        if count >= MAX_JOB_USERS as i64 {
            return Err(AuthError::Limit { resource: "jobuser", limit: MAX_JOB_USERS });
        }
        let exists: bool = tx
            .query_row("SELECT EXISTS (SELECT 1 FROM job_users WHERE name = ?1)", [name], |r| r.get(0))
            .map_err(|e| self.err("read user", e))?;
        if exists {
            return Err(AuthError::Exists { resource: "jobuser", field: "name", value: name.to_string() });
        }
        let created_at = from_ts(ts(now));
        tx.execute(
            "INSERT INTO job_users (name, password_hash, admin, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, password_hash, admin, ts(created_at)],
        )
        .map_err(|e| self.err("add user", e))?;
        tx.commit().map_err(|e| self.err("commit", e))?;
        Ok(JobUser { name: name.to_string(), admin, created_at, rights: BTreeMap::new() })
    }

    fn rights_of(&self, conn: &Connection, name: &str) -> Result<BTreeMap<String, Right>, AuthError> {
        let mut stmt = conn
            .prepare_cached("SELECT project, access FROM project_rights WHERE user = ?1 ORDER BY project")
            .map_err(|e| self.err("read rights", e))?;
        let rows = stmt
            .query_map([name], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err("read rights", e))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (project, access) = row.map_err(|e| self.err("read rights", e))?;
            if let Some(right) = Right::parse(&access) {
                out.insert(project, right);
            }
        }
        Ok(out)
    }

    /// Every job-management user, sorted by name.
    pub fn users(&self) -> Result<Vec<JobUser>, AuthError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare("SELECT name, admin, created_at FROM job_users ORDER BY name")
            .map_err(|e| self.err("list users", e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?, r.get::<_, i64>(2)?)))
            .map_err(|e| self.err("list users", e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err("list users", e))?;
        rows.into_iter()
            .map(|(name, admin, created)| {
                let rights = self.rights_of(&conn, &name)?;
                Ok(JobUser { name, admin, created_at: from_ts(created), rights })
            })
            .collect()
    }

    /// One job-management user.
    pub fn user(&self, name: &str) -> Result<Option<JobUser>, AuthError> {
        let conn = self.conn()?;
        let row = conn
            .query_row("SELECT admin, created_at FROM job_users WHERE name = ?1", [name], |r| {
                Ok((r.get::<_, bool>(0)?, r.get::<_, i64>(1)?))
            })
            .optional()
            .map_err(|e| self.err("read user", e))?;
        match row {
            None => Ok(None),
            Some((admin, created)) => {
                let rights = self.rights_of(&conn, name)?;
                Ok(Some(JobUser { name: name.to_string(), admin, created_at: from_ts(created), rights }))
            }
        }
    }

    /// Delete a job-management user and its rights.
    pub fn delete_user(&self, name: &str) -> Result<(), AuthError> {
        let n = self
            .conn()?
            .execute("DELETE FROM job_users WHERE name = ?1", [name])
            .map_err(|e| self.err("delete user", e))?;
        if n == 0 {
            return Err(AuthError::NotFound(format!("job-management user {name}")));
        }
        Ok(())
    }

    /// Change a user's password; the next request with the old one fails.
    pub fn set_password(&self, name: &str, password: &str) -> Result<(), AuthError> {
        check_password(name, password)?;
        let password_hash = hash(&self.path, password)?;
        let n = self
            .conn()?
            .execute("UPDATE job_users SET password_hash = ?2 WHERE name = ?1", params![name, password_hash])
            .map_err(|e| self.err("change password", e))?;
        if n == 0 {
            return Err(AuthError::NotFound(format!("job-management user {name}")));
        }
        Ok(())
    }

    /// Grant a right on a project to a user, replacing any earlier one;
    /// `None` revokes it.
    pub fn grant(&self, name: &str, project: &str, right: Option<Right>) -> Result<(), AuthError> {
        woi_core::text::check_project_name(project).map_err(|m| invalid("project", project, m))?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| self.err("begin", e))?;
        let exists: bool = tx
            .query_row("SELECT EXISTS (SELECT 1 FROM job_users WHERE name = ?1)", [name], |r| r.get(0))
            .map_err(|e| self.err("read user", e))?;
        if !exists {
            return Err(AuthError::NotFound(format!("job-management user {name}")));
        }
        match right {
            Some(r) => tx.execute(
                "INSERT INTO project_rights (user, project, access) VALUES (?1, ?2, ?3)
                 ON CONFLICT (user, project) DO UPDATE SET access = excluded.access",
                params![name, project, r.as_str()],
            ),
            None => tx.execute("DELETE FROM project_rights WHERE user = ?1 AND project = ?2", params![name, project]),
        }
        .map_err(|e| self.err("grant", e))?;
        tx.commit().map_err(|e| self.err("commit", e))
    }

    /// Check Basic credentials: `Some(user)` when the user exists and the
    /// password matches; `None` for an unknown user, a wrong or an empty
    /// password (all take the time of one hash verification).
    pub fn authenticate(&self, name: &str, password: &str) -> Result<Option<JobUser>, AuthError> {
        let stored: Option<String> = self
            .conn()?
            .query_row("SELECT password_hash FROM job_users WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(|e| self.err("read user", e))?;
        let Some(stored) = stored else {
            verify_dummy(password);
            return Ok(None);
        };
        if password.is_empty() || !verify(password, &stored) {
            return Ok(None);
        }
        self.user(name)
    }

    // ----- Web API accounts -----------------------------------------------

    /// Create a Web API account with a new client ID and empty secret slots.
    /// Checks in order: name, limit (5), uniqueness.
    pub fn create_account(&self, name: &str, now: DateTime<Utc>) -> Result<ApiAccount, AuthError> {
        check_account_name(name)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| self.err("begin", e))?;
        let count: i64 = tx
            .query_row("SELECT COUNT(*) FROM api_accounts", [], |r| r.get(0))
            .map_err(|e| self.err("count accounts", e))?;
        if count >= MAX_API_ACCOUNTS as i64 {
            return Err(AuthError::Limit { resource: "apiaccount", limit: MAX_API_ACCOUNTS });
        }
        let exists: bool = tx
            .query_row("SELECT EXISTS (SELECT 1 FROM api_accounts WHERE name = ?1)", [name], |r| r.get(0))
            .map_err(|e| self.err("read account", e))?;
        if exists {
            return Err(AuthError::Exists { resource: "apiaccount", field: "name", value: name.to_string() });
        }
        let client_id = uuid::Uuid::new_v4().hyphenated().to_string();
        let created_at = from_ts(ts(now));
        tx.execute(
            "INSERT INTO api_accounts (name, client_id, created_at) VALUES (?1, ?2, ?3)",
            params![name, client_id, ts(created_at)],
        )
        .map_err(|e| self.err("create account", e))?;
        tx.commit().map_err(|e| self.err("commit", e))?;
        Ok(ApiAccount { name: name.to_string(), client_id, created_at, secrets: [None, None] })
    }

    fn load_accounts(&self, conn: &Connection, filter: Option<(&str, &str)>) -> Result<Vec<ApiAccount>, AuthError> {
        let (sql, arg) = match filter {
            None => ("SELECT name, client_id, created_at FROM api_accounts ORDER BY name", None),
            Some(("name", v)) => ("SELECT name, client_id, created_at FROM api_accounts WHERE name = ?1", Some(v)),
            Some((_, v)) => ("SELECT name, client_id, created_at FROM api_accounts WHERE client_id = ?1", Some(v)),
        };
        let mut stmt = conn.prepare_cached(sql).map_err(|e| self.err("read accounts", e))?;
        let map = |r: &rusqlite::Row<'_>| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?));
        let rows = match arg {
            None => stmt.query_map([], map),
            Some(v) => stmt.query_map([v], map),
        }
        .map_err(|e| self.err("read accounts", e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| self.err("read accounts", e))?;
        let mut out = Vec::with_capacity(rows.len());
        let mut secrets = conn
            .prepare_cached(
                "SELECT slot, secret_id, created_at, expires_at FROM client_secrets WHERE client_id = ?1 ORDER BY slot",
            )
            .map_err(|e| self.err("read secrets", e))?;
        for (name, client_id, created) in rows {
            let mut slots: [Option<SecretInfo>; 2] = [None, None];
            let infos = secrets
                .query_map([&client_id], |r| {
                    Ok(SecretInfo {
                        slot: r.get(0)?,
                        secret_id: r.get(1)?,
                        created_at: from_ts(r.get(2)?),
                        expires_at: from_ts(r.get(3)?),
                    })
                })
                .map_err(|e| self.err("read secrets", e))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| self.err("read secrets", e))?;
            for info in infos {
                if let Some(slot) = slots.get_mut(usize::from(info.slot.saturating_sub(1))) {
                    *slot = Some(info);
                }
            }
            out.push(ApiAccount { name, client_id, created_at: from_ts(created), secrets: slots });
        }
        Ok(out)
    }

    /// Every Web API account, sorted by name.
    pub fn accounts(&self) -> Result<Vec<ApiAccount>, AuthError> {
        self.load_accounts(&*self.conn()?, None)
    }

    /// One Web API account by name.
    pub fn account(&self, name: &str) -> Result<Option<ApiAccount>, AuthError> {
        Ok(self.load_accounts(&*self.conn()?, Some(("name", name)))?.into_iter().next())
    }

    /// One Web API account by client ID.
    pub fn account_by_client_id(&self, client_id: &str) -> Result<Option<ApiAccount>, AuthError> {
        Ok(self.load_accounts(&*self.conn()?, Some(("client_id", client_id)))?.into_iter().next())
    }

    /// Delete an account with both of its secrets; its tokens stop working.
    pub fn delete_account(&self, name: &str) -> Result<(), AuthError> {
        let n = self
            .conn()?
            .execute("DELETE FROM api_accounts WHERE name = ?1", [name])
            .map_err(|e| self.err("delete account", e))?;
        if n == 0 {
            return Err(AuthError::NotFound(format!("Web API account {name}")));
        }
        Ok(())
    }

    /// Generate (or regenerate) the secret of a slot. The returned value is
    /// the only copy; the slot's previous secret stops working at once.
    pub fn regenerate_secret(&self, name: &str, slot: u8, now: DateTime<Utc>) -> Result<NewSecret, AuthError> {
        check_slot(name, slot)?;
        let secret = generate_secret();
        let secret_hash = hash(&self.path, &secret)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| self.err("begin", e))?;
        let client_id: Option<String> = tx
            .query_row("SELECT client_id FROM api_accounts WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(|e| self.err("read account", e))?;
        let Some(client_id) = client_id else {
            return Err(AuthError::NotFound(format!("Web API account {name}")));
        };
        let created_at = from_ts(ts(now));
        let info = SecretInfo {
            slot,
            secret_id: uuid::Uuid::new_v4().hyphenated().to_string(),
            created_at,
            expires_at: one_year_after(created_at),
        };
        tx.execute(
            "INSERT INTO client_secrets (client_id, slot, secret_id, secret_hash, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (client_id, slot) DO UPDATE SET secret_id = excluded.secret_id,
               secret_hash = excluded.secret_hash, created_at = excluded.created_at, expires_at = excluded.expires_at",
            params![client_id, slot, info.secret_id, secret_hash, ts(info.created_at), ts(info.expires_at)],
        )
        .map_err(|e| self.err("store secret", e))?;
        tx.commit().map_err(|e| self.err("commit", e))?;
        Ok(NewSecret { account_name: name.to_string(), client_id, info, secret })
    }

    /// Delete the secret of a slot. An empty slot or a missing account is [`AuthError::NotFound`].
    pub fn delete_secret(&self, name: &str, slot: u8) -> Result<(), AuthError> {
        check_slot(name, slot)?;
        let n = self
            .conn()?
            .execute(
                "DELETE FROM client_secrets WHERE slot = ?2
                 AND client_id = (SELECT client_id FROM api_accounts WHERE name = ?1)",
                params![name, slot],
            )
            .map_err(|e| self.err("delete secret", e))?;
        if n == 0 {
            return Err(AuthError::NotFound(format!("client secret {slot} of Web API account {name}")));
        }
        Ok(())
    }

    /// Check client credentials at `now`: the secret must match a slot whose
    /// secret has not expired (`now < expires_at`).
    pub fn verify_client(&self, client_id: &str, secret: &str, now: DateTime<Utc>) -> Result<ClientCheck, AuthError> {
        let conn = self.conn()?;
        let Some(account) = self.load_accounts(&conn, Some(("client_id", client_id)))?.into_iter().next() else {
            verify_dummy(secret);
            return Ok(ClientCheck::Invalid);
        };
        let mut stmt = conn
            .prepare_cached("SELECT secret_hash, expires_at FROM client_secrets WHERE client_id = ?1 ORDER BY slot")
            .map_err(|e| self.err("read secrets", e))?;
        let slots = stmt
            .query_map([client_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(|e| self.err("read secrets", e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err("read secrets", e))?;
        drop(stmt);
        if slots.is_empty() {
            verify_dummy(secret);
        }
        let mut expired = false;
        for (stored, expires_at) in slots {
            if !secret.is_empty() && verify(secret, &stored) {
                if now >= from_ts(expires_at) {
                    expired = true;
                } else {
                    return Ok(ClientCheck::Valid(account));
                }
            }
        }
        Ok(if expired { ClientCheck::Expired } else { ClientCheck::Invalid })
    }

    // ----- asynchronous operations of the Web API ---------------------------

    /// Insert or replace an operation.
    pub fn put_operation(&self, op: &StoredOperation) -> Result<(), AuthError> {
        self.conn()?
            .execute(
                "INSERT INTO api_operations (key, submitted_by, created_at, completed_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (key) DO UPDATE SET submitted_by = excluded.submitted_by,
                   created_at = excluded.created_at, completed_at = excluded.completed_at, body = excluded.body",
                params![op.key, op.submitted_by, ts(op.created_at), op.completed_at.map(ts), op.body],
            )
            .map(|_| ())
            .map_err(|e| self.err("write operation", e))
    }

    /// Every stored operation, oldest first.
    pub fn operations(&self) -> Result<Vec<StoredOperation>, AuthError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare("SELECT key, submitted_by, created_at, completed_at, body FROM api_operations ORDER BY rowid")
            .map_err(|e| self.err("list operations", e))?;
        stmt.query_map([], |r| {
            Ok(StoredOperation {
                key: r.get(0)?,
                submitted_by: r.get(1)?,
                created_at: from_ts(r.get(2)?),
                completed_at: r.get::<_, Option<i64>>(3)?.map(from_ts),
                body: r.get(4)?,
            })
        })
        .map_err(|e| self.err("list operations", e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| self.err("list operations", e))
    }

    /// Delete the operations completed before `before`; returns how many.
    pub fn purge_operations(&self, before: DateTime<Utc>) -> Result<usize, AuthError> {
        self.conn()?
            .execute("DELETE FROM api_operations WHERE completed_at IS NOT NULL AND completed_at < ?1", [ts(before)])
            .map_err(|e| self.err("purge operations", e))
    }

    /// Remember a run started through the Web API.
    pub fn put_run(&self, run: &StoredRun) -> Result<(), AuthError> {
        let seq = i64::try_from(run.execution_seq).map_err(|e| self.err("write run", e))?;
        self.conn()?
            .execute(
                "INSERT INTO api_runs (execution_seq, user, vparam) VALUES (?1, ?2, ?3)
                 ON CONFLICT (execution_seq) DO UPDATE SET user = excluded.user, vparam = excluded.vparam",
                params![seq, run.user, run.vparam],
            )
            .map(|_| ())
            .map_err(|e| self.err("write run", e))
    }

    /// Every run started through the Web API.
    pub fn runs(&self) -> Result<Vec<StoredRun>, AuthError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare("SELECT execution_seq, user, vparam FROM api_runs ORDER BY execution_seq")
            .map_err(|e| self.err("list runs", e))?;
        stmt.query_map([], |r| {
            Ok(StoredRun {
                execution_seq: u64::try_from(r.get::<_, i64>(0)?).unwrap_or_default(),
                user: r.get(1)?,
                vparam: r.get(2)?,
            })
        })
        .map_err(|e| self.err("list runs", e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| self.err("list runs", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("rfc3339").to_utc()
    }

    #[test]
    fn secret_expiry_is_one_calendar_year_with_feb_29_clamped() {
        assert_eq!(one_year_after(at("2025-05-01T08:00:00Z")), at("2026-05-01T08:00:00Z"));
        assert_eq!(one_year_after(at("2028-02-29T12:00:00.750Z")), at("2029-02-28T12:00:00Z"));
    }

    #[test]
    fn password_rules_and_errors_never_echo_the_password() {
        assert!(check_password("op5", "Xy7#abcd").is_ok());
        assert!(check_password("u_colon", "Ab1:cd#e").is_ok());
        for bad in ["Abcdefg1", "Ab1#Ab1#x", "Ab1#Ab1!", "ab1#ab1#", "Ab1#Ab1"] {
            let e = check_password("x", bad).expect_err(bad);
            assert!(!e.to_string().contains(bad), "{e}");
            assert!(matches!(e, AuthError::Invalid { field: "password", ref value, .. } if value == MASK));
        }
        assert!(check_password("Abc", "xAbc#12Z").is_err());
        assert!(check_password("Abc", "xaBC#12Z").is_err());
    }

    #[test]
    fn search_is_exact_unless_it_has_a_star() {
        let names = ["jobadmin", "jobuser01", "jobuser02", "ops9"];
        let hits = |p: &str| names.iter().filter(|n| search_matches(p, n)).copied().collect::<Vec<_>>();
        assert_eq!(hits("jobuser*"), ["jobuser01", "jobuser02"]);
        assert!(hits("jobuser").is_empty());
        assert_eq!(hits("*user*"), ["jobuser01", "jobuser02"]);
        assert_eq!(hits("ops9"), ["ops9"]);
        assert_eq!(hits("*"), names);
        assert_eq!(hits("j*1"), ["jobuser01"]);
        assert!(hits("jobuser01*1").is_empty());
    }

    #[test]
    fn schema_is_versioned_and_reopen_keeps_the_signing_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(AUTH_DB);
        let a = AuthStore::open(&path).expect("open");
        let key = a.signing_key().expect("key");
        assert_eq!(key.len(), 64);
        let b = AuthStore::open(&path).expect("reopen");
        assert_eq!(b.signing_key().expect("key"), key);
        let conn = Connection::open(&path).expect("open");
        let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).expect("version");
        assert_eq!(v, SCHEMA_VERSION);
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).expect("bump");
        assert!(matches!(AuthStore::open(&path), Err(AuthError::Storage { .. })));
    }

    #[test]
    fn operations_and_runs_survive_a_reopen_and_completed_ones_are_purged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(AUTH_DB);
        let a = AuthStore::open(&path).expect("open");
        let t = |s: &str| DateTime::parse_from_rfc3339(s).expect("time").to_utc();
        let op = |key: &str, completed: Option<&str>| StoredOperation {
            key: key.into(),
            submitted_by: "op1".into(),
            created_at: t("2025-03-01T09:00:00Z"),
            completed_at: completed.map(t),
            body: format!("{{\"key\":\"{key}\"}}"),
        };
        a.put_operation(&op("k1", None)).expect("put");
        a.put_operation(&op("k2", Some("2025-03-01T09:00:05Z"))).expect("put");
        a.put_operation(&op("k1", Some("2025-03-09T09:00:00Z"))).expect("update");
        a.put_run(&StoredRun { execution_seq: 42, user: "op1".into(), vparam: Some("V".into()) }).expect("run");
        let b = AuthStore::open(&path).expect("reopen");
        assert_eq!(
            b.operations().expect("ops"),
            [op("k1", Some("2025-03-09T09:00:00Z")), op("k2", Some("2025-03-01T09:00:05Z"))]
        );
        assert_eq!(
            b.runs().expect("runs"),
            [StoredRun { execution_seq: 42, user: "op1".into(), vparam: Some("V".into()) }]
        );
        assert_eq!(b.purge_operations(t("2025-03-02T00:00:00Z")).expect("purge"), 1);
        assert_eq!(b.operations().expect("ops").len(), 1);
    }
}
