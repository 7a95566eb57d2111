//! One measurement: boot a runtime, ramp N inside its main goroutine timing only the workload's
//! loop, and keep the last round's figure with the runtime's counters.

use crate::ramp::{ramp, Ramp};
use schedcore::{Config, RunError, Scheduler};
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

/// What one runtime (or one peer run) measured.
#[derive(Clone, Debug)]
pub struct Measurement {
    /// Every round of the ramp; the last one gives ns/op.
    pub ramp: Ramp,
    /// The runtime's counters over the whole run (every round: divide by
    /// `ramp.total_ops()` for a figure per op).
    pub counters: BTreeMap<String, u64>,
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

/// Why a combination has no figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The peer cannot express the workload; the reason is shown instead of a figure.
    NotApplicable(&'static str),
    /// The runtime failed (deadlock, panic, bad configuration).
    Run(RunError),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NotApplicable(why) => write!(f, "n/a: {why}"),
            Failure::Run(e) => e.fmt(f),
        }
    }
}

/// One measurement of `work` on a fresh `S` runtime with `procs`: `S::run` boots it (threads
/// are created before the first round), the main goroutine ramps N toward `benchtime`, and
/// each round times `work(n)` alone; `min_n` is the workload's batch (see [`ramp`]).
pub fn measure<S: Scheduler>(
    work: fn(u64),
    min_n: u64,
    procs: usize,
    benchtime: Duration,
) -> Result<Measurement, RunError> {
    let (ramp, report) = S::run(&Config::new(procs), move || {
        ramp(benchtime, min_n, |n| {
            let t = Instant::now();
            work(n);
            t.elapsed()
        })
    })?;
    let counters = report
        .counters
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    Ok(Measurement { ramp, counters })
}
