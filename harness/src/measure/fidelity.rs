//! What `lab fidelity` measures: each port beside its real ancestor, built from source (the
//! historical releases of `subjects/history`), in one interleaved run, and what the figures say
//! of the port's fidelity: per cell the port/real ratio, per workload the shape across procs,
//! and every release-to-release delta on the ports beside the same delta on the real releases.
//!
//! The pairs ([`PAIRS`]) run each port on the runtime lock its partner had: the July-2011 pair
//! on `futex2011`, Go 1.0.3 (which already spun) and the later releases on `spin`. A port
//! that appears in two pairs on two locks is two columns (`2011` and `2011+spin`).

use crate::error::LabError;
use crate::measure::plan::{self, Column};
use crate::measure::progress::Progress;
use crate::measure::runner::Settings;
use crate::measure::stats::{mann_whitney_u, Spread, ALPHA};
use crate::output::results::Row;
use crate::subjects::history::profile::{self, Profile, Subsystem};
use crate::subjects::history::release;
use crate::subjects::peers::release::way;
use crate::subjects::registry::{self, Subject};
use crate::workloads::WorkloadInfo;
use schedcore::LockKind;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A port and its real ancestor.
#[derive(Clone, Copy, Debug)]
pub struct Pair {
    /// The port's scheduler (`Scheduler::NAME`).
    pub port: &'static str,
    /// The lock the port runs on: its partner's.
    pub lock: LockKind,
    /// The port's column name in this run.
    pub column: &'static str,
    /// The real release (`history::release` name, a peer of the registry).
    pub real: &'static str,
    /// What the pair is, in a few words.
    pub what: &'static str,
}

const fn pair(
    port: &'static str,
    lock: LockKind,
    column: &'static str,
    real: &'static str,
    what: &'static str,
) -> Pair {
    Pair {
        port,
        lock,
        column,
        real,
        what,
    }
}

/// Every pair, in history's order: the seed's own two sides first.
pub const PAIRS: &[Pair] = &[
    pair(
        "2011-lock",
        LockKind::Futex2011,
        "2011-lock",
        "go2011-before",
        "seed 002's old side: the schedlock on every syscall (July 2011, before CL 4723042)",
    ),
    pair(
        "2011",
        LockKind::Futex2011,
        "2011",
        "go2011-cl",
        "seed 002 itself: CL 4723042's lock-free syscall fast paths (July 2011)",
    ),
    pair(
        "2011",
        LockKind::Spin,
        "2011+spin",
        "go1.0.3",
        "the 2011 generation as released in Go 1.0.3, on its spinning lock",
    ),
    pair(
        "2013",
        LockKind::Spin,
        "2013",
        "go1.1.2",
        "G-M-P as released in Go 1.1.2",
    ),
    pair(
        "2014",
        LockKind::Spin,
        "2014",
        "go1.4.3",
        "lock-free run queues, preemption and Gscan as released in Go 1.4.3",
    ),
];

/// The seed's pairs (2011-lock against the tree before the CL, 2011 against the CL), whose
/// table is the first thing the output shows.
pub const SEED: (usize, usize) = (0, 1);

/// A release-to-release step: from one pair to a later one, on both sides.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub from: usize,
    pub to: usize,
}

/// The steps compared: 2011 -> 2013, 2013 -> 2014 and 2011 -> 2014.
pub const STEPS: &[Step] = &[
    Step { from: 2, to: 3 },
    Step { from: 3, to: 4 },
    Step { from: 2, to: 4 },
];

impl Step {
    /// `2011+spin -> 2013`.
    pub fn port_name(&self) -> String {
        format!("{} -> {}", PAIRS[self.from].column, PAIRS[self.to].column)
    }
    /// `go1.0.3 -> go1.1.2`.
    pub fn real_name(&self) -> String {
        format!("{} -> {}", PAIRS[self.from].real, PAIRS[self.to].real)
    }
}

/// The columns of a fidelity run, ports then releases, in [`PAIRS`]' order.
pub fn columns() -> Vec<String> {
    let mut c: Vec<String> = PAIRS.iter().map(|p| p.column.to_string()).collect();
    c.extend(PAIRS.iter().map(|p| p.real.to_string()));
    c
}

/// The lock of every port column, by column name (for the results' `locks`).
pub fn locks() -> std::collections::BTreeMap<String, String> {
    PAIRS
        .iter()
        .map(|p| (p.column.to_string(), p.lock.name().to_string()))
        .collect()
}

/// The pairs that share `bench` with `settings`: those whose release can measure it (every
/// port has every workload), or why none does.
pub fn pairs_for(bench: &WorkloadInfo, settings: &Settings) -> Vec<usize> {
    (0..PAIRS.len())
        .filter(|&i| {
            let r = release::by_name(PAIRS[i].real).expect("every pair's release is known");
            way(r, bench, settings).is_ok()
        })
        .collect()
}

/// What a fidelity run measures.
#[derive(Clone, Debug)]
pub struct FidelityPlan {
    pub benches: Vec<&'static WorkloadInfo>,
    pub procs: Vec<usize>,
    pub benchtime: Duration,
    pub count: usize,
    pub cores: usize,
    /// Steps of local work in the `*-work` workloads (a release's own benchmark has 100).
    pub work: u64,
    /// Workloads no pair shares, with the reason (left out of the run).
    pub left_out: Vec<(&'static str, String)>,
}

impl FidelityPlan {
    /// Resolves the workloads (empty: the core set) and drops those no pair shares.
    pub fn new(
        benches: &[String],
        procs: Vec<usize>,
        benchtime: Duration,
        count: usize,
        cores: usize,
        work: u64,
    ) -> Result<FidelityPlan, LabError> {
        let ws = plan::workloads(benches)?;
        plan::check(&procs, benchtime, count)?;
        let mut plan = FidelityPlan {
            benches: Vec::new(),
            procs,
            benchtime,
            count,
            cores,
            work,
            left_out: Vec::new(),
        };
        for w in ws {
            if pairs_for(w, &plan.settings(1)).is_empty() {
                let r = release::by_name("go1.4.3").expect("known");
                let why = way(r, w, &plan.settings(1))
                    .err()
                    .unwrap_or("no release measures it");
                plan.left_out.push((w.name, why.to_string()));
            } else {
                plan.benches.push(w);
            }
        }
        if plan.benches.is_empty() {
            return Err(LabError::BadValue(
                "no workload given is one a port shares with its real ancestor".into(),
            ));
        }
        Ok(plan)
    }

    /// The settings of every measurement at `procs` (the lock is set per column).
    pub fn settings(&self, procs: usize) -> Settings {
        Settings {
            work: self.work,
            ..Settings::new(procs, self.benchtime)
        }
    }

    /// The columns measured on `bench`: the ports of the pairs that share it, on their
    /// partners' locks, then the releases.
    fn columns(&self, bench: &WorkloadInfo) -> Vec<Column> {
        let pairs = pairs_for(bench, &self.settings(1));
        let ports = pairs.iter().map(|&i| {
            let p = &PAIRS[i];
            let s = registry::scheduler(p.port).expect("every pair's port is a scheduler");
            Column {
                name: p.column.to_string(),
                subject: Subject::Sched(s),
                lock: Some(p.lock),
            }
        });
        let reals = pairs.iter().map(|&i| {
            let p = &PAIRS[i];
            let r = registry::peer(p.real).expect("every release is a peer");
            Column {
                name: p.real.to_string(),
                subject: Subject::Peer(r),
                lock: None,
            }
        });
        ports.chain(reals).collect()
    }

    /// How many measurements the plan makes (at most).
    pub fn measurements(&self) -> usize {
        self.benches
            .iter()
            .map(|b| self.columns(b).len())
            .sum::<usize>()
            * self.procs.len()
            * self.count
    }

    /// Runs every combination, interleaved as `lab compare` does (run k of every column, then
    /// run k + 1); the first failed run stops everything.
    pub fn run(&self, progress: &Progress) -> Result<Vec<Row>, LabError> {
        let mut rows = Vec::new();
        for &bench in &self.benches {
            let columns = self.columns(bench);
            for &procs in &self.procs {
                rows.extend(plan::run_columns(
                    &columns,
                    bench,
                    &self.settings(procs),
                    self.count,
                    self.cores,
                    progress,
                )?);
            }
        }
        Ok(rows)
    }
}

/// A median and its runs' range.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct Figure {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: usize,
}

impl Figure {
    fn of(row: &Row) -> Option<Figure> {
        Some(Figure {
            median: row.ns_per_op?,
            min: row.min?,
            max: row.max?,
            runs: row.runs.len(),
        })
    }

    /// ± the larger distance from the median to min or max, as a fraction of the median.
    pub fn spread(&self) -> f64 {
        Spread {
            median: self.median,
            min: self.min,
            max: self.max,
            median_run: 0,
        }
        .rel_spread()
    }
}

/// One workload at one procs of one pair.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Cell {
    pub pair: usize,
    pub bench: String,
    pub go_name: String,
    pub procs: usize,
    pub port: Figure,
    pub real: Figure,
    /// Port over real, of the medians.
    pub ratio: f64,
    /// The Mann-Whitney U test of the port's runs against the real runs.
    pub p_value: Option<f64>,
    /// How the real figure was produced (the release's own benchmark or the lab's program).
    pub real_method: Option<String>,
}

/// Tolerance of a shape: port and real within ±30% of each other.
pub const SHAPE_TOLERANCE: f64 = 0.30;

/// How a workload's ns/op changes from procs 1 to procs N, on both sides of a pair.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Shape {
    pub pair: usize,
    pub bench: String,
    pub go_name: String,
    pub procs: usize,
    /// ns/op at procs over ns/op at procs 1.
    pub port: f64,
    pub real: f64,
    /// `port / real` within ±[`SHAPE_TOLERANCE`].
    pub within: bool,
    /// Both go the same way from procs 1 (both up, both down, or both flat within 5%).
    pub same_direction: bool,
}

/// One release-to-release delta on both sides.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Delta {
    /// Index into [`STEPS`].
    pub step: usize,
    pub bench: String,
    pub go_name: String,
    pub procs: usize,
    /// `to / from - 1` of the medians, on the ports.
    pub port: f64,
    pub port_p: Option<f64>,
    /// The same on the real releases.
    pub real: f64,
    pub real_p: Option<f64>,
    /// Significant (p < ALPHA) on both sides: only then do the signs count.
    pub significant: bool,
    /// Whether the signs agree (where significant).
    pub agree: Option<bool>,
}

/// The seed's table: real before and CL beside 2011-lock and 2011, at one procs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SeedRow {
    pub bench: String,
    pub go_name: String,
    pub procs: usize,
    pub real_before: Figure,
    pub real_cl: Figure,
    pub real_delta: f64,
    pub real_p: Option<f64>,
    pub port_before: Figure,
    pub port_cl: Figure,
    pub port_delta: f64,
    pub port_p: Option<f64>,
}

/// k of n.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Count {
    pub k: usize,
    pub n: usize,
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} of {}", self.k, self.n)
    }
}

/// The summary at the top.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
pub struct Summary {
    /// Cells where the port is at or below its real ancestor.
    pub at_or_below: Count,
    /// Shapes within ±30%.
    pub shapes_within: Count,
    /// Shapes in the same direction.
    pub shapes_same_direction: Count,
    /// Release deltas whose signs agree, of those significant on both sides.
    pub deltas_agree: Count,
    /// Release deltas left out as not significant on one side or both.
    pub deltas_left_out: usize,
    /// History's significant deltas that the ports reproduce (significant, same sign), of all
    /// of history's significant deltas: the other side of `deltas_agree`, which counts only
    /// where the ports moved too.
    #[serde(default)]
    pub history_reproduced: Count,
    /// Seed-table deltas whose signs agree, of those significant on both sides.
    pub seed_agree: Count,
}

/// Everything `lab fidelity` concludes from a run's rows (`fidelity.json`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Fidelity {
    pub cpu: String,
    pub cores: usize,
    /// (port column, lock, release, what) of every pair, in [`PAIRS`]' order.
    pub pairs: Vec<(String, String, String, String)>,
    pub summary: Summary,
    pub seed: Vec<SeedRow>,
    pub cells: Vec<Cell>,
    pub shapes: Vec<Shape>,
    pub deltas: Vec<Delta>,
    /// (`STEPS` index, ports' name, releases' name).
    pub steps: Vec<(usize, String, String)>,
    /// Workloads no pair shares, with the reason.
    pub left_out: Vec<(String, String)>,
    /// With `--profile`: every release delta split by runtime subsystem (see [`split`]).
    #[serde(default)]
    pub splits: Vec<Split>,
}

/// A release-to-release delta of the real runtimes split by subsystem (`perf`, one run of
/// each release), beside the ports' delta of the same step.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Split {
    pub step: usize,
    pub bench: String,
    pub go_name: String,
    pub procs: usize,
    /// The two profiles (from, to).
    pub from: Profile,
    pub to: Profile,
    /// The ports' change of the medians, in ns/op.
    pub port_ns: Option<f64>,
}

impl Split {
    /// A subsystem's change, in ns/op of the profiled runs.
    pub fn delta(&self, s: Subsystem) -> f64 {
        self.to.ns(s) - self.from.ns(s)
    }
}

/// Profiles each release of [`STEPS`] on every workload and procs of the rows where the step
/// has figures on both sides, and splits each real delta by subsystem; `step` hears what is
/// running.
pub fn split(
    rows: &[Row],
    plan: &FidelityPlan,
    mut step: impl FnMut(String),
) -> Result<Vec<Split>, String> {
    let mut cache: Vec<Profile> = Vec::new();
    let mut out = Vec::new();
    for (si, s) in STEPS.iter().enumerate() {
        let (a, b) = (&PAIRS[s.from], &PAIRS[s.to]);
        for &bench in &plan.benches {
            for &procs in &plan.procs {
                let get = |c: &str| find(rows, c, bench.name, procs).and_then(|r| r.ns_per_op);
                let (Some(_), Some(_)) = (get(a.real), get(b.real)) else {
                    continue;
                };
                let mut prof = |real: &str| -> Result<Profile, String> {
                    if let Some(p) = cache
                        .iter()
                        .find(|p| p.release == real && p.bench == bench.name && p.procs == procs)
                    {
                        return Ok(p.clone());
                    }
                    step(format!(
                        "profiling {} at procs {procs} on {real}",
                        bench.name
                    ));
                    let index = crate::subjects::peers::release::index(real)
                        .expect("every pair's release is a peer");
                    let p = profile::profile(index, bench, &plan.settings(procs))?;
                    cache.push(p.clone());
                    Ok(p)
                };
                let (from, to) = (prof(a.real)?, prof(b.real)?);
                let port_ns = match (get(a.column), get(b.column)) {
                    (Some(x), Some(y)) => Some(y - x),
                    _ => None,
                };
                out.push(Split {
                    step: si,
                    bench: bench.name.to_string(),
                    go_name: bench.go_name.to_string(),
                    procs,
                    from,
                    to,
                    port_ns,
                });
            }
        }
    }
    Ok(out)
}

fn find<'a>(rows: &'a [Row], col: &str, bench: &str, procs: usize) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.sched == col && r.bench == bench && r.procs == procs)
}

/// The relative change `to / from - 1` and its test, where both rows have figures.
fn change(from: &Row, to: &Row) -> Option<(f64, Option<f64>)> {
    let (a, b) = (from.ns_per_op?, to.ns_per_op?);
    Some((b / a - 1.0, mann_whitney_u(&from.runs, &to.runs)))
}

fn significant(p: Option<f64>) -> bool {
    p.is_some_and(|p| p < ALPHA)
}

/// The analysis of a fidelity run's rows.
pub fn analyse(
    rows: &[Row],
    cpu: &str,
    cores: usize,
    left_out: &[(&'static str, String)],
) -> Fidelity {
    // Workloads and procs in the rows' order.
    let mut keys: Vec<(String, String, usize)> = Vec::new();
    for r in rows {
        let k = (r.bench.clone(), r.go_name.clone(), r.procs);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let mut cells = Vec::new();
    let mut shapes = Vec::new();
    for (i, p) in PAIRS.iter().enumerate() {
        for (bench, go, procs) in &keys {
            let (Some(port), Some(real)) = (
                find(rows, p.column, bench, *procs),
                find(rows, p.real, bench, *procs),
            ) else {
                continue;
            };
            let (Some(pf), Some(rf)) = (Figure::of(port), Figure::of(real)) else {
                continue;
            };
            cells.push(Cell {
                pair: i,
                bench: bench.clone(),
                go_name: go.clone(),
                procs: *procs,
                port: pf,
                real: rf,
                ratio: pf.median / rf.median,
                p_value: mann_whitney_u(&port.runs, &real.runs),
                real_method: real.method.clone(),
            });
            if *procs == 1 {
                continue;
            }
            let one = |col: &str| find(rows, col, bench, 1).and_then(|r| r.ns_per_op);
            if let (Some(p1), Some(r1)) = (one(p.column), one(p.real)) {
                let (ps, rs) = (pf.median / p1, rf.median / r1);
                let dir = |x: f64| {
                    if x > 1.05 {
                        1
                    } else if x < 1.0 / 1.05 {
                        -1
                    } else {
                        0
                    }
                };
                shapes.push(Shape {
                    pair: i,
                    bench: bench.clone(),
                    go_name: go.clone(),
                    procs: *procs,
                    port: ps,
                    real: rs,
                    within: (ps / rs - 1.0).abs() <= SHAPE_TOLERANCE,
                    same_direction: dir(ps) == dir(rs),
                });
            }
        }
    }
    let mut deltas = Vec::new();
    for (si, s) in STEPS.iter().enumerate() {
        let (a, b) = (&PAIRS[s.from], &PAIRS[s.to]);
        for (bench, go, procs) in &keys {
            let get = |c: &str| find(rows, c, bench, *procs);
            let (Some(pa), Some(pb), Some(ra), Some(rb)) =
                (get(a.column), get(b.column), get(a.real), get(b.real))
            else {
                continue;
            };
            let (Some((port, port_p)), Some((real, real_p))) = (change(pa, pb), change(ra, rb))
            else {
                continue;
            };
            let sig = significant(port_p) && significant(real_p);
            deltas.push(Delta {
                step: si,
                bench: bench.clone(),
                go_name: go.clone(),
                procs: *procs,
                port,
                port_p,
                real,
                real_p,
                significant: sig,
                agree: sig.then_some(port.signum() == real.signum()),
            });
        }
    }
    let mut seed = Vec::new();
    let (before, cl) = (&PAIRS[SEED.0], &PAIRS[SEED.1]);
    for (bench, go, procs) in &keys {
        let get = |c: &str| find(rows, c, bench, *procs);
        let (Some(pb), Some(pc), Some(rb), Some(rc)) = (
            get(before.column),
            get(cl.column),
            get(before.real),
            get(cl.real),
        ) else {
            continue;
        };
        let (Some((port_delta, port_p)), Some((real_delta, real_p))) =
            (change(pb, pc), change(rb, rc))
        else {
            continue;
        };
        let fig = |r: &Row| Figure::of(r).expect("a row with a change has a figure");
        seed.push(SeedRow {
            bench: bench.clone(),
            go_name: go.clone(),
            procs: *procs,
            real_before: fig(rb),
            real_cl: fig(rc),
            real_delta,
            real_p,
            port_before: fig(pb),
            port_cl: fig(pc),
            port_delta,
            port_p,
        });
    }
    let count = |it: &mut dyn Iterator<Item = bool>| {
        let mut c = Count::default();
        for x in it {
            c.n += 1;
            c.k += usize::from(x);
        }
        c
    };
    let sig_deltas: Vec<&Delta> = deltas.iter().filter(|d| d.significant).collect();
    let summary = Summary {
        at_or_below: count(&mut cells.iter().map(|c| c.ratio <= 1.0)),
        shapes_within: count(&mut shapes.iter().map(|s| s.within)),
        shapes_same_direction: count(&mut shapes.iter().map(|s| s.same_direction)),
        deltas_agree: count(&mut sig_deltas.iter().map(|d| d.agree == Some(true))),
        deltas_left_out: deltas.len() - sig_deltas.len(),
        history_reproduced: count(
            &mut deltas
                .iter()
                .filter(|d| significant(d.real_p))
                .map(|d| d.agree == Some(true)),
        ),
        seed_agree: count(
            &mut seed
                .iter()
                .filter(|s| significant(s.port_p) && significant(s.real_p))
                .map(|s| s.port_delta.signum() == s.real_delta.signum()),
        ),
    };
    Fidelity {
        cpu: cpu.to_string(),
        cores,
        pairs: PAIRS
            .iter()
            .map(|p| {
                (
                    p.column.to_string(),
                    p.lock.name().to_string(),
                    p.real.to_string(),
                    p.what.to_string(),
                )
            })
            .collect(),
        summary,
        seed,
        cells,
        shapes,
        deltas,
        steps: STEPS
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s.port_name(), s.real_name()))
            .collect(),
        left_out: left_out
            .iter()
            .map(|(b, w)| (b.to_string(), w.clone()))
            .collect(),
        splits: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subjects::history::release::RELEASES;

    #[test]
    fn every_pair_names_a_port_and_a_release() {
        for p in PAIRS {
            assert!(registry::scheduler(p.port).is_some(), "{}", p.port);
            assert!(release::by_name(p.real).is_some(), "{}", p.real);
            assert!(registry::peer(p.real).is_some(), "{}", p.real);
        }
        // Every release is some port's partner, and each column is one name.
        for r in RELEASES {
            assert!(PAIRS.iter().any(|p| p.real == r.name), "{}", r.name);
        }
        let cols = columns();
        let mut dedup = cols.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(cols.len(), dedup.len());
    }

    #[test]
    fn pairs_run_on_their_partners_lock() {
        let lock = |real: &str| PAIRS.iter().find(|p| p.real == real).unwrap().lock;
        assert_eq!(lock("go2011-before"), LockKind::Futex2011);
        assert_eq!(lock("go2011-cl"), LockKind::Futex2011);
        assert_eq!(lock("go1.0.3"), LockKind::Spin);
        assert_eq!(lock("go1.1.2"), LockKind::Spin);
        assert_eq!(lock("go1.4.3"), LockKind::Spin);
        assert_eq!(PAIRS[SEED.0].real, "go2011-before");
        assert_eq!(PAIRS[SEED.1].real, "go2011-cl");
        assert_eq!(STEPS[0].real_name(), "go1.0.3 -> go1.1.2");
        assert_eq!(STEPS[2].port_name(), "2011+spin -> 2014");
    }

    #[test]
    fn shared_workloads() {
        let s = Settings::new(1, Duration::from_millis(10));
        let names = |w: &str| -> Vec<&str> {
            pairs_for(registry::workload(w).unwrap(), &s)
                .iter()
                .map(|&i| PAIRS[i].real)
                .collect()
        };
        assert_eq!(
            names("syscall"),
            [
                "go2011-before",
                "go2011-cl",
                "go1.0.3",
                "go1.1.2",
                "go1.4.3"
            ]
        );
        assert_eq!(names("ping-pong"), ["go1.0.3", "go1.1.2", "go1.4.3"]);
        assert_eq!(names("ping-pong-hog"), ["go1.4.3"]);
        assert_eq!(names("syscall-excess"), ["go1.1.2", "go1.4.3"]);
        assert!(names("wakeup-spinning-5us").is_empty());
    }

    /// A row with these runs.
    fn row(sched: &str, bench: &str, procs: usize, runs: &[f64]) -> Row {
        let s = Spread::of(runs).unwrap();
        Row {
            sched: sched.into(),
            peer: sched.starts_with("go"),
            bench: bench.into(),
            go_name: format!("Benchmark{bench}"),
            procs,
            ns_per_op: Some(s.median),
            min: Some(s.min),
            max: Some(s.max),
            runs: runs.to_vec(),
            runs_iterations: vec![1; runs.len()],
            iterations: Some(1),
            total_ops: Some(1),
            oversubscribed: false,
            ramp: Vec::new(),
            counters: Default::default(),
            counters_per_op: Default::default(),
            na: None,
            starved: false,
            latency: Default::default(),
            p_value: None,
            memory: None,
            method: None,
        }
    }

    fn runs(x: f64) -> Vec<f64> {
        (0..5).map(|i| x * (1.0 + 0.01 * i as f64)).collect()
    }

    #[test]
    fn ratios_shapes_and_deltas() {
        let mut rows = Vec::new();
        // Ports: 2011+spin 100 -> 2013 50 (faster), 2014 60; real: 200 -> 150 -> 300.
        for (col, p1, p2) in [
            ("2011+spin", 100.0, 200.0),
            ("2013", 50.0, 60.0),
            ("2014", 60.0, 60.0),
            ("go1.0.3", 200.0, 400.0),
            ("go1.1.2", 150.0, 160.0),
            ("go1.4.3", 300.0, 900.0),
        ] {
            rows.push(row(col, "x", 1, &runs(p1)));
            rows.push(row(col, "x", 2, &runs(p2)));
        }
        let f = analyse(&rows, "cpu", 2, &[]);
        // Three pairs at two procs; every port below its ancestor.
        assert_eq!(f.cells.len(), 6);
        assert_eq!(f.summary.at_or_below, Count { k: 6, n: 6 });
        let c = f
            .cells
            .iter()
            .find(|c| c.pair == 3 && c.procs == 1)
            .unwrap();
        assert!((c.ratio - 50.0 / 150.0).abs() < 1e-9);
        assert_eq!(c.p_value.map(|p| p < ALPHA), Some(true));
        // Shapes at procs 2: 2.0 vs 2.0, 1.2 vs 1.067 (within), 1.0 vs 3.0 (not).
        assert_eq!(f.shapes.len(), 3);
        assert_eq!(f.summary.shapes_within, Count { k: 2, n: 3 });
        assert_eq!(f.summary.shapes_same_direction, Count { k: 2, n: 3 });
        // Deltas: 2011->2013 both faster (agree), 2013->2014 port +20% / real +100% (agree),
        // 2011->2014 port -40% real +50% (disagree); at procs 2 alike.
        let d = f
            .deltas
            .iter()
            .find(|d| d.step == 2 && d.procs == 1)
            .unwrap();
        assert!(d.significant && d.agree == Some(false));
        assert!((d.port + 0.4).abs() < 1e-9 && (d.real - 0.5).abs() < 1e-9);
        assert_eq!(f.summary.deltas_agree.n + f.summary.deltas_left_out, 6);
        // Every real delta here is significant; the ports reproduce three of six (2011->2014
        // flips at both procs, and 2013->2014 at procs 2 does not move on the ports).
        assert_eq!(f.summary.history_reproduced, Count { k: 3, n: 6 });
        assert!(f.seed.is_empty());
    }

    #[test]
    fn insignificant_deltas_are_left_out() {
        let mut rows = Vec::new();
        for col in ["2011+spin", "2013", "go1.0.3", "go1.1.2"] {
            rows.push(row(col, "x", 1, &runs(100.0)));
        }
        let f = analyse(&rows, "cpu", 2, &[]);
        assert_eq!(f.deltas.len(), 1);
        assert!(!f.deltas[0].significant && f.deltas[0].agree.is_none());
        assert_eq!(f.summary.deltas_left_out, 1);
        assert_eq!(f.summary.history_reproduced, Count { k: 0, n: 0 });
        assert_eq!(f.summary.deltas_agree, Count { k: 0, n: 0 });
    }

    #[test]
    fn the_seed_table() {
        let rows = vec![
            row("2011-lock", "syscall", 2, &runs(96.0)),
            row("2011", "syscall", 2, &runs(57.0)),
            row("go2011-before", "syscall", 2, &runs(416.0)),
            row("go2011-cl", "syscall", 2, &runs(70.0)),
        ];
        let f = analyse(&rows, "cpu", 2, &[]);
        assert_eq!(f.seed.len(), 1);
        let s = &f.seed[0];
        assert!((s.real_delta - (70.0 / 416.0 - 1.0)).abs() < 1e-9);
        assert!((s.port_delta - (57.0 / 96.0 - 1.0)).abs() < 1e-9);
        assert_eq!(f.summary.seed_agree, Count { k: 1, n: 1 });
    }
}
