//! The one global `Sched` of 2011: everything behind the single schedlock, the packed atomic
//! word beside it, and the queue operations on them (gput/gget, mput/mget, gfput/gfget).

use crate::g::GPtr;
use crate::m::{MPtr, M};
use crate::word::SchedWord;
use crate::Sched2011;
use hdrhistogram::Histogram;
use schedcore::{
    CachePadded, Counter, Counters, Lock, LockGuard, LockKind, Note, RunEnd, RunError, Sema,
};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::thread::JoinHandle;

/// What the schedlock guards (Go's `struct Sched` minus the atomic word).
pub struct Synced {
    /// The global run queue (ghead/gtail).
    pub runq: VecDeque<GPtr>,
    /// Goroutines waiting to run: the queue's length, mirrored in the word's gwaiting bit.
    pub gwait: usize,
    /// Dead goroutines kept with their stacks for reuse.
    pub gfree: Vec<GPtr>,
    pub goidgen: u64,
    /// Goroutines alive.
    pub gcount: usize,
    /// Goroutines running on a CPU or in a syscall.
    pub grunning: i64,
    /// M's waiting for work (a stack, as the seed's mhead list).
    pub mhead: Vec<MPtr>,
    pub mcount: usize,
    pub allm: Vec<MPtr>,
    pub allg: Vec<GPtr>,
    pub threads: Vec<JoinHandle<()>>,
    pub gomaxprocs: u32,
    /// Events counted under the schedlock (queue traffic, hand-offs, threads).
    pub counters: Counters,
}

/// The schedlock held.
pub type SchedGuard<'a> = LockGuard<'a, Synced>;

/// One 2011 runtime.
pub struct Runtime {
    /// `false` for "2011-lock": entersyscall/exitsyscall always take the schedlock, as before
    /// seed 002.
    pub fastpath: bool,
    /// The runtime lock the schedlock (and every other lock of the runtime) is.
    pub lock_kind: LockKind,
    pub name: &'static str,
    pub stack_size: usize,
    /// The packed word, alone on its cache line: it is the one line the fast paths bounce.
    pub word: CachePadded<SchedWord>,
    pub sched: Lock<Synced>,
    /// stoptheworld sleeps here after setting waitstop.
    pub stopped: Note,
    pub gcwaiting: AtomicBool,
    pub end: RunEnd,
    /// One stopper of the world at a time (Go's gcsema).
    pub worldsema: Sema<Sched2011>,
    /// Stop-the-world pauses in ns.
    pub pauses: Lock<Histogram<u64>>,
}

impl Runtime {
    pub fn new(
        name: &'static str,
        fastpath: bool,
        lock_kind: LockKind,
        stack_size: usize,
        procs: u32,
    ) -> Runtime {
        let rt = Runtime {
            fastpath,
            lock_kind,
            name,
            stack_size,
            word: CachePadded::new(SchedWord::new()),
            sched: Lock::with_kind(
                lock_kind,
                Synced {
                    runq: VecDeque::new(),
                    gwait: 0,
                    gfree: Vec::new(),
                    goidgen: 0,
                    gcount: 0,
                    grunning: 0,
                    mhead: Vec::new(),
                    mcount: 0,
                    allm: Vec::new(),
                    allg: Vec::new(),
                    threads: Vec::new(),
                    gomaxprocs: procs,
                    counters: Counters::new(),
                },
            ),
            stopped: Note::new(),
            gcwaiting: AtomicBool::new(false),
            end: RunEnd::default(),
            worldsema: Sema::new(1, lock_kind),
            pauses: Lock::new(schedcore::report::latency_histogram()),
        };
        rt.word.setmcpumax(procs);
        rt
    }

    /// The state as a Go-style `SCHED` line. 2011 has no P's: idleprocs counts the CPUs that
    /// mcpumax allows and nobody uses, and there are no local queues.
    pub fn schedtrace(&self, elapsed: std::time::Duration) -> schedcore::trace::SchedTrace {
        let s = self.sched.lock();
        let v = self.word.load();
        schedcore::trace::SchedTrace {
            elapsed,
            gomaxprocs: s.gomaxprocs as usize,
            idleprocs: (s.gomaxprocs as usize).saturating_sub(crate::word::mcpu(v) as usize),
            threads: s.mcount,
            spinningthreads: 0,
            idlethreads: s.mhead.len(),
            runqueue: s.gwait,
            local: None,
        }
    }

    /// Ends the run with `err` (first one wins) and wakes every M so it can leave.
    pub fn fail(&self, err: RunError) {
        if self.end.fail(err) {
            self.wake_for_exit(&mut self.sched.lock());
        }
    }

    /// Sets mcpumax, or 0 once the run is over. Under the schedlock.
    pub fn setmcpumax(&self, n: u32) {
        self.word.setmcpumax(if self.end.exiting() { 0 } else { n });
    }

    /// Wakes every sleeping M and a sleeping stoptheworld once `end` says the run is over.
    /// Under the schedlock, so that an M deciding to sleep either sees `exiting` or is woken.
    ///
    /// mcpumax drops to 0, so that a goroutine looping on syscalls fails its next
    /// exitsyscall fast path, reaches schedule, and its M leaves: the exit costs the fast
    /// paths nothing.
    pub fn wake_for_exit(&self, s: &mut Synced) {
        self.word.setmcpumax(0);
        for m in &s.allm {
            if m.waitnextg.swap(false, Relaxed) {
                m.havenextg.notewakeup();
            }
        }
        if self.word.clear_waitstop() {
            self.stopped.notewakeup();
        }
    }
}

/// Port of gput (seed 002): queue a runnable goroutine, or hand a wired one straight to its M.
pub fn gput(rt: &Runtime, s: &mut Synced, gp: GPtr) {
    if let Some(m) = gp.lockedm() {
        if rt.word.canaddmcpu() {
            mnextg(s, MPtr::from_ref(m), gp);
            return;
        }
    }
    s.runq.push_back(gp);
    s.counters.inc(Counter::GlobrunqPut);
    // The word's gwaiting bit follows gwait's transitions to and from zero.
    s.gwait += 1;
    s.counters.max(Counter::RunqMax, s.gwait as u64);
    if s.gwait == 1 {
        rt.word.set_gwaiting(true);
    }
}

/// Port of haveg (seed 002).
#[inline]
pub fn haveg(s: &Synced) -> bool {
    !s.runq.is_empty()
}

/// Port of gget (seed 002).
pub fn gget(rt: &Runtime, s: &mut Synced) -> Option<GPtr> {
    let gp = s.runq.pop_front()?;
    s.counters.inc(Counter::GlobrunqGet);
    s.gwait -= 1;
    if s.gwait == 0 {
        rt.word.set_gwaiting(false);
    }
    Some(gp)
}

/// Port of mput (seed 002): the M joins the idle list.
pub fn mput(s: &mut Synced, m: &M) {
    s.mhead.push(MPtr::from_ref(m));
}

/// Port of mget (seed 002): the M that should run `gp`: its wired M, else an idle one.
pub fn mget(s: &mut Synced, gp: GPtr) -> Option<MPtr> {
    if let Some(m) = gp.lockedm() {
        return Some(MPtr::from_ref(m));
    }
    s.mhead.pop()
}

/// Port of mnextg (seed 002): pass `gp` to `m`, waking it if it sleeps. The caller has
/// already counted the CPU in mcpu.
pub fn mnextg(s: &mut Synced, m: MPtr, gp: GPtr) {
    s.grunning += 1;
    m.nextg.store(gp.as_ptr(), Relaxed);
    if m.waitnextg.swap(false, Relaxed) {
        s.counters.inc(Counter::MnextgHandoffs);
        m.havenextg.notewakeup();
    }
}

/// Port of gfput (seed 002): keep a dead goroutine (and its stack) for reuse.
pub fn gfput(s: &mut Synced, gp: GPtr) {
    s.gfree.push(gp);
}

/// Port of gfget (seed 002), or a new G when the list is empty (Go's malg + allg link).
pub fn gfget(s: &mut Synced) -> GPtr {
    match s.gfree.pop() {
        Some(gp) => gp,
        None => {
            let gp = GPtr::alloc();
            s.allg.push(gp);
            gp
        }
    }
}
