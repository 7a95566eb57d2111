//! The runtime lock, in the two forms Go's history had, chosen per runtime ([`LockKind`]).
//!
//! `Lock<T>` holds the data it guards, as a Rust mutex does; `RawLock` is the bare lock, which
//! `park` releases after a goroutine has switched out. Until 2011-07-29 Go's runtime lock was
//! linux/thread.c's futexlock (no spinning: a kernel sleep on contention); from "runtime:
//! improve Linux mutex" on, every release used lock_futex.c (spin, yield, then futex). Every
//! lock of a runtime is of the kind its `Config` names, so that a reader can run any generation
//! on either lock and separate what the lock did from what the scheduler did.
//!
//! Like Go's `lock`, which raised `m->locks`, taking a lock raises the count of the M that takes
//! it ([`MLocks`], a field of every generation's M, reached through [`m_locks`]): a generation
//! that preempts does not preempt a goroutine holding one, and an unbalanced count throws as
//! Go's did ("lock count").
//!
//! Futexes are shared (`FUTEX_WAIT`/`FUTEX_WAKE` without `FUTEX_PRIVATE_FLAG`), as in every
//! release these generations come from: the kernel then keys a sleeper by its page, which
//! costs more on every contended sleep and wake than a private futex.

use linux_futex::{Futex, Shared};
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

/// An M's count of runtime locks held and other runtime work in progress (Go's `m->locks`),
/// with what the M's runtime needs to know of it. Every generation's M has one and points its
/// thread's slot at it while the thread is that M ([`set_m_locks`]).
///
/// Only the M's own thread writes the count (a plain load and store, as Go's `m->locks++`);
/// others may read it.
pub struct MLocks {
    count: std::sync::atomic::AtomicU32,
    /// The lock kind of the M's runtime: the kind of the locks its goroutines make.
    kind: LockKind,
    /// Run when the count comes back to zero (Go 1.4's unlock restores a preemption request
    /// that newstack set aside while locks were held); `None` before 2014.
    on_zero: Option<fn()>,
}

impl MLocks {
    pub const fn new(kind: LockKind, on_zero: Option<fn()>) -> MLocks {
        MLocks {
            count: std::sync::atomic::AtomicU32::new(0),
            kind,
            on_zero,
        }
    }

    /// The count (the M's own thread, or a reader that accepts a stale value).
    #[inline(always)]
    pub fn get(&self) -> u32 {
        self.count.load(Ordering::Relaxed)
    }

    /// `m->locks++`, throwing on an overflowed count as Go did ("lock count").
    #[inline(always)]
    pub fn acquire(&self) {
        let n = self.count.load(Ordering::Relaxed);
        if n >= i32::MAX as u32 {
            lock_count(n);
        }
        self.count.store(n + 1, Ordering::Relaxed);
    }

    /// `m->locks--`, throwing when it would go below zero; back at zero, the runtime's
    /// `on_zero` runs.
    #[inline(always)]
    pub fn release(&self) {
        let n = self.count.load(Ordering::Relaxed);
        if n == 0 {
            lock_count(n);
        }
        self.count.store(n - 1, Ordering::Relaxed);
        if n == 1 {
            if let Some(f) = self.on_zero {
                f();
            }
        }
    }
}

#[cold]
#[inline(never)]
fn lock_count(n: u32) -> ! {
    panic!("runtime: lock count ({n} locks held): a lock released on an M that did not take it")
}

thread_local! {
    /// The `MLocks` of the M this thread is (null on a thread that is no M).
    static M_LOCKS: Cell<*const MLocks> = const { Cell::new(std::ptr::null()) };
}

/// Makes `m` the lock count of the calling thread's M (each generation's M slot does this
/// when a thread becomes an M, and clears it with `None` when it stops being one).
pub fn set_m_locks(m: Option<&MLocks>) {
    let p = m.map_or(std::ptr::null(), |m| m as *const MLocks);
    M_LOCKS.with(|c| c.set(p));
}

/// The calling thread's M's lock count, or null on a thread that is no M. Read afresh on
/// every call: a goroutine that called `lock` on one M may call `unlock`... on another after a
/// switch, and a compiler that saw this read inlined would keep the first thread's address
/// (see `tls`).
#[inline(never)]
pub fn m_locks() -> *const MLocks {
    M_LOCKS.with(|c| c.get())
}

/// How many runtime locks (and other runtime work) the calling thread's M holds: 0 on a
/// thread that is no M. A goroutine never switches out holding a lock (park hands its lock to
/// the scheduler, which releases it on the same M), so on a goroutine's stack this is the
/// count the goroutine itself holds.
#[inline]
pub fn locks_held() -> u32 {
    // SAFETY: the slot is null or points at the MLocks of this thread's M, which outlives the
    // thread's time as that M.
    unsafe { m_locks().as_ref() }.map_or(0, MLocks::get)
}

/// The bare lock word. `Spin`: 0 unlocked, 1 locked, 2 locked with sleepers. `Futex2011`:
/// bit 0 is the lock, the rest counts sleepers in steps of 2.
pub struct RawLock {
    pub(crate) key: Futex<Shared>,
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
        RawLock::with_key(kind, 0)
    }

    /// A lock of `kind` whose word starts at `key` (a note's armed state).
    pub(crate) const fn with_key(kind: LockKind, key: u32) -> RawLock {
        RawLock {
            key: Futex::new(key),
            kind,
        }
    }

    pub fn kind(&self) -> LockKind {
        self.kind
    }

    /// Takes the lock (Go's runtime·lock).
    #[inline]
    pub fn lock(&self) {
        // SAFETY: see `locks_held`.
        if let Some(ml) = unsafe { m_locks().as_ref() } {
            ml.acquire();
        }
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
        // SAFETY: see `locks_held`.
        if let Some(ml) = unsafe { m_locks().as_ref() } {
            ml.release();
        }
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
    pub(crate) fn futexlock(&self) {
        // The seed's first step: load the word, and only if the lock bit is clear, CAS it in
        // (no blind `cas(0, 1)`: the load comes first, as in thread.c).
        let key = &self.key.value;
        let v = key.load(Ordering::Relaxed);
        if v & 1 != 0
            || key
                .compare_exchange(v, v | 1, Ordering::Acquire, Ordering::Relaxed)
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
            self.uncount_sleeper();
        }
    }

    /// A futexlock sleeper, awake, takes itself out of the count.
    pub(crate) fn uncount_sleeper(&self) {
        let key = &self.key.value;
        let mut v = key.load(Ordering::Relaxed);
        loop {
            assert!(v >= 2, "bad lock key");
            match key.compare_exchange(v, v - 2, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break,
                Err(cur) => v = cur,
            }
        }
    }

    /// Port of futexunlock (linux/thread.c, July 2011): load the word, CAS the lock bit out
    /// (again on a lost race), then wake one sleeper if any was counted.
    #[inline(always)]
    pub(crate) unsafe fn futexunlock(&self) {
        let key = &self.key.value;
        let mut v = key.load(Ordering::Relaxed);
        loop {
            assert!(v & 1 != 0, "unlock of unlocked lock");
            match key.compare_exchange(v, v & !1, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => break,
                Err(cur) => v = cur,
            }
        }
        if v & !1 != 0 {
            self.key.wake(1);
        }
    }
}

/// A runtime lock and the data it guards, in that order (`repr(C)`: the lock word comes first
/// and the data right after it, as in the seeds' structs that begin with their `Lock`).
#[repr(C)]
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

/// The lock kind of the runtime whose M the calling thread is (`Spin` outside any runtime):
/// locks made by goroutines (channels, WaitGroups, semaphores) are of their runtime's kind.
pub fn thread_kind() -> LockKind {
    // SAFETY: see `locks_held`.
    unsafe { m_locks().as_ref() }.map_or(LockKind::Spin, |ml| ml.kind)
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

    /// Where the data begins, in bytes from the lock word (for layout checks).
    pub const fn data_offset() -> usize {
        std::mem::offset_of!(Lock<T>, data)
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
        // A thread that is no M counts nothing.
        drop(a.lock());
        assert_eq!(locks_held(), 0);
        let m = MLocks::new(LockKind::Futex2011, None);
        set_m_locks(Some(&m));
        assert_eq!(thread_kind(), LockKind::Futex2011);
        let ga = a.lock();
        let gb = b.lock();
        assert_eq!(locks_held(), 2);
        drop(gb);
        assert_eq!(locks_held(), 1);
        drop(ga);
        assert_eq!(locks_held(), 0);
        set_m_locks(None);
        assert_eq!(thread_kind(), LockKind::Spin);
    }

    /// An unbalanced count throws, as Go's "lock count" did: a lock released on an M that
    /// did not take it.
    #[test]
    #[should_panic(expected = "lock count")]
    fn release_without_acquire_throws() {
        MLocks::new(LockKind::Spin, None).release();
    }

    /// Back at zero, the runtime's hook runs (Go 1.4's unlock re-arming a preemption).
    #[test]
    fn on_zero_runs_when_the_count_returns_to_zero() {
        use std::sync::atomic::AtomicU32;
        static CALLS: AtomicU32 = AtomicU32::new(0);
        let m = MLocks::new(
            LockKind::Spin,
            Some(|| {
                CALLS.fetch_add(1, Ordering::Relaxed);
            }),
        );
        m.acquire();
        m.acquire();
        m.release();
        assert_eq!(CALLS.load(Ordering::Relaxed), 0);
        m.release();
        assert_eq!(CALLS.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn kinds_round_trip_their_names() {
        for k in LockKind::ALL {
            assert_eq!(LockKind::from_name(k.name()), Some(k));
        }
        assert_eq!(LockKind::from_name("mutex"), None);
    }
}
