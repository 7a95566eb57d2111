//! `Lock`: Go's runtime lock (lock_futex.c): spin actively, then yield, then sleep on a futex.
//!
//! `Lock<T>` holds the data it guards, as a Rust mutex does; `RawLock` is the bare lock, which
//! `park` releases after a goroutine has switched out.

use linux_futex::{Futex, Private};
use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::Ordering;

const MUTEX_UNLOCKED: u32 = 0;
const MUTEX_LOCKED: u32 = 1;
const MUTEX_SLEEPING: u32 = 2;

/// Rounds of active spinning before yielding: a lock is usually held for a few dozen
/// instructions, far less than a futex round trip (25-45 us here).
const ACTIVE_SPIN: u32 = 4;
/// `spin_loop` hints per active round.
const ACTIVE_SPIN_CNT: u32 = 30;
/// Rounds of yielding the CPU before going to sleep.
const PASSIVE_SPIN: u32 = 1;

/// The bare lock word: 0 unlocked, 1 locked, 2 locked with sleepers.
pub struct RawLock {
    key: Futex<Private>,
}

impl Default for RawLock {
    fn default() -> Self {
        RawLock::new()
    }
}

fn ncpu() -> usize {
    static NCPU: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *NCPU.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

impl RawLock {
    pub const fn new() -> RawLock {
        RawLock {
            key: Futex::new(MUTEX_UNLOCKED),
        }
    }

    /// Port of runtime·lock (lock_futex.c).
    #[inline]
    pub fn lock(&self) {
        let v = self.key.value.swap(MUTEX_LOCKED, Ordering::Acquire);
        if v != MUTEX_UNLOCKED {
            self.lock_slow(v);
        }
    }

    #[cold]
    fn lock_slow(&self, v: u32) {
        // Whoever takes the lock now must leave the state it found: if a sleeper was
        // recorded, keep recording one so that unlock wakes it.
        let mut wait = v;
        let spin = if ncpu() > 1 { ACTIVE_SPIN } else { 0 };
        loop {
            for _ in 0..spin {
                if self.try_from_unlocked(wait) {
                    return;
                }
                for _ in 0..ACTIVE_SPIN_CNT {
                    std::hint::spin_loop();
                }
            }
            for _ in 0..PASSIVE_SPIN {
                if self.try_from_unlocked(wait) {
                    return;
                }
                std::thread::yield_now();
            }
            if self.key.value.swap(MUTEX_SLEEPING, Ordering::Acquire) == MUTEX_UNLOCKED {
                return;
            }
            wait = MUTEX_SLEEPING;
            let _ = self.key.wait(MUTEX_SLEEPING);
        }
    }

    fn try_from_unlocked(&self, wait: u32) -> bool {
        while self.key.value.load(Ordering::Relaxed) == MUTEX_UNLOCKED {
            if self
                .key
                .value
                .compare_exchange(MUTEX_UNLOCKED, wait, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return true;
            }
        }
        false
    }

    /// Port of runtime·unlock (lock_futex.c).
    ///
    /// # Safety
    /// The caller holds the lock (took it with `lock` and has not released it since).
    #[inline]
    pub unsafe fn unlock(&self) {
        let v = self.key.value.swap(MUTEX_UNLOCKED, Ordering::Release);
        if v == MUTEX_UNLOCKED {
            panic!("unlock of unlocked lock");
        }
        if v == MUTEX_SLEEPING {
            self.key.wake(1);
        }
    }
}

/// A runtime lock and the data it guards.
pub struct Lock<T> {
    raw: RawLock,
    data: UnsafeCell<T>,
}

// SAFETY: the data is only reached through a guard, and a guard exists only while `raw` is
// held, so at most one thread touches `data` at a time; T must be Send to move between them.
unsafe impl<T: Send> Sync for Lock<T> {}
// SAFETY: moving the lock moves the data; T: Send makes that fine.
unsafe impl<T: Send> Send for Lock<T> {}

impl<T: Default> Default for Lock<T> {
    fn default() -> Self {
        Lock::new(T::default())
    }
}

impl<T> Lock<T> {
    pub const fn new(data: T) -> Lock<T> {
        Lock {
            raw: RawLock::new(),
            data: UnsafeCell::new(data),
        }
    }

    #[inline]
    pub fn lock(&self) -> LockGuard<'_, T> {
        self.raw.lock();
        LockGuard { lock: self }
    }

    /// The data, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

/// Proof that a `Lock` is held; unlocks on drop.
pub struct LockGuard<'a, T> {
    lock: &'a Lock<T>,
}

impl<'a, T> LockGuard<'a, T> {
    /// Gives up the guard without unlocking and returns the bare lock, for a scheduler that
    /// must release it later (after a goroutine has switched out).
    pub fn into_raw(self) -> &'a RawLock {
        let raw = &self.lock.raw;
        std::mem::forget(self);
        raw
    }
}

impl<T> Deref for LockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while the lock is held.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while the lock is held, and it is borrowed mutably.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the guard was made by `Lock::lock`, so the lock is held.
        unsafe { self.lock.raw.unlock() }
    }
}
