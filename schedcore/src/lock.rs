//! `Lock`: Go's runtime lock (lock_futex.c): spin actively, then yield, then sleep on a futex.
//!
//! `Lock<T>` holds the data it guards, as a Rust mutex does; `RawLock` is the bare lock, which
//! `park` releases after a goroutine has switched out. Every generation uses `RawLock`, so that
//! differences between them come from the schedulers. The one exception is `KernelLock`, the
//! runtime lock of July 2011, which only the "2011-lock" variant uses to reproduce the seed's
//! own measurement (see `KernelLock`).

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

/// What a bare lock offers, so that `Lock<T, R>` can sit on either lock.
pub trait RawMutex: Sync + Send {
    const INIT: Self;
    fn lock(&self);
    /// # Safety
    /// The caller holds the lock.
    unsafe fn unlock(&self);
}

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

impl RawMutex for RawLock {
    const INIT: RawLock = RawLock::new();
    #[inline]
    fn lock(&self) {
        RawLock::lock(self)
    }
    #[inline]
    unsafe fn unlock(&self) {
        RawLock::unlock(self)
    }
}

/// The runtime lock of July 2011 (linux/thread.c's futexlock, before lock_futex.c): no
/// spinning at all. A thread that finds the lock held counts itself in the word and sleeps
/// in the kernel at once; every unlock that finds a sleeper counted makes a futex wake call.
/// Under contention both sides live in the kernel, which is what the seed's "old" column
/// (538 ns/op at 2 procs) measured, and what the commit's server benchmark showed as system
/// time falling from 8.0 s to 1.0 s.
///
/// The word: bit 0 is the lock, the rest counts sleepers in steps of 2.
pub struct KernelLock {
    key: Futex<Private>,
}

impl KernelLock {
    pub const fn new() -> KernelLock {
        KernelLock { key: Futex::new(0) }
    }
}

impl Default for KernelLock {
    fn default() -> Self {
        KernelLock::new()
    }
}

impl RawMutex for KernelLock {
    const INIT: KernelLock = KernelLock::new();

    /// Port of futexlock (2011 linux/thread.c).
    fn lock(&self) {
        let key = &self.key.value;
        loop {
            let v = key.load(Ordering::Relaxed);
            if v & 1 == 0 {
                if key
                    .compare_exchange(v, v | 1, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    return;
                }
                continue;
            }
            // Held: count ourselves as a sleeper, then sleep unless the word moved meanwhile.
            if key
                .compare_exchange(v, v + 2, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
            {
                continue;
            }
            let _ = self.key.wait(v + 2);
            // Awake: uncount ourselves and try again.
            let mut v = key.load(Ordering::Relaxed);
            loop {
                assert!(v >= 2, "bad lock key");
                match key.compare_exchange(v, v - 2, Ordering::Relaxed, Ordering::Relaxed) {
                    Ok(_) => break,
                    Err(cur) => v = cur,
                }
            }
        }
    }

    /// Port of futexunlock (2011 linux/thread.c).
    unsafe fn unlock(&self) {
        let old = self.key.value.fetch_and(!1, Ordering::Release);
        assert!(old & 1 != 0, "unlock of unlocked lock");
        if old & !1 != 0 {
            self.key.wake(1);
        }
    }
}

/// A runtime lock and the data it guards, on the shared `RawLock` unless said otherwise.
pub struct Lock<T, R: RawMutex = RawLock> {
    raw: R,
    data: UnsafeCell<T>,
}

// SAFETY: the data is only reached through a guard, and a guard exists only while `raw` is
// held, so at most one thread touches `data` at a time; T must be Send to move between them.
unsafe impl<T: Send, R: RawMutex> Sync for Lock<T, R> {}
// SAFETY: moving the lock moves the data; T: Send makes that fine.
unsafe impl<T: Send, R: RawMutex> Send for Lock<T, R> {}

impl<T: Default, R: RawMutex> Default for Lock<T, R> {
    fn default() -> Self {
        Lock::new(T::default())
    }
}

impl<T, R: RawMutex> Lock<T, R> {
    pub const fn new(data: T) -> Lock<T, R> {
        Lock {
            raw: R::INIT,
            data: UnsafeCell::new(data),
        }
    }

    /// A lock on a raw lock chosen at run time (for an `R` that has several kinds).
    pub const fn with_raw(raw: R, data: T) -> Lock<T, R> {
        Lock {
            raw,
            data: UnsafeCell::new(data),
        }
    }

    #[inline]
    pub fn lock(&self) -> LockGuard<'_, T, R> {
        self.raw.lock();
        LockGuard { lock: self }
    }

    /// The data, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

/// Proof that a `Lock` is held; unlocks on drop.
pub struct LockGuard<'a, T, R: RawMutex = RawLock> {
    lock: &'a Lock<T, R>,
}

impl<'a, T, R: RawMutex> LockGuard<'a, T, R> {
    /// Gives up the guard without unlocking and returns the bare lock, for a scheduler that
    /// must release it later (after a goroutine has switched out).
    pub fn into_raw(self) -> &'a R {
        let raw = &self.lock.raw;
        std::mem::forget(self);
        raw
    }
}

impl<T, R: RawMutex> Deref for LockGuard<'_, T, R> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while the lock is held.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T, R: RawMutex> DerefMut for LockGuard<'_, T, R> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while the lock is held, and it is borrowed mutably.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T, R: RawMutex> Drop for LockGuard<'_, T, R> {
    fn drop(&mut self) {
        // SAFETY: the guard was made by `Lock::lock`, so the lock is held.
        unsafe { self.lock.raw.unlock() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn counts_exactly<R: RawMutex + 'static>() {
        let l: Arc<Lock<u64, R>> = Arc::new(Lock::new(0));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        *l.lock() += 1;
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(*l.lock(), 80_000);
    }

    #[test]
    fn spin_lock_excludes() {
        counts_exactly::<RawLock>();
    }

    #[test]
    fn kernel_lock_excludes() {
        counts_exactly::<KernelLock>();
    }
}
