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
use schedcore::{
    trace_ev, Counter, Lock, LockKind, Note, RawLock, RunEnd, RunError, Sema, StackArena,
};
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

mod locked;
use locked::{Guarded, LockedI32, LockedLink};

/// The largest GOMAXPROCS (the seed's MaxGomaxprocs, 1<<8). Nothing in the algorithm depends
/// on it; it sizes `allp` and sysmon's per-P records.
pub(crate) const MAX_GOMAXPROCS: usize = 1 << 8;

/// The cold data the sched lock guards (what the seed kept outside `SchedT`, or what the
/// port alone has). The guarded words the seed kept in `SchedT` are in `Sched`, at the seed's
/// places (see `locked.rs`).
pub(crate) struct Synced {
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
///
/// `repr(C)`, so that which words share a cache line is the seed's choice and not the
/// compiler's: first Go 1.4's `SchedT`, field for field in its order (the lock word, goidgen,
/// then midle, nmidle, nmidlelocked, mcount, pidle, npidle, nmspinning and runqhead, all on
/// the struct's first 64 bytes as in Go), without maxmcount, lastpoll and profilehz (no limit
/// on M's, no netpoller, no profiler here; maxmcount's 4 bytes stay as alignment padding
/// before pidle); then the globals Go kept beside it and the port's own fields. The words the
/// lock guards that Go kept among the others are `Locked*` words or the global queue's own
/// (written only with the lock held); the rest of what it guards is `Synced`, at the end. A
/// plain struct, as the seed's: no padding between hot words (sched2013's README, "Footing").
/// `sched/tests.rs` holds the layout.
#[repr(C)]
pub(crate) struct Sched {
    // Go 1.4's SchedT, in its order.
    /// The sched lock's word; [`Sched::lock`] takes it and hands out the guarded data.
    pub lock: RawLock,
    /// The last goroutine id handed out (P's take batches of 16).
    pub goidgen: AtomicU64,
    /// Idle M's waiting for work, linked through `M::schedlink`.
    pub midle: LockedLink<M>,
    pub nmidle: LockedI32,
    /// M's locked to a goroutine and waiting for it (they do not count as running).
    pub nmidlelocked: LockedI32,
    /// M's created so far (sysmon included).
    pub mcount: LockedI32,
    /// Idle P's, linked through `P::link`; `npidle` counts them.
    pub pidle: LockedLink<P>,
    pub npidle: AtomicU32,
    /// M's looking for work without having found any (spinning).
    pub nmspinning: AtomicI32,
    /// The global run queue (runqhead, runqtail, runqsize), linked through `G::schedlink`:
    /// changed under the lock, its length peeked at without it.
    pub runq: GlobRunq<G>,
    /// The global cache of dead G's, under its own lock (gflock, then gfree, as in the seed).
    pub gflock: Lock<GfreeList>,
    /// Length of the global gfree list, for gfget's unlocked peek and gcount.
    pub ngfree: AtomicI32,
    /// Set while stoptheworld is stopping or has stopped the world.
    pub gcwaiting: AtomicU32,
    /// P's stoptheworld still waits for.
    pub stopwait: LockedI32,
    pub stopnote: Note,
    pub sysmonwait: AtomicU32,
    pub sysmonnote: Note,
    // The globals Go kept beside its SchedT, then the port's own.
    /// allg's length, for gcount without the lock.
    pub allglen: AtomicUsize,
    pub gomaxprocs: AtomicI32,
    /// The runtime lock every lock of this runtime is (Config::lock, or Spin: Go 1.4's).
    pub lock_kind: LockKind,
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
    /// The cold data the sched lock guards, reached through [`Sched::lock`].
    synced: Guarded<Synced>,
}

impl Sched {
    pub(crate) fn new(
        stacks: StackArena,
        preempt: bool,
        schedtrace: Option<Duration>,
        lock_kind: LockKind,
    ) -> Sched {
        Sched {
            lock: RawLock::with_kind(lock_kind),
            goidgen: AtomicU64::new(0),
            midle: LockedLink::none(),
            nmidle: LockedI32::new(0),
            nmidlelocked: LockedI32::new(0),
            mcount: LockedI32::new(0),
            pidle: LockedLink::none(),
            npidle: AtomicU32::new(0),
            nmspinning: AtomicI32::new(0),
            runq: GlobRunq::new(),
            gflock: Lock::with_kind(lock_kind, GfreeList { head: None }),
            ngfree: AtomicI32::new(0),
            gcwaiting: AtomicU32::new(0),
            stopwait: LockedI32::new(0),
            stopnote: Note::with_kind(lock_kind),
            sysmonwait: AtomicU32::new(0),
            sysmonnote: Note::with_kind(lock_kind),
            allglen: AtomicUsize::new(0),
            gomaxprocs: AtomicI32::new(0),
            lock_kind,
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
            synced: Guarded::new(Synced {
                newprocs: 0,
                allg: Vec::new(),
                allm: Vec::new(),
            }),
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

    /// The global queue's length, peeked at without the lock.
    #[inline(always)]
    pub(crate) fn runqsize(&self) -> u32 {
        self.runq.len() as u32
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
        mp.schedlink.set(self.midle.get(s));
        self.midle.set(s, Some(mp));
        self.nmidle.add(s, 1);
        self.checkdead(s);
    }

    /// Port of mget (seed 001): takes an M off the idle list. Sched is locked.
    /// Unchanged since 2013.
    pub(crate) fn mget(&self, s: &mut Synced) -> Option<Ptr<M>> {
        let mp = self.midle.get(s)?;
        self.midle.set(s, mp.schedlink.take());
        self.nmidle.add(s, -1);
        Some(mp)
    }

    /// Port of pidleput (seed 001): puts `p` on the idle P list. Sched is locked.
    /// Unchanged since 2013.
    pub(crate) fn pidleput(&self, s: &mut Synced, p: Ptr<P>) {
        p.link.set(self.pidle.get(s));
        self.pidle.set(s, Some(p));
        self.npidle.fetch_add(1, Ordering::SeqCst);
    }

    /// Port of pidleget (seed 001): takes a P off the idle list. Sched is locked.
    /// Unchanged since 2013.
    pub(crate) fn pidleget(&self, s: &mut Synced) -> Option<Ptr<P>> {
        let p = self.pidle.get(s)?;
        self.pidle.set(s, p.link.take());
        self.npidle.fetch_sub(1, Ordering::SeqCst);
        Some(p)
    }

    /// Port of globrunqput (seed 001): appends `gp` to the global run queue, counted on the
    /// caller's `p`. Sched is locked.
    /// Unchanged since 2013.
    /// `tr` is the calling M's trace.
    pub(crate) fn globrunqput(
        &self,
        _locked: &mut Synced,
        gp: GRef,
        c: &schedcore::Counters,
        tr: &TraceBuf,
    ) {
        trace_ev!(tr, GlobPut, gp.goid.load(Ordering::Relaxed), 1);
        self.runq.globrunqput(gp.as_non_null());
        c.inc(Counter::GlobrunqPut);
    }

    /// Port of globrunqget (seed 001): a batch from the global queue (its fair share, at most
    /// half a ring, at most `max` if `max > 0`): the first to run, the rest onto `p`, which
    /// the caller holds. Sched is locked.
    pub(crate) fn globrunqget(
        &self,
        _locked: &mut Synced,
        p: &P,
        max: u32,
        tr: &TraceBuf,
    ) -> Option<GRef> {
        let before = self.runq.len();
        let gp = self
            .runq
            .globrunqget(&p.runq, self.gomaxprocs() as u32, max)
            .map(GRef::from_non_null);
        let n = (before - self.runq.len()) as u64;
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
        let mut s = self.lock();
        self.nmidlelocked.add(&mut s, v);
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
        let (mcount, nmidle, nmidlelocked) = (
            self.mcount.get(s),
            self.nmidle.get(s),
            self.nmidlelocked.get(s),
        );
        let run = mcount - nmidle - nmidlelocked - 1;
        if run > 0 {
            return;
        }
        if run < 0 {
            self.throw(format!(
                "checkdead: inconsistent counts: nmidle={nmidle} nmidlelocked={nmidlelocked} mcount={mcount}"
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
        if self.stopwait.add(s, -1) == 0 {
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
