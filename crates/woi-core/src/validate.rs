//! Validation of definitions: every name, limit and reference of spec 01
//! §2.2, §2.4–2.7 and §2.11. All problems are reported, not only the first;
//! each names the file, the object and the field.

use std::collections::{BTreeMap, BTreeSet};

use crate::defs::{Catalog, Diagnostic};
use crate::model::{JobKind, JobnetDef, StartCondition};
use crate::text::{self, limits};

/// What to enforce.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Enforce the product's size limits (255 jobs per jobnet, …). Benchmarks
    /// and embedders with large synthetic flows may turn this off; references,
    /// cycles and every other rule are always checked.
    pub enforce_limits: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { enforce_limits: true }
    }
}

/// Collects diagnostics for one object.
struct Sink<'a> {
    out: &'a mut Vec<Diagnostic>,
    file: Option<String>,
    object: String,
}

impl Sink<'_> {
    fn err(&mut self, field: &str, message: impl Into<String>) {
        self.out.push(Diagnostic {
            file: self.file.clone(),
            object: self.object.clone(),
            field: field.into(),
            message: message.into(),
        });
    }
}

/// Validate a whole catalog.
pub fn validate(cat: &Catalog, opts: Options) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let defs = &cat.defs;

    if let Some(tz) = &defs.environment.timezone
        && tz.parse::<chrono_tz::Tz>().is_err()
    {
        Sink { out: &mut out, file: cat.environment_file.clone(), object: "environment".into() }
            .err("timezone", format!("unknown IANA time zone {tz:?} (e.g. \"Asia/Tokyo\")"));
    }
    if defs.environment.max_concurrent_jobs == Some(0) {
        Sink { out: &mut out, file: cat.environment_file.clone(), object: "environment".into() }
            .err("max_concurrent_jobs", "must be at least 1");
    }

    // Jobnet keys and duplicates.
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, n) in defs.jobnets.iter().enumerate() {
        let mut s = sink(&mut out, cat, i, n);
        if let Err(m) = text::check_project_name(&n.project) {
            s.err("project", format!("project name {:?} {m}", n.project));
        }
        if let Err(m) = text::check_jobnet_name(&n.name) {
            s.err("name", format!("jobnet name {:?} {m}", n.name));
        }
        if seen.insert((n.project.as_str(), n.name.as_str()), i).is_some() {
            s.err("name", "duplicate jobnet name in this project (import code 2003)");
        }
    }

    for (i, n) in defs.jobnets.iter().enumerate() {
        validate_jobs(&mut sink(&mut out, cat, i, n), n, opts);
    }

    validate_hierarchy(&mut out, cat, &seen);
    out
}

fn sink<'a>(out: &'a mut Vec<Diagnostic>, cat: &Catalog, i: usize, n: &JobnetDef) -> Sink<'a> {
    Sink {
        out,
        file: cat.jobnet_files.get(i).cloned().flatten(),
        object: format!("project {} / jobnet {}", n.project, n.name),
    }
}

fn validate_jobs(s: &mut Sink<'_>, n: &JobnetDef, opts: Options) {
    let jobnet_object = s.object.clone();
    if opts.enforce_limits && n.jobs.len() > limits::JOBS_PER_JOBNET {
        s.err("job", format!("{} jobs; at most {} per jobnet", n.jobs.len(), limits::JOBS_PER_JOBNET));
    }
    let mut numbers = BTreeSet::new();
    for j in &n.jobs {
        s.object = format!("{jobnet_object} / job {}", j.number);
        if j.number == 0 || (opts.enforce_limits && usize::from(j.number) > limits::JOBS_PER_JOBNET) {
            s.err("number", "job numbers are 1-255");
        }
        if !numbers.insert(j.number) {
            s.err("number", "duplicate job number in this jobnet");
        }
    }
    for j in &n.jobs {
        s.object = format!("{jobnet_object} / job {}", j.number);
        for p in &j.after {
            if *p == j.number {
                s.err("after", "a job cannot be its own predecessor");
            } else if !numbers.contains(p) {
                s.err("after", format!("predecessor job {p} does not exist in this jobnet"));
            }
        }
        if j.is_jobnet_icon() && j.jobnet.is_none() {
            s.err("jobnet", format!("a {} job must name the jobnet it runs", j.kind.as_str()));
        }
        if j.kind == JobKind::LinkedJobnet && j.master.is_none() {
            s.err("master", "a linked_jobnet job must name its master-linked jobnet");
        }
        if j.kind == JobKind::Command && j.command.trim().is_empty() {
            s.err("command", "a command job needs a command");
        }
    }
    s.object = jobnet_object;
    if let Some(cycle) = find_cycle(n) {
        s.err("after", format!("the flow has a cycle through jobs {cycle:?}"));
    }
}

/// A cycle among the predecessor links, if any (job numbers on it).
fn find_cycle(n: &JobnetDef) -> Option<Vec<u16>> {
    let preds: BTreeMap<u16, &Vec<u16>> = n.jobs.iter().map(|j| (j.number, &j.after)).collect();
    // 0 = unvisited, 1 = on stack, 2 = done
    let mut state: BTreeMap<u16, u8> = BTreeMap::new();
    for &start in preds.keys() {
        if state.get(&start).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut stack: Vec<(u16, usize)> = vec![(start, 0)];
        state.insert(start, 1);
        while let Some(&mut (node, ref mut i)) = stack.last_mut() {
            let next = preds.get(&node).and_then(|ps| ps.get(*i)).copied();
            *i += 1;
            match next {
                Some(p) if preds.contains_key(&p) => match state.get(&p).copied().unwrap_or(0) {
                    0 => {
                        state.insert(p, 1);
                        stack.push((p, 0));
                    }
                    1 => {
                        let pos = stack.iter().position(|(x, _)| *x == p).unwrap_or(0);
                        return Some(stack[pos..].iter().map(|(x, _)| *x).collect());
                    }
                    _ => {}
                },
                Some(_) => {}
                None => {
                    state.insert(node, 2);
                    stack.pop();
                }
            }
        }
    }
    None
}

fn validate_hierarchy(out: &mut Vec<Diagnostic>, cat: &Catalog, index: &BTreeMap<(&str, &str), usize>) {
    let defs = &cat.defs;
    // Edges: jobnet index → jobnet indexes it runs (child, or master of a link).
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); defs.jobnets.len()];
    for (i, n) in defs.jobnets.iter().enumerate() {
        for j in n.jobs.iter().filter(|j| j.is_jobnet_icon()) {
            let target = match j.kind {
                JobKind::ChildJobnet => j.jobnet.as_deref(),
                _ => j.master.as_deref(),
            };
            let Some(target) = target else { continue };
            let mut s = sink(out, cat, i, n);
            s.object = format!("{} / job {}", s.object, j.number);
            match index.get(&(n.project.as_str(), target)) {
                None if j.kind == JobKind::ChildJobnet => {
                    s.err("jobnet", format!("child jobnet {target:?} does not exist in project {} (0356)", n.project))
                }
                None => s.err(
                    "master",
                    format!("master-linked jobnet {target:?} does not exist in project {} (0450)", n.project),
                ),
                Some(&t) => {
                    if defs.jobnets[t].start != StartCondition::None {
                        let (field, code) =
                            if j.kind == JobKind::ChildJobnet { ("jobnet", "0358") } else { ("master", "0451") };
                        s.err(
                            field,
                            format!("{target:?} must have start condition none to run inside another jobnet ({code})"),
                        );
                    }
                    edges[i].push(t);
                }
            }
        }
    }
    // Cycles and depth (level 1 = a jobnet nobody runs).
    let mut depth_memo: Vec<Option<usize>> = vec![None; defs.jobnets.len()];
    for i in 0..defs.jobnets.len() {
        let mut path = Vec::new();
        if let Err(cycle_at) = depth(i, &edges, &mut depth_memo, &mut path) {
            let n = &defs.jobnets[cycle_at];
            if i == cycle_at {
                sink(out, cat, i, n)
                    .err("job", "the jobnet contains itself through child or linked jobnets (0361 / 3003)");
            }
        }
    }
    let mut has_parent = vec![false; defs.jobnets.len()];
    for e in &edges {
        for &t in e {
            has_parent[t] = true;
        }
    }
    for i in 0..defs.jobnets.len() {
        if !has_parent[i]
            && let Some(d) = depth_memo[i]
            && d > limits::HIERARCHY_DEPTH
        {
            let n = &defs.jobnets[i];
            sink(out, cat, i, n).err(
                "job",
                format!("hierarchy is {d} levels deep; at most {} allowed (0360 / 3003)", limits::HIERARCHY_DEPTH),
            );
        }
    }
}

/// Levels from `i` down (1 = no jobnet icons). `Err(node)` when a cycle reaches `node`.
fn depth(i: usize, edges: &[Vec<usize>], memo: &mut [Option<usize>], path: &mut Vec<usize>) -> Result<usize, usize> {
    if let Some(d) = memo[i] {
        return Ok(d);
    }
    if path.contains(&i) {
        return Err(i);
    }
    path.push(i);
    let mut deepest = 0;
    for &t in &edges[i] {
        deepest = deepest.max(depth(t, edges, memo, path)?);
    }
    path.pop();
    memo[i] = Some(deepest + 1);
    Ok(deepest + 1)
}
