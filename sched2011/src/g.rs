//! G: a goroutine of the 2011 runtime, and `GPtr`, the handle that moves it between threads.

use crate::m::M;
use schedcore::GoContext;
use std::ptr::{null_mut, NonNull};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering::Relaxed};

// Goroutine states, as in the 2011 runtime.h.
pub const GIDLE: u32 = 0;
pub const GRUNNABLE: u32 = 1;
pub const GRUNNING: u32 = 2;
pub const GSYSCALL: u32 = 3;
pub const GWAITING: u32 = 4;
pub const GMORIBUND: u32 = 5;
pub const GDEAD: u32 = 6;

/// A goroutine. Allocated once, never moved, reused through `gfree`, freed at teardown.
///
/// The fields other threads read are atomics used with relaxed ordering where the seed used
/// plain words: each is either written under the schedlock or read only by the thread that
/// runs the goroutine, so the lock or the switch orders them.
///
/// Aligned to its own cache lines: a running goroutine writes its status and saved stack
/// pointer on every syscall, and two G's allocated side by side must not share a line.
#[repr(align(128))]
pub struct G {
    /// The coroutine and its stack. Go 2011 switched with `gosave`/`gogo`; every switch-out
    /// here is an `mcall(schedule)`, so the switch carries no reason: `status` is the reason.
    pub ctx: GoContext<()>,
    pub status: AtomicU32,
    pub goid: AtomicU64,
    /// The M running this goroutine, null while it is not on one. Schedlock.
    pub m: AtomicPtr<M>,
    /// The M this goroutine is wired to by LockOSThread.
    pub lockedm: AtomicPtr<M>,
    /// A `ready` came while the goroutine was still on its M: ready it once it stops.
    pub readyonstop: AtomicBool,
}

// SAFETY: every field but `ctx` is an atomic. `ctx` is only touched by the goroutine itself
// while it runs and by the M that owns it (starting or resuming it), never by two at once.
unsafe impl Sync for G {}

impl Default for G {
    fn default() -> G {
        G::new()
    }
}

impl G {
    pub fn new() -> G {
        G {
            ctx: GoContext::new(),
            status: AtomicU32::new(GIDLE),
            goid: AtomicU64::new(0),
            m: AtomicPtr::new(null_mut()),
            lockedm: AtomicPtr::new(null_mut()),
            readyonstop: AtomicBool::new(false),
        }
    }

    #[inline(always)]
    pub fn status(&self) -> u32 {
        self.status.load(Relaxed)
    }

    #[inline(always)]
    pub fn set_status(&self, s: u32) {
        self.status.store(s, Relaxed);
    }

    pub fn lockedm(&self) -> Option<&M> {
        // SAFETY: M's live until the runtime is torn down, after every goroutine stopped.
        unsafe { self.lockedm.load(Relaxed).as_ref() }
    }
}

/// A handle on a G (Go's `G*`), the runtime's `Scheduler::GRef`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct GPtr(NonNull<G>);

// SAFETY: a G is Sync (above) and lives until teardown, when no thread of the runtime is
// left; moving the handle to another M moves the right to run the goroutine, which the
// scheduler hands over under the schedlock or through an M's note. The goroutine's closure is
// Send, and nothing thread-local is held across a switch (see schedcore::tls).
unsafe impl Send for GPtr {}

impl GPtr {
    pub fn alloc() -> GPtr {
        GPtr(NonNull::from(Box::leak(Box::new(G::new()))))
    }

    pub fn as_ptr(self) -> *mut G {
        self.0.as_ptr()
    }

    pub fn from_ptr(p: *mut G) -> Option<GPtr> {
        NonNull::new(p).map(GPtr)
    }

    /// Frees the G.
    ///
    /// # Safety
    /// The runtime is torn down: no thread can reach this G any more.
    pub unsafe fn free(self) {
        drop(Box::from_raw(self.0.as_ptr()));
    }
}

impl std::ops::Deref for GPtr {
    type Target = G;
    fn deref(&self) -> &G {
        // SAFETY: G's are freed only at teardown, after every thread that holds a GPtr ended.
        unsafe { self.0.as_ref() }
    }
}
