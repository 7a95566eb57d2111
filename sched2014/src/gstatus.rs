//! The atomic status word of a G with its Gscan bit (seed 001 readgstatus, casgstatus,
//! castogscanstatus, casfromgscanstatus; seed 004 for casgstatus's Gwaiting check).
//!
//! # The Gscan bit as a lock
//!
//! A G's status says who may touch it: the M running it (Grunning), a run queue (Grunnable),
//! a wait queue (Gwaiting), a syscall (Gsyscall). The GC must read the stack of a G that is not
//! running, and the G must not start running while it does. Setting the Gscan bit on top of the
//! current status is how the GC claims a G: [`GStatus::castogscanstatus`] is the lock acquire
//! and [`GStatus::casfromgscanstatus`] the release, which restores the status underneath. Every
//! ordinary transition goes through [`GStatus::casgstatus`], which only succeeds from the exact
//! status it names and so cannot succeed while the bit is set: it spins until the scan is over.
//! The scan therefore never overlaps a change of the G's state.
//!
//! Orderings are SeqCst, as Go's atomics are: a transition publishes what the G's owner wrote
//! before it (its saved stack pointer, its wait reason) to whoever claims it next. On x86 a
//! SeqCst CAS or load costs the same as a weaker one.

#![allow(non_upper_case_globals)] // the seed's status names, so that grep finds both

use schedcore::sync::{spin_loop, yield_now, AtomicU32, Ordering::SeqCst};

/// Just allocated, not yet initialised.
pub const Gidle: u32 = 0;
/// On a run queue, not running.
pub const Grunnable: u32 = 1;
/// Running on an M, which owns its stack.
pub const Grunning: u32 = 2;
/// In a system call, off the run queues, on its M.
pub const Gsyscall: u32 = 3;
/// Blocked (channel, lock, park), on no run queue.
pub const Gwaiting: u32 = 4;
/// Unused since 2013; the number is kept because Go's debugger scripts know it.
pub const Gmoribund_unused: u32 = 5;
/// Finished or not yet started; on a free list or being set up.
pub const Gdead: u32 = 6;
/// Only meaningful with the scan bit ([`Gscanenqueue`]).
pub const Genqueue: u32 = 7;
/// Its stack is being moved (Go's copystack; this lab's stacks never move).
pub const Gcopystack: u32 = 8;
/// The scan bit: set on top of a status while the GC owns the G's stack.
pub const Gscan: u32 = 0x1000;
/// Being scanned; Grunnable again when the scan is done (it stays on its run queue).
pub const Gscanrunnable: u32 = Gscan | Grunnable;
/// Claimed while running, to mark it for a scan at its next preemption point.
pub const Gscanrunning: u32 = Gscan | Grunning;
/// Being scanned while in a syscall; Gsyscall again when done.
pub const Gscansyscall: u32 = Gscan | Gsyscall;
/// Being scanned while blocked; Gwaiting again when done.
pub const Gscanwaiting: u32 = Gscan | Gwaiting;
/// The G that started a collection, claimed while running so that its own M's g0 scans it;
/// made Gwaiting and readied when the scan is done.
pub const Gscanenqueue: u32 = Gscan | Genqueue;
// No Gscanidle, Gscanmoribund or Gscandead: those G's have no stack worth scanning, and the
// seed's castogscanstatus refuses them.

/// A status's name for messages ("Gscanwaiting", "Gdead", or the number if it has none).
pub fn gstatus_name(s: u32) -> String {
    let base = match s & !Gscan {
        Gidle => "idle",
        Grunnable => "runnable",
        Grunning => "running",
        Gsyscall => "syscall",
        Gwaiting => "waiting",
        Gmoribund_unused => "moribund_unused",
        Gdead => "dead",
        Genqueue => "enqueue",
        Gcopystack => "copystack",
        _ => return format!("{s:#x}"),
    };
    if s & Gscan != 0 {
        format!("Gscan{base}({s:#x})")
    } else {
        format!("G{base}({s})")
    }
}

/// Port of isscanstatus (seed 001): whether `status` has the scan bit. The bare bit (Gscan on
/// Gidle) is never a real status.
pub fn isscanstatus(status: u32) -> bool {
    if status == Gscan {
        panic!("isscanstatus: bad status Gscan");
    }
    status & Gscan == Gscan
}

/// A G's status word (`atomicstatus` in the seed); the G embeds one. All reads and writes go
/// through these methods.
#[derive(Debug)]
pub struct GStatus(AtomicU32);

impl Default for GStatus {
    /// A fresh G is Gidle, as Go's zeroed allocation is.
    fn default() -> Self {
        GStatus::new(Gidle)
    }
}

impl GStatus {
    /// A status word holding `s`.
    pub fn new(s: u32) -> GStatus {
        GStatus(AtomicU32::new(s))
    }

    /// Port of readgstatus (seed 001).
    #[inline]
    pub fn readgstatus(&self) -> u32 {
        self.0.load(SeqCst)
    }

    /// Port of casgstatus (seed 001), with no scan to help (see
    /// [`casgstatus_help`](Self::casgstatus_help)).
    #[inline]
    pub fn casgstatus(&self, oldval: u32, newval: u32) {
        self.casgstatus_help(oldval, newval, || {});
    }

    /// Port of casgstatus (seed 001; the Gwaiting check from seed 004).
    ///
    /// Moves the G from `oldval` to `newval`, neither of them a scan status and not equal
    /// (else a panic: the scan bit is only set and cleared by the two functions below). While
    /// the status is not `oldval`, normally because the GC holds the G with the scan bit, it
    /// spins until the scan is over.
    ///
    /// `help` is the seed's "help the GC" step: after each failed attempt, when `oldval` is
    /// Grunning or Gsyscall (the G is the caller's own, so it can scan its own stack), it is
    /// called; the scheduler's closure checks the G's `preemptscan && !gcworkdone`, clears
    /// `preemptscan` and does the scan work (gcphasework), so a G that the GC marked for a scan
    /// does it rather than wait for it.
    #[inline]
    pub fn casgstatus_help(&self, oldval: u32, newval: u32, mut help: impl FnMut()) {
        if oldval & Gscan != 0 || newval & Gscan != 0 || oldval == newval {
            badcasgstatus(oldval, newval);
        }
        let mut spins = 0u32;
        while self
            .0
            .compare_exchange(oldval, newval, SeqCst, SeqCst)
            .is_err()
        {
            // A waiting G that became runnable behind the caller's back is a double wakeup;
            // it would otherwise spin here for ever.
            if oldval == Gwaiting && self.0.load(SeqCst) == Grunnable {
                panic!("casgstatus: waiting for Gwaiting but is Grunnable");
            }
            if oldval == Grunning || oldval == Gsyscall {
                help();
            }
            // The seed spins bare; a pause, and past a few dozen tries a yield, keep a
            // descheduled scanner from being starved on an oversubscribed machine.
            spins += 1;
            if spins < 64 {
                spin_loop();
            } else {
                yield_now();
            }
        }
    }

    /// Port of castogscanstatus (seed 001).
    ///
    /// Claims the G for a scan: sets the scan bit if the status is still `oldval` and returns
    /// whether it did. The only claims the seed allows are Grunnable, Gwaiting and Gsyscall to
    /// the same plus Gscan, and Grunning to Gscanrunning or Gscanenqueue; any other pair
    /// panics.
    pub fn castogscanstatus(&self, oldval: u32, newval: u32) -> bool {
        let allowed = match oldval {
            Grunnable | Gwaiting | Gsyscall => newval == oldval | Gscan,
            Grunning => newval == Gscanrunning || newval == Gscanenqueue,
            _ => false,
        };
        if !allowed {
            badgscan("castogscanstatus: bad transition", oldval, newval, None);
        }
        self.0
            .compare_exchange(oldval, newval, SeqCst, SeqCst)
            .is_ok()
    }

    /// Port of casfromgscanstatus (seed 001).
    ///
    /// Releases a claim: from a scan status to the status under it (Gscanenqueue to Gwaiting).
    /// Panics on any other pair, and when the status is not `oldval` (the caller does not
    /// hold the claim it is releasing).
    pub fn casfromgscanstatus(&self, oldval: u32, newval: u32) {
        let allowed = match oldval {
            Gscanrunnable | Gscanwaiting | Gscanrunning | Gscansyscall => newval == oldval & !Gscan,
            Gscanenqueue => newval == Gwaiting,
            _ => false,
        };
        if !allowed {
            badgscan("casfromgscanstatus: bad transition", oldval, newval, None);
        }
        if let Err(now) = self.0.compare_exchange(oldval, newval, SeqCst, SeqCst) {
            badgscan(
                "casfromgscanstatus: gp->status is not in scan state",
                oldval,
                newval,
                Some(now),
            );
        }
    }
}

#[cold]
#[inline(never)]
fn badcasgstatus(oldval: u32, newval: u32) -> ! {
    panic!(
        "casgstatus: bad incoming values: oldval={} newval={} (scan statuses go through \
         castogscanstatus/casfromgscanstatus, and old must differ from new)",
        gstatus_name(oldval),
        gstatus_name(newval)
    );
}

#[cold]
#[inline(never)]
fn badgscan(what: &str, oldval: u32, newval: u32, now: Option<u32>) -> ! {
    match now {
        Some(now) => panic!(
            "{what}: oldval={} newval={} but status is {}",
            gstatus_name(oldval),
            gstatus_name(newval),
            gstatus_name(now)
        ),
        None => panic!(
            "{what}: oldval={} newval={}",
            gstatus_name(oldval),
            gstatus_name(newval)
        ),
    }
}

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;
