//! Reading definition text (TOML or JSON), merging several files, and
//! compiling the result into an [`Environment`] the engine can run.
//!
//! Reading files is the caller's job (woi-core does no I/O): pass each
//! file's name and text to [`Catalog::add_text`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::model::{CalendarDef, Definitions, JobnetDef};
use crate::text::limits;
use crate::validate;

/// One problem found in definitions: where it is and what is allowed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    /// The file the object came from, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The object, e.g. `project SALES / jobnet DAILY / job 3`.
    pub object: String,
    /// The field, e.g. `after`.
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        if !self.object.is_empty() {
            write!(f, "{}: ", self.object)?;
        }
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// The format of a definition text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}

impl Format {
    /// Guess from a file name: `.json` is JSON, anything else TOML.
    pub fn from_name(name: &str) -> Format {
        if name.to_ascii_lowercase().ends_with(".json") { Format::Json } else { Format::Toml }
    }
}

/// Parse one definition text.
pub fn parse(text: &str, format: Format) -> Result<Definitions, String> {
    match format {
        Format::Toml => toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string()),
        Format::Json => serde_json::from_str(text).map_err(|e| e.to_string()),
    }
}

/// Definitions gathered from one or more files, each object remembering its file.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// The merged definitions.
    pub defs: Definitions,
    /// File of each jobnet (parallel to `defs.jobnets`).
    pub jobnet_files: Vec<Option<String>>,
    /// File of each calendar (parallel to `defs.calendars`).
    pub calendar_files: Vec<Option<String>>,
    /// File of each project (parallel to `defs.projects`).
    pub project_files: Vec<Option<String>>,
    /// File that set the environment settings.
    pub environment_file: Option<String>,
    /// Problems found while reading (syntax errors, conflicting settings).
    pub read_errors: Vec<Diagnostic>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Catalog {
        Catalog::default()
    }

    /// Parse `text` (format guessed from `file`) and merge it in. A syntax
    /// error is recorded in `read_errors` and the rest is still read.
    pub fn add_text(&mut self, file: &str, text: &str) {
        match parse(text, Format::from_name(file)) {
            Ok(defs) => self.add(Some(file.to_string()), defs),
            Err(message) => self.read_errors.push(Diagnostic {
                file: Some(file.to_string()),
                object: String::new(),
                field: String::new(),
                message,
            }),
        }
    }

    /// Merge parsed definitions in.
    pub fn add(&mut self, file: Option<String>, defs: Definitions) {
        let env = defs.environment;
        if env.timezone.is_some() || env.max_concurrent_jobs.is_some() {
            if self.environment_file.is_some() && self.defs.environment != env {
                self.read_errors.push(Diagnostic {
                    file: file.clone(),
                    object: "environment".into(),
                    field: String::new(),
                    message: format!(
                        "environment settings are also given in {}; give them in one file only",
                        self.environment_file.clone().unwrap_or_default()
                    ),
                });
            } else {
                self.defs.environment = env;
                self.environment_file = file.clone();
            }
        }
        for c in defs.calendars {
            self.defs.calendars.push(c);
            self.calendar_files.push(file.clone());
        }
        self.defs.templates.extend(defs.templates);
        self.defs.variables.extend(defs.variables);
        for p in defs.projects {
            self.defs.projects.push(p);
            self.project_files.push(file.clone());
        }
        for j in defs.jobnets {
            self.defs.jobnets.push(j);
            self.jobnet_files.push(file.clone());
        }
    }

    /// Every problem: read errors first, then validation of the whole.
    pub fn diagnostics(&self, opts: validate::Options) -> Vec<Diagnostic> {
        let mut all = self.read_errors.clone();
        all.extend(validate::validate(self, opts));
        all
    }

    /// Validate and compile. Fails with every problem found.
    pub fn compile(&self) -> Result<Environment, Vec<Diagnostic>> {
        self.compile_with(validate::Options::default())
    }

    /// Validate with `opts` and compile.
    pub fn compile_with(&self, opts: validate::Options) -> Result<Environment, Vec<Diagnostic>> {
        let diags = self.diagnostics(opts);
        if !diags.is_empty() {
            return Err(diags);
        }
        Ok(Environment::from_valid(&self.defs))
    }
}

/// Name of the built-in calendar.
pub const SYSTEM_CALENDAR: &str = "SYSTEM_CALENDAR";

/// Key of a jobnet: project and jobnet name. Written `PROJECT/JOBNET`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobnetKey {
    /// Project name.
    pub project: Arc<str>,
    /// Jobnet name.
    pub jobnet: Arc<str>,
}

impl JobnetKey {
    /// A key from names.
    pub fn new(project: &str, jobnet: &str) -> JobnetKey {
        JobnetKey { project: project.into(), jobnet: jobnet.into() }
    }

    /// Parse `PROJECT/JOBNET`.
    pub fn parse(s: &str) -> Option<JobnetKey> {
        let (p, n) = s.split_once('/')?;
        (!p.is_empty() && !n.is_empty() && !n.contains('/')).then(|| JobnetKey::new(p, n))
    }
}

impl Serialize for JobnetKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for JobnetKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        JobnetKey::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("expected PROJECT/JOBNET, got {s:?}")))
    }
}

impl fmt::Display for JobnetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.project, self.jobnet)
    }
}

/// Validated definitions, indexed for the engine.
#[derive(Clone, Debug)]
pub struct Environment {
    /// Time zone of all wall-clock rules.
    pub tz: Tz,
    /// Limit on simultaneously executing jobs.
    pub max_concurrent_jobs: u32,
    /// Calendars by name (SYSTEM_CALENDAR always present).
    pub calendars: BTreeMap<String, CalendarDef>,
    /// Job-definition variables.
    pub variables: BTreeMap<String, String>,
    /// Jobnet definitions by key.
    pub jobnets: BTreeMap<JobnetKey, Arc<JobnetDef>>,
    /// Linked jobnets: linked name → master name (same project).
    pub links: BTreeMap<JobnetKey, JobnetKey>,
    /// Startup-day templates by name.
    pub templates: crate::startup::Templates,
}

impl Environment {
    /// Index definitions that passed validation (references resolve, no cycles).
    pub fn from_valid(defs: &Definitions) -> Environment {
        let tz =
            defs.environment.timezone.as_deref().and_then(|s| s.parse::<Tz>().ok()).unwrap_or(chrono_tz::Asia::Tokyo);
        let mut calendars = BTreeMap::new();
        calendars.insert(
            SYSTEM_CALENDAR.to_string(),
            CalendarDef { name: SYSTEM_CALENDAR.into(), day_change: Default::default(), holidays: vec![] },
        );
        for c in &defs.calendars {
            calendars.insert(c.name.clone(), c.clone());
        }
        let mut jobnets = BTreeMap::new();
        let mut links = BTreeMap::new();
        for n in &defs.jobnets {
            for j in &n.jobs {
                if let (crate::model::JobKind::LinkedJobnet, Some(name), Some(master)) = (j.kind, &j.jobnet, &j.master)
                {
                    links.insert(JobnetKey::new(&n.project, name), JobnetKey::new(&n.project, master));
                }
            }
            jobnets.insert(JobnetKey::new(&n.project, &n.name), Arc::new(n.clone()));
        }
        Environment {
            tz,
            max_concurrent_jobs: defs.environment.max_concurrent_jobs.unwrap_or(limits::DEFAULT_MAX_CONCURRENT_JOBS),
            calendars,
            variables: defs.variables.clone(),
            jobnets,
            links,
            templates: crate::startup::templates_of(&defs.templates),
        }
    }

    /// The definition that runs under `key`: the jobnet itself, or the master of a linked jobnet.
    pub fn definition_of(&self, key: &JobnetKey) -> Option<&Arc<JobnetDef>> {
        match self.links.get(key) {
            Some(master) => self.jobnets.get(master),
            None => self.jobnets.get(key),
        }
    }
}
