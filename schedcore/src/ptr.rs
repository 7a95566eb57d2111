//! Handles on a runtime's objects (G, M, P, Sched) and atomic, nullable links between them,
//! shared by the generations that pass `G*`, `M*` and `P*` around as Go does.
//!
//! Go's runtime passes `G*`, `M*` and `P*` around freely because nothing frees them while the
//! program runs. The same promise holds here: every G, M and P, and the `Sched`, is boxed once,
//! never moves, and is freed only by teardown after every thread of the runtime has been
//! joined. [`Ptr`] is a pointer carrying that promise; [`Link`] is a nullable atomic [`Ptr`]
//! (`p->m`, `m->nextp`, `g->schedlink`, ...).

use std::fmt;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, Ordering};

/// A pointer to a runtime object that lives until teardown.
pub struct Ptr<T>(NonNull<T>);

impl<T> Clone for Ptr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Ptr<T> {}
impl<T> PartialEq for Ptr<T> {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl<T> Eq for Ptr<T> {}
impl<T> fmt::Debug for Ptr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:p}", self.0)
    }
}

// SAFETY: a Ptr only ever hands out shared references, and T is Sync, so sending one to
// another thread is sharing a `&T`; the object outlives every thread of the runtime
// (teardown joins them all before it frees anything).
unsafe impl<T: Sync> Send for Ptr<T> {}
// SAFETY: as for Send.
unsafe impl<T: Sync> Sync for Ptr<T> {}

impl<T> Ptr<T> {
    /// Leaks `b` into a runtime object; [`Ptr::free`] takes it back at teardown.
    pub fn from_box(b: Box<T>) -> Ptr<T> {
        Ptr(NonNull::from(Box::leak(b)))
    }

    pub fn from_ref(r: &T) -> Ptr<T> {
        Ptr(NonNull::from(r))
    }

    pub fn from_non_null(p: NonNull<T>) -> Ptr<T> {
        Ptr(p)
    }

    pub fn from_raw(p: *mut T) -> Option<Ptr<T>> {
        NonNull::new(p).map(Ptr)
    }

    pub fn as_ptr(self) -> *mut T {
        self.0.as_ptr()
    }

    pub fn as_non_null(self) -> NonNull<T> {
        self.0
    }

    /// Frees the object.
    ///
    /// # Safety
    /// The object came from [`Ptr::from_box`], no thread of the runtime is left, and no copy of
    /// this pointer is used afterwards.
    pub unsafe fn free(self) {
        drop(Box::from_raw(self.0.as_ptr()));
    }
}

impl<T> Deref for Ptr<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: runtime objects are freed only at teardown, after every thread that could
        // hold a Ptr has been joined (see the module comment).
        unsafe { self.0.as_ref() }
    }
}

/// A nullable atomic [`Ptr`]. Links are written by their owner, under a lock, or before a note
/// or a lock hands the object on, so relaxed accesses suffice; where a racy reader (sysmon's
/// preemptone, teardown) follows one, it only ever finds an object that is still alive.
pub struct Link<T>(AtomicPtr<T>);

impl<T> Default for Link<T> {
    fn default() -> Self {
        Link::none()
    }
}

impl<T> Link<T> {
    pub const fn none() -> Link<T> {
        Link(AtomicPtr::new(std::ptr::null_mut()))
    }

    #[inline(always)]
    pub fn get(&self) -> Option<Ptr<T>> {
        NonNull::new(self.0.load(Ordering::Relaxed)).map(Ptr)
    }

    #[inline(always)]
    pub fn set(&self, v: Option<Ptr<T>>) {
        self.0.store(
            v.map_or(std::ptr::null_mut(), |p| p.0.as_ptr()),
            Ordering::Relaxed,
        );
    }

    /// Empties the link and returns what it held: a load and a store, as the seeds' plain
    /// `x = p->link; p->link = nil`, not an atomic swap. Only for links with one writer at a
    /// time (the owner, or whoever holds the lock that guards the link).
    #[inline(always)]
    pub fn take(&self) -> Option<Ptr<T>> {
        let v = self.get();
        self.set(None);
        v
    }

    #[inline(always)]
    pub fn is_some(&self) -> bool {
        !self.0.load(Ordering::Relaxed).is_null()
    }
}
