//! The global run queue (the seed's `sched.runqhead/runqtail/runqsize`) and the batch rule of
//! globrunqget. Every method needs the sched lock: the scheduler keeps a `GlobRunq` inside the
//! state that lock guards.

use std::collections::VecDeque;
use std::ptr::NonNull;

use schedcore::sync::Mutex;

use crate::runq::{Overflow, RunQueue, RUNQ_HALF};

/// The global queue of runnable G's, oldest first. The seed links G's through `schedlink`; a
/// ring buffer of pointers does the same job without a link field in the G.
pub struct GlobRunq<T> {
    q: VecDeque<NonNull<T>>,
}

// SAFETY: a GlobRunq stores pointers and never dereferences them, like `AtomicPtr<T>`, which
// std makes Send for every T. Using a G that came out of the queue is the scheduler's
// responsibility (it owns the G's and their hand-over between threads).
unsafe impl<T> Send for GlobRunq<T> {}

impl<T> Default for GlobRunq<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for GlobRunq<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobRunq")
            .field("runqsize", &self.q.len())
            .finish()
    }
}

impl<T> GlobRunq<T> {
    /// An empty global queue.
    pub fn new() -> GlobRunq<T> {
        GlobRunq { q: VecDeque::new() }
    }

    /// The seed's `sched.runqsize`.
    pub fn len(&self) -> usize {
        self.q.len()
    }

    /// True when no G waits in the global queue.
    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    /// Port of globrunqput (seed 001).
    ///
    /// Appends one G (gopreempt_m, exitsyscall0 and the like send G's here).
    pub fn globrunqput(&mut self, gp: NonNull<T>) {
        self.q.push_back(gp);
    }

    /// Port of globrunqputbatch (seed 001).
    ///
    /// Appends a batch in order (runqputslow's half ring plus its new G).
    pub fn globrunqputbatch<I: IntoIterator<Item = NonNull<T>>>(&mut self, batch: I) {
        self.q.extend(batch);
    }

    /// procresize's push onto the head of the global queue (seed 001, inline there): the G's
    /// popped from the tails of the local rings go in front, newest first, so that the global
    /// queue ends up holding every ring's G's in their FIFO order.
    pub fn globrunqputhead(&mut self, gp: NonNull<T>) {
        self.q.push_front(gp);
    }

    /// Takes the oldest G (procresize refills the local rings one G at a time).
    pub fn globrunqpop(&mut self) -> Option<NonNull<T>> {
        self.q.pop_front()
    }

    /// Port of globrunqget (seed 001).
    ///
    /// Takes a batch sized by [`globrunq_batch`]: returns its first G to run at once and puts
    /// the rest on `p`, the caller's own ring (so the caller must be `p`'s owner). `max` of 0
    /// means no cap beyond the others. The caller calls it with room in `p` for half a ring (an
    /// empty ring in findrunnable, `max` 1 in schedule's 61st-tick check), so the puts never
    /// overflow; an overflow here would have to take the sched lock the caller already holds,
    /// so it panics instead.
    pub fn globrunqget(
        &mut self,
        p: &RunQueue<T>,
        gomaxprocs: u32,
        max: u32,
    ) -> Option<NonNull<T>> {
        let n = globrunq_batch(self.q.len(), gomaxprocs, max);
        if n == 0 {
            return None;
        }
        let gp = self.q.pop_front();
        for g in self.q.drain(..n - 1) {
            p.runqput(g, &NoOverflow);
        }
        gp
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
    fn globrunqputbatch<I: ExactSizeIterator<Item = NonNull<T>>>(&self, _batch: I) {
        panic!("globrunqget: local runq overflow (the caller's ring had no room for the batch)");
    }
}

/// A global queue behind a mutex is an overflow target on its own: what the tests and the loom
/// models use in place of the scheduler's sched lock.
impl<T> Overflow<T> for Mutex<GlobRunq<T>> {
    fn globrunqputbatch<I: ExactSizeIterator<Item = NonNull<T>>>(&self, batch: I) {
        let mut q = self.lock().expect("global run queue lock poisoned");
        q.globrunqputbatch(batch);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::runq::RUNQ_SIZE;

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
        let items = [0u8; 300];
        let ptr = |i: usize| NonNull::from(&items[i]);
        let mut g = GlobRunq::new();
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
}
