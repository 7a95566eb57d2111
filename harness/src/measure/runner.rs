//! One measurement: boot a runtime, ramp N inside its main goroutine timing only the workload's
//! loop, and keep the last round's figure and latencies with the runtime's counters.

use crate::measure::ramp::{ramp_until, Aim, Ramp};
use crate::workloads::{B, DEFAULT_STARVE_AFTER};
use hdrhistogram::Histogram;
use schedcore::trace::Trace;
use schedcore::{Config, Counter, LockKind, RunError, Scheduler, StackGuard};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How to measure: the knobs of one measurement, the same for every subject of a comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// GOMAXPROCS.
    pub procs: usize,
    /// Aim for a timed round of this length (Go's -benchtime).
    pub benchtime: Duration,
    /// A CPU hog gives up after this long without progress of the others (see
    /// [`crate::workloads::Stall`]).
    pub starve_after: Duration,
    /// Go's GODEBUG=schedtrace: the runtime prints a SCHED line this often.
    pub schedtrace: Option<Duration>,
    /// The runtime lock every generation runs on (`None`: each its era's, `Scheduler::ERA_LOCK`).
    pub lock: Option<LockKind>,
    /// Steps of local work in each syscall of the `*-work` workloads (`B::work`).
    pub work: u64,
    /// How the guard page under each goroutine stack is made (`Config::stack_guard`).
    pub stack_guard: StackGuard,
    /// The live-goroutine limit (`Config::max_goroutines`; `None`: what memory allows).
    pub max_goroutines: Option<usize>,
    /// Time exactly this N instead of ramping toward `benchtime` (Go's `-benchtime Nx`).
    pub iterations: Option<u64>,
}

impl Settings {
    pub fn new(procs: usize, benchtime: Duration) -> Settings {
        Settings {
            procs,
            benchtime,
            starve_after: DEFAULT_STARVE_AFTER,
            schedtrace: None,
            lock: None,
            work: crate::workloads::LOCAL_WORK,
            stack_guard: StackGuard::Auto,
            max_goroutines: None,
            iterations: None,
        }
    }

    /// What the ramp aims for: `iterations` where set, else `benchtime`.
    pub fn aim(&self) -> Aim {
        self.iterations
            .map_or(Aim::Time(self.benchtime), Aim::Times)
    }
}

/// The name of the histogram of stop-the-world pauses (from the Report) among the latencies.
pub const STW_PAUSE: &str = "stw_pause";

/// What one runtime (or one peer run) measured.
#[derive(Clone, Debug)]
pub struct Measurement {
    /// Every round of the ramp; the last one gives ns/op.
    pub ramp: Ramp,
    /// The runtime's counters over the whole run (every round: divide by
    /// `ramp.total_ops()` for a figure per op).
    pub counters: BTreeMap<String, u64>,
    /// Latency histograms in ns: those the workload recorded in the last round, and the
    /// Report's stop-the-world pauses over the whole run ([`STW_PAUSE`]) when it collected.
    pub latencies: BTreeMap<String, Histogram<u64>>,
    /// The last round was starved: a CPU hog had to give up for the others to finish, so
    /// there is no figure.
    pub starved: bool,
    /// What the run's memory came to, where the subject reports it.
    pub memory: Option<MemoryFigures>,
    /// How the figure was produced, where a subject has more than one way (a historical
    /// release: its own `go test` benchmark, or the lab's program built by it); `None` for
    /// the lab's runtimes and the peers that have one way.
    pub method: Option<String>,
}

/// A run's memory: the process's resident set at the start and at its peak (process-wide, see
/// `schedcore::memory`) and the goroutines behind it.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct MemoryFigures {
    /// The most goroutines alive at once: the runtime's `goroutines_peak`; for the go peer,
    /// `runtime.NumGoroutine()` where the workload samples it (at its peak), else `None`.
    pub peak_goroutines: Option<u64>,
    /// Goroutine stacks the runtime mapped (`None` for peers).
    pub stacks_mapped: Option<u64>,
    /// The resident set when the run started, in bytes.
    pub rss_start_bytes: u64,
    /// The peak resident set during the run, in bytes.
    pub rss_peak_bytes: u64,
    /// The resident set the run added at its peak per live goroutine at the peak, in bytes:
    /// `(rss_peak_bytes - rss_start_bytes) / peak_goroutines`.
    pub rss_per_goroutine_bytes: Option<f64>,
}

impl MemoryFigures {
    pub fn new(
        peak_goroutines: Option<u64>,
        stacks_mapped: Option<u64>,
        rss_start_bytes: u64,
        rss_peak_bytes: u64,
    ) -> MemoryFigures {
        let per = peak_goroutines
            .filter(|&g| g > 0)
            .map(|g| rss_peak_bytes.saturating_sub(rss_start_bytes) as f64 / g as f64);
        MemoryFigures {
            peak_goroutines,
            stacks_mapped,
            rss_start_bytes,
            rss_peak_bytes,
            rss_per_goroutine_bytes: per,
        }
    }

    /// The figures of a lab runtime's Report.
    pub fn of_report(report: &schedcore::Report) -> Option<MemoryFigures> {
        let m = report.memory?;
        Some(MemoryFigures::new(
            Some(report.peak_goroutines()),
            Some(report.counter(Counter::StacksMapped)),
            m.rss_start,
            m.rss_peak,
        ))
    }
}

impl Measurement {
    pub fn ns_per_op(&self) -> f64 {
        self.ramp.ns_per_op()
    }

    /// The last round's N, as Go prints it.
    pub fn iterations(&self) -> u64 {
        self.ramp.last().n
    }
}

/// One timed round of `work` with `n` operations, inside a goroutine of a running runtime:
/// the timer runs from the call to its return unless the workload stops it earlier.
pub fn round(work: fn(&mut B), n: u64, starve_after: Duration, steps: u64) -> B {
    let mut b = B::new(n, starve_after);
    b.work = steps;
    b.start_timer();
    work(&mut b);
    b.stop_timer();
    b
}

/// One measurement of `work` on a fresh `S` runtime: `S::run` boots it with the settings'
/// procs (threads are created before the first round), the main goroutine ramps N toward
/// `benchtime`, and each round times `work` alone; `min_n` is the workload's batch and `max_n`
/// its largest N (see [`crate::measure::ramp::ramp`]). A starved round ends the ramp. The
/// allocator's free memory goes back to the kernel first, so that the run's resident set does
/// not start with what an earlier run of this process left.
pub fn measure<S: Scheduler>(
    work: fn(&mut B),
    min_n: u64,
    max_n: u64,
    settings: &Settings,
) -> Result<Measurement, RunError> {
    measure_traced::<S>(work, min_n, max_n, settings, None).map(|t| t.measurement)
}

/// A measurement with the execution tracer on.
#[derive(Clone, Debug)]
pub struct Traced {
    pub measurement: Measurement,
    /// The run's trace (`None` when tracing was off, or the runtime ignored it).
    pub trace: Option<Trace>,
    /// Where each round of the ramp was timed, from its start to its start plus its timed
    /// length, in ns from the tracer's start, the origin of the trace's timestamps (a
    /// round's clock reads are placed on the trace's clock through `Trace::started`; they used
    /// to count from just before the runtime booted, which put them late by the boot's length,
    /// past the trace's end on a loaded machine); empty when tracing was off.
    pub rounds_ns: Vec<(u64, u64)>,
}

/// [`measure`], with the runtime's execution tracer keeping the last `trace` events of every
/// M (`Config::trace`; `None`: off), and the trace the run returned. The tracer records over
/// the whole run, so the rings hold its end: the ramp's last round and what follows it (the
/// workload's untimed latency round, the teardown). With tracing on, each round's place is
/// read from the clock around it (two clock reads a round, outside the timed loop).
pub fn measure_traced<S: Scheduler>(
    work: fn(&mut B),
    min_n: u64,
    max_n: u64,
    settings: &Settings,
    trace: Option<usize>,
) -> Result<Traced, RunError> {
    let cfg = Config {
        schedtrace: settings.schedtrace,
        lock: settings.lock,
        stack_guard: settings.stack_guard,
        max_goroutines: settings.max_goroutines,
        trace,
        ..Config::new(settings.procs)
    };
    schedcore::memory::trim_heap();
    let (aim, starve_after, steps) = (settings.aim(), settings.starve_after, settings.work);
    let placed = trace.is_some();
    let ((ramp, last, rounds_at), mut report) = S::run(&cfg, move || {
        let mut last = None;
        let mut at = Vec::new();
        let ramp = ramp_until(aim, min_n, max_n, |n| {
            let start = placed.then(Instant::now);
            let mut b = round(work, n, starve_after, steps);
            let out = (b.elapsed(), b.starved());
            if let Some(s) = start {
                at.push((s, s + out.0));
            }
            last = Some((b.take_latencies(), b.starved()));
            out
        });
        (ramp, last.expect("a ramp has at least one round"), at)
    })?;
    let (lat, starved) = last;
    let trace = report.trace.take();
    // Each round in the trace's time: from the tracer's start, the origin of its timestamps.
    let rounds_ns = match &trace {
        Some(t) => rounds_at
            .iter()
            .map(|&(s, e)| {
                let ns = |i: Instant| i.saturating_duration_since(t.started).as_nanos() as u64;
                (ns(s), ns(e))
            })
            .collect(),
        None => Vec::new(),
    };
    let counters = report
        .counters
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    let mut latencies: BTreeMap<String, Histogram<u64>> =
        lat.into_iter().map(|(k, h)| (k.to_string(), h)).collect();
    if report.counter(Counter::Gcs) > 0 && !report.stw_pause_ns.is_empty() {
        latencies.insert(STW_PAUSE.to_string(), report.stw_pause_ns.clone());
    }
    Ok(Traced {
        measurement: Measurement {
            ramp,
            counters,
            latencies,
            starved,
            memory: MemoryFigures::of_report(&report),
            method: None,
        },
        trace,
        rounds_ns,
    })
}
