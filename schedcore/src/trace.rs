//! The execution tracer: what every M's scheduling code did and when, in the vocabulary of Go's
//! own tracer (runtime/trace.go, Go 1.5 on; no release before it had one), so that the 2011 and
//! 2013 schedulers can be looked at the way `go tool trace` looks at a modern one.
//!
//! Each M owns a [`TraceBuf`]: a ring of fixed size, allocated when the M is made and written
//! only by the M's own thread (its g0 or the goroutine running on it), so recording takes no
//! lock, no shared atomic and no allocation. When the runtime was booted without tracing, an
//! event site is one predictable branch on the buffer's own `on` flag ([`trace_ev!`] evaluates
//! the event's arguments only behind that branch). Timestamps are TSC ticks read as Go's
//! `cputicks` reads them (behind an `lfence`, so that a tick is not taken ahead of the loads
//! before it), turned into nanoseconds once, when the run ends, from the ticks and the
//! `Instant` taken at the tracer's start and end.
//!
//! The output of a run is a [`Trace`] in the run's `Report`; the lab turns it into Chrome
//! trace-event JSON, timelines and figures. [`Trace::check`] verifies the rules below.
//!
//! # Where each generation records
//!
//! The same call sites in every generation, named after Go's functions. "g0" means the M's own
//! stack, after the goroutine switched out; "on g" means the goroutine's stack, on the M it
//! runs on. Every event goes into the buffer of the M whose thread records it.
//!
//! | event | site | 2011 | 2013 | 2014 |
//! |---|---|---|---|---|
//! | GoCreate | newproc1, after the goid is set | yes | yes | yes |
//! | GoStart | execute, just before the switch into g (2011: the M loop's resume) | `NO_P` | P | P |
//! | GoEnd, GoSched, GoBlock | on g0 right after the switch out (goexit0, gosched_m, park_m) | yes | yes | yes |
//! | GoPreempt | on g0 in gopreempt_m | - | - | yes |
//! | GoStop | on g0: a goroutine left suspended for good (run ending, stack overflow) | - | yes | yes |
//! | GoUnblock | ready, before the goroutine is queued; `arg` the caller's goid | yes | yes | yes |
//! | GoSysCall | entersyscall / entersyscallblock, on g | yes | yes | yes |
//! | GoSysExit 1 | exitsyscall's fast paths, on g | yes | yes | yes |
//! | GoSysExit 0 | exitsyscall's slow path, on g0 after the switch (exitsyscall0) | yes | yes | yes |
//! | GoSysBlock | entersyscallblock's hand-off; 2011: the slow entersyscall | yes | yes | yes |
//! | ProcStart, ProcStop | acquirep, releasep, and wherever an M drops a P it lost | - | yes | yes |
//! | MSleep, MWake | around the notesleep of stopm, stoplockedm (2011: the mnextg wait) | yes | yes | yes |
//! | MHandoff | 2011: mnextg; 2013/2014: startlockedm | yes | yes | yes |
//! | SpinStart, SpinStop | where the M's own `spinning` changes (or, woken, it finds it set) | - | yes | yes |
//! | Steal | runqsteal, on the thief | - | yes | yes |
//! | GlobPut, GlobGet | globrunqput(batch) / globrunqget (2011: gput / gget), procresize | yes | yes | yes |
//! | Retake | retake, on sysmon's M | - | yes | yes |
//! | PreemptReq | preemptone (sysmon, preemptall) and stopg's scan request | - | - | yes |
//! | StwStart, StwDone | stoptheworld called / starttheworld returned | yes | yes | yes |
//! | GcScanStart, GcScanDone | the collection's stack scan; 2014 also each self scan | yes | yes | yes |
//!
//! Choices and their reasons:
//!
//! - A goroutine's stop events are recorded on g0 just after the switch out, in every
//!   generation: that is where each continuation already has its M, and where goexit is seen
//!   at all. 2011's switch carries no reason, so its M loop reads the stop from the status
//!   (Grunning: GoSched; Gwaiting: GoBlock; Gsyscall: GoSysExit 0; returned: GoEnd).
//! - 2011's park releases the caller's lock before the switch (readyonstop exists for this), so
//!   a `ready` on another M can record the GoUnblock before this M records the GoBlock it
//!   answers. 2013 and 2014 release the lock on g0 after GoBlock, so there it never does.
//! - A P taken from an M in a syscall (sysmon's retake, or stoptheworld) is not released by that
//!   M: sysmon records Retake (stoptheworld nothing), and the M records its ProcStop when it
//!   finds the P gone in exitsyscall. For that stretch the P shows on two M's lanes.
//! - Boot: 2013 and 2014 boot as M0 (procresize, newproc1 of main) before M0's thread starts, so
//!   those events go into M0's buffer. 2011 boots before any M exists (matchmg makes M0 for
//!   main); its boot events go into a buffer of their own, put at the head of M0's lane when
//!   the trace is collected.
//! - 2011 has no P's: GoStart carries [`NO_P`] and there are no Proc, Spin, Steal, Retake or
//!   PreemptReq events. 2011's entersyscall gives up its CPU on both paths; the slow one is
//!   taken when goroutines or a stoptheworld wait for a CPU, so it records GoSysBlock: the
//!   CPU goes to them.
//! - GoSysCall's `arg` is 1 when entersyscall took no scheduler lock (2011's CAS fast path;
//!   2013/2014's entersyscall unless it had to wake sysmon or hand its P to a waiting
//!   stoptheworld), 0 otherwise (2011's slow path, every 2011-lock entersyscall, and
//!   entersyscallblock, whose hand-off takes the sched lock).
//! - GcScanDone's `arg` counts the words read on that M in the bracket. In 2014 running
//!   goroutines scan their own stacks at preempt points; each such self scan is a
//!   GcScanStart/GcScanDone pair with `g` the goroutine, on its own M. The GcScanDone `arg`s of
//!   a run add up to its `stack_words_scanned` counter.
//!
//! # Rules a trace keeps ([`Trace::check`])
//!
//! Per M, in order: timestamps never go back; GoStart and the stop events (GoEnd, GoSched,
//! GoPreempt, GoBlock, GoStop, GoSysExit 0) alternate, each stop naming the goroutine started;
//! GoSysCall, GoSysBlock, GoSysExit 1, and GoCreate/GoUnblock with a non-zero `arg`, happen
//! while that goroutine runs on the M; ProcStart/ProcStop, MSleep/MWake, SpinStart/SpinStop,
//! StwStart/StwDone and GcScanStart/GcScanDone alternate; GoStart's `arg` is the P the M holds
//! (`NO_P` without P's). Over the whole trace: goids are non-zero and each is created once; if
//! no ring wrapped, every goroutine started was created first, and each GoStart is preceded by
//! an event that made the goroutine runnable (GoCreate, GoUnblock, GoSched, GoPreempt,
//! GoSysExit 0), one per start. A lane whose ring wrapped starts in an unknown state.

use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::fmt;
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
    /// `g` stopped running on this M for good without returning (the run ended while it stopped
    /// the world or left a syscall, or its stack overflowed).
    GoStop,
    /// `g` was made runnable (ready); `arg` is the goroutine that did it (0: the scheduler).
    GoUnblock,
    /// `g` entered a syscall; `arg` is 1 on the lock-free fast path, 0 on the slow path.
    GoSysCall,
    /// `g` is back from a syscall. `arg` 1: it got a CPU or P at once and runs on (the
    /// `syscall_exit_fast` counter); 0: none was free, it stopped on this M (recorded on g0) and
    /// waits to run again (a GoStart follows, here or on another M).
    GoSysExit,
    /// `g`'s syscall let its CPU or P go (entersyscallblock, handoffp, a slow entersyscall
    /// that gave up its cpu): from here the M runs no goroutine until the syscall returns.
    GoSysBlock,
    /// This M acquired P `arg` (acquirep).
    ProcStart,
    /// This M released P `arg` (releasep).
    ProcStop,
    /// This M sleeps on its note (stopm, mnextg wait: `arg` 0; stoplockedm: `arg` 1).
    MSleep,
    /// This M woke from that sleep.
    MWake,
    /// This M handed goroutine `g` to the sleeping M `arg` (2011's mnextg, startlockedm).
    MHandoff,
    /// This M started spinning (looking for work).
    SpinStart,
    /// This M stopped spinning (found work, or gave up).
    SpinStop,
    /// This M stole `arg2` goroutines from P `arg` (runqsteal); `g` is the one it runs first.
    Steal,
    /// `arg` goroutines were put on the global run queue (`g`: the goroutine when only one).
    GlobPut,
    /// `arg` goroutines were taken from the global run queue (`g`: the first of them).
    GlobGet,
    /// sysmon retook P `arg` from a syscall (retake).
    Retake,
    /// Preemption of `g`, running on P `arg`, was requested (preemptone; stopg asking a
    /// running goroutine to scan itself).
    PreemptReq,
    /// The world is being stopped (stoptheworld called).
    StwStart,
    /// The world runs again (starttheworld returned).
    StwDone,
    /// A collection's stack scan starts on this M; `arg` is the number of goroutines alive.
    /// `g` is 0, or in 2014 the goroutine that scans its own stack (then `arg` is 1).
    GcScanStart,
    /// The scan on this M is done; `arg` is the number of stack words it read.
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
    /// The tracer's start: the origin of every timestamp (so that a clock read outside the
    /// runtime can be placed in the trace).
    pub started: std::time::Instant,
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

/// A broken rule of a trace (see the module doc): on which M's lane, at which of its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The M (`Trace::ms[..].m`).
    pub m: i64,
    /// The index of the offending event in that M's `events`.
    pub index: usize,
    pub what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "M{} event {}: {}", self.m, self.index, self.what)
    }
}

impl std::error::Error for Violation {}

/// A per-M state the checker follows: unknown at the head of a lane whose ring wrapped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Known<T> {
    Unknown,
    Is(T),
}

impl<T: PartialEq + Copy + fmt::Debug> Known<T> {
    /// Moves from `from` to `to`; an unknown state accepts any `from`.
    fn step(&mut self, from: T, to: T, what: &str) -> Result<(), String> {
        match *self {
            Known::Is(s) if s != from => Err(format!("{what} in state {s:?}")),
            _ => {
                *self = Known::Is(to);
                Ok(())
            }
        }
    }

    /// Requires state `want` (when known), without moving.
    fn expect(&self, want: T, what: &str) -> Result<(), String> {
        match *self {
            Known::Is(s) if s != want => Err(format!("{what} in state {s:?}")),
            _ => Ok(()),
        }
    }
}

/// Whether an event ends the goroutine's stretch on its M.
fn is_stop(e: &Event) -> bool {
    matches!(
        e.ev,
        Ev::GoEnd | Ev::GoSched | Ev::GoPreempt | Ev::GoBlock | Ev::GoStop
    ) || (e.ev == Ev::GoSysExit && e.arg == 0)
}

/// Whether an event makes its goroutine runnable.
fn readies(e: &Event) -> bool {
    matches!(
        e.ev,
        Ev::GoCreate | Ev::GoUnblock | Ev::GoSched | Ev::GoPreempt
    ) || (e.ev == Ev::GoSysExit && e.arg == 0)
}

impl Trace {
    /// Every event of the trace, with its M, in no particular order across M's.
    pub fn events(&self) -> impl Iterator<Item = (i64, &Event)> {
        self.ms
            .iter()
            .flat_map(|m| m.events.iter().map(move |e| (m.m, e)))
    }

    /// How many events of kind `ev` the trace holds.
    pub fn count(&self, ev: Ev) -> usize {
        self.events().filter(|(_, e)| e.ev == ev).count()
    }

    /// Checks the rules of the module doc; the first broken one is the error.
    pub fn check(&self) -> Result<(), Violation> {
        for m in &self.ms {
            self.check_lane(m).map_err(|(index, what)| Violation {
                m: m.m,
                index,
                what,
            })?;
        }
        self.check_goroutines()
    }

    fn check_lane(&self, m: &MTrace) -> Result<(), (usize, String)> {
        fn start<T>(lost: u64, idle: T) -> Known<T> {
            if lost > 0 {
                Known::Unknown
            } else {
                Known::Is(idle)
            }
        }
        // The goroutine running (0: none), the P held, and the on/off pairs.
        let mut run: Known<u64> = start(m.lost, 0);
        let mut p: Known<Option<u64>> = start(m.lost, None);
        let (mut sleep, mut spin, mut stw) = (
            start(m.lost, false),
            start(m.lost, false),
            start(m.lost, false),
        );
        let mut scan: Known<Option<u64>> = start(m.lost, None);
        let mut last = 0;
        for (i, e) in m.events.iter().enumerate() {
            let r = (|| -> Result<(), String> {
                if e.ts < last {
                    return Err(format!("time goes back ({} < {last})", e.ts));
                }
                last = e.ts;
                match e.ev {
                    Ev::GoStart => {
                        if e.g == 0 {
                            return Err("GoStart of goroutine 0".into());
                        }
                        run.step(0, e.g, &format!("GoStart of {}", e.g))?;
                        match (self.has_ps, p) {
                            (false, _) if e.arg != NO_P => {
                                return Err(format!("GoStart on P {} without P's", e.arg))
                            }
                            (true, Known::Is(held)) if held != Some(e.arg) => {
                                return Err(format!("GoStart on P {} holding {held:?}", e.arg))
                            }
                            _ => {}
                        }
                    }
                    _ if is_stop(e) => run.step(e.g, 0, &format!("{:?} of {}", e.ev, e.g))?,
                    Ev::GoSysCall | Ev::GoSysBlock | Ev::GoSysExit => {
                        run.expect(e.g, &format!("{:?} of {}", e.ev, e.g))?
                    }
                    Ev::GoCreate | Ev::GoUnblock if e.arg != 0 => {
                        run.expect(e.arg, &format!("{:?} by {}", e.ev, e.arg))?
                    }
                    Ev::ProcStart | Ev::ProcStop if !self.has_ps => {
                        return Err(format!("{:?} without P's", e.ev))
                    }
                    Ev::ProcStart => p.step(None, Some(e.arg), &format!("ProcStart {}", e.arg))?,
                    Ev::ProcStop => p.step(Some(e.arg), None, &format!("ProcStop {}", e.arg))?,
                    Ev::MSleep => sleep.step(false, true, "MSleep")?,
                    Ev::MWake => sleep.step(true, false, "MWake")?,
                    Ev::SpinStart => spin.step(false, true, "SpinStart")?,
                    Ev::SpinStop => spin.step(true, false, "SpinStop")?,
                    Ev::StwStart => stw.step(false, true, "StwStart")?,
                    Ev::StwDone => stw.step(true, false, "StwDone")?,
                    Ev::GcScanStart => scan.step(None, Some(e.g), "GcScanStart")?,
                    Ev::GcScanDone => scan.step(Some(e.g), None, "GcScanDone")?,
                    _ => {}
                }
                Ok(())
            })();
            r.map_err(|what| (i, what))?;
        }
        Ok(())
    }

    fn check_goroutines(&self) -> Result<(), Violation> {
        let mut created: HashMap<u64, (i64, usize)> = HashMap::new();
        for m in &self.ms {
            for (i, e) in m.events.iter().enumerate() {
                if e.ev == Ev::GoCreate {
                    let v = |what| Violation {
                        m: m.m,
                        index: i,
                        what,
                    };
                    if e.g == 0 {
                        return Err(v("GoCreate of goroutine 0".into()));
                    }
                    if let Some((m0, i0)) = created.insert(e.g, (m.m, i)) {
                        return Err(v(format!(
                            "goroutine {} created again (M{m0} event {i0})",
                            e.g
                        )));
                    }
                }
            }
        }
        if self.ms.iter().any(|m| m.lost > 0) {
            return Ok(());
        }
        // Each goroutine's events in time order; at one instant, what readies it goes first.
        let mut per_g: HashMap<u64, Vec<(u64, bool, i64, usize)>> = HashMap::new();
        for m in &self.ms {
            for (i, e) in m.events.iter().enumerate() {
                let start = e.ev == Ev::GoStart;
                if start || readies(e) {
                    per_g.entry(e.g).or_default().push((e.ts, start, m.m, i));
                }
            }
        }
        for (g, mut evs) in per_g {
            evs.sort_unstable();
            let mut ready = 0u64;
            let mut seen_create = false;
            for (_, start, m, i) in evs {
                let e = &self.ms.iter().find(|l| l.m == m).expect("lane").events[i];
                seen_create |= e.ev == Ev::GoCreate;
                if !start {
                    ready += 1;
                    continue;
                }
                let v = |what| Violation { m, index: i, what };
                if !seen_create {
                    return Err(v(format!("goroutine {g} started before its GoCreate")));
                }
                if ready == 0 {
                    return Err(v(format!(
                        "goroutine {g} started without an event that readied it"
                    )));
                }
                ready -= 1;
            }
        }
        Ok(())
    }
}

/// The clock events are stamped with: the TSC on x86_64, else nanoseconds from a process-wide
/// `Instant`.
#[inline(always)]
pub fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // Go's cputicks fences the read too: an unfenced rdtsc may run ahead of the loads before
        // it, and then a goroutine could seem to start before the event that readied it.
        // SAFETY: lfence and rdtsc exist on every x86_64 (SSE2 is baseline); neither touches
        // memory.
        unsafe {
            core::arch::x86_64::_mm_lfence();
            core::arch::x86_64::_rdtsc()
        }
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
            started: self.start,
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

/// A ring of `cap` events from zeroed memory: the allocator maps a ring this large straight
/// from the kernel, whose pages arrive zeroed on first touch, so making an M costs no pass over
/// the ring (32 MiB at the default million events, written eagerly, held each M's start up by
/// milliseconds: longer than a whole ramp round).
fn zeroed_ring(cap: usize) -> Box<[Raw]> {
    if cap == 0 {
        return Box::new([]);
    }
    let layout = std::alloc::Layout::array::<Raw>(cap).expect("trace ring too large");
    // SAFETY: the layout has a non-zero size. All zeros is a valid `Raw` (integers, and `Ev`'s
    // first variant has the discriminant 0), so the zeroed block is `cap` initialized Raws,
    // allocated with the global allocator under the layout Box<[Raw]> frees it with.
    unsafe {
        let p = std::alloc::alloc_zeroed(layout) as *mut Raw;
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, cap))
    }
}

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
            ring: UnsafeCell::new(zeroed_ring(cap)),
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

/// Records an event into a [`TraceBuf`] if it is on: `trace_ev!(m.trace, GoStart, g, arg)` or
/// with a fifth argument, `arg2`. The arguments are evaluated only when the buffer records, so a
/// site that reads goroutine ids or P's costs one branch on the buffer's flag when tracing is off.
#[macro_export]
macro_rules! trace_ev {
    ($buf:expr, $ev:ident, $g:expr, $arg:expr) => {
        $crate::trace_ev!($buf, $ev, $g, $arg, 0)
    };
    ($buf:expr, $ev:ident, $g:expr, $arg:expr, $arg2:expr) => {{
        let buf: &$crate::trace::TraceBuf = &$buf;
        if buf.on() {
            buf.ev2($crate::trace::Ev::$ev, $g, $arg, $arg2);
        }
    }};
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

    fn e(ts: u64, ev: Ev, g: u64, arg: u64) -> Event {
        Event {
            ts,
            ev,
            g,
            arg,
            arg2: 0,
        }
    }

    fn lane(m: i64, lost: u64, events: Vec<Event>) -> MTrace {
        MTrace {
            m,
            name: format!("M{m}"),
            events,
            lost,
        }
    }

    fn trace(ms: Vec<MTrace>) -> Trace {
        Trace {
            procs: 2,
            has_ps: true,
            span_ns: 1000,
            started: Instant::now(),
            ticks_per_ns: 1.0,
            ms,
        }
    }

    /// Main (1) creates 2 on P0, blocks; M1 runs 2, which readies 1 and ends; M0 runs 1 again.
    fn good() -> Vec<MTrace> {
        vec![
            lane(
                0,
                0,
                vec![
                    e(1, Ev::ProcStart, 0, 0),
                    e(2, Ev::GoCreate, 1, 0),
                    e(3, Ev::GoStart, 1, 0),
                    e(4, Ev::GoCreate, 2, 1),
                    e(5, Ev::GoSysCall, 1, 1),
                    e(6, Ev::GoSysExit, 1, 1),
                    e(7, Ev::GoBlock, 1, 0),
                    e(20, Ev::GoStart, 1, 0),
                    e(21, Ev::GoEnd, 1, 0),
                ],
            ),
            lane(
                1,
                0,
                vec![
                    e(8, Ev::ProcStart, 0, 1),
                    e(9, Ev::SpinStart, 0, 0),
                    e(10, Ev::Steal, 2, 0),
                    e(11, Ev::SpinStop, 0, 0),
                    e(12, Ev::GoStart, 2, 1),
                    e(13, Ev::GoUnblock, 1, 2),
                    e(14, Ev::GoEnd, 2, 0),
                    e(15, Ev::ProcStop, 0, 1),
                    e(16, Ev::MSleep, 0, 0),
                ],
            ),
        ]
    }

    fn broken(edit: impl FnOnce(&mut Vec<MTrace>)) -> Violation {
        let mut ms = good();
        edit(&mut ms);
        trace(ms)
            .check()
            .expect_err("the checker let a broken trace pass")
    }

    #[test]
    fn a_well_formed_trace_passes() {
        assert_eq!(trace(good()).check(), Ok(()));
        assert_eq!(trace(good()).count(Ev::GoStart), 3);
    }

    #[test]
    fn the_checker_catches_each_broken_rule() {
        // Two goroutines on one M at once.
        let v = broken(|ms| ms[1].events[6] = e(14, Ev::GoStart, 3, 1));
        assert_eq!((v.m, v.index), (1, 6), "{v}");
        // A stop naming another goroutine.
        let v = broken(|ms| ms[0].events[6] = e(7, Ev::GoBlock, 2, 0));
        assert!(v.what.contains("GoBlock of 2"), "{v}");
        // A syscall of a goroutine not running here.
        let v = broken(|ms| ms[0].events[4].g = 2);
        assert!(v.what.contains("GoSysCall"), "{v}");
        // A P started twice, a P stopped that is not held, GoStart on another P.
        let v = broken(|ms| ms[1].events[0] = e(8, Ev::ProcStart, 0, 0));
        assert_eq!((v.m, v.index), (1, 4), "{v}");
        let v = broken(|ms| ms[1].events[7].arg = 0);
        assert!(v.what.contains("ProcStop 0"), "{v}");
        // Time going back.
        let v = broken(|ms| ms[0].events[3].ts = 1);
        assert!(v.what.contains("time goes back"), "{v}");
        // Spinning stopped twice.
        let v = broken(|ms| ms[1].events[1].ev = Ev::SpinStop);
        assert!(v.what.contains("SpinStop"), "{v}");
        // A goroutine created twice.
        let v = broken(|ms| ms[1].events[5] = e(13, Ev::GoCreate, 1, 2));
        assert!(v.what.contains("created again"), "{v}");
        // Started again with nothing readying it.
        let v = broken(|ms| ms[1].events[5] = e(13, Ev::GoSysCall, 2, 1));
        assert!(v.what.contains("without an event that readied it"), "{v}");
        // Started before it was created.
        let v = broken(|ms| ms[0].events[3].ts = 13);
        assert!(v.what.contains("time goes back") || v.what.contains("before its GoCreate"));
        let v = broken(|ms| {
            let c = ms[0].events.remove(3);
            ms[1].events.insert(
                6,
                Event {
                    ts: 13,
                    arg: 0,
                    ..c
                },
            );
            ms[1].events[5].ts = 13;
        });
        assert!(v.what.contains("before its GoCreate"), "{v}");
        // Without P's, GoStart must say so.
        let mut t = trace(vec![lane(
            0,
            0,
            vec![e(1, Ev::GoCreate, 1, 0), e(2, Ev::GoStart, 1, 0)],
        )]);
        t.has_ps = false;
        assert!(t.check().unwrap_err().what.contains("without P's"));
        t.ms[0].events[1].arg = NO_P;
        assert_eq!(t.check(), Ok(()));
    }

    /// A lane whose ring wrapped starts in an unknown state: a stop, a ProcStop or a wake may
    /// come first; the cross-M rules are left out.
    #[test]
    fn a_wrapped_lane_starts_unknown() {
        let t = trace(vec![lane(
            3,
            10,
            vec![
                e(5, Ev::GoSched, 7, 0),
                e(6, Ev::ProcStop, 0, 1),
                e(7, Ev::MWake, 0, 0),
                e(8, Ev::ProcStart, 0, 0),
                e(9, Ev::GoStart, 7, 0),
            ],
        )]);
        assert_eq!(t.check(), Ok(()));
    }

    #[test]
    fn trace_ev_evaluates_its_arguments_only_when_on() {
        let reads = std::cell::Cell::new(0);
        let arg = || {
            reads.set(reads.get() + 1);
            7
        };
        let off = TraceBuf::off();
        crate::trace_ev!(off, GoStart, arg(), arg());
        assert_eq!(reads.get(), 0);
        let t = Tracer::new(Some(8));
        let b = t.buf();
        crate::trace_ev!(b, GoStart, arg(), arg());
        crate::trace_ev!(b, Steal, 1, arg(), 3);
        assert_eq!(reads.get(), 3);
        let tr = t.collect(1, true, [(0, "M0".into(), &b)]).unwrap();
        let ev: Vec<_> = tr.ms[0]
            .events
            .iter()
            .map(|e| (e.ev, e.g, e.arg, e.arg2))
            .collect();
        assert_eq!(ev, vec![(Ev::GoStart, 7, 7, 0), (Ev::Steal, 1, 7, 3)]);
    }
}
