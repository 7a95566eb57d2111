//! M: an OS thread running Go code, with the note it sleeps on while it waits for a goroutine.

use crate::g::{GPtr, G};
use crate::sched::Runtime;
use crate::sync::Note;
use schedcore::lock::MLocks;
use schedcore::trace::TraceBuf;
use schedcore::Counters;
use std::ptr::{null_mut, NonNull};
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering::Relaxed};

/// One M. Allocated by newm, freed at teardown after its thread is joined.
#[repr(align(128))]
pub struct M {
    pub id: usize,
    rt: *const Runtime,
    /// The goroutine this M runs (its own thread's business).
    pub curg: AtomicPtr<G>,
    /// The goroutine wired to this M by LockOSThread.
    pub lockedg: AtomicPtr<G>,
    /// A goroutine handed to this M by mnextg. Schedlock.
    pub nextg: AtomicPtr<G>,
    /// The M sleeps on `havenextg` waiting for mnextg. Schedlock.
    pub waitnextg: AtomicBool,
    pub havenextg: Note,
    /// This M is stopping the world: matchmg must not start M's.
    pub gcing: AtomicBool,
    /// Runtime locks this M holds (Go's m->locks; every runtime lock raises it).
    pub locks: MLocks,
    /// Events counted without the schedlock (syscall paths, gosched, parks).
    pub counters: Counters,
    /// This M's execution trace; only its own thread records into it.
    pub trace: TraceBuf,
}

// SAFETY: the raw runtime pointer is valid for the M's whole life (the runtime outlives all
// M threads, which are joined before it is freed), and Runtime is Sync.
unsafe impl Send for M {}
// SAFETY: as above; every other field is an atomic, a Note or Counters.
unsafe impl Sync for M {}

impl M {
    pub fn new(id: usize, rt: &Runtime) -> M {
        M {
            id,
            rt,
            curg: AtomicPtr::new(null_mut()),
            lockedg: AtomicPtr::new(null_mut()),
            nextg: AtomicPtr::new(null_mut()),
            waitnextg: AtomicBool::new(false),
            havenextg: Note::with_kind(rt.lock_kind),
            gcing: AtomicBool::new(false),
            locks: MLocks::new(rt.lock_kind, None),
            counters: Counters::new(),
            trace: rt.tracer.buf(),
        }
    }

    #[inline(always)]
    pub fn rt(&self) -> &Runtime {
        // SAFETY: see `unsafe impl Send for M`.
        unsafe { &*self.rt }
    }

    /// The goroutine running on this M; only meaningful when called from it.
    #[inline(always)]
    pub fn curg(&self) -> GPtr {
        GPtr::from_ptr(self.curg.load(Relaxed)).expect("no goroutine running on this M")
    }

    /// The goroutine mnextg handed over, if any, and the slot emptied: Go's plain
    /// `gp = m->nextg; m->nextg = nil` under the schedlock, not an atomic swap.
    #[inline(always)]
    pub fn take_nextg(&self) -> Option<GPtr> {
        let gp = GPtr::from_ptr(self.nextg.load(Relaxed))?;
        self.nextg.store(null_mut(), Relaxed);
        Some(gp)
    }

    /// Whether this M sleeps on `havenextg`, clearing the flag if it does (Go's plain
    /// `if(m->waitnextg) { m->waitnextg = 0; ... }` under the schedlock).
    #[inline(always)]
    pub fn take_waitnextg(&self) -> bool {
        take_flag(&self.waitnextg)
    }
}

/// `if(flag) { flag = 0; ... }`: a plain load and, when set, a plain store, for a flag that
/// only the schedlock's holder writes (no atomic read-modify-write: the seed has none here).
#[inline(always)]
pub(crate) fn take_flag(flag: &AtomicBool) -> bool {
    let set = flag.load(Relaxed);
    if set {
        flag.store(false, Relaxed);
    }
    set
}

/// A handle on an M, kept in the idle list and in `allm`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MPtr(NonNull<M>);

// SAFETY: M is Sync and lives until teardown, after its thread is joined.
unsafe impl Send for MPtr {}

impl MPtr {
    pub fn alloc(m: M) -> MPtr {
        MPtr(NonNull::from(Box::leak(Box::new(m))))
    }

    pub fn from_ref(m: &M) -> MPtr {
        MPtr(NonNull::from(m))
    }

    /// # Safety
    /// The M's thread has been joined and nothing refers to the M any more.
    pub unsafe fn free(self) {
        drop(Box::from_raw(self.0.as_ptr()));
    }
}

impl std::ops::Deref for MPtr {
    type Target = M;
    fn deref(&self) -> &M {
        // SAFETY: M's are freed only at teardown, after every runtime thread has ended.
        unsafe { self.0.as_ref() }
    }
}

/// This thread's M, in a slot of 2011's own.
pub(crate) mod slot {
    schedcore::m_slot!(super::M, "2011", locks);
}

/// The M this thread is. Always re-read after a switch: the goroutine may have moved.
#[inline(always)]
pub fn getm() -> &'static M {
    // SAFETY: the slot holds an M of this runtime type only while that M's thread runs it.
    unsafe { &*slot::expect_current() }
}
