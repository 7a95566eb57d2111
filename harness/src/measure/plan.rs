//! The plan of a comparison (what `lab compare`, `lab run` and `lab overhead` measure): the
//! names resolved against the registry, every combination checked before the first
//! measurement, then each one measured `count` times and its runs folded into rows.

use crate::error::LabError;
use crate::measure::progress::Progress;
use crate::measure::runner::{Measurement, Settings};
use crate::output::results::Row;
use crate::subjects::registry::{self, Subject};
use crate::subjects::Failure;
use crate::workloads::WorkloadInfo;
use schedcore::{LockKind, StackGuard};
use std::time::Duration;

/// What to run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Schedulers then peers: the table's columns, the first is the baseline.
    pub subjects: Vec<Subject>,
    pub benches: Vec<&'static WorkloadInfo>,
    pub procs: Vec<usize>,
    pub benchtime: Duration,
    pub count: usize,
    /// The machine's cores, to flag oversubscribed rows.
    pub cores: usize,
    /// How long a CPU hog waits without progress of the others before it gives up.
    pub starve_after: Duration,
    /// The runtime lock of every generation (`None`: each its era's).
    pub lock: Option<LockKind>,
    /// Steps of local work in each syscall of the `*-work` workloads.
    pub work: u64,
    /// How the guard page under each goroutine stack is made.
    pub stack_guard: StackGuard,
    /// The live-goroutine limit of every runtime (`None`: what memory allows).
    pub max_goroutines: Option<usize>,
}

impl Plan {
    /// Resolves names (an empty list of schedulers means every one, an empty list of workloads
    /// the core set) and checks procs against every subject's limit.
    pub fn new(
        scheds: &[String],
        benches: &[String],
        peers: &[String],
        procs: Vec<usize>,
        benchtime: Duration,
        count: usize,
        cores: usize,
    ) -> Result<Plan, LabError> {
        let mut subjects: Vec<Subject> = Vec::new();
        if scheds.is_empty() {
            subjects.extend(registry::SCHEDULERS.iter().map(Subject::Sched));
        }
        for name in scheds {
            let s = registry::scheduler(name).ok_or_else(|| LabError::UnknownName {
                kind: "scheduler",
                name: name.clone(),
                known: registry::SCHEDULERS.iter().map(|s| s.name).collect(),
            })?;
            subjects.push(Subject::Sched(s));
        }
        for name in peers {
            let p = registry::peer(name).ok_or_else(|| LabError::UnknownName {
                kind: "peer",
                name: name.clone(),
                known: registry::PEERS.iter().map(|p| p.name).collect(),
            })?;
            subjects.push(Subject::Peer(p));
        }
        let mut seen = Vec::new();
        subjects.retain(|s| {
            let new = !seen.contains(&s.name());
            seen.push(s.name());
            new
        });
        let ws = workloads(benches)?;
        check(&procs, benchtime, count)?;
        for s in &subjects {
            if let Some(&p) = procs.iter().find(|&&p| p > s.max_procs()) {
                return Err(LabError::ProcsOverLimit {
                    sched: s.name(),
                    procs: p,
                    max: s.max_procs(),
                });
            }
        }
        Ok(Plan {
            subjects,
            benches: ws,
            procs,
            benchtime,
            count,
            cores,
            starve_after: crate::workloads::DEFAULT_STARVE_AFTER,
            lock: None,
            work: crate::workloads::LOCAL_WORK,
            stack_guard: StackGuard::Auto,
            max_goroutines: None,
        })
    }

    /// How many measurements the plan makes (at most: a peer's n/a is known after one try).
    pub fn measurements(&self) -> usize {
        self.subjects.len() * self.benches.len() * self.procs.len() * self.count
    }

    /// The lock each scheduler column runs on, by column name (peers have none).
    pub fn locks(&self) -> std::collections::BTreeMap<String, String> {
        self.subjects
            .iter()
            .filter_map(|s| Some((s.name().to_string(), s.lock(self.lock)?.name().to_string())))
            .collect()
    }

    /// The names of the columns.
    pub fn columns(&self) -> Vec<String> {
        self.subjects.iter().map(|s| s.name().to_string()).collect()
    }

    /// Runs every combination: for each workload and procs, the runs of all subjects are
    /// interleaved (run 1 of each, then run 2 of each...) so a slow spell of the machine hits
    /// every column alike. The first failed run stops everything; after a starved run, a
    /// subject's other runs of that combination are skipped (they would starve alike). Each
    /// row carries the p-value of its runs against the first column's.
    pub fn run(&self, progress: &Progress) -> Result<Vec<Row>, LabError> {
        let columns: Vec<Column> = self
            .subjects
            .iter()
            .map(|&s| Column {
                name: s.name().to_string(),
                subject: s,
                lock: None,
            })
            .collect();
        let mut rows = Vec::new();
        for &bench in &self.benches {
            for &procs in &self.procs {
                let settings = Settings {
                    starve_after: self.starve_after,
                    lock: self.lock,
                    work: self.work,
                    stack_guard: self.stack_guard,
                    max_goroutines: self.max_goroutines,
                    ..Settings::new(procs, self.benchtime)
                };
                rows.extend(run_columns(
                    &columns, bench, &settings, self.count, self.cores, progress,
                )?);
            }
        }
        crate::output::results::set_p_values(&mut rows, &self.columns());
        Ok(rows)
    }
}

/// The workloads named (an empty list: the core set), each once, in the order given.
pub fn workloads(names: &[String]) -> Result<Vec<&'static WorkloadInfo>, LabError> {
    let mut ws: Vec<&'static WorkloadInfo> = Vec::new();
    if names.is_empty() {
        ws.extend(registry::WORKLOADS.iter().filter(|w| w.core));
    }
    for name in names {
        let w = registry::workload(name).ok_or_else(|| LabError::UnknownName {
            kind: "workload",
            name: name.clone(),
            known: registry::WORKLOADS.iter().map(|w| w.name).collect(),
        })?;
        if !ws.iter().any(|x| x.name == w.name) {
            ws.push(w);
        }
    }
    Ok(ws)
}

/// The checks every plan makes of its procs, benchtime and count.
pub fn check(procs: &[usize], benchtime: Duration, count: usize) -> Result<(), LabError> {
    if procs.is_empty() {
        return Err(crate::measure::procs::ProcsError::Empty.into());
    }
    if benchtime.is_zero() {
        return Err(LabError::BadValue("--benchtime must be above zero".into()));
    }
    if count == 0 {
        return Err(LabError::BadValue("--count must be at least 1".into()));
    }
    Ok(())
}

/// A column of a run: its name in the table, what it measures, and the runtime lock it runs
/// on where it differs from the run's (`lab fidelity` runs one port on two locks).
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub subject: Subject,
    pub lock: Option<LockKind>,
}

/// One workload at one procs on every column, `count` runs each, interleaved (run 1 of each,
/// then run 2 of each...) so a slow spell of the machine hits every column alike; a row per
/// column. The first failed run stops everything; after a starved run, a column's other runs
/// are skipped (they would starve alike); a peer's n/a is known after one try.
pub fn run_columns(
    columns: &[Column],
    bench: &'static WorkloadInfo,
    settings: &Settings,
    count: usize,
    cores: usize,
    progress: &Progress,
) -> Result<Vec<Row>, LabError> {
    let procs = settings.procs;
    let n = columns.len();
    let mut runs: Vec<Vec<Measurement>> = vec![Vec::new(); n];
    let mut na: Vec<Option<&'static str>> = vec![None; n];
    for k in 0..count {
        for (i, c) in columns.iter().enumerate() {
            if na[i].is_some() || runs[i].last().is_some_and(|m| m.starved) {
                progress.step();
                continue;
            }
            progress.running(format!(
                "{} at procs {procs} on {} (run {}/{count})",
                bench.name,
                c.name,
                k + 1,
            ));
            let settings = Settings {
                lock: c.lock.or(settings.lock),
                ..settings.clone()
            };
            match c.subject.measure(bench, &settings) {
                Ok(m) => runs[i].push(m),
                Err(Failure::NotApplicable(why)) => na[i] = Some(why),
                Err(Failure::Run(err)) => {
                    return Err(LabError::Run {
                        sched: c.name.clone(),
                        bench: bench.name.to_string(),
                        procs,
                        err,
                    })
                }
            }
            progress.step();
        }
    }
    Ok(columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let peer = c.subject.is_peer();
            match na[i] {
                Some(why) => Row::not_applicable(&c.name, peer, bench, procs, cores, why),
                None => Row::measured(&c.name, peer, bench, procs, cores, &runs[i]),
            }
        })
        .collect())
}
