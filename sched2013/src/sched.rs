//! The runtime-wide state (the seed's `Sched` and the globals beside it): the sched lock and
//! what it guards (idle M's, idle P's, the global run queue, stopwait, allg, allm), the
//! atomics read without it (npidle, nmspinning, gcwaiting, gomaxprocs, ...), and the list
//! operations that need the lock held: mput/mget, pidleput/pidleget, globrunqput/
//! globrunqget, inclocked and checkdead.

use crate::g::{status_name, GRef, G, GRUNNABLE, GRUNNING, GSYSCALL, GWAITING};
use crate::m::M;
use crate::p::P;
use crate::Sched2013;
use hdrhistogram::Histogram;
use schedcore::ptr::{Link, Ptr};
use schedcore::trace::{TraceBuf, Tracer};
use schedcore::{
    trace_ev, Counter, Counters, Lock, LockKind, Note, RawLock, RunEnd, RunError, Sema, StackArena,
};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::thread::JoinHandle;

mod locked;
use locked::{Guarded, LockedI32, LockedLink};

/// The largest GOMAXPROCS (the seed's MaxGomaxprocs). Nothing in the algorithm depends on
/// it; it sizes `allp` and sysmon's tick array.
pub(crate) const MAX_GOMAXPROCS: usize = 1 << 8;

/// The cold data the sched lock guards (what the seed kept outside `Sched`, or what the
/// port alone has). The guarded words the seed kept in `Sched` are in `Sched`, at the seed's
/// places (see `locked.rs`).
pub(crate) struct Synced {
    /// GOMAXPROCS to switch to at the next starttheworld (0: keep).
    pub newprocs: i32,
    /// Every G ever allocated (the seed's allg list).
    pub allg: Vec<GRef>,
    /// Every M ever created.
    pub allm: Vec<Ptr<M>>,
}

/// The state of one 2013 runtime.
///
/// `repr(C)`, so that which words share a cache line is the seed's choice and not the
/// compiler's: first Go 1.1's `Sched`, field for field in its order (the lock word, goidgen,
/// then midle, nmidle, mlocked, mcount, pidle, npidle, nmspinning and runqhead, all on the
/// struct's first 64 bytes as in Go), without lastpoll and profilehz (no netpoller, no
/// profiler here); then the globals Go kept beside it and the port's own fields. The words
/// the lock guards that Go kept among the others are `Locked*` words (written only with the
/// lock held); the rest of what it guards is `Synced`, at the end. A plain struct, as the
/// seed's: no padding between hot words (see the README's "Footing" section; 2014's Sched is
/// laid out by the same rule). `sched/tests.rs` holds the layout.
#[repr(C)]
pub(crate) struct Sched {
    // Go 1.1's Sched, in its order.
    /// The sched lock's word; [`Sched::lock`] takes it and hands out the guarded data.
    pub lock: RawLock,
    /// Goroutine ids, taken with an atomic add on every spawn, as in the seed.
    pub goidgen: AtomicU64,
    /// Idle M's waiting for work, linked through `M::schedlink`.
    pub midle: LockedLink<M>,
    pub nmidle: LockedI32,
    /// M's locked to a goroutine and waiting for it (they do not count as running).
    pub mlocked: LockedI32,
    /// M's created so far (sysmon included).
    pub mcount: LockedI32,
    /// Idle P's, linked through `P::link`; `npidle` counts them.
    pub pidle: LockedLink<P>,
    pub npidle: AtomicU32,
    pub nmspinning: AtomicU32,
    /// The global run queue, linked through `G::schedlink`.
    pub runqhead: LockedLink<G>,
    pub runqtail: LockedLink<G>,
    /// Length of the global run queue: changed under the lock, peeked at without it.
    pub runqsize: AtomicI32,
    /// The global cache of dead G's, under its own lock (gflock, then gfree, as in the seed).
    pub gflock: Lock<Option<GRef>>,
    /// P's stoptheworld still waits for.
    pub stopwait: LockedI32,
    pub stopnote: Note,
    pub sysmonwait: AtomicU32,
    pub sysmonnote: Note,
    // The globals Go kept beside its Sched, then the port's own.
    /// Set while stoptheworld is stopping or has stopped the world.
    pub gcwaiting: AtomicU32,
    pub gomaxprocs: AtomicI32,
    /// Whether the global gfree list is non-empty, for the peek in gfget.
    pub gfree_any: AtomicBool,
    /// The runtime lock every lock of this runtime is (Config::lock, or Spin: Go 1.1's).
    pub lock_kind: LockKind,
    /// Every P ever created, by id; entries below gomaxprocs are in use.
    pub allp: Box<[Link<P>]>,
    /// Serializes stop-the-world users (gc, gomaxprocs), as goroutines.
    pub worldsema: Sema<Sched2013>,
    /// How the run ends (its `exiting` flag is read by every slow path into the scheduler).
    pub end: RunEnd,
    /// Where goroutine stacks come from (freed with the Sched, after every G).
    pub stacks: StackArena,
    /// Print a schedtrace line from sysmon this often (Config::schedtrace).
    pub schedtrace: Option<std::time::Duration>,
    /// Every thread started, to be joined at teardown.
    pub threads: Lock<Vec<JoinHandle<()>>>,
    /// Stop-the-world pauses, stoptheworld start to starttheworld end.
    pub pauses: Lock<Histogram<u64>>,
    /// The execution tracer (set by `run` from Config::trace); every M's buffer comes from it.
    pub tracer: Tracer,
    /// The cold data the sched lock guards, reached through [`Sched::lock`].
    synced: Guarded<Synced>,
}

impl Sched {
    pub(crate) fn new(
        stacks: StackArena,
        schedtrace: Option<std::time::Duration>,
        lock_kind: LockKind,
    ) -> Sched {
        Sched {
            lock: RawLock::with_kind(lock_kind),
            goidgen: AtomicU64::new(0),
            midle: LockedLink::none(),
            nmidle: LockedI32::new(0),
            mlocked: LockedI32::new(0),
            mcount: LockedI32::new(0),
            pidle: LockedLink::none(),
            npidle: AtomicU32::new(0),
            nmspinning: AtomicU32::new(0),
            runqhead: LockedLink::none(),
            runqtail: LockedLink::none(),
            runqsize: AtomicI32::new(0),
            gflock: Lock::with_kind(lock_kind, None),
            stopwait: LockedI32::new(0),
            stopnote: Note::with_kind(lock_kind),
            sysmonwait: AtomicU32::new(0),
            sysmonnote: Note::with_kind(lock_kind),
            gcwaiting: AtomicU32::new(0),
            gomaxprocs: AtomicI32::new(0),
            gfree_any: AtomicBool::new(false),
            lock_kind,
            allp: (0..=MAX_GOMAXPROCS).map(|_| Link::none()).collect(),
            worldsema: Sema::new(1, lock_kind),
            end: RunEnd::default(),
            stacks,
            schedtrace,
            threads: Lock::new(Vec::new()),
            pauses: Lock::new(schedcore::report::latency_histogram()),
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
    pub(crate) fn nmspinning(&self) -> u32 {
        self.nmspinning.load(Ordering::SeqCst)
    }

    #[inline(always)]
    pub(crate) fn runqsize(&self) -> i32 {
        self.runqsize.load(Ordering::Relaxed)
    }

    /// allp[i], which exists for every i below gomaxprocs.
    #[inline(always)]
    pub(crate) fn allp(&self, i: usize) -> Ptr<P> {
        self.allp[i]
            .get()
            .expect("allp entry below gomaxprocs is nil")
    }

    /// Port of mput (seed 003): puts `mp` on the idle M list. Sched is locked.
    pub(crate) fn mput(&self, s: &mut Synced, mp: Ptr<M>) {
        mp.schedlink.set(self.midle.get(s));
        self.midle.set(s, Some(mp));
        self.nmidle.add(s, 1);
        self.checkdead(s);
    }

    /// Port of mget (seed 003): takes an M off the idle list. Sched is locked.
    pub(crate) fn mget(&self, s: &mut Synced) -> Option<Ptr<M>> {
        let mp = self.midle.get(s)?;
        self.midle.set(s, mp.schedlink.take());
        self.nmidle.add(s, -1);
        Some(mp)
    }

    /// Port of pidleput (seed 003): puts `p` on the idle P list. Sched is locked.
    pub(crate) fn pidleput(&self, s: &mut Synced, p: Ptr<P>) {
        p.link.set(self.pidle.get(s));
        self.pidle.set(s, Some(p));
        self.npidle.fetch_add(1, Ordering::SeqCst);
    }

    /// Port of pidleget (seed 003): takes a P off the idle list. Sched is locked.
    pub(crate) fn pidleget(&self, s: &mut Synced) -> Option<Ptr<P>> {
        let p = self.pidle.get(s)?;
        self.pidle.set(s, p.link.take());
        self.npidle.fetch_sub(1, Ordering::SeqCst);
        Some(p)
    }

    /// Port of globrunqput (seed 003): appends `gp` to the global run queue. Sched is locked.
    /// `c` and `tr` are the calling M's (or P's) counters and trace.
    pub(crate) fn globrunqput(&self, s: &mut Synced, gp: GRef, c: &Counters, tr: &TraceBuf) {
        trace_ev!(tr, GlobPut, gp.goid.load(Ordering::Relaxed), 1);
        gp.schedlink.set(None);
        match self.runqtail.get(s) {
            Some(t) => t.schedlink.set(Some(gp.0)),
            None => self.runqhead.set(s, Some(gp.0)),
        }
        self.runqtail.set(s, Some(gp.0));
        self.runqsize.store(self.runqsize() + 1, Ordering::Relaxed);
        c.inc(Counter::GlobrunqPut);
    }

    /// Takes the head of the global run queue (the seed does this inline). Sched is locked.
    fn globrunqpop(&self, s: &mut Synced) -> Option<GRef> {
        let gp = GRef(self.runqhead.get(s)?);
        let next = gp.schedlink.take();
        self.runqhead.set(s, next);
        if next.is_none() {
            self.runqtail.set(s, None);
        }
        self.runqsize.store(self.runqsize() - 1, Ordering::Relaxed);
        Some(gp)
    }

    /// Port of globrunqget (seed 003): takes a fair share of the global queue (its length
    /// over GOMAXPROCS, plus one), returns the first and puts the rest on `p`'s local queue.
    /// Sched is locked.
    pub(crate) fn globrunqget(
        &self,
        s: &mut Synced,
        p: &P,
        c: &Counters,
        tr: &TraceBuf,
    ) -> Option<GRef> {
        let size = self.runqsize();
        if size == 0 {
            return None;
        }
        let n = (size / self.gomaxprocs() + 1).min(size);
        c.add(Counter::GlobrunqGet, n as u64);
        let gp = self.globrunqpop(s);
        trace_ev!(
            tr,
            GlobGet,
            gp.map_or(0, |g| g.goid.load(Ordering::Relaxed)),
            n as u64
        );
        for _ in 1..n {
            let g1 = self
                .globrunqpop(s)
                .expect("global runq shorter than runqsize");
            p.runqput(g1);
        }
        gp
    }

    /// Empties the global run queue for procresize.
    pub(crate) fn globrunqdrain(&self, s: &mut Synced) -> Option<GRef> {
        self.globrunqpop(s)
    }

    /// Port of inclocked (seed 003): counts M's that wait for their locked goroutine (or, as
    /// retake uses it, briefly discounts one), checking for deadlock when the count grows.
    pub(crate) fn inclocked(&self, v: i32) {
        let mut s = self.lock();
        self.mlocked.add(&mut s, v);
        if v > 0 {
            self.checkdead(&s);
        }
    }

    /// Port of checkdead (seed 003): if no M is running (every M but sysmon is idle or locked
    /// waiting) and no goroutine can run, the program is deadlocked. Sched is locked.
    pub(crate) fn checkdead(&self, s: &Synced) {
        if self.end.exiting() {
            return;
        }
        // Minus one for sysmon.
        let (mcount, nmidle, mlocked) =
            (self.mcount.get(s), self.nmidle.get(s), self.mlocked.get(s));
        let run = mcount - nmidle - mlocked - 1;
        if run > 0 {
            return;
        }
        if run < 0 {
            self.throw(format!(
                "checkdead: inconsistent counts: nmidle={nmidle} mlocked={mlocked} mcount={mcount}"
            ));
            return;
        }
        let mut waiting = 0;
        for gp in &s.allg {
            let st = gp.status();
            match st {
                GWAITING => waiting += 1,
                GRUNNABLE | GRUNNING | GSYSCALL => {
                    self.throw(format!(
                        "checkdead: found goroutine {} {}",
                        gp.goid.load(Ordering::Relaxed),
                        status_name(st)
                    ));
                    return;
                }
                _ => {}
            }
        }
        if waiting == 0 {
            // Go exits quietly here (main called Goexit); main cannot do that in this lab.
            self.throw("checkdead: no goroutines left but main has not returned".into());
            return;
        }
        self.fail(RunError::Deadlock);
    }

    /// Ends the run with `err` (first error wins).
    /// Port of schedtrace (seed 001, non-detailed): the state as a Go-style `SCHED` line.
    pub(crate) fn schedtrace_line(
        &self,
        elapsed: std::time::Duration,
    ) -> schedcore::schedtrace::SchedTrace {
        let s = self.lock();
        let procs = self.gomaxprocs().max(0) as usize;
        schedcore::schedtrace::SchedTrace {
            elapsed,
            gomaxprocs: procs,
            idleprocs: self.npidle() as usize,
            threads: self.mcount.get(&s).max(0) as usize,
            spinningthreads: self.nmspinning() as usize,
            idlethreads: self.nmidle.get(&s).max(0) as usize,
            runqueue: self.runqsize().max(0) as usize,
            local: Some((0..procs).map(|i| self.allp(i).runq.len()).collect()),
        }
    }

    pub(crate) fn fail(&self, err: RunError) {
        self.end.fail(err);
    }

    /// Go's `runtime·throw` for broken invariants: ends the run with a panic error instead
    /// of aborting the process.
    #[cold]
    pub(crate) fn throw(&self, msg: String) {
        self.fail(RunError::Panic(format!("fatal error: {msg}")));
    }

    /// Marks the stop of one P for stoptheworld (the `--stopwait` step of gcstopm, handoffp
    /// and entersyscall): wakes stoptheworld when it was the last. Sched is locked.
    pub(crate) fn stopwait_done(&self, s: &mut Synced) {
        if self.stopwait.add(s, -1) == 0 {
            self.stopnote.notewakeup();
        }
    }

    /// Wakes sysmon if it sleeps because everything was idle. Sched is locked.
    pub(crate) fn wake_sysmon(&self, _s: &mut Synced) {
        if self.sysmonwait.load(Ordering::SeqCst) != 0 {
            self.sysmonwait.store(0, Ordering::SeqCst);
            self.sysmonnote.notewakeup();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
