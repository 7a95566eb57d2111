//! The sched lock split in two, so that `Sched` can keep the seed's field order: the words the
//! lock guards that the seed kept on Sched's first cache lines live in `Sched` itself, at the
//! seed's places, as relaxed atomics only the lock's holder writes ([`LockedI32`],
//! [`LockedLink`]); the cold data the lock guards (`Synced`) lives at the struct's end and is
//! reached through [`SchedGuard`].
//!
//! A `Lock<Synced>` cannot do this: it puts its data right after its lock word, so everything
//! it guards would come before every word read without it, where Go interleaves them.

use super::{Sched, Synced};
use schedcore::ptr::{Link, Ptr};
use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicI32, Ordering::Relaxed};

/// A count in `Sched` that the sched lock guards (the seed's plain `int32` beside the lock).
///
/// `get` and `set` take the lock's witness, the `Synced` that only a [`SchedGuard`] hands out,
/// so the type says who may touch the word. The lock orders every guarded access, so the accesses are
/// relaxed: a relaxed load or store is the plain `mov` the seed's plain field compiled to, and
/// `add` is a load and a store, never a locked instruction.
pub(crate) struct LockedI32(AtomicI32);

impl LockedI32 {
    pub(crate) const fn new(v: i32) -> LockedI32 {
        LockedI32(AtomicI32::new(v))
    }

    #[inline(always)]
    pub(crate) fn get(&self, _locked: &Synced) -> i32 {
        self.0.load(Relaxed)
    }

    #[inline(always)]
    pub(crate) fn set(&self, _locked: &mut Synced, v: i32) {
        self.0.store(v, Relaxed);
    }

    /// `x += d` under the lock; returns the new value.
    #[inline(always)]
    pub(crate) fn add(&self, _locked: &mut Synced, d: i32) -> i32 {
        let v = self.0.load(Relaxed) + d;
        self.0.store(v, Relaxed);
        v
    }
}

/// A pointer in `Sched` that the sched lock guards (the head of a list the lock guards), with
/// the same rule as [`LockedI32`].
pub(crate) struct LockedLink<T>(Link<T>);

impl<T> LockedLink<T> {
    pub(crate) const fn none() -> LockedLink<T> {
        LockedLink(Link::none())
    }

    #[inline(always)]
    pub(crate) fn get(&self, _locked: &Synced) -> Option<Ptr<T>> {
        self.0.get()
    }

    #[inline(always)]
    pub(crate) fn set(&self, _locked: &mut Synced, v: Option<Ptr<T>>) {
        self.0.set(v);
    }
}

/// The cold data the sched lock guards, kept at the end of `Sched`. Only [`SchedGuard`]
/// reaches into it.
pub(crate) struct Guarded<T>(UnsafeCell<T>);

impl<T> Guarded<T> {
    pub(crate) const fn new(v: T) -> Guarded<T> {
        Guarded(UnsafeCell::new(v))
    }
}

// SAFETY: the cell is private to this module and read or written only through a SchedGuard,
// which exists only while its Sched's lock is held, so at most one thread reaches the data at
// a time (the lock's acquire and release order the hand-overs); T: Send lets it move between
// those threads.
unsafe impl<T: Send> Sync for Guarded<T> {}

/// The sched lock held (the seed's `runtime·lock(&runtime·sched)` until the guard drops).
/// It derefs to the cold guarded data, and a `&Synced` or `&mut Synced` borrowed from it is
/// the witness the guarded words of `Sched` ask for.
pub(crate) struct SchedGuard<'a> {
    sched: &'a Sched,
}

impl Sched {
    /// Takes the sched lock.
    #[inline]
    pub(crate) fn lock(&self) -> SchedGuard<'_> {
        self.lock.lock();
        SchedGuard { sched: self }
    }
}

impl Deref for SchedGuard<'_> {
    type Target = Synced;
    #[inline(always)]
    fn deref(&self) -> &Synced {
        // SAFETY: the guard exists only while the sched lock is held (see `Guarded`).
        unsafe { &*self.sched.synced.0.get() }
    }
}

impl DerefMut for SchedGuard<'_> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Synced {
        // SAFETY: the guard exists only while the sched lock is held, and it is borrowed
        // mutably, so no other reference into the data is alive.
        unsafe { &mut *self.sched.synced.0.get() }
    }
}

impl Drop for SchedGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the guard was made by `Sched::lock`, so the lock is held.
        unsafe { self.sched.lock.unlock() }
    }
}
