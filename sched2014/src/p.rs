//! P: a processor, what an M must hold to run goroutines. Exactly GOMAXPROCS are in use; each
//! carries the lock-free run queue of `runq.rs`, a cache of dead G's, a batch of goroutine ids,
//! and the two ticks sysmon watches (schedtick, syscalltick).

use crate::g::{GRef, G};
use crate::m::M;
use crate::runq::{Overflow, RunQueue};
use crate::sched::Sched;
use schedcore::ptr::Link;
use schedcore::trace::TraceBuf;
use schedcore::{trace_ev, Counter, Counters};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

// P status (the seed's runtime.h).
/// On the idle list, or just taken off it.
pub(crate) const PIDLE: u32 = 0;
/// Held by an M running Go code.
pub(crate) const PRUNNING: u32 = 1;
/// Its M is in a system call; sysmon may retake it, the M may take it back by CAS.
pub(crate) const PSYSCALL: u32 = 2;
/// Stopped for stoptheworld (or by teardown).
pub(crate) const PGCSTOP: u32 = 3;
/// Beyond GOMAXPROCS after a procresize (kept: an M in a syscall may still point at it).
pub(crate) const PDEAD: u32 = 4;

/// Goroutine ids a P takes from the global generator at a time (the seed's GoidCacheBatch):
/// creating goroutines on several P's then touches the shared counter once every 16.
pub(crate) const GOID_CACHE_BATCH: u64 = 16;

/// Aligned to its own cache lines: fields written on hot paths must not share a line with
/// the neighbouring P's (false sharing between threads).
///
/// `repr(C)`, with the seed's fields in Go 1.4's order and at its offsets, so that which of
/// them share a line is the seed's and not the compiler's choice: status, link, schedtick,
/// syscalltick and m on the first 64 bytes (the words sysmon reads and the owner bumps), the
/// ring's head and tail (which every thief CASes) on the next, with goidcache; the slots
/// follow, then gfree. Go's P began with a lock the port's P does not need (`id` takes its
/// word), and kept mcache and deferpool between m and goidcache; `_unported` keeps their 48
/// bytes so that the ring's head does not move onto the line of status and schedtick. The
/// port's own fields come last. `sched/tests.rs` holds the offsets.
#[repr(C, align(128))]
pub(crate) struct P {
    pub id: usize,
    /// One of the P* constants. Changed under the sched lock, by the owning M, or by CAS
    /// (from Psyscall).
    pub status: AtomicU32,
    /// Next P on the idle list (sched lock).
    pub link: Link<P>,
    /// Bumped by every execute; sysmon preempts the G of a P whose schedtick has not moved
    /// for 10 ms.
    pub schedtick: AtomicU32,
    /// Bumped by every exitsyscall; sysmon retakes a P in Psyscall whose syscalltick has not
    /// moved for one of its cycles.
    pub syscalltick: AtomicU32,
    /// The M holding it (nil when idle or in a syscall).
    pub m: Link<M>,
    /// The place of the seed's mcache and deferpool[5] (no allocator or defer pool here).
    _unported: [usize; 6],
    /// The next goroutine id of this P's batch, and the end of the batch (owner only).
    pub goidcache: AtomicU64,
    pub goidcacheend: AtomicU64,
    /// Runnable goroutines: the lock-free ring (runqhead, runqtail, runq[256]).
    pub runq: RunQueue<G>,
    /// Cache of dead G's (with their stacks), touched only by the M holding the P.
    pub gfree: Link<G>,
    pub gfreecnt: AtomicU32,
    // The port's own.
    /// Counters of what is done on this P's behalf (written by the M holding it).
    pub counters: Counters,
}

impl P {
    pub(crate) fn new(id: usize) -> P {
        P {
            id,
            status: AtomicU32::new(PGCSTOP),
            link: Link::none(),
            schedtick: AtomicU32::new(0),
            syscalltick: AtomicU32::new(0),
            m: Link::none(),
            _unported: [0; 6],
            runq: RunQueue::new(),
            gfree: Link::none(),
            gfreecnt: AtomicU32::new(0),
            goidcache: AtomicU64::new(0),
            goidcacheend: AtomicU64::new(0),
            counters: Counters::new(),
        }
    }

    #[inline(always)]
    pub(crate) fn status(&self) -> u32 {
        self.status.load(Ordering::SeqCst)
    }

    /// A plain store by the P's owner or under the sched lock (the seed's `p->status = x`).
    #[inline(always)]
    pub(crate) fn set_status(&self, s: u32) {
        self.status.store(s, Ordering::Release);
    }

    /// Bumps a tick; only the P's owner calls it.
    #[inline(always)]
    pub(crate) fn bump(tick: &AtomicU32) {
        tick.store(
            tick.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }

    /// Port of runqput (seed 001) at the P level: onto the ring, or, when it is full, half of
    /// it plus `gp` onto the global queue. Only the M holding the P calls it, with its trace.
    #[inline]
    pub(crate) fn runqput(&self, sched: &Sched, gp: GRef, tr: &TraceBuf) {
        self.runq.runqput(
            gp.as_non_null(),
            &ToGlobal {
                sched,
                counters: &self.counters,
                tr,
            },
        );
    }

    /// Port of runqget (seed 001) at the P level.
    #[inline]
    pub(crate) fn runqget(&self) -> Option<GRef> {
        self.runq.runqget().map(GRef::from_non_null)
    }

    /// The seed's `p->runqhead == p->runqtail`.
    #[inline]
    pub(crate) fn runq_empty(&self) -> bool {
        self.runq.is_empty()
    }

    /// The next goroutine id, from this P's batch, taking a new batch of 16 from the global
    /// generator when it runs out (newproc1's goidcache). Only the M holding the P calls it.
    #[inline]
    pub(crate) fn goid(&self, sched: &Sched) -> u64 {
        let mut id = self.goidcache.load(Ordering::Relaxed);
        if id == self.goidcacheend.load(Ordering::Relaxed) {
            // goidgen is the last id handed out, so this batch is [goidgen+1, goidgen+16]: the
            // main goroutine gets id 1.
            id = sched.goidgen.fetch_add(GOID_CACHE_BATCH, Ordering::Relaxed) + 1;
            self.goidcacheend
                .store(id + GOID_CACHE_BATCH, Ordering::Relaxed);
        }
        self.goidcache.store(id + 1, Ordering::Relaxed);
        id
    }
}

/// runqputslow's target: the global queue behind the sched lock.
struct ToGlobal<'a> {
    sched: &'a Sched,
    counters: &'a Counters,
    tr: &'a TraceBuf,
}

impl Overflow<G> for ToGlobal<'_> {
    /// Port of globrunqputbatch (seed 001): splices runqputslow's chain on under the sched
    /// lock.
    fn globrunqputbatch(&self, ghead: NonNull<G>, gtail: NonNull<G>, n: usize) {
        trace_ev!(self.tr, GlobPut, 0, n as u64);
        let s = self.sched.lock();
        self.sched.runq.globrunqputbatch(ghead, gtail, n);
        drop(s);
        self.counters.inc(Counter::Runqputslow);
        self.counters.add(Counter::GlobrunqPut, n as u64);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// newproc1's goidcache: each P takes ids 16 at a time from the global generator; the
    /// first id is 1 (the main goroutine's), and no id is handed out twice.
    #[test]
    fn goroutine_ids_come_in_per_p_batches() {
        let sched = Sched::new(
            schedcore::StackArena::new(&schedcore::Config::default()).unwrap(),
            true,
            None,
            schedcore::LockKind::Spin,
        );
        let (p0, p1) = (P::new(0), P::new(1));
        assert_eq!(p0.goid(&sched), 1);
        assert_eq!(p1.goid(&sched), 17);
        for want in 2..=16 {
            assert_eq!(p0.goid(&sched), want);
        }
        assert_eq!(p0.goid(&sched), 33);
        assert_eq!(p1.goid(&sched), 18);
        assert_eq!(sched.goidgen.load(Ordering::Relaxed), 48);
    }
}
