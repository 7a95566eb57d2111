//! The runtime-wide state (the seed's `Sched` and the globals beside it): the sched lock and
//! what it guards (idle M's, idle P's, the global run queue, stopwait, allg, allm), the atomics
//! read without it (npidle, nmspinning, runqsize, gcwaiting, gomaxprocs, ...), and the
//! operations that need the lock held: mput/mget, pidleput/pidleget, globrunqput/globrunqget,
//! incidlelocked and checkdead.

#![allow(non_upper_case_globals)] // matches on the seed's G status names (gstatus.rs)

use crate::g::{GRef, G};
use crate::globrunq::GlobRunq;
use crate::gstatus::{gstatus_name, Grunnable, Grunning, Gscan, Gsyscall, Gwaiting};
use crate::m::M;
use crate::p::P;
use crate::Sched2014;
use hdrhistogram::Histogram;
use schedcore::ptr::{Link, Ptr};
use schedcore::scan::StackSet;
use schedcore::trace::{TraceBuf, Tracer};
use schedcore::{trace_ev, Counter, Lock, LockKind, Note, RunEnd, RunError, Sema, StackArena};
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The largest GOMAXPROCS (the seed's MaxGomaxprocs, 1<<8). Nothing in the algorithm depends
/// on it; it sizes `allp` and sysmon's per-P records.
pub(crate) const MAX_GOMAXPROCS: usize = 1 << 8;

/// What the sched lock guards.
pub(crate) struct Synced {
    /// Idle M's waiting for work, linked through `M::schedlink`.
    pub midle: Option<Ptr<M>>,
    pub nmidle: i32,
    /// M's locked to a goroutine and waiting for it (they do not count as running).
    pub nmidlelocked: i32,
    /// M's created so far (sysmon included).
    pub mcount: i32,
    /// Idle P's, linked through `P::link`; `Sched::npidle` counts them.
    pub pidle: Option<Ptr<P>>,
    /// The global run queue, linked through `G::schedlink`; `Sched::runqsize` mirrors its
    /// length for unlocked peeks.
    pub runq: GlobRunq<G>,
    /// P's stoptheworld still waits for.
    pub stopwait: i32,
    /// GOMAXPROCS to switch to at the next starttheworld (0: keep).
    pub newprocs: i32,
    /// Every G ever allocated (the seed's allg, under allglock there).
    pub allg: Vec<GRef>,
    /// Every M ever created.
    pub allm: Vec<Ptr<M>>,
}

/// The global cache of dead G's (the seed's sched.gfree under gflock).
pub(crate) struct GfreeList {
    pub head: Option<GRef>,
}

/// The state of one 2014 runtime.
pub(crate) struct Sched {
    /// The runtime lock every lock of this runtime is (Config::lock, or Spin: Go 1.4's).
    pub lock_kind: LockKind,
    pub lock: Lock<Synced>,
    /// Length of the global run queue: changed under the lock, peeked at without it.
    pub runqsize: AtomicU32,
    /// The last goroutine id handed out (P's take batches of 16).
    pub goidgen: AtomicU64,
    pub npidle: AtomicU32,
    /// M's looking for work without having found any (spinning).
    pub nmspinning: AtomicI32,
    pub gflock: Lock<GfreeList>,
    /// Length of the global gfree list, for gfget's unlocked peek and gcount.
    pub ngfree: AtomicI32,
    /// allg's length, for gcount without the lock.
    pub allglen: AtomicUsize,
    pub stopnote: Note,
    pub sysmonwait: AtomicU32,
    pub sysmonnote: Note,
    /// Set while stoptheworld is stopping or has stopped the world.
    pub gcwaiting: AtomicU32,
    pub gomaxprocs: AtomicI32,
    /// Every P ever created, by id; entries below gomaxprocs are in use.
    pub allp: Box<[Link<P>]>,
    /// Serializes stop-the-world users (gc, gomaxprocs), as goroutines.
    pub worldsema: Sema<Sched2014>,
    /// How the run ends.
    pub end: RunEnd,
    /// Where goroutine stacks come from (freed with the Sched, after every G).
    pub stacks: StackArena,
    /// Whether sysmon and stoptheworld preempt (false: the lab's "2014-nopreempt").
    pub preempt: bool,
    /// sysmon prints the scheduler's state this often (GODEBUG=schedtrace).
    pub schedtrace: Option<Duration>,
    /// Every thread started, to be joined at teardown.
    pub threads: Lock<Vec<JoinHandle<()>>>,
    /// Stop-the-world pauses, stoptheworld start to starttheworld end.
    pub pauses: Lock<Histogram<u64>>,
    /// The stacks of the collection in progress, for the pointer test of every scan.
    pub gcstacks: Lock<Option<Arc<StackSet>>>,
    /// The execution tracer (set by `run` from Config::trace); every M's buffer comes from it.
    pub tracer: Tracer,
}

impl Sched {
    pub(crate) fn new(
        stacks: StackArena,
        preempt: bool,
        schedtrace: Option<Duration>,
        lock_kind: LockKind,
    ) -> Sched {
        Sched {
            lock_kind,
            lock: Lock::with_kind(
                lock_kind,
                Synced {
                    midle: None,
                    nmidle: 0,
                    nmidlelocked: 0,
                    mcount: 0,
                    pidle: None,
                    runq: GlobRunq::new(),
                    stopwait: 0,
                    newprocs: 0,
                    allg: Vec::new(),
                    allm: Vec::new(),
                },
            ),
            runqsize: AtomicU32::new(0),
            goidgen: AtomicU64::new(0),
            npidle: AtomicU32::new(0),
            nmspinning: AtomicI32::new(0),
            gflock: Lock::with_kind(lock_kind, GfreeList { head: None }),
            ngfree: AtomicI32::new(0),
            allglen: AtomicUsize::new(0),
            stopnote: Note::with_kind(lock_kind),
            sysmonwait: AtomicU32::new(0),
            sysmonnote: Note::with_kind(lock_kind),
            gcwaiting: AtomicU32::new(0),
            gomaxprocs: AtomicI32::new(0),
            allp: (0..=MAX_GOMAXPROCS).map(|_| Link::none()).collect(),
            worldsema: Sema::new(1, lock_kind),
            end: RunEnd::default(),
            stacks,
            preempt,
            schedtrace,
            threads: Lock::new(Vec::new()),
            pauses: Lock::new(schedcore::report::latency_histogram()),
            gcstacks: Lock::new(None),
            tracer: Tracer::new(None),
        }
    }

    #[inline(always)]
    pub(crate) fn gcwaiting(&self) -> bool {
        self.gcwaiting.load(Ordering::SeqCst) != 0
    }

    #[inline(always)]
    pub(crate) fn gomaxprocs(&self) -> i32 {
        self.gomaxprocs.load(Ordering::SeqCst)
    }

    #[inline(always)]
    pub(crate) fn npidle(&self) -> u32 {
        self.npidle.load(Ordering::SeqCst)
    }

    #[inline(always)]
    pub(crate) fn nmspinning(&self) -> i32 {
        self.nmspinning.load(Ordering::SeqCst)
    }

    #[inline(always)]
    pub(crate) fn runqsize(&self) -> u32 {
        self.runqsize.load(Ordering::Relaxed)
    }

    /// Publishes the global queue's length after a change. Sched is locked.
    #[inline(always)]
    pub(crate) fn set_runqsize(&self, s: &Synced) {
        self.runqsize.store(s.runq.len() as u32, Ordering::Relaxed);
    }

    /// allp[i], which exists for every i below gomaxprocs.
    #[inline(always)]
    pub(crate) fn allp(&self, i: usize) -> Ptr<P> {
        self.allp[i]
            .get()
            .expect("allp entry below gomaxprocs is nil")
    }

    /// Port of mput (seed 001): puts `mp` on the idle M list. Sched is locked.
    /// Unchanged since 2013.
    pub(crate) fn mput(&self, s: &mut Synced, mp: Ptr<M>) {
        mp.schedlink.set(s.midle);
        s.midle = Some(mp);
        s.nmidle += 1;
        self.checkdead(s);
    }

    /// Port of mget (seed 001): takes an M off the idle list. Sched is locked.
    /// Unchanged since 2013.
    pub(crate) fn mget(&self, s: &mut Synced) -> Option<Ptr<M>> {
        let mp = s.midle?;
        s.midle = mp.schedlink.take();
        s.nmidle -= 1;
        Some(mp)
    }

    /// Port of pidleput (seed 001): puts `p` on the idle P list. Sched is locked.
    /// Unchanged since 2013.
    pub(crate) fn pidleput(&self, s: &mut Synced, p: Ptr<P>) {
        p.link.set(s.pidle);
        s.pidle = Some(p);
        self.npidle.fetch_add(1, Ordering::SeqCst);
    }

    /// Port of pidleget (seed 001): takes a P off the idle list. Sched is locked.
    /// Unchanged since 2013.
    pub(crate) fn pidleget(&self, s: &mut Synced) -> Option<Ptr<P>> {
        let p = s.pidle?;
        s.pidle = p.link.take();
        self.npidle.fetch_sub(1, Ordering::SeqCst);
        Some(p)
    }

    /// Port of globrunqput (seed 001): appends `gp` to the global run queue, counted on the
    /// caller's `p`. Sched is locked.
    /// Unchanged since 2013.
    /// `tr` is the calling M's trace.
    pub(crate) fn globrunqput(
        &self,
        s: &mut Synced,
        gp: GRef,
        c: &schedcore::Counters,
        tr: &TraceBuf,
    ) {
        trace_ev!(tr, GlobPut, gp.goid.load(Ordering::Relaxed), 1);
        s.runq.globrunqput(gp.as_non_null());
        self.set_runqsize(s);
        c.inc(Counter::GlobrunqPut);
    }

    /// Port of globrunqget (seed 001): a batch from the global queue (its fair share, at most
    /// half a ring, at most `max` if `max > 0`): the first to run, the rest onto `p`, which
    /// the caller holds. Sched is locked.
    pub(crate) fn globrunqget(
        &self,
        s: &mut Synced,
        p: &P,
        max: u32,
        tr: &TraceBuf,
    ) -> Option<GRef> {
        let before = s.runq.len();
        let gp = s
            .runq
            .globrunqget(&p.runq, self.gomaxprocs() as u32, max)
            .map(GRef::from_non_null);
        self.set_runqsize(s);
        let n = (before - s.runq.len()) as u64;
        p.counters.add(Counter::GlobrunqGet, n);
        if tr.on() && n > 0 {
            let first = gp.map_or(0, |g| g.goid.load(Ordering::Relaxed));
            tr.ev(schedcore::trace::Ev::GlobGet, first, n);
        }
        gp
    }

    /// Port of incidlelocked (seed 001): counts M's that wait for their locked goroutine (or,
    /// as retake uses it, briefly discounts one), checking for deadlock when the count grows.
    /// Unchanged since 2013 (where it was called inclocked).
    pub(crate) fn incidlelocked(&self, v: i32) {
        let mut s = self.lock.lock();
        s.nmidlelocked += v;
        if v > 0 {
            self.checkdead(&s);
        }
    }

    /// Port of checkdead (seed 001): if no M is running (every M but sysmon is idle or locked
    /// waiting) and no goroutine can run, the program is deadlocked. Sched is locked.
    /// Unchanged since 2013 but for reading statuses through the Gscan bit.
    pub(crate) fn checkdead(&self, s: &Synced) {
        if self.end.exiting() {
            return;
        }
        // Minus one for sysmon.
        let run = s.mcount - s.nmidle - s.nmidlelocked - 1;
        if run > 0 {
            return;
        }
        if run < 0 {
            self.throw(format!(
                "checkdead: inconsistent counts: nmidle={} nmidlelocked={} mcount={}",
                s.nmidle, s.nmidlelocked, s.mcount
            ));
            return;
        }
        let mut grunning = 0;
        for gp in &s.allg {
            let st = gp.readgstatus();
            match st & !Gscan {
                Gwaiting => grunning += 1,
                Grunnable | Grunning | Gsyscall => {
                    self.throw(format!(
                        "checkdead: runnable g: goroutine {} in status {}",
                        gp.goid.load(Ordering::Relaxed),
                        gstatus_name(st)
                    ));
                    return;
                }
                _ => {}
            }
        }
        if grunning == 0 {
            // Go reports a main goroutine that called Goexit here; main cannot do that in this
            // lab, so this is a scheduler bug.
            self.throw("no goroutines (main called runtime.Goexit) - deadlock!".into());
            return;
        }
        self.end.fail(RunError::Deadlock);
    }

    /// Go's `runtime·throw` for broken invariants: ends the run with a panic error instead of
    /// aborting the process.
    #[cold]
    pub(crate) fn throw(&self, msg: String) {
        self.end
            .fail(RunError::Panic(format!("fatal error: {msg}")));
    }

    /// Marks the stop of one P for stoptheworld (the `--stopwait` step of gcstopm, handoffp
    /// and entersyscall): wakes stoptheworld when it was the last. Sched is locked.
    /// Unchanged since 2013.
    pub(crate) fn stopwait_done(&self, s: &mut Synced) {
        s.stopwait -= 1;
        if s.stopwait == 0 {
            self.stopnote.notewakeup();
        }
    }

    /// Wakes sysmon if it sleeps because everything was idle. Sched is locked.
    /// Unchanged since 2013.
    pub(crate) fn wake_sysmon(&self, _s: &mut Synced) {
        if self.sysmonwait.load(Ordering::SeqCst) != 0 {
            self.sysmonwait.store(0, Ordering::SeqCst);
            self.sysmonnote.notewakeup();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
