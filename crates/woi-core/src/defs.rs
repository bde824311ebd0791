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

/// One part of a file that could not be read: the object, the field (the
/// path inside the object, e.g. `start.times[1]`) and the error.
type PartError = (String, String, String);

/// Deserialize `de`, keeping the path of the value that did not fit.
fn read_part<'de, T, D>(de: D) -> Result<T, (String, String)>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
    D::Error: fmt::Display,
{
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        (path, e.inner().to_string().trim_end().to_string())
    })
}

/// The object and field of an error at `path` inside jobnet `name`: a path
/// into the jobnet's `job` array names the job by its number.
fn object_and_field(name: &str, path: &str, job_number: impl Fn(usize) -> Option<i64>) -> (String, String) {
    let job = path
        .strip_prefix("job[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(i, rest)| Some((i.parse::<usize>().ok()?, rest.strip_prefix('.').unwrap_or(rest))));
    match job {
        Some((i, field)) => {
            let job = job_number(i).map_or_else(|| format!("job #{}", i + 1), |n| format!("job {n}"));
            (format!("{name} / {job}"), field.to_string())
        }
        None => (name.to_string(), path.to_string()),
    }
}

/// Read a file whose values do not all fit the model object by object: the
/// jobnets one at a time, then the rest. Returns what could be read and, for
/// each part that could not, its object, field and error. `None` when the
/// text is not syntactically valid at all.
fn parse_by_object(text: &str, format: Format) -> Option<(Definitions, Vec<PartError>)> {
    fn name_of(project: Option<&str>, name: Option<&str>) -> String {
        match (project, name) {
            (Some(p), Some(n)) => format!("project {p} / jobnet {n}"),
            (None, Some(n)) => format!("jobnet {n}"),
            _ => "jobnet".to_string(),
        }
    }
    let mut errors = Vec::new();
    let (mut defs, jobnets) = match format {
        Format::Toml => {
            let mut table: toml::Table = toml::from_str(text).ok()?;
            let jobnets = match table.remove("jobnet") {
                Some(toml::Value::Array(a)) => a,
                Some(other) => vec![other],
                None => Vec::new(),
            };
            let defs = read_part::<Definitions, _>(toml::Value::Table(table)).unwrap_or_else(|(field, e)| {
                errors.push((String::new(), field, e));
                Definitions::default()
            });
            let mut read = Vec::new();
            for v in jobnets {
                let name = name_of(
                    v.get("project").and_then(toml::Value::as_str),
                    v.get("name").and_then(toml::Value::as_str),
                );
                let jobs = v.get("job").and_then(toml::Value::as_array).cloned().unwrap_or_default();
                match read_part::<JobnetDef, _>(v) {
                    Ok(j) => read.push(j),
                    Err((path, e)) => {
                        let number = |i: usize| jobs.get(i)?.get("number")?.as_integer();
                        let (object, field) = object_and_field(&name, &path, number);
                        errors.push((object, field, e));
                    }
                }
            }
            (defs, read)
        }
        Format::Json => {
            let mut value: serde_json::Value = serde_json::from_str(text).ok()?;
            let jobnets = match value.as_object_mut().and_then(|o| o.remove("jobnet")) {
                Some(serde_json::Value::Array(a)) => a,
                Some(other) => vec![other],
                None => Vec::new(),
            };
            let defs = read_part::<Definitions, _>(value).unwrap_or_else(|(field, e)| {
                errors.push((String::new(), field, e));
                Definitions::default()
            });
            let mut read = Vec::new();
            for v in jobnets {
                let name = name_of(
                    v.get("project").and_then(serde_json::Value::as_str),
                    v.get("name").and_then(serde_json::Value::as_str),
                );
                let jobs = v.get("job").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
                match read_part::<JobnetDef, _>(v) {
                    Ok(j) => read.push(j),
                    Err((path, e)) => {
                        let number = |i: usize| jobs.get(i)?.get("number")?.as_i64();
                        let (object, field) = object_and_field(&name, &path, number);
                        errors.push((object, field, e));
                    }
                }
            }
            (defs, read)
        }
    };
    defs.jobnets.extend(jobnets);
    Some((defs, errors))
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
        let format = Format::from_name(file);
        let message = match parse(text, format) {
            Ok(defs) => return self.add(Some(file.to_string()), defs),
            Err(message) => message,
        };
        // A value that does not fit (e.g. `time = "25:00"`) must not hide the
        // other problems of the file: read it object by object, report each
        // broken jobnet by name and still check everything else.
        match parse_by_object(text, format) {
            Some((defs, errors)) if !errors.is_empty() => {
                // The whole-file message says where the first problem is.
                let at = message.lines().next().unwrap_or_default().to_string();
                for (i, (object, field, e)) in errors.into_iter().enumerate() {
                    let e = e.split_whitespace().collect::<Vec<_>>().join(" ");
                    let message = if i == 0 && at != e && !e.contains(&at) { format!("{e} ({at})") } else { e };
                    self.read_errors.push(Diagnostic { file: Some(file.to_string()), object, field, message });
                }
                self.add(Some(file.to_string()), defs);
            }
            _ => self.read_errors.push(Diagnostic {
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
    /// The generated copies of the child jobnets below linked jobnets, by
    /// generated key (spec 01 §3.6; the naming is \[design\], open question
    /// 12): inside linked jobnet `L`, every child jobnet icon of the master's
    /// flow that runs `C` — and, recursively, every child icon below it —
    /// runs the jobnet `{L}_{C}` (see [`linked_child_name`]) with `C`'s
    /// definition, so that each linked copy has lower levels of its own.
    pub linked_children: BTreeMap<JobnetKey, LinkedChild>,
    /// Startup-day templates by name.
    pub templates: crate::startup::Templates,
}

/// A generated copy of a child jobnet below a linked jobnet (see
/// [`Environment::linked_children`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedChild {
    /// The linked jobnet the copy belongs to (`L` of `{L}_{C}`).
    pub linked: JobnetKey,
    /// The child jobnet whose definition the copy runs (`C` of `{L}_{C}`).
    pub child: JobnetKey,
}

/// The name of the copy of child jobnet `child` below linked jobnet `linked`:
/// `{linked}_{child}` (\[design\], spec 01 §3.6 and open question 12). The
/// copies of grandchildren use the linked jobnet's name too (`{L}_{G}`, not
/// `{L}_{C}_{G}`).
pub fn linked_child_name(linked: &str, child: &str) -> String {
    format!("{linked}_{child}")
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
        let linked_children = linked_children_of(&jobnets, &links);
        Environment {
            tz,
            max_concurrent_jobs: defs.environment.max_concurrent_jobs.unwrap_or(limits::DEFAULT_MAX_CONCURRENT_JOBS),
            calendars,
            variables: defs.variables.clone(),
            jobnets,
            links,
            linked_children,
            templates: crate::startup::templates_of(&defs.templates),
        }
    }

    /// The definition that runs under `key`: the jobnet itself, the master of
    /// a linked jobnet, or the child jobnet a generated copy below a linked
    /// jobnet copies ([`Environment::linked_children`]).
    pub fn definition_of(&self, key: &JobnetKey) -> Option<&Arc<JobnetDef>> {
        self.jobnets.get(self.source_of(key))
    }

    /// The key of the jobnet definition that runs under `key`: the master of
    /// a linked jobnet, the child jobnet of a generated copy, else `key`.
    pub fn source_of<'a>(&'a self, key: &'a JobnetKey) -> &'a JobnetKey {
        self.links.get(key).or_else(|| self.linked_children.get(key).map(|c| &c.child)).unwrap_or(key)
    }

    /// The linked jobnet that `key` is or belongs to: `key` for a linked
    /// jobnet, `L` for a generated copy `{L}_{C}` below it, else `None`.
    pub fn linked_root<'a>(&'a self, key: &'a JobnetKey) -> Option<&'a JobnetKey> {
        match self.links.get_key_value(key) {
            Some((k, _)) => Some(k),
            None => self.linked_children.get(key).map(|c| &c.linked),
        }
    }

    /// Whether `key` is a linked jobnet or a generated copy below one: it
    /// runs another jobnet's definition and is not edited directly (0447).
    pub fn is_linked_copy(&self, key: &JobnetKey) -> bool {
        self.links.contains_key(key) || self.linked_children.contains_key(key)
    }

    /// The jobnet that a jobnet icon naming `target` runs when it belongs to
    /// the flow running under `parent`: inside a linked jobnet `L` (or a
    /// generated copy below it) a child icon runs `{L}_{target}`; anywhere
    /// else it runs `target` (same project as `parent`).
    pub fn child_key(&self, parent: &JobnetKey, target: &str) -> JobnetKey {
        match self.linked_root(parent) {
            Some(l) => JobnetKey::new(&parent.project, &linked_child_name(&l.jobnet, target)),
            None => JobnetKey::new(&parent.project, target),
        }
    }

    /// Every key a jobnet runs under: defined jobnets, linked jobnets and
    /// the generated copies below them, each once, in key order within each
    /// kind.
    pub fn run_keys(&self) -> impl Iterator<Item = &JobnetKey> + '_ {
        self.jobnets.keys().chain(self.links.keys()).chain(self.linked_children.keys())
    }
}

/// The generated copies below every linked jobnet (see
/// [`Environment::linked_children`]): the child icons of the master's flow,
/// then of each copied child, level by level. Definitions passed
/// validation, so there are no cycles; a visited set keeps this finite
/// anyway, and a missing child is skipped.
fn linked_children_of(
    jobnets: &BTreeMap<JobnetKey, Arc<JobnetDef>>,
    links: &BTreeMap<JobnetKey, JobnetKey>,
) -> BTreeMap<JobnetKey, LinkedChild> {
    let mut out = BTreeMap::new();
    for (linked, master) in links {
        let mut seen = std::collections::BTreeSet::from([master.clone()]);
        let mut todo = vec![master.clone()];
        while let Some(key) = todo.pop() {
            let Some(def) = jobnets.get(&key) else { continue };
            for j in def.jobs.iter().filter(|j| j.kind == crate::model::JobKind::ChildJobnet) {
                let Some(target) = j.jobnet.as_deref() else { continue };
                let child = JobnetKey::new(&key.project, target);
                if !jobnets.contains_key(&child) || !seen.insert(child.clone()) {
                    continue;
                }
                let generated = JobnetKey::new(&linked.project, &linked_child_name(&linked.jobnet, target));
                out.insert(generated, LinkedChild { linked: linked.clone(), child: child.clone() });
                todo.push(child);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every problem is reported, with its object: a value that does not fit
    // the model (`time = "25:00"`) no longer hides the other problems of its
    // file, in TOML and JSON.
    #[test]
    fn a_value_error_names_its_jobnet_and_hides_nothing_else() {
        let toml = r#"
[[jobnet]]
project = "QB"
name = "ONE"
start = { time = "25:00" }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "QB"
name = "TWO"
[[jobnet.job]]
number = 1
command = "true"
normal_limit = 230
"#;
        let json = r#"{"jobnet": [
            {"project": "QB", "name": "ONE", "start": {"time": "25:00"}, "job": [{"number": 1, "command": "true"}]},
            {"project": "QB", "name": "TWO", "job": [{"number": 1, "command": "true", "normal_limit": 230}]}
        ]}"#;
        for (file, text) in [("a.toml", toml), ("a.json", json)] {
            let mut cat = Catalog::new();
            cat.add_text(file, text);
            let Err(diags) = cat.compile() else { panic!("{file}: both problems must be found") };
            let all: Vec<String> = diags.iter().map(ToString::to_string).collect();
            assert_eq!(all.len(), 2, "{file}: {all:#?}");
            assert!(all.iter().any(|d| d.contains("project QB / jobnet ONE") && d.contains("25:00")), "{all:#?}");
            assert!(
                all.iter().any(|d| d.contains("project QB / jobnet TWO / job 1") && d.contains("normal_limit")),
                "{all:#?}"
            );
        }
        // Each names its field: the path inside the jobnet, or inside the job
        // named by its number.
        let toml = r#"
[[jobnet]]
project = "QB"
name = "ONE"
start = { times = ["08:00", "24:30"] }
[[jobnet.job]]
number = 1
command = "true"

[[jobnet]]
project = "QB"
name = "TWO"
[[jobnet.job]]
number = 1
command = "true"
[[jobnet.job]]
number = 7
command = "true"
after = "one"
"#;
        let json = r#"{"jobnet": [
            {"project": "QB", "name": "ONE", "start": {"times": ["08:00", "24:30"]}, "job": [{"number": 1, "command": "true"}]},
            {"project": "QB", "name": "TWO", "job": [{"number": 1, "command": "true"}, {"number": 7, "command": "true", "after": "one"}]}
        ]}"#;
        for (file, text) in [("c.toml", toml), ("c.json", json)] {
            let mut cat = Catalog::new();
            cat.add_text(file, text);
            let mut got: Vec<(String, String)> =
                cat.read_errors.iter().map(|d| (d.object.clone(), d.field.clone())).collect();
            got.sort();
            let want = [("project QB / jobnet ONE", "start.times[1]"), ("project QB / jobnet TWO / job 7", "after")];
            assert_eq!(got, want.map(|(o, f)| (o.to_string(), f.to_string())), "{file}: {:#?}", cat.read_errors);
        }
        // A syntax error is still one error for the whole file.
        let mut cat = Catalog::new();
        cat.add_text("b.toml", "[[jobnet]\nproject = ");
        assert_eq!(cat.read_errors.len(), 1);
        assert!(cat.read_errors[0].object.is_empty());
    }
}

#[cfg(test)]
mod environment_tests {
    use super::*;

    fn env(text: &str) -> Environment {
        let mut cat = Catalog::new();
        cat.add_text("t.toml", text);
        cat.compile().expect("valid")
    }

    // Spec 01 §3.6 [design] (open question 12): inside linked jobnet L of
    // master M, child C of M runs as `{L}_{C}` and grandchild G as `{L}_{G}`,
    // each with its source's definition; elsewhere an icon runs its target.
    #[test]
    fn spec_3_6_linked_jobnets_get_generated_copies_of_every_child_level() {
        let env = env(r#"
            [[jobnet]]
            project = "P"
            name = "M"
            [[jobnet.job]]
            number = 1
            kind = "child_jobnet"
            jobnet = "C"
            [[jobnet]]
            project = "P"
            name = "C"
            [[jobnet.job]]
            number = 1
            kind = "child_jobnet"
            jobnet = "G"
            [[jobnet]]
            project = "P"
            name = "G"
            [[jobnet.job]]
            number = 1
            command = "g"
            [[jobnet]]
            project = "P"
            name = "TOP"
            [[jobnet.job]]
            number = 1
            kind = "linked_jobnet"
            jobnet = "L"
            master = "M"
        "#);
        let key = |n: &str| JobnetKey::new("P", n);
        let generated: Vec<(&JobnetKey, &LinkedChild)> = env.linked_children.iter().collect();
        assert_eq!(
            generated,
            vec![
                (&key("L_C"), &LinkedChild { linked: key("L"), child: key("C") }),
                (&key("L_G"), &LinkedChild { linked: key("L"), child: key("G") }),
            ]
        );
        assert_eq!(env.definition_of(&key("L_C")).map(|d| d.name.as_str()), Some("C"));
        assert_eq!(env.definition_of(&key("L_G")).map(|d| d.name.as_str()), Some("G"));
        assert_eq!(env.definition_of(&key("L")).map(|d| d.name.as_str()), Some("M"));
        assert_eq!(env.child_key(&key("L"), "C"), key("L_C"));
        assert_eq!(env.child_key(&key("L_C"), "G"), key("L_G"));
        assert_eq!(env.child_key(&key("M"), "C"), key("C"));
        assert_eq!(env.child_key(&key("TOP"), "L"), key("L"));
        assert_eq!(env.linked_root(&key("L_G")), Some(&key("L")));
        assert!(env.is_linked_copy(&key("L_C")) && env.is_linked_copy(&key("L")) && !env.is_linked_copy(&key("C")));
        assert_eq!(env.run_keys().count(), 4 + 1 + 2);
        assert!(!env.jobnets.contains_key(&key("L_C")), "generated copies are not definitions");
    }
}
