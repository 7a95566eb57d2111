//! The one global `Sched` of 2011: everything behind the single schedlock, the packed atomic
//! word beside it, and the queue operations on them (gput/gget, mput/mget, gfput/gfget).
//! The versions of gput, gget and mnextg from before CL 4723042 are in `before.rs`.

use crate::g::GPtr;
use crate::m::{MPtr, M};
use crate::sync::{Note, SchedLock, SchedLockGuard};
use crate::word::SchedWord;
use crate::Sched2011;
use hdrhistogram::Histogram;
use schedcore::trace::{TraceBuf, Tracer};
use schedcore::{trace_ev, Counter, Counters, Lock, LockKind, RunEnd, RunError, Sema, StackArena};
use std::collections::VecDeque;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::thread::JoinHandle;

/// What the schedlock guards (Go's `struct Sched` minus the atomic word).
///
/// Laid out as Go 1.0's `Sched` (`repr(C)`, see [`Runtime`]): the port's own bookkeeping
/// first, then the seed's fields in the seed's order, so that the packed word, which follows
/// this struct, comes right after `mcount` (and the pre-CL `mcpu`, `mcpumax`), as in Go.
#[repr(C)]
pub struct Synced {
    // The port's own: what Go kept in other globals (allm, allg), or did not keep.
    pub allm: Vec<MPtr>,
    pub allg: Vec<GPtr>,
    pub threads: Vec<JoinHandle<()>>,
    /// Events counted under the schedlock (queue traffic, hand-offs, threads).
    pub counters: Counters,
    pub gomaxprocs: u32,
    /// An M that mnextg handed a goroutine to and that must be woken once the schedlock is
    /// released (Go's `mwakeup`): woken inside the lock, it would only wake to wait for it.
    pub mwakeup: Option<MPtr>,
    /// Before CL 4723042 (2011-lock only; 2011 keeps it in the word): whether stoptheworld
    /// waits on `stopped` (the July-2011 tree kept it after the note).
    pub waitstop: bool,
    // Go 1.0's Sched, in its order.
    /// Dead goroutines kept with their stacks for reuse.
    pub gfree: Vec<GPtr>,
    pub goidgen: u64,
    /// The global run queue (ghead/gtail).
    pub runq: VecDeque<GPtr>,
    /// Goroutines waiting to run: the queue's length, mirrored in the word's gwaiting bit.
    pub gwait: i32,
    /// Goroutines alive.
    pub gcount: i32,
    /// Goroutines running on a CPU or in a syscall.
    pub grunning: i32,
    /// M's waiting for work (a stack, as the seed's mhead list).
    pub mhead: Vec<MPtr>,
    pub mcount: i32,
    /// Before CL 4723042 (2011-lock only; 2011 keeps these in the word): M's executing Go
    /// code and how many may (the July-2011 tree kept them right after mcount).
    pub mcpu: i32,
    pub mcpumax: i32,
}

/// The schedlock held. Dropping it is Go's `schedunlock`: unlock, then wake `mwakeup`.
pub struct SchedGuard<'a>(ManuallyDrop<SchedLockGuard<'a, Synced>>);

impl Deref for SchedGuard<'_> {
    type Target = Synced;
    #[inline(always)]
    fn deref(&self) -> &Synced {
        &self.0
    }
}

impl DerefMut for SchedGuard<'_> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Synced {
        &mut self.0
    }
}

impl Drop for SchedGuard<'_> {
    /// Port of schedunlock (Go 1.0 proc.c; the seed shows only its callers).
    #[inline]
    fn drop(&mut self) {
        let mp = self.0.mwakeup.take();
        // SAFETY: the inner guard is dropped once, here, and never touched again.
        unsafe { ManuallyDrop::drop(&mut self.0) };
        if let Some(mp) = mp {
            mp.havenextg.notewakeup();
        }
    }
}

/// One 2011 runtime.
///
/// `repr(C)`, so that which words share a cache line is the seed's choice and not the
/// compiler's: Go 1.0's `Sched` was the lock, then gfree, goidgen, ghead, gtail, gwait, gcount,
/// grunning, mhead, mwait, mcount, and then the packed word (at byte 72 of the struct on amd64,
/// 4 bytes after mcount), then profilehz, init, lockmain and the `stopped` note. So the word
/// was never on the lock word's line (72 bytes apart), always on mcount's, and, as the linker
/// placed the 8-aligned `runtime·sched`, on the line of gwait, gcount and grunning for most
/// placements: the fast paths' CAS shared its line with fields the schedlock's holder writes
/// on every gput and gget. Here the word follows `Synced` (which ends with the seed's fields in
/// the seed's order) and precedes `stopped` the same way; `sched/tests.rs`-style checks in
/// `tests.rs` hold the order.
#[repr(C)]
pub struct Runtime {
    /// `true` for "2011-lock": the runtime runs the functions of `before.rs`, as Go did
    /// before CL 4723042; `false` for "2011", the code of the CL.
    pub before: bool,
    /// The runtime lock the schedlock (and every other lock of the runtime) is.
    pub lock_kind: LockKind,
    pub name: &'static str,
    /// Where goroutine stacks come from (freed with the runtime, after every G).
    pub stacks: StackArena,
    /// The schedlock, taken through [`Runtime::schedlock`], and what it guards.
    sched: SchedLock<Synced>,
    /// The packed word, where Go 1.0 kept it: right after the fields of `Synced`'s tail.
    pub word: SchedWord,
    /// stoptheworld sleeps here after setting waitstop.
    pub stopped: Note,
    pub gcwaiting: AtomicBool,
    pub end: RunEnd,
    /// One stopper of the world at a time (Go's gcsema).
    pub worldsema: Sema<Sched2011>,
    /// Stop-the-world pauses in ns.
    pub pauses: Lock<Histogram<u64>>,
    /// The execution tracer (Config::trace); every M's buffer comes from it.
    pub tracer: Tracer,
    /// What the boot records before any M exists (newproc1 of main, its gput, matchmg's
    /// hand-off to M0), under the schedlock; put at the head of M0's lane at the end.
    pub boot_trace: TraceBuf,
}

impl Runtime {
    pub fn new(
        name: &'static str,
        before: bool,
        lock_kind: LockKind,
        stacks: StackArena,
        procs: u32,
        trace: Option<usize>,
    ) -> Runtime {
        let tracer = Tracer::new(trace);
        let rt = Runtime {
            before,
            lock_kind,
            name,
            stacks,
            sched: SchedLock::with_kind(
                lock_kind,
                Synced {
                    allm: Vec::new(),
                    allg: Vec::new(),
                    threads: Vec::new(),
                    counters: Counters::new(),
                    gomaxprocs: procs,
                    mwakeup: None,
                    waitstop: false,
                    gfree: Vec::new(),
                    goidgen: 0,
                    runq: VecDeque::new(),
                    gwait: 0,
                    gcount: 0,
                    grunning: 0,
                    mhead: Vec::new(),
                    mcount: 0,
                    mcpu: 0,
                    mcpumax: procs as i32,
                },
            ),
            word: SchedWord::new(),
            stopped: Note::with_kind(lock_kind),
            gcwaiting: AtomicBool::new(false),
            end: RunEnd::default(),
            worldsema: Sema::new(1, lock_kind),
            pauses: Lock::new(schedcore::report::latency_histogram()),
            tracer,
            boot_trace: tracer.buf(),
        };
        rt.word.setmcpumax(procs);
        rt
    }

    /// Port of schedlock (seed 002).
    #[inline(always)]
    pub fn schedlock(&self) -> SchedGuard<'_> {
        SchedGuard(ManuallyDrop::new(self.sched.lock()))
    }

    /// The schedlock if it is free (the loom model's monitor; see `crate::sync`).
    #[cfg(loom)]
    pub fn try_schedlock(&self) -> Option<SchedGuard<'_>> {
        self.sched
            .try_lock()
            .map(|g| SchedGuard(ManuallyDrop::new(g)))
    }

    /// The trace buffer of the thread calling with `cur` as its M: the M's own, or the boot's
    /// (`cur` is `None` only while `run` boots the main goroutine).
    #[inline(always)]
    pub fn trace_of<'a>(&'a self, cur: Option<&'a M>) -> &'a TraceBuf {
        match cur {
            Some(m) => &m.trace,
            None => &self.boot_trace,
        }
    }

    /// M's executing Go code: the word's mcpu, or the plain field before CL 4723042.
    pub fn mcpu(&self, s: &Synced) -> u32 {
        if self.before {
            s.mcpu.max(0) as u32
        } else {
            crate::word::mcpu(self.word.load())
        }
    }

    /// The state as a Go-style `SCHED` line. 2011 has no P's: idleprocs counts the CPUs that
    /// mcpumax allows and nobody uses, and there are no local queues.
    pub fn schedtrace(&self, elapsed: std::time::Duration) -> schedcore::schedtrace::SchedTrace {
        let s = self.schedlock();
        schedcore::schedtrace::SchedTrace {
            elapsed,
            gomaxprocs: s.gomaxprocs as usize,
            idleprocs: (s.gomaxprocs as usize).saturating_sub(self.mcpu(&s) as usize),
            threads: s.mcount as usize,
            spinningthreads: 0,
            idlethreads: s.mhead.len(),
            runqueue: s.gwait as usize,
            local: None,
        }
    }

    /// Ends the run with `err` (first one wins) and wakes every M so it can leave.
    pub fn fail(&self, err: RunError) {
        if self.end.fail(err) {
            self.wake_for_exit(&mut self.schedlock());
        }
    }

    /// Ends the run because main returned (unless it has already ended), and wakes every M so
    /// it can leave: the last thing the main goroutine does.
    pub fn finish(&self) {
        if self.end.finish() {
            self.wake_for_exit(&mut self.schedlock());
        }
    }

    /// `n`, or 0 once the run is over: what mcpumax may be set to.
    #[inline]
    pub fn mcpumax_allowed(&self, n: u32) -> u32 {
        if self.end.exiting() {
            0
        } else {
            n
        }
    }

    /// Sets the word's mcpumax, or 0 once the run is over. Under the schedlock.
    pub fn setmcpumax(&self, n: u32) {
        self.word.setmcpumax(self.mcpumax_allowed(n));
    }

    /// The end of stoptheworld, under the schedlock: whether the world stopped. If the run
    /// ended instead (which woke the stopper), nothing is stopped and the caller must not
    /// act as if it were, so gcwaiting goes back down.
    pub fn stoptheworld_done(&self) -> bool {
        if self.end.exiting() {
            self.gcwaiting.store(false, Relaxed);
            return false;
        }
        true
    }

    /// Wakes every sleeping M and a sleeping stoptheworld once `end` says the run is over.
    /// Under the schedlock, so that an M deciding to sleep either sees `exiting` or is woken.
    ///
    /// mcpumax drops to 0, so that a goroutine looping on syscalls fails its next
    /// exitsyscall fast path, reaches schedule, and its M leaves: the exit costs the fast
    /// paths nothing.
    /// Both variants' fields are cleared: each runtime uses one set, and the other stays idle.
    pub fn wake_for_exit(&self, s: &mut Synced) {
        self.word.setmcpumax(0);
        s.mcpumax = 0;
        for m in &s.allm {
            if m.take_waitnextg() {
                m.havenextg.notewakeup();
            }
        }
        let waitstop = std::mem::take(&mut s.waitstop);
        if self.word.clear_waitstop() || waitstop {
            self.stopped.notewakeup();
        }
    }
}

/// Port of gput (seed 002): queue a runnable goroutine, or hand a wired one straight to its M.
/// `tr` is the calling M's trace buffer (as for gget and mnextg).
pub fn gput(rt: &Runtime, s: &mut Synced, tr: &TraceBuf, gp: GPtr) {
    if let Some(m) = gp.lockedm() {
        if rt.word.canaddmcpu() {
            mnextg(s, tr, MPtr::from_ref(m), gp);
            return;
        }
    }
    trace_ev!(tr, GlobPut, gp.goid.load(Relaxed), 1);
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
pub fn gget(rt: &Runtime, s: &mut Synced, tr: &TraceBuf) -> Option<GPtr> {
    let gp = s.runq.pop_front()?;
    trace_ev!(tr, GlobGet, gp.goid.load(Relaxed), 1);
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

/// Port of mnextg (seed 002): pass `gp` to `m`, which is woken at schedunlock if it sleeps.
/// The caller has already counted the CPU in mcpu.
pub fn mnextg(s: &mut Synced, tr: &TraceBuf, m: MPtr, gp: GPtr) {
    trace_ev!(tr, MHandoff, gp.goid.load(Relaxed), m.id as u64);
    s.grunning += 1;
    m.nextg.store(gp.as_ptr(), Relaxed);
    if m.take_waitnextg() {
        s.counters.inc(Counter::MnextgHandoffs);
        // One wake-up is deferred to the unlock; an earlier one must go now.
        if let Some(prev) = s.mwakeup.replace(m) {
            prev.havenextg.notewakeup();
        }
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

#[cfg(test)]
mod layout {
    use super::*;
    use std::mem::offset_of;

    /// The packed word sits where Go 1.0's `Sched` had it (see [`Runtime`]): after the seed's
    /// queue and M counts, on their cache line, and more than a line away from the lock word.
    #[test]
    fn the_word_sits_where_go_1_0_had_it() {
        let lock = offset_of!(Runtime, sched);
        let synced = lock + Lock::<Synced>::data_offset();
        let word = offset_of!(Runtime, word);
        let at = |field: usize| synced + field;
        // Right after mcount (and the pre-CL mcpu, mcpumax that followed it in July 2011), with
        // at most the struct's tail padding between.
        let after = at(offset_of!(Synced, mcpumax)) + 4;
        assert!(
            word >= after && word < after + 8,
            "word at {word}, mcpumax ends at {after}"
        );
        assert!(word - at(offset_of!(Synced, mcount)) <= 16);
        // On one 64-byte line with the counts the schedlock's holder writes on every gput and
        // gget, as in Go for most placements of runtime·sched (here gwait is 56 bytes back, in
        // Go 32): never on the lock word's line.
        assert!(word - at(offset_of!(Synced, gwait)) < 64);
        assert!(word - lock >= 64);
        // The seed's order of the fields before it.
        let order = [
            offset_of!(Synced, gfree),
            offset_of!(Synced, goidgen),
            offset_of!(Synced, runq),
            offset_of!(Synced, gwait),
            offset_of!(Synced, gcount),
            offset_of!(Synced, grunning),
            offset_of!(Synced, mhead),
            offset_of!(Synced, mcount),
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        // Then the note stoptheworld sleeps on.
        assert!(offset_of!(Runtime, stopped) > word);
    }
}
