//! `woi auth …`: the integration adapters' authentication info (spec 03
//! §2.2, §3.1) in the data directory's `adapters.db`.
//!
//! Secrets are encrypted at rest with the key from `WOI_SECRET_KEY` (base64 of
//! 32 bytes) or `<data>/secret.key` (created 0600 on first use), and are shown
//! as `***` by `show`. Exit status: 0 done; 1 the submission or name was
//! refused (the portal's message is printed); 2 unreadable input or store.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::Utc;
use clap::{Subcommand, ValueEnum};
use woi_adapters::rest::authinfo::{AuthInfoError, AuthInfoStore, ListQuery, SortKey};

use crate::out;

/// Sort column of `woi auth list`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Sort {
    /// By name.
    Name,
    /// By authType, then name.
    Type,
}

/// `woi auth …`
#[derive(Subcommand, Debug)]
pub enum AuthCommand {
    /// Register auth info from a JSON file (one object or a list; `-` reads standard input).
    /// An entry with the same name is replaced entirely.
    Set {
        /// The JSON file, or `-`.
        file: PathBuf,
        /// Data directory.
        #[arg(long, default_value = "woi-data")]
        data: PathBuf,
    },
    /// List entries (name and authType).
    List {
        /// Only names matching: exact, or with `*` matching any sequence (case-insensitive).
        #[arg(long)]
        search: Option<String>,
        /// Sort column.
        #[arg(long, value_enum, default_value = "name")]
        sort: Sort,
        /// Sort descending.
        #[arg(long)]
        desc: bool,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        /// Data directory.
        #[arg(long, default_value = "woi-data")]
        data: PathBuf,
    },
    /// Show one entry with its secrets masked.
    Show {
        /// Entry name.
        name: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        /// Data directory.
        #[arg(long, default_value = "woi-data")]
        data: PathBuf,
    },
    /// Delete an entry (jobs still naming it fail with 0616 at run time).
    Delete {
        /// Entry name.
        name: String,
        /// Data directory.
        #[arg(long, default_value = "woi-data")]
        data: PathBuf,
    },
}

fn open(data: &Path) -> Result<AuthInfoStore, String> {
    AuthInfoStore::open(data).map_err(|e| e.to_string())
}

/// A refusal the portal would show: print it, exit 1; store problems exit 2.
fn refused(line: String, e: &AuthInfoError) -> Result<ExitCode, String> {
    match e {
        AuthInfoError::Storage(_) | AuthInfoError::Key(_) => Err(line),
        _ => {
            eprintln!("{line}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Run `woi auth …`.
pub fn auth(cmd: AuthCommand) -> Result<ExitCode, String> {
    match cmd {
        AuthCommand::Set { file, data } => {
            let text = if file.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).map_err(|e| format!("standard input: {e}"))?;
                s
            } else {
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?
            };
            let store = open(&data)?;
            match store.register(text.trim_end_matches(['\r', '\n']), Utc::now()) {
                Ok(names) => {
                    out(&format!("registered: {}\n", names.join(", ")));
                    Ok(ExitCode::SUCCESS)
                }
                // The form check comes before anything is sent (spec 03
                // §3.1 step 1): its text alone, as the portal shows it.
                Err(e @ AuthInfoError::Form { .. }) => refused(e.to_string(), &e),
                Err(e) => {
                    let name = e.entry_name().unwrap_or("");
                    refused(
                        format!("Error: Failed to create integration-adapter auth info ({name}). (details: {e})"),
                        &e,
                    )
                }
            }
        }
        AuthCommand::List { search, sort, desc, json, data } => {
            let store = open(&data)?;
            let sort = match sort {
                Sort::Name => SortKey::Name,
                Sort::Type => SortKey::AuthType,
            };
            let items = match store.list(&ListQuery { search, sort, desc }) {
                Ok(items) => items,
                Err(e) => {
                    return refused(format!("Error: Failed to get integration-adapter auth info. (details: {e})"), &e);
                }
            };
            if json {
                let v: Vec<_> = items
                    .iter()
                    .map(|i| {
                        serde_json::json!({"name": i.name, "authType": i.auth_type.as_str(), "memo": i.memo, "updatedAt": i.updated_at})
                    })
                    .collect();
                let text =
                    serde_json::to_string_pretty(&serde_json::json!({ "items": v })).map_err(|e| e.to_string())?;
                out(&format!("{text}\n"));
            } else {
                let width = items.iter().map(|i| i.name.len()).max().unwrap_or(4).max(4);
                let mut text = format!("{:<width$}  AUTHTYPE  UPDATED\n", "NAME");
                for i in &items {
                    text.push_str(&format!("{:<width$}  {:<8}  {}\n", i.name, i.auth_type.as_str(), i.updated_at));
                }
                out(&text);
            }
            Ok(ExitCode::SUCCESS)
        }
        AuthCommand::Show { name, json, data } => {
            let store = open(&data)?;
            let info = match store.get(&name) {
                Ok(Some(info)) => info,
                Ok(None) => {
                    let e = AuthInfoError::NotFound { name: name.clone() };
                    return refused(
                        format!("Error: Failed to get integration-adapter auth info ({name}). (details: {e})"),
                        &e,
                    );
                }
                Err(e) => {
                    return refused(
                        format!("Error: Failed to get integration-adapter auth info ({name}). (details: {e})"),
                        &e,
                    );
                }
            };
            let masked = info.to_json(true);
            if json {
                out(&format!("{}\n", masked.to_pretty()));
            } else {
                let mut text = String::new();
                for (k, v) in masked.as_object().unwrap_or_default() {
                    text.push_str(&format!("{k}: {}\n", v.render()));
                }
                out(&text);
            }
            Ok(ExitCode::SUCCESS)
        }
        AuthCommand::Delete { name, data } => {
            let store = open(&data)?;
            match store.delete(&name) {
                Ok(()) => {
                    out(&format!("deleted: {name}\n"));
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(
                    format!("Error: Failed to delete integration-adapter auth info ({name}). (details: {e})"),
                    &e,
                ),
            }
        }
    }
}
