//! Every (from, to) pair through each transition function, checked against the seed's rules
//! written out here independently; and a threaded check that casgstatus never overlaps a scan.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst as Sc};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;

/// Every defined status, each with the scan bit, and one undefined number each way.
fn all_statuses() -> Vec<u32> {
    let base: Vec<u32> = (Gidle..=Gcopystack).chain([9]).collect();
    base.iter()
        .copied()
        .chain(base.iter().map(|s| s | Gscan))
        .collect()
}

/// The claims castogscanstatus allows (seed 001), listed by hand.
const TO_SCAN: [(u32, u32); 5] = [
    (Grunnable, Gscanrunnable),
    (Gwaiting, Gscanwaiting),
    (Gsyscall, Gscansyscall),
    (Grunning, Gscanrunning),
    (Grunning, Gscanenqueue),
];

/// The releases casfromgscanstatus allows (seed 001), listed by hand.
const FROM_SCAN: [(u32, u32); 5] = [
    (Gscanrunnable, Grunnable),
    (Gscanwaiting, Gwaiting),
    (Gscanrunning, Grunning),
    (Gscansyscall, Gsyscall),
    (Gscanenqueue, Gwaiting),
];

/// Runs `f`, returning its panic message if it panicked.
fn panics<R>(f: impl FnOnce() -> R) -> Option<String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => None,
        Err(e) => Some(
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default(),
        ),
    }
}

/// A status other than `s` that is not a scan of it either, to make a CAS fail.
fn other_than(s: u32) -> u32 {
    if s & !Gscan == Gdead {
        Grunnable
    } else {
        Gdead
    }
}

#[test]
fn casgstatus_every_pair() {
    let mut ok = 0;
    for &from in &all_statuses() {
        for &to in &all_statuses() {
            let allowed = from & Gscan == 0 && to & Gscan == 0 && from != to;
            let st = GStatus::new(from);
            let r = panics(|| st.casgstatus(from, to));
            if allowed {
                assert_eq!(r, None, "{from:#x} -> {to:#x}");
                assert_eq!(st.readgstatus(), to);
                ok += 1;
            } else {
                let msg = r.unwrap_or_else(|| panic!("{from:#x} -> {to:#x} did not panic"));
                assert!(msg.contains("casgstatus: bad incoming values"), "{msg}");
                assert_eq!(st.readgstatus(), from, "status changed by a refused call");
            }
        }
    }
    assert_eq!(ok, 10 * 9);
}

#[test]
fn castogscanstatus_every_pair() {
    for &from in &all_statuses() {
        for &to in &all_statuses() {
            let allowed = TO_SCAN.contains(&(from, to));
            let st = GStatus::new(from);
            let r = panics(|| st.castogscanstatus(from, to));
            if allowed {
                assert_eq!(r, None, "{from:#x} -> {to:#x}");
                assert_eq!(st.readgstatus(), to);
                // Someone else moved the G first: the claim fails quietly.
                let other = GStatus::new(other_than(from));
                assert!(!other.castogscanstatus(from, to));
                assert_eq!(other.readgstatus(), other_than(from));
                // Already claimed by another scanner: fails too.
                let claimed = GStatus::new(to);
                assert!(!claimed.castogscanstatus(from, to));
                assert_eq!(claimed.readgstatus(), to);
            } else {
                let msg = r.unwrap_or_else(|| panic!("{from:#x} -> {to:#x} did not panic"));
                assert!(msg.contains("castogscanstatus: bad transition"), "{msg}");
                assert_eq!(st.readgstatus(), from);
            }
        }
    }
}

#[test]
fn casfromgscanstatus_every_pair() {
    for &from in &all_statuses() {
        for &to in &all_statuses() {
            let allowed = FROM_SCAN.contains(&(from, to));
            let st = GStatus::new(from);
            let r = panics(|| st.casfromgscanstatus(from, to));
            if allowed {
                assert_eq!(r, None, "{from:#x} -> {to:#x}");
                assert_eq!(st.readgstatus(), to);
                // Releasing a claim one does not hold is a bug, loudly.
                let unclaimed = GStatus::new(from & !Gscan);
                let msg = panics(|| unclaimed.casfromgscanstatus(from, to))
                    .expect("release of an unclaimed G did not panic");
                assert!(msg.contains("not in scan state"), "{msg}");
            } else {
                let msg = r.unwrap_or_else(|| panic!("{from:#x} -> {to:#x} did not panic"));
                assert!(msg.contains("casfromgscanstatus: bad transition"), "{msg}");
                assert_eq!(st.readgstatus(), from);
            }
        }
    }
}

#[test]
fn isscanstatus_and_names() {
    assert!(isscanstatus(Gscanwaiting));
    assert!(!isscanstatus(Gwaiting));
    assert!(panics(|| isscanstatus(Gscan)).is_some());
    assert_eq!(gstatus_name(Gscanrunning), "Gscanrunning(0x1002)");
    assert_eq!(gstatus_name(Gdead), "Gdead(6)");
    assert_eq!(GStatus::default().readgstatus(), Gidle);
}

#[test]
fn casgstatus_double_wakeup_panics() {
    let st = GStatus::new(Grunnable);
    let msg = panics(|| st.casgstatus(Gwaiting, Grunnable)).expect("no panic");
    assert!(
        msg.contains("waiting for Gwaiting but is Grunnable"),
        "{msg}"
    );
}

/// The help hook runs while a scan holds a running G, and only for Grunning/Gsyscall.
#[test]
fn casgstatus_helps_pending_scan() {
    let st = Arc::new(GStatus::new(Grunning));
    assert!(st.castogscanstatus(Grunning, Gscanrunning));
    let helped = Arc::new(AtomicU64::new(0));
    let t = {
        let (st, helped) = (Arc::clone(&st), Arc::clone(&helped));
        std::thread::spawn(move || {
            st.casgstatus_help(Grunning, Gwaiting, || {
                helped.fetch_add(1, Sc);
            })
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while helped.load(Sc) == 0 {
        assert!(Instant::now() < deadline, "help hook never ran");
        std::thread::yield_now();
    }
    assert_eq!(
        st.readgstatus(),
        Gscanrunning,
        "casgstatus ran through a scan"
    );
    st.casfromgscanstatus(Gscanrunning, Grunning);
    t.join().unwrap();
    assert_eq!(st.readgstatus(), Gwaiting);
}

/// A scanner claims and releases the G (Grunnable and Grunning claims) while the G's owner
/// moves it Grunnable -> Grunning -> Grunnable with casgstatus and, while running, writes its
/// "stack" (a word the scanner reads). A claim must freeze both: the status does not move and a
/// runnable G's stack word does not change until the claim is released, so casgstatus never ran
/// inside a scan.
#[test]
fn casgstatus_never_overlaps_scan() {
    const CLAIMS: u64 = 2000;
    let st = Arc::new(GStatus::new(Grunnable));
    let stack = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let claims = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let scanner = {
        let (st, stack, stop, claims) = (
            Arc::clone(&st),
            Arc::clone(&stack),
            Arc::clone(&stop),
            Arc::clone(&claims),
        );
        std::thread::spawn(move || {
            while !stop.load(Sc) {
                let (old, claimed, kind) = match st.readgstatus() {
                    Grunnable => (Grunnable, Gscanrunnable, 0),
                    Grunning => (Grunning, Gscanrunning, 1),
                    _ => continue,
                };
                if !st.castogscanstatus(old, claimed) {
                    continue;
                }
                let word = stack.load(Sc);
                for _ in 0..50 {
                    assert_eq!(st.readgstatus(), claimed, "status moved under a scan");
                    if old == Grunnable {
                        assert_eq!(stack.load(Sc), word, "the G ran during a scan");
                    }
                    std::hint::spin_loop();
                }
                st.casfromgscanstatus(claimed, old);
                claims[kind].fetch_add(1, Sc);
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut rounds = 0u64;
    while claims.iter().any(|c| c.load(Sc) < CLAIMS) {
        assert!(Instant::now() < deadline, "too few claims in 30 s");
        rounds += 1;
        st.casgstatus(Grunnable, Grunning);
        stack.store(rounds, Sc);
        st.casgstatus_help(Grunning, Grunnable, || {});
    }
    stop.store(true, Sc);
    scanner.join().unwrap();
    assert_eq!(st.readgstatus(), Grunnable);
    println!(
        "{rounds} rounds, {} + {} claims",
        claims[0].load(Sc),
        claims[1].load(Sc)
    );
}
