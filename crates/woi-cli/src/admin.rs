//! `woi user …` and `woi account …`: job-management users and Web API
//! accounts in the data directory's `auth.db`, and the Web API part of
//! `woi serve --listen`.
//!
//! Passwords are read from standard input (asked twice on a terminal), never
//! from the command line. A client secret is printed once, by `woi account
//! secret`, and cannot be shown again.

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Args, Subcommand};
use woi_adapters::auth::{AUTH_DB, ApiAccount, AuthError, AuthStore, JobUser, MASK, NewSecret, Right, search_matches};
use woi_adapters::runtime::{Handle, SystemClock};
use woi_core::Clock;

use crate::out;

/// The data directory holding `auth.db`.
#[derive(Args, Debug)]
pub struct DataDir {
    /// Data directory (auth.db beside the SQLite store).
    #[arg(long, default_value = "woi-data")]
    pub data: PathBuf,
}

/// Listing options.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only names matching: exact, or with `*` matching any sequence (e.g. `job*`).
    #[arg(long)]
    pub search: Option<String>,
    /// Sort by name descending.
    #[arg(long)]
    pub desc: bool,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `woi user …`
#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Register a job-management user; the password (exactly 8 characters with an upper-case
    /// letter, a lower-case letter, a digit and one of # % & ( ) * + - . / : < > ? [ ] _ ' { } ~)
    /// is read from standard input.
    Add {
        /// User name: 1–20 of A-Z a-z 0-9 _ (not `root`); cannot be changed later.
        name: String,
        /// Administrator (implicitly `update` on every project); cannot be changed later.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// List job-management users with their project rights.
    List {
        #[command(flatten)]
        list: ListArgs,
        #[command(flatten)]
        data: DataDir,
    },
    /// Delete a job-management user and its rights.
    Delete {
        /// User name.
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Change a user's password (read from standard input); the old one stops working at once.
    Passwd {
        /// User name.
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Grant a right on a project: reference, change, operation, update — or `none` to revoke.
    Grant {
        /// User name.
        name: String,
        /// Project name.
        project: String,
        /// reference | change | operation | update | none.
        right: String,
        #[command(flatten)]
        data: DataDir,
    },
}

/// `woi account …`
#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Create a Web API account (at most 5) and print its client ID.
    Create {
        /// Account name: 1–64 of A-Z a-z 0-9 ' . - _ ! # ^ ~; cannot be changed later.
        name: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// List Web API accounts and their secret slots (secrets are never shown).
    List {
        #[command(flatten)]
        list: ListArgs,
        #[command(flatten)]
        data: DataDir,
    },
    /// Delete a Web API account with both secrets; its tokens stop working at once.
    Delete {
        /// Account name.
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Generate (or regenerate) the client secret of slot 1 or 2 and print it once;
    /// with --delete, delete the slot's secret instead.
    Secret {
        /// Account name.
        name: String,
        /// Slot ("client secret type"): 1 or 2.
        slot: u8,
        /// Delete the secret of the slot.
        #[arg(long)]
        delete: bool,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
}

fn open(data: &Path) -> Result<AuthStore, String> {
    AuthStore::open(data.join(AUTH_DB)).map_err(|e| e.to_string())
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A refusal exits 1 with its reason; an unusable store is an error (exit 2).
fn refused(e: AuthError) -> Result<ExitCode, String> {
    match e {
        AuthError::Storage { .. } => Err(e.to_string()),
        other => {
            eprintln!("woi: {other}");
            Ok(ExitCode::from(1))
        }
    }
}

fn done(text: String) -> Result<ExitCode, String> {
    out(&text);
    Ok(ExitCode::SUCCESS)
}

fn json_text(v: &serde_json::Value) -> Result<String, String> {
    serde_json::to_string_pretty(v).map(|s| s + "\n").map_err(|e| e.to_string())
}

/// Read a password from standard input: one line; on a terminal, asked twice.
fn read_password(user: &str) -> Result<String, String> {
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    let ask = |prompt: &str| -> Result<String, String> {
        if tty {
            eprint!("{prompt}");
            let _ = std::io::stderr().flush();
        }
        let mut line = String::new();
        stdin.lock().read_line(&mut line).map_err(|e| format!("cannot read the password: {e}"))?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    };
    let first = ask(&format!("Password for {user}: "))?;
    if tty && ask("Again: ")? != first {
        return Err("the passwords do not match".into());
    }
    Ok(first)
}

fn sorted<T>(mut items: Vec<T>, name: impl Fn(&T) -> &str, list: &ListArgs) -> Vec<T> {
    if let Some(p) = &list.search {
        items.retain(|i| search_matches(p, name(i)));
    }
    items.sort_by(|a, b| name(a).cmp(name(b)));
    if list.desc {
        items.reverse();
    }
    items
}

fn user_json(u: &JobUser) -> serde_json::Value {
    let rights: serde_json::Map<String, serde_json::Value> =
        u.rights.iter().map(|(p, r)| (p.clone(), r.as_str().into())).collect();
    serde_json::json!({ "name": u.name, "admin": u.admin, "createdAt": rfc3339(u.created_at), "rights": rights })
}

/// Run `woi user …`.
pub fn user(cmd: UserCommand) -> Result<ExitCode, String> {
    let now = SystemClock.now();
    match cmd {
        UserCommand::Add { name, admin, data } => {
            let auth = open(&data.data)?;
            let password = read_password(&name)?;
            match auth.add_user(&name, &password, admin, now) {
                Ok(u) => done(format!(
                    "added job-management user {} ({})\n",
                    u.name,
                    if u.admin { "administrator" } else { "general user" }
                )),
                Err(e) => refused(e),
            }
        }
        UserCommand::List { list, data } => {
            let users = match open(&data.data)?.users() {
                Ok(u) => sorted(u, |u| &u.name, &list),
                Err(e) => return refused(e),
            };
            if list.json {
                return done(json_text(&users.iter().map(user_json).collect())?);
            }
            let mut s = format!("{:<20}  {:<13}  {:<20}  rights\n", "name", "kind", "created");
            for u in &users {
                let rights: Vec<String> = u.rights.iter().map(|(p, r)| format!("{p}={r}")).collect();
                let rights = if u.admin { "update on every project".to_string() } else { rights.join(" ") };
                let kind = if u.admin { "administrator" } else { "general" };
                s.push_str(&format!("{:<20}  {kind:<13}  {:<20}  {rights}\n", u.name, rfc3339(u.created_at)));
            }
            s.push_str(&format!("{} user(s)\n", users.len()));
            done(s)
        }
        UserCommand::Delete { name, data } => match open(&data.data)?.delete_user(&name) {
            Ok(()) => done(format!("deleted job-management user {name}\n")),
            Err(e) => refused(e),
        },
        UserCommand::Passwd { name, data } => {
            let auth = open(&data.data)?;
            let password = read_password(&name)?;
            match auth.set_password(&name, &password) {
                Ok(()) => done(format!("changed the password of {name}\n")),
                Err(e) => refused(e),
            }
        }
        UserCommand::Grant { name, project, right, data } => {
            let right = match right.as_str() {
                "none" => None,
                r => match Right::parse(r) {
                    Some(r) => Some(r),
                    None => {
                        eprintln!("woi: right {r:?}: expected reference, change, operation, update or none");
                        return Ok(ExitCode::from(2));
                    }
                },
            };
            match open(&data.data)?.grant(&name, &project, right) {
                Ok(()) => done(match right {
                    Some(r) => format!("granted {r} on {project} to {name}\n"),
                    None => format!("revoked the right of {name} on {project}\n"),
                }),
                Err(e) => refused(e),
            }
        }
    }
}

fn account_json(a: &ApiAccount) -> serde_json::Value {
    let slots: Vec<serde_json::Value> = a
        .secrets
        .iter()
        .zip(1u8..)
        .map(|(s, slot)| match s {
            Some(s) => serde_json::json!({
                "secretType": slot, "secretId": s.secret_id, "expiresAt": rfc3339(s.expires_at), "secret": MASK,
            }),
            None => serde_json::json!({ "secretType": slot, "secretId": null, "expiresAt": null, "secret": null }),
        })
        .collect();
    serde_json::json!({ "name": a.name, "clientId": a.client_id, "createdAt": rfc3339(a.created_at), "secrets": slots })
}

fn secret_text(s: &NewSecret, json: bool) -> Result<String, String> {
    if json {
        return json_text(&serde_json::json!({
            "accountName": s.account_name,
            "clientId": s.client_id,
            "secretType": s.info.slot,
            "expiresAt": rfc3339(s.info.expires_at),
            "secretId": s.info.secret_id,
            "secret": s.secret,
        }));
    }
    Ok(format!(
        "account:       {}\nclient id:     {}\nsecret type:   {}\nsecret id:     {}\nexpires at:    {}\nclient secret: {}\n\
         The client secret is shown only this once; store it now (a lost secret must be regenerated).\n",
        s.account_name,
        s.client_id,
        s.info.slot,
        s.info.secret_id,
        rfc3339(s.info.expires_at),
        s.secret
    ))
}

/// Run `woi account …`.
pub fn account(cmd: AccountCommand) -> Result<ExitCode, String> {
    let now = SystemClock.now();
    match cmd {
        AccountCommand::Create { name, json, data } => match open(&data.data)?.create_account(&name, now) {
            Ok(a) if json => done(json_text(&account_json(&a))?),
            Ok(a) => done(format!(
                "created Web API account {}\nclient id: {}\nNext: `woi account secret {} 1` generates its client secret.\n",
                a.name, a.client_id, a.name
            )),
            Err(e) => refused(e),
        },
        AccountCommand::List { list, data } => {
            let accounts = match open(&data.data)?.accounts() {
                Ok(a) => sorted(a, |a| &a.name, &list),
                Err(e) => return refused(e),
            };
            if list.json {
                return done(json_text(&accounts.iter().map(account_json).collect())?);
            }
            let slot = |s: &Option<woi_adapters::auth::SecretInfo>| match s {
                Some(s) => {
                    let state = if now >= s.expires_at { "EXPIRED" } else { "expires" };
                    format!("{MASK} {state} {}", rfc3339(s.expires_at))
                }
                None => "-".to_string(),
            };
            let mut s = format!("{:<24}  {:<36}  {:<35}  secret 2\n", "name", "client id", "secret 1");
            for a in &accounts {
                s.push_str(&format!(
                    "{:<24}  {:<36}  {:<35}  {}\n",
                    a.name,
                    a.client_id,
                    slot(&a.secrets[0]),
                    slot(&a.secrets[1])
                ));
            }
            s.push_str(&format!("{} account(s)\n", accounts.len()));
            done(s)
        }
        AccountCommand::Delete { name, data } => match open(&data.data)?.delete_account(&name) {
            Ok(()) => done(format!("deleted Web API account {name} and its secrets\n")),
            Err(e) => refused(e),
        },
        AccountCommand::Secret { name, slot, delete: true, data, .. } => {
            match open(&data.data)?.delete_secret(&name, slot) {
                Ok(()) => done(format!("deleted client secret {slot} of {name}\n")),
                Err(e) => refused(e),
            }
        }
        AccountCommand::Secret { name, slot, json, data, .. } => {
            match open(&data.data)?.regenerate_secret(&name, slot, now) {
                Ok(s) => done(secret_text(&s, json)?),
                Err(e) => refused(e),
            }
        }
    }
}

/// The Web API options of `woi serve`.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Tenant ID.
    pub tenant: String,
    /// Environment ID.
    pub environment: String,
    /// Host in the token issuer, audience and scope.
    pub public_host: Option<String>,
    /// Plain HTTP allowed on a non-loopback address.
    pub allow_plain_http: bool,
}

/// A bound Web API, ready to serve once the scheduler runs.
pub struct BoundApi {
    listener: tokio::net::TcpListener,
    auth: AuthStore,
    config: woi_server::ApiConfig,
}

/// Check the options, open `auth.db` and bind the address (before the scheduler starts).
pub async fn bind_api(data: &Path, o: &ApiOptions) -> Result<BoundApi, String> {
    if !o.listen.ip().is_loopback() && !o.allow_plain_http {
        return Err(format!(
            "--listen {}: plain HTTP on a non-loopback address needs --allow-plain-http (put a TLS proxy in front)",
            o.listen
        ));
    }
    let auth = open(data)?;
    if auth.accounts().is_ok_and(|a| a.is_empty()) {
        eprintln!("woi: no Web API account yet: `woi account create NAME` then `woi account secret NAME 1`");
    }
    let listener = tokio::net::TcpListener::bind(o.listen).await.map_err(|e| format!("--listen {}: {e}", o.listen))?;
    let public_host = o.public_host.clone().unwrap_or_else(|| o.listen.to_string());
    let config = woi_server::ApiConfig {
        tenant_id: o.tenant.clone(),
        environment_id: o.environment.clone(),
        public_host,
        ..woi_server::ApiConfig::default()
    };
    Ok(BoundApi { listener, auth, config })
}

/// Serve the Web API with the scheduler's handle until `stop` fires. Audit
/// records go to standard error.
pub fn spawn_api(
    api: BoundApi,
    handle: Handle,
    clock: Arc<dyn Clock>,
    store: Arc<woi_adapters::sqlite::SqliteStore>,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> Result<tokio::task::JoinHandle<std::io::Result<()>>, String> {
    let BoundApi { listener, auth, config } = api;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!(
        "woi: Web API on http://{local}{} (token: http://{local}/{}/oauth2/v2.0/token, scope {})",
        config.base(),
        config.tenant_id,
        config.scope()
    );
    let state = woi_server::AppState::new(handle, auth, clock, config)
        .map_err(|e| e.to_string())?
        .with_store(store)
        .with_audit(Arc::new(|r: &woi_server::AuditRecord| eprintln!("woi: {r}")));
    Ok(tokio::spawn(woi_server::serve(listener, state, async {
        let _ = stop.await;
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(search: Option<&str>, desc: bool) -> ListArgs {
        ListArgs { search: search.map(str::to_string), desc, json: false }
    }

    #[test]
    fn listings_filter_exactly_or_by_star_and_sort_by_name() {
        let names = vec!["ops9", "jobuser02", "jobadmin", "jobuser01"];
        assert_eq!(sorted(names.clone(), |n| n, &list(None, false)), ["jobadmin", "jobuser01", "jobuser02", "ops9"]);
        assert_eq!(sorted(names.clone(), |n| n, &list(Some("jobuser*"), true)), ["jobuser02", "jobuser01"]);
        assert!(sorted(names, |n| n, &list(Some("jobuser"), false)).is_empty());
    }

    #[test]
    fn account_json_masks_filled_slots() {
        let t = DateTime::parse_from_rfc3339("2025-05-01T08:00:00Z").expect("t").to_utc();
        let a = ApiAccount {
            name: "acc1".into(),
            client_id: "97b79dcb-c9cb-4e58-ac96-147961176013".into(),
            created_at: t,
            secrets: [
                Some(woi_adapters::auth::SecretInfo {
                    slot: 1,
                    secret_id: "22bc4f16-a046-4a16-971a-e2489e985c73".into(),
                    created_at: t,
                    expires_at: woi_adapters::auth::one_year_after(t),
                }),
                None,
            ],
        };
        let v = account_json(&a);
        assert_eq!(v["secrets"][0]["secret"], "****");
        assert_eq!(v["secrets"][0]["expiresAt"], "2026-05-01T08:00:00Z");
        assert_eq!(
            v["secrets"][1],
            serde_json::json!({"secretType": 2, "secretId": null, "expiresAt": null, "secret": null})
        );
    }
}
