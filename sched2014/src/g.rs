//! G: a goroutine. Allocated once, kept in `allg` until teardown, reused with its stack
//! through the gfree lists. Its status is the atomic word of `gstatus.rs`, with the Gscan bit
//! the collector claims it by; its `stackguard0` is what the prologue check (`preempt_point`)
//! compares against, and what preemption poisons.

use crate::globrunq::SchedLink;
use crate::gstatus::{gstatus_name, GStatus};
use crate::m::M;
use schedcore::ptr::{Link, Ptr};
use schedcore::{GoContext, RawLock};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// The value `stackguard0` holds while a preemption is asked for (Go's StackPreempt, the
/// 64-bit `uintptrMask & -1314`). It is above every stack address, so the prologue check
/// "stack pointer at or below the guard" fails whatever the stack pointer: preemption rides on
/// the stack check every function already makes, at no cost when nothing is asked.
pub(crate) const STACK_PREEMPT: usize = 0xffff_ffff_ffff_fade;

/// How far above the stack's low end the ordinary guard sits (Go's StackGuard). Go's margin
/// (640 bytes) only had to fit a chain of functions without checks, as the stack would then
/// grow. Here it cannot grow: a preempt point that finds less than this left throws "stack
/// overflow", which needs only the room to switch to g0.
pub(crate) const STACK_GUARD: usize = 4 * 1024;

/// Why a goroutine switched to its M's g0 (the continuation its `mcall` names).
pub(crate) enum Why {
    /// Gosched: back to the global queue (gosched_m).
    Gosched,
    /// park: wait for `ready`; the lock is released on g0 once the switch is done (park_m).
    Park(*const RawLock),
    /// exitsyscall found no P: queue the goroutine and stop the M (exitsyscall0).
    ExitSyscall,
    /// Preempted at a preempt point: back to the global queue (gopreempt_m).
    Preempt,
    /// gc's quiesce: g0 scans every stack, this goroutine's included (mquiesce).
    Quiesce,
    /// The run ended while the goroutine was stopping the world: it stays suspended for good
    /// and its M leaves.
    Exit,
    /// A preempt point found the stack nearly used up: g0 throws "stack overflow" (there is no
    /// room left to unwind a panic on the goroutine's own stack).
    StackOverflow,
}

/// A goroutine.
/// Aligned to its own cache lines: fields written on hot paths must not share a line with
/// the neighbouring G's (false sharing between threads).
#[repr(align(128))]
pub struct G {
    /// The prologue check's limit: `stack_lo + STACK_GUARD`, or [`STACK_PREEMPT`] while a
    /// preemption is asked for. Written by preemptone from any thread; read by the G itself.
    pub(crate) stackguard0: AtomicUsize,
    /// The status word (`atomicstatus`); every change goes through casgstatus & co.
    pub(crate) atomicstatus: GStatus,
    /// Its coroutine and stack. Only the G's owner touches it: the goroutine while it runs,
    /// the M that took it off a queue, a collector holding its Gscan claim, or teardown.
    pub(crate) ctx: GoContext<Why>,
    /// The writable part of the stack, kept as atomics so that a collector can read it at
    /// any time.
    pub(crate) stack_lo: AtomicUsize,
    pub(crate) stack_hi: AtomicUsize,
    pub(crate) goid: AtomicU64,
    /// The M running it (nil when not running).
    pub(crate) m: Link<M>,
    /// The M it is locked to (LockOSThread), if any.
    pub(crate) lockedm: Link<M>,
    /// Next G on the global run queue (sched lock; runqputslow links its claimed batch
    /// before taking it) or on a gfree list (the list's owner). A G is on one of them at most:
    /// runnable G's go on the run queue, dead ones on gfree lists.
    pub(crate) schedlink: Link<G>,
    /// A preemption was asked for (kept while m.locks defers it).
    pub(crate) preempt: AtomicBool,
    /// The collector asks it to scan its own stack at its next preempt point.
    pub(crate) preemptscan: AtomicBool,
    /// Its stack has been scanned in the current collection.
    pub(crate) gcworkdone: AtomicBool,
}

// SAFETY: every field but `ctx` is atomic. `ctx` is touched only by the G's current owner
// (the goroutine while it runs, the M that dequeued it, a collector holding its Gscan claim,
// or teardown once every thread is joined); ownership passes through a lock, a note, a run
// queue's release/acquire, or the status CAS, so two threads never touch it at once.
unsafe impl Sync for G {}

impl G {
    pub(crate) fn new() -> G {
        G {
            stackguard0: AtomicUsize::new(STACK_PREEMPT),
            atomicstatus: GStatus::default(),
            ctx: GoContext::new(),
            stack_lo: AtomicUsize::new(0),
            stack_hi: AtomicUsize::new(0),
            goid: AtomicU64::new(0),
            m: Link::none(),
            lockedm: Link::none(),
            schedlink: Link::none(),
            preempt: AtomicBool::new(false),
            preemptscan: AtomicBool::new(false),
            gcworkdone: AtomicBool::new(false),
        }
    }

    /// Port of readgstatus (seed 001).
    #[inline(always)]
    pub(crate) fn readgstatus(&self) -> u32 {
        self.atomicstatus.readgstatus()
    }

    /// Port of casgstatus (seed 001): spins while a collector holds the G, and scans the G's
    /// stack itself if the collector asked for that (helpcasgstatus).
    #[inline]
    pub(crate) fn casgstatus(&self, oldval: u32, newval: u32) {
        self.atomicstatus
            .casgstatus_help(oldval, newval, || crate::gc::helpcasgstatus(self));
    }

    /// The guard the prologue check uses when no preemption is asked for.
    #[inline(always)]
    pub(crate) fn stackguard_ok(&self) -> usize {
        self.stack_lo.load(Ordering::Relaxed) + STACK_GUARD
    }

    /// The stack's bounds `[lo, hi)`.
    #[inline(always)]
    pub(crate) fn stack(&self) -> (usize, usize) {
        (
            self.stack_lo.load(Ordering::Relaxed),
            self.stack_hi.load(Ordering::Relaxed),
        )
    }
}

impl SchedLink for G {
    #[inline(always)]
    fn schedlink(&self) -> &Link<G> {
        &self.schedlink
    }
}

/// A handle on a goroutine of a 2014 runtime (Go's `G*`), as `ready` takes it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct GRef(pub(crate) Ptr<G>);

impl GRef {
    #[inline(always)]
    pub(crate) fn as_non_null(self) -> std::ptr::NonNull<G> {
        self.0.as_non_null()
    }

    #[inline(always)]
    pub(crate) fn from_non_null(p: std::ptr::NonNull<G>) -> GRef {
        GRef(Ptr::from_non_null(p))
    }
}

impl std::ops::Deref for GRef {
    type Target = G;
    #[inline(always)]
    fn deref(&self) -> &G {
        &self.0
    }
}

impl fmt::Debug for GRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "goroutine {} [{}]",
            self.goid.load(Ordering::Relaxed),
            gstatus_name(self.readgstatus())
        )
    }
}
