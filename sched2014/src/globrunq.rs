//! The global run queue (the seed's `sched.runqhead/runqtail/runqsize`): a list of runnable G's
//! linked through their own `schedlink`, and the batch rule of globrunqget. Every method that
//! changes it needs the sched lock; the scheduler keeps the `GlobRunq` in `Sched`, at the
//! seed's place, and peeks at its length without the lock.
//!
//! The list is intrusive, as in the seed: putting a G, a batch or a whole chain is a few pointer
//! stores and never allocates, so nothing under the sched lock waits on the allocator. The
//! price is that the queue follows the links of the G's it holds, so every pointer given to it
//! must point to a live object for as long as it is queued (for G's that is the promise of
//! [`schedcore::ptr::Ptr`]: they live until teardown), and a G may be on one schedlink list at
//! a time. A G is either runnable (on this queue, or on its way onto it through runqputslow's
//! chain) or dead (on a gfree list), never both, so sharing the one link with the gfree lists
//! is safe, as it was in Go.

use std::ptr::NonNull;

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use schedcore::ptr::{Link, Ptr};
use schedcore::sync::Mutex;

use crate::runq::{Overflow, RunQueue, RUNQ_HALF};

/// What the global queue links its elements through: Go's `g->schedlink`. Implemented by `G`
/// and, in the tests and loom models, by a stand-in node.
pub trait SchedLink: Sized {
    /// The link to the next element of whatever list this one is on.
    fn schedlink(&self) -> &Link<Self>;
}

/// Sets `gp`'s schedlink (the seed's `gp->schedlink = next`). The caller owns `gp`'s link: it
/// holds the sched lock, or has just claimed `gp` off its ring (runqputslow).
#[inline(always)]
pub fn schedlink_set<T: SchedLink>(gp: NonNull<T>, next: Option<NonNull<T>>) {
    Ptr::from_non_null(gp)
        .schedlink()
        .set(next.map(Ptr::from_non_null));
}

/// The global queue of runnable G's, oldest first: `runqhead` is the next to run, `runqtail`
/// the last put, and each G's schedlink points to the one after it (the tail's to nothing).
///
/// `repr(C)` and laid out as the seed's three words (runqhead, runqtail, runqsize), so that
/// the scheduler can keep it inside `Sched` at the seed's place, on the cache line of the lock
/// word and the idle lists. There it is not behind the lock's guard, so its words are relaxed
/// atomics and its methods take `&self`: every method but [`len`](Self::len) and
/// [`is_empty`](Self::is_empty) must be called with the lock that guards the queue held (the
/// sched lock, or the mutex of the tests and loom models), which makes its caller the only
/// writer. Relaxed loads and stores are the plain moves of the seed's plain fields; `len` is
/// the seed's unlocked peek at `runqsize`.
#[repr(C)]
pub struct GlobRunq<T> {
    runqhead: Link<T>,
    runqtail: Link<T>,
    runqsize: AtomicU32,
}

impl<T> Default for GlobRunq<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for GlobRunq<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobRunq")
            .field("runqhead", &self.runqhead.get())
            .field("runqtail", &self.runqtail.get())
            .field("runqsize", &self.len())
            .finish()
    }
}

impl<T> GlobRunq<T> {
    /// An empty global queue.
    pub const fn new() -> GlobRunq<T> {
        GlobRunq {
            runqhead: Link::none(),
            runqtail: Link::none(),
            runqsize: AtomicU32::new(0),
        }
    }

    /// The seed's `sched.runqsize` (without the lock: possibly stale).
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.runqsize.load(Relaxed) as usize
    }

    /// True when no G waits in the global queue (without the lock: possibly stale).
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where runqhead, runqtail and runqsize lie in the queue, in bytes (for layout checks).
    #[cfg(test)]
    pub(crate) fn offsets() -> [usize; 3] {
        use std::mem::offset_of;
        [
            offset_of!(Self, runqhead),
            offset_of!(Self, runqtail),
            offset_of!(Self, runqsize),
        ]
    }

    /// `runqsize = n` (lock held).
    #[inline(always)]
    fn set_len(&self, n: usize) {
        self.runqsize.store(n as u32, Relaxed);
    }
}

impl<T: SchedLink> GlobRunq<T> {
    /// Port of globrunqput (seed 001).
    ///
    /// Appends one G (gopreempt_m, gosched_m and exitsyscall0 send G's here). Lock held.
    pub fn globrunqput(&self, gp: NonNull<T>) {
        let gp = Ptr::from_non_null(gp);
        gp.schedlink().set(None);
        match self.runqtail.get() {
            Some(t) => t.schedlink().set(Some(gp)),
            None => self.runqhead.set(Some(gp)),
        }
        self.runqtail.set(Some(gp));
        self.set_len(self.len() + 1);
    }

    /// Port of globrunqputbatch (seed 001).
    ///
    /// Appends the chain of `n` G's that starts at `ghead` and, following schedlink, ends at
    /// `gtail` (runqputslow's half ring plus its new G, linked before the sched lock was
    /// taken). Only the tail's link is written here: the chain is spliced on whole. Lock held.
    pub fn globrunqputbatch(&self, ghead: NonNull<T>, gtail: NonNull<T>, n: usize) {
        let (ghead, gtail) = (Ptr::from_non_null(ghead), Ptr::from_non_null(gtail));
        gtail.schedlink().set(None);
        match self.runqtail.get() {
            Some(t) => t.schedlink().set(Some(ghead)),
            None => self.runqhead.set(Some(ghead)),
        }
        self.runqtail.set(Some(gtail));
        self.set_len(self.len() + n);
    }

    /// procresize's push onto the head of the global queue (seed 001, inline there): the G's
    /// popped from the tails of the local rings go in front, newest first, so that the global
    /// queue ends up holding every ring's G's in their FIFO order. Lock held.
    pub fn globrunqputhead(&self, gp: NonNull<T>) {
        let gp = Ptr::from_non_null(gp);
        gp.schedlink().set(self.runqhead.get());
        self.runqhead.set(Some(gp));
        if !self.runqtail.is_some() {
            self.runqtail.set(Some(gp));
        }
        self.set_len(self.len() + 1);
    }

    /// Takes the oldest G (procresize's inline pop when it refills the local rings one G at a
    /// time). As in the seed, the G keeps its now stale schedlink: whichever list takes it
    /// next writes the link first. Lock held.
    pub fn globrunqpop(&self) -> Option<NonNull<T>> {
        let gp = self.runqhead.get()?;
        let next = gp.schedlink().get();
        self.runqhead.set(next);
        if next.is_none() {
            self.runqtail.set(None);
        }
        self.set_len(self.len() - 1);
        Some(gp.as_non_null())
    }

    /// Port of globrunqget (seed 001).
    ///
    /// Takes a batch sized by [`globrunq_batch`] off the head: returns its first G to run at
    /// once and puts the rest on `p`, the caller's own ring (so the caller must be `p`'s
    /// owner). `max` of 0 means no cap beyond the others. The caller calls it with room in `p`
    /// for half a ring (an empty ring in findrunnable, `max` 1 in schedule's 61st-tick check),
    /// so the puts never overflow; an overflow here would have to take the sched lock the
    /// caller already holds, so it panics instead. Lock held.
    pub fn globrunqget(&self, p: &RunQueue<T>, gomaxprocs: u32, max: u32) -> Option<NonNull<T>> {
        let size = self.len();
        let n = globrunq_batch(size, gomaxprocs, max);
        if n == 0 {
            return None;
        }
        self.set_len(size - n);
        if size == n {
            self.runqtail.set(None);
        }
        let gp = self
            .runqhead
            .get()
            .expect("globrunqget: runqhead is nil with runqsize != 0");
        let mut head = gp.schedlink().get();
        for _ in 1..n {
            // Step past gp1 before it goes on the ring: from there a thief may take it, run it
            // and, once it is dead, relink it onto a gfree list without the sched lock.
            let gp1 = head.expect("globrunqget: list shorter than runqsize");
            head = gp1.schedlink().get();
            p.runqput(gp1.as_non_null(), &NoOverflow);
        }
        self.runqhead.set(head);
        // Taking the last G leaves head at the old tail's link, which every put sets to nil.
        debug_assert!(size != n || head.is_none());
        Some(gp.as_non_null())
    }
}

/// How many G's globrunqget takes from a global queue of `runqsize`: a fair share
/// (`runqsize / gomaxprocs + 1`), no more than there are, no more than `max` when `max` is
/// positive, and no more than half a local ring, so that the batch always fits in a ring that
/// was empty and the rest stays for other P's.
pub fn globrunq_batch(runqsize: usize, gomaxprocs: u32, max: u32) -> usize {
    if runqsize == 0 {
        return 0;
    }
    let mut n = runqsize / gomaxprocs.max(1) as usize + 1;
    n = n.min(runqsize);
    if max > 0 {
        n = n.min(max as usize);
    }
    n.min(RUNQ_HALF)
}

/// globrunqget's puts never overflow (see there); this makes a broken caller loud.
struct NoOverflow;

impl<T> Overflow<T> for NoOverflow {
    fn globrunqputbatch(&self, _ghead: NonNull<T>, _gtail: NonNull<T>, _n: usize) {
        panic!("globrunqget: local runq overflow (the caller's ring had no room for the batch)");
    }
}

/// A global queue behind a mutex is an overflow target on its own: what the tests and the loom
/// models use in place of the scheduler's sched lock.
impl<T: SchedLink> Overflow<T> for Mutex<GlobRunq<T>> {
    fn globrunqputbatch(&self, ghead: NonNull<T>, gtail: NonNull<T>, n: usize) {
        let q = self.lock().expect("global run queue lock poisoned");
        q.globrunqputbatch(ghead, gtail, n);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::runq::RUNQ_SIZE;
    use crate::testutil::Items;

    #[test]
    fn batch_rule() {
        assert_eq!(globrunq_batch(0, 4, 0), 0);
        assert_eq!(globrunq_batch(1, 4, 0), 1);
        // A fair share plus one, capped by what there is.
        assert_eq!(globrunq_batch(10, 4, 0), 3);
        assert_eq!(globrunq_batch(10, 1, 0), 10);
        assert_eq!(globrunq_batch(3, 1, 0), 3);
        // The max argument (schedule's 61st tick passes 1).
        assert_eq!(globrunq_batch(10, 1, 1), 1);
        assert_eq!(globrunq_batch(10, 1, 4), 4);
        // Never more than half a local ring.
        assert_eq!(globrunq_batch(10 * RUNQ_SIZE, 1, 0), RUNQ_HALF);
        assert_eq!(globrunq_batch(10 * RUNQ_SIZE, 2, 1000), RUNQ_HALF);
    }

    #[test]
    fn globrunqget_moves_batch_in_order() {
        let items = Items::new(300);
        let ptr = |i: usize| items.ptr(i);
        let g = GlobRunq::new();
        for i in 0..300 {
            g.globrunqput(ptr(i));
        }
        let p = RunQueue::new();
        // gomaxprocs 1: half a ring at most.
        assert_eq!(g.globrunqget(&p, 1, 0), Some(ptr(0)));
        assert_eq!(p.len(), RUNQ_HALF - 1);
        assert_eq!(g.len(), 300 - RUNQ_HALF);
        for i in 1..RUNQ_HALF {
            assert_eq!(p.runqget(), Some(ptr(i)));
        }
        assert_eq!(p.runqget(), None);
        // max 1: one G, nothing on the ring.
        assert_eq!(g.globrunqget(&p, 1, 1), Some(ptr(RUNQ_HALF)));
        assert!(p.is_empty());
        let mut rest = 300 - RUNQ_HALF - 1;
        while let Some(gp) = g.globrunqget(&p, 3, 0) {
            rest -= 1;
            let _ = gp;
            while p.runqget().is_some() {
                rest -= 1;
            }
        }
        assert_eq!(rest, 0);
        assert!(g.is_empty());
    }

    /// Links `ids` into a chain through schedlink, as runqputslow does, and appends it.
    fn putbatch(g: &GlobRunq<crate::testutil::Node>, items: &Items, ids: &[usize]) {
        for w in ids.windows(2) {
            schedlink_set(items.ptr(w[0]), Some(items.ptr(w[1])));
        }
        let (head, tail) = (ids[0], ids[ids.len() - 1]);
        g.globrunqputbatch(items.ptr(head), items.ptr(tail), ids.len());
    }

    /// Takes everything with globrunqget (each batch: its first G, then what went on the ring).
    fn take_all(g: &GlobRunq<crate::testutil::Node>, items: &Items, max: u32) -> Vec<usize> {
        let p = RunQueue::new();
        let mut got = Vec::new();
        while let Some(gp) = g.globrunqget(&p, 2, max) {
            got.push(items.id(gp));
            while let Some(gp) = p.runqget() {
                got.push(items.id(gp));
            }
        }
        got
    }

    /// Batches spliced on whole, between single puts and onto an empty queue, come out in the
    /// order they went in, whatever the batch sizes on the way out; the queue is reusable once
    /// globrunqget has emptied it (its tail reset).
    #[test]
    fn batches_keep_fifo_across_chains() {
        let n = 3 * RUNQ_SIZE;
        let items = Items::new(n);
        for max in [0, 1, 3, RUNQ_HALF as u32 + 1] {
            let g = GlobRunq::new();
            // A batch onto the empty queue, one G, a batch of one, a full spill, one G.
            let half = RUNQ_HALF + 1;
            putbatch(&g, &items, &(0..half).collect::<Vec<_>>());
            g.globrunqput(items.ptr(half));
            putbatch(&g, &items, &[half + 1]);
            putbatch(&g, &items, &(half + 2..2 * half + 2).collect::<Vec<_>>());
            g.globrunqput(items.ptr(2 * half + 2));
            let total = 2 * half + 3;
            assert_eq!(g.len(), total);
            assert_eq!(take_all(&g, &items, max), (0..total).collect::<Vec<_>>());
            assert!(g.is_empty());
            // Emptied by globrunqget: a new batch lands at the head, not after a stale tail.
            putbatch(&g, &items, &[total, total + 1, total + 2]);
            g.globrunqput(items.ptr(total + 3));
            assert_eq!(g.globrunqpop(), Some(items.ptr(total)));
            assert_eq!(
                take_all(&g, &items, max),
                (total + 1..total + 4).collect::<Vec<_>>()
            );
            assert_eq!(g.globrunqpop(), None);
        }
    }

    /// procresize's collection: one G per ring per round, popped from each ring's tail and
    /// pushed onto the head of the global queue. Each ring's G's come out in their FIFO order,
    /// ahead of the G's that were already queued.
    #[test]
    fn procresize_head_push_order() {
        // Ring 0 holds 0..4, ring 1 holds 4..6, ring 2 is empty, ring 3 holds 6; the global
        // queue already holds 7 and 8.
        let items = Items::new(9);
        let rings: [RunQueue<crate::testutil::Node>; 4] = std::array::from_fn(|_| RunQueue::new());
        for (r, ids) in [(0, 0..4), (1, 4..6), (3, 6..7)] {
            for j in ids {
                rings[r].runqput(items.ptr(j), &NoOverflow);
            }
        }
        let g = GlobRunq::new();
        g.globrunqput(items.ptr(7));
        putbatch(&g, &items, &[8]);
        let mut empty = false;
        while !empty {
            empty = true;
            for p in &rings {
                if let Some(gp) = p.runqpoptail_stw() {
                    empty = false;
                    g.globrunqputhead(gp);
                }
            }
        }
        assert!(rings.iter().all(RunQueue::is_empty));
        assert_eq!(g.len(), 9);
        // Round 1 pushes 3, 5, 6; round 2: 2, 4; round 3: 1; round 4: 0. Each push lands in
        // front of the last.
        let mut got = Vec::new();
        while let Some(gp) = g.globrunqpop() {
            got.push(items.id(gp));
        }
        assert_eq!(got, [0, 1, 4, 2, 6, 5, 3, 7, 8]);
        assert!(g.is_empty());
        // Onto an empty queue the first push is the tail too: a later put goes after it.
        g.globrunqputhead(items.ptr(1));
        g.globrunqputhead(items.ptr(0));
        g.globrunqput(items.ptr(2));
        assert_eq!(take_all(&g, &items, 0), [0, 1, 2]);
    }
}
