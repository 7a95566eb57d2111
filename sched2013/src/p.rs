//! P: a processor, the resource an M must hold to run Go code. There are exactly GOMAXPROCS
//! of them in use; each has its own run queue and cache of dead G's.

use crate::g::GRef;
use crate::m::M;
use crate::runq::Runq;
use schedcore::ptr::Link;
use schedcore::{Counter, Counters};
use std::sync::atomic::{AtomicU32, Ordering};

// P status (seed 000's runtime.h).
/// On the idle list, or just taken off it.
pub(crate) const PIDLE: u32 = 0;
/// Held by an M running Go code.
pub(crate) const PRUNNING: u32 = 1;
/// Its M is in a system call; sysmon may retake it, the M may take it back by CAS.
pub(crate) const PSYSCALL: u32 = 2;
/// Stopped for stoptheworld.
pub(crate) const PGCSTOP: u32 = 3;
/// Beyond GOMAXPROCS after a procresize (kept: an M in a syscall may still point at it).
pub(crate) const PDEAD: u32 = 4;

/// The run queue size every P starts with (procresize).
pub(crate) const RUNQ_INITIAL_SIZE: usize = 128;

/// Aligned to its own cache lines: fields written on hot paths must not share a line with
/// the neighbouring P's (false sharing between threads).
///
/// `repr(C)`, with the seed's fields in Go 1.1's order, so that which of them share a line is
/// the seed's and not the compiler's choice: status, link, tick, m and the run queue (its
/// lock, ring, head and tail) on the first 64 bytes, as in Go's P, and the gfree cache on the
/// next. (Go's 152-byte P came from a 160-byte size class, so those 64 bytes were one line for
/// every other P and straddled two for the rest; here they are always one.) Go's P began with its lock; here the lock belongs to the queue,
/// so it comes with it, after m (where Go had mcache, then the ring). The port's own fields
/// come last. `sched/tests.rs` holds the lines.
#[repr(C, align(128))]
pub(crate) struct P {
    /// One of the P* constants. Changed under the sched lock, by the owning M, or by CAS
    /// (Psyscall to Prunning/Pidle/Pgcstop).
    pub status: AtomicU32,
    /// Next P on the idle list (sched lock).
    pub link: Link<P>,
    /// Bumped on every schedule and syscall; sysmon retakes a P in Psyscall whose tick did
    /// not move for a whole sysmon cycle.
    pub tick: AtomicU32,
    /// The M holding it (nil when idle or in a syscall).
    pub m: Link<M>,
    /// Runnable goroutines (the seed's P lock, runq, runqhead, runqtail and runqsize).
    pub runq: Runq<GRef>,
    /// Cache of dead G's (with their stacks), touched only by the M holding the P.
    pub gfree: Link<crate::g::G>,
    pub gfreecnt: AtomicU32,
    // The port's own.
    pub id: usize,
    /// Counters of the run queue operations made on this P's behalf.
    pub counters: Counters,
}

impl P {
    pub(crate) fn new(id: usize, lock: schedcore::LockKind) -> P {
        P {
            id,
            status: AtomicU32::new(PGCSTOP),
            link: Link::none(),
            tick: AtomicU32::new(0),
            m: Link::none(),
            runq: Runq::with_kind(RUNQ_INITIAL_SIZE, lock),
            gfree: Link::none(),
            gfreecnt: AtomicU32::new(0),
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

    /// Bumps the tick; only the P's owner calls it.
    #[inline(always)]
    pub(crate) fn tick(&self) {
        let t = self.tick.load(Ordering::Relaxed);
        self.tick.store(t.wrapping_add(1), Ordering::Relaxed);
    }

    /// Port of runqput (seed 003) at the P level: the ring plus this P's growth counter (kept
    /// on the growth path only; the seed keeps no statistics on a put, and neither does this:
    /// how far a ring grew, `runqgrow`, says how long it got).
    #[inline]
    pub(crate) fn runqput(&self, gp: GRef) {
        let put = self.runq.runqput(gp);
        if put.grew != 0 {
            self.counters.add(Counter::Runqgrow, put.grew as u64);
        }
    }
}
