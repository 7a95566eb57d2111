//! The per-P run queue of 2013: a ring guarded by the P's lock that doubles when it fills
//! (runqput/runqget/runqgrow), and runqsteal, which moves half of another P's ring into the
//! thief's while holding both locks, taken in address order.
//!
//! The ring is generic over its element so that the seed's queue tests and the loom model
//! can run it on plain integers, without a runtime. Head and tail are atomics, written only
//! under the lock, because the scheduler peeks at them without it (`runqhead == runqtail`),
//! as the seed does; every decision taken on such a peek is checked again under the lock or
//! is only a hint (whether to wake an M, whether to look again).

use schedcore::sync::{AtomicU32, Ordering};
use schedcore::LockKind;

#[cfg(not(loom))]
type RingLock<T> = schedcore::Lock<T>;
#[cfg(not(loom))]
type RingGuard<'a, T> = schedcore::LockGuard<'a, T>;
#[cfg(loom)]
type RingLock<T> = loom::sync::Mutex<T>;
#[cfg(loom)]
type RingGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

#[cfg(not(loom))]
fn lock<T>(l: &RingLock<T>) -> RingGuard<'_, T> {
    l.lock()
}
#[cfg(not(loom))]
fn ring_lock<T>(kind: LockKind, v: T) -> RingLock<T> {
    schedcore::Lock::with_kind(kind, v)
}
#[cfg(loom)]
fn ring_lock<T>(_kind: LockKind, v: T) -> RingLock<T> {
    loom::sync::Mutex::new(v)
}
#[cfg(loom)]
fn lock<T>(l: &RingLock<T>) -> RingGuard<'_, T> {
    l.lock().unwrap()
}

/// The slots of the ring. Its length is the seed's `runqsize`; one slot always stays free so
/// that `head == tail` means empty.
struct Slots<T>(Box<[Option<T>]>);

impl<T: Copy> Slots<T> {
    fn new(size: usize) -> Slots<T> {
        Slots(vec![None; size].into_boxed_slice())
    }
}

/// One P's queue of runnable goroutines (the seed's `runq`, `runqhead`, `runqtail`,
/// `runqsize` and the P's lock). `repr(C)`: the lock and the ring, then head and tail, in the
/// seed's order, so that the P that holds it knows which of its words share a line.
#[repr(C)]
pub struct Runq<T> {
    slots: RingLock<Slots<T>>,
    /// Index of the first element. Written under the lock only.
    head: AtomicU32,
    /// Index one past the last element. Written under the lock only.
    tail: AtomicU32,
}

/// What a put did, for the P's counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Put {
    /// How many times the ring doubled to make room.
    pub grew: u32,
    /// The queue's length after the put.
    pub len: u32,
}

/// The ring is full when advancing the tail would make it meet the head.
#[inline(always)]
fn full(h: usize, t: usize, s: usize) -> bool {
    t + 1 == h || (h == 0 && t == s - 1)
}

impl<T: Copy> Runq<T> {
    /// A queue of `size` slots (so `size - 1` elements before the first runqgrow). The
    /// runtime starts every P at 128 (procresize); the seed's tests start at 1.
    pub fn new(size: usize) -> Runq<T> {
        Runq::with_kind(size, LockKind::Spin)
    }

    /// A queue of `size` slots whose lock is of `kind` (the runtime's lock).
    pub fn with_kind(size: usize, kind: LockKind) -> Runq<T> {
        assert!(size >= 1, "runq size must be at least 1");
        Runq {
            slots: ring_lock(kind, Slots::new(size)),
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
        }
    }

    /// Whether the queue looks empty, without the lock (the seed's racy
    /// `p->runqhead == p->runqtail`).
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.head.load(Ordering::Relaxed) == self.tail.load(Ordering::Relaxed)
    }

    /// The queue's length, under the ring's lock (for schedtrace).
    pub fn len(&self) -> usize {
        let q = lock(&self.slots);
        let size = q.0.len();
        let (h, t) = (
            self.head.load(Ordering::Relaxed) as usize,
            self.tail.load(Ordering::Relaxed) as usize,
        );
        (t + size - h) % size
    }

    /// Port of runqput (seed 003): append at the tail, doubling the ring first when full.
    #[inline]
    pub fn runqput(&self, gp: T) -> Put {
        let mut q = lock(&self.slots);
        let mut grew = 0;
        loop {
            let h = self.head.load(Ordering::Relaxed) as usize;
            let mut t = self.tail.load(Ordering::Relaxed) as usize;
            let s = q.0.len();
            if full(h, t, s) {
                self.runqgrow(&mut q);
                grew += 1;
                continue;
            }
            q.0[t] = Some(gp);
            t += 1;
            if t == s {
                t = 0;
            }
            self.tail.store(t as u32, Ordering::Relaxed);
            let len = if t >= h { t - h } else { s - h + t };
            return Put {
                grew,
                len: len as u32,
            };
        }
    }

    /// Port of runqget (seed 003): take from the head; peeks before locking.
    #[inline]
    pub fn runqget(&self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let q = lock(&self.slots);
        let mut h = self.head.load(Ordering::Relaxed) as usize;
        let t = self.tail.load(Ordering::Relaxed) as usize;
        if t == h {
            return None;
        }
        let gp = q.0[h];
        h += 1;
        if h == q.0.len() {
            h = 0;
        }
        self.head.store(h as u32, Ordering::Relaxed);
        drop(q);
        Some(gp.expect("runq slot between head and tail is empty"))
    }

    /// Port of runqgrow (seed 003): copy the elements, in order, to the start of a ring twice
    /// as large. The lock is held.
    #[cold]
    fn runqgrow(&self, q: &mut RingGuard<'_, Slots<T>>) {
        let mut h = self.head.load(Ordering::Relaxed) as usize;
        let t = self.tail.load(Ordering::Relaxed) as usize;
        let s = q.0.len();
        let mut bigger = Slots::new(2 * s);
        let mut t2 = 0;
        while h != t {
            bigger.0[t2] = q.0[h];
            t2 += 1;
            h += 1;
            if h == s {
                h = 0;
            }
        }
        **q = bigger;
        self.head.store(0, Ordering::Relaxed);
        self.tail.store(t2 as u32, Ordering::Relaxed);
    }

    /// Port of runqsteal (seed 003): `self` is the thief's queue. Takes the victim's head to
    /// return it, then moves about half of what remains into `self` (stopping early if
    /// `self` fills: a steal never grows the thief's ring). Both locks are taken in address
    /// order so that two P's stealing from each other cannot deadlock. Returns the goroutine
    /// to run and how many more were moved into `self`.
    pub fn runqsteal(&self, victim: &Runq<T>) -> Option<(T, u32)> {
        debug_assert!(!std::ptr::eq(self, victim), "runqsteal from itself");
        if victim.is_empty() {
            return None;
        }
        let me_first = (self as *const Self as usize) < (victim as *const Self as usize);
        let early = if me_first {
            Some(lock(&self.slots))
        } else {
            None
        };
        let theirs = lock(&victim.slots);
        if victim.is_empty() {
            return None;
        }
        let mut mine = match early {
            Some(g) => g,
            None => lock(&self.slots),
        };
        // Both queues are locked and the victim is not empty.
        let h = self.head.load(Ordering::Relaxed) as usize;
        let mut t = self.tail.load(Ordering::Relaxed) as usize;
        let s = mine.0.len();
        let mut h2 = victim.head.load(Ordering::Relaxed) as usize;
        let t2 = victim.tail.load(Ordering::Relaxed) as usize;
        let s2 = theirs.0.len();
        let gp = theirs.0[h2];
        h2 += 1;
        if h2 == s2 {
            h2 = 0;
        }
        // Roughly half of what is left.
        let c = if t2 > h2 {
            (t2 - h2) / 2
        } else {
            (s2 - h2 + t2) / 2
        };
        let mut moved = 0;
        for _ in 0..c {
            if full(h, t, s) || t2 == h2 {
                break;
            }
            mine.0[t] = theirs.0[h2];
            h2 += 1;
            if h2 == s2 {
                h2 = 0;
            }
            t += 1;
            if t == s {
                t = 0;
            }
            moved += 1;
        }
        self.tail.store(t as u32, Ordering::Relaxed);
        victim.head.store(h2 as u32, Ordering::Relaxed);
        drop(theirs);
        drop(mine);
        Some((gp.expect("runq slot between head and tail is empty"), moved))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Port of testSchedLocalQueue (seed 003): FIFO for every length from 0 to 999, starting
    /// from a one-slot ring so that runqgrow runs again and again.
    #[test]
    fn fifo_any_length_from_size_one() {
        let q = Runq::<usize>::new(1);
        let mut grew = 0;
        for i in 0..1000 {
            assert_eq!(q.runqget(), None, "runq is not empty initially (iter {i})");
            for j in 0..i {
                grew += q.runqput(j).grew;
            }
            for j in 0..i {
                assert_eq!(q.runqget(), Some(j), "bad element at iter {i}/{j}");
            }
            assert_eq!(q.runqget(), None, "runq is not empty afterwards (iter {i})");
            assert!(q.is_empty());
        }
        // 1 -> 2 -> 4 -> ... -> 1024 slots.
        assert_eq!(grew, 10);
    }

    /// Port of testSchedLocalQueueSteal (seed 003): every element is seen exactly once, and
    /// the thief gets half (rounded either way).
    #[test]
    fn steal_half() {
        let victim = Runq::<usize>::new(1);
        let thief = Runq::<usize>::new(1000);
        for i in 0..1000 {
            let mut seen = vec![0u32; i];
            for j in 0..i {
                victim.runqput(j);
            }
            let mut s = 0;
            if let Some((gp, moved)) = thief.runqsteal(&victim) {
                s += 1;
                seen[gp] += 1;
                assert_eq!(moved as usize, (i - 1) / 2);
            }
            while let Some(gp) = thief.runqget() {
                s += 1;
                seen[gp] += 1;
            }
            while let Some(gp) = victim.runqget() {
                seen[gp] += 1;
            }
            for (j, n) in seen.iter().enumerate() {
                assert_eq!(*n, 1, "bad element {j}({n}) at iter {i}");
            }
            assert!(
                s == i / 2 || s == i / 2 + 1,
                "bad steal {s}, want {} or {}, iter {i}",
                i / 2,
                i / 2 + 1
            );
        }
    }

    /// Steals in both directions between the same two queues (so both lock orders run), and
    /// a steal into a nearly full ring stops when the ring is full instead of growing it.
    #[test]
    fn steal_both_directions_and_into_full_ring() {
        let a = Runq::<usize>::new(4);
        let b = Runq::<usize>::new(64);
        for j in 0..40 {
            b.runqput(j);
        }
        // `a` has 3 free places: the stolen head is returned, 3 more land in `a`.
        let (gp, moved) = a.runqsteal(&b).unwrap();
        assert_eq!((gp, moved), (0, 3));
        let (gp, moved) = b.runqsteal(&a).unwrap();
        assert_eq!((gp, moved), (1, 1));
        let mut all: Vec<usize> = vec![0, 1];
        while let Some(x) = a.runqget() {
            all.push(x);
        }
        while let Some(x) = b.runqget() {
            all.push(x);
        }
        all.sort_unstable();
        assert_eq!(all, (0..40).collect::<Vec<_>>());
        assert_eq!(a.runqsteal(&b), None);
    }

    #[test]
    fn put_reports_length_and_growth() {
        let q = Runq::<u8>::new(2);
        assert_eq!(q.runqput(1), Put { grew: 0, len: 1 });
        assert_eq!(q.runqput(2), Put { grew: 1, len: 2 });
        assert_eq!(q.runqget(), Some(1));
        assert_eq!(q.runqput(3), Put { grew: 0, len: 2 });
        assert_eq!(q.runqput(4), Put { grew: 0, len: 3 });
        assert_eq!(q.runqput(5), Put { grew: 1, len: 4 });
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    fn drain(q: &Runq<u32>, into: &mut Vec<u32>) {
        while let Some(x) = q.runqget() {
            into.push(x);
        }
    }

    /// An owner puts (growing its ring from one slot), drains its queue and refills it while a
    /// thief steals from it and drains what it stole: every goroutine is run exactly once.
    #[test]
    fn loom_runq_owner_and_thief() {
        loom::model(|| {
            let owner = Arc::new(Runq::<u32>::new(1));
            let thief = Arc::new(Runq::<u32>::new(2));
            let (o, t) = (owner.clone(), thief.clone());
            let th = loom::thread::spawn(move || {
                let mut got = Vec::new();
                if let Some((gp, _)) = t.runqsteal(&o) {
                    got.push(gp);
                }
                drain(&t, &mut got);
                got
            });
            let mut got = Vec::new();
            owner.runqput(1);
            owner.runqput(2);
            // Empty the queue under the thief's feet, then refill it.
            for _ in 0..2 {
                if let Some(gp) = owner.runqget() {
                    got.push(gp);
                }
            }
            owner.runqput(3);
            let mut all = th.join().unwrap();
            drain(&owner, &mut got);
            drain(&thief, &mut got);
            all.extend(got);
            all.sort_unstable();
            assert_eq!(all, vec![1, 2, 3], "lost or duplicated goroutines");
        });
    }

    /// Two P's steal from each other at once (opposite lock orders): no deadlock, nothing
    /// lost, nothing taken twice.
    #[test]
    fn loom_runq_mutual_steal() {
        loom::model(|| {
            let a = Arc::new(Runq::<u32>::new(4));
            let b = Arc::new(Runq::<u32>::new(4));
            a.runqput(1);
            a.runqput(2);
            b.runqput(3);
            let (a2, b2) = (a.clone(), b.clone());
            let th = loom::thread::spawn(move || b2.runqsteal(&a2).map(|(gp, _)| gp));
            let mine = a.runqsteal(&b).map(|(gp, _)| gp);
            let theirs = th.join().unwrap();
            let mut all: Vec<u32> = mine.into_iter().chain(theirs).collect();
            drain(&a, &mut all);
            drain(&b, &mut all);
            all.sort_unstable();
            assert_eq!(all, vec![1, 2, 3], "lost or duplicated goroutines");
        });
    }
}
