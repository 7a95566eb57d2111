//! A lock whose guarded words need not follow it in memory: the seeds' structs interleave the
//! words their lock guards with words read without it (Go 1.1's and 1.4's `Sched` keep the
//! lock, goidgen, midle..pidle, npidle, nmspinning and runqhead on one cache line), which a
//! [`Lock<T>`](crate::Lock), holding its data right after its lock word, cannot lay out.
//!
//! So a struct keeps a bare [`RawLock`] where the seed has its lock, the hot guarded words at
//! the seed's places as [`LockedI32`] and [`LockedLink`] (relaxed atomics that take the lock's
//! witness `W`, the guarded data, to be touched), and its cold guarded data `W` in a
//! [`Guarded<W>`] at its end, reached through the [`GuardedLock`] that [`Guarded::lock`] returns.

use crate::lock::RawLock;
use crate::ptr::{Link, Ptr};
use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicI32, Ordering::Relaxed};

/// A count the lock guards, kept outside the guarded data (the seed's plain `int32` beside the
/// lock). `get` and `set` take the lock's witness, the `W` only a [`GuardedLock`] hands out,
/// so the type says who may touch the word. The lock orders every access, so they are
/// relaxed: the plain `mov` the seed's plain field compiled to; `add` is a load and a store,
/// never a locked instruction.
pub struct LockedI32<W>(AtomicI32, PhantomData<fn(&W)>);

impl<W> LockedI32<W> {
    pub const fn new(v: i32) -> LockedI32<W> {
        LockedI32(AtomicI32::new(v), PhantomData)
    }

    #[inline(always)]
    pub fn get(&self, _locked: &W) -> i32 {
        self.0.load(Relaxed)
    }

    #[inline(always)]
    pub fn set(&self, _locked: &mut W, v: i32) {
        self.0.store(v, Relaxed);
    }

    /// `x += d` under the lock; returns the new value.
    #[inline(always)]
    pub fn add(&self, _locked: &mut W, d: i32) -> i32 {
        let v = self.0.load(Relaxed) + d;
        self.0.store(v, Relaxed);
        v
    }
}

/// A pointer the lock guards (the head of a list the lock guards), with the same rule as
/// [`LockedI32`].
pub struct LockedLink<T, W>(Link<T>, PhantomData<fn(&W)>);

impl<T, W> LockedLink<T, W> {
    pub const fn none() -> LockedLink<T, W> {
        LockedLink(Link::none(), PhantomData)
    }

    #[inline(always)]
    pub fn get(&self, _locked: &W) -> Option<Ptr<T>> {
        self.0.get()
    }

    #[inline(always)]
    pub fn set(&self, _locked: &mut W, v: Option<Ptr<T>>) {
        self.0.set(v);
    }
}

/// The cold data a lock guards, kept where its struct likes (the end). Only a
/// [`GuardedLock`] reaches into it.
pub struct Guarded<T>(UnsafeCell<T>);

// SAFETY: the cell is read or written only through a GuardedLock, which exists only while the
// one lock that guards this data is held (the contract of `Guarded::lock`), so at most one
// thread reaches the data at a time, and the lock's acquire and release order the hand-overs;
// T: Send lets it move between those threads.
unsafe impl<T: Send> Sync for Guarded<T> {}

impl<T> Guarded<T> {
    pub const fn new(v: T) -> Guarded<T> {
        Guarded(UnsafeCell::new(v))
    }

    /// Takes `lock` and returns the guard that reaches the data until it drops.
    ///
    /// # Safety
    /// `lock` is the one lock that guards this data: every call for this `Guarded` passes the
    /// same lock.
    #[inline]
    pub unsafe fn lock<'a>(&'a self, lock: &'a RawLock) -> GuardedLock<'a, T> {
        lock.lock();
        GuardedLock { lock, data: self }
    }
}

/// A generation's split sched lock, written once: in a module beside a `Sched` with fields `lock:
/// RawLock` and `synced: Guarded<Synced>`, `schedcore::sched_lock!(Sched, Synced);` declares
/// the aliases `LockedI32`, `LockedLink<T>`, `Guarded<T>` and `SchedGuard<'a>` for that
/// `Synced`, and `Sched::lock`, the one call that takes the lock and reaches `synced`.
#[macro_export]
macro_rules! sched_lock {
    ($sched:ty, $synced:ty) => {
        /// A count in `Sched` that the sched lock guards.
        pub(crate) type LockedI32 = $crate::guarded::LockedI32<$synced>;
        /// A list head in `Sched` that the sched lock guards.
        pub(crate) type LockedLink<T> = $crate::guarded::LockedLink<T, $synced>;
        /// The cold data the sched lock guards.
        pub(crate) type Guarded<T> = $crate::guarded::Guarded<T>;
        /// The sched lock held.
        pub(crate) type SchedGuard<'a> = $crate::guarded::GuardedLock<'a, $synced>;

        impl $sched {
            /// Takes the sched lock.
            #[inline]
            pub(crate) fn lock(&self) -> SchedGuard<'_> {
                // SAFETY: `synced` is guarded by `lock` and by no other lock: this is the only
                // call.
                unsafe { self.synced.lock(&self.lock) }
            }
        }
    };
}

/// The lock held (the seed's `runtime·lock(&runtime·sched)` until the guard drops). It derefs
/// to the cold guarded data, and a `&W` or `&mut W` borrowed from it is the witness the
/// guarded words ask for.
pub struct GuardedLock<'a, T> {
    lock: &'a RawLock,
    data: &'a Guarded<T>,
}

impl<T> Deref for GuardedLock<'_, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while the data's lock is held (see `Guarded::lock`).
        unsafe { &*self.data.0.get() }
    }
}

impl<T> DerefMut for GuardedLock<'_, T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while the data's lock is held, and it is borrowed
        // mutably, so no other reference into the data is alive.
        unsafe { &mut *self.data.0.get() }
    }
}

impl<T> Drop for GuardedLock<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the guard was made by `Guarded::lock`, which took the lock.
        unsafe { self.lock.unlock() }
    }
}
