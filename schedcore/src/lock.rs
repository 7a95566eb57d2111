//! The runtime lock, in the two forms Go's history had, chosen per runtime ([`LockKind`]).
//!
//! `Lock<T>` holds the data it guards, as a Rust mutex does; `RawLock` is the bare lock, which
//! `park` releases after a goroutine has switched out. Until 2011-07-29 Go's runtime lock was
//! linux/thread.c's futexlock (no spinning: a kernel sleep on contention); from "runtime:
//! improve Linux mutex" on, every release used lock_futex.c (spin, yield, then futex). Every
//! lock of a runtime is of the kind its `Config` names, so that a reader can run any generation
//! on either lock and separate what the lock did from what the scheduler did.
//!
//! Like Go's `lock`, which raised `m->locks`, taking a lock raises a per-thread count
//! ([`locks_held`]): a generation that preempts does not preempt a goroutine holding one.

use linux_futex::{Futex, Private};
use std::cell::{Cell, UnsafeCell};
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

/// Which of Go's two runtime locks a runtime runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockKind {
    /// The runtime lock of July 2011 (linux/thread.c's futexlock): no spinning at all. A
    /// thread that finds the lock held counts itself in the word and sleeps in the kernel at
    /// once; every unlock that finds a sleeper counted makes a futex wake call. The seed's
    /// own table (both columns of CL 4723042) was measured on it.
    Futex2011,
    /// lock_futex.c, from 2011-07-29 on (Go 1.0 and every later release): spin actively,
    /// yield, then sleep on a futex.
    Spin,
}

impl LockKind {
    /// Every kind, in history's order.
    pub const ALL: [LockKind; 2] = [LockKind::Futex2011, LockKind::Spin];

    /// The name the lab uses (`--lock futex2011`, `--lock spin`).
    pub const fn name(self) -> &'static str {
        match self {
            LockKind::Futex2011 => "futex2011",
            LockKind::Spin => "spin",
        }
    }

    /// The kind called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<LockKind> {
        LockKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl std::fmt::Display for LockKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

thread_local! {
    /// Runtime locks this thread holds (Go's m->locks, as far as locks raise it).
    static LOCKS_HELD: Cell<u32> = const { Cell::new(0) };
}

/// How many runtime locks the calling thread holds. A goroutine never switches out holding
/// one (park hands its lock to the scheduler, which releases it on the same thread), so on a
/// goroutine's stack this is the count the goroutine itself holds.
#[inline]
pub fn locks_held() -> u32 {
    LOCKS_HELD.with(|c| c.get())
}

#[inline(always)]
fn held_add(d: i32) {
    LOCKS_HELD.with(|c| c.set(c.get().wrapping_add_signed(d)));
}

/// The bare lock word. `Spin`: 0 unlocked, 1 locked, 2 locked with sleepers. `Futex2011`:
/// bit 0 is the lock, the rest counts sleepers in steps of 2.
pub struct RawLock {
    key: Futex<Private>,
    kind: LockKind,
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
    /// A lock of the kind every release from Go 1.0 on had (`Spin`): for locks outside any
    /// runtime's choice (the harness's own bookkeeping).
    pub const fn new() -> RawLock {
        RawLock::with_kind(LockKind::Spin)
    }

    pub const fn with_kind(kind: LockKind) -> RawLock {
        RawLock {
            key: Futex::new(0),
            kind,
        }
    }

    pub fn kind(&self) -> LockKind {
        self.kind
    }

    /// Takes the lock (Go's runtime·lock).
    #[inline]
    pub fn lock(&self) {
        held_add(1);
        match self.kind {
            LockKind::Spin => self.spin_lock(),
            LockKind::Futex2011 => self.futexlock(),
        }
    }

    /// Releases the lock (Go's runtime·unlock).
    ///
    /// # Safety
    /// The caller holds the lock (took it with `lock` and has not released it since), on this
    /// thread.
    #[inline]
    pub unsafe fn unlock(&self) {
        match self.kind {
            LockKind::Spin => self.spin_unlock(),
            LockKind::Futex2011 => self.futexunlock(),
        }
        held_add(-1);
    }

    /// Port of runtime·lock (lock_futex.c).
    #[inline(always)]
    fn spin_lock(&self) {
        let v = self.key.value.swap(MUTEX_LOCKED, Ordering::Acquire);
        if v != MUTEX_UNLOCKED {
            self.spin_lock_slow(v);
        }
    }

    #[cold]
    fn spin_lock_slow(&self, v: u32) {
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
    #[inline(always)]
    unsafe fn spin_unlock(&self) {
        let v = self.key.value.swap(MUTEX_UNLOCKED, Ordering::Release);
        if v == MUTEX_UNLOCKED {
            panic!("unlock of unlocked lock");
        }
        if v == MUTEX_SLEEPING {
            self.key.wake(1);
        }
    }

    /// Port of futexlock (linux/thread.c, July 2011).
    #[inline(always)]
    fn futexlock(&self) {
        let key = &self.key.value;
        if key
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.futexlock_slow();
        }
    }

    #[cold]
    fn futexlock_slow(&self) {
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

    /// Port of futexunlock (linux/thread.c, July 2011).
    #[inline(always)]
    unsafe fn futexunlock(&self) {
        let old = self.key.value.fetch_and(!1, Ordering::Release);
        assert!(old & 1 != 0, "unlock of unlocked lock");
        if old & !1 != 0 {
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

thread_local! {
    /// The lock kind of the runtime whose M this thread is (see [`set_thread_kind`]).
    static THREAD_KIND: Cell<LockKind> = const { Cell::new(LockKind::Spin) };
}

/// Records the lock kind of the runtime this thread is an M of; every generation's mstart
/// calls it, so that locks made by goroutines (channels, WaitGroups, semaphores) are of
/// their runtime's kind.
pub fn set_thread_kind(kind: LockKind) {
    THREAD_KIND.with(|c| c.set(kind));
}

/// The lock kind of the runtime whose M the calling thread is (`Spin` outside any runtime).
pub fn thread_kind() -> LockKind {
    THREAD_KIND.with(|c| c.get())
}

impl<T> Lock<T> {
    /// A `Spin` lock: for locks outside any runtime's choice (bookkeeping of the lab's own).
    pub const fn new(data: T) -> Lock<T> {
        Lock::with_kind(LockKind::Spin, data)
    }

    /// A lock of `kind`: every lock a runtime makes for itself.
    pub const fn with_kind(kind: LockKind, data: T) -> Lock<T> {
        Lock {
            raw: RawLock::with_kind(kind),
            data: UnsafeCell::new(data),
        }
    }

    /// A lock of the kind of the runtime the calling goroutine runs in (channels, WaitGroups,
    /// semaphores: Go's chan lock was a runtime lock too).
    pub fn of_this_runtime(data: T) -> Lock<T> {
        Lock::with_kind(thread_kind(), data)
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
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the guard was made by `Lock::lock`, so the lock is held.
        unsafe { self.lock.raw.unlock() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn counts_exactly(kind: LockKind) {
        let l: Arc<Lock<u64>> = Arc::new(Lock::with_kind(kind, 0));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        *l.lock() += 1;
                    }
                    assert_eq!(locks_held(), 0);
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
        counts_exactly(LockKind::Spin);
    }

    #[test]
    fn futex2011_lock_excludes() {
        counts_exactly(LockKind::Futex2011);
    }

    #[test]
    fn locks_held_counts_this_threads_locks() {
        let a = Lock::new(());
        let b = Lock::with_kind(LockKind::Futex2011, ());
        assert_eq!(locks_held(), 0);
        let ga = a.lock();
        let gb = b.lock();
        assert_eq!(locks_held(), 2);
        drop(gb);
        assert_eq!(locks_held(), 1);
        drop(ga);
        assert_eq!(locks_held(), 0);
    }

    #[test]
    fn kinds_round_trip_their_names() {
        for k in LockKind::ALL {
            assert_eq!(LockKind::from_name(k.name()), Some(k));
        }
        assert_eq!(LockKind::from_name("mutex"), None);
    }
}
