//! `lab trace`: one workload on one or more schedulers with the execution tracer on
//! (`Config::trace`), turned into a Chrome trace-event file ([`chrome`]), a timeline picture of
//! a short window ([`timeline`]) and the figures only a trace gives ([`figures`]): scheduling
//! latency, each M's time split, migrations and hand-offs per op, written as summary.md
//! ([`summary`]) and report.html ([`report`]). [`lanes`] rebuilds what each M did from its
//! events, [`starts`] what made each goroutine start.
//!
//! Windows: the rings keep the last `events` of every M, so the trace is complete only from
//! [`schedcore::trace::Trace::complete_from`] on. The figures cover the ramp's last round
//! (placed in the trace by the clock read around each round), or the part of it the rings
//! hold ([`span`]). The picture shows a typical window of that ([`typical`]: as many goroutine
//! starts as the median window of its length, neither a stall nor a burst), and the JSON a
//! longer window around the picture's.

pub mod chrome;
pub mod figures;
pub mod lanes;
pub mod report;
pub mod starts;
pub mod summary;
pub mod timeline;

use crate::error::LabError;
use crate::measure::runner::{self, Measurement, Settings};
use crate::subjects::registry::{self, SchedInfo, SchedVisitor};
use crate::workloads::WorkloadInfo;
use figures::Figures;
use lanes::Lanes;
use schedcore::{RunError, Scheduler};
use serde::Serialize;
use std::io::BufWriter;
use std::path::Path;
use std::time::Duration;
use timeline::Panel;

/// Events kept per M by default: 1 << 18 events of 32 bytes, 8 MiB an M, the last several
/// milliseconds of a busy M (the ring's pages are faulted in as it fills: `--events` can grow
/// it at the price of memory only).
pub const DEFAULT_EVENTS: usize = 1 << 18;

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
    /// The figures, over the ramp's last round (see [`span`]).
    pub figures: Figures,
    /// What the figures cover.
    pub figures_over: String,
    /// The windows of the JSON and of the picture, in ns since the tracer started.
    pub json_window_ns: (u64, u64),
    pub timeline_window_ns: (u64, u64),
    /// The picture's panel over the widest window it may take, narrowed at the end.
    #[serde(skip)]
    pub panel: Panel,
    /// The goroutine starts within the panel's window, to place the narrowed one.
    #[serde(skip)]
    pub(crate) start_ts: Vec<u64>,
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
    centred_on(from + to.saturating_sub(from) / 2, from, to, width)
}

/// A window of `width` centred on `mid`, moved inside `[from, to]` where it sticks out.
pub fn centred_on(mid: u64, from: u64, to: u64, width: u64) -> (u64, u64) {
    if to <= from || width >= to - from {
        return (from, to.max(from));
    }
    let a = mid.saturating_sub(width / 2).clamp(from, to - width);
    (a, a + width)
}

/// A typical window of `width` in `[from, to]`: of the windows of that width that start every
/// half width, the one whose number of goroutine starts (`starts`: their times, sorted) is the
/// nearest to the mean over `[from, to]` (so neither a stall nor a burst, and where a run
/// switches between two regimes, one that shows both), the nearest to the middle among
/// equals; the middle one when there are no starts.
pub fn typical(starts: &[u64], from: u64, to: u64, width: u64) -> (u64, u64) {
    let middle = centred(from, to, width);
    if starts.is_empty() || to <= from || width == 0 || width >= to - from {
        return middle;
    }
    let count =
        |a: u64, b: u64| starts.partition_point(|&t| t < b) - starts.partition_point(|&t| t < a);
    let mean = count(from, to) as f64 * width as f64 / (to - from) as f64;
    let step = (width / 2).max(1);
    let a = (0..)
        .map(|k| from + k * step)
        .take_while(|&a| a + width <= to)
        .min_by(|&x, &y| {
            let off = |a: u64| (count(a, a + width) as f64 - mean).abs();
            off(x)
                .total_cmp(&off(y))
                .then(x.abs_diff(middle.0).cmp(&y.abs_diff(middle.0)))
        })
        .unwrap_or(middle.0);
    (a, a + width)
}

/// Runs one scheduler twice, tracing off and on.
struct Twice<'a> {
    bench: &'static WorkloadInfo,
    settings: &'a Settings,
    events: usize,
}

impl SchedVisitor for Twice<'_> {
    type Out = Result<(Measurement, runner::Traced), RunError>;

    fn visit<S: Scheduler>(self) -> Self::Out {
        let f = registry::workload_fn::<S>(self.bench.name).expect("a registry workload");
        let off = runner::measure::<S>(f, self.bench.batch, self.bench.max_n, self.settings)?;
        let on = runner::measure_traced::<S>(
            f,
            self.bench.batch,
            self.bench.max_n,
            self.settings,
            Some(self.events),
        )?;
        Ok((off, on))
    }
}

/// The part of a trace the figures cover, and how many ops it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub from: u64,
    pub to: u64,
    /// The ops in it (`None`: no figure, e.g. a starved run).
    pub ops: Option<f64>,
    /// What it is, for the summary.
    pub what: String,
}

/// The figures' span: the ramp's last round (`last`: where it was timed, in the trace's
/// clock, and its N), or the part of it the rings hold; the complete part of the trace
/// (`complete`..`end`) when the round is older than that, with the ops estimated from
/// `ns_per_op`.
pub fn span(
    last: Option<((u64, u64), u64)>,
    complete: u64,
    end: u64,
    ns_per_op: Option<f64>,
) -> Span {
    match last {
        Some(((a, b), n)) if b > complete && a < end && b > a => {
            let (from, to) = (a.max(complete), b.min(end));
            let share = (to - from) as f64 / (b - a) as f64;
            let what = if (from, to) == (a, b) {
                format!("the ramp's last round (N = {n}), whole")
            } else {
                format!(
                    "the part of the ramp's last round (N = {n}) the rings hold: {:.0}% of it",
                    100.0 * share
                )
            };
            Span {
                from,
                to,
                ops: ns_per_op.map(|_| n as f64 * share),
                what,
            }
        }
        _ => Span {
            from: complete,
            to: end,
            ops: ns_per_op
                .filter(|&x| x > 0.0 && end > complete)
                .map(|x| (end - complete) as f64 / x),
            what: "the complete part of the trace (the last round is older than the rings hold); ops estimated as its length over the traced ns/op".into(),
        },
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
        let (off, traced) = registry::with_scheduler(s.name, v)
            .expect("a registry scheduler")
            .map_err(|err| LabError::Run {
                sched: s.name.to_string(),
                bench: opts.bench.name.to_string(),
                procs,
                err,
            })?;
        let on = traced.measurement;
        let trace = traced.trace.ok_or_else(|| {
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
        let complete = trace.complete_from();
        let first = trace
            .ms
            .iter()
            .filter_map(|m| m.events.first().map(|e| e.ts))
            .min()
            .unwrap_or(0);
        let end = lanes.end;
        let last = traced.rounds_ns.last().map(|&r| (r, on.iterations()));
        let sp = span(last, complete, end, ns_on);
        let figures = figures::compute(&trace, &lanes, &starts, sp.from, sp.to, sp.ops);
        // The widest window the picture may take (narrowed once every run is in), typical of
        // the figures' span, and the JSON's around it.
        let start_ts: Vec<u64> = starts.iter().map(|s| s.ts).collect();
        let widest = opts.window.unwrap_or(MAX_WINDOW).as_nanos() as u64;
        let timeline_window = typical(&start_ts, sp.from, sp.to, widest);
        let json_window = match opts.json_window {
            Some(w) => {
                let mid = timeline_window.0 + (timeline_window.1 - timeline_window.0) / 2;
                centred_on(mid, complete, end, w.as_nanos() as u64)
            }
            None => (first, end),
        };
        let start_ts: Vec<u64> = start_ts
            .into_iter()
            .filter(|t| (timeline_window.0..timeline_window.1).contains(t))
            .collect();
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
                format!("{} ns/op", crate::output::benchfmt::format_ns(v))
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
            figures_over: sp.what,
            json_window_ns: json_window,
            timeline_window_ns: timeline_window,
            panel,
            start_ts,
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
    let w = opts
        .window
        .unwrap_or_else(|| auto_window(out.iter().filter_map(|t| t.ns_per_op_traced)));
    for t in &mut out {
        let (a, b) = t.timeline_window_ns;
        t.timeline_window_ns = typical(&t.start_ts, a, b, w.as_nanos() as u64);
        t.panel = t.panel.narrowed(t.timeline_window_ns);
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
            started: std::time::Instant::now(),
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
        assert_eq!(centred_on(150, 100, 1100, 200), (100, 300));
        assert_eq!(centred_on(1050, 100, 1100, 200), (900, 1100));
        assert_eq!(centred_on(600, 100, 1100, 200), (500, 700));
    }

    #[test]
    fn a_typical_window_is_neither_a_stall_nor_a_burst() {
        // Starts every 10 ns over [0, 1000), none in the stall [400, 600), a burst at 900.
        let mut s: Vec<u64> = (0..100)
            .map(|k| k * 10)
            .filter(|t| !(400..600).contains(t))
            .collect();
        s.extend((0..50).map(|k| 900 + k));
        s.sort_unstable();
        let (a, b) = typical(&s, 0, 1000, 100);
        assert_eq!(b - a, 100);
        // 130 starts in all, 13 a window on average: 10, as most windows hold, is the
        // nearest; of those, the nearest the middle (450..550 is the stall).
        let n = s.iter().filter(|t| (a..b).contains(t)).count();
        assert_eq!(n, 10, "{a}..{b}");
        assert_eq!((a, b), (300, 400));
        assert_eq!(typical(&[], 0, 1000, 100), (450, 550));
        assert_eq!(typical(&s, 0, 1000, 5000), (0, 1000));
    }

    #[test]
    fn the_automatic_window_fits_the_slowest_run() {
        assert_eq!(auto_window([300.0, 60_000.0]), Duration::from_micros(480));
        assert_eq!(auto_window([300.0]), MIN_WINDOW);
        assert_eq!(auto_window([]), MIN_WINDOW);
        assert_eq!(auto_window([1e7]), MAX_WINDOW);
    }

    #[test]
    fn the_span_is_the_last_round_or_what_the_rings_hold_of_it() {
        // The round from 1000 to 3000 with N = 100, all held.
        let s = span(Some(((1000, 3000), 100)), 0, 5000, Some(20.0));
        assert_eq!((s.from, s.to, s.ops), (1000, 3000, Some(100.0)));
        assert!(s.what.contains("whole"));
        // The rings hold its last quarter.
        let s = span(Some(((1000, 3000), 100)), 2500, 5000, Some(20.0));
        assert_eq!((s.from, s.to, s.ops), (2500, 3000, Some(25.0)));
        assert!(s.what.contains("25%"));
        // The round is older than the rings: the complete part, ops from ns/op.
        let s = span(Some(((1000, 3000), 100)), 4000, 5000, Some(20.0));
        assert_eq!((s.from, s.to, s.ops), (4000, 5000, Some(50.0)));
        // A starved run has no ops.
        assert_eq!(span(Some(((0, 10), 1)), 0, 20, None).ops, None);
        assert_eq!(span(None, 0, 20, None).to, 20);
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
