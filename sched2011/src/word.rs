//! The packed atomic scheduling word of July 2011, the heart of the change in seed 002.
//!
//! One `u32` holds everything entersyscall and exitsyscall need to decide whether they can skip
//! the schedlock:
//!
//! ```text
//!   bits  0..15  mcpu      M's running Go code on a CPU
//!   bits 15..30  mcpumax   how many may (GOMAXPROCS, or 1 while the world stops)
//!   bit  30      waitstop  stoptheworld sleeps on `stopped` until mcpu <= mcpumax
//!   bit  31      gwaiting  the global run queue is not empty
//! ```
//!
//! Who writes what: only entersyscall and exitsyscall change the word without the schedlock,
//! and they only ever move mcpu (down by one, or up by one while it stays under mcpumax). Every
//! other write (mcpumax, waitstop, gwaiting, and mcpu in the scheduler) happens under the
//! schedlock. So the lock holders only race with those two fast paths, and the fast paths
//! refuse to run whenever their move could hide something from a lock holder: entersyscall
//! goes slow when goroutines wait (someone must start an M for them) or when its decrement
//! would satisfy a waiting stoptheworld (someone must wake it). The loom model in
//! `tests/loom_word.rs` checks that these rules keep the seed's two invariants.

use schedcore::sync::{AtomicU32, Ordering};

pub const MCPU_WIDTH: u32 = 15;
pub const MCPU_MASK: u32 = (1 << MCPU_WIDTH) - 1;
pub const MCPU_SHIFT: u32 = 0;
pub const MCPUMAX_SHIFT: u32 = MCPU_SHIFT + MCPU_WIDTH;
pub const WAITSTOP_SHIFT: u32 = MCPUMAX_SHIFT + MCPU_WIDTH;
pub const GWAITING_SHIFT: u32 = WAITSTOP_SHIFT + 1;

/// The largest GOMAXPROCS: the mcpu field's range, less a few values kept free so that a
/// decrement below zero shows up as a huge count instead of wrapping into a valid one.
pub const MAXGOMAXPROCS: u32 = MCPU_MASK - 10;

#[inline(always)]
pub const fn mcpu(v: u32) -> u32 {
    (v >> MCPU_SHIFT) & MCPU_MASK
}
#[inline(always)]
pub const fn mcpumax(v: u32) -> u32 {
    (v >> MCPUMAX_SHIFT) & MCPU_MASK
}
#[inline(always)]
pub const fn waitstop(v: u32) -> bool {
    (v >> WAITSTOP_SHIFT) & 1 != 0
}
#[inline(always)]
pub const fn gwaiting(v: u32) -> bool {
    (v >> GWAITING_SHIFT) & 1 != 0
}

/// The word itself. Methods named after the seed's operations on it.
pub struct SchedWord(AtomicU32);

impl Default for SchedWord {
    fn default() -> Self {
        SchedWord::new()
    }
}

impl SchedWord {
    pub fn new() -> SchedWord {
        SchedWord(AtomicU32::new(0))
    }

    #[inline(always)]
    pub fn load(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }

    /// Port of setmcpumax (seed 002). Under the schedlock.
    pub fn setmcpumax(&self, n: u32) {
        let mut v = self.load();
        loop {
            let w = (v & !(MCPU_MASK << MCPUMAX_SHIFT)) | (n << MCPUMAX_SHIFT);
            match self
                .0
                .compare_exchange(v, w, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return,
                Err(cur) => v = cur,
            }
        }
    }

    /// Port of canaddmcpu (seed 002): takes a CPU if one is free. Under the schedlock.
    pub fn canaddmcpu(&self) -> bool {
        let mut v = self.load();
        loop {
            if mcpu(v) >= mcpumax(v) {
                return false;
            }
            match self.0.compare_exchange(
                v,
                v + (1 << MCPU_SHIFT),
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return true,
                Err(cur) => v = cur,
            }
        }
    }

    /// `atomic { mcpu += delta }`, returning the new word. Under the schedlock.
    #[inline]
    pub fn add_mcpu(&self, delta: i32) -> u32 {
        let d = (delta as u32) << MCPU_SHIFT;
        self.0.fetch_add(d, Ordering::SeqCst).wrapping_add(d)
    }

    /// Sets or clears the gwaiting bit as the queue turns non-empty or empty. Under the
    /// schedlock (gput/gget).
    pub fn set_gwaiting(&self, on: bool) {
        if on {
            self.0.fetch_add(1 << GWAITING_SHIFT, Ordering::SeqCst);
        } else {
            self.0.fetch_sub(1 << GWAITING_SHIFT, Ordering::SeqCst);
        }
    }

    /// The entersyscall fast path (seed 002): one CAS that does `mcpu--` when the schedlock
    /// path would have done nothing else. Reports whether it did.
    #[inline(always)]
    pub fn entersyscall_fast(&self) -> bool {
        let mut v = self.0.load(Ordering::SeqCst);
        loop {
            if gwaiting(v) {
                return false;
            }
            if waitstop(v) && mcpu(v).wrapping_sub(1) <= mcpumax(v) {
                return false;
            }
            match self.0.compare_exchange_weak(
                v,
                v.wrapping_sub(1 << MCPU_SHIFT),
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return true,
                Err(cur) => v = cur,
            }
        }
    }

    /// The exitsyscall fast path (seed 002): `mcpu++` if that keeps mcpu within mcpumax.
    #[inline(always)]
    pub fn exitsyscall_fast(&self) -> bool {
        let mut v = self.0.load(Ordering::SeqCst);
        loop {
            if mcpu(v) >= mcpumax(v) {
                return false;
            }
            match self.0.compare_exchange_weak(
                v,
                v + (1 << MCPU_SHIFT),
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return true,
                Err(cur) => v = cur,
            }
        }
    }

    /// The body of entersyscall's slow path, under the schedlock: `mcpu--`, matchmg if
    /// goroutines wait, then whether a waiting stoptheworld is now satisfied (its waitstop is
    /// cleared; the caller wakes `stopped` before it unlocks). The loom model calls it too.
    #[inline]
    pub fn entersyscall_locked(&self, matchmg: impl FnOnce()) -> bool {
        let mut v = self.add_mcpu(-1);
        if gwaiting(v) {
            matchmg();
            v = self.load();
        }
        self.take_waitstop_if_stopped(v)
    }

    /// The body of exitsyscall's slow path, under the schedlock: `mcpu++`, even past
    /// mcpumax; the caller then unlocks and reschedules, and schedule's `mcpu--` undoes it.
    #[inline]
    pub fn exitsyscall_locked(&self) {
        self.add_mcpu(1);
    }

    /// schedule's `atomic { mcpu-- }`, under the schedlock, for the goroutine that stopped.
    #[inline]
    pub fn schedule_mcpu(&self) {
        let v = self.add_mcpu(-1);
        if mcpu(v) > MAXGOMAXPROCS {
            panic!("negative mcpu in scheduler");
        }
    }

    /// stoptheworld's `atomic { waitstop = 1 }`, predicated on the word still being `v`
    /// (whose mcpu the caller saw above 1). Under the schedlock.
    pub fn try_set_waitstop(&self, v: u32) -> bool {
        assert!(!waitstop(v), "invalid waitstop");
        self.0
            .compare_exchange(
                v,
                v + (1 << WAITSTOP_SHIFT),
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
    }

    /// If stoptheworld waits and enough M's have stopped, clears waitstop and reports that the
    /// caller must wake `stopped`. Under the schedlock.
    pub fn take_waitstop_if_stopped(&self, v: u32) -> bool {
        if waitstop(v) && mcpu(v) <= mcpumax(v) {
            self.0.fetch_sub(1 << WAITSTOP_SHIFT, Ordering::SeqCst);
            true
        } else {
            false
        }
    }

    /// Clears waitstop unconditionally (teardown wakes a waiting stoptheworld). Under the
    /// schedlock.
    pub fn clear_waitstop(&self) -> bool {
        let v = self.load();
        if waitstop(v) {
            self.0.fetch_sub(1 << WAITSTOP_SHIFT, Ordering::SeqCst);
            true
        } else {
            false
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fields_pack_and_unpack() {
        let w = SchedWord::new();
        w.setmcpumax(4);
        assert!(w.canaddmcpu());
        assert!(w.canaddmcpu());
        let v = w.load();
        assert_eq!(
            (mcpu(v), mcpumax(v), waitstop(v), gwaiting(v)),
            (2, 4, false, false)
        );
        w.set_gwaiting(true);
        assert!(gwaiting(w.load()));
        assert!(
            !w.entersyscall_fast(),
            "goroutines wait: entersyscall must take the lock"
        );
        w.set_gwaiting(false);
        assert!(w.entersyscall_fast());
        assert_eq!(mcpu(w.load()), 1);
        assert!(w.exitsyscall_fast());
        w.setmcpumax(2);
        assert!(!w.exitsyscall_fast() || mcpu(w.load()) <= 2);
    }

    #[test]
    fn mcpumax_caps_exitsyscall_and_waitstop_blocks_the_fast_enter() {
        let w = SchedWord::new();
        w.setmcpumax(1);
        assert!(w.canaddmcpu());
        assert!(!w.canaddmcpu());
        assert!(w.entersyscall_fast());
        assert!(w.exitsyscall_fast());
        assert!(!w.exitsyscall_fast(), "mcpu may not pass mcpumax");
        // Two on CPU, the world stopping to one: the decrement that satisfies it must go slow.
        w.add_mcpu(1);
        let v = w.load();
        assert!(w.try_set_waitstop(v));
        assert!(!w.entersyscall_fast());
        let v = w.add_mcpu(-1);
        assert!(w.take_waitstop_if_stopped(v));
        assert!(!waitstop(w.load()));
    }

    #[test]
    fn decrement_below_zero_is_detectable() {
        let w = SchedWord::new();
        let v = w.add_mcpu(-1);
        assert!(mcpu(v) > MAXGOMAXPROCS);
    }
}
