//! Tests of the ring alone: the seed's testSchedLocalQueue and testSchedLocalQueueSteal,
//! overflow into the global queue, counter wrap-around, and a threaded stress test.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU32 as StdAtomicU32, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::globrunq::GlobRunq;
use crate::testutil::{Items, Node};

/// An overflow target for tests that must not overflow.
struct MustNotOverflow;

impl<T> Overflow<T> for MustNotOverflow {
    fn globrunqputbatch(&self, _ghead: NonNull<T>, _gtail: NonNull<T>, _n: usize) {
        panic!("unexpected runqputslow");
    }
}

/// An overflow target that records each batch, read by following the chain's links.
#[derive(Default)]
struct Recorder(Mutex<Vec<Vec<*mut Node>>>);

impl Overflow<Node> for Recorder {
    fn globrunqputbatch(&self, ghead: NonNull<Node>, gtail: NonNull<Node>, n: usize) {
        let mut v = vec![ghead.as_ptr()];
        let mut g = schedcore::ptr::Ptr::from_non_null(ghead);
        for _ in 1..n {
            g = g
                .schedlink()
                .get()
                .expect("chain shorter than its batch length");
            v.push(g.as_ptr());
        }
        assert_eq!(g.as_non_null(), gtail, "chain does not end at its tail");
        self.0.lock().unwrap().push(v);
    }
}

/// testSchedLocalQueue: for every length up to a full ring, put that many G's and get them
/// back in order, with the ring empty before and after.
#[test]
fn sched_local_queue() {
    let items = Items::new(RUNQ_SIZE);
    let p = RunQueue::new();
    for i in 0..=RUNQ_SIZE {
        assert_eq!(p.runqget(), None, "runq is not empty initially (iter {i})");
        for j in 0..i {
            p.runqput(items.ptr(j), &MustNotOverflow);
        }
        assert_eq!(p.len(), i);
        for j in 0..i {
            assert_eq!(
                p.runqget(),
                Some(items.ptr(j)),
                "bad element at iter {i}/{j}"
            );
        }
        assert_eq!(p.runqget(), None, "runq is not empty afterwards (iter {i})");
        assert!(p.is_empty());
    }
}

/// testSchedLocalQueueSteal: for every length up to a full ring, put that many G's on p1,
/// steal from p1 into p2, then drain both: each G is seen exactly once and the thief got half
/// (i/2 or i/2 + 1).
#[test]
fn sched_local_queue_steal() {
    let items = Items::new(RUNQ_SIZE);
    let p1 = RunQueue::new();
    let p2 = RunQueue::new();
    for i in 0..=RUNQ_SIZE {
        let mut sig = vec![0u32; i];
        for j in 0..i {
            p1.runqput(items.ptr(j), &MustNotOverflow);
        }
        let mut s = 0;
        if let Some(gp) = p2.runqsteal(&p1) {
            s += 1;
            sig[items.id(gp)] += 1;
        }
        while let Some(gp) = p2.runqget() {
            s += 1;
            sig[items.id(gp)] += 1;
        }
        while let Some(gp) = p1.runqget() {
            sig[items.id(gp)] += 1;
        }
        for (j, &n) in sig.iter().enumerate() {
            assert_eq!(n, 1, "bad element {j}({n}) at iter {i}");
        }
        assert!(
            s == i / 2 || s == i / 2 + 1,
            "bad steal {s}, want {} or {}, iter {i}",
            i / 2,
            i / 2 + 1
        );
    }
}

/// runqgrab takes n - n/2, the oldest ones, in order.
#[test]
fn grab_takes_older_half() {
    let items = Items::new(RUNQ_SIZE);
    let p = RunQueue::new();
    for n in 0..=RUNQ_SIZE {
        for j in 0..n {
            p.runqput(items.ptr(j), &MustNotOverflow);
        }
        let mut batch: GrabBatch<Node> = [std::ptr::null_mut(); RUNQ_HALF];
        let got = p.runqgrab(&mut batch);
        assert_eq!(got, n - n / 2, "grab from {n}");
        for (j, &g) in batch[..got].iter().enumerate() {
            assert_eq!(g, items.ptr(j).as_ptr());
        }
        for j in got..n {
            assert_eq!(p.runqget(), Some(items.ptr(j)));
        }
        assert!(p.is_empty());
    }
}

/// A full ring plus one: runqputslow moves the older half plus the new G, in order, to the
/// global queue in one batch; the newer half stays.
#[test]
fn overflow_moves_half_plus_one() {
    let items = Items::new(RUNQ_SIZE + 1);
    let p = RunQueue::new();
    let rec = Recorder::default();
    for j in 0..RUNQ_SIZE {
        p.runqput(items.ptr(j), &rec);
    }
    assert!(rec.0.lock().unwrap().is_empty());
    assert_eq!(p.len(), RUNQ_SIZE);
    p.runqput(items.ptr(RUNQ_SIZE), &rec);
    let batches = rec.0.lock().unwrap().clone();
    assert_eq!(batches.len(), 1);
    let want: Vec<*mut Node> = (0..RUNQ_HALF)
        .chain([RUNQ_SIZE])
        .map(|j| items.ptr(j).as_ptr())
        .collect();
    assert_eq!(batches[0], want);
    assert_eq!(p.len(), RUNQ_HALF);
    for j in RUNQ_HALF..RUNQ_SIZE {
        assert_eq!(p.runqget(), Some(items.ptr(j)));
    }
    assert_eq!(p.runqget(), None);
}

/// Many overflows into a real global queue: nothing lost, nothing doubled.
#[test]
fn overflow_loses_nothing() {
    let n = 10 * RUNQ_SIZE + 7;
    let items = Items::new(n);
    let p = RunQueue::new();
    let global = Mutex::new(GlobRunq::new());
    for j in 0..n {
        p.runqput(items.ptr(j), &global);
    }
    let mut seen = vec![0u32; n];
    while let Some(g) = p.runqget() {
        seen[items.id(g)] += 1;
    }
    let g = global.lock().unwrap();
    assert!(g.len() >= 9 * (RUNQ_HALF + 1));
    while let Some(gp) = g.globrunqget(&p, 1, 0) {
        seen[items.id(gp)] += 1;
        while let Some(gp) = p.runqget() {
            seen[items.id(gp)] += 1;
        }
    }
    assert!(seen.iter().all(|&s| s == 1), "lost or doubled: {seen:?}");
}

/// Head and tail are free-running u32's: put, get and steal across the wrap.
#[test]
fn counters_wrap() {
    let items = Items::new(RUNQ_SIZE + 1);
    let p1 = RunQueue::new();
    let p2 = RunQueue::new();
    for start in [u32::MAX - 3, u32::MAX - RUNQ_SIZE as u32 + 1, u32::MAX] {
        for q in [&p1, &p2] {
            q.head.store(start, Relaxed);
            q.tail.store(start, Relaxed);
        }
        let global = Mutex::new(GlobRunq::new());
        for j in 0..=RUNQ_SIZE {
            p1.runqput(items.ptr(j), &global);
        }
        assert_eq!(global.lock().unwrap().len(), RUNQ_HALF + 1);
        assert_eq!(p1.len(), RUNQ_HALF);
        let mut seen = vec![0u32; RUNQ_SIZE + 1];
        let first = p2.runqsteal(&p1).expect("steal from a non-empty ring");
        seen[items.id(first)] += 1;
        for q in [&p1, &p2] {
            while let Some(g) = q.runqget() {
                seen[items.id(g)] += 1;
            }
        }
        let g = global.lock().unwrap();
        while let Some(gp) = g.globrunqget(&p1, 1, 0) {
            seen[items.id(gp)] += 1;
            while let Some(gp) = p1.runqget() {
                seen[items.id(gp)] += 1;
            }
        }
        assert!(seen.iter().all(|&s| s == 1), "start {start}: {seen:?}");
    }
}

/// Steal from a thief that stole: p1 -> p2 -> p3, everything seen once.
#[test]
fn chained_steal() {
    let items = Items::new(RUNQ_SIZE);
    let (p1, p2, p3) = (RunQueue::new(), RunQueue::new(), RunQueue::new());
    for j in 0..RUNQ_SIZE {
        p1.runqput(items.ptr(j), &MustNotOverflow);
    }
    let mut seen = vec![0u32; RUNQ_SIZE];
    let a = p2.runqsteal(&p1).unwrap();
    let b = p3.runqsteal(&p2).unwrap();
    assert_eq!(p2.len() + p3.len() + 2, RUNQ_HALF);
    for g in [a, b] {
        seen[items.id(g)] += 1;
    }
    for q in [&p1, &p2, &p3] {
        while let Some(g) = q.runqget() {
            seen[items.id(g)] += 1;
        }
    }
    assert!(seen.iter().all(|&s| s == 1));
}

/// A thief with too little room in its own ring is a scheduler bug: loud, as in the seed.
#[test]
#[should_panic(expected = "runqsteal: runq overflow")]
fn steal_into_full_ring_panics() {
    let items = Items::new(RUNQ_SIZE);
    let (p1, p2) = (RunQueue::new(), RunQueue::new());
    for j in 0..RUNQ_SIZE {
        p1.runqput(items.ptr(j), &MustNotOverflow);
        p2.runqput(items.ptr(j), &MustNotOverflow);
    }
    let _ = p2.runqsteal(&p1);
}

/// The stress test's shared state: three rings, the global queue and the tally.
struct Stress {
    items: Items,
    rings: [RunQueue<Node>; 3],
    global: Mutex<GlobRunq<Node>>,
    seen: Vec<StdAtomicU32>,
    taken: AtomicUsize,
    put_done: AtomicBool,
    /// G's taken from a run queue by a steal (the one returned plus those moved to the
    /// thief's ring), and from the global queue.
    stolen: AtomicUsize,
    from_global: AtomicUsize,
    n: usize,
    seed: u64,
    deadline: Instant,
}

impl Stress {
    fn take(&self, g: NonNull<Node>) {
        let id = self.items.id(g);
        let before = self.seen[id].fetch_add(1, SeqCst);
        assert_eq!(before, 0, "item {id} taken twice");
        self.taken.fetch_add(1, SeqCst);
        // "Run" the G for a moment so that queues build up and thieves find work.
        for _ in 0..(id % 64) {
            std::hint::spin_loop();
        }
    }

    /// Turns a hang (a lost item) into a failure that names the seed.
    fn check_deadline(&self) {
        assert!(
            Instant::now() < self.deadline,
            "stress: not done after 60 s (seed {}): taken {} of {}, rings {:?}, global {}",
            self.seed,
            self.taken.load(SeqCst),
            self.n,
            self.rings.each_ref().map(|r| r.len()),
            self.global.lock().unwrap().len()
        );
    }

    fn done(&self) -> bool {
        self.taken.load(SeqCst) == self.n
    }

    /// A P with an empty ring looks at the global queue, as findrunnable does.
    fn take_global(&self, me: usize, max: u32) -> bool {
        let g = self.global.lock().unwrap();
        let had = self.rings[me].len();
        match g.globrunqget(&self.rings[me], 3, max) {
            Some(gp) => {
                let got = 1 + self.rings[me].len().saturating_sub(had);
                drop(g);
                self.from_global.fetch_add(got, SeqCst);
                self.take(gp);
                true
            }
            None => false,
        }
    }
}

/// The owner (P0) puts every item, sometimes getting one and, every 61st tick, taking one from
/// the global queue; two thieves (P1, P2) drain their own rings, steal from a random other P
/// and fall back to the global queue. Every item must be taken exactly once, in bounded time.
#[test]
fn stress_owner_and_two_thieves() {
    let seed: u64 = std::env::var("SCHED2014_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("stress_owner_and_two_thieves: SCHED2014_SEED={seed}");
    let n = 500_000;
    let st = Arc::new(Stress {
        items: Items::new(n),
        rings: [RunQueue::new(), RunQueue::new(), RunQueue::new()],
        global: Mutex::new(GlobRunq::new()),
        seen: (0..n).map(|_| StdAtomicU32::new(0)).collect(),
        taken: AtomicUsize::new(0),
        put_done: AtomicBool::new(false),
        stolen: AtomicUsize::new(0),
        from_global: AtomicUsize::new(0),
        n,
        seed,
        deadline: Instant::now() + Duration::from_secs(60),
    });

    let thieves: Vec<_> = (1..=2)
        .map(|me| {
            let st = Arc::clone(&st);
            std::thread::spawn(move || {
                let mut rng = SmallRng::seed_from_u64(seed.wrapping_add(me as u64));
                let mut steals = 0u64;
                let mut spins = 0u64;
                while !st.done() {
                    while let Some(g) = st.rings[me].runqget() {
                        st.take(g);
                    }
                    let victim = if rng.gen_bool(0.75) { 0 } else { 3 - me };
                    if let Some(g) = st.rings[me].runqsteal(&st.rings[victim]) {
                        steals += 1;
                        st.stolen.fetch_add(1 + st.rings[me].len(), SeqCst);
                        st.take(g);
                    } else if !st.take_global(me, 0) {
                        spins += 1;
                        if spins % 1024 == 0 {
                            st.check_deadline();
                            std::thread::yield_now();
                        }
                    }
                }
                steals
            })
        })
        .collect();

    let t0 = Instant::now();
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut tick = 0u64;
    let mut next = 0;
    while !st.done() {
        if next < n {
            let burst = rng.gen_range(1..=RUNQ_SIZE).min(n - next);
            for _ in 0..burst {
                st.rings[0].runqput(st.items.ptr(next), &st.global);
                next += 1;
            }
            if next == n {
                st.put_done.store(true, SeqCst);
            }
        }
        let before = st.taken.load(SeqCst);
        let gets = rng.gen_range(0..RUNQ_SIZE / 2);
        for _ in 0..gets {
            tick += 1;
            // schedule's fairness check, then the local ring, then the global queue.
            if tick % 61 == 0 && st.take_global(0, 1) {
                continue;
            }
            match st.rings[0].runqget() {
                Some(g) => st.take(g),
                None => {
                    if !st.take_global(0, 0) {
                        break;
                    }
                }
            }
        }
        if next == n && st.taken.load(SeqCst) == before {
            st.check_deadline();
            std::thread::yield_now();
        }
    }
    let steals: u64 = thieves.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(st.put_done.load(SeqCst));
    for (id, s) in st.seen.iter().enumerate() {
        assert_eq!(s.load(SeqCst), 1, "item {id} (seed {seed})");
    }
    assert!(st.rings.iter().all(RunQueue::is_empty));
    assert!(st.global.lock().unwrap().is_empty());
    println!(
        "stress: {n} items, {steals} steals took about {}, about {} from the global queue, {:?} (seed {seed})",
        st.stolen.load(SeqCst),
        st.from_global.load(SeqCst),
        t0.elapsed()
    );
}

/// procresize's pop from the tail under a stopped world, for every length up to a full ring
/// and across the counters' wrap: the ring's G's come back newest first, and pushing them onto
/// the head of the global queue leaves them there in the ring's FIFO order.
#[test]
fn procresize_pops_from_tail() {
    let items = Items::new(RUNQ_SIZE);
    for start in [0u32, u32::MAX - 7] {
        for n in 0..=RUNQ_SIZE {
            let p = RunQueue::new();
            p.head.store(start, SeqCst);
            p.tail.store(start, SeqCst);
            for j in 0..n {
                p.runqput(items.ptr(j), &MustNotOverflow);
            }
            let global = GlobRunq::new();
            while let Some(gp) = p.runqpoptail_stw() {
                global.globrunqputhead(gp);
            }
            assert!(
                p.is_empty(),
                "ring not empty after popping {n} (start {start})"
            );
            assert_eq!(global.len(), n);
            for j in 0..n {
                assert_eq!(global.globrunqpop(), Some(items.ptr(j)), "n {n}, slot {j}");
            }
            assert_eq!(global.globrunqpop(), None);
            // The ring still works from where the pops left it.
            p.runqput(items.ptr(0), &MustNotOverflow);
            assert_eq!(p.runqget(), Some(items.ptr(0)));
        }
    }
}

/// After a pop from the tail a thief still sees a consistent ring.
#[test]
fn pop_tail_then_steal() {
    let items = Items::new(10);
    let p = RunQueue::new();
    for j in 0..10 {
        p.runqput(items.ptr(j), &MustNotOverflow);
    }
    assert_eq!(p.runqpoptail_stw(), Some(items.ptr(9)));
    assert_eq!(p.runqpoptail_stw(), Some(items.ptr(8)));
    let thief = RunQueue::new();
    // 8 left: a steal takes the older 4, returning the newest of them.
    assert_eq!(thief.runqsteal(&p), Some(items.ptr(3)));
    assert_eq!(thief.len(), 3);
    assert_eq!(p.len(), 4);
    for j in 4..8 {
        assert_eq!(p.runqget(), Some(items.ptr(j)));
    }
}
