//! The 2014 per-P run queue: a fixed ring of G pointers that its owner P fills and empties
//! without a lock and that any other P may steal half of (seed 001, runqput to runqsteal).
//!
//! # How the ring works
//!
//! `head` and `tail` are free-running `u32` counters; slot `i % RUNQ_SIZE` holds the G of index
//! `i`, and the queue is the indices `head..tail`. Only the owner P writes `tail` and the slots.
//! Everyone who takes G's (the owner in [`RunQueue::runqget`] and [`RunQueue::runqputslow`], thieves
//! in [`RunQueue::runqgrab`]) does it the same way: read `head`, copy the slots it wants, then
//! move `head` past them with a CAS. A failed CAS means somebody else took some of those G's
//! first, so the copies are thrown away and the taker starts again. A consumer may therefore
//! copy a slot that the owner is rewriting for a later lap; that read is a lost race which its
//! CAS always detects, and since the slots are atomics (relaxed, free on x86) the race is well
//! defined in Rust, where Go's plain words relied on the CAS alone.
//!
//! The ring does not own what it holds: it moves raw pointers and never dereferences them, so
//! it needs no `unsafe`. What a pointer points to, and who may use it, is the scheduler's
//! business, as with the G pointers of the seed. The one exception is runqputslow, which, once
//! its CAS has made the spilled G's its own, chains them through their `schedlink` for the
//! intrusive global queue (see `globrunq.rs`), so that is where `T: SchedLink` is needed.

use std::ptr::{self, NonNull};

use schedcore::sync::{
    spin_loop, AtomicPtr, AtomicU32,
    Ordering::{Acquire, Relaxed, Release, SeqCst},
};

use crate::globrunq::{schedlink_set, SchedLink};

/// Slots in a P's ring. 256 is the seed's size: deep enough that a P which spawns in bursts
/// rarely spills into the locked global queue, small enough (2 KiB of pointers) to live inside
/// the P, and a power of two so that the slot of a free-running `u32` index is a mask and stays
/// right when the index wraps. Under loom it shrinks to 4 so that a model of a few operations
/// reaches overflow and the half-batch paths.
#[cfg(not(loom))]
pub const RUNQ_SIZE: usize = 256;
/// Slots in a P's ring (shrunk for loom; see the non-loom definition).
#[cfg(loom)]
pub const RUNQ_SIZE: usize = 4;

/// Half a ring: the most a steal or a spill to the global queue moves at once, and the size of
/// the batch buffer that [`RunQueue::runqgrab`] fills.
pub const RUNQ_HALF: usize = RUNQ_SIZE / 2;

const _: () = assert!(RUNQ_SIZE.is_power_of_two() && RUNQ_SIZE >= 4);
// The counters are u32: the ring must divide 2^32 so that index wrap-around keeps slots aligned.
const _: () = assert!(RUNQ_SIZE <= 1 << 31);

/// Where [`RunQueue::runqputslow`] sends half of a full ring plus the new G. In the scheduler
/// this is the global run queue behind the sched lock; the trait lets the ring be tested alone.
pub trait Overflow<T> {
    /// Appends the chain of `n` G's from `ghead` to `gtail`, linked in order through their
    /// schedlink, to the global queue (the seed's globrunqputbatch under the sched lock).
    fn globrunqputbatch(&self, ghead: NonNull<T>, gtail: NonNull<T>, n: usize);
}

/// The buffer [`RunQueue::runqgrab`] fills: the first `n` entries are non-null on return.
pub type GrabBatch<T> = [*mut T; RUNQ_HALF];

/// A P's lock-free run queue (the seed's `runq`, `runqhead`, `runqtail` of a P).
///
/// Roles: [`runqput`](Self::runqput), [`runqget`](Self::runqget) and
/// [`runqsteal`](Self::runqsteal) (on the thief's own ring) may only be called by the M that
/// holds the owning P; [`runqgrab`](Self::runqgrab), [`len`](Self::len) and
/// [`is_empty`](Self::is_empty) by anyone. Breaking the owner rule cannot cause undefined
/// behaviour in the ring, but can lose or duplicate G's.
///
/// `repr(C)`: head, tail, then the slots, as the seed's P had runqhead, runqtail and runq, so
/// that the P that holds it keeps the seed's lines.
#[repr(C)]
pub struct RunQueue<T> {
    /// Index of the oldest G. Advanced by CAS by every consumer.
    head: AtomicU32,
    /// Index one past the newest G. Written only by the owner.
    tail: AtomicU32,
    slots: [AtomicPtr<T>; RUNQ_SIZE],
}

impl<T> Default for RunQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for RunQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunQueue")
            .field("head", &self.head.load(Relaxed))
            .field("tail", &self.tail.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl<T> RunQueue<T> {
    /// Where head lies in the ring, in bytes (for layout checks).
    #[cfg(test)]
    pub(crate) const fn head_offset() -> usize {
        std::mem::offset_of!(Self, head)
    }

    /// Where tail lies in the ring, in bytes (for layout checks).
    #[cfg(test)]
    pub(crate) const fn tail_offset() -> usize {
        std::mem::offset_of!(Self, tail)
    }

    /// An empty ring.
    pub fn new() -> RunQueue<T> {
        RunQueue {
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
            slots: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
        }
    }

    #[inline]
    fn slot(&self, i: u32) -> &AtomicPtr<T> {
        &self.slots[i as usize % RUNQ_SIZE]
    }

    /// How many G's the ring held at some recent moment (racy unless called by the owner with
    /// no thieves about; never more than [`RUNQ_SIZE`]).
    pub fn len(&self) -> usize {
        let h = self.head.load(Acquire);
        let t = self.tail.load(Acquire);
        (t.wrapping_sub(h) as usize).min(RUNQ_SIZE)
    }

    /// The seed's `runqhead == runqtail` test.
    pub fn is_empty(&self) -> bool {
        self.head.load(Acquire) == self.tail.load(Acquire)
    }

    /// Port of runqput (seed 001).
    ///
    /// Owner only. Appends `gp`; when the ring is full, moves half of it plus `gp` to
    /// `global` instead.
    #[inline]
    pub fn runqput<O: Overflow<T>>(&self, gp: NonNull<T>, global: &O)
    where
        T: SchedLink,
    {
        loop {
            // Acquire pairs with the Release of a consumer's CAS on head. A consumer copies its
            // slots before that CAS, so once the owner sees the new head those copies are done
            // and the freed slots may be overwritten.
            let h = self.head.load(Acquire);
            // Only the owner stores tail, so its own last store is the value here.
            let t = self.tail.load(Relaxed);
            if t.wrapping_sub(h) < RUNQ_SIZE as u32 {
                self.slot(t).store(gp.as_ptr(), Relaxed);
                // Go 1.4's atomicstore, a sequentially consistent store (an `xchg` on x86):
                // it publishes the slot store to every consumer that loads tail with Acquire,
                // and it is the full barrier between this store and wakep_needed's loads.
                self.tail.store(t.wrapping_add(1), SeqCst);
                return;
            }
            if self.runqputslow(gp, h, t, global) {
                return;
            }
            // A thief took some G's between our load of head and the CAS in runqputslow, so
            // there is room now and the fast path above will succeed.
        }
    }

    /// Port of runqputslow (seed 001).
    ///
    /// Owner only, from [`runqput`](Self::runqput) with the `h` and `t` it saw on a full ring.
    /// Claims the older half of the ring by CAS on head, links it, followed by `gp`, into one
    /// chain through schedlink, and hands the chain to the global queue. Returns false, having
    /// moved nothing, when a thief changed head first.
    #[cold]
    #[inline(never)]
    pub fn runqputslow<O: Overflow<T>>(&self, gp: NonNull<T>, h: u32, t: u32, global: &O) -> bool
    where
        T: SchedLink,
    {
        let n = t.wrapping_sub(h) / 2;
        if n as usize != RUNQ_HALF {
            panic!("runqputslow: queue is not full (head {h}, tail {t})");
        }
        let mut batch: [*mut T; RUNQ_HALF + 1] = [ptr::null_mut(); RUNQ_HALF + 1];
        for (i, b) in batch[..RUNQ_HALF].iter_mut().enumerate() {
            *b = self.slot(h.wrapping_add(i as u32)).load(Relaxed);
        }
        // Commit the take like every other consumer: Release orders the copies above before
        // the new head (here only the owner itself rewrites slots, but one rule for all
        // consumers keeps the argument in runqput simple).
        if self
            .head
            .compare_exchange(h, h.wrapping_add(n), Release, Relaxed)
            .is_err()
        {
            return false;
        }
        batch[RUNQ_HALF] = gp.as_ptr();
        // The CAS made these G's ours (and gp was never on the ring), so nobody else touches
        // their links: chain them here, before the sched lock, which then only splices the
        // chain on. The lock's acquire and release order these relaxed stores for whoever walks
        // the chain under it.
        let ghead = non_null(batch[0], "runqputslow");
        let mut prev = ghead;
        for &g in &batch[1..] {
            let g = non_null(g, "runqputslow");
            schedlink_set(prev, Some(g));
            prev = g;
        }
        global.globrunqputbatch(ghead, prev, RUNQ_HALF + 1);
        true
    }

    /// Port of runqget (seed 001).
    ///
    /// Owner only. Takes the oldest G, or returns `None` when the ring is empty.
    #[inline]
    pub fn runqget(&self) -> Option<NonNull<T>> {
        loop {
            // Acquire, as every consumer: see the latest head another consumer committed.
            let h = self.head.load(Acquire);
            let t = self.tail.load(Relaxed);
            if t == h {
                return None;
            }
            let gp = self.slot(h).load(Relaxed);
            // Release commits the take (see runqput for who relies on it). Failure: a thief
            // took this G first; start again from the new head.
            if self
                .head
                .compare_exchange(h, h.wrapping_add(1), Release, Relaxed)
                .is_ok()
            {
                return Some(non_null(gp, "runqget"));
            }
            spin_loop();
        }
    }

    /// Port of runqgrab (seed 001).
    ///
    /// Any P. Takes `n - n/2` of the `n` G's in the ring (the older ones) into `batch` and
    /// returns how many it took (0 when the ring is empty). Never takes more than
    /// [`RUNQ_HALF`].
    pub fn runqgrab(&self, batch: &mut GrabBatch<T>) -> usize {
        loop {
            // Acquire on head: see the slots free to read as of the last committed take.
            let h = self.head.load(Acquire);
            // Acquire on tail pairs with the owner's Release store in runqput/runqsteal: every
            // slot below t holds the G the owner put there (or a later one, in which case head
            // has moved past it and the CAS below fails).
            let t = self.tail.load(Acquire);
            let size = t.wrapping_sub(h);
            let n = size - size / 2;
            if n == 0 {
                return 0;
            }
            if n as usize > RUNQ_HALF {
                // h is stale against t: other consumers and the owner both moved on between
                // our two loads, so t - h overstates the ring. Read them again.
                spin_loop();
                continue;
            }
            for (i, b) in batch[..n as usize].iter_mut().enumerate() {
                *b = self.slot(h.wrapping_add(i as u32)).load(Relaxed);
            }
            // Release: our slot copies happen before the owner can see these slots free.
            if self
                .head
                .compare_exchange(h, h.wrapping_add(n), Release, Relaxed)
                .is_ok()
            {
                return n as usize;
            }
            spin_loop();
        }
    }

    /// Port of runqsteal (seed 001).
    ///
    /// Called by the owner of `self` (the thief's own ring, which must have room for half a
    /// ring, as it does when the thief found its own ring empty). Grabs half of `p2` and
    /// returns one of the stolen G's to run at once; the rest go into `self`.
    pub fn runqsteal(&self, p2: &RunQueue<T>) -> Option<NonNull<T>> {
        let mut batch: GrabBatch<T> = [ptr::null_mut(); RUNQ_HALF];
        let n = p2.runqgrab(&mut batch);
        if n == 0 {
            return None;
        }
        let n = n - 1;
        let gp = non_null(batch[n], "runqsteal");
        if n == 0 {
            return Some(gp);
        }
        // As in runqput: Acquire so that slots freed by consumers may be reused.
        let h = self.head.load(Acquire);
        let mut t = self.tail.load(Relaxed);
        if t.wrapping_sub(h) as usize + n >= RUNQ_SIZE {
            panic!("runqsteal: runq overflow (head {h}, tail {t}, stolen {n})");
        }
        for &g in &batch[..n] {
            self.slot(t).store(g, Relaxed);
            t = t.wrapping_add(1);
        }
        // Go 1.4's atomicstore (an `xchg` on x86) publishes all n slot stores at once.
        self.tail.store(t, SeqCst);
        Some(gp)
    }
}

impl<T> RunQueue<T> {
    /// procresize's pop from the tail (seed 001 does it inline in procresize).
    ///
    /// Only while the world is stopped: procresize empties every local ring into the head of
    /// the global queue newest first, so that the global queue keeps each ring's FIFO order.
    /// Nobody else can touch the ring then, so no CAS is needed: the owner's own tail simply
    /// moves back one slot. Called while thieves run, it could hand out a G that a thief is
    /// taking too; the ring stays memory-safe, but the scheduler would run that G twice.
    pub fn runqpoptail_stw(&self) -> Option<NonNull<T>> {
        let h = self.head.load(Acquire);
        let t = self.tail.load(Relaxed);
        if t == h {
            return None;
        }
        let t = t.wrapping_sub(1);
        let gp = self.slot(t).load(Relaxed);
        // Release, as every tail store: the next owner (another M after procresize) sees it.
        self.tail.store(t, Release);
        Some(non_null(gp, "procresize"))
    }
}

/// A slot read by a consumer whose CAS then succeeded always holds what the owner stored, a
/// non-null G; null here would mean the ring's protocol is broken.
#[inline]
fn non_null<T>(g: *mut T, who: &str) -> NonNull<T> {
    match NonNull::new(g) {
        Some(g) => g,
        None => panic!("{who}: empty slot inside the queue"),
    }
}

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;
