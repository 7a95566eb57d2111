//! Tests of the Sched's footing: its layout (the seed's plain struct) and the store-load pair
//! between newproc/ready and findrunnable's last look.

use super::Sched;
use crate::g::{GRef, G};
use crate::m::M;
use crate::p::P;
use crate::proc::{runqs_nonempty, wakep_needed};
use schedcore::ptr::Ptr;
use schedcore::LockKind;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// One footing for 2013 and 2014 (tracker issue 9): Sched is a plain struct as in the seed,
/// with no cache-line padding between its words, and G, M and P are aligned alike in both
/// crates (sched2013's test says the same).
#[test]
fn sched_is_a_plain_struct() {
    assert!(
        std::mem::align_of::<Sched>() <= 8,
        "Sched is aligned to {} bytes: a padded word",
        std::mem::align_of::<Sched>()
    );
    assert_eq!(std::mem::align_of::<G>(), 128);
    assert_eq!(std::mem::align_of::<M>(), 128);
    assert_eq!(std::mem::align_of::<P>(), 128);
}

/// The store-load pair between newproc/ready and findrunnable's last look (tracker issue 9).
/// A producer puts a G on its P's queue, then asks whether an M must be woken for it
/// (`wakep_needed`); a consumer puts its P on the idle list, then looks at every queue once
/// more (`runqs_nonempty`). At least one side must see the other, or the G waits on a busy P
/// while another P idles. Run as a store-buffering litmus test: on x86, a side without a full
/// barrier between its store and its loads lets both miss within a few thousand rounds.
#[test]
fn wakeup_store_load_pair() {
    const ROUNDS: u32 = 500_000;
    let deadline = Instant::now() + Duration::from_secs(3);
    let sched = Sched::new(
        schedcore::StackArena::new(&schedcore::Config::default()).unwrap(),
        true,
        None,
        LockKind::Spin,
    );
    let (p0, p1) = (P::new(0), P::new(1));
    sched.allp[0].set(Some(Ptr::from_ref(&p0)));
    let g = G::new();
    let gp = GRef(Ptr::from_ref(&g));
    // The round the producer may run, the last round it finished, what it saw.
    let (start, done, woke) = (AtomicU32::new(0), AtomicU32::new(0), AtomicBool::new(false));
    let (mut rounds, mut missed) = (0u32, 0u32);
    std::thread::scope(|sc| {
        sc.spawn(|| {
            for r in 1..=ROUNDS {
                spin_until(|| start.load(Ordering::Acquire) >= r);
                if start.load(Ordering::Acquire) > ROUNDS {
                    return;
                }
                p0.runqput(&sched, gp, &schedcore::trace::TraceBuf::off());
                woke.store(wakep_needed(&sched), Ordering::Relaxed);
                done.store(r, Ordering::Release);
            }
        });
        for r in 1..=ROUNDS {
            // Reset while the producer waits: an empty queue, no idle P.
            while p0.runqget().is_some() {}
            let _ = sched.pidleget(&mut sched.lock.lock());
            start.store(r, Ordering::Release);
            sched.pidleput(&mut sched.lock.lock(), Ptr::from_ref(&p1));
            let found = runqs_nonempty(&sched, 1);
            spin_until(|| done.load(Ordering::Acquire) == r);
            rounds = r;
            if !found && !woke.load(Ordering::Relaxed) {
                missed += 1;
            }
            if Instant::now() > deadline {
                break;
            }
        }
        // Let the producer go if the deadline cut the rounds short.
        start.store(ROUNDS + 1, Ordering::Release);
    });
    assert_eq!(
        missed, 0,
        "in {missed} of {rounds} rounds neither side saw the other (a lost wake-up)"
    );
}

/// Spins until `f` holds, yielding now and then (the test's two threads may share a core).
fn spin_until(f: impl Fn() -> bool) {
    let mut n = 0u32;
    while !f() {
        n += 1;
        if n % 1024 == 0 {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}
