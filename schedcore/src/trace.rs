//! The execution tracer: what every M's scheduling code did and when, in the vocabulary of Go's
//! own tracer (runtime/trace.go, Go 1.5 on; no release before it had one), so that the 2011 and
//! 2013 schedulers can be looked at the way `go tool trace` looks at a modern one.
//!
//! Each M owns a [`TraceBuf`]: a ring of fixed size, allocated when the M is made and written
//! only by the M's own thread (its g0 or the goroutine running on it), so recording takes no
//! lock, no shared atomic and no allocation. When the runtime was booted without tracing, an
//! event site is one predictable branch on the buffer's own `on` flag. Timestamps are raw TSC
//! ticks (the `Instant` clock where there is no TSC), turned into nanoseconds once, when the
//! run ends, from the ticks and the `Instant` taken at the tracer's start and end.
//!
//! The output of a run is a [`Trace`] in the run's `Report`; the lab turns it into Chrome
//! trace-event JSON, timelines and figures.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// What happened. Go's names where Go's tracer has the event (`EvGoCreate` is `GoCreate`).
/// `g` is the goroutine the event is about (its goid, 0 for none); `arg` and `arg2` are
/// described per event. P ids are 0-based; [`NO_P`] where a generation has no P's (2011).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Ev {
    /// newproc made goroutine `g`; `arg` is the creating goroutine (0: none, e.g. boot).
    GoCreate,
    /// `g` starts or resumes running on this M (execute); `arg` is the P it runs on.
    GoStart,
    /// `g` returned from its function (goexit).
    GoEnd,
    /// `g` yielded (gosched): it is runnable again.
    GoSched,
    /// `g` was preempted at a preempt point (gopreempt_m): runnable again.
    GoPreempt,
    /// `g` parked (Go's EvGoBlock).
    GoBlock,
    /// `g` stopped running on this M for another reason (locked-thread hand-off, teardown).
    GoStop,
    /// `g` was made runnable (ready); `arg` is the goroutine that did it (0: the scheduler).
    GoUnblock,
    /// `g` entered a syscall; `arg` is 1 on the lock-free fast path, 0 on the slow path.
    GoSysCall,
    /// `g` is back from a syscall and runs again; `arg` is 1 on the fast path, 0 on the slow.
    GoSysExit,
    /// `g`'s syscall let its CPU or P go (entersyscallblock, handoffp, a slow entersyscall
    /// that gave up its cpu): from here the M runs no goroutine until the syscall returns.
    GoSysBlock,
    /// This M acquired P `arg` (acquirep).
    ProcStart,
    /// This M released P `arg` (releasep).
    ProcStop,
    /// This M sleeps on its note (stopm, mnextg wait, stoplockedm).
    MSleep,
    /// This M woke from that sleep.
    MWake,
    /// This M handed goroutine `g` to the sleeping M `arg` (2011's mnextg, startlockedm).
    MHandoff,
    /// This M started spinning (looking for work).
    SpinStart,
    /// This M stopped spinning (found work, or gave up).
    SpinStop,
    /// This M stole `arg2` goroutines from P `arg` (runqsteal).
    Steal,
    /// `arg` goroutines were put on the global run queue (`g`: the goroutine when only one).
    GlobPut,
    /// `arg` goroutines were taken from the global run queue.
    GlobGet,
    /// sysmon retook P `arg` from a syscall (retake).
    Retake,
    /// Preemption of `g`, running on P `arg`, was requested (preemptone).
    PreemptReq,
    /// The world is being stopped (stoptheworld called).
    StwStart,
    /// The world runs again (starttheworld returned).
    StwDone,
    /// A collection's stack scan starts; `arg` is the number of goroutines to scan.
    GcScanStart,
    /// The scan is done; `arg` is the number of stack words read.
    GcScanDone,
}

/// `arg` of [`Ev::GoStart`] in a generation without P's.
pub const NO_P: u64 = u64::MAX;

/// One recorded event, as a run reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Nanoseconds since the tracer started.
    pub ts: u64,
    pub ev: Ev,
    pub g: u64,
    pub arg: u64,
    pub arg2: u32,
}

/// One M's events, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MTrace {
    /// The M's id in its generation (Go's m->id).
    pub m: i64,
    /// A label for displays: "M0", "M3 (sysmon)".
    pub name: String,
    pub events: Vec<Event>,
    /// Older events the ring overwrote: the trace of this M starts at `events[0].ts`.
    pub lost: u64,
}

/// A run's execution trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// GOMAXPROCS at the start of the run (the number of P lanes, or of CPUs in 2011).
    pub procs: usize,
    /// Whether the generation has P's (2013 on).
    pub has_ps: bool,
    /// The trace's length, from the tracer's start to its collection, in nanoseconds.
    pub span_ns: u64,
    /// TSC ticks per nanosecond measured over the run (1.0 where the `Instant` clock is used).
    pub ticks_per_ns: f64,
    pub ms: Vec<MTrace>,
}

impl Trace {
    /// The latest first-retained timestamp over all M's that lost events: from it on, every
    /// M's events are complete. 0 when no ring wrapped.
    pub fn complete_from(&self) -> u64 {
        self.ms
            .iter()
            .filter(|m| m.lost > 0)
            .filter_map(|m| m.events.first().map(|e| e.ts))
            .max()
            .unwrap_or(0)
    }
}

/// The clock events are stamped with: the TSC on x86_64, else nanoseconds from a process-wide
/// `Instant`.
#[inline(always)]
pub fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: rdtsc reads a counter; it has no memory effects and exists on every x86_64.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

/// A runtime's tracer: whether it records, how many events each M keeps, and the start of
/// its clock. Made at boot from `Config::trace`.
#[derive(Clone, Copy, Debug)]
pub struct Tracer {
    /// Events kept per M (a power of two), 0 when tracing is off.
    cap: usize,
    start: Instant,
    start_ticks: u64,
}

impl Tracer {
    /// A tracer keeping the last `events_per_m` events of every M (rounded up to a power of
    /// two), or one that records nothing with `None`.
    pub fn new(events_per_m: Option<usize>) -> Tracer {
        Tracer {
            cap: events_per_m.map_or(0, |n| n.max(2).next_power_of_two()),
            start: Instant::now(),
            start_ticks: ticks(),
        }
    }

    pub fn on(&self) -> bool {
        self.cap > 0
    }

    /// A buffer for a new M.
    pub fn buf(&self) -> TraceBuf {
        TraceBuf::new(self.cap)
    }

    /// Gathers every M's events into a trace. Each buffer's M must have stopped recording
    /// (its thread joined, or parked for good). `None` when tracing is off.
    pub fn collect<'a>(
        &self,
        procs: usize,
        has_ps: bool,
        ms: impl IntoIterator<Item = (i64, String, &'a TraceBuf)>,
    ) -> Option<Trace> {
        if !self.on() {
            return None;
        }
        let end_ticks = ticks();
        let span = self.start.elapsed();
        let span_ns = span.as_nanos().max(1) as u64;
        let ticks_per_ns = if cfg!(target_arch = "x86_64") {
            end_ticks.wrapping_sub(self.start_ticks) as f64 / span_ns as f64
        } else {
            1.0
        };
        let ticks_per_ns = if ticks_per_ns > 0.0 {
            ticks_per_ns
        } else {
            1.0
        };
        let base = if cfg!(target_arch = "x86_64") {
            self.start_ticks
        } else {
            0
        };
        let ms = ms
            .into_iter()
            .map(|(m, name, buf)| {
                let (raw, lost) = buf.drain();
                let events = raw
                    .into_iter()
                    .map(|r| Event {
                        ts: (r.ts.saturating_sub(base) as f64 / ticks_per_ns) as u64,
                        ev: r.ev,
                        g: r.g,
                        arg: r.arg,
                        arg2: r.arg2,
                    })
                    .collect();
                MTrace {
                    m,
                    name,
                    events,
                    lost,
                }
            })
            .collect();
        Some(Trace {
            procs,
            has_ps,
            span_ns,
            ticks_per_ns,
            ms,
        })
    }
}

#[derive(Clone, Copy)]
struct Raw {
    ts: u64,
    g: u64,
    arg: u64,
    arg2: u32,
    ev: Ev,
}

const EMPTY: Raw = Raw {
    ts: 0,
    g: 0,
    arg: 0,
    arg2: 0,
    ev: Ev::GoStop,
};

/// One M's ring of events. Only the M's own thread records into it.
pub struct TraceBuf {
    on: bool,
    ring: UnsafeCell<Box<[Raw]>>,
    /// Events recorded so far (the next slot is `next & (len - 1)`). Only its owner stores it.
    next: AtomicUsize,
}

// SAFETY: the ring is written only by the owning M's thread (the M's g0 and the goroutines it
// runs, one at a time), and read by `drain` only once that thread has stopped recording (the
// caller's promise in `Tracer::collect`).
unsafe impl Sync for TraceBuf {}

impl TraceBuf {
    fn new(cap: usize) -> TraceBuf {
        TraceBuf {
            on: cap > 0,
            ring: UnsafeCell::new(vec![EMPTY; cap].into_boxed_slice()),
            next: AtomicUsize::new(0),
        }
    }

    /// A buffer that records nothing (for M's made before a tracer exists, and tests).
    pub fn off() -> TraceBuf {
        TraceBuf::new(0)
    }

    /// Whether this buffer records.
    #[inline(always)]
    pub fn on(&self) -> bool {
        self.on
    }

    /// Records an event with one argument. Must be called on the owning M's thread.
    #[inline(always)]
    pub fn ev(&self, ev: Ev, g: u64, arg: u64) {
        if self.on {
            self.record(ev, g, arg, 0);
        }
    }

    /// Records an event with two arguments. Must be called on the owning M's thread.
    #[inline(always)]
    pub fn ev2(&self, ev: Ev, g: u64, arg: u64, arg2: u32) {
        if self.on {
            self.record(ev, g, arg, arg2);
        }
    }

    #[inline(never)]
    fn record(&self, ev: Ev, g: u64, arg: u64, arg2: u32) {
        let ts = ticks();
        let i = self.next.load(Ordering::Relaxed);
        // SAFETY: only the owning thread records (the contract of `ev`), so nobody else
        // touches the ring now; the index is masked into it.
        unsafe {
            let ring = &mut *self.ring.get();
            let len = ring.len();
            ring[i & (len - 1)] = Raw {
                ts,
                g,
                arg,
                arg2,
                ev,
            };
        }
        self.next.store(i + 1, Ordering::Relaxed);
    }

    /// The events in order, oldest first, and how many the ring overwrote.
    fn drain(&self) -> (Vec<Raw>, u64) {
        let n = self.next.load(Ordering::Acquire);
        // SAFETY: the owner has stopped recording (the promise of `Tracer::collect`).
        let ring = unsafe { &*self.ring.get() };
        let len = ring.len();
        if len == 0 {
            return (Vec::new(), 0);
        }
        let kept = n.min(len);
        let out = (n - kept..n).map(|i| ring[i & (len - 1)]).collect();
        (out, (n - kept) as u64)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn off_records_nothing() {
        let t = Tracer::new(None);
        let b = t.buf();
        b.ev(Ev::GoStart, 1, 0);
        assert!(t.collect(1, false, [(0, "M0".into(), &b)]).is_none());
    }

    #[test]
    fn ring_keeps_the_latest_in_order() {
        let t = Tracer::new(Some(4));
        let b = t.buf();
        for g in 1..=6 {
            b.ev(Ev::GoStart, g, 0);
        }
        let tr = t.collect(1, true, [(0, "M0".into(), &b)]).unwrap();
        let m = &tr.ms[0];
        assert_eq!(m.lost, 2);
        let gs: Vec<u64> = m.events.iter().map(|e| e.g).collect();
        assert_eq!(gs, vec![3, 4, 5, 6]);
        assert!(m.events.windows(2).all(|w| w[0].ts <= w[1].ts));
        assert!(m.events.last().unwrap().ts <= tr.span_ns + 1_000_000);
        assert_eq!(tr.complete_from(), m.events[0].ts);
    }
}
