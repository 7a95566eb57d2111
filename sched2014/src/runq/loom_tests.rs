//! loom models of the ring (shrunk to 4 slots): an owner putting past a full ring (runqput,
//! runqputslow into the global queue) and getting, against two thieves stealing and grabbing.
//! In every interleaving each G must come out exactly once. Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p sched2014 --release --lib loom`.

use std::ptr;

use loom::sync::{Arc, Mutex};
use loom::thread;

use super::*;
use crate::globrunq::GlobRunq;
use crate::testutil::{Items, Node};

/// The owner P, its global queue and the stand-in G's of one model run.
struct World {
    items: Items,
    owner: RunQueue<Node>,
    global: Mutex<GlobRunq<Node>>,
}

impl World {
    fn new(n: usize) -> Arc<World> {
        Arc::new(World {
            items: Items::new(n),
            owner: RunQueue::new(),
            global: Mutex::new(GlobRunq::new()),
        })
    }

    /// runqsteal from `victim` into `mine`, then drain `mine`: what a thief P would run.
    fn steal_and_drain(&self, mine: &RunQueue<Node>, victim: &RunQueue<Node>) -> Vec<usize> {
        let mut got = Vec::new();
        if let Some(g) = mine.runqsteal(victim) {
            got.push(self.items.id(g));
        }
        while let Some(g) = mine.runqget() {
            got.push(self.items.id(g));
        }
        got
    }

    /// runqgrab from the owner, the batch as ids.
    fn grab(&self) -> Vec<usize> {
        let mut batch: GrabBatch<Node> = [ptr::null_mut(); RUNQ_HALF];
        let n = self.owner.runqgrab(&mut batch);
        batch[..n]
            .iter()
            .map(|&g| self.items.id(NonNull::new(g).expect("grabbed a null slot")))
            .collect()
    }

    /// After all threads joined: drain the owner's ring and the global queue.
    fn drain_rest(&self, got: &mut Vec<usize>) {
        while let Some(g) = self.owner.runqget() {
            got.push(self.items.id(g));
        }
        let q = self.global.lock().unwrap();
        while let Some(g) = q.globrunqget(&self.owner, 1, 0) {
            got.push(self.items.id(g));
            while let Some(g) = self.owner.runqget() {
                got.push(self.items.id(g));
            }
        }
    }
}

/// Every one of `n` items exactly once.
fn check_once(n: usize, mut got: Vec<usize>) {
    got.sort_unstable();
    assert_eq!(got, (0..n).collect::<Vec<_>>(), "lost or doubled G's");
}

/// Runs `model` under loom with at most `bound` preemptions a run (LOOM_MAX_PREEMPTIONS
/// overrides it) and prints how many interleavings it explored.
fn check(name: &str, bound: usize, model: impl Fn() + Sync + Send + 'static) {
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    let runs = std::sync::Arc::new(AtomicUsize::new(0));
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(bound);
    }
    let bound = b.preemption_bound;
    let counter = std::sync::Arc::clone(&runs);
    let start = std::time::Instant::now();
    b.check(move || {
        counter.fetch_add(1, Relaxed);
        model();
    });
    println!(
        "{name}: {} interleavings, preemption bound {bound:?}, {:?}",
        runs.load(Relaxed),
        start.elapsed()
    );
}

/// The owner puts RUNQ_SIZE + 1 G's (overflowing into the global queue unless a thief got in
/// first) and gets one, while thief 1 steals (runqsteal into its own ring) and thief 2 grabs.
#[test]
fn loom_put_overflow_get_vs_steal_and_grab() {
    check("put_overflow_get_vs_steal_and_grab", 3, || {
        let n = RUNQ_SIZE + 1;
        let w = World::new(n);
        let t1 = {
            let w = Arc::clone(&w);
            thread::spawn(move || w.steal_and_drain(&RunQueue::new(), &w.owner))
        };
        let t2 = {
            let w = Arc::clone(&w);
            thread::spawn(move || w.grab())
        };
        let mut got = Vec::new();
        for i in 0..n {
            w.owner.runqput(w.items.ptr(i), &w.global);
        }
        if let Some(g) = w.owner.runqget() {
            got.push(w.items.id(g));
        }
        got.extend(t1.join().unwrap());
        got.extend(t2.join().unwrap());
        w.drain_rest(&mut got);
        check_once(n, got);
    });
}

/// The ring starts full, so the owner's next put goes straight to runqputslow, whose CAS on
/// head races both thieves' CAS; then it gets one.
#[test]
fn loom_putslow_races_thieves() {
    check("putslow_races_thieves", 5, || {
        let n = RUNQ_SIZE + 1;
        let w = World::new(n);
        for i in 0..RUNQ_SIZE {
            w.owner.runqput(w.items.ptr(i), &w.global);
        }
        let t1 = {
            let w = Arc::clone(&w);
            thread::spawn(move || w.steal_and_drain(&RunQueue::new(), &w.owner))
        };
        let t2 = {
            let w = Arc::clone(&w);
            thread::spawn(move || w.grab())
        };
        let mut got = Vec::new();
        w.owner.runqput(w.items.ptr(RUNQ_SIZE), &w.global);
        if let Some(g) = w.owner.runqget() {
            got.push(w.items.id(g));
        }
        got.extend(t1.join().unwrap());
        got.extend(t2.join().unwrap());
        w.drain_rest(&mut got);
        check_once(n, got);
    });
}

/// Chained steal: thief 1 steals from the full owner ring into its own ring (publishing with
/// a store-release of its tail) while thief 2 steals from thief 1's ring and the owner gets.
#[test]
fn loom_chained_steal_vs_get() {
    check("chained_steal_vs_get", 5, || {
        let n = RUNQ_SIZE;
        let w = World::new(n);
        for i in 0..n {
            w.owner.runqput(w.items.ptr(i), &w.global);
        }
        let ring1 = Arc::new(RunQueue::new());
        let t1 = {
            let (w, ring1) = (Arc::clone(&w), Arc::clone(&ring1));
            thread::spawn(move || w.steal_and_drain(&ring1, &w.owner))
        };
        let t2 = {
            let (w, ring1) = (Arc::clone(&w), Arc::clone(&ring1));
            thread::spawn(move || w.steal_and_drain(&RunQueue::new(), &ring1))
        };
        let mut got = Vec::new();
        while let Some(g) = w.owner.runqget() {
            got.push(w.items.id(g));
        }
        got.extend(t1.join().unwrap());
        got.extend(t2.join().unwrap());
        while let Some(g) = ring1.runqget() {
            got.push(w.items.id(g));
        }
        w.drain_rest(&mut got);
        check_once(n, got);
    });
}
