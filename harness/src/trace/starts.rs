//! Every goroutine start of a trace (`GoStart`), with what made the goroutine runnable before
//! it (its create, an unblock, its own yield or preemption, a slow syscall exit) and where it
//! started the time before: the scheduling latencies, migrations, hand-offs and the JSON's
//! flow arrows all come from here.

use super::lanes::merged;
use schedcore::trace::{Ev, Trace};
use std::collections::HashMap;

/// What made a goroutine runnable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ready {
    /// `GoCreate`, `GoUnblock`, `GoSched`, `GoPreempt` or `GoSysExit` (slow path).
    pub ev: Ev,
    pub ts: u64,
    /// The M (index in `Trace::ms`) that recorded it.
    pub m: usize,
}

/// One `GoStart`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    pub ts: u64,
    /// The M (index in `Trace::ms`) the goroutine started on.
    pub m: usize,
    pub g: u64,
    /// What made it runnable, when the trace holds it.
    pub ready: Option<Ready>,
    /// The M of the goroutine's previous start, when the trace holds one.
    pub prev_m: Option<usize>,
}

impl Start {
    /// Runnable to running, in ns.
    pub fn latency(&self) -> Option<u64> {
        self.ready.map(|r| self.ts.saturating_sub(r.ts))
    }

    /// A start on another M than the goroutine's previous one.
    pub fn migrated(&self) -> bool {
        self.prev_m.is_some_and(|p| p != self.m)
    }

    /// An unblock whose goroutine started on another M than the unblocker's.
    pub fn handed_off(&self) -> bool {
        self.ready
            .is_some_and(|r| r.ev == Ev::GoUnblock && r.m != self.m)
    }
}

/// Every start, in time order.
pub fn starts(trace: &Trace) -> Vec<Start> {
    let mut ready: HashMap<u64, Ready> = HashMap::new();
    let mut last_m: HashMap<u64, usize> = HashMap::new();
    let mut out = Vec::new();
    for (m, e) in merged(trace) {
        let r = Ready {
            ev: e.ev,
            ts: e.ts,
            m,
        };
        match e.ev {
            // What makes a goroutine runnable; a slow syscall exit stops it on its M, and it
            // waits to run again. A stop clears nothing: 2011's park can record the GoUnblock
            // on another M before the GoBlock it answers.
            Ev::GoCreate | Ev::GoUnblock | Ev::GoSched | Ev::GoPreempt => {
                ready.insert(e.g, r);
            }
            Ev::GoSysExit if e.arg == 0 => {
                ready.insert(e.g, r);
            }
            Ev::GoStart => {
                out.push(Start {
                    ts: e.ts,
                    m,
                    g: e.g,
                    ready: ready.remove(&e.g),
                    prev_m: last_m.insert(e.g, m),
                });
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::testing::{ev, m_trace, trace};

    #[test]
    fn latency_migration_and_hand_off() {
        // M0 runs g1, which unblocks g2; g2 starts on M1 (a hand-off), blocks, is unblocked
        // by g1 again and starts on M0 (a migration back; no hand-off: same M as g1's).
        let t = trace(vec![
            m_trace(
                0,
                0,
                vec![
                    ev(0, Ev::GoStart, 1, 0),
                    ev(10, Ev::GoUnblock, 2, 1),
                    ev(100, Ev::GoUnblock, 2, 1),
                    ev(110, Ev::GoBlock, 1, 0),
                    ev(130, Ev::GoStart, 2, 0),
                ],
            ),
            m_trace(
                1,
                0,
                vec![ev(35, Ev::GoStart, 2, 1), ev(60, Ev::GoBlock, 2, 0)],
            ),
        ]);
        let s = starts(&t);
        let got: Vec<(u64, u64, Option<u64>, bool, bool)> = s
            .iter()
            .map(|s| (s.ts, s.g, s.latency(), s.migrated(), s.handed_off()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, 1, None, false, false),
                (35, 2, Some(25), false, true),
                (130, 2, Some(30), true, false),
            ]
        );
    }

    #[test]
    fn a_slow_exit_and_an_unblock_before_its_block() {
        // g3's slow syscall exit stops it at 9; it runs again at 15 (6 ns). Then g3 parks,
        // but the unblock from M1 (10 ns before its restart) is recorded before the block,
        // as 2011's park allows.
        let t = trace(vec![
            m_trace(
                0,
                0,
                vec![
                    ev(0, Ev::GoStart, 3, 0),
                    ev(5, Ev::GoSysCall, 3, 0),
                    ev(9, Ev::GoSysExit, 3, 0),
                    ev(15, Ev::GoStart, 3, 0),
                    ev(22, Ev::GoBlock, 3, 0),
                    ev(30, Ev::GoStart, 3, 0),
                ],
            ),
            m_trace(1, 0, vec![ev(20, Ev::GoUnblock, 3, 0)]),
        ]);
        let s = starts(&t);
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].latency(), Some(6));
        assert_eq!(s[1].ready.unwrap().ev, Ev::GoSysExit);
        assert_eq!(s[2].latency(), Some(10));
        assert!(s[2].handed_off());
    }

    #[test]
    fn a_start_sorted_before_its_create_has_no_sample() {
        let t = trace(vec![
            m_trace(0, 0, vec![ev(50, Ev::GoCreate, 4, 1)]),
            m_trace(1, 0, vec![ev(49, Ev::GoStart, 4, 1)]),
        ]);
        let s = starts(&t);
        // Two M's clocks a hair apart: the start sorts first, and the create after it
        // makes no sample.
        assert_eq!(s[0].latency(), None);
    }
}
