//! What `lab overhead` measures: what the harness itself costs. For each core workload, the
//! lab's figure (`runner::measure`: ramp, `B`, the workload's own histograms and watchdog)
//! beside the same loop written by hand on the scheduler ([`crate::measure::bare`]) and timed
//! around the call, with the same N, in one run, interleaved (lab run k, then bare run k),
//! with the ratio of the medians.
//!
//! `lab overhead --trace` asks the same of the execution tracer: the lab's figure with tracing
//! on (`Config::trace`) beside the lab's figure with it off, interleaved, each run its own ramp.

use crate::error::LabError;
use crate::measure::bare::bare_fn;
use crate::measure::plan::Plan;
use crate::measure::runner::{self, Settings};
use crate::measure::stats::Spread;
use crate::output::machine::Machine;
use crate::subjects::registry::{self, SchedVisitor, Subject};
use crate::workloads::WorkloadInfo;
use schedcore::{Config, Counter, Report, RunError, Scheduler};
use std::time::{Duration, Instant};

/// The lab's figure should be within this fraction of the bare loop's.
pub const TARGET: f64 = 0.02;

/// What the lab's figure is held against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Against {
    /// The loop written by hand ([`crate::measure::bare`]): the harness's cost.
    Bare,
    /// The lab's own figure with the execution tracer on, keeping `events` per M: tracing's
    /// cost. In [`Outcome::Measured`], `lab` is then the traced runs and `bare` the untraced.
    Traced { events: usize },
}

impl Against {
    /// Progress steps per combination: a calibrating run first against the bare loop.
    pub fn steps(&self, count: usize) -> usize {
        match self {
            Against::Bare => count + 1,
            Against::Traced { .. } => count,
        }
    }
}

/// What one combination gave.
#[derive(Clone, Debug)]
pub enum Outcome {
    Measured {
        /// The N of the bare runs: the last round's N of a first, calibrating lab run (whose
        /// figure is in no median).
        n: u64,
        /// The lab's ns/op over `count` runs (each its own ramp).
        lab: Spread,
        /// The bare loop's ns/op over `count` runs of N.
        bare: Spread,
        /// The Mann-Whitney U test of the lab's runs against the bare loop's (the table's
        /// test): below 0.05, the two differ by more than the machine's noise.
        p_value: Option<f64>,
        /// Stack words the collector read per collection, in the lab's runs and in the bare
        /// loop's (workloads that collect): the lab's caller frames are scanned too.
        words_per_gc: Option<(f64, f64)>,
    },
    /// Not run, and why (ping-pong-hog without preemption: the bare loop has no watchdog).
    NotApplicable(&'static str),
    /// A lab run starved (a hog had to give up): no figure to compare.
    Starved,
}

/// One row of the table.
#[derive(Clone, Debug)]
pub struct Overhead {
    pub bench: &'static WorkloadInfo,
    pub procs: usize,
    pub sched: &'static str,
    pub outcome: Outcome,
}

impl Overhead {
    /// The lab's median over the bare loop's.
    pub fn ratio(&self) -> Option<f64> {
        match &self.outcome {
            Outcome::Measured { lab, bare, .. } => Some(lab.median / bare.median),
            _ => None,
        }
    }

    /// Whether the ratio is within [`TARGET`] of 1.
    pub fn within_target(&self) -> Option<bool> {
        self.ratio().map(|r| (r - 1.0).abs() <= TARGET)
    }
}

/// The bare loop's time for `n` ops of `bare` on a fresh `S` runtime at `procs` (the call
/// alone, timed from inside the main goroutine, after untimed calls of the `warm` N's), and
/// the run's report. The
/// lab's figure is its ramp's last round, in a runtime that ran the smaller rounds first;
/// warming the bare loop with the same N's compares like with like (sysmon backs off as a
/// runtime ages, which moves ping-pong-hog's figure by half).
pub fn bare_run<S: Scheduler>(
    bare: fn(u64),
    warm: Vec<u64>,
    n: u64,
    procs: usize,
) -> Result<(Duration, Report), RunError> {
    S::run(&Config::new(procs), move || {
        for w in warm {
            bare(w);
        }
        let t = Instant::now();
        bare(n);
        t.elapsed()
    })
}

/// Stack words read per collection over a whole run (`None` when it did not collect).
fn words_per_gc(words: u64, gcs: u64) -> Option<f64> {
    (gcs > 0).then(|| words as f64 / gcs as f64)
}

/// One combination, monomorphized for the scheduler by [`registry::with_scheduler`].
struct Combination<'a, F: FnMut(String)> {
    against: Against,
    bench: &'static WorkloadInfo,
    procs: usize,
    benchtime: Duration,
    count: usize,
    step: &'a mut F,
}

impl<F: FnMut(String)> SchedVisitor for Combination<'_, F> {
    type Out = Result<Outcome, RunError>;

    fn visit<S: Scheduler>(self) -> Result<Outcome, RunError> {
        let Combination {
            against,
            bench,
            procs,
            benchtime,
            count,
            step,
        } = self;
        let what = |k: String| format!("{} on {} at procs {procs}, {k}", bench.name, S::NAME);
        if bench.hog && !S::PREEMPTIVE {
            for _ in 0..against.steps(count) {
                step(what("n/a".into()));
            }
            return Ok(Outcome::NotApplicable("no preemption"));
        }
        let lab = registry::workload_fn::<S>(bench.name).expect("a registry workload");
        let settings = Settings::new(procs, benchtime);
        if let Against::Traced { events } = against {
            return traced::<S>(lab, bench, &settings, events, count, &mut |k| step(what(k)));
        }
        let bare = bare_fn::<S>(bench.name).expect("checked by run");
        step(what("calibrating N".into()));
        let first = runner::measure::<S>(lab, bench.batch, bench.max_n, &settings)?;
        if first.starved {
            for _ in 0..count {
                step(what("starved".into()));
            }
            return Ok(Outcome::Starved);
        }
        let n = first.iterations();
        let rounds = &first.ramp.rounds;
        let warm: Vec<u64> = rounds[..rounds.len() - 1].iter().map(|r| r.n).collect();
        let (mut labs, mut bares) = (Vec::new(), Vec::new());
        let (mut lab_scan, mut bare_scan) = ([0u64; 2], [0u64; 2]);
        for k in 0..count {
            step(what(format!("run {}/{count}", k + 1)));
            let m = runner::measure::<S>(lab, bench.batch, bench.max_n, &settings)?;
            if m.starved {
                return Ok(Outcome::Starved);
            }
            labs.push(m.ns_per_op());
            let c = |name: &str| m.counters.get(name).copied().unwrap_or(0);
            lab_scan[0] += c(Counter::StackWordsScanned.name());
            lab_scan[1] += c(Counter::Gcs.name());
            let (d, report) = bare_run::<S>(bare, warm.clone(), n, procs)?;
            bares.push(d.as_nanos() as f64 / n as f64);
            bare_scan[0] += report.counter(Counter::StackWordsScanned);
            bare_scan[1] += report.counter(Counter::Gcs);
        }
        let words_per_gc =
            words_per_gc(lab_scan[0], lab_scan[1]).zip(words_per_gc(bare_scan[0], bare_scan[1]));
        Ok(Outcome::Measured {
            n,
            lab: Spread::of(&labs).expect("count is at least 1"),
            bare: Spread::of(&bares).expect("count is at least 1"),
            p_value: crate::measure::stats::mann_whitney_u(&labs, &bares),
            words_per_gc,
        })
    }
}

/// `count` interleaved pairs of lab runs, tracing off then on (the trace is dropped): `lab`
/// holds the traced runs, `bare` the untraced ones, `n` the first untraced run's N.
fn traced<S: Scheduler>(
    work: fn(&mut crate::workloads::B),
    bench: &WorkloadInfo,
    settings: &Settings,
    events: usize,
    count: usize,
    step: &mut dyn FnMut(String),
) -> Result<Outcome, RunError> {
    let (mut on, mut off) = (Vec::new(), Vec::new());
    let mut n = 0;
    for k in 0..count {
        step(format!("run {}/{count}, tracing off then on", k + 1));
        let a = runner::measure::<S>(work, bench.batch, bench.max_n, settings)?;
        let b =
            runner::measure_traced::<S>(work, bench.batch, bench.max_n, settings, Some(events))?
                .measurement;
        if a.starved || b.starved {
            return Ok(Outcome::Starved);
        }
        if k == 0 {
            n = a.iterations();
        }
        off.push(a.ns_per_op());
        on.push(b.ns_per_op());
    }
    Ok(Outcome::Measured {
        n,
        lab: Spread::of(&on).expect("count is at least 1"),
        bare: Spread::of(&off).expect("count is at least 1"),
        p_value: crate::measure::stats::mann_whitney_u(&on, &off),
        words_per_gc: None,
    })
}

/// Every workload of `plan` at every procs on every scheduler, `plan.count` interleaved runs
/// each, against `against` (for the bare loop, each workload must have one); `step` is told
/// before each calibration and each pair of runs (`against.steps(plan.count)` times per
/// combination). Peers in the plan are ignored.
pub fn run(
    plan: &Plan,
    against: Against,
    mut step: impl FnMut(String),
) -> Result<Vec<Overhead>, LabError> {
    struct HasBare<'a>(&'a str);
    impl SchedVisitor for HasBare<'_> {
        type Out = bool;
        fn visit<S: Scheduler>(self) -> bool {
            bare_fn::<S>(self.0).is_some()
        }
    }
    let scheds: Vec<_> = plan
        .subjects
        .iter()
        .filter_map(|s| match s {
            Subject::Sched(s) => Some(*s),
            Subject::Peer(_) => None,
        })
        .collect();
    for b in plan.benches.iter().filter(|_| against == Against::Bare) {
        if !registry::with_scheduler(registry::SCHEDULERS[0].name, HasBare(b.name)).unwrap_or(false)
        {
            return Err(LabError::UnknownName {
                kind: "core workload (one with a bare loop)",
                name: b.name.to_string(),
                known: registry::WORKLOADS
                    .iter()
                    .filter(|w| w.core)
                    .map(|w| w.name)
                    .collect(),
            });
        }
    }
    let mut rows = Vec::new();
    for &bench in &plan.benches {
        for &procs in &plan.procs {
            for s in &scheds {
                let v = Combination {
                    against,
                    bench,
                    procs,
                    benchtime: plan.benchtime,
                    count: plan.count,
                    step: &mut step,
                };
                let outcome = registry::with_scheduler(s.name, v)
                    .expect("a registry scheduler")
                    .map_err(|err| LabError::Run {
                        sched: s.name.to_string(),
                        bench: bench.name.to_string(),
                        procs,
                        err,
                    })?;
                rows.push(Overhead {
                    bench,
                    procs,
                    sched: s.name,
                    outcome,
                });
            }
        }
    }
    Ok(rows)
}

/// The table: workload, procs, scheduler, the lab's and the bare loop's medians with their
/// spreads, N, the ratio and whether it is within [`TARGET`]; then the machine. Against the
/// traced lab, the columns are the traced and untraced medians and their ratio.
pub fn render(
    rows: &[Overhead],
    against: Against,
    count: usize,
    benchtime: Duration,
    machine: &Machine,
) -> String {
    use crate::output::benchfmt::format_ns;
    let traced = matches!(against, Against::Traced { .. });
    let pct = |s: &Spread| format!("±{:.1}%", 100.0 * s.rel_spread());
    let (a, b) = if traced {
        ("traced ns/op", "untraced")
    } else {
        ("lab ns/op", "bare ns/op")
    };
    let within = if traced {
        String::new()
    } else {
        format!("  within {:.0}%", TARGET * 100.0)
    };
    let mut s = format!(
        "{:<27} {:>5}  {:<15} {:>12} {:>7} {:>10} {:>7} {:>10} {:>7}{within}  differ (p)\n",
        "workload", "procs", "scheduler", a, "spread", b, "spread", "N", "ratio",
    );
    for r in rows {
        let head = format!("{:<27} {:>5}  {:<15}", r.bench.name, r.procs, r.sched);
        match &r.outcome {
            Outcome::Measured {
                n,
                lab,
                bare,
                p_value,
                ..
            } => {
                let ratio = lab.median / bare.median;
                let differ = match p_value {
                    Some(p) if *p < 0.05 => format!("yes ({p:.3})"),
                    Some(p) => format!("~ ({p:.3})"),
                    None => String::new(),
                };
                let within = if traced {
                    String::new()
                } else {
                    let ok = r.within_target() == Some(true);
                    format!("  {:<9}", if ok { "yes" } else { "NO" })
                };
                s.push_str(&format!(
                    "{head} {:>12} {:>7} {:>10} {:>7} {:>10} {:>7.3}{within}  {differ}\n",
                    format_ns(lab.median),
                    pct(lab),
                    format_ns(bare.median),
                    pct(bare),
                    n,
                    ratio,
                ));
            }
            Outcome::NotApplicable(why) => s.push_str(&format!("{head} n/a ({why})\n")),
            Outcome::Starved => s.push_str(&format!("{head} starved (no figure)\n")),
        }
    }
    let scans: Vec<String> = rows
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Measured {
                lab,
                bare,
                words_per_gc: Some((lw, bw)),
                ..
            } => Some(format!(
                "  {} procs {} {}: lab {lw:.0} words/gc, bare {bw:.0}: {:+.0} words for {:+.0} ns/op{}\n",
                r.bench.name,
                r.procs,
                r.sched,
                lw - bw,
                lab.median - bare.median,
                if lw > bw {
                    format!(" ({:.1} ns a word)", (lab.median - bare.median) / (lw - bw))
                } else {
                    String::new()
                }
            )),
            _ => None,
        })
        .collect();
    if !scans.is_empty() {
        s.push_str("stack words the collector read per collection (a stop-the-world scan reads the timed loop's callers' frames too: the lab's ramp and B, as Go 1.0-1.4's read testing.B's):\n");
        s.extend(scans);
    }
    let what = match against {
        Against::Bare => "ratio = lab / bare; spread = the larger distance from the median to min or max; N = the bare loop's ops, the last-round N of a calibrating lab run; differ: the lab's and the bare loop's runs differ".to_string(),
        Against::Traced { events } => format!("ratio = traced / untraced, the lab's figure with the execution tracer on (keeping {events} events per M) over the same with it off, each run its own ramp; spread = the larger distance from the median to min or max; N = the first untraced run's last-round N; differ: the traced and untraced runs differ"),
    };
    s.push_str(&format!(
        "(medians of {count} interleaved runs, benchtime {}; {what} by the table's test, two-sided Mann-Whitney U, p < 0.05, `~` where they do not; {}, {} cores)\n",
        humantime::format_duration(benchtime),
        machine.cpu_model,
        machine.cores
    ));
    s
}
