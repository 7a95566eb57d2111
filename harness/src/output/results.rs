//! The results of a comparison: one row per scheduler or peer, workload and procs, with the
//! median and spread of its runs and the counters of the median run; as JSON, CSV and
//! bench.txt.

use crate::measure::ramp::RoundJson;
use crate::measure::runner::{Measurement, MemoryFigures};
use crate::measure::stats::{Percentiles, Spread};
use crate::output::benchfmt;
use crate::output::machine::Machine;
use crate::workloads::WorkloadInfo;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One combination of scheduler (or peer), workload and procs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Row {
    /// The scheduler's name, or the peer's.
    pub sched: String,
    /// Whether `sched` names a peer rather than a scheduler generation.
    pub peer: bool,
    /// The workload's lab name (`syscall`).
    pub bench: String,
    /// The Go benchmark it ports (`BenchmarkSyscall`).
    pub go_name: String,
    pub procs: usize,
    /// Median ns/op over the runs; `None` when the combination is not applicable.
    pub ns_per_op: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// ns/op of every run, in the order they ran.
    pub runs: Vec<f64>,
    /// N of the timed round of every run.
    pub runs_iterations: Vec<u64>,
    /// N of the timed round of the median run.
    pub iterations: Option<u64>,
    /// Operations over every round of the median run (what its counters count over).
    pub total_ops: Option<u64>,
    /// procs above this machine's cores.
    pub oversubscribed: bool,
    /// The ramp of the median run: N and the time of every round, the last one counting.
    pub ramp: Vec<RoundJson>,
    /// The counters of the median run, over all of its rounds.
    pub counters: BTreeMap<String, u64>,
    /// The same divided by `total_ops`.
    pub counters_per_op: BTreeMap<String, f64>,
    /// Why there is no figure ("n/a"), if there is none.
    pub na: Option<String>,
    /// A run was starved: a CPU hog that the generation could not preempt had to give up
    /// for the others to finish. There is no figure; counters and ramp are the starved run's.
    #[serde(default)]
    pub starved: bool,
    /// Latency percentiles in ns of the median run, by histogram: `wakeup` (send to receive),
    /// `batch` (one syscall batch), `stw_pause` (the Report's stop-the-world pauses, over
    /// every round of the run).
    #[serde(default)]
    pub latency: BTreeMap<String, Percentiles>,
    /// The two-sided Mann-Whitney U test of this row's runs against the baseline column's (the
    /// table's first) at the same workload and procs, as benchstat: below
    /// [`crate::measure::stats::ALPHA`] the delta is significant, otherwise the table prints `~`.
    /// `None` for the baseline itself and where either row has no figure (and in results.json
    /// files written before the field existed).
    #[serde(default)]
    pub p_value: Option<f64>,
    /// What the median run's memory came to: the process's resident set at the start and at
    /// the peak, the most goroutines alive at once, and the resident set per live goroutine
    /// (`None` for subjects that do not report it, and in results.json files from before).
    #[serde(default)]
    pub memory: Option<MemoryFigures>,
    /// How the figures were produced, where the subject has more than one way: for a
    /// historical release, its own `go test` runtime benchmark or the lab's go program built by
    /// it (see `subjects/peers/release.rs`). `None` for every other subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

impl Row {
    /// A row from the runs of one combination (at least one).
    pub fn measured(
        sched: &str,
        peer: bool,
        bench: &WorkloadInfo,
        procs: usize,
        cores: usize,
        runs: &[Measurement],
    ) -> Row {
        if let Some(starved) = runs.iter().find(|m| m.starved) {
            return Row::starved(sched, peer, bench, procs, cores, starved);
        }
        let figures: Vec<f64> = runs.iter().map(Measurement::ns_per_op).collect();
        let spread = Spread::of(&figures).expect("at least one run");
        let median = &runs[spread.median_run];
        let total_ops = median.ramp.total_ops();
        let counters_per_op = median
            .counters
            .iter()
            .map(|(k, v)| (k.clone(), *v as f64 / total_ops.max(1) as f64))
            .collect();
        Row {
            sched: sched.to_string(),
            peer,
            bench: bench.name.to_string(),
            go_name: bench.go_name.to_string(),
            procs,
            ns_per_op: Some(spread.median),
            min: Some(spread.min),
            max: Some(spread.max),
            runs: figures,
            runs_iterations: runs.iter().map(Measurement::iterations).collect(),
            iterations: Some(median.iterations()),
            total_ops: Some(total_ops),
            oversubscribed: procs > cores,
            ramp: median
                .ramp
                .rounds
                .iter()
                .map(|r| RoundJson {
                    n: r.n,
                    ns: r.elapsed.as_nanos() as u64,
                })
                .collect(),
            counters: median.counters.clone(),
            counters_per_op,
            na: None,
            starved: false,
            latency: percentiles(median),
            p_value: None,
            memory: median.memory,
            method: median.method.clone(),
        }
    }

    /// A row for a starved combination: no figure; the starved run's counters and ramp.
    pub fn starved(
        sched: &str,
        peer: bool,
        bench: &WorkloadInfo,
        procs: usize,
        cores: usize,
        run: &Measurement,
    ) -> Row {
        let total_ops = run.ramp.total_ops();
        Row {
            starved: true,
            total_ops: Some(total_ops),
            ramp: run
                .ramp
                .rounds
                .iter()
                .map(|r| RoundJson {
                    n: r.n,
                    ns: r.elapsed.as_nanos() as u64,
                })
                .collect(),
            counters: run.counters.clone(),
            counters_per_op: run
                .counters
                .iter()
                .map(|(k, v)| (k.clone(), *v as f64 / total_ops.max(1) as f64))
                .collect(),
            na: None,
            memory: run.memory,
            method: run.method.clone(),
            ..Row::not_applicable(sched, peer, bench, procs, cores, "")
        }
    }

    /// A row without a figure, and the reason.
    pub fn not_applicable(
        sched: &str,
        peer: bool,
        bench: &WorkloadInfo,
        procs: usize,
        cores: usize,
        why: &str,
    ) -> Row {
        Row {
            sched: sched.to_string(),
            peer,
            bench: bench.name.to_string(),
            go_name: bench.go_name.to_string(),
            procs,
            ns_per_op: None,
            min: None,
            max: None,
            runs: Vec::new(),
            runs_iterations: Vec::new(),
            iterations: None,
            total_ops: None,
            oversubscribed: procs > cores,
            ramp: Vec::new(),
            counters: BTreeMap::new(),
            counters_per_op: BTreeMap::new(),
            na: Some(why.to_string()),
            starved: false,
            latency: BTreeMap::new(),
            p_value: None,
            memory: None,
            method: None,
        }
    }

    /// The p-value of this row's runs against `base`'s (two-sided Mann-Whitney U, see
    /// [`crate::measure::stats::mann_whitney_u`]); `None` when either has no figure.
    pub fn p_against(&self, base: &Row) -> Option<f64> {
        let measured = |r: &Row| r.ns_per_op.is_some() && !r.starved && !r.runs.is_empty();
        if !measured(self) || !measured(base) {
            return None;
        }
        crate::measure::stats::mann_whitney_u(&base.runs, &self.runs)
    }
}

/// Whether a delta with p-value `p` is significant (p below [`crate::measure::stats::ALPHA`]);
/// a delta without one (results.json from before p-values) is taken as it stands.
pub fn significant(p: Option<f64>) -> bool {
    p.is_none_or(|p| p < crate::measure::stats::ALPHA)
}

/// Sets `p_value` on every row against the row of `columns[0]` at the same workload and procs.
pub fn set_p_values(rows: &mut [Row], columns: &[String]) {
    let Some(first) = columns.first() else {
        return;
    };
    let bases: Vec<Row> = rows.iter().filter(|r| r.sched == *first).cloned().collect();
    for r in rows.iter_mut() {
        r.p_value = bases
            .iter()
            .find(|b| b.bench == r.bench && b.procs == r.procs && b.sched != r.sched)
            .and_then(|b| r.p_against(b));
    }
}

/// The percentiles of every latency histogram of a run.
fn percentiles(m: &Measurement) -> BTreeMap<String, Percentiles> {
    m.latencies
        .iter()
        .filter_map(|(k, h)| Some((k.clone(), Percentiles::of(h)?)))
        .collect()
}

/// Everything a comparison produced: what `results.json` holds and `--format json` prints.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Results {
    /// When the run started, UTC, RFC 3339.
    pub started: String,
    pub label: String,
    /// The command line, as in command.txt.
    pub command: String,
    pub benchtime_ns: u64,
    /// How long a CPU hog waited without progress of the others before giving up.
    #[serde(default)]
    pub starve_after_ns: u64,
    pub count: usize,
    /// Schedulers, then peers, in the order of the table's columns.
    pub columns: Vec<String>,
    /// The runtime lock each scheduler column ran on (`futex2011`, `spin`), by column name.
    #[serde(default)]
    pub locks: BTreeMap<String, String>,
    /// Steps of local work in each syscall of the `*-work` workloads (`--work`).
    #[serde(default = "default_work")]
    pub work: u64,
    pub machine: Machine,
    pub rows: Vec<Row>,
}

fn default_work() -> u64 {
    crate::workloads::LOCAL_WORK
}

impl Results {
    /// Writes the run's data into `dir`: results.json, results.csv, bench.txt, machine.json and
    /// command.txt.
    pub fn write_data(&self, dir: &crate::output::rundir::RunDir) -> std::io::Result<()> {
        dir.write("results.json", &self.to_json())?;
        let csv = self.to_csv().map_err(std::io::Error::other)?;
        dir.write("results.csv", &csv)?;
        dir.write("bench.txt", &self.bench_txt())?;
        dir.write(
            "machine.json",
            &serde_json::to_string_pretty(&self.machine).expect("machine serializes"),
        )?;
        dir.write("command.txt", &format!("{}\n", self.command))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("results serialize")
    }

    /// bench.txt: benchstat's header, then one line per run of every measured row.
    pub fn bench_txt(&self) -> String {
        let m = &self.machine;
        let mut s = benchfmt::header(std::env::consts::OS, &m.arch, &m.cpu_model);
        for r in &self.rows {
            let name = benchfmt::bench_name(&r.go_name, &r.sched, r.procs);
            for (ns, n) in r.runs.iter().zip(&r.runs_iterations) {
                s.push_str(&benchfmt::line(&name, *n, *ns));
                s.push('\n');
            }
        }
        s
    }

    /// results.csv: one record per row; `runs` joined with spaces; the memory figures; one
    /// column per counter that any row has (empty where a row lacks it).
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let names: BTreeSet<&str> = self
            .rows
            .iter()
            .flat_map(|r| r.counters.keys().map(String::as_str))
            .collect();
        let lat_names: BTreeSet<&str> = self
            .rows
            .iter()
            .flat_map(|r| r.latency.keys().map(String::as_str))
            .collect();
        let lat_cols: Vec<String> = lat_names
            .iter()
            .flat_map(|n| ["p50", "p90", "p99", "p99.9", "max"].map(|p| format!("{n}_{p}_ns")))
            .collect();
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<&str> = vec![
            "sched",
            "peer",
            "bench",
            "procs",
            "ns_per_op",
            "min",
            "max",
            "runs",
            "iterations",
            "total_ops",
            "oversubscribed",
            "na",
            "starved",
            "p_value",
            "peak_goroutines",
            "rss_peak_bytes",
            "rss_per_goroutine_bytes",
        ];
        header.extend(lat_cols.iter().map(String::as_str));
        header.extend(names.iter().copied());
        w.write_record(&header)?;
        let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        for r in &self.rows {
            let mut rec = vec![
                r.sched.clone(),
                r.peer.to_string(),
                r.bench.clone(),
                r.procs.to_string(),
                opt(r.ns_per_op),
                opt(r.min),
                opt(r.max),
                r.runs
                    .iter()
                    .map(f64::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                r.iterations.map(|n| n.to_string()).unwrap_or_default(),
                r.total_ops.map(|n| n.to_string()).unwrap_or_default(),
                r.oversubscribed.to_string(),
                r.na.clone().unwrap_or_default(),
                r.starved.to_string(),
                opt(r.p_value),
                r.memory
                    .and_then(|m| m.peak_goroutines)
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                r.memory
                    .map(|m| m.rss_peak_bytes.to_string())
                    .unwrap_or_default(),
                opt(r.memory.and_then(|m| m.rss_per_goroutine_bytes)),
            ];
            for n in &lat_names {
                match r.latency.get(*n) {
                    Some(p) => rec.extend(p.labelled().map(|(_, v)| v.to_string())),
                    None => rec.extend((0..5).map(|_| String::new())),
                }
            }
            rec.extend(
                names
                    .iter()
                    .map(|k| r.counters.get(*k).map(u64::to_string).unwrap_or_default()),
            );
            w.write_record(&rec)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))?;
        Ok(String::from_utf8(bytes).expect("csv of strings is utf-8"))
    }
}
