//! `lab trace`: one workload on one or more schedulers with the execution tracer on
//! (`Config::trace`), turned into a Chrome trace-event file ([`chrome`]), a timeline picture of
//! a short window ([`timeline`]) and the figures only a trace gives ([`figures`]): scheduling
//! latency, each M's time split, migrations and hand-offs per op. [`lanes`] rebuilds what each
//! M did from its events, [`starts`] what made each goroutine start.
//!
//! Windows: the rings keep the last `events` of every M, so the trace is complete only from
//! [`Trace::complete_from`] on; the figures cover that part, to the last event. The JSON and
//! the picture show windows of it centred on its middle (the ramp's last round takes most of
//! a run, and ends it but for the untimed latency round and the teardown).

pub mod chrome;
pub mod figures;
pub mod lanes;
pub mod starts;
pub mod summary;
pub mod timeline;

use crate::error::LabError;
use crate::registry::{self, SchedInfo, SchedVisitor, WorkloadInfo};
use crate::runner::{self, Measurement, Settings};
use figures::Figures;
use lanes::Lanes;
use schedcore::trace::Trace;
use schedcore::{RunError, Scheduler};
use serde::Serialize;
use std::io::BufWriter;
use std::path::Path;
use std::time::Duration;
use timeline::Panel;

/// Events kept per M by default: 1 << 20 events of 32 bytes, 32 MiB an M. At a few hundred
/// ns a goroutine switch, that is the last tens of milliseconds of a busy M, more than a
/// default `lab trace` round.
pub const DEFAULT_EVENTS: usize = 1 << 20;

/// What `lab trace` runs.
#[derive(Clone, Debug)]
pub struct Options {
    pub scheds: Vec<&'static SchedInfo>,
    pub bench: &'static WorkloadInfo,
    /// procs, benchtime, lock, work.
    pub settings: Settings,
    /// Events kept per M.
    pub events: usize,
    /// The timeline's window; `None`: [`auto_window`].
    pub window: Option<Duration>,
    /// The JSON's window; `None`: the whole trace.
    pub json_window: Option<Duration>,
}

/// Resolves `lab trace`'s names: schedulers (every one when none is given; a peer is refused,
/// it has no tracer), exactly one workload and exactly one procs, within every scheduler's
/// limit.
pub fn resolve(
    scheds: &[String],
    benches: &[String],
    procs: &[usize],
) -> Result<(Vec<&'static SchedInfo>, &'static WorkloadInfo, usize), LabError> {
    let mut out: Vec<&'static SchedInfo> = Vec::new();
    if scheds.is_empty() {
        out.extend(registry::SCHEDULERS);
    }
    for name in scheds {
        if registry::peer(name).is_some() {
            return Err(LabError::BadValue(format!(
                "{name} is a peer, and only the lab's schedulers record traces (lab trace --sched {})",
                sched_names().join(",")
            )));
        }
        let s = registry::scheduler(name).ok_or_else(|| LabError::UnknownName {
            kind: "scheduler",
            name: name.clone(),
            known: sched_names(),
        })?;
        if !out.iter().any(|o| o.name == s.name) {
            out.push(s);
        }
    }
    let bench = match benches {
        [one] => registry::workload(one).ok_or_else(|| LabError::UnknownName {
            kind: "workload",
            name: one.clone(),
            known: registry::WORKLOADS.iter().map(|w| w.name).collect(),
        })?,
        _ => {
            return Err(LabError::BadValue(
                "lab trace takes one workload: --bench W (see lab list)".into(),
            ))
        }
    };
    let &[p] = procs else {
        return Err(LabError::BadValue(format!(
            "lab trace takes one procs value, not {} (--procs N)",
            procs.len()
        )));
    };
    if let Some(s) = out.iter().find(|s| p > s.max_procs) {
        return Err(LabError::ProcsOverLimit {
            sched: s.name,
            procs: p,
            max: s.max_procs,
        });
    }
    Ok((out, bench, p))
}

fn sched_names() -> Vec<&'static str> {
    registry::SCHEDULERS.iter().map(|s| s.name).collect()
}

/// What a scheduler's traced run gave, once its trace is written and dropped.
#[derive(Clone, Debug, Serialize)]
pub struct SchedTrace {
    pub sched: String,
    /// The runtime lock it ran on.
    pub lock: String,
    /// ns/op of the traced run; `None` when it starved.
    pub ns_per_op_traced: Option<f64>,
    /// ns/op of the same workload run just before with tracing off (one run each: a
    /// first look at what tracing costs; `lab overhead --trace` measures it properly).
    pub ns_per_op_untraced: Option<f64>,
    /// N of the traced run's last round.
    pub iterations: u64,
    pub starved: bool,
    /// M's in the trace, events kept, events the rings overwrote.
    pub ms: usize,
    pub events: u64,
    pub lost: u64,
    /// The trace's length in ns.
    pub span_ns: u64,
    /// The figures, over the complete part of the trace.
    pub figures: Figures,
    /// The windows of the JSON and of the picture, in ns since the tracer started.
    pub json_window_ns: (u64, u64),
    pub timeline_window_ns: (u64, u64),
    #[serde(skip)]
    pub panel: Panel,
}

/// The timeline's window when none is given: the same for every scheduler, so that their
/// panels share a time scale: 8 ops of the slowest traced run, from 200 us to 5 ms.
pub fn auto_window(ns_per_op: impl IntoIterator<Item = f64>) -> Duration {
    let slowest = ns_per_op.into_iter().fold(0.0, f64::max);
    let ns = (8.0 * slowest).clamp(MIN_WINDOW.as_nanos() as f64, MAX_WINDOW.as_nanos() as f64);
    Duration::from_nanos(ns as u64)
}

/// The bounds of [`auto_window`].
pub const MIN_WINDOW: Duration = Duration::from_micros(200);
pub const MAX_WINDOW: Duration = Duration::from_millis(5);

/// A window of `width` centred on the middle of `[from, to]`, kept inside it.
pub fn centred(from: u64, to: u64, width: u64) -> (u64, u64) {
    if to <= from || width >= to - from {
        return (from, to.max(from));
    }
    let a = from + (to - from - width) / 2;
    (a, a + width)
}

/// Runs one scheduler twice, tracing off and on.
struct Twice<'a> {
    bench: &'static WorkloadInfo,
    settings: &'a Settings,
    events: usize,
}

impl SchedVisitor for Twice<'_> {
    type Out = Result<(Measurement, Measurement, Option<Trace>), RunError>;

    fn visit<S: Scheduler>(self) -> Self::Out {
        let f = registry::workload_fn::<S>(self.bench.name).expect("a registry workload");
        let off = runner::measure::<S>(f, self.bench.batch, self.bench.max_n, self.settings)?;
        let (on, trace) = runner::measure_traced::<S>(
            f,
            self.bench.batch,
            self.bench.max_n,
            self.settings,
            Some(self.events),
        )?;
        Ok((off, on, trace))
    }
}

/// Runs every scheduler of `opts` in turn (tracing off, then on), writes `trace.json` and the
/// timeline (`timeline.svg`, `timeline.png`) into `dir` with `foot` under the picture, and
/// returns each scheduler's figures. `step` is told before each run.
pub fn run(
    opts: &Options,
    dir: &Path,
    foot: &str,
    mut step: impl FnMut(String),
) -> Result<Vec<SchedTrace>, LabError> {
    let io_err = |err| LabError::Io {
        path: dir.to_path_buf(),
        err,
    };
    let file = std::fs::File::create(dir.join("trace.json")).map_err(io_err)?;
    let mut json = chrome::Writer::new(BufWriter::new(file)).map_err(io_err)?;
    let procs = opts.settings.procs;
    let mut out = Vec::new();
    for (k, s) in opts.scheds.iter().enumerate() {
        step(format!(
            "{} on {} at procs {procs}, tracing off then on",
            opts.bench.name, s.name
        ));
        let v = Twice {
            bench: opts.bench,
            settings: &opts.settings,
            events: opts.events,
        };
        let (off, on, trace) = registry::with_scheduler(s.name, v)
            .expect("a registry scheduler")
            .map_err(|err| LabError::Run {
                sched: s.name.to_string(),
                bench: opts.bench.name.to_string(),
                procs,
                err,
            })?;
        let trace = trace.ok_or_else(|| {
            LabError::BadValue(format!(
                "{} returned no trace: its runtime ignores Config::trace",
                s.name
            ))
        })?;
        let lock = opts.settings.lock.unwrap_or(s.era_lock);
        let figure = |m: &Measurement| (!m.starved).then(|| m.ns_per_op());
        let (ns_on, ns_off) = (figure(&on), figure(&off));
        let lanes = Lanes::build(&trace);
        let starts = starts::starts(&trace);
        let from = trace.complete_from();
        let first = trace
            .ms
            .iter()
            .filter_map(|m| m.events.first().map(|e| e.ts))
            .min()
            .unwrap_or(0);
        let to = lanes.end;
        let figures = figures::compute(&trace, &lanes, &starts, from, to, ns_on);
        let json_window = match opts.json_window {
            Some(w) => centred(from, to, w.as_nanos() as u64),
            None => (first, to),
        };
        // Without a window given, the widest one the picture may take, narrowed at the end.
        let width = opts.window.unwrap_or(MAX_WINDOW);
        let timeline_window = centred(from, to, width.as_nanos() as u64);
        let title = format!(
            "{} ({} lock): {} at procs {procs}",
            s.name, lock, opts.bench.name
        );
        json.process(
            k as u32 + 1,
            &chrome::Process {
                title: &title,
                trace: &trace,
                lanes: &lanes,
                starts: &starts,
                window: json_window,
            },
        )
        .map_err(io_err)?;
        let ns = |x: Option<f64>| {
            x.map_or("starved".to_string(), |v| {
                format!("{} ns/op", crate::benchfmt::format_ns(v))
            })
        };
        let panel = Panel::new(
            format!("{title}: {} traced, {} untraced", ns(ns_on), ns(ns_off)),
            &lanes,
            timeline_window,
        );
        out.push(SchedTrace {
            sched: s.name.to_string(),
            lock: lock.name().to_string(),
            ns_per_op_traced: ns_on,
            ns_per_op_untraced: ns_off,
            iterations: on.iterations(),
            starved: on.starved,
            ms: trace.ms.len(),
            events: trace.ms.iter().map(|m| m.events.len() as u64).sum(),
            lost: trace.ms.iter().map(|m| m.lost).sum(),
            span_ns: trace.span_ns,
            figures,
            json_window_ns: json_window,
            timeline_window_ns: timeline_window,
            panel,
        });
    }
    json.finish(serde_json::json!({
        "generator": "lab trace",
        "bench": opts.bench.name,
        "procs": procs,
        "schedulers": out.iter().map(|t| t.sched.as_str()).collect::<Vec<_>>(),
        "time": "microseconds from the start of each scheduler's window (json_window_ns in figures.json)",
    }))
    .map_err(io_err)?;
    if opts.window.is_none() {
        let w = auto_window(out.iter().filter_map(|t| t.ns_per_op_traced));
        for t in &mut out {
            let f = &t.figures;
            t.timeline_window_ns = centred(f.from_ns, f.to_ns, w.as_nanos() as u64);
            t.panel = t.panel.narrowed(t.timeline_window_ns);
        }
    }
    let panels: Vec<Panel> = out.iter().map(|t| t.panel.clone()).collect();
    timeline::draw(dir, "timeline", &panels, foot).map_err(LabError::Chart)?;
    Ok(out)
}

/// Builders of synthetic traces for the unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use schedcore::trace::{Ev, Event, MTrace, Trace};

    pub fn ev(ts: u64, ev: Ev, g: u64, arg: u64) -> Event {
        Event {
            ts,
            ev,
            g,
            arg,
            arg2: 0,
        }
    }

    pub fn m_trace(m: i64, lost: u64, events: Vec<Event>) -> MTrace {
        MTrace {
            m,
            name: format!("M{m}"),
            events,
            lost,
        }
    }

    /// A trace of a generation with P's.
    pub fn trace(ms: Vec<MTrace>) -> Trace {
        let span_ns = ms
            .iter()
            .filter_map(|m| m.events.last().map(|e| e.ts))
            .max()
            .unwrap_or(0);
        Trace {
            procs: 1,
            has_ps: true,
            span_ns,
            ticks_per_ns: 1.0,
            ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_centred_and_kept_inside() {
        assert_eq!(centred(100, 1100, 200), (500, 700));
        assert_eq!(centred(100, 1100, 5000), (100, 1100));
        assert_eq!(centred(100, 100, 10), (100, 100));
    }

    #[test]
    fn the_automatic_window_fits_the_slowest_run() {
        assert_eq!(auto_window([300.0, 60_000.0]), Duration::from_micros(480));
        assert_eq!(auto_window([300.0]), MIN_WINDOW);
        assert_eq!(auto_window([]), MIN_WINDOW);
        assert_eq!(auto_window([1e7]), MAX_WINDOW);
    }

    #[test]
    fn names_are_checked() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (scheds, bench, procs) = resolve(
            &names(&["2013", "2011", "2013"]),
            &names(&["ping-pong"]),
            &[2],
        )
        .unwrap();
        let got: Vec<&str> = scheds.iter().map(|s| s.name).collect();
        assert_eq!(got, vec!["2013", "2011"]);
        assert_eq!((bench.name, procs), ("ping-pong", 2));
        let (all, _, _) = resolve(&[], &names(&["syscall"]), &[1]).unwrap();
        assert_eq!(all.len(), registry::SCHEDULERS.len());
        let err = |sc: &[&str], b: &[&str], p: &[usize]| {
            resolve(&names(sc), &names(b), p).unwrap_err().to_string()
        };
        assert!(err(&["floor"], &["ping-pong"], &[2]).contains("is a peer"));
        assert!(err(&["1999"], &["ping-pong"], &[2]).contains("unknown scheduler"));
        assert!(err(&["2013"], &[], &[2]).contains("one workload"));
        assert!(err(&["2013"], &["a", "b"], &[2]).contains("one workload"));
        assert!(err(&["2013"], &["nope"], &[2]).contains("unknown workload"));
        assert!(err(&["2013"], &["ping-pong"], &[1, 2]).contains("one procs"));
        assert!(err(&["2013"], &["ping-pong"], &[100_000]).contains("limit"));
    }
}
