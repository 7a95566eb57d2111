//! Unit tests that reach inside a running runtime: a broken invariant on an M, and a
//! collection caught by the end of the run.

use crate::m::getm;
use crate::{Sched2011, Sched2011Lock};
use schedcore::bounded::with_timeout;
use schedcore::{Config, Counter, RunError, Scheduler};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// Breaks mcpu from inside main, so that schedule's check fails on the M's own stack (g0),
/// outside any goroutine: the run must end with that panic, not wait for the dead M.
fn m_panic_ends_the_run<S: Scheduler>() {
    let r = with_timeout(30, || {
        S::run(&Config::new(2), || {
            let rt = getm().rt();
            if rt.before {
                rt.schedlock().mcpu -= 1;
            } else {
                rt.word.add_mcpu(-1);
            }
            // schedule's mcpu-- now goes below zero.
            S::gosched();
        })
    });
    match r {
        Err(RunError::Panic(msg)) => {
            assert!(msg.starts_with("fatal error: M0 died:"), "{msg}");
            assert!(msg.contains("mcpu"), "{msg}");
        }
        other => panic!("{}: expected a panic error, got {other:?}", S::NAME),
    }
}

#[test]
fn a_panic_on_an_m_ends_the_run() {
    m_panic_ends_the_run::<Sched2011>();
    m_panic_ends_the_run::<Sched2011Lock>();
}

/// A collection waits in stoptheworld for a goroutine that never yields; that goroutine's
/// panic ends the run, which wakes the stopper. The world never stopped, so gc must return
/// without scanning a single stack.
fn gc_does_nothing_when_the_run_ends<S: Scheduler>() {
    let panic_now = Arc::new(AtomicBool::new(false));
    let scanned = Arc::new(AtomicU64::new(u64::MAX));
    let (p, sc) = (panic_now.clone(), scanned.clone());
    let r = with_timeout(30, move || {
        S::run(&Config::new(2), move || {
            S::go(move || {
                while !p.load(SeqCst) {
                    std::hint::spin_loop();
                }
                panic!("spinner");
            });
            S::go(move || {
                S::gc();
                sc.store(getm().counters.get(Counter::StackWordsScanned), SeqCst);
            });
            // Give the collector our CPU and let it wait for the spinner.
            S::entersyscall();
            std::thread::sleep(Duration::from_millis(100));
            panic_now.store(true, SeqCst);
            std::thread::sleep(Duration::from_millis(200));
            S::exitsyscall();
        })
    });
    assert_eq!(r.unwrap_err(), RunError::Panic("spinner".into()));
    assert_eq!(
        scanned.load(SeqCst),
        0,
        "{}: gc scanned stacks (or never returned) after the run ended",
        S::NAME
    );
}

#[test]
fn gc_after_the_run_ended_does_not_scan() {
    gc_does_nothing_when_the_run_ends::<Sched2011>();
    gc_does_nothing_when_the_run_ends::<Sched2011Lock>();
}

thread_local! {
    /// While set, newosproc refuses to start a thread for an M made on this thread (the boot
    /// makes M0 on the thread that called `run`).
    static NEWOSPROC_REFUSES: Cell<bool> = const { Cell::new(false) };
}

/// This thread's NEWOSPROC_REFUSES, read afresh on every call (matchmg may run on a goroutine
/// that migrated; see schedcore/tests/thread_locals.rs).
#[inline(never)]
pub(crate) fn newosproc_refuses() -> bool {
    NEWOSPROC_REFUSES.get()
}

/// The boot's matchmg cannot start M0's thread: Go throws in newosproc. The run must end with
/// that panic instead of sleeping forever on a main goroutine that no M will run.
fn m0_thread_refused_ends_the_run<S: Scheduler>() {
    let r = with_timeout(30, || {
        NEWOSPROC_REFUSES.set(true);
        S::run(&Config::new(2), || ())
    });
    match r {
        Err(RunError::Panic(msg)) => {
            assert!(
                msg.starts_with("fatal error: booting the main goroutine: runtime: failed to create new OS thread (have 0 already)"),
                "{msg}"
            );
        }
        other => panic!("{}: expected a panic error, got {other:?}", S::NAME),
    }
}

#[test]
fn m0_thread_refused_is_a_run_error() {
    m0_thread_refused_ends_the_run::<Sched2011>();
    m0_thread_refused_ends_the_run::<Sched2011Lock>();
}
