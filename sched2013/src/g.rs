//! G: a goroutine. Allocated once, kept in `allg` until teardown, reused through the gfree
//! lists together with its cached stack.

use crate::m::M;
use schedcore::ptr::{Link, Ptr};
use schedcore::{GoContext, RawLock};
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

// G status (the seed's runtime.h values; Gmoribund is unused by this generation).
/// Just allocated, not yet started.
pub(crate) const GIDLE: u32 = 0;
/// On a run queue, not running.
pub(crate) const GRUNNABLE: u32 = 1;
/// Running on an M that holds a P.
pub(crate) const GRUNNING: u32 = 2;
/// In a system call: running on an M, outside the scheduler.
pub(crate) const GSYSCALL: u32 = 3;
/// Parked: waiting for a `ready`.
pub(crate) const GWAITING: u32 = 4;
/// Finished, on a gfree list.
pub(crate) const GDEAD: u32 = 6;

/// Why a goroutine switched to its M (the continuation its `mcall` names).
pub(crate) enum Why {
    /// gosched: go to the global queue (gosched0).
    Gosched,
    /// park: wait for `ready`; the lock is released on g0 once the switch is done (park0).
    Park(*const RawLock),
    /// exitsyscall found no P: queue the goroutine and stop the M (exitsyscall0).
    ExitSyscall,
    /// The run is over while the goroutine was in exitsyscall or stopping the world: it stays
    /// suspended for good, and its M leaves (no seed counterpart: Go exits the process).
    Exiting,
}

/// A goroutine.
/// Aligned to its own cache lines: fields written on hot paths must not share a line with
/// the neighbouring G's (false sharing between threads).
#[repr(align(128))]
pub struct G {
    /// Its coroutine and stack. Only the G's owner touches it: the goroutine itself while it
    /// runs, and otherwise the M that took it off a queue (or teardown).
    pub(crate) ctx: GoContext<Why>,
    /// One of the G* constants. Written by the owner; read by anyone (gcount, checkdead, gc).
    pub(crate) status: AtomicU32,
    pub(crate) goid: AtomicU64,
    /// The M running it (nil when not running).
    pub(crate) m: Link<M>,
    /// The M it is locked to (LockOSThread), if any.
    pub(crate) lockedm: Link<M>,
    /// Next G on the global run queue or on a gfree list (guarded by the list's owner).
    pub(crate) schedlink: Link<G>,
}

// SAFETY: every field but `ctx` is atomic. `ctx` is touched only by the G's current owner
// (the goroutine while it runs on its M, the M that dequeued it, or teardown once every
// thread is joined); ownership passes through a lock or a note, so two threads never touch
// it at once.
unsafe impl Sync for G {}

impl G {
    pub(crate) fn new() -> G {
        G {
            ctx: GoContext::new(),
            status: AtomicU32::new(GIDLE),
            goid: AtomicU64::new(0),
            m: Link::none(),
            lockedm: Link::none(),
            schedlink: Link::none(),
        }
    }

    #[inline(always)]
    pub(crate) fn status(&self) -> u32 {
        self.status.load(Ordering::Relaxed)
    }

    #[inline(always)]
    pub(crate) fn set_status(&self, s: u32) {
        self.status.store(s, Ordering::Relaxed);
    }
}

/// A handle on a goroutine of a 2013 runtime (Go's `G*`), as `ready` takes it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct GRef(pub(crate) Ptr<G>);

impl std::ops::Deref for GRef {
    type Target = G;
    #[inline(always)]
    fn deref(&self) -> &G {
        &self.0
    }
}

impl fmt::Debug for GRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "goroutine {}", self.goid.load(Ordering::Relaxed))
    }
}

/// The status name Go printed in tracebacks.
pub(crate) fn status_name(s: u32) -> &'static str {
    match s {
        GIDLE => "idle",
        GRUNNABLE => "runnable",
        GRUNNING => "running",
        GSYSCALL => "syscall",
        GWAITING => "waiting",
        GDEAD => "dead",
        _ => "???",
    }
}
