//! What each M was doing over time, rebuilt from its events: nested slices (a goroutine, a
//! syscall or a sleep inside it, a spin) for the Chrome JSON, and the flat sequence of
//! activities (running, syscall, scheduler, spinning, asleep) that the M time split and the
//! timeline read. Also the P's (who held each, from `ProcStart` to `ProcStop`) and the
//! stop-the-world intervals.
//!
//! An M whose ring overwrote older events starts in an unknown state; its first event that
//! says what the M was doing before (a goroutine's stop says one was running, `MWake` that
//! the M slept) fixes it, back to the first retained event.

use schedcore::trace::{Ev, Event, MTrace, Trace, NO_P};
use serde::Serialize;

/// What an M does at one moment: one category of the M time split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// Running a goroutine's code.
    Running,
    /// In a goroutine's syscall (between `GoSysCall` and `GoSysExit`).
    Syscall,
    /// On g0, in the scheduler: neither running, spinning nor asleep.
    Sched,
    /// Spinning: looking for work (`SpinStart`..`SpinStop`).
    Spinning,
    /// Asleep on its note (`MSleep`..`MWake`).
    Asleep,
    /// Before the M's first event that tells (its ring overwrote what came before).
    Unknown,
}

/// One stretch of one activity on an M.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seg {
    pub start: u64,
    pub end: u64,
    pub what: Activity,
    /// The goroutine running or in its syscall (0 for the other activities).
    pub g: u64,
}

/// The kinds of nested slices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A goroutine on the M, from its start (or the trace's) to its stop.
    Goroutine,
    Syscall,
    Sleep,
    Spin,
}

/// A slice of an M's time: slices of one M nest properly (a syscall, sleep or spin inside a
/// goroutine, or at the top level), and every one is closed (at the end of the trace if
/// nothing closed it before).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    pub kind: Kind,
    pub start: u64,
    pub end: u64,
    /// The goroutine (0 for a sleep or spin).
    pub g: u64,
    /// The P a goroutine ran on (`GoStart`'s arg), if the generation has P's.
    pub p: Option<u64>,
    /// The event that closed it (`GoBlock`, `GoSched`...); `None` when something else did
    /// (an enclosing slice closing, the end of the trace).
    pub end_ev: Option<Ev>,
    /// It was already open where the M's retained events start.
    pub cut_start: bool,
}

/// Everything rebuilt for one M.
#[derive(Clone, Debug)]
pub struct Lane {
    pub m: i64,
    pub name: String,
    /// Activities, in order, contiguous from the M's first event to the end of the trace.
    pub segs: Vec<Seg>,
    /// Slices, in order of their start (a parent before its children).
    pub slices: Vec<Slice>,
}

impl Lane {
    /// sysmon's M runs no goroutines and sleeps in usleep, which is no M event: its time is
    /// shown apart and left out of the totals.
    pub fn is_sysmon(&self) -> bool {
        self.name.contains("sysmon")
    }
}

/// Who held a P from `start` to `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hold {
    pub p: u64,
    /// The M's index in `Trace::ms`.
    pub m: usize,
    pub start: u64,
    pub end: u64,
}

/// A stop-the-world: from `StwStart` to `StwDone` on the M that stopped the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stw {
    pub m: usize,
    pub start: u64,
    pub end: u64,
}

/// A trace rebuilt: one lane per M (in the order of `Trace::ms`), the P holds, the STWs.
#[derive(Clone, Debug)]
pub struct Lanes {
    pub lanes: Vec<Lane>,
    pub holds: Vec<Hold>,
    pub stws: Vec<Stw>,
    /// The last event's timestamp: every open slice closes here.
    pub end: u64,
}

/// Every event of the trace in time order (ties: M order, then each M's own order), with the
/// index of its M in `Trace::ms`.
pub fn merged(trace: &Trace) -> Vec<(usize, &Event)> {
    let mut all: Vec<(usize, &Event)> = trace
        .ms
        .iter()
        .enumerate()
        .flat_map(|(i, m)| m.events.iter().map(move |e| (i, e)))
        .collect();
    // A stable sort keeps each M's order among equal timestamps.
    all.sort_by_key(|&(i, e)| (e.ts, i));
    all
}

/// The last event's timestamp (0 for an empty trace).
pub fn trace_end(trace: &Trace) -> u64 {
    trace
        .ms
        .iter()
        .filter_map(|m| m.events.last().map(|e| e.ts))
        .max()
        .unwrap_or(0)
}

impl Lanes {
    pub fn build(trace: &Trace) -> Lanes {
        let end = trace_end(trace);
        let lanes = trace.ms.iter().map(|m| lane(m, end)).collect();
        let (holds, stws) = holds_and_stws(trace, end);
        Lanes {
            lanes,
            holds,
            stws,
            end,
        }
    }
}

/// A slice being built.
#[derive(Clone, Copy, Debug)]
struct Open {
    kind: Kind,
    start: u64,
    g: u64,
    p: Option<u64>,
    cut_start: bool,
}

/// One M's state while its events are replayed.
struct Replay {
    /// Open slices, outermost first.
    stack: Vec<Open>,
    /// Whether the state is known (false until the first telling event of a wrapped ring).
    known: bool,
    slices: Vec<Slice>,
    segs: Vec<Seg>,
    /// The current stretch: its start, activity and goroutine.
    cur: (u64, Activity, u64),
}

impl Replay {
    fn activity(&self) -> (Activity, u64) {
        if !self.known {
            return (Activity::Unknown, 0);
        }
        let on = self.stack.iter().rev().find(|o| o.kind == Kind::Goroutine);
        let g = on.map_or(0, |o| o.g);
        let has = |k| self.stack.iter().any(|o| o.kind == k);
        if has(Kind::Sleep) {
            (Activity::Asleep, 0)
        } else if has(Kind::Syscall) {
            (Activity::Syscall, g)
        } else if has(Kind::Spin) {
            (Activity::Spinning, 0)
        } else if on.is_some() {
            (Activity::Running, g)
        } else {
            (Activity::Sched, 0)
        }
    }

    fn open(&mut self, kind: Kind, ts: u64, g: u64, p: Option<u64>) {
        self.stack.push(Open {
            kind,
            start: ts,
            g,
            p,
            cut_start: false,
        });
    }

    fn has(&self, kind: Kind) -> bool {
        self.stack.iter().any(|o| o.kind == kind)
    }

    /// Closes the innermost open slice of `kind` and everything nested in it, at `ts`.
    fn close(&mut self, kind: Kind, ts: u64, end_ev: Option<Ev>) {
        let Some(at) = self.stack.iter().rposition(|o| o.kind == kind) else {
            return;
        };
        while self.stack.len() > at {
            let o = self.stack.pop().expect("not empty");
            let ev = if self.stack.len() == at { end_ev } else { None };
            self.slices.push(Slice {
                kind: o.kind,
                start: o.start,
                end: ts.max(o.start),
                g: o.g,
                p: o.p,
                end_ev: ev,
                cut_start: o.cut_start,
            });
        }
    }

    /// Starts a new stretch at `ts` if the activity changed.
    fn mark(&mut self, ts: u64) {
        let (what, g) = self.activity();
        if (what, g) != (self.cur.1, self.cur.2) {
            let (start, w, cg) = self.cur;
            if ts > start {
                self.segs.push(Seg {
                    start,
                    end: ts,
                    what: w,
                    g: cg,
                });
            }
            self.cur = (ts, what, g);
        }
    }
}

/// What must have been open before `e`, for an M whose state is not known yet; `None` when
/// `e` does not tell.
fn before(e: &Event) -> Option<Vec<(Kind, u64)>> {
    use Ev::*;
    Some(match e.ev {
        GoStart | MSleep | SpinStart => vec![],
        GoEnd | GoSched | GoPreempt | GoBlock | GoStop | GoSysCall => vec![(Kind::Goroutine, e.g)],
        GoSysExit | GoSysBlock => vec![(Kind::Goroutine, e.g), (Kind::Syscall, e.g)],
        MWake => vec![(Kind::Sleep, 0)],
        SpinStop => vec![(Kind::Spin, 0)],
        GoCreate | GoUnblock if e.arg != 0 => vec![(Kind::Goroutine, e.arg)],
        _ => return None,
    })
}

/// Replays one M's events; open slices close at `end`.
fn lane(m: &MTrace, end: u64) -> Lane {
    let first = m.events.first().map_or(end, |e| e.ts);
    let known = m.lost == 0;
    let mut r = Replay {
        stack: Vec::new(),
        known,
        slices: Vec::new(),
        segs: Vec::new(),
        cur: (
            first,
            if known {
                Activity::Sched
            } else {
                Activity::Unknown
            },
            0,
        ),
    };
    for e in &m.events {
        if !r.known {
            if let Some(open) = before(e) {
                r.known = true;
                for (kind, g) in open {
                    r.stack.push(Open {
                        kind,
                        start: first,
                        g,
                        p: None,
                        cut_start: true,
                    });
                }
                // The stretch so far was this state.
                let (what, g) = r.activity();
                r.cur.1 = what;
                r.cur.2 = g;
            }
        }
        step(&mut r, e);
        r.mark(e.ts);
    }
    while let Some(o) = r.stack.first().copied() {
        r.close(o.kind, end, None);
    }
    r.mark(end);
    let (start, what, g) = r.cur;
    if end > start {
        r.segs.push(Seg {
            start,
            end,
            what,
            g,
        });
    }
    // A parent closes after its children: order by start, parents first.
    r.slices
        .sort_by_key(|s| (s.start, std::cmp::Reverse(s.end), depth(s.kind)));
    Lane {
        m: m.m,
        name: m.name.clone(),
        segs: r.segs,
        slices: r.slices,
    }
}

/// Nesting order among slices that start and end together.
fn depth(k: Kind) -> u8 {
    match k {
        Kind::Goroutine => 0,
        Kind::Syscall => 1,
        Kind::Spin => 2,
        Kind::Sleep => 3,
    }
}

/// Applies one event to the open slices.
fn step(r: &mut Replay, e: &Event) {
    use Ev::*;
    let ts = e.ts;
    match e.ev {
        GoStart => {
            r.close(Kind::Spin, ts, None);
            r.close(Kind::Sleep, ts, None);
            r.close(Kind::Goroutine, ts, None);
            let p = (e.arg != NO_P).then_some(e.arg);
            r.open(Kind::Goroutine, ts, e.g, p);
        }
        GoEnd | GoSched | GoPreempt | GoBlock | GoStop => {
            r.close(Kind::Goroutine, ts, Some(e.ev));
        }
        GoSysCall | GoSysBlock => {
            if !r.has(Kind::Goroutine) {
                r.open(Kind::Goroutine, ts, e.g, None);
            }
            if !r.has(Kind::Syscall) {
                r.open(Kind::Syscall, ts, e.g, None);
            }
        }
        // The fast exit runs on; the slow one stopped the goroutine on this M (recorded on
        // g0), and a GoStart follows, here or elsewhere.
        GoSysExit if e.arg == 0 => {
            r.close(Kind::Syscall, ts, Some(GoSysExit));
            r.close(Kind::Goroutine, ts, Some(GoSysExit));
        }
        GoSysExit => {
            r.close(Kind::Syscall, ts, Some(GoSysExit));
            if !r.has(Kind::Goroutine) {
                r.open(Kind::Goroutine, ts, e.g, None);
            }
        }
        MSleep => {
            r.close(Kind::Spin, ts, None);
            if !r.has(Kind::Sleep) {
                r.open(Kind::Sleep, ts, 0, None);
            }
        }
        MWake => r.close(Kind::Sleep, ts, Some(MWake)),
        SpinStart if !r.has(Kind::Spin) => r.open(Kind::Spin, ts, 0, None),
        SpinStop => r.close(Kind::Spin, ts, Some(SpinStop)),
        _ => {}
    }
}

/// The P holds and the STWs, from the events of every M in time order: a P is held from an
/// M's `ProcStart` to its `ProcStop`, to sysmon's `Retake` of it, or to another M's
/// `ProcStart` of it, whichever comes first.
fn holds_and_stws(trace: &Trace, end: u64) -> (Vec<Hold>, Vec<Stw>) {
    use std::collections::BTreeMap;
    let mut open: BTreeMap<u64, (usize, u64)> = BTreeMap::new();
    let mut holds = Vec::new();
    let mut stw_open: Option<(usize, u64)> = None;
    let mut stws = Vec::new();
    let first = trace
        .ms
        .iter()
        .filter_map(|m| m.events.first().map(|e| e.ts))
        .min()
        .unwrap_or(0);
    for (mi, e) in merged(trace) {
        match e.ev {
            Ev::ProcStart => {
                if let Some((m, start)) = open.insert(e.arg, (mi, e.ts)) {
                    holds.push(Hold {
                        p: e.arg,
                        m,
                        start,
                        end: e.ts,
                    });
                }
            }
            Ev::ProcStop | Ev::Retake => {
                let ours = open
                    .get(&e.arg)
                    .is_some_and(|&(m, _)| m == mi || e.ev == Ev::Retake);
                if ours {
                    let (m, start) = open.remove(&e.arg).expect("checked");
                    holds.push(Hold {
                        p: e.arg,
                        m,
                        start,
                        end: e.ts,
                    });
                }
            }
            Ev::StwStart => stw_open = Some((mi, e.ts)),
            Ev::StwDone => {
                let (m, start) = stw_open.take().unwrap_or((mi, first));
                stws.push(Stw {
                    m,
                    start,
                    end: e.ts,
                });
            }
            _ => {}
        }
    }
    for (p, (m, start)) in open {
        holds.push(Hold { p, m, start, end });
    }
    if let Some((m, start)) = stw_open {
        stws.push(Stw { m, start, end });
    }
    holds.sort_by_key(|h| (h.p, h.start));
    (holds, stws)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::testing::{ev, m_trace, trace};

    #[test]
    fn a_goroutine_with_a_syscall_nests_and_splits() {
        let t = trace(vec![m_trace(
            0,
            0,
            vec![
                ev(10, Ev::GoStart, 5, 0),
                ev(20, Ev::GoSysCall, 5, 1),
                ev(50, Ev::GoSysExit, 5, 1),
                ev(60, Ev::GoBlock, 5, 0),
                ev(70, Ev::MSleep, 0, 0),
                ev(100, Ev::MWake, 0, 0),
            ],
        )]);
        let l = Lanes::build(&t);
        let lane = &l.lanes[0];
        let segs: Vec<(u64, u64, Activity, u64)> = lane
            .segs
            .iter()
            .map(|s| (s.start, s.end, s.what, s.g))
            .collect();
        assert_eq!(
            segs,
            vec![
                (10, 20, Activity::Running, 5),
                (20, 50, Activity::Syscall, 5),
                (50, 60, Activity::Running, 5),
                (60, 70, Activity::Sched, 0),
                (70, 100, Activity::Asleep, 0),
            ]
        );
        let kinds: Vec<(Kind, u64, u64, Option<Ev>)> = lane
            .slices
            .iter()
            .map(|s| (s.kind, s.start, s.end, s.end_ev))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::Goroutine, 10, 60, Some(Ev::GoBlock)),
                (Kind::Syscall, 20, 50, Some(Ev::GoSysExit)),
                (Kind::Sleep, 70, 100, Some(Ev::MWake)),
            ]
        );
        assert_eq!(lane.slices[0].p, Some(0));
    }

    #[test]
    fn a_wrapped_ring_learns_its_state_from_the_first_telling_event() {
        // The ring lost what came before: a GoUnblock says nothing certain of the M, the
        // GoSysExit says goroutine 7 was in a syscall since the first retained event.
        let t = trace(vec![m_trace(
            1,
            3,
            vec![
                ev(100, Ev::Steal, 0, 1),
                ev(120, Ev::GoSysExit, 7, 1),
                ev(130, Ev::GoEnd, 7, 0),
            ],
        )]);
        let l = Lanes::build(&t);
        let lane = &l.lanes[0];
        let segs: Vec<(u64, u64, Activity)> =
            lane.segs.iter().map(|s| (s.start, s.end, s.what)).collect();
        assert_eq!(
            segs,
            vec![(100, 120, Activity::Syscall), (120, 130, Activity::Running)]
        );
        let g = lane.slices[0];
        assert_eq!(
            (g.kind, g.start, g.end, g.cut_start),
            (Kind::Goroutine, 100, 130, true)
        );
        let sys = lane.slices[1];
        assert_eq!((sys.kind, sys.start, sys.end), (Kind::Syscall, 100, 120));
    }

    #[test]
    fn open_slices_close_at_the_end_of_the_trace_and_stay_nested() {
        let t = trace(vec![
            m_trace(
                0,
                0,
                vec![
                    ev(0, Ev::GoStart, 1, 0),
                    ev(5, Ev::GoSysCall, 1, 0),
                    ev(6, Ev::MSleep, 0, 0),
                ],
            ),
            m_trace(1, 0, vec![ev(40, Ev::SpinStart, 0, 0)]),
        ]);
        let l = Lanes::build(&t);
        assert_eq!(l.end, 40);
        for lane in &l.lanes {
            for s in &lane.slices {
                assert!(s.end >= s.start);
                assert_eq!(s.end_ev, None);
            }
        }
        let s0 = &l.lanes[0].slices;
        assert_eq!(s0.len(), 3);
        assert!(s0.iter().all(|s| s.end == 40));
        assert_eq!(l.lanes[0].segs.last().unwrap().what, Activity::Asleep);
        // An M whose only event is at the end has no time to split.
        assert!(l.lanes[1].segs.is_empty());
    }

    #[test]
    fn holds_end_at_stop_retake_or_a_new_owner() {
        let t = trace(vec![
            m_trace(
                0,
                0,
                vec![
                    ev(0, Ev::ProcStart, 0, 0),
                    ev(10, Ev::ProcStop, 0, 0),
                    ev(20, Ev::ProcStart, 1, 1),
                    ev(25, Ev::StwStart, 0, 0),
                    ev(35, Ev::StwDone, 0, 0),
                ],
            ),
            m_trace(
                1,
                0,
                vec![ev(15, Ev::ProcStart, 0, 0), ev(30, Ev::ProcStart, 1, 1)],
            ),
            m_trace(
                2,
                0,
                vec![ev(18, Ev::Retake, 0, 0), ev(50, Ev::GoCreate, 9, 0)],
            ),
        ]);
        let l = Lanes::build(&t);
        let h: Vec<(u64, usize, u64, u64)> =
            l.holds.iter().map(|h| (h.p, h.m, h.start, h.end)).collect();
        assert_eq!(
            h,
            vec![
                (0, 0, 0, 10),
                (0, 1, 15, 18),
                (1, 0, 20, 30),
                (1, 1, 30, 50)
            ]
        );
        assert_eq!(
            l.stws,
            vec![Stw {
                m: 0,
                start: 25,
                end: 35
            }]
        );
    }
}
