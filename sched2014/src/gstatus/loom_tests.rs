//! loom models of the Gscan claim against casgstatus: a transition never lands inside a scan,
//! and a G whose status a scan holds helps with the pending scan instead of only waiting.

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst as Sc};
use loom::sync::Arc;
use loom::thread;

use super::*;

/// A scanner claims a runnable G (Grunnable -> Gscanrunnable), "scans" it, and releases it,
/// while the G's M takes it off a run queue and runs it (Grunnable -> Grunning) and then
/// parks it (Grunning -> Gwaiting). The M's transition must fall wholly before the claim (then
/// the claim fails) or after the release.
#[test]
fn loom_scan_vs_casgstatus() {
    loom::model(|| {
        let st = Arc::new(GStatus::new(Grunnable));
        let scanning = Arc::new(AtomicBool::new(false));
        let scanner = {
            let (st, scanning) = (Arc::clone(&st), Arc::clone(&scanning));
            thread::spawn(move || {
                if st.castogscanstatus(Grunnable, Gscanrunnable) {
                    scanning.store(true, Sc);
                    assert_eq!(st.readgstatus(), Gscanrunnable);
                    scanning.store(false, Sc);
                    st.casfromgscanstatus(Gscanrunnable, Grunnable);
                    true
                } else {
                    false
                }
            })
        };
        st.casgstatus(Grunnable, Grunning);
        // The G is ours now: no scan of it as a runnable G can be in progress.
        assert!(!scanning.load(Sc), "casgstatus succeeded inside a scan");
        st.casgstatus(Grunning, Gwaiting);
        scanner.join().unwrap();
        assert_eq!(st.readgstatus(), Gwaiting);
    });
}

/// The GC claims a running G (Grunning -> Gscanrunning) to mark it for a self-scan
/// (preemptscan) and releases it; meanwhile the G enters a syscall (Grunning -> Gsyscall)
/// through casgstatus_help. If it ever had to wait for the claim, it found the mark and did the
/// scan itself; either way the scan is done exactly once (by the G) or never asked for.
#[test]
fn loom_running_claim_and_help() {
    loom::model(|| {
        let st = Arc::new(GStatus::new(Grunning));
        let preemptscan = Arc::new(AtomicBool::new(false));
        let scans = Arc::new(AtomicUsize::new(0));
        let gc = {
            let (st, preemptscan) = (Arc::clone(&st), Arc::clone(&preemptscan));
            thread::spawn(move || {
                let claimed = st.castogscanstatus(Grunning, Gscanrunning);
                if claimed {
                    // An RMW, not a store: loom can lose a plain store that races an RMW on
                    // the same atomic (tokio-rs/loom#254), which the G's swap below is.
                    preemptscan.swap(true, Sc);
                    st.casfromgscanstatus(Gscanrunning, Grunning);
                }
                claimed
            })
        };
        st.casgstatus_help(Grunning, Gsyscall, || {
            if preemptscan.swap(false, Sc) {
                scans.fetch_add(1, Sc);
            }
        });
        let claimed = gc.join().unwrap();
        assert_eq!(st.readgstatus(), Gsyscall);
        // Whatever the interleaving, at most one scan ran, and none without a claim.
        let done = scans.load(Sc) + usize::from(preemptscan.load(Sc));
        assert_eq!(
            done,
            usize::from(claimed),
            "scan lost or doubled: scans {} pending {} claimed {claimed}",
            scans.load(Sc),
            preemptscan.load(Sc)
        );
    });
}
