//! The figures a trace makes possible, over a window of it (by default the part where every
//! M's record is complete, [`Trace::complete_from`] to the last event): scheduling latency
//! (runnable to running) as percentiles, each M's time split into running / syscall /
//! scheduler / spinning / asleep, goroutine migrations between M's and hand-offs, per op.
//!
//! Per op: the caller says how many ops the window holds (`lab trace`: the last round's N,
//! times the share of the round the window covers).

use super::lanes::{Activity, Lanes};
use super::starts::Start;
use crate::measure::stats::Percentiles;
use schedcore::trace::{Ev, Trace};
use serde::Serialize;
use std::collections::BTreeMap;

/// Nanoseconds of an M (or of all of them) in each activity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Split {
    /// Running a goroutine (its syscalls excluded).
    pub running: u64,
    /// In a goroutine's syscall.
    pub syscall: u64,
    /// In the scheduler: on g0, neither spinning nor asleep.
    pub sched: u64,
    pub spinning: u64,
    pub asleep: u64,
    /// Before the M's first telling event (its ring overwrote older ones).
    pub unknown: u64,
}

impl Split {
    /// The activities in the order tables show them, with their labels.
    pub fn labelled(&self) -> [(&'static str, u64); 6] {
        [
            ("running", self.running),
            ("syscall", self.syscall),
            ("scheduler", self.sched),
            ("spinning", self.spinning),
            ("asleep", self.asleep),
            ("unknown", self.unknown),
        ]
    }

    pub fn add(&mut self, what: Activity, ns: u64) {
        let slot = match what {
            Activity::Running => &mut self.running,
            Activity::Syscall => &mut self.syscall,
            Activity::Sched => &mut self.sched,
            Activity::Spinning => &mut self.spinning,
            Activity::Asleep => &mut self.asleep,
            Activity::Unknown => &mut self.unknown,
        };
        *slot += ns;
    }

    pub fn merge(&mut self, o: &Split) {
        for (k, v) in [
            (Activity::Running, o.running),
            (Activity::Syscall, o.syscall),
            (Activity::Sched, o.sched),
            (Activity::Spinning, o.spinning),
            (Activity::Asleep, o.asleep),
            (Activity::Unknown, o.unknown),
        ] {
            self.add(k, v);
        }
    }

    pub fn total(&self) -> u64 {
        self.labelled().iter().map(|(_, v)| v).sum()
    }
}

/// One M's split.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MSplit {
    pub m: i64,
    pub name: String,
    /// sysmon's M: shown, and left out of the total (its usleeps are no M events).
    pub sysmon: bool,
    pub ns: Split,
}

/// Everything computed over one window of one trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Figures {
    /// The window, in ns since the tracer started.
    pub from_ns: u64,
    pub to_ns: u64,
    /// Runnable to running, every start in the window whose cause the trace holds.
    pub latency: Option<Percentiles>,
    /// The same by what made the goroutine runnable: `create`, `unblock`, `yield`,
    /// `preempt`, `syscall` (a slow syscall exit).
    pub latency_by_cause: BTreeMap<String, Percentiles>,
    /// Goroutine starts in the window.
    pub starts: u64,
    /// Starts whose cause the trace does not hold (before the window, or lost).
    pub starts_without_cause: u64,
    /// Starts on another M than the goroutine's previous start.
    pub migrations: u64,
    /// `GoUnblock` events in the window.
    pub unblocks: u64,
    /// Unblocks whose goroutine then started on another M than the unblocker's.
    pub handoffs: u64,
    /// Per M, in the order of the trace.
    pub split: Vec<MSplit>,
    /// Every M but sysmon's, together.
    pub total: Split,
    /// The ops in the window, as the caller counted them (`None` without a figure, e.g. a
    /// starved run).
    pub ops: Option<f64>,
    pub migrations_per_op: Option<f64>,
    pub handoffs_per_op: Option<f64>,
}

/// The name of a cause in `latency_by_cause`.
pub fn cause(ev: Ev) -> &'static str {
    match ev {
        Ev::GoCreate => "create",
        Ev::GoUnblock => "unblock",
        Ev::GoSched => "yield",
        Ev::GoPreempt => "preempt",
        Ev::GoSysExit => "syscall",
        _ => "other",
    }
}

/// The figures of `[from, to]`: `lanes` and `starts` are the whole trace's; `ops` the ops the
/// window holds, for the per-op rates.
pub fn compute(
    trace: &Trace,
    lanes: &Lanes,
    starts: &[Start],
    from: u64,
    to: u64,
    ops: Option<f64>,
) -> Figures {
    let within = |ts: u64| (from..=to).contains(&ts);
    let mut all = schedcore::report::latency_histogram();
    let mut by: BTreeMap<&str, hdrhistogram::Histogram<u64>> = BTreeMap::new();
    let (mut n, mut without, mut migrations, mut handoffs) = (0, 0, 0, 0);
    for s in starts.iter().filter(|s| within(s.ts)) {
        n += 1;
        match (s.latency(), s.ready) {
            (Some(l), Some(r)) => {
                all.saturating_record(l);
                by.entry(cause(r.ev))
                    .or_insert_with(schedcore::report::latency_histogram)
                    .saturating_record(l);
            }
            _ => without += 1,
        }
        migrations += u64::from(s.migrated());
        handoffs += u64::from(s.handed_off());
    }
    let unblocks = trace
        .ms
        .iter()
        .flat_map(|m| &m.events)
        .filter(|e| e.ev == Ev::GoUnblock && within(e.ts))
        .count() as u64;
    let mut split = Vec::new();
    let mut total = Split::default();
    for lane in &lanes.lanes {
        let mut ns = Split::default();
        for s in &lane.segs {
            let (a, b) = (s.start.max(from), s.end.min(to));
            if b > a {
                ns.add(s.what, b - a);
            }
        }
        if !lane.is_sysmon() {
            total.merge(&ns);
        }
        split.push(MSplit {
            m: lane.m,
            name: lane.name.clone(),
            sysmon: lane.is_sysmon(),
            ns,
        });
    }
    let per_op = |k: u64| ops.filter(|&o| o > 0.0).map(|o| k as f64 / o);
    Figures {
        from_ns: from,
        to_ns: to,
        latency: Percentiles::of(&all),
        latency_by_cause: by
            .iter()
            .filter_map(|(k, h)| Some((k.to_string(), Percentiles::of(h)?)))
            .collect(),
        starts: n,
        starts_without_cause: without,
        migrations,
        unblocks,
        handoffs,
        split,
        total,
        ops,
        migrations_per_op: per_op(migrations),
        handoffs_per_op: per_op(handoffs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::starts::starts;
    use crate::trace::testing::{ev, m_trace, trace};

    /// Two M's ping-ponging g1 and g2, with a known answer for every figure.
    fn ping_pong() -> Trace {
        trace(vec![
            m_trace(
                0,
                0,
                vec![
                    ev(0, Ev::GoStart, 1, 0),
                    ev(10, Ev::GoUnblock, 2, 1),
                    ev(20, Ev::GoBlock, 1, 0),
                    ev(30, Ev::MSleep, 0, 0),
                    ev(70, Ev::MWake, 0, 0),
                    ev(80, Ev::GoStart, 1, 0),
                    ev(90, Ev::GoSysCall, 1, 1),
                    ev(95, Ev::GoSysExit, 1, 1),
                    ev(100, Ev::GoEnd, 1, 0),
                ],
            ),
            m_trace(
                1,
                0,
                vec![
                    ev(0, Ev::SpinStart, 0, 0),
                    ev(15, Ev::SpinStop, 0, 0),
                    ev(40, Ev::GoStart, 2, 1),
                    ev(50, Ev::GoUnblock, 1, 2),
                    ev(60, Ev::GoBlock, 2, 0),
                    ev(100, Ev::GoStart, 2, 1),
                ],
            ),
        ])
    }

    #[test]
    fn known_answers() {
        let t = ping_pong();
        let lanes = Lanes::build(&t);
        let s = starts(&t);
        let f = compute(&t, &lanes, &s, 0, 100, Some(2.0));
        // Starts: g1 at 0 (no cause), g2 at 40 (unblocked at 10: 30 ns, on another M: a
        // hand-off), g1 at 80 (unblocked at 50 by g2 on M1: 30 ns, hand-off), g2 at 100 (its
        // previous start was on M1 too: no cause held, blocked at 60 and never unblocked).
        assert_eq!(f.starts, 4);
        assert_eq!(f.starts_without_cause, 2);
        let l = f.latency.as_ref().unwrap();
        assert_eq!((l.count, l.p50, l.max), (2, 30, 30));
        assert_eq!(f.latency_by_cause["unblock"].count, 2);
        assert_eq!(f.unblocks, 2);
        assert_eq!(f.handoffs, 2);
        assert_eq!(f.migrations, 0);
        // M0: running 0-20, 80-90, 95-100 (35); syscall 90-95 (5); sched 20-30, 70-80
        // (20); asleep 30-70 (40).
        let m0 = f.split[0].ns;
        assert_eq!(
            (m0.running, m0.syscall, m0.sched, m0.asleep, m0.spinning),
            (35, 5, 20, 40, 0)
        );
        // M1: spinning 0-15, sched 15-40 and 60-100, running 40-60.
        let m1 = f.split[1].ns;
        assert_eq!((m1.spinning, m1.sched, m1.running), (15, 65, 20));
        assert_eq!(f.total.total(), 200);
        assert_eq!(f.ops, Some(2.0));
        assert_eq!(f.handoffs_per_op, Some(1.0));
    }

    #[test]
    fn a_window_clips_time_and_counts_only_its_starts() {
        let t = ping_pong();
        let lanes = Lanes::build(&t);
        let s = starts(&t);
        let f = compute(&t, &lanes, &s, 50, 100, None);
        assert_eq!(f.starts, 2);
        assert_eq!(f.unblocks, 1);
        assert_eq!(f.handoffs, 1);
        assert_eq!(f.total.total(), 100);
        assert_eq!(f.ops, None);
        assert_eq!(f.handoffs_per_op, None);
    }

    #[test]
    fn migrations_and_sysmon() {
        let t = trace(vec![
            m_trace(
                0,
                0,
                vec![
                    ev(0, Ev::GoStart, 1, 0),
                    ev(10, Ev::GoSched, 1, 0),
                    ev(30, Ev::GoStart, 1, 0),
                ],
            ),
            m_trace(
                1,
                0,
                vec![ev(12, Ev::GoStart, 1, 1), ev(20, Ev::GoPreempt, 1, 0)],
            ),
            m_trace(
                2,
                0,
                vec![ev(0, Ev::Retake, 0, 0), ev(30, Ev::Retake, 0, 0)],
            ),
        ]);
        let mut t = t;
        t.ms[2].name = "M2 (sysmon)".into();
        let lanes = Lanes::build(&t);
        let s = starts(&t);
        let f = compute(&t, &lanes, &s, 0, 30, Some(3.0));
        assert_eq!(f.migrations, 2);
        assert_eq!(f.migrations_per_op, Some(2.0 / 3.0));
        assert_eq!(f.latency_by_cause["yield"].p50, 2);
        assert_eq!(f.latency_by_cause["preempt"].p50, 10);
        assert!(f.split[2].sysmon);
        assert_eq!(f.split[2].ns.sched, 30);
        // The total leaves sysmon out: M0 from 0 and M1 from its first event at 12.
        assert_eq!(f.total.total(), 30 + 18);
    }
}
